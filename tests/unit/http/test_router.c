/* test_router.c — the route table and the path splitter (src/http/router.c): parameters,
 * precedence of literals over parameters, 404/405 with the Allow list, HEAD for GET,
 * percent-decoding per segment, and refusal of traversal, NULs, control characters and bad UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "test.h"

static int h_list(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_get(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_put(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_del(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_export(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_xc(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_by(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_head(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}
static int h_root(http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}

static router *build(void)
{
    router *rt = router_new();
    CHECK(rt != NULL);
    CHECK_INT(router_add(rt, "GET", "/api/v1/residents", h_list, NULL, 0), 0);
    CHECK_INT(router_add(rt, "GET", "/api/v1/residents/{id}", h_get, (void *)1, 0), 0);
    CHECK_INT(router_add(rt, "PUT", "/api/v1/residents/{id}", h_put, NULL, 0), 0);
    CHECK_INT(router_add(rt, "DELETE", "/api/v1/residents/{id}", h_del, NULL, 0), 0);
    /* Registered after {id}: must still win for "export". */
    static const int export_arg = 7; /* http_route_with's constant (a module's route-table row) */
    CHECK_INT(router_add_with(rt, "GET", "/api/v1/residents/export", h_export, NULL, &export_arg, HTTP_PUBLIC), 0);
    CHECK_INT(router_add(rt, "GET", "/api/v1/a/{x}/c", h_xc, NULL, 0), 0);
    CHECK_INT(router_add(rt, "GET", "/api/v1/a/b/{y}", h_by, NULL, 0), 0);
    CHECK_INT(router_add(rt, "GET", "/api/v1/h", h_get, NULL, 0), 0);
    CHECK_INT(router_add(rt, "HEAD", "/api/v1/h", h_head, NULL, 0), 0);
    CHECK_INT(router_add(rt, "GET", "/", h_root, NULL, 0), 0);
    return rt;
}

/* Split and match; returns the router result, or 100 + the split error's absolute value. */
static int match(router *rt, arena *a, const char *method, const char *path, route_match *m)
{
    path_segs p;
    int rc = http_path_split(path, a, &p);
    if (rc != 0)
        return 100 - rc;
    return router_match(rt, method, &p, m);
}

