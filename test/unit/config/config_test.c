/*
 * config_test — the option table (src/config/config.c): defaults, every
 * variable's validation, aliases, flags over variables, empty = unset, the
 * production rules, bcrypt hash format, --help.
 *
 * Each test starts from an environment without any configuration variable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "config/config.h"

static const char *const all_vars[] = {
    "DATABASE_URL",
    "HTTP_REQUEST_TIMEOUT",
    "HTTP_HEADER_TIMEOUT",
    "HTTP_IDLE_TIMEOUT",
    "HTTP_MAX_CONNECTIONS",
    "HTTP_MAX_CONNECTIONS_PER_CLIENT",
    "LISTEN",
    "PUBLIC_URL",
    "NEXTAUTH_URL",
    "SESSION_SECRET",
    "NEXTAUTH_SECRET",
    "MASTER_PASSWORD_HASH",
    "CITAPLANNER_ENV",
    "DB_CONNECT_TIMEOUT",
    "SEED_ON_BOOT",
    "BACKUP_DIR",
    "BACKUP_SCHEDULE",
    "BACKUP_KEEP_DAILY",
    "BACKUP_KEEP_WEEKLY",
    "BACKUP_KEEP_MONTHLY",
    "BACKUP_WEEKLY_DAY",
    "BACKUP_MONTHLY_DAY",
    "BACKUP_MAX_AGE_HOURS",
    "BACKUP_ALERT_WEBHOOK",
    "BACKUP_ALERT_COMMAND",
    "LOG_LEVEL",
    "BACKUP_S3_PART_SIZE",
    "BACKUP_S3_CREDENTIALS_FILE",
    "AWS_PROFILE",
    "SMTP_URL",
    "SMTP_FROM",
    "WHATSAPP_API_URL",
    "TWILIO_API_URL",
    "SECRETS_KEY_FILE",
    "ARCHIVE_SQLITE",
    "ARCHIVE_SQLITE_INTERVAL_MS",
    "ARCHIVE_SQLITE_CHECKPOINT_FRAMES",
    "PG_DUMP",
    "PSQL",
    "PG_RECEIVEWAL",
    "PG_BASEBACKUP",
    "PG_VERIFYBACKUP",
    "CITAPLANNER_AGE",
    "TMPDIR",
    "RUNTIME_DIRECTORY",
    "XDG_RUNTIME_DIR",
    "CITAPLANNER_FAKE_NOW",
    "CITAPLANNER_MIGRATIONS_DIR",
    "CITAPLANNER_IMPORT_FAIL_AT",
    "ARCHIVE",
    "ARCHIVE_MAX_LAG",
    "ARCHIVE_SLOT_MAX_BYTES",
    "BACKUP_BASE_SCHEDULE",
    "ARCHIVE_CHECKPOINT",
    NULL,
};

/* A valid bcrypt hash (cost 4) of a throwaway password. */
#define GOOD_HASH "$2b$04$abcdefghijklmnopqrstuu5EBsNhtlCmUHIQ0/0HpVeA6CmN0nhm6"

static int clean_env(void **state)
{
    for (int i = 0; all_vars[i] != NULL; i++)
        unsetenv(all_vars[i]);
    return 0;
}

/* config_init + config_load; returns config_load's result, c to release. */
static int load(struct config *c, struct err *e)
{
    config_init(c);
    err_clear(e);
    return config_load(c, e);
}

