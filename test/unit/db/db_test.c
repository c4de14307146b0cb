/*
 * Unit tests of src/db (db.h), run twice: on SQLite (a file in a temporary
 * directory, one per test) and on PostgreSQL (a scratch database created
 * from CITAPLANNER_TEST_PG_URL and dropped at the end, emptied with
 * db_drop_all before each test).  Without CITAPLANNER_TEST_PG_URL the
 * PostgreSQL group fails: it is never skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/url.h"
#include "common/util.h"
#include "db/db.h"

struct group {
    enum db_kind kind;
    char *tmpdir;   /* sqlite: one sub-directory per test */
    char *pg_admin; /* postgresql: CITAPLANNER_TEST_PG_URL */
    char *pg_url;   /* postgresql: the scratch database */
    char *dbname;
    int seq;
};

struct fx {
    struct group *g;
    struct url url; /* this test's database, for second connections */
    struct db *db;
    char *path; /* sqlite: the database file */
};

#define CHECK(call)           check_ok((call), &e, #call, __LINE__)
#define CHECK_ERR(call, code) check_err((call), &e, (code), #call, __LINE__)
#define SQL(pg, sqlite)       (db_kind(f->db) == DB_PG ? (pg) : (sqlite))

static void check_ok(int rc, const struct err *e, const char *what, int line)
{
    if (rc < 0)
        fail_msg("line %d: %s failed (%d, %s): %s", line, what, rc, err_name(e->code), e->msg);
}

static void check_err(int rc, const struct err *e, enum err_code code, const char *what, int line)
{
    if (rc != -(int)code || e->code != code)
        fail_msg("line %d: %s returned %d (%s: %s), expected %s", line, what, rc, err_name(e->code),
                 e->msg, err_name(code));
}

/* ---- fixtures ---------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void parse_or_fail(const char *s, struct url *u)
{
    struct err e;
    err_clear(&e);
    memset(u, 0, sizeof(*u));
    if (url_parse(s, u, &e) < 0)
        fail_msg("url_parse failed: %s", e.msg);
}

/* The admin URL with another database name (the part after the host). */
static char *pg_url_with_db(const char *admin, const char *dbname)
{
    const char *auth = strstr(admin, "://");
    const char *slash = auth ? strchr(auth + 3, '/') : NULL;
    const char *query = slash ? strchr(slash, '?') : NULL;

    assert_non_null(slash);
    return xasprintf("%.*s/%s%s", (int)(slash - admin), admin, dbname, query ? query : "");
}

static int group_setup_sqlite(void **state)
{
    struct group *g = xcalloc(1, sizeof(*g));
    char tmpl[] = "/tmp/citaplanner-dbtest.XXXXXX";

    g->kind = DB_SQLITE;
    if (mkdtemp(tmpl) == NULL) {
        free(g);
        return -1;
    }
    g->tmpdir = xstrdup(tmpl);
    *state = g;
    return 0;
}

static int group_teardown_sqlite(void **state)
{
    struct group *g = *state;
    if (g == NULL)
        return 0;
    nftw(g->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(g->tmpdir);
    free(g);
    return 0;
}

static int group_setup_pg(void **state)
{
    const char *admin = getenv("CITAPLANNER_TEST_PG_URL");
    struct group *g = NULL;
    struct url u;
    struct db *db = NULL;
    struct err e;
    char *sql = NULL;
    int rc = -1;

    err_clear(&e);
    if (admin == NULL || admin[0] == '\0') {
        fprintf(stderr, "CITAPLANNER_TEST_PG_URL is not set: run through scripts/pg-throwaway.sh "
                        "(PostgreSQL tests are never skipped)\n");
        return -1;
    }
    g = xcalloc(1, sizeof(*g));
    g->kind = DB_PG;
    g->pg_admin = xstrdup(admin);
    g->dbname = xasprintf("citaplanner_dbtest_%d_%ld", (int)getpid(), (long)time(NULL));
    g->pg_url = pg_url_with_db(admin, g->dbname);
    parse_or_fail(admin, &u);
    if (db_open(&u, 10, &db, &e) < 0) {
        fprintf(stderr, "cannot open the PostgreSQL admin database: %s\n", e.msg);
        goto cleanup;
    }
    sql = xasprintf("CREATE DATABASE %s", g->dbname);
    if (db_exec(db, sql, &e) < 0) {
        fprintf(stderr, "cannot create the scratch database: %s\n", e.msg);
        goto cleanup;
    }
    *state = g;
    g = NULL;
    rc = 0;

cleanup:
    free(sql);
    db_close(db);
    url_release(&u);
    if (g != NULL) {
        free(g->pg_admin);
        free(g->pg_url);
        free(g->dbname);
        free(g);
    }
    return rc;
}

static int group_teardown_pg(void **state)
{
    struct group *g = *state;
    struct url u;
    struct db *db = NULL;
    struct err e;
    char *sql = NULL;
    int rc = 0;

    if (g == NULL) /* the setup failed */
        return 0;
    sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", g->dbname);

    err_clear(&e);
    parse_or_fail(g->pg_admin, &u);
    if (db_open(&u, 10, &db, &e) < 0 || db_exec(db, sql, &e) < 0) {
        fprintf(stderr, "cannot drop the scratch database: %s\n", e.msg);
        rc = -1;
    }
    db_close(db);
    url_release(&u);
    free(sql);
    free(g->pg_admin);
    free(g->pg_url);
    free(g->dbname);
    free(g);
    return rc;
}

static int setup(void **state)
{
    struct group *g = *state;
    struct fx *f = xcalloc(1, sizeof(*f));
    struct err e;
    char *s = NULL;

    err_clear(&e);
    f->g = g;
    if (g->kind == DB_SQLITE) {
        f->path = xasprintf("%s/t%d/sub/test.db", g->tmpdir, ++g->seq);
        s = xasprintf("sqlite:%s", f->path);
        parse_or_fail(s, &f->url);
        free(s);
    } else {
        parse_or_fail(g->pg_url, &f->url);
    }
    if (db_open(&f->url, 10, &f->db, &e) < 0)
        fail_msg("db_open: %s", e.msg);
    if (g->kind == DB_PG && db_drop_all(f->db, &e) < 0)
        fail_msg("db_drop_all: %s", e.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    db_close(f->db);
    url_release(&f->url);
    free(f->path);
    free(f);
    return 0;
}

static struct db *open_second(struct fx *f)
{
    struct db *db = NULL;
    struct err e;
    err_clear(&e);
    if (db_open(&f->url, 10, &db, &e) < 0)
        fail_msg("second db_open: %s", e.msg);
    return db;
}

static int64_t query_int(struct db *db, const char *sql)
{
    struct err e;
    int64_t v = -999;
    err_clear(&e);
    if (db_query_int(db, sql, DB_NOPARAMS, &v, &e) != 0)
        fail_msg("%s: %s", sql, e.msg[0] ? e.msg : "no row");
    return v;
}

static const char *id_col(const struct fx *f)
{
    return db_kind(f->db) == DB_PG ? "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                                   : "id INTEGER PRIMARY KEY";
}

/* ---- tests ------------------------------------------------------------- */

static void t_open_close(void **state)
{
    struct fx *f = *state;
    const char *v = db_server_version(f->db);

    assert_int_equal(db_kind(f->db), f->g->kind);
    if (f->g->kind == DB_PG) {
        assert_true(str_starts_with(v, "PostgreSQL "));
        assert_true(db_server_version_num(f->db) >= 100000);
        assert_non_null(strstr(url_redacted(db_url(f->db)), ":***@"));
    } else {
        assert_true(str_starts_with(v, "SQLite 3."));
        assert_true(db_server_version_num(f->db) >= 3035000);
        assert_string_equal(db_url(f->db)->path, f->path);
    }
    assert_false(db_in_transaction(f->db));
    assert_int_equal(query_int(f->db, "SELECT 1 + 1"), 2);
    db_close(NULL); /* accepted */
}

static void t_exec_multi(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *sql = xasprintf("CREATE TABLE m (%s, v TEXT NOT NULL);\n"
                          "INSERT INTO m (v) VALUES ('a');\n"
                          "-- a comment between statements\n"
                          "INSERT INTO m (v) VALUES ('b; still one string');\n"
                          "INSERT INTO m (v) VALUES ('c');",
                          id_col(f));

    err_clear(&e);
    CHECK(db_exec(f->db, sql, &e));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM m"), 3);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM m WHERE v LIKE 'b;%'"), 1);
    CHECK_ERR(db_exec(f->db, "SELEC 1", &e), ERR_DB);
    assert_true(strlen(e.msg) > 0);
    free(sql);
}

