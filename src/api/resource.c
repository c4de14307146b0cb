/* resource — the catalogue's resources driven by their descriptors; see resource.h. */
#include "api/resource.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/util.h"

const struct api_filter api_filters_active[] = {
    {"active", API_FILTER_BOOL, "active", 0, 0, NULL},
    {NULL, 0, NULL, 0, 0, NULL},
};

/* The session and the right for act on the row the request names: its id into *id. */
static int authorize(struct http_req *req, const struct api_resource *res, enum api_action act,
                     struct api_auth *a, int64_t *id, struct err *e)
{
    int rc;

    if (res->self_right == NULL) {
        rc = api_auth_require(req, res->right, act, a);
        if (rc < 0)
            return rc;
        if (res->is_tenant) {
            *id = a->tenant_id;
            return 0;
        }
        return api_path_id(req, "id", id, e);
    }
    /* Authenticated first, then the id: whether the self right applies
     * depends on it. */
    rc = api_auth_session(req, a);
    if (rc < 0)
        return rc;
    rc = api_path_id(req, "id", id, e);
    if (rc < 0)
        return rc;
    if (!api_auth_allowed(a->role, res->right, act) &&
        !(*id == a->user_id && api_auth_allowed(a->role, res->self_right, act))) {
        http_reply_error(req, 403, "forbidden", NULL, "the role '%s' may not do this",
                         api_role_name(a->role));
        return -ERR_USAGE;
    }
    return 0;
}

/* Answer row id of the tenant with status. */
static int reply_row(struct http_req *req, int status, struct db *db,
                     const struct api_resource *res, int64_t id, int64_t tenant_id, struct err *e)
{
    char *sql = NULL;
    int rc;

    if (res->is_tenant) {
        sql = xasprintf("SELECT %s FROM %s WHERE id = $1", res->columns, res->table);
        rc = api_row_reply(req, status, db, sql, DB_PARAMS(DB_INT(id)), res->types, res->what, id,
                           e);
    } else {
        sql = xasprintf("SELECT %s FROM %s WHERE id = $1 AND tenant_id = $2", res->columns,
                        res->table);
        rc = api_row_reply(req, status, db, sql, DB_PARAMS(DB_INT(id), DB_INT(tenant_id)),
                           res->types, res->what, id, e);
    }
    free(sql);
    return rc;
}

/* "A, B, C" from a NULL-terminated list: the choices a message names. */
static char *join_choices(const char *const *choices)
{
    struct buf b = BUF_INIT;

    for (int i = 0; choices[i] != NULL; i++) {
        if (i > 0)
            buf_adds(&b, ", ");
        buf_adds(&b, choices[i]);
    }
    return buf_detach(&b);
}

/* Read filter f from the query string and narrow q by it; 400 naming it when malformed. */
static int add_filter(struct http_req *req, const struct api_filter *f, struct api_sql *q,
                      struct err *e)
{
    const char *text = http_req_query(req, f->param);
    int64_t n = 0;
    bool b = false, present = false;
    char *list = NULL;
    int rc = 0;

    switch (f->type) {
    case API_FILTER_BOOL:
    case API_FILTER_IS_NULL:
        rc = api_query_bool(req, f->param, &b, &present, e);
        break;
    case API_FILTER_ID:
        rc = api_query_id(req, f->param, &n, &present, e);
        break;
    case API_FILTER_INT:
        present = text != NULL;
        if (present && parse_int64(text, f->min, f->max, &n) < 0)
            rc = api_reply_invalid(req, e, f->param, "'%s' must be %lld to %lld", f->param,
                                   (long long)f->min, (long long)f->max);
        break;
    case API_FILTER_ENUM:
        present = text != NULL;
        rc = present ? -1 : 0;
        for (int i = 0; present && f->choices[i] != NULL; i++)
            if (strcmp(text, f->choices[i]) == 0)
                rc = 0;
        if (rc < 0) {
            list = join_choices(f->choices);
            rc = api_reply_invalid(req, e, f->param, "'%s' must be one of %s", f->param, list);
        }
        break;
    }
    if (rc < 0 || !present)
        goto cleanup;
    api_sql_add(q, " AND ");
    api_sql_add(q, f->column);
    switch (f->type) {
    case API_FILTER_BOOL:
        api_sql_add(q, " = ");
        api_sql_param(q, DB_BOOL(b));
        break;
    case API_FILTER_IS_NULL:
        api_sql_add(q, b ? " IS NULL" : " IS NOT NULL");
        break;
    case API_FILTER_ID:
    case API_FILTER_INT:
        api_sql_add(q, " = ");
        api_sql_param(q, DB_INT(n));
        break;
    case API_FILTER_ENUM:
        api_sql_add(q, " = ");
        api_sql_param(q, DB_TEXT(text)); /* borrowed from the request */
        break;
    }

cleanup:
    free(list);
    return rc;
}

