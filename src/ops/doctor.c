/* ops/doctor — see doctor.h. */
#include "ops/doctor.h"
#include "notify/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "archive/pg_slot.h"
#include "archive/pg_wal.h"
#include "backup/files.h"
#include "backup/layout.h"
#include "backup/psql.h"
#include "backup/manifest.h"
#include "backup/remote.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "migrate/migrate.h"
#include "ops/backups.h"
#include "seed/seed.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

#define TCP_TIMEOUT_MS    3000
#define DB_OPEN_TIMEOUT_S 5
/* Free space on the data volume below which doctor warns / fails. */
#define DATA_WARN_BYTES ((uint64_t)500 * 1000 * 1000)
#define DATA_FAIL_BYTES ((uint64_t)50 * 1000 * 1000)
/* Weekly and monthly backups older than these are worth a warning. */
#define WEEKLY_MAX_AGE_S  (8 * 86400)
#define MONTHLY_MAX_AGE_S (32 * 86400)

extern char **environ;

const char *ops_status_name(enum ops_status s)
{
    switch (s) {
    case OPS_OK:
        return "OK";
    case OPS_WARN:
        return "WARN";
    case OPS_FAIL:
        return "FAIL";
    }
    return "FAIL";
}

static void add(struct ops_doctor_report *r, const char *name, enum ops_status st, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct ops_doctor_report *r, const char *name, enum ops_status st, const char *fix,
                const char *fmt, ...)
{
    struct ops_check *c;
    va_list ap;
    char detail[1024];

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    r->items = xrealloc(r->items, (size_t)(r->count + 1) * sizeof(*r->items));
    c = &r->items[r->count++];
    c->name = xstrdup(name);
    c->status = st;
    c->detail = xstrdup(detail);
    c->fix = st != OPS_OK && fix != NULL ? xstrdup(fix) : NULL;
    if (st == OPS_OK)
        r->ok++;
    else if (st == OPS_WARN)
        r->warn++;
    else
        r->fail++;
}

static void notify_add(void *r, const char *name, int st, const char *fix, const char *detail)
{
    add(r, name, (enum ops_status)st, fix, "%s", detail);
}

void ops_doctor_report_release(struct ops_doctor_report *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->count; i++) {
        free(r->items[i].name);
        free(r->items[i].detail);
        free(r->items[i].fix);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

json_t *ops_doctor_json(const struct ops_doctor_report *r)
{
    json_t *checks = json_array();

    for (int i = 0; i < r->count; i++) {
        const struct ops_check *c = &r->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s?}", "name", c->name, "status",
                              ops_status_name(c->status), "detail", c->detail, "fix", c->fix);
        if (o == NULL) /* a path that is not UTF-8 */
            o = json_pack("{s:s, s:s, s:s, s:n}", "name", c->name, "status",
                          ops_status_name(c->status), "detail", "(not valid UTF-8)", "fix");
        json_array_append_new(checks, o);
    }
    return json_pack("{s:b, s:{s:i, s:i, s:i}, s:o}", "ok", r->fail == 0, "summary", "ok", r->ok,
                     "warn", r->warn, "fail", r->fail, "checks", checks);
}

static void fmt_bytes(char out[32], uint64_t n)
{
    backup_fmt_bytes(out, n);
}

/* ---- database ------------------------------------------------------------ */

/* Can a TCP connection to one of host's addresses be made?  0, or -1 with why. */
static int tcp_probe(const char *host, int port, char *why, size_t size)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    int gai, last = ECONNREFUSED;
    int rc = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(why, size, "the name '%s' does not resolve (%s)", host, gai_strerror(gai));
        return -2;
    }
    for (struct addrinfo *ai = res; ai != NULL && rc < 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            rc = 0;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            int n = poll(&p, 1, TCP_TIMEOUT_MS);
            if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
                rc = 0;
            else
                last = n == 0 ? ETIMEDOUT : soerr;
        } else {
            last = errno;
        }
        close(fd);
    }
    if (rc < 0)
        snprintf(why, size, "nothing accepts connections on '%s:%d' (%s)", host, port,
                 last == ETIMEDOUT ? "timed out" : strerror(last));
    freeaddrinfo(res);
    return rc;
}

