/*
 * cron — 5-field cron expressions and their next fire time in local time
 * (BACKUP_SCHEDULE, SPEC §3 and §6 "Scheduling").  Pure computation: no I/O,
 * nothing printed, no allocation.  The word "off" is the config's business.
 *
 * Syntax (Vixie cron / cronie):
 *
 *     minute hour day-of-month month day-of-week
 *     0-59   0-23 1-31         1-12  0-7 (0 and 7 are Sunday)
 *
 * Each field is a comma-separated list of items; an item is '*', a value
 * N, or a range N-M, optionally followed by a step /S ('*' then /15 is every
 * 15 minutes, 0-30/10 is 0,10,20,30; 5/15 means 5-max/15).  Months accept
 * jan..dec and days sun..sat, in any case.  Fields are separated by spaces
 * or tabs.  The macros @hourly, @daily (or @midnight), @weekly, @monthly and
 * @yearly (or @annually) stand for "0 * * * *", "0 0 * * *", "0 0 * * 0",
 * "0 0 1 * *" and "0 0 1 1 *".
 *
 * Days: when both day-of-month and day-of-week are restricted, a day matches
 * if EITHER matches ("0 0 13 * fri": every 13th and every Friday); when one
 * of them is unrestricted, both must match ("0 0 * * mon": Mondays only).
 * As in Vixie cron and cronie, a field counts as unrestricted when it begins
 * with '*': day-of-month '*' with step /10 and day-of-week "mon" means the
 * days 1, 11, 21 and 31 that are Mondays.  cron_parse rejects an expression
 * that can never fire ("0 0 30 2 *"), naming why.
 *
 * Time is the process's local time (the TZ variable, through libc).
 * Daylight-saving changes follow cronie, which splits expressions in two:
 *
 *   - "wildcard" expressions, whose minute or hour field begins with '*'
 *     ("0 * * * *", "* 3 * * *", every 15 minutes), follow the clock as it
 *     is: minutes skipped by a spring-forward change do not fire, and
 *     minutes repeated by a fall-back change fire on each occurrence (an
 *     hourly job keeps running every real hour);
 *   - "fixed-time" expressions (all others: "30 2 * * *", "0 1-3 * * *")
 *     fire once per matching local date and time: a time skipped by a
 *     spring-forward gap fires once, at the instant the gap ends ("30 2" on
 *     2025-03-09 in America/New_York fires at 03:00 EDT), and a time
 *     repeated by a fall-back change fires on its first occurrence only
 *     ("30 1" on 2025-11-02 fires at 01:30 EDT, not again at 01:30 EST).
 *
 * Changes that move local time back by more than a day are not handled.
 */
#ifndef CITAPLANNER_CRON_H
#define CITAPLANNER_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* A parsed expression: one bit per allowed value.  Plain data, copyable. */
struct cron {
    uint64_t minutes; /* bit m: minute m (0-59) */
    uint32_t hours;   /* bit h: hour h (0-23) */
    uint32_t mdays;   /* bit d: day of month d (1-31) */
    uint16_t months;  /* bit m: month m (1-12) */
    uint8_t wdays;    /* bit w: weekday w (0-6, 0 = Sunday; 7 is folded into 0) */
    bool mday_star;   /* day-of-month field began with '*' (unrestricted for the OR rule) */
    bool wday_star;   /* day-of-week field began with '*' */
    bool wildcard;    /* minute or hour field began with '*' (see DST above) */
};

/*
 * Parse EXPR (5 fields or a macro) into *C.  On failure *C is zeroed and the
 * return is -ERR_CONFIG, with a message naming the field, its text and why:
 * "minute field '61': value out of range 0-59".
 */
int cron_parse(const char *expr, struct cron *c, struct err *e);

/*
 * The first fire time strictly after AFTER_EPOCH (seconds since the epoch),
 * in local time with the daylight-saving rules above; fire times fall on a
 * whole local minute (second 0), or on the end of a spring-forward gap.
 * Reads TZ anew on each call (tzset).  Returns 0 and sets *NEXT_EPOCH;
 * -ERR_NOT_FOUND when nothing fires within 400 years (only possible for a
 * struct not made by cron_parse); -ERR_INTERNAL when libc cannot convert a
 * time (a year beyond its range).  *NEXT_EPOCH is untouched on failure.
 */
int cron_next(const struct cron *c, int64_t after_epoch, int64_t *next_epoch);

#endif
