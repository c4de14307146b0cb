/*
 * slots — the availability computation of SPEC §8: which start times are
 * free for a service of a given length, from weekly working hours and the
 * professional's busy intervals.  No database, no clock, no I/O besides the
 * tz rules read through common/tz.h: every input is an argument, so every
 * rule is unit-tested (test/unit/domain/slots_test.c).
 *
 * Two steps:
 *   1. slots_working_spans(): weekly wall-clock hours ("09:00"-"18:00" on
 *      weekday 1) of a range of dates in a zone become UTC intervals, one
 *      per row and date.  On a daylight-saving day the span is as long as
 *      the clock says (23- and 25-hour days come out right): the ends are
 *      the real instants at which the wall clock shows those times.
 *   2. slots_free_starts(): within each span, the start times on a grid of
 *      step seconds anchored at the span's start, where the whole service
 *      fits in the span, overlaps no busy interval, and is not before
 *      not_before (now).
 *
 * Invariants: intervals are half-open [start, end) in seconds since the
 * epoch (UTC), so back-to-back appointments touch without overlapping;
 * output is sorted and has no duplicates.
 */
#ifndef CITAPLANNER_DOMAIN_SLOTS_H
#define CITAPLANNER_DOMAIN_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Grid of the start times offered (SPEC §8: 15 minutes). */
#define SLOTS_STEP_S (15 * 60)

/* A half-open interval of instants [start, end), UTC seconds since the epoch. */
struct slot_span {
    int64_t start;
    int64_t end;
};

/* One weekly working-hours row: 0 = Sunday, minutes after local midnight. */
struct slot_hours {
    int wday;
    int start_min; /* 0 .. 1439 */
    int end_min;   /* start_min < end_min <= 1439 (end_time is "HH:MM", at most "23:59") */
};

/*
 * The working intervals of every date from first_day to last_day (days
 * since 1970-01-01, inclusive) in zone iana, from the weekly rows hours.
 * Wall times are turned into instants with tz_local_to_utc(); a wall time
 * repeated by a fall-back change means its first occurrence, and one that a
 * spring-forward change skips means the moment the clock jumps over it (so
 * 01:00-04:00 on 2025-03-09 in New York lasts two hours).  Overlapping or
 * touching spans are merged.  *out is sorted by start; caller frees it with
 * free() (NULL when *nout is 0).
 * Errors: ERR_CONFIG (unknown zone), ERR_USAGE (a row out of range, or
 * first_day > last_day).
 */
int slots_working_spans(const char *iana, int64_t first_day, int64_t last_day,
                        const struct slot_hours *hours, size_t nhours, struct slot_span **out,
                        size_t *nout, struct err *e);

/*
 * The free start times: t = span.start + k * step_s for each span of work
 * (sorted by start, not overlapping: as slots_working_spans gives them),
 * such that [t, t + duration_s) lies inside the span, overlaps no interval
 * of busy (any order, may overlap each other), and t >= not_before.
 * *out is sorted; caller frees it with free() (NULL when none).  Returns
 * the number of start times.  duration_s and step_s must be positive (0 is
 * returned otherwise).
 */
size_t slots_free_starts(const struct slot_span *work, size_t nwork, const struct slot_span *busy,
                         size_t nbusy, int64_t duration_s, int64_t step_s, int64_t not_before,
                         int64_t **out);

/*
 * Does [start, end) lie inside one span of work (sorted, merged)?  The
 * working-hours check of a booking.
 */
int slots_span_fits(const struct slot_span *work, size_t nwork, int64_t start, int64_t end);

/*
 * Write instant t, shown at UTC offset offset_s (seconds east), as RFC 3339
 * "2025-03-09T01:45:00-05:00" (UTC itself as "+00:00").  out holds at
 * least 32 bytes.  Returns 0, or -1 (out = "") for a year outside 1-9999.
 */
int slots_format_rfc3339(int64_t t, int offset_s, char out[32]);

#endif
