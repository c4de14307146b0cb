/*
 * remote — copies of the backups kept off BACKUP_DIR (issue 10).  See
 * backup.h ("copies off the machine") for the contract.
 *
 * Two kinds of remote: BACKUP_MIRROR_DIR, a second directory with the same
 * layout, and S3-compatible object storage (BACKUP_S3_URL) through libcurl,
 * whose AWS Signature V4 support signs every request.  A file larger than
 * BACKUP_S3_PART_SIZE goes up as a multipart upload, one part in memory at a
 * time; the credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 * or else from a private shared-credentials file (BACKUP_S3_CREDENTIALS_FILE).
 * The local manifest is the record of where a
 * backup has been copied ("locations"), so that a remote which was down catches up on the next run,
 * and doctor and /metrics can tell how far it lags.  A remote never fails the local backup: every
 * failure is logged and alerted, and the function returns -1 for information only.
 */
#include "backup/backup_internal.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"

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
 * Copy one backup into mdir (data file, then its sidecars), re-read the copy
 * and compare its SHA-256 with the local sidecar; the copy's data file is
 * renamed into place last, as BACKUP_DIR's commit point is.
 */
static int copy_one(const struct backup_entry *it, const char *mdir, char **dst_out, struct err *e)
{
    const char *sfx[3] = {"", ".sha256", ".json"};
    char *tmp[3] = {NULL, NULL, NULL};
    char *dst = xasprintf("%s/%s", mdir, it->name);
    char want[65], got[65];
    uint64_t size = 0;
    int rc = 0;

    rc = read_sidecar_sha(it->path, want, e);
    for (int i = 0; i < 3 && rc == 0; i++) {
        char *src = xasprintf("%s%s", it->path, sfx[i]);
        char *base = xasprintf("%s%s", it->name, sfx[i]);
        tmp[i] = backup_tmp_path(mdir, base);
        unlink(tmp[i]); /* a leftover of a run of ours with this pid */
        rc = backup_copy_file(src, tmp[i], e);
        free(src);
        free(base);
    }
    if (rc == 0)
        rc = backup_hash_file(tmp[0], got, &size, e);
    if (rc == 0 && (strcmp(got, want) != 0 || (int64_t)size != it->size)) {
        rc = err_set(e, ERR_BACKUP,
                     "the copy '%s' does not match its original (SHA-256 %.12s..., expected "
                     "%.12s...)",
                     dst, got, want);
    }
    /* Sidecars first, the data file last: a final-named copy is complete. */
    for (int i = 2; i >= 0 && rc == 0; i--) {
        char *final = xasprintf("%s%s", dst, sfx[i]);
        if (rename(tmp[i], final) != 0)
            rc = err_set(e, ERR_BACKUP, "cannot rename '%s' to '%s': %s", tmp[i], final,
                         strerror(errno));
        else {
            free(tmp[i]);
            tmp[i] = NULL;
        }
        free(final);
    }
    if (rc == 0)
        rc = backup_fsync_dir(mdir, e);
    if (rc == 0) {
        *dst_out = dst;
        dst = NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (tmp[i] != NULL)
            unlink(tmp[i]);
        free(tmp[i]);
    }
    free(dst);
    return rc;
}

/* Does the mirror hold this backup's data file? */
static bool mirror_has(const char *mirror, const struct backup_entry *it)
{
    char *p = xasprintf("%s/%s/%s", mirror, backup_tier_name(it->tier), it->name);
    struct stat sb;
    bool ok = stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (int64_t)sb.st_size == it->size;

    free(p);
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

/* ---- S3 ---- */

/* SHA-256 of the empty body: what GET, DELETE and LIST sign as their payload. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static pthread_once_t s3_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s3_curl_rc;

static void s3_curl_init(void)
{
    s3_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct s3 {
    char *url;      /* BACKUP_S3_URL as given, for messages */
    char *endpoint; /* "http://127.0.0.1:9000", no final slash */
    char *bucket;
    char *prefix;  /* "" or "a/b/" (with its final slash) */
    char *sigv4;   /* "aws:amz:REGION:s3" */
    char *userpwd; /* "KEY:SECRET": a secret, only ever handed to libcurl */
    long timeout;
    size_t part_size; /* a larger file goes up in parts of this size */
};

