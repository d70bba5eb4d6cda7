/* server.c — the libmicrohttpd daemon and the life of one request.
 *
 * The daemon runs an epoll thread pool (MHD_USE_EPOLL_INTERNAL_THREAD with a pool of
 * max(4, 2 × cores) workers by default); each connection stays on one worker, so a request is
 * only ever touched by one thread and needs no lock. The life of a request:
 *
 *   1. uri_logger (MHD_OPTION_URI_LOG_CALLBACK) sees the request line, raw and undecoded. It
 *      allocates the http_req (arena, request id from an atomic counter, start time, socket peer)
 *      and keeps the raw URI: libmicrohttpd would otherwise hand us a path already unescaped, in
 *      which "%2F" is a separator and "%00" silently ends the string.
 *   2. The first access-handler call (headers read) takes the client from X-Forwarded-For when
 *      the peer is a trusted proxy (client_behind_proxy), refuses NUL bytes anywhere (400: a raw
 *      one in the path, an encoded one in a query value, one inside a header; libmicrohttpd would
 *      hand on the value cut short), resolves the route, checks the query string,
 *      checks Content-Length against the cap (max_upload for HTTP_UPLOAD routes, max_body
 *      otherwise) and asks the authenticator. An over-cap Content-Length is answered 413 at once,
 *      so the body is never read (libmicrohttpd then closes the connection). Every other early
 *      verdict (400, 404, 405, 401, 403) is only recorded: queueing a response on the first call
 *      makes libmicrohttpd drop keep-alive (DESIGN §11: roughly 5× fewer requests per second).
 *   3. Body calls append to a buffer capped at the route's limit (a chunked body past the cap is
 *      read on and discarded, then answered 413); for an early verdict or a static file the body
 *      is counted and discarded. More than MAX_QUERY_PARAMS query parameters are refused (400)
 *      before libmicrohttpd parses them (uri_logger).
 *   4. The final call (upload_data_size 0) answers: the recorded verdict, a static file, or the
 *      handler with nx_log's context set to "req=<id>". A handler that returns a negative code
 *      without replying gets http_reply_error(http_err(r)); one that returns 0 without replying
 *      is a bug, logged and answered 500.
 *   5. completed (MHD_OPTION_NOTIFY_COMPLETED) writes the access-log line and frees everything;
 *      the request struct and its (reset) arena go to a pool on the server for the next request.
 *
 * Built-in public routes: GET /healthz, GET /readyz, GET /api/v1/openapi.json. Static files for
 * other GET/HEAD paths outside /api/ when a web root is configured (static.c).
 *
 * Caveats: routes, the authenticator, the ready check and the OpenAPI document must be set before
 * http_server_start; they are read without locks afterwards. http_server_stop blocks until every
 * worker has finished its current request. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/internal.h"

#define DEFAULT_MAX_BODY        ((size_t)1 << 20)
#define DEFAULT_MAX_UPLOAD      ((size_t)20 << 20)
/* libmicrohttpd's per-connection memory pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT): the request line,
 * the headers, their parsed list and the response's header block. Version 0.9.75 zeroes the whole pool
 * after every request of a keep-alive connection (MHD_pool_reset) and the unused half of the read
 * buffer when the headers are in (MHD_pool_reallocate), about 1.5 × its size per request whatever the
 * request's size; no option turns that off. 64 KiB made that a third of the instructions of a
 * resident read (docs/performance.md). 16 KiB serves one header line of up to about 15 900 bytes, a
 * Cookie of about 7 900 (libmicrohttpd keeps a copy of it to parse the cookies): about nginx's default
 * limit of 8 KiB per header line. A body passes through its read buffer in chunks, so uploads and
 * imports do not depend on its size (api.test_uploads, api.test_core). */
#define DEFAULT_MAX_HEADER      ((size_t)16 << 10)
#define DEFAULT_REQUEST_ARENA   ((size_t)4 << 20)
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_MAX_PER_ADDRESS 64
#define DEFAULT_HEADER_TIMEOUT_S 10
/* No route reads more than a dozen query parameters; a thousand would exhaust libmicrohttpd's
 * connection memory (max_header) while it parses them, and it then answers nothing at all. */
