/*
 * pg_pitr — point-in-time restore of a PostgreSQL database from the archive:
 * the newest base backup before the target (pg_base.h), extracted into an
 * empty data directory and checked (SHA-256 of its files, pg_verifybackup),
 * then set up for PostgreSQL's own recovery: recovery.signal and, in
 * postgresql.auto.conf, restore_command = 'citaplanner wal-fetch …' (which
 * checks each segment's SHA-256 as it hands it over), the target and
 * recovery_target_action = 'promote'.  The server started on it replays up
 * to the target and opens.  Before anything is written the chain of WAL
 * from the base to the newest archived byte is checked: a missing or
 * damaged segment stops the restore, naming it.  An encrypted archive
 * (BACKUP_ENCRYPT_RECIPIENT) is decrypted with BACKUP_DECRYPT_IDENTITY, whose
 * absolute path restore_command carries to wal-fetch.
 */
#ifndef CITAPLANNER_ARCHIVE_PG_PITR_H
#define CITAPLANNER_ARCHIVE_PG_PITR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "config/config.h"

enum pg_target { PG_TARGET_LATEST, PG_TARGET_TIME, PG_TARGET_LSN, PG_TARGET_XID };

struct pg_pitr_opts {
    const struct config *cfg;
    enum pg_target kind;
    time_t time;        /* PG_TARGET_TIME, UTC */
    const char *value;  /* PG_TARGET_LSN "0/3000060", PG_TARGET_XID "1234" */
    const char *pgdata; /* the new data directory: missing or empty */
    const char *self;   /* this program's absolute path, for restore_command */
    bool exclusive;     /* stop just before the target (recovery_target_inclusive off) */
    const char *base;   /* this base backup's name, NULL: the newest before the target */
};

struct pg_pitr_result {
    char base[32]; /* the base backup's name */
    time_t base_finished;
    int server_major;
    int segments;    /* segments of the chain checked */
    char newest[40]; /* the newest segment (or .partial) the archive reaches */
    double seconds;
};

/*
 * -ERR_RESTORE_REFUSED (no base before the target, DIR not empty), -ERR_VERIFY (damage, a gap,
 * an identity that does not decrypt), -ERR_CONFIG (an encrypted archive and no identity).
 */
int pg_pitr_restore(const struct pg_pitr_opts *o, struct pg_pitr_result *r, struct err *e);

#endif
