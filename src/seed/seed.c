/*
 * seed — see seed.h.
 *
 * The demo data sits in the tables at the top of this file; the code below
 * walks them in dependency order (tenant, branch, users, services,
 * assignments, clients, working hours, appointments and payments), each
 * step "find by natural key, else insert", all inside one transaction.
 *
 * SQL is the same in both dialects except for the PostgreSQL advisory lock
 * that serializes two seeds (SQLite's BEGIN IMMEDIATE already does).
 * Instants are bound as the database's instant text (tz_format_instant), so
 * comparisons work in both: PostgreSQL casts the text to timestamptz, and
 * SQLite compares text of one fixed format, whose order is time order.
 */
#include "seed/seed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/password.h"
#include "common/tz.h"
#include "common/util.h"

/* pg_advisory_xact_lock key: "citaseed" in ASCII, a constant no one else uses. */
#define SEED_PG_LOCK_SQL "SELECT pg_advisory_xact_lock(7163375347473245540)"

#define MARKER_PREFIX "seed.demo_appointments.tenant."

/* Blocking statuses of the no-double-booking rule (shared data model). */
#define BLOCKING_STATUSES "('PENDING','CONFIRMED','COMPLETED')"

/* Start times are tried every quarter hour. */
#define SLOT_STEP_MIN 15

/* How far a closed or full day may move the appointment. */
#define MAX_DAY_SHIFT 14

/* Working-hour intervals kept per weekday. */
#define MAX_INTERVALS 8

/* ---------------------------------------------------------------- the data */

static const struct {
    const char *name, *email, *phone, *address, *city, *country, *timezone, *currency;
} demo_tenant = {
    .name = "Bella Vita Spa & Wellness",
    .email = "contacto@bellavita.com",
    .phone = "+52 55 5555 0100",
    .address = "Av. Presidente Masaryk 123, Polanco",
    .city = "Ciudad de México",
    .country = "México",
    .timezone = "America/Mexico_City",
    .currency = "MXN",
};

static const struct {
    const char *name, *email, *phone, *address;
} demo_branch = {
    .name = "Sucursal Centro",
    .email = "centro@bellavita.com",
    .phone = "+52 55 5555 0101",
    .address = "Calle Francisco I. Madero 45, Centro Histórico",
};

enum { U_ADMIN, U_MANAGER, U_PRO1, U_PRO2, U_RECEPTION, N_USERS };

static const struct demo_user {
    const char *email, *password, *role, *first_name, *last_name, *phone;
    bool in_branch;
} demo_users[N_USERS] = {
    {"admin@citaplanner.com", "admin123", "ADMIN", "Valeria", "Mendoza", "+52 55 5555 0110", false},
    {"manager@citaplanner.com", "manager123", "MANAGER", "Ricardo", "Fuentes", "+52 55 5555 0111",
     false},
    {"pro1@citaplanner.com", "prof123", "PROFESSIONAL", "Lucía", "Navarro", "+52 55 5555 0112",
     true},
    {"pro2@citaplanner.com", "prof123", "PROFESSIONAL", "Andrés", "Ortega", "+52 55 5555 0113",
     true},
    {"recepcionista@citaplanner.com", "prof123", "RECEPTIONIST", "Mariana", "Ruiz",
     "+52 55 5555 0114", true},
};

enum {
    S_FACIAL,
    S_MASAJE_RELAJANTE,
    S_MANICURE,
    S_CORTE,
    S_LIMPIEZA,
    S_MASAJE_TERAPEUTICO,
    N_SERVICES
};

static const struct demo_service {
    const char *name, *description, *color;
    int minutes;
    int pesos;
} demo_services[N_SERVICES] = {
    {"Facial Hidratante", "Limpieza suave, exfoliación y mascarilla hidratante.", "#F472B6", 60,
     850},
    {"Masaje Relajante", "Masaje de cuerpo completo con aceites esenciales.", "#60A5FA", 90, 1200},
    {"Manicure y Pedicure", "Cuidado completo de manos y pies con esmaltado.", "#F59E0B", 120, 650},
    {"Corte de Cabello", "Corte y peinado con lavado incluido.", "#34D399", 45, 450},
    {"Limpieza Facial Profunda", "Extracción, vapor y mascarilla purificante.", "#A78BFA", 75, 950},
    {"Masaje Terapéutico", "Masaje de tejido profundo para contracturas.", "#F87171", 60, 1000},
};

