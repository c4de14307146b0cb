/*
 * resource — the catalogue's resources (branches, services, clients,
 * users, working hours, the tenant) described by a table rather than
 * written out handler by handler: what is the same for every one of them
 * (the role matrix, the keyset-paginated list, get by id, create and PATCH
 * from the field table, delete-or-deactivate) lives here once, and each
 * resource file keeps only its descriptor and the hooks for what is its
 * own (users' passwords and self-service, clients' phone rule and search,
 * working hours' overlap rule).
 *
 * Invariants every handler here keeps (SPEC §8, catalogue.h):
 *   - the role matrix first (api_auth_require), so 401/403 come before any
 *     validation of the path or the body;
 *   - everything the client sends is validated before the database is
 *     touched, and every query carries the session's tenant, so another
 *     tenant's row is simply not found (404);
 *   - only the program's own names (table, columns, fields, filters) reach
 *     the SQL text; every value is a $N parameter.
 *
 * Adding a resource: a static const struct api_resource in its file, five
 * one-line handlers calling api_resource_list/get/create/update/delete,
 * their rows in routes_catalogue.c.
 */
#ifndef CITAPLANNER_API_RESOURCE_H
#define CITAPLANNER_API_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "api/auth.h"
#include "api/validate.h"
#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

/* How a list's query parameter narrows it. */
enum api_filter_type {
    API_FILTER_BOOL,    /* "true"/"false": column = value */
    API_FILTER_ID,      /* a row id: column = value */
    API_FILTER_ENUM,    /* one of choices: column = value */
    API_FILTER_INT,     /* an integer min..max: column = value */
    API_FILTER_IS_NULL, /* "true": column IS NULL, "false": column IS NOT NULL */
};

/*
 * One query parameter a list accepts.  A malformed value answers 400
 * naming param; an absent one does not filter.  The table's order is the
 * order in which parameters are checked (the first fault is the one named).
 */
struct api_filter {
    const char *param; /* NULL ends the table */
    enum api_filter_type type;
    const char *column;
    int64_t min, max;           /* INT */
    const char *const *choices; /* ENUM: NULL-terminated */
};

/* The filter most lists take alone: ?active=true|false. */
extern const struct api_filter api_filters_active[];

/* Room for the columns a hook sets beside the body's fields. */
#define API_WRITE_EXTRA 4

/*
 * One create or PATCH on its way to the database, as the hooks see it.
 * Built by api_resource_create/update; the hooks read it and may add
 * columns (extra_cols / extra_params) whose text values they keep in
 * secret (zeroed once the request is answered: it may hold a password's
 * hash).
 */
struct api_write {
    struct http_req *req;
    const struct api_resource *res;
    enum api_mode mode;
    struct api_auth a;
    struct db *db; /* NULL in the check hook */
    int64_t id;    /* the row (update), 0 on create */
    json_t *body;  /* the request's body, which the values borrow from */
    struct api_value v[API_MAX_FIELDS];
    const char *extra_cols[API_WRITE_EXTRA + 1]; /* NULL-terminated */
    struct db_param extra_params[API_WRITE_EXTRA];
    int nextra;
    char secret[128];
};

/*
 * A hook answers the request itself when it refuses (400, 403, 404, 409)
 * and returns a negative code; or returns 0 to go on.
 */
typedef int (*api_write_hook)(struct api_write *w, struct err *e);

/*
 * prepare hook helper: is the body's "email" (field of fields) used by a row
 * of table that the caller may not see?  sql_other returns a row for such a
 * use: $1 the e-mail, $2 the row being written (0 on create), $3 the
 * caller's tenant.  Then the answer is the one an invalid address gets (400
 * invalid "email"), so that another tenant's staff or tenants cannot be
 * found out by trying addresses; the caller's own rows still get the 409 of
 * the unique constraint.  0 when free, or negative after answering.
 */
int api_email_hidden_conflict(struct api_write *w, const struct api_field *fields,
                              const char *sql_other, struct err *e);