#define MAX_QUERY_PARAMS 100
#define DRAIN_MAX ((uint64_t)32 << 20) /* bytes of an over-cap chunked body read to answer 413 */
#define CONNECTION_TIMEOUT_S    30u

/* ---- built-in routes ---- */

static int on_healthz(http_req *r, void *ctx)
{
    (void)ctx;
    return http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static int on_readyz(http_req *r, void *ctx)
{
    (void)ctx;
    http_server *s = r->srv;
    if (s->ready_fn) {
        nx_err e;
        nx_err_clear(&e);
        int rc = s->ready_fn(s->ready_ctx, &e);
        if (rc != 0) {
            nx_log(LOG_WARN, "http.not_ready code=%s msg=%s", nx_code_name(rc), e.msg);
            return http_reply_problem(r, 503, "unavailable", "服务暂不可用",
                                      e.msg[0] ? e.msg : "服务尚未就绪，请稍后重试", NULL);
        }
    }
    return http_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
}

static int on_openapi(http_req *r, void *ctx)
{
    (void)ctx;
    const char *doc = r->srv->openapi;
    if (doc == NULL)
        return nx_fail(&r->err, NX_ENOTFOUND, NULL, "未提供 OpenAPI 文档");
    size_t len = strlen(doc);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)doc, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return NX_ENOMEM;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return http__queue(r, 200, resp, len, false);
}

/* ---- setup ---- */

int http_server_new(const http_options *o, http_server **out, nx_err *e)
{
    *out = NULL;
    if (o == NULL || o->listen == NULL || o->listen[0] == '\0')
        return nx_fail(e, NX_EINVAL, "listen", "未配置 HTTP 监听地址");
    if (o->threads < 0 || o->max_connections < 0 || o->max_per_address < 0 || o->header_timeout_s < 0)
        return nx_fail(e, NX_EINVAL, "threads", "HTTP 线程数和连接数不能为负数");
    http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    s->opt = *o;
    if (s->opt.max_body == 0)
        s->opt.max_body = DEFAULT_MAX_BODY;
    if (s->opt.max_upload == 0)
        s->opt.max_upload = DEFAULT_MAX_UPLOAD;
    if (s->opt.max_header == 0)
        s->opt.max_header = DEFAULT_MAX_HEADER;
    if (s->opt.request_arena == 0)
        s->opt.request_arena = DEFAULT_REQUEST_ARENA;
    if (s->opt.max_connections == 0)
        s->opt.max_connections = DEFAULT_MAX_CONNECTIONS;
    if (s->opt.max_per_address == 0)
        s->opt.max_per_address = DEFAULT_MAX_PER_ADDRESS;
    if (s->opt.header_timeout_s == 0)
        s->opt.header_timeout_s = DEFAULT_HEADER_TIMEOUT_S;
    atomic_init(&s->next_id, 1);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->conns_lock, NULL);
    worker_init(&s->sweep);
    s->listen = strdup(o->listen);
    s->router = router_new();
    int rc = 0;
    if (s->listen == NULL || s->router == NULL) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto fail;
    }
    s->opt.listen = s->listen;
    if (o->web_root && o->web_root[0]) {
        s->web_root = realpath(o->web_root, NULL);
        if (s->web_root == NULL) {
            rc = nx_fail(e, NX_EINVAL, "web_root", "静态文件目录不存在：%s", o->web_root);
            goto fail;
        }
    }
    s->opt.web_root = s->web_root;
    bool bad_origin;
    if ((s->csp = http__csp_new(o->img_origin, &bad_origin)) == NULL) {
        rc = bad_origin ? nx_fail(e, NX_EINVAL, "img_origin", "图片来源无效：%s", o->img_origin)
                        : nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto fail;
    }
    s->opt.img_origin = NULL;
    nx_err pe;
    if (cidr_list_parse(o->trusted_proxies, &s->proxies, &pe) != 0) {
        rc = nx_fail(e, NX_EINVAL, "trusted_proxies", "trusted_proxies 无效：%s", pe.msg);
        goto fail;
    }
    s->opt.trusted_proxies = NULL;
    http_route(s, "GET", "/healthz", on_healthz, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/readyz", on_readyz, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/api/v1/openapi.json", on_openapi, NULL, HTTP_PUBLIC);
    if (s->bad_routes) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    http_server_free(s);
    return rc;
}

