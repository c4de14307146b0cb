/* cron — see cron.h. */
#include "common/cron.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How far cron_next looks ahead before giving up ("never"). */
#define CRON_SEARCH_YEARS 400

/*
 * Instants cron_next accepts: about +-3 million years, far inside what
 * localtime_r converts, and far enough from INT64 limits that adding the
 * search's days and offsets cannot overflow.
 */
#define CRON_EPOCH_LIMIT INT64_C(100000000000000)

#define FIELD_MAX 256 /* longest field copied into an error message */

enum field_id { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F__COUNT };

static const struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* 3-letter names for min..; NULL when numbers only */
} fields[F__COUNT] = {
    [F_MINUTE] = {"minute", 0, 59, NULL},
    [F_HOUR] = {"hour", 0, 23, NULL},
    [F_MDAY] = {"day-of-month", 1, 31, NULL},
    [F_MONTH] = {"month", 1, 12,
                 (const char *const[]){"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                       "sep", "oct", "nov", "dec"}},
    /* 7 is accepted as a second Sunday; the names stop at sat = 6 */
    [F_WDAY] = {"day-of-week", 0, 7,
                (const char *const[]){"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

static const struct {
    const char *name;
    const char *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Case-insensitive compare of the N bytes at S with the NUL-terminated WORD. */
static bool word_eq(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* The field being parsed, for its error messages. */
struct field_ctx {
    enum field_id id;
    const char *text; /* the field, NUL-terminated */
    struct err *e;
};

static int field_error(const struct field_ctx *fc, const char *why)
{
    return err_set(fc->e, ERR_CONFIG, "%s field '%s': %s", fields[fc->id].name, fc->text, why);
}

/*
 * Parse one value (number or name) at *P, advancing *P past it.  ITEM is the
 * item being parsed, for the messages.  A value that is the whole field is
 * not repeated: "minute field '61': value out of range 0-59".
 */
static int parse_value(const struct field_ctx *fc, const char *item, size_t item_len,
                       const char **p, int *out)
{
    const struct field_spec *fs = &fields[fc->id];
    const char *s = *p;
    size_t n = 0;
    char why[FIELD_MAX + 64];
    int rc = 0;

    if (isdigit((unsigned char)s[0])) {
        long v = 0;
        while (isdigit((unsigned char)s[n])) {
            /* saturate: anything this long is out of range anyway */
            if (v < 1000000)
                v = v * 10 + (s[n] - '0');
            n++;
        }
        if (v < fs->min || v > fs->max) {
            if (s == fc->text && n == strlen(fc->text))
                snprintf(why, sizeof(why), "value out of range %d-%d", fs->min, fs->max);
            else
                snprintf(why, sizeof(why), "value '%.*s' out of range %d-%d", (int)n, s, fs->min,
                         fs->max);
            rc = field_error(fc, why);
            goto cleanup;
        }
        *out = (int)v;
    } else if (isalpha((unsigned char)s[0])) {
        while (isalpha((unsigned char)s[n]))
            n++;
        if (fs->names == NULL) {
            snprintf(why, sizeof(why), "'%.*s' is not a number", (int)n, s);
            rc = field_error(fc, why);
            goto cleanup;
        }
        int count = fc->id == F_MONTH ? 12 : 7;
        int found = -1;
        for (int i = 0; i < count && found < 0; i++)
            if (word_eq(s, n, fs->names[i]))
                found = i;
        if (found < 0) {
            snprintf(why, sizeof(why), "'%.*s' is not a number or a %s name (%s-%s)", (int)n, s,
                     fc->id == F_MONTH ? "month" : "day", fs->names[0], fs->names[count - 1]);
            rc = field_error(fc, why);
            goto cleanup;
        }
        *out = fs->min + found;
    } else {
        if (s[0] == '\0' || s[0] == ',')
            snprintf(why, sizeof(why), "missing value in '%.*s'", (int)item_len, item);
        else
            snprintf(why, sizeof(why), "unexpected '%c' in '%.*s'", s[0], (int)item_len, item);
        rc = field_error(fc, why);
        goto cleanup;
    }
    *p = s + n;

cleanup:
    return rc;
}

/* Parse one list item ('*', N, N-M, each with an optional /S) into *BITS. */
static int parse_item(const struct field_ctx *fc, const char *item, size_t len, uint64_t *bits)
{
    const struct field_spec *fs = &fields[fc->id];
    const char *p = item;
    const char *end = item + len;
    char why[FIELD_MAX + 64];
    int lo = 0, hi = 0, step = 1;
    int rc = 0;

    if (len == 0) {
        rc = field_error(fc, "empty list item");
        goto cleanup;
    }
    if (*p == '*') {
        lo = fs->min;
        hi = fs->max;
        p++;
    } else {
        rc = parse_value(fc, item, len, &p, &lo);
        if (rc < 0)
            goto cleanup;
        hi = lo;
        if (p < end && *p == '-') {
            p++;
            rc = parse_value(fc, item, len, &p, &hi);
            if (rc < 0)
                goto cleanup;
            if (lo > hi) {
                snprintf(why, sizeof(why), "range '%.*s': start greater than end", (int)len, item);
                rc = field_error(fc, why);
                goto cleanup;
            }
        } else if (p < end && *p == '/') {
            hi = fs->max; /* "5/15" is "5-max/15", as in cronie */
        }
    }
    if (p < end && *p == '/') {
        const char *s = ++p;
        long v = 0;
        while (p < end && isdigit((unsigned char)*p)) {
            if (v < 1000000)
                v = v * 10 + (*p - '0');
            p++;
        }
        if (p == s) {
            snprintf(why, sizeof(why), "missing step after '/' in '%.*s'", (int)len, item);
            rc = field_error(fc, why);
            goto cleanup;
        }
        if (v < 1 || v > fs->max) {
            snprintf(why, sizeof(why), "step '%.*s' out of range 1-%d", (int)(p - s), s, fs->max);
            rc = field_error(fc, why);
            goto cleanup;
        }
        step = (int)v;
    }
    if (p < end) {
        snprintf(why, sizeof(why), "unexpected '%c' in '%.*s'", *p, (int)len, item);
        rc = field_error(fc, why);
        goto cleanup;
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= UINT64_C(1) << (fc->id == F_WDAY && v == 7 ? 0 : v);

cleanup:
    return rc;
}

/* Parse the field TEXT (NUL-terminated) into *BITS. */
static int parse_field(enum field_id id, const char *text, uint64_t *bits, struct err *e)
{
    struct field_ctx fc = {id, text, e};
    const char *p = text;
    int rc = 0;

    *bits = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        rc = parse_item(&fc, p, len, bits);
        if (rc < 0 || comma == NULL)
            break;
        p = comma + 1;
    }
    return rc;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int mon)
{
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mon == 2 && is_leap(y) ? 29 : days[mon];
}

/* Names of the set months, for the "never fires" message ("feb,apr"). */
static void month_list(uint16_t months, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int m = 1; m <= 12; m++) {
        if (!(months >> m & 1))
            continue;
        int n = snprintf(out + len, size - len, "%s%s", len > 0 ? "," : "",
                         fields[F_MONTH].names[m - 1]);
        if (n < 0 || (size_t)n >= size - len)
            break;
        len += (size_t)n;
    }
}

/*
 * When day-of-month and day-of-week combine with AND, a day-of-month that no
 * selected month has can never fire: every other date (29 February included)
 * falls on each weekday in some year, and with OR any month has the weekdays.
 */
static int check_fires(const struct cron *c, const char *mday_text, struct err *e)
{
    bool fires = !c->mday_star && !c->wday_star;
    int rc = 0;

    for (int m = 1; m <= 12 && !fires; m++) /* 2000: a leap year, so 29 February counts */
        for (int d = 1; d <= days_in_month(2000, m) && !fires; d++)
            fires = (c->months >> m & 1) && (c->mdays >> d & 1);
    if (!fires) {
        char months[64];
        month_list(c->months, months, sizeof(months));
        rc = err_set(e, ERR_CONFIG, "day-of-month field '%s': never occurs in %s", mday_text,
                     months);
    }
    return rc;
}

static int parse_fields(const char *expr, const char *shown, struct cron *c, struct err *e)
{
    char text[F__COUNT][FIELD_MAX];
    int n = 0;
    const char *p = expr;
    uint64_t bits[F__COUNT] = {0};
    int rc = 0;

    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p != '\0' && !is_blank(*p))
            p++;
        if (n < F__COUNT) {
            size_t len = (size_t)(p - start);
            if (len >= FIELD_MAX) {
                rc = err_set(e, ERR_CONFIG, "%s field '%.32s...': too long", fields[n].name, start);
                goto cleanup;
            }
            memcpy(text[n], start, len);
            text[n][len] = '\0';
        }
        n++;
    }
    if (n != F__COUNT) {
        rc = err_set(e, ERR_CONFIG,
                     "cron expression '%s': expected 5 fields (minute hour day-of-month month "
                     "day-of-week), found %d",
                     shown, n);
        goto cleanup;
    }
    for (int i = 0; i < F__COUNT; i++) {
        rc = parse_field((enum field_id)i, text[i], &bits[i], e);
        if (rc < 0)
            goto cleanup;
    }
    c->minutes = bits[F_MINUTE];
    c->hours = (uint32_t)bits[F_HOUR];
    c->mdays = (uint32_t)bits[F_MDAY];
    c->months = (uint16_t)bits[F_MONTH];
    c->wdays = (uint8_t)bits[F_WDAY];
    c->mday_star = text[F_MDAY][0] == '*';
    c->wday_star = text[F_WDAY][0] == '*';
    c->wildcard = text[F_MINUTE][0] == '*' || text[F_HOUR][0] == '*';
    rc = check_fires(c, text[F_MDAY], e);

cleanup:
    return rc;
}

int cron_parse(const char *expr, struct cron *c, struct err *e)
{
    const char *p = expr;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    if (expr == NULL) {
        rc = err_set(e, ERR_CONFIG, "cron expression missing");
        goto cleanup;
    }
    while (is_blank(*p))
        p++;
    if (*p == '@') {
        size_t n = 0;
        while (p[n] != '\0' && !is_blank(p[n]))
            n++;
        const char *rest = p + n;
        while (is_blank(*rest))
            rest++;
        const char *expansion = NULL;
        for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]) && expansion == NULL; i++)
            if (word_eq(p, n, macros[i].name))
                expansion = macros[i].expansion;
        if (expansion == NULL) {
            rc = err_set(e, ERR_CONFIG,
                         "cron expression '%s': unknown macro '%.*s' (use @hourly, @daily, "
                         "@weekly, @monthly or @yearly)",
                         expr, (int)n, p);
            goto cleanup;
        }
        if (*rest != '\0') {
            rc = err_set(e, ERR_CONFIG, "cron expression '%s': unexpected '%s' after '%.*s'", expr,
                         rest, (int)n, p);
            goto cleanup;
        }
        rc = parse_fields(expansion, expr, c, e);
    } else {
        rc = parse_fields(expr, expr, c, e);
    }

cleanup:
    if (rc < 0)
        memset(c, 0, sizeof(*c));
    return rc;
}

/* ---- next fire time ---------------------------------------------------- */

/*
 * The search walks local wall-clock times ("walls") in order, as naive
 * seconds (the wall read as if it were UTC), and maps each matching wall to
 * the instants at which the clock shows it: usually one, none in a
 * spring-forward gap, two in a fall-back overlap.
 */

struct wall {
    int64_t year;
    int mon, day, hour, min; /* 1-12, 1-31, 0-23, 0-59 */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days from 1970-01-01 to Y-M-D in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    /* count years from March, so the leap day ends the year */
    int64_t yy = m <= 2 ? y - 1 : y;
    int mm = m <= 2 ? m + 9 : m - 3; /* March = 0 */
    int64_t days = 365 * yy + floor_div(yy, 4) - floor_div(yy, 100) + floor_div(yy, 400);
    days += (153 * mm + 2) / 5 + d - 1;
    return days - 719468; /* the count above for 1970-01-01 */
}

static int64_t wall_naive(const struct wall *w)
{
    return days_from_civil(w->year, w->mon, w->day) * 86400 + w->hour * 3600 + w->min * 60;
}

static int wall_from_naive(int64_t naive, struct wall *w)
{
    time_t t = (time_t)naive;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return -ERR_INTERNAL;
    w->year = (int64_t)tm.tm_year + 1900;
    w->mon = tm.tm_mon + 1;
    w->day = tm.tm_mday;
    w->hour = tm.tm_hour;
    w->min = tm.tm_min;
    return 0;
}

/* UTC offset (seconds east) of local time at instant T. */
static int local_offset(int64_t t, long *off)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL)
        return -ERR_INTERNAL;
    *off = tm.tm_gmtoff;
    return 0;
}

