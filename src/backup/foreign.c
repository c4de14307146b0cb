/*
 * foreign — backups made by another tool (the original CitaPlanner's
 * scripts/pg_backup.sh: `pg_dump | gzip` and `sha256sum "$file" > "$file.sha256"`,
 * no manifest), and which schema a backup holds, read from the dump itself.
 * See foreign.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup/layout.h"
#include "backup/files.h"
#include "db/db_backup.h"
#include "backup/manifest.h"
#include "backup/verify.h"
#include "backup/foreign.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"
#include "migrate/migrate.h"

bool backup_has_manifest(const char *path)
{
    char *mp = xasprintf("%s.json", path);
    bool ok = access(mp, F_OK) == 0;

    free(mp);
    return ok;
}

/*
 * The name a sidecar gives may be the bare name (ours), a relative path or an
 * absolute one (sha256sum "$backup_file"): it names this file when its base
 * name is this file's; a different directory is only worth a warning (the
 * files were moved, or the volume is mounted elsewhere).
 */
static void sidecar_name_check(const char *path, const char *sp, const char *named, struct buf *why)
{
    char *mine = NULL, *theirs = NULL, *tdir = NULL;
    char rm[PATH_MAX], rt[PATH_MAX];

    if (strcmp(path_base(named), path_base(path)) != 0) {
        buf_add_reason(why, "the checksum file '%s' names '%s', not this file", path_base(sp),
                       named);
        return;
    }
    if (strchr(named, '/') == NULL)
        return;
    mine = path_dir(path);
    tdir = path_dir(named);
    theirs = tdir[0] == '/' ? xstrdup(tdir) : xasprintf("%s/%s", mine, tdir);
    if (realpath(mine, rm) == NULL || realpath(theirs, rt) == NULL || strcmp(rm, rt) != 0)
        log_warn("the checksum file '%s' names '%s', in another directory than '%s'; its hash "
                 "is checked against this file",
                 sp, named, mine);
    free(mine);
    free(theirs);
    free(tdir);
}

void backup_sidecar_check(const char *path, const char *sha, bool required, struct buf *why)
{
    char *sp = xasprintf("%s.sha256", path);
    FILE *f = fopen(sp, "r");
    char line[PATH_MAX + 80];
    size_t n;

    if (f == NULL) {
        if (errno != ENOENT)
            buf_add_reason(why, "cannot read the checksum file '%s': %s", path_base(sp),
                           strerror(errno));
        else if (required)
            buf_add_reason(why, "the checksum file '%s' is missing", path_base(sp));
        goto cleanup;
    }
    n = fread(line, 1, sizeof(line) - 1, f);
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strlen(line) < 66 || strspn(line, "0123456789abcdefABCDEF") != 64 || line[64] != ' ' ||
        (line[65] != ' ' && line[65] != '*')) {
        buf_add_reason(why, "the checksum file '%s' is not in sha256sum's format", path_base(sp));
        goto cleanup;
    }
    if (strncasecmp(line, sha, 64) != 0) {
        buf_add_reason(why, "SHA-256 mismatch: the file hashes to %.12s..., '%s' says %.12s...",
                       sha, path_base(sp), line);
        goto cleanup;
    }
    sidecar_name_check(path, sp, line + 66, why);

cleanup:
    if (f != NULL)
        fclose(f);
    free(sp);
}

/* ---- the schema a dump holds ---- */

#define LINE_MAX_KEEP 4096

void backup_schema_scan_init(struct backup_schema_scan *s)
{
    memset(s, 0, sizeof(*s));
    s->col_name = s->col_finished = s->col_rolled = -1;
}

void backup_schema_scan_release(struct backup_schema_scan *s)
{
    if (s == NULL)
        return;
    free(s->line);
    free(s->version);
    s->line = NULL;
    s->version = NULL;
}

/* "public.name", "public.\"Name\"", "name" -> name (unquoted) into out. */
static void table_name(const char *p, char *out, size_t cap)
{
    size_t j = 0;

    if (strncmp(p, "public.", 7) == 0)
        p += 7;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"' && j + 1 < cap)
            out[j++] = *p++;
    } else {
        while (*p != '\0' && *p != ' ' && *p != '(' && j + 1 < cap)
            out[j++] = *p++;
    }
    out[j] = '\0';
}

