/* templates — see templates.h. */
#include "notify/templates.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/tz.h"
#include "common/util.h"

const char *const notify_var_names[NV_COUNT] = {
    [NV_FIRST_NAME] = "first_name",
    [NV_SERVICE] = "service",
    [NV_PROFESSIONAL] = "professional",
    [NV_BRANCH] = "branch",
    [NV_ADDRESS] = "address",
    [NV_DATE] = "date",
    [NV_TIME] = "time",
    [NV_PRICE] = "price",
    [NV_MANAGE_LINK] = "manage_link",
    [NV_BUSINESS] = "business",
};

/* The defaults: one text per kind and language; e-mail adds a subject. */
struct tpl_default {
    const char *kind, *lang, *subject, *body, *wa_template;
};

static const struct tpl_default defaults[] = {
    {"confirmation", "es", "Tu cita en {{business}} está agendada",
     "Hola {{first_name}}, tu cita de {{service}} con {{professional}} quedó agendada para el "
     "{{date}} a las {{time}} en {{branch}} ({{address}}). Precio: {{price}}.",
     "cita_confirmacion"},
    {"confirmation", "en", "Your appointment at {{business}} is booked",
     "Hi {{first_name}}, your {{service}} appointment with {{professional}} is booked for "
     "{{date}} at {{time}} at {{branch}} ({{address}}). Price: {{price}}.",
     "appointment_confirmation"},
    {"reschedule", "es", "Tu cita en {{business}} cambió de horario",
     "Hola {{first_name}}, tu cita de {{service}} con {{professional}} ahora es el {{date}} a "
     "las {{time}} en {{branch}} ({{address}}).",
     "cita_reprogramada"},
    {"reschedule", "en", "Your appointment at {{business}} has a new time",
     "Hi {{first_name}}, your {{service}} appointment with {{professional}} is now on {{date}} "
     "at {{time}} at {{branch}} ({{address}}).",
     "appointment_rescheduled"},
    {"cancellation", "es", "Tu cita en {{business}} fue cancelada",
     "Hola {{first_name}}, tu cita de {{service}} del {{date}} a las {{time}} en {{branch}} fue "
     "cancelada. Si quieres otra fecha, con gusto te atendemos.",
     "cita_cancelada"},
    {"cancellation", "en", "Your appointment at {{business}} was cancelled",
     "Hi {{first_name}}, your {{service}} appointment on {{date}} at {{time}} at {{branch}} was "
     "cancelled. We will gladly find you another time.",
     "appointment_cancelled"},
    {"reminder", "es", "Recordatorio: tu cita en {{business}}",
     "Hola {{first_name}}, te recordamos tu cita de {{service}} con {{professional}} el {{date}} "
     "a las {{time}} en {{branch}} ({{address}}). Responde 1 para confirmar o 2 para cancelar.",
     "cita_recordatorio"},
    {"reminder", "en", "Reminder: your appointment at {{business}}",
     "Hi {{first_name}}, a reminder of your {{service}} appointment with {{professional}} on "
     "{{date}} at {{time}} at {{branch}} ({{address}}). Reply 1 to confirm or 2 to cancel.",
     "appointment_reminder"},
};

void notify_template_default(const char *channel, const char *kind, const char *lang,
                             const char **subject, const char **body, const char **wa_template)
{
    const struct tpl_default *d = &defaults[0];

    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strcmp(defaults[i].kind, kind) == 0 && strcmp(defaults[i].lang, lang) == 0) {
            d = &defaults[i];
            break;
        }
    *subject = strcmp(channel, "email") == 0 ? d->subject : NULL;
    *body = d->body;
    *wa_template = d->wa_template;
}

/* The variable named s[0..n), or -1. */
static int var_of(const char *s, size_t n)
{
    for (int i = 0; i < NV_COUNT; i++)
        if (strlen(notify_var_names[i]) == n && memcmp(notify_var_names[i], s, n) == 0)
            return i;
    return -1;
}

/* The name inside "{{ name }}" starting at p (after "{{"): its span, and the end after "}}". */
static bool name_at(const char *p, const char **name, size_t *n, const char **after)
{
    const char *close = strstr(p, "}}");

    if (close == NULL)
        return false;
    while (p < close && *p == ' ')
        p++;
    *name = p;
    while (close > p && close[-1] == ' ')
        close--;
    *n = (size_t)(close - p);
    *after = strstr(close, "}}") + 2;
    return *n > 0 && memchr(p, '{', *n) == NULL;
}

