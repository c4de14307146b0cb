/* ops/backups — see backups.h. */
#include "backup/alert.h"
#include "backup/manifest.h"
#include "ops/backups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/util.h"

/* Re-send a stale alert for the same newest backup after this long. */
#define STALE_REALERT_S (24 * 3600)

void ops_utc_stamp(char out[32], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "2025-01-09T08:00:00Z" -> epoch; -1 when malformed. */
static time_t parse_utc(const char *s)
{
    struct tm tm;
    char *end;

    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    return timegm(&tm);
}

/* The local time YYYYMMDDHHMMSS of a name as an epoch (TZ applies). */
static time_t stamp_epoch(int64_t stamp)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_sec = (int)(stamp % 100);
    tm.tm_min = (int)(stamp / 100 % 100);
    tm.tm_hour = (int)(stamp / 10000 % 100);
    tm.tm_mday = (int)(stamp / 1000000 % 100);
    tm.tm_mon = (int)(stamp / 100000000 % 100) - 1;
    tm.tm_year = (int)(stamp / 10000000000LL) - 1900;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static void ref_release(struct ops_backup_ref *r)
{
    free(r->file);
    free(r->path);
    memset(r, 0, sizeof(*r));
}

static void ref_copy(struct ops_backup_ref *dst, const struct ops_backup_ref *src)
{
    *dst = *src;
    dst->file = src->file != NULL ? xstrdup(src->file) : NULL;
    dst->path = src->path != NULL ? xstrdup(src->path) : NULL;
}

/* Fill r from a list entry, reading its manifest when it has one. */
static void ref_from_entry(struct ops_backup_ref *r, const struct backup_entry *it)
{
    struct backup_manifest m;
    struct err e;
    char *mpath;

    memset(r, 0, sizeof(*r));
    memset(&m, 0, sizeof(m));
    err_clear(&e);
    r->file = xstrdup(it->name);
    r->path = xstrdup(it->path);
    r->size = (uint64_t)it->size;
    r->tier = it->tier;
    r->time = stamp_epoch(it->stamp);
    r->duration = -1;
    if (it->has_manifest) {
        mpath = xasprintf("%s.json", it->path);
        if (backup_manifest_load(mpath, &m, &e) == 0) {
            time_t started = parse_utc(m.started_at);
            time_t finished = parse_utc(m.finished_at);
            if (finished >= 0)
                r->time = finished;
            if (started >= 0 && finished >= started)
                r->duration = (double)(finished - started);
            r->good = it->has_sha256;
        } else {
            log_debug("manifest of '%s' unreadable: %s", it->path, e.msg);
        }
        backup_manifest_release(&m);
        free(mpath);
    } else {
        /* Another tool's backup (no manifest): good by its checksum file, as ours are. */
        r->good = it->has_sha256;
    }
}

/* The outcome of the last runs, per tier, from .last_result.json. */
static void load_last_results(const char *dir, struct ops_backup_facts *f)
{
    char *path = xasprintf("%s/.last_result.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *tiers = json_object_get(root, "tiers");

    for (int t = 0; t < BACKUP_TIER_COUNT && json_is_object(tiers); t++) {
        json_t *it = json_object_get(tiers, backup_tier_name((enum backup_tier)t));
        struct ops_tier_facts *tf = &f->tiers[t];
        const char *err;

        if (!json_is_object(it))
            continue;
        tf->has_last = true;
        tf->last_ok = json_is_true(json_object_get(it, "ok"));
        tf->last_time = (time_t)json_integer_value(json_object_get(it, "time"));
        tf->last_seconds = json_number_value(json_object_get(it, "seconds"));
        tf->last_bytes = (uint64_t)json_integer_value(json_object_get(it, "bytes"));
        err = json_string_value(json_object_get(it, "error"));
        tf->last_error = err != NULL ? xstrdup(err) : NULL;
    }
    json_decref(root);
    free(path);

    path = xasprintf("%s/.last_verify.json", dir);
    root = json_load_file(path, 0, NULL);
    if (json_is_object(root)) {
        f->has_verify = true;
        f->verify_time = (time_t)json_integer_value(json_object_get(root, "time"));
        f->verify_checked = (int)json_integer_value(json_object_get(root, "checked"));
        f->verify_failed = (int)json_integer_value(json_object_get(root, "failed"));
    }
    json_decref(root);
    free(path);
}

/* statvfs of dir, or of its nearest existing parent (a directory not made yet). */
static void load_volume(const char *dir, struct ops_backup_facts *f)
{
    char *p = xstrdup(dir);
    struct statvfs sv;

    for (;;) {
        if (statvfs(p[0] ? p : "/", &sv) == 0) {
            f->has_volume = true;
            f->volume_total = (uint64_t)sv.f_blocks * sv.f_frsize;
            f->volume_free = (uint64_t)sv.f_bavail * sv.f_frsize;
            break;
        }
        char *slash = strrchr(p, '/');
        if (slash == NULL) {
            if (strcmp(p, ".") == 0)
                break;
            free(p);
            p = xstrdup(".");
            continue;
        }
        if (slash == p) {
            p[1] = '\0';
            if (statvfs(p, &sv) == 0) {
                f->has_volume = true;
                f->volume_total = (uint64_t)sv.f_blocks * sv.f_frsize;
                f->volume_free = (uint64_t)sv.f_bavail * sv.f_frsize;
            }
            break;
        }
        *slash = '\0';
    }
    free(p);
}

int ops_backup_facts_load(const struct config *cfg, time_t now, struct ops_backup_facts *f,
                          struct err *e)
{
    struct backup_list l = {0};
    struct stat st;
    int rc = 0;

    memset(f, 0, sizeof(*f));
    f->now = now;
    f->good_age = -1;
    f->max_age = (double)cfg->backup_max_age_hours * 3600.0;
    f->dir_exists = stat(cfg->backup_dir, &st) == 0 && S_ISDIR(st.st_mode);
    load_volume(cfg->backup_dir, f);
    if (!f->dir_exists) {
        f->stale = true;
        goto cleanup;
    }
    rc = backup_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < l.count; i++) {
        const struct backup_entry *it = &l.items[i];
        struct ops_tier_facts *tf = &f->tiers[it->tier];
        bool seen = false;

        tf->count++;
        tf->bytes += (uint64_t)it->size;
        /* A hard link of an earlier entry (the same run's other tiers). */
        for (int j = 0; j < i && !seen; j++)
            seen = l.items[j].dev == it->dev && l.items[j].ino == it->ino;
        if (!seen) {
            f->count++;
            f->bytes += (uint64_t)it->size;
        }
        /* Newest first: the first of each tier is its newest, then the first good one. */
        if (tf->newest.file == NULL) {
            ref_from_entry(&tf->newest, it);
            if (tf->newest.good)
                ref_copy(&tf->good, &tf->newest);
        } else if (tf->good.file == NULL && it->has_sha256) {
            ref_from_entry(&tf->good, it);
            if (!tf->good.good)
                ref_release(&tf->good);
        }
    }
    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        const struct ops_backup_ref *g = &f->tiers[t].good;
        if (g->file != NULL && (f->good.file == NULL || g->time > f->good.time)) {
            ref_release(&f->good);
            ref_copy(&f->good, g);
        }
    }
    load_last_results(cfg->backup_dir, f);
    if (f->good.file != NULL) {
        f->good_age = difftime(now, f->good.time);
        if (f->good_age < 0)
            f->good_age = 0;
    }
    f->stale = f->good.file == NULL || f->good_age > f->max_age;

cleanup:
    backup_list_release(&l);
    return rc;
}

