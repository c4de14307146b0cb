/* cmd/seed.c — placeholder until the command lands. */
#include "cmd/cmd.h"

#include <stdio.h>

static int run_seed(struct cmd_ctx *ctx)
{
    (void)ctx;
    fprintf(stderr, "citaplanner: 'seed' is not built yet\n");
    return 1;
}

const struct cmd cmd_seed = {
    .name = "seed",
    .run = run_seed,
    .summary = "seed",
};
