/* tcp.c — the gateway's TCP side: one libuv loop on its own thread holding every device connection
 * of both protocols (see gateway.h for what a connection promises).
 *
 * Reading: one 64 KiB read buffer for the whole loop (the loop is single-threaded and a read is
 * framed before the next one starts), so an idle connection costs its conn struct and libuv's
 * handles, not a buffer; the framer copies only an unfinished frame. Each complete frame is decoded
 * by the pure codec, handed to the ingest queue, and answered: at once for everything but alarms,
 * after the commit for alarms. An alarm's ack does not wait for the loop (issue 18: under a telemetry
 * flood the loop is the busiest thread, and waiting for it to be scheduled and to reach the ack was
 * the alarm's longest wait after its commit): alarm_done, on the writer thread right after the
 * commit, writes the ack to the socket itself (send, non-blocking) when nothing of the loop's is
 * waiting to go out on that connection, so the bytes cannot overtake an earlier reply; otherwise, or
 * when the socket takes nothing, it leaves the ack to the loop as before (posted through an async
 * handle; the loop writes it if the connection still lives). ack_mu makes the two sides agree: the
 * loop changes pending_out and closes the socket (fd = -1) under it, and the writer sends under it.
 * An ack the socket takes only in part closes the connection (the watch reconnects and repeats the
 * alarm, which is stored as a repeat): the rest cannot follow without racing the loop's replies.
 *
 * Identity: a watch names itself in every frame, an IW device in its login (frames before a login
 * are dropped unanswered, as iw.md requires). The first id a connection names pins it: a later frame
 * naming another id is forged (or broken) and dropped, counted, never re-binds the connection. A
 * device id maps to its one live connection. When a second connection names the same id from the
 * same address, the older one is closed (the device reconnected and the old socket is a half-dead
 * leftover); from another address, the first one stays and the second is served beside it (it may
 * be the real watch reconnecting through another carrier address) while a takeover signal goes to
 * ingest, which flags a registered device, alerts staff and holds its commands until they confirm
 * it. A recently closed connection's address is remembered for takeover_window_s for the same check
 * (the recent table, bounded). Closing a connection that still maps its device queues an "offline"
 * row.
 *
 * Quarantine: ingest reports ids it held (unregistered, devices.h) through held(); the loop marks the
 * device's connection for HELD_RECHECK_MS, during which its alarms are neither queued nor
 * acknowledged (the watch repeats them; one gets through to the store per period, so that a device
 * staff have just registered is recognised). Other frames still go to ingest (they only refresh the
 * row staff see) and are answered as the protocol requires.
 *
 * Source addresses (the peer table): connections, frames and alarms per address and minute are
 * counted and capped (fixed one-minute windows); addresses on the exempt list are not counted. An
 * allow-list refuses connections from elsewhere at accept. Logs name connections by number and never
 * carry a device id, an address or frame bytes.
 *
 * Output: a connection whose unsent replies pass a quarter of max_pending_out stops being read until
 * they drain to an eighth; a read is at most max_pending_out * 3 / 16 bytes, so even replies three
 * times larger than their frames (IW logins) stay under the cap, which then only drops a connection
 * that does not read at all while alarms and commands pile up for it.
 *
 * Lifetime of a conn: two handles (tcp, idle timer) plus refs for outstanding writes and alarms in
 * flight; it is freed when both handles are closed and refs is 0. Everything here runs on the loop
 * thread except alarm_done (under done_mu) and gateway_start/stop/stats. Shutdown: stop_async closes
 * the listeners and every connection; pending alarm completions after that are released by
 * the loop before it ends (gateway_stop stops the writer first, then lets the loop finish). */
#include "gateway/gateway.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "base/nice.h"
#include "base/str.h"
#include "base/trace.h"
#include "gateway/cmdq.h"
#include "gateway/ingest.h"
#include "wire/frame.h"
#include "wire/proto.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <uv.h>

#define MAP_BUCKETS 65536u
#define READ_BUF    65536u
#define PEER_BUCKETS 4096u
#define RECENT_BUCKETS 4096u
#define RECENT_MAX 65536
#define HELD_RECHECK_MS 10000
#define WINDOW_MS 60000
#define BP_QUIET_FRAMES 16 /* frames since the last resume a device may send and still be read under back-pressure */

/* A source address: its connections and its frames and alarms in the current minute. */
typedef struct peer {
    struct peer *next;
    nx_addr addr;
    int conns;
    int64_t win_start; /* monotonic ms */
    int frames, alarms;
    bool warned;       /* a limit was logged in this window */
} peer;

/* A device whose connection closed lately, and the address it spoke from. */
typedef struct recent {
    struct recent *next;  /* bucket chain */
    struct recent *later; /* FIFO, oldest first */
    int proto;
    char device[24];
    nx_addr addr;
    int64_t closed_ms; /* monotonic */
} recent;

/* An id ingest held in quarantine, posted by the writer to the loop. */
typedef struct held_note {
    struct held_note *next;
    int proto;
    char device[24];
} held_note;

typedef struct conn conn;
typedef struct listener {
    uv_tcp_t tcp;
    int proto;
    int port;
    bool active;
    struct gateway *g;
} listener;

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct gateway *g;
    conn *prev, *next;   /* all connections */
    conn *map_next;      /* device-id bucket chain */
    uint64_t id;
    int proto;
    int handles;         /* open handles (tcp, timer) */
    int refs;            /* writes and alarms in flight */
    bool closing, mapped, logged_in;
    bool pinned;         /* device holds the first id this connection named */
    bool paused;         /* reading stopped while the ingest queue is over its high mark */
    uint32_t bp_epoch;   /* g->bp_epoch when bp_frames was last counted */
    uint32_t bp_frames;  /* frames read since the last resume (back-pressure applies to busy devices) */
    bool out_paused;     /* reading stopped while unsent replies drain */
    nx_addr addr;        /* the peer's address */
    peer *peer;          /* its counters; NULL for an exempt address */
    int64_t held_until;  /* monotonic: ingest held this id (quarantine) lately */
    size_t pending_out;  /* changed under g->ack_mu (alarm_done reads it on the writer thread) */
    int fd;              /* the socket, -1 from conn_close on (under g->ack_mu): alarm_done's direct ack */
    char device[24];
    char iw_prefix[4];
    char mf[3];          /* watch manufacturer of the last frame ("3G", "CS" …): commands use it */
    wire_framer framer;
};

