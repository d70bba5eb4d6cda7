/* venues_internal.h — helpers shared by the venues module's own files (never included from outside
 * src/modules/venues/). */
#ifndef NX_MODULES_VENUES_INTERNAL_H
#define NX_MODULES_VENUES_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "modules/venues/venues.h"
#include "store/query.h"

/* A room's rules as a booking checks them. */
typedef struct venue_rules {
    int64_t id, community_id;
    int capacity, open_from, open_to, max_ahead_days, max_minutes, per_person_max;
    bool needs_approval, active;
    unsigned closed_mask; /* bit d set: ISO weekday d closed */
    char name[128];
} venue_rules;

/* ISO weekday (1 = Monday … 7 = Sunday) of a date. */
int venues_weekday(nx_date d);
/* Load room id, visible to who (venues_community_scope_q), on tx. NX_ENOTFOUND "活动室不存在". */
int venues_load_rules(store_tx *tx, const nx_principal *who, int64_t id, venue_rules *v, nx_err *e);
/* Begin a transaction of mode (STORE_READ, STORE_WRITE) and load room id as venues_load_rules; on
 * failure nothing is left open. */
int venues_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, venue_rules *v, nx_err *e);
/* Whether the room is closed on d (weekday or a closure row). */
int venues_closed_on(store_tx *tx, const venue_rules *v, nx_date d, bool *closed, nx_err *e);
/* Whether who manages rooms of community c. */
bool venues_manages(const nx_principal *who, store_tx *tx, int64_t community_id);

#endif
