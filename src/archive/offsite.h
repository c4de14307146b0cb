/*
 * offsite — the copier both archives (SQLite's and PostgreSQL's) use to put
 * their files off the machine: BACKUP_MIRROR_DIR through storage/dir.c
 * (temporary name, fsync, SHA-256 re-read, rename: a file under its final
 * name is complete) and BACKUP_S3_URL through storage/s3.c (an object is
 * visible only once its PUT completed).  The order is the caller's: data
 * files first, then the manifest that names them, cut to what was copied
 * (offsite_manifest_cut), so that no copy's manifest ever names a file the
 * copy lacks.
 */
#ifndef CITAPLANNER_ARCHIVE_OFFSITE_H
#define CITAPLANNER_ARCHIVE_OFFSITE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "config/config.h"
#include "storage/s3.h"

/* After a failure, S3 is tried again this much later (a slow store never holds up the archive). */
#define OFFSITE_S3_BACKOFF_S 30

/*
 * The S3 client of BACKUP_S3_URL and its options.  0 with *out NULL when
 * BACKUP_S3_URL is unset; -ERR_CONFIG naming what is wrong.  Caller frees
 * with storage_s3_close.
 */
int offsite_s3_open(const struct config *cfg, struct storage_s3 **out, struct err *e);

/* Create root/rel and each missing directory of rel under root (0700).  -ERR_BACKUP. */
int offsite_dir_make(const char *root, const char *rel, struct err *e);

/*
 * Copy src into the directory dst as name, unless dst/name is there with
 * size bytes already (always: replace it).  sha: src's SHA-256, or NULL to
 * read it here.  -ERR_BACKUP / -ERR_NO_SPACE.
 */
int offsite_dir_put(const char *dst, const char *src, const char *name, const char *sha,
                    uint64_t size, bool always, struct err *e);

/* Remove what a copier killed mid-copy left in dir under a temporary name (".NAME.tmp.PID"). */
void offsite_dir_clean(const char *dir);

/*
 * Write into tmp the lines of the manifest src from its start up to (not
 * including) the first line for which stop(line, arg) is true.  -ERR_BACKUP.
 */
int offsite_manifest_cut(const char *src, const char *tmp,
                         bool (*stop)(const char *line, void *arg), void *arg, struct err *e);

#endif