/* The database line; *out the connection (NULL when it failed or was not tried). */
static void check_database(const struct config *cfg, struct ops_doctor_report *r, struct db **out)
{
    const struct url *u = &cfg->db;
    struct err e;
    char why[512];
    double t0 = time_mono();

    *out = NULL;
    err_clear(&e);
    if (u->kind == URL_SQLITE) {
        struct stat st;
        if (stat(u->path, &st) != 0) {
            add(r, "database", OPS_WARN,
                "run 'citaplanner serve' or 'citaplanner migrate deploy' to create it; if it "
                "should exist, check DATABASE_URL and the volume mounted there",
                "the SQLite file '%s' does not exist yet", u->path);
            return;
        }
    } else if (u->host != NULL && u->host[0] != '\0' && u->host[0] != '/') {
        int p = tcp_probe(u->host, u->port, why, sizeof(why));
        if (p == -2) {
            add(r, "database", OPS_FAIL,
                "check the host in DATABASE_URL; in containers, that the database service is "
                "running on the same network under that name",
                "%s", why);
            return;
        }
        if (p < 0) {
            add(r, "database", OPS_FAIL,
                "start PostgreSQL, or check the port in DATABASE_URL (default 5432), "
                "listen_addresses and the firewall",
                "%s", why);
            return;
        }
    }
    if (db_open(u, DB_OPEN_TIMEOUT_S, out, &e) < 0) {
        *out = NULL;
        if (e.code == ERR_DB_AUTH)
            add(r, "database", OPS_FAIL,
                "check the user and password in DATABASE_URL (special characters must be "
                "percent-encoded) and pg_hba.conf",
                "authentication failed: %s", e.msg);
        else
            add(r, "database", OPS_FAIL,
                "check DATABASE_URL: the server answers but the connection fails (a missing "
                "database? create it)",
                "cannot connect: %s", e.msg);
        return;
    }
    add(r, "database", OPS_OK, NULL, "connected to %s (%.0f ms)", db_server_version(*out),
        (time_mono() - t0) * 1000);
}

static void names_of(struct buf *b, const struct migrate_report *m, enum migration_state s)
{
    for (int i = 0; i < m->count; i++)
        if (m->items[i].state == s)
            buf_addf(b, "%s'%s'", b->len ? ", " : "", m->items[i].name);
}

static void check_migrations(struct db *db, struct ops_doctor_report *r)
{
    struct migrate_report m;
    struct buf b = BUF_INIT;
    struct err e;

    bool original = false;

    memset(&m, 0, sizeof(m));
    err_clear(&e);
    if (migrate_original_schema(db, &original, &e) == 0 && original) {
        add(r, "migrations", OPS_FAIL,
            "create an empty database and run 'citaplanner import --from DATABASE_URL_OF_IT' "
            "into it",
            "%s", migrate_original_message);
        goto cleanup;
    }
    if (migrate_status(db, &m, &e) < 0) {
        add(r, "migrations", OPS_FAIL, "see 'citaplanner migrate status'",
            "cannot read the migrations: %s", e.msg);
        goto cleanup;
    }
    if (m.failed > 0) {
        names_of(&b, &m, MIGRATION_FAILED);
        add(r, "migrations", OPS_FAIL,
            "read the error in the log, fix the cause, then 'citaplanner migrate resolve "
            "--rolled-back NAME' and 'citaplanner migrate deploy'",
            "%d failed: %s", m.failed, buf_str(&b));
    } else if (m.modified > 0) {
        names_of(&b, &m, MIGRATION_MODIFIED);
        add(r, "migrations", OPS_FAIL,
            "put back the migration file as it was applied; if the change is intended, "
            "'citaplanner migrate resolve --applied NAME'",
            "%d modified after being applied: %s", m.modified, buf_str(&b));
    } else if (m.pending > 0) {
        names_of(&b, &m, MIGRATION_PENDING);
        names_of(&b, &m, MIGRATION_ROLLED_BACK);
        add(r, "migrations", OPS_FAIL,
            "run 'citaplanner migrate deploy' (serve applies them at start, after a backup)",
            "%d pending: %s", m.pending, buf_str(&b));
    } else if (m.unknown > 0) {
        names_of(&b, &m, MIGRATION_UNKNOWN);
        add(r, "migrations", OPS_WARN,
            "a newer citaplanner applied them: run that version, or upgrade this one",
            "%d applied migrations unknown to this program: %s", m.unknown, buf_str(&b));
    } else {
        add(r, "migrations", OPS_OK, NULL, "%d applied, none pending (latest '%s')", m.applied,
            m.count > 0 ? m.items[m.count - 1].name : "none");
    }

cleanup:
    buf_release(&b);
    migrate_report_release(&m);
}

