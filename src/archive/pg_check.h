/*
 * pg_check — `backup verify --check` for PostgreSQL's archive (pg_check.c):
 * the archive proven by a restore.  The newest base backup that recorded
 * its row counts (base.json: row_counts and check_lsn, one snapshot) is
 * restored (pg_pitr.h) into BACKUP_DIR/.check-pg.tmp up to check_lsn, a
 * throwaway PostgreSQL of the backup's major version is started on it (Unix
 * socket only, its own pg_hba: local trust), and once it has replayed the
 * archive and opened, every table's row count is compared with the record;
 * then it is stopped and the directory removed.  It must not run as root
 * (PostgreSQL refuses).
 */
#ifndef CITAPLANNER_ARCHIVE_PG_CHECK_H
#define CITAPLANNER_ARCHIVE_PG_CHECK_H

#include "common/err.h"
#include "config/config.h"

struct pg_check_result {
    char base[32];
    char lsn[32];
    int tables; /* compared */
    double seconds;
};

/*
 * Run the check.  self: this program (restore_command).  -ERR_VERIFY naming
 * the tables whose counts differ, or why the restore did not open;
 * -ERR_BACKUP when it could not run (no base with a record, no postgres).
 */
int pg_check_run(const struct config *cfg, const char *self, struct pg_check_result *r,
                 struct err *e);

#endif
