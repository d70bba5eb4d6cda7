/* messages_http.c — the message module's routes: the inbox of every account and its live stream,
 * preferences, notices and their receipts, briefings with sign-up, withdrawal, cancellation and attendance, the rules,
 * the delivery log and its monthly cost. One table (modules/app_http.h): each row names the rules
 * function it calls; the handlers below are only what is this module's own — its lists with their
 * query filters, an attachment upload, the printable notice and the attendance sheet. Handlers run
 * on HTTP workers. */
#include "modules/app_http.h"
#include "modules/messages/messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The paging of every list of the module: cursor (an opaque id, at most 20 characters) and limit. */
static int paging(http_req *r, nx_app *app, const char **cursor, int *limit)
{
    *cursor = http_query(r, "cursor");
    if (*cursor && strlen(*cursor) > 20)
        return nx_fail(http_err(r), NX_EINVAL, "cursor", "分页游标无效");
    return app_query_limit(r, app, limit);
}

/* A list paged by its cursor (notices, briefings): .fn is its rules function. */
typedef int (*list_fn)(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out, nx_err *e);
static int list(http_req *r, nx_app *app, const app_route *t)
{
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *cursor;
    json_t *out;
    if ((rc = paging(r, app, &cursor, &limit)) || (rc = ((list_fn)t->fn)(app, &who, cursor, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int list_inbox(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *cursor;
    bool unread = false;
    json_t *out;
    if ((rc = app_query_bool(r, "unread", &unread)) || (rc = paging(r, app, &cursor, &limit)) ||
        (rc = messages_inbox_list(app, &who, cursor, limit, unread, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* Read all: a POST without a body (none is parsed, so none is required). */
static int read_all(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    int64_t n = 0;
    int rc = messages_inbox_read_all(ctx, &who, &n, http_err(r));
    return rc ? rc : http_reply_json(r, 200, json_pack("{s:I}", "read", (json_int_t)n));
}

static int list_deliveries(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *cursor;
    json_t *out;
    if ((rc = paging(r, app, &cursor, &limit)) ||
        (rc = messages_deliveries_list(app, &who, http_query(r, "status"), http_query(r, "channel"),
                                       http_query(r, "kind"), cursor, limit, &out, http_err(r))))
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

/* An attachment: its label from ?name=, the raw body the file. */
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
    return app_http_get_file(r, ctx, messages_notice_file_read);
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

static int briefing_export(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    char path[256];
    int64_t id, rows = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    rc = messages_briefing_export(app, &who, id, path, &rows, http_err(r));
    return app_reply_export(r, rc, path, "briefing-attendance.xlsx", "宣讲签到表.xlsx", rows);
}

/* The inbox stream: every account opens its own; the hub passes an account only the events tagged
 * with it (the feed tags MESSAGES_EV_INBOX_CHANGED with the payload's account_id, and the hub itself
 * keeps an account-tagged event from every other account). */
static bool inbox_filter(const http_auth *who, const http_sse_scope *sc, void *ctx)
{
    (void)ctx;
    return who && who->user_id && sc->account_id == who->user_id;
}

static int inbox_stream(http_req *r, void *ctx)
{
    const http_auth *a = http_auth_of(r);
    if (!a || !a->user_id)
        return nx_fail(http_err(r), NX_EAUTH, "", "请先登录");
    return http_reply_sse(r, ctx, http_sse_last_id(ctx));
}

/* Tencent's voice call status push: public (the provider signs nothing), authenticated by the
 * operator's secret token in the query string (the access log drops the query, so the token is not
 * logged), limited per client address. Answers the provider's documented {"result": 0, "errmsg":
 * "OK"}, or a problem (4xx) and nothing changed. */
static int voice_callback(http_req *r, void *ctx)
{
    size_t len = 0;
    const void *body = http_body(r, &len);
    int rc = messages_voice_callback(ctx, http_client_ip(r), http_query(r, "token"), body, len, http_err(r));
    if (rc == NX_ELOCKED)
        http_add_header(r, "Retry-After", "60");
    return rc ? rc : http_reply_json(r, 200, json_pack("{s:i, s:s}", "result", 0, "errmsg", "OK"));
}

static const app_route routes[] = {
    {"GET", "/api/v1/notifications", .h = list_inbox},
    {"GET", "/api/v1/notifications/unread-count", .read = messages_inbox_count},
    {"POST", "/api/v1/notifications/read-all", .h = read_all},
    {"POST", "/api/v1/notifications/{id}/read", .del = messages_inbox_read},
    {"GET", "/api/v1/message-preferences", .read = messages_prefs_get},
    {"PUT", "/api/v1/message-preferences", .put = messages_prefs_put, .read = messages_prefs_get},
    {"GET", "/api/v1/message-rules", .read = messages_rules_list},
    {"PUT", "/api/v1/message-rules", .put = messages_rules_put, .read = messages_rules_list},
    {"GET", "/api/v1/message-deliveries", .h = list_deliveries},
    {"GET", "/api/v1/message-costs", .h = message_costs},
    {"GET", "/api/v1/notices", .with = list, .fn = APP_FN(messages_notice_list)},
    {"POST", "/api/v1/notices", .create = messages_notice_create, .get = messages_notice_get},
    {"GET", "/api/v1/notices/{id}", .get = messages_notice_get},
    {"GET", "/api/v1/notices/{id}/receipts", .get = messages_notice_receipts},
    {"POST", "/api/v1/notices/{id}/attachments", .h = notice_attach},
    {"GET", "/api/v1/notices/{id}/notice.pdf", .h = notice_pdf},
    {"GET", "/api/v1/notice-attachments/{id}", .h = notice_file},
    {"GET", "/api/v1/briefings", .with = list, .fn = APP_FN(messages_briefing_list)},
    {"POST", "/api/v1/briefings", .create = messages_briefing_create, .get = messages_briefing_get},
    {"GET", "/api/v1/briefings/{id}", .get = messages_briefing_get},
    {"PATCH", "/api/v1/briefings/{id}", .change = messages_briefing_update, .get = messages_briefing_get},
    {"POST", "/api/v1/briefings/{id}/signups", .change = messages_briefing_signup, .get = messages_briefing_get},
    {"GET", "/api/v1/briefings/{id}/signups", .get = messages_briefing_signups},
    {"POST", "/api/v1/briefings/{id}/withdraw", .change = messages_briefing_withdraw, .get = messages_briefing_get},
    {"POST", "/api/v1/briefings/{id}/cancel", .change = messages_briefing_cancel, .get = messages_briefing_get},
    {"POST", "/api/v1/briefings/{id}/attendance", .change = messages_briefing_attend, .get = messages_briefing_get},
    {"GET", "/api/v1/briefings/{id}/attendance.xlsx", .h = briefing_export},
};

int messages_routes(http_server *srv, nx_app *app)
{
    http_sse_hub *hub = NULL;
    if (http_sse_hub_new(srv, MESSAGES_SSE_HUB, 20, inbox_filter, NULL, &hub) == 0)
        http_route(srv, "GET", "/api/v1/notifications/stream", inbox_stream, hub, 0);
    http_route(srv, "POST", "/api/v1/message-callbacks/tencent-voice", voice_callback, app, HTTP_PUBLIC);
    return APP_ROUTES(srv, app, routes);
}
