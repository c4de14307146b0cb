/*
 * sender — the thread of `serve` that delivers due messages (notify.h).
 *
 * One sender among the instances on one database: the thread holds the
 * named lock "notify-sender" (PostgreSQL advisory lock; a file lock beside
 * a SQLite file) on its own connection for as long as it runs; the others
 * try again every few seconds and take over when it goes.  Having the lock,
 * it first puts back to pending what a crashed holder left `sending`.
 *
 * Each row: checked again (a reminder of an appointment cancelled, moved or
 * past is void; an opted-out client gets nothing), held while the branch's
 * quiet hours last (reminders only), claimed (pending -> sending, attempts
 * + 1, committed), sent, and marked sent with the provider's id in one
 * UPDATE.  A temporary failure waits 30 s doubling to an hour (or the
 * provider's Retry-After), until give_up_min after it was due: then failed,
 * with the provider's last reason.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/alert.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/util.h"
#include "db/db.h"
#include "notify/notify.h"
#include "notify/outbox.h"
#include "notify/provider.h"
#include "notify/secrets.h"

#define SENDER_LOCK   "notify-sender"
#define POLL_MS       300
#define LOCK_RETRY_MS 2000
#define BATCH         100
#define BACKOFF_FIRST 30
#define BACKOFF_MAX   3600
#define MAX_TENANTS   16
#define STUCK_CHECK_S 60   /* how often stuck messages are counted */
#define STUCK_ALERT_S 3600 /* at most one alert an hour */

/* The providers, one per channel (provider.h: adding one). */
static const struct notify_provider *const providers[] = {&notify_smtp, &notify_whatsapp,
                                                          &notify_twilio};
#define NPROVIDERS (sizeof(providers) / sizeof(providers[0]))

