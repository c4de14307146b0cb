/*
 * notify — confirmations, reschedules, cancellations and reminders sent to
 * clients by e-mail (SMTP), WhatsApp (Cloud API) and SMS (Twilio): issue 17.
 *
 * A transactional outbox.  Whatever changes an appointment (the staff API,
 * the public booking page) calls notify_appointment_changed() inside the
 * transaction of its change: the message rows (the event's message, and the
 * reminders planned from the new start) are written, rendered, with it, so
 * a crash can neither lose a message nor leave one for a change that rolled
 * back.  Rows a change makes untrue (reminders of an old start, anything
 * pending for a cancelled appointment) become `void` in the same step, and
 * the sender checks again before sending (sender.c).
 *
 * The sender (notify_sender_start) runs inside `serve`; one instance sends
 * (the database's named lock "notify-sender"), the others wait for it.
 *
 * Files: outbox.c (rows in, states), templates.c (texts and variables),
 * sender.c (the thread), provider.h with smtp.c, whatsapp.c, twilio.c (one
 * file per channel's provider), api.c (settings, log, resend: /api/v1).
 */
#ifndef CITAPLANNER_NOTIFY_H
#define CITAPLANNER_NOTIFY_H

#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "config/config.h"
#include "db/db.h"

enum notify_event {
    NOTIFY_BOOKED,      /* a new appointment: confirmation + reminders */
    NOTIFY_RESCHEDULED, /* new start or professional: message + new reminders, old ones void */
    NOTIFY_CANCELLED,   /* cancellation message, everything pending void */
    NOTIFY_CLOSED,      /* COMPLETED / NO_SHOW: pending reminders void, nothing sent */
    NOTIFY_STATUS,      /* another status change (CONFIRMED): nothing to send */
};

/*
 * Write the outbox rows for event on appointment appt_id of tenant_id.  Must
 * run inside the caller's transaction (db_in_transaction), after the
 * appointment's row holds its new values.  manage_token is the raw token of
 * the appointment's manage link when the caller has it (online booking),
 * else NULL (the link is left out).  Does nothing when the tenant has no
 * notification settings, the client opted out or has no usable channel.
 * Returns 0 or a negative code (the caller rolls back).
 */
int notify_appointment_changed(struct db *db, const struct config *cfg, int64_t tenant_id,
                               int64_t appt_id, enum notify_event event, const char *manage_token,
                               struct err *e);

/* The event that a change from status/start (cur) to (next) is. */
enum notify_event notify_event_of(const char *cur_status, int64_t cur_start,
                                  int64_t cur_professional, const char *next_status,
                                  int64_t next_start, int64_t next_professional);

/*
 * The clock of notifications: CITAPLANNER_FAKE_NOW (local time, a testing
 * aid) when set, else the system's.
 */
int64_t notify_now(void);

/*
 * metrics.c: append the families of GET /metrics to out:
 *   citaplanner_notifications_sent_total{channel}    counter
 *   citaplanner_notifications_failed_total{channel}  counter
 *   citaplanner_notifications_pending{channel}       gauge (pending or being sent)
 *   citaplanner_notifications_stuck                  gauge, unsent past the give-up window
 */
int notify_metrics_write(struct buf *out, struct db *db, struct err *e);

/* Messages unsent 10 minutes past their give-up window (the sender alerts on them). */
int notify_stuck_count(struct db *db, int64_t now, int64_t *n, struct err *e);

/*
 * doctor.c: the checks of `citaplanner doctor` (notify_smtp, notify_whatsapp,
 * notify_sms, notify_outbox), each handed to add with status 0 OK, 1 WARN,
 * 2 FAIL, a fix (NULL when OK) and a detail that holds no secret.  db may be
 * NULL (unreachable): only SMTP is checked.
 */
typedef void (*notify_doctor_fn)(void *ctx, const char *name, int status, const char *fix,
                                 const char *detail);
void notify_doctor(const struct config *cfg, struct db *db, notify_doctor_fn add, void *ctx);

struct notify_sender;

/*
 * Start the sender thread.  cfg is borrowed and outlives the sender.
 * Caller stops it with notify_sender_stop() (accepts NULL).
 */
int notify_sender_start(const struct config *cfg, struct notify_sender **out, struct err *e);
void notify_sender_stop(struct notify_sender *s);

#endif
