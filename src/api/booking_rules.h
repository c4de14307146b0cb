/*
 * booking_rules — what the public booking API (public_booking.c,
 * public_manage.c) and its settings screen (online_settings.c) share:
 * the branch behind a link /b/{tenant-slug}/{branch-slug}, the tenant's
 * booking rules (table online_booking_rules; defaults when it has no row,
 * with online booking off), the counters of the abuse limits, and the
 * hashes of the secrets the public holds (manage tokens, Idempotency-Keys).
 */
#ifndef CITAPLANNER_API_BOOKING_RULES_H
#define CITAPLANNER_API_BOOKING_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "db/db.h"
#include "http/request.h"

/* The rules of one tenant. */
struct online_rules {
    bool enabled;
    int min_notice_min, horizon_days, step_min, cancel_cutoff_min;
    char initial_status[16];   /* PENDING or CONFIRMED */
    char color[8];             /* "#rrggbb" */
    char default_cc[4];        /* the country calling code of a national number */
    char *message;             /* shown before confirming; NULL: none */
    char *frame_ancestors;     /* origins that may frame the page, space-separated; "" none */
    int limit_book_addr_hour;  /* bookings per address per hour */
    int limit_book_phone_day;  /* bookings per phone number per day */
    int limit_lookup_addr_min; /* other public requests per address per minute */
};

/* One branch reached by its link, with its tenant. */
struct online_branch {
    int64_t tenant_id, branch_id;
    char tenant_slug[64], branch_slug[64];
    char *tenant_name, *branch_name, *address, *phone;
    char tz[64], currency[4];
    struct online_rules rules;
};

/* The SELECT list and defaults of the rules (for the settings screen too). */
int online_rules_load(struct db *db, int64_t tenant_id, struct online_rules *out, struct err *e);
void online_rules_release(struct online_rules *r);
json_t *online_rules_json(const struct online_rules *r);

/*
 * The active branch of the link whose tenant has online booking on.
 * 1 found (out filled: online_branch_release), 0 not (nothing told apart:
 * no such tenant, branch, or booking off), negative on a database error.
 */
int online_branch_load(struct db *db, const char *tenant_slug, const char *branch_slug,
                       struct online_branch *out, struct err *e);
/* The same for a branch id of a tenant (the manage link), whether booking is on or off. */
int online_branch_load_id(struct db *db, int64_t tenant_id, int64_t branch_id,
                          struct online_branch *out, struct err *e);
void online_branch_release(struct online_branch *b);

/* Is s a slug: 1-50 of a-z 0-9 '-', not starting or ending with '-'? */
bool online_slug_valid(const char *s);

/* Hex SHA-256 of s (65 bytes with the NUL). */
void online_sha256_hex(const char *s, char out[65]);

/* A new manage token: 32 random bytes as 43 base64url characters (44 with the NUL). */
int online_token_new(char out[44], struct err *e);

/*
 * Count one hit in the bucket `kind:scope` (hashed: no address or phone
 * number is stored) for the current window of window_s seconds; *over is
 * true when the window now holds more than limit hits.
 */
int online_rate_hit(struct db *db, const char *kind, const char *scope, int64_t window_s, int limit,
                    bool *over, struct err *e);

/*
 * The per-address limit on lookups of the public API: answers 429
 * rate_limited itself and returns a negative code when over.
 */
int online_lookup_limit(struct http_req *req, struct db *db, const struct online_branch *b,
                        struct err *e);

/* Answer 429 rate_limited (Retry-After: retry_s) and return a negative code. */
int online_reply_limited(struct http_req *req, int64_t retry_s, struct err *e);

#endif
