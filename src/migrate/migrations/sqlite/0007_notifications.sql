-- Notifications to clients (issue 17): confirmations, reschedules,
-- cancellations and reminders by e-mail, WhatsApp and SMS, through a
-- transactional outbox (a message row is written in the transaction of the
-- change that causes it).

-- A tenant's settings (one row; none: nothing is sent).  Credentials are
-- write-only through the API; reminder_offsets_min is a comma-separated list
-- of minutes before the appointment; quiet hours are local HH:MM in the
-- branch's zone (start > end wraps midnight; NULL: none).
CREATE TABLE notification_settings (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    email_enabled INTEGER NOT NULL DEFAULT 0,
    whatsapp_enabled INTEGER NOT NULL DEFAULT 0,
    sms_enabled INTEGER NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT 'es',
    reminder_offsets_min TEXT NOT NULL DEFAULT '1440,120',
    quiet_start TEXT,
    quiet_end TEXT,
    give_up_min INTEGER NOT NULL DEFAULT 1440,
    whatsapp_phone_number_id TEXT,
    whatsapp_token TEXT,
    whatsapp_app_secret TEXT,
    whatsapp_api_version TEXT NOT NULL DEFAULT 'v21.0',
    twilio_account_sid TEXT,
    twilio_auth_token TEXT,
    twilio_from TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT notification_settings_tenant_id_key UNIQUE (tenant_id),
    CONSTRAINT notification_settings_language_check CHECK (language IN ('es', 'en')),
    CONSTRAINT notification_settings_give_up_min_check CHECK (give_up_min BETWEEN 5 AND 10080),
    CONSTRAINT notification_settings_quiet_check CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- A tenant's own text of one message (kind) on one channel in one language;
-- without a row the built-in default is used.  wa_template is the name of
-- the template approved at Meta (WhatsApp sends only approved templates:
-- body's variables become its parameters, in order).
CREATE TABLE message_templates (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    wa_template TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT message_templates_tenant_id_channel_kind_language_key
        UNIQUE (tenant_id, channel, kind, language),
    CONSTRAINT message_templates_channel_check CHECK (channel IN ('email', 'whatsapp', 'sms')),
    CONSTRAINT message_templates_kind_check
        CHECK (kind IN ('confirmation', 'reschedule', 'cancellation', 'reminder')),
    CONSTRAINT message_templates_language_check CHECK (language IN ('es', 'en'))
);

-- A client's channel (NULL: the tenant's order, WhatsApp, SMS, e-mail),
-- language (NULL: the tenant's) and opt-out (STOP/BAJA, or set by staff).
ALTER TABLE clients ADD COLUMN notify_channel TEXT
    CHECK (notify_channel IN ('email', 'whatsapp', 'sms', 'none'));
ALTER TABLE clients ADD COLUMN notify_language TEXT CHECK (notify_language IN ('es', 'en'));
ALTER TABLE clients ADD COLUMN notify_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (notify_opt_out IN (0, 1));

-- The outbox and delivery log: one row per message.  appt_start_at is the
-- start the message speaks of: a reminder whose appointment has moved since
-- is void.  status: pending (waits for next_attempt_at), sending (handed to
-- the provider; found so after a crash it is sent again, with the same
-- idempotency_key), sent, failed (gave up: error says why), void (no longer
-- true: cancelled, rescheduled, opted out).  subject, body and params (the
-- WhatsApp template's parameters, a JSON array) are rendered when it is written.
CREATE TABLE notification_outbox (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    appointment_id INTEGER REFERENCES appointments (id) ON DELETE CASCADE,
    client_id INTEGER REFERENCES clients (id),
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'es',
    recipient TEXT NOT NULL,
    appt_start_at TEXT,
    send_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    provider_id TEXT,
    error TEXT,
    idempotency_key TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    params TEXT,
    sent_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT notification_outbox_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT notification_outbox_channel_check CHECK (channel IN ('email', 'whatsapp', 'sms')),
    CONSTRAINT notification_outbox_kind_check
        CHECK (kind IN ('confirmation', 'reschedule', 'cancellation', 'reminder')),
    CONSTRAINT notification_outbox_status_check
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'void')),
    CONSTRAINT notification_outbox_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX notification_outbox_status_next_attempt_at_idx ON notification_outbox (status, next_attempt_at);
CREATE INDEX notification_outbox_tenant_id_appointment_id_idx ON notification_outbox (tenant_id, appointment_id);
CREATE INDEX notification_outbox_tenant_id_created_at_idx ON notification_outbox (tenant_id, created_at);

-- Replies received through the webhooks, and what was done with each
-- (confirmed, cancelled, opted_out, note: left for the reception).
CREATE TABLE notification_replies (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    client_id INTEGER REFERENCES clients (id),
    appointment_id INTEGER REFERENCES appointments (id) ON DELETE SET NULL,
    channel TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    action TEXT NOT NULL,
    provider_id TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S+00', 'now')),
    CONSTRAINT notification_replies_channel_check CHECK (channel IN ('whatsapp', 'sms')),
    CONSTRAINT notification_replies_action_check
        CHECK (action IN ('confirmed', 'cancelled', 'opted_out', 'note'))
);
CREATE INDEX notification_replies_tenant_id_created_at_idx ON notification_replies (tenant_id, created_at);
