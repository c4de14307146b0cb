/*
 * cmd/doctor.c — `citaplanner doctor [--json]`: the guide's troubleshooting
 * list, one line per check, OK / WARN / FAIL, and what to do for every line
 * that is not OK.  The checks live in ops/doctor.h; this file prints them.
 * Exit 0 when no check FAILs, else 1.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/backup_cmds.h"
#include "cmd/cmd.h"
#include "ops/doctor.h"

static const char doctor_usage[] =
    "Usage: citaplanner doctor [--json]\n"
    "\n"
    "Checks, one line each (OK / WARN / FAIL, with what to do when not OK):\n"
    "  config           DATABASE_URL valid (shown redacted)\n"
    "  database         reachable: name resolution, TCP, authentication told apart\n"
    "  migrations       applied; none pending, failed or modified\n"
    "  backup_dir       present, writable, private (0700), on a persistent mount\n"
    "  backup_space     free space on the backup volume\n"
    "  data_space       free space on the database's volume (when visible here)\n"
    "  backup_age       newest good backup against BACKUP_MAX_AGE_HOURS (a stale\n"
    "                   backup also sends the BACKUP_ALERT_* alert, once a day)\n"
    "  backup_daily, backup_weekly, backup_monthly   newest good backup per tier\n"
    "  backup_checksum  newest backup's SHA-256 against its .sha256 and manifest\n"
    "  pg_tools         pg_dump and psql present, not older than the server\n"
    "  demo_passwords   demo accounts still holding their published passwords\n"
    "  session_secret   SESSION_SECRET strength (CITAPLANNER_ENV=production)\n"
    "\n"
    "Exit status 0 when no check FAILs, 1 otherwise.  --json prints\n"
    "{\"ok\", \"summary\": {\"ok\", \"warn\", \"fail\"}, \"checks\": [{\"name\", \"status\",\n"
    "\"detail\", \"fix\"}]}.  CITAPLANNER_FAKE_NOW='YYYY-MM-DDTHH:MM:SS' replaces the\n"
    "clock (testing aid).\n";

static int run_doctor(struct cmd_ctx *ctx)
{
    struct ops_doctor_report r;
    time_t now;
    int rc;

    now = backup_clock();
    ops_doctor_run(&ctx->cfg, now, true, &r);
    if (ctx->json) {
        json_t *o = ops_doctor_json(&r);
        char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        for (int i = 0; i < r.count; i++) {
            const struct ops_check *c = &r.items[i];
            printf("%-4s  %-16s %s\n", ops_status_name(c->status), c->name, c->detail);
            if (c->fix != NULL)
                printf("      %-16s -> %s\n", "", c->fix);
        }
        printf("\n%d OK, %d WARN, %d FAIL\n", r.ok, r.warn, r.fail);
    }
    rc = r.fail > 0 ? 1 : 0;
    ops_doctor_report_release(&r);
    return rc;
}

static const struct cmd_flag doctor_flags[] = {
    {NULL, false, NULL},
};

const struct cmd cmd_doctor = {
    .name = "doctor",
    .run = run_doctor,
    .summary = "check the installation: database, migrations, backups, secrets (OK/WARN/FAIL)",
    .usage = doctor_usage,
    .flags = doctor_flags,
    .needs_db = true,
};
