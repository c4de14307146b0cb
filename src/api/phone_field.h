/*
 * phone_field — a write's phone number to E.164 (domain/phone.h), for the
 * resources that store one: clients, users, branches, the tenant.
 */
#ifndef CITAPLANNER_API_PHONE_FIELD_H
#define CITAPLANNER_API_PHONE_FIELD_H

#include "api/resource.h"
#include "api/validate.h"

/* A country calling code ("52") and its NUL, with room to spare. */
#define API_CC_MAX 8

/*
 * The value of field (of the resource's fields; when present and not null) rewritten in place as
 * E.164, a national number taking cc, or the tenant's default_country_code
 * when cc is NULL ("52" when it has none).  cc_out (may be NULL) receives
 * the code used.  Not a number: 400 invalid naming field, as a client's
 * phone; returns 0 or a negative code after answering.
 */
int api_phone_field_e164(struct api_write *w, const char *field, const char *cc,
                         char cc_out[API_CC_MAX], struct err *e);

#endif
