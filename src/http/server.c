/* server — see server.h. */
#include "http/server.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "http/dispatch.h"

#define DEFAULT_MAX_BODY     ((size_t)1 << 20)
#define MAX_MAX_BODY         ((size_t)1 << 30)
#define DEFAULT_READ_TIMEOUT 30
#define MAX_HEADERS_SIZE     (64 * 1024)
#define LISTEN_BACKLOG       511
#define MAX_THREADS          64
/* How long a worker sits out after accept() failed (out of descriptors). */
#define ACCEPT_RETRY_MS 100
/*
 * How long a new connection may keep its worker from accepting another
 * (until its first byte arrives): short, since a flood of silent
 * connections is accepted at one per ACCEPT_HOLD_MS per worker.
 */
#define ACCEPT_HOLD_MS          10
#define DEFAULT_REQUEST_TIMEOUT 30
#define DEFAULT_HEADER_TIMEOUT  10
#define DEFAULT_IDLE_TIMEOUT    60
#define DEFAULT_MAX_CONNS       4096
/* Descriptors kept for everything but client connections (database, files, children). */
#define RESERVED_FDS 256
/* After the grace period, how long workers get to notice the loop break. */
#define BREAK_SLACK_MS 200

struct http_worker {
    struct http_server *srv;
    int index;
    pthread_t thread;
    bool thread_started;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound; /* NULL once this worker stopped accepting */
    struct event *accept_timer;        /* turns accepting back on */
    bool accept_held;                  /* not accepting until a request arrives */
    struct http_dispatch dispatch;
    struct http_guard_worker *guard;
    bool stopping; /* worker thread only */

    /*
     * Connections whose request reached a handler and whose answer is not
     * yet completely written: what shutdown waits for.  A handful at a time
     * (answers are small and a worker runs one handler at a time), so a
     * plain array.
     */
    struct evhttp_connection **pending;
    int npending, cap_pending;

    void *data;
    int init_rc;
    struct err init_err;
    bool finished; /* under srv->lock */
};

struct http_server {
    char *display; /* "127.0.0.1:3000", "[::1]:3000" */
    int port;
    int fd;
    size_t max_body;
    int read_timeout_s;
    int (*worker_init)(void *app, void **worker_data, struct err *e);
    void (*worker_free)(void *worker_data);
    void (*handler_failed)(void *worker_data, const struct err *e);
    bool hsts;
    void *app;
    const struct http_route *routes;

    int nworkers;
    struct http_worker *workers;
    struct http_metrics *metrics; /* shared by the workers' dispatch */
    struct http_guard *guard;     /* shared by the workers */

    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    int ninit;           /* workers that ran worker_init */
    int go;              /* 0 = wait, 1 = serve, -1 = give up */
    int nfinished;       /* workers whose thread ended */
    int nthreads;        /* worker threads created */
    bool started;        /* start() succeeded */
    bool shut;           /* shutdown() ran */
    atomic_bool stopping;
};

static pthread_once_t libevent_once = PTHREAD_ONCE_INIT;

/*
 * The worker running on this thread.  The listener's error callback gets
 * the evhttp as its argument (evhttp owns the listener's callbacks), so it
 * finds its worker here.
 */
static __thread struct http_worker *this_worker;

/* libevent's own warnings ("Error from accept() call") go to our log. */
static void libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_ERR)
        log_error("libevent: %s", msg);
    else if (severity >= EVENT_LOG_WARN)
        log_warn("libevent: %s", msg);
    else
        log_debug("libevent: %s", msg);
}

static void libevent_init(void)
{
    /* Locks in every event_base made after this, so that another thread
     * (shutdown) may add events to a worker's loop and wake it. */
    evthread_use_pthreads();
    event_set_log_callback(libevent_log);
}

static void deadline_after(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* ---- accepting ----------------------------------------------------------- */

static void on_accept_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_worker *w = arg;

    w->accept_held = false;
    if (w->bound != NULL && !atomic_load(&w->srv->stopping))
        evconnlistener_enable(evhttp_bound_socket_get_listener(w->bound));
}

