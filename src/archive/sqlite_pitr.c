/* sqlite_pitr — see sqlite_pitr.h. */
#include "archive/sqlite_pitr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "archive/sqlite_wal.h"
#include "backup/files.h"
#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/take.h"
#include "backup/encrypt.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db_backup.h"

struct gens {
    char **names; /* sorted, oldest first */
    int n;
};

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static void gens_release(struct gens *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->names[i]);
    free(g->names);
    memset(g, 0, sizeof(*g));
}

/* The generations with a manifest under root (none when root is missing). */
static void gens_list(const char *root, struct gens *g)
{
    DIR *d = opendir(root);
    struct dirent *de;

    memset(g, 0, sizeof(*g));
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char *mf;
        struct stat sb;
        if (de->d_name[0] == '.')
            continue;
        mf = xasprintf("%s/%s/manifest", root, de->d_name);
        if (stat(mf, &sb) == 0) {
            g->names = xrealloc(g->names, sizeof(*g->names) * (size_t)(g->n + 1));
            g->names[g->n++] = xstrdup(de->d_name);
        }
        free(mf);
    }
    closedir(d);
    if (g->n > 1)
        qsort(g->names, (size_t)g->n, sizeof(*g->names), cmp_str);
}

int archive_sqlite_range(const char *backup_dir, struct archive_sqlite_range *r, struct err *e)
{
    char *root = xasprintf("%s/%s", backup_dir, ARCHIVE_SQLITE_SUBDIR);
    struct gens g;
    struct err ignored;

    (void)e;
    memset(r, 0, sizeof(*r));
    gens_list(root, &g);
    for (int i = 0; i < g.n; i++) {
        struct wal_manifest m;
        char *dir = xasprintf("%s/%s", root, g.names[i]);
        if (wal_manifest_load(dir, &m, &ignored) == 0) {
            int64_t last = m.nsegs > 0 ? m.segs[m.nsegs - 1].time_ms : m.snapshot_ms;
            if (!r->any || m.snapshot_ms < r->from_ms)
                r->from_ms = m.snapshot_ms;
            if (!r->any || last > r->to_ms)
                r->to_ms = last;
            r->any = true;
            r->generations++;
            r->segments += (uint64_t)m.nsegs;
            wal_manifest_release(&m);
        }
        free(dir);
    }
    gens_release(&g);
    free(root);
    return 0;
}

/*
 * Read the segment file path (gzip frames), check its frames against s
 * (salts, the checksum chain from sck to eck, nframes, the last one
 * commits), and when fd >= 0 write each page into the database file fd,
 * cutting it to each commit's size.  -ERR_VERIFY naming path.
 */
static int apply_segment(const char *path, const struct wal_segment *s, uint32_t pagesize, int fd,
                         const char *identity, struct err *e)
{
    size_t fsz = WAL_FRAME_HDR + pagesize;
    unsigned char *f = xmalloc(fsz);
    struct wal_hdr h = {.be = s->be, .pagesize = pagesize, .salt1 = s->salt1, .salt2 = s->salt2};
    uint32_t c0 = s->sck0, c1 = s->sck1, commit = 0;
    struct wal_in in;
    uint64_t n = 0;
    int got = 0, rc;

    rc = wal_in_open(path, identity, &in, e);
    if (rc < 0)
        goto cleanup;
    while ((got = gzread((gzFile)in.gz, f, (unsigned)fsz)) == (int)fsz) {
        uint32_t pgno = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
        if (!wal_frame_check(&h, f, &c0, &c1, &commit)) {
            rc = err_set(e, ERR_VERIFY, "'%s': frame %llu fails its checksum", path,
                         (unsigned long long)n);
            goto cleanup;
        }
        if (fd >= 0) {
            if (pwrite(fd, f + WAL_FRAME_HDR, pagesize, (off_t)(pgno - 1) * pagesize) !=
                    (ssize_t)pagesize ||
                (commit != 0 && ftruncate(fd, (off_t)commit * pagesize) != 0)) {
                rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP,
                             "cannot write the restored database: %s", strerror(errno));
                goto cleanup;
            }
        }
        n++;
    }
    if (got != 0 || !gzeof((gzFile)in.gz))
        rc = err_set(e, ERR_VERIFY, "'%s' is not a whole gzip file of WAL frames", path);
    else if (n != s->nframes || commit == 0 || c0 != s->eck0 || c1 != s->eck1)
        rc = err_set(e, ERR_VERIFY,
                     "'%s' holds %llu frames, not the %llu whole transactions its manifest says",
                     path, (unsigned long long)n, (unsigned long long)s->nframes);

