/*
 * login_throttle — see login_throttle.h.
 */
#include "api/login_throttle.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"

static atomic_llong failed_total, refused_total;

void login_throttle_count(bool refused)
{
    atomic_fetch_add(refused ? &refused_total : &failed_total, 1);
}

int64_t login_throttle_failed_total(void)
{
    return (int64_t)atomic_load(&failed_total);
}

int64_t login_throttle_refused_total(void)
{
    return (int64_t)atomic_load(&refused_total);
}

static void key_of(const char *kind, const char *a, const char *b, char out[65])
{
    char *s = xasprintf("%s|%s|%s", kind, a, b != NULL ? b : "");

    hash_sha256_hex(s, strlen(s), out);
    free(s);
}

int login_throttle_delay(int n, int free)
{
    int over = n - free;

    if (over <= 0)
        return 0;
    if (over > 10) /* 2^10 s is past the cap already */
        return LT_MAX_DELAY_S;
    int d = 1 << (over - 1);
    return d < LT_MAX_DELAY_S ? d : LT_MAX_DELAY_S;
}

int login_throttle_load(struct db *db, const char *account, const char *addr, int64_t now,
                        struct login_throttle *t, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    memset(t, 0, sizeof(*t));
    key_of("addr", addr, NULL, t->addr_key);
    key_of("acct", account, NULL, t->acct_key);
    key_of("pair", account, addr, t->pair_key);
    rc = db_query(db,
                  "SELECT key, failures, window_start, blocked_until FROM login_throttle "
                  "WHERE key IN ($1, $2, $3) AND window_start > $4",
                  DB_PARAMS(DB_TEXT(t->addr_key), DB_TEXT(t->acct_key), DB_TEXT(t->pair_key),
                            DB_INT(now - LT_WINDOW_S)),
                  &r, e);
    if (rc < 0)
        return rc;
    while (db_res_next(r)) {
        const char *key = db_res_text(r, 0);
        int failures = (int)db_res_int(r, 1);
        int64_t window_end = db_res_int(r, 2) + LT_WINDOW_S;
        int64_t until = db_res_int(r, 3);
        int left = until > now ? (int)(until - now) : 0;

        if (strcmp(key, t->addr_key) == 0) {
            if (failures >= LT_ADDR_MAX)
                t->addr_wait = (int)(window_end - now);
        } else if (strcmp(key, t->pair_key) == 0) {
            t->pair_failures = failures;
            t->pair_wait = left;
        } else {
            t->acct_wait = left;
        }
    }
    db_res_free(r);
    return 0;
}

/* Count one failure on key; *failures gets the count in the current window. */
static int bump(struct db *db, const char *key, int64_t now, int free, int *failures,
                int64_t *until, struct err *e)
{
    int64_t n = 0;
    int rc;

    rc = db_query_int(db,
                      "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, $2) "
                      "ON CONFLICT (key) DO UPDATE SET "
                      "failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 "
                      "ELSE login_throttle.failures + 1 END, "
                      "window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 "
                      "ELSE login_throttle.window_start END "
                      "RETURNING failures",
                      DB_PARAMS(DB_TEXT(key), DB_INT(now), DB_INT(now - LT_WINDOW_S)), &n, e);
    if (rc < 0)
        return rc;
    *failures = (int)n;
    *until = 0;
    if (free > 0 && login_throttle_delay((int)n, free) > 0) {
        *until = now + login_throttle_delay((int)n, free);
        rc = db_exec_params(db, "UPDATE login_throttle SET blocked_until = $1 WHERE key = $2",
                            DB_PARAMS(DB_INT(*until), DB_TEXT(key)), NULL, e);
    }
    return rc < 0 ? rc : 0;
}

int login_throttle_fail(struct db *db, const struct login_throttle *t, int64_t now, int *wait,
                        struct err *e)
{
    int n_addr = 0, n_acct = 0, n_pair = 0;
    int64_t u_addr = 0, u_acct = 0, u_pair = 0;
    int rc;

    *wait = 0;
    login_throttle_count(false);
    rc = db_begin(db, e);
    if (rc < 0)
        return rc;
    if ((rc = bump(db, t->addr_key, now, 0, &n_addr, &u_addr, e)) < 0 ||
        (rc = bump(db, t->acct_key, now, LT_ACCT_FREE, &n_acct, &u_acct, e)) < 0 ||
        (rc = bump(db, t->pair_key, now, LT_PAIR_FREE, &n_pair, &u_pair, e)) < 0) {
        db_rollback(db);
        return rc;
    }
    /* Rows of windows long over go, a few at a time, so the table stays small. */
    rc = db_exec_params(db,
                        "DELETE FROM login_throttle WHERE window_start < $1 AND blocked_until < $2",
                        DB_PARAMS(DB_INT(now - 2 * LT_WINDOW_S), DB_INT(now)), NULL, e);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    rc = db_commit(db, e);
    if (rc < 0)
        return rc;
    /* The address limit refuses the next attempt; the back-offs this one. */
    if (u_pair > now)
        *wait = (int)(u_pair - now);
    if (u_acct > now && (int)(u_acct - now) > *wait)
        *wait = (int)(u_acct - now);
    return 0;
}

int login_throttle_success(struct db *db, const struct login_throttle *t, int64_t now,
                           struct err *e)
{
    (void)now;
    return db_exec_params(db, "DELETE FROM login_throttle WHERE key IN ($1, $2)",
                          DB_PARAMS(DB_TEXT(t->acct_key), DB_TEXT(t->pair_key)), NULL, e);
}
