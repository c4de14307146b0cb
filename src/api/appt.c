/*
 * appt — the appointment model and the booking checks (see appt.h).
 */
#include "api/appt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/booking.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"
#include "domain/slots.h"
#include "notify/notify.h"

/* The statuses whose appointment holds its slot (the no-overlap rule's WHERE). */
#define BLOCKING_SQL "('PENDING', 'CONFIRMED', 'COMPLETED')"

void appt_release(struct appt *a)
{
    free(a->notes);
    free(a->idempotency_key);
    free(a->cancel_reason);
    a->notes = NULL;
    a->idempotency_key = NULL;
    a->cancel_reason = NULL;
}

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

void appt_from_row(const struct db_res *r, struct appt *a)
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
    snprintf(a->source, sizeof(a->source), "%s",
             db_res_text(r, 16) != NULL ? db_res_text(r, 16) : "staff");
    a->cancel_reason = dup_or_null(db_res_text(r, 17));
    a->cancelled_at = instant_of(db_res_text(r, 18));
    snprintf(a->cancelled_from, sizeof(a->cancelled_from), "%s",
             db_res_text(r, 19) != NULL ? db_res_text(r, 19) : "");
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
json_t *appt_json(const struct appt *a)
{
    char start[32], end[32], created[32], updated[32], cancelled[32];

    api_booking_format(a->tz, a->start, start);
    api_booking_format(a->tz, a->end, end);
    api_booking_format(a->tz, a->created, created);
    api_booking_format(a->tz, a->updated, updated);
    api_booking_format(a->tz, a->cancelled_at, cancelled);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:s, "
                     "s:s, s:s, s:s, s:o, s:o, s:o}",
                     "id", (json_int_t)a->id, "tenant_id", (json_int_t)a->tenant_id, "branch_id",
                     (json_int_t)a->branch_id, "client_id", (json_int_t)a->client_id, "service_id",
                     (json_int_t)a->service_id, "professional_id", (json_int_t)a->professional_id,
                     "start_at", start, "end_at", end, "status", a->status, "price_cents",
                     (json_int_t)a->price_cents, "notes", str_or_null(a->notes), "idempotency_key",
                     str_or_null(a->idempotency_key), "created_by", int_or_null(a->created_by),
                     "created_at", created, "updated_at", updated, "timezone", a->tz, "source",
                     a->source[0] != '\0' ? a->source : "staff", "cancel_reason",
                     str_or_null(a->cancel_reason), "cancelled_at",
                     a->cancelled_at != 0 ? json_string(cancelled) : json_null(), "cancelled_from",
                     a->cancelled_from[0] != '\0' ? json_string(a->cancelled_from) : json_null());
}

int appt_reply(struct http_req *req, int status, const struct appt *a)
{
    return http_reply_json(req, status, appt_json(a));
}

