/*
 * doctor — the notification lines of `citaplanner doctor` (notify.h):
 *   notify_smtp      SMTP_URL: connect, greeting, EHLO (and STARTTLS, AUTH) accepted
 *   notify_whatsapp  per tenant with WhatsApp on: GET /{version}/{phone-number-id}
 *                    with its token (harmless: reads the number's details)
 *   notify_sms       per tenant with SMS on: GET /2010-04-01/Accounts/{sid}.json
 *   notify_outbox    messages stuck unsent past their give-up window
 * Details never hold a credential.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/util.h"
#include "notify/notify.h"

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

/* 0 and the HTTP status, or -1 and reason. */
static int probe(const char *url, const char *bearer, const char *userpwd, long *status,
                 char *reason, size_t rsize)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *auth = NULL;
    CURLcode cc;

    if (c == NULL)
        return snprintf(reason, rsize, "cannot initialise libcurl"), -1;
    if (bearer != NULL) {
        auth = xasprintf("Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     strncmp(url, "smtp", 4) == 0 ? "smtp,smtps" : "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (userpwd != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    if (strncmp(url, "smtp", 4) == 0) {
        /* greeting, EHLO, STARTTLS and AUTH happen in the connect phase */
        curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    }
    cc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (cc != CURLE_OK)
        snprintf(reason, rsize, "%s", curl_easy_strerror(cc));
    curl_slist_free_all(h);
    if (auth != NULL)
        secure_zero(auth, strlen(auth));
    free(auth);
    curl_easy_cleanup(c);
    return cc == CURLE_OK ? 0 : -1;
}

void notify_doctor(const struct config *cfg, struct db *db, notify_doctor_fn add, void *ctx)
{
    struct db_res *r = NULL;
    struct err e;
    char reason[256], detail[512];
    int64_t stuck = 0;
    long status = 0;
    int rc;

    if (cfg->smtp_url == NULL)
        add(ctx, "notify_smtp", 0, NULL, "e-mail to clients is off (SMTP_URL unset)");
    else if (probe(cfg->smtp_url, NULL, NULL, &status, reason, sizeof(reason)) < 0) {
        snprintf(detail, sizeof(detail), "the mail server of SMTP_URL did not accept us: %s",
                 reason);
        add(ctx, "notify_smtp", 2, "check SMTP_URL (host, port, user, password, TLS)", detail);
    } else
        add(ctx, "notify_smtp", 0, NULL, "the mail server of SMTP_URL greets and accepts EHLO");
    if (db == NULL)
        return;
    err_clear(&e);
    rc = db_query(db,
                  "SELECT tenant_id, whatsapp_enabled, whatsapp_phone_number_id, whatsapp_token, "
                  "whatsapp_api_version, sms_enabled, twilio_account_sid, twilio_auth_token "
                  "FROM notification_settings ORDER BY tenant_id",
                  DB_NOPARAMS, &r, &e);
    while (rc == 0 && db_res_next(r)) {
        long long t = (long long)db_res_int(r, 0);
        if (db_res_bool(r, 1)) {
            char *url = xasprintf("%s/%s/%s", cfg->whatsapp_api_url, db_res_text(r, 4),
                                  db_res_isnull(r, 2) ? "-" : db_res_text(r, 2));
            if (db_res_isnull(r, 2) || db_res_isnull(r, 3))
                snprintf(detail, sizeof(detail),
                         "tenant %lld: WhatsApp is on without its "
                         "phone-number id or token",
                         t),
                    rc = -1;
            else if (probe(url, db_res_text(r, 3), NULL, &status, reason, sizeof(reason)) < 0 ||
                     status != 200)
                snprintf(detail, sizeof(detail),
                         "tenant %lld: the WhatsApp Cloud API refused "
                         "the number or token (%ld %s)",
                         t, status, status ? "" : reason),
                    rc = -1;
            else
                snprintf(detail, sizeof(detail), "tenant %lld: the WhatsApp number answers", t);
            add(ctx, "notify_whatsapp", rc < 0 ? 2 : 0,
                rc < 0 ? "check the WhatsApp settings of the business" : NULL, detail);
            rc = 0;
            free(url);
        }
        if (db_res_bool(r, 5)) {
            char *url = xasprintf("%s/2010-04-01/Accounts/%s.json", cfg->twilio_api_url,
                                  db_res_isnull(r, 6) ? "-" : db_res_text(r, 6));
            char *up = xasprintf("%s:%s", db_res_isnull(r, 6) ? "" : db_res_text(r, 6),
                                 db_res_isnull(r, 7) ? "" : db_res_text(r, 7));
            if (probe(url, NULL, up, &status, reason, sizeof(reason)) < 0 || status != 200)
                snprintf(detail, sizeof(detail),
                         "tenant %lld: Twilio refused the account SID "
                         "or auth token (%ld %s)",
                         t, status, status ? "" : reason),
                    rc = -1;
            else
                snprintf(detail, sizeof(detail), "tenant %lld: the Twilio account answers", t);
            add(ctx, "notify_sms", rc < 0 ? 2 : 0,
                rc < 0 ? "check the SMS (Twilio) settings of the business" : NULL, detail);
            rc = 0;
            secure_zero(up, strlen(up));
            free(up);
            free(url);
        }
    }
    db_res_free(r);
    if (notify_stuck_count(db, notify_now(), &stuck, &e) < 0)
        return;
    snprintf(detail, sizeof(detail), "%lld message(s) unsent past their give-up window",
             (long long)stuck);
    add(ctx, "notify_outbox", stuck > 0 ? 2 : 0,
        stuck > 0 ? "is serve running? see the message log and the channel lines above" : NULL,
        detail);
}
