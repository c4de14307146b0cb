/* db — see db.h.  The dialect-independent half; pg.c and sqlite.c do the rest. */
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "db/db_internal.h"

int64_t db_text_to_int(const char *s)
{
    int64_t v = 0;

    if (s == NULL)
        return 0;
    if (strcmp(s, "t") == 0 || strcmp(s, "true") == 0)
        return 1;
    if (strcmp(s, "f") == 0 || strcmp(s, "false") == 0)
        return 0;
    if (parse_int64(s, INT64_MIN, INT64_MAX, &v) < 0)
        return 0;
    return v;
}

bool db_lock_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > 64)
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (c == '.' && p != name);
        if (!ok)
            return false;
    }
    return true;
}

int db_open(const struct url *u, int connect_timeout_s, struct db **out, struct err *e)
{
    struct db *db = NULL;
    int rc = 0;

    *out = NULL;
    if (u == NULL)
        return err_set(e, ERR_INTERNAL, "no database url given");
    db = xcalloc(1, sizeof(*db));
    url_copy(&db->url, u);
    if (u->kind == URL_POSTGRES) {
        db->kind = DB_PG;
        db->ops = &db_pg_backend;
    } else {
        db->kind = DB_SQLITE;
        db->ops = &db_sqlite_backend;
    }
    rc = db->ops->open(db, connect_timeout_s > 0 ? connect_timeout_s : DB_CONNECT_TIMEOUT_S, e);
    if (rc < 0)
        goto cleanup;
    *out = db;
    db = NULL;

cleanup:
    if (db != NULL) {
        url_release(&db->url);
        free(db);
    }
    return rc;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    db->ops->close(db);
    url_release(&db->url);
    free(db);
}

enum db_kind db_kind(const struct db *db)
{
    return db->kind;
}

const struct url *db_url(const struct db *db)
{
    return &db->url;
}

const char *db_server_version(const struct db *db)
{
    return db->version;
}

int db_server_version_num(const struct db *db)
{
    return db->version_num;
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
    return db->ops->exec(db, sql, e);
}

static int check_params(int nparams, const struct db_param *params, struct err *e)
{
    if (nparams < 0 || (nparams > 0 && params == NULL))
        return err_set(e, ERR_INTERNAL, "invalid parameter list (%d parameters)", nparams);
    for (int i = 0; i < nparams; i++) {
        if (params[i].type == DB_P_TEXT && params[i].s == NULL)
            return err_set(e, ERR_INTERNAL, "text parameter $%d is a null pointer", i + 1);
    }
    return 0;
}

int db_query(struct db *db, const char *sql, int nparams, const struct db_param *params,
             struct db_res **out, struct err *e)
{
    int rc;

    if (out != NULL)
        *out = NULL;
    rc = check_params(nparams, params, e);
    if (rc < 0)
        return rc;
    return db->ops->query(db, sql, nparams, params, out, NULL, e);
}

int db_exec_params(struct db *db, const char *sql, int nparams, const struct db_param *params,
                   int64_t *affected, struct err *e)
{
    int rc;

    if (affected != NULL)
        *affected = 0;
    rc = check_params(nparams, params, e);
    if (rc < 0)
        return rc;
    return db->ops->query(db, sql, nparams, params, NULL, affected, e);
}

int db_query_int(struct db *db, const char *sql, int nparams, const struct db_param *params,
                 int64_t *out, struct err *e)
{
    struct db_res *r = NULL;
    int rc = db_query(db, sql, nparams, params, &r, e);

    if (rc < 0)
        goto cleanup;
    if (db_res_next(r) != 1 || db_res_ncols(r) < 1 || db_res_isnull(r, 0)) {
        rc = 1;
        goto cleanup;
    }
    *out = db_res_int(r, 0);
    rc = 0;

cleanup:
    db_res_free(r);
    return rc;
}

int db_query_text(struct db *db, const char *sql, int nparams, const struct db_param *params,
                  char **out, struct err *e)
{
    struct db_res *r = NULL;
    const char *s = NULL;
    int rc;

    *out = NULL;
    rc = db_query(db, sql, nparams, params, &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r) != 1 || db_res_ncols(r) < 1 || (s = db_res_text(r, 0)) == NULL) {
        rc = 1;
        goto cleanup;
    }
    *out = xstrdup(s);
    rc = 0;

cleanup:
    db_res_free(r);
    return rc;
}

int db_res_next(struct db_res *r)
{
    return r == NULL ? 0 : r->ops->res_next(r);
}

int db_res_ncols(const struct db_res *r)
{
    return r == NULL ? 0 : r->ops->res_ncols(r);
}

const char *db_res_colname(const struct db_res *r, int col)
{
    return r == NULL ? NULL : r->ops->res_colname(r, col);
}

bool db_res_isnull(const struct db_res *r, int col)
{
    return r == NULL ? true : r->ops->res_isnull(r, col);
}

int64_t db_res_int(const struct db_res *r, int col)
{
    return r == NULL ? 0 : r->ops->res_int(r, col);
}

const char *db_res_text(const struct db_res *r, int col)
{
    return r == NULL ? NULL : r->ops->res_text(r, col);
}

bool db_res_bool(const struct db_res *r, int col)
{
    const char *s = db_res_text(r, col);

    if (s == NULL)
        return false;
    return strcmp(s, "t") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
           strcmp(s, "TRUE") == 0;
}

