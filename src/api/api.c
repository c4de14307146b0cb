/* api — see api.h. */
#include "api/api.h"

#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* Seconds one connection attempt may take: at start, and when reopening
 * for a request (whose client is waiting). */
#define WORKER_CONNECT_TIMEOUT_S 10
#define REOPEN_CONNECT_TIMEOUT_S 3

/*
 * The route table.  One row per method and path; routes of one resource
 * sit together, in the order list, get, create, update, delete, under
 * "/api/v1/..." (the recipe for a new resource is in api.h).
 * HTTP_ROUTE_QUIET keeps probes polled every few seconds out of the info log.
 */
const struct http_route api_routes[] = {
    {"GET", "/healthz", api_healthz, HTTP_ROUTE_QUIET | HTTP_ROUTE_PUBLIC},
    {"GET", "/readyz", api_readyz, HTTP_ROUTE_QUIET | HTTP_ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};

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
        .worker_init = api_worker_init,
        .worker_free = api_worker_free,
        .handler_failed = handler_failed,
        .app = app,
        .routes = api_routes,
    };

    return http_server_new(&opts, out, e);
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
