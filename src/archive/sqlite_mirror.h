/*
 * sqlite_mirror — the SQLite archive copied to BACKUP_MIRROR_DIR/wal-sqlite/
 * (the same layout), as the dumps are: each file through storage/dir.c
 * (temporary name, fsync, SHA-256 re-read, rename), in order: the snapshot,
 * then each segment before its manifest line, so the mirror's manifest
 * never names a file the mirror lacks.  After a (re)start the generation's
 * missing files are copied and its manifest replaced whole; afterwards
 * lines are appended.  A failure is logged and retried at the next poll.
 */
#ifndef CITAPLANNER_ARCHIVE_SQLITE_MIRROR_H
#define CITAPLANNER_ARCHIVE_SQLITE_MIRROR_H

#include "archive/sqlite_wal.h"
#include "common/err.h"

struct archive_mirror;

/* mirror_dir: BACKUP_MIRROR_DIR (borrowed for the mirror's life).  Free with _free. */
struct archive_mirror *archive_mirror_new(const char *mirror_dir);
void archive_mirror_free(struct archive_mirror *m);

/* The archive is now writing generation name in gen_dir: it is brought up to date at the next sync.
 */
void archive_mirror_generation(struct archive_mirror *m, const char *gen_dir, const char *name);
/* A segment of that generation, shipped locally (its manifest line durable). */
void archive_mirror_segment(struct archive_mirror *m, const struct wal_segment *s);
/* Copy what is pending.  -ERR_BACKUP / -ERR_NO_SPACE; what is left is retried next time. */
int archive_mirror_sync(struct archive_mirror *m, struct err *e);

#endif
