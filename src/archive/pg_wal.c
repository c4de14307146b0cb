/*
 * pg_wal — PostgreSQL's archive as files (see pg_wal.h).
 */
#include "archive/pg_wal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/sqlite_wal.h"
#include "backup/encrypt.h"
#include "common/file.h"
#include "common/util.h"

#define DEFAULT_SEGSIZE (16ULL << 20)

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || islower((unsigned char)s[i]))
            return false;
    return true;
}

bool pg_wal_is_segment(const char *name)
{
    return strlen(name) == PG_WAL_NAME_LEN && all_hex(name, PG_WAL_NAME_LEN);
}

bool pg_wal_is_history(const char *name)
{
    return strlen(name) == 16 && all_hex(name, 8) && strcmp(name + 8, ".history") == 0;
}

static uint64_t segs_per_id(uint64_t segsize)
{
    return 0x100000000ULL / (segsize ? segsize : DEFAULT_SEGSIZE);
}

void pg_wal_parse(const char *name, uint32_t *tli, uint64_t *segno, uint64_t segsize)
{
    char part[9] = {0};

    memcpy(part, name, 8);
    *tli = (uint32_t)strtoul(part, NULL, 16);
    memcpy(part, name + 8, 8);
    uint64_t log = strtoull(part, NULL, 16);
    memcpy(part, name + 16, 8);
    *segno = log * segs_per_id(segsize) + strtoull(part, NULL, 16);
}

void pg_wal_name(char out[32], uint32_t tli, uint64_t segno, uint64_t segsize)
{
    snprintf(out, 32, "%08X%08X%08X", tli, (uint32_t)(segno / segs_per_id(segsize)),
             (uint32_t)(segno % segs_per_id(segsize)));
}

/* ---- the manifest ---- */

/*
 * The manifest's writers (the archiver filing segments, the retention
 * removing them) take dir/.manifest.lock and read it anew, so neither
 * writes back a stale copy.  -1 when the lock cannot be had (logged by the
 * caller's error).
 */
static int manifest_lock(const char *dir, struct err *e)
{
    char *path = xasprintf("%s/.manifest.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        err_set(e, ERR_BACKUP, "cannot lock '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    free(path);
    return fd;
}

static void manifest_push(struct pg_wal_manifest *m, const struct pg_wal_entry *x)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = xrealloc(m->v, (size_t)m->cap * sizeof(*m->v));
    }
    m->v[m->n++] = *x;
}