static bool day_matches(const struct cron *c, const struct wall *w)
{
    int wday = (int)((days_from_civil(w->year, w->mon, w->day) % 7 + 11) % 7); /* 1970: Thu */
    bool mday_ok = c->mdays >> w->day & 1;
    bool wday_ok = c->wdays >> wday & 1;
    if (c->mday_star || c->wday_star)
        return mday_ok && wday_ok;
    return mday_ok || wday_ok;
}

static void next_month(struct wall *w)
{
    w->day = 1;
    w->hour = 0;
    w->min = 0;
    if (++w->mon > 12) {
        w->mon = 1;
        w->year++;
    }
}

static void next_day(struct wall *w)
{
    w->day++; /* past the month's end is caught by the caller */
    w->hour = 0;
    w->min = 0;
}

static void next_hour(struct wall *w)
{
    w->min = 0;
    if (++w->hour > 23)
        next_day(w);
}

static void next_minute(struct wall *w)
{
    if (++w->min > 59)
        next_hour(w);
}

/*
 * Move *W to the first matching wall at or after it.  False when none comes
 * before the end of YEAR_LIMIT.  Each step skips a whole month, day, hour or
 * minute, so even 400 years take a few hundred thousand cheap steps.
 */
static bool find_wall(const struct cron *c, struct wall *w, int64_t year_limit)
{
    for (;;) {
        if (w->year > year_limit)
            return false;
        if (!(c->months >> w->mon & 1) || w->day > days_in_month(w->year, w->mon))
            next_month(w);
        else if (!day_matches(c, w))
            next_day(w);
        else if (!(c->hours >> w->hour & 1))
            next_hour(w);
        else if (!(c->minutes >> w->min & 1))
            next_minute(w);
        else
            return true;
    }
}

