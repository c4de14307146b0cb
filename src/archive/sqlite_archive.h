/*
 * sqlite_archive — continuous archiving of a SQLite database's WAL (the
 * Litestream design), into BACKUP_DIR/wal-sqlite/ (layout: sqlite_wal.h).
 *
 * One archiver per BACKUP_DIR: it holds BACKUP_DIR/.archive-sqlite.lock
 * (flock, dropped by the kernel when it dies).  It keeps a read transaction
 * open on its own connection (the guard), so that no other connection can
 * restart the WAL behind it; every interval it reads the -wal file itself
 * (so it sees the commits of every process), validates the frames (salts,
 * checksums) and copies the frames up to the last commit frame into the
 * next segment.  Past checkpoint_frames it checkpoints itself (RESTART,
 * then ships what the checkpoint saw before anyone can write again); the
 * guard is only ever (re)taken while it holds the write lock with
 * everything shipped, so a WAL that restarted once (salt-1 + 1) loses
 * nothing.  Any other change (the WAL reset behind it, a different page
 * size, a manifest it cannot continue) begins a new generation: a snapshot
 * taken through the online backup API under the write lock, consistent
 * with the WAL position it records.
 *
 * On start it continues the newest generation from its manifest when the
 * WAL still holds exactly what the manifest says, and otherwise begins a
 * new one: never a gap.
 */
#ifndef CITAPLANNER_ARCHIVE_SQLITE_ARCHIVE_H
#define CITAPLANNER_ARCHIVE_SQLITE_ARCHIVE_H

#include <stdint.h>

#include "common/err.h"
#include "config/config.h"

struct archive_sqlite_opts {
    const char *db_path;      /* the live database */
    const char *backup_dir;   /* BACKUP_DIR */
    int interval_ms;          /* between two polls of the WAL */
    int checkpoint_frames;    /* checkpoint once the WAL holds this many shipped frames */
    volatile int *stop;       /* set non-zero to stop (borrowed) */
    const char *mirror_dir;   /* BACKUP_MIRROR_DIR: a copy of the archive there; NULL = none */
    const char *recipient;    /* BACKUP_ENCRYPT_RECIPIENT: files encrypted with age; NULL = not */
    const struct config *cfg; /* BACKUP_S3_*: a copy of the archive in S3; NULL = none */
};

/*
 * Take the archiver's lock and archive until *stop.  -ERR_LOCKED (naming the
 * holder's pid) when another archiver runs; -ERR_BACKUP when the database
 * cannot be opened or the archive cannot be written.  Errors of one poll
 * are logged and retried, not returned.
 */
int archive_sqlite_run(const struct archive_sqlite_opts *o, struct err *e);

/* The archiver as a thread of serve: waits for the lock (another instance may hold it). */
struct archive_sqlite;
struct archive_sqlite *archive_sqlite_start(const struct config *cfg);
/* Stop and join; NULL is a no-op. */
void archive_sqlite_stop(struct archive_sqlite *a);

#endif
