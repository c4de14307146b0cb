/*
 * Unit tests of src/migrate (migrate.h): the embedded catalog, then the
 * runner on SQLite (a fresh file per test) and on PostgreSQL (a scratch
 * database from CITAPLANNER_TEST_PG_URL, emptied with db_drop_all before
 * each test, dropped at the end).  Without CITAPLANNER_TEST_PG_URL the
 * PostgreSQL group fails: it is never skipped.
 *
 * Tests that need their own migrations write the embedded ones, plus theirs,
 * into a temporary directory and hand it over as CITAPLANNER_MIGRATIONS_DIR
 * (migrate_set_dir).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/url.h"
#include "common/util.h"
#include "db/db.h"
#include "migrate/migrate.h"
#include "migrate/migrations_gen.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

static int embedded_count(enum db_kind kind)
{
    int n = 0;
    for (int i = 0; i < migrate_embedded_count; i++)
        n += migrate_embedded[i].kind == kind;
    return n;
}

static const char *dialect(enum db_kind kind)
{
    return kind == DB_PG ? "pg" : "sqlite";
}

/* CITAPLANNER_MIGRATIONS_DIR as config hands it over: migrate_set_dir(dir), a copy kept. */
static char *test_dir;

static void use_dir(const char *dir)
{
    char *old = test_dir;

    test_dir = dir != NULL ? xstrdup(dir) : NULL;
    migrate_set_dir(test_dir);
    free(old);
}

/* DIR/<dialect>/ with the embedded migrations; CITAPLANNER_MIGRATIONS_DIR=DIR. */
static char *override_dir(struct tu_db *f)
{
    enum db_kind kind = db_kind(f->db);
    char *root = xasprintf("%s/migrations", f->dir);
    char *sub = xasprintf("%s/%s", root, dialect(kind));

    mkdir(root, 0700);
    mkdir(sub, 0700);
    for (int i = 0; i < migrate_embedded_count; i++) {
        if (migrate_embedded[i].kind != kind)
            continue;
        char *p = xasprintf("%s/%s.sql", sub, migrate_embedded[i].name);
        tu_write(p, migrate_embedded[i].sql);
        free(p);
    }
    use_dir(root);
    free(root);
    return sub;
}

static void add_migration(const char *sub, const char *name, const char *sql)
{
    char *p = xasprintf("%s/%s.sql", sub, name);
    tu_write(p, sql);
    free(p);
}

static bool has_table(struct db *db, const char *name)
{
    char **names = NULL;
    int n = 0;
    bool found = false;
    struct err e;
    err_clear(&e);
    CHECK(db_list_tables(db, &names, &n, &e));
    for (int i = 0; i < n; i++)
        found = found || strcmp(names[i], name) == 0;
    db_strv_free(names, n);
    return found;
}

static const struct migration_info *find_item(const struct migrate_report *r, const char *name)
{
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    fail_msg("migration '%s' is not in the report", name);
    return NULL;
}

/* ---- fixtures ---------------------------------------------------------- */

/* Each test has its own directory (for its migrations) and, on SQLite, a
 * database file in it; CITAPLANNER_MIGRATIONS_DIR starts unset. */
