/*
 * admin — the master admin's backup and stats endpoints; see admin.h.
 *
 * Jobs: a backup or a verification runs on a detached thread of its own,
 * so that a worker never blocks for minutes; the worker answers 202 with the
 * job's id at once.  The job table is a small ring under one mutex.  A job
 * touches only what it was given (the configuration, which outlives the
 * server, and copies of its inputs) and its own connections.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/admin.h"
#include "api/api.h"
#include "api/auth.h"
#include "archive/status.h"
#include "backup/layout.h"
#include "backup/take.h"
#include "backup/report.h"
#include "backup/verify_results.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "ops/backups.h"
#include "ops/stats.h"

#define MAX_JOBS 32

enum job_status { JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED };

struct job {
    char id[17];
    const char *kind; /* "backup" / "verify" */
    enum job_status status;
    char *error;
    time_t created, finished;
    json_t *result;

    /* Inputs, owned by the job. */
    const struct config *cfg;
    int tier;
    char **paths; /* verify: the files, NULL = every backup */
    int npaths;
};

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job *jobs[MAX_JOBS]; /* ring; NULL slots unused */
static int jobs_next;
static bool job_running;

static const char *status_name(enum job_status s)
{
    return s == JOB_RUNNING ? "running" : s == JOB_SUCCEEDED ? "succeeded" : "failed";
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    for (int i = 0; i < j->npaths; i++)
        free(j->paths[i]);
    free(j->paths);
    free(j->error);
    json_decref(j->result);
    free(j);
}

/* The job as JSON; call with jobs_lock held. */
static json_t *job_json(const struct job *j)
{
    char created[32], finished[32];

    ops_utc_stamp(created, j->created);
    ops_utc_stamp(finished, j->finished);
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:o}", "id", j->id, "kind", j->kind,
                     "status", status_name(j->status), "error", j->error, "created_at", created,
                     "finished_at", j->status == JOB_RUNNING ? NULL : finished, "result",
                     j->result != NULL ? json_deep_copy(j->result) : json_null());
}

/* End a job: record its outcome and let the next one start. */
static void job_finish(struct job *j, json_t *result, const struct err *e)
{
    pthread_mutex_lock(&jobs_lock);
    j->result = result;
    j->finished = time(NULL);
    j->status = e == NULL ? JOB_SUCCEEDED : JOB_FAILED;
    if (e != NULL)
        j->error = xstrdup(e->msg[0] ? e->msg : err_desc(e->code));
    job_running = false;
    pthread_mutex_unlock(&jobs_lock);
    log_info("admin: %s job %s %s%s%s", j->kind, j->id, status_name(j->status),
             e != NULL ? ": " : "", e != NULL ? j->error : "");
}

static json_t *backup_result_json(const struct backup_result *r)
{
    json_t *tiers = json_array();
    json_t *files = json_object();

    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        if (r->files[t] == NULL)
            continue;
        json_array_append_new(tiers, json_string(backup_tier_name((enum backup_tier)t)));
        json_object_set_new(files, backup_tier_name((enum backup_tier)t), json_string(r->files[t]));
    }
    return json_pack("{s:o, s:o, s:{s:I, s:I}, s:s, s:f, s:i}", "tiers", tiers, "files", files,
                     "bytes", "compressed", (json_int_t)r->gz_bytes, "uncompressed",
                     (json_int_t)r->raw_bytes, "sha256", r->sha256, "seconds", r->seconds,
                     "rotated", r->rotated);
}

static void *backup_job_main(void *arg)
{
    struct job *j = arg;
    struct backup_opts o;
    struct backup_result r;
    struct err e;
    json_t *result = NULL;
    int rc;

    log_set_context("admin-backup");
    memset(&o, 0, sizeof(o));
    err_clear(&e);
    o.cfg = j->cfg;
    o.db = &j->cfg->db;
    o.tier = j->tier;
    o.now = time(NULL);
    o.rotate = true;
    rc = backup_take(&o, &r, &e);
    if (rc == 0)
        result = backup_result_json(&r);
    backup_result_release(&r);
    job_finish(j, result, rc < 0 ? &e : NULL);
    log_set_context(NULL);
    return NULL;
}

static void *verify_job_main(void *arg)
{
    struct job *j = arg;
    struct backup_verify_many_opts o;
    struct backup_verify_summary sum;
    json_t *result = NULL;
    struct err e;
    int rc;

    log_set_context("admin-verify");
    err_clear(&e);
    memset(&o, 0, sizeof(o));
    o.cfg = j->cfg;
    o.paths = (const char *const *)j->paths;
    o.npaths = j->npaths;
    o.file_is_name = true; /* the API names backups, never paths */
    o.started = j->created;
    rc = backup_verify_many(&o, &sum, &e);
    if (rc == 0) {
        result = backup_verify_summary_json(&sum, false);
        /* "files": the results' older name, which the web app reads. */
        json_object_set(result, "files", json_object_get(result, "results"));
        if (sum.failed > 0)
            rc = err_set(&e, ERR_VERIFY, "%d of %d backups failed verification", sum.failed,
                         sum.count);
    }
    job_finish(j, result, rc < 0 ? &e : NULL);
    backup_verify_summary_release(&sum);
    log_set_context(NULL);
    return NULL;
}

