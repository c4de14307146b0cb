/*
 * netmask — see netmask.h.
 */
#include "common/netmask.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* addr text → 16 bytes (IPv4 mapped); 4 or 6, or 0 when it is neither. */
static int addr_parse(const char *s, unsigned char out[16])
{
    unsigned char v4[4];

    if (inet_pton(AF_INET, s, v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, v4, 4);
        return 4;
    }
    if (inet_pton(AF_INET6, s, out) == 1)
        return 6;
    return 0;
}

static int entry_parse(const char *s, size_t n, struct netmask *m)
{
    char text[INET6_ADDRSTRLEN + 8];
    char *slash;
    int family;

    if (n == 0 || n >= sizeof(text))
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    slash = strchr(text, '/');
    if (slash != NULL)
        *slash = '\0';
    family = addr_parse(text, m->addr);
    if (family == 0)
        return -1;
    m->bits = 128;
    if (slash != NULL) {
        int64_t bits;
        int max = family == 4 ? 32 : 128;
        if (parse_int64(slash + 1, 0, max, &bits) < 0)
            return -1;
        m->bits = (int)bits + (family == 4 ? 96 : 0);
    }
    return 0;
}

int netmask_list_parse(const char *text, const char *what, struct netmask_list *out, struct err *e)
{
    const char *p = text != NULL ? text : "";

    out->items = NULL;
    out->n = 0;
    while (*p != '\0') {
        size_t len;
        while (*p == ' ' || *p == ',')
            p++;
        len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0)
            break;
        out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
        if (entry_parse(p, len, &out->items[out->n]) < 0) {
            int rc = err_set(e, ERR_CONFIG,
                             "invalid %s entry '%.*s': an address or a network such as "
                             "127.0.0.1, 10.0.0.0/8, ::1 or fd00::/8",
                             what, (int)(len < 64 ? len : 64), p);
            netmask_list_release(out);
            return rc;
        }
        out->n++;
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}

void netmask_list_release(struct netmask_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static bool in_net(const struct netmask *m, const unsigned char a[16])
{
    int full = m->bits / 8, rest = m->bits % 8;

    if (memcmp(m->addr, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (m->addr[full] & mask) == (a[full] & mask);
}

bool netmask_list_contains(const struct netmask_list *l, const char *addr)
{
    unsigned char a[16];

    if (addr == NULL || addr_parse(addr, a) == 0)
        return false;
    for (size_t i = 0; i < l->n; i++) {
        if (in_net(&l->items[i], a))
            return true;
    }
    return false;
}
