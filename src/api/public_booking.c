/*
 * public_booking — the salon's page data, its free times and the booking
 * itself, for clients without an account (see public.h).
 *
 * A booking is one INSERT guarded by the database's no-overlap rule, like a
 * staff booking: of two clients racing for one time, one gets it and the
 * other a 409 slot_taken.  The client is found by the E.164 number within
 * the tenant and never duplicated; an anonymous visitor never changes a
 * client's record (another name on a known number becomes a note of the
 * appointment for the reception), and the answer is the same whether the
 * number was known or not.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/booking.h"
#include "api/public.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"
#include "domain/phone.h"

#define DAY_S           86400
#define IDEMPOTENCY_MAX 200
#define KEY_WAIT_TRIES  50 /* x 100 ms: how long a retry waits for its twin in flight */
#define CLIENT_NAME_MAX 100

/* The branch of the request's link; answers 404 itself (0 found, negative otherwise). */
static int link_branch(struct http_req *req, struct db **db, struct online_branch *b, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    int rc;

    memset(b, 0, sizeof(*b));
    rc = api_worker_db(w, db, e);
    if (rc < 0)
        return rc;
    rc =
        online_branch_load(*db, http_req_param(req, "tenant"), http_req_param(req, "branch"), b, e);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        http_reply_error(req, 404, "not_found", NULL, "there is no online booking at this address");
        return err_set(e, ERR_NOT_FOUND, "no online booking there");
    }
    return 0;
}

/* The local day (days since 1970-01-01) of instant t in zone tz. */
static int64_t local_day(const char *tz, int64_t t)
{
    struct tz_local l;
    struct err e;

    if (tz_utc_to_local(tz, t, &l, &e) < 0)
        return t / DAY_S;
    return tz_days_from_civil(l.y, l.mon, l.d);
}

