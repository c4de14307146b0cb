/*
 * files — BACKUP_DIR's directories, the run's log file, removing what a
 * crashed run left, and the small file helpers every step uses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backup/layout.h"
#include "backup/files.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"

const char *const backup_subdirs[] = {"daily",      "weekly", "monthly", "premigrate",
                                      "prerestore", "logs",   NULL};

const char *backup_enospc_why(const char *path)
{
    char *dir = path_dir(path);
    struct statvfs sv;
    bool inodes = statvfs(dir, &sv) == 0 && sv.f_files > 0 && sv.f_favail == 0 && sv.f_bavail > 0;

    free(dir);
    return inodes ? "no free inodes left on its filesystem (space remains: too many files)"
                  : strerror(ENOSPC);
}

static int io_error(struct err *e, int errnum, const char *fmt, const char *what)
{
    enum err_code code = (errnum == ENOSPC || errnum == EDQUOT) ? ERR_NO_SPACE : ERR_BACKUP;
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, what);
    return err_set(e, code, "%s: %s", msg,
                   errnum == ENOSPC ? backup_enospc_why(what) : strerror(errnum));
}

int backup_write_all(int fd, const void *p, size_t n, const char *what, struct err *e)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return io_error(e, errno, "cannot write '%s'", what);
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int backup_fsync_dir(const char *dir, struct err *e)
{
    return file_fsync_dir(dir, ERR_BACKUP, e);
}

char *backup_tmp_path(const char *dir, const char *base)
{
    return xasprintf("%s/.%s.tmp.%ld", dir, base, (long)getpid());
}

int backup_write_new_file(const char *path, const void *data, size_t n, struct err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = 0;

    if (fd < 0)
        return io_error(e, errno, "cannot create '%s'", path);
    rc = backup_write_all(fd, data, n, path, e);
    if (rc == 0 && fsync(fd) != 0)
        rc = io_error(e, errno, "cannot fsync '%s'", path);
    if (close(fd) != 0 && rc == 0)
        rc = io_error(e, errno, "cannot close '%s'", path);
    if (rc < 0)
        unlink(path);
    return rc;
}

int backup_copy_file(const char *src, const char *dst, struct err *e)
{
    return file_copy(src, dst, ERR_BACKUP, e);
}

static const char *tmp_dir;

void backup_tmp_dir_set(const char *dir)
{
    tmp_dir = dir;
}

const char *backup_tmp_dir(void)
{
    return tmp_dir != NULL && tmp_dir[0] != '\0' ? tmp_dir : "/tmp";
}

const char *backup_fmt_bytes(char out[32], uint64_t n)
{
    if (n >= 1000ull * 1000 * 1000)
        snprintf(out, 32, "%.2f GB", (double)n / 1e9);
    else if (n >= 1000ull * 1000)
        snprintf(out, 32, "%.1f MB", (double)n / 1e6);
    else if (n >= 1000)
        snprintf(out, 32, "%.1f kB", (double)n / 1e3);
    else
        snprintf(out, 32, "%llu B", (unsigned long long)n);
    return out;
}

/* mkdir 0700 when missing; an existing path must be a directory. */
static int make_dir(const char *path, struct err *e)
{
    struct stat sb;

    if (mkdir(path, 0700) == 0) {
        /* Explicit, whatever the umask. */
        if (chmod(path, 0700) != 0)
            return err_set(e, ERR_BACKUP, "cannot set the mode of '%s': %s", path, strerror(errno));
        log_info("created directory '%s'", path);
        return 0;
    }
    if (errno != EEXIST)
        return io_error(e, errno, "cannot create directory '%s'", path);
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return err_set(e, ERR_BACKUP, "'%s' exists and is not a directory", path);
    return 0;
}

/* mkdir -p for dir itself (its parents too: a fresh volume may be empty). */
static int make_dir_parents(const char *dir, struct err *e)
{
    char *p = xstrdup(dir);
    int rc = 0;

    for (char *s = p + 1; *s != '\0' && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = io_error(e, errno, "cannot create directory '%s'", p);
        *s = '/';
    }
    if (rc == 0)
        rc = make_dir(p, e);
    free(p);
    return rc;
}

int backup_dir_prepare(const char *dir, struct err *e)
{
    int rc;

    if (dir == NULL || dir[0] == '\0')
        return err_set(e, ERR_CONFIG, "BACKUP_DIR is empty");
    rc = make_dir_parents(dir, e);
    for (int i = 0; rc == 0 && backup_subdirs[i] != NULL; i++) {
        char *sub = xasprintf("%s/%s", dir, backup_subdirs[i]);
        rc = make_dir(sub, e);
        if (rc == 0 && access(sub, W_OK | X_OK) != 0)
            rc = err_set(e, ERR_BACKUP, "backup directory '%s' is not writable: %s", sub,
                         strerror(errno));
        free(sub);
    }
    if (rc == 0 && access(dir, W_OK | X_OK) != 0)
        rc = err_set(e, ERR_BACKUP, "backup directory '%s' is not writable: %s", dir,
                     strerror(errno));
    return rc;
}

