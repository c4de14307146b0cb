/*
 * server — the HTTP server: several worker threads on libevent's evhttp.
 *
 * Each worker thread has its own event loop, its own evhttp and its own
 * application data (worker_init: typically a database connection), and
 * accepts connections on one listening socket shared by all workers.  A
 * handler runs on the thread that accepted its connection and may block (a
 * database call): that holds up only this worker, and the idle ones keep
 * accepting.  A connection stays with its worker for its whole life.
 *
 * Why one shared socket rather than one SO_REUSEPORT socket per thread: a
 * second program bound to the same port with SO_REUSEPORT would silently
 * share the traffic instead of failing with "address in use", and closing
 * one of several sockets resets the connections waiting in its queue.
 *
 * Limits: request line and headers 64 KiB (a request line 8 KiB).  Every
 * request is checked as its bytes arrive, before evhttp parses it
 * (precheck.h, through guard.h): a body announced over max_body (by
 * Content-Length or by its chunk sizes), ambiguous framing, a malformed
 * request and a method other than GET HEAD POST PUT PATCH DELETE OPTIONS
 * are answered there, in the SPEC §8 error format with nosniff, before any
 * handler runs, and the connection is closed; evhttp never sees them, so
 * its own HTML error pages are not sent.  What one client may hold
 * (connections, time for a request, idle time) is guard.h's; the
 * descriptor limit is raised to its hard limit at start.  read_timeout_s without
 * progress on a connection (reading a request, writing an answer or waiting
 * idle between two requests) closes it.  Requests refused before parsing
 * are logged at info level and counted in /metrics, not in the access log.
 *
 * Access log: one line per request, at info level (debug for routes flagged
 * HTTP_ROUTE_QUIET), with the request id as the line's context:
 *   "GET /api/v1/clients 200 512B 3.1ms 127.0.0.1"
 * The query string is never logged (it could carry a secret).
 *
 * Threads: http_server_new/start/shutdown/free are called from one thread
 * (the main one); shutdown may run while the workers serve.  SIGPIPE, SIGINT,
 * SIGTERM and SIGHUP are blocked in the worker threads, so that a write to a
 * closed socket fails with EPIPE instead of killing the process, and the
 * termination signals go to the main thread (which sigwait()s for them).
 */
#ifndef CITAPLANNER_HTTP_SERVER_H
#define CITAPLANNER_HTTP_SERVER_H

#include <stddef.h>

#include "common/err.h"
#include "common/netmask.h"
#include "http/request.h"
#include "http/router.h"

struct http_server;

struct http_server_opts {
    const char *host;   /* "127.0.0.1", "::1", "0.0.0.0", "::" or a name; NULL = 127.0.0.1 */
    int port;           /* 0 = an ephemeral port: see http_server_port() */
    int threads;        /* worker threads; <= 0: one per CPU, at least 2 */
    size_t max_body;    /* request body limit in bytes; 0 = 1 MiB */
    int read_timeout_s; /* seconds without progress before a connection is closed; 0 = 30 */
    /* What a client may hold (guard.h).  0 = 30 s, 60 s, 4096, no cap. */
    int request_timeout_s; /* a request whole within this after its first byte */
    int header_timeout_s;  /* its line and headers within this (0 = 10 s) */
    int idle_timeout_s;    /* a connection with no request begun is closed after this */
    int max_conns;         /* client connections open at once, past which 503 */
    int max_per_client;    /* the same per client address */
    const struct netmask_list *uncapped; /* counted in total only (trusted proxies); may be NULL */

    /*
     * Called on each worker thread before it serves, to make its
     * worker_data (handed to handlers by http_req_worker()).  May be NULL.
     * Failing makes http_server_start fail with its error.
     */
    int (*worker_init)(void *app, void **worker_data, struct err *e);
    /* Called on the worker thread when it ends; may be NULL. */
    void (*worker_free)(void *worker_data);
    /*
     * Called on the worker thread when a handler returns an error, before
     * the answer is made from it; may be NULL.  (The API drops a database
     * connection found broken here, whichever handler found it.)
     */
    void (*handler_failed)(void *worker_data, const struct err *e);
    void *app; /* handed to worker_init */

    const struct http_route *routes; /* ended by a NULL method; must outlive the server */
    bool hsts; /* served over https (PUBLIC_URL): every answer says Strict-Transport-Security */
};

/*
 * Resolve host, bind and listen.  Nothing is served until
 * http_server_start().  Errors: ERR_CONFIG when the address cannot be used
 * (not resolved, already in use, not available here, permission denied),
 * naming it as "host:port"; ERR_IO otherwise.  Caller frees with
 * http_server_free().
 */
int http_server_new(const struct http_server_opts *opts, struct http_server **out, struct err *e);

/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *srv);

/* The number of worker threads. */
int http_server_threads(const struct http_server *srv);

/*
 * Start the worker threads and return once each one has run worker_init
 * and serves.  If any worker_init fails, every worker is stopped and the
 * first error is returned (the server can then only be freed).
 */
int http_server_start(struct http_server *srv, struct err *e);

/*
 * Graceful stop.  At once: the listening socket is shut, so new connections
 * are refused.  Then every worker finishes the requests it was handling
 * (the handler's run and the writing of its answer; the answers say
 * "Connection: close"), closes its idle connections and ends.  After
 * grace_s seconds the workers are told to stop wherever they are: a worker
 * ends as soon as its current handler returns.
 *
 * Returns 0 when every worker ended, or the number of workers still inside
 * a handler (a warning is logged): the caller should then exit the process
 * soon; http_server_free() leaves those workers alone.  Safe to call more
 * than once (a later call waits again), and before start.
 */
int http_server_shutdown(struct http_server *srv, int grace_s);

/*
 * Stop (shutdown with no grace, if not done), wait for the worker threads
 * to end, close the socket and free everything.  A worker still stuck in a
 * handler is abandoned instead of waited for: then the server's memory is
 * left to the process's exit, since that worker still uses it.
 * Accepts NULL.
 */
void http_server_free(struct http_server *srv);

#endif
