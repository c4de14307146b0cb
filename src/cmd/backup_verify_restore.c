/*
 * cmd/backup_verify_restore.c — `backup verify [FILE…] [--deep]` and
 * `backup restore FILE [--yes] [--no-safety-backup]` (and the guide's
 * `--verify-only`, `--restore FILE`).  backup.c parses the command line;
 * the work is backup_verify_file() and backup_restore() (backup/verify.h, backup/restore.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/files.h"
#include "backup/take.h"
#include "backup/report.h"
#include "backup/alert.h"
#include "backup/manifest.h"
#include "backup/verify.h"
#include "backup/restore.h"
#include "cmd/backup_cmds.h"
#include "common/log.h"
#include "common/util.h"

static bool drawn;

/* One progress line on the terminal, rewritten in place. */
static void progress(void *arg, const struct backup_progress *p)
{
    char a[32], b[32];
    const uint64_t *total = arg;

    if (strcmp(p->step, "verify") == 0 || strcmp(p->step, "restore") == 0 ||
        strcmp(p->step, "deep") == 0) {
        printf("\r  %-8s %10s of %10s read (%3d%%), %10s decoded, %6.1f MB/s ", p->step,
               backup_fmt_bytes(a, p->gz_bytes), backup_fmt_bytes(b, *total),
               *total > 0 ? (int)(100.0 * (double)p->gz_bytes / (double)*total) : 0,
               backup_fmt_bytes(b, p->raw_bytes),
               p->seconds > 0 ? (double)p->raw_bytes / 1e6 / p->seconds : 0.0);
        fflush(stdout);
        drawn = true;
    } else {
        backup_cmd_progress(NULL, p);
    }
}

static void progress_end(void)
{
    if (drawn) {
        fputc('\n', stdout);
        drawn = false;
    }
    backup_cmd_progress_end();
}

/* ---- verify ---- */

struct verify_ui {
    struct cmd_ctx *ctx;
    bool deep;
    uint64_t total; /* the current file's size, for the progress line */
};

static void verify_before(void *arg, const char *path, struct backup_verify_opts *vo)
{
    struct verify_ui *ui = arg;
    struct stat sb;

    ui->total = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (ui->ctx->tty && !ui->ctx->json) {
        vo->progress = progress;
        vo->progress_arg = &ui->total;
    }
}

static void verify_after(void *arg, const char *path, const struct backup_verify_result *r, int rc,
                         const struct err *e)
{
    struct verify_ui *ui = arg;

    progress_end();
    if (ui->ctx->json) {
        return;
    } else if (rc == 0) {
        char a[32], b[32];
        printf("OK      %s (%s%s, %s uncompressed%s, %.1f s)\n", path,
               r->no_manifest ? "verified, no manifest (made by another tool); " : "",
               backup_fmt_bytes(a, r->gz_bytes), backup_fmt_bytes(b, r->raw_bytes),
               !ui->deep        ? ""
               : r->no_manifest ? ", it restores into a scratch database"
                                : ", row counts match after a scratch restore",
               r->seconds);
    } else {
        printf("FAILED  %s: %s\n", path, e->msg);
    }
    fflush(stdout);
}

int backup_cmd_verify(struct cmd_ctx *ctx, int nfiles, char **files)
{
    struct verify_ui ui = {ctx, cmd_has_flag(ctx, "deep"), 0};
    struct backup_verify_many_opts o;
    struct backup_verify_summary s;
    struct err e;
    int status = 0;

    err_clear(&e);
    memset(&o, 0, sizeof(o));
    o.cfg = &ctx->cfg;
    o.paths = nfiles > 0 ? (const char *const *)files : NULL;
    o.npaths = nfiles;
    o.deep = ui.deep;
    o.cancel = backup_cmd_cancel_flag();
    o.started = time(NULL);
    o.before = verify_before;
    o.after = verify_after;
    o.arg = &ui;
    backup_cmd_catch_signals();
    if (backup_verify_many(&o, &s, &e) < 0) {
        backup_verify_summary_release(&s);
        return cmd_fail(&e);
    }
    if (s.count == 0 && nfiles == 0 && !ctx->json)
        printf("no backups in '%s'\n", ctx->cfg.backup_dir);
    /* 6 when a backup is damaged; else the cause that kept a check from running. */
    if (s.failed > 0)
        status =
            s.damaged > 0 || s.other_status == 0 ? err_exit_status(ERR_VERIFY) : s.other_status;
    if (ctx->json)
        backup_cmd_print_json(backup_verify_summary_json(&s, ui.deep));
    else if (s.count > 0)
        printf("%d backup%s verified%s: %d OK, %d FAILED\n", s.count, s.count == 1 ? "" : "s",
               ui.deep ? " (deep)" : "", s.passed, s.failed);
    backup_verify_summary_release(&s);
    return status;
}

/* ---- restore ---- */

struct confirm_ctx {
    struct cmd_ctx *ctx;
    bool ask;
};

static int64_t manifest_rows(const struct backup_manifest *m, const char *table)
{
    for (int i = 0; i < m->ntables; i++)
        if (strcmp(m->tables[i], table) == 0)
            return m->rows[i];
    return -1;
}

