/* ops/stats — see stats.h. */
#include "ops/stats.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "ops/backups.h"

/* PostgreSQL tables the catalog estimates at this many rows or more are not counted. */
#define EXACT_COUNT_LIMIT 1000000

int ops_db_size(struct db *db, int64_t *out, struct err *e)
{
    static const char sql_pg[] = "SELECT pg_database_size(current_database())";
    static const char sql_sqlite[] =
        "SELECT p.page_count * s.page_size FROM pragma_page_count() p, pragma_page_size() s";
    int rc;

    *out = 0;
    rc = db_query_int(db, db_kind(db) == DB_PG ? sql_pg : sql_sqlite, DB_NOPARAMS, out, e);
    return rc < 0 ? rc : 0;
}

/* Tables with rows and sizes from the catalog and the statistics views. */
static int pg_tables(struct db *db, json_t *tables, struct err *e)
{
    static const char sql[] =
        "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid), "
        "       coalesce(s.n_live_tup, 0) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' "
        "ORDER BY c.relname COLLATE \"C\"";
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db, sql, DB_NOPARAMS, &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r) == 1) {
        const char *name = db_res_text(r, 0);
        int64_t estimate = db_res_int(r, 1);
        int64_t rows = db_res_int(r, 3);
        bool estimated = estimate >= EXACT_COUNT_LIMIT;

        if (!estimated) {
            rc = db_count_rows(db, name, &rows, e);
            if (rc < 0)
                goto cleanup;
        }
        json_array_append_new(tables, json_pack("{s:s, s:I, s:b, s:I}", "name", name, "rows",
                                                (json_int_t)rows, "rows_estimated", estimated,
                                                "size_bytes", (json_int_t)db_res_int(r, 2)));
    }

cleanup:
    db_res_free(r);
    return rc;
}

static int pg_connections(struct db *db, json_t *conns, struct err *e)
{
    static const char sql[] =
        "SELECT pid, coalesce(usename::text, ''), coalesce(application_name, ''), "
        "       coalesce(client_addr::text, 'local'), coalesce(state, ''), "
        "       floor(extract(epoch FROM now() - backend_start))::bigint, "
        "       floor(extract(epoch FROM now() - state_change))::bigint "
        "FROM pg_stat_activity WHERE datname = current_database() ORDER BY backend_start, pid";
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db, sql, DB_NOPARAMS, &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r) == 1) {
        json_array_append_new(
            conns,
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o}", "pid", (json_int_t)db_res_int(r, 0),
                      "user", db_res_text(r, 1), "application", db_res_text(r, 2), "client",
                      db_res_text(r, 3), "state", db_res_text(r, 4), "age_seconds",
                      (json_int_t)db_res_int(r, 5), "state_age_seconds",
                      db_res_isnull(r, 6) ? json_null()
                                          : json_integer((json_int_t)db_res_int(r, 6))));
    }

cleanup:
    db_res_free(r);
    return rc;
}

/*
 * Tables with exact counts and, where SQLite was built with dbstat, their
 * sizes with their indexes.  *source says where sizes came from.
 */
static int sqlite_tables(struct db *db, json_t *tables, const char **source, struct err *e)
{
    static const char sql_sizes[] = "SELECT m.tbl_name, sum(s.pgsize) FROM dbstat s "
                                    "JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name";
    struct db_res *r = NULL;
    json_t *sizes = json_object();
    char **names = NULL;
    int64_t *rows = NULL;
    int n = 0;
    int rc;
    struct err ie;

    err_clear(&ie);
    *source = "page_count";
    if (db_query(db, sql_sizes, DB_NOPARAMS, &r, &ie) == 0) {
        *source = "dbstat";
        while (db_res_next(r) == 1)
            json_object_set_new(sizes, db_res_text(r, 0), json_integer(db_res_int(r, 1)));
    } else {
        log_debug("no dbstat in this SQLite (%s): table sizes unknown", ie.msg);
    }
    rc = db_table_counts(db, &names, &rows, &n, e);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < n; i++) {
        json_t *size = json_object_get(sizes, names[i]);
        json_array_append_new(tables, json_pack("{s:s, s:I, s:b, s:O}", "name", names[i], "rows",
                                                (json_int_t)rows[i], "rows_estimated", 0,
                                                "size_bytes", size != NULL ? size : json_null()));
    }

cleanup:
    db_strv_free(names, n);
    free(rows);
    db_res_free(r);
    json_decref(sizes);
    return rc;
}

static json_int_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (json_int_t)st.st_size : 0;
}

static json_t *sqlite_files(const struct url *u)
{
    char *wal = xasprintf("%s-wal", u->path);
    char *shm = xasprintf("%s-shm", u->path);
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:I}", "path", u->path, "database_bytes", file_size(u->path),
                  "wal_bytes", file_size(wal), "shm_bytes", file_size(shm));

    free(wal);
    free(shm);
    return o;
}

int ops_stats_collect(struct db *db, const struct config *cfg, time_t now, json_t **out,
                      struct err *e)
{
    struct ops_backup_facts f;
    json_t *tables = json_array();
    json_t *conns = NULL;
    json_t *dbo = NULL;
    const char *source = "catalog";
    int64_t size = 0;
    char when[32];
    int rc;

    *out = NULL;
    memset(&f, 0, sizeof(f));
    rc = ops_db_size(db, &size, e);
    if (rc < 0)
        goto cleanup;
    if (db_kind(db) == DB_PG) {
        conns = json_array();
        rc = pg_tables(db, tables, e);
        if (rc == 0)
            rc = pg_connections(db, conns, e);
    } else {
        rc = sqlite_tables(db, tables, &source, e);
    }
    if (rc < 0)
        goto cleanup;
    rc = ops_backup_facts_load(cfg, now, &f, e);
    if (rc < 0)
        goto cleanup;

    dbo = json_pack("{s:s, s:s, s:s, s:I, s:s, s:O, s:o, s:o}", "kind",
                    db_kind(db) == DB_PG ? "postgresql" : "sqlite", "url", url_redacted(db_url(db)),
                    "server_version", db_server_version(db), "size_bytes", (json_int_t)size,
                    "table_sizes_from", source, "tables", tables, "connections",
                    conns != NULL ? json_incref(conns) : json_null(), "files",
                    db_kind(db) == DB_SQLITE ? sqlite_files(db_url(db)) : json_null());
    ops_utc_stamp(when, now);
    *out = json_pack("{s:i, s:s, s:o, s:o}", "format", 1, "generated_at", when, "database", dbo,
                     "backups", ops_backup_facts_json(cfg, &f));
    dbo = NULL;
    if (*out == NULL)
        rc = err_set(e, ERR_INTERNAL, "cannot build the stats object (a name is not UTF-8)");

cleanup:
    ops_backup_facts_release(&f);
    json_decref(tables);
    json_decref(conns);
    return rc;
}
