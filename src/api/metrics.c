/*
 * metrics — GET /metrics: the server's request counters (http layer) and
 * the backup and database gauges (ops/metrics.h), read afresh from
 * BACKUP_DIR and the database at each scrape.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/admin.h"
#include "api/api.h"
#include "api/login_throttle.h"
#include "common/log.h"
#include "notify/notify.h"
#include "ops/metrics.h"
#include "ops/stats.h"
#include "version.h"

/* Equal, in a time that depends on the lengths only. */
static bool token_eq(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char d = na != nb;

    for (size_t i = 0; i < na; i++)
        d |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return d == 0;
}

/*
 * /metrics tells how busy the service is and how its backups are: only for
 * the addresses of METRICS_ALLOW, or a scraper that has METRICS_TOKEN.
 */
static bool metrics_allowed(struct http_req *req, const struct config *cfg)
{
    const char *auth = http_req_header(req, "Authorization");

    if (netmask_list_contains(&cfg->metrics_allow_list, http_req_client_addr(req)))
        return true;
    return cfg->metrics_token != NULL && auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0 &&
           token_eq(auth + 7, cfg->metrics_token);
}

int api_metrics(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct ops_backup_facts f;
    struct buf out = BUF_INIT;
    struct db *db = NULL;
    int64_t size = -1;
    struct err ie;

    if (!metrics_allowed(req, w->app->cfg)) {
        log_info("metrics: refused to %s (not in METRICS_ALLOW, no valid METRICS_TOKEN)",
                 http_req_client_addr(req));
        return http_reply_error(req, 403, "forbidden", NULL,
                                "/metrics is served to METRICS_ALLOW or with METRICS_TOKEN");
    }
    err_clear(&ie);
    memset(&f, 0, sizeof(f));
    buf_adds(&out, "# HELP citaplanner_build_info The running program's version.\n"
                   "# TYPE citaplanner_build_info gauge\n"
                   "citaplanner_build_info{version=\"" CITAPLANNER_VERSION "\"} 1\n");
    http_metrics_write(req, &out);
    /* A scrape must answer even when the database or BACKUP_DIR does not. */
    if (api_worker_db(w, &db, &ie) < 0 || ops_db_size(db, &size, &ie) < 0) {
        log_debug("metrics: database size unknown: %s", ie.msg);
        api_worker_db_failed(w, &ie);
        size = -1;
    }
    err_clear(&ie);
    if (ops_backup_facts_load(w->app->cfg, time(NULL), &f, &ie) < 0) {
        log_warn("metrics: cannot read the backup directory: %s", ie.msg);
        f.stale = true; /* what is not known to be fresh counts as stale */
    }
    buf_addf(&out,
             "# HELP citaplanner_login_failures_total Failed logins (wrong e-mail or password).\n"
             "# TYPE citaplanner_login_failures_total counter\n"
             "citaplanner_login_failures_total %lld\n"
             "# HELP citaplanner_login_throttled_total Logins refused with 429 (back-off).\n"
             "# TYPE citaplanner_login_throttled_total counter\n"
             "citaplanner_login_throttled_total %lld\n",
             (long long)login_throttle_failed_total(), (long long)login_throttle_refused_total());
    ops_metrics_write(&out, &f, size);
    err_clear(&ie);
    if (size >= 0 && notify_metrics_write(&out, db, &ie) < 0)
        log_warn("metrics: cannot count the notifications: %s", ie.msg);
    ops_metrics_write_remote(&out, w->app->cfg, time(NULL));
    ops_metrics_write_archive(&out, w->app->cfg);
    ops_backup_facts_release(&f);
    http_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&out), out.len);
    buf_release(&out);
    return 0;
}
