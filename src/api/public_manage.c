/*
 * public_manage — a booking seen, moved or cancelled by its manage link
 * (see public.h).  The token comes in the X-Manage-Token header; only its
 * SHA-256 is stored, with the end of the appointment as its expiry.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/booking.h"
#include "api/public.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"
#include "notify/notify.h"

#define TOKEN_HEADER "X-Manage-Token"
#define TOKEN_MAX    128

/* One booking as its link shows it. */
struct booking {
    int64_t id, tenant_id, branch_id, service_id, professional_id;
    int64_t start, end, expires;
    char status[16];
};

#define VIEW_SQL                                                                                   \
    "SELECT a.id, a.tenant_id, a.branch_id, a.service_id, a.professional_id, a.start_at, "         \
    "a.end_at, a.manage_expires_at, a.status, s.name, s.duration_min, a.price_cents, "             \
    "u.first_name, t.slug, b.slug, COALESCE(b.timezone, t.timezone), b.name, "                     \
    "COALESCE(b.address, t.address), t.currency FROM appointments a "                              \
    "JOIN services s ON s.id = a.service_id JOIN users u ON u.id = a.professional_id "             \
    "JOIN branches b ON b.id = a.branch_id JOIN tenants t ON t.id = a.tenant_id "

static int64_t instant_of(const char *s)
{
    int64_t t = 0;

    if (s == NULL || tz_parse_instant(s, &t) < 0)
        return 0;
    return t;
}

static void booking_from_row(const struct db_res *r, struct booking *bk)
{
    memset(bk, 0, sizeof(*bk));
    bk->id = db_res_int(r, 0);
    bk->tenant_id = db_res_int(r, 1);
    bk->branch_id = db_res_int(r, 2);
    bk->service_id = db_res_int(r, 3);
    bk->professional_id = db_res_int(r, 4);
    bk->start = instant_of(db_res_text(r, 5));
    bk->end = instant_of(db_res_text(r, 6));
    bk->expires = instant_of(db_res_text(r, 7));
    snprintf(bk->status, sizeof(bk->status), "%s", db_res_text(r, 8) ? db_res_text(r, 8) : "");
}

static bool is_open(const char *status)
{
    return strcmp(status, "PENDING") == 0 || strcmp(status, "CONFIRMED") == 0;
}

static const char *txt(const struct db_res *r, int col)
{
    return db_res_text(r, col) ? db_res_text(r, col) : "";
}

int public_view_reply(struct http_req *req, struct db *db, int64_t id, int status,
                      const char *token, struct err *e)
{
    struct online_rules rules = {0};
    struct db_res *r = NULL;
    struct booking bk;
    json_t *view = NULL;
    char start[32], end[32], until[32];
    int64_t cutoff;
    bool can_change;
    int rc;

    rc = db_query(db, VIEW_SQL "WHERE a.id = $1", DB_PARAMS(DB_INT(id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_NOT_FOUND, "no appointment '%lld'", (long long)id);
        goto cleanup;
    }
    booking_from_row(r, &bk);
    rc = online_rules_load(db, bk.tenant_id, &rules, e);
    if (rc < 0)
        goto cleanup;
    cutoff = bk.start - (int64_t)rules.cancel_cutoff_min * 60;
    can_change = is_open(bk.status) && (int64_t)time(NULL) < cutoff;
    api_booking_format(txt(r, 15), bk.start, start);
    api_booking_format(txt(r, 15), bk.end, end);
    api_booking_format(txt(r, 15), cutoff, until);
    view = json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:s, s:I}, s:I, s:s, s:{s:I, s:s}, "
                     "s:{s:s, s:s, s:s, s:s}, s:b, s:s, s:i}",
                     "status", bk.status, "start", start, "end", end, "timezone", txt(r, 15),
                     "service", "id", (json_int_t)bk.service_id, "name", txt(r, 9), "duration_min",
                     (json_int_t)db_res_int(r, 10), "price_cents", (json_int_t)db_res_int(r, 11),
                     "currency", txt(r, 18), "professional", "id", (json_int_t)bk.professional_id,
                     "first_name", txt(r, 12), "branch", "name", txt(r, 16), "address", txt(r, 17),
                     "tenant_slug", txt(r, 13), "branch_slug", txt(r, 14), "can_change", can_change,
                     "change_until", until, "cancel_cutoff_min", rules.cancel_cutoff_min);
    if (token != NULL)
        rc = http_reply_json(req, status,
                             json_pack("{s:o, s:s}", "booking", view, "manage_token", token));
    else
        rc = http_reply_json(req, status, json_pack("{s:o}", "booking", view));
    view = NULL;

