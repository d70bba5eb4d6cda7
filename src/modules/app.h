/* app.h — what every module is handed at start: the store, the field-encryption keys, the events
 * dispatcher and the configuration. cli/ builds one nx_app and passes it to each module's
 * <name>_routes() and <name>_subscribe(). Modules keep no other global state.
 *
 * Rules files (<name>.c) include this and know nothing of HTTP: the server appears here only as an
 * opaque type so that a module header can declare its <name>_routes(). The HTTP glue (the principal
 * of a request) is in modules/app_http.h, which only <name>_http.c files and cli/ include. */
#ifndef NX_MODULES_APP_H
#define NX_MODULES_APP_H

#include <jansson.h> /* modules take and give JSON */

#include "base/config.h"
#include "secure/crypto.h"
#include "secure/perm.h"
#include "store/store.h"

/* The HTTP server (http/http.h), opaque to rules files. */
typedef struct http_server http_server;

typedef struct nx_app {
    store *db;
    nx_keys *keys;
    const nx_config *cfg;
} nx_app;

#endif