/* ---- backup directory ---------------------------------------------------- */

static enum ops_status worse(enum ops_status a, enum ops_status b)
{
    return a > b ? a : b;
}

/* The nearest existing ancestor of path (caller frees). */
static char *existing_parent(const char *path)
{
    char *p = xstrdup(path);
    struct stat st;

    while (stat(p, &st) != 0) {
        char *slash = strrchr(p, '/');
        if (slash == NULL) {
            free(p);
            return xstrdup(".");
        }
        if (slash == p) {
            p[1] = '\0';
            break;
        }
        *slash = '\0';
    }
    return p;
}

/* A real write in dir (root ignores permission bits; a read-only mount does not). */
static int try_write(const char *dir, char *why, size_t size)
{
    char *path = xasprintf("%s/.doctor_write_test.%ld", dir, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = -1;

    if (fd < 0) {
        snprintf(why, size, "%s", strerror(errno));
        goto cleanup;
    }
    if (write(fd, "x", 1) != 1 || fsync(fd) != 0) {
        snprintf(why, size, "%s", strerror(errno));
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(path);
    return rc;
}

static void check_backup_dir(const struct config *cfg, struct ops_doctor_report *r)
{
    const char *dir = cfg->backup_dir;
    enum ops_status st = OPS_OK;
    struct buf detail = BUF_INIT, fix = BUF_INIT;
    struct statfs sf;
    struct stat sb;
    char why[256];

    if (stat(dir, &sb) != 0) {
        char *parent = existing_parent(dir);
        if (errno == ENOENT && try_write(parent, why, sizeof(why)) == 0) {
            add(r, "backup_dir", OPS_WARN,
                "run 'citaplanner backup' (it creates the directory), and mount a persistent "
                "volume there",
                "'%s' does not exist yet; it can be created under '%s'", dir, parent);
        } else {
            add(r, "backup_dir", OPS_FAIL,
                "create it (mkdir -m 700) on a persistent volume writable by the user running "
                "citaplanner, or set BACKUP_DIR",
                "'%s' does not exist and cannot be created under '%s' (%s)", dir, parent,
                errno == ENOENT ? why : strerror(errno));
        }
        free(parent);
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        add(r, "backup_dir", OPS_FAIL, "move that file away, or point BACKUP_DIR to a directory",
            "'%s' is not a directory", dir);
        return;
    }
    if (try_write(dir, why, sizeof(why)) < 0) {
        st = OPS_FAIL;
        buf_addf(&detail, "cannot write in '%s' (%s)", dir, why);
        buf_adds(&fix, "make it writable by the user running citaplanner (chown; a read-only "
                       "mount must be remounted read-write)");
    } else {
        buf_addf(&detail, "'%s' is writable", dir);
    }
    if ((sb.st_mode & 077) != 0) {
        st = worse(st, OPS_WARN);
        buf_addf(&detail, "; mode %04o lets other users read the backups", sb.st_mode & 07777);
        buf_addf(&fix, "%schmod 700 '%s'", fix.len ? "; " : "", dir);
    } else {
        buf_adds(&detail, ", private (0700)");
    }
    if (statfs(dir, &sf) == 0) {
        if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC) {
            st = worse(st, OPS_WARN);
            buf_adds(&detail, "; on a tmpfs (memory): backups vanish at reboot");
            buf_addf(&fix, "%smount a persistent volume at BACKUP_DIR", fix.len ? "; " : "");
        } else if (sf.f_type == OVERLAYFS_SUPER_MAGIC) {
            st = worse(st, OPS_WARN);
            buf_adds(&detail, "; on the container's writable layer: backups vanish with the "
                              "container");
            buf_addf(&fix,
                     "%smount a named volume at BACKUP_DIR (docker-compose: "
                     "citaplanner_backups:/backup-citaplanner)",
                     fix.len ? "; " : "");
        } else {
            buf_adds(&detail, ", on a persistent file system");
        }
    }
    add(r, "backup_dir", st, buf_str(&fix), "%s", buf_str(&detail));
    buf_release(&detail);
    buf_release(&fix);
}

static void check_backup_space(const struct ops_backup_facts *f, struct ops_doctor_report *r)
{
    uint64_t last = 0;
    char fr[32], tot[32], ls[32];

    for (int t = 0; t < BACKUP_TIER_COUNT; t++)
        if (f->tiers[t].newest.file != NULL && f->tiers[t].newest.size > last)
            last = f->tiers[t].newest.size;
    if (!f->has_volume) {
        add(r, "backup_space", OPS_WARN, "check that BACKUP_DIR is on a mounted volume",
            "cannot read the free space of the backup volume");
        return;
    }
    fmt_bytes(fr, f->volume_free);
    fmt_bytes(tot, f->volume_total);
    fmt_bytes(ls, last);
    if (f->volume_free < last + last / 10 + 64 * 1024)
        add(r, "backup_space", OPS_FAIL,
            "free space on the backup volume (delete old files, 'citaplanner backup prune', "
            "lower BACKUP_KEEP_*) or grow it",
            "%s free of %s: not enough for another backup of %s", fr, tot, ls);
    else if (f->volume_free < 3 * last || f->volume_free < f->volume_total / 100)
        add(r, "backup_space", OPS_WARN,
            "grow the backup volume or keep fewer backups (BACKUP_KEEP_*)",
            "%s free of %s: room for fewer than three backups of %s", fr, tot, ls);
    else
        add(r, "backup_space", OPS_OK, NULL, "%s free of %s (the latest backup: %s)", fr, tot, ls);
}

/* Is the PostgreSQL server on this machine (its data directory visible here)? */
static bool host_is_local(const struct url *u)
{
    const char *h = u->host;

    return h == NULL || h[0] == '\0' || h[0] == '/' || strcmp(h, "localhost") == 0 ||
           strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0;
}

static void check_data_space(const struct config *cfg, struct db *db, struct ops_doctor_report *r)
{
    char *dir = NULL;
    struct statvfs sv;
    char fr[32], tot[32];
    uint64_t free_b, total;

    if (cfg->db.kind == URL_SQLITE) {
        const char *slash = strrchr(cfg->db.path, '/');
        dir = slash == NULL ? xstrdup(".")
                            : xstrndup(cfg->db.path,
                                       slash == cfg->db.path ? 1 : (size_t)(slash - cfg->db.path));
    } else if (db != NULL && host_is_local(&cfg->db)) {
        struct err e;
        err_clear(&e);
        /* Readable by superusers and pg_read_all_settings only: NULL otherwise. */
        if (db_query_text(db, "SELECT setting FROM pg_settings WHERE name = 'data_directory'",
                          DB_NOPARAMS, &dir, &e) < 0)
            dir = NULL;
    }
    if (dir == NULL || dir[0] == '\0' || statvfs(dir, &sv) != 0) {
        add(r, "data_space", OPS_OK, NULL,
            "the database's volume is not visible from here (check it on the database server)");
        free(dir);
        return;
    }
    free_b = (uint64_t)sv.f_bavail * sv.f_frsize;
    total = (uint64_t)sv.f_blocks * sv.f_frsize;
    fmt_bytes(fr, free_b);
    fmt_bytes(tot, total);
    if (free_b < DATA_FAIL_BYTES || free_b < total / 100)
        add(r, "data_space", OPS_FAIL,
            "free space on the database's volume now: a full disk stops every write",
            "%s free of %s on the database's volume ('%s')", fr, tot, dir);
    else if (free_b < DATA_WARN_BYTES || free_b < total / 20)
        add(r, "data_space", OPS_WARN, "grow the database's volume or free space on it",
            "%s free of %s on the database's volume ('%s')", fr, tot, dir);
    else
        add(r, "data_space", OPS_OK, NULL, "%s free of %s on the database's volume ('%s')", fr, tot,
            dir);
    free(dir);
}

/* ---- backups ------------------------------------------------------------- */

static void fmt_age(char out[32], double s)
{
    if (s < 3600)
        snprintf(out, 32, "%.0f min", s / 60);
    else if (s < 72 * 3600)
        snprintf(out, 32, "%.1f h", s / 3600);
    else
        snprintf(out, 32, "%.1f days", s / 86400);
}

static void check_backup_age(const struct config *cfg, const struct ops_backup_facts *f, bool alert,
                             struct ops_doctor_report *r)
{
    char age[32];
    const struct ops_tier_facts *failed = NULL;

    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        const struct ops_tier_facts *tf = &f->tiers[t];
        if (tf->has_last && !tf->last_ok &&
            (f->good.file == NULL || tf->last_time >= f->good.time) &&
            (failed == NULL || tf->last_time > failed->last_time))
            failed = tf;
    }
    if (f->good.file == NULL) {
        add(r, "backup_age", OPS_FAIL,
            "run 'citaplanner backup' now, and check BACKUP_SCHEDULE and the backup log",
            "no good backup in '%s'%s%s", cfg->backup_dir, failed ? "; the last run failed: " : "",
            failed ? failed->last_error : "");
    } else if (f->stale) {
        fmt_age(age, f->good_age);
        add(r, "backup_age", OPS_FAIL,
            "read BACKUP_DIR/logs/, check that 'serve' runs its scheduler (BACKUP_SCHEDULE), "
            "then run 'citaplanner backup'",
            "the newest good backup '%s' is %s old, more than BACKUP_MAX_AGE_HOURS=%d%s%s",
            f->good.file, age, cfg->backup_max_age_hours, failed ? "; the last run failed: " : "",
            failed ? failed->last_error : "");
    } else if (failed != NULL) {
        fmt_age(age, f->good_age);
        add(r, "backup_age", OPS_WARN,
            "read the backup log in BACKUP_DIR/logs/ and run 'citaplanner backup'",
            "the newest good backup '%s' is %s old, but the last run failed: %s", f->good.file, age,
            failed->last_error ? failed->last_error : "no details");
    } else {
        fmt_age(age, f->good_age);
        add(r, "backup_age", OPS_OK, NULL, "the newest good backup '%s' is %s old (limit %d h)",
            f->good.file, age, cfg->backup_max_age_hours);
    }
    if (alert && f->stale)
        ops_backup_stale_alert(cfg, f, f->now);
}

