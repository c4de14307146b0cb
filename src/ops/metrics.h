/*
 * ops/metrics — the backup and database part of GET /metrics, in the
 * Prometheus text exposition format 0.0.4 (every family with its # HELP and
 * # TYPE lines; names citaplanner_…_seconds / _bytes / _total).  The HTTP
 * part comes from the server itself (http_metrics_write in http/request.h);
 * api/metrics.c joins the two.
 *
 * Families written here (tier = daily, weekly, monthly, premigrate, prerestore):
 *   citaplanner_backup_last_success_timestamp_seconds{tier}  gauge, newest good backup's time
 *   citaplanner_backup_last_size_bytes{tier}                 gauge, its compressed size
 *   citaplanner_backup_last_duration_seconds{tier}           gauge, its duration
 *   citaplanner_backup_last_run_success{tier}                gauge, 1/0 (last run recorded)
 *   citaplanner_backup_last_run_timestamp_seconds{tier}      gauge
 *   citaplanner_backup_files{tier}                           gauge, data files in the tier
 *   citaplanner_backup_tier_bytes{tier}                      gauge
 *   citaplanner_backup_newest_age_seconds                    gauge, -1 when none
 *   citaplanner_backup_max_age_seconds                       gauge, BACKUP_MAX_AGE_HOURS
 *   citaplanner_backup_stale                                 gauge, 1 when stale or none
 *   citaplanner_backup_volume_free_bytes / _total_bytes      gauge
 *   citaplanner_backup_verify_last_timestamp_seconds         gauge (when recorded)
 *   citaplanner_backup_verify_last_checked / _failed         gauge (when recorded)
 *   citaplanner_database_size_bytes                          gauge (when the database answers)
 *   citaplanner_database_up                                  gauge, 1/0
 */
#ifndef CITAPLANNER_OPS_METRICS_H
#define CITAPLANNER_OPS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"
#include "ops/backups.h"

/*
 * Append the backup families from f (ops_backup_facts_load) and the
 * database's (db_size < 0: the database did not answer) to out.
 */
void ops_metrics_write(struct buf *out, const struct ops_backup_facts *f, int64_t db_size);

/*
 * Append the remote families (issue 10), one sample per configured remote
 * (remote = mirror, s3):
 *   citaplanner_backup_remote_missing{remote}      gauge, local backups without a copy
 *   citaplanner_backup_remote_lag_seconds{remote}  gauge, age of the oldest of them
 */
void ops_metrics_write_remote(struct buf *out, const struct config *cfg, time_t now);

/*
 * PostgreSQL's archive (issue 20), from BACKUP_DIR/.archive-pg.json that the
 * archiver writes every 2 s: the slot's retained WAL, the lag, whether it
 * streams, when it was read and when the guard last dropped it.  Nothing
 * without a record (SQLite, or no archiver ever ran).
 */
void ops_metrics_write_archive(struct buf *out, const struct config *cfg);

#endif
