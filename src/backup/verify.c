/*
 * verify — is this backup whole?  See verify.h (backup_verify_file) for the
 * contract and backup/scan.h for the reader.
 *
 * One pass (backup/scan.h): every buffer read from the file goes to SHA-256
 * and to the gzip decoder, and the decoded bytes to a content check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <libdeflate.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "backup/layout.h"
#include "backup/files.h"
#include "backup/scan.h"
#include "backup/psql.h"
#include "backup/runtime.h"
#include "backup/manifest.h"
#include "backup/verify.h"
#include "backup/encrypt.h"
#include "backup/foreign.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db_backup.h"
#include "migrate/migrate.h"

/* What a PostgreSQL plain dump starts and ends with. */
static const char dump_header[] = "-- PostgreSQL database dump\n";
static const char dump_closing[] = "\n-- PostgreSQL database dump complete\n";
static const char sqlite_header[16] = "SQLite format 3";
#define HEAD_MAX 1024
#define TAIL_MAX 512

/* ---- the content check ---- */

/* The rows of a plain dump's COPY blocks (plain verify compares them with the manifest). */
#define COPY_LINE_MAX 256
struct copy_count {
    char line[COPY_LINE_MAX];
    size_t len;
    bool in_copy;
    char **tables; /* in the dump's order */
    int64_t *rows;
    int n, cap;
};

struct content {
    bool count_copies; /* not a SQLite backup by its name */
    struct copy_count copies;
    char head[HEAD_MAX];
    size_t head_len;
    char tail[TAIL_MAX];
    size_t tail_len;
    int copy_fd; /* the SQLite copy, -1 when not writing one */
    const char *copy_path;
    int (*also)(void *arg, const void *p, size_t n, struct err *e); /* the caller's sink */
    void *also_arg;
};

/* The name in "COPY public.NAME (…) FROM stdin;" (quoted or not); caller frees. */
static char *copy_table_name(const char *line)
{
    const char *p = line + strlen("COPY public.");
    struct buf b = BUF_INIT;

    if (*p == '"') {
        for (p++; *p != '\0'; p++) {
            if (*p == '"' && p[1] != '"')
                break;
            if (*p == '"')
                p++;
            buf_addc(&b, *p);
        }
    } else {
        buf_add(&b, p, strcspn(p, " ("));
    }
    return buf_detach(&b);
}

/* One whole line of a plain dump (its first COPY_LINE_MAX - 1 bytes). */
static void copy_count_line(struct copy_count *k)
{
    k->line[k->len] = '\0';
    if (k->in_copy) {
        if (strcmp(k->line, "\\.") == 0)
            k->in_copy = false;
        else
            k->rows[k->n - 1]++;
    } else if (strncmp(k->line, "COPY public.", strlen("COPY public.")) == 0) {
        if (k->n == k->cap) {
            k->cap = k->cap ? k->cap * 2 : 32;
            k->tables = xrealloc(k->tables, sizeof(*k->tables) * (size_t)k->cap);
            k->rows = xrealloc(k->rows, sizeof(*k->rows) * (size_t)k->cap);
        }
        k->tables[k->n] = copy_table_name(k->line);
        k->rows[k->n++] = 0;
        k->in_copy = true;
    }
    k->len = 0;
}

/* The rows of each table's COPY block, counted as the dump goes by. */
static void copy_count_feed(struct copy_count *k, const char *b, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(b, '\n', n);
        size_t take = nl != NULL ? (size_t)(nl - b) : n;
        size_t room = COPY_LINE_MAX - 1 - k->len;
        memcpy(k->line + k->len, b, take < room ? take : room);
        k->len += take < room ? take : room;
        if (nl == NULL)
            break;
        copy_count_line(k);
        b = nl + 1;
        n -= take + 1;
    }
}

static void copy_count_release(struct copy_count *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->tables[i]);
    free(k->tables);
    free(k->rows);
}

