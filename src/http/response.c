/* response.c — building and queueing responses.
 *
 * Every response, whatever built it (a handler's http_reply_*, a problem, a static file), leaves
 * through http__queue, which adds the headers collected with http_add_header, the security headers
 * (X-Content-Type-Options: nosniff, Referrer-Policy: same-origin, X-Frame-Options: DENY, and
 * Strict-Transport-Security when the request came over TLS through a trusted proxy) and,
 * unless the response is a static file or the handler chose its own, Cache-Control: no-store — so
 * nothing from /api/ lingers in a shared browser cache.
 *
 * Invariants: at most one response per request (a second reply is a bug: logged, refused with
 * NX_EINTERNAL, the first answer stands). Replies are only legal while the server runs the handler
 * on the final access-handler call; the server itself makes sure of that for its own answers.
 * Ownership: http_reply_json steals the json_t, http_reply_json_text the strbuf's text (handed to
 * libmicrohttpd without a copy, freed when sent), http_reply_fd takes the descriptor, all even on
 * failure, so a handler never has to clean up after a reply. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/log.h"
#include "http/internal.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>

#define MAX_EXTRA_HEADERS 32

static bool header_text_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return false;
    return true;
}

void http_add_header(http_req *r, const char *name, const char *value)
{
    if (name == NULL || value == NULL || name[0] == '\0' || !header_text_ok(name) || !header_text_ok(value) ||
        strchr(name, ':') || r->nhdrs >= MAX_EXTRA_HEADERS) {
        nx_log(LOG_ERROR, "http.bad_header (refused: empty, control character or too many)");
        return;
    }
    struct http_hdr *h = arena_alloc(r->arena, sizeof *h);
    char *n = arena_strdup(r->arena, name), *v = arena_strdup(r->arena, value);
    if (h == NULL || n == NULL || v == NULL)
        return;
    h->name = n;
    h->value = v;
    h->next = NULL;
    struct http_hdr **tail = &r->hdrs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
    r->nhdrs++;
}

int http__queue(http_req *r, int status, struct MHD_Response *resp, uint64_t bytes, bool is_static)
{
    if (r->replied) {
        MHD_destroy_response(resp);
        nx_log(LOG_ERROR, "http.double_reply status=%d (a bug: only the first answer counts)", status);
        return NX_EINTERNAL;
    }
    bool has_cc = false;
    for (const struct http_hdr *h = r->hdrs; h; h = h->next) {
        MHD_add_response_header(resp, h->name, h->value);
        if (strcasecmp(h->name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0)
            has_cc = true;
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    /* Over TLS (as a trusted proxy says): browsers are to come back over TLS only, for a year. */
    if (r->via_tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (!is_static && !has_cc)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = http__queue_ours(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES) {
        nx_log(LOG_ERROR, "http.queue_failed status=%d", status);
        return NX_EINTERNAL;
    }
    r->replied = true;
    r->status = status;
    r->bytes = bytes;
    return 0;
}

struct MHD_Response *http__response_text(char *text, size_t len, const char *content_type)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, text, free);
    if (resp == NULL) {
        free(text);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return resp;
}

/* A JSON reply that could not be produced: a bug, answered as a 500 problem. */
static int unencodable(http_req *r)
{
    nx_err e;
    nx_fail(&e, NX_EINTERNAL, NULL, "响应无法编码为 JSON");
    return http_reply_error(r, &e);
}

int http_reply_json(http_req *r, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        nx_log(LOG_ERROR, "http.json_dump_failed");
        return unencodable(r);
    }
    size_t len = strlen(text);
    struct MHD_Response *resp = http__response_text(text, len, "application/json");
    return resp ? http__queue(r, status, resp, len, false) : NX_ENOMEM;
}

int http_reply_json_text(http_req *r, int status, strbuf *body)
{
    size_t len = body->len;
    char *text = strbuf_steal(body);
    if (text == NULL || len == 0) {
        free(text);
        nx_log(LOG_ERROR, "http.empty_json_text (a bug: nothing was written)");
        return unencodable(r);
    }
    struct MHD_Response *resp = http__response_text(text, len, "application/json");
    return resp ? http__queue(r, status, resp, len, false) : NX_ENOMEM;
}

int http_reply_bytes(http_req *r, int status, const char *content_type, const void *data, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return NX_ENOMEM;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return http__queue(r, status, resp, len, false);
}

int http_reply_fd(http_req *r, int status, const char *content_type, int fd, uint64_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
    if (resp == NULL) {
        close(fd);
        return NX_ENOMEM;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return http__queue(r, status, resp, size, false);
}

int http_reply_status(http_req *r, int status)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return NX_ENOMEM;
    return http__queue(r, status, resp, 0, false);
}

/* ---- exports ---- */

int http_export_path(char *path, size_t cap, nx_err *e)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/nuanxin-export-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return nx_fail(e, NX_EIO, "", "无法创建导出文件");
    close(fd);
    return 0;
}

int http_reply_export(http_req *r, const char *path, const char *content_type, const char *ascii_name,
                      const char *utf8_name, int64_t rows)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return nx_fail(http_err(r), NX_EIO, "", "导出文件无法读取");
    }
    char enc[400];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)utf8_name; *p && k + 4 < sizeof enc; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
            *p == '-' || *p == '_')
            enc[k++] = (char)*p;
        else
            k += (size_t)snprintf(enc + k, sizeof enc - k, "%%%02X", *p);
    }
    enc[k] = '\0';
    char disp[600];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii_name, enc);
    http_add_header(r, "Content-Disposition", disp);
    if (rows >= 0) {
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long)rows);
        http_add_header(r, "X-Row-Count", n);
    }
    return http_reply_fd(r, 200,
                         content_type ? content_type
                                      : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         fd, (uint64_t)st.st_size);
}
