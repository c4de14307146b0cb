/*
 * agenda — GET /api/v1/agenda: what the staff app's agenda draws, in one
 * request: the appointments of a branch in a range, each with its client's
 * name, its service and professional, and whether it is paid.  The app used
 * to fetch each client and each appointment's money one by one.
 *
 *   GET /agenda?branch_id&from&to[&professional_id][&source=online|staff]
 *       STAFF; a PROFESSIONAL its own appointments only (as the list).
 *       from/to: RFC 3339 or dates (the tenant's zone, `to` inclusive), at
 *       most AGENDA_MAX_DAYS apart.  "paid" (paid, part, unpaid; null for a
 *       cancellation) only for the roles that read payments.  At most
 *       AGENDA_MAX_ROWS appointments, "truncated" says when there were more.
 */
#include "api/booking.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/appt.h"
#include "api/auth.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"

#define AGENDA_MAX_DAYS 14
#define AGENDA_MAX_ROWS 2000

/* The columns after APPT_COLS: names, and what is due and paid. */
#define AGENDA_SQL                                                                                 \
    "SELECT " APPT_COLS ", c.first_name, c.last_name, s.name, u.first_name, u.last_name, "         \
    "a.price_cents - COALESCE((SELECT SUM(d.amount_cents) FROM appointment_discounts d "           \
    "  WHERE d.tenant_id = a.tenant_id AND d.appointment_id = a.id), 0), "                         \
    "COALESCE((SELECT SUM(p.amount_cents) FROM payments p "                                        \
    "  WHERE p.tenant_id = a.tenant_id AND p.appointment_id = a.id), 0) " APPT_FROM                \
    "LEFT JOIN clients c ON c.id = a.client_id AND c.tenant_id = a.tenant_id "                     \
    "LEFT JOIN services s ON s.id = a.service_id AND s.tenant_id = a.tenant_id "                   \
    "LEFT JOIN users u ON u.id = a.professional_id AND u.tenant_id = a.tenant_id "                 \
    "WHERE a.tenant_id = $1 AND a.start_at >= $2 AND a.start_at < $3 AND a.branch_id = $4 "        \
    "AND (a.professional_id = $5 OR $5 = 0) AND (a.source = $6 OR $6 = '') "                       \
    "ORDER BY a.start_at, a.id LIMIT $7"
enum { C_CLIENT_FIRST = 20, C_CLIENT_LAST, C_SERVICE, C_PRO_FIRST, C_PRO_LAST, C_DUE, C_PAID };

/* "First Last" of two nullable columns; "" when both are missing. */
static json_t *full_name(const struct db_res *r, int first, int last)
{
    const char *f = db_res_text(r, first), *l = db_res_text(r, last);
    json_t *s;
    char *txt;

    if (f == NULL && l == NULL)
        return json_null();
    txt = xasprintf("%s%s%s", f ? f : "", f && l && *f && *l ? " " : "", l ? l : "");
    s = json_string(txt);
    free(txt);
    return s != NULL ? s : json_null();
}

static const char *paid_word(const struct db_res *r, const char *status)
{
    int64_t due = db_res_int(r, C_DUE), paid = db_res_int(r, C_PAID);

    if (strcmp(status, "CANCELLED") == 0)
        return NULL;
    if (due > 0 && paid >= due)
        return "paid";
    return paid > 0 ? "part" : "unpaid";
}

int api_agenda_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *items = NULL;
    char from_txt[32], to_txt[32];
    const char *source = NULL;
    int64_t pro_id = 0, branch_id = 0;
    bool has_pro = false, has_branch = false, money = false, truncated = false;
    int count = 0, rc;

    if (api_auth_require(req, "appointments", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = appt_list_scope(req, &au, &pro_id, &has_pro, &source, e)) < 0 ||
        (rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e)) < 0)
        goto cleanup;
    if (!has_branch) {
        rc = appt_refuse(req, e, 400, "invalid", "branch_id", "'branch_id' is required");
        goto cleanup;
    }
    money = api_auth_allowed(au.role, "payments", API_ACT_READ);
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_booking_range_text(req, db, au.tenant_id, AGENDA_MAX_DAYS, from_txt, to_txt, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query(db, AGENDA_SQL,
                  DB_PARAMS(DB_INT(au.tenant_id), DB_TEXT(from_txt), DB_TEXT(to_txt),
                            DB_INT(branch_id), DB_INT(pro_id), DB_TEXT(source ? source : ""),
                            DB_INT(AGENDA_MAX_ROWS + 1)),
                  &r, e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    while (db_res_next(r)) {
        struct appt a;
        const char *paid;
        json_t *o;

        if (++count > AGENDA_MAX_ROWS) {
            truncated = true;
            break;
        }
        appt_from_row(r, &a);
        o = appt_json(&a);
        paid = money ? paid_word(r, a.status) : NULL;
        appt_release(&a);
        if (o == NULL) {
            rc = err_set(e, ERR_INTERNAL, "an appointment of the agenda is not UTF-8");
            goto cleanup;
        }
        json_object_set_new(o, "client_name", full_name(r, C_CLIENT_FIRST, C_CLIENT_LAST));
        json_object_set_new(o, "service_name",
                            db_res_text(r, C_SERVICE) != NULL
                                ? json_string(db_res_text(r, C_SERVICE))
                                : json_null());
        json_object_set_new(o, "professional_name", full_name(r, C_PRO_FIRST, C_PRO_LAST));
        json_object_set_new(o, "paid", paid != NULL ? json_string(paid) : json_null());
        json_array_append_new(items, o);
    }
    rc = http_reply_json(req, 200, json_pack("{s:o, s:b}", "items", items, "truncated", truncated));
    items = NULL;

cleanup:
    json_decref(items);
    db_res_free(r);
    return rc;
}
