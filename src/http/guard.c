/* guard — see guard.h. */
#include "http/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/log.h"
#include "http/dispatch.h"
#include "http/precheck.h"

/* How often a worker looks at its connections. */
#define GUARD_TICK_MS 200
/* A connection past a cap whose request does not come: closed after this. */
#define GUARD_REFUSED_LINGER_S 2
/* What a client past a cap is told to wait. */
#define GUARD_RETRY_AFTER_S 5
/* Buckets of the per-address table (a power of two). */
#define GUARD_BUCKETS 1024

enum conn_state {
    CONN_WAITING, /* no request begun (new, or idle between two) */
    CONN_READING, /* a request's first byte arrived, not yet all of it */
    CONN_BUSY,    /* its request is with a handler or its answer being written */
};

struct client_count {
    struct client_count *next;
    unsigned char addr[16]; /* IPv6, or IPv4-mapped */
    int n;
};

struct http_guard {
    struct http_guard_opts opts;
    struct http_guard_counts counts;
    pthread_mutex_t lock; /* the table below and counts.open's decisions */
    struct client_count *buckets[GUARD_BUCKETS];
};

struct conn {
    struct bufferevent *bev; /* one reference is ours */
    struct evbuffer_cb_entry *input_cb;
    struct http_guard_worker *gw;
    enum conn_state state;
    double since;       /* monotonic seconds: state entered */
    bool registered;    /* counted (address known) */
    bool capped_client; /* counted per client too */
    bool refused;       /* past a cap */
    bool closed;        /* shut down by the guard */
    bool rewriting;     /* the guard's own change to the input: not new bytes */
    bool refusing;      /* a request refused: answered once those before it are */
    bool lingering;     /* refused and answered: input dropped until the client closes */
    bool gone;          /* evhttp is closing it: counted no more */
    unsigned char addr[16];
    struct http_precheck pre;
};

struct http_guard_worker {
    struct http_guard *g;
    struct event *tick;
    void (*first_bytes)(void *arg);
    void *arg;
    struct conn **conns;
    int n, cap;
    unsigned char *scratch; /* the bytes that just arrived, copied */
    size_t scratch_cap;
};

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the per-address counts --------------------------------------------- */

static unsigned bucket_of(const unsigned char addr[16])
{
    uint32_t h = 2166136261u;

    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h & (GUARD_BUCKETS - 1);
}

/* Under g->lock.  Returns the count after adding delta (0 if none left). */
static int client_add(struct http_guard *g, const unsigned char addr[16], int delta)
{
    struct client_count **p = &g->buckets[bucket_of(addr)];

    for (; *p != NULL; p = &(*p)->next) {
        if (memcmp((*p)->addr, addr, 16) == 0) {
            struct client_count *c = *p;
            int n = c->n += delta;
            if (n <= 0) {
                *p = c->next;
                free(c);
                return 0;
            }
            return n;
        }
    }
    if (delta <= 0)
        return 0;
    struct client_count *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return 0; /* not counted: better than refusing for lack of memory */
    memcpy(c->addr, addr, 16);
    c->n = delta;
    c->next = g->buckets[bucket_of(addr)];
    g->buckets[bucket_of(addr)] = c;
    return delta;
}