void http_route(http_server *s, const char *method, const char *pattern, http_handler h, void *ctx,
                unsigned flags)
{
    http_route_with(s, method, pattern, h, ctx, NULL, flags);
}

void http_route_with(http_server *s, const char *method, const char *pattern, http_handler h, void *ctx,
                     const void *arg, unsigned flags)
{
    if (s->daemon) {
        nx_log(LOG_ERROR, "http.route_after_start method=%s pattern=%s (a bug: ignored)", method, pattern);
        return;
    }
    int rc = router_add_with(s->router, method, pattern, h, ctx, arg, flags);
    if (rc != 0) {
        nx_log(LOG_ERROR, "http.bad_route method=%s pattern=%s error=%s (a bug: start will fail)",
               method ? method : "(null)", pattern ? pattern : "(null)", nx_code_name(rc));
        s->bad_routes = true;
    }
}

void http_set_authenticator(http_server *s, http_authenticator fn, void *ctx)
{
    s->auth_fn = fn;
    s->auth_ctx = ctx;
}

void http_set_ready_check(http_server *s, int (*fn)(void *ctx, nx_err *e), void *ctx)
{
    s->ready_fn = fn;
    s->ready_ctx = ctx;
}

void http_set_openapi(http_server *s, const char *json)
{
    s->openapi = json;
}

struct each_ctx {
    void (*fn)(const char *method, const char *pattern, unsigned flags, void *ctx);
    void *ctx;
};

static void each_adapter(const route *r, void *ctx)
{
    struct each_ctx *c = ctx;
    c->fn(r->method, r->pattern, r->flags, c->ctx);
}

void http_routes_each(const http_server *s,
                      void (*fn)(const char *method, const char *pattern, unsigned flags, void *ctx),
                      void *ctx)
{
    struct each_ctx c = {fn, ctx};
    router_each(s->router, each_adapter, &c);
}

/* ---- one request ---- */

/* Finished requests go back to a small pool on the server, arena and all (the arena is reset to
 * its first block), so that a keep-alive stream of requests does not calloc a request and malloc
 * an arena for each one. */
#define REQ_POOL_MAX 64

static void req_destroy(http_req *r)
{
    arena_free(r->arena);
    free(r);
}

static void req_free(http_req *r)
{
    if (r == NULL)
        return;
    json_decref(r->json);
    r->json = NULL;
    strbuf_cleanup(&r->body);
    http_server *s = r->srv;
    if (r->arena) {
        arena_reset(r->arena);
        pthread_mutex_lock(&s->pool_lock);
        if (s->npool < REQ_POOL_MAX) {
            r->pool_next = s->pool;
            s->pool = r;
            s->npool++;
            r = NULL;
        }
        pthread_mutex_unlock(&s->pool_lock);
    }
    if (r)
        req_destroy(r);
}

