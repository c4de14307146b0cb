/*
 * payments — /api/v1/payments (see booking.h and money.h).
 *
 * Over-payment: the payments recorded against one appointment (deposits
 * included, refunds subtracted), whatever their status, never add up to
 * more than its price less its discount.  A tip (tip_cents) rides along a
 * payment, apart from its amount, and is the professional's: the
 * appointment's, or the one named by professional_id.  The check and the
 * insert run in one transaction that first locks the appointment's row
 * (money_appt_lock), so two payments racing for the last pesos cannot both
 * pass.  A CANCELLED or NO_SHOW appointment takes no payment any more: only
 * its deposits' refund or retention (money.c).
 */
#include "api/booking.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/money.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"

#define LIST_MAX_DAYS 366
#define NOTES_MAX     2000
/* Ten billion pesos: far above any real payment, far below int64 sums. */
#define AMOUNT_MAX 1000000000000LL

static const char *const method_choices[] = {"CASH",     "CREDIT_CARD", "DEBIT_CARD",
                                             "TRANSFER", "OTHER",       NULL};
static const char *const status_choices[] = {"PAID", "PARTIAL", "PENDING", NULL};
static const char *const kind_choices[] = {"PAYMENT", "DEPOSIT", NULL};

enum {
    P_APPOINTMENT,
    P_AMOUNT,
    P_METHOD,
    P_STATUS,
    P_PAID_AT,
    P_NOTES,
    P_KIND,
    P_TIP,
    P_PROFESSIONAL,
    P_BRANCH
};
static const struct api_field payment_fields[] = {
    {"appointment_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"amount_cents", API_T_INT, API_REQUIRED, 0, AMOUNT_MAX, NULL},
    {"method", API_T_ENUM, API_REQUIRED, 0, 0, method_choices},
    {"status", API_T_ENUM, 0, 0, 0, status_choices},
    {"paid_at", API_T_INSTANT, 0, 0, 0, NULL},
    {"notes", API_T_STRING, API_NULLABLE, 0, NOTES_MAX, NULL},
    {"kind", API_T_ENUM, 0, 0, 0, kind_choices},
    {"tip_cents", API_T_INT, 0, 0, AMOUNT_MAX, NULL},
    {"professional_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"branch_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

#define PAYMENT_COLS  MONEY_PAYMENT_COLS
#define PAYMENT_TYPES MONEY_PAYMENT_TYPES

/*
 * Within the open transaction: may this payment be added to the
 * appointment's?  Answers 404 / 409 itself (returning a negative code);
 * fills *a.
 */
static int check_appointment(struct http_req *req, struct db *db, int64_t tenant_id,
                             int64_t appointment_id, bool deposit, int64_t amount,
                             struct money_appt *a, struct err *e)
{
    int64_t due;
    int rc;

    rc = money_appt_lock(req, db, tenant_id, appointment_id, "appointment_id", a, e);
    if (rc < 0)
        goto cleanup;
    if (money_appt_closed(a)) {
        http_reply_error(req, 409, "appointment_closed", "appointment_id",
                         "appointment '%lld' is %s: only its deposits may be refunded or "
                         "retained",
                         (long long)appointment_id, a->status);
        rc = err_set(e, ERR_USAGE, "appointment closed");
        goto cleanup;
    }
    if (deposit && strcmp(a->status, "PENDING") != 0 && strcmp(a->status, "CONFIRMED") != 0) {
        http_reply_error(req, 409, "deposit_too_late", "kind",
                         "appointment '%lld' is %s: a deposit is taken before it",
                         (long long)appointment_id, a->status);
        rc = err_set(e, ERR_USAGE, "deposit too late");
        goto cleanup;
    }
    due = a->price - a->discount;
    if (a->paid + amount > due) {
        http_reply_error(req, 409, "overpayment", "amount_cents",
                         "appointment '%lld' costs %lld cents, %lld are already recorded: at "
                         "most %lld more",
                         (long long)appointment_id, (long long)due, (long long)a->paid,
                         (long long)(due > a->paid ? due - a->paid : 0));
        rc = err_set(e, ERR_USAGE, "overpayment");
    }

cleanup:
    return rc;
}

int api_payments_create(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct money_appt a = {0};
    struct db *db = NULL;
    json_t *body = NULL;
    char paid_txt[32], now_txt[32];
    int64_t appointment_id = 0, id = 0, now = (int64_t)time(NULL);
    int64_t tip = 0, professional_id = 0, branch_id = 0;
    bool deposit;
    int rc;

    if (api_auth_require(req, "payments", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_read_body(req, payment_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    if (v[P_APPOINTMENT].present && !v[P_APPOINTMENT].null)
        appointment_id = v[P_APPOINTMENT].i;
    if (v[P_TIP].present)
        tip = v[P_TIP].i;
    if (v[P_PROFESSIONAL].present && !v[P_PROFESSIONAL].null)
        professional_id = v[P_PROFESSIONAL].i;
    if (v[P_BRANCH].present && !v[P_BRANCH].null)
        branch_id = v[P_BRANCH].i;
    deposit = v[P_KIND].present && strcmp(v[P_KIND].s, "DEPOSIT") == 0;
    if (v[P_AMOUNT].i + tip == 0) {
        rc = api_reply_invalid(req, e, "amount_cents",
                               "a payment brings some money: "
                               "amount_cents or tip_cents above 0");
        goto cleanup;
    }
    if (deposit && appointment_id == 0) {
        rc = api_reply_invalid(req, e, "appointment_id", "a deposit is for an appointment");
        goto cleanup;
    }
    if (deposit && (tip > 0 || v[P_AMOUNT].i == 0)) {
        rc = api_reply_invalid(req, e, tip > 0 ? "tip_cents" : "amount_cents",
                               "a deposit is an amount above 0, without tip");
        goto cleanup;
    }
    if (tip > 0 && appointment_id == 0 && professional_id == 0) {
        rc = api_reply_invalid(req, e, "professional_id",
                               "a tip goes to a professional: name "
                               "the appointment or the professional");
        goto cleanup;
    }
    tz_format_instant(v[P_PAID_AT].present ? v[P_PAID_AT].i : now, paid_txt);
    tz_format_instant(now, now_txt);
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    if (appointment_id > 0) {
        rc =
            check_appointment(req, db, au.tenant_id, appointment_id, deposit, v[P_AMOUNT].i, &a, e);
        if (rc < 0)
            goto cleanup;
        if (professional_id == 0)
            professional_id = a.professional_id;
        if (branch_id == 0)
            branch_id = a.branch_id;
    }
    if (professional_id > 0 &&
        (rc = api_row_require(req, db, "users", professional_id, au.tenant_id, "professional_id",
                              "professional_id", e)) < 0)
        goto cleanup;
    if (branch_id > 0 && (rc = api_row_require(req, db, "branches", branch_id, au.tenant_id,
                                               "branch_id", "branch_id", e)) < 0)
        goto cleanup;
    if (branch_id == 0)
        branch_id = au.branch_id;
    rc = money_day_open(req, db, au.tenant_id, branch_id, au.user_id, paid_txt, "paid_at", e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_int(
        db,
        "INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, status, "
        "recorded_by, paid_at, notes, created_at, updated_at, kind, tip_cents, professional_id, "
        "branch_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), appointment_id > 0 ? DB_INT(appointment_id) : DB_NULL,
                  DB_INT(v[P_AMOUNT].i), DB_TEXT(v[P_METHOD].s),
                  DB_TEXT(v[P_STATUS].present ? v[P_STATUS].s : "PAID"),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(paid_txt),
                  DB_TEXT(v[P_NOTES].present && !v[P_NOTES].null ? v[P_NOTES].s : NULL),
                  DB_TEXT(now_txt), DB_TEXT(deposit ? "DEPOSIT" : "PAYMENT"), DB_INT(tip),
                  professional_id > 0 ? DB_INT(professional_id) : DB_NULL,
                  branch_id > 0 ? DB_INT(branch_id) : DB_NULL),
        &id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    rc =
        api_row_reply(req, 201, db, PAYMENT_COLS "WHERE tenant_id = $1 AND id = $2",
                      DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), PAYMENT_TYPES, "payment", id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    return rc;
}

int api_payments_get(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_auth au;
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "payments", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        return rc;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        return rc;
    return api_row_reply(req, 200, db, PAYMENT_COLS "WHERE tenant_id = $1 AND id = $2",
                         DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), PAYMENT_TYPES, "payment", id,
                         e);
}

int api_payments_list(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct db_param params[6];
    struct api_auth au;
    struct api_page page;
    struct buf sql = BUF_INIT;
    struct db *db = NULL;
    char from_txt[32], to_txt[32];
    int64_t appointment_id = 0, from = 0, to = 0;
    bool has_appointment = false;
    int np = 0, rc;

    if (api_auth_require(req, "payments", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_page_parse(req, &page, e)) < 0 ||
        (rc = api_query_id(req, "appointment_id", &appointment_id, &has_appointment, e)) < 0)
        goto cleanup;
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    buf_adds(&sql, PAYMENT_COLS "WHERE tenant_id = $1 AND id > $2");
    params[np++] = DB_INT(au.tenant_id);
    params[np++] = DB_INT(page.after_id);
    /* A range is required, except for the payments of one appointment (a handful). */
    if (!has_appointment || http_req_query(req, "from") != NULL ||
        http_req_query(req, "to") != NULL) {
        rc = api_booking_range(req, db, au.tenant_id, LIST_MAX_DAYS, &from, &to, e);
        if (rc < 0)
            goto cleanup;
        tz_format_instant(from, from_txt);
        tz_format_instant(to, to_txt);
        params[np++] = DB_TEXT(from_txt);
        params[np++] = DB_TEXT(to_txt);
        buf_addf(&sql, " AND paid_at >= $%d AND paid_at < $%d", np - 1, np);
    }
    if (has_appointment) {
        params[np++] = DB_INT(appointment_id);
        buf_addf(&sql, " AND appointment_id = $%d", np);
    }
    buf_addf(&sql, " ORDER BY id LIMIT %d", page.limit + 1);
    rc = api_list_reply(req, db, &page, buf_str(&sql), np, params, PAYMENT_TYPES, e);

cleanup:
    buf_release(&sql);
    return rc;
}
