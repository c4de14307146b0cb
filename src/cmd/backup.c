/*
 * cmd/backup.c — `citaplanner backup`: take one backup now, list, prune;
 * verify and restore are parsed here and run in backup_verify_restore.c.
 *
 * The guide's spellings (`./scripts/pg_backup.sh`, `--verify-only`,
 * `--restore FILE`) are accepted beside the sub-commands.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/sqlite_wal.h"
#include "archive/status.h"
#include "backup/files.h"
#include "backup/layout.h"
#include "backup/rotate.h"
#include "backup/take.h"
#include "backup/report.h"
#include "backup/remote.h"
#include "backup/foreign.h"
#include "cmd/backup_cmds.h"
#include "common/log.h"
#include "common/util.h"

static const struct cmd_flag backup_flags[] = {
    {"tier", true, "take: auto (default), daily, weekly, monthly, premigrate or prerestore"},
    {"dry-run", false, "prune: show what would be deleted, delete nothing"},
    {"verify-only", false, "same as 'backup verify' (the guide's spelling)"},
    {"deep", false, "verify, adopt: also restore each backup into a scratch database"},
    {"restore", true, "same as 'backup restore FILE' (the guide's spelling)"},
    {"yes", false, "restore: do not ask for confirmation"},
    {"no-safety-backup", false, "restore: do not take a prerestore backup first"},
    {"force", false, "restore: replace a different SECRETS_KEY_FILE with the backup's"},
    {"to-time", true, "restore: the archive's state at 'YYYY-MM-DD HH:MM:SS'"},
    {"to-latest", false, "restore: the archive's newest state"},
    {"to-lsn", true, "restore: up to this WAL position (PostgreSQL)"},
    {"to-xid", true, "restore: up to this transaction's commit (PostgreSQL)"},
    {"check", false, "verify: also restore the PostgreSQL archive into a throwaway server"},
    {"pgdata", true, "restore --to-*: the new data directory to restore into (PostgreSQL)"},
    {"tz", true, "restore --to-time: the zone of the time (default: this machine's)"},
    {"output", true, "restore --to-*: write a new database file instead (SQLite)"},
    {NULL, false, NULL},
};

static const char backup_usage[] =
    "Usage: citaplanner backup [take] [--tier auto|daily|weekly|monthly]\n"
    "       citaplanner backup list [--json]\n"
    "       citaplanner backup prune [--dry-run] [--json]\n"
    "       citaplanner backup verify [FILE...] [--deep] [--json]\n"
    "                                  (or: backup --verify-only [FILE...])\n"
    "       citaplanner backup restore FILE [--yes] [--no-safety-backup] [--force] [--json]\n"
    "                                  (or: backup --restore FILE)\n"
    "       citaplanner backup adopt [FILE...] [--deep] [--json]\n"
    "       citaplanner backup base                (PostgreSQL: a base backup for the archive)\n"
    "       citaplanner backup restore --to-time 'YYYY-MM-DD HH:MM:SS' [--tz ZONE] | --to-latest\n"
    "                                  [--output FILE | --pgdata DIR]  (point in time, archive)\n"
    "\n"
    "take (the default) dumps the database once into BACKUP_DIR/<tier>/ as\n"
    "citaplanner_<tier>_YYYYMMDD_HHMMSS.sql.gz (PostgreSQL) or .sqlite.gz (SQLite),\n"
    "with a .sha256 (for sha256sum -c) and a .json manifest.  --tier auto writes the\n"
    "daily tier, plus weekly on BACKUP_WEEKLY_DAY and monthly on BACKUP_MONTHLY_DAY\n"
    "(hard links to the same file).  Then rotation keeps the newest BACKUP_KEEP_*\n"
    "of each tier (3 of premigrate and prerestore).  Each run appends to\n"
    "BACKUP_DIR/logs/backup_YYYYMMDD.log.\n"
    "\n"
    "list shows every backup with its tier, time, size, whether its .sha256 and\n"
    ".json are present, and where it is (local, mirror, s3).  prune runs rotation\n"
    "alone.\n"
    "\n"
    "Off the machine: after each take, BACKUP_MIRROR_DIR and BACKUP_S3_URL get a\n"
    "verified copy of every backup they lack, rotated the same way; a remote that\n"
    "fails never fails the take (alert, retried next run).  BACKUP_ENCRYPT_RECIPIENT\n"
    "(an age public key) encrypts backups (.gz.age); verify --deep and restore\n"
    "decrypt with BACKUP_DECRYPT_IDENTITY.  verify and restore accept\n"
    "s3://BUCKET/KEY (downloaded to TMPDIR, verified, used, removed).\n"
    "\n"
    "verify checks every backup (or the FILEs): the .sha256 matches, the gzip stream\n"
    "decodes to its end, the dump is complete (SQLite: integrity_check), the manifest\n"
    "agrees; one line per file, it goes on after a failure, exit 6 if any is damaged.\n"
    "--deep also restores each into a scratch database (dropped afterwards) and\n"
    "compares every table's row count with the manifest.  A backup made by another\n"
    "tool (no manifest; its .sha256 may name an absolute path) is verified by its\n"
    "content and reported 'verified, no manifest (made by another tool)'.\n"
    "\n"
    "adopt writes our .sha256 and .json beside such backups (every one in BACKUP_DIR\n"
    "without a manifest, or the FILEs) once they verify; --deep records row counts.\n"
    "\n"
    "restore shows the target, the backup, its date and row counts, and asks you to\n"
    "type SI (--yes skips the question; without a terminal and without --yes it\n"
    "refuses, exit 7).  It verifies the backup first, takes a prerestore backup\n"
    "(unless --no-safety-backup), replaces the data atomically (all or nothing),\n"
    "runs migrate deploy and prints users, appointments and clients beside the\n"
    "backup's counts.  An encrypted backup carries SECRETS_KEY_FILE (encrypted): it\n"
    "is put back when there is none, and a different one is replaced only with --force.\n"
    "\n"
    "PostgreSQL's archive (citaplanner archive, ARCHIVE=on): base makes a base backup\n"
    "(pg_basebackup, checked with pg_verifybackup) then applies the retention;\n"
    "restore --to-time/--to-latest/--to-lsn/--to-xid --pgdata DIR extracts the newest\n"
    "base before the target into the new or empty DIR, checks the WAL chain, writes\n"
    "recovery.signal and restore_command (citaplanner wal-fetch) and prints how to\n"
    "start PostgreSQL on it; verify checks the chain from every base, and --check\n"
    "also restores the archive into a throwaway server and compares row counts.\n"
    "\n"
    "Testing aid: CITAPLANNER_FAKE_NOW='YYYY-MM-DDTHH:MM:SS' (local time) replaces the\n"
    "clock of take (names, tiers, log file).  PG_DUMP names the pg_dump to run.\n";

/* ---- take ---- */

