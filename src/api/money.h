/*
 * money — what a visit costs and what was paid for it (issue 19): tips,
 * discounts, deposits, refunds and the deposit kept after a cancellation.
 * Routes in routes_money.c.
 *
 * Money is integer cents in the tenant's currency.  A recorded payment is
 * never changed nor deleted: a refund is a new row of payments (kind
 * REFUND, negative amount_cents and tip_cents) naming the payment it gives
 * back (refund_of).  Who recorded each movement, and when, is on its row.
 *
 * Every rule that needs a sum is checked in the one transaction that
 * writes, after locking the row it is about (PostgreSQL SELECT ... FOR
 * UPDATE; SQLite's BEGIN IMMEDIATE admits one writer at a time): the
 * appointment for payments and discounts, the payment for its refunds.
 * A refusal answers 4xx with a stable code and writes nothing:
 *
 *   400 invalid               a field (named) is malformed
 *   404 not_found             an id that is not the tenant's
 *   409 overpayment           the appointment's payments would exceed its price after discount
 *   409 appointment_closed    a payment, deposit or discount on a CANCELLED / NO_SHOW
 *                             appointment (only its deposits' refund or retention remain)
 *   409 deposit_too_late      a deposit on an appointment no longer PENDING / CONFIRMED
 *   409 over_refund           a refund beyond what the payment brought (less earlier
 *                             refunds and what was retained)
 *   409 not_refundable        a refund of a refund
 *   409 already_discounted    the appointment has its discount already
 *   409 discount_exceeds_price the discount is more than the price
 *   409 discount_below_paid   the price after discount would be below what was paid
 *   403 discount_over_limit   the caller's role may not give that much (discount_limits)
 *   409 not_a_deposit         retention of a payment that is not a deposit
 *   409 appointment_not_cancelled retention while the appointment may still happen
 *   409 nothing_to_retain     the deposit was refunded or retained already
 *
 * Roles (auth.c): payments as SPEC §8 (ADMIN, MANAGER, RECEPTIONIST);
 * "discounts" the same; "discount_limits" read by them, set by ADMIN.
 */
#ifndef CITAPLANNER_API_MONEY_H
#define CITAPLANNER_API_MONEY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

/*
 * money.c
 *   GET  /api/v1/appointments/{id}/money
 *        {appointment_id, status, currency, price_cents, discount|null, due_cents,
 *         paid_cents, balance_cents, tips_cents, deposits:[{payment_id, amount_cents,
 *         refunded_cents, retained_cents, available_cents}], actions:[...]}
 *        actions: what may be done now: "pay", "deposit", "discount", "refund_deposit",
 *        "retain_deposit" (a CANCELLED / NO_SHOW appointment offers only the last two).
 *   POST /api/v1/appointments/{id}/discount {kind: AMOUNT|PERCENT, value, reason}
 *        PERCENT: value 1-100, amount = price * value / 100 rounded half up.
 *   POST /api/v1/payments/{id}/refunds {amount_cents, tip_cents?, method?, reason, paid_at?}
 *   POST /api/v1/payments/{id}/retain {reason?}
 *   GET  /api/v1/discount-limits       {"items":[{role, max_pct}]}
 *   PUT  /api/v1/discount-limits {role: PROFESSIONAL|RECEPTIONIST, max_pct: 0-100}
 */
int api_money_appointment(struct http_req *req, struct err *e);
int api_money_discount(struct http_req *req, struct err *e);
int api_money_refund(struct http_req *req, struct err *e);
int api_money_retain(struct http_req *req, struct err *e);
int api_money_limits_get(struct http_req *req, struct err *e);
int api_money_limits_put(struct http_req *req, struct err *e);

/*
 * products.c: /api/v1/products, list get create update delete (resource.h).
 * sales.c:
 *   POST /api/v1/sales {branch_id, client_id?, sold_at?, notes?,
 *        lines: [{appointment_id} | {product_id, quantity, unit_price_cents?}],
 *        payments: [{method, amount_cents, tip_cents?, professional_id?}]}
 *        A service line is its appointment's balance; a product line takes its
 *        quantity out of the branch's stock (a SALE movement).  The payments add up
 *        to the total exactly (409 payment_mismatch); each is split over the lines in
 *        order, one payments row per appointment it pays (so that every appointment's
 *        rules hold) and one for the products, all with sale_id.  409
 *        insufficient_stock when a product would go below zero and the tenant does not
 *        allow it (409 stock_negative when a backdated one would empty a later moment:
 *        money_stock_check); 409 nothing_due for an appointment paid already.
 *   GET  /api/v1/sales/{id}     the sale with its lines (each with the name of its product
 *        or service) and payments
 * sales_list.c:
 *   GET  /api/v1/sales?from&to[&branch_id][&limit&cursor]  the sales recorded in the
 *        period (dates in the tenant's zone, `to` inclusive; at most 366 days), in
 *        recording order: {items:[{id, branch_id, client_id, total_cents, recorded_by,
 *        sold_at, notes, recorded_by_name, client_name, lines:[{kind, name, quantity,
 *        amount_cents}], methods:[{method, amount_cents, tip_cents}]}], next_cursor}
 *   POST /api/v1/stock-movements {branch_id, product_id, kind: RECEIPT|RETURN|ADJUSTMENT,
 *        quantity (signed for ADJUSTMENT), reason (required for ADJUSTMENT),
 *        unit_cost_cents?, moved_at?}
 *   GET  /api/v1/stock?branch_id[&at]  every product's stock at the branch at instant
 *        `at` (RFC 3339 or date: the end of that day; default now), recomputed from
 *        the movements, with "low" when at or below its threshold
 *   GET/PUT /api/v1/money-settings {allow_negative_stock}
 */
