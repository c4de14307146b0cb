/* sqlite_wal — see sqlite_wal.h. */
#include "archive/sqlite_wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "backup/encrypt.h"
#include "common/file.h"
#include "common/util.h"

#define MAGIC_LE 0x377f0682u
#define CHUNK    (256 * 1024)

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

void wal_checksum(bool be, const unsigned char *p, size_t n, uint32_t *s0, uint32_t *s1)
{
    uint32_t a = *s0, b = *s1;

    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint32_t x0 = be ? get_be32(p + i) : get_le32(p + i);
        uint32_t x1 = be ? get_be32(p + i + 4) : get_le32(p + i + 4);
        a += x0 + b;
        b += x1 + a;
    }
    *s0 = a;
    *s1 = b;
}

int wal_hdr_parse(const unsigned char *buf, size_t n, struct wal_hdr *h)
{
    uint32_t magic, ps, s0 = 0, s1 = 0;

    if (n < WAL_HDR)
        return -1;
    magic = get_be32(buf);
    if ((magic & 0xfffffffeu) != MAGIC_LE || get_be32(buf + 4) != 3007000)
        return -1;
    h->be = (magic & 1) != 0;
    ps = get_be32(buf + 8);
    if (ps == 1)
        ps = 65536;
    if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0)
        return -1;
    wal_checksum(h->be, buf, 24, &s0, &s1);
    if (s0 != get_be32(buf + 24) || s1 != get_be32(buf + 28))
        return -1;
    h->pagesize = ps;
    h->salt1 = get_be32(buf + 16);
    h->salt2 = get_be32(buf + 20);
    h->ck0 = s0;
    h->ck1 = s1;
    return 0;
}

bool wal_frame_check(const struct wal_hdr *h, const unsigned char *f, uint32_t *s0, uint32_t *s1,
                     uint32_t *commit)
{
    uint32_t a = *s0, b = *s1;

    if (get_be32(f) == 0 || get_be32(f + 8) != h->salt1 || get_be32(f + 12) != h->salt2)
        return false;
    wal_checksum(h->be, f, 8, &a, &b);
    wal_checksum(h->be, f + WAL_FRAME_HDR, h->pagesize, &a, &b);
    if (a != get_be32(f + 16) || b != get_be32(f + 20))
        return false;
    *s0 = a;
    *s1 = b;
    if (commit != NULL)
        *commit = get_be32(f + 4);
    return true;
}

/* ---- manifest ---- */

void wal_manifest_release(struct wal_manifest *m)
{
    if (m == NULL)
        return;
    free(m->segs);
    memset(m, 0, sizeof(*m));
}

static bool parse_snapshot(const char *l, struct wal_manifest *m)
{
    int64_t t;
    unsigned long long size, pos;
    unsigned ps, s1, s2, known, c0, c1;
    char file[32], sha[HASH_SHA256_HEX];

    if (sscanf(l, "snapshot %" SCNd64 " %31s %64s %llu %u %u %u %u %llu %u %u", &t, file, sha,
               &size, &ps, &s1, &s2, &known, &pos, &c0, &c1) != 11)
        return false;
    m->snapshot_ms = t;
    memcpy(m->snapshot_file, file, sizeof(file));
    memcpy(m->snapshot_sha256, sha, sizeof(sha));
    m->snapshot_size = size;
    m->pagesize = ps;
    m->salt1 = s1;
    m->salt2 = s2;
    m->salts_known = known != 0;
    m->pos = pos;
    m->ck0 = c0;
    m->ck1 = c1;
    return true;
}

static bool parse_segment(const char *l, struct wal_segment *s)
{
    unsigned long long seq, size, nf, st, en;
    unsigned a, b, c0, c1, c2, c3, be;

    memset(s, 0, sizeof(*s));
    if (sscanf(l, "segment %llu %" SCNd64 " %31s %64s %llu %llu %u %u %llu %llu %u %u %u %u %u",
               &seq, &s->time_ms, s->file, s->sha256, &size, &nf, &a, &b, &st, &en, &c0, &c1, &c2,
               &c3, &be) != 15)
        return false;
    s->seq = seq;
    s->size = size;
    s->nframes = nf;
    s->salt1 = a;
    s->salt2 = b;
    s->start = st;
    s->end = en;
    s->sck0 = c0;
    s->sck1 = c1;
    s->eck0 = c2;
    s->eck1 = c3;
    s->be = be != 0;
    return strchr(s->file, '/') == NULL;
}

