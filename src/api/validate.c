/* validate — see validate.h. */
#include "api/validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/tz.h"
#include "common/util.h"

#define STRING_MAX_DEFAULT 255
#define EMAIL_MAX          254
#define EMAIL_LOCAL_MAX    64
#define PHONE_DIGITS_MIN   8
#define PHONE_DIGITS_MAX   15

static void invalid(struct api_invalid *inv, const char *prefix, const char *field, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void invalid(struct api_invalid *inv, const char *prefix, const char *field, const char *fmt,
                    ...)
{
    va_list ap;

    snprintf(inv->field, sizeof(inv->field), "%s%s", prefix != NULL ? prefix : "", field);
    va_start(ap, fmt);
    vsnprintf(inv->msg, sizeof(inv->msg), fmt, ap);
    va_end(ap);
}

/* Code points of a UTF-8 string (jansson has checked it is valid). */
static size_t utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static bool email_local_char(int c)
{
    return isalnum(c) || strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

bool api_email_valid(const char *s)
{
    const char *at, *label;
    size_t len, local_len, labels = 0;
    bool tld_alpha = true;

    if (s == NULL)
        return false;
    len = strlen(s);
    at = strchr(s, '@');
    if (len > EMAIL_MAX || at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    local_len = (size_t)(at - s);
    if (local_len == 0 || local_len > EMAIL_LOCAL_MAX || s[0] == '.' || at[-1] == '.')
        return false;
    for (const char *p = s; p < at; p++) {
        if (!email_local_char((unsigned char)*p) || (p[0] == '.' && p[1] == '.'))
            return false;
    }
    /* Domain: dot-separated labels of letters, digits and inner hyphens; a
     * top-level label of at least two letters. */
    label = at + 1;
    for (;;) {
        const char *end = label;
        size_t n;

        while (*end != '\0' && *end != '.')
            end++;
        n = (size_t)(end - label);
        if (n == 0 || n > 63 || label[0] == '-' || end[-1] == '-')
            return false;
        tld_alpha = n >= 2;
        for (const char *p = label; p < end; p++) {
            if (!isalnum((unsigned char)*p) && *p != '-')
                return false;
            if (!isalpha((unsigned char)*p))
                tld_alpha = false;
        }
        labels++;
        if (*end == '\0')
            break;
        label = end + 1;
    }
    return labels >= 2 && tld_alpha;
}

int api_phone_normalize(const char *s, char *out)
{
    size_t n = 0, digits = 0;

    out[0] = '\0';
    if (s == NULL)
        return -1;
    while (*s == ' ')
        s++;
    if (*s == '+')
        out[n++] = *s++;
    for (; *s != '\0'; s++) {
        if (isdigit((unsigned char)*s)) {
            if (++digits > PHONE_DIGITS_MAX)
                goto bad;
            out[n++] = *s;
        } else if (strchr(" .-()", *s) == NULL) {
            goto bad;
        }
    }
    out[n] = '\0';
    if (digits < PHONE_DIGITS_MIN)
        goto bad;
    return 0;

bad:
    out[0] = '\0';
    return -1;
}

int api_date_parse(const char *s, int *y, int *m, int *d)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    *y = atoi(s);
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    return tz_date_valid(*y, *m, *d) ? 0 : -1;
}

void api_instant_rfc3339(const char *db_text, char out[32])
{
    size_t len = db_text != NULL ? strlen(db_text) : 0;

    /* "YYYY-MM-DD HH:MM:SS+00", as both databases print a UTC instant */
    if (len == 22 && db_text[10] == ' ' && strcmp(db_text + 19, "+00") == 0) {
        memcpy(out, db_text, 19);
        out[10] = 'T';
        out[19] = 'Z';
        out[20] = '\0';
        return;
    }
    snprintf(out, 32, "%s", db_text != NULL ? db_text : "");
}

static const char *type_name(enum api_type t)
{
    switch (t) {
    case API_T_INT:
    case API_T_ID:
        return "an integer";
    case API_T_BOOL:
        return "a boolean";
    case API_T_ARRAY:
        return "an array";
    default:
        return "a string";
    }
}

static bool type_matches(enum api_type t, const json_t *v)
{
    switch (t) {
    case API_T_INT:
    case API_T_ID:
        return json_is_integer(v);
    case API_T_BOOL:
        return json_is_boolean(v);
    case API_T_ARRAY:
        return json_is_array(v);
    default:
        return json_is_string(v);
    }
}

/* Check one present, non-null value of the right JSON type. */
static int check_value(const struct api_field *f, json_t *v, struct api_value *out,
                       const char *prefix, struct api_invalid *inv)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    int y, m, d;

    switch (f->type) {
    case API_T_STRING: {
        size_t n = utf8_len(s);
        int64_t max = f->max > 0 ? f->max : STRING_MAX_DEFAULT;

        if ((int64_t)n < f->min || (int64_t)n > max) {
            if (f->min > 0 && n == 0)
                invalid(inv, prefix, f->name, "'%s' must not be empty", f->name);
            else
                invalid(inv, prefix, f->name, "'%s' must be %lld to %lld characters long", f->name,
                        (long long)f->min, (long long)max);
            return -1;
        }
        out->s = s;
        return 0;
    }
    case API_T_EMAIL:
        if (!api_email_valid(s)) {
            invalid(inv, prefix, f->name, "'%s' is not a valid email address", f->name);
            return -1;
        }
        for (size_t i = 0; s[i] != '\0'; i++)
            out->norm[i] = (char)tolower((unsigned char)s[i]);
        out->norm[strlen(s)] = '\0';
        out->s = out->norm;
        return 0;
    case API_T_PHONE:
        if (api_phone_normalize(s, out->norm) < 0) {
            invalid(inv, prefix, f->name,
                    "'%s' must be a phone number of 8 to 15 digits, optionally after a '+'",
                    f->name);
            return -1;
        }
        out->s = out->norm;
        return 0;
    case API_T_INT:
        out->i = json_integer_value(v);
        if (out->i < f->min || out->i > f->max) {
            invalid(inv, prefix, f->name, "'%s' must be between %lld and %lld", f->name,
                    (long long)f->min, (long long)f->max);
            return -1;
        }
        return 0;
    case API_T_ID:
        out->i = json_integer_value(v);
        if (out->i < 1) {
            invalid(inv, prefix, f->name, "'%s' must be a positive id", f->name);
            return -1;
        }
        return 0;
    case API_T_BOOL:
        out->b = json_is_true(v);
        return 0;
    case API_T_HHMM:
        out->i = tz_parse_hhmm(s);
        if (out->i < 0) {
            invalid(inv, prefix, f->name, "'%s' must be a time of day 'HH:MM' (00:00-23:59)",
                    f->name);
            return -1;
        }
        out->s = s;
        return 0;
    case API_T_TZ:
        if (!tz_valid(s)) {
            invalid(inv, prefix, f->name,
                    "'%s' must be an IANA time zone such as 'America/Mexico_City'", f->name);
            return -1;
        }
        out->s = s;
        return 0;
    case API_T_ENUM:
        for (int i = 0; f->choices != NULL && f->choices[i] != NULL; i++) {
            if (strcmp(s, f->choices[i]) == 0) {
                out->s = s;
                return 0;
            }
        }
        {
            struct buf b = BUF_INIT;

            for (int i = 0; f->choices != NULL && f->choices[i] != NULL; i++)
                buf_addf(&b, "%s%s", i > 0 ? ", " : "", f->choices[i]);
            invalid(inv, prefix, f->name, "'%s' must be one of %s", f->name, buf_str(&b));
            buf_release(&b);
        }
        return -1;
    case API_T_DATE:
        if (api_date_parse(s, &y, &m, &d) < 0) {
            invalid(inv, prefix, f->name, "'%s' must be a date 'YYYY-MM-DD'", f->name);
            return -1;
        }
        out->i = tz_days_from_civil(y, m, d);
        out->s = s;
        return 0;
    case API_T_INSTANT: {
        size_t n = strlen(s);

        /* tz_parse_instant also takes the database's "+00"; RFC 3339 wants
         * 'T', and an offset is required so no instant is read in a guessed zone. */
        if (n < 20 || s[10] != 'T' || tz_parse_instant(s, &out->i) < 0 ||
            tz_format_instant(out->i, out->norm) < 0) {
            invalid(inv, prefix, f->name,
                    "'%s' must be an RFC 3339 instant with an offset, "
                    "such as '2025-01-09T15:30:00-06:00'",
                    f->name);
            return -1;
        }
        out->s = out->norm;
        return 0;
    }
    case API_T_ARRAY: {
        int64_t n = (int64_t)json_array_size(v);

        if (n < f->min || (f->max > 0 && n > f->max)) {
            invalid(inv, prefix, f->name, "'%s' must hold %lld to %lld elements", f->name,
                    (long long)f->min, (long long)f->max);
            return -1;
        }
        return 0;
    }
    }
    invalid(inv, prefix, f->name, "'%s' has an unknown type", f->name);
    return -1;
}

int api_check_object(json_t *body, const struct api_field *fields, enum api_mode mode,
                     const char *prefix, struct api_value *values, struct api_invalid *inv)
{
    const char *key;
    json_t *v;
    int nfields = 0;

    memset(inv, 0, sizeof(*inv));
    while (fields[nfields].name != NULL)
        nfields++;
    for (int i = 0; i < nfields; i++) {
        values[i].present = false;
        values[i].null = false;
        values[i].s = NULL;
        values[i].i = 0;
        values[i].b = false;
        values[i].json = NULL;
        values[i].norm[0] = '\0';
    }
    if (!json_is_object(body)) {
        invalid(inv, prefix, "", "expected a JSON object");
        if (prefix != NULL && inv->field[0] != '\0' && inv->field[strlen(inv->field) - 1] == '.')
            inv->field[strlen(inv->field) - 1] = '\0';
        return -1;
    }
    json_object_foreach(body, key, v)
    {
        int i = 0;

        while (i < nfields && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == nfields) {
            /* The name is client text: bounded, and shown only as the field. */
            char shown[64];

            snprintf(shown, sizeof(shown), "%s", key);
            invalid(inv, prefix, shown, "unknown field '%s'", shown);
            return -1;
        }
    }
    for (int i = 0; i < nfields; i++) {
        const struct api_field *f = &fields[i];

        v = json_object_get(body, f->name);
        if (v == NULL) {
            if (mode == API_CREATE && (f->flags & API_REQUIRED)) {
                invalid(inv, prefix, f->name, "'%s' is required", f->name);
                return -1;
            }
            continue;
        }
        values[i].present = true;
        values[i].json = v;
        if (json_is_null(v)) {
            if (!(f->flags & API_NULLABLE)) {
                invalid(inv, prefix, f->name, "'%s' must not be null", f->name);
                return -1;
            }
            values[i].null = true;
            continue;
        }
        if (!type_matches(f->type, v)) {
            invalid(inv, prefix, f->name, "'%s' must be %s", f->name, type_name(f->type));
            return -1;
        }
        if (check_value(f, v, &values[i], prefix, inv) < 0)
            return -1;
    }
    return 0;
}

int api_reply_invalid(struct http_req *req, struct err *e, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_reply_error(req, 400, "invalid", field, "%s", msg);
    return err_set(e, ERR_USAGE, "%s", msg);
}

int api_reply_invalid_at(struct http_req *req, struct err *e, const struct api_invalid *inv)
{
    return api_reply_invalid(req, e, inv->field[0] != '\0' ? inv->field : NULL, "%s", inv->msg);
}

int api_validate_body(struct http_req *req, json_t *body, const struct api_field *fields,
                      enum api_mode mode, struct api_value *values, struct err *e)
{
    struct api_invalid inv;

    if (api_check_object(body, fields, mode, NULL, values, &inv) < 0)
        return api_reply_invalid_at(req, e, &inv);
    return 0;
}

int api_read_body(struct http_req *req, const struct api_field *fields, enum api_mode mode,
                  json_t **body, struct api_value *values, struct err *e)
{
    int rc = http_req_json(req, body, e);

    if (rc < 0)
        return rc;
    return api_validate_body(req, *body, fields, mode, values, e);
}

const struct api_value *api_value_of(const struct api_field *fields, const struct api_value *values,
                                     const char *name)
{
    for (int i = 0; fields[i].name != NULL; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &values[i];
    return NULL;
}

int api_path_id(struct http_req *req, const char *name, int64_t *out, struct err *e)
{
    const char *s = http_req_param(req, name);

    if (s == NULL || parse_int64(s, 1, INT64_MAX, out) < 0) {
        http_reply_error(req, 404, "not_found", NULL, "no such record");
        return err_set(e, ERR_NOT_FOUND, "'%s' is not an id", name);
    }
    return 0;
}

int api_query_id(struct http_req *req, const char *name, int64_t *out, bool *present, struct err *e)
{
    const char *s = http_req_query(req, name);

    if (present != NULL)
        *present = s != NULL;
    if (s == NULL)
        return 0;
    if (parse_int64(s, 1, INT64_MAX, out) < 0)
        return api_reply_invalid(req, e, name, "'%s' must be a positive id", name);
    return 0;
}

int api_query_bool(struct http_req *req, const char *name, bool *out, bool *present, struct err *e)
{
    const char *s = http_req_query(req, name);

    if (present != NULL)
        *present = s != NULL;
    if (s == NULL)
        return 0;
    if (strcmp(s, "true") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0)
        *out = false;
    else
        return api_reply_invalid(req, e, name, "'%s' must be 'true' or 'false'", name);
    return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *api_cursor_encode(int64_t last_id)
{
    char plain[32];
    struct buf b = BUF_INIT;
    size_t n = (size_t)snprintf(plain, sizeof(plain), "%lld", (long long)last_id);

    /* base64url without padding: opaque to clients, trivially checked back */
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)plain[i] << 16;
        size_t k = n - i < 3 ? n - i : 3;

        if (k > 1)
            v |= (uint32_t)(unsigned char)plain[i + 1] << 8;
        if (k > 2)
            v |= (unsigned char)plain[i + 2];
        buf_addc(&b, b64url[(v >> 18) & 63]);
        buf_addc(&b, b64url[(v >> 12) & 63]);
        if (k > 1)
            buf_addc(&b, b64url[(v >> 6) & 63]);
        if (k > 2)
            buf_addc(&b, b64url[v & 63]);
    }
    return buf_detach(&b);
}

int api_cursor_decode(const char *cursor, int64_t *last_id)
{
    char plain[32];
    size_t n = cursor != NULL ? strlen(cursor) : 0, out = 0;
    uint32_t acc = 0;
    int bits = 0;
    char *again = NULL;
    int rc = -1;

    if (n == 0 || n > 28 || n % 4 == 1)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64url, cursor[i]);

        if (p == NULL || cursor[i] == '\0')
            goto cleanup;
        acc = (acc << 6) | (uint32_t)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            plain[out++] = (char)((acc >> bits) & 0xFF);
        }
    }
    plain[out] = '\0';
    if (parse_int64(plain, 1, INT64_MAX, last_id) < 0)
        goto cleanup;
    /* Only the canonical text of an id is a cursor this program made. */
    again = api_cursor_encode(*last_id);
    if (strcmp(again, cursor) != 0)
        goto cleanup;
    rc = 0;

