/*
 * pg_check — the archive proven by a restore (see pg_check.h).
 */
#include "archive/pg_check.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/pg_base.h"
#include "archive/pg_pitr.h"
#include "archive/pg_tool.h"
#include "backup/psql.h"
#include "common/file.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"

#define START_TIMEOUT_S  600
#define REPLAY_TIMEOUT_S 3600

/* s percent-encoded for a URL's component. */
static void add_encoded(struct buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.')
            buf_addc(b, (char)c);
        else
            buf_addf(b, "%%%02X", c);
    }
}

/* The newest base backup with a recorded check; its counts into *counts (caller decrefs). */
static const struct pg_base *pick(const struct pg_base_list *l, json_t **counts)
{
    for (int i = l->n - 1; i >= 0; i--) {
        if (l->v[i].check_lsn[0] == '\0')
            continue;
        char *p = xasprintf("%s/base.json", l->v[i].dir);
        json_t *o = json_load_file(p, 0, NULL);
        free(p);
        *counts = json_incref(json_object_get(o, "row_counts"));
        json_decref(o);
        if (json_is_object(*counts))
            return &l->v[i];
        json_decref(*counts);
        *counts = NULL;
    }
    return NULL;
}

/* Wait until the restored server has replayed to its target and opened. */
static int wait_open(const struct url *u, const char *log_path, struct err *e)
{
    double deadline = time_mono() + REPLAY_TIMEOUT_S;
    int rc = -1;

    while (time_mono() < deadline) {
        struct db *db = NULL;
        struct err ce;
        int64_t rec = 1;
        err_clear(&ce);
        if (db_open(u, DB_CONNECT_TIMEOUT_S, &db, &ce) == 0 &&
            db_query_int(db, "SELECT pg_is_in_recovery()::int", DB_NOPARAMS, &rec, &ce) == 0 &&
            rec == 0)
            rc = 0;
        db_close(db);
        if (rc == 0)
            return 0;
        if (access(log_path, F_OK) == 0) {
            FILE *f = fopen(log_path, "r");
            char line[512];
            bool fatal = false;
            while (f != NULL && fgets(line, sizeof(line), f) != NULL)
                if (strstr(line, "FATAL") != NULL && strstr(line, "recovery") != NULL) {
                    fatal = true;
                    line[strcspn(line, "\n")] = '\0';
                    err_set(e, ERR_VERIFY, "the restored server stopped: %s", line);
                    break;
                }
            if (f != NULL)
                fclose(f);
            if (fatal)
                return -ERR_VERIFY;
        }
        sleep_ms(500);
    }
    return err_set(e, ERR_VERIFY, "the restored server did not open in %d s (see '%s')",
                   REPLAY_TIMEOUT_S, log_path);
}

/* Compare db's counts with the record; mismatches named in the error. */
static int compare(const struct url *u, json_t *want, int *ntables, struct err *e)
{
    struct db *db = NULL;
    char **tables = NULL;
    int64_t *rows = NULL;
    int n = 0, rc;
    struct buf diff = BUF_INIT;

    rc = db_open(u, DB_CONNECT_TIMEOUT_S, &db, e);
    if (rc == 0)
        rc = db_table_counts(db, &tables, &rows, &n, e);
    for (int i = 0; rc == 0 && i < n; i++) {
        json_t *w = json_object_get(want, tables[i]);
        if (w == NULL || json_integer_value(w) != rows[i])
            buf_addf(&diff, "%s%s %lld (recorded %s%lld)", diff.len ? ", " : "", tables[i],
                     (long long)rows[i], w == NULL ? "none, " : "",
                     (long long)json_integer_value(w));
    }
    if (rc == 0 && (size_t)n != json_object_size(want))
        buf_addf(&diff, "%s%d tables restored, %zu recorded", diff.len ? ", " : "", n,
                 json_object_size(want));
    if (rc == 0 && diff.len > 0)
        rc = err_set(e, ERR_VERIFY, "the restored database differs from the archive's record: %s",
                     buf_str(&diff));
    *ntables = n;
    buf_release(&diff);
    db_strv_free(tables, n);
    free(rows);
    db_close(db);
    return rc;
}

