/* stats_http.c — the HTTP face of the dashboard figures (rules in stats.c). */
#include "modules/stats/stats.h"

#include "modules/app_http.h"

static int overview_h(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t community = 0;
    bool present;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &community)) ||
        (rc = stats_overview(app, &who, community, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int health_h(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = stats_health(app, &who, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

int stats_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/system/health", health_h, app, 0);
    http_route(srv, "GET", "/api/v1/stats/overview", overview_h, app, 0);
    return 0;
}
