/* layout — tiers, file names and listing BACKUP_DIR.  See layout.h. */
#include "backup/layout.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

static const char *const tier_names[BACKUP_TIER_COUNT] = {
    [BACKUP_DAILY] = "daily",           [BACKUP_WEEKLY] = "weekly",
    [BACKUP_MONTHLY] = "monthly",       [BACKUP_PREMIGRATE] = "premigrate",
    [BACKUP_PRERESTORE] = "prerestore",
};

#define NAME_PREFIX "citaplanner_"

const char *backup_tier_name(enum backup_tier t)
{
    return (t >= 0 && t < BACKUP_TIER_COUNT) ? tier_names[t] : "?";
}

int backup_tier_parse(const char *s, enum backup_tier *out)
{
    for (int i = 0; i < BACKUP_TIER_COUNT; i++) {
        if (s != NULL && strcmp(s, tier_names[i]) == 0) {
            *out = (enum backup_tier)i;
            return 0;
        }
    }
    return -1;
}

const char *backup_format_ext(enum backup_format f)
{
    return f == BACKUP_FMT_SQLITE ? ".sqlite.gz" : ".sql.gz";
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int year, int month /* 1-12 */)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && leap_year(year) ? 29 : days[month - 1];
}

unsigned backup_auto_tiers(time_t now, int weekly_day, int monthly_day)
{
    struct tm tm;
    unsigned tiers = 1u << BACKUP_DAILY;
    int last;

    localtime_r(&now, &tm);
    last = days_in_month(tm.tm_year + 1900, tm.tm_mon + 1);
    if (tm.tm_wday == weekly_day)
        tiers |= 1u << BACKUP_WEEKLY;
    if (tm.tm_mday == monthly_day || (monthly_day > last && tm.tm_mday == last))
        tiers |= 1u << BACKUP_MONTHLY;
    return tiers;
}

/* n decimal digits at s into *out; false when any is not a digit. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool valid_date_time(int y, int mo, int d, int h, int mi, int se)
{
    return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) &&
           h <= 23 && mi <= 59 && se <= 59;
}

int backup_parse_local_time(const char *s, time_t *out)
{
    int y, mo, d, h, mi, se;
    struct tm tm;
    time_t t;

    if (s == NULL || strlen(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return -1;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return -1;
    if (!valid_date_time(y, mo, d, h, mi, se))
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t;
    return 0;
}

/* The instant the clock stays at; 0: the real clock. */
static time_t fake_now;

time_t backup_clock(void)
{
    return fake_now != 0 ? fake_now : time(NULL);
}

int backup_clock_set(const char *fake, struct err *e)
{
    fake_now = 0;
    if (fake == NULL || fake[0] == '\0')
        return 0;
    if (backup_parse_local_time(fake, &fake_now) < 0) {
        fake_now = 0;
        return err_set(e, ERR_CONFIG,
                       "CITAPLANNER_FAKE_NOW must be a local time 'YYYY-MM-DDTHH:MM:SS', not '%s'",
                       fake);
    }
    return 0;
}

void backup_name_format(char out[BACKUP_NAME_MAX], enum backup_tier tier, time_t now,
                        enum backup_format fmt)
{
    struct tm tm;
    char stamp[32];

    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
    snprintf(out, BACKUP_NAME_MAX, NAME_PREFIX "%s_%s%s", backup_tier_name(tier), stamp,
             backup_format_ext(fmt));
}

int backup_name_parse(const char *name, enum backup_tier *tier, int64_t *stamp,
                      enum backup_format *fmt)
{
    const char *p;
    const char *us;
    char tname[16];
    int y, mo, d, h, mi, se;
    enum backup_tier t;
    enum backup_format f;

