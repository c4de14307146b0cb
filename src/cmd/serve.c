/*
 * cmd/serve.c — `citaplanner serve`: the boot sequence of SPEC §4 (the
 * guide's docker-entrypoint.sh as one program), then the HTTP API until
 * SIGTERM/SIGINT.  Each step logs one line:
 *
 *   1 validate configuration      (done by cmd_main before we run)
 *   2 connect, retrying           boot_connect
 *   3 take the boot lock          db_lock("boot"): several instances migrate once
 *   4 pre-migration backup        when migrations are pending and the database holds data
 *   5 migrate deploy              migrate_deploy
 *   6 seed when no user exists    seed_run (SEED_ON_BOOT=auto)
 *   7 master admin row            boot_master_admin (never overwrites)
 *   8 release the lock, serve     http_server_start, "ready on http://…"
 *   9 SIGTERM/SIGINT              stop accepting, finish in-flight (10 s), exit 0
 */
#include "cmd/cmd.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "backup/layout.h"
#include "backup/take.h"
#include "boot/boot.h"
#include "archive/pg_archive.h"
#include "archive/sqlite_archive.h"
#include "boot/scheduler.h"
#include "notify/notify.h"
#include "common/log.h"
#include "common/util.h"
#include "http/server.h"
#include "migrate/migrate.h"
#include "seed/seed.h"

#define SHUTDOWN_GRACE_S 10

/*
 * The published demo passwords cost a bcrypt each to check: do it on a
 * thread with its own connection so that start-up never waits; it is joined
 * at shutdown (the process must not exit under a thread using libcrypto).
 */
static void *demo_password_check(void *arg)
{
    struct url *u = arg;
    struct db *db = NULL;
    struct err e;
    char **emails = NULL;
    int count = 0;

    err_clear(&e);
    log_set_context("boot");
    if (db_open(u, DB_CONNECT_TIMEOUT_S, &db, &e) == 0 &&
        seed_demo_passwords_in_use(db, &emails, &count, &e) == 0) {
        for (int i = 0; i < count; i++)
            log_warn("demo account '%s' still has its published password: change it or "
                     "deactivate it before going live",
                     emails[i]);
    } else if (e.code != ERR_OK) {
        log_debug("demo password check skipped: %s", e.msg);
    }
    db_strv_free(emails, count);
    db_close(db);
    url_release(u);
    free(u);
    return NULL;
}

/* Returns whether the thread started (then the caller joins *t at exit). */
static bool start_demo_password_check(const struct url *src, pthread_t *t)
{
    struct url *u = xcalloc(1, sizeof(*u));

    url_copy(u, src);
    if (pthread_create(t, NULL, demo_password_check, u) != 0) {
        url_release(u);
        free(u);
        return false;
    }
    return true;
}

/*
 * Step 4: before applying pending migrations to a database that holds data,
 * take a premigrate backup; if it fails, do not migrate (exit 5).
 */
static int premigrate_backup(struct cmd_ctx *ctx, struct db *db)
{
    struct backup_result r;
    struct err e;
    bool data = false;
    int pending;
    int rc = 0;

    err_clear(&e);
    memset(&r, 0, sizeof(r));
    pending = migrate_pending_count(db, &e);
    if (pending < 0) {
        /* A failed or modified migration: migrate_deploy reports it best. */
        log_info("step 4/8: pre-migration backup: skipped (%s)", e.msg);
        return 0;
    }
    if (pending == 0) {
        log_info("step 4/8: pre-migration backup: not needed (no pending migration)");
        return 0;
    }
    if (boot_database_holds_data(db, &data, &e) < 0)
        return cmd_fail(&e);
    if (!data) {
        log_info("step 4/8: pre-migration backup: not needed (the database holds no data)");
        return 0;
    }
    struct backup_opts o = {
        .cfg = &ctx->cfg,
        .db = &ctx->cfg.db,
        .tier = BACKUP_PREMIGRATE,
        .rotate = true,
    };
    o.now = backup_clock();
    if (backup_take(&o, &r, &e) < 0) {
        log_error("step 4/8: pre-migration backup failed, not migrating: %s", e.msg);
        rc = err_exit_status(e.code);
    } else {
        log_info("step 4/8: pre-migration backup: '%s' (%d pending migrations)",
                 r.files[BACKUP_PREMIGRATE], pending);
    }
    backup_result_release(&r);
    return rc;
}

/*
 * Steps 3 to 7, under the boot lock.  Returns 0 or an exit status; *secret
 * gets the session secret (caller zeroes and frees it).
 */
