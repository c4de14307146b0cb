/* migrate — see migrate.h.  The ledger follows Prisma Migrate: a row is
 * inserted and committed before a migration runs, so that a migration which
 * fails (or whose process dies) stays visible as failed and blocks the next
 * deploy until an operator resolves it. */
#include "migrate/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "migrate/migrations_gen.h"

#define MIGRATIONS_DIR_ENV "CITAPLANNER_MIGRATIONS_DIR"
#define LOCK_NAME          "migrate"
#define NAME_MAX_LEN       128
/* A migration file larger than this is a mistake (a dump saved by accident). */
#define FILE_MAX_BYTES (16 * 1024 * 1024)

/* One migration this program knows: embedded, or read from the override dir. */
struct mig {
    const char *name;
    const char *sql;
    char sha256[65];
    char *owned; /* name + sql storage when read from a file; NULL when embedded */
};

struct catalog {
    struct mig *items;
    int count;
    char *dir; /* the override directory, NULL for the embedded migrations */
};

/* One row of the _migrations ledger. */
struct ledger_row {
    int64_t id;
    char *name;
    char *checksum;
    char *finished_at; /* NULL while unfinished */
    bool rolled_back;
};

struct ledger {
    struct ledger_row *rows;
    int count;
};

static const char *const state_names[] = {
    [MIGRATION_APPLIED] = "applied",         [MIGRATION_PENDING] = "pending",
    [MIGRATION_FAILED] = "failed",           [MIGRATION_MODIFIED] = "modified",
    [MIGRATION_ROLLED_BACK] = "rolled_back", [MIGRATION_UNKNOWN] = "unknown",
};

const char *migrate_state_name(enum migration_state s)
{
    if ((int)s < 0 || (size_t)s >= sizeof(state_names) / sizeof(state_names[0]))
        return "unknown";
    return state_names[s];
}

static const char *dialect_dir(enum db_kind kind)
{
    return kind == DB_PG ? "pg" : "sqlite";
}

