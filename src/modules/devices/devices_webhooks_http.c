/* devices_webhooks_http.c — the HTTP face of webhook channels (rules in devices_webhooks.c): parse
 * the path and query, hand the JSON body to the rules (which validate it strictly), answer JSON. */
#include "modules/devices/devices_webhooks.h"

#include "modules/app_http.h"

static int h_deliveries(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    int limit, rc;
    json_t *out;
    if ((rc = http_param_id(r, "id", &id)) ||
        (rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &limit)) ||
        (rc = devices_webhook_deliveries(app, &who, id, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static const app_route routes[] = {
    {"GET", "/api/v1/webhooks", .community = devices_webhooks_list},
    {"POST", "/api/v1/webhooks", .create = devices_webhook_create, .get = devices_webhook_get},
    {"GET", "/api/v1/webhooks/{id}", .get = devices_webhook_get},
    {"PATCH", "/api/v1/webhooks/{id}", .change = devices_webhook_update, .get = devices_webhook_get},
    {"DELETE", "/api/v1/webhooks/{id}", .del = devices_webhook_delete},
    {"GET", "/api/v1/webhooks/{id}/deliveries", .h = h_deliveries},
};

int devices_webhooks_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
