/* web — the staff web app (web/), embedded at build time: see api.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/util.h"
#include "web_gen.h"

/*
 * The app is plain modules loaded from our own origin: no inline script or
 * style attribute, no other origin, no framing.  A page that breaks a rule
 * fails loudly (the browser tests treat a violation as a failure).
 */
#define WEB_CSP                                                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                    \
    "frame-ancestors 'none'; form-action 'self'"

static const struct api_web_file *web_find(const char *path)
{
    for (int i = 0; i < api_web_files_count; i++)
        if (strcmp(api_web_files[i].path, path) == 0)
            return &api_web_files[i];
    return NULL;
}

/* Does an If-None-Match header name etag (a list, or "*")? */
static bool etag_matches(const char *header, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = header;

    if (header == NULL)
        return false;
    if (strcmp(header, "*") == 0)
        return true;
    while ((p = strstr(p, etag)) != NULL) {
        /* Whole entries only: a weak "W/" prefix still matches (RFC 9110 weak comparison). */
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ')
            return true;
        p += n;
    }
    return false;
}

/* The CSP without its frame-ancestors, for a page that may be framed. */
#define WEB_CSP_FRAMED                                                                             \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                    \
    "form-action 'self'; frame-ancestors "

static int web_send_framed(struct http_req *req, const struct api_web_file *f,
                           const char *frame_ancestors)
{
    http_set_header(req, "ETag", f->etag);
    /* Asset names carry no hash: revalidate every time, a 304 is cheap. */
    http_set_header(req, "Cache-Control", "no-cache");
    if (frame_ancestors == NULL) {
        http_set_header(req, "Content-Security-Policy", WEB_CSP);
        http_set_header(req, "X-Frame-Options", "DENY");
    } else {
        char *csp = xasprintf(WEB_CSP_FRAMED "%s", frame_ancestors);
        http_set_header(req, "Content-Security-Policy", csp);
        free(csp);
    }
    /* X-Content-Type-Options: nosniff is on every answer (http/request.c). */
    http_set_header(req, "Referrer-Policy", "no-referrer");
    if (etag_matches(http_req_header(req, "If-None-Match"), f->etag))
        return http_reply_empty(req, 304);
    return http_reply_text(req, 200, f->content_type, f->data, f->len);
}

static int web_send(struct http_req *req, const struct api_web_file *f)
{
    return web_send_framed(req, f, NULL);
}

int api_web_page(struct http_req *req, const char *path, const char *frame_ancestors, struct err *e)
{
    const struct api_web_file *f = web_find(path);

    if (f == NULL)
        return err_set(e, ERR_NOT_FOUND, "no page '%s' in this build", path);
    return web_send_framed(req, f, frame_ancestors);
}

static int api_web_index(struct http_req *req, struct err *e)
{
    const struct api_web_file *f = web_find("/index.html");

    if (f == NULL)
        return err_set(e, ERR_NOT_FOUND, "no web app in this build");
    return web_send(req, f);
}

static int api_web_asset(struct http_req *req, struct err *e)
{
    const char *name = http_req_param(req, "name");
    char path[256];
    const struct api_web_file *f = NULL;

    if (name != NULL && strlen(name) < sizeof(path) - 16) {
        snprintf(path, sizeof(path), "/assets/%s", name);
        f = web_find(path);
    }
    if (f == NULL)
        return err_set(e, ERR_NOT_FOUND, "no asset '%s'", name != NULL ? name : "");
    return web_send(req, f);
}

const struct http_route api_web_routes[] = {
    {"GET", "/", api_web_index, HTTP_ROUTE_PUBLIC},
    {"GET", "/assets/{name}", api_web_asset, HTTP_ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};
