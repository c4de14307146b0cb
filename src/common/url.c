/*
 * url — see url.h.
 *
 * Decisions the header leaves open, made here:
 *
 *  - The user information of a postgresql:// URL ends at the LAST '@' of the
 *    string, and a raw '@' anywhere after it (host, dbname, query) is
 *    rejected: write %40 there.  So a password pasted without encoding still
 *    works even when it holds '@', '/', '?', ':' or '#', and "the text between
 *    the first ':' after '//' and the last '@'" is exactly the password, which
 *    lets an error message redact it by position before anything is parsed.
 *  - Fragments ('#') are not part of a database URL: a raw '#' after the
 *    user information is an error (write %23).
 *  - Query keys must be [a-z_]+ (libpq keywords).  host, port, user,
 *    password and dbname are refused there: the URL has one place for each,
 *    and two would leave the reader guessing which wins.  Values of keys
 *    holding "password" (sslpassword) are shown as *** in the redacted form.
 *  - sqlite:PATH takes the rest of the string as the path (relative or
 *    absolute); sqlite:///ABS/PATH is the absolute path /ABS/PATH; the
 *    ambiguous sqlite://PATH (is PATH a host?) is refused with the two
 *    accepted spellings.  Paths are percent-decoded too ('%' is %25); a raw
 *    '?' or '#' is refused because SQLite URI options are not supported.
 *  - A decoded NUL byte or a malformed %XY is an error in every component.
 */
#include "common/url.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

#define URL_FORMS                                                                                  \
    "postgresql://USER:PASSWORD@HOST:PORT/DBNAME[?KEY=VALUE&...], "                                \
    "postgres://... (same), sqlite:PATH or sqlite:///ABS/PATH"

/* Query keys that duplicate a part of the URL itself. */
static const char *const reserved_keys[] = {"host", "port", "user", "password", "dbname", NULL};

static bool secret_key(const char *key)
{
    return strstr(key, "password") != NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Append s[0..n) to b, showing control bytes as '?' so that a message stays
 * on one line whatever the input holds.
 */
static void add_printable(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf_addc(b, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
    }
}

/*
 * The raw string with its password (and secret query values) replaced by
 * "***", worked out by position alone so that it is safe for any input,
 * however malformed.  Caller frees.
 */
static char *redact_raw(const char *s)
{
    struct buf b = BUF_INIT;
    const char *start = strstr(s, "://");
    const char *at = strrchr(s, '@');
    const char *colon = NULL;
    const char *tail;

    start = start ? start + 3 : s;
    if (at != NULL && at >= start)
        colon = memchr(start, ':', (size_t)(at - start));
    if (colon != NULL) {
        add_printable(&b, s, (size_t)(colon + 1 - s));
        buf_adds(&b, "***");
        tail = at;
    } else {
        tail = s;
    }
    /*
     * Secret query parameters, after the user information.  Every "KEY=" of
     * the tail is looked at, whatever precedes it ('?', '&' or a stray text
     * such as a raw '@' that made the URL invalid), so that no secret value
     * is shown even when the query could not be found by position.
     */
    const char *p = tail;
    while (*p != '\0') {
        size_t len = strcspn(p, "?&");
        const char *eq = memchr(p, '=', len);
        if (eq != NULL) {
            char *key = xstrndup(p, (size_t)(eq - p));
            for (char *k = key; *k; k++)
                *k = (char)tolower((unsigned char)*k);
            add_printable(&b, p, (size_t)(eq + 1 - p));
            if (secret_key(key))
                buf_adds(&b, "***");
            else
                add_printable(&b, eq + 1, len - (size_t)(eq + 1 - p));
            free(key);
        } else {
            add_printable(&b, p, len);
        }
        p += len;
        if (*p == '&' || *p == '?') {
            buf_addc(&b, *p);
            p++;
        }
    }
    return buf_detach(&b);
}

/* Fill e with "invalid DATABASE_URL 'REDACTED': REASON"; returns -ERR_CONFIG. */
static int url_error(struct err *e, const char *raw, const char *reason)
{
    char *shown = redact_raw(raw);
    int rc = err_set(e, ERR_CONFIG, "invalid DATABASE_URL '%s': %s", shown, reason);
    free(shown);
    return rc;
}

/*
 * Percent-decode s[0..n) into a new string (*out, caller frees).  Returns
 * 0, -1 for a malformed escape, -2 for a decoded NUL byte.
 */
static int decode(const char *s, size_t n, char **out)
{
    char *d = xmalloc(n + 1);
    size_t j = 0;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            rc = -1;
            goto cleanup;
        }
        if (hi == 0 && lo == 0) {
            rc = -2;
            goto cleanup;
        }
        d[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[j] = '\0';

cleanup:
    if (rc < 0) {
        secure_zero(d, n + 1);
        free(d);
        d = NULL;
    }
    *out = d;
    return rc;
}

/*
 * Decode one component; on failure fill e naming the component (never its
 * content).  Returns 0 or -ERR_CONFIG.
 */
static int decode_part(const char *raw, const char *s, size_t n, const char *what, char **out,
                       struct err *e)
{
    char reason[320];
    int rc = decode(s, n, out);

    if (rc == 0)
        return 0;
    if (rc == -1)
        snprintf(reason, sizeof(reason),
                 "malformed percent-escape in the %s ('%%' must be followed by two hex digits; "
                 "write a literal '%%' as %%25)",
                 what);
    else
        snprintf(reason, sizeof(reason), "the %s holds an encoded NUL byte (%%00)", what);
    return url_error(e, raw, reason);
}

/* Percent-encode everything but RFC 3986's unreserved characters. */
static void add_encoded(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_addc(b, (char)*p);
        } else {
            buf_addc(b, '%');
            buf_addc(b, hex[*p >> 4]);
            buf_addc(b, hex[*p & 15]);
        }
    }
}

