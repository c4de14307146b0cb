/*
 * sqlite_wal_test — wal_gz_frames writes only frames that follow the chain
 * it is given: a real SQLite WAL is copied whole, and a copy of it whose
 * frame changed (as when a writer restarts the log under the archiver) is
 * refused naming that frame, with nothing left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>

#include "archive/sqlite_wal.h"
#include "testutil.h"

struct fixture {
    char *dir, *wal;
    sqlite3 *db; /* kept open: the WAL stays */
    struct wal_hdr h;
    uint64_t end; /* frames up to the last commit */
    uint32_t e0, e1;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char *path;
    unsigned char hb[WAL_HDR];
    int fd;

    f->dir = tu_mkdtemp();
    path = xasprintf("%s/app.db", f->dir);
    f->wal = xasprintf("%s-wal", path);
    assert_int_equal(sqlite3_open(path, &f->db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(f->db,
                                  "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
                                  "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 20; i++) {
        char *sql = sqlite3_mprintf("INSERT INTO t(v) VALUES('row %d %0300d')", i, i);
        assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(sql);
    }
    fd = open(f->wal, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, hb, WAL_HDR, 0), WAL_HDR);
    assert_int_equal(wal_hdr_parse(hb, WAL_HDR, &f->h), 0);
    {
        size_t fsz = WAL_FRAME_HDR + f->h.pagesize;
        unsigned char *fr = xmalloc(fsz);
        uint32_t c0 = f->h.ck0, c1 = f->h.ck1, commit;
        for (uint64_t i = 0;
             pread(fd, fr, fsz, (off_t)wal_frame_offset(f->h.pagesize, i)) == (ssize_t)fsz &&
             wal_frame_check(&f->h, fr, &c0, &c1, &commit);
             i++) {
            if (commit != 0) {
                f->end = i + 1;
                f->e0 = c0;
                f->e1 = c1;
            }
        }
        free(fr);
    }
    close(fd);
    assert_true(f->end >= 20);
    free(path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    sqlite3_close(f->db);
    tu_rmdir(f->dir);
    free(f->wal);
    free(f);
    return 0;
}

/* Files in dir other than the database's own. */
static int others(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            strncmp(de->d_name, "app.db", 6) != 0)
            n++;
    closedir(d);
    return n;
}

static void test_the_frames_are_copied_whole(void **state)
{
    struct fixture *f = *state;
    struct wal_chain ch = {.h = &f->h, .c0 = f->h.ck0, .c1 = f->h.ck1, .e0 = f->e0, .e1 = f->e1};
    char *gz = xasprintf("%s/seg.wal.gz", f->dir), *raw = xasprintf("%s/seg.raw", f->dir);
    char sha[HASH_SHA256_HEX];
    uint64_t size = 0, bad = 99, len = f->end * (WAL_FRAME_HDR + f->h.pagesize);
    int fd = open(f->wal, O_RDONLY);
    struct err e;
    char *want = xmalloc(len), *got;
    size_t n;

    err_clear(&e);
    assert_int_equal(wal_gz_frames(fd, 0, f->end, &ch, gz, NULL, sha, &size, &bad, &e), 0);
    assert_true(size > 0);
    assert_int_equal(bad, 99);
    assert_int_equal(wal_gz_extract(gz, raw, NULL, &e), 0);
    assert_int_equal(pread(fd, want, len, WAL_HDR), (ssize_t)len);
    got = tu_read(raw, &n);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
    close(fd);
    unlink(gz);
    unlink(raw);
    free(got);
    free(want);
    free(gz);
    free(raw);
}

static void test_a_frame_that_changed_under_the_copy_is_refused(void **state)
{
    struct fixture *f = *state;
    struct wal_chain ch = {.h = &f->h, .c0 = f->h.ck0, .c1 = f->h.ck1, .e0 = f->e0, .e1 = f->e1};
    char *copy = xasprintf("%s/copy-wal", f->dir), *gz = xasprintf("%s/seg.wal.gz", f->dir);
    char sha[HASH_SHA256_HEX];
    uint64_t size = 0, bad = 0;
    size_t n;
    char *b = tu_read(f->wal, &n);
    struct err e;
    int fd;

    /* Frame 5 now carries the next epoch's salt-1, as after a restart. */
    b[wal_frame_offset(f->h.pagesize, 5) + 11] ^= 1;
    fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
    fd = open(copy, O_RDONLY);
    err_clear(&e);
    assert_int_equal(wal_gz_frames(fd, 0, f->end, &ch, gz, NULL, sha, &size, &bad, &e), 1);
    assert_int_equal(bad, 5);
    assert_int_equal(access(gz, F_OK), -1);
    close(fd);
    unlink(copy);
    assert_int_equal(others(f->dir), 0);
    free(b);
    free(copy);
    free(gz);
}

static void test_a_chain_that_ends_elsewhere_is_refused(void **state)
{
    struct fixture *f = *state;
    struct wal_chain ch = {
        .h = &f->h, .c0 = f->h.ck0, .c1 = f->h.ck1, .e0 = f->e0 + 1, .e1 = f->e1};
    char *gz = xasprintf("%s/seg.wal.gz", f->dir);
    char sha[HASH_SHA256_HEX];
    uint64_t size = 0, bad = 0;
    int fd = open(f->wal, O_RDONLY);
    struct err e;

    err_clear(&e);
    assert_int_equal(wal_gz_frames(fd, 0, f->end, &ch, gz, NULL, sha, &size, &bad, &e), 1);
    assert_int_equal(bad, f->end);
    assert_int_equal(access(gz, F_OK), -1);
    assert_int_equal(others(f->dir), 0);
    close(fd);
    free(gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_frames_are_copied_whole),
        cmocka_unit_test(test_a_frame_that_changed_under_the_copy_is_refused),
        cmocka_unit_test(test_a_chain_that_ends_elsewhere_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
