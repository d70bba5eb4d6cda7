/* services_http.c — the HTTP face of the service hall: strict JSON in, the rules of catalogue.c,
 * applications.c, review.c, allowance.c and documents.c, JSON (or a PDF, a file, an .xlsx) out.
 *
 * Unknown fields, wrong types and over-long strings are refused with the field named before any rule
 * runs. A submission that fails its checks answers 422 problem+json with every problem listed in
 * "errors" ({field, message}), so the form can mark them all at once. Uploads are raw bodies
 * (HTTP_UPLOAD: capped by max_upload at the server; each material has its own smaller cap) with the
 * material key and file name in the query string. GET /verify/{code} is public: JSON, or a small
 * Chinese HTML page when the browser asks for HTML (a phone scanning the QR code). */
#include "modules/services/services.h"

#include "base/str.h"
#include "modules/app_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- catalogue ---- */

static int list_items(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool all = false, with = false;
    int64_t resident = 0;
    json_t *out;
    int rc;
    if ((rc = app_query_bool(r, "all", &all)) || (rc = app_query_bool(r, "eligibility", &with)) ||
        (rc = app_query_id(r, "resident_id", &resident)) ||
        (rc = services_items_list(app, &who, all, &out, http_err(r))))
        return rc;
    /* ?eligibility=true: each item says whether the resident (the caller's own, or resident_id for
     * staff) may apply, and why not, before any form is opened */
    if (with && (rc = services_eligibility_check(app, &who, 0, resident, json_object_get(out, "items"), NULL,
                                                 http_err(r)))) {
        json_decref(out);
        return rc;
    }
    return http_reply_json(r, 200, out);
}

/* GET /service-items/{id}/eligibility[?resident_id=]: may this resident apply, and if not, why. */
static int item_eligibility(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, resident = 0;
    bool present;
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) ||
        (rc = http_query_int(r, "resident_id", 1, INT64_MAX, &present, &resident)) ||
        (rc = services_eligibility_check(app, &who, id, resident, NULL, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* The rules of the shared handler shapes (app_http.h): an item is created (id 0) or changed by
 * services_item_save. */
static int item_create(nx_app *app, const nx_principal *who, json_t *body, int64_t *id, nx_err *e)
{
    return services_item_save(app, who, 0, body, id, e);
}

static int item_change(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    return services_item_save(app, who, id, body, NULL, e);
}

/* ---- applications ---- */

/* 422 with every problem, the first also as the problem's field. */
static int reply_problems(http_req *r, json_t *problems)
{
    json_t *first = json_array_get(problems, 0);
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)http_request_id(r));
    /* request_id as in every other problem answer (the Problem schema requires it) */
    const char *title = "申请材料不完整或不符合条件";
    const char *detail = json_string_value(json_object_get(first, "message"));
    json_t *body = json_pack("{s:s, s:s, s:i, s:s, s:O, s:s}", "type", "https://nuanxin.dev/problems/validation", "title",
                             title, "status", 422, "detail", detail ? detail : title, "errors", problems, "request_id", id);
    json_t *field = json_object_get(first, "field");
    if (body && json_is_string(field))
        json_object_set(body, "field", field);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    json_decref(problems);
    if (text == NULL)
        return nx_fail(http_err(r), NX_ENOMEM, "", "内存不足");
    int rc = http_reply_bytes(r, 422, "application/problem+json", text, strlen(text));
    free(text);
    return rc;
}

