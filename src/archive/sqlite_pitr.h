/*
 * sqlite_pitr — what the SQLite archive (sqlite_archive.h) gives back:
 * point-in-time restore, the chain's verification, and the range it covers.
 *
 * Restore applies page images: the generation's snapshot is decompressed,
 * then the frames of every segment shipped at or before the target are
 * written at their page's offset, and the file is cut to the database size
 * each commit frame records.  Segments hold whole transactions only, so the
 * result is the database as of the last segment before the target; it must
 * pass PRAGMA integrity_check before it goes anywhere.  A transaction's
 * time is when the archiver shipped it: at most ARCHIVE_SQLITE_INTERVAL_MS
 * after its commit.
 */
#ifndef CITAPLANNER_ARCHIVE_SQLITE_PITR_H
#define CITAPLANNER_ARCHIVE_SQLITE_PITR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "config/config.h"

/* What the archive covers: from the oldest snapshot to the newest segment. */
struct archive_sqlite_range {
    bool any;
    int64_t from_ms, to_ms;
    int generations;
    uint64_t segments;
};
/* 0 (any = false when there is no archive), or <0 when BACKUP_DIR cannot be read. */
int archive_sqlite_range(const char *backup_dir, struct archive_sqlite_range *r, struct err *e);

/*
 * Check every generation: the snapshot's and every segment's SHA-256, the
 * segments numbered without a gap, each one's frames valid (salts,
 * checksums) and continuing the previous one.  identity (may be NULL)
 * decrypts encrypted files; without it their frames are not read (the
 * SHA-256 of the encrypted file is still checked).  report (may be NULL) is
 * called per generation with problem NULL when it is whole.  *bad counts the
 * damaged generations.  Returns <0 only when the archive cannot be read.
 */
int archive_sqlite_verify(const char *backup_dir, const char *identity,
                          void (*report)(void *arg, const char *gen, uint64_t nsegs,
                                         const char *problem),
                          void *arg, int *ngens, int *bad, struct err *e);

struct archive_sqlite_restore_opts {
    const struct config *cfg; /* BACKUP_DIR, the database (cfg->db.path) */
    int64_t target_ms;        /* INT64_MAX: the latest */
    const char *output;       /* a new file; NULL = replace the configured database */
    bool safety_backup;       /* in place: a prerestore backup first */
    time_t now;
    volatile int *cancel;
};

struct archive_sqlite_restore_result {
    char generation[64];
    int64_t snapshot_ms;
    int64_t restored_to_ms; /* the last applied segment's time (the snapshot's when none) */
    uint64_t segments, frames;
    char *prerestore; /* the safety backup, NULL when none */
    double seconds;
};

/*
 * Rebuild the database as of target_ms into output or in place (under
 * BACKUP_DIR's lock, after a prerestore backup, through the online backup
 * API in one transaction).  -ERR_VERIFY naming the segment when one the
 * target needs is missing or damaged (nothing changed); -ERR_RESTORE_REFUSED
 * when the archive has nothing at or before the target or output exists.
 */
int archive_sqlite_restore(const struct archive_sqlite_restore_opts *o,
                           struct archive_sqlite_restore_result *r, struct err *e);

#endif