static void check_tier(const struct ops_backup_facts *f, enum backup_tier t, double max_age,
                       struct ops_doctor_report *r)
{
    const struct ops_tier_facts *tf = &f->tiers[t];
    char name[32], age[32];
    double a;

    snprintf(name, sizeof(name), "backup_%s", backup_tier_name(t));
    if (tf->newest.file == NULL) {
        if (t == BACKUP_DAILY)
            add(r, name, OPS_WARN, "run 'citaplanner backup'", "no %s backup", backup_tier_name(t));
        else
            add(r, name, OPS_OK, NULL, "no %s backup yet (written on its day by the schedule)",
                backup_tier_name(t));
        return;
    }
    if (!tf->newest.good) {
        add(r, name, OPS_WARN,
            "run 'citaplanner backup verify'; a backup without its .sha256 or manifest cannot "
            "be trusted",
            "the newest %s backup '%s' lacks its .sha256 or its manifest", backup_tier_name(t),
            tf->newest.file);
        return;
    }
    a = difftime(f->now, tf->good.time);
    fmt_age(age, a < 0 ? 0 : a);
    if (max_age > 0 && a > max_age)
        add(r, name, OPS_WARN, "check the schedule (BACKUP_WEEKLY_DAY, BACKUP_MONTHLY_DAY)",
            "%d backup%s; the newest '%s' is %s old", tf->count, tf->count == 1 ? "" : "s",
            tf->good.file, age);
    else
        add(r, name, OPS_OK, NULL, "%d backup%s; the newest '%s' is %s old", tf->count,
            tf->count == 1 ? "" : "s", tf->good.file, age);
}

