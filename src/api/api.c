/* api — see api.h. */
#include "api/api.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* Seconds one connection attempt may take: at start, and when reopening
 * for a request (whose client is waiting). */
#define WORKER_CONNECT_TIMEOUT_S 10
#define REOPEN_CONNECT_TIMEOUT_S 3

/*
 * The routes of the server core.  Each group of resources keeps its own
 * table beside its handlers (api_catalogue_routes in routes_catalogue.c,
 * api_booking_routes in routes_booking.c, api_admin_routes in
 * routes_admin.c); api_route_table() joins them once.  Within a table, the
 * routes of one resource sit together, in the order list, get, create,
 * update, delete, under "/api/v1/...".
 * HTTP_ROUTE_QUIET keeps probes polled every few seconds out of the info log.
 */
static const struct http_route api_core_routes[] = {
    {"GET", "/healthz", api_healthz, HTTP_ROUTE_QUIET | HTTP_ROUTE_PUBLIC},
    {"GET", "/readyz", api_readyz, HTTP_ROUTE_QUIET | HTTP_ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};

static const struct http_route *const api_route_groups[] = {
    api_core_routes,
    api_catalogue_routes,
    api_booking_routes,
    api_admin_routes,
    api_public_routes,
    api_online_routes,
    api_web_routes,
    api_money_routes,
    api_notify_routes,
    api_webhook_routes,
    NULL,
};

static struct http_route *api_routes;
static pthread_once_t api_routes_once = PTHREAD_ONCE_INIT;

static void api_routes_build(void)
{
    size_t n = 0, k = 0;

    for (int g = 0; api_route_groups[g] != NULL; g++)
        for (int i = 0; api_route_groups[g][i].method != NULL; i++)
            n++;
    api_routes = xcalloc(n + 1, sizeof(*api_routes));
    for (int g = 0; api_route_groups[g] != NULL; g++)
        for (int i = 0; api_route_groups[g][i].method != NULL; i++)
            api_routes[k++] = api_route_groups[g][i];
}

const struct http_route *api_route_table(void)
{
    pthread_once(&api_routes_once, api_routes_build);
    return api_routes;
}

/*
 * How many workers: a handler blocks its worker for the length of its
 * database calls, so more workers than CPUs keep the CPUs busy while some
 * wait; each one holds a database connection, hence the cap.
 */
static int worker_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cpus > 0 ? 2 * cpus : 4;

    if (n < 4)
        n = 4;
    if (n > 16)
        n = 16;
    return (int)n;
}

/* Whichever handler finds the connection broken, the next request reopens it. */
static void handler_failed(void *worker_data, const struct err *e)
{
    api_worker_db_failed(worker_data, e);
}

int api_server_new(struct api_app *app, struct http_server **out, struct err *e)
{
    struct http_server_opts opts = {
        .host = app->cfg->listen_host,
        .port = app->cfg->listen_port,
        .threads = worker_count(),
        .max_body = API_MAX_BODY,
        .read_timeout_s = 0, /* the server's default */
        .request_timeout_s = app->cfg->http_request_timeout,
        .header_timeout_s = app->cfg->http_header_timeout,
        .idle_timeout_s = app->cfg->http_idle_timeout,
        .max_conns = app->cfg->http_max_conns,
        .max_per_client = app->cfg->http_max_conns_per_client,
        .uncapped = &app->cfg->trusted_proxies_list,
        .worker_init = api_worker_init,
        .worker_free = api_worker_free,
        .handler_failed = handler_failed,
        .app = app,
        .routes = api_route_table(),
        .hsts = app->cfg->secure_cookies, /* PUBLIC_URL is https */
    };

    return http_server_new(&opts, out, e);
}

void api_client_addr(struct http_req *req, char *out, size_t size)
{
    struct api_worker *w = http_req_worker(req);

    http_req_client_addr_via(req, &w->app->cfg->trusted_proxies_list, out, size);
}

int api_worker_init(void *app, void **worker_data, struct err *e)
{
    struct api_app *a = app;
    struct api_worker *w = xcalloc(1, sizeof(*w));
    int rc;

    w->app = a;
    rc = db_open(&a->cfg->db, WORKER_CONNECT_TIMEOUT_S, &w->db, e);
    if (rc < 0) {
        free(w);
        w = NULL;
    }
    *worker_data = w;
    return rc;
}

void api_worker_free(void *worker_data)
{
    struct api_worker *w = worker_data;

    if (w == NULL)
        return;
    db_close(w->db);
    free(w);
}

int api_worker_db(struct api_worker *w, struct db **out, struct err *e)
{
    int rc = 0;

    *out = NULL;
    if (w->db == NULL) {
        rc = db_open(&w->app->cfg->db, REOPEN_CONNECT_TIMEOUT_S, &w->db, e);
        if (rc < 0)
            goto cleanup;
        log_info("database connection reopened");
    }
    *out = w->db;

cleanup:
    return rc;
}

void api_worker_db_reset(struct api_worker *w)
{
    db_close(w->db);
    w->db = NULL;
}

void api_worker_db_failed(struct api_worker *w, const struct err *e)
{
    if (e->code != ERR_DB_CONNECT || w->db == NULL)
        return;
    log_warn("database connection lost: %s", e->msg);
    api_worker_db_reset(w);
}
