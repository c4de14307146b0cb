/*
 * working_hours — /api/v1/working-hours: weekly opening hours of a branch
 * (user_id null: the branch's default) or of one professional at a branch.
 * Times are wall-clock "HH:MM" in the branch's zone, start < end, day 0-6
 * (0 = Sunday).  Intervals of one set (branch, user, day) never overlap.
 *
 *   GET    /working-hours[?branch_id&user_id&branch_default=true&day_of_week]
 *   PUT    /working-hours {branch_id, user_id|null, hours:[{day_of_week,start_time,end_time}]}
 *          replaces the whole set of (branch_id, user_id) in one transaction
 *   POST   /working-hours {branch_id, user_id?, day_of_week, start_time, end_time}
 *   GET, PATCH, DELETE /working-hours/{id}
 * A change that would leave future appointments outside the hours is 409
 * appointments_outside_hours listing them, until repeated with "confirm":
 * true (or ?confirm=1): hours_check.h.  Breaks are several rows of a day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/catalogue.h"
#include "api/hours_check.h"
#include "api/resource.h"
#include "common/tz.h"

#define WH_COLUMNS                                                                                 \
    "id, tenant_id, branch_id, user_id, day_of_week, start_time, end_time, created_at, "           \
    "updated_at"
#define WH_TYPES "iiiiisstt"
#define SET_MAX  100

static const struct api_field wh_fields[] = {
    {"branch_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"user_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"day_of_week", API_T_INT, API_REQUIRED, 0, 6, NULL},
    {"start_time", API_T_HHMM, API_REQUIRED, 0, 0, NULL},
    {"end_time", API_T_HHMM, API_REQUIRED, 0, 0, NULL},
    {"confirm", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};
enum { F_BRANCH, F_USER, F_DAY, F_START, F_END };
static const char *const wh_skip[] = {"confirm", NULL};

static const struct api_field set_fields[] = {
    {"branch_id", API_T_ID, API_REQUIRED, 0, 0, NULL},
    {"user_id", API_T_ID, API_NULLABLE, 0, 0, NULL},
    {"hours", API_T_ARRAY, API_REQUIRED, 0, SET_MAX, NULL},
    {"confirm", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

static const struct api_field interval_fields[] = {
    {"day_of_week", API_T_INT, API_REQUIRED, 0, 6, NULL},
    {"start_time", API_T_HHMM, API_REQUIRED, 0, 0, NULL},
    {"end_time", API_T_HHMM, API_REQUIRED, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

static const struct api_filter wh_filters[] = {
    {"branch_id", API_FILTER_ID, "branch_id", 0, 0, NULL},
    {"user_id", API_FILTER_ID, "user_id", 0, 0, NULL},
    {"branch_default", API_FILTER_IS_NULL, "user_id", 0, 0, NULL},
    {"day_of_week", API_FILTER_INT, "day_of_week", 0, 6, NULL},
    {NULL, 0, NULL, 0, 0, NULL},
};

/* One interval of a set, in minutes. */
struct interval {
    int64_t day;
    int start, end;
    char start_s[6], end_s[6];
};

/*
 * The branch must be the tenant's, the user (when not null) a PROFESSIONAL
 * of the tenant: else 404 / 400 naming the field.
 */
static int check_owner(struct http_req *req, struct db *db, int64_t tenant_id,
                       const struct api_value *branch, const struct api_value *user, struct err *e)
{
    int rc =
        api_resource_check_ref(req, db, "branches", "branch", "branch_id", branch, tenant_id, e);

    if (rc < 0 || !user->present || user->null)
        return rc;
    return api_resource_check_professional(req, db, "user_id", user->i, tenant_id,
                                           "have their own working hours", e);
}

/* Does [start, end) on day overlap another interval of the set (other than except_id)? */
static int overlaps_stored(struct db *db, int64_t tenant_id, int64_t branch_id, int64_t user_id,
                           int64_t day, const char *start, const char *end, int64_t except_id,
                           struct err *e)
{
    struct api_sql q;
    int64_t other = 0;
    int rc;