cleanup:
    if (wal_in_close(&in, rc == 0, rc == 0 ? e : NULL) < 0)
        rc = -ERR_VERIFY;
    free(f);
    return rc;
}

/* Does segment s continue (salt1, salt2, pos, ck) without a gap?  Advances them. */
static bool continues(const struct wal_segment *s, uint32_t *salt1, uint32_t *salt2, bool *known,
                      uint64_t *pos, uint32_t *ck0, uint32_t *ck1)
{
    bool same = *known && s->salt1 == *salt1 && s->salt2 == *salt2 && s->start == *pos &&
                s->sck0 == *ck0 && s->sck1 == *ck1;
    bool epoch = s->start == 0 && (!*known || s->salt1 == *salt1 + 1 || s->salt1 == *salt1);

    if (!same && !epoch)
        return false;
    *salt1 = s->salt1;
    *salt2 = s->salt2;
    *known = true;
    *pos = s->end;
    *ck0 = s->eck0;
    *ck1 = s->eck1;
    return true;
}

/*
 * Check generation dir's snapshot and its segments up to upto_ms (all with
 * INT64_MAX): *usable is how many segments in a row are whole.  Returns 0
 * when all checked are whole, else -ERR_VERIFY naming the first problem.
 */
static int check_gen(const char *dir, const struct wal_manifest *m, int64_t upto_ms,
                     const char *identity, int *usable, struct err *e)
{
    char *snap = xasprintf("%s/%s", dir, m->snapshot_file);
    char sha[HASH_SHA256_HEX];
    uint32_t salt1 = m->salt1, salt2 = m->salt2, ck0 = m->ck0, ck1 = m->ck1;
    bool known = m->salts_known;
    uint64_t pos = m->pos, size = 0;
    int rc = 0;

    *usable = 0;
    if (hash_sha256_file(snap, sha, &size) != 0) {
        rc = err_set(e, ERR_VERIFY, "the snapshot '%s' is missing: %s", snap, strerror(errno));
        goto cleanup;
    }
    if (strcmp(sha, m->snapshot_sha256) != 0) {
        rc = err_set(e, ERR_VERIFY, "the snapshot '%s' is damaged (SHA-256 mismatch)", snap);
        goto cleanup;
    }
    for (int i = 0; i < m->nsegs && m->segs[i].time_ms <= upto_ms; i++) {
        const struct wal_segment *s = &m->segs[i];
        char *p = xasprintf("%s/%s", dir, s->file);
        if (s->seq != (uint64_t)i + 1 || !continues(s, &salt1, &salt2, &known, &pos, &ck0, &ck1))
            rc = err_set(e, ERR_VERIFY, "segment %llu ('%s') does not follow segment %d",
                         (unsigned long long)s->seq, p, i);
        else if (hash_sha256_file(p, sha, &size) != 0)
            rc = err_set(e, ERR_VERIFY, "segment %llu ('%s') is missing",
                         (unsigned long long)s->seq, p);
        else if (strcmp(sha, s->sha256) != 0)
            rc = err_set(e, ERR_VERIFY, "segment %llu ('%s') is damaged (SHA-256 mismatch)",
                         (unsigned long long)s->seq, p);
        else if (identity != NULL || !backup_name_encrypted(p))
            rc = apply_segment(p, s, m->pagesize, -1, identity, e);
        free(p);
        if (rc < 0)
            goto cleanup;
        (*usable)++;
    }

cleanup:
    free(snap);
    return rc;
}

