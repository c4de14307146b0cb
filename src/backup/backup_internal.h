/*
 * backup_internal — what the files of src/backup share (and the unit tests
 * reach): file helpers, the gzip+SHA-256 streaming writer, running pg_dump,
 * and the manifest's text.  Nothing outside src/backup and its tests
 * includes this header.
 */
#ifndef CITAPLANNER_BACKUP_INTERNAL_H
#define CITAPLANNER_BACKUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "backup/backup.h"
#include "db/db.h"
#include "db/db_backup.h"

/* ---- files (files.c) ---- */

/*
 * Write all n bytes to fd.  ENOSPC/EDQUOT -> -ERR_NO_SPACE, other failures
 * -ERR_BACKUP; both name what (a path).
 */
int backup_write_all(int fd, const void *p, size_t n, const char *what, struct err *e);

/* fsync a directory, so that the renames in it survive a power loss. */
int backup_fsync_dir(const char *dir, struct err *e);

/*
 * The temporary name for final name base in dir: "dir/.<base>.tmp.<pid>".
 * Caller frees.
 */
char *backup_tmp_path(const char *dir, const char *base);

/*
 * Create path (which must not exist, 0600), write data, fsync, close.  On
 * failure the file is removed.
 */
int backup_write_new_file(const char *path, const void *data, size_t n, struct err *e);

/* Copy src into a new file dst (0600), fsynced; removed on failure. */
int backup_copy_file(const char *src, const char *dst, struct err *e);

/* The sub-directories backup_dir_prepare makes (the tiers, then logs), NULL-terminated. */
extern const char *const backup_subdirs[];

/*
 * Log the state of dir: backups per tier, bytes they use (a hard-linked file
 * counted once) and the free space left (rotate.c).
 */
void backup_log_summary(const char *dir);

/* (running a child program: common/proc.h) */

/* ---- the streaming writer (stream.c) ---- */

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

/* ---- PostgreSQL (pgdump.c) ---- */

/*
 * Dump the database of u into s: a snapshot session (REPEATABLE READ,
 * pg_export_snapshot()) reads st's row counts and schema version, and
 * `pg_dump --format=plain --no-owner --no-acl --snapshot=…` streams from that
 * same snapshot, connected through environment variables and a private
 * passfile under priv_dir (never argv).  pg_dump's exit status, stderr and
 * closing line are checked.  *pg_dump_version (caller frees) gets its
 * --version text.  Errors: -ERR_BACKUP with pg_dump's first stderr lines,
 * -ERR_NO_SPACE from the stream, the db's errors when the database is
 * unreachable.
 */
struct backup_pg_run {
    const struct url *url;
    const char *priv_dir; /* where the private passfile directory goes (BACKUP_DIR) */
    struct backup_stream *stream;
    volatile int *cancel;
    void (*tick)(void *arg); /* called between reads (progress); may be NULL */
    void *tick_arg;
};
int backup_pg_dump(const struct backup_pg_run *run, struct db_snapshot_stats *st,
                   char **pg_dump_version, struct err *e);

/* ---- the manifest (manifest.c) ---- */

/* What a manifest says, to be written.  Borrowed pointers. */
struct backup_manifest_in {
    const char *file;
    enum backup_tier tier;
    unsigned tiers;
    time_t started, finished; /* epoch; written as UTC */
    enum db_kind kind;
    const char *database; /* redacted URL or path */
    const struct db_snapshot_stats *stats;
    const char *pg_dump_version; /* NULL for SQLite */
    uint64_t raw_bytes, gz_bytes;
    const char *sha256;
    const char *origin; /* NULL: ours; "adopted" (backup adopt); stats->ntables < 0: unknown */
};

/* The manifest's JSON text (ends with a newline).  Caller frees. */
char *backup_manifest_render(const struct backup_manifest_in *in);

#endif
