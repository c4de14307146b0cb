/*
 * pg_base — the archive's base backups (see pg_base.h).
 */
#define _XOPEN_SOURCE 700
#include "archive/pg_base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/pg_tool.h"
#include "archive/pg_wal.h"
#include "backup/encrypt.h"
#include "backup/lock.h"
#include "backup/psql.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"

#define BASEBACKUP_TIMEOUT_S (6 * 3600)
#define VERIFY_TIMEOUT_S     (6 * 3600)

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int pg_base_rmtree(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int pg_lsn_cmp(const char *a, const char *b)
{
    unsigned hi1 = 0, lo1 = 0, hi2 = 0, lo2 = 0;

    sscanf(a, "%X/%X", &hi1, &lo1);
    sscanf(b, "%X/%X", &hi2, &lo2);
    uint64_t x = ((uint64_t)hi1 << 32) | lo1, y = ((uint64_t)hi2 << 32) | lo2;
    return x < y ? -1 : x > y ? 1 : 0;
}

void pg_base_release(struct pg_base *b)
{
    free(b->dir);
    free(b->name);
    memset(b, 0, sizeof(*b));
}

/* ---- base.json ---- */

static void copy_str(char *dst, size_t n, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(dst, n, "%s", v != NULL ? v : "");
}

static int base_load(const char *dir, const char *name, struct pg_base *b, struct err *e)
{
    char *path = xasprintf("%s/%s/base.json", dir, name);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je), *files;
    int rc = 0;

    memset(b, 0, sizeof(*b));
    if (o == NULL || !json_is_object(o)) {
        rc = err_set(e, ERR_VERIFY, "'%s' is not a base backup's description: %s", path, je.text);
        goto cleanup;
    }
    b->dir = xasprintf("%s/%s", dir, name);
    b->name = xstrdup(name);
    b->started = (time_t)json_integer_value(json_object_get(o, "started"));
    b->finished = (time_t)json_integer_value(json_object_get(o, "finished"));
    b->timeline = (unsigned)json_integer_value(json_object_get(o, "timeline"));
    b->server_major = (int)json_integer_value(json_object_get(o, "server_major"));
    copy_str(b->start_lsn, sizeof(b->start_lsn), o, "start_lsn");
    copy_str(b->end_lsn, sizeof(b->end_lsn), o, "end_lsn");
    copy_str(b->start_wal, sizeof(b->start_wal), o, "start_wal");
    copy_str(b->check_lsn, sizeof(b->check_lsn), o, "check_lsn");
    files = json_object_get(o, "files");
    b->encrypted = json_object_get(files, PG_BASE_TAR BACKUP_ENC_EXT) != NULL;
    copy_str(b->sha_base, sizeof(b->sha_base), files, pg_base_file(b, PG_BASE_TAR));
    copy_str(b->sha_wal, sizeof(b->sha_wal), files, pg_base_file(b, PG_BASE_WAL_TAR));
    copy_str(b->sha_manifest, sizeof(b->sha_manifest), files, "backup_manifest");
    if (!pg_wal_is_segment(b->start_wal) || b->finished == 0)
        rc = err_set(e, ERR_VERIFY, "'%s' lacks the backup's start or end", path);
cleanup:
    json_decref(o);
    free(path);
    if (rc < 0)
        pg_base_release(b);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct pg_base *)a)->name, ((const struct pg_base *)b)->name);
}

