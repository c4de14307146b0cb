/*
 * validate — the checks every handler applies to what a client sends, and
 * the shapes of list answers (SPEC §8).
 *
 * A request body is checked against a table of the fields it may hold:
 *
 *   static const struct api_field client_fields[] = {
 *       {"first_name", API_T_STRING, API_REQUIRED, 1, 100, NULL},
 *       {"phone", API_T_PHONE, API_REQUIRED, 0, 0, NULL},
 *       {"email", API_T_EMAIL, API_NULLABLE, 0, 0, NULL},
 *       {NULL, 0, 0, 0, 0, NULL},
 *   };
 *   struct api_value v[API_MAX_FIELDS];
 *   if (api_validate_body(req, body, client_fields, API_CREATE, v, e) < 0)
 *       return rc;                    // already answered 400 naming the field
 *   ... v[1].s is the normalised phone ...
 *
 * Rules, the same for every resource:
 *   - a field not in the table is refused ("unknown field");
 *   - a value of the wrong JSON type is refused (no coercion: "5" is not 5,
 *     1 is not true, 1.0 is not an integer);
 *   - null is accepted only for API_NULLABLE fields, and means "set NULL";
 *   - with API_CREATE, every API_REQUIRED field must be present;
 *     with API_UPDATE (PATCH), every field is optional;
 *   - strings are bounded (min..max characters, counted as code points;
 *     jansson has already refused invalid UTF-8 and "\u0000");
 *   - emails are checked and lower-cased; phones are normalised to an
 *     optional leading "+" and 8-15 digits (spaces, dots, dashes and
 *     parentheses dropped); times of day are "HH:MM" (00:00-23:59); zones
 *     are IANA names (tz_valid); dates "YYYY-MM-DD"; instants RFC 3339
 *     with an offset, turned into the database's UTC text.
 * Each refusal answers 400 {"error":{"code":"invalid","field":NAME,...}}
 * naming the first field at fault.
 *
 * Lists paginate by keyset on id (stable whatever is inserted meanwhile):
 * `limit` (default 50, 1-200) and an opaque `cursor` (base64url of the last
 * id returned).  A handler asks for limit + 1 rows with id > after_id in
 * id order, and api_list_reply() turns them into
 * {"items":[...],"next_cursor":"..."|null}.
 *
 * Nothing here keeps state: every function may be called from any thread.
 */
#ifndef CITAPLANNER_API_VALIDATE_H
#define CITAPLANNER_API_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "db/db.h"
#include "http/request.h"

/* The most fields a table may list (size of the caller's api_value array). */
#define API_MAX_FIELDS 32

/* Room for a normalised value: an email (254 bytes), a phone, an instant. */
#define API_NORM_MAX 256

enum api_type {
    API_T_STRING,  /* min..max characters (code points); max 0 = 255 */
    API_T_EMAIL,   /* local@domain.tld, at most 254 bytes, lower-cased into .s */
    API_T_PHONE,   /* normalised into .s: "+525511110001" */
    API_T_INT,     /* a JSON integer within min..max */
    API_T_ID,      /* a JSON integer >= 1 (a row id; the caller checks it exists) */
    API_T_BOOL,    /* true / false */
    API_T_HHMM,    /* "HH:MM"; .i = minutes since midnight */
    API_T_TZ,      /* an IANA zone name (tz_valid) */
    API_T_ENUM,    /* one of choices (exact, case-sensitive) */
    API_T_DATE,    /* "YYYY-MM-DD", a real date; .i = days since 1970-01-01 */
    API_T_INSTANT, /* RFC 3339 with an offset; .i = epoch, .s = "YYYY-MM-DD HH:MM:SS+00" */
    API_T_ARRAY,   /* a JSON array of min..max elements, checked by the caller; .json */
};

/* Field flags. */
enum {
    API_REQUIRED = 1u << 0, /* must be present on create */
    API_NULLABLE = 1u << 1, /* null accepted (means NULL in the database) */
};

struct api_field {
    const char *name; /* NULL ends the table */
    enum api_type type;
    unsigned flags;
    int64_t min, max;           /* STRING: length; INT: value; ARRAY: element count */
    const char *const *choices; /* ENUM: NULL-terminated list */
};

enum api_mode { API_CREATE, API_UPDATE };

