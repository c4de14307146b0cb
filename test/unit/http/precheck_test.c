/*
 * precheck_test — the request precheck (src/http/precheck.c) as a pure
 * function over bytes: what it refuses, what it gives on to evhttp, and
 * that the result does not depend on how the bytes are split into reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/precheck.h"

#define MAX_HEAD 65536
#define MAX_BODY 1000

struct outcome {
    int status;
    const char *code;
    uint64_t refused_at;
    char given[2 * MAX_HEAD]; /* what evhttp is given, NUL-terminated */
    size_t given_len;
};

/* Feed text in reads of step bytes (0: all at once). */
static void run(const char *text, size_t step, struct outcome *o)
{
    struct http_precheck p;
    size_t len = strlen(text);
    unsigned char *copy = malloc(len + 1);

    memcpy(copy, text, len + 1);
    memset(o, 0, sizeof(*o));
    http_precheck_init(&p, MAX_HEAD, MAX_BODY);
    for (size_t i = 0; i < len && p.refusal.status == 0;) {
        size_t n = step == 0 || len - i < step ? len - i : step;
        size_t kept = http_precheck_feed(&p, copy + i, n, copy + i);
        assert_true(kept <= n);
        assert_true(o->given_len + kept < sizeof(o->given));
        memcpy(o->given + o->given_len, copy + i, kept);
        o->given_len += kept;
        i += n;
    }
    o->given[o->given_len] = '\0';
    o->status = p.refusal.status;
    o->code = p.refusal.code;
    o->refused_at = p.refused_at;
    /* the positions count what was given on */
    if (o->status == 0)
        assert_int_equal(p.pos, o->given_len);
    http_precheck_release(&p);
    free(copy);
}

/* The same outcome whatever the reads: all at once, then byte by byte, then in threes. */
static void expect(const char *text, int status, const char *given)
{
    static const size_t steps[] = {0, 1, 3, 7};
    static struct outcome o;

    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        run(text, steps[s], &o);
        if (o.status != status)
            fail_msg("'%s' in reads of %zu: status %d, not %d", text, steps[s], o.status, status);
        if (given != NULL && strcmp(o.given, given) != 0)
            fail_msg("'%s' in reads of %zu gave '%s', not '%s'", text, steps[s], o.given, given);
    }
}

