/*
 * appointments — /api/v1/appointments (see booking.h).
 *
 * The write of a booking is one statement: INSERT for a creation, one
 * UPDATE guarded by the values it was computed from for a change.  The
 * database's no-overlap rule decides whether the slot is free; everything
 * checked before the write only gives a clearer answer.
 */
#include "api/booking.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/validate.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/util.h"

/* A list covers at most this many days (SPEC issue 7). */
#define LIST_MAX_DAYS 93
/* An appointment lasts at most a day: availability reads busy intervals from a day before. */
#define MAX_DURATION_MIN    1440
#define IDEMPOTENCY_KEY_MAX 200
#define NOTES_MAX           2000

/* The statuses whose appointment holds its slot (the no-overlap rule's WHERE). */
#define BLOCKING_SQL "('PENDING', 'CONFIRMED', 'COMPLETED')"

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

enum { U_START, U_PROFESSIONAL, U_NOTES, U_STATUS, U_OVERRIDE };
static const struct api_field update_fields[] = {
    {"start", API_T_INSTANT, 0, 0, 0, NULL},
    {"professional_id", API_T_ID, 0, 0, 0, NULL},
    {"notes", API_T_STRING, API_NULLABLE, 0, NOTES_MAX, NULL},
    {"status", API_T_ENUM, 0, 0, 0, status_choices},
    {"override_hours", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* One appointment, as read from its row (or about to be written). */
struct appt {
    int64_t id, tenant_id, branch_id, client_id, service_id, professional_id;
    int64_t start, end, created, updated;
    int64_t price_cents;
    int64_t created_by; /* 0: NULL */
    char status[16];
    char *notes;           /* NULL: NULL */
    char *idempotency_key; /* NULL: NULL */
    char tz[64];           /* the branch's zone */
};

static void appt_release(struct appt *a)
{
    free(a->notes);
    free(a->idempotency_key);
    a->notes = NULL;
    a->idempotency_key = NULL;
}

#define APPT_COLS                                                                                  \
    "a.id, a.tenant_id, a.branch_id, a.client_id, a.service_id, a.professional_id, a.start_at, "   \
    "a.end_at, a.status, a.price_cents, a.notes, a.idempotency_key, a.created_by, a.created_at, "  \
    "a.updated_at, COALESCE(b.timezone, t.timezone) "
#define APPT_FROM                                                                                  \
    "FROM appointments a JOIN branches b ON b.id = a.branch_id "                                   \
    "JOIN tenants t ON t.id = a.tenant_id "

static int64_t instant_of(const char *s)
{
    int64_t t = 0;
    if (s == NULL || tz_parse_instant(s, &t) < 0)
        return 0;
    return t;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

static void appt_from_row(const struct db_res *r, struct appt *a)
{
    const char *tz = db_res_text(r, 15);

    memset(a, 0, sizeof(*a));
    a->id = db_res_int(r, 0);
    a->tenant_id = db_res_int(r, 1);
    a->branch_id = db_res_int(r, 2);
    a->client_id = db_res_int(r, 3);
    a->service_id = db_res_int(r, 4);
    a->professional_id = db_res_int(r, 5);
    a->start = instant_of(db_res_text(r, 6));
    a->end = instant_of(db_res_text(r, 7));
    snprintf(a->status, sizeof(a->status), "%s", db_res_text(r, 8) ? db_res_text(r, 8) : "");
    a->price_cents = db_res_int(r, 9);
    a->notes = dup_or_null(db_res_text(r, 10));
    a->idempotency_key = dup_or_null(db_res_text(r, 11));
    a->created_by = db_res_isnull(r, 12) ? 0 : db_res_int(r, 12);
    a->created = instant_of(db_res_text(r, 13));
    a->updated = instant_of(db_res_text(r, 14));
    snprintf(a->tz, sizeof(a->tz), "%s", tz != NULL ? tz : "UTC");
}

void api_booking_format(const char *iana, int64_t t, char out[32])
{
    struct tz_local l;
    struct err e;

    if (iana == NULL || tz_utc_to_local(iana, t, &l, &e) < 0)
        l.offset = 0;
    if (slots_format_rfc3339(t, l.offset, out) < 0)
        out[0] = '\0';
}

static json_t *int_or_null(int64_t v)
{
    return v != 0 ? json_integer(v) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* The resource's JSON (SPEC §8: its columns); NULL when a text is not UTF-8. */
static json_t *appt_json(const struct appt *a)
{
    char start[32], end[32], created[32], updated[32];

    api_booking_format(a->tz, a->start, start);
    api_booking_format(a->tz, a->end, end);
    api_booking_format(a->tz, a->created, created);
    api_booking_format(a->tz, a->updated, updated);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:s, "
                     "s:s, s:s}",
                     "id", (json_int_t)a->id, "tenant_id", (json_int_t)a->tenant_id, "branch_id",
                     (json_int_t)a->branch_id, "client_id", (json_int_t)a->client_id, "service_id",
                     (json_int_t)a->service_id, "professional_id", (json_int_t)a->professional_id,
                     "start_at", start, "end_at", end, "status", a->status, "price_cents",
                     (json_int_t)a->price_cents, "notes", str_or_null(a->notes), "idempotency_key",
                     str_or_null(a->idempotency_key), "created_by", int_or_null(a->created_by),
                     "created_at", created, "updated_at", updated, "timezone", a->tz);
}

static int reply_appt(struct http_req *req, int status, const struct appt *a)
{
    return http_reply_json(req, status, appt_json(a));
}

/*
 * Answer an error and hand back a negative code: the callers stop and
 * return it, and the server sees the request is already answered.
 */
static int refuse(struct http_req *req, struct err *e, int status, const char *code,
                  const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int refuse(struct http_req *req, struct err *e, int status, const char *code,
                  const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_reply_error(req, status, code, field, "%s", msg);
    return err_set(e, ERR_USAGE, "%s", msg);
}

/* Read one appointment of the tenant (and of that professional when > 0). 1 found, 0 not. */
static int appt_load(struct db *db, int64_t tenant_id, int64_t id, int64_t professional_id,
                     struct appt *out, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db,
                  "SELECT " APPT_COLS APPT_FROM
                  "WHERE a.tenant_id = $1 AND a.id = $2 AND (a.professional_id = $3 OR $3 = 0)",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(id), DB_INT(professional_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (db_res_next(r)) {
        appt_from_row(r, out);
        rc = 1;
    }

cleanup:
    db_res_free(r);
    return rc;
}

/*
 * The answer to a booking the no-overlap rule refused: 409 slot_taken with
 * the appointment in the way (the first one, by start), looked up now.  It
 * may be gone already (cancelled meanwhile): then "conflict" is null.
 */
static int reply_slot_taken(struct http_req *req, struct db *db, const struct appt *a,
                            struct err *e)
{
    char s_txt[32], e_txt[32], cs[32], ce[32];
    struct db_res *r = NULL;
    json_t *conflict = json_null();
    int rc;

    tz_format_instant(a->start, s_txt);
    tz_format_instant(a->end, e_txt);
    rc = db_query(db,
                  "SELECT start_at, end_at FROM appointments "
                  "WHERE tenant_id = $1 AND professional_id = $2 AND id <> $3 "
                  "AND status IN " BLOCKING_SQL " AND start_at < $4 AND end_at > $5 "
                  "ORDER BY start_at LIMIT 1",
                  DB_PARAMS(DB_INT(a->tenant_id), DB_INT(a->professional_id), DB_INT(a->id),
                            DB_TEXT(e_txt), DB_TEXT(s_txt)),
                  &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r)) {
        api_booking_format(a->tz, instant_of(db_res_text(r, 0)), cs);
        api_booking_format(a->tz, instant_of(db_res_text(r, 1)), ce);
        json_decref(conflict);
        conflict = json_pack("{s:s, s:s}", "start", cs, "end", ce);
    }
    rc = http_reply_json(req, 409,
                         json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code", "slot_taken",
                                   "message",
                                   "the professional already has an appointment at that time",
                                   "field", "start", "conflict", conflict));
    conflict = NULL;
    rc = err_set(e, ERR_DB_OVERLAP, "slot taken");

cleanup:
    json_decref(conflict);
    db_res_free(r);
    return rc;
}

/*
 * What a booking needs to know, in one statement of small scalar
 * subqueries (cheaper to plan than one join of six tables, and one round
 * trip instead of two): each id exists in the tenant (NULL: missing) and is
 * active, the professional offers the service and works at the branch (it
 * is their branch, they have none, or they have working hours of their own
 * there), the branch's zone, and the working-hours rows that may apply,
 * as "user_id day start end,..." (user_id 0: the branch's default).
 * string_agg is group_concat in SQLite: the two texts side by side.
 */
#define REFS_SQL(AGG)                                                                              \
    "SELECT (SELECT active FROM services WHERE tenant_id = $1 AND id = $2), "                      \
    "(SELECT duration_min FROM services WHERE tenant_id = $1 AND id = $2), "                       \
    "(SELECT price_cents FROM services WHERE tenant_id = $1 AND id = $2), "                        \
    "(SELECT active FROM branches WHERE tenant_id = $1 AND id = $3), "                             \
    "(SELECT COALESCE(b.timezone, t.timezone) FROM branches b JOIN tenants t "                     \
    "ON t.id = b.tenant_id WHERE b.tenant_id = $1 AND b.id = $3), "                                \
    "(SELECT active FROM clients WHERE tenant_id = $1 AND id = $4), "                              \
    "(SELECT active FROM users WHERE tenant_id = $1 AND id = $5), "                                \
    "EXISTS (SELECT 1 FROM service_professionals WHERE tenant_id = $1 AND service_id = $2 "        \
    "AND user_id = $5), "                                                                          \
    "EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $5 "                                \
    "AND (branch_id IS NULL OR branch_id = $3)) OR EXISTS (SELECT 1 FROM working_hours "           \
    "WHERE tenant_id = $1 AND branch_id = $3 AND user_id = $5), "                                  \
    "(SELECT " AGG "(CAST(COALESCE(user_id, 0) AS TEXT) || ' ' || CAST(day_of_week AS TEXT) "      \
    "|| ' ' || start_time || ' ' || end_time, ',') FROM working_hours "                            \
    "WHERE tenant_id = $1 AND branch_id = $3 AND (user_id IS NULL OR user_id = $5))"

static const char *const refs_sql[] = {
    [DB_PG] = REFS_SQL("string_agg"),
    [DB_SQLITE] = REFS_SQL("group_concat"),
};

/* Rows "user_id day HH:MM HH:MM" separated by ',' into bh (bad ones skipped). */
static void hours_parse(const char *text, struct api_branch_hours *bh)
{
    const char *p = text;

    bh->rows = NULL;
    bh->n = 0;
    while (p != NULL && *p != '\0') {
        struct api_hours_row row;
        char start[8], end[8];
        long long user;
        int wday;

        if (sscanf(p, "%lld %d %5s %5s", &user, &wday, start, end) == 4) {
            row.user_id = user;
            row.h.wday = wday;
            row.h.start_min = slots_parse_hhmm(start);
            row.h.end_min = slots_parse_hhmm(end);
            if (wday >= 0 && wday <= 6 && row.h.start_min >= 0 && row.h.end_min > row.h.start_min) {
                bh->rows = xrealloc(bh->rows, (bh->n + 1) * sizeof(*bh->rows));
                bh->rows[bh->n++] = row;
            }
        }
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
}

/*
 * Check the ids (answering 404 / 409 itself), fill a->tz, *duration_min,
 * a->price_cents (when set_price), *at_branch and the hours rows *bh
 * (caller releases with api_branch_hours_release).
 */
static int check_refs(struct http_req *req, struct db *db, struct appt *a, bool set_price,
                      int64_t *duration_min, bool *at_branch, struct api_branch_hours *bh,
                      struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db, refs_sql[db_kind(db)],
                  DB_PARAMS(DB_INT(a->tenant_id), DB_INT(a->service_id), DB_INT(a->branch_id),
                            DB_INT(a->client_id), DB_INT(a->professional_id)),
                  &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_INTERNAL, "the booking checks returned no row");
        goto cleanup;
    }
    if (db_res_isnull(r, 0)) {
        rc = refuse(req, e, 404, "not_found", "service_id", "no service '%lld'",
                    (long long)a->service_id);
    } else if (db_res_isnull(r, 3)) {
        rc = refuse(req, e, 404, "not_found", "branch_id", "no branch '%lld'",
                    (long long)a->branch_id);
    } else if (db_res_isnull(r, 5)) {
        rc = refuse(req, e, 404, "not_found", "client_id", "no client '%lld'",
                    (long long)a->client_id);
    } else if (db_res_isnull(r, 6)) {
        rc = refuse(req, e, 404, "not_found", "professional_id", "no professional '%lld'",
                    (long long)a->professional_id);
    } else if (!db_res_bool(r, 0)) {
        rc = refuse(req, e, 409, "inactive", "service_id", "service '%lld' is deactivated",
                    (long long)a->service_id);
    } else if (!db_res_bool(r, 3)) {
        rc = refuse(req, e, 409, "inactive", "branch_id", "branch '%lld' is deactivated",
                    (long long)a->branch_id);
    } else if (!db_res_bool(r, 5)) {
        rc = refuse(req, e, 409, "inactive", "client_id", "client '%lld' is deactivated",
                    (long long)a->client_id);
    } else if (!db_res_bool(r, 6)) {
        rc = refuse(req, e, 409, "inactive", "professional_id",
                    "professional '%lld' is deactivated", (long long)a->professional_id);
    } else if (!db_res_bool(r, 7)) {
        rc = refuse(req, e, 409, "not_offered", "professional_id",
                    "professional '%lld' does not offer service '%lld'",
                    (long long)a->professional_id, (long long)a->service_id);
    } else if (db_res_int(r, 1) > MAX_DURATION_MIN) {
        rc = refuse(req, e, 400, "invalid", "service_id",
                    "service '%lld' lasts more than a day and cannot be booked",
                    (long long)a->service_id);
    } else {
        *duration_min = db_res_int(r, 1);
        if (set_price)
            a->price_cents = db_res_int(r, 2);
        snprintf(a->tz, sizeof(a->tz), "%s", db_res_text(r, 4) ? db_res_text(r, 4) : "UTC");
        *at_branch = db_res_bool(r, 8);
        hours_parse(db_res_text(r, 9), bh);
    }

cleanup:
    db_res_free(r);
    return rc;
}

/* Is [a->start, a->end) within the professional's working hours of that local day? */
static int check_hours(struct http_req *req, const struct appt *a,
                       const struct api_branch_hours *bh, struct err *e)
{
    struct slot_hours *rows = NULL;
    struct slot_span *spans = NULL;
    struct tz_local l;
    size_t nrows = 0, nspans = 0;
    int64_t day;
    int rc;

    rc = tz_utc_to_local(a->tz, a->start, &l, e);
    if (rc < 0)
        goto cleanup;
    day = tz_days_from_civil(l.y, l.mon, l.d);
    api_branch_hours_for(bh, a->professional_id, &rows, &nrows);
    rc = slots_working_spans(a->tz, day, day, rows, nrows, &spans, &nspans, e);
    if (rc < 0)
        goto cleanup;
    if (!slots_span_fits(spans, nspans, a->start, a->end))
        rc = refuse(req, e, 409, "outside_working_hours", "start",
                    "professional '%lld' does not work then", (long long)a->professional_id);

cleanup:
    free(spans);
    free(rows);
    return rc;
}

static bool may_override(const struct api_auth *au)
{
    return au->role == API_ROLE_ADMIN || au->role == API_ROLE_MANAGER;
}

/*
 * The checks of a booking or a reschedule, before its write: ids, hours,
 * not in the past.  Sets a->end (and the price when set_price).
 */
static int check_booking(struct http_req *req, struct db *db, struct appt *a, bool set_price,
                         int64_t keep_length, bool override, struct err *e)
{
    struct api_branch_hours bh = {0};
    int64_t duration_min = 0;
    bool at_branch = false;
    int rc;

    rc = check_refs(req, db, a, set_price, &duration_min, &at_branch, &bh, e);
    if (rc < 0)
        goto cleanup;
    a->end = a->start + (keep_length > 0 ? keep_length : duration_min * 60);
    if (override)
        goto cleanup;
    if (a->start < (int64_t)time(NULL)) {
        rc = refuse(req, e, 400, "invalid", "start", "'start' is in the past");
        goto cleanup;
    }
    if (!at_branch) {
        rc = refuse(req, e, 409, "outside_working_hours", "branch_id",
                    "professional '%lld' does not work at branch '%lld'",
                    (long long)a->professional_id, (long long)a->branch_id);
        goto cleanup;
    }
    rc = check_hours(req, a, &bh, e);

cleanup:
    api_branch_hours_release(&bh);
    return rc;
}

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
        reply_appt(req, 200, &a);
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
    if (override && !may_override(&au)) {
        rc = refuse(req, e, 403, "forbidden", "override_hours",
                    "only ADMIN and MANAGER may override working hours");
        goto cleanup;
    }
    if (key != NULL && !key_valid(key)) {
        rc = refuse(req, e, 400, "invalid", "Idempotency-Key",
                    "'Idempotency-Key' must be 1-%d visible ASCII characters", IDEMPOTENCY_KEY_MAX);
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
    rc = check_booking(req, db, &a, true, 0, override, e);
    if (rc < 0)
        goto cleanup;

    tz_format_instant(a.start, s_txt);
    tz_format_instant(a.end, e_txt);
    tz_format_instant(now, now_txt);
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
    if (rc < 0 && key != NULL && (e->code == ERR_DB_UNIQUE || e->code == ERR_DB_OVERLAP)) {
        /* A retry with the same key may have won the race: answer as the retry it is. */
        enum err_code code = e->code;
        rc = idempotent_reply(req, db, au.tenant_id, key, v, e);
        if (rc != 0)
            goto cleanup;
        rc = err_set(e, code, "booking refused");
    }
    if (rc < 0 && e->code == ERR_DB_OVERLAP) {
        rc = reply_slot_taken(req, db, &a, e);
        goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    rc = reply_appt(req, 201, &a);

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
    rc = reply_appt(req, 200, &a);

cleanup:
    appt_release(&a);
    return rc;
}

/* The status life cycle (booking.h). */
static bool transition_allowed(const char *from, const char *to)
{
    if (strcmp(from, to) == 0)
        return true;
    if (strcmp(from, "PENDING") == 0)
        return strcmp(to, "CONFIRMED") == 0 || strcmp(to, "CANCELLED") == 0 ||
               strcmp(to, "NO_SHOW") == 0;
    if (strcmp(from, "CONFIRMED") == 0)
        return strcmp(to, "COMPLETED") == 0 || strcmp(to, "CANCELLED") == 0 ||
               strcmp(to, "NO_SHOW") == 0;
    return false;
}

static bool is_open(const char *status)
{
    return strcmp(status, "PENDING") == 0 || strcmp(status, "CONFIRMED") == 0;
}

/*
 * Write the change from cur to next in one UPDATE that only applies while
 * the row still holds cur's values: two changes computed from the same
 * reading cannot both apply.  Answers the request.
 */
static int appt_write(struct http_req *req, struct db *db, const struct appt *cur,
                      struct appt *next, struct err *e)
{
    char s_txt[32], e_txt[32], cs_txt[32], now_txt[32];
    int64_t affected = 0;
    int rc;

    next->updated = (int64_t)time(NULL);
    tz_format_instant(next->start, s_txt);
    tz_format_instant(next->end, e_txt);
    tz_format_instant(cur->start, cs_txt);
    tz_format_instant(next->updated, now_txt);
    rc = db_exec_params(db,
                        "UPDATE appointments SET start_at = $1, end_at = $2, professional_id = $3, "
                        "status = $4, notes = $5, updated_at = $6 "
                        "WHERE tenant_id = $7 AND id = $8 AND status = $9 AND start_at = $10 "
                        "AND professional_id = $11",
                        DB_PARAMS(DB_TEXT(s_txt), DB_TEXT(e_txt), DB_INT(next->professional_id),
                                  DB_TEXT(next->status), DB_TEXT(next->notes), DB_TEXT(now_txt),
                                  DB_INT(cur->tenant_id), DB_INT(cur->id), DB_TEXT(cur->status),
                                  DB_TEXT(cs_txt), DB_INT(cur->professional_id)),
                        &affected, e);
    if (rc < 0 && e->code == ERR_DB_OVERLAP) {
        rc = reply_slot_taken(req, db, next, e);
        goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    if (affected == 0) {
        rc = refuse(req, e, 409, "conflict", NULL,
                    "appointment '%lld' changed meanwhile: read it again", (long long)cur->id);
        goto cleanup;
    }
    rc = reply_appt(req, 200, next);

cleanup:
    return rc;
}

/* A copy of a, owning its own strings. */
static void appt_copy(struct appt *dst, const struct appt *src)
{
    *dst = *src;
    dst->notes = dup_or_null(src->notes);
    dst->idempotency_key = dup_or_null(src->idempotency_key);
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
    if (override && !may_override(&au)) {
        rc = refuse(req, e, 403, "forbidden", "override_hours",
                    "only ADMIN and MANAGER may override working hours");
        goto cleanup;
    }
    if (pro && (v[U_START].present || v[U_PROFESSIONAL].present || v[U_NOTES].present)) {
        rc = refuse(req, e, 403, "forbidden", NULL,
                    "a professional may only mark an appointment COMPLETED or NO_SHOW");
        goto cleanup;
    }
    if (pro && v[U_STATUS].present && strcmp(v[U_STATUS].s, "COMPLETED") != 0 &&
        strcmp(v[U_STATUS].s, "NO_SHOW") != 0) {
        rc = refuse(req, e, 403, "forbidden", "status",
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
    if (v[U_PROFESSIONAL].present)
        next.professional_id = v[U_PROFESSIONAL].i;
    if (!transition_allowed(cur.status, next.status)) {
        rc = refuse(req, e, 409, "invalid_transition", "status",
                    "an appointment cannot go from %s to %s", cur.status, next.status);
        goto cleanup;
    }
    moved = next.start != cur.start || next.professional_id != cur.professional_id;
    if (moved) {
        if (!is_open(cur.status) || !is_open(next.status)) {
            rc = refuse(req, e, 409, "invalid_transition", "start",
                        "only a PENDING or CONFIRMED appointment can be rescheduled");
            goto cleanup;
        }
        rc = check_booking(req, db, &next, false, cur.end - cur.start, override, e);
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

int api_appointments_cancel(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct appt cur = {0}, next = {0};
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "appointments", API_ACT_UPDATE, &au) < 0)
        return 0;
    if (au.role == API_ROLE_PROFESSIONAL) {
        rc = refuse(req, e, 403, "forbidden", NULL,
                    "a professional may only mark an appointment COMPLETED or NO_SHOW");
        goto cleanup;
    }
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = appt_load(db, au.tenant_id, id, 0, &cur, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no appointment '%lld'", (long long)id);
        goto cleanup;
    }
    if (!is_open(cur.status)) {
        rc = refuse(req, e, 409, "invalid_transition", "status",
                    "an appointment cannot go from %s to CANCELLED", cur.status);
        goto cleanup;
    }
    appt_copy(&next, &cur);
    snprintf(next.status, sizeof(next.status), "CANCELLED");
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
        return refuse(req, e, 400, "invalid", name, "'%s' is required", name);
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
        return refuse(req, e, 400, "invalid", name,
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
            return refuse(req, e, 400, "invalid", name, "'%s' is out of range", name);
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
        rc = refuse(req, e, 400, "invalid", "to",
                    "'to' must come after 'from', at most %d days later", max_days);

cleanup:
    free(tz);
    return rc;
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
    int64_t from = 0, to = 0, pro_id = 0, branch_id = 0, client_id = 0, last_id = 0;
    bool has_pro = false, has_branch = false, has_client = false;
    int np = 0, count = 0, rc;

    if (api_auth_require(req, "appointments", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_page_parse(req, &page, e)) < 0 ||
        (rc = api_query_id(req, "professional_id", &pro_id, &has_pro, e)) < 0 ||
        (rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e)) < 0 ||
        (rc = api_query_id(req, "client_id", &client_id, &has_client, e)) < 0)
        goto cleanup;
    if (status != NULL) {
        bool known = false;
        for (int i = 0; status_choices[i] != NULL; i++)
            known = known || strcmp(status, status_choices[i]) == 0;
        if (!known) {
            rc = refuse(req, e, 400, "invalid", "status", "'status' is not a known status");
            goto cleanup;
        }
    }
    if (au.role == API_ROLE_PROFESSIONAL) {
        if (has_pro && pro_id != au.user_id) {
            rc = refuse(req, e, 403, "forbidden", "professional_id",
                        "a professional sees only their own appointments");
            goto cleanup;
        }
        has_pro = true;
        pro_id = au.user_id;
    }
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_booking_range(req, db, au.tenant_id, LIST_MAX_DAYS, &from, &to, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant(from, from_txt);
    tz_format_instant(to, to_txt);

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
