/* sqlite_backup — see db_backup.h.  The SQLite online backup API. */
#include "db/db.h"
#include "db/db_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

/* How long a busy source may keep the copy waiting before it fails. */
#define BUSY_LIMIT_S 60.0

void db_snapshot_stats_release(struct db_snapshot_stats *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->ntables; i++)
        free(s->tables[i]);
    free(s->tables);
    free(s->rows);
    free(s->schema_version);
    for (int i = 0; i < s->nobjects; i++)
        free(s->objects[i]);
    free(s->objects);
    memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The error for a failed call on connection c about file path. */
static int sqlite_fail(struct err *e, sqlite3 *c, int rc, const char *what, const char *path)
{
    int primary = rc & 0xff;

    if (primary == SQLITE_FULL || (c != NULL && sqlite3_system_errno(c) == ENOSPC))
        return err_set(e, ERR_NO_SPACE, "no space left on device: %s '%s'", what, path);
    return err_set(e, ERR_BACKUP, "%s '%s': %s", what, path,
                   c != NULL ? sqlite3_errmsg(c) : sqlite3_errstr(rc));
}

/* One integer from a one-row query. */
static int query_int(sqlite3 *c, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c, sql, -1, &st, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_ERROR;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first column of every row of sql into *v (sorted, never NULL), *n; SQLITE_OK or the error. */
static int sorted_strings(sqlite3 *c, const char *sql, char ***v, int *n)
{
    sqlite3_stmt *st = NULL;
    int cap = 1;
    int rc;

    *v = xcalloc(1, sizeof(**v));
    rc = sqlite3_prepare_v2(c, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        rc = SQLITE_OK;
        if (t == NULL)
            continue;
        if (*n == cap) {
            cap *= 2;
            *v = xrealloc(*v, sizeof(**v) * (size_t)cap);
        }
        (*v)[(*n)++] = xstrdup(t);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    if (*n > 1)
        qsort(*v, (size_t)*n, sizeof(**v), cmp_str);
    return SQLITE_OK;
}

/*
 * Table names, row counts and the schema version, read through c inside its
 * open transaction (which the first SELECT turns into the snapshot).
 */
static int read_stats(sqlite3 *c, const char *path, struct db_snapshot_stats *s, struct err *e)
{
    static const char *const sql_tables = "SELECT name FROM sqlite_master WHERE type = 'table' "
                                          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
    static const char *const sql_ledger =
        "SELECT name FROM _migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL "
        "ORDER BY name DESC LIMIT 1";
    sqlite3_stmt *st = NULL;
    bool has_ledger = false;
    int rc;

    rc = sorted_strings(c, sql_tables, &s->tables, &s->ntables);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, c, rc, "cannot list the tables of", path);
        goto cleanup;
    }
    s->rows = xcalloc((size_t)s->ntables + 1, sizeof(*s->rows));
    for (int i = 0; i < s->ntables; i++) {
        char *sql = NULL;
        struct buf b = BUF_INIT;

        buf_adds(&b, "SELECT count(*) FROM \"");
        for (const char *p = s->tables[i]; *p != '\0'; p++) {
            if (*p == '"')
                buf_addc(&b, '"');
            buf_addc(&b, *p);
        }
        buf_addc(&b, '"');
        sql = buf_detach(&b);
        rc = query_int(c, sql, &s->rows[i]);
        free(sql);
        if (rc != SQLITE_OK) {
            rc = sqlite_fail(e, c, rc, "cannot count the rows of a table in", path);
            goto cleanup;
        }
        if (strcmp(s->tables[i], "_migrations") == 0)
            has_ledger = true;
    }
    rc = sorted_strings(c, DB_SQLITE_SCHEMA_OBJECTS, &s->objects, &s->nobjects);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, c, rc, "cannot list the schema objects of", path);
        goto cleanup;
    }
    if (has_ledger) {
        rc = sqlite3_prepare_v2(c, sql_ledger, -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(st, 0);
            if (v != NULL)
                s->schema_version = xstrdup(v);
            rc = SQLITE_DONE;
        }
        if (rc != SQLITE_DONE) {
            rc = sqlite_fail(e, c, rc, "cannot read the migration ledger of", path);
            goto cleanup;
        }
    }
    rc = 0;

