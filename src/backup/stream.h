/*
 * stream — the gzip+SHA-256 streaming writer (stream.c).
 */
#ifndef CITAPLANNER_BACKUP_STREAM_H
#define CITAPLANNER_BACKUP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Compress (gzip) and hash (SHA-256 of the compressed bytes) a byte stream
 * in one pass, writing it to a file descriptor as it goes.
 *
 * The input is cut into blocks of a fixed size; each block becomes one
 * independent gzip member (with its own CRC-32 and size), compressed by a
 * pool of threads and written in order: the concatenation is standard gzip,
 * which gunzip and zlib read as one stream.  Memory is bounded by the number
 * of blocks in flight (about 2 x block x (threads + 2)), whatever the input.
 * Only the calling thread writes to fd and computes the hash.
 */
struct backup_stream;

struct backup_stream_stats {
    uint64_t raw_bytes;
    uint64_t gz_bytes;
    char sha256[65]; /* hex; set by backup_stream_finish */
};

#define BACKUP_STREAM_BLOCK (1u << 20)
#define BACKUP_STREAM_LEVEL 6

/*
 * out_fd: where the gzip goes (not closed; the caller fsyncs).  what: the
 * path, for messages.  level: libdeflate level (1-12).  threads: compression
 * threads, 0 = compress in the calling thread; block: input bytes per member.
 * Caller frees with backup_stream_free.
 */
int backup_stream_new(int out_fd, const char *what, int level, int threads, size_t block,
                      struct backup_stream **out, struct err *e);
void backup_stream_free(struct backup_stream *s);

/* Compression threads worth starting on this machine (its online CPUs, 1..8). */
int backup_stream_default_threads(void);

/*
 * Zero-copy input: *p and *avail describe free space in the current block;
 * write up to avail bytes there, then backup_stream_commit(n).  May block
 * while every block is in flight (writing finished ones out meanwhile).
 */
int backup_stream_buffer(struct backup_stream *s, void **p, size_t *avail, struct err *e);
int backup_stream_commit(struct backup_stream *s, size_t n, struct err *e);

/* Copy-in input: the same through a memcpy. */
int backup_stream_write(struct backup_stream *s, const void *p, size_t n, struct err *e);

/*
 * Compress what remains, write everything, stop the threads, fill st.  An
 * empty input still gives a valid (empty) gzip file.  After a failure of any
 * call the stream only accepts backup_stream_free.
 */
int backup_stream_finish(struct backup_stream *s, struct backup_stream_stats *st, struct err *e);

/* Counters so far (for progress lines). */
void backup_stream_counts(const struct backup_stream *s, uint64_t *raw, uint64_t *gz);

#endif