static void t_params(void **state)
{
    struct fx *f = *state;
    const char *text = "it's \"quoted\" -- not a comment $1 ; ñandú café ☕ 日本";
    struct db_res *r = NULL;
    struct err e;
    char *ddl = xasprintf("CREATE TABLE p (%s, i BIGINT, t TEXT, b %s, n TEXT)", id_col(f),
                          SQL("BOOLEAN", "INTEGER"));

    err_clear(&e);
    CHECK(db_exec(f->db, ddl, &e));
    CHECK(db_exec_params(f->db, "INSERT INTO p (i, t, b, n) VALUES ($1, $2, $3, $4)",
                         DB_PARAMS(DB_INT(INT64_MIN + 1), DB_TEXT(text), DB_BOOL(true), DB_NULL),
                         NULL, &e));
    CHECK(db_exec_params(
        f->db, "INSERT INTO p (i, t, b, n) VALUES ($1, $2, $3, $4)",
        DB_PARAMS(DB_INT(INT64_MAX), DB_TEXT(""), DB_BOOL(false), DB_TEXT((const char *)NULL)),
        NULL, &e));

    CHECK(db_query(f->db, "SELECT i, t, b, n FROM p ORDER BY id", DB_NOPARAMS, &r, &e));
    assert_int_equal(db_res_ncols(r), 4);
    assert_string_equal(db_res_colname(r, 0), "i");
    assert_string_equal(db_res_colname(r, 3), "n");
    assert_null(db_res_colname(r, 4));
    assert_int_equal(db_res_next(r), 1);
    assert_true(db_res_int(r, 0) == INT64_MIN + 1);
    assert_string_equal(db_res_text(r, 1), text);
    assert_true(db_res_bool(r, 2));
    assert_true(db_res_isnull(r, 3));
    assert_null(db_res_text(r, 3));
    assert_false(db_res_isnull(r, 1));
    assert_int_equal(db_res_next(r), 1);
    assert_true(db_res_int(r, 0) == INT64_MAX);
    assert_string_equal(db_res_text(r, 1), "");
    assert_false(db_res_isnull(r, 1)); /* the empty string is not NULL */
    assert_false(db_res_bool(r, 2));
    assert_true(db_res_isnull(r, 3));
    assert_int_equal(db_res_next(r), 0);
    assert_int_equal(db_res_next(r), 0);
    db_res_free(r);
    r = NULL;

    /* A parameter compared with a text column finds the row holding it. */
    int64_t n = -1;
    CHECK(db_query_int(f->db, "SELECT count(*) FROM p WHERE t = $1", DB_PARAMS(DB_TEXT(text)), &n,
                       &e));
    assert_int_equal(n, 1);
    CHECK(db_query_int(f->db, "SELECT count(*) FROM p WHERE b = $1", DB_PARAMS(DB_BOOL(true)), &n,
                       &e));
    assert_int_equal(n, 1);
    db_res_free(NULL);
    free(ddl);
}

static void t_param_order(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *s = NULL;
    int64_t n = 0;

    err_clear(&e);
    /* $2 before $1. */
    CHECK(db_query_text(f->db, "SELECT CAST($2 AS TEXT) || '-' || CAST($1 AS TEXT)",
                        DB_PARAMS(DB_TEXT("one"), DB_TEXT("two")), &s, &e));
    assert_string_equal(s, "two-one");
    free(s);
    s = NULL;
    /* The same $1 twice. */
    CHECK(db_query_int(f->db, "SELECT CAST($1 AS BIGINT) + CAST($1 AS BIGINT)",
                       DB_PARAMS(DB_INT(21)), &n, &e));
    assert_int_equal(n, 42);
    /* "$1" inside a literal, a quoted identifier and comments is not a parameter. */
    CHECK(db_query_text(f->db,
                        "SELECT '$1 and ''$2''' || CAST($1 AS TEXT) AS \"x$1\" -- $2\n"
                        "/* $3 */",
                        DB_PARAMS(DB_TEXT("!")), &s, &e));
    assert_string_equal(s, "$1 and '$2'!");
    free(s);
    s = NULL;
    /* A quote inside a comment opens no literal. */
    CHECK(db_query_text(f->db,
                        "SELECT CAST($2 AS TEXT) -- it's the second\n"
                        " || /* no $9 here */ CAST($1 AS TEXT)",
                        DB_PARAMS(DB_TEXT("b"), DB_TEXT("a")), &s, &e));
    assert_string_equal(s, "ab");
    free(s);
    s = NULL;
    /* Ten parameters: $10 is not $1 followed by '0'. */
    CHECK(db_query_int(f->db,
                       "SELECT CAST($10 AS BIGINT) * 100 + CAST($1 AS BIGINT) + 0 * (CAST($2 AS "
                       "BIGINT) + CAST($3 AS BIGINT) + CAST($4 AS BIGINT) + CAST($5 AS BIGINT) + "
                       "CAST($6 AS BIGINT) + CAST($7 AS BIGINT) + CAST($8 AS BIGINT) + CAST($9 AS "
                       "BIGINT))",
                       DB_PARAMS(DB_INT(1), DB_INT(2), DB_INT(3), DB_INT(4), DB_INT(5), DB_INT(6),
                                 DB_INT(7), DB_INT(8), DB_INT(9), DB_INT(10)),
                       &n, &e));
    assert_int_equal(n, 1001);
    /* A parameter missing is an error in both dialects. */
    assert_true(db_query_int(f->db, "SELECT CAST($1 AS BIGINT) + CAST($2 AS BIGINT)",
                             DB_PARAMS(DB_INT(1)), &n, &e) < 0);
    /* So is a query holding two statements. */
    assert_true(db_query_int(f->db, "SELECT 1; SELECT 2", DB_NOPARAMS, &n, &e) < 0);
    /* A trailing semicolon and comment are fine. */
    CHECK(db_query_int(f->db, "SELECT 7; -- done", DB_NOPARAMS, &n, &e));
    assert_int_equal(n, 7);
}