static const struct {
    int user, service, commission_pct;
} demo_assignments[] = {
    {U_PRO1, S_FACIAL, 40},           {U_PRO1, S_LIMPIEZA, 45},           {U_PRO1, S_MANICURE, 30},
    {U_PRO2, S_MASAJE_RELAJANTE, 35}, {U_PRO2, S_MASAJE_TERAPEUTICO, 40}, {U_PRO2, S_CORTE, 50},
};
#define N_ASSIGNMENTS (int)(sizeof(demo_assignments) / sizeof(demo_assignments[0]))

enum { N_CLIENTS = 6 };

static const struct demo_client {
    const char *first_name, *last_name, *phone, *email;
} demo_clients[N_CLIENTS] = {
    {"Isabella", "Torres", "+52 55 1111 0001", "isabella.torres@example.com"},
    {"Diego", "Hernández", "+52 55 1111 0002", "diego.hernandez@example.com"},
    {"Sofía", "Ramírez", "+52 55 1111 0003", "sofia.ramirez@example.com"},
    {"Alejandro", "Morales", "+52 55 1111 0004", "alejandro.morales@example.com"},
    {"Camila", "Vega", "+52 55 1111 0005", "camila.vega@example.com"},
    {"Fernando", "Castro", "+52 55 1111 0006", "fernando.castro@example.com"},
};

/* Branch default hours: Monday-Friday 09:00-18:00, Saturday 10:00-16:00. */
static const struct {
    int day_of_week;
    const char *start, *end;
} demo_hours[] = {
    {1, "09:00", "18:00"}, {2, "09:00", "18:00"}, {3, "09:00", "18:00"},
    {4, "09:00", "18:00"}, {5, "09:00", "18:00"}, {6, "10:00", "16:00"},
};
#define N_HOURS (int)(sizeof(demo_hours) / sizeof(demo_hours[0]))

/*
 * The six appointments: day relative to today, status, client, service,
 * preferred start (minutes after midnight), and the payment method of a
 * completed one.
 */
static const struct demo_appointment {
    int day;
    const char *status;
    int client, service;
    int preferred_min;
    const char *payment_method; /* NULL: no payment */
} demo_appointments[] = {
    {0, "CONFIRMED", 0, S_FACIAL, 10 * 60, NULL},
    {0, "PENDING", 1, S_MASAJE_RELAJANTE, 12 * 60, NULL},
    {1, "CONFIRMED", 2, S_MANICURE, 11 * 60, NULL},
    {-1, "COMPLETED", 3, S_CORTE, 10 * 60, "CASH"},
    {-2, "COMPLETED", 4, S_LIMPIEZA, 12 * 60, "CREDIT_CARD"},
    {-3, "COMPLETED", 5, S_MASAJE_TERAPEUTICO, 13 * 60, "TRANSFER"},
};
#define N_APPOINTMENTS (int)(sizeof(demo_appointments) / sizeof(demo_appointments[0]))

/* ------------------------------------------------------------- the state */

struct seed_ctx {
    struct db *db;
    struct seed_report *r;
    struct err *e;
    int64_t now;
    int64_t tenant_id, branch_id;
    char *zone;     /* the branch's time zone, else the tenant's */
    char *currency; /* the tenant's */
    int64_t user_ids[N_USERS];
    int64_t service_ids[N_SERVICES];
    int64_t service_minutes[N_SERVICES];
    int64_t service_price[N_SERVICES];
    int64_t client_ids[N_CLIENTS];
};

struct interval {
    int start, end; /* minutes after midnight, start < end */
};

/* The branch's default hours, per weekday (0 = Sunday). */
struct week {
    struct interval iv[7][MAX_INTERVALS];
    int n[7];
};

