"""The schema that `migrate deploy` creates (SPEC §7), checked at the database
itself, on both backends: every table and column of the model, the indexes,
the CHECK / UNIQUE / FOREIGN KEY constraints, and the no-double-booking rule
(PostgreSQL exclusion constraint, SQLite triggers).

Rows are written with psql / the sqlite3 module directly, never through the
program, so that the rules are proven to hold whatever the API does."""
import os
import re
import sqlite3
import subprocess

import pytest

from conftest import pg_parts

# The data model, as agreed (SPEC §7 and the shared data-model decisions).
TABLES = {
    "tenants": ["id", "name", "email", "phone", "address", "city", "country", "timezone",
                "currency", "created_at", "updated_at", "slug", "default_country_code"],
    "branches": ["id", "tenant_id", "name", "email", "phone", "address", "timezone", "active",
                 "created_at", "updated_at", "slug"],
    "users": ["id", "tenant_id", "branch_id", "email", "password_hash", "first_name",
              "last_name", "phone", "role", "active", "created_at", "updated_at"],
    "services": ["id", "tenant_id", "name", "description", "duration_min", "price_cents",
                 "color", "active", "created_at", "updated_at", "online_bookable"],
    "service_professionals": ["id", "tenant_id", "service_id", "user_id", "commission_pct",
                              "created_at", "updated_at"],
    "clients": ["id", "tenant_id", "first_name", "last_name", "phone", "email", "notes",
                "active", "created_at", "updated_at", "notify_channel", "notify_language",
                "notify_opt_out"],
    "working_hours": ["id", "tenant_id", "branch_id", "user_id", "day_of_week", "start_time",
                      "end_time", "created_at", "updated_at"],
    "appointments": ["id", "tenant_id", "branch_id", "client_id", "service_id",
                     "professional_id", "start_at", "end_at", "status", "price_cents", "notes",
                     "idempotency_key", "created_by", "created_at", "updated_at", "source",
                     "manage_token_hash", "manage_expires_at",
                     # the staff app's day one (0008, issue 16)
                     "cancel_reason", "cancelled_at", "cancelled_from"],
    # Online booking (0002, issue 18).
    "online_booking_rules": ["id", "tenant_id", "enabled", "min_notice_min", "horizon_days",
                             "step_min", "initial_status", "cancel_cutoff_min", "message",
                             "color", "frame_ancestors", "default_country",
                             "limit_bookings_per_address_hour", "limit_bookings_per_phone_day",
                             "limit_lookups_per_address_min", "created_at", "updated_at"],
    "online_booking_keys": ["id", "tenant_id", "key_hash", "request_hash", "appointment_id",
                            "created_at", "updated_at"],
    "rate_limits": ["id", "bucket", "window_start", "hits", "created_at", "updated_at"],
    "payments": ["id", "tenant_id", "appointment_id", "amount_cents", "method", "status",
                 "recorded_by", "paid_at", "notes", "created_at", "updated_at",
                 # money (0006, issue 19)
                 "kind", "tip_cents", "professional_id", "refund_of", "branch_id", "reason",
                 "sale_id"],
    "master_admin_config": ["id", "password_hash", "created_at", "updated_at"],
    "sessions": ["id", "token_hash", "user_id", "tenant_id", "expires_at", "created_at",
                 "updated_at"],
    "settings": ["id", "key", "value", "created_at", "updated_at"],
    "login_throttle": ["key", "failures", "window_start", "blocked_until"],
    "import_map": ["id", "source_table", "source_id", "target_id", "created_at"],
    # Money (0006, issue 19).
    "appointment_discounts": ["id", "tenant_id", "appointment_id", "kind", "value",
                              "amount_cents", "reason", "recorded_by", "created_at",
                              "updated_at"],
    "discount_limits": ["id", "tenant_id", "role", "max_pct", "created_at", "updated_at"],
    "deposit_retentions": ["id", "tenant_id", "payment_id", "amount_cents", "reason",
                           "recorded_by", "created_at", "updated_at"],
    "products": ["id", "tenant_id", "sku", "name", "price_cents", "cost_cents",
                 "low_stock_threshold", "commission_pct", "active", "created_at", "updated_at"],
    "money_settings": ["id", "tenant_id", "allow_negative_stock", "created_at", "updated_at"],
    "sales": ["id", "tenant_id", "branch_id", "client_id", "total_cents", "recorded_by",
              "sold_at", "notes", "created_at", "updated_at"],
    "sale_lines": ["id", "tenant_id", "sale_id", "kind", "appointment_id", "product_id",
                   "professional_id", "quantity", "unit_price_cents", "amount_cents",
                   "created_at", "updated_at"],
    "stock_movements": ["id", "tenant_id", "branch_id", "product_id", "kind", "quantity",
                        "unit_cost_cents", "reason", "sale_id", "recorded_by", "moved_at",
                        "created_at", "updated_at"],
    "cash_closes": ["id", "tenant_id", "branch_id", "business_date", "register_user_id",
                    "from_at", "to_at", "opening_float_cents", "cash_in_cents",
                    "expected_cash_cents", "counted_cash_cents", "difference_cents",
                    "tips_cents", "refunds_cents", "by_method", "note", "closed_by",
                    "closed_at", "created_at", "updated_at"],
    "commission_statements": ["id", "tenant_id", "professional_id", "period_from", "period_to",
                              "services_cents", "service_commission_cents",
                              "product_commission_cents", "tips_cents", "total_cents",
                              "paid_by", "paid_at", "created_at", "updated_at"],
    # Notifications (0007, issue 17).
    "notification_settings": ["id", "tenant_id", "email_enabled", "whatsapp_enabled",
                              "sms_enabled", "language", "reminder_offsets_min", "quiet_start",
                              "quiet_end", "give_up_min", "whatsapp_phone_number_id",
                              "whatsapp_token", "whatsapp_app_secret", "whatsapp_api_version",
                              "twilio_account_sid", "twilio_auth_token", "twilio_from",
                              "created_at", "updated_at"],
    "message_templates": ["id", "tenant_id", "channel", "kind", "language", "subject", "body",
                          "wa_template", "created_at", "updated_at"],
    "notification_outbox": ["id", "tenant_id", "appointment_id", "client_id", "channel", "kind",
                            "language", "recipient", "appt_start_at", "send_at", "status",
                            "attempts", "next_attempt_at", "provider_id", "error",
                            "idempotency_key", "subject", "body", "params", "sent_at", "created_at",
                            "updated_at"],
    "notification_replies": ["id", "tenant_id", "client_id", "appointment_id", "channel",
                             "sender", "body", "action", "provider_id", "created_at",
                             "updated_at"],
    # Time off (0008, issue 16).
    "time_off": ["id", "tenant_id", "user_id", "start_at", "end_at", "reason", "created_at"],
    "_migrations": ["id", "name", "checksum", "started_at", "finished_at", "rolled_back_at",
                    "logs"],
}

