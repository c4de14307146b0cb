/* cmd/migrate.c — placeholder until the command lands. */
#include "cmd/cmd.h"

#include <stdio.h>

static int run_migrate(struct cmd_ctx *ctx)
{
    (void)ctx;
    fprintf(stderr, "citaplanner: 'migrate' is not built yet\n");
    return 1;
}

const struct cmd cmd_migrate = {
    .name = "migrate",
    .run = run_migrate,
    .summary = "migrate",
};