/* ------------------------------------------------------------- the report */

static void report_add(struct seed_report *r, const char *entity, const char *key,
                       enum seed_result result)
{
    struct seed_item *it;
    char *label = xstrdup(entity);

    for (char *p = label; *p != '\0'; p++)
        if (*p == '_')
            *p = ' ';
    r->items = xrealloc(r->items, sizeof(*r->items) * (size_t)(r->count + 1));
    it = &r->items[r->count++];
    it->entity = xstrdup(entity);
    it->key = xstrdup(key);
    it->result = result;
    it->line = xasprintf("%s '%s': %s", label, key,
                         result == SEED_CREATED ? "created" : "already present");
    if (result == SEED_CREATED)
        r->created++;
    else
        r->present++;
    free(label);
}

void seed_report_release(struct seed_report *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->count; i++) {
        free(r->items[i].entity);
        free(r->items[i].key);
        free(r->items[i].line);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- helpers */

/* Run an INSERT ... RETURNING id; a missing row is an error. */
static int insert_returning(struct seed_ctx *c, const char *what, const char *sql, int n,
                            const struct db_param *p, int64_t *id)
{
    int rc = db_query_int(c->db, sql, n, p, id, c->e);
    if (rc == 1)
        rc = err_set(c->e, ERR_DB, "inserting %s returned no id", what);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ steps */

static int seed_tenant(struct seed_ctx *c)
{
    struct db_res *res = NULL;
    const char *zone = NULL;
    int rc;

    rc = db_query(c->db, "SELECT id, timezone, currency FROM tenants WHERE email = $1",
                  DB_PARAMS(DB_TEXT(demo_tenant.email)), &res, c->e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(res) == 1) {
        c->tenant_id = db_res_int(res, 0);
        zone = db_res_text(res, 1);
        c->zone = xstrdup(zone ? zone : "");
        c->currency = xstrdup(db_res_text(res, 2) ? db_res_text(res, 2) : "");
        report_add(c->r, "tenant", demo_tenant.name, SEED_PRESENT);
        goto cleanup;
    }
    rc = insert_returning(
        c, "the tenant",
        "INSERT INTO tenants (name, email, phone, address, city, country, timezone, currency) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        DB_PARAMS(DB_TEXT(demo_tenant.name), DB_TEXT(demo_tenant.email), DB_TEXT(demo_tenant.phone),
                  DB_TEXT(demo_tenant.address), DB_TEXT(demo_tenant.city),
                  DB_TEXT(demo_tenant.country), DB_TEXT(demo_tenant.timezone),
                  DB_TEXT(demo_tenant.currency)),
        &c->tenant_id);
    if (rc < 0)
        goto cleanup;
    c->zone = xstrdup(demo_tenant.timezone);
    c->currency = xstrdup(demo_tenant.currency);
    report_add(c->r, "tenant", demo_tenant.name, SEED_CREATED);

cleanup:
    db_res_free(res);
    return rc;
}

static int seed_branch(struct seed_ctx *c)
{
    struct db_res *res = NULL;
    int rc;

    rc = db_query(c->db, "SELECT id, timezone FROM branches WHERE tenant_id = $1 AND name = $2",
                  DB_PARAMS(DB_INT(c->tenant_id), DB_TEXT(demo_branch.name)), &res, c->e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(res) == 1) {
        const char *tz = db_res_text(res, 1);
        c->branch_id = db_res_int(res, 0);
        /* A branch in its own zone books in that zone. */
        if (tz != NULL && tz[0] != '\0') {
            free(c->zone);
            c->zone = xstrdup(tz);
        }
        report_add(c->r, "branch", demo_branch.name, SEED_PRESENT);
        goto cleanup;
    }
    rc = insert_returning(c, "the branch",
                          "INSERT INTO branches (tenant_id, name, email, phone, address, active) "
                          "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                          DB_PARAMS(DB_INT(c->tenant_id), DB_TEXT(demo_branch.name),
                                    DB_TEXT(demo_branch.email), DB_TEXT(demo_branch.phone),
                                    DB_TEXT(demo_branch.address), DB_BOOL(true)),
                          &c->branch_id);
    if (rc < 0)
        goto cleanup;
    report_add(c->r, "branch", demo_branch.name, SEED_CREATED);

cleanup:
    db_res_free(res);
    return rc;
}

