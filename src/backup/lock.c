/*
 * lock — BACKUP_DIR/.lock, the exclusive lock of backups, restores and
 * pruning.  See lock.h.
 *
 * flock(2) rather than a pid file: the kernel drops the lock when its holder
 * dies (kill -9 included), so a crash never leaves a stale lock behind.  The
 * pid inside is only for the message.  The descriptor is close-on-exec, so
 * that pg_dump cannot inherit (and outlive us holding) the lock.
 */
#include "backup/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "backup/files.h"
#include "common/util.h"

struct backup_lock {
    int fd;
};

/* The holder's pid from the file, 0 when unreadable (it may be writing it now). */
static long read_holder(int fd)
{
    char buf[32];
    ssize_t n;
    long pid = 0;

    for (int tries = 0; tries < 20 && pid == 0; tries++) {
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            pid = strtol(buf, NULL, 10);
        }
        if (pid == 0) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return pid;
}

int backup_lock_acquire(const char *dir, struct backup_lock **out, struct err *e)
{
    char *path = xasprintf("%s/.lock", dir);
    char line[32];
    int fd = -1;
    int rc = 0;
    int n;

    *out = NULL;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, errno == ENOSPC || errno == EDQUOT ? ERR_NO_SPACE : ERR_BACKUP,
                     "cannot open the lock file '%s': %s", path,
                     errno == ENOSPC ? backup_enospc_why(path) : strerror(errno));
        goto cleanup;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK) {
            long pid = read_holder(fd);
            if (pid > 0)
                rc = err_set(e, ERR_LOCKED, "another backup or restore is running (pid %ld)", pid);
            else
                rc = err_set(e, ERR_LOCKED,
                             "another backup or restore is running (lock '%s' is held)", path);
        } else {
            rc = err_set(e, ERR_BACKUP, "cannot lock '%s': %s", path, strerror(errno));
        }
        goto cleanup;
    }
    n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP,
                     "cannot write the lock file '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    *out = xcalloc(1, sizeof(**out));
    (*out)->fd = fd;
    fd = -1;

cleanup:
    if (fd >= 0)
        close(fd); /* drops the lock too, if it was taken */
    free(path);
    return rc;
}

void backup_lock_release(struct backup_lock *l)
{
    if (l == NULL)
        return;
    /* Empty the pid first: a reader never names a process that no longer holds it. */
    if (ftruncate(l->fd, 0) != 0) {
        /* Harmless: the next holder rewrites it. */
    }
    close(l->fd);
    free(l);
}
