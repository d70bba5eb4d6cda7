/* conn.c — what one client may hold: connections per address, and a deadline for its headers.
 *
 * libmicrohttpd 0.9.75 offers a per-address connection limit (MHD_OPTION_PER_IP_CONNECTION_LIMIT)
 * that cannot exempt a reverse proxy, and a connection timeout (MHD_OPTION_CONNECTION_TIMEOUT)
 * that is an idle timeout: a client that sends one byte of its headers every few seconds keeps a
 * connection for ever, and about a thousand such connections fill the server. So the server keeps
 * its own account of live connections:
 *
 *   - accept_policy (MHD_OPTION_APPLY_POLICY_CALLBACK) refuses a new connection from an address that
 *     already holds max_per_address of them, unless the address is a trusted proxy (nginx in front
 *     holds every client's connections and limits them itself, docs/nginx);
 *   - conn_notify (MHD_OPTION_NOTIFY_CONNECTION) links each accepted connection into a list with
 *     its address, descriptor and the moment it began to wait for a request's headers (its start,
 *     then the end of each response); the first access-handler call (the headers are complete)
 *     clears that moment, the completion of the request sets it again;
 *   - a sweeper thread closes, once a second, every connection that has waited longer than
 *     header_timeout_s for complete headers, trusted proxies excepted. Only the time its worker
 *     thread was free to read it counts: a connection belongs to one worker, and while that worker
 *     runs a slow handler (a burst of logins hashing passwords) the headers that wait in the socket
 *     are the server's delay, not the client's. Each worker keeps the total time it spent in
 *     handlers (worker_mark, thread-local, made when it accepts its first connection); a
 *     connection notes that total when it starts waiting. To close a connection: shutdown(2) on its socket,
 *     and libmicrohttpd, seeing the end of the stream, closes it as usual. The socket is never
 *     closed here, and libmicrohttpd reports MHD_CONNECTION_NOTIFY_CLOSED (which unlinks the entry
 *     under the same lock) before it closes the descriptor, so the sweeper cannot hit a descriptor
 *     that has been reused.
 *
 * Refusals and closures are logged, at most one line per kind every 10 seconds with a count, so a
 * flood cannot flood the log too.
 *
 * Threads: accept_policy and conn_notify run on the MHD workers, the sweeper on its own thread;
 * the list is guarded by conns_lock, the waiting moment of a connection is an atomic. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/internal.h"

/* One per MHD worker thread: how long it has been busy in our callbacks. */
typedef struct worker_mark {
    struct worker_mark *next;
    _Atomic int64_t busy_total_ms; /* finished busy periods */
    _Atomic int64_t busy_since_ms; /* the current one began (0: not busy) */
} worker_mark;

static _Thread_local worker_mark *tl_mark;

struct http_conn {
    struct http_conn *prev, *next;
    http_server *srv;
    worker_mark *w;        /* the worker that owns the connection (NULL if none could be made) */
    int64_t busy_at_wait;  /* w's busy time when the wait began (under waiting_since_ms's order) */
    nx_addr addr;
    bool trusted;
    bool closing; /* the sweeper has shut it down */
    int fd;
    http_req *req; /* the request being read or answered; only its worker touches it */
    _Atomic int64_t waiting_since_ms; /* monotonic; 0 while a request is being answered */
};

/* One log line per kind every 10 s at most, with the count since the last line. */
static void log_rated(_Atomic int64_t *last_ms, atomic_uint *count, const char *what, const nx_addr *a)
{
    atomic_fetch_add(count, 1);
    int64_t now = clock_mono_ms(), last = atomic_load(last_ms);
    if (now - last < 10000 || !atomic_compare_exchange_strong(last_ms, &last, now))
        return;
    char ip[NX_ADDR_TEXT];
    netaddr_format(a, ip, sizeof ip);
    nx_log(LOG_WARN, "http.%s ip=%s count=%u (in the last 10 s at most)", what, ip, atomic_exchange(count, 0));
}

static int64_t busy_now(worker_mark *w, int64_t now)
{
    if (w == NULL)
        return 0;
    int64_t since = atomic_load(&w->busy_since_ms);
    return atomic_load(&w->busy_total_ms) + (since ? now - since : 0);
}

void http__busy_begin(void)
{
    if (tl_mark)
        atomic_store(&tl_mark->busy_since_ms, clock_mono_ms());
}

void http__busy_end(void)
{
    if (tl_mark == NULL)
        return;
    int64_t since = atomic_exchange(&tl_mark->busy_since_ms, 0);
    if (since)
        atomic_fetch_add(&tl_mark->busy_total_ms, clock_mono_ms() - since);
}

