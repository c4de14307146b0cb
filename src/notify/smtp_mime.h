/*
 * smtp_mime — the text of one e-mail (RFC 5322 + MIME), no I/O: headers
 * (Date, From, To, Subject in RFC 2047 encoded-words when not ASCII,
 * Message-ID, MIME-Version) and a multipart/alternative body of text/plain
 * and text/html, both UTF-8 quoted-printable, CRLF line ends.
 */
#ifndef CITAPLANNER_NOTIFY_SMTP_MIME_H
#define CITAPLANNER_NOTIFY_SMTP_MIME_H

#include <stddef.h>
#include <time.h>

#include "common/util.h"

/* The message; key makes Message-ID <key@from's domain> and the boundary.  Caller frees. */
char *smtp_mime_build(const char *from, const char *to, const char *subject, const char *plain,
                      const char *lang, const char *key, time_t date);

/* text as a header value: itself when printable ASCII, else folded encoded-words. */
void smtp_mime_header_word(struct buf *b, const char *text);

/* text as quoted-printable (lines of at most 76), LF or CRLF in, CRLF out. */
void smtp_mime_qp(struct buf *b, const char *text);

#endif
