/*
 * pgtools — choosing pg_dump/psql by version (see pgtools.h).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup_internal.h"
#include "backup/pgtools.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"

#define MAX_CANDIDATES 32
/* A tool that does not answer --version by then is passed over. */
#define TOOL_VERSION_TIMEOUT_S 30

/* `path --version`: 0 and its first line and major version, or -1 (missing, failed, unreadable). */
static int tool_version(const char *path, char **text, int *major)
{
    char *argv[] = {(char *)path, "--version", NULL};
    struct proc_env ev;
    struct proc_output out;
    int status = 0, rc = -1;

    *text = NULL;
    proc_env_init(&ev, NULL);
    proc_env_set(&ev, "PATH", getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
    proc_env_set(&ev, "LC_ALL", "C");
    if (proc_run_output(path, argv, ev.v, TOOL_VERSION_TIMEOUT_S, &out, &status) < 0 ||
        !proc_status_ok(status))
        goto out;
    out.buf[strcspn(out.buf, "\r\n")] = '\0';
    if (backup_pg_dump_parse_version(out.buf, major) < 0)
        goto out;
    *text = xstrdup(out.buf);
    rc = 0;
out:
    proc_env_release(&ev);
    return rc;
}

/* The N of ".../postgresql/N/bin/tool", for sorting newest first. */
static int dir_major(const char *p)
{
    const char *s = strstr(p, "/postgresql/");
    return s != NULL ? atoi(s + strlen("/postgresql/")) : 0;
}

static int newest_first(const void *a, const void *b)
{
    return dir_major(*(char *const *)b) - dir_major(*(char *const *)a);
}

int pgtool_find(const char *tool, int server_major, struct pgtool *out, struct err *e)
{
    const char *env_name = strcmp(tool, "pg_dump") == 0 ? "PG_DUMP" : "PSQL";
    const char *env = getenv(env_name);
    char *cand[MAX_CANDIDATES];
    int n = 0, rc;
    struct buf seen = BUF_INIT;
    glob_t g;

    memset(out, 0, sizeof(*out));
    if (env != NULL && env[0] != '\0')
        cand[n++] = xstrdup(env);
    char *pattern = xasprintf("/usr/lib/postgresql/*/bin/%s", tool);
    if (glob(pattern, 0, NULL, &g) == 0) {
        int first = n;
        for (size_t i = 0; i < g.gl_pathc && n < MAX_CANDIDATES - 1; i++)
            cand[n++] = xstrdup(g.gl_pathv[i]);
        qsort(cand + first, (size_t)(n - first), sizeof(char *), newest_first);
        globfree(&g);
    }
    free(pattern);
    cand[n++] = xstrdup(tool);

    for (int i = 0; i < n && out->path == NULL; i++) {
        char *text = NULL;
        int major = 0;

        if (tool_version(cand[i], &text, &major) < 0) {
            /*
             * A missing versioned directory or PATH entry is no news; a
             * $PG_DUMP that does not run is a mistake to fix, not to step over.
             */
            if (i == 0 && env != NULL && env[0] != '\0') {
                rc = err_set(e, ERR_BACKUP,
                             "%s='%s' does not run as a %s (its --version answered nothing "
                             "usable): fix or unset %s",
                             env_name, cand[i], tool, env_name);
                for (int k = 0; k < n; k++)
                    free(cand[k]);
                buf_release(&seen);
                return rc;
            }
            continue;
        }
        if (major >= server_major) {
            out->path = cand[i];
            out->version = text;
            out->major = major;
            cand[i] = NULL;
        } else {
            buf_addf(&seen, "%s'%s' (%d)", seen.len ? ", " : "", cand[i], major);
            free(text);
        }
    }
    for (int i = 0; i < n; i++)
        free(cand[i]);
    if (out->path != NULL) {
        log_info("%s: using '%s' (%s) for a PostgreSQL %d server", tool, out->path, out->version,
                 server_major);
        rc = 0;
    } else {
        rc = err_set(e, ERR_BACKUP,
                     "no %s of version %d or newer found for this PostgreSQL %d server "
                     "(found: %s): install postgresql-client-%d, or set %s to its %s",
                     tool, server_major, server_major, seen.len ? buf_str(&seen) : "none",
                     server_major, env_name, tool);
    }
    buf_release(&seen);
    return rc;
}

void pgtool_free(struct pgtool *t)
{
    free(t->path);
    free(t->version);
    t->path = t->version = NULL;
}
