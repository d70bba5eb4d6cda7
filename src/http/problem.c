/* problem.c — the one place where error codes become HTTP statuses, and the problem+json body.
 *
 * Every error the server or a handler answers goes through here as RFC 9457 problem details:
 *   {"type":"https://nuanxin.dev/problems/<slug>","title":"<Chinese>","status":N,
 *    "detail":"…","field":"…","request_id":"…"}
 * with Content-Type application/problem+json; "field" names the offending input when there is one: every
 * validation error (422), and a conflict or refusal about one field (409 on "version" or "id_number",
 * 403 on "community_id").
 *
 * Mapping (http_status_of): EINVAL 400, ENOTFOUND 404, ECONFLICT 409, EPERM 403, EAUTH 401,
 * ETOOBIG 413, EUNSUPP 415, ELOCKED 429, EBUSY 503, and everything else (ENOMEM, EIO, EDB,
 * EINTERNAL, unknown codes) 500.
 *
 * 400 versus 422: http_status_of(NX_EINVAL) is 400, the status for a request that could not be
 * read at all (malformed JSON, a body that is not an object, a bad path or query parameter without
 * a field). http_reply_error answers 422 ("validation", 数据校验未通过) when an NX_EINVAL error
 * names a field: the request was well-formed but a value in it is not acceptable, and the client
 * can point at the input to fix. A wrong query parameter names its field too, so it is a 422.
 *
 * libmicrohttpd answers some requests itself, before any of our code sees them: a malformed request
 * line or header (400), a chunk size that overflows (413), a request line or headers that do not
 * fit its connection memory (414, 431), an HTTP version it does not speak (505). Version 0.9.75 has
 * no option to shape those answers and writes them as HTML. It queues them through its exported
 * MHD_queue_response, called through the PLT, so the definition below takes its place for the whole
 * process (symbol interposition): an answer of 400 or more that did not come through http__queue
 * (which sets queueing_ours around its call) is replaced by the problem+json of the same status,
 * and the real function (dlsym RTLD_NEXT) queues it. The access log then shows the status too.
 *
 * Caveats: 5xx answers never carry the internal message (it is logged with the request id
 * instead) — the client sees the generic 服务器内部错误. 503 answers carry Retry-After: 1. All
 * strings are passed through a UTF-8 guard, because nx_err's fixed buffers may cut a multi-byte
 * character in half and jansson refuses invalid UTF-8. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "http/internal.h"

#define PROBLEM_BASE "https://nuanxin.dev/problems/"

int http_status_of(int nx_code)
{
    switch (nx_code) {
    case NX_OK: return 200;
    case NX_EINVAL: return 400;
    case NX_ENOTFOUND: return 404;
    case NX_ECONFLICT: return 409;
    case NX_EPERM: return 403;
    case NX_EAUTH: return 401;
    case NX_ETOOBIG: return 413;
    case NX_EUNSUPP: return 415;
    case NX_ELOCKED: return 429;
    case NX_EBUSY: return 503;
    case NX_ENOMEM:
    case NX_EIO:
    case NX_EDB:
    case NX_EINTERNAL:
    default: return 500;
    }
}

void http__problem_names(int status, const char **slug, const char **title)
{
    const char *s, *t;
    switch (status) {
    case 400: s = "bad-request", t = "请求参数有误"; break;
    case 401: s = "unauthenticated", t = "未登录或登录已过期"; break;
    case 403: s = "forbidden", t = "无权访问"; break;
    case 404: s = "not-found", t = "资源不存在"; break;
    case 405: s = "method-not-allowed", t = "不支持的请求方法"; break;
    case 409: s = "conflict", t = "数据冲突"; break;
    case 413: s = "too-large", t = "请求体过大"; break;
    case 414: s = "uri-too-long", t = "请求地址过长"; break;
    case 415: s = "unsupported-media-type", t = "不支持的内容类型"; break;
    case 422: s = "validation", t = "数据校验未通过"; break;
    case 429: s = "too-many-requests", t = "请求过于频繁"; break;
    case 431: s = "headers-too-large", t = "请求头过大"; break;
    case 505: s = "http-version", t = "不支持的 HTTP 版本"; break;
    case 503: s = "unavailable", t = "服务暂不可用"; break;
    default:
        if (status >= 400 && status < 500)
            s = "bad-request", t = "请求有误";
        else
            s = "internal", t = "服务器内部错误";
        break;
    }
    *slug = s;
    *title = t;
}

void http__problem_of(const nx_err *e, int *status, const char **slug, const char **title,
                      const char **detail)
{
    int st = http_status_of(e->code);
    if (e->code == NX_EINVAL && e->field[0])
        st = 422;
    http__problem_names(st, slug, title);
    *status = st;
    if (st >= 500 && st != 503)
        *detail = "服务器内部错误，请稍后重试";
    else
        *detail = e->msg[0] ? e->msg : *title;
}

/* A JSON string from s even when s is not valid UTF-8: a character cut at the end of a fixed
 * buffer is dropped, any other bad byte becomes '?'. NULL only on allocation failure. */
