/* demo_council.h — the courtyard council's part of `nuanxin demo` (demo_council.c). */
#ifndef NX_CLI_DEMO_COUNCIL_H
#define NX_CLI_DEMO_COUNCIL_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Fill a year of the courtyard council for the demo community: council members and representatives
 * per estate, topics raised by residents (and by staff from paper) with supporters, a duplicate
 * merged, meetings with attendance and minutes, decisions with their follow-up (milestones,
 * completion, ratings), closed polls (one not valid for low turnout), and, this month, an open topic
 * and an open secret poll in the estate of self_resident (the demo's resident account, who may vote
 * there). Everything goes through the council module's rules with the clock pinned to each month
 * (restored before returning), so dates, steps and overdue flags agree. Deterministic for a seed and
 * today's date. Adds "council_topics", "council_meetings", "council_decisions" and "council_polls"
 * to summary. Returns 0 or the first error. Blocking. */
int demo_council_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                      nx_err *e);

#endif
