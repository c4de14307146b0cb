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
    {"GET", "/api/v1/products", api_products_list, 0},
    {"GET", "/api/v1/products/{id}", api_products_get, 0},
    {"POST", "/api/v1/products", api_products_create, 0},
    {"PATCH", "/api/v1/products/{id}", api_products_update, 0},
    {"DELETE", "/api/v1/products/{id}", api_products_delete, 0},
    {"GET", "/api/v1/sales", api_sales_list, 0},
    {"GET", "/api/v1/sales/{id}", api_sales_get, 0},
    {"POST", "/api/v1/sales", api_sales_create, 0},
    {"GET", "/api/v1/stock", api_stock_get, 0},
    {"POST", "/api/v1/stock-movements", api_stock_move, 0},
    {"GET", "/api/v1/money-settings", api_money_settings_get, 0},
    {"PUT", "/api/v1/money-settings", api_money_settings_put, 0},
    {"GET", "/api/v1/cash-close", api_cash_day, 0},
    {"GET", "/api/v1/cash-closes/{id}", api_cash_close_get, 0},
    {"POST", "/api/v1/cash-closes", api_cash_close, 0},
    {"GET", "/api/v1/commissions", api_commissions_list, 0},
    {"POST", "/api/v1/commissions/pay", api_commissions_pay, 0},
    {"GET", "/api/v1/reports/{name}", api_reports_get, 0},
    {NULL, NULL, NULL, 0},
};
