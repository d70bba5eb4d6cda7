/* perm.c — the role table and scope conditions. Rights per role are one table so that a review of
 * "who may reveal an ID number" reads one place. The audit log is read in scope: a community's staff
 * (the secretary) and the street see who revealed or changed what in their communities; platform
 * entries without a community (logins, accounts) only admins see. Street scope covers the communities of the street;
 * that is a sub-select on communities, cheap since a street has a handful of communities. */
#include "secure/perm.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *code, *label;
    int scope;
    unsigned rights;
} roles[ROLE_COUNT] = {
    [ROLE_NONE] = {"none", "无", SCOPE_NONE, 0},
    [ROLE_ADMIN] = {"admin", "系统管理员", SCOPE_ALL,
                    RIGHT_PEOPLE_READ | RIGHT_PEOPLE_WRITE | RIGHT_REVEAL | RIGHT_EXPORT | RIGHT_IMPORT |
                        RIGHT_ORG_READ | RIGHT_ORG_WRITE | RIGHT_USER_ADMIN | RIGHT_AUDIT_READ | RIGHT_CARE_READ |
                        RIGHT_CARE_WRITE | RIGHT_CARE_ADMIN | RIGHT_SERVICE_APPLY | RIGHT_SERVICE_REVIEW | RIGHT_SERVICE_ADMIN |
                        RIGHT_DEVICE_READ | RIGHT_DEVICE_WRITE | RIGHT_ALERT_HANDLE |
                        RIGHT_CANTEEN_OPERATE | RIGHT_CANTEEN_ADMIN | RIGHT_VOLUNTEER_MANAGE | RIGHT_VOLUNTEER_DUTY |
                        RIGHT_COURSE_MANAGE | RIGHT_LIBRARY_MANAGE | RIGHT_VENUE_MANAGE | RIGHT_COUNCIL_MANAGE |
                        RIGHT_PARTY_MANAGE | RIGHT_ELECTION_MANAGE | RIGHT_NOTICE_WRITE | RIGHT_MESSAGE_ADMIN},
    [ROLE_STREET] = {"street", "街道工作人员", SCOPE_STREET,
                     RIGHT_PEOPLE_READ | RIGHT_REVEAL | RIGHT_EXPORT | RIGHT_ORG_READ | RIGHT_CARE_READ | RIGHT_SERVICE_REVIEW |
                         RIGHT_DEVICE_READ | RIGHT_AUDIT_READ},
    [ROLE_STAFF] = {"staff", "社区工作人员", SCOPE_COMMUNITY,
                    RIGHT_PEOPLE_READ | RIGHT_PEOPLE_WRITE | RIGHT_REVEAL | RIGHT_EXPORT | RIGHT_IMPORT |
                        RIGHT_ORG_READ | RIGHT_ORG_WRITE | RIGHT_CARE_READ | RIGHT_CARE_WRITE | RIGHT_SERVICE_APPLY | RIGHT_SERVICE_REVIEW |
                        RIGHT_DEVICE_READ | RIGHT_DEVICE_WRITE | RIGHT_ALERT_HANDLE | RIGHT_AUDIT_READ |
                        RIGHT_CANTEEN_OPERATE | RIGHT_CANTEEN_ADMIN | RIGHT_VOLUNTEER_MANAGE | RIGHT_VOLUNTEER_DUTY |
                        RIGHT_COURSE_MANAGE | RIGHT_LIBRARY_MANAGE | RIGHT_VENUE_MANAGE | RIGHT_COUNCIL_MANAGE |
                        RIGHT_PARTY_MANAGE | RIGHT_ELECTION_MANAGE | RIGHT_NOTICE_WRITE | RIGHT_MESSAGE_ADMIN},
    [ROLE_GRID] = {"grid", "网格员", SCOPE_GRID,
                   RIGHT_PEOPLE_READ | RIGHT_PEOPLE_WRITE | RIGHT_REVEAL | RIGHT_ORG_READ | RIGHT_CARE_READ |
                       RIGHT_CARE_WRITE | RIGHT_SERVICE_APPLY | RIGHT_DEVICE_READ | RIGHT_ALERT_HANDLE |
                       RIGHT_VOLUNTEER_DUTY},
    [ROLE_CANTEEN] = {"canteen", "食堂运营", SCOPE_COMMUNITY, RIGHT_CANTEEN_OPERATE | RIGHT_CANTEEN_ADMIN},
    [ROLE_VOLUNTEER] = {"volunteer", "志愿者", SCOPE_COMMUNITY, RIGHT_VOLUNTEER_DUTY},
    [ROLE_RESIDENT] = {"resident", "居民", SCOPE_SELF, RIGHT_SELF | RIGHT_SERVICE_APPLY},
    [ROLE_FAMILY] = {"family", "家属", SCOPE_SELF, RIGHT_SELF | RIGHT_SERVICE_APPLY | RIGHT_DEVICE_READ},
};

static const char *const scopes[] = {"none", "all", "street", "community", "grid", "self"};

const char *role_code(int role)
{
    return role > 0 && role < ROLE_COUNT ? roles[role].code : "none";
}

const char *role_label(int role)
{
    return role > 0 && role < ROLE_COUNT ? roles[role].label : "无";
}

int role_parse(const char *code)
{
    for (int i = 1; code && i < ROLE_COUNT; i++)
        if (strcmp(roles[i].code, code) == 0)
            return i;
    return ROLE_NONE;
}

const char *scope_code(int scope)
{
    return scope > 0 && scope <= SCOPE_SELF ? scopes[scope] : "none";
}

int scope_parse(const char *code)
{
    for (int i = 1; code && i <= SCOPE_SELF; i++)
        if (strcmp(scopes[i], code) == 0)
            return i;
    return SCOPE_NONE;
}

