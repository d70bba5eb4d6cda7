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

#endif
