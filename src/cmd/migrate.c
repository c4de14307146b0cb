/* cmd/migrate.c — `citaplanner migrate deploy|status|resolve|reset`: flags in,
 * the migrate library does the work, results out (text or --json). */
#include "cmd/cmd.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "migrate/migrate.h"

static const struct cmd_flag migrate_flags[] = {
    {"applied", true, "resolve: record migration NAME as applied, without running it"},
    {"rolled-back", true, "resolve: record failed migration NAME as rolled back"},
    {"force", false, "reset: really delete all data"},
    {NULL, false, NULL},
};

static const char migrate_usage[] =
    "Usage: citaplanner migrate deploy [--json]\n"
    "       citaplanner migrate status [--json]\n"
    "       citaplanner migrate resolve (--applied NAME | --rolled-back NAME) [--json]\n"
    "       citaplanner migrate reset --force [--json]\n"
    "\n"
    "  deploy   Apply the pending migrations in name order, each in one transaction,\n"
    "           under a lock (instances starting together migrate once).  Refuses\n"
    "           (exit 4) while a migration is failed, modified after it was applied,\n"
    "           or unknown to this program (a newer version applied it).  Prints one\n"
    "           line per applied migration, or 'database is up to date'.  A failing\n"
    "           migration is rolled back, recorded as failed, and named (exit 4).\n"
    "  status   One line per migration: applied, pending, failed, modified,\n"
    "           rolled_back (will run again) or unknown.  Exit 0 only when the\n"
    "           database is up to date, 4 otherwise.\n"
    "  resolve  --applied NAME: record a pending or failed migration as applied\n"
    "           without running it (its changes were made by hand), or accept the\n"
    "           new checksum of a modified one.\n"
    "           --rolled-back NAME: record a failed migration as rolled back, once\n"
    "           it is fixed, so that the next deploy runs it again.\n"
    "           Exit 2 when this program has no migration NAME, 4 when its state\n"
    "           does not allow it (already applied, not failed).\n"
    "  reset    DELETES ALL DATA: drop every table, then apply every migration.\n"
    "           Refuses without --force (exit 2).\n"
    "\n"
    "--json prints one object on stdout:\n"
    "  status         {\"migrations\":[{\"name\":\"0001_init\",\"state\":\"applied\",\n"
    "                  \"finished_at\":\"2025-01-09T02:00:00Z\"}],\"up_to_date\":true}\n"
    "                 (finished_at is null unless applied or modified)\n"
    "  deploy, reset  {\"applied\":[\"0001_init\"],\"up_to_date\":true}\n"
    "  resolve        {\"name\":\"0002_add_x\",\"state\":\"applied\"}\n"
    "\n"
    "Environment, for development and tests only:\n"
    "  CITAPLANNER_MIGRATIONS_DIR=DIR  read the migrations from DIR/pg/ or DIR/sqlite/\n"
    "                  (files NNNN_name.sql, in name order) instead of the ones built\n"
    "                  into the program.\n";

/* "2025-01-09 02:00:00+00" -> "2025-01-09T02:00:00Z" (RFC 3339); caller frees. */
static char *rfc3339(const char *ts)
{
    if (ts == NULL)
        return NULL;
    if (strlen(ts) == 22 && ts[10] == ' ' && str_ends_with(ts, "+00"))
        return xasprintf("%.10sT%.8sZ", ts, ts + 11);
    return xstrdup(ts);
}

static int print_json(json_t *obj)
{
    int rc = json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(obj);
    return rc == 0 ? 0 : 1;
}

