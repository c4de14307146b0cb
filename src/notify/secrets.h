/*
 * secrets — the credentials of notification_settings (whatsapp_token,
 * whatsapp_app_secret, twilio_auth_token) sealed at rest with
 * common/seal.h under the key file SECRETS_KEY_FILE:
 *
 *   unset -> "secrets.key" beside the SQLite database file; with
 *            PostgreSQL "data/secrets.key" (relative to the working
 *            directory: /app/data in the image, the directory where a
 *            SQLite database would be)
 *
 * The key is created on the first credential saved.  Each value is bound to
 * its tenant and column.  A value that does not open (the key replaced or
 * lost, a database restored without its key) is "unreadable": nothing is
 * sent with it, the settings API says so and doctor names the tenant and
 * the credential to enter again.  A value without the "v1:" prefix is
 * plaintext from before sealing: used as is, and sealed by the sweep.
 */
#ifndef CITAPLANNER_NOTIFY_SECRETS_H
#define CITAPLANNER_NOTIFY_SECRETS_H

#include <stdint.h>

#include "common/err.h"
#include "config/config.h"
#include "db/db.h"

/* The sealed columns of notification_settings, NULL-terminated. */
extern const char *const notify_secret_columns[];

/* The key file in effect.  Caller frees. */
char *notify_secrets_key_path(const struct config *cfg);

/*
 * plain sealed for column of tenant_id into *sealed (caller frees); the key
 * file is created when it does not exist.  -ERR_CONFIG naming the key file
 * when it cannot be read or made.
 */
int notify_secret_seal(const struct config *cfg, int64_t tenant_id, const char *column,
                       const char *plain, char **sealed, struct err *e);

/*
 * The value stored (may be NULL) in column of tenant_id, opened: 0 and
 * *plain (NULL when not set; caller frees with notify_secret_free), or -1
 * when it is set but does not open (*plain NULL).
 */
int notify_secret_open(const struct config *cfg, int64_t tenant_id, const char *column,
                       const char *stored, char **plain);

/* Wipe and free an opened value (NULL: nothing). */
void notify_secret_free(char *plain);

/*
 * Seal every plaintext credential left in notification_settings (a row
 * saved before sealing existed, or written by hand).  *n: how many.
 */
int notify_secrets_sweep(struct db *db, const struct config *cfg, int *n, struct err *e);

#endif
