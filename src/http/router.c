/* router.c — method + pattern routing with {name} parameters.
 *
 * The table is a flat array of routes, each pattern cut into segments once at registration. A
 * request path is cut and percent-decoded once (http_path_split) and compared with every route of
 * the same segment count: a few hundred routes of a handful of segments cost well under a
 * microsecond, so no trie is needed, and a flat scan makes precedence easy to state. Among the
 * routes whose segments all match, the winner is the one with a literal at the first position
 * where the candidates differ (a "score" bit mask with the first segment as the highest bit), so
 * "/residents/export" beats "/residents/{id}" whatever the order of registration.
 *
 * The method is considered after the path: when some routes match the path but none has the
 * method, the answer is 405 with the union of their methods (GET implies HEAD). Decoding happens
 * per segment, so "%2F" inside a parameter is a slash in its value, never a separator; "." and
 * ".." segments, encoded NULs and control characters, and invalid UTF-8 are refused (400) before
 * any route or file is looked at.
 *
 * Threads: router_add runs before the server starts; router_match only reads. */
#include "http/router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"

struct router {
    route *routes;
    size_t n, alloc;
    /* by segment count: the indices of the routes with that many segments, in registration order
     * (router_match looks at these only; the order keeps its ties and the Allow list as before) */
    size_t *by_n[ROUTER_MAX_SEGS + 1];
    size_t nby[ROUTER_MAX_SEGS + 1];
};

router *router_new(void)
{
    return calloc(1, sizeof(router));
}

static void route_cleanup(route *r)
{
    for (size_t i = 0; i < r->nseg; i++) {
        free(r->segs[i].lit);
        free(r->segs[i].name);
    }
    free(r->segs);
    free(r->pattern);
}

void router_free(router *rt)
{
    if (rt == NULL)
        return;
    for (size_t i = 0; i < rt->n; i++)
        route_cleanup(&rt->routes[i]);
    free(rt->routes);
    for (size_t k = 0; k <= ROUTER_MAX_SEGS; k++)
        free(rt->by_n[k]);
    free(rt);
}

static bool method_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n >= sizeof(((route *)0)->method))
        return false;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z')
            return false;
    return true;
}

static bool param_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* A literal pattern segment: printable ASCII without braces, escapes or dot segments. */
static bool literal_ok(const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '{' || c == '}' || c == '%' || c == '?' || c == '#')
            return false;
    }
    return true;
}

/* Parse pattern into r->segs. Returns 0, NX_EINVAL or NX_ENOMEM. */
static int parse_pattern(const char *pattern, route *r)
{
    if (pattern[0] != '/')
        return NX_EINVAL;
    r->segs = calloc(ROUTER_MAX_SEGS, sizeof *r->segs);
    if (r->segs == NULL)
        return NX_ENOMEM;
    if (pattern[1] == '\0')
        return 0; /* "/": no segments */
    size_t nparams = 0;
    const char *p = pattern + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (r->nseg == ROUTER_MAX_SEGS)
            return NX_EINVAL;
        route_seg *sg = &r->segs[r->nseg];
        if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
            if (!param_name_ok(p + 1, len - 2) || nparams == ROUTER_MAX_PARAMS)
                return NX_EINVAL;
            for (size_t i = 0; i < r->nseg; i++)
                if (r->segs[i].name && strlen(r->segs[i].name) == len - 2 &&
                    memcmp(r->segs[i].name, p + 1, len - 2) == 0)
                    return NX_EINVAL;
            sg->name = strndup(p + 1, len - 2);
            if (sg->name == NULL)
                return NX_ENOMEM;
            nparams++;
        } else {
            if (!literal_ok(p, len))
                return NX_EINVAL;
            sg->lit = strndup(p, len);
            if (sg->lit == NULL)
                return NX_ENOMEM;
        }
        r->nseg++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return 0;
}

static bool same_shape(const route *a, const route *b)
{
    if (a->nseg != b->nseg)
        return false;
    for (size_t i = 0; i < a->nseg; i++) {
        const route_seg *x = &a->segs[i], *y = &b->segs[i];
        if ((x->lit == NULL) != (y->lit == NULL))
            return false;
        if (x->lit && strcmp(x->lit, y->lit) != 0)
            return false;
    }
    return true;
}

int router_add(router *rt, const char *method, const char *pattern, http_handler h, void *ctx, unsigned flags)
{
    return router_add_with(rt, method, pattern, h, ctx, NULL, flags);
}

