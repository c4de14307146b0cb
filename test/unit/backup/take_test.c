/*
 * take_test — backup_take() end to end through the library, on SQLite (a
 * temporary file) and PostgreSQL (a scratch database made from
 * CITAPLANNER_TEST_PG_URL; the test fails without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/take.h"
#include "backup/manifest.h"
#include "testutil.h"

struct fixture {
    enum db_kind kind;
    char *tmp;       /* scratch directory */
    char *url_text;  /* the database under test */
    char *admin_url; /* PostgreSQL: where the scratch database is created */
    char *dbname;
    struct config cfg;
};

static const int NROWS = 2500;

static void fill(struct db *db)
{
    char *sql;

    tu_exec(db, "CREATE TABLE things (id INTEGER PRIMARY KEY, note TEXT NOT NULL)");
    sql = xasprintf("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) "
                    "INSERT INTO things (id, note) SELECT i, 'note number ' || i FROM s",
                    NROWS);
    tu_exec(db, sql);
    free(sql);
    /* A ledger: the newest finished, not rolled back, migration is the schema version. */
    tu_exec(db, "CREATE TABLE _migrations (name TEXT, checksum TEXT, started_at TEXT, "
                "finished_at TEXT, rolled_back_at TEXT)");
    tu_exec(db, "INSERT INTO _migrations VALUES ('0001_init', 'x', 'a', 'b', NULL), "
                "('0002_more', 'x', 'a', 'b', 'c'), ('0003_broken', 'x', 'a', NULL, NULL)");
}

static int setup(void **state, enum db_kind kind)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    struct db *db;

    setenv("TZ", "UTC", 1);
    tzset();
    f->kind = kind;
    f->tmp = tu_mkdtemp();
    if (kind == DB_SQLITE) {
        f->url_text = xasprintf("sqlite:%s/data/test.db", f->tmp);
    } else {
        const char *admin = tu_pg_admin_url();
        if (admin != NULL) {
            f->admin_url = xstrdup(admin);
            f->url_text = tu_pg_create(admin, &f->dbname);
        }
        if (f->url_text == NULL) { /* said why on stderr; the test fails */
            tu_rmdir(f->tmp);
            free(f->admin_url);
            free(f);
            return -1;
        }
    }
    db = tu_db_open_url(f->url_text);
    fill(db);
    db_close(db);

    config_init(&f->cfg);
    free(f->cfg.backup_dir);
    f->cfg.backup_dir = xasprintf("%s/backups/nested", f->tmp);
    f->cfg.backup_keep_daily = 1;
    url_release(&f->cfg.db);
    struct err e;
    err_clear(&e);
    assert_int_equal(url_parse(f->url_text, &f->cfg.db, &e), 0);
    *state = f;
    return 0;
}

static int setup_sqlite(void **state)
{
    return setup(state, DB_SQLITE);
}

static int setup_pg(void **state)
{
    return setup(state, DB_PG);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    if (f == NULL)
        return 0;
    if (f->dbname != NULL && tu_pg_drop(f->admin_url, f->dbname) < 0)
        fail_msg("cannot drop the scratch database '%s'", f->dbname);
    config_release(&f->cfg);
    tu_rmdir(f->tmp);
    free(f->url_text);
    free(f->admin_url);
    free(f->dbname);
    free(f);
    return 0;
}

static void opts_init(struct backup_opts *o, struct fixture *f, const char *now)
{
    memset(o, 0, sizeof(*o));
    o->cfg = &f->cfg;
    o->db = &f->cfg.db;
    o->tier = BACKUP_TIER_AUTO;
    o->rotate = true;
    assert_int_equal(backup_parse_local_time(now, &o->now), 0);
}

/* Every file name under dir/tier (hidden ones too), sorted, as one string. */
static char *dir_listing(const char *dir)
{
    struct buf b = BUF_INIT;
    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        char *sub = xasprintf("%s/%s", dir, backup_tier_name((enum backup_tier)t));
        struct dirent **names = NULL;
        int n = scandir(sub, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
                buf_addf(&b, "%s/%s\n", sub, names[i]->d_name);
            free(names[i]);
        }
        free(names);
        free(sub);
    }
    return b.data ? buf_detach(&b) : xstrdup("");
}