static void s3_release(struct s3 *s)
{
    free(s->url);
    free(s->endpoint);
    free(s->bucket);
    free(s->prefix);
    free(s->sigv4);
    if (s->userpwd != NULL)
        memset(s->userpwd, 0, strlen(s->userpwd));
    free(s->userpwd);
    memset(s, 0, sizeof(*s));
}

/* Characters a bucket, prefix or key may hold here: nothing that needs escaping in a URL. */
static bool s3_safe(const char *p)
{
    return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") ==
           strlen(p);
}

/* Trim spaces at both ends of s, in place; returns the start. */
static char *trim(char *s)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/*
 * "KEY:SECRET" from an AWS shared-credentials file (INI: [profile] sections
 * of "aws_access_key_id = ..." and "aws_secret_access_key = ...").  The file
 * must be private to its owner, as ~/.ssh keys must: one that the group or
 * others may read is refused, naming it.  Neither value ever reaches a message.
 */
static int s3_credentials_file(const char *path, const char *profile, char **userpwd, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    FILE *f = NULL;
    char *line = NULL, *key = NULL, *secret = NULL;
    size_t cap = 0;
    bool in = false;
    struct stat sb;
    int rc = 0;

    *userpwd = NULL;
    if (fd < 0) {
        rc = err_set(e, ERR_CONFIG, "cannot open the credentials file '%s': %s", path,
                     strerror(errno));
        goto cleanup;
    }
    /* Checked on the open descriptor: the file read is the file checked. */
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = err_set(e, ERR_CONFIG, "the credentials file '%s' is not a regular file", path);
        goto cleanup;
    }
    if ((sb.st_mode & 077) != 0) {
        rc = err_set(e, ERR_CONFIG,
                     "the credentials file '%s' is accessible to group or others (mode %04o): "
                     "refused; chmod 600 it",
                     path, (unsigned)(sb.st_mode & 07777));
        goto cleanup;
    }
    f = fdopen(fd, "r");
    if (f == NULL) {
        rc = err_set(e, ERR_CONFIG, "cannot read the credentials file '%s': %s", path,
                     strerror(errno));
        goto cleanup;
    }
    fd = -1;
    while (getline(&line, &cap, f) >= 0) {
        char *l = trim(line);
        char *eq;
        if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
            continue;
        if (l[0] == '[') {
            char *end = strchr(l, ']');
            if (end != NULL)
                *end = '\0';
            in = strcmp(trim(l + 1), profile) == 0;
            continue;
        }
        eq = strchr(l, '=');
        if (!in || eq == NULL)
            continue;
        *eq = '\0';
        if (strcmp(trim(l), "aws_access_key_id") == 0) {
            free(key);
            key = xstrdup(trim(eq + 1));
        } else if (strcmp(trim(l), "aws_secret_access_key") == 0) {
            if (secret != NULL)
                memset(secret, 0, strlen(secret));
            free(secret);
            secret = xstrdup(trim(eq + 1));
        }
    }
    if (ferror(f)) {
        rc = err_set(e, ERR_CONFIG, "cannot read the credentials file '%s'", path);
        goto cleanup;
    }
    if (key == NULL || secret == NULL || key[0] == '\0' || secret[0] == '\0') {
        rc = err_set(e, ERR_CONFIG,
                     "the credentials file '%s' has no aws_access_key_id and "
                     "aws_secret_access_key in its [%s] section",
                     path, profile);
        goto cleanup;
    }
    *userpwd = xasprintf("%s:%s", key, secret);