int router_add_with(router *rt, const char *method, const char *pattern, http_handler h, void *ctx,
                    const void *arg, unsigned flags)
{
    if (rt == NULL || method == NULL || pattern == NULL || h == NULL || !method_ok(method))
        return NX_EINVAL;
    route r = {0};
    str_copy(r.method, method, sizeof r.method);
    r.handler = h;
    r.ctx = ctx;
    r.arg = arg;
    r.flags = flags;
    int rc = parse_pattern(pattern, &r);
    if (rc == 0 && (r.pattern = strdup(pattern)) == NULL)
        rc = NX_ENOMEM;
    for (size_t i = 0; rc == 0 && i < rt->n; i++)
        if (strcmp(rt->routes[i].method, r.method) == 0 && same_shape(&rt->routes[i], &r))
            rc = NX_ECONFLICT;
    if (rc == 0 && rt->n == rt->alloc) {
        size_t na = rt->alloc ? rt->alloc * 2 : 32;
        route *nr = realloc(rt->routes, na * sizeof *nr);
        if (nr == NULL) {
            rc = NX_ENOMEM;
        } else {
            rt->routes = nr;
            rt->alloc = na;
        }
    }
    size_t *ix = NULL;
    if (rc == 0 && r.nseg > ROUTER_MAX_SEGS)
        rc = NX_EINVAL;
    if (rc == 0 && (ix = realloc(rt->by_n[r.nseg], (rt->nby[r.nseg] + 1) * sizeof *ix)) == NULL)
        rc = NX_ENOMEM;
    if (rc != 0) {
        route_cleanup(&r);
        return rc;
    }
    rt->by_n[r.nseg] = ix;
    ix[rt->nby[r.nseg]++] = rt->n;
    rt->routes[rt->n++] = r;
    return 0;
}

/* The literal-position mask of r when it matches p, or -1. Bit (31 - i) is set when segment i is
 * a literal, so comparing masks as integers prefers the earliest literal. */
static int64_t match_score(const route *r, const path_segs *p)
{
    if (r->nseg != p->n)
        return -1;
    int64_t score = 0;
    /* last segment first: routes share their leading "api", "v1" and differ further right */
    for (size_t i = r->nseg; i-- > 0;) {
        if (r->segs[i].lit) {
            if (strcmp(r->segs[i].lit, p->seg[i]) != 0)
                return -1;
            score |= (int64_t)1 << (ROUTER_MAX_SEGS - 1 - i);
        }
    }
    return score;
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *s = allow; *s;) {
        size_t len = strcspn(s, ",");
        if (len == mlen && memcmp(s, method, mlen) == 0)
            return;
        s += len;
        while (*s == ',' || *s == ' ')
            s++;
    }
    size_t used = strlen(allow);
    if (used + mlen + 3 > cap)
        return;
    if (used) {
        memcpy(allow + used, ", ", 2);
        used += 2;
    }
    memcpy(allow + used, method, mlen + 1);
}

int router_match(const router *rt, const char *method, const path_segs *p, route_match *m)
{
    memset(m, 0, sizeof *m);
    bool head = strcmp(method, "HEAD") == 0;
    bool path_known = false;
    const route *best = NULL;
    int64_t best_score = -1;
    int best_rank = 0; /* 2: exact method, 1: GET standing in for HEAD */
    size_t nby = p->n <= ROUTER_MAX_SEGS ? rt->nby[p->n] : 0;
    for (size_t j = 0; j < nby; j++) {
        const route *r = &rt->routes[rt->by_n[p->n][j]];
        int64_t score = match_score(r, p);
        if (score < 0)
            continue;
        path_known = true;
        allow_add(m->allow, sizeof m->allow, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(m->allow, sizeof m->allow, "HEAD");
        int rank = strcmp(r->method, method) == 0 ? 2 : (head && strcmp(r->method, "GET") == 0) ? 1 : 0;
        if (rank == 0)
            continue;
        if (score > best_score || (score == best_score && rank > best_rank)) {
            best = r;
            best_score = score;
            best_rank = rank;
        }
    }
    if (best == NULL) {
        if (!path_known)
            m->allow[0] = '\0';
        return path_known ? ROUTER_METHOD : ROUTER_NOT_FOUND;
    }
    m->rt = best;
    for (size_t i = 0; i < best->nseg; i++) {
        if (best->segs[i].name) {
            m->names[m->nparams] = best->segs[i].name;
            m->values[m->nparams] = p->seg[i];
            m->nparams++;
        }
    }
    return ROUTER_OK;
}

void router_each(const router *rt, void (*fn)(const route *r, void *ctx), void *ctx)
{
    for (size_t i = 0; i < rt->n; i++)
        fn(&rt->routes[i], ctx);
}

/* Decode s[0..n) into a new arena string. Returns 0, NX_EINVAL or NX_ENOMEM. */
static int decode_segment(const char *s, size_t n, arena *a, char **out)
{
    char *d = arena_alloc(a, n + 1);
    if (d == NULL)
        return NX_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? str_hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? str_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return NX_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return NX_EINVAL;
        d[k++] = (char)c;
    }
    d[k] = '\0';
    if (!str_utf8_valid(d, k) || strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
        return NX_EINVAL;
    *out = d;
    return 0;
}

int http_path_split(const char *raw, arena *a, path_segs *out)
{
    out->n = 0;
    if (raw == NULL || raw[0] != '/')
        return NX_EINVAL;
    size_t total = strlen(raw);
    if (total > ROUTER_MAX_PATH)
        return NX_ENOTFOUND;
    if (total == 1)
        return 0;
    const char *p = raw + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (out->n == ROUTER_MAX_SEGS)
            return NX_ENOTFOUND;
        int rc = decode_segment(p, len, a, &out->seg[out->n]);
        if (rc != 0)
            return rc;
        out->n++;
        if (slash == NULL)
            return 0;
        p = slash + 1;
    }
}
