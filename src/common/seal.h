/*
 * seal — small secrets kept sealed at rest (AES-256-GCM, libcrypto) under a
 * key that lives in a file, never in the database: the per-tenant
 * credentials of notifications (notify/secrets.c) sit in their columns as
 *
 *   v1:<nonce, 12 bytes, base64>:<ciphertext + 16-byte tag, base64>
 *
 * The additional data (aad) binds a value to where it belongs (a tenant and
 * a column): a sealed value copied elsewhere does not open.  A value without
 * the "v1:" prefix is plaintext (written before sealing existed).
 */
#ifndef CITAPLANNER_COMMON_SEAL_H
#define CITAPLANNER_COMMON_SEAL_H

#include <stdbool.h>

#include "common/err.h"

#define SEAL_KEY_LEN 32
#define SEAL_PREFIX  "v1:"

/*
 * Read the key file path (exactly SEAL_KEY_LEN bytes) into key.  When it
 * does not exist and create is true, it is created first: SEAL_KEY_LEN
 * random bytes, mode 0600, atomically (of two processes creating it at
 * once, both end up with the one that won).  -ERR_CONFIG naming the file
 * when it is missing (create false), unreadable, or not SEAL_KEY_LEN bytes.
 */
int seal_key_load(const char *path, bool create, unsigned char key[SEAL_KEY_LEN], struct err *e);

/* Does s look sealed (the "v1:" prefix)? */
bool seal_is_sealed(const char *s);

/* plain sealed under key, bound to aad: "v1:…".  Caller frees. */
char *seal_text(const unsigned char key[SEAL_KEY_LEN], const char *aad, const char *plain);

/*
 * Open sealed (from seal_text with the same key and aad) into *plain
 * (caller frees, after secure_zero).  Returns 0, or -1 when it does not
 * open: another key, another aad, a damaged or truncated value, an unknown
 * version.  Nothing else is said about why (nothing to leak).
 */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const char *aad, const char *sealed,
              char **plain);

#endif
