/*
 * cmd — the command table and what every command shares: argument parsing,
 * configuration, opening the database, reporting an error as an exit status.
 *
 * Adding a command: write cmd/NAME.c defining `const struct cmd cmd_NAME`
 * (name, handler, one-line summary, usage text, its flags), add it to
 * cmd_table[] in cmd.c and to cmd/meson.build, and give it an e2e test.
 *
 * Only main.c and cmd/ print to stdout or decide the exit status; the
 * library below returns errors.
 */
#ifndef CITAPLANNER_CMD_H
#define CITAPLANNER_CMD_H

#include <stdbool.h>

#include "config/config.h"
#include "db/db.h"

#define CMD_MAX_FLAGS 32

/* A flag a command accepts; the configuration flags are accepted by all. */
struct cmd_flag {
    const char *name; /* without dashes: "force", "tier" */
    bool has_arg;
    const char *help;
};

struct cmd_args {
    int npos;
    char **pos; /* positional arguments, borrowed from argv */
    int nflags;
    struct {
        const char *name;
        const char *value; /* "" for a flag without argument */
    } flags[CMD_MAX_FLAGS];
};

struct cmd_ctx {
    const struct cmd *cmd;
    struct config cfg;
    struct cmd_args args;
    bool json;              /* --json */
    bool tty;               /* stdout is a terminal */
    bool database_url_flag; /* --database-url was given (ps shows it) */
};

struct cmd {
    const char *name;
    int (*run)(struct cmd_ctx *ctx); /* returns the exit status */
    const char *summary;             /* one line for `help` */
    const char *usage;               /* the rest of `help NAME`, may be NULL */
    const struct cmd_flag *flags;    /* terminated by {NULL}; may be NULL */
    bool needs_db;                   /* for `help`: opens DATABASE_URL */
};

/* The table, terminated by a NULL name. */
extern const struct cmd *const cmd_table[];

const struct cmd *cmd_find(const char *name);

/* The command-line entry point (main() calls this). */
int cmd_main(int argc, char **argv);

/* Flag value, or NULL when absent ("" for a flag without argument). */
const char *cmd_flag(const struct cmd_ctx *ctx, const char *name);
bool cmd_has_flag(const struct cmd_ctx *ctx, const char *name);

/* Print "citaplanner: error: MSG" to stderr and return the exit status of e. */
int cmd_fail(const struct err *e);

/* Print a usage error naming the command's --help; returns 2. */
int cmd_usage_error(const struct cmd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Open the configured database with one attempt (commands other than serve
 * do not retry).  On failure prints the error and returns its exit status
 * (3 for unreachable/authentication); returns 0 on success.
 */
int cmd_open_db(struct cmd_ctx *ctx, struct db **out);

/* Print the help of one command (or the command list when c is NULL). */
void cmd_print_help(FILE *out, const struct cmd *c);

#endif
