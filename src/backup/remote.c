/*
 * remote — copies of the backups kept off BACKUP_DIR (issue 10): the policy
 * only (what goes where, verification of each copy, rotation, lag).  See
 * remote.h for the contract.  The stores are in
 * src/storage/: dir.c (BACKUP_MIRROR_DIR, a second directory with the same
 * layout) and s3.c (BACKUP_S3_URL, S3-compatible object storage).
 *
 * The local manifest is the record of where a backup has been copied
 * ("locations"), so that a remote which was down catches up on the next
 * run, and doctor and /metrics can tell how far it lags.  A remote never
 * fails the local backup: every failure is logged and alerted, and the
 * function returns -1 for information only.
 */
#include "backup/files.h"
#include "backup/layout.h"
#include "backup/rotate.h"
#include "backup/alert.h"
#include "backup/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/dir.h"
#include "storage/s3.h"

/* What a bucket, prefix or key may hold here (storage/s3.c checks the same). */
#define S3_SAFE "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"

const char *const backup_remote_names[BACKUP_REMOTE_COUNT] = {"mirror", "s3"};

static const char *mirror_dir(const struct config *cfg)
{
    const char *m = cfg->backup_mirror_dir;

    return m != NULL && m[0] != '\0' ? m : NULL;
}

static const char *s3_url(const struct config *cfg)
{
    const char *u = cfg->backup_s3_url;

    return u != NULL && u[0] != '\0' ? u : NULL;
}

const char *backup_remote_where(const struct config *cfg, const char *remote)
{
    const char *w = strcmp(remote, "s3") == 0 ? s3_url(cfg) : mirror_dir(cfg);

    return w != NULL ? w : "";
}

void backup_locations_load(const char *data_path, struct backup_locations *out)
{
    char *mp = xasprintf("%s.json", data_path);
    json_t *root = json_load_file(mp, 0, NULL);
    json_t *loc = root != NULL ? json_object_get(root, "locations") : NULL;

    memset(out, 0, sizeof(*out));
    out->mirror = json_is_object(json_object_get(loc, "mirror"));
    out->s3 = json_is_object(json_object_get(loc, "s3"));
    json_decref(root);
    free(mp);
}

/* The hex SHA-256 the local .sha256 sidecar states, into sha (65 bytes). */
static int read_sidecar_sha(const char *data_path, char sha[65], struct err *e)
{
    char *sp = xasprintf("%s.sha256", data_path);
    FILE *f = fopen(sp, "r");
    int rc = 0;

    size_t n = f != NULL ? fread(sha, 1, 64, f) : 0;

    sha[n] = '\0';
    if (n != 64 || strspn(sha, "0123456789abcdef") != 64) {
        rc = err_set(e, ERR_BACKUP, "cannot read the checksum file '%s'", sp);
        goto cleanup;
    }

cleanup:
    if (f != NULL)
        fclose(f);
    free(sp);
    return rc;
}

/* Record in the local manifest that the mirror holds a verified copy at dst. */
static int record_location(const char *data_path, const char *kind, const char *dst, struct err *e)
{
    char *mp = xasprintf("%s.json", data_path);
    char *text = NULL;
    json_t *root = json_load_file(mp, 0, NULL);
    json_t *loc;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    int rc = 0;

    if (!json_is_object(root)) {
        rc = err_set(e, ERR_BACKUP, "cannot read the manifest '%s'", mp);
        goto cleanup;
    }
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    loc = json_object_get(root, "locations");
    if (!json_is_object(loc)) {
        loc = json_object();
        json_object_set_new(root, "locations", loc);
    }
    json_object_set_new(loc, kind, json_pack("{s:s, s:s}", "path", dst, "copied_at", when));
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot render the manifest '%s'", mp);
        goto cleanup;
    }
    {
        /* Replaced whole: a crash leaves the old manifest. */
        struct buf b = BUF_INIT;
        buf_addf(&b, "%s\n", text);
        rc = file_write_atomic(mp, buf_str(&b), b.len, 0600, ERR_BACKUP, e);
        buf_release(&b);
    }

cleanup:
    json_decref(root);
    free(text);
    free(mp);
    return rc;
}

