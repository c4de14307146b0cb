/* smtp_mime — see smtp_mime.h. */
#include "notify/smtp_mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "notify/templates.h"

#define WORD_BYTES 45 /* base64 of 45 bytes is 60 characters: a word of 72 */

static bool plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return strstr(s, "=?") == NULL;
}

void smtp_mime_header_word(struct buf *b, const char *text)
{
    size_t n = strlen(text), i = 0;
    unsigned char out[4 * WORD_BYTES / 3 + 4];

    if (plain_ascii(text)) {
        buf_adds(b, text);
        return;
    }
    while (i < n) {
        size_t k = n - i < WORD_BYTES ? n - i : WORD_BYTES;
        /* never split a UTF-8 character between two words (RFC 2047 §5) */
        while (i + k < n && k > 0 && ((unsigned char)text[i + k] & 0xC0) == 0x80)
            k--;
        EVP_EncodeBlock(out, (const unsigned char *)text + i, (int)k);
        buf_addf(b, "%s=?UTF-8?B?%s?=", i > 0 ? "\r\n " : "", (const char *)out);
        i += k;
    }
}

void smtp_mime_qp(struct buf *b, const char *text)
{
    int col = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        char enc[4];
        int w;

        if (*p == '\r')
            continue;
        if (*p == '\n') {
            buf_adds(b, "\r\n");
            col = 0;
            continue;
        }
        if ((*p >= 33 && *p <= 126 && *p != '=') ||
            ((*p == ' ' || *p == '\t') && p[1] != '\n' && p[1] != '\r' && p[1] != '\0'))
            enc[0] = (char)*p, enc[1] = '\0', w = 1;
        else
            snprintf(enc, sizeof(enc), "=%02X", *p), w = 3;
        if (col + w > 75) {
            buf_adds(b, "=\r\n");
            col = 0;
        }
        buf_adds(b, enc);
        col += w;
    }
    buf_adds(b, "\r\n");
}

char *smtp_mime_build(const char *from, const char *to, const char *subject, const char *plain,
                      const char *lang, const char *key, time_t date)
{
    struct buf b = BUF_INIT;
    const char *at = strrchr(from, '@');
    char stamp[64], domain[128];
    char *html = notify_html_of(plain, lang);
    struct tm tm;

    snprintf(domain, sizeof(domain), "%s", at != NULL ? at + 1 : "citaplanner.invalid");
    domain[strcspn(domain, "> ")] = '\0';
    gmtime_r(&date, &tm);
    strftime(stamp, sizeof(stamp), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    buf_addf(&b, "Date: %s\r\nFrom: ", stamp);
    smtp_mime_header_word(&b, from);
    buf_addf(&b, "\r\nTo: <%s>\r\nSubject: ", to);
    smtp_mime_header_word(&b, subject);
    buf_addf(&b,
             "\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\nContent-Language: %s\r\n"
             "Content-Type: multipart/alternative; boundary=\"=_cp_%s\"\r\n\r\n"
             "This is a message in MIME format.\r\n\r\n--=_cp_%s\r\n"
             "Content-Type: text/plain; charset=UTF-8\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
             key, domain, strcmp(lang, "en") == 0 ? "en" : "es-MX", key, key);
    smtp_mime_qp(&b, plain);
    buf_addf(&b,
             "\r\n--=_cp_%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
             key);
    smtp_mime_qp(&b, html);
    buf_addf(&b, "\r\n--=_cp_%s--\r\n", key);
    free(html);
    return buf_detach(&b);
}
