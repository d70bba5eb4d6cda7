/* demo_services.h — the service hall's part of `nuanxin demo` (demo_services.c). */
#ifndef NX_CLI_DEMO_SERVICES_H
#define NX_CLI_DEMO_SERVICES_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Fill a realistic history of service applications for the demo community: residents applying for
 * themselves and staff applying on their behalf, across the built-in items, with materials, returns
 * for correction, rejections, two-level approvals of 高龄津贴 (so recipients exist), issued
 * certificates, and some applications overdue at their step; dates spread over the last two months.
 * Everything goes through the services module's functions (rules, time lines, audit, events), then
 * the timestamps are moved back to the chosen day. Deterministic for a seed (and today's date).
 * Needs the data directory (materials are files under <data>/uploads): when app->cfg->data_dir is
 * not an existing directory nothing is written. Adds "service_applications", "service_approved" and
 * "allowance_recipients" counts to summary. Returns 0 or the first error. Blocking. */
int demo_services_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                       nx_err *e);

#endif
