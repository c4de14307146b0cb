/*
 * rotate — rotation and pruning of BACKUP_DIR (rotate.c).
 */
#ifndef CITAPLANNER_BACKUP_ROTATE_H
#define CITAPLANNER_BACKUP_ROTATE_H

#include <stdbool.h>

#include "backup/layout.h"
#include "common/err.h"
#include "config/config.h"

/* How many premigrate and prerestore backups rotation keeps. */
#define BACKUP_KEEP_SPECIAL 3

/* How many backups of each tier rotation keeps, from cfg (premigrate and
 * prerestore: BACKUP_KEEP_SPECIAL). */
void backup_keep_from_config(const struct config *cfg, int keep[BACKUP_TIER_COUNT]);

/*
 * Rotation: in each tier keep the newest keep[tier] data files by the
 * timestamp in their names, and delete the older ones (data file first,
 * then its sidecars, so that a final-named data file never lacks them).
 * Only names that match the pattern are considered; the files named in
 * protect (paths as returned in backup_result.files) are never deleted.
 * dry_run: delete nothing.  victims (may be NULL; release with
 * backup_list_release) gets what was (or would be) deleted.  Each deletion is
 * logged.  Call with the lock held.
 */
int backup_rotate(const char *dir, const int keep[BACKUP_TIER_COUNT], const char *const *protect,
                  int nprotect, bool dry_run, struct backup_list *victims, struct err *e);

/*
 * `backup prune`: prepare dir, open the log, take the lock, remove stale
 * files, rotate with cfg's keep counts, log the summary.  Same victims and
 * dry_run as backup_rotate.
 */
int backup_prune(const struct config *cfg, bool dry_run, struct backup_list *victims,
                 struct err *e);

/*
 * Is this backup good, for rotation (which never deletes the newest good one
 * of a tier)?  Ours: its manifest, sidecar and size agree (verified when it
 * was written); another tool's: a quick verification of its content.
 */
bool backup_entry_good(const struct backup_entry *it);

/*
 * Log the state of dir: backups per tier, bytes they use (a hard-linked file
 * counted once) and the free space left (rotate.c).
 */
void backup_log_summary(const char *dir);

#endif