cleanup:
    if (line != NULL)
        memset(line, 0, cap);
    free(line);
    free(key);
    if (secret != NULL)
        memset(secret, 0, strlen(secret));
    free(secret);
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int s3_open(const struct config *cfg, struct s3 *s, struct err *e)
{
    const char *u = s3_url(cfg);
    const char *rest, *slash;
    const char *region = cfg->backup_s3_region != NULL && cfg->backup_s3_region[0] != '\0'
                             ? cfg->backup_s3_region
                             : "us-east-1";
    int rc = 0;

    memset(s, 0, sizeof(*s));
    if (u == NULL || strncmp(u, "s3://", 5) != 0 || u[5] == '\0' || u[5] == '/' || !s3_safe(u + 5))
        return err_set(e, ERR_CONFIG,
                       "invalid BACKUP_S3_URL '%s': expected s3://BUCKET/PREFIX (letters, digits, "
                       "'.', '_', '-', '/')",
                       u != NULL ? u : "");
    bool env_key = cfg->aws_access_key_id != NULL || cfg->aws_secret_access_key != NULL;
    const char *cred_file = cfg->backup_s3_credentials_file;

    if (cred_file != NULL && cred_file[0] == '\0')
        cred_file = NULL;
    if (env_key && (cfg->aws_access_key_id == NULL || cfg->aws_secret_access_key == NULL))
        return err_set(e, ERR_CONFIG,
                       "BACKUP_S3_URL is set but only one of AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY is");
    if (!env_key && cred_file == NULL)
        return err_set(e, ERR_CONFIG,
                       "BACKUP_S3_URL is set but neither AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY nor BACKUP_S3_CREDENTIALS_FILE is");
    if (pthread_once(&s3_curl_once, s3_curl_init) != 0 || s3_curl_rc != CURLE_OK)
        return err_set(e, ERR_INTERNAL, "cannot initialise libcurl");
    s->url = xstrdup(u);
    rest = u + 5;
    slash = strchr(rest, '/');
    s->bucket = slash != NULL ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
    {
        const char *p = slash != NULL ? slash + 1 : "";
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
            n--;
        s->prefix = n > 0 ? xasprintf("%.*s/", (int)n, p) : xstrdup("");
    }
    if (cfg->backup_s3_endpoint != NULL && cfg->backup_s3_endpoint[0] != '\0') {
        size_t n = strlen(cfg->backup_s3_endpoint);
        while (n > 0 && cfg->backup_s3_endpoint[n - 1] == '/')
            n--;
        s->endpoint = xstrndup(cfg->backup_s3_endpoint, n);
    } else {
        s->endpoint = xasprintf("https://s3.%s.amazonaws.com", region);
    }
    s->sigv4 = xasprintf("aws:amz:%s:s3", region);
    s->timeout = cfg->backup_s3_timeout > 0 ? cfg->backup_s3_timeout : 60;
    s->part_size = cfg->backup_s3_part_size > 0 ? (size_t)cfg->backup_s3_part_size : 8u << 20;
    /* The environment wins over the file, as with the AWS tools. */
    if (env_key)
        s->userpwd = xasprintf("%s:%s", cfg->aws_access_key_id, cfg->aws_secret_access_key);
    else
        rc = s3_credentials_file(
            cred_file,
            cfg->aws_profile != NULL && cfg->aws_profile[0] != '\0' ? cfg->aws_profile : "default",
            &s->userpwd, e);
    if (rc < 0)
        s3_release(s);
    return rc;
}

/* A response body kept for LIST and error messages (bounded). */
#define S3_BODY_MAX (4u << 20)

struct s3_io {
    FILE *up;              /* PUT: the file read */
    const char *up_mem;    /* PUT or POST: a body in memory (a part, an XML document) */
    size_t up_len, up_off; /* its length, and how much of it libcurl has taken */
    const char *content_type;
    char etag[128];  /* the ETag response header, quotes kept */
    int down_fd;     /* GET into a file: -1 otherwise */
    struct hash_sha256 *sha; /* GET: hash of the body, may be NULL */
    uint64_t down_bytes;
    struct buf body; /* other responses */
    bool body_full;
    bool write_failed;
};

static size_t s3_read_cb(char *p, size_t size, size_t n, void *arg)
{
    struct s3_io *io = arg;
    size_t got;

    if (io->up_mem != NULL) {
        got = size * n < io->up_len - io->up_off ? size * n : io->up_len - io->up_off;
        memcpy(p, io->up_mem + io->up_off, got);
        io->up_off += got;
        return got;
    }
    got = fread(p, size, n, io->up);

    if (got == 0 && ferror(io->up))
        return CURL_READFUNC_ABORT;
    return got;
}

static size_t s3_write_cb(char *p, size_t size, size_t n, void *arg)
{
    struct s3_io *io = arg;
    size_t len = size * n;

    if (io->down_fd >= 0) {
        struct err we;
        if (backup_write_all(io->down_fd, p, len, "download", &we) < 0) {
            io->write_failed = true;
            return 0;
        }
        if (io->sha != NULL)
            hash_sha256_update(io->sha, p, len);
        io->down_bytes += len;
        return len;
    }
    if (io->body.len + len > S3_BODY_MAX) {
        io->body_full = true;
        return 0;
    }
    buf_add(&io->body, p, len);
    return len;
}

