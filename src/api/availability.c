/*
 * availability — GET /api/v1/availability (see booking.h), and the
 * working-hours rows shared with appointments.c.
 *
 * A request costs four queries whatever the range: the service and branch,
 * the professionals, the branch's working hours, and every busy interval of
 * those professionals in the range (one query, on the index
 * appointments (professional_id, start_at)).  The rest is
 * domain/slots.c.  An appointment lasts at most a day (appointments.c
 * refuses longer ones), so the busy intervals that reach into the range
 * all start after the day before it: the lower bound keeps the index scan
 * short whatever the table's history.
 */
#include "api/booking.h"

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

#define AVAILABILITY_MAX_DAYS 62
#define DAY_S                 86400

int api_branch_hours_load(struct db *db, int64_t tenant_id, int64_t branch_id,
                          int64_t professional_id, struct api_branch_hours *out, struct err *e)
{
    struct db_res *r = NULL;
    size_t cap = 0;
    int rc;

    out->rows = NULL;
    out->n = 0;
    rc = db_query(db,
                  "SELECT user_id, day_of_week, start_time, end_time FROM working_hours "
                  "WHERE tenant_id = $1 AND branch_id = $2 "
                  "AND (user_id IS NULL OR user_id = $3 OR $3 = 0)",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(branch_id), DB_INT(professional_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r)) {
        struct api_hours_row row;

        row.user_id = db_res_isnull(r, 0) ? 0 : db_res_int(r, 0);
        row.h.wday = (int)db_res_int(r, 1);
        row.h.start_min = tz_parse_hhmm(db_res_text(r, 2));
        row.h.end_min = tz_parse_hhmm(db_res_text(r, 3));
        /* The schema's CHECKs make this impossible; a bad row must not void the others. */
        if (row.h.wday < 0 || row.h.wday > 6 || row.h.start_min < 0 ||
            row.h.end_min <= row.h.start_min)
            continue;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            out->rows = xrealloc(out->rows, cap * sizeof(*out->rows));
        }
        out->rows[out->n++] = row;
    }

cleanup:
    db_res_free(r);
    return rc;
}

void api_branch_hours_release(struct api_branch_hours *bh)
{
    free(bh->rows);
    bh->rows = NULL;
    bh->n = 0;
}

void api_branch_hours_for(const struct api_branch_hours *bh, int64_t professional_id,
                          struct slot_hours **out, size_t *n)
{
    bool own = false;
    int64_t want;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < bh->n && !own; i++)
        own = bh->rows[i].user_id == professional_id;
    want = own ? professional_id : 0;
    for (size_t i = 0; i < bh->n; i++) {
        if (bh->rows[i].user_id != want)
            continue;
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = bh->rows[i].h;
    }
}

int api_branch_hours_fits(const struct api_branch_hours *bh, int64_t professional_id,
                          const char *tz, int64_t start, int64_t end, bool *out, struct err *e)
{
    struct slot_hours *rows = NULL;
    struct slot_span *spans = NULL;
    struct tz_local l;
    size_t nrows = 0, nspans = 0;
    int64_t day;
    int rc;

    rc = tz_utc_to_local(tz, start, &l, e);
    if (rc < 0)
        goto cleanup;
    day = tz_days_from_civil(l.y, l.mon, l.d);
    api_branch_hours_for(bh, professional_id, &rows, &nrows);
    rc = slots_working_spans(tz, day, day, rows, nrows, &spans, &nspans, e);
    if (rc < 0)
        goto cleanup;
    *out = slots_span_fits(spans, nspans, start, end);

cleanup:
    free(spans);
    free(rows);
    return rc;
}

void api_free_times_free(struct api_free_pro *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].first_name);
        free(p[i].last_name);
        free(p[i].work);
        free(p[i].busy);
        free(p[i].starts);
    }
    free(p);
}

