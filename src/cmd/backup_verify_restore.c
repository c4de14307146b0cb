/*
 * cmd/backup_verify_restore.c — placeholders for `backup verify` and
 * `backup restore` until they land (this file is replaced then).
 */
#include <stdio.h>

#include "cmd/backup_cmds.h"

int backup_cmd_verify(struct cmd_ctx *ctx, int nfiles, char **files)
{
    (void)ctx;
    (void)nfiles;
    (void)files;
    fprintf(stderr, "citaplanner: 'backup verify' is not available yet\n");
    return 1;
}

int backup_cmd_restore(struct cmd_ctx *ctx, const char *file)
{
    (void)ctx;
    (void)file;
    fprintf(stderr, "citaplanner: 'backup restore' is not available yet\n");
    return 1;
}
