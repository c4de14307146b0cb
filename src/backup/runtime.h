/*
 * runtime — the private runtime directory (runtime.c): what a run keeps
 * outside BACKUP_DIR and outside every backup's directory while it lasts,
 * and what a later run removes when a run was killed before it could.
 *
 * The directory: $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=), else
 * $XDG_RUNTIME_DIR/citaplanner, else $TMPDIR (or /tmp)/citaplanner-<uid>;
 * created 0700 and refused unless it is a directory of ours that nobody
 * else may read.  It holds:
 *
 * - the private passfile directories ".pgpass.tmp.<pid>" (psql.c): the
 *   database password in clear, never beside a backup;
 * - one record per leftover-to-be: "record.<pid>.<n>" naming a scratch
 *   database of a deep verification (and its server) or an unpacked SQLite
 *   copy, written before the database or the file is created and removed
 *   once it is gone.
 *
 * backup_runtime_sweep, at the start of every backup, verify and restore,
 * drops the scratch databases and removes the copies recorded by runs whose
 * pid is no longer alive, whatever their age, and their passfiles.
 */
#ifndef CITAPLANNER_BACKUP_RUNTIME_H
#define CITAPLANNER_BACKUP_RUNTIME_H

#include "common/err.h"
#include "common/url.h"

/* The private runtime directory, created when missing; caller frees.  -ERR_BACKUP when unusable. */
/* The configured RUNTIME_DIRECTORY and XDG_RUNTIME_DIR (borrowed; NULL = unset), set once. */
void backup_runtime_set_dirs(const char *runtime_dir, const char *xdg_runtime_dir);

int backup_runtime_dir(char **out, struct err *e);

/*
 * Record, before creating it, a scratch database name on the server db
 * (kind BACKUP_RECORD_DATABASE) or a file path (BACKUP_RECORD_FILE; its
 * SQLite -journal, -wal and -shm go with it).  *record: pass it to
 * backup_runtime_forget once the thing is gone (NULL is accepted).
 */
enum backup_record_kind { BACKUP_RECORD_DATABASE, BACKUP_RECORD_FILE };
int backup_runtime_record(enum backup_record_kind kind, const char *what, const struct url *db,
                          char **record, struct err *e);
void backup_runtime_forget(char *record);

/*
 * Remove what dead runs recorded or left in the runtime directory: their
 * files, their passfile directories, and their scratch databases on db's
 * server (db may be NULL or SQLite: the records of databases then wait for
 * a run that names their server).  Logged; never fails.
 */
void backup_runtime_sweep(const struct url *db);

#endif