INDEXES = [
    "users_tenant_id_idx", "clients_tenant_id_idx", "service_professionals_tenant_id_idx",
    "working_hours_tenant_id_idx", "appointments_tenant_id_start_at_idx",
    "appointments_professional_id_start_at_idx", "payments_tenant_id_paid_at_idx",
    "sessions_expires_at_idx", "login_throttle_window_start_idx", "tenants_slug_key",
    "branches_tenant_id_slug_key", "appointments_manage_token_hash_key",
    "appointments_tenant_id_source_idx", "rate_limits_window_start_idx",
    "payments_refund_of_idx", "payments_tenant_id_professional_id_idx",
    "payments_tenant_id_branch_id_paid_at_idx", "payments_sale_id_idx", "payments_report_idx",
    "stock_movements_product_idx", "sales_tenant_id_sold_at_idx", "cash_closes_day_key",
    "appointments_tenant_id_status_start_at_idx",
    "notification_outbox_status_next_attempt_at_idx",
    "notification_outbox_tenant_id_appointment_id_idx",
    "notification_outbox_tenant_id_created_at_idx",
    "notification_replies_tenant_id_created_at_idx",
    "time_off_tenant_id_user_id_start_at_idx",
]

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00$")


def sql(db, text):
    """Run SQL directly on the database.  Returns (rows, None) or (None, error text)."""
    if db.kind == "sqlite":
        con = sqlite3.connect(db.path, timeout=10)
        try:
            con.execute("PRAGMA foreign_keys=ON")
            cur = con.execute(text)
            rows = [list(r) for r in cur.fetchall()]
            con.commit()
            return rows, None
        except sqlite3.DatabaseError as ex:
            return None, str(ex)
        finally:
            con.close()
    user, password, host, port, dbname = pg_parts(db.url)
    env = dict(os.environ, PGPASSWORD=password, PGUSER=user, PGHOST=host, PGPORT=str(port),
               PGDATABASE=dbname, PGTZ="UTC")
    p = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-c", text], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr
    return [line.split("\t") for line in p.stdout.splitlines() if line != ""], None


