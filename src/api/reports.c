/*
 * reports — sales and attendance reports for ADMIN and MANAGER (see
 * money.h): each one SQL query per backend over indexed columns
 * (payments (tenant_id, paid_at), appointments (tenant_id, status,
 * start_at), sales (tenant_id, branch_id, sold_at)), answered as a table
 * {columns, rows} in JSON or as CSV (RFC 4180, UTF-8 with a BOM).
 *
 * The period: `from` and `to`, dates in the tenant's zone (`to` inclusive)
 * or RFC 3339 instants; `branch_id` narrows it to one branch.  Sales by
 * day / week (from Monday) / month are buckets of the tenant's local
 * calendar: PostgreSQL truncates `paid_at AT TIME ZONE` the zone; SQLite,
 * which has no zones, sums per quarter hour of UTC (every zone's offset is
 * a whole number of quarter hours) and the quarters are put in their local
 * buckets here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/booking.h"
#include "api/money.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"
#include "domain/csv.h"

#define REPORT_MAX_DAYS 1100
#define COLS_MAX        8

/* Column kinds: 's' text, 'i' integer, 'c' cents, 'p' a percentage computed here. */
struct report {
    const char *name;
    const char *sql[2];
    int nparams[2];
    const char *cols[COLS_MAX];
    const char *kinds;
};

#define PERIOD_PAYMENTS                                                                            \
    "tenant_id = $1 AND paid_at >= $2 AND paid_at < $3 AND ($4 = 0 OR branch_id = $4)"
#define PERIOD_APPTS                                                                               \
    "a.tenant_id = $1 AND a.start_at >= $2 AND a.start_at < $3 AND ($4 = 0 OR a.branch_id = $4)"
#define PAY_SUMS                                                                                   \
    "SUM(CASE WHEN kind <> 'REFUND' THEN amount_cents ELSE 0 END), "                               \
    "SUM(CASE WHEN kind = 'REFUND' THEN -amount_cents ELSE 0 END), SUM(amount_cents), "            \
    "SUM(tip_cents), SUM(CASE WHEN kind <> 'REFUND' THEN 1 ELSE 0 END) "
#define BY_SERVICE                                                                                 \
    "SELECT s.name, COUNT(*), SUM(a.price_cents - COALESCE(d.amount_cents, 0)) "                   \
    "FROM appointments a JOIN services s ON s.id = a.service_id "                                  \
    "LEFT JOIN appointment_discounts d ON d.tenant_id = a.tenant_id AND d.appointment_id = a.id "  \
    "WHERE " PERIOD_APPTS " AND a.status = 'COMPLETED' "                                           \
    "GROUP BY s.id, s.name ORDER BY 3 DESC, s.name"
#define BY_PRO                                                                                     \
    "SELECT u.first_name || ' ' || COALESCE(u.last_name, ''), COUNT(*), "                          \
    "SUM(a.price_cents - COALESCE(d.amount_cents, 0)) "                                            \
    "FROM appointments a JOIN users u ON u.id = a.professional_id "                                \
    "LEFT JOIN appointment_discounts d ON d.tenant_id = a.tenant_id AND d.appointment_id = a.id "  \
    "WHERE " PERIOD_APPTS " AND a.status = 'COMPLETED' "                                           \
    "GROUP BY u.id, u.first_name, u.last_name ORDER BY 3 DESC, 1"
#define BY_METHOD                                                                                  \
    "SELECT method, SUM(amount_cents), SUM(tip_cents), COUNT(*) FROM payments "                    \
    "WHERE " PERIOD_PAYMENTS " GROUP BY method ORDER BY method"
