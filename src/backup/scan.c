/*
 * scan — reading a backup once: SHA-256 and gzip decoding (see scan.h).
 *
 * Every buffer read from the file goes to SHA-256 and to the gzip decoder,
 * and the decoded bytes to the caller's sink.  The reader decodes whole
 * members with libdeflate (several times faster than zlib's inflate; our
 * own backups are made of 1 MiB members) and falls back to zlib's streaming
 * inflate for a member too large for its bounded buffers, and to tell
 * precisely why a member does not decode.  Both check each member's CRC-32
 * and length.  A damaged member does not stop the reading: the hash still
 * covers the whole file, so that every reason can be reported.
 *
 * Memory: at most IN_MAX + OUT_MAX bytes of buffers, whatever the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "backup/scan.h"
#include "common/hash.h"
#include "common/util.h"

#define IN_START  (4u << 20)
#define IN_MAX    (32u << 20)
#define OUT_START (2u << 20)
#define OUT_MAX   (32u << 20)
#define ZOUT      (256u << 10)

/* ---- the reader ---- */

struct reader {
    int fd;
    const char *path;
    unsigned char *in;
    size_t cap, pos, len; /* in[pos, len) not yet decoded */
    uint64_t base;        /* file offset of in[0] */
    bool eof;
    struct hash_sha256 *sha;
    struct backup_scan *s;
    volatile int *cancel;
    void (*tick)(void *arg, const struct backup_scan *s);
    void *tick_arg;
    double last_tick;
};

static void reader_tick(struct reader *rd)
{
    double now;

    if (rd->tick == NULL)
        return;
    now = time_mono();
    if (now - rd->last_tick < 0.25)
        return;
    rd->last_tick = now;
    rd->tick(rd->tick_arg, rd->s);
}

/*
 * Move what is left to the front and read until the buffer is full or the
 * file ends; everything read is hashed here, once.
 */
