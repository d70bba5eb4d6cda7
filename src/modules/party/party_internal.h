/* party_internal.h — what the party module's own files share (never included from outside
 * src/modules/party/): who the caller is to the party, the scope conditions and labels. */
#ifndef NX_MODULES_PARTY_INTERNAL_H
#define NX_MODULES_PARTY_INTERNAL_H

#include <stdbool.h>

#include "modules/party/party.h"
#include "store/page.h"
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

/* The gate of a list: NX_EPERM with deny unless party_may_read, then party_filter_check's
 * NX_EINVAL. 0 when the list may be read. */
int party_list_check(const nx_principal *who, const party_filter *f, const char *deny, nx_err *e);
/* The gate and query of a record read by id: NX_EPERM with deny unless party_may_read; else q is
 * head (a "SELECT … WHERE 1 = 1") with " AND <alias>id = id" and party_view_q(who, alias, "org_id",
 * member_col, own_org), and 0. */
int party_view_id_q(const nx_principal *who, const char *deny, sqlq *q, const char *head, const char *alias, int64_t id,
                    const char *member_col, bool own_org, nx_err *e);
/* The filter conditions of one list: sqlq_init(q, head), then who's scope and f's filters. */
typedef void party_where_fn(sqlq *q, const char *head, const nx_principal *who, const party_filter *f);
/* A page of a list (store_page_by_id by alias's id after f->after, f->limit under page_max) whose
 * rows are where(cols) and whose total is where(count_sql); row builds an item. Errors as
 * store_page_by_id. */
int party_page(nx_app *app, const nx_principal *who, const party_filter *f, party_where_fn *where, const char *cols,
               const char *count_sql, const char *alias, bool oldest_first, json_t *(*row)(store_rows *r),
               json_t **out, nx_err *e);
/* The first row of q through row into *o, in a read transaction *tx left open for the record's parts
 * (store_items_of), the caller ending it with store_read_finish. On an error (NX_ENOTFOUND with
 * missing, or the read's) nothing is left open. */
int party_get_begin(nx_app *app, sqlq *q, json_t *(*row)(store_rows *r), const char *missing, store_tx **tx,
                    json_t **o, nx_err *e);
/* Set o[key] to the one row of sql ($1 is id) as store_json_row's spec, on tx: the sums of a
 * record's parts. 0, NX_ENOTFOUND with missing, or the read's error. */
int party_attach_row(store_tx *tx, json_t *o, const char *key, const char *sql, int64_t id, const char *spec,
                     const char *missing, nx_err *e);
/* Today in Shanghai as YYYY-MM-DD. */
void party_today(char out[11]);
/* Labels: "支部党员大会" …; "" for an unknown code. */
const char *party_kind_label(const char *kind);
const char *party_org_kind_label(const char *kind);
/* fen as "12.34" (negative with a minus). */
void party_yuan(int64_t fen, char *out, size_t cap);

#endif
