/* demo_volunteers.h — the volunteers module's part of `nuanxin demo` (demo_volunteers.c). */
#ifndef NX_CLI_DEMO_VOLUNTEERS_H
#define NX_CLI_DEMO_VOLUNTEERS_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Fill a season of volunteering for community: the 11 volunteer teams with their leaders and members
 * (residents and outsiders, phones encrypted; the demo account "zhiyuan" leads the first team), the
 * 31 partner units, activities from twelve weeks ago to five weeks ahead with sign-ups, waiting lists,
 * check-ins and the hours ledger (mostly approved), and the partners' recurring services (义诊 on the
 * second and fourth Saturdays, monthly haircuts …) with their sessions, slots and bookings (past ones
 * attended or missed). self_resident (the demo's own resident, 0 = none) books an upcoming clinic slot.
 * Plain INSERTs in one write transaction; one audit row records the fill. Deterministic for a seed
 * and a day. Adds "volunteer_teams", "volunteers", "volunteer_activities", "partners",
 * "partner_sessions" counts to summary. Returns 0 or the first error. Blocking. */
int demo_volunteers_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                         nx_err *e);

#endif