/*
 * evhttp asks for the buffer of each connection it accepts.  libevent's
 * listener would accept every connection waiting in the queue at once, and
 * this worker would then serve them one after the other while the other
 * workers idle.  So take one at a time: stop listening until this
 * connection's first request arrives (on_request), or ACCEPT_HOLD_MS at
 * most for a client that connects and says nothing.
 */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    struct http_worker *w = arg;
    struct timeval hold = {0, ACCEPT_HOLD_MS * 1000};

    if (w->bound != NULL) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(w->bound));
        w->accept_held = true;
        evtimer_add(w->accept_timer, &hold);
    }
    if (w->guard != NULL) {
        struct bufferevent *bev = http_guard_connection(w->guard);
        if (bev != NULL)
            return bev;
    }
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

/* A request began to arrive: listen again (effective once its handler returned). */
static void accept_release(struct http_worker *w)
{
    if (!w->accept_held)
        return;
    evtimer_del(w->accept_timer);
    on_accept_timer(-1, 0, w);
}

static void first_bytes(void *arg)
{
    accept_release(arg);
}

/*
 * accept() failed.  After shutdown() of the listening socket that is
 * expected (EINVAL) and this worker just stops listening.  Otherwise
 * (EMFILE, ENFILE, ENOBUFS) the socket stays readable, so retrying at once
 * would spin: pause this worker's accepting for a moment.
 */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct http_worker *w = this_worker;
    int saved = errno;
    struct timeval tv = {0, ACCEPT_RETRY_MS * 1000};

    evconnlistener_disable(lev);
    w->accept_held = false;
    if (atomic_load(&w->srv->stopping))
        return;
    log_warn("cannot accept a connection on '%s': %s", w->srv->display, strerror(saved));
    evtimer_add(w->accept_timer, &tv);
}

/* ---- pending answers ------------------------------------------------- */

static void pending_add(struct http_worker *w, struct evhttp_connection *evcon)
{
    for (int i = 0; i < w->npending; i++)
        if (w->pending[i] == evcon)
            return;
    if (w->npending == w->cap_pending) {
        w->cap_pending = w->cap_pending ? 2 * w->cap_pending : 16;
        w->pending = xrealloc(w->pending, (size_t)w->cap_pending * sizeof(*w->pending));
    }
    w->pending[w->npending++] = evcon;
}

static void pending_remove(struct http_worker *w, struct evhttp_connection *evcon)
{
    for (int i = 0; i < w->npending; i++) {
        if (w->pending[i] == evcon) {
            w->pending[i] = w->pending[--w->npending];
            return;
        }
    }
}

/* Stopping and nothing left to write: leave the loop (idle connections close). */
static void maybe_finish(struct http_worker *w)
{
    if (w->stopping && w->npending == 0)
        event_base_loopexit(w->base, NULL);
}

static void on_complete(struct evhttp_request *ev, void *arg)
{
    struct http_worker *w = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);

    if (w->guard != NULL && evcon != NULL)
        http_guard_request_ends(w->guard, evhttp_connection_get_bufferevent(evcon));
    pending_remove(w, evcon);
    maybe_finish(w);
}

/* Also called when a client goes away before its answer was written. */
static void on_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct http_worker *w = arg;

    if (w->guard != NULL)
        http_guard_connection_closes(w->guard, evhttp_connection_get_bufferevent(evcon));
    pending_remove(w, evcon);
    maybe_finish(w);
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct http_worker *w = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    int busy = 0;

    accept_release(w);
    if (w->guard != NULL)
        busy = http_guard_request_begins(w->guard, evhttp_connection_get_bufferevent(evcon));
    pending_add(w, evcon);
    evhttp_connection_set_closecb(evcon, on_conn_closed, w);
    evhttp_request_set_on_complete_cb(ev, on_complete, w);
    http_dispatch(ev, &w->dispatch, busy);
}

