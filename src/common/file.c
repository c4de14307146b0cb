/*
 * file — atomic replacement of a small file (see file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/util.h"

static int io_fail(struct err *e, int code, int errnum, const char *what, const char *path)
{
    if (errnum == ENOSPC || errnum == EDQUOT)
        code = ERR_NO_SPACE;
    return err_set(e, code, "cannot %s '%s': %s", what, path, strerror(errnum));
}

int file_fsync_dir(const char *dir, int code, struct err *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return err_set(e, code, "cannot open directory '%s': %s", dir, strerror(errno));
    if (fsync(fd) != 0)
        rc = io_fail(e, code, errno, "fsync directory", dir);
    close(fd);
    return rc;
}

/* file_write_atomic's work; replace false: link() instead of rename(), 1 when path existed. */
static int write_then_place(const char *path, const void *data, size_t n, mode_t mode, bool replace,
                            int code, struct err *e)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash != NULL ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    char *tmp = xasprintf("%s/.%s.tmp.%ld", dir, slash != NULL ? slash + 1 : path, (long)getpid());
    const char *c = data;
    int fd = -1, rc = 0;

    if (dir[0] == '\0') {
        free(dir);
        dir = xstrdup("/");
    }
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = io_fail(e, code, errno, "create", tmp);
        goto cleanup;
    }
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = io_fail(e, code, errno, "write", tmp);
            goto cleanup;
        }
        c += w;
        n -= (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        rc = io_fail(e, code, errno, "write", tmp);
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = io_fail(e, code, errno, "write", tmp);
        goto cleanup;
    }
    fd = -1;
    if (!replace && link(tmp, path) != 0) {
        if (errno == EEXIST)
            rc = 1; /* another process made it first: theirs stays */
        else
            rc = err_set(e, code, "cannot create '%s': %s", path, strerror(errno));
        unlink(tmp);
        if (rc < 0)
            goto cleanup;
    } else if (!replace)
        unlink(tmp);
    if (replace && rename(tmp, path) != 0) {
        rc = err_set(e, code, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto cleanup;
    }
    if (rc == 0)
        rc = file_fsync_dir(dir, code, e);

cleanup:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    free(dir);
    return rc;
}

int file_write_atomic(const char *path, const void *data, size_t n, mode_t mode, int code,
                      struct err *e)
{
    return write_then_place(path, data, n, mode, true, code, e);
}

int file_create_atomic(const char *path, const void *data, size_t n, mode_t mode, int code,
                       struct err *e)
{
    return write_then_place(path, data, n, mode, false, code, e);
}

int file_copy(const char *src, const char *dst, int code, struct err *e)
{
    enum { CHUNK = 1 << 20 };
    char *buf = NULL;
    int in = -1, out = -1;
    int rc = 0;

    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = err_set(e, code, "cannot open '%s': %s", src, strerror(errno));
        goto cleanup;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = io_fail(e, code, errno, "create", dst);
        goto cleanup;
    }
    buf = xmalloc(CHUNK);
    for (;;) {
        ssize_t n = read(in, buf, CHUNK), off = 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(e, code, "cannot read '%s': %s", src, strerror(errno));
            goto cleanup;
        }
        if (n == 0)
            break;
        while (off < n) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = io_fail(e, code, errno, "write", dst);
                goto cleanup;
            }
            off += w;
        }
    }
    if (fsync(out) != 0)
        rc = io_fail(e, code, errno, "fsync", dst);

cleanup:
    free(buf);
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == 0)
        rc = io_fail(e, code, errno, "write", dst);
    if (rc < 0 && out >= 0)
        unlink(dst);
    return rc;
}
