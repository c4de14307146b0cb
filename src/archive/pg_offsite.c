/* pg_offsite — see pg_offsite.h. */
#include "archive/pg_offsite.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/offsite.h"
#include "archive/pg_base.h"
#include "archive/pg_wal.h"
#include "common/hash.h"
#include "common/util.h"
#include "storage/dir.h"

#define MIRROR_RETRY_S 5

/* One destination: the mirror or the bucket. */
struct dest {
    struct storage_s3 *s3; /* NULL: the mirror */
    const char *root;      /* the mirror: BACKUP_MIRROR_DIR */
    char **have;           /* S3: the keys there (prefix removed), sorted */
    int nhave, cap;
    bool looked; /* the bucket listed / the mirror's leftovers removed */
    char manifest_sha[HASH_SHA256_HEX];
    char synced[128]; /* the local state last copied whole */
    double retry_at;
};

struct pg_offsite {
    const struct config *cfg;
    char *wal, *base; /* BACKUP_DIR/wal, BACKUP_DIR/base */
    struct dest d[2];
    int nd;
};

struct pg_offsite *pg_offsite_new(const struct config *cfg, struct err *e)
{
    struct storage_s3 *s3 = NULL;
    struct pg_offsite *o;
    bool mirror = cfg->backup_mirror_dir != NULL && cfg->backup_mirror_dir[0] != '\0';

    if (offsite_s3_open(cfg, &s3, e) < 0 || (!mirror && s3 == NULL))
        return NULL;
    o = xcalloc(1, sizeof(*o));
    o->cfg = cfg;
    o->wal = xasprintf("%s/%s", cfg->backup_dir, ARCHIVE_PG_SUBDIR);
    o->base = xasprintf("%s/%s", cfg->backup_dir, ARCHIVE_PG_BASE_SUBDIR);
    if (mirror)
        o->d[o->nd++].root = cfg->backup_mirror_dir;
    if (s3 != NULL)
        o->d[o->nd++].s3 = s3;
    return o;
}

