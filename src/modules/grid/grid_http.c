/* grid_http.c — the HTTP face of grid members and incidents (rules in grid.c). */
#include "modules/grid/grid.h"

#include "base/str.h"
#include "modules/visits/visits_http.h"

#include <stdio.h>
#include <string.h>

static int member_list(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    bool all = false;
    int64_t grid = 0;
    json_t *out;
    int rc;
    if ((rc = app_query_id(r, "grid_id", &grid)) || (rc = app_query_bool(r, "include_inactive", &all)) ||
        (rc = grid_member_list(ctx, &who, grid, all, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int inc_list(http_req *r, void *ctx)
{
    return visits_http_list(r, ctx, grid_incident_list);
}

static int inc_photo(http_req *r, void *ctx)
{
    return visits_http_photo(r, ctx, "incident");
}

static const app_route routes[] = {
    {"GET", "/api/v1/grid-members", .h = member_list},
    {"POST", "/api/v1/grid-members", .create = grid_member_create, .get = grid_member_get},
    {"GET", "/api/v1/grid-members/{id}", .get = grid_member_get},
    {"PATCH", "/api/v1/grid-members/{id}", .change = grid_member_update, .get = grid_member_get},
    {"GET", "/api/v1/incidents", .h = inc_list},
    {"POST", "/api/v1/incidents", .create = grid_incident_create, .get = grid_incident_get},
    {"GET", "/api/v1/incidents/{id}", .get = grid_incident_get},
    {"POST", "/api/v1/incidents/{id}/dispatch", .change = grid_incident_dispatch, .get = grid_incident_get},
    {"POST", "/api/v1/incidents/{id}/handle", .change = grid_incident_handle, .get = grid_incident_get},
    {"POST", "/api/v1/incidents/{id}/close", .change = grid_incident_close, .get = grid_incident_get},
    {"POST", "/api/v1/incidents/{id}/photos", .h = inc_photo, .flags = HTTP_UPLOAD},
};

int grid_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
