/* boot — see boot.h. */
#include "boot/boot.h"

#include <errno.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/util.h"

/*
 * Sleep s seconds unless SIGTERM or SIGINT arrives: returns it, or 0.  serve
 * blocks both (only sigwait() takes them), so they wait here as pending
 * signals; where they are not blocked they end the process as usual.
 */
static int sleep_unless_stopped(double s)
{
    sigset_t set;
    struct timespec ts;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    do {
        sig = sigtimedwait(&set, NULL, &ts);
    } while (sig < 0 && errno == EINTR);
    return sig > 0 ? sig : 0;
}

int boot_connect(const struct url *u, int timeout_s, struct db **out, struct err *e)
{
    double start = time_mono();
    double delay = 0.5;
    int attempt = 0;

    for (;;) {
        double left = (double)timeout_s - (time_mono() - start);
        int per_try = left > 10 ? 10 : (left < 1 ? 1 : (int)left);
        int rc;

        attempt++;
        rc = db_open(u, per_try, out, e);
        if (rc == 0) {
            if (attempt > 1)
                log_info("connected after %d attempts (%.1f s)", attempt, time_mono() - start);
            return 0;
        }
        if (e->code != ERR_DB_CONNECT)
            return rc; /* a rejected password or a bad configuration: retrying cannot help */
        left = (double)timeout_s - (time_mono() - start);
        if (left <= 0) {
            return err_prefix(e, "gave up after %d attempts in %d s (DB_CONNECT_TIMEOUT)", attempt,
                              timeout_s);
        }
        log_warn("database not reachable (attempt %d): %s; retrying in %.1f s", attempt, e->msg,
                 delay < left ? delay : left);
        int sig = sleep_unless_stopped(delay < left ? delay : left);
        if (sig != 0)
            return err_set(e, ERR_DB_CONNECT,
                           "stopped by %s while waiting for the database (attempt %d, %.1f s)",
                           sig == SIGTERM ? "SIGTERM" : "SIGINT", attempt, time_mono() - start);
        delay = delay * 2 > 5 ? 5 : delay * 2;
    }
}

int boot_master_admin(struct db *db, const char *hash, enum boot_master_result *out, struct err *e)
{
    int64_t n = 0;
    int rc;

    rc = db_query_int(db, "SELECT count(*) FROM master_admin_config WHERE id = 'singleton'",
                      DB_NOPARAMS, &n, e);
    if (rc < 0)
        return rc;
    if (n > 0) {
        *out = BOOT_MASTER_PRESENT;
        return 0;
    }
    if (hash == NULL) {
        *out = BOOT_MASTER_DISABLED;
        return 0;
    }
    /* ON CONFLICT DO NOTHING: another instance may have created it meanwhile. */
    rc = db_exec_params(db,
                        "INSERT INTO master_admin_config (id, password_hash) VALUES "
                        "('singleton', $1) ON CONFLICT (id) DO NOTHING",
                        DB_PARAMS(DB_TEXT(hash)), NULL, e);
    if (rc < 0)
        return rc;
    *out = BOOT_MASTER_CREATED;
    return 0;
}

int boot_master_admin_set(struct db *db, const char *hash, struct err *e)
{
    char now[32];
    int rc;

    tz_format_instant((int64_t)time(NULL), now);
    rc = db_begin(db, e);
    if (rc < 0)
        return rc;
    rc = db_exec_params(db,
                        "INSERT INTO master_admin_config (id, password_hash) VALUES "
                        "('singleton', $1) ON CONFLICT (id) DO UPDATE SET "
                        "password_hash = excluded.password_hash, updated_at = $2",
                        DB_PARAMS(DB_TEXT(hash), DB_TEXT(now)), NULL, e);
    if (rc == 0)
        rc = db_exec(db, "DELETE FROM sessions WHERE user_id IS NULL", e);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db, e);
}

int boot_user_password_set(struct db *db, const char *email, const char *hash, struct err *e)
{
    char now[32];
    int64_t id = 0;
    bool found = false;
    int rc;

    tz_format_instant((int64_t)time(NULL), now);
    rc = db_begin(db, e);
    if (rc < 0)
        return rc;
    rc = db_query_int(db, "SELECT id FROM users WHERE lower(email) = lower($1)",
                      DB_PARAMS(DB_TEXT(email)), &id, e);
    found = rc == 0;
    if (rc == 1)
        rc = 0;
    if (rc == 0 && found)
        rc =
            db_exec_params(db, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
                           DB_PARAMS(DB_TEXT(hash), DB_TEXT(now), DB_INT(id)), NULL, e);
    if (rc == 0 && found)
        rc = db_exec_params(db, "DELETE FROM sessions WHERE user_id = $1", DB_PARAMS(DB_INT(id)),
                            NULL, e);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    rc = db_commit(db, e);
    return rc < 0 ? rc : found ? 1 : 0;
}

int boot_session_secret(struct db *db, const char *configured, char **out, int *generated,
                        struct err *e)
{
    unsigned char raw[32];
    char hex[65];
    char *value = NULL;
    int rc;

    *out = NULL;
    *generated = 0;
    if (configured != NULL) {
        *out = xstrdup(configured);
        return 0;
    }
    rc = db_query_text(db, "SELECT value FROM settings WHERE key = 'session_secret'", DB_NOPARAMS,
                       &value, e);
    if (rc < 0)
        return rc;
    if (value != NULL) {
        *out = value;
        return 0;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return err_set(e, ERR_INTERNAL, "cannot generate the session secret: no randomness");
    hex_encode(raw, sizeof(raw), hex);
    secure_zero(raw, sizeof(raw));
    rc = db_exec_params(db,
                        "INSERT INTO settings (key, value) VALUES ('session_secret', $1) "
                        "ON CONFLICT (key) DO NOTHING",
                        DB_PARAMS(DB_TEXT(hex)), NULL, e);
    secure_zero(hex, sizeof(hex));
    if (rc < 0)
        return rc;
    /* Read back: another instance may have won the insert. */
    rc = db_query_text(db, "SELECT value FROM settings WHERE key = 'session_secret'", DB_NOPARAMS,
                       &value, e);
    if (rc < 0)
        return rc;
    if (value == NULL)
        return err_set(e, ERR_DB, "the session secret vanished from 'settings'");
    *out = value;
    *generated = 1;
    return 0;
}

int boot_user_count(struct db *db, int64_t *count, struct err *e)
{
    *count = 0;
    return db_query_int(db, "SELECT count(*) FROM users", DB_NOPARAMS, count, e);
}

int boot_database_holds_data(struct db *db, bool *out, struct err *e)
{
    char **tables = NULL;
    int n = 0;
    int rc;

    *out = false;
    rc = db_list_tables(db, &tables, &n, e);
    for (int i = 0; rc == 0 && i < n && !*out; i++) {
        char *q, *sql;
        int64_t one = 0;

        if (strcmp(tables[i], "_migrations") == 0)
            continue;
        q = db_quote_ident(tables[i]);
        sql = xasprintf("SELECT 1 FROM %s LIMIT 1", q);
        rc = db_query_int(db, sql, DB_NOPARAMS, &one, e);
        if (rc == 0)
            *out = true;
        else if (rc == 1)
            rc = 0;
        free(sql);
        free(q);
    }
    db_strv_free(tables, n);
    return rc < 0 ? rc : 0;
}
