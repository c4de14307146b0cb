/* offsite — see offsite.h. */
#include "archive/offsite.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/remote.h"
#include "common/hash.h"
#include "common/util.h"
#include "storage/dir.h"

int offsite_s3_open(const struct config *cfg, struct storage_s3 **out, struct err *e)
{
    struct storage_s3_options o;

    backup_s3_options(cfg, &o);
    *out = NULL;
    if (cfg->backup_s3_url == NULL || cfg->backup_s3_url[0] == '\0')
        return 0;
    return storage_s3_open(&o, out, e);
}

int offsite_dir_make(const char *root, const char *rel, struct err *e)
{
    char *path = xasprintf("%s/%s", root, rel);
    size_t skip = strlen(root) + 1;
    int rc = 0;

    for (char *p = path + skip;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP, "cannot create '%s': %s",
                         path, strerror(errno));
            break;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    free(path);
    return rc;
}

int offsite_dir_put(const char *dst, const char *src, const char *name, const char *sha,
                    uint64_t size, bool always, struct err *e)
{
    const char *srcs[1] = {src}, *names[1] = {name};
    char own[HASH_SHA256_HEX], *out = NULL;
    int rc = 0;

    if (!always && storage_dir_has(dst, name, (int64_t)size))
        return 0;
    if (sha == NULL) {
        if (hash_sha256_file(src, own, &size) != 0)
            return err_set(e, ERR_BACKUP, "cannot read '%s': %s", src, strerror(errno));
        sha = own;
    }
    rc = storage_dir_put(dst, srcs, names, 1, sha, (int64_t)size, &out, e);
    free(out);
    return rc;
}

void offsite_dir_clean(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp.") == NULL)
            continue;
        char *p = xasprintf("%s/%s", dir, de->d_name);
        unlink(p);
        free(p);
    }
    if (d != NULL)
        closedir(d);
}

int offsite_manifest_cut(const char *src, const char *tmp,
                         bool (*stop)(const char *line, void *arg), void *arg, struct err *e)
{
    FILE *in = fopen(src, "re"), *out = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (in != NULL)
        out = fopen(tmp, "we");
    if (in == NULL || out == NULL) {
        rc = err_set(e, ERR_BACKUP, "cannot copy '%s' off-site: %s", src, strerror(errno));
        goto cleanup;
    }
    /* Only whole lines: a line being appended is not copied. */
    while ((n = getline(&line, &cap, in)) > 0 && line[n - 1] == '\n' && !stop(line, arg))
        fwrite(line, 1, (size_t)n, out);
    rc = fclose(out) == 0 ? 0
                          : err_set(e, ERR_BACKUP, "cannot write '%s': %s", tmp, strerror(errno));
    out = NULL;

cleanup:
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
    if (rc < 0)
        unlink(tmp);
    free(line);
    return rc;
}
