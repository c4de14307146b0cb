/*
 * cmd/backup_pitr_sqlite.c — the SQLite archive in `backup`: `restore
 * --to-time 'YYYY-MM-DD HH:MM:SS' [--tz ZONE] | --to-latest [--output FILE]`,
 * the chain's check after `verify`.  The work is archive/sqlite_pitr.h (the
 * range `list` shows: archive/status.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive/sqlite_pitr.h"
#include "archive/sqlite_wal.h"
#include "backup/encrypt.h"
#include "cmd/backup_cmds.h"
#include "common/tz.h"
#include "common/util.h"

int backup_cmd_parse_time(struct cmd_ctx *ctx, const char *s, const char *tz, int64_t *ms)
{
    int y, mo, d, h, mi, sec;
    char tail;
    struct err e;

    err_clear(&e);
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail) != 6 || sec < 0 ||
        sec > 59)
        return cmd_usage_error(ctx, "--to-time '%s' is not 'YYYY-MM-DD HH:MM:SS'", s);
    if (tz != NULL) {
        int64_t epoch;
        if (tz_local_to_utc(tz, y, mo, d, h, mi, &epoch, &e) < 0)
            return cmd_fail(&e);
        *ms = (epoch + sec) * 1000;
    } else {
        struct tm tm = {.tm_year = y - 1900,
                        .tm_mon = mo - 1,
                        .tm_mday = d,
                        .tm_hour = h,
                        .tm_min = mi,
                        .tm_sec = sec,
                        .tm_isdst = -1};
        time_t t = mktime(&tm);
        if (t == (time_t)-1 || !tz_date_valid(y, mo, d) || h > 23 || mi > 59)
            return cmd_usage_error(ctx, "--to-time '%s' is not a valid local time", s);
        *ms = (int64_t)t * 1000;
    }
    return 0;
}

int backup_cmd_pitr_sqlite(struct cmd_ctx *ctx)
{
    const char *to_time = cmd_flag(ctx, "to-time");
    const char *output = cmd_flag(ctx, "output");
    struct archive_sqlite_restore_opts o;
    struct archive_sqlite_restore_result r;
    struct err e;
    char a[40], b[40];
    int rc;

    err_clear(&e);
    memset(&o, 0, sizeof(o));
    if ((to_time != NULL) == cmd_has_flag(ctx, "to-latest"))
        return cmd_usage_error(ctx, "give exactly one of --to-time and --to-latest");
    if (ctx->args.npos > 1)
        return cmd_usage_error(ctx, "'backup restore --to-*' takes no FILE");
    o.target_ms = INT64_MAX;
    if (to_time != NULL &&
        (rc = backup_cmd_parse_time(ctx, to_time, cmd_flag(ctx, "tz"), &o.target_ms)))
        return rc;
    if (output == NULL && !cmd_has_flag(ctx, "yes")) {
        err_set(&e, ERR_RESTORE_REFUSED,
                "refusing to replace '%s' without --yes (or write a new file with --output FILE)",
                ctx->cfg.db.path);
        return cmd_fail(&e);
    }
    o.cfg = &ctx->cfg;
    o.output = output;
    o.safety_backup = !cmd_has_flag(ctx, "no-safety-backup");
    o.now = backup_clock();
    backup_cmd_catch_signals();
    o.cancel = backup_cmd_cancel_flag();
    if (archive_sqlite_restore(&o, &r, &e) < 0) {
        free(r.prerestore);
        return cmd_fail(&e);
    }
    wal_fmt_ms(r.restored_to_ms, a);
    wal_fmt_ms(r.snapshot_ms, b);
    if (ctx->json) {
        printf("{\"ok\":true,\"generation\":\"%s\",\"restored_to_ms\":%lld,\"snapshot_ms\":%lld,"
               "\"segments\":%llu,\"frames\":%llu,\"seconds\":%.3f}\n",
               r.generation, (long long)r.restored_to_ms, (long long)r.snapshot_ms,
               (unsigned long long)r.segments, (unsigned long long)r.frames, r.seconds);
    } else {
        if (r.prerestore != NULL)
            printf("prerestore backup: %s\n", r.prerestore);
        printf("restored %s as of %s (generation %s: snapshot of %s and %llu segment%s) in "
               "%.1f s; integrity_check ok\n",
               output != NULL ? output : ctx->cfg.db.path, a, r.generation, b,
               (unsigned long long)r.segments, r.segments == 1 ? "" : "s", r.seconds);
    }
    free(r.prerestore);
    return 0;
}

static void verify_report(void *arg, const char *gen, uint64_t nsegs, const char *problem)
{
    struct cmd_ctx *ctx = arg;

    if (ctx->json)
        return;
    if (problem == NULL)
        printf("OK      archive generation %s (snapshot and %llu segment%s)\n", gen,
               (unsigned long long)nsegs, nsegs == 1 ? "" : "s");
    else
        printf("FAILED  archive generation %s: %s\n", gen, problem);
}

int backup_cmd_archive_verify_sqlite(struct cmd_ctx *ctx)
{
    struct err e;
    int n = 0, bad = 0;

    err_clear(&e);
    if (archive_sqlite_verify(ctx->cfg.backup_dir,
                              backup_decrypt_identity(ctx->cfg.backup_decrypt_identity),
                              verify_report, ctx, &n, &bad, &e) < 0)
        return cmd_fail(&e);
    if (n > 0 && !ctx->json)
        printf("%d archive generation%s verified: %d OK, %d FAILED\n", n, n == 1 ? "" : "s",
               n - bad, bad);
    return bad > 0 ? err_exit_status(ERR_VERIFY) : 0;
}
