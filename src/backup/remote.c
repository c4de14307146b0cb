/*
 * remote — copies of the backups kept off BACKUP_DIR (issue 10): the policy
 * only (what goes where, which copies are missing, rotation, lag).  See
 * remote.h for the contract.  Every remote is a store reached through
 * src/storage/store.h: BACKUP_MIRROR_DIR one of the directory kind (dir.c,
 * BACKUP_DIR's layout), BACKUP_S3_URL one of the S3 kind (s3.c); each store
 * commits and verifies its copies itself.
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

/* Record in the local manifest that the remote named kind holds a verified copy at dst. */
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

/* ---- the stores (src/storage/) ---- */

enum { REMOTE_MIRROR, REMOTE_S3 };

/* How a remote's log lines say a copy was made, by remote. */
static const char *const remote_verbs[BACKUP_REMOTE_COUNT] = {"copied", "uploaded"};

void backup_s3_options(const struct config *cfg, struct storage_s3_options *o)
{
    memset(o, 0, sizeof(*o));
    o->url = cfg->backup_s3_url;
    o->endpoint = cfg->backup_s3_endpoint;
    o->region = cfg->backup_s3_region;
    o->access_key_id = cfg->aws_access_key_id;
    o->secret_access_key = cfg->aws_secret_access_key;
    o->credentials_file = cfg->backup_s3_credentials_file;
    o->profile = cfg->aws_profile;
    o->timeout_s = cfg->backup_s3_timeout;
    o->part_size = cfg->backup_s3_part_size > 0 ? (size_t)cfg->backup_s3_part_size : 0;
}

/* The S3 store for cfg's BACKUP_S3_* options, at url (BACKUP_S3_URL when NULL). */
static int s3_open(const struct config *cfg, const char *url, struct storage_store **st,
                   struct err *e)
{
    struct storage_s3_options o;

    backup_s3_options(cfg, &o);
    o.url = url != NULL ? url : s3_url(cfg);
    return storage_s3_store_open(&o, st, e);
}

/* The store of remote r; the mirror's directories are made as BACKUP_DIR's are. */
static int remote_open(const struct config *cfg, int r, struct storage_store **st, struct err *e)
{
    struct storage_dir_options o = {.root = mirror_dir(cfg)};
    int rc;

    *st = NULL;
    if (r == REMOTE_S3)
        return s3_open(cfg, NULL, st, e);
    rc = backup_dir_prepare(o.root, e);
    return rc < 0 ? rc : storage_dir_store_open(&o, st, e);
}

/*
 * Copy one backup into the store: data file, .sha256 and .json under
 * <tier>/, the data file committed last and compared with the local
 * sidecar's SHA-256 (storage_put).
 */
static int copy_one(struct storage_store *st, const struct backup_entry *it, char **where,
                    struct err *e)
{
    const char *sfx[3] = {"", ".sha256", ".json"};
    char *src[3], *name[3];
    char want[65];
    int rc = read_sidecar_sha(it->path, want, e);

    for (int i = 0; i < 3; i++) {
        src[i] = xasprintf("%s%s", it->path, sfx[i]);
        name[i] = xasprintf("%s/%s%s", backup_tier_name(it->tier), it->name, sfx[i]);
    }
    if (rc == 0)
        rc = storage_put(st, (const char *const *)src, (const char *const *)name, 3, 0, want,
                         it->size, where, e);
    for (int i = 0; i < 3; i++) {
        free(src[i]);
        free(name[i]);
    }
    return rc;
}

struct stored {
    enum backup_tier tier;
    int64_t stamp;
    const char *name; /* the data file's name in the store: <tier>/<name> */
};

static int cmp_stored(const void *a, const void *b)
{
    const struct stored *x = a, *y = b;

    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    if (x->stamp != y->stamp)
        return x->stamp > y->stamp ? -1 : 1;
    return strcmp(x->name, y->name);
}