static void t_affected(void **state)
{
    struct fx *f = *state;
    struct err e;
    int64_t n = -1;
    char *ddl = xasprintf("CREATE TABLE a (%s, v BIGINT NOT NULL)", id_col(f));

    err_clear(&e);
    CHECK(db_exec(f->db, ddl, &e));
    CHECK(db_exec_params(f->db, "INSERT INTO a (v) VALUES ($1), ($2), ($3)",
                         DB_PARAMS(DB_INT(1), DB_INT(2), DB_INT(3)), &n, &e));
    assert_int_equal(n, 3);
    CHECK(db_exec_params(f->db, "UPDATE a SET v = v + 10 WHERE v >= $1", DB_PARAMS(DB_INT(2)), &n,
                         &e));
    assert_int_equal(n, 2);
    /* Rows read are not rows changed, nor is the count of the statement before. */
    CHECK(db_exec_params(f->db, "SELECT * FROM a", DB_NOPARAMS, &n, &e));
    assert_int_equal(n, 0);
    CHECK(db_exec_params(f->db, "UPDATE a SET v = v + 10 WHERE v >= $1", DB_PARAMS(DB_INT(2)), &n,
                         &e));
    assert_int_equal(n, 2);
    CHECK(db_exec_params(f->db, "CREATE TABLE a2 (x INTEGER)", DB_NOPARAMS, &n, &e));
    assert_int_equal(n, 0);
    CHECK(db_exec_params(f->db, "UPDATE a SET v = 0 WHERE v = $1", DB_PARAMS(DB_INT(99)), &n, &e));
    assert_int_equal(n, 0);
    CHECK(db_exec_params(f->db, "DELETE FROM a WHERE v > $1", DB_PARAMS(DB_INT(0)), &n, &e));
    assert_int_equal(n, 3);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM a"), 0);
    free(ddl);
}

static void t_returning(void **state)
{
    struct fx *f = *state;
    struct err e;
    int64_t id1 = 0, id2 = 0, n = 0;
    char *ddl = xasprintf("CREATE TABLE r (%s, v TEXT NOT NULL)", id_col(f));

    err_clear(&e);
    CHECK(db_exec(f->db, ddl, &e));
    assert_int_equal(db_query_int(f->db, "INSERT INTO r (v) VALUES ($1) RETURNING id",
                                  DB_PARAMS(DB_TEXT("x")), &id1, &e),
                     0);
    assert_int_equal(db_query_int(f->db, "INSERT INTO r (v) VALUES ($1) RETURNING id",
                                  DB_PARAMS(DB_TEXT("y")), &id2, &e),
                     0);
    assert_true(id1 > 0);
    assert_true(id2 > id1);
    /* RETURNING under db_exec_params: the rows are dropped, the insert happens. */
    CHECK(db_exec_params(f->db, "INSERT INTO r (v) VALUES ($1), ($2) RETURNING id",
                         DB_PARAMS(DB_TEXT("z1"), DB_TEXT("z2")), &n, &e));
    assert_int_equal(n, 2);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM r"), 4);
    CHECK(db_query_int(f->db, "SELECT id FROM r WHERE v = $1", DB_PARAMS(DB_TEXT("y")), &n, &e));
    assert_int_equal(n, id2);
    free(ddl);
}

static void t_query_int_text(void **state)
{
    struct fx *f = *state;
    struct err e;
    int64_t n = 77;
    char *s = NULL;

    err_clear(&e);
    CHECK(db_exec(f->db, "CREATE TABLE q (k TEXT, iv BIGINT, tv TEXT)", &e));
    CHECK(db_exec(f->db, "INSERT INTO q VALUES ('a', 5, 'five'), ('null', NULL, NULL)", &e));

    assert_int_equal(
        db_query_int(f->db, "SELECT iv FROM q WHERE k = $1", DB_PARAMS(DB_TEXT("a")), &n, &e), 0);
    assert_int_equal(n, 5);
    n = 77;
    assert_int_equal(
        db_query_int(f->db, "SELECT iv FROM q WHERE k = $1", DB_PARAMS(DB_TEXT("missing")), &n, &e),
        1);
    assert_int_equal(n, 77); /* untouched */
    assert_int_equal(
        db_query_int(f->db, "SELECT iv FROM q WHERE k = $1", DB_PARAMS(DB_TEXT("null")), &n, &e),
        1);
    assert_int_equal(n, 77);

    assert_int_equal(
        db_query_text(f->db, "SELECT tv FROM q WHERE k = $1", DB_PARAMS(DB_TEXT("a")), &s, &e), 0);
    assert_string_equal(s, "five");
    free(s);
    s = NULL;
    assert_int_equal(db_query_text(f->db, "SELECT tv FROM q WHERE k = $1",
                                   DB_PARAMS(DB_TEXT("missing")), &s, &e),
                     1);
    assert_null(s);
    assert_int_equal(
        db_query_text(f->db, "SELECT tv FROM q WHERE k = $1", DB_PARAMS(DB_TEXT("null")), &s, &e),
        1);
    assert_null(s);
    /* A boolean expression reads as 1/0 whatever the dialect returns. */
    CHECK(
        db_query_int(f->db, "SELECT EXISTS (SELECT 1 FROM q WHERE k = 'a')", DB_NOPARAMS, &n, &e));
    assert_int_equal(n, 1);
    CHECK_ERR(db_query_int(f->db, "SELECT iv FROM no_such_table", DB_NOPARAMS, &n, &e), ERR_DB);
    assert_non_null(strstr(e.msg, "no_such_table"));
}

