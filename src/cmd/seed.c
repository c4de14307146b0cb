/*
 * cmd/seed.c — `citaplanner seed [--json]`: create the demo data that is
 * missing (SPEC §5) and say, entity by entity, what was created and what
 * was already present.
 */
#include "cmd/cmd.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "migrate/migrate.h"
#include "seed/seed.h"

static const char seed_usage[] =
    "Usage: citaplanner seed [--json]\n"
    "\n"
    "Creates the demo tenant \"Bella Vita Spa & Wellness\" and what belongs to it\n"
    "(branch, five users, six services and who offers them, six clients, working\n"
    "hours, six appointments and three payments), only what is missing: each\n"
    "entity is matched by its natural key and an existing row is never changed,\n"
    "so running it again is safe.  The demo appointments are made once per\n"
    "tenant; deleting them does not bring them back.  Migrations must be\n"
    "current (exit 4 otherwise: run 'citaplanner migrate deploy').\n"
    "\n"
    "Prints one line per entity: ENTITY 'KEY': created | already present.\n"
    "With --json: {\"entities\":[{\"entity\":..,\"key\":..,\"result\":\"created\"|\"present\"}],\n"
    "\"created\":N,\"present\":N}.\n"
    "\n"
    "The demo accounts have published passwords (admin@citaplanner.com / admin123,\n"
    "manager@citaplanner.com / manager123, pro1@, pro2@ and recepcionista@\n"
    "citaplanner.com / prof123): change them before real use.\n";

static int print_json(const struct seed_report *r)
{
    json_t *root = json_object();
    json_t *list = json_array();
    char *text = NULL;
    int rc = 0;

    for (int i = 0; i < r->count; i++) {
        const struct seed_item *it = &r->items[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "entity", it->entity, "key",
                                              it->key, "result",
                                              it->result == SEED_CREATED ? "created" : "present"));
    }
    json_object_set_new(root, "entities", list);
    json_object_set_new(root, "created", json_integer(r->created));
    json_object_set_new(root, "present", json_integer(r->present));
    text = json_dumps(root, JSON_COMPACT);
    if (text == NULL) {
        fprintf(stderr, "citaplanner: error: cannot encode the report as JSON\n");
        rc = 1;
        goto cleanup;
    }
    puts(text);

cleanup:
    free(text);
    json_decref(root);
    return rc;
}

static int run_seed(struct cmd_ctx *ctx)
{
    struct db *db = NULL;
    struct seed_report r = {0};
    struct err e;
    int users_created = 0;
    int rc;

    err_clear(&e);
    if (ctx->args.npos > 0) {
        rc = cmd_usage_error(ctx, "'seed' takes no arguments ('%s' given)", ctx->args.pos[0]);
        goto cleanup;
    }
    rc = cmd_open_db(ctx, &db);
    if (rc != 0)
        goto cleanup;
    rc = migrate_is_current(db, &e);
    if (rc < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (rc == 0) {
        err_set(&e, ERR_MIGRATE,
                "the database schema is not up to date: run 'citaplanner migrate deploy' first");
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (seed_run(db, (int64_t)time(NULL), &r, &e) < 0) {
        rc = cmd_fail(&e);
        goto cleanup;
    }
    if (ctx->json) {
        rc = print_json(&r);
    } else {
        for (int i = 0; i < r.count; i++)
            puts(r.items[i].line);
        rc = 0;
    }
    for (int i = 0; i < r.count; i++)
        if (r.items[i].result == SEED_CREATED && str_eq(r.items[i].entity, "user"))
            users_created++;
    log_info("seed: %d created, %d already present", r.created, r.present);
    if (users_created > 0)
        log_warn("%d demo account(s) created with published passwords: change them before "
                 "real use",
                 users_created);

cleanup:
    seed_report_release(&r);
    if (db != NULL)
        db_close(db);
    return rc;
}

static const struct cmd_flag seed_flags[] = {
    {NULL, false, NULL},
};

const struct cmd cmd_seed = {
    .name = "seed",
    .run = run_seed,
    .summary = "create the demo data that is missing (idempotent)",
    .usage = seed_usage,
    .flags = seed_flags,
    .needs_db = true,
};