/*
 * The rotation of BACKUP_DIR's keep counts, on a remote: in each tier the
 * newest by the name's timestamp stay; each older one goes, data file first,
 * then its sidecars.
 */
static int rotate_store(const struct config *cfg, int r, struct storage_store *st, int *deleted,
                        struct err *e)
{
    char **names = NULL;
    struct stored *b = NULL;
    int n = 0, nb = 0;
    int keep[BACKUP_TIER_COUNT], seen[BACKUP_TIER_COUNT] = {0};
    int rc;

    *deleted = 0;
    backup_keep_from_config(cfg, keep);
    rc = storage_list(st, "", &names, &n, e);
    if (rc < 0)
        goto cleanup;
    b = xcalloc((size_t)n + 1, sizeof(*b));
    for (int i = 0; i < n; i++) {
        const char *slash = strchr(names[i], '/');
        enum backup_tier t, dt;
        char tname[16];
        if (slash == NULL || (size_t)(slash - names[i]) >= sizeof(tname))
            continue;
        snprintf(tname, sizeof(tname), "%.*s", (int)(slash - names[i]), names[i]);
        if (backup_tier_parse(tname, &dt) < 0 ||
            backup_name_parse(slash + 1, &t, &b[nb].stamp, NULL) < 0 || t != dt)
            continue;
        b[nb].tier = t;
        b[nb].name = names[i];
        nb++;
    }
    qsort(b, (size_t)nb, sizeof(*b), cmp_stored);
    for (int i = 0; i < nb && rc == 0; i++) {
        const char *sfx[3] = {"", ".sha256", ".json"};
        if (++seen[b[i].tier] <= keep[b[i].tier])
            continue;
        for (int j = 0; j < 3 && rc == 0; j++) {
            char *k = xasprintf("%s%s", b[i].name, sfx[j]);
            rc = storage_delete(st, k, e);
            free(k);
        }
        if (rc == 0) {
            log_info("%s: rotation deleted '%s' from '%s'", backup_remote_names[r], b[i].name,
                     storage_where(st));
            (*deleted)++;
        }
    }

cleanup:
    storage_list_free(names, n);
    free(b);
    return rc;
}

static bool located(const struct backup_locations *l, int r)
{
    return r == REMOTE_S3 ? l->s3 : l->mirror;
}

/*
 * Bring remote r up to date: each backup of ours without a copy there is
 * copied and recorded; after a failure the rest would wait on the same
 * broken store, and are only counted.  Then, when every copy is in, the
 * rotation.
 */
