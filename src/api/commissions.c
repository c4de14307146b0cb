/*
 * commissions — what each professional earned in a period (see money.h):
 *   services: the COMPLETED appointments that started in the period, their
 *     price after discount, times the commission_pct of the service's link
 *     to the professional (service_professionals), rounded half up per
 *     appointment;
 *   products: the product lines of sales in the period that name the
 *     professional, times the product's commission_pct, rounded the same;
 *   tips: every tip attributed to the professional recorded in the period
 *     (tip refunds subtracted).
 * The period is whole days in the tenant's zone, `to` inclusive.  A
 * PROFESSIONAL reads only its own; ADMIN and MANAGER mark a period paid,
 * which keeps the figures as they were (commission_statements).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/booking.h"
#include "api/money.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"

#define PERIOD_MAX_DAYS 366
#define PROS_MAX        500

struct earning {
    int64_t pro, services, service_comm, product_comm, tips;
};

static struct earning *earning_of(struct earning *list, size_t *n, int64_t pro)
{
    for (size_t i = 0; i < *n; i++)
        if (list[i].pro == pro)
            return &list[i];
    if (*n == PROS_MAX)
        return NULL;
    memset(&list[*n], 0, sizeof(list[*n]));
    list[*n].pro = pro;
    return &list[(*n)++];
}

/* Fill list (PROS_MAX entries) with the earnings of [from, to) of pro (0: all). */
static int earnings(struct db *db, int64_t tenant_id, const char *from, const char *to, int64_t pro,
                    struct earning *list, size_t *n, struct err *e)
{
    static const char *const sql[] = {
        "SELECT a.professional_id, SUM(a.price_cents - COALESCE(d.amount_cents, 0)), "
        "SUM(((a.price_cents - COALESCE(d.amount_cents, 0)) * COALESCE(sp.commission_pct, 0) "
        "+ 50) / 100) "
        "FROM appointments a "
        "LEFT JOIN appointment_discounts d ON d.tenant_id = a.tenant_id "
        "AND d.appointment_id = a.id "
        "LEFT JOIN service_professionals sp ON sp.tenant_id = a.tenant_id "
        "AND sp.service_id = a.service_id AND sp.user_id = a.professional_id "
        "WHERE a.tenant_id = $1 AND a.status = 'COMPLETED' AND a.start_at >= $2 "
        "AND a.start_at < $3 AND ($4 = 0 OR a.professional_id = $4) "
        "GROUP BY a.professional_id",
        "SELECT l.professional_id, 0, SUM((l.amount_cents * p.commission_pct + 50) / 100) "
        "FROM sale_lines l JOIN sales s ON s.id = l.sale_id AND s.tenant_id = l.tenant_id "
        "JOIN products p ON p.id = l.product_id AND p.tenant_id = l.tenant_id "
        "WHERE l.tenant_id = $1 AND l.kind = 'PRODUCT' AND l.professional_id IS NOT NULL "
        "AND s.sold_at >= $2 AND s.sold_at < $3 AND ($4 = 0 OR l.professional_id = $4) "
        "GROUP BY l.professional_id",
        "SELECT professional_id, 0, SUM(tip_cents) FROM payments "
        "WHERE tenant_id = $1 AND professional_id IS NOT NULL AND tip_cents <> 0 "
        "AND paid_at >= $2 AND paid_at < $3 AND ($4 = 0 OR professional_id = $4) "
        "GROUP BY professional_id",
    };
    struct db_res *r = NULL;
    int rc = 0;

    *n = 0;
    for (int q = 0; q < 3; q++) {
        rc = db_query(db, sql[q],
                      DB_PARAMS(DB_INT(tenant_id), DB_TEXT(from), DB_TEXT(to), DB_INT(pro)), &r, e);
        if (rc < 0)
            goto cleanup;
        while (db_res_next(r)) {
            struct earning *x = earning_of(list, n, db_res_int(r, 0));

            if (x == NULL)
                break;
            if (q == 0) {
                x->services += db_res_int(r, 1);
                x->service_comm += db_res_int(r, 2);
            } else if (q == 1) {
                x->product_comm += db_res_int(r, 2);
            } else {
                x->tips += db_res_int(r, 2);
            }
        }
        db_res_free(r);
        r = NULL;
    }

cleanup:
    db_res_free(r);
    return rc;
}

