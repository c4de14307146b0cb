/*
 * pg_tool — PostgreSQL's programs run for the archive (see pg_tool.h).
 */
#include "archive/pg_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/psql.h"
#include "common/file.h"
#include "common/proc.h"
#include "common/util.h"

int pg_tool_env_init(struct pg_tool_env *t, const struct config *cfg, const char *name,
                     struct err *e)
{
    const char *pw = backup_pg_password(&cfg->db);
    char *line = NULL;
    int rc = 0;

    memset(t, 0, sizeof(*t));
    if (pw != NULL) {
        t->passdir = xasprintf("%s/.%s.pgpass.%ld", cfg->backup_dir, name, (long)getpid());
        t->passfile = xasprintf("%s/pgpass", t->passdir);
        if (mkdir(cfg->backup_dir, 0700) != 0 && errno != EEXIST)
            rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot create '%s': %s",
                         cfg->backup_dir, strerror(errno));
        else if (mkdir(t->passdir, 0700) != 0 && errno != EEXIST)
            rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot create '%s': %s",
                         t->passdir, strerror(errno));
        if (rc == 0) {
            line = backup_pgpass_line(pw);
            rc = file_write_atomic(t->passfile, line, strlen(line), 0600, ERR_BACKUP, e);
            secure_zero(line, strlen(line));
            free(line);
        }
    }
    t->env = backup_pg_env_new(&cfg->db, t->passfile);
    return rc;
}

void pg_tool_env_release(struct pg_tool_env *t)
{
    if (t->passfile != NULL)
        unlink(t->passfile);
    if (t->passdir != NULL)
        rmdir(t->passdir);
    free(t->passfile);
    free(t->passdir);
    backup_pg_env_free(t->env);
    memset(t, 0, sizeof(*t));
}

int pg_tool_run(const char *path, char *const argv[], char *const envp[], double timeout_s,
                struct err *e)
{
    int pfd[2] = {-1, -1}, status = 0, rc;
    pid_t pid = -1;
    struct proc_output out;
    struct proc_env ev;
    char why[PROC_STATUS_MAX], first[600];

    memset(&out, 0, sizeof(out));
    proc_env_minimal(&ev);
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        proc_env_release(&ev);
        return err_set(e, ERR_INTERNAL, "pipe: %s", strerror(errno));
    }
    rc = proc_spawn(path, argv, envp != NULL ? envp : ev.v, -1, pfd[1], pfd[1], true, ERR_BACKUP,
                    NULL, &pid, e);
    close(pfd[1]);
    if (rc == 0) {
        proc_output_drain(&pfd[0], &out);
        int w = proc_wait_until(pid, time_mono() + timeout_s, &status);
        if (w != 0 || !proc_status_ok(status)) {
            proc_first_lines(out.buf, first, sizeof(first));
            rc = err_set(e, ERR_BACKUP, "'%s %s' failed (%s): %s", path_base(path), argv[1],
                         w == 1 ? "killed after its time limit" : proc_status_describe(status, why),
                         first);
        }
    }
    if (pfd[0] >= 0)
        close(pfd[0]);
    proc_env_release(&ev);
    return rc;
}
