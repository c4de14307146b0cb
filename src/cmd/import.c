/*
 * cmd/import.c — `citaplanner import --from URL | --from-backup FILE`: the
 * original CitaPlanner's data into the (empty) database DATABASE_URL names.
 * The work is import_run() (import.h); this prints the report.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "common/util.h"
#include "import/import.h"

static const char import_usage[] =
    "Usage: citaplanner import --from postgresql://USER@HOST:PORT/DB [--json]\n"
    "       citaplanner import --from-backup FILE.sql.gz [--scratch-server URL] [--json]\n"
    "\n"
    "Copies the original CitaPlanner's data (Next.js + Prisma on PostgreSQL) into\n"
    "the database DATABASE_URL names (SQLite or PostgreSQL), which must be empty or\n"
    "hold only what an earlier import brought: it is migrated first.  The source is\n"
    "read in one read-only snapshot and never written.  --from-backup loads one of\n"
    "its backups (pg_dump | gzip) into a scratch database on DATABASE_URL's server\n"
    "(or --scratch-server's, when DATABASE_URL is SQLite), dropped afterwards.\n"
    "\n"
    "Each tenant is one transaction.  Every row imported is recorded in import_map\n"
    "(old id -> new id): running it again changes nothing, and a run that failed\n"
    "resumes where it stopped.  The report gives, per table, the rows read,\n"
    "imported, already imported, changed and refused (with the reason), and the\n"
    "source columns and tables that have no place in this program.\n"
    "\n"
    "Leave the password out of --from's URL (it would show in the process list):\n"
    "libpq reads it from PGPASSWORD or ~/.pgpass.\n"
    "\n"
    "Exit status: 0 done, 2 usage (or the target holds other data), 3 a database\n"
    "unreachable, 4 the target cannot be migrated, 6 a damaged backup.\n";

static json_t *report_json(const struct import_report *r, bool ok, const struct err *e)
{
    json_t *root = json_object();
    json_t *tabs = json_array();

    json_object_set_new(root, "ok", json_boolean(ok));
    json_object_set_new(root, "source", json_string(r->source ? r->source : ""));
    json_object_set_new(root, "tenants_committed", json_integer(r->tenants_committed));
    for (int i = 0; i < IMP_TABLE_COUNT; i++) {
        const struct import_table_report *t = &r->t[i];
        json_t *notes = json_array();
        for (int j = 0; j < t->nnotes; j++)
            json_array_append_new(notes,
                                  json_pack("{s:s, s:s, s:s}", "id", t->notes[j].source_id,
                                            "outcome", t->notes[j].refused ? "refused" : "changed",
                                            "reason", t->notes[j].reason));
        json_array_append_new(
            tabs, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:s?}", "source", t->source,
                            "target", t->target, "read", (json_int_t)t->read, "imported",
                            (json_int_t)t->imported, "already", (json_int_t)t->already, "changed",
                            (json_int_t)t->changed, "refused", (json_int_t)t->refused, "notes",
                            notes, "unplaced_columns", t->unplaced));
    }
    json_object_set_new(root, "tables", tabs);
    json_object_set_new(root, "unplaced_tables",
                        r->unplaced_tables ? json_string(r->unplaced_tables) : json_null());
    if (!ok)
        json_object_set_new(root, "error",
                            json_pack("{s:s, s:s}", "code", err_name(e->code), "message", e->msg));
    return root;
}

static void report_text(const struct import_report *r)
{
    printf("%-22s %6s %8s %8s %8s %8s\n", "TABLE (original -> ours)", "READ", "IMPORTED", "ALREADY",
           "CHANGED", "REFUSED");
    for (int i = 0; i < IMP_TABLE_COUNT; i++) {
        const struct import_table_report *t = &r->t[i];
        printf("%-22s %6lld %8lld %8lld %8lld %8lld\n", t->source, (long long)t->read,
               (long long)t->imported, (long long)t->already, (long long)t->changed,
               (long long)t->refused);
    }
    for (int i = 0; i < IMP_TABLE_COUNT; i++)
        for (int j = 0; j < r->t[i].nnotes; j++)
            printf("%s %s '%s': %s\n", r->t[i].notes[j].refused ? "REFUSED" : "CHANGED",
                   r->t[i].source, r->t[i].notes[j].source_id, r->t[i].notes[j].reason);
    for (int i = 0; i < IMP_TABLE_COUNT; i++)
        if (r->t[i].unplaced != NULL)
            printf("no place here for %s: %s\n", r->t[i].source, r->t[i].unplaced);
    if (r->unplaced_tables != NULL)
        printf("tables not imported: %s\n", r->unplaced_tables);
}

static int run_import(struct cmd_ctx *ctx)
{
    const char *from = cmd_flag(ctx, "from");
    const char *backup = cmd_flag(ctx, "from-backup");
    const char *scratch = cmd_flag(ctx, "scratch-server");
    struct url fu, su;
    struct import_opts o;
    struct import_report r;
    struct db *db = NULL;
    struct err e;
    int rc;

    memset(&fu, 0, sizeof(fu));
    memset(&su, 0, sizeof(su));
    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    err_clear(&e);
    log_set_context("import");
    if ((from == NULL) == (backup == NULL) || ctx->args.npos > 0)
        return cmd_usage_error(ctx, "give exactly one of --from URL and --from-backup FILE");
    if (from != NULL) {
        if (url_parse(from, &fu, &e) < 0 || fu.kind != URL_POSTGRES) {
            url_release(&fu);
            return cmd_usage_error(ctx, "--from must be the original's postgresql:// URL");
        }
        o.from = &fu;
    }
    if (scratch != NULL && url_parse(scratch, &su, &e) < 0) {
        url_release(&fu);
        url_release(&su);
        return cmd_usage_error(ctx, "--scratch-server: %s", e.msg);
    }
    o.from_backup = backup;
    o.scratch = scratch != NULL ? &su : &ctx->cfg.db;
    o.identity = ctx->cfg.backup_decrypt_identity;
    o.tmp_dir = ctx->cfg.tmp_dir;
    o.fail_at = ctx->cfg.import_fail_at;
    rc = cmd_open_db(ctx, &db);
    if (rc != 0)
        goto cleanup;
    log_info("import: from '%s' into '%s'", backup != NULL ? backup : url_redacted(&fu),
             url_redacted(&ctx->cfg.db));
    rc = import_run(db, &o, &r, &e);
    if (ctx->json) {
        json_t *root = report_json(&r, rc == 0, &e);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    } else {
        report_text(&r);
    }
    if (rc < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (!ctx->json)
        printf("imported %d tenant%s from '%s' into '%s'\n", r.tenants_committed,
               r.tenants_committed == 1 ? "" : "s", r.source, url_redacted(&ctx->cfg.db));
    rc = 0;

cleanup:
    import_report_release(&r);
    if (db != NULL)
        db_close(db);
    url_release(&fu);
    url_release(&su);
    return rc;
}

static const struct cmd_flag import_flags[] = {
    {"from", true, "the original's database: postgresql://USER@HOST:PORT/DB"},
    {"from-backup", true, "one of the original's backups (.sql.gz)"},
    {"scratch-server", true,
     "--from-backup into SQLite: a PostgreSQL server for the scratch "
     "database"},
    {NULL, false, NULL},
};

const struct cmd cmd_import = {
    .name = "import",
    .run = run_import,
    .summary = "copy the original CitaPlanner's data (Prisma) into an empty database",
    .usage = import_usage,
    .flags = import_flags,
    .needs_db = true,
};
