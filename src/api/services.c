/*
 * services — /api/v1/services: what a salon sells (duration in minutes,
 * price in integer cents), and /services/{id}/professionals: who offers
 * it, with their commission (0-100 %).  Only PROFESSIONAL users of the same
 * tenant can be assigned; PUT replaces the whole assignment list in one
 * transaction.  POST /services may carry the list too ("professionals"):
 * all of it is checked before the service is written, so a bad commission
 * creates nothing.  A service created without a colour takes the next of
 * a palette of 8 (by the tenant's count of services).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/catalogue.h"
#include "api/resource.h"

#define DURATION_MAX    (24 * 60)
#define PRICE_MAX       100000000000LL /* a billion in any currency's units */
#define ASSIGNMENTS_MAX 200

static const struct api_field service_fields[] = {
    {"name", API_T_STRING, API_REQUIRED, 1, 200, NULL},
    {"description", API_T_STRING, API_NULLABLE, 0, 2000, NULL},
    {"duration_min", API_T_INT, API_REQUIRED, 1, DURATION_MAX, NULL},
    {"price_cents", API_T_INT, API_REQUIRED, 0, PRICE_MAX, NULL},
    {"color", API_T_STRING, API_NULLABLE, 0, 32, NULL},
    {"active", API_T_BOOL, 0, 0, 0, NULL},
    {"professionals", API_T_ARRAY, 0, 0, ASSIGNMENTS_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};
enum { F_COLOR = 4, F_PROFESSIONALS = 6 }; /* in service_fields */
static const char *const not_columns[] = {"professionals", NULL};

/* The colours a new service takes in turn when none is given. */
static const char *const palette[] = {"#F472B6", "#60A5FA", "#F59E0B", "#34D399",
                                      "#A78BFA", "#F87171", "#2DD4BF", "#FB923C"};
#define PALETTE_N (sizeof(palette) / sizeof(palette[0]))

static int check_assignments(struct http_req *req, struct db *db, json_t *list, int64_t tenant_id,
                             int64_t *users, int64_t *pcts, struct err *e);
static int insert_assignments(struct db *db, int64_t tenant_id, int64_t service_id,
                              const int64_t *users, const int64_t *pcts, size_t n, struct err *e);

/* check: the list of professionals comes with a new service only (later: PUT). */
static int check_service(struct api_write *w, struct err *e)
{
    if (w->mode == API_UPDATE && w->v[F_PROFESSIONALS].present)
        return api_reply_invalid(w->req, e, "professionals",
                                 "'professionals' of a service are set with PUT "
                                 "/services/{id}/professionals");
    return 0;
}

/* prepare (create): the professionals checked before anything is written; the colour. */
static int prepare_service(struct api_write *w, struct err *e)
{
    int64_t users[ASSIGNMENTS_MAX], pcts[ASSIGNMENTS_MAX], count = 0;
    struct api_value *color = &w->v[F_COLOR];
    int rc;

    if (w->mode != API_CREATE)
        return 0;
    if (w->v[F_PROFESSIONALS].present) {
        rc = check_assignments(w->req, w->db, w->v[F_PROFESSIONALS].json, w->a.tenant_id, users,
                               pcts, e);
        if (rc < 0)
            return rc;
    }
    if (color->present && !color->null && color->s[0] != '\0')
        return 0;
    rc = db_query_int(w->db, "SELECT count(*) FROM services WHERE tenant_id = $1",
                      DB_PARAMS(DB_INT(w->a.tenant_id)), &count, e);
    if (rc < 0)
        return rc;
    color->present = false;
    api_write_extra(w, "color", DB_TEXT(palette[(size_t)count % PALETTE_N]));
    return 0;
}

/* done (create): the professionals, checked in prepare. */
static int add_professionals(struct api_write *w, struct err *e)
{
    int64_t users[ASSIGNMENTS_MAX], pcts[ASSIGNMENTS_MAX];
    int rc;

    if (w->mode != API_CREATE || !w->v[F_PROFESSIONALS].present)
        return 0;
    rc = check_assignments(w->req, w->db, w->v[F_PROFESSIONALS].json, w->a.tenant_id, users, pcts,
                           e);
    if (rc == 0)
        rc = insert_assignments(w->db, w->a.tenant_id, w->id, users, pcts,
                                json_array_size(w->v[F_PROFESSIONALS].json), e);
    return rc;
}

static const struct api_resource services = {
    .right = "services",
    .table = "services",
    .columns = "id, tenant_id, name, description, duration_min, price_cents, color, active, "
               "created_at, updated_at",
    .types = "iissiisbtt",
    .what = "service",
    .fields = service_fields,
    .skip = not_columns,
    .check = check_service,
    .prepare = prepare_service,
    .done = add_professionals,
    .unique = "name",
    .a_what = "a service",
    .filters = api_filters_active,
    .refs_sql = "SELECT 1 FROM appointments WHERE service_id = $1 AND tenant_id = $2",
};

int api_services_list(struct http_req *req, struct err *e)
{
    return api_resource_list(req, &services, e);
}

int api_services_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &services, e);
}

int api_services_create(struct http_req *req, struct err *e)
{
    return api_resource_create(req, &services, e);
}

