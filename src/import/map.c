/*
 * map — the original CitaPlanner's rows, table by table, mapped into ours.
 * See import.h for the rules.  Every function reads one tenant's rows from
 * the source (its quoted camelCase columns) and writes ours on the target,
 * inside the tenant's transaction, recording each row in import_map.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/password.h"
#include "common/util.h"
#include "import/import.h"

/* A source timestamp (Prisma: timestamp(3) without time zone, in UTC) as our instant text. */
#define TS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SS') || '+00'"

void import_note_add(struct import_table_report *t, const char *sid, bool refused, const char *fmt,
                     ...)
{
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->notes = xrealloc(t->notes, sizeof(*t->notes) * (size_t)(t->nnotes + 1));
    t->notes[t->nnotes].source_id = xstrdup(sid != NULL ? sid : "");
    t->notes[t->nnotes].refused = refused;
    t->notes[t->nnotes].reason = xstrdup(msg);
    t->nnotes++;
    if (refused)
        t->refused++;
    else
        t->changed++;
}

int import_map_get(struct import_ctx *c, const char *table, const char *sid, int64_t *out,
                   struct err *e)
{
    int rc;

    *out = 0;
    if (sid == NULL)
        return 0;
    rc = db_query_int(c->dst,
                      "SELECT target_id FROM import_map WHERE source_table = $1 AND source_id = $2",
                      DB_PARAMS(DB_TEXT(table), DB_TEXT(sid)), out, e);
    if (rc == 1) {
        *out = 0;
        rc = 0;
    }
    return rc;
}

int import_map_put(struct import_ctx *c, const char *table, const char *sid, int64_t id,
                   struct err *e)
{
    return db_exec_params(c->dst,
                          "INSERT INTO import_map (source_table, source_id, target_id) VALUES "
                          "($1, $2, $3)",
                          DB_PARAMS(DB_TEXT(table), DB_TEXT(sid), DB_INT(id)), NULL, e);
}

/* INSERT … RETURNING id. */
static int insert_id(struct import_ctx *c, const char *sql, int n, const struct db_param *p,
                     int64_t *id, struct err *e)
{
    int rc = db_query_int(c->dst, sql, n, p, id, e);
    if (rc == 1)
        rc = err_set(e, ERR_INTERNAL, "an INSERT returned no id");
    return rc;
}

/* The rows of one source query for the tenant; fn maps each.  Counts read / already. */
typedef int (*row_fn)(struct import_ctx *c, struct db_res *res, int64_t tid,
                      struct import_table_report *t, struct err *e);

static int each_row(struct import_ctx *c, enum import_table which, const char *sql, const char *tid,
                    int64_t new_tid, row_fn fn, struct err *e)
{
    struct import_table_report *t = &c->r->t[which];
    struct db_res *res = NULL;
    int rc;

    if (c->fail_at != NULL && strcmp(c->fail_at, t->source) == 0)
        return err_set(e, ERR_INTERNAL, "failing on reaching '%s' (CITAPLANNER_IMPORT_FAIL_AT)",
                       t->source);
    rc = db_query(c->src, sql, DB_PARAMS(DB_TEXT(tid)), &res, e);
    if (rc < 0) {
        err_prefix(e, "cannot read the original's '%s'", t->source);
        goto cleanup;
    }
    while ((rc = db_res_next(res)) == 1) {
        int64_t have = 0;
        const char *sid = db_res_text(res, 0);
        t->read++;
        rc = import_map_get(c, t->source, sid, &have, e);
        if (rc < 0)
            break;
        if (have > 0) {
            t->already++;
            continue;
        }
        rc = fn(c, res, new_tid, t, e);
        if (rc < 0) {
            err_prefix(e, "%s '%s'", t->source, sid);
            break;
        }
    }

cleanup:
    db_res_free(res);
    return rc < 0 ? rc : 0;
}

#define COL(i) db_res_text(res, (i))