static int setup(void **state)
{
    struct tu_db *f;

    use_dir(NULL);
    f = tu_db_new(*state, "test.db");
    if (mkdir(f->dir, 0700) < 0 && errno != EEXIST)
        fail_msg("mkdir '%s'", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    use_dir(NULL);
    return tu_db_teardown(state);
}

/* ---- the embedded catalog ---------------------------------------------- */

static void t_embedded_catalog(void **state)
{
    (void)state;
    assert_true(embedded_count(DB_PG) > 0);
    /* The same names in both dialects, sorted, with the checksum of the text. */
    assert_int_equal(embedded_count(DB_PG), embedded_count(DB_SQLITE));
    for (int i = 0; i < migrate_embedded_count; i++) {
        const struct migrate_embedded *m = &migrate_embedded[i];
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        char hex[65];

        assert_int_equal(strlen(m->sql), m->len);
        assert_int_equal(EVP_Digest(m->sql, m->len, md, &len, EVP_sha256(), NULL), 1);
        for (unsigned int j = 0; j < len; j++)
            snprintf(hex + 2 * j, 3, "%02x", md[j]);
        assert_string_equal(hex, m->sha256);
        if (i > 0 && migrate_embedded[i - 1].kind == m->kind)
            assert_true(strcmp(migrate_embedded[i - 1].name, m->name) < 0);
        bool twin = false;
        for (int j = 0; j < migrate_embedded_count; j++)
            twin = twin || (migrate_embedded[j].kind != m->kind &&
                            strcmp(migrate_embedded[j].name, m->name) == 0);
        assert_true(twin);
    }
    use_dir(NULL);
    assert_non_null(migrate_latest_name(DB_PG));
    assert_string_equal(migrate_latest_name(DB_PG), migrate_latest_name(DB_SQLITE));
    assert_string_equal(migrate_state_name(MIGRATION_ROLLED_BACK), "rolled_back");
    assert_string_equal(migrate_state_name(MIGRATION_MODIFIED), "modified");
}

/* ---- the runner --------------------------------------------------------- */

struct seen {
    char names[16][64];
    int n;
};

static void on_applied(const char *name, double seconds, void *arg)
{
    struct seen *s = arg;
    assert_true(seconds >= 0);
    if (s->n < 16)
        snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
}

static void t_deploy_fresh_then_nothing(void **state)
{
    struct tu_db *f = *state;
    enum db_kind kind = db_kind(f->db);
    int n = embedded_count(kind);
    struct migrate_report r = {0};
    struct seen seen = {0};
    struct err e;
    int applied = -1;

    err_clear(&e);
    assert_int_equal(migrate_pending_count(f->db, &e), n);
    assert_int_equal(migrate_is_current(f->db, &e), 0);
    CHECK(migrate_status(f->db, &r, &e));
    assert_int_equal(r.count, n);
    assert_int_equal(r.pending, n);
    assert_int_equal(r.items[0].state, MIGRATION_PENDING);
    assert_null(r.items[0].finished_at);
    migrate_report_release(&r);
    assert_false(has_table(f->db, "_migrations")); /* status never writes */

    CHECK(migrate_deploy_each(f->db, on_applied, &seen, &applied, &e));
    assert_int_equal(applied, n);
    assert_int_equal(seen.n, n);
    for (int i = 0, k = 0; i < migrate_embedded_count; i++)
        if (migrate_embedded[i].kind == kind)
            assert_string_equal(seen.names[k++], migrate_embedded[i].name);
    assert_int_equal(migrate_is_current(f->db, &e), 1);
    assert_int_equal(migrate_pending_count(f->db, &e), 0);
    CHECK(migrate_status(f->db, &r, &e));
    assert_int_equal(r.applied, n);
    assert_int_equal(r.pending + r.failed + r.modified + r.unknown, 0);
    assert_string_equal(r.items[r.count - 1].name, migrate_latest_name(kind));
    assert_non_null(r.items[0].finished_at);
    assert_int_equal(strlen(r.items[0].finished_at), 22); /* 2025-01-09 02:00:00+00 */
    assert_string_equal(r.items[0].finished_at + 19, "+00");
    migrate_report_release(&r);
    assert_true(has_table(f->db, "appointments"));

    CHECK(migrate_deploy(f->db, &applied, &e));
    assert_int_equal(applied, 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM _migrations"), n);
}

static void t_failed_migration(void **state)
{
    struct tu_db *f = *state;
    int n = embedded_count(db_kind(f->db));
    char *sub = override_dir(f);
    struct migrate_report r = {0};
    struct err e;
    int applied = -1;

    err_clear(&e);
    add_migration(sub, "0900_bad",
                  "CREATE TABLE half_done (id INTEGER);\n"
                  "INSERT INTO no_such_table (x) VALUES (1);\n");
    add_migration(sub, "0901_next", "CREATE TABLE next_one (id INTEGER);\n");
    assert_string_equal(migrate_latest_name(db_kind(f->db)), "0901_next");

    CHECK_ERR(migrate_deploy(f->db, &applied, &e), ERR_MIGRATE);
    assert_non_null(strstr(e.msg, "'0900_bad'"));
    assert_non_null(strstr(e.msg, "no_such_table"));
    assert_int_equal(applied, n);
    assert_false(has_table(f->db, "half_done"));
    assert_false(has_table(f->db, "next_one"));
    CHECK(migrate_status(f->db, &r, &e));
    assert_int_equal(r.failed, 1);
    assert_int_equal(find_item(&r, "0900_bad")->state, MIGRATION_FAILED);
    assert_int_equal(find_item(&r, "0901_next")->state, MIGRATION_PENDING);
    migrate_report_release(&r);
    assert_int_equal(tu_query_int(f->db,
                                  "SELECT count(*) FROM _migrations WHERE name = '0900_bad'"
                                  " AND finished_at IS NULL AND logs LIKE '%no_such_table%'"),
                     1);

    /* Blocked until resolved, even once the file is fixed. */
    add_migration(sub, "0900_bad", "CREATE TABLE half_done (id INTEGER);\n");
    err_clear(&e);
    CHECK_ERR(migrate_deploy(f->db, &applied, &e), ERR_MIGRATE);
    assert_non_null(strstr(e.msg, "resolve --rolled-back 0900_bad"));
    assert_int_equal(applied, 0);

    err_clear(&e);
    CHECK_ERR(migrate_resolve(f->db, "0901_next", MIGRATION_ROLLED_BACK, &e), ERR_MIGRATE);
    CHECK(migrate_resolve(f->db, "0900_bad", MIGRATION_ROLLED_BACK, &e));
    CHECK(migrate_status(f->db, &r, &e));
    assert_int_equal(find_item(&r, "0900_bad")->state, MIGRATION_ROLLED_BACK);
    assert_int_equal(r.pending, 2);
    migrate_report_release(&r);

    CHECK(migrate_deploy(f->db, &applied, &e));
    assert_int_equal(applied, 2);
    assert_true(has_table(f->db, "half_done"));
    assert_true(has_table(f->db, "next_one"));
    assert_int_equal(migrate_is_current(f->db, &e), 1);
    free(sub);
}

static void t_resolve(void **state)
{
    struct tu_db *f = *state;
    char *sub = override_dir(f);
    struct err e;

    err_clear(&e);
    CHECK_ERR(migrate_resolve(f->db, "0999_nope", MIGRATION_APPLIED, &e), ERR_USAGE);
    CHECK_ERR(migrate_resolve(f->db, "0001_init", MIGRATION_PENDING, &e), ERR_INTERNAL);
    CHECK_ERR(migrate_resolve(f->db, "0001_init", MIGRATION_ROLLED_BACK, &e), ERR_MIGRATE);

    /* A baseline: recorded as applied, never run. */
    add_migration(sub, "0900_manual", "CREATE TABLE manual (id INTEGER);\n");
    CHECK(migrate_deploy(f->db, NULL, &e));
    assert_true(has_table(f->db, "manual"));
    add_migration(sub, "0901_by_hand", "CREATE TABLE by_hand (id INTEGER);\n");
    assert_int_equal(migrate_pending_count(f->db, &e), 1);
    CHECK(migrate_resolve(f->db, "0901_by_hand", MIGRATION_APPLIED, &e));
    assert_int_equal(migrate_is_current(f->db, &e), 1);
    assert_false(has_table(f->db, "by_hand"));
    CHECK_ERR(migrate_resolve(f->db, "0901_by_hand", MIGRATION_APPLIED, &e), ERR_MIGRATE);

    /* An attempt of a name this program does not know, rolled back: it never
     * changed the schema, so it does not make the database "newer". */
    err_clear(&e);
    CHECK(db_exec(f->db,
                  "INSERT INTO _migrations (name, checksum, started_at, rolled_back_at) VALUES "
                  "('0950_gone', 'x', '2025-01-01 00:00:00+00', '2025-01-01 00:00:01+00')",
                  &e));
    assert_int_equal(migrate_is_current(f->db, &e), 1);
    CHECK(migrate_deploy(f->db, NULL, &e));
    free(sub);
}

static void t_modified_and_unknown(void **state)
{
    struct tu_db *f = *state;
    char *sub = override_dir(f);
    struct migrate_report r = {0};
    struct err e;

    err_clear(&e);
    add_migration(sub, "0900_x", "CREATE TABLE x (id INTEGER);\n");
    CHECK(migrate_deploy(f->db, NULL, &e));
    add_migration(sub, "0900_x", "CREATE TABLE x (id INTEGER); -- edited\n");
    CHECK(migrate_status(f->db, &r, &e));
    assert_int_equal(r.modified, 1);
    assert_int_equal(find_item(&r, "0900_x")->state, MIGRATION_MODIFIED);
    migrate_report_release(&r);
    assert_int_equal(migrate_is_current(f->db, &e), 0);
    CHECK_ERR(migrate_deploy(f->db, NULL, &e), ERR_MIGRATE);
    assert_non_null(strstr(e.msg, "modified"));
    err_clear(&e);
    CHECK(migrate_resolve(f->db, "0900_x", MIGRATION_APPLIED, &e));
    assert_int_equal(migrate_is_current(f->db, &e), 1);

    /* The file disappears: the ledger's row is now a migration this program
     * does not know, as if a newer version had applied it. */
    char *p = xasprintf("%s/0900_x.sql", sub);
    unlink(p);
    free(p);
    CHECK(migrate_status(f->db, &r, &e));
    assert_int_equal(r.unknown, 1);
    assert_int_equal(find_item(&r, "0900_x")->state, MIGRATION_UNKNOWN);
    migrate_report_release(&r);
    CHECK_ERR(migrate_deploy(f->db, NULL, &e), ERR_MIGRATE);
    assert_non_null(strstr(e.msg, "newer"));
    free(sub);
}

static void t_reset(void **state)
{
    struct tu_db *f = *state;
    int n = embedded_count(db_kind(f->db));
    struct err e;
    int applied = -1;

    err_clear(&e);
    CHECK(migrate_deploy(f->db, NULL, &e));
    CHECK(db_exec(
        f->db, "INSERT INTO tenants (name, email, timezone) VALUES ('S', 's@x.com', 'UTC')", &e));
    CHECK(migrate_reset(f->db, NULL, NULL, &applied, &e));
    assert_int_equal(applied, n);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM tenants"), 0);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM _migrations"), n);
    assert_int_equal(migrate_is_current(f->db, &e), 1);
}

static void t_bad_override_dir(void **state)
{
    struct tu_db *f = *state;
    struct migrate_report r = {0};
    struct err e;
    char *missing = xasprintf("%s/missing", f->dir);

    err_clear(&e);
    use_dir(missing);
    CHECK_ERR(migrate_status(f->db, &r, &e), ERR_CONFIG);
    assert_non_null(strstr(e.msg, "CITAPLANNER_MIGRATIONS_DIR"));
    migrate_report_release(&r);
    CHECK_ERR(migrate_deploy(f->db, NULL, &e), ERR_CONFIG);
    assert_null(migrate_latest_name(db_kind(f->db)));
    free(missing);
}

#define CASE(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
    const struct CMUnitTest catalog[] = {cmocka_unit_test(t_embedded_catalog)};
    const struct CMUnitTest runner[] = {
        CASE(t_deploy_fresh_then_nothing),
        CASE(t_failed_migration),
        CASE(t_resolve),
        CASE(t_modified_and_unknown),
        CASE(t_reset),
        CASE(t_bad_override_dir),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("migrate catalog", catalog, NULL, NULL);
    failed += TU_RUN_BOTH("migrate", runner);
    return failed == 0 ? 0 : 1;
}
