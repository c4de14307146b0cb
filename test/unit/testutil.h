/*
 * testutil — what the cmocka unit tests share: scratch directories and
 * files, checking a call's result and error code, and running one list of
 * cases on both databases (SQLite files in a scratch directory; a scratch
 * PostgreSQL database made from CITAPLANNER_TEST_PG_URL, whose absence fails
 * the PostgreSQL group: it is never skipped).
 *
 * Everything here reports trouble through cmocka (fail_msg) or, in group
 * fixtures, on stderr with a failing return, which cmocka counts as failed.
 * The file helpers are inline so that a test may use them without linking
 * the testutil library; the rest lives in testutil.c.  Include cmocka.h
 * first.
 */
#ifndef CITAPLANNER_TEST_UNIT_TESTUTIL_H
#define CITAPLANNER_TEST_UNIT_TESTUTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/url.h"
#include "common/util.h"
#include "db/db.h"

struct CMUnitTest;

/* ---- scratch directories and files -------------------------------------- */

static inline int tu_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/*
 * A new empty directory under TMPDIR (or /tmp) named after the test program,
 * so that a leftover says whose it is.  Caller frees the name; tu_rmdir
 * removes the directory and frees it.
 */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *t = xasprintf("%s/citaplanner-%s.XXXXXX", base, program_invocation_short_name);

    if (mkdtemp(t) == NULL)
        fail_msg("cannot make a directory like '%s'", t);
    return t;
}

/* Remove dir and all below it, then free the name; NULL is accepted. */
static inline void tu_rmdir(char *dir)
{
    if (dir != NULL)
        nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Write content to path, replacing it; fails the test when it cannot. */
static inline void tu_write(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        fail_msg("cannot write '%s'", path);
    fputs(content, f);
    fclose(f);
}

/* 1 when path exists (a dangling link counts), else 0. */
static inline int tu_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* The whole file as a string (caller frees); NULL when unreadable. */
static inline char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char tmp[65536];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_add(&b, tmp, n);
    fclose(f);
    if (len != NULL)
        *len = b.len;
    if (b.data == NULL)
        return xstrdup("");
    return buf_detach(&b);
}

/* ---- results ------------------------------------------------------------ */

/* CHECK(call): call succeeded; CHECK_ERR(call, code): it failed with code.
 * Both read the caller's `struct err e` and name the call and line. */
#define CHECK(call)           tu_check_ok((call), &e, #call, __LINE__)
#define CHECK_ERR(call, code) tu_check_err((call), &e, (code), #call, __LINE__)

/* Fail the test unless rc >= 0, quoting what and e. */
void tu_check_ok(int rc, const struct err *e, const char *what, int line);

/* Fail the test unless rc is -code and e holds code. */
void tu_check_err(int rc, const struct err *e, enum err_code code, const char *what, int line);

/* ---- databases ---------------------------------------------------------- */

/* Parse text into *u (caller releases with url_release); fails the test. */
void tu_url_parse(const char *text, struct url *u);

/* Open the database at URL text (caller closes); fails the test. */
struct db *tu_db_open_url(const char *text);

/* Run sql (no parameters); fails the test quoting it. */
void tu_exec(struct db *db, const char *sql);

/* The one integer sql yields; fails the test on an error or no row. */
int64_t tu_query_int(struct db *db, const char *sql);

/* The one text sql yields (caller frees); fails the test on an error or no row. */
char *tu_query_text(struct db *db, const char *sql);

/* ---- PostgreSQL scratch databases --------------------------------------- */

/*
 * CITAPLANNER_TEST_PG_URL (borrowed), or NULL after saying on stderr that it
 * is missing: the caller fails, PostgreSQL tests are never skipped.
 */
const char *tu_pg_admin_url(void);

/* The admin URL with another database name, its query kept (caller frees). */
char *tu_pg_url_with_db(const char *admin, const char *dbname);

/*
 * Create an empty database with a new name (program, pid, time, count) on
 * the server of admin.  Returns its URL and sets *dbname (caller frees
 * both); NULL with the reason on stderr when it cannot.
 */
char *tu_pg_create(const char *admin, char **dbname);

/* Drop dbname, sessions and all: 0, or -1 with the reason on stderr. */
int tu_pg_drop(const char *admin, const char *dbname);

/* ---- a group of cases on one backend ------------------------------------ */

/* A cmocka group's state: the backend, and where its tests' databases live. */
struct tu_group {
    enum db_kind kind;
    char *tmpdir;   /* scratch directory, removed at the end (both backends) */
    char *pg_admin; /* PostgreSQL: CITAPLANNER_TEST_PG_URL */
    char *pg_url;   /* PostgreSQL: the group's scratch database */
    char *dbname;   /* PostgreSQL: its name */
    int seq;        /* tests begun, which names their directories */
};

/* cmocka group fixtures making *state a struct tu_group. */
int tu_group_setup_sqlite(void **state);
int tu_group_setup_pg(void **state);

/* Drop the scratch database (PostgreSQL), remove the directory, free. */
int tu_group_teardown(void **state);

/* One test's database. */
struct tu_db {
    struct tu_group *g; /* borrowed */
    char *dir;          /* this test's directory, TMPDIR/tN; not created here */
    char *path;         /* SQLite: the database file, below dir; NULL on PostgreSQL */
    struct url url;     /* the database, for second connections */
    struct db *db;
};

/*
 * Open the next test's database: on SQLite the new file dir/file (db_open
 * makes the missing directories); on PostgreSQL the group's database,
 * emptied with db_drop_all.  Fails the test; free with tu_db_free.
 */
struct tu_db *tu_db_new(struct tu_group *g, const char *file);

/* Close and free t (NULL is accepted). */
void tu_db_free(struct tu_db *t);

/* cmocka test teardown for a state made by tu_db_new. */
int tu_db_teardown(void **state);

/*
 * Run tests as the group "NAME on sqlite", then "NAME on postgresql", with
 * the fixtures above; returns how many failed (a group whose setup failed
 * counts).
 */
int tu_run_both(const char *name, const struct CMUnitTest *tests, size_t count);
#define TU_RUN_BOTH(name, tests) tu_run_both((name), (tests), sizeof(tests) / sizeof((tests)[0]))

#endif
