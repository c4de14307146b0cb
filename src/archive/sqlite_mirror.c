/* sqlite_mirror — see sqlite_mirror.h. */
#include "archive/sqlite_mirror.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "archive/offsite.h"

struct archive_mirror {
    const char *root; /* BACKUP_MIRROR_DIR */
    char *gen_dir;    /* local */
    char *dst;        /* BACKUP_MIRROR_DIR/wal-sqlite/GENERATION */
    char *gen;        /* GENERATION */
    bool base_done;   /* the snapshot, the segments and the manifest as of the generation's start */
    struct wal_segment *pending;
    int npending;
};

struct archive_mirror *archive_mirror_new(const char *mirror_dir)
{
    struct archive_mirror *m = xcalloc(1, sizeof(*m));

    m->root = mirror_dir;
    return m;
}

void archive_mirror_free(struct archive_mirror *m)
{
    if (m == NULL)
        return;
    free(m->gen_dir);
    free(m->dst);
    free(m->gen);
    free(m->pending);
    free(m);
}

void archive_mirror_generation(struct archive_mirror *m, const char *gen_dir, const char *name)
{
    if (m == NULL)
        return;
    free(m->gen_dir);
    free(m->dst);
    free(m->gen);
    m->gen_dir = xstrdup(gen_dir);
    m->gen = xstrdup(name);
    m->dst = xasprintf("%s/%s/%s", m->root, ARCHIVE_SQLITE_SUBDIR, name);
    m->base_done = false;
    m->npending = 0;
}

void archive_mirror_segment(struct archive_mirror *m, const struct wal_segment *s)
{
    if (m == NULL || m->gen_dir == NULL)
        return;
    m->pending = xrealloc(m->pending, sizeof(*m->pending) * (size_t)(m->npending + 1));
    m->pending[m->npending++] = *s;
}

/* One file of the generation into the mirror, unless it is there already. */
static int put(struct archive_mirror *m, const char *file, const char *sha, uint64_t size,
               bool always, struct err *e)
{
    char *src = xasprintf("%s/%s", m->gen_dir, file);
    int rc = offsite_dir_put(m->dst, src, file, sha, size, always, e);

    free(src);
    return rc;
}

static int mkdirs(struct archive_mirror *m, struct err *e)
{
    char *rel = xasprintf("%s/%s", ARCHIVE_SQLITE_SUBDIR, m->gen);
    int rc = offsite_dir_make(m->root, rel, e);

    free(rel);
    if (rc == 0)
        offsite_dir_clean(m->dst);
    return rc;
}

/* The snapshot, every segment the local manifest names, then that manifest whole. */
static int sync_base(struct archive_mirror *m, struct err *e)
{
    struct wal_manifest wm;
    char *mf = xasprintf("%s/manifest", m->gen_dir);
    char sha[HASH_SHA256_HEX];
    uint64_t size = 0;
    int rc;

    rc = mkdirs(m, e);
    if (rc == 0)
        rc = wal_manifest_load(m->gen_dir, &wm, e);
    if (rc < 0)
        goto cleanup;
    rc = put(m, wm.snapshot_file, wm.snapshot_sha256, wm.snapshot_size, false, e);
    for (int i = 0; rc == 0 && i < wm.nsegs; i++)
        rc = put(m, wm.segs[i].file, wm.segs[i].sha256, wm.segs[i].size, false, e);
    if (rc == 0 && hash_sha256_file(mf, sha, &size) != 0)
        rc = err_set(e, ERR_BACKUP, "archive: cannot read '%s': %s", mf, strerror(errno));
    if (rc == 0)
        rc = put(m, "manifest", sha, size, true, e);
    if (rc == 0) {
        /* What the copied manifest already names is done. */
        uint64_t last = wm.nsegs > 0 ? wm.segs[wm.nsegs - 1].seq : 0;
        int k = 0;
        for (int i = 0; i < m->npending; i++)
            if (m->pending[i].seq > last)
                m->pending[k++] = m->pending[i];
        m->npending = k;
        m->base_done = true;
    }
    wal_manifest_release(&wm);

cleanup:
    free(mf);
    return rc;
}

int archive_mirror_sync(struct archive_mirror *m, struct err *e)
{
    int rc = 0, done = 0;

    if (m == NULL || m->gen_dir == NULL)
        return 0;
    if (!m->base_done && (rc = sync_base(m, e)) < 0)
        return rc;
    while (done < m->npending) {
        const struct wal_segment *s = &m->pending[done];
        rc = put(m, s->file, s->sha256, s->size, false, e);
        if (rc == 0)
            rc = wal_manifest_append(m->dst, s, e);
        if (rc < 0) {
            m->base_done = false; /* a torn mirror manifest line is replaced whole next time */
            break;
        }
        done++;
    }
    if (done > 0) {
        memmove(m->pending, m->pending + done, sizeof(*m->pending) * (size_t)(m->npending - done));
        m->npending -= done;
    }
    return rc;
}
