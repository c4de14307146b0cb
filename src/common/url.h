/*
 * url — DATABASE_URL parsing and redaction.
 *
 * Accepted forms (SPEC §1):
 *   postgresql://[user[:password]@][host][:port][/dbname][?key=value&...]
 *   postgres://...                       (same)
 *   sqlite:PATH                          (relative or absolute path)
 *   sqlite:///ABS/PATH                   (absolute path)
 *
 * Every component is percent-decoded; the port defaults to 5432; an IPv6
 * host is written in brackets ("[::1]") and stored without them.  Query
 * parameters are kept (decoded) and handed to libpq as connection keywords.
 *
 * The redacted form replaces a password with "***" and is the only form that
 * may appear in a log line or an error message.
 */
#ifndef CITAPLANNER_URL_H
#define CITAPLANNER_URL_H

#include "common/err.h"

enum url_kind { URL_SQLITE, URL_POSTGRES };

struct url_param {
    char *key;
    char *value;
};

struct url {
    enum url_kind kind;
    char *path;     /* sqlite: the file path (decoded); NULL for postgres */
    char *user;     /* postgres: decoded, NULL when absent */
    char *password; /* postgres: decoded, NULL when absent; never print */
    char *host;     /* postgres: decoded, without IPv6 brackets; NULL = libpq default */
    int port;       /* postgres: 5432 when absent */
    char *dbname;   /* postgres: decoded, NULL when absent */
    struct url_param *params;
    size_t nparams;
    char *redacted; /* e.g. postgresql://citaplanner:***@db:5432/citaplanner */
};

/*
 * Parse s into u (which the caller then releases with url_release, also on
 * failure).  On error returns -ERR_CONFIG with a message that names what is
 * wrong and never contains the password.
 */
int url_parse(const char *s, struct url *u, struct err *e);

/* Free everything u owns (the password is zeroed first).  Accepts a zeroed u. */
void url_release(struct url *u);

/* The redacted display form; borrowed from u. */
const char *url_redacted(const struct url *u);

/* Deep copy (caller releases dst). */
void url_copy(struct url *dst, const struct url *src);

#endif