/*
 * Copy one backup into the mirror's tier directory mdir (storage/dir.c):
 * the copy is re-read and compared with the local sidecar, and its data file
 * renamed into place last, as BACKUP_DIR's commit point is.
 */
static int copy_one(const struct backup_entry *it, const char *mdir, char **dst_out, struct err *e)
{
    const char *sfx[3] = {"", ".sha256", ".json"};
    char *src[3], *name[3];
    char want[65];
    int rc = read_sidecar_sha(it->path, want, e);

    for (int i = 0; i < 3; i++) {
        src[i] = xasprintf("%s%s", it->path, sfx[i]);
        name[i] = xasprintf("%s%s", it->name, sfx[i]);
    }
    if (rc == 0)
        rc = storage_dir_put(mdir, (const char *const *)src, (const char *const *)name, 3, want,
                             it->size, dst_out, e);
    for (int i = 0; i < 3; i++) {
        free(src[i]);
        free(name[i]);
    }
    return rc;
}

/* Does the mirror hold this backup's data file? */
static bool mirror_has(const char *mirror, const struct backup_entry *it)
{
    char *d = xasprintf("%s/%s", mirror, backup_tier_name(it->tier));
    bool ok = storage_dir_has(d, it->name, it->size);

    free(d);
    return ok;
}

static int sync_mirror(const struct config *cfg, const char *mirror, int *lagging, struct err *e)
{
    struct backup_list l = {0};
    struct err first;
    int copied = 0, failed = 0;
    int keep[BACKUP_TIER_COUNT];
    int rc;

    err_clear(&first);
    *lagging = 0;
    rc = backup_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    rc = backup_dir_prepare(mirror, e);
    if (rc < 0) {
        *lagging = l.count;
        goto cleanup;
    }
    for (int i = 0; i < l.count; i++) {
        const struct backup_entry *it = &l.items[i];
        struct backup_locations loc;
        char *mdir, *dst = NULL;
        struct err ce;
        double t0 = time_mono();

        if (!it->has_manifest)
            continue; /* another tool's backup: copied once 'backup adopt' makes it ours */
        backup_locations_load(it->path, &loc);
        if (loc.mirror && mirror_has(mirror, it))
            continue;
        err_clear(&ce);
        mdir = xasprintf("%s/%s", mirror, backup_tier_name(it->tier));
        if (copy_one(it, mdir, &dst, &ce) == 0 &&
            record_location(it->path, "mirror", dst, &ce) == 0) {
            char b[32];
            log_info("mirror: '%s' copied to '%s' and verified: %s in %.2f s", it->path, dst,
                     backup_fmt_bytes(b, (uint64_t)it->size), time_mono() - t0);
            copied++;
        } else {
            log_error("mirror: cannot copy '%s' to '%s': %s", it->path, mdir, ce.msg);
            if (failed++ == 0)
                first = ce;
            (*lagging)++;
        }
        free(dst);
        free(mdir);
    }
    /* The same rotation as BACKUP_DIR's. */
    backup_keep_from_config(cfg, keep);
    {
        struct backup_list victims = {0};
        struct err re;
        err_clear(&re);
        if (backup_rotate(mirror, keep, NULL, 0, false, &victims, &re) < 0) {
            log_error("mirror: rotation of '%s' failed: %s", mirror, re.msg);
            if (failed++ == 0)
                first = re;
        }
        backup_list_release(&victims);
    }
    if (failed > 0) {
        rc = err_set(e, first.code ? first.code : ERR_BACKUP, "%s", first.msg);
        goto cleanup;
    }
    log_info("mirror: '%s' is up to date (%d backup%s copied)", mirror, copied,
             copied == 1 ? "" : "s");

cleanup:
    backup_list_release(&l);
    return rc;
}

/* ---- S3 (the client: storage/s3.c) ---- */

/* The S3 client for cfg's BACKUP_S3_* options. */
static int s3_connect(const struct config *cfg, struct storage_s3 **s, struct err *e)
{
    struct storage_s3_options o = {
        .url = s3_url(cfg),
        .endpoint = cfg->backup_s3_endpoint,
        .region = cfg->backup_s3_region,
        .access_key_id = cfg->aws_access_key_id,
        .secret_access_key = cfg->aws_secret_access_key,
        .credentials_file = cfg->backup_s3_credentials_file,
        .profile = cfg->aws_profile,
        .timeout_s = cfg->backup_s3_timeout,
        .part_size = cfg->backup_s3_part_size > 0 ? (size_t)cfg->backup_s3_part_size : 0,
    };

    return storage_s3_open(&o, s, e);
}

