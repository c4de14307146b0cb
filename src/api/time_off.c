/*
 * time_off — /api/v1/time-off: a professional away ([start, end): a
 * holiday, a course, sick leave).  Availability leaves it out
 * (availability.c) and a booking inside it is 409 professional_unavailable
 * (appt.c).  Time off over appointments already booked is refused as a
 * change of hours is (hours_check.h) until confirmed.
 *
 *   GET    /time-off[?user_id&from&to]  ADMIN, MANAGER, RECEPTIONIST: anyone's;
 *          a PROFESSIONAL its own only.  from/to: RFC 3339 or dates (the
 *          tenant's zone, `to` inclusive), both or neither, at most 366 days.
 *   POST   /time-off {user_id, start, end, reason?, confirm?}  ADMIN, MANAGER
 *   DELETE /time-off/{id}  ADMIN, MANAGER
 */
#include <string.h>

#include "api/api.h"
#include "api/appt.h"
#include "api/auth.h"
#include "api/booking.h"
#include "api/hours_check.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"

#define TIME_OFF_MAX_DAYS 366
#define REASON_MAX        500

static const struct api_field create_fields[] = {
    {"user_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"start", API_T_INSTANT, API_REQUIRED, 0, 0, NULL},
    {"end", API_T_INSTANT, API_REQUIRED, 0, 0, NULL},
    {"reason", API_T_STRING, API_NULLABLE, 0, REASON_MAX, NULL},
    {"confirm", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};
enum { F_USER, F_START, F_END, F_REASON };

/* One row of time_off as JSON, its instants in zone tz. */
static json_t *row_json(struct db_res *r, const char *tz)
{
    int64_t s = 0, en = 0, c = 0;
    char s_txt[32], e_txt[32], c_txt[32];

    tz_parse_instant(db_res_text(r, 2), &s);
    tz_parse_instant(db_res_text(r, 3), &en);
    tz_parse_instant(db_res_text(r, 5), &c);
    api_booking_format(tz, s, s_txt);
    api_booking_format(tz, en, e_txt);
    api_booking_format(tz, c, c_txt);
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)db_res_int(r, 0),
                     "user_id", (json_int_t)db_res_int(r, 1), "start", s_txt, "end", e_txt,
                     "reason", db_res_text(r, 4) ? db_res_text(r, 4) : "", "created_at", c_txt);
}

#define ROW_SQL                                                                                    \
    "SELECT o.id, o.user_id, o.start_at, o.end_at, o.reason, o.created_at, t.timezone "            \
    "FROM time_off o JOIN tenants t ON t.id = o.tenant_id WHERE o.tenant_id = $1 "

int api_time_off_list(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *items = NULL;
    char from_txt[32] = "0001-01-01 00:00:00+00", to_txt[32] = "9999-12-31 00:00:00+00";
    int64_t user_id = 0, from = 0, to = 0;
    bool has_user = false;
    int rc;

    if (api_auth_require(req, "time_off", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_query_id(req, "user_id", &user_id, &has_user, e);
    if (rc < 0)
        goto cleanup;
    if (au.role == API_ROLE_PROFESSIONAL) {
        if (has_user && user_id != au.user_id) {
            rc = appt_refuse(req, e, 403, "forbidden", "user_id",
                             "a professional sees only their own time off");
            goto cleanup;
        }
        user_id = au.user_id;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    if (http_req_query(req, "from") != NULL || http_req_query(req, "to") != NULL) {
        rc = api_booking_range(req, db, au.tenant_id, TIME_OFF_MAX_DAYS, &from, &to, e);
        if (rc < 0)
            goto cleanup;
        tz_format_instant(from, from_txt);
        tz_format_instant(to, to_txt);
    }
    rc = db_query(
        db,
        ROW_SQL "AND (o.user_id = $2 OR $2 = 0) AND o.start_at < $3 AND o.end_at > $4 "
                "ORDER BY o.start_at, o.id LIMIT 1000",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(user_id), DB_TEXT(to_txt), DB_TEXT(from_txt)), &r,
        e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    while (db_res_next(r))
        json_array_append_new(items, row_json(r, db_res_text(r, 6)));
    rc = http_reply_json(req, 200, json_pack("{s:o}", "items", items));
    items = NULL;

cleanup:
    json_decref(items);
    db_res_free(r);
    return rc;
}

int api_time_off_create(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *body = NULL, *list = NULL;
    char s_txt[32], e_txt[32];
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "time_off", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_read_body(req, create_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    if (v[F_END].i <= v[F_START].i || v[F_END].i - v[F_START].i > TIME_OFF_MAX_DAYS * 86400LL) {
        rc = appt_refuse(req, e, 400, "invalid", "end",
                         "'end' must come after 'start', at most %d days later", TIME_OFF_MAX_DAYS);
        goto cleanup;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_exists(db, "users", v[F_USER].i, au.tenant_id, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = appt_refuse(req, e, 404, "not_found", "user_id", "no user '%lld'",
                         (long long)v[F_USER].i);
        goto cleanup;
    }
    rc = api_hours_overlapping(db, au.tenant_id, v[F_USER].i, v[F_START].i, v[F_END].i, &list, e);
    if (rc < 0)
        goto cleanup;
    rc = api_hours_refuse(req, list, api_hours_confirmed(req, body), e);
    list = NULL;
    if (rc < 0)
        goto cleanup;
    tz_format_instant(v[F_START].i, s_txt);
    tz_format_instant(v[F_END].i, e_txt);
    rc = db_query_int(
        db,
        "INSERT INTO time_off (tenant_id, user_id, start_at, end_at, reason) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(v[F_USER].i), DB_TEXT(s_txt), DB_TEXT(e_txt),
                  DB_TEXT(v[F_REASON].present && !v[F_REASON].null ? v[F_REASON].s : "")),
        &id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query(db, ROW_SQL "AND o.id = $2", DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_INTERNAL, "time off '%lld' vanished", (long long)id);
        goto cleanup;
    }
    rc = http_reply_json(req, 201, row_json(r, db_res_text(r, 6)));

cleanup:
    db_res_free(r);
    json_decref(list);
    json_decref(body);
    return rc;
}

int api_time_off_delete(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    int64_t id = 0, affected = 0;
    int rc;

    if (api_auth_require(req, "time_off", API_ACT_DELETE, &au) < 0)
        return 0;
    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        return rc;
    rc = db_exec_params(db, "DELETE FROM time_off WHERE id = $1 AND tenant_id = $2",
                        DB_PARAMS(DB_INT(id), DB_INT(au.tenant_id)), &affected, e);
    if (rc < 0)
        return rc;
    if (affected == 0)
        return err_set(e, ERR_NOT_FOUND, "no time off '%lld'", (long long)id);
    return http_reply_empty(req, 204);
}
