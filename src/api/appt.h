/*
 * appt — the appointment model and the booking checks, shared by the
 * handlers of /api/v1/appointments (appointments.c) and any other front end
 * that books (see booking.h for the API's contract).
 *
 * A struct appt is one row of `appointments` plus its branch's time zone.
 * The checks (ids of the tenant, active, offered, working hours, not in the
 * past) only give a clearer answer than the database would: the write itself
 * is guarded by the database's no-overlap rule and, for a change, by the
 * values it was computed from (appt_write).
 *
 * Functions taking a request answer it themselves on a refusal and return a
 * negative code, so that the handler stops and returns it.
 */
#ifndef CITAPLANNER_API_APPT_H
#define CITAPLANNER_API_APPT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

/* An appointment lasts at most a day: availability reads busy intervals from a day before. */
#define APPT_MAX_DURATION_MIN 1440

struct api_auth;

/* One appointment, as read from its row (or about to be written). */
struct appt {
    int64_t id, tenant_id, branch_id, client_id, service_id, professional_id;
    int64_t start, end, created, updated;
    int64_t price_cents;
    int64_t created_by; /* 0: NULL */
    char status[16];
    char *notes;             /* NULL: NULL */
    char *idempotency_key;   /* NULL: NULL */
    char tz[64];             /* the branch's zone */
    char source[8];          /* "staff" or "online" (who booked it) */
    char *cancel_reason;     /* NULL: none */
    int64_t cancelled_at;    /* 0: not cancelled */
    char cancelled_from[16]; /* the status before CANCELLED ("" none): an undo returns to it */
};

/* The columns appt_from_row() reads, and the FROM clause they need (alias a). */
#define APPT_COLS                                                                                  \
    "a.id, a.tenant_id, a.branch_id, a.client_id, a.service_id, a.professional_id, a.start_at, "   \
    "a.end_at, a.status, a.price_cents, a.notes, a.idempotency_key, a.created_by, a.created_at, "  \
    "a.updated_at, COALESCE(b.timezone, t.timezone), a.source, a.cancel_reason, a.cancelled_at, "  \
    "a.cancelled_from "
#define APPT_FROM                                                                                  \
    "FROM appointments a JOIN branches b ON b.id = a.branch_id "                                   \
    "JOIN tenants t ON t.id = a.tenant_id "

/* Free a's strings (a itself is the caller's). */
void appt_release(struct appt *a);

/* Fill a (owning its strings: appt_release) from the current row of APPT_COLS. */
void appt_from_row(const struct db_res *r, struct appt *a);

/* A copy of src into dst, owning its own strings. */
void appt_copy(struct appt *dst, const struct appt *src);

/* The resource's JSON (SPEC §8: its columns); NULL when a text is not UTF-8. */
json_t *appt_json(const struct appt *a);

/* Answer with the appointment's JSON. */
int appt_reply(struct http_req *req, int status, const struct appt *a);

/*
 * Answer an error (status, code, field, message) and hand back a negative
 * code: the callers stop and return it, and the server sees the request is
 * already answered.
 */
int appt_refuse(struct http_req *req, struct err *e, int status, const char *code,
                const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * The filters a list of appointments shares (the list, the agenda): the
 * query's professional_id and source (online or staff, NULL for both), a
 * PROFESSIONAL kept to its own appointments (*pro_id its id, *has_pro
 * true).  A refusal is answered (400, 403) and returns a negative code.
 */
int appt_list_scope(struct http_req *req, const struct api_auth *au, int64_t *pro_id, bool *has_pro,
                    const char **source, struct err *e);

/*
 * Read one appointment of the tenant (and of that professional when > 0).
 * 1 found (out filled; appt_release), 0 not, negative on a database error.
 */
int appt_load(struct db *db, int64_t tenant_id, int64_t id, int64_t professional_id,
              struct appt *out, struct err *e);

/*
 * The answer to a booking the no-overlap rule refused: 409 slot_taken with
 * the appointment in the way (the first one, by start), looked up now.
 * Returns -ERR_DB_OVERLAP.
 */
int appt_reply_slot_taken(struct http_req *req, struct db *db, const struct appt *a, struct err *e);

/* May this caller book outside working hours (ADMIN, MANAGER)? */
bool appt_may_override(const struct api_auth *au);

/* What appt_check_booking() is asked besides the checks. */
enum {
    APPT_CHECK_SET_PRICE = 1, /* a->price_cents from the service */
    APPT_CHECK_NEW_PRO = 2,   /* another professional: one who cannot take it is
                                 409 professional_unavailable */
};

/*
 * The checks of a booking or a reschedule, before its write: ids, hours,
 * not in the past.  Sets a->end (from the service's duration, or keep_length
 * seconds when > 0), a->tz, and the price (flags: APPT_CHECK_*).  Answers a
 * refusal.
 */
int appt_check_booking(struct http_req *req, struct db *db, struct appt *a, unsigned flags,
                       int64_t keep_length, bool override, struct err *e);

/* The status life cycle (booking.h): may an appointment go from `from` to `to`? */
bool appt_transition_allowed(const char *from, const char *to);

/* PENDING or CONFIRMED: the statuses an appointment can still be moved or cancelled in. */
bool appt_is_open(const char *status);

/*
 * Write the change from cur to next in one UPDATE that only applies while
 * the row still holds cur's values: two changes computed from the same
 * reading cannot both apply.  Answers the request (200 with next, 409).
 */
int appt_write(struct http_req *req, struct db *db, const struct appt *cur, struct appt *next,
               struct err *e);

#endif