/*
 * Register j and start its thread, unless a job runs: then 409.  Takes j
 * (freed here when it does not start).  Answers the request.
 */
static int job_start(struct http_req *req, struct job *j, void *(*fn)(void *))
{
    unsigned char raw[8];
    pthread_t t;
    pthread_attr_t attr;
    json_t *body;
    char location[96];
    int err;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        job_free(j);
        return http_reply_internal(req, "no random bytes for a job id");
    }
    hex_encode(raw, sizeof(raw), j->id);
    j->created = time(NULL);
    j->status = JOB_RUNNING;

    pthread_mutex_lock(&jobs_lock);
    if (job_running) {
        pthread_mutex_unlock(&jobs_lock);
        job_free(j);
        return http_reply_error(req, 409, "job_running", NULL,
                                "a backup or verification started here is still running; poll "
                                "its job and try again when it ends");
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&t, &attr, fn, j);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        pthread_mutex_unlock(&jobs_lock);
        job_free(j);
        return http_reply_internal(req, "cannot start the job's thread");
    }
    job_running = true;
    job_free(jobs[jobs_next]); /* the oldest one, long finished: only one runs at a time */
    jobs[jobs_next] = j;
    jobs_next = (jobs_next + 1) % MAX_JOBS;
    body = json_pack("{s:o}", "job", job_json(j));
    pthread_mutex_unlock(&jobs_lock);

    log_info("admin: %s job %s started by the master admin from %s", j->kind, j->id,
             http_req_client_addr(req));
    snprintf(location, sizeof(location), "/api/v1/admin/backups/jobs/%s", j->id);
    http_set_header(req, "Location", location);
    return http_reply_json(req, 202, body);
}

/* The optional JSON body of a POST: NULL when there is none. */
static int optional_body(struct http_req *req, json_t **out, struct err *e)
{
    const char *ct = http_req_header(req, "Content-Type");
    const char *len = http_req_header(req, "Content-Length");

    *out = NULL;
    if (ct == NULL && (len == NULL || strcmp(len, "0") == 0))
        return 0;
    return http_req_json(req, out, e);
}

static void audit(struct http_req *req, const char *what)
{
    log_info("admin: %s (master admin from %s)", what, http_req_client_addr(req));
}

int api_admin_backups_run(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth a;
    json_t *body = NULL;
    const char *tier = NULL;
    struct job *j;
    int t = BACKUP_TIER_AUTO;
    int rc;

    if (api_auth_require(req, "admin_backups", API_ACT_CREATE, &a) < 0)
        return 0;
    audit(req, "run a backup");
    rc = optional_body(req, &body, e);
    if (rc < 0)
        return rc;
    if (body != NULL) {
        json_t *v = json_object_get(body, "tier");
        if (v != NULL && !json_is_string(v)) {
            json_decref(body);
            return http_reply_error(req, 400, "invalid", "tier", "'tier' must be a string");
        }
        tier = json_string_value(v);
    }
    if (tier != NULL && strcmp(tier, "auto") != 0) {
        enum backup_tier bt;
        if (backup_tier_parse(tier, &bt) < 0) {
            json_decref(body);
            return http_reply_error(req, 400, "invalid", "tier",
                                    "'tier' must be auto, daily, weekly, monthly, premigrate or "
                                    "prerestore");
        }
        t = (int)bt;
    }
    json_decref(body);
    j = xcalloc(1, sizeof(*j));
    j->kind = "backup";
    j->cfg = w->app->cfg;
    j->tier = t;
    return job_start(req, j, backup_job_main);
}

int api_admin_backups_verify(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct backup_list l = {0};
    struct api_auth a;
    json_t *body = NULL;
    json_t *files;
    struct job *j = NULL;
    size_t i;
    json_t *v;
    int rc;

    if (api_auth_require(req, "admin_backups", API_ACT_CREATE, &a) < 0)
        return 0;
    audit(req, "verify the backups");
    rc = optional_body(req, &body, e);
    if (rc < 0)
        return rc;
    j = xcalloc(1, sizeof(*j));
    j->kind = "verify";
    j->cfg = w->app->cfg;
    files = json_object_get(body, "files");
    if (files != NULL) {
        if (!json_is_array(files)) {
            rc = http_reply_error(req, 400, "invalid", "files",
                                  "'files' must be an array of backup file names");
            goto cleanup;
        }
        rc = backup_list_load(w->app->cfg->backup_dir, &l, e);
        if (rc < 0)
            goto cleanup;
        j->paths = xcalloc(json_array_size(files) + 1, sizeof(char *));
        /* Names only, and only of backups in BACKUP_DIR: never a path from the caller. */
        json_array_foreach(files, i, v)
        {
            const char *name = json_string_value(v);
            const char *path = NULL;
            for (int k = 0; name != NULL && k < l.count && path == NULL; k++)
                if (strcmp(l.items[k].name, name) == 0)
                    path = l.items[k].path;
            if (path == NULL) {
                rc = http_reply_error(req, 400, "invalid", "files",
                                      "no backup named '%.100s' in the backup directory",
                                      name != NULL ? name : "(not a string)");
                goto cleanup;
            }
            j->paths[j->npaths++] = xstrdup(path);
        }
    }
    rc = job_start(req, j, verify_job_main);
    j = NULL;

cleanup:
    job_free(j);
    json_decref(body);
    backup_list_release(&l);
    return rc;
}

