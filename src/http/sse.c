/* sse.c — Server-Sent Events: a hub of recent events and the streams that read it.
 *
 * A hub keeps the last HUB_RING events in a ring, each with its id (increasing; the source's own id,
 * e.g. the outbox row, so Last-Event-ID resumes across reconnects), event name, data (one line of
 * JSON) and scope tags (street, community, grid, resident, account; an event tagged with an account
 * goes to that account's streams only, whatever the hub's filter says). A stream is a response whose
 * content reader copies the events after its cursor that the hub's filter lets its caller see. When nothing
 * is ready, the reader suspends the connection (MHD_suspend_connection) and returns 0; a publisher
 * resumes every suspended stream. Returning 0 without suspending would spin the worker (DESIGN §11).
 * A heartbeat thread resumes streams that have been quiet for heartbeat_s, which then write a
 * comment line: suspended connections neither time out nor notice a closed client, the heartbeat is
 * how a dead client is found. Before MHD_stop_daemon the server calls http__sse_shutdown: every
 * stream is resumed and ends.
 *
 * Locking: one mutex per hub guards the ring and the list of streams; MHD_suspend_connection and
 * MHD_resume_connection are called under it (reader and publisher take the locks in the same order:
 * hub, then libmicrohttpd's own). A stream leaves the list in the response's free callback, so a
 * publisher never touches a finished connection.
 *
 * Streams and sessions: a stream keeps its caller's identity from the request that opened it, so it
 * must not outlive the session. http_sse_revoke (called when sessions end in this process) marks
 * the streams of a user or a session and resumes them; their reader then ends the stream. And at
 * every heartbeat the reader asks the server's check (http_sse_set_check; a store read, made with
 * no lock held) whether the session still holds, which catches sessions ended by another process
 * within one heartbeat. An account holds at most HTTP_SSE_PER_ACCOUNT streams of a hub; one more is
 * refused with 429 and Retry-After (rather than closing the oldest: two tabs over the cap would
 * otherwise push each other out for ever, and a stolen session could not end its owner's streams). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/trace.h"
#include "base/worker.h"
#include "http/internal.h"

#define HUB_RING      1024
#define SSE_BLOCK     16384
#define DATA_MAX      8192

typedef struct sse_ev {
    uint64_t id;
    char event[64];
    char *data;
    http_sse_scope scope;
} sse_ev;

typedef struct sse_stream {
    struct sse_stream *next;
    http_sse_hub *hub;
    struct MHD_Connection *conn;
    http_auth who; /* strings not kept */
    uint64_t cursor;
    bool suspended, hello;
    bool revoked;          /* the session ended: the next read ends the stream */
    int64_t last_write_ms; /* monotonic */
    int64_t last_check_ms; /* monotonic; only the reader touches it */
} sse_stream;

struct http_sse_hub {
    http_sse_hub *next; /* the server's list */
    http_server *srv;
    char name[32];
    http_sse_filter filter;
    void *ctx;
    int heartbeat_ms;
    nx_worker w; /* the heartbeat thread; w.mu guards the ring and the streams, w.stop is "closing" */
    sse_ev ring[HUB_RING];
    uint64_t head; /* events published so far (ring index = n % HUB_RING) */
    sse_stream *streams;
    int nstreams;
};

static void *heartbeat_main(void *arg)
{
    http_sse_hub *h = arg;
    pthread_mutex_lock(&h->w.mu);
    while (!h->w.stop) {
        struct timespec until = clock_deadline(CLOCK_MONOTONIC, 1000);
        pthread_cond_timedwait(&h->w.cv, &h->w.mu, &until);
        int64_t now = clock_mono_ms();
        for (sse_stream *s = h->streams; s; s = s->next)
            if (s->suspended && now - s->last_write_ms >= h->heartbeat_ms) {
                s->suspended = false;
                MHD_resume_connection(s->conn);
            }
    }
    pthread_mutex_unlock(&h->w.mu);
    return NULL;
}

