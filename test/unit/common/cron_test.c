/*
 * cron_test — cron expressions and their next fire time (src/common/cron.c).
 *
 * Times are written "YYYY-MM-DD HH:MM:SS +ZZZZ" (local wall time and its UTC
 * offset, which names one instant exactly); fire times are printed by libc's
 * strftime in the zone under test, followed by the weekday, so an expected
 * line reads like a calendar.  Each test sets TZ itself (setenv + tzset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cron.h"

#define MAX_FIRES 16

static void set_tz(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

/* "2025-03-09 01:59:30 -0500" -> epoch seconds. */
static int64_t at(const char *s)
{
    struct tm tm = {0};
    int sign_h = 0, mm = 0;
    char sign = 0;
    int n = sscanf(s, "%d-%d-%d %d:%d:%d %c%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &sign_h, &mm);
    assert_int_equal(n, 9);
    assert_true(sign == '+' || sign == '-');
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t off = (sign == '-' ? -1 : 1) * (sign_h * 3600 + mm * 60);
    return (int64_t)timegm(&tm) - off;
}

/* Epoch -> "2025-03-09 03:00:00 -0400 Sun" in the current TZ. */
static void show(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(localtime_r(&tt, &tm));
    assert_true(strftime(buf, size, "%Y-%m-%d %H:%M:%S %z %a", &tm) > 0);
}

static struct cron parse_ok(const char *expr)
{
    struct cron c;
    struct err e;
    err_clear(&e);
    int rc = cron_parse(expr, &c, &e);
    if (rc != 0)
        fail_msg("cron_parse('%s') failed: %s", expr, e.msg);
    assert_int_equal(e.code, ERR_OK);
    return c;
}

/*
 * In zone TZ, the fire times of EXPR after AFTER, one after the other, must
 * be EXPECTED (NULL-terminated).
 */
static void expect_fires_v(const char *tz, const char *expr, const char *after,
                           const char *const *expected)
{
    set_tz(tz);
    struct cron c = parse_ok(expr);
    int64_t t = at(after);
    for (size_t i = 0; expected[i] != NULL; i++) {
        int64_t next = -1;
        char got[64];
        int rc = cron_next(&c, t, &next);
        if (rc != 0)
            fail_msg("'%s' in %s: cron_next after '%s' returned %d, want '%s'", expr, tz, after, rc,
                     expected[i]);
        assert_true(next > t);
        show(next, got, sizeof(got));
        if (strcmp(got, expected[i]) != 0)
            fail_msg("'%s' in %s after '%s': fire %zu is '%s', want '%s'", expr, tz, after, i, got,
                     expected[i]);
        t = next;
    }
}

#define expect_fires(tz, expr, after, ...)                                                         \
    expect_fires_v(tz, expr, after, (const char *const[]){__VA_ARGS__, NULL})

/* ---- syntax ------------------------------------------------------------ */

static void test_every_minute_strictly_after(void **state)
{
    (void)state;
    expect_fires("UTC", "* * * * *", "2025-01-01 00:00:30 +0000", "2025-01-01 00:01:00 +0000 Wed",
                 "2025-01-01 00:02:00 +0000 Wed", "2025-01-01 00:03:00 +0000 Wed");
    /* exactly on a fire time: the next one, never the same */
    expect_fires("UTC", "* * * * *", "2025-01-01 00:01:00 +0000", "2025-01-01 00:02:00 +0000 Wed");
    expect_fires("UTC", "* * * * *", "2025-12-31 23:59:59 +0000", "2026-01-01 00:00:00 +0000 Thu");
}

static void test_values(void **state)
{
    (void)state;
    expect_fires("UTC", "5 4 * * *", "2025-01-01 04:05:00 +0000", "2025-01-02 04:05:00 +0000 Thu",
                 "2025-01-03 04:05:00 +0000 Fri");
    expect_fires("UTC", "0 0 1 1 *", "2025-06-15 00:00:00 +0000", "2026-01-01 00:00:00 +0000 Thu",
                 "2027-01-01 00:00:00 +0000 Fri");
    /* before 1970 */
    expect_fires("UTC", "0 0 1 1 *", "1969-06-01 00:00:00 +0000", "1970-01-01 00:00:00 +0000 Thu",
                 "1971-01-01 00:00:00 +0000 Fri");
    /* leading zeros are plain numbers */
    expect_fires("UTC", "05 07 * * *", "2025-01-01 00:00:00 +0000",
                 "2025-01-01 07:05:00 +0000 Wed");
}

static void test_lists_and_ranges(void **state)
{
    (void)state;
    expect_fires("UTC", "1,15,45 * * * *", "2025-01-01 00:00:00 +0000",
                 "2025-01-01 00:01:00 +0000 Wed", "2025-01-01 00:15:00 +0000 Wed",
                 "2025-01-01 00:45:00 +0000 Wed", "2025-01-01 01:01:00 +0000 Wed");
    expect_fires("UTC", "0 9-11 * * *", "2025-01-01 00:00:00 +0000",
                 "2025-01-01 09:00:00 +0000 Wed", "2025-01-01 10:00:00 +0000 Wed",
                 "2025-01-01 11:00:00 +0000 Wed", "2025-01-02 09:00:00 +0000 Thu");
    expect_fires("UTC", "30 23 1-2,31 * *", "2025-01-02 00:00:00 +0000",
                 "2025-01-02 23:30:00 +0000 Thu", "2025-01-31 23:30:00 +0000 Fri",
                 "2025-02-01 23:30:00 +0000 Sat");
}

static void test_steps(void **state)
{
    (void)state;
    expect_fires("UTC", "*/15 * * * *", "2025-01-01 00:00:00 +0000",
                 "2025-01-01 00:15:00 +0000 Wed", "2025-01-01 00:30:00 +0000 Wed",
                 "2025-01-01 00:45:00 +0000 Wed", "2025-01-01 01:00:00 +0000 Wed");
    expect_fires("UTC", "0-30/10 * * * *", "2025-01-01 00:00:00 +0000",
                 "2025-01-01 00:10:00 +0000 Wed", "2025-01-01 00:20:00 +0000 Wed",
                 "2025-01-01 00:30:00 +0000 Wed", "2025-01-01 01:00:00 +0000 Wed");
    /* "5/15" is 5-59/15 */
    expect_fires("UTC", "5/15 * * * *", "2025-01-01 00:00:00 +0000",
                 "2025-01-01 00:05:00 +0000 Wed", "2025-01-01 00:20:00 +0000 Wed",
                 "2025-01-01 00:35:00 +0000 Wed", "2025-01-01 00:50:00 +0000 Wed",
                 "2025-01-01 01:05:00 +0000 Wed");
    expect_fires("UTC", "0 */6 * * *", "2025-01-01 00:00:00 +0000", "2025-01-01 06:00:00 +0000 Wed",
                 "2025-01-01 12:00:00 +0000 Wed", "2025-01-01 18:00:00 +0000 Wed",
                 "2025-01-02 00:00:00 +0000 Thu");
    /* steps over a range of months and days, with names */
    expect_fires("UTC", "0 0 1/10 feb-jun/2 *", "2025-01-01 00:00:00 +0000",
                 "2025-02-01 00:00:00 +0000 Sat", "2025-02-11 00:00:00 +0000 Tue",
                 "2025-02-21 00:00:00 +0000 Fri", "2025-04-01 00:00:00 +0000 Tue",
                 "2025-04-11 00:00:00 +0000 Fri");
}

static uint64_t bits_of(const int *values, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++)
        b |= UINT64_C(1) << values[i];
    return b;
}

