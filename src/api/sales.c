/*
 * sales — a ticket of services and products paid by one or several
 * methods, the stock movements of products, the stock at any instant, and
 * the tenant's money settings (see money.h).
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

#define AMOUNT_MAX   1000000000000LL
#define QUANTITY_MAX 100000
#define LINES_MAX    50
#define PAYS_MAX     10

static const char *const method_choices[] = {"CASH",     "CREDIT_CARD", "DEBIT_CARD",
                                             "TRANSFER", "OTHER",       NULL};

enum { S_BRANCH, S_CLIENT, S_SOLD_AT, S_NOTES, S_LINES, S_PAYMENTS };
static const struct api_field sale_fields[] = {
    {"branch_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"client_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"sold_at", API_T_INSTANT, 0, 0, 0, NULL},
    {"notes", API_T_STRING, API_NULLABLE, 0, 2000, NULL},
    {"lines", API_T_ARRAY, API_REQUIRED, 1, LINES_MAX, NULL},
    {"payments", API_T_ARRAY, API_REQUIRED, 1, PAYS_MAX, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

enum { L_APPOINTMENT, L_PRODUCT, L_QUANTITY, L_PRICE, L_PRO };
static const struct api_field line_fields[] = {
    {"appointment_id", API_T_ID, 0, 0, 0, NULL},
    {"product_id", API_T_ID, 0, 0, 0, NULL},
    {"quantity", API_T_INT, 0, 1, QUANTITY_MAX, NULL},
    {"unit_price_cents", API_T_INT, 0, 0, AMOUNT_MAX, NULL},
    {"professional_id", API_T_ID, 0, 0, 0, NULL}, /* a product's seller, for its commission */
    {NULL, 0, 0, 0, 0, NULL},
};

