/*
 * doctor — the notification lines of `citaplanner doctor` (notify.h):
 *   notify_smtp      SMTP_URL: connect, greeting, EHLO (and STARTTLS, AUTH) accepted
 *   notify_whatsapp  per tenant with WhatsApp on: GET /{version}/{phone-number-id}
 *                    with its token (harmless: reads the number's details)
 *   notify_sms       per tenant with SMS on: GET /2010-04-01/Accounts/{sid}.json
 *   notify_outbox    messages stuck unsent past their give-up window
 *   notify_secrets   the key file SECRETS_KEY_FILE, and per tenant each credential
 *                    that does not open with it (named: enter it again); only once a
 *                    credential was saved or the key exists
 * Details never hold a credential.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/seal.h"
#include "common/util.h"
#include "notify/notify.h"
#include "notify/secrets.h"

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

/* The key file, then each tenant's credentials that do not open (named). */
static void check_secrets(const struct config *cfg, struct db *db, notify_doctor_fn add, void *ctx)
{
    unsigned char key[SEAL_KEY_LEN];
    struct db_res *r = NULL;
    struct buf bad = BUF_INIT;
    char *path = notify_secrets_key_path(cfg), detail[1400];
    struct err e;
    int nbad = 0, nset = 0, rc;

    err_clear(&e);
    rc = seal_key_load(path, false, key, &e);
    secure_zero(key, sizeof(key));
    if (rc < 0 && access(path, F_OK) != 0)
        snprintf(detail, sizeof(detail),
                 "no secrets key file '%s' yet (made on the first "
                 "credential saved)",
                 path);
    else if (rc < 0)
        snprintf(detail, sizeof(detail), "%s", e.msg);
    else
        snprintf(detail, sizeof(detail), "the secrets key file '%s' is readable", path);
    if (db_query(db,
                 "SELECT tenant_id, whatsapp_token, whatsapp_app_secret, twilio_auth_token FROM "
                 "notification_settings ORDER BY tenant_id",
                 DB_NOPARAMS, &r, &e) == 0)
        while (db_res_next(r))
            for (int c = 0; notify_secret_columns[c] != NULL; c++) {
                char *plain = NULL;
                int64_t t = db_res_int(r, 0);
                nset += !db_res_isnull(r, c + 1);
                if (notify_secret_open(cfg, t, notify_secret_columns[c], db_res_text(r, c + 1),
                                       &plain) < 0)
                    buf_addf(&bad, "%stenant %lld: %s", nbad++ > 0 ? ", " : "", (long long)t,
                             notify_secret_columns[c]);
                notify_secret_free(plain);
            }
    db_res_free(r);
    if (nset == 0 && access(path, F_OK) != 0)
        goto cleanup; /* nothing saved, no key: nothing to check (the line stays away) */
    if (nbad > 0)
        snprintf(detail, sizeof(detail),
                 "%d credential(s) do not open with the secrets key '%s' (replaced or lost): %s",
                 nbad, path, buf_str(&bad));
    add(ctx, "notify_secrets", nbad > 0 || (rc < 0 && access(path, F_OK) == 0) ? 2 : 0,
        nbad > 0 ? "put back the key file these were saved with, or enter those credentials again "
                   "in the notification settings of each business"
        : rc < 0 ? "check SECRETS_KEY_FILE: a file of exactly 32 bytes, readable by the server"
                 : NULL,
        detail);

cleanup:
    buf_release(&bad);
    free(path);
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
    check_secrets(cfg, db, add, ctx);
    err_clear(&e);
    rc = db_query(db,
                  "SELECT tenant_id, whatsapp_enabled, whatsapp_phone_number_id, whatsapp_token, "
                  "whatsapp_api_version, sms_enabled, twilio_account_sid, twilio_auth_token "
                  "FROM notification_settings ORDER BY tenant_id",
                  DB_NOPARAMS, &r, &e);
    while (rc == 0 && db_res_next(r)) {
        long long t = (long long)db_res_int(r, 0);
        char *wa_token = NULL, *tw_token = NULL;
        /* unreadable: as not set here (notify_secrets above names it) */
        notify_secret_open(cfg, t, "whatsapp_token", db_res_text(r, 3), &wa_token);
        notify_secret_open(cfg, t, "twilio_auth_token", db_res_text(r, 7), &tw_token);
        if (db_res_bool(r, 1)) {
            char *url = xasprintf("%s/%s/%s", cfg->whatsapp_api_url, db_res_text(r, 4),
                                  db_res_isnull(r, 2) ? "-" : db_res_text(r, 2));
            if (db_res_isnull(r, 2) || wa_token == NULL)
                snprintf(detail, sizeof(detail),
                         "tenant %lld: WhatsApp is on without its phone-number id or a "
                         "readable token (see notify_secrets)",
                         t),
                    rc = -1;
            else if (probe(url, wa_token, NULL, &status, reason, sizeof(reason)) < 0 ||
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
                                 tw_token == NULL ? "" : tw_token);
            if (tw_token == NULL)
                snprintf(detail, sizeof(detail),
                         "tenant %lld: SMS is on without a readable Twilio auth token "
                         "(see notify_secrets)",
                         t),
                    rc = -1;
            else if (probe(url, NULL, up, &status, reason, sizeof(reason)) < 0 || status != 200)
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
        notify_secret_free(wa_token);
        notify_secret_free(tw_token);
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
