/*
 * proc — running a child program (see proc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/proc.h"
#include "common/util.h"

extern char **environ;

/* ---- environment ---- */

static void env_push(struct proc_env *ev, char *kv)
{
    if (ev->n + 2 > ev->cap) {
        ev->cap = ev->cap ? ev->cap * 2 : 32;
        ev->v = xrealloc(ev->v, sizeof(char *) * (size_t)ev->cap);
    }
    ev->v[ev->n++] = kv;
    ev->v[ev->n] = NULL;
}

void proc_env_init(struct proc_env *ev, bool (*keep)(const char *kv))
{
    memset(ev, 0, sizeof(*ev));
    ev->v = xcalloc(1, sizeof(char *));
    for (char **p = environ; keep != NULL && p != NULL && *p != NULL; p++)
        if (keep(*p))
            env_push(ev, xstrdup(*p));
}

void proc_env_minimal(struct proc_env *ev)
{
    static const char *const names[] = {"HOME", "TZ", "LANG", NULL};
    const char *path = getenv("PATH");

    proc_env_init(ev, NULL);
    proc_env_set(ev, "PATH", path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");
    for (int i = 0; names[i] != NULL; i++)
        if (getenv(names[i]) != NULL)
            proc_env_set(ev, names[i], getenv(names[i]));
}

void proc_env_unset(struct proc_env *ev, const char *key)
{
    size_t len = strlen(key);

    for (int i = 0; i < ev->n; i++) {
        if (strncmp(ev->v[i], key, len) == 0 && ev->v[i][len] == '=') {
            free(ev->v[i]);
            ev->v[i] = ev->v[--ev->n];
            ev->v[ev->n] = NULL;
            i--;
        }
    }
}

void proc_env_set(struct proc_env *ev, const char *key, const char *value)
{
    proc_env_unset(ev, key);
    env_push(ev, xasprintf("%s=%s", key, value != NULL ? value : ""));
}

void proc_env_release(struct proc_env *ev)
{
    for (int i = 0; i < ev->n; i++)
        free(ev->v[i]);
    free(ev->v);
    memset(ev, 0, sizeof(*ev));
}

/* ---- starting, waiting ---- */

int proc_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
               int err_fd, bool own_group, int code, const char *hint, pid_t *pid, struct err *e)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defs;
    const int fds[3] = {in_fd, out_fd, err_fd};
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    int rc = 0, sr;

    posix_spawn_file_actions_init(&fa);
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 0)
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
        else
            posix_spawn_file_actions_adddup2(&fa, fds[i], i);
    }
    posix_spawnattr_init(&at);
    /*
     * We may run with signals blocked or ignored (the server's threads
     * block them, serve ignores SIGPIPE) and a child inherits both: it
     * starts with none blocked and the default action for those that
     * should stop it.
     */
    sigemptyset(&none);
    sigemptyset(&defs);
    sigaddset(&defs, SIGPIPE);
    sigaddset(&defs, SIGTERM);
    sigaddset(&defs, SIGINT);
    sigaddset(&defs, SIGHUP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defs);
    if (own_group) {
        posix_spawnattr_setpgroup(&at, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&at, flags);
    if (strchr(path, '/') != NULL)
        sr = posix_spawn(pid, path, &fa, &at, argv, envp);
    else
        sr = posix_spawnp(pid, path, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (sr != 0) {
        *pid = -1;
        rc =
            err_set(e, code, "cannot run '%s'%s: %s", path, hint != NULL ? hint : "", strerror(sr));
    }
    return rc;
}

int proc_wait(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

int proc_wait_until(pid_t pid, double deadline, int *status)
{
    struct timespec nap = {0, 20 * 1000000L};

    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0 && errno != EINTR)
            return -1;
        if (time_mono() > deadline) {
            kill(pid, SIGKILL);
            proc_wait(pid, status);
            return 1;
        }
        nanosleep(&nap, NULL);
    }
}

void proc_kill_wait(pid_t pid, int sig)
{
    int status;

    if (pid <= 0)
        return;
    kill(pid, sig);
    proc_wait(pid, &status);
}

bool proc_status_ok(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char *proc_status_describe(int status, char out[PROC_STATUS_MAX])
{
    if (WIFEXITED(status))
        snprintf(out, PROC_STATUS_MAX, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, PROC_STATUS_MAX, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, PROC_STATUS_MAX, "status %d", status);
    return out;
}

/* ---- output ---- */

int proc_output_read(int *fd, struct proc_output *o)
{
    char tmp[4096];
    ssize_t n;

    if (*fd < 0)
        return 0;
    n = read(*fd, tmp, sizeof(tmp));
    if (n > 0) {
        size_t keep = (size_t)n;
        if (keep > PROC_OUTPUT_MAX - o->len)
            keep = PROC_OUTPUT_MAX - o->len;
        memcpy(o->buf + o->len, tmp, keep);
        o->len += keep;
        o->buf[o->len] = '\0';
        return 1;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    close(*fd);
    *fd = -1;
    return 0;
}

void proc_output_drain(int *fd, struct proc_output *o)
{
    while (*fd >= 0) {
        struct pollfd pf = {*fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
            break;
        proc_output_read(fd, o);
    }
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void proc_first_lines(const char *s, char *out, size_t n)
{
    size_t j = 0;
    int lines = 0;

    for (size_t i = 0; s[i] != '\0' && j + 1 < n && lines < 4; i++) {
        char c = s[i];
        if (c == '\n') {
            lines++;
            if (s[i + 1] == '\0' || lines == 4)
                break;
            c = ' ';
            if (j + 3 < n) {
                out[j++] = ' ';
                out[j++] = '|';
            }
        }
        out[j++] = c;
    }
    out[j] = '\0';
}

void proc_one_line(const char *s, char *out, size_t n)
{
    size_t j = 0;

    for (size_t i = 0; s[i] != '\0' && j + 1 < n; i++)
        out[j++] = (s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

int proc_run_output(const char *path, char *const argv[], char *const envp[], double timeout_s,
                    struct proc_output *out, int *status)
{
    int po[2] = {-1, -1};
    pid_t pid = -1;
    double deadline = time_mono() + timeout_s;
    struct err e = {0};
    int rc = -1;

    memset(out, 0, sizeof(*out));
    *status = 0;
    if (pipe2(po, O_CLOEXEC) < 0)
        return -1;
    if (proc_spawn(path, argv, envp, -1, po[1], -1, false, ERR_INTERNAL, NULL, &pid, &e) < 0)
        goto cleanup;
    close(po[1]);
    po[1] = -1;
    while (po[0] >= 0) {
        double left = deadline - time_mono();
        struct pollfd pf = {po[0], POLLIN, 0};
        if (left <= 0)
            break;
        if (poll(&pf, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
            break;
        proc_output_read(&po[0], out);
    }
    rc = proc_wait_until(pid, deadline, status) == 0 ? 0 : -1;

cleanup:
    for (int i = 0; i < 2; i++)
        if (po[i] >= 0)
            close(po[i]);
    return rc;
}
