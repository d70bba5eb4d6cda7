/* http.h — the HTTP server as modules see it.
 *
 * libmicrohttpd underneath (epoll, a pool of worker threads). A module registers routes with a
 * method, a pattern with {named} path parameters and a handler. A handler runs on a worker thread
 * with the whole request body already read (under its cap) and an arena that dies with the request.
 * It either queues a response with one of the http_reply_* calls and returns 0, or returns a
 * negative NX_E* code after filling http_err(r): the server then answers application/problem+json
 * with the status mapped from the code (the one place that mapping lives: problem.c).
 *
 * Authentication is a hook (secure/session.c provides it): unless a route is HTTP_PUBLIC, the
 * server asks the authenticator who is calling before the handler runs and answers 401 itself. */
#ifndef NX_HTTP_HTTP_H
#define NX_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/jsonin.h"
#include "base/str.h"

typedef struct http_server http_server;
typedef struct http_req http_req;

/* Who is calling, as the authenticator established it. Strings live as long as the request. */
typedef struct http_auth {
    int64_t user_id;
    const char *username;
    const char *display_name;
    int role;            /* secure/perm.h: enum nx_role */
    int scope;           /* secure/perm.h: enum nx_scope */
    int64_t street_id, community_id, grid_id, resident_id;
    int64_t session_id;  /* row id of the session or token */
    bool via_cookie;     /* web session (CSRF-checked) rather than bearer token */
} http_auth;

/* Returns 0 and fills out when the request carries a valid session or token; NX_EAUTH when it
 * carries none or an invalid one; NX_EPERM when a cookie session's CSRF token is missing or wrong
 * on an unsafe method. e gets a Chinese message. */
typedef int (*http_authenticator)(http_req *r, http_auth *out, nx_err *e, void *ctx);

typedef int (*http_handler)(http_req *r, void *ctx);

enum http_route_flags {
    HTTP_PUBLIC = 1 << 0,   /* no authentication */
    HTTP_UPLOAD = 1 << 1,   /* raw body up to max_upload instead of max_body */
};

typedef struct http_options {
    /* "HOST:PORT", "[::1]:PORT", ":PORT" (every IPv4 interface), "localhost:PORT"; a host name is
     * resolved once at start; port 0 picks a free one (see http_server_port). */
    const char *listen;
    int threads;               /* 0 = max(4, 2 × cores) */
    /* Caps in bytes; 0 takes the default: body 1 MiB, upload 20 MiB, header (libmicrohttpd's
     * per-connection memory) 32 KiB, request arena 4 MiB. */
    size_t max_body, max_upload, max_header, request_arena;
    int max_connections;       /* 0 = 1024 */
    /* Connections one address may hold at once (trusted proxies excepted); 0 = 64. */
    int max_per_address;
    /* Seconds a connection may take to send a request's complete headers, counted from its start
     * or the end of its previous response (trusted proxies excepted); 0 = 10. */
    int header_timeout_s;
    const char *web_root;      /* NULL or "" disables static files */
    /* One more origin the web app may load images from, "scheme://host[:port]" (the map tile server,
     * config map_tiles): added to the Content-Security-Policy's img-src. NULL or "" = none. */
    const char *img_origin;
    bool access_log;
    /* Reverse proxies in front (base/netaddr.h list syntax, "127.0.0.1, ::1, 10.0.0.0/8"); NULL or ""
     * = none. A request whose socket peer is one of them reports the client X-Forwarded-For names
     * (http_client_ip), and X-Forwarded-Proto tells whether it came over TLS. */
    const char *trusted_proxies;
} http_options;

/* Create a server (not yet listening) with the built-in public routes GET /healthz, GET /readyz
 * and GET /api/v1/openapi.json. Copies o. NX_EINVAL for a missing listen address, a web_root
 * that does not exist, an img_origin that is not scheme://host[:port] or a malformed trusted_proxies
 * list; NX_ENOMEM. */
int http_server_new(const http_options *o, http_server **out, nx_err *e);
/* Register a route. pattern: "/api/v1/residents/{id}". Must be called before start. A literal
 * segment beats a parameter ("/residents/export" over "/residents/{id}"); GET routes answer HEAD.
 * A malformed pattern or a clash (same method and shape) is logged and makes start fail. */
void http_route(http_server *s, const char *method, const char *pattern, http_handler h, void *ctx,
                unsigned flags);
