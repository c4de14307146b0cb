/*
 * Unit tests of src/seed with a fixed "now", run twice: on SQLite (a file in
 * a temporary directory, one per test) and on PostgreSQL (a scratch database
 * created from CITAPLANNER_TEST_PG_URL, emptied before each test and dropped
 * at the end).  Each test starts from a freshly migrated schema.  Without
 * CITAPLANNER_TEST_PG_URL the PostgreSQL group fails: it is never skipped.
 *
 * The e2e test (test/e2e/test_seed.py) covers the command; this one covers
 * what needs a chosen date: Sundays, Mondays, a busy day, another zone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/password.h"
#include "common/tz.h"
#include "common/url.h"
#include "common/util.h"
#include "db/db.h"
#include "migrate/migrate.h"
#include "seed/seed.h"
#include "testutil.h"

#define MX "America/Mexico_City"

/* One demo appointment as read back, with its local wall time. */
struct appt {
    int64_t id, start, end, professional, service, price;
    char status[16];
    int day; /* local days since 1970-01-01 */
    int wday;
    int start_min, end_min; /* local minutes after midnight */
};

/* Each test starts from a freshly migrated schema. */
static int setup(void **state)
{
    struct tu_db *f = tu_db_new(*state, "citaplanner.db");
    struct err e;

    err_clear(&e);
    CHECK(migrate_deploy(f->db, NULL, &e));
    *state = f;
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static int64_t local_epoch(const char *zone, int y, int mon, int d, int h, int min)
{
    struct err e;
    int64_t t = 0;
    err_clear(&e);
    CHECK(tz_local_to_utc(zone, y, mon, d, h, min, &t, &e));
    return t;
}

static void seed_ok(struct tu_db *f, int64_t now, struct seed_report *r)
{
    struct err e;
    err_clear(&e);
    CHECK(seed_run(f->db, now, r, &e));
    assert_false(db_in_transaction(f->db));
}

static int count_result(const struct seed_report *r, const char *entity, enum seed_result res)
{
    int n = 0;
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->items[i].entity, entity) == 0 && r->items[i].result == res)
            n++;
    return n;
}

static const struct seed_item *find_item(const struct seed_report *r, const char *entity,
                                         const char *key)
{
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->items[i].entity, entity) == 0 && strcmp(r->items[i].key, key) == 0)
            return &r->items[i];
    return NULL;
}

static void assert_table_counts(struct tu_db *f, int tenants, int branches, int users, int services,
                                int assignments, int clients, int hours, int appointments,
                                int payments)
{
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM tenants"), tenants);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM branches"), branches);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM users"), users);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM services"), services);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM service_professionals"),
                     assignments);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM clients"), clients);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM working_hours"), hours);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM appointments"), appointments);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM payments"), payments);
}

/*
 * Read the demo appointments (notes 'Cita de demostración') and check what
 * holds for every one: the service's duration and price, a professional who
 * offers the service, inside the branch's default hours in `zone`, and no
 * overlap between blocking appointments of one professional (demo or not).
 * Returns how many were read into out.
 */
