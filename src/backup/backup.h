/*
 * backup — taking, listing and rotating backups (SPEC §6).
 *
 * Layout under BACKUP_DIR (directories 0700, files 0600):
 *
 *   daily/ weekly/ monthly/ premigrate/ prerestore/
 *       citaplanner_<tier>_YYYYMMDD_HHMMSS.sql.gz      PostgreSQL: plain pg_dump, gzip
 *       citaplanner_<tier>_YYYYMMDD_HHMMSS.sqlite.gz   SQLite: a copy of the file, gzip
 *       <data file>.sha256   "HEX  BASENAME\n", exactly what sha256sum writes
 *       <data file>.json     the manifest (format version, program, times, tiers,
 *                            database, schema version, row counts, sizes, SHA-256)
 *   logs/backup_YYYYMMDD.log
 *   .lock                    flock(2) held by a backup, restore or prune; holds its pid
 *
 * The timestamp in a name is local time (TZ) and is what rotation sorts by.
 *
 * Crash safety: every file is first written under a temporary name in its
 * final directory (".<final name>.tmp.<pid>") and fsynced.  Then the two
 * sidecars are renamed to their final names, the data file LAST, and the
 * directory is fsynced.  The data file's final name is the commit point: a
 * final-named .gz always has both sidecars, and the manifest's content is
 * complete (it is generated after the data is written, from its size and
 * hash).  A crash can only leave temporary files and orphan sidecars; the
 * next run removes both (temporary files whose pid is dead) and logs it.
 *
 * Everything here is library code: it logs (log.h), never prints to stdout,
 * never exits.  A run tees its log lines into logs/backup_YYYYMMDD.log.
 */
#ifndef CITAPLANNER_BACKUP_H
#define CITAPLANNER_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/url.h"
#include "config/config.h"
#include "db/db.h"

#define BACKUP_MANIFEST_FORMAT 1

enum backup_tier {
    BACKUP_DAILY,
    BACKUP_WEEKLY,
    BACKUP_MONTHLY,
    BACKUP_PREMIGRATE,
    BACKUP_PRERESTORE,
    BACKUP_TIER_COUNT
};

/* The tier request meaning "daily, plus weekly / monthly on their days". */
#define BACKUP_TIER_AUTO (-1)

/* How many premigrate and prerestore backups rotation keeps. */
#define BACKUP_KEEP_SPECIAL 3

enum backup_format {
    BACKUP_FMT_SQL,    /* .sql.gz: PostgreSQL plain dump */
    BACKUP_FMT_SQLITE, /* .sqlite.gz: SQLite database file */
};

/* "daily" … "prerestore". */
const char *backup_tier_name(enum backup_tier t);

/* Parse a tier name; returns 0, or -1 when unknown. */
int backup_tier_parse(const char *s, enum backup_tier *out);

/* ".sql.gz" / ".sqlite.gz". */
const char *backup_format_ext(enum backup_format f);

/*
 * The tiers (bit 1 << tier) an automatic run writes at local time now: always
 * daily; weekly when the weekday (0 = Sunday) is weekly_day; monthly when the
 * day of month is monthly_day, or is the month's last day when monthly_day is
 * past it (so that 31 still means once a month).
 */
unsigned backup_auto_tiers(time_t now, int weekly_day, int monthly_day);

/*
 * Parse a local time "YYYY-MM-DDTHH:MM:SS" (the CITAPLANNER_FAKE_NOW testing
 * aid) into an epoch with mktime (TZ applies).  Returns 0, or -1 when s is
 * not exactly that form or not a valid date.
 */
int backup_parse_local_time(const char *s, time_t *out);

/*
 * The clock of backups, stats and doctor: time(NULL), or the local time in
 * CITAPLANNER_FAKE_NOW when set (a testing aid).  -ERR_CONFIG naming the
 * variable when its value is not of that form (*now is then time(NULL)).
 */
int backup_clock(time_t *now, struct err *e);

/* "1.5 MB", "320.0 kB", "12 B" (decimal units) into out; returns out. */
const char *backup_fmt_bytes(char out[32], uint64_t n);

/* Longest name this module produces, with a sidecar suffix, NUL included. */
#define BACKUP_NAME_MAX 80

/*
 * The data file's basename for a tier at local time now:
 * "citaplanner_daily_20250109_020000.sql.gz".  out holds BACKUP_NAME_MAX bytes.
 */
void backup_name_format(char out[BACKUP_NAME_MAX], enum backup_tier tier, time_t now,
                        enum backup_format fmt);

