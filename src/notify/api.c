/*
 * api — the staff side of notifications (issue 17), under /api/v1:
 *
 *   GET  /notifications/settings    (ADMIN, MANAGER) channels, reminder offsets, quiet hours,
 *                                   give-up window, each credential as "set"/"not set" (never
 *                                   its value), the templates in effect, the variables
 *   PUT  /notifications/settings    (ADMIN) any of those; a credential is written, or cleared
 *                                   with null, never read back
 *   PUT  /notifications/templates   (ADMIN) {channel, kind, language, body, subject?,
 *                                   wa_template?}; body null: back to the default.  A text
 *                                   is checked here, not when sent: 400 template_unknown_variable,
 *                                   template_syntax, template_variable_unavailable
 *                                   ({{manage_link}} without an online booking page)
 *   POST /notifications/preview     (ADMIN, MANAGER) {channel, kind, language, body?, subject?}
 *                                   the text rendered with example values
 *   GET  /notifications/messages    (ADMIN, MANAGER, RECEPTIONIST) the log, by id;
 *                                   ?appointment_id &status &channel
 *   POST /notifications/messages/{id}/resend   a new message of the same content, due now
 *
 * Credentials never reach a log line or an answer; they are sealed before
 * they are written (secrets.h), and one that does not open any more (the
 * key replaced) reads "unreadable": enter it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/validate.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/util.h"
#include "notify/notify.h"
#include "notify/outbox.h"
#include "notify/secrets.h"
#include "notify/templates.h"

static const char *const channels[] = {"email", "whatsapp", "sms", NULL};
static const char *const kinds[] = {"confirmation", "reschedule", "cancellation", "reminder", NULL};
static const char *const languages[] = {"es", "en", NULL};
static const char *const statuses[] = {"pending", "sending", "sent", "failed", "void", NULL};

enum {
    N_EMAIL,
    N_WA,
    N_SMS,
    N_LANG,
    N_OFFSETS,
    N_QSTART,
    N_QEND,
    N_GIVEUP,
    N_WA_ID,
    N_WA_TOKEN,
    N_WA_SECRET,
    N_WA_VERSION,
    N_TW_SID,
    N_TW_TOKEN,
    N_TW_FROM,
};

static const struct api_field settings_fields[] = {
    [N_EMAIL] = {"email_enabled", API_T_BOOL, 0, 0, 0, NULL},
    [N_WA] = {"whatsapp_enabled", API_T_BOOL, 0, 0, 0, NULL},
    [N_SMS] = {"sms_enabled", API_T_BOOL, 0, 0, 0, NULL},
    [N_LANG] = {"language", API_T_ENUM, 0, 0, 0, languages},
    [N_OFFSETS] = {"reminder_offsets_min", API_T_ARRAY, 0, 0, 4, NULL},
    [N_QSTART] = {"quiet_start", API_T_HHMM, API_NULLABLE, 0, 0, NULL},
    [N_QEND] = {"quiet_end", API_T_HHMM, API_NULLABLE, 0, 0, NULL},
    [N_GIVEUP] = {"give_up_min", API_T_INT, 0, 5, 10080, NULL},
    [N_WA_ID] = {"whatsapp_phone_number_id", API_T_STRING, API_NULLABLE, 1, 64, NULL},
    [N_WA_TOKEN] = {"whatsapp_token", API_T_STRING, API_NULLABLE, 1, 1024, NULL},
    [N_WA_SECRET] = {"whatsapp_app_secret", API_T_STRING, API_NULLABLE, 1, 256, NULL},
    [N_WA_VERSION] = {"whatsapp_api_version", API_T_STRING, 0, 2, 16, NULL},
    [N_TW_SID] = {"twilio_account_sid", API_T_STRING, API_NULLABLE, 34, 34, NULL},
    [N_TW_TOKEN] = {"twilio_auth_token", API_T_STRING, API_NULLABLE, 1, 256, NULL},
    [N_TW_FROM] = {"twilio_from", API_T_STRING, API_NULLABLE, 2, 34, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* The credentials: write-only, sealed (notify_secret_columns, in this order). */
static const int secret_fields[] = {N_WA_TOKEN, N_WA_SECRET, N_TW_TOKEN};
#define NSECRETS 3

static const struct config *cfg_of(struct http_req *req)
{
    return ((struct api_worker *)http_req_worker(req))->app->cfg;
}

