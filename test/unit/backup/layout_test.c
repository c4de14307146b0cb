/*
 * layout_test — names, tiers, the clock aid, listing, directory creation and
 * removing what a crashed run left (src/backup/layout.c, files.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "backup/layout.h"
#include "backup/files.h"
#include "testutil.h"

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static time_t local(const char *s)
{
    time_t t = 0;
    assert_int_equal(backup_parse_local_time(s, &t), 0);
    return t;
}

static void test_name_round_trip(void **state)
{
    (void)state;
    set_tz("America/Mexico_City");
    time_t t = local("2025-01-09T02:00:00");
    for (int tier = 0; tier < BACKUP_TIER_COUNT; tier++) {
        for (int f = 0; f < 2; f++) {
            char name[BACKUP_NAME_MAX];
            enum backup_tier pt;
            enum backup_format pf;
            int64_t stamp = 0;
            backup_name_format(name, (enum backup_tier)tier, t, (enum backup_format)f);
            char *want = xasprintf("citaplanner_%s_20250109_020000%s",
                                   backup_tier_name((enum backup_tier)tier),
                                   f == BACKUP_FMT_SQL ? ".sql.gz" : ".sqlite.gz");
            assert_string_equal(name, want);
            free(want);
            assert_int_equal(backup_name_parse(name, &pt, &stamp, &pf), 0);
            assert_int_equal(pt, tier);
            assert_int_equal(pf, f);
            assert_int_equal(stamp, 20250109020000LL);
        }
    }
}

static void test_name_rejects_everything_else(void **state)
{
    (void)state;
    const char *bad[] = {
        "citaplanner_daily_20250109_020000.sql",
        "citaplanner_daily_20250109_020000.sql.gz.sha256",
        "citaplanner_daily_20250109_020000.sql.gz.json",
        "citaplanner_daily_20250109_020000.sql.gz~",
        "citaplanner_daily_20250109_020000.tar.gz",
        "citaplanner_hourly_20250109_020000.sql.gz",
        "citaplanner_daily_2025010_020000.sql.gz",
        "citaplanner_daily_20250230_020000.sql.gz", /* no 30 February */
        "citaplanner_daily_20250109_240000.sql.gz",
        "citaplanner_daily_20250109-020000.sql.gz",
        "citaplanner_daily_2025O109_020000.sql.gz",
        "xcitaplanner_daily_20250109_020000.sql.gz",
        ".citaplanner_daily_20250109_020000.sql.gz.tmp.42",
        "backup_20250109.log",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (backup_name_parse(bad[i], NULL, NULL, NULL) == 0)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(
        backup_name_parse("citaplanner_daily_20240229_235959.sqlite.gz", NULL, NULL, NULL), 0);
}

static void test_tiers_parse(void **state)
{
    (void)state;
    enum backup_tier t;
    assert_int_equal(backup_tier_parse("monthly", &t), 0);
    assert_int_equal(t, BACKUP_MONTHLY);
    assert_int_equal(backup_tier_parse("prerestore", &t), 0);
    assert_int_equal(t, BACKUP_PRERESTORE);
    assert_int_equal(backup_tier_parse("Daily", &t), -1);
    assert_int_equal(backup_tier_parse("auto", &t), -1);
    assert_int_equal(backup_tier_parse(NULL, &t), -1);
}

static void test_auto_tiers(void **state)
{
    (void)state;
    const unsigned D = 1u << BACKUP_DAILY, W = 1u << BACKUP_WEEKLY, M = 1u << BACKUP_MONTHLY;
    set_tz("UTC");
    /* 2025-01-09 Thursday, 2025-01-05 Sunday, 2025-02-01 Saturday the 1st,
     * 2025-06-01 Sunday the 1st. */
    assert_int_equal(backup_auto_tiers(local("2025-01-09T02:00:00"), 0, 1), D);
    assert_int_equal(backup_auto_tiers(local("2025-01-05T02:00:00"), 0, 1), D | W);
    assert_int_equal(backup_auto_tiers(local("2025-02-01T02:00:00"), 0, 1), D | M);
    assert_int_equal(backup_auto_tiers(local("2025-06-01T02:00:00"), 0, 1), D | W | M);
    /* Other days configured. */
    assert_int_equal(backup_auto_tiers(local("2025-01-09T02:00:00"), 4, 9), D | W | M);
    /* 31 means the last day in shorter months, and only then. */
    assert_int_equal(backup_auto_tiers(local("2025-02-28T02:00:00"), 0, 31), D | M);
    assert_int_equal(backup_auto_tiers(local("2024-02-28T02:00:00"), 0, 31), D);
    assert_int_equal(backup_auto_tiers(local("2024-02-29T02:00:00"), 0, 31), D | M);
    assert_int_equal(backup_auto_tiers(local("2025-01-30T02:00:00"), 0, 31), D);
    assert_int_equal(backup_auto_tiers(local("2025-01-31T02:00:00"), 0, 31), D | M);
    /* The weekday is the local one: Sunday 23:30 in Mexico City is Monday in UTC. */
    set_tz("America/Mexico_City");
    assert_int_equal(backup_auto_tiers(local("2025-01-05T23:30:00"), 0, 1), D | W);
    set_tz("UTC");
}

