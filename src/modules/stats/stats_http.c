/* stats_http.c — the HTTP face of the dashboard figures (rules in stats.c). */
#include "modules/stats/stats.h"

#include "modules/app_http.h"

static const app_route routes[] = {
    {"GET", "/api/v1/system/health", .read = stats_health},
    {"GET", "/api/v1/stats/overview", .community = stats_overview},
};

int stats_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