typedef struct alarm_tok {
    conn *c;
    struct alarm_tok *next;
    int rc;
    int64_t alert_id;
    int64_t seq; /* the alarm's number in the trace (NX_SOS_TRACE) */
    bool acked;  /* alarm_done wrote the ack itself */
    bool cut;    /* alarm_done wrote part of the ack only: the loop closes the connection */
    size_t len;
    char reply[WIRE_REPLY_MAX];
} alarm_tok;

struct gateway {
    store *db;
    gw_options o;
    uv_loop_t loop;
    uv_async_t stop_async, done_async;
    listener watch, iw;
    pthread_t thread;
    bool thread_started;
    gw_ingest *ingest;
    conn *conns;
    int nconn;
    uint64_t next_id;
    conn **map;
    pthread_mutex_t done_mu;
    pthread_mutex_t ack_mu;  /* conn fd and pending_out against alarm_done's direct ack */
    pthread_mutex_t map_mu;  /* guards changes of map for cmd_holds on the command thread */
    alarm_tok *done_head;
    cmdq *cmds;
    bool cmds_closed;
    uv_async_t resume_async; /* the ingest queue drained: paused connections read again */
    bool resume_closed;      /* under done_mu: resume_async is closing, the writer must not send */
    uint32_t bp_epoch;  /* loop thread: counts resumes; a connection's bp_frames is of this epoch */
    int npaused;        /* under done_mu: gateway_stop has begun, posted commands go unanswered */
    uv_async_t cmd_async;
    int64_t alarm_seq; /* loop: alarms read so far (names an alarm in the trace) */
    int64_t read_us; /* loop: when the read in progress began (NX_SOS_TRACE only) */
    cmdq_req *cmd_head, *cmd_tail; /* under done_mu: posted by the sender thread */
    bool loop_gone;      /* the writer has stopped: the loop closes the done handle and ends */
    bool stop_seen;      /* the loop has closed the listeners and connections */
    pthread_cond_t stop_cv;
    held_note *held_head;    /* under done_mu: posted by the writer */
    nx_cidr_list allow, exempt;
    peer **peers;
    recent **recent;
    recent *recent_old, *recent_new;
    int nrecent;
    size_t read_max;         /* bytes per read (see the essay) */
    uint64_t nofile;         /* the descriptor limit after raising it */
    uv_timer_t sweep;        /* frees idle peers once a minute */
    char rbuf[READ_BUF];
    /* counters: written on the loop thread, read with __atomic loads */
    uint64_t n_accepted, n_rejected, n_frames, n_bad, n_dropped, n_acked, n_forged, n_held, n_limited, n_takeover,
        n_disallowed;
};

#define BUMP(g, f) __atomic_fetch_add(&(g)->f, 1, __ATOMIC_RELAXED)

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_idle(uv_timer_t *t);

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % MAP_BUCKETS;
}

static conn *map_find(gateway *g, const char *dev)
{
    for (conn *c = g->map[hash_id(dev)]; c; c = c->map_next)
        if (strcmp(c->device, dev) == 0)
            return c;
    return NULL;
}

static void map_remove(gateway *g, conn *c)
{
    if (!c->mapped)
        return;
    pthread_mutex_lock(&g->map_mu);
    conn **pp = &g->map[hash_id(c->device)];
    while (*pp && *pp != c)
        pp = &(*pp)->map_next;
    if (*pp)
        *pp = c->map_next;
    c->map_next = NULL;
    c->mapped = false;
    pthread_mutex_unlock(&g->map_mu);
}

/* ---- source addresses ---- */

static uint32_t hash_addr(const nx_addr *a)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ a->b[i]) * 16777619u;
    return h % PEER_BUCKETS;
}

static peer *peer_get(gateway *g, const nx_addr *a)
{
    uint32_t h = hash_addr(a);
    for (peer *p = g->peers[h]; p; p = p->next)
        if (netaddr_equal(&p->addr, a))
            return p;
    peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->addr = *a;
    p->win_start = clock_mono_ms();
    p->next = g->peers[h];
    g->peers[h] = p;
    return p;
}

/* Count one frame (alarm: also an alarm) against the address's minute; false when over its cap. */
static bool peer_allows(gateway *g, conn *c, bool alarm)
{
    peer *p = c->peer;
    if (!p)
        return true;
    int64_t now = clock_mono_ms();
    if (now - p->win_start >= WINDOW_MS) {
        p->win_start = now;
        p->frames = p->alarms = 0;
        p->warned = false;
    }
    bool ok = alarm ? ++p->alarms <= g->o.alarms_per_min : ++p->frames <= g->o.frames_per_min;
    if (!ok) {
        BUMP(g, n_limited);
        if (!p->warned) {
            p->warned = true;
            nx_log(LOG_WARN, "gateway.addr_limit conn=%llu limit=%s", (unsigned long long)c->id,
                   alarm ? "alarms_per_min" : "frames_per_min");
        }
    }
    return ok;
}

/* Once a minute: free the counters of addresses without connections whose minute is over. */
static void on_sweep(uv_timer_t *t)
{
    gateway *g = t->data;
    int64_t now = clock_mono_ms();
    for (uint32_t h = 0; h < PEER_BUCKETS; h++) {
        peer **pp = &g->peers[h];
        while (*pp) {
            peer *p = *pp;
            if (p->conns == 0 && now - p->win_start >= WINDOW_MS) {
                *pp = p->next;
                free(p);
            } else {
                pp = &p->next;
            }
        }
    }
}

/* ---- devices whose connection closed lately ---- */

static recent **recent_slot(gateway *g, int proto, const char *dev)
{
    recent **pp = &g->recent[hash_id(dev) % RECENT_BUCKETS];
    while (*pp && ((*pp)->proto != proto || strcmp((*pp)->device, dev) != 0))
        pp = &(*pp)->next;
    return pp;
}

