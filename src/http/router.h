/* router.h — internal to http/: the route table and the path splitter.
 *
 * Not for modules (they see only http.h). server.c builds one router per server before start and
 * matches every request against it; static.c reuses the path splitter; the unit tests drive both
 * directly. The table is written only before the server starts and read concurrently afterwards,
 * so matching takes no lock. */
#ifndef NX_HTTP_ROUTER_H
#define NX_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "http/http.h"

#define ROUTER_MAX_SEGS   32   /* a path with more segments is answered 404 */
#define ROUTER_MAX_PARAMS 8    /* {name} segments per pattern */
#define ROUTER_MAX_PATH   2048 /* bytes of raw path; longer is answered 404 */

/* One segment of a pattern: a literal (name NULL) or a {name} parameter (lit NULL). */
typedef struct route_seg {
    char *lit;
    char *name;
} route_seg;

typedef struct route {
    char method[16];
    char *pattern;
    size_t nseg;
    route_seg *segs;
    http_handler handler;
    void *ctx;
    const void *arg; /* http_route_with's constant (NULL from http_route) */
    unsigned flags;
} route;

typedef struct router router;

/* A request path cut at '/' and percent-decoded segment by segment (strings in the arena). */
typedef struct path_segs {
    size_t n;
    char *seg[ROUTER_MAX_SEGS];
} path_segs;

typedef struct route_match {
    const route *rt; /* the route on ROUTER_OK */
    size_t nparams;
    const char *names[ROUTER_MAX_PARAMS];  /* borrowed from the route */
    const char *values[ROUTER_MAX_PARAMS]; /* borrowed from the path_segs */
    char allow[128];                       /* on ROUTER_METHOD: "GET, HEAD, POST" */
} route_match;

enum router_result {
    ROUTER_OK = 0,
    ROUTER_NOT_FOUND = 1, /* no route has this path */
    ROUTER_METHOD = 2,    /* the path exists, for other methods only (405, m->allow filled) */
};

router *router_new(void);
void router_free(router *rt); /* NULL accepted */

/* Add a route. method: an upper-case token ("GET"); pattern: "/a/{id}/b" — starts with '/', no
 * empty segment, no trailing '/', parameters are whole segments named [a-z0-9_]+ and unique.
 * Returns 0, NX_EINVAL for a malformed method or pattern, NX_ECONFLICT when the same method has
 * a route of the same shape ("/a/{x}" and "/a/{y}" clash), NX_ENOMEM. Not thread-safe. */
int router_add(router *rt, const char *method, const char *pattern, http_handler h, void *ctx,
               unsigned flags);
/* router_add with a constant the handler reads back (http_route_arg). */
int router_add_with(router *rt, const char *method, const char *pattern, http_handler h, void *ctx,
                    const void *arg, unsigned flags);

/* Match a split path. A literal segment beats a parameter at the first position where two
 * candidate routes differ; HEAD matches GET routes (an explicit HEAD route wins). Returns an
 * enum router_result. Thread-safe against other matches. */
int router_match(const router *rt, const char *method, const path_segs *p, route_match *m);

/* Call fn for every route in registration order. */
void router_each(const router *rt, void (*fn)(const route *r, void *ctx), void *ctx);

/* Split a raw request path (no query string; starts with '/') into percent-decoded segments.
 * "/" has zero segments; "/a/" has two ("a" and ""). Returns 0; NX_EINVAL (answer 400) for a bad
 * escape, an encoded NUL or control character, invalid UTF-8, or a "." / ".." segment;
 * NX_ENOTFOUND (answer 404) for a path over ROUTER_MAX_PATH bytes or ROUTER_MAX_SEGS segments;
 * NX_ENOMEM when the arena is full. */
int http_path_split(const char *raw, arena *a, path_segs *out);

#endif