/* "COPY public._migrations (id, name, …) FROM stdin;": where our columns are. */
static void copy_columns(struct backup_schema_scan *s, const char *p)
{
    int i = 0;

    p = strchr(p, '(');
    if (p == NULL)
        return;
    p++;
    while (*p != '\0' && *p != ')') {
        char col[64];
        size_t j = 0;
        while (*p == ' ' || *p == '"')
            p++;
        while (*p != '\0' && *p != ',' && *p != ')' && *p != '"' && j + 1 < sizeof(col))
            col[j++] = *p++;
        col[j] = '\0';
        if (strcmp(col, "name") == 0)
            s->col_name = i;
        else if (strcmp(col, "finished_at") == 0)
            s->col_finished = i;
        else if (strcmp(col, "rolled_back_at") == 0)
            s->col_rolled = i;
        while (*p == '"')
            p++;
        if (*p == ',')
            p++;
        i++;
    }
}

/* A row of COPY _migrations: tab-separated, \N for NULL. */
static void copy_row(struct backup_schema_scan *s, char *line)
{
    const char *name = NULL;
    bool finished = s->col_finished < 0, rolled = false;
    int i = 0;

    for (char *f = line, *t; f != NULL; f = t, i++) {
        t = strchr(f, '\t');
        if (t != NULL)
            *t++ = '\0';
        if (i == s->col_name)
            name = f;
        else if (i == s->col_finished)
            finished = strcmp(f, "\\N") != 0;
        else if (i == s->col_rolled)
            rolled = strcmp(f, "\\N") != 0;
    }
    if (name != NULL && finished && !rolled &&
        (s->version == NULL || strcmp(name, s->version) > 0)) {
        free(s->version);
        s->version = xstrdup(name);
    }
}

static void schema_line(struct backup_schema_scan *s, char *line)
{
    char name[128];

    if (s->in_copy) {
        if (strcmp(line, "\\.") == 0)
            s->in_copy = false;
        else if (s->copy_ours)
            copy_row(s, line);
        return;
    }
    if (s->in_table) {
        if (line[0] == ')') {
            s->in_table = false;
        } else if (line[0] == ' ') {
            /* A quoted column name with capitals: Prisma's camelCase ("createdAt"). */
            const char *q = line + strspn(line, " ");
            if (*q == '"') {
                for (q++; *q != '\0' && *q != '"'; q++)
                    if (*q >= 'A' && *q <= 'Z')
                        s->camel = true;
            }
        }
        return;
    }
    if (strncmp(line, "CREATE TABLE ", 13) == 0) {
        table_name(line + 13, name, sizeof(name));
        s->tables++;
        s->in_table = strchr(line, '(') != NULL;
        if (strcmp(name, "_prisma_migrations") == 0)
            s->prisma = true;
        else if (strcmp(name, "_migrations") == 0)
            s->ours = true;
    } else if (strncmp(line, "COPY ", 5) == 0 && strstr(line, "FROM stdin;") != NULL) {
        table_name(line + 5, name, sizeof(name));
        s->in_copy = true;
        s->copy_ours = strcmp(name, "_migrations") == 0;
        if (s->copy_ours)
            copy_columns(s, line);
    } else if (strncmp(line, "-- Dumped from database version ", 32) == 0) {
        snprintf(s->server_version, sizeof(s->server_version), "PostgreSQL %s", line + 32);
    } else if (strncmp(line, "-- Dumped by pg_dump version ", 29) == 0) {
        snprintf(s->pg_dump_version, sizeof(s->pg_dump_version), "pg_dump (PostgreSQL) %s",
                 line + 29);
    }
}

int backup_schema_sink(void *arg, const void *p, size_t n, struct err *e)
{
    struct backup_schema_scan *s = arg;
    const char *b = p;

    (void)e;
    if (s->line == NULL)
        s->line = xmalloc(LINE_MAX_KEEP + 1);
    for (size_t i = 0; i < n; i++) {
        if (b[i] != '\n') {
            if (s->len < LINE_MAX_KEEP)
                s->line[s->len++] = b[i];
            continue;
        }
        s->line[s->len] = '\0';
        schema_line(s, s->line);
        s->len = 0;
    }
    return 0;
}