/* Runs on the worker's loop, sent there by http_server_shutdown(). */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct http_worker *w = arg;

    w->stopping = true;
    w->dispatch.closing = true;
    evtimer_del(w->accept_timer);
    if (w->bound != NULL) {
        evhttp_del_accept_socket(w->http, w->bound);
        w->bound = NULL;
    }
    maybe_finish(w);
}

/* ---- worker threads ------------------------------------------------------ */

static void *worker_main(void *arg)
{
    struct http_worker *w = arg;
    struct http_server *srv = w->srv;
    sigset_t set;
    char ctx[32];
    int go;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    this_worker = w;

    snprintf(ctx, sizeof(ctx), "http-%d", w->index);
    log_set_context(ctx);
    err_clear(&w->init_err);
    w->init_rc = srv->worker_init != NULL ? srv->worker_init(srv->app, &w->data, &w->init_err) : 0;
    log_set_context(NULL);

    pthread_mutex_lock(&srv->lock);
    srv->ninit++;
    pthread_cond_broadcast(&srv->cond);
    while (srv->go == 0)
        pthread_cond_wait(&srv->cond, &srv->lock);
    go = srv->go;
    pthread_mutex_unlock(&srv->lock);

    if (w->init_rc == 0 && go > 0) {
        w->dispatch.worker_data = w->data;
        event_base_dispatch(w->base);
    }

    /* Closes every connection left (idle ones, or all after the grace). */
    evhttp_free(w->http);
    w->http = NULL;
    w->bound = NULL;
    http_guard_worker_free(w->guard);
    w->guard = NULL;
    if (w->init_rc == 0 && srv->worker_free != NULL)
        srv->worker_free(w->data);
    w->data = NULL;
    free(w->pending);
    w->pending = NULL;
    w->npending = w->cap_pending = 0;

    pthread_mutex_lock(&srv->lock);
    w->finished = true;
    srv->nfinished++;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* ---- binding ------------------------------------------------------------- */

static char *display_address(const char *host, int port)
{
    if (strchr(host, ':') != NULL)
        return xasprintf("[%s]:%d", host, port);
    return xasprintf("%s:%d", host, port);
}

static int listen_error(int errnum, const char *display, struct err *e)
{
    switch (errnum) {
    case EADDRINUSE:
        return err_set(e, ERR_CONFIG,
                       "cannot listen on '%s': the address is already in use "
                       "(is another server running on that port?)",
                       display);
    case EACCES:
        return err_set(e, ERR_CONFIG,
                       "cannot listen on '%s': permission denied "
                       "(ports below 1024 need privileges)",
                       display);
    case EADDRNOTAVAIL:
        return err_set(e, ERR_CONFIG,
                       "cannot listen on '%s': the address does not belong to this machine",
                       display);
    default:
        return err_set(e, ERR_IO, "cannot listen on '%s': %s", display, strerror(errnum));
    }
}

/* Bind and listen on the first address of host that works, into *out. */
static int bind_listen(const char *host, int port, const char *display, int *out, struct err *e)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    int fd = -1;
    int last_errno = 0;
    int one = 1;
    int gai;
    int rc = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        rc = err_set(e, ERR_CONFIG, "cannot listen on '%s': host '%s' not resolved (%s)", display,
                     host, gai_strerror(gai));
        goto cleanup;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        /* Restarting must not wait for the old connections' TIME_WAIT. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        rc = listen_error(last_errno ? last_errno : EADDRNOTAVAIL, display, e);

cleanup:
    if (res != NULL)
        freeaddrinfo(res);
    *out = fd;
    return rc;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * The descriptor limit raised to its hard limit (a connection is a
 * descriptor), and the connection cap kept RESERVED_FDS below it.
 */
static int guard_setup(const struct http_server_opts *opts, struct http_server *srv, struct err *e)
{
    struct http_guard_opts g = {
        .request_timeout_s =
            opts->request_timeout_s > 0 ? opts->request_timeout_s : DEFAULT_REQUEST_TIMEOUT,
        .header_timeout_s =
            opts->header_timeout_s > 0 ? opts->header_timeout_s : DEFAULT_HEADER_TIMEOUT,
        .idle_timeout_s = opts->idle_timeout_s > 0 ? opts->idle_timeout_s : DEFAULT_IDLE_TIMEOUT,
        .max_conns = opts->max_conns > 0 ? opts->max_conns : DEFAULT_MAX_CONNS,
        .max_per_client = opts->max_per_client > 0 ? opts->max_per_client : 0,
        .uncapped = opts->uncapped,
        .max_head = MAX_HEADERS_SIZE,
        .max_body = srv->max_body,
        .hsts = opts->hsts,
    };
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            struct rlimit raised = {rl.rlim_max, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
                rl.rlim_cur = rl.rlim_max;
        }
        if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)g.max_conns + RESERVED_FDS > rl.rlim_cur) {
            int fit = rl.rlim_cur > 2 * RESERVED_FDS ? (int)(rl.rlim_cur - RESERVED_FDS)
                                                     : (int)(rl.rlim_cur / 2);
            log_warn("the descriptor limit (%llu) allows %d client connections, not %d: "
                     "raise it (ulimit -n, LimitNOFILE=, --ulimit nofile=) for more",
                     (unsigned long long)rl.rlim_cur, fit, g.max_conns);
            g.max_conns = fit;
        }
    }
    return http_guard_new(&g, &srv->guard, e);
}