static void test_parse_local_time(void **state)
{
    (void)state;
    time_t t;
    set_tz("UTC");
    assert_int_equal(backup_parse_local_time("1970-01-02T00:00:01", &t), 0);
    assert_int_equal(t, 86401);
    const char *bad[] = {"2025-01-09 02:00:00",
                         "2025-01-09T02:00",
                         "2025-13-01T00:00:00",
                         "2025-02-29T00:00:00",
                         "2025-01-09T02:00:00Z",
                         "tomorrow",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (backup_parse_local_time(bad[i], &t) == 0)
            fail_msg("accepted '%s'", bad[i]);
    set_tz("America/Mexico_City");
    assert_int_equal(backup_parse_local_time("2025-01-09T02:00:00", &t), 0);
    assert_int_equal(t, 1736409600); /* 08:00 UTC */
    set_tz("UTC");
}

static void mk(const char *dir, const char *rel, const char *content)
{
    char *p = xasprintf("%s/%s", dir, rel);
    tu_write(p, content);
    free(p);
}

static void test_prepare_and_list(void **state)
{
    (void)state;
    char *root = tu_mkdtemp();
    char *dir = xasprintf("%s/not/yet/there", root);
    struct backup_list l;
    struct err e;
    struct stat sb;

    err_clear(&e);
    /* A missing directory lists as empty. */
    assert_int_equal(backup_list_load(dir, &l, &e), 0);
    assert_int_equal(l.count, 0);
    backup_list_release(&l);

    assert_int_equal(backup_dir_prepare(dir, &e), 0);
    for (int i = 0; backup_subdirs[i] != NULL; i++) {
        char *p = xasprintf("%s/%s", dir, backup_subdirs[i]);
        assert_int_equal(stat(p, &sb), 0);
        assert_true(S_ISDIR(sb.st_mode));
        assert_int_equal(sb.st_mode & 07777, 0700);
        free(p);
    }
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    /* Again: nothing to do, no error. */
    assert_int_equal(backup_dir_prepare(dir, &e), 0);

    mk(dir, "daily/citaplanner_daily_20250101_020000.sql.gz", "aaaa");
    mk(dir, "daily/citaplanner_daily_20250101_020000.sql.gz.sha256", "x");
    mk(dir, "daily/citaplanner_daily_20250103_020000.sql.gz", "bb");
    mk(dir, "daily/citaplanner_daily_20250103_020000.sql.gz.json", "{}");
    mk(dir, "daily/citaplanner_daily_20250102_020000.sqlite.gz", "c");
    mk(dir, "daily/citaplanner_weekly_20250105_020000.sql.gz", "wrong dir");
    mk(dir, "daily/notes.txt", "mine");
    mk(dir, "weekly/citaplanner_weekly_20250105_020000.sql.gz", "w");
    mk(dir, "monthly/citaplanner_monthly_20250103_020000.sql.gz", "m");
    assert_int_equal(backup_list_load(dir, &l, &e), 0);
    assert_int_equal(l.count, 5);
    /* Newest first; equal stamps by tier. */
    assert_string_equal(l.items[0].name, "citaplanner_weekly_20250105_020000.sql.gz");
    assert_string_equal(l.items[1].name, "citaplanner_daily_20250103_020000.sql.gz");
    assert_string_equal(l.items[2].name, "citaplanner_monthly_20250103_020000.sql.gz");
    assert_string_equal(l.items[3].name, "citaplanner_daily_20250102_020000.sqlite.gz");
    assert_string_equal(l.items[4].name, "citaplanner_daily_20250101_020000.sql.gz");
    assert_int_equal(l.items[1].size, 2);
    assert_false(l.items[1].has_sha256);
    assert_true(l.items[1].has_manifest);
    assert_true(l.items[4].has_sha256);
    assert_false(l.items[4].has_manifest);
    assert_int_equal(l.items[3].format, BACKUP_FMT_SQLITE);
    assert_int_equal(l.items[0].tier, BACKUP_WEEKLY);
    backup_list_release(&l);

    /* A file where a directory should be. */
    char *clash = xasprintf("%s/clash", root);
    tu_write(clash, "file");
    assert_int_equal(backup_dir_prepare(clash, &e), -ERR_BACKUP);
    assert_non_null(strstr(e.msg, "clash"));
    free(clash);

    free(dir);
    tu_rmdir(root);
}

/* A pid that is certainly dead: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

static void test_cleanup_stale(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct err e;
    long dead = dead_pid();
    int removed = -1;

    err_clear(&e);
    assert_int_equal(backup_dir_prepare(dir, &e), 0);
    char *d_tmp = xasprintf("daily/.citaplanner_daily_20250101_020000.sql.gz.tmp.%ld", dead);
    char *d_wal = xasprintf("daily/.citaplanner_daily_20250101_020000.sqlite.tmp.%ld-wal", dead);
    char *live =
        xasprintf("daily/.citaplanner_daily_20250101_020000.sql.gz.tmp.%ld", (long)getppid());
    char *pgpass = xasprintf("%s/.pgpass.tmp.%ld", dir, dead);
    mk(dir, d_tmp, "partial");
    mk(dir, d_wal, "partial");
    mk(dir, live, "someone else's, alive");
    assert_int_equal(mkdir(pgpass, 0700), 0);
    char *pgfile = xasprintf("%s/pgpass", pgpass);
    tu_write(pgfile, "*:*:*:*:secret\n");
    /* Orphan sidecars, a complete backup, and a file that is not ours. */
    mk(dir, "daily/citaplanner_daily_20250102_020000.sql.gz.sha256", "x");
    mk(dir, "daily/citaplanner_daily_20250102_020000.sql.gz.json", "{}");
    mk(dir, "daily/citaplanner_daily_20250103_020000.sql.gz", "data");
    mk(dir, "daily/citaplanner_daily_20250103_020000.sql.gz.sha256", "x");
    mk(dir, "daily/citaplanner_daily_20250103_020000.sql.gz.json", "{}");
    mk(dir, "daily/notes.json", "mine");
    mk(dir, "daily/.hidden.tmp.notapid", "mine");

    assert_int_equal(backup_cleanup_stale(dir, &removed, &e), 0);
    assert_int_equal(removed, 5);
    char *p;
#define GONE(rel)                                                                                  \
    p = xasprintf("%s/%s", dir, rel);                                                              \
    assert_false(tu_exists(p));                                                                    \
    free(p)
#define KEPT(rel)                                                                                  \
    p = xasprintf("%s/%s", dir, rel);                                                              \
    assert_true(tu_exists(p));                                                                     \
    free(p)
    GONE(d_tmp);
    GONE(d_wal);
    assert_false(tu_exists(pgpass));
    GONE("daily/citaplanner_daily_20250102_020000.sql.gz.sha256");
    GONE("daily/citaplanner_daily_20250102_020000.sql.gz.json");
    KEPT(live);
    KEPT("daily/citaplanner_daily_20250103_020000.sql.gz");
    KEPT("daily/citaplanner_daily_20250103_020000.sql.gz.sha256");
    KEPT("daily/citaplanner_daily_20250103_020000.sql.gz.json");
    KEPT("daily/notes.json");
    KEPT("daily/.hidden.tmp.notapid");
    free(d_tmp);
    free(d_wal);
    free(live);
    free(pgpass);
    free(pgfile);
    tu_rmdir(dir);
}

static void test_fmt_bytes(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(backup_fmt_bytes(b, 12), "12 B");
    assert_string_equal(backup_fmt_bytes(b, 1500), "1.5 kB");
    assert_string_equal(backup_fmt_bytes(b, 2500000), "2.5 MB");
    assert_string_equal(backup_fmt_bytes(b, 3210000000ull), "3.21 GB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_round_trip),
        cmocka_unit_test(test_name_rejects_everything_else),
        cmocka_unit_test(test_tiers_parse),
        cmocka_unit_test(test_auto_tiers),
        cmocka_unit_test(test_parse_local_time),
        cmocka_unit_test(test_prepare_and_list),
        cmocka_unit_test(test_cleanup_stale),
        cmocka_unit_test(test_fmt_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