static void check_checksum(const struct ops_backup_facts *f, struct ops_doctor_report *r)
{
    const struct ops_backup_ref *b = &f->good;
    struct backup_manifest m;
    struct err e;
    char hex[65] = "", side[80] = "";
    char *spath = NULL, *mpath = NULL;
    uint64_t size = 0;
    FILE *fp = NULL;
    const char *fix = "do not restore from it: run 'citaplanner backup verify', then take a new "
                      "backup with 'citaplanner backup'";

    memset(&m, 0, sizeof(m));
    err_clear(&e);
    if (b->file == NULL) {
        add(r, "backup_checksum", OPS_WARN, "run 'citaplanner backup'", "no backup to check");
        return;
    }
    spath = xasprintf("%s.sha256", b->path);
    mpath = xasprintf("%s.json", b->path);
    if (hash_sha256_file(b->path, hex, &size) < 0) {
        add(r, "backup_checksum", OPS_FAIL, fix, "cannot read '%s': %s", b->path, strerror(errno));
        goto cleanup;
    }
    fp = fopen(spath, "r");
    if (fp == NULL || fscanf(fp, "%64s", side) != 1) {
        add(r, "backup_checksum", OPS_FAIL, fix, "cannot read '%s'", spath);
        goto cleanup;
    }
    if (strcmp(side, hex) != 0) {
        add(r, "backup_checksum", OPS_FAIL, fix,
            "'%s' does not match its .sha256 (the file is damaged): sha256 %.16s…, expected "
            "%.16s…",
            b->file, hex, side);
        goto cleanup;
    }
    if (backup_manifest_load(mpath, &m, &e) < 0) {
        add(r, "backup_checksum", OPS_FAIL, fix, "%s", e.msg);
        goto cleanup;
    }
    if (strcmp(m.sha256, hex) != 0 || m.gz_bytes != size) {
        add(r, "backup_checksum", OPS_FAIL, fix,
            "'%s' does not match its manifest (size %llu, manifest %llu)", b->file,
            (unsigned long long)size, (unsigned long long)m.gz_bytes);
        goto cleanup;
    }
    add(r, "backup_checksum", OPS_OK, NULL, "'%s' matches its .sha256 and manifest (%.16s…)",
        b->file, hex);

cleanup:
    if (fp != NULL)
        fclose(fp);
    backup_manifest_release(&m);
    free(spath);
    free(mpath);
}

