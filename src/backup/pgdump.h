/*
 * pgdump — pg_dump in a snapshot shared with the manifest's row counts
 * (pgdump.c).
 */
#ifndef CITAPLANNER_BACKUP_PGDUMP_H
#define CITAPLANNER_BACKUP_PGDUMP_H

#include <stdint.h>

#include "backup/stream.h"
#include "common/err.h"
#include "common/url.h"
#include "db/db_backup.h"

/*
 * Dump the database of u into s: a snapshot session (REPEATABLE READ,
 * pg_export_snapshot()) reads st's row counts and schema version, and
 * `pg_dump --format=plain --no-owner --no-acl --snapshot=…` streams from that
 * same snapshot, connected through environment variables and a private
 * passfile under priv_dir (never argv).  pg_dump's exit status, stderr and
 * closing line are checked.  *pg_dump_version (caller frees) gets its
 * --version text.  Errors: -ERR_BACKUP with pg_dump's first stderr lines,
 * -ERR_NO_SPACE from the stream, the db's errors when the database is
 * unreachable.
 */
struct backup_pg_run {
    const struct url *url;
    const char *priv_dir; /* where the private passfile directory goes (BACKUP_DIR) */
    struct backup_stream *stream;
    volatile int *cancel;
    void (*tick)(void *arg); /* called between reads (progress); may be NULL */
    void *tick_arg;
};
int backup_pg_dump(const struct backup_pg_run *run, struct db_snapshot_stats *st,
                   char **pg_dump_version, struct err *e);

#endif
