/*
 * pgtools — which PostgreSQL client program (pg_dump, psql) to run for a
 * server of a given major version.
 *
 * pg_dump refuses a server newer than itself, and a newer pg_dump/psql
 * handles every older server back to 9.2, so the rule is: the first
 * candidate whose major version is at least the server's.  Candidates, in
 * order: the program named by the environment ($PG_DUMP for pg_dump, $PSQL
 * for psql), /usr/lib/postgresql/<N>/bin/<tool> newest N first (Debian's
 * layout, several versions side by side), then <tool> on PATH.  Each is
 * asked `--version`; one that is missing or does not answer is passed over,
 * except the environment's: a $PG_DUMP/$PSQL that does not run is an error.
 */
#ifndef CITAPLANNER_BACKUP_PGTOOLS_H
#define CITAPLANNER_BACKUP_PGTOOLS_H

#include "common/err.h"

struct pgtool {
    char *path;    /* what to run */
    char *version; /* its `--version` line, e.g. "pg_dump (PostgreSQL) 17.6 (Debian …)" */
    int major;     /* 17 */
};

/*
 * Find tool ("pg_dump" or "psql") for a server of major version
 * server_major, and log which one was chosen.  When none fits: -ERR_BACKUP,
 * naming the version needed, the package that provides it and what was
 * found.  On success the caller frees out with pgtool_free.
 */
int pgtool_find(const char *tool, int server_major, struct pgtool *out, struct err *e);

void pgtool_free(struct pgtool *t);

#endif
