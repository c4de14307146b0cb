/*
 * cmd/backup_pitr_pg.c — PostgreSQL's archive in `backup`: `base`, `restore
 * --to-time 'YYYY-MM-DD HH:MM:SS' [--tz ZONE] | --to-latest | --to-lsn LSN |
 * --to-xid XID --pgdata DIR`, the chain's check after `verify`.  The work is
 * archive/pg_base.h, pg_pitr.h and pg_wal.h (the range `list` shows:
 * archive/status.h).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/pg_base.h"
#include "archive/pg_check.h"
#include "archive/pg_pitr.h"
#include "archive/pg_wal.h"
#include "cmd/backup_cmds.h"
#include "common/util.h"

static void fmt_utc(char out[40], time_t t)
{
    strftime(out, 40, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
}

int backup_cmd_base_pg(struct cmd_ctx *ctx)
{
    struct pg_base b;
    struct err e;
    int nb = 0, nw = 0;
    char *held = NULL, when[40];

    err_clear(&e);
    if (pg_base_take(&ctx->cfg, &b, &e) < 0)
        return cmd_fail(&e);
    fmt_utc(when, b.finished);
    printf("base backup %s finished %s (%s), verified with pg_verifybackup; WAL from %s\n", b.name,
           when, b.dir, b.start_wal);
    pg_base_release(&b);
    if (pg_base_prune(&ctx->cfg, &nb, &nw, &held, &e) < 0)
        return cmd_fail(&e);
    if (nb > 0 || nw > 0)
        printf("retention: %d base backup%s and %d WAL segment%s removed\n", nb, nb == 1 ? "" : "s",
               nw, nw == 1 ? "" : "s");
    if (held != NULL)
        printf("retention: %s\n", held);
    free(held);
    return 0;
}

static int parse_target(struct cmd_ctx *ctx, struct pg_pitr_opts *o)
{
    const char *t = cmd_flag(ctx, "to-time"), *lsn = cmd_flag(ctx, "to-lsn"),
               *xid = cmd_flag(ctx, "to-xid");
    unsigned hi, lo;
    char tail;
    int64_t ms = 0;
    int rc, n = (t != NULL) + (lsn != NULL) + (xid != NULL) + cmd_has_flag(ctx, "to-latest");

    if (n != 1)
        return cmd_usage_error(ctx, "give exactly one of --to-time, --to-latest, --to-lsn and "
                                    "--to-xid");
    o->kind = PG_TARGET_LATEST;
    if (t != NULL) {
        if ((rc = backup_cmd_parse_time(ctx, t, cmd_flag(ctx, "tz"), &ms)) != 0)
            return rc;
        o->kind = PG_TARGET_TIME;
        o->time = (time_t)(ms / 1000);
    } else if (lsn != NULL) {
        if (sscanf(lsn, "%X/%X%c", &hi, &lo, &tail) != 2)
            return cmd_usage_error(ctx, "--to-lsn '%s' is not an LSN such as 0/3000060", lsn);
        o->kind = PG_TARGET_LSN;
        o->value = lsn;
    } else if (xid != NULL) {
        if (xid[0] == '\0' || strspn(xid, "0123456789") != strlen(xid))
            return cmd_usage_error(ctx, "--to-xid '%s' is not a transaction id", xid);
        o->kind = PG_TARGET_XID;
        o->value = xid;
    }
    return 0;
}

static void print_steps(const char *dir, int major)
{
    printf(
        "\nTo start PostgreSQL %d on it (it replays the archive up to the target, then opens):\n"
        "  1. Stop the server that uses the old data, if it still runs.\n"
        "  2. Give the directory to the server's user:  sudo chown -R postgres:postgres '%s'\n"
        "     (docker: the image's postgres user, uid 999:  sudo chown -R 999:999 '%s')\n"
        "  3. systemd (Debian):  sudo systemctl stop postgresql@%d-main; point data_directory\n"
        "     in /etc/postgresql/%d/main/postgresql.conf at '%s'; sudo systemctl start "
        "postgresql@%d-main\n"
        "     compose:  mount '%s' as the db service's /var/lib/postgresql/data (and BACKUP_DIR\n"
        "     at the same path inside it), then:  docker compose up -d db\n"
        "     by hand:  pg_ctl -D '%s' -l '%s/restore.log' start\n"
        "  4. Watch its log for 'archive recovery complete'; SELECT pg_is_in_recovery() then\n"
        "     answers false.  Take a new base backup ('citaplanner backup base') once it is "
        "open.\n",
        major, dir, dir, major, major, dir, major, dir, dir, dir);
}

int backup_cmd_pitr_pg(struct cmd_ctx *ctx)
{
    struct pg_pitr_opts o;
    struct pg_pitr_result r;
    struct err e;
    char self[PATH_MAX], pgdata[PATH_MAX], when[40];
    const char *dir = cmd_flag(ctx, "pgdata");
    ssize_t n;
    int rc;

    err_clear(&e);
    memset(&o, 0, sizeof(o));
    if ((rc = parse_target(ctx, &o)) != 0)
        return rc;
    if (dir == NULL || dir[0] == '\0')
        return cmd_usage_error(ctx, "a PostgreSQL restore needs --pgdata DIR (a new data "
                                    "directory)");
    if (ctx->args.npos > 1)
        return cmd_usage_error(ctx, "'backup restore --to-*' takes no FILE");
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return cmd_usage_error(ctx, "cannot find this program's own path for restore_command");
    self[n] = '\0';
    if (dir[0] != '/' && getcwd(pgdata, sizeof(pgdata) - strlen(dir) - 2) != NULL)
        snprintf(pgdata + strlen(pgdata), sizeof(pgdata) - strlen(pgdata), "/%s", dir);
    else
        snprintf(pgdata, sizeof(pgdata), "%s", dir);
    o.cfg = &ctx->cfg;
    o.pgdata = pgdata;
    o.self = self;
    if (pg_pitr_restore(&o, &r, &e) < 0)
        return cmd_fail(&e);
    fmt_utc(when, r.base_finished);
    printf("restored base backup %s (finished %s) into '%s' in %.1f s; checked: its files' "
           "SHA-256, pg_verifybackup, and the WAL chain (%d segment%s, to %s)\n",
           r.base, when, pgdata, r.seconds, r.segments, r.segments == 1 ? "" : "s", r.newest);
    if (o.kind == PG_TARGET_TIME) {
        fmt_utc(when, o.time);
        printf("recovery target: %s (recovery_target_time), then promote\n", when);
    } else if (o.kind == PG_TARGET_LATEST) {
        printf("recovery target: the newest archived WAL, then promote\n");
    } else {
        printf("recovery target: %s %s, then promote\n",
               o.kind == PG_TARGET_LSN ? "LSN" : "transaction", o.value);
    }
    print_steps(pgdata, r.server_major);
    return 0;
}

/* --check: restore the archive into a throwaway server and compare its row counts. */
static int run_check(struct cmd_ctx *ctx)
{
    struct pg_check_result r;
    struct err e;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    err_clear(&e);
    self[n > 0 ? n : 0] = '\0';
    if (pg_check_run(&ctx->cfg, self, &r, &e) < 0) {
        printf("FAILED  archive restore check%s%s: %s\n", r.base[0] ? " from base backup " : "",
               r.base, e.msg);
        return 1;
    }
    printf("OK      archive restore check: base backup %s replayed to %s in a throwaway server, "
           "%d tables hold the recorded row counts (%.1f s)\n",
           r.base, r.lsn, r.tables, r.seconds);
    return 0;
}