static void test_defaults(void **state)
{
    struct config c;
    struct err e;
    bool box = config_in_container();

    assert_int_equal(load(&c, &e), 0);
    assert_string_equal(c.database_url, "sqlite:data/citaplanner.db");
    assert_true(c.database_url_defaulted);
    assert_int_equal(c.db.kind, URL_SQLITE);
    assert_string_equal(c.db.path, "data/citaplanner.db");
    assert_string_equal(c.listen, box ? "0.0.0.0:3000" : "127.0.0.1:3000");
    assert_string_equal(c.listen_host, box ? "0.0.0.0" : "127.0.0.1");
    assert_int_equal(c.listen_port, 3000);
    assert_string_equal(c.public_url, box ? "http://0.0.0.0:3000" : "http://127.0.0.1:3000");
    assert_false(c.secure_cookies);
    assert_null(c.session_secret);
    assert_null(c.master_password_hash);
    assert_null(c.secrets_key_file); /* notify/secrets.c: beside the database */
    assert_int_equal(c.env, CONFIG_ENV_DEVELOPMENT);
    assert_int_equal(c.db_connect_timeout, 60);
    assert_int_equal(c.seed_on_boot, CONFIG_SEED_AUTO);
    assert_string_equal(c.backup_dir, box ? "/backup-citaplanner" : "backups");
    assert_string_equal(c.backup_schedule, "0 2 * * *");
    assert_int_equal(c.backup_keep_daily, 7);
    assert_int_equal(c.backup_keep_weekly, 4);
    assert_int_equal(c.backup_keep_monthly, 6);
    assert_int_equal(c.backup_weekly_day, 0);
    assert_int_equal(c.backup_monthly_day, 1);
    assert_int_equal(c.backup_max_age_hours, 26);
    assert_null(c.backup_alert_webhook);
    assert_null(c.backup_alert_command);
    assert_int_equal(c.log_level, LOG_INFO);
    config_release(&c);

    /* config_init alone already holds the defaults. */
    config_init(&c);
    assert_string_equal(c.database_url, "sqlite:data/citaplanner.db");
    assert_int_equal(c.backup_keep_weekly, 4);
    assert_int_equal(c.db_connect_timeout, 60);
    config_release(&c);
    config_release(NULL);
}

/* The programs run as children, TMPDIR and the testing aids (options_tools.inc). */
static void test_tools(void **state)
{
    static const struct {
        const char *var, *value, *def; /* def: NULL = unset */
        size_t field;
    } rows[] = {
        {"PG_DUMP", "/opt/pg/bin/pg_dump", NULL, offsetof(struct config, pg_dump)},
        {"PSQL", "/opt/pg/bin/psql", NULL, offsetof(struct config, psql)},
        {"CITAPLANNER_AGE", "/opt/age/age", "age", offsetof(struct config, age)},
        {"TMPDIR", "/var/tmp", "/tmp", offsetof(struct config, tmp_dir)},
        {"RUNTIME_DIRECTORY", "/run/citaplanner", NULL, offsetof(struct config, runtime_dir)},
        {"XDG_RUNTIME_DIR", "/run/user/1000", NULL, offsetof(struct config, xdg_runtime_dir)},
        {"CITAPLANNER_FAKE_NOW", "2025-01-09T02:00:00", NULL, offsetof(struct config, fake_now)},
        {"CITAPLANNER_MIGRATIONS_DIR", "/src/migrations", NULL,
         offsetof(struct config, migrations_dir)},
        {"CITAPLANNER_IMPORT_FAIL_AT", "clients", NULL, offsetof(struct config, import_fail_at)},
    };
    const size_t n = sizeof(rows) / sizeof(rows[0]);
    struct config c;
    struct err e;

    /* Unset, then empty (the same as unset): the default; then set: the value. */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (pass == 0)
                unsetenv(rows[i].var);
            else
                setenv(rows[i].var, pass == 1 ? "" : rows[i].value, 1);
        }
        assert_int_equal(load(&c, &e), 0);
        for (size_t i = 0; i < n; i++) {
            const char *got = *(char **)((char *)&c + rows[i].field);
            const char *want = pass == 2 ? rows[i].value : rows[i].def;
            if (want == NULL ? got != NULL : got == NULL || strcmp(got, want) != 0)
                fail_msg("%s (pass %d): '%s', not '%s'", rows[i].var, pass, got ? got : "(null)",
                         want ? want : "(null)");
        }
        config_release(&c);
    }
}

static void test_in_container(void **state)
{
    bool expect = access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0;
    assert_int_equal(config_in_container(), expect);
}

