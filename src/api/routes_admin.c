/* The admin routes and /metrics (see api.h, admin.h). */
#include "api/admin.h"
#include "api/api.h"

const struct http_route api_admin_routes[] = {
    {"GET", "/metrics", api_metrics, HTTP_ROUTE_QUIET | HTTP_ROUTE_PUBLIC},
    {"GET", "/api/v1/admin/backups", api_admin_backups_list, 0},
    {"POST", "/api/v1/admin/backups", api_admin_backups_run, 0},
    {"POST", "/api/v1/admin/backups/verify", api_admin_backups_verify, 0},
    {"GET", "/api/v1/admin/backups/jobs/{id}", api_admin_backups_job, 0},
    {"GET", "/api/v1/admin/stats", api_admin_stats, 0},
    {NULL, NULL, NULL, 0},
};