/* http_route with a constant the handler reads back with http_route_arg: a module's route table
 * (modules/app_http.h) passes its row, so that one handler serves every row of one shape. arg is
 * borrowed and must outlive the server. */
void http_route_with(http_server *s, const char *method, const char *pattern, http_handler h, void *ctx,
                     const void *arg, unsigned flags);
void http_set_authenticator(http_server *s, http_authenticator fn, void *ctx);
/* /readyz calls this; 0 means ready. */
void http_set_ready_check(http_server *s, int (*fn)(void *ctx, nx_err *e), void *ctx);
/* The OpenAPI document served at /api/v1/openapi.json (borrowed, must outlive the server). */
void http_set_openapi(http_server *s, const char *json);
/* Bind and start the worker threads. NX_EINVAL for a bad listen address, NX_EIO when the port
 * cannot be bound, NX_EINTERNAL when a route failed to register. */
int http_server_start(http_server *s, nx_err *e);
int http_server_port(const http_server *s); /* the bound port after start */
/* Stop accepting, finish or drop open requests and join the workers (blocks). Idempotent. */
void http_server_stop(http_server *s);
void http_server_free(http_server *s);      /* NULL accepted; stops first */
/* Call fn for every registered route (for the OpenAPI conformance check). */
void http_routes_each(const http_server *s, void (*fn)(const char *method, const char *pattern,
                                                         unsigned flags, void *ctx), void *ctx);

/* ---- the request ---- */
arena *http_arena(http_req *r);
nx_err *http_err(http_req *r);             /* fill it and return its code from a handler */
const http_auth *http_auth_of(http_req *r); /* NULL on public routes without credentials */
const char *http_method(http_req *r);
const char *http_path(http_req *r);        /* as sent (still percent-encoded), without the query */
uint64_t http_request_id(http_req *r);
/* The client's address as text: the socket peer, or, when the peer is a trusted proxy
 * (http_options.trusted_proxies), the rightmost address of X-Forwarded-For that is not itself a
 * trusted proxy (all trusted: the leftmost). A header missing, empty or malformed where it is read
 * gives the peer. This is the address the login throttle, the audit rows and the access log use. */
const char *http_client_ip(http_req *r);
/* True when the request reached the proxy over TLS: the peer is a trusted proxy and says
 * X-Forwarded-Proto: https. */
bool http_via_tls(http_req *r);
/* The arg its route was registered with by http_route_with (NULL for http_route). */
const void *http_route_arg(http_req *r);
/* Path parameter, percent-decoded, valid UTF-8 without control characters; NULL if absent. */
const char *http_param(http_req *r, const char *name);
/* Path parameter as a positive integer id written in strict decimal (no sign, no leading zero, no
 * space: "+1", "01" and "1e0" are not 1); NX_ENOTFOUND (404) when it is not one. */
int http_param_id(http_req *r, const char *name, int64_t *out);
const char *http_query(http_req *r, const char *name); /* decoded, valid UTF-8; NULL if absent */
const char *http_header(http_req *r, const char *name);
const char *http_cookie(http_req *r, const char *name);
const void *http_body(http_req *r, size_t *len);
/* Parse the body as a JSON object (Content-Type application/json). NX_EINVAL on malformed JSON or
 * a non-object, NX_EUNSUPP on another content type. The result is owned by the request. */
int http_json_body(http_req *r, json_t **out);
/* http_param_id, http_json_body, http_query_limit and http_query_int fill http_err(r) themselves:
 * a handler can return their code as it is. */

/* ---- responses ---- */
/* Queue a JSON response; steals body. */
int http_reply_json(http_req *r, int status, json_t *body);
/* Queue JSON text already written (e.g. with base/jsonw.h) without copying it: takes body's data
 * (the strbuf is left empty, even on failure; the server frees the text when the response is
 * sent). An empty body is answered 500 (a bug). */
int http_reply_json_text(http_req *r, int status, strbuf *body);
/* Queue raw bytes (copied). */
int http_reply_bytes(http_req *r, int status, const char *content_type, const void *data, size_t len);
/* Queue the whole content of an open file (taken: closed by the server), e.g. an export. */
int http_reply_fd(http_req *r, int status, const char *content_type, int fd, uint64_t size);

/* Exports: an empty temporary file (under $TMPDIR, else /tmp) for the exporter to write, cap ≥ 64;
 * 0 or NX_EIO (e filled). Then http_reply_export answers 200 with that file (removed at once; the
 * open descriptor keeps it for the response) as an attachment: Content-Disposition with an ASCII
 * fallback name and the UTF-8 name percent-encoded (RFC 6266/5987), and X-Row-Count when rows >= 0.
 * content_type NULL = .xlsx. */