enum backup_schema backup_schema_scan_result(const struct backup_schema_scan *s)
{
    if (s->prisma || (s->camel && !s->ours))
        return BACKUP_SCHEMA_PRISMA;
    if (s->ours)
        return BACKUP_SCHEMA_OURS;
    return s->tables == 0 ? BACKUP_SCHEMA_EMPTY : BACKUP_SCHEMA_UNKNOWN;
}

int backup_schema_of_sqlite(const char *path, enum backup_schema *out, char **version,
                            struct err *e)
{
    struct url u;
    struct db *db = NULL;
    char **tables = NULL;
    int n = 0;
    bool ours = false, prisma = false;
    int rc;

    *out = BACKUP_SCHEMA_UNKNOWN;
    *version = NULL;
    memset(&u, 0, sizeof(u));
    u.kind = URL_SQLITE;
    u.path = (char *)path;
    rc = db_open(&u, DB_CONNECT_TIMEOUT_S, &db, e);
    if (rc < 0)
        goto cleanup;
    rc = db_list_tables(db, &tables, &n, e);
    if (rc < 0)
        goto cleanup;
    for (int i = 0; i < n; i++) {
        ours = ours || strcmp(tables[i], "_migrations") == 0;
        prisma = prisma || strcmp(tables[i], "_prisma_migrations") == 0;
    }
    if (prisma)
        *out = BACKUP_SCHEMA_PRISMA;
    else if (ours)
        *out = BACKUP_SCHEMA_OURS;
    else if (n == 0)
        *out = BACKUP_SCHEMA_EMPTY;
    if (ours && !prisma)
        rc = migrate_schema_version(db, version, e);
    if (rc > 0)
        rc = 0;

cleanup:
    db_close(db);
    db_strv_free(tables, n);
    return rc < 0 ? rc : 0;
}

int backup_schema_refuse(const char *file, enum backup_schema schema, const char *version,
                         enum db_kind kind, struct err *e)
{
    const char *latest = migrate_latest_name(kind);

    switch (schema) {
    case BACKUP_SCHEMA_PRISMA:
        return err_set(e, ERR_RESTORE_REFUSED,
                       "refusing to restore '%s': it holds the original CitaPlanner's schema "
                       "(Prisma's _prisma_migrations, camelCase columns), not this program's; "
                       "nothing was changed. To bring its data over, run 'citaplanner import "
                       "--from-backup %s' with DATABASE_URL naming an empty database",
                       file, file);
    case BACKUP_SCHEMA_UNKNOWN:
        return err_set(e, ERR_RESTORE_REFUSED,
                       "refusing to restore '%s': its tables are not a CitaPlanner schema (no "
                       "_migrations table); nothing was changed",
                       file);
    case BACKUP_SCHEMA_OURS:
        /* Unknown, not merely sorting after the newest: a newer program's migration may
         * sort anywhere among ours. */
        if (version != NULL && !migrate_knows(kind, version))
            return err_set(e, ERR_RESTORE_REFUSED,
                           "refusing to restore '%s': its schema '%s' is not one this program "
                           "knows (newest: '%s'): it comes from a newer citaplanner; upgrade "
                           "first",
                           file, version, latest != NULL ? latest : "none");
        return 0;
    case BACKUP_SCHEMA_EMPTY:
        return 0;
    }
    return 0;
}