/* A required date of the query string, as days since 1970-01-01; answers 400 itself. */
static int query_date(struct http_req *req, const char *name, int64_t *out, struct err *e)
{
    const char *s = http_req_query(req, name);
    int y, m, d;

    if (s == NULL)
        return api_reply_invalid(req, e, name, "'%s' is required", name);
    if (api_date_parse(s, &y, &m, &d) < 0)
        return api_reply_invalid(req, e, name, "'%s' must be a date (YYYY-MM-DD)", name);
    *out = tz_days_from_civil(y, m, d);
    return 0;
}

static int query_required_id(struct http_req *req, const char *name, int64_t *out, struct err *e)
{
    bool present = false;
    int rc = api_query_id(req, name, out, &present, e);

    if (rc == 0 && !present)
        rc = api_reply_invalid(req, e, name, "'%s' is required", name);
    return rc;
}

/* The service's length and the branch's zone; answers 404 / 409 itself. */
static int load_service_branch(struct http_req *req, struct db *db, int64_t tenant_id,
                               int64_t service_id, int64_t branch_id, int64_t *duration_min,
                               char tz[64], struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db,
                  "SELECT s.id, s.active, s.duration_min, b.id, b.active, "
                  "COALESCE(b.timezone, t.timezone) FROM tenants t "
                  "LEFT JOIN services s ON s.tenant_id = t.id AND s.id = $2 "
                  "LEFT JOIN branches b ON b.tenant_id = t.id AND b.id = $3 "
                  "WHERE t.id = $1",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(service_id), DB_INT(branch_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_NOT_FOUND, "no tenant '%lld'", (long long)tenant_id);
    } else if (db_res_isnull(r, 0)) {
        http_reply_error(req, 404, "not_found", "service_id", "no service '%lld'",
                         (long long)service_id);
        rc = err_set(e, ERR_NOT_FOUND, "no service");
    } else if (db_res_isnull(r, 3)) {
        http_reply_error(req, 404, "not_found", "branch_id", "no branch '%lld'",
                         (long long)branch_id);
        rc = err_set(e, ERR_NOT_FOUND, "no branch");
    } else if (!db_res_bool(r, 1) || !db_res_bool(r, 4)) {
        http_reply_error(req, 409, "inactive", db_res_bool(r, 1) ? "branch_id" : "service_id",
                         "the %s is deactivated", db_res_bool(r, 1) ? "branch" : "service");
        rc = err_set(e, ERR_USAGE, "inactive");
    } else {
        *duration_min = db_res_int(r, 2);
        snprintf(tz, 64, "%s", db_res_text(r, 5) ? db_res_text(r, 5) : "UTC");
    }

cleanup:
    db_res_free(r);
    return rc;
}

/*
 * The active professionals of the tenant who offer the service and work at
 * this branch: it is their branch, they have none, or they have working
 * hours of their own there (the same rule as a booking's).
 */
static int load_pros(struct db *db, int64_t tenant_id, int64_t service_id, int64_t branch_id,
                     int64_t only_id, struct api_free_pro **out, size_t *n, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    rc = db_query(
        db,
        "SELECT u.id, u.first_name, u.last_name FROM service_professionals sp "
        "JOIN users u ON u.id = sp.user_id AND u.tenant_id = sp.tenant_id "
        "WHERE sp.tenant_id = $1 AND sp.service_id = $2 AND u.active "
        "AND (u.branch_id IS NULL OR u.branch_id = $3 OR EXISTS (SELECT 1 FROM "
        "working_hours wh WHERE wh.tenant_id = $1 AND wh.branch_id = $3 "
        "AND wh.user_id = u.id)) "
        "AND (u.id = $4 OR $4 = 0) ORDER BY u.id",
        DB_PARAMS(DB_INT(tenant_id), DB_INT(service_id), DB_INT(branch_id), DB_INT(only_id)), &r,
        e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r)) {
        struct api_free_pro *p;

        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        p = &(*out)[(*n)++];
        memset(p, 0, sizeof(*p));
        p->id = db_res_int(r, 0);
        p->first_name = xstrdup(db_res_text(r, 1) ? db_res_text(r, 1) : "");
        p->last_name = xstrdup(db_res_text(r, 2) ? db_res_text(r, 2) : "");
    }

