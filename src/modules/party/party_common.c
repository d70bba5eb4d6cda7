/* party_common.c — who the caller is to the party module, and the scope conditions every list and
 * write of the module uses.
 *
 * There are three kinds of caller. A manager (RIGHT_PARTY_MANAGE) sees the rows of the communities
 * in their account's scope. A branch secretary is a resident account whose member record leads an
 * organisation: they see the rows of that organisation and its direct children, found in SQL through
 * PARTY_LED_ORGS, so that another branch's row is simply not selected (404, never 403 with the row's
 * existence leaked). A member sees their own record and dues, and the activities of their own
 * organisation and its parent. Everything is decided inside the query; no row is filtered after it. */
#include "modules/party/party_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"

bool party_manager(const nx_principal *who)
{
    return perm_has(who, RIGHT_PARTY_MANAGE);
}

bool party_self(const nx_principal *who)
{
    /* a family account is bound to the elder it looks after, not to its holder: it does not act as them */
    return perm_has(who, RIGHT_SELF) && who->resident_id && who->role == ROLE_RESIDENT;
}

bool party_may_read(const nx_principal *who)
{
    return party_manager(who) || party_self(who);
}

static void manager_scope(sqlq *q, const nx_principal *who, const char *alias)
{
    if (who->scope == SCOPE_GRID || who->scope == SCOPE_SELF) /* party rows have no grid: the community */
        sqlq_sql(q, " AND %scommunity_id = $%d", alias, sqlq_param(q, P_INT(who->community_id)));
    else
        perm_scope_q(who, alias, NULL, q);
}

static void led_orgs(sqlq *q, const nx_principal *who, const char *alias, const char *org_col)
{
    int k = sqlq_param(q, P_INT(who->resident_id));
    sqlq_sql(q, "%s%s IN " PARTY_LED_ORGS, alias, org_col, k, k);
}

void party_scope_q(sqlq *q, const nx_principal *who, const char *alias, const char *org_col)
{
    if (party_manager(who)) {
        manager_scope(q, who, alias);
    } else if (party_self(who) && org_col) {
        sqlq_sql(q, " AND ");
        led_orgs(q, who, alias, org_col);
    } else {
        sqlq_sql(q, " AND 1 = 0");
    }
}

int party_load_managed(store_tx *tx, const nx_principal *who, const char *table, int64_t id, const char *missing,
                       int64_t *community, int64_t *org, char *status, size_t cap, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT x.community_id, x.org_id, x.status FROM ");
    sqlq_sql(&q, "%s x WHERE 1 = 1", table);
    sqlq_add(&q, " AND x.id = $%d", P_INT(id));
    party_scope_q(&q, who, "x.", "org_id");
    store_rows *r;
    int rc = sqlq_first(tx, &q, missing, &r, e);
    if (rc)
        return rc;
    *community = store_int(r, 0);
    *org = store_int(r, 1);
    str_copy(status, store_text(r, 2), cap);
    store_rows_free(r);
    return 0;
}

void party_view_q(sqlq *q, const nx_principal *who, const char *alias, const char *org_col, const char *member_col,
                  bool own_org)
{
    if (party_manager(who) || !party_self(who)) {
        party_scope_q(q, who, alias, org_col);
        return;
    }
    int k = sqlq_param(q, P_INT(who->resident_id));
    sqlq_sql(q, " AND (");
    if (org_col) {
        sqlq_sql(q, "%s%s IN " PARTY_LED_ORGS " OR ", alias, org_col, k, k);
        if (own_org)
            sqlq_sql(q,
                     "%s%s IN (SELECT me.org_id FROM party_members me WHERE me.resident_id = $%d AND me.status = "
                     "'active' UNION SELECT po.parent_id FROM party_members me JOIN party_orgs po ON po.id = me.org_id "
                     "WHERE me.resident_id = $%d AND me.status = 'active' AND po.parent_id IS NOT NULL) OR ",
                     alias, org_col, k, k);
    }
    if (member_col)
        sqlq_sql(q, "%s IN (SELECT me.id FROM party_members me WHERE me.resident_id = $%d) OR ", member_col, k);
    sqlq_sql(q, "1 = 0)");
}