/* The key of a backup's file: PREFIX<tier>/<name><suffix>. */
static char *s3_key(const struct storage_s3 *s, enum backup_tier t, const char *name,
                    const char *sfx)
{
    return xasprintf("%s%s/%s%s", storage_s3_prefix(s), backup_tier_name(t), name, sfx);
}

/*
 * Upload one backup: sidecars first, the data file last (a reader that
 * finds the data object finds its sidecars), then read the data object back
 * and compare its SHA-256 with the local .sha256.
 */
static int s3_copy_one(const struct storage_s3 *s, const struct backup_entry *it, char **where,
                       struct err *e)
{
    const char *sfx[3] = {".sha256", ".json", ""};
    char want[65], got[65];
    uint64_t bytes = 0;
    char *key = NULL;
    int rc;

    rc = read_sidecar_sha(it->path, want, e);
    for (int i = 0; i < 3 && rc == 0; i++) {
        char *file = xasprintf("%s%s", it->path, sfx[i]);
        free(key);
        key = s3_key(s, it->tier, it->name, sfx[i]);
        /* the sidecars are small: one request each, only the data in parts */
        rc = sfx[i][0] != '\0' ? storage_s3_put_whole(s, key, file, e)
                               : storage_s3_put_file(s, key, file, e);
        free(file);
    }
    if (rc == 0)
        rc = storage_s3_get(s, key, -1, got, &bytes, e);
    if (rc == 0 && (strcmp(got, want) != 0 || (int64_t)bytes != it->size))
        rc = err_set(e, ERR_BACKUP,
                     "the uploaded 's3://%s/%s' does not match its original (SHA-256 %.12s..., "
                     "expected %.12s...)",
                     storage_s3_bucket(s), key, got, want);
    if (rc == 0)
        *where = xasprintf("s3://%s/%s", storage_s3_bucket(s), key);
    free(key);
    return rc;
}

struct s3_obj {
    enum backup_tier tier;
    int64_t stamp;
    char *key; /* the data object's key */
};

