/*
 * size — ARCHIVE_SLOT_MAX_BYTES, the one option that is a size: a number of
 * bytes with PostgreSQL's units (kB, MB, GB, TB; powers of 1024), as its
 * own settings read.  A setter of config.c's table (config.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

#define SLOT_MIN_BYTES (64LL << 20)

static int parse_size(const char *value, int64_t *out)
{
    static const struct {
        const char *unit;
        int shift;
    } units[] = {{"", 0}, {"B", 0}, {"kB", 10}, {"MB", 20}, {"GB", 30}, {"TB", 40}};
    char *end = NULL;
    long long n;

    if (!isdigit((unsigned char)value[0]))
        return -1;
    n = strtoll(value, &end, 10);
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) != 0)
            continue;
        if (n < 0 || n > (INT64_MAX >> units[i].shift))
            return -1;
        *out = (int64_t)n << units[i].shift;
        return 0;
    }
    return -1;
}

int config_set_slot_max_bytes(struct config *c, const struct option *o, const char *value,
                              const char *name, struct err *e)
{
    int64_t v = 0;

    (void)o;
    if (parse_size(value, &v) < 0 || v < SLOT_MIN_BYTES)
        return err_set(e, ERR_CONFIG,
                       "invalid %s '%.40s': a size such as 4GB, 512MB or 1073741824 (at least "
                       "64MB)",
                       name, value);
    c->archive_slot_max_bytes = v;
    return 0;
}