/* Drop the oldest entry (the FIFO's head) from its chain and free it. */
static void recent_pop(gateway *g)
{
    recent *r = g->recent_old;
    recent **pp = recent_slot(g, r->proto, r->device);
    while (*pp && *pp != r)
        pp = &(*pp)->next; /* a newer entry of the same device may precede it: find this one */
    if (*pp)
        *pp = r->next;
    g->recent_old = r->later;
    if (!g->recent_old)
        g->recent_new = NULL;
    g->nrecent--;
    free(r);
}

static void recent_expire(gateway *g, int64_t now)
{
    int64_t window = (int64_t)g->o.takeover_window_s * 1000;
    while (g->recent_old && (now - g->recent_old->closed_ms > window || g->nrecent > RECENT_MAX))
        recent_pop(g);
}

static void recent_put(gateway *g, conn *c)
{
    if (g->o.takeover_window_s <= 0)
        return;
    int64_t now = clock_mono_ms();
    recent_expire(g, now);
    recent *r = calloc(1, sizeof *r);
    if (!r)
        return;
    r->proto = c->proto;
    str_copy(r->device, c->device, sizeof r->device);
    r->addr = c->addr;
    r->closed_ms = now;
    recent **head = &g->recent[hash_id(r->device) % RECENT_BUCKETS];
    r->next = *head; /* newest first in its chain: look-ups find the latest */
    *head = r;
    if (g->recent_new)
        g->recent_new->later = r;
    else
        g->recent_old = r;
    g->recent_new = r;
    g->nrecent++;
}

/* The address the device's last connection spoke from, if it closed within the window. */
static const recent *recent_find(gateway *g, int proto, const char *dev)
{
    if (g->o.takeover_window_s <= 0)
        return NULL;
    recent_expire(g, clock_mono_ms());
    return *recent_slot(g, proto, dev);
}

/* Command thread: does this process hold a connection for the device? (map_mu: the loop changes
 * the map only under it; the loop's own look-ups need no lock.) */
static bool cmd_holds(void *ctx, int proto, const char *dev)
{
    gateway *g = ctx;
    pthread_mutex_lock(&g->map_mu);
    conn *c = map_find(g, dev);
    bool here = c && c->proto == proto;
    pthread_mutex_unlock(&g->map_mu);
    return here;
}

