/* sqlite_archive — see sqlite_archive.h. */
#include "archive/sqlite_archive.h"
#include "archive/thread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/sqlite_mirror.h"
#include "archive/sqlite_s3.h"
#include "archive/status.h"
#include "archive/sqlite_wal.h"
#include "backup/encrypt.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db_backup.h"

#define NEED_GEN      1
#define SCAN_FRAMES   256
#define WRITE_WAIT_MS 10000

struct arch {
    const struct archive_sqlite_opts *o;
    char *wal_path;
    char *root; /* BACKUP_DIR/wal-sqlite */
    char *gen_dir;
    sqlite3 *r, *w;
    bool guard; /* r holds its read transaction */
    /* Where the archive stands in the WAL. */
    uint32_t pagesize, salt1, salt2, ck0, ck1;
    bool salts_known;
    bool be; /* the log's checksums are of big-endian words */
    uint64_t pos, seq;
    bool epoch_ok;     /* a WAL restarted once (salt-1 + 1) lost nothing */
    uint64_t ckpt_log; /* frames our last RESTART checkpoint saw; 0 = none pending */
    int64_t last_ship_ms;
    struct archive_mirror *mirror; /* NULL without BACKUP_MIRROR_DIR */
    struct archive_s3 *s3;         /* NULL without BACKUP_S3_URL */
    char *restored;                /* root/.restored, rewritten by an in-place restore */
    struct stat restored_sb;       /* as last seen (st_ino 0: absent) */
};

/* Has a restore replaced the database since we last looked? */
static bool restored_since(struct arch *a)
{
    struct stat sb;

    if (stat(a->restored, &sb) != 0)
        memset(&sb, 0, sizeof(sb));
    if (sb.st_ino == a->restored_sb.st_ino && sb.st_mtim.tv_sec == a->restored_sb.st_mtim.tv_sec &&
        sb.st_mtim.tv_nsec == a->restored_sb.st_mtim.tv_nsec)
        return false;
    a->restored_sb = sb;
    return true;
}

static int sql_fail(struct err *e, sqlite3 *c, const char *what, const char *path)
{
    return err_set(e, ERR_BACKUP, "archive: %s '%s': %s", what, path, sqlite3_errmsg(c));
}

/* ---- the guard and the write lock ---- */

