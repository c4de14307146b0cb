/* cmd/serve.c — placeholder until the command lands. */
#include "cmd/cmd.h"

#include <stdio.h>

static int run_serve(struct cmd_ctx *ctx)
{
    (void)ctx;
    fprintf(stderr, "citaplanner: 'serve' is not built yet\n");
    return 1;
}

const struct cmd cmd_serve = {
    .name = "serve",
    .run = run_serve,
    .summary = "serve",
};
