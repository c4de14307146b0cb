/*
 * auth — see auth.h.  Sessions, the role matrix, the failed-login limiter,
 * and the handlers of /auth/login, /auth/logout, /auth/me, /admin/login and
 * /admin/logout.
 *
 * A session token is 32 random bytes (OpenSSL RAND_bytes) shown as 64 hex
 * digits; the database keeps only its SHA-256, so a copy of the database
 * (a backup) holds no usable session.  The CSRF token of a session is
 * HMAC-SHA256(session secret, session token): a browser page on another
 * site can make the browser send the cookie, but cannot read the token to
 * put it in the X-CSRF-Token header.  Bearer requests need no CSRF token:
 * a browser never adds that header by itself.
 */
#include "api/auth.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/catalogue.h"
#include "api/login_throttle.h"
#include "api/validate.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/password.h"
#include "common/tz.h"
#include "common/util.h"

#define SESSION_TTL_S   (12 * 3600)
#define SESSION_SLIDE_S 60 /* extend an expiry at most once a minute: no write per request */
#define TOKEN_BYTES     32
#define TOKEN_HEX       (2 * TOKEN_BYTES)
#define COOKIE_NAME     "citaplanner_session"
#define CSRF_HEADER     "X-CSRF-Token"

enum {
    A = API_ROLE_ADMIN,
    M = API_ROLE_MANAGER,
    P = API_ROLE_PROFESSIONAL,
    R = API_ROLE_RECEPTIONIST
};
#define STAFF  (A | M | P | R)
#define MASTER API_ROLE_MASTER

/*
 * THE role matrix of SPEC §8: which roles may read, create, update and
 * delete each resource.  Handlers never compare roles: they ask
 * api_auth_require() (or api_auth_allowed()) with their resource's name.
 * Handlers may narrow further by row, never widen (the appointments of a
 * PROFESSIONAL are only their own).
 */
static const struct {
    const char *resource;
    unsigned roles[4]; /* indexed by enum api_action */
} role_matrix[] = {
    /* clang-format off */
    /* resource          read        create      update      delete */
    {"tenant",        {A | M | R,  A,          A,          A}},
    {"branches",      {STAFF,      A | M,      A | M,      A | M}},
    {"users",         {A | M | R,  A,          A,          A}},
    {"users_self",    {STAFF,      0,          STAFF,      0}},
    {"services",      {STAFF,      A | M,      A | M,      A | M}},
    {"clients",       {STAFF,      A | M | R,  A | M | R,  A | M}},
    {"working_hours", {STAFF,      A | M,      A | M,      A | M}},
    {"time_off",      {STAFF,      A | M,      0,          A | M}},
    {"appointments",  {STAFF,      A | M | R,  STAFF,      A | M}},
    {"payments",      {A | M | R,  A | M | R,  A | M | R,  A | M}},
    {"availability",  {STAFF,      0,          0,          0}},
    {"online_booking",{A | M,      0,          A,          0}},
    {"discounts",     {A | M | R,  A | M | R,  A | M,      A | M}},
    {"discount_limits",{A | M | R, A,          A,          A}},
    {"products",      {STAFF,      A | M,      A | M,      A | M}},
    {"stock",         {A | M | R,  A | M,      0,          0}},
    {"sales",         {A | M | R,  A | M | R,  0,          0}},
    {"money_settings",{A | M | R,  0,          A,          0}},
    {"cash_closes",   {A | M | R,  A | M | R,  0,          0}},
    {"commissions",   {A | M | P,  A | M,      0,          0}},
    {"reports",       {A | M,      0,          0,          0}},
    {"notifications", {A | M,      0,          A,          0}},
    {"notification_messages", {A | M | R, A | M | R, 0,   0}},
    {"admin_backups", {MASTER,     MASTER,     MASTER,     MASTER}},
    {"admin_stats",   {MASTER,     MASTER,     MASTER,     MASTER}},
    /* clang-format on */
};