struct notify_sender {
    const struct config *cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

/* A tenant's credentials, read (and opened) once per batch (owned strings). */
struct tenant_creds {
    int64_t tenant_id;
    char *s[6];
    struct notify_creds c;
    bool wa_unreadable, sms_unreadable; /* set, but sealed under another key */
};

static void creds_release(struct tenant_creds *t)
{
    for (int i = 0; i < 6; i++)
        if (t->s[i] != NULL) {
            secure_zero(t->s[i], strlen(t->s[i]));
            free(t->s[i]);
        }
    memset(t, 0, sizeof(*t));
}

static int creds_load(struct db *db, const struct config *cfg, int64_t tenant_id,
                      struct tenant_creds *t, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    memset(t, 0, sizeof(*t));
    t->tenant_id = tenant_id;
    rc = db_query(db,
                  "SELECT whatsapp_phone_number_id, whatsapp_token, whatsapp_api_version, "
                  "twilio_account_sid, twilio_auth_token, twilio_from FROM notification_settings "
                  "WHERE tenant_id = $1",
                  DB_PARAMS(DB_INT(tenant_id)), &r, e);
    if (rc < 0)
        return rc;
    if (db_res_next(r)) {
        for (int i = 0; i < 6; i++)
            t->s[i] = db_res_isnull(r, i) || i == 1 || i == 4 ? NULL : xstrdup(db_res_text(r, i));
        /* the sealed ones */
        t->wa_unreadable =
            notify_secret_open(cfg, tenant_id, "whatsapp_token", db_res_text(r, 1), &t->s[1]) < 0;
        t->sms_unreadable = notify_secret_open(cfg, tenant_id, "twilio_auth_token",
                                               db_res_text(r, 4), &t->s[4]) < 0;
    }
    db_res_free(r);
    t->c = (struct notify_creds){t->s[0], t->s[1], t->s[2], t->s[3], t->s[4], t->s[5]};
    return 0;
}

/*
 * When the quiet hours around now end (UTC), or 0 when now is not within
 * them.  Local wall time of the branch's zone, so a DST change moves the
 * instant, not the wall time.
 */
static int64_t quiet_until(const struct notify_due *d, int64_t now)
{
    struct tz_local l;
    struct err e;
    int s = tz_parse_hhmm(d->quiet_start), end = tz_parse_hhmm(d->quiet_end), m, y, mon, day;
    int64_t days, until = 0;

    if (s < 0 || end < 0 || s == end || tz_utc_to_local(d->tz, now, &l, &e) < 0)
        return 0;
    m = l.h * 60 + l.min;
    if (s < end ? (m < s || m >= end) : (m < s && m >= end))
        return 0;
    days = tz_days_from_civil(l.y, l.mon, l.d);
    if (s > end && m >= s)
        days++; /* the night runs over midnight: it ends tomorrow */
    tz_civil_from_days(days, &y, &mon, &day);
    if (tz_local_to_utc(d->tz, y, mon, day, end / 60, end % 60, &until, &e) < 0)
        return 0;
    return until > now ? until : 0;
}

/* Why a due row must not be sent any more, or NULL. */
static const char *void_reason(const struct notify_due *d, int64_t now)
{
    bool open = strcmp(d->appt_status, "PENDING") == 0 || strcmp(d->appt_status, "CONFIRMED") == 0;

    if (d->opted_out)
        return "the client opted out";
    if (strcmp(d->kind, "reminder") == 0) {
        if (d->appointment_id == 0 || !open)
            return "appointment no longer open";
        if (d->appt_now_start != d->appt_start)
            return "appointment rescheduled";
        if (d->appt_now_start <= now)
            return "appointment already started";
    }
    if ((strcmp(d->kind, "confirmation") == 0 || strcmp(d->kind, "reschedule") == 0) &&
        (strcmp(d->appt_status, "CANCELLED") == 0 || d->appt_now_start != d->appt_start))
        return "appointment changed since";
    return NULL;
}

static int64_t backoff(int attempts)
{
    int64_t s = BACKOFF_FIRST;
    for (int i = 1; i < attempts && s < BACKOFF_MAX; i++)
        s *= 2;
    return s < BACKOFF_MAX ? s : BACKOFF_MAX;
}

/* Deliver one due row (its outcome written).  Negative only on a database error. */
static int deliver(struct notify_sender *s, struct db *db, void **states,
                   const struct tenant_creds *tc, struct notify_due *d, int64_t now, struct err *e)
{
    const struct notify_provider *p = NULL;
    struct notify_outcome out;
    const char *why = void_reason(d, now);
    int64_t until, deadline = d->send_at + (int64_t)d->give_up_min * 60, next;
    size_t pi = 0;
    int rc;

    if (why != NULL)
        return notify_outbox_finish(db, d->id, "void", why, e);
    if (strcmp(d->kind, "reminder") == 0 && (until = quiet_until(d, now)) > 0) {
        if (until >= d->appt_start)
            return notify_outbox_finish(db, d->id, "void", "quiet hours last until the appointment",
                                        e);
        return notify_outbox_retry(db, d->id, until, "waiting for the end of quiet hours", e);
    }
    if (now > deadline && d->attempts > 0)
        return notify_outbox_finish(db, d->id, "failed", d->error != NULL ? d->error : "gave up",
                                    e);
    for (pi = 0; pi < NPROVIDERS; pi++)
        if (strcmp(providers[pi]->channel, d->channel) == 0)
            p = providers[pi];
    for (pi = 0; p != NULL && providers[pi] != p; pi++)
        ;
    if (p == NULL)
        return notify_outbox_finish(db, d->id, "failed", "no provider for this channel", e);
    if ((strcmp(d->channel, "whatsapp") == 0 && tc->wa_unreadable) ||
        (strcmp(d->channel, "sms") == 0 && tc->sms_unreadable)) {
        log_warn("message %lld (%s) failed: the credential of tenant %lld does not open with "
                 "the secrets key (enter it again)",
                 (long long)d->id, d->channel, (long long)d->tenant_id);
        return notify_outbox_finish(db, d->id, "failed",
                                    "the business's credential for this channel cannot be read "
                                    "(the server's secrets key changed): enter it again",
                                    e);
    }
    rc = notify_outbox_claim(db, d->id, now, e);
    if (rc <= 0)
        return rc;
    struct notify_msg m = {d->recipient, d->language, d->subject, d->body, d->params, d->key};
    p->send(states[pi], s->cfg, &tc->c, &m, &out);
    now = notify_now();
    switch (out.kind) {
    case NOTIFY_OUT_SENT:
        return notify_outbox_sent(db, d->id, out.provider_id, now, e);
    case NOTIFY_OUT_FAIL:
        log_warn("message %lld (%s) failed: %s", (long long)d->id, d->channel, out.reason);
        return notify_outbox_finish(db, d->id, "failed", out.reason, e);
    case NOTIFY_OUT_RETRY:
        next = now + backoff(d->attempts + 1);
        if (out.retry_after_s > 0) /* + 1: instants are whole seconds, the wait is "at least" */
            next = now + out.retry_after_s + 1;
        if (next > deadline && now >= d->send_at) {
            log_warn("message %lld (%s) failed after %d attempts: %s", (long long)d->id, d->channel,
                     d->attempts + 1, out.reason);
            return notify_outbox_finish(db, d->id, "failed", out.reason, e);
        }
        return notify_outbox_retry(db, d->id, next, out.reason, e);
    }
    return 0;
}

/* One batch: the number of rows handled, or a negative database error. */
static int tick(struct notify_sender *s, struct db *db, void **states, struct err *e)
{
    struct notify_due *due = NULL;
    struct tenant_creds tc[MAX_TENANTS];
    int n = 0, ntc = 0, rc;
    int64_t now = notify_now();

    memset(tc, 0, sizeof(tc));
    rc = notify_due_list(db, now, BATCH, &due, &n, e);
    for (int i = 0; rc >= 0 && i < n; i++) {
        struct tenant_creds *t = NULL;
        for (int k = 0; k < ntc; k++)
            if (tc[k].tenant_id == due[i].tenant_id)
                t = &tc[k];
        if (t == NULL) {
            if (ntc == MAX_TENANTS) {
                for (int k = 0; k < ntc; k++)
                    creds_release(&tc[k]);
                ntc = 0;
            }
            t = &tc[ntc++];
            rc = creds_load(db, s->cfg, due[i].tenant_id, t, e);
            if (rc < 0)
                break;
        }
        rc = deliver(s, db, states, t, &due[i], now, e);
        pthread_mutex_lock(&s->mu);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
    }
    for (int k = 0; k < ntc; k++)
        creds_release(&tc[k]);
    notify_due_list_free(due, n);
    return rc < 0 ? rc : n;
}

/* Sleep ms or until stopped; false when stopping. */
static bool nap(struct notify_sender *s, int ms)
{
    struct timespec ts;
    bool go_on;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&s->mu);
    if (!s->stopping)
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    go_on = !s->stopping;
    pthread_mutex_unlock(&s->mu);
    return go_on;
}

