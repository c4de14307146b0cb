/*
 * take — one backup run, start to finish.  See take.h (backup_take) for
 * the contract and the crash-safety ordering this file implements.
 *
 * The steps, each logged with its duration, bytes and rate:
 *   prepare BACKUP_DIR → open the log → lock → remove stale files →
 *   free space → dump (pg_dump | copy) + compress + hash → fsync →
 *   commit the first tier → link the other tiers → rotate → summary.
 */
#include "backup/take.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/rotate.h"
#include "backup/runtime.h"
#include "backup/files.h"
#include "backup/stream.h"
#include "backup/pgdump.h"
#include "backup/manifest.h"
#include "db/db_backup.h"
#include "backup/alert.h"
#include "backup/encrypt.h"
#include "backup/remote.h"
#include "backup/secrets_key.h"
#include "common/log.h"
#include "common/util.h"
#include "notify/secrets.h"
#include "storage/dir.h"

/* Free space wanted beyond the previous backup's size, whatever it was. */
#define SPACE_FLOOR (64u * 1024)

/* Temporary files of this run, removed on failure (entries set to NULL once renamed). */
struct pending {
    char *p[4 * BACKUP_TIER_COUNT + 4];
    int n;
};

static const char *pending_add(struct pending *pd, char *path)
{
    if (pd->n >= (int)(sizeof(pd->p) / sizeof(pd->p[0])))
        abort(); /* a run makes at most 1 + 3 per tier: a bug if reached */
    pd->p[pd->n++] = path;
    return path;
}

static void pending_done(struct pending *pd, const char *path)
{
    for (int i = 0; i < pd->n; i++) {
        if (pd->p[i] == path) {
            free(pd->p[i]);
            pd->p[i] = NULL;
        }
    }
}

static void pending_cleanup(struct pending *pd, bool remove)
{
    for (int i = 0; i < pd->n; i++) {
        if (pd->p[i] != NULL && remove && unlink(pd->p[i]) == 0)
            log_info("removed the temporary file '%s'", pd->p[i]);
        free(pd->p[i]);
        pd->p[i] = NULL;
    }
    pd->n = 0;
}

void backup_result_release(struct backup_result *r)
{
    if (r == NULL)
        return;
    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        free(r->files[t]);
    memset(r, 0, sizeof(*r));
}

static bool cancelled(const struct backup_opts *o)
{
    return o->cancel != NULL && *o->cancel != 0;
}

/* ---- progress ---- */

struct ticker {
    const struct backup_opts *o;
    struct backup_stream *s;
    const char *step;
    double t0, last;
};

static void tick(void *arg)
{
    struct ticker *tk = arg;
    struct backup_progress p;
    double now;

    if (tk->o->progress == NULL)
        return;
    now = time_mono();
    if (now - tk->last < 0.25)
        return;
    tk->last = now;
    p.step = tk->step;
    backup_stream_counts(tk->s, &p.raw_bytes, &p.gz_bytes);
    p.seconds = now - tk->t0;
    tk->o->progress(tk->o->progress_arg, &p);
}

static double rate_mb(uint64_t bytes, double s)
{
    return s > 0.0005 ? (double)bytes / 1e6 / s : 0.0;
}

/* ---- steps ---- */

/*
 * The tiers to write: auto (daily, weekly, monthly on their days) or the
 * one asked for.
 */
static int resolve_tiers(const struct backup_opts *o, unsigned *tiers, struct err *e)
{
    if (o->tier == BACKUP_TIER_AUTO) {
        *tiers = backup_auto_tiers(o->now, o->cfg->backup_weekly_day, o->cfg->backup_monthly_day);
        return 0;
    }
    if (o->tier < 0 || o->tier >= BACKUP_TIER_COUNT)
        return err_set(e, ERR_USAGE, "invalid backup tier %d", o->tier);
    *tiers = 1u << o->tier;
    return 0;
}

/* True when any file of this name (data or sidecar, final) exists in a tier of tiers. */
static bool name_taken(const char *dir, unsigned tiers, time_t when, enum backup_format fmt)
{
    /* Encrypted or not: both names of the second count (issue 10). */
    const char *sfx[] = {
        "", ".sha256", ".json", BACKUP_ENC_EXT, BACKUP_ENC_EXT ".sha256", BACKUP_ENC_EXT ".json"};

    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        char name[BACKUP_NAME_MAX];
        if (!(tiers & (1u << t)))
            continue;
        backup_name_format(name, (enum backup_tier)t, when, fmt);
        for (int i = 0; i < 6; i++) {
            char *p =
                xasprintf("%s/%s/%s%s", dir, backup_tier_name((enum backup_tier)t), name, sfx[i]);
            bool taken = access(p, F_OK) == 0;
            free(p);
            if (taken)
                return true;
        }
    }
    return false;
}

