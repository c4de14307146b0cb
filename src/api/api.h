/*
 * api — the HTTP API of SPEC §8: the route table and what every handler
 * shares.
 *
 * The server (http/server.h) runs several worker threads; each one owns a
 * struct api_worker with its own database connection, so a handler never
 * shares a connection with another thread (db.h: one thread at a time).
 * A handler gets its worker with http_req_worker(req) and the connection
 * with api_worker_db().  A handler that returns ERR_DB_CONNECT (the
 * connection is gone) has it dropped, and the next request that needs it
 * reopens it, so the server outlives a database restart.
 *
 * Adding a resource: write src/api/NAME.c with its handlers
 *   int api_NAME_list(struct http_req *req, struct err *e);  ...
 * declare them below, add their rows to its group's table (routes_*.c: method,
 * "/api/v1/NAME/{id}" pattern, handler, flags), add the file to
 * src/api/meson.build, and give it an e2e test in test/e2e.  SQL stays in
 * the resource's file, both dialects side by side where they differ.
 */
#ifndef CITAPLANNER_API_API_H
#define CITAPLANNER_API_API_H

#include "common/err.h"
#include "config/config.h"
#include "db/db.h"
#include "http/request.h"
#include "http/server.h"

/* What the workers share, read-only once the server runs. */
struct api_app {
    const struct config *cfg;   /* borrowed; outlives the server */
    const char *session_secret; /* SESSION_SECRET or the generated one (boot.h); never logged */
};

/* One worker thread's state. */
struct api_worker {
    struct api_app *app;
    struct db *db; /* NULL after the connection was found broken: reopened lazily */
};

/*
 * The client's address: behind a proxy of TRUSTED_PROXIES, the one it
 * forwarded (X-Forwarded-For / Forwarded), else the peer's.  Into out.
 */
void api_client_addr(struct http_req *req, char *out, size_t size);

/* Request bodies are limited to this (SPEC §8: 413 above 1 MiB). */
#define API_MAX_BODY ((size_t)1 << 20)

/*
 * The routes of each group of resources, each ended by a NULL method, and
 * all of them joined (built once, kept for the life of the process).
 */
extern const struct http_route api_catalogue_routes[]; /* routes_catalogue.c */
extern const struct http_route api_booking_routes[];   /* routes_booking.c */
extern const struct http_route api_admin_routes[];     /* routes_admin.c */
extern const struct http_route api_public_routes[];    /* routes_public.c: online booking */
extern const struct http_route api_online_routes[];    /* online_settings.c: its settings, page */
extern const struct http_route api_web_routes[];       /* web.c: GET / and /assets/{name} */
extern const struct http_route api_money_routes[];     /* routes_money.c: issue 19 */
extern const struct http_route api_notify_routes[];    /* notify/api.c: notifications (issue 17) */
extern const struct http_route api_webhook_routes[];   /* notify/webhook.c: replies (issue 17) */
const struct http_route *api_route_table(void);

/*
 * Answer with the embedded web file at path (web.c), under the staff app's
 * CSP; frame_ancestors (space-separated origins) lets those frame it, NULL
 * none.
 */
int api_web_page(struct http_req *req, const char *path, const char *frame_ancestors,
                 struct err *e);

/*
 * Make the HTTP server for app: listen on cfg->listen_host:listen_port,
 * api_routes, one api_worker per thread.  Does not start it (see
 * http_server_start).  Errors as http_server_new().  Caller frees with
 * http_server_free().
 */
int api_server_new(struct api_app *app, struct http_server **out, struct err *e);

/*
 * http_server_opts.worker_init / worker_free: make a worker (app is a
 * struct api_app *) with its own database connection, opened at once so
 * that a server that cannot reach its database does not start; free it.
 */
int api_worker_init(void *app, void **worker_data, struct err *e);
void api_worker_free(void *worker_data);

/*
 * The worker's connection, reopened first if an earlier request found it
 * broken.  Borrowed until the handler returns.  ERR_DB_CONNECT / ERR_DB_AUTH
 * when the database cannot be reached (http_reply_err answers those 503).
 */
int api_worker_db(struct api_worker *w, struct db **out, struct err *e);

/*
 * Tell the worker a database call failed with e: when e says the
 * connection is gone (ERR_DB_CONNECT), the connection is closed and the
 * next api_worker_db() reopens it.  Other errors leave it alone.  Done
 * for every handler that returns its error; a handler that answers by
 * itself after a failed call should call this.
 */
void api_worker_db_failed(struct api_worker *w, const struct err *e);

/* Close the worker's connection whatever the error; the next api_worker_db() reopens it. */
void api_worker_db_reset(struct api_worker *w);

/* Health (health.c): GET /healthz, GET /readyz. */
int api_healthz(struct http_req *req, struct err *e);
int api_readyz(struct http_req *req, struct err *e);

#endif
