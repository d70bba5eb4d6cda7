/* app_http.c — the handler shapes every module's <name>_http.c shares (see app_http.h): create with
 * a Location, get by id, change by id and answer the new state, delete by id; and app_routes, which
 * registers a module's route table with one handler (table_row) for every row of those shapes. The {id} path
 * parameter is parsed by http_param_id (a positive integer, else 400); the body by http_json_body
 * (a JSON object under the body cap, else 400/413); everything else is the rules' to check. Stateless
 * and thread-safe: each call lives on its request. */
#include "modules/app_http.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/str.h"
#include "store/upload.h"

int app_http_create(http_req *r, nx_app *app, app_create_fn create, app_get_fn get, const char *prefix)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = create(app, &who, body, &id, http_err(r))) ||
        (rc = get(app, &who, id, &out, http_err(r))))
        return rc;
    char loc[128];
    snprintf(loc, sizeof loc, "%s/%lld", prefix, (long long)id);
    http_add_header(r, "Location", loc);
    return http_reply_json(r, 201, out);
}

int app_http_get(http_req *r, nx_app *app, app_get_fn get)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

void app_html_begin(strbuf *b, size_t cap, const char *title, const char *css)
{
    strbuf_init(b, cap);
    strbuf_puts(b, "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                   "content=\"width=device-width,initial-scale=1\"><title>");
    strbuf_put_html(b, title);
    strbuf_puts(b, "</title><style>");
    strbuf_puts(b, css);
    strbuf_puts(b, "</style></head><body>");
}

int app_reply_html(http_req *r, int status, strbuf *b)
{
    strbuf_puts(b, "</body></html>");
    int rc = http_reply_bytes(r, status, "text/html; charset=utf-8", b->data, b->len);
    strbuf_cleanup(b);
    return rc;
}

int app_query_page(http_req *r, nx_app *app, int *limit, int64_t *after, int64_t *community_id)
{
    int rc;
    if ((rc = app_query_limit(r, app, limit)) || (rc = app_query_id(r, "cursor", after)))
        return rc;
    return app_query_id(r, "community_id", community_id);
}

int app_query_id(http_req *r, const char *name, int64_t *out)
{
    bool present;
    int rc = http_query_int(r, name, 1, INT64_MAX, &present, out);
    if (rc == 0 && !present)
        *out = 0;
    return rc;
}

int app_query_limit(http_req *r, nx_app *app, int *limit)
{
    return http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, limit);
}

int app_query_bool(http_req *r, const char *name, bool *out)
{
    const char *v = http_query(r, name);
    if (v && str_to_bool(v, out))
        return nx_fail(http_err(r), NX_EINVAL, name, "%s 应为 true 或 false", name);
    return 0;
}

int app_query_enum(http_req *r, const char *name, const char *words, const char **out)
{
    const char *v = http_query(r, name);
    *out = NULL;
    if (v == NULL)
        return 0;
    size_t n = strlen(v), count = 0;
    for (const char *w = words; *w; count++) {
        size_t k = strcspn(w, " ");
        if (n > 0 && k == n && strncmp(w, v, n) == 0) {
            *out = v;
            return 0;
        }
        w += k;
        w += strspn(w, " ");
    }
    /* "a、b 或 c" from "a b c" */
    char list[256] = "";
    size_t len = 0, i = 0;
    for (const char *w = words; *w && len < sizeof list; i++) {
        size_t k = strcspn(w, " ");
        int m = snprintf(list + len, sizeof list - len, "%s%.*s", i == 0 ? "" : i + 1 == count ? " 或 " : "、", (int)k,
                         w);
        len += m > 0 ? (size_t)m : 0;
        w += k;
        w += strspn(w, " ");
    }
    return nx_fail(http_err(r), NX_EINVAL, name, "%s 应为 %s", name, list);
}

int app_query_date(http_req *r, const char *name, const char **text, nx_date *d)
{
    const char *v = http_query(r, name);
    nx_date parsed;
    if (text)
        *text = v;
    if (v == NULL)
        return 0;
    if (date_parse(v, &parsed))
        return nx_fail(http_err(r), NX_EINVAL, name, "日期格式应为 YYYY-MM-DD");
    if (d)
        *d = parsed;
    return 0;
}

/* change({id}, body), then status with get({id}). */
static int change_status(http_req *r, nx_app *app, app_change_fn change, app_get_fn get, int status)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = change(app, &who, id, body, http_err(r))) || (rc = get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, status, out);
}

int app_http_change(http_req *r, nx_app *app, app_change_fn change, app_get_fn get)
{
    return change_status(r, app, change, get, 200);
}