/* "NNNN_name": four digits, '_', then letters, digits and '_'. */
static bool name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (s[4] != '_')
        return false;
    for (size_t i = 5; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

/* The current instant in the one text form both dialects store; returns buf
 * (a pointer, so that DB_TEXT() does not test an array's address). */
static const char *now_text(char buf[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%d %H:%M:%S+00", &tm);
    return buf;
}

static void catalog_release(struct catalog *c)
{
    for (int i = 0; i < c->count; i++)
        free(c->items[i].owned);
    free(c->items);
    free(c->dir);
    memset(c, 0, sizeof(*c));
}

static int mig_cmp(const void *a, const void *b)
{
    return strcmp(((const struct mig *)a)->name, ((const struct mig *)b)->name);
}

/* The directory migrate_set_dir chose; NULL: the embedded migrations. */
static const char *migrations_dir;

void migrate_set_dir(const char *dir)
{
    migrations_dir = dir;
}

static const char *override_dir(void)
{
    return migrations_dir != NULL && migrations_dir[0] != '\0' ? migrations_dir : NULL;
}

static void warn_override(void)
{
    log_warn("migrations are read from '%s' (%s), not the ones built in", override_dir(),
             MIGRATIONS_DIR_ENV);
}

/* An override left set in production would silently change the schema: say
 * so, once per process. */
static void warn_override_once(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, warn_override);
}

/* Read one migration file (a regular file, at most FILE_MAX_BYTES, no NUL byte). */
static int read_migration_file(const char *path, const char *name, struct mig *m, struct err *e)
{
    FILE *f = NULL;
    struct stat st;
    size_t namelen = strlen(name);
    char *buf = NULL;
    int rc = 0;

    f = fopen(path, "rb");
    if (f == NULL) {
        rc = err_set(e, ERR_CONFIG, "%s: cannot open '%s': %s", MIGRATIONS_DIR_ENV, path,
                     strerror(errno));
        goto cleanup;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = err_set(e, ERR_CONFIG, "%s: '%s' is not a regular file", MIGRATIONS_DIR_ENV, path);
        goto cleanup;
    }
    if (st.st_size > FILE_MAX_BYTES) {
        rc = err_set(e, ERR_CONFIG, "%s: '%s' is larger than %d bytes", MIGRATIONS_DIR_ENV, path,
                     FILE_MAX_BYTES);
        goto cleanup;
    }
    /* One allocation: the name, then the SQL text. */
    size_t size = (size_t)st.st_size;
    buf = xmalloc(namelen + 1 + size + 1);
    memcpy(buf, name, namelen + 1);
    char *sql = buf + namelen + 1;
    size_t got = fread(sql, 1, size, f);
    if (got != size || ferror(f)) {
        rc = err_set(e, ERR_CONFIG, "%s: cannot read '%s'", MIGRATIONS_DIR_ENV, path);
        goto cleanup;
    }
    sql[size] = '\0';
    if (memchr(sql, '\0', size) != NULL) {
        rc = err_set(e, ERR_CONFIG, "%s: '%s' contains a NUL byte", MIGRATIONS_DIR_ENV, path);
        goto cleanup;
    }
    hash_sha256_hex(sql, size, m->sha256);
    m->name = buf;
    m->sql = sql;
    m->owned = buf;
    buf = NULL;

cleanup:
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

/* The migrations of DIR/<dialect>/NNNN_name.sql, sorted by name.  Other
 * files are ignored, so that an editor's backup file cannot become a migration. */
static int catalog_load_dir(const char *dir, enum db_kind kind, struct catalog *c, struct err *e)
{
    char *path = xasprintf("%s/%s", dir, dialect_dir(kind));
    DIR *d = NULL;
    struct dirent *de;
    int cap = 0;
    int rc = 0;

    c->dir = xstrdup(path);
    d = opendir(path);
    if (d == NULL) {
        rc = err_set(e, ERR_CONFIG, "%s: cannot open the directory '%s': %s", MIGRATIONS_DIR_ENV,
                     path, strerror(errno));
        goto cleanup;
    }
    while ((de = readdir(d)) != NULL) {
        char name[NAME_MAX_LEN + 1];
        size_t n = strlen(de->d_name);
        if (n <= 4 || n - 4 > NAME_MAX_LEN || !str_ends_with(de->d_name, ".sql"))
            continue;
        memcpy(name, de->d_name, n - 4);
        name[n - 4] = '\0';
        if (!name_valid(name))
            continue;
        if (c->count == cap) {
            cap = cap ? cap * 2 : 8;
            c->items = xrealloc(c->items, (size_t)cap * sizeof(*c->items));
        }
        char *file = xasprintf("%s/%s", path, de->d_name);
        memset(&c->items[c->count], 0, sizeof(c->items[0]));
        rc = read_migration_file(file, name, &c->items[c->count], e);
        free(file);
        if (rc < 0)
            goto cleanup;
        c->count++;
    }
    if (c->count > 1)
        qsort(c->items, (size_t)c->count, sizeof(*c->items), mig_cmp);

cleanup:
    if (d != NULL)
        closedir(d);
    free(path);
    return rc;
}

/* The migrations this program applies to a database of that kind. */
static int catalog_load(enum db_kind kind, struct catalog *c, struct err *e)
{
    const char *dir = override_dir();

    memset(c, 0, sizeof(*c));
    if (dir != NULL) {
        warn_override_once();
        return catalog_load_dir(dir, kind, c, e);
    }
    for (int i = 0; i < migrate_embedded_count; i++) {
        const struct migrate_embedded *m = &migrate_embedded[i];
        if (m->kind != kind)
            continue;
        c->items = xrealloc(c->items, (size_t)(c->count + 1) * sizeof(*c->items));
        struct mig *x = &c->items[c->count++];
        memset(x, 0, sizeof(*x));
        x->name = m->name;
        x->sql = m->sql;
        memcpy(x->sha256, m->sha256, 65);
    }
    return 0;
}

static const struct mig *catalog_find(const struct catalog *c, const char *name)
{
    for (int i = 0; i < c->count; i++)
        if (strcmp(c->items[i].name, name) == 0)
            return &c->items[i];
    return NULL;
}

static void ledger_release(struct ledger *l)
{
    for (int i = 0; i < l->count; i++) {
        free(l->rows[i].name);
        free(l->rows[i].checksum);
        free(l->rows[i].finished_at);
    }
    free(l->rows);
    memset(l, 0, sizeof(*l));
}

static int ledger_exists(struct db *db, bool *exists, struct err *e)
{
    static const char sql_pg[] = "SELECT count(*) FROM information_schema.tables"
                                 " WHERE table_schema = current_schema()"
                                 " AND table_name = '_migrations'";
    static const char sql_sqlite[] = "SELECT count(*) FROM sqlite_master"
                                     " WHERE type = 'table' AND name = '_migrations'";
    int64_t n = 0;
    int rc = db_query_int(db, db_kind(db) == DB_PG ? sql_pg : sql_sqlite, DB_NOPARAMS, &n, e);
    if (rc < 0)
        return rc;
    *exists = n > 0;
    return 0;
}

/* Create the ledger when missing; only under the lock, since two concurrent
 * CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL. */
static int ledger_ensure(struct db *db, struct err *e)
{
    static const char sql_pg[] = "CREATE TABLE IF NOT EXISTS _migrations ("
                                 " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                                 " name TEXT NOT NULL,"
                                 " checksum TEXT NOT NULL,"
                                 " started_at TIMESTAMPTZ(0) NOT NULL DEFAULT now(),"
                                 " finished_at TIMESTAMPTZ(0),"
                                 " rolled_back_at TIMESTAMPTZ(0),"
                                 " logs TEXT)";
    static const char sql_sqlite[] =
        "CREATE TABLE IF NOT EXISTS _migrations ("
        " id INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " checksum TEXT NOT NULL,"
        " started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),"
        " finished_at TEXT,"
        " rolled_back_at TEXT,"
        " logs TEXT)";
    bool exists = false;
    int rc = ledger_exists(db, &exists, e);
    if (rc < 0 || exists)
        return rc;
    rc = db_exec(db, db_kind(db) == DB_PG ? sql_pg : sql_sqlite, e);
    if (rc < 0)
        return err_prefix(e, "cannot create the migration ledger '_migrations'");
    return 0;
}

/* Every ledger row, oldest first; an empty ledger when the table is missing. */
static int ledger_read(struct db *db, struct ledger *l, struct err *e)
{
    struct db_res *r = NULL;
    bool exists = false;
    int cap = 0;
    int rc;

    memset(l, 0, sizeof(*l));
    rc = ledger_exists(db, &exists, e);
    if (rc < 0 || !exists)
        goto cleanup;
    rc = db_query(db,
                  "SELECT id, name, checksum, finished_at, rolled_back_at"
                  " FROM _migrations ORDER BY id",
                  DB_NOPARAMS, &r, e);
    if (rc < 0) {
        err_prefix(e, "cannot read the migration ledger '_migrations'");
        goto cleanup;
    }
    while (db_res_next(r) == 1) {
        if (l->count == cap) {
            cap = cap ? cap * 2 : 8;
            l->rows = xrealloc(l->rows, (size_t)cap * sizeof(*l->rows));
        }
        struct ledger_row *row = &l->rows[l->count++];
        const char *s;
        row->id = db_res_int(r, 0);
        s = db_res_text(r, 1);
        row->name = xstrdup(s ? s : "");
        s = db_res_text(r, 2);
        row->checksum = xstrdup(s ? s : "");
        s = db_res_text(r, 3);
        row->finished_at = s ? xstrdup(s) : NULL;
        row->rolled_back = !db_res_isnull(r, 4);
    }

cleanup:
    db_res_free(r);
    return rc;
}

static int info_cmp(const void *a, const void *b)
{
    return strcmp(((const struct migration_info *)a)->name,
                  ((const struct migration_info *)b)->name);
}

/*
 * The state of one name from its ledger rows: applied when a row finished
 * and was not rolled back (modified if that row's checksum is not the
 * file's), else failed when a row is unfinished and not rolled back, else
 * rolled back when it has rows, else pending.  sha256 NULL: a name this
 * program does not know, unknown unless every attempt was rolled back.
 */
static enum migration_state state_of(const struct ledger *l, const char *name, const char *sha256,
                                     const char **finished_at)
{
    const struct ledger_row *applied = NULL;
    bool failed = false, any = false;

    for (int i = 0; i < l->count; i++) {
        const struct ledger_row *row = &l->rows[i];
        if (strcmp(row->name, name) != 0)
            continue;
        any = true;
        if (row->rolled_back)
            continue;
        if (row->finished_at != NULL)
            applied = row; /* the newest wins */
        else
            failed = true;
    }
    *finished_at = NULL;
    if (applied != NULL) {
        *finished_at = applied->finished_at;
        if (sha256 != NULL && strcmp(applied->checksum, sha256) != 0)
            return MIGRATION_MODIFIED;
        return sha256 != NULL ? MIGRATION_APPLIED : MIGRATION_UNKNOWN;
    }
    if (failed)
        return sha256 != NULL ? MIGRATION_FAILED : MIGRATION_UNKNOWN;
    if (any)
        return MIGRATION_ROLLED_BACK;
    return MIGRATION_PENDING;
}

static void report_add(struct migrate_report *r, const char *name, enum migration_state st,
                       const char *finished_at)
{
    r->items = xrealloc(r->items, (size_t)(r->count + 1) * sizeof(*r->items));
    struct migration_info *it = &r->items[r->count++];
    it->name = xstrdup(name);
    it->state = st;
    it->finished_at = finished_at ? xstrdup(finished_at) : NULL;
    switch (st) {
    case MIGRATION_APPLIED:
        r->applied++;
        break;
    case MIGRATION_PENDING:
    case MIGRATION_ROLLED_BACK: /* deploy runs it again */
        r->pending++;
        break;
    case MIGRATION_FAILED:
        r->failed++;
        break;
    case MIGRATION_MODIFIED:
        r->modified++;
        break;
    case MIGRATION_UNKNOWN:
        r->unknown++;
        break;
    }
}

/* Compare what this program knows with the ledger: one item per name, sorted. */
static void report_build(const struct catalog *c, const struct ledger *l, struct migrate_report *r)
{
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < c->count; i++) {
        const char *fin = NULL;
        enum migration_state st = state_of(l, c->items[i].name, c->items[i].sha256, &fin);
        report_add(r, c->items[i].name, st, fin);
    }
    /* Names in the ledger that this program does not know, once each. */
    for (int i = 0; i < l->count; i++) {
        const char *name = l->rows[i].name;
        bool seen = catalog_find(c, name) != NULL;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(l->rows[j].name, name) == 0;
        if (seen)
            continue;
        const char *fin = NULL;
        /* Every attempt rolled back: it never changed the schema, so it
         * neither makes the database newer nor blocks a deploy. */
        if (state_of(l, name, NULL, &fin) == MIGRATION_ROLLED_BACK)
            continue;
        report_add(r, name, MIGRATION_UNKNOWN, fin);
    }
    if (r->count > 1)
        qsort(r->items, (size_t)r->count, sizeof(*r->items), info_cmp);
}

void migrate_report_release(struct migrate_report *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->count; i++) {
        free(r->items[i].name);
        free(r->items[i].finished_at);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

/* Load the catalog and the ledger and compare them. */
static int status_load(struct db *db, struct catalog *c, struct migrate_report *r, struct err *e)
{
    struct ledger l = {0};
    int rc;

    memset(r, 0, sizeof(*r));
    rc = catalog_load(db_kind(db), c, e);
    if (rc < 0)
        goto cleanup;
    rc = ledger_read(db, &l, e);
    if (rc < 0)
        goto cleanup;
    report_build(c, &l, r);

cleanup:
    ledger_release(&l);
    return rc;
}

int migrate_status(struct db *db, struct migrate_report *r, struct err *e)
{
    struct catalog c = {0};
    int rc = status_load(db, &c, r, e);
    catalog_release(&c);
    return rc;
}

int migrate_is_current(struct db *db, struct err *e)
{
    struct migrate_report r = {0};
    int rc = migrate_status(db, &r, e);
    if (rc == 0)
        rc = r.pending == 0 && r.failed == 0 && r.modified == 0 && r.unknown == 0;
    migrate_report_release(&r);
    return rc;
}

int migrate_pending_count(struct db *db, struct err *e)
{
    struct migrate_report r = {0};
    int rc = migrate_status(db, &r, e);
    if (rc == 0)
        rc = r.pending;
    migrate_report_release(&r);
    return rc;
}

const char *migrate_latest_name(enum db_kind kind)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char latest[2][NAME_MAX_LEN + 1];
    const char *out = NULL;

    if (override_dir() == NULL) {
        for (int i = 0; i < migrate_embedded_count; i++)
            if (migrate_embedded[i].kind == kind)
                out = migrate_embedded[i].name; /* sorted: the last one wins */
        return out;
    }
    /* Override: the directory may change between calls (tests), so read it
     * each time; the answer lives in a static buffer per dialect. */
    struct catalog c = {0};
    struct err e;
    int k = kind == DB_PG ? 0 : 1;
    pthread_mutex_lock(&mu);
    if (catalog_load(kind, &c, &e) == 0 && c.count > 0) {
        snprintf(latest[k], sizeof(latest[k]), "%s", c.items[c.count - 1].name);
        out = latest[k];
    }
    pthread_mutex_unlock(&mu);
    catalog_release(&c);
    return out;
}

bool migrate_knows(enum db_kind kind, const char *name)
{
    struct catalog c = {0};
    struct err e;
    bool found = false;

    if (name != NULL && catalog_load(kind, &c, &e) == 0)
        found = catalog_find(&c, name) != NULL;
    catalog_release(&c);
    return found;
}

/*
 * Run one migration: its ledger row is committed first (started), then the
 * SQL and the row's finished_at go in one transaction.  On failure the
 * transaction is rolled back (no partial schema) and the error is kept in
 * the row's logs, which leaves it recorded as failed.
 */
static int apply_one(struct db *db, const struct mig *m, struct err *e)
{
    char tsbuf[32];
    const char *ts = now_text(tsbuf);
    int64_t id = 0;
    struct err run;
    int rc;

    err_clear(&run);
    rc = db_query_int(db,
                      "INSERT INTO _migrations (name, checksum, started_at)"
                      " VALUES ($1, $2, $3) RETURNING id",
                      DB_PARAMS(DB_TEXT(m->name), DB_TEXT(m->sha256), DB_TEXT(ts)), &id, e);
    if (rc != 0) {
        if (rc > 0)
            rc = err_set(e, ERR_INTERNAL, "inserting into '_migrations' returned no id");
        return err_prefix(e, "migration '%s'", m->name);
    }

    rc = db_begin(db, &run);
    if (rc == 0)
        rc = db_exec(db, m->sql, &run);
    if (rc == 0) {
        ts = now_text(tsbuf);
        rc = db_exec_params(db, "UPDATE _migrations SET finished_at = $1 WHERE id = $2",
                            DB_PARAMS(DB_TEXT(ts), DB_INT(id)), NULL, &run);
    }
    if (rc == 0)
        rc = db_commit(db, &run);
    if (rc == 0)
        return 0;

    if (db_in_transaction(db))
        db_rollback(db);
    struct err logerr;
    err_clear(&logerr);
    if (db_exec_params(db, "UPDATE _migrations SET logs = $1 WHERE id = $2",
                       DB_PARAMS(DB_TEXT(run.msg), DB_INT(id)), NULL, &logerr) < 0)
        log_warn("cannot record the failure of migration '%s' in '_migrations': %s", m->name,
                 logerr.msg);
    return err_set(e, ERR_MIGRATE,
                   "migration '%s' failed and was rolled back (fix it, then run 'citaplanner "
                   "migrate resolve --rolled-back %s'): %s",
                   m->name, m->name, run.msg);
}

/* Refuse to deploy over a failed, modified or unknown migration. */
static int check_deployable(const struct migrate_report *r, struct err *e)
{
    for (int i = 0; i < r->count; i++) {
        const struct migration_info *it = &r->items[i];
        switch (it->state) {
        case MIGRATION_FAILED:
            return err_set(e, ERR_MIGRATE,
                           "migration '%s' failed in an earlier deploy and blocks the others "
                           "(see its logs in '_migrations'); fix it, then run 'citaplanner "
                           "migrate resolve --rolled-back %s' to run it again, or "
                           "'--applied %s' if its changes were made by hand",
                           it->name, it->name, it->name);
        case MIGRATION_MODIFIED:
            return err_set(e, ERR_MIGRATE,
                           "migration '%s' was modified after it was applied (its checksum "
                           "differs); restore the original file and write the change as a new "
                           "migration, or accept it with 'citaplanner migrate resolve "
                           "--applied %s'",
                           it->name, it->name);
        case MIGRATION_UNKNOWN:
            return err_set(e, ERR_MIGRATE,
                           "the database has migration '%s', which this program does not know: "
                           "it was applied by a newer version of citaplanner; run that version",
                           it->name);
        default:
            break;
        }
    }
    return 0;
}

/* deploy, with the lock already held. */
static int deploy_locked(struct db *db, migrate_applied_fn fn, void *arg, int *applied,
                         struct err *e)
{
    struct catalog c = {0};
    struct migrate_report r = {0};
    int rc;

    rc = migrate_refuse_original(db, e); /* before the ledger: change nothing */
    if (rc < 0)
        goto cleanup;
    rc = ledger_ensure(db, e);
    if (rc < 0)
        goto cleanup;
    /* Read after taking the lock: a concurrent deploy may just have applied
     * everything, and then there is nothing left to do. */
    rc = status_load(db, &c, &r, e);
    if (rc < 0)
        goto cleanup;
    rc = check_deployable(&r, e);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < r.count; i++) {
        const struct migration_info *it = &r.items[i];
        if (it->state != MIGRATION_PENDING && it->state != MIGRATION_ROLLED_BACK)
            continue;
        const struct mig *m = catalog_find(&c, it->name);
        if (m == NULL) {
            rc = err_set(e, ERR_INTERNAL, "migration '%s' vanished from the catalog", it->name);
            goto cleanup;
        }
        double t0 = time_mono();
        rc = apply_one(db, m, e);
        if (rc < 0)
            goto cleanup;
        double secs = time_mono() - t0;
        log_info("migration applied: '%s' (%.3f s)", m->name, secs);
        if (applied != NULL)
            (*applied)++;
        if (fn != NULL)
            fn(m->name, secs, arg);
    }

cleanup:
    migrate_report_release(&r);
    catalog_release(&c);
    return rc;
}

