/* app_http.h — the HTTP glue every module's <name>_http.c shares: who is calling, as a principal
 * the rules files understand. Only <name>_http.c files and cli/ include this header; rules files
 * take a principal and validated JSON and never see a request. */
#ifndef NX_MODULES_APP_HTTP_H
#define NX_MODULES_APP_HTTP_H

#include "base/clock.h"
#include "http/http.h"
#include "modules/app.h"

/* The principal of an authenticated request (strings borrowed from the request). */
static inline nx_principal app_principal(http_req *r)
{
    const http_auth *a = http_auth_of(r);
    nx_principal p = {0};
    if (a) {
        p.user_id = a->user_id;
        p.username = a->username;
        p.role = a->role;
        p.scope = a->scope;
        p.street_id = a->street_id;
        p.community_id = a->community_id;
        p.grid_id = a->grid_id;
        p.resident_id = a->resident_id;
    }
    p.ip = http_client_ip(r);
    return p;
}

/* ---- handlers of the usual shapes ----
 * Most routes of a module are one rules call between parsing and answering: a <name>_http.c handler
 * calls one of these with the rules functions of its resource. Each takes the request, the app and
 * the rules, and returns what a handler returns (0 with the response queued, or a negative NX_E*
 * code with http_err(r) filled by the rules). */
