/*
 * Unit tests of common/tz: zone names, wall time <-> UTC across the
 * daylight-saving changes of 2025, the instant text, calendar arithmetic.
 * Expected instants were worked out by hand from the published rules
 * (Mexico dropped daylight saving in October 2022; New York changes at
 * 02:00 local on the second Sunday of March and the first of November;
 * the European Union at 01:00 UTC on the last Sundays of March and October).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/tz.h"

/* 2025-03-09 07:00:00 UTC: New York springs forward. */
#define NY_SPRING 1741503600LL
/* 2025-11-02 06:00:00 UTC: New York falls back. */
#define NY_FALL 1762063200LL

static int64_t to_utc(const char *zone, int y, int mon, int d, int h, int min)
{
    struct err e;
    int64_t t = INT64_MIN;
    err_clear(&e);
    assert_int_equal(tz_local_to_utc(zone, y, mon, d, h, min, &t, &e), 0);
    assert_int_equal(e.code, ERR_OK);
    return t;
}

static struct tz_local to_local(const char *zone, int64_t t)
{
    struct err e;
    struct tz_local l;
    memset(&l, 0xff, sizeof(l));
    err_clear(&e);
    assert_int_equal(tz_utc_to_local(zone, t, &l, &e), 0);
    return l;
}

static void assert_local(struct tz_local l, int y, int mon, int d, int h, int min, int s, int wday,
                         int offset)
{
    assert_int_equal(l.y, y);
    assert_int_equal(l.mon, mon);
    assert_int_equal(l.d, d);
    assert_int_equal(l.h, h);
    assert_int_equal(l.min, min);
    assert_int_equal(l.s, s);
    assert_int_equal(l.wday, wday);
    assert_int_equal(l.offset, offset);
}

static void test_valid_names(void **state)
{
    (void)state;
    assert_true(tz_valid("America/Mexico_City"));
    assert_true(tz_valid("America/New_York"));
    assert_true(tz_valid("Europe/Madrid"));
    assert_true(tz_valid("UTC"));
    assert_true(tz_valid("America/Argentina/Buenos_Aires"));
    assert_true(tz_valid("US/Eastern")); /* an alias kept by the database */
    assert_true(tz_valid("Etc/GMT+6"));
}

static void test_invalid_names(void **state)
{
    static const char *const bad[] = {
        "",
        "Nowhere/Foo",
        "america/mexico_city",
        "America/Mexico_City ",
        "America",
        "Mars/Olympus_Mons",
        "../zoneinfo/UTC",
        "/usr/share/zoneinfo/UTC",
        "America//New_York",
        "America/New_York/",
        "posix/America/New_York",
        "right/UTC",
        "Factory",
        "localtime",
        "zone.tab",
        "../../../etc/passwd",
        "America/Mexico_City\n",
        NULL,
    };
    (void)state;
    assert_false(tz_valid(NULL));
    for (int i = 0; bad[i] != NULL; i++) {
        struct err e;
        struct tz_local l;
        int64_t t = 42;
        err_clear(&e);
        if (tz_valid(bad[i]))
            fail_msg("'%s' accepted as a zone", bad[i]);
        assert_int_equal(tz_local_to_utc(bad[i], 2025, 1, 1, 12, 0, &t, &e), -ERR_CONFIG);
        assert_int_equal(e.code, ERR_CONFIG);
        assert_non_null(strstr(e.msg, "unknown time zone"));
        assert_int_equal(t, 42); /* untouched on failure */
        err_clear(&e);
        assert_int_equal(tz_utc_to_local(bad[i], 0, &l, &e), -ERR_CONFIG);
        assert_int_equal(e.code, ERR_CONFIG);
    }
}

static void test_mexico_city(void **state)
{
    (void)state;
    /* UTC-6 all year since the end of 2022. */
    assert_int_equal(to_utc("America/Mexico_City", 2025, 1, 15, 10, 0), 1736956800LL);
    assert_int_equal(to_utc("America/Mexico_City", 2025, 7, 15, 10, 0), 1752595200LL);
    assert_int_equal(to_utc("America/Mexico_City", 2026, 4, 5, 9, 0), 1775401200LL);
    assert_local(to_local("America/Mexico_City", 1752595200LL), 2025, 7, 15, 10, 0, 0, 2, -21600);
    /* Still daylight saving (UTC-5) in July 2022. */
    assert_int_equal(to_utc("America/Mexico_City", 2022, 7, 1, 10, 0), 1656687600LL);
    assert_local(to_local("America/Mexico_City", 1656687600LL), 2022, 7, 1, 10, 0, 0, 5, -18000);
    /* A local date that differs from the UTC date. */
    assert_local(to_local("America/Mexico_City", 1736899200LL + 3 * 3600), 2025, 1, 14, 21, 0, 0, 2,
                 -21600);
}