    /* "HH:MM" texts order as the times they name. */
    api_sql_init(&q, "SELECT id FROM working_hours WHERE tenant_id = ");
    api_sql_param(&q, DB_INT(tenant_id));
    api_sql_add(&q, " AND branch_id = ");
    api_sql_param(&q, DB_INT(branch_id));
    if (user_id > 0) {
        api_sql_add(&q, " AND user_id = ");
        api_sql_param(&q, DB_INT(user_id));
    } else {
        api_sql_add(&q, " AND user_id IS NULL");
    }
    api_sql_add(&q, " AND day_of_week = ");
    api_sql_param(&q, DB_INT(day));
    api_sql_add(&q, " AND start_time < ");
    api_sql_param(&q, DB_TEXT(end));
    api_sql_add(&q, " AND end_time > ");
    api_sql_param(&q, DB_TEXT(start));
    api_sql_add(&q, " AND id <> ");
    api_sql_param(&q, DB_INT(except_id));
    rc = db_query_int(db, buf_str(&q.text), q.nparams, q.params, &other, e);
    api_sql_release(&q);
    if (rc < 0)
        return rc;
    return rc == 0 ? 1 : 0;
}

/*
 * The appointments of branch_id that fit the hours now and not `after`
 * (of professional_id, or of all when 0): refused unless confirmed.
 * after is released.
 */
static int check_stranded(struct http_req *req, struct db *db, int64_t tenant_id, int64_t branch_id,
                          int64_t professional_id, struct api_branch_hours *after, bool confirmed,
                          struct err *e)
{
    struct api_branch_hours before = {0};
    json_t *list = NULL;
    int rc;

    rc = api_branch_hours_load(db, tenant_id, branch_id, 0, &before, e);
    if (rc == 0)
        rc =
            api_hours_stranded(db, tenant_id, branch_id, professional_id, &before, after, &list, e);
    if (rc == 0)
        rc = api_hours_refuse(req, list, confirmed, e);
    else
        json_decref(list);
    api_branch_hours_release(&before);
    api_branch_hours_release(after);
    return rc;
}

static int reply_overlap(struct http_req *req, const char *field, struct err *e)
{
    http_reply_error(req, 409, "overlap", field,
                     "the interval overlaps another one of the same day and set");
    return err_set(e, ERR_USAGE, "overlapping working hours");
}

/* check (create): the interval must end after it starts. */
static int check_interval(struct api_write *w, struct err *e)
{
    if (w->mode == API_CREATE && w->v[F_START].i >= w->v[F_END].i)
        return api_reply_invalid(w->req, e, "end_time", "'end_time' must be after 'start_time'");
    return 0;
}

/*
 * prepare: the row as it would be (on PATCH, the stored one with the body
 * over it) must end after it starts, belong to the tenant's branch and
 * professional, and overlap no other interval of its set.
 */
static int check_row(struct api_write *w, struct err *e)
{
    struct api_value *v = w->v;
    struct db_res *r = NULL;
    struct api_branch_hours after = {0};
    int64_t branch_id, user_id, day, old_branch, old_user;
    char start[6], end[6];
    int rc = 0;

    if (w->mode == API_CREATE) {
        branch_id = old_branch = v[F_BRANCH].i;
        user_id = old_user = v[F_USER].present && !v[F_USER].null ? v[F_USER].i : 0;
        day = v[F_DAY].i;
        snprintf(start, sizeof(start), "%s", v[F_START].s);
        snprintf(end, sizeof(end), "%s", v[F_END].s);
    } else {
        rc = db_query(w->db,
                      "SELECT branch_id, user_id, day_of_week, start_time, end_time "
                      "FROM working_hours WHERE id = $1 AND tenant_id = $2",
                      DB_PARAMS(DB_INT(w->id), DB_INT(w->a.tenant_id)), &r, e);
        if (rc < 0)
            goto cleanup;
        if (!db_res_next(r)) {
            rc = err_set(e, ERR_NOT_FOUND, "no working hours '%lld'", (long long)w->id);
            goto cleanup;
        }
        old_branch = db_res_int(r, 0);
        old_user = db_res_isnull(r, 1) ? 0 : db_res_int(r, 1);
        branch_id = v[F_BRANCH].present ? v[F_BRANCH].i : old_branch;
        user_id = v[F_USER].present ? (v[F_USER].null ? 0 : v[F_USER].i) : old_user;
        day = v[F_DAY].present ? v[F_DAY].i : db_res_int(r, 2);
        snprintf(start, sizeof(start), "%s", v[F_START].present ? v[F_START].s : db_res_text(r, 3));
        snprintf(end, sizeof(end), "%s", v[F_END].present ? v[F_END].s : db_res_text(r, 4));
        if (tz_parse_hhmm(start) >= tz_parse_hhmm(end)) {
            rc = api_reply_invalid(w->req, e, v[F_END].present ? "end_time" : "start_time",
                                   "'end_time' must be after 'start_time'");
            goto cleanup;
        }
    }
    rc = check_owner(w->req, w->db, w->a.tenant_id, &v[F_BRANCH], &v[F_USER], e);
    if (rc < 0)
        goto cleanup;
    rc = overlaps_stored(w->db, w->a.tenant_id, branch_id, user_id, day, start, end, w->id, e);
    if (rc == 1)
        rc = reply_overlap(w->req, "start_time", e);
    if (rc < 0)
        goto cleanup;
    /* the hours of the row's (old) branch as they would be: only there can some go */
    rc = api_hours_load_except(w->db, w->a.tenant_id, old_branch, w->id, false, 0, &after, e);
    if (rc < 0)
        goto cleanup;
    if (branch_id == old_branch)
        api_hours_add(&after, user_id, (int)day, tz_parse_hhmm(start), tz_parse_hhmm(end));
    rc =
        check_stranded(w->req, w->db, w->a.tenant_id, old_branch, old_user == user_id ? user_id : 0,
                       &after, api_hours_confirmed(w->req, w->body), e);

cleanup:
    api_branch_hours_release(&after);
    db_res_free(r);
    return rc;
}

