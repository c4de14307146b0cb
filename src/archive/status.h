/*
 * status — the archive as `backup list` and the admin API show it
 * (status.c): the range it can restore to, how far behind it is, and its
 * health.  The one place that computes them, for both databases.
 *
 * The archiver reports how it goes in a record of BACKUP_DIR: PostgreSQL's
 * .archive-pg.json (pg_slot.h, every 2 s), SQLite's .archive-sqlite.json
 * (written here: at most every ARCHIVE_SQLITE_REPORT_S and whenever a poll
 * turns from success to failure or back).  Health:
 *   off      archiving is off (ARCHIVE / ARCHIVE_SQLITE) and no archiver
 *            ever reported for this BACKUP_DIR;
 *   failing  no report for ARCHIVE_STALE_S (no archiver runs: code
 *            archive_stopped; not while the PostgreSQL archiver takes a
 *            base backup, its reports paused), the slot gone (archive_slot_dropped),
 *            pg_receivewal not streaming, or SQLite polls failing for
 *            longer than ARCHIVE_MAX_LAG (archive_failed);
 *   lagging  PostgreSQL's archive more than ARCHIVE_MAX_LAG behind the
 *            server (archive_lagging), or SQLite polls failing for less
 *            (archive_failed: retried);
 *   ok       otherwise.
 * Nothing here holds a path or a URL: what it gives is shown as is.
 */
#ifndef CITAPLANNER_ARCHIVE_STATUS_H
#define CITAPLANNER_ARCHIVE_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "config/config.h"

#define ARCHIVE_STALE_S         60
#define ARCHIVE_SQLITE_REPORT_S 5

enum archive_health {
    ARCHIVE_HEALTH_OFF,
    ARCHIVE_HEALTH_OK,
    ARCHIVE_HEALTH_LAGGING,
    ARCHIVE_HEALTH_FAILING
};

struct archive_status {
    const char *kind; /* "sqlite" or "postgresql" */
    bool any;         /* the archive holds something to restore */
    int64_t from_ms, to_ms;
    int bases;         /* SQLite: generations (each from a snapshot); PostgreSQL: base backups */
    uint64_t segments; /* SQLite: segments; PostgreSQL: WAL segments of the newest base's chain */
    enum archive_health health;
    const char *code;          /* why not ok (a stable code, see above), NULL when ok or off */
    double lag_s;              /* the archiver's own measure of what it has not archived yet */
    int64_t reported;          /* the archiver's last report (epoch seconds), 0 none */
    char problem[ERR_MSG_MAX]; /* the chain's problem when it does not verify (PostgreSQL), "" none
                                */
};

/* The archive of cfg's database at now_ms.  Never fails: what cannot be read is absent. */
void archive_status_read(const struct config *cfg, int64_t now_ms, struct archive_status *s);

/* "off", "ok", "lagging", "failing". */
const char *archive_health_name(enum archive_health h);

/* The SQLite archiver's report: a poll at now_ms, ok or not (see above). */
struct archive_sqlite_report {
    int64_t last_write_ms;
    bool last_ok;
    int64_t ok_ms; /* the last successful poll */
};
void archive_sqlite_report(const char *backup_dir, struct archive_sqlite_report *r, int64_t now_ms,
                           bool ok);

#endif
