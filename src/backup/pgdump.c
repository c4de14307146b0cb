/*
 * pgdump — running pg_dump in a snapshot shared with the manifest's row
 * counts.  See backup_internal.h.
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

#include "backup/backup_internal.h"
#include "backup/pgtools.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"

/* What pg_dump's plain output ends with (before psql's \unrestrict line, in newer releases). */
static const char closing_line[] = "\n-- PostgreSQL database dump complete\n";

#define TAIL_MAX   512

/* libpq connection keywords that have an environment variable. */
static const struct {
    const char *key;
    const char *env;
} param_env[] = {
    {"sslmode", "PGSSLMODE"},
    {"sslcert", "PGSSLCERT"},
    {"sslkey", "PGSSLKEY"},
    {"sslrootcert", "PGSSLROOTCERT"},
    {"sslcrl", "PGSSLCRL"},
    {"sslcrldir", "PGSSLCRLDIR"},
    {"sslsni", "PGSSLSNI"},
    {"sslcompression", "PGSSLCOMPRESSION"},
    {"ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"},
    {"ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"},
    {"requiressl", "PGREQUIRESSL"},
    {"gssencmode", "PGGSSENCMODE"},
    {"krbsrvname", "PGKRBSRVNAME"},
    {"gsslib", "PGGSSLIB"},
    {"channel_binding", "PGCHANNELBINDING"},
    {"connect_timeout", "PGCONNECT_TIMEOUT"},
    {"application_name", "PGAPPNAME"},
    {"options", "PGOPTIONS"},
    {"client_encoding", "PGCLIENTENCODING"},
    {"target_session_attrs", "PGTARGETSESSIONATTRS"},
    {"load_balance_hosts", "PGLOADBALANCEHOSTS"},
    {"hostaddr", "PGHOSTADDR"},
    {"service", "PGSERVICE"},
    {"require_auth", "PGREQUIREAUTH"},
    {NULL, NULL},
};

int backup_pg_dump_parse_version(const char *text, int *major)
{
    const char *p = text ? strstr(text, ") ") : NULL;
    char *end = NULL;
    long v;

    if (p == NULL)
        return -1;
    p += 2;
    errno = 0;
    v = strtol(p, &end, 10);
    if (errno != 0 || end == p || v <= 0 || v > 1000)
        return -1;
    *major = (int)v;
    return 0;
}

char *backup_pgpass_line(const char *password)
{
    struct buf b = BUF_INIT;

    buf_adds(&b, "*:*:*:*:");
    for (const char *c = password; *c != '\0'; c++) {
        if (*c == ':' || *c == '\\')
            buf_addc(&b, '\\');
        buf_addc(&b, *c);
    }
    buf_addc(&b, '\n');
    return buf_detach(&b);
}

/* ---- the child's environment ---- */

/*
 * What pg_dump may inherit from our environment.  A whitelist, because ours
 * holds secrets (DATABASE_URL with its password, SESSION_SECRET, …) that
 * pg_dump has no business seeing: only the locale, paths and libpq's own
 * PG* variables pass.
 */
static bool env_inherited(const char *kv)
{
    static const char *const names[] = {"PATH",        "HOME",       "USER", "LOGNAME",
                                        "LANG",        "LANGUAGE",   "TZ",   "TMPDIR",
                                        "KRB5_CONFIG", "KRB5CCNAME", NULL};
    size_t len = strcspn(kv, "=");

    if (strncmp(kv, "PG", 2) == 0 || strncmp(kv, "LC_", 3) == 0)
        return true;
    for (int i = 0; names[i] != NULL; i++)
        if (strlen(names[i]) == len && strncmp(kv, names[i], len) == 0)
            return true;
    return false;
}

/* The password to hand over: the URL's, or its "password" parameter. */
static const char *url_password(const struct url *u)
{
    if (u->password != NULL)
        return u->password;
    for (size_t i = 0; i < u->nparams; i++)
        if (strcmp(u->params[i].key, "password") == 0)
            return u->params[i].value;
    return NULL;
}

/*
 * The connection as PG* variables; passfile (may be NULL) as PGPASSFILE.
 * Variables the URL leaves out keep what our own environment says, as libpq
 * in this process sees them too.
 */
static void env_connection(struct proc_env *ev, const struct url *u, const char *passfile)
{
    char port[16];

    if (u->host != NULL)
        proc_env_set(ev, "PGHOST", u->host);
    snprintf(port, sizeof(port), "%d", u->port);
    proc_env_set(ev, "PGPORT", port);
    if (u->user != NULL)
        proc_env_set(ev, "PGUSER", u->user);
    if (u->dbname != NULL)
        proc_env_set(ev, "PGDATABASE", u->dbname);
    if (passfile != NULL) {
        /* PGPASSWORD would win over the passfile. */
        proc_env_unset(ev, "PGPASSWORD");
        proc_env_set(ev, "PGPASSFILE", passfile);
    }
    for (size_t i = 0; i < u->nparams; i++) {
        const char *key = u->params[i].key;
        bool known = false;
        if (strcmp(key, "password") == 0 || strcmp(key, "passfile") == 0) {
            if (strcmp(key, "passfile") == 0 && passfile == NULL)
                proc_env_set(ev, "PGPASSFILE", u->params[i].value);
            continue;
        }
        for (int k = 0; param_env[k].key != NULL; k++) {
            if (strcmp(key, param_env[k].key) == 0) {
                proc_env_set(ev, param_env[k].env, u->params[i].value);
                known = true;
                break;
            }
        }
        if (!known)
            log_warn("pg_dump: connection parameter '%s' has no environment variable: ignored",
                     key);
    }
    /* pg_dump's messages are checked and quoted: keep them untranslated. */
    proc_env_set(ev, "LC_MESSAGES", "C");
}