static void maybe_free(conn *c)
{
    if (c->handles == 0 && c->refs == 0) {
        if (c->peer)
            c->peer->conns--;
        wire_framer_cleanup(&c->framer);
        free(c);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    c->handles--;
    maybe_free(c);
}

/* A signal about c's device that carries no frame (DEVICES_IN_OFFLINE, DEVICES_IN_TAKEOVER with its
 * reason in msg.type), queued for the store. */
static void push_signal(gateway *g, conn *c, int kind, const char *reason)
{
    devices_in in;
    memset(&in, 0, sizeof in);
    in.kind = kind;
    in.proto = c->proto;
    in.at = clock_now_ms();
    str_copy(in.imei, c->device, sizeof in.imei);
    if (reason)
        str_copy(in.msg.type, reason, sizeof in.msg.type);
    ingest_push(g->ingest, &in, NULL);
}

static void conn_close(conn *c, const char *why)
{
    if (c->closing)
        return;
    gateway *g = c->g;
    c->closing = true;
    if (c->paused) {
        c->paused = false;
        g->npaused--;
    }
    if (c->mapped) {
        map_remove(g, c);
        push_signal(g, c, DEVICES_IN_OFFLINE, NULL);
        recent_put(g, c);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    g->nconn--;
    if (why)
        nx_log(LOG_DEBUG, "gateway.conn_closed conn=%llu reason=%s", (unsigned long long)c->id, why);
    pthread_mutex_lock(&g->ack_mu);
    c->fd = -1; /* uv_close closes the socket: no direct ack from here on */
    pthread_mutex_unlock(&g->ack_mu);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

typedef struct wreq {
    uv_write_t req;
    conn *c;
    size_t len;
    char data[];
} wreq;

static void on_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    conn *c = w->c;
    pthread_mutex_lock(&c->g->ack_mu);
    c->pending_out -= w->len;
    pthread_mutex_unlock(&c->g->ack_mu);
    c->refs--;
    free(w);
    if (status < 0 && !c->closing)
        conn_close(c, "write_error");
    if (c->out_paused && !c->closing && c->pending_out <= c->g->o.max_pending_out / 8) {
        c->out_paused = false;
        if (!c->paused && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
            conn_close(c, "read_start");
    }
    maybe_free(c);
}

static void conn_send(conn *c, const char *data, size_t len)
{
    if (c->closing || len == 0)
        return;
    if (c->pending_out + len > c->g->o.max_pending_out) {
        BUMP(c->g, n_dropped);
        nx_log(LOG_WARN, "gateway.output_cap conn=%llu pending=%zu cap=%zu", (unsigned long long)c->id, c->pending_out,
               c->g->o.max_pending_out);
        conn_close(c, "output_cap");
        return;
    }
    wreq *w = malloc(sizeof *w + len);
    if (!w) {
        conn_close(c, "no_memory");
        return;
    }
    w->c = c;
    w->len = len;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    c->refs++;
    /* under ack_mu: alarm_done sends directly only while nothing of ours is on its way */
    pthread_mutex_lock(&c->g->ack_mu);
    c->pending_out += len;
    int wrc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (wrc != 0)
        c->pending_out -= len;
    pthread_mutex_unlock(&c->g->ack_mu);
    if (wrc != 0) {
        c->refs--;
        free(w);
        conn_close(c, "write_error");
        return;
    }
    /* A device that sends faster than it reads its replies waits (TCP holds its frames). */
    if (!c->out_paused && c->pending_out > c->g->o.max_pending_out / 4) {
        c->out_paused = true;
        if (!c->paused)
            uv_read_stop((uv_stream_t *)&c->tcp);
        nx_log(LOG_INFO, "gateway.output_backpressure conn=%llu pending=%zu", (unsigned long long)c->id, c->pending_out);
    }
}

static void map_add(gateway *g, conn *c)
{
    uint32_t h = hash_id(c->device);
    pthread_mutex_lock(&g->map_mu);
    c->map_next = g->map[h];
    g->map[h] = c;
    c->mapped = true;
    pthread_mutex_unlock(&g->map_mu);
}

static void signal_takeover(gateway *g, conn *c, const char *reason)
{
    BUMP(g, n_takeover);
    nx_log(LOG_WARN, "gateway.takeover_signal conn=%llu reason=%s", (unsigned long long)c->id, reason);
    push_signal(g, c, DEVICES_IN_TAKEOVER, reason);
}

/* The device this connection speaks for. false: the frame names another id than the one the
 * connection is pinned to (dropped by the caller). The first id pins the connection; see the essay
 * for a second connection of the same id. */
static bool conn_identify(conn *c, const char *dev)
{
    gateway *g = c->g;
    if (c->pinned) {
        if (strcmp(c->device, dev) != 0)
            return false;
        if (!c->mapped && !map_find(g, dev))
            map_add(g, c); /* a second source whose first connection has gone: it now gets commands */
        return true;
    }
    str_copy(c->device, dev, sizeof c->device);
    c->pinned = true;
    uint64_t idle = (uint64_t)g->o.idle_timeout_s * 1000u;
    uv_timer_start(&c->timer, on_idle, idle, idle);
    conn *old = map_find(g, dev);
    if (old && old != c && old->proto == c->proto) {
        if (!netaddr_equal(&old->addr, &c->addr)) {
            signal_takeover(g, c, "second_source");
            return true; /* served beside the first one, which keeps the device */
        }
        map_remove(g, old); /* no offline row: the device is online on c */
        conn_close(old, "replaced");
    } else if (old && old != c) {
        return true; /* the same id on the other protocol's port: served, not mapped */
    } else {
        const recent *r = recent_find(g, c->proto, dev);
        if (r && !netaddr_equal(&r->addr, &c->addr))
            signal_takeover(g, c, "new_address");
    }
    map_add(g, c);
    return true;
}

static void handle_frame(conn *c, const uint8_t *frame, size_t len)
{
    gateway *g = c->g;
    wire_msg m;
    nx_err e;
    nx_err_clear(&e);
    int64_t now = clock_now_ms();
    if (!peer_allows(g, c, false))
        return;
    bool refused = false;
    if (wire_proto_decode(c->proto, frame, len, &m, &e)) {
        BUMP(g, n_bad);
        nx_log(LOG_DEBUG, "gateway.bad_frame conn=%llu field=%s", (unsigned long long)c->id, e.field);
        /* a health reading out of range is still answered (the protocol requires it); nothing stored */
        if (wire_proto_decode_refused(c->proto, frame, len, &m))
            return;
        refused = true;
    } else {
        BUMP(g, n_frames);
    }
    if (c->proto == WIRE_PROTO_IW) {
        if (m.kind == WIRE_LOGIN && m.device_id[0]) {
            if (!conn_identify(c, m.device_id))
                goto forged;
            c->logged_in = true;
            str_copy(c->iw_prefix, m.prefix, sizeof c->iw_prefix);
        } else if (!c->logged_in) {
            nx_log(LOG_INFO, "gateway.iw_before_login conn=%llu type=%s", (unsigned long long)c->id, m.type);
            return;
        }
    } else if (m.device_id[0]) {
        if (!conn_identify(c, m.device_id))
            goto forged;
        if (m.mf[0])
            str_copy(c->mf, m.mf, sizeof c->mf);
    }
    if (!c->pinned)
        return;
    alarm_tok *tok = NULL;
    char out[WIRE_REPLY_MAX];
    size_t olen = 0;
    wire_proto_reply(&m, now, out, sizeof out, &olen);
    if (refused) {
        conn_send(c, out, olen);
        return;
    }
    devices_in in;
    ingest_item_frame(&in, &m, c->device, now);
    if (m.kind == WIRE_ALARM) {
        /* quarantined (not acknowledged: the watch repeats, and a repeat after the re-check period
         * reaches the store), or over the address's alarm budget: never queued */
        if (c->held_until > clock_mono_ms()) {
            BUMP(g, n_held);
            return;
        }
        if (!peer_allows(g, c, true))
            return;
        tok = calloc(1, sizeof *tok);
        if (!tok) {
            conn_close(c, "no_memory");
            return;
        }
        tok->c = c;
        tok->seq = ++g->alarm_seq;
        trace_mark("gw.read", tok->seq, g->read_us);
        trace_mark("gw.tok", (int64_t)(intptr_t)tok, tok->seq);
        memcpy(tok->reply, out, olen);
        tok->len = olen;
        c->refs++;
        if (ingest_push(g->ingest, &in, tok) != 0) {
            c->refs--;
            free(tok); /* not acknowledged: the watch repeats the alarm */
        }
        return;
    }
    ingest_push(g->ingest, &in, NULL);
    conn_send(c, out, olen);
    return;
forged:
    BUMP(g, n_forged);
    nx_log(LOG_WARN, "gateway.id_mismatch conn=%llu action=dropped", (unsigned long long)c->id);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    (void)suggested;
    buf->base = c->g->rbuf;
    buf->len = c->g->read_max;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = s->data;
    if (nread < 0) {
        conn_close(c, nread == UV_EOF ? "eof" : "read_error");
        return;
    }
    if (nread == 0 || c->closing)
        return;
    uv_timer_again(&c->timer);
    if (trace_on())
        c->g->read_us = trace_now_us(); /* the loop's read of this frame (the alarm's trace) */
    wire_framer_push(&c->framer, (const uint8_t *)buf->base, (size_t)nread);
    const uint8_t *frame;
    size_t len;
    int rc;
    if (c->bp_epoch != c->g->bp_epoch) {
        c->bp_epoch = c->g->bp_epoch;
        c->bp_frames = 0;
    }
    while (!c->closing && (rc = wire_framer_next(&c->framer, &frame, &len)) == 1) {
        handle_frame(c, frame, len);
        c->bp_frames++;
    }
    if (!c->closing && c->out_paused)
        uv_read_stop((uv_stream_t *)&c->tcp); /* a reply of this read went over the mark */
    if (!c->closing && rc < 0) {
        BUMP(c->g, n_dropped);
        nx_log(LOG_WARN, "gateway.frame_cap conn=%llu code=%s", (unsigned long long)c->id, nx_code_name(rc));
        conn_close(c, "frame_cap");
        return;
    }
    /* More rows queued than the store keeps up with: this device waits (TCP holds its frames) until
     * the queue has drained, rather than its rows being dropped later — if it is one of the devices
     * that send a lot (more than BP_QUIET_FRAMES since the last resume). A quiet device (a watch
     * reporting every few minutes, one pressing SOS) is still read: its alarm must not wait in TCP
     * for seconds of telemetry to drain; the queue's hard cap still bounds what quiet devices add. */
    if (!c->closing && c->bp_frames > BP_QUIET_FRAMES && ingest_over_high(c->g->ingest) &&
        uv_read_stop((uv_stream_t *)&c->tcp) == 0) {
        c->paused = true;
        if (c->g->npaused++ == 0)
            nx_log(LOG_INFO, "gateway.backpressure paused=1");
    }
}

static void on_idle(uv_timer_t *t)
{
    conn *c = t->data;
    if (!c->pinned)
        nx_log(LOG_INFO, "gateway.identify_timeout conn=%llu", (unsigned long long)c->id);
    conn_close(c, c->pinned ? "idle" : "identify_timeout");
}

static void on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    gateway *g = l->g;
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->g = g;
    c->proto = l->proto;
    c->id = ++g->next_id;
    c->fd = -1;
    uv_tcp_init(&g->loop, &c->tcp);
    uv_timer_init(&g->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    wire_framer_init(&c->framer, c->proto,
                     c->proto == WIRE_PROTO_WATCH ? g->o.watch_frame_max : g->o.iw_frame_max);
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    g->nconn++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c, NULL);
        return;
    }
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
        pthread_mutex_lock(&g->ack_mu);
        c->fd = fd;
        pthread_mutex_unlock(&g->ack_mu);
    }
    if (g->nconn > g->o.max_connections) {
        BUMP(g, n_rejected);
        conn_close(c, "max_connections");
        return;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) != 0 ||
        netaddr_from_sockaddr((struct sockaddr *)&ss, &c->addr) != 0) {
        conn_close(c, "peer_unknown");
        return;
    }
    if (g->allow.n && !cidr_list_has(&g->allow, &c->addr)) {
        BUMP(g, n_disallowed);
        conn_close(c, "not_allowed");
        return;
    }
    if (!cidr_list_has(&g->exempt, &c->addr)) {
        peer *p = peer_get(g, &c->addr);
        if (!p) {
            conn_close(c, "no_memory");
            return;
        }
        if (p->conns >= g->o.conns_per_addr) {
            BUMP(g, n_limited);
            if (!p->warned) {
                p->warned = true;
                nx_log(LOG_WARN, "gateway.addr_limit conn=%llu limit=conns_per_addr", (unsigned long long)c->id);
            }
            conn_close(c, "conns_per_addr");
            return;
        }
        p->conns++;
        c->peer = p; /* released when c is freed */
    }
    BUMP(g, n_accepted);
    uv_tcp_nodelay(&c->tcp, 1);
    uint64_t ident = (uint64_t)g->o.identify_timeout_s * 1000u;
    uv_timer_start(&c->timer, on_idle, ident, ident);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c, "read_start");
}

