/*
 * dir — a directory store (see dir.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/hash.h"
#include "common/util.h"
#include "storage/dir.h"

/* fsync a file written by someone else (a source taken over by rename). */
static int fsync_path(const char *path, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0 || fsync(fd) != 0)
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot fsync '%s': %s", path,
                     strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* src under the temporary name tmp: renamed when move allows, else copied.  *moved: which. */
static int stage(const char *src, const char *tmp, bool move, bool *moved, struct err *e)
{
    int rc;

    *moved = false;
    if (move && (strcmp(src, tmp) == 0 || rename(src, tmp) == 0))
        *moved = true;
    else if (move && errno != EXDEV)
        return err_set(e, ERR_BACKUP, "cannot rename '%s' to '%s': %s", src, tmp, strerror(errno));
    if (*moved) {
        rc = fsync_path(tmp, e);
    } else {
        unlink(tmp); /* a leftover of a run of ours with this pid */
        rc = file_copy(src, tmp, ERR_BACKUP, e);
    }
    if (rc < 0)
        return rc;
    if (chmod(tmp, 0600) != 0)
        return err_set(e, ERR_BACKUP, "cannot set the mode of '%s': %s", tmp, strerror(errno));
    return 0;
}

/* Is the staged data file what its writer made?  A copy is re-read; a renamed file, its size. */
static int check_data(const char *dir, const char *name, const char *tmp, bool moved,
                      const char *expect_sha, int64_t expect_size, struct err *e)
{
    char got[HASH_SHA256_HEX];
    uint64_t size = 0;
    struct stat sb;

    if (moved) {
        if (stat(tmp, &sb) != 0)
            return err_set(e, ERR_BACKUP, "cannot read '%s': %s", tmp, strerror(errno));
        if ((int64_t)sb.st_size != expect_size)
            return err_set(e, ERR_BACKUP, "'%s/%s' has %lld bytes, expected %lld", dir, name,
                           (long long)sb.st_size, (long long)expect_size);
        return 0;
    }
    if (hash_sha256_file(tmp, got, &size) < 0)
        return err_set(e, ERR_BACKUP, "cannot read '%s': %s", tmp, strerror(errno));
    if (strcmp(got, expect_sha) != 0 || (int64_t)size != expect_size)
        return err_set(e, ERR_BACKUP,
                       "the copy '%s/%s' does not match its original (SHA-256 %.12s..., expected "
                       "%.12s...)",
                       dir, name, got, expect_sha);
    return 0;
}

static int dir_put(const char *dir, const char *const src[], const char *const name[], int n,
                   unsigned flags, const char *expect_sha, int64_t expect_size, char **dst,
                   struct err *e)
{
    char **tmp = xcalloc((size_t)n + 1, sizeof(*tmp));
    char **final = xcalloc((size_t)n + 1, sizeof(*final));
    bool *placed = xcalloc((size_t)n + 1, sizeof(*placed));
    bool moved0 = false;
    int rc = 0;

    *dst = NULL;
    for (int i = 0; i < n && rc == 0; i++) {
        bool moved;
        tmp[i] = xasprintf("%s/.%s.tmp.%ld", dir, name[i], (long)getpid());
        final[i] = xasprintf("%s/%s", dir, name[i]);
        rc = stage(src[i], tmp[i], (flags & STORAGE_PUT_MOVE) != 0, &moved, e);
        if (i == 0)
            moved0 = moved;
    }
    if (rc == 0 && n > 0)
        rc = check_data(dir, name[0], tmp[0], moved0, expect_sha, expect_size, e);
    /* Sidecars first, the data file last: a final-named data file is complete. */
    for (int i = n - 1; i >= 0 && rc == 0; i--) {
        if (rename(tmp[i], final[i]) != 0)
            rc = err_set(e, ERR_BACKUP, "cannot rename '%s' to '%s': %s", tmp[i], final[i],
                         strerror(errno));
        else
            placed[i] = true;
    }
    if (rc == 0)
        rc = file_fsync_dir(dir, ERR_BACKUP, e);
    if (rc == 0 && n > 0)
        *dst = xstrdup(final[0]);
    for (int i = 0; i < n; i++) {
        /* Sidecars in place but not their data file: they go too. */
        if (rc < 0 && i > 0 && placed[i] && !placed[0])
            unlink(final[i]);
        if (tmp[i] != NULL && !placed[i])
            unlink(tmp[i]);
        free(tmp[i]);
        free(final[i]);
    }
    free(tmp);
    free(final);
    free(placed);
    return rc;
}

int storage_dir_put(const char *dir, const char *const src[], const char *const name[], int n,
                    const char *expect_sha, int64_t expect_size, char **dst, struct err *e)
{
    return dir_put(dir, src, name, n, 0, expect_sha, expect_size, dst, e);
}

bool storage_dir_has(const char *dir, const char *name, int64_t size)
{
    char *p = xasprintf("%s/%s", dir, name);
    struct stat sb;
    bool ok = stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (int64_t)sb.st_size == size;

    free(p);
    return ok;
}

/* ---- the store ---- */

struct dir_store {
    char *root;
};

/* The directory part of name ("daily" of "daily/x.gz"; "" at the root).  Caller frees. */
static char *name_dir(const char *name)
{
    const char *sl = strrchr(name, '/');

    return sl != NULL ? xstrndup(name, (size_t)(sl - name)) : xstrdup("");
}

