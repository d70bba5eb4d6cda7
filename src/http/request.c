/* request.c — what a handler can read from its request.
 *
 * Everything here borrows: header, cookie and query strings live in libmicrohttpd's connection
 * pool, path parameters and the body in the request's arena or buffer, the parsed JSON body in the
 * request; all of it dies when the request completes. Query values are already percent-decoded by
 * libmicrohttpd and have been checked to be valid UTF-8 by the server before any handler runs
 * (and, like every header and cookie, to hold no NUL byte that would cut them short: server.c);
 * path parameters are percent-decoded, valid UTF-8 and free of control characters (router.c).
 *
 * The helpers that can fail for the client's sake (http_param_id, http_json_body,
 * http_query_limit, http_query_int) fill http_err(r) themselves, so a handler just returns their
 * code and the server answers the problem. Threads: a request is only touched by its worker. */
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "http/internal.h"

arena *http_arena(http_req *r)
{
    return r->arena;
}

nx_err *http_err(http_req *r)
{
    return &r->err;
}

const http_auth *http_auth_of(http_req *r)
{
    return r->has_auth ? &r->auth : NULL;
}

const char *http_method(http_req *r)
{
    return r->method;
}

const char *http_path(http_req *r)
{
    return r->raw_path;
}

uint64_t http_request_id(http_req *r)
{
    return r->id;
}

const char *http_client_ip(http_req *r)
{
    return r->ip;
}

bool http_via_tls(http_req *r)
{
    return r->via_tls;
}

const void *http_route_arg(http_req *r)
{
    return r->match.rt ? r->match.rt->arg : NULL;
}

const char *http_param(http_req *r, const char *name)
{
    for (size_t i = 0; i < r->match.nparams; i++)
        if (strcmp(r->match.names[i], name) == 0)
            return r->match.values[i];
    return NULL;
}

int http_param_id(http_req *r, const char *name, int64_t *out)
{
    const char *s = http_param(r, name);
    int64_t v;
    /* strict decimal: "+1", "01", " 1", "1 " are not resident 1 */
    bool digits = s && s[0] >= '1' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s);
    if (!digits || str_to_i64(s, 1, INT64_MAX, &v) != 0)
        return nx_fail(&r->err, NX_ENOTFOUND, NULL, "资源不存在");
    *out = v;
    return 0;
}

const char *http_query(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const void *http_body(http_req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.len ? r->body.data : "";
}

/* True when the Content-Type is application/json, optionally with charset=utf-8. */
static int json_content_type(const char *ct)
{
    if (ct == NULL)
        return NX_EUNSUPP;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    static const char mt[] = "application/json";
    if (strncasecmp(ct, mt, sizeof mt - 1) != 0)
        return NX_EUNSUPP;
    const char *p = ct + sizeof mt - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0;
    if (*p != ';')
        return NX_EUNSUPP;
    /* Parameters: only a UTF-8 charset is meaningful; other parameters are ignored. */
    const char *cs = strcasestr(p, "charset=");
    if (cs == NULL)
        return 0;
    cs += 8;
    if (*cs == '"')
        cs++;
    if (strncasecmp(cs, "utf-8", 5) == 0 || strncasecmp(cs, "utf8", 4) == 0)
        return 0;
    return NX_EUNSUPP;
}

int http_json_body(http_req *r, json_t **out)
{
    if (r->json) {
        *out = r->json;
        return 0;
    }
    if (json_content_type(http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)) != 0)
        return nx_fail(&r->err, NX_EUNSUPP, NULL, "请求体应为 JSON（Content-Type: application/json）");
    if (r->body.len == 0)
        return nx_fail(&r->err, NX_EINVAL, NULL, "请求体为空，应为 JSON 对象");
    json_error_t je;
    json_t *j = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        if (json_error_code(&je) == json_error_duplicate_key)
            return nx_fail(&r->err, NX_EINVAL, NULL, "JSON 中有重复的字段：第 %d 行第 %d 列", je.line,
                           je.column);
        if (json_error_code(&je) == json_error_invalid_utf8)
            return nx_fail(&r->err, NX_EINVAL, NULL, "JSON 含有无效的 UTF-8 编码：第 %d 行第 %d 列", je.line,
                           je.column);
        return nx_fail(&r->err, NX_EINVAL, NULL, "JSON 格式错误：第 %d 行第 %d 列", je.line, je.column);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return nx_fail(&r->err, NX_EINVAL, NULL, "请求体应为 JSON 对象");
    }
    r->json = j;
    *out = j;
    return 0;
}

int http_query_limit(http_req *r, int def, int max, int *out)
{
    const char *s = http_query(r, "limit");
    if (s == NULL) {
        *out = def;
        return 0;
    }
    int64_t v;
    if (str_to_i64(s, 1, max, &v) != 0)
        return nx_fail(&r->err, NX_EINVAL, "limit", "limit 应为 1 到 %d 之间的整数", max);
    *out = (int)v;
    return 0;
}

int http_query_int(http_req *r, const char *name, int64_t min, int64_t max, bool *present, int64_t *out)
{
    const char *s = http_query(r, name);
    *present = s != NULL;
    if (s == NULL)
        return 0;
    if (str_to_i64(s, min, max, out) != 0)
        return nx_fail(&r->err, NX_EINVAL, name, "%s 应为 %lld 到 %lld 之间的整数", name, (long long)min,
                       (long long)max);
    return 0;
}
