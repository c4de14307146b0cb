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

/* Parse "pg_dump (PostgreSQL) 15.20 (Debian …)" into its major version (15; 9 for 9.6). */
int backup_pg_dump_parse_version(const char *text, int *major);

/* A passfile line "*:*:*:*:PASSWORD\n" with ':' and '\' escaped.  Caller frees (zero first). */
char *backup_pgpass_line(const char *password);

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

/* ---- running psql (pgdump.c; used by verify.c and restore.c) ---- */

/* The password to hand a libpq tool: the URL's, or its "password" parameter; NULL if none. */
const char *backup_pg_password(const struct url *u);

/*
 * The environment for a libpq tool connecting to u: the whitelisted part of
 * ours, PGHOST/PGPORT/PGUSER/PGDATABASE and the URL's parameters, and
 * PGPASSFILE=passfile when not NULL (never the password itself).  NULL-
 * terminated; caller frees with backup_pg_env_free.
 */
char **backup_pg_env_new(const struct url *u, const char *passfile);
void backup_pg_env_free(char **env);

/*
 * A private passfile for password in a new directory under priv_dir
 * (".pgpass.tmp.<pid>", 0700, removed by the next cleanup after a crash).
 * *dir and *file: release both with backup_pg_passfile_remove.
 */
int backup_pg_passfile_new(const char *priv_dir, const char *password, char **dir, char **file,
                           struct err *e);
void backup_pg_passfile_remove(char *dir, char *file);

/* ---- reading a backup (verify.c; used by restore.c) ---- */

/*
 * Receives the decompressed bytes of a backup in order.  Returns 0, or a
 * negative code (with e set) to stop the scan.
 */
typedef int (*backup_scan_sink)(void *arg, const void *p, size_t n, struct err *e);

struct backup_scan {
    uint64_t gz_bytes;  /* bytes read (all of the file, even after a decoding error) */
    uint64_t raw_bytes; /* decompressed bytes handed to the sink */
    int members;
    char sha256[65];      /* of every byte of the file */
    bool gzip_ok;         /* the whole file is valid gzip, members back to back */
    char gzip_error[256]; /* why not, when !gzip_ok */
};

/*
 * Read path once: SHA-256 over every byte, gzip decoding of the same bytes
 * (libdeflate for members of a bounded size, zlib streaming otherwise;
 * CRC-32 and length of each member checked), the output to sink (may be
 * NULL).  A decoding error does not stop the hashing: the rest of the file
 * is still read, so that the hash is complete; the sink is not called
 * again.  Returns 0 when the file was read to its end (gzip_ok tells whether
 * it decoded), or a negative code: the file unreadable (-ERR_VERIFY), the
 * sink's error, or cancellation (-ERR_VERIFY "cancelled").  progress/tick
 * may be NULL; it is called with the counters a few times a second.
 */
int backup_scan_file(const char *path, backup_scan_sink sink, void *sink_arg, volatile int *cancel,
                     void (*tick)(void *arg, const struct backup_scan *s), void *tick_arg,
                     struct backup_scan *out, struct err *e);

/*
 * A backup_scan_file tick that reports a step's progress to an opts'
 * progress callback (which may be NULL: then nothing is reported).  Pass
 * backup_progress_tick with a struct backup_tick as tick_arg.
 */
struct backup_tick {
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
    const char *step; /* "verify", "deep", "restore" */
    double t0;        /* time_mono() when the step began */
};
void backup_progress_tick(void *arg, const struct backup_scan *s);

/* ---- feeding a dump to psql (restore.c; used by verify.c's --deep) ---- */

struct backup_psql_feed {
    const struct url *url; /* the database psql connects to */
    int server_major;      /* which psql (pgtool_find) */
    const char *priv_dir;  /* where the private passfile directory goes */
    const char *prologue;  /* SQL sent before the dump; may be NULL */
    /*
     * SQL sent after the dump (restore: "COMMIT"), only when the whole file
     * decoded and hashed to expect_sha256; may be NULL.
     */
    const char *epilogue;
    const char *expect_sha256; /* may be NULL: not compared */
    volatile int *cancel;
    void (*tick)(void *arg, const struct backup_scan *s); /* may be NULL */
    void *tick_arg;
};

/*
 * Run psql -X -q -v ON_ERROR_STOP=1 on f->url (connection through PG*
 * variables and a private passfile, never argv), and feed it the prologue,
 * the dump decompressed from path as it is read (never written out), and
 * the epilogue.  When the file does not decode, does not hash to
 * expect_sha256, or cancel is set, psql is killed before it gets the
 * epilogue (an open transaction is then rolled back by the server).
 * Errors: -ERR_VERIFY (the file; nothing after the damage was sent),
 * -ERR_BACKUP (psql failed: its first error lines), -ERR_INTERNAL.
 */
int backup_psql_feed_file(const struct backup_psql_feed *f, const char *path, struct err *e);

#endif
