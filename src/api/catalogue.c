/* catalogue — what the catalogue's resources share; see catalogue.h. */
#include "api/catalogue.h"

#include "api/api.h"
#include "api/auth.h"
#include "api/validate.h"

int api_catalogue_get(struct http_req *req, const char *resource, const char *select_sql,
                      const char *types, const char *what, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    int64_t id = 0;
    int rc = api_auth_require(req, resource, API_ACT_READ, &a);

    if (rc < 0)
        return rc;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        return rc;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        return rc;
    return api_row_reply(req, 200, db, select_sql, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)),
                         types, what, id, e);
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

int api_catalogue_delete(struct http_req *req, const char *resource, const char *table,
                         const char *refs_sql, const char *what,
                         int (*hook)(struct http_req *req, struct db *db, const struct api_auth *a,
                                     int64_t id, bool done, struct err *e),
                         struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    struct err fk;
    char *sql = NULL;
    int64_t id = 0, one = 0;
    bool referenced = false;
    int rc;

    err_clear(&fk);
    rc = api_auth_require(req, resource, API_ACT_DELETE, &a);
    if (rc < 0)
        goto cleanup;
    rc = api_path_id(req, "id", &id, e);
    if (rc < 0)
        goto cleanup;
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = api_row_exists(db, table, id, a.tenant_id, e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no %s '%lld'", what, (long long)id);
        goto cleanup;
    }
    if (hook != NULL) {
        rc = hook(req, db, &a, id, false, e);
        if (rc < 0)
            goto cleanup;
    }
    if (refs_sql != NULL) {
        rc = db_query_int(db, refs_sql, DB_PARAMS(DB_INT(id), DB_INT(a.tenant_id)), &one, e);
        if (rc < 0)
            goto cleanup;
        referenced = rc == 0;
    }
    if (!referenced) {
        sql = xasprintf("DELETE FROM %s WHERE id = $1 AND tenant_id = $2", table);
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
        rc = deactivate(db, table, id, a.tenant_id, e);
        if (rc < 0)
            goto cleanup;
    }
    if (hook != NULL) {
        rc = hook(req, db, &a, id, true, e);
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
