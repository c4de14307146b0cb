/*
 * dir — a directory store (dir.c): a tree with BACKUP_DIR's layout
 * (<dir>/<tier>/<name> and its sidecars), on another disk or a network
 * mount.  The store of BACKUP_MIRROR_DIR; BACKUP_DIR itself is written by
 * backup/take.c with the same commit rule.  The policy (what goes where,
 * rotation, lag) is backup/remote.c's.
 */
#ifndef CITAPLANNER_STORAGE_DIR_H
#define CITAPLANNER_STORAGE_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Put a set of files into the directory dir under their names: src[i] as
 * dir/name[i], each first copied under a temporary name (".<name>.tmp.<pid>")
 * and fsynced.  The first is the data file: its copy is re-read and its
 * SHA-256 and size compared with expect_sha and expect_size before anything
 * is renamed; then the others are renamed into place and the data file last
 * (a final-named data file is complete), and dir is fsynced.  *dst (caller
 * frees): the data file's path in dir.  -ERR_BACKUP (-ERR_NO_SPACE) naming
 * the file; nothing is left under a temporary name.
 */
int storage_dir_put(const char *dir, const char *const src[], const char *const name[], int n,
                    const char *expect_sha, int64_t expect_size, char **dst, struct err *e);

/* Does dir/name exist as a regular file of size bytes? */
bool storage_dir_has(const char *dir, const char *name, int64_t size);

#endif