int wal_manifest_load(const char *dir, struct wal_manifest *m, struct err *e)
{
    char *path = xasprintf("%s/manifest", dir);
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, cap_segs = 0;
    int rc = 0;

    memset(m, 0, sizeof(*m));
    f = fopen(path, "re");
    if (f == NULL) {
        rc = err_set(e, ERR_VERIFY, "cannot read the archive manifest '%s': %s", path,
                     strerror(errno));
        goto cleanup;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') {
            m->torn = true;
            break;
        }
        if (lineno == 1) {
            if (!parse_snapshot(line, m)) {
                rc =
                    err_set(e, ERR_VERIFY, "archive manifest '%s': line 1 is not a snapshot", path);
                goto cleanup;
            }
            continue;
        }
        if (m->nsegs == cap_segs) {
            cap_segs = cap_segs ? cap_segs * 2 : 64;
            m->segs = xrealloc(m->segs, sizeof(*m->segs) * (size_t)cap_segs);
        }
        if (!parse_segment(line, &m->segs[m->nsegs])) {
            rc =
                err_set(e, ERR_VERIFY, "archive manifest '%s': line %d is malformed", path, lineno);
            goto cleanup;
        }
        m->nsegs++;
    }
    if (lineno == 0 || m->snapshot_file[0] == '\0')
        rc = err_set(e, ERR_VERIFY, "archive manifest '%s' is empty", path);

cleanup:
    if (f != NULL)
        fclose(f);
    free(line);
    free(path);
    if (rc < 0)
        wal_manifest_release(m);
    return rc;
}

int wal_manifest_create(const char *dir, const struct wal_manifest *m, struct err *e)
{
    char *path = xasprintf("%s/manifest", dir);
    char *line = xasprintf("snapshot %" PRId64 " %s %s %llu %u %u %u %u %llu %u %u\n",
                           m->snapshot_ms, m->snapshot_file, m->snapshot_sha256,
                           (unsigned long long)m->snapshot_size, m->pagesize, m->salt1, m->salt2,
                           m->salts_known ? 1u : 0u, (unsigned long long)m->pos, m->ck0, m->ck1);
    int rc = file_write_atomic(path, line, strlen(line), 0600, ERR_BACKUP, e);

    free(line);
    free(path);
    return rc;
}

int wal_manifest_append(const char *dir, const struct wal_segment *s, struct err *e)
{
    char *path = xasprintf("%s/manifest", dir);
    char *line = xasprintf(
        "segment %llu %" PRId64 " %s %s %llu %llu %u %u %llu %llu %u %u %u %u %u\n",
        (unsigned long long)s->seq, s->time_ms, s->file, s->sha256, (unsigned long long)s->size,
        (unsigned long long)s->nframes, s->salt1, s->salt2, (unsigned long long)s->start,
        (unsigned long long)s->end, s->sck0, s->sck1, s->eck0, s->eck1, s->be ? 1u : 0u);
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    size_t len = strlen(line);
    int rc = 0;

    if (fd < 0 || write(fd, line, len) != (ssize_t)len || fdatasync(fd) != 0)
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP,
                     "cannot append to the archive manifest '%s': %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(line);
    free(path);
    return rc;
}

/* ---- gzip files ---- */

/* The frames being copied, checked chunk by chunk (NULL: plain bytes). */
struct frame_check {
    const struct wal_chain *chain;
    size_t fsz;
    uint32_t c0, c1;
    uint64_t n;  /* frames checked */
    bool broken; /* frame n does not follow */
};

static bool check_chunk(struct frame_check *fc, const unsigned char *buf, size_t len)
{
    if (len % fc->fsz != 0) {
        fc->broken = true;
        return false;
    }
    for (size_t k = 0; k < len; k += fc->fsz, fc->n++) {
        if (!wal_frame_check(fc->chain->h, buf + k, &fc->c0, &fc->c1, NULL)) {
            fc->broken = true;
            return false;
        }
    }
    return true;
}

static int gz_copy(int fd, uint64_t off, uint64_t len, struct frame_check *fc, const char *path,
                   const char *recipient, char sha[HASH_SHA256_HEX], uint64_t *size, struct err *e);

int wal_gz_write(int fd, uint64_t off, uint64_t len, const char *path, const char *recipient,
                 char sha[HASH_SHA256_HEX], uint64_t *size, struct err *e)
{
    return gz_copy(fd, off, len, NULL, path, recipient, sha, size, e);
}

int wal_gz_frames(int fd, uint64_t start, uint64_t end, const struct wal_chain *chain,
                  const char *path, const char *recipient, char sha[HASH_SHA256_HEX],
                  uint64_t *size, uint64_t *bad, struct err *e)
{
    struct frame_check fc = {.chain = chain,
                             .fsz = WAL_FRAME_HDR + (size_t)chain->h->pagesize,
                             .c0 = chain->c0,
                             .c1 = chain->c1};
    uint64_t off = wal_frame_offset(chain->h->pagesize, start);
    int rc = gz_copy(fd, off, (end - start) * fc.fsz, &fc, path, recipient, sha, size, e);

    if (rc >= 0 && fc.broken) {
        *bad = start + fc.n;
        return 1;
    }
    return rc;
}

