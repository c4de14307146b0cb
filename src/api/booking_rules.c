/* booking_rules — see booking_rules.h. */
#include "api/booking_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/api.h"
#include "common/hash.h"
#include "common/util.h"

/* Rate-limit rows older than this are dropped now and then. */
#define RATE_KEEP_S (2 * 86400)

#define RULES_COLS                                                                                 \
    "r.enabled, r.min_notice_min, r.horizon_days, r.step_min, r.initial_status, "                  \
    "r.cancel_cutoff_min, r.message, r.color, r.frame_ancestors, r.default_country, "              \
    "r.limit_bookings_per_address_hour, r.limit_bookings_per_phone_day, "                          \
    "r.limit_lookups_per_address_min"

static void rules_defaults(struct online_rules *r)
{
    memset(r, 0, sizeof(*r));
    r->enabled = false;
    r->min_notice_min = 120;
    r->horizon_days = 60;
    r->step_min = 15;
    r->cancel_cutoff_min = 1440;
    snprintf(r->initial_status, sizeof(r->initial_status), "PENDING");
    snprintf(r->color, sizeof(r->color), "#7c3aed");
    snprintf(r->default_cc, sizeof(r->default_cc), "52");
    r->frame_ancestors = xstrdup("");
    r->limit_book_addr_hour = 20;
    r->limit_book_phone_day = 5;
    r->limit_lookup_addr_min = 120;
}

/* The rules from the columns RULES_COLS starting at col (NULL enabled: no row, defaults). */
static void rules_from_row(const struct db_res *res, int col, struct online_rules *r)
{
    const char *t;

    rules_defaults(r);
    if (db_res_isnull(res, col))
        return;
    r->enabled = db_res_bool(res, col);
    r->min_notice_min = (int)db_res_int(res, col + 1);
    r->horizon_days = (int)db_res_int(res, col + 2);
    r->step_min = (int)db_res_int(res, col + 3);
    snprintf(r->initial_status, sizeof(r->initial_status), "%s",
             db_res_text(res, col + 4) ? db_res_text(res, col + 4) : "PENDING");
    r->cancel_cutoff_min = (int)db_res_int(res, col + 5);
    t = db_res_text(res, col + 6);
    r->message = t != NULL && *t != '\0' ? xstrdup(t) : NULL;
    snprintf(r->color, sizeof(r->color), "%s",
             db_res_text(res, col + 7) ? db_res_text(res, col + 7) : "#7c3aed");
    free(r->frame_ancestors);
    r->frame_ancestors = xstrdup(db_res_text(res, col + 8) ? db_res_text(res, col + 8) : "");
    snprintf(r->default_cc, sizeof(r->default_cc), "%s",
             db_res_text(res, col + 9) ? db_res_text(res, col + 9) : "52");
    r->limit_book_addr_hour = (int)db_res_int(res, col + 10);
    r->limit_book_phone_day = (int)db_res_int(res, col + 11);
    r->limit_lookup_addr_min = (int)db_res_int(res, col + 12);
}

int online_rules_load(struct db *db, int64_t tenant_id, struct online_rules *out, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    rules_defaults(out);
    rc = db_query(db, "SELECT " RULES_COLS " FROM online_booking_rules r WHERE r.tenant_id = $1",
                  DB_PARAMS(DB_INT(tenant_id)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r)) {
        online_rules_release(out);
        rules_from_row(r, 0, out);
    }

cleanup:
    db_res_free(r);
    return rc;
}

void online_rules_release(struct online_rules *r)
{
    free(r->message);
    free(r->frame_ancestors);
    r->message = NULL;
    r->frame_ancestors = NULL;
}

json_t *online_rules_json(const struct online_rules *r)
{
    json_t *fa = json_array();
    char *copy = xstrdup(r->frame_ancestors ? r->frame_ancestors : "");
    char *save = NULL;

    for (char *tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
        json_array_append_new(fa, json_string(tok));
    free(copy);
    return json_pack(
        "{s:b, s:i, s:i, s:i, s:s, s:i, s:o, s:s, s:o, s:s, s:i, s:i, s:i}", "enabled", r->enabled,
        "min_notice_min", r->min_notice_min, "horizon_days", r->horizon_days, "step_min",
        r->step_min, "initial_status", r->initial_status, "cancel_cutoff_min", r->cancel_cutoff_min,
        "message", r->message ? json_string(r->message) : json_null(), "color", r->color,
        "frame_ancestors", fa, "default_country", r->default_cc, "limit_bookings_per_address_hour",
        r->limit_book_addr_hour, "limit_bookings_per_phone_day", r->limit_book_phone_day,
        "limit_lookups_per_address_min", r->limit_lookup_addr_min);
}

#define BRANCH_SQL                                                                                 \
    "SELECT t.id, b.id, t.slug, b.slug, t.name, b.name, COALESCE(b.address, t.address), "          \
    "COALESCE(b.phone, t.phone), COALESCE(b.timezone, t.timezone), t.currency, " RULES_COLS        \
    " FROM tenants t JOIN branches b ON b.tenant_id = t.id "                                       \
    "LEFT JOIN online_booking_rules r ON r.tenant_id = t.id "

static char *text_dup(const struct db_res *r, int col)
{
    return xstrdup(db_res_text(r, col) ? db_res_text(r, col) : "");
}

static int branch_query(struct db *db, const char *sql, int n, const struct db_param *p,
                        struct online_branch *out, struct err *e)
{
    struct db_res *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = db_query(db, sql, n, p, &r, e);
    if (rc < 0)
        goto cleanup;
    rc = 0;
    if (!db_res_next(r))
        goto cleanup;
    out->tenant_id = db_res_int(r, 0);
    out->branch_id = db_res_int(r, 1);
    snprintf(out->tenant_slug, sizeof(out->tenant_slug), "%s",
             db_res_text(r, 2) ? db_res_text(r, 2) : "");
    snprintf(out->branch_slug, sizeof(out->branch_slug), "%s",
             db_res_text(r, 3) ? db_res_text(r, 3) : "");
    out->tenant_name = text_dup(r, 4);
    out->branch_name = text_dup(r, 5);
    out->address = text_dup(r, 6);
    out->phone = text_dup(r, 7);
    snprintf(out->tz, sizeof(out->tz), "%s", db_res_text(r, 8) ? db_res_text(r, 8) : "UTC");
    snprintf(out->currency, sizeof(out->currency), "%s",
             db_res_text(r, 9) ? db_res_text(r, 9) : "MXN");
    rules_from_row(r, 10, &out->rules);
    rc = 1;

cleanup:
    db_res_free(r);
    return rc;
}

int online_branch_load(struct db *db, const char *tenant_slug, const char *branch_slug,
                       struct online_branch *out, struct err *e)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (!online_slug_valid(tenant_slug) || !online_slug_valid(branch_slug))
        return 0;
    rc = branch_query(db, BRANCH_SQL "WHERE t.slug = $1 AND b.slug = $2 AND b.active",
                      DB_PARAMS(DB_TEXT(tenant_slug), DB_TEXT(branch_slug)), out, e);
    if (rc == 1 && !out->rules.enabled) {
        online_branch_release(out);
        rc = 0;
    }
    return rc;
}

