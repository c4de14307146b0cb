-- Rows in the original's schema that exercise every rule of `citaplanner
-- import`: bcrypt $2a$/$2b$ hashes, SUPERADMIN and CLIENT roles, a float
-- price that rounds (199.995), an appointment without a service price of
-- its own, two overlapping appointments of one professional, a payment,
-- working hours, a service-professional link with a commission, and the
-- master admin's hash.  Every user's password is 'secreto123', the master's
-- 'maestro123'.  The ids are cuids as Prisma makes them.
INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "started_at", "applied_steps_count") VALUES
 ('6b1f0c3e-0000-4000-8000-000000000001', 'a3f1', now(), '20240101000000_init', now(), 1);

INSERT INTO "tenants" ("id", "name", "email", "phone", "city", "subdomain", "primaryColor", "updatedAt") VALUES
 ('clt0tenant0000000000001', 'Spa Bella', 'hola@spabella.mx', '+52 55 1234 5678', 'CDMX', 'bella', '#112233', CURRENT_TIMESTAMP);

INSERT INTO "branches" ("id", "name", "address", "phone", "tenantId", "updatedAt") VALUES
 ('clt0branch0000000000001', 'Centro', 'Av. Juárez 10', '+52 55 1111 0000', 'clt0tenant0000000000001', CURRENT_TIMESTAMP);

INSERT INTO "users" ("id", "email", "password", "firstName", "lastName", "phone", "role", "tenantId", "branchId", "updatedAt") VALUES
 ('clt0user00000000000admin', 'admin@spabella.mx', '$2b$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW', 'Ana', 'Admin', NULL, 'ADMIN', 'clt0tenant0000000000001', 'clt0branch0000000000001', CURRENT_TIMESTAMP),
 ('clt0user0000000000super', 'root@spabella.mx', '$2a$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW', 'Sara', 'Super', NULL, 'SUPERADMIN', 'clt0tenant0000000000001', NULL, CURRENT_TIMESTAMP),
 ('clt0user000000000000pro', 'lupita@spabella.mx', '$2a$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW', 'Lupita', 'Pérez', '+52 55 2222 0000', 'PROFESSIONAL', 'clt0tenant0000000000001', 'clt0branch0000000000001', CURRENT_TIMESTAMP),
 ('clt0user000000000000rec', 'recepcion@spabella.mx', '$2b$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW', 'Rosa', 'Recepción', NULL, 'RECEPTIONIST', 'clt0tenant0000000000001', 'clt0branch0000000000001', CURRENT_TIMESTAMP),
 ('clt0user00000000000client', 'cliente@correo.mx', '$2b$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW', 'Carla', 'Cliente', NULL, 'CLIENT', 'clt0tenant0000000000001', NULL, CURRENT_TIMESTAMP);

INSERT INTO "services" ("id", "name", "description", "duration", "price", "color", "tenantId", "updatedAt") VALUES
 ('clt0service00000000facial', 'Facial', 'Limpieza profunda', 60, 350, '#AA0000', 'clt0tenant0000000000001', CURRENT_TIMESTAMP),
 ('clt0service0000000massage', 'Masaje', NULL, 90, 199.995, '#00AA00', 'clt0tenant0000000000001', CURRENT_TIMESTAMP);

INSERT INTO "service_users" ("id", "serviceId", "userId", "commission") VALUES
 ('clt0su000000000000000001', 'clt0service00000000facial', 'clt0user000000000000pro', 40),
 ('clt0su000000000000000002', 'clt0service0000000massage', 'clt0user000000000000pro', 35.5);

INSERT INTO "clients" ("id", "firstName", "lastName", "email", "phone", "notes", "tenantId", "updatedAt") VALUES
 ('clt0client00000000000001', 'María', 'López', 'maria@correo.mx', '+52 55 3333 0001', 'Piel sensible', 'clt0tenant0000000000001', CURRENT_TIMESTAMP),
 ('clt0client00000000000002', 'Juan', 'García', NULL, '+52 55 3333 0002', NULL, 'clt0tenant0000000000001', CURRENT_TIMESTAMP);

INSERT INTO "working_hours" ("id", "dayOfWeek", "startTime", "endTime", "branchId", "userId", "updatedAt") VALUES
 ('clt0wh000000000000000001', 1, '09:00', '18:00', 'clt0branch0000000000001', 'clt0user000000000000pro', CURRENT_TIMESTAMP),
 ('clt0wh000000000000000002', 2, '09:00', '14:00', 'clt0branch0000000000001', 'clt0user000000000000pro', CURRENT_TIMESTAMP);

-- The second overlaps the first (same professional, 10:30 inside 10:00-11:00).
INSERT INTO "appointments" ("id", "startTime", "endTime", "status", "notes", "isOnline", "tenantId", "branchId", "clientId", "serviceId", "userId", "createdAt", "updatedAt") VALUES
 ('clt0appt0000000000000001', '2026-03-02 16:00:00', '2026-03-02 17:00:00', 'CONFIRMED', 'Primera visita', false, 'clt0tenant0000000000001', 'clt0branch0000000000001', 'clt0client00000000000001', 'clt0service00000000facial', 'clt0user000000000000pro', '2026-02-01 10:00:00', CURRENT_TIMESTAMP),
 ('clt0appt0000000000000002', '2026-03-02 16:30:00', '2026-03-02 18:00:00', 'PENDING', NULL, true, 'clt0tenant0000000000001', 'clt0branch0000000000001', 'clt0client00000000000002', 'clt0service0000000massage', 'clt0user000000000000pro', '2026-02-02 10:00:00', CURRENT_TIMESTAMP),
 ('clt0appt0000000000000003', '2026-02-10 16:00:00', '2026-02-10 17:00:00', 'COMPLETED', NULL, false, 'clt0tenant0000000000001', 'clt0branch0000000000001', 'clt0client00000000000001', 'clt0service00000000facial', 'clt0user000000000000pro', '2026-02-01 09:00:00', CURRENT_TIMESTAMP);

INSERT INTO "payments" ("id", "amount", "paymentMethod", "status", "tenantId", "branchId", "clientId", "appointmentId", "userId", "updatedAt") VALUES
 ('clt0pay00000000000000001', 350.0, 'CREDIT_CARD', 'PAID', 'clt0tenant0000000000001', 'clt0branch0000000000001', 'clt0client00000000000001', 'clt0appt0000000000000003', 'clt0user000000000000rec', CURRENT_TIMESTAMP);

INSERT INTO "master_admin_config" ("id", "password_hash", "updated_at") VALUES
 ('singleton', '$2b$04$HVlQeX2tgxhwtYE.WV/RhO6r7WmYoXW.C8/.ihAcskWoenye8Q/We', CURRENT_TIMESTAMP);
