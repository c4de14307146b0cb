/*
 * restore — put a backup back in place of the current data.  See restore.h
 * (backup_restore) for the contract and the order of the steps, and
 * psql.h (backup_psql_feed_file) for the PostgreSQL machinery.
 *
 * Why psql gets "BEGIN" and "COMMIT" from us rather than --single-transaction:
 * with --single-transaction psql commits when its input ends, so a restore
 * that died halfway (kill -9) would commit half a dump.  Here psql only ever
 * sees COMMIT after the last byte of a dump that decoded and hashed right;
 * an input that ends before it leaves the transaction open, and the server
 * rolls it back when psql disconnects.
 *
 * psql's stdin is a socket rather than a pipe so that writing to a psql
 * that stopped (ON_ERROR_STOP) returns EPIPE without raising SIGPIPE in
 * this process (send with MSG_NOSIGNAL).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/files.h"
#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/take.h"
#include "backup/scan.h"
#include "backup/dumphead.h"
#include "backup/psql.h"
#include "backup/runtime.h"
#include "backup/manifest.h"
#include "backup/secrets_key.h"
#include "backup/verify.h"
#include "backup/restore.h"
#include "backup/encrypt.h"
#include "backup/foreign.h"
#include "common/log.h"
#include "db/db_backup.h"
#include "common/proc.h"
#include "common/util.h"
#include "migrate/migrate.h"
#include "notify/secrets.h"

const char *const backup_restore_counted[3] = {"users", "appointments", "clients"};

/* ---- restore ---- */

void backup_restore_result_release(struct backup_restore_result *r)
{
    if (r == NULL)
        return;
    backup_manifest_release(&r->m);
    free(r->prerestore);
    free(r->schema_version);
    memset(r, 0, sizeof(*r));
}

static void verify_progress(void *arg, const struct backup_progress *p)
{
    const struct backup_restore_opts *o = arg;

    if (o->progress != NULL)
        o->progress(o->progress_arg, p);
}

static void unlink_sqlite(const char *p)
{
    const char *sfx[] = {"", "-journal", "-wal", "-shm"};

    for (int i = 0; i < 4; i++) {
        char *q = xasprintf("%s%s", p, sfx[i]);
        unlink(q);
        free(q);
    }
}

/* What the schema check raises: a restore refused, not failed. */
#define SCHEMA_CHECK_MARK "citaplanner schema check"

/*
 * What our schema has had at every version, whatever a manifest says (or
 * leaves out): the no-double-booking guard.  Names as db_schema_objects.
 */
static const char *const required_pg[] = {"constraint appointments.appointments_no_overlap", NULL};
static const char *const required_sqlite[] = {"trigger appointments_no_overlap_insert",
                                              "trigger appointments_no_overlap_update", NULL};

/* ARRAY[E'…', …]::text[] of n strings (n < 0: up to a NULL), or NULL::text[] when v is NULL. */
static void add_text_array(struct buf *b, const char *const *v, int n)
{
    if (v == NULL) {
        buf_adds(b, "NULL::text[]");
        return;
    }
    buf_adds(b, "ARRAY[");
    for (int i = 0; n < 0 ? v[i] != NULL : i < n; i++) {
        buf_adds(b, i > 0 ? ", E'" : "E'");
        for (const char *c = v[i]; *c != '\0'; c++) {
            if (*c == '\'' || *c == '\\')
                buf_addc(b, *c);
            buf_addc(b, *c);
        }
        buf_addc(b, '\'');
    }
    buf_adds(b, "]::text[]");
}

/*
 * The epilogue of a PostgreSQL restore: the loaded catalog compared, in the
 * restore's own transaction, with the schema objects the manifest records
 * (objects NULL: not recorded, not compared) and checked for the required
 * ones (ours: the dump holds our schema), then COMMIT.  A difference raises
 * an error: psql stops (ON_ERROR_STOP) before COMMIT and the server rolls
 * everything back.  Caller frees.
 */