/* Keeps the ETag header (UploadPart answers with the part's ETag there). */
static size_t s3_header_cb(char *p, size_t size, size_t n, void *arg)
{
    struct s3_io *io = arg;
    size_t len = size * n;

    if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
        size_t a = 5, b = len;
        while (a < b && isspace((unsigned char)p[a]))
            a++;
        while (b > a && isspace((unsigned char)p[b - 1]))
            b--;
        if (b - a < sizeof(io->etag))
            snprintf(io->etag, sizeof(io->etag), "%.*s", (int)(b - a), p + a);
    }
    return len;
}

/* The <Code> of an S3 error body, into out. */
static void s3_error_code(const char *body, char *out, size_t n)
{
    const char *a = body != NULL ? strstr(body, "<Code>") : NULL;
    const char *b = a != NULL ? strstr(a, "</Code>") : NULL;

    out[0] = '\0';
    if (a != NULL && b != NULL && (size_t)(b - a - 6) < n)
        snprintf(out, n, "%.*s", (int)(b - a - 6), a + 6);
}

/*
 * One request.  method "PUT" (io->up or io->up_mem, size, payload_sha),
 * "POST" (io->up_mem, may be empty), "GET" (into io->down_fd or io->body),
 * "DELETE".  path: "/bucket/key?query".  A
 * status of 300 or more is -ERR_BACKUP naming the status and S3's code.
 */
static int s3_request(const struct s3 *s, const char *method, const char *path,
                      const char *payload_sha, int64_t size, struct s3_io *io, struct err *e)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *url = xasprintf("%s%s", s->endpoint, path);
    char *hdr = xasprintf("x-amz-content-sha256: %s", payload_sha);
    char *ctype =
        xasprintf("Content-Type: %s",
                  io->content_type != NULL ? io->content_type : "application/octet-stream");
    char cerr[CURL_ERROR_SIZE];
    long status = 0;
    CURLcode cc;
    int rc = 0;

    cerr[0] = '\0';
    if (c == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot start a libcurl transfer");
        goto cleanup;
    }
    h = curl_slist_append(h, hdr);
    if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
        h = curl_slist_append(h, ctype);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->timeout);
    /* A transfer that stalls (under 1 byte/s for the timeout) is abandoned, whatever its size. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->timeout);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, io);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s3_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, io);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, io);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
    } else if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, io);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    } else if (strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = err_set(e, ERR_BACKUP, "%s %s%s failed: %s", method, s->endpoint, path,
                     cerr[0] ? cerr : curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) {
        char code[64];
        s3_error_code(buf_str(&io->body), code, sizeof(code));
        rc = err_set(e, ERR_BACKUP, "%s %s%s: HTTP %ld%s%s", method, s->endpoint, path, status,
                     code[0] ? " " : "", code);
    }

cleanup:
    curl_slist_free_all(h);
    if (c != NULL)
        curl_easy_cleanup(c);
    free(url);
    free(hdr);
    free(ctype);
    return rc;
}

static void s3_io_init(struct s3_io *io)
{
    memset(io, 0, sizeof(*io));
    io->down_fd = -1;
    buf_init(&io->body);
}

/* The text between <tag> and </tag> in body, or NULL.  Caller frees. */
static char *xml_text(const char *body, const char *tag)
{
    char *open = xasprintf("<%s>", tag), *close = xasprintf("</%s>", tag);
    const char *a = body != NULL ? strstr(body, open) : NULL;
    const char *b = a != NULL ? strstr(a, close) : NULL;
    char *out =
        a != NULL && b != NULL ? xstrndup(a + strlen(open), (size_t)(b - a - strlen(open))) : NULL;

    free(open);
    free(close);
    return out;
}

/*
 * A file of size bytes as key, in parts (CreateMultipartUpload, UploadPart
 * each, CompleteMultipartUpload with their ETags).  Memory holds one part at
 * a time; each part is signed with its own SHA-256, so the service rejects a
 * part that arrived damaged.  On any failure the upload is aborted, so that
 * neither an object nor its stored parts are left behind.
 */
static int s3_put_multipart(const struct s3 *s, const char *key, FILE *f, uint64_t size,
                            struct err *e)
{
    char *path = xasprintf("/%s/%s", s->bucket, key);
    char *upload_id = NULL, *id_esc = NULL, *req = NULL, *part = NULL;
    struct buf xml = BUF_INIT;
    size_t part_size = s->part_size;
    int nparts = 0;
    char sha[65];
    struct s3_io io;
    int rc;

