/*
 * booking — the second half of the booking API (SPEC §7, §8): appointments,
 * availability, payments.  Routes in routes_booking.c.
 *
 * No double booking, ever: the database's no-overlap rule (PostgreSQL
 * exclusion constraint, SQLite trigger under BEGIN IMMEDIATE) is the guard.
 * A booking or a reschedule is a single INSERT / UPDATE; when the rule
 * refuses it (ERR_DB_OVERLAP) the answer is
 *   409 {"error":{"code":"slot_taken","message":…,"field":"start",
 *                 "conflict":{"start":…,"end":…}}}
 * with the conflicting appointment looked up afterwards.  The checks made
 * before the write (the professional offers the service and works then)
 * give better messages; none of them is what prevents the double booking.
 *
 * Instants come in as RFC 3339 with an offset (or Z), go to the database as
 * "YYYY-MM-DD HH:MM:SS+00", and come out as RFC 3339 in the branch's zone
 * (branches.timezone, else the tenant's) with that zone's offset then.
 *
 * Answers besides SPEC §8's:
 *   404 not_found (field: the id)   an id of the body that is not the tenant's
 *   409 inactive                    client, service, branch or professional deactivated
 *   409 not_offered                 the professional does not offer the service
 *   409 outside_working_hours       not within the professional's hours (their own rows
 *                                   for the branch if any, else the branch's); ADMIN and
 *                                   MANAGER may pass "override_hours": true
 *   409 invalid_transition          a status change the life cycle forbids
 *   409 idempotency_key_reused      same Idempotency-Key, another body
 *   409 conflict                    the appointment changed meanwhile: read it again
 *   409 overpayment                 payments of an appointment would exceed its price
 *   409 professional_unavailable    another professional who cannot take it, or time off
 *   409 no_show_before_start        NO_SHOW before the appointment's start
 *   400 required (field reason)     a cancellation without a reason
 *   409 uncancel_expired            an undo after the day of the cancellation
 * Every code the API answers is listed in error_codes.txt (test_error_codes.py).
 */
#ifndef CITAPLANNER_API_BOOKING_H
#define CITAPLANNER_API_BOOKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"
#include "domain/slots.h"
#include "http/request.h"

/*
 * appointments.c
 *   GET   /api/v1/appointments?from&to[&professional_id&branch_id&status&client_id&source]
 *         from/to: RFC 3339 instants or dates (YYYY-MM-DD in the tenant's zone, `to`
 *         inclusive); start_at in [from, to), at most 93 days; paginated by id.
 *   POST  /api/v1/appointments {client_id, service_id, professional_id, branch_id, start,
 *         notes?, status? (PENDING|CONFIRMED), override_hours?}; Idempotency-Key header
 *         (a retry whose body matches the stored appointment answers 200 with it).
 *   GET   /api/v1/appointments/{id}
 *   PATCH /api/v1/appointments/{id} {start?, end?, professional_id?, notes?, status?,
 *         override_hours?}  a reschedule keeps the length unless `end` resizes it, and
 *         is checked like a booking; another professional who does not offer the
 *         service at the branch is 409 professional_unavailable.  NO_SHOW before the
 *         start is 409 no_show_before_start.
 *   POST  /api/v1/appointments/{id}/cancel {reason} (400 required without a reason); the
 *         reason, the time and the status it left are kept (cancel_reason, cancelled_at,
 *         cancelled_from).
 *   POST  /api/v1/appointments/{id}/uncancel  ADMIN, MANAGER: back to cancelled_from, on the
 *         day of the cancellation (branch's zone) only, else 409 uncancel_expired; 409
 *         slot_taken when the time was booked meanwhile.
 * Status life cycle: PENDING -> CONFIRMED -> COMPLETED; PENDING -> COMPLETED (a
 * walk-in); PENDING or CONFIRMED -> CANCELLED or NO_SHOW; COMPLETED, CANCELLED and NO_SHOW are
 * final. A PROFESSIONAL sees only their own appointments and may only set COMPLETED or NO_SHOW on
 * them.
 */
int api_appointments_list(struct http_req *req, struct err *e);
int api_appointments_create(struct http_req *req, struct err *e);
int api_appointments_get(struct http_req *req, struct err *e);
int api_appointments_update(struct http_req *req, struct err *e);
int api_appointments_cancel(struct http_req *req, struct err *e);
int api_appointments_uncancel(struct http_req *req, struct err *e);

/* GET /agenda: a branch's appointments in a range with names and paid (agenda.c). */
int api_agenda_get(struct http_req *req, struct err *e);