static int sync_remote(const struct config *cfg, int r, int *lagging, struct err *e)
{
    const char *rname = backup_remote_names[r];
    struct backup_list l = {0};
    struct storage_store *st = NULL;
    struct err first;
    int copied = 0, failed = 0, deleted = 0;
    int rc;

    err_clear(&first);
    *lagging = 0;
    rc = backup_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    rc = remote_open(cfg, r, &st, e);
    if (rc < 0) {
        *lagging = l.count;
        goto cleanup;
    }
    for (int i = 0; i < l.count; i++) {
        const struct backup_entry *it = &l.items[i];
        struct backup_locations loc;
        char *where = NULL, *name;
        struct err ce;
        double t0 = time_mono();
        bool done;

        if (!it->has_manifest)
            continue; /* another tool's backup: copied once 'backup adopt' makes it ours */
        backup_locations_load(it->path, &loc);
        /* A recorded copy still there (or on a store that cannot tell cheaply) is kept. */
        name = xasprintf("%s/%s", backup_tier_name(it->tier), it->name);
        done = located(&loc, r) && storage_has(st, name, it->size) != 0;
        free(name);
        if (done)
            continue;
        err_clear(&ce);
        if (failed == 0 && copy_one(st, it, &where, &ce) == 0 &&
            record_location(it->path, rname, where, &ce) == 0) {
            char b[32];
            log_info("%s: '%s' %s to '%s' and verified: %s in %.2f s", rname, it->path,
                     remote_verbs[r], where, backup_fmt_bytes(b, (uint64_t)it->size),
                     time_mono() - t0);
            copied++;
        } else {
            if (failed++ == 0) {
                log_error("%s: cannot copy '%s' to '%s': %s", rname, it->path, storage_where(st),
                          ce.msg);
                first = ce;
            }
            (*lagging)++;
        }
        free(where);
    }
    if (failed == 0) {
        struct err re;
        err_clear(&re);
        if (rotate_store(cfg, r, st, &deleted, &re) < 0) {
            log_error("%s: rotation of '%s' failed: %s", rname, storage_where(st), re.msg);
            failed++;
            first = re;
        }
    }
    if (failed > 0) {
        rc = err_set(e, first.code ? first.code : ERR_BACKUP, "%s", first.msg);
        goto cleanup;
    }
    log_info("%s: '%s' is up to date (%d backup%s %s, %d rotated away)", rname, storage_where(st),
             copied, copied == 1 ? "" : "s", remote_verbs[r], deleted);

cleanup:
    storage_close(st);
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
    struct storage_store *s = NULL;
    const char *sfx[3] = {".sha256", ".json", ""};
    const char *rest, *slash, *base;
    char *dir = NULL, *path = NULL, *key = NULL, *bucket = NULL;
    int rc;

    *dir_out = NULL;
    *path_out = NULL;
    rc = s3_open(cfg, NULL, &s, e);
    if (rc < 0)
        goto cleanup;
    /* BACKUP_S3_URL's bucket: the store's "s3://BUCKET/PREFIX", checked as it opened. */
    rest = storage_where(s) + 5;
    bucket = xstrndup(rest, strcspn(rest, "/"));
    storage_close(s);
    s = NULL;
    rest = url + 5;
    slash = strchr(rest, '/');
    if (!backup_remote_is_url(url) || slash == NULL || strspn(rest, S3_SAFE) != strlen(rest) ||
        (size_t)(slash - rest) != strlen(bucket) || strncmp(rest, bucket, strlen(bucket)) != 0) {
        rc = err_set(e, ERR_USAGE, "'%s' is not a backup in BACKUP_S3_URL's bucket '%s'", url,
                     bucket);
        goto cleanup;
    }
    key = xstrdup(slash + 1);
    base = strrchr(key, '/') != NULL ? strrchr(key, '/') + 1 : key;
    if (backup_name_parse(base, NULL, NULL, NULL) < 0) {
        rc = err_set(e, ERR_USAGE, "'%s' does not name a backup's data file", url);
        goto cleanup;
    }
    {
        /* The whole bucket as the store: the name is the key, under the prefix or not. */
        char *whole = xasprintf("s3://%s", bucket);
        rc = s3_open(cfg, whole, &s, e);
        free(whole);
        if (rc < 0)
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
            rc = storage_get(s, k, fd, sha, NULL, e);
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
    free(bucket);
    storage_close(s);
    return rc;
}

int backup_remote_sync(const struct config *cfg, int *lagging)
{
    struct err e;
    int lag = 0, total = 0;
    int rc = 0;

    for (int r = 0; r < BACKUP_REMOTE_COUNT; r++) {
        const char *where = r == REMOTE_S3 ? s3_url(cfg) : mirror_dir(cfg);
        int frc;

        if (where == NULL)
            continue;
        err_clear(&e);
        lag = 0;
        frc = sync_remote(cfg, r, &lag, &e);
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
            if (located(&loc, strcmp(remote, "s3") == 0 ? REMOTE_S3 : REMOTE_MIRROR) ||
                !l.items[i].has_manifest)
                continue;
            (*missing)++;
            if (stat(l.items[i].path, &sb) == 0 && now - sb.st_mtime > *oldest_age)
                *oldest_age = (int64_t)(now - sb.st_mtime);
        }
    }
    backup_list_release(&l);
    return true;
}
