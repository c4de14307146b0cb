/*
 * cmd/stats.c — `citaplanner stats [--json]`: database size, tables with
 * rows and sizes, connections (PostgreSQL) or files (SQLite), and the backup
 * volume.  The report is built by ops/stats.h (also GET /api/v1/admin/stats);
 * this file prints it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup/files.h"
#include "cmd/backup_cmds.h"
#include "cmd/cmd.h"
#include "common/util.h"
#include "ops/stats.h"

static const char stats_usage[] =
    "Usage: citaplanner stats [--json]\n"
    "\n"
    "Shows the database's size, every table with its rows and size, the open\n"
    "connections with their state and age (PostgreSQL) or the database, WAL and\n"
    "shared-memory file sizes (SQLite), and the backup volume: total, free, used\n"
    "by each tier, the newest backup of each tier and its age.\n"
    "--json prints one object; its shape is documented in src/ops/stats.h and\n"
    "the README.  CITAPLANNER_FAKE_NOW='YYYY-MM-DDTHH:MM:SS' replaces the clock\n"
    "(testing aid).\n";

static const char *bytes(char out[32], json_t *v)
{
    if (!json_is_integer(v))
        return "-";
    return backup_fmt_bytes(out, (uint64_t)json_integer_value(v));
}

static void age(char out[32], json_int_t s)
{
    if (s < 120)
        snprintf(out, 32, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(out, 32, "%lldm", (long long)(s / 60));
    else if (s < 72 * 3600)
        snprintf(out, 32, "%.1fh", (double)s / 3600);
    else
        snprintf(out, 32, "%.1fd", (double)s / 86400);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

static json_int_t num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void print_text(json_t *root)
{
    json_t *dbo = json_object_get(root, "database");
    json_t *bk = json_object_get(root, "backups");
    json_t *vol = json_object_get(bk, "volume");
    json_t *tiers = json_object_get(bk, "tiers");
    json_t *v;
    const char *k;
    size_t i;
    char a[32], b[32], c[32];

    printf("Database    %s (%s)\n", str(dbo, "url"), str(dbo, "server_version"));
    printf("Size        %s\n\n", bytes(a, json_object_get(dbo, "size_bytes")));
    printf("%-28s %12s %12s\n", "TABLE", "ROWS", "SIZE");
    json_array_foreach(json_object_get(dbo, "tables"), i, v)
    {
        printf("%-28s %11lld%s %12s\n", str(v, "name"), (long long)num(v, "rows"),
               json_is_true(json_object_get(v, "rows_estimated")) ? "~" : " ",
               bytes(a, json_object_get(v, "size_bytes")));
    }
    if (json_is_array(json_object_get(dbo, "connections"))) {
        printf("\n%-8s %-14s %-20s %-22s %-8s %s\n", "PID", "USER", "STATE", "CLIENT", "AGE",
               "APPLICATION");
        json_array_foreach(json_object_get(dbo, "connections"), i, v)
        {
            age(a, num(v, "age_seconds"));
            printf("%-8lld %-14s %-20s %-22s %-8s %s\n", (long long)num(v, "pid"), str(v, "user"),
                   str(v, "state")[0] ? str(v, "state") : "-", str(v, "client"), a,
                   str(v, "application"));
        }
    }
    if (json_is_object(json_object_get(dbo, "files"))) {
        json_t *f = json_object_get(dbo, "files");
        printf("\nFiles       %s: %s, WAL %s, shared memory %s\n", str(f, "path"),
               bytes(a, json_object_get(f, "database_bytes")),
               bytes(b, json_object_get(f, "wal_bytes")),
               bytes(c, json_object_get(f, "shm_bytes")));
    }

    printf("\nBackups     '%s'%s: %lld files, %s\n", str(bk, "dir"),
           json_is_true(json_object_get(bk, "exists")) ? "" : " (does not exist yet)",
           (long long)num(bk, "count"), bytes(a, json_object_get(bk, "size_bytes")));
    if (json_is_object(vol))
        printf("Volume      %s free of %s (%s used)\n",
               bytes(a, json_object_get(vol, "free_bytes")),
               bytes(b, json_object_get(vol, "total_bytes")),
               bytes(c, json_object_get(vol, "used_bytes")));
    printf("\n%-11s %5s %10s  %-45s %8s  %s\n", "TIER", "COUNT", "SIZE", "NEWEST", "AGE",
           "LAST RUN");
    json_object_foreach(tiers, k, v)
    {
        json_t *n = json_object_get(v, "newest");
        json_t *last = json_object_get(v, "last_run");
        char when[32] = "-";
        if (json_is_object(n))
            age(when, num(n, "age_seconds"));
        char run[300] = "-";
        if (json_is_object(last) && json_is_true(json_object_get(last, "ok")))
            snprintf(run, sizeof(run), "ok, %s", str(last, "time"));
        else if (json_is_object(last))
            snprintf(run, sizeof(run), "FAILED, %s: %.200s", str(last, "time"), str(last, "error"));
        printf("%-11s %5lld %10s  %-45s %8s  %s\n", k, (long long)num(v, "count"),
               bytes(a, json_object_get(v, "size_bytes")), json_is_object(n) ? str(n, "file") : "-",
               when, run);
    }
    v = json_object_get(bk, "newest_good");
    if (json_is_object(v)) {
        age(a, num(v, "age_seconds"));
        printf("\nNewest good backup: %s (%s old)%s\n", str(v, "path"), a,
               json_is_true(json_object_get(bk, "stale"))
                   ? ": STALE (older than BACKUP_MAX_AGE_HOURS)"
                   : "");
    } else {
        printf("\nNo good backup yet: run 'citaplanner backup'.\n");
    }
}

static int run_stats(struct cmd_ctx *ctx)
{
    struct db *db = NULL;
    json_t *root = NULL;
    struct err e;
    time_t now;
    int rc;

    err_clear(&e);
    now = backup_clock();
    rc = cmd_open_db(ctx, &db);
    if (rc != 0)
        return rc;
    if (ops_stats_collect(db, &ctx->cfg, now, &root, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (ctx->json) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s != NULL)
            printf("%s\n", s);
        free(s);
    } else {
        print_text(root);
    }

cleanup:
    json_decref(root);
    db_close(db);
    return rc;
}

static const struct cmd_flag stats_flags[] = {
    {NULL, false, NULL},
};

const struct cmd cmd_stats = {
    .name = "stats",
    .run = run_stats,
    .summary = "database size, tables, connections and backup volume use",
    .usage = stats_usage,
    .flags = stats_flags,
    .needs_db = true,
};
