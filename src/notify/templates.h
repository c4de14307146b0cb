/*
 * templates — the texts of the messages: built-in defaults (es-MX and
 * English) and a tenant's own (message_templates), their variables
 * ({{first_name}}, {{service}}, …), checking a text when it is saved and
 * rendering it when a message is written.
 *
 * A text is checked when saved, never found wrong when sent: an unknown
 * variable, an unclosed "{{", or {{manage_link}} where no online booking
 * page exists is refused then.
 */
#ifndef CITAPLANNER_NOTIFY_TEMPLATES_H
#define CITAPLANNER_NOTIFY_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum notify_var {
    NV_FIRST_NAME,
    NV_SERVICE,
    NV_PROFESSIONAL,
    NV_BRANCH,
    NV_ADDRESS,
    NV_DATE,
    NV_TIME,
    NV_PRICE,
    NV_MANAGE_LINK,
    NV_BUSINESS,
    NV_COUNT
};

/* The names, in enum order ("first_name", ...). */
extern const char *const notify_var_names[NV_COUNT];

/* The values of one message's variables (borrowed; NULL renders as ""). */
struct notify_vars {
    const char *v[NV_COUNT];
};

/* Results of notify_template_check. */
enum notify_tpl_check {
    NOTIFY_TPL_OK = 0,
    NOTIFY_TPL_UNKNOWN = -1,     /* {{name}} is not a variable: bad holds the name */
    NOTIFY_TPL_SYNTAX = -2,      /* "{{" without "}}", or an empty name */
    NOTIFY_TPL_UNAVAILABLE = -3, /* {{manage_link}} without an online booking page */
};

/* Check text; bad (size n) receives the offending name. */
enum notify_tpl_check notify_template_check(const char *text, bool manage_link_available, char *bad,
                                            size_t n);

/*
 * Render text with v.  params (may be NULL) receives each variable's value,
 * in order of appearance, as JSON strings (WhatsApp's template parameters).
 * Caller frees the result.  text must have passed notify_template_check.
 */
char *notify_render(const char *text, const struct notify_vars *v, json_t *params);

/* The built-in text of a channel/kind/language ("es" or "en"); subject NULL but for e-mail. */
void notify_template_default(const char *channel, const char *kind, const char *lang,
                             const char **subject, const char **body, const char **wa_template);

/* Fill date and time of instant t in zone tz, in lang ("es": "martes 9 de diciembre de 2025",
 * "10:30"). */
void notify_format_when(const char *tz, const char *lang, int64_t t, char *date, size_t dsize,
                        char *time, size_t tsize);

/* "$1,200.00 MXN". */
void notify_format_price(int64_t cents, const char *currency, char *out, size_t size);

/* The plain text as an HTML e-mail body (escaped, line breaks kept); caller frees. */
char *notify_html_of(const char *plain, const char *lang);

#endif
