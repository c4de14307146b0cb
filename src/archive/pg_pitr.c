/*
 * pg_pitr — point-in-time restore of PostgreSQL from the archive (see pg_pitr.h).
 */
#include "archive/pg_pitr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/pg_base.h"
#include "archive/pg_tool.h"
#include "archive/pg_wal.h"
#include "backup/psql.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"

#define VERIFY_TIMEOUT_S (6 * 3600)

/* The newest base backup from which the target can be reached; NULL when none. */
static const struct pg_base *choose_base(const struct pg_pitr_opts *o, const struct pg_base_list *l)
{
    for (int i = l->n - 1; i >= 0; i--) {
        const struct pg_base *b = &l->v[i];
        if (o->base != NULL && strcmp(b->name, o->base) != 0)
            continue;
        if (o->kind == PG_TARGET_TIME && b->finished > o->time)
            continue;
        if (o->kind == PG_TARGET_LSN && pg_lsn_cmp(b->end_lsn, o->value) > 0)
            continue;
        return b;
    }
    return NULL;
}

/* An empty directory, created when missing. */
static int prepare_dir(const char *dir, struct err *e)
{
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return err_set(e, ERR_RESTORE_REFUSED, "cannot create '%s': %s", dir, strerror(errno));
    d = opendir(dir);
    if (d == NULL)
        return err_set(e, ERR_RESTORE_REFUSED, "cannot read '%s': %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            rc = err_set(e, ERR_RESTORE_REFUSED,
                         "'%s' is not empty: give a new or empty directory with --pgdata", dir);
            break;
        }
    closedir(d);
    if (rc == 0 && chmod(dir, 0700) != 0)
        rc = err_set(e, ERR_RESTORE_REFUSED, "cannot chmod '%s': %s", dir, strerror(errno));
    return rc;
}

static int check_sha(const char *dir, const char *name, const char *want, struct err *e)
{
    char *p = xasprintf("%s/%s", dir, name);
    char sha[HASH_SHA256_HEX];
    uint64_t size;
    int rc = 0;

    if (hash_sha256_file(p, sha, &size) != 0)
        rc = err_set(e, ERR_VERIFY, "cannot read '%s': %s", p, strerror(errno));
    else if (strcmp(sha, want) != 0)
        rc = err_set(e, ERR_VERIFY, "'%s' is damaged: its SHA-256 differs from base.json", p);
    free(p);
    return rc;
}

/* 'text' with ' doubled: a string of postgresql.conf. */
static void add_conf_string(struct buf *b, const char *key, const char *v)
{
    buf_addf(b, "%s = '", key);
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '\'')
            buf_adds(b, "''");
        else
            buf_addc(b, *p);
    }
    buf_adds(b, "'\n");
}

static int write_recovery(const struct pg_pitr_opts *o, struct err *e)
{
    char *signal = xasprintf("%s/recovery.signal", o->pgdata);
    char *conf = xasprintf("%s/postgresql.auto.conf", o->pgdata);
    struct buf b = BUF_INIT, cmd = BUF_INIT;
    char when[64];
    time_t now = time(NULL);
    int fd, rc = 0;

    /* The shell sees: 'SELF' wal-fetch --backup-dir 'DIR' %f %p (paths with ' refused earlier). */
    buf_addf(&cmd, "'%s' wal-fetch --backup-dir '%s' %%f %%p", o->self, o->cfg->backup_dir);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    buf_addf(&b,
             "\n# Point-in-time restore by citaplanner, %s: remove these lines once the "
             "server is open.\n",
             when);
    add_conf_string(&b, "restore_command", buf_str(&cmd));
    switch (o->kind) {
    case PG_TARGET_TIME:
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S+00", gmtime(&o->time));
        add_conf_string(&b, "recovery_target_time", when);
        break;
    case PG_TARGET_LSN:
        add_conf_string(&b, "recovery_target_lsn", o->value);
        break;
    case PG_TARGET_XID:
        add_conf_string(&b, "recovery_target_xid", o->value);
        break;
    case PG_TARGET_LATEST:
        break;
    }
    if (o->exclusive)
        add_conf_string(&b, "recovery_target_inclusive", "off");
    add_conf_string(&b, "recovery_target_timeline", "latest");
    add_conf_string(&b, "recovery_target_action", "promote");
    fd = open(conf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) != 0)
        rc = err_set(e, ERR_BACKUP, "cannot write '%s': %s", conf, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = file_write_atomic(signal, "", 0, 0600, ERR_BACKUP, e);
    buf_release(&b);
    buf_release(&cmd);
    free(signal);
    free(conf);
    return rc;
}