typedef int (*app_create_fn)(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
typedef int (*app_get_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
typedef int (*app_change_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
typedef int (*app_delete_fn)(nx_app *app, const nx_principal *who, int64_t id, nx_err *e);
typedef int (*app_read_fn)(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
typedef int (*app_put_fn)(nx_app *app, const nx_principal *who, json_t *in, nx_err *e);
typedef int (*app_act_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t *in, json_t **out, nx_err *e);
typedef int (*app_post_fn)(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e);
typedef int (*app_spawn_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *made, nx_err *e);
typedef int (*app_community_fn)(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
typedef int (*app_action_fn)(nx_app *app, const nx_principal *who, int64_t id, const char *action, json_t *in,
                             nx_err *e);
typedef int (*app_community_now_fn)(nx_app *app, const nx_principal *who, int64_t community_id, int64_t now_ms,
                                    json_t **out, nx_err *e);

/* The .create and .change rules of a resource whose rules take an input struct parsed from the body
 * (parse(body, creating, &in, e)): defines the static functions create_fn (parse, then
 * create(app, who, &in, id, e)) and change_fn (parse, then update(app, who, id, &in, e)) for its
 * route rows. */
#define APP_PARSED_RULES(create_fn, change_fn, type, parse, create, update)                                  \
    static int create_fn(nx_app *app, const nx_principal *who, json_t *body, int64_t *id, nx_err *e)         \
    {                                                                                                        \
        type in;                                                                                             \
        int rc = parse(body, true, &in, e);                                                                  \
        return rc ? rc : create(app, who, &in, id, e);                                                       \
    }                                                                                                        \
    static int change_fn(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)          \
    {                                                                                                        \
        type in;                                                                                             \
        int rc = parse(body, false, &in, e);                                                                 \
        return rc ? rc : update(app, who, id, &in, e);                                                       \
    }

/* POST <prefix>: create(body), then 201 with get(id) and "Location: <prefix>/<id>". */
int app_http_create(http_req *r, nx_app *app, app_create_fn create, app_get_fn get, const char *prefix);
/* GET …/{id}: 200 with get(id). */
int app_http_get(http_req *r, nx_app *app, app_get_fn get);
/* PATCH or POST …/{id}[/action]: change(id, body), then 200 with get(id). */
int app_http_change(http_req *r, nx_app *app, app_change_fn change, app_get_fn get);
/* DELETE …/{id}: del(id), then 204. */
int app_http_delete(http_req *r, nx_app *app, app_delete_fn del);
/* Answer a stored file that is nobody else's business (a photo of a home, an applicant's material):
 * 200 with ctype, Cache-Control: no-store and X-Content-Type-Options: nosniff. Takes data (an
 * upload_read buffer) and releases it with upload_free whatever happens. */
int app_reply_file(http_req *r, const char *ctype, unsigned char *data, size_t size);

/* The end of an export handler, after the exporter wrote path (from http_export_path): rc is the
 * exporter's result; non-zero removes path and returns rc (http_err(r) filled by the exporter), 0
 * answers the file as http_reply_export(r, path, NULL, ascii, utf8, rows) (rows < 0: no count). */
int app_reply_export(http_req *r, int rc, const char *path, const char *ascii, const char *utf8, int64_t rows);

/* ---- a public page ----
 * The pages a phone shows after scanning a printed code (a drifting book's label, a document's
 * verification code): b is started (capped at cap) with the zh-CN doctype, the viewport, the title
 * (escaped) and the style css, and the body opened; the module writes the body (text through
 * strbuf_put_html); app_reply_html closes body and html, answers b as text/html; charset=utf-8 with
 * status and releases b, whatever happens. */
void app_html_begin(strbuf *b, size_t cap, const char *title, const char *css);
int app_reply_html(http_req *r, int status, strbuf *b);

/* The request's JSON body as http_json_body, or *body NULL (and 0) when the request has no body: for
 * actions whose body is optional (a note, a seed). */
int app_json_body_opt(http_req *r, json_t **body);

/* ---- a list's query string ----
 * Every list reads the same paging and scope parameters; a module's filter reader calls these and
 * reads its own filters after. Each returns 0, or NX_EINVAL with http_err(r) naming the parameter
 * (a handler returns it as it is). */
/* limit (app->cfg's page_default when absent, at most page_max), cursor (the last id of the previous
 * page: ≥ 1, 0 when absent) and community_id (≥ 1, 0 when absent), read in that order. */
int app_query_page(http_req *r, nx_app *app, int *limit, int64_t *after, int64_t *community_id);
/* One optional id of the query string: *out 0 when absent, else an integer ≥ 1. */
int app_query_id(http_req *r, const char *name, int64_t *out);
/* limit alone: app->cfg's page_default when absent, else an integer in [1, page_max]. */
int app_query_limit(http_req *r, nx_app *app, int *limit);
/* One optional yes/no of the query string (true/false, yes/no, 1/0, on/off: str_to_bool): *out left
 * as it is (the caller's default) when absent; anything else is NX_EINVAL "<name> 应为 true 或 false". */
int app_query_bool(http_req *r, const char *name, bool *out);

/* One optional word of a list's vocabulary (a status, a state): words is the vocabulary, its words
 * separated by single spaces ("open cancelled"). *out is NULL when the parameter is absent (no
 * filter), else the value, which is one of words. Any other value — the empty text included: the
 * web app leaves an unset filter out of the query string (api/http.js withQuery), so `status=` is a
 * malformed request, not "all" — is NX_EINVAL naming the parameter: "<name> 应为 a、b 或 c". The one
 * rule of every list's enumerated filter (docs/module-template.md §5). */
int app_query_enum(http_req *r, const char *name, const char *words, const char **out);
/* One optional date of the query string: *text NULL when absent (d untouched, the caller's default);
 * else it must be a calendar date YYYY-MM-DD (date_parse), written to *d with *text the value, or it is
 * NX_EINVAL naming the parameter: "日期格式应为 YYYY-MM-DD". text or d may be NULL when not wanted. */
int app_query_date(http_req *r, const char *name, const char **text, nx_date *d);

/* ---- a module's route table ----
 * A <name>_http.c lists its routes in one static const table and registers it with app_routes;
 * a row names the rules it calls and the shape picks the handler, so a module writes a handler
 * only for what is its own. The shape is the first member set, in this order:
 *   .h       a handler of the module's own (ctx: the app), e.g. a photo upload or a PDF;
 *   .with    a module helper of one shape (its list with its own filter …) called with the row:
 *            .fn is the rules function, cast with APP_FN and cast back to its real type by the
 *            helper, .arg a constant of the row (an action's name …);
 *   .create  POST: create(body), then 201 with get(id) and Location: <pattern>/<id>;
 *   .change  change({id}, body), then .status (0 = 200) with get({id}); without .get, 204;
 *   .action  action({id}, .arg, body or NULL: the body is optional), then 200 with get({id}) (an
 *            action named by the path's last segment: approve, cancel, check-in …);
 *   .act     act({id}, body) answers its own object: .status (0 = 200) with it;
 *   .post    post(body) answers its own object: .status (0 = 200) with it;
 *   .spawn   spawn({id}, body, &made) makes a new object from {id} (a replacement card, a reversing
 *            sale, a payment of a dues row), then 201 with get(made); with .arg, the new object is a
 *            child of {id} (a nomination, a transfer): 201 with get({id}) and made under the key .arg;
 *   .del     del({id}), then 204 (a DELETE, or a POST action without a body);
 *   .get     GET: 200 with get({id});
 *   .put     PUT without an id: put(body), then 200 with read() (a module's settings);
 *   .read    GET without an id: 200 with read() (a module's settings, its statistics);
 *   .community  GET [?community_id=N]: 200 with community(N, or 0 when absent) (statistics of the
 *            caller's scope or of one community, a community's rules);
 *   .community_now  the same with the clock's now (clock_now_ms) after the community: statistics
 *            that count days or overdue items.
 * .body_optional: a .change row's rules take NULL when the request has no body (else a body is
 * required). .flags are http_route's (HTTP_PUBLIC, HTTP_UPLOAD). The table must outlive the server (make it
 * static const). */
typedef void (*app_fn)(void);
#define APP_FN(f) ((app_fn)(f))

/* The .with helper of a module's filtered lists: defines the static function name, which reads the
 * module's filter with read(r, app, row's .arg, &f) (type f; .arg is the list's status vocabulary or
 * NULL) and answers 200 with the row's .fn, a rules function
 * int fn(nx_app *, const nx_principal *, const type *, json_t **out, nx_err *). A module's route rows
 * then say {"GET", "/api/v1/…", .with = name, .fn = APP_FN(fn), .arg = "…"}. */
#define APP_FILTERED_LIST(name, type, read)                                                                   \
    static int name(http_req *r, nx_app *app, const app_route *t)                                             \
    {                                                                                                         \
        typedef int (*list_fn)(nx_app *, const nx_principal *, const type *, json_t **, nx_err *);           \
        nx_principal who = app_principal(r);                                                                  \
        type f = {0};                                                                                         \
        json_t *out;                                                                                          \
        int rc;                                                                                               \
        if ((rc = read(r, app, t->arg, &f)) || (rc = ((list_fn)t->fn)(app, &who, &f, &out, http_err(r))))     \
            return rc;                                                                                        \
        return http_reply_json(r, 200, out);                                                                  \
    }

typedef struct app_route app_route;
struct app_route {
    const char *method, *pattern;
    http_handler h;
    int (*with)(http_req *r, nx_app *app, const app_route *row);
    app_fn fn;
    const char *arg;
    app_create_fn create;
    app_change_fn change;
    app_action_fn action;
    app_act_fn act;
    app_post_fn post;
    app_spawn_fn spawn;
    app_delete_fn del;
    app_get_fn get;
    app_put_fn put;
    app_read_fn read;
    app_community_fn community;
    app_community_now_fn community_now;
    int status;
    bool body_optional;
    unsigned flags;
};

/* Register n rows of t (borrowed; must outlive srv). Returns 0; a malformed row is http_route's
 * error (logged, and the server refuses to start). */
int app_routes(http_server *srv, nx_app *app, const app_route *t, size_t n);
#define APP_ROUTES(srv, app, table) app_routes((srv), (app), (table), sizeof(table) / sizeof((table)[0]))

/* Files in the upload store (store/upload.h). put(id, raw body) stores a file for object {id} and
 * gives its id; get(id) opens one (bytes released with upload_free, ctype its sniffed type). */
typedef int (*app_put_file_fn)(nx_app *app, const nx_principal *who, int64_t id, const void *data, size_t len,
                               int64_t *file, nx_err *e);
typedef int (*app_get_file_fn)(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *n,
                               char ctype[32], nx_err *e);
/* POST …/{id}/<files> (a route registered with HTTP_UPLOAD): put, then 201 {"id", "url": "<prefix>/<file>"}
 * with that Location. */
int app_http_put_file(http_req *r, nx_app *app, app_put_file_fn put, const char *prefix);
/* GET <prefix>/{id}: the file's bytes, not cached, never sniffed by the browser. */
int app_http_get_file(http_req *r, nx_app *app, app_get_file_fn get);

#endif
