/*
 * runtime — the private runtime directory: passfiles, and the records of
 * scratch databases and unpacked copies that a killed run would leave (see
 * runtime.h).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/files.h"
#include "backup/runtime.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"

#define RECORD_PREFIX "record."

static const char *opt_runtime, *opt_xdg;

void backup_runtime_set_dirs(const char *runtime_dir, const char *xdg_runtime_dir)
{
    opt_runtime = runtime_dir;
    opt_xdg = xdg_runtime_dir;
}

/* Where the directory goes (see runtime.h); caller frees. */
static char *runtime_path(void)
{
    const char *sd = opt_runtime, *xdg = opt_xdg, *tmp = backup_tmp_dir();

    if (sd != NULL && sd[0] == '/')
        return xstrndup(sd, strcspn(sd, ":")); /* systemd lists several with ':' */
    if (xdg != NULL && xdg[0] == '/')
        return xasprintf("%s/citaplanner", xdg);
    return xasprintf("%s/citaplanner-%ld", tmp[0] == '/' ? tmp : "/tmp", (long)geteuid());
}

int backup_runtime_dir(char **out, struct err *e)
{
    char *dir = runtime_path();
    struct stat sb;
    int rc = 0;

    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = err_set(e, errno == ENOSPC || errno == EDQUOT ? ERR_NO_SPACE : ERR_BACKUP,
                     "cannot create the private runtime directory '%s': %s", dir, strerror(errno));
        goto cleanup;
    }
    /* Ours alone: another user's directory (or a link to one) would see the password. */
    if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
        rc = err_set(e, ERR_BACKUP,
                     "the private runtime directory '%s' is not a directory of this user: "
                     "remove it",
                     dir);
        goto cleanup;
    }
    if ((sb.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot make the private runtime directory '%s' private: %s",
                     dir, strerror(errno));
        goto cleanup;
    }
    *out = dir;
    dir = NULL;

cleanup:
    free(dir);
    return rc;
}

/* The server a scratch database lives on, as a record names it. */
static char *server_of(const struct url *db)
{
    return xasprintf("%s:%d", db->host != NULL ? db->host : "", db->port);
}

int backup_runtime_record(enum backup_record_kind kind, const char *what, const struct url *db,
                          char **record, struct err *e)
{
    static int counter;
    char *dir = NULL, *text = NULL, *server = NULL;
    int rc;

    *record = NULL;
    rc = backup_runtime_dir(&dir, e);
    if (rc < 0)
        return rc;
    if (kind == BACKUP_RECORD_DATABASE) {
        server = server_of(db);
        text = xasprintf("database\n%s\n%s\n", what, server);
    } else {
        text = xasprintf("file\n%s\n", what);
    }
    *record = xasprintf("%s/" RECORD_PREFIX "%ld.%d", dir, (long)getpid(),
                        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    rc = backup_write_new_file(*record, text, strlen(text), e);
    if (rc < 0) {
        free(*record);
        *record = NULL;
    }
    free(text);
    free(server);
    free(dir);
    return rc;
}

void backup_runtime_forget(char *record)
{
    if (record == NULL)
        return;
    unlink(record);
    free(record);
}

static void unlink_with_journals(const char *p)
{
    const char *sfx[] = {"", "-journal", "-wal", "-shm"};

    for (int i = 0; i < 4; i++) {
        char *q = xasprintf("%s%s", p, sfx[i]);
        if (unlink(q) == 0)
            log_info("removed '%s', left by a run that was killed", q);
        free(q);
    }
}

/* Drop a dead run's scratch database; 0 when it is gone. */
static int drop_database(const char *name, const struct url *db)
{
    struct db *admin = NULL;
    struct err e;
    int rc;

    err_clear(&e);
    rc = db_open(db, DB_CONNECT_TIMEOUT_S, &admin, &e);
    if (rc == 0) {
        char *q = db_quote_ident(name);
        char *sql = xasprintf(db_server_version_num(admin) >= 130000
                                  ? "DROP DATABASE IF EXISTS %s WITH (FORCE)"
                                  : "DROP DATABASE IF EXISTS %s",
                              q);
        rc = db_exec(admin, sql, &e);
        free(sql);
        free(q);
    }
    if (rc == 0)
        log_info("dropped the scratch database '%s', left by a deep verification that was killed",
                 name);
    else
        log_warn("cannot drop the scratch database '%s' left by a killed run: %s", name, e.msg);
    db_close(admin);
    return rc;
}

/* Act on one record of a dead run: 0 when what it names is gone (the record may go). */
static int sweep_record(const char *path, const struct url *db)
{
    char text[4096], *lines[3] = {NULL, NULL, NULL}, *save = NULL;
    FILE *f = fopen(path, "re");
    size_t n;
    int rc = 0;

    if (f == NULL)
        return 0;
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* A record cut short was being written: nothing was created after it. */
    for (int i = 0; i < 3; i++)
        lines[i] = strtok_r(i == 0 ? text : NULL, "\n", &save);
    if (lines[0] != NULL && lines[1] != NULL && strcmp(lines[0], "file") == 0) {
        unlink_with_journals(lines[1]);
    } else if (lines[0] != NULL && lines[1] != NULL && lines[2] != NULL &&
               strcmp(lines[0], "database") == 0) {
        char *server = db != NULL && db->kind == URL_POSTGRES ? server_of(db) : NULL;
        if (server == NULL || strcmp(server, lines[2]) != 0)
            rc = -1; /* another server's: kept for a run that can reach it */
        else
            rc = drop_database(lines[1], db);
        free(server);
    }
    return rc;
}

void backup_runtime_sweep(const struct url *db)
{
    char *dir = NULL;
    DIR *d = NULL;
    struct dirent *de;
    struct err e;

    err_clear(&e);
    if (backup_runtime_dir(&dir, &e) < 0) {
        log_warn("%s", e.msg);
        return;
    }
    d = opendir(dir);
    while (d != NULL && (de = readdir(d)) != NULL) {
        long pid;
        char *end = NULL;
        if (strncmp(de->d_name, RECORD_PREFIX, strlen(RECORD_PREFIX)) != 0)
            continue;
        pid = strtol(de->d_name + strlen(RECORD_PREFIX), &end, 10);
        if (pid <= 0 || end == NULL || *end != '.' || pid == (long)getpid() ||
            kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue;
        char *p = xasprintf("%s/%s", dir, de->d_name);
        if (sweep_record(p, db) == 0)
            unlink(p);
        free(p);
    }
    if (d != NULL)
        closedir(d);
    /* The passfile directories of dead runs. */
    if (backup_cleanup_stale(dir, NULL, &e) < 0)
        log_warn("%s", e.msg);
    free(dir);
}