/* Record the row imported: map it, count it. */
static int done(struct import_ctx *c, struct import_table_report *t, const char *sid, int64_t id,
                struct err *e)
{
    int rc = import_map_put(c, t->source, sid, id, e);
    if (rc == 0)
        t->imported++;
    return rc;
}

static int ref(struct import_ctx *c, const char *table, const char *sid, int64_t *id, struct err *e)
{
    return import_map_get(c, table, sid, id, e);
}

static int branch_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                      struct import_table_report *t, struct err *e)
{
    int64_t id = 0;
    int rc = insert_id(c,
                       "INSERT INTO branches (tenant_id, name, email, phone, address, active, "
                       "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                       DB_PARAMS(DB_INT(tid), DB_TEXT(COL(1)), DB_TEXT(COL(2)), DB_TEXT(COL(3)),
                                 DB_TEXT(COL(4)), DB_BOOL(db_res_bool(res, 5)), DB_TEXT(COL(6))),
                       &id, e);
    return rc < 0 ? rc : done(c, t, COL(0), id, e);
}

static int user_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                    struct import_table_report *t, struct err *e)
{
    const char *sid = COL(0), *hash = COL(2), *role = COL(6);
    int64_t id = 0, branch = 0;
    int rc;

    if (strcmp(role, "CLIENT") == 0) {
        import_note_add(t, sid, true,
                        "role CLIENT: a client's portal login has no place among our staff "
                        "users (the person stays in clients when they are one)");
        return 0;
    }
    if (strcmp(role, "ADMIN") != 0 && strcmp(role, "MANAGER") != 0 &&
        strcmp(role, "PROFESSIONAL") != 0 && strcmp(role, "RECEPTIONIST") != 0 &&
        strcmp(role, "SUPERADMIN") != 0) {
        import_note_add(t, sid, true, "unknown role '%s'", role);
        return 0;
    }
    if (hash == NULL || !password_hash_valid(hash)) {
        import_note_add(t, sid, true, "no bcrypt password hash ($2a$/$2b$): cannot log in");
        return 0;
    }
    rc = ref(c, "branches", COL(8), &branch, e);
    if (rc < 0)
        return rc;
    if (strcmp(role, "SUPERADMIN") == 0) {
        import_note_add(t, sid, false,
                        "role SUPERADMIN imported as ADMIN of its tenant (the "
                        "whole installation is the master admin's)");
        role = "ADMIN";
    }
    rc = insert_id(c,
                   "INSERT INTO users (tenant_id, branch_id, email, password_hash, first_name, "
                   "last_name, phone, role, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, "
                   "$7, $8, $9, $10) RETURNING id",
                   DB_PARAMS(DB_INT(tid), branch > 0 ? DB_INT(branch) : DB_NULL, DB_TEXT(COL(1)),
                             DB_TEXT(hash), DB_TEXT(COL(3)), DB_TEXT(COL(4)), DB_TEXT(COL(5)),
                             DB_TEXT(role), DB_BOOL(db_res_bool(res, 7)), DB_TEXT(COL(9))),
                   &id, e);
    return rc < 0 ? rc : done(c, t, sid, id, e);
}

static int service_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                       struct import_table_report *t, struct err *e)
{
    const char *sid = COL(0);
    int64_t id = 0, cents = db_res_int(res, 4);
    int rc;

    if (db_res_int(res, 3) <= 0 || cents < 0) {
        import_note_add(t, sid, true, "duration %s min or price %s out of range", COL(3), COL(6));
        return 0;
    }
    if (db_res_bool(res, 5))
        import_note_add(t, sid, false, "price %s rounded half-up to %lld.%02lld", COL(6),
                        (long long)(cents / 100), (long long)(cents % 100));
    rc = insert_id(c,
                   "INSERT INTO services (tenant_id, name, description, duration_min, "
                   "price_cents, color, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                   "$8) RETURNING id",
                   DB_PARAMS(DB_INT(tid), DB_TEXT(COL(1)), DB_TEXT(COL(2)),
                             DB_INT(db_res_int(res, 3)), DB_INT(cents), DB_TEXT(COL(7)),
                             DB_BOOL(db_res_bool(res, 8)), DB_TEXT(COL(9))),
                   &id, e);
    return rc < 0 ? rc : done(c, t, sid, id, e);
}