cleanup:
    sqlite3_finalize(st);
    return rc;
}

/*
 * Copy all of src's main database into dst's in one sqlite3_backup_step(-1),
 * retrying while the destination is busy (up to BUSY_LIMIT_S from t0) unless
 * cancelled.  what ("copy", "restore") and path name it in errors.
 */
static int copy_all(sqlite3 *dst, sqlite3 *src, double t0, volatile int *cancel, const char *what,
                    const char *path, struct err *e)
{
    char msg[64];
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
    int rc;

    if (bk == NULL) {
        snprintf(msg, sizeof(msg), "cannot start the %s into", what);
        return sqlite_fail(e, dst, SQLITE_ERROR, msg, path);
    }
    for (;;) {
        rc = sqlite3_backup_step(bk, -1);
        if (rc == SQLITE_DONE)
            break;
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && time_mono() - t0 < BUSY_LIMIT_S &&
            (cancel == NULL || *cancel == 0)) {
            sleep_ms(50);
            continue;
        }
        if (cancel != NULL && *cancel != 0) {
            sqlite3_backup_finish(bk);
            return err_set(e, ERR_BACKUP, "%s into '%s' cancelled", what, path);
        }
        break;
    }
    rc = sqlite3_backup_finish(bk);
    if (rc != SQLITE_OK) {
        snprintf(msg, sizeof(msg), "cannot %s into", what);
        return sqlite_fail(e, dst, rc, msg, path);
    }
    return 0;
}

int db_sqlite_backup(const char *src_path, const char *dst_path, struct db_snapshot_stats *st,
                     volatile int *cancel, struct err *e)
{
    sqlite3 *src = NULL, *dst = NULL;
    bool created = false;
    struct stat sb;
    double t0 = time_mono();
    int fd = -1;
    int rc;

    snprintf(st->server_version, sizeof(st->server_version), "SQLite %s", sqlite3_libversion());
    if (stat(src_path, &sb) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot back up '%s': %s", src_path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = err_set(e, ERR_BACKUP, "cannot back up '%s': not a regular file", src_path);
        goto cleanup;
    }
    /* Created here, not by SQLite, so that it is private (0600) and new. */
    fd = open(dst_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot create '%s': %s",
                     dst_path, strerror(errno));
        goto cleanup;
    }
    created = true;
    close(fd);
    fd = -1;

    /* Read-write without CREATE: a WAL reader may need to write the -shm. */
    rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, src, rc, "cannot open", src_path);
        goto cleanup;
    }
    sqlite3_busy_timeout(src, 5000);
    rc = sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, dst, rc, "cannot open", dst_path);
        goto cleanup;
    }
    /* A scratch file, compressed and fsynced afterwards: no journal needed. */
    rc = sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, dst, rc, "cannot prepare", dst_path);
        goto cleanup;
    }

    /*
     * One deferred transaction: the first SELECT (in read_stats) fixes the
     * snapshot, and sqlite3_backup_step reuses that read transaction rather
     * than opening its own, so counts and copy agree, and WAL writers go on.
     */
    rc = sqlite3_exec(src, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, src, rc, "cannot begin a read transaction on", src_path);
        goto cleanup;
    }
    rc = read_stats(src, src_path, st, e);
    if (rc < 0)
        goto cleanup;

    rc = copy_all(dst, src, t0, cancel, "copy", dst_path, e);
    if (rc < 0)
        goto cleanup;
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);

    /*
     * The copied header still says WAL when the source is in WAL mode; a
     * backup is one self-contained file, so switch the copy to a rollback
     * journal (this also folds any -wal the switch creates back in).
     */
    rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, dst, rc, "cannot finish the copy", dst_path);
        goto cleanup;
    }
    rc = sqlite3_close(dst);
    dst = NULL;
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, NULL, rc, "cannot close the copy", dst_path);
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (src != NULL) {
        if (!sqlite3_get_autocommit(src))
            sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(src);
    }
    if (dst != NULL)
        sqlite3_close_v2(dst);
    if (rc < 0 && created) {
        const char *sfx[] = {"", "-journal", "-wal", "-shm"};
        for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
            char *p = xasprintf("%s%s", dst_path, sfx[i]);
            unlink(p);
            free(p);
        }
    }
    return rc;
}

