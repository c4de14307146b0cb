/*
 * util — allocation that cannot fail, a growable string buffer, small
 * string helpers.  Knows nothing about the application.
 *
 * x*alloc abort the process when memory is exhausted: the program cannot do
 * anything useful then, and every caller is spared a check (git's xmalloc).
 */
#ifndef CITAPLANNER_UTIL_H
#define CITAPLANNER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* hex_encode moved to common/hash.h; included for its existing users. */
#include "common/hash.h"

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NUL-terminated buffer (git's strbuf).  Zero-initialise or buf_init(). */
struct buf {
    char *data; /* always NUL-terminated once anything was added; NULL before */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the string to the caller (caller frees with free()); b is reset. */
char *buf_detach(struct buf *b);
/* The content, "" when empty (never NULL). */
const char *buf_str(const struct buf *b);

bool str_eq(const char *a, const char *b);
bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);

/* The last component of path (borrowed from it): "a/b.gz" -> "b.gz". */
const char *path_base(const char *path);
/* Its directory ("a/b.gz" -> "a", "/b" -> "/", "b" -> "."); caller frees. */
char *path_dir(const char *path);

/* Add one item of a "; "-separated list of reasons to b. */
void buf_add_reason(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Is s[0..n) well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)? */
bool utf8_valid(const char *s, size_t n);

/* Parse a whole decimal integer within [min, max]; returns 0 or -1. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Overwrite memory so the compiler cannot drop it (for secrets). */
void secure_zero(void *p, size_t n);

/* Monotonic clock in seconds. */
double time_mono(void);

/* Sleep ms milliseconds (a signal may cut it short). */
void sleep_ms(long ms);

#endif
