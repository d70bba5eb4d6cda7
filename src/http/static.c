/* static.c — the web app's files (web/dist) for GET and HEAD outside /api/.
 *
 * The path arrives split and percent-decoded by router.c, which has already refused "." and ".."
 * segments, encoded NULs, control characters and invalid UTF-8 (400). Here a segment that decodes
 * to a slash or backslash is refused as well, a segment starting with '.' (.env, .git) is not
 * served, the file is resolved with realpath (symlinks
 * included) and must lie under the web root's own realpath, and only regular files are served —
 * whatever the client sends, nothing outside the root is opened.
 *
 * Answers:
 *  - a file: 200 with the descriptor handed to libmicrohttpd (sendfile), Content-Type by
 *    extension, ETag W/"<size>-<mtime in ns, hex>" (If-None-Match → 304), Cache-Control
 *    "public, max-age=31536000, immutable" under /assets/ (Vite's hashed names) and "no-cache"
 *    elsewhere (index.html must be revalidated to pick up a new build);
 *  - "<file>.gz" next to the file, when the client accepts gzip: that file with Content-Encoding:
 *    gzip (its own ETag, since its size and time differ); every static answer carries
 *    Vary: Accept-Encoding;
 *  - no such file and no extension in the last segment ("/residents/12"): index.html, so the
 *    single-page app's router can take over;
 *  - no such file with an extension: 404 in plain text (a browser fetching a stale asset does not
 *    want JSON).
 * Every file answer carries the app's Content-Security-Policy (CSP below).
 * Threads: runs on the request's worker; no shared state besides the read-only root path. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/internal.h"

/* The web app's Content-Security-Policy. Scripts only from this origin: the built app has no
 * inline script (Vite emits <script type="module" src>), and neither eval nor new Function (vue-i18n
 * 11 compiles messages without them). Inline styles stay allowed: Vue writes large static parts of
 * templates with innerHTML, style attributes included, and Element Plus positions popups with them.
 * Images may be data: or blob: URLs (QR codes, previews of uploads) and, when a map tile server is
 * configured, come from exactly that server's origin (http__csp_new); requests and event streams
 * only to this origin; no plugins, no <base>, no framing, forms post only here. */
#define CSP_HEAD "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:"
#define CSP_TAIL                                                                                            \
    "; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; " \
    "form-action 'self'"

char *http__csp_new(const char *img_origin, bool *bad)
{
    *bad = false;
    const char *o = img_origin ? img_origin : "";
    if (*o) {
        const char *host = str_starts_with(o, "https://") ? o + 8 : str_starts_with(o, "http://") ? o + 7 : NULL;
        *bad = host == NULL || *host == '\0' || strlen(o) > 300;
        for (const char *c = host; !*bad && *c; c++)
            *bad = !(isalnum((unsigned char)*c) || strchr(".-:[]", *c));
        if (*bad)
            return NULL;
    }
    size_t n = sizeof CSP_HEAD + sizeof CSP_TAIL + strlen(o) + 2;
    char *csp = malloc(n);
    if (csp)
        snprintf(csp, n, "%s%s%s%s", CSP_HEAD, *o ? " " : "", o, CSP_TAIL);
    return csp;
}
#define CC_IMMUTABLE  "public, max-age=31536000, immutable"
#define CC_REVALIDATE "no-cache"

static const struct {
    const char *ext, *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"map", "application/json"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
};

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot) {
        for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
            if (strcasecmp(dot + 1, content_types[i].ext) == 0)
                return content_types[i].type;
    }
    return "application/octet-stream";
}

/* True when Accept-Encoding admits gzip (by name or "*") with a q above zero. */
static bool accepts_gzip(const char *ae)
{
    if (ae == NULL)
        return false;
    const char *p = ae;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t item = strcspn(p, ",");
        size_t name = strcspn(p, ";, \t");
        if (name > item)
            name = item;
        bool is_gzip = (name == 4 && strncasecmp(p, "gzip", 4) == 0) || (name == 1 && p[0] == '*');
        if (is_gzip) {
            const char *q = p + name;
            const char *end = p + item;
            bool zero = false;
            while (q < end) {
                const char *qp = strstr(q, "q=");
                if (qp == NULL || qp >= end)
                    break;
                qp += 2;
                zero = qp < end && qp[0] == '0';
                for (const char *c = qp + 1; zero && c < end && *c != ' ' && *c != ';'; c++)
                    if (*c != '.' && *c != '0')
                        zero = false;
                break;
            }
            if (!zero)
                return true;
        }
        p += item;
    }
    return false;
}

