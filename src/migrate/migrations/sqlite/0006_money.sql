-- Money (issue 19): tips, deposits and refunds as payment movements,
-- discounts on appointments, the deposit kept when a client does not come.
-- Its twin is migrations/pg/0006_money.sql (same names).
--
-- A recorded payment is never edited nor deleted by the program: a refund
-- is a new row (kind REFUND, negative amounts) that names the payment it
-- gives back (refund_of).  The rules that need a sum are checked in the one
-- transaction that writes (see src/api/money.h).

-- Retail products (issue 19) and their stock per branch, which moves only
-- through recorded movements: the stock at any instant is the sum of the
-- movements before it.  It never goes below zero unless the tenant allows
-- it (money_settings), checked in the transaction that moves it, under a
-- lock of the product's row.
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    cost_cents INTEGER NOT NULL DEFAULT 0,
    low_stock_threshold INTEGER NOT NULL DEFAULT 0,
    commission_pct INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT products_tenant_id_sku_key UNIQUE (tenant_id, sku),
    CONSTRAINT products_price_cents_check CHECK (typeof(price_cents) = 'integer'
        AND typeof(cost_cents) = 'integer' AND price_cents >= 0 AND cost_cents >= 0),
    CONSTRAINT products_low_stock_threshold_check CHECK (low_stock_threshold >= 0),
    CONSTRAINT products_commission_pct_check CHECK (commission_pct BETWEEN 0 AND 100)
);

CREATE TABLE money_settings (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    allow_negative_stock INTEGER NOT NULL DEFAULT 0 CHECK (allow_negative_stock IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT money_settings_tenant_id_key UNIQUE (tenant_id)
);

-- A sale (ticket): lines of services (an appointment's) and products, paid
-- by one or several methods (payments.sale_id).
CREATE TABLE sales (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    client_id INTEGER REFERENCES clients (id),
    total_cents INTEGER NOT NULL,
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    sold_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    notes TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT sales_total_cents_check CHECK (typeof(total_cents) = 'integer' AND total_cents >= 0)
);
CREATE INDEX sales_tenant_id_sold_at_idx ON sales (tenant_id, branch_id, sold_at);

CREATE TABLE sale_lines (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    sale_id INTEGER NOT NULL REFERENCES sales (id),
    kind TEXT NOT NULL,
    appointment_id INTEGER REFERENCES appointments (id),
    product_id INTEGER REFERENCES products (id),
    professional_id INTEGER REFERENCES users (id),
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT sale_lines_kind_check CHECK (
        (kind = 'SERVICE' AND appointment_id IS NOT NULL AND product_id IS NULL)
        OR (kind = 'PRODUCT' AND product_id IS NOT NULL AND appointment_id IS NULL)),
    CONSTRAINT sale_lines_quantity_check CHECK (quantity > 0),
    CONSTRAINT sale_lines_amount_cents_check
        CHECK (typeof(unit_price_cents) = 'integer' AND unit_price_cents >= 0 AND amount_cents = quantity * unit_price_cents)
);
CREATE INDEX sale_lines_sale_id_idx ON sale_lines (sale_id);
CREATE INDEX sale_lines_tenant_id_product_id_idx ON sale_lines (tenant_id, product_id);

CREATE TABLE stock_movements (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    kind TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_cost_cents INTEGER,
    reason TEXT,
    sale_id INTEGER REFERENCES sales (id),
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    moved_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT stock_movements_kind_check
        CHECK (kind IN ('SALE', 'RETURN', 'RECEIPT', 'ADJUSTMENT')),
    CONSTRAINT stock_movements_quantity_check CHECK (
        quantity <> 0
        AND (kind <> 'SALE' OR quantity < 0)
        AND (kind NOT IN ('RETURN', 'RECEIPT') OR quantity > 0)
        AND (kind <> 'ADJUSTMENT' OR length(reason) > 0)
        AND (kind <> 'SALE' OR sale_id IS NOT NULL))
);
CREATE INDEX stock_movements_product_idx
    ON stock_movements (tenant_id, product_id, branch_id, moved_at);


-- The cash close (corte de caja) of a branch's day, or of one register
-- user's day (register_user_id).  [from_at, to_at) is that day in the
-- branch's zone; once closed, no movement recorded in it may be added.
CREATE TABLE cash_closes (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    business_date TEXT NOT NULL,
    register_user_id INTEGER REFERENCES users (id),
    from_at TEXT NOT NULL,
    to_at TEXT NOT NULL,
    opening_float_cents INTEGER NOT NULL,
    cash_in_cents INTEGER NOT NULL,
    expected_cash_cents INTEGER NOT NULL,
    counted_cash_cents INTEGER NOT NULL,
    difference_cents INTEGER NOT NULL,
    tips_cents INTEGER NOT NULL,
    refunds_cents INTEGER NOT NULL,
    by_method TEXT NOT NULL,
    note TEXT,
    closed_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    closed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT cash_closes_amounts_check CHECK (typeof(opening_float_cents) = 'integer'
        AND typeof(counted_cash_cents) = 'integer' AND opening_float_cents >= 0
        AND counted_cash_cents >= 0
        AND difference_cents = counted_cash_cents - expected_cash_cents),
    CONSTRAINT cash_closes_times_check CHECK (from_at < to_at)
);
CREATE UNIQUE INDEX cash_closes_day_key
    ON cash_closes (tenant_id, branch_id, business_date, COALESCE(register_user_id, 0));
CREATE INDEX cash_closes_tenant_id_idx ON cash_closes (tenant_id, branch_id, from_at);

-- A professional's commission for a period, as it was when the manager
-- marked it paid.
CREATE TABLE commission_statements (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    professional_id INTEGER NOT NULL REFERENCES users (id),
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    services_cents INTEGER NOT NULL,
    service_commission_cents INTEGER NOT NULL,
    product_commission_cents INTEGER NOT NULL,
    tips_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    paid_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    paid_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT commission_statements_period_key UNIQUE (tenant_id, professional_id, period_from,
                                                         period_to),
    CONSTRAINT commission_statements_total_check CHECK (
        total_cents = service_commission_cents + product_commission_cents + tips_cents)
);

-- The reports read appointments by tenant, status and start, and a client's
-- visits (appointments_tenant_id_client_id_idx) for the retention.
CREATE INDEX appointments_tenant_id_status_start_at_idx
    ON appointments (tenant_id, status, start_at);

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
    sale_id INTEGER REFERENCES sales (id),
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
-- The reports of payments read only these columns (a covering index).
CREATE INDEX payments_report_idx
    ON payments (tenant_id, paid_at, kind, amount_cents, tip_cents, method, branch_id);
CREATE INDEX payments_sale_id_idx ON payments (sale_id);

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
