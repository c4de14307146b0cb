/*
 * precheck — private to src/http: the requests of one connection checked as
 * their bytes arrive, before libevent's evhttp parses them.
 *
 * evhttp 2.1 accepts what a server must refuse (two Content-Length headers,
 * of which it believes the first; obsolete line folding; a
 * Transfer-Encoding other than chunked, which it ignores and frames by
 * Content-Length), refuses what it should accept (chunk extensions), and
 * answers what it refuses with an HTML page we cannot change.  So the guard
 * (guard.c) feeds every byte of a connection's input here first, as it
 * arrives, and this parser follows the requests one after the other
 * (pipelined ones included) in the same framing evhttp will use:
 *
 *   - a request it refuses is named with its status, code and message
 *     (answered in our JSON error format by the guard, which then drops
 *     the rest of the input, so evhttp never completes that request and no
 *     handler runs);
 *   - whatever it accepts evhttp accepts too and frames the same way: the
 *     rules here are never looser than evhttp's;
 *   - bytes evhttp would misread are removed from what it is given: the
 *     extensions of a chunk-size line (RFC 9112 §7.1.1, which evhttp
 *     refuses; a recipient must ignore those it does not know) and empty
 *     lines before a request line (RFC 9112 §2.2).
 *
 * Where the RFCs leave a choice: duplicate Content-Length headers are
 * refused even when equal (RFC 9110 §8.6 allows refusing or keeping one:
 * one answer for every duplicate leaves nothing to read two ways), and so
 * is a Transfer-Encoding beside Content-Length (RFC 9112 §6.3); a line may
 * end in LF alone, as evhttp reads it; trailer fields are refused (evhttp
 * would merge them into the headers); a HEAD request with a body, a
 * Transfer-Encoding in HTTP/1.0 and more than one Host are 400; an Expect
 * other than 100-continue is 417.
 *
 * Positions count the bytes given on to evhttp (what is removed is not
 * counted), from the start of the connection.
 *
 * Pure: no sockets, no libevent state; evhttp_uri_parse_with_flags() is
 * used to check a request target exactly as evhttp will.
 */
#ifndef CITAPLANNER_HTTP_PRECHECK_H
#define CITAPLANNER_HTTP_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request line longer than this is answered 414. */
#define HTTP_PRECHECK_MAX_LINE 8192
/* A chunk-size line (extensions included) longer than this is refused. */
#define HTTP_PRECHECK_MAX_CHUNK_LINE 4096

struct http_precheck_refusal {
    int status;        /* 0: none */
    const char *code;  /* static */
    char message[160]; /* English */
};

struct http_precheck {
    size_t max_head; /* request line and headers, line ends included */
    size_t max_body;
    uint64_t pos;       /* bytes given on so far */
    uint64_t req_start; /* position of the current request's first byte */
    int state;
    size_t head_bytes; /* of the current request so far */
    size_t line_bytes; /* of the current line so far */
    char *line;        /* the request line being read (heap) */
    size_t line_len, line_cap;
    char name[32]; /* the header name being read, lowercase ("" when not one we look at) */
    size_t name_len;
    char value[64]; /* its value, when one we look at */
    size_t value_len;
    bool value_long;
    /* the current request */
    bool head;    /* HEAD */
    int minor;    /* HTTP/1.minor */
    int n_length; /* Content-Length headers */
    uint64_t length;
    int n_te; /* Transfer-Encoding headers */
    char te[64];
    bool te_long;
    int n_host;
    /* its body */
    uint64_t left;  /* bytes of the body (or of the chunk) still to come */
    uint64_t total; /* chunked: the sizes so far */
    bool digits;    /* chunked: the size line has a digit */
    struct http_precheck_refusal refusal;
    uint64_t refused_at; /* req_start of the refused request */
};

/* Is a request begun whose line and headers have not all arrived? */
bool http_precheck_in_head(const struct http_precheck *p);

/* Start on a new connection. */
void http_precheck_init(struct http_precheck *p, size_t max_head, size_t max_body);
void http_precheck_release(struct http_precheck *p);

/*
 * Read len more bytes of the connection.  The bytes evhttp is to be given
 * are written to out (which may be data itself: it never runs ahead of it)
 * and their number returned.  When a request is refused, p->refusal is set,
 * p->refused_at is where that request began, and reading stops: feed
 * nothing more.
 */
size_t http_precheck_feed(struct http_precheck *p, const unsigned char *data, size_t len,
                          unsigned char *out);

/*
 * The whole HTTP answer for an error this layer gives itself (the SPEC §8
 * error format, nosniff, no caching, Connection: close) into out; returns
 * its length (0 if size is too small).  code and message are ours: put in
 * the JSON as they are.
 */
size_t http_precheck_answer(int status, const char *code, const char *message,
                            const char *request_id, bool hsts, char *out, size_t size);

#endif