/* A zeroed request with an empty arena: from the pool, else new. NULL when out of memory. */
static http_req *req_alloc(http_server *s)
{
    pthread_mutex_lock(&s->pool_lock);
    http_req *r = s->pool;
    if (r) {
        s->pool = r->pool_next;
        s->npool--;
    }
    pthread_mutex_unlock(&s->pool_lock);
    if (r) {
        arena *a = r->arena;
        memset(r, 0, sizeof *r);
        r->arena = a;
        return r;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->arena = arena_new(s->opt.request_arena);
    if (r->arena == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

static void pool_free(http_server *s)
{
    while (s->pool) {
        http_req *r = s->pool;
        s->pool = r->pool_next;
        req_destroy(r);
    }
    s->npool = 0;
}

/* The socket peer of conn into r->peer and r->ip ("-" when libmicrohttpd does not say). */
static void peer_of(http_req *r)
{
    str_copy(r->ip, "-", sizeof r->ip);
    memset(&r->peer, 0, sizeof r->peer);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL || netaddr_from_sockaddr(ci->client_addr, &r->peer) != 0)
        return;
    netaddr_format(&r->peer, r->ip, sizeof r->ip);
    r->peer_trusted = cidr_list_has(&r->srv->proxies, &r->peer);
}

/* X-Forwarded-For may come as several header lines, which together are one list in order. */
#define XFF_MAX_LINES 8
struct xff_lines {
    const char *v[XFF_MAX_LINES];
    int n;
    bool too_many;
};

static enum MHD_Result xff_collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct xff_lines *l = cls;
    if (key == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    if (l->n == XFF_MAX_LINES) {
        l->too_many = true;
        return MHD_NO;
    }
    l->v[l->n++] = value ? value : "";
    return MHD_YES;
}

/* Walk the X-Forwarded-For entries from the right (the entry the nearest proxy added) to the left:
 * the first one that is not a trusted proxy is the client; when every one is trusted, the leftmost.
 * Entries left of the client were written by whoever sent the request and are never looked at. An
 * entry that is not a bare address (empty, a name, "unknown", with a port), an absent header or too
 * many header lines: false, and the caller keeps the peer. */
static bool xff_client(http_req *r, nx_addr *out)
{
    struct xff_lines l = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, xff_collect, &l);
    if (l.n == 0 || l.too_many)
        return false;
    bool found = false;
    for (int i = l.n - 1; i >= 0; i--) {
        const char *v = l.v[i];
        size_t end = strlen(v);
        for (;;) {
            size_t start = end;
            while (start > 0 && v[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (v[a] == ' ' || v[a] == '\t'))
                a++;
            while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
                b--;
            char one[NX_ADDR_TEXT];
            nx_addr addr;
            if (b == a || b - a >= sizeof one)
                return false;
            memcpy(one, v + a, b - a);
            one[b - a] = '\0';
            if (netaddr_parse(one, &addr) != 0)
                return false;
            *out = addr;
            found = true;
            if (!cidr_list_has(&r->srv->proxies, &addr))
                return true;
            if (start == 0)
                break;
            end = start - 1;
        }
    }
    return found;
}

/* With the headers read: the client behind a trusted proxy, and whether it came over TLS. */
static void client_behind_proxy(http_req *r)
{
    if (!r->peer_trusted)
        return;
    nx_addr client;
    if (xff_client(r, &client))
        netaddr_format(&client, r->ip, sizeof r->ip);
    const char *proto = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
    r->via_tls = proto && strcasecmp(proto, "https") == 0;
}

static void *uri_logger(void *cls, const char *uri_const, struct MHD_Connection *conn)
{
    http_server *s = cls;
    http_req *r = req_alloc(s);
    if (r == NULL)
        return NULL;
    r->srv = s;
    r->conn = conn;
    r->t0 = clock_mono_sec();
    r->id = atomic_fetch_add(&s->next_id, 1);
    char *uri = (char *)(uintptr_t)uri_const; /* libmicrohttpd's own read buffer, see below */
    r->raw_uri = arena_strdup(r->arena, uri ? uri : "/");
    strbuf_init(&r->body, s->opt.max_body);
    r->method = "-";
    if (r->raw_uri == NULL) {
        req_free(r);
        return NULL;
    }
    peer_of(r);
    r->hc = http__conn_of(conn);
    http__conn_begin(r->hc, r);
    /* libmicrohttpd parses the query string into its connection memory right after this callback
     * returns, from this very buffer. Over the cap, end the query string here (the raw_uri copy
     * keeps it): nothing is parsed, and the first call answers 400. */
    r->uri_end = uri ? uri + strlen(uri) : NULL; /* before the query string is cut below */
    char *query = uri ? strchr(uri, '?') : NULL;
    if (query) {
        size_t n = 1;
        for (const char *p = query + 1; *p; p++)
            n += *p == '&';
        if (n > MAX_QUERY_PARAMS) {
            r->too_many_params = true;
            query[1] = '\0';
        }
    }
    snprintf(r->logctx, sizeof r->logctx, "req=%llu", (unsigned long long)r->id);
    return r;
}

static void defer(http_req *r, int status, const char *detail, const char *field)
{
    r->kind = REQ_DEFERRED;
    r->d_status = status;
    http__problem_names(status, &r->d_slug, &r->d_title);
    r->d_detail = detail;
    r->d_field = field;
}

static void defer_err(http_req *r, const nx_err *e)
{
    const char *detail;
    r->kind = REQ_DEFERRED;
    http__problem_of(e, &r->d_status, &r->d_slug, &r->d_title, &detail);
    r->d_detail = arena_strdup(r->arena, detail);
    r->d_field = e->field[0] ? arena_strdup(r->arena, e->field) : NULL;
}

/* What first_call found wrong with the values libmicrohttpd parsed, if anything. */
struct values_check {
    bool nul;       /* a header, cookie or query value or name holds a NUL (libmicrohttpd's C strings
                       would end there: "Bearer <token>\0junk" would read as the token) */
    bool bad_utf8;  /* a query parameter is not valid UTF-8 */
};

/* True when the bytes [a, b) are only what libmicrohttpd leaves between a header's value and the
 * next header's name: its NUL terminators, CR, LF and blanks. */
static bool only_line_end(const char *a, const char *b)
{
    for (; a < b; a++)
        if (*a != '\0' && *a != '\r' && *a != '\n' && *a != ' ' && *a != '\t')
            return false;
    return true;
}

/* A NUL byte inside a header value: libmicrohttpd 0.9.75 ends the value there and reports its
 * length as the string's, so the rest of the line ("\0junk") is only visible in its read buffer,
 * between this value's end and the next header's name (for the last header: right after the end).
 * The headers are visited in the order they were sent, each name and value pointing into that
 * buffer; where the layout is not as expected (a gap over 8 bytes, names out of order) nothing is
 * concluded. */
struct header_gaps {
    const char *prev_end; /* the NUL ending the previous header's value */
    bool nul;
};

static enum MHD_Result header_gap(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                  const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    struct header_gaps *g = cls;
    if (key == NULL || value == NULL)
        return MHD_YES;
    if (g->prev_end && key > g->prev_end && key - g->prev_end <= 8 && !only_line_end(g->prev_end + 1, key)) {
        g->nul = true;
        return MHD_NO;
    }
    g->prev_end = value + value_size;
    return MHD_YES;
}

static enum MHD_Result value_ok(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                const char *value, size_t value_size)
{
    struct values_check *v = cls;
    if ((key && strlen(key) != key_size) || (value && strlen(value) != value_size)) {
        v->nul = true;
        return MHD_NO;
    }
    if (kind == MHD_GET_ARGUMENT_KIND &&
        ((key && !str_utf8_valid(key, key_size)) || (value && !str_utf8_valid(value, value_size)))) {
        v->bad_utf8 = true;
        return MHD_NO;
    }
    return MHD_YES;
}

static void run_authenticator(http_req *r)
{
    http_server *s = r->srv;
    nx_err e;
    nx_err_clear(&e);
    int rc;
    if (s->auth_fn == NULL) {
        rc = nx_fail(&e, NX_EAUTH, NULL, "未登录或登录已过期");
    } else {
        rc = s->auth_fn(r, &r->auth, &e, s->auth_ctx);
    }
    if (rc == 0) {
        r->has_auth = true;
        return;
    }
    if (e.code == NX_OK)
        nx_fail(&e, rc < 0 ? rc : NX_EAUTH, NULL, "%s", rc == NX_EPERM ? "无权访问" : "未登录或登录已过期");
    memset(&r->auth, 0, sizeof r->auth);
    defer_err(r, &e);
}

/* The first access-handler call: decide what this request is. Returns MHD_NO only when a response
 * queued early failed. */
static enum MHD_Result first_call(http_req *r, const char *method, const char *version)
{
    http_server *s = r->srv;
    r->method = arena_strdup(r->arena, method);
    r->raw_path = arena_strndup(r->arena, r->raw_uri, strcspn(r->raw_uri, "?#"));
    if (r->method == NULL || r->raw_path == NULL)
        return MHD_NO;
    http__conn_headers_done(r->hc);
    client_behind_proxy(r);
    r->is_api = strcmp(r->raw_path, "/api") == 0 || str_starts_with(r->raw_path, "/api/");
    r->body_cap = s->opt.max_body;

    struct values_check vc = {0};
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND, value_ok, &vc);
    /* libmicrohttpd ends the path at a NUL byte sent raw in the request line ("GET /x/1\0junk"):
     * the version it parsed then does not follow the path it handed to uri_logger. */
    bool path_nul = r->uri_end && version != r->uri_end + 1;
    struct header_gaps hg = {0};
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, header_gap, &hg);
    if (!hg.nul && hg.prev_end && !only_line_end(hg.prev_end + 1, hg.prev_end + 2))
        hg.nul = true; /* the last header */
    vc.nul = vc.nul || hg.nul;
    int rc = http_path_split(r->raw_path, r->arena, &r->segs);
    if (rc == NX_EINVAL) {
        defer(r, 400, "请求路径无效", NULL);
    } else if (rc == NX_ENOTFOUND) {
        defer(r, 404, "请求的地址不存在", NULL);
    } else if (rc != 0) {
        defer(r, 500, NULL, NULL);
    } else if (path_nul || vc.nul) {
        defer(r, 400, path_nul ? "请求路径含有空字符" : "请求头或查询参数含有空字符", NULL);
    } else if (r->too_many_params) {
        defer(r, 400, arena_printf(r->arena, "查询参数过多（最多 %d 个）", MAX_QUERY_PARAMS), NULL);
    } else if (vc.bad_utf8) {
        defer(r, 400, "查询参数不是有效的 UTF-8", NULL);
    } else {
        switch (router_match(s->router, r->method, &r->segs, &r->match)) {
        case ROUTER_OK:
            r->kind = REQ_ROUTE;
            if (r->match.rt->flags & HTTP_UPLOAD)
                r->body_cap = s->opt.max_upload;
            break;
        case ROUTER_METHOD:
            defer(r, 405, arena_printf(r->arena, "该地址不支持 %s 方法", r->method), NULL);
            r->d_allow = arena_strdup(r->arena, r->match.allow);
            break;
        default:
            if (!r->is_api && s->web_root &&
                (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0))
                r->kind = REQ_STATIC;
            else
                defer(r, 404, "请求的地址不存在", NULL);
            break;
        }
    }

    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t len;
    if (cl && str_to_i64(cl, 0, INT64_MAX, &len) == 0 && (uint64_t)len > r->body_cap) {
        r->kind = REQ_DEFERRED;
        int q = http_reply_problem(r, 413, "too-large", "请求体过大",
                                   arena_printf(r->arena, "请求体不能超过 %zu 字节", r->body_cap), NULL);
        return q == 0 ? MHD_YES : MHD_NO;
    }

    if (r->kind == REQ_ROUTE) {
        r->body.cap = r->body_cap;
        if (!(r->match.rt->flags & HTTP_PUBLIC))
            run_authenticator(r);
    }
    return MHD_YES;
}

