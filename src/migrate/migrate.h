/*
 * migrate — the schema migrations, embedded in the binary at build time, and
 * the `_migrations` ledger (Prisma Migrate's model).
 *
 * Migration files live in src/migrate/migrations/{pg,sqlite}/NNNN_name.sql,
 * the same names in both dialects, applied in name order, each in one
 * transaction, under the named lock "migrate".  A failed migration is
 * recorded and blocks later deploys until resolved.
 */
#ifndef CITAPLANNER_MIGRATE_H
#define CITAPLANNER_MIGRATE_H

#include <stdbool.h>

#include "common/err.h"
#include "db/db.h"

enum migration_state {
    MIGRATION_APPLIED,
    MIGRATION_PENDING,
    MIGRATION_FAILED,      /* started, not finished, not rolled back */
    MIGRATION_MODIFIED,    /* applied, but the file's checksum differs */
    MIGRATION_ROLLED_BACK, /* resolved --rolled-back: will be applied again */
    MIGRATION_UNKNOWN,     /* in the ledger, not in this program (a newer program applied it) */
};

struct migration_info {
    char *name;
    enum migration_state state;
    char *finished_at; /* NULL unless applied */
};

struct migrate_report {
    struct migration_info *items;
    int count;
    int applied, pending, failed, modified, unknown;
};

/* Apply pending migrations (takes and releases the "migrate" lock itself).
 * *applied (may be NULL) gets how many were applied.  -ERR_MIGRATE naming the
 * migration and the statement's error on failure. */
int migrate_deploy(struct db *db, int *applied, struct err *e);

/* Fill r (caller releases with migrate_report_release). */
int migrate_status(struct db *db, struct migrate_report *r, struct err *e);
void migrate_report_release(struct migrate_report *r);

/* 1 when every migration is applied and none failed or modified, 0 when not, <0 on error. */
int migrate_is_current(struct db *db, struct err *e);

/* Number of pending migrations (0 on an up-to-date database), <0 on error. */
int migrate_pending_count(struct db *db, struct err *e);

/* Name of the newest migration this program knows for that dialect (the schema version). */
const char *migrate_latest_name(enum db_kind kind);

#endif