int api_admin_backups_job(struct http_req *req, struct err *e)
{
    struct api_auth a;
    const char *id = http_req_param(req, "id");
    json_t *body = NULL;

    if (api_auth_require(req, "admin_backups", API_ACT_READ, &a) < 0)
        return 0;
    pthread_mutex_lock(&jobs_lock);
    for (int i = 0; i < MAX_JOBS && body == NULL; i++)
        if (jobs[i] != NULL && id != NULL && strcmp(jobs[i]->id, id) == 0)
            body = json_pack("{s:o}", "job", job_json(jobs[i]));
    pthread_mutex_unlock(&jobs_lock);
    if (body == NULL)
        return err_set(e, ERR_NOT_FOUND, "no job '%.40s'", id != NULL ? id : "");
    return http_reply_json(req, 200, body);
}

static json_t *iso_ms(int64_t ms)
{
    char out[40];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + strlen(out), sizeof(out) - strlen(out), ".%03dZ", (int)(ms % 1000));
    return json_string(out);
}

/* The archive (archive/status.h): its range, how far behind, its health; no path, no URL. */
static json_t *archive_json(const struct config *cfg)
{
    struct archive_status s;
    struct timespec now;
    int64_t now_ms;

    clock_gettime(CLOCK_REALTIME, &now);
    now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    archive_status_read(cfg, now_ms, &s);
    return json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:f, s:i, s:i, s:I, s:o}", "kind", s.kind,
                     "health", archive_health_name(s.health), "code", s.code, "from",
                     s.any ? iso_ms(s.from_ms) : json_null(), "to",
                     s.any ? iso_ms(s.to_ms) : json_null(), "seconds_ago",
                     s.any ? json_integer((now_ms - s.to_ms) / 1000) : json_null(), "lag_seconds",
                     s.lag_s, "max_lag_seconds", cfg->archive_max_lag_s, "bases", s.bases,
                     "segments", (json_int_t)s.segments, "reported",
                     s.reported > 0 ? iso_ms(s.reported * 1000) : json_null());
}

int api_admin_backups_list(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct backup_list l = {0};
    struct api_auth a;
    json_t *body, *items, *it, *verified, *last;
    size_t k;
    int rc;

    if (api_auth_require(req, "admin_backups", API_ACT_READ, &a) < 0)
        return 0;
    audit(req, "list the backups");
    rc = backup_list_load(w->app->cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    body = backup_list_json(w->app->cfg, &l);
    items = json_object_get(body, "backups");
    /* "size_bytes": "size" under its older name, which the web app reads; "verify": the
     * latest verification of each, and "last_verify" the latest run (verify_results.h). */
    verified = backup_verify_results_load(w->app->cfg->backup_dir);
    json_array_foreach(items, k, it)
    {
        json_t *v = json_object_get(json_object_get(verified, "backups"),
                                    json_string_value(json_object_get(it, "file")));

        json_object_set(it, "size_bytes", json_object_get(it, "size"));
        json_object_set_new(
            it, "verify",
            v != NULL ? json_pack("{s:O, s:O, s:O?}", "at", json_object_get(v, "at"), "ok",
                                  json_object_get(v, "ok"), "error", json_object_get(v, "error"))
                      : json_null());
    }
    last = json_object_get(verified, "last");
    json_object_set_new(body, "last_verify",
                        last != NULL
                            ? json_pack("{s:O, s:O, s:O, s:O?}", "at", json_object_get(last, "at"),
                                        "ok", json_object_get(last, "ok"), "damaged",
                                        json_object_get(last, "damaged"), "failed",
                                        json_object_get(last, "failed"))
                            : json_null());
    json_decref(verified);
    json_object_set(body, "items", items);
    json_object_del(body, "backups");
    json_object_set_new(body, "next_cursor", json_null());
    json_object_set_new(body, "archive", archive_json(w->app->cfg));
    rc = http_reply_json(req, 200, body);

cleanup:
    backup_list_release(&l);
    return rc;
}

int api_admin_stats(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth a;
    struct db *db = NULL;
    json_t *stats = NULL;
    int rc;

    if (api_auth_require(req, "admin_stats", API_ACT_READ, &a) < 0)
        return 0;
    audit(req, "read the stats");
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        return rc;
    rc = ops_stats_collect(db, w->app->cfg, time(NULL), &stats, e);
    if (rc < 0)
        return rc;
    return http_reply_json(req, 200, stats);
}
