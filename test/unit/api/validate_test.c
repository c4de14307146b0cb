/*
 * validate_test — the checks of src/api/validate.c that need no request:
 * emails, phones, times, dates, instants, cursors, the field tables and
 * the SQL they build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/validate.h"

static void test_email(void **state)
{
    const char *good[] = {"a@b.co", "first.last+tag@sub.example.com", "x_y@example-mail.mx",
                          "O'Brien@example.ie", NULL};
    const char *bad[] = {"",         "a",         "a@",       "@b.com",   "a@b",        "a@b.c",
                         "a@@b.com", "a b@c.com", ".a@b.com", "a.@b.com", "a..b@c.com", "a@-b.com",
                         "a@b-.com", "a@b..com",  "a@b.c0m",  "a@b.com.", "á@b.com",    NULL};
    char longlocal[80], longmail[300];

    for (int i = 0; good[i] != NULL; i++)
        assert_true(api_email_valid(good[i]));
    for (int i = 0; bad[i] != NULL; i++) {
        if (api_email_valid(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
    }
    assert_false(api_email_valid(NULL));
    memset(longlocal, 'a', 65);
    strcpy(longlocal + 65, "@b.com");
    assert_false(api_email_valid(longlocal));
    memset(longmail, 'a', 250);
    strcpy(longmail + 250, "@b.com");
    assert_false(api_email_valid(longmail));
}

static void test_phone(void **state)
{
    char out[API_NORM_MAX];

    assert_int_equal(api_phone_normalize("+52 55 1111 0001", out), 0);
    assert_string_equal(out, "+525511110001");
    assert_int_equal(api_phone_normalize("(55) 1111-0001", out), 0);
    assert_string_equal(out, "5511110001");
    assert_int_equal(api_phone_normalize("12345678", out), 0);
    assert_int_equal(api_phone_normalize("123456789012345", out), 0);
    assert_int_equal(api_phone_normalize("1234567", out), -1);
    assert_string_equal(out, "");
    assert_int_equal(api_phone_normalize("1234567890123456", out), -1);
    assert_int_equal(api_phone_normalize("++5255111100", out), -1);
    assert_int_equal(api_phone_normalize("55 1111 000x", out), -1);
    assert_int_equal(api_phone_normalize("5511110001+", out), -1);
    assert_int_equal(api_phone_normalize("", out), -1);
    assert_int_equal(api_phone_normalize(NULL, out), -1);
}

static void test_times_and_dates(void **state)
{
    int y, m, d;
    char out[32];

    assert_int_equal(api_date_parse("2024-02-29", &y, &m, &d), 0);
    assert_int_equal(y * 10000 + m * 100 + d, 20240229);
    assert_int_equal(api_date_parse("2023-02-29", &y, &m, &d), -1);
    assert_int_equal(api_date_parse("2023-2-01", &y, &m, &d), -1);
    assert_int_equal(api_date_parse("0000-01-01", &y, &m, &d), -1);
    api_instant_rfc3339("2025-01-09 02:00:00+00", out);
    assert_string_equal(out, "2025-01-09T02:00:00Z");
    api_instant_rfc3339("something else", out);
    assert_string_equal(out, "something else");
}

static void test_cursor(void **state)
{
    const int64_t ids[] = {1, 9, 10, 123, 99999, 1234567890123LL, INT64_MAX};
    int64_t back = 0;

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char *c = api_cursor_encode(ids[i]);

        assert_true(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                    strlen(c));
        assert_int_equal(api_cursor_decode(c, &back), 0);
        assert_int_equal(back, ids[i]);
        free(c);
    }
    /* Only cursors this program made: no padding, no other text, no id 0. */
    const char *bad[] = {"",
                         "MQ==",
                         "MQ=",
                         "M",
                         "MA",
                         "LTE",
                         "YWJj",
                         "M Q",
                         "MQ\n",
                         "%00",
                         "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw",
                         NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        if (api_cursor_decode(bad[i], &back) == 0)
            fail_msg("cursor '%s' accepted", bad[i]);
    }
    assert_int_equal(api_cursor_decode(NULL, &back), -1);
}

static const char *const colors[] = {"RED", "GREEN", NULL};

