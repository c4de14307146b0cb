/*
 * The catalogue routes (see api.h, catalogue.h): authentication, then one
 * block per resource in the order list, get, create, update, delete.
 * Every handler authenticates and checks the role matrix itself
 * (api_auth_require), except the two logins, which are public.
 */
#include "api/api.h"
#include "api/catalogue.h"

const struct http_route api_catalogue_routes[] = {
    {"POST", "/api/v1/auth/login", api_auth_login, HTTP_ROUTE_PUBLIC},
    {"POST", "/api/v1/auth/logout", api_auth_logout, 0},
    {"GET", "/api/v1/auth/me", api_auth_me, 0},
    {"POST", "/api/v1/admin/login", api_admin_login, HTTP_ROUTE_PUBLIC},
    {"POST", "/api/v1/admin/logout", api_admin_logout, 0},

    {"GET", "/api/v1/tenant", api_tenant_get, 0},
    {"PATCH", "/api/v1/tenant", api_tenant_update, 0},

    {"GET", "/api/v1/branches", api_branches_list, 0},
    {"GET", "/api/v1/branches/{id}", api_branches_get, 0},
    {"POST", "/api/v1/branches", api_branches_create, 0},
    {"PATCH", "/api/v1/branches/{id}", api_branches_update, 0},
    {"DELETE", "/api/v1/branches/{id}", api_branches_delete, 0},

    {"GET", "/api/v1/users", api_users_list, 0},
    {"GET", "/api/v1/users/{id}", api_users_get, 0},
    {"POST", "/api/v1/users", api_users_create, 0},
    {"PATCH", "/api/v1/users/{id}", api_users_update, 0},
    {"DELETE", "/api/v1/users/{id}", api_users_delete, 0},
    {"POST", "/api/v1/users/{id}/password", api_users_set_password, 0},

    {"GET", "/api/v1/services", api_services_list, 0},
    {"GET", "/api/v1/services/{id}", api_services_get, 0},
    {"POST", "/api/v1/services", api_services_create, 0},
    {"PATCH", "/api/v1/services/{id}", api_services_update, 0},
    {"DELETE", "/api/v1/services/{id}", api_services_delete, 0},
    {"GET", "/api/v1/services/{id}/professionals", api_services_professionals_get, 0},
    {"PUT", "/api/v1/services/{id}/professionals", api_services_professionals_put, 0},

    {"GET", "/api/v1/clients", api_clients_list, 0},
    {"GET", "/api/v1/clients/{id}", api_clients_get, 0},
    {"POST", "/api/v1/clients", api_clients_create, 0},
    {"PATCH", "/api/v1/clients/{id}", api_clients_update, 0},
    {"DELETE", "/api/v1/clients/{id}", api_clients_delete, 0},
    {"GET", "/api/v1/clients/{id}/history", api_clients_history, 0},

    {"GET", "/api/v1/working-hours", api_working_hours_list, 0},
    {"GET", "/api/v1/working-hours/{id}", api_working_hours_get, 0},
    {"POST", "/api/v1/working-hours", api_working_hours_create, 0},
    {"PUT", "/api/v1/working-hours", api_working_hours_replace, 0},
    {"PATCH", "/api/v1/working-hours/{id}", api_working_hours_update, 0},
    {"DELETE", "/api/v1/working-hours/{id}", api_working_hours_delete, 0},
    {"GET", "/api/v1/time-off", api_time_off_list, 0},
    {"POST", "/api/v1/time-off", api_time_off_create, 0},
    {"DELETE", "/api/v1/time-off/{id}", api_time_off_delete, 0},

    {NULL, NULL, NULL, 0},
};
