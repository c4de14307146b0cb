/*
 * tenant — GET /api/v1/tenant, PATCH /api/v1/tenant: the session's own
 * tenant (there is no way to name another).  The zone must be an IANA name
 * (tz_valid): availability and the seed's appointments are computed in it.
 * default_country_code ("52") is the calling code a client's phone number
 * written without one takes (clients.c).
 */
#include <string.h>

#include "api/api.h"
#include "api/catalogue.h"
#include "api/phone_field.h"
#include "api/resource.h"

static const struct api_field tenant_fields[] = {
    {"name", API_T_STRING, API_REQUIRED, 1, 200, NULL},
    {"email", API_T_EMAIL, API_REQUIRED, 0, 0, NULL},
    {"phone", API_T_PHONE, API_NULLABLE, 0, 0, NULL},
    {"address", API_T_STRING, API_NULLABLE, 0, 500, NULL},
    {"city", API_T_STRING, API_NULLABLE, 0, 100, NULL},
    {"country", API_T_STRING, API_NULLABLE, 0, 100, NULL},
    {"timezone", API_T_TZ, API_REQUIRED, 0, 0, NULL},
    {"currency", API_T_STRING, API_REQUIRED, 3, 3, NULL},
    {"default_country_code", API_T_STRING, 0, 1, 3, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* check: a currency is an ISO 4217 code (three capital letters); a calling code digits. */
static int check_currency(struct api_write *w, struct err *e)
{
    const struct api_value *cur = api_value_of(tenant_fields, w->v, "currency");
    const struct api_value *cc;

    if (cur->present && !(cur->s[0] >= 'A' && cur->s[0] <= 'Z' && cur->s[1] >= 'A' &&
                          cur->s[1] <= 'Z' && cur->s[2] >= 'A' && cur->s[2] <= 'Z'))
        return api_reply_invalid(w->req, e, "currency",
                                 "'currency' must be an ISO 4217 code of three capital letters");
    cc = api_value_of(tenant_fields, w->v, "default_country_code");
    if (cc->present &&
        (cc->s[0] < '1' || cc->s[0] > '9' || strspn(cc->s, "0123456789") != strlen(cc->s)))
        return api_reply_invalid(w->req, e, "default_country_code",
                                 "'default_country_code' must be a country calling code of 1 to 3 "
                                 "digits (\"52\")");
    return 0;
}

/*
 * prepare: another tenant's address is answered as an invalid one
 * (resource.h); the phone in E.164 with the calling code of the same body
 * when it changes it (phone_field.h).
 */
static int prepare_tenant(struct api_write *w, struct err *e)
{
    const struct api_value *cc = api_value_of(tenant_fields, w->v, "default_country_code");
    int rc = api_email_hidden_conflict(w, tenant_fields,
                                       "SELECT 1 FROM tenants WHERE lower(email) = lower($1) "
                                       "AND id <> $2 AND $3 = $3",
                                       e);

    if (rc == 0)
        rc = api_phone_field_e164(w, "phone", cc->present ? cc->s : NULL, NULL, e);
    return rc;
}

static const struct api_resource tenant = {
    .right = "tenant",
    .is_tenant = true,
    .table = "tenants",
    .columns = API_TENANT_COLUMNS,
    .types = API_TENANT_TYPES,
    .what = "tenant",
    .fields = tenant_fields,
    .unique = "email",
    .a_what = "a tenant",
    .check = check_currency,
    .prepare = prepare_tenant,
};

int api_tenant_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &tenant, e);
}

int api_tenant_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &tenant, e);
}