static int read_appointments(struct tu_db *f, const char *zone, struct appt *out, int max)
{
    struct db_res *res = NULL;
    struct err e;
    int n = 0;

    err_clear(&e);
    CHECK(db_query(f->db,
                   "SELECT a.id, a.start_at, a.end_at, a.professional_id, a.service_id, "
                   "a.price_cents, a.status, s.duration_min, s.price_cents, "
                   "(SELECT count(*) FROM service_professionals sp "
                   "  WHERE sp.service_id = a.service_id AND sp.user_id = a.professional_id) "
                   "FROM appointments a JOIN services s ON s.id = a.service_id "
                   "WHERE a.notes = 'Cita de demostración' ORDER BY a.start_at, a.id",
                   DB_NOPARAMS, &res, &e));
    while (db_res_next(res) == 1) {
        struct appt *a;
        struct tz_local ls, le;
        int64_t open_ok = 0;
        char *sql;

        assert_true(n < max);
        a = &out[n++];
        memset(a, 0, sizeof(*a));
        a->id = db_res_int(res, 0);
        if (tz_parse_instant(db_res_text(res, 1), &a->start) != 0 ||
            tz_parse_instant(db_res_text(res, 2), &a->end) != 0)
            fail_msg("appointment %lld: bad instants '%s' '%s'", (long long)a->id,
                     db_res_text(res, 1), db_res_text(res, 2));
        a->professional = db_res_int(res, 3);
        a->service = db_res_int(res, 4);
        a->price = db_res_int(res, 5);
        snprintf(a->status, sizeof(a->status), "%s", db_res_text(res, 6));
        assert_int_equal(a->end - a->start, db_res_int(res, 7) * 60);
        assert_int_equal(a->price, db_res_int(res, 8));
        assert_int_equal(db_res_int(res, 9), 1);

        CHECK(tz_utc_to_local(zone, a->start, &ls, &e));
        CHECK(tz_utc_to_local(zone, a->end, &le, &e));
        a->day = (int)tz_days_from_civil(ls.y, ls.mon, ls.d);
        a->wday = ls.wday;
        a->start_min = ls.h * 60 + ls.min;
        a->end_min = le.h * 60 + le.min;
        assert_int_equal(tz_days_from_civil(le.y, le.mon, le.d), a->day);
        /* Inside one of the branch's default intervals of that weekday. */
        sql = xasprintf("SELECT count(*) FROM working_hours WHERE user_id IS NULL "
                        "AND day_of_week = %d AND start_time <= '%02d:%02d' "
                        "AND end_time >= '%02d:%02d'",
                        a->wday, ls.h, ls.min, le.h, le.min);
        open_ok = tu_query_int(f->db, sql);
        free(sql);
        if (open_ok < 1)
            fail_msg("appointment %lld on weekday %d %02d:%02d-%02d:%02d is outside the hours",
                     (long long)a->id, a->wday, ls.h, ls.min, le.h, le.min);
    }
    db_res_free(res);
    /* No blocking overlap for any professional, demo appointments or not. */
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM appointments a JOIN appointments b "
                                         "ON a.professional_id = b.professional_id AND a.id < b.id "
                                         "WHERE a.status IN ('PENDING','CONFIRMED','COMPLETED') "
                                         "AND b.status IN ('PENDING','CONFIRMED','COMPLETED') "
                                         "AND a.start_at < b.end_at AND b.start_at < a.end_at"),
                     0);
    return n;
}

static int count_on(const struct appt *a, int n, int day, const char *status)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (a[i].day == day && strcmp(a[i].status, status) == 0)
            k++;
    return k;
}

static int day_of(int y, int mon, int d)
{
    return (int)tz_days_from_civil(y, mon, d);
}

/* ---- tests ------------------------------------------------------------- */