void pg_offsite_free(struct pg_offsite *o)
{
    if (o == NULL)
        return;
    for (int i = 0; i < o->nd; i++) {
        for (int k = 0; k < o->d[i].nhave; k++)
            free(o->d[i].have[k]);
        free(o->d[i].have);
        storage_s3_close(o->d[i].s3);
    }
    free(o->wal);
    free(o->base);
    free(o);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_key(const struct dest *d, const char *rel)
{
    return d->nhave > 0 && bsearch(&rel, d->have, (size_t)d->nhave, sizeof(char *), by_str);
}

static void add_key(struct dest *d, const char *rel)
{
    int i = d->nhave;

    if (has_key(d, rel))
        return;
    if (d->nhave == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->have = xrealloc(d->have, (size_t)d->cap * sizeof(char *));
    }
    while (i > 0 && strcmp(d->have[i - 1], rel) > 0) {
        d->have[i] = d->have[i - 1];
        i--;
    }
    d->have[i] = xstrdup(rel);
    d->nhave++;
}

/* First look: the bucket's keys, or the mirror's leftovers of a copy killed midway. */
static int look(struct pg_offsite *o, struct dest *d, struct err *e)
{
    char **keys = NULL;
    int n = 0, rc = 0;

    if (d->looked)
        return 0;
    if (d->s3 == NULL) {
        char *p = xasprintf("%s/%s", d->root, ARCHIVE_PG_SUBDIR);
        char *bases = xasprintf("%s/%s", d->root, ARCHIVE_PG_BASE_SUBDIR);
        DIR *dir = opendir(bases);
        struct dirent *de;
        offsite_dir_clean(p);
        while (dir != NULL && (de = readdir(dir)) != NULL) {
            char *b = xasprintf("%s/%s", bases, de->d_name);
            if (de->d_name[0] != '.')
                offsite_dir_clean(b);
            free(b);
        }
        if (dir != NULL)
            closedir(dir);
        free(bases);
        free(p);
    } else {
        size_t plen = strlen(storage_s3_prefix(d->s3));
        rc = storage_s3_list(d->s3, &keys, &n, e);
        for (int i = 0; i < n; i++) {
            if (rc == 0 && strlen(keys[i]) > plen)
                add_key(d, keys[i] + plen);
            free(keys[i]);
        }
        free(keys);
    }
    d->looked = rc == 0;
    (void)o;
    return rc;
}

/* BACKUP_DIR/rel to the destination, unless it is there (always: the manifest, replaced). */
static int put(struct pg_offsite *o, struct dest *d, const char *rel, const char *local,
               bool always, struct err *e)
{
    struct stat sb;
    int rc;

    if (d->s3 != NULL) {
        if (!always && has_key(d, rel))
            return 0;
        char *key = xasprintf("%s%s", storage_s3_prefix(d->s3), rel);
        rc = always ? storage_s3_put_whole(d->s3, key, local, e)
                    : storage_s3_put_file(d->s3, key, local, e);
        free(key);
        if (rc == 0)
            add_key(d, rel);
        return rc;
    }
    if (stat(local, &sb) != 0)
        return err_set(e, ERR_BACKUP, "cannot read '%s': %s", local, strerror(errno));
    char *sub = xstrdup(rel), *slash = strrchr(sub, '/');
    *slash = '\0';
    char *dir = xasprintf("%s/%s", d->root, sub);
    rc = offsite_dir_make(d->root, sub, e);
    if (rc == 0)
        rc = offsite_dir_put(dir, local, slash + 1, NULL, (uint64_t)sb.st_size, always, e);
    free(dir);
    free(sub);
    return rc;
}

/* Where the manifest's copy ends: at the first line naming a file not copied. */
static bool not_copied(const char *line, void *arg)
{
    char name[32] = "";

    return sscanf(line, "%*s %31s", name) != 1 ||
           pg_wal_manifest_find((const struct pg_wal_manifest *)arg, name) == NULL;
}

/* Did the retention remove this file (and its line) while it was being copied? */
static bool removed(const char *wal, const char *local, const char *name)
{
    struct pg_wal_manifest now;
    bool gone;

    if (access(local, F_OK) == 0 || errno != ENOENT || pg_wal_manifest_load(wal, &now, NULL) < 0)
        return false;
    gone = pg_wal_manifest_find(&now, name) == NULL;
    pg_wal_manifest_release(&now);
    return gone;
}

/* The filed WAL in the manifest's order, then the manifest cut to what is there. */
static int sync_wal(struct pg_offsite *o, struct dest *d, struct err *e)
{
    struct pg_wal_manifest m;
    char *mf = xasprintf("%s/manifest", o->wal);
    char *tmp = xasprintf("%s/.manifest.offsite", o->wal); /* one archiver: one name */
    char sha[HASH_SHA256_HEX];
    uint64_t size;
    int rc, done = 0;

    rc = pg_wal_manifest_load(o->wal, &m, e);
    for (int i = 0; rc == 0 && i < m.n; i++) {
        char file[48], *rel, *local;
        struct err pe;
        pg_wal_stored(o->wal, &m.v[i], file);
        rel = xasprintf("%s/%s", ARCHIVE_PG_SUBDIR, file);
        local = xasprintf("%s/%s", o->wal, file);
        err_clear(&pe);
        rc = put(o, d, rel, local, false, &pe);
        if (rc == 0)
            m.v[done++] = m.v[i]; /* the copied ones, in order */
        else if (removed(o->wal, local, m.v[i].name))
            rc = 0;
        else
            err_set(e, pe.code, "%s", pe.msg);
        free(rel);
        free(local);
    }
    /* The lines of what was copied (read again: the manifest may have changed meanwhile). */
    struct pg_wal_manifest copied = {.v = m.v, .n = done};
    if (done > 0 && offsite_manifest_cut(mf, tmp, not_copied, &copied, rc == 0 ? e : NULL) == 0 &&
        hash_sha256_file(tmp, sha, &size) == 0 && strcmp(sha, d->manifest_sha) != 0) {
        int mrc = put(o, d, ARCHIVE_PG_SUBDIR "/manifest", tmp, true, rc == 0 ? e : NULL);
        if (mrc == 0)
            memcpy(d->manifest_sha, sha, sizeof(sha));
        else if (rc == 0)
            rc = mrc;
    }
    unlink(tmp);
    pg_wal_manifest_release(&m);
    free(tmp);
    free(mf);
    return rc;
}

/* The files of one base backup, base.json last (its presence: the copy is whole). */
static int sync_one_base(struct pg_offsite *o, struct dest *d, const struct pg_base *b,
                         struct err *e)
{
    char *json_rel = xasprintf("%s/%s/base.json", ARCHIVE_PG_BASE_SUBDIR, b->name);
    DIR *dir = NULL;
    struct dirent *de;
    struct err be;
    int rc = 0;

    if (d->s3 != NULL ? has_key(d, json_rel) : 0) {
        free(json_rel);
        return 0;
    }
    if (d->s3 == NULL) {
        char *p = xasprintf("%s/%s", d->root, json_rel);
        struct stat sb;
        bool there = stat(p, &sb) == 0;
        free(p);
        if (there) {
            free(json_rel);
            return 0;
        }
    }
    err_clear(&be);
    dir = opendir(b->dir);
    if (dir == NULL)
        rc = err_set(&be, ERR_BACKUP, "cannot read '%s': %s", b->dir, strerror(errno));
    while (rc == 0 && (de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "base.json") == 0)
            continue;
        char *rel = xasprintf("%s/%s/%s", ARCHIVE_PG_BASE_SUBDIR, b->name, de->d_name);
        char *local = xasprintf("%s/%s", b->dir, de->d_name);
        rc = put(o, d, rel, local, false, &be);
        free(rel);
        free(local);
    }
    if (rc == 0) {
        char *local = xasprintf("%s/base.json", b->dir);
        rc = put(o, d, json_rel, local, false, &be);
        free(local);
    }
    if (dir != NULL)
        closedir(dir);
    if (rc < 0 && access(b->dir, F_OK) != 0 && errno == ENOENT)
        rc = 0; /* removed by the retention meanwhile: nothing to copy */
    else if (rc < 0)
        err_set(e, be.code, "%s", be.msg);
    free(json_rel);
    return rc;
}