/* Alert (BACKUP_ALERT_WEBHOOK / _COMMAND, the existing hooks) on messages stuck unsent. */
static void check_stuck(struct notify_sender *s, struct db *db, int64_t *last_check,
                        int64_t *last_alert)
{
    struct err e;
    int64_t n = 0, now = (int64_t)time(NULL);

    if (now - *last_check < STUCK_CHECK_S)
        return;
    *last_check = now;
    err_clear(&e);
    if (notify_stuck_count(db, notify_now(), &n, &e) < 0 || n == 0 ||
        now - *last_alert < STUCK_ALERT_S)
        return;
    *last_alert = now;
    err_set(&e, ERR_INTERNAL, "%lld notification(s) still unsent past their give-up window",
            (long long)n);
    log_warn("%s", e.msg);
    backup_alert(s->cfg, "notification_stuck", &e);
}

static void *sender_main(void *arg)
{
    struct notify_sender *s = arg;
    void *states[NPROVIDERS];
    struct db *db = NULL;
    bool locked = false;
    int64_t last_check = 0, last_alert = 0;
    struct err e;

    log_set_context("notify");
    for (size_t i = 0; i < NPROVIDERS; i++)
        states[i] = providers[i]->open();
    for (;;) {
        int rc, wait = POLL_MS;

        err_clear(&e);
        if (db == NULL && db_open(&s->cfg->db, DB_CONNECT_TIMEOUT_S, &db, &e) < 0) {
            log_warn("notification sender: cannot connect: %s", e.msg);
            db = NULL;
            wait = LOCK_RETRY_MS * 2;
        } else if (!locked) {
            rc = db_lock(db, SENDER_LOCK, false, &e);
            if (rc == 0 && notify_outbox_recover(db, &e) == 0) {
                int n = 0;
                locked = true;
                log_info("notification sender active");
                if (notify_secrets_sweep(db, s->cfg, &n, &e) < 0)
                    log_warn("notification sender: credentials left unsealed: %s", e.msg);
                else if (n > 0)
                    log_info("notification sender: %d plaintext credential(s) sealed", n);
                continue;
            }
            if (rc < 0 && e.code != ERR_LOCKED)
                log_warn("notification sender: %s", e.msg);
            wait = LOCK_RETRY_MS;
        } else {
            rc = tick(s, db, states, &e);
            if (rc < 0) {
                log_warn("notification sender: %s", e.msg);
                db_close(db); /* releases the lock: another instance may take over */
                db = NULL;
                locked = false;
                wait = LOCK_RETRY_MS;
            } else {
                check_stuck(s, db, &last_check, &last_alert);
                if (rc > 0)
                    wait = 0;
            }
        }
        if (wait > 0 ? !nap(s, wait) : !nap(s, 0))
            break;
    }
    db_close(db);
    for (size_t i = 0; i < NPROVIDERS; i++)
        providers[i]->close(states[i]);
    return NULL;
}

int notify_sender_start(const struct config *cfg, struct notify_sender **out, struct err *e)
{
    struct notify_sender *s = xcalloc(1, sizeof(*s));

    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return err_set(e, ERR_INTERNAL, "cannot start the notification sender thread");
    }
    *out = s;
    return 0;
}

void notify_sender_stop(struct notify_sender *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
