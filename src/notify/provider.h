/*
 * provider — the small interface every channel's provider implements
 * (smtp.c, whatsapp.c, twilio.c).  Adding a provider (another SMS gateway):
 * one file defining a `const struct notify_provider`, one row in
 * notify_providers[] (sender.c), its file in meson.build.
 *
 * A provider sends one rendered message and says how it went: sent (with
 * the provider's id for it), retry (a temporary failure: network, timeout,
 * 5xx, 429 — with the wait the provider asked for, if any), or fail (the
 * provider refused it for good: its reason).  It never logs a credential;
 * reasons carry the provider's words, never the request.
 */
#ifndef CITAPLANNER_NOTIFY_PROVIDER_H
#define CITAPLANNER_NOTIFY_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

/* A tenant's credentials (borrowed strings, NULL when not set). */
struct notify_creds {
    const char *wa_phone_number_id, *wa_token, *wa_version;
    const char *twilio_sid, *twilio_token, *twilio_from;
};

/* One message to send (borrowed). */
struct notify_msg {
    const char *recipient; /* e-mail address, or phone "+52..." */
    const char *language;  /* "es" or "en" */
    const char *subject;   /* e-mail: the subject; WhatsApp: the template's name */
    const char *body;      /* rendered text */
    const char *params;    /* WhatsApp: JSON array of the template's parameters */
    const char *key;       /* idempotency key: Message-ID, idempotency headers */
};

enum notify_outcome_kind { NOTIFY_OUT_SENT, NOTIFY_OUT_RETRY, NOTIFY_OUT_FAIL };

struct notify_outcome {
    enum notify_outcome_kind kind;
    char provider_id[160];
    char reason[400];
    int retry_after_s; /* 0: the sender's back-off decides */
};

struct notify_provider {
    const char *channel; /* "email", "whatsapp", "sms" */
    const char *name;    /* "smtp", "whatsapp-cloud", "twilio" */
    /* State kept between sends (a libcurl handle: its connections are reused). */
    void *(*open)(void);
    void (*close)(void *state);
    void (*send)(void *state, const struct config *cfg, const struct notify_creds *c,
                 const struct notify_msg *m, struct notify_outcome *out);
};

extern const struct notify_provider notify_smtp;
extern const struct notify_provider notify_whatsapp;
extern const struct notify_provider notify_twilio;

/*
 * http.c: POST body to url with handle state (a CURL *), headers (NULL-
 * ended "Name: value" list), basic-auth userpwd (NULL: none).  Fills
 * *status (0 when no answer), the answer's body (caller frees) and
 * Retry-After in seconds (0 when absent).  A transport failure (connect,
 * timeout) returns -1 with reason.
 */
int notify_http_post(void *state, const char *url, const char *const *headers, const char *userpwd,
                     const char *body, long *status, char **answer, int *retry_after, char *reason,
                     size_t rsize);
void *notify_http_open(void);
void notify_http_close(void *state);

/* Classify an HTTP status: 429 and 5xx retry; other 4xx fail. */
enum notify_outcome_kind notify_http_kind(long status);

#endif