static void test_bad_patterns(void)
{
    router *rt = build();
    CHECK_INT(router_add(rt, "GET", "no-slash", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/a/", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/a//b", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/{Bad}", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/{id}/{id}", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/a/{", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/a/x{id}", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/a/../b", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "get", "/lower", h_get, NULL, 0), NX_EINVAL);
    CHECK_INT(router_add(rt, "GET", "/x", NULL, NULL, 0), NX_EINVAL);
    /* Same shape as "/api/v1/residents/{id}" for GET: a clash, whatever the parameter's name. */
    CHECK_INT(router_add(rt, "GET", "/api/v1/residents/{rid}", h_get, NULL, 0), NX_ECONFLICT);
    CHECK_INT(router_add(rt, "GET", "/api/v1/residents", h_get, NULL, 0), NX_ECONFLICT);
    /* Same pattern, another method: fine. */
    CHECK_INT(router_add(rt, "POST", "/api/v1/residents", h_get, NULL, 0), 0);
    router_free(rt);
    router_free(NULL);
}

static void test_params_and_precedence(void)
{
    router *rt = build();
    arena *a = arena_new(0);
    route_match m;

    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/12", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_get);
    CHECK(m.rt && m.rt->ctx == (void *)1);
    CHECK(m.rt && m.rt->arg == NULL);
    CHECK_INT(m.nparams, 1);
    CHECK_STR(m.names[0], "id");
    CHECK_STR(m.values[0], "12");

    CHECK_INT(match(rt, a, "GET", "/api/v1/residents", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_list);
    CHECK_INT(m.nparams, 0);

    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/export", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_export);
    CHECK(m.rt && m.rt->flags == HTTP_PUBLIC);
    CHECK(m.rt && m.rt->arg && *(const int *)m.rt->arg == 7);
    CHECK_INT(m.nparams, 0);

    /* "export" only has GET: PUT falls to the parameter route. */
    CHECK_INT(match(rt, a, "PUT", "/api/v1/residents/export", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_put);
    CHECK_STR(m.values[0], "export");

    /* The earliest literal wins: /a/b/{y} over /a/{x}/c. */
    CHECK_INT(match(rt, a, "GET", "/api/v1/a/b/c", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_by);
    CHECK_STR(m.names[0], "y");
    CHECK_STR(m.values[0], "c");
    CHECK_INT(match(rt, a, "GET", "/api/v1/a/z/c", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_xc);
    CHECK_STR(m.values[0], "z");

    CHECK_INT(match(rt, a, "GET", "/", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_root);

    arena_free(a);
    router_free(rt);
}

static void test_404_405_head(void)
{
    router *rt = build();
    arena *a = arena_new(0);
    route_match m;

    CHECK_INT(match(rt, a, "GET", "/api/v1/nope", &m), ROUTER_NOT_FOUND);
    CHECK_STR(m.allow, "");
    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/12/", &m), ROUTER_NOT_FOUND);
    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/12/x", &m), ROUTER_NOT_FOUND);
    CHECK_INT(match(rt, a, "GET", "/api/v1//residents", &m), ROUTER_NOT_FOUND);

    CHECK_INT(match(rt, a, "POST", "/api/v1/residents/12", &m), ROUTER_METHOD);
    CHECK(m.rt == NULL);
    CHECK_STR(m.allow, "GET, HEAD, PUT, DELETE");
    CHECK_INT(match(rt, a, "DELETE", "/api/v1/residents", &m), ROUTER_METHOD);
    CHECK_STR(m.allow, "GET, HEAD");

    /* HEAD is served by the GET route; an explicit HEAD route wins over GET. */
    CHECK_INT(match(rt, a, "HEAD", "/api/v1/residents/12", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_get);
    CHECK_INT(match(rt, a, "HEAD", "/api/v1/h", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_head);
    CHECK_INT(match(rt, a, "GET", "/api/v1/h", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_get);

    arena_free(a);
    router_free(rt);
}

static void test_decoding(void)
{
    router *rt = build();
    arena *a = arena_new(0);
    route_match m;

    /* 张 = E5 BC A0; %2F inside a segment is part of the value, not a separator. */
    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/%E5%BC%A0%20a%2Fb+c", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_get);
    CHECK_STR(m.values[0], "张 a/b+c");
    /* Raw UTF-8 in the path is accepted as it is. */
    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/李四", &m), ROUTER_OK);
    CHECK_STR(m.values[0], "李四");
    /* An encoded literal matches the literal. */
    CHECK_INT(match(rt, a, "GET", "/api/v1/residents/%65xport", &m), ROUTER_OK);
    CHECK(m.rt && m.rt->handler == h_export);

    path_segs p;
    CHECK_INT(http_path_split("/", a, &p), 0);
    CHECK_INT(p.n, 0);
    CHECK_INT(http_path_split("/a/", a, &p), 0);
    CHECK_INT(p.n, 2);
    CHECK_STR(p.seg[0], "a");
    CHECK_STR(p.seg[1], "");
    CHECK_INT(http_path_split("/x/%41%62c", a, &p), 0);
    CHECK_STR(p.seg[1], "Abc");

    arena_free(a);
    router_free(rt);
}

static void test_refused_paths(void)
{
    arena *a = arena_new(0);
    path_segs p;
    CHECK_INT(http_path_split("/a/../b", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/..", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%2e%2e/b", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%2E%2E", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/.", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%00", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/x%00.png", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%0a", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%7F", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%zz", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%4", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("/a/%ff", a, &p), NX_EINVAL);       /* invalid UTF-8 */
    CHECK_INT(http_path_split("/a/%C0%AF", a, &p), NX_EINVAL);    /* overlong '/' */
    CHECK_INT(http_path_split("/a/%ED%A0%80", a, &p), NX_EINVAL); /* a surrogate */
    CHECK_INT(http_path_split("relative", a, &p), NX_EINVAL);
    CHECK_INT(http_path_split("", a, &p), NX_EINVAL);
    /* "..." and ".x" are ordinary names. */
    CHECK_INT(http_path_split("/a/.../.x", a, &p), 0);
    CHECK_STR(p.seg[1], "...");

    char deep[200];
    for (int i = 0; i < ROUTER_MAX_SEGS + 1; i++)
        memcpy(deep + 2 * i, "/d", 2);
    deep[2 * (ROUTER_MAX_SEGS + 1)] = '\0';
    CHECK_INT(http_path_split(deep, a, &p), NX_ENOTFOUND);
    deep[2 * ROUTER_MAX_SEGS] = '\0';
    CHECK_INT(http_path_split(deep, a, &p), 0);
    CHECK_INT(p.n, ROUTER_MAX_SEGS);

    char *longp = malloc(ROUTER_MAX_PATH + 10);
    longp[0] = '/';
    memset(longp + 1, 'x', ROUTER_MAX_PATH + 5);
    longp[ROUTER_MAX_PATH + 6] = '\0';
    CHECK_INT(http_path_split(longp, a, &p), NX_ENOTFOUND);
    free(longp);
    arena_free(a);
}

static int count_routes;
static void count_route(const route *r, void *ctx)
{
    (void)ctx;
    if (r->pattern[0] == '/')
        count_routes++;
}

static void test_each(void)
{
    router *rt = build();
    router_each(rt, count_route, NULL);
    CHECK_INT(count_routes, 10);
    router_free(rt);
}

int main(void)
{
    TEST_RUN(test_bad_patterns);
    TEST_RUN(test_params_and_precedence);
    TEST_RUN(test_404_405_head);
    TEST_RUN(test_decoding);
    TEST_RUN(test_refused_paths);
    TEST_RUN(test_each);
    return TEST_DONE();
}
