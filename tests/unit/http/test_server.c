/* test_server.c — a real server on 127.0.0.1:0 in this process, driven over raw sockets by a tiny
 * HTTP/1.1 client with bounded reads (5 s receive timeout, 4 MiB cap). Covers: JSON routes, 404 and
 * 405 problem+json with Chinese titles, 401/403 from the authenticator, malformed JSON, unknown
 * and invalid fields, handler errors (409, a missing reply, a hidden 500), body caps (413 before
 * the body is read, uploads, chunked bodies), keep-alive, HEAD, query checks, security headers,
 * static files (ETag/304, gzip variant, SPA fallback, 404, traversal and symlink escapes),
 * /healthz, /readyz and the OpenAPI document. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "http/http.h"
#include "modules/app_http.h"
#include "test.h"

#define MAX_BODY   (64 * 1024)
#define MAX_UPLOAD (1024 * 1024)
#define RESP_CAP   (4 * 1024 * 1024)

/* ---- a tiny HTTP/1.1 client ---- */

typedef struct resp {
    int status;
    char head[8192];
    char *body;
    size_t blen;
    bool closed; /* the server closed the connection after this response */
} resp;

static void resp_cleanup(resp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Header value (copied into out) or NULL. */
static const char *hdr(const resp *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Read one response from fd. head_only: a response to HEAD (no body whatever the headers say).
 * Returns 0, or -1 on timeout, a malformed answer or a connection closed before any answer. */
static int read_resp(int fd, resp *r, bool head_only)
{
    memset(r, 0, sizeof *r);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    char *end = NULL;
    while (end == NULL) {
        if (len == cap) {
            free(buf);
            return -1;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0) {
            free(buf);
            return -1;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t hlen = (size_t)(end - buf) + 2;
    if (hlen >= sizeof r->head) {
        free(buf);
        return -1;
    }
    memcpy(r->head, buf, hlen);
    r->head[hlen] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1) {
        free(buf);
        return -1;
    }
    size_t have = len - (hlen + 2);
    char tmp[64];
    long long want = -1;
    if (hdr(r, "Content-Length", tmp, sizeof tmp))
        want = strtoll(tmp, NULL, 10);
    if (head_only || r->status == 304 || r->status == 204)
        want = 0;
    size_t bcap = want >= 0 ? (size_t)want : RESP_CAP;
    if (bcap > RESP_CAP) {
        free(buf);
        return -1;
    }
    r->body = malloc(bcap + 1);
    size_t take = have < bcap ? have : bcap;
    memcpy(r->body, buf + hlen + 2, take);
    r->blen = take;
    free(buf);
    while (r->blen < bcap) {
        ssize_t n = recv(fd, r->body + r->blen, bcap - r->blen, 0);
        if (n <= 0) {
            r->closed = true;
            if (want >= 0)
                return -1;
            break;
        }
        r->blen += (size_t)n;
    }
    r->body[r->blen] = '\0';
    return 0;
}

static int g_port;

/* One request on a fresh connection. */
static int roundtrip(const char *req, size_t reqlen, resp *r)
{
    int fd = dial(g_port);
    if (fd < 0)
        return -1;
    int rc = send_all(fd, req, reqlen) ? read_resp(fd, r, strncmp(req, "HEAD ", 5) == 0) : -1;
    close(fd);
    return rc;
}

static int get(const char *path, const char *extra_headers, resp *r)
{
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n", path,
                     extra_headers ? extra_headers : "");
    return roundtrip(req, (size_t)n, r);
}

static int post(const char *path, const char *ctype, const char *extra, const char *body, resp *r)
{
    size_t blen = strlen(body);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     path, ctype, blen, extra ? extra : "");
    char *req = malloc((size_t)n + blen);
    memcpy(req, head, (size_t)n);
    memcpy(req + n, body, blen);
    int rc = roundtrip(req, (size_t)n + blen, r);
    free(req);
    return rc;
}

static json_t *body_json(const resp *r)
{
    return json_loadb(r->body ? r->body : "", r->blen, 0, NULL);
}

/* Check a problem+json answer: status, type slug and title; returns the parsed body (decref it). */
static json_t *check_problem(const resp *r, int status, const char *slug, const char *title)
{
    char tmp[256], type[160];
    CHECK_INT(r->status, status);
    CHECK_STR(hdr(r, "Content-Type", tmp, sizeof tmp), "application/problem+json");
    json_t *j = body_json(r);
    CHECK(j != NULL);
    if (j == NULL)
        return json_object();
    snprintf(type, sizeof type, "https://nuanxin.dev/problems/%s", slug);
    CHECK_STR(json_string_value(json_object_get(j, "type")), type);
    CHECK_STR(json_string_value(json_object_get(j, "title")), title);
    CHECK_INT(json_integer_value(json_object_get(j, "status")), status);
    CHECK(json_is_string(json_object_get(j, "detail")));
    CHECK(json_is_string(json_object_get(j, "request_id")));
    return j;
}

/* ---- the server under test ---- */

static atomic_int ready_ok = 1;

static int ready_check(void *ctx, nx_err *e)
{
    (void)ctx;
    return atomic_load(&ready_ok) ? 0 : nx_fail(e, NX_EBUSY, NULL, "数据库不可用");
}

static int auth_stub(http_req *r, http_auth *out, nx_err *e, void *ctx)
{
    (void)ctx;
    const char *a = http_header(r, "Authorization");
    if (a && strcmp(a, "Bearer good") == 0) {
        memset(out, 0, sizeof *out);
        out->user_id = 7;
        out->username = arena_strdup(http_arena(r), "tester");
        return 0;
    }
    if (a && strcmp(a, "Bearer forbidden") == 0)
        return nx_fail(e, NX_EPERM, NULL, "缺少 CSRF 令牌");
    return nx_fail(e, NX_EAUTH, NULL, "请先登录");
}

static int h_ping(http_req *r, void *ctx)
{
    (void)ctx;
    return http_reply_json(r, 200, json_pack("{s:b,s:b}", "pong", 1, "auth", http_auth_of(r) != NULL));
}

static int h_item(http_req *r, void *ctx)
{
    (void)ctx;
    int64_t id;
    int rc = http_param_id(r, "id", &id);
    if (rc != 0)
        return rc;
    const http_auth *a = http_auth_of(r);
    return http_reply_json(r, 200,
                           json_pack("{s:I,s:I,s:s}", "id", (json_int_t)id, "user",
                                     (json_int_t)(a ? a->user_id : -1), "raw", http_param(r, "id")));
}

static int h_create(http_req *r, void *ctx)
{
    (void)ctx;
    static const char *const allowed[] = {"name", "age", NULL};
    json_t *body;
    int rc = http_json_body(r, &body);
    if (rc != 0)
        return rc;
    if ((rc = json_only(body, allowed, http_err(r))) != 0)
        return rc;
    const char *name;
    if ((rc = json_get_str(body, "name", true, 10, &name, http_err(r))) != 0)
        return rc;
    http_add_header(r, "Location", "/api/v1/items/1");
    return http_reply_json(r, 201, json_pack("{s:s}", "name", name));
}

static int h_fail(http_req *r, void *ctx)
{
    (void)ctx;
    return nx_fail(http_err(r), NX_ECONFLICT, NULL, "名称已存在");
}

static int h_bare_code(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return NX_ELOCKED; /* no message filled in */
}

static int h_bug(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0; /* forgot to reply */
}

static int h_oops(http_req *r, void *ctx)
{
    (void)ctx;
    return nx_fail(http_err(r), NX_EDB, NULL, "SQLITE_CORRUPT internal detail");
}

static int h_twice(http_req *r, void *ctx)
{
    (void)ctx;
    http_reply_status(r, 204);
    CHECK_INT(http_reply_status(r, 200), NX_EINTERNAL);
    return 0;
}

static int h_upload(http_req *r, void *ctx)
{
    (void)ctx;
    size_t len;
    const unsigned char *b = http_body(r, &len);
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += b[i];
    return http_reply_json(r, 200, json_pack("{s:I,s:I}", "len", (json_int_t)len, "sum", (json_int_t)sum));
}

static int h_query(http_req *r, void *ctx)
{
    (void)ctx;
    int limit;
    int rc = http_query_limit(r, 20, 100, &limit);
    if (rc != 0)
        return rc;
    bool present;
    int64_t page = 0;
    if ((rc = http_query_int(r, "page", 1, 1000, &present, &page)) != 0)
        return rc;
    const char *q = http_query(r, "q");
    return http_reply_json(r, 200,
                           json_pack("{s:i,s:I,s:b,s:s?}", "limit", limit, "page", (json_int_t)page,
                                     "present", present, "q", q));
}

static char g_root[300], g_dir[256];

static void write_file(const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static void make_web_root(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/nx_http_test.XXXXXX");
    CHECK(mkdtemp(g_dir) != NULL);
    char p[512];
    snprintf(g_root, sizeof g_root, "%s/web", g_dir);
    mkdir(g_root, 0755);
    snprintf(p, sizeof p, "%s/web/assets", g_dir);
    mkdir(p, 0755);
    write_file("secret.txt", "TOP-SECRET\n");
    write_file("web/index.html", "<!doctype html><title>暖心</title>\n");
    write_file("web/style.css", "body{color:red}\n");
    write_file("web/assets/app.js", "console.log('plain')\n");
    write_file("web/assets/app.js.gz", "GZIPPED-BYTES");
    write_file("web/.env", "TOP-SECRET\n");
    snprintf(p, sizeof p, "%s/web/link.txt", g_dir);
    CHECK(symlink("../secret.txt", p) == 0);
}

static void remove_web_root(void)
{
    static const char *const files[] = {"web/.env",          "web/link.txt",  "web/assets/app.js.gz",
                                        "web/assets/app.js", "web/style.css", "web/index.html",
                                        "secret.txt"};
    char p[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/web/assets", g_dir);
    rmdir(p);
    rmdir(g_root);
    rmdir(g_dir);
}

/* ---- the tests ---- */

static void test_json_and_headers(void)
{
    resp r;
    char tmp[256];
    CHECK_INT(get("/api/v1/ping", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(hdr(&r, "Content-Type", tmp, sizeof tmp), "application/json");
    CHECK_STR(r.body, "{\"pong\":true,\"auth\":false}");
    CHECK_STR(hdr(&r, "X-Content-Type-Options", tmp, sizeof tmp), "nosniff");
    CHECK_STR(hdr(&r, "Referrer-Policy", tmp, sizeof tmp), "same-origin");
    CHECK_STR(hdr(&r, "X-Frame-Options", tmp, sizeof tmp), "DENY");
    CHECK_STR(hdr(&r, "Cache-Control", tmp, sizeof tmp), "no-store");
    resp_cleanup(&r);

    /* HEAD on a GET route: headers, no body. */
    const char *head = "HEAD /api/v1/ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    CHECK_INT(roundtrip(head, strlen(head), &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.blen, 0);
    resp_cleanup(&r);
}

static void test_404_405(void)
{
    resp r;
    char tmp[128];
    CHECK_INT(get("/api/v1/nope", NULL, &r), 0);
    json_t *j = check_problem(&r, 404, "not-found", "资源不存在");
    CHECK(json_object_get(j, "field") == NULL);
    json_decref(j);
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/ping", "application/json", NULL, "{}", &r), 0);
    json_decref(check_problem(&r, 405, "method-not-allowed", "不支持的请求方法"));
    CHECK_STR(hdr(&r, "Allow", tmp, sizeof tmp), "GET, HEAD");
    resp_cleanup(&r);

    /* A refused path is a 400, before any route is looked at. */
    CHECK_INT(get("/api/v1/items/%2e%2e", "Authorization: Bearer good\r\n", &r), 0);
    json_decref(check_problem(&r, 400, "bad-request", "请求参数有误"));
    resp_cleanup(&r);
    CHECK_INT(get("/api/v1/items/a%00b", "Authorization: Bearer good\r\n", &r), 0);
    CHECK_INT(r.status, 400);
    resp_cleanup(&r);
}

static void test_auth(void)
{
    resp r;
    CHECK_INT(get("/api/v1/items/5", NULL, &r), 0);
    json_t *j = check_problem(&r, 401, "unauthenticated", "未登录或登录已过期");
    CHECK_STR(json_string_value(json_object_get(j, "detail")), "请先登录");
    json_decref(j);
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/items/5", "Authorization: Bearer forbidden\r\n", &r), 0);
    json_decref(check_problem(&r, 403, "forbidden", "无权访问"));
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/items/5", "Authorization: Bearer good\r\n", &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "{\"id\":5,\"user\":7,\"raw\":\"5\"}");
    resp_cleanup(&r);

    /* Not a positive id: 404 from http_param_id. */
    CHECK_INT(get("/api/v1/items/abc", "Authorization: Bearer good\r\n", &r), 0);
    json_decref(check_problem(&r, 404, "not-found", "资源不存在"));
    resp_cleanup(&r);

    /* Public routes stay public: credentials are not even looked at. */
    CHECK_INT(get("/api/v1/ping", "Authorization: Bearer good\r\n", &r), 0);
    CHECK_STR(r.body, "{\"pong\":true,\"auth\":false}");
    resp_cleanup(&r);
}

static void test_json_body(void)
{
    const char *auth = "Authorization: Bearer good\r\n";
    resp r;
    char tmp[128];
    CHECK_INT(post("/api/v1/items", "application/json; charset=utf-8", auth, "{\"name\":\"张三\"}", &r), 0);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body, "{\"name\":\"张三\"}");
    CHECK_STR(hdr(&r, "Location", tmp, sizeof tmp), "/api/v1/items/1");
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/items", "application/json", auth, "{\"name\": }", &r), 0);
    json_t *j = check_problem(&r, 400, "bad-request", "请求参数有误");
    CHECK_STR(json_string_value(json_object_get(j, "detail")), "JSON 格式错误：第 1 行第 10 列");
    json_decref(j);
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/items", "application/json", auth, "[1,2]", &r), 0);
    j = check_problem(&r, 400, "bad-request", "请求参数有误");
    CHECK_STR(json_string_value(json_object_get(j, "detail")), "请求体应为 JSON 对象");
    json_decref(j);
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/items", "application/json", auth, "{\"name\":\"a\",\"name\":\"b\"}", &r), 0);
    CHECK_INT(r.status, 400);
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/items", "text/plain", auth, "{\"name\":\"a\"}", &r), 0);
    json_decref(check_problem(&r, 415, "unsupported-media-type", "不支持的内容类型"));
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/items", "application/json", auth, "{\"name\":\"a\",\"evil\":1}", &r), 0);
    j = check_problem(&r, 422, "validation", "数据校验未通过");
    CHECK_STR(json_string_value(json_object_get(j, "field")), "evil");
    CHECK_STR(json_string_value(json_object_get(j, "detail")), "不支持的字段：evil");
    json_decref(j);
    resp_cleanup(&r);

    CHECK_INT(post("/api/v1/items", "application/json", auth, "{\"name\":\"一二三四五六七八九十一\"}", &r),
              0);
    j = check_problem(&r, 422, "validation", "数据校验未通过");
    CHECK_STR(json_string_value(json_object_get(j, "field")), "name");
    json_decref(j);
    resp_cleanup(&r);
}