static int run_status(struct cmd_ctx *ctx, struct db *db)
{
    struct migrate_report r = {0};
    struct err e;
    int rc;

    err_clear(&e);
    if (migrate_status(db, &r, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    bool current = r.pending == 0 && r.failed == 0 && r.modified == 0 && r.unknown == 0;
    if (ctx->json) {
        json_t *list = json_array();
        for (int i = 0; i < r.count; i++) {
            char *fin = rfc3339(r.items[i].finished_at);
            json_array_append_new(list, json_pack("{s:s, s:s, s:s?}", "name", r.items[i].name,
                                                  "state", migrate_state_name(r.items[i].state),
                                                  "finished_at", fin));
            free(fin);
        }
        rc = print_json(json_pack("{s:o, s:b}", "migrations", list, "up_to_date", current));
        if (rc != 0)
            goto cleanup;
    } else {
        int width = 0;
        for (int i = 0; i < r.count; i++)
            if ((int)strlen(r.items[i].name) > width)
                width = (int)strlen(r.items[i].name);
        for (int i = 0; i < r.count; i++) {
            const struct migration_info *it = &r.items[i];
            if (it->finished_at != NULL)
                printf("%-*s  %-11s  %s\n", width, it->name, migrate_state_name(it->state),
                       it->finished_at);
            else
                printf("%-*s  %s\n", width, it->name, migrate_state_name(it->state));
        }
        if (r.count == 0)
            printf("no migrations\n");
        if (current)
            printf("database is up to date\n");
        else
            printf("database is not up to date: %d pending, %d failed, %d modified, "
                   "%d unknown\n",
                   r.pending, r.failed, r.modified, r.unknown);
    }
    rc = current ? 0 : err_exit_status(ERR_MIGRATE);

cleanup:
    migrate_report_release(&r);
    return rc;
}

/* Called per applied migration: a line at once (text), or collect (json). */
static void on_applied(const char *name, double seconds, void *arg)
{
    json_t *list = arg;
    if (list != NULL) {
        json_array_append_new(list, json_string(name));
        return;
    }
    printf("applied %s (%.3f s)\n", name, seconds);
    fflush(stdout);
}

static int run_deploy(struct cmd_ctx *ctx, struct db *db, bool reset)
{
    json_t *list = ctx->json ? json_array() : NULL;
    struct err e;
    int applied = 0;
    int rc;

    err_clear(&e);
    if (reset)
        rc = migrate_reset(db, on_applied, list, &applied, &e);
    else
        rc = migrate_deploy_each(db, on_applied, list, &applied, &e);
    if (rc < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (list != NULL) {
        rc = print_json(json_pack("{s:O, s:b}", "applied", list, "up_to_date", 1));
    } else {
        if (applied > 0)
            printf("%d migration%s applied; ", applied, applied == 1 ? "" : "s");
        printf("database is up to date\n");
        rc = 0;
    }

cleanup:
    json_decref(list);
    return rc;
}

static int run_resolve(struct cmd_ctx *ctx, struct db *db, const char *name,
                       enum migration_state to)
{
    struct err e;

    err_clear(&e);
    if (migrate_resolve(db, name, to, &e) < 0)
        return cmd_fail(&e);
    if (ctx->json)
        return print_json(json_pack("{s:s, s:s}", "name", name, "state", migrate_state_name(to)));
    printf("migration %s marked %s\n", name, to == MIGRATION_APPLIED ? "applied" : "rolled back");
    return 0;
}

static int run_migrate(struct cmd_ctx *ctx)
{
    const char *applied = cmd_flag(ctx, "applied");
    const char *rolled_back = cmd_flag(ctx, "rolled-back");
    bool force = cmd_has_flag(ctx, "force");
    struct db *db = NULL;
    const char *sub;
    int rc;

    if (ctx->args.npos == 0)
        return cmd_usage_error(ctx, "'migrate' needs a subcommand: deploy, status, resolve or "
                                    "reset");
    sub = ctx->args.pos[0];
    if (ctx->args.npos > 1)
        return cmd_usage_error(ctx, "unexpected argument '%s'", ctx->args.pos[1]);
    if (!str_eq(sub, "deploy") && !str_eq(sub, "status") && !str_eq(sub, "resolve") &&
        !str_eq(sub, "reset"))
        return cmd_usage_error(ctx, "unknown subcommand 'migrate %s'", sub);
    if ((applied != NULL || rolled_back != NULL) && !str_eq(sub, "resolve"))
        return cmd_usage_error(ctx, "--applied and --rolled-back go with 'migrate resolve'");
    if (force && !str_eq(sub, "reset"))
        return cmd_usage_error(ctx, "--force goes with 'migrate reset'");
    if (str_eq(sub, "resolve")) {
        if ((applied == NULL) == (rolled_back == NULL))
            return cmd_usage_error(ctx, "'migrate resolve' needs exactly one of --applied NAME "
                                        "or --rolled-back NAME");
        if ((applied != NULL && applied[0] == '\0') ||
            (rolled_back != NULL && rolled_back[0] == '\0'))
            return cmd_usage_error(ctx, "'migrate resolve' needs a migration name");
    }
    if (str_eq(sub, "reset") && !force) {
        fprintf(stderr,
                "citaplanner: 'migrate reset' deletes ALL DATA in '%s' (every table is "
                "dropped, then the migrations are applied again); nothing was changed.\n"
                "Add --force to do it.\n",
                url_redacted(&ctx->cfg.db));
        return 2;
    }

    rc = cmd_open_db(ctx, &db);
    if (rc != 0)
        return rc;
    if (str_eq(sub, "status"))
        rc = run_status(ctx, db);
    else if (str_eq(sub, "deploy"))
        rc = run_deploy(ctx, db, false);
    else if (str_eq(sub, "reset"))
        rc = run_deploy(ctx, db, true);
    else if (applied != NULL)
        rc = run_resolve(ctx, db, applied, MIGRATION_APPLIED);
    else
        rc = run_resolve(ctx, db, rolled_back, MIGRATION_ROLLED_BACK);
    db_close(db);
    return rc;
}

const struct cmd cmd_migrate = {
    .name = "migrate",
    .run = run_migrate,
    .summary = "apply, inspect or resolve the schema migrations",
    .usage = migrate_usage,
    .flags = migrate_flags,
    .needs_db = true,
};
