/*
 * stream — gzip + SHA-256 in one pass, compressing blocks in parallel.
 * See stream.h.
 *
 * Slots form a ring indexed by sequence number (seq % nslots).  The calling
 * thread fills slot `filled`, hands it to the workers (QUEUED), and writes
 * finished slots out strictly in sequence order (`written`), hashing the
 * bytes as they go to the file.  Workers take queued slots in order
 * (`taken`).  So at any time: written <= taken <= filled, and the slots in
 * [written, filled) are in flight.  A slot is reused only once written.
 */
#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/files.h"
#include "backup/stream.h"
#include "common/hash.h"
#include "common/util.h"

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE, SLOT_FAILED };

struct slot {
    unsigned char *in;
    size_t in_len;
    unsigned char *out;
    size_t out_cap;
    size_t out_len;
    enum slot_state state;
};

struct backup_stream {
    int fd;
    char *what;
    int level;
    size_t block;
    int nthreads;
    int nslots;
    struct slot *slots;
    uint64_t filled, taken, written; /* sequence numbers, see above */
    bool filling;                    /* slots[filled % nslots] is being filled */
    pthread_t *threads;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a slot was queued, or stop */
    pthread_cond_t done; /* a slot was compressed */
    bool stop;
    struct libdeflate_compressor *inline_c; /* nthreads == 0 */
    struct hash_sha256 *sha;
    uint64_t raw, gz;
    bool failed;
};

int backup_stream_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    if (n > 8)
        n = 8;
    return (int)n;
}

static bool compress_slot(struct libdeflate_compressor *c, struct slot *sl)
{
    sl->out_len = libdeflate_gzip_compress(c, sl->in, sl->in_len, sl->out, sl->out_cap);
    return sl->out_len > 0;
}

static void *worker(void *arg)
{
    struct backup_stream *s = arg;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(s->level);

    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->taken == s->filled)
            pthread_cond_wait(&s->work, &s->mu);
        if (s->taken == s->filled) /* stop, and nothing left */
            break;
        struct slot *sl = &s->slots[s->taken % (uint64_t)s->nslots];
        s->taken++;
        sl->state = SLOT_BUSY;
        pthread_mutex_unlock(&s->mu);
        bool ok = c != NULL && compress_slot(c, sl);
        pthread_mutex_lock(&s->mu);
        sl->state = ok ? SLOT_DONE : SLOT_FAILED;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    libdeflate_free_compressor(c);
    return NULL;
}

int backup_stream_new(int out_fd, const char *what, int level, int threads, size_t block,
                      struct backup_stream **out, struct err *e)
{
    struct backup_stream *s = xcalloc(1, sizeof(*s));
    int rc = 0;

    *out = NULL;
    s->fd = out_fd;
    s->what = xstrdup(what);
    s->level = level;
    s->block = block > 0 ? block : BACKUP_STREAM_BLOCK;
    s->nthreads = threads < 0 ? 0 : threads;
    /* One being filled, one per worker, one or two finished waiting to be written. */
    s->nslots = s->nthreads == 0 ? 1 : s->nthreads + 2;
    s->slots = xcalloc((size_t)s->nslots, sizeof(*s->slots));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    s->sha = hash_sha256_new();
    {
        /* Sized for the worst case so that compression cannot run out of room. */
        struct libdeflate_compressor *probe = libdeflate_alloc_compressor(level);
        size_t cap;
        if (probe == NULL) {
            rc = err_set(e, ERR_INTERNAL, "cannot start a gzip compressor at level %d", level);
            goto cleanup;
        }
        cap = libdeflate_gzip_compress_bound(probe, s->block);
        if (s->nthreads == 0)
            s->inline_c = probe;
        else
            libdeflate_free_compressor(probe);
        for (int i = 0; i < s->nslots; i++) {
            s->slots[i].in = xmalloc(s->block);
            s->slots[i].out = xmalloc(cap);
            s->slots[i].out_cap = cap;
        }
    }
    s->threads = xcalloc((size_t)s->nthreads + 1, sizeof(*s->threads));
    for (int i = 0; i < s->nthreads; i++) {
        if (pthread_create(&s->threads[i], NULL, worker, s) != 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot start a compression thread: %s", strerror(errno));
            goto cleanup;
        }
        s->started++;
    }
    *out = s;
    s = NULL;

cleanup:
    backup_stream_free(s);
    return rc;
}

static void stop_threads(struct backup_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->started; i++)
        pthread_join(s->threads[i], NULL);
    s->started = 0;
}

void backup_stream_free(struct backup_stream *s)
{
    if (s == NULL)
        return;
    stop_threads(s);
    for (int i = 0; i < s->nslots; i++) {
        free(s->slots[i].in);
        free(s->slots[i].out);
    }
    free(s->slots);
    free(s->threads);
    libdeflate_free_compressor(s->inline_c);
    hash_sha256_free(s->sha);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done);
    free(s->what);
    free(s);
}