/* ---- PostgreSQL client tools -------------------------------------------- */

static void check_pg_tools(const struct config *cfg, struct db *db, struct ops_doctor_report *r)
{
    static const char *const tools[] = {"pg_dump", "psql"};
    struct buf detail = BUF_INIT, fix = BUF_INIT;
    enum ops_status st = OPS_OK;
    int server_major;

    if (cfg->db.kind == URL_SQLITE) {
        add(r, "pg_tools", OPS_OK, NULL, "not needed with SQLite");
        return;
    }
    if (db == NULL) {
        add(r, "pg_tools", OPS_WARN, "fix the database line first",
            "not checked: the database is unreachable");
        return;
    }
    server_major = db_server_version_num(db) / 10000;
    /* The same choice as backup, verify --deep and restore make (backup/psql.h). */
    for (int i = 0; i < 2; i++) {
        struct pgtool t;
        struct err e = {0};

        if (detail.len)
            buf_adds(&detail, "; ");
        if (pgtool_find(tools[i], server_major, &t, &e) < 0) {
            st = OPS_FAIL;
            buf_addf(&detail, "%s", e.msg);
            buf_addf(&fix, "%sinstall postgresql-client-%d (it provides %s), or set %s",
                     fix.len ? "; " : "", server_major, tools[i], i == 0 ? "PG_DUMP" : "PSQL");
            continue;
        }
        buf_addf(&detail, "%s (%s)", t.version, t.path);
        pgtool_free(&t);
    }
    add(r, "pg_tools", st, buf_str(&fix), "%s (server %d)", buf_str(&detail), server_major);
    buf_release(&detail);
    buf_release(&fix);
}

/* ---- accounts and secrets ------------------------------------------------ */