cleanup:
    free(again);
    return rc;
}

int api_page_parse(struct http_req *req, struct api_page *out, struct err *e)
{
    const char *limit = http_req_query(req, "limit");
    const char *cursor = http_req_query(req, "cursor");
    int64_t n = API_LIMIT_DEFAULT;

    out->limit = API_LIMIT_DEFAULT;
    out->after_id = 0;
    if (limit != NULL && parse_int64(limit, 1, API_LIMIT_MAX, &n) < 0)
        return api_reply_invalid(req, e, "limit", "'limit' must be an integer from 1 to %d",
                                 API_LIMIT_MAX);
    out->limit = (int)n;
    if (cursor != NULL && api_cursor_decode(cursor, &out->after_id) < 0)
        return api_reply_invalid(req, e, "cursor",
                                 "'cursor' is not a cursor returned by this list");
    return 0;
}

json_t *api_row_json(const struct db_res *r, const char *types)
{
    json_t *o = json_object();
    int ncols = db_res_ncols(r);

    for (int c = 0; c < ncols && types[c] != '\0'; c++) {
        const char *name = db_res_colname(r, c);
        json_t *v;
        char inst[32];

        if (types[c] == '-')
            continue;
        if (db_res_isnull(r, c)) {
            v = json_null();
        } else {
            switch (types[c]) {
            case 'i':
                v = json_integer(db_res_int(r, c));
                break;
            case 'b':
                v = json_boolean(db_res_bool(r, c));
                break;
            case 't':
                api_instant_rfc3339(db_res_text(r, c), inst);
                v = json_string(inst);
                break;
            default:
                v = json_string(db_res_text(r, c));
                break;
            }
        }
        if (v == NULL) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, name, v);
    }
    return o;
}