static void run_handler(http_req *r)
{
    const route *rt = r->match.rt;
    nx_err_clear(&r->err);
    int rc = rt->handler(r, rt->ctx);
    if (!r->replied) {
        if (rc < 0) {
            if (r->err.code == NX_OK) {
                const char *slug, *title;
                http__problem_names(http_status_of(rc), &slug, &title);
                nx_fail(&r->err, rc, NULL, "%s", title);
            }
            http_reply_error(r, &r->err);
        } else {
            nx_log(LOG_ERROR, "http.no_reply method=%s pattern=%s rc=%d (a bug: the handler queued nothing)",
                   rt->method, rt->pattern, rc);
            nx_err e;
            nx_fail(&e, NX_EINTERNAL, NULL, "处理程序没有返回响应");
            http_reply_error(r, &e);
        }
    }
}

static void final_call(http_req *r)
{
    if (r->too_big) {
        http_reply_problem(r, 413, "too-large", "请求体过大",
                           arena_printf(r->arena, "请求体不能超过 %zu 字节", r->body_cap), NULL);
        return;
    }
    switch (r->kind) {
    case REQ_DEFERRED:
        if (r->d_allow)
            http_add_header(r, MHD_HTTP_HEADER_ALLOW, r->d_allow);
        http_reply_problem(r, r->d_status, r->d_slug, r->d_title, r->d_detail, r->d_field);
        break;
    case REQ_STATIC: http__serve_static(r); break;
    case REQ_ROUTE: run_handler(r); break;
    }
}

