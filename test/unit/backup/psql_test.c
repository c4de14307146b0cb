/*
 * psql_test — choosing pg_dump/psql by version (src/backup/psql.c),
 * with the machine's real client tools: a server no newer than them gets
 * the newest; PG_DUMP/PSQL (pgtool_set_paths) win when new enough, and one that does not run
 * is an error; a server newer than every tool is refused with the version
 * needed.  (One older than the server is passed over: test_backup.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/psql.h"
#include "common/util.h"

/* The newest /usr/lib/postgresql/N/bin/<tool> on this machine, and its N. */
static int newest(const char *tool, char *path, size_t cap)
{
    char *pattern = xasprintf("/usr/lib/postgresql/*/bin/%s", tool);
    glob_t g;
    int best = 0;

    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int n = atoi(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
        if (n > best) {
            best = n;
            snprintf(path, cap, "%s", g.gl_pathv[i]);
        }
    }
    globfree(&g);
    free(pattern);
    return best;
}

/* PG_DUMP or PSQL (envs[i]) as config hands it over; NULL: unset. */
static void configure(int i, const char *path)
{
    pgtool_set_paths(i == 0 ? path : NULL, i == 1 ? path : NULL);
}

static void test_choice(void **state)
{
    (void)state;
    const char *tools[] = {"pg_dump", "psql"};
    const char *envs[] = {"PG_DUMP", "PSQL"};

    for (int i = 0; i < 2; i++) {
        char want[256];
        int major = newest(tools[i], want, sizeof(want));
        struct pgtool t;
        struct err e = {0};

        configure(i, NULL);
        assert_true(major >= 13);
        /* An older server: the newest tool. */
        assert_int_equal(pgtool_find(tools[i], 13, &t, &e), 0);
        assert_string_equal(t.path, want);
        assert_int_equal(t.major, major);
        assert_non_null(strstr(t.version, "(PostgreSQL)"));
        pgtool_free(&t);

        /* The configured tool first, when new enough. */
        configure(i, want);
        assert_int_equal(pgtool_find(tools[i], major, &t, &e), 0);
        assert_string_equal(t.path, want);
        pgtool_free(&t);

        /* One that does not run is a mistake, named, not stepped over. */
        configure(i, "/nonexistent/bin/tool");
        assert_int_equal(pgtool_find(tools[i], major, &t, &e), -ERR_BACKUP);
        assert_null(t.path);
        assert_non_null(strstr(e.msg, "/nonexistent/bin/tool"));
        assert_non_null(strstr(e.msg, envs[i]));

        /* A server newer than every tool: refused, naming the version it needs. */
        configure(i, NULL);
        assert_int_equal(pgtool_find(tools[i], major + 1, &t, &e), -ERR_BACKUP);
        assert_null(t.path);
        char *need = xasprintf("install postgresql-client-%d", major + 1);
        assert_non_null(strstr(e.msg, need));
        assert_non_null(strstr(e.msg, want));
        free(need);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
