/*
 * password — bcrypt password hashes (libxcrypt).
 *
 * Hashes are the standard modular-crypt text "$2b$CC$" + 22 characters of
 * salt + 31 of hash (60 bytes), so any bcrypt implementation verifies them
 * and this module verifies theirs ($2a$, $2b$ and $2y$).  The salt comes
 * from the operating system's random source (libxcrypt reads it itself).
 *
 * Neither a password nor a hash ever reaches an error message or a log
 * line: messages name the operation only.  Working memory that held a
 * password is zeroed before it is freed.
 *
 * Thread safety: every function may be called from several threads.
 */
#ifndef CITAPLANNER_PASSWORD_H
#define CITAPLANNER_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Size of a buffer that holds any hash password_hash() writes, with its NUL. */
#define PASSWORD_HASH_SIZE 64

/* The cost of the accounts this program creates (2^10 rounds, SPEC §5). */
#define PASSWORD_DEFAULT_COST 10

/*
 * Hash password with bcrypt ($2b$) at cost (4-31; each step doubles the
 * time: 10 takes about 50 ms) into out, NUL-terminated.  outlen must be at
 * least PASSWORD_HASH_SIZE.  bcrypt reads the first 72 bytes of a password
 * only; a password holding more is refused rather than silently cut.
 * Errors: -ERR_USAGE (cost out of range, password longer than 72 bytes,
 * out too small), -ERR_INTERNAL (no random source, hashing failed).
 * out is "" on failure.
 */
int password_hash(const char *password, int cost, char *out, size_t outlen, struct err *e);

/*
 * Does password match hash?  False for a NULL argument and for a hash that
 * is not valid bcrypt (password_hash_valid), so a corrupt or foreign row
 * never lets anyone in.  The computed and the stored hash are compared in
 * constant time.
 */
bool password_verify(const char *password, const char *hash);

/*
 * Is hash a bcrypt hash: "$2a$", "$2b$" or "$2y$", a two-digit cost 04-31,
 * '$', and 53 characters of bcrypt's alphabet [./A-Za-z0-9]?
 */
bool password_hash_valid(const char *hash);

#endif