static enum MHD_Result access_call(http_req *r, const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    http_req *r = *con_cls;
    if (r == NULL)
        return MHD_NO; /* allocation failed in uri_logger: drop the connection */
    nx_log_set_ctx(r->logctx);
    http__busy_begin();
    enum MHD_Result res = access_call(r, method, version, upload_data, upload_data_size);
    http__busy_end();
    nx_log_set_ctx(NULL);
    return res;
}

static enum MHD_Result access_call(http_req *r, const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size)
{
    if (!r->started) {
        r->started = true;
        return first_call(r, method, version);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->replied)
            return MHD_YES;
        r->body_seen += n;
        if (r->body_seen > r->body_cap) {
            /* A chunked body (no Content-Length) grew past the cap. libmicrohttpd 0.9.75 refuses
             * to queue a response while a body is being received (MHD_queue_response returns
             * MHD_NO), so the rest is read and thrown away and the final call answers 413 — up to
             * DRAIN_MAX past the cap; a body longer still is not worth reading: drop the connection. */
            if (!r->too_big)
                nx_log(LOG_INFO, "http.body_too_big cap=%zu (chunked body: the rest is discarded)", r->body_cap);
            r->too_big = true;
            strbuf_cleanup(&r->body);
            if (r->body_seen - r->body_cap > DRAIN_MAX) {
                nx_log(LOG_INFO, "http.body_too_big cap=%zu (chunked body over %d MiB more: connection dropped)",
                       r->body_cap, (int)(DRAIN_MAX >> 20));
                return MHD_NO;
            }
            return MHD_YES;
        }
        if (r->kind == REQ_ROUTE && strbuf_append(&r->body, upload_data, n) != 0)
            return MHD_NO;
        return MHD_YES;
    }
    if (!r->replied)
        final_call(r);
    return r->replied ? MHD_YES : MHD_NO;
}

