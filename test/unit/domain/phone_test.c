/*
 * Unit tests of domain/phone: what clients type on the public booking page
 * becomes one E.164 number, so that one person is one client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/phone.h"

static void expect(const char *in, const char *cc, const char *want)
{
    char out[PHONE_E164_MAX];

    assert_int_equal(phone_e164(in, cc, out), 0);
    assert_string_equal(out, want);
}

static void refuse(const char *in, const char *cc)
{
    char out[PHONE_E164_MAX] = "x";

    assert_int_equal(phone_e164(in, cc, out), -1);
    assert_string_equal(out, "");
}

static void test_national_numbers(void **state)
{
    (void)state;
    expect("55 1111 0001", "52", "+525511110001");
    expect("(55) 1111-0001", "52", "+525511110001");
    expect("5511110001", "52", "+525511110001");
    expect("415.555.0100", "1", "+14155550100");
    expect("612 34 56 78", "34", "+34612345678");
    expect("020 7946 0958", "44", "+442079460958"); /* the trunk 0 goes */
}

static void test_international_numbers(void **state)
{
    (void)state;
    expect("+52 55 1111 0001", "52", "+525511110001");
    expect("0052 55 1111 0001", "1", "+525511110001");
    expect("+1 (415) 555-0100", "52", "+14155550100");
    expect("  +34 612 345 678", "52", "+34612345678");
    /* Mexico's old mobile prefix is the same number. */
    expect("+52 1 55 1111 0001", "52", "+525511110001");
}

static void test_refusals(void **state)
{
    (void)state;
    refuse("", "52");
    refuse("1234", "52");
    refuse("+1234567", "52");
    refuse("+1234567890123456", "52");
    refuse("55 1111 0001 ext 2", "52");
    refuse("+0 55 1111 0001", "52");
    refuse("55-1111-0001", "5x");
    refuse(NULL, "52");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_national_numbers),
        cmocka_unit_test(test_international_numbers),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
