/*
 * config — see config.h.
 *
 * options[] below is the only place an option is described.  Each row says
 * where its value comes from (variable, alias, flag), its default, how it is
 * checked and stored, and its help line; config_load(), config_set_flag()
 * and config_print_help() only walk the table.
 *
 * Secrets (SESSION_SECRET, MASTER_PASSWORD_HASH; BACKUP_ALERT_WEBHOOK and
 * _COMMAND, which often carry a token) have no flag, as ps shows a command
 * line to every user, and their value never appears in a message.
 */
#include "config/config.h"
#include "common/cron.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/util.h"

#define DEFAULT_DATABASE_URL "sqlite:data/citaplanner.db"

struct option;

/*
 * Check value and store it in c.  value is NULL when the option is unset and
 * has no default.  On a bad value, return bad_value(...) (-ERR_CONFIG).
 */
typedef int (*option_set_fn)(struct config *c, const struct option *o, const char *value,
                             const char *name, struct err *e);

enum option_type {
    OPT_STRING, /* char * at offset; NULL when unset */
    OPT_INT,    /* int at offset, within [min, max] */
    OPT_ENUM,   /* int (an enum) at offset: the index of the value in names[] */
    OPT_CUSTOM, /* set() does everything */
};

struct option {
    const char *env;
    const char *alias; /* an older name still read (the guide's NextAuth names), or NULL */
    const char *flag;  /* without dashes; NULL for secrets */
    const char *metavar;
    const char *def;             /* default value, NULL = unset */
    const char *(*def_fn)(void); /* computed default, wins over def */
    const char *def_help;        /* default as shown by --help when def is not enough */
    bool secret;                 /* never shown in a message */
    enum option_type type;
    size_t offset;
    int min, max;             /* OPT_INT */
    const char *const *names; /* OPT_ENUM, NULL-terminated, in enum order */
    option_set_fn set;        /* OPT_CUSTOM */
    const char *form;         /* the accepted form, for error messages */
    const char *help;
};

static const char *const env_names[] = {"development", "production", NULL};
static const char *const seed_names[] = {"auto", "never", NULL};
/* In the order of enum log_level. */
static const char *const log_names[] = {"debug", "info", "warn", "error", NULL};

static const char *default_listen(void)
{
    return config_in_container() ? "0.0.0.0:3000" : "127.0.0.1:3000";
}

static const char *default_backup_dir(void)
{
    return config_in_container() ? "/backup-citaplanner" : "backups";
}

static int set_database_url(struct config *c, const struct option *o, const char *value,
                            const char *name, struct err *e);
static int set_listen(struct config *c, const struct option *o, const char *value, const char *name,
                      struct err *e);
static int set_public_url(struct config *c, const struct option *o, const char *value,
                          const char *name, struct err *e);
static int set_metrics_allow(struct config *c, const struct option *o, const char *value,
                             const char *name, struct err *e);
static int set_trusted_proxies(struct config *c, const struct option *o, const char *value,
                               const char *name, struct err *e);
static int set_metrics_token(struct config *c, const struct option *o, const char *value,
                             const char *name, struct err *e);
static int set_session_secret(struct config *c, const struct option *o, const char *value,
                              const char *name, struct err *e);
static int set_master_hash(struct config *c, const struct option *o, const char *value,
                           const char *name, struct err *e);
static int set_backup_dir(struct config *c, const struct option *o, const char *value,
                          const char *name, struct err *e);
static int set_schedule(struct config *c, const struct option *o, const char *value,
                        const char *name, struct err *e);
static int set_webhook(struct config *c, const struct option *o, const char *value,
                       const char *name, struct err *e);

#define FIELD(f) offsetof(struct config, f)

/* The table.  Adding an option: one row here, one field in struct config, a test in
 * test/unit/config/config_test.c.  PUBLIC_URL's default derives from LISTEN: it comes after. */