int api_resource_list(struct http_req *req, const struct api_resource *res, struct err *e)
{
    struct api_auth a;
    struct api_page page;
    struct api_sql q = {0};
    struct db *db = NULL;
    char *keep[4] = {NULL, NULL, NULL, NULL};
    int rc;

    rc = api_auth_require(req, res->right, API_ACT_READ, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_page_parse(req, &page, e);
    if (rc < 0)
        goto cleanup;
    api_sql_init(&q, "SELECT ");
    api_sql_add(&q, res->columns);
    api_sql_add(&q, " FROM ");
    api_sql_add(&q, res->table);
    api_sql_add(&q, " WHERE tenant_id = ");
    api_sql_param(&q, DB_INT(a.tenant_id));
    api_sql_add(&q, " AND id > ");
    api_sql_param(&q, DB_INT(page.after_id));
    for (const struct api_filter *f = res->filters; f != NULL && f->param != NULL; f++) {
        rc = add_filter(req, f, &q, e);
        if (rc < 0)
            goto cleanup;
    }
    if (res->pro_scope != NULL && a.role == API_ROLE_PROFESSIONAL) {
        api_sql_add(&q, " AND ");
        api_sql_add(&q, res->pro_scope);
        api_sql_param(&q, DB_INT(a.user_id));
        api_sql_add(&q, ")");
    }
    if (res->list_where != NULL) {
        rc = res->list_where(req, &q, keep, e);
        if (rc < 0)
            goto cleanup;
    }
    api_sql_add(&q, " ORDER BY id LIMIT ");
    api_sql_param(&q, DB_INT(page.limit + 1));
    /* Every parameter is checked: only now is the connection taken. */
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_list_reply(req, db, &page, buf_str(&q.text), q.nparams, q.params, res->types, e);

cleanup:
    for (int i = 0; i < 4; i++)
        free(keep[i]);
    api_sql_release(&q);
    return rc;
}

int api_email_hidden_conflict(struct api_write *w, const struct api_field *fields,
                              const char *sql_other, struct err *e)
{
    const struct api_value *email = api_value_of(fields, w->v, "email");
    int64_t one = 0;
    int rc;

    if (!email->present || email->s == NULL)
        return 0;
    rc = db_query_int(w->db, sql_other,
                      DB_PARAMS(DB_TEXT(email->s), DB_INT(w->mode == API_UPDATE ? w->id : 0),
                                DB_INT(w->a.tenant_id)),
                      &one, e);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return 0;
    /* Word for word what an invalid address gets (api/validate.c). */
    return api_reply_invalid(w->req, e, "email", "'%s' is not a valid email address", "email");
}

/* May this PROFESSIONAL read row id (res->pro_scope)?  1 yes, 0 no, or -ERR_*. */
static int pro_may_read(struct db *db, const struct api_resource *res, const struct api_auth *a,
                        int64_t id, struct err *e)
{
    struct api_sql q = {0};
    int64_t one = 0;
    int rc;

    api_sql_init(&q, "SELECT 1 FROM ");
    api_sql_add(&q, res->table);
    api_sql_add(&q, " WHERE id = ");
    api_sql_param(&q, DB_INT(id));
    api_sql_add(&q, " AND tenant_id = ");
    api_sql_param(&q, DB_INT(a->tenant_id));
    api_sql_add(&q, " AND ");
    api_sql_add(&q, res->pro_scope);
    api_sql_param(&q, DB_INT(a->user_id));
    api_sql_add(&q, ")");
    rc = db_query_int(db, buf_str(&q.text), q.nparams, q.params, &one, e);
    api_sql_release(&q);
    return rc < 0 ? rc : rc == 0;
}

int api_resource_get(struct http_req *req, const struct api_resource *res, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    int64_t id = 0;
    int rc = authorize(req, res, API_ACT_READ, &a, &id, e);

    if (rc < 0)
        return rc;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        return rc;
    if (res->pro_scope != NULL && a.role == API_ROLE_PROFESSIONAL) {
        rc = pro_may_read(db, res, &a, id, e);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return err_set(e, ERR_NOT_FOUND, "no %s '%lld'", res->what, (long long)id);
    }
    return reply_row(req, 200, db, res, id, a.tenant_id, e);
}

/* Authorised: read the body and run the hooks up to the write. */
static int write_prepare(struct api_write *w, struct err *e)
{
    const struct api_resource *res = w->res;
    int rc;

    rc = api_read_body(w->req, res->fields, w->mode, &w->body, w->v, e);
    if (rc < 0)
        return rc;
    if (res->check != NULL) {
        rc = res->check(w, e);
        if (rc < 0)
            return rc;
    }
    rc = api_worker_db(http_req_worker(w->req), &w->db, e);
    if (rc < 0)
        return rc;
    return res->prepare != NULL ? res->prepare(w, e) : 0;
}

/*
 * After the write (rc its result; found: it reached a row): 409 naming the
 * unique field on a unique violation, 404 when no row, the done hook, then
 * the row as it now is, with status.
 */
static int write_finish(struct api_write *w, int rc, bool found, int status, struct err *e)
{
    const struct api_resource *res = w->res;

    if (rc < 0)
        return res->unique != NULL ? api_reply_duplicate(w->req, e, rc, res->unique, res->a_what)
                                   : rc;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no %s '%lld'", res->what, (long long)w->id);
    if (res->done != NULL) {
        rc = res->done(w, e);
        if (rc < 0)
            return rc;
    }
    return reply_row(w->req, status, w->db, res, w->id, w->a.tenant_id, e);
}

/* What a create or update holds, released (the secret wiped). */
static void write_release(struct api_write *w, struct api_sql *q)
{
    secure_zero(w->secret, sizeof(w->secret));
    api_sql_release(q);
    json_decref(w->body);
}

int api_resource_create(struct http_req *req, const struct api_resource *res, struct err *e)
{
    struct api_write w = {.req = req, .res = res, .mode = API_CREATE};
    struct api_sql q = {0};
    int rc;

    rc = api_auth_require(req, res->right, API_ACT_CREATE, &w.a);
    if (rc < 0)
        goto cleanup;
    rc = write_prepare(&w, e);
    if (rc < 0)
        goto cleanup;
    api_sql_insert(&q, res->table, w.a.tenant_id, res->fields, w.v, res->skip, w.extra_cols,
                   w.extra_params);
    rc = db_query_int(w.db, buf_str(&q.text), q.nparams, q.params, &w.id, e);
    rc = write_finish(&w, rc, true, 201, e);

cleanup:
    write_release(&w, &q);
    return rc;
}

int api_resource_update(struct http_req *req, const struct api_resource *res, struct err *e)
{
    struct api_write w = {.req = req, .res = res, .mode = API_UPDATE};
    struct api_sql q = {0};
    int64_t affected = 0;
    char now[32];
    int rc;

    rc = authorize(req, res, API_ACT_UPDATE, &w.a, &w.id, e);
    if (rc < 0)
        goto cleanup;
    rc = write_prepare(&w, e);
    if (rc < 0)
        goto cleanup;
    api_now_text(now);
    api_sql_init(&q, "UPDATE ");
    api_sql_add(&q, res->table);
    api_sql_add(&q, " SET updated_at = ");
    api_sql_param(&q, DB_TEXT(now));
    api_sql_set_fields(&q, res->fields, w.v, res->skip, false);
    for (int i = 0; i < w.nextra; i++) {
        api_sql_add(&q, ", ");
        api_sql_add(&q, w.extra_cols[i]);
        api_sql_add(&q, " = ");
        api_sql_param(&q, w.extra_params[i]);
    }
    api_sql_add(&q, " WHERE id = ");
    api_sql_param(&q, DB_INT(w.id));
    if (!res->is_tenant) {
        api_sql_add(&q, " AND tenant_id = ");
        api_sql_param(&q, DB_INT(w.a.tenant_id));
    }
    rc = db_exec_params(w.db, buf_str(&q.text), q.nparams, q.params, &affected, e);
    rc = write_finish(&w, rc, affected > 0, 200, e);

cleanup:
    write_release(&w, &q);
    return rc;
}

void api_write_extra(struct api_write *w, const char *column, struct db_param value)
{
    if (w->nextra >= API_WRITE_EXTRA)
        abort(); /* a descriptor's hook adds more than it may: a programming error */
    w->extra_cols[w->nextra] = column;
    w->extra_params[w->nextra] = value;
    w->nextra++;
}

static int deactivate(struct db *db, const char *table, int64_t id, int64_t tenant_id,
                      struct err *e)
{
    char *sql = xasprintf("UPDATE %s SET active = $1, updated_at = $2 "
                          "WHERE id = $3 AND tenant_id = $4",
                          table);
    char now[32];
    int rc;

    api_now_text(now);
    rc = db_exec_params(
        db, sql, DB_PARAMS(DB_BOOL(false), DB_TEXT(now), DB_INT(id), DB_INT(tenant_id)), NULL, e);
    free(sql);
    return rc;
}

int api_resource_delete(struct http_req *req, const struct api_resource *res, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    struct err fk;
    char *sql = NULL;
    int64_t id = 0, one = 0;
    bool referenced = false;
    int rc;

    err_clear(&fk);
    rc = api_auth_require(req, res->right, API_ACT_DELETE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_exists(db, res->table, id, a.tenant_id, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no %s '%lld'", res->what, (long long)id);
        goto cleanup;
    }
    if (res->delete_hook != NULL) {
        rc = res->delete_hook(req, db, &a, id, false, e);
        if (rc < 0)
            goto cleanup;
    }
    if (res->refs_sql != NULL) {
        rc = db_query_int(db, res->refs_sql, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)), &one, e);
        if (rc < 0)
            goto cleanup;
        referenced = rc == 0;
    }
    if (!referenced) {
        sql = xasprintf("DELETE FROM %s WHERE id = $1 AND tenant_id = $2", res->table);
        /* A reference refs_sql does not list (or one made meanwhile) makes
         * the database refuse: then the row is kept, deactivated. */
        rc = db_exec_params(db, sql, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)), NULL, &fk);
        if (rc < 0 && fk.code != ERR_DB_FOREIGN_KEY) {
            *e = fk;
            goto cleanup;
        }
        referenced = rc < 0;
    }
    if (referenced) {
        rc = deactivate(db, res->table, id, a.tenant_id, e);
        if (rc < 0)
            goto cleanup;
    }
    if (res->delete_hook != NULL) {
        rc = res->delete_hook(req, db, &a, id, true, e);
        if (rc < 0)
            goto cleanup;
    }
    if (!referenced) {
        rc = http_reply_empty(req, 204);
        goto cleanup;
    }
    rc = http_reply_json(req, 200,
                         json_pack("{s:I, s:b, s:s}", "id", (json_int_t)id, "deactivated", 1,
                                   "message",
                                   "other records refer to it: it was deactivated, not deleted"));

