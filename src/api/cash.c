/*
 * cash — the cash close (corte de caja) of a branch's day, or of one
 * register user's day (see money.h).
 *
 * The day is the branch's calendar day in its zone, [from, to) in UTC.
 * Its movements are the payments rows of the branch whose paid_at falls in
 * it (of the register user only, for a register close): per method what
 * came in, what went back (refunds) and the tips.  Expected cash is the
 * opening float plus the day's net cash (amounts and tips, refunds
 * subtracted); the difference is counted minus expected.  The close is
 * computed and written in one transaction that first locks the branch's row
 * (PostgreSQL FOR UPDATE; every movement takes it FOR SHARE, money_day_open):
 * a movement in flight is counted, and none is added to the day afterwards.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/money.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"
#include "domain/csv.h"

#define AMOUNT_MAX 1000000000000LL

static const char *const methods[] = {"CASH", "CREDIT_CARD", "DEBIT_CARD", "TRANSFER", "OTHER"};
#define NMETHODS 5

struct cash_day {
    int64_t branch_id, user_id; /* user_id 0: the whole branch */
    char date[11];
    char from[32], to[32];
    int64_t in[NMETHODS], refunds[NMETHODS], tips[NMETHODS];
    int64_t tips_total, refunds_total, cash_in;
};

/* [from, to) of date in the branch's zone; 404 answered for another tenant's branch. */
static int day_bounds(struct http_req *req, struct db *db, int64_t tenant_id, struct cash_day *d,
                      struct err *e)
{
    char *zone = NULL;
    int64_t from = 0, to = 0;
    int y, m, dd, rc;

    rc = db_query_text(db,
                       "SELECT COALESCE(b.timezone, t.timezone) FROM branches b "
                       "JOIN tenants t ON t.id = b.tenant_id WHERE b.tenant_id = $1 AND b.id = $2",
                       DB_PARAMS(DB_INT(tenant_id), DB_INT(d->branch_id)), &zone, e);
    if (rc < 0)
        goto cleanup;
    if (zone == NULL) {
        http_reply_error(req, 404, "not_found", "branch_id", "no branch '%lld'",
                         (long long)d->branch_id);
        rc = err_set(e, ERR_NOT_FOUND, "no branch");
        goto cleanup;
    }
    if (api_date_parse(d->date, &y, &m, &dd) < 0) {
        rc = api_reply_invalid(req, e, "date", "a date YYYY-MM-DD");
        goto cleanup;
    }
    rc = tz_local_to_utc(zone, y, m, dd, 0, 0, &from, e);
    if (rc < 0)
        goto cleanup;
    tz_civil_from_days(tz_days_from_civil(y, m, dd) + 1, &y, &m, &dd);
    rc = tz_local_to_utc(zone, y, m, dd, 0, 0, &to, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant(from, d->from);
    tz_format_instant(to, d->to);

cleanup:
    free(zone);
    return rc;
}

static int day_sums(struct db *db, int64_t tenant_id, struct cash_day *d, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    rc = db_query(db,
                  "SELECT method, "
                  "COALESCE(SUM(CASE WHEN kind <> 'REFUND' THEN amount_cents ELSE 0 END), 0), "
                  "COALESCE(SUM(CASE WHEN kind = 'REFUND' THEN -(amount_cents + tip_cents) "
                  "ELSE 0 END), 0), "
                  "COALESCE(SUM(CASE WHEN kind <> 'REFUND' THEN tip_cents ELSE 0 END), 0) "
                  "FROM payments WHERE tenant_id = $1 AND branch_id = $2 "
                  "AND paid_at >= $3 AND paid_at < $4 AND ($5 = 0 OR recorded_by = $5) "
                  "GROUP BY method",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(d->branch_id), DB_TEXT(d->from),
                            DB_TEXT(d->to), DB_INT(d->user_id)),
                  &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r))
        for (int i = 0; i < NMETHODS; i++)
            if (strcmp(db_res_text(r, 0), methods[i]) == 0) {
                d->in[i] = db_res_int(r, 1);
                d->refunds[i] = db_res_int(r, 2);
                d->tips[i] = db_res_int(r, 3);
            }
    for (int i = 0; i < NMETHODS; i++) {
        d->tips_total += d->tips[i];
        d->refunds_total += d->refunds[i];
    }
    d->cash_in = d->in[0] + d->tips[0] - d->refunds[0];