int role_default_scope(int role)
{
    return role > 0 && role < ROLE_COUNT ? roles[role].scope : SCOPE_NONE;
}

unsigned role_rights(int role)
{
    return role > 0 && role < ROLE_COUNT ? roles[role].rights : 0;
}

bool perm_has(const nx_principal *p, unsigned right)
{
    return p && (role_rights(p->role) & right) == right;
}

int perm_begin(store *db, const nx_principal *p, unsigned right, int mode, const char *denied, store_tx **tx,
               nx_err *e)
{
    if (!perm_has(p, right))
        return nx_fail(e, NX_EPERM, "", "%s", denied);
    return store_begin(db, mode, tx, e);
}

int perm_scope_sql(const nx_principal *p, const char *alias, const char *resident_col, char *sql,
                   size_t cap, store_param *params, int *n)
{
    size_t len = strlen(sql);
    int w;
    switch (p->scope) {
    case SCOPE_ALL:
        return 0;
    case SCOPE_STREET:
        params[*n] = P_INT(p->street_id);
        w = snprintf(sql + len, cap - len,
                     " AND %scommunity_id IN (SELECT id FROM communities WHERE street_id = $%d)", alias,
                     ++*n);
        break;
    case SCOPE_COMMUNITY:
        params[*n] = P_INT(p->community_id);
        w = snprintf(sql + len, cap - len, " AND %scommunity_id = $%d", alias, ++*n);
        break;
    case SCOPE_GRID:
        params[*n] = P_INT(p->grid_id);
        w = snprintf(sql + len, cap - len, " AND %sgrid_id = $%d", alias, ++*n);
        break;
    case SCOPE_SELF:
        if (resident_col == NULL || p->resident_id == 0) {
            w = snprintf(sql + len, cap - len, " AND 1 = 0");
        } else {
            params[*n] = P_INT(p->resident_id);
            w = snprintf(sql + len, cap - len, " AND %s%s = $%d", alias, resident_col, ++*n);
        }
        break;
    default:
        w = snprintf(sql + len, cap - len, " AND 1 = 0");
        break;
    }
    return (w < 0 || (size_t)w >= cap - len) ? NX_ETOOBIG : 0;
}

void perm_scope_q(const nx_principal *p, const char *alias, const char *resident_col, sqlq *q)
{
    switch (p->scope) {
    case SCOPE_ALL:
        return;
    case SCOPE_STREET:
        sqlq_sql(q, " AND %scommunity_id IN (SELECT id FROM communities WHERE street_id = $%d)", alias,
                 sqlq_param(q, P_INT(p->street_id)));
        return;
    case SCOPE_COMMUNITY:
        sqlq_sql(q, " AND %scommunity_id = $%d", alias, sqlq_param(q, P_INT(p->community_id)));
        return;
    case SCOPE_GRID:
        sqlq_sql(q, " AND %sgrid_id = $%d", alias, sqlq_param(q, P_INT(p->grid_id)));
        return;
    case SCOPE_SELF:
        if (resident_col && p->resident_id != 0) {
            sqlq_sql(q, " AND %s%s = $%d", alias, resident_col, sqlq_param(q, P_INT(p->resident_id)));
            return;
        }
        break;
    default:
        break;
    }
    sqlq_append(q, " AND 1 = 0");
}

bool perm_scope_match(const nx_principal *p, int64_t id, int64_t community, int64_t street, bool has_grid,
                      int64_t grid)
{
    switch (p->scope) {
    case SCOPE_ALL:
        return true;
    case SCOPE_STREET:
        return street == p->street_id;
    case SCOPE_COMMUNITY:
        return community == p->community_id;
    case SCOPE_GRID:
        return has_grid && grid == p->grid_id;
    case SCOPE_SELF:
        return p->resident_id != 0 && id == p->resident_id;
    default:
        return false;
    }
}

void perm_scope_id_q(const nx_principal *p, const char *alias, const char *resident_col, int64_t id,
                     const char *sql, sqlq *q)
{
    sqlq_init(q, sql);
    sqlq_sql(q, " AND %sid = $%d", alias, sqlq_param(q, P_INT(id)));
    perm_scope_q(p, alias, resident_col, q);
}

int perm_scope_first(store_tx *tx, const nx_principal *p, const char *alias, const char *resident_col, int64_t id,
                     const char *sql, const char *missing, store_rows **rows, nx_err *e)
{
    sqlq q;
    perm_scope_id_q(p, alias, resident_col, id, sql, &q);
    return sqlq_first(tx, &q, missing, rows, e);
}

int perm_scoped_query(store_tx *tx, const nx_principal *p, int64_t community, const char *base, const char *alias,
                      const char *tail, store_rows **r, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, base);
    perm_scope_q(p, alias, NULL, &q);
    if (community)
        sqlq_sql(&q, " AND %scommunity_id = $%d", alias, sqlq_param(&q, P_INT(community)));
    sqlq_append(&q, tail);
    return sqlq_query(tx, &q, r, e);
}

bool perm_covers(const nx_principal *p, store_tx *tx, int64_t community_id, int64_t grid_id)
{
    switch (p->scope) {
    case SCOPE_ALL:
        return true;
    case SCOPE_STREET: {
        int64_t street = 0;
        store_param a[] = {P_INT(community_id)};
        if (store_one_int(tx, "SELECT street_id FROM communities WHERE id = $1", a, 1, &street, NULL))
            return false;
        return street == p->street_id;
    }
    case SCOPE_COMMUNITY:
        return community_id == p->community_id;
    case SCOPE_GRID:
        return community_id == p->community_id && grid_id == p->grid_id;
    default:
        return false;
    }
}