int pg_wal_manifest_load(const char *dir, struct pg_wal_manifest *m, struct err *e)
{
    char *path = xasprintf("%s/manifest", dir);
    FILE *f = fopen(path, "r");
    char line[512];
    int rc = 0, lineno = 0;

    memset(m, 0, sizeof(*m));
    if (f == NULL) {
        if (errno != ENOENT)
            rc = err_set(e, ERR_VERIFY, "cannot read '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        struct pg_wal_entry x;
        char kind[16];
        long long t = 0;
        int n;

        lineno++;
        memset(&x, 0, sizeof(x));
        n = sscanf(line, "%15s %31s %64s %" SCNu64, kind, x.name, x.sha256, &x.size);
        if (n == 4 && strcmp(kind, "segment") == 0 && pg_wal_is_segment(x.name) &&
            sscanf(line, "%*s %*s %*s %*s %" SCNu64 " %lld", &x.rawsize, &t) == 2) {
            x.time = (time_t)t;
        } else if (n == 4 && strcmp(kind, "history") == 0 && pg_wal_is_history(x.name) &&
                   sscanf(line, "%*s %*s %*s %*s %lld", &t) == 1) {
            x.history = true;
            x.time = (time_t)t;
        } else {
            rc = err_set(e, ERR_VERIFY, "'%s' line %d is not an archive record", path, lineno);
            break;
        }
        manifest_push(m, &x);
    }
    fclose(f);
cleanup:
    free(path);
    if (rc < 0)
        pg_wal_manifest_release(m);
    return rc;
}

void pg_wal_manifest_release(struct pg_wal_manifest *m)
{
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static int manifest_write(const char *dir, const struct pg_wal_manifest *m, struct err *e)
{
    struct buf b = BUF_INIT;
    char *path = xasprintf("%s/manifest", dir);
    int rc;

    for (int i = 0; i < m->n; i++) {
        const struct pg_wal_entry *y = &m->v[i];
        if (y->history)
            buf_addf(&b, "history %s %s %" PRIu64 " %lld\n", y->name, y->sha256, y->size,
                     (long long)y->time);
        else
            buf_addf(&b, "segment %s %s %" PRIu64 " %" PRIu64 " %lld\n", y->name, y->sha256,
                     y->size, y->rawsize, (long long)y->time);
    }
    rc = file_write_atomic(path, b.data != NULL ? b.data : "", b.len, 0600, ERR_BACKUP, e);
    buf_release(&b);
    free(path);
    return rc;
}

int pg_wal_remove_before(const char *dir, const char *first, int *removed, struct err *e)
{
    struct pg_wal_manifest m, keep;
    int rc;

    *removed = 0;
    memset(&keep, 0, sizeof(keep));
    int lock = manifest_lock(dir, e);
    if (lock < 0)
        return -ERR_BACKUP;
    rc = pg_wal_manifest_load(dir, &m, e);
    if (rc < 0) {
        close(lock);
        return rc;
    }
    for (int i = 0; i < m.n; i++)
        if (m.v[i].history || strcmp(m.v[i].name, first) >= 0)
            manifest_push(&keep, &m.v[i]);
    if (keep.n != m.n)
        rc = manifest_write(dir, &keep, e);
    for (int i = 0; i < m.n && rc == 0; i++) {
        if (m.v[i].history || strcmp(m.v[i].name, first) >= 0)
            continue;
        char file[48];
        pg_wal_stored(dir, &m.v[i], file);
        char *path = xasprintf("%s/%s", dir, file);
        if (unlink(path) == 0 || errno == ENOENT)
            (*removed)++;
        free(path);
    }
    close(lock);
    pg_wal_manifest_release(&m);
    pg_wal_manifest_release(&keep);
    return rc;
}

const struct pg_wal_entry *pg_wal_manifest_find(const struct pg_wal_manifest *m, const char *name)
{
    for (int i = m->n - 1; i >= 0; i--)
        if (strcmp(m->v[i].name, name) == 0)
            return &m->v[i];
    return NULL;
}

void pg_wal_stored(const char *dir, const struct pg_wal_entry *x, char out[48])
{
    char *p;

    if (x->history) {
        snprintf(out, 48, "%s", x->name);
        return;
    }
    snprintf(out, 48, "%s.gz%s", x->name, BACKUP_ENC_EXT);
    p = xasprintf("%s/%s", dir, out);
    if (access(p, F_OK) != 0)
        snprintf(out, 48, "%s.gz", x->name);
    free(p);
}

int pg_wal_manifest_add(const char *dir, struct pg_wal_manifest *m, const struct pg_wal_entry *x,
                        struct err *e)
{
    int rc;

    manifest_push(m, x);
    rc = manifest_write(dir, m, e);
    if (rc < 0)
        m->n--;
    return rc;
}

/* ---- filing what pg_receivewal completed ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir that keep() accepts, sorted.  Caller frees each and the vector. */
static char **list_dir(const char *dir, bool (*keep)(const char *), int *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL;
    int n = 0, cap = 0;

    *count = 0;
    if (d == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        if (!keep(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            v = xrealloc(v, (size_t)cap * sizeof(*v));
        }
        v[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(v, (size_t)n, sizeof(*v), by_name);
    *count = n;
    return v;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool is_completed(const char *name)
{
    return pg_wal_is_segment(name) || pg_wal_is_history(name);
}

static int file_one(const char *dir, struct pg_wal_manifest *m, const char *name,
                    const char *recipient, struct err *e)
{
    char *raw = xasprintf("%s/%s", dir, name);
    char *gz = xasprintf("%s/%s.gz%s", dir, name, recipient != NULL ? BACKUP_ENC_EXT : "");
    struct pg_wal_entry x;
    struct stat sb;
    int fd = -1, rc = 0;

    memset(&x, 0, sizeof(x));
    snprintf(x.name, sizeof(x.name), "%s", name);
    x.history = pg_wal_is_history(name);
    if (pg_wal_manifest_find(m, name) != NULL) {
        /* Filed before a crash that left the segment: only its removal was missing. */
        if (!x.history && unlink(raw) != 0 && errno != ENOENT)
            rc = err_set(e, ERR_BACKUP, "cannot remove '%s': %s", raw, strerror(errno));
        goto cleanup;
    }
    fd = open(raw, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot read '%s': %s", raw, strerror(errno));
        goto cleanup;
    }
    x.time = time(NULL);
    if (x.history) {
        rc = hash_sha256_fd(fd, x.sha256, &x.size) == 0
                 ? 0
                 : err_set(e, ERR_BACKUP, "cannot read '%s': %s", raw, strerror(errno));
    } else {
        x.rawsize = (uint64_t)sb.st_size;
        rc = wal_gz_write(fd, 0, x.rawsize, gz, recipient, x.sha256, &x.size, e);
    }
    if (rc == 0)
        rc = pg_wal_manifest_add(dir, m, &x, e);
    if (rc == 0 && !x.history && unlink(raw) != 0)
        rc = err_set(e, ERR_BACKUP, "cannot remove '%s': %s", raw, strerror(errno));
    if (rc == 0 && !x.history)
        rc = file_fsync_dir(dir, ERR_BACKUP, e);
cleanup:
    if (fd >= 0)
        close(fd);
    free(raw);
    free(gz);
    return rc;
}

int pg_wal_file_completed(const char *dir, struct pg_wal_manifest *m, const char *recipient,
                          int *filed, struct err *e)
{
    int n = 0, rc = 0, lock = -1;
    char **names = list_dir(dir, is_completed, &n);

    *filed = 0;
    if (n > 0 && (lock = manifest_lock(dir, e)) < 0)
        rc = -ERR_BACKUP;
    if (lock >= 0) {
        pg_wal_manifest_release(m);
        rc = pg_wal_manifest_load(dir, m, e);
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (pg_wal_is_history(names[i]) && pg_wal_manifest_find(m, names[i]) != NULL)
            continue;
        rc = file_one(dir, m, names[i], recipient, e);
        if (rc == 0)
            (*filed)++;
    }
    if (lock >= 0)
        close(lock);
    free_list(names, n);
    return rc;
}

/* ---- the chain ---- */

static bool is_chain_file(const char *name)
{
    size_t n = strlen(name);
    if ((n == PG_WAL_NAME_LEN + 3 && strcmp(name + PG_WAL_NAME_LEN, ".gz") == 0) ||
        (n == PG_WAL_NAME_LEN + 7 && strcmp(name + PG_WAL_NAME_LEN, ".gz" BACKUP_ENC_EXT) == 0))
        return all_hex(name, PG_WAL_NAME_LEN);
    if (n == PG_WAL_NAME_LEN + 8 && strcmp(name + PG_WAL_NAME_LEN, ".partial") == 0)
        return all_hex(name, PG_WAL_NAME_LEN);
    return pg_wal_is_segment(name);
}

static bool is_partial(const char *name)
{
    return strlen(name) == PG_WAL_NAME_LEN + 8 && strcmp(name + PG_WAL_NAME_LEN, ".partial") == 0 &&
           all_hex(name, PG_WAL_NAME_LEN);
}

/* Does the file at path hold nothing but zero bytes (or nothing)?  false when unreadable. */
static bool all_zero(const char *path)
{
    static const unsigned char zero[8192];
    unsigned char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = 0;

    if (fd < 0)
        return false;
    while ((n = read(fd, buf, sizeof(buf))) > 0 && memcmp(buf, zero, (size_t)n) == 0)
        ;
    close(fd);
    return n == 0;
}

int pg_wal_drop_unwritten(const char *dir)
{
    int n = 0, removed = 0;
    char **files = list_dir(dir, is_partial, &n);

    for (int i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", dir, files[i]);
        if (all_zero(path) && unlink(path) == 0)
            removed++;
        free(path);
        free(files[i]);
    }
    free(files);
    if (removed > 0) {
        struct err e;
        file_fsync_dir(dir, ERR_BACKUP, &e);
    }
    return removed;
}

void pg_wal_progress(const char *dir, char out[PG_WAL_PROGRESS_MAX])
{
    int n = 0;
    char **files = list_dir(dir, is_partial, &n);
    const char *newest = NULL;
    struct stat sb;

    out[0] = '\0';
    for (int i = 0; i < n; i++)
        if (newest == NULL || strcmp(files[i], newest) > 0)
            newest = files[i];
    if (newest != NULL) {
        char *path = xasprintf("%s/%s", dir, newest);
        if (stat(path, &sb) == 0)
            snprintf(out, PG_WAL_PROGRESS_MAX, "%s %lld.%09ld", newest,
                     (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
        free(path);
    }
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

/* A filed segment's stored file hashes to its manifest line. */
static int check_filed(const char *dir, const struct pg_wal_entry *x, bool hash, struct err *e)
{
    char file[48], *path, sha[HASH_SHA256_HEX];
    uint64_t size = 0;
    int rc = 0;
    struct stat sb;

    pg_wal_stored(dir, x, file);
    path = xasprintf("%s/%s", dir, file);

    if (!hash) {
        /* Present with its recorded size: what a page may check on every load. */
        if (stat(path, &sb) != 0)
            rc = err_set(e, ERR_VERIFY, "WAL segment %s is missing from the archive ('%s': %s)",
                         x->name, path, strerror(errno));
        else if ((uint64_t)sb.st_size != x->size)
            rc = err_set(e, ERR_VERIFY,
                         "WAL segment %s is damaged: '%s' is not the size its manifest says",
                         x->name, path);
    } else if (hash_sha256_file(path, sha, &size) != 0)
        rc = err_set(e, ERR_VERIFY, "WAL segment %s is missing from the archive ('%s': %s)",
                     x->name, path, strerror(errno));
    else if (strcmp(sha, x->sha256) != 0 || size != x->size)
        rc = err_set(e, ERR_VERIFY,
                     "WAL segment %s is damaged: '%s' does not match its SHA-256 in the manifest",
                     x->name, path);
    free(path);
    return rc;
}

static int check_chain(const char *dir, const char *first, const char *last, bool hash,
                       int *checked, char *newest, struct err *e);

int pg_wal_check_chain(const char *dir, const char *first, const char *last, int *checked,
                       char *newest, struct err *e)
{
    return check_chain(dir, first, last, true, checked, newest, e);
}

int pg_wal_check_names(const char *dir, const char *first, int *checked, char *newest,
                       struct err *e)
{
    return check_chain(dir, first, NULL, false, checked, newest, e);
}

static int check_chain(const char *dir, const char *first, const char *last, bool hash,
                       int *checked, char *newest, struct err *e)
{
    struct pg_wal_manifest m;
    int n = 0, rc;
    char **files = NULL, **names;
    int nnames = 0;
    char prev[32] = "";
    uint64_t segsize = DEFAULT_SEGSIZE;

    *checked = 0;
    if (newest != NULL)
        newest[0] = '\0';
    rc = pg_wal_manifest_load(dir, &m, e);
    if (rc < 0)
        return rc;
    /* Every segment the archive knows of: filed (manifest), completed, or partial. */
    files = list_dir(dir, is_chain_file, &n);
    names = xcalloc((size_t)(n + m.n) + 1, sizeof(char *));
    for (int i = 0; i < m.n; i++) {
        if (m.v[i].history)
            continue;
        names[nnames++] = xstrdup(m.v[i].name);
        if (m.v[i].rawsize > 0)
            segsize = m.v[i].rawsize;
    }
    for (int i = 0; i < n; i++) {
        char base[32];
        snprintf(base, sizeof(base), "%.24s", files[i]);
        if (pg_wal_manifest_find(&m, base) == NULL)
            names[nnames++] =
                xasprintf("%s%s", base, strstr(files[i], ".partial") ? ".partial" : "");
    }
    qsort(names, (size_t)nnames, sizeof(char *), by_name);
    for (int i = 0; i < nnames && rc == 0; i++) {
        char base[32];
        uint32_t tli, ptli;
        uint64_t segno, pseg;
        const struct pg_wal_entry *x;

        snprintf(base, sizeof(base), "%.24s", names[i]);
        if (first != NULL && strcmp(base, first) < 0)
            continue;
        if (last != NULL && strcmp(base, last) > 0)
            break;
        if (prev[0] == '\0' && first != NULL && strcmp(base, first) != 0) {
            rc = err_set(e, ERR_VERIFY,
                         "WAL segment %s is missing from the archive (the oldest after it is %s)",
                         first, base);
            break;
        }
        if (prev[0] != '\0' && strcmp(prev, base) == 0)
            continue; /* the partial of a segment also filed: a resumed stream */
        pg_wal_parse(base, &tli, &segno, segsize);
        if (prev[0] != '\0') {
            pg_wal_parse(prev, &ptli, &pseg, segsize);
            if (tli == ptli && segno != pseg + 1) {
                char missing[32];
                pg_wal_name(missing, tli, pseg + 1, segsize);
                rc = err_set(e, ERR_VERIFY,
                             "WAL segment %s is missing from the archive (a gap between %s and "
                             "%s): nothing after %s can be restored",
                             missing, prev, base, prev);
                break;
            }
        }
        x = pg_wal_manifest_find(&m, base);
        if (x != NULL && (rc = check_filed(dir, x, hash, e)) < 0)
            break;
        (*checked)++;
        snprintf(prev, sizeof(prev), "%s", base);
        if (newest != NULL)
            snprintf(newest, 32, "%s", names[i]);
    }
    if (rc == 0 && first != NULL && prev[0] == '\0')
        rc = err_set(e, ERR_VERIFY,
                     "WAL segment %s is missing from the archive (it holds nothing "
                     "from there on)",
                     first);
    free_list(names, nnames);
    free_list(files, n);
    pg_wal_manifest_release(&m);
    return rc;
}

/* ---- wal-fetch ---- */

/* Copy or extract src to path through a temporary name beside it. */
static int put(const char *src, bool gz, const char *path, const char *identity, struct err *e)
{
    char *tmp = xasprintf("%s.fetch.%ld", path, (long)getpid());
    int rc;

    unlink(tmp);
    rc = gz ? wal_gz_extract(src, tmp, identity, e) : file_copy(src, tmp, ERR_VERIFY, e);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = err_set(e, ERR_VERIFY, "cannot write '%s': %s", path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int pg_wal_fetch(const char *dir, const char *name, const char *path, const char *identity,
                 struct err *e)
{
    struct pg_wal_manifest m;
    const struct pg_wal_entry *x;
    char *src = NULL;
    struct stat sb;
    int rc;

    if (!pg_wal_is_segment(name) && !pg_wal_is_history(name))
        return 1; /* backup history files and the like: not archived */
    rc = pg_wal_manifest_load(dir, &m, e);
    if (rc < 0)
        return rc;
    x = pg_wal_manifest_find(&m, name);
    if (x != NULL && x->history) {
        src = xasprintf("%s/%s", dir, name);
        char sha[HASH_SHA256_HEX];
        uint64_t size;
        if (hash_sha256_file(src, sha, &size) != 0 || strcmp(sha, x->sha256) != 0)
            rc = err_set(e, ERR_VERIFY, "'%s' is missing or damaged (its SHA-256 differs)", src);
        else
            rc = put(src, false, path, NULL, e);
    } else if (x != NULL) {
        char file[48];
        pg_wal_stored(dir, x, file);
        src = xasprintf("%s/%s", dir, file);
        rc = check_filed(dir, x, true, e);
        if (rc == 0)
            rc = put(src, true, path, identity, e);
    } else {
        /* Not filed yet: completed but not compressed, or the one being written. */
        src = xasprintf("%s/%s", dir, name);
        if (stat(src, &sb) != 0) {
            free(src);
            src = xasprintf("%s/%s.partial", dir, name);
        }
        if (stat(src, &sb) == 0) {
            rc = put(src, false, path, NULL, e);
        } else {
            rc = 1;
            for (int i = 0; i < m.n && pg_wal_is_segment(name); i++)
                if (!m.v[i].history && strncmp(m.v[i].name, name, 8) == 0 &&
                    strcmp(m.v[i].name, name) > 0) {
                    rc = err_set(e, ERR_VERIFY,
                                 "WAL segment %s is missing from the archive (a gap before %s)",
                                 name, m.v[i].name);
                    break;
                }
        }
    }
    free(src);
    pg_wal_manifest_release(&m);
    return rc;
}