static int gz_copy(int fd, uint64_t off, uint64_t len, struct frame_check *fc, const char *path,
                   const char *recipient, char sha[HASH_SHA256_HEX], uint64_t *size, struct err *e)
{
    char *dir = path_dir(path);
    char *tmp = xasprintf("%s/.%s.tmp.%ld", dir, path_base(path), (long)getpid());
    size_t chunk = fc != NULL ? (CHUNK / fc->fsz + 1) * fc->fsz : CHUNK;
    unsigned char *buf = xmalloc(chunk);
    struct backup_age *age = NULL;
    gzFile gz = NULL;
    int out = -1, rc = 0;

    out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        goto fail;
    if (recipient != NULL && (rc = backup_age_encrypt_start(recipient, out, path, &age, e)) < 0)
        goto cleanup;
    gz = gzdopen(dup(age != NULL ? backup_age_fd(age) : out), "wb1");
    if (gz == NULL)
        goto fail;
    while (len > 0) {
        size_t want = len < chunk ? (size_t)len : chunk;
        ssize_t got = pread(fd, buf, want, (off_t)off);
        if (got <= 0) {
            rc = err_set(e, ERR_BACKUP, "cannot read the WAL for '%s': %s", path,
                         got < 0 ? strerror(errno) : "it is shorter than expected");
            goto cleanup;
        }
        if (fc != NULL && !check_chunk(fc, buf, (size_t)got))
            goto cleanup; /* rc 0, fc->broken: the caller answers 1 */
        if (gzwrite(gz, buf, (unsigned)got) != (int)got)
            goto fail;
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    if (fc != NULL && (fc->c0 != fc->chain->e0 || fc->c1 != fc->chain->e1)) {
        fc->broken = true; /* whole frames, but not the chain's end: nothing is renamed */
        goto cleanup;
    }
    if (gzclose(gz) != Z_OK) {
        gz = NULL;
        goto fail;
    }
    gz = NULL;
    if (age != NULL) {
        rc = backup_age_finish(age, e);
        age = NULL;
        if (rc < 0)
            goto cleanup;
    }
    if (fsync(out) != 0 || lseek(out, 0, SEEK_SET) != 0 || hash_sha256_fd(out, sha, size) != 0)
        goto fail;
    close(out);
    out = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    rc = file_fsync_dir(dir, ERR_BACKUP, e);
    goto cleanup;

fail:
    rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot write '%s': %s", path,
                 strerror(errno));
cleanup:
    if (gz != NULL)
        gzclose(gz);
    backup_age_abort(age);
    if (out >= 0)
        close(out);
    if (rc < 0 || (fc != NULL && fc->broken))
        unlink(tmp);
    free(buf);
    free(tmp);
    free(dir);
    return rc;
}

int wal_in_open(const char *path, const char *identity, struct wal_in *in, struct err *e)
{
    struct backup_age *age = NULL;
    int rc;

    memset(in, 0, sizeof(*in));
    if (backup_name_encrypted(path)) {
        if (identity == NULL)
            return err_set(e, ERR_CONFIG,
                           "'%s' is encrypted: set BACKUP_DECRYPT_IDENTITY to the age identity "
                           "file that decrypts it",
                           path);
        rc = backup_age_decrypt_start(identity, path, &age, e);
        if (rc < 0)
            return rc;
        in->gz = gzdopen(dup(backup_age_fd(age)), "rb");
        in->age = age;
    } else {
        in->gz = gzopen(path, "rb");
    }
    if (in->gz == NULL) {
        backup_age_abort(age);
        memset(in, 0, sizeof(*in));
        return err_set(e, ERR_VERIFY, "cannot read '%s': %s", path, strerror(errno));
    }
    return 0;
}

int wal_in_close(struct wal_in *in, bool ok, struct err *e)
{
    int rc = 0;

    if (in->gz != NULL)
        gzclose((gzFile)in->gz);
    if (in->age != NULL) {
        if (ok)
            rc = backup_age_finish(in->age, e);
        else
            backup_age_abort(in->age);
    }
    memset(in, 0, sizeof(*in));
    return rc;
}

int wal_gz_extract(const char *src, const char *dst, const char *identity, struct err *e)
{
    unsigned char *buf = xmalloc(CHUNK);
    struct wal_in in;
    int out = -1, rc, n = 0;

    rc = wal_in_open(src, identity, &in, e);
    if (rc < 0)
        goto cleanup;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", dst, strerror(errno));
        goto cleanup;
    }
    while ((n = gzread((gzFile)in.gz, buf, CHUNK)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot write '%s': %s",
                         dst, strerror(errno));
            goto cleanup;
        }
    }
    if (n < 0 || !gzeof((gzFile)in.gz))
        rc = err_set(e, ERR_VERIFY, "'%s' is not a whole gzip file", src);

cleanup:
    if (wal_in_close(&in, rc == 0, rc == 0 ? e : NULL) < 0)
        rc = -ERR_VERIFY;
    if (out >= 0)
        close(out);
    if (rc < 0 && out >= 0)
        unlink(dst);
    free(buf);
    return rc;
}

void wal_fmt_ms(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    char b[24];

    gmtime_r(&t, &tm);
    strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, 40, "%.19s.%03d UTC", b, (int)(ms % 1000));
}

int64_t wal_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
