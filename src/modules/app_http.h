/* app_http.h — the HTTP glue every module's <name>_http.c shares: who is calling, as a principal
 * the rules files understand. Only <name>_http.c files and cli/ include this header; rules files
 * take a principal and validated JSON and never see a request. */
#ifndef NX_MODULES_APP_HTTP_H
#define NX_MODULES_APP_HTTP_H

#include "http/http.h"
#include "modules/app.h"

/* The principal of an authenticated request (strings borrowed from the request). */
static inline nx_principal app_principal(http_req *r)
{
    const http_auth *a = http_auth_of(r);
    nx_principal p = {0};
    if (a) {
        p.user_id = a->user_id;
        p.username = a->username;
        p.role = a->role;
        p.scope = a->scope;
        p.street_id = a->street_id;
        p.community_id = a->community_id;
        p.grid_id = a->grid_id;
        p.resident_id = a->resident_id;
    }
    p.ip = http_client_ip(r);
    return p;
}

/* ---- handlers of the usual shapes ----
 * Most routes of a module are one rules call between parsing and answering: a <name>_http.c handler
 * calls one of these with the rules functions of its resource. Each takes the request, the app and
 * the rules, and returns what a handler returns (0 with the response queued, or a negative NX_E*
 * code with http_err(r) filled by the rules). */
typedef int (*app_create_fn)(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
typedef int (*app_get_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
typedef int (*app_change_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
typedef int (*app_delete_fn)(nx_app *app, const nx_principal *who, int64_t id, nx_err *e);

/* POST <prefix>: create(body), then 201 with get(id) and "Location: <prefix>/<id>". */
int app_http_create(http_req *r, nx_app *app, app_create_fn create, app_get_fn get, const char *prefix);
/* GET …/{id}: 200 with get(id). */
int app_http_get(http_req *r, nx_app *app, app_get_fn get);
/* PATCH or POST …/{id}[/action]: change(id, body), then 200 with get(id). */
int app_http_change(http_req *r, nx_app *app, app_change_fn change, app_get_fn get);
/* DELETE …/{id}: del(id), then 204. */
int app_http_delete(http_req *r, nx_app *app, app_delete_fn del);

#endif