int appt_refuse(struct http_req *req, struct err *e, int status, const char *code,
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

int appt_list_scope(struct http_req *req, const struct api_auth *au, int64_t *pro_id, bool *has_pro,
                    const char **source, struct err *e)
{
    int rc = api_query_id(req, "professional_id", pro_id, has_pro, e);

    if (rc < 0)
        return rc;
    *source = http_req_query(req, "source");
    if (*source != NULL && strcmp(*source, "online") != 0 && strcmp(*source, "staff") != 0)
        return appt_refuse(req, e, 400, "invalid", "source", "'source' must be online or staff");
    if (au->role == API_ROLE_PROFESSIONAL) {
        if (*has_pro && *pro_id != au->user_id)
            return appt_refuse(req, e, 403, "forbidden", "professional_id",
                               "a professional sees only their own appointments");
        *has_pro = true;
        *pro_id = au->user_id;
    }
    return 0;
}

/* Read one appointment of the tenant (and of that professional when > 0). 1 found, 0 not. */
int appt_load(struct db *db, int64_t tenant_id, int64_t id, int64_t professional_id,
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
int appt_reply_slot_taken(struct http_req *req, struct db *db, const struct appt *a, struct err *e)
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
            row.h.start_min = tz_parse_hhmm(start);
            row.h.end_min = tz_parse_hhmm(end);
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
 * a->price_cents (APPT_CHECK_SET_PRICE), *at_branch and the hours rows *bh
 * (caller releases with api_branch_hours_release).
 */
static int check_refs(struct http_req *req, struct db *db, struct appt *a, unsigned flags,
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
        rc = appt_refuse(req, e, 404, "not_found", "service_id", "no service '%lld'",
                         (long long)a->service_id);
    } else if (db_res_isnull(r, 3)) {
        rc = appt_refuse(req, e, 404, "not_found", "branch_id", "no branch '%lld'",
                         (long long)a->branch_id);
    } else if (db_res_isnull(r, 5)) {
        rc = appt_refuse(req, e, 404, "not_found", "client_id", "no client '%lld'",
                         (long long)a->client_id);
    } else if (db_res_isnull(r, 6)) {
        rc = appt_refuse(req, e, 404, "not_found", "professional_id", "no professional '%lld'",
                         (long long)a->professional_id);
    } else if (!db_res_bool(r, 0)) {
        rc = appt_refuse(req, e, 409, "inactive", "service_id", "service '%lld' is deactivated",
                         (long long)a->service_id);
    } else if (!db_res_bool(r, 3)) {
        rc = appt_refuse(req, e, 409, "inactive", "branch_id", "branch '%lld' is deactivated",
                         (long long)a->branch_id);
    } else if (!db_res_bool(r, 5)) {
        rc = appt_refuse(req, e, 409, "inactive", "client_id", "client '%lld' is deactivated",
                         (long long)a->client_id);
    } else if (!db_res_bool(r, 6)) {
        rc = appt_refuse(req, e, 409, "inactive", "professional_id",
                         "professional '%lld' is deactivated", (long long)a->professional_id);
    } else if (!db_res_bool(r, 7)) {
        rc = appt_refuse(req, e, 409,
                         flags & APPT_CHECK_NEW_PRO ? "professional_unavailable" : "not_offered",
                         "professional_id", "professional '%lld' does not offer service '%lld'",
                         (long long)a->professional_id, (long long)a->service_id);
    } else if (db_res_int(r, 1) > APPT_MAX_DURATION_MIN) {
        rc = appt_refuse(req, e, 400, "invalid", "service_id",
                         "service '%lld' lasts more than a day and cannot be booked",
                         (long long)a->service_id);
    } else {
        *duration_min = db_res_int(r, 1);
        if (flags & APPT_CHECK_SET_PRICE)
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
    bool fits = false;
    int rc = api_branch_hours_fits(bh, a->professional_id, a->tz, a->start, a->end, &fits, e);

    if (rc == 0 && !fits)
        rc = appt_refuse(req, e, 409, "outside_working_hours", "start",
                         "professional '%lld' does not work then", (long long)a->professional_id);
    return rc;
}

/* Is the professional away (time_off) during [a->start, a->end)?  Not even an override books it. */
static int check_time_off(struct http_req *req, struct db *db, const struct appt *a, struct err *e)
{
    char s_txt[32], e_txt[32];
    int64_t id = 0;
    int rc;

    tz_format_instant(a->start, s_txt);
    tz_format_instant(a->end, e_txt);
    rc = db_query_int(
        db,
        "SELECT id FROM time_off WHERE tenant_id = $1 AND user_id = $2 "
        "AND start_at < $3 AND end_at > $4 LIMIT 1",
        DB_PARAMS(DB_INT(a->tenant_id), DB_INT(a->professional_id), DB_TEXT(e_txt), DB_TEXT(s_txt)),
        &id, e);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return appt_refuse(req, e, 409, "professional_unavailable", "professional_id",
                           "professional '%lld' is away (time off) then",
                           (long long)a->professional_id);
    return 0;
}

bool appt_may_override(const struct api_auth *au)
{
    return au->role == API_ROLE_ADMIN || au->role == API_ROLE_MANAGER;
}

/*
 * The checks of a booking or a reschedule, before its write: ids, hours,
 * not in the past.  Sets a->end (and the price: APPT_CHECK_SET_PRICE).
 */
int appt_check_booking(struct http_req *req, struct db *db, struct appt *a, unsigned flags,
                       int64_t keep_length, bool override, struct err *e)
{
    struct api_branch_hours bh = {0};
    int64_t duration_min = 0;
    bool at_branch = false;
    int rc;

    rc = check_refs(req, db, a, flags, &duration_min, &at_branch, &bh, e);
    if (rc < 0)
        goto cleanup;
    a->end = a->start + (keep_length > 0 ? keep_length : duration_min * 60);
    rc = check_time_off(req, db, a, e);
    if (rc < 0 || override)
        goto cleanup;
    if (a->start < (int64_t)time(NULL)) {
        rc = appt_refuse(req, e, 400, "invalid", "start", "'start' is in the past");
        goto cleanup;
    }
    if (!at_branch) {
        rc = appt_refuse(req, e, 409,
                         flags & APPT_CHECK_NEW_PRO ? "professional_unavailable"
                                                    : "outside_working_hours",
                         "branch_id", "professional '%lld' does not work at branch '%lld'",
                         (long long)a->professional_id, (long long)a->branch_id);
        goto cleanup;
    }
    rc = check_hours(req, a, &bh, e);

cleanup:
    api_branch_hours_release(&bh);
    return rc;
}

/* The status life cycle (booking.h). */
bool appt_transition_allowed(const char *from, const char *to)
{
    if (strcmp(from, to) == 0)
        return true;
    /* a walk-in is booked, done and paid: PENDING may be COMPLETED directly */
    if (strcmp(from, "PENDING") == 0)
        return strcmp(to, "CONFIRMED") == 0 || strcmp(to, "COMPLETED") == 0 ||
               strcmp(to, "CANCELLED") == 0 || strcmp(to, "NO_SHOW") == 0;
    if (strcmp(from, "CONFIRMED") == 0)
        return strcmp(to, "COMPLETED") == 0 || strcmp(to, "CANCELLED") == 0 ||
               strcmp(to, "NO_SHOW") == 0;
    return false;
}

bool appt_is_open(const char *status)
{
    return strcmp(status, "PENDING") == 0 || strcmp(status, "CONFIRMED") == 0;
}

/*
 * Write the change from cur to next in one UPDATE that only applies while
 * the row still holds cur's values: two changes computed from the same
 * reading cannot both apply.  Answers the request.
 */
int appt_write(struct http_req *req, struct db *db, const struct appt *cur, struct appt *next,
               struct err *e)
{
    char s_txt[32], e_txt[32], cs_txt[32], ce_txt[32], now_txt[32], ca_txt[32];
    int64_t affected = 0;
    int rc;

    next->updated = (int64_t)time(NULL);
    /* a cancellation remembers when and from what; leaving CANCELLED forgets it */
    if (strcmp(next->status, "CANCELLED") == 0 && strcmp(cur->status, "CANCELLED") != 0) {
        next->cancelled_at = next->updated;
        snprintf(next->cancelled_from, sizeof(next->cancelled_from), "%s", cur->status);
    } else if (strcmp(next->status, "CANCELLED") != 0) {
        next->cancelled_at = 0;
        next->cancelled_from[0] = '\0';
        free(next->cancel_reason);
        next->cancel_reason = NULL;
    }
    tz_format_instant(next->cancelled_at, ca_txt);
    tz_format_instant(next->start, s_txt);
    tz_format_instant(next->end, e_txt);
    tz_format_instant(cur->start, cs_txt);
    tz_format_instant(cur->end, ce_txt);
    tz_format_instant(next->updated, now_txt);
    /* the change and its messages (notify.h) commit together, or neither does */
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_exec_params(
        db,
        "UPDATE appointments SET start_at = $1, end_at = $2, professional_id = $3, "
        "status = $4, notes = $5, updated_at = $6, cancel_reason = $12, "
        "cancelled_at = $13, cancelled_from = $14 "
        "WHERE tenant_id = $7 AND id = $8 AND status = $9 AND start_at = $10 "
        "AND professional_id = $11 AND end_at = $15",
        DB_PARAMS(DB_TEXT(s_txt), DB_TEXT(e_txt), DB_INT(next->professional_id),
                  DB_TEXT(next->status), DB_TEXT(next->notes), DB_TEXT(now_txt),
                  DB_INT(cur->tenant_id), DB_INT(cur->id), DB_TEXT(cur->status), DB_TEXT(cs_txt),
                  DB_INT(cur->professional_id), DB_TEXT(next->cancel_reason),
                  next->cancelled_at != 0 ? DB_TEXT(ca_txt) : DB_NULL,
                  next->cancelled_from[0] != '\0' ? DB_TEXT(next->cancelled_from) : DB_NULL,
                  DB_TEXT(ce_txt)),
        &affected, e);
    if (rc == 0 && affected == 1)
        rc = notify_appointment_changed(
            db, ((struct api_worker *)http_req_worker(req))->app->cfg, cur->tenant_id, cur->id,
            notify_event_of(cur->status, cur->start, cur->professional_id, next->status,
                            next->start, next->professional_id),
            NULL, e);
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0)
        db_rollback(db);
    if (rc < 0 && e->code == ERR_DB_OVERLAP) {
        rc = appt_reply_slot_taken(req, db, next, e);
        goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    if (affected == 0) {
        rc = appt_refuse(req, e, 409, "conflict", NULL,
                         "appointment '%lld' changed meanwhile: read it again", (long long)cur->id);
        goto cleanup;
    }
    rc = appt_reply(req, 200, next);

cleanup:
    return rc;
}

/* A copy of a, owning its own strings. */
void appt_copy(struct appt *dst, const struct appt *src)
{
    *dst = *src;
    dst->notes = dup_or_null(src->notes);
    dst->idempotency_key = dup_or_null(src->idempotency_key);
    dst->cancel_reason = dup_or_null(src->cancel_reason);
}
