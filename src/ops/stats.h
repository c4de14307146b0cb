/*
 * ops/stats — the `citaplanner stats` report (the guide's "Comandos útiles"
 * as one object), also served by GET /api/v1/admin/stats.
 *
 * The object (stable; new keys may be added, none removed or retyped):
 *
 *   {"format": 1,
 *    "generated_at": "2025-01-09T08:00:00Z",
 *    "database": {
 *       "kind": "postgresql" | "sqlite",
 *       "url": "postgresql://u:***@h:5432/db",          (always redacted)
 *       "server_version": "PostgreSQL 15.20",
 *       "size_bytes": N,
 *       "table_sizes_from": "catalog" | "dbstat" | "page_count",
 *       "tables": [{"name": "appointments", "rows": N, "rows_estimated": false,
 *                   "size_bytes": N | null}, ...],            (sorted by name)
 *       "connections": [{"pid": N, "user": "…", "application": "…",
 *                        "client": "…", "state": "active", "age_seconds": N,
 *                        "state_age_seconds": N | null}, ...] | null,  (PostgreSQL)
 *       "files": {"path": "…", "database_bytes": N, "wal_bytes": N,
 *                 "shm_bytes": N} | null                                (SQLite)
 *    },
 *    "backups": {                                  (ops_backup_facts_json)
 *       "dir": "…", "exists": true, "count": N, "size_bytes": N,
 *       "volume": {"total_bytes": N, "free_bytes": N, "used_bytes": N} | null,
 *       "newest_good": BACKUP | null, "max_age_hours": 26, "stale": false,
 *       "tiers": {"daily": {"count": N, "size_bytes": N, "newest": BACKUP | null,
 *                           "newest_good": BACKUP | null,
 *                           "last_run": {"ok": true, "time": "…Z", "seconds": 1.2,
 *                                        "bytes": N, "error": null} | null}, ...}}}
 *   BACKUP = {"file", "path", "tier", "time" (UTC), "age_seconds", "size_bytes",
 *             "duration_seconds" (or null), "good"}
 *
 * Row counts are exact (count(*)), except PostgreSQL tables the catalog
 * estimates at a million rows or more, which give the statistics' live-row
 * estimate and "rows_estimated": true (counting them would take long).
 * SQLite table sizes come from the dbstat virtual table (tables with their
 * indexes); without it, only the database's page count is known.
 */
#ifndef CITAPLANNER_OPS_STATS_H
#define CITAPLANNER_OPS_STATS_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "config/config.h"
#include "db/db.h"

/*
 * Build the report from db and cfg's BACKUP_DIR as of now.  *out: caller
 * owns the reference.  Errors: the database's, -ERR_IO from the backup
 * directory.
 */
int ops_stats_collect(struct db *db, const struct config *cfg, time_t now, json_t **out,
                      struct err *e);

/* The database's size in bytes (PostgreSQL: pg_database_size; SQLite: pages x page size). */
int ops_db_size(struct db *db, int64_t *out, struct err *e);

#endif