/* A fresh seed on a Wednesday, then again: everything already present. */
static void t_fresh_then_again(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0}, r2 = {0};
    struct appt a[16];
    int64_t now = local_epoch(MX, 2025, 1, 15, 11, 0); /* Wednesday */
    int n;

    seed_ok(f, now, &r);
    assert_int_equal(r.count, 35);
    assert_int_equal(r.created, 35);
    assert_int_equal(r.present, 0);
    assert_string_equal(r.items[0].entity, "tenant");
    assert_string_equal(r.items[0].line, "tenant 'Bella Vita Spa & Wellness': created");
    assert_string_equal(r.items[1].line, "branch 'Sucursal Centro': created");
    assert_non_null(find_item(&r, "user", "recepcionista@citaplanner.com"));
    assert_non_null(find_item(&r, "service", "Masaje Terapéutico"));
    assert_int_equal(count_result(&r, "assignment", SEED_CREATED), 6);
    assert_int_equal(count_result(&r, "client", SEED_CREATED), 6);
    assert_int_equal(count_result(&r, "appointment", SEED_CREATED), 6);
    assert_int_equal(count_result(&r, "payment", SEED_CREATED), 3);
    assert_string_equal(find_item(&r, "working_hours", "Sucursal Centro")->line,
                        "working hours 'Sucursal Centro': created");
    assert_table_counts(f, 1, 1, 5, 6, 6, 6, 6, 6, 3);

    /* The data of SPEC §5. */
    char *s =
        tu_query_text(f->db, "SELECT timezone || ' ' || currency || ' ' || city FROM tenants");
    assert_string_equal(s, "America/Mexico_City MXN Ciudad de México");
    free(s);
    assert_int_equal(
        tu_query_int(f->db, "SELECT price_cents FROM services WHERE name = 'Masaje Relajante'"),
        120000);
    assert_int_equal(tu_query_int(f->db, "SELECT duration_min FROM services WHERE name = "
                                         "'Manicure y Pedicure'"),
                     120);
    assert_int_equal(tu_query_int(f->db,
                                  "SELECT sp.commission_pct FROM service_professionals sp "
                                  "JOIN users u ON u.id = sp.user_id JOIN services s ON "
                                  "s.id = sp.service_id WHERE u.email = 'pro2@citaplanner.com' "
                                  "AND s.name = 'Corte de Cabello'"),
                     50);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM users WHERE branch_id IS NOT NULL"),
                     3);
    assert_int_equal(
        tu_query_int(f->db, "SELECT count(*) FROM working_hours WHERE user_id IS NULL AND "
                            "day_of_week = 6 AND start_time = '10:00' AND end_time = '16:00'"),
        1);
    s = tu_query_text(f->db,
                      "SELECT password_hash FROM users WHERE email = 'manager@citaplanner.com'");
    assert_memory_equal(s, "$2b$10$", 7);
    assert_true(password_verify("manager123", s));
    free(s);

    /* Appointments: today 1 CONFIRMED + 1 PENDING, tomorrow 1 CONFIRMED, 3 COMPLETED before. */
    n = read_appointments(f, MX, a, 16);
    assert_int_equal(n, 6);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 15), "CONFIRMED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 15), "PENDING"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 16), "CONFIRMED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 14), "COMPLETED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 13), "COMPLETED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 12), "COMPLETED"), 0); /* Sunday */
    assert_int_equal(count_on(a, n, day_of(2025, 1, 11), "COMPLETED"), 1); /* Saturday */

    /* Payments: one per completed appointment, its price, paid at its end, by reception. */
    assert_int_equal(tu_query_int(f->db,
                                  "SELECT count(*) FROM payments p JOIN appointments a ON "
                                  "a.id = p.appointment_id JOIN users u ON u.id = p.recorded_by "
                                  "WHERE a.status = 'COMPLETED' AND p.amount_cents = a.price_cents "
                                  "AND p.paid_at = a.end_at AND p.status = 'PAID' "
                                  "AND u.email = 'recepcionista@citaplanner.com'"),
                     3);
    assert_int_equal(tu_query_int(f->db,
                                  "SELECT count(DISTINCT method) FROM payments WHERE method IN "
                                  "('CASH','CREDIT_CARD','TRANSFER')"),
                     3);
    s = tu_query_text(f->db,
                      "SELECT value FROM settings WHERE key = 'seed.demo_appointments.tenant.' || "
                      "(SELECT CAST(id AS TEXT) FROM tenants)");
    assert_non_null(s);
    free(s);

    /* Again, a day later: nothing new, every entity present. */
    seed_ok(f, now + 86400, &r2);
    assert_int_equal(r2.created, 0);
    assert_int_equal(r2.present, r2.count);
    assert_int_equal(r2.count, 27);
    assert_string_equal(find_item(&r2, "demo_appointments", "Bella Vita Spa & Wellness")->line,
                        "demo appointments 'Bella Vita Spa & Wellness': already present");
    assert_string_equal(r2.items[2].line, "user 'admin@citaplanner.com': already present");
    assert_table_counts(f, 1, 1, 5, 6, 6, 6, 6, 6, 3);
    seed_report_release(&r);
    seed_report_release(&r2);
    seed_report_release(&r2); /* releasing twice is harmless */
}

