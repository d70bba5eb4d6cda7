/* internal.h — what the files of http/ share and modules must not see: the server and request
 * structs and the cross-file helpers (prefixed http__).
 *
 * A request belongs to one MHD worker thread from its first byte to its completion notice, so
 * nothing in struct http_req is locked. The server struct is written before start and only read
 * afterwards, except next_id (atomic). */
#ifndef NX_HTTP_INTERNAL_H
#define NX_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/netaddr.h"
#include "base/str.h"
#include "base/worker.h"
#include "http/http.h"
#include "http/router.h"

struct http_server {
    http_options opt; /* copy; string members point at the copies below */
    char *listen;
    char *web_root; /* realpath of the web root, NULL when static files are off */
    char *csp;      /* the web app's Content-Security-Policy (static.c: http__csp_new) */
    router *router;
    struct MHD_Daemon *daemon;
    http_authenticator auth_fn;
    void *auth_ctx;
    int (*ready_fn)(void *ctx, nx_err *e);
    void *ready_ctx;
    const char *openapi;
    atomic_uint_fast64_t next_id;
    bool bad_routes; /* a route failed to register: start refuses */
    int port;
    nx_cidr_list proxies; /* trusted_proxies, parsed */
    /* conn.c: the live connections (for the per-address cap and the header deadline) */
    pthread_mutex_t conns_lock;
    struct http_conn *conns;
    struct worker_mark *marks; /* one per MHD worker thread that has accepted a connection */
    nx_worker sweep;
    bool sweeping;
    _Atomic int64_t refused_log_ms, slow_log_ms;
    atomic_uint refused, slow;
    http_sse_hub *hubs; /* sse.c: event hubs, ended before the daemon stops */
    http_sse_check sse_check; /* sse.c: does a stream's session still hold? (NULL: not asked) */
    void *sse_check_ctx;
    /* server.c: finished requests kept for reuse (struct and arena), at most REQ_POOL_MAX */
    pthread_mutex_t pool_lock;
    http_req *pool;
    int npool;
};

typedef struct http_conn http_conn;

/* A header added with http_add_header, waiting for the response. */
struct http_hdr {
    struct http_hdr *next;
    const char *name, *value;
};

enum http_req_kind {
    REQ_ROUTE,    /* a registered route: auth, then the handler */
    REQ_STATIC,   /* a file under the web root */
    REQ_DEFERRED, /* an answer decided on the first call (400/404/405/401/403…) */
};

struct http_req {
    http_server *srv;
    http_req *pool_next; /* in srv->pool while unused */
    struct MHD_Connection *conn;
    arena *arena;
    uint64_t id;
    double t0;          /* clock_mono_sec at the request line */
    char *raw_uri;      /* as sent, with the query string (arena) */
    const char *uri_end; /* the end of the URI in libmicrohttpd's buffer (server.c: a raw NUL) */
    char *raw_path;     /* raw_uri without the query string (arena) */
    const char *method; /* copied into the arena */
    enum http_req_kind kind;
    path_segs segs;
    route_match match;
    bool started; /* first access-handler call done */
    bool replied; /* a response was queued */
    bool has_auth;
    bool is_api; /* path is /api or under /api/ */
    bool too_many_params; /* the query string was over MAX_QUERY_PARAMS (server.c) and cut */
    bool too_big;         /* a chunked body went past body_cap: drained, then answered 413 */
    strbuf body; /* REQ_ROUTE only; capped at body_cap */
    size_t body_cap;
    uint64_t body_seen; /* bytes of body received, kept or discarded */
    json_t *json;       /* parsed body, decref'd at the end */
    http_auth auth;
    nx_err err;
    /* REQ_DEFERRED: the problem to answer on the next call. */
    int d_status;
    const char *d_slug, *d_title, *d_detail, *d_field, *d_allow;
    struct http_hdr *hdrs;
    int nhdrs;
    int status;
    uint64_t bytes;
    http_conn *hc;      /* conn.c's account of the connection (NULL if it could not be made) */
    char ip[64];        /* the client as http_client_ip reports it */
    nx_addr peer;       /* the socket peer */
    bool peer_trusted;  /* the peer is a trusted proxy */
    bool via_tls;       /* a trusted proxy said X-Forwarded-Proto: https */
    char logctx[32];
};

/* problem.c: describe e as a problem (status, type slug, Chinese title, detail safe to show). */
void http__problem_of(const nx_err *e, int *status, const char **slug, const char **title,
                      const char **detail);
/* The default slug and Chinese title for a status. */
void http__problem_names(int status, const char **slug, const char **title);

/* problem.c: MHD_queue_response for our own responses (the process-wide definition of
 * MHD_queue_response replaces libmicrohttpd's HTML error answers by problem+json; see problem.c). */
enum MHD_Result http__queue_ours(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp);

/* response.c: queue resp with status, after adding the pending and security headers. Takes resp
 * (destroyed here whatever happens). is_static suppresses the default Cache-Control: no-store.
 * Returns 0 or NX_EINTERNAL (already replied, or MHD refused). */
int http__queue(http_req *r, int status, struct MHD_Response *resp, uint64_t bytes, bool is_static);
/* response.c: a response that sends (and then frees) the malloc'd text[0..len) with that Content-Type.
 * Takes text: on failure (NULL) it is freed already. */
struct MHD_Response *http__response_text(char *text, size_t len, const char *content_type);

/* static.c: answer a GET/HEAD for a file under the web root (always queues something). */
int http__serve_static(http_req *r);
/* The Content-Security-Policy of the web app's files, allowing images from img_origin as well when it
 * is not NULL or "" (scheme://host[:port]: letters, digits, '.', '-', ':', '[', ']' after the scheme).
 * A malloc'ed string, or NULL when img_origin is malformed or memory ran out (*bad says which). */
char *http__csp_new(const char *img_origin, bool *bad);

/* conn.c: libmicrohttpd's accept policy (the per-address cap) and connection notifications (the
 * account of live connections); the connection's account (NULL if none); its headers are complete
 * (the deadline stops) or its request is done (the deadline for the next one starts); the sweeper
 * thread that closes connections past the header deadline (start: 0 or NX_EINTERNAL; stop joins). */
enum MHD_Result http__accept_policy(void *cls, const struct sockaddr *sa, socklen_t len);
void http__conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
http_conn *http__conn_of(struct MHD_Connection *conn);
/* The request now being read on the connection (NULL after it completes), for answers that
 * libmicrohttpd makes itself (problem.c). NULL c accepted. */
void http__conn_begin(http_conn *c, http_req *r);
http_req *http__conn_req(http_conn *c);
/* The id of that request, or a new one when none has begun (0 for NULL c). */
uint64_t http__conn_request_id(http_conn *c);
void http__conn_headers_done(http_conn *c);
void http__conn_request_done(http_conn *c);
int http__conns_start(http_server *s);
void http__conns_stop(http_server *s);
void http__conns_free(http_server *s); /* after the daemon stopped */
/* Around our work on an MHD worker (the access handler): time the worker's connections cannot be
 * read, which their header deadline does not count. */
void http__busy_begin(void);
void http__busy_end(void);

/* sse.c: resume and end every stream (before MHD_stop_daemon); free the hubs (after it). */
void http__sse_shutdown(http_server *srv);
void http__sse_free_all(http_server *srv);

#endif
