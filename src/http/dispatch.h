/*
 * dispatch — private to src/http: the seam between the server (threads,
 * sockets, shutdown; server.c) and one request's life (request id, routing,
 * the handler, the answer, the access log; request.c).
 */
#ifndef CITAPLANNER_HTTP_DISPATCH_H
#define CITAPLANNER_HTTP_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "http/router.h"

struct evhttp_request;

/* What a worker hands to every request it dispatches. */
struct http_dispatch {
    const struct http_route *routes;
    void *worker_data;
    size_t max_body;
    void (*handler_failed)(void *worker_data, const struct err *e);
    bool closing; /* shutting down: answers say "Connection: close" */
};

/* Route ev, run its handler on this thread, make sure it is answered, log it. */
void http_dispatch(struct evhttp_request *ev, const struct http_dispatch *d);

/* Fill id with 16 random lowercase hex digits and a NUL. */
void http_request_id(char id[17]);

#endif
