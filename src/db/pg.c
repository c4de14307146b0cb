/*
 * pg — the PostgreSQL backend of db.h, through libpq.  The only file that
 * includes libpq-fe.h.
 *
 * Every connection runs with TimeZone=UTC and DateStyle=ISO,YMD (so instants
 * read back as "YYYY-MM-DD HH:MM:SS+00") and client_min_messages=warning;
 * notices go to the debug log, never straight to stderr.  Parameters travel
 * as text with no declared types: the server infers them from the statement.
 * Results are materialised by libpq and walked by row index.
 *
 * Statements run through db_query are prepared once per connection and then
 * executed by name: the server parses and plans each distinct SQL text once
 * instead of on every call (most of a small query's cost).  The program's
 * SQL texts are a small fixed set, so the cache is bounded (PG_STMT_CACHE
 * entries; past that, statements run unprepared).  A cached plan that the
 * server refuses after a schema change ("cached plan must not change result
 * type") is dropped and the statement re-run unprepared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db_internal.h"

struct pg_res {
    struct db_res base; /* first: db.c dispatches through it */
    PGresult *res;
    int row; /* -1 before the first db_res_next() */
    int nrows;
};

#define PG_STMT_CACHE 256

struct pg_stmt {
    uint64_t hash;
    char *sql;
    char name[24];
};

/* db->conn for this backend. */
struct pg_state {
    PGconn *conn;
    struct pg_stmt stmts[PG_STMT_CACHE];
    int nstmts;
    unsigned next_id;
};

static struct pg_state *state_of(const struct db *db)
{
    return (struct pg_state *)db->conn;
}

static PGconn *conn_of(const struct db *db)
{
    return state_of(db)->conn;
}

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void stmt_cache_clear(struct pg_state *st)
{
    for (int i = 0; i < st->nstmts; i++)
        free(st->stmts[i].sql);
    st->nstmts = 0;
}

/* The first line of a libpq message, without its trailing newline. */
static void first_line(const char *msg, char *out, size_t outsz)
{
    size_t n = 0;

    if (msg == NULL)
        msg = "";
    while (msg[n] != '\0' && msg[n] != '\n' && msg[n] != '\r')
        n++;
    while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\t'))
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

/*
 * libpq does not put the password in its messages, but a server or a future
 * libpq might echo a connection option: drop the line rather than risk it.
 */
static void scrub_password(char *line, const struct url *u)
{
    if (u->password != NULL && u->password[0] != '\0' && strstr(line, u->password) != NULL)
        line[0] = '\0';
}

static void notice_processor(void *arg, const char *message)
{
    char line[512];

    (void)arg;
    first_line(message, line, sizeof(line));
    log_debug("postgresql: %s", line);
}

/* Sort a failed connection attempt into the causes an operator acts on. */
static enum err_code classify_connect(const char *msg, const char **why)
{
    if (strstr(msg, "could not translate host name") != NULL) {
        *why = "name not resolved";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "password authentication failed") != NULL ||
        strstr(msg, "no password supplied") != NULL ||
        strstr(msg, "authentication failed") != NULL) {
        *why = "authentication failed";
        return ERR_DB_AUTH;
    }
    if (strstr(msg, "role \"") != NULL && strstr(msg, "does not exist") != NULL) {
        *why = "authentication failed: unknown user";
        return ERR_DB_AUTH;
    }
    if (strstr(msg, "database \"") != NULL && strstr(msg, "does not exist") != NULL) {
        *why = "database missing";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "Connection refused") != NULL) {
        *why = "connection refused";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "timeout expired") != NULL) {
        *why = "timeout";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "No such file or directory") != NULL) {
        *why = "no server socket";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "Network is unreachable") != NULL || strstr(msg, "No route to host") != NULL) {
        *why = "network unreachable";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "the database system is") != NULL) {
        *why = "server starting up or shutting down";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "too many") != NULL || strstr(msg, "remaining connection slots") != NULL) {
        *why = "too many connections";
        return ERR_DB_CONNECT;
    }
    if (strstr(msg, "invalid connection option") != NULL ||
        (strstr(msg, "invalid ") != NULL && strstr(msg, " value") != NULL)) {
        *why = "invalid connection parameter";
        return ERR_CONFIG;
    }
    *why = "connection failed";
    return ERR_DB_CONNECT;
}

