/* sqlite_s3 — see sqlite_s3.h. */
#include "archive/sqlite_s3.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "archive/offsite.h"
#include "storage/s3.h"

struct archive_s3 {
    struct storage_s3 *s;
    char *gen_dir, *gen;
    bool base_done;
    uint64_t uploaded; /* the last segment uploaded */
    struct wal_segment *pending;
    int npending;
    double retry_at; /* time_mono() before which nothing is tried */
};

struct archive_s3 *archive_s3_new(const struct config *cfg, struct err *e)
{
    struct storage_s3 *s = NULL;
    struct archive_s3 *a;

    if (offsite_s3_open(cfg, &s, e) < 0 || s == NULL)
        return NULL;
    a = xcalloc(1, sizeof(*a));
    a->s = s;
    return a;
}

void archive_s3_free(struct archive_s3 *a)
{
    if (a == NULL)
        return;
    storage_s3_close(a->s);
    free(a->gen_dir);
    free(a->gen);
    free(a->pending);
    free(a);
}

void archive_s3_generation(struct archive_s3 *a, const char *gen_dir, const char *name)
{
    if (a == NULL)
        return;
    free(a->gen_dir);
    free(a->gen);
    a->gen_dir = xstrdup(gen_dir);
    a->gen = xstrdup(name);
    a->base_done = false;
    a->uploaded = 0;
    a->npending = 0;
}

void archive_s3_segment(struct archive_s3 *a, const struct wal_segment *s)
{
    if (a == NULL || a->gen_dir == NULL)
        return;
    a->pending = xrealloc(a->pending, sizeof(*a->pending) * (size_t)(a->npending + 1));
    a->pending[a->npending++] = *s;
}

static char *key_of(const struct archive_s3 *a, const char *file)
{
    return xasprintf("%s%s/%s/%s", storage_s3_prefix(a->s), ARCHIVE_SQLITE_SUBDIR, a->gen, file);
}

static int put(struct archive_s3 *a, const char *file, struct err *e)
{
    char *key = key_of(a, file);
    char *path = xasprintf("%s/%s", a->gen_dir, file);
    int rc = storage_s3_put_file(a->s, key, path, e);

    free(path);
    free(key);
    return rc;
}

/* Where the manifest's copy ends: at the first segment past *arg. */
static bool past(const char *line, void *arg)
{
    unsigned long long seq;

    return sscanf(line, "segment %llu ", &seq) == 1 && seq > *(const uint64_t *)arg;
}

/* The manifest's lines up to segment upto, uploaded as the manifest object. */
static int put_manifest(struct archive_s3 *a, uint64_t upto, struct err *e)
{
    char *path = xasprintf("%s/manifest", a->gen_dir);
    char *tmp = xasprintf("%s/.manifest.s3.%ld", a->gen_dir, (long)getpid());
    char *key = key_of(a, "manifest");
    int rc = offsite_manifest_cut(path, tmp, past, &upto, e);

    if (rc == 0)
        rc = storage_s3_put_file(a->s, key, tmp, e);
    unlink(tmp);
    free(key);
    free(tmp);
    free(path);
    return rc;
}

/* After a (re)start: the snapshot and every segment the manifest names, then the manifest. */
static int sync_base(struct archive_s3 *a, struct err *e)
{
    struct wal_manifest m;
    int rc = wal_manifest_load(a->gen_dir, &m, e);
    uint64_t last = 0;

    if (rc < 0)
        return rc;
    rc = put(a, m.snapshot_file, e);
    for (int i = 0; rc == 0 && i < m.nsegs; i++)
        rc = put(a, m.segs[i].file, e);
    if (m.nsegs > 0)
        last = m.segs[m.nsegs - 1].seq;
    if (rc == 0)
        rc = put_manifest(a, last, e);
    if (rc == 0) {
        int k = 0;
        for (int i = 0; i < a->npending; i++)
            if (a->pending[i].seq > last)
                a->pending[k++] = a->pending[i];
        a->npending = k;
        a->uploaded = last;
        a->base_done = true;
    }
    wal_manifest_release(&m);
    return rc;
}

int archive_s3_sync(struct archive_s3 *a, struct err *e)
{
    int rc = 0, done = 0;

    if (a == NULL || a->gen_dir == NULL || time_mono() < a->retry_at)
        return 0;
    if (!a->base_done)
        rc = sync_base(a, e);
    while (rc == 0 && done < a->npending) {
        rc = put(a, a->pending[done].file, e);
        if (rc == 0)
            a->uploaded = a->pending[done++].seq;
    }
    if (done > 0) {
        memmove(a->pending, a->pending + done, sizeof(*a->pending) * (size_t)(a->npending - done));
        a->npending -= done;
        if (put_manifest(a, a->uploaded, rc == 0 ? e : NULL) < 0 && rc == 0)
            rc = -ERR_BACKUP;
    }
    if (rc < 0)
        a->retry_at = time_mono() + OFFSITE_S3_BACKOFF_S;
    return rc;
}
