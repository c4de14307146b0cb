/*
 * rotate_test — rotation keeps the newest N per tier by the name's
 * timestamp (not by file age), never the protected file, only matching
 * names; the lock excludes a second holder and names the first
 * (src/backup/rotate.c, lock.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/time.h>

#include "backup/files.h"
#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/rotate.h"
#include "testutil.h"

static char *mkbackup(const char *dir, const char *tier, int day, time_t mtime)
{
    char *p = xasprintf("%s/%s/citaplanner_%s_202501%02d_020000.sql.gz", dir, tier, tier, day);
    char *s = xasprintf("%s.sha256", p);
    char *j = xasprintf("%s.json", p);
    struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};

    tu_write(p, "data");
    tu_write(s, "sum");
    tu_write(j, "{}");
    /* Older names get newer mtimes: rotation must not look at them. */
    utimes(p, tv);
    free(s);
    free(j);
    return p;
}

static bool backup_exists(const char *p)
{
    char *s = xasprintf("%s.sha256", p);
    char *j = xasprintf("%s.json", p);
    bool all = tu_exists(p) && tu_exists(s) && tu_exists(j);
    bool none = !tu_exists(p) && !tu_exists(s) && !tu_exists(j);
    free(s);
    free(j);
    assert_true(all || none); /* a backup goes with its sidecars */
    return all;
}

static void test_keep_newest_by_name(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *daily[11] = {0}, *weekly[4] = {0};
    int keep[BACKUP_TIER_COUNT] = {3, 2, 6, 3, 3};
    struct backup_list v;
    struct err e;

    err_clear(&e);
    assert_int_equal(backup_dir_prepare(dir, &e), 0);
    for (int d = 1; d <= 10; d++)
        daily[d] = mkbackup(dir, "daily", d, 2000000000 - d * 1000);
    for (int w = 1; w <= 3; w++)
        weekly[w] = mkbackup(dir, "weekly", w * 7, 1000000000);
    char *notes = xasprintf("%s/daily/notes.txt", dir);
    char *odd = xasprintf("%s/daily/citaplanner_daily_20240101_020000.sql.gz.bak", dir);
    char *other = xasprintf("%s/daily/citaplanner_weekly_20240101_020000.sql.gz", dir);
    tu_write(notes, "mine");
    tu_write(odd, "mine");
    tu_write(other, "mine");

    /* A dry run reports, deletes nothing. */
    assert_int_equal(backup_rotate(dir, keep, NULL, 0, true, &v, &e), 0);
    assert_int_equal(v.count, 7 + 1);
    backup_list_release(&v);
    for (int d = 1; d <= 10; d++)
        assert_true(backup_exists(daily[d]));

    /* day 2 is protected (the file just written, say). */
    const char *protect[] = {daily[2]};
    assert_int_equal(backup_rotate(dir, keep, protect, 1, false, &v, &e), 0);
    assert_int_equal(v.count, 6 + 1);
    backup_list_release(&v);
    for (int d = 1; d <= 10; d++)
        assert_int_equal(backup_exists(daily[d]), d >= 8 || d == 2);
    assert_false(backup_exists(weekly[1]));
    assert_true(backup_exists(weekly[2]));
    assert_true(backup_exists(weekly[3]));
    assert_true(tu_exists(notes));
    assert_true(tu_exists(odd));
    assert_true(tu_exists(other));

    /* Nothing more to do. */
    assert_int_equal(backup_rotate(dir, keep, protect, 1, false, &v, &e), 0);
    assert_int_equal(v.count, 0);
    backup_list_release(&v);

    for (int d = 1; d <= 10; d++)
        free(daily[d]);
    for (int w = 1; w <= 3; w++)
        free(weekly[w]);
    free(notes);
    free(odd);
    free(other);
    tu_rmdir(dir);
}

static void test_keep_from_config(void **state)
{
    (void)state;
    struct config c;
    int keep[BACKUP_TIER_COUNT];

    config_init(&c);
    backup_keep_from_config(&c, keep);
    assert_int_equal(keep[BACKUP_DAILY], 7);
    assert_int_equal(keep[BACKUP_WEEKLY], 4);
    assert_int_equal(keep[BACKUP_MONTHLY], 6);
    assert_int_equal(keep[BACKUP_PREMIGRATE], 3);
    assert_int_equal(keep[BACKUP_PRERESTORE], 3);
    config_release(&c);
}

static void test_lock(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct backup_lock *a = NULL, *b = NULL;
    struct err e;
    char want[64];

    err_clear(&e);
    assert_int_equal(backup_lock_acquire(dir, &a, &e), 0);
    assert_non_null(a);
    /* flock locks belong to the open file description: a second open in the
     * same process is refused just as another process would be. */
    assert_int_equal(backup_lock_acquire(dir, &b, &e), -ERR_LOCKED);
    assert_null(b);
    snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
    assert_non_null(strstr(e.msg, want));
    assert_non_null(strstr(e.msg, "another backup or restore is running"));
    backup_lock_release(a);
    assert_int_equal(backup_lock_acquire(dir, &b, &e), 0);
    backup_lock_release(b);
    backup_lock_release(NULL);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_newest_by_name),
        cmocka_unit_test(test_keep_from_config),
        cmocka_unit_test(test_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