static void t_transactions(void **state)
{
    struct fx *f = *state;
    struct db *other = NULL;
    struct err e;

    err_clear(&e);
    CHECK(db_exec(f->db, "CREATE TABLE tx (v INTEGER NOT NULL)", &e));
    other = open_second(f);

    CHECK(db_begin(f->db, &e));
    assert_true(db_in_transaction(f->db));
    CHECK_ERR(db_begin(f->db, &e), ERR_DB); /* nested */
    assert_true(db_in_transaction(f->db));
    CHECK(db_exec(f->db, "INSERT INTO tx VALUES (1)", &e));
    assert_int_equal(query_int(other, "SELECT count(*) FROM tx"), 0); /* not yet visible */
    CHECK(db_commit(f->db, &e));
    assert_false(db_in_transaction(f->db));
    assert_int_equal(query_int(other, "SELECT count(*) FROM tx"), 1);

    CHECK(db_begin(f->db, &e));
    CHECK(db_exec(f->db, "INSERT INTO tx VALUES (2)", &e));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM tx"), 2);
    assert_int_equal(db_rollback(f->db), 0);
    assert_false(db_in_transaction(f->db));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM tx"), 1);
    assert_int_equal(query_int(other, "SELECT count(*) FROM tx"), 1);

    CHECK_ERR(db_commit(f->db, &e), ERR_DB); /* nothing open */
    assert_int_equal(db_rollback(f->db), 0); /* harmless */

    /* A failed statement inside: the commit fails or the data is gone, never half of it. */
    CHECK(db_begin(f->db, &e));
    CHECK(db_exec(f->db, "INSERT INTO tx VALUES (3)", &e));
    CHECK_ERR(db_exec(f->db, "INSERT INTO tx VALUES (NULL)", &e), ERR_DB);
    db_rollback(f->db);
    assert_false(db_in_transaction(f->db));
    assert_int_equal(query_int(other, "SELECT count(*) FROM tx"), 1);

    if (f->g->kind == DB_PG) {
        /* PostgreSQL turns COMMIT of a failed transaction into ROLLBACK: reported. */
        CHECK(db_begin(f->db, &e));
        CHECK(db_exec(f->db, "INSERT INTO tx VALUES (4)", &e));
        CHECK_ERR(db_exec(f->db, "INSERT INTO tx VALUES (NULL)", &e), ERR_DB);
        CHECK_ERR(db_commit(f->db, &e), ERR_DB);
        assert_false(db_in_transaction(f->db));
        assert_int_equal(query_int(other, "SELECT count(*) FROM tx"), 1);
    }
    db_close(other);
}

static void t_constraints(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *ddl = xasprintf("CREATE TABLE parent (%s, email TEXT NOT NULL UNIQUE);\n"
                          "CREATE TABLE child (%s, parent_id BIGINT NOT NULL REFERENCES parent(id),"
                          " qty INTEGER NOT NULL CONSTRAINT child_qty_positive CHECK (qty > 0));",
                          id_col(f), id_col(f));
    int64_t pid = 0;

    err_clear(&e);
    CHECK(db_exec(f->db, ddl, &e));
    CHECK(db_query_int(f->db, "INSERT INTO parent (email) VALUES ($1) RETURNING id",
                       DB_PARAMS(DB_TEXT("a@example.com")), &pid, &e));
    CHECK_ERR(db_exec_params(f->db, "INSERT INTO parent (email) VALUES ($1)",
                             DB_PARAMS(DB_TEXT("a@example.com")), NULL, &e),
              ERR_DB_UNIQUE);
    CHECK_ERR(db_exec_params(f->db, "INSERT INTO child (parent_id, qty) VALUES ($1, 1)",
                             DB_PARAMS(DB_INT(pid + 1000)), NULL, &e),
              ERR_DB_FOREIGN_KEY);
    CHECK_ERR(db_exec_params(f->db, "INSERT INTO child (parent_id, qty) VALUES ($1, 0)",
                             DB_PARAMS(DB_INT(pid)), NULL, &e),
              ERR_DB_CHECK);
    assert_non_null(strstr(e.msg, "child_qty_positive"));
    CHECK(db_exec_params(f->db, "INSERT INTO child (parent_id, qty) VALUES ($1, 2)",
                         DB_PARAMS(DB_INT(pid)), NULL, &e));
    /* Deleting a referenced parent is a foreign-key error too. */
    CHECK_ERR(
        db_exec_params(f->db, "DELETE FROM parent WHERE id = $1", DB_PARAMS(DB_INT(pid)), NULL, &e),
        ERR_DB_FOREIGN_KEY);
    /* The same through db_exec (no parameters). */
    CHECK_ERR(db_exec(f->db, "INSERT INTO parent (email) VALUES ('a@example.com')", &e),
              ERR_DB_UNIQUE);
    free(ddl);
}

