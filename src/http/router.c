/* router — see router.h. */
#include "http/router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void http_params_release(struct http_params *p)
{
    for (int i = 0; i < p->count; i++)
        free(p->items[i].value);
    p->count = 0;
}

const char *http_params_get(const struct http_params *p, const char *name)
{
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    return NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s[0..len) into a new string, or NULL when an escape is
 * malformed or decodes to NUL (a value with an embedded NUL would be cut
 * short by every C string function after it, so it is refused here).
 */
static char *decode_segment(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[n++] = s[i];
            continue;
        }
        if (i + 2 >= len) {
            free(out);
            return NULL;
        }
        int hi = hex_value(s[i + 1]);
        int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[n++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[n] = '\0';
    return out;
}

int http_route_match(const char *pattern, const char *path, struct http_params *params)
{
    const char *p = pattern;
    const char *s = path;
    int matched = 0;

    if (p[0] != '/' || s[0] != '/')
        goto cleanup;
    for (;;) {
        /* Both point at a '/' here: compare the next segments. */
        p++;
        s++;
        size_t plen = strcspn(p, "/");
        size_t slen = strcspn(s, "/");

        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            size_t nlen = plen - 2;
            char *value;

            if (slen == 0 || params->count >= HTTP_MAX_PARAMS || nlen == 0 ||
                nlen >= HTTP_PARAM_NAME_MAX)
                goto cleanup;
            value = decode_segment(s, slen);
            if (value == NULL)
                goto cleanup;
            memcpy(params->items[params->count].name, p + 1, nlen);
            params->items[params->count].name[nlen] = '\0';
            params->items[params->count].value = value;
            params->count++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            goto cleanup;
        }
        p += plen;
        s += slen;
        if (*p == '\0' || *s == '\0') {
            matched = *p == '\0' && *s == '\0';
            goto cleanup;
        }
    }

cleanup:
    if (!matched)
        http_params_release(params);
    return matched;
}

/* Add method to the comma-separated list unless it is there already. */
static void allow_add(struct buf *allow, const char *method)
{
    const char *list = buf_str(allow);
    size_t mlen = strlen(method);

    for (const char *at = list; *at != '\0';) {
        size_t len = strcspn(at, ",");
        if (len == mlen && memcmp(at, method, mlen) == 0)
            return;
        at += len;
        while (*at == ',' || *at == ' ')
            at++;
    }
    if (allow->len > 0)
        buf_adds(allow, ", ");
    buf_adds(allow, method);
}

enum http_route_result http_router_find(const struct http_route *routes, const char *method,
                                        const char *path, const struct http_route **route,
                                        struct http_params *params, struct buf *allow)
{
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_known = false;
    struct http_params scratch = {0};

    *route = NULL;
    for (const struct http_route *r = routes; r->method != NULL; r++) {
        if (strcmp(r->method, want) == 0) {
            if (http_route_match(r->pattern, path, params)) {
                *route = r;
                return HTTP_ROUTE_FOUND;
            }
            continue;
        }
        if (http_route_match(r->pattern, path, &scratch)) {
            http_params_release(&scratch);
            path_known = true;
        }
    }
    if (!path_known)
        return HTTP_ROUTE_NOT_FOUND;
    if (allow != NULL) {
        /* Collect the methods in table order; GET brings HEAD along. */
        for (const struct http_route *r = routes; r->method != NULL; r++) {
            if (!http_route_match(r->pattern, path, &scratch))
                continue;
            http_params_release(&scratch);
            allow_add(allow, r->method);
            if (strcmp(r->method, "GET") == 0)
                allow_add(allow, "HEAD");
        }
    }
    return HTTP_ROUTE_METHOD_NOT_ALLOWED;
}
