/*
 * appointments — /api/v1/appointments (see booking.h).
 *
 * The write of a booking is one statement: INSERT for a creation, one
 * UPDATE guarded by the values it was computed from for a change.  The
 * database's no-overlap rule decides whether the slot is free; everything
 * checked before the write only gives a clearer answer.
 */
#include "api/booking.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/appt.h"
#include "api/auth.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"
#include "notify/notify.h"

/* A list covers at most this many days (SPEC issue 7). */
#define LIST_MAX_DAYS       93
#define IDEMPOTENCY_KEY_MAX 200
#define NOTES_MAX           2000

static const char *const status_choices[] = {"PENDING",   "CONFIRMED", "COMPLETED",
                                             "CANCELLED", "NO_SHOW",   NULL};
static const char *const create_status_choices[] = {"PENDING", "CONFIRMED", NULL};

enum { C_CLIENT, C_SERVICE, C_PROFESSIONAL, C_BRANCH, C_START, C_NOTES, C_STATUS, C_OVERRIDE };
static const struct api_field create_fields[] = {
    {"client_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"service_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"professional_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"branch_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"start", API_T_INSTANT, API_REQUIRED, 0, 0, NULL},
    {"notes", API_T_STRING, API_NULLABLE, 0, NOTES_MAX, NULL},
    {"status", API_T_ENUM, 0, 0, 0, create_status_choices},
    {"override_hours", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

enum { U_START, U_END, U_PROFESSIONAL, U_NOTES, U_STATUS, U_OVERRIDE };
static const struct api_field update_fields[] = {
    {"start", API_T_INSTANT, 0, 0, 0, NULL},
    {"end", API_T_INSTANT, 0, 0, 0, NULL},
    {"professional_id", API_T_ID, 0, 0, 0, NULL},
    {"notes", API_T_STRING, API_NULLABLE, 0, NOTES_MAX, NULL},
    {"status", API_T_ENUM, 0, 0, 0, status_choices},
    {"override_hours", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Does a retried body ask for the same booking as the one stored under its key? */
static bool same_booking(const struct appt *stored, const struct api_value *v)
{
    const char *notes = v[C_NOTES].present && !v[C_NOTES].null ? v[C_NOTES].s : NULL;

    return stored->client_id == v[C_CLIENT].i && stored->service_id == v[C_SERVICE].i &&
           stored->professional_id == v[C_PROFESSIONAL].i && stored->branch_id == v[C_BRANCH].i &&
           stored->start == v[C_START].i &&
           (notes == NULL ? stored->notes == NULL
                          : stored->notes != NULL && strcmp(notes, stored->notes) == 0);
}

/*
 * The idempotent answer for key, if an appointment was booked with it:
 * 1 (answered 200 with it, or 409 when the body differs), 0 (none).
 */
static int idempotent_reply(struct http_req *req, struct db *db, int64_t tenant_id, const char *key,
                            const struct api_value *v, struct err *e)
{
    struct db_res *r = NULL;
    struct appt a = {0};
    int rc;

    rc = db_query(db,
                  "SELECT " APPT_COLS APPT_FROM "WHERE a.tenant_id = $1 AND a.idempotency_key = $2",
                  DB_PARAMS(DB_INT(tenant_id), DB_TEXT(key)), &r, e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (!db_res_next(r))
        goto cleanup;
    appt_from_row(r, &a);
    rc = 1;
    if (same_booking(&a, v))
        appt_reply(req, 200, &a);
    else
        http_reply_error(req, 409, "idempotency_key_reused", "Idempotency-Key",
                         "this Idempotency-Key was used for another booking");

cleanup:
    appt_release(&a);
    db_res_free(r);
    return rc;
}

/* An Idempotency-Key is 1-200 visible ASCII characters. */
static bool key_valid(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] <= ' ' || k[i] > '~')
            return false;
    return true;
}

int api_appointments_create(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct appt a = {0};
    struct db *db = NULL;
    json_t *body = NULL;
    const char *key = http_req_header(req, "Idempotency-Key");
    char s_txt[32], e_txt[32], now_txt[32];
    bool override;
    int64_t now = (int64_t)time(NULL);
    int rc;

    rc = api_auth_require(req, "appointments", API_ACT_CREATE, &au);
    if (rc < 0)
        return 0;
    rc = api_read_body(req, create_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    override = v[C_OVERRIDE].present && v[C_OVERRIDE].b;
    if (override && !appt_may_override(&au)) {
        rc = appt_refuse(req, e, 403, "forbidden", "override_hours",
                         "only ADMIN and MANAGER may override working hours");
        goto cleanup;
    }
    if (key != NULL && !key_valid(key)) {
        rc = appt_refuse(req, e, 400, "invalid", "Idempotency-Key",
                         "'Idempotency-Key' must be 1-%d visible ASCII characters",
                         IDEMPOTENCY_KEY_MAX);
        goto cleanup;
    }
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    if (key != NULL) {
        rc = idempotent_reply(req, db, au.tenant_id, key, v, e);
        if (rc != 0)
            goto cleanup;
    }

    a.tenant_id = au.tenant_id;
    a.client_id = v[C_CLIENT].i;
    a.service_id = v[C_SERVICE].i;
    a.professional_id = v[C_PROFESSIONAL].i;
    a.branch_id = v[C_BRANCH].i;
    a.start = v[C_START].i;
    snprintf(a.status, sizeof(a.status), "%s", v[C_STATUS].present ? v[C_STATUS].s : "PENDING");
    a.notes = v[C_NOTES].present && !v[C_NOTES].null ? xstrdup(v[C_NOTES].s) : NULL;
    a.idempotency_key = key != NULL ? xstrdup(key) : NULL;
    a.created_by = au.user_id;
    a.created = a.updated = now;
    rc = appt_check_booking(req, db, &a, APPT_CHECK_SET_PRICE, 0, override, e);
    if (rc < 0)
        goto cleanup;

    tz_format_instant(a.start, s_txt);
    tz_format_instant(a.end, e_txt);
    tz_format_instant(now, now_txt);
    /* the appointment and its messages (notify.h) commit together, or neither does */
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_int(
        db,
        "INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, professional_id, "
        "start_at, end_at, status, price_cents, notes, idempotency_key, created_by, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) "
        "RETURNING id",
        DB_PARAMS(DB_INT(a.tenant_id), DB_INT(a.branch_id), DB_INT(a.client_id),
                  DB_INT(a.service_id), DB_INT(a.professional_id), DB_TEXT(s_txt), DB_TEXT(e_txt),
                  DB_TEXT(a.status), DB_INT(a.price_cents), DB_TEXT(a.notes),
                  DB_TEXT(a.idempotency_key), a.created_by ? DB_INT(a.created_by) : DB_NULL,
                  DB_TEXT(now_txt)),
        &a.id, e);
    if (rc == 0)
        rc = notify_appointment_changed(db, w->app->cfg, a.tenant_id, a.id, NOTIFY_BOOKED, NULL, e);
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0)
        db_rollback(db);
    if (rc < 0 && key != NULL && (e->code == ERR_DB_UNIQUE || e->code == ERR_DB_OVERLAP)) {
        /* A retry with the same key may have won the race: answer as the retry it is. */
        enum err_code code = e->code;
        rc = idempotent_reply(req, db, au.tenant_id, key, v, e);
        if (rc != 0)
            goto cleanup;
        rc = err_set(e, code, "booking refused");
    }
    if (rc < 0 && e->code == ERR_DB_OVERLAP) {
        rc = appt_reply_slot_taken(req, db, &a, e);
        goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    rc = appt_reply(req, 201, &a);

cleanup:
    appt_release(&a);
    json_decref(body);
    return rc;
}

int api_appointments_get(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct appt a = {0};
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "appointments", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = appt_load(db, au.tenant_id, id, au.role == API_ROLE_PROFESSIONAL ? au.user_id : 0, &a, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no appointment '%lld'", (long long)id);
        goto cleanup;
    }
    rc = appt_reply(req, 200, &a);

cleanup:
    appt_release(&a);
    return rc;
}

int api_appointments_update(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct appt cur = {0}, next = {0};
    struct db *db = NULL;
    json_t *body = NULL;
    bool pro, override, moved;
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "appointments", API_ACT_UPDATE, &au) < 0)
        return 0;
    pro = au.role == API_ROLE_PROFESSIONAL;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, update_fields, API_UPDATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    override = v[U_OVERRIDE].present && v[U_OVERRIDE].b;
    if (override && !appt_may_override(&au)) {
        rc = appt_refuse(req, e, 403, "forbidden", "override_hours",
                         "only ADMIN and MANAGER may override working hours");
        goto cleanup;
    }
    if (pro && (v[U_START].present || v[U_END].present || v[U_PROFESSIONAL].present ||
                v[U_NOTES].present)) {
        rc = appt_refuse(req, e, 403, "forbidden", NULL,
                         "a professional may only mark an appointment COMPLETED or NO_SHOW");
        goto cleanup;
    }
    if (pro && v[U_STATUS].present && strcmp(v[U_STATUS].s, "COMPLETED") != 0 &&
        strcmp(v[U_STATUS].s, "NO_SHOW") != 0) {
        rc = appt_refuse(req, e, 403, "forbidden", "status",
                         "a professional may only mark an appointment COMPLETED or NO_SHOW");
        goto cleanup;
    }
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = appt_load(db, au.tenant_id, id, pro ? au.user_id : 0, &cur, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no appointment '%lld'", (long long)id);
        goto cleanup;
    }

    appt_copy(&next, &cur);
    if (v[U_STATUS].present)
        snprintf(next.status, sizeof(next.status), "%s", v[U_STATUS].s);
    if (v[U_NOTES].present) {
        free(next.notes);
        next.notes = v[U_NOTES].null ? NULL : xstrdup(v[U_NOTES].s);
    }
    if (v[U_START].present)
        next.start = v[U_START].i;
    /* a move keeps the length; an end given resizes */
    next.end = v[U_END].present ? v[U_END].i : next.start + (cur.end - cur.start);
    if (v[U_PROFESSIONAL].present)
        next.professional_id = v[U_PROFESSIONAL].i;
    if (next.end <= next.start || next.end - next.start > APPT_MAX_DURATION_MIN * 60) {
        rc = appt_refuse(req, e, 400, "invalid", "end",
                         "'end' must come after 'start', at most %d minutes later",
                         APPT_MAX_DURATION_MIN);
        goto cleanup;
    }
    if (!appt_transition_allowed(cur.status, next.status)) {
        rc = appt_refuse(req, e, 409, "invalid_transition", "status",
                         "an appointment cannot go from %s to %s", cur.status, next.status);
        goto cleanup;
    }
    if (strcmp(next.status, "CANCELLED") == 0 && strcmp(cur.status, "CANCELLED") != 0) {
        /* a cancellation keeps its reason: it goes through .../cancel */
        rc = appt_refuse(req, e, 400, "required", "reason",
                         "'reason' is required to cancel an appointment: POST "
                         "/api/v1/appointments/%lld/cancel with {\"reason\": ...}",
                         (long long)cur.id);
        goto cleanup;
    }
    if (strcmp(next.status, "NO_SHOW") == 0 && strcmp(cur.status, "NO_SHOW") != 0 &&
        (int64_t)time(NULL) < cur.start) {
        rc = appt_refuse(req, e, 409, "no_show_before_start", "status",
                         "appointment '%lld' has not started yet: it cannot be a no-show",
                         (long long)cur.id);
        goto cleanup;
    }
    moved = next.start != cur.start || next.end != cur.end ||
            next.professional_id != cur.professional_id;
    if (moved) {
        if (!appt_is_open(cur.status) || !appt_is_open(next.status)) {
            rc = appt_refuse(req, e, 409, "invalid_transition", "start",
                             "only a PENDING or CONFIRMED appointment can be rescheduled");
            goto cleanup;
        }
        rc = appt_check_booking(
            req, db, &next, next.professional_id != cur.professional_id ? APPT_CHECK_NEW_PRO : 0,
            next.end - next.start, override, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = appt_write(req, db, &cur, &next, e);

cleanup:
    appt_release(&cur);
    appt_release(&next);
    json_decref(body);
    return rc;
}

#define CANCEL_REASON_MAX 500

static const struct api_field cancel_fields[] = {
    {"reason", API_T_STRING, API_NULLABLE, 0, CANCEL_REASON_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Is s NULL or only white space? */
static bool blank(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* The appointment of the path's {id} (any professional's), 404 when not the tenant's. */
static int load_of_path(struct http_req *req, const struct api_auth *au, struct db **db,
                        struct appt *cur, struct err *e)
{
    int64_t id = 0;
    int rc;

    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), db, e)) < 0 ||
        (rc = appt_load(*db, au->tenant_id, id, 0, cur, e)) < 0)
        return rc;
    if (rc == 0)
        return err_set(e, ERR_NOT_FOUND, "no appointment '%lld'", (long long)id);
    return 0;
}

int api_appointments_cancel(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct appt cur = {0}, next = {0};
    struct db *db = NULL;
    json_t *body = NULL;
    size_t len = 0;
    int rc;

    if (api_auth_require(req, "appointments", API_ACT_UPDATE, &au) < 0)
        return 0;
    if (au.role == API_ROLE_PROFESSIONAL) {
        rc = appt_refuse(req, e, 403, "forbidden", NULL,
                         "a professional may only mark an appointment COMPLETED or NO_SHOW");
        goto cleanup;
    }
    /* the reason is required: no body at all is the same as none given */
    http_req_body(req, &len);
    v[0].present = false;
    if (len > 0 && (rc = api_read_body(req, cancel_fields, API_CREATE, &body, v, e)) < 0)
        goto cleanup;
    if (!v[0].present || v[0].null || blank(v[0].s)) {
        rc = appt_refuse(req, e, 400, "required", "reason",
                         "'reason' is required to cancel an appointment");
        goto cleanup;
    }
    rc = load_of_path(req, &au, &db, &cur, e);
    if (rc < 0)
        goto cleanup;
    if (!appt_is_open(cur.status)) {
        rc = appt_refuse(req, e, 409, "invalid_transition", "status",
                         "an appointment cannot go from %s to CANCELLED", cur.status);
        goto cleanup;
    }
    appt_copy(&next, &cur);
    snprintf(next.status, sizeof(next.status), "CANCELLED");
    free(next.cancel_reason);
    next.cancel_reason = xstrdup(v[0].s);
    rc = appt_write(req, db, &cur, &next, e);

cleanup:
    appt_release(&cur);
    appt_release(&next);
    json_decref(body);
    return rc;
}

/* Were t1 and t2 on the same local day in zone tz? */
static int same_local_day(const char *tz, int64_t t1, int64_t t2, bool *same, struct err *e)
{
    struct tz_local l1, l2;
    int rc;

    if ((rc = tz_utc_to_local(tz, t1, &l1, e)) < 0 || (rc = tz_utc_to_local(tz, t2, &l2, e)) < 0)
        return rc;
    *same = l1.y == l2.y && l1.mon == l2.mon && l1.d == l2.d;
    return 0;
}

int api_appointments_uncancel(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct appt cur = {0}, next = {0};
    struct db *db = NULL;
    bool same = false;
    int rc;

    if (api_auth_require(req, "appointments", API_ACT_UPDATE, &au) < 0)
        return 0;
    if (au.role != API_ROLE_ADMIN && au.role != API_ROLE_MANAGER) {
        rc = appt_refuse(req, e, 403, "forbidden", NULL,
                         "only ADMIN and MANAGER may undo a cancellation");
        goto cleanup;
    }
    rc = load_of_path(req, &au, &db, &cur, e);
    if (rc < 0)
        goto cleanup;
    if (strcmp(cur.status, "CANCELLED") != 0) {
        rc = appt_refuse(req, e, 409, "invalid_transition", "status",
                         "appointment '%lld' is not cancelled", (long long)cur.id);
        goto cleanup;
    }
    if (cur.cancelled_at != 0 && cur.cancelled_from[0] != '\0') {
        rc = same_local_day(cur.tz, cur.cancelled_at, (int64_t)time(NULL), &same, e);
        if (rc < 0)
            goto cleanup;
    }
    if (!same) {
        rc = appt_refuse(req, e, 409, "uncancel_expired", "status",
                         "a cancellation can only be undone on the day it was made");
        goto cleanup;
    }
    appt_copy(&next, &cur);
    snprintf(next.status, sizeof(next.status), "%s", cur.cancelled_from);
    /* the no-overlap rule answers 409 slot_taken if the time was booked meanwhile */
    rc = appt_write(req, db, &cur, &next, e);

cleanup:
    appt_release(&cur);
    appt_release(&next);
    return rc;
}

/*
 * A bound of a list's range: an RFC 3339 instant, or a date taken in the
 * tenant's zone (its midnight; the day after's for an inclusive `to`).
 * tz is looked up on the first date met.  Answers 400 itself.
 */
static int range_bound(struct http_req *req, struct db *db, int64_t tenant_id, const char *name,
                       bool end_of_day, char **tz, int64_t *out, struct err *e)
{
    const char *s = http_req_query(req, name);
    char fixed[64];
    int y, m, d, rc = 0;

    if (s == NULL)
        return appt_refuse(req, e, 400, "invalid", name, "'%s' is required", name);
    if (tz_parse_instant(s, out) == 0)
        return 0;
    /* An offset's '+' that was not percent-encoded arrives as a space. */
    if (strlen(s) > 19 && strlen(s) < sizeof(fixed) && s[19] == ' ') {
        snprintf(fixed, sizeof(fixed), "%s", s);
        fixed[19] = '+';
        if (tz_parse_instant(fixed, out) == 0)
            return 0;
    }
    if (api_date_parse(s, &y, &m, &d) < 0)
        return appt_refuse(req, e, 400, "invalid", name,
                           "'%s' must be a date (YYYY-MM-DD) or an RFC 3339 instant", name);
    if (*tz == NULL) {
        rc = db_query_text(db, "SELECT timezone FROM tenants WHERE id = $1",
                           DB_PARAMS(DB_INT(tenant_id)), tz, e);
        if (rc < 0)
            return rc;
        if (*tz == NULL)
            return err_set(e, ERR_NOT_FOUND, "no tenant '%lld'", (long long)tenant_id);
    }
    if (end_of_day) {
        int64_t next = tz_days_from_civil(y, m, d) + 1;
        tz_civil_from_days(next, &y, &m, &d);
        if (!tz_date_valid(y, m, d))
            return appt_refuse(req, e, 400, "invalid", name, "'%s' is out of range", name);
    }
    return tz_local_to_utc(*tz, y, m, d, 0, 0, out, e);
}

int api_booking_range(struct http_req *req, struct db *db, int64_t tenant_id, int max_days,
                      int64_t *from, int64_t *to, struct err *e)
{
    char *tz = NULL;
    int rc;

    if ((rc = range_bound(req, db, tenant_id, "from", false, &tz, from, e)) < 0 ||
        (rc = range_bound(req, db, tenant_id, "to", true, &tz, to, e)) < 0)
        goto cleanup;
    if (*to <= *from || *to - *from > (int64_t)max_days * 86400)
        rc = appt_refuse(req, e, 400, "invalid", "to",
                         "'to' must come after 'from', at most %d days later", max_days);

cleanup:
    free(tz);
    return rc;
}

int api_booking_range_text(struct http_req *req, struct db *db, int64_t tenant_id, int max_days,
                           char from_txt[32], char to_txt[32], struct err *e)
{
    int64_t from = 0, to = 0;
    int rc = api_booking_range(req, db, tenant_id, max_days, &from, &to, e);

    if (rc < 0)
        return rc;
    tz_format_instant(from, from_txt);
    tz_format_instant(to, to_txt);
    return 0;
}

int api_appointments_list(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct db_param params[12];
    struct api_auth au;
    struct api_page page;
    struct buf sql = BUF_INIT;
    struct db_res *r = NULL;
    struct db *db = NULL;
    json_t *items = NULL, *next = NULL;
    char from_txt[32], to_txt[32];
    const char *status = http_req_query(req, "status");
    const char *source = NULL;
    int64_t pro_id = 0, branch_id = 0, client_id = 0, last_id = 0;
    bool has_pro = false, has_branch = false, has_client = false;
    int np = 0, count = 0, rc;

    if (api_auth_require(req, "appointments", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_page_parse(req, &page, e)) < 0 ||
        (rc = appt_list_scope(req, &au, &pro_id, &has_pro, &source, e)) < 0 ||
        (rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e)) < 0 ||
        (rc = api_query_id(req, "client_id", &client_id, &has_client, e)) < 0)
        goto cleanup;
    if (status != NULL) {
        bool known = false;
        for (int i = 0; status_choices[i] != NULL; i++)
            known = known || strcmp(status, status_choices[i]) == 0;
        if (!known) {
            rc = appt_refuse(req, e, 400, "invalid", "status", "'status' is not a known status");
            goto cleanup;
        }
    }
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_booking_range_text(req, db, au.tenant_id, LIST_MAX_DAYS, from_txt, to_txt, e);
    if (rc < 0)
        goto cleanup;

    buf_adds(&sql, "SELECT " APPT_COLS APPT_FROM
                   "WHERE a.tenant_id = $1 AND a.start_at >= $2 AND a.start_at < $3 "
                   "AND a.id > $4");
    params[np++] = DB_INT(au.tenant_id);
    params[np++] = DB_TEXT(from_txt);
    params[np++] = DB_TEXT(to_txt);
    params[np++] = DB_INT(page.after_id);
    if (has_pro) {
        params[np++] = DB_INT(pro_id);
        buf_addf(&sql, " AND a.professional_id = $%d", np);
    }
    if (has_branch) {
        params[np++] = DB_INT(branch_id);
        buf_addf(&sql, " AND a.branch_id = $%d", np);
    }
    if (has_client) {
        params[np++] = DB_INT(client_id);
        buf_addf(&sql, " AND a.client_id = $%d", np);
    }
    if (status != NULL) {
        params[np++] = DB_TEXT(status);
        buf_addf(&sql, " AND a.status = $%d", np);
    }
    if (source != NULL) {
        params[np++] = DB_TEXT(source);
        buf_addf(&sql, " AND a.source = $%d", np);
    }
    buf_addf(&sql, " ORDER BY a.id LIMIT %d", page.limit + 1);

    rc = db_query(db, buf_str(&sql), np, params, &r, e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    while (db_res_next(r)) {
        struct appt a;
        json_t *o;

        if (++count > page.limit) {
            char *c = api_cursor_encode(last_id);
            next = json_string(c);
            free(c);
            break;
        }
        appt_from_row(r, &a);
        o = appt_json(&a);
        last_id = a.id;
        appt_release(&a);
        if (o == NULL) {
            rc = err_set(e, ERR_INTERNAL, "an appointment of the list is not UTF-8");
            goto cleanup;
        }
        json_array_append_new(items, o);
    }
    rc = http_reply_json(
        req, 200,
        json_pack("{s:o, s:o}", "items", items, "next_cursor", next != NULL ? next : json_null()));
    items = NULL;
    next = NULL;

cleanup:
    json_decref(items);
    json_decref(next);
    db_res_free(r);
    buf_release(&sql);
    return rc;
}
