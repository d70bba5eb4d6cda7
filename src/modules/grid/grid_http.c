/* grid_http.c — the HTTP face of grid members and incidents (rules in grid.c). */
#include "modules/grid/grid.h"

#include "base/str.h"
#include "modules/visits/visits_http.h"

#include <stdio.h>
#include <string.h>

static int member_list(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    bool present, all = false;
    int64_t grid = 0;
    int rc = http_query_int(r, "grid_id", 1, INT64_MAX, &present, &grid);
    if (rc)
        return rc;
    const char *inactive = http_query(r, "include_inactive");
    if (inactive && str_to_bool(inactive, &all))
        return nx_fail(http_err(r), NX_EINVAL, "include_inactive", "include_inactive 应为 true 或 false");
    json_t *out;
    if ((rc = grid_member_list(ctx, &who, grid, all, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int member_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, grid_member_get);
}

static int member_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, grid_member_create, grid_member_get, "/api/v1/grid-members");
}

static int member_patch(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, grid_member_update, grid_member_get);
}

static int inc_list(http_req *r, void *ctx)
{
    return visits_http_list(r, ctx, grid_incident_list);
}

static int inc_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, grid_incident_create, grid_incident_get, "/api/v1/incidents");
}

static int inc_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, grid_incident_get);
}

static int inc_dispatch(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, grid_incident_dispatch, grid_incident_get);
}
static int inc_handle(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, grid_incident_handle, grid_incident_get);
}
static int inc_close(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, grid_incident_close, grid_incident_get);
}

static int inc_photo(http_req *r, void *ctx)
{
    return visits_http_photo(r, ctx, "incident");
}

int grid_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/grid-members", member_list, app, 0);
    http_route(srv, "POST", "/api/v1/grid-members", member_create, app, 0);
    http_route(srv, "GET", "/api/v1/grid-members/{id}", member_get, app, 0);
    http_route(srv, "PATCH", "/api/v1/grid-members/{id}", member_patch, app, 0);
    http_route(srv, "GET", "/api/v1/incidents", inc_list, app, 0);
    http_route(srv, "POST", "/api/v1/incidents", inc_create, app, 0);
    http_route(srv, "GET", "/api/v1/incidents/{id}", inc_get, app, 0);
    http_route(srv, "POST", "/api/v1/incidents/{id}/dispatch", inc_dispatch, app, 0);
    http_route(srv, "POST", "/api/v1/incidents/{id}/handle", inc_handle, app, 0);
    http_route(srv, "POST", "/api/v1/incidents/{id}/close", inc_close, app, 0);
    http_route(srv, "POST", "/api/v1/incidents/{id}/photos", inc_photo, app, HTTP_UPLOAD);
    return 0;
}