    /* S3 allows 10,000 parts: a larger file gets larger parts rather than failing. */
    if (size / part_size >= 10000)
        part_size = (size_t)(size / 9999);
    s3_io_init(&io);
    req = xasprintf("%s?uploads=", path);
    rc = s3_request(s, "POST", req, EMPTY_SHA256, 0, &io, e);
    if (rc == 0) {
        upload_id = xml_text(buf_str(&io.body), "UploadId");
        if (upload_id == NULL || upload_id[0] == '\0')
            rc = err_set(e, ERR_BACKUP, "POST %s%s: no UploadId in the answer", s->endpoint, req);
    }
    buf_release(&io.body);
    if (rc < 0)
        goto cleanup;
    id_esc = curl_easy_escape(NULL, upload_id, 0);
    if (id_esc == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot escape an upload id");
        goto cleanup;
    }
    part = xmalloc(part_size);
    buf_adds(&xml, "<CompleteMultipartUpload>");
    for (uint64_t off = 0; off < size && rc == 0;) {
        size_t want = size - off < part_size ? (size_t)(size - off) : part_size;
        size_t got = fread(part, 1, want, f);
        if (got != want) {
            rc = err_set(e, ERR_BACKUP, "cannot read '%s' for its upload (%s)", key,
                         ferror(f) ? strerror(errno) : "the file shrank");
            break;
        }
        hash_sha256_hex(part, got, sha);
        nparts++;
        free(req);
        req = xasprintf("%s?partNumber=%d&uploadId=%s", path, nparts, id_esc);
        s3_io_init(&io);
        io.up_mem = part;
        io.up_len = got;
        rc = s3_request(s, "PUT", req, sha, (int64_t)got, &io, e);
        if (rc == 0 && io.etag[0] == '\0')
            rc = err_set(e, ERR_BACKUP, "PUT %s%s: no ETag in the answer", s->endpoint, req);
        if (rc == 0)
            buf_addf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", nparts,
                     io.etag);
        buf_release(&io.body);
        off += got;
    }
    if (rc < 0)
        goto cleanup;
    buf_adds(&xml, "</CompleteMultipartUpload>");
    hash_sha256_hex(buf_str(&xml), xml.len, sha);
    free(req);
    req = xasprintf("%s?uploadId=%s", path, id_esc);
    s3_io_init(&io);
    io.up_mem = buf_str(&xml);
    io.up_len = xml.len;
    io.content_type = "application/xml";
    rc = s3_request(s, "POST", req, sha, (int64_t)xml.len, &io, e);
    /* S3 may answer 200 and still fail the completion, with an <Error> body. */
    if (rc == 0 && strstr(buf_str(&io.body), "<Error>") != NULL) {
        char code[64];
        s3_error_code(buf_str(&io.body), code, sizeof(code));
        rc = err_set(e, ERR_BACKUP, "POST %s%s: %s", s->endpoint, req,
                     code[0] ? code : "the completion failed");
    }
    buf_release(&io.body);
    if (rc == 0)
        log_info("s3: '%s' sent in %d part%s", key, nparts, nparts == 1 ? "" : "s");

cleanup:
    if (rc < 0 && id_esc != NULL) {
        struct err ae;
        err_clear(&ae);
        free(req);
        req = xasprintf("%s?uploadId=%s", path, id_esc);
        s3_io_init(&io);
        if (s3_request(s, "DELETE", req, EMPTY_SHA256, 0, &io, &ae) < 0)
            log_warn("s3: cannot abort the multipart upload of '%s' (the bucket may keep its "
                     "parts until a lifecycle rule removes them): %s",
                     key, ae.msg);
        buf_release(&io.body);
    }
    free(part);
    buf_release(&xml);
    curl_free(id_esc);
    free(upload_id);
    free(req);
    free(path);
    return rc;
}

/*
 * PUT a local file as key, signed with its SHA-256 (the service checks the
 * body against it); a file larger than the part size goes up in parts.
 */
