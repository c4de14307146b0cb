/*
 * pg_archive — pg_receivewal supervised (see pg_archive.h).
 */
#include "archive/pg_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive/pg_base.h"
#include "archive/pg_offsite.h"
#include "archive/pg_check.h"
#include "archive/pg_slot.h"
#include "archive/pg_tool.h"
#include "archive/pg_wal.h"
#include "archive/thread.h"
#include "backup/alert.h"
#include "backup/psql.h"
#include "common/cron.h"
#include "common/file.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"
#include "db/db.h"

#define ARCHIVE_LOCK   "archive_pg"
#define BACKOFF_MAX_S  60
#define HEALTHY_RUN_S  30 /* a run this long resets the count of failures */
#define TOOL_TIMEOUT_S 30
#define STOP_GRACE_S   10.0
#define WATCH_S        2.0
#define BASE_RETRY_S   600
#define CHECK_EVERY_S  (7 * 24 * 3600)

struct arch {
    const struct config *cfg;
    char *dir;             /* BACKUP_DIR/wal */
    char *pidfile;         /* BACKUP_DIR/.archive-pg.pid: pg_receivewal's pid */
    struct pg_tool_env pe; /* the connection for pg_receivewal */
    struct pgtool tool;
    struct pg_wal_manifest m;
    pid_t child;
    int err_fd;
    double started;                     /* time_time_mono() of the child's start */
    char progress[PG_WAL_PROGRESS_MAX]; /* pg_wal_progress() at the child's start */
    char line[1024];
    size_t linelen;
    struct db *db; /* holds the lock; watches the slot */
    int failures;  /* of pg_receivewal in a row */
    bool alerted, lag_alerted;
    double next_start, next_watch;
    struct pg_slot_lag *lag;
    int64_t dropped;
    struct cron cron; /* BACKUP_BASE_SCHEDULE */
    bool has_cron;
    time_t base_due;            /* 0: none */
    time_t check_due;           /* the weekly restore check; 0: none */
    struct pg_offsite *offsite; /* BACKUP_MIRROR_DIR, BACKUP_S3_URL; NULL: neither */
};

static int mkdir_private(const char *path, struct err *e)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot create '%s': %s",
                       path, strerror(errno));
    return 0;
}

/* A pg_receivewal left running by an archiver killed -9 holds the slot: stop it. */
static void stop_orphan(struct arch *a)
{
    char buf[64] = "", comm[64] = "";
    FILE *f = fopen(a->pidfile, "r");
    long pid = 0;

    if (f == NULL)
        return;
    if (fgets(buf, sizeof(buf), f) != NULL)
        pid = strtol(buf, NULL, 10);
    fclose(f);
    char *cpath = xasprintf("/proc/%ld/comm", pid);
    f = pid > 1 ? fopen(cpath, "r") : NULL;
    free(cpath);
    if (f == NULL)
        return;
    if (fgets(comm, sizeof(comm), f) == NULL)
        comm[0] = '\0';
    fclose(f);
    if (strncmp(comm, "pg_receivewal", 13) != 0)
        return;
    log_warn("archive: stopping pg_receivewal (pid %ld) left by an archiver that died", pid);
    kill((pid_t)pid, SIGTERM);
    for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
        sleep_ms(50);
    if (kill((pid_t)pid, 0) == 0)
        kill((pid_t)pid, SIGKILL);
    for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
        sleep_ms(50);
}

static int create_slot(struct arch *a, struct err *e)
{
    char *argv[] = {a->tool.path,    "--slot", ARCHIVE_PG_SLOT, "--create-slot", "--if-not-exists",
                    "--no-password", NULL};
    return pg_tool_run(a->tool.path, argv, a->pe.env, TOOL_TIMEOUT_S, e);
}

