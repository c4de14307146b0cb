/*
 * The public routes (see public.h): no session; every one of them is
 * scoped by the link's slugs or by the manage token.
 */
#include "api/api.h"
#include "api/public.h"

#define P HTTP_ROUTE_PUBLIC

const struct http_route api_public_routes[] = {
    {"GET", "/api/v1/public/b/{tenant}/{branch}", api_public_branch, P},
    {"GET", "/api/v1/public/b/{tenant}/{branch}/services", api_public_services, P},
    {"GET", "/api/v1/public/b/{tenant}/{branch}/professionals", api_public_professionals, P},
    {"GET", "/api/v1/public/b/{tenant}/{branch}/times", api_public_times, P},
    {"POST", "/api/v1/public/b/{tenant}/{branch}/bookings", api_public_book, P},
    {"GET", "/api/v1/public/manage", api_public_manage_get, P},
    {"GET", "/api/v1/public/manage/times", api_public_manage_times, P},
    {"POST", "/api/v1/public/manage/reschedule", api_public_manage_reschedule, P},
    {"POST", "/api/v1/public/manage/cancel", api_public_manage_cancel, P},
    {NULL, NULL, NULL, 0},
};
