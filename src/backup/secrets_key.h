/*
 * secrets_key — the key that seals the credentials kept in the database
 * (SECRETS_KEY_FILE, notify/secrets.h) carried by encrypted backups only.
 *
 * With BACKUP_ENCRYPT_RECIPIENT set, each backup's manifest holds the key
 * file encrypted with age to the same recipients ("secrets_key": base64 of
 * age's binary output), so that a restore on a new machine can open the
 * credentials; without encryption the key is never written into a backup,
 * which then holds their ciphertext only.  A restore puts the key in place
 * when the target has none, and refuses (before changing anything) when it
 * has a different one, unless forced (the old one is kept beside it as
 * "<file>.replaced").
 */
#ifndef CITAPLANNER_BACKUP_SECRETS_KEY_H
#define CITAPLANNER_BACKUP_SECRETS_KEY_H

#include <stdbool.h>

#include "common/err.h"
#include "common/seal.h"

/*
 * The key file path encrypted to recipient, base64, into *out (caller
 * frees); *out NULL when there is no key file yet.  tmp_dir holds age's
 * output for a moment.  -ERR_BACKUP when age fails, -ERR_CONFIG when the key
 * file is not a key.
 */
int backup_secrets_key_encrypt(const char *recipient, const char *path, const char *tmp_dir,
                               char **out, struct err *e);

/* The reverse, with the age identity file: -ERR_VERIFY when it does not decrypt to a key. */
int backup_secrets_key_decrypt(const char *identity, const char *b64, const char *tmp_dir,
                               unsigned char key[SEAL_KEY_LEN], struct err *e);

/*
 * Compare key with the file at path: 0 when path is absent or holds the
 * same key, -ERR_RESTORE_REFUSED naming it when it holds another and not
 * force.  With write: put key there (atomically, 0600; another one is
 * first renamed "<path>.replaced").
 */
int backup_secrets_key_place(const char *path, const unsigned char key[SEAL_KEY_LEN], bool force,
                             bool write, struct err *e);

#endif
