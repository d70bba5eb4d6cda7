/* canteen_http.c — the canteen's routes under /api/v1/canteen: parse the request, call the rules
 * (canteen_*.c), write the answer. Every route is authenticated; rights and scope are the rules'.
 *
 * POST /sales answers 201 with the sale when it was recorded now and 200 with the same sale when its
 * client_ref was already known, so a counter can tell a retry from a new sale without a second
 * request. The subsidy report answers JSON, or with format=xlsx the Excel claim as an attachment. */
#include "modules/canteen/canteen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "modules/app_http.h"

/* The list filters every list route shares; statuses is the list's status vocabulary (its route row's
 * .arg), read with the kit's rule (app_query_enum); NULL: the list has no status filter of its own. */
static int read_filter(http_req *r, nx_app *app, const char *statuses, canteen_filter *f)
{
    memset(f, 0, sizeof *f);
    int rc;
    if ((rc = app_query_limit(r, app, &f->limit)) || (rc = app_query_id(r, "community_id", &f->community_id)) ||
        (rc = app_query_id(r, "resident_id", &f->resident_id)))
        return rc;
    f->cursor = http_query(r, "cursor");
    f->q = http_query(r, "q");
    f->meal = http_query(r, "meal");
    f->status = http_query(r, "status");
    if (statuses && (rc = app_query_enum(r, "status", statuses, &f->status)))
        return rc;
    if ((rc = app_query_bool(r, "delivery", &f->delivery))) /* a yes/no; anything else is 422 */
        return rc;
    if ((rc = app_query_date(r, "date", &f->day, NULL)) || (rc = app_query_date(r, "from", &f->from, NULL)))
        return rc;
    return app_query_date(r, "to", &f->to, NULL);
}

APP_FILTERED_LIST(list_with, canteen_filter, read_filter)

static int item_patch(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = canteen_item_update(app, &who, id, body, http_err(r))))
        return rc;
    return http_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "sold_out",
                                             json_is_true(json_object_get(body, "sold_out"))));
}

static int rules_put(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t community = 0;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = canteen_rules_put(app, &who, body, http_err(r))))
        return rc;
    json_t *c = json_object_get(body, "community_id");
    community = json_is_integer(c) ? json_integer_value(c) : 0;
    if ((rc = canteen_rules_get(app, &who, community, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int quote(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool present;
    int64_t resident = 0, item = 0;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "resident_id", 1, INT64_MAX, &present, &resident)) ||
        (rc = http_query_int(r, "menu_item_id", 1, INT64_MAX, &present, &item)))
        return rc;
    if (!present)
        return nx_fail(http_err(r), NX_EINVAL, "menu_item_id", "请指定菜单项（menu_item_id）");
    if ((rc = canteen_quote(app, &who, resident, item, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int cards_list(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    const char *code = http_query(r, "code");
    if (code) {
        nx_principal who = app_principal(r);
        json_t *card;
        int rc = canteen_card_by_code(app, &who, code, &card, http_err(r));
        if (rc)
            return rc;
        return http_reply_json(r, 200, json_pack("{s:[o]}", "items", card));
    }
    static const app_route cards = {.fn = APP_FN(canteen_card_list), .arg = "active replaced cancelled"};
    return list_with(r, ctx, &cards);
}

static int money(http_req *r, nx_app *app, bool refund)
{
    nx_principal who = app_principal(r);
    int64_t id, txn = 0;
    json_t *body, *card;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = canteen_card_topup(app, &who, id, body, refund, &txn, http_err(r))) ||
        (rc = canteen_card_get(app, &who, id, &card, http_err(r))))
        return rc;
    json_t *out = json_pack("{s:I, s:o}", "txn_id", (json_int_t)txn, "card", card);
    return http_reply_json(r, 201, out);
}

static int card_topup(http_req *r, void *ctx)
{
    return money(r, ctx, false);
}

static int card_refund(http_req *r, void *ctx)
{
    return money(r, ctx, true);
}

static int card_txns(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    canteen_filter f;
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = read_filter(r, app, NULL, &f)) ||
        (rc = canteen_card_txns(app, &who, id, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* A card's printable form: its PDF, or (svg) its QR code. */
static int card_print(http_req *r, nx_app *app, bool svg)
{
    nx_principal who = app_principal(r);
    int64_t id;
    unsigned char *pdf = NULL;
    char *qr = NULL;
    size_t len = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) ||
        (rc = svg ? canteen_card_qr_svg(app, &who, id, &qr, http_err(r))
                  : canteen_card_pdf(app, &who, id, &pdf, &len, http_err(r))))
        return rc;
    rc = svg ? http_reply_bytes(r, 200, "image/svg+xml", qr, strlen(qr))
             : http_reply_bytes(r, 200, "application/pdf", pdf, len);
    free(pdf);
    free(qr);
    return rc;
}

static int card_pdf(http_req *r, void *ctx)
{
    return card_print(r, ctx, false);
}

static int card_qr(http_req *r, void *ctx)
{
    return card_print(r, ctx, true);
}

static int diners(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = canteen_diner_search(app, &who, http_query(r, "q"), &out, http_err(r));
    if (rc)
        return rc;
    return http_reply_json(r, 200, out);
}

static int sales_create(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id = 0;
    bool created = false;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = canteen_sale_create(app, &who, body, &id, &created, http_err(r))) ||
        (rc = canteen_sale_get(app, &who, id, &out, http_err(r))))
        return rc;
    if (created) {
        char loc[64];
        snprintf(loc, sizeof loc, "/api/v1/canteen/sales/%lld", (long long)id);
        http_add_header(r, "Location", loc);
    }
    return http_reply_json(r, created ? 201 : 200, out);
}

