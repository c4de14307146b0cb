/*
 * online_settings — the staff side of online booking (issue 18):
 *
 *   GET /api/v1/online-booking        (ADMIN, MANAGER) the rules, the slugs, the services
 *                                     bookable online, and each branch's link
 *   PUT /api/v1/online-booking        (ADMIN) any of: tenant_slug, enabled, min_notice_min,
 *                                     horizon_days, step_min, initial_status,
 *                                     cancel_cutoff_min, message, color, frame_ancestors
 *                                     (origins), default_country, the three limits,
 *                                     online_service_ids, branches [{id, slug}]
 *   GET /api/v1/online-booking/qr.svg?branch_id   the link as an SVG QR code (libqrencode)
 *   GET /b/{tenant}/{branch}          the public page (web/book.html), framable only by
 *                                     the tenant's frame_ancestors
 *
 * Links are PUBLIC_URL + "/b/{tenant-slug}/{branch-slug}".  A slug already
 * taken is 409 duplicate naming it.
 */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/booking_rules.h"
#include "api/validate.h"
#include "common/util.h"

#define QR_QUIET 4 /* modules of white around the code */

static const char *const status_choices[] = {"PENDING", "CONFIRMED", NULL};

enum {
    S_SLUG,
    S_ENABLED,
    S_NOTICE,
    S_HORIZON,
    S_STEP,
    S_STATUS,
    S_CUTOFF,
    S_MESSAGE,
    S_COLOR,
    S_FRAMES,
    S_COUNTRY,
    S_LIM_ADDR,
    S_LIM_PHONE,
    S_LIM_LOOKUP,
    S_SERVICES,
    S_BRANCHES,
};