/* Today is Sunday: today's and tomorrow's move to Monday, the past ones before. */
static void t_sunday(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0};
    struct appt a[16];
    int n;

    seed_ok(f, local_epoch(MX, 2025, 1, 19, 12, 0), &r);
    n = read_appointments(f, MX, a, 16);
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++)
        assert_int_not_equal(a[i].wday, 0);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 20), "CONFIRMED"), 2);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 20), "PENDING"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 18), "COMPLETED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 17), "COMPLETED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 16), "COMPLETED"), 1);
    seed_report_release(&r);
}

/* Today is Monday: yesterday (Sunday) moves back to Saturday, which then holds two. */
static void t_monday(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0};
    struct appt a[16];
    int n;

    seed_ok(f, local_epoch(MX, 2025, 1, 20, 8, 0), &r);
    n = read_appointments(f, MX, a, 16);
    assert_int_equal(n, 6);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 20), "CONFIRMED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 20), "PENDING"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 21), "CONFIRMED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 19), "COMPLETED"), 0);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 18), "COMPLETED"), 2);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 17), "COMPLETED"), 1);
    /* Saturday's hours are 10:00-16:00. */
    for (int i = 0; i < n; i++)
        if (a[i].wday == 6)
            assert_true(a[i].start_min >= 600 && a[i].end_min <= 960);
    seed_report_release(&r);
}

/* Existing rows are never changed; what was deleted is created again, except appointments. */
static void t_never_updates(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0}, r2 = {0};
    char hash[PASSWORD_HASH_SIZE];
    struct err e;
    char *sql, *s;
    int64_t now = local_epoch(MX, 2025, 6, 11, 9, 30);

    err_clear(&e);
    seed_ok(f, now, &r);
    CHECK(password_hash("a-new-secret", 4, hash, sizeof(hash), &e));
    sql = xasprintf("UPDATE users SET password_hash = '%s' WHERE email = 'admin@citaplanner.com'",
                    hash);
    tu_exec(f->db, sql);
    free(sql);
    tu_exec(f->db, "UPDATE services SET price_cents = 99900 WHERE name = 'Corte de Cabello'");
    tu_exec(f->db, "UPDATE services SET name = 'Facial Hidratante Deluxe' "
                   "WHERE name = 'Facial Hidratante'");
    tu_exec(f->db, "UPDATE tenants SET city = 'Guadalajara'");
    tu_exec(f->db, "DELETE FROM payments");
    tu_exec(f->db, "DELETE FROM appointments");
    tu_exec(f->db, "DELETE FROM working_hours WHERE day_of_week = 6");
    tu_exec(f->db, "DELETE FROM clients WHERE phone = '+52 55 1111 0006'");

    seed_ok(f, now + 3600, &r2);
    s = tu_query_text(f->db,
                      "SELECT password_hash FROM users WHERE email = 'admin@citaplanner.com'");
    assert_string_equal(s, hash);
    assert_false(password_verify("admin123", s));
    free(s);
    assert_int_equal(
        tu_query_int(f->db, "SELECT price_cents FROM services WHERE name = 'Corte de Cabello'"),
        99900);
    s = tu_query_text(f->db, "SELECT city FROM tenants");
    assert_string_equal(s, "Guadalajara");
    free(s);
    /* Matched by (tenant, name): the renamed service stays, the demo one comes back. */
    assert_int_equal(
        tu_query_int(f->db, "SELECT count(*) FROM services WHERE name LIKE 'Facial Hidratante%'"),
        2);
    assert_int_equal(find_item(&r2, "service", "Facial Hidratante")->result, SEED_CREATED);
    assert_int_equal(
        find_item(&r2, "assignment", "Facial Hidratante: pro1@citaplanner.com")->result,
        SEED_CREATED);
    assert_int_equal(find_item(&r2, "client", "Fernando Castro <+52 55 1111 0006>")->result,
                     SEED_CREATED);
    assert_int_equal(r2.created, 3);
    /* The branch still has hours: none added; appointments are made once only. */
    assert_int_equal(find_item(&r2, "working_hours", "Sucursal Centro")->result, SEED_PRESENT);
    assert_int_equal(find_item(&r2, "demo_appointments", "Bella Vita Spa & Wellness")->result,
                     SEED_PRESENT);
    assert_table_counts(f, 1, 1, 5, 7, 7, 6, 5, 0, 0);
    seed_report_release(&r);
    seed_report_release(&r2);
}