/* Write slot seq (finished) to the file and the hash; called without the mutex. */
static int write_slot(struct backup_stream *s, struct slot *sl, struct err *e)
{
    int rc;

    if (sl->state == SLOT_FAILED)
        return err_set(e, ERR_INTERNAL, "gzip compression of '%s' failed", s->what);
    rc = backup_write_all(s->fd, sl->out, sl->out_len, s->what, e);
    if (rc < 0)
        return rc;
    hash_sha256_update(s->sha, sl->out, sl->out_len);
    s->gz += sl->out_len;
    return 0;
}

/*
 * Write out finished slots in order.  wait: block until slot `until` (a
 * sequence number) is written.  Returns 0 or a negative error.
 */
static int drain(struct backup_stream *s, uint64_t until, bool wait, struct err *e)
{
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    while (s->written < s->filled) {
        struct slot *sl = &s->slots[s->written % (uint64_t)s->nslots];
        if (sl->state != SLOT_DONE && sl->state != SLOT_FAILED) {
            if (!wait || s->written >= until)
                break;
            pthread_cond_wait(&s->done, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        rc = write_slot(s, sl, e);
        pthread_mutex_lock(&s->mu);
        if (rc < 0)
            break;
        sl->state = SLOT_FREE;
        s->written++;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Hand the slot being filled to the workers (or compress it here). */
static int submit(struct backup_stream *s, struct err *e)
{
    struct slot *sl = &s->slots[s->filled % (uint64_t)s->nslots];
    int rc = 0;

    s->filling = false;
    if (s->nthreads == 0) {
        sl->state = compress_slot(s->inline_c, sl) ? SLOT_DONE : SLOT_FAILED;
        s->filled++;
        rc = write_slot(s, sl, e);
        sl->state = SLOT_FREE;
        s->written++;
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    sl->state = SLOT_QUEUED;
    s->filled++;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    /* Write whatever is already finished, without waiting. */
    return drain(s, 0, false, e);
}

int backup_stream_buffer(struct backup_stream *s, void **p, size_t *avail, struct err *e)
{
    struct slot *sl;
    int rc;

    if (s->failed)
        return err_set(e, ERR_INTERNAL, "stream of '%s' used after a failure", s->what);
    if (!s->filling) {
        /* The next slot is free once everything up to one lap behind is written. */
        if (s->filled >= (uint64_t)s->nslots) {
            rc = drain(s, s->filled - (uint64_t)s->nslots + 1, true, e);
            if (rc < 0) {
                s->failed = true;
                return rc;
            }
        }
        sl = &s->slots[s->filled % (uint64_t)s->nslots];
        sl->in_len = 0;
        s->filling = true;
    }
    sl = &s->slots[s->filled % (uint64_t)s->nslots];
    *p = sl->in + sl->in_len;
    *avail = s->block - sl->in_len;
    return 0;
}

int backup_stream_commit(struct backup_stream *s, size_t n, struct err *e)
{
    struct slot *sl = &s->slots[s->filled % (uint64_t)s->nslots];
    int rc = 0;

    if (!s->filling || n > s->block - sl->in_len)
        return err_set(e, ERR_INTERNAL, "stream commit of %zu bytes out of bounds", n);
    sl->in_len += n;
    s->raw += n;
    if (sl->in_len == s->block) {
        rc = submit(s, e);
        if (rc < 0)
            s->failed = true;
    }
    return rc;
}

int backup_stream_write(struct backup_stream *s, const void *p, size_t n, struct err *e)
{
    const unsigned char *c = p;
    int rc = 0;

    while (n > 0 && rc == 0) {
        void *dst;
        size_t avail;
        rc = backup_stream_buffer(s, &dst, &avail, e);
        if (rc < 0)
            break;
        if (avail > n)
            avail = n;
        memcpy(dst, c, avail);
        c += avail;
        n -= avail;
        rc = backup_stream_commit(s, avail, e);
    }
    return rc;
}

int backup_stream_finish(struct backup_stream *s, struct backup_stream_stats *st, struct err *e)
{
    int rc = 0;

    memset(st, 0, sizeof(*st));
    if (s->failed)
        return err_set(e, ERR_INTERNAL, "stream of '%s' used after a failure", s->what);
    /* The last partial block; an empty input still needs one (empty) member. */
    if (s->filling || s->filled == 0) {
        if (!s->filling) {
            void *p;
            size_t avail;
            rc = backup_stream_buffer(s, &p, &avail, e);
            if (rc < 0)
                goto cleanup;
        }
        rc = submit(s, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = drain(s, s->filled, true, e);
    if (rc < 0)
        goto cleanup;
    stop_threads(s);
    hash_sha256_final_hex(s->sha, st->sha256);
    st->raw_bytes = s->raw;
    st->gz_bytes = s->gz;

cleanup:
    if (rc < 0)
        s->failed = true;
    return rc;
}

void backup_stream_counts(const struct backup_stream *s, uint64_t *raw, uint64_t *gz)
{
    *raw = s->raw;
    *gz = s->gz;
}
