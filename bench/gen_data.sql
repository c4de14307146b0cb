-- gen_data.sql — fill a migrated PostgreSQL database with realistic booking
-- data for the backup benchmark: tenants with branches, staff, services,
-- clients, and years of appointments (no double booking) with their
-- payments.
--
--   psql -v tenants=100 -v pros=8 -v clients=3000 -v days=730 -f bench/gen_data.sql
--
-- The defaults (100 tenants × 8 professionals × 2 years × 4 appointments a
-- working day ≈ 2 M appointments, 1.6 M payments, 300 k clients) give a
-- plain dump of about 600 MB.  Run `citaplanner migrate deploy` first.
\set ON_ERROR_STOP on
\if :{?tenants} \else \set tenants 100 \endif
\if :{?pros} \else \set pros 8 \endif
\if :{?clients} \else \set clients 3000 \endif
\if :{?days} \else \set days 730 \endif

-- Generated data is consistent by construction: skip the foreign-key
-- triggers while loading (a bulk loader's usual trick; superuser only).
SET session_replication_role = replica;
SET synchronous_commit = off;

BEGIN;

INSERT INTO tenants (name, email, phone, address, city, country, timezone, currency)
SELECT (ARRAY['Bella Vita', 'Serena', 'Luz de Luna', 'Aurora', 'Jade', 'Oasis', 'Loto'])[1 + g % 7]
           || ' Spa ' || g,
       'contacto' || g || '@spa' || g || '.mx',
       '+52 55 ' || lpad(((g * 7919) % 100000000)::text, 8, '0'),
       'Av. Reforma ' || (100 + g) || ', Col. Juárez',
       (ARRAY['Ciudad de México', 'Guadalajara', 'Monterrey', 'Puebla', 'Querétaro'])[1 + g % 5],
       'MX', 'America/Mexico_City', 'MXN'
FROM generate_series(1, :tenants) g;

INSERT INTO branches (tenant_id, name, email, phone, address)
SELECT t.id, b.name, lower(b.name) || t.id || '@spa' || t.id || '.mx',
       '+52 55 ' || lpad(((t.id * 104729 + b.n) % 100000000)::text, 8, '0'),
       'Calle ' || b.n || ' #' || (t.id * 3)
FROM tenants t
CROSS JOIN (VALUES (1, 'Centro'), (2, 'Norte')) AS b(n, name);

-- Staff: an admin, a receptionist, and :pros professionals per tenant.
CREATE TEMP TABLE staff AS
SELECT t.id AS tenant_id, s.n, s.role,
       (SELECT min(id) FROM branches WHERE tenant_id = t.id) AS branch_id
FROM tenants t
CROSS JOIN (SELECT 0 AS n, 'ADMIN' AS role
            UNION ALL SELECT 1, 'RECEPTIONIST'
            UNION ALL SELECT 1 + g, 'PROFESSIONAL' FROM generate_series(1, :pros) g) s;

INSERT INTO users (tenant_id, branch_id, email, password_hash, first_name, last_name, phone, role)
SELECT tenant_id, branch_id,
       lower(role) || n || '.t' || tenant_id || '@citaplanner.example',
       '$2b$10$' || substr(md5('salt' || tenant_id || n) || md5('hash' || n || tenant_id), 1, 53),
       (ARRAY['Ana', 'Lucía', 'María', 'Sofía', 'Valeria', 'Carlos', 'Jorge', 'Luis'])[1 + (tenant_id + n) % 8],
       (ARRAY['García', 'Hernández', 'López', 'Martínez', 'Pérez', 'Sánchez'])[1 + (tenant_id * 3 + n) % 6],
       '+52 55 ' || lpad(((tenant_id * 7 + n * 13) * 15485863 % 100000000)::text, 8, '0'),
       role
FROM staff;

INSERT INTO services (tenant_id, name, description, duration_min, price_cents, color)
SELECT t.id, s.name, s.descr, s.minutes, s.price, s.color
FROM tenants t
CROSS JOIN (VALUES
    ('Facial Hidratante', 'Limpieza, exfoliación y mascarilla hidratante', 60, 85000, '#F5A3C7'),
    ('Masaje Relajante', 'Masaje de cuerpo completo con aceites esenciales', 90, 120000, '#7FC8A9'),
    ('Manicure y Pedicure', 'Cuidado completo de manos y pies', 120, 65000, '#F7D794'),
    ('Corte de Cabello', 'Corte, lavado y secado', 45, 45000, '#778BEB'),
    ('Limpieza Facial Profunda', 'Extracción y tratamiento de poros', 75, 95000, '#E77F67'),
    ('Masaje Terapéutico', 'Descontracturante, enfocado en espalda', 60, 100000, '#596275')
) AS s(name, descr, minutes, price, color);

-- Each professional offers three of the six services.
INSERT INTO service_professionals (tenant_id, service_id, user_id, commission_pct)
SELECT u.tenant_id, s.id, u.id, 30 + (u.id + s.id) % 21
FROM users u
JOIN LATERAL (SELECT id, row_number() OVER (ORDER BY id) AS k
              FROM services WHERE tenant_id = u.tenant_id) s
  ON (s.k + u.id) % 2 = 0
WHERE u.role = 'PROFESSIONAL';

INSERT INTO clients (tenant_id, first_name, last_name, phone, email, notes)
SELECT t.id,
       (ARRAY['Isabella', 'Diego', 'Sofía', 'Alejandro', 'Camila', 'Fernando', 'Valentina',
              'Mateo', 'Regina', 'Santiago', 'Ximena', 'Emiliano'])[1 + g % 12],
       (ARRAY['Torres', 'Hernández', 'Ramírez', 'Morales', 'Vega', 'Castro', 'Flores',
              'Rivera', 'Gómez', 'Díaz'])[1 + (g * 7) % 10],
       '+52 55 ' || lpad((g * 1000 + t.id)::text, 8, '0'),
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'cliente' || g || '.t' || t.id || '@correo.example' END,
       CASE g % 5 WHEN 0 THEN 'Prefiere citas por la mañana'
                  WHEN 1 THEN 'Alergia a fragancias fuertes'
                  WHEN 2 THEN NULL
                  WHEN 3 THEN 'Cliente frecuente, ofrecer paquete mensual'
                  ELSE 'Llegar 10 minutos antes' END
FROM tenants t
CROSS JOIN generate_series(1, :clients) g;

INSERT INTO working_hours (tenant_id, branch_id, user_id, day_of_week, start_time, end_time)
SELECT b.tenant_id, b.id, NULL, d, '09:00', '18:00'
FROM branches b CROSS JOIN generate_series(1, 5) d;

COMMIT;

-- Appointments: per professional, four a day (Monday to Saturday) at 9:00,
-- 11:00, 13:00 and 15:00 local time, none longer than 120 minutes: no
-- overlaps.  The last :days days up to two weeks ahead.
CREATE TEMP TABLE pro AS
SELECT u.id AS user_id, u.tenant_id, u.branch_id,
       (SELECT id FROM users r WHERE r.tenant_id = u.tenant_id AND r.role = 'RECEPTIONIST') AS recep,
       (SELECT min(id) FROM clients c WHERE c.tenant_id = u.tenant_id) AS first_client,
       array(SELECT s.id FROM service_professionals sp JOIN services s ON s.id = sp.service_id
             WHERE sp.user_id = u.id ORDER BY s.id) AS services
FROM users u WHERE u.role = 'PROFESSIONAL';

CREATE TEMP TABLE svc AS SELECT id, duration_min, price_cents, name FROM services;
CREATE UNIQUE INDEX ON svc (id);

BEGIN;
INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, professional_id, start_at,
                          end_at, status, price_cents, notes, idempotency_key, created_by,
                          created_at, updated_at)
