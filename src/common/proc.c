/*
 * proc — running a child program (see proc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

/* The program to run: path itself when it has a '/', else the first executable on our PATH. */
static char *resolve_program(const char *path)
{
    const char *dirs = getenv("PATH");
    char *found = NULL;

    if (strchr(path, '/') != NULL)
        return xstrdup(path);
    if (dirs == NULL || dirs[0] == '\0')
        dirs = "/usr/local/bin:/usr/bin:/bin";
    while (found == NULL) {
        size_t len = strcspn(dirs, ":");
        char *cand = xasprintf("%.*s/%s", (int)len, len > 0 ? dirs : ".", path);
        if (access(cand, X_OK) == 0)
            found = cand;
        else
            free(cand);
        if (dirs[len] == '\0')
            break;
        dirs += len + 1;
    }
    return found;
}

/*
 * The child between fork and exec: only async-signal-safe calls.  It dies
 * with us (PR_SET_PDEATHSIG, and at once if we died before that was set),
 * gets its standard descriptors, its process group, the default action for
 * the signals that should stop it and none blocked, then the program.  An
 * exec that fails writes its errno to report_fd.
 */
static void child_start(pid_t parent, const char *prog, char *const argv[], char *const envp[],
                        const int fds_in[3], bool own_group, int report_fd)
{
    static const int defaults[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD};
    int fds[3] = {fds_in[0], fds_in[1], fds_in[2]};
    sigset_t none;
    int err;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    if (own_group)
        setpgid(0, 0);
    /* A source that is itself one of 0..2 moves out of the way first. */
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && fds[i] < 3 && fds[i] != i)
            fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    for (int i = 0; i < 3; i++) {
        int fd = fds[i];
        if (fd < 0 && (fd = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY)) < 0)
            goto fail;
        if (fd == i)
            fcntl(fd, F_SETFD, 0); /* dup2 onto itself would keep FD_CLOEXEC */
        else if (dup2(fd, i) < 0)
            goto fail;
        if (fds[i] < 0 && fd != i)
            close(fd);
    }
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        signal(defaults[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(prog, argv, envp);
fail:
    err = errno;
    if (write(report_fd, &err, sizeof(err)) < 0)
        _exit(127);
    _exit(127);
}

int proc_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
               int err_fd, bool own_group, int code, const char *hint, pid_t *pid, struct err *e)
{
    const int fds[3] = {in_fd, out_fd, err_fd};
    char *prog = resolve_program(path);
    int rp[2] = {-1, -1};
    sigset_t all, old;
    pid_t parent = getpid();
    int rc = 0, child_errno = 0;

    *pid = -1;
    if (prog == NULL) {
        rc = err_set(e, code, "cannot run '%s'%s: %s", path, hint != NULL ? hint : "",
                     strerror(ENOENT));
        goto cleanup;
    }
    if (pipe2(rp, O_CLOEXEC) != 0) {
        rc = err_set(e, code, "cannot run '%s'%s: %s", path, hint != NULL ? hint : "",
                     strerror(errno));
        goto cleanup;
    }
    /* No handler of ours may run in the child before exec resets them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    *pid = fork();
    if (*pid == 0)
        child_start(parent, prog, argv, envp, fds, own_group, rp[1]);
    child_errno = *pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(rp[1]);
    rp[1] = -1;
    if (*pid > 0) {
        ssize_t n;
        while ((n = read(rp[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)sizeof(child_errno)) {
            child_errno = 0; /* end of file: the exec happened */
        } else {
            int status;
            proc_wait(*pid, &status);
            *pid = -1;
        }
    } else {
        *pid = -1;
    }
    if (child_errno != 0)
        rc = err_set(e, code, "cannot run '%s'%s: %s", path, hint != NULL ? hint : "",
                     strerror(child_errno));

cleanup:
    for (int i = 0; i < 2; i++)
        if (rp[i] >= 0)
            close(rp[i]);
    free(prog);
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