/* The calling worker's mark, made on first use and owned by the server. */
static worker_mark *this_worker(http_server *s)
{
    if (tl_mark)
        return tl_mark;
    worker_mark *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    pthread_mutex_lock(&s->conns_lock);
    w->next = s->marks;
    s->marks = w;
    pthread_mutex_unlock(&s->conns_lock);
    tl_mark = w;
    return w;
}

void http__conns_free(http_server *s)
{
    while (s->marks) {
        worker_mark *w = s->marks;
        s->marks = w->next;
        free(w);
    }
}

/* Start a wait for headers now (on the connection's worker). */
static void wait_begin(http_conn *c)
{
    int64_t now = clock_mono_ms();
    c->busy_at_wait = busy_now(c->w, now);
    atomic_store(&c->waiting_since_ms, now);
}

enum MHD_Result http__accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
    (void)len;
    http_server *s = cls;
    nx_addr a;
    if (sa == NULL || netaddr_from_sockaddr(sa, &a) != 0)
        return MHD_YES; /* not IP (cannot happen on a TCP listener): nothing to count */
    if (cidr_list_has(&s->proxies, &a))
        return MHD_YES;
    int held = 0;
    pthread_mutex_lock(&s->conns_lock);
    for (const http_conn *c = s->conns; c && held < s->opt.max_per_address; c = c->next)
        if (netaddr_equal(&c->addr, &a))
            held++;
    pthread_mutex_unlock(&s->conns_lock);
    if (held < s->opt.max_per_address)
        return MHD_YES;
    log_rated(&s->refused_log_ms, &s->refused, "conn_refused reason=per_address_cap", &a);
    return MHD_NO;
}

void http__conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        http_conn *c = calloc(1, sizeof *c);
        if (c == NULL)
            return; /* not counted: a connection too many rather than a refused one */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            netaddr_from_sockaddr(ci->client_addr, &c->addr);
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        c->trusted = cidr_list_has(&s->proxies, &c->addr);
        c->srv = s;
        c->w = this_worker(s);
        wait_begin(c);
        pthread_mutex_lock(&s->conns_lock);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        pthread_mutex_unlock(&s->conns_lock);
        *socket_context = c;
        return;
    }
    http_conn *c = *socket_context;
    *socket_context = NULL;
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&s->conns_lock);
    free(c);
}

http_conn *http__conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void http__conn_begin(http_conn *c, http_req *r)
{
    if (c)
        c->req = r;
}

http_req *http__conn_req(http_conn *c)
{
    return c ? c->req : NULL;
}

uint64_t http__conn_request_id(http_conn *c)
{
    if (c == NULL)
        return 0;
    return c->req ? c->req->id : atomic_fetch_add(&c->srv->next_id, 1);
}

void http__conn_headers_done(http_conn *c)
{
    if (c)
        atomic_store(&c->waiting_since_ms, 0);
}

void http__conn_request_done(http_conn *c)
{
    if (c) {
        c->req = NULL;
        wait_begin(c);
    }
}

static void *sweeper(void *arg)
{
    http_server *s = arg;
    nx_worker *w = &s->sweep;
    int64_t limit = (int64_t)s->opt.header_timeout_s * 1000;
    pthread_mutex_lock(&w->mu);
    while (worker_wait(w, 1000)) {
        w->woken = false;
        pthread_mutex_unlock(&w->mu);
        int64_t now = clock_mono_ms();
        pthread_mutex_lock(&s->conns_lock);
        for (http_conn *c = s->conns; c; c = c->next) {
            int64_t since = atomic_load(&c->waiting_since_ms);
            if (c->closing || c->trusted || since == 0 || c->fd < 0)
                continue;
            int64_t busy = busy_now(c->w, now) - c->busy_at_wait; /* its worker could not read it */
            if (now - since - busy < limit)
                continue;
            c->closing = true;
            shutdown(c->fd, SHUT_RDWR);
            log_rated(&s->slow_log_ms, &s->slow, "conn_closed reason=header_timeout", &c->addr);
        }
        pthread_mutex_unlock(&s->conns_lock);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int http__conns_start(http_server *s)
{
    int rc = worker_start(&s->sweep, sweeper, s);
    s->sweeping = rc == 0;
    return rc;
}

void http__conns_stop(http_server *s)
{
    if (s->sweeping)
        worker_stop(&s->sweep);
    s->sweeping = false;
}