/* delete_hook: the appointments the row's removal would leave outside the hours. */
static int check_delete(struct http_req *req, struct db *db, const struct api_auth *a, int64_t id,
                        bool done, struct err *e)
{
    struct api_branch_hours after = {0};
    struct db_res *r = NULL;
    int64_t branch_id, user_id;
    int rc;

    if (done)
        return 0;
    rc = db_query(db,
                  "SELECT branch_id, COALESCE(user_id, 0) FROM working_hours "
                  "WHERE id = $1 AND tenant_id = $2",
                  DB_PARAMS(DB_INT(id), DB_INT(a->tenant_id)), &r, e);
    if (rc < 0 || !db_res_next(r))
        goto cleanup;
    branch_id = db_res_int(r, 0);
    user_id = db_res_int(r, 1);
    rc = api_hours_load_except(db, a->tenant_id, branch_id, id, false, 0, &after, e);
    if (rc == 0)
        rc = check_stranded(req, db, a->tenant_id, branch_id, user_id, &after,
                            api_hours_confirmed(req, NULL), e);

cleanup:
    api_branch_hours_release(&after);
    db_res_free(r);
    return rc;
}

static const struct api_resource working_hours = {
    .right = "working_hours",
    .table = "working_hours",
    .columns = WH_COLUMNS,
    .types = WH_TYPES,
    .what = "working hours",
    .fields = wh_fields,
    .skip = wh_skip,
    .filters = wh_filters,
    .check = check_interval,
    .prepare = check_row,
    .delete_hook = check_delete,
};

int api_working_hours_list(struct http_req *req, struct err *e)
{
    return api_resource_list(req, &working_hours, e);
}

int api_working_hours_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &working_hours, e);
}

int api_working_hours_create(struct http_req *req, struct err *e)
{
    return api_resource_create(req, &working_hours, e);
}

int api_working_hours_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &working_hours, e);
}

int api_working_hours_delete(struct http_req *req, struct err *e)
{
    return api_resource_delete(req, &working_hours, e);
}