cleanup:
    db_res_free(r);
    return rc;
}

static struct api_free_pro *pro_find(struct api_free_pro *p, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].id == id)
            return &p[i];
    return NULL;
}

/* Rows (professional, start, end) of r into the busy intervals of their professional. */
static void add_busy_rows(struct db_res *r, struct api_free_pro *pros, size_t npros)
{
    while (db_res_next(r)) {
        struct api_free_pro *p = pro_find(pros, npros, db_res_int(r, 0));
        struct slot_span s;

        if (p == NULL || tz_parse_instant(db_res_text(r, 1), &s.start) < 0 ||
            tz_parse_instant(db_res_text(r, 2), &s.end) < 0)
            continue;
        if (p->nbusy == p->capbusy) {
            p->capbusy = p->capbusy ? 2 * p->capbusy : 32;
            p->busy = xrealloc(p->busy, p->capbusy * sizeof(*p->busy));
        }
        p->busy[p->nbusy++] = s;
    }
}

/*
 * Every busy interval of the professionals in [lo, hi), in one query:
 * the appointments that hold their slot (the no-overlap rule's statuses).
 */
static int load_busy(struct db *db, int64_t tenant_id, int64_t service_id, int64_t only_id,
                     int64_t except_id, int64_t lo, int64_t hi, struct api_free_pro *pros,
                     size_t npros, struct err *e)
{
    static const char *const sql_one =
        "SELECT professional_id, start_at, end_at FROM appointments "
        "WHERE professional_id = $2 AND tenant_id = $1 "
        "AND status IN ('PENDING', 'CONFIRMED', 'COMPLETED') "
        "AND start_at >= $3 AND start_at < $4 AND end_at > $5 AND id <> $6";
    static const char *const sql_all =
        "SELECT professional_id, start_at, end_at FROM appointments "
        "WHERE professional_id IN (SELECT user_id FROM service_professionals "
        "WHERE tenant_id = $1 AND service_id = $2) AND tenant_id = $1 "
        "AND status IN ('PENDING', 'CONFIRMED', 'COMPLETED') "
        "AND start_at >= $3 AND start_at < $4 AND end_at > $5 AND id <> $6";
    char from_day[32], hi_txt[32], lo_txt[32];
    struct db_res *r = NULL;
    int rc;

    tz_format_instant(lo - DAY_S, from_day);
    tz_format_instant(hi, hi_txt);
    tz_format_instant(lo, lo_txt);
    rc = db_query(db, only_id > 0 ? sql_one : sql_all,
                  DB_PARAMS(DB_INT(tenant_id), only_id > 0 ? DB_INT(only_id) : DB_INT(service_id),
                            DB_TEXT(from_day), DB_TEXT(hi_txt), DB_TEXT(lo_txt), DB_INT(except_id)),
                  &r, e);
    if (rc < 0)
        goto cleanup;
    add_busy_rows(r, pros, npros);

cleanup:
    db_res_free(r);
    return rc;
}

/* The time off of the professionals (one, or all) reaching into [lo, hi): busy too. */
static int load_time_off(struct db *db, int64_t tenant_id, int64_t only_id, int64_t lo, int64_t hi,
                         struct api_free_pro *pros, size_t npros, struct err *e)
{
    char hi_txt[32], lo_txt[32];
    struct db_res *r = NULL;
    int rc;

    tz_format_instant(hi, hi_txt);
    tz_format_instant(lo, lo_txt);
    rc = db_query(db,
                  "SELECT user_id, start_at, end_at FROM time_off WHERE tenant_id = $1 "
                  "AND (user_id = $2 OR $2 = 0) AND start_at < $3 AND end_at > $4",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(only_id), DB_TEXT(hi_txt), DB_TEXT(lo_txt)),
                  &r, e);
    if (rc == 0)
        add_busy_rows(r, pros, npros);
    db_res_free(r);
    return rc;
}