/* ---- the log file ---- */

struct backup_log {
    FILE *f;
};

int backup_log_open(const char *dir, time_t now, struct backup_log **out, struct err *e)
{
    struct tm tm;
    char day[16];
    char *path = NULL;
    int fd = -1;
    int rc = 0;
    FILE *f = NULL;

    *out = NULL;
    localtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    path = xasprintf("%s/logs/backup_%s.log", dir, day);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = io_error(e, errno, "cannot open the log file '%s'", path);
        goto cleanup;
    }
    f = fdopen(fd, "a");
    if (f == NULL) {
        rc = err_set(e, ERR_BACKUP, "cannot open the log file '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    *out = xcalloc(1, sizeof(**out));
    (*out)->f = f;
    f = NULL;
    log_set_tee((*out)->f);

cleanup:
    if (fd >= 0)
        close(fd);
    if (f != NULL)
        fclose(f);
    free(path);
    return rc;
}

void backup_log_close(struct backup_log *l)
{
    if (l == NULL)
        return;
    log_set_tee(NULL);
    fclose(l->f);
    free(l);
}

/* ---- what a crashed run left ---- */

/*
 * The pid of a temporary name ".<anything>.tmp.<pid>" (optionally followed
 * by SQLite's "-journal", "-wal" or "-shm"); 0 when name is not one.
 */
static long tmp_pid(const char *name)
{
    const char *t;
    char *end = NULL;
    long pid;

    if (name[0] != '.' || (t = strstr(name, ".tmp.")) == NULL)
        return 0;
    /* The last ".tmp." is the one we appended. */
    for (const char *n = t; (n = strstr(n + 1, ".tmp.")) != NULL;)
        t = n;
    errno = 0;
    pid = strtol(t + 5, &end, 10);
    if (errno != 0 || end == t + 5 || pid <= 0)
        return 0;
    if (*end != '\0' && strcmp(end, "-journal") != 0 && strcmp(end, "-wal") != 0 &&
        strcmp(end, "-shm") != 0)
        return 0;
    return pid;
}

static bool pid_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Remove a file, or a directory of files (the private passfile directory). */
static int remove_entry(const char *path)
{
    struct stat sb;
    DIR *d;
    struct dirent *de;

    if (lstat(path, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    d = opendir(path);
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *p = xasprintf("%s/%s", path, de->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    return rmdir(path);
}

static int cleanup_dir(const char *dir, bool tier_dir, int *removed, struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, ERR_BACKUP, "cannot read '%s': %s", dir, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        long pid = tmp_pid(name);
        char *path = NULL;

        if (pid > 0 && pid != (long)getpid() && !pid_alive(pid)) {
            path = xasprintf("%s/%s", dir, name);
            if (remove_entry(path) == 0) {
                log_info("removed '%s', left by an interrupted run (pid %ld)", path, pid);
                (*removed)++;
            } else {
                log_warn("cannot remove '%s': %s", path, strerror(errno));
            }
        } else if (tier_dir && (str_ends_with(name, ".sha256") || str_ends_with(name, ".json"))) {
            size_t len = strlen(name) - (str_ends_with(name, ".json") ? 5 : 7);
            char *base = xstrndup(name, len);
            char *data = xasprintf("%s/%s", dir, base);
            struct stat sb;

            if (backup_name_parse(base, NULL, NULL, NULL) == 0 && lstat(data, &sb) != 0 &&
                errno == ENOENT) {
                path = xasprintf("%s/%s", dir, name);
                if (unlink(path) == 0) {
                    log_info("removed '%s': its data file is missing (an interrupted run)", path);
                    (*removed)++;
                } else {
                    log_warn("cannot remove '%s': %s", path, strerror(errno));
                }
            }
            free(base);
            free(data);
        }
        free(path);
    }
    closedir(d);
    return 0;
}

int backup_cleanup_stale(const char *dir, int *removed, struct err *e)
{
    int n = 0;
    int rc = cleanup_dir(dir, false, &n, e);

    for (int t = 0; rc == 0 && t < BACKUP_TIER_COUNT; t++) {
        char *sub = xasprintf("%s/%s", dir, backup_tier_name((enum backup_tier)t));
        rc = cleanup_dir(sub, true, &n, e);
        free(sub);
    }
    if (removed != NULL)
        *removed = n;
    return rc;
}