static int service_user_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                            struct import_table_report *t, struct err *e)
{
    const char *sid = COL(0);
    int64_t id = 0, svc = 0, user = 0, pct = db_res_int(res, 3);
    int rc;

    if ((rc = ref(c, "services", COL(1), &svc, e)) < 0 ||
        (rc = ref(c, "users", COL(2), &user, e)) < 0)
        return rc;
    if (svc == 0 || user == 0) {
        import_note_add(t, sid, true, "its %s was not imported", svc == 0 ? "service" : "user");
        return 0;
    }
    if (pct < 0 || pct > 100) {
        import_note_add(t, sid, true, "commission %s%% out of 0-100", COL(5));
        return 0;
    }
    if (db_res_bool(res, 4))
        import_note_add(t, sid, false, "commission %s%% rounded to %lld%%", COL(5), (long long)pct);
    rc = insert_id(c,
                   "INSERT INTO service_professionals (tenant_id, service_id, user_id, "
                   "commission_pct, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                   DB_PARAMS(DB_INT(tid), DB_INT(svc), DB_INT(user), DB_INT(pct), DB_TEXT(COL(6))),
                   &id, e);
    return rc < 0 ? rc : done(c, t, sid, id, e);
}

static int client_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                      struct import_table_report *t, struct err *e)
{
    int64_t id = 0;
    int rc = insert_id(c,
                       "INSERT INTO clients (tenant_id, first_name, last_name, phone, email, "
                       "notes, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                       "RETURNING id",
                       DB_PARAMS(DB_INT(tid), DB_TEXT(COL(1)), DB_TEXT(COL(2)), DB_TEXT(COL(3)),
                                 DB_TEXT(COL(4)), DB_TEXT(COL(5)), DB_BOOL(db_res_bool(res, 6)),
                                 DB_TEXT(COL(7))),
                       &id, e);
    return rc < 0 ? rc : done(c, t, COL(0), id, e);
}

static int hours_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                     struct import_table_report *t, struct err *e)
{
    const char *sid = COL(0);
    int64_t id = 0, branch = 0, user = 0;
    int rc;

    if (!db_res_bool(res, 6)) {
        import_note_add(t, sid, true, "inactive working hours: ours have no inactive state");
        return 0;
    }
    if ((rc = ref(c, "branches", COL(1), &branch, e)) < 0 ||
        (rc = ref(c, "users", COL(2), &user, e)) < 0)
        return rc;
    if (branch == 0 || (COL(2) != NULL && user == 0)) {
        import_note_add(t, sid, true, "its %s was not imported", branch == 0 ? "branch" : "user");
        return 0;
    }
    rc = insert_id(c,
                   "INSERT INTO working_hours (tenant_id, branch_id, user_id, day_of_week, "
                   "start_time, end_time, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                   "RETURNING id",
                   DB_PARAMS(DB_INT(tid), DB_INT(branch), user > 0 ? DB_INT(user) : DB_NULL,
                             DB_INT(db_res_int(res, 3)), DB_TEXT(COL(4)), DB_TEXT(COL(5)),
                             DB_TEXT(COL(7))),
                   &id, e);
    return rc < 0 ? rc : done(c, t, sid, id, e);
}

/* Appointments come ordered by professional and start: the overlap rule needs the previous. */
struct appt_state {
    char prof[64];
    char end[32]; /* the latest end among the professional's active appointments so far */
    char end_id[64];
};
static struct appt_state appt_last;

static bool active_status(const char *s)
{
    return strcmp(s, "PENDING") == 0 || strcmp(s, "CONFIRMED") == 0 || strcmp(s, "COMPLETED") == 0;
}

