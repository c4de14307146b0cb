/*
 * public_book — POST /api/v1/public/b/{tenant}/{branch}/bookings (see public.h).
 *
 * The Idempotency-Key is claimed first (a row of online_booking_keys, unique
 * per tenant, holding the key's hash and the request's): a double tap or a
 * retry finds the claim, waits for its twin if it is still in flight, and
 * answers with the same appointment.  A refused attempt gives its claim
 * back, so that the same key may try again.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/booking.h"
#include "api/public.h"
#include "api/validate.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/util.h"
#include "notify/notify.h"
#include "domain/phone.h"

#define IDEMPOTENCY_MAX 200
#define KEY_WAIT_TRIES  50 /* x 100 ms: how long a retry waits for its twin in flight */
#define DAY_S           86400

/* The phone column without the separators people type. */
#define PHONE_STRIPPED                                                                             \
    "replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), "      \
    "')', '')"

enum { F_SERVICE, F_PRO, F_START, F_FIRST, F_LAST, F_PHONE, F_EMAIL, F_WEBSITE };

static const struct api_field book_fields[] = {
    [F_SERVICE] = {"service_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    [F_PRO] = {"professional_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    [F_START] = {"start", API_T_INSTANT, API_REQUIRED, 0, 0, NULL},
    [F_FIRST] = {"first_name", API_T_STRING, API_REQUIRED, 1, 100, NULL},
    [F_LAST] = {"last_name", API_T_STRING, API_REQUIRED, 1, 100, NULL},
    [F_PHONE] = {"phone", API_T_STRING, API_REQUIRED, 1, 40, NULL},
    [F_EMAIL] = {"email", API_T_EMAIL, API_NULLABLE, 0, 0, NULL},
    [F_WEBSITE] = {"website", API_T_STRING, API_NULLABLE, 0, 200, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* What one booking request asks, parsed. */
struct ask {
    int64_t service_id, pro_id, start;
    const char *first, *last, *email;
    char phone[PHONE_E164_MAX];
    char key_hash[65], req_hash[65];
};

static bool key_valid(const char *k)
{
    size_t n = k != NULL ? strlen(k) : 0;

    if (n == 0 || n > IDEMPOTENCY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] <= ' ' || k[i] > '~')
            return false;
    return true;
}

static int refuse(struct http_req *req, struct err *e, int status, const char *code,
                  const char *field, const char *msg)
{
    http_reply_error(req, status, code, field, "%s", msg);
    return err_set(e, ERR_USAGE, "%s", code);
}

/* Give the claim back (the attempt was refused or failed): the key may try again. */
static void unclaim(struct db *db, const struct online_branch *b, const struct ask *a)
{
    struct err e;

    err_clear(&e);
    if (db_exec_params(db,
                       "DELETE FROM online_booking_keys WHERE tenant_id = $1 AND key_hash = $2 "
                       "AND appointment_id IS NULL",
                       DB_PARAMS(DB_INT(b->tenant_id), DB_TEXT(a->key_hash)), NULL, &e) < 0)
        log_warn("cannot release an idempotency claim: %s", e.msg);
}

/*
 * A new token for appointment id (the only way to answer a retry: the
 * first token was only ever stored hashed).
 */
static int rotate_token(struct db *db, const struct online_branch *b, int64_t id, char tok[44],
                        struct err *e)
{
    char hash[65];
    int rc;

    rc = online_token_new(tok, e);
    if (rc < 0)
        return rc;
    online_sha256_hex(tok, hash);
    return db_exec_params(db,
                          "UPDATE appointments SET manage_token_hash = $1 WHERE tenant_id = $2 "
                          "AND id = $3",
                          DB_PARAMS(DB_TEXT(hash), DB_INT(b->tenant_id), DB_INT(id)), NULL, e);
}

/*
 * Claim the key: 1 claimed (go on), 0 answered already (a retry: the same
 * booking, or a refusal), negative on error.
 */
static int claim(struct http_req *req, struct db *db, const struct online_branch *b,
                 const struct ask *a, struct err *e)
{
    struct db_res *r = NULL;
    char tok[44];
    int64_t id = 0;
    int rc = 0;

    for (int tries = 0; tries < KEY_WAIT_TRIES; tries++) {
        rc = db_query_int(
            db,
            "INSERT INTO online_booking_keys (tenant_id, key_hash, request_hash) "
            "VALUES ($1, $2, $3) ON CONFLICT (tenant_id, key_hash) DO NOTHING "
            "RETURNING id",
            DB_PARAMS(DB_INT(b->tenant_id), DB_TEXT(a->key_hash), DB_TEXT(a->req_hash)), &id, e);
        if (rc < 0)
            goto cleanup;
        if (rc == 0) {
            rc = 1;
            goto cleanup;
        }
        db_res_free(r);
        r = NULL;
        rc = db_query(db,
                      "SELECT request_hash, appointment_id FROM online_booking_keys "
                      "WHERE tenant_id = $1 AND key_hash = $2",
                      DB_PARAMS(DB_INT(b->tenant_id), DB_TEXT(a->key_hash)), &r, e);
        if (rc < 0)
            goto cleanup;
        if (!db_res_next(r))
            continue; /* given back meanwhile: claim it again */
        if (strcmp(db_res_text(r, 0) ? db_res_text(r, 0) : "", a->req_hash) != 0) {
            rc = refuse(req, e, 409, "idempotency_key_reused", "Idempotency-Key",
                        "this Idempotency-Key was used for another booking");
            goto cleanup;
        }
        if (!db_res_isnull(r, 1)) {
            id = db_res_int(r, 1);
            db_res_free(r); /* an open result would hold SQLite's read snapshot */
            r = NULL;
            rc = rotate_token(db, b, id, tok, e);
            if (rc == 0)
                rc = public_view_reply(req, db, id, 200, tok, e);
            if (rc == 0)
                rc = err_set(e, ERR_USAGE, "a retry"); /* answered: stop the handler */
            goto cleanup;
        }
        db_res_free(r);
        r = NULL;
        usleep(100 * 1000); /* its twin is still booking */
    }
    rc = refuse(req, e, 409, "in_progress", "Idempotency-Key",
                "this booking is still being made: try again in a moment");

cleanup:
    db_res_free(r);
    return rc;
}

/* The limits per address (an hour) and per phone number (a day). */
static int limits(struct http_req *req, struct db *db, const struct online_branch *b,
                  const struct ask *a, struct err *e)
{
    char scope[160], addr[64];
    bool over = false;
    int rc;

    api_client_addr(req, addr, sizeof(addr)); /* behind TRUSTED_PROXIES, the real client */
    snprintf(scope, sizeof(scope), "%lld:%s", (long long)b->tenant_id, addr);
    rc = online_rate_hit(db, "book-addr", scope, 3600, b->rules.limit_book_addr_hour, &over, e);
    if (rc < 0)
        return rc;
    if (over)
        return online_reply_limited(req, 3600, e);
    snprintf(scope, sizeof(scope), "%lld:%s", (long long)b->tenant_id, a->phone);
    rc = online_rate_hit(db, "book-phone", scope, DAY_S, b->rules.limit_book_phone_day, &over, e);
    if (rc < 0)
        return rc;
    if (over)
        return online_reply_limited(req, DAY_S, e);
    return 0;
}

/*
 * The client of this number in the tenant, created when new.  *note (caller
 * frees, NULL when none) tells the reception another name was given.
 */
static int client_for(struct db *db, const struct online_branch *b, const struct ask *a,
                      int64_t *client_id, char **note, struct err *e)
{
    struct db_res *r = NULL;
    char national[PHONE_E164_MAX] = "";
    size_t cc = strlen(b->rules.default_cc);
    int rc;

    *note = NULL;
    if (strncmp(a->phone + 1, b->rules.default_cc, cc) == 0)
        snprintf(national, sizeof(national), "%s", a->phone + 1 + cc);
    for (int tries = 0; tries < 2; tries++) {
        db_res_free(r);
        r = NULL;
        rc = db_query(db,
                      "SELECT id, first_name, last_name FROM clients WHERE tenant_id = $1 "
                      "AND (phone = $2 OR " PHONE_STRIPPED " = $2 OR " PHONE_STRIPPED " = $3 "
                      "OR " PHONE_STRIPPED " = $4) ORDER BY id LIMIT 1",
                      DB_PARAMS(DB_INT(b->tenant_id), DB_TEXT(a->phone), DB_TEXT(a->phone + 1),
                                DB_TEXT(national[0] ? national : a->phone)),
                      &r, e);
        if (rc < 0)
            goto cleanup;
        if (db_res_next(r)) {
            const char *first = db_res_text(r, 1) ? db_res_text(r, 1) : "";
            const char *last = db_res_text(r, 2) ? db_res_text(r, 2) : "";

            *client_id = db_res_int(r, 0);
            if (strcasecmp(first, a->first) != 0 || strcasecmp(last, a->last) != 0)
                *note = xasprintf("Reserva en línea a nombre de «%s %s» / online booking under "
                                  "the name '%s %s'",
                                  a->first, a->last, a->first, a->last);
            goto cleanup;
        }
        db_res_free(r); /* an open result would hold SQLite's read snapshot */
        r = NULL;
        rc = db_query_int(db,
                          "INSERT INTO clients (tenant_id, first_name, last_name, phone, email) "
                          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, phone) DO NOTHING "
                          "RETURNING id",
                          DB_PARAMS(DB_INT(b->tenant_id), DB_TEXT(a->first), DB_TEXT(a->last),
                                    DB_TEXT(a->phone), DB_TEXT(a->email)),
                          client_id, e);
        if (rc <= 0)
            goto cleanup;
        /* 1: another request created it meanwhile: read it. */
    }
    rc = err_set(e, ERR_INTERNAL, "the client of a phone number could not be found nor created");

cleanup:
    db_res_free(r);
    return rc;
}

/*
 * The INSERT, with each candidate professional in turn until the
 * no-overlap rule lets one through: 1 booked (*id), 0 every one taken.
 */
static int insert(struct db *db, const struct config *cfg, const struct online_branch *b,
                  const struct ask *a, const int64_t *cands, size_t ncands, int64_t client_id,
                  const char *note, const char *token, const char *token_hash, int64_t *id,
                  struct err *e)
{
    char s_txt[32], e_txt[32], now_txt[32];
    int64_t duration = 0, price = 0;
    int rc;

    rc = public_service(db, b, a->service_id, &duration, &price, e);
    if (rc <= 0)
        return rc;
    tz_format_instant(a->start, s_txt);
    tz_format_instant(a->start + duration * 60, e_txt);
    api_now_text(now_txt);
    for (size_t i = 0; i < ncands; i++) {
        /* each try is one transaction: the booking and its messages (notify.h) */
        if ((rc = db_begin(db, e)) < 0)
            return rc;
        rc = db_query_int(
            db,
            "INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, "
            "professional_id, start_at, end_at, status, price_cents, notes, source, "
            "manage_token_hash, manage_expires_at, created_at, updated_at) VALUES ($1, $2, $3, "
            "$4, $5, $6, $7, $8, $9, $10, 'online', $11, $7, $12, $12) RETURNING id",
            DB_PARAMS(DB_INT(b->tenant_id), DB_INT(b->branch_id), DB_INT(client_id),
                      DB_INT(a->service_id), DB_INT(cands[i]), DB_TEXT(s_txt), DB_TEXT(e_txt),
                      DB_TEXT(b->rules.initial_status), DB_INT(price), DB_TEXT(note),
                      DB_TEXT(token_hash), DB_TEXT(now_txt)),
            id, e);
        if (rc == 0)
            rc = notify_appointment_changed(db, cfg, b->tenant_id, *id, NOTIFY_BOOKED, token, e);
        if (rc == 0)
            rc = db_commit(db, e);
        if (rc == 0)
            return 1;
        db_rollback(db);
        if (rc < 0 && e->code != ERR_DB_OVERLAP)
            return rc;
        err_clear(e);
    }
    return 0;
}

/* Parse and check the body into *a: answers refusals. */
static int read_ask(struct http_req *req, const struct online_branch *b, json_t **body,
                    struct api_value *v, struct ask *a, struct err *e)
{
    const char *key = http_req_header(req, "Idempotency-Key");
    char *plain;
    int rc;

    if (!key_valid(key))
        return refuse(req, e, 400, "invalid", "Idempotency-Key",
                      "an 'Idempotency-Key' header of 1-200 visible ASCII characters is required");
    rc = api_read_body(req, book_fields, API_CREATE, body, v, e);
    if (rc < 0)
        return rc;
    if (v[F_WEBSITE].present && !v[F_WEBSITE].null && v[F_WEBSITE].s[0] != '\0')
        return refuse(req, e, 400, "rejected", NULL, "this booking cannot be accepted");
    memset(a, 0, sizeof(*a));
    a->service_id = v[F_SERVICE].i;
    a->pro_id = v[F_PRO].present && !v[F_PRO].null ? v[F_PRO].i : 0;
    a->start = v[F_START].i;
    a->first = v[F_FIRST].s;
    a->last = v[F_LAST].s;
    a->email = v[F_EMAIL].present && !v[F_EMAIL].null ? v[F_EMAIL].s : NULL;
    if (phone_e164(v[F_PHONE].s, b->rules.default_cc, a->phone) < 0)
        return refuse(req, e, 400, "invalid", "phone",
                      "'phone' must be a mobile number of 8 to 15 digits, optionally after a '+'");
    plain = xasprintf("%s", key);
    online_sha256_hex(plain, a->key_hash);
    free(plain);
    plain = xasprintf("%lld|%lld|%lld|%s|%s|%s|%s", (long long)a->service_id, (long long)a->pro_id,
                      (long long)a->start, a->phone, a->first, a->last, a->email ? a->email : "");
    online_sha256_hex(plain, a->req_hash);
    free(plain);
    return 0;
}

int api_public_book(struct http_req *req, struct err *e)
{
    struct api_worker *w = http_req_worker(req);
    struct api_value v[API_MAX_FIELDS];
    struct online_branch b;
    struct ask a;
    struct db *db = NULL;
    json_t *body = NULL;
    int64_t *cands = NULL, client_id = 0, id = 0, duration = 0, price = 0;
    size_t ncands = 0;
    char *note = NULL, tok[44] = "", tok_hash[65];
    bool claimed = false;
    int rc;

    memset(&b, 0, sizeof(b));
    rc = api_worker_db(w, &db, e);
    if (rc < 0)
        goto cleanup;
    rc =
        online_branch_load(db, http_req_param(req, "tenant"), http_req_param(req, "branch"), &b, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = refuse(req, e, 404, "not_found", NULL, "there is no online booking at this address");
        goto cleanup;
    }
    if ((rc = read_ask(req, &b, &body, v, &a, e)) < 0)
        goto cleanup;
    rc = claim(req, db, &b, &a, e);
    if (rc <= 0)
        goto cleanup;
    claimed = true;
    if ((rc = limits(req, db, &b, &a, e)) < 0)
        goto cleanup;
    rc = public_service(db, &b, a.service_id, &duration, &price, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = refuse(req, e, 409, "not_bookable", "service_id",
                    "this service cannot be booked online");
        goto cleanup;
    }
    if ((rc = public_check_window(req, &b.rules, a.start, e)) < 0)
        goto cleanup;
    rc = public_free_at(db, &b, a.service_id, a.pro_id, 0, a.start, &cands, &ncands, e);
    if (rc < 0)
        goto cleanup;
    if (ncands > 0) {
        rc = client_for(db, &b, &a, &client_id, &note, e);
        if (rc < 0)
            goto cleanup;
        rc = online_token_new(tok, e);
        if (rc < 0)
            goto cleanup;
        online_sha256_hex(tok, tok_hash);
        rc = insert(db, w->app->cfg, &b, &a, cands, ncands, client_id, note, tok, tok_hash, &id,
                    e);
        if (rc < 0)
            goto cleanup;
    }
    if (ncands == 0 || rc == 0) {
        rc = refuse(req, e, 409, "slot_taken", "start",
                    "this time is no longer available: choose another one");
        goto cleanup;
    }
    rc = db_exec_params(db,
                        "UPDATE online_booking_keys SET appointment_id = $1 WHERE tenant_id = $2 "
                        "AND key_hash = $3",
                        DB_PARAMS(DB_INT(id), DB_INT(b.tenant_id), DB_TEXT(a.key_hash)), NULL, e);
    if (rc < 0)
        goto cleanup;
    claimed = false;
    rc = public_view_reply(req, db, id, 201, tok, e);

cleanup:
    if (claimed)
        unclaim(db, &b, &a);
    secure_zero(tok, sizeof(tok));
    free(note);
    free(cands);
    json_decref(body);
    online_branch_release(&b);
    return rc;
}
