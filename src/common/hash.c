/*
 * hash — SHA-256 and hex (see hash.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/util.h"

struct hash_sha256 {
    EVP_MD_CTX *ctx;
};

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

void hash_sha256(const void *p, size_t n, unsigned char md[HASH_SHA256_LEN])
{
    unsigned int mdlen = 0;

    /* Fails only without memory or a broken libcrypto: nothing to recover. */
    if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != HASH_SHA256_LEN)
        abort();
}

void hash_sha256_hex(const void *p, size_t n, char out[HASH_SHA256_HEX])
{
    unsigned char md[HASH_SHA256_LEN];

    hash_sha256(p, n, md);
    hex_encode(md, sizeof(md), out);
}

struct hash_sha256 *hash_sha256_new(void)
{
    struct hash_sha256 *h = xcalloc(1, sizeof(*h));

    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
        abort();
    return h;
}

void hash_sha256_update(struct hash_sha256 *h, const void *p, size_t n)
{
    if (n > 0 && EVP_DigestUpdate(h->ctx, p, n) != 1)
        abort();
}

void hash_sha256_final_hex(struct hash_sha256 *h, char out[HASH_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != HASH_SHA256_LEN)
        abort();
    hex_encode(md, HASH_SHA256_LEN, out);
}

void hash_sha256_free(struct hash_sha256 *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

int hash_sha256_fd(int fd, char out[HASH_SHA256_HEX], uint64_t *size)
{
    struct hash_sha256 *h = hash_sha256_new();
    unsigned char *buf = xmalloc(1 << 16);
    uint64_t total = 0;
    ssize_t n;
    int rc = 0, saved = 0;

    out[0] = '\0';
    for (;;) {
        n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        hash_sha256_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    if (n < 0) {
        saved = errno;
        rc = -1;
    } else {
        hash_sha256_final_hex(h, out);
        if (size != NULL)
            *size = total;
    }
    free(buf);
    hash_sha256_free(h);
    if (rc < 0)
        errno = saved;
    return rc;
}

int hash_sha256_file(const char *path, char out[HASH_SHA256_HEX], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc, saved;

    if (fd < 0) {
        out[0] = '\0';
        return -1;
    }
    rc = hash_sha256_fd(fd, out, size);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