/* Show what will happen; ask for 'SI' unless --yes. */
static bool confirm(void *arg, const struct backup_manifest *m)
{
    struct confirm_ctx *c = arg;
    char line[64];

    progress_end();
    if (!c->ctx->json) {
        printf("target:   %s\n", url_redacted(&c->ctx->cfg.db));
        printf("backup:   %s\n", m->file);
        printf("taken:    %s (schema %s)\n", m->started_at,
               m->schema_version != NULL ? m->schema_version : "none");
        printf("rows:    ");
        for (int i = 0; i < 3; i++)
            printf(" %s %lld%s", backup_restore_counted[i],
                   (long long)manifest_rows(m, backup_restore_counted[i]), i < 2 ? "," : "\n");
    }
    if (!c->ask)
        return true;
    printf("This will OVERWRITE all current data. Type 'SI' to confirm: ");
    fflush(stdout);
    if (fgets(line, sizeof(line), stdin) == NULL) {
        fputc('\n', stdout);
        return false;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "SI") == 0;
}

int backup_cmd_restore(struct cmd_ctx *ctx, const char *file)
{
    struct backup_restore_opts o;
    struct backup_restore_result r;
    struct confirm_ctx cc = {ctx, !cmd_has_flag(ctx, "yes")};
    struct err e;
    struct stat sb;
    uint64_t total = 0;
    int rc;

    err_clear(&e);
    memset(&o, 0, sizeof(o));
    /* Never wait for an answer that cannot come. */
    if (cc.ask && isatty(STDIN_FILENO) != 1) {
        err_set(&e, ERR_RESTORE_REFUSED,
                "refusing to restore without a terminal to confirm on: add --yes to confirm "
                "that all current data may be overwritten");
        return cmd_fail(&e);
    }
    if (stat(file, &sb) != 0) {
        err_set(&e, ERR_VERIFY, "cannot read the backup '%s': %s", file, strerror(errno));
        return cmd_fail(&e);
    }
    total = (uint64_t)sb.st_size;
    o.cfg = &ctx->cfg;
    o.db = &ctx->cfg.db;
    o.file = file;
    o.safety_backup = !cmd_has_flag(ctx, "no-safety-backup");
    o.force_secrets_key = cmd_has_flag(ctx, "force");
    o.now = backup_clock();
    if (ctx->cfg.database_url_defaulted)
        log_info("DATABASE_URL is not set: using the default '%s'", url_redacted(&ctx->cfg.db));
    backup_cmd_catch_signals();
    o.cancel = backup_cmd_cancel_flag();
    o.confirm = confirm;
    o.confirm_arg = &cc;
    if (ctx->tty && !ctx->json) {
        o.progress = progress;
        o.progress_arg = &total;
    }

    rc = backup_restore(&o, &r, &e);
    progress_end();
    if (rc < 0) {
        if (ctx->json) {
            json_t *root = json_object();
            json_t *eo = json_object();
            json_object_set_new(root, "ok", json_false());
            json_object_set_new(eo, "code", json_string(err_name(e.code)));
            json_object_set_new(eo, "message", json_string(e.msg));
            json_object_set_new(eo, "exit_status", json_integer(err_exit_status(e.code)));
            json_object_set_new(root, "error", eo);
            backup_cmd_print_json(root);
        }
        backup_restore_result_release(&r);
        /* A cancelled or refused restore is the operator's choice, not a failure. */
        if (e.code != ERR_RESTORE_REFUSED && e.code != ERR_LOCKED)
            backup_alert(&ctx->cfg, "restore failed", &e);
        return cmd_fail(&e);
    }
    if (ctx->json) {
        json_t *root = json_object();
        json_t *rows = json_object();
        for (int i = 0; i < 3; i++) {
            json_t *p = json_object();
            json_object_set_new(p, "backup",
                                json_integer(manifest_rows(&r.m, backup_restore_counted[i])));
            json_object_set_new(p, "now", json_integer(r.rows_after[i]));
            json_object_set_new(rows, backup_restore_counted[i], p);
        }
        json_object_set_new(root, "ok", json_true());
        json_object_set_new(root, "file", json_string(file));
        json_object_set_new(root, "database", json_string(url_redacted(&ctx->cfg.db)));
        json_object_set_new(root, "prerestore",
                            r.prerestore != NULL ? json_string(r.prerestore) : json_null());
        json_object_set_new(root, "migrations_applied", json_integer(r.migrations_applied));
        json_object_set_new(root, "schema_version",
                            r.schema_version ? json_string(r.schema_version) : json_null());
        json_object_set_new(root, "rows", rows);
        json_object_set_new(root, "seconds", json_real(r.seconds));
        backup_cmd_print_json(root);
    } else {
        if (r.prerestore != NULL)
            printf("prerestore backup: %s\n", r.prerestore);
        printf("restored %s into %s in %.1f s; migrate deploy applied %d migration%s\n", file,
               url_redacted(&ctx->cfg.db), r.seconds, r.migrations_applied,
               r.migrations_applied == 1 ? "" : "s");
        printf("%-14s %10s %10s\n", "table", "backup", "now");
        for (int i = 0; i < 3; i++)
            printf("%-14s %10lld %10lld\n", backup_restore_counted[i],
                   (long long)manifest_rows(&r.m, backup_restore_counted[i]),
                   (long long)r.rows_after[i]);
    }
    backup_restore_result_release(&r);
    return 0;
}
