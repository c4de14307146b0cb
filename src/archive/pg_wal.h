/*
 * pg_wal — PostgreSQL's archive as files: BACKUP_DIR/wal/, where
 * pg_receivewal writes and the archiver files what it completed.
 *
 * Layout of BACKUP_DIR/wal/:
 *   TTTTTTTTXXXXXXXXYYYYYYYY.partial  the segment pg_receivewal is writing
 *                                    (fsynced after every write: --synchronous)
 *   TTTTTTTTXXXXXXXXYYYYYYYY          a completed segment not yet filed
 *   TTTTTTTTXXXXXXXXYYYYYYYY.gz       a filed segment (one gzip member, so
 *                                    that pg_receivewal resumes after it);
 *                                    .gz.age when BACKUP_ENCRYPT_RECIPIENT is
 *                                    set (the SHA-256 is the stored file's:
 *                                    the chain verifies without the key)
 *   TTTTTTTT.history                  a timeline's history, kept as is
 *   manifest                          one line per filed file, replaced
 *                                    atomically after the file is durable:
 *     segment NAME SHA256 GZSIZE RAWSIZE TIME
 *     history NAME SHA256 SIZE TIME
 * TIME is when it was filed (seconds since the epoch).  A segment is
 * removed from the directory only once its .gz and its line are durable.
 */
#ifndef CITAPLANNER_ARCHIVE_PG_WAL_H
#define CITAPLANNER_ARCHIVE_PG_WAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/hash.h"

#define ARCHIVE_PG_SUBDIR "wal"
#define ARCHIVE_PG_SLOT   "citaplanner_archive"
#define PG_WAL_NAME_LEN   24

struct pg_wal_entry {
    bool history;
    char name[32]; /* the segment's 24 hex digits, or TTTTTTTT.history */
    char sha256[HASH_SHA256_HEX];
    uint64_t size;    /* as stored (.gz) */
    uint64_t rawsize; /* the segment's size (wal_segment_size) */
    time_t time;
};

struct pg_wal_manifest {
    struct pg_wal_entry *v;
    int n, cap;
};

/* Is name a segment's (24 upper-case hex digits, nothing after)? */
bool pg_wal_is_segment(const char *name);
bool pg_wal_is_history(const char *name);

/* A segment name's timeline and its number (segno) for segments of segsize bytes. */
void pg_wal_parse(const char *name, uint32_t *tli, uint64_t *segno, uint64_t segsize);
/* The name of segment segno of timeline tli into out (25 bytes). */
void pg_wal_name(char out[32], uint32_t tli, uint64_t segno, uint64_t segsize);

/* Read dir/manifest (missing: empty).  -ERR_VERIFY for a malformed line.  Release with _release. */
int pg_wal_manifest_load(const char *dir, struct pg_wal_manifest *m, struct err *e);
void pg_wal_manifest_release(struct pg_wal_manifest *m);
/* Append a copy of x and replace dir/manifest atomically. */
int pg_wal_manifest_add(const char *dir, struct pg_wal_manifest *m, const struct pg_wal_entry *x,
                        struct err *e);
/*
 * The file a filed entry is stored as in dir (out: 48 bytes): NAME.gz.age
 * when it was encrypted (BACKUP_ENCRYPT_RECIPIENT), else NAME.gz; a history
 * file as its name.
 */
void pg_wal_stored(const char *dir, const struct pg_wal_entry *x, char out[48]);
/* The entry named name, or NULL (borrowed). */
const struct pg_wal_entry *pg_wal_manifest_find(const struct pg_wal_manifest *m, const char *name);

/*
 * File what pg_receivewal completed in dir: every whole segment (in order)
 * and history file not yet in m is compressed (segments; then encrypted to
 * recipient with age when not NULL: BACKUP_ENCRYPT_RECIPIENT) and checksummed,
 * its line added, then the raw segment removed.  *filed: how many.
 */
int pg_wal_file_completed(const char *dir, struct pg_wal_manifest *m, const char *recipient,
                          int *filed, struct err *e);

/*
 * Remove the segments whose names sort before first (older timelines, or
 * older on its own): their lines first (the manifest replaced atomically),
 * then their files.  History files are kept.  *removed: how many.
 */
int pg_wal_remove_before(const char *dir, const char *first, int *removed, struct err *e);

/*
 * The chain of segments of timeline-and-name order from first (NULL: the
 * oldest) up to last (NULL: the newest, the .partial included): every
 * filed segment's checksum, and no number missing within a timeline.
 * Returns 0, or -ERR_VERIFY naming the first missing or damaged segment;
 * *checked counts the segments read; *newest (may be NULL; 32 bytes) gets
 * the newest segment or partial reached.
 */
int pg_wal_check_chain(const char *dir, const char *first, const char *last, int *checked,
                       char *newest, struct err *e);

/*
 * pg_wal_check_chain from first to the newest without reading the segments:
 * no number missing, every filed segment present with its recorded size.
 * Cheap enough for every load of a status page; `backup verify` hashes.
 */
int pg_wal_check_names(const char *dir, const char *first, int *checked, char *newest,
                       struct err *e);

/*
 * Remove the .partial segments that hold only zeros: pg_receivewal pads a
 * new segment with zeros before it writes any WAL into it, and refuses to
 * start on one cut short in that padding ("has N bytes, should be 0 or
 * 16777216") as a kill -9 or a crash can leave it.  Such a file holds no
 * WAL, so nothing is lost.  Call it only while no pg_receivewal runs on
 * dir.  Returns how many were removed.
 */
int pg_wal_drop_unwritten(const char *dir);

/*
 * Where pg_receivewal stands in dir, as text to compare: the newest
 * .partial's name and modification time ("" when none).  It changes when
 * pg_receivewal writes WAL (--synchronous: every write reaches the file).
 */
#define PG_WAL_PROGRESS_MAX 96
void pg_wal_progress(const char *dir, char out[PG_WAL_PROGRESS_MAX]);

/*
 * wal-fetch: put the segment or history file name from the archive in dir
 * into path (decompressed, its checksum verified first; a .partial when
 * that is all there is).  Returns 0, 1 when the archive does not have it
 * (the end of recovery), or -ERR_VERIFY when it is damaged or missing with
 * newer segments of its timeline present (a gap).  An encrypted segment is
 * decrypted with identity (BACKUP_DECRYPT_IDENTITY); without it, -ERR_CONFIG
 * saying so.
 */
int pg_wal_fetch(const char *dir, const char *name, const char *path, const char *identity,
                 struct err *e);

#endif
