/*
 * hours_check — the appointments a change of availability would strand
 * (see hours_check.h).
 */
#include "api/hours_check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/tz.h"
#include "common/util.h"
#include "domain/slots.h"

/* A list of stranded appointments is cut at 500 (the LIMIT of the two queries). */

bool api_hours_confirmed(struct http_req *req, const json_t *body)
{
    const char *q = http_req_query(req, "confirm");

    if (q != NULL && (strcmp(q, "1") == 0 || strcmp(q, "true") == 0))
        return true;
    return body != NULL && json_is_true(json_object_get(body, "confirm"));
}

int api_hours_load_except(struct db *db, int64_t tenant_id, int64_t branch_id, int64_t except_id,
                          bool drop_set, int64_t set_user, struct api_branch_hours *out,
                          struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    out->rows = NULL;
    out->n = 0;
    rc = db_query(db,
                  "SELECT COALESCE(user_id, 0), day_of_week, start_time, end_time "
                  "FROM working_hours WHERE tenant_id = $1 AND branch_id = $2 AND id <> $3 "
                  "AND NOT ($4 AND COALESCE(user_id, 0) = $5)",
                  DB_PARAMS(DB_INT(tenant_id), DB_INT(branch_id), DB_INT(except_id),
                            DB_BOOL(drop_set), DB_INT(set_user)),
                  &r, e);
    while (rc == 0 && db_res_next(r))
        api_hours_add(out, db_res_int(r, 0), (int)db_res_int(r, 1),
                      tz_parse_hhmm(db_res_text(r, 2)), tz_parse_hhmm(db_res_text(r, 3)));
    db_res_free(r);
    return rc;
}

void api_hours_add(struct api_branch_hours *bh, int64_t user_id, int wday, int start_min,
                   int end_min)
{
    if (wday < 0 || wday > 6 || start_min < 0 || end_min <= start_min)
        return;
    bh->rows = xrealloc(bh->rows, (bh->n + 1) * sizeof(*bh->rows));
    bh->rows[bh->n].user_id = user_id;
    bh->rows[bh->n].h.wday = wday;
    bh->rows[bh->n].h.start_min = start_min;
    bh->rows[bh->n].h.end_min = end_min;
    bh->n++;
}

/* The columns the list shows, and what they come from; the conditions follow ($1 tenant, $2 now).
 */
#define OPEN_SQL                                                                                   \
    "SELECT a.id, a.professional_id, a.start_at, a.end_at, COALESCE(b.timezone, t.timezone), "     \
    "c.first_name || CASE WHEN c.last_name = '' THEN '' ELSE ' ' || c.last_name END, s.name "      \
    "FROM appointments a JOIN branches b ON b.id = a.branch_id "                                   \
    "JOIN tenants t ON t.id = a.tenant_id JOIN clients c ON c.id = a.client_id "                   \
    "JOIN services s ON s.id = a.service_id "                                                      \
    "WHERE a.tenant_id = $1 AND a.end_at > $2 AND a.status IN ('PENDING', 'CONFIRMED') "

/*
 * The future open appointments of sql (OPEN_SQL and its conditions) into
 * *list, those that pass keep() when bh_before is not NULL.
 */
static int open_list(struct db *db, const char *sql, int nparams, const struct db_param *params,
                     const struct api_branch_hours *before, const struct api_branch_hours *after,
                     json_t **list, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    *list = json_array();
    rc = db_query(db, sql, nparams, params, &r, e);
    while (rc == 0 && db_res_next(r)) {
        const char *tz = db_res_text(r, 4) != NULL ? db_res_text(r, 4) : "UTC";
        int64_t pro = db_res_int(r, 1), start = 0, end = 0;
        bool was = true, is = false;
        char s_txt[32], e_txt[32];

        if (tz_parse_instant(db_res_text(r, 2), &start) < 0 ||
            tz_parse_instant(db_res_text(r, 3), &end) < 0)
            continue;
        if (before != NULL &&
            ((rc = api_branch_hours_fits(before, pro, tz, start, end, &was, e)) < 0 ||
             (rc = api_branch_hours_fits(after, pro, tz, start, end, &is, e)) < 0))
            break;
        if (!was || is)
            continue;
        api_booking_format(tz, start, s_txt);
        api_booking_format(tz, end, e_txt);
        json_array_append_new(*list,
                              json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:I}", "id",
                                        (json_int_t)db_res_int(r, 0), "start", s_txt, "end", e_txt,
                                        "client_name", db_res_text(r, 5), "service_name",
                                        db_res_text(r, 6), "professional_id", (json_int_t)pro));
    }
    db_res_free(r);
    return rc;
}

int api_hours_stranded(struct db *db, int64_t tenant_id, int64_t branch_id, int64_t professional_id,
                       const struct api_branch_hours *before, const struct api_branch_hours *after,
                       json_t **list, struct err *e)
{
    char now[32];

    tz_format_instant((int64_t)time(NULL), now);
    return open_list(
        db,
        OPEN_SQL "AND a.branch_id = $3 AND (a.professional_id = $4 OR $4 = 0) "
                 "ORDER BY a.start_at, a.id LIMIT 500",
        DB_PARAMS(DB_INT(tenant_id), DB_TEXT(now), DB_INT(branch_id), DB_INT(professional_id)),
        before, after, list, e);
}

int api_hours_overlapping(struct db *db, int64_t tenant_id, int64_t professional_id, int64_t start,
                          int64_t end, json_t **list, struct err *e)
{
    char now[32], s_txt[32], e_txt[32];

    tz_format_instant((int64_t)time(NULL), now);
    tz_format_instant(start, s_txt);
    tz_format_instant(end, e_txt);
    return open_list(db,
                     OPEN_SQL "AND a.professional_id = $3 AND a.start_at < $4 AND a.end_at > $5 "
                              "ORDER BY a.start_at, a.id LIMIT 500",
                     DB_PARAMS(DB_INT(tenant_id), DB_TEXT(now), DB_INT(professional_id),
                               DB_TEXT(e_txt), DB_TEXT(s_txt)),
                     NULL, NULL, list, e);
}

int api_hours_refuse(struct http_req *req, json_t *list, bool confirmed, struct err *e)
{
    size_t n = json_array_size(list);

    if (n == 0 || confirmed) {
        json_decref(list);
        return 0;
    }
    http_reply_json(req, 409,
                    json_pack("{s:{s:s, s:n, s:s, s:o}}", "error", "code",
                              "appointments_outside_hours", "field", "message",
                              "the change leaves appointments outside the professional's hours: "
                              "repeat it with \"confirm\": true to apply it",
                              "appointments", list));
    return err_set(e, ERR_USAGE, "%zu appointments outside the new hours", n);
}