enum notify_tpl_check notify_template_check(const char *text, bool manage_link_available, char *bad,
                                            size_t n)
{
    const char *p = text;

    if (n > 0)
        bad[0] = '\0';
    while ((p = strstr(p, "{{")) != NULL) {
        const char *name, *after;
        size_t len;
        int var;

        if (!name_at(p + 2, &name, &len, &after))
            return NOTIFY_TPL_SYNTAX;
        var = var_of(name, len);
        if (var < 0) {
            snprintf(bad, n, "%.*s", (int)(len > 64 ? 64 : len), name);
            return NOTIFY_TPL_UNKNOWN;
        }
        if (var == NV_MANAGE_LINK && !manage_link_available) {
            snprintf(bad, n, "%s", notify_var_names[var]);
            return NOTIFY_TPL_UNAVAILABLE;
        }
        p = after;
    }
    if (strstr(text, "}}") != NULL) {
        /* a "}}" without its "{{" is a typo the client would see */
        const char *q = text;
        int open = 0, close = 0;
        while ((q = strstr(q, "{{")) != NULL)
            open++, q += 2;
        q = text;
        while ((q = strstr(q, "}}")) != NULL)
            close++, q += 2;
        if (close != open)
            return NOTIFY_TPL_SYNTAX;
    }
    return NOTIFY_TPL_OK;
}

char *notify_render(const char *text, const struct notify_vars *v, json_t *params)
{
    struct buf b = BUF_INIT;
    const char *p = text, *q;

    while ((q = strstr(p, "{{")) != NULL) {
        const char *name, *after;
        size_t len;
        int var;

        buf_add(&b, p, (size_t)(q - p));
        if (!name_at(q + 2, &name, &len, &after) || (var = var_of(name, len)) < 0) {
            buf_add(&b, q, 2);
            p = q + 2;
            continue;
        }
        buf_adds(&b, v->v[var] != NULL ? v->v[var] : "");
        if (params != NULL)
            json_array_append_new(
                params, json_string(v->v[var] != NULL && v->v[var][0] != '\0' ? v->v[var] : "-"));
        p = after;
    }
    buf_adds(&b, p);
    return buf_detach(&b);
}

static const char *const es_days[] = {"domingo", "lunes",   "martes", "miércoles",
                                      "jueves",  "viernes", "sábado"};
static const char *const es_months[] = {"enero",      "febrero", "marzo",     "abril",
                                        "mayo",       "junio",   "julio",     "agosto",
                                        "septiembre", "octubre", "noviembre", "diciembre"};
static const char *const en_days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};
static const char *const en_months[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};

void notify_format_when(const char *tz, const char *lang, int64_t t, char *date, size_t dsize,
                        char *time, size_t tsize)
{
    struct tz_local l;
    struct err e;

    if (tz_utc_to_local(tz, t, &l, &e) < 0 && tz_utc_to_local("UTC", t, &l, &e) < 0) {
        snprintf(date, dsize, "?");
        snprintf(time, tsize, "?");
        return;
    }
    if (strcmp(lang, "en") == 0) {
        snprintf(date, dsize, "%s, %s %d, %d", en_days[l.wday], en_months[l.mon - 1], l.d, l.y);
        snprintf(time, tsize, "%d:%02d %s", l.h % 12 == 0 ? 12 : l.h % 12, l.min,
                 l.h < 12 ? "AM" : "PM");
    } else {
        snprintf(date, dsize, "%s %d de %s de %d", es_days[l.wday], l.d, es_months[l.mon - 1], l.y);
        snprintf(time, tsize, "%02d:%02d", l.h, l.min);
    }
}

void notify_format_price(int64_t cents, const char *currency, char *out, size_t size)
{
    char digits[32], grouped[48];
    size_t n, k = 0;

    if (cents < 0)
        cents = 0;
    snprintf(digits, sizeof(digits), "%lld", (long long)(cents / 100));
    n = strlen(digits);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[k++] = ',';
        grouped[k++] = digits[i];
    }
    grouped[k] = '\0';
    snprintf(out, size, "$%s.%02lld %s", grouped, (long long)(cents % 100),
             currency != NULL ? currency : "MXN");
}

char *notify_html_of(const char *plain, const char *lang)
{
    struct buf b = BUF_INIT;

    buf_addf(&b,
             "<!DOCTYPE html>\r\n<html lang=\"%s\"><head><meta charset=\"utf-8\"></head>"
             "<body style=\"font-family:sans-serif\"><p>",
             strcmp(lang, "en") == 0 ? "en" : "es-MX");
    for (const char *p = plain; *p != '\0'; p++) {
        switch (*p) {
        case '<':
            buf_adds(&b, "&lt;");
            break;
        case '>':
            buf_adds(&b, "&gt;");
            break;
        case '&':
            buf_adds(&b, "&amp;");
            break;
        case '"':
            buf_adds(&b, "&quot;");
            break;
        case '\n':
            buf_adds(&b, "<br>\r\n");
            break;
        case '\r':
            break;
        default:
            buf_addc(&b, *p);
        }
    }
    buf_adds(&b, "</p></body></html>\r\n");
    return buf_detach(&b);
}
