/*
 * manifest — the .json beside each backup: what it holds and how to check
 * it.  See manifest.h.
 *
 * The document (format 1):
 *   {"format": 1, "program": "citaplanner", "version": "0.1.0",
 *    "file": "citaplanner_daily_20250109_020000.sql.gz", "tier": "daily",
 *    "tiers": ["daily", "weekly"],
 *    "started_at": "2025-01-09T08:00:00Z", "finished_at": "2025-01-09T08:00:04Z",
 *    "database": {"kind": "postgresql", "server_version": "PostgreSQL 15.20",
 *                 "url": "postgresql://u:***@h:5432/db", "pg_dump": "pg_dump (PostgreSQL) 15.20"},
 *    "schema_version": "0001_init",
 *    "tables": {"appointments": 6, ...},
 *    "schema_objects": ["column appointments.id", ..., "table users"],
 *    "bytes": {"uncompressed": 123456, "compressed": 23456},
 *    "sha256": "…64 hex…"}
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/layout.h"
#include "backup/manifest.h"
#include "common/util.h"
#include "version.h"

static void utc_stamp(char out[32], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *backup_manifest_render(const struct backup_manifest_in *in)
{
    json_t *root = json_object();
    json_t *tiers = json_array();
    json_t *dbo = json_object();
    json_t *tables = json_object();
    json_t *bytes = json_object();
    char started[32], finished[32];
    char *text = NULL;
    char *out = NULL;

    utc_stamp(started, in->started);
    utc_stamp(finished, in->finished);
    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        if (in->tiers & (1u << t))
            json_array_append_new(tiers, json_string(backup_tier_name((enum backup_tier)t)));
    json_object_set_new(dbo, "kind", json_string(in->kind == DB_PG ? "postgresql" : "sqlite"));
    json_object_set_new(dbo, "server_version", json_string(in->stats->server_version));
    if (in->database != NULL)
        json_object_set_new(dbo, "url", json_string(in->database));
    if (in->pg_dump_version != NULL)
        json_object_set_new(dbo, "pg_dump", json_string(in->pg_dump_version));
    for (int i = 0; i < in->stats->ntables; i++)
        json_object_set_new(tables, in->stats->tables[i], json_integer(in->stats->rows[i]));
    json_object_set_new(bytes, "uncompressed", json_integer((json_int_t)in->raw_bytes));
    json_object_set_new(bytes, "compressed", json_integer((json_int_t)in->gz_bytes));

    json_object_set_new(root, "format", json_integer(BACKUP_MANIFEST_FORMAT));
    json_object_set_new(root, "program", json_string("citaplanner"));
    json_object_set_new(root, "version", json_string(CITAPLANNER_VERSION));
    json_object_set_new(root, "file", json_string(in->file));
    json_object_set_new(root, "tier", json_string(backup_tier_name(in->tier)));
    json_object_set_new(root, "tiers", tiers);
    json_object_set_new(root, "started_at", json_string(started));
    json_object_set_new(root, "finished_at", json_string(finished));
    json_object_set_new(root, "database", dbo);
    json_object_set_new(root, "schema_version",
                        in->stats->schema_version ? json_string(in->stats->schema_version)
                                                  : json_null());
    if (in->stats->ntables < 0) {
        json_decref(tables);
        tables = json_null(); /* row counts unknown (an adopted backup, not counted) */
    }
    json_object_set_new(root, "tables", tables);
    if (in->stats->objects != NULL) {
        json_t *objects = json_array();
        for (int i = 0; i < in->stats->nobjects; i++)
            json_array_append_new(objects, json_string(in->stats->objects[i]));
        json_object_set_new(root, "schema_objects", objects);
    }
    json_object_set_new(root, "bytes", bytes);
    if (in->origin != NULL)
        json_object_set_new(root, "origin", json_string(in->origin));
    if (in->secrets_key != NULL)
        json_object_set_new(root, "secrets_key", json_string(in->secrets_key));
    json_object_set_new(root, "sha256", json_string(in->sha256));

    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL)
        out = xasprintf("%s\n", text);
    free(text);
    json_decref(root);
    return out;
}

/* ---- reading ---- */