cleanup:
    json_decref(view);
    online_rules_release(&rules);
    db_res_free(r);
    return rc;
}

/*
 * The booking of the request's token: 0 (bk filled), or a negative code
 * after answering 404 link_invalid / 410 link_expired.
 */
static int by_token(struct http_req *req, struct db **db, struct booking *bk, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    const char *tok = http_req_header(req, TOKEN_HEADER);
    struct db_res *r = NULL;
    char hash[65];
    int rc;

    rc = api_worker_db(w, db, e);
    if (rc < 0)
        goto cleanup;
    if (tok == NULL || strlen(tok) < 16 || strlen(tok) > TOKEN_MAX) {
        http_reply_error(req, 404, "link_invalid", NULL, "this link is not valid");
        rc = err_set(e, ERR_NOT_FOUND, "no such link");
        goto cleanup;
    }
    online_sha256_hex(tok, hash);
    rc = db_query(*db, VIEW_SQL "WHERE a.manage_token_hash = $1", DB_PARAMS(DB_TEXT(hash)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        http_reply_error(req, 404, "link_invalid", NULL, "this link is not valid");
        rc = err_set(e, ERR_NOT_FOUND, "no such link");
        goto cleanup;
    }
    booking_from_row(r, bk);
    if (bk->expires <= (int64_t)time(NULL)) {
        http_reply_error(req, 410, "link_expired", NULL,
                         "this link has expired: the appointment is over");
        rc = err_set(e, ERR_NOT_FOUND, "link expired");
    }

cleanup:
    db_res_free(r);
    return rc;
}

/* The per-address limit on lookups, with the booking's tenant and branch. */
static int manage_limit(struct http_req *req, struct db *db, const struct booking *bk,
                        struct online_branch *b, struct err *e)
{
    int rc = online_branch_load_id(db, bk->tenant_id, bk->branch_id, b, e);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(e, ERR_INTERNAL, "the branch of appointment '%lld' is gone",
                       (long long)bk->id);
    return online_lookup_limit(req, db, b, e);
}

int api_public_manage_get(struct http_req *req, struct err *e)
{
    struct online_branch b = {0};
    struct booking bk;
    struct db *db = NULL;
    int rc;

    rc = by_token(req, &db, &bk, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = manage_limit(req, db, &bk, &b, e)) < 0)
        goto cleanup;
    rc = public_view_reply(req, db, bk.id, 200, NULL, e);

cleanup:
    online_branch_release(&b);
    return rc;
}

int api_public_manage_times(struct http_req *req, struct err *e)
{
    struct online_branch b = {0};
    struct booking bk;
    struct db *db = NULL;
    int64_t only_id = 0;
    bool has = false;
    int rc;

    rc = by_token(req, &db, &bk, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = manage_limit(req, db, &bk, &b, e)) < 0 ||
        (rc = api_query_id(req, "professional_id", &only_id, &has, e)) < 0)
        goto cleanup;
    rc = public_times_reply(req, db, &b, bk.service_id, only_id, bk.id, e);

cleanup:
    online_branch_release(&b);
    return rc;
}

/* Still open, and before the cut-off: else answers 409 and returns negative. */
static int may_change(struct http_req *req, const struct online_branch *b, const struct booking *bk,
                      struct err *e)
{
    if (!is_open(bk->status)) {
        http_reply_error(req, 409, "not_open", NULL,
                         "this appointment is %s: it can no longer be changed", bk->status);
        return err_set(e, ERR_USAGE, "not open");
    }
    if ((int64_t)time(NULL) >= bk->start - (int64_t)b->rules.cancel_cutoff_min * 60) {
        http_reply_error(req, 409, "cutoff_passed", NULL,
                         "changes online end %d minutes before the appointment: call the salon",
                         b->rules.cancel_cutoff_min);
        return err_set(e, ERR_USAGE, "cut-off passed");
    }
    return 0;
}

