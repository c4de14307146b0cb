/*
 * Unit tests of domain/slots: weekly hours -> UTC spans across the
 * daylight-saving changes of 2025 (New York: 02:00 local on 9 March and
 * 2 November; Madrid: 01:00 UTC on 30 March and 26 October), and the free
 * start times around busy intervals, at the ends of working hours, in the
 * past, and across midnight.  Expected instants were worked out from the
 * published rules, not from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/tz.h"
#include "domain/slots.h"

#define H    3600
#define MIN  60
#define DAYS 86400

/* An arbitrary Wednesday, 2025-01-15 00:00 UTC, for the zone-free tests. */
#define WED 1736899200LL

static int64_t day_of(int y, int mon, int d)
{
    return tz_days_from_civil(y, mon, d);
}

static void spans(const char *zone, int64_t first, int64_t last, const struct slot_hours *h,
                  size_t nh, struct slot_span **out, size_t *n)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(slots_working_spans(zone, first, last, h, nh, out, n, &e), 0);
}

/* The free starts, as offsets from base in minutes, for easy reading. */
static size_t starts_min(const struct slot_span *w, size_t nw, const struct slot_span *b, size_t nb,
                         int64_t dur, int64_t now, int64_t base, int64_t *mins, size_t max)
{
    int64_t *v = NULL;
    size_t n = slots_free_starts(w, nw, b, nb, dur, SLOTS_STEP_S, now, &v);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        mins[i] = (v[i] - base) / MIN;
    free(v);
    return n;
}

static void assert_mins(const int64_t *got, size_t n, const int64_t *want, size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

static void test_whole_grid_without_busy(void **state)
{
    struct slot_span w = {WED + 9 * H, WED + 12 * H};
    int64_t got[32];
    static const int64_t want[] = {540, 555, 570, 585, 600, 615, 630, 645, 660};
    (void)state;
    size_t n = starts_min(&w, 1, NULL, 0, 60 * MIN, 0, WED, got, 32);
    assert_mins(got, n, want, 9);
}

static void test_hours_end_before_service_fits(void **state)
{
    struct slot_span short_span = {WED + 9 * H, WED + 9 * H + 45 * MIN};
    struct slot_span odd_end = {WED + 9 * H, WED + 10 * H + 10 * MIN};
    int64_t got[8];
    static const int64_t want[] = {540};
    (void)state;
    assert_int_equal(starts_min(&short_span, 1, NULL, 0, 60 * MIN, 0, WED, got, 8), 0);
    /* 09:15 + 60 min = 10:15, past the 10:10 close: only 09:00. */
    assert_mins(got, starts_min(&odd_end, 1, NULL, 0, 60 * MIN, 0, WED, got, 8), want, 1);
}

static void test_back_to_back_appointments(void **state)
{
    struct slot_span w = {WED + 9 * H, WED + 13 * H};
    /* Given out of order on purpose. */
    struct slot_span b[] = {{WED + 11 * H, WED + 12 * H}, {WED + 10 * H, WED + 11 * H}};
    int64_t got[32];
    static const int64_t want60[] = {540, 720};
    static const int64_t want30[] = {540, 555, 570, 720, 735, 750};
    (void)state;
    /* Ends touch starts: 09:00-10:00 and 12:00-13:00 are free, nothing in between. */
    assert_mins(got, starts_min(&w, 1, b, 2, 60 * MIN, 0, WED, got, 32), want60, 2);
    assert_mins(got, starts_min(&w, 1, b, 2, 30 * MIN, 0, WED, got, 32), want30, 6);
}

static void test_busy_off_grid(void **state)
{
    struct slot_span w = {WED + 9 * H, WED + 12 * H};
    struct slot_span b = {WED + 10 * H + 10 * MIN, WED + 10 * H + 40 * MIN};
    int64_t got[32];
    /* 09:45 would run into 10:10; after 10:40 the grid resumes at 10:45. */
    static const int64_t want[] = {540, 555, 570, 645, 660, 675, 690};
    (void)state;
    assert_mins(got, starts_min(&w, 1, &b, 1, 30 * MIN, 0, WED, got, 32), want, 7);
}

static void test_not_in_the_past(void **state)
{
    struct slot_span w = {WED + 9 * H, WED + 11 * H};
    int64_t got[16];
    static const int64_t want[] = {570, 585, 600};
    static const int64_t want_on_grid[] = {585, 600};
    (void)state;
    /* now = 09:20: the next start on the grid is 09:30. */
    assert_mins(got, starts_min(&w, 1, NULL, 0, 60 * MIN, WED + 9 * H + 20 * MIN, WED, got, 16),
                want, 3);
    /* now exactly on a grid point is still offered. */
    assert_mins(got, starts_min(&w, 1, NULL, 0, 60 * MIN, WED + 9 * H + 45 * MIN, WED, got, 16),
                want_on_grid, 2);
    assert_int_equal(starts_min(&w, 1, NULL, 0, 60 * MIN, WED + 2 * DAYS, WED, got, 16), 0);
}

static void test_midnight(void **state)
{
    /* Wednesday 22:00-23:59 and Thursday 00:00-02:00; an appointment 23:30-00:30 spans midnight. */
    struct slot_span w[] = {{WED + 22 * H, WED + 23 * H + 59 * MIN},
                            {WED + DAYS, WED + DAYS + 2 * H}};
    struct slot_span b = {WED + 23 * H + 30 * MIN, WED + DAYS + 30 * MIN};
    int64_t got[32];
    static const int64_t want[] = {1320, 1335, 1350, 1365, 1380, 1470, 1485, 1500, 1515, 1530};
    (void)state;
    assert_mins(got, starts_min(w, 2, &b, 1, 30 * MIN, 0, WED, got, 32), want, 10);
}

static void test_spans_midnight_and_merge(void **state)
{
    /* Two rows that touch (09-13, 13-18) and one inside (10-11) make one span. */
    static const struct slot_hours h[] = {
        {3, 540, 780}, {3, 780, 1080}, {3, 600, 660}, {4, 0, 1439}};
    struct slot_span *v = NULL;
    size_t n = 0;
    (void)state;
    spans("UTC", day_of(2025, 1, 15), day_of(2025, 1, 16), h, 4, &v, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].start, WED + 9 * H);
    assert_int_equal(v[0].end, WED + 18 * H);
    assert_int_equal(v[1].start, WED + DAYS);
    assert_int_equal(v[1].end, WED + DAYS + 23 * H + 59 * MIN);
    free(v);
}

