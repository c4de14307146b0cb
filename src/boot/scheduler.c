/* scheduler — see scheduler.h. */
#include "boot/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/layout.h"
#include "backup/take.h"
#include "backup/alert.h"
#include "common/cron.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"
#include "ops/backups.h"

/* How soon after start a catch-up backup runs, and how often staleness is checked. */
#define CATCHUP_DELAY_S 5
#define STALE_CHECK_S   3600
#define CATCHUP_AGE_S   (24 * 3600)
#define SCHEDULER_LOCK  "backup-scheduler"

struct scheduler {
    const struct config *cfg;
    struct cron cron;
    bool has_cron;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    volatile int cancel; /* handed to backup_take */
    bool running;        /* a backup is in progress */
};

/*
 * The newest good backup's time (ops/backups.h decides what "good" is, the
 * same for doctor, /metrics and here); 0 when there is none.
 */
static int newest_good_backup(const struct config *cfg, time_t now, int64_t *epoch, struct err *e)
{
    struct ops_backup_facts f;
    int rc = ops_backup_facts_load(cfg, now, &f, e);

    *epoch = (rc == 0 && f.good.file != NULL) ? (int64_t)f.good.time : 0;
    ops_backup_facts_release(&f);
    return rc;
}

/* The backups' clock (backup_clock: CITAPLANNER_FAKE_NOW, a testing aid, wins). */
static time_t sched_now(void)
{
    return backup_clock();
}

/* The stale alert, shared with doctor and other instances (once a day per newest backup). */
static void check_staleness(struct scheduler *s)
{
    struct ops_backup_facts f;
    struct err e;
    time_t now = sched_now();

    err_clear(&e);
    if (ops_backup_facts_load(s->cfg, now, &f, &e) < 0)
        log_warn("cannot read the backups in '%s': %s", s->cfg->backup_dir, e.msg);
    else if (f.stale)
        ops_backup_stale_alert(s->cfg, &f, now);
    ops_backup_facts_release(&f);
}

/*
 * One scheduled run for the time `due`: under the instances' shared lock,
 * skipped when a backup at or after `due` exists already.
 */
static void run_backup(struct scheduler *s, time_t due)
{
    const struct config *cfg = s->cfg;
    struct backup_result r;
    struct db *db = NULL;
    struct err e;
    int64_t newest = 0;

    memset(&r, 0, sizeof(r));
    err_clear(&e);
    if (db_open(&cfg->db, DB_CONNECT_TIMEOUT_S, &db, &e) < 0) {
        log_error("scheduled backup: cannot connect: %s", e.msg);
        backup_alert(cfg, "backup_failed", &e);
        goto cleanup;
    }
    if (db_lock(db, SCHEDULER_LOCK, false, &e) < 0) {
        if (e.code == ERR_LOCKED)
            log_info("scheduled backup: another instance is taking it");
        else
            log_error("scheduled backup: %s", e.msg);
        goto cleanup;
    }
    if (newest_good_backup(cfg, sched_now(), &newest, &e) == 0 && newest >= (int64_t)due) {
        log_info("scheduled backup: already taken by another instance");
        goto cleanup;
    }

    struct backup_opts o = {
        .cfg = cfg,
        .db = &cfg->db,
        .tier = BACKUP_TIER_AUTO,
        .now = sched_now(),
        .cancel = &s->cancel,
        .rotate = true,
    };
    pthread_mutex_lock(&s->mu);
    s->running = true;
    pthread_mutex_unlock(&s->mu);
    if (backup_take(&o, &r, &e) < 0)
        log_error("scheduled backup failed: %s", e.msg); /* backup_take alerted */
    else
        log_info("scheduled backup done: '%s' (%.1f s)",
                 r.files[BACKUP_DAILY] ? r.files[BACKUP_DAILY] : "", r.seconds);
    pthread_mutex_lock(&s->mu);
    s->running = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);

cleanup:
    backup_result_release(&r);
    db_close(db); /* releases the lock */
}

/* Sleep until `until` (epoch) or stop; returns false when stopping. */
static bool sleep_until(struct scheduler *s, time_t until)
{
    bool go_on;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && time(NULL) < until) {
        struct timespec ts = {.tv_sec = until, .tv_nsec = 0};
        time_t cap = time(NULL) + 60; /* wake each minute: the wall clock may jump */
        if (ts.tv_sec > cap)
            ts.tv_sec = cap;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    go_on = !s->stopping;
    pthread_mutex_unlock(&s->mu);
    return go_on;
}

static void *scheduler_main(void *arg)
{
    struct scheduler *s = arg;
    struct err e;
    int64_t newest = 0;
    time_t next_stale = 0;

    log_set_context("scheduler");
    err_clear(&e);
    if (s->has_cron && newest_good_backup(s->cfg, sched_now(), &newest, &e) == 0 &&
        (int64_t)sched_now() - newest > CATCHUP_AGE_S) {
        log_info("newest good backup is older than a day: one runs in %d s", CATCHUP_DELAY_S);
        if (!sleep_until(s, time(NULL) + CATCHUP_DELAY_S))
            return NULL;
        /* Skipped when another instance starting with us took one in the last hour. */
        run_backup(s, sched_now() - 3600);
    }
    for (;;) {
        time_t now = time(NULL);
        int64_t due = 0;
        time_t wake;

        if (now >= next_stale) {
            check_staleness(s);
            next_stale = now + STALE_CHECK_S;
        }
        wake = next_stale;
        if (s->has_cron && cron_next(&s->cron, (int64_t)now, &due) == 0 && due < (int64_t)wake)
            wake = (time_t)due;
        if (!sleep_until(s, wake))
            break;
        if (due != 0 && (int64_t)time(NULL) >= due) {
            run_backup(s, (time_t)due);
            check_staleness(s);
        }
    }
    return NULL;
}

int scheduler_start(const struct config *cfg, struct scheduler **out, struct err *e)
{
    struct scheduler *s = xcalloc(1, sizeof(*s));
    int rc = 0;

    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (cfg->backup_schedule != NULL) {
        rc = cron_parse(cfg->backup_schedule, &s->cron, e);
        if (rc < 0) {
            err_prefix(e, "invalid BACKUP_SCHEDULE");
            goto fail;
        }
        s->has_cron = true;
    }
    if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot start the backup scheduler thread");
        goto fail;
    }
    *out = s;
    return 0;

fail:
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    *out = NULL;
    return rc;
}

void scheduler_stop(struct scheduler *s, int grace_s)
{
    struct timespec deadline;

    if (s == NULL)
        return;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += grace_s;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    if (s->running)
        log_info("a backup is running: it gets %d s to finish", grace_s);
    while (s->running) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT) {
            log_warn("the backup did not finish in %d s: cancelling it", grace_s);
            s->cancel = 1;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