static char *restore_epilogue(char *const *objects, int n, bool ours)
{
    struct buf b = BUF_INIT;

    if (objects == NULL && !ours)
        return xstrdup("\nCOMMIT;\n");
    buf_adds(&b, "\nDO $citaplanner$DECLARE want text[] := ");
    add_text_array(&b, (const char *const *)objects, n);
    buf_adds(&b, "; need text[] := ");
    add_text_array(&b, ours ? required_pg : NULL, -1);
    buf_adds(&b,
             "; have text[]; missing text; extra text; BEGIN\n"
             "have := ARRAY(SELECT h.o FROM (" DB_PG_SCHEMA_OBJECTS ") AS h);\n"
             "IF want IS NOT NULL THEN\n"
             "SELECT string_agg(o, ', ' ORDER BY o) INTO missing FROM (SELECT unnest(want) AS o "
             "EXCEPT SELECT unnest(have)) d;\n"
             "SELECT string_agg(o, ', ' ORDER BY o) INTO extra FROM (SELECT unnest(have) AS o "
             "EXCEPT SELECT unnest(want)) d;\n"
             "IF missing IS NOT NULL OR extra IS NOT NULL THEN RAISE EXCEPTION '" SCHEMA_CHECK_MARK
             ": the loaded schema differs from the one its manifest records (missing: %; "
             "unexpected: %)', coalesce(left(missing, 400), 'none'), coalesce(left(extra, 400), "
             "'none'); END IF;\nEND IF;\n"
             "SELECT string_agg(o, ', ' ORDER BY o) INTO missing FROM (SELECT unnest(need) AS o "
             "EXCEPT SELECT unnest(have)) d;\n"
             "IF missing IS NOT NULL THEN RAISE EXCEPTION '" SCHEMA_CHECK_MARK
             ": the loaded schema lacks what every version of ours has: %', missing; END IF;\n"
             "END$citaplanner$;\nCOMMIT;\n");
    return buf_detach(&b);
}

/* PostgreSQL: one transaction, dropped schema and the whole dump, or nothing. */
static int restore_pg(const struct backup_restore_opts *o, const char *sha,
                      const struct backup_manifest *m, bool ours, struct err *e)
{
    struct db *db = NULL;
    char *prologue = NULL;
    char *epilogue = restore_epilogue(m->objects, m->nobjects, ours);
    struct backup_tick tk = {o->progress, o->progress_arg, "restore", time_mono()};
    int rc;

    rc = db_open(o->db, DB_CONNECT_TIMEOUT_S, &db, e);
    if (rc < 0)
        goto cleanup;
    /*
     * An empty public schema as initdb makes it: since PostgreSQL 15 owned by
     * pg_database_owner (when we may give it away: the database's owner or a
     * superuser) with USAGE for PUBLIC; before, CREATE and USAGE for PUBLIC.
     */
    if (db_server_version_num(db) >= 150000)
        prologue = xstrdup("SET client_min_messages = warning;\n"
                           "BEGIN;\n"
                           "DROP SCHEMA IF EXISTS public CASCADE;\n"
                           "CREATE SCHEMA public;\n"
                           "DO $citaplanner$BEGIN IF pg_has_role('pg_database_owner', 'MEMBER') "
                           "THEN ALTER SCHEMA public OWNER TO pg_database_owner; END IF; "
                           "END$citaplanner$;\n"
                           "GRANT USAGE ON SCHEMA public TO PUBLIC;\n"
                           "COMMENT ON SCHEMA public IS 'standard public schema';\n");
    else
        prologue = xstrdup("SET client_min_messages = warning;\n"
                           "BEGIN;\n"
                           "DROP SCHEMA IF EXISTS public CASCADE;\n"
                           "CREATE SCHEMA public;\n"
                           "GRANT ALL ON SCHEMA public TO PUBLIC;\n"
                           "COMMENT ON SCHEMA public IS 'standard public schema';\n");
    {
        struct backup_psql_feed f = {
            .url = o->db,
            .server_major = db_server_version_num(db) / 10000,
            .priv_dir = o->cfg->backup_dir,
            .prologue = prologue,
            .epilogue = epilogue,
            .expect_sha256 = sha,
            .cancel = o->cancel,
            .tick = backup_progress_tick,
            .tick_arg = &tk,
        };
        if (backup_name_encrypted(o->file)) {
            /* Decrypted by age into a pipe, never onto disk; sha is the gzip data's hash. */
            struct backup_age *age = NULL;
            rc = backup_age_decrypt_start(backup_decrypt_identity(o->cfg->backup_decrypt_identity),
                                          o->file, &age, e);
            if (rc < 0)
                goto cleanup;
            rc = backup_psql_feed_file(&f, backup_age_fd_path(age), e);
            if (rc < 0)
                backup_age_abort(age);
            else
                rc = backup_age_finish(age, e);
        } else {
            rc = backup_psql_feed_file(&f, o->file, e);
        }
    }

    if (rc < 0 && strstr(e->msg, SCHEMA_CHECK_MARK) != NULL)
        e->code = ERR_RESTORE_REFUSED; /* rolled back: the old data stays */

cleanup:
    db_close(db);
    free(prologue);
    free(epilogue);
    return rc;
}

