/*
 * alert — the alert on a failed or stale backup, and the state files
 * (.last_result.json, .last_verify.json) that /metrics, stats and doctor read
 * (alert.c).
 */
#ifndef CITAPLANNER_BACKUP_ALERT_H
#define CITAPLANNER_BACKUP_ALERT_H

#include <stdbool.h>
#include <time.h>

#include "backup/take.h"
#include "common/err.h"
#include "config/config.h"

/*
 * The alert on a failed (or stale) backup (alert.c): the event is logged at
 * ERROR (WARN for severity "warning"), then sent to BACKUP_ALERT_WEBHOOK (a
 * JSON POST through libcurl: 5 s to connect, 10 s in all, one retry after a
 * second) and run through BACKUP_ALERT_COMMAND (`/bin/sh -c COMMAND` with the
 * facts in CITAPLANNER_ALERT_* environment variables and nothing else of
 * ours: never on its command line; stdout goes to our stderr; killed after
 * 30 s).  A channel that fails is logged (the webhook's address without its
 * path or credentials) and never fails the caller.
 *
 * The webhook's body:
 *   {"event": "backup_failed", "severity": "critical", "message": "…",
 *    "host": "db1", "database": "postgresql://u:***@h:5432/db",
 *    "backup_file": "…" | null, "started_at": "…Z" | null,
 *    "finished_at": "…Z", "sent_at": "…Z", "program": "citaplanner",
 *    "version": "0.1.0"}
 * The command's environment: CITAPLANNER_ALERT_EVENT, _SEVERITY, _MESSAGE,
 * _HOST, _DATABASE, _BACKUP_FILE, _STARTED_AT, _FINISHED_AT, _SENT_AT, plus
 * PATH, HOME, TZ and LANG.
 */
struct backup_alert_facts {
    const char *event;    /* "backup_failed", "verify_failed", "restore_failed", "backup_stale" */
    const char *severity; /* "critical" (NULL) or "warning" */
    const char *message;  /* what happened; never a secret */
    const char *file;     /* the backup file concerned, or NULL */
    time_t started;       /* when the operation began; 0 = unknown */
    time_t finished;      /* when it ended or was noticed; 0 = now */
};

/*
 * Send an alert.  Returns 0 when every configured channel delivered it (or
 * none is configured), -1 when one failed (already logged): informational,
 * callers may ignore it.  Blocks for the webhook's timeouts at most.
 */
int backup_alert_send(const struct config *cfg, const struct backup_alert_facts *f);

/*
 * backup_alert_send with event (free text such as "backup failed" is turned
 * into "backup_failed"), severity critical and e's message.  Never fails.
 */
void backup_alert(const struct config *cfg, const char *event, const struct err *e);

/*
 * The outcome of the last take per tier, BACKUP_DIR/.last_result.json, for
 * /metrics, `stats` and `doctor` (every process reads the same file):
 *   {"format": 1, "tiers": {"daily": {"ok": true, "time": EPOCH,
 *     "finished_at": "…Z", "seconds": 1.25, "bytes": N, "file": "…",
 *     "error": null}, …}}
 * backup_take() records each run once, at its end, for the tiers it wrote or
 * meant to write (not when another run held the lock: that one records).
 * r is NULL on failure, e NULL on success.  Written atomically (temporary
 * file and rename); a failure to write is logged at debug and ignored.
 */
void backup_state_record(const struct backup_opts *o, unsigned tiers, const struct backup_result *r,
                         const struct err *e, double seconds);

/*
 * The outcome of the last verification of BACKUP_DIR's backups,
 * BACKUP_DIR/.last_verify.json: {"format": 1, "time": EPOCH, "checked": N,
 * "failed": N, "failed_files": ["…"]}.  For whoever verifies (the `backup
 * verify` command, the admin API).  failed_files may be NULL when nfailed
 * names are unknown.  Errors ignored as for backup_state_record.
 */
void backup_state_record_verify(const char *dir, time_t when, int checked, int failed,
                                const char *const *failed_files, int nfailed_files);

#endif