static const struct option options[] = {
    {.env = "DATABASE_URL",
     .flag = "database-url",
     .metavar = "URL",
     .def = DEFAULT_DATABASE_URL,
     .type = OPT_CUSTOM,
     .set = set_database_url,
     .form = "postgresql://USER:PASSWORD@HOST:PORT/DBNAME or sqlite:PATH",
     .help = "the database: postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:PATH"},
    {.env = "LISTEN",
     .flag = "listen",
     .metavar = "HOST:PORT",
     .def_fn = default_listen,
     .def_help = "127.0.0.1:3000",
     .type = OPT_CUSTOM,
     .set = set_listen,
     .form = "HOST:PORT with a port 1-65535, e.g. 127.0.0.1:3000 or [::1]:3000",
     .help = "HTTP address to listen on (0.0.0.0:3000 in a container)"},
    {.env = "PUBLIC_URL",
     .alias = "NEXTAUTH_URL",
     .flag = "public-url",
     .metavar = "URL",
     .def_help = "http://LISTEN",
     .type = OPT_CUSTOM,
     .set = set_public_url,
     .form = "an http:// or https:// URL, e.g. https://citas.example.com",
     .help = "external URL of the service; https turns on secure cookies"},
    {.env = "SESSION_SECRET",
     .alias = "NEXTAUTH_SECRET",
     .def_help = "generated",
     .secret = true,
     .type = OPT_CUSTOM,
     .set = set_session_secret,
     .form = "at least 32 bytes (e.g. the output of: openssl rand -base64 48)",
     .help = "signs cookies and CSRF tokens; required (32+ bytes) in production"},
    {.env = "MASTER_PASSWORD_HASH",
     .def_help = "unset",
     .secret = true,
     .type = OPT_CUSTOM,
     .set = set_master_hash,
     .form = "a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost 04-31, '$', then 53 "
             "characters of [./A-Za-z0-9]",
     .help = "bcrypt hash that creates the master admin once, if missing"},
    {.env = "CITAPLANNER_ENV",
     .flag = "env",
     .metavar = "NAME",
     .def = "development",
     .type = OPT_ENUM,
     .offset = FIELD(env),
     .names = env_names,
     .form = "development or production",
     .help = "production tightens checks"},
    {.env = "SESSION_MAX_AGE_DAYS",
     .flag = "session-max-age-days",
     .metavar = "DAYS",
     .def = "30",
     .type = OPT_INT,
     .offset = FIELD(session_max_age_days),
     .min = 1,
     .max = 365,
     .form = "a number of days 1-365",
     .help = "a login lasts at most this long (besides 12 h without use)"},
    {.env = "ALLOW_DEMO_PASSWORDS",
     .def = "0",
     .type = OPT_INT,
     .offset = FIELD(allow_demo_passwords),
     .min = 0,
     .max = 1,
     .form = "0 or 1",
     .help = "1: serve in production although a demo account keeps its published password"},
    {.env = "DB_CONNECT_TIMEOUT",
     .flag = "db-connect-timeout",
     .metavar = "SECONDS",
     .def = "60",
     .type = OPT_INT,
     .offset = FIELD(db_connect_timeout),
     .min = 0,
     .max = 3600,
     .form = "a number of seconds, 0-3600",
     .help = "how long serve keeps retrying its first connection"},
    {.env = "SEED_ON_BOOT",
     .flag = "seed-on-boot",
     .metavar = "WHEN",
     .def = "auto",
     .type = OPT_ENUM,
     .offset = FIELD(seed_on_boot),
     .names = seed_names,
     .form = "auto or never",
     .help = "auto: seed demo data when no user exists; never"},
    {.env = "BACKUP_DIR",
     .flag = "backup-dir",
     .metavar = "DIR",
     .def_fn = default_backup_dir,
     .def_help = "backups",
     .type = OPT_CUSTOM,
     .set = set_backup_dir,
     .form = "a directory path",
     .help = "where backups go (/backup-citaplanner in a container)"},
    {.env = "BACKUP_SCHEDULE",
     .flag = "backup-schedule",
     .metavar = "CRON",
     .def = "0 2 * * *",
     .type = OPT_CUSTOM,
     .set = set_schedule,
     .offset = FIELD(backup_schedule),
     .form = "off, or 5 cron fields (minute hour day-of-month month day-of-week) made of "
             "numbers, '*', ',', '-', '/' and day or month names, e.g. '0 2 * * *'",
     .help = "when serve takes backups (local time, TZ); off disables"},
    {.env = "BACKUP_KEEP_DAILY",
     .flag = "backup-keep-daily",
     .metavar = "N",
     .def = "7",
     .type = OPT_INT,
     .offset = FIELD(backup_keep_daily),
     .min = 1,
     .max = 1000,
     .form = "a number 1-1000",
     .help = "daily backups to keep"},
    {.env = "BACKUP_KEEP_WEEKLY",
     .flag = "backup-keep-weekly",
     .metavar = "N",
     .def = "4",
     .type = OPT_INT,
     .offset = FIELD(backup_keep_weekly),
     .min = 1,
     .max = 1000,
     .form = "a number 1-1000",
     .help = "weekly backups to keep"},
    {.env = "BACKUP_KEEP_MONTHLY",
     .flag = "backup-keep-monthly",
     .metavar = "N",
     .def = "6",
     .type = OPT_INT,
     .offset = FIELD(backup_keep_monthly),
     .min = 1,
     .max = 1000,
     .form = "a number 1-1000",
     .help = "monthly backups to keep"},
    {.env = "BACKUP_WEEKLY_DAY",
     .flag = "backup-weekly-day",
     .metavar = "DAY",
     .def = "0",
     .type = OPT_INT,
     .offset = FIELD(backup_weekly_day),
     .min = 0,
     .max = 6,
     .form = "a day of the week 0-6 (0 = Sunday)",
     .help = "weekday (0 = Sunday) whose backup is also weekly"},
    {.env = "BACKUP_MONTHLY_DAY",
     .flag = "backup-monthly-day",
     .metavar = "DAY",
     .def = "1",
     .type = OPT_INT,
     .offset = FIELD(backup_monthly_day),
     .min = 1,
     .max = 28,
     .form = "a day of the month 1-28 (29-31 would skip the months that lack them)",
     .help = "day of the month whose backup is also monthly"},
    {.env = "BACKUP_MAX_AGE_HOURS",
     .flag = "backup-max-age-hours",
     .metavar = "HOURS",
     .def = "26",
     .type = OPT_INT,
     .offset = FIELD(backup_max_age_hours),
     .min = 1,
     .max = 8760,
     .form = "a number of hours 1-8760",
     .help = "newest good backup older than this: alert, doctor FAIL"},
    {.env = "BACKUP_ALERT_WEBHOOK",
     .def_help = "unset",
     .secret = true,
     .type = OPT_CUSTOM,
     .set = set_webhook,
     .form = "an http:// or https:// URL",
     .help = "URL POSTed on every backup failure and on staleness"},
    {.env = "BACKUP_ALERT_COMMAND",
     .def_help = "unset",
     .secret = true,
     .type = OPT_STRING,
     .offset = FIELD(backup_alert_command),
     .form = "a shell command",
     .help = "shell command run on every backup failure and on staleness"},
    {.env = "BACKUP_ENCRYPT_RECIPIENT",
     .flag = "backup-encrypt-recipient",
     .metavar = "RECIPIENT",
     .def_help = "unset",
     .type = OPT_STRING,
     .offset = FIELD(backup_encrypt_recipient),
     .form = "an age public key (age1...) or the path of an age recipients file",
     .help = "encrypt backups to this public key with age (.gz.age files)"},
    {.env = "BACKUP_DECRYPT_IDENTITY",
     .flag = "backup-decrypt-identity",
     .metavar = "FILE",
     .def_help = "unset",
     .type = OPT_STRING,
     .offset = FIELD(backup_decrypt_identity),
     .form = "the path of an age identity file",
     .help = "private key file that decrypts .age backups (deep verify, restore)"},
    {.env = "BACKUP_MIRROR_DIR",
     .flag = "backup-mirror-dir",
     .metavar = "DIR",
     .def_help = "unset",
     .type = OPT_STRING,
     .offset = FIELD(backup_mirror_dir),
     .form = "a directory path",
     .help = "second directory (another disk) every backup is copied to"},
    {.env = "BACKUP_S3_URL",
     .flag = "backup-s3-url",
     .metavar = "URL",
     .def_help = "unset",
     .type = OPT_STRING,
     .offset = FIELD(backup_s3_url),
     .form = "s3://BUCKET/PREFIX",
     .help = "S3-compatible bucket and prefix every backup is copied to"},
    {.env = "BACKUP_S3_ENDPOINT",
     .flag = "backup-s3-endpoint",
     .metavar = "URL",
     .def_help = "https://s3.REGION.amazonaws.com",
     .type = OPT_STRING,
     .offset = FIELD(backup_s3_endpoint),
     .form = "an http:// or https:// URL",
     .help = "S3-compatible service (MinIO, Garage, Ceph, ...)"},
    {.env = "BACKUP_S3_REGION",
     .flag = "backup-s3-region",
     .metavar = "REGION",
     .def = "us-east-1",
     .type = OPT_STRING,
     .offset = FIELD(backup_s3_region),
     .form = "a region name",
     .help = "region the S3 requests are signed for (SigV4)"},
    {.env = "BACKUP_S3_TIMEOUT",
     .flag = "backup-s3-timeout",
     .metavar = "SECONDS",
     .def = "60",
     .type = OPT_INT,
     .offset = FIELD(backup_s3_timeout),
     .min = 1,
     .max = 3600,
     .form = "a number of seconds, 1-3600",
     .help = "S3: connect timeout, and how long a transfer may stall"},
    {.env = "AWS_ACCESS_KEY_ID",
     .def_help = "unset",
     .secret = true,
     .type = OPT_STRING,
     .offset = FIELD(aws_access_key_id),
     .form = "an access key id",
     .help = "S3 credentials (BACKUP_S3_URL)"},
    {.env = "AWS_SECRET_ACCESS_KEY",
     .def_help = "unset",
     .secret = true,
     .type = OPT_STRING,
     .offset = FIELD(aws_secret_access_key),
     .form = "a secret access key",
     .help = "S3 credentials (BACKUP_S3_URL)"},
    {.env = "LOG_LEVEL",
     .flag = "log-level",
     .metavar = "LEVEL",
     .def = "info",
     .type = OPT_ENUM,
     .offset = FIELD(log_level),
     .names = log_names,
     .form = "debug, info, warn or error",
     .help = "least important log lines shown"},
    {.env = "BACKUP_S3_PART_SIZE",
     .flag = "backup-s3-part-size",
     .metavar = "BYTES",
     .def = "8388608",
     .type = OPT_INT,
     .offset = FIELD(backup_s3_part_size),
     .min = 1024,
     .max = 2147483647,
     .form = "a number of bytes, 1024-2147483647 (AWS needs at least 5242880)",
     .help = "S3: larger files go up in parts of this size (multipart)"},
    {.env = "BACKUP_S3_CREDENTIALS_FILE",
     .flag = "backup-s3-credentials-file",
     .metavar = "FILE",
     .def_help = "unset",
     .type = OPT_STRING,
     .offset = FIELD(backup_s3_credentials_file),
     .form = "the path of an AWS shared-credentials file",
     .help = "S3 credentials file (INI), read when AWS_* are unset"},
    {.env = "AWS_PROFILE",
     .flag = "aws-profile",
     .metavar = "NAME",
     .def = "default",
     .type = OPT_STRING,
     .offset = FIELD(aws_profile),
     .form = "a profile name",
     .help = "section of BACKUP_S3_CREDENTIALS_FILE used"},
#include "config/options_http.inc"
    {.env = "TRUSTED_PROXIES",
     .flag = "trusted-proxies",
     .metavar = "LIST",
     .def_help = "none",
     .type = OPT_CUSTOM,
     .set = set_trusted_proxies,
     .form = "addresses or networks separated by commas, e.g. 127.0.0.1, 10.0.0.0/8",
     .help = "reverse proxies whose X-Forwarded-For/Forwarded names the client"},
    {.env = "METRICS_ALLOW",
     .flag = "metrics-allow",
     .metavar = "LIST",
     .def = "127.0.0.0/8, ::1",
     .type = OPT_CUSTOM,
     .set = set_metrics_allow,
     .form = "addresses or networks separated by commas (e.g. 127.0.0.1, 10.0.0.0/8, ::1), or none",
     .help = "who may read /metrics without METRICS_TOKEN (none: nobody)"},
    {.env = "METRICS_TOKEN",
     .def_help = "unset",
     .secret = true,
     .type = OPT_CUSTOM,
     .set = set_metrics_token,
     .form = "at least 16 characters (e.g. the output of: openssl rand -hex 24)",
     .help = "a scraper sending 'Authorization: Bearer TOKEN' may read /metrics"},
#include "config/options_notify.inc"
#include "config/options_secrets.inc"
#include "config/options_archive_sqlite.inc"
#include "config/options_tools.inc"
#include "config/options_archive_pg.inc"
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static char **str_field(struct config *c, const struct option *o)
{
    return (char **)((char *)c + o->offset);
}

static int *int_field(struct config *c, const struct option *o)
{
    return (int *)((char *)c + o->offset);
}

static void free_secret(char *s)
{
    if (s != NULL) {
        secure_zero(s, strlen(s));
        free(s);
    }
}

static void replace(char **slot, const char *value)
{
    free_secret(*slot);
    *slot = value != NULL ? xstrdup(value) : NULL;
}

/*
 * "invalid NAME 'VALUE': FORM" (without the value for a secret).  The value
 * is shown on one line and shortened: it came from outside.
 */
static int bad_value(struct err *e, const struct option *o, const char *name, const char *value,
                     const char *form)
{
    char shown[160];
    size_t i = 0;

    if (o->secret || value == NULL)
        return err_set(e, ERR_CONFIG, "invalid %s: %s", name, form ? form : o->form);
    for (; value[i] != '\0' && i < sizeof(shown) - 4; i++) {
        unsigned char ch = (unsigned char)value[i];
        shown[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    shown[i] = '\0';
    if (value[i] != '\0')
        memcpy(shown + i, "...", 4);
    return err_set(e, ERR_CONFIG, "invalid %s '%s': %s", name, shown, form ? form : o->form);
}

static int set_database_url(struct config *c, const struct option *o, const char *value,
                            const char *name, struct err *e)
{
    struct url u;
    int rc = url_parse(value, &u, e);

    if (rc < 0) {
        /* url_parse's message names DATABASE_URL and shows the URL redacted. */
        url_release(&u);
        return rc;
    }
    url_release(&c->db);
    c->db = u;
    replace(&c->database_url, value);
    return 0;
}

static bool host_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

static int set_listen(struct config *c, const struct option *o, const char *value, const char *name,
                      struct err *e)
{
    const char *host = value;
    size_t host_len;
    const char *colon;
    int64_t port;

    if (value[0] == '[') {
        const char *close = strchr(value, ']');
        if (close == NULL || close[1] != ':')
            return bad_value(e, o, name, value, NULL);
        host = value + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        if (host_len == 0 || strspn(host, "0123456789abcdefABCDEF:.") < host_len ||
            memchr(host, ':', host_len) == NULL)
            return bad_value(e, o, name, value, NULL);
    } else {
        colon = strrchr(value, ':');
        if (colon == NULL)
            return bad_value(e, o, name, value, NULL);
        host_len = (size_t)(colon - value);
        if (!host_name_ok(host, host_len))
            return bad_value(e, o, name, value, NULL);
    }
    if (!isdigit((unsigned char)colon[1]) || parse_int64(colon + 1, 1, 65535, &port) < 0)
        return bad_value(e, o, name, value, NULL);
    replace(&c->listen, value);
    free(c->listen_host);
    c->listen_host = xstrndup(host, host_len);
    c->listen_port = (int)port;
    return 0;
}

/* http(s)://HOST... with a host and nothing that cannot be in a URL. */
static bool http_url_ok(const char *s, bool *https)
{
    size_t skip;

    if (strncasecmp(s, "https://", 8) == 0) {
        skip = 8;
        *https = true;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        skip = 7;
        *https = false;
    } else {
        return false;
    }
    if (s[skip] == '\0' || s[skip] == '/' || s[skip] == ':' || s[skip] == '?')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int set_trusted_proxies(struct config *c, const struct option *o, const char *value,
                               const char *name, struct err *e)
{
    struct netmask_list l;
    struct err pe;

    (void)o;
    err_clear(&pe);
    if (netmask_list_parse(value, name, &l, &pe) < 0)
        return err_set(e, ERR_CONFIG, "%s", pe.msg);
    netmask_list_release(&c->trusted_proxies_list);
    c->trusted_proxies_list = l;
    replace(&c->trusted_proxies, value);
    return 0;
}

static int set_metrics_allow(struct config *c, const struct option *o, const char *value,
                             const char *name, struct err *e)
{
    struct netmask_list l;
    struct err pe;

    (void)o;
    err_clear(&pe);
    if (netmask_list_parse(value != NULL && strcmp(value, "none") == 0 ? "" : value, name, &l,
                           &pe) < 0)
        return err_set(e, ERR_CONFIG, "%s", pe.msg);
    netmask_list_release(&c->metrics_allow_list);
    c->metrics_allow_list = l;
    replace(&c->metrics_allow, value);
    return 0;
}

static int set_metrics_token(struct config *c, const struct option *o, const char *value,
                             const char *name, struct err *e)
{
    if (value != NULL && strlen(value) < 16)
        return bad_value(e, o, name, value, NULL);
    replace(&c->metrics_token, value);
    return 0;
}

static int set_public_url(struct config *c, const struct option *o, const char *value,
                          const char *name, struct err *e)
{
    bool https = false;
    char *url;

    if (value == NULL) {
        url = xasprintf("http://%s", c->listen);
    } else {
        if (!http_url_ok(value, &https))
            return bad_value(e, o, name, value, NULL);
        url = xstrdup(value);
        /* Without the trailing '/', paths append as "PUBLIC_URL" + "/api/v1/...". */
        for (size_t n = strlen(url); n > 0 && url[n - 1] == '/'; n--)
            url[n - 1] = '\0';
    }
    free(c->public_url);
    c->public_url = url;
    c->secure_cookies = https;
    return 0;
}

static int set_session_secret(struct config *c, const struct option *o, const char *value,
                              const char *name, struct err *e)
{
    /* The length rule depends on CITAPLANNER_ENV: checked in config_load(). */
    replace(&c->session_secret, value);
    return 0;
}

static int set_master_hash(struct config *c, const struct option *o, const char *value,
                           const char *name, struct err *e)
{
    if (value != NULL && !config_bcrypt_hash_valid(value))
        return bad_value(e, o, name, value, NULL);
    replace(&c->master_password_hash, value);
    return 0;
}

static int set_backup_dir(struct config *c, const struct option *o, const char *value,
                          const char *name, struct err *e)
{
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return bad_value(e, o, name, value, "a directory path without control characters");
    replace(&c->backup_dir, value);
    return 0;
}

static int set_webhook(struct config *c, const struct option *o, const char *value,
                       const char *name, struct err *e)
{
    bool https;

    if (value != NULL && !http_url_ok(value, &https))
        return bad_value(e, o, name, value, NULL);
    replace(&c->backup_alert_webhook, value);
    return 0;
}

/* --- BACKUP_SCHEDULE, BACKUP_BASE_SCHEDULE: a cron expression (common/cron.h) or "off" ------- */

static int set_schedule(struct config *c, const struct option *o, const char *value,
                        const char *name, struct err *e)
{
    struct cron cron;
    struct err ce;
    char form[ERR_MSG_MAX];

    if (strcasecmp(value, "off") == 0) {
        replace(str_field(c, o), NULL);
        return 0;
    }
    err_clear(&ce);
    if (cron_parse(value, &cron, &ce) < 0) {
        snprintf(form, sizeof(form), "%.400s (%.400s)", ce.msg, o->form);
        return bad_value(e, o, name, value, form);
    }
    /* Stored with its white space collapsed: it is shown in logs and help. */
    struct buf norm = BUF_INIT;
    for (const char *p = value; *p != '\0';) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (p > start) {
            if (norm.len > 0)
                buf_addc(&norm, ' ');
            buf_add(&norm, start, (size_t)(p - start));
        }
    }
    free(*str_field(c, o));
    *str_field(c, o) = buf_detach(&norm);
    return 0;
}

/* --- the table's walkers ----------------------------------------------- */

static int apply(struct config *c, const struct option *o, const char *value, const char *name,
                 struct err *e)
{
    int64_t v;

    switch (o->type) {
    case OPT_STRING:
        replace(str_field(c, o), value);
        return 0;
    case OPT_INT:
        /* parse_int64 (strtoll) would take " 5" and "+5": only digits here. */
        if (!isdigit((unsigned char)value[0]) || parse_int64(value, o->min, o->max, &v) < 0)
            return bad_value(e, o, name, value, NULL);
        *int_field(c, o) = (int)v;
        return 0;
    case OPT_ENUM:
        for (int i = 0; o->names[i] != NULL; i++) {
            if (strcasecmp(value, o->names[i]) == 0) {
                *int_field(c, o) = i;
                return 0;
            }
        }
        return bad_value(e, o, name, value, NULL);
    case OPT_CUSTOM:
        return o->set(c, o, value, name, e);
    }
    return err_set(e, ERR_INTERNAL, "option '%s' has no type", o->env);
}

static const char *default_of(const struct option *o)
{
    return o->def_fn != NULL ? o->def_fn() : o->def;
}

/* An empty variable counts as unset: "FOO=" in a compose file means "not given". */
static const char *env_value(const char *name)
{
    const char *v = name != NULL ? getenv(name) : NULL;
    return v != NULL && v[0] != '\0' ? v : NULL;
}

void config_init(struct config *c)
{
    struct err e;

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option *o = &options[i];
        const char *d = default_of(o);
        /* Defaults are valid by construction; a failure here is a bug in the table. */
        if ((d != NULL || o->type == OPT_CUSTOM) && apply(c, o, d, o->env, &e) < 0)
            abort();
    }
    c->database_url_defaulted = true;
}

int config_load(struct config *c, struct err *e)
{
    char name[96];
    int rc = 0;

    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct option *o = &options[i];
        const char *value = NULL;

        if (c->flag_values != NULL && c->flag_values[i] != NULL) {
            value = c->flag_values[i];
            snprintf(name, sizeof(name), "%s (--%s)", o->env, o->flag);
        } else if ((value = env_value(o->env)) != NULL) {
            snprintf(name, sizeof(name), "%s", o->env);
        } else if ((value = env_value(o->alias)) != NULL) {
            snprintf(name, sizeof(name), "%s (alias of %s)", o->alias, o->env);
        } else {
            value = default_of(o);
            snprintf(name, sizeof(name), "%s", o->env);
        }
        if (o == &options[0])
            c->database_url_defaulted = (value == o->def);
        if (value == NULL && o->type != OPT_CUSTOM) {
            if (o->type == OPT_STRING)
                replace(str_field(c, o), NULL);
            continue;
        }
        rc = apply(c, o, value, name, e);
        if (rc < 0)
            goto cleanup;
    }

    if (c->env == CONFIG_ENV_PRODUCTION &&
        (c->session_secret == NULL || strlen(c->session_secret) < 32)) {
        rc = err_set(e, ERR_CONFIG,
                     "invalid SESSION_SECRET: CITAPLANNER_ENV=production requires it set to at "
                     "least 32 bytes (e.g. the output of: openssl rand -base64 48)");
        goto cleanup;
    }

cleanup:
    return rc;
}

int config_set_flag(struct config *c, const char *name, const char *value)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].flag == NULL || strcmp(options[i].flag, name) != 0)
            continue;
        if (c->flag_values == NULL)
            c->flag_values = xcalloc(NOPTIONS, sizeof(char *));
        replace(&c->flag_values[i], value);
        return 1;
    }
    return 0;
}

