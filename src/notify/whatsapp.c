/*
 * whatsapp — the WhatsApp Business Cloud API (Meta): an approved template
 * message, POST {WHATSAPP_API_URL}/{version}/{phone-number-id}/messages with
 * the tenant's bearer token and
 *   {"messaging_product":"whatsapp","to":"5255...","type":"template",
 *    "template":{"name":…,"language":{"code":"es_MX"},
 *                "components":[{"type":"body","parameters":[{"type":"text","text":…},…]}]}}
 * 200 answers {"messages":[{"id":"wamid…"}]}; an error answers
 * {"error":{"message":…,"code":…}}.  Retried: 429, 5xx, and Meta's
 * throttling codes (4, 80007, 130429, 131048, 131056) whatever the status.
 * The API has no idempotency key: after a crash between sending and
 * marking, one duplicate is possible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "notify/provider.h"

static bool throttling(json_int_t code)
{
    return code == 4 || code == 80007 || code == 130429 || code == 131048 || code == 131056;
}

static void wa_send(void *state, const struct config *cfg, const struct notify_creds *c,
                    const struct notify_msg *m, struct notify_outcome *out)
{
    char *url = NULL, *auth = NULL, *body = NULL, *answer = NULL;
    json_t *req = NULL, *params = NULL, *ans = NULL, *list;
    const char *to = m->recipient[0] == '+' ? m->recipient + 1 : m->recipient;
    long status = 0;
    int retry_after = 0;

    memset(out, 0, sizeof(*out));
    if (c->wa_phone_number_id == NULL || c->wa_token == NULL) {
        out->kind = NOTIFY_OUT_FAIL;
        snprintf(out->reason, sizeof(out->reason), "whatsapp is not configured for this business");
        goto cleanup;
    }
    params = m->params != NULL ? json_loads(m->params, 0, NULL) : NULL;
    list = json_array();
    for (size_t i = 0; json_is_array(params) && i < json_array_size(params); i++)
        json_array_append_new(
            list, json_pack("{s:s, s:O}", "type", "text", "text", json_array_get(params, i)));
    req = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:[{s:s, s:o}]}}", "messaging_product",
                    "whatsapp", "recipient_type", "individual", "to", to, "type", "template",
                    "template", "name", m->subject != NULL ? m->subject : "", "language", "code",
                    strcmp(m->language, "en") == 0 ? "en_US" : "es_MX", "components", "type",
                    "body", "parameters", list);
    body = json_dumps(req, JSON_COMPACT);
    url = xasprintf("%s/%s/%s/messages", cfg->whatsapp_api_url,
                    c->wa_version != NULL ? c->wa_version : "v21.0", c->wa_phone_number_id);
    auth = xasprintf("Authorization: Bearer %s", c->wa_token);
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    if (notify_http_post(state, url, headers, NULL, body, &status, &answer, &retry_after,
                         out->reason, sizeof(out->reason)) < 0) {
        out->kind = NOTIFY_OUT_RETRY;
        goto cleanup;
    }
    out->kind = notify_http_kind(status);
    out->retry_after_s = retry_after;
    ans = json_loads(answer, 0, NULL);
    if (out->kind == NOTIFY_OUT_SENT) {
        const char *id = json_string_value(
            json_object_get(json_array_get(json_object_get(ans, "messages"), 0), "id"));
        if (id == NULL) {
            out->kind = NOTIFY_OUT_RETRY;
            snprintf(out->reason, sizeof(out->reason), "whatsapp answered %ld without a message id",
                     status);
        } else
            snprintf(out->provider_id, sizeof(out->provider_id), "%s", id);
    } else {
        json_t *err = json_object_get(ans, "error");
        const char *msg = json_string_value(json_object_get(err, "message"));
        json_int_t code = json_integer_value(json_object_get(err, "code"));
        if (throttling(code))
            out->kind = NOTIFY_OUT_RETRY;
        snprintf(out->reason, sizeof(out->reason), "whatsapp %ld: %s (code %lld)", status,
                 msg != NULL ? msg : "no reason given", (long long)code);
    }

cleanup:
    if (auth != NULL)
        secure_zero(auth, strlen(auth));
    free(auth);
    free(url);
    free(body);
    free(answer);
    json_decref(req);
    json_decref(params);
    json_decref(ans);
}

const struct notify_provider notify_whatsapp = {
    .channel = "whatsapp",
    .name = "whatsapp-cloud",
    .open = notify_http_open,
    .close = notify_http_close,
    .send = wa_send,
};