static int spawn_receiver(struct arch *a, struct err *e)
{
    char *argv[] = {a->tool.path,    "--directory", a->dir,          "--slot",    ARCHIVE_PG_SLOT,
                    "--synchronous", "--no-loop",   "--no-password", "--verbose", NULL};
    int pfd[2], rc;
    char pid[32];

    if (pg_wal_drop_unwritten(a->dir) > 0)
        log_warn("archive: removed a segment pg_receivewal had begun but not written (a kill cut "
                 "its padding short)");
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return err_set(e, ERR_INTERNAL, "pipe: %s", strerror(errno));
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    rc = proc_spawn(a->tool.path, argv, a->pe.env, -1, -1, pfd[1], true, ERR_BACKUP, NULL,
                    &a->child, e);
    close(pfd[1]);
    if (rc < 0) {
        close(pfd[0]);
        return rc;
    }
    a->err_fd = pfd[0];
    a->started = time_mono();
    pg_wal_progress(a->dir, a->progress);
    a->linelen = 0;
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)a->child);
    struct err we;
    if (file_write_atomic(a->pidfile, pid, (size_t)n, 0600, ERR_BACKUP, &we) < 0)
        log_warn("archive: %s", we.msg);
    log_info("archive: pg_receivewal (pid %ld) streaming into '%s' on slot %s", (long)a->child,
             a->dir, ARCHIVE_PG_SLOT);
    return 0;
}

/* Log what pg_receivewal said, line by line (it never sees the password to say it). */
static void read_child_stderr(struct arch *a)
{
    char buf[512];
    ssize_t n;

    while (a->err_fd >= 0 && (n = read(a->err_fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                close(a->err_fd);
                a->err_fd = -1;
            }
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n' && a->linelen < sizeof(a->line) - 1) {
                a->line[a->linelen++] = buf[i];
                continue;
            }
            if (buf[i] != '\n')
                continue;
            a->line[a->linelen] = '\0';
            log_info("archive: %s", a->line);
            a->linelen = 0;
        }
    }
    close(a->err_fd);
    a->err_fd = -1;
}

static void stop_child(struct arch *a)
{
    int status;

    if (a->child > 0) {
        kill(a->child, SIGTERM);
        if (proc_wait_until(a->child, time_mono() + STOP_GRACE_S, &status) < 0)
            proc_kill_wait(a->child, SIGKILL);
        read_child_stderr(a);
        a->child = -1;
        unlink(a->pidfile);
    }
    if (a->err_fd >= 0)
        close(a->err_fd);
    a->err_fd = -1;
}

static void file_completed(struct arch *a)
{
    const char *recipient = a->cfg->backup_encrypt_recipient;
    struct err fe;
    int filed = 0;

    err_clear(&fe);
    if (recipient != NULL && recipient[0] == '\0')
        recipient = NULL;
    if (pg_wal_file_completed(a->dir, &a->m, recipient, &filed, &fe) < 0)
        log_error("archive: %s (retried)", fe.msg);
    else if (filed > 0)
        log_debug("archive: %d WAL file%s filed", filed, filed == 1 ? "" : "s");
}

static int setup(struct arch *a, struct db *db, struct err *e)
{
    struct err oe;
    int rc;

    a->dir = xasprintf("%s/%s", a->cfg->backup_dir, ARCHIVE_PG_SUBDIR);
    a->pidfile = xasprintf("%s/.archive-pg.pid", a->cfg->backup_dir);
    if ((rc = mkdir_private(a->cfg->backup_dir, e)) < 0 || (rc = mkdir_private(a->dir, e)) < 0)
        return rc;
    rc = pgtool_find("pg_receivewal", db_server_version_num(db) / 10000, &a->tool, e);
    if (rc < 0)
        return rc;
    rc = pg_tool_env_init(&a->pe, a->cfg, "archive-pg", e);
    if (rc < 0)
        return rc;
    rc = pg_wal_manifest_load(a->dir, &a->m, e);
    if (rc < 0)
        return rc;
    err_clear(&oe);
    a->offsite = pg_offsite_new(a->cfg, &oe);
    if (a->offsite == NULL && oe.code != ERR_OK)
        return err_set(e, oe.code, "%s", oe.msg);
    if (a->cfg->backup_base_schedule != NULL) {
        struct pg_base_list l = {0};
        int64_t next = 0;
        rc = cron_parse(a->cfg->backup_base_schedule, &a->cron, e);
        if (rc < 0)
            return rc;
        a->has_cron = true;
        if (cron_next(&a->cron, (int64_t)time(NULL), &next) == 0)
            a->base_due = (time_t)next;
        /* No base backup yet: the archive restores nothing without one; take it at once. */
        if (pg_base_list_load(a->cfg->backup_dir, &l, e) == 0 && l.n == 0)
            a->base_due = time(NULL) + 2;
        pg_base_list_release(&l);
    }
    stop_orphan(a);
    return create_slot(a, e);
}