enum { Y_METHOD, Y_AMOUNT, Y_TIP, Y_PROFESSIONAL };
static const struct api_field pay_fields[] = {
    {"method", API_T_ENUM, API_REQUIRED, 0, 0, method_choices},
    {"amount_cents", API_T_INT, API_REQUIRED, 0, AMOUNT_MAX, NULL},
    {"tip_cents", API_T_INT, 0, 0, AMOUNT_MAX, NULL},
    {"professional_id", API_T_ID, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

struct sale_line {
    int64_t appointment_id, product_id, professional_id, quantity, unit, amount;
    int64_t left; /* still to be covered by the payments */
};

struct sale_pay {
    const char *method;
    int64_t amount, tip, professional_id;
};

/* Check every element of array against fields, naming "NAME[i].field" on failure. */
static int check_elements(struct http_req *req, json_t *array, const char *name,
                          const struct api_field *fields, struct api_value (*out)[API_MAX_FIELDS],
                          struct err *e)
{
    struct api_invalid inv;
    char prefix[48];
    size_t i;
    json_t *el;

    json_array_foreach(array, i, el)
    {
        snprintf(prefix, sizeof(prefix), "%s[%zu].", name, i);
        if (api_check_object(el, fields, API_CREATE, prefix, out[i], &inv) < 0)
            return api_reply_invalid_at(req, e, &inv);
    }
    return 0;
}

static int sale_reply(struct http_req *req, int status, struct db *db, int64_t tenant_id,
                      int64_t id, struct err *e)
{
    struct db_res *r = NULL;
    json_t *sale = NULL, *lines = NULL, *pays = NULL;
    int rc;

    rc = db_query(db,
                  "SELECT id, tenant_id, branch_id, client_id, total_cents, recorded_by, sold_at, "
                  "notes, created_at, updated_at FROM sales WHERE tenant_id = $1 AND id = $2",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_NOT_FOUND, "no sale '%lld'", (long long)id);
        goto cleanup;
    }
    sale = api_row_json(r, "iiiiiitstt");
    db_res_free(r);
    r = NULL;
    rc = db_query(db,
                  "SELECT l.id, l.kind, l.appointment_id, l.product_id, l.professional_id, "
                  "l.quantity, l.unit_price_cents, l.amount_cents, COALESCE(p.name, sv.name) "
                  "AS name FROM sale_lines l "
                  "LEFT JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id "
                  "LEFT JOIN appointments a ON a.tenant_id = l.tenant_id "
                  "AND a.id = l.appointment_id "
                  "LEFT JOIN services sv ON sv.tenant_id = a.tenant_id AND sv.id = a.service_id "
                  "WHERE l.tenant_id = $1 AND l.sale_id = $2 ORDER BY l.id",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    lines = json_array();
    while (db_res_next(r))
        json_array_append_new(lines, api_row_json(r, "isiiiiiis"));
    db_res_free(r);
    r = NULL;
    rc = db_query(db, MONEY_PAYMENT_COLS "WHERE tenant_id = $1 AND sale_id = $2 ORDER BY id",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    pays = json_array();
    while (db_res_next(r))
        json_array_append_new(pays, api_row_json(r, MONEY_PAYMENT_TYPES));
    if (sale == NULL) {
        rc = http_reply_internal(req, "sale not UTF-8");
        goto cleanup;
    }
    json_object_set_new(sale, "lines", lines);
    json_object_set_new(sale, "payments", pays);
    lines = pays = NULL;
    rc = http_reply_json(req, status, sale);
    sale = NULL;

cleanup:
    db_res_free(r);
    json_decref(sale);
    json_decref(lines);
    json_decref(pays);
    return rc;
}

/* One payments row of a sale. */
static int insert_payment(struct db *db, const struct api_auth *au, int64_t sale_id,
                          int64_t branch_id, int64_t appointment_id, int64_t amount, int64_t tip,
                          int64_t professional_id, const char *method, const char *at,
                          const char *now, struct err *e)
{
    return db_exec_params(
        db,
        "INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, status, "
        "recorded_by, paid_at, created_at, updated_at, kind, tip_cents, professional_id, "
        "branch_id, sale_id) VALUES ($1, $2, $3, $4, 'PAID', $5, $6, $7, $7, 'PAYMENT', $8, $9, "
        "$10, $11)",
        DB_PARAMS(DB_INT(au->tenant_id), appointment_id > 0 ? DB_INT(appointment_id) : DB_NULL,
                  DB_INT(amount), DB_TEXT(method), au->user_id > 0 ? DB_INT(au->user_id) : DB_NULL,
                  DB_TEXT(at), DB_TEXT(now), DB_INT(tip),
                  professional_id > 0 ? DB_INT(professional_id) : DB_NULL, DB_INT(branch_id),
                  DB_INT(sale_id)),
        NULL, e);
}

int api_sales_create(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_value(*lv)[API_MAX_FIELDS] = xcalloc(LINES_MAX, sizeof(*lv));
    struct api_value(*pv)[API_MAX_FIELDS] = xcalloc(PAYS_MAX, sizeof(*pv));
    struct sale_line lines[LINES_MAX];
    struct sale_pay pays[PAYS_MAX];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    char at[32], now_txt[32], field[64];
    int64_t now = (int64_t)time(NULL), branch_id, client_id = 0, total = 0, paid = 0, sale_id = 0;
    size_t nl, np;
    int rc;

    if (api_auth_require(req, "sales", API_ACT_CREATE, &au) < 0) {
        rc = 0;
        goto cleanup;
    }
    rc = api_read_body(req, sale_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    nl = json_array_size(v[S_LINES].json);
    np = json_array_size(v[S_PAYMENTS].json);
    if ((rc = check_elements(req, v[S_LINES].json, "lines", line_fields, lv, e)) < 0 ||
        (rc = check_elements(req, v[S_PAYMENTS].json, "payments", pay_fields, pv, e)) < 0)
        goto cleanup;
    memset(lines, 0, sizeof(lines));
    for (size_t i = 0; i < nl; i++) {
        bool appt = lv[i][L_APPOINTMENT].present, prod = lv[i][L_PRODUCT].present;

        snprintf(field, sizeof(field), "lines[%zu].appointment_id", i);
        if (appt == prod || (appt && (lv[i][L_QUANTITY].present || lv[i][L_PRICE].present ||
                                      lv[i][L_PRO].present))) {
            rc = api_reply_invalid(req, e, field,
                                   "a line is a service (appointment_id) or a product "
                                   "(product_id, quantity, unit_price_cents?)");
            goto cleanup;
        }
        lines[i].appointment_id = appt ? lv[i][L_APPOINTMENT].i : 0;
        lines[i].product_id = prod ? lv[i][L_PRODUCT].i : 0;
        lines[i].quantity = lv[i][L_QUANTITY].present ? lv[i][L_QUANTITY].i : 1;
        lines[i].unit = lv[i][L_PRICE].present ? lv[i][L_PRICE].i : -1;
        lines[i].professional_id = lv[i][L_PRO].present ? lv[i][L_PRO].i : 0;
        for (size_t j = 0; appt && j < i; j++)
            if (lines[j].appointment_id == lines[i].appointment_id) {
                rc = api_reply_invalid(req, e, field, "the appointment is on the ticket twice");
                goto cleanup;
            }
    }
    for (size_t i = 0; i < np; i++) {
        pays[i].method = pv[i][Y_METHOD].s;
        pays[i].amount = pv[i][Y_AMOUNT].i;
        pays[i].tip = pv[i][Y_TIP].present ? pv[i][Y_TIP].i : 0;
        pays[i].professional_id = pv[i][Y_PROFESSIONAL].present ? pv[i][Y_PROFESSIONAL].i : 0;
        if (pays[i].amount + pays[i].tip == 0) {
            snprintf(field, sizeof(field), "payments[%zu].amount_cents", i);
            rc = api_reply_invalid(req, e, field, "a payment brings some money");
            goto cleanup;
        }
        paid += pays[i].amount;
    }
    branch_id = v[S_BRANCH].i;
    if (v[S_CLIENT].present && !v[S_CLIENT].null)
        client_id = v[S_CLIENT].i;
    tz_format_instant(v[S_SOLD_AT].present ? v[S_SOLD_AT].i : now, at);
    tz_format_instant(now, now_txt);

    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = api_row_require(req, db, "branches", branch_id, au.tenant_id, "branch_id", "branch",
                              e)) < 0)
        goto cleanup;
    if (client_id > 0 && (rc = api_row_require(req, db, "clients", client_id, au.tenant_id,
                                               "client_id", "client", e)) < 0)
        goto cleanup;
    rc = money_day_open(req, db, au.tenant_id, branch_id, au.user_id, at, "sold_at", e);
    if (rc < 0)
        goto cleanup;
    for (size_t i = 0; i < nl; i++) {
        struct sale_line *l = &lines[i];

        if (l->appointment_id > 0) {
            struct money_appt a;

            snprintf(field, sizeof(field), "lines[%zu].appointment_id", i);
            rc = money_appt_lock(req, db, au.tenant_id, l->appointment_id, field, &a, e);
            if (rc < 0)
                goto cleanup;
            if (money_appt_closed(&a) || a.price - a.discount - a.paid <= 0) {
                http_reply_error(
                    req, 409, money_appt_closed(&a) ? "appointment_closed" : "nothing_due", field,
                    "appointment '%lld' (%s) has nothing to pay", (long long)a.id, a.status);
                rc = err_set(e, ERR_USAGE, "nothing due");
                goto cleanup;
            }
            l->unit = l->amount = a.price - a.discount - a.paid;
            l->professional_id = a.professional_id;
        } else {
            int64_t taken = l->quantity, price = 0;

            snprintf(field, sizeof(field), "lines[%zu].quantity", i);
            for (size_t j = 0; j < i; j++)
                if (lines[j].product_id == l->product_id)
                    taken += lines[j].quantity;
            rc = money_stock_check(req, db, au.tenant_id, branch_id, l->product_id, -taken, at,
                                   field, e);
            if (rc < 0)
                goto cleanup;
            if (l->professional_id > 0 &&
                (rc = api_row_exists(db, "users", l->professional_id, au.tenant_id, e)) <= 0) {
                if (rc == 0) {
                    snprintf(field, sizeof(field), "lines[%zu].professional_id", i);
                    http_reply_error(req, 404, "not_found", field, "no professional '%lld'",
                                     (long long)l->professional_id);
                    rc = err_set(e, ERR_NOT_FOUND, "no professional");
                }
                goto cleanup;
            }
            if (l->unit < 0) {
                rc = db_query_int(
                    db, "SELECT price_cents FROM products WHERE tenant_id = $1 AND id = $2",
                    DB_PARAMS(DB_INT(au.tenant_id), DB_INT(l->product_id)), &price, e);
                if (rc < 0)
                    goto cleanup;
                l->unit = price;
            }
            l->amount = l->unit * l->quantity;
        }
        l->left = l->amount;
        total += l->amount;
    }
    if (paid != total) {
        http_reply_error(req, 409, "payment_mismatch", "payments",
                         "the payments add up to %lld cents, the ticket to %lld", (long long)paid,
                         (long long)total);
        rc = err_set(e, ERR_USAGE, "payment mismatch");
        goto cleanup;
    }
    rc = db_query_int(
        db,
        "INSERT INTO sales (tenant_id, branch_id, client_id, total_cents, "
        "recorded_by, sold_at, notes, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(branch_id),
                  client_id > 0 ? DB_INT(client_id) : DB_NULL, DB_INT(total),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(at),
                  DB_TEXT(v[S_NOTES].present && !v[S_NOTES].null ? v[S_NOTES].s : NULL),
                  DB_TEXT(now_txt)),
        &sale_id, e);
    if (rc < 0)
        goto cleanup;
    for (size_t i = 0; i < nl; i++) {
        struct sale_line *l = &lines[i];

        rc = db_exec_params(
            db,
            "INSERT INTO sale_lines (tenant_id, sale_id, kind, appointment_id, product_id, "
            "professional_id, quantity, unit_price_cents, amount_cents, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            DB_PARAMS(DB_INT(au.tenant_id), DB_INT(sale_id),
                      DB_TEXT(l->appointment_id > 0 ? "SERVICE" : "PRODUCT"),
                      l->appointment_id > 0 ? DB_INT(l->appointment_id) : DB_NULL,
                      l->product_id > 0 ? DB_INT(l->product_id) : DB_NULL,
                      l->professional_id > 0 ? DB_INT(l->professional_id) : DB_NULL,
                      DB_INT(l->quantity), DB_INT(l->unit), DB_INT(l->amount), DB_TEXT(now_txt)),
            NULL, e);
        if (rc < 0)
            goto cleanup;
        if (l->product_id > 0) {
            rc = db_exec_params(db,
                                "INSERT INTO stock_movements (tenant_id, branch_id, product_id, "
                                "kind, quantity, sale_id, recorded_by, moved_at, created_at, "
                                "updated_at) VALUES ($1, $2, $3, 'SALE', $4, $5, $6, $7, $8, $8)",
                                DB_PARAMS(DB_INT(au.tenant_id), DB_INT(branch_id),
                                          DB_INT(l->product_id), DB_INT(-l->quantity),
                                          DB_INT(sale_id),
                                          au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL,
                                          DB_TEXT(at), DB_TEXT(now_txt)),
                                NULL, e);
            if (rc < 0)
                goto cleanup;
        }
    }
    /* Each payment covers the lines in order: one row per appointment it pays
     * (its rules are the appointment's), one for the products; the tip rides on
     * the first row, for the professional named or the first service's. */
    for (size_t i = 0; i < np; i++) {
        struct sale_pay *p = &pays[i];
        int64_t left = p->amount, tip = p->tip, tip_pro = p->professional_id;
        int64_t products_part = 0;

        for (size_t j = 0; tip_pro == 0 && j < nl; j++)
            tip_pro = lines[j].professional_id;
        if (tip > 0 && tip_pro == 0) {
            snprintf(field, sizeof(field), "payments[%zu].professional_id", i);
            rc = api_reply_invalid(req, e, field, "a tip goes to a professional: name one");
            goto cleanup;
        }
        for (size_t j = 0; j < nl && left > 0; j++) {
            int64_t part = left < lines[j].left ? left : lines[j].left;

            if (part == 0)
                continue;
            lines[j].left -= part;
            left -= part;
            if (lines[j].appointment_id == 0) {
                products_part += part;
                continue;
            }
            rc = insert_payment(db, &au, sale_id, branch_id, lines[j].appointment_id, part, tip,
                                tip > 0 ? tip_pro : lines[j].professional_id, p->method, at,
                                now_txt, e);
            if (rc < 0)
                goto cleanup;
            tip = 0;
        }
        if (products_part > 0 || tip > 0) {
            rc = insert_payment(db, &au, sale_id, branch_id, 0, products_part, tip,
                                tip > 0 ? tip_pro : 0, p->method, at, now_txt, e);
            if (rc < 0)
                goto cleanup;
        }
    }
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    rc = sale_reply(req, 201, db, au.tenant_id, sale_id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    free(lv);
    free(pv);
    return rc;
}

int api_sales_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    int64_t id = 0;
    int rc;

    if (api_auth_require(req, "sales", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        return rc;
    return sale_reply(req, 200, db, au.tenant_id, id, e);
}

static const char *const move_kinds[] = {"RECEIPT", "RETURN", "ADJUSTMENT", NULL};
enum { M_BRANCH, M_PRODUCT, M_KIND, M_QUANTITY, M_REASON, M_COST, M_AT };
static const struct api_field move_fields[] = {
    {"branch_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"product_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"kind", API_T_ENUM, API_REQUIRED, 0, 0, move_kinds},
    {"quantity", API_T_INT, API_REQUIRED, -QUANTITY_MAX, QUANTITY_MAX, NULL},
    {"reason", API_T_STRING, API_NULLABLE, 0, 500, NULL},
    {"unit_cost_cents", API_T_INT, API_NULLABLE, 0, AMOUNT_MAX, NULL},
    {"moved_at", API_T_INSTANT, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_stock_move(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    char at[32], now_txt[32];
    int64_t now = (int64_t)time(NULL), id = 0, q;
    bool adjust;
    int rc;

    if (api_auth_require(req, "stock", API_ACT_CREATE, &au) < 0)
        return 0;
    rc = api_read_body(req, move_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    q = v[M_QUANTITY].i;
    adjust = strcmp(v[M_KIND].s, "ADJUSTMENT") == 0;
    if (q == 0 || (!adjust && q < 0)) {
        rc = api_reply_invalid(req, e, "quantity",
                               adjust ? "an adjustment moves some units (not 0)"
                                      : "a receipt or a return brings units in: above 0");
        goto cleanup;
    }
    if (adjust && (!v[M_REASON].present || v[M_REASON].null || v[M_REASON].s[0] == '\0')) {
        rc = api_reply_invalid(req, e, "reason", "an adjustment says why");
        goto cleanup;
    }
    if (v[M_AT].present && v[M_AT].i > now + 300) {
        rc = api_reply_invalid(req, e, "moved_at", "a movement is not recorded in the future");
        goto cleanup;
    }
    tz_format_instant(v[M_AT].present ? v[M_AT].i : now, at);
    tz_format_instant(now, now_txt);
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = api_row_require(req, db, "branches", v[M_BRANCH].i, au.tenant_id, "branch_id",
                              "branch", e)) < 0)
        goto cleanup;
    rc = money_stock_check(req, db, au.tenant_id, v[M_BRANCH].i, v[M_PRODUCT].i, q, at, "quantity",
                           e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_int(
        db,
        "INSERT INTO stock_movements (tenant_id, branch_id, product_id, kind, quantity, "
        "unit_cost_cents, reason, recorded_by, moved_at, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(v[M_BRANCH].i), DB_INT(v[M_PRODUCT].i),
                  DB_TEXT(v[M_KIND].s), DB_INT(q),
                  v[M_COST].present && !v[M_COST].null ? DB_INT(v[M_COST].i) : DB_NULL,
                  DB_TEXT(v[M_REASON].present && !v[M_REASON].null ? v[M_REASON].s : NULL),
                  au.user_id > 0 ? DB_INT(au.user_id) : DB_NULL, DB_TEXT(at), DB_TEXT(now_txt)),
        &id, e);
    if (rc < 0)
        goto cleanup;
    rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_reply(req, 201, db,
                       "SELECT id, tenant_id, branch_id, product_id, kind, quantity, "
                       "unit_cost_cents, reason, sale_id, recorded_by, moved_at, created_at, "
                       "updated_at FROM stock_movements WHERE tenant_id = $1 AND id = $2",
                       DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), "iiiisiisiittt",
                       "stock movement", id, e);

cleanup:
    if (db != NULL && db_in_transaction(db))
        db_rollback(db);
    json_decref(body);
    return rc;
}

int api_stock_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *items = NULL;
    char at[32];
    const char *at_q = http_req_query(req, "at");
    int64_t branch_id = 0, when = (int64_t)time(NULL);
    bool has_branch = false;
    int y, m, d, rc;

    if (api_auth_require(req, "stock", API_ACT_READ, &au) < 0)
        return 0;
    rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e);
    if (rc < 0)
        goto cleanup;
    if (!has_branch) {
        rc = api_reply_invalid(req, e, "branch_id", "the stock is per branch: name it");
        goto cleanup;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    if (at_q != NULL && api_date_parse(at_q, &y, &m, &d) == 0) {
        char *zone = NULL;

        rc = db_query_text(db,
                           "SELECT COALESCE(b.timezone, t.timezone) FROM branches b "
                           "JOIN tenants t ON t.id = b.tenant_id WHERE b.tenant_id = $1 AND "
                           "b.id = $2",
                           DB_PARAMS(DB_INT(au.tenant_id), DB_INT(branch_id)), &zone, e);
        if (rc < 0)
            goto cleanup;
        /* the end of that day: the next midnight, exclusive */
        tz_civil_from_days(tz_days_from_civil(y, m, d) + 1, &y, &m, &d);
        rc = tz_local_to_utc(zone != NULL ? zone : "UTC", y, m, d, 0, 0, &when, e);
        free(zone);
        if (rc < 0)
            goto cleanup;
        when -= 1;
    } else if (at_q != NULL && tz_parse_instant(at_q, &when) < 0) {
        rc = api_reply_invalid(req, e, "at", "an instant (RFC 3339) or a date (YYYY-MM-DD)");
        goto cleanup;
    }
    tz_format_instant(when, at);
    rc = db_query(db,
                  "SELECT p.id, p.sku, p.name, p.low_stock_threshold, "
                  "COALESCE(SUM(m.quantity), 0) FROM products p "
                  "LEFT JOIN stock_movements m ON m.tenant_id = p.tenant_id "
                  "AND m.product_id = p.id AND m.branch_id = $2 AND m.moved_at <= $3 "
                  "WHERE p.tenant_id = $1 GROUP BY p.id, p.sku, p.name, p.low_stock_threshold "
                  "ORDER BY p.sku",
                  DB_PARAMS(DB_INT(au.tenant_id), DB_INT(branch_id), DB_TEXT(at)), &r, e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    while (db_res_next(r)) {
        int64_t q = db_res_int(r, 4), low = db_res_int(r, 3);

        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:I, s:I, s:b}", "product_id",
                                               (json_int_t)db_res_int(r, 0), "sku",
                                               db_res_text(r, 1), "name", db_res_text(r, 2),
                                               "low_stock_threshold", (json_int_t)low, "quantity",
                                               (json_int_t)q, "low", q <= low));
    }
    {
        char at_rfc[32];

        api_instant_rfc3339(at, at_rfc);
        rc = http_reply_json(req, 200,
                             json_pack("{s:I, s:s, s:o}", "branch_id", (json_int_t)branch_id, "at",
                                       at_rfc, "items", items));
        items = NULL;
    }