static int appt_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                    struct import_table_report *t, struct err *e)
{
    const char *sid = COL(0), *prof = COL(4), *start = COL(5), *end = COL(6);
    const char *status = COL(7);
    int64_t id = 0, branch = 0, client = 0, svc = 0, user = 0;
    int rc;

    if ((rc = ref(c, "branches", COL(1), &branch, e)) < 0 ||
        (rc = ref(c, "clients", COL(2), &client, e)) < 0 ||
        (rc = ref(c, "services", COL(3), &svc, e)) < 0 ||
        (rc = ref(c, "users", prof, &user, e)) < 0)
        return rc;
    if (branch == 0 || client == 0 || svc == 0 || user == 0) {
        import_note_add(t, sid, true, "its %s was not imported",
                        branch == 0   ? "branch"
                        : client == 0 ? "client"
                        : svc == 0    ? "service"
                                      : "professional");
        return 0;
    }
    if (strcmp(appt_last.prof, prof) != 0) {
        snprintf(appt_last.prof, sizeof(appt_last.prof), "%s", prof);
        appt_last.end[0] = '\0';
    }
    if (active_status(status)) {
        if (appt_last.end[0] != '\0' && strcmp(start, appt_last.end) < 0) {
            import_note_add(t, sid, false,
                            "overlaps '%s' of the same professional (until %s), which our rule "
                            "forbids: imported as CANCELLED",
                            appt_last.end_id, appt_last.end);
            status = "CANCELLED";
        } else if (strcmp(end, appt_last.end) > 0) {
            snprintf(appt_last.end, sizeof(appt_last.end), "%s", end);
            snprintf(appt_last.end_id, sizeof(appt_last.end_id), "%s", sid);
        }
    }
    rc = insert_id(c,
                   "INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, "
                   "professional_id, start_at, end_at, status, price_cents, notes, created_at) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                   DB_PARAMS(DB_INT(tid), DB_INT(branch), DB_INT(client), DB_INT(svc), DB_INT(user),
                             DB_TEXT(start), DB_TEXT(end), DB_TEXT(status),
                             DB_INT(db_res_int(res, 8)), DB_TEXT(COL(9)), DB_TEXT(COL(10))),
                   &id, e);
    return rc < 0 ? rc : done(c, t, sid, id, e);
}

static int payment_row(struct import_ctx *c, struct db_res *res, int64_t tid,
                       struct import_table_report *t, struct err *e)
{
    const char *sid = COL(0);
    int64_t id = 0, appt = 0, user = 0, cents = db_res_int(res, 2);
    int rc;

    if ((rc = ref(c, "appointments", COL(1), &appt, e)) < 0 ||
        (rc = ref(c, "users", COL(7), &user, e)) < 0)
        return rc;
    if (cents <= 0) {
        import_note_add(t, sid, true, "amount %s is not positive", COL(4));
        return 0;
    }
    if (db_res_bool(res, 3))
        import_note_add(t, sid, false, "amount %s rounded half-up to %lld.%02lld", COL(4),
                        (long long)(cents / 100), (long long)(cents % 100));
    rc = insert_id(c,
                   "INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, status, "
                   "recorded_by, paid_at, notes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                   "$8, $7) RETURNING id",
                   DB_PARAMS(DB_INT(tid), appt > 0 ? DB_INT(appt) : DB_NULL, DB_INT(cents),
                             DB_TEXT(COL(5)), DB_TEXT(COL(6)), user > 0 ? DB_INT(user) : DB_NULL,
                             DB_TEXT(COL(8)), DB_TEXT(COL(9))),
                   &id, e);
    return rc < 0 ? rc : done(c, t, sid, id, e);
}

