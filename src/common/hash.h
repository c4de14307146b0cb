/*
 * hash — SHA-256 of bytes, of a file and of a stream, and hex encoding: the
 * one place that calls libcrypto's digests (HMAC stays with its user).
 */
#ifndef CITAPLANNER_COMMON_HASH_H
#define CITAPLANNER_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define HASH_SHA256_LEN 32 /* raw bytes */
#define HASH_SHA256_HEX 65 /* 64 lowercase hex digits and a NUL */

/* in[0..n) as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* SHA-256 of n bytes at p: raw (md) and hex (out). */
void hash_sha256(const void *p, size_t n, unsigned char md[HASH_SHA256_LEN]);
void hash_sha256_hex(const void *p, size_t n, char out[HASH_SHA256_HEX]);

/* A running SHA-256 over a stream.  hash_sha256_new never fails (aborts on OOM). */
struct hash_sha256;
struct hash_sha256 *hash_sha256_new(void);
void hash_sha256_update(struct hash_sha256 *h, const void *p, size_t n);
/* The hex digest of everything updated so far; h stays usable only for _free. */
void hash_sha256_final_hex(struct hash_sha256 *h, char out[HASH_SHA256_HEX]);
void hash_sha256_free(struct hash_sha256 *h);

/*
 * SHA-256 (hex) and size (may be NULL) of a whole file, read in bounded
 * memory.  Returns 0, or -1 with errno set when it cannot be read.
 */
int hash_sha256_file(const char *path, char out[HASH_SHA256_HEX], uint64_t *size);

/* The same from an open descriptor, read to its end (not closed). */
int hash_sha256_fd(int fd, char out[HASH_SHA256_HEX], uint64_t *size);

#endif
