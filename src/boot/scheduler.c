/* scheduler — see scheduler.h. */
#include "boot/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/backup.h"
#include "common/cron.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"

/* How soon after start a catch-up backup runs, and how often staleness is checked. */
#define CATCHUP_DELAY_S   5
#define STALE_CHECK_S     3600
#define CATCHUP_AGE_S     (24 * 3600)
#define SCHEDULER_LOCK    "backup-scheduler"

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
    bool stale_alerted;
};

/* The stamp YYYYMMDDHHMMSS of a backup name, as a local-time epoch. */
static int64_t stamp_to_epoch(int64_t stamp)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_sec = (int)(stamp % 100);
    tm.tm_min = (int)(stamp / 100 % 100);
    tm.tm_hour = (int)(stamp / 10000 % 100);
    tm.tm_mday = (int)(stamp / 1000000 % 100);
    tm.tm_mon = (int)(stamp / 100000000 % 100) - 1;
    tm.tm_year = (int)(stamp / 10000000000LL) - 1900;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

int scheduler_newest_good_backup(const char *backup_dir, int64_t *epoch, struct err *e)
{
    struct backup_list l = {NULL, 0};
    int rc;

    *epoch = 0;
    rc = backup_list_load(backup_dir, &l, e);
    if (rc == 0) {
        for (int i = 0; i < l.count; i++) {
            const struct backup_entry *b = &l.items[i];
            if (b->tier > BACKUP_MONTHLY || !b->has_sha256 || !b->has_manifest)
                continue;
            int64_t t = stamp_to_epoch(b->stamp);
            if (t > *epoch)
                *epoch = t;
        }
    }
    backup_list_release(&l);
    return rc;
}

/* Current time; CITAPLANNER_FAKE_NOW (a testing aid, see `backup --help`) wins. */
static time_t sched_now(void)
{
    const char *fake = getenv("CITAPLANNER_FAKE_NOW");
    time_t t;
    if (fake != NULL && backup_parse_local_time(fake, &t) == 0)
        return t;
    return time(NULL);
}

static void check_staleness(struct scheduler *s)
{
    struct err e;
    int64_t newest = 0;
    int64_t max_age = (int64_t)s->cfg->backup_max_age_hours * 3600;

    err_clear(&e);
    if (scheduler_newest_good_backup(s->cfg->backup_dir, &newest, &e) < 0) {
        log_warn("cannot list backups in '%s': %s", s->cfg->backup_dir, e.msg);
        return;
    }
    int64_t age = (int64_t)sched_now() - newest;
    if (newest != 0 && age <= max_age) {
        if (s->stale_alerted)
            log_info("backups are current again");
        s->stale_alerted = false;
        return;
    }
    if (s->stale_alerted)
        return;
    s->stale_alerted = true;
    if (newest == 0)
        err_set(&e, ERR_BACKUP, "no good backup exists in '%s'", s->cfg->backup_dir);
    else
        err_set(&e, ERR_BACKUP, "the newest good backup is %.1f hours old (BACKUP_MAX_AGE_HOURS=%d)",
                (double)age / 3600, s->cfg->backup_max_age_hours);
    backup_alert(s->cfg, "backup_stale", &e);
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
    if (db_open(&cfg->db, 10, &db, &e) < 0) {
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
    if (scheduler_newest_good_backup(cfg->backup_dir, &newest, &e) == 0 && newest >= (int64_t)due) {
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
        log_info("scheduled backup done: '%s' (%.1f s)", r.files[BACKUP_DAILY] ? r.files[BACKUP_DAILY] : "", r.seconds);
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
    if (s->has_cron && scheduler_newest_good_backup(s->cfg->backup_dir, &newest, &e) == 0 &&
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