/*
 * Free space: more than the previous backup's size plus half (a database
 * grows), plus, for SQLite, room for the uncompressed copy.
 */
static int check_space(const char *dir, uint64_t extra, struct err *e)
{
    struct backup_list l = {0};
    struct statvfs vfs;
    uint64_t prev = 0, need, avail;
    char a[32], n[32], p[32];
    int rc;

    rc = backup_list_load(dir, &l, e);
    if (rc < 0)
        goto cleanup;
    if (l.count > 0)
        prev = (uint64_t)l.items[0].size;
    if (statvfs(dir, &vfs) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot read the free space of '%s': %s", dir, strerror(errno));
        goto cleanup;
    }
    avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    need = prev + prev / 2 + SPACE_FLOOR + extra;
    if (avail < need) {
        if (extra > 0)
            rc = err_set(e, ERR_NO_SPACE,
                         "not enough free space in '%s': %s available, %s needed (the previous "
                         "backup's %s plus 50%%, and %s for the database copy)",
                         dir, backup_fmt_bytes(a, avail), backup_fmt_bytes(n, need),
                         backup_fmt_bytes(p, prev), backup_fmt_bytes(n, extra));
        else
            rc = err_set(e, ERR_NO_SPACE,
                         "not enough free space in '%s': %s available, %s needed (the previous "
                         "backup's %s plus 50%%)",
                         dir, backup_fmt_bytes(a, avail), backup_fmt_bytes(n, need),
                         backup_fmt_bytes(p, prev));
        goto cleanup;
    }
    log_info("space: %s free in '%s', %s needed", backup_fmt_bytes(a, avail), dir,
             backup_fmt_bytes(n, need));

cleanup:
    backup_list_release(&l);
    return rc;
}

/* Bytes of the SQLite database and its WAL (the copy can be that big). */
static uint64_t sqlite_size(const char *path)
{
    struct stat sb;
    uint64_t n = 0;
    char *wal = xasprintf("%s-wal", path);

    if (stat(path, &sb) == 0)
        n += (uint64_t)sb.st_size;
    if (stat(wal, &sb) == 0)
        n += (uint64_t)sb.st_size;
    free(wal);
    return n;
}

/* Stream a file into the compressor (the SQLite copy). */
static int stream_file(const char *path, struct backup_stream *s, struct ticker *tk,
                       const struct backup_opts *o, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return err_set(e, ERR_BACKUP, "cannot open '%s': %s", path, strerror(errno));
    for (;;) {
        void *p;
        size_t avail;
        ssize_t n;

        if (cancelled(o)) {
            rc = err_set(e, ERR_BACKUP, "backup cancelled while compressing");
            break;
        }
        rc = backup_stream_buffer(s, &p, &avail, e);
        if (rc < 0)
            break;
        n = read(fd, p, avail);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        rc = backup_stream_commit(s, (size_t)n, e);
        if (rc < 0)
            break;
        tick(tk);
    }
    close(fd);
    return rc;
}

/* The sidecars' text for one tier's file. */
static char *sha_line(const char *sha, const char *base)
{
    return xasprintf("%s  %s\n", sha, base);
}

/*
 * Commit one tier through the BACKUP_DIR store: its sidecars written under
 * temporary names beside data_tmp (complete, fsynced), then the three moved
 * into place, the data file last (storage_put).  *final (caller frees): the
 * data file's path.
 */
