/*
 * remote_test — the copies' policy on a mirror directory
 * (src/backup/remote.c through storage/store.h): each backup of ours is
 * copied and recorded, the mirror is rotated by the names' times with
 * BACKUP_DIR's keep counts (other files left alone), a recorded copy that
 * is no longer whole is copied again, and a copy that does not match its
 * sidecar is refused and counted as lagging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backup/remote.h"
#include "common/hash.h"
#include "config/config.h"
#include "testutil.h"

struct fx {
    char *tmp;
    struct config cfg;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    f->tmp = tu_mkdtemp();
    config_init(&f->cfg);
    free(f->cfg.backup_dir);
    f->cfg.backup_dir = xasprintf("%s/backups", f->tmp);
    free(f->cfg.backup_mirror_dir);
    f->cfg.backup_mirror_dir = xasprintf("%s/mirror", f->tmp);
    f->cfg.backup_keep_daily = 2;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    config_release(&f->cfg);
    tu_rmdir(f->tmp);
    free(f);
    return 0;
}

static char *name_of(int day)
{
    return xasprintf("citaplanner_daily_202501%02d_020000.sql.gz", day);
}

/* A backup of ours in dir/daily (data, .sha256, .json); sha_of_data false: a wrong sidecar. */
static void put_backup(const char *dir, int day, bool sha_of_data)
{
    char *d = xasprintf("%s/daily", dir);
    char *name = name_of(day);
    char *p = xasprintf("%s/%s", d, name);
    char *data = xasprintf("the dump of day %d\n", day);
    char sha[HASH_SHA256_HEX];
    char *line, *sp = xasprintf("%s.sha256", p), *jp = xasprintf("%s.json", p);

    mkdir(dir, 0700);
    mkdir(d, 0700);
    if (sha_of_data)
        hash_sha256_hex(data, strlen(data), sha);
    else
        hash_sha256_hex("other", 5, sha);
    line = xasprintf("%s  %s\n", sha, name);
    tu_write(p, data);
    tu_write(sp, line);
    tu_write(jp, "{}\n");
    free(d);
    free(name);
    free(p);
    free(data);
    free(line);
    free(sp);
    free(jp);
}

static char *path_in(const char *dir, int day, const char *sfx)
{
    char *name = name_of(day);
    char *p = xasprintf("%s/daily/%s%s", dir, name, sfx);

    free(name);
    return p;
}

static bool exists_in(const char *dir, int day, const char *sfx)
{
    char *p = path_in(dir, day, sfx);
    bool ok = tu_exists(p);

    free(p);
    return ok;
}

static bool recorded(const struct fx *f, int day)
{
    char *p = path_in(f->cfg.backup_dir, day, "");
    struct backup_locations loc;

    backup_locations_load(p, &loc);
    free(p);
    return loc.mirror;
}

static void test_copies_record_and_rotate(void **state)
{
    struct fx *f = *state;
    const char *m = f->cfg.backup_mirror_dir;
    char *notes = xasprintf("%s/daily/notes.txt", m);
    int lag = -1;

    put_backup(f->cfg.backup_dir, 5, true);
    put_backup(f->cfg.backup_dir, 6, true);
    put_backup(m, 1, true); /* an old copy the mirror's rotation removes */
    tu_write(notes, "not a backup\n");

    assert_int_equal(backup_remote_sync(&f->cfg, &lag), 0);
    assert_int_equal(lag, 0);
    for (int day = 5; day <= 6; day++) {
        char *lp = path_in(f->cfg.backup_dir, day, ""), *mp = path_in(m, day, "");
        char *a = tu_read(lp, NULL), *b = tu_read(mp, NULL);
        assert_non_null(b);
        assert_string_equal(a, b);
        assert_true(exists_in(m, day, ".sha256") && exists_in(m, day, ".json"));
        assert_true(recorded(f, day));
        free(a);
        free(b);
        free(lp);
        free(mp);
    }
    assert_false(exists_in(m, 1, "") || exists_in(m, 1, ".sha256") || exists_in(m, 1, ".json"));
    assert_true(tu_exists(notes));

    /* A recorded copy cut short is copied again. */
    {
        char *mp = path_in(m, 6, ""), *got;
        tu_write(mp, "cut");
        assert_int_equal(backup_remote_sync(&f->cfg, &lag), 0);
        assert_int_equal(lag, 0);
        got = tu_read(mp, NULL);
        assert_string_equal(got, "the dump of day 6\n");
        free(got);
        free(mp);
    }
    free(notes);
}

static void test_a_copy_that_does_not_match_is_refused(void **state)
{
    struct fx *f = *state;
    const char *m = f->cfg.backup_mirror_dir;
    int lag = -1;

    put_backup(f->cfg.backup_dir, 7, false);
    assert_int_equal(backup_remote_sync(&f->cfg, &lag), -1);
    assert_int_equal(lag, 1);
    assert_false(exists_in(m, 7, ""));
    assert_false(recorded(f, 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copies_record_and_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_copy_that_does_not_match_is_refused, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
