/*
 * server_test — the HTTP server (src/http/server.c, request.c) in-process on
 * 127.0.0.1, an ephemeral port, with a test route table and no database;
 * spoken to with libcurl and raw sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "http/server.h"

/* ---- the test application ------------------------------------------------ */

static atomic_int next_worker;
static atomic_int fail_worker_init = -1; /* index of the worker whose init fails */
static atomic_int handlers_started;
static atomic_int handler_failures; /* handler_failed calls with ERR_DB */
static sem_t hang_release;

struct test_worker {
    int index;
};

static int test_worker_init(void *app, void **worker_data, struct err *e)
{
    int index = atomic_fetch_add(&next_worker, 1);
    struct test_worker *w;

    /* No cmocka assertion here: this runs on a worker thread. */
    if (app != &next_worker)
        return err_set(e, ERR_INTERNAL, "worker_init got the wrong app pointer");
    if (index == atomic_load(&fail_worker_init))
        return err_set(e, ERR_DB_CONNECT, "cannot connect to 'test-db'");
    w = xcalloc(1, sizeof(*w));
    w->index = index;
    *worker_data = w;
    return 0;
}

static void test_worker_free(void *worker_data)
{
    free(worker_data);
}

static void test_handler_failed(void *worker_data, const struct err *e)
{
    if (worker_data != NULL && e->code == ERR_DB)
        atomic_fetch_add(&handler_failures, 1);
}

static int h_hello(struct http_req *req, struct err *e)
{
    struct test_worker *w = http_req_worker(req);
    return http_reply_json(req, 200, json_pack("{s:s, s:i}", "hello", "world", "worker", w->index));
}

static int h_item(struct http_req *req, struct err *e)
{
    return http_reply_json(
        req, 200,
        json_pack("{s:s, s:s?}", "id", http_req_param(req, "id"), "q", http_req_query(req, "q")));
}

static int h_echo(struct http_req *req, struct err *e)
{
    json_t *body = NULL;
    int rc = http_req_json(req, &body, e);

    if (rc < 0)
        return rc;
    return http_reply_json(req, 200, json_pack("{s:o}", "got", body));
}

static int h_fail(struct http_req *req, struct err *e)
{
    return err_set(e, ERR_DB, "syntax error near 'secret-password-xyz'");
}

static int h_missing(struct http_req *req, struct err *e)
{
    return err_set(e, ERR_NOT_FOUND, "client '7' not found");
}

/* Fail with the error code named in the path: how each code is answered. */
static int h_err(struct http_req *req, struct err *e)
{
    static const struct {
        const char *name;
        enum err_code code;
    } codes[] = {
        {"usage", ERR_USAGE},        {"check", ERR_DB_CHECK},
        {"overlap", ERR_DB_OVERLAP}, {"unique", ERR_DB_UNIQUE},
        {"fk", ERR_DB_FOREIGN_KEY},  {"connect", ERR_DB_CONNECT},
        {"auth", ERR_DB_AUTH},       {"io", ERR_IO},
    };
    const char *name = http_req_param(req, "name");

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(codes[i].name, name) == 0)
            return err_set(e, codes[i].code, "detail of '%s' with secret-xyz", name);
    return err_set(e, ERR_INTERNAL, "unknown code '%s'", name);
}

/* json_pack() refuses a string that is not UTF-8: the answer must still be sane. */
static int h_bad_utf8(struct http_req *req, struct err *e)
{
    return http_reply_json(req, 200, json_pack("{s:s}", "name", "caf\xe9"));
}

static int h_silent(struct http_req *req, struct err *e)
{
    return 0;
}

static int h_sleep(struct http_req *req, struct err *e)
{
    const char *ms = http_req_query(req, "ms");

    atomic_fetch_add(&handlers_started, 1);
    usleep((useconds_t)(ms ? atoi(ms) : 1000) * 1000);
    return http_reply_json(req, 200, json_pack("{s:b}", "slept", 1));
}

static int h_hang(struct http_req *req, struct err *e)
{
    atomic_fetch_add(&handlers_started, 1);
    sem_wait(&hang_release);
    return http_reply_json(req, 200, json_pack("{s:b}", "released", 1));
}