static int commit_tier(struct storage_store *local, const char *tdir, enum backup_tier t,
                       const char *base, const char *data_tmp, const char *sha, uint64_t size,
                       const char *manifest, struct pending *pd, char **final, struct err *e)
{
    const char *sfx[3] = {"", ".sha256", ".json"};
    char *line = sha_line(sha, base);
    const char *content[3] = {NULL, line, manifest};
    const char *src[3] = {data_tmp, NULL, NULL};
    char *name[3];
    int rc = 0;

    for (int i = 0; i < 3; i++)
        name[i] = xasprintf("%s/%s%s", backup_tier_name(t), base, sfx[i]);
    for (int i = 1; i < 3 && rc == 0; i++) {
        char *side = xasprintf("%s%s", base, sfx[i]);
        src[i] = pending_add(pd, backup_tmp_path(tdir, side));
        rc = backup_write_new_file(src[i], content[i], strlen(content[i]), e);
        free(side);
    }
    /* The commit point: from here on the backup exists, complete. */
    if (rc == 0)
        rc = storage_put(local, src, (const char *const *)name, 3, STORAGE_PUT_MOVE, sha,
                         (int64_t)size, final, e);
    for (int i = 0; i < 3; i++) {
        if (rc == 0 && src[i] != NULL)
            pending_done(pd, src[i]); /* in place under its final name */
        free(name[i]);
    }
    free(line);
    return rc;
}

/* A link to the committed primary file, or a copy where links are impossible. */
static int link_or_copy(const char *src, const char *dst, struct err *e)
{
    if (link(src, dst) == 0)
        return 0;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP &&
        errno != EOPNOTSUPP)
        return err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP,
                       "cannot link '%s' to '%s': %s", dst, src, strerror(errno));
    log_info("cannot hard-link '%s' (%s): copying it", dst, strerror(errno));
    return backup_copy_file(src, dst, e);
}

/*
 * The error codes a take reports as such; anything else is "backup failed"
 * (exit 5).  A rejected password is exit 3: retrying will not heal it.
 */
static int normalize_error(int rc, struct err *e)
{
    if (rc >= 0)
        return rc;
    switch (e->code) {
    case ERR_DB_AUTH:
    case ERR_LOCKED:
    case ERR_NO_SPACE:
    case ERR_USAGE:
    case ERR_CONFIG:
    case ERR_BACKUP:
        return -(int)e->code;
    default:
        e->code = ERR_BACKUP;
        return -ERR_BACKUP;
    }
}

/* One run's state, shared by its steps. */
struct run {
    const struct backup_opts *o;
    const char *dir;
    enum backup_format fmt;
    unsigned tiers;
    int primary; /* the first tier: the one that gets the dump */
    char names[BACKUP_TIER_COUNT][BACKUP_NAME_MAX];
    struct pending pd;
    struct db_snapshot_stats st;
    struct backup_stream_stats ss;
    char *pg_version;
    char *data_tmp; /* the dump's temporary file (owned by pd) */
    double t0;
    const char *recipient;       /* BACKUP_ENCRYPT_RECIPIENT, NULL = not encrypted */
    struct storage_store *local; /* BACKUP_DIR as a store: where the commits go */
};

/*
 * Encrypting, the compressor writes into age's stdin: should age die, the
 * write must fail with EPIPE rather than kill us with SIGPIPE.  Blocked in
 * this thread (the only one that writes), a pending SIGPIPE is consumed
 * before the mask is restored.
 */
