/*
 * boot — the steps of `citaplanner serve`'s boot sequence (SPEC §4) that
 * are more than one call: connecting with retries, the master admin row and
 * the session secret.  cmd/serve.c runs them in order and logs each step.
 */
#ifndef CITAPLANNER_BOOT_H
#define CITAPLANNER_BOOT_H

#include <stdbool.h>

#include "common/err.h"
#include "common/url.h"
#include "db/db.h"

/*
 * Connect, retrying with backoff (0.5 s doubling to 5 s) until timeout_s
 * seconds have passed; each failed attempt logs its cause.  A rejected
 * password is not retried (-ERR_DB_AUTH at once).  After the timeout returns
 * -ERR_DB_CONNECT with the last cause.  Caller frees *out with db_close().
 */
int boot_connect(const struct url *u, int timeout_s, struct db **out, struct err *e);

enum boot_master_result {
    BOOT_MASTER_PRESENT,  /* the row exists: never overwritten */
    BOOT_MASTER_CREATED,  /* created from MASTER_PASSWORD_HASH */
    BOOT_MASTER_DISABLED, /* no row, no hash: the master admin is disabled */
};

/*
 * Step 7: create the master_admin_config row from hash (may be NULL) when the
 * row is missing.  An existing row is never changed.
 */
int boot_master_admin(struct db *db, const char *hash, enum boot_master_result *out, struct err *e);

/*
 * Set (insert or replace) the master admin's password hash and end every
 * master admin session: `citaplanner admin master-password`.
 */
int boot_master_admin_set(struct db *db, const char *hash, struct err *e);

/*
 * Give the staff account of that e-mail (case-insensitive) the bcrypt hash
 * and end its sessions, in one transaction.  Returns 1 when it was changed,
 * 0 when no account has that e-mail (nothing changed), or -ERR_*.
 */
int boot_user_password_set(struct db *db, const char *email, const char *hash, struct err *e);

/*
 * The secret that signs cookies and CSRF tokens: configured (returned as a
 * copy) or generated once (32 random bytes, hex) and kept in the settings
 * table.  *generated tells which.  Caller frees *out (zero it first).
 */
int boot_session_secret(struct db *db, const char *configured, char **out, int *generated,
                        struct err *e);

/*
 * Does any table other than the migration ledger hold a row?  (Step 4: a
 * database that holds data gets a premigrate backup before migrating.)
 */
int boot_database_holds_data(struct db *db, bool *out, struct err *e);

/* Number of users; the seed runs on boot when it is 0. */
int boot_user_count(struct db *db, int64_t *count, struct err *e);

#endif
