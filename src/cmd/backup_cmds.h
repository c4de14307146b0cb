/*
 * backup_cmds — what the sub-commands of `citaplanner backup` share across
 * files: backup.c parses the command line and runs take, list and prune;
 * verify and restore (backup_verify_restore.c) and adopt (backup_adopt.c)
 * are reached through the functions below; the clock, signals, progress
 * line and JSON printer they all use are in backup_ui.c.
 */
#ifndef CITAPLANNER_BACKUP_CMDS_H
#define CITAPLANNER_BACKUP_CMDS_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "backup/take.h"
#include "cmd/cmd.h"

/*
 * `backup verify [FILE…] [--deep]` and `backup --verify-only [FILE…]`:
 * files (nfiles may be 0: every backup under BACKUP_DIR) are borrowed from
 * argv.  Returns the exit status (6 when any backup is damaged).
 */
int backup_cmd_verify(struct cmd_ctx *ctx, int nfiles, char **files);

/*
 * `backup adopt [FILE…] [--deep]` (backup_adopt.c): our sidecar and manifest
 * beside backups made by another tool.  Returns the exit status.
 */
int backup_cmd_adopt(struct cmd_ctx *ctx, int nfiles, char **files);

/*
 * `backup restore FILE [--yes] [--no-safety-backup]` and `backup --restore
 * FILE`.  Returns the exit status (7 when cancelled or refused).
 */
int backup_cmd_restore(struct cmd_ctx *ctx, const char *file);

/*
 * A progress callback for struct backup_opts: one line on stdout, rewritten
 * in place ('\r').  Install it only when stdout is a terminal and not --json;
 * arg is unused.  backup_cmd_progress_end() ends the line if one was drawn.
 */
void backup_cmd_progress(void *arg, const struct backup_progress *p);
void backup_cmd_progress_end(void);

/*
 * SIGINT and SIGTERM set *backup_cmd_cancel_flag() (for struct
 * backup_opts.cancel) instead of killing the process, so that a run removes
 * its temporary files before it exits.
 */
volatile int *backup_cmd_cancel_flag(void);
void backup_cmd_catch_signals(void);

/* Print o (indented, keys in order) and a newline on stdout; takes o's reference. */
void backup_cmd_print_json(json_t *o);

/*
 * The SQLite archive (backup_pitr_sqlite.c): restore --to-time/--to-latest
 * (returns the exit status), the chain's check after verify (0 or 6), and
 * list's "recoverable to any moment" line.
 */
/*
 * --to-time's "YYYY-MM-DD HH:MM:SS" in zone tz (NULL: this machine's local
 * time) as milliseconds since the epoch; 0, or the exit status of a usage
 * error already printed (backup_pitr_sqlite.c).
 */
int backup_cmd_parse_time(struct cmd_ctx *ctx, const char *s, const char *tz, int64_t *ms);

int backup_cmd_pitr_sqlite(struct cmd_ctx *ctx);
int backup_cmd_archive_verify_sqlite(struct cmd_ctx *ctx);

/*
 * PostgreSQL's archive in `backup` (backup_pitr_pg.c): `backup base` (a base
 * backup, then the retention), `restore --to-time|--to-latest|--to-lsn|
 * --to-xid --pgdata DIR`, the chain after `verify` (the range `list` shows:
 * archive/status.h).
 */
int backup_cmd_base_pg(struct cmd_ctx *ctx);
int backup_cmd_pitr_pg(struct cmd_ctx *ctx);
int backup_cmd_archive_verify_pg(struct cmd_ctx *ctx);

#endif