int app_http_delete(http_req *r, nx_app *app, app_delete_fn del)
{
    nx_principal who = app_principal(r);
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = del(app, &who, id, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

int app_reply_file(http_req *r, const char *ctype, unsigned char *data, size_t size)
{
    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    int rc = http_reply_bytes(r, 200, ctype, data, size);
    upload_free(data, size);
    return rc;
}

int app_json_body_opt(http_req *r, json_t **body)
{
    size_t n = 0;
    *body = NULL;
    http_body(r, &n);
    return n ? http_json_body(r, body) : 0;
}

/* change({id}, body, optional for a .body_optional row), then 204. */
static int change_only(http_req *r, nx_app *app, const app_route *t)
{
    nx_principal who = app_principal(r);
    json_t *body;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) ||
        (rc = t->body_optional ? app_json_body_opt(r, &body) : http_json_body(r, &body)) ||
        (rc = t->change(app, &who, id, body, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

/* action({id}, .arg, body or NULL), then 200 with get({id}). */
static int action_row(http_req *r, nx_app *app, const app_route *t)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = app_json_body_opt(r, &body)) ||
        (rc = t->action(app, &who, id, t->arg, body, http_err(r))) || (rc = t->get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int read_row(http_req *r, nx_app *app, app_read_fn read)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = read(app, &who, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

/* fn(community) or now_fn(community, now), then 200. */
static int community_row(http_req *r, nx_app *app, app_community_fn fn, app_community_now_fn now_fn)
{
    nx_principal who = app_principal(r);
    int64_t community = 0;
    json_t *out;
    int rc;
    if ((rc = app_query_id(r, "community_id", &community)) ||
        (rc = fn ? fn(app, &who, community, &out, http_err(r))
                 : now_fn(app, &who, community, clock_now_ms(), &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* put(body), then 200 with read(). */
static int put_row(http_req *r, nx_app *app, app_put_fn put, app_read_fn read)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = put(app, &who, body, http_err(r))) ||
        (rc = read(app, &who, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* act({id}, body) or post(body), then status with the rules' own answer. */
static int act_row(http_req *r, nx_app *app, const app_route *t)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id = 0;
    int rc;
    if ((t->act && (rc = http_param_id(r, "id", &id))) || (rc = http_json_body(r, &body)) ||
        (rc = t->act ? t->act(app, &who, id, body, &out, http_err(r)) : t->post(app, &who, body, &out, http_err(r))))
        return rc;
    return http_reply_json(r, t->status ? t->status : 200, out);
}

/* spawn({id}, body, &made), then 201 with get(made), or with .arg get({id}) and made under .arg. */
static int spawn_row(http_req *r, nx_app *app, const app_route *t)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id, made = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = t->spawn(app, &who, id, body, &made, http_err(r))) ||
        (rc = t->get(app, &who, t->arg ? id : made, &out, http_err(r))))
        return rc;
    if (t->arg)
        json_object_set_new(out, t->arg, json_integer(made));
    return http_reply_json(r, 201, out);
}

/* The handler of every table row but .h ones: the row is the route's arg. */
static int table_row(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    const app_route *t = http_route_arg(r);
    if (t->with)
        return t->with(r, app, t);
    if (t->create)
        return app_http_create(r, app, t->create, t->get, t->pattern);
    if (t->change && !t->get)
        return change_only(r, app, t);
    if (t->change)
        return change_status(r, app, t->change, t->get, t->status ? t->status : 200);
    if (t->action)
        return action_row(r, app, t);
    if (t->act || t->post)
        return act_row(r, app, t);
    if (t->spawn)
        return spawn_row(r, app, t);
    if (t->del)
        return app_http_delete(r, app, t->del);
    if (t->put)
        return put_row(r, app, t->put, t->read);
    if (t->read)
        return read_row(r, app, t->read);
    if (t->community || t->community_now)
        return community_row(r, app, t->community, t->community_now);
    return app_http_get(r, app, t->get);
}

int app_routes(http_server *srv, nx_app *app, const app_route *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].h)
            http_route(srv, t[i].method, t[i].pattern, t[i].h, app, t[i].flags);
        else
            http_route_with(srv, t[i].method, t[i].pattern, table_row, app, &t[i], t[i].flags);
    }
    return 0;
}

int app_reply_export(http_req *r, int rc, const char *path, const char *ascii, const char *utf8, int64_t rows)
{
    if (rc) {
        unlink(path);
        return rc;
    }
    return http_reply_export(r, path, NULL, ascii, utf8, rows);
}

int app_http_put_file(http_req *r, nx_app *app, app_put_file_fn put, const char *prefix)
{
    nx_principal who = app_principal(r);
    int64_t id, file;
    size_t len;
    int rc = http_param_id(r, "id", &id);
    if (rc)
        return rc;
    const void *body = http_body(r, &len);
    if ((rc = put(app, &who, id, body, len, &file, http_err(r))))
        return rc;
    char url[160];
    snprintf(url, sizeof url, "%s/%lld", prefix, (long long)file);
    http_add_header(r, "Location", url);
    return http_reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)file, "url", url));
}

int app_http_get_file(http_req *r, nx_app *app, app_get_file_fn get)
{
    nx_principal who = app_principal(r);
    int64_t id;
    unsigned char *data;
    char ctype[32];
    size_t size;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = get(app, &who, id, &data, &size, ctype, http_err(r))))
        return rc;
    return app_reply_file(r, ctype, data, size);
}
