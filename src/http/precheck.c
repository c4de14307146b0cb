/* precheck — see precheck.h. */
#include "http/precheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>

enum {
    S_REQLINE,       /* the request line, or empty lines before it */
    S_EMPTY_LF,      /* a CR of an empty line before the request line: its LF */
    S_FIELD_START,   /* the start of a header line, or of the empty line ending them */
    S_NAME,          /* a header name */
    S_VALUE,         /* a header value */
    S_FIELD_LF,      /* the LF of a header line */
    S_HEAD_LF,       /* the LF of the empty line ending the headers */
    S_BODY,          /* a body of Content-Length bytes */
    S_CHUNK_SIZE,    /* a chunk-size line's digits */
    S_CHUNK_EXT,     /* its extensions (not given on) */
    S_CHUNK_SIZE_LF, /* its LF */
    S_CHUNK_DATA,    /* a chunk's bytes */
    S_CHUNK_END,     /* the CRLF after them */
    S_CHUNK_END_LF,  /* its LF */
    S_TRAILER,       /* after the last chunk: the empty line that ends the body */
    S_TRAILER_LF,    /* its LF */
};

static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", NULL};

bool http_precheck_in_head(const struct http_precheck *p)
{
    return p->state < S_BODY && p->head_bytes > 0;
}

void http_precheck_init(struct http_precheck *p, size_t max_head, size_t max_body)
{
    memset(p, 0, sizeof(*p));
    p->max_head = max_head;
    p->max_body = max_body;
    p->state = S_REQLINE;
}

void http_precheck_release(struct http_precheck *p)
{
    free(p->line);
    p->line = NULL;
    p->line_len = p->line_cap = 0;
}