/* One field's value after validation, at the same index as its api_field. */
struct api_value {
    bool present;  /* the body holds the field */
    bool null;     /* ... and its value is null */
    const char *s; /* string types: the value (normalised ones point into norm);
                    * borrowed from the body or from this struct */
    int64_t i;     /* INT, ID, HHMM, DATE, INSTANT (see enum api_type) */
    bool b;        /* BOOL */
    json_t *json;  /* the raw value, borrowed from the body */
    char norm[API_NORM_MAX];
};

/* Why a value was refused: the field (possibly "hours[2].start_time") and a message. */
struct api_invalid {
    char field[128];
    char msg[256];
};

/*
 * Check body (a JSON object) against fields.  Fills values[i] for
 * fields[i] (values must hold as many entries as fields; API_MAX_FIELDS is
 * always enough).  Returns 0, or -1 with inv filled (first failure only).
 * prefix (may be NULL) is put before field names in inv->field, for
 * objects nested in arrays: "hours[2]." gives "hours[2].start_time".
 */
int api_check_object(json_t *body, const struct api_field *fields, enum api_mode mode,
                     const char *prefix, struct api_value *values, struct api_invalid *inv);

/*
 * api_check_object(), answering 400 naming the field on failure; then
 * returns -ERR_USAGE (the handler returns it: the request is answered).
 */
int api_validate_body(struct http_req *req, json_t *body, const struct api_field *fields,
                      enum api_mode mode, struct api_value *values, struct err *e);

/*
 * Parse the request body as a JSON object (http_req_json: 415, 413, 400
 * answered there) and validate it: both steps in one call.  *body receives
 * the parsed object (caller frees with json_decref, also on failure; NULL
 * when parsing failed).  Returns 0 or -ERR_USAGE after answering.
 */
int api_read_body(struct http_req *req, const struct api_field *fields, enum api_mode mode,
                  json_t **body, struct api_value *values, struct err *e);

