/*
 * pgdump — running pg_dump in a snapshot shared with the manifest's row
 * counts.  See pgdump.h.
 *
 * Why a snapshot: pg_dump and our count(*) queries run on two connections;
 * without a shared snapshot a row inserted between them would make the
 * manifest disagree with the dump.  Our session exports its REPEATABLE READ
 * snapshot and pg_dump imports it (--snapshot), so both see the same data.
 *
 * Why never argv: any user can read every process's command line
 * (/proc/PID/cmdline, ps).  pg_dump gets the connection through PG*
 * environment variables and the password through a passfile that only we
 * can read, in a private directory removed as soon as pg_dump exits (or by
 * the next run's cleanup after a crash: its name is a temporary one).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/stream.h"
#include "backup/pgdump.h"
#include "db/db_backup.h"
#include "backup/psql.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"
#include "migrate/migrate.h"

/* What pg_dump's plain output ends with (before psql's \unrestrict line, in newer releases). */
static const char closing_line[] = "\n-- PostgreSQL database dump complete\n";

#define TAIL_MAX 512

/* ---- the snapshot session ---- */

static int read_stats(struct db *db, struct db_snapshot_stats *st, struct err *e)
{
    int rc = db_table_counts(db, &st->tables, &st->rows, &st->ntables, e);

    if (rc == 0)
        rc = db_schema_objects(db, &st->objects, &st->nobjects, e);

    for (int i = 0; rc == 0 && i < st->ntables; i++)
        if (strcmp(st->tables[i], "_migrations") == 0)
            rc = migrate_schema_version(db, &st->schema_version, e);
    return rc;
}

/* ---- the dump ---- */

/* Keep the last TAIL_MAX bytes seen. */
static void tail_add(char *tail, size_t *len, const char *p, size_t n)
{
    if (n >= TAIL_MAX) {
        memcpy(tail, p + n - TAIL_MAX, TAIL_MAX);
        *len = TAIL_MAX;
        return;
    }
    if (*len + n > TAIL_MAX) {
        size_t drop = *len + n - TAIL_MAX;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, p, n);
    *len += n;
}

static bool tail_complete(const char *tail, size_t len)
{
    size_t cl = strlen(closing_line);

    for (size_t i = 0; i + cl <= len; i++)
        if (memcmp(tail + i, closing_line, cl) == 0)
            return true;
    return false;
}

/*
 * Start path (argv) with stdin from /dev/null, stdout and stderr into two
 * pipes (*out_fd, *err_fd: ours to read and close).
 */
static int spawn_piped(const char *path, char *const argv[], char *const envp[], pid_t *pid,
                       int *out_fd, int *err_fd, struct err *e)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    int rc;

    *out_fd = *err_fd = -1;
    if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    rc = proc_spawn(path, argv, envp, -1, po[1], pe[1], false, ERR_BACKUP, NULL, pid, e);
    if (rc < 0)
        goto cleanup;
    *out_fd = po[0];
    *err_fd = pe[0];
    po[0] = pe[0] = -1;

cleanup:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
    return rc;
}

