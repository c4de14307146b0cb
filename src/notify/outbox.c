/* outbox — see outbox.h and notify.h. */
#include "notify/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "backup/layout.h"
#include "common/tz.h"
#include "common/util.h"
#include "notify/notify.h"
#include "notify/templates.h"

#define MAX_OFFSETS 8

int64_t notify_now(void)
{
    return (int64_t)backup_clock(); /* CITAPLANNER_FAKE_NOW (local time) when set */
}

void notify_new_key(char out[40])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        /* never reused: the time and the address of out keep it unique enough */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(raw, &ts, sizeof(raw) < sizeof(ts) ? sizeof(raw) : sizeof(ts));
    }
    memcpy(out, "cp-", 3);
    hex_encode(raw, sizeof(raw), out + 3);
}

enum notify_event notify_event_of(const char *cur_status, int64_t cur_start,
                                  int64_t cur_professional, const char *next_status,
                                  int64_t next_start, int64_t next_professional)
{
    if (strcmp(next_status, "CANCELLED") == 0 && strcmp(cur_status, "CANCELLED") != 0)
        return NOTIFY_CANCELLED;
    if (strcmp(next_status, "COMPLETED") == 0 || strcmp(next_status, "NO_SHOW") == 0)
        return NOTIFY_CLOSED;
    if (next_start != cur_start || next_professional != cur_professional)
        return NOTIFY_RESCHEDULED;
    return NOTIFY_STATUS;
}

