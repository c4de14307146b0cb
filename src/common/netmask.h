/*
 * netmask — lists of addresses and networks ("127.0.0.1", "10.0.0.0/8",
 * "::1", "fd00::/8"), parsed once from a comma-separated option and matched
 * against a peer's address text as the HTTP layer gives it.
 *
 * An IPv4 peer seen through an IPv6 socket ("::ffff:127.0.0.1") matches the
 * IPv4 entries.
 */
#ifndef CITAPLANNER_COMMON_NETMASK_H
#define CITAPLANNER_COMMON_NETMASK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct netmask {
    unsigned char addr[16]; /* IPv4 as an IPv4-mapped IPv6 address */
    int bits;               /* prefix length over the 128 bits */
};

struct netmask_list {
    struct netmask *items; /* owned */
    size_t n;
};

/*
 * Parse "A[/N], B[/N], …" (spaces allowed around commas; an empty text is an
 * empty list).  On error (-ERR_CONFIG) e names the entry that is wrong and
 * *out is left empty.  Release with netmask_list_release().
 */
int netmask_list_parse(const char *text, const char *what, struct netmask_list *out, struct err *e);
void netmask_list_release(struct netmask_list *l);

/* Is the address text (IPv4 or IPv6, no brackets, no port) in the list? */
bool netmask_list_contains(const struct netmask_list *l, const char *addr);

#endif