bool api_auth_allowed(enum api_role role, const char *resource, enum api_action action)
{
    if (resource == NULL || (int)action < 0 || action > API_ACT_DELETE)
        return false;
    /* The master admin reaches only the admin resources, and staff never do,
     * whatever a future row of the table says. */
    if ((role == API_ROLE_MASTER) != str_starts_with(resource, "admin"))
        return false;
    for (size_t i = 0; i < sizeof(role_matrix) / sizeof(role_matrix[0]); i++)
        if (strcmp(role_matrix[i].resource, resource) == 0)
            return (role_matrix[i].roles[action] & (unsigned)role) != 0;
    return false;
}

const char *api_role_name(enum api_role role)
{
    switch (role) {
    case API_ROLE_ADMIN:
        return "ADMIN";
    case API_ROLE_MANAGER:
        return "MANAGER";
    case API_ROLE_PROFESSIONAL:
        return "PROFESSIONAL";
    case API_ROLE_RECEPTIONIST:
        return "RECEPTIONIST";
    case API_ROLE_MASTER:
        return "MASTER";
    }
    return "UNKNOWN";
}

int api_role_parse(const char *s, enum api_role *out)
{
    static const enum api_role staff[] = {API_ROLE_ADMIN, API_ROLE_MANAGER, API_ROLE_PROFESSIONAL,
                                          API_ROLE_RECEPTIONIST};

    for (size_t i = 0; s != NULL && i < sizeof(staff) / sizeof(staff[0]); i++) {
        if (strcmp(s, api_role_name(staff[i])) == 0) {
            *out = staff[i];
            return 0;
        }
    }
    return -1;
}

/* ---- tokens ---- */

static bool token_well_formed(const char *t)
{
    if (t == NULL || strlen(t) != TOKEN_HEX)
        return false;
    for (const char *p = t; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void token_hash(const char *token, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
    hash_sha256_hex(token, strlen(token), out);
}

/* The CSRF token of a session token; "" when there is no secret to sign with. */
static void csrf_token(const char *secret, const char *token,
                       char out[2 * SHA256_DIGEST_LENGTH + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    if (secret == NULL || secret[0] == '\0')
        return;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)token, strlen(token),
             md, &mdlen) == NULL ||
        mdlen != SHA256_DIGEST_LENGTH)
        return;
    hex_encode(md, mdlen, out);
}

static const char *app_secret(struct http_req *req)
{
    struct api_worker *w = http_req_worker(req);

    return w != NULL && w->app != NULL ? w->app->session_secret : NULL;
}

static bool secure_cookies(struct http_req *req)
{
    struct api_worker *w = http_req_worker(req);

    return w != NULL && w->app != NULL && w->app->cfg != NULL && w->app->cfg->secure_cookies;
}

