/*
 * report — the JSON of a backup and of a verification, and the verify-all
 * loop (see report.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/report.h"
#include "backup/alert.h"
#include "backup/verify.h"
#include "backup/verify_results.h"
#include "backup/encrypt.h"
#include "backup/remote.h"
#include "backup/foreign.h"
#include "common/log.h"
#include "common/util.h"

/* YYYYMMDDHHMMSS -> "YYYY-MM-DDTHH:MM:SS". */
static void stamp_text(char out[32], int64_t s)
{
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d", (int)(s / 10000000000LL),
             (int)(s / 100000000 % 100), (int)(s / 1000000 % 100), (int)(s / 10000 % 100),
             (int)(s / 100 % 100), (int)(s % 100));
}

void backup_entry_time(char out[32], const struct backup_entry *it)
{
    stamp_text(out, it->stamp);
}

static bool configured(const char *s)
{
    return s != NULL && s[0] != '\0';
}

json_t *backup_entry_json(const struct config *cfg, const struct backup_entry *it)
{
    json_t *o = json_object();
    char when[32];
    struct backup_locations loc;

    stamp_text(when, it->stamp);
    json_object_set_new(o, "tier", json_string(backup_tier_name(it->tier)));
    json_object_set_new(o, "file", json_string(it->name));
    json_object_set_new(o, "path", json_string(it->path));
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "format", json_string(it->format == BACKUP_FMT_SQL ? "sql" : "sqlite"));
    json_object_set_new(o, "size", json_integer(it->size));
    json_object_set_new(o, "has_sha256", json_boolean(it->has_sha256));
    json_object_set_new(o, "has_manifest", json_boolean(it->has_manifest));
    json_object_set_new(o, "origin", json_string(backup_entry_origin(it)));
    /* Only where they say something, so that older readers see the same objects. */
    backup_locations_load(it->path, &loc);
    if (cfg != NULL && (loc.mirror || loc.s3 || configured(cfg->backup_mirror_dir) ||
                        configured(cfg->backup_s3_url))) {
        json_t *where = json_array();
        json_array_append_new(where, json_string("local"));
        if (loc.mirror)
            json_array_append_new(where, json_string("mirror"));
        if (loc.s3)
            json_array_append_new(where, json_string("s3"));
        json_object_set_new(o, "locations", where);
    }
    if (backup_name_encrypted(it->name))
        json_object_set_new(o, "encrypted", json_true());
    return o;
}

json_t *backup_list_json(const struct config *cfg, const struct backup_list *l)
{
    json_t *root = json_object();
    json_t *items = json_array();
    json_t *counts = json_object();
    int per[BACKUP_TIER_COUNT] = {0};

    for (int i = 0; i < l->count; i++) {
        json_array_append_new(items, backup_entry_json(cfg, &l->items[i]));
        per[l->items[i].tier]++;
    }
    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        json_object_set_new(counts, backup_tier_name((enum backup_tier)t), json_integer(per[t]));
    json_object_set_new(root, "backup_dir", json_string(cfg->backup_dir));
    json_object_set_new(root, "count", json_integer(l->count));
    json_object_set_new(root, "tiers", counts);
    json_object_set_new(root, "backups", items);
    return root;
}

json_t *backup_verify_result_json(const char *path, bool file_is_name,
                                  const struct backup_verify_result *r, int rc, const struct err *e,
                                  bool deep)
{
    json_t *o = json_object();
    json_t *bytes = json_object();
    const char *name = path_base(path);
    enum backup_tier tier;

    json_object_set_new(o, "file", json_string(file_is_name ? name : path));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "path", json_string(path));
    json_object_set_new(o, "tier",
                        backup_name_parse(name, &tier, NULL, NULL) == 0
                            ? json_string(backup_tier_name(tier))
                            : json_null());
    json_object_set_new(o, "ok", json_boolean(rc == 0));
    if (rc < 0) {
        json_object_set_new(o, "error", json_string(e->msg));
        json_object_set_new(o, "code", json_string(err_name(e->code)));
    }
    json_object_set_new(o, "format",
                        json_string(r->format == BACKUP_FMT_SQLITE ? "sqlite" : "sql"));
    json_object_set_new(bytes, "compressed", json_integer((json_int_t)r->gz_bytes));
    json_object_set_new(bytes, "uncompressed", json_integer((json_int_t)r->raw_bytes));
    json_object_set_new(o, "bytes", bytes);
    json_object_set_new(o, "gzip_members", json_integer(r->members));
    json_object_set_new(o, "sha256", r->sha256[0] ? json_string(r->sha256) : json_null());
    json_object_set_new(o, "deep", json_boolean(deep && r->deep_done));
    json_object_set_new(o, "manifest", json_boolean(r->has_manifest));
    json_object_set_new(o, "origin",
                        json_string(r->no_manifest                   ? "other tool"
                                    : r->has_manifest && r->m.origin ? r->m.origin
                                                                     : "citaplanner"));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    return o;
}

