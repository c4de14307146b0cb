/*
 * cmd/wal_fetch.c — `citaplanner wal-fetch NAME PATH`: PostgreSQL's
 * restore_command during a point-in-time restore (backup restore --to-*
 * --pgdata writes it): the WAL file NAME from the archive into PATH, its
 * SHA-256 checked first (archive/pg_wal.h).
 *
 * Exit status as PostgreSQL reads it: 0 handed over; 1 the archive does not
 * have it (the end of recovery); 126 damaged, or missing with newer segments
 * present (a gap): above 125 the server stops the recovery instead of
 * opening the database short of its target.
 */
#include <stdio.h>
#include <stdlib.h>

#include "archive/pg_wal.h"
#include "backup/encrypt.h"
#include "cmd/cmd.h"
#include "common/log.h"
#include "common/util.h"

#define WAL_FETCH_ABORT 126

static int run(struct cmd_ctx *ctx)
{
    struct err e;
    char *dir;
    int rc;

    if (ctx->args.npos != 2)
        return cmd_usage_error(ctx, "wal-fetch takes NAME and PATH (restore_command's %%f %%p)");
    err_clear(&e);
    dir = xasprintf("%s/%s", ctx->cfg.backup_dir, ARCHIVE_PG_SUBDIR);
    rc = pg_wal_fetch(dir, ctx->args.pos[0], ctx->args.pos[1],
                      backup_decrypt_identity(ctx->cfg.backup_decrypt_identity), &e);
    free(dir);
    if (rc < 0) {
        fprintf(stderr, "citaplanner wal-fetch: %s: the recovery stops here\n", e.msg);
        return WAL_FETCH_ABORT;
    }
    return rc;
}

const struct cmd cmd_wal_fetch = {
    .name = "wal-fetch",
    .run = run,
    .summary = "hand PostgreSQL a WAL file from the archive (restore_command)",
    .usage = "usage: citaplanner wal-fetch NAME PATH\n"
             "\n"
             "PostgreSQL's restore_command during a point-in-time restore ('backup restore\n"
             "--to-time ... --pgdata DIR' writes restore_command = 'citaplanner wal-fetch\n"
             "--backup-dir DIR %f %p'): copies the WAL segment or history file NAME from\n"
             "BACKUP_DIR/wal/ into PATH, decompressed, after checking its SHA-256 against\n"
             "the archive's manifest (the segment being received, .partial, when that is\n"
             "all there is; an encrypted one, .gz.age, decrypted with\n"
             "BACKUP_DECRYPT_IDENTITY).  Exit 0 when handed over, 1 when the archive does\n"
             "not have it (recovery ends there), 126 when it is damaged, cannot be\n"
             "decrypted, or a segment is missing before newer ones (PostgreSQL stops the\n"
             "recovery).\n",
    .flags = NULL,
    .needs_db = false,
};
