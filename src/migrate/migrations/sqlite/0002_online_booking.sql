-- Online booking (issue 18): clients book, reschedule and cancel from a link.
-- SQLite cannot add a UNIQUE column nor a named CHECK to a table: the rules
-- are unique indexes and triggers here.

-- The link is /b/{tenants.slug}/{branches.slug}; NULL until the ADMIN sets one.
ALTER TABLE tenants ADD COLUMN slug TEXT
    CHECK (slug IS NULL OR (length(slug) BETWEEN 1 AND 50 AND slug NOT GLOB '*[^a-z0-9-]*'
           AND slug NOT GLOB '-*' AND slug NOT GLOB '*-'));
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
ALTER TABLE branches ADD COLUMN slug TEXT
    CHECK (slug IS NULL OR (length(slug) BETWEEN 1 AND 50 AND slug NOT GLOB '*[^a-z0-9-]*'
           AND slug NOT GLOB '-*' AND slug NOT GLOB '*-'));
CREATE UNIQUE INDEX branches_tenant_id_slug_key ON branches (tenant_id, slug);

-- Which services clients may book themselves.
ALTER TABLE services ADD COLUMN online_bookable INTEGER NOT NULL DEFAULT 1
    CHECK (online_bookable IN (0, 1));

-- Who booked, and the hash of the manage link's token (SHA-256, hex) with its end.
ALTER TABLE appointments ADD COLUMN source TEXT NOT NULL DEFAULT 'staff'
    CHECK (source IN ('staff', 'online'));
ALTER TABLE appointments ADD COLUMN manage_token_hash TEXT;
ALTER TABLE appointments ADD COLUMN manage_expires_at TEXT;
CREATE UNIQUE INDEX appointments_manage_token_hash_key ON appointments (manage_token_hash);
CREATE INDEX appointments_tenant_id_source_idx ON appointments (tenant_id, source, start_at);

-- The booking rules of a tenant (one row; none: online booking is off).
CREATE TABLE online_booking_rules (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    enabled INTEGER NOT NULL DEFAULT 0,
    min_notice_min INTEGER NOT NULL DEFAULT 120,
    horizon_days INTEGER NOT NULL DEFAULT 60,
    step_min INTEGER NOT NULL DEFAULT 15,
    initial_status TEXT NOT NULL DEFAULT 'PENDING',
    cancel_cutoff_min INTEGER NOT NULL DEFAULT 1440,
    message TEXT,
    color TEXT NOT NULL DEFAULT '#7c3aed',
    frame_ancestors TEXT NOT NULL DEFAULT '',
    default_country TEXT NOT NULL DEFAULT '52',
    limit_bookings_per_address_hour INTEGER NOT NULL DEFAULT 20,
    limit_bookings_per_phone_day INTEGER NOT NULL DEFAULT 5,
    limit_lookups_per_address_min INTEGER NOT NULL DEFAULT 120,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT online_booking_rules_tenant_id_key UNIQUE (tenant_id),
    CONSTRAINT online_booking_rules_enabled_check CHECK (enabled IN (0, 1)),
    CONSTRAINT online_booking_rules_min_notice_min_check CHECK (min_notice_min BETWEEN 0 AND 43200),
    CONSTRAINT online_booking_rules_horizon_days_check CHECK (horizon_days BETWEEN 1 AND 366),
    CONSTRAINT online_booking_rules_step_min_check CHECK (step_min IN (5, 10, 15, 20, 30, 60)),
    CONSTRAINT online_booking_rules_initial_status_check CHECK (initial_status IN ('PENDING', 'CONFIRMED')),
    CONSTRAINT online_booking_rules_cancel_cutoff_min_check CHECK (cancel_cutoff_min BETWEEN 0 AND 43200),
    CONSTRAINT online_booking_rules_color_check
        CHECK (length(color) = 7 AND color GLOB '#[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]'),
    CONSTRAINT online_booking_rules_default_country_check
        CHECK (length(default_country) BETWEEN 1 AND 3 AND default_country NOT GLOB '*[^0-9]*'
               AND default_country NOT GLOB '0*'),
    CONSTRAINT online_booking_rules_limits_check CHECK (limit_bookings_per_address_hour > 0
        AND limit_bookings_per_phone_day > 0 AND limit_lookups_per_address_min > 0)
);

-- The Idempotency-Key of each public booking (hashed), and what it booked.
CREATE TABLE online_booking_keys (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    key_hash TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    appointment_id INTEGER REFERENCES appointments (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT online_booking_keys_tenant_id_key_hash_key UNIQUE (tenant_id, key_hash)
);
CREATE INDEX online_booking_keys_created_at_idx ON online_booking_keys (created_at);

-- Counters of the public API's limits: one row per bucket and window.
CREATE TABLE rate_limits (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT rate_limits_bucket_window_start_key UNIQUE (bucket, window_start)
);
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);