int party_check_org(store_tx *tx, const nx_principal *who, int64_t org, int64_t *community, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT o.community_id FROM party_orgs o WHERE 1 = 1");
    sqlq_add(&q, " AND o.id = $%d", P_INT(org));
    party_scope_q(&q, who, "o.", "id");
    int rc = sqlq_one_int(tx, &q, community, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_ENOTFOUND, "org_id", "党组织不存在");
    return rc;
}

int party_target_community(store_tx *tx, const nx_principal *who, int64_t given, int64_t *community, nx_err *e)
{
    if (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID) {
        if (given && given != who->community_id)
            return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
        *community = who->community_id;
        return 0;
    }
    if (!given)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区");
    if (!perm_covers(who, tx, given, 0))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    int64_t one = 0;
    store_param p[] = {P_INT(given)};
    int rc = store_one_int(tx, "SELECT id FROM communities WHERE id = $1", p, 1, &one, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    *community = given;
    return rc;
}

int party_filter_check(const party_filter *f, nx_err *e)
{
    if (f->q && str_utf8_len(f->q) > 50)
        return nx_fail(e, NX_EINVAL, "q", "搜索词最多 50 个字");
    if (f->year && (strlen(f->year) != 4 || strspn(f->year, "0123456789") != 4))
        return nx_fail(e, NX_EINVAL, "year", "年份格式应为 YYYY");
    if (f->month && (strlen(f->month) != 7 || strspn(f->month, "0123456789") != 4 || f->month[4] != '-' ||
                     strspn(f->month + 5, "0123456789") != 2 || f->month[5] > '1'))
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    return 0;
}

void party_today(char out[11])
{
    date_format(date_today(), out);
}

const char *party_kind_label(const char *kind)
{
    static const char *const map[][2] = {{"member_meeting", "支部党员大会"}, {"committee_meeting", "支部委员会"},
                                         {"group_meeting", "党小组会"},      {"lesson", "党课"},
                                         {"theme_day", "主题党日"}};
    const char *l = STR_LABEL(map, kind);
    return l ? l : "";
}

const char *party_org_kind_label(const char *kind)
{
    static const char *const map[][2] = {{"committee", "党委（总支）"}, {"branch", "党支部"}, {"group", "党小组"}};
    const char *l = STR_LABEL(map, kind);
    return l ? l : "";
}

void party_yuan(int64_t fen, char *out, size_t cap)
{
    int64_t a = fen < 0 ? -fen : fen;
    snprintf(out, cap, "%s%lld.%02lld", fen < 0 ? "-" : "", (long long)(a / 100), (long long)(a % 100));
}

int party_page(nx_app *app, const nx_principal *who, const party_filter *f, party_where_fn *where, const char *cols,
               const char *count_sql, const char *alias, bool oldest_first, json_t *(*row)(store_rows *r),
               json_t **out, nx_err *e)
{
    sqlq q, count;
    where(&q, cols, who, f);
    where(&count, count_sql, who, f);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = row};
    return store_page_by_id(app->db, &q, alias, f->after, oldest_first, &s, out, e);
}

int party_get_begin(nx_app *app, sqlq *q, json_t *(*row)(store_rows *r), const char *missing, store_tx **tx,
                    json_t **o, nx_err *e)
{
    int rc = store_begin(app->db, STORE_READ, tx, e);
    if (rc)
        return rc;
    if ((rc = store_get(*tx, q, &(store_page_spec){.row = row}, missing, o, e)))
        store_rollback(*tx);
    return rc;
}

int party_attach_row(store_tx *tx, json_t *o, const char *key, const char *sql, int64_t id, const char *spec,
                     const char *missing, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, sql);
    sqlq_param(&q, P_INT(id));
    json_t *row = NULL;
    store_page_spec s = {.row_ctx = store_json_row_ctx, .ctx = (void *)spec};
    int rc = store_get(tx, &q, &s, missing, &row, e);
    if (rc == 0)
        json_object_set_new(o, key, row);
    return rc;
}

int party_list_check(const nx_principal *who, const party_filter *f, const char *deny, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "%s", deny);
    return party_filter_check(f, e) ? NX_EINVAL : 0;
}

int party_view_id_q(const nx_principal *who, const char *deny, sqlq *q, const char *head, const char *alias, int64_t id,
                    const char *member_col, bool own_org, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "%s", deny);
    sqlq_init(q, head);
    sqlq_sql(q, " AND %sid = $%d", alias, sqlq_param(q, P_INT(id)));
    party_view_q(q, who, alias, "org_id", member_col, own_org);
    return 0;
}