static void build_redacted_pg(struct url *u)
{
    struct buf b = BUF_INIT;

    buf_adds(&b, "postgresql://");
    if (u->user != NULL || u->password != NULL) {
        if (u->user != NULL)
            add_encoded(&b, u->user);
        if (u->password != NULL)
            buf_adds(&b, ":***");
        buf_addc(&b, '@');
    }
    if (u->host != NULL) {
        bool v6 = strchr(u->host, ':') != NULL && u->host[0] != '/';
        if (v6) {
            buf_addc(&b, '[');
            buf_adds(&b, u->host);
            buf_addc(&b, ']');
        } else {
            add_encoded(&b, u->host);
        }
    }
    /* Without a host (Unix socket) the default port adds nothing. */
    if (u->host != NULL || u->port != 5432)
        buf_addf(&b, ":%d", u->port);
    buf_addc(&b, '/');
    if (u->dbname != NULL)
        add_encoded(&b, u->dbname);
    for (size_t i = 0; i < u->nparams; i++) {
        buf_addc(&b, i == 0 ? '?' : '&');
        buf_adds(&b, u->params[i].key);
        buf_addc(&b, '=');
        if (secret_key(u->params[i].key))
            buf_adds(&b, "***");
        else
            add_encoded(&b, u->params[i].value);
    }
    u->redacted = buf_detach(&b);
}

static bool host_char_ok(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || c == '~' || c == '%';
}

