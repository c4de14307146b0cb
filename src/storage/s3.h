/*
 * s3 — an S3-compatible object store (s3.c): PUT (multipart above the part
 * size), GET with the body's SHA-256, DELETE and LIST under a bucket, every
 * request signed with AWS Signature V4.  The store of BACKUP_S3_URL, behind
 * store.h (storage_s3_store_open), or called directly by key; the policy
 * (what goes where, rotation) is backup/remote.c's.
 */
#ifndef CITAPLANNER_STORAGE_S3_H
#define CITAPLANNER_STORAGE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/store.h"

#define STORAGE_S3_TIMEOUT_S 60         /* per request, when the options say 0 */
#define STORAGE_S3_PART_SIZE (8u << 20) /* multipart above this, when the options say 0 */
/* SHA-256 of the empty body: what GET, DELETE and LIST sign as their payload. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Where and how to connect.  Borrowed strings; NULL or "" = not given. */
struct storage_s3_options {
    const char *url;      /* "s3://BUCKET/PREFIX" */
    const char *endpoint; /* "http://127.0.0.1:9000"; default https://s3.REGION.amazonaws.com */
    const char *region;   /* default us-east-1 */
    const char *access_key_id, *secret_access_key; /* both, or neither */
    const char *credentials_file; /* without the key pair: an AWS credentials file (0600) */
    const char *profile;          /* its section; default "default" */
    long timeout_s;
    size_t part_size;
};

struct storage_s3;

/*
 * Check the options and prepare the client (no request yet).  -ERR_CONFIG
 * naming what is wrong (never a secret).  *out: caller frees with
 * storage_s3_close.
 */
int storage_s3_open(const struct storage_s3_options *o, struct storage_s3 **out, struct err *e);
void storage_s3_close(struct storage_s3 *s);

/*
 * The same client as a store (store.h): a name is the key under the
 * prefix.  Its put uploads the sidecars (one request each) and then the
 * data file (in parts above the part size), reads the data object back
 * and compares its SHA-256 and size; *where is "s3://BUCKET/KEY".  It
 * has no has (a request per object).  *out: caller frees with
 * storage_close.
 */
int storage_s3_store_open(const struct storage_s3_options *o, struct storage_store **out,
                          struct err *e);

/* "s3://BUCKET/PREFIX" as given; the bucket; the prefix ("" or "a/b/"). */
const char *storage_s3_url(const struct storage_s3 *s);
const char *storage_s3_bucket(const struct storage_s3 *s);
const char *storage_s3_prefix(const struct storage_s3 *s);

/* PUT the local file as key (the full key, prefix included), streamed.  -ERR_BACKUP. */
int storage_s3_put_file(const struct storage_s3 *s, const char *key, const char *file,
                        struct err *e);
/* The same in one request whatever the part size: a manifest or a checksum. */
int storage_s3_put_whole(const struct storage_s3 *s, const char *key, const char *file,
                         struct err *e);

/* GET key into fd (-1: only hashed); its SHA-256 (hex) and size (may be NULL). */
int storage_s3_get(const struct storage_s3 *s, const char *key, int fd, char sha[65],
                   uint64_t *bytes, struct err *e);

int storage_s3_delete(const struct storage_s3 *s, const char *key, struct err *e);

/* Every key under the prefix (full keys).  Caller frees each and the array. */
int storage_s3_list(const struct storage_s3 *s, char ***keys, int *n, struct err *e);

#endif