/*
 * The instants at which local time shows the wall NAIVE, ascending, into
 * OCC[0..*N) (*N is 0, 1 or 2).  The candidates are the offsets in force a
 * day before and a day after: a wall exists under an offset when converting
 * back gives that offset.
 */
static int wall_instants(int64_t naive, int64_t occ[2], int *n)
{
    long guess[4];
    int rc = 0;

    *n = 0;
    rc = local_offset(naive - 86400, &guess[0]);
    if (rc < 0)
        goto cleanup;
    rc = local_offset(naive + 86400, &guess[1]);
    if (rc < 0)
        goto cleanup;
    /* two changes within two days: also try the offsets the first guesses land on */
    rc = local_offset(naive - guess[0], &guess[2]);
    if (rc < 0)
        goto cleanup;
    rc = local_offset(naive - guess[1], &guess[3]);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < 4; i++) {
        int64_t t = naive - guess[i];
        long off;
        bool seen = false;
        rc = local_offset(t, &off);
        if (rc < 0)
            goto cleanup;
        for (int j = 0; j < *n; j++)
            seen = seen || occ[j] == t;
        if (off != guess[i] || seen || *n == 2)
            continue;
        occ[(*n)++] = t;
    }
    if (*n == 2 && occ[0] > occ[1]) {
        int64_t t = occ[0];
        occ[0] = occ[1];
        occ[1] = t;
    }

