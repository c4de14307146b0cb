/* slots — see slots.h. */
#include "domain/slots.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/tz.h"
#include "common/util.h"

#define DAY_S 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

/*
 * The instant at which the wall clock of zone iana shows minute `minute`
 * of date `day`.  tz_local_to_utc() reads a skipped wall time with the
 * offset after the change, which lands before the jump (02:30 in New York
 * on 2025-03-09 comes out as 01:30 EST); here such a time means the jump
 * itself, the first instant whose wall time is not earlier than the one
 * asked for, so that a shift never starts before its own wall-clock start.
 * The jump lies within the gap after that reading: a binary search on the
 * offset finds it to the second.
 */
static int wall_instant(const char *iana, int64_t day, int minute, int64_t *out, struct err *e)
{
    struct tz_local l, m;
    int64_t t = 0, lo, hi, got_wall, want_wall;
    int y, mon, d, rc;

    tz_civil_from_days(day, &y, &mon, &d);
    rc = tz_local_to_utc(iana, y, mon, d, minute / 60, minute % 60, &t, e);
    if (rc < 0)
        goto cleanup;
    rc = tz_utc_to_local(iana, t, &l, e);
    if (rc < 0)
        goto cleanup;
    want_wall = day * DAY_S + (int64_t)minute * 60;
    got_wall = tz_days_from_civil(l.y, l.mon, l.d) * DAY_S + l.h * 3600 + l.min * 60 + l.s;
    if (got_wall < want_wall) {
        /* Skipped: the offset changes somewhere in (t, t + gap]. */
        lo = t;
        hi = t + (want_wall - got_wall);
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            rc = tz_utc_to_local(iana, mid, &m, e);
            if (rc < 0)
                goto cleanup;
            if (m.offset == l.offset)
                lo = mid;
            else
                hi = mid;
        }
        t = hi;
    }
    *out = t;

cleanup:
    return rc;
}

static int span_cmp(const void *a, const void *b)
{
    const struct slot_span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Sort spans and merge the overlapping or touching ones, in place; the new count. */
static size_t spans_merge(struct slot_span *v, size_t n)
{
    size_t k = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), span_cmp);
    for (size_t i = 1; i < n; i++) {
        if (v[i].start <= v[k].end) {
            if (v[i].end > v[k].end)
                v[k].end = v[i].end;
        } else {
            v[++k] = v[i];
        }
    }
    return k + 1;
}

int slots_working_spans(const char *iana, int64_t first_day, int64_t last_day,
                        const struct slot_hours *hours, size_t nhours, struct slot_span **out,
                        size_t *nout, struct err *e)
{
    struct slot_span *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    if (first_day > last_day) {
        rc = err_set(e, ERR_USAGE, "date range ends before it starts");
        goto cleanup;
    }
    for (size_t i = 0; i < nhours; i++) {
        const struct slot_hours *h = &hours[i];
        if (h->wday < 0 || h->wday > 6 || h->start_min < 0 || h->end_min > 1439 ||
            h->start_min >= h->end_min) {
            rc = err_set(e, ERR_USAGE, "invalid working hours row for weekday '%d'", h->wday);
            goto cleanup;
        }
    }
    for (int64_t day = first_day; day <= last_day; day++) {
        /* 1970-01-01 was a Thursday. */
        int wday = (int)(((day % 7) + 11) % 7);
        for (size_t i = 0; i < nhours; i++) {
            struct slot_span s;
            if (hours[i].wday != wday)
                continue;
            rc = wall_instant(iana, day, hours[i].start_min, &s.start, e);
            if (rc < 0)
                goto cleanup;
            rc = wall_instant(iana, day, hours[i].end_min, &s.end, e);
            if (rc < 0)
                goto cleanup;
            if (s.end <= s.start) /* wholly inside a skipped hour */
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                v = xrealloc(v, cap * sizeof(*v));
            }
            v[n++] = s;
        }
    }
    n = spans_merge(v, n);
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *nout = n;
    v = NULL;

cleanup:
    free(v);
    return rc;
}

/* The smallest t = anchor + k * step (k >= 0) with t >= x. */
static int64_t grid_ceil(int64_t anchor, int64_t step, int64_t x)
{
    if (x <= anchor)
        return anchor;
    return anchor + floor_div(x - anchor + step - 1, step) * step;
}

size_t slots_free_starts(const struct slot_span *work, size_t nwork, const struct slot_span *busy,
                         size_t nbusy, int64_t duration_s, int64_t step_s, int64_t not_before,
                         int64_t **out)
{
    struct slot_span *b = NULL;
    int64_t *v = NULL;
    size_t nb = 0, n = 0, cap = 0, j = 0;

    *out = NULL;
    if (duration_s <= 0 || step_s <= 0)
        return 0;
    if (nbusy > 0) {
        b = xmalloc(nbusy * sizeof(*b));
        for (size_t i = 0; i < nbusy; i++)
            if (busy[i].end > busy[i].start)
                b[nb++] = busy[i];
        nb = spans_merge(b, nb);
    }
    for (size_t w = 0; w < nwork; w++) {
        int64_t anchor = work[w].start;
        int64_t t = grid_ceil(anchor, step_s, not_before);

        while (t + duration_s <= work[w].end) {
            /* b is sorted and disjoint: skip what ended before t. */
            while (j < nb && b[j].end <= t)
                j++;
            if (j < nb && b[j].start < t + duration_s) {
                /* Blocked: the next candidate is the first on the grid after this busy one. */
                t = grid_ceil(anchor, step_s, b[j].end);
                continue;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 128;
                v = xrealloc(v, cap * sizeof(*v));
            }
            if (n == 0 || v[n - 1] < t)
                v[n++] = t;
            t += step_s;
        }
    }
    free(b);
    *out = v;
    return n;
}

int slots_span_fits(const struct slot_span *work, size_t nwork, int64_t start, int64_t end)
{
    for (size_t i = 0; i < nwork; i++)
        if (work[i].start <= start && end <= work[i].end)
            return 1;
    return 0;
}

int slots_format_rfc3339(int64_t t, int offset_s, char out[32])
{
    int64_t local = t + offset_s, days, secs;
    int y, mon, d, off = offset_s < 0 ? -offset_s : offset_s;

    days = floor_div(local, DAY_S);
    secs = local - days * DAY_S;
    tz_civil_from_days(days, &y, &mon, &d);
    if (y < 1 || y > 9999) {
        out[0] = '\0';
        return -1;
    }
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mon, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), offset_s < 0 ? '-' : '+', off / 3600,
             off / 60 % 60);
    return 0;
}