#define BITS(...)                                                                                  \
    bits_of((const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static void test_parsed_sets(void **state)
{
    (void)state;
    struct cron c = parse_ok("0,10-12,50-59/4 0/12 1,15 jan-mar/2,Dec mon-fri");
    assert_true(c.minutes == BITS(0, 10, 11, 12, 50, 54, 58));
    assert_true(c.hours == BITS(0, 12));
    assert_true(c.mdays == BITS(1, 15));
    assert_true(c.months == BITS(1, 3, 12));
    assert_true(c.wdays == BITS(1, 2, 3, 4, 5));
    assert_false(c.mday_star);
    assert_false(c.wday_star);
    assert_false(c.wildcard);

    c = parse_ok("* * * * *");
    assert_true(c.minutes == (UINT64_C(1) << 60) - 1);
    assert_true(c.hours == (UINT32_C(1) << 24) - 1);
    assert_true(c.mdays == ((UINT32_C(1) << 31) - 1) << 1);
    assert_true(c.months == ((1u << 12) - 1) << 1);
    assert_true(c.wdays == 0x7f);
    assert_true(c.mday_star && c.wday_star && c.wildcard);

    /* day-of-week: 7 and 0 are both Sunday; "*" with a step still counts as "*" */
    c = parse_ok("0 0 */2 * 5-7");
    assert_true(c.wdays == BITS(0, 5, 6));
    assert_true(c.mdays == BITS(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
    assert_true(c.mday_star);
    assert_false(c.wday_star);
    c = parse_ok("0 0 * * */2");
    assert_true(c.wdays == BITS(0, 2, 4, 6));
    assert_true(parse_ok("0 0 * * 7").wdays == BITS(0));
    assert_true(parse_ok("0 0 * * 0").wdays == BITS(0));
    assert_true(parse_ok("0 0 * * SuN").wdays == BITS(0));

    /* wildcard: the minute or hour field begins with '*' */
    assert_true(parse_ok("0 * * * *").wildcard);
    assert_true(parse_ok("*/5 3 * * *").wildcard);
    assert_false(parse_ok("0-59 0-23 * * *").wildcard);
    assert_false(parse_ok("30 2 * * *").wildcard);
}

static void test_month_and_day_names(void **state)
{
    (void)state;
    expect_fires("UTC", "0 0 1 jan,JUL,Dec *", "2025-02-01 00:00:00 +0000",
                 "2025-07-01 00:00:00 +0000 Tue", "2025-12-01 00:00:00 +0000 Mon",
                 "2026-01-01 00:00:00 +0000 Thu");
    expect_fires("UTC", "0 0 * * MON,wed,Fri", "2025-01-05 00:00:00 +0000",
                 "2025-01-06 00:00:00 +0000 Mon", "2025-01-08 00:00:00 +0000 Wed",
                 "2025-01-10 00:00:00 +0000 Fri", "2025-01-13 00:00:00 +0000 Mon");
    expect_fires("UTC", "0 0 * * mon-fri", "2025-01-03 12:00:00 +0000",
                 "2025-01-06 00:00:00 +0000 Mon", "2025-01-07 00:00:00 +0000 Tue");
    /* names and numbers mix */
    expect_fires("UTC", "0 0 1 11-dec *", "2025-01-01 00:00:00 +0000",
                 "2025-11-01 00:00:00 +0000 Sat", "2025-12-01 00:00:00 +0000 Mon",
                 "2026-11-01 00:00:00 +0000 Sun");
}

static void test_sunday_as_seven(void **state)
{
    (void)state;
    expect_fires("UTC", "0 0 * * 7", "2025-01-01 00:00:00 +0000", "2025-01-05 00:00:00 +0000 Sun",
                 "2025-01-12 00:00:00 +0000 Sun");
    expect_fires("UTC", "0 0 * * 5-7", "2025-01-01 00:00:00 +0000", "2025-01-03 00:00:00 +0000 Fri",
                 "2025-01-04 00:00:00 +0000 Sat", "2025-01-05 00:00:00 +0000 Sun",
                 "2025-01-10 00:00:00 +0000 Fri");
}

static void test_day_of_month_or_day_of_week(void **state)
{
    (void)state;
    /* both restricted: the 13th OR a Friday (Friday the 13th once) */
    expect_fires("UTC", "0 0 13 * fri", "2025-06-01 00:00:00 +0000",
                 "2025-06-06 00:00:00 +0000 Fri", "2025-06-13 00:00:00 +0000 Fri",
                 "2025-06-20 00:00:00 +0000 Fri", "2025-06-27 00:00:00 +0000 Fri",
                 "2025-07-04 00:00:00 +0000 Fri", "2025-07-11 00:00:00 +0000 Fri",
                 "2025-07-13 00:00:00 +0000 Sun", "2025-07-18 00:00:00 +0000 Fri");
    /* one of them '*': both must match */
    expect_fires("UTC", "0 0 * * mon", "2025-01-01 00:00:00 +0000", "2025-01-06 00:00:00 +0000 Mon",
                 "2025-01-13 00:00:00 +0000 Mon");
    expect_fires("UTC", "0 0 1 * *", "2025-01-01 00:00:00 +0000", "2025-02-01 00:00:00 +0000 Sat");
    /* Vixie: a field beginning with '*' is unrestricted even with a step -> AND */
    expect_fires("UTC", "0 0 */10 * mon", "2025-01-01 00:00:00 +0000",
                 "2025-03-31 00:00:00 +0000 Mon", "2025-04-21 00:00:00 +0000 Mon",
                 "2025-07-21 00:00:00 +0000 Mon", "2025-08-11 00:00:00 +0000 Mon",
                 "2025-09-01 00:00:00 +0000 Mon");
    /* a day-of-month that Feb lacks, OR Mondays: the Mondays of February */
    expect_fires("UTC", "0 0 30 2 mon", "2025-01-01 00:00:00 +0000",
                 "2025-02-03 00:00:00 +0000 Mon", "2025-02-10 00:00:00 +0000 Mon",
                 "2025-02-17 00:00:00 +0000 Mon", "2025-02-24 00:00:00 +0000 Mon",
                 "2026-02-02 00:00:00 +0000 Mon");
}

static void test_month_ends(void **state)
{
    (void)state;
    expect_fires("UTC", "0 0 31 * *", "2025-01-31 00:00:00 +0000", "2025-03-31 00:00:00 +0000 Mon",
                 "2025-05-31 00:00:00 +0000 Sat", "2025-07-31 00:00:00 +0000 Thu",
                 "2025-08-31 00:00:00 +0000 Sun", "2025-10-31 00:00:00 +0000 Fri",
                 "2025-12-31 00:00:00 +0000 Wed", "2026-01-31 00:00:00 +0000 Sat");
    expect_fires("UTC", "0 0 30 * *", "2025-01-30 00:00:00 +0000", "2025-03-30 00:00:00 +0000 Sun",
                 "2025-04-30 00:00:00 +0000 Wed");
    expect_fires("UTC", "59 23 28-31 2 *", "2025-01-01 00:00:00 +0000",
                 "2025-02-28 23:59:00 +0000 Fri", "2026-02-28 23:59:00 +0000 Sat",
                 "2027-02-28 23:59:00 +0000 Sun", "2028-02-28 23:59:00 +0000 Mon",
                 "2028-02-29 23:59:00 +0000 Tue");
    /* the 31st in February or March: March only */
    expect_fires("UTC", "0 0 31 2,3 *", "2025-01-01 00:00:00 +0000",
                 "2025-03-31 00:00:00 +0000 Mon", "2026-03-31 00:00:00 +0000 Tue");
}

static void test_leap_years(void **state)
{
    (void)state;
    expect_fires("UTC", "0 0 29 2 *", "2024-02-29 00:00:00 +0000", "2028-02-29 00:00:00 +0000 Tue",
                 "2032-02-29 00:00:00 +0000 Sun");
    expect_fires("UTC", "0 0 29 2 *", "2025-06-01 00:00:00 +0000", "2028-02-29 00:00:00 +0000 Tue");
    /* 2100 is not a leap year, 2400 is */
    expect_fires("UTC", "0 0 29 2 *", "2096-03-01 00:00:00 +0000", "2104-02-29 00:00:00 +0000 Fri");
    expect_fires("UTC", "0 0 29 2 *", "2397-01-01 00:00:00 +0000", "2400-02-29 00:00:00 +0000 Tue");
    /* AND with a '*' day-of-week: the 29th of February that is a Sunday */
    expect_fires("UTC", "0 0 29 2 */7", "2025-01-01 00:00:00 +0000",
                 "2032-02-29 00:00:00 +0000 Sun", "2060-02-29 00:00:00 +0000 Sun",
                 "2088-02-29 00:00:00 +0000 Sun", "2128-02-29 00:00:00 +0000 Sun");
}

static void test_macros(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},      {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"},    {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"}, {"  @DAILY \t", "0 0 * * *"}, {"@Weekly", "0 0 * * sun"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct cron a = parse_ok(pairs[i][0]);
        struct cron b = parse_ok(pairs[i][1]);
        if (memcmp(&a, &b, sizeof(a)) != 0)
            fail_msg("'%s' differs from '%s'", pairs[i][0], pairs[i][1]);
    }
    expect_fires("UTC", "@weekly", "2025-01-01 00:00:00 +0000", "2025-01-05 00:00:00 +0000 Sun",
                 "2025-01-12 00:00:00 +0000 Sun");
    expect_fires("UTC", "@hourly", "2025-01-01 00:00:00 +0000", "2025-01-01 01:00:00 +0000 Wed");
    expect_fires("UTC", "@yearly", "2025-01-01 00:00:00 +0000", "2026-01-01 00:00:00 +0000 Thu");
}

static void test_whitespace(void **state)
{
    (void)state;
    struct cron a = parse_ok("\t0  2\t* *   *  ");
    struct cron b = parse_ok("0 2 * * *");
    assert_memory_equal(&a, &b, sizeof(a));
}

/* ---- errors ------------------------------------------------------------ */

static void test_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "cron expression '': expected 5 fields (minute hour day-of-month month day-of-week), "
             "found 0"},
        {"   ", "cron expression '   ': expected 5 fields (minute hour day-of-month month "
                "day-of-week), found 0"},
        {"* * * *", "cron expression '* * * *': expected 5 fields (minute hour day-of-month month "
                    "day-of-week), found 4"},
        {"0 0 * * * /usr/bin/backup",
         "cron expression '0 0 * * * /usr/bin/backup': expected 5 fields (minute hour "
         "day-of-month month day-of-week), found 6"},
        {"61 * * * *", "minute field '61': value out of range 0-59"},
        {"60 * * * *", "minute field '60': value out of range 0-59"},
        {"1,61 * * * *", "minute field '1,61': value '61' out of range 0-59"},
        {"0-61 * * * *", "minute field '0-61': value '61' out of range 0-59"},
        {"99999999999999999999 * * * *",
         "minute field '99999999999999999999': value out of range 0-59"},
        {"* 24 * * *", "hour field '24': value out of range 0-23"},
        {"* * 0 * *", "day-of-month field '0': value out of range 1-31"},
        {"* * 32 * *", "day-of-month field '32': value out of range 1-31"},
        {"* * * 0 *", "month field '0': value out of range 1-12"},
        {"* * * 13 *", "month field '13': value out of range 1-12"},
        {"* * * * 8", "day-of-week field '8': value out of range 0-7"},
        {"5-1 * * * *", "minute field '5-1': range '5-1': start greater than end"},
        {"* * * * fri-mon", "day-of-week field 'fri-mon': range 'fri-mon': start greater than end"},
        {"*/0 * * * *", "minute field '*/0': step '0' out of range 1-59"},
        {"*/60 * * * *", "minute field '*/60': step '60' out of range 1-59"},
        {"* */24 * * *", "hour field '*/24': step '24' out of range 1-23"},
        {"*/ * * * *", "minute field '*/': missing step after '/' in '*/'"},
        {"1/x * * * *", "minute field '1/x': missing step after '/' in '1/x'"},
        {"1,,2 * * * *", "minute field '1,,2': empty list item"},
        {"1, * * * *", "minute field '1,': empty list item"},
        {",1 * * * *", "minute field ',1': empty list item"},
        {"1- * * * *", "minute field '1-': missing value in '1-'"},
        {"-1 * * * *", "minute field '-1': unexpected '-' in '-1'"},
        {"*-5 * * * *", "minute field '*-5': unexpected '-' in '*-5'"},
        {"** * * * *", "minute field '**': unexpected '*' in '**'"},
        {"1-2-3 * * * *", "minute field '1-2-3': unexpected '-' in '1-2-3'"},
        {"1/2/3 * * * *", "minute field '1/2/3': unexpected '/' in '1/2/3'"},
        {"? * * * *", "minute field '?': unexpected '?' in '?'"},
        {"a * * * *", "minute field 'a': 'a' is not a number"},
        {"jan * * * *", "minute field 'jan': 'jan' is not a number"},
        {"* * mon * *", "day-of-month field 'mon': 'mon' is not a number"},
        {"* * * foo *", "month field 'foo': 'foo' is not a number or a month name (jan-dec)"},
        {"* * * january *",
         "month field 'january': 'january' is not a number or a month name (jan-dec)"},
        {"* * * jan-foo *",
         "month field 'jan-foo': 'foo' is not a number or a month name (jan-dec)"},
        {"* * * * funday", "day-of-week field 'funday': 'funday' is not a number or a day name "
                           "(sun-sat)"},
        {"* * * * mon,jan", "day-of-week field 'mon,jan': 'jan' is not a number or a day name "
                            "(sun-sat)"},
        {"@reboot", "cron expression '@reboot': unknown macro '@reboot' (use @hourly, @daily, "
                    "@weekly, @monthly or @yearly)"},
        {"@fortnightly", "cron expression '@fortnightly': unknown macro '@fortnightly' (use "
                         "@hourly, @daily, @weekly, @monthly or @yearly)"},
        {"@daily 5", "cron expression '@daily 5': unexpected '5' after '@daily'"},
        {"0 0 30 2 *", "day-of-month field '30': never occurs in feb"},
        {"0 0 31 4,6,9,11 *", "day-of-month field '31': never occurs in apr,jun,sep,nov"},
        {"0 0 30,31 feb *", "day-of-month field '30,31': never occurs in feb"},
        /* '*' with a step in day-of-week means AND, so this is impossible too */
        {"0 0 31 2 */2", "day-of-month field '31': never occurs in feb"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cron c;
        struct err e;
        memset(&c, 0xa5, sizeof(c));
        err_clear(&e);
        int rc = cron_parse(cases[i][0], &c, &e);
        if (rc != -ERR_CONFIG || e.code != ERR_CONFIG)
            fail_msg("'%s': rc %d code %d, want -ERR_CONFIG (%s)", cases[i][0], rc, e.code, e.msg);
        if (strcmp(e.msg, cases[i][1]) != 0)
            fail_msg("'%s': message\n  '%s'\nwant\n  '%s'", cases[i][0], e.msg, cases[i][1]);
        /* a failed parse leaves nothing that could fire */
        struct cron zero;
        memset(&zero, 0, sizeof(zero));
        assert_memory_equal(&c, &zero, sizeof(c));
    }
    /* NULL expression, NULL err */
    struct cron c;
    struct err e;
    err_clear(&e);
    assert_int_equal(cron_parse(NULL, &c, &e), -ERR_CONFIG);
    assert_string_equal(e.msg, "cron expression missing");
    assert_int_equal(cron_parse("61 * * * *", &c, NULL), -ERR_CONFIG);
    /* a very long field is cut in the message */
    char long_expr[600];
    memset(long_expr, '1', 500);
    strcpy(long_expr + 500, " * * * *");
    err_clear(&e);
    assert_int_equal(cron_parse(long_expr, &c, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "minute field '111"));
    assert_non_null(strstr(e.msg, "too long"));
}

static void test_next_never(void **state)
{
    (void)state;
    set_tz("UTC");
    /* a struct cron_parse would refuse: 30 February */
    struct cron c;
    memset(&c, 0, sizeof(c));
    c.minutes = 1;
    c.hours = 1;
    c.mdays = UINT32_C(1) << 30;
    c.months = 1u << 2;
    c.wdays = 0x7f;
    c.mday_star = false;
    c.wday_star = true;
    int64_t next = 42;
    clock_t t0 = clock();
    assert_int_equal(cron_next(&c, at("2025-01-01 00:00:00 +0000"), &next), -ERR_NOT_FOUND);
    assert_int_equal(next, 42);
    /* nothing set at all */
    memset(&c, 0, sizeof(c));
    assert_int_equal(cron_next(&c, at("2025-01-01 00:00:00 +0000"), &next), -ERR_NOT_FOUND);
    assert_int_equal(next, 42);
    /* instants libc cannot convert: an error, not an overflow */
    c = parse_ok("* * * * *");
    assert_int_equal(cron_next(&c, INT64_MAX, &next), -ERR_INTERNAL);
    assert_int_equal(cron_next(&c, INT64_MIN, &next), -ERR_INTERNAL);
    assert_int_equal(next, 42);
    /* bounded: both searches together stay well under a second even with sanitizers */
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

/* ---- daylight saving --------------------------------------------------- */

static void test_new_york_spring_forward(void **state)
{
    (void)state;
    const char *ny = "America/New_York";
    /* 2025-03-09 02:00 EST -> 03:00 EDT: 02:30 fires once, at the end of the gap */
    expect_fires(ny, "30 2 * * *", "2025-03-08 00:00:00 -0500", "2025-03-08 02:30:00 -0500 Sat",
                 "2025-03-09 03:00:00 -0400 Sun", "2025-03-10 02:30:00 -0400 Mon");
    expect_fires(ny, "30 2 * * *", "2025-03-09 01:59:30 -0500", "2025-03-09 03:00:00 -0400 Sun");
    expect_fires(ny, "30 2 * * *", "2025-03-09 03:00:00 -0400", "2025-03-10 02:30:00 -0400 Mon");
    /* several fixed times in the gap and one at its end: still once */
    expect_fires(ny, "0,20,40 2,3 * * *", "2025-03-09 01:00:00 -0500",
                 "2025-03-09 03:00:00 -0400 Sun", "2025-03-09 03:20:00 -0400 Sun",
                 "2025-03-09 03:40:00 -0400 Sun", "2025-03-10 02:00:00 -0400 Mon");
    /* the default schedule over the change */
    expect_fires(ny, "0 2 * * *", "2025-03-08 12:00:00 -0500", "2025-03-09 03:00:00 -0400 Sun",
                 "2025-03-10 02:00:00 -0400 Mon");
    /* wildcard expressions follow the clock: the skipped hour simply does not happen */
    expect_fires(ny, "30 * * * *", "2025-03-09 00:45:00 -0500", "2025-03-09 01:30:00 -0500 Sun",
                 "2025-03-09 03:30:00 -0400 Sun");
    expect_fires(ny, "*/20 * * * *", "2025-03-09 01:30:00 -0500", "2025-03-09 01:40:00 -0500 Sun",
                 "2025-03-09 03:00:00 -0400 Sun", "2025-03-09 03:20:00 -0400 Sun");
    expect_fires(ny, "* 2 * * *", "2025-03-09 00:00:00 -0500", "2025-03-10 02:00:00 -0400 Mon",
                 "2025-03-10 02:01:00 -0400 Mon");
}

static void test_new_york_fall_back(void **state)
{
    (void)state;
    const char *ny = "America/New_York";
    /* 2025-11-02 02:00 EDT -> 01:00 EST: 01:30 happens twice and fires once */
    expect_fires(ny, "30 1 * * *", "2025-11-01 00:00:00 -0400", "2025-11-01 01:30:00 -0400 Sat",
                 "2025-11-02 01:30:00 -0400 Sun", "2025-11-03 01:30:00 -0500 Mon");
    /* asked during the repeated hour, after the first 01:30 (either pass) */
    expect_fires(ny, "30 1 * * *", "2025-11-02 01:45:00 -0400", "2025-11-03 01:30:00 -0500 Mon");
    expect_fires(ny, "30 1 * * *", "2025-11-02 01:10:00 -0500", "2025-11-03 01:30:00 -0500 Mon");
    /* asked during the first pass, before 01:30 */
    expect_fires(ny, "30 1 * * *", "2025-11-02 01:10:00 -0400", "2025-11-02 01:30:00 -0400 Sun",
                 "2025-11-03 01:30:00 -0500 Mon");
    expect_fires(ny, "0 1 * * *", "2025-11-02 00:59:59 -0400", "2025-11-02 01:00:00 -0400 Sun",
                 "2025-11-03 01:00:00 -0500 Mon");
    expect_fires(ny, "0 2 * * *", "2025-11-02 00:00:00 -0400", "2025-11-02 02:00:00 -0500 Sun",
                 "2025-11-03 02:00:00 -0500 Mon");
    /* wildcard expressions fire in both passes, an hour apart in real time */
    expect_fires(ny, "30 * * * *", "2025-11-02 00:00:00 -0400", "2025-11-02 00:30:00 -0400 Sun",
                 "2025-11-02 01:30:00 -0400 Sun", "2025-11-02 01:30:00 -0500 Sun",
                 "2025-11-02 02:30:00 -0500 Sun");
    expect_fires(ny, "*/30 1 * * *", "2025-11-02 00:00:00 -0400", "2025-11-02 01:00:00 -0400 Sun",
                 "2025-11-02 01:30:00 -0400 Sun", "2025-11-02 01:00:00 -0500 Sun",
                 "2025-11-02 01:30:00 -0500 Sun", "2025-11-03 01:00:00 -0500 Mon");
    expect_fires(ny, "*/15 * * * *", "2025-11-02 01:50:00 -0400", "2025-11-02 01:00:00 -0500 Sun",
                 "2025-11-02 01:15:00 -0500 Sun");
    expect_fires(ny, "0 * * * *", "2025-11-02 01:45:00 -0400", "2025-11-02 01:00:00 -0500 Sun",
                 "2025-11-02 02:00:00 -0500 Sun");
}

static void test_madrid(void **state)
{
    (void)state;
    const char *md = "Europe/Madrid";
    /* 2025-03-30 02:00 CET -> 03:00 CEST */
    expect_fires(md, "30 2 * * *", "2025-03-29 00:00:00 +0100", "2025-03-29 02:30:00 +0100 Sat",
                 "2025-03-30 03:00:00 +0200 Sun", "2025-03-31 02:30:00 +0200 Mon");
    /* 2025-10-26 03:00 CEST -> 02:00 CET */
    expect_fires(md, "30 2 * * *", "2025-10-25 00:00:00 +0200", "2025-10-25 02:30:00 +0200 Sat",
                 "2025-10-26 02:30:00 +0200 Sun", "2025-10-27 02:30:00 +0100 Mon");
    expect_fires(md, "0 * * * *", "2025-10-26 00:30:00 +0200", "2025-10-26 01:00:00 +0200 Sun",
                 "2025-10-26 02:00:00 +0200 Sun", "2025-10-26 02:00:00 +0100 Sun",
                 "2025-10-26 03:00:00 +0100 Sun");
    expect_fires(md, "@daily", "2025-10-25 12:00:00 +0200", "2025-10-26 00:00:00 +0200 Sun",
                 "2025-10-27 00:00:00 +0100 Mon");
}

static void test_odd_zones(void **state)
{
    (void)state;
    /* Lord Howe moves by half an hour: 2025-10-05 02:00 -> 02:30 */
    expect_fires("Australia/Lord_Howe", "15 2 * * *", "2025-10-04 12:00:00 +1030",
                 "2025-10-05 02:30:00 +1100 Sun", "2025-10-06 02:15:00 +1100 Mon");
    /* Samoa skipped 2011-12-30 entirely: its noon fires when the day is over */
    expect_fires("Pacific/Apia", "0 12 * * *", "2011-12-29 00:00:00 -1000",
                 "2011-12-29 12:00:00 -1000 Thu", "2011-12-31 00:00:00 +1400 Sat",
                 "2011-12-31 12:00:00 +1400 Sat");
    /* a POSIX TZ string works too */
    expect_fires("EST5EDT,M3.2.0,M11.1.0", "30 2 * * *", "2025-03-09 00:00:00 -0500",
                 "2025-03-09 03:00:00 -0400 Sun");
}

static void test_tz_is_read_each_call(void **state)
{
    (void)state;
    struct cron c = parse_ok("0 2 * * *");
    int64_t after = at("2025-05-31 22:00:00 +0000"); /* before 02:00 in all three */
    int64_t next = 0;
    setenv("TZ", "UTC", 1);
    assert_int_equal(cron_next(&c, after, &next), 0);
    assert_true(next == at("2025-06-01 02:00:00 +0000"));
    setenv("TZ", "Europe/Madrid", 1); /* no tzset here: cron_next must notice */
    assert_int_equal(cron_next(&c, after, &next), 0);
    assert_true(next == at("2025-06-01 02:00:00 +0200"));
    setenv("TZ", "America/New_York", 1);
    assert_int_equal(cron_next(&c, after, &next), 0);
    assert_true(next == at("2025-06-01 02:00:00 -0400"));
}

static void test_daily_for_a_year(void **state)
{
    (void)state;
    /* every day of 2025 fires exactly once, at 02:00 or (on the gap day) 03:00 */
    set_tz("America/New_York");
    struct cron c = parse_ok("0 2 * * *");
    int64_t t = at("2025-01-01 00:00:00 -0500");
    int count = 0;
    int last_yday = -1;
    for (;;) {
        int64_t next;
        assert_int_equal(cron_next(&c, t, &next), 0);
        time_t tt = (time_t)next;
        struct tm tm;
        localtime_r(&tt, &tm);
        if (tm.tm_year != 125)
            break;
        assert_int_equal(tm.tm_yday, last_yday + 1);
        assert_int_equal(tm.tm_min, 0);
        assert_int_equal(tm.tm_sec, 0);
        if (tm.tm_mon == 2 && tm.tm_mday == 9)
            assert_int_equal(tm.tm_hour, 3);
        else
            assert_int_equal(tm.tm_hour, 2);
        last_yday = tm.tm_yday;
        count++;
        t = next;
    }
    assert_int_equal(count, 365);
}

/* ---- against brute force ----------------------------------------------- */

/*
 * An independent reading of struct cron: does local time TM match?  Kept
 * deliberately naive (the day rule straight from crontab(5)).
 */
static int brute_match(const struct cron *c, const struct tm *tm)
{
    if (!(c->minutes >> tm->tm_min & 1) || !(c->hours >> tm->tm_hour & 1) ||
        !(c->months >> (tm->tm_mon + 1) & 1))
        return 0;
    int dom = c->mdays >> tm->tm_mday & 1;
    int dow = c->wdays >> tm->tm_wday & 1;
    return c->mday_star || c->wday_star ? dom && dow : dom || dow;
}

/*
 * For wildcard expressions the fire times are exactly the whole minutes at
 * which local time matches: walk every minute from FROM for DAYS days and
 * compare with cron_next, asked from each fire time and from a few instants
 * in between (odd seconds, mid-minute).  Returns how many fired.
 */
static int check_brute(const char *tz, const char *expr, const char *from, int days)
{
    set_tz(tz);
    struct cron c = parse_ok(expr);
    int64_t start = at(from);
    int64_t end = start + (int64_t)days * 86400;
    int64_t prev = start;
    int fires = 0;
    for (int64_t t = start + 60; t <= end; t += 60) {
        time_t tt = (time_t)t;
        struct tm tm;
        assert_non_null(localtime_r(&tt, &tm));
        if (!brute_match(&c, &tm))
            continue;
        /* asked from the previous fire time and from just before this one */
        int64_t probes[] = {prev, t - 1, prev + (t - prev) / 2};
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            int64_t next = 0;
            if (probes[i] >= t)
                continue;
            assert_int_equal(cron_next(&c, probes[i], &next), 0);
            if (next != t) {
                char want[64], got[64], ask[64];
                show(t, want, sizeof(want));
                show(next, got, sizeof(got));
                show(probes[i], ask, sizeof(ask));
                fail_msg("'%s' in %s after %s: got %s, want %s", expr, tz, ask, got, want);
            }
        }
        prev = t;
        fires++;
    }
    /* and nothing in between the last one and the end of the window */
    int64_t next = 0;
    assert_int_equal(cron_next(&c, prev, &next), 0);
    if (next <= end) {
        char got[64];
        show(next, got, sizeof(got));
        fail_msg("'%s' in %s: fires at %s, which matches nothing", expr, tz, got);
    }
    return fires;
}

static void test_brute_force(void **state)
{
    (void)state;
    static const char *const exprs[] = {
        "* * * * *",         "*/7 * * * *",          "0 * * * *",         "*/10 1-3 * * *",
        "* 2 * * *",         "*/15 */2 * * 0,6",     "*/30 * 1,15 * mon", "* */5 */3 * *",
        "*/20 * * 3,11 sun", "*/25 * 1,9,26,30 * *", "*/45 * 2,9 * *",
    };
    static const char *const windows[][2] = {
        {"UTC", "2025-02-27 00:00:00 +0000"},
        {"America/New_York", "2025-03-08 00:00:00 -0500"},
        {"America/New_York", "2025-11-01 00:00:00 -0400"},
        {"Europe/Madrid", "2025-03-29 00:00:00 +0100"},
        {"Europe/Madrid", "2025-10-25 00:00:00 +0200"},
    };
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        int fires = 0;
        for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++)
            fires += check_brute(windows[w][0], exprs[i], windows[w][1], 3);
        if (fires == 0)
            fail_msg("'%s' never fired in the windows: a useless case", exprs[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_minute_strictly_after),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_lists_and_ranges),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_parsed_sets),
        cmocka_unit_test(test_month_and_day_names),
        cmocka_unit_test(test_sunday_as_seven),
        cmocka_unit_test(test_day_of_month_or_day_of_week),
        cmocka_unit_test(test_month_ends),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_next_never),
        cmocka_unit_test(test_new_york_spring_forward),
        cmocka_unit_test(test_new_york_fall_back),
        cmocka_unit_test(test_madrid),
        cmocka_unit_test(test_odd_zones),
        cmocka_unit_test(test_tz_is_read_each_call),
        cmocka_unit_test(test_daily_for_a_year),
        cmocka_unit_test(test_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
