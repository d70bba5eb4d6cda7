/* app.h — what every module is handed at start: the store, the field-encryption keys, the events
 * dispatcher and the configuration. cli/ builds one nx_app and passes it to each module's
 * <name>_routes() and <name>_subscribe(). Modules keep no other global state.
 *
 * Rules files (<name>.c) include this and know nothing of HTTP: the server appears here only as an
 * opaque type so that a module header can declare its <name>_routes(). The HTTP glue (the principal
 * of a request) is in modules/app_http.h, which only <name>_http.c files and cli/ include.
 *
 * Below the app, the kit a rules file needs beside the store's own (store/query.h, store/page.h):
 * app_insert, the INSERT whose placeholders are made from its column list (app.c). */
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

/* ---- a row written ----
 * INSERT INTO table (cols) VALUES ($1, …, $n), with " RETURNING id" when id is not NULL: the VALUES
 * list is made from cols, one parameter a column in their order, so that a column list, its
 * placeholders and its parameters cannot drift apart (a row of fifteen columns is one list, not three
 * that must agree). table and cols are constants of the code, never input: cols are the column names
 * separated by ", " (lower-case letters, digits and _), and n must be their count; anything else is
 * NX_EINTERNAL and nothing runs. A constant value (a status 'active', created_at and updated_at of
 * the same now) is a parameter like any other. id NULL: store_exec (a unique or foreign-key violation
 * is NX_ECONFLICT as store.h says); else store_one_int into *id (NX_ENOTFOUND if RETURNING gave no
 * row). Blocks on the store; tx stays open. */
int app_insert(store_tx *tx, const char *table, const char *cols, const store_param *p, int n, int64_t *id,
               nx_err *e);

#endif
