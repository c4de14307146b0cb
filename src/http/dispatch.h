/*
 * dispatch — private to src/http: the seam between the server (threads,
 * sockets, shutdown; server.c) and one request's life (request id, routing,
 * the handler, the answer, the access log; request.c).
 */
#ifndef CITAPLANNER_HTTP_DISPATCH_H
#define CITAPLANNER_HTTP_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "http/guard.h"
#include "http/router.h"

struct evhttp_request;

/*
 * Request counters for /metrics (http_metrics_write), one set per server,
 * shared by its workers: plain atomics, relaxed (a scrape may see one
 * request's counter before its histogram bucket; never a torn value).
 */
#define HTTP_METRICS_BUCKETS  12 /* upper bounds in http_metrics_bounds[], then +Inf */
#define HTTP_METRICS_STATUSES 22 /* the codes of http_metrics_codes[], then 1xx..5xx others */

struct http_route_metrics {
    atomic_uint_fast64_t by_status[HTTP_METRICS_STATUSES];
    atomic_uint_fast64_t buckets[HTTP_METRICS_BUCKETS + 1]; /* not cumulative; last = +Inf */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us; /* microseconds */
};

struct http_metrics {
    const struct http_route *routes; /* the table the indexes refer to */
    int nroutes;                     /* per_route[nroutes] counts unmatched requests */
    struct http_route_metrics *per_route;
    int threads;
    atomic_int busy;                 /* requests inside http_dispatch now */
    struct http_guard_counts *guard; /* connections; may be NULL */
};

/* Make the counters for a route table (caller frees with http_metrics_free). */
struct http_metrics *http_metrics_new(const struct http_route *routes, int threads);
void http_metrics_free(struct http_metrics *m);

/* What a worker hands to every request it dispatches. */
struct http_dispatch {
    const struct http_route *routes;
    void *worker_data;
    size_t max_body;
    void (*handler_failed)(void *worker_data, const struct err *e);
    bool hsts;                    /* add Strict-Transport-Security to every answer */
    bool closing;                 /* shutting down: answers say "Connection: close" */
    struct http_metrics *metrics; /* may be NULL: nothing counted */
};

/*
 * Route ev, run its handler on this thread, make sure it is answered, log it.
 * busy_retry_after > 0: the connection is past a cap (guard.h): unless the
 * route is a probe (HTTP_ROUTE_QUIET) answer 503 with that Retry-After; the
 * answer closes the connection.
 */
void http_dispatch(struct evhttp_request *ev, const struct http_dispatch *d, int busy_retry_after);

/* Fill id with 16 random lowercase hex digits and a NUL. */
void http_request_id(char id[17]);

#endif