cleanup:
    return rc;
}

/* Whether local time at instant T reads NAIVE or later. */
static int reached(int64_t t, int64_t naive, bool *yes)
{
    long off;
    int rc = local_offset(t, &off);
    if (rc == 0)
        *yes = t + off >= naive;
    return rc;
}

/*
 * For a wall NAIVE skipped by a forward change: the instant the gap ends,
 * the first one at which the clock reads NAIVE or later.  *FOUND is false
 * when the zone does not look like a single forward change around it.
 */
static int gap_end(int64_t naive, int64_t *end, bool *found)
{
    long before, after;
    bool yes;
    int rc = 0;

    *found = false;
    rc = local_offset(naive - 86400, &before);
    if (rc < 0)
        goto cleanup;
    rc = local_offset(naive + 86400, &after);
    if (rc < 0)
        goto cleanup;
    if (after <= before)
        goto cleanup;
    int64_t lo = naive - after;  /* still before the change: reads less than NAIVE */
    int64_t hi = naive - before; /* after it: reads more */
    rc = reached(lo, naive, &yes);
    if (rc < 0 || yes)
        goto cleanup;
    rc = reached(hi, naive, &yes);
    if (rc < 0 || !yes)
        goto cleanup;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        rc = reached(mid, naive, &yes);
        if (rc < 0)
            goto cleanup;
        if (yes)
            hi = mid;
        else
            lo = mid;
    }
    *end = hi;
    *found = true;