static void check_demo_passwords(struct db *db, struct ops_doctor_report *r)
{
    char **emails = NULL;
    int count = 0;
    struct buf b = BUF_INIT;
    struct err e;

    err_clear(&e);
    if (seed_demo_passwords_in_use(db, &emails, &count, &e) < 0) {
        add(r, "demo_passwords", OPS_WARN, "see the log", "cannot check the demo accounts: %s",
            e.msg);
        return;
    }
    for (int i = 0; i < count; i++)
        buf_addf(&b, "%s%s", i ? ", " : "", emails[i]);
    if (count > 0)
        add(r, "demo_passwords", OPS_WARN,
            "change these passwords or deactivate the accounts before going live",
            "%d demo account%s still ha%s the published password: %s", count, count == 1 ? "" : "s",
            count == 1 ? "s" : "ve", buf_str(&b));
    else
        add(r, "demo_passwords", OPS_OK, NULL, "no demo account has its published password");
    db_strv_free(emails, count);
    buf_release(&b);
}

/* Placeholders seen in example files; a secret containing one is not secret. */
static bool looks_like_placeholder(const char *s)
{
    static const char *const words[] = {"changeme", "change-me", "change_me", "secret",
                                        "example",  "password",  "your-",     NULL};
    for (int i = 0; words[i] != NULL; i++)
        if (strcasestr(s, words[i]) != NULL)
            return true;
    return false;
}

static void check_session_secret(const struct config *cfg, struct ops_doctor_report *r)
{
    const char *s = cfg->session_secret;
    bool seen[256] = {false};
    int distinct = 0;
    size_t len;

    if (cfg->env != CONFIG_ENV_PRODUCTION) {
        add(r, "session_secret", OPS_OK, NULL, "not checked: CITAPLANNER_ENV is not production");
        return;
    }
    if (s == NULL) {
        add(r, "session_secret", OPS_OK, NULL,
            "SESSION_SECRET unset: a generated secret is kept in the database");
        return;
    }
    len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!seen[c]) {
            seen[c] = true;
            distinct++;
        }
    }
    /* The value itself is never shown: only its length and why it is weak. */
    if (len < 32)
        add(r, "session_secret", OPS_FAIL, "set SESSION_SECRET to 'openssl rand -hex 32'",
            "SESSION_SECRET has %zu characters; production needs at least 32", len);
    else if (distinct < 10 || looks_like_placeholder(s))
        add(r, "session_secret", OPS_FAIL, "set SESSION_SECRET to 'openssl rand -hex 32'",
            "SESSION_SECRET is weak (%s)",
            distinct < 10 ? "too few distinct characters" : "it contains a placeholder word");
    else
        add(r, "session_secret", OPS_OK, NULL, "SESSION_SECRET set (%zu characters)", len);
}

/* ---- the run ------------------------------------------------------------- */

/* Copies off BACKUP_DIR (issue 10): every local backup should have one in each remote. */
static void check_backup_remote(const struct config *cfg, time_t now, struct ops_doctor_report *r)
{
    for (int i = 0; i < BACKUP_REMOTE_COUNT; i++) {
        const char *name = backup_remote_names[i];
        int missing = 0;
        int64_t oldest = 0;
        char age[32];

        if (!backup_remote_lag(cfg, name, now, &missing, &oldest))
            continue;
        if (missing == 0) {
            add(r, "backup_remote", OPS_OK, NULL, "every backup has a verified copy in the %s '%s'",
                name, backup_remote_where(cfg, name));
            continue;
        }
        fmt_age(age, (double)oldest);
        add(r, "backup_remote", OPS_WARN,
            "check that the remote is reachable and writable (BACKUP_MIRROR_DIR mounted, "
            "BACKUP_S3_* and the credentials right); the next backup copies what is missing",
            "%d backup%s not copied to the %s '%s' yet (the oldest %s old)", missing,
            missing == 1 ? "" : "s", name, backup_remote_where(cfg, name), age);
    }
}

/* PostgreSQL's archive (issue 20): the slot's retained WAL on the server and the archive's lag. */
static void check_archive(const struct config *cfg, struct db *db, time_t now,
                          struct ops_doctor_report *r)
{
    struct pg_slot_state rec, st;
    struct pg_slot_lag *lag = NULL;
    struct err e;
    bool recorded, fresh;
    char ret[32], lim[32];

