/*
 * outbox — the rows of notification_outbox: written with the change that
 * causes them (notify_appointment_changed, notify.h), then moved through
 * pending -> sending -> sent | failed | void by the sender.
 *
 * Every query is scoped by tenant_id, but for the sender's, which works for
 * every tenant and reads the tenant from each row.
 */
#ifndef CITAPLANNER_NOTIFY_OUTBOX_H
#define CITAPLANNER_NOTIFY_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"

/* A tenant's text for channel/kind/lang, or the default: owned strings (free each). */
struct notify_text {
    char *subject, *body, *wa_template;
};
int notify_text_load(struct db *db, int64_t tenant_id, const char *channel, const char *kind,
                     const char *lang, struct notify_text *out, struct err *e);
void notify_text_release(struct notify_text *t);

/* One due message, as the sender reads it (owned strings: notify_due_release). */
struct notify_due {
    int64_t id, tenant_id, appointment_id; /* appointment_id 0: none */
    char *channel, *kind, *language, *recipient, *subject, *body, *params, *key, *error;
    int64_t send_at, appt_start; /* appt_start 0: none */
    int attempts;
    /* now, from the appointment and the client (for the last checks) */
    char appt_status[16];
    int64_t appt_now_start;
    bool opted_out;
    char tz[64];
    char quiet_start[8], quiet_end[8]; /* "" when no quiet hours */
    int give_up_min;
};
void notify_due_release(struct notify_due *d);

/*
 * Up to max due rows (pending, next_attempt_at <= now), oldest first.
 * *out: caller frees with notify_due_list_free.
 */
int notify_due_list(struct db *db, int64_t now, int max, struct notify_due **out, int *n,
                    struct err *e);
void notify_due_list_free(struct notify_due *d, int n);

/* Rows left `sending` by a crash go back to pending (the lock holder calls this once). */
int notify_outbox_recover(struct db *db, struct err *e);

/* pending -> sending (attempts + 1): 1 claimed, 0 someone else moved it. */
int notify_outbox_claim(struct db *db, int64_t id, int64_t now, struct err *e);

/* sending -> sent, with the provider's id, in one UPDATE. */
int notify_outbox_sent(struct db *db, int64_t id, const char *provider_id, int64_t now,
                       struct err *e);

/* -> pending again at next, with the reason of this attempt. */
int notify_outbox_retry(struct db *db, int64_t id, int64_t next, const char *reason, struct err *e);

/* -> failed / void, with the reason. */
int notify_outbox_finish(struct db *db, int64_t id, const char *status, const char *reason,
                         struct err *e);

/* A fresh idempotency key "cp-" + 32 hex digits into out. */
void notify_new_key(char out[40]);

#endif
