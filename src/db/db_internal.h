/*
 * db_internal — what db.c shares with the two backends (pg.c, sqlite.c).
 *
 * db.c owns the public interface, argument checks, transaction bookkeeping
 * and everything that can be written once for both dialects; each backend
 * fills a struct db_backend table of the operations that need its library.
 * Nothing outside src/db includes this header.
 *
 * Invariants:
 *   - struct db_res is the first member of every backend's result, so db.c
 *     can dispatch through r->ops without knowing the backend's layout;
 *   - db->conn is the backend's private state (a PGconn or a sqlite state),
 *     set by open() and released by close();
 *   - every backend function that fails fills struct err and returns -code.
 */
#ifndef CITAPLANNER_DB_INTERNAL_H
#define CITAPLANNER_DB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

struct db_backend {
    /* Connect using db->url; fill db->conn, db->version, db->version_num. */
    int (*open)(struct db *db, int connect_timeout_s, struct err *e);
    /* Release db->conn and everything the backend owns (locks included). */
    void (*close)(struct db *db);
    /* Several statements, no parameters. */
    int (*exec)(struct db *db, const char *sql, struct err *e);
    /*
     * One statement with parameters.  out NULL: run it to the end and drop
     * the rows.  affected (may be NULL) gets the rows changed by DML.
     */
    int (*query)(struct db *db, const char *sql, int nparams, const struct db_param *params,
                 struct db_res **out, int64_t *affected, struct err *e);
    /* True while an explicit transaction is open (also an aborted one). */
    bool (*in_transaction)(const struct db *db);
    /* SQL that opens a write transaction in this dialect. */
    const char *begin_sql;
    int (*lock)(struct db *db, const char *name, bool wait, struct err *e);
    int (*unlock)(struct db *db, const char *name, struct err *e);
    int (*drop_all)(struct db *db, struct err *e);

    int (*res_next)(struct db_res *r);
    int (*res_ncols)(const struct db_res *r);
    const char *(*res_colname)(const struct db_res *r, int col);
    bool (*res_isnull)(const struct db_res *r, int col);
    /* NULL for SQL NULL, for a column out of range, or when not on a row. */
    const char *(*res_text)(const struct db_res *r, int col);
    int64_t (*res_int)(const struct db_res *r, int col);
    void (*res_free)(struct db_res *r);
};

struct db {
    const struct db_backend *ops;
    enum db_kind kind;
    struct url url;   /* a private copy of the URL given to db_open */
    char version[64]; /* "PostgreSQL 15.18" / "SQLite 3.40.1" */
    int version_num;  /* 150018 / 3040001 */
    void *conn;       /* the backend's state */
    bool took_lock;   /* db_lock succeeded at least once on this connection */
};

struct db_res {
    const struct db_backend *ops;
};

extern const struct db_backend db_pg_backend;
extern const struct db_backend db_sqlite_backend;

/*
 * Parse the text form of an integer as both dialects may return it
 * ("42", "t"/"f", "true"/"false"); 0 for NULL or anything else.
 */
int64_t db_text_to_int(const char *s);

/* True when a lock name is safe in a file name and in a message. */
bool db_lock_name_valid(const char *name);

#endif
