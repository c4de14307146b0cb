/*
 * verify_results — what the latest verifications found, kept in
 * BACKUP_DIR/.verify_results.json so that a page reloaded (or another
 * master's) still shows it:
 *   {"format": 1, "last": {"at": "YYYY-MM-DDTHH:MM:SSZ", "ok": N, "damaged": N,
 *                          "failed": N},
 *    "backups": {NAME: {"at": …, "ok": b, "error": "…" (when not ok)}, …}}
 * "last" is the latest run; "backups" the latest outcome of each backup
 * (a run of some files keeps the others' older outcomes; names no longer
 * in BACKUP_DIR are dropped when written).
 */
#ifndef CITAPLANNER_BACKUP_VERIFY_RESULTS_H
#define CITAPLANNER_BACKUP_VERIFY_RESULTS_H

#include <jansson.h>
#include <time.h>

/*
 * Record a run finished at `when`: results (backup_verify_result_json
 * objects: "name", "ok", "error"), passed, damaged and failed counts.
 * Errors are logged at debug (the verification itself stands).
 */
void backup_verify_results_record(const char *dir, time_t when, const json_t *results, int passed,
                                  int damaged, int failed);

/* The record, or NULL when none (or unreadable).  New reference. */
json_t *backup_verify_results_load(const char *dir);

#endif