int api_list_reply(struct http_req *req, struct db *db, const struct api_page *page,
                   const char *sql, int nparams, const struct db_param *params, const char *types,
                   struct err *e)
{
    struct db_res *r = NULL;
    json_t *items = json_array();
    json_t *next = NULL;
    int64_t last_id = 0;
    int count = 0;
    int rc;

    rc = db_query(db, sql, nparams, params, &r, e);
    if (rc < 0)
        goto cleanup;
    while (db_res_next(r)) {
        json_t *o;

        if (++count > page->limit) {
            char *c = api_cursor_encode(last_id);

            next = json_string(c);
            free(c);
            break;
        }
        o = api_row_json(r, types);
        if (o == NULL) {
            rc = err_set(e, ERR_INTERNAL, "a row of the list is not UTF-8");
            goto cleanup;
        }
        last_id = db_res_int(r, 0);
        json_array_append_new(items, o);
    }
    rc = http_reply_json(
        req, 200,
        json_pack("{s:o, s:o}", "items", items, "next_cursor", next != NULL ? next : json_null()));
    items = NULL;
    next = NULL;

cleanup:
    json_decref(items);
    json_decref(next);
    db_res_free(r);
    return rc;
}

int api_row_reply(struct http_req *req, int status, struct db *db, const char *sql, int nparams,
                  const struct db_param *params, const char *types, const char *what, int64_t id,
                  struct err *e)
{
    struct db_res *r = NULL;
    json_t *o = NULL;
    int rc;

