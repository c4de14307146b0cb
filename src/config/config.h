/*
 * config — the one option table (SPEC §3).
 *
 * Each option has an environment name, an optional alias, a command-line
 * flag, a default, a validator and a help line; parsing, defaults, --help and
 * error messages all come from that table (config.c).  A flag overrides its
 * variable.  Adding an option: one row in the table, one field here.
 *
 * Invalid values fail with -ERR_CONFIG and a message naming the variable and
 * the accepted form; a secret's value never appears in a message.
 */
#ifndef CITAPLANNER_CONFIG_H
#define CITAPLANNER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "common/log.h"
#include "common/netmask.h"
#include "common/url.h"

enum config_env { CONFIG_ENV_DEVELOPMENT, CONFIG_ENV_PRODUCTION };
enum config_seed { CONFIG_SEED_AUTO, CONFIG_SEED_NEVER };

struct config {
    char *database_url;          /* as given, or the default */
    bool database_url_defaulted; /* DATABASE_URL was unset */
    struct url db;               /* parsed database_url */

    char *listen;      /* "HOST:PORT" as given */
    char *listen_host; /* "127.0.0.1", "::1" (no brackets) */
    int listen_port;

    char *public_url;    /* default "http://" + listen */
    bool secure_cookies; /* public_url is https */

    char *session_secret;       /* NULL = generated and kept in the database */
    char *master_password_hash; /* NULL = unset; validated bcrypt format */
    enum config_env env;
    int allow_demo_passwords; /* 1: production serves despite published demo passwords */
    int session_max_age_days; /* a session ends this long after its login, however active */
    int db_connect_timeout;   /* seconds */
    enum config_seed seed_on_boot;

    char *backup_dir;
    char *backup_schedule; /* 5-field cron text; NULL when "off" */
    int backup_keep_daily, backup_keep_weekly, backup_keep_monthly;
    int backup_weekly_day;  /* 0-6, 0 = Sunday */
    int backup_monthly_day; /* 1-31 */
    int backup_max_age_hours;
    char *backup_alert_webhook;
    char *backup_alert_command;

    /* Off-machine and encrypted backups (issue 10; NULL = off). */
    char *backup_encrypt_recipient; /* an age recipient "age1…", or a recipients file path */
    char *backup_decrypt_identity;  /* path of an age identity file (deep verify, restore) */
    char *backup_mirror_dir;        /* a second directory every backup is copied to */
    char *backup_s3_url;            /* "s3://bucket/prefix"; NULL = no S3 copies */
    char *backup_s3_endpoint;       /* "http(s)://host[:port]"; NULL = AWS's for the region */
    char *backup_s3_region;         /* SigV4 region, default us-east-1 */
    int backup_s3_timeout;          /* seconds: connect, and a stalled transfer */
    char *aws_access_key_id;        /* S3 credentials (secrets: never logged) */
    char *aws_secret_access_key;

    enum log_level log_level;

    /* S3 multipart upload and credentials file (issue 10). */
    int backup_s3_part_size;          /* bytes: a larger file goes up in parts of this size */
    char *backup_s3_credentials_file; /* AWS shared-credentials file; NULL = environment only */
    char *aws_profile;                /* its section, default "default" */

    /* What one HTTP client may hold (http/guard.h). */
    int http_request_timeout;      /* seconds for a whole request after its first byte */
    int http_header_timeout;       /* seconds for its line and headers */
    int http_idle_timeout;         /* seconds a connection may sit with no request begun */
    int http_max_conns;            /* client connections at once, past which 503 */
    int http_max_conns_per_client; /* the same per client address; 0 = no cap */

    /* Proxies whose X-Forwarded-For / Forwarded is believed (issue 22). */
    char *trusted_proxies;
    struct netmask_list trusted_proxies_list;

    /* Who may read /metrics (issue 22): addresses/networks, or a bearer token. */
    char *metrics_allow;                    /* as given; default loopback */
    struct netmask_list metrics_allow_list; /* parsed metrics_allow */
    char *metrics_token;                    /* NULL = no token accepted (secret) */