def ok(db, text):
    rows, error = sql(db, text)
    assert error is None, f"{text}\n-> {error}"
    return rows


def fails(db, text):
    rows, error = sql(db, text)
    assert error is not None, f"the database accepted: {text}"
    return error


@pytest.fixture
def schema(db, cp):
    r = cp(["migrate", "deploy"], database=db)
    assert r.returncode == 0, r.stderr
    return db


@pytest.fixture
def data(schema):
    """One tenant with a branch, two professionals, a client and a service
    (ids 1, and 1 and 2 for the professionals: the first rows of fresh tables;
    explicit ids would leave PostgreSQL's identity behind)."""
    db = schema
    ok(db, "INSERT INTO tenants (name, email, timezone) "
           "VALUES ('Spa', 'spa@example.com', 'America/Mexico_City')")
    ok(db, "INSERT INTO branches (tenant_id, name) VALUES (1, 'Centro')")
    for uid in (1, 2):
        ok(db, f"INSERT INTO users (tenant_id, branch_id, email, password_hash, first_name, "
               f"role) VALUES (1, 1, 'pro{uid}@example.com', 'x', 'Pro', 'PROFESSIONAL')")
    ok(db, "INSERT INTO clients (tenant_id, first_name, phone) VALUES (1, 'Ana', '+52 1')")
    ok(db, "INSERT INTO services (tenant_id, name, duration_min, price_cents) "
           "VALUES (1, 'Facial', 60, 85000)")
    assert [int(r[0]) for r in ok(db, "SELECT id FROM users ORDER BY id")] == [1, 2]
    return db


def appt(start, end, status="PENDING", pro=1, aid=None, key=None):
    cols = "tenant_id, branch_id, client_id, service_id, professional_id, start_at, end_at, " \
           "status, price_cents"
    vals = f"1, 1, 1, 1, {pro}, '2025-03-10 {start}:00+00', '2025-03-10 {end}:00+00', " \
           f"'{status}', 85000"
    if aid is not None:
        cols, vals = "id, " + cols, f"{aid}, " + vals
    if key is not None:
        cols, vals = cols + ", idempotency_key", vals + f", '{key}'"
    return f"INSERT INTO appointments ({cols}) VALUES ({vals})"


def assert_overlap_error(db, error):
    if db.kind == "pg":
        assert "appointments_no_overlap" in error and "exclusion constraint" in error, error
    else:
        assert "slot_taken" in error, error


def table_names(db):
    if db.kind == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    return sorted(r[0] for r in ok(db, q))


def column_names(db, table):
    if db.kind == "sqlite":
        return sorted(r[1] for r in ok(db, f"PRAGMA table_info({table})"))
    return sorted(r[0] for r in ok(db, "SELECT column_name FROM information_schema.columns "
                                       f"WHERE table_schema = 'public' AND table_name = '{table}'"))


def index_names(db):
    if db.kind == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        q = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    return {r[0] for r in ok(db, q)}


def test_every_table_of_the_model_exists_with_its_columns(schema):
    assert table_names(schema) == sorted(TABLES)
    for table, cols in TABLES.items():
        assert column_names(schema, table) == sorted(cols), table


def test_indexes_for_tenant_lists_and_the_calendar(schema):
    missing = [i for i in INDEXES if i not in index_names(schema)]
    assert missing == []


