/* demo_party.h — the demo's party building and one complete model-resident election (demo_party.c). */
#ifndef NX_CLI_DEMO_PARTY_H
#define NX_CLI_DEMO_PARTY_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Fill the demo community with its party organisations (a committee; 银领先锋党支部 of retired
 * members with two groups, 第一 and 第二党支部), members from the residents whose political status is
 * party_member (self_resident, the demo's resident account, is the secretary of 银领先锋), a transfer
 * in, one between branches and one out, dues rules and twelve months of dues (the last ones partly
 * unpaid), a year of 三会一课 with attendance (a few meetings missing, last month's minutes awaiting
 * review), one complete election (四德标兵, closed, with its ballots and honour list) and one open for
 * nominations. Plain inserts in one write transaction, deterministic for seed and today; adds
 * "party" to summary. Called by demo_fill after the residents and accounts exist. */
int demo_party_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary, nx_err *e);

#endif