static int need_string(json_t *o, const char *key, char **out, const char *path, struct err *e)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        return err_set(e, ERR_VERIFY, "manifest '%s': '%s' is missing or not a string", path, key);
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int need_uint(json_t *o, const char *key, uint64_t *out, const char *path, struct err *e)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return err_set(e, ERR_VERIFY, "manifest '%s': '%s' is missing or not a count", path, key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_index(const void *a, const void *b, void *names)
{
    char **n = names;
    return strcmp(n[*(const int *)a], n[*(const int *)b]);
}

int backup_manifest_load(const char *path, struct backup_manifest *m, struct err *e)
{
    json_error_t jerr;
    json_t *root = NULL, *v, *dbo, *tables, *bytes;
    char *sha = NULL;
    int rc = 0;

    memset(m, 0, sizeof(*m));
    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        rc = err_set(e, ERR_VERIFY, "cannot read manifest '%s': %s (line %d)", path, jerr.text,
                     jerr.line);
        goto cleanup;
    }
    v = json_object_get(root, "format");
    if (!json_is_integer(v)) {
        rc = err_set(e, ERR_VERIFY, "manifest '%s': 'format' is missing", path);
        goto cleanup;
    }
    m->format = (int)json_integer_value(v);
    if (m->format != BACKUP_MANIFEST_FORMAT) {
        rc = err_set(e, ERR_VERIFY,
                     "manifest '%s': format %d is not supported (this program "
                     "reads format %d)",
                     path, m->format, BACKUP_MANIFEST_FORMAT);
        goto cleanup;
    }
    dbo = json_object_get(root, "database");
    tables = json_object_get(root, "tables");
    bytes = json_object_get(root, "bytes");
    if (!json_is_object(dbo) || !(json_is_object(tables) || json_is_null(tables)) ||
        !json_is_object(bytes)) {
        rc = err_set(e, ERR_VERIFY, "manifest '%s': 'database', 'tables' or 'bytes' is missing",
                     path);
        goto cleanup;
    }
    if ((rc = need_string(root, "version", &m->program_version, path, e)) < 0 ||
        (rc = need_string(root, "file", &m->file, path, e)) < 0 ||
        (rc = need_string(root, "tier", &m->tier, path, e)) < 0 ||
        (rc = need_string(root, "started_at", &m->started_at, path, e)) < 0 ||
        (rc = need_string(root, "finished_at", &m->finished_at, path, e)) < 0 ||
        (rc = need_string(dbo, "kind", &m->db_kind, path, e)) < 0 ||
        (rc = need_string(dbo, "server_version", &m->server_version, path, e)) < 0 ||
        (rc = need_uint(bytes, "uncompressed", &m->raw_bytes, path, e)) < 0 ||
        (rc = need_uint(bytes, "compressed", &m->gz_bytes, path, e)) < 0 ||
        (rc = need_string(root, "sha256", &sha, path, e)) < 0)
        goto cleanup;
    if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
        rc = err_set(e, ERR_VERIFY, "manifest '%s': 'sha256' is not 64 hex digits", path);
        goto cleanup;
    }
    memcpy(m->sha256, sha, 65);
    v = json_object_get(root, "tiers");
    if (!json_is_array(v)) {
        rc = err_set(e, ERR_VERIFY, "manifest '%s': 'tiers' is missing or not a list", path);
        goto cleanup;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        enum backup_tier t;
        if (backup_tier_parse(json_string_value(json_array_get(v, i)), &t) < 0) {
            rc = err_set(e, ERR_VERIFY, "manifest '%s': 'tiers' holds an unknown tier", path);
            goto cleanup;
        }
        m->tiers |= 1u << t;
    }
    v = json_object_get(root, "schema_version");
    if (json_is_string(v)) {
        m->schema_version = xstrdup(json_string_value(v));
    } else if (!json_is_null(v)) {
        rc = err_set(e, ERR_VERIFY, "manifest '%s': 'schema_version' is missing", path);
        goto cleanup;
    }
    v = json_object_get(root, "origin");
    if (json_is_string(v))
        m->origin = xstrdup(json_string_value(v));
    v = json_object_get(root, "secrets_key");
    if (json_is_string(v))
        m->secrets_key = xstrdup(json_string_value(v));
    v = json_object_get(root, "schema_objects");
    if (json_is_array(v)) {
        size_t i;
        json_t *o;
        m->objects = xcalloc(json_array_size(v) + 1, sizeof(char *));
        json_array_foreach(v, i, o)
        {
            if (!json_is_string(o)) {
                rc = err_set(e, ERR_VERIFY, "manifest '%s': 'schema_objects' holds a non-string",
                             path);
                goto cleanup;
            }
            m->objects[m->nobjects++] = xstrdup(json_string_value(o));
        }
        qsort(m->objects, (size_t)m->nobjects, sizeof(char *), cmp_str);
    } else if (v != NULL) {
        rc = err_set(e, ERR_VERIFY, "manifest '%s': 'schema_objects' is not a list", path);
        goto cleanup;
    }
    if (json_is_null(tables))
        m->ntables = -1; /* row counts unknown */
    else {
        size_t n = json_object_size(tables);
        const char *key;
        json_t *val;
        int i = 0;
        char **names = xcalloc(n + 1, sizeof(char *));
        int64_t *rows = xcalloc(n + 1, sizeof(int64_t));
        int *idx = xcalloc(n + 1, sizeof(int));

        json_object_foreach(tables, key, val)
        {
            if (!json_is_integer(val) || json_integer_value(val) < 0) {
                rc = err_set(e, ERR_VERIFY, "manifest '%s': row count of '%s' is not a count", path,
                             key);
            }
            names[i] = xstrdup(key);
            rows[i] = json_integer_value(val);
            idx[i] = i;
            i++;
        }
        qsort_r(idx, n, sizeof(int), cmp_index, names);
        m->tables = xcalloc(n + 1, sizeof(char *));
        m->rows = xcalloc(n + 1, sizeof(int64_t));
        for (size_t k = 0; k < n; k++) {
            m->tables[k] = names[idx[k]];
            m->rows[k] = rows[idx[k]];
        }
        m->ntables = (int)n;
        free(names);
        free(rows);
        free(idx);
        if (rc < 0)
            goto cleanup;
    }

cleanup:
    free(sha);
    json_decref(root);
    return rc;
}

void backup_manifest_release(struct backup_manifest *m)
{
    if (m == NULL)
        return;
    free(m->program_version);
    free(m->file);
    free(m->tier);
    free(m->started_at);
    free(m->finished_at);
    free(m->db_kind);
    free(m->server_version);
    free(m->schema_version);
    free(m->origin);
    free(m->secrets_key);
    for (int i = 0; i < m->ntables; i++)
        free(m->tables[i]);
    free(m->tables);
    free(m->rows);
    for (int i = 0; i < m->nobjects; i++)
        free(m->objects[i]);
    free(m->objects);
    memset(m, 0, sizeof(*m));
}