static void test_new_york_spring(void **state)
{
    struct tz_local l;
    int64_t t;
    (void)state;
    /* The last second of EST and the first of EDT. */
    assert_local(to_local("America/New_York", NY_SPRING - 1), 2025, 3, 9, 1, 59, 59, 0, -18000);
    assert_local(to_local("America/New_York", NY_SPRING), 2025, 3, 9, 3, 0, 0, 0, -14400);
    assert_int_equal(to_utc("America/New_York", 2025, 3, 9, 1, 59), NY_SPRING - 60);
    assert_int_equal(to_utc("America/New_York", 2025, 3, 9, 3, 0), NY_SPRING);
    /* 02:30 does not exist: the earlier reading, 06:30 UTC (01:30 EST). */
    t = to_utc("America/New_York", 2025, 3, 9, 2, 30);
    assert_int_equal(t, NY_SPRING - 1800);
    l = to_local("America/New_York", t);
    assert_int_equal(l.h, 1); /* how a caller sees that 02:30 was skipped */
    assert_int_equal(l.min, 30);
    /* Summer. */
    assert_int_equal(to_utc("America/New_York", 2025, 7, 4, 12, 0), 1751644800LL);
}

static void test_new_york_fall(void **state)
{
    (void)state;
    assert_local(to_local("America/New_York", NY_FALL - 1), 2025, 11, 2, 1, 59, 59, 0, -14400);
    assert_local(to_local("America/New_York", NY_FALL), 2025, 11, 2, 1, 0, 0, 0, -18000);
    /* 01:30 happens twice (EDT, then EST): the first, 05:30 UTC. */
    assert_int_equal(to_utc("America/New_York", 2025, 11, 2, 1, 30), NY_FALL - 1800);
    assert_int_equal(to_utc("America/New_York", 2025, 11, 2, 1, 0), NY_FALL - 3600);
    assert_int_equal(to_utc("America/New_York", 2025, 11, 2, 0, 59), NY_FALL - 3660);
    assert_int_equal(to_utc("America/New_York", 2025, 11, 2, 2, 0), NY_FALL + 3600);
    assert_local(to_local("America/New_York", NY_FALL + 1800), 2025, 11, 2, 1, 30, 0, 0, -18000);
}

static void test_madrid(void **state)
{
    (void)state;
    assert_int_equal(to_utc("Europe/Madrid", 2025, 1, 15, 12, 0), 1736938800LL);
    assert_int_equal(to_utc("Europe/Madrid", 2025, 7, 1, 12, 0), 1751364000LL);
    /* 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00 UTC. */
    assert_local(to_local("Europe/Madrid", 1743296400LL - 1), 2025, 3, 30, 1, 59, 59, 0, 3600);
    assert_local(to_local("Europe/Madrid", 1743296400LL), 2025, 3, 30, 3, 0, 0, 0, 7200);
    assert_int_equal(to_utc("Europe/Madrid", 2025, 3, 30, 2, 30), 1743296400LL - 1800);
    /* 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 twice. */
    assert_int_equal(to_utc("Europe/Madrid", 2025, 10, 26, 2, 30), 1761442200LL - 3600);
    assert_local(to_local("Europe/Madrid", 1761442200LL), 2025, 10, 26, 2, 30, 0, 0, 3600);
}

