/* csv — see csv.h. */
#include "domain/csv.h"

#include <inttypes.h>
#include <string.h>

void csv_bom(struct buf *b)
{
    buf_adds(b, "\xEF\xBB\xBF");
}

void csv_text(struct buf *b, const char *s, int first)
{
    if (!first)
        buf_addc(b, ',');
    if (s == NULL)
        return;
    if (strchr("=+-@", s[0]) != NULL && s[0] != '\0') {
        /* a formula to a spreadsheet: shown as text instead */
        buf_addc(b, '"');
        buf_addc(b, '\'');
        for (const char *p = s; *p != '\0'; p++) {
            if (*p == '"')
                buf_addc(b, '"');
            buf_addc(b, *p);
        }
        buf_addc(b, '"');
        return;
    }
    if (strpbrk(s, ",\"\r\n") == NULL) {
        buf_adds(b, s);
        return;
    }
    buf_addc(b, '"');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            buf_addc(b, '"');
        buf_addc(b, *p);
    }
    buf_addc(b, '"');
}

void csv_int(struct buf *b, int64_t v, int first)
{
    if (!first)
        buf_addc(b, ',');
    buf_addf(b, "%" PRId64, v);
}

void csv_cents(struct buf *b, int64_t cents, int first)
{
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;

    if (!first)
        buf_addc(b, ',');
    buf_addf(b, "%s%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", a / 100, a % 100);
}

void csv_end(struct buf *b)
{
    buf_adds(b, "\r\n");
}
