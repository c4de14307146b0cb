/*
 * tz — IANA time zones: wall time in a zone <-> UTC instant, and the
 * database's instant text.
 *
 * Zone rules come from the system's tz database (/usr/share/zoneinfo, the
 * Debian tzdata package, kept current by its updates) read through libical.
 * ICU was the first choice, but the ICU of this platform (72.1) carries its
 * own frozen copy of the rules (tz 2022e), which still has daylight saving
 * in all of Mexico and is wrong for some twenty other zones today; libical
 * reads the system's files, so a tzdata update fixes every zone at once.
 * Only this file knows which library is behind it.
 *
 * Instants are int64 seconds since 1970-01-01 00:00:00 UTC.  Wall times are
 * proleptic Gregorian, minutes and seconds as on a clock.
 *
 * Thread safety: every function may be called from several threads.
 */
#ifndef CITAPLANNER_TZ_H
#define CITAPLANNER_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* The database's instant text, "YYYY-MM-DD HH:MM:SS+00", with its NUL. */
#define TZ_INSTANT_LEN 23

/* A wall time in a zone, as tz_utc_to_local() sees it. */
struct tz_local {
    int y, mon, d; /* mon 1-12, d 1-31 */
    int h, min, s; /* 0-23, 0-59, 0-59 */
    int wday;      /* 0 = Sunday ... 6 = Saturday */
    int offset;    /* seconds east of UTC in effect then (Mexico City: -21600) */
};

/*
 * Is iana the name of a zone of the tz database ("America/Mexico_City",
 * "Europe/Madrid", "UTC", and the old aliases such as "US/Eastern")?  Names
 * are case-sensitive, as in the database.  Refused: NULL, "", anything
 * that is not a plain zone name (path tricks such as "../x", "posix/…",
 * "right/…" with leap seconds, "Factory", "localtime").
 */
bool tz_valid(const char *iana);

/*
 * The UTC instant of a wall time (seconds are 0) in zone iana.
 *
 * A wall time that a daylight-saving change makes happen twice
 * (2025-11-02 01:30 in New York) gives the earlier instant, its first
 * occurrence (01:30 EDT = 05:30 UTC).  A wall time that a change skips
 * (2025-03-09 02:30 in New York) is read with the offset in effect after
 * the change, which is the earlier of its two readings (06:30 UTC, shown as
 * 01:30 EST); a caller that must not produce a time that does not exist
 * compares tz_utc_to_local() of the result with what it asked for.
 *
 * Errors: -ERR_CONFIG for an unknown zone, -ERR_USAGE for a date or time out
 * of range (month 1-12, day within the month, hour 0-23, minute 0-59, year
 * 1-9999).  *epoch is only written on success.
 */
int tz_local_to_utc(const char *iana, int y, int mon, int d, int h, int min, int64_t *epoch,
                    struct err *e);

/*
 * The wall time, weekday and offset of instant epoch in zone iana.
 * Errors: -ERR_CONFIG for an unknown zone, -ERR_USAGE for an instant whose
 * local year falls outside 1-9999.
 */
int tz_utc_to_local(const char *iana, int64_t epoch, struct tz_local *out, struct err *e);

/*
 * Write epoch as "YYYY-MM-DD HH:MM:SS+00" (UTC), the text both databases
 * hold and return for an instant.  Returns 0, or -1 (out set to "") when the
 * year falls outside 0001-9999.
 */
int tz_format_instant(int64_t epoch, char out[32]);

/*
 * Parse an instant: "YYYY-MM-DD HH:MM:SS" followed by "+00", "Z", or an
 * offset "+HH", "+HH:MM", "+HHMM" (or '-'), with a 'T' or a space between
 * date and time (RFC 3339 and what the databases return).  Fields are
 * checked (month length, leap years, hour 0-23, offset under 24 h).
 * Returns 0 and sets *epoch, or -1 (untouched) when s is not such a text.
 */
int tz_parse_instant(const char *s, int64_t *epoch);

/*
 * A time of day "HH:MM" (00:00-23:59, two digits each, nothing else) as
 * minutes after midnight; -1 when s (may be NULL) is not that.  The one
 * parser of working hours, the booking API and quiet hours.
 */
int tz_parse_hhmm(const char *s);

/*
 * Calendar arithmetic on proleptic Gregorian dates, no zone involved.
 * tz_days_from_civil: days since 1970-01-01 of a date (which must be valid);
 * tz_civil_from_days: the inverse; tz_weekday: 0 = Sunday ... 6 = Saturday;
 * tz_date_valid: is y-mon-d a real date with year 1-9999.
 */
int64_t tz_days_from_civil(int y, int mon, int d);
void tz_civil_from_days(int64_t days, int *y, int *mon, int *d);
int tz_weekday(int y, int mon, int d);
bool tz_date_valid(int y, int mon, int d);

#endif
