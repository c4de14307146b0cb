/*
 * testutil — what the backup unit tests share: the helpers of all unit tests
 * (../testutil.h: scratch directories and files, databases) and reading a
 * gzip file back.  Inline, like the file helpers, so that a test may use
 * them without linking the testutil library.
 */
#ifndef CITAPLANNER_TEST_BACKUP_UTIL_H
#define CITAPLANNER_TEST_BACKUP_UTIL_H

#include <zlib.h>

#include "../testutil.h"

/*
 * The content of a (multi-member) gzip file, decompressed by zlib (caller
 * frees; *len its length).  Fails the test unless the whole file reads back
 * cleanly.
 */
static inline unsigned char *tu_gunzip(const char *path, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    struct buf b = BUF_INIT;
    char tmp[65536];
    int n;
    int errnum = 0;

    assert_non_null(gz);
    while ((n = gzread(gz, tmp, sizeof(tmp))) > 0)
        buf_add(&b, tmp, (size_t)n);
    assert_int_equal(n, 0);
    gzerror(gz, &errnum);
    assert_int_equal(errnum, Z_OK);
    gzclose(gz);
    *len = b.len;
    return b.data ? (unsigned char *)buf_detach(&b) : (unsigned char *)xstrdup("");
}

#endif