static json_t *tiers_json(unsigned tiers)
{
    json_t *a = json_array();

    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        if (tiers & (1u << t))
            json_array_append_new(a, json_string(backup_tier_name((enum backup_tier)t)));
    return a;
}

/* --json on failure: the error as an object on stdout (the message goes to stderr too). */
static int fail_json(struct cmd_ctx *ctx, const struct err *e)
{
    if (ctx->json) {
        json_t *o = json_object();
        json_t *eo = json_object();
        json_object_set_new(o, "ok", json_false());
        json_object_set_new(eo, "code", json_string(err_name(e->code)));
        json_object_set_new(eo, "message", json_string(e->msg));
        json_object_set_new(eo, "exit_status", json_integer(err_exit_status(e->code)));
        json_object_set_new(o, "error", eo);
        backup_cmd_print_json(o);
    }
    return cmd_fail(e);
}

static int run_take(struct cmd_ctx *ctx)
{
    struct backup_opts o;
    struct backup_result r;
    struct err e;
    const char *tier = cmd_flag(ctx, "tier");
    int rc;

    memset(&o, 0, sizeof(o));
    err_clear(&e);
    o.cfg = &ctx->cfg;
    o.db = &ctx->cfg.db;
    o.tier = BACKUP_TIER_AUTO;
    o.rotate = true;
    if (tier != NULL && strcmp(tier, "auto") != 0) {
        enum backup_tier t;
        if (backup_tier_parse(tier, &t) < 0)
            return cmd_usage_error(ctx,
                                   "invalid --tier '%s': use auto, daily, weekly, monthly, "
                                   "premigrate or prerestore",
                                   tier);
        o.tier = (int)t;
    }
    o.now = backup_clock();
    if (ctx->cfg.database_url_defaulted)
        log_info("DATABASE_URL is not set: using the default '%s'", url_redacted(&ctx->cfg.db));
    backup_cmd_catch_signals();
    o.cancel = backup_cmd_cancel_flag();
    if (ctx->tty && !ctx->json)
        o.progress = backup_cmd_progress;

    rc = backup_take(&o, &r, &e);
    backup_cmd_progress_end();
    if (rc < 0) {
        backup_result_release(&r);
        return fail_json(ctx, &e);
    }
    if (ctx->json) {
        json_t *root = json_object();
        json_t *files = json_object();
        json_t *bytes = json_object();
        for (int t = 0; t < BACKUP_TIER_COUNT; t++)
            if (r.files[t] != NULL)
                json_object_set_new(files, backup_tier_name((enum backup_tier)t),
                                    json_string(r.files[t]));
        json_object_set_new(bytes, "uncompressed", json_integer((json_int_t)r.raw_bytes));
        json_object_set_new(bytes, "compressed", json_integer((json_int_t)r.gz_bytes));
        json_object_set_new(root, "ok", json_true());
        json_object_set_new(root, "database",
                            json_string(r.kind == DB_PG ? "postgresql" : "sqlite"));
        json_object_set_new(root, "tiers", tiers_json(r.tiers));
        json_object_set_new(root, "files", files);
        json_object_set_new(root, "bytes", bytes);
        json_object_set_new(root, "sha256", json_string(r.sha256));
        json_object_set_new(root, "seconds", json_real(r.seconds));
        json_object_set_new(root, "rotated", json_integer(r.rotated));
        backup_cmd_print_json(root);
    } else {
        char a[32], b[32];
        bool first = true;
        for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
            if (r.files[t] == NULL)
                continue;
            printf("%s %s\n", first ? "backup written:" : "         also:", r.files[t]);
            first = false;
        }
        printf("%s compressed from %s in %.1f s; sha256 %s\n", backup_fmt_bytes(a, r.gz_bytes),
               backup_fmt_bytes(b, r.raw_bytes), r.seconds, r.sha256);
        if (r.rotated > 0)
            printf("rotation deleted %d old backup%s\n", r.rotated, r.rotated == 1 ? "" : "s");
    }
    backup_result_release(&r);
    return 0;
}

