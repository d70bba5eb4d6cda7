/* messages_http.c — the message module's routes: the inbox of every account, preferences, notices
 * and their receipts, briefings with sign-up and attendance, the rules and the delivery log. JSON
 * in, the rules files, JSON out; each handler parses the request and calls one rules function.
 * Handlers run on HTTP workers. */
#include "modules/app_http.h"
#include "modules/messages/messages.h"
#include "store/upload.h"

#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <unistd.h>

static int cursor_ok(http_req *r, const char **cursor)
{
    *cursor = http_query(r, "cursor");
    if (*cursor && strlen(*cursor) > 20)
        return nx_fail(http_err(r), NX_EINVAL, "cursor", "分页游标无效");
    return 0;
}

static int list_inbox(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *cursor, *unread = http_query(r, "unread");
    bool only = false;
    if (unread && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0)
        return nx_fail(http_err(r), NX_EINVAL, "unread", "unread 应为 true 或 false");
    only = unread && strcmp(unread, "true") == 0;
    json_t *out;
    if ((rc = cursor_ok(r, &cursor)) ||
        (rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &limit)) ||
        (rc = messages_inbox_list(app, &who, cursor, limit, only, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int inbox_count(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = messages_inbox_count(ctx, &who, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

static int read_one(http_req *r, void *ctx)
{
    return app_http_delete(r, ctx, messages_inbox_read);
}

static int read_all(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    int64_t n = 0;
    int rc = messages_inbox_read_all(ctx, &who, &n, http_err(r));
    return rc ? rc : http_reply_json(r, 200, json_pack("{s:I}", "read", (json_int_t)n));
}

static int get_prefs(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = messages_prefs_get(ctx, &who, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

static int put_prefs(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    json_t *in, *out;
    int rc = http_json_body(r, &in);
    if (rc)
        return rc;
    rc = messages_prefs_put(ctx, &who, in, http_err(r));
    if (rc || (rc = messages_prefs_get(ctx, &who, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int list_rules(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = messages_rules_list(ctx, &who, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

static int put_rules(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    if (!perm_has(&who, RIGHT_MESSAGE_ADMIN))
        return nx_fail(http_err(r), NX_EPERM, "", "无权修改消息规则");
    json_t *in, *out;
    int rc = http_json_body(r, &in);
    if (rc)
        return rc;
    rc = messages_rules_put(ctx, &who, in, http_err(r));
    if (rc || (rc = messages_rules_list(ctx, &who, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int list_deliveries(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *cursor;
    json_t *out;
    if ((rc = cursor_ok(r, &cursor)) ||
        (rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &limit)) ||
        (rc = messages_deliveries_list(app, &who, http_query(r, "status"), http_query(r, "channel"),
                                       http_query(r, "kind"), cursor, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

typedef int (*list_fn)(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out, nx_err *e);

/* A list paged by its cursor: the cursor and the limit of the query, then fn. */
static int list_page(http_req *r, nx_app *app, list_fn fn)
{
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *cursor;
    json_t *out;
    if ((rc = cursor_ok(r, &cursor)) ||
        (rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &limit)) ||
        (rc = fn(app, &who, cursor, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int message_costs(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = messages_costs(ctx, &who, http_query(r, "month"), &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

static int list_notices(http_req *r, void *ctx)
{
    return list_page(r, ctx, messages_notice_list);
}

static int create_notice(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    if (!perm_has(&who, RIGHT_NOTICE_WRITE))
        return nx_fail(http_err(r), NX_EPERM, "", "无权发布通知");
    return app_http_create(r, ctx, messages_notice_create, messages_notice_get, "/api/v1/notices");
}

static int get_notice(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, messages_notice_get);
}

static int notice_receipts(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, messages_notice_receipts);
}

static int notice_attach(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, file;
    size_t len;
    int rc = http_param_id(r, "id", &id);
    if (rc)
        return rc;
    const void *body = http_body(r, &len);
    if ((rc = messages_notice_attach(app, &who, id, http_query(r, "name"), body, len, &file, http_err(r))))
        return rc;
    char url[64];
    snprintf(url, sizeof url, "/api/v1/notice-attachments/%lld", (long long)file);
    http_add_header(r, "Location", url);
    return http_reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)file, "url", url));
}

static int notice_file(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    unsigned char *data;
    char ctype[32], label[128];
    size_t size;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) ||
        (rc = messages_notice_file_read(app, &who, id, &data, &size, ctype, label, http_err(r))))
        return rc;
    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    rc = http_reply_bytes(r, 200, ctype, data, size);
    upload_free(data, size);
    return rc;
}

static int notice_pdf(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = messages_notice_pdf(app, &who, id, &pdf, &len, http_err(r))))
        return rc;
    rc = http_reply_bytes(r, 200, "application/pdf", pdf, len);
    free(pdf);
    return rc;
}

static int list_briefings(http_req *r, void *ctx)
{
    return list_page(r, ctx, messages_briefing_list);
}

static int create_briefing(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, messages_briefing_create, messages_briefing_get, "/api/v1/briefings");
}

static int get_briefing(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, messages_briefing_get);
}

static int briefing_signup(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, messages_briefing_signup, messages_briefing_get);
}

static int briefing_attend(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, messages_briefing_attend, messages_briefing_get);
}

static int briefing_signups(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, messages_briefing_signups);
}

static int briefing_export(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    char path[256];
    int64_t id, rows = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    if ((rc = messages_briefing_export(app, &who, id, path, &rows, http_err(r)))) {
        unlink(path);
        return rc;
    }
    return http_reply_export(r, path, NULL, "briefing-attendance.xlsx", "宣讲签到表.xlsx", rows);
}

int messages_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/notifications", list_inbox, app, 0);
    http_route(srv, "GET", "/api/v1/notifications/unread-count", inbox_count, app, 0);
    http_route(srv, "POST", "/api/v1/notifications/read-all", read_all, app, 0);
    http_route(srv, "POST", "/api/v1/notifications/{id}/read", read_one, app, 0);
    http_route(srv, "GET", "/api/v1/message-preferences", get_prefs, app, 0);
    http_route(srv, "PUT", "/api/v1/message-preferences", put_prefs, app, 0);
    http_route(srv, "GET", "/api/v1/message-rules", list_rules, app, 0);
    http_route(srv, "PUT", "/api/v1/message-rules", put_rules, app, 0);
    http_route(srv, "GET", "/api/v1/message-deliveries", list_deliveries, app, 0);
    http_route(srv, "GET", "/api/v1/message-costs", message_costs, app, 0);
    http_route(srv, "GET", "/api/v1/notices", list_notices, app, 0);
    http_route(srv, "POST", "/api/v1/notices", create_notice, app, 0);
    http_route(srv, "GET", "/api/v1/notices/{id}", get_notice, app, 0);
    http_route(srv, "GET", "/api/v1/notices/{id}/receipts", notice_receipts, app, 0);
    http_route(srv, "POST", "/api/v1/notices/{id}/attachments", notice_attach, app, 0);
    http_route(srv, "GET", "/api/v1/notices/{id}/notice.pdf", notice_pdf, app, 0);
    http_route(srv, "GET", "/api/v1/notice-attachments/{id}", notice_file, app, 0);
    http_route(srv, "GET", "/api/v1/briefings", list_briefings, app, 0);
    http_route(srv, "POST", "/api/v1/briefings", create_briefing, app, 0);
    http_route(srv, "GET", "/api/v1/briefings/{id}", get_briefing, app, 0);
    http_route(srv, "POST", "/api/v1/briefings/{id}/signups", briefing_signup, app, 0);
    http_route(srv, "GET", "/api/v1/briefings/{id}/signups", briefing_signups, app, 0);
    http_route(srv, "POST", "/api/v1/briefings/{id}/attendance", briefing_attend, app, 0);
    http_route(srv, "GET", "/api/v1/briefings/{id}/attendance.xlsx", briefing_export, app, 0);
    return 0;
}