/* The period of the query (from, to: dates) as instants; answers 400 itself. */
static int period(struct http_req *req, struct db *db, int64_t tenant_id, char from[32],
                  char to[32], struct err *e)
{
    const char *f = http_req_query(req, "from"), *t = http_req_query(req, "to");
    int64_t a = 0, b = 0;
    int y, m, d, rc;

    if (f == NULL || api_date_parse(f, &y, &m, &d) < 0)
        return api_reply_invalid(req, e, "from", "a date YYYY-MM-DD");
    if (t == NULL || api_date_parse(t, &y, &m, &d) < 0)
        return api_reply_invalid(req, e, "to", "a date YYYY-MM-DD (inclusive)");
    rc = api_booking_range(req, db, tenant_id, PERIOD_MAX_DAYS, &a, &b, e);
    if (rc < 0)
        return rc;
    tz_format_instant(a, from);
    tz_format_instant(b, to);
    return 0;
}

static json_t *earning_json(const struct earning *x, const char *from, const char *to,
                            json_t *statement)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:o}", "professional_id",
                     (json_int_t)x->pro, "from", from, "to", to, "services_cents",
                     (json_int_t)x->services, "service_commission_cents",
                     (json_int_t)x->service_comm, "product_commission_cents",
                     (json_int_t)x->product_comm, "tips_cents", (json_int_t)x->tips, "total_cents",
                     (json_int_t)(x->service_comm + x->product_comm + x->tips), "paid",
                     statement != NULL, "statement", statement != NULL ? statement : json_null());
}

#define STATEMENT_COLS                                                                             \
    "SELECT id, tenant_id, professional_id, period_from, period_to, services_cents, "              \
    "service_commission_cents, product_commission_cents, tips_cents, total_cents, paid_by, "       \
    "paid_at, created_at, updated_at FROM commission_statements "
#define STATEMENT_TYPES "iiissiiiiiittt"

int api_commissions_list(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    struct earning *list = xcalloc(PROS_MAX, sizeof(*list));
    json_t *items = NULL;
    char from[32], to[32];
    int64_t pro = 0;
    bool has_pro = false;
    size_t n = 0;
    int rc;

    if (api_auth_require(req, "commissions", API_ACT_READ, &au) < 0) {
        rc = 0;
        goto cleanup;
    }
    if ((rc = api_query_id(req, "professional_id", &pro, &has_pro, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = period(req, db, au.tenant_id, from, to, e)) < 0)
        goto cleanup;
    if (au.role == API_ROLE_PROFESSIONAL) {
        if (has_pro && pro != au.user_id) {
            http_reply_error(req, 403, "forbidden", "professional_id",
                             "a PROFESSIONAL reads only its own commissions");
            rc = err_set(e, ERR_USAGE, "not own");
            goto cleanup;
        }
        pro = au.user_id;
    }
    if ((rc = earnings(db, au.tenant_id, from, to, pro, list, &n, e)) < 0)
        goto cleanup;
    if (pro > 0 && n == 0)
        earning_of(list, &n, pro);
    items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *st = NULL;

        rc = db_query(db,
                      STATEMENT_COLS "WHERE tenant_id = $1 AND professional_id = $2 AND "
                                     "period_from = $3 AND period_to = $4",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(list[i].pro),
                                DB_TEXT(http_req_query(req, "from")),
                                DB_TEXT(http_req_query(req, "to"))),
                      &r, e);
        if (rc < 0)
            goto cleanup;
        if (db_res_next(r))
            st = api_row_json(r, STATEMENT_TYPES);
        db_res_free(r);
        r = NULL;
        json_array_append_new(items, earning_json(&list[i], http_req_query(req, "from"),
                                                  http_req_query(req, "to"), st));
    }
    rc = http_reply_json(req, 200, json_pack("{s:o}", "items", items));
    items = NULL;

cleanup:
    db_res_free(r);
    json_decref(items);
    free(list);
    return rc;
}