int api_services_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &services, e);
}

int api_services_delete(struct http_req *req, struct err *e)
{
    return api_resource_delete(req, &services, e);
}

/* ---- /services/{id}/professionals ---- */

static const char *const assignments_select =
    "SELECT sp.user_id, u.first_name, u.last_name, u.email, u.active, sp.commission_pct "
    "FROM service_professionals sp JOIN users u ON u.id = sp.user_id "
    "WHERE sp.service_id = $1 AND sp.tenant_id = $2 AND u.tenant_id = $2 "
    "ORDER BY sp.user_id";
#define ASSIGNMENT_TYPES "isssbi"

/* {"items":[...],"next_cursor":null}: the whole list (bounded by the staff). */
static int reply_assignments(struct http_req *req, struct db *db, int64_t service_id,
                             int64_t tenant_id, struct err *e)
{
    /* The query has no LIMIT: a service is offered by a handful of people. */
    struct api_page all = {.limit = INT_MAX - 1, .after_id = 0};

    return api_list_reply(req, db, &all, assignments_select,
                          DB_PARAMS(DB_INT(service_id), DB_INT(tenant_id)), ASSIGNMENT_TYPES, e);
}

/* The service of the path, in the caller's tenant: else 404. */
static int service_of_path(struct http_req *req, struct db *db, const struct api_auth *a,
                           int64_t *id, struct err *e)
{
    int rc = api_path_id(req, "id", id, e);

    if (rc < 0)
        return rc;
    rc = api_row_exists(db, "services", *id, a->tenant_id, e);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(e, ERR_NOT_FOUND, "no service '%lld'", (long long)*id);
    return 0;
}

int api_services_professionals_get(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    int64_t id = 0;
    int rc = api_auth_require(req, "services", API_ACT_READ, &a);

    if (rc < 0)
        return rc;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        return rc;
    rc = service_of_path(req, db, &a, &id, e);
    if (rc < 0)
        return rc;
    return reply_assignments(req, db, id, a.tenant_id, e);
}

static const struct api_field assignments_fields[] = {
    {"professionals", API_T_ARRAY, API_REQUIRED, 0, ASSIGNMENTS_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

static const struct api_field assignment_fields[] = {
    {"user_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"commission_pct", API_T_INT, API_REQUIRED, 0, 100, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/*
 * Check every element of the list: its shape, no user twice, and each
 * user a PROFESSIONAL of the tenant.  users/pcts receive the values.
 */
static int check_assignments(struct http_req *req, struct db *db, json_t *list, int64_t tenant_id,
                             int64_t *users, int64_t *pcts, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_invalid inv;
    char prefix[48];
    size_t i;
    json_t *el;
    int rc = 0;

    json_array_foreach(list, i, el)
    {
        snprintf(prefix, sizeof(prefix), "professionals[%zu].", i);
        if (api_check_object(el, assignment_fields, API_CREATE, prefix, v, &inv) < 0)
            return api_reply_invalid_at(req, e, &inv);
        users[i] = v[0].i;
        pcts[i] = v[1].i;
        for (size_t k = 0; k < i; k++) {
            if (users[k] == users[i])
                return api_reply_invalid(req, e, "professionals", "user '%lld' is listed twice",
                                         (long long)users[i]);
        }
        snprintf(prefix, sizeof(prefix), "professionals[%zu].user_id", i);
        rc = api_resource_check_professional(req, db, prefix, users[i], tenant_id, "offer services",
                                             e);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int insert_assignments(struct db *db, int64_t tenant_id, int64_t service_id,
                              const int64_t *users, const int64_t *pcts, size_t n, struct err *e)
{
    char now[32];
    int rc = 0;

    api_now_text(now);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = db_exec_params(db,
                            "INSERT INTO service_professionals (tenant_id, service_id, user_id, "
                            "commission_pct, created_at, updated_at) "
                            "VALUES ($1, $2, $3, $4, $5, $5)",
                            DB_PARAMS(DB_INT(tenant_id), DB_INT(service_id), DB_INT(users[i]),
                                      DB_INT(pcts[i]), DB_TEXT(now)),
                            NULL, e);
    return rc;
}

int api_services_professionals_put(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    json_t *body = NULL;
    struct db *db = NULL;
    int64_t users[ASSIGNMENTS_MAX], pcts[ASSIGNMENTS_MAX];
    int64_t id = 0;
    size_t n;
    int rc;

    rc = api_auth_require(req, "services", API_ACT_UPDATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = service_of_path(req, db, &a, &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, assignments_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = check_assignments(req, db, v[0].json, a.tenant_id, users, pcts, e);
    if (rc < 0)
        goto cleanup;
    n = json_array_size(v[0].json);
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_exec_params(
        db, "DELETE FROM service_professionals WHERE service_id = $1 AND tenant_id = $2",
        DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)), NULL, e);
    if (rc == 0)
        rc = insert_assignments(db, a.tenant_id, id, users, pcts, n, e);
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0) {
        if (db_in_transaction(db))
            db_rollback(db);
        goto cleanup;
    }
    rc = reply_assignments(req, db, id, a.tenant_id, e);

cleanup:
    json_decref(body);
    return rc;
}
