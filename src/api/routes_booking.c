/* The booking routes (see api.h); rows arrive with their resources. */
#include "api/api.h"

const struct http_route api_booking_routes[] = {
    {NULL, NULL, NULL, 0},
};