int pg_base_list_load(const char *backup_dir, struct pg_base_list *l, struct err *e)
{
    char *dir = xasprintf("%s/%s", backup_dir, ARCHIVE_PG_BASE_SUBDIR);
    DIR *d = opendir(dir);
    struct dirent *de;
    int cap = 0;

    memset(l, 0, sizeof(*l));
    while (d != NULL && (de = readdir(d)) != NULL) {
        struct pg_base b;
        struct err be;
        char *json = xasprintf("%s/%s/base.json", dir, de->d_name);
        bool done = de->d_name[0] != '.' && access(json, F_OK) == 0;
        free(json);
        if (!done)
            continue;
        err_clear(&be);
        if (base_load(dir, de->d_name, &b, &be) < 0) {
            log_warn("archive: %s", be.msg);
            continue;
        }
        if (l->n == cap) {
            cap = cap ? cap * 2 : 16;
            l->v = xrealloc(l->v, (size_t)cap * sizeof(*l->v));
        }
        l->v[l->n++] = b;
    }
    if (d != NULL)
        closedir(d);
    if (l->n > 0)
        qsort(l->v, (size_t)l->n, sizeof(*l->v), by_name);
    free(dir);
    (void)e;
    return 0;
}

void pg_base_list_release(struct pg_base_list *l)
{
    for (int i = 0; i < l->n; i++)
        pg_base_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* ---- taking one ---- */

/* The WAL range of pg_basebackup's manifest: timeline, start and end LSN. */
static int read_wal_range(const char *manifest, struct pg_base *b, struct err *e)
{
    json_error_t je;
    json_t *o = json_load_file(manifest, 0, &je);
    json_t *r = json_array_get(json_object_get(o, "WAL-Ranges"), 0);
    int rc = 0;

    if (r == NULL) {
        rc = err_set(e, ERR_BACKUP, "'%s' has no WAL range", manifest);
    } else {
        b->timeline = (unsigned)json_integer_value(json_object_get(r, "Timeline"));
        copy_str(b->start_lsn, sizeof(b->start_lsn), r, "Start-LSN");
        copy_str(b->end_lsn, sizeof(b->end_lsn), r, "End-LSN");
    }
    json_decref(o);
    return rc;
}

/* Extract the backup into dir/verify and check it against its manifest with pg_verifybackup. */
static int verify_backup(const char *tmp, int major, struct err *e)
{
    char *vdir = xasprintf("%s/verify", tmp);
    char *vwal = xasprintf("%s/verify/pg_wal", tmp);
    char *base = xasprintf("%s/base.tar.gz", tmp);
    char *wal = xasprintf("%s/pg_wal.tar.gz", tmp);
    char *manifest = xasprintf("%s/backup_manifest", tmp);
    struct pgtool vb = {0};
    int rc;

    rc = pg_base_extract(base, wal, vdir, e);
    if (rc == 0)
        rc = pgtool_find("pg_verifybackup", major, &vb, e);
    if (rc == 0) {
        char *argv[] = {vb.path, "--quiet", "--manifest-path", manifest, vdir, NULL};
        rc = pg_tool_run(vb.path, argv, NULL, VERIFY_TIMEOUT_S, e);
    }
    pgtool_free(&vb);
    pg_base_rmtree(vdir);
    free(vdir);
    free(vwal);
    free(base);
    free(wal);
    free(manifest);
    return rc;
}

int pg_base_extract(const char *base_tar, const char *wal_tar, const char *dir, struct err *e)
{
    char *wdir = xasprintf("%s/pg_wal", dir);
    int rc = 0;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", dir, strerror(errno));
    if (rc == 0) {
        char *argv[] = {"tar", "-xzf", (char *)base_tar, "-C", (char *)dir, NULL};
        rc = pg_tool_run("tar", argv, NULL, VERIFY_TIMEOUT_S, e);
    }
    if (rc == 0 && mkdir(wdir, 0700) != 0 && errno != EEXIST)
        rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", wdir, strerror(errno));
    if (rc == 0) {
        char *argv[] = {"tar", "-xzf", (char *)wal_tar, "-C", wdir, NULL};
        rc = pg_tool_run("tar", argv, NULL, VERIFY_TIMEOUT_S, e);
    }
    free(wdir);
    return rc;
}

const char *pg_base_file(const struct pg_base *b, const char *name)
{
    if (!b->encrypted || strcmp(name, "backup_manifest") == 0)
        return name;
    return strcmp(name, PG_BASE_TAR) == 0 ? PG_BASE_TAR BACKUP_ENC_EXT
                                          : PG_BASE_WAL_TAR BACKUP_ENC_EXT;
}

/* src encrypted to recipient (age) as src.age, fsynced; then src removed. */
static int encrypt_file(const char *src, const char *recipient, struct err *e)
{
    enum { CHUNK = 1 << 20 };
    char *dst = xasprintf("%s%s", src, BACKUP_ENC_EXT), *buf = xmalloc(CHUNK);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct backup_age *age = NULL;
    ssize_t n = 0;
    int rc = 0;

    if (in < 0 || out < 0)
        rc = err_set(e, ERR_BACKUP, "cannot encrypt '%s': %s", src, strerror(errno));
    if (rc == 0)
        rc = backup_age_encrypt_start(recipient, out, dst, &age, e);
    while (rc == 0 && (n = read(in, buf, CHUNK)) > 0)
        for (ssize_t off = 0, w; rc == 0 && off < n; off += w)
            if ((w = write(backup_age_fd(age), buf + off, (size_t)(n - off))) < 0)
                rc = err_set(e, ERR_BACKUP, "cannot encrypt '%s': %s", src, strerror(errno));
    if (rc == 0 && n < 0)
        rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", src, strerror(errno));
    if (rc == 0) {
        rc = backup_age_finish(age, e);
        age = NULL;
    }
    backup_age_abort(age);
    if (rc == 0 && fsync(out) != 0)
        rc = err_set(e, ERR_BACKUP, "cannot write '%s': %s", dst, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    unlink(rc == 0 ? src : dst);
    free(buf);
    free(dst);
    return rc;
}

int pg_base_decrypt(const char *src, const char *identity, const char *dst, struct err *e)
{
    struct backup_age *age = NULL;
    int rc;

    rc = backup_age_decrypt_start(identity, src, &age, e);
    if (rc == 0)
        rc = file_copy(backup_age_fd_path(age), dst, ERR_VERIFY, e);
    if (rc == 0) {
        rc = backup_age_finish(age, e);
        age = NULL;
    }
    backup_age_abort(age);
    if (rc < 0)
        unlink(dst);
    return rc;
}

static int write_json(const char *tmp, struct pg_base *b, struct db *db, struct err *e)
{
    const char *names[] = {pg_base_file(b, PG_BASE_TAR), pg_base_file(b, PG_BASE_WAL_TAR),
                           "backup_manifest"};
    char *shas[] = {b->sha_base, b->sha_wal, b->sha_manifest};
    json_t *o = json_object(), *files = json_object(), *counts = json_object();
    char **tables = NULL;
    int64_t *rows = NULL;
    int n = 0, rc = 0;

    for (int i = 0; i < 3 && rc == 0; i++) {
        char *p = xasprintf("%s/%s", tmp, names[i]);
        uint64_t size;
        if (hash_sha256_file(p, shas[i], &size) != 0)
            rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", p, strerror(errno));
        json_object_set_new(files, names[i], json_string(shas[i]));
        free(p);
    }
    /*
     * The row counts and a WAL position that agree (for backup verify --check):
     * one snapshot, and the insert position read in its first statement;
     * restored up to (not including) it, the database should hold these rows.
     */
    if (rc == 0 && db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) == 0) {
        char *lsn = NULL;
        if (db_query_text(db, "SELECT pg_current_wal_insert_lsn()::text", DB_NOPARAMS, &lsn, e) ==
                0 &&
            db_table_counts(db, &tables, &rows, &n, e) == 0) {
            for (int i = 0; i < n; i++)
                json_object_set_new(counts, tables[i], json_integer(rows[i]));
            json_object_set_new(o, "check_lsn", json_string(lsn));
        }
        free(lsn);
        db_exec(db, "COMMIT", e);
    }
    err_clear(e); /* a database without our tables has nothing to check */
    json_object_set_new(o, "format", json_integer(1));
    json_object_set_new(o, "started", json_integer(b->started));
    json_object_set_new(o, "finished", json_integer(b->finished));
    json_object_set_new(o, "timeline", json_integer(b->timeline));
    json_object_set_new(o, "start_lsn", json_string(b->start_lsn));
    json_object_set_new(o, "end_lsn", json_string(b->end_lsn));
    json_object_set_new(o, "start_wal", json_string(b->start_wal));
    json_object_set_new(o, "server_major", json_integer(b->server_major));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "row_counts", counts);
    if (rc == 0) {
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *p = xasprintf("%s/base.json", tmp);
        rc = file_write_atomic(p, text, strlen(text), 0600, ERR_BACKUP, e);
        free(p);
        free(text);
    }
    json_decref(o);
    db_strv_free(tables, n);
    free(rows);
    return rc;
}