static const struct api_field settings_fields[] = {
    [S_SLUG] = {"tenant_slug", API_T_STRING, API_NULLABLE, 1, 50, NULL},
    [S_ENABLED] = {"enabled", API_T_BOOL, 0, 0, 0, NULL},
    [S_NOTICE] = {"min_notice_min", API_T_INT, 0, 0, 43200, NULL},
    [S_HORIZON] = {"horizon_days", API_T_INT, 0, 1, 366, NULL},
    [S_STEP] = {"step_min", API_T_INT, 0, 5, 60, NULL},
    [S_STATUS] = {"initial_status", API_T_ENUM, 0, 0, 0, status_choices},
    [S_CUTOFF] = {"cancel_cutoff_min", API_T_INT, 0, 0, 43200, NULL},
    [S_MESSAGE] = {"message", API_T_STRING, API_NULLABLE, 0, 1000, NULL},
    [S_COLOR] = {"color", API_T_STRING, 0, 7, 7, NULL},
    [S_FRAMES] = {"frame_ancestors", API_T_ARRAY, 0, 0, 10, NULL},
    [S_COUNTRY] = {"default_country", API_T_STRING, 0, 1, 3, NULL},
    [S_LIM_ADDR] = {"limit_bookings_per_address_hour", API_T_INT, 0, 1, 100000, NULL},
    [S_LIM_PHONE] = {"limit_bookings_per_phone_day", API_T_INT, 0, 1, 1000, NULL},
    [S_LIM_LOOKUP] = {"limit_lookups_per_address_min", API_T_INT, 0, 1, 100000, NULL},
    [S_SERVICES] = {"online_service_ids", API_T_ARRAY, 0, 0, 1000, NULL},
    [S_BRANCHES] = {"branches", API_T_ARRAY, 0, 0, 1000, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

static const char *public_url(struct http_req *req)
{
    struct api_worker *w = http_req_worker(req);
    const char *u = w->app->cfg->public_url;

    return u != NULL ? u : "";
}

/* The link of a branch, or NULL when a slug is missing; caller frees. */
static char *link_of(struct http_req *req, const char *tslug, const char *bslug)
{
    const char *base = public_url(req);
    size_t n = strlen(base);

    if (tslug == NULL || bslug == NULL || *tslug == '\0' || *bslug == '\0')
        return NULL;
    while (n > 0 && base[n - 1] == '/')
        n--;
    return xasprintf("%.*s/b/%s/%s", (int)n, base, tslug, bslug);
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static int settings_reply(struct http_req *req, struct db *db, int64_t tenant_id, struct err *e)
{
    struct online_rules rules = {0};
    struct db_res *r = NULL;
    json_t *services = json_array(), *branches = json_array(), *rj = NULL;
    char *tslug = NULL;
    int rc;

    rc = online_rules_load(db, tenant_id, &rules, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_text(db, "SELECT slug FROM tenants WHERE id = $1", DB_PARAMS(DB_INT(tenant_id)),
                       &tslug, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query(db,
                  "SELECT id, name, online_bookable, active FROM services WHERE tenant_id = $1 "
                  "ORDER BY name, id",
                  DB_PARAMS(DB_INT(tenant_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r))
        json_array_append_new(services,
                              json_pack("{s:I, s:s, s:b, s:b}", "id", (json_int_t)db_res_int(r, 0),
                                        "name", db_res_text(r, 1), "online_bookable",
                                        db_res_bool(r, 2), "active", db_res_bool(r, 3)));
    db_res_free(r);
    r = NULL;
    rc =
        db_query(db, "SELECT id, name, slug, active FROM branches WHERE tenant_id = $1 ORDER BY id",
                 DB_PARAMS(DB_INT(tenant_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r)) {
        char *link = link_of(req, tslug, db_res_text(r, 2));

        json_array_append_new(
            branches, json_pack("{s:I, s:s, s:o, s:b, s:o}", "id", (json_int_t)db_res_int(r, 0),
                                "name", db_res_text(r, 1), "slug", str_or_null(db_res_text(r, 2)),
                                "active", db_res_bool(r, 3), "url", str_or_null(link)));
        free(link);
    }
    rj = online_rules_json(&rules);
    json_object_set_new(rj, "tenant_slug", str_or_null(tslug));
    json_object_set_new(rj, "services", services);
    json_object_set_new(rj, "branches", branches);
    services = branches = NULL;
    rc = http_reply_json(req, 200, rj);
    rj = NULL;

cleanup:
    json_decref(services);
    json_decref(branches);
    json_decref(rj);
    free(tslug);
    db_res_free(r);
    online_rules_release(&rules);
    return rc;
}

static int api_online_get(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct db *db = NULL;
    int rc;

    if (api_auth_require(req, "online_booking", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        return rc;
    return settings_reply(req, db, au.tenant_id, e);
}

/* An origin a page may be framed by: https://host[:port] (http only for localhost). */
static bool origin_valid(const char *s)
{
    const char *host;

    if (str_starts_with(s, "https://"))
        host = s + 8;
    else if (str_starts_with(s, "http://localhost") || str_starts_with(s, "http://127.0.0.1"))
        host = s + 7;
    else
        return false;
    if (*host == '\0' || strlen(s) > 200)
        return false;
    return strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:*") ==
           strlen(host);
}

/* The checks PUT's validation table cannot make; answers 400 itself. */
static int check_more(struct http_req *req, const struct api_value *v, struct err *e)
{
    if (v[S_SLUG].present && !v[S_SLUG].null && !online_slug_valid(v[S_SLUG].s))
        return api_reply_invalid(req, e, "tenant_slug",
                                 "'tenant_slug' must be 1-50 of a-z, 0-9 and '-', not at an end");
    if (v[S_STEP].present && v[S_STEP].i != 5 && v[S_STEP].i != 10 && v[S_STEP].i != 15 &&
        v[S_STEP].i != 20 && v[S_STEP].i != 30 && v[S_STEP].i != 60)
        return api_reply_invalid(req, e, "step_min", "'step_min' must be 5, 10, 15, 20, 30 or 60");
    if (v[S_COLOR].present) {
        const char *c = v[S_COLOR].s;
        if (c[0] != '#' || strspn(c + 1, "0123456789abcdefABCDEF") != 6)
            return api_reply_invalid(req, e, "color", "'color' must be #rrggbb");
    }
    if (v[S_COUNTRY].present && (strspn(v[S_COUNTRY].s, "0123456789") != strlen(v[S_COUNTRY].s) ||
                                 v[S_COUNTRY].s[0] == '0'))
        return api_reply_invalid(req, e, "default_country",
                                 "'default_country' must be a country calling code (52, 1, 34)");
    if (v[S_FRAMES].present) {
        size_t i;
        json_t *o;
        json_array_foreach(
            v[S_FRAMES].json, i,
            o) if (!json_is_string(o) ||
                   !origin_valid(json_string_value(
                       o))) return api_reply_invalid(req, e, "frame_ancestors",
                                                     "'frame_ancestors' must list origins like "
                                                     "https://www.example.com");
    }
    if (v[S_SERVICES].present) {
        size_t i;
        json_t *o;
        json_array_foreach(
            v[S_SERVICES].json, i,
            o) if (!json_is_integer(o) ||
                   json_integer_value(o) <
                       1) return api_reply_invalid(req, e, "online_service_ids",
                                                   "'online_service_ids' must list service ids");
    }
    if (v[S_BRANCHES].present) {
        size_t i;
        json_t *o;
        json_array_foreach(v[S_BRANCHES].json, i, o)
        {
            json_t *id = json_object_get(o, "id"), *slug = json_object_get(o, "slug");
            if (!json_is_integer(id) ||
                !(json_is_null(slug) ||
                  (json_is_string(slug) && online_slug_valid(json_string_value(slug)))))
                return api_reply_invalid(req, e, "branches",
                                         "'branches' must list {id, slug} with slugs of a-z, "
                                         "0-9 and '-'");
        }
    }
    return 0;
}

/* SET column = $2 of the rules row when the field is present. */
static int set_rule(struct db *db, int64_t tenant_id, const char *column, struct db_param p,
                    struct err *e)
{
    char *sql = xasprintf("UPDATE online_booking_rules SET %s = $2 WHERE tenant_id = $1", column);
    int rc = db_exec_params(db, sql, DB_PARAMS(DB_INT(tenant_id), p), NULL, e);

    free(sql);
    return rc;
}

static int write_settings(struct http_req *req, struct db *db, int64_t tenant_id,
                          const struct api_value *v, struct err *e)
{
    static const struct {
        int field;
        const char *column;
    } ints[] = {
        {S_NOTICE, "min_notice_min"},
        {S_HORIZON, "horizon_days"},
        {S_STEP, "step_min"},
        {S_CUTOFF, "cancel_cutoff_min"},
        {S_LIM_ADDR, "limit_bookings_per_address_hour"},
        {S_LIM_PHONE, "limit_bookings_per_phone_day"},
        {S_LIM_LOOKUP, "limit_lookups_per_address_min"},
    };
    struct buf frames = BUF_INIT;
    char now[32];
    int rc;

    api_now_text(now);
    rc = db_exec_params(db,
                        "INSERT INTO online_booking_rules (tenant_id) VALUES ($1) "
                        "ON CONFLICT (tenant_id) DO NOTHING",
                        DB_PARAMS(DB_INT(tenant_id)), NULL, e);
    if (rc < 0)
        goto cleanup;
    rc = set_rule(db, tenant_id, "updated_at", DB_TEXT(now), e);
    for (size_t i = 0; rc == 0 && i < sizeof(ints) / sizeof(ints[0]); i++)
        if (v[ints[i].field].present)
            rc = set_rule(db, tenant_id, ints[i].column, DB_INT(v[ints[i].field].i), e);
    if (rc == 0 && v[S_ENABLED].present)
        rc = set_rule(db, tenant_id, "enabled", DB_BOOL(v[S_ENABLED].b), e);
    if (rc == 0 && v[S_STATUS].present)
        rc = set_rule(db, tenant_id, "initial_status", DB_TEXT(v[S_STATUS].s), e);
    if (rc == 0 && v[S_MESSAGE].present)
        rc = set_rule(db, tenant_id, "message",
                      v[S_MESSAGE].null ? DB_NULL : DB_TEXT(v[S_MESSAGE].s), e);
    if (rc == 0 && v[S_COLOR].present)
        rc = set_rule(db, tenant_id, "color", DB_TEXT(v[S_COLOR].s), e);
    if (rc == 0 && v[S_COUNTRY].present)
        rc = set_rule(db, tenant_id, "default_country", DB_TEXT(v[S_COUNTRY].s), e);
    if (rc == 0 && v[S_FRAMES].present) {
        size_t i;
        json_t *o;
        json_array_foreach(v[S_FRAMES].json, i, o)
        {
            if (i > 0)
                buf_addc(&frames, ' ');
            buf_adds(&frames, json_string_value(o));
        }
        rc = set_rule(db, tenant_id, "frame_ancestors", DB_TEXT(buf_str(&frames)), e);
    }
    if (rc < 0)
        goto cleanup;
    buf_reset(&frames);
    if (v[S_SLUG].present) {
        rc = db_exec_params(
            db, "UPDATE tenants SET slug = $1 WHERE id = $2",
            DB_PARAMS(v[S_SLUG].null ? DB_NULL : DB_TEXT(v[S_SLUG].s), DB_INT(tenant_id)), NULL, e);
        if (rc < 0 && e->code == ERR_DB_UNIQUE) {
            http_reply_error(req, 409, "duplicate", "tenant_slug",
                             "another salon already uses this 'tenant_slug'");
            goto cleanup;
        }
        if (rc < 0)
            goto cleanup;
    }
    if (v[S_SERVICES].present) {
        size_t i;
        json_t *o;
        json_array_foreach(v[S_SERVICES].json, i, o)
            buf_addf(&frames, ",%lld", (long long)json_integer_value(o));
        buf_addc(&frames, ',');
        rc = db_exec_params(db,
                            "UPDATE services SET online_bookable = CASE WHEN $2 LIKE "
                            "'%,' || CAST(id AS TEXT) || ',%' THEN TRUE ELSE FALSE END "
                            "WHERE tenant_id = $1",
                            DB_PARAMS(DB_INT(tenant_id), DB_TEXT(buf_str(&frames))), NULL, e);
        if (rc < 0)
            goto cleanup;
    }
    if (v[S_BRANCHES].present) {
        size_t i;
        json_t *o;
        json_array_foreach(v[S_BRANCHES].json, i, o)
        {
            json_t *slug = json_object_get(o, "slug");
            rc = db_exec_params(
                db, "UPDATE branches SET slug = $1 WHERE tenant_id = $2 AND id = $3",
                DB_PARAMS(json_is_null(slug) ? DB_NULL : DB_TEXT(json_string_value(slug)),
                          DB_INT(tenant_id), DB_INT(json_integer_value(json_object_get(o, "id")))),
                NULL, e);
            if (rc < 0 && e->code == ERR_DB_UNIQUE) {
                http_reply_error(req, 409, "duplicate", "branches",
                                 "two branches cannot share the slug '%s'",
                                 json_string_value(slug));
                goto cleanup;
            }
            if (rc < 0)
                goto cleanup;
        }
    }

cleanup:
    buf_release(&frames);
    return rc;
}

static int api_online_put(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    bool in_tx = false;
    int rc;

    if (api_auth_require(req, "online_booking", API_ACT_UPDATE, &au) < 0)
        return 0;
    if ((rc = api_read_body(req, settings_fields, API_UPDATE, &body, v, e)) < 0 ||
        (rc = check_more(req, v, e)) < 0)
        goto cleanup;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    in_tx = true;
    rc = write_settings(req, db, au.tenant_id, v, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    in_tx = false;
    rc = settings_reply(req, db, au.tenant_id, e);

cleanup:
    if (in_tx)
        db_rollback(db);
    json_decref(body);
    return rc;
}

/* The QR code of text as SVG: one path of dark modules, a quiet zone around. */
static char *qr_svg(const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    struct buf b = BUF_INIT;
    int size;

    if (q == NULL)
        return NULL;
    size = q->width + 2 * QR_QUIET;
    buf_addf(&b,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
             "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR\">"
             "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
             size, size, size, size);
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width; x++)
            if (q->data[y * q->width + x] & 1)
                buf_addf(&b, "M%d %dh1v1h-1z", x + QR_QUIET, y + QR_QUIET);
    buf_adds(&b, "\"/></svg>\n");
    QRcode_free(q);
    return buf_detach(&b);
}

static int api_online_qr(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct db_res *r = NULL;
    struct db *db = NULL;
    char *link = NULL, *svg = NULL;
    int64_t branch_id = 0;
    bool has = false;
    int rc;

    if (api_auth_require(req, "online_booking", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_query_id(req, "branch_id", &branch_id, &has, e)) < 0)
        goto cleanup;
    if (!has) {
        rc = api_reply_invalid(req, e, "branch_id", "'branch_id' is required");
        goto cleanup;
    }
    if ((rc = api_worker_db(w, &db, e)) < 0)
        goto cleanup;
    rc = db_query(db,
                  "SELECT t.slug, b.slug FROM branches b JOIN tenants t ON t.id = b.tenant_id "
                  "WHERE b.tenant_id = $1 AND b.id = $2",
                  DB_PARAMS(DB_INT(au.tenant_id), DB_INT(branch_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_NOT_FOUND, "no branch '%lld'", (long long)branch_id);
        goto cleanup;
    }
    link = link_of(req, db_res_text(r, 0), db_res_text(r, 1));
    if (link == NULL) {
        http_reply_error(req, 409, "no_link", "branch_id",
                         "set the salon's and the branch's slugs first");
        rc = err_set(e, ERR_USAGE, "no link");
        goto cleanup;
    }
    svg = qr_svg(link);
    if (svg == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot make the QR code of '%s'", link);
        goto cleanup;
    }
    rc = http_reply_text(req, 200, "image/svg+xml", svg, strlen(svg));

cleanup:
    free(svg);
    free(link);
    db_res_free(r);
    return rc;
}

/* GET /b/{tenant}/{branch}: the page, framable by the tenant's listed origins only. */
static int api_online_page(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct online_branch b = {0};
    struct db *db = NULL;
    int rc;

    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc =
        online_branch_load(db, http_req_param(req, "tenant"), http_req_param(req, "branch"), &b, e);
    if (rc < 0)
        goto cleanup;
    rc = api_web_page(
        req, "/book.html",
        rc == 1 && b.rules.frame_ancestors[0] != '\0' ? b.rules.frame_ancestors : NULL, e);

cleanup:
    online_branch_release(&b);
    return rc;
}

const struct http_route api_online_routes[] = {
    {"GET", "/api/v1/online-booking", api_online_get, 0},
    {"PUT", "/api/v1/online-booking", api_online_put, 0},
    {"GET", "/api/v1/online-booking/qr.svg", api_online_qr, 0},
    {"GET", "/b/{tenant}/{branch}", api_online_page, HTTP_ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};