static const struct http_route test_routes[] = {
    {"GET", "/hello", h_hello, 0},
    {"GET", "/items/{id}", h_item, 0},
    {"POST", "/echo", h_echo, 0},
    {"GET", "/fail", h_fail, 0},
    {"GET", "/missing", h_missing, 0},
    {"GET", "/silent", h_silent, 0},
    {"GET", "/err/{name}", h_err, 0},
    {"GET", "/bad-utf8", h_bad_utf8, 0},
    {"GET", "/sleep", h_sleep, HTTP_ROUTE_QUIET},
    {"GET", "/hang", h_hang, 0},
    {NULL, NULL, NULL, 0},
};

#define TEST_MAX_BODY 1024

/* The test application on 127.0.0.1, an ephemeral port. */
static struct http_server_opts test_opts(int threads, int read_timeout_s)
{
    return (struct http_server_opts){
        .host = "127.0.0.1",
        .port = 0,
        .threads = threads,
        .max_body = TEST_MAX_BODY,
        .read_timeout_s = read_timeout_s,
        .worker_init = test_worker_init,
        .worker_free = test_worker_free,
        .handler_failed = test_handler_failed,
        .app = &next_worker,
        .routes = test_routes,
    };
}

static struct http_server *start_server(int threads, int read_timeout_s)
{
    struct http_server_opts opts = test_opts(threads, read_timeout_s);
    struct http_server *srv = NULL;
    struct err e;

    err_clear(&e);
    atomic_store(&next_worker, 0);
    assert_int_equal(http_server_new(&opts, &srv, &e), 0);
    assert_non_null(srv);
    assert_true(http_server_port(srv) > 0);
    assert_int_equal(http_server_threads(srv), threads);
    assert_int_equal(http_server_start(srv, &e), 0);
    return srv;
}

/* ---- a small client ------------------------------------------------------ */

struct resp {
    long status;
    struct buf body;
    struct buf headers;
    CURLcode rc;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    buf_add(arg, data, size * n);
    return size * n;
}

