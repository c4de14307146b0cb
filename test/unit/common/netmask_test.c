/*
 * netmask_test — address lists (src/common/netmask.c) and the UTF-8 check
 * (src/common/util.c) the HTTP layer applies to query parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/netmask.h"
#include "common/util.h"

static void test_match(void **state)
{
    struct netmask_list l;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(
        netmask_list_parse(" 127.0.0.0/8 , ::1,10.1.2.3, fd00::/8,192.168.0.0/23", "X", &l, &e), 0);
    assert_int_equal(l.n, 5);
    assert_true(netmask_list_contains(&l, "127.0.0.1"));
    assert_true(netmask_list_contains(&l, "127.255.0.9"));
    assert_true(netmask_list_contains(&l, "::ffff:127.0.0.1")); /* v4 through a v6 socket */
    assert_true(netmask_list_contains(&l, "::1"));
    assert_true(netmask_list_contains(&l, "10.1.2.3"));
    assert_false(netmask_list_contains(&l, "10.1.2.4"));
    assert_true(netmask_list_contains(&l, "fdab::7"));
    assert_false(netmask_list_contains(&l, "fe80::1"));
    assert_true(netmask_list_contains(&l, "192.168.1.255"));
    assert_false(netmask_list_contains(&l, "192.168.2.0"));
    assert_false(netmask_list_contains(&l, "-"));
    assert_false(netmask_list_contains(&l, NULL));
    netmask_list_release(&l);

    assert_int_equal(netmask_list_parse("", "X", &l, &e), 0);
    assert_int_equal(l.n, 0);
    assert_false(netmask_list_contains(&l, "127.0.0.1"));
    netmask_list_release(&l);
}

static void test_refused(void **state)
{
    const char *bad[] = {"10.0.0.0/33", "localhost", "::1/129", "1.2.3.4/", "1.2.3.4/x", "1.2.3"};
    struct netmask_list l;
    struct err e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(netmask_list_parse(bad[i], "METRICS_ALLOW", &l, &e), -ERR_CONFIG);
        assert_non_null(strstr(e.msg, "METRICS_ALLOW"));
        assert_non_null(strstr(e.msg, bad[i]));
        assert_int_equal(l.n, 0);
    }
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("Mar\xc3\xad"
                           "a \xe2\x82\xac \xf0\x9f\x92\x85",
                           15));
    assert_false(utf8_valid("\xff", 1));
    assert_false(utf8_valid("\xc3\x28", 2));         /* bad continuation */
    assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(utf8_valid("\xe2\x82", 2));         /* cut */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