int http_server_new(const struct http_server_opts *opts, struct http_server **out, struct err *e)
{
    struct http_server *srv = NULL;
    pthread_condattr_t cattr;
    const char *host = opts->host != NULL && opts->host[0] != '\0' ? opts->host : "127.0.0.1";
    char *display = NULL;
    int rc = 0;
    int fd = -1;

    *out = NULL;
    pthread_once(&libevent_once, libevent_init);
    if (opts->port < 0 || opts->port > 65535) {
        rc = err_set(e, ERR_CONFIG, "invalid listen port %d (0-65535)", opts->port);
        goto cleanup;
    }
    if (opts->routes == NULL) {
        rc = err_set(e, ERR_INTERNAL, "http server without a route table");
        goto cleanup;
    }
    display = display_address(host, opts->port);
    rc = bind_listen(host, opts->port, display, &fd, e);
    if (rc < 0)
        goto cleanup;

    srv = xcalloc(1, sizeof(*srv));
    srv->port = bound_port(fd);
    srv->display = display_address(host, srv->port);
    srv->fd = fd;
    fd = -1;
    srv->max_body = opts->max_body > 0 ? opts->max_body : DEFAULT_MAX_BODY;
    if (srv->max_body > MAX_MAX_BODY)
        srv->max_body = MAX_MAX_BODY;
    srv->read_timeout_s = opts->read_timeout_s > 0 ? opts->read_timeout_s : DEFAULT_READ_TIMEOUT;
    srv->worker_init = opts->worker_init;
    srv->worker_free = opts->worker_free;
    srv->handler_failed = opts->handler_failed;
    srv->hsts = opts->hsts;
    srv->app = opts->app;
    srv->routes = opts->routes;
    srv->nworkers = opts->threads;
    if (srv->nworkers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        srv->nworkers = n < 2 ? 2 : (int)n;
    }
    if (srv->nworkers > MAX_THREADS)
        srv->nworkers = MAX_THREADS;
    srv->workers = xcalloc((size_t)srv->nworkers, sizeof(*srv->workers));
    srv->metrics = http_metrics_new(srv->routes, srv->nworkers);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cond, &cattr);
    pthread_condattr_destroy(&cattr);
    atomic_init(&srv->stopping, false);
    rc = guard_setup(opts, srv, e);
    if (rc < 0) {
        http_server_free(srv);
        goto cleanup;
    }
    srv->metrics->guard = http_guard_counts(srv->guard);
    *out = srv;

