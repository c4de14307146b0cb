/*
 * db — one interface to the two databases (PostgreSQL through libpq, SQLite
 * through libsqlite3).  pg.c and sqlite.c are the only files that include
 * libpq-fe.h or sqlite3.h; the rest of the program speaks through this.
 *
 * SQL text:
 *   Parameters are written $1, $2, ... in both dialects (the SQLite backend
 *   rewrites them to ?1, ?2).  Where the dialects need different SQL, the
 *   caller picks the text with db_kind() and keeps the two side by side.
 *
 * Values:
 *   Instants are text "YYYY-MM-DD HH:MM:SS+00" (UTC) in both dialects: the
 *   PostgreSQL session runs with TimeZone=UTC and DateStyle=ISO, and SQLite
 *   columns hold that exact text.  Booleans read back with db_res_bool()
 *   whatever the dialect returns ('t'/'f' or 1/0).  Money is int64 cents.
 *
 * Errors:
 *   Every failing call returns a negative code and fills struct err:
 *   ERR_DB_CONNECT (name not resolved, connection refused, timeout, database
 *   missing: the message says which), ERR_DB_AUTH (password rejected: do not
 *   retry), ERR_DB_UNIQUE, ERR_DB_FOREIGN_KEY, ERR_DB_CHECK, ERR_DB_OVERLAP
 *   (the no-double-booking rule: PostgreSQL SQLSTATE 23P01; SQLite trigger
 *   RAISE(ABORT, 'slot_taken')), and ERR_DB for anything else.  Messages
 *   carry the server's text but never the password.
 *
 * Threads: a struct db is used by one thread at a time.
 */
#ifndef CITAPLANNER_DB_H
#define CITAPLANNER_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/url.h"

struct db;
struct db_res;

enum db_kind { DB_SQLITE, DB_PG };

enum db_param_type { DB_P_NULL, DB_P_INT, DB_P_TEXT, DB_P_BOOL };

struct db_param {
    enum db_param_type type;
    int64_t i;     /* DB_P_INT, DB_P_BOOL (0/1) */
    const char *s; /* DB_P_TEXT; borrowed for the duration of the call */
};

/* A function, not a macro test of v: "v ? ..." warns (-Waddress) when v is an array. */
static inline struct db_param db_param_text(const char *v)
{
    return (struct db_param){v != NULL ? DB_P_TEXT : DB_P_NULL, 0, v};
}

#define DB_NULL    ((struct db_param){DB_P_NULL, 0, NULL})
#define DB_INT(v)  ((struct db_param){DB_P_INT, (int64_t)(v), NULL})
#define DB_TEXT(v) db_param_text(v)
#define DB_BOOL(v) ((struct db_param){DB_P_BOOL, (v) ? 1 : 0, NULL})

/* Number of elements of a compound-literal array, for the params argument. */
#define DB_PARAMS(...)                                                                             \
    (int)(sizeof((struct db_param[]){__VA_ARGS__}) / sizeof(struct db_param)),                     \
        ((struct db_param[]){__VA_ARGS__})
#define DB_NOPARAMS 0, NULL

/*
 * Connect.  SQLite: creates the file's directory (0700) and the file (0600)
 * when missing, and sets WAL, foreign_keys=ON, synchronous=FULL and a busy
 * timeout of 5 s.  PostgreSQL: connect_timeout_s bounds one attempt (0 =
 * DB_CONNECT_TIMEOUT_S); the password goes to libpq as a keyword, never on a
 * command line.  Caller frees with db_close().
 */
#define DB_CONNECT_TIMEOUT_S 10
int db_open(const struct url *u, int connect_timeout_s, struct db **out, struct err *e);
void db_close(struct db *db);

enum db_kind db_kind(const struct db *db);

/* The URL this connection was opened with (borrowed). */
const struct url *db_url(const struct db *db);

/* "PostgreSQL 15.18" / "SQLite 3.40.1"; borrowed. */
const char *db_server_version(const struct db *db);
/* Server version as a number: PostgreSQL 150018, SQLite 3040001. */
int db_server_version_num(const struct db *db);

/* Run SQL without parameters; may hold several statements. */
int db_exec(struct db *db, const char *sql, struct err *e);

/*
 * Run one statement with parameters.  *out (may be NULL) receives a result
 * to walk with db_res_next(); free it with db_res_free().  affected (may be
 * NULL) receives the number of rows changed by INSERT/UPDATE/DELETE.
 */
int db_query(struct db *db, const char *sql, int nparams, const struct db_param *params,
             struct db_res **out, struct err *e);
int db_exec_params(struct db *db, const char *sql, int nparams, const struct db_param *params,
                   int64_t *affected, struct err *e);

/*
 * Run a query that returns one int64 in its first column of its first row.
 * Returns 0 and sets *out, 1 when there is no row (or the value is NULL:
 * *out untouched), or a negative error.
 */
