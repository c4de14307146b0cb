/*
 * log — leveled log lines on stderr, safe from several threads.
 *
 * Line format: "2025-01-09T02:00:00.123Z LEVEL [context] message".
 * The context is per thread (a request id, "boot", "backup").
 * Never pass a secret: format URLs with url_redacted().
 */
#ifndef CITAPLANNER_LOG_H
#define CITAPLANNER_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/* Per-thread context shown in brackets; NULL clears.  The string is copied. */
void log_set_context(const char *ctx);

/*
 * Also copy every line at or above INFO to this file (for example a backup's
 * log file), from the calling thread only, until log_set_tee(NULL).
 */
void log_set_tee(FILE *f);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