def test_defaults_instants_booleans_money(data):
    db = data
    rows = ok(db, "SELECT currency, created_at, updated_at FROM tenants WHERE id = 1")
    assert rows[0][0] == "MXN"
    assert INSTANT.match(str(rows[0][1])), rows
    assert INSTANT.match(str(rows[0][2])), rows
    assert str(ok(db, "SELECT active FROM branches WHERE id = 1")[0][0]) in ("1", "t")
    ok(db, appt("10:00", "11:00"))
    assert ok(db, "SELECT status, price_cents FROM appointments")[0] in (
        ["PENDING", 85000], ["PENDING", "85000"])
    # Instants sort as instants: the stored text is the fixed UTC form.
    assert INSTANT.match(str(ok(db, "SELECT start_at FROM appointments")[0][0]))


def test_overlapping_active_appointments_are_refused(data):
    db = data
    ok(db, appt("10:00", "11:00", "PENDING"))
    for status in ("PENDING", "CONFIRMED", "COMPLETED"):
        assert_overlap_error(db, fails(db, appt("10:30", "11:30", status)))
    # Contained in, and containing, the existing one.
    assert_overlap_error(db, fails(db, appt("10:15", "10:45", "CONFIRMED")))
    assert_overlap_error(db, fails(db, appt("09:00", "12:00", "CONFIRMED")))
    assert db.count("appointments") == 1


def test_cancelled_and_no_show_may_overlap(data):
    db = data
    ok(db, appt("10:00", "11:00", "CONFIRMED"))
    ok(db, appt("10:00", "11:00", "CANCELLED"))
    ok(db, appt("10:30", "11:30", "NO_SHOW"))
    assert db.count("appointments") == 3


def test_adjacent_appointments_and_other_professionals_are_fine(data):
    db = data
    ok(db, appt("10:00", "11:00", "CONFIRMED"))
    ok(db, appt("11:00", "12:00", "CONFIRMED"))  # end = start
    ok(db, appt("09:00", "10:00", "PENDING"))
    ok(db, appt("10:00", "11:00", "CONFIRMED", pro=2))  # same time, another professional
    assert db.count("appointments") == 4


def test_reactivating_or_moving_into_a_taken_slot_is_refused(data):
    db = data
    ok(db, appt("10:00", "11:00", "CONFIRMED", aid=1))
    ok(db, appt("10:00", "11:00", "CANCELLED", aid=2))
    assert_overlap_error(db, fails(db, "UPDATE appointments SET status = 'CONFIRMED' WHERE id = 2"))
    ok(db, appt("12:00", "13:00", "PENDING", aid=3))
    assert_overlap_error(db, fails(db, "UPDATE appointments SET start_at = '2025-03-10 10:30:00+00'"
                                       ", end_at = '2025-03-10 11:30:00+00' WHERE id = 3"))
    assert_overlap_error(db, fails(db, "UPDATE appointments SET professional_id = 1, "
                                       "start_at = '2025-03-10 10:00:00+00', "
                                       "end_at = '2025-03-10 11:00:00+00' WHERE id = 3"))
    # Moving an appointment within its own slot is not a conflict with itself.
    ok(db, "UPDATE appointments SET end_at = '2025-03-10 11:30:00+00' WHERE id = 1")
    # Freeing the slot lets the other one take it.
    ok(db, "UPDATE appointments SET status = 'CANCELLED' WHERE id = 1")
    ok(db, "UPDATE appointments SET status = 'CONFIRMED' WHERE id = 2")
    rows = ok(db, "SELECT id, status FROM appointments ORDER BY id")
    assert [[int(r[0]), r[1]] for r in rows] == [[1, "CANCELLED"], [2, "CONFIRMED"],
                                                  [3, "PENDING"]]


