/*
 * secrets — credentials of notification_settings sealed at rest (secrets.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/seal.h"
#include "common/util.h"
#include "notify/secrets.h"

#define KEY_NAME "secrets.key"

const char *const notify_secret_columns[] = {"whatsapp_token", "whatsapp_app_secret",
                                             "twilio_auth_token", NULL};

char *notify_secrets_key_path(const struct config *cfg)
{
    const char *slash;

    if (cfg->secrets_key_file != NULL)
        return xstrdup(cfg->secrets_key_file);
    if (cfg->db.kind != URL_SQLITE || cfg->db.path == NULL)
        return xstrdup("data/" KEY_NAME);
    slash = strrchr(cfg->db.path, '/');
    if (slash == NULL)
        return xstrdup(KEY_NAME);
    return xasprintf("%.*s/" KEY_NAME, (int)(slash - cfg->db.path), cfg->db.path);
}

/* What a value is bound to: its tenant and its column. */
static char *aad_of(int64_t tenant_id, const char *column)
{
    return xasprintf("citaplanner:notification_settings.%s:tenant=%lld", column,
                     (long long)tenant_id);
}

int notify_secret_seal(const struct config *cfg, int64_t tenant_id, const char *column,
                       const char *plain, char **sealed, struct err *e)
{
    unsigned char key[SEAL_KEY_LEN];
    char *path = notify_secrets_key_path(cfg), *aad = aad_of(tenant_id, column);
    int rc = seal_key_load(path, true, key, e);

    *sealed = rc < 0 ? NULL : seal_text(key, aad, plain);
    secure_zero(key, sizeof(key));
    free(path);
    free(aad);
    return rc;
}

int notify_secret_open(const struct config *cfg, int64_t tenant_id, const char *column,
                       const char *stored, char **plain)
{
    unsigned char key[SEAL_KEY_LEN];
    char *path = NULL, *aad = NULL;
    struct err e;
    int rc = -1;

    *plain = NULL;
    if (stored == NULL)
        return 0;
    if (!seal_is_sealed(stored)) {
        *plain = xstrdup(stored); /* plaintext from before sealing (the sweep seals it) */
        return 0;
    }
    path = notify_secrets_key_path(cfg);
    aad = aad_of(tenant_id, column);
    err_clear(&e);
    if (seal_key_load(path, false, key, &e) == 0)
        rc = seal_open(key, aad, stored, plain);
    secure_zero(key, sizeof(key));
    free(path);
    free(aad);
    return rc;
}

void notify_secret_free(char *plain)
{
    if (plain != NULL) {
        secure_zero(plain, strlen(plain));
        free(plain);
    }
}

/* One row at a time (no statement open while writing: SQLite), until none is left plain. */
int notify_secrets_sweep(struct db *db, const struct config *cfg, int *n, struct err *e)
{
    int rc = 0;

    *n = 0;
    for (int c = 0; notify_secret_columns[c] != NULL && rc == 0; c++) {
        const char *col = notify_secret_columns[c];
        char *sel = xasprintf("SELECT tenant_id FROM notification_settings WHERE %s IS NOT NULL "
                              "AND %s NOT LIKE '" SEAL_PREFIX "%%' ORDER BY tenant_id LIMIT 1",
                              col, col);
        char *get = xasprintf("SELECT %s FROM notification_settings WHERE tenant_id = $1", col);
        char *put = xasprintf("UPDATE notification_settings SET %s = $1 WHERE tenant_id = $2 AND "
                              "%s = $3",
                              col, col);
        for (;;) {
            int64_t t = 0;
            char *plain = NULL, *sealed = NULL;
            if ((rc = db_query_int(db, sel, DB_NOPARAMS, &t, e)) != 0)
                break; /* 1: none left */
            if ((rc = db_query_text(db, get, DB_PARAMS(DB_INT(t)), &plain, e)) < 0)
                break;
            if (plain != NULL && (rc = notify_secret_seal(cfg, t, col, plain, &sealed, e)) == 0)
                rc = db_exec_params(db, put, DB_PARAMS(DB_TEXT(sealed), DB_INT(t), DB_TEXT(plain)),
                                    NULL, e);
            notify_secret_free(plain);
            free(sealed);
            if (rc < 0)
                break;
            (*n)++;
        }
        rc = rc == 1 ? 0 : rc;
        free(sel), free(get), free(put);
    }
    return rc;
}