static int content_sink(void *arg, const void *p, size_t n, struct err *e)
{
    struct content *c = arg;
    const char *b = p;
    int rc;

    if (c->count_copies)
        copy_count_feed(&c->copies, b, n);
    if (c->also != NULL && (rc = c->also(c->also_arg, p, n, e)) < 0)
        return rc;
    if (c->head_len < HEAD_MAX) {
        size_t k = n < HEAD_MAX - c->head_len ? n : HEAD_MAX - c->head_len;
        memcpy(c->head + c->head_len, b, k);
        c->head_len += k;
    }
    if (n >= TAIL_MAX) {
        memcpy(c->tail, b + n - TAIL_MAX, TAIL_MAX);
        c->tail_len = TAIL_MAX;
    } else {
        if (c->tail_len + n > TAIL_MAX) {
            size_t drop = c->tail_len + n - TAIL_MAX;
            memmove(c->tail, c->tail + drop, c->tail_len - drop);
            c->tail_len -= drop;
        }
        memcpy(c->tail + c->tail_len, b, n);
        c->tail_len += n;
    }
    if (c->copy_fd >= 0)
        return backup_write_all(c->copy_fd, p, n, c->copy_path, e) < 0
                   ? err_set(e, ERR_VERIFY, "cannot write the temporary copy '%s': %s",
                             c->copy_path, e->msg)
                   : 0;
    return 0;
}

