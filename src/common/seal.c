/*
 * seal — AES-256-GCM of small secrets under a key file (see seal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/file.h"
#include "common/seal.h"
#include "common/util.h"

#define NONCE_LEN 12
#define TAG_LEN   16
#define MAX_PLAIN 4096 /* a credential, not a document */

/* Threads of one process create the key one at a time (the temporary name is per process). */
static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

/* 0 read, 1 path does not exist, or -ERR_CONFIG naming it. */
static int key_read(const char *path, unsigned char key[SEAL_KEY_LEN], struct err *e)
{
    unsigned char buf[SEAL_KEY_LEN + 1];
    ssize_t n = 0, got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0)
        return err_set(e, ERR_CONFIG, "cannot read the secrets key file '%s': %s", path,
                       strerror(errno));
    while ((size_t)got < sizeof(buf)) {
        n = read(fd, buf + got, sizeof(buf) - (size_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += n;
    }
    if (n < 0)
        rc = err_set(e, ERR_CONFIG, "cannot read the secrets key file '%s': %s", path,
                     strerror(errno));
    else if (got != SEAL_KEY_LEN)
        rc = err_set(e, ERR_CONFIG,
                     "the secrets key file '%s' is not a key: it must hold exactly %d bytes", path,
                     SEAL_KEY_LEN);
    else
        memcpy(key, buf, SEAL_KEY_LEN);
    secure_zero(buf, sizeof(buf));
    close(fd);
    return rc;
}

int seal_key_load(const char *path, bool create, unsigned char key[SEAL_KEY_LEN], struct err *e)
{
    unsigned char fresh[SEAL_KEY_LEN];
    struct err ce;
    int rc = key_read(path, key, e);

    if (rc <= 0)
        return rc;
    if (!create)
        return err_set(e, ERR_CONFIG, "the secrets key file '%s' does not exist", path);
    if (RAND_bytes(fresh, sizeof(fresh)) != 1)
        return err_set(e, ERR_INTERNAL, "no random bytes for the secrets key");
    err_clear(&ce);
    pthread_mutex_lock(&create_mu);
    if (strrchr(path, '/') != NULL) { /* its directory, as a SQLite file's is made (0700) */
        char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
        if (dir[0] != '\0')
            mkdir(dir, 0700);
        free(dir);
    }
    rc = file_create_atomic(path, fresh, sizeof(fresh), 0600, ERR_CONFIG, &ce);
    pthread_mutex_unlock(&create_mu);
    secure_zero(fresh, sizeof(fresh));
    if (rc < 0)
        return err_set(e, ERR_CONFIG, "cannot create the secrets key file: %s", ce.msg);
    rc = key_read(path, key, e); /* ours, or the one another process made first */
    return rc == 1 ? err_set(e, ERR_CONFIG, "the secrets key file '%s' vanished", path) : rc;
}

bool seal_is_sealed(const char *s)
{
    return s != NULL && strncmp(s, SEAL_PREFIX, strlen(SEAL_PREFIX)) == 0;
}

static char *b64(const unsigned char *p, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

/* Decode base64 text of length len into out (cap bytes); the length, or -1. */
static int unb64(const char *s, size_t len, unsigned char *out, size_t cap)
{
    int n, pad = 0;

    if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap)
        return -1;
    n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    if (n < 0)
        return -1;
    pad = (s[len - 1] == '=') + (len > 1 && s[len - 2] == '=');
    return n - pad;
}

char *seal_text(const unsigned char key[SEAL_KEY_LEN], const char *aad, const char *plain)
{
    size_t n = strlen(plain);
    unsigned char nonce[NONCE_LEN], *ct = xmalloc(n + TAG_LEN);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    char *nb = NULL, *cb = NULL, *out = NULL;
    int len = 0, fin = 0;

    if (c == NULL || RAND_bytes(nonce, sizeof(nonce)) != 1 ||
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
        EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(c, ct, &len, (const unsigned char *)plain, (int)n) != 1 ||
        EVP_EncryptFinal_ex(c, ct + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n) != 1)
        abort(); /* libcrypto without AES-GCM or random bytes: nothing sensible to do */
    nb = b64(nonce, sizeof(nonce));
    cb = b64(ct, n + TAG_LEN);
    out = xasprintf(SEAL_PREFIX "%s:%s", nb, cb);
    EVP_CIPHER_CTX_free(c);
    free(nb), free(cb), free(ct);
    return out;
}

int seal_open(const unsigned char key[SEAL_KEY_LEN], const char *aad, const char *sealed,
              char **plain)
{
    const char *nb, *cb, *colon;
    unsigned char nonce[NONCE_LEN + 3], *ct = NULL;
    EVP_CIPHER_CTX *c = NULL;
    char *out = NULL;
    int n, len = 0, fin = 0, rc = -1;

    *plain = NULL;
    if (!seal_is_sealed(sealed))
        return -1;
    nb = sealed + strlen(SEAL_PREFIX);
    if ((colon = strchr(nb, ':')) == NULL)
        return -1;
    cb = colon + 1;
    if (unb64(nb, (size_t)(colon - nb), nonce, sizeof(nonce)) != NONCE_LEN)
        return -1;
    ct = xmalloc(strlen(cb) / 4 * 3 + 3);
    n = unb64(cb, strlen(cb), ct, strlen(cb) / 4 * 3 + 3);
    if (n < TAG_LEN || n - TAG_LEN > MAX_PLAIN)
        goto cleanup;
    out = xmalloc((size_t)n - TAG_LEN + 1);
    if ((c = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
        EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(c, (unsigned char *)out, &len, ct, n - TAG_LEN) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, ct + n - TAG_LEN) != 1 ||
        EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) != 1)
        goto cleanup;
    out[n - TAG_LEN] = '\0';
    if (strlen(out) != (size_t)(n - TAG_LEN))
        goto cleanup; /* a NUL inside: not a text we sealed */
    *plain = out;
    out = NULL;
    rc = 0;

cleanup:
    if (out != NULL) {
        secure_zero(out, (size_t)n - TAG_LEN + 1);
        free(out);
    }
    EVP_CIPHER_CTX_free(c);
    free(ct);
    return rc;
}