    if (cfg->db.kind != URL_POSTGRES)
        return;
    recorded = pg_slot_state_read(cfg->backup_dir, &rec) == 0;
    fresh = recorded && now - rec.time < 60;
    if (!cfg->archive_pg && !recorded) {
        add(r, "archive", OPS_OK, NULL,
            "continuous archiving is off (ARCHIVE=off): the newest restorable state is the "
            "newest dump");
        return;
    }
    err_clear(&e);
    lag = xcalloc(1, sizeof(*lag));
    if (db == NULL || pg_slot_read(db, lag, &st, &e) < 0) {
        add(r, "archive", OPS_WARN, "fix the database line first", "not checked: %s",
            db == NULL ? "the database is unreachable" : e.msg);
        free(lag);
        return;
    }
    free(lag);
    fmt_bytes(ret, (uint64_t)st.retained);
    fmt_bytes(lim, (uint64_t)cfg->archive_slot_max_bytes);
    if (!st.exists)
        add(r, "archive", OPS_FAIL,
            "run the archiver: ARCHIVE=on for serve, or 'citaplanner archive' (it creates the "
            "slot); the role needs REPLICATION",
            "the replication slot %s does not exist on the server%s", ARCHIVE_PG_SLOT,
            recorded && rec.dropped ? " (the guard dropped it: see the alert)" : "");
    else if (!st.active || (fresh && rec.lag_s > cfg->archive_max_lag_s) ||
             st.retained > cfg->archive_slot_max_bytes / 2)
        add(r, "archive", OPS_WARN,
            "check the archiver's log (serve or citaplanner archive) and BACKUP_DIR's space",
            "slot %s %s; it holds %s of WAL on the server (dropped past %s); the archive is %s",
            ARCHIVE_PG_SLOT, st.active ? "streaming" : "NOT streaming (no archiver connected)", ret,
            lim, fresh ? "" : "of unknown lag (no archiver record in the last minute)");
    else
        add(r, "archive", OPS_OK, NULL,
            "slot %s streaming; it holds %s of WAL on the server (dropped past %s); the archive "
            "is %.0f s behind (ARCHIVE_MAX_LAG %d s)",
            ARCHIVE_PG_SLOT, ret, lim, fresh ? rec.lag_s : 0.0, cfg->archive_max_lag_s);
}

void ops_doctor_run(const struct config *cfg, time_t now, bool alert, struct ops_doctor_report *r)
{
    struct ops_backup_facts f;
    struct db *db = NULL;
    struct err e;
    static const char *const db_checks[] = {"migrations", "demo_passwords"};

    memset(r, 0, sizeof(*r));
    memset(&f, 0, sizeof(f));
    err_clear(&e);

    add(r, "config", OPS_OK, NULL, "DATABASE_URL '%s' is valid%s", url_redacted(&cfg->db),
        cfg->database_url_defaulted ? " (the default: DATABASE_URL is not set)" : "");
    check_database(cfg, r, &db);
    if (db != NULL) {
        check_migrations(db, r);
    } else {
        for (int i = 0; i < 1; i++)
            add(r, db_checks[i], OPS_WARN, "fix the database line first",
                "not checked: the database is unreachable");
    }

    check_backup_dir(cfg, r);
    if (ops_backup_facts_load(cfg, now, &f, &e) < 0) {
        add(r, "backups", OPS_FAIL, "check BACKUP_DIR's permissions", "%s", e.msg);
    } else {
        check_backup_space(&f, r);
        check_data_space(cfg, db, r);
        check_backup_age(cfg, &f, alert, r);
        check_tier(&f, BACKUP_DAILY, 0, r);
        check_tier(&f, BACKUP_WEEKLY, WEEKLY_MAX_AGE_S, r);
        check_tier(&f, BACKUP_MONTHLY, MONTHLY_MAX_AGE_S, r);
        check_checksum(&f, r);
        check_backup_remote(cfg, now, r);
    }
    check_pg_tools(cfg, db, r);
    check_archive(cfg, db, now, r);
    if (db != NULL)
        check_demo_passwords(db, r);
    else
        add(r, db_checks[1], OPS_WARN, "fix the database line first",
            "not checked: the database is unreachable");
    check_session_secret(cfg, r);
    notify_doctor(cfg, db, notify_add, r); /* notifications to clients (issue 17) */

    ops_backup_facts_release(&f);
    db_close(db);
}
