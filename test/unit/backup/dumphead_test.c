/*
 * dumphead_test — the filter between a dump and psql (src/backup/dumphead.c):
 * a newer pg_dump's unknown SET at the head of a dump is left out, known
 * ones, comments, \restrict and set_config pass, everything after the head
 * passes unchanged (an unknown SET there too), and the result does not
 * depend on where the bytes are cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backup/dumphead.h"
#include "common/util.h"

/* What a PostgreSQL 15 server has (a part of it: what the dumps below set). */
static const char *const pg15[] = {
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "client_encoding",
    "standard_conforming_strings",
    "check_function_bodies",
    "xmloption",
    "client_min_messages",
    "row_security",
    "default_tablespace",
    "default_table_access_method",
};

/* The head of pg_dump 17.6's plain output, then the body. */
static const char dump17[] = "--\n"
                             "-- PostgreSQL database dump\n"
                             "--\n"
                             "\n"
                             "\\restrict AbCdEf123\n"
                             "\n"
                             "-- Dumped from database version 17.6 (Debian 17.6-0+deb13u1)\n"
                             "-- Dumped by pg_dump version 17.6 (Debian 17.6-0+deb13u1)\n"
                             "\n"
                             "SET statement_timeout = 0;\n"
                             "SET lock_timeout = 0;\n"
                             "SET idle_in_transaction_session_timeout = 0;\n"
                             "SET transaction_timeout = 0;\n"
                             "SET client_encoding = 'UTF8';\n"
                             "SET standard_conforming_strings = on;\n"
                             "SELECT pg_catalog.set_config('search_path', '', false);\n"
                             "SET check_function_bodies = false;\n"
                             "SET xmloption = content;\n"
                             "SET client_min_messages = warning;\n"
                             "SET row_security = off;\n"
                             "\n"
                             "CREATE TABLE public.t (id integer);\n"
                             "SET transaction_timeout = 0;\n"
                             "COPY public.t (id) FROM stdin;\n"
                             "1\n"
                             "\\.\n";

static int collect(void *arg, const void *p, size_t n, struct err *e)
{
    (void)e;
    buf_add(arg, p, n);
    return 0;
}

/* The dump through a filter, fed in pieces of `step` bytes. */
static char *filtered(const char *dump, size_t step, int *skipped)
{
    struct dumphead *h = dumphead_new(pg15, (int)(sizeof(pg15) / sizeof(pg15[0])));
    struct buf out = BUF_INIT;
    struct err e = {0};
    size_t len = strlen(dump);

    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        assert_int_equal(dumphead_feed(h, dump + i, n, collect, &out, &e), 0);
    }
    assert_int_equal(dumphead_finish(h, collect, &out, &e), 0);
    *skipped = dumphead_skipped(h);
    dumphead_free(h);
    buf_addc(&out, '\0');
    return buf_detach(&out);
}

static void test_unknown_head_set_skipped(void **state)
{
    (void)state;
    int skipped = 0;
    char *out = filtered(dump17, sizeof(dump17), &skipped);
    const char *body = strstr(dump17, "\nCREATE TABLE");

    assert_int_equal(skipped, 1);
    /* Only the first "SET transaction_timeout" went: the head's. */
    assert_non_null(strstr(out, "SET idle_in_transaction_session_timeout = 0;\n"
                                "SET client_encoding = 'UTF8';\n"));
    assert_non_null(strstr(out, "\\restrict AbCdEf123\n"));
    assert_non_null(strstr(out, "SELECT pg_catalog.set_config('search_path', '', false);\n"));
    /* The body, an unknown SET in it included, passes byte for byte. */
    assert_non_null(body);
    assert_string_equal(out + strlen(out) - strlen(body), body);
    assert_int_equal(strlen(out), strlen(dump17) - strlen("SET transaction_timeout = 0;\n"));
    free(out);
}

static void test_any_cut(void **state)
{
    (void)state;
    int skipped = 0;
    char *whole = filtered(dump17, sizeof(dump17), &skipped);

    for (size_t step = 1; step < 40; step++) {
        char *out = filtered(dump17, step, &skipped);
        assert_string_equal(out, whole);
        assert_int_equal(skipped, 1);
        free(out);
    }
    free(whole);
}

static void test_only_plain_settings(void **state)
{
    (void)state;
    int skipped = 0;
    /*
     * Known settings, extension placeholders, SET LOCAL/SESSION, a line with
     * more than one statement, and a statement continued on the next line
     * pass; only a plain unknown SET alone on its line goes.
     */
    const char *dump = "SET Lock_Timeout = 0;\n"
                       "SET myext.thing = 1;\n"
                       "SET LOCAL nonexistent_x = 1;\n"
                       "SET SESSION AUTHORIZATION 'x';\n"
                       "SET nonexistent_y = 1; DROP TABLE users;\n"
                       "SET nonexistent_z = 1;\r\n"
                       "SET nonexistent_v = 1\n"
                       "SET nonexistent_u = 2;\n"
                       "SET nonexistent_w = 1;";
    char *out = filtered(dump, 5, &skipped);

    assert_int_equal(skipped, 2);
    assert_string_equal(out, "SET Lock_Timeout = 0;\n"
                             "SET myext.thing = 1;\n"
                             "SET LOCAL nonexistent_x = 1;\n"
                             "SET SESSION AUTHORIZATION 'x';\n"
                             "SET nonexistent_y = 1; DROP TABLE users;\n"
                             "SET nonexistent_v = 1\n"
                             "SET nonexistent_u = 2;\n");
    free(out);
}

static void test_head_ends_at_first_statement(void **state)
{
    (void)state;
    int skipped = 0;
    char *out = filtered("BEGIN;\nSET transaction_timeout = 0;\n", 3, &skipped);

    assert_int_equal(skipped, 0);
    assert_string_equal(out, "BEGIN;\nSET transaction_timeout = 0;\n");
    free(out);

    /* A head line too long to be a setting ends the head; nothing is lost. */
    struct buf b = BUF_INIT;
    buf_adds(&b, "-- ");
    for (int i = 0; i < 5000; i++)
        buf_addc(&b, 'x');
    buf_adds(&b, "\nSET transaction_timeout = 0;\n");
    buf_addc(&b, '\0');
    out = filtered(buf_str(&b), 1000, &skipped);
    assert_int_equal(skipped, 0);
    assert_string_equal(out, buf_str(&b));
    free(out);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_head_set_skipped),
        cmocka_unit_test(test_any_cut),
        cmocka_unit_test(test_only_plain_settings),
        cmocka_unit_test(test_head_ends_at_first_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
