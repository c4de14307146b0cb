/*
 * import — the run of `citaplanner import`: the source (a live database or
 * a backup loaded into a scratch database), the target's checks, one
 * transaction per tenant, the master admin, and what has no place here.
 * See import.h; the table-by-table mapping is map.c.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/psql.h"
#include "backup/verify.h"
#include "backup/foreign.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/password.h"
#include "common/util.h"
#include "import/import.h"
#include "migrate/migrate.h"

#define TS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SS') || '+00'"

/* The original's tables we read, ours they go to, and the source columns that have a place. */
static const struct {
    const char *source, *target, *placed;
} tables[IMP_TABLE_COUNT] = {
    {"tenants", "tenants",
     "id name email phone address city country timezone currency createdAt updatedAt"},
    {"branches", "branches", "id name email phone address isActive tenantId createdAt updatedAt"},
    {"users", "users",
     "id email password firstName lastName phone role isActive tenantId branchId createdAt "
     "updatedAt"},
    {"services", "services",
     "id name description duration price color isActive tenantId createdAt updatedAt"},
    {"service_users", "service_professionals", "id serviceId userId commission createdAt"},
    {"clients", "clients",
     "id firstName lastName email phone notes isActive tenantId createdAt updatedAt"},
    {"working_hours", "working_hours",
     "id dayOfWeek startTime endTime isActive branchId userId createdAt updatedAt"},
    {"appointments", "appointments",
     "id startTime endTime status notes tenantId branchId clientId serviceId userId createdAt "
     "updatedAt"},
    {"payments", "payments",
     "id amount paymentMethod status notes tenantId appointmentId userId createdAt updatedAt"},
    {"master_admin_config", "master_admin_config", "id password_hash created_at updated_at"},
};

void import_report_release(struct import_report *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < IMP_TABLE_COUNT; i++) {
        for (int j = 0; j < r->t[i].nnotes; j++) {
            free(r->t[i].notes[j].source_id);
            free(r->t[i].notes[j].reason);
        }
        free(r->t[i].notes);
        free(r->t[i].unplaced);
    }
    free(r->unplaced_tables);
    free(r->source);
    memset(r, 0, sizeof(*r));
}

static bool word_in(const char *list, const char *w)
{
    size_t n = strlen(w);

    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* Source columns and tables that have no place in ours. */
static int find_unplaced(struct import_ctx *c, struct err *e)
{
    struct db_res *res = NULL;
    struct buf b = BUF_INIT;
    int rc;

    for (int i = 0; i < IMP_TABLE_COUNT; i++) {
        buf_reset(&b);
        rc = db_query(c->src,
                      "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                      "current_schema() AND table_name = $1 ORDER BY ordinal_position",
                      DB_PARAMS(DB_TEXT(tables[i].source)), &res, e);
        if (rc < 0)
            goto cleanup;
        while (db_res_next(res) == 1) {
            const char *col = db_res_text(res, 0);
            if (!word_in(tables[i].placed, col))
                buf_addf(&b, "%s%s", b.len ? ", " : "", col);
        }
        db_res_free(res);
        res = NULL;
        c->r->t[i].unplaced = b.len ? xstrdup(buf_str(&b)) : NULL;
    }
    buf_reset(&b);
    {
        char **names = NULL;
        int n = 0;
        rc = db_list_tables(c->src, &names, &n, e);
        for (int i = 0; rc == 0 && i < n; i++) {
            bool mapped = strcmp(names[i], "_prisma_migrations") == 0;
            int64_t rows = 0;
            for (int t = 0; t < IMP_TABLE_COUNT && !mapped; t++)
                mapped = strcmp(names[i], tables[t].source) == 0;
            if (mapped)
                continue;
            rc = db_count_rows(c->src, names[i], &rows, e);
            buf_addf(&b, "%s%s (%lld rows)", b.len ? ", " : "", names[i], (long long)rows);
        }
        db_strv_free(names, n);
        if (rc < 0)
            goto cleanup;
    }
    c->r->unplaced_tables = b.len ? xstrdup(buf_str(&b)) : NULL;
    rc = 0;

cleanup:
    db_res_free(res);
    buf_release(&b);
    return rc;
}

/* The target: ours, migrated, holding nothing an import did not bring. */
static int target_ready(struct import_ctx *c, struct err *e)
{
    int64_t tenants = 0, mapped = 0;
    int rc = migrate_deploy(c->dst, NULL, e);

    if (rc < 0)
        return err_prefix(e, "the target database cannot be migrated");
    if ((rc = db_query_int(c->dst, "SELECT count(*) FROM tenants", DB_NOPARAMS, &tenants, e)) < 0 ||
        (rc = db_query_int(c->dst, "SELECT count(*) FROM import_map WHERE source_table = 'tenants'",
                           DB_NOPARAMS, &mapped, e)) < 0)
        return rc;
    if (tenants > mapped)
        return err_set(e, ERR_USAGE,
                       "the target database '%s' already holds %lld tenant%s that no import "
                       "brought: import into an empty database (nothing was changed)",
                       url_redacted(db_url(c->dst)), (long long)(tenants - mapped),
                       tenants - mapped == 1 ? "" : "s");
    return 0;
}

static int import_tenant(struct import_ctx *c, struct db_res *res, struct err *e)
{
    struct import_table_report *t = &c->r->t[IMP_TENANTS];
    const char *sid = db_res_text(res, 0);
    const char *email = db_res_text(res, 2);
    char *fallback = NULL;
    int64_t id = 0;
    int rc;

    t->read++;
    rc = db_begin(c->dst, e);
    if (rc < 0)
        return rc;
    rc = import_map_get(c, "tenants", sid, &id, e);
    if (rc == 0 && id > 0) {
        t->already++;
    } else if (rc == 0) {
        if (email == NULL || email[0] == '\0') {
            fallback = xasprintf("tenant-%s@import.invalid", sid);
            import_note_add(t, sid, false, "no email (ours requires one): '%s' given", fallback);
            email = fallback;
        }
        rc = db_query_int(c->dst,
                          "INSERT INTO tenants (name, email, phone, address, city, country, "
                          "timezone, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                          "$8, $9) RETURNING id",
                          DB_PARAMS(DB_TEXT(db_res_text(res, 1)), DB_TEXT(email),
                                    DB_TEXT(db_res_text(res, 3)), DB_TEXT(db_res_text(res, 4)),
                                    DB_TEXT(db_res_text(res, 5)), DB_TEXT(db_res_text(res, 6)),
                                    DB_TEXT(db_res_text(res, 7)), DB_TEXT(db_res_text(res, 8)),
                                    DB_TEXT(db_res_text(res, 9))),
                          &id, e);
        if (rc == 0)
            rc = import_map_put(c, "tenants", sid, id, e);
        if (rc == 0)
            t->imported++;
    }
    if (rc == 0)
        rc = import_tenant_rows(c, sid, id, e);
    if (rc == 0)
        rc = db_commit(c->dst, e);
    if (rc < 0) {
        db_rollback(c->dst);
        err_prefix(e, "tenant '%s' rolled back, the target is as it was before it", sid);
    } else {
        c->r->tenants_committed++;
        log_info("import: tenant '%s' -> %lld committed", sid, (long long)id);
    }
    free(fallback);
    return rc;
}

