/*
 * secrets_key — SECRETS_KEY_FILE in encrypted backups (secrets_key.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "backup/encrypt.h"
#include "backup/files.h"
#include "backup/secrets_key.h"
#include "common/file.h"
#include "common/util.h"

#define AGE_MAX 65536 /* age's output for 32 bytes: a header per recipient, then 48 bytes */

/* A scratch file in dir, already unlinked when unlink_now; its fd, or -1. */
static int scratch(const char *dir, bool unlink_now, char **path)
{
    int fd;

    *path = xasprintf("%s/.secrets-key.tmp.XXXXXX", dir);
    fd = mkstemp(*path);
    if (fd >= 0 && unlink_now)
        unlink(*path);
    return fd;
}

int backup_secrets_key_encrypt(const char *recipient, const char *path, const char *tmp_dir,
                               char **out, struct err *e)
{
    unsigned char key[SEAL_KEY_LEN], *ct = xmalloc(AGE_MAX);
    struct backup_age *age = NULL;
    char *tmp = NULL;
    ssize_t n = 0, got = 0;
    int fd = -1, rc;

    *out = NULL;
    if (access(path, F_OK) != 0) {
        free(ct);
        return 0; /* no credential saved yet: nothing to carry */
    }
    if ((rc = seal_key_load(path, false, key, e)) < 0)
        goto cleanup;
    if ((fd = scratch(tmp_dir, true, &tmp)) < 0) {
        rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    if ((rc = backup_age_encrypt_start(recipient, fd, path, &age, e)) < 0)
        goto cleanup;
    rc = backup_write_all(backup_age_fd(age), key, sizeof(key), path, e);
    if (rc < 0)
        goto cleanup;
    rc = backup_age_finish(age, e);
    age = NULL;
    if (rc < 0)
        goto cleanup;
    lseek(fd, 0, SEEK_SET);
    while (got < AGE_MAX && (n = read(fd, ct + got, (size_t)(AGE_MAX - got))) > 0)
        got += n;
    if (n < 0 || got == 0 || got == AGE_MAX) {
        rc = err_set(e, ERR_BACKUP, "cannot read age's output for '%s'", path);
        goto cleanup;
    }
    *out = xmalloc(4 * ((size_t)got + 2) / 3 + 1);
    EVP_EncodeBlock((unsigned char *)*out, ct, (int)got);

cleanup:
    backup_age_abort(age);
    secure_zero(key, sizeof(key));
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(ct);
    return rc;
}

int backup_secrets_key_decrypt(const char *identity, const char *b64, const char *tmp_dir,
                               unsigned char key[SEAL_KEY_LEN], struct err *e)
{
    size_t len = strlen(b64);
    unsigned char *ct = xmalloc(len / 4 * 3 + 3), buf[SEAL_KEY_LEN + 1];
    struct backup_age *age = NULL;
    char *tmp = NULL;
    ssize_t n = 0, got = 0;
    int fd = -1, rc = 0, nct = EVP_DecodeBlock(ct, (const unsigned char *)b64, (int)len);

    if (nct <= 0) {
        rc = err_set(e, ERR_VERIFY, "the manifest's secrets_key is not base64");
        goto cleanup;
    }
    nct -= (len > 0 && b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
    if ((fd = scratch(tmp_dir, false, &tmp)) < 0 ||
        backup_write_all(fd, ct, (size_t)nct, tmp, e) < 0) {
        rc = err_set(e, ERR_VERIFY, "cannot write '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    rc = backup_age_decrypt_start(identity, tmp, &age, e);
    unlink(tmp);
    if (rc < 0)
        goto cleanup;
    while (got < (ssize_t)sizeof(buf) &&
           (n = read(backup_age_fd(age), buf + got, sizeof(buf) - (size_t)got)) > 0)
        got += n;
    rc = backup_age_finish(age, e);
    age = NULL;
    if (rc == 0 && got != SEAL_KEY_LEN)
        rc = err_set(e, ERR_VERIFY, "the manifest's secrets_key does not decrypt to a key");
    if (rc == 0)
        memcpy(key, buf, SEAL_KEY_LEN);

cleanup:
    backup_age_abort(age);
    secure_zero(buf, sizeof(buf));
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(ct);
    return rc;
}

int backup_secrets_key_place(const char *path, const unsigned char key[SEAL_KEY_LEN], bool force,
                             bool write, struct err *e)
{
    unsigned char cur[SEAL_KEY_LEN];
    struct err ke;
    char *old = NULL;
    bool exists = access(path, F_OK) == 0;
    bool same = exists && seal_key_load(path, false, cur, &ke) == 0 &&
                CRYPTO_memcmp(cur, key, SEAL_KEY_LEN) == 0;
    int rc = 0;

    secure_zero(cur, sizeof(cur));
    if (same)
        return 0;
    if (exists && !force)
        return err_set(e, ERR_RESTORE_REFUSED,
                       "refusing to restore: the backup carries a secrets key that differs from "
                       "'%s' (SECRETS_KEY_FILE); with the backup's key the restored credentials "
                       "open, with this one they do not: add --force to replace it (the current "
                       "one is kept as '%s.replaced'), or restore elsewhere",
                       path, path);
    if (!write)
        return 0;
    if (exists) {
        old = xasprintf("%s.replaced", path);
        if (rename(path, old) != 0)
            rc = err_set(e, ERR_BACKUP, "cannot rename '%s': %s", path, strerror(errno));
    }
    /* its directories, 0700 (a new machine may have none yet) */
    for (const char *p = strchr(path + 1, '/'); rc == 0 && p != NULL; p = strchr(p + 1, '/')) {
        char *dir = xstrndup(path, (size_t)(p - path));
        mkdir(dir, 0700);
        free(dir);
    }
    if (rc == 0)
        rc = file_create_atomic(path, key, SEAL_KEY_LEN, 0600, ERR_BACKUP, e);
    if (rc == 1)
        rc = err_set(e, ERR_BACKUP, "'%s' appeared while the restore put its key back", path);
    free(old);
    return rc;
}