/* ---- list ---- */

/* "local", "local+mirror": where a backup is (issue 10). */
static const char *entry_locations(const struct backup_entry *it)
{
    struct backup_locations loc;

    backup_locations_load(it->path, &loc);
    if (loc.mirror && loc.s3)
        return "local+mirror+s3";
    return loc.mirror ? "local+mirror" : loc.s3 ? "local+s3" : "local";
}

/* The archive's range and health (archive/status.h, as the admin API shows them). */
static void archive_list(struct cmd_ctx *ctx)
{
    struct archive_status s;
    char from[40], to[40];
    int64_t now = wal_now_ms();
    bool pg = ctx->cfg.db.kind == URL_POSTGRES;

    archive_status_read(&ctx->cfg, now, &s);
    if (s.any) {
        wal_fmt_ms(s.from_ms, from);
        wal_fmt_ms(s.to_ms, to);
        printf("archive: recoverable to any moment from %s to %s (%lld s ago); %d %s%s, %llu %s\n",
               from, to, (long long)((now - s.to_ms) / 1000), s.bases,
               pg ? "base backup" : "generation", s.bases == 1 ? "" : "s",
               (unsigned long long)s.segments, pg ? "WAL segments" : "segments");
    }
    if (s.health == ARCHIVE_HEALTH_OFF && !s.any)
        return;
    printf("archive health: %s", archive_health_name(s.health));
    if (s.code != NULL)
        printf(" (%s)", s.code);
    if (s.reported > 0)
        printf("; the archiver last reported %lld s ago, %.0f s behind (ARCHIVE_MAX_LAG %d s)",
               (long long)(now / 1000 - s.reported), s.lag_s, ctx->cfg.archive_max_lag_s);
    printf("\n");
    if (s.problem[0] != '\0')
        printf("archive: %s\n", s.problem);
}