/*
 * availability.c
 *   GET /api/v1/availability?service_id&branch_id[&professional_id&exclude_appointment_id]
 *       &from&to   (exclude_appointment_id: an appointment of the tenant not counted busy)
 *   from/to: dates in the branch's zone, inclusive, at most 62 days.
 *   200 {"service_id","branch_id","timezone","duration_min","step_min",
 *        "professionals":[{"professional_id","first_name","last_name",
 *                          "slots":["2025-03-09T09:00:00-05:00",…]}]}
 * One query for all the busy intervals of the request.
 */
int api_availability_get(struct http_req *req, struct err *e);

/*
 * The free start times of the professionals who offer a service at a branch
 * (shared by /api/v1/availability and the public booking API): what to ask...
 */
struct api_free_query {
    int64_t tenant_id, service_id, branch_id;
    int64_t only_id;   /* one professional, or 0 for every one */
    int64_t except_id; /* an appointment not to count as busy (a reschedule), or 0 */
    const char *tz;    /* the branch's zone */
    int64_t duration_s, step_s;
    int64_t first_day, last_day; /* days since 1970-01-01 in tz, inclusive */
    int64_t not_before;          /* no start before this instant */
};

/* ... and per professional, the answer. */
struct api_free_pro {
    int64_t id;
    char *first_name, *last_name;
    struct slot_span *work;
    size_t nwork;
    struct slot_span *busy;
    size_t nbusy, capbusy;
    int64_t *starts; /* sorted */
    size_t nstarts;
};

/*
 * The active professionals offering q->service_id at q->branch_id (one when
 * q->only_id) with their free start times.  *out: caller frees with
 * api_free_times_free(*out, *n).
 */
int api_free_times(struct db *db, const struct api_free_query *q, struct api_free_pro **out,
                   size_t *n, struct err *e);
void api_free_times_free(struct api_free_pro *p, size_t n);

/*
 * payments.c
 *   GET  /api/v1/payments?from&to&appointment_id  (paid_at in [from, to), at most 366 days;
 *        the range may be left out when appointment_id is given); paginated by id.
 *   POST /api/v1/payments {appointment_id?, amount_cents, method, status?, paid_at?, notes?,
 *        kind? (PAYMENT|DEPOSIT), tip_cents?, professional_id?, branch_id?}
 *        recorded_by = the caller.  The payments of an appointment, whatever their
 *        status, never add up to more than its price less its discount: 409
 *        overpayment otherwise.  The tip is apart from the amount and goes to the
 *        appointment's professional (or professional_id).  Refunds, discounts and the
 *        rest of the money rules: money.h.
 *   GET  /api/v1/payments/{id}
 */
int api_payments_list(struct http_req *req, struct err *e);
int api_payments_create(struct http_req *req, struct err *e);
int api_payments_get(struct http_req *req, struct err *e);

/* Shared by the three files. */

/* The instant `t` as RFC 3339 in zone iana (UTC "Z" form if iana is unusable). */
void api_booking_format(const char *iana, int64_t t, char out[32]);

/*
 * The query's `from` and `to`, both required: RFC 3339 instants, or dates
 * in the tenant's zone (`from` at its midnight, `to` inclusive: the next
 * midnight).  `to` after `from`, at most max_days later.  A refusal is
 * answered 400 naming the parameter; returns 0 or a negative code.
 */
int api_booking_range(struct http_req *req, struct db *db, int64_t tenant_id, int max_days,
                      int64_t *from, int64_t *to, struct err *e);

/* The same range as the database's instants (tz_format_instant). */
int api_booking_range_text(struct http_req *req, struct db *db, int64_t tenant_id, int max_days,
                           char from_txt[32], char to_txt[32], struct err *e);

/* The working-hours rows of one branch (working_hours), loaded once per request. */
struct api_hours_row {
    int64_t user_id; /* 0: the branch's default */
    struct slot_hours h;
};

struct api_branch_hours {
    struct api_hours_row *rows;
    size_t n;
};

/*
 * Load the rows of branch_id (tenant-scoped): those of professional_id and
 * the branch's default when professional_id > 0, else all of them.
 * Release with api_branch_hours_release().
 */
int api_branch_hours_load(struct db *db, int64_t tenant_id, int64_t branch_id,
                          int64_t professional_id, struct api_branch_hours *out, struct err *e);
void api_branch_hours_release(struct api_branch_hours *bh);

/*
 * The weekly rows that apply to professional_id: their own if they have
 * any at this branch, else the branch's default.  *out (caller frees with
 * free(), NULL when none) and *n.
 */
void api_branch_hours_for(const struct api_branch_hours *bh, int64_t professional_id,
                          struct slot_hours **out, size_t *n);

/*
 * Does [start, end) lie within the hours of bh that apply to
 * professional_id on its local day in zone tz?  *out; 0 or negative.
 */
int api_branch_hours_fits(const struct api_branch_hours *bh, int64_t professional_id,
                          const char *tz, int64_t start, int64_t end, bool *out, struct err *e);

#endif
