/*
 * http — the one POST the HTTP providers (whatsapp.c, twilio.c) make,
 * through libcurl, on a handle kept by the sender so that connections to
 * the provider are reused.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/util.h"
#include "notify/provider.h"
#include "version.h"

#define CONNECT_TIMEOUT_S 10
#define TIMEOUT_S         30
#define ANSWER_MAX        (256 * 1024)

struct answer {
    struct buf body;
    int retry_after;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    if (a->body.len + size * n <= ANSWER_MAX)
        buf_add(&a->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n;

    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        const char *v = p + 12;
        while (*v == ' ')
            v++;
        if (isdigit((unsigned char)*v))
            a->retry_after = atoi(v); /* an HTTP date is left to the back-off */
    }
    return len;
}

void *notify_http_open(void)
{
    return curl_easy_init();
}

void notify_http_close(void *state)
{
    if (state != NULL)
        curl_easy_cleanup(state);
}

int notify_http_post(void *state, const char *url, const char *const *headers, const char *userpwd,
                     const char *body, long *status, char **answer, int *retry_after, char *reason,
                     size_t rsize)
{
    CURL *c = state;
    struct curl_slist *h = NULL;
    struct answer a = {BUF_INIT, 0};
    CURLcode cc;
    int rc = 0;

    *status = 0;
    *answer = NULL;
    *retry_after = 0;
    if (c == NULL) {
        snprintf(reason, rsize, "cannot initialise libcurl");
        return -1;
    }
    curl_easy_reset(c);
    for (int i = 0; headers != NULL && headers[i] != NULL; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "citaplanner/" CITAPLANNER_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
    if (userpwd != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        /* curl's words name the host and the cause, never the credentials */
        snprintf(reason, rsize, "%s", curl_easy_strerror(cc));
        rc = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        *retry_after = a.retry_after;
        *answer = buf_detach(&a.body);
        if (*answer == NULL)
            *answer = xstrdup("");
    }
    if (userpwd != NULL)
        curl_easy_setopt(c, CURLOPT_USERPWD, "");
    curl_slist_free_all(h);
    buf_release(&a.body);
    return rc;
}

enum notify_outcome_kind notify_http_kind(long status)
{
    if (status >= 200 && status < 300)
        return NOTIFY_OUT_SENT;
    if (status == 429 || status >= 500 || status == 408)
        return NOTIFY_OUT_RETRY;
    return NOTIFY_OUT_FAIL;
}