/*
 * Parse a data file's basename.  Only names this module writes match: the
 * prefix, a known tier, a valid date and time, a known extension, nothing
 * else.  stamp (may be NULL) gets YYYYMMDDHHMMSS as a number, which sorts as
 * time does.  Returns 0, or -1 when name does not match.
 */
int backup_name_parse(const char *name, enum backup_tier *tier, int64_t *stamp,
                      enum backup_format *fmt);

/* One data file found under BACKUP_DIR. */
struct backup_entry {
    enum backup_tier tier;
    enum backup_format format;
    char *name;    /* basename */
    char *path;    /* BACKUP_DIR/<tier>/<name> */
    int64_t stamp; /* YYYYMMDDHHMMSS from the name (local time) */
    int64_t size;  /* bytes of the data file */
    uint64_t dev, ino;
    bool has_sha256;   /* <name>.sha256 exists */
    bool has_manifest; /* <name>.json exists */
};

struct backup_list {
    struct backup_entry *items;
    int count;
};

/*
 * Every data file under dir whose name matches the pattern and sits in its
 * own tier's directory, newest first (ties: by tier).  A missing dir or tier
 * directory is an empty list, not an error.  l is released by the caller with
 * backup_list_release (also on failure).
 */
int backup_list_load(const char *dir, struct backup_list *l, struct err *e);
void backup_list_release(struct backup_list *l);

/*
 * Create dir and its tier and logs sub-directories where missing (0700) and
 * check that dir is a writable directory.  -ERR_BACKUP naming the path.
 */
int backup_dir_prepare(const char *dir, struct err *e);

/*
 * The exclusive lock that serializes backups, restores and pruning:
 * BACKUP_DIR/.lock, flock(LOCK_EX|LOCK_NB), the holder's pid written into it.
 * dir must exist.  When another process holds it: -ERR_LOCKED "another
 * backup or restore is running (pid N)".  Released by backup_lock_release
 * (accepts NULL) or by the process's death.  *out: caller frees with
 * backup_lock_release.
 */
struct backup_lock;
int backup_lock_acquire(const char *dir, struct backup_lock **out, struct err *e);
void backup_lock_release(struct backup_lock *l);

/*
 * The run's log file, logs/backup_YYYYMMDD.log (date of now, local time),
 * opened for appending (0600) and tee'd (log_set_tee) from the calling
 * thread until backup_log_close (accepts NULL).  dir/logs must exist.
 */
struct backup_log;
int backup_log_open(const char *dir, time_t now, struct backup_log **out, struct err *e);
void backup_log_close(struct backup_log *l);

/*
 * Remove what a crashed run left under dir: temporary files ".*.tmp.<pid>"
 * (and the private passfile directory) whose pid is no longer alive, and
 * sidecars whose data file is missing.  Each removal is logged.  Call with
 * the lock held.  *removed (may be NULL) gets how many entries went.
 */
int backup_cleanup_stale(const char *dir, int *removed, struct err *e);

/* How many backups of each tier rotation keeps, from cfg (premigrate and
 * prerestore: BACKUP_KEEP_SPECIAL). */
void backup_keep_from_config(const struct config *cfg, int keep[BACKUP_TIER_COUNT]);

/*
 * Rotation: in each tier keep the newest keep[tier] data files by the
 * timestamp in their names, and delete the older ones (data file first,
 * then its sidecars, so that a final-named data file never lacks them).
 * Only names that match the pattern are considered; the files named in
 * protect (paths as returned in backup_result.files) are never deleted.
 * dry_run: delete nothing.  victims (may be NULL; release with
 * backup_list_release) gets what was (or would be) deleted.  Each deletion is
 * logged.  Call with the lock held.
 */
int backup_rotate(const char *dir, const int keep[BACKUP_TIER_COUNT], const char *const *protect,
                  int nprotect, bool dry_run, struct backup_list *victims, struct err *e);

/*
 * `backup prune`: prepare dir, open the log, take the lock, remove stale
 * files, rotate with cfg's keep counts, log the summary.  Same victims and
 * dry_run as backup_rotate.
 */
int backup_prune(const struct config *cfg, bool dry_run, struct backup_list *victims,
                 struct err *e);

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

/*
 * Is this backup good, for rotation (which never deletes the newest good one
 * of a tier)?  Ours: its manifest, sidecar and size agree (verified when it
 * was written); another tool's: a quick verification of its content.
 */
bool backup_entry_good(const struct backup_entry *it);

/*
 * Log the state of dir: backups per tier, bytes they use (a hard-linked file
 * counted once) and the free space left (rotate.c).
 */
void backup_log_summary(const char *dir);

#endif
