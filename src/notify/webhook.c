/*
 * webhook — clients' replies (issue 17), public endpoints, signature first:
 *
 *   POST /webhooks/whatsapp/{tenant}   Meta's Cloud API webhook: X-Hub-Signature-256 is
 *                                      "sha256=" + hex HMAC-SHA256(app secret, raw body)
 *   POST /webhooks/twilio/{tenant}     Twilio's incoming-SMS webhook (form body):
 *                                      X-Twilio-Signature is base64 HMAC-SHA1(auth token,
 *                                      PUBLIC_URL + path + each POST field name and value,
 *                                      sorted by name)
 *
 * A missing or wrong signature answers 403 (nothing read, nothing changed).
 * A reply "1"/"CONFIRMAR"/"CONFIRM" confirms the client's next open
 * appointment (PENDING -> CONFIRMED), "2"/"CANCELAR"/"CANCEL" cancels it
 * (its cancellation message and void reminders with it, as from the staff
 * API), "STOP"/"BAJA"/"ALTO" opts the client out of every message (pending
 * ones void); anything else is kept for the reception (notification_replies).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/api.h"
#include "common/tz.h"
#include "common/util.h"
#include "common/log.h"
#include "notify/notify.h"
#include "notify/secrets.h"

/*
 * The tenant's secret for channel ("whatsapp": app secret; "sms": auth
 * token), opened; NULL when not set or unreadable (then every signature is
 * refused).  Caller frees with notify_secret_free.
 */
static int tenant_secret(struct db *db, const struct config *cfg, int64_t tenant_id,
                         const char *channel, char **out, struct err *e)
{
    const char *col =
        strcmp(channel, "whatsapp") == 0 ? "whatsapp_app_secret" : "twilio_auth_token";
    char *sql = xasprintf("SELECT %s FROM notification_settings WHERE tenant_id = $1", col);
    char *stored = NULL;
    int rc = db_query_text(db, sql, DB_PARAMS(DB_INT(tenant_id)), &stored, e);

    *out = NULL;
    if (rc >= 0 && notify_secret_open(cfg, tenant_id, col, stored, out) < 0)
        log_warn("webhook of tenant %lld: its %s does not open with the secrets key: every "
                 "signature is refused until it is entered again",
                 (long long)tenant_id, col);
    free(sql);
    free(stored);
    return rc < 0 ? rc : 0;
}

/* What a reply asks for. */
static const char *action_of(const char *text)
{
    char w[16];
    size_t k = 0;

    while (isspace((unsigned char)*text))
        text++;
    while (*text != '\0' && k + 1 < sizeof(w) && !isspace((unsigned char)*text) && *text != '.')
        w[k++] = (char)toupper((unsigned char)*text++);
    w[k] = '\0';
    while (isspace((unsigned char)*text) || *text == '.')
        text++;
    if (*text != '\0')
        return "note"; /* more than one word: a person wrote it */
    if (strcmp(w, "1") == 0 || strcmp(w, "CONFIRMAR") == 0 || strcmp(w, "CONFIRM") == 0 ||
        strcmp(w, "SI") == 0 || strcmp(w, "YES") == 0)
        return "confirmed";
    if (strcmp(w, "2") == 0 || strcmp(w, "CANCELAR") == 0 || strcmp(w, "CANCEL") == 0)
        return "cancelled";
    if (strcmp(w, "STOP") == 0 || strcmp(w, "BAJA") == 0 || strcmp(w, "ALTO") == 0 ||
        strcmp(w, "UNSUBSCRIBE") == 0)
        return "opted_out";
    return "note";
}

