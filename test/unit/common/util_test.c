/*
 * util_test — string buffer, allocation and parsing helpers (src/common/util.c)
 * and the error table (src/common/err.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"

static void test_buf(void **state)
{
    struct buf b = BUF_INIT;

    assert_string_equal(buf_str(&b), "");
    buf_adds(&b, "abc");
    buf_addc(&b, '-');
    buf_add(&b, "xyz123", 3);
    buf_addf(&b, "[%d:%s]", 42, "q");
    assert_string_equal(buf_str(&b), "abc-xyz[42:q]");
    assert_int_equal(b.len, strlen("abc-xyz[42:q]"));

    /* Growth across many doublings keeps every byte and the terminator. */
    for (int i = 0; i < 1000; i++)
        buf_addf(&b, "%03d", i % 1000);
    assert_int_equal(b.len, 13 + 3000);
    assert_memory_equal(b.data + 13, "000001002", 9);
    assert_memory_equal(b.data + b.len - 3, "999", 3);
    assert_int_equal(b.data[b.len], '\0');
    assert_true(b.cap > b.len);

    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_adds(&b, "again");
    char *s = buf_detach(&b);
    assert_string_equal(s, "again");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);

    /* Detaching an empty buffer still hands out a string to free. */
    s = buf_detach(&b);
    assert_string_equal(s, "");
    free(s);

    /* Embedded NUL bytes are kept by buf_add. */
    buf_add(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    buf_release(&b);
    assert_null(b.data);
    buf_release(&b);
}

static void test_alloc(void **state)
{
    char *s = xstrdup("hello");
    assert_string_equal(s, "hello");
    free(s);
    s = xstrndup("hello world", 5);
    assert_string_equal(s, "hello");
    free(s);
    s = xasprintf("%s=%d", "n", -7);
    assert_string_equal(s, "n=-7");
    free(s);
    s = xasprintf("%s", "");
    assert_string_equal(s, "");
    free(s);

    int *v = xcalloc(16, sizeof(int));
    for (int i = 0; i < 16; i++)
        assert_int_equal(v[i], 0);
    v = xrealloc(v, 1024 * sizeof(int));
    v[1023] = 5;
    assert_int_equal(v[0], 0);
    free(v);
    free(xmalloc(0)); /* zero bytes still gives a pointer to free */
}

static void test_str(void **state)
{
    assert_true(str_eq("a", "a"));
    assert_false(str_eq("a", "b"));
    assert_false(str_eq(NULL, "a"));
    assert_false(str_eq("a", NULL));
    assert_false(str_eq(NULL, NULL));
    assert_true(str_starts_with("postgresql://x", "postgresql://"));
    assert_true(str_starts_with("abc", ""));
    assert_false(str_starts_with("post", "postgresql"));
    assert_true(str_ends_with("x.sql.gz", ".sql.gz"));
    assert_true(str_ends_with("x", ""));
    assert_false(str_ends_with("gz", ".sql.gz"));
    assert_false(str_ends_with("x.sql.gz.sha256", ".sql.gz"));
}

static void test_parse_int64(void **state)
{
    int64_t v = -99;

    assert_int_equal(parse_int64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse_int64("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(parse_int64("9223372036854775807", 0, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    v = 7;
    assert_int_equal(parse_int64("9223372036854775808", 0, INT64_MAX, &v), -1);
    assert_int_equal(parse_int64("11", 0, 10, &v), -1);
    assert_int_equal(parse_int64("-1", 0, 10, &v), -1);
    assert_int_equal(parse_int64("", 0, 10, &v), -1);
    assert_int_equal(parse_int64(NULL, 0, 10, &v), -1);
    assert_int_equal(parse_int64("5x", 0, 10, &v), -1);
    assert_int_equal(parse_int64("0x5", 0, 10, &v), -1);
    assert_int_equal(v, 7); /* untouched on failure */
}

static void test_secure_zero(void **state)
{
    char secret[] = "hunter2-secret";
    secure_zero(secret, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++)
        assert_int_equal(secret[i], 0);
}

static void test_time_mono(void **state)
{
    double a = time_mono();
    double b = time_mono();
    assert_true(a > 0);
    assert_true(b >= a);
}

static void test_err(void **state)
{
    struct err e;

    err_clear(&e);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(e.msg, "");

    assert_int_equal(err_set(&e, ERR_DB_CONNECT, "cannot connect to '%s'", "db"), -ERR_DB_CONNECT);
    assert_int_equal(e.code, ERR_DB_CONNECT);
    assert_string_equal(e.msg, "cannot connect to 'db'");
    assert_int_equal(err_prefix(&e, "boot step %d", 2), -ERR_DB_CONNECT);
    assert_string_equal(e.msg, "boot step 2: cannot connect to 'db'");
    assert_int_equal(e.code, ERR_DB_CONNECT);

    /* NULL is allowed: the code still comes back. */
    assert_int_equal(err_set(NULL, ERR_CONFIG, "x"), -ERR_CONFIG);
    assert_true(err_prefix(NULL, "x") < 0);
    err_clear(NULL);

    /* A message longer than the buffer is cut, still terminated. */
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_set(&e, ERR_IO, "%s", big);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    err_prefix(&e, "p");
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    assert_memory_equal(e.msg, "p: aaa", 6);
}

/* The exit statuses of SPEC §2. */
static void test_exit_status(void **state)
{
    assert_int_equal(err_exit_status(ERR_OK), 0);
    assert_int_equal(err_exit_status(ERR_INTERNAL), 1);
    assert_int_equal(err_exit_status(ERR_NOMEM), 1);
    assert_int_equal(err_exit_status(ERR_DB), 1);
    assert_int_equal(err_exit_status(ERR_USAGE), 2);
    assert_int_equal(err_exit_status(ERR_CONFIG), 2);
    assert_int_equal(err_exit_status(ERR_DB_CONNECT), 3);
    assert_int_equal(err_exit_status(ERR_DB_AUTH), 3);
    assert_int_equal(err_exit_status(ERR_MIGRATE), 4);
    assert_int_equal(err_exit_status(ERR_BACKUP), 5);
    assert_int_equal(err_exit_status(ERR_VERIFY), 6);
    assert_int_equal(err_exit_status(ERR_RESTORE_REFUSED), 7);
    assert_int_equal(err_exit_status(ERR_LOCKED), 8);
    assert_int_equal(err_exit_status(ERR_NO_SPACE), 9);
    assert_int_equal(err_exit_status(ERR__COUNT), 1);
    assert_int_equal(err_exit_status((enum err_code) - 3), 1);

    assert_string_equal(err_name(ERR_DB_OVERLAP), "DB_OVERLAP");
    assert_string_equal(err_name(ERR_CONFIG), "CONFIG");
    assert_string_equal(err_name(ERR__COUNT), "UNKNOWN");
    assert_string_equal(err_desc(ERR_LOCKED), "lock held by another process");
    assert_string_equal(err_desc(ERR__COUNT), "unknown error");
    /* Every code has a name and a description. */
    for (int c = 0; c < ERR__COUNT; c++) {
        assert_true(strlen(err_name((enum err_code)c)) > 0);
        assert_true(strlen(err_desc((enum err_code)c)) > 0);
        int st = err_exit_status((enum err_code)c);
        assert_true(st >= 0 && st <= 9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),         cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_str),         cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_secure_zero), cmocka_unit_test(test_time_mono),
        cmocka_unit_test(test_err),         cmocka_unit_test(test_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