int http_guard_new(const struct http_guard_opts *opts, struct http_guard **out, struct err *e)
{
    struct http_guard *g = calloc(1, sizeof(*g));

    *out = NULL;
    if (g == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    g->opts = *opts;
    pthread_mutex_init(&g->lock, NULL);
    *out = g;
    return 0;
}

void http_guard_free(struct http_guard *g)
{
    if (g == NULL)
        return;
    for (int i = 0; i < GUARD_BUCKETS; i++) {
        while (g->buckets[i] != NULL) {
            struct client_count *c = g->buckets[i];
            g->buckets[i] = c->next;
            free(c);
        }
    }
    pthread_mutex_destroy(&g->lock);
    free(g);
}

struct http_guard_counts *http_guard_counts(struct http_guard *g)
{
    return &g->counts;
}

/* ---- one connection ------------------------------------------------------ */

/* evhttp clears every callback of a buffer when it frees it. */
static bool released_by_evhttp(struct bufferevent *bev)
{
    bufferevent_data_cb r, w;
    bufferevent_event_cb ev;

    bufferevent_getcb(bev, &r, &w, &ev, NULL);
    return r == NULL && w == NULL && ev == NULL;
}

/*
 * Learn the connection's address and count it.  A connection past a cap is
 * marked refused.  False when evhttp already let it go.
 */
static bool conn_register(struct conn *c)
{
    struct http_guard *g = c->gw->g;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    evutil_socket_t fd;
    char text[INET6_ADDRSTRLEN];

    if (c->registered)
        return true;
    if (c->gone || released_by_evhttp(c->bev))
        return false;
    fd = bufferevent_getfd(c->bev);
    memset(c->addr, 0, sizeof(c->addr));
    text[0] = '\0';
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
            c->addr[10] = c->addr[11] = 0xff;
            memcpy(c->addr + 12, &sin->sin_addr, 4);
            inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
            memcpy(c->addr, &sin6->sin6_addr, 16);
            if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
                inet_ntop(AF_INET, c->addr + 12, text, sizeof(text));
            else
                inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
        }
    }
    c->registered = true;
    c->capped_client = g->opts.max_per_client > 0 && text[0] != '\0' &&
                       (g->opts.uncapped == NULL || !netmask_list_contains(g->opts.uncapped, text));

    pthread_mutex_lock(&g->lock);
    int open = atomic_fetch_add(&g->counts.open, 1) + 1;
    int mine = c->capped_client ? client_add(g, c->addr, 1) : 0;
    pthread_mutex_unlock(&g->lock);

    if (open > g->opts.max_conns || (c->capped_client && mine > g->opts.max_per_client)) {
        c->refused = true;
        atomic_fetch_add(&g->counts.refused, 1);
        log_debug("connection from %s refused: %d open, %d from that address", text, open, mine);
    }
    return true;
}

static void conn_unregister(struct conn *c)
{
    struct http_guard *g = c->gw->g;

    if (!c->registered)
        return;
    pthread_mutex_lock(&g->lock);
    atomic_fetch_sub(&g->counts.open, 1);
    if (c->capped_client)
        client_add(g, c->addr, -1);
    pthread_mutex_unlock(&g->lock);
    c->registered = false;
}

static void conn_enter(struct conn *c, enum conn_state state)
{
    c->state = state;
    c->since = mono_now();
}

/*
 * End a connection evhttp still holds: shut its socket, so that evhttp
 * reads the end and frees it.  A request half arrived gets a 408 first
 * (nothing else is being written while a request is read).
 */
