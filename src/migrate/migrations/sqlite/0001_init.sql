-- 0001_init (SQLite) — the whole data model of SPEC §7.
--
-- Its twin, migrations/pg/0001_init.sql, has the same tables, columns,
-- constraint and index names.  Conventions (shared by every migration):
--   ids        INTEGER PRIMARY KEY (the rowid)
--   instants   TEXT, exactly 'YYYY-MM-DD HH:MM:SS+00' (UTC), what PostgreSQL
--              prints too; that fixed form is what makes text comparison
--              order instants correctly
--   booleans   INTEGER 0/1
--   money      INTEGER cents; the typeof() checks keep a REAL out, since
--              SQLite would otherwise store 12.5 in an INTEGER column
--   time of day TEXT 'HH:MM'
--   enums      TEXT with a CHECK listing the values
-- The runner wraps this file in one transaction: no BEGIN/COMMIT here.

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    address TEXT,
    city TEXT,
    country TEXT,
    timezone TEXT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'MXN',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT tenants_email_key UNIQUE (email),
    CONSTRAINT tenants_currency_check CHECK (currency GLOB '[A-Z][A-Z][A-Z]')
);

CREATE TABLE branches (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    address TEXT,
    timezone TEXT, -- NULL: the tenant's
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT branches_tenant_id_name_key UNIQUE (tenant_id, name),
    CONSTRAINT branches_active_check CHECK (active IN (0, 1))
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    branch_id INTEGER REFERENCES branches (id),
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT,
    role TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_role_check
        CHECK (role IN ('ADMIN', 'MANAGER', 'PROFESSIONAL', 'RECEPTIONIST')),
    CONSTRAINT users_active_check CHECK (active IN (0, 1))
);
CREATE INDEX users_tenant_id_idx ON users (tenant_id, id);
CREATE INDEX users_branch_id_idx ON users (branch_id);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    description TEXT,
    duration_min INTEGER NOT NULL,
    price_cents INTEGER NOT NULL,
    color TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT services_tenant_id_name_key UNIQUE (tenant_id, name),
    CONSTRAINT services_duration_min_check
        CHECK (typeof(duration_min) = 'integer' AND duration_min > 0),
    CONSTRAINT services_price_cents_check
        CHECK (typeof(price_cents) = 'integer' AND price_cents >= 0),
    CONSTRAINT services_active_check CHECK (active IN (0, 1))
);

-- Which professional offers which service, and the commission earned.
-- Assignments go with the service or the user they join.
CREATE TABLE service_professionals (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    commission_pct INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT service_professionals_service_id_user_id_key UNIQUE (service_id, user_id),
    CONSTRAINT service_professionals_commission_pct_check
        CHECK (typeof(commission_pct) = 'integer' AND commission_pct BETWEEN 0 AND 100)
);
CREATE INDEX service_professionals_tenant_id_idx ON service_professionals (tenant_id, service_id);
CREATE INDEX service_professionals_user_id_idx ON service_professionals (user_id);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL,
    email TEXT,
    notes TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT clients_tenant_id_phone_key UNIQUE (tenant_id, phone),
    CONSTRAINT clients_active_check CHECK (active IN (0, 1))
);
CREATE INDEX clients_tenant_id_idx ON clients (tenant_id, id);

