/*
 * branches — /api/v1/branches: the places of a tenant.  A branch's zone is
 * its own (an IANA name) or, when null, the tenant's.  A branch that
 * appointments or users refer to is deactivated rather than deleted.
 */
#include "api/api.h"
#include "api/auth.h"
#include "api/catalogue.h"
#include "api/validate.h"

#define BRANCH_COLUMNS                                                                             \
    "id, tenant_id, name, email, phone, address, timezone, active, created_at, updated_at"
#define BRANCH_TYPES "iisssssbtt"

static const struct api_field branch_fields[] = {
    {"name", API_T_STRING, API_REQUIRED, 1, 200, NULL},
    {"email", API_T_EMAIL, API_NULLABLE, 0, 0, NULL},
    {"phone", API_T_PHONE, API_NULLABLE, 0, 0, NULL},
    {"address", API_T_STRING, API_NULLABLE, 0, 500, NULL},
    {"timezone", API_T_TZ, API_NULLABLE, 0, 0, NULL},
    {"active", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

static const char *const branch_select =
    "SELECT " BRANCH_COLUMNS " FROM branches WHERE id = $1 AND tenant_id = $2";

int api_branches_list(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_page page;
    struct api_sql q = {0};
    struct db *db = NULL;
    bool active = false, has_active = false;
    int rc;

    rc = api_auth_require(req, "branches", API_ACT_READ, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_page_parse(req, &page, e);
    if (rc < 0)
        goto cleanup;
    rc = api_query_bool(req, "active", &active, &has_active, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    api_sql_init(&q, "SELECT " BRANCH_COLUMNS " FROM branches WHERE tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    api_sql_add(&q, " AND id > ");
    api_sql_param(&q, DB_INT(page.after_id));
    if (has_active) {
        api_sql_add(&q, " AND active = ");
        api_sql_param(&q, DB_BOOL(active));
    }
    api_sql_add(&q, " ORDER BY id LIMIT ");
    api_sql_param(&q, DB_INT(page.limit + 1));
    rc = api_list_reply(req, db, &page, buf_str(&q.text), q.nparams, q.params, BRANCH_TYPES, e);

cleanup:
    api_sql_release(&q);
    return rc;
}

int api_branches_get(struct http_req *req, struct err *e)
{
    return api_catalogue_get(req, "branches", branch_select, BRANCH_TYPES, "branch", e);
}

int api_branches_create(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    rc = api_auth_require(req, "branches", API_ACT_CREATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, branch_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    api_sql_insert(&q, "branches", a.tenant_id, branch_fields, v, NULL, NULL, NULL);
    rc = db_query_int(db, buf_str(&q.text), q.nparams, q.params, &id, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "name", "a branch");
        goto cleanup;
    }
    rc = api_row_reply(req, 201, db, branch_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                       BRANCH_TYPES, "branch", id, e);

cleanup:
    api_sql_release(&q);
    json_decref(body);
    return rc;
}

int api_branches_update(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    int64_t id = 0, affected = 0;
    char now[32];
    int rc;

    rc = api_auth_require(req, "branches", API_ACT_UPDATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, branch_fields, API_UPDATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    api_now_text(now);
    api_sql_init(&q, "UPDATE branches SET updated_at = ");
    api_sql_param(&q, DB_TEXT(now));
    api_sql_set_fields(&q, branch_fields, v, NULL, false);
    api_sql_add(&q, " WHERE id = ");
    api_sql_param(&q, DB_INT(id));
    api_sql_add(&q, " AND tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    rc = db_exec_params(db, buf_str(&q.text), q.nparams, q.params, &affected, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "name", "a branch");
        goto cleanup;
    }
    rc = api_row_reply(req, 200, db, branch_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                       BRANCH_TYPES, "branch", id, e);

cleanup:
    api_sql_release(&q);
    json_decref(body);
    return rc;
}

int api_branches_delete(struct http_req *req, struct err *e)
{
    return api_catalogue_delete(
        req, "branches", "branches",
        "SELECT 1 FROM appointments WHERE branch_id = $1 AND tenant_id = $2 "
        "UNION ALL "
        "SELECT 1 FROM users WHERE branch_id = $1 AND tenant_id = $2",
        "branch", NULL, e);
}
