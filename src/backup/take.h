/*
 * take — taking a backup (take.c; SPEC §6 "Taking a backup").
 *
 * Crash safety: every file is first written under a temporary name in its
 * final directory (".<final name>.tmp.<pid>") and fsynced.  Then the two
 * sidecars are renamed to their final names, the data file LAST, and the
 * directory is fsynced: the commit rule of a directory store
 * (storage/dir.h), through which the files go into BACKUP_DIR.  The data
 * file's final name is the commit point: a final-named .gz always has both
 * sidecars, and the manifest's content is complete (it is generated after
 * the data is written, from its size and hash).  A crash can only leave
 * temporary files and orphan sidecars; the next run removes both
 * (temporary files whose pid is dead) and logs it.
 *
 * Everything here is library code: it logs (log.h), never prints to stdout,
 * never exits.  A run tees its log lines into logs/backup_YYYYMMDD.log.
 */
#ifndef CITAPLANNER_BACKUP_TAKE_H
#define CITAPLANNER_BACKUP_TAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backup/layout.h"
#include "common/err.h"
#include "common/url.h"
#include "config/config.h"
#include "db/db.h"

/* Progress of a running take, for a terminal's progress line. */
struct backup_progress {
    const char *step;   /* "dump", "copy", "compress" */
    uint64_t raw_bytes; /* uncompressed bytes so far */
    uint64_t gz_bytes;  /* compressed bytes written so far */
    double seconds;     /* since the step began */
};

struct backup_opts {
    const struct config *cfg; /* BACKUP_DIR, keep counts, weekly/monthly days */
    const struct url *db;     /* the database to back up (usually &cfg->db) */
    int tier;                 /* BACKUP_TIER_AUTO or an enum backup_tier */
    time_t now;               /* the clock: names, tiers, log file; time(NULL) in production */
    volatile int *cancel;     /* may be NULL; nonzero aborts the run and removes its files */
    bool rotate;              /* run rotation after a successful backup */
    bool lock_held;           /* the caller (restore) already holds BACKUP_DIR's lock */
    /* May be NULL.  Called from the calling thread a few times a second. */
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
};

struct backup_result {
    enum db_kind kind;
    unsigned tiers;                 /* bit 1 << tier for each tier written */
    char *files[BACKUP_TIER_COUNT]; /* data file path per tier written, NULL otherwise */
    char sha256[65];                /* hex SHA-256 of the data file */
    uint64_t raw_bytes;             /* uncompressed dump / database bytes */
    uint64_t gz_bytes;              /* bytes of the data file */
    double seconds;                 /* whole run */
    int rotated;                    /* files deleted by rotation */
};

/*
 * Take one backup (SPEC §6 "Taking a backup"): prepare BACKUP_DIR, open the
 * log file, take the lock (unless lock_held), remove stale files, check free
 * space, dump once (PostgreSQL: pg_dump in a snapshot shared with the row
 * counts; SQLite: the online backup API), compress and hash as it streams,
 * commit the first tier's files and hard-link (or copy) the others, then
 * rotate (when asked).  r is filled on success; release it with
 * backup_result_release (also after a failure).
 *
 * Errors: -ERR_LOCKED (another run holds the lock), -ERR_NO_SPACE (not enough
 * free space, before or while writing; the figures are in the message),
 * -ERR_USAGE (invalid tier), -ERR_BACKUP for everything else (the database
 * unreachable, pg_dump failing or too old, a truncated dump, cancellation).
 * On any failure no file is left under a final name, older backups are
 * untouched, rotation does not run, and backup_alert() is called.
 *
 * The calling thread's log lines are tee'd into the day's log file for the
 * run, and the tee is cleared (log_set_tee(NULL)) when it returns.  A SQLite
 * copy is one sqlite3_backup_step: cancel is noticed before and after it.
 */
int backup_take(const struct backup_opts *o, struct backup_result *r, struct err *e);
void backup_result_release(struct backup_result *r);

#endif