static void test_handler_errors(void)
{
    resp r;
    char tmp[64];
    CHECK_INT(get("/api/v1/fail", NULL, &r), 0);
    json_t *j = check_problem(&r, 409, "conflict", "数据冲突");
    CHECK_STR(json_string_value(json_object_get(j, "detail")), "名称已存在");
    json_decref(j);
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/bare", NULL, &r), 0);
    json_decref(check_problem(&r, 429, "too-many-requests", "请求过于频繁"));
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/bug", NULL, &r), 0);
    json_decref(check_problem(&r, 500, "internal", "服务器内部错误"));
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/oops", NULL, &r), 0);
    json_decref(check_problem(&r, 500, "internal", "服务器内部错误"));
    CHECK(strstr(r.body, "SQLITE") == NULL);
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/twice", NULL, &r), 0);
    CHECK_INT(r.status, 204);
    resp_cleanup(&r);

    atomic_store(&ready_ok, 1);
    CHECK_INT(get("/readyz", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "{\"status\":\"ready\"}");
    resp_cleanup(&r);
    atomic_store(&ready_ok, 0);
    CHECK_INT(get("/readyz", NULL, &r), 0);
    j = check_problem(&r, 503, "unavailable", "服务暂不可用");
    CHECK_STR(json_string_value(json_object_get(j, "detail")), "数据库不可用");
    CHECK_STR(hdr(&r, "Retry-After", tmp, sizeof tmp), "1");
    json_decref(j);
    resp_cleanup(&r);
    atomic_store(&ready_ok, 1);

    CHECK_INT(get("/healthz", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "{\"status\":\"ok\"}");
    resp_cleanup(&r);

    CHECK_INT(get("/api/v1/openapi.json", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(hdr(&r, "Content-Type", tmp, sizeof tmp), "application/json");
    CHECK_STR(r.body, "{\"openapi\":\"3.1.0\"}");
    resp_cleanup(&r);
}

static void test_query(void)
{
    resp r;
    CHECK_INT(get("/api/v1/query", NULL, &r), 0);
    CHECK_STR(r.body, "{\"limit\":20,\"page\":0,\"present\":false,\"q\":null}");
    resp_cleanup(&r);
    CHECK_INT(get("/api/v1/query?limit=5&page=3&q=%E5%BC%A0", NULL, &r), 0);
    CHECK_STR(r.body, "{\"limit\":5,\"page\":3,\"present\":true,\"q\":\"张\"}");
    resp_cleanup(&r);
    CHECK_INT(get("/api/v1/query?limit=500", NULL, &r), 0);
    json_t *j = check_problem(&r, 422, "validation", "数据校验未通过");
    CHECK_STR(json_string_value(json_object_get(j, "field")), "limit");
    json_decref(j);
    resp_cleanup(&r);
    CHECK_INT(get("/api/v1/query?limit=0", NULL, &r), 0);
    CHECK_INT(r.status, 422);
    resp_cleanup(&r);
    CHECK_INT(get("/api/v1/query?page=x", NULL, &r), 0);
    j = check_problem(&r, 422, "validation", "数据校验未通过");
    CHECK_STR(json_string_value(json_object_get(j, "field")), "page");
    json_decref(j);
    resp_cleanup(&r);
    /* A query value that is not UTF-8 never reaches a handler. */
    CHECK_INT(get("/api/v1/query?q=%ff", NULL, &r), 0);
    json_decref(check_problem(&r, 400, "bad-request", "请求参数有误"));
    resp_cleanup(&r);
}

static void test_body_caps(void)
{
    /* 10 MiB announced: 413 arrives before we send a single body byte. */
    int fd = dial(g_port);
    CHECK(fd >= 0);
    const char *h = "POST /api/v1/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\n"
                    "Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n";
    CHECK(send_all(fd, h, strlen(h)));
    resp r;
    CHECK_INT(read_resp(fd, &r, false), 0);
    json_t *j = check_problem(&r, 413, "too-large", "请求体过大");
    json_decref(j);
    resp_cleanup(&r);
    /* The server closes the connection instead of reading 10 MiB: sending it all must fail. */
    size_t chunk = 1 << 20, sent = 0;
    char *junk = calloc(1, chunk);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (sent < (size_t)10 << 20) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 2000) <= 0)
            break;
        ssize_t w = send(fd, junk, chunk, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN)
            continue;
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    CHECK(sent < (size_t)10 << 20);
    free(junk);
    close(fd);

    /* Uploads have their own, larger cap. */
    size_t n = 200 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    CHECK_INT(post("/api/v1/upload", "application/octet-stream", NULL, big, &r), 0);
    CHECK_INT(r.status, 200);
    char expect[96];
    snprintf(expect, sizeof expect, "{\"len\":%zu,\"sum\":%zu}", n, n * 'a');
    CHECK_STR(r.body, expect);
    resp_cleanup(&r);
    /* …the same body on an ordinary route is over max_body. */
    CHECK_INT(post("/api/v1/items", "application/json", "Authorization: Bearer good\r\n", big, &r), 0);
    CHECK_INT(r.status, 413);
    resp_cleanup(&r);
    free(big);

    /* Chunked body without Content-Length, growing past the cap: answered 413 problem+json once it
     * ends, and the server is fine afterwards. */
    fd = dial(g_port);
    h = "POST /api/v1/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(send_all(fd, h, strlen(h)));
    char chunkhead[32];
    size_t csz = 16 * 1024;
    char *cdata = malloc(csz);
    memset(cdata, ' ', csz);
    int len = snprintf(chunkhead, sizeof chunkhead, "%zx\r\n", csz);
    for (int i = 0; i < 8; i++) {
        if (!send_all(fd, chunkhead, (size_t)len) || !send_all(fd, cdata, csz) || !send_all(fd, "\r\n", 2))
            break;
    }
    send_all(fd, "0\r\n\r\n", 5);
    /* answered, not dropped: the rest of the body is read and thrown away */
    CHECK_INT(read_resp(fd, &r, false), 0);
    json_decref(check_problem(&r, 413, "too-large", "请求体过大"));
    resp_cleanup(&r);
    free(cdata);
    close(fd);

    CHECK_INT(get("/healthz", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    resp_cleanup(&r);
}

static void test_keep_alive(void)
{
    int fd = dial(g_port);
    CHECK(fd >= 0);
    const char *req = "GET /api/v1/ping HTTP/1.1\r\nHost: t\r\n\r\n";
    resp r;
    for (int i = 0; i < 3; i++) {
        CHECK(send_all(fd, req, strlen(req)));
        CHECK_INT(read_resp(fd, &r, false), 0);
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "{\"pong\":true,\"auth\":false}");
        CHECK(!r.closed);
        resp_cleanup(&r);
    }
    /* An error answer keeps the connection too, body and all. */
    const char *bad = "POST /api/v1/items HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      "Content-Length: 2\r\n\r\n{}";
    CHECK(send_all(fd, bad, strlen(bad)));
    CHECK_INT(read_resp(fd, &r, false), 0);
    CHECK_INT(r.status, 401);
    resp_cleanup(&r);
    CHECK(send_all(fd, req, strlen(req)));
    CHECK_INT(read_resp(fd, &r, false), 0);
    CHECK_INT(r.status, 200);
    resp_cleanup(&r);
    close(fd);
}

static void test_static(void)
{
    resp r;
    char tmp[256], etag[128];
    CHECK_INT(get("/style.css", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "body{color:red}\n");
    CHECK_STR(hdr(&r, "Content-Type", tmp, sizeof tmp), "text/css; charset=utf-8");
    CHECK_STR(hdr(&r, "Cache-Control", tmp, sizeof tmp), "no-cache");
    CHECK_STR(hdr(&r, "X-Content-Type-Options", tmp, sizeof tmp), "nosniff");
    CHECK_STR(hdr(&r, "Referrer-Policy", tmp, sizeof tmp), "same-origin");
    CHECK(hdr(&r, "Content-Security-Policy", tmp, sizeof tmp) != NULL && strstr(tmp, "script-src 'self';") &&
          strstr(tmp, "frame-ancestors 'none'") && !strstr(tmp, "unsafe-eval"));
    CHECK(hdr(&r, "Strict-Transport-Security", tmp, sizeof tmp) == NULL); /* not over TLS */
    CHECK(hdr(&r, "ETag", etag, sizeof etag) != NULL);
    /* W/"<size>-<mtime ns hex>" */
    CHECK(strncmp(etag, "W/\"16-", 6) == 0);
    resp_cleanup(&r);

    char inm[200];
    snprintf(inm, sizeof inm, "If-None-Match: \"x\", %s\r\n", etag);
    CHECK_INT(get("/style.css", inm, &r), 0);
    CHECK_INT(r.status, 304);
    CHECK_INT(r.blen, 0);
    CHECK_STR(hdr(&r, "ETag", tmp, sizeof tmp), etag);
    resp_cleanup(&r);
    CHECK_INT(get("/style.css", "If-None-Match: W/\"1-0\"\r\n", &r), 0);
    CHECK_INT(r.status, 200);
    resp_cleanup(&r);

    CHECK_INT(get("/assets/app.js", "Accept-Encoding: br, gzip;q=0.8\r\n", &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "GZIPPED-BYTES");
    CHECK_STR(hdr(&r, "Content-Encoding", tmp, sizeof tmp), "gzip");
    CHECK_STR(hdr(&r, "Vary", tmp, sizeof tmp), "Accept-Encoding");
    CHECK_STR(hdr(&r, "Content-Type", tmp, sizeof tmp), "text/javascript; charset=utf-8");
    CHECK_STR(hdr(&r, "Cache-Control", tmp, sizeof tmp), "public, max-age=31536000, immutable");
    resp_cleanup(&r);
    CHECK_INT(get("/assets/app.js", "Accept-Encoding: gzip;q=0\r\n", &r), 0);
    CHECK_STR(r.body, "console.log('plain')\n");
    CHECK(hdr(&r, "Content-Encoding", tmp, sizeof tmp) == NULL);
    resp_cleanup(&r);
    CHECK_INT(get("/assets/app.js", NULL, &r), 0);
    CHECK_STR(r.body, "console.log('plain')\n");
    resp_cleanup(&r);

    /* The single-page app: "/" and any extension-less path give index.html. */
    const char *index = "<!doctype html><title>暖心</title>\n";
    CHECK_INT(get("/", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, index);
    CHECK_STR(hdr(&r, "Content-Type", tmp, sizeof tmp), "text/html; charset=utf-8");
    resp_cleanup(&r);
    CHECK_INT(get("/residents/12", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, index);
    CHECK_STR(hdr(&r, "Cache-Control", tmp, sizeof tmp), "no-cache");
    resp_cleanup(&r);
    CHECK_INT(get("/missing.js", NULL, &r), 0);
    CHECK_INT(r.status, 404);
    CHECK_STR(hdr(&r, "Content-Type", tmp, sizeof tmp), "text/plain; charset=utf-8");
    resp_cleanup(&r);

    /* Escapes: raw and encoded dot-dot, an encoded slash, a symlink pointing outside, dot-files. */
    static const char *const evil[] = {"/../secret.txt",
                                       "/%2e%2e/secret.txt",
                                       "/assets/..%2F..%2Fsecret.txt",
                                       "/assets%2F..%2F..%2Fsecret.txt",
                                       "/link.txt",
                                       "/..%5csecret.txt",
                                       "/.env",
                                       "/%2eenv"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        CHECK_INT(get(evil[i], NULL, &r), 0);
        CHECK(r.status == 400 || r.status == 404);
        CHECK(r.body == NULL || strstr(r.body, "TOP-SECRET") == NULL);
        resp_cleanup(&r);
    }

    /* Unknown /api/ paths never fall back to the app. */
    CHECK_INT(get("/api/v1/residents", NULL, &r), 0);
    CHECK_INT(r.status, 404);
    CHECK(strstr(r.body, "doctype") == NULL);
    resp_cleanup(&r);
}

/* A second server: no web root, no OpenAPI document, IPv6 loopback when available. */
static void test_bare_server(void)
{
    http_options o = {.listen = "[::1]:0", .threads = 1};
    http_server *s = NULL;
    nx_err e;
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    if (http_server_start(s, &e) != 0) {
        http_server_free(s); /* no IPv6 in this sandbox: fall back to IPv4 */
        o.listen = "localhost:0";
        CHECK_INT(http_server_new(&o, &s, &e), 0);
        CHECK_INT(http_server_start(s, &e), 0);
    }
    int port = http_server_port(s);
    CHECK(port > 0 && port != g_port);
    http_server_free(s);

    o.listen = "127.0.0.1:0";
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    CHECK_INT(http_server_start(s, &e), 0);
    int saved = g_port;
    g_port = http_server_port(s);
    resp r;
    CHECK_INT(get("/api/v1/openapi.json", NULL, &r), 0);
    json_decref(check_problem(&r, 404, "not-found", "资源不存在"));
    resp_cleanup(&r);
    CHECK_INT(get("/index.html", NULL, &r), 0);
    CHECK_INT(r.status, 404);
    resp_cleanup(&r);
    g_port = saved;
    http_server_stop(s);
    http_server_stop(s);
    http_server_free(s);
    http_server_free(NULL);

    /* Bad options and bad routes. */
    o.listen = "nonsense";
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    CHECK_INT(http_server_start(s, &e), NX_EINVAL);
    CHECK_STR(e.field, "listen");
    http_server_free(s);
    o.listen = "127.0.0.1:0";
    o.web_root = "/nonexistent/web/root";
    CHECK_INT(http_server_new(&o, &s, &e), NX_EINVAL);
    CHECK(s == NULL);
    o.web_root = NULL;
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    http_route(s, "GET", "/healthz", h_ping, NULL, HTTP_PUBLIC); /* clashes with the built-in */
    CHECK_INT(http_server_start(s, &e), NX_EINTERNAL);
    http_server_free(s);
}

/* The answers libmicrohttpd makes itself are problem+json too, and too many query parameters are a
 * prompt 400 (they used to exhaust the connection memory and get no answer at all). */
static void test_library_errors(void)
{
    resp r;
    char line[40000];
    static const struct {
        const char *req;
        int status;
        const char *slug, *title;
    } cases[] = {
        {"GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", 505, "http-version", "不支持的 HTTP 版本"},
        {"POST /api/v1/items HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
         "bad-request", "请求参数有误"},
        {"POST /api/v1/items HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n",
         413, "too-large", "请求体过大"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(roundtrip(cases[i].req, strlen(cases[i].req), &r), 0);
        json_decref(check_problem(&r, cases[i].status, cases[i].slug, cases[i].title));
        resp_cleanup(&r);
    }
    /* a request line longer than the connection memory (16 KiB here): 414 */
    int n = snprintf(line, sizeof line, "GET /");
    memset(line + n, 'a', 20000);
    n += 20000;
    n += snprintf(line + n, sizeof line - (size_t)n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK_INT(roundtrip(line, (size_t)n, &r), 0);
    json_decref(check_problem(&r, 414, "uri-too-long", "请求地址过长"));
    resp_cleanup(&r);
    /* headers larger than the connection memory: 431 */
    n = snprintf(line, sizeof line, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 2000 && (size_t)n + 40 < sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "X-H%d: v\r\n", i);
    n += snprintf(line + n, sizeof line - (size_t)n, "\r\n");
    CHECK_INT(roundtrip(line, (size_t)n, &r), 0);
    json_decref(check_problem(&r, 431, "headers-too-large", "请求头过大"));
    resp_cleanup(&r);
    /* 1 000 query parameters: 400 at once (the cap is 100); 100 are fine */
    n = snprintf(line, sizeof line, "GET /api/v1/query?");
    for (int i = 0; i < 1000; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%sp%d=v", i ? "&" : "", i);
    n += snprintf(line + n, sizeof line - (size_t)n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK_INT(roundtrip(line, (size_t)n, &r), 0);
    json_decref(check_problem(&r, 400, "bad-request", "请求参数有误"));
    resp_cleanup(&r);
    n = snprintf(line, sizeof line, "GET /api/v1/query?q=x");
    for (int i = 1; i < 100; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "&p%d=v", i);
    n += snprintf(line + n, sizeof line - (size_t)n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK_INT(roundtrip(line, (size_t)n, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK(r.body && strstr(r.body, "\"q\":\"x\"") != NULL);
    resp_cleanup(&r);
}

/* NUL bytes are refused wherever they come, never a truncated value; path ids are strict decimal. */
static void test_nul_and_ids(void)
{
    resp r;
    static const char *const not_five[] = {"/api/v1/items/+5", "/api/v1/items/-5", "/api/v1/items/05",
                                           "/api/v1/items/5e0", "/api/v1/items/%205", "/api/v1/items/5%20",
                                           "/api/v1/items/0x5", "/api/v1/items/99999999999999999999"};
    for (size_t i = 0; i < sizeof not_five / sizeof not_five[0]; i++) {
        CHECK_INT(get(not_five[i], "Authorization: Bearer good\r\n", &r), 0);
        CHECK_INT(r.status, 404);
        resp_cleanup(&r);
    }
    static const struct {
        const char *req;
        size_t len;
    } nul[] = {
#define REQ(s) {s, sizeof s - 1}
        REQ("GET /api/v1/items/5\0junk HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\n\r\n"),
        REQ("GET /api/v1/items/5 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\0junk\r\nX-A: 1\r\n\r\n"),
        REQ("GET /api/v1/items/5 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\0junk\r\n\r\n"),
        REQ("GET /api/v1/items/5 HTTP/1.1\nHost: t\nAuthorization: Bearer good\0junk\n\n"),
        REQ("GET /api/v1/query?q=%E7%8E%8B%00zzz HTTP/1.1\r\nHost: t\r\n\r\n"),
        REQ("GET /api/v1/query?q%00x=1 HTTP/1.1\r\nHost: t\r\n\r\n"),
#undef REQ
    };
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        CHECK_INT(roundtrip(nul[i].req, nul[i].len, &r), 0);
        json_decref(check_problem(&r, 400, "bad-request", "请求参数有误"));
        resp_cleanup(&r);
    }
    /* the same requests without the NUL are fine, trailing blanks and bare LFs included */
    const char *ok = "GET /api/v1/items/5 HTTP/1.1\nHost: t\nX-C: 1 \t\nAuthorization: Bearer good\nX-A:\r\nX-B: 1\n\n";
    CHECK_INT(roundtrip(ok, strlen(ok), &r), 0);
    CHECK_INT(r.status, 200);
    resp_cleanup(&r);
    CHECK_INT(get("/api/v1/query?q=%E7%8E%8Bzzz", NULL, &r), 0);
    CHECK_INT(r.status, 200);
    resp_cleanup(&r);
}

static int h_whoami(http_req *r, void *ctx)
{
    (void)ctx;
    return http_reply_json(r, 200, json_pack("{s:s,s:b}", "ip", http_client_ip(r), "tls", http_via_tls(r)));
}

/* The client address of one GET /whoami with extra headers, into ip; tls as the server saw it. */
static void whoami(const char *extra, char *ip, size_t cap, bool *tls)
{
    resp r;
    ip[0] = '\0';
    *tls = false;
    CHECK_INT(get("/whoami", extra, &r), 0);
    CHECK_INT(r.status, 200);
    json_t *j = body_json(&r);
    if (j) {
        str_copy(ip, json_string_value(json_object_get(j, "ip")) ? json_string_value(json_object_get(j, "ip")) : "",
                 cap);
        *tls = json_is_true(json_object_get(j, "tls"));
    }
    json_decref(j);
    resp_cleanup(&r);
}

/* trusted_proxies: X-Forwarded-For and X-Forwarded-Proto count only from a trusted peer, and then
 * the client is the rightmost entry that is not itself a trusted proxy. */
static void test_trusted_proxies(void)
{
    http_options o = {.listen = "127.0.0.1:0", .threads = 1, .trusted_proxies = "127.0.0.1, 10.0.0.0/8"};
    http_server *s = NULL;
    nx_err e;
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    http_route(s, "GET", "/whoami", h_whoami, NULL, HTTP_PUBLIC);
    CHECK_INT(http_server_start(s, &e), 0);
    int saved = g_port;
    g_port = http_server_port(s);
    char ip[64];
    bool tls;
    whoami(NULL, ip, sizeof ip, &tls);
    CHECK_STR(ip, "127.0.0.1");
    CHECK(!tls);
    whoami("X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n", ip, sizeof ip, &tls);
    CHECK_STR(ip, "203.0.113.9");
    CHECK(tls);
    resp hr;
    char tmp[128];
    CHECK_INT(get("/whoami", "X-Forwarded-Proto: https\r\n", &hr), 0);
    CHECK_STR(hdr(&hr, "Strict-Transport-Security", tmp, sizeof tmp), "max-age=31536000");
    resp_cleanup(&hr);
    CHECK_INT(get("/whoami", "X-Forwarded-Proto: http\r\n", &hr), 0);
    CHECK(hdr(&hr, "Strict-Transport-Security", tmp, sizeof tmp) == NULL);
    resp_cleanup(&hr);
    whoami("X-Forwarded-For: 198.51.100.7, 203.0.113.9 ,10.1.2.3\r\n", ip, sizeof ip, &tls);
    CHECK_STR(ip, "203.0.113.9");
    CHECK(!tls);
    /* what the client wrote left of its own address is never read */
    whoami("X-Forwarded-For: junk, ,2001:db8::7\r\n", ip, sizeof ip, &tls);
    CHECK_STR(ip, "2001:db8::7");
    /* every entry a trusted proxy: the leftmost */
    whoami("X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n", ip, sizeof ip, &tls);
    CHECK_STR(ip, "10.0.0.1");
    /* several header lines are one list, in order */
    whoami("X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 10.0.0.5\r\n", ip, sizeof ip, &tls);
    CHECK_STR(ip, "198.51.100.1");
    /* malformed where it is read: the peer */
    static const char *const bad[] = {"X-Forwarded-For: garbage\r\n", "X-Forwarded-For: 203.0.113.9:443\r\n",
                                      "X-Forwarded-For: 203.0.113.9,\r\n", "X-Forwarded-For:\r\n",
                                      "X-Forwarded-For: unknown\r\n", "X-Forwarded-For: [2001:db8::1]\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        whoami(bad[i], ip, sizeof ip, &tls);
        CHECK_STR(ip, "127.0.0.1");
    }
    http_server_free(s);

    /* A peer that is not a trusted proxy: both headers are ignored. */
    o.trusted_proxies = "10.0.0.0/8";
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    http_route(s, "GET", "/whoami", h_whoami, NULL, HTTP_PUBLIC);
    CHECK_INT(http_server_start(s, &e), 0);
    g_port = http_server_port(s);
    whoami("X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n", ip, sizeof ip, &tls);
    CHECK_STR(ip, "127.0.0.1");
    CHECK(!tls);
    CHECK_INT(get("/whoami", "X-Forwarded-Proto: https\r\n", &hr), 0);
    CHECK(hdr(&hr, "Strict-Transport-Security", tmp, sizeof tmp) == NULL); /* not from a stranger */
    resp_cleanup(&hr);
    http_server_free(s);
    g_port = saved;

    o.trusted_proxies = "127.0.0.1, 10.0.0.1/8";
    s = NULL;
    CHECK_INT(http_server_new(&o, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "trusted_proxies");
    CHECK(s == NULL);
}

/* ---- a .spawn row of a module's route table (modules/app_http.h) ---- */

/* Makes object id * 10 from {id}; {"refuse": …} in the body is refused as a rules' conflict. */
static int spawn_rule(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *made, nx_err *e)
{
    (void)app;
    (void)who;
    if (json_object_get(in, "refuse"))
        return nx_fail(e, NX_ECONFLICT, "refuse", "不能再生成");
    *made = id * 10;
    return 0;
}

static int spawn_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    (void)app;
    (void)e;
    *out = json_pack("{s:I, s:I}", "id", (json_int_t)id, "user", (json_int_t)who->user_id);
    return 0;
}

static const app_route spawn_rows[] = {
    {"POST", "/api/v1/things/{id}/copies", .spawn = spawn_rule, .get = spawn_get},
    {"POST", "/api/v1/things/{id}/children", .spawn = spawn_rule, .get = spawn_get, .arg = "child_id"},
};

static void test_spawn_rows(void)
{
    const char *auth = "Authorization: Bearer good\r\n";
    resp r;
    /* the new object, made from {id} by the principal of the request */
    CHECK_INT(post("/api/v1/things/4/copies", "application/json", auth, "{}", &r), 0);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body, "{\"id\":40,\"user\":7}");
    resp_cleanup(&r);
    /* with .arg: the parent as it now is, the new child's id under .arg */
    CHECK_INT(post("/api/v1/things/4/children", "application/json", auth, "{}", &r), 0);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body, "{\"id\":4,\"user\":7,\"child_id\":40}");
    resp_cleanup(&r);
    /* the rules' refusal is the answer; a body is required; no object 0 */
    CHECK_INT(post("/api/v1/things/4/copies", "application/json", auth, "{\"refuse\": 1}", &r), 0);
    json_t *j = check_problem(&r, 409, "conflict", "数据冲突");
    CHECK_STR(json_string_value(json_object_get(j, "field")), "refuse");
    json_decref(j);
    resp_cleanup(&r);
    CHECK_INT(post("/api/v1/things/4/copies", "application/json", auth, "", &r), 0);
    CHECK_INT(r.status, 400);
    resp_cleanup(&r);
    CHECK_INT(post("/api/v1/things/0/copies", "application/json", auth, "{}", &r), 0);
    CHECK_INT(r.status, 404);
    resp_cleanup(&r);
}

static int route_count;
static void count_route(const char *method, const char *pattern, unsigned flags, void *ctx)
{
    (void)method;
    (void)flags;
    (void)ctx;
    if (pattern[0] == '/')
        route_count++;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    make_web_root();
    http_options o = {.listen = "127.0.0.1:0",
                      .threads = 2,
                      .max_body = MAX_BODY,
                      .max_upload = MAX_UPLOAD,
                      .max_header = 16 * 1024,
                      .request_arena = 1 << 20,
                      .max_connections = 64,
                      .web_root = g_root,
                      .access_log = true};
    http_server *s = NULL;
    nx_err e;
    CHECK_INT(http_server_new(&o, &s, &e), 0);
    if (s == NULL)
        return TEST_DONE();
    http_route(s, "GET", "/api/v1/ping", h_ping, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/api/v1/items/{id}", h_item, NULL, 0);
    http_route(s, "POST", "/api/v1/items", h_create, NULL, 0);
    http_route(s, "GET", "/api/v1/fail", h_fail, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/api/v1/bare", h_bare_code, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/api/v1/bug", h_bug, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/api/v1/oops", h_oops, NULL, HTTP_PUBLIC);
    http_route(s, "GET", "/api/v1/twice", h_twice, NULL, HTTP_PUBLIC);
    http_route(s, "POST", "/api/v1/upload", h_upload, NULL, HTTP_PUBLIC | HTTP_UPLOAD);
    http_route(s, "GET", "/api/v1/query", h_query, NULL, HTTP_PUBLIC);
    nx_app app = {0};
    APP_ROUTES(s, &app, spawn_rows);
    http_set_authenticator(s, auth_stub, NULL);
    http_set_ready_check(s, ready_check, NULL);
    http_set_openapi(s, "{\"openapi\":\"3.1.0\"}");
    http_routes_each(s, count_route, NULL);
    CHECK_INT(route_count, 15); /* 12 here + 3 built-in */
    CHECK_INT(http_server_start(s, &e), 0);
    g_port = http_server_port(s);
    CHECK(g_port > 0);

    TEST_RUN(test_json_and_headers);
    TEST_RUN(test_404_405);
    TEST_RUN(test_auth);
    TEST_RUN(test_json_body);
    TEST_RUN(test_handler_errors);
    TEST_RUN(test_query);
    TEST_RUN(test_body_caps);
    TEST_RUN(test_keep_alive);
    TEST_RUN(test_static);
    TEST_RUN(test_bare_server);
    TEST_RUN(test_trusted_proxies);
    TEST_RUN(test_library_errors);
    TEST_RUN(test_nul_and_ids);
    TEST_RUN(test_spawn_rows);

    http_server_free(s);
    remove_web_root();
    return TEST_DONE();
}