static int seed_user(struct seed_ctx *c, int i)
{
    const struct demo_user *u = &demo_users[i];
    struct db_res *res = NULL;
    char hash[PASSWORD_HASH_SIZE] = "";
    int rc;

    rc = db_query(c->db, "SELECT id, tenant_id FROM users WHERE email = $1",
                  DB_PARAMS(DB_TEXT(u->email)), &res, c->e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(res) == 1) {
        c->user_ids[i] = db_res_int(res, 0);
        /* Linking another tenant's user to this tenant's data would leak it. */
        if (db_res_int(res, 1) != c->tenant_id) {
            rc = err_set(c->e, ERR_DB,
                         "demo user '%s' belongs to another tenant: rename or remove it first",
                         u->email);
            goto cleanup;
        }
        report_add(c->r, "user", u->email, SEED_PRESENT);
        goto cleanup;
    }
    /* Hashing costs ~50 ms: only for a user about to be created. */
    rc = password_hash(u->password, PASSWORD_DEFAULT_COST, hash, sizeof(hash), c->e);
    if (rc < 0)
        goto cleanup;
    rc = insert_returning(
        c, "a user",
        "INSERT INTO users (tenant_id, branch_id, email, password_hash, "
        "first_name, last_name, phone, role, active) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        DB_PARAMS(DB_INT(c->tenant_id), u->in_branch ? DB_INT(c->branch_id) : DB_NULL,
                  DB_TEXT(u->email), DB_TEXT(hash), DB_TEXT(u->first_name), DB_TEXT(u->last_name),
                  DB_TEXT(u->phone), DB_TEXT(u->role), DB_BOOL(true)),
        &c->user_ids[i]);
    if (rc < 0)
        goto cleanup;
    report_add(c->r, "user", u->email, SEED_CREATED);

cleanup:
    secure_zero(hash, sizeof(hash));
    db_res_free(res);
    return rc;
}

static int seed_service(struct seed_ctx *c, int i)
{
    const struct demo_service *s = &demo_services[i];
    struct db_res *res = NULL;
    int rc;

    rc = db_query(c->db,
                  "SELECT id, duration_min, price_cents FROM services "
                  "WHERE tenant_id = $1 AND name = $2",
                  DB_PARAMS(DB_INT(c->tenant_id), DB_TEXT(s->name)), &res, c->e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(res) == 1) {
        /* The appointments take what the service says now, not the demo's numbers. */
        c->service_ids[i] = db_res_int(res, 0);
        c->service_minutes[i] = db_res_int(res, 1);
        c->service_price[i] = db_res_int(res, 2);
        report_add(c->r, "service", s->name, SEED_PRESENT);
        goto cleanup;
    }
    c->service_minutes[i] = s->minutes;
    c->service_price[i] = (int64_t)s->pesos * 100;
    rc = insert_returning(c, "a service",
                          "INSERT INTO services (tenant_id, name, description, duration_min, "
                          "price_cents, color, active) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                          DB_PARAMS(DB_INT(c->tenant_id), DB_TEXT(s->name), DB_TEXT(s->description),
                                    DB_INT(c->service_minutes[i]), DB_INT(c->service_price[i]),
                                    DB_TEXT(s->color), DB_BOOL(true)),
                          &c->service_ids[i]);
    if (rc < 0)
        goto cleanup;
    report_add(c->r, "service", s->name, SEED_CREATED);

cleanup:
    db_res_free(res);
    return rc;
}