CHECKS = [
    ("users_role_check", "INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
                         "VALUES (1, 'x@example.com', 'x', 'X', 'OWNER')"),
    ("appointments_status_check", appt("14:00", "15:00", "DONE")),
    ("services_price_cents_check", "INSERT INTO services (tenant_id, name, duration_min, "
                                   "price_cents) VALUES (1, 'Free', 30, -1)"),
    ("services_duration_min_check", "INSERT INTO services (tenant_id, name, duration_min, "
                                    "price_cents) VALUES (1, 'Zero', 0, 100)"),
    ("appointments_price_cents_check",
     appt("14:00", "15:00").replace("85000)", "-100)")),
    ("appointments_times_check", appt("15:00", "14:00")),
    ("payments_amount_cents_check", "INSERT INTO payments (tenant_id, amount_cents, method) "
                                    "VALUES (1, 0, 'CASH')"),
    ("payments_amount_cents_check", "INSERT INTO payments (tenant_id, amount_cents, method, "
                                    "kind, refund_of) VALUES (1, 100, 'CASH', 'REFUND', 1)"),
    ("payments_kind_check", "INSERT INTO payments (tenant_id, amount_cents, method, kind) "
                            "VALUES (1, 100, 'CASH', 'TIP')"),
    ("payments_refund_of_check", "INSERT INTO payments (tenant_id, amount_cents, method, kind) "
                                 "VALUES (1, -100, 'CASH', 'REFUND')"),
    ("payments_tip_cents_check", "INSERT INTO payments (tenant_id, amount_cents, method, "
                                 "tip_cents) VALUES (1, 100, 'CASH', 50)"),
    ("appointment_discounts_kind_check",
     "INSERT INTO appointment_discounts (tenant_id, appointment_id, kind, value, amount_cents, "
     "reason) VALUES (1, 1, 'GIFT', 1, 1, 'x')"),
    ("appointment_discounts_value_check",
     "INSERT INTO appointment_discounts (tenant_id, appointment_id, kind, value, amount_cents, "
     "reason) VALUES (1, 1, 'PERCENT', 101, 1, 'x')"),
    ("appointment_discounts_reason_check",
     "INSERT INTO appointment_discounts (tenant_id, appointment_id, kind, value, amount_cents, "
     "reason) VALUES (1, 1, 'AMOUNT', 1, 1, '')"),
    ("stock_movements_quantity_check",
     "INSERT INTO stock_movements (tenant_id, branch_id, product_id, kind, quantity) "
     "VALUES (1, 1, 1, 'RECEIPT', -1)"),
    ("sale_lines_amount_cents_check",
     "INSERT INTO sale_lines (tenant_id, sale_id, kind, product_id, quantity, unit_price_cents, "
     "amount_cents) VALUES (1, 1, 'PRODUCT', 1, 2, 100, 150)"),
    ("discount_limits_max_pct_check",
     "INSERT INTO discount_limits (tenant_id, role, max_pct) VALUES (1, 'RECEPTIONIST', 101)"),
    ("discount_limits_role_check",
     "INSERT INTO discount_limits (tenant_id, role, max_pct) VALUES (1, 'ADMIN', 10)"),
    ("payments_method_check", "INSERT INTO payments (tenant_id, amount_cents, method) "
                              "VALUES (1, 100, 'BITCOIN')"),
    ("payments_status_check", "INSERT INTO payments (tenant_id, amount_cents, method, status) "
                              "VALUES (1, 100, 'CASH', 'REFUNDED')"),
    ("service_professionals_commission_pct_check",
     "INSERT INTO service_professionals (tenant_id, service_id, user_id, commission_pct) "
     "VALUES (1, 1, 1, 101)"),
    ("working_hours_day_of_week_check", "INSERT INTO working_hours (tenant_id, branch_id, "
                                        "day_of_week, start_time, end_time) "
                                        "VALUES (1, 1, 7, '09:00', '18:00')"),
    ("working_hours_times_check", "INSERT INTO working_hours (tenant_id, branch_id, "
                                  "day_of_week, start_time, end_time) "
                                  "VALUES (1, 1, 1, '18:00', '09:00')"),
    ("working_hours_start_time_check", "INSERT INTO working_hours (tenant_id, branch_id, "
                                       "day_of_week, start_time, end_time) "
                                       "VALUES (1, 1, 1, '0900', '18:00')"),
    ("tenants_currency_check", "INSERT INTO tenants (name, email, timezone, currency) "
                               "VALUES ('X', 'x@example.com', 'UTC', 'pesos')"),
    ("master_admin_config_id_check", "INSERT INTO master_admin_config (id, password_hash) "
                                     "VALUES ('second', 'x')"),
    ("online_booking_rules_step_min_check",
     "INSERT INTO online_booking_rules (tenant_id, step_min) VALUES (1, 7)"),
    ("online_booking_rules_initial_status_check",
     "INSERT INTO online_booking_rules (tenant_id, initial_status) VALUES (1, 'COMPLETED')"),
    ("online_booking_rules_color_check",
     "INSERT INTO online_booking_rules (tenant_id, color) VALUES (1, 'red')"),
    ("online_booking_rules_limits_check",
     "INSERT INTO online_booking_rules (tenant_id, limit_bookings_per_phone_day) VALUES (1, 0)"),
]


