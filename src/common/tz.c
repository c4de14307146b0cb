/*
 * tz — see tz.h.
 *
 * libical supplies one thing: the UTC offset of a zone at an instant (it
 * reads /usr/share/zoneinfo and keeps each zone it loaded until the process
 * ends, under its own mutex).  The rest is arithmetic done here: the civil
 * calendar, the instant text, and turning a wall time back into an instant,
 * which libical would answer for a repeated wall time with the later
 * instant, where this module promises the earlier one.
 */
#include "common/tz.h"

#include <libical/ical.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define DAY_SECONDS 86400

/* Longest zone name accepted; the longest in the database has 32 bytes. */
#define TZ_NAME_MAX 64

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Days since 1970-01-01, counting in 400-year eras of 146097 days. */
int64_t tz_days_from_civil(int y, int mon, int d)
{
    int64_t yy = (int64_t)y - (mon <= 2 ? 1 : 0);
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;                        /* 0..399 */
    int64_t mp = mon > 2 ? mon - 3 : mon + 9;            /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * 146097 + doe - 719468; /* 719468: days from 0000-03-01 to 1970-01-01 */
}

void tz_civil_from_days(int64_t days, int *y, int *mon, int *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mon = m;
    *y = (int)(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

/* 1970-01-01 (day 0) was a Thursday. */
static int weekday_of_days(int64_t days)
{
    return (int)(days + 4 - floor_div(days + 4, 7) * 7);
}

int tz_weekday(int y, int mon, int d)
{
    return weekday_of_days(tz_days_from_civil(y, mon, d));
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int mon)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mon == 2 && leap_year(y) ? 29 : days[mon - 1];
}

bool tz_date_valid(int y, int mon, int d)
{
    return y >= 1 && y <= 9999 && mon >= 1 && mon <= 12 && d >= 1 && d <= month_days(y, mon);
}

/*
 * libical would open any file under /usr/share/zoneinfo, and some of those
 * are not zones or not the zones one means: the name must be plain
 * components of [A-Za-z0-9_+-], and a few files are refused by name.
 */
static bool name_acceptable(const char *s)
{
    static const char *const refused[] = {"Factory", "localtime", "posixrules", NULL};
    size_t n;

    if (s == NULL || s[0] == '\0')
        return false;
    n = strlen(s);
    if (n > TZ_NAME_MAX || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") != NULL)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '/';
        if (!ok)
            return false;
    }
    if (str_starts_with(s, "posix/") || str_starts_with(s, "right/"))
        return false;
    for (int i = 0; refused[i] != NULL; i++)
        if (strcmp(s, refused[i]) == 0)
            return false;
    return true;
}

static icaltimezone *zone_find(const char *iana)
{
    if (!name_acceptable(iana))
        return NULL;
    return icaltimezone_get_builtin_timezone(iana);
}

bool tz_valid(const char *iana)
{
    return zone_find(iana) != NULL;
}

/* Seconds east of UTC in effect in zone z at instant epoch. */
static int zone_offset(icaltimezone *z, int64_t epoch)
{
    struct icaltimetype t =
        icaltime_from_timet_with_zone((time_t)epoch, 0, icaltimezone_get_utc_timezone());
    int is_daylight = 0;
    return icaltimezone_get_utc_offset_of_utc_time(z, &t, &is_daylight);
}

int tz_local_to_utc(const char *iana, int y, int mon, int d, int h, int min, int64_t *epoch,
                    struct err *e)
{
    icaltimezone *z = zone_find(iana);
    int64_t wall, best = 0;
    int offs[3];
    bool found = false;

    if (z == NULL)
        return err_set(e, ERR_CONFIG, "unknown time zone '%s'", iana ? iana : "");
    if (!tz_date_valid(y, mon, d) || h < 0 || h > 23 || min < 0 || min > 59)
        return err_set(e, ERR_USAGE, "invalid wall time '%04d-%02d-%02d %02d:%02d'", y, mon, d, h,
                       min);
    /* The wall time read as if it were UTC. */
    wall = tz_days_from_civil(y, mon, d) * DAY_SECONDS + h * 3600 + min * 60;

    /*
     * The offsets that can apply: those a day before and a day after (the
     * two sides of any change near this time), and the one at the naive
     * reading.  An offset applies when the instant it gives has that offset;
     * the earliest such instant wins.
     */
    offs[0] = zone_offset(z, wall - DAY_SECONDS);
    offs[1] = zone_offset(z, wall + DAY_SECONDS);
    offs[2] = zone_offset(z, wall - zone_offset(z, wall));
    for (int i = 0; i < 3; i++) {
        int64_t t = wall - offs[i];
        if (zone_offset(z, t) == offs[i] && (!found || t < best)) {
            best = t;
            found = true;
        }
    }
    if (!found) {
        /* Skipped by a change: the larger offset gives the earlier instant. */
        int larger = offs[0] > offs[1] ? offs[0] : offs[1];
        best = wall - larger;
    }
    *epoch = best;
    return 0;
}

/* Split seconds-since-epoch (already shifted to local) into fields. */
static void split_seconds(int64_t t, struct tz_local *out)
{
    int64_t days = floor_div(t, DAY_SECONDS);
    int64_t secs = t - days * DAY_SECONDS;

    tz_civil_from_days(days, &out->y, &out->mon, &out->d);
    out->h = (int)(secs / 3600);
    out->min = (int)(secs / 60 % 60);
    out->s = (int)(secs % 60);
    out->wday = weekday_of_days(days);
}

/* Instants whose UTC year is 1-9999, with a day of margin for offsets. */
static bool epoch_in_range(int64_t epoch)
{
    static const int64_t lo = -62135596800LL + DAY_SECONDS; /* 0001-01-02 */
    static const int64_t hi = 253402300799LL - DAY_SECONDS; /* 9999-12-30 23:59:59 */
    return epoch >= lo && epoch <= hi;
}

int tz_utc_to_local(const char *iana, int64_t epoch, struct tz_local *out, struct err *e)
{
    icaltimezone *z = zone_find(iana);
    int off;

    if (z == NULL)
        return err_set(e, ERR_CONFIG, "unknown time zone '%s'", iana ? iana : "");
    if (!epoch_in_range(epoch))
        return err_set(e, ERR_USAGE, "instant '%lld' is out of range", (long long)epoch);
    off = zone_offset(z, epoch);
    split_seconds(epoch + off, out);
    out->offset = off;
    return 0;
}

int tz_format_instant(int64_t epoch, char out[32])
{
    struct tz_local l;

    if (epoch < -62135596800LL || epoch > 253402300799LL) {
        out[0] = '\0';
        return -1;
    }
    split_seconds(epoch, &l);
    snprintf(out, 32, "%04d-%02d-%02d %02d:%02d:%02d+00", l.y, l.mon, l.d, l.h, l.min, l.s);
    return 0;
}

/* Read exactly n digits at *p, advancing it; -1 when they are not there. */
static int read_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

int tz_parse_instant(const char *s, int64_t *epoch)
{
    const char *p = s;
    int y, mon, d, h, min, sec, oh = 0, om = 0, sign = 1;

    if (s == NULL)
        return -1;
    if ((y = read_digits(&p, 4)) < 0 || !expect(&p, '-') || (mon = read_digits(&p, 2)) < 0 ||
        !expect(&p, '-') || (d = read_digits(&p, 2)) < 0)
        return -1;
    if (*p != ' ' && *p != 'T')
        return -1;
    p++;
    if ((h = read_digits(&p, 2)) < 0 || !expect(&p, ':') || (min = read_digits(&p, 2)) < 0 ||
        !expect(&p, ':') || (sec = read_digits(&p, 2)) < 0)
        return -1;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if ((oh = read_digits(&p, 2)) < 0)
            return -1;
        if (*p == ':') {
            p++;
            if ((om = read_digits(&p, 2)) < 0)
                return -1;
        } else if (*p != '\0' && (om = read_digits(&p, 2)) < 0) {
            return -1;
        }
    } else {
        return -1;
    }
    if (*p != '\0' || !tz_date_valid(y, mon, d) || h > 23 || min > 59 || sec > 59 || oh > 23 ||
        om > 59)
        return -1;
    *epoch = tz_days_from_civil(y, mon, d) * DAY_SECONDS + h * 3600 + min * 60 + sec -
             sign * (oh * 3600 + om * 60);
    return 0;
}

int tz_parse_hhmm(const char *s)
{
    int h, m;

    if (s == NULL || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' ||
        s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9' || s[5] != '\0')
        return -1;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}