/*
 * SQLite: the checked copy's schema objects against the manifest's (when it
 * records them) and the required ones (ours), before it replaces anything.
 */
static int check_sqlite_schema(const char *file, const char *copy, const struct backup_manifest *m,
                               bool ours, struct err *e)
{
    struct db_snapshot_stats st;
    struct buf why = BUF_INIT;
    int rc;

    memset(&st, 0, sizeof(st));
    rc = db_sqlite_stats(copy, &st, e);
    for (int i = 0; rc == 0 && ours && required_sqlite[i] != NULL; i++) {
        bool found = false;
        for (int k = 0; k < st.nobjects && !found; k++)
            found = strcmp(st.objects[k], required_sqlite[i]) == 0;
        if (!found)
            buf_add_reason(&why, "the schema lacks '%s', which every version of ours has",
                           required_sqlite[i]);
    }
    if (rc == 0 && m->objects != NULL && st.objects != NULL)
        backup_schema_compare(m->objects, m->nobjects, st.objects, st.nobjects, &why);
    if (rc == 0 && why.len > 0)
        rc = err_set(e, ERR_RESTORE_REFUSED, "refusing to restore '%s': %s", file, buf_str(&why));
    db_snapshot_stats_release(&st);
    buf_release(&why);
    return rc;
}

int backup_restore(const struct backup_restore_opts *o, struct backup_restore_result *r,
                   struct err *e)
{
    const char *dir = o->cfg->backup_dir;
    enum db_kind kind = o->db->kind == URL_SQLITE ? DB_SQLITE : DB_PG;
    const char *kind_name = kind == DB_PG ? "postgresql" : "sqlite";
    struct backup_log *log = NULL;
    struct backup_lock *lock = NULL;
    struct backup_verify_result vr;
    struct db *db = NULL;
    char *live_dir = NULL, *key_path = NULL;
    unsigned char key[SEAL_KEY_LEN];
    bool has_key = false;
    struct backup_schema_scan schema;
    bool ours = false; /* the backup holds our schema (not another tool's) */
    double t0 = time_mono(), ts;
    int rc;

    backup_schema_scan_init(&schema);
    memset(r, 0, sizeof(*r));
    memset(&vr, 0, sizeof(vr));
    for (int i = 0; i < 3; i++)
        r->rows_after[i] = -1;
    rc = backup_dir_prepare(dir, e);
    if (rc < 0)
        goto cleanup;
    rc = backup_log_open(dir, o->now, &log, e);
    if (rc < 0)
        goto cleanup;
    log_info("restore: started: '%s' into '%s' (pid %ld)", o->file, url_redacted(o->db),
             (long)getpid());
    rc = backup_lock_acquire(dir, &lock, e);
    if (rc < 0)
        goto cleanup;
    rc = backup_cleanup_stale(dir, NULL, e);
    if (rc < 0)
        goto cleanup;
    backup_runtime_sweep(o->db);
    if (backup_name_encrypted(o->file) &&
        backup_decrypt_identity(o->cfg->backup_decrypt_identity) == NULL) {
        rc = err_set(e, ERR_CONFIG,
                     "'%s' is encrypted: set BACKUP_DECRYPT_IDENTITY to the age identity file "
                     "that decrypts it",
                     o->file);
        goto cleanup;
    }

