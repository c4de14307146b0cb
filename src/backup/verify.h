/*
 * verify — is this backup whole? (verify.c)
 */
#ifndef CITAPLANNER_BACKUP_VERIFY_H
#define CITAPLANNER_BACKUP_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "backup/layout.h"
#include "backup/take.h"
#include "backup/manifest.h"
#include "common/err.h"
#include "common/url.h"
#include "common/util.h"

/* ---- verifying and restoring (verify.c, restore.c) ---- */

/*
 * Verification of one backup file (SPEC §6 "Verifying"), in one pass over
 * its bytes: SHA-256 and the gzip decoder read the same buffers, every
 * member's CRC-32 and length are checked, the stream must end exactly at the
 * end of the file (no truncation, no trailing bytes), and the content must
 * be complete: a PostgreSQL dump's header and closing line, or a SQLite
 * file's header and PRAGMA integrity_check (on a decompressed temporary
 * copy, 0600, removed afterwards).  Then the .sha256 sidecar ("HEX  NAME")
 * and the manifest (.json: size, hash, uncompressed size) must agree.
 * Memory is bounded whatever the file's size.
 *
 * deep: also restore the backup into a scratch database and compare every
 * table's row count with the manifest.  PostgreSQL: a database
 * citaplanner_verify_<random> created on db's server (template0) and dropped
 * afterwards, whatever happened; SQLite: the decompressed copy itself.
 */
struct backup_verify_opts {
    const struct url *db; /* --deep on PostgreSQL: the server for the scratch database */
    bool deep;
    /*
     * Where temporary files go (the decompressed SQLite copy, the private
     * passfile directory): NULL = the backup's own directory when writable,
     * else backup_tmp_dir() (TMPDIR, or /tmp).
     */
    const char *tmp_dir;
    /*
     * SQLite backups: keep the decompressed, integrity-checked copy and hand
     * its path over in result.sqlite_copy (restore uses it) instead of
     * removing it.
     */
    bool keep_copy;
    volatile int *cancel; /* may be NULL; nonzero stops with ERR_VERIFY "cancelled" */
    /* May be NULL.  step "verify" or "deep"; raw_bytes decompressed, gz_bytes read. */
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
    /*
     * An encrypted (.age) backup: the age identity file that decrypts it;
     * NULL = none (callers pass BACKUP_DECRYPT_IDENTITY).  Without one, only the hash, the
     * size and the sidecars of the encrypted file are checked.
     */
    const char *identity;
    /* May be NULL: also handed the decompressed bytes (backup_schema_sink). */
    int (*content_sink)(void *arg, const void *p, size_t n, struct err *e);
    void *content_arg;
};

struct backup_verify_result {
    enum backup_format format; /* from the content (or the name when undecodable) */
    uint64_t gz_bytes;         /* bytes of the file read */
    uint64_t raw_bytes;        /* decompressed bytes */
    int members;               /* gzip members decoded */
    char sha256[65];           /* of the whole file ("" when unreadable) */
    bool has_manifest;         /* m was loaded */
    struct backup_manifest m;  /* the manifest, when has_manifest (or no_manifest) */
    /* No .json: made by another tool, verified by its content; m is made up
     * (backup_manifest_synthesize), its row counts unknown unless deep. */
    bool no_manifest;
    bool deep_done; /* the deep check ran and passed */
    double seconds;
    /* keep_copy and a good SQLite backup: the copy; the caller removes it and frees. */
    char *sqlite_copy;
    char *sqlite_copy_record; /* its record (runtime.h), forgotten by the release */
    /* An encrypted backup: decrypted and checked (identity given). */
    bool decrypted;
    /* An encrypted backup, decrypted: SHA-256 of the gzip data inside ("" otherwise). */
    char inner_sha256[65];
};

/*
 * Verify path.  Returns 0 when every check passed; -ERR_VERIFY when the
 * backup is damaged or incomplete, e's message giving every reason found
 * ("; "-separated); other negative codes when the check itself could not
 * run (--deep: ERR_DB_CONNECT and the like).  r is filled as far as the
 * checks got, and released with backup_verify_result_release (also on
 * failure).  Reads the file only; never modifies or deletes it.
 */
int backup_verify_file(const struct backup_verify_opts *o, const char *path,
                       struct backup_verify_result *r, struct err *e);
void backup_verify_result_release(struct backup_verify_result *r);

/*
 * Compare the schema objects a manifest records (want) with those a restored
 * database has (got; both sorted, db_schema_objects): each difference, the
 * first five of each kind named, becomes a reason in why.
 */
void backup_schema_compare(char *const *want, int nwant, char *const *got, int ngot,
                           struct buf *why);

#endif
