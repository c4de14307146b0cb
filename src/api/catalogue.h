/*
 * catalogue — the handlers of the first half of the booking API (SPEC §8):
 * authentication (auth.c), and the resources a salon's staff manage before
 * any appointment exists: the tenant, its branches, users, services (and
 * who offers them), clients and working hours.  Their routes are listed in
 * routes_catalogue.c.
 *
 * Every handler starts with api_auth_require() (auth.h), which answers 401
 * or 403 itself, so the role matrix lives in one table; then validates its
 * input (validate.h); then runs queries that all carry "tenant_id = $N"
 * with the session's tenant, so that another tenant's id is simply not
 * found (404).  Deleting a row that an appointment refers to deactivates it
 * instead (active = false) and answers {"deactivated": true, ...}.
 */
#ifndef CITAPLANNER_API_CATALOGUE_H
#define CITAPLANNER_API_CATALOGUE_H

#include <stdbool.h>
#include <stdint.h>

#include "api/auth.h"
#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

/* What a user or a tenant shows of itself (api_row_json() types beside the columns). */
#define API_USER_COLUMNS                                                                           \
    "id, tenant_id, branch_id, email, first_name, last_name, phone, role, active, created_at, "    \
    "updated_at"
#define API_USER_TYPES "iiisssssbtt"
#define API_TENANT_COLUMNS                                                                         \
    "id, name, email, phone, address, city, country, timezone, currency, created_at, updated_at, " \
    "default_country_code"
#define API_TENANT_TYPES "isssssssstts"

/* What the resources share (the role matrix, lists, get, create, PATCH,
 * delete-or-deactivate) is driven by their descriptors: see resource.h. */

/* auth.c: POST /auth/login, POST /auth/logout, GET /auth/me,
 * POST /admin/login, POST /admin/logout. */
int api_auth_login(struct http_req *req, struct err *e);
int api_auth_logout(struct http_req *req, struct err *e);
int api_auth_me(struct http_req *req, struct err *e);
int api_admin_login(struct http_req *req, struct err *e);
int api_admin_logout(struct http_req *req, struct err *e);

/* tenant.c: GET /tenant, PATCH /tenant. */
int api_tenant_get(struct http_req *req, struct err *e);
int api_tenant_update(struct http_req *req, struct err *e);

/* branches.c: /branches, /branches/{id}. */
int api_branches_list(struct http_req *req, struct err *e);
int api_branches_get(struct http_req *req, struct err *e);
int api_branches_create(struct http_req *req, struct err *e);
int api_branches_update(struct http_req *req, struct err *e);
int api_branches_delete(struct http_req *req, struct err *e);

/* users.c: /users, /users/{id}. */
int api_users_list(struct http_req *req, struct err *e);
int api_users_get(struct http_req *req, struct err *e);
int api_users_create(struct http_req *req, struct err *e);
int api_users_update(struct http_req *req, struct err *e);
int api_users_delete(struct http_req *req, struct err *e);
/* POST /users/{id}/password {password}: an ADMIN of the tenant (the master admin: any user)
 * sets it; every session of that user ends; 204. */
int api_users_set_password(struct http_req *req, struct err *e);

/* services.c: /services, /services/{id}, /services/{id}/professionals. */
int api_services_list(struct http_req *req, struct err *e);
int api_services_get(struct http_req *req, struct err *e);
int api_services_create(struct http_req *req, struct err *e);
int api_services_update(struct http_req *req, struct err *e);
int api_services_delete(struct http_req *req, struct err *e);
int api_services_professionals_get(struct http_req *req, struct err *e);
int api_services_professionals_put(struct http_req *req, struct err *e);

/* clients.c: /clients (?q=), /clients/{id}. */
int api_clients_list(struct http_req *req, struct err *e);
int api_clients_get(struct http_req *req, struct err *e);
int api_clients_create(struct http_req *req, struct err *e);
int api_clients_update(struct http_req *req, struct err *e);
int api_clients_delete(struct http_req *req, struct err *e);

/* working_hours.c: /working-hours (GET list, PUT a whole set), /working-hours/{id}. */
int api_working_hours_list(struct http_req *req, struct err *e);
int api_working_hours_get(struct http_req *req, struct err *e);
int api_working_hours_create(struct http_req *req, struct err *e);
int api_working_hours_replace(struct http_req *req, struct err *e);
int api_working_hours_update(struct http_req *req, struct err *e);
int api_working_hours_delete(struct http_req *req, struct err *e);

/* client_history.c: GET /clients/{id}/history (see there) */
int api_clients_history(struct http_req *req, struct err *e);

/* time_off.c: /api/v1/time-off (see there) */
int api_time_off_list(struct http_req *req, struct err *e);
int api_time_off_create(struct http_req *req, struct err *e);
int api_time_off_delete(struct http_req *req, struct err *e);

#endif
