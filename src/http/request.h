/*
 * request — what a handler sees of one HTTP request, and how it answers.
 *
 * A struct http_req lives for one call of a handler, on the worker thread
 * that accepted the connection; nothing of it may be kept after the handler
 * returns.  Strings it hands out are borrowed until then.
 *
 * Every answer carries:
 *   X-Request-Id: 16 hex digits, generated per request, also the log
 *                 context of the worker thread while the handler runs
 *   Cache-Control: no-store
 *   X-Content-Type-Options: nosniff
 *   Content-Type: application/json; charset=utf-8 (JSON answers)
 *   Connection: close, while the server is shutting down
 *
 * Errors follow SPEC §8: {"error":{"code":"…","message":"…","field":…}}
 * where field is the offending input field or null.  A 500 answer names the
 * request id and nothing else: the cause goes to the log only.
 *
 * A request is answered exactly once; a second http_reply_* call is a bug,
 * logged and ignored.
 */
#ifndef CITAPLANNER_HTTP_REQUEST_H
#define CITAPLANNER_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "http/router.h"

struct http_req;

/* "GET", "POST", …; HEAD requests are answered by GET handlers and say "HEAD". */
const char *http_req_method(const struct http_req *req);

/* A "{name}" placeholder of the route's pattern, decoded; NULL if none. */
const char *http_req_param(const struct http_req *req, const char *name);

/*
 * A query-string parameter, decoded ("+" is a space); NULL when absent or
 * when the query string is malformed.  With repeated names, the first wins.
 */
const char *http_req_query(struct http_req *req, const char *name);

/* A request header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/* The peer's address ("127.0.0.1", "::1"). */
const char *http_req_client_addr(const struct http_req *req);

/*
 * The client's address as the proxies in trusted saw it: when the peer is
 * one of them, the right-most address of "Forwarded: for=" (RFC 7239) or
 * else "X-Forwarded-For" that is not itself trusted; an entry that is no
 * address stops the walk at the hop that wrote it.  Without trusted
 * proxies, or from another peer, the peer's address.  Into out.
 */
struct netmask_list;
void http_req_client_addr_via(const struct http_req *req, const struct netmask_list *trusted,
                              char *out, size_t size);

/* The worker's data, as set by the server's worker_init (see server.h). */
void *http_req_worker(const struct http_req *req);

/*
 * Parse the body as a JSON object into *out (caller frees with json_decref).
 * Refuses, answering the request itself with the SPEC §8 error, when:
 *   Content-Type is not application/json (parameters allowed, but a charset
 *   other than utf-8 is not)                                  -> 415
 *   the body is larger than the server's max_body               -> 413
 *   the body is empty, not JSON, or not an object               -> 400
 * and then returns -ERR_USAGE with e saying the same; the handler should
 * just return that code.  (A body over max_body never reaches a handler:
 * see server.h.)
 */
int http_req_json(struct http_req *req, json_t **out, struct err *e);

/* The request's path as received, without the query (borrowed). */
const char *http_req_path(const struct http_req *req);

/*
 * The raw body (borrowed until the reply; not NUL-terminated), for a
 * handler that must check a signature over the exact bytes (webhooks).
 */
const unsigned char *http_req_body(struct http_req *req, size_t *len);

/* Add a response header (before the reply). */
void http_set_header(struct http_req *req, const char *name, const char *value);

/*
 * Answer with status and body serialised compactly.  Steals the reference
 * to body (json_decref'd here, also when the request was already answered).
 * A NULL body (the handler's json_pack() failed, typically on a string that
 * is not UTF-8) answers 500 instead.  Returns 0.
 */
int http_reply_json(struct http_req *req, int status, json_t *body);

/* Answer with status and no body (204, or 200 without content). Returns 0. */
int http_reply_empty(struct http_req *req, int status);

/*
 * Answer with a body of another type (for example Prometheus text): the
 * bytes are copied.  Returns 0.
 */
int http_reply_text(struct http_req *req, int status, const char *content_type, const char *body,
                    size_t len);

/*
 * Answer with the SPEC §8 error object.  code is a short snake_case token
 * ("not_found", "invalid", "slot_taken"); field names the input field at
 * fault or is NULL.  The message must hold no secret and no internals.
 * Returns 0.
 */
int http_reply_error(struct http_req *req, int status, const char *code, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * 500 with only the request id; logs cause (may be NULL) on the error level
 * so that the id in the answer finds the line in the log.  Returns 0.
 */
int http_reply_internal(struct http_req *req, const char *cause);

/*
 * Answer from an error code (what the server does when a handler returns
 * one without replying):
 *   ERR_USAGE, ERR_DB_CHECK          400 "invalid"      (e's message)
 *   ERR_NOT_FOUND                    404 "not_found"    (e's message)
 *   ERR_DB_OVERLAP                   409 "slot_taken"
 *   ERR_DB_UNIQUE                    409 "duplicate"
 *   ERR_DB_FOREIGN_KEY               409 "conflict"
 *   ERR_DB_CONNECT, ERR_DB_AUTH      503 "unavailable"  (generic message)
 *   anything else                    500 (http_reply_internal, e's message logged)
 * Database messages are never shown: they can quote SQL and data.
 * Returns 0.
 */
int http_reply_err(struct http_req *req, const struct err *e);

/*
 * Append the server's request metrics in the Prometheus text format 0.0.4
 * (for GET /metrics; every family with # HELP and # TYPE):
 *   citaplanner_http_requests_total{route,method,status}     counter
 *   citaplanner_http_request_duration_seconds{route,method}  histogram
 *   citaplanner_http_workers                                 gauge, worker threads
 *   citaplanner_http_requests_in_flight                      gauge
 * route is the matched pattern ("/api/v1/clients/{id}"), "unmatched" for
 * paths no route knows (method "any" then).  Routes never called are left out.
 */
void http_metrics_write(const struct http_req *req, struct buf *out);

#endif
