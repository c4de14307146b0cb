/*
 * dumphead — leaving a newer pg_dump's unknown session settings out of a
 * restore into an older server (see dumphead.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backup/dumphead.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"

/* A head line longer than this is no setting: the head ends there. */
#define LINE_MAX_HELD 4096

struct dumphead {
    char **known;
    int nknown;
    bool in_head;
    bool open; /* the last statement line did not end with ';': the next one continues it */
    char line[LINE_MAX_HELD];
    size_t len;
    int skipped;
};

struct dumphead *dumphead_new(const char *const *known, int nknown)
{
    struct dumphead *h = xcalloc(1, sizeof(*h));

    h->known = xcalloc((size_t)(nknown > 0 ? nknown : 1), sizeof(char *));
    for (int i = 0; i < nknown; i++)
        h->known[i] = xstrdup(known[i]);
    h->nknown = nknown;
    h->in_head = true;
    return h;
}

int dumphead_for_server(const struct url *u, struct dumphead **out, struct err *e)
{
    struct db *db = NULL;
    struct db_res *res = NULL;
    char **names = NULL;
    int n = 0, cap = 0, rc;

    *out = NULL;
    rc = db_open(u, DB_CONNECT_TIMEOUT_S, &db, e);
    if (rc < 0)
        return rc;
    rc = db_query(db, "SELECT name FROM pg_catalog.pg_settings", DB_NOPARAMS, &res, e);
    if (rc >= 0) {
        while (db_res_next(res)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 512;
                names = xrealloc(names, sizeof(char *) * (size_t)cap);
            }
            names[n++] = xstrdup(db_res_text(res, 0));
        }
        db_res_free(res);
        *out = dumphead_new((const char *const *)names, n);
        rc = 0;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    db_close(db);
    return rc;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    return len >= pl && strncmp(s, prefix, pl) == 0;
}

/* Whether a whole line (without its newline) belongs to a dump's head. */
static bool head_line(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    return i == len || starts(s, len, "--") || starts(s, len, "\\restrict ") ||
           starts(s, len, "SET ") || starts(s, len, "SELECT pg_catalog.set_config(");
}

/*
 * The parameter of "SET name = value;" / "SET name TO value;" when the
 * server lacks it (copied to name), else false.
 */
static bool unknown_set(const struct dumphead *h, const char *s, size_t len, char *name, size_t cap)
{
    size_t i = 4, n = 0;

    if (!starts(s, len, "SET "))
        return false;
    while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.') && n + 1 < cap)
        name[n++] = s[i++];
    name[n] = '\0';
    if (n == 0 || strchr(name, '.') != NULL)
        return false;
    /* Only "SET name = …;" / "SET name TO …;" (not SET SESSION …, SET LOCAL …). */
    if (strcasecmp(name, "SESSION") == 0 || strcasecmp(name, "LOCAL") == 0)
        return false;
    if (!(starts(s + i, len - i, " = ") || starts(s + i, len - i, " TO ")))
        return false;
    /* One statement, alone on its line: its only ';' ends it. */
    while (len > 0 && s[len - 1] == '\r')
        len--;
    if (len == 0 || s[len - 1] != ';' || memchr(s, ';', len - 1) != NULL)
        return false;
    for (int k = 0; k < h->nknown; k++) {
        if (strcasecmp(h->known[k], name) == 0)
            return false;
    }
    return true;
}

/* One whole head line (with its newline, if any): passed on, or left out. */
static int head_emit(struct dumphead *h, const char *s, size_t len, bool nl, dumphead_write w,
                     void *arg, struct err *e)
{
    char name[128];
    size_t body = len - (nl ? 1 : 0);

    if (!head_line(s, body)) {
        h->in_head = false;
        return w(arg, s, len, e);
    }
    bool continued = h->open;
    size_t end = body;

    while (end > 0 && (s[end - 1] == '\r' || s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    if (end > 0 && !starts(s, body, "--"))
        h->open = s[end - 1] != ';';
    if (!continued && unknown_set(h, s, body, name, sizeof(name))) {
        h->skipped++;
        log_warn("the dump sets '%s', which this PostgreSQL server does not have "
                 "(the dump comes from a newer pg_dump): skipped, it changes no data",
                 name);
        return 0;
    }
    return w(arg, s, len, e);
}

int dumphead_feed(struct dumphead *h, const void *p, size_t n, dumphead_write w, void *arg,
                  struct err *e)
{
    const char *s = p;
    int rc;

    while (n > 0 && h->in_head) {
        const char *nl = memchr(s, '\n', n);
        size_t take = nl != NULL ? (size_t)(nl - s) + 1 : n;

        if (h->len + take > sizeof(h->line)) {
            /* Too long for a setting: the head is over; what is held goes out as it is. */
            h->in_head = false;
            if (h->len > 0 && (rc = w(arg, h->line, h->len, e)) < 0)
                return rc;
            h->len = 0;
            break;
        }
        memcpy(h->line + h->len, s, take);
        h->len += take;
        s += take;
        n -= take;
        if (nl == NULL)
            return 0; /* the rest of this line comes with the next bytes */
        rc = head_emit(h, h->line, h->len, true, w, arg, e);
        h->len = 0;
        if (rc < 0)
            return rc;
    }
    return n > 0 ? w(arg, s, n, e) : 0;
}

int dumphead_finish(struct dumphead *h, dumphead_write w, void *arg, struct err *e)
{
    int rc = 0;

    if (h->len > 0)
        rc = h->in_head ? head_emit(h, h->line, h->len, false, w, arg, e)
                        : w(arg, h->line, h->len, e);
    h->len = 0;
    return rc;
}

int dumphead_skipped(const struct dumphead *h)
{
    return h->skipped;
}

void dumphead_free(struct dumphead *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < h->nknown; i++)
        free(h->known[i]);
    free(h->known);
    free(h);
}