cleanup:
    free(display);
    return rc;
}

int http_server_port(const struct http_server *srv)
{
    return srv->port;
}

int http_server_threads(const struct http_server *srv)
{
    return srv->nworkers;
}

/* Make a worker's loop, evhttp and listener (on the shared socket). */
static int worker_setup(struct http_server *srv, struct http_worker *w, struct err *e)
{
    struct evconnlistener *lev = NULL;
    int rc = 0;

    w->base = event_base_new();
    w->http = w->base != NULL ? evhttp_new(w->base) : NULL;
    w->accept_timer = w->base != NULL ? evtimer_new(w->base, on_accept_timer, w) : NULL;
    if (w->http == NULL || w->accept_timer == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot create the event loop of http worker %d", w->index);
        goto cleanup;
    }
    /* Backstops only: the guard's precheck refuses a body over max_body and
     * headers over the limit (in JSON) before evhttp reads them. */
    evhttp_set_max_body_size(w->http, (ev_ssize_t)(2 * srv->max_body));
    evhttp_set_max_headers_size(w->http, MAX_HEADERS_SIZE);
    evhttp_set_timeout(w->http, srv->read_timeout_s);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS);
    /* Every answer of ours names its type; none is to be guessed. */
    evhttp_set_default_content_type(w->http, NULL);
    evhttp_set_gencb(w->http, on_request, w);
    evhttp_set_bevcb(w->http, on_new_connection, w);
    w->guard = http_guard_worker_new(srv->guard, w->base, first_bytes, w);
    if (w->guard == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot watch the connections of http worker %d", w->index);
        goto cleanup;
    }

    /* Not LEV_OPT_CLOSE_ON_FREE: the socket is shared and closed once, by the server. */
    lev = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, srv->fd);
    if (lev == NULL) {
        rc = err_set(e, ERR_IO, "cannot listen on '%s' in http worker %d", srv->display, w->index);
        goto cleanup;
    }
    evconnlistener_set_error_cb(lev, on_accept_error);
    w->bound = evhttp_bind_listener(w->http, lev);
    if (w->bound == NULL) {
        evconnlistener_free(lev);
        rc = err_set(e, ERR_INTERNAL, "cannot attach the listener of http worker %d", w->index);
        goto cleanup;
    }

cleanup:
    return rc;
}

int http_server_start(struct http_server *srv, struct err *e)
{
    int rc = 0;
    int failed = -1;

    if (srv->started || srv->nthreads > 0 || srv->shut) {
        rc = err_set(e, ERR_INTERNAL, "http server on '%s' already started or shut down",
                     srv->display);
        goto cleanup;
    }
    for (int i = 0; i < srv->nworkers; i++) {
        struct http_worker *w = &srv->workers[i];
        w->srv = srv;
        w->index = i;
        w->dispatch.routes = srv->routes;
        w->dispatch.max_body = srv->max_body;
        w->dispatch.handler_failed = srv->handler_failed;
        w->dispatch.hsts = srv->hsts;
        w->dispatch.metrics = srv->metrics;
        rc = worker_setup(srv, w, e);
        if (rc < 0)
            goto cleanup;
    }
    for (int i = 0; i < srv->nworkers; i++) {
        struct http_worker *w = &srv->workers[i];
        int err = pthread_create(&w->thread, NULL, worker_main, w);
        if (err != 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot start http worker %d: %s", i, strerror(err));
            break;
        }
        w->thread_started = true;
        srv->nthreads++;
    }

    pthread_mutex_lock(&srv->lock);
    while (srv->ninit < srv->nthreads)
        pthread_cond_wait(&srv->cond, &srv->lock);
    for (int i = 0; i < srv->nthreads && rc == 0; i++) {
        if (srv->workers[i].init_rc < 0) {
            failed = i;
            rc = srv->workers[i].init_rc;
        }
    }
    srv->go = rc == 0 ? 1 : -1;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);

    if (failed >= 0) {
        struct err *we = &srv->workers[failed].init_err;
        rc = err_set(e, we->code != ERR_OK ? we->code : ERR_INTERNAL, "http worker %d: %s", failed,
                     we->msg[0] ? we->msg : "initialisation failed");
    }
    if (rc == 0) {
        srv->started = true;
        log_debug("http server on '%s' with %d workers", srv->display, srv->nworkers);
    }

