/*
 * pg_tool — running PostgreSQL's programs for the archive (pg_receivewal,
 * pg_basebackup, pg_verifybackup, tar on their output): the connection
 * handed over through PG* variables and a private passfile (never argv),
 * and a run to its end with its first error lines in the error.
 */
#ifndef CITAPLANNER_ARCHIVE_PG_TOOL_H
#define CITAPLANNER_ARCHIVE_PG_TOOL_H

#include "common/err.h"
#include "config/config.h"

struct pg_tool_env {
    char *passdir, *passfile; /* NULL when the URL has no password */
    char **env;               /* for the child: NULL-terminated */
};

/*
 * The environment to connect to cfg's database: the password in
 * BACKUP_DIR/.NAME.pgpass.PID/pgpass (0600 in a 0700 directory, removed by
 * _release).  -ERR_BACKUP / -ERR_NO_SPACE naming the directory.
 */
int pg_tool_env_init(struct pg_tool_env *t, const struct config *cfg, const char *name,
                     struct err *e);
void pg_tool_env_release(struct pg_tool_env *t);

/*
 * Run path with argv and envp (NULL: PATH, HOME, TZ, LANG only) until it
 * exits or timeout_s passes (then killed).  -ERR_BACKUP "'TOOL ARG1' failed
 * (exit status 1): its first lines" unless it exits 0.
 */
int pg_tool_run(const char *path, char *const argv[], char *const envp[], double timeout_s,
                struct err *e);

#endif
