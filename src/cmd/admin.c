/* cmd/admin.c — placeholder until the command lands. */
#include "cmd/cmd.h"

#include <stdio.h>

static int run_admin(struct cmd_ctx *ctx)
{
    (void)ctx;
    fprintf(stderr, "citaplanner: 'admin' is not built yet\n");
    return 1;
}

const struct cmd cmd_admin = {
    .name = "admin",
    .run = run_admin,
    .summary = "admin",
};