static const struct api_field fields[] = {
    {"name", API_T_STRING, API_REQUIRED, 1, 5, NULL},
    {"count", API_T_INT, 0, 0, 10, NULL},
    {"email", API_T_EMAIL, API_NULLABLE, 0, 0, NULL},
    {"on", API_T_BOOL, 0, 0, 0, NULL},
    {"color", API_T_ENUM, 0, 0, 0, colors},
    {"at", API_T_INSTANT, 0, 0, 0, NULL},
    {"list", API_T_ARRAY, 0, 0, 2, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Check text against the table; returns the failing field ("" when it passes). */
static const char *check(const char *text, enum api_mode mode, struct api_value *v)
{
    static struct api_invalid inv;
    json_error_t jerr;
    json_t *body = json_loads(text, 0, &jerr);
    int rc;

    assert_non_null(body);
    rc = api_check_object(body, fields, mode, NULL, v, &inv);
    json_decref(body);
    return rc == 0 ? "" : inv.field;
}

static void test_check_object(void **state)
{
    struct api_value v[API_MAX_FIELDS];
    json_error_t jerr;
    json_t *body;
    struct api_invalid inv;

    /* Borrowed strings: keep the body alive while reading the values. */
    body = json_loads("{\"name\":\"ñandú\",\"count\":10,\"email\":\"A@B.COM\",\"on\":false,"
                      "\"color\":\"RED\",\"at\":\"2025-03-09T02:30:00-06:00\",\"list\":[1,2]}",
                      0, &jerr);
    assert_int_equal(api_check_object(body, fields, API_CREATE, NULL, v, &inv), 0);
    assert_string_equal(v[0].s, "ñandú");
    assert_int_equal(v[1].i, 10);
    assert_string_equal(v[2].s, "a@b.com");
    assert_true(v[3].present && !v[3].b);
    assert_string_equal(v[5].s, "2025-03-09 08:30:00+00");
    assert_true(v[6].present && json_array_size(v[6].json) == 2);
    json_decref(body);

    assert_string_equal(check("{}", API_CREATE, v), "name");
    assert_string_equal(check("{}", API_UPDATE, v), "");
    assert_false(v[0].present);
    assert_string_equal(check("{\"name\":\"abcdef\"}", API_UPDATE, v), "name");
    assert_string_equal(check("{\"name\":\"\"}", API_UPDATE, v), "name");
    assert_string_equal(check("{\"name\":null}", API_UPDATE, v), "name");
    assert_string_equal(check("{\"email\":null}", API_UPDATE, v), "");
    assert_true(v[2].present && v[2].null);
    assert_string_equal(check("{\"count\":11}", API_UPDATE, v), "count");
    assert_string_equal(check("{\"count\":1.0}", API_UPDATE, v), "count");
    assert_string_equal(check("{\"count\":\"1\"}", API_UPDATE, v), "count");
    assert_string_equal(check("{\"count\":true}", API_UPDATE, v), "count");
    assert_string_equal(check("{\"on\":1}", API_UPDATE, v), "on");
    assert_string_equal(check("{\"color\":\"red\"}", API_UPDATE, v), "color");
    assert_string_equal(check("{\"at\":\"2025-03-09 02:30:00\"}", API_UPDATE, v), "at");
    assert_string_equal(check("{\"at\":\"2025-02-30T02:30:00Z\"}", API_UPDATE, v), "at");
    assert_string_equal(check("{\"list\":[1,2,3]}", API_UPDATE, v), "list");
    assert_string_equal(check("{\"list\":{}}", API_UPDATE, v), "list");
    assert_string_equal(check("{\"name\":\"a\",\"extra\":1}", API_UPDATE, v), "extra");
}

static void test_nested_prefix(void **state)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_invalid inv;
    json_t *el = json_pack("{s:i}", "count", 99);

    assert_int_equal(api_check_object(el, fields, API_UPDATE, "items[3].", v, &inv), -1);
    assert_string_equal(inv.field, "items[3].count");
    json_decref(el);
    el = json_string("x");
    assert_int_equal(api_check_object(el, fields, API_UPDATE, "items[0].", v, &inv), -1);
    assert_string_equal(inv.field, "items[0]");
    json_decref(el);
}

static void test_sql_building(void **state)
{
    static const char *const skip[] = {"list", "on", NULL};
    struct api_value v[API_MAX_FIELDS];
    struct api_invalid inv;
    struct api_sql q;
    json_t *body = json_pack("{s:s, s:n, s:b}", "name", "x'y", "email", "on", 1);

    assert_int_equal(api_check_object(body, fields, API_CREATE, NULL, v, &inv), 0);
    api_sql_insert(&q, "things", 7, fields, v, skip, (const char *const[]){"secret", NULL},
                   (struct db_param[]){DB_TEXT("h")});
    assert_string_equal(buf_str(&q.text), "INSERT INTO things (tenant_id, secret, name, email) "
                                          "VALUES ($1, $2, $3, $4) RETURNING id");
    assert_int_equal(q.nparams, 4);
    assert_int_equal(q.params[0].i, 7);
    assert_string_equal(q.params[1].s, "h");
    assert_string_equal(q.params[2].s, "x'y"); /* a parameter, never SQL text */
    assert_int_equal(q.params[3].type, DB_P_NULL);
    api_sql_release(&q);

    api_sql_init(&q, "UPDATE things SET updated_at = now()");
    assert_int_equal(api_sql_set_fields(&q, fields, v, NULL, false), 3);
    assert_string_equal(buf_str(&q.text),
                        "UPDATE things SET updated_at = now(), name = $1, email = $2, on = $3");
    assert_int_equal(q.params[2].type, DB_P_BOOL);
    api_sql_release(&q);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),           cmocka_unit_test(test_phone),
        cmocka_unit_test(test_times_and_dates), cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_check_object),    cmocka_unit_test(test_nested_prefix),
        cmocka_unit_test(test_sql_building),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
