/*
 * The booking routes (see api.h, booking.h): appointments, availability,
 * payments.  Within a resource: list, get, create, update, then actions.
 */
#include "api/api.h"
#include "api/booking.h"

const struct http_route api_booking_routes[] = {
    {"GET", "/api/v1/appointments", api_appointments_list, 0},
    {"GET", "/api/v1/appointments/{id}", api_appointments_get, 0},
    {"POST", "/api/v1/appointments", api_appointments_create, 0},
    {"PATCH", "/api/v1/appointments/{id}", api_appointments_update, 0},
    {"POST", "/api/v1/appointments/{id}/cancel", api_appointments_cancel, 0},
    {"POST", "/api/v1/appointments/{id}/uncancel", api_appointments_uncancel, 0},
    {"GET", "/api/v1/agenda", api_agenda_get, 0},
    {"GET", "/api/v1/availability", api_availability_get, 0},
    {"GET", "/api/v1/payments", api_payments_list, 0},
    {"GET", "/api/v1/payments/{id}", api_payments_get, 0},
    {"POST", "/api/v1/payments", api_payments_create, 0},
    {NULL, NULL, NULL, 0},
};