static int s3_put_file(const struct s3 *s, const char *key, const char *file, struct err *e)
{
    struct s3_io io;
    char sha[65];
    uint64_t size = 0;
    char *path = xasprintf("/%s/%s", s->bucket, key);
    struct stat sb;
    int rc = 0;

    s3_io_init(&io);
    if (stat(file, &sb) == 0 && (uint64_t)sb.st_size > s->part_size) {
        io.up = fopen(file, "rb");
        if (io.up == NULL)
            rc = err_set(e, ERR_BACKUP, "cannot open '%s': %s", file, strerror(errno));
        else
            rc = s3_put_multipart(s, key, io.up, (uint64_t)sb.st_size, e);
        goto cleanup;
    }
    rc = backup_hash_file(file, sha, &size, e);
    if (rc < 0) {
        e->code = ERR_BACKUP;
        goto cleanup;
    }
    io.up = fopen(file, "rb");
    if (io.up == NULL) {
        rc = err_set(e, ERR_BACKUP, "cannot open '%s': %s", file, strerror(errno));
        goto cleanup;
    }
    rc = s3_request(s, "PUT", path, sha, (int64_t)size, &io, e);

cleanup:
    if (io.up != NULL)
        fclose(io.up);
    buf_release(&io.body);
    free(path);
    return rc;
}

/* GET key into fd (may be -1: only hashed), its SHA-256 into sha. */
static int s3_get(const struct s3 *s, const char *key, int fd, char sha[65], uint64_t *bytes,
                  struct err *e)
{
    struct s3_io io;
    char *path = xasprintf("/%s/%s", s->bucket, key);
    int null_fd = -1;
    int rc;

    s3_io_init(&io);
    io.sha = hash_sha256_new();
    if (fd < 0)
        fd = null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    io.down_fd = fd;
    rc = s3_request(s, "GET", path, EMPTY_SHA256, 0, &io, e);
    if (rc < 0)
        goto cleanup;
    if (io.write_failed) {
        rc = err_set(e, ERR_BACKUP, "cannot write the download of '%s'", key);
        goto cleanup;
    }
    hash_sha256_final_hex(io.sha, sha);
    if (bytes != NULL)
        *bytes = io.down_bytes;

cleanup:
    if (null_fd >= 0)
        close(null_fd);
    hash_sha256_free(io.sha);
    buf_release(&io.body);
    free(path);
    return rc;
}

static int s3_delete(const struct s3 *s, const char *key, struct err *e)
{
    struct s3_io io;
    char *path = xasprintf("/%s/%s", s->bucket, key);
    int rc;

    s3_io_init(&io);
    rc = s3_request(s, "DELETE", path, EMPTY_SHA256, 0, &io, e);
    buf_release(&io.body);
    free(path);
    return rc;
}

/* Keys under the prefix (ListObjectsV2, every page).  Caller frees each and the array. */
static int s3_list(const struct s3 *s, char ***keys, int *n, struct err *e)
{
    char *token = NULL;
    int cap = 0;
    int rc = 0;

    *keys = NULL;
    *n = 0;
    for (;;) {
        struct s3_io io;
        char *path;
        const char *p;

        s3_io_init(&io);
        if (token != NULL)
            path = xasprintf("/%s?continuation-token=%s&list-type=2&prefix=%s", s->bucket, token,
                             s->prefix);
        else
            path = xasprintf("/%s?list-type=2&prefix=%s", s->bucket, s->prefix);
        rc = s3_request(s, "GET", path, EMPTY_SHA256, 0, &io, e);
        free(path);
        free(token);
        token = NULL;
        if (rc == 0 && io.body_full)
            rc = err_set(e, ERR_BACKUP, "the listing of '%s' is too large", s->url);
        if (rc < 0) {
            buf_release(&io.body);
            break;
        }
        for (p = buf_str(&io.body); (p = strstr(p, "<Key>")) != NULL;) {
            const char *end = strstr(p, "</Key>");
            if (end == NULL)
                break;
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                *keys = xrealloc(*keys, sizeof(**keys) * (size_t)cap);
            }
            (*keys)[(*n)++] = xstrndup(p + 5, (size_t)(end - p - 5));
            p = end;
        }
        if (strstr(buf_str(&io.body), "<IsTruncated>true</IsTruncated>") != NULL) {
            const char *a = strstr(buf_str(&io.body), "<NextContinuationToken>");
            const char *b = a != NULL ? strstr(a, "</NextContinuationToken>") : NULL;
            if (a != NULL && b != NULL) {
                char *raw = xstrndup(a + 23, (size_t)(b - a - 23));
                char *esc = curl_easy_escape(NULL, raw, 0);
                token = xstrdup(esc != NULL ? esc : "");
                curl_free(esc);
                free(raw);
            }
        }
        buf_release(&io.body);
        if (token == NULL)
            break;
    }
    return rc;
}

