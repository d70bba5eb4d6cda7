/* party_internal.h — what the party module's own files share (never included from outside
 * src/modules/party/): who the caller is to the party, the scope conditions and labels. */
#ifndef NX_MODULES_PARTY_INTERNAL_H
#define NX_MODULES_PARTY_INTERNAL_H

#include <stdbool.h>

#include "modules/party/party.h"
#include "store/query.h"

/* The organisations a resident account leads: those whose secretary is their active member
 * record, and the direct children of those. One parameter, used twice: the resident id. */
#define PARTY_LED_ORGS                                                                                     \
    "(SELECT o.id FROM party_orgs o JOIN party_members s ON s.id = o.secretary_member_id WHERE "            \
    "s.resident_id = $%d AND s.status = 'active' UNION SELECT c.id FROM party_orgs c JOIN party_orgs o ON " \
    "o.id = c.parent_id JOIN party_members s ON s.id = o.secretary_member_id WHERE s.resident_id = $%d AND " \
    "s.status = 'active')"

/* Whether who manages the party community-wide (PARTY_MANAGE). */
bool party_manager(const nx_principal *who);
/* Whether who is a resident acting for themselves: RIGHT_SELF, a resident, and the resident role (a
 * family account is bound to the elder it looks after and does not act as them). */
bool party_self(const nx_principal *who);
/* Whether who may use the party pages at all: a manager, or party_self. */
bool party_may_read(const nx_principal *who);

/* Restrict rows to what who manages: a manager's community scope on <alias>community_id (a grid
 * account: its community), a secretary's led organisations on <alias>org_col. A caller with neither
 * sees nothing. */
void party_scope_q(sqlq *q, const nx_principal *who, const char *alias, const char *org_col);
/* As party_scope_q, and also the rows about who's own member record (member_col, e.g. "m.id") or
 * their organisation and its parent (org_col, when own_org is true). */
void party_view_q(sqlq *q, const nx_principal *who, const char *alias, const char *org_col, const char *member_col,
                  bool own_org);

/* The community, organisation and status (at most cap bytes) of row id of table (its columns
 * community_id, org_id, status), when who manages that organisation (party_scope_q). 0, or
 * NX_ENOTFOUND with missing — out of scope reads as absent — or the read's error. */
int party_load_managed(store_tx *tx, const nx_principal *who, const char *table, int64_t id, const char *missing,
                       int64_t *community, int64_t *org, char *status, size_t cap, nx_err *e);
/* Whether who manages organisation org of community (manager in scope, or its secretary). 0 or
 * NX_ENOTFOUND ("党组织不存在") — out of view reads as absent — or the read's error. */
int party_check_org(store_tx *tx, const nx_principal *who, int64_t org, int64_t *community, nx_err *e);
/* The community a manager's create goes to: in->community_id (street/all scope, required, in scope)
 * or the account's own. */
int party_target_community(store_tx *tx, const nx_principal *who, int64_t given, int64_t *community, nx_err *e);

/* The shared filters of the lists: q at most 50 characters, year YYYY, month YYYY-MM. 0 or NX_EINVAL
 * naming the field. */
int party_filter_check(const party_filter *f, nx_err *e);

/* Today in Shanghai as YYYY-MM-DD. */
void party_today(char out[11]);
/* Labels: "支部党员大会" …; "" for an unknown code. */
const char *party_kind_label(const char *kind);
const char *party_org_kind_label(const char *kind);
/* fen as "12.34" (negative with a minus). */
void party_yuan(int64_t fen, char *out, size_t cap);

#endif