static int seed_assignment(struct seed_ctx *c, int i)
{
    int64_t service_id = c->service_ids[demo_assignments[i].service];
    int64_t user_id = c->user_ids[demo_assignments[i].user];
    int64_t id = 0;
    char *key = xasprintf("%s: %s", demo_services[demo_assignments[i].service].name,
                          demo_users[demo_assignments[i].user].email);
    int rc;

    rc = db_query_int(c->db,
                      "SELECT id FROM service_professionals WHERE service_id = $1 AND user_id = $2",
                      DB_PARAMS(DB_INT(service_id), DB_INT(user_id)), &id, c->e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        report_add(c->r, "assignment", key, SEED_PRESENT);
        goto cleanup;
    }
    rc = insert_returning(c, "an assignment",
                          "INSERT INTO service_professionals (tenant_id, service_id, user_id, "
                          "commission_pct) VALUES ($1, $2, $3, $4) RETURNING id",
                          DB_PARAMS(DB_INT(c->tenant_id), DB_INT(service_id), DB_INT(user_id),
                                    DB_INT(demo_assignments[i].commission_pct)),
                          &id);
    if (rc < 0)
        goto cleanup;
    report_add(c->r, "assignment", key, SEED_CREATED);

cleanup:
    free(key);
    return rc;
}

static int seed_client(struct seed_ctx *c, int i)
{
    const struct demo_client *cl = &demo_clients[i];
    char *key = xasprintf("%s %s <%s>", cl->first_name, cl->last_name, cl->phone);
    int rc;

    rc = db_query_int(c->db, "SELECT id FROM clients WHERE tenant_id = $1 AND phone = $2",
                      DB_PARAMS(DB_INT(c->tenant_id), DB_TEXT(cl->phone)), &c->client_ids[i], c->e);
    if (rc < 0)
        goto cleanup;
    if (rc == 0) {
        report_add(c->r, "client", key, SEED_PRESENT);
        goto cleanup;
    }
    rc = insert_returning(c, "a client",
                          "INSERT INTO clients (tenant_id, first_name, last_name, phone, email, "
                          "active) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                          DB_PARAMS(DB_INT(c->tenant_id), DB_TEXT(cl->first_name),
                                    DB_TEXT(cl->last_name), DB_TEXT(cl->phone), DB_TEXT(cl->email),
                                    DB_BOOL(true)),
                          &c->client_ids[i]);
    if (rc < 0)
        goto cleanup;
    report_add(c->r, "client", key, SEED_CREATED);

cleanup:
    free(key);
    return rc;
}

