/*
 * users — /api/v1/users: the staff of a tenant.
 *
 * Passwords are at least 8 characters, hashed with bcrypt (cost 10), and
 * never shown: no answer carries password_hash.  Managing users is the
 * "users" right of the role matrix; any staff member may also read and
 * update their own row ("users_self": name, phone, password), but nobody
 * changes their own role, email, branch or active flag through it, and
 * nobody deactivates or deletes themselves.  A password change ends the
 * user's other sessions; a deactivation ends them all.  An ADMIN (the
 * master admin for any tenant) may also set a password outright with
 * POST /users/{id}/password: every session of that user ends.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/catalogue.h"
#include "api/phone_field.h"
#include "api/resource.h"
#include "common/password.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 72 /* bytes: bcrypt reads no more */

static const char *const role_names[] = {"ADMIN", "MANAGER", "PROFESSIONAL", "RECEPTIONIST", NULL};

static const struct api_field user_fields[] = {
    {"email", API_T_EMAIL, API_REQUIRED, 0, 0, NULL},
    {"password", API_T_STRING, API_REQUIRED, PASSWORD_MIN, PASSWORD_MAX, NULL},
    {"first_name", API_T_STRING, API_REQUIRED, 1, 100, NULL},
    {"last_name", API_T_STRING, 0, 0, 100, NULL},
    {"phone", API_T_PHONE, API_NULLABLE, 0, 0, NULL},
    {"role", API_T_ENUM, API_REQUIRED, 0, 0, role_names},
    {"branch_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"active", API_T_BOOL, 0, 0, 0, NULL},
    /* with "password" on one's own row: the password it replaces */
    {"current_password", API_T_STRING, 0, 1, PASSWORD_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* What a user may change of their own row with the "users_self" right. */
static const char *const self_fields[] = {"first_name", "last_name",        "phone",
                                          "password",   "current_password", NULL};

static const struct api_filter user_filters[] = {
    {"active", API_FILTER_BOOL, "active", 0, 0, NULL},
    {"branch_id", API_FILTER_ID, "branch_id", 0, 0, NULL},
    {"role", API_FILTER_ENUM, "role", 0, 0, role_names},
    {NULL, 0, NULL, 0, 0, NULL},
};

_Static_assert(PASSWORD_HASH_SIZE <= sizeof(((struct api_write *)0)->secret),
               "a password's hash fits in api_write.secret");

/* The password's hash into hash, or answer 400 naming "password". */
static int hash_password(struct http_req *req, const char *password, char *hash, struct err *e)
{
    if (strlen(password) > PASSWORD_MAX)
        return api_reply_invalid(req, e, "password", "'password' must be at most %d bytes",
                                 PASSWORD_MAX);
    return password_hash(password, PASSWORD_DEFAULT_COST, hash, PASSWORD_HASH_SIZE, e);
}

/* Does the body change anything but what one may change of oneself? */
static const char *beyond_self(const struct api_value *v)
{
    for (int i = 0; user_fields[i].name != NULL; i++) {
        bool allowed = false;

        for (int k = 0; self_fields[k] != NULL; k++)
            allowed = allowed || strcmp(self_fields[k], user_fields[i].name) == 0;
        if (v[i].present && !allowed)
            return user_fields[i].name;
    }
    return NULL;
}

/* check: on one's own row, only what the "users_self" right covers. */
static int check_self(struct api_write *w, struct err *e)
{
    const char *field = beyond_self(w->v);

    bool self = w->mode == API_UPDATE && w->id == w->a.user_id;

    if (self && field != NULL) {
        /* Not even an ADMIN: no one raises their own role or locks
         * themselves out; another ADMIN does it. */
        http_reply_error(w->req, 403, "forbidden", field, "a user cannot change their own '%s'",
                         field);
        return -ERR_USAGE;
    }
    /* A session left open on a shared reception computer must not be enough
     * to take the account over. */
    if (self && api_value_of(user_fields, w->v, "password")->present &&
        !api_value_of(user_fields, w->v, "current_password")->present)
        return api_reply_invalid(w->req, e, "current_password",
                                 "'current_password' is required to change one's own password");
    return 0;
}

/* prepare, on one's own row: current_password must be the stored one. */
static int check_current_password(struct api_write *w, struct err *e)
{
    const struct api_value *cur = api_value_of(user_fields, w->v, "current_password");
    char *hash = NULL;
    bool ok;
    int rc;

    if (!cur->present || w->mode != API_UPDATE || w->id != w->a.user_id)
        return 0;
    rc = db_query_text(w->db, "SELECT password_hash FROM users WHERE id = $1 AND tenant_id = $2",
                       DB_PARAMS(DB_INT(w->id), DB_INT(w->a.tenant_id)), &hash, e);
    if (rc < 0)
        return rc;
    ok = hash != NULL && password_verify(cur->s, hash);
    if (hash != NULL) {
        secure_zero(hash, strlen(hash));
        free(hash);
    }
    if (!ok)
        return api_reply_invalid(w->req, e, "current_password",
                                 "'current_password' is not this account's password");
    return 0;
}

/* prepare: the branch must be the tenant's; a password is stored as its hash. */
static int prepare_user(struct api_write *w, struct err *e)
{
    const struct api_value *pw = api_value_of(user_fields, w->v, "password");
    int rc;

    rc = api_resource_check_ref(w->req, w->db, "branches", "branch", "branch_id",
                                api_value_of(user_fields, w->v, "branch_id"), w->a.tenant_id, e);
    if (rc == 0)
        rc = api_email_hidden_conflict(w, user_fields,
                                       "SELECT 1 FROM users WHERE lower(email) = lower($1) "
                                       "AND id <> $2 AND tenant_id <> $3",
                                       e);
    if (rc == 0)
        rc = check_current_password(w, e);
    if (rc == 0)
        rc = api_phone_field_e164(w, "phone", NULL, NULL, e);
    if (rc < 0 || !pw->present)
        return rc;
    rc = hash_password(w->req, pw->s, w->secret, e);
    if (rc < 0)
        return rc;
    api_write_extra(w, "password_hash", DB_TEXT(w->secret));
    return 0;
}

/*
 * done (update): a new password ends the other sessions (the caller's own
 * survives when they changed their own); a deactivation ends them all.
 */
static int end_sessions(struct api_write *w, struct err *e)
{
    const struct api_value *pw = api_value_of(user_fields, w->v, "password");
    const struct api_value *active = api_value_of(user_fields, w->v, "active");
    bool deactivated = active->present && !active->b;
    bool self = w->id == w->a.user_id;

    if (w->mode != API_UPDATE || !(pw->present || deactivated))
        return 0;
    return api_auth_end_user_sessions(w->db, w->id, self && !deactivated ? w->a.session_id : 0, e);
}

static int user_delete_hook(struct http_req *req, struct db *db, const struct api_auth *a,
                            int64_t id, bool done, struct err *e)
{
    if (!done && id == a->user_id) {
        http_reply_error(req, 403, "forbidden", "id", "a user cannot delete themselves");
        return -ERR_USAGE;
    }
    if (done)
        return api_auth_end_user_sessions(db, id, 0, e);
    return 0;
}

static const char *const not_columns[] = {"password", "current_password", NULL};

static const struct api_resource users = {
    .right = "users",
    .self_right = "users_self",
    .table = "users",
    .columns = API_USER_COLUMNS,
    .types = API_USER_TYPES,
    .what = "user",
    .fields = user_fields,
    .skip = not_columns,
    .unique = "email",
    .a_what = "a user",
    .filters = user_filters,
    .check = check_self,
    .prepare = prepare_user,
    .done = end_sessions,
    .refs_sql = "SELECT 1 FROM appointments WHERE tenant_id = $2 "
                "AND (professional_id = $1 OR created_by = $1) "
                "UNION ALL "
                "SELECT 1 FROM payments WHERE tenant_id = $2 AND recorded_by = $1",
    .delete_hook = user_delete_hook,
};

int api_users_list(struct http_req *req, struct err *e)
{
    return api_resource_list(req, &users, e);
}

int api_users_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &users, e);
}

int api_users_create(struct http_req *req, struct err *e)
{
    return api_resource_create(req, &users, e);
}

int api_users_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &users, e);
}

