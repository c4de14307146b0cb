/*
 * sqlite_s3 — the SQLite archive copied to BACKUP_S3_URL (keys
 * PREFIX/wal-sqlite/GENERATION/FILE), in order as in the mirror
 * (sqlite_mirror.h): the snapshot, the segments, then the manifest, cut to
 * the segments already uploaded so that it never names a missing object.
 * S3 has no append: the manifest object is replaced after each upload.  The
 * PUT is signed with the file's SHA-256 (x-amz-content-sha256), which the
 * store checks.  A failure is logged and retried after a back-off, so that
 * a slow or absent store never holds up the local archive for long.
 */
#ifndef CITAPLANNER_ARCHIVE_SQLITE_S3_H
#define CITAPLANNER_ARCHIVE_SQLITE_S3_H

#include "archive/sqlite_wal.h"
#include "common/err.h"
#include "config/config.h"

struct archive_s3;

/* NULL when BACKUP_S3_URL is not set; *e filled (and NULL) when the options are wrong. */
struct archive_s3 *archive_s3_new(const struct config *cfg, struct err *e);
void archive_s3_free(struct archive_s3 *a);

void archive_s3_generation(struct archive_s3 *a, const char *gen_dir, const char *name);
void archive_s3_segment(struct archive_s3 *a, const struct wal_segment *s);
/* Upload what is pending (nothing while backing off after a failure).  -ERR_BACKUP. */
int archive_s3_sync(struct archive_s3 *a, struct err *e);

#endif
