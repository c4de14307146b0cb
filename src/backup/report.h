/*
 * report — the JSON both front ends give for backups (report.c), so that
 * `backup list --json`, `backup verify --json` and /api/v1/admin/backups*
 * cannot drift apart, and backup_verify_many(), the verify-all loop they
 * share (the state record and the alert included).  The shapes are
 * documented in README ("JSON of a backup and of a verification").
 */
#ifndef CITAPLANNER_BACKUP_REPORT_H
#define CITAPLANNER_BACKUP_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "backup/layout.h"
#include "backup/verify.h"
#include "common/err.h"
#include "config/config.h"

/* The local time in a backup's name, "YYYY-MM-DDTHH:MM:SS" (its JSON "time"). */
void backup_entry_time(char out[32], const struct backup_entry *it);

/*
 * One backup of a list:
 *   {"tier": "daily", "file": NAME, "path": PATH, "time": "YYYY-MM-DDTHH:MM:SS"
 *    (the name's local time), "format": "sql" | "sqlite", "size": BYTES,
 *    "has_sha256": b, "has_manifest": b, "origin": "citaplanner" | "adopted" |
 *    "other tool", "locations": ["local", "mirror", "s3"] (only when a remote
 *    is configured or holds a copy), "encrypted": true (only when it is)}
 * cfg NULL: no "locations" (a pruned file).  New reference.
 */
json_t *backup_entry_json(const struct config *cfg, const struct backup_entry *it);

/*
 * A whole list: {"backup_dir": DIR, "count": N, "tiers": {"daily": N, …},
 * "backups": [entry, …]}.  New reference.
 */
json_t *backup_list_json(const struct config *cfg, const struct backup_list *l);

/* A verify-all run, filled by backup_verify_many. */
struct backup_verify_summary {
    int count;        /* backups checked (or counted as failed after a cancel) */
    int passed;       /* verified */
    int failed;       /* not verified: damaged, or the check could not run */
    int damaged;      /* of failed: the backup itself is at fault (ERR_VERIFY) */
    int other_status; /* exit status of the first failure that was not damage, 0 = none */
    bool cancelled;
    json_t *results; /* [result, …] (backup_verify_result_json) */
};

struct backup_verify_many_opts {
    const struct config *cfg; /* BACKUP_DIR, the database (--deep), the alert channels */
    /* The files; NULL = every backup under BACKUP_DIR, newest first. */
    const char *const *paths;
    int npaths;
    bool deep;
    /* A result's "file": the base name (the API names backups) or the path (the CLI). */
    bool file_is_name;
    volatile int *cancel; /* may be NULL; checked after each file */
    time_t started;       /* for the alert; 0 = unknown */
    /* May be NULL: called before each file, to set the options' progress. */
    void (*before)(void *arg, const char *path, struct backup_verify_opts *vo);
    /* May be NULL: called after each file with its outcome (rc 0 = verified). */
    void (*after)(void *arg, const char *path, const struct backup_verify_result *r, int rc,
                  const struct err *e);
    void *arg;
};

/*
 * Verify every backup (or o->paths), one after the other, going on after a
 * failure; record the outcome in BACKUP_DIR/.last_verify.json (failed
 * files by name); and alert once ("verify_failed") when a backup is
 * damaged, that is when a check found the backup at fault (ERR_VERIFY), not
 * when a check could not run (a --deep without its database).  Returns 0
 * when the list could be read (s filled; release with
 * backup_verify_summary_release), else the list's error.
 */
int backup_verify_many(const struct backup_verify_many_opts *o, struct backup_verify_summary *s,
                       struct err *e);
void backup_verify_summary_release(struct backup_verify_summary *s);

/*
 * One verification:
 *   {"file": NAME or PATH (see file_is_name), "name": NAME, "path": PATH,
 *    "tier": "daily" | null, "ok": b, "error": "…", "code": "VERIFY" (both
 *    only when not ok), "format": "sql" | "sqlite", "bytes": {"compressed":
 *    N, "uncompressed": N}, "gzip_members": N, "sha256": HEX | null, "deep":
 *    b, "manifest": b, "origin": "…", "seconds": S}
 * New reference.
 */
json_t *backup_verify_result_json(const char *path, bool file_is_name,
                                  const struct backup_verify_result *r, int rc, const struct err *e,
                                  bool deep);

/*
 * The run: {"ok": b, "deep": b, "count": N, "checked": N, "passed": N,
 * "failed": N, "results": [result, …]}.  New reference (results shared).
 */
json_t *backup_verify_summary_json(const struct backup_verify_summary *s, bool deep);

#endif
