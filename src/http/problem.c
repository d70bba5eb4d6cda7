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
 * Caveats: 5xx answers never carry the internal message (it is logged with the request id
 * instead) — the client sees the generic 服务器内部错误. 503 answers carry Retry-After: 1. All
 * strings are passed through a UTF-8 guard, because nx_err's fixed buffers may cut a multi-byte
 * character in half and jansson refuses invalid UTF-8. */
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
    case 415: s = "unsupported-media-type", t = "不支持的内容类型"; break;
    case 422: s = "validation", t = "数据校验未通过"; break;
    case 429: s = "too-many-requests", t = "请求过于频繁"; break;
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

int http_reply_problem(http_req *r, int status, const char *type, const char *title, const char *detail,
                       const char *field)
{
    char typebuf[128], idbuf[24];
    const char *dslug, *dtitle;
    http__problem_names(status, &dslug, &dtitle);
    snprintf(typebuf, sizeof typebuf, PROBLEM_BASE "%s", type && type[0] ? type : dslug);
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)r->id);
    json_t *o = json_object();
    if (o == NULL)
        return NX_ENOMEM;
    json_object_set_new(o, "type", safe_string(typebuf));
    json_object_set_new(o, "title", safe_string(title && title[0] ? title : dtitle));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "detail", safe_string(detail && detail[0] ? detail : dtitle));
    if (field && field[0])
        json_object_set_new(o, "field", safe_string(field));
    json_object_set_new(o, "request_id", json_string(idbuf));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
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
