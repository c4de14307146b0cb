/*
 * admin — the master admin's operations API (SPEC §8, issue 8) and the
 * Prometheus endpoint.  Routes in routes_admin.c.
 *
 *   GET  /metrics                          Prometheus text 0.0.4 (public, like /healthz:
 *                                          scrapers carry no session; no secret in it)
 *   GET  /api/v1/admin/backups             {"items": [BACKUP…], "next_cursor": null,
 *                                           "backup_dir", "count", "tiers": {tier: N}}
 *   POST /api/v1/admin/backups             body optional: {"tier": "auto"|"daily"|…};
 *                                          202 {"job": JOB} + Location, or 409
 *                                          "job_running" while a job of this process runs
 *   POST /api/v1/admin/backups/verify      body optional: {"files": ["citaplanner_…gz"]}
 *                                          (default: every backup); 202 {"job": JOB} or 409
 *   GET  /api/v1/admin/backups/jobs/{id}   {"job": JOB}; 404 for an unknown id
 *   GET  /api/v1/admin/stats               the `stats` object (ops/stats.h)
 *
 * JOB = {"id", "kind": "backup"|"verify", "status": "running"|"succeeded"|"failed",
 *        "error": null | "…", "created_at", "finished_at": null | "…",
 *        "result": null | {…}}
 *   backup result: {"tiers": […], "files": {tier: path}, "bytes": {"compressed",
 *                   "uncompressed"}, "sha256", "seconds", "rotated"}
 *   verify result: {"checked": N, "failed": N, "files": [{"file", "tier", "ok",
 *                   "error": null | "…"}]}
 * A job runs on its own thread with its own connections (backup_take,
 * backup_verify_file), one at a time per process; across processes the
 * backup directory's lock decides, and a locked-out backup job ends
 * "failed" with "another backup or restore is running (pid N)".
 * The last 32 jobs are remembered (in this process only).
 *
 * Every admin call needs a master admin session (api_auth_require with
 * "admin_backups" / "admin_stats": staff sessions get 403, anonymous calls
 * 401) and is logged ("admin: …") with the caller's address.
 */
#ifndef CITAPLANNER_API_ADMIN_H
#define CITAPLANNER_API_ADMIN_H

#include "common/err.h"
#include "http/request.h"

int api_metrics(struct http_req *req, struct err *e);
int api_admin_backups_list(struct http_req *req, struct err *e);
int api_admin_backups_run(struct http_req *req, struct err *e);
int api_admin_backups_verify(struct http_req *req, struct err *e);
int api_admin_backups_job(struct http_req *req, struct err *e);
int api_admin_stats(struct http_req *req, struct err *e);

#endif