/* Writer thread: the ingest queue is down to its low mark. */
static void on_drained(void *ctx)
{
    gateway *g = ctx;
    pthread_mutex_lock(&g->done_mu);
    if (!g->resume_closed)
        uv_async_send(&g->resume_async);
    pthread_mutex_unlock(&g->done_mu);
}

static void on_resume_async(uv_async_t *a)
{
    gateway *g = a->data;
    int n = 0;
    g->bp_epoch++;
    for (conn *c = g->conns, *next; c && g->npaused > 0; c = next) {
        next = c->next;
        if (!c->paused || c->closing)
            continue;
        c->paused = false;
        g->npaused--;
        n++;
        uv_timer_again(&c->timer);
        if (!c->out_paused && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
            conn_close(c, "read_start");
    }
    g->npaused = 0;
    if (n)
        nx_log(LOG_DEBUG, "gateway.resumed connections=%d", n);
}

/* Writer thread: the ack of a committed alarm, written to the socket now rather than by the loop
 * (see the top of this file). Sets t->acked when the socket took it whole, t->cut when only part. */
static void ack_now(gateway *g, alarm_tok *t)
{
    conn *c = t->c;
    pthread_mutex_lock(&g->ack_mu);
    if (c->fd >= 0 && c->pending_out == 0) {
        ssize_t n = send(c->fd, t->reply, t->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == (ssize_t)t->len)
            t->acked = true;
        else if (n > 0)
            t->cut = true;
    }
    pthread_mutex_unlock(&g->ack_mu);
    if (t->acked)
        trace_mark("gw.ack", t->seq, t->alert_id);
}

/* Writer thread: an alarm's transaction has ended. */
static void alarm_done(void *ctx, void *token, int rc, int64_t alert_id)
{
    gateway *g = ctx;
    alarm_tok *t = token;
    t->rc = rc;
    t->alert_id = alert_id;
    if (rc == 0 && alert_id != DEVICES_HELD)
        ack_now(g, t);
    pthread_mutex_lock(&g->done_mu);
    t->next = g->done_head;
    g->done_head = t;
    pthread_mutex_unlock(&g->done_mu);
    trace_mark("gw.commit", t->seq, alert_id);
    if (rc == 0 && alert_id != DEVICES_HELD)
        nx_log(LOG_DEBUG, "gateway.alarm_committed alert=%lld", (long long)alert_id);
    uv_async_send(&g->done_async);
}

/* Writer thread: ingest held an item of this device (quarantine). */
static void on_held(void *ctx, int proto, const char *dev)
{
    gateway *g = ctx;
    held_note *h = calloc(1, sizeof *h);
    if (!h)
        return;
    h->proto = proto;
    str_copy(h->device, dev, sizeof h->device);
    pthread_mutex_lock(&g->done_mu);
    h->next = g->held_head;
    g->held_head = h;
    pthread_mutex_unlock(&g->done_mu);
    uv_async_send(&g->done_async);
}

/* Loop: mark the connections of held devices. */
static void drain_held(gateway *g)
{
    pthread_mutex_lock(&g->done_mu);
    held_note *h = g->held_head;
    g->held_head = NULL;
    pthread_mutex_unlock(&g->done_mu);
    int64_t until = clock_mono_ms() + HELD_RECHECK_MS;
    while (h) {
        held_note *next = h->next;
        conn *c = map_find(g, h->device);
        if (c && c->proto == h->proto)
            c->held_until = until;
        free(h);
        h = next;
    }
}

static void drain_done(gateway *g)
{
    drain_held(g);
    pthread_mutex_lock(&g->done_mu);
    alarm_tok *t = g->done_head;
    g->done_head = NULL;
    pthread_mutex_unlock(&g->done_mu);
    /* reverse to send in completion order */
    alarm_tok *rev = NULL;
    while (t) {
        alarm_tok *n = t->next;
        t->next = rev;
        rev = t;
        t = n;
    }
    while (rev) {
        alarm_tok *n = rev->next;
        conn *c = rev->c;
        if (rev->rc == 0 && rev->alert_id == DEVICES_HELD) {
            c->held_until = clock_mono_ms() + HELD_RECHECK_MS; /* quarantined: no ack */
        } else if (rev->rc == 0 && rev->cut) {
            conn_close(c, "ack_cut"); /* the watch reconnects and repeats the alarm */
        } else if (rev->rc == 0 && (rev->acked || !c->closing)) {
            if (!rev->acked) {
                conn_send(c, rev->reply, rev->len);
                trace_mark("gw.ack", rev->seq, rev->alert_id);
            }
            BUMP(g, n_acked);
        }
        c->refs--;
        maybe_free(c);
        free(rev);
        rev = n;
    }
}

/* Sender thread: a command for the loop (cmdq.h). */
static void cmd_post(void *ctx, cmdq_req *req)
{
    gateway *g = ctx;
    req->next = NULL;
    pthread_mutex_lock(&g->done_mu);
    if (g->cmd_tail)
        g->cmd_tail->next = req;
    else
        g->cmd_head = req;
    g->cmd_tail = req;
    pthread_mutex_unlock(&g->done_mu);
    uv_async_send(&g->cmd_async);
}

/* Loop: send each posted command if this process holds the device's connection, and answer. */
static void on_cmd_async(uv_async_t *a)
{
    gateway *g = a->data;
    pthread_mutex_lock(&g->done_mu);
    cmdq_req *r = g->cmd_head;
    g->cmd_head = g->cmd_tail = NULL;
    bool live = !g->cmds_closed;
    while (r) {
        cmdq_req *next = r->next;
        conn *c = map_find(g, r->imei);
        cmdq *q = r->q;
        if (live && c && !c->closing && c->proto == r->proto) {
            char out[WIRE_REPLY_MAX];
            size_t len = 0;
            nx_err e;
            nx_err_clear(&e);
            const char *mf = c->proto == WIRE_PROTO_IW ? (c->iw_prefix[0] ? c->iw_prefix : "IW")
                                                       : (c->mf[0] ? c->mf : "SG");
            if (devices_command_encode(&r->cmd, c->proto, mf, c->device, r->serial, out, sizeof out, &len, &e)) {
                cmdq_result(q, r->id, CMDQ_FAILED, e.msg);
            } else {
                conn_send(c, out, len);
                cmdq_result(q, r->id, c->closing ? CMDQ_NOT_HERE : CMDQ_SENT, NULL);
            }
        } else if (live) {
            cmdq_result(q, r->id, CMDQ_NOT_HERE, NULL);
        }
        cmdq_req_free(r);
        r = next;
    }
    pthread_mutex_unlock(&g->done_mu);
}

static void on_plain_closed(uv_handle_t *h);

static void on_done_async(uv_async_t *a)
{
    gateway *g = a->data;
    drain_done(g);
    pthread_mutex_lock(&g->done_mu);
    bool gone = g->loop_gone;
    pthread_mutex_unlock(&g->done_mu);
    if (gone && !uv_is_closing((uv_handle_t *)a))
        uv_close((uv_handle_t *)a, on_plain_closed);
}

static void on_plain_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_stop_async(uv_async_t *a)
{
    gateway *g = a->data;
    uv_close((uv_handle_t *)&g->sweep, on_plain_closed);
    if (g->watch.active)
        uv_close((uv_handle_t *)&g->watch.tcp, on_plain_closed);
    if (g->iw.active)
        uv_close((uv_handle_t *)&g->iw.tcp, on_plain_closed);
    while (g->conns)
        conn_close(g->conns, NULL);
    on_cmd_async(&g->cmd_async); /* the sender has stopped: free what it posted last */
    uv_close((uv_handle_t *)&g->cmd_async, on_plain_closed);
    pthread_mutex_lock(&g->done_mu);
    g->resume_closed = true;
    pthread_mutex_unlock(&g->done_mu);
    uv_close((uv_handle_t *)&g->resume_async, on_plain_closed);
    uv_close((uv_handle_t *)&g->stop_async, on_plain_closed);
    pthread_mutex_lock(&g->done_mu);
    g->stop_seen = true;
    pthread_cond_signal(&g->stop_cv);
    pthread_mutex_unlock(&g->done_mu);
}

static void *loop_main(void *arg)
{
    gateway *g = arg;
    pthread_setname_np(pthread_self(), "nx-gw-loop"); /* top -H, /proc/PID/task/TID/comm, the benchmarks */
    /* the devices' edge: an SOS frame is read, and an ack the alarm writer leaves to the loop is
     * written, as soon as it arrives, not after the busy box's exports and other processes (nice.h);
     * its work is bounded (a busy device is no longer read while the ingest queue is over its mark) */
    nice_raise_self(NICE_ALARM, "gateway.loop_thread_priority");
    uv_run(&g->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss, nx_err *e)
{
    char host[128];
    const char *colon = strrchr(s, ':');
    int64_t port;
    if (!colon || str_to_i64(colon + 1, 0, 65535, &port))
        return nx_fail(e, NX_EINVAL, "listen", "监听地址应为 HOST:PORT：%s", s);
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host)
        return nx_fail(e, NX_EINVAL, "listen", "监听地址过长");
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss) == 0)
            return 0;
    } else {
        const char *h = hl == 0 ? "0.0.0.0" : strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
        if (uv_ip4_addr(h, (int)port, (struct sockaddr_in *)ss) == 0)
            return 0;
    }
    return nx_fail(e, NX_EINVAL, "listen", "无法解析监听地址：%s", s);
}

