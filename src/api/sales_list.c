/*
 * sales_list — GET /api/v1/sales: the tickets of a period, each with its
 * lines named and what it was paid with per method, and who recorded it
 * (see money.h).  Three queries for a page, whatever its length: the
 * sales, then the lines and the payments of those same sales.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/booking.h"
#include "api/money.h"
#include "api/validate.h"
#include "common/tz.h"
#include "common/util.h"

#define SALES_MAX_DAYS 366

/* The page's sales; $1 tenant, $2 from, $3 to, $4 after id, $5 the branch. */
static void page_where(struct buf *sql, bool has_branch)
{
    buf_adds(sql, "s.tenant_id = $1 AND s.sold_at >= $2 AND s.sold_at < $3 AND s.id > $4");
    if (has_branch)
        buf_adds(sql, " AND s.branch_id = $5");
}

/*
 * Run head || sub || tail (sub: the page's sale ids, a subquery) and append
 * each row (its first column the sale id, dropped) to that sale's array key.
 */
static int attach(struct db *db, const char *head, const struct buf *sub, const char *tail, int np,
                  const struct db_param *params, json_t *by_id, const char *key, const char *types,
                  struct err *e)
{
    struct buf sql = BUF_INIT;
    struct db_res *r = NULL;
    int rc;

    buf_adds(&sql, head);
    buf_adds(&sql, buf_str(sub));
    buf_adds(&sql, tail);
    rc = db_query(db, buf_str(&sql), np, params, &r, e);
    while (rc >= 0 && db_res_next(r)) {
        char id[24];
        json_t *sale, *row;

        snprintf(id, sizeof(id), "%" PRId64, db_res_int(r, 0));
        sale = json_object_get(by_id, id);
        row = api_row_json(r, types);
        if (row == NULL) {
            rc = err_set(e, ERR_INTERNAL, "a sale's %s is not UTF-8", key);
            break;
        }
        json_object_del(row, "sale_id");
        if (sale == NULL)
            json_decref(row);
        else
            json_array_append_new(json_object_get(sale, key), row);
    }
    db_res_free(r);
    buf_release(&sql);
    return rc < 0 ? rc : 0;
}

int api_sales_list(struct http_req *req, struct err *e)
{
    struct db_param params[5];
    struct api_auth au;
    struct api_page page;
    struct buf sql = BUF_INIT, sub = BUF_INIT;
    struct db_res *r = NULL;
    struct db *db = NULL;
    json_t *items = NULL, *by_id = NULL, *next = NULL;
    char from_txt[32], to_txt[32];
    int64_t from = 0, to = 0, branch_id = 0;
    bool has_branch = false;
    int np, rc;

    if (api_auth_require(req, "sales", API_ACT_READ, &au) < 0)
        return 0;
    if ((rc = api_page_parse(req, &page, e)) < 0 ||
        (rc = api_query_id(req, "branch_id", &branch_id, &has_branch, e)) < 0 ||
        (rc = api_worker_db(http_req_worker(req), &db, e)) < 0 ||
        (rc = api_booking_range(req, db, au.tenant_id, SALES_MAX_DAYS, &from, &to, e)) < 0)
        goto cleanup;
    tz_format_instant(from, from_txt);
    tz_format_instant(to, to_txt);
    params[0] = DB_INT(au.tenant_id);
    params[1] = DB_TEXT(from_txt);
    params[2] = DB_TEXT(to_txt);
    params[3] = DB_INT(page.after_id);
    params[4] = DB_INT(branch_id);
    np = has_branch ? 5 : 4;

    buf_adds(&sql,
             "SELECT s.id, s.branch_id, s.client_id, s.total_cents, s.recorded_by, s.sold_at, "
             "s.notes, (SELECT u.first_name || ' ' || u.last_name FROM users u "
             "WHERE u.tenant_id = s.tenant_id AND u.id = s.recorded_by) AS recorded_by_name, "
             "(SELECT c.first_name || ' ' || c.last_name FROM clients c "
             "WHERE c.tenant_id = s.tenant_id AND c.id = s.client_id) AS client_name "
             "FROM sales s WHERE ");
    page_where(&sql, has_branch);
    buf_addf(&sql, " ORDER BY s.id LIMIT %d", page.limit + 1);
    rc = db_query(db, buf_str(&sql), np, params, &r, e);
    if (rc < 0)
        goto cleanup;
    items = json_array();
    by_id = json_object();
    while (db_res_next(r)) {
        json_t *o = api_row_json(r, "iiiiitsss");

        if (o == NULL) {
            rc = err_set(e, ERR_INTERNAL, "a sale of the list is not UTF-8");
            goto cleanup;
        }
        json_object_set_new(o, "lines", json_array());
        json_object_set_new(o, "methods", json_array());
        json_array_append_new(items, o);
    }
    db_res_free(r);
    r = NULL;
    /* One row more than the page says that another page follows. */
    if (json_array_size(items) > (size_t)page.limit) {
        json_int_t last;
        char *c;

        json_array_remove(items, (size_t)page.limit);
        last = json_integer_value(json_object_get(json_array_get(items, page.limit - 1), "id"));
        c = api_cursor_encode((int64_t)last);
        next = json_string(c);
        free(c);
    }
    {
        size_t i;
        json_t *o;

        json_array_foreach(items, i, o)
        {
            char id[24];

            snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(o, "id")));
            json_object_set(by_id, id, o);
        }
    }

    /* The same sales again, as a subquery of their lines and payments. */
    buf_adds(&sub, "SELECT s.id FROM sales s WHERE ");
    page_where(&sub, has_branch);
    buf_addf(&sub, " ORDER BY s.id LIMIT %d)", page.limit);
    rc = attach(db,
                "SELECT l.sale_id, l.kind, COALESCE(p.name, sv.name) AS name, l.quantity, "
                "l.amount_cents FROM sale_lines l "
                "LEFT JOIN products p ON p.tenant_id = l.tenant_id AND p.id = l.product_id "
                "LEFT JOIN appointments a ON a.tenant_id = l.tenant_id "
                "AND a.id = l.appointment_id "
                "LEFT JOIN services sv ON sv.tenant_id = a.tenant_id AND sv.id = a.service_id "
                "WHERE l.tenant_id = $1 AND l.sale_id IN (",
                &sub, " ORDER BY l.sale_id, l.id", np, params, by_id, "lines", "issii", e);
    if (rc < 0)
        goto cleanup;
    rc = attach(db,
                "SELECT sale_id, method, SUM(amount_cents) AS amount_cents, "
                "SUM(tip_cents) AS tip_cents FROM payments WHERE tenant_id = $1 "
                "AND sale_id IN (",
                &sub, " GROUP BY sale_id, method ORDER BY sale_id, method", np, params, by_id,
                "methods", "isii", e);
    if (rc < 0)
        goto cleanup;
    rc = http_reply_json(
        req, 200,
        json_pack("{s:o, s:o}", "items", items, "next_cursor", next != NULL ? next : json_null()));
    items = next = NULL;

cleanup:
    db_res_free(r);
    json_decref(items);
    json_decref(by_id);
    json_decref(next);
    buf_release(&sql);
    buf_release(&sub);
    return rc;
}
