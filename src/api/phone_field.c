/*
 * phone_field — one form for every phone number the API stores: E.164 with
 * the tenant's calling code for a national number, so that "5511110001"
 * and "+52 55 1111 0001" are one number (issue 16).
 */
#include "api/phone_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/phone.h"

#define DEFAULT_CC "52"

int api_phone_field_e164(struct api_write *w, const char *field, const char *cc,
                         char cc_out[API_CC_MAX], struct err *e)
{
    struct api_value *v = NULL;
    char e164[PHONE_E164_MAX];
    char *stored = NULL;
    int rc = 0;

    for (int i = 0; w->res->fields[i].name != NULL && v == NULL; i++)
        if (strcmp(w->res->fields[i].name, field) == 0)
            v = &w->v[i];
    if (v == NULL || !v->present || v->null)
        goto cleanup;
    if (cc == NULL) {
        rc = db_query_text(w->db, "SELECT default_country_code FROM tenants WHERE id = $1",
                           DB_PARAMS(DB_INT(w->a.tenant_id)), &stored, e);
        if (rc < 0)
            goto cleanup;
        rc = 0;
        cc = stored != NULL && stored[0] != '\0' ? stored : DEFAULT_CC;
    }
    if (cc_out != NULL)
        snprintf(cc_out, API_CC_MAX, "%s", cc);
    if (phone_e164(v->s, cc, e164) < 0) {
        rc = api_reply_invalid(w->req, e, field,
                               "'%s' must be a phone number of 8 to 15 digits with its "
                               "country code",
                               field);
        goto cleanup;
    }
    snprintf(v->norm, sizeof(v->norm), "%s", e164);
    v->s = v->norm;

cleanup:
    free(stored);
    return rc;
}
