/*
 * testutil — the unit tests' shared helpers (see testutil.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <time.h>

#include "testutil.h"

/* ---- results ------------------------------------------------------------ */

void tu_check_ok(int rc, const struct err *e, const char *what, int line)
{
    if (rc < 0)
        fail_msg("line %d: %s failed (%d, %s): %s", line, what, rc, err_name(e->code), e->msg);
}

void tu_check_err(int rc, const struct err *e, enum err_code code, const char *what, int line)
{
    if (rc != -(int)code || e->code != code)
        fail_msg("line %d: %s returned %d (%s: %s), expected %s", line, what, rc, err_name(e->code),
                 e->msg, err_name(code));
}

/* ---- databases ---------------------------------------------------------- */

void tu_url_parse(const char *text, struct url *u)
{
    struct err e;

    err_clear(&e);
    memset(u, 0, sizeof(*u));
    if (url_parse(text, u, &e) < 0)
        fail_msg("url_parse failed: %s", e.msg);
}

struct db *tu_db_open_url(const char *text)
{
    struct url u;
    struct err e;
    struct db *db = NULL;
    int rc;

    err_clear(&e);
    tu_url_parse(text, &u);
    rc = db_open(&u, 10, &db, &e);
    url_release(&u);
    if (rc < 0)
        fail_msg("cannot open the test database: %s", e.msg);
    return db;
}

void tu_exec(struct db *db, const char *sql)
{
    struct err e;

    err_clear(&e);
    if (db_exec(db, sql, &e) < 0)
        fail_msg("%s: %s", sql, e.msg);
}

int64_t tu_query_int(struct db *db, const char *sql)
{
    struct err e;
    int64_t v = -999;

    err_clear(&e);
    if (db_query_int(db, sql, DB_NOPARAMS, &v, &e) != 0)
        fail_msg("%s: %s", sql, e.msg[0] ? e.msg : "no row");
    return v;
}

char *tu_query_text(struct db *db, const char *sql)
{
    struct err e;
    char *v = NULL;

    err_clear(&e);
    if (db_query_text(db, sql, DB_NOPARAMS, &v, &e) != 0)
        fail_msg("%s: %s", sql, e.msg[0] ? e.msg : "no row");
    return v;
}

/* ---- PostgreSQL scratch databases --------------------------------------- */

const char *tu_pg_admin_url(void)
{
    const char *admin = getenv("CITAPLANNER_TEST_PG_URL");

    if (admin == NULL || admin[0] == '\0') {
        fprintf(stderr, "CITAPLANNER_TEST_PG_URL is not set: run through scripts/pg-throwaway.sh "
                        "(PostgreSQL tests are never skipped)\n");
        return NULL;
    }
    return admin;
}

char *tu_pg_url_with_db(const char *admin, const char *dbname)
{
    const char *auth = strstr(admin, "://");
    const char *slash = auth ? strchr(auth + 3, '/') : NULL;
    const char *query = slash ? strchr(slash, '?') : NULL;

    if (slash == NULL)
        return xasprintf("%s/%s", admin, dbname);
    return xasprintf("%.*s/%s%s", (int)(slash - admin), admin, dbname, query ? query : "");
}

/* Run one statement on the admin database: 0, or -1 with the reason on stderr. */
static int pg_admin_exec(const char *admin, const char *sql)
{
    struct url u;
    struct db *db = NULL;
    struct err e;
    int rc = -1;

    err_clear(&e);
    memset(&u, 0, sizeof(u));
    if (url_parse(admin, &u, &e) < 0) {
        fprintf(stderr, "CITAPLANNER_TEST_PG_URL: %s\n", e.msg);
        goto cleanup;
    }
    if (db_open(&u, 10, &db, &e) < 0 || db_exec(db, sql, &e) < 0) {
        fprintf(stderr, "'%s' on the admin database: %s\n", sql, e.msg);
        goto cleanup;
    }
    rc = 0;

cleanup:
    db_close(db);
    url_release(&u);
    return rc;
}

