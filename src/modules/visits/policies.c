/* policies.c — the visit policies (visit_policies): per care level, and optionally per category and
 * community, how often a routine visit is due (every N calendar months or N Monday-Sunday weeks),
 * who is responsible (grid worker or community staff) and after how many days an overdue task
 * escalates. The most specific policy wins (schedule.c). Everyone with CARE_READ sees the defaults
 * and the policies of the communities in their scope; changes need CARE_ADMIN and are audited.
 * Threads: none of its own; every function runs its own transaction. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "secure/audit.h"

#include <string.h>

#define POLICY_COLS                                                                                \
    "SELECT p.id, p.community_id, p.category, p.level, p.period_unit, p.period_count, p.responsible, " \
    "p.escalate_days FROM visit_policies p"

static json_t *policy_row(store_rows *r)
{
    return json_pack("{s:I, s:o, s:o, s:s, s:s, s:I, s:s, s:I}", "id", (json_int_t)store_int(r, 0), "community_id",
                     store_json_int(r, 1), "category", store_json_text(r, 2), "level", store_text(r, 3), "period_unit",
                     store_text(r, 4), "period_count", (json_int_t)store_int(r, 5), "responsible",
                     store_text(r, 6), "escalate_days", (json_int_t)store_int(r, 7));
}

/* Policies visible to who: the defaults and those of communities in scope. */
static void policy_query(sqlq *q, const nx_principal *who, int64_t id)
{
    sqlq_init(q, POLICY_COLS " WHERE 1 = 1");
    if (id)
        sqlq_add(q, " AND p.id = $%d", P_INT(id));
    if (who->scope == SCOPE_STREET)
        sqlq_add(q, " AND (p.community_id IS NULL OR p.community_id IN (SELECT id FROM communities WHERE street_id = $%d))",
                 P_INT(who->street_id));
    else if (who->scope != SCOPE_ALL)
        sqlq_add(q, " AND (p.community_id IS NULL OR p.community_id = $%d)", P_INT(who->community_id));
    sqlq_sql(q, " ORDER BY p.id");
}

int visits_policy_list(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访规则");
    sqlq q;
    policy_query(&q, who, 0);
    return store_items_read(app->db, &q, &(store_page_spec){.row = policy_row}, out, e);
}

int visits_policy_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访规则");
    sqlq q;
    policy_query(&q, who, id);
    return store_get_read(app->db, &q, &(store_page_spec){.row = policy_row}, "走访规则不存在", out, e);
}

static int policy_fields(json_t *in, bool create, const char **unit, int64_t *count, const char **resp,
                         int64_t *esc, nx_err *e)
{
    int rc;
    if ((rc = json_read_str(in, "period_unit", create, 10, unit, e)) ||
        (rc = json_get_int(in, "period_count", false, 1, 12, count, e)) < 0 ||
        (rc = json_read_str(in, "responsible", false, 10, resp, e)) ||
        (rc = json_get_int(in, "escalate_days", false, 0, 60, esc, e)) < 0)
        return rc;
    if (*unit && strcmp(*unit, "month") != 0 && strcmp(*unit, "week") != 0)
        return nx_fail(e, NX_EINVAL, "period_unit", "周期单位应为 month（月）或 week（周）");
    if (*resp && strcmp(*resp, "grid") != 0 && strcmp(*resp, "staff") != 0)
        return nx_fail(e, NX_EINVAL, "responsible", "责任人应为 grid（网格员）或 staff（社区工作人员）");
    return 0;
}

int visits_policy_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "只有系统管理员可以修改走访规则");
    static const char *const allowed[] = {"community_id", "category", "level", "period_unit", "period_count",
                                          "responsible", "escalate_days", NULL};
    const char *category = NULL, *level = NULL, *unit = NULL, *resp = NULL;
    int64_t community = 0, count = 1, esc = 3;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &community, e)) < 0 ||
        (rc = json_read_str(in, "category", false, 40, &category, e)) ||
        (rc = json_read_str(in, "level", true, 40, &level, e)) ||
        (rc = policy_fields(in, true, &unit, &count, &resp, &esc, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    if ((rc = visits_vocab_check(tx, "care_level", level, "level", "关怀等级", e)) ||
        (category && (rc = visits_vocab_check(tx, "care_category", category, "category", "关怀类别", e))))
        goto fail;
    if (community) {
        int64_t n = 0;
        store_param cp[] = {P_INT(community)};
        if ((rc = store_one_int(tx, "SELECT count(*) FROM communities WHERE id = $1", cp, 1, &n, e)))
            goto fail;
        if (n == 0) {
            rc = nx_fail(e, NX_EINVAL, "community_id", "社区不存在");
            goto fail;
        }
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_ID(community), P_TEXT(category), P_TEXT(level), P_TEXT(unit), P_INT(count),
                       P_TEXT(resp ? resp : "grid"), P_INT(esc), P_INT(now), P_INT(now)};
    if ((rc = app_insert(tx, "visit_policies",
                         "community_id, category, level, period_unit, period_count, responsible, "
                         "escalate_days, created_at, updated_at",
                         p, 9, id, e)))
        goto fail;
    if ((rc = audit_write(tx, who, "create", "visit_policy", *id, community, NULL, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    if (rc == NX_ECONFLICT && strcmp(e->field, "level") != 0)
        return nx_fail(e, NX_ECONFLICT, "level", "该社区、类别和等级已有走访规则");
    return rc;
}

int visits_policy_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "只有系统管理员可以修改走访规则");
    static const char *const allowed[] = {"period_unit", "period_count", "responsible", "escalate_days", NULL};
    const char *unit = NULL, *resp = NULL;
    int64_t count = -1, esc = -1;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = policy_fields(in, false, &unit, &count, &resp, &esc, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_param p[] = {P_TEXT(unit), P_INT(count), P_TEXT(resp), P_INT(esc), P_INT(clock_now_ms()), P_INT(id)};
    int64_t changes = 0;
    if ((rc = store_exec(tx,
                         "UPDATE visit_policies SET period_unit = COALESCE($1, period_unit), period_count = CASE WHEN "
                         "$2 < 0 THEN period_count ELSE $2 END, responsible = COALESCE($3, responsible), "
                         "escalate_days = CASE WHEN $4 < 0 THEN escalate_days ELSE $4 END, updated_at = $5 WHERE id = $6",
                         p, 6, &changes, e)))
        goto fail;
    if (changes == 0) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "走访规则不存在");
        goto fail;
    }
    if ((rc = audit_write(tx, who, "update", "visit_policy", id, 0, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