/* A stored credential as the API shows it: "set", "not set", or "unreadable" (does not open). */
static const char *secret_state(const struct config *cfg, int64_t tenant_id, const char *column,
                                const struct db_res *r, int col)
{
    char *plain = NULL;
    int rc;

    if (db_res_isnull(r, col))
        return "not set";
    rc = notify_secret_open(cfg, tenant_id, column, db_res_text(r, col), &plain);
    notify_secret_free(plain);
    return rc < 0 ? "unreadable" : "set";
}

/* Is online booking on for the tenant (so that {{manage_link}} has a page)? */
static int online_on(struct db *db, int64_t tenant_id, bool *on, struct err *e)
{
    int64_t n = 0;
    int rc = db_query_int(db,
                          "SELECT count(*) FROM online_booking_rules o JOIN tenants t ON t.id = "
                          "o.tenant_id WHERE o.tenant_id = $1 AND o.enabled AND t.slug IS NOT NULL",
                          DB_PARAMS(DB_INT(tenant_id)), &n, e);
    *on = n > 0;
    return rc < 0 ? rc : 0;
}

static json_t *templates_json(struct db *db, int64_t tenant_id, struct err *e, int *rc)
{
    json_t *list = json_array();

    *rc = 0;
    for (int c = 0; channels[c] != NULL && *rc == 0; c++)
        for (int k = 0; kinds[k] != NULL && *rc == 0; k++)
            for (int l = 0; languages[l] != NULL && *rc == 0; l++) {
                struct notify_text t;
                int64_t custom = 0;
                *rc = notify_text_load(db, tenant_id, channels[c], kinds[k], languages[l], &t, e);
                if (*rc < 0)
                    break;
                *rc = db_query_int(db,
                                   "SELECT count(*) FROM message_templates WHERE tenant_id = $1 "
                                   "AND channel = $2 AND kind = $3 AND language = $4",
                                   DB_PARAMS(DB_INT(tenant_id), DB_TEXT(channels[c]),
                                             DB_TEXT(kinds[k]), DB_TEXT(languages[l])),
                                   &custom, e);
                if (*rc > 0)
                    *rc = 0;
                json_array_append_new(
                    list, json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:b}", "channel", channels[c],
                                    "kind", kinds[k], "language", languages[l], "subject",
                                    t.subject ? json_string(t.subject) : json_null(), "body",
                                    t.body, "wa_template",
                                    t.wa_template ? json_string(t.wa_template) : json_null(),
                                    "custom", custom > 0));
                notify_text_release(&t);
            }
    return list;
}

static int settings_reply(struct http_req *req, struct db *db, int64_t tenant_id, struct err *e)
{
    const struct config *cfg = cfg_of(req);
    struct db_res *r = NULL;
    json_t *o = NULL, *vars = json_array(), *tpls = NULL, *offsets = json_array();
    int rc;

    rc = db_query(db,
                  "SELECT email_enabled, whatsapp_enabled, sms_enabled, language, "
                  "reminder_offsets_min, quiet_start, quiet_end, give_up_min, "
                  "whatsapp_phone_number_id, whatsapp_token, whatsapp_app_secret, "
                  "whatsapp_api_version, twilio_account_sid, twilio_auth_token, "
                  "twilio_from FROM notification_settings WHERE tenant_id = $1",
                  DB_PARAMS(DB_INT(tenant_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r)) {
        const char *p = db_res_text(r, 4);
        while (p != NULL && *p != '\0') {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            json_array_append_new(offsets, json_integer(v));
            p = *end == ',' ? end + 1 : end;
        }
        o = json_pack(
            "{s:b, s:b, s:b, s:s, s:O, s:o, s:o, s:i, s:o, s:s, s:s, s:s, s:o, s:s, "
            "s:o, s:b}",
            "email_enabled", db_res_bool(r, 0), "whatsapp_enabled", db_res_bool(r, 1),
            "sms_enabled", db_res_bool(r, 2), "language", db_res_text(r, 3), "reminder_offsets_min",
            offsets, "quiet_start",
            db_res_isnull(r, 5) ? json_null() : json_string(db_res_text(r, 5)), "quiet_end",
            db_res_isnull(r, 6) ? json_null() : json_string(db_res_text(r, 6)), "give_up_min",
            (int)db_res_int(r, 7), "whatsapp_phone_number_id",
            db_res_isnull(r, 8) ? json_null() : json_string(db_res_text(r, 8)), "whatsapp_token",
            secret_state(cfg, tenant_id, "whatsapp_token", r, 9), "whatsapp_app_secret",
            secret_state(cfg, tenant_id, "whatsapp_app_secret", r, 10), "whatsapp_api_version",
            db_res_text(r, 11), "twilio_account_sid",
            db_res_isnull(r, 12) ? json_null() : json_string(db_res_text(r, 12)),
            "twilio_auth_token", secret_state(cfg, tenant_id, "twilio_auth_token", r, 13),
            "twilio_from", db_res_isnull(r, 14) ? json_null() : json_string(db_res_text(r, 14)),
            "configured", 1);
    } else
        o = json_pack("{s:b, s:b, s:b, s:s, s:[i, i], s:n, s:n, s:i, s:n, s:s, s:s, s:s, s:n, "
                      "s:s, s:n, s:b}",
                      "email_enabled", 0, "whatsapp_enabled", 0, "sms_enabled", 0, "language", "es",
                      "reminder_offsets_min", 1440, 120, "quiet_start", "quiet_end", "give_up_min",
                      1440, "whatsapp_phone_number_id", "whatsapp_token", "not set",
                      "whatsapp_app_secret", "not set", "whatsapp_api_version", "v21.0",
                      "twilio_account_sid", "twilio_auth_token", "not set", "twilio_from",
                      "configured", 0);
    db_res_free(r);
    r = NULL;
    tpls = templates_json(db, tenant_id, e, &rc);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < NV_COUNT; i++)
        json_array_append_new(vars, json_string(notify_var_names[i]));
    json_object_set(o, "templates", tpls);
    json_object_set(o, "variables", vars);
    rc = http_reply_json(req, 200, o); /* takes o */
    o = NULL;

cleanup:
    db_res_free(r);
    json_decref(o);
    json_decref(vars);
    json_decref(tpls);
    json_decref(offsets);
    return rc;
}