int api_public_manage_cancel(struct http_req *req, struct err *e)
{
    struct online_branch b = {0};
    struct booking bk;
    struct db *db = NULL;
    char now_txt[32];
    int64_t affected = 0;
    int rc;

    rc = by_token(req, &db, &bk, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = manage_limit(req, db, &bk, &b, e)) < 0 || (rc = may_change(req, &b, &bk, e)) < 0)
        goto cleanup;
    api_now_text(now_txt);
    if ((rc = db_begin(db, e)) < 0)
        goto cleanup;
    rc = db_exec_params(
        db,
        "UPDATE appointments SET status = 'CANCELLED', updated_at = $1, cancelled_at = $1, "
        "cancelled_from = status "
        "WHERE id = $2 AND tenant_id = $3 AND status = $4",
        DB_PARAMS(DB_TEXT(now_txt), DB_INT(bk.id), DB_INT(bk.tenant_id), DB_TEXT(bk.status)),
        &affected, e);
    if (rc == 0 && affected == 1)
        rc = notify_appointment_changed(db, ((struct api_worker *)http_req_worker(req))->app->cfg,
                                        bk.tenant_id, bk.id, NOTIFY_CANCELLED, NULL, e);
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0) {
        db_rollback(db);
        goto cleanup;
    }
    if (affected == 0) {
        http_reply_error(req, 409, "conflict", NULL,
                         "the appointment changed meanwhile: open the link again");
        rc = err_set(e, ERR_USAGE, "changed meanwhile");
        goto cleanup;
    }
    rc = public_view_reply(req, db, bk.id, 200, NULL, e);

cleanup:
    online_branch_release(&b);
    return rc;
}

static const struct api_field move_fields[] = {
    {"start", API_T_INSTANT, API_REQUIRED, 0, 0, NULL},
    {"professional_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_public_manage_reschedule(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct online_branch b = {0};
    struct booking bk;
    struct db *db = NULL;
    json_t *body = NULL;
    int64_t *cands = NULL, start, only_id, affected = 0;
    size_t ncands = 0;
    char s_txt[32], e_txt[32], cs_txt[32], now_txt[32];
    int rc;

    rc = by_token(req, &db, &bk, e);
    if (rc < 0)
        goto cleanup;
    if ((rc = manage_limit(req, db, &bk, &b, e)) < 0 ||
        (rc = api_read_body(req, move_fields, API_CREATE, &body, v, e)) < 0 ||
        (rc = may_change(req, &b, &bk, e)) < 0)
        goto cleanup;
    start = v[0].i;
    only_id = !v[1].present ? bk.professional_id : v[1].null ? 0 : v[1].i;
    if ((rc = public_check_window(req, &b.rules, start, e)) < 0)
        goto cleanup;
    rc = public_free_at(db, &b, bk.service_id, only_id, bk.id, start, &cands, &ncands, e);
    if (rc < 0)
        goto cleanup;
    tz_format_instant(start, s_txt);
    tz_format_instant(start + (bk.end - bk.start), e_txt);
    tz_format_instant(bk.start, cs_txt);
    api_now_text(now_txt);
    for (size_t i = 0; i < ncands && affected == 0; i++) {
        /* each try is one transaction: the move and its messages (notify.h) */
        if ((rc = db_begin(db, e)) < 0)
            goto cleanup;
        rc = db_exec_params(db,
                            "UPDATE appointments SET start_at = $1, end_at = $2, "
                            "professional_id = $3, manage_expires_at = $2, updated_at = $4 "
                            "WHERE id = $5 AND tenant_id = $6 AND status = $7 AND start_at = $8",
                            DB_PARAMS(DB_TEXT(s_txt), DB_TEXT(e_txt), DB_INT(cands[i]),
                                      DB_TEXT(now_txt), DB_INT(bk.id), DB_INT(bk.tenant_id),
                                      DB_TEXT(bk.status), DB_TEXT(cs_txt)),
                            &affected, e);
        if (rc == 0 && affected == 1)
            rc = notify_appointment_changed(
                db, ((struct api_worker *)http_req_worker(req))->app->cfg, bk.tenant_id, bk.id,
                NOTIFY_RESCHEDULED, http_req_header(req, TOKEN_HEADER), e);
        if (rc == 0)
            rc = db_commit(db, e);
        if (rc < 0) {
            db_rollback(db);
            affected = 0;
        }
        if (rc < 0 && e->code != ERR_DB_OVERLAP)
            goto cleanup;
        if (rc < 0) {
            err_clear(e);
            rc = 0;
        } else if (affected == 0) {
            http_reply_error(req, 409, "conflict", NULL,
                             "the appointment changed meanwhile: open the link again");
            rc = err_set(e, ERR_USAGE, "changed meanwhile");
            goto cleanup;
        }
    }
    if (affected == 0) {
        http_reply_error(req, 409, "slot_taken", "start",
                         "this time is no longer available: choose another one");
        rc = err_set(e, ERR_USAGE, "slot taken");
        goto cleanup;
    }
    rc = public_view_reply(req, db, bk.id, 200, NULL, e);

cleanup:
    free(cands);
    json_decref(body);
    online_branch_release(&b);
    return rc;
}