/* One request on handle c (keeps its connection for the next one). */
static void request_with(CURL *c, int port, const char *method, const char *path,
                         const char *content_type, const char *body, size_t len, struct resp *r)
{
    char url[512];
    char ct[256];
    struct curl_slist *hdrs = NULL;

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    }
    /* No "Expect: 100-continue" round trip; the Content-Type exactly as given. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (content_type != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ct);
    } else {
        hdrs = curl_slist_append(hdrs, "Content-Type:");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
}

static void request(int port, const char *method, const char *path, const char *content_type,
                    const char *body, struct resp *r)
{
    CURL *c = curl_easy_init();
    request_with(c, port, method, path, content_type, body, body ? strlen(body) : 0, r);
    curl_easy_cleanup(c);
}

static void resp_release(struct resp *r)
{
    buf_release(&r->body);
    buf_release(&r->headers);
}

/* The value of header name in r (case-insensitive), copied into out; NULL if absent. */
static const char *header(const struct resp *r, const char *name, char *out, size_t size)
{
    const char *p = buf_str(&r->headers);
    size_t nlen = strlen(name);

    while (*p != '\0') {
        size_t len = strcspn(p, "\r\n");
        if (len > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vlen = (size_t)(p + len - v);
            if (vlen >= size)
                vlen = size - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return out;
        }
        p += len;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return NULL;
}

static json_t *parse_body(const struct resp *r)
{
    json_error_t jerr;
    json_t *j = json_loads(buf_str(&r->body), 0, &jerr);
    if (j == NULL)
        fail_msg("body is not JSON (%s): '%s'", jerr.text, buf_str(&r->body));
    return j;
}

/* Check the SPEC §8 error shape and return error.code (borrowed from *json). */
static const char *error_code(const struct resp *r, json_t **json)
{
    json_t *err;

    *json = parse_body(r);
    err = json_object_get(*json, "error");
    assert_true(json_is_object(err));
    assert_true(json_is_string(json_object_get(err, "code")));
    assert_true(json_is_string(json_object_get(err, "message")));
    assert_true(json_string_length(json_object_get(err, "message")) > 0);
    assert_non_null(json_object_get(err, "field"));
    return json_string_value(json_object_get(err, "code"));
}

static const char *error_message(json_t *json)
{
    return json_string_value(json_object_get(json_object_get(json, "error"), "message"));
}

static void assert_common_headers(const struct resp *r, bool json_body)
{
    char v[256];

    assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
    assert_int_equal(strlen(v), 16);
    for (int i = 0; i < 16; i++)
        assert_true(isxdigit((unsigned char)v[i]) && !isupper((unsigned char)v[i]));
    assert_non_null(header(r, "Cache-Control", v, sizeof(v)));
    assert_string_equal(v, "no-store");
    assert_non_null(header(r, "X-Content-Type-Options", v, sizeof(v)));
    assert_string_equal(v, "nosniff");
    if (json_body) {
        assert_non_null(header(r, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, "application/json; charset=utf-8");
    }
}

static double now(void)
{
    return time_mono();
}

static void wait_handlers_started(int n)
{
    double until = now() + 10;
    while (atomic_load(&handlers_started) < n && now() < until)
        usleep(5000);
    assert_true(atomic_load(&handlers_started) >= n);
}

/* Connect fd to 127.0.0.1:port: 0 when accepted, else the errno. */
static int connect_loopback(int fd, int port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
}

/* Connect to port and hang up: 0 when accepted, else the errno. */
static int try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect_loopback(fd, port);

    close(fd);
    return rc;
}

/* ---- the shared server (4 workers) ------------------------------------- */

static struct http_server *shared;
static int port;

static int group_setup(void **state)
{
    shared = start_server(4, 5);
    port = http_server_port(shared);
    return 0;
}

static int group_teardown(void **state)
{
    assert_int_equal(http_server_shutdown(shared, 5), 0);
    http_server_free(shared);
    shared = NULL;
    return 0;
}

/*
 * A request to the shared server answered with status and, when code is not
 * NULL, with that SPEC §8 error code.
 */
static void expect_status(const char *method, const char *path, const char *content_type,
                          const char *body, long status, const char *code)
{
    struct resp r;
    json_t *j = NULL;

    request(port, method, path, content_type, body, &r);
    if (r.status != status)
        fail_msg("%s %s: status %ld, want %ld", method, path, r.status, status);
    if (code != NULL) {
        assert_string_equal(error_code(&r, &j), code);
        json_decref(j);
    }
    resp_release(&r);
}

static void test_routing_and_params(void **state)
{
    struct resp r;
    json_t *j;

    request(port, "GET", "/hello", NULL, NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_common_headers(&r, true);
    j = parse_body(&r);
    assert_string_equal(json_string_value(json_object_get(j, "hello")), "world");
    assert_true(json_integer_value(json_object_get(j, "worker")) < 4);
    json_decref(j);
    resp_release(&r);

    request(port, "GET", "/items/a%20b?q=x+y%21&other=1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    j = parse_body(&r);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "a b");
    assert_string_equal(json_string_value(json_object_get(j, "q")), "x y!");
    json_decref(j);
    resp_release(&r);

    request(port, "GET", "/items/42", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    j = parse_body(&r);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "42");
    assert_true(json_is_null(json_object_get(j, "q")));
    json_decref(j);
    resp_release(&r);
}

static void test_not_found_and_method(void **state)
{
    struct resp r;
    json_t *j;
    char v[256];

    request(port, "GET", "/nope/nothing", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_common_headers(&r, true);
    assert_string_equal(error_code(&r, &j), "not_found");
    assert_true(json_is_null(json_object_get(json_object_get(j, "error"), "field")));
    assert_non_null(strstr(error_message(j), "/nope/nothing"));
    json_decref(j);
    resp_release(&r);

    /* A path with a route answers 405 for another method, and says which. */
    request(port, "DELETE", "/hello", NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(error_code(&r, &j), "method_not_allowed");
    assert_non_null(header(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "GET, HEAD");
    json_decref(j);
    resp_release(&r);

    expect_status("POST", "/items/3", "application/json", "{}", 405, NULL);

    request(port, "OPTIONS", "/echo", NULL, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_non_null(header(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "POST");
    resp_release(&r);

    /* HEAD: the GET route's status and length, no body. */
    request(port, "HEAD", "/hello", NULL, NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    assert_non_null(header(&r, "Content-Length", v, sizeof(v)));
    assert_true(atoi(v) > 10);
    resp_release(&r);
}

static void test_json_body(void **state)
{
    struct resp r;
    json_t *j;
    char big[TEST_MAX_BODY * 2 + 2];

    request(port, "POST", "/echo", "application/json",
            "{\"name\":\"Sof\xc3\xad"
            "a\",\"n\":3}",
            &r);
    assert_int_equal(r.status, 200);
    assert_common_headers(&r, true);
    j = parse_body(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "got"), "name")),
                        "Sof\xc3\xad"
                        "a");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "got"), "n")), 3);
    json_decref(j);
    resp_release(&r);

    expect_status("POST", "/echo", "Application/JSON; charset=UTF-8", "{\"a\":1}", 200, NULL);

    /* Not JSON by its type: 415, whatever the content. */
    expect_status("POST", "/echo", "text/plain", "{\"a\":1}", 415, "unsupported_media_type");
    expect_status("POST", "/echo", NULL, "{\"a\":1}", 415, NULL);
    expect_status("POST", "/echo", "application/json; charset=iso-8859-1", "{\"a\":1}", 415, NULL);
    expect_status("POST", "/echo", "application/jsonx", "{\"a\":1}", 415, NULL);

    /* Invalid JSON: 400 naming the problem and where. */
    request(port, "POST", "/echo", "application/json", "{\"a\": tru}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(error_code(&r, &j), "invalid_json");
    assert_non_null(strstr(error_message(j), "not valid JSON"));
    assert_non_null(strstr(error_message(j), "line 1"));
    json_decref(j);
    resp_release(&r);

    request(port, "POST", "/echo", "application/json", "[1,2]", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(error_code(&r, &j), "invalid_json");
    assert_non_null(strstr(error_message(j), "object"));
    json_decref(j);
    resp_release(&r);

    expect_status("POST", "/echo", "application/json", "{\"a\":1,\"a\":2}", 400, NULL);

    request(port, "POST", "/echo", "application/json", "", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(error_code(&r, &j), "invalid_json");
    assert_non_null(strstr(error_message(j), "empty"));
    json_decref(j);
    resp_release(&r);

    /* Exactly the limit is fine; one byte over is 413. */
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[TEST_MAX_BODY - 1] = '}';
    big[TEST_MAX_BODY] = '\0';
    expect_status("POST", "/echo", "application/json", big, 200, NULL);
    big[TEST_MAX_BODY - 1] = ' ';
    big[TEST_MAX_BODY] = '}';
    big[TEST_MAX_BODY + 1] = '\0';
    request(port, "POST", "/echo", "application/json", big, &r);
    assert_int_equal(r.status, 413);
    assert_common_headers(&r, true);
    assert_string_equal(error_code(&r, &j), "payload_too_large");
    json_decref(j);
    resp_release(&r);
    /* Whatever the route and its method: the body never reaches a handler. */
    expect_status("POST", "/nope", "text/plain", big, 413, NULL);
    /* Far over the limit: the same, refused before the body is read (precheck.h). */
    big[TEST_MAX_BODY] = ' ';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    expect_status("POST", "/echo", "application/json", big, 413, NULL);

    /* The server still answers after refusing bodies. */
    expect_status("GET", "/hello", NULL, NULL, 200, NULL);
}

static void test_request_ids_and_errors(void **state)
{
    struct resp r1, r2, r;
    char id1[64], id2[64], id[64];
    json_t *j;

    request(port, "GET", "/hello", NULL, NULL, &r1);
    request(port, "GET", "/hello", NULL, NULL, &r2);
    assert_non_null(header(&r1, "X-Request-Id", id1, sizeof(id1)));
    assert_non_null(header(&r2, "X-Request-Id", id2, sizeof(id2)));
    assert_string_not_equal(id1, id2);
    resp_release(&r1);
    resp_release(&r2);

    /* A failing handler: 500 with the request id, never the cause. */
    atomic_store(&handler_failures, 0);
    request(port, "GET", "/fail", NULL, NULL, &r);
    assert_int_equal(r.status, 500);
    assert_int_equal(atomic_load(&handler_failures), 1);
    assert_common_headers(&r, true);
    assert_null(strstr(buf_str(&r.body), "secret"));
    assert_null(strstr(buf_str(&r.body), "syntax"));
    assert_non_null(header(&r, "X-Request-Id", id, sizeof(id)));
    assert_string_equal(error_code(&r, &j), "internal");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "error"), "request_id")), id);
    assert_non_null(strstr(error_message(j), id));
    json_decref(j);
    resp_release(&r);

    expect_status("GET", "/silent", NULL, NULL, 500, "internal");

    expect_status("GET", "/bad-utf8", NULL, NULL, 500, "internal");

    request(port, "GET", "/missing", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(error_code(&r, &j), "not_found");
    assert_string_equal(error_message(j), "client '7' not found");
    json_decref(j);
    resp_release(&r);
}

/* Each error code a handler returns becomes its documented answer. */
static void test_error_mapping(void **state)
{
    static const struct {
        const char *path;
        long status;
        const char *code;
        bool shows_detail;
    } cases[] = {
        {"/err/usage", 400, "invalid", true},       {"/err/check", 400, "invalid", false},
        {"/err/overlap", 409, "slot_taken", false}, {"/err/unique", 409, "duplicate", false},
        {"/err/fk", 409, "conflict", false},        {"/err/connect", 503, "unavailable", false},
        {"/err/auth", 503, "unavailable", false},   {"/err/io", 500, "internal", false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r;
        json_t *j;

        request(port, "GET", cases[i].path, NULL, NULL, &r);
        if (r.status != cases[i].status)
            fail_msg("%s: status %ld, want %ld", cases[i].path, r.status, cases[i].status);
        assert_string_equal(error_code(&r, &j), cases[i].code);
        /* Only validation messages reach the client; database text never does. */
        assert_int_equal(strstr(buf_str(&r.body), "secret-xyz") != NULL, cases[i].shows_detail);
        json_decref(j);
        resp_release(&r);
    }
}

#define CLIENTS    4
#define PER_CLIENT 200

struct client_result {
    int ok;
    int workers_seen; /* bit set of worker indexes */
    char first_error[128];
};

static void *client_main(void *arg)
{
    struct client_result *res = arg;
    CURL *c = curl_easy_init();

    for (int i = 0; i < PER_CLIENT; i++) {
        struct resp r;
        /* A new connection every 10 requests, so that accepting is spread too. */
        if (i % 10 == 0)
            curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        else
            curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 0L);
        request_with(c, port, "GET", "/hello", NULL, NULL, 0, &r);
        json_t *j = json_loads(buf_str(&r.body), 0, NULL);
        if (r.status == 200 && j != NULL &&
            strcmp(json_string_value(json_object_get(j, "hello")) ?: "", "world") == 0) {
            res->ok++;
            res->workers_seen |= 1 << (int)json_integer_value(json_object_get(j, "worker"));
        } else if (res->first_error[0] == '\0') {
            snprintf(res->first_error, sizeof(res->first_error), "status %ld curl %d", r.status,
                     (int)r.rc);
        }
        json_decref(j);
        resp_release(&r);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void test_concurrent(void **state)
{
    pthread_t t[CLIENTS];
    struct client_result res[CLIENTS];
    int total = 0;

    memset(res, 0, sizeof(res));
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, client_main, &res[i]), 0);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        if (res[i].ok != PER_CLIENT)
            fail_msg("client %d: %d/%d ok, first failure: %s", i, res[i].ok, PER_CLIENT,
                     res[i].first_error);
        total += res[i].ok;
    }
    assert_int_equal(total, CLIENTS * PER_CLIENT);
}

/* A GET on a thread of its own, for handlers that take their time. */
struct bg_request {
    pthread_t thread;
    int port;
    const char *path;
    struct resp r;
};

static void *bg_main(void *arg)
{
    struct bg_request *b = arg;
    request(b->port, "GET", b->path, NULL, NULL, &b->r);
    return NULL;
}

static void bg_start(struct bg_request *b, int to_port, const char *path)
{
    memset(b, 0, sizeof(*b));
    b->port = to_port;
    b->path = path;
    assert_int_equal(pthread_create(&b->thread, NULL, bg_main, b), 0);
}

/* Wait for b's answer, which must be 200. */
static void bg_join_ok(struct bg_request *b)
{
    pthread_join(b->thread, NULL);
    assert_int_equal(b->r.status, 200);
    resp_release(&b->r);
}

/* A handler that blocks holds up its own worker only. */
static void test_blocking_handler_isolated(void **state)
{
    struct bg_request b;
    double t0;

    atomic_store(&handlers_started, 0);
    bg_start(&b, port, "/sleep?ms=1500");
    wait_handlers_started(1);
    t0 = now();
    for (int i = 0; i < 5; i++) {
        expect_status("GET", "/hello", NULL, NULL, 200, NULL);
    }
    assert_true(now() - t0 < 1.0);
    bg_join_ok(&b);
}

/*
 * Connections arriving together are spread over the workers: four clients
 * whose handlers each block 700 ms finish together, not one after another.
 */
static void test_burst_spread(void **state)
{
    struct bg_request b[4];
    double t0 = now();

    for (int i = 0; i < 4; i++)
        bg_start(&b[i], port, "/sleep?ms=700");
    for (int i = 0; i < 4; i++)
        bg_join_ok(&b[i]);
    assert_true(now() - t0 < 1.3);
}

static void test_bind_errors(void **state)
{
    struct http_server_opts opts = {.host = "127.0.0.1", .port = port, .routes = test_routes};
    struct http_server *srv = NULL;
    struct err e;
    char want[64];

    err_clear(&e);
    assert_int_equal(http_server_new(&opts, &srv, &e), -ERR_CONFIG);
    assert_null(srv);
    snprintf(want, sizeof(want), "'127.0.0.1:%d'", port);
    assert_non_null(strstr(e.msg, want));
    assert_non_null(strstr(e.msg, "already in use"));

    opts.host = "192.0.2.1"; /* TEST-NET-1: never on this machine */
    opts.port = 0;
    err_clear(&e);
    assert_int_equal(http_server_new(&opts, &srv, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "192.0.2.1"));

    opts.host = "no-such-host.invalid";
    err_clear(&e);
    assert_int_equal(http_server_new(&opts, &srv, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "no-such-host.invalid"));

    opts.host = "127.0.0.1";
    opts.port = 70000;
    err_clear(&e);
    assert_int_equal(http_server_new(&opts, &srv, &e), -ERR_CONFIG);
    assert_null(srv);
}

/* ---- lifecycles, each with its own server ------------------------------- */

static void test_ipv6_and_unstarted(void **state)
{
    struct http_server_opts opts = {.host = "::1", .port = 0, .threads = 2, .routes = test_routes};
    struct http_server *srv = NULL;
    struct err e;

    err_clear(&e);
    /* Without IPv6 on this machine the error must say so; with it, it binds. */
    if (http_server_new(&opts, &srv, &e) == 0) {
        assert_true(http_server_port(srv) > 0);
        assert_int_equal(http_server_shutdown(srv, 1), 0);
    } else {
        assert_non_null(strstr(e.msg, "[::1]:0"));
    }
    /* Freed without ever starting. */
    http_server_free(srv);
    http_server_free(NULL);
}

static void test_worker_init_failure(void **state)
{
    struct http_server_opts opts = test_opts(3, 0);
    struct http_server *srv = NULL;
    struct err e;

    err_clear(&e);
    atomic_store(&next_worker, 0);
    atomic_store(&fail_worker_init, 1);
    assert_int_equal(http_server_new(&opts, &srv, &e), 0);
    assert_int_equal(http_server_start(srv, &e), -ERR_DB_CONNECT);
    assert_non_null(strstr(e.msg, "cannot connect to 'test-db'"));
    atomic_store(&fail_worker_init, -1);
    http_server_free(srv);
}

struct shutdown_call {
    pthread_t thread;
    struct http_server *srv;
    int grace;
    int rc;
    double seconds;
};

static void *shutdown_main(void *arg)
{
    struct shutdown_call *s = arg;
    double t0 = now();

    s->rc = http_server_shutdown(s->srv, s->grace);
    s->seconds = now() - t0;
    return NULL;
}

/*
 * SIGTERM's path: a request in a 1 s handler completes although shutdown
 * started during it; a new connection is refused meanwhile; an idle
 * keep-alive connection does not hold the shutdown up.
 */
static void test_graceful_shutdown(void **state)
{
    struct http_server *srv = start_server(2, 30);
    int p = http_server_port(srv);
    struct bg_request b;
    struct shutdown_call s = {.srv = srv, .grace = 10};
    CURL *idle = curl_easy_init();
    struct resp r;

    request_with(idle, p, "GET", "/hello", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    resp_release(&r);

    atomic_store(&handlers_started, 0);
    bg_start(&b, p, "/sleep?ms=1000");
    wait_handlers_started(1);

    assert_int_equal(pthread_create(&s.thread, NULL, shutdown_main, &s), 0);
    usleep(200 * 1000);
    assert_int_equal(try_connect(p), ECONNREFUSED);

    pthread_join(b.thread, NULL);
    assert_int_equal(b.r.rc, CURLE_OK);
    assert_int_equal(b.r.status, 200);
    assert_non_null(strstr(buf_str(&b.r.body), "slept"));
    resp_release(&b.r);

    pthread_join(s.thread, NULL);
    assert_int_equal(s.rc, 0);
    assert_true(s.seconds > 0.5);
    assert_true(s.seconds < 5.0);
    /* Shutting down twice is harmless. */
    assert_int_equal(http_server_shutdown(srv, 1), 0);
    http_server_free(srv);
    curl_easy_cleanup(idle);
}

/* A handler that never ends does not keep shutdown past its grace. */
static void test_shutdown_grace_expires(void **state)
{
    struct http_server *srv = start_server(2, 30);
    struct bg_request b;
    struct shutdown_call s = {.srv = srv, .grace = 1};
    int p = http_server_port(srv);

    sem_init(&hang_release, 0, 0);
    atomic_store(&handlers_started, 0);
    bg_start(&b, p, "/hang");
    wait_handlers_started(1);

    shutdown_main(&s);
    assert_int_equal(s.rc, 1); /* one worker still inside its handler */
    assert_true(s.seconds >= 0.9);
    assert_true(s.seconds < 3.0);
    assert_int_equal(try_connect(p), ECONNREFUSED);

    /* Let the handler go: its worker ends, and a second shutdown sees it. */
    sem_post(&hang_release);
    assert_int_equal(http_server_shutdown(srv, 5), 0);
    http_server_free(srv);
    pthread_join(b.thread, NULL);
    resp_release(&b.r);
    sem_destroy(&hang_release);
}

/* A client that sends half a request is cut off after read_timeout_s. */
static void test_slow_client_timeout(void **state)
{
    struct http_server *srv = start_server(2, 1);
    struct timeval tv = {6, 0};
    const char partial[] = "GET /hello HTTP/1.1\r\nHost: x\r\n";
    char buf[256];
    double t0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_int_equal(connect_loopback(fd, http_server_port(srv)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(write(fd, partial, strlen(partial)), (ssize_t)strlen(partial));
    t0 = now();
    n = read(fd, buf, sizeof(buf));
    /* Closed (0) or reset, without an answer, well before our 6 s. */
    assert_true(n <= 0);
    assert_true(now() - t0 < 4.0);
    close(fd);

    assert_int_equal(http_server_shutdown(srv, 2), 0);
    http_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest shared_tests[] = {
        cmocka_unit_test(test_routing_and_params),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_request_ids_and_errors),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_blocking_handler_isolated),
        cmocka_unit_test(test_burst_spread),
        cmocka_unit_test(test_bind_errors),
    };
    const struct CMUnitTest lifecycle_tests[] = {
        cmocka_unit_test(test_ipv6_and_unstarted),  cmocka_unit_test(test_worker_init_failure),
        cmocka_unit_test(test_graceful_shutdown),   cmocka_unit_test(test_shutdown_grace_expires),
        cmocka_unit_test(test_slow_client_timeout),
    };
    int failed;

    log_set_level(LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    failed = cmocka_run_group_tests_name("http server", shared_tests, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("http server lifecycle", lifecycle_tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
