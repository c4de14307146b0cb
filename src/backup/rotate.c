/*
 * rotate — keep the newest N backups of each tier, `backup prune`, and the
 * closing summary of BACKUP_DIR.  See rotate.h.
 *
 * Rotation sorts by the timestamp in the name, never by file age: a week of
 * failed runs writes no new files, so it cannot push a good backup out (the
 * reference implementation's `find -mtime +7 -delete` did).
 */
#include "backup/rotate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backup/files.h"
#include "backup/layout.h"
#include "backup/lock.h"
#include "backup/manifest.h"
#include "backup/verify.h"
#include "backup/encrypt.h"
#include "common/log.h"
#include "common/util.h"

/* ---- rotation's newest good backup ---- */

/* The hex hash a sidecar states ("" when unreadable). */
static void sidecar_sha(const char *path, char sha[65])
{
    char *sp = xasprintf("%s.sha256", path);
    FILE *f = fopen(sp, "r");
    size_t n = f != NULL ? fread(sha, 1, 64, f) : 0;

    sha[n == 64 ? 64 : 0] = '\0';
    if (f != NULL)
        fclose(f);
    free(sp);
}

bool backup_entry_good(const struct backup_entry *it)
{
    bool good = false;

    if (it->has_manifest) {
        /* Ours: verified as it was written; its sidecars must still agree with it. */
        struct backup_manifest m;
        struct err e;
        char sha[65];
        char *mp = xasprintf("%s.json", it->path);
        memset(&m, 0, sizeof(m));
        err_clear(&e);
        sidecar_sha(it->path, sha);
        good = it->has_sha256 && backup_manifest_load(mp, &m, &e) == 0 &&
               strcasecmp(sha, m.sha256) == 0 && m.gz_bytes == (uint64_t)it->size;
        backup_manifest_release(&m);
        free(mp);
    } else {
        /* Another tool's: only its content can tell. */
        struct backup_verify_opts o;
        struct backup_verify_result r;
        struct err e;
        memset(&o, 0, sizeof(o));
        err_clear(&e);
        good = !backup_name_encrypted(it->name) && backup_verify_file(&o, it->path, &r, &e) == 0;
        backup_verify_result_release(&r);
    }
    return good;
}

void backup_keep_from_config(const struct config *cfg, int keep[BACKUP_TIER_COUNT])
{
    keep[BACKUP_DAILY] = cfg->backup_keep_daily;
    keep[BACKUP_WEEKLY] = cfg->backup_keep_weekly;
    keep[BACKUP_MONTHLY] = cfg->backup_keep_monthly;
    keep[BACKUP_PREMIGRATE] = BACKUP_KEEP_SPECIAL;
    keep[BACKUP_PRERESTORE] = BACKUP_KEEP_SPECIAL;
}

static bool protected_path(const char *path, const char *const *protect, int nprotect)
{
    for (int i = 0; i < nprotect; i++)
        if (protect[i] != NULL && strcmp(protect[i], path) == 0)
            return true;
    return false;
}

static void add_victim(struct backup_list *v, const struct backup_entry *it)
{
    struct backup_entry *d;

    v->items = xrealloc(v->items, sizeof(*v->items) * ((size_t)v->count + 1));
    d = &v->items[v->count++];
    *d = *it;
    d->name = xstrdup(it->name);
    d->path = xstrdup(it->path);
}

