/*
 * Unit tests of common/password: bcrypt hashes that other implementations
 * accept and produce.  The fixed vectors were checked against PostgreSQL's
 * pgcrypto, an independent bcrypt implementation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/password.h"

static void test_hash_and_verify(void **state)
{
    char h1[PASSWORD_HASH_SIZE], h2[PASSWORD_HASH_SIZE];
    struct err e;
    (void)state;
    err_clear(&e);
    assert_int_equal(password_hash("admin123", 4, h1, sizeof(h1), &e), 0);
    assert_int_equal(strlen(h1), 60);
    assert_memory_equal(h1, "$2b$04$", 7);
    assert_true(password_hash_valid(h1));
    assert_true(password_verify("admin123", h1));
    assert_false(password_verify("admin124", h1));
    assert_false(password_verify("", h1));
    assert_false(password_verify("Admin123", h1));
    assert_false(password_verify(NULL, h1));
    /* A fresh salt each time: same password, different hashes, both verify. */
    assert_int_equal(password_hash("admin123", 4, h2, sizeof(h2), &e), 0);
    assert_string_not_equal(h1, h2);
    assert_memory_not_equal(h1 + 7, h2 + 7, 22);
    assert_true(password_verify("admin123", h2));
    /* The empty password is a password too. */
    assert_int_equal(password_hash("", 4, h1, sizeof(h1), &e), 0);
    assert_true(password_verify("", h1));
    assert_false(password_verify(" ", h1));
    /* 72 bytes is the most bcrypt reads. */
    char longpw[73];
    memset(longpw, 'x', 72);
    longpw[72] = '\0';
    assert_int_equal(password_hash(longpw, 4, h1, sizeof(h1), &e), 0);
    assert_true(password_verify(longpw, h1));
    longpw[71] = 'y';
    assert_false(password_verify(longpw, h1));
}

static void test_default_cost(void **state)
{
    char h[PASSWORD_HASH_SIZE];
    struct err e;
    (void)state;
    err_clear(&e);
    assert_int_equal(password_hash("prof123", PASSWORD_DEFAULT_COST, h, sizeof(h), &e), 0);
    assert_memory_equal(h, "$2b$10$", 7);
    assert_true(password_verify("prof123", h));
    assert_false(password_verify("prof1234", h));
}

/* Hashes made elsewhere: crypt_blowfish's vectors and one from pgcrypto. */
static void test_foreign_hashes(void **state)
{
    static const struct {
        const char *password;
        const char *hash;
    } v[] = {
        {"U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
        {"U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"},
        {"U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"},
        {"", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"},
        {"admin123", "$2a$10$Q8x.eOwOIfaLCc0PqKr/C.fRom.AmPNRMpJ70IHO3F6cbQrMF9KtW"},
        /* $2b$ and $2y$ compute the same as $2a$ for ASCII passwords. */
        {"U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
        {"U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_true(password_hash_valid(v[i].hash));
        if (!password_verify(v[i].password, v[i].hash))
            fail_msg("vector %zu does not verify", i);
        assert_false(password_verify("wrong", v[i].hash));
    }
    /* One changed character of the hash part. */
    assert_false(
        password_verify("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX"));
}

static void test_hash_valid(void **state)
{
    static const char *const bad[] = {
        "",
        "admin123",
        "$2b$10$",
        "$2c$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "$2a$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWx",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!",
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe$",
        "$1$saltsalt$hashhashhashhashhashha",
        "$6$rounds=5000$usesomesillystri$"
        "D4IrlXatmP7rx3P3InaxBeoomnAihCKRVQP22JZ6EY47Wc6BkroIuUUBOov1i.S5KPgErtP/EN5mcO.ChWQW21",
        "abJnggxhB/yWI", /* traditional DES crypt, which crypt() would accept */
        NULL,
    };
    (void)state;
    assert_false(password_hash_valid(NULL));
    for (int i = 0; bad[i] != NULL; i++) {
        if (password_hash_valid(bad[i]))
            fail_msg("'%s' accepted as bcrypt", bad[i]);
        assert_false(password_verify("U*U", bad[i]));
    }
    /* A DES hash that crypt() itself would verify is still refused. */
    assert_false(password_verify("test", "abJnggxhB/yWI"));
    assert_false(password_verify("test", NULL));
}

static void test_errors(void **state)
{
    char h[PASSWORD_HASH_SIZE];
    char small[20];
    char longpw[80];
    struct err e;
    (void)state;

    err_clear(&e);
    memset(h, 'z', sizeof(h));
    assert_int_equal(password_hash("secret-pw", 3, h, sizeof(h), &e), -ERR_USAGE);
    assert_int_equal(e.code, ERR_USAGE);
    assert_string_equal(h, "");
    assert_int_equal(password_hash("secret-pw", 32, h, sizeof(h), &e), -ERR_USAGE);
    assert_int_equal(password_hash("secret-pw", 4, small, sizeof(small), &e), -ERR_USAGE);
    assert_string_equal(small, "");
    assert_int_equal(password_hash(NULL, 4, h, sizeof(h), &e), -ERR_USAGE);
    assert_null(strstr(e.msg, "secret-pw"));

    /* Over 72 bytes: refused rather than silently cut, and never echoed. */
    memset(longpw, 'q', 73);
    longpw[73] = '\0';
    err_clear(&e);
    assert_int_equal(password_hash(longpw, 4, h, sizeof(h), &e), -ERR_USAGE);
    assert_non_null(strstr(e.msg, "72"));
    assert_null(strstr(e.msg, "qqqq"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify), cmocka_unit_test(test_default_cost),
        cmocka_unit_test(test_foreign_hashes),  cmocka_unit_test(test_hash_valid),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
