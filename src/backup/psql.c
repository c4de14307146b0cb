/*
 * psql — the PostgreSQL client programs: which pg_dump or psql to run for a
 * server (see psql.h), the connection handed to them through PG* variables
 * and a private passfile (never argv), and psql fed a dump.
 *
 * Why psql gets "BEGIN" and "COMMIT" from us rather than --single-transaction:
 * with --single-transaction psql commits when its input ends, so a restore
 * that died halfway (kill -9) would commit half a dump.  Here psql only ever
 * sees COMMIT after the last byte of a dump that decoded and hashed right;
 * an input that ends before it leaves the transaction open, and the server
 * rolls it back when psql disconnects.
 *
 * psql's stdin is a socket rather than a pipe so that writing to a psql
 * that stopped (ON_ERROR_STOP) returns EPIPE without raising SIGPIPE in
 * this process (send with MSG_NOSIGNAL).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup/files.h"
#include "backup/dumphead.h"
#include "backup/psql.h"
#include "backup/runtime.h"
#include "backup/scan.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/util.h"

/* ---- which program ---- */

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

#define MAX_CANDIDATES 32
/* A tool that does not answer --version by then is passed over. */
#define TOOL_VERSION_TIMEOUT_S 30

/* `path --version`: 0 and its first line and major version, or -1 (missing, failed, unreadable). */
static int tool_version(const char *path, char **text, int *major)
{
    char *argv[] = {(char *)path, "--version", NULL};
    struct proc_env ev;
    struct proc_output out;
    int status = 0, rc = -1;

    *text = NULL;
    proc_env_minimal(&ev);
    proc_env_set(&ev, "LC_ALL", "C");
    if (proc_run_output(path, argv, ev.v, TOOL_VERSION_TIMEOUT_S, &out, &status) < 0 ||
        !proc_status_ok(status))
        goto out;
    out.buf[strcspn(out.buf, "\r\n")] = '\0';
    if (backup_pg_dump_parse_version(out.buf, major) < 0)
        goto out;
    *text = xstrdup(out.buf);
    rc = 0;
out:
    proc_env_release(&ev);
    return rc;
}

/* The N of ".../postgresql/N/bin/tool", for sorting newest first. */
static int dir_major(const char *p)
{
    const char *s = strstr(p, "/postgresql/");
    return s != NULL ? atoi(s + strlen("/postgresql/")) : 0;
}

static int newest_first(const void *a, const void *b)
{
    return dir_major(*(char *const *)b) - dir_major(*(char *const *)a);
}

/* PG_DUMP, PSQL and the archive's PG_RECEIVEWAL, PG_BASEBACKUP, PG_VERIFYBACKUP as
 * configured (borrowed from the config); NULL: none. */
static const char *const tool_names[] = {"pg_dump", "psql", "pg_receivewal", "pg_basebackup",
                                         "pg_verifybackup"};
static const char *configured[5];

void pgtool_set_paths(const char *pg_dump, const char *psql)
{
    configured[0] = pg_dump;
    configured[1] = psql;
}

void pgtool_set_archive_paths(const char *receivewal, const char *basebackup,
                              const char *verifybackup)
{
    configured[2] = receivewal;
    configured[3] = basebackup;
    configured[4] = verifybackup;
}

static const char *configured_path(const char *tool)
{
    for (size_t i = 0; i < sizeof(tool_names) / sizeof(tool_names[0]); i++)
        if (strcmp(tool, tool_names[i]) == 0)
            return configured[i];
    return NULL;
}