int online_branch_load_id(struct db *db, int64_t tenant_id, int64_t branch_id,
                          struct online_branch *out, struct err *e)
{
    return branch_query(db, BRANCH_SQL "WHERE t.id = $1 AND b.id = $2",
                        DB_PARAMS(DB_INT(tenant_id), DB_INT(branch_id)), out, e);
}

void online_branch_release(struct online_branch *b)
{
    free(b->tenant_name);
    free(b->branch_name);
    free(b->address);
    free(b->phone);
    online_rules_release(&b->rules);
    b->tenant_name = b->branch_name = b->address = b->phone = NULL;
}

bool online_slug_valid(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strlen(s);
    if (n < 1 || n > 50 || s[0] == '-' || s[n - 1] == '-')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

void online_sha256_hex(const char *s, char out[65])
{
    hash_sha256_hex(s, strlen(s), out);
}

int online_token_new(char out[44], struct err *e)
{
    static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33] = {0};
    size_t n = 0;

    if (RAND_bytes(raw, 32) != 1)
        return err_set(e, ERR_INTERNAL, "no random bytes for a manage token");
    /* 32 bytes = 256 bits; 43 characters of 6 bits (the last holds 4 of them). */
    for (size_t i = 0; i < 33 && n < 43; i += 3) {
        uint32_t v = ((uint32_t)raw[i] << 16) | ((uint32_t)raw[i + 1] << 8) | raw[i + 2];
        for (int k = 3; k >= 0 && n < 43; k--)
            out[n++] = b64u[(v >> (6 * k)) & 63];
    }
    out[n] = '\0';
    secure_zero(raw, sizeof(raw));
    return 0;
}

int online_rate_hit(struct db *db, const char *kind, const char *scope, int64_t window_s, int limit,
                    bool *over, struct err *e)
{
    char *plain = xasprintf("%s:%s", kind, scope);
    char bucket[65];
    int64_t now = (int64_t)time(NULL), window = now - now % window_s, hits = 0;
    int rc;

    *over = false;
    online_sha256_hex(plain, bucket);
    rc =
        db_query_int(db,
                     "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) "
                     "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
                     "RETURNING hits",
                     DB_PARAMS(DB_TEXT(bucket), DB_INT(window)), &hits, e);
    if (rc < 0)
        goto cleanup;
    *over = hits > limit;
    if (hits == 1 && now % 16 == 0) /* now and then, not on every request */
        rc = db_exec_params(db, "DELETE FROM rate_limits WHERE window_start < $1",
                            DB_PARAMS(DB_INT(now - RATE_KEEP_S)), NULL, e);

cleanup:
    free(plain);
    return rc < 0 ? rc : 0;
}

int online_reply_limited(struct http_req *req, int64_t retry_s, struct err *e)
{
    char v[24];

    snprintf(v, sizeof(v), "%lld", (long long)retry_s);
    http_set_header(req, "Retry-After", v);
    http_reply_error(req, 429, "rate_limited", NULL,
                     "too many requests from here: try again in %lld seconds", (long long)retry_s);
    return err_set(e, ERR_USAGE, "rate limited");
}

int online_lookup_limit(struct http_req *req, struct db *db, const struct online_branch *b,
                        struct err *e)
{
    char scope[128], addr[64];
    bool over = false;
    int rc;

    api_client_addr(req, addr, sizeof(addr)); /* behind TRUSTED_PROXIES, the real client */
    snprintf(scope, sizeof(scope), "%lld:%s", (long long)b->tenant_id, addr);
    rc = online_rate_hit(db, "lookup", scope, 60, b->rules.limit_lookup_addr_min, &over, e);
    if (rc == 0 && over)
        rc = online_reply_limited(req, 60, e);
    return rc;
}