    /* 1. The backup must be whole, of this kind of database, and not newer. */
    ts = time_mono();
    {
        struct backup_verify_opts vo = {
            .db = o->db,
            .keep_copy = kind == DB_SQLITE,
            .cancel = o->cancel,
            .progress = o->progress != NULL ? verify_progress : NULL,
            .progress_arg = (void *)o,
            .identity = backup_decrypt_identity(o->cfg->backup_decrypt_identity),
            .content_sink = kind == DB_PG ? backup_schema_sink : NULL,
            .content_arg = &schema,
        };
        if (kind == DB_SQLITE) {
            /*
             * The checked copy is the restore's source.  In BACKUP_DIR, a
             * crash's leftover is removed by the next run's cleanup.
             */
            live_dir = path_dir(o->db->path);
            if (mkdir(live_dir, 0700) != 0 && errno != EEXIST) {
                rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", live_dir, strerror(errno));
                goto cleanup;
            }
            vo.tmp_dir = dir;
        }
        rc = backup_verify_file(&vo, o->file, &vr, e);
        if (rc < 0) {
            /* A damaged backup is refused (exit 7), like any other reason not to restore. */
            if (e->code == ERR_VERIFY) {
                err_prefix(e, "refusing to restore '%s', it is damaged", o->file);
                e->code = ERR_RESTORE_REFUSED;
            }
            goto cleanup;
        }
    }
    log_info("restore: verified '%s' (%.2f s)", o->file, time_mono() - ts);
    if (strcmp(vr.m.db_kind, kind_name) != 0) {
        rc = err_set(e, ERR_RESTORE_REFUSED,
                     "refusing to restore '%s': it is a backup of a %s database and "
                     "DATABASE_URL names a %s database",
                     o->file, vr.m.db_kind, kind_name);
        goto cleanup;
    }
    /* Which schema the dump itself holds, whatever its manifest says (issue 15). */
    {
        enum backup_schema sk = backup_schema_scan_result(&schema);
        char *version = NULL;
        if (kind == DB_SQLITE &&
            (rc = backup_schema_of_sqlite(vr.sqlite_copy, &sk, &version, e)) < 0)
            goto cleanup;
        rc = backup_schema_refuse(o->file, sk, kind == DB_SQLITE ? version : schema.version, kind,
                                  e);
        free(version);
        /* And what the manifest says, when it has one. */
        if (rc == 0 && vr.has_manifest)
            rc = backup_schema_refuse(o->file, BACKUP_SCHEMA_OURS, vr.m.schema_version, kind, e);
        if (rc < 0)
            goto cleanup;
        log_info("restore: '%s' holds the schema %s%s%s", o->file, backup_schema_name(sk),
                 schema.version != NULL ? " at " : "", schema.version ? schema.version : "");
        ours = sk == BACKUP_SCHEMA_OURS;
    }

    /* The schema the backup holds must be the one it recorded (PostgreSQL: before COMMIT). */
    if (vr.m.objects == NULL)
        log_warn("restore: the manifest of '%s' records no schema objects (an older backup): "
                 "only the no-double-booking guard is checked",
                 o->file);
    if (kind == DB_SQLITE &&
        (rc = check_sqlite_schema(o->file, vr.sqlite_copy, &vr.m, ours, e)) < 0)
        goto cleanup;

    /* The credentials' key the backup carries (encrypted backups): refused now, put later. */
    if (vr.has_manifest && vr.m.secrets_key != NULL) {
        struct config c = *o->cfg;
        c.db = *o->db;
        key_path = notify_secrets_key_path(&c);
        rc = backup_secrets_key_decrypt(backup_decrypt_identity(o->cfg->backup_decrypt_identity),
                                        vr.m.secrets_key, dir, key, e);
        if (rc == 0)
            rc = backup_secrets_key_place(key_path, key, o->force_secrets_key, false, e);
        if (rc < 0)
            goto cleanup;
        has_key = true;
    }

    /* 2. The operator's word. */
    if (o->confirm != NULL && !o->confirm(o->confirm_arg, &vr.m)) {
        rc = err_set(e, ERR_RESTORE_REFUSED, "restore cancelled: nothing was changed");
        goto cleanup;
    }
    if (o->cancel != NULL && *o->cancel != 0) {
        rc = err_set(e, ERR_RESTORE_REFUSED, "restore cancelled: nothing was changed");
        goto cleanup;
    }