cleanup:
    db_res_free(r);
    return rc;
}

static json_t *by_method_json(const struct cash_day *d)
{
    json_t *o = json_object();

    for (int i = 0; i < NMETHODS; i++)
        json_object_set_new(o, methods[i],
                            json_pack("{s:I, s:I, s:I, s:I}", "payments_cents",
                                      (json_int_t)d->in[i], "tips_cents", (json_int_t)d->tips[i],
                                      "refunds_cents", (json_int_t)d->refunds[i], "net_cents",
                                      (json_int_t)(d->in[i] + d->tips[i] - d->refunds[i])));
    return o;
}

/* The register user of the request: a RECEPTIONIST closes only its own. */
static int register_of(struct http_req *req, const struct api_auth *au, bool present, int64_t asked,
                       int64_t *out, struct err *e)
{
    *out = present ? asked : 0;
    if (au->role == API_ROLE_RECEPTIONIST) {
        if (present && asked != au->user_id) {
            http_reply_error(req, 403, "forbidden", "register_user_id",
                             "a RECEPTIONIST closes only its own register");
            return err_set(e, ERR_USAGE, "not own register");
        }
        *out = au->user_id;
    }
    return 0;
}

#define CLOSE_COLS                                                                                 \
    "SELECT id, tenant_id, branch_id, business_date, register_user_id, from_at, to_at, "           \
    "opening_float_cents, cash_in_cents, expected_cash_cents, counted_cash_cents, "                \
    "difference_cents, tips_cents, refunds_cents, by_method, note, closed_by, closed_at, "         \
    "created_at, updated_at FROM cash_closes "
#define CLOSE_TYPES "iiisittiiiiiii-sittt"

static json_t *close_json(struct db_res *r)
{
    json_t *o = api_row_json(r, CLOSE_TYPES);
    json_t *bm = json_loads(db_res_text(r, 14), 0, NULL);

    if (o != NULL)
        json_object_set_new(o, "by_method", bm != NULL ? bm : json_object());
    else
        json_decref(bm);
    return o;
}

/* GET /api/v1/cash-close?branch_id&date[&register_user_id]: the day so far, or its close. */
int api_cash_day(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct cash_day d;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *out = NULL, *close = NULL;
    const char *date = http_req_query(req, "date");
    int64_t asked = 0;
    bool has_branch = false, has_user = false;
    int rc;

    if (api_auth_require(req, "cash_closes", API_ACT_READ, &au) < 0)
        return 0;
    memset(&d, 0, sizeof(d));
    if ((rc = api_query_id(req, "branch_id", &d.branch_id, &has_branch, e)) < 0 ||
        (rc = api_query_id(req, "register_user_id", &asked, &has_user, e)) < 0)
        goto cleanup;
    if (!has_branch) {
        rc = api_reply_invalid(req, e, "branch_id", "a close is of one branch: name it");
        goto cleanup;
    }
    if (date == NULL || strlen(date) != 10) {
        rc = api_reply_invalid(req, e, "date", "a date YYYY-MM-DD");
        goto cleanup;
    }
    snprintf(d.date, sizeof(d.date), "%s", date);
    if ((rc = register_of(req, &au, has_user, asked, &d.user_id, e)) < 0)
        goto cleanup;
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = day_bounds(req, db, au.tenant_id, &d, e)) < 0 ||
        (rc = day_sums(db, au.tenant_id, &d, e)) < 0)
        goto cleanup;
    rc = db_query(
        db,
        CLOSE_COLS "WHERE tenant_id = $1 AND branch_id = $2 AND business_date = $3 "
                   "AND COALESCE(register_user_id, 0) = $4",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(d.branch_id), DB_TEXT(d.date), DB_INT(d.user_id)),
        &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r))
        close = close_json(r);
    {
        char f[32], t[32];

        api_instant_rfc3339(d.from, f);
        api_instant_rfc3339(d.to, t);
        out = json_pack("{s:I, s:s, s:o, s:s, s:s, s:o, s:I, s:I, s:I, s:o}", "branch_id",
                        (json_int_t)d.branch_id, "date", d.date, "register_user_id",
                        d.user_id > 0 ? json_integer(d.user_id) : json_null(), "from", f, "to", t,
                        "by_method", by_method_json(&d), "tips_cents", (json_int_t)d.tips_total,
                        "refunds_cents", (json_int_t)d.refunds_total, "cash_in_cents",
                        (json_int_t)d.cash_in, "close", close != NULL ? close : json_null());
        close = NULL;
    }
    rc = http_reply_json(req, 200, out);