/* Weak comparison of If-None-Match against our etag (W/"…"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (inm == NULL)
        return false;
    const char *opaque = etag + 2;
    size_t olen = strlen(opaque);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t item = strcspn(p, ",");
        size_t len = item;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 1 && p[0] == '*')
            return true;
        const char *t = p;
        if (len >= 2 && t[0] == 'W' && t[1] == '/') {
            t += 2;
            len -= 2;
        }
        if (len == olen && memcmp(t, opaque, olen) == 0)
            return true;
        p += item;
    }
    return false;
}

/* Open path if it resolves to a regular file under root. Returns the fd or -1. */
static int open_under_root(const char *root, const char *path, struct stat *st)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return -1;
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) != 0 || real[rl] != '/')
        return -1;
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int reply_plain_404(http_req *r)
{
    static const char body[] = "404 文件不存在\n";
    return http_reply_bytes(r, 404, "text/plain; charset=utf-8", body, sizeof body - 1);
}

/* Serve rel (relative to the root, no leading slash). Returns 0 when answered, 1 when there is no
 * such file, or a negative code. */
static int serve_file(http_req *r, const char *rel, const char *cache_control)
{
    const char *root = r->srv->web_root;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    if (n < 0 || (size_t)n + 4 > sizeof path)
        return 1;
    struct stat st;
    int fd = -1;
    bool gz = false;
    if (accepts_gzip(http_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
        char gzpath[PATH_MAX + 4];
        snprintf(gzpath, sizeof gzpath, "%s.gz", path);
        fd = open_under_root(root, gzpath, &st);
        gz = fd >= 0;
    }
    if (fd < 0)
        fd = open_under_root(root, path, &st);
    if (fd < 0)
        return 1;
    char etag[64];
    unsigned long long mtime_ns =
        (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec;
    snprintf(etag, sizeof etag, "W/\"%llu-%llx\"", (unsigned long long)st.st_size, mtime_ns);

    struct MHD_Response *resp;
    int status;
    uint64_t bytes;
    if (etag_matches(http_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), etag)) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        status = 304;
        bytes = 0;
    } else {
        resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
        if (resp == NULL)
            close(fd);
        status = 200;
        bytes = (uint64_t)st.st_size;
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type_of(rel));
            if (gz)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
        }
    }
    if (resp == NULL)
        return NX_ENOMEM;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    MHD_add_response_header(resp, "Content-Security-Policy", r->srv->csp);
    return http__queue(r, status, resp, bytes, true);
}

int http__serve_static(http_req *r)
{
    const path_segs *p = &r->segs;
    char rel[PATH_MAX];
    size_t used = 0;
    rel[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        const char *s = p->seg[i];
        if (strchr(s, '/') || strchr(s, '\\'))
            return http_reply_problem(r, 400, "bad-request", "请求参数有误", "请求路径无效", NULL);
        if (s[0] == '.') /* dot-files (.env, .git) are never served */
            return reply_plain_404(r);
        size_t len = strlen(s);
        if (used + len + 2 + sizeof "index.html" >= sizeof rel)
            return reply_plain_404(r);
        if (i) {
            rel[used++] = '/';
        }
        memcpy(rel + used, s, len + 1);
        used += len;
    }
    const char *last = p->n ? p->seg[p->n - 1] : "";
    if (last[0] == '\0') /* "/" or "/dir/": the directory's index */
        memcpy(rel + used, "index.html", sizeof "index.html");
    bool immutable = p->n > 1 && strcmp(p->seg[0], "assets") == 0;
    int rc = serve_file(r, rel, immutable ? CC_IMMUTABLE : CC_REVALIDATE);
    if (rc != 1)
        return rc;
    const char *dot = strrchr(last, '.');
    bool has_ext = dot != NULL && dot != last && dot[1] != '\0';
    if (has_ext)
        return reply_plain_404(r);
    rc = serve_file(r, "index.html", CC_REVALIDATE);
    return rc == 1 ? reply_plain_404(r) : rc;
}
