/*
 * s3 — the S3 client (see s3.h): libcurl with AWS Signature V4
 * (CURLOPT_AWS_SIGV4) signing every request.  A file larger than the part
 * size goes up as a multipart upload, one part in memory at a time; the
 * credentials are the options' key pair, or else a private shared-
 * credentials file.  Configured by a plain struct storage_s3_options: it
 * knows nothing of struct config nor of backups.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/s3.h"

/* Write all n bytes to fd; -1 on failure. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static pthread_once_t s3_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s3_curl_rc;

static void s3_curl_init(void)
{
    s3_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct storage_s3 {
    char *url;      /* BACKUP_S3_URL as given, for messages */
    char *endpoint; /* "http://127.0.0.1:9000", no final slash */
    char *bucket;
    char *prefix;  /* "" or "a/b/" (with its final slash) */
    char *sigv4;   /* "aws:amz:REGION:s3" */
    char *userpwd; /* "KEY:SECRET": a secret, only ever handed to libcurl */
    long timeout;
    size_t part_size; /* a larger file goes up in parts of this size */
};

void storage_s3_close(struct storage_s3 *s)
{
    if (s == NULL)
        return;
    free(s->url);
    free(s->endpoint);
    free(s->bucket);
    free(s->prefix);
    free(s->sigv4);
    if (s->userpwd != NULL)
        memset(s->userpwd, 0, strlen(s->userpwd));
    free(s->userpwd);
    free(s);
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

int storage_s3_open(const struct storage_s3_options *o, struct storage_s3 **out, struct err *e)
{
    const char *u = o->url;
    const char *rest, *slash;
    const char *region = o->region != NULL && o->region[0] != '\0' ? o->region : "us-east-1";
    const char *cred_file = o->credentials_file;
    bool env_key = o->access_key_id != NULL || o->secret_access_key != NULL;
    struct storage_s3 *s;
    int rc = 0;

    *out = NULL;
    if (u == NULL || strncmp(u, "s3://", 5) != 0 || u[5] == '\0' || u[5] == '/' || !s3_safe(u + 5))
        return err_set(e, ERR_CONFIG,
                       "invalid BACKUP_S3_URL '%s': expected s3://BUCKET/PREFIX (letters, digits, "
                       "'.', '_', '-', '/')",
                       u != NULL ? u : "");
    if (cred_file != NULL && cred_file[0] == '\0')
        cred_file = NULL;
    if (env_key && (o->access_key_id == NULL || o->secret_access_key == NULL))
        return err_set(e, ERR_CONFIG,
                       "BACKUP_S3_URL is set but only one of AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY is");
    if (!env_key && cred_file == NULL)
        return err_set(e, ERR_CONFIG,
                       "BACKUP_S3_URL is set but neither AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY nor BACKUP_S3_CREDENTIALS_FILE is");
    if (pthread_once(&s3_curl_once, s3_curl_init) != 0 || s3_curl_rc != CURLE_OK)
        return err_set(e, ERR_INTERNAL, "cannot initialise libcurl");
    s = xcalloc(1, sizeof(*s));
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
    if (o->endpoint != NULL && o->endpoint[0] != '\0') {
        size_t n = strlen(o->endpoint);
        while (n > 0 && o->endpoint[n - 1] == '/')
            n--;
        s->endpoint = xstrndup(o->endpoint, n);
    } else {
        s->endpoint = xasprintf("https://s3.%s.amazonaws.com", region);
    }
    s->sigv4 = xasprintf("aws:amz:%s:s3", region);
    s->timeout = o->timeout_s > 0 ? o->timeout_s : STORAGE_S3_TIMEOUT_S;
    s->part_size = o->part_size > 0 ? o->part_size : STORAGE_S3_PART_SIZE;
    /* The environment wins over the file, as with the AWS tools. */
    if (env_key)
        s->userpwd = xasprintf("%s:%s", o->access_key_id, o->secret_access_key);
    else
        rc = s3_credentials_file(
            cred_file, o->profile != NULL && o->profile[0] != '\0' ? o->profile : "default",
            &s->userpwd, e);
    if (rc < 0)
        storage_s3_close(s);
    else
        *out = s;
    return rc;
}

/* A response body kept for LIST and error messages (bounded). */
#define S3_BODY_MAX (4u << 20)

struct s3_io {
    FILE *up;              /* PUT: the file read */
    const char *up_mem;    /* PUT or POST: a body in memory (a part, an XML document) */
    size_t up_len, up_off; /* its length, and how much of it libcurl has taken */
    const char *content_type;
    char etag[128];          /* the ETag response header, quotes kept */
    int down_fd;             /* GET into a file: -1 otherwise */
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
        if (write_all(io->down_fd, p, len) < 0) {
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
static int s3_request(const struct storage_s3 *s, const char *method, const char *path,
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
static int s3_put_multipart(const struct storage_s3 *s, const char *key, FILE *f, uint64_t size,
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

static int put_file(const struct storage_s3 *s, const char *key, const char *file, bool parts,
                    struct err *e)
{
    struct s3_io io;
    char sha[65];
    uint64_t size = 0;
    char *path = xasprintf("/%s/%s", s->bucket, key);
    struct stat sb;
    int rc = 0;

    s3_io_init(&io);
    if (parts && stat(file, &sb) == 0 && (uint64_t)sb.st_size > s->part_size) {
        io.up = fopen(file, "rb");
        if (io.up == NULL)
            rc = err_set(e, ERR_BACKUP, "cannot open '%s': %s", file, strerror(errno));
        else
            rc = s3_put_multipart(s, key, io.up, (uint64_t)sb.st_size, e);
        goto cleanup;
    }
    if (hash_sha256_file(file, sha, &size) < 0) {
        rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", file, strerror(errno));
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

/*
 * PUT a local file as key, signed with its SHA-256 (the service checks the
 * body against it); a file larger than the part size goes up in parts.
 */
int storage_s3_put_file(const struct storage_s3 *s, const char *key, const char *file,
                        struct err *e)
{
    return put_file(s, key, file, true, e);
}

int storage_s3_put_whole(const struct storage_s3 *s, const char *key, const char *file,
                         struct err *e)
{
    return put_file(s, key, file, false, e);
}

/* GET key into fd (may be -1: only hashed), its SHA-256 into sha. */
int storage_s3_get(const struct storage_s3 *s, const char *key, int fd, char sha[65],
                   uint64_t *bytes, struct err *e)
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

int storage_s3_delete(const struct storage_s3 *s, const char *key, struct err *e)
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
int storage_s3_list(const struct storage_s3 *s, char ***keys, int *n, struct err *e)
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

const char *storage_s3_url(const struct storage_s3 *s)
{
    return s->url;
}

const char *storage_s3_bucket(const struct storage_s3 *s)
{
    return s->bucket;
}

const char *storage_s3_prefix(const struct storage_s3 *s)
{
    return s->prefix;
}

/* ---- the store (store.h): names are keys under the prefix ---- */

static int s3s_put(void *impl, const char *const src[], const char *const name[], int n,
                   unsigned flags, const char *expect_sha, int64_t expect_size, char **where,
                   struct err *e)
{
    const struct storage_s3 *s = impl;
    char got[HASH_SHA256_HEX];
    uint64_t bytes = 0;
    char *key = NULL;
    int rc = 0;

    (void)flags; /* nothing to move: every source is uploaded */
    /* The sidecars first, the data last: a reader that finds the data finds its sidecars. */
    for (int k = 1; k <= n && rc == 0; k++) {
        int i = k % n;
        free(key);
        key = xasprintf("%s%s", s->prefix, name[i]);
        /* the sidecars are small: one request each, only the data in parts */
        rc = put_file(s, key, src[i], i == 0, e);
    }
    if (rc == 0 && n > 0)
        rc = storage_s3_get(s, key, -1, got, &bytes, e);
    if (rc == 0 && n > 0 && (strcmp(got, expect_sha) != 0 || (int64_t)bytes != expect_size))
        rc = err_set(e, ERR_BACKUP,
                     "the uploaded 's3://%s/%s' does not match its original (SHA-256 %.12s..., "
                     "expected %.12s...)",
                     s->bucket, key, got, expect_sha);
    if (rc == 0 && n > 0)
        *where = xasprintf("s3://%s/%s", s->bucket, key);
    free(key);
    return rc;
}

static int s3s_get(void *impl, const char *name, int fd, char sha[65], uint64_t *bytes,
                   struct err *e)
{
    const struct storage_s3 *s = impl;
    char *key = xasprintf("%s%s", s->prefix, name);
    int rc = storage_s3_get(s, key, fd, sha, bytes, e);

    free(key);
    return rc;
}

static int s3s_remove(void *impl, const char *name, struct err *e)
{
    const struct storage_s3 *s = impl;
    char *key = xasprintf("%s%s", s->prefix, name);
    int rc = storage_s3_delete(s, key, e);

    free(key);
    return rc;
}

static int s3s_list(void *impl, const char *prefix, char ***names, int *n, struct err *e)
{
    const struct storage_s3 *s = impl;
    size_t plen = strlen(s->prefix);
    char **keys = NULL;
    int nkeys = 0;
    int rc = storage_s3_list(s, &keys, &nkeys, e);

    for (int i = 0; i < nkeys; i++) {
        if (rc == 0 && strncmp(keys[i], s->prefix, plen) == 0 &&
            strncmp(keys[i] + plen, prefix, strlen(prefix)) == 0) {
            memmove(keys[i], keys[i] + plen, strlen(keys[i] + plen) + 1);
            keys[(*n)++] = keys[i];
        } else {
            free(keys[i]);
        }
    }
    if (rc < 0) {
        free(keys);
        *n = 0;
        return rc;
    }
    *names = keys;
    return 0;
}

static void s3s_close(void *impl)
{
    storage_s3_close(impl);
}

static const struct storage_store_ops s3_ops = {
    .put = s3s_put,
    .has = NULL, /* a request per object: the callers trust their records */
    .get = s3s_get,
    .remove = s3s_remove,
    .list = s3s_list,
    .close = s3s_close,
};

int storage_s3_store_open(const struct storage_s3_options *o, struct storage_store **out,
                          struct err *e)
{
    struct storage_s3 *s = NULL;
    int rc = storage_s3_open(o, &s, e);

    *out = rc == 0 ? storage_store_new(&s3_ops, s, s->url) : NULL;
    return rc;
}
