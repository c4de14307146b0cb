/*
 * pg_slot — the archive's replication slot watched (pg_slot.c): how much WAL
 * it holds on the server and how far behind the archive is, recorded in
 * BACKUP_DIR/.archive-pg.json for doctor and /metrics (every instance reads
 * the same file), and the slot dropped before it fills the server's disk.
 * The one place outside ops/ that reads pg_replication_slots.
 *
 * The lag is the age of the oldest WAL the archive lacks: the archiver
 * samples the server's WAL position every few seconds, and the lag is the
 * time since the first sample beyond what the slot confirmed.
 */
#ifndef CITAPLANNER_ARCHIVE_PG_SLOT_H
#define CITAPLANNER_ARCHIVE_PG_SLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "db/db.h"

#define PG_SLOT_SAMPLES 4096

struct pg_slot_state {
    time_t time;      /* when read */
    bool exists;      /* the slot is on the server */
    bool active;      /* pg_receivewal is streaming on it */
    int64_t retained; /* bytes of WAL the slot holds on the server (current - restart) */
    double lag_s;     /* age of the oldest WAL not archived; 0 when caught up */
    int64_t dropped;  /* when the guard last dropped the slot (epoch), 0 never */
};

/* The samples behind the lag. */
struct pg_slot_lag {
    struct {
        double t;
        uint64_t lsn;
    } v[PG_SLOT_SAMPLES];
    int head, n;
};

/* Read the slot's state now (and advance lag's samples).  -ERR_DB when the query fails. */
int pg_slot_read(struct db *db, struct pg_slot_lag *lag, struct pg_slot_state *s, struct err *e);

/* Drop the slot (stop its user first).  -ERR_DB. */
int pg_slot_drop(struct db *db, struct err *e);

/* BACKUP_DIR/.archive-pg.json: written atomically (failures logged at debug). */
void pg_slot_state_write(const char *backup_dir, const struct pg_slot_state *s);
/* 0 and s, or -1 when there is no record. */
int pg_slot_state_read(const char *backup_dir, struct pg_slot_state *s);

/*
 * BACKUP_DIR/.archive-pg-base: the archiver is taking a scheduled base
 * backup (its pid in the file), during which its loop writes no report
 * while pg_receivewal, its child, goes on streaming.  _running: the file
 * names a live process.
 */
void pg_slot_base_begin(const char *backup_dir);
void pg_slot_base_end(const char *backup_dir);
bool pg_slot_base_running(const char *backup_dir);

#endif