static void sigpipe_block(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
    sigset_t set;
    struct timespec zero = {0, 0};

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/*
 * Dump once into the first tier's temporary file: pg_dump, or the SQLite
 * copy then its compression; fsynced and closed on success.
 */
static int dump(struct run *run, struct err *e)
{
    const struct backup_opts *o = run->o;
    const char *name = run->names[run->primary];
    struct backup_stream *stream = NULL;
    struct backup_age *age = NULL;
    struct ticker tk = {0};
    char *tdir = xasprintf("%s/%s", run->dir, backup_tier_name((enum backup_tier)run->primary));
    char *raw_tmp = NULL;
    double ts = time_mono();
    sigset_t oldmask;
    int fd = -1;
    int rc;

    if (run->recipient != NULL)
        sigpipe_block(&oldmask);
    run->data_tmp = backup_tmp_path(tdir, name);
    pending_add(&run->pd, run->data_tmp);
    fd = open(run->data_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot create '%s': %s",
                     run->data_tmp,
                     errno == ENOSPC ? backup_enospc_why(run->data_tmp) : strerror(errno));
        goto cleanup;
    }
    if (run->recipient != NULL) {
        /* gzip -> age's stdin; age's stdout -> the temporary file: no plaintext on disk. */
        rc = backup_age_encrypt_start(run->recipient, fd, run->data_tmp, &age, e);
        if (rc < 0)
            goto cleanup;
    }
    rc =
        backup_stream_new(age != NULL ? backup_age_fd(age) : fd, run->data_tmp, BACKUP_STREAM_LEVEL,
                          backup_stream_default_threads(), BACKUP_STREAM_BLOCK, &stream, e);
    if (rc < 0)
        goto cleanup;
    tk.o = o;
    tk.s = stream;
    tk.t0 = tk.last = time_mono();
    if (run->fmt == BACKUP_FMT_SQL) {
        struct backup_pg_run pg = {
            .url = o->db,
            .priv_dir = run->dir,
            .stream = stream,
            .cancel = o->cancel,
            .tick = tick,
            .tick_arg = &tk,
        };
        tk.step = "dump";
        rc = backup_pg_dump(&pg, &run->st, &run->pg_version, e);
        if (rc < 0)
            goto cleanup;
    } else {
        /* ".<name without .gz>.tmp.<pid>": the raw copy, compressed then deleted. */
        char *raw_base = xstrndup(name, strlen(name) - (run->recipient != NULL ? 7 : 3));
        char sz[32];
        double tc = time_mono();

        if (run->recipient != NULL) {
            /*
             * Encrypted backups keep plaintext out of BACKUP_DIR: the raw copy
             * goes beside the live database, which holds the same bytes.
             */
            const char *sl = strrchr(o->db->path, '/');
            char *ddir =
                sl != NULL ? xstrndup(o->db->path, (size_t)(sl - o->db->path) + (sl == o->db->path))
                           : xstrdup(".");
            raw_tmp = backup_tmp_path(ddir, raw_base);
            free(ddir);
        } else {
            raw_tmp = backup_tmp_path(tdir, raw_base);
        }
        free(raw_base);
        tk.step = "copy";
        rc = db_sqlite_backup(o->db->path, raw_tmp, &run->st, o->cancel, e);
        if (rc < 0)
            goto cleanup;
        tc = time_mono() - tc;
        log_info("copy: '%s' copied through the online backup API: %s in %.2f s (%.1f MB/s)",
                 o->db->path, backup_fmt_bytes(sz, sqlite_size(raw_tmp)), tc,
                 rate_mb(sqlite_size(raw_tmp), tc));
        tk.step = "compress";
        ts = time_mono();
        rc = stream_file(raw_tmp, stream, &tk, o, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = backup_stream_finish(stream, &run->ss, e);
    if (rc < 0)
        goto cleanup;
    if (age != NULL) {
        struct backup_age *a = age;
        age = NULL;
        rc = backup_age_finish(a, e);
        if (rc < 0)
            goto cleanup;
    }
    if (fsync(fd) != 0) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot fsync '%s': %s",
                     run->data_tmp, strerror(errno));
        goto cleanup;
    }
    rc = close(fd);
    fd = -1;
    if (rc != 0) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot close '%s': %s",
                     run->data_tmp, strerror(errno));
        goto cleanup;
    }
    if (run->recipient != NULL) {
        /* The sidecar and the manifest describe the file as stored: the ciphertext. */
        uint64_t enc_bytes = 0;
        rc = backup_hash_file(run->data_tmp, run->ss.sha256, &enc_bytes, e);
        if (rc < 0) {
            e->code = ERR_BACKUP;
            goto cleanup;
        }
        log_info("encrypt: %s with age for '%s': %llu bytes", run->data_tmp, run->recipient,
                 (unsigned long long)enc_bytes);
        run->ss.gz_bytes = enc_bytes;
    }
    {
        char a[32], b[32];
        double d = time_mono() - ts;
        log_info("%s: %s in %.2f s (%.1f MB/s), compressed to %s (%.1f%%), sha256 %s", tk.step,
                 backup_fmt_bytes(a, run->ss.raw_bytes), d, rate_mb(run->ss.raw_bytes, d),
                 backup_fmt_bytes(b, run->ss.gz_bytes),
                 run->ss.raw_bytes ? 100.0 * (double)run->ss.gz_bytes / (double)run->ss.raw_bytes
                                   : 0.0,
                 run->ss.sha256);
    }

cleanup:
    backup_stream_free(stream);
    if (age != NULL && rc < 0) {
        /* A broken pipe's cause is age's own message (a bad recipient, say). */
        struct err ae;
        err_clear(&ae);
        if (backup_age_finish(age, &ae) < 0)
            err_set(e, ERR_BACKUP, "%s", ae.msg);
        age = NULL;
    }
    backup_age_abort(age);
    if (fd >= 0)
        close(fd);
    if (run->recipient != NULL)
        sigpipe_restore(&oldmask);
    if (raw_tmp != NULL) {
        const char *sfx[] = {"", "-journal", "-wal", "-shm"};
        for (int i = 0; i < 4; i++) {
            char *p = xasprintf("%s%s", raw_tmp, sfx[i]);
            unlink(p);
            free(p);
        }
        free(raw_tmp);
    }
    free(tdir);
    return rc;
}

