/* verify_results — see verify_results.h. */
#include "backup/verify_results.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"

#define RESULTS_FILE ".verify_results.json"

json_t *backup_verify_results_load(const char *dir)
{
    char *path = xasprintf("%s/" RESULTS_FILE, dir);
    json_t *o = json_load_file(path, 0, NULL);

    free(path);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Does the file at path (NULL: unknown) still exist? */
static bool still_there(const char *path)
{
    struct stat st;

    return path != NULL && stat(path, &st) == 0;
}

void backup_verify_results_record(const char *dir, time_t when, const json_t *results, int passed,
                                  int damaged, int failed)
{
    json_t *root = backup_verify_results_load(dir);
    json_t *old = root != NULL ? json_object_get(root, "backups") : NULL;
    json_t *backups = json_object();
    char at[32], *path = NULL, *text = NULL;
    struct tm tm;
    struct err e = {0};
    const char *name;
    json_t *it;
    size_t i;

    gmtime_r(&when, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* older outcomes of backups still there, then this run's over them */
    json_object_foreach(old, name, it)
    {
        const char *p = json_string_value(json_object_get(it, "path"));
        if (still_there(p))
            json_object_set(backups, name, it);
    }
    json_array_foreach(results, i, it)
    {
        const char *n = json_string_value(json_object_get(it, "name"));
        const char *err = json_string_value(json_object_get(it, "error"));
        bool ok = json_is_true(json_object_get(it, "ok"));

        if (n == NULL)
            continue;
        json_object_set_new(backups, n,
                            json_pack("{s:s, s:b, s:s?, s:O?}", "at", at, "ok", ok, "error",
                                      ok ? NULL : err, "path", json_object_get(it, "path")));
    }
    json_decref(root);
    root = json_pack("{s:i, s:{s:s, s:i, s:i, s:i}, s:o}", "format", 1, "last", "at", at, "ok",
                     passed, "damaged", damaged, "failed", failed, "backups", backups);
    path = xasprintf("%s/" RESULTS_FILE, dir);
    text = root != NULL ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    if (text == NULL || file_write_atomic(path, text, strlen(text), 0600, ERR_IO, &e) < 0)
        log_debug("cannot record '%s': %s", path, text == NULL ? "cannot render it" : e.msg);
    free(text);
    free(path);
    json_decref(root);
}