static void set_version(struct db *db)
{
    PGconn *c = conn_of(db);
    const char *sv = PQparameterStatus(c, "server_version");
    int num = PQserverVersion(c);
    size_t n = 0;

    db->version_num = num;
    if (sv != NULL) {
        /* "15.18 (Debian 15.18-0+deb12u1)" -> "15.18" */
        while (sv[n] != '\0' && sv[n] != ' ')
            n++;
        snprintf(db->version, sizeof(db->version), "PostgreSQL %.*s", (int)n, sv);
    } else if (num >= 100000) {
        snprintf(db->version, sizeof(db->version), "PostgreSQL %d.%d", num / 10000, num % 10000);
    } else {
        snprintf(db->version, sizeof(db->version), "PostgreSQL %d.%d.%d", num / 10000,
                 num / 100 % 100, num % 100);
    }
}

static int pg_open(struct db *db, int connect_timeout_s, struct err *e)
{
    const struct url *u = &db->url;
    size_t cap = 12 + u->nparams;
    const char **keys = xcalloc(cap, sizeof(*keys));
    const char **vals = xcalloc(cap, sizeof(*vals));
    struct buf options = BUF_INIT;
    char port[16], timeout[16], line[512];
    PGconn *c = NULL;
    const char *why = NULL;
    size_t n = 0;
    int rc = 0;

#define KW(k, v)                                                                                   \
    do {                                                                                           \
        keys[n] = (k);                                                                             \
        vals[n] = (v);                                                                             \
        n++;                                                                                       \
    } while (0)

    snprintf(port, sizeof(port), "%d", u->port > 0 ? u->port : 5432);
    snprintf(timeout, sizeof(timeout), "%d", connect_timeout_s);
    buf_adds(&options, "-c TimeZone=UTC -c DateStyle=ISO,YMD -c client_min_messages=warning");
    if (u->host != NULL)
        KW("host", u->host);
    KW("port", port);
    if (u->user != NULL)
        KW("user", u->user);
    if (u->password != NULL)
        KW("password", u->password);
    if (u->dbname != NULL)
        KW("dbname", u->dbname);
    KW("connect_timeout", timeout);
    KW("application_name", "citaplanner");
    KW("client_encoding", "UTF8");
    /* URL query parameters come last so that the operator's choice wins. */
    for (size_t i = 0; i < u->nparams; i++) {
        if (str_eq(u->params[i].key, "options")) {
            buf_addc(&options, ' ');
            buf_adds(&options, u->params[i].value);
        } else {
            KW(u->params[i].key, u->params[i].value);
        }
    }
    KW("options", buf_str(&options));
    keys[n] = NULL;
    vals[n] = NULL;
#undef KW

    /* expand_dbname = 0: a dbname holding '=' must not be read as a conninfo string. */
    c = PQconnectdbParams(keys, vals, 0);
    if (c == NULL) {
        rc = err_set(e, ERR_NOMEM, "cannot connect to '%s': out of memory", url_redacted(u));
        goto cleanup;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        enum err_code code;
        first_line(PQerrorMessage(c), line, sizeof(line));
        scrub_password(line, u);
        code = classify_connect(PQerrorMessage(c), &why);
        if (line[0] != '\0')
            rc = err_set(e, code, "cannot connect to '%s': %s (%s)", url_redacted(u), why, line);
        else
            rc = err_set(e, code, "cannot connect to '%s': %s", url_redacted(u), why);
        goto cleanup;
    }
    PQsetNoticeProcessor(c, notice_processor, NULL);
    {
        struct pg_state *st = xcalloc(1, sizeof(*st));
        st->conn = c;
        db->conn = st;
    }
    c = NULL;
    set_version(db);

cleanup:
    PQfinish(c);
    buf_release(&options);
    free(keys);
    free(vals);
    return rc;
}