cleanup:
    return rc;
}

int cron_next(const struct cron *c, int64_t after_epoch, int64_t *next_epoch)
{
    long off_after;
    long back = 0;
    struct wall w;
    bool have = false;
    int64_t best = 0;
    int64_t limit = 0;
    int rc = 0;

    if (after_epoch < -CRON_EPOCH_LIMIT || after_epoch > CRON_EPOCH_LIMIT) {
        rc = -ERR_INTERNAL;
        goto cleanup;
    }
    tzset(); /* localtime_r alone need not notice a changed TZ */
    rc = local_offset(after_epoch, &off_after);
    if (rc < 0)
        goto cleanup;
    /*
     * A fall-back change within the next day repeats walls that read earlier
     * than now: start the walk that much earlier.
     */
    for (int h = 1; h <= 25; h++) {
        long off;
        rc = local_offset(after_epoch + h * 3600, &off);
        if (rc < 0)
            goto cleanup;
        if (off_after - off > back)
            back = off_after - off;
    }
    rc = wall_from_naive(floor_div(after_epoch + off_after - back, 60) * 60, &w);
    if (rc < 0)
        goto cleanup;

    int64_t year_limit = w.year + CRON_SEARCH_YEARS;
    for (;;) {
        if (!find_wall(c, &w, year_limit)) {
            if (!have)
                rc = -ERR_NOT_FOUND;
            break;
        }
        int64_t naive = wall_naive(&w);
        /*
         * First occurrences and gap ends grow with the wall; only a second
         * occurrence can be beaten by a later wall, one within the repeat.
         */
        if (have && naive > limit)
            break;
        int64_t occ[2];
        int n;
        rc = wall_instants(naive, occ, &n);
        if (rc < 0)
            goto cleanup;
        if (n == 0 && !c->wildcard) {
            bool found;
            rc = gap_end(naive, &occ[0], &found);
            if (rc < 0)
                goto cleanup;
            n = found ? 1 : 0;
        } else if (n == 2 && !c->wildcard) {
            n = 1; /* fixed time in a repeated hour: the first occurrence only */
        }
        for (int i = 0; i < n; i++) {
            if (occ[i] > after_epoch && (!have || occ[i] < best)) {
                best = occ[i];
                limit = naive + (occ[i] - occ[0]);
                have = true;
            }
        }
        next_minute(&w);
    }
    if (have)
        *next_epoch = best;

cleanup:
    return rc;
}