void config_release(struct config *c)
{
    if (c == NULL)
        return;
    /* First every OPT_STRING field (freed and set to NULL), then the custom ones. */
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].type == OPT_STRING) {
            free_secret(*str_field(c, &options[i]));
            *str_field(c, &options[i]) = NULL;
        }
    }
    free_secret(c->database_url);
    url_release(&c->db);
    free(c->listen);
    free(c->listen_host);
    free(c->public_url);
    free_secret(c->session_secret);
    free_secret(c->master_password_hash);
    free(c->backup_dir);
    free(c->backup_schedule), free(c->backup_base_schedule);
    free_secret(c->backup_alert_webhook);
    free(c->trusted_proxies);
    netmask_list_release(&c->trusted_proxies_list);
    free(c->metrics_allow);
    netmask_list_release(&c->metrics_allow_list);
    free_secret(c->metrics_token);
    if (c->flag_values != NULL) {
        for (size_t i = 0; i < NOPTIONS; i++)
            free_secret(c->flag_values[i]);
        free(c->flag_values);
    }
    memset(c, 0, sizeof(*c));
}

void config_print_help(FILE *out)
{
    char flag[64], var[64];
    const char *def;
    int wflag = 0, wvar = 0, wdef = 0;

    /* Two passes: the widths first, so that the columns line up. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < NOPTIONS; i++) {
            const struct option *o = &options[i];
            if (o->flag != NULL)
                snprintf(flag, sizeof(flag), "--%s %s", o->flag, o->metavar);
            else
                snprintf(flag, sizeof(flag), "(no flag)");
            if (o->alias != NULL)
                snprintf(var, sizeof(var), "%s|%s", o->env, o->alias);
            else
                snprintf(var, sizeof(var), "%s", o->env);
            def = o->def_help != NULL ? o->def_help : o->def;
            if (def == NULL || def[0] == '\0')
                def = "unset";
            if (pass == 0) {
                wflag = (int)strlen(flag) > wflag ? (int)strlen(flag) : wflag;
                wvar = (int)strlen(var) > wvar ? (int)strlen(var) : wvar;
                wdef = (int)strlen(def) > wdef ? (int)strlen(def) : wdef;
            } else {
                fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wflag, flag, wvar, var, wdef, def,
                        o->help);
            }
        }
    }
}

bool config_in_container(void)
{
    return access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0;
}

bool config_bcrypt_hash_valid(const char *s)
{
    static const char alphabet[] =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    if (s == NULL || strlen(s) != 60)
        return false;
    if (s[0] != '$' || s[1] != '2' || (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$')
        return false;
    if (!isdigit((unsigned char)s[4]) || !isdigit((unsigned char)s[5]) || s[6] != '$')
        return false;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    return strspn(s + 7, alphabet) == 53;
}