/* Check the intervals of a PUT: shape, start < end, no overlap within the set. */
static int check_set(struct http_req *req, json_t *hours, struct interval *out, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    struct api_invalid inv;
    char prefix[32], field[48];
    size_t i;
    json_t *el;

    json_array_foreach(hours, i, el)
    {
        snprintf(prefix, sizeof(prefix), "hours[%zu].", i);
        if (api_check_object(el, interval_fields, API_CREATE, prefix, v, &inv) < 0)
            return api_reply_invalid_at(req, e, &inv);
        out[i].day = v[0].i;
        out[i].start = (int)v[1].i;
        out[i].end = (int)v[2].i;
        snprintf(out[i].start_s, sizeof(out[i].start_s), "%s", v[1].s);
        snprintf(out[i].end_s, sizeof(out[i].end_s), "%s", v[2].s);
        if (out[i].start >= out[i].end) {
            snprintf(field, sizeof(field), "hours[%zu].end_time", i);
            return api_reply_invalid(req, e, field, "'end_time' must be after 'start_time'");
        }
        for (size_t k = 0; k < i; k++) {
            if (out[k].day == out[i].day && out[k].start < out[i].end &&
                out[i].start < out[k].end) {
                snprintf(field, sizeof(field), "hours[%zu]", i);
                return reply_overlap(req, field, e);
            }
        }
    }
    return 0;
}

int api_working_hours_replace(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct api_value v[API_MAX_FIELDS];
    struct interval set[SET_MAX];
    struct api_sql del = {0};
    struct api_sql sel = {0};
    struct api_page all = {.limit = SET_MAX + 1, .after_id = 0};
    struct api_branch_hours after = {0};
    json_t *body = NULL;
    struct db *db = NULL;
    int64_t user_id;
    size_t n;
    char now[32];
    int rc;

    rc = api_auth_require(req, "working_hours", API_ACT_UPDATE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_read_body(req, set_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    rc = check_set(req, v[2].json, set, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = check_owner(req, db, a.tenant_id, &v[0], &v[1], e);
    if (rc < 0)
        goto cleanup;
    user_id = v[1].present && !v[1].null ? v[1].i : 0;
    n = json_array_size(v[2].json);
    rc = api_hours_load_except(db, a.tenant_id, v[0].i, 0, true, user_id, &after, e);
    if (rc < 0)
        goto cleanup;
    for (size_t i = 0; i < n; i++)
        api_hours_add(&after, user_id, (int)set[i].day, set[i].start, set[i].end);
    rc = check_stranded(req, db, a.tenant_id, v[0].i, user_id, &after,
                        api_hours_confirmed(req, body), e);
    if (rc < 0)
        goto cleanup;

    /* The set: this branch, and this user or the branch's default. */
    api_sql_init(&del, "DELETE FROM working_hours WHERE tenant_id = ");
    api_sql_init(&sel, "SELECT " WH_COLUMNS " FROM working_hours WHERE tenant_id = ");
    api_sql_param(&del, DB_INT(a.tenant_id));
    api_sql_param(&sel, DB_INT(a.tenant_id));
    api_sql_add(&del, " AND branch_id = ");
    api_sql_add(&sel, " AND branch_id = ");
    api_sql_param(&del, DB_INT(v[0].i));
    api_sql_param(&sel, DB_INT(v[0].i));
    if (user_id > 0) {
        api_sql_add(&del, " AND user_id = ");
        api_sql_add(&sel, " AND user_id = ");
        api_sql_param(&del, DB_INT(user_id));
        api_sql_param(&sel, DB_INT(user_id));
    } else {
        api_sql_add(&del, " AND user_id IS NULL");
        api_sql_add(&sel, " AND user_id IS NULL");
    }
    api_sql_add(&sel, " AND id > 0 ORDER BY id LIMIT ");
    api_sql_param(&sel, DB_INT(all.limit + 1));

    api_now_text(now);
    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_exec_params(db, buf_str(&del.text), del.nparams, del.params, NULL, e);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc =
            db_exec_params(db,
                           "INSERT INTO working_hours (tenant_id, branch_id, user_id, day_of_week, "
                           "start_time, end_time, created_at, updated_at) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                           DB_PARAMS(DB_INT(a.tenant_id), DB_INT(v[0].i),
                                     user_id > 0 ? DB_INT(user_id) : DB_NULL, DB_INT(set[i].day),
                                     DB_TEXT(set[i].start_s), DB_TEXT(set[i].end_s), DB_TEXT(now)),
                           NULL, e);
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0) {
        if (db_in_transaction(db))
            db_rollback(db);
        goto cleanup;
    }
    rc = api_list_reply(req, db, &all, buf_str(&sel.text), sel.nparams, sel.params, WH_TYPES, e);

cleanup:
    api_branch_hours_release(&after);
    api_sql_release(&del);
    api_sql_release(&sel);
    json_decref(body);
    return rc;
}
