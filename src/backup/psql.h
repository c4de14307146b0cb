/*
 * psql — the PostgreSQL client programs (psql.c): which pg_dump or psql to
 * run for a server of a given major version, the connection handed to them,
 * and psql fed a dump (restore, verify --deep).
 *
 * Which program:
 *
 * pg_dump refuses a server newer than itself, and a newer pg_dump/psql
 * handles every older server back to 9.2, so the rule is: the first
 * candidate whose major version is at least the server's.  Candidates, in
 * order: the program configured (PG_DUMP for pg_dump, PSQL for psql, handed
 * over by pgtool_set_paths), /usr/lib/postgresql/<N>/bin/<tool> newest N first (Debian's
 * layout, several versions side by side), then <tool> on PATH.  Each is
 * asked `--version`; one that is missing or does not answer is passed over,
 * except the configured one: a PG_DUMP/PSQL that does not run is an error.
 */
#ifndef CITAPLANNER_BACKUP_PSQL_H
#define CITAPLANNER_BACKUP_PSQL_H

#include "backup/scan.h"
#include "common/err.h"
#include "common/url.h"

struct pgtool {
    char *path;    /* what to run */
    char *version; /* its `--version` line, e.g. "pg_dump (PostgreSQL) 17.6 (Debian …)" */
    int major;     /* 17 */
};

/*
 * Find tool ("pg_dump" or "psql") for a server of major version
 * server_major, and log which one was chosen.  The archive's tools
 * (pg_receivewal, pg_basebackup, pg_verifybackup) are taken of the
 * server's major when one is installed, else the newest newer one (they
 * handle older servers; a restore still needs a server of the backup's
 * major); the variable is the tool's name in capitals
 * (PG_RECEIVEWAL).  When none fits: -ERR_BACKUP,
 * naming the version needed, the package that provides it and what was
 * found.  On success the caller frees out with pgtool_free.
 */
int pgtool_find(const char *tool, int server_major, struct pgtool *out, struct err *e);

void pgtool_free(struct pgtool *t);

/*
 * The pg_dump and psql to try first (config's pg_dump and psql; NULL or "":
 * none).  Called once at start (cmd.c), before any thread; borrowed.
 */
void pgtool_set_paths(const char *pg_dump, const char *psql);
/* The same for the archive's tools (PG_RECEIVEWAL, PG_BASEBACKUP, PG_VERIFYBACKUP). */
void pgtool_set_archive_paths(const char *receivewal, const char *basebackup,
                              const char *verifybackup);

/* Parse "pg_dump (PostgreSQL) 15.20 (Debian …)" into its major version (15; 9 for 9.6). */
int backup_pg_dump_parse_version(const char *text, int *major);

/* A passfile line "*:*:*:*:PASSWORD\n" with ':' and '\' escaped.  Caller frees (zero first). */
char *backup_pgpass_line(const char *password);

/* ---- the connection, handed over (pg_dump and psql) ---- */

/* The password to hand a libpq tool: the URL's, or its "password" parameter; NULL if none. */
const char *backup_pg_password(const struct url *u);

/*
 * The environment for a libpq tool connecting to u: the whitelisted part of
 * ours, PGHOST/PGPORT/PGUSER/PGDATABASE and the URL's parameters, and
 * PGPASSFILE=passfile when not NULL (never the password itself).  NULL-
 * terminated; caller frees with backup_pg_env_free.
 */
char **backup_pg_env_new(const struct url *u, const char *passfile);
void backup_pg_env_free(char **env);

/*
 * A private passfile for password in a new directory ".pgpass<n>.tmp.<pid>"
 * (0700) of the private runtime directory (runtime.h: outside BACKUP_DIR and
 * every backup's directory; a killed run's is removed by the next sweep).
 * priv_dir is no longer used (kept for callers).  *dir and *file: release
 * both with backup_pg_passfile_remove.
 */
int backup_pg_passfile_new(const char *priv_dir, const char *password, char **dir, char **file,
                           struct err *e);
void backup_pg_passfile_remove(char *dir, char *file);

/* ---- feeding a dump to psql (restore; verify --deep) ---- */

struct backup_psql_feed {
    const struct url *url; /* the database psql connects to */
    int server_major;      /* which psql (pgtool_find) */
    const char *priv_dir;  /* unused: the passfile goes to the private runtime directory */
    const char *prologue;  /* SQL sent before the dump; may be NULL */
    /*
     * SQL sent after the dump (restore: "COMMIT"), only when the whole file
     * decoded and hashed to expect_sha256; may be NULL.
     */
    const char *epilogue;
    const char *expect_sha256; /* may be NULL: not compared */
    volatile int *cancel;
    void (*tick)(void *arg, const struct backup_scan *s); /* may be NULL */
    void *tick_arg;
};

/*
 * Run psql -X -q -v ON_ERROR_STOP=1 on f->url (connection through PG*
 * variables and a private passfile, never argv), and feed it the prologue,
 * the dump decompressed from path as it is read (never written out), and
 * the epilogue.  When the file does not decode, does not hash to
 * expect_sha256, or cancel is set, psql is killed before it gets the
 * epilogue (an open transaction is then rolled back by the server).
 * Errors: -ERR_VERIFY (the file; nothing after the damage was sent),
 * -ERR_BACKUP (psql failed: its first error lines), -ERR_INTERNAL.
 */
int backup_psql_feed_file(const struct backup_psql_feed *f, const char *path, struct err *e);

/*
 * Play the plain dump path (.sql.gz) into the database u through psql, in
 * one transaction (committed only when the whole file decoded).  The
 * private passfile goes under priv_dir.  Errors as backup_psql_feed_file.
 */
int backup_load_dump(const struct url *u, const char *path, const char *priv_dir, struct err *e);

#endif