static void conn_close(struct conn *c, bool timed_out)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);

    c->closed = true;
    if (fd < 0)
        return;
    if (timed_out) {
        char answer[640], id[17];
        size_t n;
        http_request_id(id);
        n = http_precheck_answer(408, "request_timeout", "the request did not arrive in time", id,
                                 c->gw->g->opts.hsts, answer, sizeof(answer));
        if (n > 0)
            (void)send(fd, answer, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    shutdown(fd, SHUT_RDWR);
}

/*
 * Replace what follows the first keep bytes of the input with add.  The
 * buffer has no way to cut its end, so the bytes kept are moved aside and
 * back (whole chains: no copy).  Called from the input callback, within
 * the socket read that added the bytes: evhttp reads the buffer only after
 * it, and libevent leaves the buffer's end open to additions then.  Our
 * own changes call the callback again: c->rewriting tells it.  False if
 * the buffer refused: then all of it is dropped (the caller closes), so
 * evhttp is never given bytes the precheck did not pass.
 */
static bool input_replace_tail(struct conn *c, struct evbuffer *buf, size_t keep, const void *add,
                               size_t len)
{
    struct evbuffer *front = NULL;
    bool ok = true;

    c->rewriting = true;
    if (keep > 0 || len > 0) {
        front = evbuffer_new();
        ok = front != NULL;
    }
    if (ok && front != NULL)
        ok = evbuffer_remove_buffer(buf, front, keep) == (int)keep &&
             evbuffer_drain(buf, evbuffer_get_length(buf)) == 0 &&
             evbuffer_add_buffer(buf, front) == 0 && (len == 0 || evbuffer_add(buf, add, len) == 0);
    if (!ok || front == NULL)
        evbuffer_drain(buf, evbuffer_get_length(buf));
    c->rewriting = false;
    if (front != NULL)
        evbuffer_free(front);
    return ok;
}

/* Answer the refused request and stop reading: see guard.h. */
static void conn_refuse(struct conn *c)
{
    struct http_precheck_refusal *r = &c->pre.refusal;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    char answer[640], id[17];
    size_t n;

    http_request_id(id);
    n = http_precheck_answer(r->status, r->code, r->message, id, c->gw->g->opts.hsts, answer,
                             sizeof(answer));
    atomic_fetch_add(&c->gw->g->counts.malformed, 1);
    log_set_context(id);
    log_info("request refused before parsing: %d %s: %s", r->status, r->code, r->message);
    log_set_context(NULL);
    c->refusing = false;
    c->closed = true;
    c->lingering = true;
    conn_enter(c, c->state);
    if (fd < 0)
        return;
    if (n > 0)
        (void)send(fd, answer, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
}

/*
 * The n bytes at the end of buf just arrived: through the precheck.  What
 * it cuts is cut from buf; a refused request is answered now if nothing
 * before it waits, else once the last request before it is answered
 * (http_guard_request_ends).
 */
static void conn_precheck(struct conn *c, struct evbuffer *buf, size_t n)
{
    struct http_guard_worker *gw = c->gw;
    size_t old = evbuffer_get_length(buf) - n;
    uint64_t p0 = c->pre.pos;
    struct evbuffer_ptr at;
    size_t kept;

    if (n > gw->scratch_cap) {
        unsigned char *grown = realloc(gw->scratch, n);
        if (grown == NULL) {
            input_replace_tail(c, buf, 0, NULL, 0);
            conn_close(c, false);
            return;
        }
        gw->scratch = grown;
        gw->scratch_cap = n;
    }
    if (evbuffer_ptr_set(buf, &at, old, EVBUFFER_PTR_SET) != 0 ||
        evbuffer_copyout_from(buf, &at, gw->scratch, n) != (ev_ssize_t)n) {
        input_replace_tail(c, buf, 0, NULL, 0);
        conn_close(c, false);
        return;
    }
    kept = http_precheck_feed(&c->pre, gw->scratch, n, gw->scratch);
    if (c->pre.refusal.status != 0) {
        uint64_t bad = c->pre.refused_at;
        uint64_t first = p0 - old; /* position of the buffer's first byte */
        if (bad <= p0)
            input_replace_tail(c, buf, bad > first ? (size_t)(bad - first) : 0, NULL, 0);
        else
            input_replace_tail(c, buf, old, gw->scratch, (size_t)(bad - p0));
        if (evbuffer_get_length(buf) == 0 && c->state != CONN_BUSY)
            conn_refuse(c);
        else
            c->refusing = true;
    } else if (kept != n && !input_replace_tail(c, buf, old, gw->scratch, kept)) {
        conn_close(c, false);
    }
}

/* Data came in or went out of the connection's input. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;

    if (info->n_added == 0 || c->rewriting)
        return;
    if (c->closed) {
        /* refused or shut: evhttp is given nothing more */
        input_replace_tail(c, buf, 0, NULL, 0);
        return;
    }
    if (c->refusing) {
        /* the requests before the refused one stay */
        input_replace_tail(c, buf, evbuffer_get_length(buf) - info->n_added, NULL, 0);
        return;
    }
    if (c->state == CONN_WAITING) {
        if (!conn_register(c))
            return;
        conn_enter(c, CONN_READING);
        if (c->gw->first_bytes != NULL)
            c->gw->first_bytes(c->gw->arg);
    }
    conn_precheck(c, buf, info->n_added);
}

static void conn_drop(struct http_guard_worker *gw, int i)
{
    struct conn *c = gw->conns[i];

    conn_unregister(c);
    http_precheck_release(&c->pre);
    evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input_cb);
    bufferevent_decref(c->bev);
    free(c);
    gw->conns[i] = gw->conns[--gw->n];
}

static struct conn *conn_find(struct http_guard_worker *gw, struct bufferevent *bev)
{
    for (int i = gw->n - 1; i >= 0; i--)
        if (gw->conns[i]->bev == bev)
            return gw->conns[i];
    return NULL;
}

