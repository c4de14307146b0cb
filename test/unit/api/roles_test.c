/*
 * roles_test — the role matrix of src/api/auth.c against SPEC §8, read
 * through api_auth_allowed(): every role, resource and action.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/auth.h"

enum {
    A = API_ROLE_ADMIN,
    M = API_ROLE_MANAGER,
    P = API_ROLE_PROFESSIONAL,
    R = API_ROLE_RECEPTIONIST
};
#define STAFF  (A | M | P | R)
#define MASTER API_ROLE_MASTER

/* Written from SPEC §8 and issue 6, independently of auth.c's table. */
static const struct {
    const char *resource;
    unsigned roles[4]; /* read, create, update, delete */
} expected[] = {
    {"tenant", {A | M | R, A, A, A}},
    {"branches", {STAFF, A | M, A | M, A | M}},
    {"users", {A | M | R, A, A, A}},
    {"users_self", {STAFF, 0, STAFF, 0}},
    {"services", {STAFF, A | M, A | M, A | M}},
    {"clients", {STAFF, A | M | R, A | M | R, A | M}},
    {"working_hours", {STAFF, A | M, A | M, A | M}},
    /* issue 16: a PROFESSIONAL reads its own only (time_off.c narrows) */
    {"time_off", {STAFF, A | M, 0, A | M}},
    {"appointments", {STAFF, A | M | R, STAFF, A | M}},
    {"payments", {A | M | R, A | M | R, A | M | R, A | M}},
    {"availability", {STAFF, 0, 0, 0}},
    /* issue 19: discounts like payments, but only ADMIN / MANAGER change or remove one;
     * the per-role limits are ADMIN's */
    {"discounts", {A | M | R, A | M | R, A | M, A | M}},
    {"discount_limits", {A | M | R, A, A, A}},
    {"products", {STAFF, A | M, A | M, A | M}},
    {"stock", {A | M | R, A | M, 0, 0}},
    {"sales", {A | M | R, A | M | R, 0, 0}},
    {"money_settings", {A | M | R, 0, A, 0}},
    {"cash_closes", {A | M | R, A | M | R, 0, 0}},
    {"commissions", {A | M | P, A | M, 0, 0}},
    {"reports", {A | M, 0, 0, 0}},
    {"admin_backups", {MASTER, MASTER, MASTER, MASTER}},
    {"admin_stats", {MASTER, MASTER, MASTER, MASTER}},
};

static void test_matrix(void **state)
{
    const enum api_role roles[] = {API_ROLE_ADMIN, API_ROLE_MANAGER, API_ROLE_PROFESSIONAL,
                                   API_ROLE_RECEPTIONIST, API_ROLE_MASTER};

    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        for (int act = API_ACT_READ; act <= API_ACT_DELETE; act++)
            for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
                bool want = (expected[i].roles[act] & roles[r]) != 0;
                bool got = api_auth_allowed(roles[r], expected[i].resource, act);

                if (want != got)
                    fail_msg("%s on '%s' action %d: expected %s", api_role_name(roles[r]),
                             expected[i].resource, act, want ? "allowed" : "denied");
            }
}

static void test_unknown_and_names(void **state)
{
    enum api_role r;

    assert_false(api_auth_allowed(API_ROLE_ADMIN, "nonexistent", API_ACT_READ));
    assert_false(api_auth_allowed(API_ROLE_ADMIN, NULL, API_ACT_READ));
    assert_false(api_auth_allowed(API_ROLE_MASTER, "admin_unknown", API_ACT_READ));
    assert_int_equal(api_role_parse("MANAGER", &r), 0);
    assert_int_equal(r, API_ROLE_MANAGER);
    assert_int_equal(api_role_parse("manager", &r), -1);
    assert_int_equal(api_role_parse("MASTER", &r), -1); /* not a staff role */
    assert_int_equal(api_role_parse(NULL, &r), -1);
    assert_string_equal(api_role_name(API_ROLE_RECEPTIONIST), "RECEPTIONIST");
    assert_string_equal(api_role_name(API_ROLE_MASTER), "MASTER");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_unknown_and_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