int backup_cmd_archive_verify_pg(struct cmd_ctx *ctx)
{
    struct pg_base_list l;
    struct err e;
    char *wal = xasprintf("%s/%s", ctx->cfg.backup_dir, ARCHIVE_PG_SUBDIR);
    char newest[40];
    int checked = 0, bad = 0;
    struct stat sb;

    err_clear(&e);
    if (pg_base_list_load(ctx->cfg.backup_dir, &l, &e) < 0 || stat(wal, &sb) != 0) {
        free(wal);
        pg_base_list_release(&l);
        return 0; /* no archive here */
    }
    for (int i = 0; i < l.n; i++) {
        err_clear(&e);
        if (pg_wal_check_chain(wal, l.v[i].start_wal, NULL, &checked, newest, &e) < 0) {
            bad++;
            if (!ctx->json)
                printf("FAILED  archive WAL from base backup %s: %s\n", l.v[i].name, e.msg);
        } else if (!ctx->json) {
            printf("OK      archive WAL from base backup %s: %d segment%s, %s to %s\n", l.v[i].name,
                   checked, checked == 1 ? "" : "s", l.v[i].start_wal, newest);
        }
    }
    if (l.n == 0) {
        err_clear(&e);
        if (pg_wal_check_chain(wal, NULL, NULL, &checked, newest, &e) < 0) {
            bad++;
            if (!ctx->json)
                printf("FAILED  archive WAL: %s\n", e.msg);
        } else if (!ctx->json) {
            printf("OK      archive WAL: %d segment%s to %s (no base backup yet)\n", checked,
                   checked == 1 ? "" : "s", newest[0] ? newest : "none");
        }
    }
    pg_base_list_release(&l);
    free(wal);
    if (cmd_has_flag(ctx, "check"))
        bad += run_check(ctx);
    return bad > 0 ? err_exit_status(ERR_VERIFY) : 0;
}
