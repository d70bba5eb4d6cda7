/* volunteers_internal.h — what the volunteers module's own .c files share (never included from
 * outside src/modules/volunteers/): scope and rights helpers, the caller's own volunteer record,
 * phones, times and labels. */
#ifndef NX_MODULES_VOLUNTEERS_INTERNAL_H
#define NX_MODULES_VOLUNTEERS_INTERNAL_H

#include "modules/volunteers/volunteers.h"

#include "base/jsonin.h"
#include "store/page.h"
#include "store/query.h"

#define CTX_VOL_PHONE VOLUNTEERS_PHONE_CONTEXT
#define CTX_PARTNER_PHONE VOLUNTEERS_PARTNER_PHONE_CONTEXT

/* Any of the module's three rights: who may read activities, teams, partners and sessions, and take
 * part (sign up, check in, book). */
bool vol_may_read(const nx_principal *who);
/* The street office's oversight of volunteer work: a street account (ROLE_STREET, no volunteer
 * right) reads teams, volunteers, activities with their sign-up sheets, the hours ledger, partners,
 * their services and sessions in the communities of its street (vol_scope), and writes nothing —
 * every write checks one of the three rights, which it does not have. */
bool vol_oversees(const nx_principal *who);
/* vol_may_read or vol_oversees: the gate of the read-only routes above. */
bool vol_may_view(const nx_principal *who);
/* Who reads every row of their scope rather than their own: MANAGE, DUTY (narrowed further by
 * each list where it says so) or the street's oversight. */
bool vol_staff_read(const nx_principal *who);

/* Append who's reading scope on alias (e.g. "a."): perm_scope_q for platform, street and community
 * accounts; the own community for grid, volunteer-duty and self accounts. */
void vol_scope(sqlq *q, const nx_principal *who, const char *alias);
/* Whether who's scope (as vol_scope) covers community c. */
bool vol_covers(store_tx *tx, const nx_principal *who, int64_t c);
/* The community of a new row: in's "community_id" for platform and street accounts (required, in
 * scope), the caller's own otherwise. 0 or NX_EINVAL / NX_ENOTFOUND. */
int vol_community_of(store_tx *tx, const nx_principal *who, json_t *in, int64_t *community, nx_err *e);

/* Create a row of a community's own list whose name is unique in the community (teams, point
 * offers), in one write transaction: the community from in (vol_community_of), then insert_sql with
 * $1 that community and $2.. the nrest parameters of rest, "RETURNING id" into *id (a duplicate name:
 * NX_ECONFLICT naming field with dup_msg), and the audit entry "create" of object. 0 or the error
 * (nothing written). */
int vol_create_named(nx_app *app, const nx_principal *who, json_t *in, const char *insert_sql, const store_param *rest,
                     int nrest, const char *field, const char *dup_msg, const char *object, int64_t *id, nx_err *e);

/* The caller's own volunteer record. */
typedef struct vol_self {
    int64_t id, team_id, community_id;
    bool leader;
} vol_self;
/* Fill me (zeroed when the caller has none: id 0). 0 or the store's error. */
int vol_me(store_tx *tx, const nx_principal *who, vol_self *me, nx_err *e);
/* Whether who manages team_id: MANAGE, or the leader of that very team (me from vol_me). */
bool vol_manages_team(const nx_principal *who, const vol_self *me, int64_t team_id);

/* The phone of in's key, validated and encrypted under context into *enc and *len with its last four
 * digits in tail[5]; absent: *enc NULL. 0 or NX_EINVAL (field key), NX_ENOMEM. Free *enc with free. */
int vol_phone_in(const nx_app *app, json_t *in, const char *key, const char *context, unsigned char **enc,
                 size_t *len, char tail[5], nx_err *e);
/* Set o[key] to the masked phone of the blob in column col ("****" when it does not open, null when
 * none). */
void vol_phone_out(const nx_app *app, store_rows *r, int col, const char *context, json_t *o, const char *key);

/* Register who's own resident record as a volunteer (a resident's first sign-up); *id the new
 * volunteer. Runs on tx (write). 0, NX_ENOTFOUND, NX_ECONFLICT or the store's error. */
int vol_register_self(store_tx *tx, const nx_principal *who, int64_t *id, nx_err *e);

/* Parse a Shanghai local time "YYYY-MM-DDTHH:MM[:SS]" (or with "+08:00") into epoch ms. 0 or -1. */
int vol_time_parse(const char *s, int64_t *ms);
/* Read in's key as a local time (vol_time_parse); 1 when absent and optional. */
int vol_get_time(json_t *in, const char *key, bool required, int64_t *ms, nx_err *e);
/* Read in's key as hours (a JSON number, 0..max, at most two decimals' worth: rounded to minutes)
 * into *minutes; min_exclusive: 0 itself refused. 0, 1 (absent, optional) or NX_EINVAL. */
int vol_get_hours(json_t *in, const char *key, bool required, bool min_exclusive, double max, int64_t *minutes,
                  nx_err *e);
/* The local (Shanghai) date of ms, "YYYY-MM-DD" into out[11]. */
void vol_local_date(int64_t ms, char out[11]);
/* minutes as hours, a JSON real with two decimals. */
json_t *vol_hours_json(int64_t minutes);

/* The volunteer whose personal records (hours, points) who may read: volunteer_id, or the caller's
 * own record when it is 0 or theirs; others' only for MANAGE in scope or the leader of their team.
 * *vid and *community are set. NX_ENOTFOUND (none, or out of scope), NX_EPERM. Runs on tx. */
int vol_readable(store_tx *tx, const nx_principal *who, int64_t volunteer_id, int64_t *vid, int64_t *community,
                 nx_err *e);
/* Earn time-bank points for approved hours entry hours_id (minutes, may be below zero for a
 * correction) at the community's rule, once per entry. Runs on tx (write). */
int vol_points_earn(store_tx *tx, int64_t community, int64_t vid, int64_t hours_id, int64_t minutes, int64_t user,
                    nx_err *e);

/* A page of q paged by alias's id after f->after (store_page_by_id: oldest first, or newest first),
 * with row_ctx(r, app). */
int vol_page(nx_app *app, sqlq *q, const sqlq *count, const char *alias, bool oldest_first, const volunteers_filter *f,
             json_t *(*row)(store_rows *r, void *ctx), json_t **out, nx_err *e);

/* The filter conditions of one list: sqlq_init(q, head), then who's scope and f's filters. */
typedef void vol_where_fn(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f);
/* A list behind its gate: NX_EPERM with deny unless may(who); then vol_page of where(cols) with the
 * total of where(count_sql), paged by alias's id. */
int vol_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, bool (*may)(const nx_principal *),
             const char *deny, vol_where_fn *where, const char *cols, const char *count_sql, const char *alias,
             bool oldest_first, json_t *(*row)(store_rows *r, void *ctx), json_t **out, nx_err *e);
/* q is head (a "SELECT … WHERE 1 = 1") with " AND <alias>id = id" and who's scope (vol_scope). */
void vol_id_q(sqlq *q, const char *head, const char *alias, int64_t id, const nx_principal *who);
/* A record behind its gate: NX_EPERM with deny unless may(who); then the row of vol_id_q through s
 * (store_get_read: NX_ENOTFOUND with missing). */
int vol_get(nx_app *app, const nx_principal *who, bool (*may)(const nx_principal *), const char *deny, const char *head,
            const char *alias, int64_t id, const store_page_spec *s, const char *missing, json_t **out, nx_err *e);
#endif