/* Answer 400 {"code":"invalid","field":field,"message":...}; returns -ERR_USAGE and fills e. */
int api_reply_invalid(struct http_req *req, struct err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answer 400 from inv; returns -ERR_USAGE and fills e. */
int api_reply_invalid_at(struct http_req *req, struct err *e, const struct api_invalid *inv);

/* The value of field name in a validated table, or NULL when the table has no such field. */
const struct api_value *api_value_of(const struct api_field *fields, const struct api_value *values,
                                     const char *name);

/* The checks one by one, for values that do not come from a JSON body. */

/* Is s an email address as API_T_EMAIL accepts it? */
bool api_email_valid(const char *s);

/*
 * Normalise a phone number into out (API_NORM_MAX bytes): an optional
 * leading "+" then 8-15 digits; spaces, '.', '-', '(' and ')' are dropped.
 * Returns 0, or -1 when s is not a phone number (out is "").
 */
int api_phone_normalize(const char *s, char *out);

/* "YYYY-MM-DD" (a real date, year 1-9999) -> 0 with y, m, d set; -1 otherwise. */
int api_date_parse(const char *s, int *y, int *m, int *d);

/*
 * The database's instant text ("YYYY-MM-DD HH:MM:SS+00") as RFC 3339
 * ("YYYY-MM-DDTHH:MM:SSZ") into out; other text is copied unchanged.
 */
void api_instant_rfc3339(const char *db_text, char out[32]);

/*
 * The {name} placeholder of the path as a row id.  A value that is not an
 * id (1..2^63-1) cannot name any row, so it answers 404 like an unknown id
 * and returns -ERR_NOT_FOUND.
 */
int api_path_id(struct http_req *req, const char *name, int64_t *out, struct err *e);

/*
 * An optional query parameter: absent leaves *out unchanged and returns 0
 * (*present false); malformed answers 400 naming it and returns -ERR_USAGE.
 * api_query_id takes a row id, api_query_bool "true"/"false".
 */
int api_query_id(struct http_req *req, const char *name, int64_t *out, bool *present,
                 struct err *e);
int api_query_bool(struct http_req *req, const char *name, bool *out, bool *present, struct err *e);

/* Pagination. */
#define API_LIMIT_DEFAULT 50
#define API_LIMIT_MAX     200

struct api_page {
    int limit;        /* 1..API_LIMIT_MAX */
    int64_t after_id; /* 0 for the first page */
};

/*
 * Read `limit` and `cursor` from the query string.  A bad limit (not an
 * integer 1-200) or a cursor this program did not make answers 400 naming
 * it and returns -ERR_USAGE.
 */
int api_page_parse(struct http_req *req, struct api_page *out, struct err *e);

/* The cursor that continues after last_id.  Caller frees. */
char *api_cursor_encode(int64_t last_id);

/* The last id inside a cursor; -1 when it is not one. */
int api_cursor_decode(const char *cursor, int64_t *last_id);

/*
 * Turn a database row into a JSON object.  types holds one letter per
 * column of the result, naming how to show it (the key is the column's
 * name):
 *   'i' integer   's' string   'b' boolean   't' instant (RFC 3339)
 *   '-' left out
 * A NULL column is JSON null.  Returns a new reference; NULL only when a
 * string is not UTF-8 (the caller answers 500).
 */
json_t *api_row_json(const struct db_res *r, const char *types);

/*
 * Run a list query and answer the page.  sql must select the row's id as
 * its FIRST column, filter "id > after_id" and end "ORDER BY id LIMIT n"
 * with n = page->limit + 1 (the extra row tells whether another page
 * follows; it is not shown).  types as api_row_json().  Answers 200
 * {"items":[...],"next_cursor":...}; returns 0, or a negative code with e
 * filled and nothing answered (the handler returns it).
 */
int api_list_reply(struct http_req *req, struct db *db, const struct api_page *page,
                   const char *sql, int nparams, const struct db_param *params, const char *types,
                   struct err *e);

/*
 * Run a query expected to return at most one row and answer it as an
 * object with status (200, 201).  No row: -ERR_NOT_FOUND with "no WHAT
 * 'ID'" style message from what and id, nothing answered.
 */
int api_row_reply(struct http_req *req, int status, struct db *db, const char *sql, int nparams,
                  const struct db_param *params, const char *types, const char *what, int64_t id,
                  struct err *e);

/*
 * Does table hold row id in tenant tenant_id?  table is one of the
 * program's own table names (never client input).  Returns 1, 0, or a
 * negative code with e filled.
 */
int api_row_exists(struct db *db, const char *table, int64_t id, int64_t tenant_id, struct err *e);

/*
 * The same, for an id the request named: 0 when the row is there, else a
 * 404 not_found naming field ("no WHAT 'ID'") and -ERR_NOT_FOUND, or a
 * negative code with e filled.
 */
int api_row_require(struct http_req *req, struct db *db, const char *table, int64_t id,
                    int64_t tenant_id, const char *field, const char *what, struct err *e);

/*
 * Building INSERT and UPDATE statements from a validated body: the column
 * of a field is its name, its value the api_value's (null -> NULL, string
 * types -> text, INT/ID -> integer, BOOL -> boolean; ARRAY fields are
 * never columns).  Only the program's own field names reach the SQL text;
 * every value is a $N parameter.
 */
#define API_SQL_MAX_PARAMS (API_MAX_FIELDS + 16)

struct api_sql {
    struct buf text;
    struct db_param params[API_SQL_MAX_PARAMS];
    int nparams;
};

/* Start q with text. Release with api_sql_release(). */
void api_sql_init(struct api_sql *q, const char *text);
void api_sql_release(struct api_sql *q);

/* Append text. */
void api_sql_add(struct api_sql *q, const char *text);

/* Add a parameter and append its "$N" to the text. */
void api_sql_param(struct api_sql *q, struct db_param p);

/* A field's value as a parameter. */
struct db_param api_value_param(const struct api_field *f, const struct api_value *v);

/*
 * Append "col = $N, ..." for every present field of the table whose name
 * is not in skip (a NULL-terminated list, may be NULL), each preceded by
 * ", " when first is false or after the first.  Returns how many.
 */
int api_sql_set_fields(struct api_sql *q, const struct api_field *fields,
                       const struct api_value *values, const char *const *skip, bool first);

/*
 * Make q "INSERT INTO table (tenant_id, cols...) VALUES ($1, ...)
 * RETURNING id" from the present fields not in skip, plus the columns
 * extra_cols (NULL-terminated, may be NULL) with the values extra_params
 * (as many; e.g. a password's hash, which is no field of the body).
 */
void api_sql_insert(struct api_sql *q, const char *table, int64_t tenant_id,
                    const struct api_field *fields, const struct api_value *values,
                    const char *const *skip, const char *const *extra_cols,
                    const struct db_param *extra_params);

/*
 * When rc is a unique-key violation, answer 409 {"code":"duplicate",
 * "field":field}.  Returns rc either way (the handler returns it; an
 * unanswered error is answered by the server from e).
 */
int api_reply_duplicate(struct http_req *req, const struct err *e, int rc, const char *field,
                        const char *what);

/* The current instant as the database's text ("YYYY-MM-DD HH:MM:SS+00"). */
void api_now_text(char out[32]);

#endif