static int import_master(struct import_ctx *c, struct err *e)
{
    struct import_table_report *t = &c->r->t[IMP_MASTER_ADMIN];
    char *hash = NULL, *ours = NULL;
    int64_t have = 0;
    int rc;

    rc = db_query_text(c->src,
                       "SELECT password_hash FROM master_admin_config WHERE id = "
                       "'singleton'",
                       DB_NOPARAMS, &hash, e);
    if (rc < 0 || hash == NULL)
        goto cleanup;
    t->read++;
    if ((rc = import_map_get(c, t->source, "singleton", &have, e)) < 0)
        goto cleanup;
    if (have > 0) {
        t->already++;
        goto cleanup;
    }
    rc = db_query_text(c->dst,
                       "SELECT password_hash FROM master_admin_config WHERE id = "
                       "'singleton'",
                       DB_NOPARAMS, &ours, e);
    if (rc < 0)
        goto cleanup;
    if (ours != NULL) {
        import_note_add(t, "singleton", true,
                        "the target already has a master admin password; it is kept");
        rc = 0;
        goto cleanup;
    }
    if (!password_hash_valid(hash)) {
        import_note_add(t, "singleton", true, "not a bcrypt hash");
        rc = 0;
        goto cleanup;
    }
    if ((rc = db_begin(c->dst, e)) < 0)
        goto cleanup;
    rc = db_exec_params(c->dst,
                        "INSERT INTO master_admin_config (id, password_hash) VALUES "
                        "('singleton', $1)",
                        DB_PARAMS(DB_TEXT(hash)), NULL, e);
    if (rc == 0)
        rc = import_map_put(c, t->source, "singleton", 1, e);
    if (rc == 0)
        rc = db_commit(c->dst, e);
    if (rc < 0)
        db_rollback(c->dst);
    else
        t->imported++;

cleanup:
    if (hash != NULL)
        secure_zero(hash, strlen(hash));
    if (ours != NULL)
        secure_zero(ours, strlen(ours));
    free(hash);
    free(ours);
    return rc < 0 ? rc : 0;
}