void db_res_free(struct db_res *r)
{
    if (r != NULL)
        r->ops->res_free(r);
}

int db_begin(struct db *db, struct err *e)
{
    if (db->ops->in_transaction(db))
        return err_set(e, ERR_DB, "cannot begin a transaction: one is already open");
    return db->ops->exec(db, db->ops->begin_sql, e);
}

int db_commit(struct db *db, struct err *e)
{
    int rc;

    if (!db->ops->in_transaction(db))
        return err_set(e, ERR_DB, "cannot commit: no transaction is open");
    rc = db->ops->exec(db, "COMMIT", e);
    /*
     * PostgreSQL ends the transaction even when COMMIT fails; SQLite may keep
     * it open (a deferred constraint, a busy database).  Roll back so that
     * both leave the connection outside any transaction after a failure.
     */
    if (rc < 0 && db->ops->in_transaction(db))
        db_rollback(db);
    return rc;
}

int db_rollback(struct db *db)
{
    struct err e;
    int rc;

    if (db == NULL || !db->ops->in_transaction(db))
        return 0;
    err_clear(&e);
    rc = db->ops->exec(db, "ROLLBACK", &e);
    if (rc < 0)
        log_warn("rollback failed: %s", e.msg);
    return rc;
}

bool db_in_transaction(const struct db *db)
{
    return db->ops->in_transaction(db);
}

int db_lock(struct db *db, const char *name, bool wait, struct err *e)
{
    if (!db_lock_name_valid(name))
        return err_set(e, ERR_INTERNAL, "invalid lock name '%s'", name ? name : "");
    return db->ops->lock(db, name, wait, e);
}

int db_unlock(struct db *db, const char *name, struct err *e)
{
    if (!db_lock_name_valid(name))
        return err_set(e, ERR_INTERNAL, "invalid lock name '%s'", name ? name : "");
    return db->ops->unlock(db, name, e);
}

int db_drop_all(struct db *db, struct err *e)
{
    return db->ops->drop_all(db, e);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first column of every row of sql, sorted (not by ORDER BY: the server's collation may
 * differ). */
static int query_sorted_strings(struct db *db, const char *sql, char ***names, int *count,
                                struct err *e)
{
    struct db_res *r = NULL;
    char **v = NULL;
    int n = 0, cap = 0;
    int rc;

    *names = NULL;
    *count = 0;
    rc = db_query(db, sql, DB_NOPARAMS, &r, e);
    while (rc == 0 && db_res_next(r) == 1) {
        const char *s = db_res_text(r, 0);
        if (s == NULL)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, sizeof(*v) * (size_t)cap);
        }
        v[n++] = xstrdup(s);
    }
    db_res_free(r);
    if (rc < 0) {
        db_strv_free(v, n);
        return rc;
    }
    if (n > 1)
        qsort(v, (size_t)n, sizeof(*v), cmp_str);
    *names = v;
    *count = n;
    return 0;
}

int db_list_tables(struct db *db, char ***names, int *count, struct err *e)
{
    static const char *const sql_pg =
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public'";
    static const char *const sql_sqlite = "SELECT name FROM sqlite_master WHERE type = 'table' "
                                          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

    return query_sorted_strings(db, db->kind == DB_PG ? sql_pg : sql_sqlite, names, count, e);
}

int db_count_rows(struct db *db, const char *table, int64_t *out, struct err *e)
{
    char *q = db_quote_ident(table);
    char *sql = xasprintf(
        db->kind == DB_PG ? "SELECT count(*) FROM public.%s" : "SELECT count(*) FROM %s", q);
    int rc = db_query_int(db, sql, DB_NOPARAMS, out, e);

    free(sql);
    free(q);
    return rc < 0 ? rc : 0;
}

int db_table_counts(struct db *db, char ***tables, int64_t **rows, int *count, struct err *e)
{
    char **names = NULL;
    int64_t *v = NULL;
    int n = 0, rc;

    *tables = NULL;
    *rows = NULL;
    *count = 0;
    rc = db_list_tables(db, &names, &n, e);
    if (rc < 0)
        return rc;
    v = xcalloc((size_t)n + 1, sizeof(*v));
    for (int i = 0; i < n && rc == 0; i++)
        rc = db_count_rows(db, names[i], &v[i], e);
    if (rc < 0) {
        db_strv_free(names, n);
        free(v);
        return rc;
    }
    *tables = names;
    *rows = v;
    *count = n;
    return 0;
}

int db_schema_objects(struct db *db, char ***names, int *count, struct err *e)
{
    return query_sorted_strings(
        db, db->kind == DB_PG ? DB_PG_SCHEMA_OBJECTS : DB_SQLITE_SCHEMA_OBJECTS, names, count, e);
}

void db_strv_free(char **v, int count)
{
    if (v == NULL)
        return;
    for (int i = 0; i < count; i++)
        free(v[i]);
    free(v);
}

char *db_quote_ident(const char *name)
{
    struct buf b = BUF_INIT;

    buf_addc(&b, '"');
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"')
            buf_addc(&b, '"');
        buf_addc(&b, *p);
    }
    buf_addc(&b, '"');
    return buf_detach(&b);
}
