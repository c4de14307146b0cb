/*
 * money — discounts, refunds, deposits kept, and what an appointment owes
 * (see money.h).
 */
#include "api/money.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"

#define AMOUNT_MAX 1000000000000LL
#define REASON_MAX 500

int money_appt_lock(struct http_req *req, struct db *db, int64_t tenant_id, int64_t id,
                    const char *field, struct money_appt *out, struct err *e)
{
    static const char *const lock_sql[] = {
        [DB_PG] = "SELECT price_cents, status, professional_id, branch_id FROM appointments "
                  "WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        [DB_SQLITE] = "SELECT price_cents, status, professional_id, branch_id FROM appointments "
                      "WHERE tenant_id = $1 AND id = $2",
    };
    struct db_res *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->id = id;
    rc = db_query(db, lock_sql[db_kind(db)], DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        http_reply_error(req, 404, "not_found", field, "no appointment '%lld'", (long long)id);
        rc = err_set(e, ERR_NOT_FOUND, "no appointment");
        goto cleanup;
    }
    out->price = db_res_int(r, 0);
    snprintf(out->status, sizeof(out->status), "%s", db_res_text(r, 1));
    out->professional_id = db_res_int(r, 2);
    out->branch_id = db_res_int(r, 3);
    rc = db_query_int(db,
                      "SELECT COALESCE(SUM(amount_cents), 0) FROM appointment_discounts "
                      "WHERE tenant_id = $1 AND appointment_id = $2",
                      DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &out->discount, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_int(db,
                      "SELECT COALESCE(SUM(amount_cents), 0) FROM payments "
                      "WHERE tenant_id = $1 AND appointment_id = $2",
                      DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &out->paid, e);
    if (rc > 0)
        rc = 0;

cleanup:
    db_res_free(r);
    return rc;
}

bool money_appt_closed(const struct money_appt *a)
{
    return strcmp(a->status, "CANCELLED") == 0 || strcmp(a->status, "NO_SHOW") == 0;
}

/* A payment and what was given back or kept of it, read under its lock. */
struct money_payment {
    int64_t id, amount, tip, appointment_id, professional_id, branch_id;
    int64_t refunded, refunded_tip, retained;
    char kind[16], method[16];
};

static int payment_lock(struct http_req *req, struct db *db, int64_t tenant_id, int64_t id,
                        struct money_payment *out, struct err *e)
{
    static const char *const lock_sql[] = {
        [DB_PG] = "SELECT kind, amount_cents, tip_cents, appointment_id, professional_id, "
                  "branch_id, method FROM payments WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        [DB_SQLITE] = "SELECT kind, amount_cents, tip_cents, appointment_id, professional_id, "
                      "branch_id, method FROM payments WHERE tenant_id = $1 AND id = $2",
    };
    struct db_res *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    out->id = id;
    rc = db_query(db, lock_sql[db_kind(db)], DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        http_reply_error(req, 404, "not_found", "id", "no payment '%lld'", (long long)id);
        rc = err_set(e, ERR_NOT_FOUND, "no payment");
        goto cleanup;
    }
    snprintf(out->kind, sizeof(out->kind), "%s", db_res_text(r, 0));
    out->amount = db_res_int(r, 1);
    out->tip = db_res_int(r, 2);
    out->appointment_id = db_res_isnull(r, 3) ? 0 : db_res_int(r, 3);
    out->professional_id = db_res_isnull(r, 4) ? 0 : db_res_int(r, 4);
    out->branch_id = db_res_isnull(r, 5) ? 0 : db_res_int(r, 5);
    snprintf(out->method, sizeof(out->method), "%s", db_res_text(r, 6));
    db_res_free(r);
    r = NULL;
    rc = db_query(db,
                  "SELECT COALESCE(-SUM(amount_cents), 0), COALESCE(-SUM(tip_cents), 0) "
                  "FROM payments WHERE tenant_id = $1 AND refund_of = $2",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r)) {
        out->refunded = db_res_int(r, 0);
        out->refunded_tip = db_res_int(r, 1);
    }
    rc = db_query_int(db,
                      "SELECT COALESCE(SUM(amount_cents), 0) FROM deposit_retentions "
                      "WHERE tenant_id = $1 AND payment_id = $2",
                      DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &out->retained, e);
    if (rc > 0)
        rc = 0;

cleanup:
    db_res_free(r);
    return rc;
}

static const char *const method_choices[] = {"CASH",     "CREDIT_CARD", "DEBIT_CARD",
                                             "TRANSFER", "OTHER",       NULL};

