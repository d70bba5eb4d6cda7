/* perm.h — roles, scopes and rights.
 *
 * A user has one role (what they may do) and one scope (where): the whole platform, a street, a
 * community, a grid, or only themselves. Rights derive from the role through one table (perm.c).
 * Scope is applied inside SQL (perm_scope_sql), never by filtering rows after the query, so a grid
 * worker asking for another grid's resident gets "not found", not the record. */
#ifndef NX_SECURE_PERM_H
#define NX_SECURE_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/query.h"
#include "store/store.h"

enum nx_role {
    ROLE_NONE = 0,
    ROLE_ADMIN,     /* 系统管理员 */
    ROLE_STREET,    /* 街道工作人员 */
    ROLE_STAFF,     /* 社区工作人员 */
    ROLE_GRID,      /* 网格员 */
    ROLE_CANTEEN,   /* 食堂运营 */
    ROLE_VOLUNTEER, /* 志愿者 */
    ROLE_RESIDENT,  /* 居民 */
    ROLE_FAMILY,    /* 家属 */
    ROLE_COUNT
};

enum nx_scope { SCOPE_NONE = 0, SCOPE_ALL, SCOPE_STREET, SCOPE_COMMUNITY, SCOPE_GRID, SCOPE_SELF };

enum nx_right {
    RIGHT_PEOPLE_READ = 1u << 0,   /* read residents and households in scope */
    RIGHT_PEOPLE_WRITE = 1u << 1,  /* create and change residents and households */
    RIGHT_REVEAL = 1u << 2,        /* see unmasked ID numbers, phones, addresses (audited) */
    RIGHT_EXPORT = 1u << 3,        /* export lists to Excel */
    RIGHT_IMPORT = 1u << 4,        /* import residents */
    RIGHT_ORG_READ = 1u << 5,      /* grids, estates, buildings, shops */
    RIGHT_ORG_WRITE = 1u << 6,
    RIGHT_USER_ADMIN = 1u << 7,    /* accounts */
    RIGHT_AUDIT_READ = 1u << 8,
    RIGHT_SELF = 1u << 9,          /* one's own profile and household */
    RIGHT_CARE_READ = 1u << 10,    /* care files, visit tasks and records, problems, grid incidents */
    RIGHT_CARE_WRITE = 1u << 11,   /* open care files, record visits, handle problems and incidents */
    RIGHT_CARE_ADMIN = 1u << 12,   /* edit the care vocabularies and visit policies */
    RIGHT_SERVICE_APPLY = 1u << 13,  /* apply for service items: for oneself (self scope) or on a
                                        resident's behalf (代办, staff and grid workers in scope) */
    RIGHT_SERVICE_REVIEW = 1u << 14, /* review applications: staff at the community step, street
                                        officers at the street step across their communities */
    RIGHT_SERVICE_ADMIN = 1u << 15,  /* edit the service catalogue and the allowance tiers */
    RIGHT_DEVICE_READ = 1u << 16,    /* wristbands, their telemetry and alerts in scope (family: their
                                        elder's alarms, self scope) */
    RIGHT_DEVICE_WRITE = 1u << 17,   /* add and bind wristbands, edit alert rules, send device commands */
    RIGHT_ALERT_HANDLE = 1u << 18,   /* acknowledge and resolve alerts in scope */
    /* The community-life and governance modules. A resident's own side of each module (order a
     * meal, join an activity, enrol, borrow, raise a topic, vote) is RIGHT_SELF; what a person may
     * do beyond their role (a team leader, a branch secretary, a course teacher) is data the module
     * checks, not a right. */
    RIGHT_CANTEEN_OPERATE = 1u << 19,  /* menus, the counter, cards and top-ups, orders, delivery lists */
    RIGHT_CANTEEN_ADMIN = 1u << 20,    /* dishes, price rules, reversals, reports and the subsidy claim */
    RIGHT_VOLUNTEER_MANAGE = 1u << 21, /* teams, volunteers, activities, hours approval, partner units */
    RIGHT_VOLUNTEER_DUTY = 1u << 22,   /* a volunteer's duties: check-ins, delivery rounds */
    RIGHT_COURSE_MANAGE = 1u << 23,    /* approve courses, run lotteries, attendance */
    RIGHT_LIBRARY_MANAGE = 1u << 24,   /* catalogue, copies, loans, returns, holds */
    RIGHT_VENUE_MANAGE = 1u << 25,     /* rooms, their rules, bookings on anyone's behalf, approvals */
    RIGHT_COUNCIL_MANAGE = 1u << 26,   /* the courtyard council: topics board, meetings, polls, decisions */
    RIGHT_PARTY_MANAGE = 1u << 27,     /* party organisations, members, 三会一课, dues (community-wide) */
    RIGHT_ELECTION_MANAGE = 1u << 28,  /* model-resident elections: stages, review, objections, results */
    RIGHT_NOTICE_WRITE = 1u << 29,     /* notices and briefings to an audience, read receipts */
    RIGHT_MESSAGE_ADMIN = 1u << 30,    /* message rules, channel settings, the delivery log */
};