static int api_notify_settings_get(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    int rc;

    if (api_auth_require(req, "notifications", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        return rc;
    return settings_reply(req, db, au.tenant_id, e);
}

/* reminder_offsets_min: 0-4 distinct minutes 5..43200, as "1440,120". */
static int offsets_text(struct http_req *req, json_t *arr, struct buf *out, struct err *e)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        json_int_t m = json_integer_value(v);
        if (!json_is_integer(v) || m < 5 || m > 43200)
            return api_reply_invalid(req, e, "reminder_offsets_min",
                                     "'reminder_offsets_min' must be minutes 5-43200");
        buf_addf(out, "%s%lld", i > 0 ? "," : "", (long long)m);
    }
    return 0;
}

static int api_notify_settings_put(struct http_req *req, struct err *e)
{
    static const char *const skip[] = {"reminder_offsets_min", NULL};
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct api_sql q;
    struct buf offs = BUF_INIT;
    struct db *db = NULL;
    json_t *body = NULL;
    char now[32], *sealed[NSECRETS] = {NULL};
    bool in_tx = false;
    int rc = 0;

    api_sql_init(&q, "UPDATE notification_settings SET updated_at = ");
    if (api_auth_require(req, "notifications", API_ACT_UPDATE, &au) < 0)
        goto cleanup;
    if ((rc = api_read_body(req, settings_fields, API_UPDATE, &body, v, e)) < 0)
        goto cleanup;
    if (v[N_OFFSETS].present && (rc = offsets_text(req, v[N_OFFSETS].json, &offs, e)) < 0)
        goto cleanup;
    if (v[N_QSTART].present != v[N_QEND].present ||
        (v[N_QSTART].present && v[N_QSTART].null != v[N_QEND].null)) {
        rc = api_reply_invalid(req, e, "quiet_end",
                               "'quiet_start' and 'quiet_end' are given (or cleared) together");
        goto cleanup;
    }
    for (int i = 0; i < NSECRETS; i++) {
        struct api_value *s = &v[secret_fields[i]];
        if (!s->present || s->null)
            continue;
        rc = notify_secret_seal(cfg_of(req), au.tenant_id, notify_secret_columns[i], s->s,
                                &sealed[i], e);
        if (rc < 0) {
            log_error("notification settings of tenant %lld: %s", (long long)au.tenant_id, e->msg);
            http_reply_error(req, 500, "secrets_key_unavailable", NULL,
                             "the server cannot seal credentials: its secrets key file is "
                             "missing or unreadable (see the server log / doctor)");
            goto cleanup;
        }
        s->s = sealed[i];
    }
    if ((rc = api_worker_db(http_req_worker(req), &db, e)) < 0 || (rc = db_begin(db, e)) < 0)
        goto cleanup;
    in_tx = true;
    rc = db_exec_params(db,
                        "INSERT INTO notification_settings (tenant_id) VALUES ($1) "
                        "ON CONFLICT (tenant_id) DO NOTHING",
                        DB_PARAMS(DB_INT(au.tenant_id)), NULL, e);
    if (rc < 0)
        goto cleanup;
    api_now_text(now);
    api_sql_param(&q, DB_TEXT(now));
    api_sql_set_fields(&q, settings_fields, v, skip, false);
    if (v[N_OFFSETS].present) {
        api_sql_add(&q, ", reminder_offsets_min = ");
        api_sql_param(&q, DB_TEXT(buf_str(&offs)));
    }
    api_sql_add(&q, " WHERE tenant_id = ");
    api_sql_param(&q, DB_INT(au.tenant_id));
    rc = db_exec_params(db, buf_str(&q.text), q.nparams, q.params, NULL, e);
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0)
        goto cleanup;
    in_tx = false;
    rc = settings_reply(req, db, au.tenant_id, e);