int migrate_deploy_each(struct db *db, migrate_applied_fn fn, void *arg, int *applied,
                        struct err *e)
{
    int rc;

    if (applied != NULL)
        *applied = 0;
    rc = db_lock(db, LOCK_NAME, true, e);
    if (rc < 0)
        return err_prefix(e, "cannot take the migration lock");
    rc = deploy_locked(db, fn, arg, applied, e);
    struct err ue;
    err_clear(&ue);
    if (db_unlock(db, LOCK_NAME, &ue) < 0)
        log_warn("cannot release the migration lock: %s", ue.msg);
    return rc;
}

int migrate_deploy(struct db *db, int *applied, struct err *e)
{
    return migrate_deploy_each(db, NULL, NULL, applied, e);
}

int migrate_reset(struct db *db, migrate_applied_fn fn, void *arg, int *applied, struct err *e)
{
    int rc;

    if (applied != NULL)
        *applied = 0;
    rc = db_lock(db, LOCK_NAME, true, e);
    if (rc < 0)
        return err_prefix(e, "cannot take the migration lock");
    rc = db_drop_all(db, e);
    if (rc < 0)
        err_prefix(e, "cannot drop the database's objects");
    else
        rc = deploy_locked(db, fn, arg, applied, e);
    struct err ue;
    err_clear(&ue);
    if (db_unlock(db, LOCK_NAME, &ue) < 0)
        log_warn("cannot release the migration lock: %s", ue.msg);
    return rc;
}