static bool enabled(const char *addr)
{
    return addr && addr[0] && strcmp(addr, "off") != 0;
}

static int listen_on(gateway *g, listener *l, int proto, const char *addr, nx_err *e)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int rc = parse_addr(addr, &ss, e);
    if (rc)
        return rc;
    l->g = g;
    l->proto = proto;
    uv_tcp_init(&g->loop, &l->tcp);
    l->tcp.data = l;
    l->active = true;
    int r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection);
    if (r != 0)
        return nx_fail(e, NX_EIO, "listen", "无法监听设备端口 %s：%s", addr, uv_strerror(r));
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen);
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

static void close_all_sync(gateway *g)
{
    /* start failed before the thread ran: close what was opened and run the loop to finish */
    if (g->watch.active)
        uv_close((uv_handle_t *)&g->watch.tcp, on_plain_closed);
    if (g->iw.active)
        uv_close((uv_handle_t *)&g->iw.tcp, on_plain_closed);
    uv_close((uv_handle_t *)&g->stop_async, on_plain_closed);
    uv_close((uv_handle_t *)&g->done_async, on_plain_closed);
    uv_close((uv_handle_t *)&g->cmd_async, on_plain_closed);
    uv_close((uv_handle_t *)&g->resume_async, on_plain_closed);
    uv_close((uv_handle_t *)&g->sweep, on_plain_closed);
    uv_run(&g->loop, UV_RUN_DEFAULT);
    uv_loop_close(&g->loop);
}