int http_sse_hub_new(http_server *srv, const char *name, int heartbeat_s, http_sse_filter filter, void *ctx,
                     http_sse_hub **out)
{
    http_sse_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NX_ENOMEM;
    h->srv = srv;
    str_copy(h->name, name ? name : "", sizeof h->name);
    h->filter = filter;
    h->ctx = ctx;
    h->heartbeat_ms = (heartbeat_s > 0 ? heartbeat_s : 20) * 1000;
    worker_init(&h->w);
    if (worker_start(&h->w, heartbeat_main, h) != 0) {
        worker_cleanup(&h->w);
        free(h);
        return NX_EINTERNAL;
    }
    h->next = srv->hubs;
    srv->hubs = h;
    *out = h;
    return 0;
}

http_sse_hub *http_sse_hub_find(http_server *srv, const char *name)
{
    for (http_sse_hub *h = srv->hubs; h; h = h->next)
        if (strcmp(h->name, name) == 0)
            return h;
    return NULL;
}

int http_sse_publish(http_sse_hub *h, uint64_t id, const char *event, const char *data, const http_sse_scope *scope)
{
    if (!event || !data || strchr(data, '\n') || strchr(event, '\n') || strlen(data) > DATA_MAX)
        return NX_EINVAL;
    char *copy = strdup(data);
    if (!copy)
        return NX_ENOMEM;
    pthread_mutex_lock(&h->w.mu);
    uint64_t last = h->head ? h->ring[(h->head - 1) % HUB_RING].id : 0;
    if (id <= last) { /* already published (a source re-delivering): ignore */
        pthread_mutex_unlock(&h->w.mu);
        free(copy);
        return 0;
    }
    sse_ev *ev = &h->ring[h->head % HUB_RING];
    free(ev->data);
    ev->id = id;
    str_copy(ev->event, event, sizeof ev->event);
    ev->data = copy;
    ev->scope = scope ? *scope : (http_sse_scope){0};
    h->head++;
    for (sse_stream *s = h->streams; s; s = s->next)
        if (s->suspended) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
    pthread_mutex_unlock(&h->w.mu);
    trace_mark("hub.resumed", (int64_t)id, 0);
    return 0;
}

uint64_t http_sse_last_id(http_sse_hub *h)
{
    pthread_mutex_lock(&h->w.mu);
    uint64_t last = h->head ? h->ring[(h->head - 1) % HUB_RING].id : 0;
    pthread_mutex_unlock(&h->w.mu);
    return last;
}

/* Content reader: events after the cursor, a heartbeat, or suspend. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sse_stream *s = cls;
    http_sse_hub *h = s->hub;
    size_t n = 0;
    http_server *srv = h->srv;
    if (srv->sse_check && clock_mono_ms() - s->last_check_ms >= h->heartbeat_ms) {
        s->last_check_ms = clock_mono_ms();
        if (!srv->sse_check(&s->who, srv->sse_check_ctx))
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_lock(&h->w.mu);
    if (h->w.stop || s->revoked) {
        pthread_mutex_unlock(&h->w.mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (!s->hello) {
        int w = snprintf(buf, max, "retry: 3000\n: %s\n\n", "connected");
        if (w > 0 && (size_t)w < max) {
            n = (size_t)w;
            s->hello = true;
        }
    }
    uint64_t oldest = h->head > HUB_RING ? h->head - HUB_RING : 0;
    for (uint64_t i = oldest; i < h->head; i++) {
        sse_ev *ev = &h->ring[i % HUB_RING];
        if (ev->id <= s->cursor)
            continue;
        if ((ev->scope.account_id && ev->scope.account_id != s->who.user_id) ||
            (h->filter && !h->filter(&s->who, &ev->scope, h->ctx))) {
            s->cursor = ev->id;
            continue;
        }
        size_t need = strlen(ev->data) + strlen(ev->event) + 48;
        if (need > max - n) {
            if (n == 0) { /* cannot ever fit: skip it */
                s->cursor = ev->id;
                continue;
            }
            break;
        }
        n += (size_t)snprintf(buf + n, max - n, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)ev->id,
                              ev->event, ev->data);
        s->cursor = ev->id;
        trace_mark("sse.read", (int64_t)ev->id, 0);
    }
    int64_t now = clock_mono_ms();
    if (n == 0 && now - s->last_write_ms >= h->heartbeat_ms) {
        int w = snprintf(buf, max, ": ping\n\n");
        n = w > 0 && (size_t)w < max ? (size_t)w : 0;
    }
    if (n == 0) {
        s->suspended = true;
        MHD_suspend_connection(s->conn);
    } else {
        s->last_write_ms = now;
    }
    pthread_mutex_unlock(&h->w.mu);
    (void)pos;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_stream *s = cls;
    http_sse_hub *h = s->hub;
    pthread_mutex_lock(&h->w.mu);
    for (sse_stream **pp = &h->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            h->nstreams--;
            break;
        }
    pthread_mutex_unlock(&h->w.mu);
    free(s);
}

