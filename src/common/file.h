/*
 * file — replacing a small file atomically: the one way the state files
 * (.last_result.json, .last_verify.json, the stale-alert record) and the
 * rewritten sidecars and manifests are written.
 */
#ifndef CITAPLANNER_COMMON_FILE_H
#define CITAPLANNER_COMMON_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * Replace path with the n bytes at data: written under a temporary name in
 * the same directory (".<name>.tmp.<pid>", the pattern backup cleanup
 * removes after a crash), fsynced, given mode, renamed over path, and the
 * directory fsynced.  A crash leaves the old file or the new one, never a
 * part.  Errors: code (ERR_NO_SPACE when the disk is full) naming the
 * file; the temporary file is removed.
 */
int file_write_atomic(const char *path, const void *data, size_t n, mode_t mode, int code,
                      struct err *e);

/*
 * Create path with the n bytes at data, as file_write_atomic does, unless
 * it exists: link() where file_write_atomic renames, so that of two
 * processes creating it at once one wins and the other keeps its file.
 * Returns 0 created, 1 path existed (left as it was), or -code.
 */
int file_create_atomic(const char *path, const void *data, size_t n, mode_t mode, int code,
                       struct err *e);

/* fsync the directory dir (so that renames in it survive a power loss).  Errors: code. */
int file_fsync_dir(const char *dir, int code, struct err *e);

/* Copy src into a new file dst (0600, must not exist), fsynced; removed on failure.  Errors: code.
 */
int file_copy(const char *src, const char *dst, int code, struct err *e);

#endif