/* pg_receivewal exited: back-off, and an alert after ARCHIVE_ALERT_AFTER failures in a row. */
static void child_exited(struct arch *a, int status)
{
    char why[PROC_STATUS_MAX], now[PG_WAL_PROGRESS_MAX];
    int backoff;

    read_child_stderr(a);
    pg_wal_progress(a->dir, now);
    /* A long run, or one that wrote WAL (the server went away under it, say): not a failure
     * in a row, so a server that crashed and came back is streamed from again in 1 s. */
    if (time_mono() - a->started >= HEALTHY_RUN_S || strcmp(now, a->progress) != 0) {
        a->failures = 0;
        a->alerted = false;
    }
    a->failures++;
    backoff = a->failures >= 7 ? BACKOFF_MAX_S : 1 << (a->failures - 1);
    log_warn("archive: pg_receivewal stopped (%s); restarting in %d s (failure %d)",
             proc_status_describe(status, why), backoff, a->failures);
    a->child = -1;
    unlink(a->pidfile);
    if (a->err_fd >= 0)
        close(a->err_fd);
    a->err_fd = -1;
    a->next_start = time_mono() + backoff;
    if (a->failures >= ARCHIVE_ALERT_AFTER && !a->alerted) {
        struct err ae;
        err_set(&ae, ERR_BACKUP,
                "continuous archiving is down: pg_receivewal failed %d times in a row (%s); the "
                "archive's recovery point is falling behind",
                a->failures, why);
        backup_alert(a->cfg, "archive_failed", &ae);
        a->alerted = true;
    }
}

/* The connection that holds the lock and watches the slot, (re)opened; -ERR_LOCKED if taken. */
static int connect_db(struct arch *a, struct err *e)
{
    int rc;

    db_close(a->db);
    a->db = NULL;
    rc = db_open(&a->cfg->db, DB_CONNECT_TIMEOUT_S, &a->db, e);
    if (rc == 0 && (rc = db_lock(a->db, ARCHIVE_LOCK, false, e)) == -ERR_LOCKED)
        err_set(e, ERR_LOCKED, "another archiver is archiving this database");
    if (rc < 0) {
        db_close(a->db);
        a->db = NULL;
    }
    return rc;
}

/*
 * The slot would hold more than ARCHIVE_SLOT_MAX_BYTES: drop it (the server's
 * disk comes first), set the broken archive aside and begin again: a new
 * slot, a new directory, a base backup at once.  Loud: the chain is cut.
 */
static void drop_slot(struct arch *a, struct pg_slot_state *st)
{
    struct err e, ae;
    char stamp[32], *aside;
    time_t now = time(NULL);

    stop_child(a);
    err_clear(&e);
    if (pg_slot_drop(a->db, &e) < 0) {
        log_error("archive: cannot drop the slot %s: %s", ARCHIVE_PG_SLOT, e.msg);
        return;
    }
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
    aside = xasprintf("%s.broken-%s", a->dir, stamp);
    err_set(&ae, ERR_BACKUP,
            "the replication slot %s held %lld bytes of WAL on the server (ARCHIVE_SLOT_MAX_BYTES "
            "%lld): it was dropped to protect the server's disk; the archive is cut here (set "
            "aside as '%s'): restores from older base backups stop at the cut; a new base backup "
            "begins a new chain now",
            ARCHIVE_PG_SLOT, (long long)st->retained, (long long)a->cfg->archive_slot_max_bytes,
            aside);
    backup_alert(a->cfg, "archive_slot_dropped", &ae);
    if (rename(a->dir, aside) != 0 || mkdir(a->dir, 0700) != 0)
        log_error("archive: cannot set '%s' aside: %s", a->dir, strerror(errno));
    free(aside);
    pg_wal_manifest_release(&a->m);
    st->dropped = (int64_t)now;
    a->dropped = (int64_t)now;
    err_clear(&e);
    if (create_slot(a, &e) < 0)
        log_error("archive: %s", e.msg);
    a->base_due = now;
    a->next_start = 0;
}