/* Directories of takes that never finished ("NAME.tmp"): removed. */
static void remove_unfinished(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !str_ends_with(de->d_name, ".tmp"))
            continue;
        char *p = xasprintf("%s/%s", dir, de->d_name);
        log_info("archive: removing the unfinished base backup '%s'", p);
        pg_base_rmtree(p);
        free(p);
    }
    if (d != NULL)
        closedir(d);
}

int pg_base_take(const struct config *cfg, struct pg_base *out, struct err *e)
{
    struct pg_base b;
    struct db *db = NULL;
    struct backup_lock *lock = NULL;
    struct pg_tool_env pe = {0};
    struct pgtool bb = {0};
    char *root = xasprintf("%s/%s", cfg->backup_dir, ARCHIVE_PG_BASE_SUBDIR);
    char *tmp = NULL, *final = NULL, *manifest = NULL, stamp[32];
    int64_t segsize = 0;
    int rc;

    memset(&b, 0, sizeof(b));
    if (cfg->db.kind != URL_POSTGRES) {
        rc = err_set(e, ERR_CONFIG, "base backups are for a PostgreSQL database");
        goto cleanup;
    }
    if ((rc = db_open(&cfg->db, DB_CONNECT_TIMEOUT_S, &db, e)) < 0 ||
        (rc = db_query_int(
             db, "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'",
             DB_NOPARAMS, &segsize, e)) < 0)
        goto cleanup;
    b.server_major = db_server_version_num(db) / 10000;
    if ((rc = pg_tool_env_init(&pe, cfg, "base", e)) < 0 ||
        (rc = backup_lock_acquire(cfg->backup_dir, &lock, e)) < 0 ||
        (rc = pgtool_find("pg_basebackup", b.server_major, &bb, e)) < 0)
        goto cleanup;
    if (mkdir(root, 0700) != 0 && errno != EEXIST) {
        rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", root, strerror(errno));
        goto cleanup;
    }
    remove_unfinished(root);
    b.started = time(NULL);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&b.started));
    tmp = xasprintf("%s/%s.tmp", root, stamp);
    final = xasprintf("%s/%s", root, stamp);
    manifest = xasprintf("%s/backup_manifest", tmp);
    {
        char *label = xasprintf("citaplanner base %s", stamp);
        char *argv[] = {bb.path,
                        "--pgdata",
                        tmp,
                        "--format=tar",
                        "--gzip",
                        "--wal-method=stream",
                        cfg->archive_checkpoint_spread ? "--checkpoint=spread"
                                                       : "--checkpoint=fast",
                        "--label",
                        label,
                        "--no-password",
                        NULL};
        log_info("archive: base backup into '%s' (%s)", final, argv[6]);
        rc = pg_tool_run(bb.path, argv, pe.env, BASEBACKUP_TIMEOUT_S, e);
        free(label);
    }
    if (rc == 0)
        rc = read_wal_range(manifest, &b, e);
    if (rc == 0) {
        pg_wal_name(b.start_wal, b.timeline,
                    (uint64_t)(((uint64_t)strtoul(b.start_lsn, NULL, 16) << 32 |
                                strtoul(strchr(b.start_lsn, '/') + 1, NULL, 16)) /
                               (uint64_t)segsize),
                    (uint64_t)segsize);
        rc = verify_backup(tmp, b.server_major, e);
    }
    /* Verified in the clear; stored encrypted when BACKUP_ENCRYPT_RECIPIENT is set. */
    if (rc == 0 && cfg->backup_encrypt_recipient != NULL && cfg->backup_encrypt_recipient[0]) {
        char *p = xasprintf("%s/%s", tmp, PG_BASE_TAR),
             *w = xasprintf("%s/%s", tmp, PG_BASE_WAL_TAR);
        b.encrypted = true;
        rc = encrypt_file(p, cfg->backup_encrypt_recipient, e);
        if (rc == 0)
            rc = encrypt_file(w, cfg->backup_encrypt_recipient, e);
        free(p);
        free(w);
    }
    b.finished = time(NULL);
    if (rc == 0)
        rc = write_json(tmp, &b, db, e);
    if (rc == 0 && rename(tmp, final) != 0)
        rc = err_set(e, ERR_BACKUP, "cannot rename '%s': %s", tmp, strerror(errno));
    if (rc == 0)
        rc = file_fsync_dir(root, ERR_BACKUP, e);
    if (rc < 0) {
        pg_base_rmtree(tmp);
        goto cleanup;
    }
    log_info("archive: base backup '%s' verified (pg_verifybackup), WAL from %s", final,
             b.start_wal);
    b.dir = final;
    b.name = xstrdup(stamp);
    final = NULL;
    if (out != NULL) {
        *out = b;
        memset(&b, 0, sizeof(b));
    }
