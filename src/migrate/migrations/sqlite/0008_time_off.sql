-- The staff app's day one (issue 16): cancellations with a reason that can
-- be undone the same day, professionals' time off, and phone numbers in
-- E.164 with the tenant's default country.

-- A cancellation: why, when, and the status it came from (an undo returns to it).
ALTER TABLE appointments ADD COLUMN cancel_reason TEXT;
ALTER TABLE appointments ADD COLUMN cancelled_at TEXT
    CONSTRAINT appointments_cancelled_at_check CHECK (cancelled_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00');
ALTER TABLE appointments ADD COLUMN cancelled_from TEXT
    CONSTRAINT appointments_cancelled_from_check CHECK (cancelled_from IN ('PENDING', 'CONFIRMED'));

-- A professional away (holiday, course, sick leave): [start_at, end_at).
-- Availability leaves it out and a booking inside it is refused.
CREATE TABLE time_off (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT time_off_start_at_check CHECK (start_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00'),
    CONSTRAINT time_off_end_at_check CHECK (end_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00'),
    CONSTRAINT time_off_times_check CHECK (end_at > start_at)
);
CREATE INDEX time_off_tenant_id_user_id_start_at_idx ON time_off (tenant_id, user_id, start_at);

-- The country calling code of a number written without one ("5511110001").
ALTER TABLE tenants ADD COLUMN default_country_code TEXT NOT NULL DEFAULT '52'
    CONSTRAINT tenants_default_country_code_check CHECK (length(default_country_code) BETWEEN 1 AND 3
        AND default_country_code GLOB '[1-9]*' AND default_country_code NOT GLOB '*[^0-9]*');

-- Clients' numbers to E.164 where that is unambiguous: separators go, "00"
-- becomes "+", a national number gains the tenant's code, Mexico's old
-- mobile "+52 1" loses its "1".  A number that is not one, or that would
-- become another client's, stays as it is.
CREATE TABLE phone_norm_0008 (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, s TEXT, n TEXT);
INSERT INTO phone_norm_0008 (id, tenant_id, s)
    SELECT id, tenant_id, replace(replace(replace(replace(replace(replace(
        phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '/', '') FROM clients;
UPDATE phone_norm_0008 SET n = s WHERE s GLOB '+[1-9]*' AND substr(s, 2) NOT GLOB '*[^0-9]*';
UPDATE phone_norm_0008 SET n = '+' || substr(s, 3) WHERE n IS NULL AND s GLOB '00[1-9]*' AND s NOT GLOB '*[^0-9]*';
UPDATE phone_norm_0008 SET n = '+' || (SELECT default_country_code FROM tenants t
                                       WHERE t.id = phone_norm_0008.tenant_id) || s
    WHERE n IS NULL AND s GLOB '[1-9]*' AND s NOT GLOB '*[^0-9]*';
UPDATE phone_norm_0008 SET n = '+52' || substr(n, 5) WHERE n LIKE '+521%' AND length(n) = 14;
UPDATE phone_norm_0008 SET n = NULL WHERE length(n) < 9 OR length(n) > 16;
UPDATE clients SET phone = (SELECT n FROM phone_norm_0008 p WHERE p.id = clients.id)
    WHERE id IN (SELECT x.id FROM phone_norm_0008 x WHERE x.n IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM phone_norm_0008 y WHERE y.tenant_id = x.tenant_id
                                 AND y.id <> x.id AND (y.n = x.n OR y.s = x.n)))
      AND phone <> (SELECT n FROM phone_norm_0008 p WHERE p.id = clients.id);
DROP TABLE phone_norm_0008;
