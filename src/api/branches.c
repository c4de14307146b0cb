/*
 * branches — /api/v1/branches: the places of a tenant.  A branch's zone is
 * its own (an IANA name) or, when null, the tenant's.  A branch that
 * appointments or users refer to is deactivated rather than deleted.
 */
#include "api/api.h"
#include "api/catalogue.h"
#include "api/phone_field.h"
#include "api/resource.h"

static const struct api_field branch_fields[] = {
    {"name", API_T_STRING, API_REQUIRED, 1, 200, NULL},
    {"email", API_T_EMAIL, API_NULLABLE, 0, 0, NULL},
    {"phone", API_T_PHONE, API_NULLABLE, 0, 0, NULL},
    {"address", API_T_STRING, API_NULLABLE, 0, 500, NULL},
    {"timezone", API_T_TZ, API_NULLABLE, 0, 0, NULL},
    {"active", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* prepare: the phone in E.164 (phone_field.h). */
static int phone_e164(struct api_write *w, struct err *e)
{
    return api_phone_field_e164(w, "phone", NULL, NULL, e);
}

static const struct api_resource branches = {
    .right = "branches",
    .table = "branches",
    .columns = "id, tenant_id, name, email, phone, address, timezone, active, created_at, "
               "updated_at",
    .types = "iisssssbtt",
    .what = "branch",
    .fields = branch_fields,
    .unique = "name",
    .a_what = "a branch",
    .filters = api_filters_active,
    .prepare = phone_e164,
    .refs_sql = "SELECT 1 FROM appointments WHERE branch_id = $1 AND tenant_id = $2 "
                "UNION ALL "
                "SELECT 1 FROM users WHERE branch_id = $1 AND tenant_id = $2",
};

int api_branches_list(struct http_req *req, struct err *e)
{
    return api_resource_list(req, &branches, e);
}

int api_branches_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &branches, e);
}

int api_branches_create(struct http_req *req, struct err *e)
{
    return api_resource_create(req, &branches, e);
}

int api_branches_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &branches, e);
}

int api_branches_delete(struct http_req *req, struct err *e)
{
    return api_resource_delete(req, &branches, e);
}