@pytest.mark.parametrize("name,statement", CHECKS, ids=[c[0] for c in CHECKS])
def test_check_constraints_reject_bad_values(data, name, statement):
    error = fails(data, statement)
    assert name in error, error


UNIQUES = [
    ("users_email_key", "INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
                        "VALUES (1, 'pro1@example.com', 'x', 'X', 'ADMIN')"),
    ("clients_tenant_id_phone_key", "INSERT INTO clients (tenant_id, first_name, phone) "
                                    "VALUES (1, 'Otra', '+52 1')"),
    ("services_tenant_id_name_key", "INSERT INTO services (tenant_id, name, duration_min, "
                                    "price_cents) VALUES (1, 'Facial', 30, 100)"),
    ("branches_tenant_id_name_key", "INSERT INTO branches (tenant_id, name) VALUES (1, 'Centro')"),
    ("branches_tenant_id_slug_key", "INSERT INTO branches (tenant_id, name, slug) "
                                    "VALUES (1, 'B2', 'x'), (1, 'B3', 'x')"),
]


@pytest.mark.parametrize("name,statement", UNIQUES, ids=[u[0] for u in UNIQUES])
def test_unique_keys(data, name, statement):
    error = fails(data, statement)
    if data.kind == "pg":
        assert name in error, error
    else:
        assert "UNIQUE constraint failed" in error, error


def test_idempotency_key_is_unique_per_tenant_only(data):
    db = data
    ok(db, appt("10:00", "11:00", "CANCELLED", key="k1"))
    error = fails(db, appt("12:00", "13:00", "CANCELLED", key="k1"))
    assert "appointments_tenant_id_idempotency_key_key" in error or "UNIQUE" in error, error
    # No key: any number of them.
    ok(db, appt("14:00", "15:00", "CANCELLED"))
    ok(db, appt("14:00", "15:00", "CANCELLED"))


def test_foreign_keys_are_enforced(data):
    error = fails(data, appt("10:00", "11:00").replace("1, 1, 1, 1, 1,", "1, 1, 99, 1, 1,"))
    assert "foreign key" in error.lower(), error
    # A tenant with data cannot be deleted out from under it.
    error = fails(data, "DELETE FROM tenants WHERE id = 1")
    assert "foreign key" in error.lower(), error
    assert data.count("tenants") == 1


# PostgreSQL's BIGINT cannot hold a fraction at all: SQLite only.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_rejects_fractional_money(db, cp):
    assert cp(["migrate", "deploy"], database=db).returncode == 0
    ok(db, "INSERT INTO tenants (id, name, email, timezone) VALUES (1, 'S', 's@x', 'UTC')")
    error = fails(db, "INSERT INTO services (tenant_id, name, duration_min, price_cents) "
                      "VALUES (1, 'Half', 30, 12.5)")
    assert "services_price_cents_check" in error, error
    # An instant in another text form would sort wrongly: refused.
    ok(db, "INSERT INTO branches (id, tenant_id, name) VALUES (1, 1, 'B')")
    ok(db, "INSERT INTO users (id, tenant_id, email, password_hash, first_name, role) "
           "VALUES (1, 1, 'p@x', 'x', 'P', 'PROFESSIONAL')")
    ok(db, "INSERT INTO clients (id, tenant_id, first_name, phone) VALUES (1, 1, 'C', '1')")
    ok(db, "INSERT INTO services (id, tenant_id, name, duration_min, price_cents) "
           "VALUES (1, 1, 'S', 60, 100)")
    error = fails(db, appt("10:00", "11:00").replace("2025-03-10 10:00:00+00",
                                                     "2025-03-10T10:00:00Z"))
    assert "appointments_start_at_check" in error, error
