/*
 * lock — BACKUP_DIR's lock (lock.c).
 */
#ifndef CITAPLANNER_BACKUP_LOCK_H
#define CITAPLANNER_BACKUP_LOCK_H

#include "common/err.h"

/*
 * The exclusive lock that serializes backups, restores and pruning:
 * BACKUP_DIR/.lock, flock(LOCK_EX|LOCK_NB), the holder's pid written into it.
 * dir must exist.  When another process holds it: -ERR_LOCKED "another
 * backup or restore is running (pid N)".  Released by backup_lock_release
 * (accepts NULL) or by the process's death.  *out: caller frees with
 * backup_lock_release.
 */
struct backup_lock;
int backup_lock_acquire(const char *dir, struct backup_lock **out, struct err *e);
void backup_lock_release(struct backup_lock *l);

#endif