static void pg_close(struct db *db)
{
    PGconn *c = conn_of(db);

    /*
     * The server drops a session's advisory locks when it notices the
     * disconnection, a moment after PQfinish returns.  Release them first,
     * so that once db_close returns another session can take them at once.
     */
    if (db->took_lock && PQstatus(c) == CONNECTION_OK) {
        if (PQtransactionStatus(c) != PQTRANS_IDLE)
            PQclear(PQexec(c, "ROLLBACK"));
        PQclear(PQexec(c, "SELECT pg_advisory_unlock_all()"));
    }
    PQfinish(c);
    stmt_cache_clear(state_of(db));
    free(db->conn);
    db->conn = NULL;
}

/* Turn a failed result (res may be NULL) into struct err. */
static int pg_error(struct db *db, const PGresult *res, struct err *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    enum err_code code = ERR_DB;
    char line[512];

    if (PQstatus(conn_of(db)) == CONNECTION_BAD) {
        first_line(PQerrorMessage(conn_of(db)), line, sizeof(line));
        scrub_password(line, &db->url);
        return err_set(e, ERR_DB_CONNECT, "connection to '%s' lost: %s", url_redacted(&db->url),
                       line[0] ? line : "server closed the connection");
    }
    if (primary == NULL) {
        first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_of(db)), line,
                   sizeof(line));
        primary = line[0] ? line : "unknown error";
    }
    if (state != NULL) {
        if (strcmp(state, "23505") == 0)
            code = ERR_DB_UNIQUE;
        else if (strcmp(state, "23503") == 0)
            code = ERR_DB_FOREIGN_KEY;
        else if (strcmp(state, "23514") == 0)
            code = ERR_DB_CHECK;
        else if (strcmp(state, "23P01") == 0)
            code = ERR_DB_OVERLAP;
    }
    if (constraint != NULL && strstr(primary, constraint) == NULL)
        return err_set(e, code, "%s (constraint '%s')", primary, constraint);
    return err_set(e, code, "%s", primary);
}

static int pg_check(struct db *db, const PGresult *res, struct err *e)
{
    switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        return 0;
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        return err_set(e, ERR_DB, "COPY is not supported through this interface");
    default:
        return pg_error(db, res, e);
    }
}

static int pg_exec(struct db *db, const char *sql, struct err *e)
{
    PGresult *res = PQexec(conn_of(db), sql);
    int rc = pg_check(db, res, e);

    /* PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error. */
    if (rc == 0 && strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        rc = err_set(e, ERR_DB, "transaction rolled back after an earlier error");
    PQclear(res);
    return rc;
}

/* The cached statement for sql, preparing it when it is new; NULL to run it unprepared. */
static const struct pg_stmt *stmt_get(struct db *db, const char *sql, int nparams)
{
    struct pg_state *st = state_of(db);
    uint64_t h = sql_hash(sql);
    struct pg_stmt *s;
    PGresult *res;

    for (int i = 0; i < st->nstmts; i++)
        if (st->stmts[i].hash == h && strcmp(st->stmts[i].sql, sql) == 0)
            return &st->stmts[i];
    /* Inside a failed transaction PREPARE fails too; the unprepared run reports the error. */
    if (st->nstmts >= PG_STMT_CACHE || PQtransactionStatus(st->conn) == PQTRANS_INERROR)
        return NULL;
    s = &st->stmts[st->nstmts];
    snprintf(s->name, sizeof(s->name), "cp_%u", st->next_id++);
    res = PQprepare(st->conn, s->name, sql, nparams, NULL);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        PQclear(res);
        return NULL; /* a bad statement: the unprepared run gives the error */
    }
    PQclear(res);
    s->hash = h;
    s->sql = xstrdup(sql);
    st->nstmts++;
    return s;
}

/* Forget a cached statement (its server side too). */
static void stmt_drop(struct db *db, const struct pg_stmt *s)
{
    struct pg_state *st = state_of(db);
    int i = (int)(s - st->stmts);
    char *sql = xasprintf("DEALLOCATE %s", s->name);

    PQclear(PQexec(st->conn, sql));
    free(sql);
    free(st->stmts[i].sql);
    st->stmts[i] = st->stmts[st->nstmts - 1];
    st->nstmts--;
}