static int prepare_database(struct cmd_ctx *ctx, struct db *db, char **secret)
{
    const struct config *cfg = &ctx->cfg;
    enum boot_master_result master;
    int generated = 0;
    int64_t users = 0;
    int applied = 0;
    struct err e;
    int rc = 0;
    double t0;

    err_clear(&e);
    t0 = time_mono();
    if (db_lock(db, "boot", true, &e) < 0)
        return cmd_fail(&e);
    log_info("step 3/8: boot lock taken (%.0f ms)", (time_mono() - t0) * 1000);

    /* The original CitaPlanner's database: no backup, no migration, exit 4 at once. */
    if (migrate_refuse_original(db, &e) < 0) {
        log_error("%s", e.msg);
        rc = err_exit_status(e.code);
        goto cleanup;
    }
    rc = premigrate_backup(ctx, db);
    if (rc != 0)
        goto cleanup;

    t0 = time_mono();
    if (migrate_deploy(db, &applied, &e) < 0) {
        log_error("step 5/8: migrations failed: %s", e.msg);
        rc = err_exit_status(e.code);
        goto cleanup;
    }
    log_info("step 5/8: migrations: %s (%d applied, %.0f ms)",
             applied ? "applied" : "already up to date", applied, (time_mono() - t0) * 1000);

    if (boot_user_count(db, &users, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (users > 0) {
        log_info("step 6/8: seed skipped: the database holds %lld users", (long long)users);
    } else if (cfg->seed_on_boot == CONFIG_SEED_NEVER) {
        log_info("step 6/8: seed skipped: SEED_ON_BOOT=never");
    } else {
        struct seed_report report;
        t0 = time_mono();
        memset(&report, 0, sizeof(report));
        if (seed_run(db, (int64_t)time(NULL), &report, &e) < 0) {
            seed_report_release(&report);
            log_error("step 6/8: seed failed: %s", e.msg);
            rc = err_exit_status(e.code);
            goto cleanup;
        }
        log_info("step 6/8: database was empty: demo data seeded (%d created, %.0f ms)",
                 report.created, (time_mono() - t0) * 1000);
        /* Published demo credentials (SPEC §5, README), not secrets. */
        log_info("demo accounts: log in (POST /api/v1/auth/login) as admin@citaplanner.com with "
                 "password admin123; the others are listed in README.md; change them before "
                 "going live");
        seed_report_release(&report);
    }

    if (boot_master_admin(db, cfg->master_password_hash, &master, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    switch (master) {
    case BOOT_MASTER_PRESENT:
        log_info("step 7/8: master admin: configured (left unchanged)");
        break;
    case BOOT_MASTER_CREATED:
        log_info("step 7/8: master admin: created from MASTER_PASSWORD_HASH");
        break;
    case BOOT_MASTER_DISABLED:
        log_warn("step 7/8: master admin: disabled; set MASTER_PASSWORD_HASH or run "
                 "'citaplanner admin master-password' to enable it");
        break;
    }
    if (boot_session_secret(db, cfg->session_secret, secret, &generated, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (generated)
        log_info("session secret generated and kept in the database");

cleanup : {
    struct err ue;
    err_clear(&ue);
    db_unlock(db, "boot", &ue);
}
    return rc;
}

/*
 * In production no account may still have a password published in the
 * README (the seed's demo accounts): refuse to serve, naming each one and
 * the command that changes it, unless ALLOW_DEMO_PASSWORDS=1.  0, or the exit
 * status.
 */
static int refuse_demo_passwords(struct db *db)
{
    char **emails = NULL;
    int count = 0, rc = 0;
    struct err e;

    err_clear(&e);
    if (seed_demo_passwords_in_use(db, &emails, &count, &e) < 0)
        return cmd_fail(&e);
    for (int i = 0; i < count; i++)
        log_error("CITAPLANNER_ENV=production: the account '%s' still has its published demo "
                  "password; change it with 'citaplanner admin user-password %s' (or deactivate "
                  "the account), or set ALLOW_DEMO_PASSWORDS=1 to serve anyway",
                  emails[i], emails[i]);
    if (count > 0) {
        log_error("not serving: %d account(s) with a published demo password", count);
        rc = err_exit_status(ERR_CONFIG);
    }
    db_strv_free(emails, count);
    return rc;
}

static int run_serve(struct cmd_ctx *ctx)
{
    struct config *cfg = &ctx->cfg;
    struct http_server *srv = NULL;
    struct api_app app;
    struct db *db = NULL;
    struct scheduler *sched = NULL;
    struct notify_sender *sender = NULL;
    struct archive_sqlite *archiver = NULL;
    struct archive_pg *pg_archiver = NULL;
    pthread_t demo_thread;
    bool demo_started = false;
    char *secret = NULL;
    sigset_t sigs;
    struct err e;
    double t_start = time_mono();
    int rc = 0;
    int sig = 0;

    err_clear(&e);
    memset(&app, 0, sizeof(app));
    log_set_context("boot");

    /* Block the signals before any thread exists, so that every thread
     * inherits the mask and only sigwait() below receives them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cfg->database_url_defaulted)
        log_info("DATABASE_URL is not set: using the default '%s'", url_redacted(&cfg->db));
    log_info("step 1/8: configuration valid (database '%s', listen %s)", url_redacted(&cfg->db),
             cfg->listen);

    if (boot_connect(&cfg->db, cfg->db_connect_timeout, &db, &e) < 0) {
        log_error("step 2/8: cannot connect: %s", e.msg);
        rc = err_exit_status(e.code);
        goto cleanup;
    }
    log_info("step 2/8: connected to %s", db_server_version(db));

    rc = prepare_database(ctx, db, &secret);
    if (rc == 0 && cfg->env == CONFIG_ENV_PRODUCTION && !cfg->allow_demo_passwords)
        rc = refuse_demo_passwords(db);
    if (rc != 0)
        goto cleanup;
    db_close(db);
    db = NULL;

    app.cfg = cfg;
    app.session_secret = secret;
    if (api_server_new(&app, &srv, &e) < 0 || http_server_start(srv, &e) < 0) {
        log_error("step 8/8: cannot start the HTTP server: %s", e.msg);
        rc = err_exit_status(e.code);
        goto cleanup;
    }
    log_info("step 8/8: ready on http://%s%s%s:%d (%.0f ms after start)",
             strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
             strchr(cfg->listen_host, ':') ? "]" : "", http_server_port(srv),
             (time_mono() - t_start) * 1000);
    /* Checked above in production; elsewhere a warning, off the start-up path. */
    if (cfg->env != CONFIG_ENV_PRODUCTION)
        demo_started = start_demo_password_check(&cfg->db, &demo_thread);
    if (scheduler_start(cfg, &sched, &e) < 0) {
        log_error("cannot start the backup scheduler: %s", e.msg);
        rc = err_exit_status(e.code);
        http_server_shutdown(srv, SHUTDOWN_GRACE_S);
        goto cleanup;
    }
    if (notify_sender_start(cfg, &sender, &e) < 0)
        log_error("cannot start the notification sender: %s", e.msg);
    if (cfg->db.kind == URL_SQLITE && cfg->archive_sqlite)
        archiver = archive_sqlite_start(cfg);
    if (cfg->db.kind == URL_POSTGRES && cfg->archive_pg)
        pg_archiver = archive_pg_start(cfg);
    if (cfg->backup_schedule != NULL)
        log_info("backups scheduled at '%s' (local time) into '%s'", cfg->backup_schedule,
                 cfg->backup_dir);
    else
        log_info("scheduled backups are off (BACKUP_SCHEDULE=off)");

    while (sigwait(&sigs, &sig) != 0)
        ;
    log_set_context("shutdown");
    log_info("received %s: no new connections; finishing requests in flight (%d s at most)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", SHUTDOWN_GRACE_S);
    {
        double t_stop = time_mono();
        http_server_shutdown(srv, SHUTDOWN_GRACE_S);
        notify_sender_stop(sender); /* a message in flight finishes first */
        sender = NULL;
        archive_sqlite_stop(archiver); /* a segment being written finishes first */
        archiver = NULL;
        archive_pg_stop(pg_archiver); /* pg_receivewal stopped, what it completed filed */
        pg_archiver = NULL;
        int left = SHUTDOWN_GRACE_S - (int)(time_mono() - t_stop);
        scheduler_stop(sched, left > 1 ? left : 1);
        sched = NULL;
    }
    log_info("stopped");
    rc = 0;

cleanup:
    if (demo_started)
        pthread_join(demo_thread, NULL);
    notify_sender_stop(sender);
    archive_sqlite_stop(archiver);
    archive_pg_stop(pg_archiver);
    scheduler_stop(sched, SHUTDOWN_GRACE_S);
    http_server_free(srv);
    db_close(db);
    if (secret != NULL) {
        secure_zero(secret, strlen(secret));
        free(secret);
    }
    return rc;
}

static const struct cmd_flag serve_flags[] = {
    {NULL, false, NULL},
};

const struct cmd cmd_serve = {
    .name = "serve",
    .run = run_serve,
    .summary = "boot (migrate, seed if empty, master admin) and serve the HTTP API",
    .usage = "Usage: citaplanner serve [--listen HOST:PORT] [--database-url URL]\n\n"
             "Boot sequence: validate the configuration, connect (retrying until\n"
             "DB_CONNECT_TIMEOUT), take the boot lock, apply pending migrations, seed\n"
             "the demo data when no user exists (SEED_ON_BOOT=auto), create the master\n"
             "admin row from MASTER_PASSWORD_HASH when missing, then serve until\n"
             "SIGTERM/SIGINT (requests in flight get 10 s to finish).\n",
    .flags = serve_flags,
    .needs_db = true,
};