enum { K_PRO, K_FROM, K_TO };
static const struct api_field pay_fields[] = {
    {"professional_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"from", API_T_DATE, API_REQUIRED, 0, 0, NULL},
    {"to", API_T_DATE, API_REQUIRED, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* POST /api/v1/commissions/pay {professional_id, from, to} */
int api_commissions_pay(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    struct earning *list = xcalloc(PROS_MAX, sizeof(*list));
    struct earning x = {0};
    json_t *body = NULL;
    char *zone = NULL, from[32], to[32], now_txt[32];
    int64_t a = 0, b = 0, id = 0;
    size_t n = 0;
    int y, m, d, rc;

    if (api_auth_require(req, "commissions", API_ACT_CREATE, &au) < 0) {
        rc = 0;
        goto cleanup;
    }
    if ((rc = api_read_body(req, pay_fields, API_CREATE, &body, v, e)) < 0)
        goto cleanup;
    if (v[K_TO].i < v[K_FROM].i || v[K_TO].i - v[K_FROM].i >= PERIOD_MAX_DAYS) {
        rc = api_reply_invalid(req, e, "to", "on or after from, within %d days", PERIOD_MAX_DAYS);
        goto cleanup;
    }
    tz_format_instant((int64_t)time(NULL), now_txt);
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0 || (rc = db_begin(db, e)) < 0)
        goto cleanup;
    if ((rc = api_row_require(req, db, "users", v[K_PRO].i, au.tenant_id, "professional_id",
                              "professional", e)) < 0)
        goto cleanup;
    rc = db_query_text(db, "SELECT timezone FROM tenants WHERE id = $1",
                       DB_PARAMS(DB_INT(au.tenant_id)), &zone, e);
    if (rc < 0)
        goto cleanup;
    tz_civil_from_days(v[K_FROM].i, &y, &m, &d);
    if ((rc = tz_local_to_utc(zone != NULL ? zone : "UTC", y, m, d, 0, 0, &a, e)) < 0)
        goto cleanup;
    tz_civil_from_days(v[K_TO].i + 1, &y, &m, &d);
    if ((rc = tz_local_to_utc(zone != NULL ? zone : "UTC", y, m, d, 0, 0, &b, e)) < 0)
        goto cleanup;
    tz_format_instant(a, from);
    tz_format_instant(b, to);
    if ((rc = earnings(db, au.tenant_id, from, to, v[K_PRO].i, list, &n, e)) < 0)
        goto cleanup;
    if (n > 0)
        x = list[0];
    rc = db_query_int(db,
                      "SELECT id FROM commission_statements WHERE tenant_id = $1 AND "
                      "professional_id = $2 AND period_from = $3 AND period_to = $4",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(v[K_PRO].i), DB_TEXT(v[K_FROM].s),
                                DB_TEXT(v[K_TO].s)),
                      &id, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        http_reply_error(req, 409, "already_paid", "professional_id",
                         "the commissions of %s to %s were marked paid already (statement %lld)",
                         v[K_FROM].s, v[K_TO].s, (long long)id);
        rc = err_set(e, ERR_USAGE, "already paid");
        goto cleanup;
    }
    rc = db_query_int(
        db,
        "INSERT INTO commission_statements (tenant_id, professional_id, period_from, period_to, "
        "services_cents, service_commission_cents, product_commission_cents, tips_cents, "
        "total_cents, paid_by, paid_at, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(v[K_PRO].i), DB_TEXT(v[K_FROM].s),
                  DB_TEXT(v[K_TO].s), DB_INT(x.services), DB_INT(x.service_comm),
                  DB_INT(x.product_comm), DB_INT(x.tips),
                  DB_INT(x.service_comm + x.product_comm + x.tips),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(now_txt)),
        &id, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = db_commit(db, e)) < 0)
        goto cleanup;
    rc = api_row_reply(req, 201, db, STATEMENT_COLS "WHERE tenant_id = $1 AND id = $2",
                       DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), STATEMENT_TYPES, "statement",
                       id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    free(zone);
    free(list);
    return rc;
}
