/* stats.h — the dashboard's figures across modules, within the caller's scope. Each later module
 * adds its own cards here. */
#ifndef NX_MODULES_STATS_H
#define NX_MODULES_STATS_H

#include "modules/app.h"

/* Key figures, an age-sex pyramid, people by grid, tags by grid and households by estate:
 * one JSON object (new reference). Restricted to who's scope in SQL. */
int stats_overview(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);

/* The installation's health for the console's card: {"database": {backend, schema_version,
 * schema_newest}, "backup": {status ok|stale|failed|never, last_ok_at, last_run_at, file (name
 * only), error}, "disk": {free_bytes}}. The backup fields are the notes `nuanxin backup --dir` (the
 * nightly timer) leaves in nx_meta. NX_EPERM without RIGHT_AUDIT_READ. */
int stats_health(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
int stats_routes(http_server *srv, nx_app *app);

#endif