int db_query_int(struct db *db, const char *sql, int nparams, const struct db_param *params,
                 int64_t *out, struct err *e);
/* Same for text; *out is allocated (caller frees), NULL when no row or NULL. */
int db_query_text(struct db *db, const char *sql, int nparams, const struct db_param *params,
                  char **out, struct err *e);

/* Advance to the next row: 1 when on a row, 0 at the end. */
int db_res_next(struct db_res *r);
int db_res_ncols(const struct db_res *r);
const char *db_res_colname(const struct db_res *r, int col);
bool db_res_isnull(const struct db_res *r, int col);
int64_t db_res_int(const struct db_res *r, int col);
/* Borrowed until the next db_res_next() or db_res_free(); NULL for NULL. */
const char *db_res_text(const struct db_res *r, int col);
bool db_res_bool(const struct db_res *r, int col);
void db_res_free(struct db_res *r);

/* Transactions.  Nested begin is an error. */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
int db_rollback(struct db *db); /* never fails loudly: logs and returns */
bool db_in_transaction(const struct db *db);

/*
 * A named, session-level, exclusive lock between processes.
 * PostgreSQL: pg_advisory_lock on a 64-bit key derived from the name.
 * SQLite: flock(2) on a file "<database path>.<name>.lock".
 * wait=false: returns -ERR_LOCKED at once when another session holds it.
 * The lock goes with db_close() or the process.
 */
int db_lock(struct db *db, const char *name, bool wait, struct err *e);
int db_unlock(struct db *db, const char *name, struct err *e);

/*
 * Drop every object this program created (migrate reset): PostgreSQL drops
 * and recreates the public schema's contents; SQLite drops every table,
 * view, index and trigger.
 */
int db_drop_all(struct db *db, struct err *e);

/* Names of the user tables, sorted; caller frees with db_strv_free(). */
int db_list_tables(struct db *db, char ***names, int *count, struct err *e);

/* The rows of one user table (public schema on PostgreSQL), in db's current transaction. */
int db_count_rows(struct db *db, const char *table, int64_t *out, struct err *e);

/*
 * The user tables (as db_list_tables) and the rows of each, counted in db's
 * current transaction (a snapshot when the caller opened one): the one
 * "tables and row counts" of backup, verify, restore and stats.  *tables:
 * caller frees with db_strv_free(*tables, *count); *rows with free().
 */
int db_table_counts(struct db *db, char ***tables, int64_t **rows, int *count, struct err *e);
void db_strv_free(char **v, int count);

/*
 * The schema objects of the user tables, one name each, sorted: "table T",
 * "column T.C", "index I", "constraint T.K" (PostgreSQL: primary, unique,
 * foreign, check and exclusion constraints, by name) and "trigger T.G"
 * (SQLite: its triggers; "trigger NAME").  What a backup's manifest records
 * and restore and verify --deep compare.  The texts are DB_PG_SCHEMA_OBJECTS
 * and DB_SQLITE_SCHEMA_OBJECTS (one column "o"; restore runs the first
 * itself, before COMMIT).  *names: caller frees with db_strv_free.
 */
int db_schema_objects(struct db *db, char ***names, int *count, struct err *e);
#define DB_PG_SCHEMA_OBJECTS                                                                       \
    "SELECT 'table ' || c.relname AS o FROM pg_catalog.pg_class c "                                \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                    \
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "                                      \
    "UNION ALL SELECT 'column ' || c.relname || '.' || a.attname FROM pg_catalog.pg_attribute a "  \
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "                                            \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                    \
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 "                     \
    "AND NOT a.attisdropped "                                                                      \
    "UNION ALL SELECT 'index ' || c.relname FROM pg_catalog.pg_class c "                           \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                    \
    "WHERE n.nspname = 'public' AND c.relkind IN ('i', 'I') "                                      \
    "UNION ALL SELECT 'constraint ' || c.relname || '.' || k.conname "                             \
    "FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "            \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                    \
    "WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f', 'c', 'x') "                       \
    "UNION ALL SELECT 'trigger ' || c.relname || '.' || g.tgname FROM pg_catalog.pg_trigger g "    \
    "JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid "                                             \
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "                                    \
    "WHERE n.nspname = 'public' AND NOT g.tgisinternal"
#define DB_SQLITE_SCHEMA_OBJECTS                                                                   \
    "SELECT type || ' ' || name AS o FROM sqlite_master "                                          \
    "WHERE type IN ('table', 'index', 'trigger') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "      \
    "UNION ALL SELECT 'column ' || m.name || '.' || p.name "                                       \
    "FROM sqlite_master m, pragma_table_info(m.name) p "                                           \
    "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

/* Quote an identifier for SQL text (both dialects accept "..."); caller frees. */
char *db_quote_ident(const char *name);

#endif