/* Delete a backup: the data file first, so that it never outlives its sidecars. */
static int delete_backup(const struct backup_entry *it, struct err *e)
{
    const char *sfx[] = {".sha256", ".json"};

    if (unlink(it->path) != 0 && errno != ENOENT)
        return err_set(e, ERR_BACKUP, "cannot delete '%s': %s", it->path, strerror(errno));
    for (int i = 0; i < 2; i++) {
        char *p = xasprintf("%s%s", it->path, sfx[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            log_warn("cannot delete '%s': %s", p, strerror(errno));
        free(p);
    }
    return 0;
}

int backup_rotate(const char *dir, const int keep[BACKUP_TIER_COUNT], const char *const *protect,
                  int nprotect, bool dry_run, struct backup_list *victims, struct err *e)
{
    struct backup_list l = {0};
    struct backup_list v = {0};
    int seen[BACKUP_TIER_COUNT] = {0};
    int good[BACKUP_TIER_COUNT]; /* index of each tier's newest good backup, -1: none */
    int rc;

    rc = backup_list_load(dir, &l, e);
    if (rc < 0)
        goto cleanup;
    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        good[t] = -1;
    for (int i = 0; i < l.count; i++)
        if (good[l.items[i].tier] < 0 && backup_entry_good(&l.items[i]))
            good[l.items[i].tier] = i;
    /* l is newest first: the first keep[t] of each tier stay. */
    for (int i = 0; i < l.count; i++) {
        const struct backup_entry *it = &l.items[i];

        if (seen[it->tier]++ < keep[it->tier] || protected_path(it->path, protect, nprotect))
            continue;
        if (good[it->tier] == i) {
            log_warn("rotation: keeping '%s' beyond the newest %d of %s: it is the newest good "
                     "backup of its tier",
                     it->path, keep[it->tier], backup_tier_name(it->tier));
            continue;
        }
        if (dry_run) {
            log_info("rotation: would delete '%s' (%s: keeping the newest %d)", it->path,
                     backup_tier_name(it->tier), keep[it->tier]);
        } else {
            rc = delete_backup(it, e);
            if (rc < 0)
                goto cleanup;
            log_info("rotation: deleted '%s' (%s: keeping the newest %d)", it->path,
                     backup_tier_name(it->tier), keep[it->tier]);
        }
        add_victim(&v, it);
    }
    rc = 0;

cleanup:
    backup_list_release(&l);
    if (victims != NULL)
        *victims = v;
    else
        backup_list_release(&v);
    return rc;
}

void backup_log_summary(const char *dir)
{
    struct backup_list l = {0};
    struct err e;
    int count[BACKUP_TIER_COUNT] = {0};
    uint64_t used = 0;
    struct statvfs vfs;
    char used_s[32], free_s[32];
    struct buf b = BUF_INIT;

    err_clear(&e);
    if (backup_list_load(dir, &l, &e) < 0) {
        log_warn("summary: %s", e.msg);
        goto cleanup;
    }
    for (int i = 0; i < l.count; i++) {
        bool dup = false;
        count[l.items[i].tier]++;
        /* A hard link to a file already counted uses no more space. */
        for (int j = 0; j < i && !dup; j++)
            dup = l.items[j].dev == l.items[i].dev && l.items[j].ino == l.items[i].ino;
        if (!dup)
            used += (uint64_t)l.items[i].size;
    }
    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        buf_addf(&b, "%s%s %d", t ? ", " : "", backup_tier_name((enum backup_tier)t), count[t]);
    if (statvfs(dir, &vfs) == 0)
        backup_fmt_bytes(free_s, (uint64_t)vfs.f_bavail * vfs.f_frsize);
    else
        snprintf(free_s, sizeof(free_s), "unknown");
    log_info("summary: %s; %s used by %d backup files in '%s', %s free", buf_str(&b),
             backup_fmt_bytes(used_s, used), l.count, dir, free_s);

cleanup:
    buf_release(&b);
    backup_list_release(&l);
}

int backup_prune(const struct config *cfg, bool dry_run, struct backup_list *victims, struct err *e)
{
    struct backup_log *log = NULL;
    struct backup_lock *lock = NULL;
    int keep[BACKUP_TIER_COUNT];
    int rc;

    if (victims != NULL)
        memset(victims, 0, sizeof(*victims));
    /* A dry run on a directory that does not exist yet has nothing to show. */
    if (dry_run && access(cfg->backup_dir, F_OK) != 0)
        return 0;
    rc = backup_dir_prepare(cfg->backup_dir, e);
    if (rc < 0)
        goto cleanup;
    rc = backup_log_open(cfg->backup_dir, time(NULL), &log, e);
    if (rc < 0)
        goto cleanup;
    log_info("prune: started in '%s'%s", cfg->backup_dir, dry_run ? " (dry run)" : "");
    rc = backup_lock_acquire(cfg->backup_dir, &lock, e);
    if (rc < 0)
        goto cleanup;
    if (!dry_run) {
        rc = backup_cleanup_stale(cfg->backup_dir, NULL, e);
        if (rc < 0)
            goto cleanup;
    }
    backup_keep_from_config(cfg, keep);
    rc = backup_rotate(cfg->backup_dir, keep, NULL, 0, dry_run, victims, e);
    if (rc < 0)
        goto cleanup;
    backup_log_summary(cfg->backup_dir);

cleanup:
    if (rc < 0)
        log_error("prune failed: %s", e->msg);
    backup_lock_release(lock);
    backup_log_close(log);
    return rc;
}
