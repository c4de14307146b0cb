/*
 * layout — BACKUP_DIR's layout, names and listing (layout.c; SPEC §6).
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
 */
#ifndef CITAPLANNER_BACKUP_LAYOUT_H
#define CITAPLANNER_BACKUP_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

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
 * The clock of backups, stats, doctor and notifications: time(NULL), or the
 * local time backup_clock_set fixed it at.
 */
time_t backup_clock(void);

/*
 * Fix the clock at fake, a local time "YYYY-MM-DDTHH:MM:SS" (the testing aid
 * CITAPLANNER_FAKE_NOW, config's fake_now; NULL: the real clock).  Called
 * once at start (cmd.c), before any thread.  -ERR_CONFIG naming the variable
 * when fake is not of that form (the clock is then the real one).
 */
int backup_clock_set(const char *fake, struct err *e);

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

#endif