/* A professional already booked all day: the demo appointments go around it. */
static void t_avoids_existing_bookings(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0}, r2 = {0};
    struct appt a[16];
    char *sql;
    int n;
    int64_t now = local_epoch(MX, 2025, 1, 15, 11, 0); /* Wednesday */
    char from[32], to[32];

    seed_ok(f, now, &r);
    tu_exec(f->db, "DELETE FROM payments");
    tu_exec(f->db, "DELETE FROM appointments");
    tu_exec(f->db, "DELETE FROM settings");
    /* Both professionals busy all Wednesday. */
    tz_format_instant(local_epoch(MX, 2025, 1, 15, 8, 0), from);
    tz_format_instant(local_epoch(MX, 2025, 1, 15, 19, 0), to);
    sql = xasprintf("INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, "
                    "professional_id, start_at, end_at, status, price_cents) "
                    "SELECT t.id, b.id, c.id, s.id, u.id, '%s', '%s', 'CONFIRMED', 100 "
                    "FROM tenants t, branches b, clients c, services s, users u "
                    "WHERE c.phone = '+52 55 1111 0001' AND s.name = 'Corte de Cabello' "
                    "AND u.role = 'PROFESSIONAL'",
                    from, to);
    tu_exec(f->db, sql);
    free(sql);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM appointments"), 2);

    seed_ok(f, now, &r2);
    assert_int_equal(count_result(&r2, "appointment", SEED_CREATED), 6);
    n = read_appointments(f, MX, a, 16); /* also checks no overlap with the blockers */
    assert_int_equal(n, 6);
    /* Today's two moved to Thursday, beside tomorrow's. */
    assert_int_equal(count_on(a, n, day_of(2025, 1, 15), "CONFIRMED"), 0);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 15), "PENDING"), 0);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 16), "CONFIRMED"), 2);
    assert_int_equal(count_on(a, n, day_of(2025, 1, 16), "PENDING"), 1);
    seed_report_release(&r);
    seed_report_release(&r2);
}

/* A failure half-way leaves nothing behind. */
static void t_rolls_back(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0};
    struct err e;
    int rc;

    tu_exec(f->db,
            "INSERT INTO tenants (name, email, timezone) VALUES ('Otro', 'otro@example.com', "
            "'UTC')");
    tu_exec(f->db, "INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
                   "SELECT id, 'pro1@citaplanner.com', 'x', 'Ana', 'PROFESSIONAL' FROM tenants");
    err_clear(&e);
    rc = seed_run(f->db, local_epoch(MX, 2025, 1, 15, 11, 0), &r, &e);
    assert_int_equal(rc, -ERR_DB);
    assert_int_equal(e.code, ERR_DB);
    assert_non_null(strstr(e.msg, "'pro1@citaplanner.com'"));
    assert_non_null(strstr(e.msg, "another tenant"));
    assert_false(db_in_transaction(f->db));
    assert_table_counts(f, 1, 0, 1, 0, 0, 0, 0, 0, 0);
    seed_report_release(&r);
    assert_int_equal(r.count, 0);
    assert_null(r.items);
}

/* An unknown tenant zone stops the seed before anything is created. */
static void t_unknown_zone(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0};
    struct err e;

    tu_exec(f->db, "INSERT INTO tenants (name, email, timezone) VALUES ('Bella Vita', "
                   "'contacto@bellavita.com', 'Mars/Olympus_Mons')");
    err_clear(&e);
    assert_int_equal(seed_run(f->db, 1736960400, &r, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "'Mars/Olympus_Mons'"));
    assert_table_counts(f, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    seed_report_release(&r);
}