static void precheck_refuse(struct http_precheck *p, int status, const char *code, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

static void precheck_refuse(struct http_precheck *p, int status, const char *code, const char *fmt,
                            ...)
{
    va_list ap;

    p->refusal.status = status;
    p->refusal.code = code;
    va_start(ap, fmt);
    vsnprintf(p->refusal.message, sizeof(p->refusal.message), fmt, ap);
    va_end(ap);
    p->refused_at = p->req_start;
}

static void bad(struct http_precheck *p, const char *message)
{
    precheck_refuse(p, 400, "bad_request", "%s", message);
}

/* c should be the LF after a CR: true if it is, else the request is refused. */
static bool lf(struct http_precheck *p, unsigned char c, const char *message)
{
    if (c != '\n')
        bad(p, message);
    return c == '\n';
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int hex_value(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The next request starts at the next byte. */
static void request_end(struct http_precheck *p)
{
    size_t max_head = p->max_head, max_body = p->max_body;
    uint64_t pos = p->pos;
    char *line = p->line;
    size_t cap = p->line_cap;

    memset(p, 0, sizeof(*p));
    p->max_head = max_head;
    p->max_body = max_body;
    p->pos = p->req_start = pos;
    p->line = line;
    p->line_cap = cap;
    p->state = S_REQLINE;
}

static bool line_add(struct http_precheck *p, unsigned char c)
{
    if (p->line_len == p->line_cap) {
        size_t cap = p->line_cap == 0 ? 256 : 2 * p->line_cap;
        char *grown = realloc(p->line, cap + 1);
        if (grown == NULL)
            return false;
        p->line = grown;
        p->line_cap = cap;
    }
    p->line[p->line_len++] = (char)c;
    return true;
}

/* METHOD SP request-target SP HTTP/1.x, the CR (if any) removed. */
static void request_line(struct http_precheck *p)
{
    char *line = p->line;
    size_t len = p->line_len;
    char *sp1 = memchr(line, ' ', len);
    char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
    char *version = sp2 != NULL ? sp2 + 1 : NULL;
    size_t vlen = version != NULL ? len - (size_t)(version - line) : 0;
    struct evhttp_uri *uri;
    bool known = false;

    if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1) {
        bad(p, "the request line is not 'METHOD TARGET HTTP/1.1'");
        return;
    }
    for (const char *c = line; c < sp1; c++) {
        if (!is_tchar((unsigned char)*c)) {
            bad(p, "the request method is not a token");
            return;
        }
    }
    for (const char *c = sp1 + 1; c < sp2; c++) {
        if (*c < 0x21 || *c > 0x7e) {
            bad(p, "the request target holds a character not allowed there");
            return;
        }
    }
    if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 || version[5] < '0' || version[5] > '9' ||
        version[6] != '.' || version[7] < '0' || version[7] > '9') {
        bad(p, "the HTTP version of the request line is not valid");
        return;
    }
    if (version[5] != '1') {
        precheck_refuse(p, 505, "http_version_not_supported",
                        "only HTTP/1.0 and HTTP/1.1 are served");
        return;
    }
    p->minor = version[7] - '0';
    for (int i = 0; methods[i] != NULL; i++)
        if ((size_t)(sp1 - line) == strlen(methods[i]) &&
            memcmp(line, methods[i], strlen(methods[i])) == 0)
            known = true;
    if (!known) {
        precheck_refuse(p, 501, "not_implemented", "the request method is not implemented");
        return;
    }
    p->head = sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0;
    /* What evhttp will parse: anything it would refuse is refused here, in JSON. */
    *sp2 = '\0';
    uri = evhttp_uri_parse_with_flags(sp1 + 1, EVHTTP_URI_NONCONFORMANT);
    if (uri == NULL)
        bad(p, "the request target is not a valid URI");
    else
        evhttp_uri_free(uri);
}

/* A value without its surrounding whitespace. */
static const char *trimmed(char *v, size_t *len)
{
    while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
        (*len)--;
    v[*len] = '\0';
    return v;
}

/* A header line was read: what of it concerns the framing. */
static void field_end(struct http_precheck *p)
{
    size_t vlen = p->value_len;
    const char *v = trimmed(p->value, &vlen);

    if (p->name_len >= sizeof(p->name))
        return; /* not one of those below */
    p->name[p->name_len] = '\0';
    if (strcmp(p->name, "content-length") == 0) {
        uint64_t n = 0;
        bool huge = p->value_long;
        if (vlen == 0 || strspn(v, "0123456789") != vlen) {
            bad(p, "the Content-Length header is not a number");
            return;
        }
        for (size_t i = 0; i < vlen && !huge; i++) {
            n = n * 10 + (uint64_t)(v[i] - '0');
            huge = n > ((uint64_t)1 << 62);
        }
        if (++p->n_length > 1) {
            /* RFC 9110 §8.6 allows either; one answer for both is simpler to rely on. */
            bad(p, n == p->length && !huge ? "the request has two Content-Length headers"
                                           : "the request has two different Content-Length values");
            return;
        }
        p->length = n;
        if (huge || n > p->max_body)
            precheck_refuse(p, 413, "payload_too_large",
                            "the request body is larger than %zu bytes", p->max_body);
    } else if (strcmp(p->name, "transfer-encoding") == 0) {
        p->n_te++;
        p->te_long = p->value_long;
        memcpy(p->te, v, vlen + 1);
    } else if (strcmp(p->name, "expect") == 0) {
        if (p->value_long || strcasecmp(v, "100-continue") != 0)
            precheck_refuse(p, 417, "expectation_failed",
                            "only 'Expect: 100-continue' is understood");
    } else if (strcmp(p->name, "host") == 0) {
        if (++p->n_host > 1)
            bad(p, "the request has more than one Host header");
    }
}

/* The last of the chunked codings listed in te, or NULL if it is not chunked. */
static bool chunked_last(const char *te)
{
    const char *last = strrchr(te, ',');

    last = last != NULL ? last + 1 : te;
    last += strspn(last, " \t");
    return strcasecmp(last, "chunked") == 0;
}

/* A chunk-size line begins. */
static void chunk_line_begin(struct http_precheck *p)
{
    p->state = S_CHUNK_SIZE;
    p->line_bytes = 0;
    p->digits = false;
    p->left = 0;
}

/* The chunk-size line was read. */
static void chunk_size_end(struct http_precheck *p)
{
    if (!p->digits) {
        bad(p, "a chunk-size line has no size");
    } else if (p->left == 0) {
        p->state = S_TRAILER;
    } else {
        p->total += p->left;
        p->state = S_CHUNK_DATA;
    }
}

/* The empty line after the headers: how the body is framed. */
static void head_end(struct http_precheck *p)
{
    if (p->n_te > 0) {
        if (p->minor == 0) {
            bad(p, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
        } else if (p->n_length > 0) {
            bad(p, "the request has both Content-Length and Transfer-Encoding");
        } else if (p->te_long || !chunked_last(p->te)) {
            bad(p, "the body's length cannot be known: chunked is not its last transfer coding");
        } else if (p->n_te > 1 || strcasecmp(p->te, "chunked") != 0) {
            precheck_refuse(p, 501, "not_implemented",
                            "the only transfer coding accepted is chunked");
        } else if (p->head) {
            bad(p, "a HEAD request has no body");
        } else {
            chunk_line_begin(p);
        }
    } else if (p->length > 0) {
        if (p->head) {
            bad(p, "a HEAD request has no body");
        } else {
            p->state = S_BODY;
            p->left = p->length;
        }
    } else {
        request_end(p);
    }
}

/* One byte of the request line or headers; false: not given on. */
static bool head_byte(struct http_precheck *p, unsigned char c)
{
    if (++p->head_bytes > p->max_head) {
        precheck_refuse(p, 431, "headers_too_large",
                        "the request line and headers are larger than %zu bytes", p->max_head);
        return false;
    }
    switch (p->state) {
    case S_REQLINE:
        if (p->line_len == 0 && (c == '\r' || c == '\n')) {
            /* an empty line before the request line: ignored (evhttp would refuse it) */
            p->head_bytes--;
            if (c == '\r')
                p->state = S_EMPTY_LF;
            return false;
        }
        if (c == '\n') {
            if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
                p->line_len--;
            request_line(p);
            p->line_len = 0;
            p->state = S_FIELD_START;
        } else if (p->line_len >= HTTP_PRECHECK_MAX_LINE) {
            precheck_refuse(p, 414, "uri_too_long", "the request line is longer than %d bytes",
                            HTTP_PRECHECK_MAX_LINE);
        } else if (!line_add(p, c)) {
            precheck_refuse(p, 503, "server_busy", "out of memory");
        }
        return true;
    case S_EMPTY_LF:
        p->head_bytes--;
        if (c != '\n')
            bad(p, "a CR not followed by LF before the request line");
        p->state = S_REQLINE;
        return false;
    case S_FIELD_START:
        if (c == '\r') {
            p->state = S_HEAD_LF;
        } else if (c == '\n') {
            head_end(p);
        } else if (c == ' ' || c == '\t') {
            bad(p, "a header line begins with whitespace (obsolete line folding is not accepted)");
        } else if (is_tchar(c)) {
            p->name_len = 0;
            p->value_len = 0;
            p->value_long = false;
            p->name[p->name_len++] = (char)(c | (c >= 'A' && c <= 'Z' ? 0x20 : 0));
            p->state = S_NAME;
        } else {
            bad(p, "a header name is not a token");
        }
        return true;
    case S_NAME:
        if (c == ':') {
            p->state = S_VALUE;
        } else if (is_tchar(c)) {
            if (p->name_len < sizeof(p->name))
                p->name[p->name_len] = (char)(c | (c >= 'A' && c <= 'Z' ? 0x20 : 0));
            p->name_len++;
        } else {
            bad(p, "a header name is not a token, or is not followed by ':'");
        }
        return true;
    case S_VALUE:
        if (c == '\r' || c == '\n') {
            field_end(p);
            if (c == '\r')
                p->state = S_FIELD_LF;
            else if (p->refusal.status == 0)
                p->state = S_FIELD_START;
        } else if (c == '\t' && p->value_len == 0 &&
                   ((p->name_len == 17 && memcmp(p->name, "transfer-encoding", 17) == 0) ||
                    (p->name_len == 6 && memcmp(p->name, "expect", 6) == 0))) {
            /* evhttp skips spaces only, and would read the tab as part of the value */
            bad(p, "a Transfer-Encoding or Expect value begins with a tab");
        } else if (c == ' ' && p->value_len == 0) {
            /* leading whitespace */
        } else if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
            if (p->value_len < sizeof(p->value) - 1)
                p->value[p->value_len++] = (char)c;
            else
                p->value_long = true;
        } else {
            bad(p, "a header value holds a control character");
        }
        return true;
    case S_FIELD_LF:
        if (lf(p, c, "a CR in a header line is not followed by LF"))
            p->state = S_FIELD_START;
        return true;
    case S_HEAD_LF:
        if (lf(p, c, "a CR in a header line is not followed by LF"))
            head_end(p);
        return true;
    }
    return true;
}

/* One byte of a chunked body outside chunk data; false: not given on. */
static bool chunk_byte(struct http_precheck *p, unsigned char c)
{
    bool keep = true;

    if ((p->state == S_CHUNK_SIZE || p->state == S_CHUNK_EXT) &&
        ++p->line_bytes > HTTP_PRECHECK_MAX_CHUNK_LINE) {
        bad(p, "a chunk-size line is too long");
        return false;
    }
    switch (p->state) {
    case S_CHUNK_SIZE:
        if (is_hex(c) && p->state == S_CHUNK_SIZE) {
            p->digits = true;
            p->left = p->left * 16 + (uint64_t)hex_value(c);
            if (p->left > p->max_body || p->total + p->left > p->max_body)
                precheck_refuse(p, 413, "payload_too_large",
                                "the request body is larger than %zu bytes", p->max_body);
        } else if (p->digits && (c == ';' || c == ' ' || c == '\t')) {
            /* chunk-ext, BWS first: evhttp refuses extensions, so it is not shown them */
            p->state = S_CHUNK_EXT;
            keep = false;
        } else if (p->digits && c == '\r') {
            p->state = S_CHUNK_SIZE_LF;
        } else if (c == '\n') {
            chunk_size_end(p);
        } else {
            bad(p, "a chunk size is not a hexadecimal number");
        }
        break;
    case S_CHUNK_EXT:
        keep = false;
        if (c == '\r') {
            p->state = S_CHUNK_SIZE_LF;
            keep = true;
        } else if (c == '\n') {
            chunk_size_end(p);
            keep = true;
        } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
            bad(p, "a chunk extension holds a control character");
        }
        break;
    case S_CHUNK_SIZE_LF:
        if (lf(p, c, "a CR in a chunk-size line is not followed by LF"))
            chunk_size_end(p);
        break;
    case S_CHUNK_END:
        if (c == '\r') {
            p->state = S_CHUNK_END_LF;
        } else if (c == '\n') {
            chunk_line_begin(p);
        } else {
            bad(p, "chunk data is not followed by CRLF");
        }
        break;
    case S_CHUNK_END_LF:
        if (lf(p, c, "chunk data is not followed by CRLF"))
            chunk_line_begin(p);
        break;
    case S_TRAILER:
        if (c == '\r')
            p->state = S_TRAILER_LF;
        else if (c == '\n')
            request_end(p);
        else
            bad(p, "trailer fields are not accepted");
        break;
    case S_TRAILER_LF:
        if (lf(p, c, "a CR after the last chunk is not followed by LF"))
            request_end(p);
        break;
    }
    return keep;
}