/*
 * Commit the first tier (the temporary dump), then give every other tier a
 * link (or a copy) of the committed file, each with its own sidecars.
 */
static int commit_all(struct run *run, struct backup_result *r, struct err *e)
{
    const struct backup_opts *o = run->o;
    const char *primary_final = NULL;
    double ts = time_mono();
    char *skey = NULL;
    int rc = 0;

    if (run->recipient != NULL) { /* the credentials' key, encrypted too (secrets_key.h) */
        struct config c = *o->cfg;
        struct err ke;
        char *path;
        c.db = *o->db;
        path = notify_secrets_key_path(&c);
        err_clear(&ke);
        if (backup_secrets_key_encrypt(run->recipient, path, run->dir, &skey, &ke) < 0)
            log_warn("the backup carries no secrets key: %s", ke.msg);
        else if (skey != NULL)
            log_info("secrets key '%s' in the manifest, encrypted with age", path);
        free(path);
    }

    for (int t = run->primary; t < BACKUP_TIER_COUNT && rc == 0; t++) {
        struct backup_manifest_in mi;
        char *manifest = NULL;
        char *tdir = NULL;
        const char *tmp = NULL;

        if (!(run->tiers & (1u << t)))
            continue;
        tdir = xasprintf("%s/%s", run->dir, backup_tier_name((enum backup_tier)t));
        if (t == run->primary) {
            tmp = run->data_tmp;
        } else {
            tmp = pending_add(&run->pd, backup_tmp_path(tdir, run->names[t]));
            rc = link_or_copy(primary_final, tmp, e);
        }
        if (rc == 0) {
            memset(&mi, 0, sizeof(mi));
            mi.file = run->names[t];
            mi.tier = (enum backup_tier)t;
            mi.tiers = run->tiers;
            mi.started = o->now;
            mi.finished = o->now + (time_t)(time_mono() - run->t0 + 0.5);
            mi.kind = r->kind;
            mi.database = url_redacted(o->db);
            mi.stats = &run->st;
            mi.pg_dump_version = run->pg_version;
            mi.raw_bytes = run->ss.raw_bytes;
            mi.gz_bytes = run->ss.gz_bytes;
            mi.sha256 = run->ss.sha256;
            mi.secrets_key = skey;
            manifest = backup_manifest_render(&mi);
            if (manifest == NULL)
                rc = err_set(e, ERR_INTERNAL, "cannot render the manifest of '%s'", mi.file);
        }
        if (rc == 0)
            rc = commit_tier(run->local, tdir, (enum backup_tier)t, run->names[t], tmp,
                             run->ss.sha256, run->ss.gz_bytes, manifest, &run->pd, &r->files[t], e);
        if (rc == 0) {
            r->tiers |= 1u << t;
            if (t == run->primary)
                primary_final = r->files[t];
            log_info("commit: '%s' with its .sha256 and .json%s (%.3f s)", r->files[t],
                     t == run->primary ? "" : ", a link to the same data", time_mono() - ts);
            ts = time_mono();
        }
        free(manifest);
        free(tdir);
    }
    free(skey);
    return rc;
}

