/*
 * dir — a directory store (dir.c): a tree of files under a root
 * (<root>/<tier>/<name> and its sidecars, BACKUP_DIR's layout), on this
 * disk, another one or a network mount.  The store of BACKUP_DIR and of
 * BACKUP_MIRROR_DIR: two stores of this kind.  The policy (what goes where,
 * rotation, lag) is its users' (backup/take.c, backup/remote.c).
 *
 * The commit rule, for every put: each file is first written under a
 * temporary name in its final directory (".<name>.tmp.<pid>", what backup
 * cleanup removes after a crash), fsynced and made 0600; the data file is
 * checked; the sidecars are renamed to their final names, the data file
 * LAST, and the directory is fsynced.
 */
#ifndef CITAPLANNER_STORAGE_DIR_H
#define CITAPLANNER_STORAGE_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/store.h"

/* Where the store is.  Borrowed. */
struct storage_dir_options {
    const char *root; /* an existing directory: what holds it is the caller's to make */
};

/*
 * A store (store.h) of the directory o->root.  -ERR_CONFIG when root is
 * empty.  *out: caller frees with storage_close.
 *
 * Its put copies each source (file_copy) under its temporary name, or,
 * with STORAGE_PUT_MOVE, renames it there when it is on the same file
 * system; a copy of the data file is re-read and its SHA-256 and size
 * compared with the expected ones, a renamed one (the bytes its writer
 * hashed) its size.  Should a sidecar be in place and the data file not,
 * the sidecar is removed.  *where: the data file's path.  has: a regular
 * file of that size.
 */
int storage_dir_store_open(const struct storage_dir_options *o, struct storage_store **out,
                           struct err *e);

/*
 * The same put without a store, into the directory dir under the names
 * name[i] (no '/'): src[0] the data file, compared with expect_sha and
 * expect_size.  *dst (caller frees): the data file's path in dir.
 */
int storage_dir_put(const char *dir, const char *const src[], const char *const name[], int n,
                    const char *expect_sha, int64_t expect_size, char **dst, struct err *e);

/* Does dir/name exist as a regular file of size bytes? */
bool storage_dir_has(const char *dir, const char *name, int64_t size);

#endif
