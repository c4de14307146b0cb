/*
 * smtp — e-mail through the mail server of SMTP_URL, with libcurl.
 *
 * smtps://host[:465] is TLS from the start; smtp://host[:587] must upgrade
 * with STARTTLS, but for a server on the loopback (a local relay, the
 * tests) where plain SMTP is accepted.  user:password in the URL make
 * libcurl authenticate (AUTH); the URL is a secret and never printed.
 *
 * The message is MIME multipart/alternative: text/plain and text/html,
 * both UTF-8 and quoted-printable; a Subject with anything but ASCII is
 * RFC 2047 encoded-words; Message-ID is the row's idempotency key, so that
 * a message sent again after a crash carries the same id (a receiver that
 * deduplicates by Message-ID shows it once).
 *
 * A 4xx reply (or no reply) is temporary; a 5xx reply is final.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "notify/provider.h"
#include "notify/templates.h"
#include "notify/smtp_mime.h"

#define CONNECT_TIMEOUT_S 10
#define TIMEOUT_S         60

struct upload {
    const char *data;
    size_t len, off;
};

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t left = u->len - u->off, k = size * n < left ? size * n : left;
    memcpy(p, u->data + u->off, k);
    u->off += k;
    return k;
}

/* The address inside "Name <addr>", or the whole text. */
static char *address_of(const char *from)
{
    const char *lt = strrchr(from, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;
    if (lt != NULL && gt != NULL)
        return xstrndup(lt + 1, (size_t)(gt - lt - 1));
    return xstrdup(from);
}

/* Is the URL's host the loopback (plain SMTP allowed)? */
static bool loopback(const char *url)
{
    const char *h = strstr(url, "://");
    const char *at;

    if (h == NULL)
        return false;
    h += 3;
    at = strchr(h, '@');
    if (at != NULL && (strchr(h, '/') == NULL || at < strchr(h, '/')))
        h = at + 1;
    return str_starts_with(h, "127.") || str_starts_with(h, "localhost") ||
           str_starts_with(h, "[::1]");
}

static void *smtp_open(void)
{
    return curl_easy_init();
}

static void smtp_close(void *state)
{
    if (state != NULL)
        curl_easy_cleanup(state);
}

static void smtp_send(void *state, const struct config *cfg, const struct notify_creds *c,
                      const struct notify_msg *m, struct notify_outcome *out)
{
    CURL *h = state;
    struct curl_slist *rcpt = NULL;
    struct upload u = {0};
    char *from = NULL, *mime = NULL, *rcpt_addr = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    long code = 0;
    CURLcode cc;

    (void)c;
    memset(out, 0, sizeof(*out));
    if (cfg->smtp_url == NULL || cfg->smtp_from == NULL || h == NULL) {
        out->kind = NOTIFY_OUT_FAIL;
        snprintf(out->reason, sizeof(out->reason),
                 "e-mail is not configured (SMTP_URL, SMTP_FROM)");
        goto cleanup;
    }
    from = address_of(cfg->smtp_from);
    mime = smtp_mime_build(cfg->smtp_from, m->recipient, m->subject != NULL ? m->subject : "",
                           m->body, m->language, m->key, time(NULL));
    u.data = mime;
    u.len = strlen(mime);
    rcpt_addr = xasprintf("<%s>", m->recipient);
    rcpt = curl_slist_append(rcpt, rcpt_addr);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     (long)(loopback(cfg->smtp_url) ? CURLUSESSL_TRY : CURLUSESSL_ALL));
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (cc == CURLE_OK) {
        out->kind = NOTIFY_OUT_SENT;
        snprintf(out->provider_id, sizeof(out->provider_id), "<%s@%s>", m->key,
                 strchr(from, '@') != NULL ? strchr(from, '@') + 1 : "citaplanner");
    } else {
        out->kind = code >= 500 ? NOTIFY_OUT_FAIL : NOTIFY_OUT_RETRY;
        /* curl's words; errbuf may quote the server's reply, never the URL's password */
        snprintf(out->reason, sizeof(out->reason), "smtp %ld: %s", code,
                 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
    }
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);

cleanup:
    curl_slist_free_all(rcpt);
    free(rcpt_addr);
    free(from);
    free(mime);
}

const struct notify_provider notify_smtp = {
    .channel = "email",
    .name = "smtp",
    .open = smtp_open,
    .close = smtp_close,
    .send = smtp_send,
};
