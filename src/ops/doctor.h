/*
 * ops/doctor — the guide's troubleshooting list as checks: one line each,
 * OK / WARN / FAIL, with what was found and, for every line that is not OK,
 * what to do.  `citaplanner doctor` prints them; exit 0 when none FAILs.
 *
 * The checks, in order (names are stable, for --json readers):
 *   config           DATABASE_URL valid (shown redacted)
 *   database         reachable: the name resolves, the port accepts TCP, the
 *                    password is accepted — each failure told apart
 *   migrations       all applied, none failed, modified or unknown
 *   backup_dir       present (or creatable), a directory, writable (a real
 *                    write), private (0700), on a persistent mount (not tmpfs,
 *                    not a container's overlay layer)
 *   backup_space     free space on the backup volume against the last backup
 *   data_space       free space on the database's volume (when visible here)
 *   backup_age       the newest good backup against BACKUP_MAX_AGE_HOURS
 *                    (stale: also the "backup_stale" alert)
 *   backup_<tier>    the newest good backup of daily, weekly, monthly
 *   backup_checksum  the newest backup's SHA-256 against its .sha256 and manifest
 *   pg_tools         pg_dump and psql present and not older than the server
 *   demo_passwords   demo accounts still holding their published passwords
 *   session_secret   SESSION_SECRET's strength when CITAPLANNER_ENV=production
 *   notify_*         notifications to clients: SMTP, WhatsApp, SMS, stuck messages
 *                    (notify/doctor.c)
 * Checks that need the database say so (WARN "not checked") when it is
 * unreachable.
 */
#ifndef CITAPLANNER_OPS_DOCTOR_H
#define CITAPLANNER_OPS_DOCTOR_H

#include <jansson.h>
#include <time.h>

#include "config/config.h"

enum ops_status { OPS_OK, OPS_WARN, OPS_FAIL };

struct ops_check {
    char *name; /* "database" */
    enum ops_status status;
    char *detail; /* what was found; never a secret */
    char *fix;    /* what to do; NULL when OK */
};

struct ops_doctor_report {
    struct ops_check *items;
    int count;
    int ok, warn, fail;
};

/*
 * Run every check against cfg as of now (time(NULL), or an injected clock).
 * alert: send the "backup_stale" alert when the newest backup is stale (see
 * ops_backup_stale_alert).  Never fails: a check that cannot run is a line
 * of the report.  Release r with ops_doctor_report_release.
 */
void ops_doctor_run(const struct config *cfg, time_t now, bool alert, struct ops_doctor_report *r);
void ops_doctor_report_release(struct ops_doctor_report *r);

/* "OK", "WARN", "FAIL". */
const char *ops_status_name(enum ops_status s);

/*
 * The report as {"ok": bool (no FAIL), "summary": {"ok": N, "warn": N, "fail": N},
 * "checks": [{"name", "status": "OK"|"WARN"|"FAIL", "detail", "fix": "…"|null}]}.
 * Caller owns the reference.
 */
json_t *ops_doctor_json(const struct ops_doctor_report *r);

#endif
