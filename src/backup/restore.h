/*
 * restore — a backup put back in place of the current data (restore.c).
 */
#ifndef CITAPLANNER_BACKUP_RESTORE_H
#define CITAPLANNER_BACKUP_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backup/rotate.h"
#include "backup/take.h"
#include "backup/manifest.h"
#include "common/err.h"
#include "common/url.h"
#include "config/config.h"

/*
 * Restoring a backup into the configured database (SPEC §6 "Restoring").
 *
 * Order: take BACKUP_DIR's lock (held to the end; -ERR_LOCKED when held),
 * verify the file (quick; -ERR_VERIFY when damaged), refuse a backup of the
 * other database kind or whose schema is newer than this program's newest
 * migration (-ERR_RESTORE_REFUSED), ask confirm (false: -ERR_RESTORE_REFUSED,
 * nothing changed), take a prerestore backup of the current data (unless
 * !safety_backup; rotation keeps BACKUP_KEEP_SPECIAL), replace the data
 * atomically, then migrate deploy and read the row counts.
 *
 * Atomicity.  PostgreSQL: psql (connection through PG* variables and a
 * private passfile, never argv) is fed "BEGIN; DROP SCHEMA public CASCADE;
 * CREATE SCHEMA public; …", then the dump decompressed as it is read from the
 * .gz (never written out uncompressed), then "COMMIT", with ON_ERROR_STOP:
 * psql gets no COMMIT unless every statement succeeded and the bytes hashed
 * on the way match the verified SHA-256; if this process dies, psql reads
 * end-of-file inside the open transaction and the server rolls it back.
 * SQLite: the backup is decompressed into a temporary file beside the
 * database, checked (PRAGMA integrity_check), and copied into the live file
 * through the online backup API in one step: one write transaction, which
 * other connections see complete or not at all.
 *
 * Errors: -ERR_LOCKED, -ERR_VERIFY, -ERR_RESTORE_REFUSED as above;
 * -ERR_BACKUP when the safety backup or the restore itself failed (the
 * database is then exactly as before); -ERR_MIGRATE when the restored data
 * could not be migrated forward; the db's errors when it is unreachable.
 */
struct backup_restore_opts {
    const struct config *cfg; /* BACKUP_DIR, keep counts (prerestore backup, lock, log) */
    const struct url *db;     /* the database to overwrite (usually &cfg->db) */
    const char *file;         /* the backup's data file */
    bool safety_backup;       /* take a prerestore backup first */
    bool force_secrets_key;   /* replace a different SECRETS_KEY_FILE with the backup's */
    time_t now;               /* the clock of the prerestore backup's name and the log */
    volatile int *cancel;     /* may be NULL; noticed until the data is committed */
    /*
     * Called once the backup is verified, before anything changes, with its
     * manifest (borrowed for the call); false cancels.  NULL = proceed.
     */
    bool (*confirm)(void *arg, const struct backup_manifest *m);
    void *confirm_arg;
    /* May be NULL.  steps "verify", "safety", "restore". */
    void (*progress)(void *arg, const struct backup_progress *p);
    void *progress_arg;
};

struct backup_restore_result {
    struct backup_manifest m; /* the restored backup's manifest */
    char *prerestore;         /* the safety backup's path, NULL when none was taken */
    int migrations_applied;   /* by the migrate deploy after the restore */
    char *schema_version;     /* newest applied migration afterwards */
    /* Rows afterwards of the tables named in counted[] (-1 when missing). */
    int64_t rows_after[3];
    double seconds;
};

/* The tables whose row counts restore reports: users, appointments, clients. */
extern const char *const backup_restore_counted[3];

int backup_restore(const struct backup_restore_opts *o, struct backup_restore_result *r,
                   struct err *e);
void backup_restore_result_release(struct backup_restore_result *r);

#endif