int http_export_path(char *path, size_t cap, nx_err *e);
int http_reply_export(http_req *r, const char *path, const char *content_type, const char *ascii_name,
                      const char *utf8_name, int64_t rows);
int http_reply_status(http_req *r, int status); /* empty body, e.g. 204 */
/* Add a header to the response about to be queued (copied). */
void http_add_header(http_req *r, const char *name, const char *value);
/* problem+json: type is a short slug ("validation"), title Chinese, field may be NULL. */
int http_reply_problem(http_req *r, int status, const char *type, const char *title,
                       const char *detail, const char *field);
/* problem+json from an nx_err (status from its code; NX_EINVAL naming a field is 422, without a
 * field 400; 5xx answers hide e->msg behind a generic message and log it). */
int http_reply_error(http_req *r, const nx_err *e);
int http_status_of(int nx_code);

/* ---- Server-Sent Events (sse.c) ----
 * A hub holds the last 1024 events, each with an id (increasing), an event name, one line of data
 * and the scope tags of what it is about; a stream (http_reply_sse) sends a caller the events its
 * filter lets through, as they are published, with a comment line every heartbeat_s while quiet.
 * Streams are suspended connections (no worker is held while waiting); the server ends them all
 * before it stops. */
typedef struct http_sse_hub http_sse_hub;
typedef struct http_sse_scope {
    int64_t street_id, community_id, grid_id, resident_id; /* 0 = none */
    int64_t account_id; /* 0 = none; else the event is for that account alone: the hub sends it to no
                         * other account's stream, whatever its filter says */
} http_sse_scope;
/* May the subscriber see an event with this scope? Called under the hub's lock: must be quick. */
typedef bool (*http_sse_filter)(const http_auth *who, const http_sse_scope *scope, void *ctx);
/* Create a hub owned by srv (freed by http_server_free), named for http_sse_hub_find. Before start.
 * 0, NX_ENOMEM or NX_EINTERNAL (thread). */
int http_sse_hub_new(http_server *srv, const char *name, int heartbeat_s, http_sse_filter filter, void *ctx,
                     http_sse_hub **out);
http_sse_hub *http_sse_hub_find(http_server *srv, const char *name);
/* Publish (thread-safe, never blocks on a client). id must grow: an id not above the last one is
 * ignored (a re-delivery). data: one line (no '\n'), at most 8 KiB. 0 or NX_EINVAL / NX_ENOMEM. */
int http_sse_publish(http_sse_hub *h, uint64_t id, const char *event, const char *data, const http_sse_scope *scope);
/* The id of the last event published (0 when none). */
uint64_t http_sse_last_id(http_sse_hub *h);
/* In a handler: answer with an event stream of h starting after event id since (a Last-Event-ID
 * request header overrides it). An account that already holds HTTP_SSE_PER_ACCOUNT streams of h
 * is refused: NX_ELOCKED (429) with Retry-After (one heartbeat, within which dead streams are found). */
#define HTTP_SSE_PER_ACCOUNT 8
int http_reply_sse(http_req *r, http_sse_hub *h, uint64_t since);
/* Does the session of a stream's caller still hold? Called by the stream's reader once every
 * heartbeat with no lock held (it may read the store); false ends the stream. */
typedef bool (*http_sse_check)(const http_auth *who, void *ctx);
/* Set the check (before start; NULL: streams are never re-checked). */
void http_sse_set_check(http_server *srv, http_sse_check fn, void *ctx);
/* End the streams, in every hub of srv, of user user_id or of session session_id (0 = not by that):
 * they end at their next read, which this triggers at once. Thread-safe, never blocks on a client.
 * Returns how many streams were marked. */
int http_sse_revoke(http_server *srv, int64_t user_id, int64_t session_id);

/* Query parameters: paging. limit defaults/caps come from configuration given at start.
 * http_query_limit: absent → def; otherwise an integer in [1, max], else NX_EINVAL field "limit".
 * http_query_int: absent → *present false and 0; otherwise an integer in [min, max], else
 * NX_EINVAL naming the parameter. */
int http_query_limit(http_req *r, int def, int max, int *out);
int http_query_int(http_req *r, const char *name, int64_t min, int64_t max, bool *present, int64_t *out);

#endif
