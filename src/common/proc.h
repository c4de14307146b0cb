/*
 * proc — running a child program the one way (pg_dump, psql, age, an alert
 * command, a tool's --version): spawned with an environment we build (never
 * all of ours: it holds DATABASE_URL and SESSION_SECRET), its standard
 * descriptors wired to pipes or /dev/null, its output pumped, a deadline,
 * reaped, and its exit status described in words.
 */
#ifndef CITAPLANNER_COMMON_PROC_H
#define CITAPLANNER_COMMON_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* ---- the child's environment ---- */

/* A NULL-terminated "KEY=VALUE" vector (v is never NULL after proc_env_init). */
struct proc_env {
    char **v;
    int n, cap;
};

/*
 * Start ev with the variables of our environment that keep() accepts
 * ("KEY=VALUE" given), or with none when keep is NULL.
 */
void proc_env_init(struct proc_env *ev, bool (*keep)(const char *kv));

/* Start ev with PATH (ours, or a default), and HOME, TZ and LANG when we have them. */
void proc_env_minimal(struct proc_env *ev);

/* Set (replacing) or remove a variable.  value NULL sets "". */
void proc_env_set(struct proc_env *ev, const char *key, const char *value);
void proc_env_unset(struct proc_env *ev, const char *key);
void proc_env_release(struct proc_env *ev);

/* ---- starting, waiting ---- */

/*
 * Start path with argv and envp (searched on our PATH when it has no '/'):
 * its stdin, stdout and stderr are in_fd, out_fd and err_fd (-1:
 * /dev/null), with no signal blocked and SIGPIPE, SIGTERM, SIGINT and SIGHUP
 * at their default action (we may run with them blocked or ignored);
 * own_group puts it in a process group of its own (a ^C on the terminal
 * reaches us, not it).  It dies with us: PR_SET_PDEATHSIG(SIGKILL), and it
 * never starts when we died before that was set, so a killed command leaves
 * no child behind (a psql fed a restore cannot commit after we died).  The
 * calling thread must outlive the child (the death signal follows the
 * thread): every caller waits for its child.  The fds stay the caller's to
 * close.  *pid is set (-1 on failure); the error is code "cannot run
 * 'PATH'HINT: why" (hint may be NULL).
 */
int proc_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
               int err_fd, bool own_group, int code, const char *hint, pid_t *pid, struct err *e);

/* waitpid through EINTR.  0, or -1 with errno. */
int proc_wait(pid_t pid, int *status);

/*
 * Wait until the monotonic time deadline (time_mono()); past it the child
 * is killed (SIGKILL) and reaped.  Returns 0 (exited), 1 (killed at the
 * deadline) or -1 with errno.
 */
int proc_wait_until(pid_t pid, double deadline, int *status);

/* Send sig (when pid > 0) and reap it.  Accepts pid <= 0 (no-op). */
void proc_kill_wait(pid_t pid, int sig);

/* Did it exit with status 0? */
bool proc_status_ok(int status);

/* "exit status 1" / "killed by signal 9" into out; returns out. */
#define PROC_STATUS_MAX 48
const char *proc_status_describe(int status, char out[PROC_STATUS_MAX]);

/* ---- reading its output ---- */

/* A child's output kept up to a bound (the rest read and dropped). */
#define PROC_OUTPUT_MAX 2048
struct proc_output {
    char buf[PROC_OUTPUT_MAX + 1];
    size_t len;
};

/*
 * One read of *fd into o (call when poll says it is readable).  Returns 1
 * when bytes came, -1 on EINTR/EAGAIN (nothing happened), 0 at end of
 * file or a read error: *fd is then closed and set to -1.  o->buf stays
 * NUL-ended (o starts zeroed).
 */
int proc_output_read(int *fd, struct proc_output *o);

/* Read *fd to its end (waiting up to a second at a time) into o, then close it (*fd = -1). */
void proc_output_drain(int *fd, struct proc_output *o);

/* The first lines of s (up to four), joined with " | ", into out. */
void proc_first_lines(const char *s, char *out, size_t n);

/* All of s on one line (newlines as spaces, trailing spaces cut), into out. */
void proc_one_line(const char *s, char *out, size_t n);

/*
 * Run path with argv and envp, stdin and stderr /dev/null, until it exits or
 * timeout_s passes (then killed); its stdout (bounded) into out.  Returns 0
 * when it ran (*status its wait status), or -1 (could not start, killed at
 * the deadline).
 */
int proc_run_output(const char *path, char *const argv[], char *const envp[], double timeout_s,
                    struct proc_output *out, int *status);

#endif
