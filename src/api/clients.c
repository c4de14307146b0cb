/*
 * clients — /api/v1/clients: the people who book.  A phone number is
 * unique within a tenant and stored normalised ("+525511110001"); rows
 * written before normalisation (the seed writes "+52 55 1111 0001") are
 * compared by their digits, so the same number cannot enter twice.
 * `?q=` searches first and last name and email, case-insensitively, and
 * when q looks like a phone number (digits and separators, 3 digits at
 * least) the phone by its digits; LIKE wildcards in q are matched literally.
 */
#include <ctype.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/catalogue.h"
#include "api/validate.h"

#define CLIENT_COLUMNS                                                                             \
    "id, tenant_id, first_name, last_name, phone, email, notes, active, created_at, updated_at"
#define CLIENT_TYPES "iisssssbtt"
#define QUERY_MAX    100

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

static const char *const client_select =
    "SELECT " CLIENT_COLUMNS " FROM clients WHERE id = $1 AND tenant_id = $2";

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

int api_clients_list(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_page page;
    struct api_sql q = {0};
    struct db *db = NULL;
    const char *search = http_req_query(req, "q");
    char *text = NULL, *digits = NULL;
    bool active = false, has_active = false;
    int rc;

    rc = api_auth_require(req, "clients", API_ACT_READ, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_page_parse(req, &page, e);
    if (rc < 0)
        goto cleanup;
    rc = api_query_bool(req, "active", &active, &has_active, e);
    if (rc < 0)
        goto cleanup;
    if (search != NULL && strlen(search) > QUERY_MAX) {
        rc = api_reply_invalid(req, e, "q", "'q' must be at most %d characters", QUERY_MAX);
        goto cleanup;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    api_sql_init(&q, "SELECT " CLIENT_COLUMNS " FROM clients WHERE tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    api_sql_add(&q, " AND id > ");
    api_sql_param(&q, DB_INT(page.after_id));
    if (has_active) {
        api_sql_add(&q, " AND active = ");
        api_sql_param(&q, DB_BOOL(active));
    }
    if (search != NULL && search[0] != '\0') {
        text = like_pattern(search, false);
        digits = like_pattern(search, true);
        api_sql_add(&q, " AND (lower(first_name) LIKE ");
        api_sql_param(&q, DB_TEXT(text));
        api_sql_add(&q, " ESCAPE '\\' OR lower(last_name) LIKE ");
        api_sql_param(&q, DB_TEXT(text));
        api_sql_add(&q, " ESCAPE '\\' OR lower(first_name || ' ' || last_name) LIKE ");
        api_sql_param(&q, DB_TEXT(text));
        api_sql_add(&q, " ESCAPE '\\' OR lower(email) LIKE ");
        api_sql_param(&q, DB_TEXT(text));
        api_sql_add(&q, " ESCAPE '\\'");
        if (phone_like(search) && strlen(digits) >= 2 + 3) {
            api_sql_add(&q, " OR " PHONE_STRIPPED " LIKE ");
            api_sql_param(&q, DB_TEXT(digits));
        }
        api_sql_add(&q, ")");
    }
    api_sql_add(&q, " ORDER BY id LIMIT ");
    api_sql_param(&q, DB_INT(page.limit + 1));
    rc = api_list_reply(req, db, &page, buf_str(&q.text), q.nparams, q.params, CLIENT_TYPES, e);

cleanup:
    free(text);
    free(digits);
    api_sql_release(&q);
    return rc;
}

int api_clients_get(struct http_req *req, struct err *e)
{
    return api_catalogue_get(req, "clients", client_select, CLIENT_TYPES, "client", e);
}

/* 409 naming "phone" when another client of the tenant has the same number. */
static int check_phone_free(struct http_req *req, struct db *db, const struct api_value *phone,
                            int64_t tenant_id, int64_t self_id, struct err *e)
{
    int64_t other = 0;
    int rc;

    if (!phone->present)
        return 0;
    rc = db_query_int(db,
                      "SELECT id FROM clients WHERE tenant_id = $1 AND id <> $2 AND "
                      "(phone = $3 OR " PHONE_STRIPPED " = $3)",
                      DB_PARAMS(DB_INT(tenant_id), DB_INT(self_id), DB_TEXT(phone->s)), &other, e);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        http_reply_error(req, 409, "duplicate", "phone",
                         "a client with this 'phone' already exists (id %lld)", (long long)other);
        return err_set(e, ERR_DB_UNIQUE, "duplicate phone");
    }
    return 0;
}

int api_clients_create(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    rc = api_auth_require(req, "clients", API_ACT_CREATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, client_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = check_phone_free(req, db, api_value_of(client_fields, v, "phone"), a.tenant_id, 0, e);
    if (rc < 0)
        goto cleanup;
    api_sql_insert(&q, "clients", a.tenant_id, client_fields, v, NULL, NULL, NULL);
    rc = db_query_int(db, buf_str(&q.text), q.nparams, q.params, &id, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "phone", "a client");
        goto cleanup;
    }
    rc = api_row_reply(req, 201, db, client_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                       CLIENT_TYPES, "client", id, e);

cleanup:
    api_sql_release(&q);
    json_decref(body);
    return rc;
}

int api_clients_update(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct api_sql q = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    int64_t id = 0, affected = 0;
    char now[32];
    int rc;

    rc = api_auth_require(req, "clients", API_ACT_UPDATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, client_fields, API_UPDATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = check_phone_free(req, db, api_value_of(client_fields, v, "phone"), a.tenant_id, id, e);
    if (rc < 0)
        goto cleanup;
    api_now_text(now);
    api_sql_init(&q, "UPDATE clients SET updated_at = ");
    api_sql_param(&q, DB_TEXT(now));
    api_sql_set_fields(&q, client_fields, v, NULL, false);
    api_sql_add(&q, " WHERE id = ");
    api_sql_param(&q, DB_INT(id));
    api_sql_add(&q, " AND tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    rc = db_exec_params(db, buf_str(&q.text), q.nparams, q.params, &affected, e);
    if (rc < 0) {
        rc = api_reply_duplicate(req, e, rc, "phone", "a client");
        goto cleanup;
    }
    rc = api_row_reply(req, 200, db, client_select, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                       CLIENT_TYPES, "client", id, e);

cleanup:
    api_sql_release(&q);
    json_decref(body);
    return rc;
}

int api_clients_delete(struct http_req *req, struct err *e)
{
    return api_catalogue_delete(
        req, "clients", "clients",
        "SELECT 1 FROM appointments WHERE client_id = $1 AND tenant_id = $2", "client", NULL, e);
}