/* Every variable set to a good value lands in its field. */
static void test_good_values(void **state)
{
    struct config c;
    struct err e;

    setenv("DATABASE_URL", "postgresql://app:Pa%40ss@db.internal:6432/citas?sslmode=require", 1);
    setenv("LISTEN", "[::1]:8080", 1);
    setenv("PUBLIC_URL", "https://citas.example.com/", 1);
    setenv("SESSION_SECRET", "0123456789abcdef0123456789abcdef", 1);
    setenv("MASTER_PASSWORD_HASH", GOOD_HASH, 1);
    setenv("CITAPLANNER_ENV", "production", 1);
    setenv("DB_CONNECT_TIMEOUT", "0", 1);
    setenv("SEED_ON_BOOT", "never", 1);
    setenv("BACKUP_DIR", "/srv/backups", 1);
    setenv("BACKUP_SCHEDULE", "  */15\t1-5  *  jan-MAR,dec   mon,fri ", 1);
    setenv("BACKUP_KEEP_DAILY", "1", 1);
    setenv("BACKUP_KEEP_WEEKLY", "1000", 1);
    setenv("BACKUP_KEEP_MONTHLY", "12", 1);
    setenv("BACKUP_WEEKLY_DAY", "6", 1);
    setenv("BACKUP_MONTHLY_DAY", "28", 1);
    setenv("BACKUP_MAX_AGE_HOURS", "8760", 1);
    setenv("BACKUP_ALERT_WEBHOOK", "https://hooks.example.com/T0/B0/tok", 1);
    setenv("BACKUP_ALERT_COMMAND", "logger -t citaplanner backup failed", 1);
    setenv("LOG_LEVEL", "debug", 1);

    if (load(&c, &e) != 0)
        fail_msg("rejected: %s", e.msg);
    assert_false(c.database_url_defaulted);
    assert_int_equal(c.db.kind, URL_POSTGRES);
    assert_string_equal(c.db.password, "Pa@ss");
    assert_string_equal(c.db.host, "db.internal");
    assert_int_equal(c.db.port, 6432);
    assert_string_equal(c.listen, "[::1]:8080");
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8080);
    assert_string_equal(c.public_url, "https://citas.example.com");
    assert_true(c.secure_cookies);
    assert_string_equal(c.session_secret, "0123456789abcdef0123456789abcdef");
    assert_string_equal(c.master_password_hash, GOOD_HASH);
    assert_int_equal(c.env, CONFIG_ENV_PRODUCTION);
    assert_int_equal(c.db_connect_timeout, 0);
    assert_int_equal(c.seed_on_boot, CONFIG_SEED_NEVER);
    assert_string_equal(c.backup_dir, "/srv/backups");
    assert_string_equal(c.backup_schedule, "*/15 1-5 * jan-MAR,dec mon,fri");
    assert_int_equal(c.backup_keep_daily, 1);
    assert_int_equal(c.backup_keep_weekly, 1000);
    assert_int_equal(c.backup_keep_monthly, 12);
    assert_int_equal(c.backup_weekly_day, 6);
    assert_int_equal(c.backup_monthly_day, 28);
    assert_int_equal(c.backup_max_age_hours, 8760);
    assert_string_equal(c.backup_alert_webhook, "https://hooks.example.com/T0/B0/tok");
    assert_string_equal(c.backup_alert_command, "logger -t citaplanner backup failed");
    assert_int_equal(c.log_level, LOG_DEBUG);
    config_release(&c);
}

static void test_listen_forms(void **state)
{
    static const struct {
        const char *in, *host;
        int port;
    } cases[] = {
        {"127.0.0.1:3000", "127.0.0.1", 3000},
        {"0.0.0.0:1", "0.0.0.0", 1},
        {"localhost:65535", "localhost", 65535},
        {"[::1]:3000", "::1", 3000},
        {"[::]:80", "::", 80},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config c;
        struct err e;
        setenv("LISTEN", cases[i].in, 1);
        if (load(&c, &e) != 0)
            fail_msg("LISTEN '%s' rejected: %s", cases[i].in, e.msg);
        assert_string_equal(c.listen_host, cases[i].host);
        assert_int_equal(c.listen_port, cases[i].port);
        /* PUBLIC_URL follows LISTEN when unset. */
        char *want = xasprintf("http://%s", cases[i].in);
        assert_string_equal(c.public_url, want);
        free(want);
        config_release(&c);
    }
}

