/*
 * client_history — GET /api/v1/clients/{id}/history: the client, every
 * appointment it ever had (newest first) with its service, professional,
 * status, price and what was paid, and the totals the reception asks
 * about:
 *   {"client":{…}, "appointments":[{id, start_at, end_at, status, service_id,
 *    service_name, professional_id, professional_name, branch_id, price_cents,
 *    paid_cents, cancel_reason}],
 *    "totals":{"visits", "completed", "no_shows", "cancelled", "spent_cents",
 *              "last_visit"}}
 * visits counts every appointment; spent_cents is what was paid (refunds
 * deducted); last_visit the start of the latest COMPLETED one (null when
 * none).  A PROFESSIONAL sees a client of theirs only, and only their own
 * appointments with it.
 */
#include <string.h>

#include "api/api.h"
#include "api/appt.h"
#include "api/auth.h"
#include "api/booking.h"
#include "api/catalogue.h"
#include "api/validate.h"
#include "common/tz.h"

#define CLIENT_COLS                                                                                \
    "id, tenant_id, first_name, last_name, phone, email, notes, active, created_at, updated_at"

/* The appointments, newest first ($1 tenant, $2 client, $3 professional or 0). */
#define HISTORY_SQL                                                                                \
    "SELECT a.id, a.start_at, a.end_at, a.status, a.service_id, s.name, a.professional_id, "       \
    "u.first_name || CASE WHEN u.last_name = '' THEN '' ELSE ' ' || u.last_name END, "             \
    "a.branch_id, a.price_cents, (SELECT COALESCE(SUM(p.amount_cents), 0) FROM payments p "        \
    "WHERE p.tenant_id = a.tenant_id AND p.appointment_id = a.id), a.cancel_reason, "              \
    "COALESCE(b.timezone, t.timezone) "                                                            \
    "FROM appointments a JOIN services s ON s.id = a.service_id "                                  \
    "JOIN users u ON u.id = a.professional_id JOIN branches b ON b.id = a.branch_id "              \
    "JOIN tenants t ON t.id = a.tenant_id "                                                        \
    "WHERE a.tenant_id = $1 AND a.client_id = $2 AND (a.professional_id = $3 OR $3 = 0) "          \
    "ORDER BY a.start_at DESC, a.id DESC LIMIT 2000"

int api_clients_history(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    struct db_res *r = NULL;
    json_t *client = NULL, *items = NULL;
    int64_t id = 0, pro = 0, visits = 0, completed = 0, no_shows = 0, cancelled = 0, spent = 0;
    char last[32] = "";
    int rc;

    if (api_auth_require(req, "clients", API_ACT_READ, &au) < 0)
        return 0;
    pro = au.role == API_ROLE_PROFESSIONAL ? au.user_id : 0;
    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        goto cleanup;
    rc = db_query(db,
                  "SELECT " CLIENT_COLS " FROM clients WHERE tenant_id = $1 AND id = $2 "
                  "AND ($3 = 0 OR id IN (SELECT client_id FROM appointments "
                  "WHERE tenant_id = $1 AND professional_id = $3))",
                  DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id), DB_INT(pro)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_NOT_FOUND, "no client '%lld'", (long long)id);
        goto cleanup;
    }
    client = api_row_json(r, "iisssssbtt");
    db_res_free(r);
    r = NULL;
    rc = db_query(db, HISTORY_SQL, DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id), DB_INT(pro)), &r, e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    while (db_res_next(r)) {
        const char *tz = db_res_text(r, 12) != NULL ? db_res_text(r, 12) : "UTC";
        const char *status = db_res_text(r, 3) != NULL ? db_res_text(r, 3) : "";
        int64_t start = 0, end = 0;
        char s_txt[32], e_txt[32];

        tz_parse_instant(db_res_text(r, 1), &start);
        tz_parse_instant(db_res_text(r, 2), &end);
        api_booking_format(tz, start, s_txt);
        api_booking_format(tz, end, e_txt);
        visits++;
        completed += strcmp(status, "COMPLETED") == 0;
        no_shows += strcmp(status, "NO_SHOW") == 0;
        cancelled += strcmp(status, "CANCELLED") == 0;
        spent += db_res_int(r, 10);
        if (last[0] == '\0' && strcmp(status, "COMPLETED") == 0)
            memcpy(last, s_txt, sizeof(last));
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:s, s:s, s:I, s:s?, s:I, s:s?, s:I, s:I, s:I, s:s?}",
                             "id", (json_int_t)db_res_int(r, 0), "start_at", s_txt, "end_at", e_txt,
                             "status", status, "service_id", (json_int_t)db_res_int(r, 4),
                             "service_name", db_res_text(r, 5), "professional_id",
                             (json_int_t)db_res_int(r, 6), "professional_name", db_res_text(r, 7),
                             "branch_id", (json_int_t)db_res_int(r, 8), "price_cents",
                             (json_int_t)db_res_int(r, 9), "paid_cents",
                             (json_int_t)db_res_int(r, 10), "cancel_reason", db_res_text(r, 11)));
    }
    rc = http_reply_json(req, 200,
                         json_pack("{s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:o}}", "client", client,
                                   "appointments", items, "totals", "visits", (json_int_t)visits,
                                   "completed", (json_int_t)completed, "no_shows",
                                   (json_int_t)no_shows, "cancelled", (json_int_t)cancelled,
                                   "spent_cents", (json_int_t)spent, "last_visit",
                                   last[0] != '\0' ? json_string(last) : json_null()));
    client = items = NULL;

cleanup:
    json_decref(client);
    json_decref(items);
    db_res_free(r);
    return rc;
}
