/*
 * guard — private to src/http: what a slow or greedy client may hold.
 *
 * libevent 2.1's evhttp restarts its read timeout with every byte and has
 * no limit on connections, so one client sending a byte every few seconds
 * on thousands of connections could hold every descriptor and every
 * worker's attention.  The guard watches each connection evhttp accepts,
 * from the outside and through libevent's public API only:
 *
 *   - the connection's buffer is made here (evhttp_set_bevcb) and a
 *     reference to it kept, so the guard can look at it until evhttp is
 *     done with it (evhttp clears its callbacks when it frees it: then the
 *     guard drops its reference, which closes the socket);
 *   - a callback on the buffer's input tells when a request's first byte
 *     arrives; the server tells when the request reached its handler and
 *     when its answer was written;
 *   - a timer closes a connection whose request did not arrive whole within
 *     request_timeout_s of its first byte (answered 408 first), or that sat
 *     idle, with no request begun, for idle_timeout_s (a new connection
 *     included);
 *   - connections are counted in total and per client address (addresses in
 *     `uncapped`, the trusted reverse proxies, only in total).  A connection
 *     past either cap is still accepted, never left in the queue: its
 *     request is answered 503 with Retry-After and the connection closed,
 *     except the probes (routes flagged HTTP_ROUTE_QUIET: /healthz, /readyz,
 *     /metrics), which are served anyway, so a monitor still sees the truth.
 *
 *   - every byte a connection sends goes through the precheck (precheck.h)
 *     before evhttp sees it.  A request it refuses is answered here, in our
 *     JSON error format, once the requests before it on the connection are
 *     answered; the rest of the input is dropped, so evhttp never completes
 *     it, and the connection is closed (its reading side after a short
 *     linger, so that a client still sending its body reads the answer
 *     rather than a reset).  What it removes (chunk extensions, empty lines
 *     before a request) is cut out of the input buffer before evhttp reads
 *     it.
 *
 * Why not the request headers and body separately: evhttp parses the headers
 * inside itself and shows nothing until the whole request is read, so the
 * guard can only time the request as a whole.
 *
 * Threads: one http_guard for the server (its counts behind a mutex), one
 * http_guard_worker per worker thread, used only on that thread.
 */
#ifndef CITAPLANNER_HTTP_GUARD_H
#define CITAPLANNER_HTTP_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/netmask.h"

struct event_base;
struct bufferevent;
struct http_guard;
struct http_guard_worker;

struct http_guard_opts {
    int request_timeout_s;               /* a request whole within this after its first byte */
    int header_timeout_s;                /* its line and headers within this; 0 = no own limit */
    int idle_timeout_s;                  /* no request begun: closed after this */
    int max_conns;                       /* open connections in total */
    int max_per_client;                  /* open connections per client address; 0 = no cap */
    const struct netmask_list *uncapped; /* counted in total only; may be NULL */
    size_t max_head;                     /* request line and headers (precheck.h) */
    size_t max_body;                     /* request body */
    bool hsts;                           /* the guard's own answers say Strict-Transport-Security */
};

/* What the guard did, for /metrics. */
struct http_guard_counts {
    atomic_int open;                /* connections open now */
    atomic_uint_fast64_t refused;   /* answered 503 past a cap */
    atomic_uint_fast64_t timed_out; /* closed by a deadline */
    atomic_uint_fast64_t malformed; /* requests refused by the precheck (precheck.h) */
};

int http_guard_new(const struct http_guard_opts *opts, struct http_guard **out, struct err *e);
void http_guard_free(struct http_guard *g);
struct http_guard_counts *http_guard_counts(struct http_guard *g);

/*
 * A worker's part: its connections and its timer on base.  first_bytes is
 * called (on the worker's thread) when a connection's first request begins
 * to arrive; may be NULL.
 */
struct http_guard_worker *http_guard_worker_new(struct http_guard *g, struct event_base *base,
                                                void (*first_bytes)(void *arg), void *arg);
/* Drop every reference still held; call after evhttp_free(), before the base is freed. */
void http_guard_worker_free(struct http_guard_worker *gw);

/* evhttp's bevcb: the buffer for a connection being accepted. */
struct bufferevent *http_guard_connection(struct http_guard_worker *gw);

/*
 * The request on bev's connection reached the server.  Returns 0 to serve
 * it, or the seconds a client should wait (Retry-After) when the connection
 * is past a cap: then answer 503 and close.
 */
int http_guard_request_begins(struct http_guard_worker *gw, struct bufferevent *bev);

/* The answer on bev's connection was written (the connection may be kept). */
void http_guard_request_ends(struct http_guard_worker *gw, struct bufferevent *bev);

/* evhttp is closing the connection of bev (its close callback): no longer counted. */
void http_guard_connection_closes(struct http_guard_worker *gw, struct bufferevent *bev);

#endif
