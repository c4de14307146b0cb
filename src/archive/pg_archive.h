/*
 * pg_archive — continuous archiving of a PostgreSQL database: pg_receivewal
 * streams the WAL over a replication connection into BACKUP_DIR/wal/
 * (layout: pg_wal.h), on the replication slot citaplanner_archive, with
 * --synchronous (every write fsynced and reported at once, so the slot
 * holds the server's WAL only as far as the archive lacks it and the
 * .partial segment is the recovery point).  No archive_command on the
 * server: it works with a server in another container or a managed one.
 *
 * The archiver supervises it: restarts it with back-off (1 s doubling to
 * 60 s), alerts (backup/alert.h) after ARCHIVE_ALERT_AFTER failures in a
 * row, files every completed segment (pg_wal_file_completed), and watches
 * the slot (retained WAL, lag: pg_slot.h).  The program is the same major
 * version as the server (pgtool_find; PG_RECEIVEWAL overrides); the
 * password reaches it through a private passfile, never its command line.
 *
 * The archiver also takes the base backups on BACKUP_BASE_SCHEDULE (one at
 * once when there is none: pg_base.h) and, weekly, proves the archive by a
 * restore into a throwaway server (pg_check.h); both run in its loop while
 * pg_receivewal goes on streaming.
 *
 * One archiver per database: it holds the advisory lock "archive_pg" (the
 * way one serve instance runs the backup scheduler); a pg_receivewal left
 * running by an archiver that was killed (-9) is stopped by the next one
 * (BACKUP_DIR/.archive-pg.pid).
 */
#ifndef CITAPLANNER_ARCHIVE_PG_ARCHIVE_H
#define CITAPLANNER_ARCHIVE_PG_ARCHIVE_H

#include "common/err.h"
#include "config/config.h"

#define ARCHIVE_ALERT_AFTER 5

/*
 * Archive until *stop.  -ERR_LOCKED when another archiver runs, -ERR_BACKUP
 * when the tools or the directory are missing, -ERR_DB_CONNECT.  Failures
 * of pg_receivewal are retried, not returned.
 */
int archive_pg_run(const struct config *cfg, volatile int *stop, struct err *e);

/* The archiver as a thread of serve: stands by while another instance archives. */
struct archive_pg;
struct archive_pg *archive_pg_start(const struct config *cfg);
/* Stop and join; NULL is a no-op. */
void archive_pg_stop(struct archive_pg *a);

#endif