int backup_take(const struct backup_opts *o, struct backup_result *r, struct err *e)
{
    struct run run;
    struct backup_log *log = NULL;
    struct backup_lock *lock = NULL;
    time_t when = o->now;
    int rc;

    memset(&run, 0, sizeof(run));
    memset(r, 0, sizeof(*r));
    run.o = o;
    run.dir = o->cfg->backup_dir;
    run.fmt = o->db->kind == URL_SQLITE ? BACKUP_FMT_SQLITE : BACKUP_FMT_SQL;
    run.primary = -1;
    run.t0 = time_mono();
    if (o->cfg->backup_encrypt_recipient != NULL && o->cfg->backup_encrypt_recipient[0] != '\0')
        run.recipient = o->cfg->backup_encrypt_recipient;
    r->kind = o->db->kind == URL_SQLITE ? DB_SQLITE : DB_PG;

    rc = resolve_tiers(o, &run.tiers, e);
    if (rc < 0)
        goto cleanup;
    for (int t = 0; t < BACKUP_TIER_COUNT && run.primary < 0; t++)
        if (run.tiers & (1u << t))
            run.primary = t;

    /* The directories first: the log file lives in one of them. */
    rc = backup_dir_prepare(run.dir, e);
    if (rc < 0)
        goto cleanup;
    {
        struct storage_dir_options lo = {.root = run.dir};
        rc = storage_dir_store_open(&lo, &run.local, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = backup_log_open(run.dir, o->now, &log, e);
    if (rc < 0)
        goto cleanup;
    {
        struct buf tb = BUF_INIT;
        for (int t = 0; t < BACKUP_TIER_COUNT; t++)
            if (run.tiers & (1u << t))
                buf_addf(&tb, "%s%s", tb.len ? "+" : "", backup_tier_name((enum backup_tier)t));
        log_info("backup: started: %s of '%s' into '%s' (pid %ld)", buf_str(&tb),
                 url_redacted(o->db), run.dir, (long)getpid());
        buf_release(&tb);
    }
    if (!o->lock_held) {
        rc = backup_lock_acquire(run.dir, &lock, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = backup_cleanup_stale(run.dir, NULL, e);
    if (rc < 0)
        goto cleanup;
    backup_runtime_sweep(o->db);

    /* Two runs within one second (or one fake clock) must not collide. */
    for (int i = 0; name_taken(run.dir, run.tiers, when, run.fmt); i++) {
        if (i >= 3600) {
            rc = err_set(e, ERR_BACKUP, "no free backup name near this time in '%s'", run.dir);
            goto cleanup;
        }
        when++;
    }
    if (when != o->now)
        log_info("a backup of this second exists already: naming this one %ld s later",
                 (long)(when - o->now));
    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        backup_name_format(run.names[t], (enum backup_tier)t, when, run.fmt);
        if (run.recipient != NULL)
            strcat(run.names[t], BACKUP_ENC_EXT);
    }

    rc = check_space(run.dir, run.fmt == BACKUP_FMT_SQLITE ? sqlite_size(o->db->path) : 0, e);
    if (rc < 0)
        goto cleanup;
    rc = dump(&run, e);
    if (rc < 0)
        goto cleanup;
    if (cancelled(o)) {
        rc = err_set(e, ERR_BACKUP, "backup cancelled before its files were committed");
        goto cleanup;
    }
    rc = commit_all(&run, r, e);
    if (rc < 0)
        goto cleanup;
    memcpy(r->sha256, run.ss.sha256, sizeof(r->sha256));
    r->raw_bytes = run.ss.raw_bytes;
    r->gz_bytes = run.ss.gz_bytes;

    /* Rotation, only now that the new backup is complete. */
    if (o->rotate) {
        struct backup_list victims = {0};
        int keep[BACKUP_TIER_COUNT];
        const char *protect[BACKUP_TIER_COUNT];

        for (int t = 0; t < BACKUP_TIER_COUNT; t++)
            protect[t] = r->files[t];
        backup_keep_from_config(o->cfg, keep);
        rc = backup_rotate(run.dir, keep, protect, BACKUP_TIER_COUNT, false, &victims, e);
        r->rotated = victims.count;
        backup_list_release(&victims);
        if (rc < 0)
            goto cleanup;
    }
    r->seconds = time_mono() - run.t0;
    {
        char b[32];
        log_info("backup: complete: '%s', %s, %.2f s", r->files[run.primary],
                 backup_fmt_bytes(b, r->gz_bytes), r->seconds);
    }
    backup_log_summary(run.dir);
    /* Off the machine, only now that the local backup is complete; never fails the run. */
    backup_remote_sync(o->cfg, NULL);

cleanup:
    rc = normalize_error(rc, e);
    pending_cleanup(&run.pd, rc < 0);
    if (rc >= 0 || e->code != ERR_LOCKED) /* a locked-out run: the holder records */
        backup_state_record(o, run.tiers, rc < 0 ? NULL : r, rc < 0 ? e : NULL,
                            time_mono() - run.t0);
    if (rc < 0) {
        log_error("backup failed: %s", e->msg);
        backup_alert(o->cfg, "backup failed", e);
    }
    backup_lock_release(lock);
    backup_log_close(log);
    storage_close(run.local);
    db_snapshot_stats_release(&run.st);
    free(run.pg_version);
    return rc;
}
