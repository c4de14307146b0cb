/*
 * The money routes (see money.h): discounts, refunds, deposits kept, what
 * an appointment owes, and the discount limits of the roles.
 */
#include "api/api.h"
#include "api/money.h"

const struct http_route api_money_routes[] = {
    {"GET", "/api/v1/appointments/{id}/money", api_money_appointment, 0},
    {"POST", "/api/v1/appointments/{id}/discount", api_money_discount, 0},
    {"POST", "/api/v1/payments/{id}/refunds", api_money_refund, 0},
    {"POST", "/api/v1/payments/{id}/retain", api_money_retain, 0},
    {"GET", "/api/v1/discount-limits", api_money_limits_get, 0},
    {"PUT", "/api/v1/discount-limits", api_money_limits_put, 0},
    {NULL, NULL, NULL, 0},
};