int pg_check_run(const struct config *cfg, const char *self, struct pg_check_result *r,
                 struct err *e)
{
    struct pg_base_list l;
    const struct pg_base *b;
    json_t *counts = NULL;
    char *tmp = xasprintf("%s/.check-pg.tmp", cfg->backup_dir);
    char *data = xasprintf("%s/data", tmp), *hba = xasprintf("%s/hba.conf", tmp);
    char *log_path = xasprintf("%s/server.log", tmp), *ctl = NULL, *opts = NULL;
    struct pgtool pg = {0};
    struct url u;
    struct buf text = BUF_INIT;
    bool started = false;
    double t0 = time_mono();
    int port = 50000 + (int)(getpid() % 10000), rc;

    memset(r, 0, sizeof(*r));
    memset(&u, 0, sizeof(u));
    pg_base_rmtree(tmp);
    rc = pg_base_list_load(cfg->backup_dir, &l, e);
    if (rc < 0)
        goto cleanup;
    b = pick(&l, &counts);
    if (b == NULL) {
        rc = err_set(e, ERR_BACKUP,
                     "no base backup in '%s' recorded its row counts: take one with 'citaplanner "
                     "backup base'",
                     cfg->backup_dir);
        goto cleanup;
    }
    snprintf(r->base, sizeof(r->base), "%s", b->name);
    snprintf(r->lsn, sizeof(r->lsn), "%s", b->check_lsn);
    if ((rc = pgtool_find("postgres", b->server_major, &pg, e)) < 0)
        goto cleanup;
    if (mkdir(tmp, 0700) != 0) {
        rc = err_set(e, ERR_BACKUP, "cannot create '%s': %s", tmp, strerror(errno));
        goto cleanup;
    }
    struct pg_pitr_opts po = {.cfg = cfg,
                              .kind = PG_TARGET_LSN,
                              .value = b->check_lsn,
                              .pgdata = data,
                              .self = self,
                              .exclusive = true,
                              .base = b->name};
    struct pg_pitr_result pr;
    if ((rc = pg_pitr_restore(&po, &pr, e)) < 0 ||
        (rc = file_write_atomic(hba, "local all all trust\n", 20, 0600, ERR_BACKUP, e)) < 0)
        goto cleanup;
    char *bindir = path_dir(pg.path);
    ctl = xasprintf("%s/pg_ctl", bindir);
    free(bindir);
    opts = xasprintf("-c port=%d -c listen_addresses='' -c unix_socket_directories='%s' "
                     "-c hba_file='%s' -c archive_mode=off -c hot_standby=off",
                     port, tmp, hba);
    {
        char *argv[] = {ctl, "-D", data, "-l", log_path, "-o", opts, "-W", "start", NULL};
        rc = pg_tool_run(ctl, argv, NULL, START_TIMEOUT_S, e);
    }
    if (rc < 0)
        goto cleanup;
    started = true;
    buf_adds(&text, "postgresql://");
    add_encoded(&text, cfg->db.user != NULL ? cfg->db.user : "postgres");
    buf_adds(&text, "@");
    add_encoded(&text, tmp);
    buf_addf(&text, ":%d/", port);
    add_encoded(&text, cfg->db.dbname != NULL ? cfg->db.dbname : "postgres");
    if ((rc = url_parse(buf_str(&text), &u, e)) < 0 || (rc = wait_open(&u, log_path, e)) < 0)
        goto cleanup;
    rc = compare(&u, counts, &r->tables, e);
    r->seconds = time_mono() - t0;

cleanup:
    if (started) {
        char *argv[] = {ctl, "-D", data, "-m", "fast", "-w", "stop", NULL};
        struct err se;
        if (pg_tool_run(ctl, argv, NULL, START_TIMEOUT_S, &se) < 0)
            log_warn("check: %s", se.msg);
    }
    if (rc == 0 || !started)
        pg_base_rmtree(tmp);
    else
        log_warn("check: the restored directory is kept for inspection: '%s'", tmp);
    url_release(&u);
    buf_release(&text);
    pgtool_free(&pg);
    json_decref(counts);
    pg_base_list_release(&l);
    free(tmp);
    free(data);
    free(hba);
    free(log_path);
    free(ctl);
    free(opts);
    return rc;
}