int gateway_conn_cap(int max_conns, uint64_t nofile, int reserve)
{
    uint64_t room = nofile > (uint64_t)reserve ? nofile - (uint64_t)reserve : 0;
    if (room < 16)
        room = nofile / 4 > 16 ? nofile / 4 : 16;
    return (uint64_t)max_conns > room ? (int)room : max_conns;
}

/* Raise the soft descriptor limit to the hard one; the limit now in force (0 when unknown). */
static uint64_t raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
            nx_log(LOG_WARN, "gateway.nofile_raise_failed");
    }
    return rl.rlim_cur == RLIM_INFINITY ? (uint64_t)1 << 20 : (uint64_t)rl.rlim_cur;
}

static void free_tables(gateway *g)
{
    for (uint32_t h = 0; g->peers && h < PEER_BUCKETS; h++)
        while (g->peers[h]) {
            peer *p = g->peers[h];
            g->peers[h] = p->next;
            free(p);
        }
    while (g->recent_old) {
        recent *r = g->recent_old;
        g->recent_old = r->later;
        free(r);
    }
    while (g->held_head) {
        held_note *h = g->held_head;
        g->held_head = h->next;
        free(h);
    }
    free(g->peers);
    free(g->recent);
    free(g->map);
    cidr_list_free(&g->allow);
    cidr_list_free(&g->exempt);
}