int api_users_delete(struct http_req *req, struct err *e)
{
    return api_resource_delete(req, &users, e);
}

static const struct api_field password_fields[] = {
    {"password", API_T_STRING, API_REQUIRED, PASSWORD_MIN, PASSWORD_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_users_set_password(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    char hash[PASSWORD_HASH_SIZE] = "", now[32];
    int64_t id = 0, affected = 0;
    int rc;

    if (api_auth_session(req, &au) < 0)
        return 0;
    if (au.role != API_ROLE_MASTER && au.role != API_ROLE_ADMIN) {
        http_reply_error(req, 403, "forbidden", NULL,
                         "only an ADMIN may set another user's password");
        return -ERR_USAGE;
    }
    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_read_body(req, password_fields, API_CREATE, &body, v, e)) < 0 ||
        (rc = hash_password(req, v[0].s, hash, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        goto cleanup;
    api_now_text(now);
    /* the master admin has no tenant (0): any user */
    rc = db_exec_params(db,
                        "UPDATE users SET password_hash = $1, updated_at = $2 "
                        "WHERE id = $3 AND (tenant_id = $4 OR $4 = 0)",
                        DB_PARAMS(DB_TEXT(hash), DB_TEXT(now), DB_INT(id), DB_INT(au.tenant_id)),
                        &affected, e);
    if (rc < 0)
        goto cleanup;
    if (affected == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no user '%lld'", (long long)id);
        goto cleanup;
    }
    rc = api_auth_end_user_sessions(db, id, 0, e);
    if (rc == 0)
        rc = http_reply_empty(req, 204);

cleanup:
    secure_zero(hash, sizeof(hash));
    json_decref(body);
    return rc;
}
