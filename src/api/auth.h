/*
 * auth — who is calling, and may they do this?  Sessions (SPEC §8), the
 * master admin, and the role matrix of SPEC §8 in ONE table (auth.c):
 * resource x action -> the roles allowed.  Handlers never compare roles
 * themselves: they call api_auth_require() first.
 *
 *   struct api_auth a;
 *   if (api_auth_require(req, "clients", API_ACT_CREATE, &a) < 0)
 *       return 0;                     // already answered 401/403
 *   ... every query scoped by a.tenant_id ...
 *
 * Authentication: "Authorization: Bearer TOKEN" or the session cookie.
 * A request authenticated by cookie that changes data (POST, PUT, PATCH,
 * DELETE) must carry the CSRF defence (see auth.c), else 403: the header
 * X-CSRF-Token holding the "csrf_token" that /auth/login and /auth/me
 * return (hex HMAC-SHA256 of the session token under the session secret).
 * Bearer requests are exempt: a browser never adds that header itself.
 * Sessions are stored as SHA-256(token) in `sessions`, expire after 12 h of
 * inactivity (sliding).  Master admin sessions (user_id NULL) reach only
 * resources whose name starts with "admin".
 */
#ifndef CITAPLANNER_API_AUTH_H
#define CITAPLANNER_API_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

enum api_role {
    API_ROLE_ADMIN = 1 << 0,
    API_ROLE_MANAGER = 1 << 1,
    API_ROLE_PROFESSIONAL = 1 << 2,
    API_ROLE_RECEPTIONIST = 1 << 3,
    API_ROLE_MASTER = 1 << 4, /* the master admin (no tenant) */
};

enum api_action {
    API_ACT_READ,
    API_ACT_CREATE,
    API_ACT_UPDATE,
    API_ACT_DELETE,
};

struct api_auth {
    enum api_role role;
    int64_t user_id;   /* 0 for the master admin */
    int64_t tenant_id; /* 0 for the master admin */
    int64_t branch_id; /* 0 when none */
    int64_t session_id;
    bool via_cookie;
};

/*
 * Authenticate the request and check the role matrix for (resource, action).
 * Returns 0 with *out filled, or a negative value after answering the
 * request itself (401 no/expired session, 403 role or CSRF, 503 database).
 * Resources: "tenant", "branches", "users", "services", "clients",
 * "working_hours", "appointments", "payments", "availability",
 * "online_booking", "discounts", "discount_limits", "admin_backups", "admin_stats".
 */
int api_auth_require(struct http_req *req, const char *resource, enum api_action action,
                     struct api_auth *out);

/*
 * Authenticate only, without the role matrix (for /auth/logout, /auth/me):
 * the session, its expiry and the CSRF rule, as api_auth_require().
 * Returns 0 with *out filled, or a negative value after answering.
 */
int api_auth_session(struct http_req *req, struct api_auth *out);

/*
 * Does the role matrix let role do action on resource?  The same table
 * api_auth_require() reads.  Besides the resources above, "users_self" is
 * what any staff member may do with their own user row (read it; update
 * their name, phone and password).
 */
bool api_auth_allowed(enum api_role role, const char *resource, enum api_action action);

/* "ADMIN" ... for a role; "MASTER" for the master admin. */
const char *api_role_name(enum api_role role);

/* Parse "ADMIN"/"MANAGER"/"PROFESSIONAL"/"RECEPTIONIST"; -1 when unknown. */
int api_role_parse(const char *s, enum api_role *out);

/*
 * End every session of a user except keep_session_id (0 = end all): after
 * a password change or a deactivation.
 */
int api_auth_end_user_sessions(struct db *db, int64_t user_id, int64_t keep_session_id,
                               struct err *e);

#endif