cleanup:
    backup_lock_release(lock);
    pgtool_free(&bb);
    pg_tool_env_release(&pe);
    db_close(db);
    pg_base_release(&b);
    free(root);
    free(tmp);
    free(final);
    free(manifest);
    return rc;
}

/* ---- retention ---- */

int pg_base_prune(const struct config *cfg, int *removed_bases, int *removed_wal, char **held,
                  struct err *e)
{
    struct pg_base_list l;
    bool *keep = NULL;
    char *wal = xasprintf("%s/%s", cfg->backup_dir, ARCHIVE_PG_SUBDIR);
    const char *oldest = NULL;
    int rc, kept_months = 0;
    char last_month[8] = "";

    *removed_bases = *removed_wal = 0;
    *held = NULL;
    rc = pg_base_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    keep = xcalloc((size_t)l.n + 1, sizeof(bool));
    for (int i = l.n - 1, newest = 0; i >= 0; i--) {
        if (newest++ < cfg->backup_keep_weekly)
            keep[i] = true;
        if (strncmp(l.v[i].name, last_month, 6) != 0 && kept_months < cfg->backup_keep_monthly) {
            keep[i] = true;
            kept_months++;
            snprintf(last_month, sizeof(last_month), "%.6s", l.v[i].name);
        }
    }
    for (int i = 0; i < l.n; i++) {
        if (keep[i])
            continue;
        log_info("archive: removing the base backup '%s' (retention)", l.v[i].dir);
        if (pg_base_rmtree(l.v[i].dir) == 0)
            (*removed_bases)++;
    }
    for (int i = 0; i < l.n; i++) {
        char newest[32];
        int checked = 0;
        struct err ce;
        if (!keep[i])
            continue;
        if (oldest == NULL)
            oldest = l.v[i].start_wal;
        err_clear(&ce);
        if (pg_wal_check_chain(wal, l.v[i].start_wal, NULL, &checked, newest, &ce) < 0 &&
            *held == NULL)
            *held = xasprintf("the chain from base backup %s is broken (%s): no WAL removed",
                              l.v[i].name, ce.msg);
    }
    if (oldest != NULL && *held == NULL)
        rc = pg_wal_remove_before(wal, oldest, removed_wal, e);
cleanup:
    pg_base_list_release(&l);
    free(keep);
    free(wal);
    return rc;
}
