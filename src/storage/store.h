/*
 * store — one interface in front of every place backup files are kept
 * (store.c): BACKUP_DIR and BACKUP_MIRROR_DIR are two stores of the
 * directory kind (dir.c), BACKUP_S3_URL one of the S3 kind (s3.c).  A store
 * holds files under names relative to its root ("daily/<name>.gz"); what
 * goes where, rotation and lag are the policy of its user
 * (backup/take.c, backup/remote.c), which reaches every store the same way.
 *
 * Each kind opens its store from its own plain options (dir.h, s3.h);
 * storage_close releases any of them.
 */
#ifndef CITAPLANNER_STORAGE_STORE_H
#define CITAPLANNER_STORAGE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The sources are the caller's temporary files, which the store may take
 * over (a directory store renames them into place when they are on its file
 * system, rather than copying them).  Whatever remains of them afterwards
 * is still the caller's to remove.
 */
#define STORAGE_PUT_MOVE 1u

/* What a kind of store does; only store.c and the kinds use it. */
struct storage_store_ops {
    int (*put)(void *impl, const char *const src[], const char *const name[], int n, unsigned flags,
               const char *expect_sha, int64_t expect_size, char **where, struct err *e);
    int (*has)(void *impl, const char *name, int64_t size); /* NULL: cannot tell cheaply */
    int (*get)(void *impl, const char *name, int fd, char sha[65], uint64_t *bytes, struct err *e);
    int (*remove)(void *impl, const char *name, struct err *e);
    int (*list)(void *impl, const char *prefix, char ***names, int *n, struct err *e);
    void (*close)(void *impl);
};

struct storage_store;

/*
 * For the kinds: a store of ops around impl (closed with ops->close), where
 * naming it in messages (copied; never a secret).  Caller frees with
 * storage_close.
 */
struct storage_store *storage_store_new(const struct storage_store_ops *ops, void *impl,
                                        const char *where);

/* Release the store (NULL is accepted). */
void storage_close(struct storage_store *s);

/* Where the store is, for messages: the directory, "s3://BUCKET/PREFIX".  Borrowed. */
const char *storage_where(const struct storage_store *s);

/*
 * Put n files into the store: src[i] (local paths) under name[i], all in
 * one directory of the store; src[0] is the data file, the others its
 * sidecars.  The copy of the data file is checked against expect_sha (hex
 * SHA-256) and expect_size before it is committed (a source taken over
 * without a copy, STORAGE_PUT_MOVE, against its size: its bytes are the
 * ones its writer hashed); the sidecars are
 * committed first and the data file last, so that a data file found under
 * its name has its sidecars.  On failure nothing new stands under the
 * data file's name and no temporary copy is left.  *where (caller frees):
 * the data file's location, as the store names it (a path, an s3:// URL).
 * flags: STORAGE_PUT_MOVE or 0.  Errors: -ERR_BACKUP (-ERR_NO_SPACE)
 * naming the file.
 */
int storage_put(struct storage_store *s, const char *const src[], const char *const name[], int n,
                unsigned flags, const char *expect_sha, int64_t expect_size, char **where,
                struct err *e);

/*
 * Does the store hold name, of size bytes?  1 yes, 0 no, -1 the store
 * cannot tell without a request per file (S3): the caller trusts its own
 * record.
 */
int storage_has(struct storage_store *s, const char *name, int64_t size);

/* Read name into fd (-1: only hashed); its SHA-256 (hex) and size (may be NULL). */
int storage_get(struct storage_store *s, const char *name, int fd, char sha[65], uint64_t *bytes,
                struct err *e);

/* Delete name; a name the store does not hold is not an error. */
int storage_delete(struct storage_store *s, const char *name, struct err *e);

/*
 * Every name under prefix ("" for all, "daily/" for a directory), relative
 * to the root, in no particular order; temporary copies are not listed.
 * Caller frees with storage_list_free.
 */
int storage_list(struct storage_store *s, const char *prefix, char ***names, int *n, struct err *e);
void storage_list_free(char **names, int n);

#endif