/* The key of a backup's file: PREFIX<tier>/<name><suffix>. */
static char *s3_key(const struct s3 *s, enum backup_tier t, const char *name, const char *sfx)
{
    return xasprintf("%s%s/%s%s", s->prefix, backup_tier_name(t), name, sfx);
}

/*
 * Upload one backup: sidecars first, the data file last (a reader that
 * finds the data object finds its sidecars), then read the data object back
 * and compare its SHA-256 with the local .sha256.
 */
static int s3_copy_one(const struct s3 *s, const struct backup_entry *it, char **where,
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
        rc = s3_put_file(s, key, file, e);
        free(file);
    }
    if (rc == 0)
        rc = s3_get(s, key, -1, got, &bytes, e);
    if (rc == 0 && (strcmp(got, want) != 0 || (int64_t)bytes != it->size))
        rc = err_set(e, ERR_BACKUP,
                     "the uploaded 's3://%s/%s' does not match its original (SHA-256 %.12s..., "
                     "expected %.12s...)",
                     s->bucket, key, got, want);
    if (rc == 0)
        *where = xasprintf("s3://%s/%s", s->bucket, key);
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
static int s3_rotate(const struct config *cfg, const struct s3 *s, int *deleted, struct err *e)
{
    char **keys = NULL;
    struct s3_obj *objs = NULL;
    int n = 0, nobj = 0;
    int keep[BACKUP_TIER_COUNT], seen[BACKUP_TIER_COUNT] = {0};
    int rc;

    *deleted = 0;
    backup_keep_from_config(cfg, keep);
    rc = s3_list(s, &keys, &n, e);
    if (rc < 0)
        goto cleanup;
    objs = xcalloc((size_t)n + 1, sizeof(*objs));
    for (int i = 0; i < n; i++) {
        const char *rel = keys[i] + strlen(s->prefix);
        const char *slash = strchr(rel, '/');
        enum backup_tier t, dt;
        char tname[16];
        if (strncmp(keys[i], s->prefix, strlen(s->prefix)) != 0 || slash == NULL ||
            (size_t)(slash - rel) >= sizeof(tname))
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
            rc = s3_delete(s, k, e);
            free(k);
        }
        if (rc == 0) {
            log_info("s3: rotation deleted 's3://%s/%s'", s->bucket, objs[i].key);
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
    struct s3 s;
    struct err first;
    int copied = 0, failed = 0, deleted = 0;
    int rc;

    err_clear(&first);
    *lagging = 0;
    memset(&s, 0, sizeof(s));
    rc = backup_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    rc = s3_open(cfg, &s, e);
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
        if (failed == 0 && s3_copy_one(&s, it, &where, &ce) == 0 &&
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
        if (s3_rotate(cfg, &s, &deleted, &re) < 0) {
            log_error("s3: rotation of '%s' failed: %s", s.url, re.msg);
            failed++;
            first = re;
        }
    }
    if (failed > 0) {
        rc = err_set(e, first.code ? first.code : ERR_BACKUP, "%s", first.msg);
        goto cleanup;
    }
    log_info("s3: '%s' is up to date (%d backup%s uploaded, %d rotated away)", s.url, copied,
             copied == 1 ? "" : "s", deleted);

cleanup:
    s3_release(&s);
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
    struct s3 s;
    const char *sfx[3] = {".sha256", ".json", ""};
    const char *rest, *slash, *base;
    char *dir = NULL, *path = NULL, *key = NULL;
    int rc;

    *dir_out = NULL;
    *path_out = NULL;
    memset(&s, 0, sizeof(s));
    rc = s3_open(cfg, &s, e);
    if (rc < 0)
        goto cleanup;
    rest = url + 5;
    slash = strchr(rest, '/');
    if (!backup_remote_is_url(url) || slash == NULL || !s3_safe(rest) ||
        (size_t)(slash - rest) != strlen(s.bucket) ||
        strncmp(rest, s.bucket, strlen(s.bucket)) != 0) {
        rc = err_set(e, ERR_USAGE, "'%s' is not a backup in BACKUP_S3_URL's bucket '%s'", url,
                     s.bucket);
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
            rc = s3_get(&s, k, fd, sha, NULL, e);
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
    s3_release(&s);
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