int backup_pg_dump(const struct backup_pg_run *run, struct db_snapshot_stats *st,
                   char **pg_dump_version, struct err *e)
{
    struct db *db = NULL;
    char **envp = NULL;
    char *path = NULL, *snapshot = NULL, *version = NULL;
    char *pdir = NULL, *pfile = NULL;
    const char *password = backup_pg_password(run->url);
    struct proc_output errout = {0};
    char tail[TAIL_MAX];
    size_t tail_len = 0;
    int server_major;
    struct pgtool tool = {0};
    pid_t pid = -1;
    int out = -1, errfd = -1, status = 0;
    bool killed = false;
    int rc;

    *pg_dump_version = NULL;
    rc = db_open(run->url, DB_CONNECT_TIMEOUT_S, &db, e);
    if (rc < 0)
        goto cleanup;
    snprintf(st->server_version, sizeof(st->server_version), "%s", db_server_version(db));
    server_major = db_server_version_num(db) / 10000;

    rc = pgtool_find("pg_dump", server_major, &tool, e);
    if (rc < 0)
        goto cleanup;
    path = tool.path;
    version = tool.version;
    tool.path = tool.version = NULL;

    rc = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e);
    if (rc < 0)
        goto cleanup;
    rc = db_query_text(db, "SELECT pg_export_snapshot()", DB_NOPARAMS, &snapshot, e);
    if (rc != 0) {
        if (rc > 0)
            rc = err_set(e, ERR_BACKUP, "pg_export_snapshot() returned nothing");
        goto cleanup;
    }
    rc = read_stats(db, st, e);
    if (rc < 0)
        goto cleanup;

    if (password != NULL) {
        rc = backup_pg_passfile_new(run->priv_dir, password, &pdir, &pfile, e);
        if (rc < 0)
            goto cleanup;
    }
    envp = backup_pg_env_new(run->url, pfile);
    {
        char *snap_arg = xasprintf("--snapshot=%s", snapshot);
        char *argv[] = {path, "--format=plain", "--no-owner", "--no-acl", "--no-password", snap_arg,
                        NULL};
        log_info("dump: running %s --format=plain --no-owner --no-acl --snapshot=%s (%s)", path,
                 snapshot, version);
        rc = spawn_piped(path, argv, envp, &pid, &out, &errfd, e);
        free(snap_arg);
        if (rc < 0)
            goto cleanup;
    }

    /* Read both pipes until both close: stdout into the stream, stderr kept (bounded). */
    while (out >= 0 || errfd >= 0) {
        struct pollfd pf[2];
        int np = 0, iout = -1, ierr = -1;

        if (!killed && run->cancel != NULL && *run->cancel != 0) {
            kill(pid, SIGTERM);
            killed = true;
            rc = err_set(e, ERR_BACKUP, "backup cancelled during the dump");
        }
        if (out >= 0) {
            pf[np].fd = out;
            pf[np].events = POLLIN;
            iout = np++;
        }
        if (errfd >= 0) {
            pf[np].fd = errfd;
            pf[np].events = POLLIN;
            ierr = np++;
        }
        if (poll(pf, (nfds_t)np, 250) < 0) {
            if (errno == EINTR)
                continue;
            rc = err_set(e, ERR_BACKUP, "poll: %s", strerror(errno));
            break;
        }
        if (ierr >= 0 && pf[ierr].revents != 0)
            proc_output_read(&errfd, &errout);
        if (iout >= 0 && pf[iout].revents != 0) {
            void *p = NULL;
            size_t avail = 0;
            ssize_t n;
            int src;

            if (rc < 0) {
                /* Failed or cancelled: stop reading, pg_dump gets EPIPE. */
                close(out);
                out = -1;
                continue;
            }
            src = backup_stream_buffer(run->stream, &p, &avail, e);
            if (src < 0) {
                rc = src;
                kill(pid, SIGTERM);
                killed = true;
                continue;
            }
            n = read(out, p, avail);
            if (n > 0) {
                tail_add(tail, &tail_len, p, (size_t)n);
                src = backup_stream_commit(run->stream, (size_t)n, e);
                if (src < 0) {
                    rc = src;
                    kill(pid, SIGTERM);
                    killed = true;
                }
            } else if (n == 0 || errno != EINTR) {
                close(out);
                out = -1;
            }
        }
        if (run->tick != NULL)
            run->tick(run->tick_arg);
    }
    if (proc_wait(pid, &status) < 0) {
        if (rc == 0)
            rc = err_set(e, ERR_BACKUP, "cannot wait for pg_dump: %s", strerror(errno));
        pid = -1;
        goto cleanup;
    }
    pid = -1;
    if (rc < 0)
        goto cleanup;
    if (!proc_status_ok(status)) {
        char stx[PROC_STATUS_MAX], lines[PROC_OUTPUT_MAX + 1];
        proc_status_describe(status, stx);
        proc_first_lines(errout.buf, lines, sizeof(lines));
        rc =
            err_set(e, ERR_BACKUP, "pg_dump failed (%s): %s", stx, lines[0] ? lines : "no message");
        goto cleanup;
    }
    if (!tail_complete(tail, tail_len)) {
        rc = err_set(e, ERR_BACKUP,
                     "pg_dump's output is incomplete: its closing line '-- PostgreSQL database "
                     "dump complete' is missing");
        goto cleanup;
    }
    if (errout.len > 0) {
        char lines[PROC_OUTPUT_MAX + 1];
        proc_first_lines(errout.buf, lines, sizeof(lines));
        log_warn("pg_dump said: %s", lines);
    }
    rc = db_exec(db, "COMMIT", e);
    if (rc < 0)
        goto cleanup;
    *pg_dump_version = version;
    version = NULL;

cleanup:
    if (out >= 0)
        close(out);
    if (errfd >= 0)
        close(errfd);
    proc_kill_wait(pid, SIGTERM);
    backup_pg_passfile_remove(pdir, pfile);
    if (db != NULL) {
        db_rollback(db);
        db_close(db);
    }
    backup_pg_env_free(envp);
    free(path);
    free(snapshot);
    free(version);
    return rc;
}