/* Every WATCH_S: the slot's retained WAL and lag recorded, the guard, the lag alert. */
static int watch_slot(struct arch *a, struct err *e)
{
    struct pg_slot_state st;
    int rc;

    if (time_mono() < a->next_watch)
        return 0;
    a->next_watch = time_mono() + WATCH_S;
    if (a->db == NULL) { /* the server was away: connect (and lock) again */
        rc = connect_db(a, e);
        if (rc < 0) {
            log_warn("archive: %s (retried)", e->msg);
            if (rc != -ERR_LOCKED)
                err_clear(e);
            return rc == -ERR_LOCKED ? rc : 0;
        }
    }
    rc = pg_slot_read(a->db, a->lag, &st, e);
    if (rc < 0) {
        log_warn("archive: cannot read the slot (%s): reconnecting", e->msg);
        err_clear(e);
        rc = connect_db(a, e);
        if (rc < 0 && rc != -ERR_LOCKED) {
            db_close(a->db); /* a server restarting: retried at the next watch */
            a->db = NULL;
            err_clear(e);
            rc = 0;
        }
        return rc;
    }
    st.dropped = a->dropped;
    if (st.retained > a->cfg->archive_slot_max_bytes)
        drop_slot(a, &st);
    if (st.lag_s > a->cfg->archive_max_lag_s && !a->lag_alerted) {
        struct err ae;
        err_set(&ae, ERR_BACKUP,
                "the archive is %.0f s behind the server (ARCHIVE_MAX_LAG %d s); the slot holds "
                "%lld bytes of WAL",
                st.lag_s, a->cfg->archive_max_lag_s, (long long)st.retained);
        backup_alert(a->cfg, "archive_lagging", &ae);
        a->lag_alerted = true;
    } else if (st.lag_s < a->cfg->archive_max_lag_s / 2.0) {
        a->lag_alerted = false;
    }
    pg_slot_state_write(a->cfg->backup_dir, &st);
    return 0;
}

/* BACKUP_BASE_SCHEDULE: a base backup when due (this instance is the archiver: one runs it). */
static void base_if_due(struct arch *a)
{
    struct err e;
    int nb = 0, nw = 0;
    char *held = NULL;
    int64_t next = 0;
    time_t now = time(NULL);
    int rc;

    if (a->base_due == 0 || now < a->base_due)
        return;
    err_clear(&e);
    pg_slot_base_begin(a->cfg->backup_dir);
    rc = pg_base_take(a->cfg, NULL, &e);
    pg_slot_base_end(a->cfg->backup_dir);
    if (rc < 0) {
        log_error("archive: scheduled base backup failed: %s", e.msg);
        if (e.code != ERR_LOCKED)
            backup_alert(a->cfg, "base_backup_failed", &e);
        a->base_due = now + BASE_RETRY_S;
        return;
    }
    if (pg_base_prune(a->cfg, &nb, &nw, &held, &e) < 0)
        log_error("archive: retention: %s", e.msg);
    else if (held != NULL)
        log_warn("archive: retention: %s", held);
    free(held);
    a->base_due = a->has_cron && cron_next(&a->cron, (int64_t)now, &next) == 0 ? (time_t)next : 0;
}

/* The filed WAL and the base backups to the mirror and S3 (pg_offsite.h). */
static void copy_offsite(struct arch *a)
{
    struct err e;

    err_clear(&e);
    if (pg_offsite_sync(a->offsite, &e) < 0)
        log_error("archive: off-site copy: %s (retried)", e.msg);
}

/* The check's record: BACKUP_DIR/.archive-pg-check.json {"time": EPOCH, "ok": B, "message": S}. */
static time_t last_check(const struct config *cfg)
{
    char *path = xasprintf("%s/.archive-pg-check.json", cfg->backup_dir);
    json_t *o = json_load_file(path, 0, NULL);
    time_t t = (time_t)json_integer_value(json_object_get(o, "time"));

    json_decref(o);
    free(path);
    return t;
}

/*
 * Weekly: backup verify --check (pg_check.h), the archive proven by a
 * restore into a throwaway server; an alert when it fails.
 */
