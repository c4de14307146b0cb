/* err — see err.h. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int exit_status;
    const char *desc;
} err_table[] = {
#define ERR(name, exit_status, desc) {#name, exit_status, desc},
#include "common/errors.def"
#undef ERR
};

void err_clear(struct err *e)
{
    if (e == NULL)
        return;
    e->code = ERR_OK;
    e->msg[0] = '\0';
}

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        e->code = code;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return -(int)code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    char old[ERR_MSG_MAX];
    size_t n;
    va_list ap;

    if (e == NULL)
        return -(int)ERR_INTERNAL;
    memcpy(old, e->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    /* Append ": OLD", truncating what does not fit. */
    n = strlen(e->msg);
    if (n + 2 < sizeof(e->msg)) {
        memcpy(e->msg + n, ": ", 2);
        n += 2;
        size_t room = sizeof(e->msg) - n - 1;
        size_t len = strnlen(old, room);
        memcpy(e->msg + n, old, len);
        e->msg[n + len] = '\0';
    }
    return -(int)e->code;
}

int err_exit_status(enum err_code code)
{
    if ((int)code < 0 || code >= ERR__COUNT)
        return 1;
    return err_table[code].exit_status;
}

const char *err_name(enum err_code code)
{
    if ((int)code < 0 || code >= ERR__COUNT)
        return "UNKNOWN";
    return err_table[code].name;
}

const char *err_desc(enum err_code code)
{
    if ((int)code < 0 || code >= ERR__COUNT)
        return "unknown error";
    return err_table[code].desc;
}
