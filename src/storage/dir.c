/*
 * dir — a directory store (see dir.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/hash.h"
#include "common/util.h"
#include "storage/dir.h"

int storage_dir_put(const char *dir, const char *const src[], const char *const name[], int n,
                    const char *expect_sha, int64_t expect_size, char **dst, struct err *e)
{
    char **tmp = xcalloc((size_t)n + 1, sizeof(*tmp));
    char got[HASH_SHA256_HEX];
    uint64_t size = 0;
    int rc = 0;

    *dst = NULL;
    for (int i = 0; i < n && rc == 0; i++) {
        tmp[i] = xasprintf("%s/.%s.tmp.%ld", dir, name[i], (long)getpid());
        unlink(tmp[i]); /* a leftover of a run of ours with this pid */
        rc = file_copy(src[i], tmp[i], ERR_BACKUP, e);
    }
    if (rc == 0 && n > 0 && hash_sha256_file(tmp[0], got, &size) < 0)
        rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", tmp[0], strerror(errno));
    if (rc == 0 && n > 0 && (strcmp(got, expect_sha) != 0 || (int64_t)size != expect_size))
        rc = err_set(e, ERR_BACKUP,
                     "the copy '%s/%s' does not match its original (SHA-256 %.12s..., expected "
                     "%.12s...)",
                     dir, name[0], got, expect_sha);
    /* Sidecars first, the data file last: a final-named copy is complete. */
    for (int i = n - 1; i >= 0 && rc == 0; i--) {
        char *final = xasprintf("%s/%s", dir, name[i]);
        if (rename(tmp[i], final) != 0)
            rc = err_set(e, ERR_BACKUP, "cannot rename '%s' to '%s': %s", tmp[i], final,
                         strerror(errno));
        else {
            free(tmp[i]);
            tmp[i] = NULL;
        }
        if (rc == 0 && i == 0)
            *dst = final;
        else
            free(final);
    }
    if (rc == 0)
        rc = file_fsync_dir(dir, ERR_BACKUP, e);
    if (rc < 0) {
        free(*dst);
        *dst = NULL;
    }
    for (int i = 0; i < n; i++) {
        if (tmp[i] != NULL)
            unlink(tmp[i]);
        free(tmp[i]);
    }
    free(tmp);
    return rc;
}

bool storage_dir_has(const char *dir, const char *name, int64_t size)
{
    char *p = xasprintf("%s/%s", dir, name);
    struct stat sb;
    bool ok = stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (int64_t)sb.st_size == size;

    free(p);
    return ok;
}
