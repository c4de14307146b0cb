/*
 * Starting a child program (pg_dump, psql, age) the same way everywhere:
 * its three standard descriptors wired to the caller's fds or /dev/null,
 * a clean signal state, optionally its own process group.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>

#include "backup/backup_internal.h"

int backup_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd,
                 int err_fd, bool own_group, const char *hint, pid_t *pid, struct err *e)
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
        rc = err_set(e, ERR_BACKUP, "cannot run '%s'%s: %s", path, hint != NULL ? hint : "",
                     strerror(sr));
    }
    return rc;
}