int archive_sqlite_verify(const char *backup_dir, const char *identity,
                          void (*report)(void *arg, const char *gen, uint64_t nsegs,
                                         const char *problem),
                          void *arg, int *ngens, int *bad, struct err *e)
{
    char *root = xasprintf("%s/%s", backup_dir, ARCHIVE_SQLITE_SUBDIR);
    struct gens g;

    (void)e;
    *ngens = 0;
    *bad = 0;
    gens_list(root, &g);
    for (int i = 0; i < g.n; i++) {
        char *dir = xasprintf("%s/%s", root, g.names[i]);
        struct wal_manifest m;
        struct err ge;
        int usable = 0, rc;

        err_clear(&ge);
        rc = wal_manifest_load(dir, &m, &ge);
        if (rc == 0)
            rc = check_gen(dir, &m, INT64_MAX, identity, &usable, &ge);
        (*ngens)++;
        if (rc < 0)
            (*bad)++;
        if (report != NULL)
            report(arg, g.names[i], rc == 0 ? (uint64_t)m.nsegs : (uint64_t)usable,
                   rc < 0 ? ge.msg : NULL);
        wal_manifest_release(&m);
        free(dir);
    }
    gens_release(&g);
    free(root);
    return 0;
}

int archive_sqlite_restore(const struct archive_sqlite_restore_opts *o,
                           struct archive_sqlite_restore_result *r, struct err *e)
{
    const char *bdir = o->cfg->backup_dir;
    char *root = xasprintf("%s/%s", bdir, ARCHIVE_SQLITE_SUBDIR);
    char *dir = NULL, *tmp = NULL, *snap = NULL;
    struct backup_lock *lock = NULL;
    struct wal_manifest m;
    struct gens g;
    int chosen = -1, usable = 0, napply = 0, fd = -1, rc = 0;
    double t0 = time_mono();
    const char *identity = NULL;
    char when[40];

