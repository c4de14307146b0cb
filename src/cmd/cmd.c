/* cmd — see cmd.h. */
#include "cmd/cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/encrypt.h"
#include "backup/files.h"
#include "backup/layout.h"
#include "backup/psql.h"
#include "backup/runtime.h"
#include "common/log.h"
#include "common/util.h"
#include "migrate/migrate.h"
#include "version.h"

extern const struct cmd cmd_serve;
extern const struct cmd cmd_migrate;
extern const struct cmd cmd_seed;
extern const struct cmd cmd_admin;
extern const struct cmd cmd_import;
extern const struct cmd cmd_archive;
extern const struct cmd cmd_wal_fetch;
extern const struct cmd cmd_backup;
extern const struct cmd cmd_stats;
extern const struct cmd cmd_doctor;
static const struct cmd cmd_version;
static const struct cmd cmd_help;

const struct cmd *const cmd_table[] = {
    &cmd_serve,  &cmd_migrate, &cmd_seed,      &cmd_backup,  &cmd_stats, &cmd_doctor, &cmd_admin,
    &cmd_import, &cmd_archive, &cmd_wal_fetch, &cmd_version, &cmd_help,  NULL,
};

/* Flags every command accepts. */
static const struct cmd_flag common_flags[] = {
    {"help", false, "show this help"},
    {"json", false, "print a JSON object on stdout instead of text"},
    {NULL, false, NULL},
};

