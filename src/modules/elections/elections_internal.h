/* elections_internal.h — shared by the elections module's own files only. */
#ifndef NX_MODULES_ELECTIONS_INTERNAL_H
#define NX_MODULES_ELECTIONS_INTERNAL_H

#include <stdbool.h>

#include "modules/elections/elections.h"
#include "store/query.h"

/* Whether who runs elections (ELECTION_MANAGE). */
bool elections_staff(const nx_principal *who);
/* Whether who is a resident acting for themselves (RIGHT_SELF, a resident, the resident role; not a
 * family account bound to the elder it looks after). */
bool elections_resident(const nx_principal *who);
/* Rows of elections (alias e.) in view: staff's scope on the community, a resident's own community. */
void elections_scope_q(sqlq *q, const nx_principal *who);

/* The election as the rules need it, loaded in view on tx. */
typedef struct election_row {
    int64_t id, community;
    char stage[16];
    int64_t publicity_days, vote_from, vote_until, min_turnout;
    char publicity_from[11], publicity_until[11];
} election_row;
int elections_load(store_tx *tx, const nx_principal *who, int64_t id, election_row *el, nx_err *e);
/* Begin a transaction of mode (STORE_READ, STORE_WRITE) and load election id in who's view into *el;
 * on failure nothing is left open. */
int elections_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, election_row *el,
                   nx_err *e);
/* Whether who's resident is an active resident of community (a verified voter). */
int elections_voter(store_tx *tx, const nx_principal *who, int64_t community, bool *ok, nx_err *e);
/* Epoch ms of 00:00 Shanghai on day (YYYY-MM-DD, valid). */
int64_t elections_day_start(const char *day);
const char *elections_stage_label(const char *stage);

#endif