int http_reply_sse(http_req *r, http_sse_hub *h, uint64_t since)
{
    sse_stream *s = calloc(1, sizeof *s);
    if (!s)
        return nx_fail(&r->err, NX_ENOMEM, "", "内存不足");
    s->hub = h;
    s->conn = r->conn;
    if (r->has_auth) {
        s->who = r->auth;
        s->who.username = s->who.display_name = NULL;
    }
    const char *last = http_header(r, "Last-Event-ID");
    int64_t v;
    if (last && str_to_i64(last, 0, INT64_MAX, &v) == 0)
        since = (uint64_t)v;
    s->cursor = since;
    s->last_write_ms = s->last_check_ms = clock_mono_ms();
    pthread_mutex_lock(&h->w.mu);
    int mine = 0;
    for (sse_stream *o = h->streams; o; o = o->next)
        if (s->who.user_id && o->who.user_id == s->who.user_id && !o->revoked)
            mine++;
    if (mine >= HTTP_SSE_PER_ACCOUNT) {
        pthread_mutex_unlock(&h->w.mu);
        free(s);
        char ra[16];
        snprintf(ra, sizeof ra, "%d", h->heartbeat_ms / 1000);
        http_add_header(r, "Retry-After", ra);
        return nx_fail(&r->err, NX_ELOCKED, "", "实时推送连接过多（每个账号最多 %d 个），请关闭其他页面后重试",
                       HTTP_SSE_PER_ACCOUNT);
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, s, sse_free);
    if (!resp) {
        pthread_mutex_unlock(&h->w.mu);
        free(s);
        return nx_fail(&r->err, NX_ENOMEM, "", "内存不足");
    }
    s->next = h->streams;
    h->streams = s;
    h->nstreams++;
    pthread_mutex_unlock(&h->w.mu);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return http__queue(r, 200, resp, 0, false);
}

void http_sse_set_check(http_server *srv, http_sse_check fn, void *ctx)
{
    srv->sse_check = fn;
    srv->sse_check_ctx = ctx;
}

int http_sse_revoke(http_server *srv, int64_t user_id, int64_t session_id)
{
    int n = 0;
    for (http_sse_hub *h = srv->hubs; h; h = h->next) {
        pthread_mutex_lock(&h->w.mu);
        for (sse_stream *s = h->streams; s; s = s->next)
            if (!s->revoked && ((user_id && s->who.user_id == user_id) ||
                                (session_id && s->who.session_id == session_id))) {
                s->revoked = true;
                n++;
                if (s->suspended) {
                    s->suspended = false;
                    MHD_resume_connection(s->conn);
                }
            }
        pthread_mutex_unlock(&h->w.mu);
    }
    return n;
}

void http__sse_shutdown(http_server *srv)
{
    for (http_sse_hub *h = srv->hubs; h; h = h->next) {
        pthread_mutex_lock(&h->w.mu);
        atomic_store(&h->w.stop, true);
        for (sse_stream *s = h->streams; s; s = s->next)
            if (s->suspended) {
                s->suspended = false;
                MHD_resume_connection(s->conn);
            }
        pthread_cond_signal(&h->w.cv);
        pthread_mutex_unlock(&h->w.mu);
    }
}

void http__sse_free_all(http_server *srv)
{
    http_sse_hub *h = srv->hubs;
    while (h) {
        http_sse_hub *next = h->next;
        worker_stop(&h->w);
        for (int i = 0; i < HUB_RING; i++)
            free(h->ring[i].data);
        worker_cleanup(&h->w);
        free(h);
        h = next;
    }
    srv->hubs = NULL;
}