static void t_overlap(void **state)
{
    struct fx *f = *state;
    struct err e;

    err_clear(&e);
    if (f->g->kind == DB_PG) {
        CHECK(db_exec(f->db,
                      "CREATE TABLE slot (pro BIGINT NOT NULL, start_at TIMESTAMPTZ(0) NOT NULL,"
                      " end_at TIMESTAMPTZ(0) NOT NULL, status TEXT NOT NULL,"
                      " CONSTRAINT slot_no_overlap EXCLUDE USING gist"
                      " (tstzrange(start_at, end_at, '[)') WITH &&)"
                      " WHERE (status IN ('PENDING', 'CONFIRMED')))",
                      &e));
    } else {
        CHECK(db_exec(f->db,
                      "CREATE TABLE slot (pro INTEGER NOT NULL, start_at TEXT NOT NULL,"
                      " end_at TEXT NOT NULL, status TEXT NOT NULL);\n"
                      "CREATE TRIGGER slot_no_overlap BEFORE INSERT ON slot"
                      " WHEN NEW.status IN ('PENDING', 'CONFIRMED') BEGIN"
                      " SELECT RAISE(ABORT, 'slot_taken') WHERE EXISTS (SELECT 1 FROM slot"
                      " WHERE status IN ('PENDING', 'CONFIRMED')"
                      " AND start_at < NEW.end_at AND NEW.start_at < end_at); END;",
                      &e));
    }
    const char *ins = "INSERT INTO slot VALUES (1, $1, $2, $3)";
    CHECK(db_exec_params(f->db, ins,
                         DB_PARAMS(DB_TEXT("2025-01-09 10:00:00+00"),
                                   DB_TEXT("2025-01-09 11:00:00+00"), DB_TEXT("CONFIRMED")),
                         NULL, &e));
    /* Adjacent: fine. */
    CHECK(db_exec_params(f->db, ins,
                         DB_PARAMS(DB_TEXT("2025-01-09 11:00:00+00"),
                                   DB_TEXT("2025-01-09 12:00:00+00"), DB_TEXT("PENDING")),
                         NULL, &e));
    /* Overlapping a cancelled one: fine. */
    CHECK(db_exec_params(f->db, ins,
                         DB_PARAMS(DB_TEXT("2025-01-09 10:30:00+00"),
                                   DB_TEXT("2025-01-09 10:45:00+00"), DB_TEXT("CANCELLED")),
                         NULL, &e));
    CHECK_ERR(db_exec_params(f->db, ins,
                             DB_PARAMS(DB_TEXT("2025-01-09 10:59:00+00"),
                                       DB_TEXT("2025-01-09 11:15:00+00"), DB_TEXT("PENDING")),
                             NULL, &e),
              ERR_DB_OVERLAP);
    /* Inside a transaction too, and the transaction can go on to roll back. */
    CHECK(db_begin(f->db, &e));
    CHECK_ERR(db_exec_params(f->db, ins,
                             DB_PARAMS(DB_TEXT("2025-01-09 09:30:00+00"),
                                       DB_TEXT("2025-01-09 10:30:00+00"), DB_TEXT("CONFIRMED")),
                             NULL, &e),
              ERR_DB_OVERLAP);
    db_rollback(f->db);
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM slot"), 3);
    /* Another RAISE(ABORT) message is not an overlap. */
    if (f->g->kind == DB_SQLITE) {
        CHECK(db_exec(f->db,
                      "CREATE TRIGGER other BEFORE DELETE ON slot BEGIN"
                      " SELECT RAISE(ABORT, 'not_allowed'); END;",
                      &e));
        CHECK_ERR(db_exec(f->db, "DELETE FROM slot", &e), ERR_DB);
        assert_non_null(strstr(e.msg, "not_allowed"));
    }
}

struct waiter {
    struct db *db;
    int rc;
    double waited;
};

static void *wait_for_lock(void *arg)
{
    struct waiter *w = arg;
    struct err e;
    double t0 = time_mono();

    err_clear(&e);
    w->rc = db_lock(w->db, "waiting", true, &e);
    w->waited = time_mono() - t0;
    return NULL;
}