/* The ledger writes of resolve, in one transaction. */
static int resolve_write(struct db *db, const struct mig *m, enum migration_state from,
                         enum migration_state to, const char *old_checksum, struct err *e)
{
    char tsbuf[32];
    const char *ts = now_text(tsbuf);
    char *note = NULL;
    int rc;

    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    if (from == MIGRATION_FAILED) {
        /* Both ways out of a failure close the failed attempt first. */
        rc = db_exec_params(db,
                            "UPDATE _migrations SET rolled_back_at = $1 WHERE name = $2"
                            " AND finished_at IS NULL AND rolled_back_at IS NULL",
                            DB_PARAMS(DB_TEXT(ts), DB_TEXT(m->name)), NULL, e);
        if (rc < 0)
            goto cleanup;
    }
    if (to == MIGRATION_APPLIED && from == MIGRATION_MODIFIED) {
        note = xasprintf("checksum %s replaced by %s: accepted by 'migrate resolve --applied' "
                         "at %s",
                         old_checksum, m->sha256, ts);
        rc =
            db_exec_params(db,
                           "UPDATE _migrations SET checksum = $1, logs = $2 WHERE name = $3"
                           " AND finished_at IS NOT NULL AND rolled_back_at IS NULL",
                           DB_PARAMS(DB_TEXT(m->sha256), DB_TEXT(note), DB_TEXT(m->name)), NULL, e);
    } else if (to == MIGRATION_APPLIED) {
        rc = db_exec_params(db,
                            "INSERT INTO _migrations (name, checksum, started_at, finished_at,"
                            " logs) VALUES ($1, $2, $3, $3, $4)",
                            DB_PARAMS(DB_TEXT(m->name), DB_TEXT(m->sha256), DB_TEXT(ts),
                                      DB_TEXT("marked applied by 'migrate resolve --applied', "
                                              "without running it")),
                            NULL, e);
    }
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);

