/*
 * router — which handler answers a request: a table of {method, path
 * pattern, handler, flags} searched in order.  Pure string work, no I/O, so
 * it is tested on its own (test/unit/http/router_test.c).
 *
 * Patterns are absolute paths whose segments are literals or "{name}"
 * placeholders: "/api/v1/clients/{id}".  A placeholder matches exactly one
 * non-empty segment; its value is percent-decoded ("%20" -> " ", "+" stays
 * "+").  Literal segments compare byte for byte with the path as received
 * (not decoded).  No wildcards, no optional segments, and "/x/" is not "/x".
 *
 * HEAD is answered by the GET route of the same path.  A path that matches
 * some route but not with this method is "method not allowed", and the
 * methods that would match are listed for the Allow header.
 */
#ifndef CITAPLANNER_HTTP_ROUTER_H
#define CITAPLANNER_HTTP_ROUTER_H

#include "common/err.h"
#include "common/util.h"

struct http_req;

/*
 * A request handler.  It either replies (http_reply_*, see http/request.h)
 * and returns 0, or returns a negative code with e filled and does not
 * reply: the server then answers from the code (http_reply_err()).  A
 * negative return after a reply (for example after http_req_json() refused
 * the body, which replies itself) is only logged at debug level.
 */
typedef int (*http_handler_fn)(struct http_req *req, struct err *e);

/* Route flags. */
enum {
    HTTP_ROUTE_QUIET = 1u << 0,  /* access-log at debug level (probes polled every few seconds) */
    HTTP_ROUTE_PUBLIC = 1u << 1, /* needs no session (for the authentication layer) */
};

struct http_route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE"; NULL ends the table */
    const char *pattern; /* "/api/v1/clients/{id}" */
    http_handler_fn handler;
    unsigned flags;
};

#define HTTP_MAX_PARAMS     8
#define HTTP_PARAM_NAME_MAX 32

/* The placeholders of a matched pattern, by name. */
struct http_params {
    int count;
    struct {
        char name[HTTP_PARAM_NAME_MAX];
        char *value; /* percent-decoded, owned */
    } items[HTTP_MAX_PARAMS];
};

/* Free the values and reset p to empty.  Accepts an empty p. */
void http_params_release(struct http_params *p);

/* The value of placeholder name, or NULL; borrowed from p. */
const char *http_params_get(const struct http_params *p, const char *name);

/*
 * Does path (the request path without its query string) match pattern?
 * Returns 1 and fills params (which must be empty; the caller releases it),
 * or 0 and leaves params empty.  A placeholder value that does not decode
 * (a bad "%" escape, or "%00") does not match.
 */
int http_route_match(const char *pattern, const char *path, struct http_params *params);

enum http_route_result {
    HTTP_ROUTE_FOUND,
    HTTP_ROUTE_NOT_FOUND,          /* no route has this path */
    HTTP_ROUTE_METHOD_NOT_ALLOWED, /* some route has this path, none this method */
};

/*
 * Find the first route of the table (ended by a NULL method) matching
 * method and path.  FOUND: *route is set and params filled (the caller
 * releases it).  METHOD_NOT_ALLOWED: allow (may be NULL) receives the
 * matching methods, "GET, HEAD, POST" style, in table order.
 */
enum http_route_result http_router_find(const struct http_route *routes, const char *method,
                                        const char *path, const struct http_route **route,
                                        struct http_params *params, struct buf *allow);

#endif
