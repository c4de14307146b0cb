/* request — see request.h; http_dispatch() is the private seam of dispatch.h. */
#include "http/request.h"

#include <arpa/inet.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/netmask.h"
#include "common/util.h"
#include "http/dispatch.h"

struct http_req {
    struct evhttp_request *ev;
    const struct http_dispatch *d;
    const struct http_route *route;
    struct http_params params;
    struct evkeyvalq query;
    int query_state; /* 0 not parsed yet, 1 parsed, -1 malformed */
    char id[17];
    const char *method;
    const char *path;
    const char *client;
    bool head;
    bool close; /* answer with "Connection: close" */
    bool replied;
    int status;
    size_t bytes;
};

void http_request_id(char id[17])
{
    static __thread uint64_t fallback;
    unsigned char raw[8];

    if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != (ssize_t)sizeof(raw)) {
        /* No entropy yet (early boot): an id only has to be unique enough to
         * find a log line, so a clock-seeded per-thread sequence will do. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        fallback = fallback * 6364136223846793005u + (uint64_t)ts.tv_nsec + 1442695040888963407u;
        memcpy(raw, &fallback, sizeof(raw));
    }
    hex_encode(raw, sizeof(raw), id);
}

const char *http_req_method(const struct http_req *req)
{
    return req->method;
}

const char *http_req_param(const struct http_req *req, const char *name)
{
    return http_params_get(&req->params, name);
}

const char *http_req_query(struct http_req *req, const char *name)
{
    if (req->query_state == 0) {
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);
        const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;

        req->query_state = 1;
        if (q != NULL && evhttp_parse_query_str(q, &req->query) < 0) {
            evhttp_clear_headers(&req->query);
            req->query_state = -1;
        }
    }
    if (req->query_state < 0)
        return NULL;
    return evhttp_find_header(&req->query, name);
}

/* The address in a "for=" or X-Forwarded-For entry s[0..n): quotes, brackets and a port dropped. */
static bool forwarded_addr(const char *s, size_t n, char *out, size_t size)
{
    unsigned char bin[16];

    while (n > 0 && (*s == ' ' || *s == '"')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '"'))
        n--;
    if (n > 0 && *s == '[') { /* "[2001:db8::1]:4711" */
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return false;
        n = (size_t)(close - s - 1);
        s++;
    } else if (n > 0 && memchr(s, ':', n) != NULL && memchr(s, '.', n) != NULL) {
        n = (size_t)((const char *)memchr(s, ':', n) - s); /* "192.0.2.1:4711" */
    }
    if (n == 0 || n >= size)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return inet_pton(AF_INET, out, bin) == 1 || inet_pton(AF_INET6, out, bin) == 1;
}