/*
 * The start times as RFC 3339 in zone tz.  The offset is asked of the tz
 * library once per end of each span, and per start only within a span
 * whose two ends differ (a daylight-saving change inside working hours).
 */
static json_t *slots_json(const char *tz, const struct slot_span *work, size_t nwork,
                          const int64_t *starts, size_t n)
{
    json_t *a = json_array();
    size_t w = 0;
    int off_lo = 0, off_hi = 0;
    size_t off_for = (size_t)-1;
    struct tz_local l;
    struct err e;

    for (size_t i = 0; i < n; i++) {
        char buf[32];
        int off = 0;

        while (w < nwork && work[w].end <= starts[i])
            w++;
        if (w < nwork && off_for != w) {
            off_lo = tz_utc_to_local(tz, work[w].start, &l, &e) == 0 ? l.offset : 0;
            off_hi = tz_utc_to_local(tz, work[w].end, &l, &e) == 0 ? l.offset : 0;
            off_for = w;
        }
        if (w < nwork && off_lo == off_hi)
            off = off_lo;
        else
            off = tz_utc_to_local(tz, starts[i], &l, &e) == 0 ? l.offset : 0;
        slots_format_rfc3339(starts[i], off, buf);
        json_array_append_new(a, json_string(buf));
    }
    return a;
}

int api_free_times(struct db *db, const struct api_free_query *q, struct api_free_pro **out,
                   size_t *nout, struct err *e)
{
    struct api_branch_hours bh = {0};
    struct slot_hours *rows = NULL;
    struct api_free_pro *pros = NULL;
    size_t npros = 0, nrows = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int rc;

    *out = NULL;
    *nout = 0;
    rc = load_pros(db, q->tenant_id, q->service_id, q->branch_id, q->only_id, &pros, &npros, e);
    if (rc < 0)
        goto cleanup;
    rc = api_branch_hours_load(db, q->tenant_id, q->branch_id, q->only_id, &bh, e);
    if (rc < 0)
        goto cleanup;
    for (size_t i = 0; i < npros; i++) {
        free(rows);
        api_branch_hours_for(&bh, pros[i].id, &rows, &nrows);
        rc = slots_working_spans(q->tz, q->first_day, q->last_day, rows, nrows, &pros[i].work,
                                 &pros[i].nwork, e);
        if (rc < 0)
            goto cleanup;
        if (pros[i].nwork > 0) {
            lo = pros[i].work[0].start < lo ? pros[i].work[0].start : lo;
            hi =
                pros[i].work[pros[i].nwork - 1].end > hi ? pros[i].work[pros[i].nwork - 1].end : hi;
        }
    }
    if (lo < hi) {
        rc = load_busy(db, q->tenant_id, q->service_id, q->only_id, q->except_id, lo, hi, pros,
                       npros, e);
        if (rc == 0)
            rc = load_time_off(db, q->tenant_id, q->only_id, lo, hi, pros, npros, e);
        if (rc < 0)
            goto cleanup;
    }
    for (size_t i = 0; i < npros; i++)
        pros[i].nstarts =
            slots_free_starts(pros[i].work, pros[i].nwork, pros[i].busy, pros[i].nbusy,
                              q->duration_s, q->step_s, q->not_before, &pros[i].starts);
    *out = pros;
    *nout = npros;
    pros = NULL;
    npros = 0;

cleanup:
    free(rows);
    api_free_times_free(pros, npros);
    api_branch_hours_release(&bh);
    return rc;
}