#define TOP_PRODUCTS                                                                               \
    "SELECT p.sku, p.name, SUM(l.quantity), SUM(l.amount_cents) FROM sale_lines l "                \
    "JOIN sales s ON s.id = l.sale_id JOIN products p ON p.id = l.product_id "                     \
    "WHERE s.tenant_id = $1 AND s.sold_at >= $2 AND s.sold_at < $3 "                               \
    "AND ($4 = 0 OR s.branch_id = $4) AND l.kind = 'PRODUCT' "                                     \
    "GROUP BY p.id, p.sku, p.name ORDER BY 4 DESC, p.sku LIMIT 10"
#define ATTENDANCE                                                                                 \
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN a.status = 'COMPLETED' THEN 1 ELSE 0 END), 0), "      \
    "COALESCE(SUM(CASE WHEN a.status = 'CANCELLED' THEN 1 ELSE 0 END), 0), "                       \
    "COALESCE(SUM(CASE WHEN a.status = 'NO_SHOW' THEN 1 ELSE 0 END), 0), 0, 0 "                    \
    "FROM appointments a WHERE " PERIOD_APPTS
#define RETENTION(plus90)                                                                          \
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM appointments b "                \
    "WHERE b.tenant_id = $1 AND b.client_id = f.client_id AND b.status = 'COMPLETED' "             \
    "AND b.start_at > f.first AND b.start_at <= " plus90 ") THEN 1 ELSE 0 END), 0), 0 "            \
    "FROM (SELECT a.client_id, MIN(a.start_at) AS first FROM appointments a "                      \
    "WHERE " PERIOD_APPTS " AND a.status = 'COMPLETED' GROUP BY a.client_id) f"

static const struct report reports[] = {
    {"sales",
     {[DB_PG] = "SELECT to_char(date_trunc($6, paid_at AT TIME ZONE $5), 'YYYY-MM-DD'), " PAY_SUMS
                "FROM payments WHERE " PERIOD_PAYMENTS " GROUP BY 1 ORDER BY 1",
      [DB_SQLITE] =
          "SELECT CAST(strftime('%s', substr(paid_at, 1, 19)) AS INTEGER) / 900 * 900, " PAY_SUMS
          "FROM payments WHERE " PERIOD_PAYMENTS " GROUP BY 1 ORDER BY 1"},
     {[DB_PG] = 6, [DB_SQLITE] = 4},
     {"period", "payments_cents", "refunds_cents", "net_cents", "tips_cents", "payments"},
     "scccci"},
    {"by_service",
     {BY_SERVICE, BY_SERVICE},
     {4, 4},
     {"service", "appointments", "revenue_cents"},
     "sic"},
    {"top_services",
     {BY_SERVICE " LIMIT 10", BY_SERVICE " LIMIT 10"},
     {4, 4},
     {"service", "appointments", "revenue_cents"},
     "sic"},
    {"by_professional",
     {BY_PRO, BY_PRO},
     {4, 4},
     {"professional", "appointments", "revenue_cents"},
     "sic"},
    {"by_method",
     {BY_METHOD, BY_METHOD},
     {4, 4},
     {"method", "net_cents", "tips_cents", "movements"},
     "scci"},
    {"top_products",
     {TOP_PRODUCTS, TOP_PRODUCTS},
     {4, 4},
     {"sku", "product", "quantity", "revenue_cents"},
     "ssic"},
    {"attendance",
     {ATTENDANCE, ATTENDANCE},
     {4, 4},
     {"appointments", "completed", "cancelled", "no_show", "cancellation_rate_pct",
      "no_show_rate_pct"},
     "iiiipp"},
    {"retention",
     {[DB_PG] = RETENTION("f.first + interval '90 days'"),
      [DB_SQLITE] = RETENTION("strftime('%Y-%m-%d %H:%M:%S+00', substr(f.first, 1, 19), "
                              "'+90 days')")},
     {4, 4},
     {"clients", "returned_within_90_days", "retention_pct"},
     "iip"},
};

/* A percentage with one decimal, from counts. */
static double pct(int64_t part, int64_t whole)
{
    return whole > 0 ? (double)((part * 1000 * 2 + whole) / (2 * whole)) / 10.0 : 0.0;
}