-- Weekly opening hours of a branch (user_id NULL) or of one professional.
CREATE TABLE working_hours (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    branch_id INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    day_of_week INTEGER NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT working_hours_day_of_week_check
        CHECK (typeof(day_of_week) = 'integer' AND day_of_week BETWEEN 0 AND 6),
    CONSTRAINT working_hours_start_time_check
        CHECK (start_time GLOB '[01][0-9]:[0-5][0-9]' OR start_time GLOB '2[0-3]:[0-5][0-9]'),
    CONSTRAINT working_hours_end_time_check
        CHECK (end_time GLOB '[01][0-9]:[0-5][0-9]' OR end_time GLOB '2[0-3]:[0-5][0-9]'),
    CONSTRAINT working_hours_times_check CHECK (start_time < end_time)
);
CREATE INDEX working_hours_tenant_id_idx ON working_hours (tenant_id, branch_id, user_id, day_of_week);
CREATE INDEX working_hours_user_id_idx ON working_hours (user_id);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    client_id INTEGER NOT NULL REFERENCES clients (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    professional_id INTEGER NOT NULL REFERENCES users (id),
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'PENDING',
    price_cents INTEGER NOT NULL,
    notes TEXT,
    idempotency_key TEXT,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT appointments_tenant_id_idempotency_key_key UNIQUE (tenant_id, idempotency_key),
    -- The overlap triggers compare instants as text: only the one fixed form
    -- may enter, or '2025-01-09T10:00Z' would sort wrongly against it.
    CONSTRAINT appointments_start_at_check CHECK (start_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00'),
    CONSTRAINT appointments_end_at_check CHECK (end_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00'),
    CONSTRAINT appointments_times_check CHECK (end_at > start_at),
    CONSTRAINT appointments_status_check
        CHECK (status IN ('PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'NO_SHOW')),
    CONSTRAINT appointments_price_cents_check
        CHECK (typeof(price_cents) = 'integer' AND price_cents >= 0)
);
CREATE INDEX appointments_tenant_id_start_at_idx ON appointments (tenant_id, start_at);
CREATE INDEX appointments_professional_id_start_at_idx ON appointments (professional_id, start_at);
CREATE INDEX appointments_tenant_id_client_id_idx ON appointments (tenant_id, client_id, start_at);
CREATE INDEX appointments_tenant_id_branch_id_idx ON appointments (tenant_id, branch_id, start_at);

-- No double booking (SPEC §7): the appointments of one professional that
-- hold their slot (PENDING, CONFIRMED, COMPLETED) never overlap; half-open
-- intervals, so back-to-back is fine.  The check runs inside the writing
-- statement, and write transactions start with BEGIN IMMEDIATE, so no other
-- writer can slip in between.  The db layer maps 'slot_taken' to
-- ERR_DB_OVERLAP.
CREATE TRIGGER appointments_no_overlap_insert
BEFORE INSERT ON appointments
WHEN NEW.status IN ('PENDING', 'CONFIRMED', 'COMPLETED')
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE EXISTS (
        SELECT 1 FROM appointments AS a
        WHERE a.professional_id = NEW.professional_id
          AND a.status IN ('PENDING', 'CONFIRMED', 'COMPLETED')
          AND a.start_at < NEW.end_at
          AND NEW.start_at < a.end_at);
END;

CREATE TRIGGER appointments_no_overlap_update
BEFORE UPDATE OF professional_id, start_at, end_at, status ON appointments
WHEN NEW.status IN ('PENDING', 'CONFIRMED', 'COMPLETED')
BEGIN
    SELECT RAISE(ABORT, 'slot_taken')
    WHERE EXISTS (
        SELECT 1 FROM appointments AS a
        WHERE a.professional_id = NEW.professional_id
          AND a.id <> OLD.id
          AND a.status IN ('PENDING', 'CONFIRMED', 'COMPLETED')
          AND a.start_at < NEW.end_at
          AND NEW.start_at < a.end_at);
END;

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    appointment_id INTEGER REFERENCES appointments (id),
    amount_cents INTEGER NOT NULL,
    method TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'PAID',
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    paid_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    notes TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT payments_amount_cents_check
        CHECK (typeof(amount_cents) = 'integer' AND amount_cents > 0),
    CONSTRAINT payments_method_check
        CHECK (method IN ('CASH', 'CREDIT_CARD', 'DEBIT_CARD', 'TRANSFER', 'OTHER')),
    CONSTRAINT payments_status_check CHECK (status IN ('PAID', 'PARTIAL', 'PENDING'))
);
CREATE INDEX payments_tenant_id_paid_at_idx ON payments (tenant_id, paid_at);
CREATE INDEX payments_appointment_id_idx ON payments (appointment_id);

-- At most one row: the master admin's password hash (SPEC §4 step 7).
CREATE TABLE master_admin_config (
    id TEXT PRIMARY KEY NOT NULL DEFAULT 'singleton',
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT master_admin_config_id_check CHECK (id = 'singleton')
);

-- Login sessions; only a hash of the token is stored.  user_id NULL is the
-- master admin.  Sessions go with their user or tenant.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    tenant_id INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Program state kept in the database: the generated session secret, the
-- seed's "done once" markers.
CREATE TABLE settings (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT settings_key_key UNIQUE (key)
);