/* Apply one reply from phone (digits, with or without '+') and record it. */
static int handle_reply(struct db *db, const struct config *cfg, int64_t tenant_id,
                        const char *channel, const char *phone, const char *text,
                        const char *provider_id, struct err *e)
{
    const char *action = action_of(text);
    char digits[24], now_txt[32], status[16] = "";
    int64_t client_id = 0, appt_id = 0, n = 0;
    size_t k = 0;
    int rc;

    for (const char *p = phone; *p != '\0' && k + 1 < sizeof(digits); p++)
        if (isdigit((unsigned char)*p))
            digits[k++] = *p;
    digits[k] = '\0';
    tz_format_instant(notify_now(), now_txt);
    if ((rc = db_begin(db, e)) < 0)
        return rc;
    rc = db_query_int(db,
                      "SELECT id FROM clients WHERE tenant_id = $1 AND REPLACE(REPLACE(REPLACE("
                      "REPLACE(phone, ' ', ''), '-', ''), '+', ''), '.', '') = $2 ORDER BY id",
                      DB_PARAMS(DB_INT(tenant_id), DB_TEXT(digits)), &client_id, e);
    if (rc < 0)
        goto cleanup;
    if (client_id > 0) {
        struct db_res *r = NULL;
        rc = db_query(db,
                      "SELECT id, status FROM appointments WHERE tenant_id = $1 AND client_id = $2 "
                      "AND status IN ('PENDING', 'CONFIRMED') AND start_at > $3 "
                      "ORDER BY start_at LIMIT 1",
                      DB_PARAMS(DB_INT(tenant_id), DB_INT(client_id), DB_TEXT(now_txt)), &r, e);
        if (rc < 0)
            goto cleanup;
        if (db_res_next(r)) {
            appt_id = db_res_int(r, 0);
            snprintf(status, sizeof(status), "%s", db_res_text(r, 1));
        }
        db_res_free(r);
    }
    if (strcmp(action, "opted_out") == 0 && client_id > 0) {
        rc = db_exec_params(db,
                            "UPDATE clients SET notify_opt_out = TRUE WHERE tenant_id = $1 "
                            "AND id = $2",
                            DB_PARAMS(DB_INT(tenant_id), DB_INT(client_id)), NULL, e);
        if (rc == 0)
            rc = db_exec_params(db,
                                "UPDATE notification_outbox SET status = 'void', error = 'the "
                                "client opted out' WHERE tenant_id = $1 AND client_id = $2 AND "
                                "status = 'pending'",
                                DB_PARAMS(DB_INT(tenant_id), DB_INT(client_id)), NULL, e);
    } else if (strcmp(action, "confirmed") == 0 && appt_id > 0) {
        if (strcmp(status, "PENDING") == 0)
            rc = db_exec_params(db,
                                "UPDATE appointments SET status = 'CONFIRMED', updated_at = $1 "
                                "WHERE tenant_id = $2 AND id = $3 AND status = 'PENDING'",
                                DB_PARAMS(DB_TEXT(now_txt), DB_INT(tenant_id), DB_INT(appt_id)), &n,
                                e);
    } else if (strcmp(action, "cancelled") == 0 && appt_id > 0) {
        rc = db_exec_params(
            db,
            "UPDATE appointments SET status = 'CANCELLED', updated_at = $1 "
            "WHERE tenant_id = $2 AND id = $3 AND status = $4",
            DB_PARAMS(DB_TEXT(now_txt), DB_INT(tenant_id), DB_INT(appt_id), DB_TEXT(status)), &n,
            e);
        if (rc == 0 && n == 1)
            rc = notify_appointment_changed(db, cfg, tenant_id, appt_id, NOTIFY_CANCELLED, NULL, e);
    } else
        action = "note"; /* nothing to confirm or cancel: the reception reads it */
    if (rc < 0)
        goto cleanup;
    rc = db_exec_params(
        db,
        "INSERT INTO notification_replies (tenant_id, client_id, appointment_id, channel, sender, "
        "body, action, provider_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $9)",
        DB_PARAMS(DB_INT(tenant_id), client_id > 0 ? DB_INT(client_id) : DB_NULL,
                  appt_id > 0 ? DB_INT(appt_id) : DB_NULL, DB_TEXT(channel), DB_TEXT(digits),
                  DB_TEXT(text), DB_TEXT(action), DB_TEXT(provider_id), DB_TEXT(now_txt)),
        NULL, e);
    if (rc == 0)
        rc = db_commit(db, e);

cleanup:
    if (rc < 0)
        db_rollback(db);
    return rc;
}

static int refuse(struct http_req *req, struct err *e)
{
    http_reply_error(req, 403, "signature_invalid", NULL, "the request's signature is not valid");
    return err_set(e, ERR_USAGE, "webhook signature invalid");
}

static int tenant_of(struct http_req *req, int64_t *id)
{
    const char *t = http_req_param(req, "tenant");
    char *end;
    long long v = t != NULL ? strtoll(t, &end, 10) : 0;

    if (t == NULL || *end != '\0' || v <= 0)
        return -1;
    *id = v;
    return 0;
}