/* Log-safe copy of a raw path: printable ASCII only, at most 200 bytes. */
static void log_path(const char *path, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = path ? path : "-"; *p && k + 1 < cap && k < 200; p++) {
        unsigned char c = (unsigned char)*p;
        out[k++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[k] = '\0';
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    http_req *r = *con_cls;
    *con_cls = NULL;
    if (r == NULL)
        return;
    if (s->opt.access_log) {
        char path[256];
        log_path(r->raw_path ? r->raw_path : r->raw_uri, path, sizeof path);
        if (r->raw_path == NULL)
            path[strcspn(path, "?")] = '\0';
        double ms = (clock_mono_sec() - r->t0) * 1000.0;
        nx_log(LOG_INFO, "http.access req=%llu method=%s path=%s status=%d bytes=%llu ms=%.2f ip=%s%s",
               (unsigned long long)r->id, r->method, path, r->status, (unsigned long long)r->bytes, ms, r->ip,
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    http__conn_request_done(http__conn_of(conn)); /* not r->hc: the account may be gone already */
    req_free(r);
}

/* libmicrohttpd's own complaints, one nx_log line each. */
__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[400];
    vsnprintf(buf, sizeof buf, fmt, ap);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    char *html = strstr(buf, " ('<html>"); /* its error page: the client gets problem+json instead */
    if (html) {
        html[0] = ')';
        html[1] = '\0';
    }
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
    nx_log(LOG_WARN, "http.mhd msg=\"%s\"", buf);
}

/* Parse "HOST:PORT", "[V6]:PORT", ":PORT" or "*:PORT" into ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6, nx_err *e)
{
    char host[256];
    const char *port;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof host)
            return nx_fail(e, NX_EINVAL, "listen", "监听地址无效：%s", listen);
        memcpy(host, listen + 1, (size_t)(end - listen - 1));
        host[end - listen - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (colon == NULL || (size_t)(colon - listen) >= sizeof host)
            return nx_fail(e, NX_EINVAL, "listen", "监听地址无效（应为 主机:端口）：%s", listen);
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    int64_t p;
    if (str_to_i64(port, 0, 65535, &p) != 0)
        return nx_fail(e, NX_EINVAL, "listen", "监听端口无效：%s", listen);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    *v6 = false;
    if (host[0] == '\0' || strcmp(host, "*") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (strcmp(host, "localhost") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        *v6 = true;
    } else {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
            return nx_fail(e, NX_EINVAL, "listen", "无法解析监听地址：%s", listen);
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *v6 = res->ai_family == AF_INET6;
        freeaddrinfo(res);
    }
    if (*v6)
        in6->sin6_port = htons((uint16_t)p);
    else
        in4->sin_port = htons((uint16_t)p);
    return 0;
}

int http_server_start(http_server *s, nx_err *e)
{
    if (s->daemon)
        return 0;
    if (s->bad_routes)
        return nx_fail(e, NX_EINTERNAL, NULL, "有路由注册失败，HTTP 服务未启动");
    struct sockaddr_storage ss;
    bool v6 = false;
    int rc = parse_listen(s->listen, &ss, &v6, e);
    if (rc != 0)
        return rc;
    unsigned threads = (unsigned)s->opt.threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 2 ? (unsigned)(2 * cores) : 4;
    }
    /* suspend/resume: event streams (sse.c) wait suspended instead of holding a worker */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* A pool of one is no pool: libmicrohttpd warns about it, so leave the option out. */
    struct MHD_OptionItem pool[] = {{MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL},
                                    {MHD_OPTION_END, 0, NULL}};
    if (threads <= 1)
        pool[0] = pool[1];
    uint16_t port =
        v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    s->daemon = MHD_start_daemon(
        flags, port, http__accept_policy, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
        MHD_OPTION_NOTIFY_CONNECTION, http__conn_notify, s, MHD_OPTION_ARRAY,
        pool, MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->opt.max_header, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->opt.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, uri_logger, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: it sets SO_REUSEPORT, which lets a second server bind the
     * same port and silently take half the requests. A port in use must be an error. */
    if (s->daemon == NULL)
        return nx_fail(e, NX_EIO, "listen", "无法在 %s 上启动 HTTP 服务（地址无效或端口已被占用）",
                       s->listen);
    if (http__conns_start(s) != 0) {
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
        return nx_fail(e, NX_EINTERNAL, NULL, "无法启动 HTTP 连接巡检线程");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : port;
    nx_log(LOG_INFO, "http.start listen=%s port=%d threads=%u static=%s per_address=%d header_timeout_s=%d",
           s->listen, s->port, threads, s->web_root ? "on" : "off", s->opt.max_per_address,
           s->opt.header_timeout_s);
    return 0;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

void http_server_stop(http_server *s)
{
    if (s == NULL || s->daemon == NULL)
        return;
    http__sse_shutdown(s); /* suspended streams must be resumed before the daemon stops */
    http__conns_stop(s);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    nx_log(LOG_INFO, "http.stop port=%d", s->port);
}

void http_server_free(http_server *s)
{
    if (s == NULL)
        return;
    http_server_stop(s);
    http__sse_free_all(s);
    pool_free(s);
    pthread_mutex_destroy(&s->pool_lock);
    http__conns_free(s);
    pthread_mutex_destroy(&s->conns_lock);
    worker_cleanup(&s->sweep);
    router_free(s->router);
    cidr_list_free(&s->proxies);
    free(s->listen);
    free(s->web_root);
    free(s->csp);
    free(s);
}
