-- Money (issue 19): tips, deposits and refunds as payment movements,
-- discounts on appointments, the deposit kept when a client does not come.
-- Its twin is migrations/pg/0006_money.sql (same names).
--
-- A recorded payment is never edited nor deleted by the program: a refund
-- is a new row (kind REFUND, negative amounts) that names the payment it
-- gives back (refund_of).  The rules that need a sum are checked in the one
-- transaction that writes (see src/api/money.h).
--
-- SQLite cannot change a CHECK: payments is rebuilt with its new columns
-- and rules (same rows, ids, names and indexes).  Nothing refers to it yet.

CREATE TABLE payments_new (
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
    kind TEXT NOT NULL DEFAULT 'PAYMENT',
    tip_cents INTEGER NOT NULL DEFAULT 0,
    professional_id INTEGER REFERENCES users (id),
    refund_of INTEGER REFERENCES payments (id),
    branch_id INTEGER REFERENCES branches (id),
    reason TEXT,
    CONSTRAINT payments_amount_cents_check CHECK (
        typeof(amount_cents) = 'integer' AND typeof(tip_cents) = 'integer' AND (
        (kind <> 'REFUND' AND amount_cents >= 0 AND tip_cents >= 0
         AND amount_cents + tip_cents > 0)
        OR (kind = 'REFUND' AND amount_cents <= 0 AND tip_cents <= 0
            AND amount_cents + tip_cents < 0))),
    CONSTRAINT payments_method_check
        CHECK (method IN ('CASH', 'CREDIT_CARD', 'DEBIT_CARD', 'TRANSFER', 'OTHER')),
    CONSTRAINT payments_status_check CHECK (status IN ('PAID', 'PARTIAL', 'PENDING')),
    CONSTRAINT payments_kind_check CHECK (kind IN ('PAYMENT', 'DEPOSIT', 'REFUND')),
    CONSTRAINT payments_refund_of_check CHECK ((kind = 'REFUND') = (refund_of IS NOT NULL)),
    CONSTRAINT payments_tip_cents_check CHECK (tip_cents = 0 OR professional_id IS NOT NULL)
);
INSERT INTO payments_new (id, tenant_id, appointment_id, amount_cents, method, status,
                          recorded_by, paid_at, notes, created_at, updated_at)
    SELECT id, tenant_id, appointment_id, amount_cents, method, status, recorded_by, paid_at,
           notes, created_at, updated_at FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_tenant_id_paid_at_idx ON payments (tenant_id, paid_at);
CREATE INDEX payments_appointment_id_idx ON payments (appointment_id);
CREATE INDEX payments_refund_of_idx ON payments (refund_of);
CREATE INDEX payments_tenant_id_professional_id_idx ON payments (tenant_id, professional_id, paid_at);
CREATE INDEX payments_tenant_id_branch_id_paid_at_idx ON payments (tenant_id, branch_id, paid_at);

-- One discount per appointment: an amount, or a percentage of its price
-- (amount_cents is what it takes off, computed when it was given).
CREATE TABLE appointment_discounts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    appointment_id INTEGER NOT NULL REFERENCES appointments (id),
    kind TEXT NOT NULL,
    value INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    reason TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT appointment_discounts_appointment_id_key UNIQUE (appointment_id),
    CONSTRAINT appointment_discounts_kind_check CHECK (kind IN ('AMOUNT', 'PERCENT')),
    CONSTRAINT appointment_discounts_value_check
        CHECK (typeof(value) = 'integer' AND value > 0 AND (kind = 'AMOUNT' OR value <= 100)),
    CONSTRAINT appointment_discounts_amount_cents_check
        CHECK (typeof(amount_cents) = 'integer' AND amount_cents > 0),
    CONSTRAINT appointment_discounts_reason_check CHECK (length(reason) > 0)
);
CREATE INDEX appointment_discounts_tenant_id_idx ON appointment_discounts (tenant_id);

-- The largest discount (percent of the price) a role may give; ADMIN and
-- MANAGER have no limit; a role without a row may give none.
CREATE TABLE discount_limits (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    role TEXT NOT NULL,
    max_pct INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT discount_limits_tenant_id_role_key UNIQUE (tenant_id, role),
    CONSTRAINT discount_limits_role_check CHECK (role IN ('PROFESSIONAL', 'RECEPTIONIST')),
    CONSTRAINT discount_limits_max_pct_check CHECK (max_pct BETWEEN 0 AND 100)
);

-- A deposit kept (not given back) after a cancellation or a no-show.
CREATE TABLE deposit_retentions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    payment_id INTEGER NOT NULL REFERENCES payments (id),
    amount_cents INTEGER NOT NULL,
    reason TEXT,
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT deposit_retentions_payment_id_key UNIQUE (payment_id),
    CONSTRAINT deposit_retentions_amount_cents_check
        CHECK (typeof(amount_cents) = 'integer' AND amount_cents > 0)
);
CREATE INDEX deposit_retentions_tenant_id_idx ON deposit_retentions (tenant_id, created_at);
