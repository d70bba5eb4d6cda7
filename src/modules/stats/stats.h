/* stats.h — the dashboard's figures across modules, within the caller's scope. Each later module
 * adds its own cards here. */
#ifndef NX_MODULES_STATS_H
#define NX_MODULES_STATS_H

#include "modules/app.h"

/* Key figures, an age-sex pyramid, people by grid, tags by grid and households by estate:
 * one JSON object (new reference). Restricted to who's scope in SQL. */
int stats_overview(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);

int stats_routes(http_server *srv, nx_app *app);

#endif