/* A branch with its own zone books in that zone, within its own hours. */
static void t_branch_zone(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0};
    struct appt a[16];
    int n;

    tu_exec(f->db, "INSERT INTO tenants (name, email, timezone) VALUES ('Bella Vita', "
                   "'contacto@bellavita.com', 'America/Mexico_City')");
    tu_exec(f->db, "INSERT INTO branches (tenant_id, name, timezone) SELECT id, 'Sucursal Centro', "
                   "'Europe/Madrid' FROM tenants");
    /* The branch's own hours: only Tuesday and Thursday, 16:00-20:30. */
    tu_exec(f->db,
            "INSERT INTO working_hours (tenant_id, branch_id, day_of_week, start_time, end_time) "
            "SELECT tenant_id, id, 2, '16:00', '20:30' FROM branches");
    tu_exec(f->db,
            "INSERT INTO working_hours (tenant_id, branch_id, day_of_week, start_time, end_time) "
            "SELECT tenant_id, id, 4, '16:00', '20:30' FROM branches");

    /* Wednesday 17:30 in Mexico City is already Thursday (01:30) in Madrid. */
    seed_ok(f, local_epoch(MX, 2025, 7, 2, 17, 30), &r);
    assert_int_equal(r.items[0].result, SEED_PRESENT);
    assert_int_equal(r.items[1].result, SEED_PRESENT);
    assert_int_equal(find_item(&r, "working_hours", "Sucursal Centro")->result, SEED_PRESENT);
    assert_int_equal(tu_query_int(f->db, "SELECT count(*) FROM working_hours"), 2);
    n = read_appointments(f, "Europe/Madrid", a, 16);
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++) {
        assert_true(a[i].wday == 2 || a[i].wday == 4);
        assert_true(a[i].start_min >= 16 * 60 && a[i].end_min <= 20 * 60 + 30);
    }
    /* Today (Thursday 3rd in Madrid) holds today's two; tomorrow moves to Tuesday 8th. */
    assert_int_equal(count_on(a, n, day_of(2025, 7, 3), "CONFIRMED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 7, 3), "PENDING"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 7, 8), "CONFIRMED"), 1);
    assert_int_equal(count_on(a, n, day_of(2025, 7, 1), "COMPLETED") +
                         count_on(a, n, day_of(2025, 6, 26), "COMPLETED") +
                         count_on(a, n, day_of(2025, 6, 24), "COMPLETED"),
                     3);
    seed_report_release(&r);
}

static void t_demo_passwords_in_use(void **state)
{
    struct tu_db *f = *state;
    struct seed_report r = {0};
    char **emails = NULL;
    int count = -1;
    struct err e;

    err_clear(&e);
    CHECK(seed_demo_passwords_in_use(f->db, &emails, &count, &e));
    assert_int_equal(count, 0);
    assert_null(emails);

    seed_ok(f, local_epoch(MX, 2025, 1, 15, 11, 0), &r);
    CHECK(seed_demo_passwords_in_use(f->db, &emails, &count, &e));
    assert_int_equal(count, 5);
    assert_string_equal(emails[0], "admin@citaplanner.com");
    assert_string_equal(emails[4], "recepcionista@citaplanner.com");
    db_strv_free(emails, count);

    tu_exec(f->db, "UPDATE users SET password_hash = "
                   "'$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' "
                   "WHERE email IN ('admin@citaplanner.com', 'pro2@citaplanner.com')");
    CHECK(seed_demo_passwords_in_use(f->db, &emails, &count, &e));
    assert_int_equal(count, 3);
    assert_string_equal(emails[0], "manager@citaplanner.com");
    assert_string_equal(emails[1], "pro1@citaplanner.com");
    assert_string_equal(emails[2], "recepcionista@citaplanner.com");
    db_strv_free(emails, count);
    seed_report_release(&r);
}

#define CASE(t) cmocka_unit_test_setup_teardown(t, setup, tu_db_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_fresh_then_again),
        CASE(t_sunday),
        CASE(t_monday),
        CASE(t_never_updates),
        CASE(t_avoids_existing_bookings),
        CASE(t_rolls_back),
        CASE(t_unknown_zone),
        CASE(t_branch_zone),
        CASE(t_demo_passwords_in_use),
    };

    return TU_RUN_BOTH("seed", tests) == 0 ? 0 : 1;
}