static PGresult *run_statement(struct db *db, const char *sql, int nparams, const char **vals)
{
    const struct pg_stmt *s = stmt_get(db, sql, nparams);
    PGresult *res;
    const char *state;

    if (s == NULL)
        return PQexecParams(conn_of(db), sql, nparams, NULL, vals, NULL, NULL, 0);
    res = PQexecPrepared(conn_of(db), s->name, nparams, vals, NULL, NULL, 0);
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strcmp(state, "0A000") == 0 &&
        PQtransactionStatus(conn_of(db)) == PQTRANS_IDLE) {
        /* The schema changed under a cached plan: drop it and run afresh. */
        PQclear(res);
        stmt_drop(db, s);
        res = PQexecParams(conn_of(db), sql, nparams, NULL, vals, NULL, NULL, 0);
    }
    return res;
}

static int pg_query(struct db *db, const char *sql, int nparams, const struct db_param *params,
                    struct db_res **out, int64_t *affected, struct err *e)
{
    const char **vals = NULL;
    char(*nums)[24] = NULL;
    PGresult *res = NULL;
    struct pg_res *r = NULL;
    int rc = 0;

    if (nparams > 0) {
        vals = xcalloc((size_t)nparams, sizeof(*vals));
        nums = xcalloc((size_t)nparams, sizeof(*nums));
    }
    for (int i = 0; i < nparams; i++) {
        switch (params[i].type) {
        case DB_P_NULL:
            vals[i] = NULL;
            break;
        case DB_P_INT:
            snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)params[i].i);
            vals[i] = nums[i];
            break;
        case DB_P_BOOL:
            vals[i] = params[i].i ? "true" : "false";
            break;
        case DB_P_TEXT:
            vals[i] = params[i].s;
            break;
        }
    }
    res = run_statement(db, sql, nparams, vals);
    rc = pg_check(db, res, e);
    if (rc < 0)
        goto cleanup;
    if (affected != NULL) {
        /* Rows changed, as db.h promises: libpq also counts SELECT, FETCH, COPY... */
        const char *status = PQcmdStatus(res);
        const char *t = PQcmdTuples(res);
        bool dml = str_starts_with(status, "INSERT ") || str_starts_with(status, "UPDATE ") ||
                   str_starts_with(status, "DELETE ") || str_starts_with(status, "MERGE ");
        *affected = (dml && t != NULL && t[0] != '\0') ? strtoll(t, NULL, 10) : 0;
    }
    if (out != NULL) {
        r = xcalloc(1, sizeof(*r));
        r->base.ops = &db_pg_backend;
        r->res = res;
        r->row = -1;
        r->nrows = PQntuples(res);
        res = NULL;
        *out = &r->base;
    }

cleanup:
    PQclear(res);
    free(vals);
    free(nums);
    return rc;
}