    /* 3. The current data, kept aside (unless there is none to keep). */
    if (o->safety_backup) {
        struct stat sb;
        if (kind == DB_SQLITE && stat(o->db->path, &sb) != 0) {
            log_info("restore: no prerestore backup: '%s' does not exist yet", o->db->path);
        } else {
            struct backup_opts bo = {
                .cfg = o->cfg,
                .db = o->db,
                .tier = BACKUP_PRERESTORE,
                .now = o->now,
                .cancel = o->cancel,
                .rotate = true,
                .lock_held = true,
                .progress = o->progress,
                .progress_arg = o->progress_arg,
            };
            struct backup_result br;
            /* The take keeps its own log tee; ours resumes afterwards. */
            backup_log_close(log);
            log = NULL;
            rc = backup_take(&bo, &br, e);
            if (rc == 0)
                r->prerestore = xstrdup(br.files[BACKUP_PRERESTORE]);
            backup_result_release(&br);
            if (backup_log_open(dir, o->now, &log, NULL) < 0)
                log = NULL;
            if (rc < 0) {
                err_prefix(e, "the prerestore backup failed, nothing was restored");
                goto cleanup;
            }
            log_info("restore: prerestore backup '%s'", r->prerestore);
        }
    }

    /* 4. The data. */
    ts = time_mono();
    if (kind == DB_PG) {
        rc = restore_pg(o, vr.decrypted ? vr.inner_sha256 : vr.sha256, &vr.m, ours, e);
    } else {
        rc = db_sqlite_restore(vr.sqlite_copy, o->db->path, o->cancel, e);
    }
    if (rc < 0) {
        if (e->code == ERR_VERIFY)
            e->code = ERR_RESTORE_REFUSED; /* the file changed since it was verified */
        else if (e->code != ERR_NO_SPACE && e->code != ERR_RESTORE_REFUSED)
            e->code = ERR_BACKUP;
        err_prefix(e, "restore failed, the database is unchanged");
        goto cleanup;
    }
    {
        char a[32];
        double d = time_mono() - ts;
        log_info("restore: '%s' restored into '%s': %s in %.2f s (%.1f MB/s)", o->file,
                 url_redacted(o->db), backup_fmt_bytes(a, vr.raw_bytes), d,
                 d > 0 ? (double)vr.raw_bytes / 1e6 / d : 0.0);
    }

    if (has_key &&
        (rc = backup_secrets_key_place(key_path, key, o->force_secrets_key, true, e)) < 0)
        goto cleanup;
    if (has_key)
        log_info("restore: secrets key '%s' in place (the backup's)", key_path);

    /* 5. Brought to this program's schema, then counted. */
    rc = db_open(o->db, DB_CONNECT_TIMEOUT_S, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = migrate_deploy(db, &r->migrations_applied, e);
    if (rc < 0) {
        err_prefix(e, "the backup was restored but cannot be migrated");
        goto cleanup;
    }
    log_info("restore: migrate deploy applied %d migration%s", r->migrations_applied,
             r->migrations_applied == 1 ? "" : "s");
    {
        char **names = NULL;
        int64_t *rows = NULL;
        int n = 0;
        rc = db_table_counts(db, &names, &rows, &n, e);
        if (rc < 0)
            goto cleanup;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < n; j++)
                if (strcmp(names[j], backup_restore_counted[i]) == 0)
                    r->rows_after[i] = rows[j];
        db_strv_free(names, n);
        free(rows);
        rc = migrate_schema_version(db, &r->schema_version, e);
        if (rc < 0)
            goto cleanup;
    }
    r->seconds = time_mono() - t0;
    log_info("restore: complete: '%s' (%.2f s)", o->file, r->seconds);

cleanup:
    if (rc < 0)
        log_error("restore failed: %s", e->msg);
    db_close(db);
    if (vr.sqlite_copy != NULL)
        unlink_sqlite(vr.sqlite_copy);
    backup_schema_scan_release(&schema);
    if (vr.has_manifest || vr.no_manifest) {
        r->m = vr.m;
        memset(&vr.m, 0, sizeof(vr.m));
    }
    backup_verify_result_release(&vr);
    free(live_dir);
    free(key_path);
    secure_zero(key, sizeof(key));
    backup_lock_release(lock);
    backup_log_close(log);
    return rc;
}
