/*
 * pg_base — the archive's base backups of a PostgreSQL database
 * (pg_basebackup), where a point-in-time restore begins.
 *
 * Layout: BACKUP_DIR/base/YYYYMMDDTHHMMSSZ/ holds base.tar.gz and
 * pg_wal.tar.gz (pg_basebackup -Ft -z -X stream), backup_manifest (its own,
 * checked with pg_verifybackup on a copy extracted once the backup is
 * taken) and base.json, written last (a directory without it is a backup
 * that did not finish, removed by the next take):
 *   {"format": 1, "started": EPOCH, "finished": EPOCH, "timeline": 1,
 *    "start_lsn": "0/2000028", "end_lsn": "0/2000138",
 *    "start_wal": "000000010000000000000002", "server_major": 15,
 *    "files": {"base.tar.gz": SHA256, "pg_wal.tar.gz": SHA256,
 *              "backup_manifest": SHA256},
 *    "row_counts": {"table": N, ...}, "check_lsn": "0/3000150"}
 * row_counts are read as the backup ends, in one snapshot with the WAL insert
 * position check_lsn: the state a restore up to check_lsn must show (backup
 * verify --check, pg_check.h).  With BACKUP_ENCRYPT_RECIPIENT set, the two
 * tars are encrypted with age once pg_verifybackup has passed, stored (and
 * named in "files") as base.tar.gz.age and pg_wal.tar.gz.age; backup_manifest
 * and base.json (names, sizes and checksums, no rows) stay in the clear.
 */
#ifndef CITAPLANNER_ARCHIVE_PG_BASE_H
#define CITAPLANNER_ARCHIVE_PG_BASE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/hash.h"
#include "config/config.h"

#define ARCHIVE_PG_BASE_SUBDIR "base"
#define PG_BASE_TAR            "base.tar.gz"
#define PG_BASE_WAL_TAR        "pg_wal.tar.gz"

struct pg_base {
    char *dir;  /* BACKUP_DIR/base/NAME */
    char *name; /* YYYYMMDDTHHMMSSZ */
    time_t started, finished;
    unsigned timeline;
    char start_lsn[32], end_lsn[32];
    char start_wal[32];
    char check_lsn[32]; /* row_counts are the state up to this position ("" = none) */
    int server_major;
    bool encrypted; /* the tars stored as .age (BACKUP_ENCRYPT_RECIPIENT) */
    char sha_base[HASH_SHA256_HEX], sha_wal[HASH_SHA256_HEX], sha_manifest[HASH_SHA256_HEX];
};

struct pg_base_list {
    struct pg_base *v; /* oldest first */
    int n;
};

/*
 * Take a base backup now (pg_basebackup of the server's major; PG_BASEBACKUP
 * overrides), verified with pg_verifybackup, then apply the retention
 * (pg_base_prune).  out (may be NULL) gets its description; release with
 * pg_base_release.  -ERR_BACKUP naming what failed; nothing of a failed
 * backup is left.
 */
int pg_base_take(const struct config *cfg, struct pg_base *out, struct err *e);

/* The name a file of b is stored as: name (PG_BASE_TAR, PG_BASE_WAL_TAR, "backup_manifest") + .age
 * when encrypted. */
const char *pg_base_file(const struct pg_base *b, const char *name);

/*
 * Decrypt the age file src into the new file dst (0600) with identity
 * (BACKUP_DECRYPT_IDENTITY).  -ERR_CONFIG naming the missing setting when
 * identity is NULL, -ERR_VERIFY when it does not decrypt src.
 */
int pg_base_decrypt(const char *src, const char *identity, const char *dst, struct err *e);

/* The finished base backups of backup_dir.  Release with pg_base_list_release. */
int pg_base_list_load(const char *backup_dir, struct pg_base_list *l, struct err *e);
void pg_base_list_release(struct pg_base_list *l);
void pg_base_release(struct pg_base *b);

/* 1 when a and b are the same LSN order: <0, 0, >0 as strcmp. */
int pg_lsn_cmp(const char *a, const char *b);

/*
 * Retention: keep the newest BACKUP_KEEP_WEEKLY base backups and the newest
 * of each of the last BACKUP_KEEP_MONTHLY months; remove the others, then
 * the WAL older than the oldest kept base, only when the chain from every
 * kept base is whole (otherwise nothing of the WAL is removed and the
 * reason is returned in *held, which the caller frees; NULL when none).
 * *removed_bases, *removed_wal: how many.
 */
int pg_base_prune(const struct config *cfg, int *removed_bases, int *removed_wal, char **held,
                  struct err *e);

/*
 * Extract base_tar into dir (created 0700 when missing) and wal_tar into
 * dir/pg_wal, with tar.  -ERR_BACKUP naming what failed.
 */
int pg_base_extract(const char *base_tar, const char *wal_tar, const char *dir, struct err *e);

/* Remove the directory tree path (lstat'ed, no link followed).  0 or -1 with errno. */
int pg_base_rmtree(const char *path);

#endif
