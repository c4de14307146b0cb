/*
 * router_test — path patterns and route lookup (src/http/router.c), as pure
 * functions: no sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/router.h"

static int h_list(struct http_req *req, struct err *e)
{
    return 0;
}

static int h_get(struct http_req *req, struct err *e)
{
    return 0;
}

static int h_create(struct http_req *req, struct err *e)
{
    return 0;
}

static int h_update(struct http_req *req, struct err *e)
{
    return 0;
}

static int h_pros(struct http_req *req, struct err *e)
{
    return 0;
}

static const struct http_route routes[] = {
    {"GET", "/api/v1/clients", h_list, 0},
    {"POST", "/api/v1/clients", h_create, 0},
    {"GET", "/api/v1/clients/{id}", h_get, 0},
    {"PATCH", "/api/v1/clients/{id}", h_update, 0},
    {"PUT", "/api/v1/services/{service_id}/professionals/{user_id}", h_pros, 0},
    {"GET", "/", h_list, HTTP_ROUTE_QUIET},
    {NULL, NULL, NULL, 0},
};

static void test_literal(void **state)
{
    struct http_params p = {0};

    assert_int_equal(http_route_match("/healthz", "/healthz", &p), 1);
    assert_int_equal(p.count, 0);
    assert_int_equal(http_route_match("/healthz", "/healthz/", &p), 0);
    assert_int_equal(http_route_match("/healthz", "/health", &p), 0);
    assert_int_equal(http_route_match("/healthz", "/healthzz", &p), 0);
    assert_int_equal(http_route_match("/healthz", "/healthz/x", &p), 0);
    assert_int_equal(http_route_match("/a/b", "/a", &p), 0);
    assert_int_equal(http_route_match("/", "/", &p), 1);
    assert_int_equal(http_route_match("/", "/x", &p), 0);
    assert_int_equal(http_route_match("/x", "x", &p), 0);
    assert_int_equal(http_route_match("/x", "", &p), 0);
    /* Literal segments are compared as received, not decoded. */
    assert_int_equal(http_route_match("/a b", "/a%20b", &p), 0);
    assert_int_equal(p.count, 0);
}

static void test_params(void **state)
{
    struct http_params p = {0};

    assert_int_equal(http_route_match("/api/v1/clients/{id}", "/api/v1/clients/42", &p), 1);
    assert_int_equal(p.count, 1);
    assert_string_equal(http_params_get(&p, "id"), "42");
    assert_null(http_params_get(&p, "other"));
    http_params_release(&p);
    assert_int_equal(p.count, 0);

    assert_int_equal(http_route_match("/s/{service_id}/p/{user_id}", "/s/7/p/abc", &p), 1);
    assert_int_equal(p.count, 2);
    assert_string_equal(http_params_get(&p, "service_id"), "7");
    assert_string_equal(http_params_get(&p, "user_id"), "abc");
    http_params_release(&p);

    /* A placeholder needs one non-empty segment, and only one. */
    assert_int_equal(http_route_match("/c/{id}", "/c/", &p), 0);
    assert_int_equal(http_route_match("/c/{id}", "/c", &p), 0);
    assert_int_equal(http_route_match("/c/{id}", "/c/1/2", &p), 0);
    assert_int_equal(http_route_match("/c/{id}/x", "/c//x", &p), 0);
    /* A failed match leaves no values behind (the first one was decoded). */
    assert_int_equal(http_route_match("/c/{a}/d/{b}", "/c/1/e/2", &p), 0);
    assert_int_equal(p.count, 0);
}

static void test_decoding(void **state)
{
    struct http_params p = {0};

    assert_int_equal(http_route_match("/c/{q}", "/c/a%20b%2Fc", &p), 1);
    assert_string_equal(http_params_get(&p, "q"), "a b/c");
    http_params_release(&p);

    /* "+" is a plus in a path, not a space. */
    assert_int_equal(http_route_match("/c/{q}", "/c/a+b", &p), 1);
    assert_string_equal(http_params_get(&p, "q"), "a+b");
    http_params_release(&p);

    /* UTF-8, percent-encoded, comes out as bytes. */
    assert_int_equal(http_route_match("/c/{q}", "/c/Sof%C3%ADa", &p), 1);
    assert_string_equal(http_params_get(&p, "q"), "Sof\xc3\xad"
                                                  "a");
    http_params_release(&p);

    /* Malformed escapes and NUL do not match. */
    assert_int_equal(http_route_match("/c/{q}", "/c/%", &p), 0);
    assert_int_equal(http_route_match("/c/{q}", "/c/%4", &p), 0);
    assert_int_equal(http_route_match("/c/{q}", "/c/%zz", &p), 0);
    assert_int_equal(http_route_match("/c/{q}", "/c/a%00b", &p), 0);
    assert_int_equal(p.count, 0);
}

static void test_find(void **state)
{
    const struct http_route *r = NULL;
    struct http_params p = {0};
    struct buf allow = BUF_INIT;

    assert_int_equal(http_router_find(routes, "GET", "/api/v1/clients", &r, &p, &allow),
                     HTTP_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_list);
    assert_int_equal(http_router_find(routes, "POST", "/api/v1/clients", &r, &p, &allow),
                     HTTP_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_create);

    assert_int_equal(http_router_find(routes, "PATCH", "/api/v1/clients/9", &r, &p, &allow),
                     HTTP_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_update);
    assert_string_equal(http_params_get(&p, "id"), "9");
    http_params_release(&p);

    /* HEAD is served by the GET route. */
    assert_int_equal(http_router_find(routes, "HEAD", "/api/v1/clients/9", &r, &p, &allow),
                     HTTP_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_get);
    http_params_release(&p);

    assert_int_equal(
        http_router_find(routes, "PUT", "/api/v1/services/3/professionals/5", &r, &p, &allow),
        HTTP_ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_pros);
    assert_string_equal(http_params_get(&p, "service_id"), "3");
    assert_string_equal(http_params_get(&p, "user_id"), "5");
    http_params_release(&p);
    assert_int_equal(allow.len, 0);

    assert_int_equal(http_router_find(routes, "GET", "/api/v1/nothing", &r, &p, &allow),
                     HTTP_ROUTE_NOT_FOUND);
    assert_null(r);
    assert_int_equal(p.count, 0);
    assert_int_equal(http_router_find(routes, "GET", "/api/v1/clients/1/x", &r, &p, &allow),
                     HTTP_ROUTE_NOT_FOUND);

    assert_int_equal(http_router_find(routes, "DELETE", "/api/v1/clients", &r, &p, &allow),
                     HTTP_ROUTE_METHOD_NOT_ALLOWED);
    assert_null(r);
    assert_string_equal(buf_str(&allow), "GET, HEAD, POST");
    buf_reset(&allow);

    assert_int_equal(http_router_find(routes, "POST", "/api/v1/clients/1", &r, &p, &allow),
                     HTTP_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(buf_str(&allow), "GET, HEAD, PATCH");
    assert_int_equal(p.count, 0);
    buf_release(&allow);

    /* allow may be NULL. */
    assert_int_equal(http_router_find(routes, "POST", "/", &r, &p, NULL),
                     HTTP_ROUTE_METHOD_NOT_ALLOWED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