char *tu_pg_create(const char *admin, char **dbname)
{
    static int count;
    struct buf name = BUF_INIT;
    char *sql = NULL;
    char *url = NULL;

    /* The program's name, made an unquoted identifier, says whose a leftover is. */
    buf_adds(&name, "citaplanner_");
    for (const char *p = program_invocation_short_name; *p != '\0' && name.len < 40; p++)
        buf_addc(&name, isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_');
    buf_addf(&name, "_%d_%ld_%d", (int)getpid(), (long)time(NULL), ++count);
    sql = xasprintf("CREATE DATABASE %s", buf_str(&name));
    if (pg_admin_exec(admin, sql) < 0)
        goto cleanup;
    url = tu_pg_url_with_db(admin, buf_str(&name));
    *dbname = buf_detach(&name);

cleanup:
    buf_release(&name);
    free(sql);
    return url;
}

int tu_pg_drop(const char *admin, const char *dbname)
{
    char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
    int rc = pg_admin_exec(admin, sql);

    free(sql);
    return rc;
}

/* ---- a group of cases on one backend ------------------------------------ */

static void group_free(struct tu_group *g)
{
    if (g == NULL)
        return;
    tu_rmdir(g->tmpdir);
    free(g->pg_admin);
    free(g->pg_url);
    free(g->dbname);
    free(g);
}

int tu_group_setup_sqlite(void **state)
{
    struct tu_group *g = xcalloc(1, sizeof(*g));

    g->kind = DB_SQLITE;
    g->tmpdir = tu_mkdtemp();
    *state = g;
    return 0;
}

int tu_group_setup_pg(void **state)
{
    const char *admin = tu_pg_admin_url();
    struct tu_group *g = NULL;

    if (admin == NULL)
        return -1;
    g = xcalloc(1, sizeof(*g));
    g->kind = DB_PG;
    g->tmpdir = tu_mkdtemp();
    g->pg_admin = xstrdup(admin);
    g->pg_url = tu_pg_create(admin, &g->dbname);
    if (g->pg_url == NULL) {
        group_free(g);
        return -1;
    }
    *state = g;
    return 0;
}

int tu_group_teardown(void **state)
{
    struct tu_group *g = *state;
    int rc = 0;

    if (g == NULL) /* the setup failed */
        return 0;
    if (g->kind == DB_PG)
        rc = tu_pg_drop(g->pg_admin, g->dbname);
    group_free(g);
    return rc;
}

struct tu_db *tu_db_new(struct tu_group *g, const char *file)
{
    struct tu_db *t = xcalloc(1, sizeof(*t));
    struct err e;

    err_clear(&e);
    t->g = g;
    t->dir = xasprintf("%s/t%d", g->tmpdir, ++g->seq);
    if (g->kind == DB_SQLITE) {
        char *s;
        t->path = xasprintf("%s/%s", t->dir, file);
        s = xasprintf("sqlite:%s", t->path);
        tu_url_parse(s, &t->url);
        free(s);
    } else {
        tu_url_parse(g->pg_url, &t->url);
    }
    if (db_open(&t->url, 10, &t->db, &e) < 0)
        fail_msg("db_open: %s", e.msg);
    if (g->kind == DB_PG && db_drop_all(t->db, &e) < 0)
        fail_msg("db_drop_all: %s", e.msg);
    return t;
}

void tu_db_free(struct tu_db *t)
{
    if (t == NULL)
        return;
    db_close(t->db);
    url_release(&t->url);
    free(t->dir);
    free(t->path);
    free(t);
}

int tu_db_teardown(void **state)
{
    tu_db_free(*state);
    return 0;
}

int tu_run_both(const char *name, const struct CMUnitTest *tests, size_t count)
{
    char *on_sqlite = xasprintf("%s on sqlite", name);
    char *on_pg = xasprintf("%s on postgresql", name);
    int failed = 0;

    failed +=
        _cmocka_run_group_tests(on_sqlite, tests, count, tu_group_setup_sqlite, tu_group_teardown);
    failed += _cmocka_run_group_tests(on_pg, tests, count, tu_group_setup_pg, tu_group_teardown);
    free(on_sqlite);
    free(on_pg);
    return failed;
}