cleanup:
    if (rc < 0) {
        /* Workers told to give up end on their own; wait for them here. */
        for (int i = 0; i < srv->nworkers; i++) {
            if (srv->workers[i].thread_started) {
                pthread_join(srv->workers[i].thread, NULL);
                srv->workers[i].thread_started = false;
            }
        }
    }
    return rc;
}

int http_server_shutdown(struct http_server *srv, int grace_s)
{
    struct timespec deadline;
    int busy = 0;

    atomic_store(&srv->stopping, true);
    if (!srv->shut) {
        /* Refuse new connections now, even while every worker is busy in a
         * handler: after shutdown(2) the kernel answers with a reset. */
        shutdown(srv->fd, SHUT_RDWR);
        srv->shut = true;
    }
    if (!srv->started)
        goto cleanup;

    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->nworkers; i++)
        if (!srv->workers[i].finished)
            event_base_once(srv->workers[i].base, -1, EV_TIMEOUT, on_stop, &srv->workers[i], NULL);
    deadline_after(&deadline, grace_s > 0 ? (long)grace_s * 1000 : 0);
    while (srv->nfinished < srv->nthreads) {
        if (pthread_cond_timedwait(&srv->cond, &srv->lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (srv->nfinished < srv->nthreads) {
        /* Out of time: stop the loops where they are.  A worker inside a
         * handler ends when the handler returns. */
        for (int i = 0; i < srv->nworkers; i++)
            if (!srv->workers[i].finished)
                event_base_loopbreak(srv->workers[i].base);
        deadline_after(&deadline, BREAK_SLACK_MS);
        while (srv->nfinished < srv->nthreads) {
            if (pthread_cond_timedwait(&srv->cond, &srv->lock, &deadline) == ETIMEDOUT)
                break;
        }
        busy = srv->nthreads - srv->nfinished;
    }
    pthread_mutex_unlock(&srv->lock);
    if (busy > 0)
        log_warn("%d http worker(s) still inside a request handler after %d s: not waiting "
                 "for them",
                 busy, grace_s);

cleanup:
    return busy;
}

void http_server_free(struct http_server *srv)
{
    int busy = 0;

    if (srv == NULL)
        return;
    if (srv->started && !srv->shut) {
        busy = http_server_shutdown(srv, 0);
    } else if (srv->started) {
        pthread_mutex_lock(&srv->lock);
        busy = srv->nthreads - srv->nfinished;
        pthread_mutex_unlock(&srv->lock);
    }
    if (busy > 0) {
        /* A stuck handler's worker still uses srv: leave it all to exit(). */
        log_debug("http server memory left to the process's exit (%d worker(s) busy)", busy);
        return;
    }
    for (int i = 0; i < srv->nworkers; i++) {
        struct http_worker *w = &srv->workers[i];
        if (w->thread_started)
            pthread_join(w->thread, NULL);
        /* Left by a worker whose thread never ran. */
        if (w->http != NULL)
            evhttp_free(w->http);
        http_guard_worker_free(w->guard);
        if (w->accept_timer != NULL)
            event_free(w->accept_timer);
        if (w->base != NULL)
            event_base_free(w->base);
        free(w->pending);
    }
    if (srv->fd >= 0)
        close(srv->fd);
    pthread_cond_destroy(&srv->cond);
    pthread_mutex_destroy(&srv->lock);
    free(srv->workers);
    http_metrics_free(srv->metrics);
    http_guard_free(srv->guard);
    free(srv->display);
    free(srv);
}