const char *backup_schema_name(enum backup_schema s)
{
    switch (s) {
    case BACKUP_SCHEMA_EMPTY:
        return "empty";
    case BACKUP_SCHEMA_OURS:
        return "citaplanner";
    case BACKUP_SCHEMA_PRISMA:
        return "original-prisma";
    case BACKUP_SCHEMA_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}

/* ---- a manifest for a backup that has none ---- */

void backup_manifest_synthesize(const char *path, struct backup_verify_result *r)
{
    struct backup_manifest *m = &r->m;
    enum backup_tier tier = BACKUP_DAILY;
    int64_t stamp = 0;
    char when[32] = "";
    struct stat sb;

    backup_manifest_release(m);
    m->format = BACKUP_MANIFEST_FORMAT;
    m->program_version = xstrdup("");
    m->file = xstrdup(path_base(path));
    if (backup_name_parse(path_base(path), &tier, &stamp, NULL) == 0) {
        snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d", (int)(stamp / 10000000000),
                 (int)(stamp / 100000000 % 100), (int)(stamp / 1000000 % 100),
                 (int)(stamp / 10000 % 100), (int)(stamp / 100 % 100), (int)(stamp % 100));
    } else if (stat(path, &sb) == 0) {
        struct tm tm;
        localtime_r(&sb.st_mtime, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    }
    m->tier = xstrdup(backup_tier_name(tier));
    m->tiers = 1u << tier;
    m->started_at = xstrdup(when);
    m->finished_at = xstrdup(when);
    m->db_kind = xstrdup(r->format == BACKUP_FMT_SQLITE ? "sqlite" : "postgresql");
    m->server_version = xstrdup("");
    m->origin = xstrdup("other tool");
    m->ntables = -1; /* row counts unknown */
    m->raw_bytes = r->raw_bytes;
    m->gz_bytes = r->gz_bytes;
    memcpy(m->sha256, r->sha256, sizeof(m->sha256));
}

/* ---- adopt ---- */

/* Replace dir/base with text atomically (0600; common/file.h). */
static int put_file(const char *dir, const char *base, const char *text, struct err *e)
{
    char *final = xasprintf("%s/%s", dir, base);
    int rc = file_write_atomic(final, text, strlen(text), 0600, ERR_BACKUP, e);

    free(final);
    return rc;
}

int backup_adopt_write(const char *path, const struct backup_verify_result *r,
                       const struct backup_schema_scan *schema, struct err *e)
{
    struct db_snapshot_stats st;
    struct backup_manifest_in in;
    enum backup_tier tier = BACKUP_DAILY;
    char *dir = path_dir(path);
    char *sidecar = NULL, *manifest = NULL, *sbase = NULL, *mbase = NULL;
    time_t when = 0;
    struct stat sb;
    int rc;

    memset(&st, 0, sizeof(st));
    memset(&in, 0, sizeof(in));
    backup_name_parse(path_base(path), &tier, NULL, NULL);
    if (r->m.started_at == NULL || backup_parse_local_time(r->m.started_at, &when) < 0)
        when = stat(path, &sb) == 0 ? sb.st_mtime : time(NULL);
    st.tables = r->m.tables;
    st.rows = r->m.rows;
    st.ntables = r->m.ntables;
    st.schema_version = schema != NULL ? schema->version : NULL;
    if (schema != NULL && schema->server_version[0] != '\0')
        snprintf(st.server_version, sizeof(st.server_version), "%.63s", schema->server_version);
    else
        snprintf(st.server_version, sizeof(st.server_version), "%s",
                 r->format == BACKUP_FMT_SQLITE ? "SQLite" : "PostgreSQL");
    in.file = path_base(path);
    in.tier = tier;
    in.tiers = 1u << tier;
    in.started = in.finished = when;
    in.kind = r->format == BACKUP_FMT_SQLITE ? DB_SQLITE : DB_PG;
    in.stats = &st;
    in.pg_dump_version =
        schema != NULL && schema->pg_dump_version[0] != '\0' ? schema->pg_dump_version : NULL;
    in.raw_bytes = r->raw_bytes;
    in.gz_bytes = r->gz_bytes;
    in.sha256 = r->sha256;
    in.origin = "adopted";
    manifest = backup_manifest_render(&in);
    sidecar = xasprintf("%s  %s\n", r->sha256, path_base(path));
    sbase = xasprintf("%s.sha256", path_base(path));
    mbase = xasprintf("%s.json", path_base(path));
    /* The sidecar first, the manifest last: a manifest always has its sidecar. */
    rc = put_file(dir, sbase, sidecar, e);
    if (rc == 0)
        rc = put_file(dir, mbase, manifest, e);
    if (rc == 0)
        rc = backup_fsync_dir(dir, e);
    free(dir);
    free(sidecar);
    free(manifest);
    free(sbase);
    free(mbase);
    return rc;
}

const char *backup_entry_origin(const struct backup_entry *it)
{
    struct backup_manifest m;
    struct err e;
    char *mp;
    const char *o = "citaplanner";

    if (!it->has_manifest)
        return "other tool";
    memset(&m, 0, sizeof(m));
    err_clear(&e);
    mp = xasprintf("%s.json", it->path);
    if (backup_manifest_load(mp, &m, &e) == 0 && m.origin != NULL &&
        strcmp(m.origin, "adopted") == 0)
        o = "adopted";
    backup_manifest_release(&m);
    free(mp);
    return o;
}