int gateway_start(store *s, const gw_options *o, gateway **out, nx_err *e)
{
    gateway *g = calloc(1, sizeof *g);
    if (!g)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    g->map = calloc(MAP_BUCKETS, sizeof *g->map);
    g->peers = calloc(PEER_BUCKETS, sizeof *g->peers);
    g->recent = calloc(RECENT_BUCKETS, sizeof *g->recent);
    if (!g->map || !g->peers || !g->recent) {
        free_tables(g);
        free(g);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    if ((o->allow_from && cidr_list_parse(o->allow_from, &g->allow, e)) ||
        (o->limit_exempt && cidr_list_parse(o->limit_exempt, &g->exempt, e))) {
        free_tables(g);
        free(g);
        return NX_EINVAL;
    }
    g->db = s;
    g->o = *o;
    if (g->o.max_connections <= 0)
        g->o.max_connections = 50000;
    if (g->o.idle_timeout_s <= 0)
        g->o.idle_timeout_s = 900;
    if (g->o.max_pending_out == 0)
        g->o.max_pending_out = 64 * 1024;
    if (g->o.conns_per_addr <= 0)
        g->o.conns_per_addr = 256;
    if (g->o.frames_per_min <= 0)
        g->o.frames_per_min = 6000;
    if (g->o.alarms_per_min <= 0)
        g->o.alarms_per_min = 120;
    if (g->o.identify_timeout_s <= 0)
        g->o.identify_timeout_s = 30;
    if (g->o.quarantine_max < 0)
        g->o.quarantine_max = 0;
    if (g->o.fd_reserve <= 0)
        g->o.fd_reserve = 1024 + 256;
    g->read_max = g->o.max_pending_out * 3 / 16;
    if (g->read_max > READ_BUF)
        g->read_max = READ_BUF;
    if (g->read_max < 256)
        g->read_max = 256;
    /* Descriptors: the gateway may never take those HTTP, the database and uploads need. */
    g->nofile = raise_nofile();
    if (g->nofile) {
        int cap = gateway_conn_cap(g->o.max_connections, g->nofile, g->o.fd_reserve);
        if (cap < g->o.max_connections)
            nx_log(LOG_WARN, "gateway.conn_cap_lowered configured=%d effective=%d fd_limit=%llu reserve=%d",
                   g->o.max_connections, cap, (unsigned long long)g->nofile, g->o.fd_reserve);
        g->o.max_connections = cap;
    }
    g->o.watch_listen = g->o.iw_listen = NULL; /* not kept: the caller's strings */
    g->o.allow_from = g->o.limit_exempt = NULL;
    pthread_mutex_init(&g->done_mu, NULL);
    pthread_mutex_init(&g->ack_mu, NULL);
    pthread_mutex_init(&g->map_mu, NULL);
    pthread_cond_init(&g->stop_cv, NULL);
    uv_loop_init(&g->loop);
    uv_async_init(&g->loop, &g->stop_async, on_stop_async);
    uv_async_init(&g->loop, &g->done_async, on_done_async);
    uv_async_init(&g->loop, &g->cmd_async, on_cmd_async);
    uv_async_init(&g->loop, &g->resume_async, on_resume_async);
    g->resume_async.data = g;
    g->stop_async.data = g;
    g->done_async.data = g;
    g->cmd_async.data = g;
    uv_timer_init(&g->loop, &g->sweep);
    g->sweep.data = g;
    uv_timer_start(&g->sweep, on_sweep, WINDOW_MS, WINDOW_MS);
    uv_unref((uv_handle_t *)&g->sweep);
    int rc = 0;
    if ((enabled(o->watch_listen) && (rc = listen_on(g, &g->watch, WIRE_PROTO_WATCH, o->watch_listen, e))) ||
        (enabled(o->iw_listen) && (rc = listen_on(g, &g->iw, WIRE_PROTO_IW, o->iw_listen, e))))
        goto fail;
    if ((rc = ingest_start(s, o->batch_ms, o->esc_ms, o->queue_max, alarm_done, g, &g->ingest, e)))
        goto fail;
    ingest_backpressure(g->ingest, 0, 0, on_drained);
    ingest_after_alarms(g->ingest, o->after_alarms, o->after_alarms_ctx);
    ingest_quarantine(g->ingest, g->o.quarantine_max, on_held);
    if (pthread_create(&g->thread, NULL, loop_main, g) != 0) {
        rc = nx_fail(e, NX_EINTERNAL, "", "无法启动设备网关线程");
        goto fail;
    }
    g->thread_started = true;
    if (o->keys && (rc = cmdq_start(s, o->keys, o->cmd_poll_ms, cmd_post, cmd_holds, g, &g->cmds, e))) {
        gateway_stop(g);
        return rc;
    }
    nx_log(LOG_INFO, "gateway.started watch_port=%d iw_port=%d max_connections=%d fd_limit=%llu", g->watch.port,
           g->iw.port, g->o.max_connections, (unsigned long long)g->nofile);
    *out = g;
    return 0;
fail:
    ingest_stop(g->ingest);
    close_all_sync(g);
    pthread_mutex_destroy(&g->done_mu);
    pthread_mutex_destroy(&g->ack_mu);
    pthread_mutex_destroy(&g->map_mu);
    pthread_cond_destroy(&g->stop_cv);
    free_tables(g);
    free(g);
    return rc;
}

int gateway_port(const gateway *g, int proto)
{
    if (!g)
        return 0;
    return proto == WIRE_PROTO_WATCH ? g->watch.port : proto == WIRE_PROTO_IW ? g->iw.port : 0;
}

void gateway_stats(gateway *g, gw_stats *out)
{
    memset(out, 0, sizeof *out);
    out->accepted = __atomic_load_n(&g->n_accepted, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&g->n_rejected, __ATOMIC_RELAXED);
    out->frames = __atomic_load_n(&g->n_frames, __ATOMIC_RELAXED);
    out->bad_frames = __atomic_load_n(&g->n_bad, __ATOMIC_RELAXED);
    out->dropped_conns = __atomic_load_n(&g->n_dropped, __ATOMIC_RELAXED);
    out->alarms_acked = __atomic_load_n(&g->n_acked, __ATOMIC_RELAXED);
    out->forged = __atomic_load_n(&g->n_forged, __ATOMIC_RELAXED);
    out->held = __atomic_load_n(&g->n_held, __ATOMIC_RELAXED);
    out->limited = __atomic_load_n(&g->n_limited, __ATOMIC_RELAXED);
    out->takeovers = __atomic_load_n(&g->n_takeover, __ATOMIC_RELAXED);
    out->disallowed = __atomic_load_n(&g->n_disallowed, __ATOMIC_RELAXED);
    out->connections = out->accepted;
    ingest_counters(g->ingest, &out->rows_written, &out->rows_dropped, &out->batches);
}

void gateway_stop(gateway *g)
{
    if (!g)
        return;
    /* 0. No more commands: the loop stops answering the sender, then the sender stops. */
    pthread_mutex_lock(&g->done_mu);
    g->cmds_closed = true;
    pthread_mutex_unlock(&g->done_mu);
    cmdq_stop(g->cmds);
    g->cmds = NULL;
    /* 1. The loop closes the listeners and every connection (their offline rows are queued). */
    uv_async_send(&g->stop_async);
    pthread_mutex_lock(&g->done_mu);
    while (!g->stop_seen)
        pthread_cond_wait(&g->stop_cv, &g->done_mu);
    pthread_mutex_unlock(&g->done_mu);
    /* 2. The writer writes what is queued; alarm completions still reach the loop. */
    ingest_stop(g->ingest);
    g->ingest = NULL;
    /* 3. The loop drains the last completions, closes its done handle and ends. */
    pthread_mutex_lock(&g->done_mu);
    g->loop_gone = true;
    pthread_mutex_unlock(&g->done_mu);
    uv_async_send(&g->done_async);
    pthread_join(g->thread, NULL);
    drain_done(g);
    uv_loop_close(&g->loop);
    pthread_mutex_destroy(&g->done_mu);
    pthread_mutex_destroy(&g->ack_mu);
    pthread_mutex_destroy(&g->map_mu);
    pthread_cond_destroy(&g->stop_cv);
    nx_log(LOG_INFO, "gateway.stopped forged=%llu held=%llu limited=%llu takeovers=%llu disallowed=%llu",
           (unsigned long long)g->n_forged, (unsigned long long)g->n_held, (unsigned long long)g->n_limited,
           (unsigned long long)g->n_takeover, (unsigned long long)g->n_disallowed);
    free_tables(g);
    free(g);
}
