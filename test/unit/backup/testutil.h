/*
 * testutil — small helpers the backup unit tests share: a scratch directory
 * removed afterwards, writing and reading whole files.
 */
#ifndef CITAPLANNER_TEST_BACKUP_UTIL_H
#define CITAPLANNER_TEST_BACKUP_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static int tu_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A new empty directory under TMPDIR (caller frees the name, tu_rmdir removes it). */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *t = xasprintf("%s/citaplanner-bak-test.XXXXXX", base);

    if (mkdtemp(t) == NULL)
        abort();
    return t;
}

static inline void tu_rmdir(char *dir)
{
    if (dir != NULL)
        nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static inline void tu_write(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        abort();
    fputs(content, f);
    fclose(f);
}

static inline int tu_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* The whole file as a string (caller frees); NULL when unreadable. */
static inline char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char tmp[65536];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_add(&b, tmp, n);
    fclose(f);
    if (len != NULL)
        *len = b.len;
    if (b.data == NULL)
        return xstrdup("");
    return buf_detach(&b);
}

#endif
