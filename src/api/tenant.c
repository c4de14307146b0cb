/*
 * tenant — GET /api/v1/tenant, PATCH /api/v1/tenant: the session's own
 * tenant (there is no way to name another).  The zone must be an IANA name
 * (tz_valid): availability and the seed's appointments are computed in it.
 */
#include "api/api.h"
#include "api/auth.h"
#include "api/catalogue.h"
#include "api/validate.h"

static const char *const tenant_select = "SELECT " API_TENANT_COLUMNS " FROM tenants WHERE id = $1";

static const struct api_field tenant_fields[] = {
    {"name", API_T_STRING, API_REQUIRED, 1, 200, NULL},
    {"email", API_T_EMAIL, API_REQUIRED, 0, 0, NULL},
    {"phone", API_T_PHONE, API_NULLABLE, 0, 0, NULL},
    {"address", API_T_STRING, API_NULLABLE, 0, 500, NULL},
    {"city", API_T_STRING, API_NULLABLE, 0, 100, NULL},
    {"country", API_T_STRING, API_NULLABLE, 0, 100, NULL},
    {"timezone", API_T_TZ, API_REQUIRED, 0, 0, NULL},
    {"currency", API_T_STRING, API_REQUIRED, 3, 3, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_tenant_get(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    int rc = api_auth_require(req, "tenant", API_ACT_READ, &a);

    if (rc < 0)
        return rc;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        return rc;
    return api_row_reply(req, 200, db, tenant_select, DB_PARAMS(DB_INT(a.tenant_id)),
                         API_TENANT_TYPES, "tenant", a.tenant_id, e);
}

int api_tenant_update(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    const struct api_value *cur;
    char now[32];
    int rc;

    rc = api_auth_require(req, "tenant", API_ACT_UPDATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, tenant_fields, API_UPDATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    cur = api_value_of(tenant_fields, v, "currency");
    if (cur->present && !(cur->s[0] >= 'A' && cur->s[0] <= 'Z' && cur->s[1] >= 'A' &&
                          cur->s[1] <= 'Z' && cur->s[2] >= 'A' && cur->s[2] <= 'Z')) {
        rc = api_reply_invalid(req, e, "currency",
                               "'currency' must be an ISO 4217 code of three capital letters");
        goto cleanup;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    api_now_text(now);
    api_sql_init(&q, "UPDATE tenants SET updated_at = ");
    api_sql_param(&q, DB_TEXT(now));
    api_sql_set_fields(&q, tenant_fields, v, NULL, false);
    api_sql_add(&q, " WHERE id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    rc = db_exec_params(db, buf_str(&q.text), q.nparams, q.params, NULL, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "email", "a tenant");
        goto cleanup;
    }
    rc = api_row_reply(req, 200, db, tenant_select, DB_PARAMS(DB_INT(a.tenant_id)),
                       API_TENANT_TYPES, "tenant", a.tenant_id, e);

cleanup:
    api_sql_release(&q);
    json_decref(body);
    return rc;
}