static bool mem_has(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

/* ---- sidecars ---- */

/* The manifest: present, readable, and describing these bytes. */
static void check_manifest(const char *path, const struct backup_scan *s,
                           struct backup_verify_result *r, struct buf *why)
{
    char *mp = xasprintf("%s.json", path);
    struct err me;

    err_clear(&me);
    if (access(mp, F_OK) != 0) {
        buf_add_reason(why, "the manifest '%s' is missing", path_base(mp));
        goto cleanup;
    }
    if (backup_manifest_load(mp, &r->m, &me) < 0) {
        backup_manifest_release(&r->m);
        buf_add_reason(why, "%s", me.msg);
        goto cleanup;
    }
    r->has_manifest = true;
    if (r->m.gz_bytes != s->gz_bytes)
        buf_add_reason(why, "size mismatch: the file has %llu bytes, the manifest says %llu",
                       (unsigned long long)s->gz_bytes, (unsigned long long)r->m.gz_bytes);
    if (s->sha256[0] != '\0' && strcmp(r->m.sha256, s->sha256) != 0)
        buf_add_reason(why,
                       "SHA-256 mismatch: the file hashes to %.12s..., the manifest says %.12s...",
                       s->sha256, r->m.sha256);
    if (s->gzip_ok && r->m.raw_bytes != s->raw_bytes)
        buf_add_reason(why, "the data decompresses to %llu bytes, the manifest says %llu",
                       (unsigned long long)s->raw_bytes, (unsigned long long)r->m.raw_bytes);
    if ((r->format == BACKUP_FMT_SQL && strcmp(r->m.db_kind, "postgresql") != 0) ||
        (r->format == BACKUP_FMT_SQLITE && strcmp(r->m.db_kind, "sqlite") != 0))
        buf_add_reason(why, "the manifest says '%s', the data is not", r->m.db_kind);

cleanup:
    free(mp);
}

/* ---- temporary files ---- */

/* Where a temporary file of this verification goes. */
static char *tmp_dir_for(const struct backup_verify_opts *o, const char *path)
{
    char *d;

    if (o->tmp_dir != NULL)
        return xstrdup(o->tmp_dir);
    d = path_dir(path);
    if (access(d, W_OK) == 0)
        return d;
    free(d);
    return xstrdup(backup_tmp_dir());
}

static void unlink_sqlite(const char *p)
{
    const char *sfx[] = {"", "-journal", "-wal", "-shm"};

    for (int i = 0; i < 4; i++) {
        char *q = xasprintf("%s%s", p, sfx[i]);
        unlink(q);
        free(q);
    }
}

/* ---- deep ---- */

/* Compare a restored database's row counts with the manifest's. */
static void compare_counts(const struct backup_manifest *m, char **tables, const int64_t *rows,
                           int n, const char *where, struct buf *why)
{
    int bad = 0;

    if (m->ntables < 0)
        return; /* a backup without a manifest: restoring it is the check */
    for (int i = 0; i < m->ntables; i++) {
        int j = 0;
        while (j < n && strcmp(tables[j], m->tables[i]) != 0)
            j++;
        if (j == n) {
            if (bad++ < 3)
                buf_add_reason(why, "table '%s' of the manifest is missing %s", m->tables[i],
                               where);
        } else if (rows[j] != m->rows[i]) {
            if (bad++ < 3)
                buf_add_reason(why, "table '%s' has %lld rows %s, the manifest says %lld",
                               m->tables[i], (long long)rows[j], where, (long long)m->rows[i]);
        }
    }
    for (int j = 0; j < n; j++) {
        int i = 0;
        while (i < m->ntables && strcmp(tables[j], m->tables[i]) != 0)
            i++;
        if (i == m->ntables && bad++ < 3)
            buf_add_reason(why, "table '%s' is not in the manifest", tables[j]);
    }
    if (bad > 3)
        buf_add_reason(why, "%d row-count differences in all", bad);
}

void backup_schema_compare(char *const *want, int nwant, char *const *got, int ngot,
                           struct buf *why)
{
    struct buf missing = BUF_INIT, extra = BUF_INIT;
    int i = 0, j = 0, nmissing = 0, nextra = 0;

    while (i < nwant || j < ngot) {
        int c = i == nwant ? 1 : j == ngot ? -1 : strcmp(want[i], got[j]);
        if (c < 0 && nmissing++ < 5)
            buf_addf(&missing, "%s'%s'", missing.len ? ", " : "", want[i]);
        else if (c > 0 && nextra++ < 5)
            buf_addf(&extra, "%s'%s'", extra.len ? ", " : "", got[j]);
        i += c <= 0;
        j += c >= 0;
    }
    if (nmissing > 0)
        buf_add_reason(why, "the schema lacks %d object%s its manifest records: %s%s", nmissing,
                       nmissing == 1 ? "" : "s", buf_str(&missing), nmissing > 5 ? ", ..." : "");
    if (nextra > 0)
        buf_add_reason(why, "the schema has %d object%s its manifest does not record: %s%s", nextra,
                       nextra == 1 ? "" : "s", buf_str(&extra), nextra > 5 ? ", ..." : "");
    buf_release(&missing);
    buf_release(&extra);
}

/*
 * --deep on PostgreSQL: a scratch database on the same server, the dump
 * played into it, its row counts compared, the database dropped whatever
 * happened.
 */
#define SCRATCH_PREFIX "citaplanner_verify_"
/* A deep verification older than this is dead (killed): its database may go. */
#define SCRATCH_STALE_S (6 * 3600)

/*
 * Drop the scratch databases of deep verifications killed before they could
 * drop their own.  Only names carrying a creation time older than
 * SCRATCH_STALE_S; DROP DATABASE without FORCE refuses one still in use.
 */
static void sweep_scratch_databases(struct db *admin)
{
    struct db_res *res = NULL;
    struct err e;
    time_t now = time(NULL);

    err_clear(&e);
    if (db_query(admin, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1",
                 DB_PARAMS(DB_TEXT(SCRATCH_PREFIX)), &res, &e) < 0)
        return;
    while (db_res_next(res) == 1) {
        const char *dn = db_res_text(res, 0);
        long long born = 0;
        if (dn == NULL || sscanf(dn + strlen(SCRATCH_PREFIX), "%lld_", &born) != 1 || born <= 0 ||
            now - (time_t)born < SCRATCH_STALE_S)
            continue;
        char *q = db_quote_ident(dn);
        char *sql = xasprintf("DROP DATABASE IF EXISTS %s", q);
        struct err de;
        err_clear(&de);
        if (db_exec(admin, sql, &de) == 0)
            log_info("deep verify: dropped '%s', left by a run that was killed", dn);
        else
            log_warn("deep verify: cannot drop the stale scratch database '%s': %s", dn, de.msg);
        free(sql);
        free(q);
    }
    db_res_free(res);
}

static int deep_pg(const struct backup_verify_opts *o, const char *path, const char *priv,
                   struct backup_verify_result *r, struct buf *why, struct err *e)
{
    struct db *admin = NULL, *scratch = NULL;
    struct url su;
    unsigned char rnd[6];
    char hex[2 * sizeof(rnd) + 1];
    char name[64];
    char **tables = NULL;
    int64_t *rows = NULL;
    int n = 0;
    bool created = false;
    char *record = NULL;
    struct backup_tick tk = {o->progress, o->progress_arg, "deep", time_mono()};
    int rc;

    memset(&su, 0, sizeof(su));
    if (o->db == NULL || o->db->kind != URL_POSTGRES)
        return err_set(e, ERR_CONFIG,
                       "--deep of a PostgreSQL backup needs DATABASE_URL to name a PostgreSQL "
                       "server");
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return err_set(e, ERR_INTERNAL, "cannot draw random bytes");
    /* The creation time in the name lets a later run sweep what a killed run left. */
    hex_encode(rnd, sizeof(rnd), hex);
    snprintf(name, sizeof(name), "%s%lld_%s", SCRATCH_PREFIX, (long long)time(NULL), hex);
    rc = db_open(o->db, DB_CONNECT_TIMEOUT_S, &admin, e);
    if (rc < 0)
        goto cleanup;
    sweep_scratch_databases(admin);
    /* Recorded first: a run killed from here on leaves a record the next run acts on. */
    rc = backup_runtime_record(BACKUP_RECORD_DATABASE, name, o->db, &record, e);
    if (rc < 0)
        goto cleanup;
    {
        char *q = db_quote_ident(name);
        char *sql = xasprintf("CREATE DATABASE %s TEMPLATE template0", q);
        rc = db_exec(admin, sql, e);
        free(sql);
        free(q);
        if (rc < 0) {
            err_prefix(e, "cannot create the scratch database '%s'", name);
            goto cleanup;
        }
        created = true;
    }
    url_copy(&su, o->db);
    free(su.dbname);
    su.dbname = xstrdup(name);
    {
        struct backup_psql_feed fo = {
            .url = &su,
            .server_major = db_server_version_num(admin) / 10000,
            .priv_dir = priv,
            .expect_sha256 = r->sha256,
            .cancel = o->cancel,
            .tick = backup_progress_tick,
            .tick_arg = &tk,
        };
        if (backup_name_encrypted(path)) {
            /* age's output, read as a pipe, checked against the hash the quick pass found. */
            struct backup_age *age = NULL;
            rc = backup_age_decrypt_start(backup_decrypt_identity(o->identity), path, &age, e);
            if (rc < 0)
                goto cleanup;
            fo.expect_sha256 = r->inner_sha256;
            rc = backup_psql_feed_file(&fo, backup_age_fd_path(age), e);
            if (rc < 0)
                backup_age_abort(age);
            else
                rc = backup_age_finish(age, e);
        } else {
            rc = backup_psql_feed_file(&fo, path, e);
        }
        if (rc < 0) {
            if (e->code == ERR_BACKUP || e->code == ERR_VERIFY) {
                /* The dump itself failed to load: the backup is at fault. */
                buf_add_reason(why, "the dump does not restore: %s", e->msg);
                rc = 0;
            }
            goto cleanup;
        }
    }
    rc = db_open(&su, DB_CONNECT_TIMEOUT_S, &scratch, e);
    if (rc < 0)
        goto cleanup;
    rc = db_table_counts(scratch, &tables, &rows, &n, e);
    if (rc < 0)
        goto cleanup;
    compare_counts(&r->m, tables, rows, n, "after the restore", why);
    if (r->m.objects != NULL) {
        char **objects = NULL;
        int nobjects = 0;
        rc = db_schema_objects(scratch, &objects, &nobjects, e);
        if (rc < 0)
            goto cleanup;
        backup_schema_compare(r->m.objects, r->m.nobjects, objects, nobjects, why);
        db_strv_free(objects, nobjects);
    }
    if (r->no_manifest) { /* the counts, for backup adopt */
        r->m.tables = tables, r->m.rows = rows, r->m.ntables = n;
        tables = NULL, rows = NULL, n = 0;
    }
    rc = 0;

cleanup:
    db_close(scratch);
    if (created) {
        char *q = db_quote_ident(name);
        char *sql = xasprintf(db_server_version_num(admin) >= 130000
                                  ? "DROP DATABASE IF EXISTS %s WITH (FORCE)"
                                  : "DROP DATABASE IF EXISTS %s",
                              q);
        struct err de;
        err_clear(&de);
        if (db_exec(admin, sql, &de) < 0)
            log_error("cannot drop the scratch database '%s': %s", name, de.msg);
        else
            created = false;
        free(sql);
        free(q);
    }
    if (!created) /* kept while the database may still exist */
        backup_runtime_forget(record);
    else
        free(record);
    db_close(admin);
    db_strv_free(tables, n);
    free(rows);
    url_release(&su);
    return rc;
}

/* ---- one file ---- */

/*
 * The unpacked SQLite copy against the manifest: its row counts, and when
 * deep its schema objects; a backup without a manifest gets the counts (for
 * backup adopt).
 */
static void check_sqlite_copy(const char *copy, struct backup_verify_result *r, bool deep,
                              struct buf *why)
{
    struct db_snapshot_stats st;
    struct err de;

    memset(&st, 0, sizeof(st));
    err_clear(&de);
    if (db_sqlite_stats(copy, &st, &de) < 0)
        buf_add_reason(why, "%s", de.msg);
    else
        compare_counts(&r->m, st.tables, st.rows, st.ntables,
                       deep ? "after the restore" : "in the backup", why);
    if (deep && r->m.objects != NULL && st.objects != NULL)
        backup_schema_compare(r->m.objects, r->m.nobjects, st.objects, st.nobjects, why);
    if (r->no_manifest) {
        r->m.tables = st.tables, r->m.rows = st.rows, r->m.ntables = st.ntables;
        st.tables = NULL, st.rows = NULL, st.ntables = 0;
    }
    db_snapshot_stats_release(&st);
}

void backup_verify_result_release(struct backup_verify_result *r)
{
    if (r == NULL)
        return;
    backup_manifest_release(&r->m);
    free(r->sqlite_copy);
    backup_runtime_forget(r->sqlite_copy_record);
    memset(r, 0, sizeof(*r));
}

int backup_verify_file(const struct backup_verify_opts *o, const char *path,
                       struct backup_verify_result *r, struct err *e)
{
    struct content c;
    struct backup_scan sc;
    struct buf why = BUF_INIT;
    struct backup_tick tk = {o->progress, o->progress_arg, "verify", time_mono()};
    char *tdir = NULL, *copy = NULL;
    struct stat sb;
    bool enc = backup_name_encrypted(path);
    bool name_sqlite = str_ends_with(path, ".sqlite.gz") || str_ends_with(path, ".sqlite.gz.age");
    const char *identity = enc ? backup_decrypt_identity(o->identity) : NULL;
    struct backup_age *age = NULL;
    const char *scan_path = path;
    char *copy_record = NULL;
    double t0 = time_mono();
    int rc = 0;

    memset(r, 0, sizeof(*r));
    /* What killed runs left: scratch databases, unpacked copies, passfiles. */
    backup_runtime_sweep(o->db);
    memset(&c, 0, sizeof(c));
    memset(&sc, 0, sizeof(sc));
    c.copy_fd = -1;
    c.also = o->content_sink;
    c.also_arg = o->content_arg;
    c.count_copies = !name_sqlite && !o->deep;
    r->format = name_sqlite ? BACKUP_FMT_SQLITE : BACKUP_FMT_SQL;
    if (stat(path, &sb) != 0) {
        rc = err_set(e, ERR_VERIFY, "cannot read '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = err_set(e, ERR_VERIFY, "'%s' is not a regular file", path);
        goto cleanup;
    }
    if (enc) {
        /*
         * An encrypted backup: the sidecar and the manifest describe the
         * ciphertext, checked first and without a key.  With an identity, the
         * content is then decrypted through age as a pipe and checked as usual.
         */
        struct backup_scan es;
        memset(&es, 0, sizeof(es));
        rc = backup_hash_file(path, es.sha256, &es.gz_bytes, e);
        if (rc < 0)
            goto cleanup;
        r->gz_bytes = es.gz_bytes;
        memcpy(r->sha256, es.sha256, sizeof(r->sha256));
        r->no_manifest = !backup_has_manifest(path);
        backup_sidecar_check(path, es.sha256, !r->no_manifest, &why);
        if (!r->no_manifest)
            check_manifest(path, &es, r, &why);
        if (r->has_manifest)
            r->raw_bytes = r->m.raw_bytes; /* as recorded; measured again when decrypted */
        if (identity == NULL && o->deep) {
            rc = err_set(e, ERR_CONFIG,
                         "--deep of the encrypted backup '%s' needs BACKUP_DECRYPT_IDENTITY (the "
                         "age identity file)",
                         path);
            goto cleanup;
        }
        if (identity == NULL || why.len > 0)
            goto verdict;
        rc = backup_age_decrypt_start(identity, path, &age, e);
        if (rc < 0)
            goto cleanup;
        scan_path = backup_age_fd_path(age);
    }
    /*
     * A SQLite backup (by its name) is decompressed into a private copy as it
     * is read, for integrity_check: the same pass, no second read.
     */
    if (name_sqlite) {
        if (enc && o->db != NULL && o->db->kind == URL_SQLITE && o->db->path != NULL)
            tdir = path_dir(o->db->path); /* plaintext only beside the live database */
        else
            tdir = tmp_dir_for(o, path);
        {
            char *b = xasprintf("%s.verify", path_base(path));
            copy = backup_tmp_path(tdir, b);
            free(b);
        }
        c.copy_path = copy;
        rc = backup_runtime_record(BACKUP_RECORD_FILE, copy, NULL, &copy_record, e);
        if (rc < 0)
            goto cleanup;
        c.copy_fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (c.copy_fd < 0) {
            rc = err_set(e, ERR_VERIFY, "cannot create the temporary copy '%s': %s", copy,
                         strerror(errno));
            goto cleanup;
        }
    }
    rc =
        backup_scan_file(scan_path, content_sink, &c, o->cancel, backup_progress_tick, &tk, &sc, e);
    if (c.copy_fd >= 0) {
        close(c.copy_fd);
        c.copy_fd = -1;
    }
    if (rc < 0)
        goto cleanup;
    if (age != NULL) {
        struct backup_age *a = age;
        struct err ae;
        age = NULL;
        err_clear(&ae);
        if (backup_age_finish(a, &ae) < 0) {
            /* Its message says why (a wrong identity, a damaged file); gzip's would be noise. */
            buf_add_reason(&why, "%s", ae.msg);
            goto verdict;
        }
        r->decrypted = true;
        memcpy(r->inner_sha256, sc.sha256, sizeof(r->inner_sha256));
    } else {
        r->gz_bytes = sc.gz_bytes;
        memcpy(r->sha256, sc.sha256, sizeof(r->sha256));
    }
    r->raw_bytes = sc.raw_bytes;
    r->members = sc.members;

    /* The gzip stream, then the content. */
    if (!sc.gzip_ok)
        buf_add_reason(&why, "%s", sc.gzip_error);
    if (c.head_len >= 16 && memcmp(c.head, sqlite_header, 16) == 0)
        r->format = BACKUP_FMT_SQLITE;
    else if (c.head_len > 0 && c.head[0] == '-')
        r->format = BACKUP_FMT_SQL;
    if (sc.gzip_ok) {
        if (r->format == BACKUP_FMT_SQL) {
            if (name_sqlite)
                buf_add_reason(&why, "named as a SQLite backup but holds no SQLite database");
            else if (!mem_has(c.head, c.head_len, dump_header))
                buf_add_reason(&why,
                               "not a PostgreSQL dump: its header '-- PostgreSQL database dump' "
                               "is missing");
            else if (!mem_has(c.tail, c.tail_len, dump_closing))
                buf_add_reason(&why,
                               "incomplete dump: its closing line '-- PostgreSQL database dump "
                               "complete' is missing");
        } else if (!name_sqlite) {
            buf_add_reason(&why, "a SQLite database named as a PostgreSQL dump");
        } else {
            struct err ie;
            err_clear(&ie);
            if (db_sqlite_check(copy, &ie) < 0)
                buf_add_reason(&why, "%s", ie.msg);
        }
    }
    if (!enc) {
        r->no_manifest = !backup_has_manifest(path);
        backup_sidecar_check(path, sc.sha256, !r->no_manifest, &why);
        if (!r->no_manifest)
            check_manifest(path, &sc, r, &why);
    } else if (sc.gzip_ok && r->has_manifest && r->m.raw_bytes != sc.raw_bytes) {
        buf_add_reason(&why, "the data decompresses to %llu bytes, the manifest says %llu",
                       (unsigned long long)sc.raw_bytes, (unsigned long long)r->m.raw_bytes);
    }

    /* The row counts a quick check can see: a dump's COPY blocks, a SQLite copy's tables. */
    if (why.len == 0 && !o->deep && r->has_manifest && r->m.ntables >= 0) {
        if (r->format == BACKUP_FMT_SQL && c.count_copies) {
            compare_counts(&r->m, c.copies.tables, c.copies.rows, c.copies.n, "in the dump", &why);
        } else if (r->format == BACKUP_FMT_SQLITE && copy != NULL) {
            check_sqlite_copy(copy, r, false, &why);
        }
    }
    if (r->no_manifest)
        backup_manifest_synthesize(path, r); /* another tool's: its content was the check */
    if (why.len == 0 && o->deep) {
        if (r->format == BACKUP_FMT_SQLITE) {
            check_sqlite_copy(copy, r, true, &why);
        } else {
            char *priv = tdir != NULL ? xstrdup(tdir) : tmp_dir_for(o, path);
            rc = deep_pg(o, path, priv, r, &why, e);
            free(priv);
            if (rc < 0)
                goto cleanup;
        }
        r->deep_done = why.len == 0;
    }
verdict:
    if (why.len > 0)
        rc = err_set(e, ERR_VERIFY, "%s", buf_str(&why));

cleanup:
    backup_age_abort(age);
    copy_count_release(&c.copies);
    if (c.copy_fd >= 0)
        close(c.copy_fd);
    if (copy != NULL && rc == 0 && o->keep_copy) {
        r->sqlite_copy = copy;
        copy = NULL;
    }
    if (copy != NULL)
        unlink_sqlite(copy);
    /* A copy handed over stays recorded until its new owner is done (or dead). */
    if (copy != NULL || r->sqlite_copy == NULL)
        backup_runtime_forget(copy_record);
    else
        r->sqlite_copy_record = copy_record;
    free(copy);
    free(tdir);
    buf_release(&why);
    r->seconds = time_mono() - t0;
    return rc;
}