static void test_plain_requests_pass_unchanged(void **state)
{
    static const char *ok[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /api/v1/clients?q=a%20b HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
        "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        "POST /a HTTP/1.1\r\ncontent-length:  5 \r\n\r\nhello",
        "GET / HTTP/1.0\n\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "PUT /x HTTP/1.1\r\nX-Empty:\r\nX-Tab: a\tb\r\nX-Utf8: \xc3\xa1\r\n\r\n",
        "GET / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n",
        "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5\nhello\n0\n\n",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect(ok[i], 0, ok[i]);
}

static void test_chunk_extensions_are_removed(void **state)
{
    expect("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5;name=value\r\nhello\r\n3 ; q=\"a;b\" ;flag\r\nabc\r\n0;last\r\n\r\n",
           0,
           "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
}

static void test_empty_lines_before_a_request_are_removed(void **state)
{
    expect("\r\n\nGET / HTTP/1.1\r\n\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 0,
           "GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    expect("\rGET / HTTP/1.1\r\n\r\n", 400, NULL);
}

static void test_pipelined_requests_keep_their_framing(void **state)
{
    const char *text = "POST /a HTTP/1.1\r\nContent-Length: 14\r\n\r\nGET / HTTP/1.1"
                       "GET /b HTTP/1.1\r\n\r\n"
                       "HEAD /c HTTP/1.1\r\n\r\n"
                       "X";
    static struct outcome o;

    /* the body that looks like a request is a body; the X starts a request line */
    expect(text, 0, text);
    /* and a bad request after good ones is refused where it begins */
    run("GET / HTTP/1.1\r\n\r\nPOST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET / "
        "HTTP/9.9\r\n\r\n",
        0, &o);
    assert_int_equal(o.status, 505);
    assert_int_equal(o.refused_at, strlen("GET / HTTP/1.1\r\n\r\nPOST /a HTTP/1.1\r\n"
                                          "Content-Length: 1\r\n\r\nx"));
}

static void test_content_length_rules(void **state)
{
    expect("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", 400, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", 400, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello", 400, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 413, NULL);
    expect("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413, NULL);
    expect("HEAD / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 400, NULL);
    expect("HEAD / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, NULL);
}

static void test_transfer_encoding_rules(void **state)
{
    static const char *bad[] = {
        "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
        "Transfer-Encoding: gzip\r\n",
        "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding:\tchunked\r\n",
        "Transfer-Encoding : chunked\r\n",
    };
    char req[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req), "POST / HTTP/1.1\r\n%s\r\n3\r\nabc\r\n0\r\n\r\n", bad[i]);
        expect(req, 400, NULL);
    }
    expect("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, NULL);
    expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
           501, NULL);
    expect("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, NULL);
}

static void test_chunk_framing_is_strict(void **state)
{
    static const char *bad[] = {
        "x\r\n",                     /* not hex */
        "0x5\r\nhello\r\n0\r\n\r\n", /* evhttp would read 0x5 as 5 */
        ";a\r\n",                    /* no size */
        "5\r\nhelloXX\r\n",          /* no CRLF after the data */
        "5 \x01\r\n",                /* control character in an extension */
        "0\r\nX-Trailer: a\r\n\r\n", /* a trailer field */
        "\r\n5\r\nhello\r\n",        /* an empty line for a size */
    };
    char req[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                 bad[i]);
        expect(req, 400, NULL);
    }
    /* the sizes add up to more than the limit */
    expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n", 0, NULL);
    expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n", 413, NULL);
    expect("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffffffff\r\n", 413,
           NULL);
}

static void test_folding_and_header_syntax(void **state)
{
    static const char *bad[] = {
        "X-A: one\r\n two\r\n",   "X-A: one\r\n\ttwo\r\n", " X-A: one\r\n",
        "X-A : one\r\n",          "X A: one\r\n",          ": one\r\n",
        "no colon\r\n",           "X-A: a\rb\r\n",         "X-A: a\x7f\r\n",
        "Host: a\r\nHost: b\r\n",
    };
    char req[256];

    static const char nul[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
    unsigned char copy[sizeof(nul)];
    struct http_precheck p;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s\r\n", bad[i]);
        expect(req, 400, NULL);
    }
    /* a NUL in a value (strlen would stop there: fed directly) */
    memcpy(copy, nul, sizeof(nul));
    http_precheck_init(&p, MAX_HEAD, MAX_BODY);
    http_precheck_feed(&p, copy, sizeof(nul) - 1, copy);
    assert_int_equal(p.refusal.status, 400);
    http_precheck_release(&p);
    expect("GET / HTTP/1.1\r\nExpect: later\r\n\r\n", 417, NULL);
}

static void test_request_lines(void **state)
{
    static const struct {
        const char *line;
        int status;
    } cases[] = {
        {"GET /", 400},
        {"GET  / HTTP/1.1", 400},
        {"GET / HTTP/1.1 ", 400},
        {"GET / x HTTP/1.1", 400},
        {"GET / HTTP/1.x", 400},
        {"GET / http/1.1", 400},
        {"G(T / HTTP/1.1", 400},
        {"GET /\xc3\xa1 HTTP/1.1", 400},
        {"GET / HTTP/2.0", 505},
        {"BREW / HTTP/1.1", 501},
        {"TRACE / HTTP/1.1", 501},
        {"CONNECT a:1 HTTP/1.1", 501},
        {"get / HTTP/1.1", 501},
        {"GET http://[x/ HTTP/1.1", 400},
    };
    char req[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(req, sizeof(req), "%s\r\n\r\n", cases[i].line);
        expect(req, cases[i].status, NULL);
    }
}

static void test_sizes(void **state)
{
    size_t n = HTTP_PRECHECK_MAX_LINE + 100;
    char *req = malloc(MAX_HEAD + 200);

    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', n);
    strcpy(req + 5 + n, " HTTP/1.1\r\n\r\n");
    expect(req, 414, NULL);
    strcpy(req, "GET / HTTP/1.1\r\nX-Big: ");
    memset(req + strlen(req), 'a', MAX_HEAD);
    strcpy(req + 23 + MAX_HEAD, "\r\n\r\n");
    expect(req, 431, NULL);
    /* refused before the line ends: a header that never ends cannot grow without limit */
    req[23 + MAX_HEAD] = '\0';
    expect(req, 431, NULL);
    free(req);
}

static void test_answer(void **state)
{
    char out[640];
    size_t n =
        http_precheck_answer(400, "bad_request", "no", "0123abcd0123abcd", true, out, sizeof(out));
    const char *body = "{\"error\":{\"code\":\"bad_request\",\"message\":\"no\",\"field\":null}}";

    assert_true(n > 0 && n == strlen(out));
    assert_non_null(strstr(out, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(out, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_non_null(strstr(out, "Strict-Transport-Security: "));
    assert_string_equal(strstr(out, "\r\n\r\n") + 4, body);
    assert_non_null(strstr(out, "X-Request-Id: 0123abcd0123abcd\r\n"));
    assert_int_equal(http_precheck_answer(400, "bad_request", "no", "x", false, out, 20), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_requests_pass_unchanged),
        cmocka_unit_test(test_chunk_extensions_are_removed),
        cmocka_unit_test(test_empty_lines_before_a_request_are_removed),
        cmocka_unit_test(test_pipelined_requests_keep_their_framing),
        cmocka_unit_test(test_content_length_rules),
        cmocka_unit_test(test_transfer_encoding_rules),
        cmocka_unit_test(test_chunk_framing_is_strict),
        cmocka_unit_test(test_folding_and_header_syntax),
        cmocka_unit_test(test_request_lines),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
