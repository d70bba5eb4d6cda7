/* app_http.c — the handler shapes every module's <name>_http.c shares (see app_http.h): create with
 * a Location, get by id, change by id and answer the new state, delete by id. The {id} path
 * parameter is parsed by http_param_id (a positive integer, else 400); the body by http_json_body
 * (a JSON object under the body cap, else 400/413); everything else is the rules' to check. Stateless
 * and thread-safe: each call lives on its request. */
#include "modules/app_http.h"

#include <stdio.h>

int app_http_create(http_req *r, nx_app *app, app_create_fn create, app_get_fn get, const char *prefix)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = create(app, &who, body, &id, http_err(r))) ||
        (rc = get(app, &who, id, &out, http_err(r))))
        return rc;
    char loc[128];
    snprintf(loc, sizeof loc, "%s/%lld", prefix, (long long)id);
    http_add_header(r, "Location", loc);
    return http_reply_json(r, 201, out);
}

int app_http_get(http_req *r, nx_app *app, app_get_fn get)
{
    nx_principal who = app_principal(r);
    json_t *out;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

int app_http_change(http_req *r, nx_app *app, app_change_fn change, app_get_fn get)
{
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = change(app, &who, id, body, http_err(r))) || (rc = get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

int app_http_delete(http_req *r, nx_app *app, app_delete_fn del)
{
    nx_principal who = app_principal(r);
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = del(app, &who, id, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}
