/*
 * sqlite_wal — SQLite's write-ahead log read as a file (the format of
 * https://sqlite.org/fileformat2.html#walformat) and the archive's files:
 * the generation's manifest and its compressed segments of WAL frames.
 *
 * A WAL is a 32-byte header (magic, version, page size, checkpoint number,
 * salt-1, salt-2, checksum) and frames of a 24-byte header (page number,
 * the database size in pages for a commit frame or 0, the two salts, the
 * running checksum) and one page.  A frame is valid when its salts are the
 * header's and its checksum continues the previous one's; salt-1 grows by
 * one each time the log restarts.
 *
 * Layout: BACKUP_DIR/wal-sqlite/GENERATION/ holds snapshot.db.gz (the
 * database when the generation began), NNNNNNNN.wal.gz (the frames of one
 * or more whole transactions, gzip) and manifest, one line per record,
 * appended and fsynced after the file it names is durable:
 *   snapshot TIME_MS FILE SHA256 SIZE PAGESIZE SALT1 SALT2 SALTS_KNOWN POS CK0 CK1
 *   segment SEQ TIME_MS FILE SHA256 SIZE NFRAMES SALT1 SALT2 START END SCK0 SCK1 ECK0 ECK1 BE
 * A line without its newline (a crash while appending) is ignored.
 */
#ifndef CITAPLANNER_ARCHIVE_SQLITE_WAL_H
#define CITAPLANNER_ARCHIVE_SQLITE_WAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hash.h"

#define WAL_HDR               32
#define WAL_FRAME_HDR         24
#define ARCHIVE_SQLITE_SUBDIR "wal-sqlite"

struct wal_hdr {
    bool be; /* checksums of big-endian words (magic 0x377f0683) */
    uint32_t pagesize;
    uint32_t salt1, salt2;
    uint32_t ck0, ck1; /* the header's checksum: where the frames' chain starts */
};

/* The header at the start of buf[0..n): 0, or -1 when it is not a valid WAL header. */
int wal_hdr_parse(const unsigned char *buf, size_t n, struct wal_hdr *h);

/* SQLite's WAL checksum of n bytes (n a multiple of 8) continuing (*s0, *s1). */
void wal_checksum(bool be, const unsigned char *p, size_t n, uint32_t *s0, uint32_t *s1);

/*
 * Check the frame at f (24-byte header and pagesize bytes) against salts and
 * the running checksum (*s0, *s1), which it advances.  Returns true when
 * valid; *commit (may be NULL) is its database size in pages, 0 for a frame
 * that does not commit.
 */
bool wal_frame_check(const struct wal_hdr *h, const unsigned char *f, uint32_t *s0, uint32_t *s1,
                     uint32_t *commit);

/* The byte offset of frame i (0-based) in a WAL of this page size. */
static inline uint64_t wal_frame_offset(uint32_t pagesize, uint64_t i)
{
    return WAL_HDR + i * (uint64_t)(WAL_FRAME_HDR + pagesize);
}

struct wal_segment {
    uint64_t seq;
    int64_t time_ms; /* when the archiver shipped it: at most its interval after the commits */
    char file[32];
    char sha256[HASH_SHA256_HEX];
    uint64_t size; /* compressed */
    uint64_t nframes;
    uint32_t salt1, salt2;
    uint64_t start, end; /* frame indexes in that WAL: [start, end) */
    uint32_t sck0, sck1, eck0, eck1;
    bool be;
};

struct wal_manifest {
    int64_t snapshot_ms;
    char snapshot_file[32];
    char snapshot_sha256[HASH_SHA256_HEX];
    uint64_t snapshot_size;
    uint32_t pagesize;
    uint32_t salt1, salt2;
    bool salts_known;
    uint64_t pos;
    uint32_t ck0, ck1;
    struct wal_segment *segs;
    int nsegs;
    bool torn; /* the last line had no newline (ignored) */
};

/* Read dir/manifest.  -ERR_VERIFY naming it when missing or malformed.  Release with _release. */
int wal_manifest_load(const char *dir, struct wal_manifest *m, struct err *e);
void wal_manifest_release(struct wal_manifest *m);

/* The snapshot line of a new manifest, written atomically. */
int wal_manifest_create(const char *dir, const struct wal_manifest *m, struct err *e);
/* Append one segment line and fsync. */
int wal_manifest_append(const char *dir, const struct wal_segment *s, struct err *e);

/*
 * Compress bytes [off, off + len) of fd into a new gzip file path (written
 * under a temporary name, fsynced, renamed, directory fsynced); its SHA-256
 * and size into sha/size.  With recipient (BACKUP_ENCRYPT_RECIPIENT; NULL =
 * none) the gzip stream goes through `age` first: name path "….age".
 * -ERR_BACKUP / -ERR_NO_SPACE naming path.
 */
int wal_gz_write(int fd, uint64_t off, uint64_t len, const char *path, const char *recipient,
                 char sha[HASH_SHA256_HEX], uint64_t *size, struct err *e);

/* What the frames copied by wal_gz_frames must be: read with h, the chain from (c0, c1) to (e0,
 * e1). */
struct wal_chain {
    const struct wal_hdr *h;
    uint32_t c0, c1, e0, e1;
};

/*
 * wal_gz_write of frames [start, end) of the WAL fd, each frame checked as
 * it is copied against chain: what is written is what was validated, even
 * when a writer restarts the log under the copy.  Returns 1 (nothing
 * written, *bad the first frame that no longer follows) when the copied
 * frames do not follow chain.
 */
int wal_gz_frames(int fd, uint64_t start, uint64_t end, const struct wal_chain *chain,
                  const char *path, const char *recipient, char sha[HASH_SHA256_HEX],
                  uint64_t *size, uint64_t *bad, struct err *e);

/* An archive file opened for reading: gzip, decrypted on the way when it ends in ".age". */
struct wal_in {
    void *gz;  /* gzFile */
    void *age; /* struct backup_age *, NULL when not encrypted */
};
/*
 * Open path; identity (BACKUP_DECRYPT_IDENTITY, may be NULL) decrypts a
 * ".age" file.  -ERR_CONFIG for an encrypted file without identity,
 * -ERR_VERIFY when unreadable.  Close with wal_in_close (ok: read to its end;
 * otherwise age is stopped), which checks age's exit status.
 */
int wal_in_open(const char *path, const char *identity, struct wal_in *in, struct err *e);
int wal_in_close(struct wal_in *in, bool ok, struct err *e);

/* Decompress (and decrypt) the archive file src into the new file dst (0600).  -ERR_VERIFY naming
 * src. */
int wal_gz_extract(const char *src, const char *dst, const char *identity, struct err *e);

/* "YYYY-MM-DD HH:MM:SS.mmm UTC" of a time in milliseconds. */
void wal_fmt_ms(int64_t ms, char out[40]);
int64_t wal_now_ms(void);

#endif
