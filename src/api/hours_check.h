/*
 * hours_check — the appointments a change of availability would strand:
 * new working hours (working_hours.c) or time off (time_off.c).  Such a
 * change is refused with
 *   409 {"error":{"code":"appointments_outside_hours", "field":null, "message":…,
 *                 "appointments":[{id, start, end, client_name, service_name,
 *                                  professional_id}]}}
 * unless the request repeats itself with "confirm": true (body) or
 * ?confirm=1.  Only future PENDING and CONFIRMED appointments count, and
 * for hours only those that fitted before the change: one already booked
 * outside them (an override) is nobody's news.
 */
#ifndef CITAPLANNER_API_HOURS_CHECK_H
#define CITAPLANNER_API_HOURS_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "api/booking.h"
#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

/* Did the request say "confirm": ?confirm=1 (or true), or "confirm": true in body (may be NULL)? */
bool api_hours_confirmed(struct http_req *req, const json_t *body);

/*
 * The working-hours rows of a branch as they would be: every row but
 * except_id and, when drop_set, but those of the set set_user (0: the
 * branch's default).  Release with api_branch_hours_release().
 */
int api_hours_load_except(struct db *db, int64_t tenant_id, int64_t branch_id, int64_t except_id,
                          bool drop_set, int64_t set_user, struct api_branch_hours *out,
                          struct err *e);

/* Add one row (minutes since midnight) to bh. */
void api_hours_add(struct api_branch_hours *bh, int64_t user_id, int wday, int start_min,
                   int end_min);

/*
 * The future open appointments at branch_id (of professional_id when > 0)
 * that fit the hours before and not those after: *list (caller frees with
 * json_decref), an empty array when none.
 */
int api_hours_stranded(struct db *db, int64_t tenant_id, int64_t branch_id, int64_t professional_id,
                       const struct api_branch_hours *before, const struct api_branch_hours *after,
                       json_t **list, struct err *e);

/* The future open appointments of professional_id overlapping [start, end): *list as above. */
int api_hours_overlapping(struct db *db, int64_t tenant_id, int64_t professional_id, int64_t start,
                          int64_t end, json_t **list, struct err *e);

/*
 * Answer 409 appointments_outside_hours with list (taken) when it is not
 * empty and the request is not confirmed; returns negative then, else 0
 * (list freed either way).
 */
int api_hours_refuse(struct http_req *req, json_t *list, bool confirmed, struct err *e);

#endif