json_t *backup_verify_summary_json(const struct backup_verify_summary *s, bool deep)
{
    return json_pack("{s:b, s:b, s:i, s:i, s:i, s:i, s:O}", "ok", s->failed == 0, "deep", deep,
                     "count", s->count, "checked", s->count, "passed", s->passed, "failed",
                     s->failed, "results", s->results);
}

void backup_verify_summary_release(struct backup_verify_summary *s)
{
    if (s == NULL)
        return;
    json_decref(s->results);
    memset(s, 0, sizeof(*s));
}

int backup_verify_many(const struct backup_verify_many_opts *o, struct backup_verify_summary *s,
                       struct err *e)
{
    struct backup_list l = {0};
    const char **paths = NULL, **failed = NULL;
    int n = 0, nfailed = 0, rc = 0;

    memset(s, 0, sizeof(*s));
    s->results = json_array();
    if (o->paths != NULL) {
        paths = xcalloc((size_t)o->npaths + 1, sizeof(*paths));
        for (int i = 0; i < o->npaths; i++)
            paths[n++] = o->paths[i];
    } else {
        rc = backup_list_load(o->cfg->backup_dir, &l, e);
        if (rc < 0)
            goto cleanup;
        paths = xcalloc((size_t)l.count + 1, sizeof(*paths));
        for (int i = 0; i < l.count; i++)
            paths[n++] = l.items[i].path;
    }
    failed = xcalloc((size_t)n + 1, sizeof(*failed));

    for (int i = 0; i < n; i++) {
        struct backup_verify_result r;
        struct backup_verify_opts vo;
        struct err ve;
        int vrc;

        memset(&vo, 0, sizeof(vo));
        memset(&r, 0, sizeof(r));
        vo.db = &o->cfg->db;
        vo.deep = o->deep;
        vo.cancel = o->cancel;
        vo.identity = o->cfg->backup_decrypt_identity;
        if (o->before != NULL)
            o->before(o->arg, paths[i], &vo);
        err_clear(&ve);
        vrc = backup_verify_file(&vo, paths[i], &r, &ve);
        s->count++;
        if (vrc == 0) {
            s->passed++;
            log_info("verify: '%s' OK", paths[i]);
        } else {
            s->failed++;
            failed[nfailed++] = path_base(paths[i]);
            log_error("verify: '%s' FAILED: %s", paths[i], ve.msg);
            if (ve.code == ERR_VERIFY)
                s->damaged++;
            else if (s->other_status == 0)
                s->other_status = err_exit_status(ve.code);
        }
        json_array_append_new(s->results, backup_verify_result_json(paths[i], o->file_is_name, &r,
                                                                    vrc, &ve, o->deep));
        if (o->after != NULL)
            o->after(o->arg, paths[i], &r, vrc, &ve);
        backup_verify_result_release(&r);
        if (o->cancel != NULL && *o->cancel != 0 && i + 1 < n) {
            s->cancelled = true;
            s->count += n - i - 1;
            s->failed += n - i - 1;
            break;
        }
    }
    /* What /metrics, stats and doctor report. */
    backup_state_record_verify(o->cfg->backup_dir, time(NULL), s->count, s->failed, failed,
                               nfailed);
    /* What the master's page shows after a reload. */
    backup_verify_results_record(o->cfg->backup_dir, time(NULL), s->results, s->passed, s->damaged,
                                 s->failed);
    /* The one alert rule: a backup found damaged. */
    if (s->damaged > 0) {
        struct backup_alert_facts af;
        char msg[512];

        snprintf(msg, sizeof(msg), "%d of %d backups failed verification (first: '%s')", s->damaged,
                 s->count, nfailed > 0 ? failed[0] : "?");
        memset(&af, 0, sizeof(af));
        af.event = "verify_failed";
        af.message = msg;
        af.started = o->started;
        backup_alert_send(o->cfg, &af);
    }

cleanup:
    free(failed);
    free(paths);
    backup_list_release(&l);
    return rc;
}