/* Parse the port text s[0..n): 1-65535, digits only. */
static int parse_port(const char *s, size_t n, int *out)
{
    long v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

/* host[:port] or [v6][:port] in s[0..n). */
static int parse_hostport(const char *raw, const char *s, size_t n, struct url *u, struct err *e)
{
    const char *port = NULL;
    size_t port_len = 0;
    int rc = 0;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return url_error(e, raw,
                             "unterminated '[' in the host (an IPv6 address is "
                             "written [::1])");
        rc = decode_part(raw, s + 1, (size_t)(close - s - 1), "host", &u->host, e);
        if (rc < 0)
            return rc;
        bool ok = u->host[0] != '\0' && strchr(u->host, ':') != NULL;
        for (const char *p = u->host; ok && *p; p++)
            ok = isxdigit((unsigned char)*p) || *p == ':' || *p == '.' || *p == '%' ||
                 isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '~';
        if (!ok)
            return url_error(e, raw, "invalid IPv6 address between '[' and ']'");
        const char *after = close + 1;
        size_t rest = n - (size_t)(after - s);
        if (rest > 0) {
            if (*after != ':')
                return url_error(e, raw, "unexpected text after the IPv6 address's ']'");
            port = after + 1;
            port_len = rest - 1;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        size_t host_len = colon ? (size_t)(colon - s) : n;
        if (colon != NULL && memchr(colon + 1, ':', n - host_len - 1) != NULL)
            return url_error(e, raw, "an IPv6 host must be written in brackets, e.g. [::1]:5432");
        for (size_t i = 0; i < host_len; i++)
            if (!host_char_ok(s[i]))
                return url_error(e, raw,
                                 s[i] == ',' ? "several hosts are not supported"
                                             : "invalid character in the host (allowed: letters, "
                                               "digits, '.', '-', '_', percent-escapes)");
        if (host_len > 0) {
            rc = decode_part(raw, s, host_len, "host", &u->host, e);
            if (rc < 0)
                return rc;
        }
        if (colon != NULL) {
            port = colon + 1;
            port_len = n - host_len - 1;
        }
    }
    u->port = 5432;
    if (port != NULL && parse_port(port, port_len, &u->port) < 0)
        return url_error(e, raw, "port must be 1-65535");
    return 0;
}

static int parse_query(const char *raw, const char *q, struct url *u, struct err *e)
{
    const char *p = q;
    char reason[320];

    while (*p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        char *key = NULL;
        char *value = NULL;
        int rc;

        if (len == 0) { /* "a=1&&b=2", a trailing '&' */
            p++;
            continue;
        }
        size_t key_len = eq ? (size_t)(eq - p) : len;
        bool key_ok = key_len > 0 && key_len < 64;
        for (size_t i = 0; key_ok && i < key_len; i++)
            key_ok = (p[i] >= 'a' && p[i] <= 'z') || p[i] == '_';
        if (!key_ok)
            return url_error(e, raw,
                             "a query parameter name must be a libpq keyword made of "
                             "[a-z_], e.g. ?sslmode=require");
        key = xstrndup(p, key_len);
        for (int i = 0; reserved_keys[i] != NULL; i++) {
            if (strcmp(key, reserved_keys[i]) == 0) {
                snprintf(reason, sizeof(reason),
                         "query parameter '%s' is not accepted: write it in the URL itself "
                         "(USER:PASSWORD@HOST:PORT/DBNAME)",
                         key);
                free(key);
                return url_error(e, raw, reason);
            }
        }
        for (size_t i = 0; i < u->nparams; i++) {
            if (strcmp(u->params[i].key, key) == 0) {
                snprintf(reason, sizeof(reason), "query parameter '%s' is given twice", key);
                free(key);
                return url_error(e, raw, reason);
            }
        }
        if (eq == NULL || len - key_len - 1 == 0) {
            snprintf(reason, sizeof(reason), "query parameter '%s' has no value", key);
            free(key);
            return url_error(e, raw, reason);
        }
        snprintf(reason, sizeof(reason), "value of query parameter '%s'", key);
        rc = decode_part(raw, eq + 1, len - key_len - 1, reason, &value, e);
        if (rc < 0) {
            free(key);
            return rc;
        }
        u->params = xrealloc(u->params, (u->nparams + 1) * sizeof(*u->params));
        u->params[u->nparams].key = key;
        u->params[u->nparams].value = value;
        u->nparams++;
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

static int parse_pg(const char *raw, const char *rest, struct url *u, struct err *e)
{
    const char *at = strrchr(rest, '@');
    const char *hp = rest;
    int rc = 0;

    u->kind = URL_POSTGRES;
    if (at != NULL) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        size_t user_len = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
        if (user_len > 0) {
            rc = decode_part(raw, rest, user_len, "user", &u->user, e);
            if (rc < 0)
                return rc;
        }
        if (colon != NULL) {
            rc = decode_part(raw, colon + 1, (size_t)(at - colon - 1), "password", &u->password, e);
            if (rc < 0)
                return rc;
        }
        hp = at + 1;
    }
    if (strchr(hp, '#') != NULL)
        return url_error(e, raw,
                         "a '#' must be percent-encoded as %23 (URL fragments are "
                         "not supported)");

    size_t hp_len = strcspn(hp, "/?");
    rc = parse_hostport(raw, hp, hp_len, u, e);
    if (rc < 0)
        return rc;

    const char *p = hp + hp_len;
    if (*p == '/') {
        p++;
        size_t db_len = strcspn(p, "?");
        if (memchr(p, '/', db_len) != NULL)
            return url_error(e, raw, "the database name must not contain '/' (write %2F)");
        if (db_len > 0) {
            rc = decode_part(raw, p, db_len, "database name", &u->dbname, e);
            if (rc < 0)
                return rc;
        }
        p += db_len;
    }
    if (*p == '?') {
        rc = parse_query(raw, p + 1, u, e);
        if (rc < 0)
            return rc;
    }
    build_redacted_pg(u);
    return 0;
}

static int parse_sqlite(const char *raw, const char *rest, struct url *u, struct err *e)
{
    const char *given = rest;

    u->kind = URL_SQLITE;
    if (rest[0] == '/' && rest[1] == '/') {
        if (rest[2] != '/')
            return url_error(e, raw,
                             "sqlite://PATH is ambiguous: write sqlite:PATH (relative or "
                             "absolute) or sqlite:///ABS/PATH");
        rest += 2;
    }
    if (rest[0] == '\0')
        return url_error(e, raw, "the SQLite path is empty (write sqlite:PATH)");
    if (rest[strlen(rest) - 1] == '/')
        return url_error(e, raw, "the SQLite path names a directory, not a database file");
    if (strpbrk(rest, "?#") != NULL)
        return url_error(e, raw,
                         "'?' and '#' must be percent-encoded (%3F, %23) in a SQLite "
                         "path: SQLite URI options are not supported");
    int rc = decode_part(raw, rest, strlen(rest), "SQLite path", &u->path, e);
    if (rc < 0)
        return rc;
    u->redacted = xasprintf("sqlite:%s", given);
    return 0;
}

int url_parse(const char *s, struct url *u, struct err *e)
{
    char reason[320];

    memset(u, 0, sizeof(*u));
    u->port = 5432;
    if (s == NULL || s[0] == '\0')
        return err_set(e, ERR_CONFIG, "invalid DATABASE_URL '': it is empty; accepted forms: %s",
                       URL_FORMS);
    if (strncasecmp(s, "postgresql://", 13) == 0)
        return parse_pg(s, s + 13, u, e);
    if (strncasecmp(s, "postgres://", 11) == 0)
        return parse_pg(s, s + 11, u, e);
    if (strncasecmp(s, "sqlite:", 7) == 0)
        return parse_sqlite(s, s + 7, u, e);

    size_t scheme_len =
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (scheme_len > 0 && scheme_len < 32 && s[scheme_len] == ':')
        snprintf(reason, sizeof(reason), "unsupported scheme '%.*s'; accepted forms: %s",
                 (int)scheme_len, s, URL_FORMS);
    else
        snprintf(reason, sizeof(reason), "no scheme; accepted forms: %s", URL_FORMS);
    return url_error(e, s, reason);
}

static void free_secret(char *s)
{
    if (s != NULL) {
        secure_zero(s, strlen(s));
        free(s);
    }
}

void url_release(struct url *u)
{
    if (u == NULL)
        return;
    free(u->path);
    free(u->user);
    free_secret(u->password);
    free(u->host);
    free(u->dbname);
    for (size_t i = 0; i < u->nparams; i++) {
        free(u->params[i].key);
        free_secret(u->params[i].value);
    }
    free(u->params);
    free(u->redacted);
    memset(u, 0, sizeof(*u));
}

const char *url_redacted(const struct url *u)
{
    return u->redacted != NULL ? u->redacted : "";
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

void url_copy(struct url *dst, const struct url *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->kind = src->kind;
    dst->path = dup_or_null(src->path);
    dst->user = dup_or_null(src->user);
    dst->password = dup_or_null(src->password);
    dst->host = dup_or_null(src->host);
    dst->port = src->port;
    dst->dbname = dup_or_null(src->dbname);
    if (src->nparams > 0) {
        dst->params = xcalloc(src->nparams, sizeof(*dst->params));
        for (size_t i = 0; i < src->nparams; i++) {
            dst->params[i].key = xstrdup(src->params[i].key);
            dst->params[i].value = xstrdup(src->params[i].value);
        }
    }
    dst->nparams = src->nparams;
    dst->redacted = dup_or_null(src->redacted);
}
