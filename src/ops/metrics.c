/* ops/metrics — see metrics.h. */
#include "archive/pg_slot.h"
#include "backup/remote.h"
#include "ops/metrics.h"

static void family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per tier for which want() says there is a value. */
enum tier_value { LAST_SUCCESS, LAST_SIZE, LAST_DURATION, RUN_OK, RUN_TIME, FILES, BYTES };

static bool tier_value(const struct ops_tier_facts *tf, enum tier_value v, double *out)
{
    switch (v) {
    case LAST_SUCCESS:
        *out = (double)tf->good.time;
        return tf->good.file != NULL;
    case LAST_SIZE:
        *out = (double)tf->good.size;
        return tf->good.file != NULL;
    case LAST_DURATION:
        /* The last run's measured time when it wrote this file; else the manifest's. */
        if (tf->has_last && tf->last_ok && tf->good.file != NULL && tf->last_time >= tf->good.time)
            *out = tf->last_seconds;
        else
            *out = tf->good.duration;
        return tf->good.file != NULL && *out >= 0;
    case RUN_OK:
        *out = tf->last_ok ? 1 : 0;
        return tf->has_last;
    case RUN_TIME:
        *out = (double)tf->last_time;
        return tf->has_last;
    case FILES:
        *out = tf->count;
        return true;
    case BYTES:
        *out = (double)tf->bytes;
        return true;
    }
    return false;
}

static void per_tier(struct buf *out, const struct ops_backup_facts *f, const char *name,
                     const char *help, enum tier_value v)
{
    family(out, name, "gauge", help);
    for (int t = 0; t < BACKUP_TIER_COUNT; t++) {
        double x;
        if (!tier_value(&f->tiers[t], v, &x))
            continue;
        /* Whole numbers (times, sizes) in full; durations to the microsecond. */
        buf_addf(out, x == (double)(int64_t)x ? "%s{tier=\"%s\"} %.0f\n" : "%s{tier=\"%s\"} %.6f\n",
                 name, backup_tier_name((enum backup_tier)t), x);
    }
}

void ops_metrics_write(struct buf *out, const struct ops_backup_facts *f, int64_t db_size)
{
    per_tier(out, f, "citaplanner_backup_last_success_timestamp_seconds",
             "Time of the newest good backup of the tier (Unix seconds).", LAST_SUCCESS);
    per_tier(out, f, "citaplanner_backup_last_size_bytes",
             "Compressed size of the newest good backup of the tier.", LAST_SIZE);
    per_tier(out, f, "citaplanner_backup_last_duration_seconds",
             "How long the newest good backup of the tier took.", LAST_DURATION);
    per_tier(out, f, "citaplanner_backup_last_run_success",
             "1 when the last backup run of the tier succeeded, 0 when it failed.", RUN_OK);
    per_tier(out, f, "citaplanner_backup_last_run_timestamp_seconds",
             "When the last backup run of the tier ended (Unix seconds).", RUN_TIME);
    per_tier(out, f, "citaplanner_backup_files", "Backups kept in the tier.", FILES);
    per_tier(out, f, "citaplanner_backup_tier_bytes", "Bytes of the backups kept in the tier.",
             BYTES);

    family(out, "citaplanner_backup_newest_age_seconds", "gauge",
           "Age of the newest good backup of any tier; -1 when there is none.");
    buf_addf(out, "citaplanner_backup_newest_age_seconds %.0f\n",
             f->good.file != NULL ? f->good_age : -1.0);
    family(out, "citaplanner_backup_max_age_seconds", "gauge",
           "BACKUP_MAX_AGE_HOURS in seconds: an older newest backup is stale.");
    buf_addf(out, "citaplanner_backup_max_age_seconds %.0f\n", f->max_age);
    family(out, "citaplanner_backup_stale", "gauge",
           "1 when there is no good backup or the newest is older than the maximum age.");
    buf_addf(out, "citaplanner_backup_stale %d\n", f->stale ? 1 : 0);
    if (f->has_volume) {
        family(out, "citaplanner_backup_volume_free_bytes", "gauge",
               "Free bytes on the backup volume.");
        buf_addf(out, "citaplanner_backup_volume_free_bytes %llu\n",
                 (unsigned long long)f->volume_free);
        family(out, "citaplanner_backup_volume_total_bytes", "gauge",
               "Size of the backup volume in bytes.");
        buf_addf(out, "citaplanner_backup_volume_total_bytes %llu\n",
                 (unsigned long long)f->volume_total);
    }
    if (f->has_verify) {
        family(out, "citaplanner_backup_verify_last_timestamp_seconds", "gauge",
               "When the last verification of the backups ended (Unix seconds).");
        buf_addf(out, "citaplanner_backup_verify_last_timestamp_seconds %lld\n",
                 (long long)f->verify_time);
        family(out, "citaplanner_backup_verify_last_checked", "gauge",
               "Backups checked by the last verification.");
        buf_addf(out, "citaplanner_backup_verify_last_checked %d\n", f->verify_checked);
        family(out, "citaplanner_backup_verify_last_failed", "gauge",
               "Backups found damaged by the last verification.");
        buf_addf(out, "citaplanner_backup_verify_last_failed %d\n", f->verify_failed);
    }
    family(out, "citaplanner_database_up", "gauge", "1 when the database answered this scrape.");
    buf_addf(out, "citaplanner_database_up %d\n", db_size >= 0 ? 1 : 0);
    if (db_size >= 0) {
        family(out, "citaplanner_database_size_bytes", "gauge", "Size of the database in bytes.");
        buf_addf(out, "citaplanner_database_size_bytes %lld\n", (long long)db_size);
    }
}