    if (name == NULL || strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX)) != 0)
        return -1;
    p = name + strlen(NAME_PREFIX);
    us = strchr(p, '_');
    if (us == NULL || (size_t)(us - p) >= sizeof(tname))
        return -1;
    memcpy(tname, p, (size_t)(us - p));
    tname[us - p] = '\0';
    if (backup_tier_parse(tname, &t) < 0)
        return -1;
    p = us + 1;
    /* YYYYMMDD_HHMMSS */
    if (strlen(p) < 15 || p[8] != '_')
        return -1;
    if (!digits(p, 4, &y) || !digits(p + 4, 2, &mo) || !digits(p + 6, 2, &d) ||
        !digits(p + 9, 2, &h) || !digits(p + 11, 2, &mi) || !digits(p + 13, 2, &se))
        return -1;
    if (!valid_date_time(y, mo, d, h, mi, se))
        return -1;
    p += 15;
    {
        /* An encrypted backup is its format's name plus ".age" (issue 10). */
        size_t n = strlen(p);
        if (n > 4 && strcmp(p + n - 4, ".age") == 0)
            n -= 4;
        if (n == strlen(backup_format_ext(BACKUP_FMT_SQL)) &&
            strncmp(p, backup_format_ext(BACKUP_FMT_SQL), n) == 0)
            f = BACKUP_FMT_SQL;
        else if (n == strlen(backup_format_ext(BACKUP_FMT_SQLITE)) &&
                 strncmp(p, backup_format_ext(BACKUP_FMT_SQLITE), n) == 0)
            f = BACKUP_FMT_SQLITE;
        else
            return -1;
    }
    if (tier != NULL)
        *tier = t;
    if (fmt != NULL)
        *fmt = f;
    if (stamp != NULL)
        *stamp = (((((int64_t)y * 100 + mo) * 100 + d) * 100 + h) * 100 + mi) * 100 + se;
    return 0;
}

static bool file_exists(const char *dir, const char *name, const char *suffix)
{
    char *p = xasprintf("%s/%s%s", dir, name, suffix);
    struct stat sb;
    bool ok = stat(p, &sb) == 0 && S_ISREG(sb.st_mode);

    free(p);
    return ok;
}

/* Newest first; among equal stamps, by tier then name, so the order is total. */
static int cmp_entry(const void *a, const void *b)
{
    const struct backup_entry *x = a, *y = b;

    if (x->stamp != y->stamp)
        return x->stamp > y->stamp ? -1 : 1;
    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int list_tier(const char *dir, enum backup_tier tier, struct backup_list *l, int *cap,
                     struct err *e)
{
    char *tdir = xasprintf("%s/%s", dir, backup_tier_name(tier));
    DIR *d = opendir(tdir);
    struct dirent *de;
    int rc = 0;

    if (d == NULL) {
        if (errno != ENOENT)
            rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", tdir, strerror(errno));
        goto cleanup;
    }
    while ((de = readdir(d)) != NULL) {
        struct backup_entry *it;
        enum backup_tier t;
        enum backup_format f;
        int64_t stamp;
        struct stat sb;
        char *path;

        /* A file of another tier's name in this directory is not ours to list. */
        if (backup_name_parse(de->d_name, &t, &stamp, &f) < 0 || t != tier)
            continue;
        path = xasprintf("%s/%s", tdir, de->d_name);
        if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(path);
            continue;
        }
        if (l->count == *cap) {
            *cap = *cap ? *cap * 2 : 32;
            l->items = xrealloc(l->items, sizeof(*l->items) * (size_t)*cap);
        }
        it = &l->items[l->count++];
        memset(it, 0, sizeof(*it));
        it->tier = t;
        it->format = f;
        it->name = xstrdup(de->d_name);
        it->path = path;
        it->stamp = stamp;
        it->size = (int64_t)sb.st_size;
        it->dev = (uint64_t)sb.st_dev;
        it->ino = (uint64_t)sb.st_ino;
        it->has_sha256 = file_exists(tdir, de->d_name, ".sha256");
        it->has_manifest = file_exists(tdir, de->d_name, ".json");
    }

cleanup:
    if (d != NULL)
        closedir(d);
    free(tdir);
    return rc;
}

int backup_list_load(const char *dir, struct backup_list *l, struct err *e)
{
    int cap = 0;
    int rc = 0;

    memset(l, 0, sizeof(*l));
    for (int t = 0; t < BACKUP_TIER_COUNT && rc == 0; t++)
        rc = list_tier(dir, (enum backup_tier)t, l, &cap, e);
    if (rc == 0 && l->count > 1)
        qsort(l->items, (size_t)l->count, sizeof(*l->items), cmp_entry);
    return rc;
}

void backup_list_release(struct backup_list *l)
{
    if (l == NULL)
        return;
    for (int i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].path);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}