int pg_pitr_restore(const struct pg_pitr_opts *o, struct pg_pitr_result *r, struct err *e)
{
    struct pg_base_list l;
    const struct pg_base *b;
    char *wal = xasprintf("%s/%s", o->cfg->backup_dir, ARCHIVE_PG_SUBDIR);
    char *base_tar = NULL, *wal_tar = NULL, *manifest = NULL;
    struct pgtool vb = {0};
    double t0 = time_mono();
    int rc;

    memset(r, 0, sizeof(*r));
    rc = pg_base_list_load(o->cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    if (strchr(o->self, '\'') != NULL || strchr(o->cfg->backup_dir, '\'') != NULL) {
        rc = err_set(e, ERR_RESTORE_REFUSED,
                     "the program's path or BACKUP_DIR holds a quote (') that restore_command "
                     "cannot carry");
        goto cleanup;
    }
    b = choose_base(o, &l);
    if (b == NULL) {
        rc = err_set(e, ERR_RESTORE_REFUSED,
                     l.n == 0 ? "the archive in '%s' has no base backup: take one with "
                                "'citaplanner backup base'"
                              : "no base backup in '%s' finished before the target (the oldest "
                                "finished at its 'finished' time in base.json)",
                     o->cfg->backup_dir);
        goto cleanup;
    }
    snprintf(r->base, sizeof(r->base), "%s", b->name);
    r->base_finished = b->finished;
    r->server_major = b->server_major;
    /* The whole chain first: nothing is written when a segment is missing or damaged. */
    rc = pg_wal_check_chain(wal, b->start_wal, NULL, &r->segments, r->newest, e);
    if (rc < 0) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", e->msg);
        rc = err_set(e, ERR_VERIFY, "restore stopped before writing anything: %s", msg);
        goto cleanup;
    }
    if ((rc = check_sha(b->dir, "base.tar.gz", b->sha_base, e)) < 0 ||
        (rc = check_sha(b->dir, "pg_wal.tar.gz", b->sha_wal, e)) < 0 ||
        (rc = check_sha(b->dir, "backup_manifest", b->sha_manifest, e)) < 0 ||
        (rc = pgtool_find("pg_verifybackup", b->server_major, &vb, e)) < 0 ||
        (rc = prepare_dir(o->pgdata, e)) < 0)
        goto cleanup;
    base_tar = xasprintf("%s/base.tar.gz", b->dir);
    wal_tar = xasprintf("%s/pg_wal.tar.gz", b->dir);
    manifest = xasprintf("%s/backup_manifest", b->dir);
    log_info("restore: extracting base backup %s into '%s'", b->name, o->pgdata);
    rc = pg_base_extract(base_tar, wal_tar, o->pgdata, e);
    if (rc == 0) {
        char *argv[] = {vb.path, "--quiet", "--manifest-path", manifest, (char *)o->pgdata, NULL};
        rc = pg_tool_run(vb.path, argv, NULL, VERIFY_TIMEOUT_S, e);
    }
    if (rc == 0)
        rc = write_recovery(o, e);
    r->seconds = time_mono() - t0;
cleanup:
    pgtool_free(&vb);
    pg_base_list_release(&l);
    free(wal);
    free(base_tar);
    free(wal_tar);
    free(manifest);
    return rc;
}
