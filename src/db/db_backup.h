/*
 * db_backup — the database side of a backup that needs a backend's own
 * library: SQLite's online backup API (sqlite_backup.c, which opens its own
 * sqlite3 connection from the path; only db files include sqlite3.h), and
 * the statistics a manifest records, read in the same snapshot as the copy.
 *
 * The PostgreSQL side needs nothing beyond db.h (pg_dump does the copy), so
 * src/backup fills the same struct db_snapshot_stats from a db connection.
 */
#ifndef CITAPLANNER_DB_BACKUP_H
#define CITAPLANNER_DB_BACKUP_H

#include <stdint.h>

#include "common/err.h"

/* What the manifest records about the data, from the snapshot of the copy. */
struct db_snapshot_stats {
    char **tables; /* user tables, sorted by name (as db_list_tables) */
    int64_t *rows; /* rows[i] of tables[i] */
    int ntables;
    char *schema_version; /* newest applied migration in _migrations; NULL when none */
    char **objects;       /* db_schema_objects (sorted); NULL when not read */
    int nobjects;
    char server_version[64]; /* "PostgreSQL 15.20" / "SQLite 3.40.1" */
};

/* Free what s owns and zero it; accepts a zeroed s. */
void db_snapshot_stats_release(struct db_snapshot_stats *s);

/*
 * Copy the live SQLite database at src_path into a new file dst_path (which
 * must not exist; created 0600) through the online backup API, in one step
 * inside one read transaction: writers in WAL mode are not blocked and the
 * copy is one consistent snapshot, the same one st's row counts and schema
 * version are read from.  The copy is left in rollback-journal mode, so that
 * it opens as a plain file.  Nothing is written to the source.
 *
 * cancel (may be NULL) is checked while waiting for a busy source.  Errors:
 * -ERR_NO_SPACE when the destination's disk is full, -ERR_BACKUP otherwise
 * (source missing or not a database, busy for too long, cancelled), naming
 * the file.  On failure dst_path is removed.  st is released by the caller
 * with db_snapshot_stats_release (also on failure).
 */
int db_sqlite_backup(const char *src_path, const char *dst_path, struct db_snapshot_stats *st,
                     volatile int *cancel, struct err *e);

/*
 * Check a SQLite database file that nothing else uses (a decompressed
 * backup): it must open as a database and PRAGMA integrity_check must say
 * "ok".  Returns 0, or -ERR_VERIFY with the first problem reported (the
 * caller names the file: it is usually a temporary copy).  May write the
 * file's journal, never its content.
 */
int db_sqlite_check(const char *path, struct err *e);

/*
 * The table names, row counts and schema version of a SQLite database file
 * (as db_sqlite_backup records them), in one read transaction.  st is
 * released by the caller with db_snapshot_stats_release (also on failure).
 * -ERR_VERIFY naming the file on failure.
 */
int db_sqlite_stats(const char *path, struct db_snapshot_stats *st, struct err *e);

/*
 * Replace the whole content of the live database dst_path (created 0600 when
 * missing) with the database src_path, through the online backup API in one
 * step: one write transaction on dst_path, so that its other connections see
 * either the old content or the new one, never a mix, and a crash leaves
 * the old one (the journal or WAL is replayed or ignored).  dst_path keeps
 * WAL mode.  Waits (up to a minute, noticing cancel, which may be NULL) while
 * another connection holds the write lock.  Errors: -ERR_NO_SPACE when the
 * disk is full, -ERR_BACKUP otherwise, naming the file; dst_path is then
 * unchanged.
 */
int db_sqlite_restore(const char *src_path, const char *dst_path, volatile int *cancel,
                      struct err *e);

#endif