/* Who is acting, as modules see it (http/ fills it from the session). */
typedef struct nx_principal {
    int64_t user_id;
    const char *username;
    int role, scope;
    int64_t street_id, community_id, grid_id, resident_id;
    const char *ip;
} nx_principal;

const char *role_code(int role);   /* "admin", "street" … */
const char *role_label(int role);  /* "系统管理员" … */
int role_parse(const char *code);  /* ROLE_NONE when unknown */
const char *scope_code(int scope);
int scope_parse(const char *code);
/* The scope a role has by default ("grid" for a grid worker …). */
int role_default_scope(int role);
unsigned role_rights(int role);
bool perm_has(const nx_principal *p, unsigned right);
/* The opening of a rules function that needs one right and then a transaction: NX_EPERM with denied
 * (Chinese, field "") when p lacks right, nothing begun and *tx left as it was; otherwise
 * store_begin(db, mode, tx, e). What a rules function spelled as
 *     if (!perm_has(who, RIGHT_DEVICE_READ))
 *         return nx_fail(e, NX_EPERM, "", "无权查看报警");
 *     store_tx *tx;
 *     int rc = store_begin(app->db, STORE_READ, &tx, e);
 * is  int rc = perm_begin(app->db, who, RIGHT_DEVICE_READ, STORE_READ, "无权查看报警", &tx, e); */
int perm_begin(store *db, const nx_principal *p, unsigned right, int mode, const char *denied, store_tx **tx,
               nx_err *e);

/* Append to sql a condition (starting with " AND ") restricting rows of a table with columns
 * community_id and grid_id (alias. prefix, e.g. "r.") to p's scope; the parameters it needs are
 * added to params from index *n (incremented). The "self" scope restricts to resident_col = the
 * principal's resident (pass NULL when the table has none: then nothing matches). Returns 0 or
 * NX_ETOOBIG when sql has no room. */
int perm_scope_sql(const nx_principal *p, const char *alias, const char *resident_col, char *sql,
                   size_t cap, store_param *params, int *n);

/* perm_scope_sql on a query builder (store/query.h): the scope condition and its parameter are
 * appended to q; when they do not fit, q is marked overflowed (its run then fails), so a scope
 * condition is never dropped. */
void perm_scope_q(const nx_principal *p, const char *alias, const char *resident_col, sqlq *q);

/* What perm_scope_q(p, "r.", "id", q) decides for one resident row, in memory: whether the row of
 * resident id, in community (whose street is street) and grid (has_grid false: NULL), is in p's
 * scope. Must give the same answer as the SQL condition for every principal and row (the unit test
 * compares the two); a cache of rows uses it to apply the scope per request. */
bool perm_scope_match(const nx_principal *p, int64_t id, int64_t community, int64_t street, bool has_grid,
                      int64_t grid);

/* Start q as the query of one object p may see: sqlq_init(q, sql) (a "SELECT … WHERE 1 = 1"), then
 * " AND <alias>id = $n" for id and perm_scope_q(p, alias, resident_col, q). The opening of every
 * get-by-id and of every write that loads its object in scope first; the caller adds what else it
 * needs and runs q (sqlq_first, store_get_read …), which finds nothing out of scope. */
void perm_scope_id_q(const nx_principal *p, const char *alias, const char *resident_col, int64_t id,
                     const char *sql, sqlq *q);

/* perm_scope_id_q then sqlq_first on tx: the one row of object id that p may see, for a change that
 * loads its object in scope first. 0 with *rows on it (free with store_rows_free), NX_ENOTFOUND with
 * missing (Chinese) when there is none or it is out of scope, a failed read as its error. */
int perm_scope_first(store_tx *tx, const nx_principal *p, const char *alias, const char *resident_col, int64_t id,
                     const char *sql, const char *missing, store_rows **rows, nx_err *e);

/* Run base ("SELECT … WHERE …") narrowed to p's scope on alias (perm_scope_q, no self scope) and,
 * when community is not 0, to that community (a filter the caller chose, within the scope), then
 * tail (" GROUP BY …"). For the statistics, which read many aggregates over one scope. As
 * sqlq_query: 0 with *r to free, or the error. */
int perm_scoped_query(store_tx *tx, const nx_principal *p, int64_t community, const char *base, const char *alias,
                      const char *tail, store_rows **r, nx_err *e);

/* Whether p's scope covers a row in community c and grid g (for checks on a single row that was
 * already loaded, e.g. the target of a create). */
bool perm_covers(const nx_principal *p, store_tx *tx, int64_t community_id, int64_t grid_id);

#endif
