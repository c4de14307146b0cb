/*
 * phone — mobile numbers in E.164 ("+525511110001"), for matching the
 * clients who book online by their number (issue 18).  No I/O: unit-tested
 * in test/unit/domain/phone_test.c.
 *
 * What people type: "55 1111 0001", "(55) 1111-0001", "+52 55 1111 0001",
 * "0052 5511110001", "+1 (415) 555-0100".  Separators (space . - ( ) /)
 * go; a leading "+" or "00" means the country code follows, anything else
 * is a national number of the default country.  A Mexican mobile written
 * the old way ("+52 1 55 ...", 13 digits) loses its "1", as in today's
 * dialling plan, so both forms are one number.
 */
#ifndef CITAPLANNER_DOMAIN_PHONE_H
#define CITAPLANNER_DOMAIN_PHONE_H

#include <stddef.h>

/* "+" and at most 15 digits, and the NUL. */
#define PHONE_E164_MAX 17

/*
 * The E.164 form of s into out, with default_cc ("52", "1", "34": the
 * country calling code, digits only) for a national number.  0, or -1 when
 * s is not a phone number (other characters, fewer than 8 or more than 15
 * digits in all; out is then "").
 */
int phone_e164(const char *s, const char *default_cc, char out[PHONE_E164_MAX]);

#endif