/* The body of a new application: item, resident (optional) and form (an object, optional). */
static int app_create(nx_app *app, const nx_principal *who, json_t *body, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"item_id", "resident_id", "form", NULL};
    int64_t item = 0, resident = 0;
    int rc;
    if ((rc = json_only(body, allowed, e)))
        return rc;
    if ((rc = json_get_int(body, "item_id", true, 1, INT64_MAX, &item, e)) < 0 ||
        (rc = json_get_int(body, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0)
        return rc;
    json_t *form = json_object_get(body, "form");
    if (form && !json_is_null(form) && !json_is_object(form))
        return nx_fail(e, NX_EINVAL, "form", "form 应为对象");
    return services_app_create(app, who, item, resident, json_is_object(form) ? form : NULL, id, e);
}

/* A changed form, with the version the editor started from (optional). */
static int app_change(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    static const char *const allowed[] = {"form", "version", NULL};
    int64_t version = 0;
    int rc;
    if ((rc = json_only(body, allowed, e)))
        return rc;
    if ((rc = json_get_version(body, &version, e)) < 0)
        return rc;
    json_t *form = json_object_get(body, "form");
    if (!json_is_object(form))
        return nx_fail(e, NX_EINVAL, "form", "form 应为对象");
    return services_app_update(app, who, id, form, version, e);
}

/* An action endpoint's body: empty or a JSON object with only the allowed keys. */
static int action_body(http_req *r, const char *const *allowed, json_t **body)
{
    int rc = app_json_body_opt(r, body);
    return rc || !*body ? rc : json_only(*body, allowed, http_err(r));
}

static int submit_app(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    static const char *const allowed[] = {NULL};
    json_t *body, *out, *problems = NULL;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = action_body(r, allowed, &body)))
        return rc;
    rc = services_app_submit(app, &who, id, &problems, http_err(r));
    if (rc == NX_EINVAL && problems)
        return reply_problems(r, problems);
    json_decref(problems);
    if (rc || (rc = services_app_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int withdraw_app(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    static const char *const allowed[] = {"note", NULL};
    json_t *body, *out;
    const char *note = NULL;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = action_body(r, allowed, &body)))
        return rc;
    if (body && (rc = json_get_str(body, "note", false, 200, &note, http_err(r))) < 0)
        return rc;
    if ((rc = services_app_withdraw(app, &who, id, note, http_err(r))) ||
        (rc = services_app_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* A reviewer's decision on the application's current step: an action and a note. */
static int app_review(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    static const char *const allowed[] = {"action", "note", NULL};
    const char *action = NULL, *note = NULL;
    int rc;
    if ((rc = json_only(body, allowed, e)))
        return rc;
    if ((rc = json_get_str(body, "action", true, 20, &action, e)) < 0 ||
        (rc = json_get_str(body, "note", false, JSON_TEXT_MULTILINE + 244, &note, e)) < 0)
        return rc;
    return services_review(app, who, id, action, note, e);
}

static int list_apps(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    services_query q = {0};
    bool present;
    int rc;
    if ((rc = http_query_int(r, "item_id", 1, INT64_MAX, &present, &q.item_id)) ||
        (rc = http_query_int(r, "resident_id", 1, INT64_MAX, &present, &q.resident_id)) ||
        (rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &q.community_id)) ||
        (rc = app_query_limit(r, app, &q.limit)) ||
        (rc = app_query_enum(r, "status", "draft in_review returned approved rejected withdrawn", &q.status)))
        return rc;
    q.step = http_query(r, "step");
    q.cursor = http_query(r, "cursor");
    if (q.step && strlen(q.step) > 40)
        return nx_fail(http_err(r), NX_EINVAL, "step", "环节代码过长");
    json_t *out;
    if ((rc = app_query_bool(r, "queue", &q.queue)) || (rc = app_query_bool(r, "overdue", &q.overdue)) ||
        (rc = services_app_list(app, &who, &q, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* ---- materials ---- */

static int upload_material(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, mid;
    int rc;
    if ((rc = http_param_id(r, "id", &id)))
        return rc;
    size_t len;
    const void *data = http_body(r, &len);
    const char *key = http_query(r, "key"), *filename = http_query(r, "filename");
    if ((rc = services_material_add(app, &who, id, key, filename, data, len, &mid, http_err(r))))
        return rc;
    json_t *out;
    if ((rc = services_app_get(app, &who, id, &out, http_err(r))))
        return rc;
    json_object_set_new(out, "material_id", json_integer(mid));
    return http_reply_json(r, 201, out);
}

static int get_material(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, mid;
    int rc;
    unsigned char *data;
    size_t size;
    char ct[64];
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_param_id(r, "mid", &mid)) ||
        (rc = services_material_read(app, &who, id, mid, &data, &size, ct, sizeof ct, http_err(r))))
        return rc;
    http_add_header(r, "Content-Disposition", "attachment");
    return app_reply_file(r, ct, data, size);
}

static int delete_material(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, mid;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_param_id(r, "mid", &mid)) ||
        (rc = services_material_remove(app, &who, id, mid, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

/* ---- documents ---- */

static int get_document(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)))
        return rc;
    char filename[128];
    unsigned char *pdf;
    size_t len;
    if ((rc = services_document_pdf(app, &who, id, http_param(r, "kind"), &pdf, &len, filename, sizeof filename,
                                    http_err(r))))
        return rc;
    char disp[200];
    snprintf(disp, sizeof disp, "inline; filename=\"%s\"", filename);
    http_add_header(r, "Content-Disposition", disp);
    rc = http_reply_bytes(r, 200, "application/pdf", pdf, len);
    free(pdf);
    return rc;
}

static int verify(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    json_t *out = NULL;
    nx_err e = {0};
    int rc = services_verify(app, http_param(r, "code"), &out, &e);
    const char *accept = http_header(r, "Accept");
    bool html = accept && strstr(accept, "text/html") != NULL;
    if (!html) {
        if (rc) {
            *http_err(r) = e;
            return rc;
        }
        return http_reply_json(r, 200, out);
    }
    strbuf b;
    /* A page a phone's browser shows after scanning the printed code: one card, the verdict in
     * colour, the facts as a two-column list, the day in Chinese (never an ISO timestamp). */
    app_html_begin(&b, 16384, "文书核验 · 暖心社区",
                   "*{box-sizing:border-box}body{margin:0;background:#f3f5f8;color:#1f2937;font:17px/1.6 "
                   "-apple-system,\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif}"
                   "main{max-width:32em;margin:0 auto;padding:24px 16px}.brand{color:#64748b;font-size:15px;"
                   "margin-bottom:12px}.card{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.08);"
                   "overflow:hidden}.verdict{margin:0;padding:20px;color:#fff;font-size:21px;font-weight:600}"
                   ".ok .verdict{background:#16a34a}.bad .verdict{background:#dc2626}dl{margin:0;padding:8px 20px 16px;"
                   "display:grid;grid-template-columns:6em 1fr;gap:10px 12px}dt{color:#64748b}dd{margin:0;"
                   "overflow-wrap:anywhere}p{margin:0;padding:16px 20px}.foot{color:#94a3b8;font-size:14px;"
                   "margin-top:16px}");
    strbuf_puts(&b, "<main><div class=\"brand\">暖心社区 · 文书核验</div>");
    if (rc) {
        strbuf_puts(&b, "<div class=\"card bad\" data-verdict=\"bad\"><h1 class=\"verdict\">核验失败</h1><p>");
        strbuf_put_html(&b, e.msg);
        strbuf_puts(&b, "</p></div>");
    } else {
        bool valid = json_is_true(json_object_get(out, "valid"));
        strbuf_printf(&b, "<div class=\"card %s\" data-verdict=\"%s\"><h1 class=\"verdict\">", valid ? "ok" : "bad",
                      valid ? "ok" : "bad");
        strbuf_put_html(&b, json_string_value(json_object_get(out, "message")));
        strbuf_puts(&b, "</h1><dl>");
        static const char *const keys[][2] = {{"title", "文书"},         {"serial", "编号"},   {"community", "出具单位"},
                                              {"holder", "持有人"},      {"item", "办理事项"}, {"issued_on", "出具日期"},
                                              {"application_status_label", "申请状态"}};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            strbuf_printf(&b, "<dt>%s</dt><dd>", keys[i][1]);
            strbuf_put_html(&b, json_string_value(json_object_get(out, keys[i][0])));
            strbuf_puts(&b, "</dd>");
        }
        strbuf_puts(&b, "</dl></div>");
    }
    strbuf_puts(&b, "<div class=\"foot\">本页由暖心社区平台根据文书上的核验码生成；持有人姓名已部分隐藏。</div></main>");
    json_decref(out);
    return app_reply_html(r, rc ? 404 : 200, &b);
}

/* ---- sweep, statistics ---- */

/* The table's reads that count from now (statistics, the allowance's lists): fn is a now_fn. */
typedef int (*now_fn)(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e);
static int at_now(http_req *r, nx_app *app, const app_route *t)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = ((now_fn)t->fn)(app, &who, clock_now_ms(), &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

static int sweep(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    static const char *const allowed[] = {NULL};
    json_t *body, *out;
    int rc;
    if ((rc = action_body(r, allowed, &body)) || (rc = services_sweep(app, &who, clock_now_ms(), &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* ---- allowance ---- */

static int recipients(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int limit, rc;
    const char *status;
    if ((rc = app_query_enum(r, "status", "active stopped", &status)))
        return rc;
    const char *cursor = http_query(r, "cursor");
    if (cursor && strlen(cursor) > 20)
        return nx_fail(http_err(r), NX_EINVAL, "cursor", "分页游标无效");
    json_t *out;
    if ((rc = app_query_limit(r, app, &limit)) ||
        (rc = services_allowance_recipients(app, &who, status, cursor, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int roster(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    const char *month = http_query(r, "month");
    int y, m;
    if (month == NULL || strlen(month) != 7 || month[4] != '-')
        return nx_fail(http_err(r), NX_EINVAL, "month", "请指定月份（YYYY-MM）");
    if (services_month_parse(month, &y, &m))
        return nx_fail(http_err(r), NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    char path[256];
    int rc = http_export_path(path, sizeof path, http_err(r));
    if (rc)
        return rc;
    int64_t rows = 0;
    rc = services_allowance_roster(app, &who, y, m, path, &rows, http_err(r));
    char ascii[40], utf8[60];
    snprintf(ascii, sizeof ascii, "allowance-%s.xlsx", month);
    snprintf(utf8, sizeof utf8, "高龄津贴-%s.xlsx", month);
    return app_reply_export(r, rc, path, ascii, utf8, rows);
}

static const app_route routes[] = {
    {"GET", "/api/v1/service-items", .h = list_items},
    {"POST", "/api/v1/service-items", .create = item_create, .get = services_item_get},
    {"GET", "/api/v1/service-items/{id}", .get = services_item_get},
    {"GET", "/api/v1/service-items/{id}/eligibility", .h = item_eligibility},
    {"PATCH", "/api/v1/service-items/{id}", .change = item_change, .get = services_item_get},
    {"GET", "/api/v1/service-applications", .h = list_apps},
    {"POST", "/api/v1/service-applications", .create = app_create, .get = services_app_get},
    {"GET", "/api/v1/service-applications/{id}", .get = services_app_get},
    {"PATCH", "/api/v1/service-applications/{id}", .change = app_change, .get = services_app_get},
    {"POST", "/api/v1/service-applications/{id}/submit", .h = submit_app},
    {"POST", "/api/v1/service-applications/{id}/withdraw", .h = withdraw_app},
    {"POST", "/api/v1/service-applications/{id}/review", .change = app_review, .get = services_app_get},
    {"POST", "/api/v1/service-applications/{id}/materials", .h = upload_material, .flags = HTTP_UPLOAD},
    {"GET", "/api/v1/service-applications/{id}/materials/{mid}", .h = get_material},
    {"DELETE", "/api/v1/service-applications/{id}/materials/{mid}", .h = delete_material},
    {"GET", "/api/v1/service-applications/{id}/documents/{kind}", .h = get_document},
    {"POST", "/api/v1/services/sweep", .h = sweep},
    {"GET", "/api/v1/stats/services", .with = at_now, .fn = APP_FN(services_stats)},
    {"GET", "/api/v1/allowance/tiers", .read = services_allowance_tiers},
    {"PUT", "/api/v1/allowance/tiers", .put = services_allowance_tiers_save, .read = services_allowance_tiers},
    {"GET", "/api/v1/allowance/coming-of-age", .with = at_now, .fn = APP_FN(services_coming_of_age)},
    {"GET", "/api/v1/allowance/missing", .with = at_now, .fn = APP_FN(services_allowance_missing)},
    {"GET", "/api/v1/allowance/recipients", .h = recipients},
    {"GET", "/api/v1/allowance/roster", .h = roster},
    {"GET", "/verify/{code}", .h = verify, .flags = HTTP_PUBLIC},
};

int services_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
