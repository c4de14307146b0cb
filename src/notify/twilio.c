/*
 * twilio — SMS through Twilio's Messages API: POST
 * {TWILIO_API_URL}/2010-04-01/Accounts/{AccountSid}/Messages.json, basic
 * auth AccountSid:AuthToken, form fields To, Body and From (or
 * MessagingServiceSid when the tenant's sender is an "MG…" service).
 * 201 answers {"sid":"SM…","status":"queued",…}; an error answers
 * {"code":21211,"message":…,"status":400}.  Retried: 429 (Retry-After),
 * 5xx.  The Messages API has no idempotency key: after a crash between
 * sending and marking, one duplicate is possible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/util.h"
#include "notify/provider.h"

static void add_field(struct buf *b, CURL *c, const char *name, const char *value)
{
    char *esc = curl_easy_escape(c, value, 0);
    buf_addf(b, "%s%s=%s", b->len > 0 ? "&" : "", name, esc != NULL ? esc : "");
    curl_free(esc);
}

static void tw_send(void *state, const struct config *cfg, const struct notify_creds *c,
                    const struct notify_msg *m, struct notify_outcome *out)
{
    struct buf form = BUF_INIT;
    char *url = NULL, *userpwd = NULL, *answer = NULL;
    json_t *ans = NULL;
    long status = 0;
    int retry_after = 0;

    memset(out, 0, sizeof(*out));
    if (c->twilio_sid == NULL || c->twilio_token == NULL || c->twilio_from == NULL ||
        state == NULL) {
        out->kind = NOTIFY_OUT_FAIL;
        snprintf(out->reason, sizeof(out->reason), "sms is not configured for this business");
        goto cleanup;
    }
    add_field(&form, state, "To", m->recipient);
    add_field(&form, state, str_starts_with(c->twilio_from, "MG") ? "MessagingServiceSid" : "From",
              c->twilio_from);
    add_field(&form, state, "Body", m->body);
    url = xasprintf("%s/2010-04-01/Accounts/%s/Messages.json", cfg->twilio_api_url, c->twilio_sid);
    userpwd = xasprintf("%s:%s", c->twilio_sid, c->twilio_token);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    if (notify_http_post(state, url, headers, userpwd, buf_str(&form), &status, &answer,
                         &retry_after, out->reason, sizeof(out->reason)) < 0) {
        out->kind = NOTIFY_OUT_RETRY;
        goto cleanup;
    }
    out->kind = notify_http_kind(status);
    out->retry_after_s = retry_after;
    ans = json_loads(answer, 0, NULL);
    if (out->kind == NOTIFY_OUT_SENT) {
        const char *sid = json_string_value(json_object_get(ans, "sid"));
        if (sid == NULL) {
            out->kind = NOTIFY_OUT_RETRY;
            snprintf(out->reason, sizeof(out->reason), "twilio answered %ld without a sid", status);
        } else
            snprintf(out->provider_id, sizeof(out->provider_id), "%s", sid);
    } else {
        const char *msg = json_string_value(json_object_get(ans, "message"));
        json_int_t code = json_integer_value(json_object_get(ans, "code"));
        snprintf(out->reason, sizeof(out->reason), "twilio %ld: %s (code %lld)", status,
                 msg != NULL ? msg : "no reason given", (long long)code);
    }

cleanup:
    if (userpwd != NULL)
        secure_zero(userpwd, strlen(userpwd));
    free(userpwd);
    free(url);
    free(answer);
    buf_release(&form);
    json_decref(ans);
}

const struct notify_provider notify_twilio = {
    .channel = "sms",
    .name = "twilio",
    .open = notify_http_open,
    .close = notify_http_close,
    .send = tw_send,
};