enum { R_AMOUNT, R_TIP, R_METHOD, R_REASON, R_PAID_AT };
static const struct api_field refund_fields[] = {
    {"amount_cents", API_T_INT, API_REQUIRED, 0, AMOUNT_MAX, NULL},
    {"tip_cents", API_T_INT, 0, 0, AMOUNT_MAX, NULL},
    {"method", API_T_ENUM, 0, 0, 0, method_choices},
    {"reason", API_T_STRING, API_REQUIRED, 1, REASON_MAX, NULL},
    {"paid_at", API_T_INSTANT, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_money_refund(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct money_payment p;
    struct db *db = NULL;
    json_t *body = NULL;
    char paid_txt[32], now_txt[32];
    int64_t id = 0, new_id = 0, tip = 0, left, now = (int64_t)time(NULL);
    int rc;

    if (api_auth_require(req, "payments", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, refund_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    if (v[R_TIP].present)
        tip = v[R_TIP].i;
    if (v[R_AMOUNT].i + tip == 0) {
        rc = api_reply_invalid(req, e, "amount_cents",
                               "a refund gives something back: amount_cents or tip_cents above 0");
        goto cleanup;
    }
    tz_format_instant(v[R_PAID_AT].present ? v[R_PAID_AT].i : now, paid_txt);
    tz_format_instant(now, now_txt);
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = payment_lock(req, db, au.tenant_id, id, &p, e);
    if (rc < 0)
        goto cleanup;
    if (strcmp(p.kind, "REFUND") == 0) {
        http_reply_error(req, 409, "not_refundable", "id",
                         "payment '%lld' is itself a refund: refund the payment it refers to",
                         (long long)id);
        rc = err_set(e, ERR_USAGE, "not refundable");
        goto cleanup;
    }
    rc = money_day_open(req, db, au.tenant_id, p.branch_id, au.user_id, paid_txt, "paid_at", e);
    if (rc < 0)
        goto cleanup;
    left = p.amount - p.refunded - p.retained;
    if (v[R_AMOUNT].i > left) {
        http_reply_error(req, 409, "over_refund", "amount_cents",
                         "payment '%lld' brought %lld cents, %lld were refunded and %lld "
                         "retained: at most %lld more",
                         (long long)id, (long long)p.amount, (long long)p.refunded,
                         (long long)p.retained, (long long)left);
        rc = err_set(e, ERR_USAGE, "over refund");
        goto cleanup;
    }
    if (tip > p.tip - p.refunded_tip) {
        http_reply_error(req, 409, "over_refund", "tip_cents",
                         "payment '%lld' brought a tip of %lld cents, %lld were refunded: at "
                         "most %lld more",
                         (long long)id, (long long)p.tip, (long long)p.refunded_tip,
                         (long long)(p.tip - p.refunded_tip));
        rc = err_set(e, ERR_USAGE, "over refund");
        goto cleanup;
    }
    rc = db_query_int(
        db,
        "INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, status, "
        "recorded_by, paid_at, reason, created_at, updated_at, kind, tip_cents, professional_id, "
        "branch_id, refund_of) "
        "VALUES ($1, $2, $3, $4, 'PAID', $5, $6, $7, $8, $8, 'REFUND', $9, $10, $11, $12) "
        "RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), p.appointment_id > 0 ? DB_INT(p.appointment_id) : DB_NULL,
                  DB_INT(-v[R_AMOUNT].i), DB_TEXT(v[R_METHOD].present ? v[R_METHOD].s : p.method),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(paid_txt),
                  DB_TEXT(v[R_REASON].s), DB_TEXT(now_txt), DB_INT(-tip),
                  p.professional_id > 0 ? DB_INT(p.professional_id) : DB_NULL,
                  p.branch_id > 0 ? DB_INT(p.branch_id) : DB_NULL, DB_INT(id)),
        &new_id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_reply(req, 201, db, MONEY_PAYMENT_COLS "WHERE tenant_id = $1 AND id = $2",
                       DB_PARAMS(DB_INT(au.tenant_id), DB_INT(new_id)), MONEY_PAYMENT_TYPES,
                       "payment", new_id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    return rc;
}

static const struct api_field retain_fields[] = {
    {"reason", API_T_STRING, API_NULLABLE, 0, REASON_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_money_retain(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct money_payment p;
    struct money_appt a;
    struct db *db = NULL;
    json_t *body = NULL;
    char now_txt[32];
    int64_t id = 0, new_id = 0, left;
    int rc;

    if (api_auth_require(req, "payments", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, retain_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant((int64_t)time(NULL), now_txt);
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = payment_lock(req, db, au.tenant_id, id, &p, e);
    if (rc < 0)
        goto cleanup;
    if (strcmp(p.kind, "DEPOSIT") != 0) {
        http_reply_error(req, 409, "not_a_deposit", "id",
                         "payment '%lld' is not a deposit: only a deposit is retained",
                         (long long)id);
        rc = err_set(e, ERR_USAGE, "not a deposit");
        goto cleanup;
    }
    rc = money_appt_lock(req, db, au.tenant_id, p.appointment_id, "appointment_id", &a, e);
    if (rc < 0)
        goto cleanup;
    if (!money_appt_closed(&a)) {
        http_reply_error(req, 409, "appointment_not_cancelled", "id",
                         "appointment '%lld' is %s: a deposit is retained only after a "
                         "cancellation or a no-show",
                         (long long)a.id, a.status);
        rc = err_set(e, ERR_USAGE, "not cancelled");
        goto cleanup;
    }
    left = p.amount - p.refunded - p.retained;
    if (left <= 0) {
        http_reply_error(req, 409, "nothing_to_retain", "id",
                         "deposit '%lld' was refunded or retained already", (long long)id);
        rc = err_set(e, ERR_USAGE, "nothing to retain");
        goto cleanup;
    }
    rc = db_query_int(
        db,
        "INSERT INTO deposit_retentions (tenant_id, payment_id, amount_cents, reason, "
        "recorded_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id), DB_INT(left),
                  DB_TEXT(v[0].present && !v[0].null ? v[0].s : NULL),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(now_txt)),
        &new_id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_reply(req, 201, db,
                       "SELECT id, tenant_id, payment_id, amount_cents, reason, recorded_by, "
                       "created_at, updated_at FROM deposit_retentions "
                       "WHERE tenant_id = $1 AND id = $2",
                       DB_PARAMS(DB_INT(au.tenant_id), DB_INT(new_id)), "iiiisitt", "retention",
                       new_id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    return rc;
}

static const char *const discount_kinds[] = {"AMOUNT", "PERCENT", NULL};
enum { D_KIND, D_VALUE, D_REASON };
static const struct api_field discount_fields[] = {
    {"kind", API_T_ENUM, API_REQUIRED, 0, 0, discount_kinds},
    {"value", API_T_INT, API_REQUIRED, 1, AMOUNT_MAX, NULL},
    {"reason", API_T_STRING, API_REQUIRED, 1, REASON_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

#define DISCOUNT_COLS                                                                              \
    "SELECT id, tenant_id, appointment_id, kind, value, amount_cents, reason, recorded_by, "       \
    "created_at, updated_at FROM appointment_discounts "
#define DISCOUNT_TYPES "iiisiisitt"

/* The largest discount, in percent of the price, the caller's role may give. */
static int role_limit(struct db *db, const struct api_auth *au, int64_t *max_pct, struct err *e)
{
    int rc;

    *max_pct = 0;
    if (au->role == API_ROLE_ADMIN || au->role == API_ROLE_MANAGER) {
        *max_pct = 100;
        return 0;
    }
    rc = db_query_int(db, "SELECT max_pct FROM discount_limits WHERE tenant_id = $1 AND role = $2",
                      DB_PARAMS(DB_INT(au->tenant_id), DB_TEXT(api_role_name(au->role))), max_pct,
                      e);
    return rc < 0 ? rc : 0;
}

int api_money_discount(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct money_appt a;
    struct db *db = NULL;
    json_t *body = NULL;
    char now_txt[32];
    int64_t id = 0, new_id = 0, amount, max_pct = 0;
    bool percent;
    int rc;

    if (api_auth_require(req, "discounts", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, discount_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    percent = strcmp(v[D_KIND].s, "PERCENT") == 0;
    if (percent && v[D_VALUE].i > 100) {
        rc = api_reply_invalid(req, e, "value", "a percentage is 1-100");
        goto cleanup;
    }
    tz_format_instant((int64_t)time(NULL), now_txt);
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = money_appt_lock(req, db, au.tenant_id, id, "id", &a, e);
    if (rc < 0)
        goto cleanup;
    if (money_appt_closed(&a)) {
        http_reply_error(req, 409, "appointment_closed", "id",
                         "appointment '%lld' is %s: it takes no discount", (long long)id, a.status);
        rc = err_set(e, ERR_USAGE, "appointment closed");
        goto cleanup;
    }
    if (a.discount > 0) {
        http_reply_error(req, 409, "already_discounted", "id",
                         "appointment '%lld' has a discount of %lld cents already", (long long)id,
                         (long long)a.discount);
        rc = err_set(e, ERR_USAGE, "already discounted");
        goto cleanup;
    }
    amount = percent ? (a.price * v[D_VALUE].i + 50) / 100 : v[D_VALUE].i;
    if (amount > a.price || amount <= 0) {
        http_reply_error(req, 409, "discount_exceeds_price", "value",
                         "a discount of %lld cents on appointment '%lld', whose price is %lld "
                         "cents",
                         (long long)amount, (long long)id, (long long)a.price);
        rc = err_set(e, ERR_USAGE, "discount exceeds price");
        goto cleanup;
    }
    if (a.price - amount < a.paid) {
        http_reply_error(req, 409, "discount_below_paid", "value",
                         "appointment '%lld' has %lld cents paid: its price after discount "
                         "cannot be less (refund first)",
                         (long long)id, (long long)a.paid);
        rc = err_set(e, ERR_USAGE, "discount below paid");
        goto cleanup;
    }
    rc = role_limit(db, &au, &max_pct, e);
    if (rc < 0)
        goto cleanup;
    if (amount * 100 > a.price * max_pct) {
        http_reply_error(req, 403, "discount_over_limit", "value",
                         "the role '%s' may give at most %lld%% off: %lld of %lld cents",
                         api_role_name(au.role), (long long)max_pct,
                         (long long)(a.price * max_pct / 100), (long long)a.price);
        rc = err_set(e, ERR_USAGE, "discount over limit");
        goto cleanup;
    }
    rc = db_query_int(db,
                      "INSERT INTO appointment_discounts (tenant_id, appointment_id, kind, value, "
                      "amount_cents, reason, recorded_by, created_at, updated_at) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id), DB_TEXT(v[D_KIND].s),
                                DB_INT(v[D_VALUE].i), DB_INT(amount), DB_TEXT(v[D_REASON].s),
                                au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(now_txt)),
                      &new_id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_reply(req, 201, db, DISCOUNT_COLS "WHERE tenant_id = $1 AND id = $2",
                       DB_PARAMS(DB_INT(au.tenant_id), DB_INT(new_id)), DISCOUNT_TYPES, "discount",
                       new_id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    return rc;
}

int api_money_appointment(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct money_appt a;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *out = NULL, *deposits = NULL, *actions = NULL, *discount = NULL;
    char *currency = NULL;
    int64_t id = 0, tips = 0, available = 0, balance;
    int rc;

    if (api_auth_require(req, "payments", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = money_appt_lock(req, db, au.tenant_id, id, "id", &a, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_text(db, "SELECT currency FROM tenants WHERE id = $1",
                       DB_PARAMS(DB_INT(au.tenant_id)), &currency, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_int(db,
                      "SELECT COALESCE(SUM(tip_cents), 0) FROM payments "
                      "WHERE tenant_id = $1 AND appointment_id = $2",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &tips, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query(db,
                  "SELECT p.id, p.amount_cents, "
                  "COALESCE((SELECT -SUM(r.amount_cents) FROM payments r "
                  "          WHERE r.tenant_id = p.tenant_id AND r.refund_of = p.id), 0), "
                  "COALESCE((SELECT SUM(d.amount_cents) FROM deposit_retentions d "
                  "          WHERE d.tenant_id = p.tenant_id AND d.payment_id = p.id), 0) "
                  "FROM payments p WHERE p.tenant_id = $1 AND p.appointment_id = $2 "
                  "AND p.kind = 'DEPOSIT' ORDER BY p.id",
                  DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    deposits = json_array();
    while (db_res_next(r)) {
        int64_t amt = db_res_int(r, 1), ref = db_res_int(r, 2), ret = db_res_int(r, 3);

        available += amt - ref - ret;
        json_array_append_new(
            deposits, json_pack("{s:I, s:I, s:I, s:I, s:I}", "payment_id",
                                (json_int_t)db_res_int(r, 0), "amount_cents", (json_int_t)amt,
                                "refunded_cents", (json_int_t)ref, "retained_cents",
                                (json_int_t)ret, "available_cents", (json_int_t)(amt - ref - ret)));
    }
    db_res_free(r);
    r = NULL;
    if (a.discount > 0) {
        rc = db_query(db, DISCOUNT_COLS "WHERE tenant_id = $1 AND appointment_id = $2",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &r, e);
        if (rc < 0)
            goto cleanup;
        if (db_res_next(r))
            discount = api_row_json(r, DISCOUNT_TYPES);
    }
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    balance = a.price - a.discount - a.paid;
    actions = json_array();
    if (money_appt_closed(&a)) {
        if (available > 0) {
            json_array_append_new(actions, json_string("refund_deposit"));
            json_array_append_new(actions, json_string("retain_deposit"));
        }
    } else {
        if (balance > 0)
            json_array_append_new(actions, json_string("pay"));
        if (balance > 0 && (strcmp(a.status, "PENDING") == 0 || strcmp(a.status, "CONFIRMED") == 0))
            json_array_append_new(actions, json_string("deposit"));
        if (a.discount == 0 && a.price > a.paid)
            json_array_append_new(actions, json_string("discount"));
    }
    out = json_pack("{s:I, s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:o, s:o}", "appointment_id",
                    (json_int_t)id, "status", a.status, "currency",
                    currency != NULL ? currency : "MXN", "price_cents", (json_int_t)a.price,
                    "discount", discount != NULL ? discount : json_null(), "due_cents",
                    (json_int_t)(a.price - a.discount), "paid_cents", (json_int_t)a.paid,
                    "balance_cents", (json_int_t)balance, "tips_cents", (json_int_t)tips,
                    "deposits", deposits, "actions", actions);
    discount = deposits = actions = NULL; /* stolen by json_pack's "o" */
    rc = http_reply_json(req, 200, out);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    db_res_free(r);
    json_decref(discount);
    json_decref(deposits);
    json_decref(actions);
    free(currency);
    return rc;
}

static const char *const limit_roles[] = {"PROFESSIONAL", "RECEPTIONIST", NULL};

int api_money_limits_get(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct db *db = NULL;
    json_t *items = NULL;
    int rc;

    if (api_auth_require(req, "discount_limits", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    for (int i = 0; limit_roles[i] != NULL; i++) {
        int64_t pct = 0;

        rc = db_query_int(db,
                          "SELECT max_pct FROM discount_limits WHERE tenant_id = $1 AND role = $2",
                          DB_PARAMS(DB_INT(au.tenant_id), DB_TEXT(limit_roles[i])), &pct, e);
        if (rc < 0)
            goto cleanup;
        json_array_append_new(
            items, json_pack("{s:s, s:I}", "role", limit_roles[i], "max_pct", (json_int_t)pct));
    }
    rc = http_reply_json(req, 200, json_pack("{s:o}", "items", items));
    items = NULL;

cleanup:
    json_decref(items);
    return rc;
}

static const struct api_field limit_fields[] = {
    {"role", API_T_ENUM, API_REQUIRED, 0, 0, limit_roles},
    {"max_pct", API_T_INT, API_REQUIRED, 0, 100, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_money_limits_put(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    char now_txt[32];
    int rc;

    if (api_auth_require(req, "discount_limits", API_ACT_UPDATE, &au) < 0)
        return 0;
    rc = api_read_body(req, limit_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant((int64_t)time(NULL), now_txt);
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_exec_params(
        db,
        "INSERT INTO discount_limits (tenant_id, role, max_pct, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $4) "
        "ON CONFLICT (tenant_id, role) DO UPDATE SET max_pct = excluded.max_pct, "
        "updated_at = excluded.updated_at",
        DB_PARAMS(DB_INT(au.tenant_id), DB_TEXT(v[0].s), DB_INT(v[1].i), DB_TEXT(now_txt)), NULL,
        e);
    if (rc < 0)
        goto cleanup;
    rc = http_reply_json(req, 200,
                         json_pack("{s:s, s:I}", "role", v[0].s, "max_pct", (json_int_t)v[1].i));

cleanup:
    json_decref(body);
    return rc;
}

int money_day_open(struct http_req *req, struct db *db, int64_t tenant_id, int64_t branch_id,
                   int64_t user_id, const char *instant, const char *field, struct err *e)
{
    int64_t id = 0;
    int rc;

    if (branch_id <= 0)
        return 0;
    /* A close takes the branch's row FOR UPDATE before it sums the day: every
     * movement in flight commits first and is counted, and none slips in after. */
    if (db_kind(db) == DB_PG) {
        rc = db_query_int(db, "SELECT id FROM branches WHERE tenant_id = $1 AND id = $2 FOR SHARE",
                          DB_PARAMS(DB_INT(tenant_id), DB_INT(branch_id)), &id, e);
        if (rc < 0)
            return rc;
    }
    rc = db_query_int(
        db,
        "SELECT id FROM cash_closes WHERE tenant_id = $1 AND branch_id = $2 "
        "AND from_at <= $3 AND to_at > $3 "
        "AND (register_user_id IS NULL OR register_user_id = $4) LIMIT 1",
        DB_PARAMS(DB_INT(tenant_id), DB_INT(branch_id), DB_TEXT(instant), DB_INT(user_id)), &id, e);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        http_reply_error(req, 409, "day_closed", field,
                         "the cash close %lld covers that day at branch '%lld': record the "
                         "correction on a later day",
                         (long long)id, (long long)branch_id);
        return err_set(e, ERR_USAGE, "day closed");
    }
    return 0;
}

int money_stock_check(struct http_req *req, struct db *db, int64_t tenant_id, int64_t branch_id,
                      int64_t product_id, int64_t delta, const char *at, const char *field,
                      struct err *e)
{
    static const char *const lock_sql[] = {
        [DB_PG] = "SELECT id FROM products WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        [DB_SQLITE] = "SELECT id FROM products WHERE tenant_id = $1 AND id = $2",
    };
    struct db_res *r = NULL;
    int64_t id = 0, allow = 0, stock = 0;
    int rc;

    rc = db_query_int(db, lock_sql[db_kind(db)], DB_PARAMS(DB_INT(tenant_id), DB_INT(product_id)),
                      &id, e);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        http_reply_error(req, 404, "not_found", field, "no product '%lld'", (long long)product_id);
        return err_set(e, ERR_NOT_FOUND, "no product");
    }
    if (delta >= 0)
        return 0;
    rc = db_query_int(db,
                      "SELECT CASE WHEN allow_negative_stock THEN 1 ELSE 0 END FROM money_settings "
                      "WHERE tenant_id = $1",
                      DB_PARAMS(DB_INT(tenant_id)), &allow, e);
    if (rc < 0)
        return rc;
    if (allow)
        return 0;
    rc = db_query_int(
        db,
        "SELECT COALESCE(SUM(quantity), 0) FROM stock_movements "
        "WHERE tenant_id = $1 AND product_id = $2 AND branch_id = $3 "
        "AND moved_at <= $4",
        DB_PARAMS(DB_INT(tenant_id), DB_INT(product_id), DB_INT(branch_id), DB_TEXT(at)), &stock,
        e);
    if (rc < 0)
        return rc;
    if (stock + delta < 0) {
        http_reply_error(req, 409, "insufficient_stock", field,
                         "product '%lld' has %lld in stock at branch '%lld': %lld cannot be taken",
                         (long long)product_id, (long long)stock, (long long)branch_id,
                         (long long)-delta);
        return err_set(e, ERR_USAGE, "insufficient stock");
    }
    /* A movement in the past lowers every later moment too: the first later
     * moment whose running stock (with the movements at that same instant)
     * would fall below zero refuses it.  Only the movements after `at` are
     * read, through stock_movements_product_idx. */
    rc = db_query(db,
                  "SELECT moved_at, run FROM (SELECT moved_at, SUM(quantity) OVER "
                  "(ORDER BY moved_at) AS run FROM stock_movements WHERE tenant_id = $1 "
                  "AND product_id = $2 AND branch_id = $3 AND moved_at > $4) later "
                  "WHERE run < $5 ORDER BY moved_at LIMIT 1",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(product_id), DB_INT(branch_id), DB_TEXT(at),
                            DB_INT(-(stock + delta))),
                  &r, e);
    if (rc < 0)
        return rc;
    if (db_res_next(r)) {
        char when[32], msg[160];
        int64_t left = stock + delta + db_res_int(r, 1);

        api_instant_rfc3339(db_res_text(r, 0), when);
        snprintf(msg, sizeof(msg),
                 "the stock of product '%lld' at branch '%lld' would be %lld at %s (movements "
                 "recorded after this one need it)",
                 (long long)product_id, (long long)branch_id, (long long)left, when);
        http_reply_json(req, 409,
                        json_pack("{s:{s:s, s:s, s:s, s:I, s:s, s:I}}", "error", "code",
                                  "stock_negative", "field", field, "message", msg, "product_id",
                                  (json_int_t)product_id, "at", when, "stock", (json_int_t)left));
        rc = err_set(e, ERR_USAGE, "stock negative later");
    }
    db_res_free(r);
    return rc;
}