void ops_backup_facts_release(struct ops_backup_facts *f)
{
    if (f == NULL)
        return;
    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        ref_release(&f->tiers[t].newest);
        ref_release(&f->tiers[t].good);
        free(f->tiers[t].last_error);
    }
    ref_release(&f->good);
    memset(f, 0, sizeof(*f));
}

static json_t *ref_json(const struct ops_backup_ref *r, time_t now)
{
    char when[32];

    if (r->file == NULL)
        return json_null();
    ops_utc_stamp(when, r->time);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:b}", "file", r->file, "path", r->path,
                     "tier", backup_tier_name(r->tier), "time", when, "age_seconds",
                     (json_int_t)(now > r->time ? now - r->time : 0), "size_bytes",
                     (json_int_t)r->size, "duration_seconds",
                     r->duration >= 0 ? json_real(r->duration) : json_null(), "good", r->good);
}

json_t *ops_backup_facts_json(const struct config *cfg, const struct ops_backup_facts *f)
{
    json_t *tiers = json_object();
    json_t *o;
    time_t now = f->now;

    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        const struct ops_tier_facts *tf = &f->tiers[t];
        json_t *last = json_null();
        char when[32];

        if (tf->has_last) {
            ops_utc_stamp(when, tf->last_time);
            last = json_pack("{s:b, s:s, s:f, s:I, s:s?}", "ok", tf->last_ok, "time", when,
                             "seconds", tf->last_seconds, "bytes", (json_int_t)tf->last_bytes,
                             "error", tf->last_error);
        }
        json_object_set_new(tiers, backup_tier_name((enum backup_tier)t),
                            json_pack("{s:i, s:I, s:o, s:o, s:o}", "count", tf->count, "size_bytes",
                                      (json_int_t)tf->bytes, "newest", ref_json(&tf->newest, now),
                                      "newest_good", ref_json(&tf->good, now), "last_run", last));
    }
    o = json_pack("{s:s, s:b, s:i, s:I, s:o, s:o, s:f, s:b, s:o}", "dir", cfg->backup_dir, "exists",
                  f->dir_exists, "count", f->count, "size_bytes", (json_int_t)f->bytes, "volume",
                  f->has_volume
                      ? json_pack("{s:I, s:I, s:I}", "total_bytes", (json_int_t)f->volume_total,
                                  "free_bytes", (json_int_t)f->volume_free, "used_bytes",
                                  (json_int_t)(f->volume_total - f->volume_free))
                      : json_null(),
                  "newest_good", ref_json(&f->good, now), "max_age_hours", f->max_age / 3600.0,
                  "stale", f->stale, "tiers", tiers);
    return o;
}

