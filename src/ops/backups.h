/*
 * ops/backups — what BACKUP_DIR says about the backups, read afresh at each
 * call: `stats`, `doctor`, /metrics and the admin API all use it, so every
 * process (several `serve` instances, a command run by hand) agrees without
 * shared memory.
 *
 * Sources: the data files (backup_list_load), the manifest of each tier's
 * newest backup (its finished_at is the backup's time, in UTC, and with the
 * started_at its duration), BACKUP_DIR/.last_result.json (the last run's
 * outcome per tier, failures included) and .last_verify.json (see backup.h).
 *
 * A backup is "good" when its .sha256 and its manifest are present and the
 * manifest reads back complete.  Whether its bytes still match is the
 * verifier's business (and doctor's checksum check for the newest one).
 */
#ifndef CITAPLANNER_OPS_BACKUPS_H
#define CITAPLANNER_OPS_BACKUPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backup/layout.h"
#include "common/err.h"
#include "config/config.h"

/* One backup file as seen here. */
struct ops_backup_ref {
    char *file;      /* basename; NULL when there is none */
    char *path;      /* BACKUP_DIR/<tier>/<file> */
    time_t time;     /* finished_at of its manifest, else the name's local time */
    uint64_t size;   /* bytes of the data file */
    double duration; /* seconds from the manifest (whole seconds), -1 when unknown */
    bool good;
    enum backup_tier tier;
};

struct ops_tier_facts {
    int count;                    /* data files of this tier */
    uint64_t bytes;               /* their sizes (a hard link counts in each tier) */
    struct ops_backup_ref newest; /* newest file, good or not */
    struct ops_backup_ref good;   /* newest good file */

    /* The last run of this tier (.last_result.json). */
    bool has_last;
    bool last_ok;
    time_t last_time;
    double last_seconds;
    uint64_t last_bytes;
    char *last_error; /* NULL when it succeeded */
};

struct ops_backup_facts {
    time_t now; /* the clock the facts were read with */
    bool dir_exists;
    int count;      /* distinct data files */
    uint64_t bytes; /* distinct data files (a hard-linked file counted once) */
    struct ops_tier_facts tiers[BACKUP_TIER_COUNT];
    struct ops_backup_ref good; /* the newest good backup of any tier */
    double good_age;            /* seconds from good.time to now; -1 when none */
    double max_age;             /* BACKUP_MAX_AGE_HOURS in seconds */
    bool stale;                 /* no good backup, or the newest is older than max_age */

    bool has_volume; /* statvfs of BACKUP_DIR (or its nearest existing parent) */
    uint64_t volume_total, volume_free;

    bool has_verify; /* .last_verify.json */
    time_t verify_time;
    int verify_checked, verify_failed;
};

/*
 * Read BACKUP_DIR (cfg->backup_dir) as of now (the clock: time(NULL), or the
 * injected CITAPLANNER_FAKE_NOW of a command).  A missing directory gives
 * empty facts with dir_exists false.  Errors: -ERR_IO when the directory
 * cannot be listed.  f is released with ops_backup_facts_release (also on
 * failure).
 */
int ops_backup_facts_load(const struct config *cfg, time_t now, struct ops_backup_facts *f,
                          struct err *e);
void ops_backup_facts_release(struct ops_backup_facts *f);

/*
 * The `backups` object of `stats` (see ops/stats.h for its documented
 * shape).  Caller owns the reference.
 */
json_t *ops_backup_facts_json(const struct config *cfg, const struct ops_backup_facts *f);

/* "2025-01-09T08:00:00Z" for t into out. */
void ops_utc_stamp(char out[32], time_t t);

/*
 * When the newest good backup is stale, send the "backup_stale" alert
 * (backup_alert_send), at most once a day for the same newest backup
 * (remembered in BACKUP_DIR/.stale_alert.json, so that `doctor` run every
 * hour, or several `serve` schedulers, do not repeat it).  Returns 1 when an
 * alert was sent, 0 when none was due.  For the scheduler in `serve` and for
 * `doctor`.
 */
int ops_backup_stale_alert(const struct config *cfg, const struct ops_backup_facts *f, time_t now);

#endif
