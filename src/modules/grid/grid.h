/* grid.h — grid management: the people attached to each grid (网格员, 网格警员, 驻区律师, 楼栋长 … —
 * roles are codes of the member_role vocabulary in care_vocab) and the incidents (事件) reported in a
 * grid, from report to dispatch, handling and closing, with a timeline.
 *
 * A member is a user of nuanxin (user_id) or a named person with a phone; the phone is stored
 * encrypted (field_encrypt_ad, context "grid_member.phone") with its last four digits and shown
 * masked. Incidents are reported by staff and grid workers (RIGHT_CARE_WRITE) or by residents
 * (RIGHT_SELF, reporter_resident_id = themselves; they see only their own reports). Status moves
 * reported → dispatched → handled → closed (closing from any earlier state is allowed to staff, e.g.
 * a duplicate report). Every change is on the incident's timeline (care_timeline) and audited, and
 * emits grid.incident.<action>. Scope is in SQL: another grid's member or incident is NX_ENOTFOUND.
 * Inputs are JSON objects validated strictly (see visits.h). Blocking, thread-safe. */
#ifndef NX_MODULES_GRID_H
#define NX_MODULES_GRID_H

#include <jansson.h>

#include "modules/visits/visits.h"

/* Event kinds (outbox): payload {"incident_id", "grid_id", "category" (reported only)}, subject
 * "incident:<id>". */
#define GRID_EV_INCIDENT_REPORTED "grid.incident.reported"
#define GRID_EV_INCIDENT_DISPATCHED "grid.incident.dispatched"
#define GRID_EV_INCIDENT_HANDLED "grid.incident.handled"
#define GRID_EV_INCIDENT_CLOSED "grid.incident.closed"

/* {"items": [{id, community_id, grid_id, grid_name, role, role_label, user_id, name, phone (masked),
 * notes, active}]} of the grids in scope (grid_id 0 = all of them). CARE_READ or ORG_READ. */
int grid_member_list(nx_app *app, const nx_principal *who, int64_t grid_id, bool include_inactive, json_t **out,
                     nx_err *e);
int grid_member_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {grid_id, role, user_id? | name, phone?, notes?} — CARE_WRITE and the grid in scope. A member
 * linked to a user takes the user's display name unless name is given. */
int grid_member_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {role?, name?, phone? (null clears), notes?, active?} */
int grid_member_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* {category, title, place, description?, grid_id?, occurred_at? (ISO date YYYY-MM-DD)}. The grid is
 * the caller's own for a grid worker, the resident's for a resident, else grid_id (required). */
int grid_incident_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {assignee_user_id? | assignee_member_id?, note?} — CARE_WRITE; from reported (or dispatched, to
 * re-dispatch). */
int grid_incident_dispatch(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {result} — CARE_WRITE; from reported or dispatched. */
int grid_incident_handle(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {note?} — CARE_WRITE; NX_ECONFLICT when already closed. */
int grid_incident_close(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The incident with its photos and timeline. */
int grid_incident_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Filters: grid_id, status, category (care_filter.kind is unused), cursor, limit. */
int grid_incident_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e);

int grid_routes(http_server *srv, nx_app *app);

#endif