static int run_list(struct cmd_ctx *ctx)
{
    struct backup_list l = {0};
    struct err e;
    int rc;

    err_clear(&e);
    rc = backup_list_load(ctx->cfg.backup_dir, &l, &e);
    if (rc < 0) {
        backup_list_release(&l);
        return fail_json(ctx, &e);
    }
    if (ctx->json) {
        backup_cmd_print_json(backup_list_json(&ctx->cfg, &l));
    } else if (l.count == 0) {
        printf("no backups in '%s'\n", ctx->cfg.backup_dir);
    } else {
        printf("%-10s  %-19s  %10s  %-6s  %-8s  %-11s  %-12s  %s\n", "TIER", "TIME", "SIZE",
               "SHA256", "MANIFEST", "ORIGIN", "LOCATIONS", "FILE");
        for (int i = 0; i < l.count; i++) {
            const struct backup_entry *it = &l.items[i];
            char when[32], sz[32];
            backup_entry_time(when, it);
            when[10] = ' ';
            printf("%-10s  %-19s  %10s  %-6s  %-8s  %-11s  %-12s  %s\n", backup_tier_name(it->tier),
                   when, backup_fmt_bytes(sz, (uint64_t)it->size),
                   it->has_sha256 ? "yes" : "MISSING", it->has_manifest ? "yes" : "MISSING",
                   backup_entry_origin(it), entry_locations(it), it->path);
        }
        printf("%d backup%s in '%s'\n", l.count, l.count == 1 ? "" : "s", ctx->cfg.backup_dir);
    }
    if (!ctx->json)
        archive_list(ctx);
    backup_list_release(&l);
    return 0;
}

/* ---- prune ---- */

static int run_prune(struct cmd_ctx *ctx)
{
    struct backup_list v = {0};
    struct err e;
    bool dry = cmd_has_flag(ctx, "dry-run");
    int rc;

    err_clear(&e);
    rc = backup_prune(&ctx->cfg, dry, &v, &e);
    if (rc < 0) {
        backup_list_release(&v);
        return fail_json(ctx, &e);
    }
    if (ctx->json) {
        json_t *root = json_object();
        json_t *items = json_array();
        for (int i = 0; i < v.count; i++)
            json_array_append_new(items, backup_entry_json(NULL, &v.items[i]));
        json_object_set_new(root, "ok", json_true());
        json_object_set_new(root, "dry_run", json_boolean(dry));
        json_object_set_new(root, "count", json_integer(v.count));
        json_object_set_new(root, dry ? "would_delete" : "deleted", items);
        backup_cmd_print_json(root);
    } else {
        for (int i = 0; i < v.count; i++)
            printf("%s %s\n", dry ? "would delete" : "deleted", v.items[i].path);
        printf("%d backup%s %s\n", v.count, v.count == 1 ? "" : "s",
               dry ? "would be deleted (dry run)" : "deleted");
    }
    backup_list_release(&v);
    return 0;
}

/* ---- dispatch ---- */

/*
 * verify / restore of remote backups ("s3://BUCKET/KEY"): each is downloaded
 * (with its sidecars) into a private temporary directory, and the local copy
 * is what is verified or restored; removed afterwards.
 */
struct fetched {
    char **files; /* the arguments, remote ones replaced by their local copies */
    char **dirs, **paths;
    int n;
};

static int fetch_remote_args(struct cmd_ctx *ctx, int n, char **in, struct fetched *f)
{
    const char *tmp = ctx->cfg.tmp_dir;
    struct err e;

    memset(f, 0, sizeof(*f));
    f->n = n;
    f->files = xcalloc((size_t)n + 1, sizeof(char *));
    f->dirs = xcalloc((size_t)n + 1, sizeof(char *));
    f->paths = xcalloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) {
        f->files[i] = in[i];
        if (!backup_remote_is_url(in[i]))
            continue;
        err_clear(&e);
        if (backup_remote_fetch(&ctx->cfg, in[i], tmp, &f->dirs[i], &f->paths[i], &e) < 0)
            return fail_json(ctx, &e);
        f->files[i] = f->paths[i];
    }
    return 0;
}