static void t_lock(void **state)
{
    struct fx *f = *state;
    struct db *other = open_second(f);
    struct db *third = NULL;
    struct waiter w = {0};
    pthread_t th;
    struct err e;

    err_clear(&e);
    CHECK(db_lock(f->db, "migrate", false, &e));
    CHECK_ERR(db_lock(other, "migrate", false, &e), ERR_LOCKED);
    assert_string_equal(e.msg, "lock 'migrate' is held by another process");
    /* Another name is another lock. */
    CHECK(db_lock(other, "backup", false, &e));
    CHECK_ERR(db_lock(f->db, "backup", false, &e), ERR_LOCKED);
    /* Taken twice by one session: held until released twice. */
    CHECK(db_lock(f->db, "migrate", false, &e));
    CHECK(db_unlock(f->db, "migrate", &e));
    CHECK_ERR(db_lock(other, "migrate", false, &e), ERR_LOCKED);
    CHECK(db_unlock(f->db, "migrate", &e));
    CHECK(db_lock(other, "migrate", false, &e));
    assert_true(db_unlock(f->db, "migrate", &e) < 0); /* not held */
    /* Closing the connection releases its locks. */
    db_close(other);
    other = NULL;
    CHECK(db_lock(f->db, "migrate", false, &e));
    CHECK(db_lock(f->db, "backup", false, &e));
    /* Bad names are refused. */
    assert_true(db_lock(f->db, "../x", false, &e) < 0);
    assert_true(db_lock(f->db, "", false, &e) < 0);

    /* wait=true blocks until the holder lets go. */
    third = open_second(f);
    CHECK(db_lock(f->db, "waiting", false, &e));
    w.db = third;
    w.rc = 1;
    assert_int_equal(pthread_create(&th, NULL, wait_for_lock, &w), 0);
    usleep(300 * 1000);
    CHECK(db_unlock(f->db, "waiting", &e));
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    assert_true(w.waited >= 0.25);
    CHECK_ERR(db_lock(f->db, "waiting", false, &e), ERR_LOCKED);
    db_close(third);
    CHECK(db_lock(f->db, "waiting", false, &e));

    if (f->g->kind == DB_SQLITE) {
        char *lockfile = xasprintf("%s.migrate.lock", f->path);
        struct stat st;
        assert_int_equal(stat(lockfile, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        free(lockfile);
    }
}

/* A loopback port where nothing listens (bound, then closed). */
static int free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static char *pct(const char *s)
{
    struct buf b = BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
            buf_addc(&b, (char)*p);
        else
            buf_addf(&b, "%%%02X", *p);
    }
    return buf_detach(&b);
}

/* Open s, expect code, and check that the message holds neither password. */
static void expect_connect_error(const char *s, enum err_code code, const char *why,
                                 const char *password, const struct url *real)
{
    struct url u;
    struct db *db = NULL;
    struct err e;
    double t0 = time_mono();
    int rc;

    err_clear(&e);
    parse_or_fail(s, &u);
    rc = db_open(&u, 5, &db, &e);
    if (rc != -(int)code || e.code != code)
        fail_msg("opening '%s' gave %d (%s: %s), expected %s", url_redacted(&u), rc,
                 err_name(e.code), e.msg, err_name(code));
    assert_null(db);
    assert_true(time_mono() - t0 < 5.0);
    if (why != NULL && strstr(e.msg, why) == NULL)
        fail_msg("'%s' does not say '%s'", e.msg, why);
    assert_non_null(strstr(e.msg, url_redacted(&u)));
    if (password != NULL)
        assert_null(strstr(e.msg, password));
    if (real != NULL && real->password != NULL)
        assert_null(strstr(e.msg, real->password));
    url_release(&u);
}

static void t_connect_errors(void **state)
{
    struct fx *f = *state;
    const char *wrong = "Wr0ng s3cret:p@ss";
    char *s = NULL;

    if (f->g->kind == DB_PG) {
        const struct url *real = db_url(f->db);
        char *user = pct(real->user);
        char *pass = pct(real->password);
        char *wrong_enc = pct(wrong);

        s = xasprintf("postgresql://%s:%s@127.0.0.1:%d/postgres", user, pass, free_port());
        expect_connect_error(s, ERR_DB_CONNECT, "connection refused", NULL, real);
        free(s);
        s = xasprintf("postgresql://%s:%s@nonexistent.invalid:%d/postgres", user, pass, real->port);
        expect_connect_error(s, ERR_DB_CONNECT, "name not resolved", NULL, real);
        free(s);
        s = xasprintf("postgresql://%s:%s@%s:%d/postgres", user, wrong_enc, real->host, real->port);
        expect_connect_error(s, ERR_DB_AUTH, NULL, wrong, real);
        free(s);
        /* No password at all (and none from the environment or a passfile). */
        unsetenv("PGPASSWORD");
        setenv("PGPASSFILE", "/nonexistent/pgpass", 1);
        s = xasprintf("postgresql://%s@%s:%d/postgres", user, real->host, real->port);
        expect_connect_error(s, ERR_DB_AUTH, "authentication failed", NULL, real);
        free(s);
        s = xasprintf("postgresql://%s:%s@%s:%d/no_such_database_here", user, pass, real->host,
                      real->port);
        expect_connect_error(s, ERR_DB_CONNECT, "database missing", NULL, real);
        free(s);
        /* An unknown connection keyword is a configuration error. */
        s = xasprintf("postgresql://%s:%s@%s:%d/postgres?no_such_keyword=1", user, pass, real->host,
                      real->port);
        expect_connect_error(s, ERR_CONFIG, NULL, NULL, real);
        free(s);
        s = NULL;
        /* URL query parameters reach libpq. */
        {
            struct url u;
            struct db *db = NULL;
            struct err e;
            char *name = NULL;
            err_clear(&e);
            s = xasprintf("postgresql://%s:%s@%s:%d/postgres?application_name=dbtest&sslmode="
                          "disable",
                          user, pass, real->host, real->port);
            parse_or_fail(s, &u);
            CHECK(db_open(&u, 5, &db, &e));
            CHECK(db_query_text(db, "SELECT current_setting('application_name')", DB_NOPARAMS,
                                &name, &e));
            assert_string_equal(name, "dbtest");
            free(name);
            db_close(db);
            url_release(&u);
        }
        free(user);
        free(pass);
        free(wrong_enc);
    } else {
        /* A path under a regular file cannot be a database. */
        s = xasprintf("sqlite:%s/x/y.db", f->path);
        expect_connect_error(s, ERR_DB_CONNECT, "cannot", NULL, NULL);
        free(s);
        s = NULL;
        /* A file that is not a database. */
        char *junk = xasprintf("%s.junk", f->path);
        FILE *fp = fopen(junk, "w");
        assert_non_null(fp);
        for (int i = 0; i < 200; i++)
            fputs("this is not an sqlite database at all\n", fp);
        fclose(fp);
        s = xasprintf("sqlite:%s", junk);
        expect_connect_error(s, ERR_DB_CONNECT, "not a database", NULL, NULL);
        free(junk);
    }
    free(s);
}

static bool is_instant(const char *s)
{
    const char *shape = "dddd-dd-dd dd:dd:dd+00";
    if (s == NULL || strlen(s) != strlen(shape))
        return false;
    for (size_t i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

static void t_instants(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *s = NULL;
    int64_t n = 0;

    err_clear(&e);
    CHECK(db_exec(f->db,
                  SQL("CREATE TABLE ti (k TEXT, at TIMESTAMPTZ(0) NOT NULL DEFAULT now())",
                      "CREATE TABLE ti (k TEXT, at TEXT NOT NULL DEFAULT "
                      "(strftime('%Y-%m-%d %H:%M:%S+00', 'now')))"),
                  &e));
    CHECK(db_exec_params(f->db, "INSERT INTO ti (k, at) VALUES ('given', $1)",
                         DB_PARAMS(DB_TEXT("2025-01-09 02:00:00+00")), NULL, &e));
    CHECK(db_exec(f->db, "INSERT INTO ti (k) VALUES ('default')", &e));
    CHECK(db_query_text(f->db, "SELECT at FROM ti WHERE k = 'given'", DB_NOPARAMS, &s, &e));
    assert_string_equal(s, "2025-01-09 02:00:00+00");
    free(s);
    s = NULL;
    CHECK(db_query_text(f->db, "SELECT at FROM ti WHERE k = 'default'", DB_NOPARAMS, &s, &e));
    if (!is_instant(s))
        fail_msg("default instant '%s' is not 'YYYY-MM-DD HH:MM:SS+00'", s);
    free(s);
    s = NULL;
    /* Comparing with a bound instant works alike in both dialects. */
    CHECK(db_query_int(f->db, "SELECT count(*) FROM ti WHERE at < $1",
                       DB_PARAMS(DB_TEXT("2025-01-09 02:00:01+00")), &n, &e));
    assert_int_equal(n, 1);
    if (f->g->kind == DB_PG) {
        /* Another offset and a fraction come back normalised to UTC, whole seconds. */
        CHECK(db_exec_params(f->db, "INSERT INTO ti (k, at) VALUES ('offset', $1)",
                             DB_PARAMS(DB_TEXT("2025-01-08 20:00:00.4-06")), NULL, &e));
        CHECK(db_query_text(f->db, "SELECT at FROM ti WHERE k = 'offset'", DB_NOPARAMS, &s, &e));
        assert_string_equal(s, "2025-01-09 02:00:00+00");
        free(s);
        s = NULL;
        CHECK(db_query_text(f->db, "SELECT CAST('2025-07-01 12:00:00+00' AS DATE)", DB_NOPARAMS, &s,
                            &e));
        assert_string_equal(s, "2025-07-01");
        free(s);
        s = NULL;
    }
}

static void t_connection_settings(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *s = NULL;

    err_clear(&e);
    if (f->g->kind == DB_SQLITE) {
        struct stat st;
        char *dir = xstrdup(f->path);
        char *parent = NULL;

        /* The test's file lives in two new directories: "tN" and "tN/sub". */
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(stat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        parent = xstrdup(dir);
        *strrchr(parent, '/') = '\0';
        assert_int_equal(stat(parent, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        free(dir);
        free(parent);

        CHECK(db_query_text(f->db, "PRAGMA journal_mode", DB_NOPARAMS, &s, &e));
        assert_string_equal(s, "wal");
        free(s);
        assert_int_equal(query_int(f->db, "PRAGMA foreign_keys"), 1);
        assert_int_equal(query_int(f->db, "PRAGMA synchronous"), 2);
        assert_true(query_int(f->db, "PRAGMA busy_timeout") >= 5000);
        /* Reopening an existing file keeps it and its settings. */
        CHECK(db_exec(f->db, "CREATE TABLE keep (x INTEGER); INSERT INTO keep VALUES (9)", &e));
        /* SQLite gives the WAL the database file's mode. */
        char *wal = xasprintf("%s-wal", f->path);
        assert_int_equal(stat(wal, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        free(wal);
        db_close(f->db);
        f->db = NULL;
        CHECK(db_open(&f->url, 10, &f->db, &e));
        assert_int_equal(query_int(f->db, "SELECT x FROM keep"), 9);
        assert_int_equal(query_int(f->db, "PRAGMA foreign_keys"), 1);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    } else {
        CHECK(db_query_text(f->db, "SHOW TimeZone", DB_NOPARAMS, &s, &e));
        assert_string_equal(s, "UTC");
        free(s);
        CHECK(db_query_text(f->db, "SHOW DateStyle", DB_NOPARAMS, &s, &e));
        assert_string_equal(s, "ISO, YMD");
        free(s);
        CHECK(db_query_text(f->db, "SHOW client_min_messages", DB_NOPARAMS, &s, &e));
        assert_string_equal(s, "warning");
        free(s);
        CHECK(db_query_text(f->db, "SHOW application_name", DB_NOPARAMS, &s, &e));
        assert_string_equal(s, "citaplanner");
        free(s);
        assert_int_equal(query_int(f->db, "SELECT current_setting('server_version_num')::int"),
                         db_server_version_num(f->db));
        CHECK(db_query_text(f->db, "SHOW server_version", DB_NOPARAMS, &s, &e));
        assert_true(str_starts_with(s, db_server_version(f->db) + strlen("PostgreSQL ")));
        free(s);
        /* A notice goes to the debug log, not to the statement's result. */
        CHECK(db_exec(f->db, "DO $$ BEGIN RAISE WARNING 'just a warning'; END $$", &e));
    }
}

static void t_concurrent_writer(void **state)
{
    struct fx *f = *state;
    struct db *other = open_second(f);
    struct err e;

    err_clear(&e);
    CHECK(db_exec(f->db,
                  "CREATE TABLE w (id INTEGER PRIMARY KEY, v INTEGER);"
                  "INSERT INTO w VALUES (1, 0)",
                  &e));
    CHECK(db_begin(f->db, &e));
    CHECK(db_exec(f->db, "UPDATE w SET v = 1 WHERE id = 1", &e));
    if (f->g->kind == DB_SQLITE) {
        /* BEGIN IMMEDIATE takes the write lock: a second writer waits 5 s, then gives up. */
        double t0 = time_mono();
        CHECK_ERR(db_begin(other, &e), ERR_DB);
        assert_string_equal(e.msg, "database is locked");
        assert_true(time_mono() - t0 >= 4.0);
        assert_false(db_in_transaction(other));
    } else {
        CHECK(db_exec(other, "SET lock_timeout = '200ms'", &e));
        CHECK_ERR(db_exec(other, "UPDATE w SET v = 2 WHERE id = 1", &e), ERR_DB);
    }
    /* Readers still read the last committed state. */
    assert_int_equal(query_int(other, "SELECT v FROM w WHERE id = 1"), 0);
    CHECK(db_commit(f->db, &e));
    assert_int_equal(query_int(other, "SELECT v FROM w WHERE id = 1"), 1);
    CHECK(db_begin(other, &e));
    CHECK(db_exec(other, "UPDATE w SET v = 2 WHERE id = 1", &e));
    CHECK(db_commit(other, &e));
    assert_int_equal(query_int(f->db, "SELECT v FROM w WHERE id = 1"), 2);
    db_close(other);
}

static void t_drop_all(void **state)
{
    struct fx *f = *state;
    struct err e;
    char **names = NULL;
    int count = -1;
    char *ddl = xasprintf(
        "CREATE TABLE a_parent (%s, name TEXT NOT NULL);\n"
        "CREATE TABLE b_child (%s, parent_id BIGINT NOT NULL REFERENCES a_parent(id));\n"
        "CREATE INDEX child_parent ON b_child (parent_id);\n"
        "CREATE VIEW child_view AS SELECT c.id, p.name FROM b_child c JOIN a_parent p"
        " ON p.id = c.parent_id;\n"
        "INSERT INTO a_parent (id, name) VALUES (1, 'p');\n"
        "INSERT INTO b_child (id, parent_id) VALUES (1, 1);\n"
        "%s",
        id_col(f), id_col(f),
        SQL("CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END "
            "$$;\n"
            "CREATE TRIGGER child_noop BEFORE INSERT ON b_child FOR EACH ROW EXECUTE FUNCTION "
            "noop();\n"
            "CREATE SEQUENCE loose_seq;\n"
            "CREATE TYPE mood AS ENUM ('ok', 'bad');",
            "CREATE TRIGGER child_noop BEFORE INSERT ON b_child BEGIN SELECT 1; END;\n"
            "CREATE TABLE auto (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);\n"
            "INSERT INTO auto (v) VALUES ('x');"));

    err_clear(&e);
    CHECK(db_exec(f->db, ddl, &e));
    CHECK(db_list_tables(f->db, &names, &count, &e));
    assert_true(count >= 2);
    db_strv_free(names, count);
    names = NULL;

    CHECK(db_drop_all(f->db, &e));
    CHECK(db_list_tables(f->db, &names, &count, &e));
    assert_int_equal(count, 0);
    db_strv_free(names, count);
    names = NULL;
    if (f->g->kind == DB_PG) {
        assert_int_equal(query_int(f->db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                                          " ON n.oid = c.relnamespace WHERE n.nspname = 'public'"),
                         0);
        assert_int_equal(query_int(f->db, "SELECT count(*) FROM pg_type t JOIN pg_namespace n"
                                          " ON n.oid = t.typnamespace WHERE n.nspname = 'public'"),
                         0);
        assert_int_equal(query_int(f->db, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n"
                                          " ON n.oid = p.pronamespace WHERE n.nspname = 'public'"),
                         0);
        /* The new schema: owned by the current user, USAGE for PUBLIC as before. */
        assert_int_equal(query_int(f->db, "SELECT count(*) FROM pg_namespace n WHERE n.nspname ="
                                          " 'public' AND pg_get_userbyid(n.nspowner) ="
                                          " current_user"),
                         1);
        assert_int_equal(query_int(f->db,
                                   "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl)"
                                   " a WHERE n.nspname = 'public' AND a.grantee = 0"
                                   " AND a.privilege_type = 'USAGE'"),
                         1);
        assert_int_equal(query_int(f->db,
                                   "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl)"
                                   " a WHERE n.nspname = 'public' AND a.grantee ="
                                   " n.nspowner AND a.privilege_type IN ('USAGE', 'CREATE')"),
                         2);
    } else {
        assert_int_equal(query_int(f->db, "SELECT count(*) FROM sqlite_master"
                                          " WHERE name NOT LIKE 'sqlite%'"),
                         0);
        assert_int_equal(query_int(f->db, "PRAGMA foreign_keys"), 1);
    }
    /* The database is usable again, and the objects can be made anew. */
    CHECK(db_exec(f->db, ddl, &e));
    assert_int_equal(query_int(f->db, "SELECT count(*) FROM child_view"), 1);
    /* Dropping twice, or inside a transaction, works too. */
    CHECK(db_drop_all(f->db, &e));
    CHECK(db_drop_all(f->db, &e));
    CHECK(db_exec(f->db, ddl, &e));
    CHECK(db_begin(f->db, &e));
    CHECK(db_drop_all(f->db, &e));
    CHECK(db_commit(f->db, &e));
    CHECK(db_list_tables(f->db, &names, &count, &e));
    assert_int_equal(count, 0);
    db_strv_free(names, count);
    free(ddl);
}

static void t_list_tables(void **state)
{
    struct fx *f = *state;
    const char *expected[] = {"Zulu", "_migrations", "alpha", "mid", "zeta"};
    struct err e;
    char **names = NULL;
    int count = -1;

    err_clear(&e);
    CHECK(db_list_tables(f->db, &names, &count, &e));
    assert_int_equal(count, 0);
    db_strv_free(names, count);
    names = NULL;
    CHECK(db_exec(f->db,
                  "CREATE TABLE zeta (x INTEGER);"
                  "CREATE TABLE alpha (x INTEGER);"
                  "CREATE TABLE _migrations (x INTEGER);"
                  "CREATE TABLE \"Zulu\" (x INTEGER);"
                  "CREATE TABLE mid (x INTEGER);"
                  "CREATE VIEW not_a_table AS SELECT 1 AS one;"
                  "CREATE INDEX alpha_x ON alpha (x);",
                  &e));
    if (f->g->kind == DB_SQLITE)
        CHECK(db_exec(f->db,
                      "CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT);"
                      "INSERT INTO seq DEFAULT VALUES; DROP TABLE seq",
                      &e)); /* leaves sqlite_sequence behind */
    else
        CHECK(db_exec(f->db, "CREATE SCHEMA other; CREATE TABLE other.hidden (x INTEGER)", &e));
    CHECK(db_list_tables(f->db, &names, &count, &e));
    assert_int_equal(count, 5);
    for (int i = 0; i < count; i++)
        assert_string_equal(names[i], expected[i]);
    db_strv_free(names, count);
    db_strv_free(NULL, 0);
    if (f->g->kind == DB_PG)
        CHECK(db_exec(f->db, "DROP SCHEMA other CASCADE", &e));
}

static void t_quote_ident(void **state)
{
    struct fx *f = *state;
    struct err e;
    char *q = db_quote_ident("we\"ird name");
    char *sql = NULL;

    err_clear(&e);
    assert_string_equal(q, "\"we\"\"ird name\"");
    sql = xasprintf("CREATE TABLE %s (x INTEGER); INSERT INTO %s VALUES (3)", q, q);
    CHECK(db_exec(f->db, sql, &e));
    free(sql);
    sql = xasprintf("SELECT x FROM %s", q);
    assert_int_equal(query_int(f->db, sql), 3);
    free(sql);
    free(q);
    q = db_quote_ident("");
    assert_string_equal(q, "\"\"");
    free(q);
}

static void t_many_rows(void **state)
{
    struct fx *f = *state;
    struct db_res *r = NULL;
    struct err e;
    int64_t sum = 0, rows = 0;

    err_clear(&e);
    CHECK(db_query(f->db,
                   "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $1)"
                   " SELECT n, CAST(n AS TEXT) AS t FROM c",
                   DB_PARAMS(DB_INT(5000)), &r, &e));
    while (db_res_next(r) == 1) {
        char buf[24];
        int64_t n = db_res_int(r, 0);
        snprintf(buf, sizeof(buf), "%lld", (long long)n);
        assert_string_equal(db_res_text(r, 1), buf);
        sum += n;
        rows++;
    }
    assert_int_equal(rows, 5000);
    assert_int_equal(sum, 5000LL * 5001 / 2);
    assert_null(db_res_text(r, 0)); /* past the end */
    db_res_free(r);
    r = NULL;
    /* An empty result. */
    CHECK(db_query(f->db, "SELECT 1 WHERE 1 = 0", DB_NOPARAMS, &r, &e));
    assert_int_equal(db_res_next(r), 0);
    assert_true(db_res_isnull(r, 0));
    db_res_free(r);
    r = NULL;
    /* A result not walked to the end, freed early. */
    CHECK(db_query(f->db, "SELECT 1 UNION ALL SELECT 2", DB_NOPARAMS, &r, &e));
    assert_null(db_res_text(r, 0)); /* before the first row */
    assert_int_equal(db_res_next(r), 1);
    db_res_free(r);
}

#define CASES(prefix)                                                                              \
    cmocka_unit_test_setup_teardown(t_open_close, setup, teardown),                                \
        cmocka_unit_test_setup_teardown(t_exec_multi, setup, teardown),                            \
        cmocka_unit_test_setup_teardown(t_params, setup, teardown),                                \
        cmocka_unit_test_setup_teardown(t_param_order, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(t_affected, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(t_returning, setup, teardown),                             \
        cmocka_unit_test_setup_teardown(t_query_int_text, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(t_transactions, setup, teardown),                          \
        cmocka_unit_test_setup_teardown(t_constraints, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(t_overlap, setup, teardown),                               \
        cmocka_unit_test_setup_teardown(t_lock, setup, teardown),                                  \
        cmocka_unit_test_setup_teardown(t_connect_errors, setup, teardown),                        \
        cmocka_unit_test_setup_teardown(t_instants, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(t_connection_settings, setup, teardown),                   \
        cmocka_unit_test_setup_teardown(t_concurrent_writer, setup, teardown),                     \
        cmocka_unit_test_setup_teardown(t_drop_all, setup, teardown),                              \
        cmocka_unit_test_setup_teardown(t_list_tables, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(t_quote_ident, setup, teardown),                           \
        cmocka_unit_test_setup_teardown(t_many_rows, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests_sqlite[] = {CASES(sqlite)};
    const struct CMUnitTest tests_pg[] = {CASES(pg)};
    int failed = 0;

    failed += cmocka_run_group_tests_name("db on sqlite", tests_sqlite, group_setup_sqlite,
                                          group_teardown_sqlite);
    failed += cmocka_run_group_tests_name("db on postgresql", tests_pg, group_setup_pg,
                                          group_teardown_pg);
    return failed == 0 ? 0 : 1;
}