size_t http_precheck_feed(struct http_precheck *p, const unsigned char *data, size_t len,
                          unsigned char *out)
{
    size_t n = 0;
    size_t i = 0;

    while (i < len && p->refusal.status == 0) {
        unsigned char c = data[i];
        bool keep;

        if (p->state == S_BODY || p->state == S_CHUNK_DATA) {
            size_t take = len - i < p->left ? len - i : (size_t)p->left;
            memmove(out + n, data + i, take);
            n += take;
            i += take;
            p->pos += take;
            p->left -= take;
            if (p->left == 0 && p->state == S_BODY)
                request_end(p);
            else if (p->left == 0)
                p->state = S_CHUNK_END;
            continue;
        }
        keep = p->state <= S_HEAD_LF ? head_byte(p, c) : chunk_byte(p, c);
        if (p->refusal.status != 0)
            break;
        if (keep) {
            out[n++] = c;
            p->pos++;
        }
        i++;
    }
    return n;
}

static const char *reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

size_t http_precheck_answer(int status, const char *code, const char *message,
                            const char *request_id, bool hsts, char *out, size_t size)
{
    char body[320];
    int blen =
        snprintf(body, sizeof(body),
                 "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"field\":null}}", code, message);
    int n;

    if (blen < 0 || (size_t)blen >= sizeof(body))
        return 0;
    n = snprintf(out, size,
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                 "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
                 "X-Request-Id: %s\r\n%s"
                 "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
                 status, reason(status), request_id,
                 hsts ? "Strict-Transport-Security: max-age=31536000\r\n" : "", blen, body);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