/* ---- the snapshot session ---- */

static int read_stats(struct db *db, struct db_snapshot_stats *st, struct err *e)
{
    char **names = NULL;
    int n = 0;
    bool has_ledger = false;
    int rc;

    rc = db_list_tables(db, &names, &n, e);
    if (rc < 0)
        goto cleanup;
    st->tables = names;
    st->ntables = n;
    names = NULL;
    st->rows = xcalloc((size_t)n + 1, sizeof(*st->rows));
    for (int i = 0; i < n; i++) {
        char *q = db_quote_ident(st->tables[i]);
        char *sql = xasprintf("SELECT count(*) FROM public.%s", q);
        rc = db_query_int(db, sql, DB_NOPARAMS, &st->rows[i], e);
        free(sql);
        free(q);
        if (rc < 0)
            goto cleanup;
        if (strcmp(st->tables[i], "_migrations") == 0)
            has_ledger = true;
    }
    if (has_ledger) {
        rc = db_query_text(db,
                           "SELECT name FROM _migrations WHERE finished_at IS NOT NULL AND "
                           "rolled_back_at IS NULL ORDER BY name DESC LIMIT 1",
                           DB_NOPARAMS, &st->schema_version, e);
        if (rc < 0)
            goto cleanup;
    }
    rc = 0;

cleanup:
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

/* Create the private passfile directory and file; *dir and *file: caller frees. */
static int make_passfile(const char *priv_dir, const char *password, char **dir, char **file,
                         struct err *e)
{
    char *line = NULL;
    int rc;

    *dir = xasprintf("%s/.pgpass.tmp.%ld", priv_dir, (long)getpid());
    *file = xasprintf("%s/pgpass", *dir);
    if (mkdir(*dir, 0700) != 0) {
        rc = err_set(e, errno == ENOSPC ? ERR_NO_SPACE : ERR_BACKUP,
                     "cannot create the private directory '%s': %s", *dir, strerror(errno));
        free(*dir);
        *dir = NULL;
        goto cleanup;
    }
    line = backup_pgpass_line(password);
    rc = backup_write_new_file(*file, line, strlen(line), e);

cleanup:
    if (line != NULL) {
        secure_zero(line, strlen(line));
        free(line);
    }
    return rc;
}

static void remove_passfile(char *dir, char *file)
{
    if (file != NULL)
        unlink(file);
    if (dir != NULL)
        rmdir(dir);
    free(file);
    free(dir);
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
    struct proc_env ev = {0};
    char *path = NULL, *snapshot = NULL, *version = NULL;
    char *pdir = NULL, *pfile = NULL;
    const char *password = url_password(run->url);
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
    rc = db_open(run->url, 10, &db, e);
    if (rc < 0)
        goto cleanup;
    snprintf(st->server_version, sizeof(st->server_version), "%s", db_server_version(db));
    server_major = db_server_version_num(db) / 10000;

    proc_env_init(&ev, env_inherited);
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
        rc = make_passfile(run->priv_dir, password, &pdir, &pfile, e);
        if (rc < 0)
            goto cleanup;
    }
    env_connection(&ev, run->url, pfile);
    {
        char *snap_arg = xasprintf("--snapshot=%s", snapshot);
        char *argv[] = {path, "--format=plain", "--no-owner", "--no-acl", "--no-password", snap_arg,
                        NULL};
        log_info("dump: running %s --format=plain --no-owner --no-acl --snapshot=%s (%s)", path,
                 snapshot, version);
        rc = spawn_piped(path, argv, ev.v, &pid, &out, &errfd, e);
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
    remove_passfile(pdir, pfile);
    if (db != NULL) {
        db_rollback(db);
        db_close(db);
    }
    proc_env_release(&ev);
    free(path);
    free(snapshot);
    free(version);
    return rc;
}

/* ---- for psql (verify.c, restore.c): the same connection hand-over ---- */

const char *backup_pg_password(const struct url *u)
{
    return url_password(u);
}

char **backup_pg_env_new(const struct url *u, const char *passfile)
{
    struct proc_env ev;

    proc_env_init(&ev, env_inherited);
    env_connection(&ev, u, passfile);
    return ev.v;
}

void backup_pg_env_free(char **env)
{
    if (env == NULL)
        return;
    for (char **p = env; *p != NULL; p++)
        free(*p);
    free(env);
}

int backup_pg_passfile_new(const char *priv_dir, const char *password, char **dir, char **file,
                           struct err *e)
{
    return make_passfile(priv_dir, password, dir, file, e);
}

void backup_pg_passfile_remove(char *dir, char *file)
{
    remove_passfile(dir, file);
}
