/*
 * manifest_test — the .json manifest reads back what was written, and a
 * damaged one is refused naming what is wrong; plus the pure helpers of
 * pgdump.c (version parsing, locating pg_dump, passfile escaping).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backup/layout.h"
#include "db/db_backup.h"
#include "backup/psql.h"
#include "backup/manifest.h"
#include "testutil.h"
#include "version.h"

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static char *render_sample(void)
{
    char *tables[] = {"appointments", "_migrations", "users"};
    int64_t rows[] = {6, 1, 5};
    struct db_snapshot_stats st;
    struct backup_manifest_in in;

    memset(&st, 0, sizeof(st));
    st.tables = tables;
    st.rows = rows;
    st.ntables = 3;
    st.schema_version = "0001_init";
    snprintf(st.server_version, sizeof(st.server_version), "PostgreSQL 15.20");
    memset(&in, 0, sizeof(in));
    in.file = "citaplanner_weekly_20250105_020000.sql.gz";
    in.tier = BACKUP_WEEKLY;
    in.tiers = (1u << BACKUP_DAILY) | (1u << BACKUP_WEEKLY);
    in.started = 1736042400; /* 2025-01-05T02:00:00Z */
    in.finished = 1736042404;
    in.kind = DB_PG;
    in.database = "postgresql://u:***@h:5432/db";
    in.stats = &st;
    in.pg_dump_version = "pg_dump (PostgreSQL) 15.20";
    in.raw_bytes = 123456;
    in.gz_bytes = 23456;
    in.sha256 = sha;
    return backup_manifest_render(&in);
}

static char *replace(const char *s, const char *from, const char *to);

static void test_round_trip(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = xasprintf("%s/m.json", dir);
    char *text = render_sample();
    struct backup_manifest m;
    struct err e;

    err_clear(&e);
    assert_non_null(text);
    assert_true(str_ends_with(text, "}\n"));
    assert_null(strstr(text, "secret"));
    tu_write(path, text);
    assert_int_equal(backup_manifest_load(path, &m, &e), 0);
    assert_int_equal(m.format, BACKUP_MANIFEST_FORMAT);
    assert_string_equal(m.program_version, CITAPLANNER_VERSION);
    assert_string_equal(m.file, "citaplanner_weekly_20250105_020000.sql.gz");
    assert_string_equal(m.tier, "weekly");
    assert_int_equal(m.tiers, (1u << BACKUP_DAILY) | (1u << BACKUP_WEEKLY));
    assert_string_equal(m.started_at, "2025-01-05T02:00:00Z");
    assert_string_equal(m.finished_at, "2025-01-05T02:00:04Z");
    assert_string_equal(m.db_kind, "postgresql");
    assert_string_equal(m.server_version, "PostgreSQL 15.20");
    assert_string_equal(m.schema_version, "0001_init");
    assert_int_equal(m.ntables, 3);
    assert_string_equal(m.tables[0], "_migrations");
    assert_int_equal(m.rows[0], 1);
    assert_string_equal(m.tables[1], "appointments");
    assert_int_equal(m.rows[1], 6);
    assert_string_equal(m.tables[2], "users");
    assert_int_equal(m.rows[2], 5);
    assert_int_equal(m.raw_bytes, 123456);
    assert_int_equal(m.gz_bytes, 23456);
    assert_string_equal(m.sha256, sha);
    assert_null(m.secrets_key); /* an unencrypted backup carries no key */
    backup_manifest_release(&m);

    /* An encrypted one carries SECRETS_KEY_FILE age-encrypted (backup/secrets_key.h). */
    char *keyed = replace(text, "\"sha256\"", "\"secrets_key\": \"YWdlLWVuYw==\", \"sha256\"");
    tu_write(path, keyed);
    assert_int_equal(backup_manifest_load(path, &m, &e), 0);
    assert_string_equal(m.secrets_key, "YWdlLWVuYw==");
    backup_manifest_release(&m);
    free(keyed);

    /* A null schema version (no ledger) is valid. */
    char *nulled = xstrdup(text);
    char *sv = strstr(nulled, "\"0001_init\"");
    assert_non_null(sv);
    memcpy(sv, "null       ", 11);
    tu_write(path, nulled);
    assert_int_equal(backup_manifest_load(path, &m, &e), 0);
    assert_null(m.schema_version);
    backup_manifest_release(&m);
    free(nulled);

    free(text);
    free(path);
    tu_rmdir(dir);
}

static void expect_refused(const char *dir, const char *text, const char *word)
{
    char *path = xasprintf("%s/bad.json", dir);
    struct backup_manifest m;
    struct err e;

    err_clear(&e);
    tu_write(path, text);
    assert_int_equal(backup_manifest_load(path, &m, &e), -ERR_VERIFY);
    if (strstr(e.msg, word) == NULL)
        fail_msg("'%s' does not name '%s'", e.msg, word);
    assert_non_null(strstr(e.msg, "bad.json"));
    backup_manifest_release(&m);
    free(path);
}

static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    assert_non_null(at);
    return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void test_damaged(void **state)
{
    (void)state;
    /* One damage at a time to a good manifest, and the word the refusal names. */
    const struct {
        const char *from, *to, *word;
    } cases[] = {
        {"\"sha256\"", "\"sha_256\"", "sha256"},
        {sha, "abc", "sha256"},
        {"\"format\": 1", "\"format\": 99", "format 99"},
        {"\"users\": 5", "\"users\": -5", "users"},
        {"\"compressed\": 23456", "\"compressed\": \"big\"", "compressed"},
        {"\"daily\",", "\"hourly\",", "tiers"},
    };
    char *dir = tu_mkdtemp();
    char *text = render_sample();

    expect_refused(dir, "{\"format\": 1", "cannot read");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = replace(text, cases[i].from, cases[i].to);
        expect_refused(dir, t, cases[i].word);
        free(t);
    }
    free(text);
    tu_rmdir(dir);
}

static void test_pg_dump_helpers(void **state)
{
    (void)state;
    int major = 0;

    assert_int_equal(
        backup_pg_dump_parse_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", &major),
        0);
    assert_int_equal(major, 15);
    assert_int_equal(backup_pg_dump_parse_version("pg_dump (PostgreSQL) 9.6.24", &major), 0);
    assert_int_equal(major, 9);
    assert_int_equal(backup_pg_dump_parse_version("pg_dump (PostgreSQL) 17devel", &major), 0);
    assert_int_equal(major, 17);
    assert_int_equal(backup_pg_dump_parse_version("something else", &major), -1);
    assert_int_equal(backup_pg_dump_parse_version(NULL, &major), -1);

    char *line = backup_pgpass_line("T3st p@ss:w/rd%\\x");
    assert_string_equal(line, "*:*:*:*:T3st p@ss\\:w/rd%\\\\x\n");
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_pg_dump_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
