/*
 * cmd/archive.c — `citaplanner archive`: continuous archiving in the
 * foreground until SIGTERM/SIGINT (for systemd), the same archiver serve
 * runs; one per BACKUP_DIR (the other exits with status 8).
 */
#include <stdio.h>
#include <string.h>

#include "archive/pg_archive.h"
#include "archive/sqlite_archive.h"
#include "cmd/backup_cmds.h"
#include "cmd/cmd.h"
#include "common/log.h"

/* SQLite: ship the WAL into BACKUP_DIR/wal-sqlite (archive/sqlite_archive.h). */
static int run_sqlite(struct cmd_ctx *ctx)
{
    struct archive_sqlite_opts o = {
        .db_path = ctx->cfg.db.path,
        .backup_dir = ctx->cfg.backup_dir,
        .interval_ms = ctx->cfg.archive_sqlite_interval_ms,
        .checkpoint_frames = ctx->cfg.archive_sqlite_checkpoint_frames,
        .stop = backup_cmd_cancel_flag(),
        .mirror_dir = ctx->cfg.backup_mirror_dir,
        .recipient = ctx->cfg.backup_encrypt_recipient,
        .cfg = &ctx->cfg,
    };
    struct err e;

    err_clear(&e);
    backup_cmd_catch_signals();
    if (archive_sqlite_run(&o, &e) < 0)
        return cmd_fail(&e);
    return 0;
}

/* PostgreSQL: pg_receivewal supervised into BACKUP_DIR/wal (archive/pg_archive.h). */
static int run_pg(struct cmd_ctx *ctx)
{
    struct err e;

    err_clear(&e);
    backup_cmd_catch_signals();
    if (archive_pg_run(&ctx->cfg, backup_cmd_cancel_flag(), &e) < 0)
        return cmd_fail(&e);
    return 0;
}

static int run(struct cmd_ctx *ctx)
{
    if (ctx->args.npos > 0)
        return cmd_usage_error(ctx, "unexpected argument '%s'", ctx->args.pos[0]);
    return ctx->cfg.db.kind == URL_SQLITE ? run_sqlite(ctx) : run_pg(ctx);
}

const struct cmd cmd_archive = {
    .name = "archive",
    .run = run,
    .summary = "archive the database continuously (WAL shipping) until stopped",
    .usage = "usage: citaplanner archive\n"
             "\n"
             "SQLite: every ARCHIVE_SQLITE_INTERVAL_MS (default 1000) the commits of every\n"
             "process that writes the database file are copied from its -wal file into\n"
             "numbered, checksummed, compressed segments under BACKUP_DIR/wal-sqlite/\n"
             "GENERATION/, after a snapshot of the database; 'backup restore --to-time'\n"
             "rebuilds the database as of any moment they cover.  One archiver per\n"
             "BACKUP_DIR (BACKUP_DIR/.archive-sqlite.lock); serve runs it when\n"
             "ARCHIVE_SQLITE=on.  Stops on SIGTERM or SIGINT.\n"
             "\n"
             "PostgreSQL: pg_receivewal (the server's major version; PG_RECEIVEWAL names\n"
             "another) streams the WAL on the replication slot citaplanner_archive with\n"
             "--synchronous into BACKUP_DIR/wal/; each completed segment is compressed,\n"
             "checksummed (SHA-256) and recorded in BACKUP_DIR/wal/manifest, and the\n"
             "segment being written (.partial) is the recovery point.  It is restarted\n"
             "with back-off and an alert goes out after 5 failures in a row.  Needs a role\n"
             "with REPLICATION, max_wal_senders >= 2 and a pg_hba 'replication' line.  One\n"
             "archiver per database; serve runs it when ARCHIVE=on.\n",
    .flags = NULL,
    .needs_db = true,
};