static json_t *safe_string(const char *s)
{
    size_t n = strlen(s);
    if (str_utf8_valid(s, n))
        return json_string(s);
    char buf[512];
    size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, s, k);
    buf[k] = '\0';
    /* Drop a trailing incomplete sequence (at most 3 bytes). */
    for (int i = 0; i < 3 && k > 0 && !str_utf8_valid(buf, k); i++)
        if (((unsigned char)buf[k - 1] & 0x80) != 0)
            buf[--k] = '\0';
    if (!str_utf8_valid(buf, k))
        for (size_t i = 0; i < k; i++)
            if ((unsigned char)buf[i] >= 0x80)
                buf[i] = '?';
    return json_string(buf);
}

/* The problem+json text (malloc'd) or NULL; request id 0 = none known. */
static char *problem_text(uint64_t id, int status, const char *type, const char *title, const char *detail,
                          const char *field)
{
    char typebuf[128], idbuf[24];
    const char *dslug, *dtitle;
    http__problem_names(status, &dslug, &dtitle);
    snprintf(typebuf, sizeof typebuf, PROBLEM_BASE "%s", type && type[0] ? type : dslug);
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)id);
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "type", safe_string(typebuf));
    json_object_set_new(o, "title", safe_string(title && title[0] ? title : dtitle));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "detail", safe_string(detail && detail[0] ? detail : dtitle));
    if (field && field[0])
        json_object_set_new(o, "field", safe_string(field));
    if (id)
        json_object_set_new(o, "request_id", json_string(idbuf));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

int http_reply_problem(http_req *r, int status, const char *type, const char *title, const char *detail,
                       const char *field)
{
    char *text = problem_text(r->id, status, type, title, detail, field);
    if (text == NULL)
        return NX_ENOMEM;
    size_t len = strlen(text);
    struct MHD_Response *resp = http__response_text(text, len, "application/problem+json");
    if (resp == NULL)
        return NX_ENOMEM;
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    return http__queue(r, status, resp, len, false);
}

int http_reply_error(http_req *r, const nx_err *e)
{
    nx_err generic;
    if (e == NULL || e->code == NX_OK) {
        nx_fail(&generic, NX_EINTERNAL, NULL, "服务器内部错误");
        e = &generic;
    }
    int status;
    const char *slug, *title, *detail;
    http__problem_of(e, &status, &slug, &title, &detail);
    if (status >= 500)
        nx_log(LOG_ERROR, "http.error code=%s msg=%s", nx_code_name(e->code), e->msg);
    return http_reply_problem(r, status, slug, title, detail, status < 500 ? e->field : NULL);
}

/* ---- libmicrohttpd's own error answers (see the essay) ---- */

typedef enum MHD_Result (*queue_fn)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
static queue_fn real_queue;
static pthread_once_t real_queue_once = PTHREAD_ONCE_INIT;
static _Thread_local bool queueing_ours;

static void find_real_queue(void)
{
    real_queue = (queue_fn)(uintptr_t)dlsym(RTLD_NEXT, "MHD_queue_response");
}

enum MHD_Result http__queue_ours(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp)
{
    queueing_ours = true;
    enum MHD_Result ok = MHD_queue_response(conn, status, resp);
    queueing_ours = false;
    return ok;
}

/* A detail a person can act on, for each answer libmicrohttpd makes. */
static const char *mhd_detail(unsigned int status)
{
    switch (status) {
    case 400: return "请求格式错误";
    case 413: return "请求体过大";
    case 414: return "请求地址过长";
    case 431: return "请求头过大";
    case 505: return "只支持 HTTP/1.0 和 HTTP/1.1";
    default: return NULL;
    }
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp)
{
    pthread_once(&real_queue_once, find_real_queue);
    if (real_queue == NULL || real_queue == MHD_queue_response)
        abort(); /* cannot happen with a dynamically linked libmicrohttpd: nothing could be answered */
    if (queueing_ours || status < 400 || status > 599)
        return real_queue(conn, status, resp);
    http_conn *c = http__conn_of(conn);
    http_req *r = http__conn_req(c);
    char *text = problem_text(http__conn_request_id(c), (int)status, NULL, NULL, mhd_detail(status), NULL);
    struct MHD_Response *mine = text ? http__response_text(text, strlen(text), "application/problem+json") : NULL;
    if (mine == NULL)
        return real_queue(conn, status, resp); /* out of memory: its own answer is better than none */
    MHD_add_response_header(mine, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mine, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = real_queue(conn, status, mine);
    MHD_destroy_response(mine); /* the connection holds its own reference; resp is the caller's */
    if (ok == MHD_YES && r) {
        r->status = (int)status;
        r->replied = true;
    }
    return ok;
}