static void test_spans_weekdays_across_dst(void **state)
{
    /* Mon-Fri 09-18, Sat 10-16 in New York, Saturday 8 to Monday 10 March 2025. */
    static const struct slot_hours h[] = {{1, 540, 1080}, {2, 540, 1080}, {3, 540, 1080},
                                          {4, 540, 1080}, {5, 540, 1080}, {6, 600, 960}};
    struct slot_span *v = NULL;
    size_t n = 0;
    (void)state;
    spans("America/New_York", day_of(2025, 3, 8), day_of(2025, 3, 10), h, 6, &v, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].start, 1741446000LL);       /* Sat 10:00 EST = 15:00Z */
    assert_int_equal(v[0].end, 1741446000LL + 6 * H); /* 16:00 EST */
    assert_int_equal(v[1].start, 1741611600LL);       /* Mon 09:00 EDT = 13:00Z */
    assert_int_equal(v[1].end, 1741611600LL + 9 * H); /* 18:00 EDT */
    free(v);
    /* A range that ends before it starts is refused. */
    struct err e;
    err_clear(&e);
    assert_true(slots_working_spans("America/New_York", 5, 4, h, 6, &v, &n, &e) < 0);
    assert_int_equal(e.code, ERR_USAGE);
    assert_true(slots_working_spans("Mars/Olympus", 5, 5, h, 6, &v, &n, &e) < 0);
    assert_int_equal(e.code, ERR_CONFIG);
}

static void test_new_york_spring_forward(void **state)
{
    /* Sunday 2025-03-09, 01:00-04:00 on the wall: the clock skips 02:00-03:00. */
    static const struct slot_hours h[] = {{0, 60, 240}};
    static const struct slot_hours gap_start[] = {{0, 150, 300}};
    static const char *const want[] = {"2025-03-09T01:00:00-05:00", "2025-03-09T01:15:00-05:00",
                                       "2025-03-09T01:30:00-05:00", "2025-03-09T01:45:00-05:00",
                                       "2025-03-09T03:00:00-04:00"};
    struct slot_span *v = NULL;
    int64_t *s = NULL;
    size_t n = 0, ns;
    char buf[32];
    struct err e;
    (void)state;
    spans("America/New_York", day_of(2025, 3, 9), day_of(2025, 3, 9), h, 1, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].start, 1741500000LL); /* 01:00 EST = 06:00Z */
    assert_int_equal(v[0].end, 1741507200LL);   /* 04:00 EDT = 08:00Z: two real hours */
    ns = slots_free_starts(v, n, NULL, 0, 60 * MIN, SLOTS_STEP_S, 0, &s);
    assert_int_equal(ns, 5);
    for (size_t i = 0; i < ns; i++) {
        struct tz_local l;
        err_clear(&e);
        assert_int_equal(tz_utc_to_local("America/New_York", s[i], &l, &e), 0);
        assert_int_equal(slots_format_rfc3339(s[i], l.offset, buf), 0);
        assert_string_equal(buf, want[i]);
    }
    free(s);
    free(v);

    /* A shift that starts at 02:30, which does not exist, starts when the clock jumps. */
    spans("America/New_York", day_of(2025, 3, 9), day_of(2025, 3, 9), gap_start, 1, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].start, 1741503600LL); /* 03:00 EDT = 07:00Z */
    assert_int_equal(v[0].end, 1741510800LL);   /* 05:00 EDT = 09:00Z */
    free(v);
}

