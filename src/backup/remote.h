/*
 * remote — the copies off the machine: the policy (remote.c); the stores
 * are in src/storage/.
 */
#ifndef CITAPLANNER_BACKUP_REMOTE_H
#define CITAPLANNER_BACKUP_REMOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "config/config.h"
#include "storage/s3.h"

/* The options of the S3 store from cfg's BACKUP_S3_* and AWS_* settings. */
void backup_s3_options(const struct config *cfg, struct storage_s3_options *o);

/* ---- copies off the machine (remote.c; issue 10) ---- */

/*
 * BACKUP_MIRROR_DIR: a second directory (typically another disk or a network
 * mount) with BACKUP_DIR's layout.  After every successful backup, each
 * local backup that has no verified copy there yet is copied (data file,
 * .sha256, .json; temporary names, then the data file renamed last, as
 * locally), the copy is re-read and its SHA-256 compared with the local
 * .sha256, and the mirror is rotated with the same keep counts.  The local
 * manifest then records the copy: "locations": {"mirror": {"path": "…",
 * "copied_at": "…Z"}}.  A mirror that fails is logged and alerted
 * ("backup_remote_failed") and never fails the backup; what it misses is
 * copied on the next run.
 */

/*
 * Bring every configured remote up to date with BACKUP_DIR (call with the
 * lock held).  *lagging (may be NULL) gets how many local backups still
 * lack a copy afterwards.  Returns 0 when every remote is up to date (or
 * none is configured), -1 when one failed (already logged and alerted).
 */
int backup_remote_sync(const struct config *cfg, int *lagging);

/* Where one backup (the data file path in BACKUP_DIR) has been copied. */
struct backup_locations {
    bool mirror; /* a verified copy in BACKUP_MIRROR_DIR */
    bool s3;     /* a verified copy under BACKUP_S3_URL */
};

/* Read the locations the manifest path.json records (all false when none). */
void backup_locations_load(const char *data_path, struct backup_locations *out);

/* The remotes' names, as in manifests, /metrics and doctor: "mirror", "s3". */
#define BACKUP_REMOTE_COUNT 2
extern const char *const backup_remote_names[BACKUP_REMOTE_COUNT];

/*
 * Remote lag for doctor and /metrics: how many local backups lack a copy
 * in the remote named (one of backup_remote_names), and the age in seconds
 * (by the file's time) of the oldest of them (0 when none).  Returns false
 * when that remote is not configured.
 */
bool backup_remote_lag(const struct config *cfg, const char *remote, time_t now, int *missing,
                       int64_t *oldest_age);

/* Where the remote named is, for messages ("s3://bucket/prefix", the mirror's path). */
const char *backup_remote_where(const struct config *cfg, const char *remote);

/*
 * S3 copies (BACKUP_S3_URL "s3://BUCKET/PREFIX", BACKUP_S3_ENDPOINT,
 * BACKUP_S3_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): objects
 * PREFIX/<tier>/<name> (and .sha256, .json), uploaded through libcurl with
 * AWS Signature V4 (CURLOPT_AWS_SIGV4), streamed from the file (bounded
 * memory) with the file's SHA-256 as the signed x-amz-content-sha256, read
 * back and hashed, and rotated as locally.  Single PUTs: objects up to 5 GB.
 *
 * Fetch a remote backup named "s3://BUCKET/KEY" (its data file) into a new
 * private directory under tmp_dir (0700): the data file and its .sha256 and
 * .json, under their own names.  *dir and *path: caller removes with
 * backup_remote_fetch_cleanup.  -ERR_BACKUP when the download fails,
 * -ERR_CONFIG when S3 is not configured.
 */
bool backup_remote_is_url(const char *s);
int backup_remote_fetch(const struct config *cfg, const char *url, const char *tmp_dir, char **dir,
                        char **path, struct err *e);
void backup_remote_fetch_cleanup(char *dir, char *path);

#endif
