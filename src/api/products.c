/*
 * products — /api/v1/products: what a salon sells over the counter (SKU
 * unique per tenant, price and cost in integer cents, the low-stock
 * threshold, an optional commission percentage for the professional who
 * sells it).  Through the catalogue's descriptor (resource.h); a product
 * with stock movements is deactivated rather than deleted.
 */
#include "api/money.h"
#include "api/resource.h"

#define PRICE_MAX 100000000000LL

static const struct api_field product_fields[] = {
    {"sku", API_T_STRING, API_REQUIRED, 1, 64, NULL},
    {"name", API_T_STRING, API_REQUIRED, 1, 200, NULL},
    {"price_cents", API_T_INT, API_REQUIRED, 0, PRICE_MAX, NULL},
    {"cost_cents", API_T_INT, 0, 0, PRICE_MAX, NULL},
    {"low_stock_threshold", API_T_INT, 0, 0, 1000000, NULL},
    {"commission_pct", API_T_INT, 0, 0, 100, NULL},
    {"active", API_T_BOOL, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

static const struct api_resource products = {
    .right = "products",
    .table = "products",
    .columns = "id, tenant_id, sku, name, price_cents, cost_cents, low_stock_threshold, "
               "commission_pct, active, created_at, updated_at",
    .types = "iissiiiibtt",
    .what = "product",
    .fields = product_fields,
    .unique = "sku",
    .a_what = "a product",
    .filters = api_filters_active,
    .refs_sql = "SELECT 1 FROM stock_movements WHERE product_id = $1 AND tenant_id = $2",
};

int api_products_list(struct http_req *req, struct err *e)
{
    return api_resource_list(req, &products, e);
}

int api_products_get(struct http_req *req, struct err *e)
{
    return api_resource_get(req, &products, e);
}

int api_products_create(struct http_req *req, struct err *e)
{
    return api_resource_create(req, &products, e);
}

int api_products_update(struct http_req *req, struct err *e)
{
    return api_resource_update(req, &products, e);
}

int api_products_delete(struct http_req *req, struct err *e)
{
    return api_resource_delete(req, &products, e);
}