int public_service(struct db *db, const struct online_branch *b, int64_t service_id,
                   int64_t *duration_min, int64_t *price_cents, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db,
                  "SELECT duration_min, price_cents FROM services WHERE tenant_id = $1 AND id = $2 "
                  "AND active AND online_bookable AND duration_min <= 1440",
                  DB_PARAMS(DB_INT(b->tenant_id), DB_INT(service_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (db_res_next(r)) {
        *duration_min = db_res_int(r, 0);
        *price_cents = db_res_int(r, 1);
        rc = 1;
    }

cleanup:
    db_res_free(r);
    return rc;
}

int public_check_window(struct http_req *req, const struct online_rules *r, int64_t start,
                        struct err *e)
{
    int64_t now = (int64_t)time(NULL);

    if (start < now + (int64_t)r->min_notice_min * 60) {
        http_reply_error(req, 409, "too_soon", "start", "online bookings need %d minutes' notice",
                         r->min_notice_min);
        return err_set(e, ERR_USAGE, "too soon");
    }
    if (start >= now + (int64_t)r->horizon_days * DAY_S) {
        http_reply_error(req, 409, "too_far", "start",
                         "online bookings are taken at most %d days ahead", r->horizon_days);
        return err_set(e, ERR_USAGE, "too far");
    }
    return 0;
}

/* The free times of one local day with the rules applied; *pros as api_free_times. */
static int day_times(struct db *db, const struct online_branch *b, int64_t service_id,
                     int64_t duration_min, int64_t only_id, int64_t except_id, int64_t day,
                     struct api_free_pro **pros, size_t *npros, struct err *e)
{
    int64_t now = (int64_t)time(NULL);
    struct api_free_query q = {
        .tenant_id = b->tenant_id,
        .service_id = service_id,
        .branch_id = b->branch_id,
        .only_id = only_id,
        .except_id = except_id,
        .tz = b->tz,
        .duration_s = duration_min * 60,
        .step_s = (int64_t)b->rules.step_min * 60,
        .first_day = day,
        .last_day = day,
        .not_before = now + (int64_t)b->rules.min_notice_min * 60,
    };
    int64_t horizon = now + (int64_t)b->rules.horizon_days * DAY_S;
    int rc;

    rc = api_free_times(db, &q, pros, npros, e);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < *npros; i++) /* starts are sorted: cut at the horizon */
        while ((*pros)[i].nstarts > 0 && (*pros)[i].starts[(*pros)[i].nstarts - 1] >= horizon)
            (*pros)[i].nstarts--;
    return 0;
}

static bool has_start(const struct api_free_pro *p, int64_t t)
{
    for (size_t i = 0; i < p->nstarts; i++)
        if (p->starts[i] == t)
            return true;
    return false;
}

int public_free_at(struct db *db, const struct online_branch *b, int64_t service_id,
                   int64_t only_id, int64_t except_id, int64_t start, int64_t **ids, size_t *n,
                   struct err *e)
{
    struct api_free_pro *pros = NULL;
    size_t npros = 0;
    int64_t duration = 0, price = 0;
    int rc;

    *ids = NULL;
    *n = 0;
    rc = public_service(db, b, service_id, &duration, &price, e);
    if (rc <= 0)
        goto cleanup;
    rc = day_times(db, b, service_id, duration, only_id, except_id, local_day(b->tz, start), &pros,
                   &npros, e);
    if (rc < 0)
        goto cleanup;
    for (size_t i = 0; i < npros; i++) {
        if (!has_start(&pros[i], start))
            continue;
        *ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
        (*ids)[(*n)++] = pros[i].id;
    }

cleanup:
    api_free_times_free(pros, npros);
    return rc < 0 ? rc : 0;
}

/* GET /api/v1/public/b/{tenant}/{branch}/services: also part of the branch's answer. */
static int services_json(struct db *db, const struct online_branch *b, json_t **out, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    *out = json_array();
    rc = db_query(
        db,
        "SELECT s.id, s.name, s.description, s.duration_min, s.price_cents FROM services s "
        "WHERE s.tenant_id = $1 AND s.active AND s.online_bookable "
        "AND s.duration_min <= 1440 AND EXISTS (SELECT 1 FROM service_professionals sp "
        "JOIN users u ON u.id = sp.user_id AND u.tenant_id = sp.tenant_id "
        "WHERE sp.tenant_id = $1 AND sp.service_id = s.id AND u.active "
        "AND (u.branch_id IS NULL OR u.branch_id = $2 OR EXISTS (SELECT 1 FROM "
        "working_hours wh WHERE wh.tenant_id = $1 AND wh.branch_id = $2 "
        "AND wh.user_id = u.id))) ORDER BY s.name, s.id",
        DB_PARAMS(DB_INT(b->tenant_id), DB_INT(b->branch_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r))
        json_array_append_new(
            *out, json_pack("{s:I, s:s, s:o, s:I, s:I}", "id", (json_int_t)db_res_int(r, 0), "name",
                            db_res_text(r, 1) ? db_res_text(r, 1) : "", "description",
                            db_res_text(r, 2) ? json_string(db_res_text(r, 2)) : json_null(),
                            "duration_min", (json_int_t)db_res_int(r, 3), "price_cents",
                            (json_int_t)db_res_int(r, 4)));

cleanup:
    db_res_free(r);
    return rc;
}

/* The professionals (first name, last initial) with the online services each offers. */
static int pros_json(struct db *db, const struct online_branch *b, int64_t service_id, json_t **out,
                     struct err *e)
{
    struct db_res *r = NULL;
    json_t *cur = NULL;
    int64_t cur_id = 0;
    int rc;

    *out = json_array();
    rc = db_query(
        db,
        "SELECT u.id, u.first_name, u.last_name, sp.service_id FROM users u "
        "JOIN service_professionals sp ON sp.user_id = u.id AND sp.tenant_id = u.tenant_id "
        "JOIN services s ON s.id = sp.service_id AND s.tenant_id = u.tenant_id "
        "WHERE u.tenant_id = $1 AND u.active AND s.active AND s.online_bookable "
        "AND (sp.service_id = $3 OR $3 = 0) "
        "AND (u.branch_id IS NULL OR u.branch_id = $2 OR EXISTS (SELECT 1 FROM "
        "working_hours wh WHERE wh.tenant_id = $1 AND wh.branch_id = $2 "
        "AND wh.user_id = u.id)) ORDER BY u.first_name, u.id, sp.service_id",
        DB_PARAMS(DB_INT(b->tenant_id), DB_INT(b->branch_id), DB_INT(service_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r)) {
        if (cur == NULL || db_res_int(r, 0) != cur_id) {
            const char *last = db_res_text(r, 2) ? db_res_text(r, 2) : "";
            char initial[8] = "";

            if (*last != '\0') { /* one character: up to 4 bytes of UTF-8 */
                size_t k = 1;
                while (k < 4 && ((unsigned char)last[k] & 0xC0) == 0x80)
                    k++;
                snprintf(initial, sizeof(initial), "%.*s.", (int)k, last);
            }
            cur_id = db_res_int(r, 0);
            cur = json_pack("{s:I, s:s, s:s, s:[]}", "id", (json_int_t)cur_id, "first_name",
                            db_res_text(r, 1) ? db_res_text(r, 1) : "", "last_initial", initial,
                            "service_ids");
            json_array_append_new(*out, cur);
        }
        json_array_append_new(json_object_get(cur, "service_ids"), json_integer(db_res_int(r, 3)));
    }

cleanup:
    db_res_free(r);
    return rc;
}

/* The branch's own opening hours (user_id NULL), by day. */
static int hours_json(struct db *db, const struct online_branch *b, json_t **out, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    *out = json_array();
    rc =
        db_query(db,
                 "SELECT day_of_week, start_time, end_time FROM working_hours WHERE tenant_id = $1 "
                 "AND branch_id = $2 AND user_id IS NULL ORDER BY day_of_week, start_time",
                 DB_PARAMS(DB_INT(b->tenant_id), DB_INT(b->branch_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r))
        json_array_append_new(*out,
                              json_pack("{s:I, s:s, s:s}", "day", (json_int_t)db_res_int(r, 0),
                                        "start", db_res_text(r, 1), "end", db_res_text(r, 2)));

cleanup:
    db_res_free(r);
    return rc;
}

/* A map link for an address: a search, so that no key or account is needed. */
static json_t *map_url(const char *address)
{
    struct buf b = BUF_INIT;
    json_t *out;

    if (address == NULL || *address == '\0')
        return json_null();
    buf_adds(&b, "https://www.openstreetmap.org/search?query=");
    for (const unsigned char *p = (const unsigned char *)address; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p) != NULL)
            buf_addc(&b, (char)*p);
        else
            buf_addf(&b, "%%%02X", *p);
    }
    out = json_string(buf_str(&b));
    buf_release(&b);
    return out;
}

int api_public_branch(struct http_req *req, struct err *e)
{
    struct online_branch b;
    struct db *db = NULL;
    json_t *services = NULL, *pros = NULL, *hours = NULL;
    int rc;

    rc = link_branch(req, &db, &b, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = online_lookup_limit(req, db, &b, e)) < 0 ||
        (rc = services_json(db, &b, &services, e)) < 0 ||
        (rc = pros_json(db, &b, 0, &pros, e)) < 0 || (rc = hours_json(db, &b, &hours, e)) < 0)
        goto cleanup;
    rc = http_reply_json(
        req, 200,
        json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:o, s:o}, s:o, s:o, s:o}",
                  "tenant", "name", b.tenant_name, "slug", b.tenant_slug, "currency", b.currency,
                  "branch", "name", b.branch_name, "slug", b.branch_slug, "address", b.address,
                  "phone", b.phone, "timezone", b.tz, "map_url", map_url(b.address), "hours", hours,
                  "rules", online_rules_json(&b.rules), "services", services, "professionals",
                  pros));
    services = pros = hours = NULL;