int import_tenant_rows(struct import_ctx *c, const char *tid, int64_t new_tid, struct err *e)
{
    int rc;

    memset(&appt_last, 0, sizeof(appt_last));
    if ((rc = each_row(c, IMP_BRANCHES,
                       "SELECT id, name, email, phone, address, \"isActive\", " TS(
                           "\"createdAt\"") " FROM branches WHERE \"tenantId\" = $1 ORDER BY "
                                            "\"createdAt\", id",
                       tid, new_tid, branch_row, e)) < 0 ||
        (rc = each_row(
             c, IMP_USERS,
             "SELECT id, email, password, \"firstName\", \"lastName\", phone, "
             "role::text, \"isActive\", \"branchId\", " TS(
                 "\"createdAt\"") " FROM users WHERE \"tenantId\" = $1 ORDER BY \"createdAt\", id",
             tid, new_tid, user_row, e)) < 0 ||
        (rc = each_row(c, IMP_SERVICES,
                       "SELECT id, name, description, duration, "
                       "(round(price::numeric, 2) * 100)::bigint, "
                       "price::numeric <> round(price::numeric, 2), price::text, color, "
                       "\"isActive\", " TS("\"createdAt\"") " FROM services WHERE \"tenantId\" = "
                                                            "$1 ORDER BY \"createdAt\", id",
                       tid, new_tid, service_row, e)) < 0 ||
        (rc = each_row(
             c, IMP_SERVICE_USERS,
             "SELECT su.id, su.\"serviceId\", su.\"userId\", "
             "round(su.commission::numeric)::bigint, "
             "su.commission::numeric <> round(su.commission::numeric), "
             "su.commission::text, " TS(
                 "su.\"createdAt\"") " FROM service_users su JOIN services s ON s.id = "
                                     "su.\"serviceId\" "
                                     "WHERE s.\"tenantId\" = $1 ORDER BY su.\"createdAt\", su.id",
             tid, new_tid, service_user_row, e)) < 0 ||
        (rc = each_row(c, IMP_CLIENTS,
                       "SELECT id, \"firstName\", \"lastName\", phone, email, notes, "
                       "\"isActive\", " TS("\"createdAt\"") " FROM clients WHERE \"tenantId\" = $1 "
                                                            "ORDER BY \"createdAt\", id",
                       tid, new_tid, client_row, e)) < 0 ||
        (rc = each_row(
             c, IMP_WORKING_HOURS,
             "SELECT w.id, w.\"branchId\", w.\"userId\", w.\"dayOfWeek\", "
             "w.\"startTime\", w.\"endTime\", w.\"isActive\", " TS(
                 "w.\"createdAt\"") " FROM working_hours w JOIN branches b ON b.id = "
                                    "w.\"branchId\" "
                                    "WHERE b.\"tenantId\" = $1 ORDER BY w.\"createdAt\", w.id",
             tid, new_tid, hours_row, e)) < 0 ||
        (rc = each_row(
             c, IMP_APPOINTMENTS,
             "SELECT a.id, a.\"branchId\", a.\"clientId\", a.\"serviceId\", "
             "a.\"userId\", " TS("a.\"startTime\"") ", " TS(
                 "a.\"endTime\"") ", a.status::text, (round(s.price::numeric, 2) * 100)::bigint, "
                                  "a.notes, " TS("a.\"createdAt\"") " FROM appointments a JOIN "
                                                                    "services s ON s.id = "
                                                                    "a.\"serviceId\" "
                                                                    "WHERE a.\"tenantId\" = $1 "
                                                                    "ORDER BY a.\"userId\", "
                                                                    "a.\"startTime\", "
                                                                    "a.\"createdAt\", a.id",
             tid, new_tid, appt_row, e)) < 0 ||
        (rc = each_row(c, IMP_PAYMENTS,
                       "SELECT id, \"appointmentId\", (round(amount::numeric, 2) * 100)::bigint, "
                       "amount::numeric <> round(amount::numeric, 2), amount::text, "
                       "\"paymentMethod\"::text, status::text, \"userId\", " TS(
                           "\"createdAt\"") ", notes"
                                            " FROM payments WHERE \"tenantId\" = $1 ORDER BY "
                                            "\"createdAt\", id",
                       tid, new_tid, payment_row, e)) < 0)
        return rc;
    return 0;
}