/* The value of the session cookie, copied into out; false when absent. */
static bool cookie_token(struct http_req *req, char out[TOKEN_HEX + 1])
{
    const char *h = http_req_header(req, "Cookie");
    const size_t nlen = strlen(COOKIE_NAME);

    while (h != NULL && *h != '\0') {
        const char *end;

        while (*h == ' ' || *h == ';')
            h++;
        end = strchr(h, ';');
        if (end == NULL)
            end = h + strlen(h);
        if ((size_t)(end - h) > nlen && strncmp(h, COOKIE_NAME, nlen) == 0 && h[nlen] == '=') {
            const char *v = h + nlen + 1;
            size_t vlen = (size_t)(end - v);

            while (vlen > 0 && v[vlen - 1] == ' ')
                vlen--;
            if (vlen != TOKEN_HEX)
                return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        h = end;
    }
    return false;
}

/* The presented token: Bearer first, then the cookie.  *via_cookie says which. */
static bool request_token(struct http_req *req, char out[TOKEN_HEX + 1], bool *via_cookie)
{
    const char *h = http_req_header(req, "Authorization");

    *via_cookie = false;
    if (h != NULL) {
        if (strncasecmp(h, "Bearer ", 7) != 0)
            return false;
        h += 7;
        while (*h == ' ')
            h++;
        if (strlen(h) != TOKEN_HEX)
            return false;
        memcpy(out, h, TOKEN_HEX + 1);
        return true;
    }
    *via_cookie = true;
    return cookie_token(req, out);
}

static void set_session_cookie(struct http_req *req, const char *token, int max_age)
{
    char *v = xasprintf("%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", COOKIE_NAME, token,
                        max_age, secure_cookies(req) ? "; Secure" : "");

    http_set_header(req, "Set-Cookie", v);
    secure_zero(v, strlen(v));
    free(v);
}

static void now_text(int64_t offset_s, char out[32])
{
    tz_format_instant((int64_t)time(NULL) + offset_s, out);
}

/* ---- authentication ---- */

static int reply_unauthorized(struct http_req *req)
{
    http_set_header(req, "WWW-Authenticate", "Bearer");
    http_reply_error(req, 401, "unauthorized", NULL, "a valid session is required; log in first");
    return -ERR_USAGE;
}

static int reply_db_error(struct http_req *req, struct err *e)
{
    api_worker_db_failed(http_req_worker(req), e);
    http_reply_err(req, e);
    return -(int)e->code;
}

static bool method_changes_data(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* Authenticate; *token receives the presented token (for /auth/me's CSRF token). */
static int authenticate(struct http_req *req, struct api_auth *out, char token[TOKEN_HEX + 1])
{
    struct api_worker *w = http_req_worker(req);
    struct db *db = NULL;
    struct db_res *r = NULL;
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    char now[32], later[32], oldest[32];
    struct err e;
    int64_t expires = 0;
    bool via_cookie = false;
    int rc = 0;

    err_clear(&e);
    memset(out, 0, sizeof(*out));
    if (!request_token(req, token, &via_cookie) || !token_well_formed(token)) {
        rc = reply_unauthorized(req);
        goto cleanup;
    }
    rc = api_worker_db(w, &db, &e);
    if (rc < 0) {
        rc = reply_db_error(req, &e);
        goto cleanup;
    }
    token_hash(token, hash);
    now_text(0, now);
    /* Sliding 12 h, and never older than SESSION_MAX_AGE_DAYS however active. */
    now_text(-(int64_t)w->app->cfg->session_max_age_days * 86400, oldest);
    rc = db_query(db,
                  "SELECT s.id, s.user_id, s.tenant_id, s.expires_at, u.role, u.branch_id, "
                  "u.active, u.tenant_id "
                  "FROM sessions s LEFT JOIN users u ON u.id = s.user_id "
                  "WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.created_at > $3",
                  DB_PARAMS(DB_TEXT(hash), DB_TEXT(now), DB_TEXT(oldest)), &r, &e);
    if (rc < 0) {
        rc = reply_db_error(req, &e);
        goto cleanup;
    }
    if (!db_res_next(r)) {
        rc = reply_unauthorized(req);
        goto cleanup;
    }
    out->session_id = db_res_int(r, 0);
    out->via_cookie = via_cookie;
    if (db_res_isnull(r, 1)) {
        out->role = API_ROLE_MASTER;
    } else {
        /* A deactivated user, or a row moved to another tenant, has no session. */
        if (db_res_isnull(r, 4) || !db_res_bool(r, 6) || db_res_isnull(r, 2) ||
            db_res_int(r, 2) != db_res_int(r, 7) ||
            api_role_parse(db_res_text(r, 4), &out->role) < 0) {
            rc = reply_unauthorized(req);
            goto cleanup;
        }
        out->user_id = db_res_int(r, 1);
        out->tenant_id = db_res_int(r, 2);
        out->branch_id = db_res_isnull(r, 5) ? 0 : db_res_int(r, 5);
    }
    if (tz_parse_instant(db_res_text(r, 3), &expires) < 0)
        expires = 0;
    db_res_free(r);
    r = NULL;

    /* Sliding expiry, written at most once a minute. */
    if (expires < (int64_t)time(NULL) + SESSION_TTL_S - SESSION_SLIDE_S) {
        now_text(SESSION_TTL_S, later);
        rc = db_exec_params(
            db, "UPDATE sessions SET expires_at = $1, updated_at = $2 WHERE id = $3",
            DB_PARAMS(DB_TEXT(later), DB_TEXT(now), DB_INT(out->session_id)), NULL, &e);
        if (rc < 0) {
            rc = reply_db_error(req, &e);
            goto cleanup;
        }
        if (via_cookie)
            set_session_cookie(req, token, SESSION_TTL_S);
    }

    if (via_cookie && method_changes_data(http_req_method(req))) {
        const char *given = http_req_header(req, CSRF_HEADER);
        char want[2 * SHA256_DIGEST_LENGTH + 1];

        csrf_token(app_secret(req), token, want);
        if (want[0] == '\0' || given == NULL || strlen(given) != strlen(want) ||
            CRYPTO_memcmp(given, want, strlen(want)) != 0) {
            http_reply_error(req, 403, "csrf", NULL,
                             "a request authenticated by cookie that changes data must carry the "
                             "session's CSRF token in the '" CSRF_HEADER "' header");
            rc = -ERR_USAGE;
            goto cleanup;
        }
    }
    rc = 0;

cleanup:
    db_res_free(r);
    secure_zero(hash, sizeof(hash));
    return rc;
}

int api_auth_session(struct http_req *req, struct api_auth *out)
{
    char token[TOKEN_HEX + 1] = "";
    int rc = authenticate(req, out, token);

    secure_zero(token, sizeof(token));
    return rc;
}

int api_auth_require(struct http_req *req, const char *resource, enum api_action action,
                     struct api_auth *out)
{
    int rc = api_auth_session(req, out);

    if (rc < 0)
        return rc;
    if (!api_auth_allowed(out->role, resource, action)) {
        http_reply_error(req, 403, "forbidden", NULL, "the role '%s' may not do this",
                         api_role_name(out->role));
        return -ERR_USAGE;
    }
    return 0;
}

int api_auth_end_user_sessions(struct db *db, int64_t user_id, int64_t keep_session_id,
                               struct err *e)
{
    return db_exec_params(db, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2",
                          DB_PARAMS(DB_INT(user_id), DB_INT(keep_session_id)), NULL, e);
}

/* ---- login ---- */

static char dummy_hash[PASSWORD_HASH_SIZE];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* A hash of a random password at the accounts' cost, to verify against when
 * the email is unknown, so that an unknown email takes as long as a wrong
 * password. */
static void dummy_hash_make(void)
{
    unsigned char raw[16];
    char pw[33];
    struct err e;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        memset(raw, 0x5a, sizeof(raw));
    hex_encode(raw, sizeof(raw), pw);
    if (password_hash(pw, PASSWORD_DEFAULT_COST, dummy_hash, sizeof(dummy_hash), &e) < 0)
        log_warn("cannot make the dummy password hash: %s", e.msg);
    secure_zero(pw, sizeof(pw));
}

static bool verify_or_dummy(const char *password, const char *hash)
{
    pthread_once(&dummy_once, dummy_hash_make);
    if (hash == NULL) {
        (void)password_verify(password, dummy_hash);
        return false;
    }
    return password_verify(password, hash);
}

/* 429 with Retry-After: wait seconds; counted and logged. */
static int reply_throttled(struct http_req *req, const char *client, int wait)
{
    char secs[24];

    login_throttle_count(true);
    log_info("login refused from %s: too many failures, back-off %d s", client, wait);
    snprintf(secs, sizeof(secs), "%d", wait);
    http_set_header(req, "Retry-After", secs);
    return http_reply_error(req, 429, "rate_limited", NULL,
                            "too many failed logins; try again in %d seconds", wait);
}

/*
 * Before the password is checked: 429 when the address, or this account
 * from this address, must wait.  1 when answered, 0 to go on, or -ERR_*.
 */
static int throttle_check(struct http_req *req, struct db *db, const char *account,
                          const char *client, struct login_throttle *t, struct err *e)
{
    int rc = login_throttle_load(db, account, client, (int64_t)time(NULL), t, e);
    int wait;

    if (rc < 0)
        return rc;
    wait = t->addr_wait > t->pair_wait ? t->addr_wait : t->pair_wait;
    /* The account's own back-off holds back addresses that failed on it; a
     * first try from elsewhere is checked (and refused below if wrong). */
    if (t->pair_failures > 0 && t->acct_wait > wait)
        wait = t->acct_wait;
    if (wait <= 0)
        return 0;
    reply_throttled(req, client, wait);
    return 1;
}

/* After a wrong password: counted; 401, or 429 when a back-off is now due. */
static int reply_bad_credentials(struct http_req *req, struct db *db, const char *client,
                                 const struct login_throttle *t, struct err *e)
{
    int wait = 0;
    int rc = login_throttle_fail(db, t, (int64_t)time(NULL), &wait, e);

    if (rc < 0)
        return rc;
    if (t->acct_wait > wait)
        wait = t->acct_wait;
    if (wait > 0)
        return reply_throttled(req, client, wait);
    return http_reply_error(req, 401, "invalid_credentials", NULL,
                            "the email or the password is wrong");
}

/*
 * Make a session: a new token into token, its row in sessions (user_id and
 * tenant_id 0 for the master admin), and the expiry into expires (RFC 3339).
 * Expired sessions are cleared on the way, so the table does not grow.
 */
static int session_create(struct db *db, int64_t user_id, int64_t tenant_id,
                          char token[TOKEN_HEX + 1], char expires[32], struct err *e)
{
    unsigned char raw[TOKEN_BYTES];
    char hash[2 * SHA256_DIGEST_LENGTH + 1];
    char now[32], later[32];
    int rc;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        rc = err_set(e, ERR_INTERNAL, "cannot draw random bytes for a session token");
        goto cleanup;
    }
    hex_encode(raw, sizeof(raw), token);
    token_hash(token, hash);
    now_text(0, now);
    now_text(SESSION_TTL_S, later);
    rc = db_exec_params(db, "DELETE FROM sessions WHERE expires_at <= $1", DB_PARAMS(DB_TEXT(now)),
                        NULL, e);
    if (rc < 0)
        goto cleanup;
    rc = db_exec_params(db,
                        "INSERT INTO sessions (token_hash, user_id, tenant_id, expires_at, "
                        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                        DB_PARAMS(DB_TEXT(hash), user_id > 0 ? DB_INT(user_id) : DB_NULL,
                                  tenant_id > 0 ? DB_INT(tenant_id) : DB_NULL, DB_TEXT(later),
                                  DB_TEXT(now)),
                        NULL, e);
    if (rc < 0)
        goto cleanup;
    api_instant_rfc3339(later, expires);

cleanup:
    secure_zero(raw, sizeof(raw));
    secure_zero(hash, sizeof(hash));
    return rc;
}

/* A one-row query as a JSON object into *out (NULL when no row). */
static int row_object(struct db *db, const char *sql, int64_t id, const char *types, json_t **out,
                      struct err *e)
{
    struct db_res *r = NULL;
    int rc = db_query(db, sql, DB_PARAMS(DB_INT(id)), &r, e);

    *out = NULL;
    if (rc == 0 && db_res_next(r))
        *out = api_row_json(r, types);
    db_res_free(r);
    return rc;
}

/* {"user":...,"tenant":...} of a staff session, plus the given extras. */
static int reply_user(struct http_req *req, int status, struct db *db, int64_t user_id,
                      int64_t tenant_id, const char *token, const char *expires, struct err *e)
{
    json_t *user = NULL, *tenant = NULL, *body = NULL;
    char csrf[2 * SHA256_DIGEST_LENGTH + 1];
    int rc;

    rc = row_object(db, "SELECT " API_USER_COLUMNS " FROM users WHERE id = $1", user_id,
                    API_USER_TYPES, &user, e);
    if (rc < 0)
        goto cleanup;
    rc = row_object(db, "SELECT " API_TENANT_COLUMNS " FROM tenants WHERE id = $1", tenant_id,
                    API_TENANT_TYPES, &tenant, e);
    if (rc < 0)
        goto cleanup;
    if (user == NULL || tenant == NULL) {
        rc = err_set(e, ERR_INTERNAL, "user '%lld' or its tenant vanished", (long long)user_id);
        goto cleanup;
    }
    csrf_token(app_secret(req), token, csrf);
    body = json_pack("{s:O, s:O, s:s}", "user", user, "tenant", tenant, "csrf_token", csrf);
    if (body != NULL && expires != NULL) {
        json_object_set_new(body, "token", json_string(token));
        json_object_set_new(body, "expires_at", json_string(expires));
    }
    rc = http_reply_json(req, status, body);
    body = NULL;

cleanup:
    json_decref(user);
    json_decref(tenant);
    json_decref(body);
    return rc;
}

static const struct api_field login_fields[] = {
    {"email", API_T_STRING, API_REQUIRED, 1, 254, NULL},
    {"password", API_T_STRING, API_REQUIRED, 1, 1024, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_auth_login(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    json_t *body = NULL;
    struct db *db = NULL;
    struct db_res *r = NULL;
    char email[256];
    char token[TOKEN_HEX + 1] = "";
    char expires[32];
    struct login_throttle t;
    char client[64];
    int64_t user_id = 0, tenant_id = 0;
    bool ok;
    int rc;

    rc = api_read_body(req, login_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    snprintf(email, sizeof(email), "%s", v[0].s);
    for (char *p = email; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    api_client_addr(req, client, sizeof(client));
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = throttle_check(req, db, email, client, &t, e);
    if (rc != 0) {
        rc = rc > 0 ? 0 : rc;
        goto cleanup;
    }
    rc = db_query(db, "SELECT id, password_hash, active, tenant_id FROM users WHERE email = $1",
                  DB_PARAMS(DB_TEXT(email)), &r, e);
    if (rc < 0)
        goto cleanup;
    if (db_res_next(r)) {
        /* Verified even when inactive, so that the answer takes as long. */
        ok = verify_or_dummy(v[1].s, db_res_text(r, 1)) && db_res_bool(r, 2);
        user_id = db_res_int(r, 0);
        tenant_id = db_res_int(r, 3);
    } else {
        ok = verify_or_dummy(v[1].s, NULL);
    }
    db_res_free(r);
    r = NULL;
    if (!ok) {
        log_info("failed login from %s", client);
        rc = reply_bad_credentials(req, db, client, &t, e);
        goto cleanup;
    }
    rc = login_throttle_success(db, &t, (int64_t)time(NULL), e);
    if (rc < 0)
        goto cleanup;

    rc = session_create(db, user_id, tenant_id, token, expires, e);
    if (rc < 0)
        goto cleanup;
    set_session_cookie(req, token, SESSION_TTL_S);
    rc = reply_user(req, 200, db, user_id, tenant_id, token, expires, e);

cleanup:
    secure_zero(token, sizeof(token));
    db_res_free(r);
    json_decref(body);
    return rc;
}

static const struct api_field admin_login_fields[] = {
    {"password", API_T_STRING, API_REQUIRED, 1, 1024, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

int api_admin_login(struct http_req *req, struct err *e)
{
    struct api_value v[API_MAX_FIELDS];
    json_t *body = NULL;
    struct db *db = NULL;
    char *hash = NULL;
    char token[TOKEN_HEX + 1] = "";
    char expires[32];
    char csrf[2 * SHA256_DIGEST_LENGTH + 1];
    struct login_throttle t;
    char client[64];
    int rc;

    rc = api_read_body(req, admin_login_fields, API_CREATE, &body, v, e);
    if (rc < 0)
        goto cleanup;
    api_client_addr(req, client, sizeof(client));
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    /* "master admin" is no e-mail, so it cannot be mistaken for an account's. */
    rc = throttle_check(req, db, "master admin", client, &t, e);
    if (rc != 0) {
        rc = rc > 0 ? 0 : rc;
        goto cleanup;
    }
    rc = db_query_text(db, "SELECT password_hash FROM master_admin_config WHERE id = 'singleton'",
                       DB_NOPARAMS, &hash, e);
    if (rc < 0)
        goto cleanup;
    /* No row: the master admin is disabled; the same answer as a wrong password. */
    if (!verify_or_dummy(v[0].s, hash)) {
        log_info("failed master admin login from %s", client);
        rc = reply_bad_credentials(req, db, client, &t, e);
        goto cleanup;
    }
    rc = login_throttle_success(db, &t, (int64_t)time(NULL), e);
    if (rc < 0)
        goto cleanup;
    rc = session_create(db, 0, 0, token, expires, e);
    if (rc < 0)
        goto cleanup;
    set_session_cookie(req, token, SESSION_TTL_S);
    csrf_token(app_secret(req), token, csrf);
    rc = http_reply_json(req, 200,
                         json_pack("{s:s, s:s, s:s, s:s}", "token", token, "csrf_token", csrf,
                                   "expires_at", expires, "role", "MASTER"));

cleanup:
    if (hash != NULL)
        secure_zero(hash, strlen(hash));
    free(hash);
    secure_zero(token, sizeof(token));
    json_decref(body);
    return rc;
}

static int end_session(struct http_req *req, const struct api_auth *a, struct err *e)
{
    struct db *db = NULL;
    int rc = api_worker_db(http_req_worker(req), &db, e);

    if (rc < 0)
        return rc;
    rc = db_exec_params(db, "DELETE FROM sessions WHERE id = $1", DB_PARAMS(DB_INT(a->session_id)),
                        NULL, e);
    if (rc < 0)
        return rc;
    set_session_cookie(req, "", 0);
    return http_reply_empty(req, 204);
}

static int reply_forbidden(struct http_req *req, const struct api_auth *a)
{
    http_reply_error(req, 403, "forbidden", NULL, "the role '%s' may not do this",
                     api_role_name(a->role));
    return -ERR_USAGE;
}

int api_auth_logout(struct http_req *req, struct err *e)
{
    struct api_auth a;
    int rc = api_auth_session(req, &a);

    if (rc < 0)
        return rc;
    if (a.role == API_ROLE_MASTER)
        return reply_forbidden(req, &a);
    return end_session(req, &a, e);
}

int api_admin_logout(struct http_req *req, struct err *e)
{
    struct api_auth a;
    int rc = api_auth_session(req, &a);

    if (rc < 0)
        return rc;
    if (a.role != API_ROLE_MASTER)
        return reply_forbidden(req, &a);
    return end_session(req, &a, e);
}

int api_auth_me(struct http_req *req, struct err *e)
{
    struct api_auth a;
    struct db *db = NULL;
    char token[TOKEN_HEX + 1] = "";
    int rc = authenticate(req, &a, token);

    if (rc < 0)
        goto cleanup;
    if (a.role == API_ROLE_MASTER) {
        rc = reply_forbidden(req, &a);
        goto cleanup;
    }
    rc = api_worker_db(http_req_worker(req), &db, e);
    if (rc < 0)
        goto cleanup;
    rc = reply_user(req, 200, db, a.user_id, a.tenant_id, token, NULL, e);

cleanup:
    secure_zero(token, sizeof(token));
    return rc;
}
