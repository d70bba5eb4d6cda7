/* library_http.c — the library's routes: parse the request, call the rules (library.c,
 * library_loans.c), answer. GET /drift/{code} is public: a small Chinese HTML page for the phone
 * that scanned a drifting copy's QR code, or JSON when the client asks for application/json. */
#include "modules/library/library.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "modules/app_http.h"

/* The list filters of the query string; 0 or the error the query helpers filled. */
/* The status vocabulary of the copies (their list and their labels). */
#define COPY_STATUSES "available on_loan on_hold_shelf lost withdrawn"

/* statuses: the list's status vocabulary (its route row's .arg), read with the kit's rule
 * (app_query_enum); NULL: the list has no status filter of its own. */
static int read_filter(http_req *r, nx_app *app, const char *statuses, library_filter *f)
{
    int rc;
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->kind = http_query(r, "kind");
    f->status = http_query(r, "status");
    f->state = http_query(r, "state");
    f->audience = http_query(r, "audience");
    if ((statuses && (rc = app_query_enum(r, "status", statuses, &f->status))) ||
        (rc = app_query_page(r, app, &f->limit, &f->after, &f->community_id)) ||
        (rc = app_query_id(r, "book_id", &f->book_id)))
        return rc;
    return app_query_id(r, "resident_id", &f->resident_id);
}

APP_FILTERED_LIST(list, library_filter, read_filter)

/* ---- books and copies ---- */

/* ---- loans, returns, holds ---- */