void ops_metrics_write_remote(struct buf *out, const struct config *cfg, time_t now)
{
    int missing[BACKUP_REMOTE_COUNT] = {0};
    int64_t oldest[BACKUP_REMOTE_COUNT] = {0};
    bool on[BACKUP_REMOTE_COUNT], any = false;

    for (int i = 0; i < BACKUP_REMOTE_COUNT; i++) {
        on[i] = backup_remote_lag(cfg, backup_remote_names[i], now, &missing[i], &oldest[i]);
        any = any || on[i];
    }
    if (!any)
        return;
    family(out, "citaplanner_backup_remote_missing", "gauge",
           "Local backups without a verified copy in the remote (mirror, s3).");
    for (int i = 0; i < BACKUP_REMOTE_COUNT; i++)
        if (on[i])
            buf_addf(out, "citaplanner_backup_remote_missing{remote=\"%s\"} %d\n",
                     backup_remote_names[i], missing[i]);
    family(out, "citaplanner_backup_remote_lag_seconds", "gauge",
           "Age of the oldest local backup not yet copied to the remote; 0 when none.");
    for (int i = 0; i < BACKUP_REMOTE_COUNT; i++)
        if (on[i])
            buf_addf(out, "citaplanner_backup_remote_lag_seconds{remote=\"%s\"} %lld\n",
                     backup_remote_names[i], (long long)oldest[i]);
}

void ops_metrics_write_archive(struct buf *out, const struct config *cfg)
{
    struct pg_slot_state st;

    if (cfg->db.kind != URL_POSTGRES || pg_slot_state_read(cfg->backup_dir, &st) < 0)
        return;
    family(out, "citaplanner_archive_slot_retained_bytes", "gauge",
           "WAL the archive's replication slot holds on the server, as the archiver last read it.");
    buf_addf(out, "citaplanner_archive_slot_retained_bytes %lld\n", (long long)st.retained);
    family(out, "citaplanner_archive_lag_seconds", "gauge",
           "Age of the oldest WAL not yet in the archive (0 when caught up).");
    buf_addf(out, "citaplanner_archive_lag_seconds %.3f\n", st.lag_s);
    family(out, "citaplanner_archive_slot_active", "gauge",
           "1 when pg_receivewal was streaming on the slot at the archiver's last reading.");
    buf_addf(out, "citaplanner_archive_slot_active %d\n", st.active ? 1 : 0);
    family(out, "citaplanner_archive_last_reading_timestamp_seconds", "gauge",
           "When the archiver last read the slot (Unix seconds): a stale one means no archiver.");
    buf_addf(out, "citaplanner_archive_last_reading_timestamp_seconds %lld\n", (long long)st.time);
    family(out, "citaplanner_archive_slot_dropped_timestamp_seconds", "gauge",
           "When the guard last dropped the slot past ARCHIVE_SLOT_MAX_BYTES (0: never).");
    buf_addf(out, "citaplanner_archive_slot_dropped_timestamp_seconds %lld\n",
             (long long)st.dropped);
}
