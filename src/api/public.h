/*
 * public — the public booking API of issue 18, no login (routes in
 * routes_public.c, all HTTP_ROUTE_PUBLIC):
 *
 *   GET  /api/v1/public/b/{tenant}/{branch}            the salon: name, address, map link,
 *                                                      hours, colour, rules, bookable services
 *                                                      and their professionals
 *   GET  /api/v1/public/b/{tenant}/{branch}/services   the services alone
 *   GET  /api/v1/public/b/{tenant}/{branch}/professionals[?service_id]
 *   GET  /api/v1/public/b/{tenant}/{branch}/times?service_id&date[&professional_id]
 *        {"date","timezone","times":[{"start":RFC 3339,"professional_ids":[…]}]}
 *   POST /api/v1/public/b/{tenant}/{branch}/bookings   Idempotency-Key required
 *        {service_id, professional_id|null (anyone), start, first_name, last_name, phone,
 *         email?, website (the honeypot: must stay empty)}
 *        201 {"booking": view, "manage_token": …}; a retry with the same key and body 200
 *        with the same booking (and a new token: the old one no longer works)
 *   GET  /api/v1/public/manage                         X-Manage-Token: the booking's view
 *   GET  /api/v1/public/manage/times?date              free times to move it to
 *   POST /api/v1/public/manage/reschedule {start, professional_id?}
 *   POST /api/v1/public/manage/cancel
 *
 * The manage token travels in a header, never in a URL (URLs reach access
 * logs); the page keeps it in the fragment of its own link.  Nothing here
 * lists clients or appointments: the times are free times, and a booking
 * is seen only through its token.  A link that matches no branch with
 * online booking on is 404 not_found, whatever the reason.
 *
 * Error codes besides the API's: too_soon (min notice), too_far (horizon),
 * not_bookable (service not bookable online), slot_taken (409: reload the
 * times), idempotency_key_reused, rate_limited (429), rejected (the
 * honeypot), link_invalid (404: forged or unknown token), link_expired (410),
 * cutoff_passed (409: too close to the appointment to change it), not_open
 * (409: cancelled or done already).
 */
#ifndef CITAPLANNER_API_PUBLIC_H
#define CITAPLANNER_API_PUBLIC_H

#include <stdint.h>

#include "api/booking_rules.h"
#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

int api_public_branch(struct http_req *req, struct err *e);
int api_public_services(struct http_req *req, struct err *e);
int api_public_professionals(struct http_req *req, struct err *e);
int api_public_times(struct http_req *req, struct err *e);
int api_public_book(struct http_req *req, struct err *e);
int api_public_manage_get(struct http_req *req, struct err *e);
int api_public_manage_times(struct http_req *req, struct err *e);
int api_public_manage_reschedule(struct http_req *req, struct err *e);
int api_public_manage_cancel(struct http_req *req, struct err *e);

/*
 * The professionals of b free at start for service_id (one: only_id > 0),
 * with the rules applied (notice, horizon, step), not counting except_id:
 * *ids (caller frees; NULL when none) and *n.  Sets *duration_s.
 */
int public_free_at(struct db *db, const struct online_branch *b, int64_t service_id,
                   int64_t only_id, int64_t except_id, int64_t start, int64_t **ids, size_t *n,
                   struct err *e);

/*
 * The rules on a start time: answers 409 too_soon / too_far itself and
 * returns a negative code, else 0.
 */
int public_check_window(struct http_req *req, const struct online_rules *r, int64_t start,
                        struct err *e);

/* The service of b bookable online: 1 (duration, price filled), 0 not, negative on error. */
int public_service(struct db *db, const struct online_branch *b, int64_t service_id,
                   int64_t *duration_min, int64_t *price_cents, struct err *e);

/*
 * Answer the free times of the query's date (?date=YYYY-MM-DD) for
 * service_id at b (one professional when only_id > 0), not counting
 * appointment except_id, merged across professionals.  Answers refusals.
 */
int public_times_reply(struct http_req *req, struct db *db, const struct online_branch *b,
                       int64_t service_id, int64_t only_id, int64_t except_id, struct err *e);

/*
 * Answer status with {"booking": the public view of appointment id,
 * "manage_token": token (left out when NULL)}.
 */
int public_view_reply(struct http_req *req, struct db *db, int64_t id, int status,
                      const char *token, struct err *e);

#endif