void http_req_client_addr_via(const struct http_req *req, const struct netmask_list *trusted,
                              char *out, size_t size)
{
    const char *fwd = http_req_header(req, "Forwarded");
    const char *xff = http_req_header(req, "X-Forwarded-For");
    const char *list = fwd != NULL ? fwd : xff;
    char hop[64];

    snprintf(out, size, "%s", req->client);
    if (trusted == NULL || list == NULL || !netmask_list_contains(trusted, req->client))
        return;
    /* From the right: each entry was written by the hop after it, trusted so far. */
    for (size_t end = strlen(list); end > 0;) {
        size_t start = end;
        while (start > 0 && list[start - 1] != ',')
            start--;
        const char *entry = list + start;
        size_t n = end - start;
        if (fwd != NULL) { /* "for=1.2.3.4;proto=https;by=…": the for= part */
            const char *p = entry;
            const char *stop = entry + n;
            const char *f = NULL;
            while (p < stop) {
                while (p < stop && (*p == ' ' || *p == ';'))
                    p++;
                if (stop - p > 4 && strncasecmp(p, "for=", 4) == 0) {
                    f = p + 4;
                    break;
                }
                while (p < stop && *p != ';')
                    p++;
            }
            if (f == NULL)
                return;
            entry = f;
            n = (size_t)((const char *)memchr(f, ';', (size_t)(stop - f)) != NULL
                             ? (const char *)memchr(f, ';', (size_t)(stop - f)) - f
                             : stop - f);
        }
        if (!forwarded_addr(entry, n, hop, sizeof(hop)))
            return;
        snprintf(out, size, "%s", hop);
        if (!netmask_list_contains(trusted, hop))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

const char *http_req_header(const struct http_req *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

const char *http_req_client_addr(const struct http_req *req)
{
    return req->client;
}

void *http_req_worker(const struct http_req *req)
{
    return req->d->worker_data;
}

void http_set_header(struct http_req *req, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

/*
 * Send what is in the request's output buffer with status.  Every answer
 * goes through here, so the common headers are set in one place.
 */
static void send_reply(struct http_req *req, int status, const char *content_type)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req->ev);
    struct evbuffer *out = evhttp_request_get_output_buffer(req->ev);
    size_t len = evbuffer_get_length(out);

    evhttp_add_header(headers, "X-Request-Id", req->id);
    /* A handler may set its own caching (the embedded web app: ETag + no-cache). */
    if (evhttp_find_header(headers, "Cache-Control") == NULL)
        evhttp_add_header(headers, "Cache-Control", "no-store");
    evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
    if (req->d->hsts)
        evhttp_add_header(headers, "Strict-Transport-Security", "max-age=31536000");
    if (content_type != NULL)
        evhttp_add_header(headers, "Content-Type", content_type);
    if (req->d->closing || req->close)
        evhttp_add_header(headers, "Connection", "close");
    if (req->head && len > 0) {
        /* libevent 2.1 would send the body of a HEAD answer: keep only its length. */
        char n[32];
        snprintf(n, sizeof(n), "%zu", len);
        evhttp_add_header(headers, "Content-Length", n);
        evbuffer_drain(out, len);
        len = 0;
    }
    evhttp_send_reply(req->ev, status, NULL, NULL);
    req->replied = true;
    req->status = status;
    req->bytes = len;
}

/* A second answer is a bug in a handler: say so once, loudly, and drop it. */
static bool already_replied(struct http_req *req)
{
    if (!req->replied)
        return false;
    log_error("bug: second answer to '%s %s' ignored", req->method, req->path);
    return true;
}

static int dump_to_evbuffer(const char *data, size_t size, void *arg)
{
    return evbuffer_add(arg, data, size);
}

int http_reply_json(struct http_req *req, int status, json_t *body)
{
    struct evbuffer *out;
    bool serialised = true;

    if (already_replied(req))
        goto cleanup;
    out = evhttp_request_get_output_buffer(req->ev);
    /* NULL: the handler's json_pack() failed (a string that is not UTF-8). */
    if (body == NULL ||
        json_dump_callback(body, dump_to_evbuffer, out, JSON_COMPACT | JSON_ENCODE_ANY) < 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        serialised = false;
        goto cleanup;
    }
    send_reply(req, status, "application/json; charset=utf-8");

cleanup:
    json_decref(body);
    if (!serialised)
        http_reply_internal(req, "cannot build the answer as JSON");
    return 0;
}

int http_reply_empty(struct http_req *req, int status)
{
    if (!already_replied(req))
        send_reply(req, status, NULL);
    return 0;
}

int http_reply_text(struct http_req *req, int status, const char *content_type, const char *body,
                    size_t len)
{
    if (!already_replied(req)) {
        evbuffer_add(evhttp_request_get_output_buffer(req->ev), body, len);
        send_reply(req, status, content_type);
    }
    return 0;
}

static int reply_errorv(struct http_req *req, int status, const char *code, const char *field,
                        json_t *extra, const char *fmt, va_list ap)
{
    static const char last_resort[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\",\"field\":null}}";
    char msg[ERR_MSG_MAX];
    json_t *error;
    json_t *body = NULL;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    error = json_pack("{s:s, s:s, s:s?}", "code", code, "message", msg, "field", field);
    if (error == NULL) {
        /* msg is not valid UTF-8 (it quoted raw input, or was cut mid-character): say less. */
        error = json_pack("{s:s, s:s, s:n}", "code", code, "message", code, "field");
    }
    if (error != NULL && extra != NULL)
        json_object_update(error, extra);
    json_decref(extra);
    if (error != NULL)
        body = json_pack("{s:o}", "error", error);
    /* Never hand NULL to http_reply_json: it would answer with this function. */
    if (body == NULL)
        return http_reply_text(req, status, "application/json; charset=utf-8", last_resort,
                               sizeof(last_resort) - 1);
    return http_reply_json(req, status, body);
}

int http_reply_error(struct http_req *req, int status, const char *code, const char *field,
                     const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reply_errorv(req, status, code, field, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

static int reply_error_extra(struct http_req *req, int status, const char *code, json_t *extra,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int reply_error_extra(struct http_req *req, int status, const char *code, json_t *extra,
                             const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = reply_errorv(req, status, code, NULL, extra, fmt, ap);
    va_end(ap);
    return rc;
}

int http_reply_internal(struct http_req *req, const char *cause)
{
    log_error("'%s %s' failed: %s", req->method, req->path, cause ? cause : "internal error");
    return reply_error_extra(req, 500, "internal", json_pack("{s:s}", "request_id", req->id),
                             "internal error; quote request id %s when reporting it", req->id);
}

int http_reply_err(struct http_req *req, const struct err *e)
{
    const char *msg = e->msg[0] != '\0' ? e->msg : err_desc(e->code);

    switch (e->code) {
    case ERR_USAGE:
        return http_reply_error(req, 400, "invalid", NULL, "%s", msg);
    case ERR_DB_CHECK:
        return http_reply_error(req, 400, "invalid", NULL, "a value is out of its allowed range");
    case ERR_NOT_FOUND:
        return http_reply_error(req, 404, "not_found", NULL, "%s", msg);
    case ERR_DB_OVERLAP:
        return http_reply_error(req, 409, "slot_taken", NULL,
                                "the professional already has an appointment at that time");
    case ERR_DB_UNIQUE:
        return http_reply_error(req, 409, "duplicate", NULL, "such a record already exists");
    case ERR_DB_FOREIGN_KEY:
        return http_reply_error(req, 409, "conflict", NULL,
                                "the record refers to, or is referred to by, another record");
    case ERR_DB_CONNECT:
    case ERR_DB_AUTH:
        log_warn("'%s %s': %s", req->method, req->path, msg);
        return http_reply_error(req, 503, "unavailable", NULL,
                                "the database is unavailable; try again shortly");
    default:
        return http_reply_internal(req, msg);
    }
}

/*
 * Is the Content-Type header application/json?  Parameters may follow; the
 * only charset JSON may have (RFC 8259) is UTF-8, so another one is refused
 * rather than misread.
 */
static bool content_type_is_json(const char *ct)
{
    static const char json_type[] = "application/json";
    const char *p;

    if (ct == NULL)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, json_type, sizeof(json_type) - 1) != 0)
        return false;
    p = ct + sizeof(json_type) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return true;
    if (*p != ';')
        return false;
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, ";");
        if (len >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t vlen = len - 8;
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (!((vlen == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
                  (vlen == 4 && strncasecmp(v, "utf8", 4) == 0)))
                return false;
        }
        p += len;
    }
    return true;
}

const char *http_req_path(const struct http_req *req)
{
    return req->path;
}

const unsigned char *http_req_body(struct http_req *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);

    *len = evbuffer_get_length(in);
    return *len > 0 ? evbuffer_pullup(in, -1) : (const unsigned char *)"";
}

int http_req_json(struct http_req *req, json_t **out, struct err *e)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    size_t len = evbuffer_get_length(in);
    json_error_t jerr;
    json_t *json = NULL;
    int rc = 0;

    *out = NULL;
    if (!content_type_is_json(http_req_header(req, "Content-Type"))) {
        http_reply_error(req, 415, "unsupported_media_type", NULL,
                         "the request body must be JSON, sent with "
                         "'Content-Type: application/json'");
        rc = err_set(e, ERR_USAGE, "request body is not 'application/json'");
        goto cleanup;
    }
    if (len > req->d->max_body) {
        http_reply_error(req, 413, "payload_too_large", NULL,
                         "the request body is larger than %zu bytes", req->d->max_body);
        rc = err_set(e, ERR_USAGE, "request body larger than %zu bytes", req->d->max_body);
        goto cleanup;
    }
    if (len == 0) {
        http_reply_error(req, 400, "invalid_json", NULL, "the request body is empty");
        rc = err_set(e, ERR_USAGE, "request body is empty");
        goto cleanup;
    }
    json = json_loadb((const char *)evbuffer_pullup(in, -1), len, JSON_REJECT_DUPLICATES, &jerr);
    if (json == NULL) {
        http_reply_error(req, 400, "invalid_json", NULL,
                         "the request body is not valid JSON: %s (line %d, column %d)", jerr.text,
                         jerr.line, jerr.column);
        rc = err_set(e, ERR_USAGE, "invalid JSON: %s", jerr.text);
        goto cleanup;
    }
    if (!json_is_object(json)) {
        http_reply_error(req, 400, "invalid_json", NULL, "the request body must be a JSON object");
        rc = err_set(e, ERR_USAGE, "request body is not a JSON object");
        goto cleanup;
    }
    *out = json;
    json = NULL;

cleanup:
    json_decref(json);
    return rc;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "UNKNOWN";
}

/*
 * Copy s for a log line: at most size - 1 bytes, control characters and
 * bytes outside ASCII as '?', so that a crafted path cannot forge lines or
 * send escape sequences to a terminal.
 */
static void printable(const char *s, char *out, size_t size)
{
    size_t n = 0;

    for (; *s != '\0' && n + 1 < size; s++)
        out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    out[n] = '\0';
}

/* ---- metrics -------------------------------------------------------------- */

/* Histogram upper bounds in seconds (Prometheus' usual web latencies). */
static const double http_metrics_bounds[HTTP_METRICS_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

/* Statuses counted one by one; any other counts under its class ("4xx"). */
static const int http_metrics_codes[HTTP_METRICS_STATUSES - 5] = {
    200, 201, 202, 204, 301, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503,
};

struct http_metrics *http_metrics_new(const struct http_route *routes, int threads)
{
    struct http_metrics *m = xcalloc(1, sizeof(*m));

    m->routes = routes;
    while (routes != NULL && routes[m->nroutes].method != NULL)
        m->nroutes++;
    /* xcalloc's zeroes are valid initial values of the atomics. */
    m->per_route = xcalloc((size_t)m->nroutes + 1, sizeof(*m->per_route));
    m->threads = threads;
    atomic_init(&m->busy, 0);
    return m;
}

void http_metrics_free(struct http_metrics *m)
{
    if (m == NULL)
        return;
    free(m->per_route);
    free(m);
}

static int status_slot(int status)
{
    const int ncodes = (int)(sizeof(http_metrics_codes) / sizeof(http_metrics_codes[0]));

    for (int i = 0; i < ncodes; i++)
        if (http_metrics_codes[i] == status)
            return i;
    if (status < 100 || status > 599)
        status = 500;
    return ncodes + status / 100 - 1;
}

static void status_label(int slot, char out[16])
{
    const int ncodes = (int)(sizeof(http_metrics_codes) / sizeof(http_metrics_codes[0]));

    if (slot < ncodes)
        snprintf(out, 16, "%d", http_metrics_codes[slot]);
    else
        snprintf(out, 16, "%dxx", slot - ncodes + 1);
}

static void metrics_count(const struct http_dispatch *d, const struct http_req *req, double seconds)
{
    struct http_metrics *m = d->metrics;
    struct http_route_metrics *rm;
    int idx, b = 0;

    if (m == NULL)
        return;
    idx = m->nroutes;
    if (req->route != NULL && m->routes == d->routes && req->route >= d->routes &&
        req->route < d->routes + m->nroutes)
        idx = (int)(req->route - d->routes);
    rm = &m->per_route[idx];
    while (b < HTTP_METRICS_BUCKETS && seconds > http_metrics_bounds[b])
        b++;
    atomic_fetch_add_explicit(&rm->by_status[status_slot(req->status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rm->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rm->sum_us, (uint_fast64_t)(seconds * 1e6 + 0.5),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&rm->count, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&m->busy, 1, memory_order_relaxed);
}

/* A label value with '\', '"' and newlines escaped, as the text format wants. */
static void add_label(struct buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            buf_addc(out, '\\');
        if (*s == '\n')
            buf_adds(out, "\\n");
        else
            buf_addc(out, *s);
    }
}

static void route_labels(struct buf *out, const struct http_metrics *m, int i)
{
    buf_adds(out, "route=\"");
    add_label(out, i < m->nroutes ? m->routes[i].pattern : "unmatched");
    buf_adds(out, "\",method=\"");
    add_label(out, i < m->nroutes ? m->routes[i].method : "any");
    buf_adds(out, "\"");
}

void http_metrics_write(const struct http_req *req, struct buf *out)
{
    const struct http_metrics *m = req->d->metrics;

    if (m == NULL)
        return;
    buf_adds(out, "# HELP citaplanner_http_requests_total HTTP requests answered, by route, "
                  "method and status.\n"
                  "# TYPE citaplanner_http_requests_total counter\n");
    for (int i = 0; i <= m->nroutes; i++) {
        const struct http_route_metrics *rm = &m->per_route[i];
        for (int s = 0; s < HTTP_METRICS_STATUSES; s++) {
            uint_fast64_t n = atomic_load_explicit(&rm->by_status[s], memory_order_relaxed);
            char code[16];
            if (n == 0)
                continue;
            status_label(s, code);
            buf_adds(out, "citaplanner_http_requests_total{");
            route_labels(out, m, i);
            buf_addf(out, ",status=\"%s\"} %llu\n", code, (unsigned long long)n);
        }
    }
    buf_adds(out, "# HELP citaplanner_http_request_duration_seconds Time from a request's "
                  "arrival to its answer, by route and method.\n"
                  "# TYPE citaplanner_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= m->nroutes; i++) {
        const struct http_route_metrics *rm = &m->per_route[i];
        uint_fast64_t count = atomic_load_explicit(&rm->count, memory_order_relaxed);
        unsigned long long cum = 0;
        if (count == 0)
            continue;
        for (int b = 0; b <= HTTP_METRICS_BUCKETS; b++) {
            cum += atomic_load_explicit(&rm->buckets[b], memory_order_relaxed);
            buf_adds(out, "citaplanner_http_request_duration_seconds_bucket{");
            route_labels(out, m, i);
            if (b < HTTP_METRICS_BUCKETS)
                buf_addf(out, ",le=\"%g\"} %llu\n", http_metrics_bounds[b], cum);
            else
                buf_addf(out, ",le=\"+Inf\"} %llu\n", cum);
        }
        buf_adds(out, "citaplanner_http_request_duration_seconds_sum{");
        route_labels(out, m, i);
        buf_addf(out, "} %.6f\n",
                 (double)atomic_load_explicit(&rm->sum_us, memory_order_relaxed) / 1e6);
        buf_adds(out, "citaplanner_http_request_duration_seconds_count{");
        route_labels(out, m, i);
        /* The +Inf bucket's value: _count must equal it for a consistent histogram. */
        buf_addf(out, "} %llu\n", cum);
    }
    buf_addf(out,
             "# HELP citaplanner_http_workers HTTP worker threads (each holds one database "
             "connection).\n"
             "# TYPE citaplanner_http_workers gauge\n"
             "citaplanner_http_workers %d\n"
             "# HELP citaplanner_http_requests_in_flight Requests being handled now.\n"
             "# TYPE citaplanner_http_requests_in_flight gauge\n"
             "citaplanner_http_requests_in_flight %d\n",
             m->threads, atomic_load_explicit(&m->busy, memory_order_relaxed));
    if (m->guard != NULL)
        buf_addf(out,
                 "# HELP citaplanner_http_connections Client connections open now.\n"
                 "# TYPE citaplanner_http_connections gauge\n"
                 "citaplanner_http_connections %d\n"
                 "# HELP citaplanner_http_connections_refused_total Connections answered 503 "
                 "past HTTP_MAX_CONNECTIONS or HTTP_MAX_CONNECTIONS_PER_CLIENT.\n"
                 "# TYPE citaplanner_http_connections_refused_total counter\n"
                 "citaplanner_http_connections_refused_total %llu\n"
                 "# HELP citaplanner_http_connections_timed_out_total Connections closed by "
                 "HTTP_REQUEST_TIMEOUT or HTTP_IDLE_TIMEOUT.\n"
                 "# TYPE citaplanner_http_connections_timed_out_total counter\n"
                 "citaplanner_http_connections_timed_out_total %llu\n"
                 "# HELP citaplanner_http_requests_malformed_total Requests refused before "
                 "parsing (malformed, ambiguous framing, over a limit).\n"
                 "# TYPE citaplanner_http_requests_malformed_total counter\n"
                 "citaplanner_http_requests_malformed_total %llu\n",
                 atomic_load(&m->guard->open), (unsigned long long)atomic_load(&m->guard->refused),
                 (unsigned long long)atomic_load(&m->guard->timed_out),
                 (unsigned long long)atomic_load(&m->guard->malformed));
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool text_ok(const struct buf *b)
{
    return b->len == 0 || (utf8_valid(b->data, b->len) && memchr(b->data, '\0', b->len) == NULL);
}

/*
 * Every query parameter, once percent-decoded, must be UTF-8 text without a
 * NUL byte: a handler would otherwise see a value cut at the NUL, or hand
 * the database bytes it refuses (a 500 on PostgreSQL).  Answers 400 naming
 * the first parameter that is not, and returns -1; 0 when all are.
 */
static int check_query(struct http_req *req, const char *q)
{
    struct buf key = BUF_INIT, val = BUF_INIT;
    int rc = 0;

    while (q != NULL && *q != '\0' && rc == 0) {
        size_t len = strcspn(q, "&");
        struct buf *cur = &key;

        buf_reset(&key);
        buf_reset(&val);
        for (size_t i = 0; i < len; i++) {
            int hi, lo;
            if (q[i] == '=' && cur == &key) {
                cur = &val;
            } else if (q[i] == '%' && i + 2 < len && (hi = hex_digit(q[i + 1])) >= 0 &&
                       (lo = hex_digit(q[i + 2])) >= 0) {
                buf_addc(cur, (char)(hi << 4 | lo));
                i += 2;
            } else {
                buf_addc(cur, q[i] == '+' ? ' ' : q[i]);
            }
        }
        bool key_ok = text_ok(&key);
        bool val_ok = text_ok(&val);
        if (!key_ok) {
            http_reply_error(req, 400, "invalid", NULL,
                             "a query parameter name is not UTF-8 text without NUL bytes");
            rc = -1;
        } else if (!val_ok) {
            char name[64];
            printable(buf_str(&key), name, sizeof(name));
            http_reply_error(req, 400, "invalid", name,
                             "query parameter '%s' must be UTF-8 text without NUL bytes", name);
            rc = -1;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    buf_release(&key);
    buf_release(&val);
    return rc;
}

/* Run the matched route's handler and make sure the request is answered. */
static void run_handler(struct http_req *req)
{
    struct err e;
    int rc;

    err_clear(&e);
    rc = req->route->handler(req, &e);
    if (rc < 0 && req->d->handler_failed != NULL)
        req->d->handler_failed(req->d->worker_data, &e);
    if (rc < 0 && !req->replied)
        http_reply_err(req, &e);
    else if (rc < 0)
        log_debug("'%s %s' answered %d: %s", req->method, req->path, req->status, e.msg);
    else if (!req->replied)
        http_reply_internal(req, "the handler returned without answering");
}

void http_dispatch(struct evhttp_request *ev, const struct http_dispatch *d, int busy_retry_after)
{
    struct http_req req;
    struct buf allow = BUF_INIT;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    char *client = NULL;
    ev_uint16_t port = 0;
    double start = time_mono();
    enum log_level level;
    char logged_path[256];

    if (d->metrics != NULL)
        atomic_fetch_add_explicit(&d->metrics->busy, 1, memory_order_relaxed);

    memset(&req, 0, sizeof(req));
    TAILQ_INIT(&req.query);
    req.ev = ev;
    req.d = d;
    http_request_id(req.id);
    log_set_context(req.id);
    req.method = method_name(evhttp_request_get_command(ev));
    req.head = evhttp_request_get_command(ev) == EVHTTP_REQ_HEAD;
    req.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    evhttp_connection_get_peer(evhttp_request_get_connection(ev), &client, &port);
    req.client = client != NULL ? client : "-";
    req.close = busy_retry_after > 0;

    if (req.path == NULL || req.path[0] != '/') {
        req.path = req.path == NULL || req.path[0] == '\0' ? "-" : req.path;
        http_reply_error(&req, 400, "invalid", NULL, "the request target must be a path");
        goto done;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(ev)) > d->max_body) {
        http_reply_error(&req, 413, "payload_too_large", NULL,
                         "the request body is larger than %zu bytes", d->max_body);
        goto done;
    }
    if (check_query(&req, uri != NULL ? evhttp_uri_get_query(uri) : NULL) < 0)
        goto done;
    switch (http_router_find(d->routes, req.method, req.path, &req.route, &req.params, &allow)) {
    case HTTP_ROUTE_FOUND:
        if (busy_retry_after > 0 && !(req.route->flags & HTTP_ROUTE_QUIET)) {
            char wait[16];
            snprintf(wait, sizeof(wait), "%d", busy_retry_after);
            http_set_header(&req, "Retry-After", wait);
            http_reply_error(&req, 503, "server_busy", NULL,
                             "too many connections are open; try again in %d seconds",
                             busy_retry_after);
        } else {
            run_handler(&req);
        }
        break;
    case HTTP_ROUTE_NOT_FOUND:
        http_reply_error(&req, 404, "not_found", NULL, "no resource at '%.200s'", req.path);
        break;
    case HTTP_ROUTE_METHOD_NOT_ALLOWED:
        http_set_header(&req, "Allow", buf_str(&allow));
        if (strcmp(req.method, "OPTIONS") == 0)
            http_reply_empty(&req, 204);
        else
            http_reply_error(&req, 405, "method_not_allowed", NULL,
                             "'%s' is not allowed on '%.200s'; allowed: %s", req.method, req.path,
                             buf_str(&allow));
        break;
    }

done:
    metrics_count(d, &req, time_mono() - start);
    level = req.route != NULL && (req.route->flags & HTTP_ROUTE_QUIET) ? LOG_DEBUG : LOG_INFO;
    if (req.status >= 500)
        level = LOG_WARN;
    printable(req.path, logged_path, sizeof(logged_path));
    log_msg(level, "%s %s %d %zuB %.1fms %s", req.method, logged_path, req.status, req.bytes,
            (time_mono() - start) * 1000.0, req.client);
    http_params_release(&req.params);
    evhttp_clear_headers(&req.query);
    buf_release(&allow);
    log_set_context(NULL);
}