static void test_schedule_forms(void **state)
{
    static const char *const good[] = {
        "0 2 * * *",
        "*/5 * * * *",
        "0,30 8-18 * * 1-5",
        "0 0 1 1 *",
        "59 23 31 12 7",
        "0 3 * * sun",
        "0 3 1-15/2 feb-nov/3 MON-FRI",
        "*/1 */23 */31 */12 */7",
        "@daily",
        "@weekly",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct config c;
        struct err e;
        setenv("BACKUP_SCHEDULE", good[i], 1);
        if (load(&c, &e) != 0)
            fail_msg("BACKUP_SCHEDULE '%s' rejected: %s", good[i], e.msg);
        assert_string_equal(c.backup_schedule, good[i]);
        config_release(&c);
    }
    struct config c;
    struct err e;
    setenv("BACKUP_SCHEDULE", "off", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_null(c.backup_schedule);
    config_release(&c);
    setenv("BACKUP_SCHEDULE", "OFF", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_null(c.backup_schedule);
    config_release(&c);
}

struct bad_case {
    const char *var;
    const char *value;
    const char *named; /* the message starts with "invalid " + this */
    const char *hint;  /* and contains this */
    bool secret;       /* and then must not contain the value */
};

static const struct bad_case bad_cases[] = {
    {"DATABASE_URL", "mysql://root:DbSecret1@h/db", "DATABASE_URL", "unsupported scheme", true},
    {"DATABASE_URL", "postgresql://u:DbSecret1@h:99999/db", "DATABASE_URL", "port must be 1-65535",
     true},
    {"DATABASE_URL", "sqlite:", "DATABASE_URL", "empty", false},
    {"LISTEN", "3000", "LISTEN", "HOST:PORT", false},
    {"LISTEN", "localhost", "LISTEN", "HOST:PORT", false},
    {"LISTEN", "localhost:0", "LISTEN", "1-65535", false},
    {"LISTEN", "localhost:70000", "LISTEN", "1-65535", false},
    {"LISTEN", "localhost:80x", "LISTEN", "HOST:PORT", false},
    {"LISTEN", ":3000", "LISTEN", "HOST:PORT", false},
    {"LISTEN", "::1:3000", "LISTEN", "[::1]:3000", false},
    {"LISTEN", "[::1]3000", "LISTEN", "HOST:PORT", false},
    {"LISTEN", "[::1]:", "LISTEN", "HOST:PORT", false},
    {"LISTEN", "ho st:1", "LISTEN", "HOST:PORT", false},
    {"PUBLIC_URL", "ftp://citas.example.com", "PUBLIC_URL", "http:// or https://", false},
    {"PUBLIC_URL", "citas.example.com", "PUBLIC_URL", "http:// or https://", false},
    {"PUBLIC_URL", "http://", "PUBLIC_URL", "http:// or https://", false},
    {"PUBLIC_URL", "https://a b", "PUBLIC_URL", "http:// or https://", false},
    {"NEXTAUTH_URL", "ftp://x", "NEXTAUTH_URL (alias of PUBLIC_URL)", "http://", false},
    {"MASTER_PASSWORD_HASH", "plaintext-Secret-pw", "MASTER_PASSWORD_HASH", "bcrypt", true},
    {"MASTER_PASSWORD_HASH", "$2b$03$abcdefghijklmnopqrstuu5EBsNhtlCmUHIQ0/0HpVeA6CmN0nhm6",
     "MASTER_PASSWORD_HASH", "04-31", true},
    {"CITAPLANNER_ENV", "prod", "CITAPLANNER_ENV", "development or production", false},
    {"DB_CONNECT_TIMEOUT", "-1", "DB_CONNECT_TIMEOUT", "0-3600", false},
    {"DB_CONNECT_TIMEOUT", "3601", "DB_CONNECT_TIMEOUT", "0-3600", false},
    {"DB_CONNECT_TIMEOUT", "5s", "DB_CONNECT_TIMEOUT", "0-3600", false},
    {"DB_CONNECT_TIMEOUT", " 5", "DB_CONNECT_TIMEOUT", "0-3600", false},
    {"DB_CONNECT_TIMEOUT", "+5", "DB_CONNECT_TIMEOUT", "0-3600", false},
    {"DB_CONNECT_TIMEOUT", "99999999999999999999", "DB_CONNECT_TIMEOUT", "0-3600", false},
    {"SEED_ON_BOOT", "always", "SEED_ON_BOOT", "auto or never", false},
    {"BACKUP_DIR", "bad\ndir", "BACKUP_DIR", "control", false},
    {"BACKUP_SCHEDULE", "0 2 * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * * * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "60 2 * * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 24 * * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 0 * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * 13 *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * * 8", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * * funday", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * mon *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * * mon-", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 2 * * 5-1", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "*/0 2 * * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0, 2 * * *", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "@reboot", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_SCHEDULE", "0 0 30 2 *", "BACKUP_SCHEDULE", "never occurs", false},
    {"BACKUP_SCHEDULE", "a b c d e", "BACKUP_SCHEDULE", "5 cron fields", false},
    {"BACKUP_KEEP_DAILY", "0", "BACKUP_KEEP_DAILY", "1-1000", false},
    {"BACKUP_KEEP_DAILY", "1001", "BACKUP_KEEP_DAILY", "1-1000", false},
    {"BACKUP_KEEP_WEEKLY", "0", "BACKUP_KEEP_WEEKLY", "1-1000", false},
    {"BACKUP_KEEP_MONTHLY", "six", "BACKUP_KEEP_MONTHLY", "1-1000", false},
    {"BACKUP_WEEKLY_DAY", "7", "BACKUP_WEEKLY_DAY", "0-6 (0 = Sunday)", false},
    {"BACKUP_WEEKLY_DAY", "-1", "BACKUP_WEEKLY_DAY", "0-6", false},
    {"BACKUP_MONTHLY_DAY", "29", "BACKUP_MONTHLY_DAY", "months that lack them", false},
    {"BACKUP_MONTHLY_DAY", "0", "BACKUP_MONTHLY_DAY", "1-28", false},
    {"BACKUP_MAX_AGE_HOURS", "0", "BACKUP_MAX_AGE_HOURS", "1-8760", false},
    {"BACKUP_MAX_AGE_HOURS", "8761", "BACKUP_MAX_AGE_HOURS", "1-8760", false},
    {"BACKUP_ALERT_WEBHOOK", "hooks.example.com/Tok3nSecret", "BACKUP_ALERT_WEBHOOK", "http://",
     true},
    {"BACKUP_ALERT_WEBHOOK", "ftp://h/Tok3nSecret", "BACKUP_ALERT_WEBHOOK", "https://", true},
    {"LOG_LEVEL", "verbose", "LOG_LEVEL", "debug, info, warn or error", false},
    {"ARCHIVE", "yes", "ARCHIVE", "on or off", false},
    {"ARCHIVE_MAX_LAG", "0", "ARCHIVE_MAX_LAG", "1-604800", false},
    {"ARCHIVE_SLOT_MAX_BYTES", "4XB", "ARCHIVE_SLOT_MAX_BYTES", "4GB, 512MB", false},
    {"ARCHIVE_SLOT_MAX_BYTES", "1MB", "ARCHIVE_SLOT_MAX_BYTES", "at least 64MB", false},
    {"ARCHIVE_SLOT_MAX_BYTES", "99999999999TB", "ARCHIVE_SLOT_MAX_BYTES", "4GB", false},
    {"BACKUP_BASE_SCHEDULE", "weekly", "BACKUP_BASE_SCHEDULE", "5 cron fields", false},
    {"ARCHIVE_CHECKPOINT", "slow", "ARCHIVE_CHECKPOINT", "fast or spread", false},
};

/* The archive's options: defaults, a size with its unit, the base schedule off. */
static void test_archive_pg_options(void **state)
{
    struct config c;
    struct err e;

    (void)state;
    assert_int_equal(load(&c, &e), 0);
    assert_int_equal(c.archive_pg, 0);
    assert_int_equal(c.archive_slot_max_bytes, 4LL << 30);
    assert_string_equal(c.backup_base_schedule, "@weekly");
    assert_int_equal(c.archive_checkpoint_spread, 0);
    assert_int_equal(c.archive_max_lag_s, 300);
    config_release(&c);
    setenv("ARCHIVE_SLOT_MAX_BYTES", "512MB", 1);
    setenv("BACKUP_BASE_SCHEDULE", "off", 1);
    setenv("ARCHIVE_CHECKPOINT", "spread", 1);
    setenv("ARCHIVE", "on", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_int_equal(c.archive_slot_max_bytes, 512LL << 20);
    assert_null(c.backup_base_schedule);
    assert_int_equal(c.archive_checkpoint_spread, 1);
    assert_int_equal(c.archive_pg, 1);
    assert_non_null(c.backup_schedule); /* the dumps' schedule is its own */
    config_release(&c);
}

static void test_bad_values(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *b = &bad_cases[i];
        struct config c;
        struct err e;
        char prefix[128];

        clean_env(NULL);
        setenv(b->var, b->value, 1);
        int rc = load(&c, &e);
        config_release(&c);
        if (rc != -ERR_CONFIG)
            fail_msg("%s='%s' accepted (rc %d)", b->var, b->value, rc);
        assert_int_equal(e.code, ERR_CONFIG);
        snprintf(prefix, sizeof(prefix), "invalid %s", b->named);
        if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
            fail_msg("%s='%s': message does not start with '%s': %s", b->var, b->value, prefix,
                     e.msg);
        if (strstr(e.msg, b->hint) == NULL)
            fail_msg("%s='%s': message lacks '%s': %s", b->var, b->value, b->hint, e.msg);
        if (strchr(e.msg, '\n') != NULL)
            fail_msg("%s: message spans lines: %s", b->var, e.msg);
        if (b->secret) {
            if (strstr(e.msg, "Secret") != NULL || strstr(e.msg, b->value) != NULL)
                fail_msg("%s: message shows the secret: %s", b->var, e.msg);
        } else if (strchr(b->value, '\n') == NULL) {
            char quoted[128];
            snprintf(quoted, sizeof(quoted), "'%s'", b->value);
            if (strstr(e.msg, quoted) == NULL)
                fail_msg("%s: message does not show the value: %s", b->var, e.msg);
        }
    }
}

static void test_aliases(void **state)
{
    struct config c;
    struct err e;

    setenv("NEXTAUTH_URL", "https://old.example.com", 1);
    setenv("NEXTAUTH_SECRET", "an old nextauth secret value", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_string_equal(c.public_url, "https://old.example.com");
    assert_true(c.secure_cookies);
    assert_string_equal(c.session_secret, "an old nextauth secret value");
    config_release(&c);

    /* The current name wins over the alias. */
    setenv("PUBLIC_URL", "http://new.example.com", 1);
    setenv("SESSION_SECRET", "the new secret", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_string_equal(c.public_url, "http://new.example.com");
    assert_false(c.secure_cookies);
    assert_string_equal(c.session_secret, "the new secret");
    config_release(&c);
}

static void test_flags_beat_env(void **state)
{
    struct config c;
    struct err e;

    setenv("DATABASE_URL", "sqlite:from-env.db", 1);
    setenv("LISTEN", "127.0.0.1:4000", 1);
    setenv("LOG_LEVEL", "error", 1);
    setenv("BACKUP_KEEP_DAILY", "3", 1);
    config_init(&c);
    assert_int_equal(config_set_flag(&c, "database-url", "sqlite:from-flag.db"), 1);
    assert_int_equal(config_set_flag(&c, "listen", "0.0.0.0:5000"), 1);
    assert_int_equal(config_set_flag(&c, "log-level", "warn"), 1);
    assert_int_equal(config_set_flag(&c, "log-level", "debug"), 1); /* the last one counts */
    assert_int_equal(config_set_flag(&c, "public-url", "https://flag.example.com"), 1);
    assert_int_equal(config_set_flag(&c, "env", "development"), 1);
    assert_int_equal(config_set_flag(&c, "db-connect-timeout", "5"), 1);
    assert_int_equal(config_set_flag(&c, "seed-on-boot", "never"), 1);
    assert_int_equal(config_set_flag(&c, "backup-dir", "/tmp/b"), 1);
    assert_int_equal(config_set_flag(&c, "backup-schedule", "off"), 1);
    assert_int_equal(config_set_flag(&c, "backup-keep-weekly", "9"), 1);
    assert_int_equal(config_set_flag(&c, "backup-keep-monthly", "10"), 1);
    assert_int_equal(config_set_flag(&c, "backup-weekly-day", "3"), 1);
    assert_int_equal(config_set_flag(&c, "backup-monthly-day", "15"), 1);
    assert_int_equal(config_set_flag(&c, "backup-max-age-hours", "48"), 1);
    assert_int_equal(config_set_flag(&c, "secrets-key-file", "/k/secrets.key"), 1);
    err_clear(&e);
    if (config_load(&c, &e) != 0)
        fail_msg("rejected: %s", e.msg);
    assert_string_equal(c.database_url, "sqlite:from-flag.db");
    assert_string_equal(c.db.path, "from-flag.db");
    assert_false(c.database_url_defaulted);
    assert_string_equal(c.listen, "0.0.0.0:5000");
    assert_int_equal(c.listen_port, 5000);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_string_equal(c.public_url, "https://flag.example.com");
    assert_true(c.secure_cookies);
    assert_int_equal(c.db_connect_timeout, 5);
    assert_int_equal(c.seed_on_boot, CONFIG_SEED_NEVER);
    assert_string_equal(c.backup_dir, "/tmp/b");
    assert_null(c.backup_schedule);
    assert_int_equal(c.backup_keep_daily, 3); /* no flag given: the variable */
    assert_int_equal(c.backup_keep_weekly, 9);
    assert_int_equal(c.backup_keep_monthly, 10);
    assert_int_equal(c.backup_weekly_day, 3);
    assert_int_equal(c.backup_monthly_day, 15);
    assert_int_equal(c.backup_max_age_hours, 48);
    assert_string_equal(c.secrets_key_file, "/k/secrets.key");
    config_release(&c);
}

static void test_flag_names(void **state)
{
    struct config c;
    config_init(&c);
    /* Secrets have no flag: a command line is visible to every user. */
    assert_int_equal(config_set_flag(&c, "session-secret", "x"), 0);
    assert_int_equal(config_set_flag(&c, "master-password-hash", GOOD_HASH), 0);
    assert_int_equal(config_set_flag(&c, "backup-alert-webhook", "https://h/t"), 0);
    assert_int_equal(config_set_flag(&c, "backup-alert-command", "true"), 0);
    assert_int_equal(config_set_flag(&c, "no-such-option", "x"), 0);
    assert_int_equal(config_set_flag(&c, "DATABASE_URL", "sqlite:x.db"), 0);
    assert_int_equal(config_set_flag(&c, "database-url-x", "sqlite:x.db"), 0);
    config_release(&c);
}

static void test_bad_flag_named(void **state)
{
    struct config c;
    struct err e;

    setenv("LISTEN", "127.0.0.1:4000", 1);
    config_init(&c);
    config_set_flag(&c, "listen", "nowhere");
    assert_int_equal(config_load(&c, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "invalid LISTEN (--listen) 'nowhere'"));
    config_release(&c);

    config_init(&c);
    config_set_flag(&c, "database-url", "postgresql://u:FlagSecret@h:0/db");
    assert_int_equal(config_load(&c, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "DATABASE_URL"));
    assert_null(strstr(e.msg, "FlagSecret"));
    config_release(&c);
}

static void test_empty_is_unset(void **state)
{
    struct config c;
    struct err e;

    for (int i = 0; all_vars[i] != NULL; i++)
        setenv(all_vars[i], "", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_true(c.database_url_defaulted);
    assert_string_equal(c.database_url, "sqlite:data/citaplanner.db");
    assert_int_equal(c.listen_port, 3000);
    assert_null(c.session_secret);
    assert_null(c.master_password_hash);
    assert_int_equal(c.db_connect_timeout, 60);
    assert_string_equal(c.backup_schedule, "0 2 * * *");
    assert_int_equal(c.log_level, LOG_INFO);
    config_release(&c);

    /* An empty current name lets the alias through. */
    setenv("NEXTAUTH_URL", "https://alias.example.com", 1);
    assert_int_equal(load(&c, &e), 0);
    assert_string_equal(c.public_url, "https://alias.example.com");
    config_release(&c);
}

static void test_production_secret(void **state)
{
    struct config c;
    struct err e;

    setenv("CITAPLANNER_ENV", "production", 1);
    assert_int_equal(load(&c, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "SESSION_SECRET"));
    assert_non_null(strstr(e.msg, "32"));
    config_release(&c);

    setenv("SESSION_SECRET", "ShortSecret-0123456789abcdefghij", 1); /* 32 bytes */
    assert_int_equal(strlen(getenv("SESSION_SECRET")), 32);
    assert_int_equal(load(&c, &e), 0);
    config_release(&c);

    setenv("SESSION_SECRET", "ShortSecret-0123456789abcdefghi", 1); /* 31 bytes */
    assert_int_equal(load(&c, &e), -ERR_CONFIG);
    assert_non_null(strstr(e.msg, "invalid SESSION_SECRET"));
    assert_null(strstr(e.msg, "ShortSecret"));
    config_release(&c);

    /* In development a short secret is the operator's business. */
    setenv("CITAPLANNER_ENV", "development", 1);
    assert_int_equal(load(&c, &e), 0);
    config_release(&c);

    /* Production through the flag, the alias carrying the secret. */
    unsetenv("CITAPLANNER_ENV");
    unsetenv("SESSION_SECRET");
    setenv("NEXTAUTH_SECRET", "0123456789abcdef0123456789abcdef0123", 1);
    config_init(&c);
    config_set_flag(&c, "env", "production");
    assert_int_equal(config_load(&c, &e), 0);
    assert_int_equal(c.env, CONFIG_ENV_PRODUCTION);
    config_release(&c);
}

static void test_bcrypt(void **state)
{
    static const char *const good[] = {
        GOOD_HASH,
        "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2y$31$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.",
        "$2b$04$./........................../////////////////////////",
    };
    static const char *const bad[] = {
        "",
        "$2b$",
        "$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWyy",
        "$1b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2b$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2b$32$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2b$1a$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2b$10N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWyx",
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW",
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWyz",
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh+y",
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh$y",
        "x2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "admin123",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!config_bcrypt_hash_valid(good[i]))
            fail_msg("rejected good hash %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (config_bcrypt_hash_valid(bad[i]))
            fail_msg("accepted bad hash %s", bad[i]);
    assert_false(config_bcrypt_hash_valid(NULL));

    /* A hash made by the real libxcrypt, as the admin command will. */
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)));
    assert_non_null(crypt_rn("correct horse", setting, &cd, sizeof(cd)));
    assert_true(config_bcrypt_hash_valid(cd.output));
    setenv("MASTER_PASSWORD_HASH", cd.output, 1);
    struct config c;
    struct err e;
    assert_int_equal(load(&c, &e), 0);
    assert_string_equal(c.master_password_hash, cd.output);
    config_release(&c);
}

static void test_help(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_print_help(f);
    fclose(f);

    for (int i = 0; all_vars[i] != NULL; i++)
        if (strstr(text, all_vars[i]) == NULL)
            fail_msg("--help lacks %s:\n%s", all_vars[i], text);
    assert_non_null(strstr(text, "--database-url URL"));
    assert_non_null(strstr(text, "--listen HOST:PORT"));
    assert_non_null(strstr(text, "--log-level"));
    assert_non_null(strstr(text, "sqlite:data/citaplanner.db"));
    assert_non_null(strstr(text, "0 2 * * *"));
    assert_null(strstr(text, "--session-secret"));
    assert_null(strstr(text, "--master-password-hash"));
    /* The testing aids say so, and have no flag. */
    const char *aids[] = {"CITAPLANNER_FAKE_NOW", "CITAPLANNER_MIGRATIONS_DIR",
                          "CITAPLANNER_IMPORT_FAIL_AT"};
    for (int i = 0; i < 3; i++) {
        char *line = strstr(text, aids[i]);
        while (line > text && line[-1] != '\n')
            line--;
        char *end = strchr(line, '\n');
        assert_non_null(end);
        char *one = xstrndup(line, (size_t)(end - line));
        if (strstr(one, "testing aid:") == NULL || strstr(one, "(no flag)") == NULL)
            fail_msg("--help does not mark %s as a testing aid: '%s'", aids[i], one);
        free(one);
    }

    /* One line per option, the variable column aligned. */
    int lines = 0;
    long col = -1;
    for (char *line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char *var = strstr(line, "  ") ? line : NULL;
        assert_non_null(var);
        /* the variable is the first upper-case word after the flag column */
        char *p = line + 2;
        while (*p && !(p[0] == ' ' && p[1] == ' '))
            p++;
        while (*p == ' ')
            p++;
        assert_true(*p >= 'A' && *p <= 'Z');
        if (col < 0)
            col = p - line;
        else if (p - line != col)
            fail_msg("misaligned help line: '%s'", line);
        lines++;
        line = nl + 1;
    }
    /* 19, 12 of issue 10 (remotes, encryption), 9 of issue 22, 5 of issue 17 (notifications),
     * 3 + 5 of issue 20 (SQLite, PostgreSQL archiving), 7 + 2 of issue 21 (tools, TMPDIR,
     * testing aids, the runtime directory), 3 of the archive's tools */
    assert_int_equal(lines, 66);
    free(text);
}

static void test_load_twice(void **state)
{
    struct config c;
    struct err e;

    /* A second load re-reads the environment and frees what the first held. */
    setenv("DATABASE_URL", "postgresql://u:TwiceSecret@h/db", 1);
    assert_int_equal(load(&c, &e), 0);
    unsetenv("DATABASE_URL");
    assert_int_equal(config_load(&c, &e), 0);
    assert_true(c.database_url_defaulted);
    assert_int_equal(c.db.kind, URL_SQLITE);
    config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clean_env),
        cmocka_unit_test_setup(test_tools, clean_env),
        cmocka_unit_test_setup(test_in_container, clean_env),
        cmocka_unit_test_setup(test_good_values, clean_env),
        cmocka_unit_test_setup(test_listen_forms, clean_env),
        cmocka_unit_test_setup(test_schedule_forms, clean_env),
        cmocka_unit_test_setup(test_bad_values, clean_env),
        cmocka_unit_test_setup(test_aliases, clean_env),
        cmocka_unit_test_setup(test_flags_beat_env, clean_env),
        cmocka_unit_test_setup(test_flag_names, clean_env),
        cmocka_unit_test_setup(test_bad_flag_named, clean_env),
        cmocka_unit_test_setup(test_empty_is_unset, clean_env),
        cmocka_unit_test_setup(test_production_secret, clean_env),
        cmocka_unit_test_setup(test_bcrypt, clean_env),
        cmocka_unit_test_setup(test_help, clean_env),
        cmocka_unit_test_setup(test_archive_pg_options, clean_env),
        cmocka_unit_test_setup(test_load_twice, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
