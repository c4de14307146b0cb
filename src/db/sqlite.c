/*
 * sqlite — the SQLite backend of db.h, through libsqlite3.  The only file
 * that includes sqlite3.h.
 *
 * The database file and its directory are created private (0600 / 0700)
 * before SQLite sees them; every connection runs in WAL mode with
 * foreign_keys=ON, synchronous=FULL (a committed transaction survives a power
 * loss) and a 5 s busy timeout.  Write transactions start with BEGIN
 * IMMEDIATE so that a check (the no-overlap trigger) and the write that
 * follows it cannot interleave with another writer.  Results are stepped
 * lazily: a result holds its statement until db_res_free().  Named locks are
 * flock(2) on "<database path>.<name>.lock", the descriptors kept here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"
#include "db/db_internal.h"

struct sq_lock {
    char *name;
    int fd;
    int count; /* taken this many times by this connection, like advisory locks */
    struct sq_lock *next;
};

struct sq_conn {
    sqlite3 *h;
    struct sq_lock *locks;
};

struct sq_res {
    struct db_res base; /* first: db.c dispatches through it */
    sqlite3_stmt *stmt;
    bool pending; /* a row was stepped to by the query itself, not yet handed out */
    bool on_row;
    bool done;
};

static struct sq_conn *conn_of(const struct db *db)
{
    return (struct sq_conn *)db->conn;
}

/* The SQLite trigger's message that means "two appointments overlap". */
#define OVERLAP_MESSAGE "slot_taken"
/* Opening: how often and how long journal_mode is retried while busy (5 s). */
#define SQLITE_OPEN_BUSY_TRIES 250
#define SQLITE_OPEN_BUSY_SLEEP_US 20000

/* Map an SQLite result code (extended codes are on) and message to struct err. */
static int sq_error(int code, const char *msg, struct err *e)
{
    if (msg == NULL)
        msg = sqlite3_errstr(code);
    switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return err_set(e, ERR_DB_UNIQUE, "%s", msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return err_set(e, ERR_DB_FOREIGN_KEY, "%s", msg);
    case SQLITE_CONSTRAINT_CHECK:
        return err_set(e, ERR_DB_CHECK, "%s", msg);
    case SQLITE_CONSTRAINT_TRIGGER:
        if (strcmp(msg, OVERLAP_MESSAGE) == 0)
            return err_set(e, ERR_DB_OVERLAP,
                           "the appointment overlaps another of the same professional (%s)",
                           OVERLAP_MESSAGE);
        return err_set(e, ERR_DB, "%s", msg);
    default:
        break;
    }
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return err_set(e, ERR_DB, "database is locked");
    return err_set(e, ERR_DB, "%s", msg);
}

/* Create every missing directory above path, private to the owner. */
static int make_parents(const char *path, struct err *e)
{
    char *dir = xstrdup(path);
    int rc = 0;

    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            rc = err_set(e, ERR_DB_CONNECT, "cannot create directory '%s': %s", dir,
                         strerror(errno));
            goto cleanup;
        }
        *p = '/';
    }

cleanup:
    free(dir);
    return rc;
}