/* --from-backup: verify it, check it is the original's, load it into a scratch database. */
static int scratch_load(const struct import_opts *o, struct url *su, struct db **admin, char *name,
                        size_t nname, bool *created, struct err *e)
{
    struct backup_verify_opts vo;
    struct backup_verify_result vr;
    struct backup_schema_scan sc;
    unsigned char rnd[6];
    char hex[2 * sizeof(rnd) + 1];
    int rc;

    memset(&vo, 0, sizeof(vo));
    backup_schema_scan_init(&sc);
    vo.content_sink = backup_schema_sink;
    vo.content_arg = &sc;
    vo.identity = o->identity;
    rc = backup_verify_file(&vo, o->from_backup, &vr, e);
    backup_verify_result_release(&vr);
    if (rc < 0) {
        err_prefix(e, "cannot import '%s'", o->from_backup);
        goto cleanup;
    }
    if (backup_schema_scan_result(&sc) != BACKUP_SCHEMA_PRISMA) {
        rc = err_set(e, ERR_USAGE,
                     "'%s' does not hold the original CitaPlanner's schema (it holds: %s): "
                     "restore it with 'citaplanner backup restore' instead",
                     o->from_backup, backup_schema_name(backup_schema_scan_result(&sc)));
        goto cleanup;
    }
    if (o->scratch == NULL || o->scratch->kind != URL_POSTGRES) {
        rc = err_set(e, ERR_USAGE,
                     "--from-backup needs a PostgreSQL server for its scratch database: "
                     "DATABASE_URL names one, or give --scratch-server");
        goto cleanup;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        rc = err_set(e, ERR_INTERNAL, "cannot draw random bytes");
        goto cleanup;
    }
    hex_encode(rnd, sizeof(rnd), hex);
    snprintf(name, nname, "citaplanner_import_%lld_%s", (long long)time(NULL), hex);
    rc = db_open(o->scratch, DB_CONNECT_TIMEOUT_S, admin, e);
    if (rc < 0)
        goto cleanup;
    {
        char *q = db_quote_ident(name);
        char *sql = xasprintf("CREATE DATABASE %s TEMPLATE template0", q);
        rc = db_exec(*admin, sql, e);
        free(sql);
        free(q);
    }
    if (rc < 0)
        goto cleanup;
    *created = true;
    url_copy(su, o->scratch);
    free(su->dbname);
    su->dbname = xstrdup(name);
    rc = backup_load_dump(su, o->from_backup, o->tmp_dir, e);
    if (rc < 0)
        err_prefix(e, "cannot load '%s' into the scratch database", o->from_backup);
    else
        log_info("import: '%s' loaded into the scratch database '%s'", o->from_backup, name);

cleanup:
    backup_schema_scan_release(&sc);
    return rc;
}

int import_run(struct db *target, const struct import_opts *o, struct import_report *r,
               struct err *e)
{
    struct import_ctx c;
    struct db *admin = NULL;
    struct db_res *res = NULL;
    struct url su;
    char scratch[80] = "";
    bool created = false, original = false;
    int rc;

    memset(r, 0, sizeof(*r));
    memset(&c, 0, sizeof(c));
    memset(&su, 0, sizeof(su));
    for (int i = 0; i < IMP_TABLE_COUNT; i++) {
        r->t[i].source = tables[i].source;
        r->t[i].target = tables[i].target;
    }
    c.dst = target;
    c.r = r;
    c.fail_at = o->fail_at;
    r->source = xstrdup(o->from_backup != NULL ? o->from_backup : url_redacted(o->from));
    if (o->from_backup != NULL) {
        rc = scratch_load(o, &su, &admin, scratch, sizeof(scratch), &created, e);
        if (rc < 0)
            goto cleanup;
        rc = db_open(&su, DB_CONNECT_TIMEOUT_S, &c.src, e);
    } else {
        rc = db_open(o->from, DB_CONNECT_TIMEOUT_S, &c.src, e);
    }
    if (rc < 0)
        goto cleanup;
    rc = migrate_original_schema(c.src, &original, e);
    if (rc < 0)
        goto cleanup;
    if (!original) {
        rc = err_set(e, ERR_USAGE,
                     "'%s' is not the original CitaPlanner's database (no _prisma_migrations, "
                     "no camelCase columns): nothing to import",
                     r->source);
        goto cleanup;
    }
    /* One snapshot of the source, read only: it is never written. */
    rc = db_exec(c.src, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e);
    if (rc < 0)
        goto cleanup;
    rc = target_ready(&c, e);
    if (rc < 0)
        goto cleanup;
    rc = find_unplaced(&c, e);
    if (rc < 0)
        goto cleanup;
    rc = db_query(c.src,
                  "SELECT id, name, email, phone, address, city, country, timezone, currency, " TS(
                      "\"createdAt\"") " FROM tenants ORDER BY \"createdAt\", id",
                  DB_NOPARAMS, &res, e);
    if (rc < 0)
        goto cleanup;
    while ((rc = db_res_next(res)) == 1) {
        rc = import_tenant(&c, res, e);
        if (rc < 0)
            goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    rc = import_master(&c, e);

cleanup:
    db_res_free(res);
    if (c.src != NULL) {
        struct err ie;
        err_clear(&ie);
        db_exec(c.src, "ROLLBACK", &ie);
    }
    db_close(c.src);
    if (created) {
        char *q = db_quote_ident(scratch);
        char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", q);
        struct err de;
        err_clear(&de);
        if (db_exec(admin, sql, &de) < 0)
            log_error("cannot drop the scratch database '%s': %s", scratch, de.msg);
        free(sql);
        free(q);
    }
    db_close(admin);
    url_release(&su);
    return rc < 0 ? rc : 0;
}