int api_products_list(struct http_req *req, struct err *e);
int api_products_get(struct http_req *req, struct err *e);
int api_products_create(struct http_req *req, struct err *e);
int api_products_update(struct http_req *req, struct err *e);
int api_products_delete(struct http_req *req, struct err *e);
int api_sales_create(struct http_req *req, struct err *e);
int api_sales_get(struct http_req *req, struct err *e);
int api_sales_list(struct http_req *req, struct err *e);
int api_stock_move(struct http_req *req, struct err *e);
int api_stock_get(struct http_req *req, struct err *e);
int api_money_settings_get(struct http_req *req, struct err *e);
int api_money_settings_put(struct http_req *req, struct err *e);

/*
 * cash.c (the cash close, corte de caja):
 *   GET  /api/v1/cash-close?branch_id&date[&register_user_id]  the day's movements
 *        per method (payments, tips, refunds, net), and its close when done
 *   POST /api/v1/cash-closes {branch_id, date, register_user_id?, opening_float_cents,
 *        counted_cash_cents, note?}  expected = float + the day's net cash; the
 *        difference is counted - expected; the day is then locked (409 day_closed for
 *        any payment, refund, sale or stock sale recorded in it).  409 already_closed.
 *        A RECEPTIONIST reads and closes only its own register.
 *   GET  /api/v1/cash-closes/{id}[?format=csv]
 */
int api_cash_day(struct http_req *req, struct err *e);
int api_cash_close(struct http_req *req, struct err *e);
int api_cash_close_get(struct http_req *req, struct err *e);

/*
 * commissions.c:
 *   GET  /api/v1/commissions?from=YYYY-MM-DD&to=YYYY-MM-DD[&professional_id]
 *        {"items":[{professional_id, from, to, services_cents, service_commission_cents,
 *        product_commission_cents, tips_cents, total_cents, paid, statement}]}
 *        (a PROFESSIONAL: only its own)
 *   POST /api/v1/commissions/pay {professional_id, from, to}  ADMIN / MANAGER mark the
 *        period paid, keeping its figures; 409 already_paid the second time.
 */
int api_commissions_list(struct http_req *req, struct err *e);
int api_commissions_pay(struct http_req *req, struct err *e);

/*
 * reports.c (ADMIN, MANAGER):
 *   GET /api/v1/reports/{name}?from&to[&branch_id][&group=day|week|month][&format=csv]
 *       name: sales (by day, week or month: payments, refunds, net, tips), by_service,
 *       top_services, by_professional (completed appointments after discount),
 *       by_method, top_products, attendance (cancellation and no-show rates),
 *       retention (clients of the period who came back within 90 days).
 *       {report, from, to, branch_id, group, currency, columns:[...], rows:[[...]]};
 *       CSV: RFC 4180 with a BOM, amounts in currency units.
 */
int api_reports_get(struct http_req *req, struct err *e);

/*
 * Within an open transaction: is the instant (database text) of branch_id
 * inside a closed cash day, the branch's or user_id's register's?  Answers
 * 409 day_closed naming field and returns -ERR_USAGE when it is; 0 when not.
 */
int money_day_open(struct http_req *req, struct db *db, int64_t tenant_id, int64_t branch_id,
                   int64_t user_id, const char *instant, const char *field, struct err *e);

/*
 * Within an open transaction: lock product_id's row and check that moving
 * delta units at branch_id at instant `at` (database text) leaves its stock
 * at or above zero at that instant and at every later one (unless the
 * tenant allows negative stock).  Answers naming field: 404; 409
 * insufficient_stock (not enough at `at`); 409 stock_negative (a later
 * moment would fall below zero; the error also holds product_id, at, the
 * first such instant, and stock, what it would be then).  0 when fine.
 */
int money_stock_check(struct http_req *req, struct db *db, int64_t tenant_id, int64_t branch_id,
                      int64_t product_id, int64_t delta, const char *at, const char *field,
                      struct err *e);

/* What an appointment costs and holds, read under its lock (see money_appt_lock). */
struct money_appt {
    int64_t id;
    int64_t price;    /* appointments.price_cents */
    int64_t discount; /* appointment_discounts.amount_cents, 0 without */
    int64_t paid;     /* sum of its payments' amount_cents, refunds subtracted */
    int64_t professional_id;
    int64_t branch_id;
    char status[16];
};

/*
 * Within an open transaction: lock appointment id of tenant and read its
 * money.  An unknown id answers 404 naming field and returns
 * -ERR_NOT_FOUND; other failures return a negative code unanswered.
 */
int money_appt_lock(struct http_req *req, struct db *db, int64_t tenant_id, int64_t id,
                    const char *field, struct money_appt *out, struct err *e);

/* Is a CANCELLED or NO_SHOW appointment's status. */
bool money_appt_closed(const struct money_appt *a);

/* The columns of a payment as the API shows them, and their api_row_json types. */
#define MONEY_PAYMENT_COLS                                                                         \
    "SELECT id, tenant_id, appointment_id, amount_cents, method, status, recorded_by, paid_at, "   \
    "notes, created_at, updated_at, kind, tip_cents, professional_id, refund_of, branch_id, "      \
    "reason FROM payments "
#define MONEY_PAYMENT_TYPES "iiiissitsttsiiiis"

#endif