    rc = db_query(db, sql, nparams, params, &r, e);
    if (rc < 0)
        goto cleanup;
    if (!db_res_next(r)) {
        rc = err_set(e, ERR_NOT_FOUND, "no %s '%lld'", what, (long long)id);
        goto cleanup;
    }
    o = api_row_json(r, types);
    if (o == NULL) {
        rc = err_set(e, ERR_INTERNAL, "a %s row is not UTF-8", what);
        goto cleanup;
    }
    rc = http_reply_json(req, status, o);
    o = NULL;

cleanup:
    json_decref(o);
    db_res_free(r);
    return rc;
}

int api_row_exists(struct db *db, const char *table, int64_t id, int64_t tenant_id, struct err *e)
{
    char *sql = xasprintf("SELECT 1 FROM %s WHERE id = $1 AND tenant_id = $2", table);
    int64_t one = 0;
    int rc = db_query_int(db, sql, DB_PARAMS(DB_INT(id), DB_INT(tenant_id)), &one, e);

    free(sql);
    if (rc < 0)
        return rc;
    return rc == 0 ? 1 : 0;
}

int api_row_require(struct http_req *req, struct db *db, const char *table, int64_t id,
                    int64_t tenant_id, const char *field, const char *what, struct err *e)
{
    int rc = api_row_exists(db, table, id, tenant_id, e);

    if (rc < 0)
        return rc;
    if (rc == 0) {
        http_reply_error(req, 404, "not_found", field, "no %s '%lld'", what, (long long)id);
        return err_set(e, ERR_NOT_FOUND, "no %s", what);
    }
    return 0;
}