cleanup:
    free(sql);
    return rc;
}

int api_resource_check_ref(struct http_req *req, struct db *db, const char *table, const char *what,
                           const char *field, const struct api_value *v, int64_t tenant_id,
                           struct err *e)
{
    int rc;

    if (!v->present || v->null)
        return 0;
    rc = api_row_exists(db, table, v->i, tenant_id, e);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        http_reply_error(req, 404, "not_found", field, "no %s '%lld' in this tenant", what,
                         (long long)v->i);
        return err_set(e, ERR_NOT_FOUND, "no %s '%lld'", what, (long long)v->i);
    }
    return 0;
}

int api_resource_check_professional(struct http_req *req, struct db *db, const char *field,
                                    int64_t user_id, int64_t tenant_id, const char *why,
                                    struct err *e)
{
    char *role = NULL;
    int rc;

    rc = db_query_text(db, "SELECT role FROM users WHERE id = $1 AND tenant_id = $2",
                       DB_PARAMS(DB_INT(user_id), DB_INT(tenant_id)), &role, e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (role == NULL) {
        http_reply_error(req, 404, "not_found", field, "no user '%lld' in this tenant",
                         (long long)user_id);
        rc = err_set(e, ERR_NOT_FOUND, "no user '%lld'", (long long)user_id);
    } else if (strcmp(role, "PROFESSIONAL") != 0) {
        rc = api_reply_invalid(req, e, field,
                               "user '%lld' is not a PROFESSIONAL: only professionals %s",
                               (long long)user_id, why);
    }

cleanup:
    free(role);
    return rc;
}