/* The bucket (YYYY-MM-DD of its first day) of instant t in zone for group. */
static int bucket_of(const char *zone, int64_t t, char group, char out[11], struct err *e)
{
    struct tz_local l;
    int rc = tz_utc_to_local(zone, t, &l, e);

    if (rc < 0)
        return rc;
    if (group == 'm') {
        l.d = 1;
    } else if (group == 'w') {
        int64_t days = tz_days_from_civil(l.y, l.mon, l.d) - (l.wday + 6) % 7;

        tz_civil_from_days(days, &l.y, &l.mon, &l.d);
    }
    snprintf(out, 11, "%04d-%02d-%02d", l.y, l.mon, l.d);
    return 0;
}

int api_reports_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    const struct report *rep = NULL;
    const char *name = http_req_param(req, "name"), *group_q = http_req_query(req, "group");
    const char *format = http_req_query(req, "format");
    const char *unit = "day";
    char *zone = NULL, *currency = NULL, from_txt[32], to_txt[32];
    json_t *rows = NULL, *cols = NULL, *last = NULL;
    struct buf csv = BUF_INIT;
    char last_key[11] = "";
    int64_t from = 0, to = 0, branch_id = 0;
    bool has_branch = false, as_csv;
    size_t ncols;
    int rc, kind;

    if (api_auth_require(req, "reports", API_ACT_READ, &au) < 0)
        return 0;
    for (size_t i = 0; name != NULL && i < sizeof(reports) / sizeof(reports[0]); i++)
        if (strcmp(reports[i].name, name) == 0)
            rep = &reports[i];
    if (rep == NULL) {
        rc = err_set(e, ERR_NOT_FOUND, "no report '%s'", name != NULL ? name : "");
        goto cleanup;
    }
    if (group_q != NULL) {
        if (strcmp(group_q, "day") != 0 && strcmp(group_q, "week") != 0 &&
            strcmp(group_q, "month") != 0) {
            rc = api_reply_invalid(req, e, "group", "day, week or month");
            goto cleanup;
        }
        unit = group_q;
    }
    if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        rc = api_reply_invalid(req, e, "format", "json or csv");
        goto cleanup;
    }
    as_csv = format != NULL && strcmp(format, "csv") == 0;
    if ((rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = api_booking_range(req, db, au.tenant_id, REPORT_MAX_DAYS, &from, &to, e)) < 0)
        goto cleanup;
    rc = db_query_text(db, "SELECT timezone FROM tenants WHERE id = $1",
                       DB_PARAMS(DB_INT(au.tenant_id)), &zone, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_text(db, "SELECT currency FROM tenants WHERE id = $1",
                       DB_PARAMS(DB_INT(au.tenant_id)), &currency, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant(from, from_txt);
    tz_format_instant(to, to_txt);
    kind = db_kind(db);
    {
        struct db_param p[6] = {DB_INT(au.tenant_id), DB_TEXT(from_txt), DB_TEXT(to_txt),
                                DB_INT(branch_id),    DB_TEXT(zone),     DB_TEXT(unit)};

        rc = db_query(db, rep->sql[kind], rep->nparams[kind], p, &r, e);
        if (rc < 0)
            goto cleanup;
    }
    ncols = strlen(rep->kinds);
    cols = json_array();
    for (size_t c = 0; c < ncols; c++)
        json_array_append_new(cols, json_string(rep->cols[c]));
    rows = json_array();
    while (db_res_next(r)) {
        json_t *row = json_array();
        char key[11] = "";
        int first = 0;

        if (strcmp(rep->name, "sales") == 0) {
            if (kind == DB_SQLITE) {
                rc = bucket_of(zone, db_res_int(r, 0), unit[0], key, e);
                if (rc < 0) {
                    json_decref(row);
                    goto cleanup;
                }
            } else {
                snprintf(key, sizeof(key), "%s", db_res_text(r, 0));
            }
            if (last != NULL && strcmp(key, last_key) == 0) {
                /* another quarter hour of the same bucket (SQLite) */
                for (size_t c = 1; c < ncols; c++)
                    json_array_set_new(last, c,
                                       json_integer(json_integer_value(json_array_get(last, c)) +
                                                    db_res_int(r, (int)c)));
                json_decref(row);
                continue;
            }
            json_array_append_new(row, json_string(key));
            first = 1;
        }
        for (size_t c = (size_t)first; c < ncols; c++) {
            char k = rep->kinds[c];

            if (k == 's')
                json_array_append_new(
                    row, json_string(db_res_text(r, (int)c) != NULL ? db_res_text(r, (int)c) : ""));
            else if (k == 'p')
                json_array_append_new(row, json_real(0));
            else
                json_array_append_new(
                    row, json_integer(db_res_isnull(r, (int)c) ? 0 : db_res_int(r, (int)c)));
        }
        if (strcmp(rep->name, "attendance") == 0) {
            int64_t n = json_integer_value(json_array_get(row, 0));

            json_array_set_new(row, 4,
                               json_real(pct(json_integer_value(json_array_get(row, 2)), n)));
            json_array_set_new(row, 5,
                               json_real(pct(json_integer_value(json_array_get(row, 3)), n)));
        } else if (strcmp(rep->name, "retention") == 0) {
            json_array_set_new(row, 2,
                               json_real(pct(json_integer_value(json_array_get(row, 1)),
                                             json_integer_value(json_array_get(row, 0)))));
        }
        json_array_append_new(rows, row);
        last = row;
        snprintf(last_key, sizeof(last_key), "%s", key);
    }
    if (!as_csv) {
        char f[32], t[32];

        api_instant_rfc3339(from_txt, f);
        api_instant_rfc3339(to_txt, t);
        rc = http_reply_json(req, 200,
                             json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:O, s:O}", "report",
                                       rep->name, "from", f, "to", t, "branch_id",
                                       has_branch ? json_integer(branch_id) : json_null(), "group",
                                       unit, "currency", currency != NULL ? currency : "MXN",
                                       "columns", cols, "rows", rows));
        goto cleanup;
    }
    csv_bom(&csv);
    for (size_t c = 0; c < ncols; c++) {
        char head[64];
        size_t len = strlen(rep->cols[c]);

        if (rep->kinds[c] == 'c') /* amounts in currency units, named so */
            snprintf(head, sizeof(head), "%.*s_%s", (int)(len - 6), rep->cols[c],
                     currency != NULL ? currency : "MXN");
        else
            snprintf(head, sizeof(head), "%s", rep->cols[c]);
        csv_text(&csv, head, c == 0);
    }
    csv_end(&csv);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);

        for (size_t c = 0; c < ncols; c++) {
            json_t *x = json_array_get(row, c);

            if (rep->kinds[c] == 's')
                csv_text(&csv, json_string_value(x), c == 0);
            else if (rep->kinds[c] == 'c')
                csv_cents(&csv, json_integer_value(x), c == 0);
            else if (rep->kinds[c] == 'p') {
                if (c > 0)
                    buf_addc(&csv, ',');
                buf_addf(&csv, "%.1f", json_real_value(x));
            } else
                csv_int(&csv, json_integer_value(x), c == 0);
        }
        csv_end(&csv);
    }
    {
        char disp[128];

        snprintf(disp, sizeof(disp), "attachment; filename=\"%s.csv\"", rep->name);
        http_set_header(req, "Content-Disposition", disp);
    }
    rc = http_reply_text(req, 200, "text/csv; charset=utf-8", buf_str(&csv), csv.len);

cleanup:
    db_res_free(r);
    json_decref(rows);
    json_decref(cols);
    buf_release(&csv);
    free(zone);
    free(currency);
    return rc;
}