/* ---- a worker ------------------------------------------------------------ */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct http_guard_worker *gw = arg;
    const struct http_guard_opts *o = &gw->g->opts;
    double now = mono_now();

    (void)fd;
    (void)what;
    for (int i = gw->n - 1; i >= 0; i--) {
        struct conn *c = gw->conns[i];
        double age = now - c->since;

        if (released_by_evhttp(c->bev)) {
            conn_drop(gw, i);
            continue;
        }
        if (c->lingering) {
            if (age > GUARD_REFUSED_LINGER_S) {
                c->lingering = false;
                shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
            }
            continue;
        }
        if (!conn_register(c) || c->closed)
            continue;
        if (c->state == CONN_BUSY)
            continue;
        if (c->refused && age > GUARD_REFUSED_LINGER_S) {
            conn_close(c, false);
        } else if (c->state == CONN_READING &&
                   (age > o->request_timeout_s ||
                    (o->header_timeout_s > 0 && age > o->header_timeout_s &&
                     http_precheck_in_head(&c->pre)))) {
            atomic_fetch_add(&gw->g->counts.timed_out, 1);
            conn_close(c, true);
        } else if (c->state == CONN_WAITING && age > o->idle_timeout_s) {
            atomic_fetch_add(&gw->g->counts.timed_out, 1);
            conn_close(c, false);
        }
    }
}

struct http_guard_worker *http_guard_worker_new(struct http_guard *g, struct event_base *base,
                                                void (*first_bytes)(void *arg), void *arg)
{
    struct http_guard_worker *gw = calloc(1, sizeof(*gw));
    struct timeval tv = {0, GUARD_TICK_MS * 1000};

    if (gw == NULL)
        return NULL;
    gw->g = g;
    gw->first_bytes = first_bytes;
    gw->arg = arg;
    gw->tick = event_new(base, -1, EV_PERSIST, on_tick, gw);
    if (gw->tick == NULL || event_add(gw->tick, &tv) != 0) {
        if (gw->tick != NULL)
            event_free(gw->tick);
        free(gw);
        return NULL;
    }
    return gw;
}

void http_guard_worker_free(struct http_guard_worker *gw)
{
    if (gw == NULL)
        return;
    event_free(gw->tick);
    while (gw->n > 0)
        conn_drop(gw, gw->n - 1);
    free(gw->conns);
    free(gw->scratch);
    free(gw);
}

struct bufferevent *http_guard_connection(struct http_guard_worker *gw)
{
    struct event_base *base = event_get_base(gw->tick);
    struct conn *c;
    struct bufferevent *bev;

    if (gw->n == gw->cap) {
        int cap = gw->cap == 0 ? 64 : gw->cap * 2;
        struct conn **grown = realloc(gw->conns, (size_t)cap * sizeof(*grown));
        if (grown == NULL)
            return NULL; /* evhttp makes its own buffer; this connection goes unguarded */
        gw->conns = grown;
        gw->cap = cap;
    }
    c = calloc(1, sizeof(*c));
    /* CLOSE_ON_FREE: the socket closes when the last reference (ours) goes. */
    bev = c != NULL ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (bev == NULL) {
        free(c);
        return NULL;
    }
    c->input_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
    if (c->input_cb == NULL) {
        bufferevent_free(bev);
        free(c);
        return NULL;
    }
    bufferevent_incref(bev);
    c->bev = bev;
    c->gw = gw;
    http_precheck_init(&c->pre, gw->g->opts.max_head, gw->g->opts.max_body);
    conn_enter(c, CONN_WAITING);
    gw->conns[gw->n++] = c;
    return bev;
}

int http_guard_request_begins(struct http_guard_worker *gw, struct bufferevent *bev)
{
    struct conn *c = conn_find(gw, bev);

    if (c == NULL)
        return 0;
    conn_register(c);
    conn_enter(c, CONN_BUSY);
    return c->refused ? GUARD_RETRY_AFTER_S : 0;
}

void http_guard_connection_closes(struct http_guard_worker *gw, struct bufferevent *bev)
{
    struct conn *c = conn_find(gw, bev);

    if (c == NULL)
        return;
    /* uncounted at once: a client's quick succession of connections is not held
     * against its cap until the next tick drops them */
    c->gone = true;
    conn_unregister(c);
}

void http_guard_request_ends(struct http_guard_worker *gw, struct bufferevent *bev)
{
    struct conn *c = conn_find(gw, bev);

    if (c == NULL)
        return;
    if (c->refusing && evbuffer_get_length(bufferevent_get_input(bev)) == 0) {
        /* the last request before the refused one is answered */
        conn_refuse(c);
        return;
    }
    /* A pipelined request may be waiting already. */
    conn_enter(c,
               evbuffer_get_length(bufferevent_get_input(bev)) > 0 ? CONN_READING : CONN_WAITING);
}