int pgtool_find(const char *tool, int server_major, struct pgtool *out, struct err *e)
{
    /* pg_dump and psql read every older server; the archive's tools prefer its own major. */
    bool exact = strcmp(tool, "pg_dump") != 0 && strcmp(tool, "psql") != 0;
    char env_name[32];
    size_t len = 0;
    for (; tool[len] != '\0' && len < sizeof(env_name) - 1; len++)
        env_name[len] = (char)toupper((unsigned char)tool[len]);
    env_name[len] = '\0';
    const char *env = configured_path(tool);
    char *cand[MAX_CANDIDATES];
    int n = 0, rc;
    struct buf seen = BUF_INIT;
    glob_t g;

    memset(out, 0, sizeof(*out));
    if (env != NULL && env[0] != '\0')
        cand[n++] = xstrdup(env);
    char *pattern = xasprintf("/usr/lib/postgresql/*/bin/%s", tool);
    if (glob(pattern, 0, NULL, &g) == 0) {
        int first = n;
        for (size_t i = 0; i < g.gl_pathc && n < MAX_CANDIDATES - 1; i++)
            cand[n++] = xstrdup(g.gl_pathv[i]);
        qsort(cand + first, (size_t)(n - first), sizeof(char *), newest_first);
        globfree(&g);
    }
    free(pattern);
    cand[n++] = xstrdup(tool);

    int fallback = -1;
    for (int i = 0; i < n && out->path == NULL; i++) {
        char *text = NULL;
        int major = 0;

        if (tool_version(cand[i], &text, &major) < 0) {
            /*
             * A missing versioned directory or PATH entry is no news; a
             * $PG_DUMP that does not run is a mistake to fix, not to step over.
             */
            if (i == 0 && env != NULL && env[0] != '\0') {
                rc = err_set(e, ERR_BACKUP,
                             "%s='%s' does not run as a %s (its --version answered nothing "
                             "usable): fix or unset %s",
                             env_name, cand[i], tool, env_name);
                for (int k = 0; k < n; k++)
                    free(cand[k]);
                buf_release(&seen);
                return rc;
            }
            continue;
        }
        /* The archive's tools: the server's own major first, a newer one when there is none. */
        if (exact && major > server_major && fallback < 0 && i < n)
            fallback = i;
        if (exact ? major == server_major : major >= server_major) {
            out->path = cand[i];
            out->version = text;
            out->major = major;
            cand[i] = NULL;
        } else {
            buf_addf(&seen, "%s'%s' (%d)", seen.len ? ", " : "", cand[i], major);
            free(text);
        }
    }
    if (out->path == NULL && fallback >= 0 &&
        tool_version(cand[fallback], &out->version, &out->major) == 0) {
        out->path = cand[fallback];
        cand[fallback] = NULL;
    }
    for (int i = 0; i < n; i++)
        free(cand[i]);
    if (out->path != NULL) {
        log_info("%s: using '%s' (%s) for a PostgreSQL %d server", tool, out->path, out->version,
                 server_major);
        rc = 0;
    } else {
        rc = err_set(e, ERR_BACKUP,
                     "no %s of version %d%s found for this PostgreSQL %d server "
                     "(found: %s): install postgresql-client-%d, or set %s to its %s",
                     tool, server_major, exact ? "" : " or newer", server_major,
                     seen.len ? buf_str(&seen) : "none", server_major, env_name, tool);
    }
    buf_release(&seen);
    return rc;
}

void pgtool_free(struct pgtool *t)
{
    free(t->path);
    free(t->version);
    t->path = t->version = NULL;
}

/* ---- the connection, handed over ---- */

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

/*
 * Create the private passfile directory and file in the private runtime
 * directory (runtime.h), never beside a backup; *dir and *file: caller frees.
 */
static int make_passfile(const char *password, char **dir, char **file, struct err *e)
{
    static int counter;
    char *line = NULL, *runtime = NULL;
    int rc;

    *dir = *file = NULL;
    rc = backup_runtime_dir(&runtime, e);
    if (rc < 0)
        return rc;
    /* One per passfile: a verify and a restore of the same run may overlap (threads). */
    *dir = xasprintf("%s/.pgpass%d.tmp.%ld", runtime,
                     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED), (long)getpid());
    free(runtime);
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
    (void)priv_dir; /* the passfile never goes beside backups any more */
    return make_passfile(password, dir, file, e);
}

void backup_pg_passfile_remove(char *dir, char *file)
{
    remove_passfile(dir, file);
}

/* ---- psql ---- */

struct feed {
    const struct backup_psql_feed *f;
    pid_t pid;
    int in_fd;  /* our end of psql's stdin */
    int err_fd; /* psql's stderr */
    struct proc_output err;
    bool broken;           /* psql stopped reading */
    struct dumphead *head; /* a newer pg_dump's unknown settings left out */
};

static void drain_stderr(struct feed *fd)
{
    while (proc_output_read(&fd->err_fd, &fd->err) > 0)
        ;
}

/* Write all of p to psql, reading its stderr meanwhile (it must never block on it). */
static int feed_write(struct feed *fd, const void *p, size_t n, struct err *e)
{
    const char *c = p;

    while (n > 0 && !fd->broken) {
        struct pollfd pf[2];
        int np = 0;

        if (fd->f->cancel != NULL && *fd->f->cancel != 0)
            return err_set(e, ERR_BACKUP, "restore cancelled");
        pf[np].fd = fd->in_fd;
        pf[np++].events = POLLOUT;
        if (fd->err_fd >= 0) {
            pf[np].fd = fd->err_fd;
            pf[np++].events = POLLIN;
        }
        if (poll(pf, (nfds_t)np, 250) < 0) {
            if (errno == EINTR)
                continue;
            return err_set(e, ERR_INTERNAL, "poll: %s", strerror(errno));
        }
        if (np > 1 && pf[1].revents != 0)
            drain_stderr(fd);
        if (pf[0].revents == 0)
            continue;
        ssize_t w = send(fd->in_fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            fd->broken = true; /* EPIPE: psql stopped; its exit says why */
            break;
        }
        c += w;
        n -= (size_t)w;
    }
    return fd->broken ? err_set(e, ERR_BACKUP, "psql stopped reading") : 0;
}

static int feed_raw(void *arg, const void *p, size_t n, struct err *e)
{
    return feed_write(arg, p, n, e);
}

static int feed_sink(void *arg, const void *p, size_t n, struct err *e)
{
    return dumphead_feed(((struct feed *)arg)->head, p, n, feed_raw, arg, e);
}