static const char exit_status_help[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  internal error\n"
    "  2  usage or configuration error (bad flag, invalid DATABASE_URL)\n"
    "  3  database unreachable or authentication failed\n"
    "  4  migrations failed, pending, or modified after being applied\n"
    "  5  backup failed\n"
    "  6  verification failed: at least one backup is damaged\n"
    "  7  restore cancelled or refused\n"
    "  8  another backup or restore holds the lock\n"
    "  9  not enough disk space\n";

const struct cmd *cmd_find(const char *name)
{
    for (int i = 0; cmd_table[i] != NULL; i++)
        if (strcmp(cmd_table[i]->name, name) == 0)
            return cmd_table[i];
    return NULL;
}

const char *cmd_flag(const struct cmd_ctx *ctx, const char *name)
{
    for (int i = ctx->args.nflags - 1; i >= 0; i--)
        if (strcmp(ctx->args.flags[i].name, name) == 0)
            return ctx->args.flags[i].value;
    return NULL;
}

bool cmd_has_flag(const struct cmd_ctx *ctx, const char *name)
{
    return cmd_flag(ctx, name) != NULL;
}

int cmd_fail(const struct err *e)
{
    fprintf(stderr, "citaplanner: error: %s\n", e->msg[0] ? e->msg : err_desc(e->code));
    return err_exit_status(e->code);
}

int cmd_usage_error(const struct cmd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    fputs("citaplanner: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (ctx != NULL && ctx->cmd != NULL)
        fprintf(stderr, "\nsee 'citaplanner %s --help'\n", ctx->cmd->name);
    else
        fputs("\nsee 'citaplanner help'\n", stderr);
    return 2;
}

int cmd_open_db(struct cmd_ctx *ctx, struct db **out)
{
    struct err e;
    err_clear(&e);
    if (ctx->cfg.database_url_defaulted)
        log_info("DATABASE_URL is not set: using the default '%s'", url_redacted(&ctx->cfg.db));
    if (db_open(&ctx->cfg.db, DB_CONNECT_TIMEOUT_S, out, &e) < 0)
        return cmd_fail(&e);
    return 0;
}

static void print_flags(FILE *out, const struct cmd_flag *flags)
{
    for (int i = 0; flags != NULL && flags[i].name != NULL; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", flags[i].name, flags[i].has_arg ? " VALUE" : "");
        fprintf(out, "  %-26s %s\n", left, flags[i].help);
    }
}

void cmd_print_help(FILE *out, const struct cmd *c)
{
    if (c == NULL) {
        fprintf(out,
                "citaplanner %s — appointment booking for spas and salons\n\n"
                "Usage: citaplanner COMMAND [OPTIONS]\n\nCommands:\n",
                CITAPLANNER_VERSION);
        for (int i = 0; cmd_table[i] != NULL; i++)
            fprintf(out, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
        fputs("\nRun 'citaplanner help COMMAND' or 'citaplanner COMMAND --help' for details.\n\n"
              "Configuration (environment variable, or the flag, which wins):\n",
              out);
        config_print_help(out);
        fputc('\n', out);
        fputs(exit_status_help, out);
        return;
    }
    fprintf(out, "citaplanner %s — %s\n", c->name, c->summary);
    if (c->usage != NULL)
        fprintf(out, "\n%s", c->usage);
    fputs("\nOptions:\n", out);
    print_flags(out, c->flags);
    print_flags(out, common_flags);
    if (c->needs_db)
        fputs("\nUses DATABASE_URL (see 'citaplanner help' for every variable).\n", out);
    fputc('\n', out);
    fputs(exit_status_help, out);
}

static const struct cmd_flag *find_flag(const struct cmd *c, const char *name, size_t len)
{
    const struct cmd_flag *sets[2] = {c->flags, common_flags};
    for (int s = 0; s < 2; s++)
        for (int i = 0; sets[s] != NULL && sets[s][i].name != NULL; i++)
            if (strlen(sets[s][i].name) == len && strncmp(sets[s][i].name, name, len) == 0)
                return &sets[s][i];
    return NULL;
}

/*
 * Parse argv (after the command name).  "--name VALUE", "--name=VALUE",
 * "--" ends the flags.  Configuration flags (--database-url …) go to the
 * config; command flags to ctx->args.  Returns 0 or the exit status 2.
 */
/*
 * Hand the process-wide settings of cfg (options_tools.inc) to the modules
 * that use them, as the log level is: the programs run as children, where
 * temporary files go, the clock and the migrations (testing aids).  cfg
 * outlives the command.
 */
static int apply_process_settings(const struct config *cfg, struct err *e)
{
    log_set_level(cfg->log_level);
    pgtool_set_paths(cfg->pg_dump, cfg->psql);
    pgtool_set_archive_paths(cfg->pg_receivewal, cfg->pg_basebackup, cfg->pg_verifybackup);
    backup_age_set_program(cfg->age);
    backup_tmp_dir_set(cfg->tmp_dir);
    backup_runtime_set_dirs(cfg->runtime_dir, cfg->xdg_runtime_dir);
    migrate_set_dir(cfg->migrations_dir);
    return backup_clock_set(cfg->fake_now, e);
}

static int parse_args(struct cmd_ctx *ctx, int argc, char **argv)
{
    bool flags_done = false;

    ctx->args.pos = xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || strcmp(a, "-") == 0) {
            ctx->args.pos[ctx->args.npos++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0)
            a = "--help";
        if (strncmp(a, "--", 2) != 0)
            return cmd_usage_error(ctx, "unknown option '%s' for '%s'", a, ctx->cmd->name);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct cmd_flag *f = find_flag(ctx->cmd, name, len);
        const char *value = eq ? eq + 1 : NULL;
        char flagname[64];

        if (len == 0 || len >= sizeof(flagname))
            return cmd_usage_error(ctx, "unknown option '%s' for '%s'", a, ctx->cmd->name);
        memcpy(flagname, name, len);
        flagname[len] = '\0';
        if (f == NULL) {
            /* A configuration flag: always takes a value. */
            if (strcmp(flagname, "database-url") == 0)
                ctx->database_url_flag = true;
            if (value == NULL) {
                if (i + 1 >= argc && config_set_flag(&ctx->cfg, flagname, "") == 1)
                    return cmd_usage_error(ctx, "option '--%s' needs a value", flagname);
                if (i + 1 < argc && config_set_flag(&ctx->cfg, flagname, argv[i + 1]) == 1) {
                    i++;
                    continue;
                }
            } else if (config_set_flag(&ctx->cfg, flagname, value) == 1) {
                continue;
            }
            return cmd_usage_error(ctx, "unknown option '--%s' for '%s'", flagname, ctx->cmd->name);
        }
        if (f->has_arg && value == NULL) {
            if (i + 1 >= argc)
                return cmd_usage_error(ctx, "option '--%s' needs a value", f->name);
            value = argv[++i];
        } else if (!f->has_arg && value != NULL) {
            return cmd_usage_error(ctx, "option '--%s' takes no value", f->name);
        }
        if (ctx->args.nflags >= CMD_MAX_FLAGS)
            return cmd_usage_error(ctx, "too many options");
        ctx->args.flags[ctx->args.nflags].name = f->name;
        ctx->args.flags[ctx->args.nflags].value = value ? value : "";
        ctx->args.nflags++;
    }
    ctx->json = cmd_has_flag(ctx, "json");
    return 0;
}

int cmd_main(int argc, char **argv)
{
    struct cmd_ctx ctx;
    struct err e;
    int rc;

    memset(&ctx, 0, sizeof(ctx));
    err_clear(&e);
    config_init(&ctx.cfg);
    if (argc < 2) {
        cmd_print_help(stderr, NULL);
        rc = 2;
        goto cleanup;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_print_help(stdout, NULL);
        rc = 0;
        goto cleanup;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("citaplanner %s\n", CITAPLANNER_VERSION);
        rc = 0;
        goto cleanup;
    }
    ctx.cmd = cmd_find(argv[1]);
    if (ctx.cmd == NULL) {
        rc = cmd_usage_error(NULL, "unknown command '%s'", argv[1]);
        goto cleanup;
    }
    rc = parse_args(&ctx, argc - 2, argv + 2);
    if (rc != 0)
        goto cleanup;
    if (cmd_has_flag(&ctx, "help")) {
        cmd_print_help(stdout, ctx.cmd);
        rc = 0;
        goto cleanup;
    }
    ctx.tty = isatty(STDOUT_FILENO) == 1;
    if (ctx.cmd != &cmd_help && ctx.cmd != &cmd_version) {
        if (config_load(&ctx.cfg, &e) < 0 || apply_process_settings(&ctx.cfg, &e) < 0) {
            rc = cmd_fail(&e);
            goto cleanup;
        }
        if (ctx.database_url_flag && ctx.cfg.db.password != NULL)
            fprintf(stderr, "citaplanner: warning: the password given with --database-url is "
                            "visible to every user of this machine (ps, /proc); put the URL in "
                            "DATABASE_URL (environment or env file) instead\n");
    }
    rc = ctx.cmd->run(&ctx);

cleanup:
    config_release(&ctx.cfg);
    free(ctx.args.pos);
    return rc;
}

static int run_version(struct cmd_ctx *ctx)
{
    if (ctx->json)
        printf("{\"name\":\"citaplanner\",\"version\":\"%s\"}\n", CITAPLANNER_VERSION);
    else
        printf("citaplanner %s\n", CITAPLANNER_VERSION);
    return 0;
}

static const struct cmd cmd_version = {
    .name = "version",
    .run = run_version,
    .summary = "print the program's version",
};

static int run_help(struct cmd_ctx *ctx)
{
    if (ctx->args.npos == 0) {
        cmd_print_help(stdout, NULL);
        return 0;
    }
    const struct cmd *c = cmd_find(ctx->args.pos[0]);
    if (c == NULL)
        return cmd_usage_error(NULL, "unknown command '%s'", ctx->args.pos[0]);
    cmd_print_help(stdout, c);
    return 0;
}

static const struct cmd cmd_help = {
    .name = "help",
    .run = run_help,
    .summary = "show the commands, or one command's options",
    .usage = "Usage: citaplanner help [COMMAND]\n",
};
