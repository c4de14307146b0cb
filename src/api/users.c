/*
 * users — /api/v1/users: the staff of a tenant.
 *
 * Passwords are at least 8 characters, hashed with bcrypt (cost 10), and
 * never shown: no answer carries password_hash.  Managing users is the
 * "users" right of the role matrix; any staff member may also read and
 * update their own row ("users_self": name, phone, password), but nobody
 * changes their own role, email, branch or active flag through it, and
 * nobody deactivates or deletes themselves.  A password change ends the
 * user's other sessions; a deactivation ends them all.
 */
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/catalogue.h"
#include "api/validate.h"
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
    {NULL, 0, 0, 0, 0, NULL},
};

/* What a user may change of their own row with the "users_self" right. */
static const char *const self_fields[] = {"first_name", "last_name", "phone", "password", NULL};

static const char *const user_select =
    "SELECT " API_USER_COLUMNS " FROM users WHERE id = $1 AND tenant_id = $2";

int api_users_list(struct http_req *req, struct err *e)
{
    static const char *const roles[] = {"ADMIN", "MANAGER", "PROFESSIONAL", "RECEPTIONIST", NULL};
    struct api_auth a;
    struct api_page page;
    struct api_sql q = {0};
    struct db *db = NULL;
    const char *role = http_req_query(req, "role");
    int64_t branch_id = 0;
    bool active = false, has_active = false, has_branch = false;
    int rc;

    rc = api_auth_require(req, "users", API_ACT_READ, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_page_parse(req, &page, e);
    if (rc < 0)
        goto cleanup;
    rc = api_query_bool(req, "active", &active, &has_active, e);
    if (rc < 0)
        goto cleanup;
    rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e);
    if (rc < 0)
        goto cleanup;
    if (role != NULL) {
        enum api_role r;

        if (api_role_parse(role, &r) < 0) {
            rc = api_reply_invalid(req, e, "role", "'role' must be one of %s, %s, %s, %s", roles[0],
                                   roles[1], roles[2], roles[3]);
            goto cleanup;
        }
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    api_sql_init(&q, "SELECT " API_USER_COLUMNS " FROM users WHERE tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    api_sql_add(&q, " AND id > ");
    api_sql_param(&q, DB_INT(page.after_id));
    if (has_active) {
        api_sql_add(&q, " AND active = ");
        api_sql_param(&q, DB_BOOL(active));
    }
    if (has_branch) {
        api_sql_add(&q, " AND branch_id = ");
        api_sql_param(&q, DB_INT(branch_id));
    }
    if (role != NULL) {
        api_sql_add(&q, " AND role = ");
        api_sql_param(&q, DB_TEXT(role));
    }
    api_sql_add(&q, " ORDER BY id LIMIT ");
    api_sql_param(&q, DB_INT(page.limit + 1));
    rc = api_list_reply(req, db, &page, buf_str(&q.text), q.nparams, q.params, API_USER_TYPES, e);

cleanup:
    api_sql_release(&q);
    return rc;
}

int api_users_get(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    /* Authenticated first, then the id: reading one's own row is the
     * "users_self" right. */
    rc = api_auth_session(req, &a);
    if (rc < 0)
        return rc;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        return rc;
    if (!api_auth_allowed(a.role, "users", API_ACT_READ) &&
        !(id == a.user_id && api_auth_allowed(a.role, "users_self", API_ACT_READ))) {
        http_reply_error(req, 403, "forbidden", NULL, "the role '%s' may not do this",
                         api_role_name(a.role));
        return -ERR_USAGE;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        return rc;
    return api_row_reply(req, 200, db, user_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                         API_USER_TYPES, "user", id, e);
}

/* The password's hash into hash, or answer 400 naming "password". */
static int hash_password(struct http_req *req, const char *password, char *hash, struct err *e)
{
    if (strlen(password) > PASSWORD_MAX)
        return api_reply_invalid(req, e, "password", "'password' must be at most %d bytes",
                                 PASSWORD_MAX);
    return password_hash(password, PASSWORD_DEFAULT_COST, hash, PASSWORD_HASH_SIZE, e);
}

/* A branch_id of the body must be one of the tenant's branches: else 404 naming it. */
static int check_branch(struct http_req *req, struct db *db, const struct api_value *v,
                        int64_t tenant_id, struct err *e)
{
    int rc;

    if (!v->present || v->null)
        return 0;
    rc = api_row_exists(db, "branches", v->i, tenant_id, e);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        http_reply_error(req, 404, "not_found", "branch_id", "no branch '%lld' in this tenant",
                         (long long)v->i);
        return err_set(e, ERR_NOT_FOUND, "no branch '%lld'", (long long)v->i);
    }
    return 0;
}

int api_users_create(struct http_req *req, struct err *e)
{
    static const char *const skip[] = {"password", NULL};
    static const char *const extra[] = {"password_hash", NULL};
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    char hash[PASSWORD_HASH_SIZE] = "";
    int64_t id = 0;
    int rc;

    rc = api_auth_require(req, "users", API_ACT_CREATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, user_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = check_branch(req, db, api_value_of(user_fields, v, "branch_id"), a.tenant_id, e);
    if (rc < 0)
        goto cleanup;
    rc = hash_password(req, api_value_of(user_fields, v, "password")->s, hash, e);
    if (rc < 0)
        goto cleanup;
    api_sql_insert(&q, "users", a.tenant_id, user_fields, v, skip, extra,
                   (struct db_param[]){DB_TEXT(hash)});
    rc = db_query_int(db, buf_str(&q.text), q.nparams, q.params, &id, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "email", "a user");
        goto cleanup;
    }
    rc = api_row_reply(req, 201, db, user_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                       API_USER_TYPES, "user", id, e);

cleanup:
    secure_zero(hash, sizeof(hash));
    api_sql_release(&q);
    json_decref(body);
    return rc;
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

int api_users_update(struct http_req *req, struct err *e)
{
    static const char *const skip[] = {"password", NULL};
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    const struct api_value *pw, *active;
    const char *field;
    char hash[PASSWORD_HASH_SIZE] = "";
    char now[32];
    int64_t id = 0, affected = 0;
    bool self, manage;
    int rc;

    rc = api_auth_session(req, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    self = id == a.user_id;
    manage = api_auth_allowed(a.role, "users", API_ACT_UPDATE);
    if (!manage && !(self && api_auth_allowed(a.role, "users_self", API_ACT_UPDATE))) {
        http_reply_error(req, 403, "forbidden", NULL, "the role '%s' may not do this",
                         api_role_name(a.role));
        rc = -ERR_USAGE;
        goto cleanup;
    }
    rc = api_read_body(req, user_fields, API_UPDATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    field = beyond_self(v);
    if (self && field != NULL) {
        /* Not even an ADMIN: no one raises their own role or locks
         * themselves out; another ADMIN does it. */
        http_reply_error(req, 403, "forbidden", field, "a user cannot change their own '%s'",
                         field);
        rc = -ERR_USAGE;
        goto cleanup;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = check_branch(req, db, api_value_of(user_fields, v, "branch_id"), a.tenant_id, e);
    if (rc < 0)
        goto cleanup;
    pw = api_value_of(user_fields, v, "password");
    if (pw->present) {
        rc = hash_password(req, pw->s, hash, e);
        if (rc < 0)
            goto cleanup;
    }
    api_now_text(now);
    api_sql_init(&q, "UPDATE users SET updated_at = ");
    api_sql_param(&q, DB_TEXT(now));
    api_sql_set_fields(&q, user_fields, v, skip, false);
    if (pw->present) {
        api_sql_add(&q, ", password_hash = ");
        api_sql_param(&q, DB_TEXT(hash));
    }
    api_sql_add(&q, " WHERE id = ");
    api_sql_param(&q, DB_INT(id));
    api_sql_add(&q, " AND tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    rc = db_exec_params(db, buf_str(&q.text), q.nparams, q.params, &affected, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "email", "a user");
        goto cleanup;
    }
    if (affected == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no user '%lld'", (long long)id);
        goto cleanup;
    }
    /* A new password ends the other sessions (the caller's own survives
     * when they changed their own); a deactivation ends them all. */
    active = api_value_of(user_fields, v, "active");
    if (pw->present || (active->present && !active->b)) {
        rc = api_auth_end_user_sessions(
            db, id, self && !(active->present && !active->b) ? a.session_id : 0, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = api_row_reply(req, 200, db, user_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                       API_USER_TYPES, "user", id, e);

cleanup:
    secure_zero(hash, sizeof(hash));
    api_sql_release(&q);
    json_decref(body);
    return rc;
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

int api_users_delete(struct http_req *req, struct err *e)
{
    return api_catalogue_delete(req, "users", "users",
                                "SELECT 1 FROM appointments WHERE tenant_id = $2 "
                                "AND (professional_id = $1 OR created_by = $1) "
                                "UNION ALL "
                                "SELECT 1 FROM payments WHERE tenant_id = $2 AND recorded_by = $1",
                                "user", user_delete_hook, e);
}