void api_sql_init(struct api_sql *q, const char *text)
{
    buf_init(&q->text);
    buf_adds(&q->text, text);
    q->nparams = 0;
}

void api_sql_release(struct api_sql *q)
{
    buf_release(&q->text);
    q->nparams = 0;
}

void api_sql_add(struct api_sql *q, const char *text)
{
    buf_adds(&q->text, text);
}

void api_sql_param(struct api_sql *q, struct db_param p)
{
    /* The tables are fixed and bounded by API_MAX_FIELDS: overflowing is a bug. */
    if (q->nparams >= API_SQL_MAX_PARAMS)
        abort();
    q->params[q->nparams++] = p;
    buf_addf(&q->text, "$%d", q->nparams);
}

struct db_param api_value_param(const struct api_field *f, const struct api_value *v)
{
    if (!v->present || v->null)
        return DB_NULL;
    switch (f->type) {
    case API_T_INT:
    case API_T_ID:
        return DB_INT(v->i);
    case API_T_BOOL:
        return DB_BOOL(v->b);
    case API_T_ARRAY:
        return DB_NULL;
    default:
        return DB_TEXT(v->s);
    }
}

static bool skipped(const char *name, const char *const *skip)
{
    for (int i = 0; skip != NULL && skip[i] != NULL; i++)
        if (strcmp(skip[i], name) == 0)
            return true;
    return false;
}

