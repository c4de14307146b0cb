/*
 * encrypt — backups encrypted with age (encrypt.c).
 */
#ifndef CITAPLANNER_BACKUP_ENCRYPT_H
#define CITAPLANNER_BACKUP_ENCRYPT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* ---- encryption (encrypt.c; issue 10) ---- */

/*
 * With BACKUP_ENCRYPT_RECIPIENT set, a backup's gzip stream is piped through
 * `age -r RECIPIENT` (or `age -R FILE`) on its way to the data file, named
 * "<…>.sql.gz.age" / "<…>.sqlite.gz.age": no plaintext reaches BACKUP_DIR.
 * The .sha256 sidecar and the manifest's sha256 and gz_bytes describe the
 * encrypted file, so a quick verification needs no key; decrypting (deep
 * verify, restore) runs `age -d -i IDENTITY FILE` and reads its output as a
 * pipe.  By hand: age -d -i key.txt FILE.sql.gz.age | gunzip > FILE.sql
 */
#define BACKUP_ENC_EXT ".age"

/* Does name end with ".age"? */
bool backup_name_encrypted(const char *name);

/* The age binary: what backup_age_set_program chose, else "age" on PATH. */
const char *backup_age_program(void);

/*
 * Run path as age (CITAPLANNER_AGE, config's age; NULL or "": "age").
 * Called once at start (cmd.c), before any thread; path is borrowed and
 * outlives every run.
 */
void backup_age_set_program(const char *path);

/* A running age child process. */
struct backup_age;

/*
 * Start `age -r RECIPIENT` (a public key "age1…"/"ssh-…") or `age -R FILE`
 * (a recipients file) writing the ciphertext to out_fd (age gets a copy; the
 * caller keeps its own).  Write the plaintext into backup_age_fd(*out), then
 * call backup_age_finish.  what: the file, for messages.  -ERR_CONFIG when
 * the recipient is neither form, -ERR_BACKUP when age cannot run.
 */
int backup_age_encrypt_start(const char *recipient, int out_fd, const char *what,
                             struct backup_age **out, struct err *e);

/*
 * Start `age -d -i IDENTITY` reading path; read the plaintext from
 * backup_age_fd(*out), or open backup_age_fd_path(*out) ("/dev/fd/N", the
 * same pipe).  -ERR_CONFIG without a readable identity, -ERR_VERIFY when
 * path cannot be opened.
 */
int backup_age_decrypt_start(const char *identity, const char *path, struct backup_age **out,
                             struct err *e);

/* Our end of the pipe (age's stdin when encrypting, its stdout when decrypting). */
int backup_age_fd(const struct backup_age *a);
const char *backup_age_fd_path(const struct backup_age *a);

/*
 * Close our end, wait for age and check its exit status: -ERR_BACKUP
 * (encrypting) or -ERR_VERIFY (decrypting: a wrong identity, a damaged
 * file) with age's message.  Frees a (NULL: returns 0).
 */
int backup_age_finish(struct backup_age *a, struct err *e);

/* Kill age, wait for it, free a.  Accepts NULL. */
void backup_age_abort(struct backup_age *a);

/* SHA-256 (hex) and size of a whole file, read in bounded memory.  -ERR_VERIFY when unreadable. */
int backup_hash_file(const char *path, char sha[65], uint64_t *size, struct err *e);

/* The identity to decrypt with: configured (BACKUP_DECRYPT_IDENTITY) when set, else NULL. */
const char *backup_decrypt_identity(const char *configured);

#endif
