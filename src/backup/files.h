/*
 * files — writing files under BACKUP_DIR (files.c): whole writes, fsync of a
 * directory, temporary names, copies, BACKUP_DIR prepared and cleaned of
 * what a crashed run left, the run's log file, sizes in words.
 */
#ifndef CITAPLANNER_BACKUP_FILES_H
#define CITAPLANNER_BACKUP_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

/*
 * Write all n bytes to fd.  ENOSPC/EDQUOT -> -ERR_NO_SPACE, other failures
 * -ERR_BACKUP; both name what (a path).
 */
int backup_write_all(int fd, const void *p, size_t n, const char *what, struct err *e);

/*
 * Why creating or writing path failed with ENOSPC, in words: "no free inodes
 * left on its filesystem (…)" when its blocks remain but its inodes are
 * gone, else strerror(ENOSPC).  Static text.
 */
const char *backup_enospc_why(const char *path);

/* fsync a directory, so that the renames in it survive a power loss. */
int backup_fsync_dir(const char *dir, struct err *e);

/*
 * The temporary name for final name base in dir: "dir/.<base>.tmp.<pid>".
 * Caller frees.
 */
char *backup_tmp_path(const char *dir, const char *base);

/*
 * Create path (which must not exist, 0600), write data, fsync, close.  On
 * failure the file is removed.
 */
int backup_write_new_file(const char *path, const void *data, size_t n, struct err *e);

/* Copy src into a new file dst (0600), fsynced; removed on failure. */
int backup_copy_file(const char *src, const char *dst, struct err *e);

/*
 * Where temporary files go when no better place is given: the directory
 * backup_tmp_dir_set chose (TMPDIR, config's tmp_dir), else /tmp.  Set once
 * at start (cmd.c), before any thread; dir is borrowed.
 */
void backup_tmp_dir_set(const char *dir);
const char *backup_tmp_dir(void);

/* The sub-directories backup_dir_prepare makes (the tiers, then logs), NULL-terminated. */
extern const char *const backup_subdirs[];

/* "1.5 MB", "320.0 kB", "12 B" (decimal units) into out; returns out. */
const char *backup_fmt_bytes(char out[32], uint64_t n);

/*
 * Create dir and its tier and logs sub-directories where missing (0700) and
 * check that dir is a writable directory.  -ERR_BACKUP naming the path.
 */
int backup_dir_prepare(const char *dir, struct err *e);

/*
 * The run's log file, logs/backup_YYYYMMDD.log (date of now, local time),
 * opened for appending (0600) and tee'd (log_set_tee) from the calling
 * thread until backup_log_close (accepts NULL).  dir/logs must exist.
 */
struct backup_log;
int backup_log_open(const char *dir, time_t now, struct backup_log **out, struct err *e);
void backup_log_close(struct backup_log *l);

/*
 * Remove what a crashed run left under dir: temporary files ".*.tmp.<pid>"
 * (and the private passfile directory) whose pid is no longer alive, and
 * sidecars whose data file is missing.  Each removal is logged.  Call with
 * the lock held.  *removed (may be NULL) gets how many entries went.
 */
int backup_cleanup_stale(const char *dir, int *removed, struct err *e);

#endif