int api_sql_set_fields(struct api_sql *q, const struct api_field *fields,
                       const struct api_value *values, const char *const *skip, bool first)
{
    int n = 0;

    for (int i = 0; fields[i].name != NULL; i++) {
        if (!values[i].present || fields[i].type == API_T_ARRAY || skipped(fields[i].name, skip))
            continue;
        if (!first || n > 0)
            api_sql_add(q, ", ");
        api_sql_add(q, fields[i].name);
        api_sql_add(q, " = ");
        api_sql_param(q, api_value_param(&fields[i], &values[i]));
        n++;
    }
    return n;
}

void api_sql_insert(struct api_sql *q, const char *table, int64_t tenant_id,
                    const struct api_field *fields, const struct api_value *values,
                    const char *const *skip, const char *const *extra_cols,
                    const struct db_param *extra_params)
{
    api_sql_init(q, "INSERT INTO ");
    api_sql_add(q, table);
    api_sql_add(q, " (tenant_id");
    for (int i = 0; extra_cols != NULL && extra_cols[i] != NULL; i++) {
        api_sql_add(q, ", ");
        api_sql_add(q, extra_cols[i]);
    }
    for (int i = 0; fields[i].name != NULL; i++) {
        if (!values[i].present || fields[i].type == API_T_ARRAY || skipped(fields[i].name, skip))
            continue;
        api_sql_add(q, ", ");
        api_sql_add(q, fields[i].name);
    }
    api_sql_add(q, ") VALUES (");
    api_sql_param(q, DB_INT(tenant_id));
    for (int i = 0; extra_cols != NULL && extra_cols[i] != NULL; i++) {
        api_sql_add(q, ", ");
        api_sql_param(q, extra_params[i]);
    }
    for (int i = 0; fields[i].name != NULL; i++) {
        if (!values[i].present || fields[i].type == API_T_ARRAY || skipped(fields[i].name, skip))
            continue;
        api_sql_add(q, ", ");
        api_sql_param(q, api_value_param(&fields[i], &values[i]));
    }
    api_sql_add(q, ") RETURNING id");
}

int api_reply_duplicate(struct http_req *req, const struct err *e, int rc, const char *field,
                        const char *what)
{
    if (rc < 0 && e->code == ERR_DB_UNIQUE)
        http_reply_error(req, 409, "duplicate", field, "%s with this '%s' already exists", what,
                         field);
    return rc;
}

void api_now_text(char out[32])
{
    tz_format_instant((int64_t)time(NULL), out);
}
