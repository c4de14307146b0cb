/*
 * scheduler — the backups `serve` takes by itself (SPEC §6 "Scheduling").
 *
 * A thread sleeps until the next time BACKUP_SCHEDULE names (cron_next, local
 * time), then takes an automatic backup (daily, plus weekly/monthly on their
 * days) and rotates.  At start, when the newest good backup is older than a
 * day (or there is none), one runs soon after `ready`.
 *
 * Several `serve` processes on one database run each scheduled backup once:
 * the run happens under the database's named lock "backup-scheduler" (a
 * PostgreSQL advisory lock; a file lock beside a SQLite file), taken without
 * waiting, and after taking it the run is skipped when a backup at or after
 * the scheduled time already exists — another instance took it.
 *
 * After every run, and hourly, the newest good backup's age is compared with
 * BACKUP_MAX_AGE_HOURS; a stale backup alerts (ops_backup_stale_alert: once a
 * day per newest backup, remembered in BACKUP_DIR for every process).
 */
#ifndef CITAPLANNER_SCHEDULER_H
#define CITAPLANNER_SCHEDULER_H

#include "common/err.h"
#include "config/config.h"

struct scheduler;

/*
 * Start the thread.  cfg is borrowed and must outlive the scheduler.  With
 * BACKUP_SCHEDULE=off the thread only watches staleness.  Caller stops it
 * with scheduler_stop().
 */
int scheduler_start(const struct config *cfg, struct scheduler **out, struct err *e);

/*
 * Stop: a backup in progress gets grace_s seconds to finish, then is
 * cancelled (its temporary files removed, no final-named file left); the
 * thread is joined and everything freed.  Accepts NULL.
 */
void scheduler_stop(struct scheduler *s, int grace_s);

#endif