static bool pg_in_transaction(const struct db *db)
{
    PGTransactionStatusType s = PQtransactionStatus(conn_of(db));
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

/* The advisory-lock key of a name: the first 8 bytes of SHA-256("citaplanner:" NAME). */
static int lock_key(const char *name, char out[24], struct err *e)
{
    unsigned char md[HASH_SHA256_LEN];
    char *text = xasprintf("citaplanner:%s", name);
    uint64_t k = 0;
    int rc = 0;

    hash_sha256(text, strlen(text), md);
    for (int i = 0; i < 8; i++)
        k = (k << 8) | md[i];
    snprintf(out, 24, "%lld", (long long)(int64_t)k);
    free(text);
    (void)e;
    return rc;
}

static int pg_lock(struct db *db, const char *name, bool wait, struct err *e)
{
    char key[24];
    int64_t got = 0;
    int rc = lock_key(name, key, e);

    if (rc < 0)
        return rc;
    db->took_lock = true;
    if (wait) {
        rc = db_exec_params(db, "SELECT pg_advisory_lock($1::bigint)", DB_PARAMS(DB_TEXT(key)),
                            NULL, e);
        if (rc < 0)
            return err_prefix(e, "cannot take lock '%s'", name);
        return 0;
    }
    rc = db_query_int(db, "SELECT pg_try_advisory_lock($1::bigint)", DB_PARAMS(DB_TEXT(key)), &got,
                      e);
    if (rc < 0)
        return err_prefix(e, "cannot take lock '%s'", name);
    if (rc > 0 || got != 1)
        return err_set(e, ERR_LOCKED, "lock '%s' is held by another process", name);
    return 0;
}

static int pg_unlock(struct db *db, const char *name, struct err *e)
{
    char key[24];
    int64_t got = 0;
    int rc = lock_key(name, key, e);

    if (rc < 0)
        return rc;
    rc =
        db_query_int(db, "SELECT pg_advisory_unlock($1::bigint)", DB_PARAMS(DB_TEXT(key)), &got, e);
    if (rc < 0)
        return err_prefix(e, "cannot release lock '%s'", name);
    if (rc > 0 || got != 1)
        return err_set(e, ERR_DB, "lock '%s' is not held by this connection", name);
    return 0;
}

static int pg_drop_all(struct db *db, struct err *e)
{
    /*
     * One implicit transaction (several statements in one simple query).
     * The new schema belongs to the current user, who thus keeps every
     * right on it; PUBLIC gets back what the default schema gave it
     * (USAGE since PostgreSQL 15, USAGE and CREATE before).
     */
    const char *sql = db->version_num >= 150000
                          ? "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; "
                            "GRANT USAGE ON SCHEMA public TO PUBLIC; "
                            "COMMENT ON SCHEMA public IS 'standard public schema'"
                          : "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; "
                            "GRANT ALL ON SCHEMA public TO PUBLIC; "
                            "COMMENT ON SCHEMA public IS 'standard public schema'";
    int rc = pg_exec(db, sql, e);

    /* Every cached statement named objects that are gone. */
    PQclear(PQexec(conn_of(db), "DEALLOCATE ALL"));
    stmt_cache_clear(state_of(db));
    if (rc < 0)
        return err_prefix(e, "cannot drop the schema of '%s'", url_redacted(&db->url));
    return 0;
}

static struct pg_res *res_of(const struct db_res *r)
{
    return (struct pg_res *)r;
}

static bool on_cell(const struct pg_res *r, int col)
{
    return r->row >= 0 && r->row < r->nrows && col >= 0 && col < PQnfields(r->res);
}

static int pg_res_next(struct db_res *base)
{
    struct pg_res *r = res_of(base);

    if (r->row < r->nrows)
        r->row++;
    return r->row < r->nrows ? 1 : 0;
}

static int pg_res_ncols(const struct db_res *base)
{
    return PQnfields(res_of(base)->res);
}

static const char *pg_res_colname(const struct db_res *base, int col)
{
    const struct pg_res *r = res_of(base);
    if (col < 0 || col >= PQnfields(r->res))
        return NULL;
    return PQfname(r->res, col);
}

static bool pg_res_isnull(const struct db_res *base, int col)
{
    const struct pg_res *r = res_of(base);
    return !on_cell(r, col) || PQgetisnull(r->res, r->row, col);
}

static const char *pg_res_text(const struct db_res *base, int col)
{
    const struct pg_res *r = res_of(base);
    if (pg_res_isnull(base, col))
        return NULL;
    return PQgetvalue(r->res, r->row, col);
}

static int64_t pg_res_int(const struct db_res *base, int col)
{
    return db_text_to_int(pg_res_text(base, col));
}

static void pg_res_free(struct db_res *base)
{
    struct pg_res *r = res_of(base);
    PQclear(r->res);
    free(r);
}

const struct db_backend db_pg_backend = {
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .query = pg_query,
    .in_transaction = pg_in_transaction,
    .begin_sql = "BEGIN",
    .lock = pg_lock,
    .unlock = pg_unlock,
    .drop_all = pg_drop_all,
    .res_next = pg_res_next,
    .res_ncols = pg_res_ncols,
    .res_colname = pg_res_colname,
    .res_isnull = pg_res_isnull,
    .res_text = pg_res_text,
    .res_int = pg_res_int,
    .res_free = pg_res_free,
};
