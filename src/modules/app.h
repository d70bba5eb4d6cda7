/* app.h — what every module is handed at start: the store, the field-encryption keys, the events
 * dispatcher and the configuration. cli/ builds one nx_app and passes it to each module's
 * <name>_routes() and <name>_subscribe(). Modules keep no other global state. */
#ifndef NX_MODULES_APP_H
#define NX_MODULES_APP_H

#include "base/config.h"
#include "http/http.h"
#include "secure/crypto.h"
#include "secure/perm.h"
#include "store/store.h"

typedef struct nx_app {
    store *db;
    nx_keys *keys;
    const nx_config *cfg;
} nx_app;

/* The principal of an authenticated request (borrowed from the request). */
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