/* POST /api/v1/returns {"code"}: return by scanning the label; answers the closed loan. */
static int return_by_code(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id = 0;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = library_loan_return_code(app, &who, body, &id, http_err(r))) ||
        (rc = library_loan_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* ---- categories, readers, donations, figures ---- */

static int labels(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    library_filter f;
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc;
    if ((rc = read_filter(r, app, COPY_STATUSES, &f)) || (rc = library_labels(app, &who, &f, &pdf, &len, http_err(r))))
        return rc;
    http_add_header(r, "Content-Disposition", "inline; filename=\"book-labels.pdf\"");
    rc = http_reply_bytes(r, 200, "application/pdf", pdf, len);
    free(pdf);
    return rc;
}

/* ---- the public drift page ---- */

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int drift(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    json_t *out = NULL;
    nx_err e = {0};
    int rc = library_drift(app, http_param(r, "code"), &out, &e);
    const char *accept = http_header(r, "Accept");
    if (accept && strstr(accept, "application/json")) {
        if (rc) {
            *http_err(r) = e;
            return rc;
        }
        return http_reply_json(r, 200, out);
    }
    strbuf b;
    app_html_begin(&b, 65536, "图书漂流",
                   "body{font:18px/1.7 sans-serif;margin:1.5em;max-width:36em;color:#222}h1{font-size:1.5em;margin:.2em 0}"
                   ".muted{color:#666}ol{padding-left:1.4em}li{margin:.4em 0}");
    if (rc) {
        strbuf_puts(&b, "<h1>图书漂流</h1><p>");
        strbuf_put_html(&b, rc == NX_ENOTFOUND ? "没有找到这本漂流书，请核对标签上的编号。" : "暂时无法查询，请稍后再试。");
        strbuf_puts(&b, "</p>");
    } else {
        strbuf_puts(&b, "<p class=\"muted\">邻里图书馆 · 图书漂流</p><h1>《");
        strbuf_put_html(&b, str_of(out, "title"));
        strbuf_puts(&b, "》</h1>");
        if (*str_of(out, "author")) {
            strbuf_puts(&b, "<p>作者：");
            strbuf_put_html(&b, str_of(out, "author"));
            strbuf_puts(&b, "</p>");
        }
        strbuf_puts(&b, "<p>标签号：");
        strbuf_put_html(&b, str_of(out, "code"));
        strbuf_puts(&b, "　状态：");
        strbuf_put_html(&b, str_of(out, "status_label"));
        strbuf_puts(&b, "</p>");
        if (*str_of(out, "donated_by")) {
            strbuf_puts(&b, "<p>由 ");
            strbuf_put_html(&b, str_of(out, "donated_by"));
            strbuf_puts(&b, " 捐赠");
            if (*str_of(out, "donated_on")) {
                strbuf_puts(&b, "（");
                strbuf_put_html(&b, str_of(out, "donated_on"));
                strbuf_puts(&b, "）");
            }
            strbuf_puts(&b, "</p>");
        }
        json_t *j = json_object_get(out, "journey");
        strbuf_printf(&b, "<h2>漂流旅程（共 %lld 站）</h2>", (long long)json_integer_value(json_object_get(out, "stops")));
        if (json_array_size(j) == 0)
            strbuf_puts(&b, "<p>这本书还在等待第一位读者。</p>");
        else
            strbuf_puts(&b, "<ol>");
        size_t i;
        json_t *stop;
        json_array_foreach(j, i, stop) {
            strbuf_puts(&b, "<li>");
            strbuf_put_html(&b, str_of(stop, "holder"));
            strbuf_puts(&b, "　");
            strbuf_put_html(&b, str_of(stop, "from"));
            strbuf_puts(&b, " 至 ");
            strbuf_put_html(&b, *str_of(stop, "to") ? str_of(stop, "to") : "今（正在阅读）");
            strbuf_puts(&b, "</li>");
        }
        if (json_array_size(j))
            strbuf_puts(&b, "</ol>");
        strbuf_puts(&b, "<p class=\"muted\">读完请把书放回任一漂流书屋，让它继续旅行。为保护隐私，这里只显示读者的姓。</p>");
    }
    json_decref(out);
    return app_reply_html(r, rc == 0 ? 200 : rc == NX_ENOTFOUND ? 404 : http_status_of(rc), &b);
}

static const app_route routes[] = {
    {"GET", "/api/v1/books", .with = list, .fn = APP_FN(library_book_list)},
    {"POST", "/api/v1/books", .create = library_book_create, .get = library_book_get},
    {"GET", "/api/v1/books/{id}", .get = library_book_get},
    {"PATCH", "/api/v1/books/{id}", .change = library_book_update, .get = library_book_get},
    {"GET", "/api/v1/book-copies", .with = list, .fn = APP_FN(library_copy_list), .arg = COPY_STATUSES},
    {"POST", "/api/v1/book-copies", .create = library_copy_create, .get = library_copy_get},
    {"GET", "/api/v1/book-copies/{id}", .get = library_copy_get},
    {"PATCH", "/api/v1/book-copies/{id}", .change = library_copy_update, .get = library_copy_get},
    {"GET", "/api/v1/loans", .with = list, .fn = APP_FN(library_loan_list)},
    {"POST", "/api/v1/loans", .create = library_loan_create, .get = library_loan_get},
    {"GET", "/api/v1/loans/{id}", .get = library_loan_get},
    {"POST", "/api/v1/loans/{id}/return", .change = library_loan_return, .get = library_loan_get},
    {"POST", "/api/v1/loans/{id}/renew", .change = library_loan_renew, .get = library_loan_get},
    {"POST", "/api/v1/returns", .h = return_by_code},
    {"GET", "/api/v1/holds", .with = list, .fn = APP_FN(library_hold_list)},
    {"POST", "/api/v1/holds", .create = library_hold_create, .get = library_hold_get},
    {"GET", "/api/v1/holds/{id}", .get = library_hold_get},
    {"POST", "/api/v1/holds/{id}/cancel", .change = library_hold_cancel, .get = library_hold_get},
    {"GET", "/api/v1/library/categories", .community = library_category_list},
    {"POST", "/api/v1/library/categories", .create = library_category_create, .get = library_category_get},
    {"GET", "/api/v1/library/categories/{id}", .get = library_category_get},
    {"PATCH", "/api/v1/library/categories/{id}", .change = library_category_update, .get = library_category_get},
    {"GET", "/api/v1/library/readers/{id}", .get = library_reader_get},
    {"PATCH", "/api/v1/library/readers/{id}", .change = library_reader_update, .get = library_reader_get},
    {"GET", "/api/v1/library/donations", .with = list, .fn = APP_FN(library_donation_list)},
    {"POST", "/api/v1/library/donations", .create = library_donation_create, .get = library_donation_get},
    {"GET", "/api/v1/library/donations/{id}", .get = library_donation_get},
    {"GET", "/api/v1/library/stats", .community_now = library_stats},
    {"GET", "/api/v1/library/labels", .h = labels},
    {"GET", "/drift/{code}", .h = drift, .flags = HTTP_PUBLIC},
};

int library_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