cleanup:
    db_res_free(r);
    json_decref(close);
    return rc;
}

enum { C_BRANCH, C_DATE, C_USER, C_FLOAT, C_COUNTED, C_NOTE };
static const struct api_field close_fields[] = {
    {"branch_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"date", API_T_DATE, API_REQUIRED, 0, 0, NULL},
    {"register_user_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"opening_float_cents", API_T_INT, API_REQUIRED, 0, AMOUNT_MAX, NULL},
    {"counted_cash_cents", API_T_INT, API_REQUIRED, 0, AMOUNT_MAX, NULL},
    {"note", API_T_STRING, API_NULLABLE, 0, 2000, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* POST /api/v1/cash-closes: close the day (409 already_closed the second time). */
int api_cash_close(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct cash_day d;
    struct db *db = NULL;
    json_t *body = NULL;
    char *bm = NULL, now_txt[32];
    int64_t id = 0, lock = 0, expected;
    int rc;

    if (api_auth_require(req, "cash_closes", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_read_body(req, close_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    memset(&d, 0, sizeof(d));
    d.branch_id = v[C_BRANCH].i;
    snprintf(d.date, sizeof(d.date), "%s", v[C_DATE].s);
    rc = register_of(req, &au, v[C_USER].present && !v[C_USER].null, v[C_USER].i, &d.user_id, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant((int64_t)time(NULL), now_txt);
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0 || (rc = db_begin(db, e)) < 0)
        goto cleanup;
    if (db_kind(db) == DB_PG) {
        rc = db_query_int(db, "SELECT id FROM branches WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
                          DB_PARAMS(DB_INT(au.tenant_id), DB_INT(d.branch_id)), &lock, e);
        if (rc < 0)
            goto cleanup;
    }
    if ((rc = day_bounds(req, db, au.tenant_id, &d, e)) < 0)
        goto cleanup;
    if (strcmp(d.from, now_txt) > 0) {
        rc = api_reply_invalid(req, e, "date", "a day is closed once it has begun");
        goto cleanup;
    }
    if (d.user_id > 0 && (rc = api_row_require(req, db, "users", d.user_id, au.tenant_id,
                                               "register_user_id", "user", e)) < 0)
        goto cleanup;
    rc = db_query_int(
        db,
        "SELECT id FROM cash_closes WHERE tenant_id = $1 AND branch_id = $2 AND "
        "business_date = $3 AND COALESCE(register_user_id, 0) = $4",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(d.branch_id), DB_TEXT(d.date), DB_INT(d.user_id)),
        &id, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        http_reply_error(req, 409, "already_closed", "date",
                         "the cash close of %s is done already (close %lld)", d.date,
                         (long long)id);
        rc = err_set(e, ERR_USAGE, "already closed");
        goto cleanup;
    }
    if ((rc = day_sums(db, au.tenant_id, &d, e)) < 0)
        goto cleanup;
    {
        json_t *j = by_method_json(&d);

        bm = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
    }
    expected = v[C_FLOAT].i + d.cash_in;
    rc = db_query_int(
        db,
        "INSERT INTO cash_closes (tenant_id, branch_id, business_date, register_user_id, from_at, "
        "to_at, opening_float_cents, cash_in_cents, expected_cash_cents, counted_cash_cents, "
        "difference_cents, tips_cents, refunds_cents, by_method, note, closed_by, closed_at, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, $16, $17, $17, $17) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(d.branch_id), DB_TEXT(d.date),
                  d.user_id > 0 ? DB_INT(d.user_id) : DB_NULL, DB_TEXT(d.from), DB_TEXT(d.to),
                  DB_INT(v[C_FLOAT].i), DB_INT(d.cash_in), DB_INT(expected), DB_INT(v[C_COUNTED].i),
                  DB_INT(v[C_COUNTED].i - expected), DB_INT(d.tips_total), DB_INT(d.refunds_total),
                  DB_TEXT(bm), DB_TEXT(v[C_NOTE].present && !v[C_NOTE].null ? v[C_NOTE].s : NULL),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(now_txt)),
        &id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    {
        struct db_res *r = NULL;

        rc = db_query(db, CLOSE_COLS "WHERE tenant_id = $1 AND id = $2",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &r, e);
        if (rc == 0 && db_res_next(r))
            rc = http_reply_json(req, 201, close_json(r));
        db_res_free(r);
    }

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    free(bm);
    return rc;
}

/* GET /api/v1/cash-closes/{id}[?format=csv] */
int api_cash_close_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    struct buf b = BUF_INIT;
    const char *format = http_req_query(req, "format");
    json_t *o = NULL;
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "cash_closes", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        goto cleanup;
    rc = db_query(db, CLOSE_COLS "WHERE tenant_id = $1 AND id = $2",
                  DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r) || (au.role == API_ROLE_RECEPTIONIST &&
                            (db_res_isnull(r, 4) || db_res_int(r, 4) != au.user_id))) {
        rc = err_set(e, ERR_NOT_FOUND, "no cash close '%lld'", (long long)id);
        goto cleanup;
    }
    if (format == NULL || strcmp(format, "json") == 0) {
        rc = http_reply_json(req, 200, close_json(r));
        goto cleanup;
    }
    if (strcmp(format, "csv") != 0) {
        rc = api_reply_invalid(req, e, "format", "json or csv");
        goto cleanup;
    }
    o = close_json(r);
    csv_bom(&b);
    csv_text(&b, "item", 1);
    csv_text(&b, "amount", 0);
    csv_end(&b);
    {
        static const char *const rows[] = {
            "opening_float_cents", "cash_in_cents", "expected_cash_cents", "counted_cash_cents",
            "difference_cents",    "tips_cents",    "refunds_cents",       NULL};
        json_t *bm = json_object_get(o, "by_method");

        csv_text(&b, "date", 1);
        csv_text(&b, db_res_text(r, 3), 0);
        csv_end(&b);
        for (int i = 0; rows[i] != NULL; i++) {
            csv_text(&b, rows[i], 1);
            csv_cents(&b, db_res_int(r, 7 + i), 0);
            csv_end(&b);
        }
        for (int i = 0; i < NMETHODS; i++) {
            char name[64];

            snprintf(name, sizeof(name), "net_%s", methods[i]);
            csv_text(&b, name, 1);
            csv_cents(
                &b,
                json_integer_value(json_object_get(json_object_get(bm, methods[i]), "net_cents")),
                0);
            csv_end(&b);
        }
        csv_text(&b, "note", 1);
        csv_text(&b, db_res_text(r, 15), 0);
        csv_end(&b);
    }
    http_set_header(req, "Content-Disposition", "attachment; filename=\"corte-de-caja.csv\"");
    rc = http_reply_text(req, 200, "text/csv; charset=utf-8", buf_str(&b), b.len);

cleanup:
    json_decref(o);
    db_res_free(r);
    buf_release(&b);
    return rc;
}