static int api_webhook_whatsapp(struct http_req *req, struct err *e)
{
    struct db *db = NULL;
    char *secret = NULL;
    const char *sig = http_req_header(req, "X-Hub-Signature-256");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    size_t len = 0;
    const unsigned char *raw = http_req_body(req, &len);
    json_t *body = NULL, *entry, *change, *msg;
    int64_t tenant_id = 0;
    size_t i, j, k;
    int rc;

    if (tenant_of(req, &tenant_id) < 0)
        return refuse(req, e);
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = tenant_secret(db, ((struct api_worker *)http_req_worker(req))->app->cfg, tenant_id,
                            "whatsapp", &secret, e)) < 0)
        goto cleanup;
    if (secret == NULL || sig == NULL || !str_starts_with(sig, "sha256=")) {
        rc = refuse(req, e);
        goto cleanup;
    }
    HMAC(EVP_sha256(), secret, (int)strlen(secret), raw, len, mac, &maclen);
    hex_encode(mac, maclen, hex);
    if (strlen(sig + 7) != strlen(hex) || CRYPTO_memcmp(sig + 7, hex, strlen(hex)) != 0) {
        rc = refuse(req, e);
        goto cleanup;
    }
    body = json_loadb((const char *)raw, len, 0, NULL);
    json_array_foreach(json_object_get(body, "entry"), i, entry)
    {
        json_array_foreach(json_object_get(entry, "changes"), j, change)
        {
            json_array_foreach(json_object_get(json_object_get(change, "value"), "messages"), k,
                               msg)
            {
                const char *from = json_string_value(json_object_get(msg, "from"));
                const char *id = json_string_value(json_object_get(msg, "id"));
                const char *text =
                    json_string_value(json_object_get(json_object_get(msg, "text"), "body"));
                if (text == NULL) /* a quick-reply button of a template */
                    text =
                        json_string_value(json_object_get(json_object_get(msg, "button"), "text"));
                if (from == NULL || text == NULL)
                    continue;
                rc = handle_reply(db, ((struct api_worker *)http_req_worker(req))->app->cfg,
                                  tenant_id, "whatsapp", from, text, id, e);
                if (rc < 0)
                    goto cleanup;
            }
        }
    }
    rc = http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));

cleanup:
    notify_secret_free(secret);
    json_decref(body);
    return rc;
}

struct field {
    char *name, *value;
};

static int field_cmp(const void *a, const void *b)
{
    return strcmp(((const struct field *)a)->name, ((const struct field *)b)->name);
}

static int api_webhook_twilio(struct http_req *req, struct err *e)
{
    struct db *db = NULL;
    char *secret = NULL, *copy = NULL, *url = NULL;
    const char *sig = http_req_header(req, "X-Twilio-Signature");
    const char *from = NULL, *text = NULL, *sid = NULL;
    struct field f[64];
    struct buf data = BUF_INIT;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    unsigned char b64[4 * (EVP_MAX_MD_SIZE + 2) / 3 + 4];
    size_t len = 0, nf = 0;
    const unsigned char *raw = http_req_body(req, &len);
    const struct config *cfg = ((struct api_worker *)http_req_worker(req))->app->cfg;
    int64_t tenant_id = 0;
    int rc;

    if (tenant_of(req, &tenant_id) < 0)
        return refuse(req, e);
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = tenant_secret(db, cfg, tenant_id, "sms", &secret, e)) < 0)
        goto cleanup;
    if (secret == NULL || sig == NULL) {
        rc = refuse(req, e);
        goto cleanup;
    }
    copy = xstrndup((const char *)raw, len);
    for (char *save = NULL, *p = strtok_r(copy, "&", &save); p != NULL && nf < 64;
         p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        int n;
        for (char *q = p; *q != '\0'; q++)
            if (*q == '+')
                *q = ' ';
        if (eq != NULL)
            *eq = '\0';
        f[nf].name = curl_easy_unescape(NULL, p, 0, &n);
        f[nf].value = curl_easy_unescape(NULL, eq != NULL ? eq + 1 : "", 0, &n);
        nf++;
    }
    qsort(f, nf, sizeof(f[0]), field_cmp);
    url = xasprintf("%s%s", cfg->public_url, http_req_path(req));
    buf_adds(&data, url);
    for (size_t i = 0; i < nf; i++) {
        buf_adds(&data, f[i].name);
        buf_adds(&data, f[i].value);
        if (strcmp(f[i].name, "From") == 0)
            from = f[i].value;
        else if (strcmp(f[i].name, "Body") == 0)
            text = f[i].value;
        else if (strcmp(f[i].name, "MessageSid") == 0)
            sid = f[i].value;
    }
    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)buf_str(&data), data.len,
         mac, &maclen);
    EVP_EncodeBlock(b64, mac, (int)maclen);
    if (strlen(sig) != strlen((char *)b64) || CRYPTO_memcmp(sig, b64, strlen(sig)) != 0) {
        rc = refuse(req, e);
        goto cleanup;
    }
    if (from != NULL && text != NULL) {
        rc = handle_reply(db, cfg, tenant_id, "sms", from, text, sid, e);
        if (rc < 0)
            goto cleanup;
    }
    {
        static const char twiml[] =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
        rc = http_reply_text(req, 200, "text/xml", twiml, sizeof(twiml) - 1);
    }

cleanup:
    for (size_t i = 0; i < nf; i++) {
        curl_free(f[i].name);
        curl_free(f[i].value);
    }
    notify_secret_free(secret);
    free(copy);
    free(url);
    buf_release(&data);
    return rc;
}

const struct http_route api_webhook_routes[] = {
    {"POST", "/webhooks/whatsapp/{tenant}", api_webhook_whatsapp, HTTP_ROUTE_PUBLIC},
    {"POST", "/webhooks/twilio/{tenant}", api_webhook_twilio, HTTP_ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};