cleanup:
    if (rc < 0 && db_in_transaction(db))
        db_rollback(db);
    free(note);
    return rc;
}

static const char *applied_checksum(const struct ledger *l, const char *name)
{
    const char *sum = "";
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->rows[i].name, name) == 0 && l->rows[i].finished_at != NULL &&
            !l->rows[i].rolled_back)
            sum = l->rows[i].checksum;
    return sum;
}

int migrate_resolve(struct db *db, const char *name, enum migration_state to, struct err *e)
{
    struct catalog c = {0};
    struct ledger l = {0};
    bool locked = false;
    int rc;

    if (to != MIGRATION_APPLIED && to != MIGRATION_ROLLED_BACK) {
        rc = err_set(e, ERR_INTERNAL,
                     "migrate_resolve: the target state must be applied or "
                     "rolled_back");
        goto cleanup;
    }
    rc = catalog_load(db_kind(db), &c, e);
    if (rc < 0)
        goto cleanup;
    const struct mig *m = catalog_find(&c, name);
    if (m == NULL) {
        rc = err_set(e, ERR_USAGE,
                     "unknown migration '%s': this program has no migration of that name "
                     "(see 'citaplanner migrate status')",
                     name);
        goto cleanup;
    }
    rc = db_lock(db, LOCK_NAME, true, e);
    if (rc < 0) {
        err_prefix(e, "cannot take the migration lock");
        goto cleanup;
    }
    locked = true;
    rc = ledger_ensure(db, e);
    if (rc < 0)
        goto cleanup;
    rc = ledger_read(db, &l, e);
    if (rc < 0)
        goto cleanup;
    const char *fin = NULL;
    enum migration_state from = state_of(&l, name, m->sha256, &fin);

    if (to == MIGRATION_ROLLED_BACK && from != MIGRATION_FAILED) {
        rc = err_set(e, ERR_MIGRATE,
                     "migration '%s' is %s, not failed: only a failed migration can be marked "
                     "rolled back",
                     name, migrate_state_name(from));
        goto cleanup;
    }
    if (to == MIGRATION_APPLIED && from == MIGRATION_APPLIED) {
        rc = err_set(e, ERR_MIGRATE, "migration '%s' is already applied", name);
        goto cleanup;
    }
    rc = resolve_write(db, m, from, to, applied_checksum(&l, name), e);
    if (rc < 0) {
        err_prefix(e, "cannot record the resolution of migration '%s'", name);
        goto cleanup;
    }
    log_info("migration '%s' marked %s (was %s)", name, migrate_state_name(to),
             migrate_state_name(from));

cleanup:
    if (locked) {
        struct err ue;
        err_clear(&ue);
        if (db_unlock(db, LOCK_NAME, &ue) < 0)
            log_warn("cannot release the migration lock: %s", ue.msg);
    }
    ledger_release(&l);
    catalog_release(&c);
    return rc;
}