static void check_if_due(struct arch *a)
{
    struct pg_check_result r;
    struct err e;
    char self[PATH_MAX], *path, *text;
    ssize_t n;
    json_t *o;
    time_t now = time(NULL);

    if (a->check_due == 0 || now < a->check_due)
        return;
    a->check_due = now + CHECK_EVERY_S;
    err_clear(&e);
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    log_info("archive: weekly check: restoring the archive into a throwaway server");
    if (pg_check_run(a->cfg, self, &r, &e) < 0) {
        log_error("archive: weekly check failed: %s", e.msg);
        backup_alert(a->cfg, "archive_check_failed", &e);
    } else {
        log_info("archive: weekly check: base backup %s replayed to %s, %d tables hold the "
                 "recorded row counts (%.1f s)",
                 r.base, r.lsn, r.tables, r.seconds);
    }
    o = json_pack("{s:I, s:b, s:s}", "time", (json_int_t)now, "ok", e.code == ERR_OK, "message",
                  e.code == ERR_OK ? "" : e.msg);
    text = json_dumps(o, JSON_COMPACT);
    path = xasprintf("%s/.archive-pg-check.json", a->cfg->backup_dir);
    if (file_write_atomic(path, text, strlen(text), 0600, ERR_BACKUP, &e) < 0)
        log_warn("archive: %s", e.msg);
    free(path);
    free(text);
    json_decref(o);
}

int archive_pg_run(const struct config *cfg, volatile int *stop, struct err *e)
{
    struct arch a;
    int rc;

    memset(&a, 0, sizeof(a));
    a.cfg = cfg;
    a.child = -1;
    a.err_fd = -1;
    if (cfg->db.kind != URL_POSTGRES)
        return err_set(e, ERR_CONFIG,
                       "archive: the PostgreSQL archiver needs a PostgreSQL DATABASE_URL");
    a.lag = xcalloc(1, sizeof(*a.lag));
    if ((rc = connect_db(&a, e)) < 0 || (rc = setup(&a, a.db, e)) < 0)
        goto cleanup;
    /* The weekly check: a week after the last one, or an hour after start when none ran. */
    if (cfg->backup_base_schedule != NULL) {
        time_t t = last_check(cfg);
        a.check_due = t > 0 ? t + CHECK_EVERY_S : time(NULL) + 3600;
    }
    while (*stop == 0) {
        int status;

        if (a.child < 0 && time_mono() >= a.next_start) {
            struct err se;
            err_clear(&se);
            if (spawn_receiver(&a, &se) < 0) {
                log_error("archive: %s", se.msg);
                a.next_start = time_mono() + BACKOFF_MAX_S;
            }
        }
        read_child_stderr(&a);
        if (a.child > 0 && waitpid(a.child, &status, WNOHANG) == a.child) {
            child_exited(&a, status);
        } else if (a.child > 0 && time_mono() - a.started >= HEALTHY_RUN_S) {
            a.failures = 0;
            a.alerted = false;
        }
        file_completed(&a);
        if ((rc = watch_slot(&a, e)) < 0)
            goto cleanup;
        base_if_due(&a);
        copy_offsite(&a);
        check_if_due(&a);
        sleep_ms(100);
    }
    rc = 0;

cleanup:
    stop_child(&a);
    if (a.dir != NULL && rc == 0) {
        file_completed(&a);
        copy_offsite(&a);
    }
    pg_offsite_free(a.offsite);
    db_close(a.db);
    pgtool_free(&a.tool);
    pg_tool_env_release(&a.pe);
    pg_wal_manifest_release(&a.m);
    free(a.lag);
    free(a.dir);
    free(a.pidfile);
    return rc;
}

/* ---- serve's thread ---- */

struct archive_pg {
    struct archive_thread *thread;
    const struct config *cfg;
};

static int run_in_thread(void *arg, volatile int *stop, struct err *e)
{
    return archive_pg_run(((struct archive_pg *)arg)->cfg, stop, e);
}

struct archive_pg *archive_pg_start(const struct config *cfg)
{
    struct archive_pg *s = xcalloc(1, sizeof(*s));

    s->cfg = cfg;
    s->thread = archive_thread_start(run_in_thread, s);
    if (s->thread == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void archive_pg_stop(struct archive_pg *s)
{
    if (s == NULL)
        return;
    archive_thread_stop(s->thread);
    free(s);
}