static int sync_bases(struct pg_offsite *o, struct dest *d, struct err *e)
{
    struct pg_base_list l;
    int rc = pg_base_list_load(o->cfg->backup_dir, &l, e);

    for (int i = 0; rc == 0 && i < l.n; i++)
        rc = sync_one_base(o, d, &l.v[i], e);
    pg_base_list_release(&l);
    return rc;
}

/* What the local archive is now: the manifest's and the base directory's stat. */
static void local_state(const struct pg_offsite *o, char out[128])
{
    struct stat m, b;
    char *mf = xasprintf("%s/manifest", o->wal);

    memset(&m, 0, sizeof(m));
    memset(&b, 0, sizeof(b));
    stat(mf, &m);
    stat(o->base, &b);
    snprintf(out, 128, "%ld.%09ld %lld %lu %ld.%09ld", (long)m.st_mtim.tv_sec,
             (long)m.st_mtim.tv_nsec, (long long)m.st_size, (unsigned long)m.st_ino,
             (long)b.st_mtim.tv_sec, (long)b.st_mtim.tv_nsec);
    free(mf);
}

int pg_offsite_sync(struct pg_offsite *o, struct err *e)
{
    char now[128];
    int rc = 0;

    if (o == NULL)
        return 0;
    local_state(o, now);
    for (int i = 0; i < o->nd; i++) {
        struct dest *d = &o->d[i];
        int drc;
        if (strcmp(d->synced, now) == 0 || time_mono() < d->retry_at)
            continue;
        drc = look(o, d, rc == 0 ? e : NULL);
        if (drc == 0)
            drc = sync_wal(o, d, rc == 0 ? e : NULL);
        if (drc == 0)
            drc = sync_bases(o, d, rc == 0 ? e : NULL);
        if (drc == 0) {
            memcpy(d->synced, now, sizeof(now));
        } else {
            d->retry_at = time_mono() + (d->s3 != NULL ? OFFSITE_S3_BACKOFF_S : MIRROR_RETRY_S);
            if (rc == 0)
                rc = drc;
        }
    }
    return rc;
}
