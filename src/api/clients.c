/*
 * clients — /api/v1/clients: the people who book.  A phone number is
 * unique within a tenant and stored in E.164 ("+525511110001"): a number
 * without its country code ("55 1111 0001") takes the tenant's
 * (tenants.default_country_code), as the public booking's do
 * (domain/phone.h).  Rows written before (the seed writes "+52 55 1111
 * 0001") are compared by their digits, with and without the code, so the
 * same number cannot enter twice: 409 duplicate naming "phone", with the
 * "existing_id" for "use the existing client".
 * `?q=` searches first and last name and email, case-insensitively, and
 * when q looks like a phone number (digits and separators, 3 digits at
 * least) the phone by its digits; LIKE wildcards in q are matched literally.
 */
#include <ctype.h>
#include <string.h>

#include "api/api.h"
#include "api/catalogue.h"
#include "api/phone_field.h"
#include "api/resource.h"
#include "domain/phone.h"

#define QUERY_MAX 100

/* The phone column with the separators api_phone_normalize() drops, dropped. */
#define PHONE_STRIPPED                                                                             \
    "replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), "      \
    "')', '')"

static const struct api_field client_fields[] = {
    {"first_name", API_T_STRING, API_REQUIRED, 1, 100, NULL},
    {"last_name", API_T_STRING, 0, 0, 100, NULL},
    {"phone", API_T_PHONE, API_REQUIRED, 0, 0, NULL},
    {"email", API_T_EMAIL, API_NULLABLE, 0, 0, NULL},
    {"notes", API_T_STRING, API_NULLABLE, 0, 2000, NULL},
    {"active", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};
enum { F_PHONE = 2 }; /* client_fields' "phone" */

/* "%q%" for LIKE ... ESCAPE '\', lower-cased (ASCII), with %, _ and \ escaped. */
static char *like_pattern(const char *q, bool digits_only)
{
    struct buf b = BUF_INIT;

    buf_addc(&b, '%');
    for (const char *p = q; *p != '\0'; p++) {
        if (digits_only) {
            if (isdigit((unsigned char)*p))
                buf_addc(&b, *p);
            continue;
        }
        if (*p == '%' || *p == '_' || *p == '\\')
            buf_addc(&b, '\\');
        buf_addc(&b, (char)tolower((unsigned char)*p));
    }
    buf_addc(&b, '%');
    return buf_detach(&b);
}

/* Does q look like (part of) a phone number: digits and separators only? */
static bool phone_like(const char *q)
{
    for (; *q != '\0'; q++)
        if (!isdigit((unsigned char)*q) && strchr(" +-.()", *q) == NULL)
            return false;
    return true;
}

/*
 * list_where: ?q=, name or email containing q, or the phone containing its digits.
 * The patterns are left in keep[0..1] for the query to borrow.
 */
static int search_where(struct http_req *req, struct api_sql *q, char *keep[4], struct err *e)
{
    const char *search = http_req_query(req, "q");
    char *text, *digits;

    if (search != NULL && strlen(search) > QUERY_MAX)
        return api_reply_invalid(req, e, "q", "'q' must be at most %d characters", QUERY_MAX);
    if (search == NULL || search[0] == '\0')
        return 0;
    text = keep[0] = like_pattern(search, false);
    digits = keep[1] = like_pattern(search, true);
    api_sql_add(q, " AND (lower(first_name) LIKE ");
    api_sql_param(q, DB_TEXT(text));
    api_sql_add(q, " ESCAPE '\\' OR lower(last_name) LIKE ");
    api_sql_param(q, DB_TEXT(text));
    api_sql_add(q, " ESCAPE '\\' OR lower(first_name || ' ' || last_name) LIKE ");
    api_sql_param(q, DB_TEXT(text));
    api_sql_add(q, " ESCAPE '\\' OR lower(email) LIKE ");
    api_sql_param(q, DB_TEXT(text));
    api_sql_add(q, " ESCAPE '\\'");
    if (phone_like(search) && strlen(digits) >= 2 + 3) {
        api_sql_add(q, " OR " PHONE_STRIPPED " LIKE ");
        api_sql_param(q, DB_TEXT(digits));
    }
    api_sql_add(q, ")");
    return 0;
}

/*
 * prepare: the phone to E.164 with the tenant's country code (400 when it
 * is no number then), and 409 naming "phone" when another client of the
 * tenant has the same number in any of its stored forms.
 */
static int check_phone_free(struct api_write *w, struct err *e)
{
    const char *e164 = w->v[F_PHONE].s;
    char national[PHONE_E164_MAX] = "", cc[API_CC_MAX] = "";
    int64_t other = 0;
    int rc;

    if (!w->v[F_PHONE].present)
        return 0;
    rc = api_phone_field_e164(w, "phone", NULL, cc, e);
    if (rc < 0)
        return rc;
    e164 = w->v[F_PHONE].s;
    if (strncmp(e164 + 1, cc, strlen(cc)) == 0)
        snprintf(national, sizeof(national), "%s", e164 + 1 + strlen(cc));
    rc = db_query_int(w->db,
                      "SELECT id FROM clients WHERE tenant_id = $1 AND id <> $2 AND "
                      "(phone = $3 OR " PHONE_STRIPPED " IN ($3, $4, $5)) ORDER BY id LIMIT 1",
                      DB_PARAMS(DB_INT(w->a.tenant_id), DB_INT(w->id), DB_TEXT(e164),
                                DB_TEXT(e164 + 1), DB_TEXT(national[0] ? national : e164)),
                      &other, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        http_reply_json(w->req, 409,
                        json_pack("{s:{s:s, s:s, s:s, s:I}}", "error", "code", "duplicate", "field",
                                  "phone", "message", "a client with this 'phone' already exists",
                                  "existing_id", (json_int_t)other));
        rc = err_set(e, ERR_DB_UNIQUE, "duplicate phone");
        goto cleanup;
    }
    rc = 0;

cleanup:
    return rc;
}

static const struct api_resource clients = {
    .right = "clients",
    .table = "clients",
    .columns = "id, tenant_id, first_name, last_name, phone, email, notes, active, created_at, "
               "updated_at",
    .types = "iisssssbtt",
    .what = "client",
    .fields = client_fields,
    .unique = "phone",
    .a_what = "a client",
    .filters = api_filters_active,
    /* A stylist sees the clients it has appointments with, not the whole book. */
    .pro_scope = "id IN (SELECT client_id FROM appointments WHERE professional_id = ",
    .list_where = search_where,
    .prepare = check_phone_free,
    .refs_sql = "SELECT 1 FROM appointments WHERE client_id = $1 AND tenant_id = $2",
};

int api_clients_list(struct http_req *req, struct err *e)
{
    return api_resource_list(req, &clients, e);
}

int api_clients_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &clients, e);
}

int api_clients_create(struct http_req *req, struct err *e)
{
    return api_resource_create(req, &clients, e);
}

int api_clients_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &clients, e);
}

int api_clients_delete(struct http_req *req, struct err *e)
{
    return api_resource_delete(req, &clients, e);
}