static void check_backup(struct fixture *f, const struct backup_result *r, enum backup_tier t)
{
    const char *path = r->files[t];
    char *base = strrchr(path, '/') + 1;
    char *side = xasprintf("%s.sha256", path);
    char *want = xasprintf("%s  %s\n", r->sha256, base);
    char *got = tu_read(side, NULL);
    struct backup_manifest m;
    struct err e;
    struct stat sb;

    err_clear(&e);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal((uint64_t)sb.st_size, r->gz_bytes);
    free(got);
    free(want);
    free(side);

    side = xasprintf("%s.json", path);
    assert_int_equal(stat(side, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(backup_manifest_load(side, &m, &e), 0);
    assert_string_equal(m.file, base);
    assert_string_equal(m.tier, backup_tier_name(t));
    assert_string_equal(m.sha256, r->sha256);
    assert_int_equal(m.gz_bytes, r->gz_bytes);
    assert_int_equal(m.raw_bytes, r->raw_bytes);
    assert_string_equal(m.db_kind, f->kind == DB_PG ? "postgresql" : "sqlite");
    assert_non_null(m.schema_version);
    assert_string_equal(m.schema_version, "0001_init");
    assert_int_equal(m.ntables, 2);
    assert_string_equal(m.tables[0], "_migrations");
    assert_int_equal(m.rows[0], 3);
    assert_string_equal(m.tables[1], "things");
    assert_int_equal(m.rows[1], NROWS);
    backup_manifest_release(&m);
    free(side);

    size_t len = 0;
    unsigned char *data = tu_gunzip(path, &len);
    assert_int_equal(len, r->raw_bytes);
    if (f->kind == DB_SQLITE) {
        assert_true(len > 100);
        assert_memory_equal(data, "SQLite format 3", 16);
    } else {
        assert_non_null(strstr((char *)data, "CREATE TABLE public.things"));
        assert_non_null(strstr((char *)data, "note number 2500"));
        assert_non_null(strstr((char *)data, "\n-- PostgreSQL database dump complete\n"));
    }
    free(data);
}

static void test_take_tiers_links_and_rotation(void **state)
{
    struct fixture *f = *state;
    struct backup_opts o;
    struct backup_result r1, r2;
    struct err e;
    struct stat a, b;
    const unsigned all = (1u << BACKUP_DAILY) | (1u << BACKUP_WEEKLY) | (1u << BACKUP_MONTHLY);

    err_clear(&e);
    /* Sunday the 1st: daily, weekly and monthly, one file. */
    opts_init(&o, f, "2025-06-01T02:00:00");
    if (backup_take(&o, &r1, &e) < 0)
        fail_msg("backup_take: %s", e.msg);
    assert_int_equal(r1.tiers, all);
    assert_int_equal(r1.kind, f->kind);
    assert_int_equal(r1.rotated, 0);
    const char *ext = f->kind == DB_PG ? ".sql.gz" : ".sqlite.gz";
    for (int t = 0; t < 3; t++) {
        const char *tn = backup_tier_name((enum backup_tier)t);
        char *want =
            xasprintf("%s/%s/citaplanner_%s_20250601_020000%s", f->cfg.backup_dir, tn, tn, ext);
        assert_string_equal(r1.files[t], want);
        free(want);
    }
    for (int t = 0; t < 3; t++)
        check_backup(f, &r1, (enum backup_tier)t);
    assert_int_equal(stat(r1.files[BACKUP_DAILY], &a), 0);
    assert_int_equal(stat(r1.files[BACKUP_WEEKLY], &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(stat(r1.files[BACKUP_MONTHLY], &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_nlink, 3);

    /* The same second again: named one second later; rotation (keep 1 daily)
     * removes the first daily only. */
    opts_init(&o, f, "2025-06-01T02:00:00");
    o.tier = BACKUP_DAILY;
    if (backup_take(&o, &r2, &e) < 0)
        fail_msg("backup_take: %s", e.msg);
    assert_int_equal(r2.tiers, 1u << BACKUP_DAILY);
    assert_non_null(strstr(r2.files[BACKUP_DAILY], "_20250601_020001."));
    assert_int_equal(r2.rotated, 1);
    check_backup(f, &r2, BACKUP_DAILY);
    assert_false(tu_exists(r1.files[BACKUP_DAILY]));
    assert_true(tu_exists(r1.files[BACKUP_WEEKLY]));
    assert_true(tu_exists(r1.files[BACKUP_MONTHLY]));
    check_backup(f, &r1, BACKUP_WEEKLY);

    /* The log file of that day got the steps. */
    char *logp = xasprintf("%s/logs/backup_20250601.log", f->cfg.backup_dir);
    char *log = tu_read(logp, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "backup: complete"));
    assert_non_null(strstr(log, "rotation: deleted"));
    assert_non_null(strstr(log, "summary: daily 1, weekly 1, monthly 1"));
    assert_null(strstr(log, "T3st p@ss"));
    free(log);
    free(logp);
    backup_result_release(&r1);
    backup_result_release(&r2);
}

static void test_failures_leave_nothing(void **state)
{
    struct fixture *f = *state;
    struct backup_opts o;
    struct backup_result r;
    struct backup_lock *lock = NULL;
    struct err e;
    volatile int cancel = 1;
    char *before, *after;

    err_clear(&e);
    opts_init(&o, f, "2025-06-02T02:00:00");
    assert_int_equal(backup_take(&o, &r, &e), 0);
    backup_result_release(&r);
    before = dir_listing(f->cfg.backup_dir);

    /* Cancelled from the start. */
    opts_init(&o, f, "2025-06-03T02:00:00");
    o.cancel = &cancel;
    assert_int_equal(backup_take(&o, &r, &e), -ERR_BACKUP);
    assert_non_null(strstr(e.msg, "cancel"));
    backup_result_release(&r);
    after = dir_listing(f->cfg.backup_dir);
    assert_string_equal(before, after);
    free(after);

    /* Someone holds the lock. */
    assert_int_equal(backup_lock_acquire(f->cfg.backup_dir, &lock, &e), 0);
    opts_init(&o, f, "2025-06-03T02:00:00");
    assert_int_equal(backup_take(&o, &r, &e), -ERR_LOCKED);
    backup_result_release(&r);
    backup_lock_release(lock);

    /* A database that does not exist: exit 5, not 3, and nothing written. */
    struct url bad;
    char *bad_text = f->kind == DB_PG ? xasprintf("%s_missing", f->url_text)
                                      : xasprintf("sqlite:%s/nothing/here.db", f->tmp);
    memset(&bad, 0, sizeof(bad));
    assert_int_equal(url_parse(bad_text, &bad, &e), 0);
    opts_init(&o, f, "2025-06-03T02:00:00");
    o.db = &bad;
    assert_int_equal(backup_take(&o, &r, &e), -ERR_BACKUP);
    assert_int_equal(e.code, ERR_BACKUP);
    backup_result_release(&r);
    url_release(&bad);
    free(bad_text);

    after = dir_listing(f->cfg.backup_dir);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_take_tiers_links_and_rotation, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_failures_leave_nothing, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_take_tiers_links_and_rotation, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_failures_leave_nothing, setup_pg, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