cleanup:
    json_decref(services);
    json_decref(pros);
    json_decref(hours);
    online_branch_release(&b);
    return rc;
}

int api_public_services(struct http_req *req, struct err *e)
{
    struct online_branch b;
    struct db *db = NULL;
    json_t *services = NULL;
    int rc;

    rc = link_branch(req, &db, &b, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = online_lookup_limit(req, db, &b, e)) < 0 ||
        (rc = services_json(db, &b, &services, e)) < 0)
        goto cleanup;
    rc = http_reply_json(req, 200, json_pack("{s:o}", "items", services));
    services = NULL;

cleanup:
    json_decref(services);
    online_branch_release(&b);
    return rc;
}

int api_public_professionals(struct http_req *req, struct err *e)
{
    struct online_branch b;
    struct db *db = NULL;
    json_t *pros = NULL;
    int64_t service_id = 0;
    bool has = false;
    int rc;

    rc = link_branch(req, &db, &b, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = online_lookup_limit(req, db, &b, e)) < 0 ||
        (rc = api_query_id(req, "service_id", &service_id, &has, e)) < 0 ||
        (rc = pros_json(db, &b, service_id, &pros, e)) < 0)
        goto cleanup;
    rc = http_reply_json(req, 200, json_pack("{s:o}", "items", pros));
    pros = NULL;

