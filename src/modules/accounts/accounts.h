/* accounts.h — the HTTP face of logging in, the current user, accounts and the audit log, and the
 * request authenticator the server calls before every non-public route. */
#ifndef NX_MODULES_ACCOUNTS_H
#define NX_MODULES_ACCOUNTS_H

#include "modules/app.h"

#define ACCOUNTS_COOKIE "nx_session"

/* Register the auth, me, users and audit routes under /api/v1 and set the authenticator. */
int accounts_routes(http_server *srv, nx_app *app);

#endif