cleanup:
    db_res_free(r);
    json_decref(items);
    return rc;
}

int api_money_settings_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    int64_t allow = 0;
    int rc;

    if (api_auth_require(req, "money_settings", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        return rc;
    rc = db_query_int(db,
                      "SELECT CASE WHEN allow_negative_stock THEN 1 ELSE 0 END FROM money_settings "
                      "WHERE tenant_id = $1",
                      DB_PARAMS(DB_INT(au.tenant_id)), &allow, e);
    if (rc < 0)
        return rc;
    return http_reply_json(req, 200, json_pack("{s:b}", "allow_negative_stock", allow != 0));
}

static const struct api_field settings_fields[] = {
    {"allow_negative_stock", API_T_BOOL, API_REQUIRED, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_money_settings_put(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    char now_txt[32];
    int rc;

    if (api_auth_require(req, "money_settings", API_ACT_UPDATE, &au) < 0)
        return 0;
    rc = api_read_body(req, settings_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant((int64_t)time(NULL), now_txt);
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc =
        db_exec_params(db,
                       "INSERT INTO money_settings (tenant_id, allow_negative_stock, created_at, "
                       "updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (tenant_id) DO UPDATE "
                       "SET allow_negative_stock = excluded.allow_negative_stock, "
                       "updated_at = excluded.updated_at",
                       DB_PARAMS(DB_INT(au.tenant_id), DB_BOOL(v[0].b), DB_TEXT(now_txt)), NULL, e);
    if (rc < 0)
        goto cleanup;
    rc = http_reply_json(req, 200, json_pack("{s:b}", "allow_negative_stock", v[0].b));

cleanup:
    json_decref(body);
    return rc;
}
