/*
 * files — writing files under BACKUP_DIR (files.c): whole writes, fsync of a
 * directory, temporary names, copies, the run's log file.
 */
#ifndef CITAPLANNER_BACKUP_FILES_H
#define CITAPLANNER_BACKUP_FILES_H

#include <stddef.h>

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

/* The sub-directories backup_dir_prepare makes (the tiers, then logs), NULL-terminated. */
extern const char *const backup_subdirs[];

#endif
