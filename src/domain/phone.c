/* phone — see phone.h. */
#include "domain/phone.h"

#include <ctype.h>
#include <string.h>

#define E164_DIGITS_MIN 8
#define E164_DIGITS_MAX 15

int phone_e164(const char *s, const char *default_cc, char out[PHONE_E164_MAX])
{
    char digits[64];
    size_t n = 0, skip = 0;
    int international = 0;

    out[0] = '\0';
    if (s == NULL || default_cc == NULL)
        return -1;
    while (*s == ' ')
        s++;
    if (*s == '+') {
        international = 1;
        s++;
    }
    for (; *s != '\0'; s++) {
        if (isdigit((unsigned char)*s)) {
            if (n + 1 >= sizeof(digits))
                return -1;
            digits[n++] = *s;
        } else if (strchr(" .-()/", *s) == NULL) {
            return -1;
        }
    }
    digits[n] = '\0';
    if (!international && n > 2 && digits[0] == '0' && digits[1] == '0') {
        international = 1;
        skip = 2;
    }
    if (!international) {
        /* A national number: a trunk '0' (Spain's have none, the UK's do) goes. */
        size_t cc = strlen(default_cc);
        const char *national = digits;

        if (cc == 0 || cc > 3 || strspn(default_cc, "0123456789") != cc)
            return -1;
        while (*national == '0')
            national++;
        if (cc + strlen(national) > E164_DIGITS_MAX || strlen(national) + cc < E164_DIGITS_MIN)
            return -1;
        out[0] = '+';
        memcpy(out + 1, default_cc, cc);
        strcpy(out + 1 + cc, national);
    } else {
        const char *d = digits + skip;

        if (*d == '0' || strlen(d) < E164_DIGITS_MIN || strlen(d) > E164_DIGITS_MAX)
            return -1;
        out[0] = '+';
        strcpy(out + 1, d);
    }
    /* Mexico's old mobile prefix: +52 1 XXXXXXXXXX is +52 XXXXXXXXXX. */
    if (strncmp(out, "+521", 4) == 0 && strlen(out) == 14)
        memmove(out + 3, out + 4, strlen(out + 4) + 1);
    return 0;
}