    /* Notifications to clients (issue 17): options_notify.inc. */
    char *smtp_url;  /* smtp://[user:pass@]host[:port] or smtps://; NULL = no e-mail (secret) */
    char *smtp_from; /* From: of the messages */
    char *whatsapp_api_url; /* WhatsApp Cloud API base, default https://graph.facebook.com */
    char *twilio_api_url;   /* Twilio REST API base, default https://api.twilio.com */
    char
        *secrets_key_file; /* key sealing their credentials (options_secrets.inc); NULL = default */

    /* Continuous archiving of SQLite (issue 20): options_archive_sqlite.inc. */
    int archive_sqlite;                   /* 1: serve runs the archiver */
    int archive_sqlite_interval_ms;       /* between two polls of the WAL */
    int archive_sqlite_checkpoint_frames; /* the archiver checkpoints past this */

    /* Programs run as children, temporary files, testing aids: options_tools.inc. */
    char *pg_dump;         /* PG_DUMP; NULL = the newest found */
    char *psql;            /* PSQL; NULL = the newest found */
    char *pg_receivewal;   /* PG_RECEIVEWAL; NULL = the server's major, else newer */
    char *pg_basebackup;   /* PG_BASEBACKUP; as pg_receivewal */
    char *pg_verifybackup; /* PG_VERIFYBACKUP; as pg_receivewal */
    char *age;             /* CITAPLANNER_AGE, default "age" (on PATH) */
    char *tmp_dir;         /* TMPDIR, default /tmp */
    char *runtime_dir;     /* RUNTIME_DIRECTORY: the private runtime directory, NULL = derived */
    char *xdg_runtime_dir; /* XDG_RUNTIME_DIR */
    char *fake_now;       /* CITAPLANNER_FAKE_NOW: the clock stays at this local time; NULL = off */
    char *migrations_dir; /* CITAPLANNER_MIGRATIONS_DIR: DIR/pg, DIR/sqlite; NULL = built in */
    char *import_fail_at; /* CITAPLANNER_IMPORT_FAIL_AT: import fails on reaching this table */

    /* Continuous archiving of PostgreSQL (issue 20): options_archive_pg.inc. */
    int archive_pg;                 /* 1: serve runs pg_receivewal under its supervision */
    int archive_max_lag_s;          /* alert past this age of unarchived WAL */
    int64_t archive_slot_max_bytes; /* the slot is dropped before it retains more */
    char *backup_base_schedule;     /* cron of the base backups; NULL = off */
    int archive_checkpoint_spread;  /* 1: pg_basebackup --checkpoint=spread */

    /* Private to config.c: values given with config_set_flag(), one slot per option. */
    char **flag_values;
};

/*
 * ARCHIVE_SLOT_MAX_BYTES: a size ("4GB", "512MB", "65536kB", bytes), at
 * least 64MB (size.c; a setter of config.c's table).
 */
struct option;
int config_set_slot_max_bytes(struct config *c, const struct option *o, const char *value,
                              const char *name, struct err *e);

/* Zero c and apply every default. */
void config_init(struct config *c);
void config_release(struct config *c);

/*
 * Read every variable from the environment (getenv), then validate.
 * Flags given with config_set_flag() before this call win over variables.
 */
int config_load(struct config *c, struct err *e);

/*
 * A command-line flag such as "database-url" (without dashes).  Returns 1 if
 * the name is a configuration flag (value stored for config_load), 0 if not.
 */
int config_set_flag(struct config *c, const char *name, const char *value);

/* One line per option for --help: flag, variable, default, meaning. */
void config_print_help(FILE *out);

/* True when running inside a container (/.dockerenv or /run/.containerenv). */
bool config_in_container(void);

/* Is s a bcrypt hash of the form $2a$/$2b$/$2y$NN$ + 53 chars? */
bool config_bcrypt_hash_valid(const char *s);

#endif
