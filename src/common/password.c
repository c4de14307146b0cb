/*
 * password — see password.h.
 *
 * struct crypt_data is about 32 KiB: it lives on the heap, not on a
 * thread's stack, and is zeroed before it is freed because libxcrypt leaves
 * key material in it.
 */
#include "common/password.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* bcrypt: "$2b$" + "NN" + "$" + 22 salt + 31 hash characters. */
#define BCRYPT_LEN      60
#define BCRYPT_MAX_PASS 72
#define BCRYPT_MIN_COST 4
#define BCRYPT_MAX_COST 31

static bool bcrypt_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/';
}

bool password_hash_valid(const char *hash)
{
    int cost;

    if (hash == NULL || strlen(hash) != BCRYPT_LEN)
        return false;
    if (hash[0] != '$' || hash[1] != '2' || strchr("aby", hash[2]) == NULL || hash[3] != '$')
        return false;
    if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$')
        return false;
    cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST)
        return false;
    for (int i = 7; i < BCRYPT_LEN; i++)
        if (!bcrypt_char(hash[i]))
            return false;
    return true;
}

static void crypt_data_free(struct crypt_data *cd)
{
    if (cd == NULL)
        return;
    secure_zero(cd, sizeof(*cd));
    free(cd);
}

int password_hash(const char *password, int cost, char *out, size_t outlen, struct err *e)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = NULL;
    int rc = 0;

    if (out != NULL && outlen > 0)
        out[0] = '\0';
    if (password == NULL || out == NULL || outlen < PASSWORD_HASH_SIZE) {
        rc = err_set(e, ERR_USAGE, "password hash needs a password and %d bytes of output",
                     PASSWORD_HASH_SIZE);
        goto cleanup;
    }
    if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
        rc = err_set(e, ERR_USAGE, "bcrypt cost '%d' is out of range (%d-%d)", cost,
                     BCRYPT_MIN_COST, BCRYPT_MAX_COST);
        goto cleanup;
    }
    if (strlen(password) > BCRYPT_MAX_PASS) {
        rc = err_set(e, ERR_USAGE, "password is longer than %d bytes, which bcrypt would cut",
                     BCRYPT_MAX_PASS);
        goto cleanup;
    }
    /* NULL random bytes: libxcrypt takes them from the kernel (getrandom). */
    errno = 0;
    if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, sizeof(setting)) == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot make a bcrypt salt: %s",
                     errno ? strerror(errno) : "unknown error");
        goto cleanup;
    }
    cd = xcalloc(1, sizeof(*cd));
    if (crypt_rn(password, setting, cd, (int)sizeof(*cd)) == NULL ||
        !password_hash_valid(cd->output)) {
        rc = err_set(e, ERR_INTERNAL, "bcrypt hashing failed");
        goto cleanup;
    }
    memcpy(out, cd->output, BCRYPT_LEN + 1);

cleanup:
    crypt_data_free(cd);
    return rc;
}

/* Equal strings of known length n, in time that does not depend on where they differ. */
static bool equal_const_time(const char *a, const char *b, size_t n)
{
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
    return diff == 0;
}

bool password_verify(const char *password, const char *hash)
{
    struct crypt_data *cd = NULL;
    bool ok = false;

    if (password == NULL || !password_hash_valid(hash))
        goto cleanup;
    cd = xcalloc(1, sizeof(*cd));
    if (crypt_rn(password, hash, cd, (int)sizeof(*cd)) == NULL)
        goto cleanup;
    /* The hash is BCRYPT_LEN long (checked above); a shorter output differs. */
    ok = strlen(cd->output) == BCRYPT_LEN && equal_const_time(cd->output, hash, BCRYPT_LEN);

cleanup:
    crypt_data_free(cd);
    return ok;
}