static int seed_working_hours(struct seed_ctx *c)
{
    int64_t n = 0;
    int rc;

    rc = db_query_int(c->db, "SELECT count(*) FROM working_hours WHERE branch_id = $1",
                      DB_PARAMS(DB_INT(c->branch_id)), &n, c->e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (n > 0) {
        report_add(c->r, "working_hours", demo_branch.name, SEED_PRESENT);
        goto cleanup;
    }
    for (int i = 0; i < N_HOURS; i++) {
        rc = db_exec_params(c->db,
                            "INSERT INTO working_hours (tenant_id, branch_id, user_id, "
                            "day_of_week, start_time, end_time) "
                            "VALUES ($1, $2, NULL, $3, $4, $5)",
                            DB_PARAMS(DB_INT(c->tenant_id), DB_INT(c->branch_id),
                                      DB_INT(demo_hours[i].day_of_week),
                                      DB_TEXT(demo_hours[i].start), DB_TEXT(demo_hours[i].end)),
                            NULL, c->e);
        if (rc < 0)
            goto cleanup;
    }
    report_add(c->r, "working_hours", demo_branch.name, SEED_CREATED);

cleanup:
    return rc;
}

/* ----------------------------------------------------------- appointments */

/* The branch's default hours (user_id NULL), whatever they are now. */
static int load_week(struct seed_ctx *c, struct week *w)
{
    struct db_res *res = NULL;
    int rc;

    memset(w, 0, sizeof(*w));
    rc = db_query(c->db,
                  "SELECT day_of_week, start_time, end_time FROM working_hours "
                  "WHERE branch_id = $1 AND user_id IS NULL ORDER BY day_of_week, start_time",
                  DB_PARAMS(DB_INT(c->branch_id)), &res, c->e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(res) == 1) {
        int64_t dow = db_res_int(res, 0);
        int start = tz_parse_hhmm(db_res_text(res, 1));
        int end = tz_parse_hhmm(db_res_text(res, 2));
        if (dow < 0 || dow > 6 || start < 0 || end <= start || w->n[dow] >= MAX_INTERVALS)
            continue;
        w->iv[dow][w->n[dow]++] = (struct interval){start, end};
    }

cleanup:
    db_res_free(res);
    return rc;
}

/* A professional who offers the service (the first assignment). */
static int pick_professional(struct seed_ctx *c, int service, int64_t *user_id)
{
    int rc = db_query_int(c->db,
                          "SELECT user_id FROM service_professionals "
                          "WHERE tenant_id = $1 AND service_id = $2 ORDER BY id LIMIT 1",
                          DB_PARAMS(DB_INT(c->tenant_id), DB_INT(c->service_ids[service])), user_id,
                          c->e);
    if (rc == 1)
        rc = err_set(c->e, ERR_DB, "no professional offers service '%s'",
                     demo_services[service].name);
    return rc;
}

/* 1 when the professional has a blocking appointment overlapping [start, end). */
static int slot_taken(struct seed_ctx *c, int64_t professional, const char *start, const char *end)
{
    int64_t n = 0;
    int rc = db_query_int(c->db,
                          "SELECT count(*) FROM appointments WHERE professional_id = $1 "
                          "AND status IN " BLOCKING_STATUSES " AND start_at < $3 AND end_at > $2",
                          DB_PARAMS(DB_INT(professional), DB_TEXT(start), DB_TEXT(end)), &n, c->e);
    if (rc < 0)
        return rc;
    return n > 0 ? 1 : 0;
}

struct placed {
    int64_t start, end;
    char start_text[32], end_text[32];
    int y, mon, d, minute; /* local day and start, for the report */
};

/*
 * Find a free start on local day `days` (since 1970-01-01) within the
 * branch's hours: the first quarter hour at or after the preferred time
 * that fits, else the first before it.  Returns 1 when placed, 0 when the
 * day has no room, <0 on error.
 */
static int place_on_day(struct seed_ctx *c, const struct week *w, int64_t days, int pref,
                        int64_t minutes, int64_t professional, struct placed *out)
{
    int y, mon, d, dow;
    int rc = 0;

    tz_civil_from_days(days, &y, &mon, &d);
    dow = tz_weekday(y, mon, d);
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < w->n[dow]; k++) {
            const struct interval *iv = &w->iv[dow][k];
            int64_t close = 0;
            if (iv->end - iv->start < minutes)
                continue;
            rc = tz_local_to_utc(c->zone, y, mon, d, iv->end / 60 % 24, iv->end % 60, &close, c->e);
            if (rc < 0)
                return rc;
            if (iv->end == 24 * 60)
                close += 86400;
            for (int m = iv->start; m + minutes <= iv->end; m += SLOT_STEP_MIN) {
                struct tz_local l;
                /* First pass: at or after the preferred time; second: before it. */
                if ((pass == 0) != (m >= pref))
                    continue;
                rc = tz_local_to_utc(c->zone, y, mon, d, m / 60, m % 60, &out->start, c->e);
                if (rc < 0)
                    return rc;
                /* A start a daylight-saving change skips is no start. */
                rc = tz_utc_to_local(c->zone, out->start, &l, c->e);
                if (rc < 0)
                    return rc;
                if (l.h != m / 60 || l.min != m % 60)
                    continue;
                out->end = out->start + minutes * 60;
                if (out->end > close)
                    continue;
                tz_format_instant(out->start, out->start_text);
                tz_format_instant(out->end, out->end_text);
                rc = slot_taken(c, professional, out->start_text, out->end_text);
                if (rc < 0)
                    return rc;
                if (rc == 1)
                    continue;
                out->y = y;
                out->mon = mon;
                out->d = d;
                out->minute = m;
                return 1;
            }
        }
    }
    return 0;
}

/*
 * Place appointment a: from its day, moving in its direction (forward for
 * today and later, backward for the past) past closed or full days.
 */