static int guard_begin(struct arch *a, struct err *e)
{
    if (a->guard)
        return 0;
    if (sqlite3_exec(a->r, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
        SQLITE_OK) {
        int rc = sql_fail(e, a->r, "cannot begin the read transaction on", a->o->db_path);
        sqlite3_exec(a->r, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    a->guard = true;
    return 0;
}

static void guard_end(struct arch *a)
{
    if (a->guard)
        sqlite3_exec(a->r, "ROLLBACK", NULL, NULL, NULL);
    a->guard = false;
    a->epoch_ok = false; /* unguarded, the WAL may restart with frames we have not seen */
}

/* May a WAL restarted once (salt-1 + 1) continue this generation? */
static bool restart_ok(const struct arch *a)
{
    if (a->ckpt_log > 0)
        return a->pos >= a->ckpt_log; /* our RESTART saw ckpt_log frames: all shipped? */
    return a->epoch_ok;
}

/* Take the write lock on w (waits up to WRITE_WAIT_MS while writers work). */
static int write_lock(struct arch *a, struct err *e)
{
    sqlite3_busy_timeout(a->w, WRITE_WAIT_MS);
    if (sqlite3_exec(a->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sql_fail(e, a->w, "cannot take the write lock of", a->o->db_path);
    return 0;
}

static void write_unlock(struct arch *a)
{
    sqlite3_exec(a->w, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- reading the WAL ---- */

/*
 * Scan the frames of h from frame pos (running checksum c0, c1): *end is
 * the frame after the last valid commit frame (pos when none), e0 and e1
 * the checksum there.
 */
static int scan(int fd, const struct wal_hdr *h, uint64_t pos, uint32_t c0, uint32_t c1,
                uint64_t *end, uint32_t *e0, uint32_t *e1)
{
    size_t fsz = WAL_FRAME_HDR + h->pagesize;
    unsigned char *buf = xmalloc(fsz * SCAN_FRAMES);
    uint64_t i = pos;
    bool more = true;

    *end = pos;
    *e0 = c0;
    *e1 = c1;
    while (more) {
        ssize_t got = pread(fd, buf, fsz * SCAN_FRAMES, (off_t)wal_frame_offset(h->pagesize, i));
        size_t nf = got > 0 ? (size_t)got / fsz : 0;
        if (nf < SCAN_FRAMES)
            more = false;
        for (size_t k = 0; k < nf; k++, i++) {
            uint32_t commit = 0;
            if (!wal_frame_check(h, buf + k * fsz, &c0, &c1, &commit)) {
                more = false;
                break;
            }
            if (commit != 0) {
                *end = i + 1;
                *e0 = c0;
                *e1 = c1;
            }
        }
    }
    free(buf);
    return 0;
}

/* The WAL's header into h: 0, 1 when there is none (missing, empty, not valid), <0 on error. */
static int read_hdr(struct arch *a, int *fd, struct wal_hdr *h, struct err *e)
{
    unsigned char b[WAL_HDR];

    *fd = open(a->wal_path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        if (errno == ENOENT)
            return 1;
        return err_set(e, ERR_BACKUP, "archive: cannot open '%s': %s", a->wal_path,
                       strerror(errno));
    }
    if (pread(*fd, b, WAL_HDR, 0) != WAL_HDR || wal_hdr_parse(b, WAL_HDR, h) != 0)
        return 1;
    return 0;
}

/* The stored checksum of frame i-1 must still be ours (the frames before pos never change). */
static bool tail_matches(struct arch *a, int fd, const struct wal_hdr *h)
{
    unsigned char b[WAL_FRAME_HDR];
    uint32_t s0, s1;

    if (a->pos == 0)
        return true;
    if (pread(fd, b, WAL_FRAME_HDR, (off_t)wal_frame_offset(h->pagesize, a->pos - 1)) !=
        WAL_FRAME_HDR)
        return false;
    s0 = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    s1 = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    return s0 == a->ck0 && s1 == a->ck1;
}

/*
 * Write frames [pos, end) of the log read with h as the next segment, then
 * its manifest line.  The frames are checked again as they are copied: a
 * writer may restart the log under the copy (the old log after our
 * checkpoint, or the log while no guard holds it), and then NEED_GEN.
 */
static int ship(struct arch *a, int fd, const struct wal_hdr *h, uint64_t end, uint32_t e0,
                uint32_t e1, struct err *e)
{
    struct wal_segment s;
    char *path;
    int rc;

    memset(&s, 0, sizeof(s));
    s.seq = a->seq + 1;
    s.time_ms = wal_now_ms();
    snprintf(s.file, sizeof(s.file), "%08llu.wal.gz%s", (unsigned long long)s.seq,
             a->o->recipient != NULL ? BACKUP_ENC_EXT : "");
    s.nframes = end - a->pos;
    s.salt1 = h->salt1;
    s.salt2 = h->salt2;
    s.start = a->pos;
    s.end = end;
    s.sck0 = a->ck0;
    s.sck1 = a->ck1;
    s.eck0 = e0;
    s.eck1 = e1;
    s.be = h->be;
    path = xasprintf("%s/%s", a->gen_dir, s.file);
    {
        struct wal_chain chain = {.h = h, .c0 = a->ck0, .c1 = a->ck1, .e0 = e0, .e1 = e1};
        uint64_t bad = 0;
        rc = wal_gz_frames(fd, a->pos, end, &chain, path, a->o->recipient, s.sha256, &s.size, &bad,
                           e);
        if (rc == 1) {
            log_info("archive: the log restarted while frames %llu-%llu were copied (frame %llu "
                     "no longer follows): beginning a new generation",
                     (unsigned long long)a->pos, (unsigned long long)end - 1,
                     (unsigned long long)bad);
            rc = NEED_GEN;
        }
    }
    free(path);
    if (rc == 0)
        rc = wal_manifest_append(a->gen_dir, &s, e);
    if (rc != 0)
        return rc;
    a->seq = s.seq;
    a->pos = end;
    a->ck0 = e0;
    a->ck1 = e1;
    a->be = h->be;
    a->last_ship_ms = s.time_ms;
    archive_mirror_segment(a->mirror, &s);
    archive_s3_segment(a->s3, &s);
    log_debug("archive: segment %llu: %llu frames", (unsigned long long)s.seq,
              (unsigned long long)s.nframes);
    return 0;
}

/*
 * One poll: ship the frames committed since pos.  Returns 0, NEED_GEN when
 * the WAL is no longer the one the archive continues, or <0.
 */
static int poll_once(struct arch *a, struct err *e)
{
    struct wal_hdr h;
    int fd = -1;
    int rc = read_hdr(a, &fd, &h, e);
    uint64_t end;
    uint32_t e0, e1;

    if (rc < 0)
        goto cleanup;
    if (rc == 1) {
        /* No log yet, or one truncated to nothing. */
        if (a->pos == 0 || restart_ok(a)) {
            rc = 0; /* the next header must be the next epoch's (checked then) */
        } else {
            rc = NEED_GEN;
        }
        goto cleanup;
    }
    if (a->salts_known && (h.salt1 != a->salt1 || h.salt2 != a->salt2) && a->ckpt_log > a->pos) {
        /*
         * Our RESTART saw frames we had not shipped and a writer has begun
         * the next epoch: the old frames past its first ones are still in the
         * file, valid under the old salts.
         */
        struct wal_hdr old = {
            .be = a->be, .pagesize = a->pagesize, .salt1 = a->salt1, .salt2 = a->salt2};
        scan(fd, &old, a->pos, a->ck0, a->ck1, &end, &e0, &e1);
        if (end > a->pos && (rc = ship(a, fd, &old, end, e0, e1, e)) < 0)
            goto cleanup;
    }
    if (a->salts_known && h.salt1 == a->salt1 && h.salt2 == a->salt2) {
        if (h.pagesize != a->pagesize || !tail_matches(a, fd, &h)) {
            rc = NEED_GEN;
            goto cleanup;
        }
        a->be = h.be;
    } else if (restart_ok(a) && (!a->salts_known || h.salt1 == a->salt1 + 1) &&
               h.pagesize == a->pagesize) {
        /* The log restarted once after everything was shipped: a new epoch, same generation. */
        a->salt1 = h.salt1;
        a->salt2 = h.salt2;
        a->salts_known = true;
        a->pos = 0;
        a->ck0 = h.ck0;
        a->ck1 = h.ck1;
        a->be = h.be;
        a->ckpt_log = 0;
    } else {
        rc = NEED_GEN;
        goto cleanup;
    }
    if (a->pos == 0) {
        a->ck0 = h.ck0;
        a->ck1 = h.ck1;
    }
    scan(fd, &h, a->pos, a->ck0, a->ck1, &end, &e0, &e1);
    if (end > a->pos && (rc = ship(a, fd, &h, end, e0, e1, e)) < 0)
        goto cleanup;
    if (a->ckpt_log > 0 && a->pos < a->ckpt_log)
        rc = NEED_GEN; /* our checkpoint saw frames that are gone */
    else
        rc = 0;

cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- generations ---- */

static char *new_gen_name(void)
{
    int64_t ms = wal_now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char b[64];

    gmtime_r(&t, &tm);
    strftime(b, sizeof(b), "%Y%m%dT%H%M%S", &tm);
    return xasprintf("%s%03dZ", b, (int)(ms % 1000));
}

/*
 * Begin a generation: under the write lock (taken here unless w_held), the
 * WAL's position and a snapshot that agree, then the guard.
 */
static int new_generation(struct arch *a, bool w_held, struct err *e)
{
    struct wal_manifest m;
    struct db_snapshot_stats st;
    struct wal_hdr h;
    char *name = NULL, *tmp = NULL, *gz = NULL;
    int fd = -1, sfd = -1, rc;
    uint64_t end = 0;
    uint32_t e0 = 0, e1 = 0;
    double t0 = time_mono();

    memset(&m, 0, sizeof(m));
    memset(&st, 0, sizeof(st));
    guard_end(a);
    if (!w_held && (rc = write_lock(a, e)) < 0)
        goto cleanup;
    name = new_gen_name();
    free(a->gen_dir);
    a->gen_dir = xasprintf("%s/%s", a->root, name);
    if ((mkdir(a->root, 0700) != 0 && errno != EEXIST) || mkdir(a->gen_dir, 0700) != 0) {
        rc = err_set(e, ERR_BACKUP, "archive: cannot create '%s': %s", a->gen_dir, strerror(errno));
        goto cleanup;
    }
    rc = read_hdr(a, &fd, &h, e);
    if (rc < 0)
        goto cleanup;
    m.salts_known = rc == 0;
    if (rc == 0) {
        scan(fd, &h, 0, h.ck0, h.ck1, &end, &e0, &e1);
        m.pagesize = h.pagesize;
        m.salt1 = h.salt1;
        m.salt2 = h.salt2;
        m.pos = end;
        m.ck0 = e0;
        m.ck1 = e1;
    }
    tmp = xasprintf("%s/.snapshot.db.tmp.%ld", a->gen_dir, (long)getpid());
    snprintf(m.snapshot_file, sizeof(m.snapshot_file), "snapshot.db.gz%s",
             a->o->recipient != NULL ? BACKUP_ENC_EXT : "");
    gz = xasprintf("%s/%s", a->gen_dir, m.snapshot_file);
    unlink(tmp);
    rc = db_sqlite_backup(a->o->db_path, tmp, &st, a->o->stop, e);
    if (rc < 0)
        goto cleanup;
    sfd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (sfd < 0) {
        rc = err_set(e, ERR_BACKUP, "archive: cannot read '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    {
        struct stat sb;
        unsigned char b[2];
        fstat(sfd, &sb);
        if (m.pagesize == 0 && pread(sfd, b, 2, 16) == 2)
            m.pagesize = b[0] << 8 | b[1] ? (uint32_t)(b[0] << 8 | b[1]) : 65536;
        if (m.pagesize == 1)
            m.pagesize = 65536;
        rc = wal_gz_write(sfd, 0, (uint64_t)sb.st_size, gz, a->o->recipient, m.snapshot_sha256,
                          &m.snapshot_size, e);
    }
    if (rc < 0)
        goto cleanup;
    m.snapshot_ms = wal_now_ms();
    rc = wal_manifest_create(a->gen_dir, &m, e);
    if (rc < 0)
        goto cleanup;
    a->pagesize = m.pagesize;
    a->salt1 = m.salt1;
    a->salt2 = m.salt2;
    a->salts_known = m.salts_known;
    a->pos = m.pos;
    a->ck0 = m.ck0;
    a->ck1 = m.ck1;
    a->be = m.salts_known && h.be;
    a->seq = 0;
    a->ckpt_log = 0;
    a->last_ship_ms = m.snapshot_ms;
    archive_mirror_generation(a->mirror, a->gen_dir, name);
    archive_s3_generation(a->s3, a->gen_dir, name);
    rc = guard_begin(a, e);
    a->epoch_ok = rc == 0;
    log_info("archive: generation %s begun (snapshot %llu bytes compressed, WAL frame %llu, "
             "%.2f s)",
             name, (unsigned long long)m.snapshot_size, (unsigned long long)m.pos,
             time_mono() - t0);

cleanup:
    if (!w_held)
        write_unlock(a);
    if (fd >= 0)
        close(fd);
    if (sfd >= 0)
        close(sfd);
    if (tmp != NULL)
        unlink(tmp);
    db_snapshot_stats_release(&st);
    free(tmp);
    free(gz);
    free(name);
    return rc;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The newest generation's name (caller frees), NULL when none. */
static char *newest_gen(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *de;
    char *best = NULL;

    if (d == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        char *mf;
        struct stat sb;
        if (de->d_name[0] == '.')
            continue;
        mf = xasprintf("%s/%s/manifest", root, de->d_name);
        if (stat(mf, &sb) == 0 && (best == NULL || strcmp(de->d_name, best) > 0)) {
            free(best);
            best = xstrdup(de->d_name);
        }
        free(mf);
    }
    closedir(d);
    (void)cmp_str;
    return best;
}

/* Cut a torn last line (a crash while appending) off dir/manifest. */
static void cut_torn(const char *dir)
{
    char *path = xasprintf("%s/manifest", dir);
    FILE *f = fopen(path, "re");
    long keep = 0, n = 0;
    int c;

    if (f != NULL) {
        while ((c = fgetc(f)) != EOF) {
            n++;
            if (c == '\n')
                keep = n;
        }
        fclose(f);
        if (keep < n && truncate(path, keep) == 0)
            log_warn("archive: cut a torn last line off '%s'", path);
    }
    free(path);
}

/* Continue the newest generation, or begin one. */
static int resume(struct arch *a, struct err *e)
{
    char *name = newest_gen(a->root);
    struct wal_manifest m;
    int rc;

    memset(&m, 0, sizeof(m));
    if (name == NULL)
        return new_generation(a, false, e);
    free(a->gen_dir);
    a->gen_dir = xasprintf("%s/%s", a->root, name);
    cut_torn(a->gen_dir);
    if (wal_manifest_load(a->gen_dir, &m, e) < 0) {
        log_warn("archive: %s: beginning a new generation", e->msg);
        free(name);
        return new_generation(a, false, e);
    }
    a->pagesize = m.pagesize;
    a->salt1 = m.salt1;
    a->salt2 = m.salt2;
    a->salts_known = m.salts_known;
    a->pos = m.pos;
    a->ck0 = m.ck0;
    a->ck1 = m.ck1;
    a->seq = 0;
    a->last_ship_ms = m.snapshot_ms;
    if (m.nsegs > 0) {
        const struct wal_segment *s = &m.segs[m.nsegs - 1];
        a->salt1 = s->salt1;
        a->salt2 = s->salt2;
        a->salts_known = true;
        a->pos = s->end;
        a->ck0 = s->eck0;
        a->ck1 = s->eck1;
        a->seq = s->seq;
        a->be = s->be;
        a->last_ship_ms = s->time_ms;
    }
    wal_manifest_release(&m);
    archive_mirror_generation(a->mirror, a->gen_dir, name);
    archive_s3_generation(a->s3, a->gen_dir, name);
    a->epoch_ok = false; /* what happened while no archiver watched is unknown */
    a->ckpt_log = 0;
    rc = write_lock(a, e);
    if (rc < 0)
        goto cleanup;
    rc = poll_once(a, e);
    if (rc == NEED_GEN) {
        log_info("archive: the WAL of '%s' is not the one generation %s continues: beginning "
                 "a new generation",
                 a->o->db_path, name);
        rc = new_generation(a, true, e);
    } else if (rc == 0) {
        rc = guard_begin(a, e);
        a->epoch_ok = rc == 0;
        log_info("archive: continuing generation %s at segment %llu", name,
                 (unsigned long long)a->seq);
    }
    write_unlock(a);

cleanup:
    free(name);
    return rc;
}

/*
 * Our own checkpoint, just after a poll shipped everything: RESTART (it
 * holds the write lock while it runs, so it saw exactly log frames), then
 * ship at once the few frames committed between that poll and the
 * checkpoint, while the old log is still in the file.  The next epoch
 * (salt-1 + 1) continues the generation only if everything the checkpoint
 * saw was shipped (poll_once checks pos against ckpt_log); else, or if the
 * log restarted twice, a new generation begins.  No write lock is taken:
 * busy writers never hold the archiver up here.
 */
static int checkpoint(struct arch *a, struct err *e)
{
    int log = 0, done = 0, rc;

    /* PASSIVE first, on the other connection, the guard held: it copies the
     * frames up to the guard's mark without blocking anyone, so that the
     * RESTART's write lock is short. */
    sqlite3_wal_checkpoint_v2(a->w, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    guard_end(a);
    sqlite3_busy_timeout(a->r, 100);
    rc = sqlite3_wal_checkpoint_v2(a->r, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    if (rc == SQLITE_OK && log > 0)
        a->ckpt_log = (uint64_t)log;
    {
        /* The guard again at once: the first writer may restart the log,
         * but no checkpoint can empty the next epoch (and restart it a
         * second time) while poll_once copies its frames. */
        struct err ge;
        err_clear(&ge);
        if (guard_begin(a, &ge) < 0)
            log_debug("%s", ge.msg);
    }
    rc = poll_once(a, e);
    if (rc == NEED_GEN) {
        log_info("archive: frames were checkpointed before they were shipped: beginning a new "
                 "generation");
        return new_generation(a, false, e);
    }
    if (rc == 0)
        rc = guard_begin(a, e);
    return rc;
}

/* ---- the lock and the loop ---- */

static int take_lock(const char *dir, int *out, struct err *e)
{
    char *path = xasprintf("%s/.archive-sqlite.lock", dir);
    char line[32];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int rc = 0;

    *out = -1;
    if (fd < 0 && errno == ENOENT && mkdir(dir, 0700) == 0)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, ERR_BACKUP, "cannot open the archive lock '%s': %s", path, strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
        line[n > 0 ? n : 0] = '\0';
        rc = err_set(e, ERR_LOCKED, "another archiver holds '%s' (pid %ld)", path,
                     strtol(line, NULL, 10));
        close(fd);
    } else {
        int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
            log_warn("archive: cannot write the pid into '%s'", path);
        *out = fd;
    }
    free(path);
    return rc;
}

static int open_conn(const char *path, sqlite3 **c, struct err *e)
{
    if (sqlite3_open_v2(path, c, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return sql_fail(e, *c, "cannot open", path);
    sqlite3_busy_timeout(*c, 5000);
    if (sqlite3_exec(*c, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0", NULL, NULL,
                     NULL) != SQLITE_OK)
        return sql_fail(e, *c, "cannot put in WAL mode", path);
    return 0;
}

int archive_sqlite_run(const struct archive_sqlite_opts *o, struct err *e)
{
    struct arch a;
    struct archive_sqlite_report report = {0};
    int lock = -1, rc, failures = 0, mirror_failures = 0;
    struct stat sb;

    memset(&a, 0, sizeof(a));
    a.o = o;
    rc = take_lock(o->backup_dir, &lock, e);
    if (rc < 0)
        goto cleanup;
    if (stat(o->db_path, &sb) != 0) {
        rc =
            err_set(e, ERR_BACKUP, "archive: cannot archive '%s': %s", o->db_path, strerror(errno));
        goto cleanup;
    }
    a.wal_path = xasprintf("%s-wal", o->db_path);
    a.root = xasprintf("%s/%s", o->backup_dir, ARCHIVE_SQLITE_SUBDIR);
    a.restored = xasprintf("%s/.restored", a.root);
    if (o->mirror_dir != NULL)
        a.mirror = archive_mirror_new(o->mirror_dir);
    if (o->cfg != NULL) {
        struct err se;
        err_clear(&se);
        a.s3 = archive_s3_new(o->cfg, &se);
        if (a.s3 == NULL && se.code != ERR_OK) {
            *e = se;
            rc = -se.code;
            goto cleanup;
        }
    }
    restored_since(&a);
    if ((rc = open_conn(o->db_path, &a.r, e)) < 0 || (rc = open_conn(o->db_path, &a.w, e)) < 0)
        goto cleanup;
    rc = resume(&a, e);
    if (rc < 0)
        goto cleanup;
    log_info("archive: archiving '%s' into '%s' every %d ms", o->db_path, a.root, o->interval_ms);
    while (*o->stop == 0) {
        struct err pe;
        err_clear(&pe);
        uint64_t seq_before = a.seq;
        rc = poll_once(&a, &pe);
        if (rc == 0 && a.seq != seq_before && a.pos < (uint64_t)o->checkpoint_frames) {
            /* Move the guard up to what is shipped: checkpoints by other
             * connections may then copy those frames, never restart the log. */
            guard_end(&a);
            rc = guard_begin(&a, &pe);
        }
        if (rc == 0 && restored_since(&a)) {
            log_info("archive: '%s' was restored: beginning a new generation", o->db_path);
            rc = NEED_GEN;
        }
        if (rc == NEED_GEN) {
            log_info("archive: the WAL of '%s' was reset behind the archiver: beginning a new "
                     "generation",
                     o->db_path);
            rc = new_generation(&a, false, &pe);
        }
        if (rc == 0 && a.pos >= (uint64_t)o->checkpoint_frames)
            rc = checkpoint(&a, &pe);
        if (rc == 0 && archive_mirror_sync(a.mirror, &pe) < 0) {
            if (mirror_failures++ % 30 == 0)
                log_error("%s (retried at the next poll)", pe.msg);
            err_clear(&pe);
        }
        if (rc == 0 && archive_s3_sync(a.s3, &pe) < 0) {
            log_error("%s (retried in 30 s)", pe.msg);
            err_clear(&pe);
        }
        if (rc < 0) {
            /* Logged and retried: a full disk or a busy database passes. */
            if (failures++ % 30 == 0)
                log_error("%s", pe.msg);
            if (!a.guard)
                guard_begin(&a, &pe);
        } else {
            failures = 0;
        }
        archive_sqlite_report(o->backup_dir, &report, wal_now_ms(), rc >= 0);
        for (int slept = 0; slept < o->interval_ms && *o->stop == 0; slept += 50)
            sleep_ms(o->interval_ms - slept < 50 ? o->interval_ms - slept : 50);
    }
    rc = 0;
    log_info("archive: stopped");

cleanup:
    guard_end(&a);
    sqlite3_close(a.r);
    sqlite3_close(a.w);
    if (lock >= 0)
        close(lock);
    free(a.wal_path);
    free(a.root);
    free(a.restored);
    archive_mirror_free(a.mirror);
    archive_s3_free(a.s3);
    free(a.gen_dir);
    return rc;
}

/* ---- serve's thread ---- */

struct archive_sqlite {
    struct archive_thread *thread;
    struct archive_sqlite_opts o;
    char *db_path, *backup_dir, *mirror_dir, *recipient;
};

static int run_in_thread(void *arg, volatile int *stop, struct err *e)
{
    struct archive_sqlite *s = arg;

    s->o.stop = stop;
    return archive_sqlite_run(&s->o, e);
}

static void free_state(struct archive_sqlite *s)
{
    free(s->mirror_dir);
    free(s->recipient);
    free(s->db_path);
    free(s->backup_dir);
    free(s);
}

struct archive_sqlite *archive_sqlite_start(const struct config *cfg)
{
    struct archive_sqlite *s = xcalloc(1, sizeof(*s));

    s->db_path = xstrdup(cfg->db.path);
    s->backup_dir = xstrdup(cfg->backup_dir);
    s->o.db_path = s->db_path;
    s->o.backup_dir = s->backup_dir;
    s->o.interval_ms = cfg->archive_sqlite_interval_ms;
    s->o.checkpoint_frames = cfg->archive_sqlite_checkpoint_frames;
    s->o.cfg = cfg;
    s->o.recipient = s->recipient =
        cfg->backup_encrypt_recipient ? xstrdup(cfg->backup_encrypt_recipient) : NULL;
    s->o.mirror_dir = s->mirror_dir =
        cfg->backup_mirror_dir ? xstrdup(cfg->backup_mirror_dir) : NULL;
    s->thread = archive_thread_start(run_in_thread, s);
    if (s->thread == NULL) {
        free_state(s);
        return NULL;
    }
    return s;
}

void archive_sqlite_stop(struct archive_sqlite *s)
{
    if (s == NULL)
        return;
    archive_thread_stop(s->thread);
    free_state(s);
}
