/*
 * status — the archive's range and health (see status.h).
 */
#include "archive/status.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/pg_base.h"
#include "archive/pg_slot.h"
#include "archive/pg_wal.h"
#include "archive/sqlite_pitr.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"

const char *archive_health_name(enum archive_health h)
{
    static const char *const names[] = {"off", "ok", "lagging", "failing"};

    return names[h];
}

static char *sqlite_record_path(const char *backup_dir)
{
    return xasprintf("%s/.archive-sqlite.json", backup_dir);
}

void archive_sqlite_report(const char *backup_dir, struct archive_sqlite_report *r, int64_t now_ms,
                           bool ok)
{
    char *path, *text;
    json_t *o;
    struct err e;

    if (ok)
        r->ok_ms = now_ms;
    if (r->last_write_ms != 0 && ok == r->last_ok &&
        now_ms - r->last_write_ms < ARCHIVE_SQLITE_REPORT_S * 1000)
        return;
    r->last_write_ms = now_ms;
    r->last_ok = ok;
    o = json_pack("{s:i, s:I, s:I, s:b}", "format", 1, "time_ms", (json_int_t)now_ms, "ok_ms",
                  (json_int_t)r->ok_ms, "ok", ok);
    text = json_dumps(o, JSON_COMPACT);
    path = sqlite_record_path(backup_dir);
    err_clear(&e);
    if (file_write_atomic(path, text, strlen(text), 0600, ERR_BACKUP, &e) < 0)
        log_debug("archive: %s", e.msg);
    free(path);
    free(text);
    json_decref(o);
}

static void sqlite_status(const struct config *cfg, int64_t now_ms, struct archive_status *s)
{
    struct archive_sqlite_range r;
    struct err e;
    char *path = sqlite_record_path(cfg->backup_dir);
    json_t *o = json_load_file(path, 0, NULL);
    int64_t time_ms = json_integer_value(json_object_get(o, "time_ms"));
    int64_t ok_ms = json_integer_value(json_object_get(o, "ok_ms"));
    int64_t stale_ms = ARCHIVE_STALE_S * 1000 + 3 * (int64_t)cfg->archive_sqlite_interval_ms;

    s->kind = "sqlite";
    err_clear(&e);
    if (archive_sqlite_range(cfg->backup_dir, &r, &e) == 0 && r.any) {
        s->any = true;
        s->from_ms = r.from_ms;
        s->to_ms = r.to_ms;
        s->bases = r.generations;
        s->segments = r.segments;
    }
    s->reported = time_ms / 1000;
    if (!json_is_object(o)) {
        s->health = cfg->archive_sqlite ? ARCHIVE_HEALTH_FAILING : ARCHIVE_HEALTH_OFF;
        s->code = cfg->archive_sqlite ? "archive_stopped" : NULL;
    } else if (now_ms - time_ms > stale_ms) {
        s->health = ARCHIVE_HEALTH_FAILING;
        s->code = "archive_stopped";
    } else if (!json_is_true(json_object_get(o, "ok"))) {
        s->lag_s = (double)(now_ms - ok_ms) / 1000.0;
        s->health =
            s->lag_s > cfg->archive_max_lag_s ? ARCHIVE_HEALTH_FAILING : ARCHIVE_HEALTH_LAGGING;
        s->code = "archive_failed";
    } else {
        s->health = ARCHIVE_HEALTH_OK;
    }
    json_decref(o);
    free(path);
}

static void pg_status(const struct config *cfg, int64_t now_ms, struct archive_status *s)
{
    struct pg_base_list l;
    struct pg_slot_state st;
    struct err e;
    char *wal = xasprintf("%s/%s", cfg->backup_dir, ARCHIVE_PG_SUBDIR);
    char newest[40];
    int checked = 0;
    bool recorded = pg_slot_state_read(cfg->backup_dir, &st) == 0;
    time_t now = (time_t)(now_ms / 1000);

    s->kind = "postgresql";
    err_clear(&e);
    if (pg_base_list_load(cfg->backup_dir, &l, &e) == 0 && l.n > 0) {
        if (pg_wal_check_names(wal, l.v[0].start_wal, &checked, newest, &e) == 0 &&
            newest[0] != '\0') {
            char *part = xasprintf("%s/%s%s", wal, newest, strstr(newest, ".partial") ? "" : ".gz");
            struct stat sb;
            s->any = true;
            s->from_ms = (int64_t)l.v[0].finished * 1000;
            s->to_ms = (int64_t)(stat(part, &sb) == 0 ? sb.st_mtime : l.v[0].finished) * 1000;
            s->bases = l.n;
            s->segments = (uint64_t)checked;
            free(part);
        } else if (e.code != ERR_OK) {
            snprintf(s->problem, sizeof(s->problem), "%s", e.msg);
        }
    }
    s->reported = recorded ? st.time : 0;
    s->lag_s = recorded ? st.lag_s : 0;
    if (!cfg->archive_pg && !recorded) {
        s->health = ARCHIVE_HEALTH_OFF;
    } else if (!recorded ||
               (now - st.time > ARCHIVE_STALE_S && !pg_slot_base_running(cfg->backup_dir))) {
        s->health = ARCHIVE_HEALTH_FAILING;
        s->code = "archive_stopped";
    } else if (!st.exists) {
        s->health = ARCHIVE_HEALTH_FAILING;
        s->code = st.dropped ? "archive_slot_dropped" : "archive_stopped";
    } else if (!st.active) {
        s->health = ARCHIVE_HEALTH_FAILING;
        s->code = "archive_failed";
    } else if (st.lag_s > cfg->archive_max_lag_s) {
        s->health = ARCHIVE_HEALTH_LAGGING;
        s->code = "archive_lagging";
    } else {
        s->health = ARCHIVE_HEALTH_OK;
    }
    if (s->problem[0] != '\0' && s->health != ARCHIVE_HEALTH_OFF) {
        s->health = ARCHIVE_HEALTH_FAILING;
        s->code = "archive_broken";
    }
    pg_base_list_release(&l);
    free(wal);
}

void archive_status_read(const struct config *cfg, int64_t now_ms, struct archive_status *s)
{
    memset(s, 0, sizeof(*s));
    if (cfg->db.kind == URL_POSTGRES)
        pg_status(cfg, now_ms, s);
    else
        sqlite_status(cfg, now_ms, s);
}