int ops_backup_stale_alert(const struct config *cfg, const struct ops_backup_facts *f, time_t now)
{
    char *path = xasprintf("%s/.stale_alert.json", cfg->backup_dir);
    json_t *prev = json_load_file(path, 0, NULL);
    const char *newest = f->good.file != NULL ? f->good.file : "";
    const char *prev_newest = json_string_value(json_object_get(prev, "newest"));
    json_int_t prev_time = json_integer_value(json_object_get(prev, "time"));
    struct backup_alert_facts af;
    char msg[512], age[64];
    int sent = 0;

    if (!f->stale)
        goto cleanup;
    if (prev_newest != NULL && strcmp(prev_newest, newest) == 0 && prev_time <= now &&
        now - prev_time < STALE_REALERT_S)
        goto cleanup;
    if (f->good.file == NULL) {
        snprintf(msg, sizeof(msg), "no good backup in '%s'", cfg->backup_dir);
    } else {
        snprintf(age, sizeof(age), "%.1f h", f->good_age / 3600.0);
        snprintf(msg, sizeof(msg),
                 "the newest good backup '%s' is %s old, more than BACKUP_MAX_AGE_HOURS=%d",
                 f->good.file, age, cfg->backup_max_age_hours);
    }
    memset(&af, 0, sizeof(af));
    af.event = "backup_stale";
    af.severity = "critical";
    af.message = msg;
    af.file = f->good.path;
    af.finished = now;
    backup_alert_send(cfg, &af);
    sent = 1;
    if (f->dir_exists) {
        json_t *o = json_pack("{s:s, s:I}", "newest", newest, "time", (json_int_t)now);
        char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        struct err we = {0};
        if (text == NULL || file_write_atomic(path, text, strlen(text), 0600, ERR_IO, &we) < 0)
            log_debug("cannot record '%s': %s", path, text == NULL ? "cannot render it" : we.msg);
        free(text);
        json_decref(o);
    }

cleanup:
    json_decref(prev);
    free(path);
    return sent;
}