static void test_invalid_wall_times(void **state)
{
    static const int bad[][5] = {
        {2025, 2, 29, 10, 0}, {2025, 13, 1, 10, 0}, {2025, 0, 1, 10, 0},
        {2025, 4, 31, 10, 0}, {2025, 1, 1, 24, 0},  {2025, 1, 1, -1, 0},
        {2025, 1, 1, 10, 60}, {0, 1, 1, 10, 0},     {10000, 1, 1, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e;
        int64_t t = 7;
        err_clear(&e);
        assert_int_equal(tz_local_to_utc("Europe/Madrid", bad[i][0], bad[i][1], bad[i][2],
                                         bad[i][3], bad[i][4], &t, &e),
                         -ERR_USAGE);
        assert_int_equal(e.code, ERR_USAGE);
        assert_int_equal(t, 7);
    }
    assert_int_equal(to_utc("Europe/Madrid", 2024, 2, 29, 10, 0), 1709197200LL);
}

/*
 * Every quarter hour of 2025, as a wall time, to UTC and back: the same wall
 * time comes back except for the quarter hours a spring change skips.
 */
static int count_skipped(const char *zone)
{
    int skipped = 0;
    for (int64_t day = tz_days_from_civil(2025, 1, 1); day < tz_days_from_civil(2026, 1, 1);
         day++) {
        int y, mon, d;
        tz_civil_from_days(day, &y, &mon, &d);
        for (int q = 0; q < 96; q++) {
            int64_t t = to_utc(zone, y, mon, d, q / 4, q % 4 * 15);
            struct tz_local l = to_local(zone, t);
            if (l.y != y || l.mon != mon || l.d != d || l.h != q / 4 || l.min != q % 4 * 15) {
                skipped++;
                /* The earlier reading lies before the asked time. */
                assert_true(l.h * 60 + l.min < q / 4 * 60 + q % 4 * 15);
            }
        }
    }
    return skipped;
}

static void test_round_trip_wall_times(void **state)
{
    (void)state;
    assert_int_equal(count_skipped("America/Mexico_City"), 0);
    assert_int_equal(count_skipped("America/New_York"), 4); /* 02:00-02:45 on 03-09 */
    assert_int_equal(count_skipped("Europe/Madrid"), 4);    /* 02:00-02:45 on 03-30 */
    assert_int_equal(count_skipped("UTC"), 0);
}

/*
 * Instants to wall time and back: the same instant, or for the second
 * occurrence of a repeated wall time the first one, an hour earlier.
 */
static void test_round_trip_instants(void **state)
{
    static const char *const zones[] = {"America/Mexico_City", "America/New_York", "Europe/Madrid",
                                        "Asia/Kolkata",        "Australia/Sydney", NULL};
    (void)state;
    for (int z = 0; zones[z] != NULL; z++) {
        int repeated = 0;
        for (int64_t t = 1735689600LL; t < 1767225600LL; t += 15 * 60) {
            struct tz_local l = to_local(zones[z], t);
            int64_t back = to_utc(zones[z], l.y, l.mon, l.d, l.h, l.min);
            if (back != t) {
                assert_int_equal(back, t - 3600);
                repeated++;
            }
        }
        /* One hour of quarter hours is repeated each year where the clocks change. */
        if (strcmp(zones[z], "America/Mexico_City") == 0 || strcmp(zones[z], "Asia/Kolkata") == 0)
            assert_int_equal(repeated, 0);
        else
            assert_int_equal(repeated, 4);
    }
}

static void test_format_instant(void **state)
{
    char out[32];
    (void)state;
    assert_int_equal(tz_format_instant(0, out), 0);
    assert_string_equal(out, "1970-01-01 00:00:00+00");
    assert_int_equal(tz_format_instant(NY_SPRING, out), 0);
    assert_string_equal(out, "2025-03-09 07:00:00+00");
    assert_int_equal(tz_format_instant(-1, out), 0);
    assert_string_equal(out, "1969-12-31 23:59:59+00");
    assert_int_equal(tz_format_instant(951782400LL, out), 0); /* leap day of 2000 */
    assert_string_equal(out, "2000-02-29 00:00:00+00");
    assert_int_equal(strlen(out) + 1, TZ_INSTANT_LEN);
    assert_int_equal(tz_format_instant(253402300799LL, out), 0);
    assert_string_equal(out, "9999-12-31 23:59:59+00");
    assert_int_equal(tz_format_instant(253402300800LL, out), -1);
    assert_string_equal(out, "");
    assert_int_equal(tz_format_instant(-62135596801LL, out), -1);
}

static void test_parse_instant(void **state)
{
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
        {"2025-03-09 07:00:00+00", NY_SPRING},    {"2025-03-09T07:00:00Z", NY_SPRING},
        {"2025-03-09T03:00:00-04:00", NY_SPRING}, {"2025-03-09 01:00:00-06", NY_SPRING},
        {"2025-03-09 12:30:00+0530", NY_SPRING},  {"1970-01-01 00:00:00+00", 0},
        {"1969-12-31 23:59:59+00", -1},           {"2024-02-29 00:00:00+00", 1709164800LL},
    };
    static const char *const bad[] = {
        "",
        "2025-03-09 07:00:00",
        "2025-03-09 07:00+00",
        "2025-02-29 00:00:00+00",
        "2025-03-09 24:00:00+00",
        "2025-03-09 07:60:00+00",
        "2025-03-09 07:00:60+00",
        "2025-13-01 07:00:00+00",
        "2025-3-9 07:00:00+00",
        "2025-03-09 07:00:00+00 ",
        "2025-03-09 07:00:00+05:",
        "2025-03-09 07:00:00+5",
        "2025-03-09 07:00:00+24",
        "2025-03-09X07:00:00+00",
        "2025-03-09 07:00:00.5+00",
        "x025-03-09 07:00:00+00",
        NULL,
    };
    int64_t t;
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        t = 12345;
        if (tz_parse_instant(good[i].s, &t) != 0)
            fail_msg("'%s' refused", good[i].s);
        assert_int_equal(t, good[i].t);
    }
    for (int i = 0; bad[i] != NULL; i++) {
        t = 12345;
        if (tz_parse_instant(bad[i], &t) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(t, 12345);
    }
    assert_int_equal(tz_parse_instant(NULL, &t), -1);
    /* Format then parse gives the instant back. */
    for (int64_t x = -2208988800LL; x < 4102444800LL; x += 86400LL * 37 + 3601) {
        char out[32];
        assert_int_equal(tz_format_instant(x, out), 0);
        assert_int_equal(tz_parse_instant(out, &t), 0);
        assert_int_equal(t, x);
    }
}

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(tz_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(tz_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(tz_weekday(2025, 3, 9), 0);  /* Sunday */
    assert_int_equal(tz_weekday(2025, 3, 10), 1); /* Monday */
    assert_int_equal(tz_weekday(1970, 1, 1), 4);  /* Thursday */
    assert_int_equal(tz_weekday(1969, 12, 27), 6);
    assert_true(tz_date_valid(2000, 2, 29));
    assert_false(tz_date_valid(1900, 2, 29));
    assert_false(tz_date_valid(2025, 2, 29));
    assert_true(tz_date_valid(2025, 12, 31));
    assert_false(tz_date_valid(2025, 11, 31));
    for (int64_t day = -719162; day < 2932897; day += 97) {
        int y, mon, d;
        tz_civil_from_days(day, &y, &mon, &d);
        assert_true(tz_date_valid(y, mon, d));
        assert_int_equal(tz_days_from_civil(y, mon, d), day);
        assert_int_equal(tz_weekday(y, mon, d), ((day % 7) + 7 + 4) % 7);
    }
}

/* "HH:MM", one meaning everywhere: 00:00-23:59, two digits each, nothing else. */
static void test_parse_hhmm(void **state)
{
    (void)state;
    assert_int_equal(tz_parse_hhmm("00:00"), 0);
    assert_int_equal(tz_parse_hhmm("09:30"), 570);
    assert_int_equal(tz_parse_hhmm("23:59"), 1439);
    assert_int_equal(tz_parse_hhmm("24:00"), -1);
    assert_int_equal(tz_parse_hhmm("9:30"), -1);
    assert_int_equal(tz_parse_hhmm("09:60"), -1);
    assert_int_equal(tz_parse_hhmm("09:30 "), -1);
    assert_int_equal(tz_parse_hhmm("09:30:00"), -1);
    assert_int_equal(tz_parse_hhmm("0a:30"), -1);
    assert_int_equal(tz_parse_hhmm(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_names),         cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_mexico_city),         cmocka_unit_test(test_new_york_spring),
        cmocka_unit_test(test_new_york_fall),       cmocka_unit_test(test_madrid),
        cmocka_unit_test(test_invalid_wall_times),  cmocka_unit_test(test_round_trip_wall_times),
        cmocka_unit_test(test_round_trip_instants), cmocka_unit_test(test_format_instant),
        cmocka_unit_test(test_parse_instant),       cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_parse_hhmm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