static void test_new_york_fall_back(void **state)
{
    /* Sunday 2025-11-02, 00:00-03:00 on the wall: 01:00-02:00 happens twice. */
    static const struct slot_hours h[] = {{0, 0, 180}};
    struct slot_span *v = NULL;
    int64_t *s = NULL;
    size_t n = 0, ns;
    char buf[32];
    struct tz_local l;
    struct err e;
    (void)state;
    spans("America/New_York", day_of(2025, 11, 2), day_of(2025, 11, 2), h, 1, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].start, 1762056000LL); /* 00:00 EDT = 04:00Z */
    assert_int_equal(v[0].end, 1762070400LL);   /* 03:00 EST = 08:00Z: four real hours */
    ns = slots_free_starts(v, n, NULL, 0, 60 * MIN, SLOTS_STEP_S, 0, &s);
    assert_int_equal(ns, 13); /* 04:00Z .. 07:00Z */
    err_clear(&e);
    /* The 6th and 10th starts both read 01:15 on the wall, an hour apart. */
    assert_int_equal(tz_utc_to_local("America/New_York", s[5], &l, &e), 0);
    slots_format_rfc3339(s[5], l.offset, buf);
    assert_string_equal(buf, "2025-11-02T01:15:00-04:00");
    assert_int_equal(tz_utc_to_local("America/New_York", s[9], &l, &e), 0);
    slots_format_rfc3339(s[9], l.offset, buf);
    assert_string_equal(buf, "2025-11-02T01:15:00-05:00");
    free(s);
    free(v);
}

static void test_madrid_23_and_25_hour_days(void **state)
{
    /* Every Sunday 00:00-23:59. */
    static const struct slot_hours h[] = {{0, 0, 1439}};
    struct slot_span *v = NULL;
    int64_t *s = NULL;
    size_t n = 0;
    (void)state;

    spans("Europe/Madrid", day_of(2025, 3, 30), day_of(2025, 3, 30), h, 1, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].start, 1743289200LL); /* 00:00 CET = Sat 23:00Z */
    assert_int_equal(v[0].end, 1743371940LL);   /* 23:59 CEST = 21:59Z */
    /* 22 h 59 min of work: 60-minute starts k * 15 min for k = 0 .. 87. */
    assert_int_equal(slots_free_starts(v, n, NULL, 0, 60 * MIN, SLOTS_STEP_S, 0, &s), 88);
    free(s);
    free(v);

    spans("Europe/Madrid", day_of(2025, 10, 26), day_of(2025, 10, 26), h, 1, &v, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].start, 1761429600LL); /* 00:00 CEST = Sat 22:00Z */
    assert_int_equal(v[0].end, 1761519540LL);   /* 23:59 CET = 22:59Z */
    assert_int_equal(slots_free_starts(v, n, NULL, 0, 60 * MIN, SLOTS_STEP_S, 0, &s), 96);
    free(s);
    free(v);

    /* An ordinary Sunday has 92. */
    spans("Europe/Madrid", day_of(2025, 4, 6), day_of(2025, 4, 6), h, 1, &v, &n);
    assert_int_equal(slots_free_starts(v, n, NULL, 0, 60 * MIN, SLOTS_STEP_S, 0, &s), 92);
    free(s);
    free(v);
}

static void test_span_fits(void **state)
{
    struct slot_span w[] = {{100, 200}, {300, 400}};
    (void)state;
    assert_true(slots_span_fits(w, 2, 100, 200));
    assert_true(slots_span_fits(w, 2, 310, 390));
    assert_false(slots_span_fits(w, 2, 150, 310)); /* across the gap */
    assert_false(slots_span_fits(w, 2, 90, 150));
    assert_false(slots_span_fits(w, 2, 350, 401));
}

static void test_format(void **state)
{
    char buf[32];
    (void)state;
    assert_int_equal(slots_format_rfc3339(WED, 0, buf), 0);
    assert_string_equal(buf, "2025-01-15T00:00:00+00:00");
    assert_int_equal(slots_format_rfc3339(WED, 5 * H + 30 * MIN, buf), 0);
    assert_string_equal(buf, "2025-01-15T05:30:00+05:30");
    assert_int_equal(slots_format_rfc3339(WED, -6 * H, buf), 0);
    assert_string_equal(buf, "2025-01-14T18:00:00-06:00");
    assert_int_equal(slots_format_rfc3339(-62135596800LL - DAYS, 0, buf), -1);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_grid_without_busy),
        cmocka_unit_test(test_hours_end_before_service_fits),
        cmocka_unit_test(test_back_to_back_appointments),
        cmocka_unit_test(test_busy_off_grid),
        cmocka_unit_test(test_not_in_the_past),
        cmocka_unit_test(test_midnight),
        cmocka_unit_test(test_spans_midnight_and_merge),
        cmocka_unit_test(test_spans_weekdays_across_dst),
        cmocka_unit_test(test_new_york_spring_forward),
        cmocka_unit_test(test_new_york_fall_back),
        cmocka_unit_test(test_madrid_23_and_25_hour_days),
        cmocka_unit_test(test_span_fits),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
