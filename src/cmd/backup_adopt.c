/*
 * cmd/backup_adopt.c — `backup adopt [FILE…] [--deep] [--json]`: make the
 * backups another tool made (the original CitaPlanner's pg_backup.sh: no
 * manifest, a sidecar naming an absolute path) ours, by writing our .sha256
 * and .json beside each once it verifies.  Without FILEs: every backup under
 * BACKUP_DIR that has no manifest.  --deep restores each into a scratch
 * database and records its row counts; without it the manifest has none.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/files.h"
#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/verify.h"
#include "backup/encrypt.h"
#include "backup/foreign.h"
#include "cmd/backup_cmds.h"
#include "common/log.h"
#include "common/util.h"

static int adopt_one(struct cmd_ctx *ctx, const char *path, bool deep, json_t *items)
{
    struct backup_verify_opts o;
    struct backup_verify_result r;
    struct backup_schema_scan schema;
    struct err e;
    const char *status = "adopted";
    int rc;

    memset(&o, 0, sizeof(o));
    err_clear(&e);
    backup_schema_scan_init(&schema);
    o.db = &ctx->cfg.db;
    o.deep = deep;
    o.cancel = backup_cmd_cancel_flag();
    o.identity = ctx->cfg.backup_decrypt_identity;
    o.content_sink = backup_schema_sink;
    o.content_arg = &schema;
    rc = backup_verify_file(&o, path, &r, &e);
    if (rc == 0 && !r.no_manifest) {
        status = "already ours";
    } else if (rc == 0) {
        rc = backup_adopt_write(path, &r, &schema, &e);
    }
    if (rc < 0)
        status = "FAILED";
    if (items != NULL) {
        json_t *it =
            json_pack("{s:s, s:b, s:s, s:s}", "file", path, "ok", rc == 0, "status", status,
                      "schema", backup_schema_name(backup_schema_scan_result(&schema)));
        if (rc < 0)
            json_object_set_new(it, "error", json_string(e.msg));
        json_object_set_new(it, "rows_counted", json_boolean(rc == 0 && r.deep_done));
        json_array_append_new(items, it);
    } else if (rc < 0) {
        printf("FAILED   %s: %s\n", path, e.msg);
    } else {
        printf("%-8s %s%s\n", strcmp(status, "adopted") == 0 ? "ADOPTED" : "OURS", path,
               strcmp(status, "adopted") != 0 ? " (already has our manifest)"
               : r.deep_done                  ? " (row counts from a scratch restore)"
                                              : " (no row counts: add --deep to record them)");
        if (backup_schema_scan_result(&schema) == BACKUP_SCHEMA_PRISMA)
            printf("         it holds the original CitaPlanner's schema: restore refuses it; "
                   "'citaplanner import --from-backup %s' brings its data over\n",
                   path);
    }
    if (rc == 0 && strcmp(status, "adopted") == 0)
        log_info("adopt: '%s' now has our checksum file and manifest", path);
    backup_schema_scan_release(&schema);
    backup_verify_result_release(&r);
    return rc < 0 ? (e.code == ERR_VERIFY ? 1 : -1) : 0;
}

int backup_cmd_adopt(struct cmd_ctx *ctx, int nfiles, char **files)
{
    struct backup_list l = {0};
    struct backup_lock *lock = NULL;
    struct err e;
    json_t *items = ctx->json ? json_array() : NULL;
    bool deep = cmd_has_flag(ctx, "deep");
    int n = 0, adopted = 0, damaged = 0, other = 0;
    int status = 0;

    err_clear(&e);
    if (backup_dir_prepare(ctx->cfg.backup_dir, &e) < 0 ||
        backup_lock_acquire(ctx->cfg.backup_dir, &lock, &e) < 0)
        goto fail;
    if (nfiles == 0 && backup_list_load(ctx->cfg.backup_dir, &l, &e) < 0)
        goto fail;
    backup_cmd_catch_signals();
    for (int i = 0; i < (nfiles > 0 ? nfiles : l.count); i++) {
        const char *p = nfiles > 0 ? files[i] : l.items[i].path;
        int rc;
        if (nfiles == 0 && l.items[i].has_manifest)
            continue;
        n++;
        rc = adopt_one(ctx, p, deep, items);
        if (rc == 0)
            adopted++;
        else if (rc == 1)
            damaged++;
        else
            other++;
        if (*backup_cmd_cancel_flag() != 0)
            break;
    }
    if (ctx->json) {
        json_t *root = json_pack("{s:b, s:i, s:i, s:O}", "ok", damaged + other == 0, "count", n,
                                 "failed", damaged + other, "results", items);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    } else if (n == 0) {
        printf("no backup without a manifest in '%s'\n", ctx->cfg.backup_dir);
    } else {
        printf("%d backup%s examined: %d adopted or already ours, %d FAILED\n", n,
               n == 1 ? "" : "s", adopted, damaged + other);
    }
    if (damaged > 0)
        status = err_exit_status(ERR_VERIFY);
    else if (other > 0)
        status = err_exit_status(ERR_BACKUP);
    json_decref(items);
    backup_lock_release(lock);
    backup_list_release(&l);
    return status;

fail:
    json_decref(items);
    backup_lock_release(lock);
    backup_list_release(&l);
    return cmd_fail(&e);
}
