/*
 * foreign_test — backups made by other tools (foreign.c): the sidecar's name
 * compared by base name, the schema read from a plain dump as it streams
 * (in chunks cut anywhere), and an adopted manifest that reads back with
 * its row counts unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backup/layout.h"
#include "db/db_backup.h"
#include "backup/manifest.h"
#include "backup/foreign.h"
#include "common/util.h"
#include "testutil.h"

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void sidecar_says(const char *path, const char *named, bool required, const char *want)
{
    char *sp = xasprintf("%s.sha256", path);
    char *line = xasprintf("%s  %s\n", sha, named);
    struct buf why = BUF_INIT;

    tu_write(sp, line);
    backup_sidecar_check(path, sha, required, &why);
    if (want == NULL)
        assert_int_equal(why.len, 0);
    else
        assert_non_null(strstr(buf_str(&why), want));
    buf_release(&why);
    free(line);
    free(sp);
}

static void test_sidecar_names(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/citaplanner_daily_20250101_020000.sql.gz", dir);
    char *abs = xasprintf("%s/citaplanner_daily_20250101_020000.sql.gz", dir);
    struct buf why = BUF_INIT;

    tu_write(path, "x");
    sidecar_says(path, "citaplanner_daily_20250101_020000.sql.gz", true, NULL);
    sidecar_says(path, abs, true, NULL);
    sidecar_says(path, "/elsewhere/citaplanner_daily_20250101_020000.sql.gz", true, NULL);
    sidecar_says(path, "./citaplanner_daily_20250101_020000.sql.gz", true, NULL);
    sidecar_says(path, "/x/citaplanner_daily_20250102_020000.sql.gz", true, "not this file");
    /* Missing: a reason only when required (ours). */
    {
        char *sp = xasprintf("%s.sha256", path);
        unlink(sp);
        free(sp);
    }
    backup_sidecar_check(path, sha, false, &why);
    assert_int_equal(why.len, 0);
    backup_sidecar_check(path, sha, true, &why);
    assert_non_null(strstr(buf_str(&why), "is missing"));
    buf_release(&why);
    free(abs);
    free(path);
    tu_rmdir(dir);
}

/* Feed text to a scan in chunks of n bytes. */
static enum backup_schema scan(const char *text, size_t n, char **version)
{
    struct backup_schema_scan s;
    struct err e;
    enum backup_schema r;

    err_clear(&e);
    backup_schema_scan_init(&s);
    for (size_t i = 0; i < strlen(text); i += n) {
        size_t k = strlen(text) - i < n ? strlen(text) - i : n;
        assert_int_equal(backup_schema_sink(&s, text + i, k, &e), 0);
    }
    r = backup_schema_scan_result(&s);
    *version = s.version != NULL ? xstrdup(s.version) : NULL;
    backup_schema_scan_release(&s);
    return r;
}

static const char ours[] =
    "-- PostgreSQL database dump\n"
    "-- Dumped from database version 15.18\n"
    "CREATE TABLE public._migrations (\n"
    "    id bigint NOT NULL,\n"
    "    name text NOT NULL\n"
    ");\n"
    "CREATE TABLE public.tenants (\n    id bigint NOT NULL\n);\n"
    "COPY public._migrations (id, name, checksum, started_at, finished_at, rolled_back_at, logs) "
    "FROM stdin;\n"
    "1\t0001_init\tabc\t2025-01-01\t2025-01-01\t\\N\t\\N\n"
    "2\t0003_import_map\tdef\t2025-01-01\t2025-01-01\t\\N\t\\N\n"
    "3\t0009_failed\tghi\t2025-01-01\t\\N\t\\N\t\\N\n"
    "\\.\n"
    "-- PostgreSQL database dump complete\n";

static const char prisma[] =
    "-- PostgreSQL database dump\n"
    "CREATE TABLE public._prisma_migrations (\n    id character varying(36) NOT NULL\n);\n"
    "CREATE TABLE public.tenants (\n    id text NOT NULL,\n    \"createdAt\" timestamp(3)\n);\n";

static const char camel_only[] =
    "CREATE TABLE public.users (\n    id text NOT NULL,\n    \"firstName\" text NOT NULL\n);\n";

static const char other[] = "CREATE TABLE public.inventory (\n    sku text\n);\n";

static void test_schema_from_dump(void **state)
{
    (void)state;
    size_t sizes[] = {1, 7, 64, 100000};
    char *v = NULL;

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(scan(ours, sizes[i], &v), BACKUP_SCHEMA_OURS);
        assert_string_equal(v, "0003_import_map"); /* the failed one is not applied */
        free(v);
        assert_int_equal(scan(prisma, sizes[i], &v), BACKUP_SCHEMA_PRISMA);
        free(v);
        assert_int_equal(scan(camel_only, sizes[i], &v), BACKUP_SCHEMA_PRISMA);
        free(v);
        assert_int_equal(scan(other, sizes[i], &v), BACKUP_SCHEMA_UNKNOWN);
        free(v);
        assert_int_equal(scan("-- PostgreSQL database dump\n", sizes[i], &v), BACKUP_SCHEMA_EMPTY);
        free(v);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    struct err e;

    err_clear(&e);
    assert_int_equal(backup_schema_refuse("f", BACKUP_SCHEMA_OURS, "0001_init", DB_PG, &e), 0);
    assert_int_equal(backup_schema_refuse("f", BACKUP_SCHEMA_EMPTY, NULL, DB_PG, &e), 0);
    assert_int_equal(backup_schema_refuse("f", BACKUP_SCHEMA_PRISMA, NULL, DB_PG, &e),
                     -ERR_RESTORE_REFUSED);
    assert_non_null(strstr(e.msg, "citaplanner import --from-backup f"));
    assert_int_equal(backup_schema_refuse("f", BACKUP_SCHEMA_UNKNOWN, NULL, DB_PG, &e),
                     -ERR_RESTORE_REFUSED);
    assert_int_equal(backup_schema_refuse("f", BACKUP_SCHEMA_OURS, "9999_future", DB_SQLITE, &e),
                     -ERR_RESTORE_REFUSED);
    assert_non_null(strstr(e.msg, "newer"));
}

static void test_manifest_without_counts(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/m.json", dir);
    struct db_snapshot_stats st;
    struct backup_manifest_in in;
    struct backup_manifest m;
    struct err e;
    char *text;

    memset(&st, 0, sizeof(st));
    memset(&in, 0, sizeof(in));
    memset(&m, 0, sizeof(m));
    err_clear(&e);
    st.ntables = -1;
    snprintf(st.server_version, sizeof(st.server_version), "PostgreSQL 15.18");
    in.file = "citaplanner_daily_20250101_020000.sql.gz";
    in.tier = BACKUP_DAILY;
    in.tiers = 1u << BACKUP_DAILY;
    in.kind = DB_PG;
    in.stats = &st;
    in.sha256 = sha;
    in.origin = "adopted";
    text = backup_manifest_render(&in);
    assert_non_null(strstr(text, "\"tables\": null"));
    tu_write(path, text);
    assert_int_equal(backup_manifest_load(path, &m, &e), 0);
    assert_int_equal(m.ntables, -1);
    assert_string_equal(m.origin, "adopted");
    backup_manifest_release(&m);
    free(text);
    free(path);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sidecar_names),
        cmocka_unit_test(test_schema_from_dump),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_manifest_without_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