void notify_text_release(struct notify_text *t)
{
    free(t->subject);
    free(t->body);
    free(t->wa_template);
    memset(t, 0, sizeof(*t));
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

int notify_text_load(struct db *db, int64_t tenant_id, const char *channel, const char *kind,
                     const char *lang, struct notify_text *out, struct err *e)
{
    struct db_res *r = NULL;
    const char *subject, *body, *wa;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = db_query(db,
                  "SELECT subject, body, wa_template FROM message_templates WHERE tenant_id = $1 "
                  "AND channel = $2 AND kind = $3 AND language = $4",
                  DB_PARAMS(DB_INT(tenant_id), DB_TEXT(channel), DB_TEXT(kind), DB_TEXT(lang)), &r,
                  e);
    if (rc < 0)
        return rc;
    notify_template_default(channel, kind, lang, &subject, &body, &wa);
    if (db_res_next(r)) {
        out->subject = dup_or_null(db_res_isnull(r, 0) ? subject : db_res_text(r, 0));
        out->body = xstrdup(db_res_text(r, 1));
        out->wa_template = dup_or_null(db_res_isnull(r, 2) ? wa : db_res_text(r, 2));
    } else {
        out->subject = dup_or_null(subject);
        out->body = xstrdup(body);
        out->wa_template = dup_or_null(wa);
    }
    db_res_free(r);
    return 0;
}

/* What the messages of one appointment are written from (one query). */
struct facts {
    char status[16], lang[4], channel[16];
    int64_t start, client_id, price;
    char *first, *phone, *email, *service, *pro, *branch, *address, *business, *currency;
    char *tslug, *bslug, *offsets;
    char tz[64];
    bool opted_out, online_enabled;
    bool enabled[3]; /* email, whatsapp, sms */
};

static void facts_release(struct facts *f)
{
    free(f->first), free(f->phone), free(f->email), free(f->service), free(f->pro);
    free(f->branch), free(f->address), free(f->business), free(f->currency);
    free(f->tslug), free(f->bslug), free(f->offsets);
}

static char *col(const struct db_res *r, int i)
{
    return db_res_isnull(r, i) ? NULL : xstrdup(db_res_text(r, i));
}

/* 1 loaded, 0 no settings (nothing to send), negative on error. */
static int facts_load(struct db *db, int64_t tenant_id, int64_t appt_id, struct facts *f,
                      struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    memset(f, 0, sizeof(*f));
    rc = db_query(
        db,
        "SELECT a.status, a.start_at, a.price_cents, c.id, c.first_name, c.phone, c.email, "
        "c.notify_channel, COALESCE(c.notify_language, ns.language), c.notify_opt_out, s.name, "
        "u.first_name || ' ' || u.last_name, b.name, COALESCE(b.address, t.address, ''), "
        "COALESCE(b.timezone, t.timezone), t.name, t.currency, t.slug, b.slug, "
        "COALESCE(o.enabled, " /* dialects: FALSE in both */ "1 = 0), ns.email_enabled, "
        "ns.whatsapp_enabled AND ns.whatsapp_token IS NOT NULL AND ns.whatsapp_phone_number_id "
        "IS NOT NULL, ns.sms_enabled AND ns.twilio_account_sid IS NOT NULL AND "
        "ns.twilio_auth_token IS NOT NULL AND ns.twilio_from IS NOT NULL, ns.reminder_offsets_min "
        "FROM appointments a JOIN clients c ON c.id = a.client_id AND c.tenant_id = a.tenant_id "
        "JOIN services s ON s.id = a.service_id JOIN users u ON u.id = a.professional_id "
        "JOIN branches b ON b.id = a.branch_id JOIN tenants t ON t.id = a.tenant_id "
        "JOIN notification_settings ns ON ns.tenant_id = a.tenant_id "
        "LEFT JOIN online_booking_rules o ON o.tenant_id = a.tenant_id "
        "WHERE a.tenant_id = $1 AND a.id = $2",
        DB_PARAMS(DB_INT(tenant_id), DB_INT(appt_id)), &r, e);
    if (rc < 0)
        return rc;
    if (!db_res_next(r)) {
        db_res_free(r);
        return 0;
    }
    snprintf(f->status, sizeof(f->status), "%s", db_res_text(r, 0));
    tz_parse_instant(db_res_text(r, 1), &f->start);
    f->price = db_res_int(r, 2);
    f->client_id = db_res_int(r, 3);
    f->first = col(r, 4), f->phone = col(r, 5), f->email = col(r, 6);
    snprintf(f->channel, sizeof(f->channel), "%s", db_res_isnull(r, 7) ? "" : db_res_text(r, 7));
    snprintf(f->lang, sizeof(f->lang), "%s", db_res_text(r, 8));
    f->opted_out = db_res_bool(r, 9);
    f->service = col(r, 10), f->pro = col(r, 11), f->branch = col(r, 12), f->address = col(r, 13);
    snprintf(f->tz, sizeof(f->tz), "%s", db_res_text(r, 14));
    f->business = col(r, 15), f->currency = col(r, 16), f->tslug = col(r, 17);
    f->bslug = col(r, 18);
    f->online_enabled = db_res_bool(r, 19) && f->tslug != NULL && f->bslug != NULL;
    f->enabled[0] = db_res_bool(r, 20);
    f->enabled[1] = !db_res_isnull(r, 21) && db_res_bool(r, 21);
    f->enabled[2] = !db_res_isnull(r, 22) && db_res_bool(r, 22);
    f->offsets = col(r, 23);
    db_res_free(r);
    return 1;
}

/* The channel a message goes by: the client's choice if usable, else WhatsApp, SMS, e-mail. */
static const char *pick_channel(const struct facts *f)
{
    static const char *const order[] = {"whatsapp", "sms", "email"};
    const bool has_phone = f->phone != NULL && f->phone[0] != '\0';
    const bool has_email = f->email != NULL && strchr(f->email, '@') != NULL;
    bool usable[3]; /* in order[]'s order */

    usable[0] = f->enabled[1] && has_phone;
    usable[1] = f->enabled[2] && has_phone;
    usable[2] = f->enabled[0] && has_email;
    if (strcmp(f->channel, "none") == 0)
        return NULL;
    for (int i = 0; i < 3; i++)
        if (strcmp(f->channel, order[i]) == 0 && usable[i])
            return order[i];
    for (int i = 0; i < 3; i++)
        if (usable[i])
            return order[i];
    return NULL;
}

/* "+52 55 1111-0001" -> "+525511110001". */
static void phone_compact(const char *in, char *out, size_t size)
{
    size_t k = 0;
    for (const char *p = in; *p != '\0' && k + 1 < size; p++)
        if ((*p >= '0' && *p <= '9') || (*p == '+' && k == 0))
            out[k++] = *p;
    out[k] = '\0';
}

/* Render and insert one message. */
static int insert_message(struct db *db, const struct config *cfg, int64_t tenant_id,
                          int64_t appt_id, const struct facts *f, const char *channel,
                          const char *kind, int64_t send_at, const char *manage_token,
                          struct err *e)
{
    struct notify_text t = {0};
    struct notify_vars v = {{0}};
    char date[96], when[32], price[48], s_txt[32], a_txt[32], now_txt[32], key[40], to[40];
    char *link = NULL, *subject = NULL, *body = NULL, *params_txt = NULL;
    json_t *params = NULL;
    int rc;

    rc = notify_text_load(db, tenant_id, channel, kind, f->lang, &t, e);
    if (rc < 0)
        goto cleanup;
    notify_format_when(f->tz, f->lang, f->start, date, sizeof(date), when, sizeof(when));
    notify_format_price(f->price, f->currency, price, sizeof(price));
    if (manage_token != NULL && f->online_enabled)
        link = xasprintf("%s/b/%s/%s#m=%s", cfg->public_url, f->tslug, f->bslug, manage_token);
    v.v[NV_FIRST_NAME] = f->first, v.v[NV_SERVICE] = f->service, v.v[NV_PROFESSIONAL] = f->pro;
    v.v[NV_BRANCH] = f->branch, v.v[NV_ADDRESS] = f->address, v.v[NV_DATE] = date;
    v.v[NV_TIME] = when, v.v[NV_PRICE] = price, v.v[NV_MANAGE_LINK] = link;
    v.v[NV_BUSINESS] = f->business;
    if (strcmp(channel, "whatsapp") == 0)
        params = json_array();
    body = notify_render(t.body, &v, params);
    if (link != NULL && strstr(t.body, "manage_link") == NULL &&
        strcmp(kind, "cancellation") != 0 && strcmp(channel, "whatsapp") != 0) {
        /* the link is offered even by a text that does not place it */
        char *more = xasprintf("%s\n\n%s %s", body,
                               strcmp(f->lang, "en") == 0 ? "To change or cancel it:"
                                                          : "Para cambiarla o cancelarla:",
                               link);
        free(body);
        body = more;
    }
    if (strcmp(channel, "email") == 0)
        subject = notify_render(t.subject != NULL ? t.subject : "", &v, NULL);
    else if (strcmp(channel, "whatsapp") == 0)
        subject = xstrdup(t.wa_template != NULL ? t.wa_template : "");
    if (params != NULL)
        params_txt = json_dumps(params, JSON_COMPACT);
    to[0] = '\0';
    if (strcmp(channel, "email") != 0)
        phone_compact(f->phone, to, sizeof(to));
    tz_format_instant(send_at, s_txt);
    tz_format_instant(f->start, a_txt);
    tz_format_instant(notify_now(), now_txt);
    notify_new_key(key);
    rc = db_exec_params(
        db,
        "INSERT INTO notification_outbox (tenant_id, appointment_id, client_id, channel, kind, "
        "language, recipient, appt_start_at, send_at, next_attempt_at, idempotency_key, subject, "
        "body, params, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, "
        "$10, $11, $12, $13, $14, $14)",
        DB_PARAMS(DB_INT(tenant_id), DB_INT(appt_id), DB_INT(f->client_id), DB_TEXT(channel),
                  DB_TEXT(kind), DB_TEXT(f->lang),
                  DB_TEXT(strcmp(channel, "email") == 0 ? f->email : to), DB_TEXT(a_txt),
                  DB_TEXT(s_txt), DB_TEXT(key), DB_TEXT(subject), DB_TEXT(body),
                  DB_TEXT(params_txt), DB_TEXT(now_txt)),
        NULL, e);

cleanup:
    notify_text_release(&t);
    json_decref(params);
    free(params_txt);
    free(link);
    free(subject);
    free(body);
    return rc;
}

/* Make untrue pending rows void: which ones depends on the event. */
static int void_pending(struct db *db, int64_t tenant_id, int64_t appt_id, enum notify_event ev,
                        struct err *e)
{
    const char *kinds;
    char sql[512], now_txt[32];

    switch (ev) {
    case NOTIFY_RESCHEDULED:
        kinds = "kind IN ('reminder', 'confirmation', 'reschedule')";
        break;
    case NOTIFY_CANCELLED:
        kinds = "kind <> 'cancellation'";
        break;
    case NOTIFY_CLOSED:
        kinds = "kind = 'reminder'";
        break;
    default:
        return 0;
    }
    tz_format_instant(notify_now(), now_txt);
    snprintf(sql, sizeof(sql),
             "UPDATE notification_outbox SET status = 'void', error = $1, updated_at = $2 "
             "WHERE tenant_id = $3 AND appointment_id = $4 AND status = 'pending' AND %s",
             kinds);
    return db_exec_params(db, sql,
                          DB_PARAMS(DB_TEXT(ev == NOTIFY_CANCELLED     ? "appointment cancelled"
                                            : ev == NOTIFY_RESCHEDULED ? "appointment rescheduled"
                                                                       : "appointment closed"),
                                    DB_TEXT(now_txt), DB_INT(tenant_id), DB_INT(appt_id)),
                          NULL, e);
}

int notify_appointment_changed(struct db *db, const struct config *cfg, int64_t tenant_id,
                               int64_t appt_id, enum notify_event event, const char *manage_token,
                               struct err *e)
{
    struct facts f;
    const char *channel, *kind = NULL;
    int64_t now = notify_now();
    int rc;

    memset(&f, 0, sizeof(f));
    if (event == NOTIFY_STATUS)
        return 0;
    rc = void_pending(db, tenant_id, appt_id, event, e);
    if (rc < 0 || event == NOTIFY_CLOSED)
        return rc;
    rc = facts_load(db, tenant_id, appt_id, &f, e);
    if (rc <= 0)
        goto cleanup;
    rc = 0;
    channel = pick_channel(&f);
    if (f.opted_out || channel == NULL)
        goto cleanup;
    kind = event == NOTIFY_BOOKED        ? "confirmation"
           : event == NOTIFY_RESCHEDULED ? "reschedule"
                                         : "cancellation";
    rc = insert_message(db, cfg, tenant_id, appt_id, &f, channel, kind, now, manage_token, e);
    if (rc < 0 || event == NOTIFY_CANCELLED || f.start <= now)
        goto cleanup;
    /* the reminders of this start: only those still ahead */
    for (const char *p = f.offsets != NULL ? f.offsets : ""; *p != '\0';) {
        char *end;
        long min = strtol(p, &end, 10);
        if (end == p)
            break;
        if (min > 0 && f.start - (int64_t)min * 60 > now) {
            rc = insert_message(db, cfg, tenant_id, appt_id, &f, channel, "reminder",
                                f.start - (int64_t)min * 60, manage_token, e);
            if (rc < 0)
                goto cleanup;
        }
        p = *end == ',' ? end + 1 : end;
    }

cleanup:
    facts_release(&f);
    return rc;
}

/* The sender's side: due rows and their states. */

void notify_due_release(struct notify_due *d)
{
    free(d->channel), free(d->kind), free(d->language), free(d->recipient), free(d->subject);
    free(d->body), free(d->params), free(d->key), free(d->error);
    memset(d, 0, sizeof(*d));
}

void notify_due_list_free(struct notify_due *d, int n)
{
    for (int i = 0; d != NULL && i < n; i++)
        notify_due_release(&d[i]);
    free(d);
}

int notify_due_list(struct db *db, int64_t now, int max, struct notify_due **out, int *n,
                    struct err *e)
{
    struct db_res *r = NULL;
    struct notify_due *d = NULL;
    char now_txt[32];
    int rc, k = 0;

    *out = NULL;
    *n = 0;
    tz_format_instant(now, now_txt);
    rc = db_query(
        db,
        "SELECT o.id, o.tenant_id, o.appointment_id, o.channel, o.kind, o.language, o.recipient, "
        "o.subject, o.body, o.params, o.idempotency_key, o.error, o.send_at, o.appt_start_at, "
        "o.attempts, a.status, a.start_at, c.notify_opt_out, "
        "COALESCE(b.timezone, t.timezone), ns.quiet_start, ns.quiet_end, ns.give_up_min "
        "FROM notification_outbox o JOIN tenants t ON t.id = o.tenant_id "
        "LEFT JOIN notification_settings ns ON ns.tenant_id = o.tenant_id "
        "LEFT JOIN appointments a ON a.id = o.appointment_id AND a.tenant_id = o.tenant_id "
        "LEFT JOIN branches b ON b.id = a.branch_id "
        "LEFT JOIN clients c ON c.id = o.client_id AND c.tenant_id = o.tenant_id "
        "WHERE o.status = 'pending' AND o.next_attempt_at <= $1 "
        "ORDER BY o.next_attempt_at, o.id LIMIT $2",
        DB_PARAMS(DB_TEXT(now_txt), DB_INT(max)), &r, e);
    if (rc < 0)
        return rc;
    d = xcalloc((size_t)max, sizeof(*d));
    while (k < max && db_res_next(r)) {
        struct notify_due *x = &d[k++];
        x->id = db_res_int(r, 0);
        x->tenant_id = db_res_int(r, 1);
        x->appointment_id = db_res_isnull(r, 2) ? 0 : db_res_int(r, 2);
        x->channel = col(r, 3), x->kind = col(r, 4), x->language = col(r, 5);
        x->recipient = col(r, 6), x->subject = col(r, 7), x->body = col(r, 8);
        x->params = col(r, 9), x->key = col(r, 10), x->error = col(r, 11);
        tz_parse_instant(db_res_text(r, 12), &x->send_at);
        if (!db_res_isnull(r, 13))
            tz_parse_instant(db_res_text(r, 13), &x->appt_start);
        x->attempts = (int)db_res_int(r, 14);
        snprintf(x->appt_status, sizeof(x->appt_status), "%s",
                 db_res_isnull(r, 15) ? "" : db_res_text(r, 15));
        if (!db_res_isnull(r, 16))
            tz_parse_instant(db_res_text(r, 16), &x->appt_now_start);
        x->opted_out = !db_res_isnull(r, 17) && db_res_bool(r, 17);
        snprintf(x->tz, sizeof(x->tz), "%s", db_res_isnull(r, 18) ? "UTC" : db_res_text(r, 18));
        snprintf(x->quiet_start, sizeof(x->quiet_start), "%s",
                 db_res_isnull(r, 19) ? "" : db_res_text(r, 19));
        snprintf(x->quiet_end, sizeof(x->quiet_end), "%s",
                 db_res_isnull(r, 20) ? "" : db_res_text(r, 20));
        x->give_up_min = db_res_isnull(r, 21) ? 1440 : (int)db_res_int(r, 21);
    }
    db_res_free(r);
    *out = d;
    *n = k;
    return 0;
}

int notify_outbox_recover(struct db *db, struct err *e)
{
    return db_exec_params(db,
                          "UPDATE notification_outbox SET status = 'pending' "
                          "WHERE status = 'sending'",
                          DB_NOPARAMS, NULL, e);
}

int notify_outbox_claim(struct db *db, int64_t id, int64_t now, struct err *e)
{
    char now_txt[32];
    int64_t n = 0;
    int rc;

    tz_format_instant(now, now_txt);
    rc = db_exec_params(db,
                        "UPDATE notification_outbox SET status = 'sending', attempts = attempts + "
                        "1, updated_at = $1 WHERE id = $2 AND status = 'pending'",
                        DB_PARAMS(DB_TEXT(now_txt), DB_INT(id)), &n, e);
    return rc < 0 ? rc : n == 1;
}

int notify_outbox_sent(struct db *db, int64_t id, const char *provider_id, int64_t now,
                       struct err *e)
{
    char now_txt[32];

    tz_format_instant(now, now_txt);
    return db_exec_params(db,
                          "UPDATE notification_outbox SET status = 'sent', provider_id = $1, "
                          "error = NULL, sent_at = $2, updated_at = $2 WHERE id = $3",
                          DB_PARAMS(DB_TEXT(provider_id), DB_TEXT(now_txt), DB_INT(id)), NULL, e);
}

int notify_outbox_retry(struct db *db, int64_t id, int64_t next, const char *reason, struct err *e)
{
    char next_txt[32], now_txt[32];

    tz_format_instant(next, next_txt);
    tz_format_instant(notify_now(), now_txt);
    return db_exec_params(
        db,
        "UPDATE notification_outbox SET status = 'pending', next_attempt_at = "
        "$1, error = $2, updated_at = $3 WHERE id = $4",
        DB_PARAMS(DB_TEXT(next_txt), DB_TEXT(reason), DB_TEXT(now_txt), DB_INT(id)), NULL, e);
}

int notify_outbox_finish(struct db *db, int64_t id, const char *status, const char *reason,
                         struct err *e)
{
    char now_txt[32];

    tz_format_instant(notify_now(), now_txt);
    return db_exec_params(db,
                          "UPDATE notification_outbox SET status = $1, error = $2, updated_at = "
                          "$3 WHERE id = $4",
                          DB_PARAMS(DB_TEXT(status), DB_TEXT(reason), DB_TEXT(now_txt), DB_INT(id)),
                          NULL, e);
}