/* ---- verify and restore ---- */

int db_sqlite_check(const char *path, struct err *e)
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c, "PRAGMA integrity_check(20)", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = err_set(e, ERR_VERIFY, "the SQLite database does not open: %s",
                     c != NULL ? sqlite3_errmsg(c) : sqlite3_errstr(rc));
        goto cleanup;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = err_set(e, ERR_VERIFY, "integrity_check of the SQLite database failed: %s",
                     sqlite3_errmsg(c));
        goto cleanup;
    }
    {
        const char *first = (const char *)sqlite3_column_text(st, 0);
        if (first == NULL || strcmp(first, "ok") != 0) {
            rc = err_set(e, ERR_VERIFY, "the SQLite database is damaged (integrity_check: %s)",
                         first != NULL ? first : "no answer");
            goto cleanup;
        }
    }
    rc = 0;

cleanup:
    sqlite3_finalize(st);
    sqlite3_close_v2(c);
    return rc;
}

int db_sqlite_stats(const char *path, struct db_snapshot_stats *st, struct err *e)
{
    sqlite3 *c = NULL;
    int rc;

    snprintf(st->server_version, sizeof(st->server_version), "SQLite %s", sqlite3_libversion());
    rc = sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = err_set(e, ERR_VERIFY, "cannot open the SQLite database in '%s': %s", path,
                     c != NULL ? sqlite3_errmsg(c) : sqlite3_errstr(rc));
        goto cleanup;
    }
    rc = read_stats(c, path, st, e);
    if (rc < 0)
        e->code = ERR_VERIFY, rc = -ERR_VERIFY;

cleanup:
    if (c != NULL && !sqlite3_get_autocommit(c))
        sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close_v2(c);
    return rc;
}

int db_sqlite_restore(const char *src_path, const char *dst_path, volatile int *cancel,
                      struct err *e)
{
    sqlite3 *src = NULL, *dst = NULL;
    double t0 = time_mono();
    int fd = -1;
    int rc;

    /*
     * A missing database is created here, private (0600), as db_open would.
     * O_EXCL: never open and close an existing live file, since closing any
     * descriptor of it drops this process's POSIX locks on it (see sqlite.c).
     */
    fd = open(dst_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot open '%s': %s",
                     dst_path, strerror(errno));
        goto cleanup;
    }
    if (fd >= 0)
        close(fd);
    fd = -1;
    rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, src, rc, "cannot open", src_path);
        goto cleanup;
    }
    rc = sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, dst, rc, "cannot open", dst_path);
        goto cleanup;
    }
    sqlite3_busy_timeout(dst, 5000);
    /* The live file's settings (db_open's): WAL, and durable once committed. */
    rc = sqlite3_exec(dst, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, dst, rc, "cannot prepare", dst_path);
        goto cleanup;
    }
    /* One step: the whole copy is one write transaction on dst. */
    rc = copy_all(dst, src, t0, cancel, "restore", dst_path, e);
    if (rc < 0)
        goto cleanup;
    /* The copy's header said rollback journal; the live file stays in WAL. */
    rc = sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(e, dst, rc, "cannot set WAL mode on", dst_path);
        goto cleanup;
    }
    rc = 0;

cleanup:
    sqlite3_close_v2(src);
    sqlite3_close_v2(dst);
    return rc;
}