    memset(r, 0, sizeof(*r));
    memset(&m, 0, sizeof(m));
    gens_list(root, &g);
    /* The newest generation whose snapshot is at or before the target. */
    for (int i = g.n - 1; i >= 0 && chosen < 0; i--) {
        char *d = xasprintf("%s/%s", root, g.names[i]);
        struct err ignored;
        if (wal_manifest_load(d, &m, &ignored) == 0) {
            if (m.snapshot_ms <= o->target_ms)
                chosen = i;
            else
                wal_manifest_release(&m);
        }
        free(d);
    }
    if (chosen < 0) {
        rc = err_set(e, ERR_RESTORE_REFUSED,
                     g.n == 0 ? "there is no SQLite archive in '%s' (run 'citaplanner archive' "
                                "or serve with ARCHIVE_SQLITE=on)"
                              : "the SQLite archive in '%s' begins after the target time: "
                                "nothing to restore",
                     root);
        goto cleanup;
    }
    snprintf(r->generation, sizeof(r->generation), "%s", g.names[chosen]);
    dir = xasprintf("%s/%s", root, g.names[chosen]);
    r->snapshot_ms = m.snapshot_ms;
    for (int i = 0; i < m.nsegs && m.segs[i].time_ms <= o->target_ms; i++)
        napply++;
    /* Every segment the target needs, whole, before anything is written. */
    identity = backup_decrypt_identity(o->cfg->backup_decrypt_identity);
    rc = check_gen(dir, &m, o->target_ms, identity, &usable, e);
    if (rc < 0) {
        wal_fmt_ms(usable > 0 ? m.segs[usable - 1].time_ms : m.snapshot_ms, when);
        err_prefix(e,
                   "cannot restore to the target: nothing was restored; generation %s can "
                   "restore only up to %s, before",
                   g.names[chosen], when);
        goto cleanup;
    }
    if (o->output != NULL && access(o->output, F_OK) == 0) {
        rc = err_set(e, ERR_RESTORE_REFUSED, "'%s' exists: --output must name a new file",
                     o->output);
        goto cleanup;
    }
    /* The snapshot, then the frames, into a scratch file beside the destination. */
    {
        char *ddir = path_dir(o->output != NULL ? o->output : o->cfg->db.path);
        tmp = xasprintf("%s/.pitr.%ld.db", ddir, (long)getpid());
        free(ddir);
    }
    snap = xasprintf("%s/%s", dir, m.snapshot_file);
    unlink(tmp);
    rc = wal_gz_extract(snap, tmp, identity, e);
    if (rc < 0)
        goto cleanup;
    fd = open(tmp, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        rc = err_set(e, ERR_BACKUP, "cannot open '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    for (int i = 0; i < napply; i++) {
        char *p = xasprintf("%s/%s", dir, m.segs[i].file);
        if (o->cancel != NULL && *o->cancel != 0)
            rc = err_set(e, ERR_RESTORE_REFUSED, "restore cancelled: nothing was changed");
        else
            rc = apply_segment(p, &m.segs[i], m.pagesize, fd, identity, e);
        free(p);
        if (rc < 0)
            goto cleanup;
        r->frames += m.segs[i].nframes;
    }
    r->segments = (uint64_t)napply;
    r->restored_to_ms = napply > 0 ? m.segs[napply - 1].time_ms : m.snapshot_ms;
    if (fsync(fd) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot write '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    close(fd);
    fd = -1;
    rc = db_sqlite_check(tmp, e);
    if (rc < 0) {
        err_prefix(e, "the rebuilt database fails its integrity check, nothing was restored");
        goto cleanup;
    }
    if (o->output != NULL) {
        if (link(tmp, o->output) != 0) {
            rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", o->output, strerror(errno));
            goto cleanup;
        }
    } else {
        rc = backup_dir_prepare(bdir, e);
        if (rc == 0)
            rc = backup_lock_acquire(bdir, &lock, e);
        if (rc < 0)
            goto cleanup;
        if (o->safety_backup && access(o->cfg->db.path, F_OK) == 0) {
            struct backup_opts bo = {
                .cfg = o->cfg,
                .db = &o->cfg->db,
                .tier = BACKUP_PRERESTORE,
                .now = o->now,
                .cancel = o->cancel,
                .rotate = true,
                .lock_held = true,
            };
            struct backup_result br;
            rc = backup_take(&bo, &br, e);
            if (rc == 0)
                r->prerestore = xstrdup(br.files[BACKUP_PRERESTORE]);
            backup_result_release(&br);
            if (rc < 0) {
                err_prefix(e, "the prerestore backup failed, nothing was restored");
                goto cleanup;
            }
        }
        rc = db_sqlite_restore(tmp, o->cfg->db.path, o->cancel, e);
        if (rc < 0) {
            err_prefix(e, "restore failed, the database is unchanged");
            goto cleanup;
        }
        /* The archiver begins a new generation when it sees this change. */
        {
            char *mark = xasprintf("%s/.restored", root);
            char line[32];
            int n = snprintf(line, sizeof(line), "%lld\n", (long long)wal_now_ms());
            if (file_write_atomic(mark, line, (size_t)n, 0600, ERR_BACKUP, e) < 0)
                log_warn("restore: %s", e->msg);
            free(mark);
            rc = 0;
        }
    }
    r->seconds = time_mono() - t0;
    wal_fmt_ms(r->restored_to_ms, when);
    log_info("restore: '%s' rebuilt as of %s from generation %s (%llu segments, %.2f s)",
             o->output != NULL ? o->output : o->cfg->db.path, when, r->generation,
             (unsigned long long)r->segments, r->seconds);

cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        char *side = xasprintf("%s-wal", tmp);
        unlink(side);
        free(side);
        side = xasprintf("%s-shm", tmp);
        unlink(side);
        free(side);
        unlink(tmp);
    }
    backup_lock_release(lock);
    wal_manifest_release(&m);
    gens_release(&g);
    free(snap);
    free(tmp);
    free(dir);
    free(root);
    return rc;
}
