/*
 * pg_pitr — point-in-time restore of PostgreSQL from the archive (see pg_pitr.h).
 */
#include "archive/pg_pitr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/pg_base.h"
#include "archive/pg_tool.h"
#include "archive/pg_wal.h"
#include "backup/encrypt.h"
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

/* BACKUP_DECRYPT_IDENTITY as an absolute path (restore_command runs in the data directory). */
static const char *identity_of(const struct pg_pitr_opts *o, char out[PATH_MAX])
{
    const char *id = backup_decrypt_identity(o->cfg->backup_decrypt_identity);

    if (id == NULL)
        return NULL;
    if (realpath(id, out) == NULL)
        snprintf(out, PATH_MAX, "%s", id);
    return out;
}

/* Is the segment first stored encrypted (the archive's WAL needs the key)? */
static bool wal_encrypted(const char *wal, const char *first)
{
    struct pg_wal_manifest m;
    const struct pg_wal_entry *x;
    char file[48];
    bool enc = false;

    if (pg_wal_manifest_load(wal, &m, NULL) == 0 && (x = pg_wal_manifest_find(&m, first)) != NULL) {
        pg_wal_stored(wal, x, file);
        enc = backup_name_encrypted(file);
    }
    pg_wal_manifest_release(&m);
    return enc;
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
    char when[64], idbuf[PATH_MAX];
    const char *identity = identity_of(o, idbuf);
    time_t now = time(NULL);
    int fd, rc = 0;

    /*
     * The shell sees: 'SELF' wal-fetch --backup-dir 'DIR' [--backup-decrypt-identity
     * 'FILE'] %f %p (paths with ' refused earlier; the identity's path, not the key).
     */
    buf_addf(&cmd, "'%s' wal-fetch --backup-dir '%s'", o->self, o->cfg->backup_dir);
    if (identity != NULL)
        buf_addf(&cmd, " --backup-decrypt-identity '%s'", identity);
    buf_adds(&cmd, " %f %p");
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
    char idbuf[PATH_MAX];
    const char *identity = identity_of(o, idbuf);
    double t0 = time_mono();
    int rc;

    memset(r, 0, sizeof(*r));
    rc = pg_base_list_load(o->cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    if (strchr(o->self, '\'') != NULL || strchr(o->cfg->backup_dir, '\'') != NULL ||
        (identity != NULL && strchr(identity, '\'') != NULL)) {
        rc = err_set(e, ERR_RESTORE_REFUSED,
                     "the program's path, BACKUP_DIR or BACKUP_DECRYPT_IDENTITY holds a quote (') "
                     "that restore_command cannot carry");
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
    /* Encrypted: refused before anything is written when the key is not at hand. */
    if (identity == NULL && (b->encrypted || wal_encrypted(wal, b->start_wal))) {
        rc = err_set(e, ERR_CONFIG,
                     "the archive is encrypted (base backup %s%s): set BACKUP_DECRYPT_IDENTITY "
                     "to the age identity file that decrypts it; nothing was written",
                     b->name, b->encrypted ? "" : "'s WAL");
        goto cleanup;
    }
    if ((rc = check_sha(b->dir, pg_base_file(b, PG_BASE_TAR), b->sha_base, e)) < 0 ||
        (rc = check_sha(b->dir, pg_base_file(b, PG_BASE_WAL_TAR), b->sha_wal, e)) < 0 ||
        (rc = check_sha(b->dir, "backup_manifest", b->sha_manifest, e)) < 0 ||
        (rc = pgtool_find("pg_verifybackup", b->server_major, &vb, e)) < 0 ||
        (rc = prepare_dir(o->pgdata, e)) < 0)
        goto cleanup;
    manifest = xasprintf("%s/backup_manifest", b->dir);
    if (b->encrypted) {
        /* Decrypted beside the data (same disk), extracted, then removed. */
        char *sb = xasprintf("%s/%s", b->dir, pg_base_file(b, PG_BASE_TAR));
        char *sw = xasprintf("%s/%s", b->dir, pg_base_file(b, PG_BASE_WAL_TAR));
        base_tar = xasprintf("%s/.restore-%s", o->pgdata, PG_BASE_TAR);
        wal_tar = xasprintf("%s/.restore-%s", o->pgdata, PG_BASE_WAL_TAR);
        log_info("restore: decrypting base backup %s", b->name);
        rc = pg_base_decrypt(sb, identity, base_tar, e);
        if (rc == 0)
            rc = pg_base_decrypt(sw, identity, wal_tar, e);
        free(sb);
        free(sw);
    } else {
        base_tar = xasprintf("%s/%s", b->dir, PG_BASE_TAR);
        wal_tar = xasprintf("%s/%s", b->dir, PG_BASE_WAL_TAR);
    }
    log_info("restore: extracting base backup %s into '%s'", b->name, o->pgdata);
    if (rc == 0)
        rc = pg_base_extract(base_tar, wal_tar, o->pgdata, e);
    if (b->encrypted) {
        unlink(base_tar);
        unlink(wal_tar);
    }
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