cleanup:
    if (in_tx)
        db_rollback(db);
    /* the body held credentials: wipe them */
    for (int i = 0; notify_secret_columns[i] != NULL && body != NULL; i++) {
        json_t *s = json_object_get(body, notify_secret_columns[i]);
        if (json_is_string(s))
            secure_zero((char *)json_string_value(s), json_string_length(s));
    }
    for (int i = 0; i < NSECRETS; i++)
        free(sealed[i]);
    api_sql_release(&q);
    buf_release(&offs);
    json_decref(body);
    return rc;
}

enum { T_CHANNEL, T_KIND, T_LANG, T_SUBJECT, T_BODY, T_WA };

static const struct api_field template_fields[] = {
    [T_CHANNEL] = {"channel", API_T_ENUM, API_REQUIRED, 0, 0, channels},
    [T_KIND] = {"kind", API_T_ENUM, API_REQUIRED, 0, 0, kinds},
    [T_LANG] = {"language", API_T_ENUM, API_REQUIRED, 0, 0, languages},
    [T_SUBJECT] = {"subject", API_T_STRING, API_NULLABLE, 1, 200, NULL},
    [T_BODY] = {"body", API_T_STRING, API_REQUIRED | API_NULLABLE, 1, 1600, NULL},
    [T_WA] = {"wa_template", API_T_STRING, API_NULLABLE, 1, 512, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* Check one text field; answers 400 with a stable code. */
static int check_text(struct http_req *req, const char *field, const char *text, bool online,
                      struct err *e)
{
    char bad[80];

    switch (notify_template_check(text, online, bad, sizeof(bad))) {
    case NOTIFY_TPL_OK:
        return 0;
    case NOTIFY_TPL_UNKNOWN:
        http_reply_error(req, 400, "template_unknown_variable", field,
                         "'%s' uses {{%s}}, which is not a variable", field, bad);
        break;
    case NOTIFY_TPL_SYNTAX:
        http_reply_error(req, 400, "template_syntax", field,
                         "'%s' has a '{{' without its '}}' (or the reverse) or an empty name",
                         field);
        break;
    case NOTIFY_TPL_UNAVAILABLE:
        http_reply_error(req, 400, "template_variable_unavailable", field,
                         "'%s' uses {{%s}}, but online booking is off: there is no link", field,
                         bad);
        break;
    }
    return err_set(e, ERR_USAGE, "template refused");
}

static int api_notify_templates_put(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct db *db = NULL;
    json_t *body = NULL;
    bool online = false;
    char now[32];
    int rc;

    if (api_auth_require(req, "notifications", API_ACT_UPDATE, &au) < 0)
        return 0;
    if ((rc = api_read_body(req, template_fields, API_CREATE, &body, v, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = online_on(db, au.tenant_id, &online, e)) < 0)
        goto cleanup;
    if (!v[T_BODY].null && (rc = check_text(req, "body", v[T_BODY].s, online, e)) < 0)
        goto cleanup;
    if (v[T_SUBJECT].present && !v[T_SUBJECT].null &&
        (rc = check_text(req, "subject", v[T_SUBJECT].s, online, e)) < 0)
        goto cleanup;
    rc = db_exec_params(db,
                        "DELETE FROM message_templates WHERE tenant_id = $1 AND channel = $2 AND "
                        "kind = $3 AND language = $4",
                        DB_PARAMS(DB_INT(au.tenant_id), DB_TEXT(v[T_CHANNEL].s),
                                  DB_TEXT(v[T_KIND].s), DB_TEXT(v[T_LANG].s)),
                        NULL, e);
    api_now_text(now);
    if (rc == 0 && !v[T_BODY].null)
        rc = db_exec_params(
            db,
            "INSERT INTO message_templates (tenant_id, channel, kind, language, subject, body, "
            "wa_template, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            DB_PARAMS(
                DB_INT(au.tenant_id), DB_TEXT(v[T_CHANNEL].s), DB_TEXT(v[T_KIND].s),
                DB_TEXT(v[T_LANG].s),
                v[T_SUBJECT].present && !v[T_SUBJECT].null ? DB_TEXT(v[T_SUBJECT].s) : DB_NULL,
                DB_TEXT(v[T_BODY].s),
                v[T_WA].present && !v[T_WA].null ? DB_TEXT(v[T_WA].s) : DB_NULL, DB_TEXT(now)),
            NULL, e);
    if (rc < 0)
        goto cleanup;
    rc = settings_reply(req, db, au.tenant_id, e);

cleanup:
    json_decref(body);
    return rc;
}

static int api_notify_preview(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_auth au;
    struct notify_text t = {0};
    struct notify_vars vars = {{0}};
    struct db *db = NULL;
    json_t *body = NULL;
    char *subject = NULL, *text = NULL, *html = NULL;
    char date[96], when[32], price[48];
    bool online = false, en;
    int rc;

    if (api_auth_require(req, "notifications", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_read_body(req, template_fields, API_UPDATE, &body, v, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = online_on(db, au.tenant_id, &online, e)) < 0)
        goto cleanup;
    if (!v[T_CHANNEL].present || !v[T_KIND].present || !v[T_LANG].present) {
        rc = api_reply_invalid(req, e, "channel", "'channel', 'kind' and 'language' are required");
        goto cleanup;
    }
    rc = notify_text_load(db, au.tenant_id, v[T_CHANNEL].s, v[T_KIND].s, v[T_LANG].s, &t, e);
    if (rc < 0)
        goto cleanup;
    if (v[T_BODY].present && !v[T_BODY].null) {
        if ((rc = check_text(req, "body", v[T_BODY].s, online, e)) < 0)
            goto cleanup;
        free(t.body);
        t.body = xstrdup(v[T_BODY].s);
    }
    if (v[T_SUBJECT].present && !v[T_SUBJECT].null) {
        if ((rc = check_text(req, "subject", v[T_SUBJECT].s, online, e)) < 0)
            goto cleanup;
        free(t.subject);
        t.subject = xstrdup(v[T_SUBJECT].s);
    }
    en = strcmp(v[T_LANG].s, "en") == 0;
    notify_format_when("America/Mexico_City", v[T_LANG].s, 1765296000 + 17 * 3600 + 1800, date,
                       sizeof(date), when, sizeof(when));
    notify_format_price(85000, "MXN", price, sizeof(price));
    vars.v[NV_FIRST_NAME] = "Isabella", vars.v[NV_SERVICE] = en ? "Facial" : "Facial Hidratante";
    vars.v[NV_PROFESSIONAL] = "Lucía Navarro", vars.v[NV_BRANCH] = "Sucursal Centro";
    vars.v[NV_ADDRESS] = "Av. Reforma 123, CDMX", vars.v[NV_DATE] = date, vars.v[NV_TIME] = when;
    vars.v[NV_PRICE] = price, vars.v[NV_MANAGE_LINK] = "https://example.com/b/spa/centro#m=…";
    vars.v[NV_BUSINESS] = "Bella Vita Spa";
    text = notify_render(t.body, &vars, NULL);
    subject = t.subject != NULL ? notify_render(t.subject, &vars, NULL) : NULL;
    html = notify_html_of(text, v[T_LANG].s);
    json_decref(body);
    body = json_pack("{s:o, s:s, s:s}", "subject", subject ? json_string(subject) : json_null(),
                     "body", text, "html", html);
    rc = http_reply_json(req, 200, body); /* takes body */
    body = NULL;

cleanup:
    notify_text_release(&t);
    free(subject);
    free(text);
    free(html);
    json_decref(body);
    return rc;
}

#define MSG_COLS                                                                                   \
    "SELECT id, appointment_id, client_id, channel, kind, language, recipient, status, attempts, " \
    "provider_id, error, send_at, next_attempt_at, sent_at, subject, body, created_at "
#define MSG_TYPES "iiisssssisstttsst"

static int api_notify_messages(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct api_page page;
    struct db *db = NULL;
    struct db_param params[6];
    struct buf sql = BUF_INIT;
    const char *status = http_req_query(req, "status"), *channel = http_req_query(req, "channel");
    int64_t appt = 0;
    bool has_appt = false;
    int np = 0, rc;

    if (api_auth_require(req, "notification_messages", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_page_parse(req, &page, e)) < 0 ||
        (rc = api_query_id(req, "appointment_id", &appt, &has_appt, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        goto cleanup;
    buf_adds(&sql, MSG_COLS "FROM notification_outbox WHERE tenant_id = $1 AND id > $2");
    params[np++] = DB_INT(au.tenant_id);
    params[np++] = DB_INT(page.after_id);
    if (has_appt) {
        params[np++] = DB_INT(appt);
        buf_addf(&sql, " AND appointment_id = $%d", np);
    }
    if (status != NULL) {
        bool ok = false;
        for (int i = 0; statuses[i] != NULL; i++)
            ok = ok || strcmp(statuses[i], status) == 0;
        if (!ok) {
            rc = api_reply_invalid(req, e, "status",
                                   "'status' must be pending, sending, sent, "
                                   "failed or void");
            goto cleanup;
        }
        params[np++] = DB_TEXT(status);
        buf_addf(&sql, " AND status = $%d", np);
    }
    if (channel != NULL) {
        params[np++] = DB_TEXT(channel);
        buf_addf(&sql, " AND channel = $%d", np);
    }
    buf_addf(&sql, " ORDER BY id LIMIT %d", page.limit + 1);
    rc = api_list_reply(req, db, &page, buf_str(&sql), np, params, MSG_TYPES, e);

cleanup:
    buf_release(&sql);
    return rc;
}

static int api_notify_resend(struct http_req *req, struct err *e)
{
    struct api_auth au;
    struct db *db = NULL;
    int64_t id = 0, new_id = 0;
    char key[40], now[32];
    int rc;

    if (api_auth_require(req, "notification_messages", API_ACT_CREATE, &au) < 0)
        return 0;
    if ((rc = api_path_id(req, "id", &id, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0)
        return rc;
    notify_new_key(key);
    tz_format_instant(notify_now(), now);
    rc = db_query_int(
        db,
        "INSERT INTO notification_outbox (tenant_id, appointment_id, client_id, channel, kind, "
        "language, recipient, appt_start_at, send_at, next_attempt_at, idempotency_key, subject, "
        "body, params, created_at, updated_at) SELECT tenant_id, appointment_id, client_id, "
        "channel, kind, language, recipient, appt_start_at, $1, $1, $2, subject, body, params, $1, "
        "$1 FROM notification_outbox WHERE tenant_id = $3 AND id = $4 AND status <> 'pending' "
        "AND status <> 'sending' RETURNING id",
        DB_PARAMS(DB_TEXT(now), DB_TEXT(key), DB_INT(au.tenant_id), DB_INT(id)), &new_id, e);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        int64_t exists = 0;
        db_query_int(db,
                     "SELECT count(*) FROM notification_outbox WHERE tenant_id = $1 AND id = $2",
                     DB_PARAMS(DB_INT(au.tenant_id), DB_INT(id)), &exists, e);
        if (exists == 0)
            return err_set(e, ERR_NOT_FOUND, "no message '%lld'", (long long)id);
        http_reply_error(req, 409, "message_in_flight", NULL,
                         "message '%lld' is still waiting to be sent", (long long)id);
        return err_set(e, ERR_USAGE, "in flight");
    }
    return api_row_reply(
        req, 201, db, MSG_COLS "FROM notification_outbox WHERE tenant_id = $1 AND id = $2",
        DB_PARAMS(DB_INT(au.tenant_id), DB_INT(new_id)), MSG_TYPES, "message", new_id, e);
}

const struct http_route api_notify_routes[] = {
    {"GET", "/api/v1/notifications/settings", api_notify_settings_get, 0},
    {"PUT", "/api/v1/notifications/settings", api_notify_settings_put, 0},
    {"PUT", "/api/v1/notifications/templates", api_notify_templates_put, 0},
    {"POST", "/api/v1/notifications/preview", api_notify_preview, 0},
    {"GET", "/api/v1/notifications/messages", api_notify_messages, 0},
    {"POST", "/api/v1/notifications/messages/{id}/resend", api_notify_resend, 0},
    {NULL, NULL, NULL, 0},
};