static int ds_put(void *impl, const char *const src[], const char *const name[], int n,
                  unsigned flags, const char *expect_sha, int64_t expect_size, char **where,
                  struct err *e)
{
    struct dir_store *d = impl;
    char *sub = n > 0 ? name_dir(name[0]) : xstrdup("");
    char *dir = sub[0] != '\0' ? xasprintf("%s/%s", d->root, sub) : xstrdup(d->root);
    const char **base = xcalloc((size_t)n + 1, sizeof(*base));
    int rc = 0;

    for (int i = 0; i < n && rc == 0; i++) {
        char *s = name_dir(name[i]);
        if (strcmp(s, sub) != 0)
            rc = err_set(e, ERR_INTERNAL, "'%s' and '%s' are not in one directory", name[0],
                         name[i]);
        base[i] = name[i] + strlen(sub) + (sub[0] != '\0');
        free(s);
    }
    if (rc == 0)
        rc = dir_put(dir, src, base, n, flags, expect_sha, expect_size, where, e);
    free(base);
    free(dir);
    free(sub);
    return rc;
}

static int ds_has(void *impl, const char *name, int64_t size)
{
    struct dir_store *d = impl;

    return storage_dir_has(d->root, name, size) ? 1 : 0;
}

static int ds_get(void *impl, const char *name, int fd, char sha[65], uint64_t *bytes,
                  struct err *e)
{
    struct dir_store *d = impl;
    char *p = xasprintf("%s/%s", d->root, name);
    struct hash_sha256 *h = hash_sha256_new();
    char *buf = xmalloc(1 << 16);
    uint64_t total = 0;
    int in = open(p, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (in < 0)
        rc = err_set(e, ERR_BACKUP, "cannot open '%s': %s", p, strerror(errno));
    while (rc == 0) {
        ssize_t r = read(in, buf, 1 << 16);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", p, strerror(errno));
        if (r <= 0)
            break;
        hash_sha256_update(h, buf, (size_t)r);
        total += (uint64_t)r;
        for (ssize_t off = 0; fd >= 0 && off < r && rc == 0;) {
            ssize_t w = write(fd, buf + off, (size_t)(r - off));
            if (w < 0 && errno != EINTR)
                rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP,
                             "cannot write the copy of '%s': %s", p, strerror(errno));
            off += w > 0 ? w : 0;
        }
    }
    if (rc == 0) {
        hash_sha256_final_hex(h, sha);
        if (bytes != NULL)
            *bytes = total;
    }
    if (in >= 0)
        close(in);
    hash_sha256_free(h);
    free(buf);
    free(p);
    return rc;
}

static int ds_remove(void *impl, const char *name, struct err *e)
{
    struct dir_store *d = impl;
    char *p = xasprintf("%s/%s", d->root, name);
    int rc = 0;

    if (unlink(p) != 0 && errno != ENOENT)
        rc = err_set(e, ERR_BACKUP, "cannot delete '%s': %s", p, strerror(errno));
    free(p);
    return rc;
}

struct names {
    char **v;
    int n, cap;
};

/* Add the files under root/rel (rel "" or "a/b/") that begin with prefix; dot names skipped. */
static int walk(const char *root, const char *rel, const char *prefix, struct names *out,
                struct err *e)
{
    char *path = rel[0] != '\0' ? xasprintf("%s/%s", root, rel) : xstrdup(root);
    DIR *dh = opendir(path);
    struct dirent *de;
    int rc = 0;

    if (dh == NULL) {
        if (errno != ENOENT || rel[0] == '\0')
            rc = err_set(e, ERR_BACKUP, "cannot list '%s': %s", path, strerror(errno));
        free(path);
        return rc;
    }
    while (rc == 0 && (de = readdir(dh)) != NULL) {
        char *name, *full;
        struct stat sb;
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and the temporary copies */
        name = xasprintf("%s%s", rel, de->d_name);
        full = xasprintf("%s/%s", root, name);
        if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            char *sub = xasprintf("%s/", name);
            size_t k = strlen(sub) < strlen(prefix) ? strlen(sub) : strlen(prefix);
            if (strncmp(sub, prefix, k) == 0) /* only where the prefix can lead */
                rc = walk(root, sub, prefix, out, e);
            free(sub);
        } else if (S_ISREG(sb.st_mode) && strncmp(name, prefix, strlen(prefix)) == 0) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->v = xrealloc(out->v, sizeof(*out->v) * (size_t)out->cap);
            }
            out->v[out->n++] = name;
            name = NULL;
        }
        free(name);
        free(full);
    }
    closedir(dh);
    free(path);
    return rc;
}

static int ds_list(void *impl, const char *prefix, char ***names, int *n, struct err *e)
{
    struct dir_store *d = impl;
    struct names out = {0};
    int rc = walk(d->root, "", prefix, &out, e);

    if (rc < 0) {
        storage_list_free(out.v, out.n);
        return rc;
    }
    *names = out.v;
    *n = out.n;
    return 0;
}

static void ds_close(void *impl)
{
    struct dir_store *d = impl;

    free(d->root);
    free(d);
}

static const struct storage_store_ops dir_ops = {
    .put = ds_put,
    .has = ds_has,
    .get = ds_get,
    .remove = ds_remove,
    .list = ds_list,
    .close = ds_close,
};

int storage_dir_store_open(const struct storage_dir_options *o, struct storage_store **out,
                           struct err *e)
{
    struct dir_store *d;

    *out = NULL;
    if (o->root == NULL || o->root[0] == '\0')
        return err_set(e, ERR_CONFIG, "the directory of a store is empty");
    d = xcalloc(1, sizeof(*d));
    d->root = xstrdup(o->root);
    *out = storage_store_new(&dir_ops, d, d->root);
    return 0;
}