static int reader_fill(struct reader *rd, struct err *e)
{
    if (rd->pos > 0) {
        memmove(rd->in, rd->in + rd->pos, rd->len - rd->pos);
        rd->base += rd->pos;
        rd->len -= rd->pos;
        rd->pos = 0;
    }
    while (!rd->eof && rd->len < rd->cap) {
        ssize_t n;

        if (rd->cancel != NULL && *rd->cancel != 0)
            return err_set(e, ERR_VERIFY, "verification of '%s' cancelled", rd->path);
        n = read(rd->fd, rd->in + rd->len, rd->cap - rd->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(e, ERR_VERIFY, "cannot read '%s': %s", rd->path, strerror(errno));
        if (n == 0) {
            rd->eof = true;
            break;
        }
        hash_sha256_update(rd->sha, rd->in + rd->len, (size_t)n);
        rd->len += (size_t)n;
        rd->s->gz_bytes += (uint64_t)n;
    }
    reader_tick(rd);
    return 0;
}

static void reader_grow(struct reader *rd)
{
    rd->cap *= 2;
    rd->in = xrealloc(rd->in, rd->cap);
}

static void scan_fail(struct backup_scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void scan_fail(struct backup_scan *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->gzip_ok)
        return; /* the first reason is the one that matters */
    s->gzip_ok = false;
    va_start(ap, fmt);
    vsnprintf(s->gzip_error, sizeof(s->gzip_error), fmt, ap);
    va_end(ap);
}

/*
 * Decode the member at rd->pos with zlib, streaming, refilling the buffer as
 * needed.  Returns 0 (decoded, or the error recorded in s), or a negative
 * code from the reader or the sink.
 */
static int zlib_member(struct reader *rd, backup_scan_sink sink, void *arg, unsigned char *out,
                       struct err *e)
{
    z_stream z;
    uint64_t start = rd->base + rd->pos;
    int zr = Z_OK;
    int rc = 0;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return err_set(e, ERR_INTERNAL, "cannot start zlib's inflate");
    for (;;) {
        if (rd->pos == rd->len) {
            if (rd->eof) {
                scan_fail(rd->s,
                          "truncated: the gzip member at offset %llu ends before its trailer "
                          "(file cut short)",
                          (unsigned long long)start);
                break;
            }
            rc = reader_fill(rd, e);
            if (rc < 0)
                break;
            continue;
        }
        z.next_in = rd->in + rd->pos;
        z.avail_in = (uInt)(rd->len - rd->pos);
        z.next_out = out;
        z.avail_out = ZOUT;
        zr = inflate(&z, Z_NO_FLUSH);
        rd->pos = rd->len - z.avail_in;
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            scan_fail(rd->s, "corrupt gzip data in the member at offset %llu: %s",
                      (unsigned long long)start, z.msg != NULL ? z.msg : "inflate error");
            break;
        }
        if (ZOUT - z.avail_out > 0) {
            size_t n = ZOUT - z.avail_out;
            rd->s->raw_bytes += n;
            if (sink != NULL && (rc = sink(arg, out, n, e)) < 0)
                break;
        }
        if (zr == Z_STREAM_END) {
            rd->s->members++;
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

int backup_scan_file(const char *path, backup_scan_sink sink, void *sink_arg, volatile int *cancel,
                     void (*tick)(void *arg, const struct backup_scan *s), void *tick_arg,
                     struct backup_scan *out, struct err *e)
{
    struct reader rd;
    struct libdeflate_decompressor *d = NULL;
    unsigned char *obuf = NULL;
    size_t ocap = OUT_START;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->gzip_ok = true;
    memset(&rd, 0, sizeof(rd));
    rd.path = path;
    rd.s = out;
    rd.cancel = cancel;
    rd.tick = tick;
    rd.tick_arg = tick_arg;
    rd.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (rd.fd < 0) {
        rc = err_set(e, ERR_VERIFY, "cannot open '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    posix_fadvise(rd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rd.sha = hash_sha256_new();
    d = libdeflate_alloc_decompressor();
    if (d == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot start the gzip decoder");
        goto cleanup;
    }
    rd.cap = IN_START;
    rd.in = xmalloc(rd.cap);
    obuf = xmalloc(ocap);

    rc = reader_fill(&rd, e);
    if (rc < 0)
        goto cleanup;
    if (rd.len == 0)
        scan_fail(out, "empty file");
    while (out->gzip_ok) {
        size_t ain = 0, aout = 0;
        enum libdeflate_result lr;

        if (rd.len - rd.pos < rd.cap / 2 && !rd.eof) {
            rc = reader_fill(&rd, e);
            if (rc < 0)
                goto cleanup;
        }
        if (rd.pos == rd.len)
            break; /* the end of the file, exactly after a member */
        /* A member starts with 1f 8b (a lone 1f at the very end: a cut header). */
        if (rd.in[rd.pos] != 0x1f || (rd.len - rd.pos >= 2 && rd.in[rd.pos + 1] != 0x8b)) {
            if (out->members == 0)
                scan_fail(out, "not a gzip file");
            else
                scan_fail(out, "%llu bytes of trailing garbage after the gzip data (offset %llu)",
                          (unsigned long long)(rd.len - rd.pos + (rd.eof ? 0 : 1)),
                          (unsigned long long)(rd.base + rd.pos));
            break;
        }
        lr = libdeflate_gzip_decompress_ex(d, rd.in + rd.pos, rd.len - rd.pos, obuf, ocap, &ain,
                                           &aout);
        if (lr == LIBDEFLATE_SUCCESS) {
            rd.pos += ain;
            out->members++;
            out->raw_bytes += aout;
            if (sink != NULL && (rc = sink(sink_arg, obuf, aout, e)) < 0)
                goto cleanup;
            continue;
        }
        if (lr == LIBDEFLATE_INSUFFICIENT_SPACE && ocap < OUT_MAX) {
            ocap *= 2;
            free(obuf);
            obuf = xmalloc(ocap);
            continue;
        }
        if (lr != LIBDEFLATE_INSUFFICIENT_SPACE && !rd.eof && rd.cap < IN_MAX) {
            /* Perhaps only part of the member is in the buffer: read more. */
            reader_grow(&rd);
            rc = reader_fill(&rd, e);
            if (rc < 0)
                goto cleanup;
            continue;
        }
        /* Too large for the buffers, or damaged: zlib streams it, or says why. */
        if (ocap < ZOUT) {
            free(obuf);
            ocap = ZOUT;
            obuf = xmalloc(ocap);
        }
        rc = zlib_member(&rd, sink, sink_arg, obuf, e);
        if (rc < 0)
            goto cleanup;
    }
    /* Hash whatever is left after a decoding error. */
    while (!rd.eof) {
        rd.pos = rd.len;
        rc = reader_fill(&rd, e);
        if (rc < 0)
            goto cleanup;
    }
    hash_sha256_final_hex(rd.sha, out->sha256);

cleanup:
    if (rd.fd >= 0)
        close(rd.fd);
    hash_sha256_free(rd.sha);
    libdeflate_free_decompressor(d);
    free(rd.in);
    free(obuf);
    return rc;
}

void backup_progress_tick(void *arg, const struct backup_scan *s)
{
    struct backup_tick *t = arg;
    struct backup_progress p;

    if (t->progress == NULL)
        return;
    p.step = t->step;
    p.raw_bytes = s->raw_bytes;
    p.gz_bytes = s->gz_bytes;
    p.seconds = time_mono() - t->t0;
    t->progress(t->progress_arg, &p);
}