SELECT p.tenant_id, p.branch_id,
       p.first_client + (abs(hashint8(p.user_id * 100000 + d * 10 + k)) % :clients),
       sv.id, p.user_id, x.start_at, x.start_at + make_interval(mins => sv.duration_min),
       CASE WHEN x.start_at > now() THEN (ARRAY['PENDING', 'CONFIRMED'])[1 + (d + k) % 2]
            WHEN (p.user_id + d + k) % 10 = 0 THEN 'CANCELLED'
            WHEN (p.user_id + d + k) % 10 = 1 THEN 'NO_SHOW'
            ELSE 'COMPLETED' END,
       sv.price_cents,
       CASE (p.user_id + d * 3 + k) % 6
           WHEN 0 THEN 'Reservó por teléfono; confirmar un día antes'
           WHEN 1 THEN NULL
           WHEN 2 THEN 'Primera visita: ' || sv.name
           WHEN 3 THEN 'Pidió a la misma profesional que la última vez'
           WHEN 4 THEN NULL
           ELSE 'Paga con tarjeta, requiere factura' END,
       CASE WHEN (d + k) % 2 = 0
            THEN md5('idem' || p.user_id || '-' || d || '-' || k)::uuid::text END,
       p.recep,
       x.start_at - interval '3 days', x.start_at - interval '3 days'
FROM pro p
CROSS JOIN generate_series(-:days, 14) d
CROSS JOIN generate_series(0, 3) k
CROSS JOIN LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE 'America/Mexico_City')
                            + make_interval(days => d, mins => 540 + 120 * k))
                           AT TIME ZONE 'America/Mexico_City' AS start_at) x
JOIN svc sv ON sv.id = p.services[1 + (abs(hashint8(p.user_id + d * 7 + k)) % array_length(p.services, 1))]
WHERE extract(dow FROM x.start_at AT TIME ZONE 'America/Mexico_City') <> 0;

INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, status, recorded_by,
                      paid_at, notes, created_at, updated_at)
SELECT a.tenant_id, a.id, a.price_cents,
       (ARRAY['CASH', 'CREDIT_CARD', 'DEBIT_CARD', 'TRANSFER', 'OTHER'])[1 + a.id % 5],
       'PAID', a.created_by, a.end_at,
       CASE WHEN a.id % 4 = 0 THEN 'Propina incluida' END,
       a.end_at, a.end_at
FROM appointments a
WHERE a.status = 'COMPLETED';
COMMIT;

SET session_replication_role = DEFAULT;
ANALYZE;
SELECT 'tenants' AS t, count(*) FROM tenants
UNION ALL SELECT 'clients', count(*) FROM clients
UNION ALL SELECT 'appointments', count(*) FROM appointments
UNION ALL SELECT 'payments', count(*) FROM payments
UNION ALL SELECT 'database size (MB)', pg_database_size(current_database()) / 1000000;
