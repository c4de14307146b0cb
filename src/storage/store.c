/*
 * store — the interface in front of the stores (see store.h): each call
 * goes to the kind's operation.
 */
#include <stdlib.h>

#include "common/util.h"
#include "storage/store.h"

struct storage_store {
    const struct storage_store_ops *ops;
    void *impl;
    char *where;
};

struct storage_store *storage_store_new(const struct storage_store_ops *ops, void *impl,
                                        const char *where)
{
    struct storage_store *s = xcalloc(1, sizeof(*s));

    s->ops = ops;
    s->impl = impl;
    s->where = xstrdup(where);
    return s;
}

void storage_close(struct storage_store *s)
{
    if (s == NULL)
        return;
    s->ops->close(s->impl);
    free(s->where);
    free(s);
}

const char *storage_where(const struct storage_store *s)
{
    return s->where;
}

int storage_put(struct storage_store *s, const char *const src[], const char *const name[], int n,
                unsigned flags, const char *expect_sha, int64_t expect_size, char **where,
                struct err *e)
{
    *where = NULL;
    return s->ops->put(s->impl, src, name, n, flags, expect_sha, expect_size, where, e);
}

int storage_has(struct storage_store *s, const char *name, int64_t size)
{
    return s->ops->has != NULL ? s->ops->has(s->impl, name, size) : -1;
}

int storage_get(struct storage_store *s, const char *name, int fd, char sha[65], uint64_t *bytes,
                struct err *e)
{
    return s->ops->get(s->impl, name, fd, sha, bytes, e);
}

int storage_delete(struct storage_store *s, const char *name, struct err *e)
{
    return s->ops->remove(s->impl, name, e);
}

int storage_list(struct storage_store *s, const char *prefix, char ***names, int *n, struct err *e)
{
    *names = NULL;
    *n = 0;
    return s->ops->list(s->impl, prefix, names, n, e);
}

void storage_list_free(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}