static int spawn_psql(struct feed *fd, const char *path, char *const envp[], struct err *e)
{
    int sv[2] = {-1, -1}, pe[2] = {-1, -1};
    char *argv[] = {(char *)path, "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", NULL};
    int rc;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    /*
     * Its own process group: a ^C on the terminal reaches us (we stop
     * feeding it and kill it) rather than psql, which would end its input.
     */
    rc = proc_spawn(path, argv, envp, sv[1], -1, pe[1], true, ERR_BACKUP, NULL, &fd->pid, e);
    if (rc < 0)
        goto cleanup;
    fd->in_fd = sv[0];
    fd->err_fd = pe[0];
    sv[0] = pe[0] = -1;
    fcntl(fd->err_fd, F_SETFL, fcntl(fd->err_fd, F_GETFL) | O_NONBLOCK);

cleanup:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
    return rc;
}

int backup_psql_feed_file(const struct backup_psql_feed *f, const char *path, struct err *e)
{
    struct feed fd;
    struct backup_scan sc;
    char **envp = NULL;
    char *pdir = NULL, *pfile = NULL;
    struct pgtool psql = {0};
    const char *password = backup_pg_password(f->url);
    bool abort_psql = true;
    int status = 0;
    int rc;

    memset(&fd, 0, sizeof(fd));
    fd.f = f;
    fd.pid = -1;
    fd.in_fd = fd.err_fd = -1;
    if (password != NULL) {
        rc = backup_pg_passfile_new(f->priv_dir, password, &pdir, &pfile, e);
        if (rc < 0)
            goto cleanup;
    }
    envp = backup_pg_env_new(f->url, pfile);
    rc = pgtool_find("psql", f->server_major, &psql, e);
    if (rc < 0)
        goto cleanup;
    rc = dumphead_for_server(f->url, &fd.head, e);
    if (rc < 0)
        goto cleanup;
    rc = spawn_psql(&fd, psql.path, envp, e);
    if (rc < 0)
        goto cleanup;
    if (f->prologue != NULL && (rc = feed_write(&fd, f->prologue, strlen(f->prologue), e)) < 0)
        goto cleanup;
    rc = backup_scan_file(path, feed_sink, &fd, f->cancel, f->tick, f->tick_arg, &sc, e);
    if (rc >= 0)
        rc = dumphead_finish(fd.head, feed_raw, &fd, e);
    if (rc < 0)
        goto cleanup;
    if (!sc.gzip_ok) {
        rc = err_set(e, ERR_VERIFY, "'%s' is damaged: %s", path, sc.gzip_error);
        goto cleanup;
    }
    if (f->expect_sha256 != NULL && strcmp(sc.sha256, f->expect_sha256) != 0) {
        rc = err_set(e, ERR_VERIFY,
                     "'%s' changed since it was verified (SHA-256 %.12s... != %.12s...)", path,
                     sc.sha256, f->expect_sha256);
        goto cleanup;
    }
    if (f->epilogue != NULL && (rc = feed_write(&fd, f->epilogue, strlen(f->epilogue), e)) < 0)
        goto cleanup;
    abort_psql = false;

cleanup:
    if (fd.pid > 0) {
        /*
         * Killed, psql cannot send what it holds: the server rolls its
         * transaction back.  Otherwise its input ends and it finishes.
         */
        if (abort_psql)
            kill(fd.pid, SIGKILL);
        if (fd.in_fd >= 0) {
            close(fd.in_fd);
            fd.in_fd = -1;
        }
        proc_output_drain(&fd.err_fd, &fd.err);
        proc_wait(fd.pid, &status);
        if (!abort_psql && !proc_status_ok(status)) {
            char msg[PROC_OUTPUT_MAX + 1];
            proc_one_line(fd.err.buf, msg, sizeof(msg));
            rc = err_set(e, ERR_BACKUP, "psql failed (%s %d): %s",
                         WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                         msg[0] ? msg : "no message");
        } else if (abort_psql && fd.broken) {
            /* psql stopped first: its error is the cause. */
            char msg[PROC_OUTPUT_MAX + 1];
            proc_one_line(fd.err.buf, msg, sizeof(msg));
            rc = err_set(e, ERR_BACKUP, "psql failed: %s", msg[0] ? msg : "no message");
        }
    }
    if (fd.in_fd >= 0)
        close(fd.in_fd);
    if (fd.err_fd >= 0)
        close(fd.err_fd);
    backup_pg_passfile_remove(pdir, pfile);
    backup_pg_env_free(envp);
    pgtool_free(&psql);
    dumphead_free(fd.head);
    return rc;
}

/* ---- loading a dump into a database (citaplanner import --from-backup) ---- */

int backup_load_dump(const struct url *u, const char *path, const char *priv_dir, struct err *e)
{
    struct db *db = NULL;
    int rc = db_open(u, DB_CONNECT_TIMEOUT_S, &db, e);

    if (rc == 0) {
        struct backup_psql_feed f = {
            .url = u,
            .server_major = db_server_version_num(db) / 10000,
            .priv_dir = priv_dir,
            .prologue = "SET client_min_messages = warning;\nBEGIN;\n",
            .epilogue = "\nCOMMIT;\n",
        };
        db_close(db);
        rc = backup_psql_feed_file(&f, path, e);
    }
    return rc;
}