struct api_resource {
    const char *right;      /* the role matrix's resource: "branches" */
    const char *self_right; /* NULL, or the right on one's own row (read, update): "users_self" */
    bool is_tenant;         /* the row is the session's tenant itself: no {id}, no tenant_id */
    const char *table;
    const char *columns; /* what a row shows, its id first */
    const char *types;   /* api_row_json() letters, one per column */
    const char *what;    /* in messages: "no branch '7'" */
    const struct api_field *fields;
    const char *const *skip; /* fields that are no column (a password); NULL-terminated or NULL */
    const char *unique;      /* the field a unique violation names (409 duplicate); NULL: none */
    const char *a_what;      /* "a branch with this 'name' already exists" */

    /* The list: filters, then (may be NULL) a hook adding its own
     * conditions to q; text it passes as parameters it leaves in keep[0..3],
     * freed once the query has run. */
    const struct api_filter *filters;
    /* NULL, or what a PROFESSIONAL may read of the table: a condition that
     * its user id completes, then ")" is added ("id IN (SELECT client_id
     * FROM appointments WHERE professional_id = ").  Other rows are 404. */
    const char *pro_scope;
    int (*list_where)(struct http_req *req, struct api_sql *q, char *keep[4], struct err *e);

    /* Create and PATCH (each may be NULL): check runs after the body is
     * validated, before the database; prepare with the database, before
     * the write; done after it, before the answer. */
    api_write_hook check, prepare, done;

    /* Delete: a query ($1 = id, $2 = tenant) returning a row when
     * something refers to the row (NULL: the foreign keys decide), and a
     * hook as api_resource_delete() describes. */
    const char *refs_sql;
    int (*delete_hook)(struct http_req *req, struct db *db, const struct api_auth *a, int64_t id,
                       bool done, struct err *e);
};

/*
 * GET /RESOURCE: the read right; page (limit, cursor) and the filters from
 * the query string; answers {"items":[...],"next_cursor":...} in id order.
 */
int api_resource_list(struct http_req *req, const struct api_resource *res, struct err *e);

/*
 * GET /RESOURCE/{id} (or the tenant's own row): the read right (or the
 * self right on one's own row); the row, or 404 "no WHAT 'ID'".
 */
int api_resource_get(struct http_req *req, const struct api_resource *res, struct err *e);

/*
 * POST /RESOURCE: the create right; the body checked against the field
 * table, the hooks, INSERT; a unique violation answers 409 naming
 * res->unique; 201 with the row.
 */
int api_resource_create(struct http_req *req, const struct api_resource *res, struct err *e);

/*
 * PATCH /RESOURCE/{id}: the update right (or the self right on one's own
 * row); the present fields of the body set, updated_at too; 404 when the
 * tenant has no such row; 409 as create; 200 with the row.
 */
int api_resource_update(struct http_req *req, const struct api_resource *res, struct err *e);

/*
 * DELETE /RESOURCE/{id}: the delete right, 404 when the tenant has no such
 * row; when refs_sql returns a row, or the database refuses the DELETE for
 * a foreign key, the row is deactivated instead (active = false) and the
 * answer is 200 {"id":…,"deactivated":true,"message":…}; otherwise it is
 * deleted, 204.  delete_hook (may be NULL) is called twice: before
 * anything changes (done false; it may refuse by answering and returning a
 * negative code), and once the row is deactivated or deleted (done true;
 * e.g. ending a user's sessions).
 */
int api_resource_delete(struct http_req *req, const struct api_resource *res, struct err *e);

/*
 * For a hook: set column to value beside the body's fields (a text value
 * must outlive the request's write: keep it in w->secret).  At most
 * API_WRITE_EXTRA of them.
 */
void api_write_extra(struct api_write *w, const char *column, struct db_param value);

/*
 * The body's field (an API_T_ID value, skipped when absent or null) must
 * name a row of table in the tenant: else answer 404 naming field, "no
 * WHAT 'ID' in this tenant", and return -ERR_NOT_FOUND.
 */
int api_resource_check_ref(struct http_req *req, struct db *db, const char *table, const char *what,
                           const char *field, const struct api_value *v, int64_t tenant_id,
                           struct err *e);

/*
 * User user_id must be a PROFESSIONAL of the tenant: else 404 naming field
 * ("no user 'ID' in this tenant") or 400 naming it ("user 'ID' is not a
 * PROFESSIONAL: only professionals WHY").  Returns 0 or the negative code
 * after answering; a database failure is returned unanswered.
 */
int api_resource_check_professional(struct http_req *req, struct db *db, const char *field,
                                    int64_t user_id, int64_t tenant_id, const char *why,
                                    struct err *e);

#endif