static int sq_open(struct db *db, int connect_timeout_s, struct err *e)
{
    const char *path = db->url.path;
    const char *shown = url_redacted(&db->url);
    bool memory = str_eq(path, ":memory:");
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    char *msg = NULL;
    int fd = -1;
    int rc = 0, src;

    (void)connect_timeout_s;
    if (path == NULL || path[0] == '\0')
        return err_set(e, ERR_CONFIG, "database url '%s' has no file path", shown);
    if (!memory) {
        rc = make_parents(path, e);
        if (rc < 0) {
            err_prefix(e, "cannot open '%s'", shown);
            goto cleanup;
        }
        /*
         * Create the file ourselves so that it is 0600 whatever the umask,
         * but only when it is missing (O_EXCL): closing a descriptor of a
         * file that this process's other connections have open would drop
         * their POSIX locks (fcntl locks belong to the process), and then
         * another process closing its connection believes it is the last,
         * checkpoints and deletes the WAL under this process's feet: later
         * commits land in an unlinked WAL file and are lost.
         */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            rc = err_set(e, ERR_DB_CONNECT, "cannot open '%s': %s", shown, strerror(errno));
            goto cleanup;
        }
        if (fd >= 0)
            close(fd);
        fd = -1;
    }

    c = xcalloc(1, sizeof(*c));
    src = sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        rc = err_set(e, ERR_DB_CONNECT, "cannot open '%s': %s", shown,
                     c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(src));
        goto cleanup;
    }
    sqlite3_extended_result_codes(c->h, 1);
    sqlite3_busy_timeout(c->h, 5000);

    /*
     * journal_mode answers with the mode in force: check that WAL took.  It
     * can answer SQLITE_BUSY at once, without the busy handler (another
     * process creating the file or recovering its WAL): retried as long as
     * the busy timeout would have waited.
     */
    src = sqlite3_prepare_v2(c->h, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    for (int tries = 0; src == SQLITE_OK; tries++) {
        src = sqlite3_step(st);
        if ((src & 0xff) != SQLITE_BUSY || tries >= SQLITE_OPEN_BUSY_TRIES)
            break;
        sqlite3_reset(st);
        src = SQLITE_OK;
        usleep(SQLITE_OPEN_BUSY_SLEEP_US);
    }
    if (src != SQLITE_ROW) {
        rc = err_set(e, ERR_DB_CONNECT, "cannot open '%s': %s", shown, sqlite3_errmsg(c->h));
        goto cleanup;
    }
    if (!memory && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        rc = err_set(e, ERR_DB_CONNECT, "cannot open '%s': journal_mode is '%s', not 'wal'", shown,
                     (const char *)sqlite3_column_text(st, 0));
        goto cleanup;
    }
    src = sqlite3_exec(c->h, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", NULL, NULL, &msg);
    if (src != SQLITE_OK) {
        rc = err_set(e, ERR_DB_CONNECT, "cannot open '%s': %s", shown,
                     msg ? msg : sqlite3_errstr(src));
        goto cleanup;
    }

    snprintf(db->version, sizeof(db->version), "SQLite %s", sqlite3_libversion());
    db->version_num = sqlite3_libversion_number();
    db->conn = c;
    c = NULL;

cleanup:
    sqlite3_free(msg);
    sqlite3_finalize(st);
    if (c != NULL) {
        sqlite3_close_v2(c->h);
        free(c);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

static void sq_close(struct db *db)
{
    struct sq_conn *c = conn_of(db);

    if (c == NULL)
        return;
    /* close_v2: a result the caller forgot to free must not keep the file open forever. */
    if (sqlite3_close_v2(c->h) != SQLITE_OK)
        log_warn("closing '%s' failed: %s", url_redacted(&db->url), sqlite3_errmsg(c->h));
    for (struct sq_lock *l = c->locks, *next; l != NULL; l = next) {
        next = l->next;
        close(l->fd);
        free(l->name);
        free(l);
    }
    free(c);
    db->conn = NULL;
}

static int sq_exec(struct db *db, const char *sql, struct err *e)
{
    char *msg = NULL;
    int src = sqlite3_exec(conn_of(db)->h, sql, NULL, NULL, &msg);
    int rc = 0;

    if (src != SQLITE_OK)
        rc = sq_error(sqlite3_extended_errcode(conn_of(db)->h), msg, e);
    sqlite3_free(msg);
    return rc;
}

/* Skip blanks and SQL comments. */
static const char *skip_space(const char *p)
{
    for (;;) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v') {
            p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* True when s holds nothing but blanks, comments and semicolons. */
static bool only_blank(const char *s)
{
    for (s = skip_space(s); *s == ';'; s = skip_space(s + 1))
        ;
    return *s == '\0';
}

/*
 * Rewrite $N parameters to ?N (same number, so "$2 ... $1" and a repeated
 * "$1" bind as in PostgreSQL), leaving string literals, quoted identifiers
 * and comments alone.
 */
static char *rewrite_params(const char *sql)
{
    struct buf b = BUF_INIT;
    const char *p = sql;

    buf_grow(&b, strlen(sql));
    while (*p != '\0') {
        const char *start = p;
        char close = 0;

        if (*p == '\'' || *p == '"' || *p == '`')
            close = *p;
        else if (*p == '[')
            close = ']';
        if (close != 0) {
            /* A doubled quote ends one literal and starts the next: same text. */
            p++;
            while (*p != '\0' && *p != close)
                p++;
            if (*p != '\0')
                p++;
            buf_add(&b, start, (size_t)(p - start));
        } else if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
            p = skip_space(p);
            buf_add(&b, start, (size_t)(p - start));
        } else if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            buf_addc(&b, '?');
            p++;
        } else {
            buf_addc(&b, *p);
            p++;
        }
    }
    return buf_detach(&b);
}

/* True when the statement reports changed rows (INSERT/UPDATE/DELETE, maybe under WITH). */
static bool is_dml(const char *sql)
{
    static const char *const words[] = {"INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"};
    const char *p = skip_space(sql);

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        if (sqlite3_strnicmp(p, words[i], (int)n) == 0 &&
            !((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_'))
            return true;
    }
    return false;
}

static int bind_params(sqlite3_stmt *st, int nparams, const struct db_param *params)
{
    for (int i = 0; i < nparams; i++) {
        int src = SQLITE_OK;
        switch (params[i].type) {
        case DB_P_NULL:
            src = sqlite3_bind_null(st, i + 1);
            break;
        case DB_P_INT:
        case DB_P_BOOL:
            src = sqlite3_bind_int64(st, i + 1, params[i].i);
            break;
        case DB_P_TEXT:
            /* TRANSIENT: the text is borrowed for this call only, rows come later. */
            src = sqlite3_bind_text(st, i + 1, params[i].s, -1, SQLITE_TRANSIENT);
            break;
        }
        if (src != SQLITE_OK)
            return src;
    }
    return SQLITE_OK;
}

static int sq_query(struct db *db, const char *sql, int nparams, const struct db_param *params,
                    struct db_res **out, int64_t *affected, struct err *e)
{
    sqlite3 *h = conn_of(db)->h;
    char *text = rewrite_params(sql);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    struct sq_res *r = NULL;
    int rc = 0, src = SQLITE_DONE, expected;

    src = sqlite3_prepare_v2(h, text, -1, &st, &tail);
    if (src != SQLITE_OK) {
        rc = sq_error(src, sqlite3_errmsg(h), e);
        goto cleanup;
    }
    if (tail != NULL && !only_blank(tail)) {
        rc = err_set(e, ERR_DB, "cannot run several statements with parameters");
        goto cleanup;
    }
    expected = st ? sqlite3_bind_parameter_count(st) : 0;
    if (expected != nparams) {
        rc = err_set(e, ERR_DB, "the statement takes %d parameters, %d given", expected, nparams);
        goto cleanup;
    }
    if (st == NULL) /* only blanks or comments: nothing to run, an empty result */
        goto done;
    src = bind_params(st, nparams, params);
    if (src != SQLITE_OK) {
        rc = sq_error(src, sqlite3_errmsg(h), e);
        goto cleanup;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_ROW && out == NULL) {
        /* The caller wants no rows (INSERT ... RETURNING under db_exec_params): finish it. */
        while (src == SQLITE_ROW)
            src = sqlite3_step(st);
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = sq_error(src, sqlite3_errmsg(h), e);
        goto cleanup;
    }
    if (affected != NULL)
        *affected = (src == SQLITE_DONE && !sqlite3_stmt_readonly(st) && is_dml(text))
                        ? sqlite3_changes(h)
                        : 0;

done:
    if (out != NULL) {
        r = xcalloc(1, sizeof(*r));
        r->base.ops = &db_sqlite_backend;
        r->stmt = st;
        r->pending = (st != NULL && src == SQLITE_ROW);
        r->done = !r->pending;
        if (r->done && st != NULL)
            sqlite3_reset(st); /* release the read snapshot at once */
        st = NULL;
        *out = &r->base;
    }

cleanup:
    sqlite3_finalize(st);
    free(text);
    return rc;
}

static bool sq_in_transaction(const struct db *db)
{
    return sqlite3_get_autocommit(conn_of(db)->h) == 0;
}

static struct sq_lock **find_lock(struct sq_conn *c, const char *name)
{
    struct sq_lock **pl = &c->locks;

    while (*pl != NULL && strcmp((*pl)->name, name) != 0)
        pl = &(*pl)->next;
    return pl;
}

static int sq_lock(struct db *db, const char *name, bool wait, struct err *e)
{
    struct sq_conn *c = conn_of(db);
    struct sq_lock **pl = find_lock(c, name);
    struct sq_lock *l = NULL;
    char *path = NULL;
    int fd = -1;
    int rc = 0, frc;

    if (*pl != NULL) {
        (*pl)->count++;
        return 0;
    }
    path = xasprintf("%s.%s.lock", db->url.path, name);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, ERR_IO, "cannot open lock file '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    do
        frc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    while (frc < 0 && errno == EINTR);
    if (frc < 0) {
        if (errno == EWOULDBLOCK)
            rc = err_set(e, ERR_LOCKED, "lock '%s' is held by another process", name);
        else
            rc = err_set(e, ERR_IO, "cannot lock '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    l = xcalloc(1, sizeof(*l));
    l->name = xstrdup(name);
    l->fd = fd;
    l->count = 1;
    l->next = c->locks;
    c->locks = l;
    fd = -1;

cleanup:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static int sq_unlock(struct db *db, const char *name, struct err *e)
{
    struct sq_lock **pl = find_lock(conn_of(db), name);
    struct sq_lock *l = *pl;

    if (l == NULL)
        return err_set(e, ERR_DB, "lock '%s' is not held by this connection", name);
    if (--l->count > 0)
        return 0;
    /* The lock file stays: removing it would let two processes lock two different files. */
    *pl = l->next;
    close(l->fd);
    free(l->name);
    free(l);
    return 0;
}

static int sq_drop_all(struct db *db, struct err *e)
{
    /* Triggers and views first, then indexes, then tables (which may take the rest along). */
    static const char *const list_sql =
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "AND type IN ('trigger', 'view', 'index', 'table') "
        "ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 "
        "ELSE 3 END, name";
    sqlite3 *h = conn_of(db)->h;
    bool outer = sq_in_transaction(db);
    struct buf sql = BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = 0, src;

    /*
     * Outside a transaction, foreign keys go off meanwhile (the pragma is a
     * no-op inside one); inside, they are deferred to the caller's commit.
     */
    rc = sq_exec(db, outer ? "PRAGMA defer_foreign_keys=ON" : "PRAGMA foreign_keys=OFF", e);
    if (rc < 0)
        goto cleanup;
    if (!outer) {
        rc = sq_exec(db, "BEGIN IMMEDIATE", e);
        if (rc < 0)
            goto cleanup;
    }
    src = sqlite3_prepare_v2(h, list_sql, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = sq_error(src, sqlite3_errmsg(h), e);
        goto cleanup;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        char *q = db_quote_ident((const char *)sqlite3_column_text(st, 1));
        buf_addf(&sql, "DROP %s IF EXISTS %s;\n",
                 strcmp(type, "trigger") == 0 ? "TRIGGER"
                 : strcmp(type, "view") == 0  ? "VIEW"
                 : strcmp(type, "index") == 0 ? "INDEX"
                                              : "TABLE",
                 q);
        free(q);
    }
    if (src != SQLITE_DONE) {
        rc = sq_error(src, sqlite3_errmsg(h), e);
        goto cleanup;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sql.len > 0) {
        rc = sq_exec(db, buf_str(&sql), e);
        if (rc < 0)
            goto cleanup;
    }
    if (!outer) {
        rc = sq_exec(db, "COMMIT", e);
        if (rc < 0)
            goto cleanup;
    }

cleanup:
    sqlite3_finalize(st);
    buf_release(&sql);
    if (rc < 0) {
        err_prefix(e, "cannot drop the objects of '%s'", url_redacted(&db->url));
        if (!outer && sq_in_transaction(db))
            sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    }
    if (!outer)
        sqlite3_exec(h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return rc;
}

static struct sq_res *res_of(const struct db_res *r)
{
    return (struct sq_res *)r;
}

static bool on_cell(const struct sq_res *r, int col)
{
    return r->on_row && col >= 0 && col < sqlite3_column_count(r->stmt);
}

static int sq_res_next(struct db_res *base)
{
    struct sq_res *r = res_of(base);
    int src;

    if (r->pending) {
        r->pending = false;
        r->on_row = true;
        return 1;
    }
    if (r->done) {
        r->on_row = false;
        return 0;
    }
    src = sqlite3_step(r->stmt);
    if (src == SQLITE_ROW) {
        r->on_row = true;
        return 1;
    }
    /* db_res_next has no error channel: a failure mid-way ends the rows, loudly. */
    if (src != SQLITE_DONE)
        log_warn("reading a result failed: %s", sqlite3_errmsg(sqlite3_db_handle(r->stmt)));
    r->on_row = false;
    r->done = true;
    sqlite3_reset(r->stmt);
    return 0;
}

static int sq_res_ncols(const struct db_res *base)
{
    const struct sq_res *r = res_of(base);
    return r->stmt ? sqlite3_column_count(r->stmt) : 0;
}

static const char *sq_res_colname(const struct db_res *base, int col)
{
    const struct sq_res *r = res_of(base);
    if (r->stmt == NULL || col < 0 || col >= sqlite3_column_count(r->stmt))
        return NULL;
    return sqlite3_column_name(r->stmt, col);
}

static bool sq_res_isnull(const struct db_res *base, int col)
{
    const struct sq_res *r = res_of(base);
    return !on_cell(r, col) || sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

static const char *sq_res_text(const struct db_res *base, int col)
{
    const struct sq_res *r = res_of(base);
    if (!on_cell(r, col))
        return NULL;
    return (const char *)sqlite3_column_text(r->stmt, col);
}

static int64_t sq_res_int(const struct db_res *base, int col)
{
    const struct sq_res *r = res_of(base);
    if (!on_cell(r, col))
        return 0;
    if (sqlite3_column_type(r->stmt, col) == SQLITE_TEXT)
        return db_text_to_int((const char *)sqlite3_column_text(r->stmt, col));
    return sqlite3_column_int64(r->stmt, col);
}

static void sq_res_free(struct db_res *base)
{
    struct sq_res *r = res_of(base);
    sqlite3_finalize(r->stmt);
    free(r);
}

const struct db_backend db_sqlite_backend = {
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .query = sq_query,
    .in_transaction = sq_in_transaction,
    .begin_sql = "BEGIN IMMEDIATE",
    .lock = sq_lock,
    .unlock = sq_unlock,
    .drop_all = sq_drop_all,
    .res_next = sq_res_next,
    .res_ncols = sq_res_ncols,
    .res_colname = sq_res_colname,
    .res_isnull = sq_res_isnull,
    .res_text = sq_res_text,
    .res_int = sq_res_int,
    .res_free = sq_res_free,
};
