/*
 * migrate — the schema migrations, embedded in the binary at build time, and
 * the `_migrations` ledger (Prisma Migrate's model).
 *
 * Migration files live in src/migrate/migrations/{pg,sqlite}/NNNN_name.sql,
 * the same names in both dialects, applied in name order, each in one
 * transaction, under the named lock "migrate".  A failed migration is
 * recorded and blocks later deploys until resolved.
 *
 * Adding a migration: write it in both dialects with the same name and the
 * next number, list both files in src/migrate/meson.build (the recipe is at
 * its top).  Never edit one that has shipped: it would be reported modified.
 *
 * The ledger `_migrations` (id, name, checksum = SHA-256 hex of the file,
 * started_at, finished_at, rolled_back_at, logs) is created by deploy when
 * missing; status never writes.  A name may have several rows (a failed
 * attempt marked rolled back, then the successful one).
 *
 * Development and tests: when CITAPLANNER_MIGRATIONS_DIR is set (and not
 * empty; config's migrations_dir, handed over by migrate_set_dir), the
 * migrations are read from DIR/pg/ or DIR/sqlite/ instead of the embedded
 * ones: only files named NNNN_name.sql, sorted by name.
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

/*
 * Read the migrations from dir (CITAPLANNER_MIGRATIONS_DIR, a testing aid;
 * NULL or "": the embedded ones).  Called at start (cmd.c) and by tests,
 * never while a migration runs; dir is borrowed.
 */
void migrate_set_dir(const char *dir);

/* Apply pending migrations (takes and releases the "migrate" lock itself).
 * *applied (may be NULL) gets how many were applied.  -ERR_MIGRATE naming the
 * migration and the statement's error on failure; also -ERR_MIGRATE, without
 * running anything, when a migration is failed, modified, or unknown to this
 * program (the database is newer). */
int migrate_deploy(struct db *db, int *applied, struct err *e);

/* Called once per migration that deploy or reset applied, in order; name is
 * borrowed for the call. */
typedef void (*migrate_applied_fn)(const char *name, double seconds, void *arg);

/* migrate_deploy, calling fn (may be NULL) after each applied migration. */
int migrate_deploy_each(struct db *db, migrate_applied_fn fn, void *arg, int *applied,
                        struct err *e);

/*
 * `migrate resolve`, under the "migrate" lock.  to = MIGRATION_APPLIED marks a
 * pending, rolled-back or failed migration as applied without running it (a
 * baseline), or accepts the new checksum of a modified one (the old one is
 * kept in the row's logs).  to = MIGRATION_ROLLED_BACK marks a failed
 * migration rolled back, so that the next deploy runs it again.
 * Errors: -ERR_USAGE when this program has no migration of that name,
 * -ERR_MIGRATE when its state does not allow it (already applied, not failed).
 */
int migrate_resolve(struct db *db, const char *name, enum migration_state to, struct err *e);

/*
 * `migrate reset --force`: drop every object (db_drop_all) and deploy every
 * migration, under the "migrate" lock.  Deletes all data; the caller asks.
 * fn/arg/applied as for migrate_deploy_each.
 */
int migrate_reset(struct db *db, migrate_applied_fn fn, void *arg, int *applied, struct err *e);

/* "applied", "pending", "failed", "modified", "rolled_back", "unknown". */
const char *migrate_state_name(enum migration_state s);

/* Fill r (caller releases with migrate_report_release). */
int migrate_status(struct db *db, struct migrate_report *r, struct err *e);
void migrate_report_release(struct migrate_report *r);

/* 1 when every migration is applied and none failed or modified, 0 when not, <0 on error. */
int migrate_is_current(struct db *db, struct err *e);

/* Number of pending migrations (0 on an up-to-date database), <0 on error. */
int migrate_pending_count(struct db *db, struct err *e);

/* Name of the newest migration this program knows for that dialect (the
 * schema version); static storage.  NULL when there is none, or when
 * CITAPLANNER_MIGRATIONS_DIR is set and cannot be read. */
const char *migrate_latest_name(enum db_kind kind);

/* Is name one of this program's migrations for that dialect?  (A backup whose
 * schema version is not is from a newer program: restore refuses it.) */
bool migrate_knows(enum db_kind kind, const char *name);

/*
 * The schema version of db (schema.c): the newest applied migration in its
 * _migrations, which the caller knows exists.  *out: caller frees; NULL
 * when none is applied.
 */
int migrate_schema_version(struct db *db, char **out, struct err *e);

/*
 * The original CitaPlanner's database (original.c; issue 15): *out is true
 * when db holds Prisma's _prisma_migrations, or (PostgreSQL) camelCase
 * columns in tables that bear our names.  Reads only.
 */
int migrate_original_schema(struct db *db, bool *out, struct err *e);

/* What serve, migrate deploy and doctor say about such a database. */
extern const char *const migrate_original_message;

/* -ERR_MIGRATE with migrate_original_message when db is the original's; else 0. */
int migrate_refuse_original(struct db *db, struct err *e);

#endif
