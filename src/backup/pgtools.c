/*
 * pgtools — choosing pg_dump/psql by version (see pgtools.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup/backup_internal.h"
#include "backup/pgtools.h"
#include "common/log.h"
#include "common/util.h"

#define MAX_CANDIDATES 32

/* `path --version`: 0 and its first line and major version, or -1 (missing, failed, unreadable). */
static int tool_version(const char *path, char **text, int *major)
{
    char *argv[] = {(char *)path, "--version", NULL};
    const char *path_env = getenv("PATH");
    char *pe = xasprintf("PATH=%s", path_env != NULL ? path_env : "/usr/bin:/bin");
    char *envp[] = {pe, "LC_ALL=C", NULL};
    char buf[512];
    size_t len = 0;
    pid_t pid = -1;
    int po[2] = {-1, -1}, status = 0, rc = -1;
    struct err e = {0};

    *text = NULL;
    if (pipe2(po, O_CLOEXEC) < 0)
        goto out;
    if (backup_spawn(path, argv, envp, -1, po[1], -1, false, NULL, &pid, &e) < 0)
        goto out;
    close(po[1]);
    po[1] = -1;
    for (;;) {
        ssize_t n = read(po[0], buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    buf[len] = '\0';
    close(po[0]);
    po[0] = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        goto out;
    buf[strcspn(buf, "\r\n")] = '\0';
    if (backup_pg_dump_parse_version(buf, major) < 0)
        goto out;
    *text = xstrdup(buf);
    rc = 0;
out:
    if (po[0] >= 0)
        close(po[0]);
    if (po[1] >= 0)
        close(po[1]);
    free(pe);
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
