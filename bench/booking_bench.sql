-- booking_bench.sql — the data of the booking benchmark (bench/booking_bench.sh):
-- on a seeded database (citaplanner seed), 18 more professionals of the demo
-- branch offering Facial (20 in all), 2,000 clients, and 100,000
-- appointments over two years (a year back, a year ahead), hourly from
-- 09:00 on weekdays and 10:00 on Saturdays, Mexico City time, never
-- overlapping (the exclusion constraint skips the few seeded ones).
\set ON_ERROR_STOP on
SET synchronous_commit = off;

BEGIN;
INSERT INTO users (tenant_id, branch_id, email, password_hash, first_name, last_name, role)
SELECT 1, 1, 'bench' || g || '@citaplanner.com', u.password_hash, 'Bench', g::text, 'PROFESSIONAL'
FROM generate_series(1, 18) g, users u WHERE u.email = 'pro1@citaplanner.com';

INSERT INTO service_professionals (tenant_id, service_id, user_id, commission_pct)
SELECT 1, 1, id, 40 FROM users WHERE email LIKE 'bench%@citaplanner.com';

INSERT INTO clients (tenant_id, first_name, last_name, phone)
SELECT 1, 'Cliente', g::text, '+52 55 9' || lpad(g::text, 7, '0') FROM generate_series(1, 2000) g;

INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, professional_id,
                          start_at, end_at, status, price_cents, created_by)
SELECT 1, 1, c.id, 1, s.pro, s.ts, s.ts + interval '1 hour',
       CASE WHEN s.ts < now() THEN (CASE WHEN s.n % 10 = 0 THEN 'CANCELLED' ELSE 'COMPLETED' END)
            ELSE (CASE WHEN s.n % 2 = 0 THEN 'CONFIRMED' ELSE 'PENDING' END) END,
       85000, 5
FROM (
    SELECT p.id AS pro, (d::date + make_interval(hours => h)) AT TIME ZONE 'America/Mexico_City' AS ts,
           row_number() OVER () AS n
    FROM (SELECT id FROM users WHERE tenant_id = 1 AND (email LIKE 'bench%' OR email = 'pro1@citaplanner.com'
                                                       OR email = 'pro2@citaplanner.com')) p,
         generate_series(current_date - 365, current_date + 364, interval '1 day') d,
         generate_series(9, 17) h
    WHERE (extract(isodow FROM d) BETWEEN 1 AND 5)
       OR (extract(isodow FROM d) = 6 AND h BETWEEN 10 AND 15)
    ORDER BY md5(p.id::text || d::text || h::text)
    LIMIT 100010
) s
JOIN clients c ON c.tenant_id = 1 AND c.id = 1 + (s.n % 2000)
ON CONFLICT DO NOTHING;
COMMIT;

ANALYZE;
SELECT count(*) AS appointments, min(start_at)::date AS first_day, max(start_at)::date AS last_day
FROM appointments;