/* A report's query: community_id (0 absent), and name's value, today's month (month) or today when
 * absent (written into def). */
static int report_query(http_req *r, const char *name, bool month, char def[11], const char **value,
                        int64_t *community)
{
    int rc = app_query_id(r, "community_id", community);
    if (rc)
        return rc;
    if ((*value = http_query(r, name)) == NULL) {
        nx_date d = date_today();
        if (month)
            snprintf(def, 11, "%04d-%02d", d.y, d.m);
        else
            date_format(d, def);
        *value = def;
    }
    return 0;
}

static int report_subsidy(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t community = 0;
    const char *month, *format = http_query(r, "format");
    char def[11];
    int rc = report_query(r, "month", true, def, &month, &community);
    if (rc)
        return rc;
    if (format && strcmp(format, "xlsx") != 0 && strcmp(format, "json") != 0)
        return nx_fail(http_err(r), NX_EINVAL, "format", "format 应为 json 或 xlsx");
    if (format && strcmp(format, "xlsx") == 0) {
        char path[256];
        int64_t rows = 0;
        if ((rc = http_export_path(path, sizeof path, http_err(r))))
            return rc;
        rc = canteen_subsidy_xlsx(app, &who, month, community, path, &rows, http_err(r));
        char ascii[48], utf8[64];
        snprintf(ascii, sizeof ascii, "canteen-subsidy-%s.xlsx", month);
        snprintf(utf8, sizeof utf8, "助餐补贴申报-%s.xlsx", month);
        return app_reply_export(r, rc, path, ascii, utf8, rows);
    }
    json_t *out;
    if ((rc = canteen_subsidy_report(app, &who, month, community, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int report_daily(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t community = 0;
    const char *day;
    char def[11];
    int rc = report_query(r, "date", false, def, &day, &community);
    if (rc)
        return rc;
    json_t *out;
    if ((rc = canteen_daily_report(app, &who, day, community, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static const app_route routes[] = {
    {"GET", "/api/v1/canteen/dishes", .with = list_with, .fn = APP_FN(canteen_dish_list)},
    {"POST", "/api/v1/canteen/dishes", .create = canteen_dish_create, .get = canteen_dish_get},
    {"GET", "/api/v1/canteen/dishes/{id}", .get = canteen_dish_get},
    {"PATCH", "/api/v1/canteen/dishes/{id}", .change = canteen_dish_update, .get = canteen_dish_get},
    {"GET", "/api/v1/canteen/menus", .with = list_with, .fn = APP_FN(canteen_menu_list)},
    {"POST", "/api/v1/canteen/menus", .create = canteen_menu_put, .get = canteen_menu_get},
    {"GET", "/api/v1/canteen/menus/{id}", .get = canteen_menu_get},
    {"PATCH", "/api/v1/canteen/menu-items/{id}", .h = item_patch},
    {"GET", "/api/v1/canteen/price-rules", .community = canteen_rules_get},
    {"PUT", "/api/v1/canteen/price-rules", .h = rules_put},
    {"GET", "/api/v1/canteen/price-quote", .h = quote},
    {"GET", "/api/v1/canteen/diners", .h = diners},
    {"GET", "/api/v1/canteen/cards", .h = cards_list},
    {"POST", "/api/v1/canteen/cards", .create = canteen_card_create, .get = canteen_card_get},
    {"GET", "/api/v1/canteen/cards/{id}", .get = canteen_card_get},
    {"POST", "/api/v1/canteen/cards/{id}/top-ups", .h = card_topup},
    {"POST", "/api/v1/canteen/cards/{id}/refunds", .h = card_refund},
    {"POST", "/api/v1/canteen/cards/{id}/replace", .spawn = canteen_card_replace, .get = canteen_card_get},
    {"GET", "/api/v1/canteen/cards/{id}/transactions", .h = card_txns},
    {"GET", "/api/v1/canteen/cards/{id}/card.pdf", .h = card_pdf},
    {"GET", "/api/v1/canteen/cards/{id}/qr.svg", .h = card_qr},
    {"GET", "/api/v1/canteen/sales", .with = list_with, .fn = APP_FN(canteen_sale_list)},
    {"POST", "/api/v1/canteen/sales", .h = sales_create},
    {"GET", "/api/v1/canteen/sales/verify", .community = canteen_chain_verify},
    {"GET", "/api/v1/canteen/sales/{id}", .get = canteen_sale_get},
    {"POST", "/api/v1/canteen/sales/{id}/reverse", .spawn = canteen_sale_reverse, .get = canteen_sale_get},
    {"GET", "/api/v1/canteen/reports/subsidy", .h = report_subsidy},
    {"GET", "/api/v1/canteen/reports/daily", .h = report_daily},
    {"GET", "/api/v1/canteen/orders", .with = list_with, .fn = APP_FN(canteen_order_list), .arg = "ordered cancelled delivered missed served"},
    {"POST", "/api/v1/canteen/orders", .create = canteen_order_create, .get = canteen_order_get},
    {"GET", "/api/v1/canteen/orders/{id}", .get = canteen_order_get},
    {"PATCH", "/api/v1/canteen/orders/{id}", .change = canteen_order_update, .get = canteen_order_get},
    {"POST", "/api/v1/canteen/orders/{id}/rating", .change = canteen_order_rate, .get = canteen_order_get},
    {"GET", "/api/v1/canteen/deliveries", .with = list_with, .fn = APP_FN(canteen_delivery_list)},
    {"GET", "/api/v1/canteen/delivery-rounds", .with = list_with, .fn = APP_FN(canteen_round_list)},
    {"POST", "/api/v1/canteen/delivery-rounds", .create = canteen_round_create, .get = canteen_round_get},
    {"DELETE", "/api/v1/canteen/delivery-rounds/{id}", .del = canteen_round_delete},
    {"GET", "/api/v1/canteen/stats", .community = canteen_stats},
};

int canteen_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
