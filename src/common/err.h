/*
 * err — error codes and the error a function hands back to its caller.
 *
 * Functions that can fail return 0 on success or a negative error code
 * (-ERR_X), and fill the caller's struct err with the code and a message.
 * Messages are lowercase, without a final period, the subject in quotes:
 *
 *     return err_set(e, ERR_DB_CONNECT, "cannot connect to '%s'", host);
 *
 * A message never holds a secret: callers format URLs with url_redacted().
 */
#ifndef CITAPLANNER_ERR_H
#define CITAPLANNER_ERR_H

#include <stddef.h>

enum err_code {
#define ERR(name, exit_status, desc) ERR_##name,
#include "common/errors.def"
#undef ERR
    ERR__COUNT
};

#define ERR_MSG_MAX 1024

struct err {
    enum err_code code;
    char msg[ERR_MSG_MAX];
};

/* Reset to ERR_OK with an empty message. */
void err_clear(struct err *e);

/*
 * Set code and message (printf format).  Returns -code, so that a failing
 * function can `return err_set(...)`.  e may be NULL.
 */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "PREFIX: ", keeping the code. Returns -code. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Exit status for a code (SPEC §2). */
int err_exit_status(enum err_code code);

/* Symbolic name ("DB_CONNECT") and description of a code. */
const char *err_name(enum err_code code);
const char *err_desc(enum err_code code);

#endif
