/*
 * dumphead — a dump made by a newer pg_dump, fed to an older server.
 *
 * pg_dump begins its plain output with session settings for the restore
 * ("SET statement_timeout = 0;" …).  Each release may add one: pg_dump 17
 * writes "SET transaction_timeout = 0;", which a PostgreSQL 15 server
 * rejects (unrecognized configuration parameter), and psql, stopping at the
 * first error, fails the whole restore over a setting that changes no data.
 *
 * This filter sits between the decompressed dump and psql.  In the dump's
 * head (blank lines, comments, psql's \restrict, SET and
 * SELECT pg_catalog.set_config lines, up to the first other line), a
 * "SET name = …;" whose parameter the target server does not have is left
 * out, with a logged notice.  Everything else passes unchanged: an unknown
 * statement after the head, or anything but a plain SET, still reaches psql
 * and still fails the restore (which runs in one transaction: nothing
 * changes).  Parameters with a dot (extension settings) pass: the server
 * accepts them as placeholders.
 */
#ifndef CITAPLANNER_BACKUP_DUMPHEAD_H
#define CITAPLANNER_BACKUP_DUMPHEAD_H

#include <stddef.h>

#include "common/err.h"
#include "common/url.h"

struct dumphead;

/* Where the filter's output goes (psql's stdin); returns 0 or a negative error. */
typedef int (*dumphead_write)(void *arg, const void *p, size_t n, struct err *e);

/* A filter for a server having these parameters (names, any case). */
struct dumphead *dumphead_new(const char *const *known, int nknown);

/* A filter for the PostgreSQL server at u (its pg_settings, read now). */
int dumphead_for_server(const struct url *u, struct dumphead **out, struct err *e);

/* The next n bytes of the dump; what psql should get goes to w(arg, …). */
int dumphead_feed(struct dumphead *h, const void *p, size_t n, dumphead_write w, void *arg,
                  struct err *e);

/* The end of the dump: a last line held back without its newline goes out. */
int dumphead_finish(struct dumphead *h, dumphead_write w, void *arg, struct err *e);

/* How many SET lines were left out. */
int dumphead_skipped(const struct dumphead *h);

void dumphead_free(struct dumphead *h);

#endif