static int place(struct seed_ctx *c, const struct week *w, int64_t today,
                 const struct demo_appointment *a, int64_t professional, struct placed *out)
{
    int step = a->day >= 0 ? 1 : -1;
    int64_t minutes = c->service_minutes[a->service];

    for (int shift = 0; shift <= MAX_DAY_SHIFT; shift++) {
        int rc = place_on_day(c, w, today + a->day + shift * step, a->preferred_min, minutes,
                              professional, out);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return err_set(c->e, ERR_DB,
                   "no free time for demo appointment '%s' in the working hours of branch '%s'",
                   demo_services[a->service].name, demo_branch.name);
}

static char *money_text(int64_t cents, const char *currency)
{
    return xasprintf("%lld.%02lld %s", (long long)(cents / 100), (long long)(cents % 100),
                     currency);
}

static int seed_one_appointment(struct seed_ctx *c, const struct week *w, int64_t today,
                                const struct demo_appointment *a)
{
    const struct demo_client *cl = &demo_clients[a->client];
    int64_t professional = 0, id = 0, pay_id = 0;
    int64_t price = c->service_price[a->service];
    struct placed p;
    char *key = NULL, *pay_key = NULL, *money = NULL;
    int rc;

    memset(&p, 0, sizeof(p));
    rc = pick_professional(c, a->service, &professional);
    if (rc < 0)
        goto cleanup;
    rc = place(c, w, today, a, professional, &p);
    if (rc < 0)
        goto cleanup;
    rc = insert_returning(
        c, "an appointment",
        "INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, "
        "professional_id, start_at, end_at, status, price_cents, notes, created_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        DB_PARAMS(DB_INT(c->tenant_id), DB_INT(c->branch_id), DB_INT(c->client_ids[a->client]),
                  DB_INT(c->service_ids[a->service]), DB_INT(professional), DB_TEXT(p.start_text),
                  DB_TEXT(p.end_text), DB_TEXT(a->status), DB_INT(price),
                  DB_TEXT("Cita de demostración"), DB_INT(c->user_ids[U_RECEPTION])),
        &id);
    if (rc < 0)
        goto cleanup;
    key = xasprintf("%04d-%02d-%02d %02d:%02d %s, %s %s, %s", p.y, p.mon, p.d, p.minute / 60,
                    p.minute % 60, demo_services[a->service].name, cl->first_name, cl->last_name,
                    a->status);
    report_add(c->r, "appointment", key, SEED_CREATED);
    /* amount_cents must be > 0: a service made free since gets no payment. */
    if (a->payment_method == NULL || price <= 0)
        goto cleanup;
    rc = insert_returning(
        c, "a payment",
        "INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, status, "
        "recorded_by, paid_at) VALUES ($1, $2, $3, $4, 'PAID', $5, $6) RETURNING id",
        DB_PARAMS(DB_INT(c->tenant_id), DB_INT(id), DB_INT(price), DB_TEXT(a->payment_method),
                  DB_INT(c->user_ids[U_RECEPTION]), DB_TEXT(p.end_text)),
        &pay_id);
    if (rc < 0)
        goto cleanup;
    money = money_text(price, c->currency);
    pay_key = xasprintf("%s %s, %s %04d-%02d-%02d", a->payment_method, money,
                        demo_services[a->service].name, p.y, p.mon, p.d);
    report_add(c->r, "payment", pay_key, SEED_CREATED);

cleanup:
    free(key);
    free(pay_key);
    free(money);
    return rc;
}