cleanup:
    json_decref(pros);
    online_branch_release(&b);
    return rc;
}

struct pair {
    int64_t start, pro;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->pro < y->pro ? -1 : x->pro > y->pro;
}

/*
 * The times of one day for the query's service (and professional), merged
 * across professionals: [{"start", "professional_ids"}].  Answers refusals.
 */
int public_times_reply(struct http_req *req, struct db *db, const struct online_branch *b,
                       int64_t service_id, int64_t only_id, int64_t except_id, struct err *e)
{
    const char *date = http_req_query(req, "date");
    struct api_free_pro *pros = NULL;
    struct pair *pairs = NULL;
    size_t npros = 0, npairs = 0;
    json_t *times = NULL, *cur = NULL;
    int64_t duration = 0, price = 0, day, today = local_day(b->tz, (int64_t)time(NULL));
    int y, m, d, rc;

    if (date == NULL || api_date_parse(date, &y, &m, &d) < 0)
        return api_reply_invalid(req, e, "date", "'date' must be a date (YYYY-MM-DD)");
    day = tz_days_from_civil(y, m, d);
    rc = public_service(db, b, service_id, &duration, &price, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        http_reply_error(req, 404, "not_bookable", "service_id",
                         "this service cannot be booked online");
        rc = err_set(e, ERR_NOT_FOUND, "service not bookable");
        goto cleanup;
    }
    times = json_array();
    if (day >= today && day <= today + b->rules.horizon_days) {
        rc = day_times(db, b, service_id, duration, only_id, except_id, day, &pros, &npros, e);
        if (rc < 0)
            goto cleanup;
    }
    for (size_t i = 0; i < npros; i++)
        for (size_t k = 0; k < pros[i].nstarts; k++) {
            pairs = xrealloc(pairs, (npairs + 1) * sizeof(*pairs));
            pairs[npairs++] = (struct pair){pros[i].starts[k], pros[i].id};
        }
    if (npairs > 0)
        qsort(pairs, npairs, sizeof(*pairs), pair_cmp);
    for (size_t i = 0; i < npairs; i++) {
        if (cur == NULL || pairs[i].start != pairs[i - 1].start) {
            char s[32];

            api_booking_format(b->tz, pairs[i].start, s);
            cur = json_pack("{s:s, s:[]}", "start", s, "professional_ids");
            json_array_append_new(times, cur);
        }
        json_array_append_new(json_object_get(cur, "professional_ids"), json_integer(pairs[i].pro));
    }
    rc = http_reply_json(req, 200,
                         json_pack("{s:s, s:s, s:I, s:I, s:o}", "date", date, "timezone", b->tz,
                                   "service_id", (json_int_t)service_id, "duration_min",
                                   (json_int_t)duration, "times", times));
    times = NULL;

cleanup:
    json_decref(times);
    free(pairs);
    api_free_times_free(pros, npros);
    return rc;
}

int api_public_times(struct http_req *req, struct err *e)
{
    struct online_branch b;
    struct db *db = NULL;
    int64_t service_id = 0, only_id = 0;
    bool has = false;
    int rc;

    rc = link_branch(req, &db, &b, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = online_lookup_limit(req, db, &b, e)) < 0 ||
        (rc = api_query_id(req, "service_id", &service_id, &has, e)) < 0)
        goto cleanup;
    if (!has) {
        rc = api_reply_invalid(req, e, "service_id", "'service_id' is required");
        goto cleanup;
    }
    if ((rc = api_query_id(req, "professional_id", &only_id, &has, e)) < 0)
        goto cleanup;
    rc = public_times_reply(req, db, &b, service_id, only_id, 0, e);

cleanup:
    online_branch_release(&b);
    return rc;
}