static void fetched_release(struct fetched *f)
{
    for (int i = 0; i < f->n; i++)
        backup_remote_fetch_cleanup(f->dirs[i], f->paths[i]);
    free(f->files);
    free(f->dirs);
    free(f->paths);
    memset(f, 0, sizeof(*f));
}

static int verify_files(struct cmd_ctx *ctx, int n, char **files)
{
    struct fetched f;
    int rc = fetch_remote_args(ctx, n, files, &f);

    if (rc == 0)
        rc = backup_cmd_verify(ctx, n, f.files);
    fetched_release(&f);
    if (n == 0) {
        int arc = ctx->cfg.db.kind == URL_SQLITE ? backup_cmd_archive_verify_sqlite(ctx)
                                                 : backup_cmd_archive_verify_pg(ctx);
        rc = rc != 0 ? rc : arc;
    }
    return rc;
}

static int restore_file(struct cmd_ctx *ctx, const char *file)
{
    struct fetched f;
    char *one[1] = {(char *)file};
    int rc = fetch_remote_args(ctx, 1, one, &f);

    if (rc == 0)
        rc = backup_cmd_restore(ctx, f.files[0]);
    fetched_release(&f);
    return rc;
}

static int run_backup(struct cmd_ctx *ctx)
{
    const char *sub = ctx->args.npos > 0 ? ctx->args.pos[0] : NULL;
    const char *restore = cmd_flag(ctx, "restore");

    log_set_context("backup");
    if (cmd_has_flag(ctx, "verify-only")) {
        if (restore != NULL)
            return cmd_usage_error(ctx, "--verify-only and --restore cannot be combined");
        return verify_files(ctx, ctx->args.npos, ctx->args.pos);
    }
    if (restore != NULL) {
        if (ctx->args.npos > 0)
            return cmd_usage_error(ctx, "unexpected argument '%s' after --restore FILE", sub);
        return restore_file(ctx, restore);
    }
    if (sub != NULL && strcmp(sub, "verify") == 0)
        return verify_files(ctx, ctx->args.npos - 1, ctx->args.pos + 1);
    if (sub != NULL && strcmp(sub, "adopt") == 0)
        return backup_cmd_adopt(ctx, ctx->args.npos - 1, ctx->args.pos + 1);
    bool pitr = cmd_has_flag(ctx, "to-time") || cmd_has_flag(ctx, "to-latest") ||
                cmd_has_flag(ctx, "to-lsn") || cmd_has_flag(ctx, "to-xid");
    if (sub != NULL && strcmp(sub, "restore") == 0 && pitr)
        return ctx->cfg.db.kind == URL_SQLITE ? backup_cmd_pitr_sqlite(ctx)
                                              : backup_cmd_pitr_pg(ctx);
    if (sub != NULL && strcmp(sub, "base") == 0 && ctx->args.npos == 1)
        return backup_cmd_base_pg(ctx);
    if (sub != NULL && strcmp(sub, "restore") == 0) {
        if (ctx->args.npos != 2)
            return cmd_usage_error(ctx, "'backup restore' takes exactly one FILE");
        return restore_file(ctx, ctx->args.pos[1]);
    }
    if (ctx->args.npos > 1)
        return cmd_usage_error(ctx, "unexpected argument '%s'", ctx->args.pos[1]);
    if (sub == NULL || strcmp(sub, "take") == 0)
        return run_take(ctx);
    if (strcmp(sub, "list") == 0)
        return run_list(ctx);
    if (strcmp(sub, "prune") == 0)
        return run_prune(ctx);
    return cmd_usage_error(
        ctx, "unknown sub-command '%s' (take, list, prune, verify, restore, adopt, base)", sub);
}

const struct cmd cmd_backup = {
    .name = "backup",
    .run = run_backup,
    .summary = "take a backup now, or list, prune, verify and restore backups",
    .usage = backup_usage,
    .flags = backup_flags,
    .needs_db = true,
};