static int seed_appointments(struct seed_ctx *c)
{
    char *marker = xasprintf(MARKER_PREFIX "%lld", (long long)c->tenant_id);
    char now_text[32];
    struct tz_local local;
    struct week w;
    int64_t found = 0, today;
    int rc;

    rc = db_query_int(c->db, "SELECT count(*) FROM settings WHERE key = $1",
                      DB_PARAMS(DB_TEXT(marker)), &found, c->e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (found > 0) {
        report_add(c->r, "demo_appointments", demo_tenant.name, SEED_PRESENT);
        goto cleanup;
    }
    rc = tz_utc_to_local(c->zone, c->now, &local, c->e);
    if (rc < 0)
        goto cleanup;
    today = tz_days_from_civil(local.y, local.mon, local.d);
    rc = load_week(c, &w);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < N_APPOINTMENTS; i++) {
        rc = seed_one_appointment(c, &w, today, &demo_appointments[i]);
        if (rc < 0)
            goto cleanup;
    }
    tz_format_instant(c->now, now_text);
    rc = db_exec_params(c->db, "INSERT INTO settings (key, value) VALUES ($1, $2)",
                        DB_PARAMS(DB_TEXT(marker), DB_TEXT(now_text)), NULL, c->e);

cleanup:
    free(marker);
    return rc;
}

/* ------------------------------------------------------------- public API */

static int seed_all(struct seed_ctx *c)
{
    int rc;

    if ((rc = seed_tenant(c)) < 0 || (rc = seed_branch(c)) < 0)
        return rc;
    /* Checked before anything costly: the appointments need the zone. */
    if (!tz_valid(c->zone))
        return err_set(c->e, ERR_CONFIG, "tenant '%s' has an unknown time zone '%s'",
                       demo_tenant.name, c->zone);
    for (int i = 0; i < N_USERS; i++)
        if ((rc = seed_user(c, i)) < 0)
            return rc;
    for (int i = 0; i < N_SERVICES; i++)
        if ((rc = seed_service(c, i)) < 0)
            return rc;
    for (int i = 0; i < N_ASSIGNMENTS; i++)
        if ((rc = seed_assignment(c, i)) < 0)
            return rc;
    for (int i = 0; i < N_CLIENTS; i++)
        if ((rc = seed_client(c, i)) < 0)
            return rc;
    if ((rc = seed_working_hours(c)) < 0)
        return rc;
    return seed_appointments(c);
}

int seed_run(struct db *db, int64_t now_epoch, struct seed_report *r, struct err *e)
{
    struct seed_ctx c;
    bool in_tx = false;
    int rc;

    memset(r, 0, sizeof(*r));
    memset(&c, 0, sizeof(c));
    c.db = db;
    c.r = r;
    c.e = e;
    c.now = now_epoch;

    rc = db_begin(db, e);
    if (rc < 0)
        goto cleanup;
    in_tx = true;
    if (db_kind(db) == DB_PG) {
        rc = db_exec(db, SEED_PG_LOCK_SQL, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = seed_all(&c);
    if (rc < 0) {
        err_prefix(e, "seed");
        goto cleanup;
    }
    rc = db_commit(db, e);
    if (rc == 0)
        in_tx = false;

cleanup:
    if (in_tx)
        db_rollback(db);
    free(c.zone);
    free(c.currency);
    return rc;
}

int seed_demo_passwords_in_use(struct db *db, char ***emails, int *count, struct err *e)
{
    struct db_res *res = NULL;
    char **v = NULL;
    int n = 0;
    int rc;

    *emails = NULL;
    *count = 0;
    rc = db_query(db,
                  "SELECT email, password_hash FROM users WHERE email IN ($1, $2, $3, $4, $5) "
                  "ORDER BY id",
                  DB_PARAMS(DB_TEXT(demo_users[0].email), DB_TEXT(demo_users[1].email),
                            DB_TEXT(demo_users[2].email), DB_TEXT(demo_users[3].email),
                            DB_TEXT(demo_users[4].email)),
                  &res, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(res) == 1) {
        const char *email = db_res_text(res, 0);
        const char *published = NULL;
        for (int i = 0; i < N_USERS; i++)
            if (email != NULL && strcmp(email, demo_users[i].email) == 0)
                published = demo_users[i].password;
        if (published == NULL || !password_verify(published, db_res_text(res, 1)))
            continue;
        v = xrealloc(v, sizeof(*v) * (size_t)(n + 1));
        v[n++] = xstrdup(email);
    }
    *emails = v;
    *count = n;
    v = NULL;
    n = 0;

cleanup:
    db_res_free(res);
    db_strv_free(v, n);
    return rc;
}
