/*
 * pg_offsite — PostgreSQL's archive copied off the machine, to
 * BACKUP_MIRROR_DIR and to BACKUP_S3_URL (archive/offsite.h), in the layout
 * of BACKUP_DIR, so that either copy, put back as a BACKUP_DIR, restores:
 *   wal/NAME.gz[.age], wal/TTTTTTTT.history   each filed WAL file, in the
 *                                           manifest's order
 *   wal/manifest                            then the manifest, cut to the
 *                                           files copied (no gap, none missing)
 *   base/NAME/...                           each finished base backup: its
 *                                           files, base.json last
 * Only filed (completed) segments leave the machine: the .partial being
 * written stays local, so the recovery point off-site is the last completed
 * segment.  Files already there are not copied again: after a (re)start the
 * mirror is looked at file by file (a stat) and the bucket listed once; what
 * a copier killed mid-copy left under a temporary name in the mirror is
 * removed.  Nothing is removed off-site (the retention is local).
 * A failure is retried later: 5 s for the mirror, OFFSITE_S3_BACKOFF_S for S3.
 */
#ifndef CITAPLANNER_ARCHIVE_PG_OFFSITE_H
#define CITAPLANNER_ARCHIVE_PG_OFFSITE_H

#include "common/err.h"
#include "config/config.h"

struct pg_offsite;

/*
 * NULL with e clear when neither BACKUP_MIRROR_DIR nor BACKUP_S3_URL is set;
 * NULL with *e filled when the S3 options are wrong.  cfg is borrowed.
 * Free with pg_offsite_free.
 */
struct pg_offsite *pg_offsite_new(const struct config *cfg, struct err *e);
void pg_offsite_free(struct pg_offsite *o);

/*
 * Copy what is new since the last call (cheap when nothing changed: two
 * stats).  -ERR_BACKUP / -ERR_NO_SPACE with the first failure; what is
 * left is copied by a later call.
 */
int pg_offsite_sync(struct pg_offsite *o, struct err *e);

#endif