int api_availability_get(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct api_free_pro *pros = NULL;
    struct api_free_query q = {0};
    struct db *db = NULL;
    json_t *list = NULL;
    char tz[64];
    size_t npros = 0;
    int64_t service_id = 0, branch_id = 0, only_id = 0, first = 0, last = 0, duration_min = 0;
    int64_t except_id = 0;
    bool has_pro = false, has_except = false;
    int rc;

    if (api_auth_require(req, "availability", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = query_required_id(req, "service_id", &service_id, e)) < 0 ||
        (rc = query_required_id(req, "branch_id", &branch_id, e)) < 0 ||
        (rc = api_query_id(req, "professional_id", &only_id, &has_pro, e)) < 0 ||
        (rc = api_query_id(req, "exclude_appointment_id", &except_id, &has_except, e)) < 0 ||
        (rc = query_date(req, "from", &first, e)) < 0 || (rc = query_date(req, "to", &last, e)) < 0)
        goto cleanup;
    /* A PROFESSIONAL plans its own time only. */
    if (au.role == API_ROLE_PROFESSIONAL) {
        if (has_pro && only_id != au.user_id) {
            http_reply_error(req, 403, "forbidden", "professional_id",
                             "the role 'PROFESSIONAL' sees its own availability only");
            rc = err_set(e, ERR_USAGE, "professional refused");
            goto cleanup;
        }
        only_id = au.user_id;
        has_pro = true;
    }
    if (last < first || last - first + 1 > AVAILABILITY_MAX_DAYS) {
        rc = api_reply_invalid(req, e, "to", "'to' must not be before 'from', at most %d days",
                               AVAILABILITY_MAX_DAYS);
        goto cleanup;
    }
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = load_service_branch(req, db, au.tenant_id, service_id, branch_id, &duration_min, tz, e);
    if (rc < 0)
        goto cleanup;
    /* a reschedule: the appointment being moved is no obstacle to itself */
    if (has_except) {
        rc = api_row_exists(db, "appointments", except_id, au.tenant_id, e);
        if (rc < 0)
            goto cleanup;
        if (rc == 0) {
            http_reply_error(req, 404, "not_found", "exclude_appointment_id",
                             "no appointment '%lld'", (long long)except_id);
            rc = err_set(e, ERR_NOT_FOUND, "no appointment");
            goto cleanup;
        }
    }
    q = (struct api_free_query){
        .tenant_id = au.tenant_id,
        .service_id = service_id,
        .branch_id = branch_id,
        .only_id = only_id,
        .except_id = except_id,
        .tz = tz,
        .duration_s = duration_min * 60,
        .first_day = first,
        .last_day = last,
        .step_s = SLOTS_STEP_S,
        .not_before = (int64_t)time(NULL),
    };
    rc = api_free_times(db, &q, &pros, &npros, e);
    if (rc < 0)
        goto cleanup;
    if (has_pro && npros == 0) {
        rc = api_row_exists(db, "users", only_id, au.tenant_id, e);
        if (rc < 0)
            goto cleanup;
        if (rc == 0)
            http_reply_error(req, 404, "not_found", "professional_id", "no professional '%lld'",
                             (long long)only_id);
        else
            http_reply_error(req, 409, "not_offered", "professional_id",
                             "professional '%lld' does not offer service '%lld' at branch '%lld'",
                             (long long)only_id, (long long)service_id, (long long)branch_id);
        rc = err_set(e, ERR_USAGE, "professional refused");
        goto cleanup;
    }

    list = json_array();
    for (size_t i = 0; i < npros; i++) {
        json_t *slots =
            slots_json(tz, pros[i].work, pros[i].nwork, pros[i].starts, pros[i].nstarts);

        json_array_append_new(list,
                              json_pack("{s:I, s:s, s:s, s:o}", "professional_id",
                                        (json_int_t)pros[i].id, "first_name", pros[i].first_name,
                                        "last_name", pros[i].last_name, "slots", slots));
    }
    rc = http_reply_json(req, 200,
                         json_pack("{s:I, s:I, s:s, s:I, s:i, s:o}", "service_id",
                                   (json_int_t)service_id, "branch_id", (json_int_t)branch_id,
                                   "timezone", tz, "duration_min", (json_int_t)duration_min,
                                   "step_min", SLOTS_STEP_S / 60, "professionals", list));
    list = NULL;

cleanup:
    json_decref(list);
    api_free_times_free(pros, npros);
    return rc;
}
