/* fuzz_http.c — libFuzzer target for what nuanxin itself parses of an HTTP request line (the rest,
 * the request line's grammar and the headers, is libmicrohttpd's): the path, split into
 * percent-decoded segments (http_path_split) and matched against a route table shaped like the
 * API's (router_match); and the query string, cut at '&' and '=' and percent-decoded the way
 * libmicrohttpd hands it over, then checked as the server does (str_utf8_valid on every key and
 * value) and read as the handlers read numbers (str_to_i64 for limit and ids, str_to_bool).
 * Input: "<path>?<query>" (no '?': all path).
 * Invariants: no crash; a split path has at most ROUTER_MAX_SEGS segments, each valid UTF-8 with no
 * NUL, no control character and not "." or ".."; a match names its parameters and their values are
 * segments of the path; a number read is inside the range asked for. */
#include "fuzz.h"

#include "base/arena.h"
#include "base/str.h"
#include "http/router.h"

#include <string.h>

static int h(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}

static router *table(void)
{
    static const char *const routes[][2] = {
        {"GET", "/api/v1/residents"},
        {"POST", "/api/v1/residents"},
        {"GET", "/api/v1/residents/export"},
        {"GET", "/api/v1/residents/{id}"},
        {"PATCH", "/api/v1/residents/{id}"},
        {"POST", "/api/v1/residents/{id}/reveal"},
        {"GET", "/api/v1/households/{id}"},
        {"GET", "/api/v1/devices/{id}/positions"},
        {"POST", "/api/v1/alerts/{id}/acknowledge"},
        {"GET", "/api/v1/service-applications/{id}/materials/{mid}"},
        {"POST", "/api/v1/service-applications/{id}/materials"},
        {"GET", "/api/v1/events/stream"},
        {"GET", "/healthz"},
    };
    router *rt = router_new();
    FUZZ_ASSERT(rt != NULL);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        FUZZ_ASSERT(router_add(rt, routes[i][0], routes[i][1], h, NULL, 0) == 0);
    return rt;
}

/* Percent-decode s[0..n) into out (cap bytes, NUL-terminated), '+' as a space, as libmicrohttpd
 * does for query arguments (a bad escape stays as it is). Returns the decoded length. */
static size_t unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = str_hexval(s[i + 1])) >= 0 && (lo = str_hexval(s[i + 2])) >= 0) {
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[k] = '\0';
    return k;
}

static void check_value(const char *v, size_t n)
{
    if (strlen(v) != n || !str_utf8_valid(v, n))
        return; /* the server answers 400 before any handler runs */
    int64_t x;
    if (str_to_i64(v, 1, 200, &x) == 0)
        FUZZ_ASSERT(x >= 1 && x <= 200);
    if (str_to_i64(v, INT64_MIN, INT64_MAX, &x) == 0) {
        /* a number read back prints as the same digits, leading '+' and zeros aside */
        char back[32];
        snprintf(back, sizeof back, "%lld", (long long)x);
        FUZZ_ASSERT(strlen(back) <= n || v[0] == '-');
    }
    bool b;
    if (str_to_bool(v, &b) == 0)
        FUZZ_ASSERT(b == true || b == false);
    uint64_t sz;
    if (str_to_size(v, 1u << 20, &sz) == 0)
        FUZZ_ASSERT(sz <= (1u << 20));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static router *rt;
    static arena *a;
    static char path[ROUTER_MAX_PATH * 2 + 2];
    static char val[8192];
    if (rt == NULL) {
        rt = table();
        a = arena_new(64 * 1024);
        FUZZ_ASSERT(a != NULL);
    }
    if (size == 0 || size > 16384)
        return 0;
    const char *s = (const char *)data;
    const char *q = memchr(s, '?', size);
    size_t plen = q ? (size_t)(q - s) : size;
    /* The raw path as the server sees it: a C string starting with '/'. */
    if (plen + 2 > sizeof path)
        return 0;
    path[0] = '/';
    memcpy(path + 1, s, plen);
    path[plen + 1] = '\0';
    arena_reset(a);
    path_segs p;
    int rc = http_path_split(path, a, &p);
    FUZZ_ASSERT(rc == 0 || rc == NX_EINVAL || rc == NX_ENOTFOUND || rc == NX_ENOMEM);
    if (rc == 0) {
        FUZZ_ASSERT(p.n <= ROUTER_MAX_SEGS);
        for (size_t i = 0; i < p.n; i++) {
            size_t n = strlen(p.seg[i]);
            FUZZ_ASSERT(str_utf8_valid(p.seg[i], n));
            FUZZ_ASSERT(strcmp(p.seg[i], ".") != 0 && strcmp(p.seg[i], "..") != 0);
            for (size_t k = 0; k < n; k++)
                FUZZ_ASSERT((unsigned char)p.seg[i][k] >= 0x20 && p.seg[i][k] != 0x7f);
        }
        static const char *const methods[] = {"GET", "POST", "PATCH", "HEAD", "DELETE"};
        for (size_t mi = 0; mi < sizeof methods / sizeof methods[0]; mi++) {
            route_match m;
            memset(&m, 0, sizeof m);
            int r = router_match(rt, methods[mi], &p, &m);
            FUZZ_ASSERT(r == ROUTER_OK || r == ROUTER_NOT_FOUND || r == ROUTER_METHOD);
            if (r == ROUTER_OK) {
                FUZZ_ASSERT(m.rt != NULL && m.nparams <= ROUTER_MAX_PARAMS);
                for (size_t i = 0; i < m.nparams; i++) {
                    bool found = false;
                    for (size_t k = 0; k < p.n; k++)
                        found = found || m.values[i] == p.seg[k];
                    FUZZ_ASSERT(found && m.names[i] != NULL);
                    check_value(m.values[i], strlen(m.values[i]));
                }
            } else if (r == ROUTER_METHOD) {
                FUZZ_ASSERT(m.allow[0] != '\0' && memchr(m.allow, '\0', sizeof m.allow) != NULL);
            }
        }
    }
    if (q == NULL)
        return 0;
    const char *end = s + size;
    for (const char *arg = q + 1; arg <= end;) {
        const char *amp = memchr(arg, '&', (size_t)(end - arg));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(arg, '=', (size_t)(stop - arg));
        const char *kend = eq ? eq : stop;
        size_t kn = unescape(arg, (size_t)(kend - arg), val, sizeof val);
        check_value(val, kn);
        if (eq) {
            size_t vn = unescape(eq + 1, (size_t)(stop - eq - 1), val, sizeof val);
            check_value(val, vn);
        }
        if (amp == NULL)
            break;
        arg = amp + 1;
    }
    return 0;
}