static int cmp_obj(const void *a, const void *b)
{
    const struct s3_obj *x = a, *y = b;

    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    if (x->stamp != y->stamp)
        return x->stamp > y->stamp ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The same rotation as BACKUP_DIR's, on the bucket: data object first, then its sidecars. */
static int s3_rotate(const struct config *cfg, const struct storage_s3 *s, int *deleted,
                     struct err *e)
{
    char **keys = NULL;
    struct s3_obj *objs = NULL;
    int n = 0, nobj = 0;
    int keep[BACKUP_TIER_COUNT], seen[BACKUP_TIER_COUNT] = {0};
    int rc;

    *deleted = 0;
    backup_keep_from_config(cfg, keep);
    rc = storage_s3_list(s, &keys, &n, e);
    if (rc < 0)
        goto cleanup;
    objs = xcalloc((size_t)n + 1, sizeof(*objs));
    for (int i = 0; i < n; i++) {
        const char *rel = keys[i] + strlen(storage_s3_prefix(s));
        const char *slash = strchr(rel, '/');
        enum backup_tier t, dt;
        char tname[16];
        if (strncmp(keys[i], storage_s3_prefix(s), strlen(storage_s3_prefix(s))) != 0 ||
            slash == NULL || (size_t)(slash - rel) >= sizeof(tname))
            continue;
        snprintf(tname, sizeof(tname), "%.*s", (int)(slash - rel), rel);
        if (backup_tier_parse(tname, &dt) < 0 ||
            backup_name_parse(slash + 1, &t, &objs[nobj].stamp, NULL) < 0 || t != dt)
            continue;
        objs[nobj].tier = t;
        objs[nobj].key = keys[i];
        nobj++;
    }
    qsort(objs, (size_t)nobj, sizeof(*objs), cmp_obj);
    for (int i = 0; i < nobj && rc == 0; i++) {
        if (++seen[objs[i].tier] <= keep[objs[i].tier])
            continue;
        const char *sfx[3] = {"", ".sha256", ".json"};
        for (int j = 0; j < 3 && rc == 0; j++) {
            char *k = xasprintf("%s%s", objs[i].key, sfx[j]);
            rc = storage_s3_delete(s, k, e);
            free(k);
        }
        if (rc == 0) {
            log_info("s3: rotation deleted 's3://%s/%s'", storage_s3_bucket(s), objs[i].key);
            (*deleted)++;
        }
    }

cleanup:
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(objs);
    return rc;
}

static int sync_s3(const struct config *cfg, int *lagging, struct err *e)
{
    struct backup_list l = {0};
    struct storage_s3 *s = NULL;
    struct err first;
    int copied = 0, failed = 0, deleted = 0;
    int rc;

    err_clear(&first);
    *lagging = 0;
    rc = backup_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    rc = s3_connect(cfg, &s, e);
    if (rc < 0) {
        *lagging = l.count;
        goto cleanup;
    }
    for (int i = 0; i < l.count; i++) {
        const struct backup_entry *it = &l.items[i];
        struct backup_locations loc;
        char *where = NULL;
        struct err ce;
        double t0 = time_mono();

        if (!it->has_manifest)
            continue; /* another tool's backup: copied once 'backup adopt' makes it ours */
        backup_locations_load(it->path, &loc);
        if (loc.s3)
            continue;
        err_clear(&ce);
        /* After one failure the rest would wait on the same dead service: count them. */
        if (failed == 0 && s3_copy_one(s, it, &where, &ce) == 0 &&
            record_location(it->path, "s3", where, &ce) == 0) {
            char b[32];
            log_info("s3: '%s' uploaded to '%s' and verified: %s in %.2f s", it->path, where,
                     backup_fmt_bytes(b, (uint64_t)it->size), time_mono() - t0);
            copied++;
        } else {
            if (failed++ == 0) {
                log_error("s3: cannot upload '%s': %s", it->path, ce.msg);
                first = ce;
            }
            (*lagging)++;
        }
        free(where);
    }
    if (failed == 0) {
        struct err re;
        err_clear(&re);
        if (s3_rotate(cfg, s, &deleted, &re) < 0) {
            log_error("s3: rotation of '%s' failed: %s", storage_s3_url(s), re.msg);
            failed++;
            first = re;
        }
    }
    if (failed > 0) {
        rc = err_set(e, first.code ? first.code : ERR_BACKUP, "%s", first.msg);
        goto cleanup;
    }
    log_info("s3: '%s' is up to date (%d backup%s uploaded, %d rotated away)", storage_s3_url(s),
             copied, copied == 1 ? "" : "s", deleted);

cleanup:
    storage_s3_close(s);
    backup_list_release(&l);
    return rc;
}

bool backup_remote_is_url(const char *s)
{
    return s != NULL && strncmp(s, "s3://", 5) == 0;
}

void backup_remote_fetch_cleanup(char *dir, char *path)
{
    if (path != NULL) {
        const char *sfx[3] = {"", ".sha256", ".json"};
        for (int i = 0; i < 3; i++) {
            char *p = xasprintf("%s%s", path, sfx[i]);
            unlink(p);
            free(p);
        }
    }
    if (dir != NULL)
        rmdir(dir);
    free(dir);
    free(path);
}

int backup_remote_fetch(const struct config *cfg, const char *url, const char *tmp_dir,
                        char **dir_out, char **path_out, struct err *e)
{
    struct storage_s3 *s = NULL;
    const char *sfx[3] = {".sha256", ".json", ""};
    const char *rest, *slash, *base;
    char *dir = NULL, *path = NULL, *key = NULL;
    int rc;

    *dir_out = NULL;
    *path_out = NULL;
    rc = s3_connect(cfg, &s, e);
    if (rc < 0)
        goto cleanup;
    rest = url + 5;
    slash = strchr(rest, '/');
    if (!backup_remote_is_url(url) || slash == NULL || strspn(rest, S3_SAFE) != strlen(rest) ||
        (size_t)(slash - rest) != strlen(storage_s3_bucket(s)) ||
        strncmp(rest, storage_s3_bucket(s), strlen(storage_s3_bucket(s))) != 0) {
        rc = err_set(e, ERR_USAGE, "'%s' is not a backup in BACKUP_S3_URL's bucket '%s'", url,
                     storage_s3_bucket(s));
        goto cleanup;
    }
    key = xstrdup(slash + 1);
    base = strrchr(key, '/') != NULL ? strrchr(key, '/') + 1 : key;
    if (backup_name_parse(base, NULL, NULL, NULL) < 0) {
        rc = err_set(e, ERR_USAGE, "'%s' does not name a backup's data file", url);
        goto cleanup;
    }
    dir = xasprintf("%s/citaplanner-fetch.XXXXXX", tmp_dir);
    if (mkdtemp(dir) == NULL) {
        rc = err_set(e, ERR_BACKUP, "cannot create a directory under '%s': %s", tmp_dir,
                     strerror(errno));
        free(dir);
        dir = NULL;
        goto cleanup;
    }
    path = xasprintf("%s/%s", dir, base);
    for (int i = 0; i < 3 && rc == 0; i++) {
        char *k = xasprintf("%s%s", key, sfx[i]);
        char *f = xasprintf("%s%s", path, sfx[i]);
        char sha[65];
        int fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", f, strerror(errno));
        else
            rc = storage_s3_get(s, k, fd, sha, NULL, e);
        if (fd >= 0 && close(fd) != 0 && rc == 0)
            rc = err_set(e, ERR_BACKUP, "cannot write '%s': %s", f, strerror(errno));
        free(k);
        free(f);
    }
    if (rc == 0)
        log_info("s3: '%s' downloaded to '%s'", url, path);

cleanup:
    if (rc < 0) {
        backup_remote_fetch_cleanup(dir, path);
    } else {
        *dir_out = dir;
        *path_out = path;
    }
    free(key);
    storage_s3_close(s);
    return rc;
}

int backup_remote_sync(const struct config *cfg, int *lagging)
{
    const char *mirror = mirror_dir(cfg);
    struct err e;
    int lag = 0;
    int rc = 0;

    int total = 0;

    for (int r = 0; r < BACKUP_REMOTE_COUNT; r++) {
        bool s3 = r == 1;
        const char *where = s3 ? s3_url(cfg) : mirror;
        int frc;

        if (where == NULL)
            continue;
        err_clear(&e);
        lag = 0;
        frc = s3 ? sync_s3(cfg, &lag, &e) : sync_mirror(cfg, mirror, &lag, &e);
        total += lag;
        if (frc < 0) {
            struct backup_alert_facts f = {0};
            char *msg = xasprintf("the backup %s '%s' failed (%d backup%s not copied, retried on "
                                  "the next run): %s",
                                  backup_remote_names[r], where, lag, lag == 1 ? "" : "s", e.msg);
            log_error("%s", msg);
            f.event = "backup_remote_failed";
            f.severity = "warning";
            f.message = msg;
            backup_alert_send(cfg, &f);
            free(msg);
            rc = -1;
        }
    }
    if (lagging != NULL)
        *lagging = total;
    return rc;
}

static bool located(const struct backup_locations *l, const char *remote)
{
    return strcmp(remote, "s3") == 0 ? l->s3 : l->mirror;
}

bool backup_remote_lag(const struct config *cfg, const char *remote, time_t now, int *missing,
                       int64_t *oldest_age)
{
    struct backup_list l = {0};
    struct err e;

    *missing = 0;
    *oldest_age = 0;
    if (backup_remote_where(cfg, remote)[0] == '\0')
        return false;
    err_clear(&e);
    if (backup_list_load(cfg->backup_dir, &l, &e) == 0) {
        for (int i = 0; i < l.count; i++) {
            struct backup_locations loc;
            struct stat sb;
            backup_locations_load(l.items[i].path, &loc);
            if (located(&loc, remote) || !l.items[i].has_manifest)
                continue;
            (*missing)++;
            if (stat(l.items[i].path, &sb) == 0 && now - sb.st_mtime > *oldest_age)
                *oldest_age = (int64_t)(now - sb.st_mtime);
        }
    }
    backup_list_release(&l);
    return true;
}
