/* review.c — the review workflow, deadlines and escalation, statistics.
 *
 * A step belongs to a role: "community" steps are handled by community staff of the application's
 * community, "street" steps by street officers of the street the community belongs to (their scope
 * covers all its communities), admins may act at any step. Scope is applied when the application is
 * loaded (SQL), the role is checked after: a staff member of another community gets "not found"; a
 * staff member at a street step gets "forbidden" with the step named.
 *
 * Deadlines: entering a step sets due_at = now + the step's days (calendar days). "due_soon" is the
 * last 24 hours, "overdue" past due_at. The sweep escalates each overdue step once (escalated_at):
 * a time line row and a notification to the next level (community step → the street's officers,
 * street step → admins). */
#include "modules/services/services_internal.h"

#include "base/log.h"
#include "base/str.h"
#include "base/vec.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESCALATE_BATCH 500

static bool role_fits(const nx_principal *who, const char *step_role)
{
    if (who->role == ROLE_ADMIN)
        return true;
    if (strcmp(step_role, "community") == 0)
        return who->role == ROLE_STAFF;
    if (strcmp(step_role, "street") == 0)
        return who->role == ROLE_STREET;
    return false;
}

/* One review decision on the application a (in review): its UPDATE (sql with the n parameters p) and
 * the time line entry action from in_review to to, with the reviewer's note. */
static int decide(store_tx *tx, const nx_principal *who, const services_app_row *a, const char *sql,
                  const store_param *p, int n, const char *action, const char *to, const char *note,
                  nx_err *e)
{
    int rc = store_exec(tx, sql, p, n, NULL, e);
    return rc ? rc
              : services_timeline(tx, who, a->id, a->community_id, action, "in_review", to, a->step_code,
                                  note, e);
}

int services_review(nx_app *app, const nx_principal *who, int64_t id, const char *action, const char *note,
                    nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_REVIEW))
        return nx_fail(e, NX_EPERM, "", "无权审核服务申请");
    bool approve = action && strcmp(action, "approve") == 0, ret = action && strcmp(action, "return") == 0,
         reject = action && strcmp(action, "reject") == 0;
    if (!approve && !ret && !reject)
        return nx_fail(e, NX_EINVAL, "action", "审核操作应为 approve（通过）、return（退回补正）或 reject（不予受理）");
    if ((ret || reject) && (note == NULL || note[0] == '\0'))
        return nx_fail(e, NX_EINVAL, "note", ret ? "退回补正须写明需要补正的内容" : "不予受理须写明理由");
    if (note && (!str_utf8_valid(note, strlen(note)) || str_utf8_len(note) > 500))
        return nx_fail(e, NX_EINVAL, "note", "审核意见最多 500 字");
    services_app_tx o;
    services_person person;
    json_t *more = NULL; /* what the event says beyond the step it was at */
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, true, &o, e)))
        goto done;
    if (strcmp(o.a.status, "in_review") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "申请当前状态（%s）不在审核中",
                     services_status_label(o.a.status));
        goto done;
    }
    const char *step_name = services_step_str(&o.it, o.a.step, "name");
    if (!role_fits(who, o.a.step_role)) {
        rc = nx_fail(e, NX_EPERM, "", "当前环节为“%s”，须由%s办理", step_name ? step_name : o.a.step_code,
                     strcmp(o.a.step_role, "street") == 0 ? "街道工作人员" : "社区工作人员");
        goto done;
    }
    int64_t now = clock_now_ms();
    int nsteps = services_item_nsteps(&o.it);
    const char *to = NULL, *kind = NULL;
    if (approve && o.a.step + 1 < nsteps) {
        int next = o.a.step + 1;
        store_param p[] = {P_INT(id),
                           P_INT(next),
                           P_TEXT(services_step_str(&o.it, next, "code")),
                           P_TEXT(services_step_str(&o.it, next, "role")),
                           P_INT(now + (int64_t)services_step_days(&o.it, next) * SERVICES_DAY_MS),
                           P_INT(now)};
        if ((rc = decide(
                 o.tx, who, &o.a,
                 "UPDATE service_applications SET step = $2, step_code = $3, step_role = $4, due_at = $5, "
                 "escalated_at = NULL, version = version + 1, updated_at = $6 WHERE id = $1",
                 p, 6, "step_approved", "in_review", note, e)))
            goto done;
        const char *next_name = services_step_str(&o.it, next, "name");
        more = json_pack("{s:s}", "next_step", next_name ? next_name : "");
        to = "in_review";
        kind = SERVICES_EV_APPLICATION_STEP_APPROVED;
    } else if (approve) {
        store_param p[] = {P_INT(id), P_INT(now)};
        if ((rc = decide(
                 o.tx, who, &o.a,
                 "UPDATE service_applications SET status = 'approved', due_at = NULL, decided_at = $2, "
                 "version = version + 1, updated_at = $2 WHERE id = $1",
                 p, 2, "approved", "approved", note, e)))
            goto done;
        if (o.it.document && (rc = services_certificate_issue(o.tx, who, &o.it, id, o.a.community_id, now, e)))
            goto done;
        if (strcmp(o.it.effect, "allowance") == 0) {
            if ((rc = services_person_load(app, o.tx, o.a.resident_id, &person, e)) ||
                (rc = services_allowance_start(app, o.tx, who, id, &person, now, e)))
                goto done;
        } else if (strncmp(o.it.effect, "tag:", 4) == 0) {
            /* 低保, 残疾人两项补贴: the approval is the fact the tag records (the visits module opens
             * a care file of that category on the approved event when the resident has none) */
            store_param tp[] = {P_INT(o.a.resident_id), P_TEXT(o.it.effect + 4), P_INT(now)};
            if ((rc = store_exec(o.tx,
                                 "INSERT INTO resident_tags (resident_id, tag_id, created_at) SELECT $1, t.id, $3 "
                                 "FROM tags t WHERE t.code = $2 ON CONFLICT DO NOTHING",
                                 tp, 3, NULL, e)))
                goto done;
        }
        more = json_pack("{s:i}", "document", o.it.document ? 1 : 0);
        to = "approved";
        kind = SERVICES_EV_APPLICATION_APPROVED;
    } else if (ret) {
        store_param p[] = {P_INT(id), P_TEXT(note), P_INT(now)};
        if ((rc = decide(
                 o.tx, who, &o.a,
                 "UPDATE service_applications SET status = 'returned', correction = $2, due_at = NULL, "
                 "version = version + 1, updated_at = $3 WHERE id = $1",
                 p, 3, "returned", "returned", note, e)))
            goto done;
        to = "returned";
        kind = SERVICES_EV_APPLICATION_RETURNED;
    } else {
        store_param p[] = {P_INT(id), P_TEXT(note), P_INT(now)};
        if ((rc = decide(o.tx, who, &o.a,
                         "UPDATE service_applications SET status = 'rejected', reason = $2, due_at = NULL, "
                         "decided_at = $3, version = version + 1, updated_at = $3 WHERE id = $1",
                         p, 3, "rejected", "rejected", note, e)))
            goto done;
        to = "rejected";
        kind = SERVICES_EV_APPLICATION_REJECTED;
    }
    if ((rc = audit_write_new(o.tx, who, "review", "service_application", id, o.a.community_id,
                              json_pack("{s:s, s:s}", "action", action, "step", o.a.step_code), e)))
        goto done;
    rc = services_emit(o.tx, kind, &o.a, &o.it, to, more, e);
    more = NULL; /* stolen */
done:
    json_decref(more);
    return services_app_close(&o, rc, e);
}

/* ---- sweep: escalation (the allowance part is in allowance.c) ---- */

/* An application overdue at its step, as escalate reads it. */
typedef struct esc {
    int64_t id, community, resident;
    char role[16], step[48], serial[40], item[128], step_name[64];
} esc;

static void esc_fill(store_rows *r, void *elem)
{
    esc *x = elem;
    x->id = store_int(r, 0);
    x->community = store_int(r, 1);
    x->resident = store_int(r, 2);
    str_copy(x->role, store_text(r, 3), sizeof x->role);
    str_copy(x->step, store_text(r, 4), sizeof x->step);
    str_copy(x->serial, store_text(r, 5), sizeof x->serial);
    str_copy(x->item, store_text(r, 6), sizeof x->item);
    json_t *steps = json_loads(store_text(r, 8), 0, NULL); /* the name of the step overdue */
    const char *sn = json_string_value(json_object_get(json_array_get(steps, (size_t)store_int(r, 7)), "name"));
    str_copy(x->step_name, sn ? sn : x->step, sizeof x->step_name);
    json_decref(steps);
}

static int escalate(store_tx *tx, const nx_principal *who, int64_t now, int *count, nx_err *e)
{
    /* A batch of ESCALATE_BATCH per run, oldest first: the rest are escalated by the next runs (each
     * run marks the ones it handled), so none is skipped, and one run's transaction stays short. */
    sqlq q;
    sqlq_init(&q, "SELECT a.id, a.community_id, a.resident_id, a.step_role, a.step_code, a.serial, i.name, a.step, "
                  "i.steps "
                  "FROM service_applications a JOIN service_items i ON i.id = a.item_id "
                  "WHERE a.status = 'in_review' AND a.escalated_at IS NULL");
    sqlq_add(&q, " AND a.due_at < $%d", P_INT(now));
    if (who)
        perm_scope_q(who, "a.", "resident_id", &q);
    sqlq_sql(&q, " ORDER BY a.id LIMIT %d", ESCALATE_BATCH);
    vec found;
    vec_init(&found, sizeof(esc), 500);
    int rc = sqlq_query_vec(tx, &q, esc_fill, &found, e);
    if (rc) {
        vec_cleanup(&found);
        return rc;
    }
    esc *list = found.items;
    size_t nlist = found.len;
    for (size_t i = 0; i < nlist && rc == 0; i++) {
        esc *x = &list[i];
        store_param u[] = {P_INT(x->id), P_INT(now)};
        services_app_row a = {.id = x->id, .community_id = x->community, .resident_id = x->resident};
        str_copy(a.serial, x->serial, sizeof a.serial);
        str_copy(a.step_role, x->role, sizeof a.step_role);
        const char *to_role = strcmp(x->role, "community") == 0 ? "street" : "admin";
        if ((rc = store_exec(tx, "UPDATE service_applications SET escalated_at = $2 WHERE id = $1", u, 2,
                             NULL, e)) ||
            (rc = services_timeline(
                 tx, who, x->id, x->community, "escalated", "in_review", "in_review", x->step,
                 strcmp(to_role, "street") == 0 ? "超时，已提醒街道督办" : "超时，已提醒系统管理员督办",
                 e)) ||
            (rc = services_emit(tx, SERVICES_EV_APPLICATION_OVERDUE, &a, NULL, "in_review",
                                json_pack("{s:s, s:s}", "title", x->item, "step_name", x->step_name), e)))
            break;
        (*count)++;
    }
    vec_cleanup(&found);
    return rc;
}

int services_sweep(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **summary, nx_err *e)
{
    if (who && !perm_has(who, RIGHT_SERVICE_REVIEW))
        return nx_fail(e, NX_EPERM, "", "无权执行督办");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int escalated = 0, changes = 0, stopped = 0;
    if ((rc = escalate(tx, who, now_ms, &escalated, e)) ||
        (rc = services_allowance_sweep(app, tx, who, now_ms, &changes, &stopped, e))) {
        store_rollback(tx);
        return rc;
    }
    if (escalated || changes || stopped) {
        rc = audit_write_new(
            tx, who, "sweep", "service_application", 0, who ? who->community_id : 0,
            json_pack("{s:i, s:i, s:i}", "escalated", escalated, "tier_changes", changes, "stopped", stopped),
            e);
        if (rc) {
            store_rollback(tx);
            return rc;
        }
    }
    if ((rc = store_commit(tx, e)))
        return rc;
    if (escalated || changes || stopped)
        nx_log(LOG_INFO, "services.sweep escalated=%d tier_changes=%d stopped=%d", escalated, changes, stopped);
    if (summary)
        *summary = json_pack("{s:i, s:i, s:i}", "escalated", escalated, "tier_changes", changes, "stopped", stopped);
    return 0;
}

/* ---- statistics ---- */

int services_stats(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_REVIEW))
        return nx_fail(e, NX_EPERM, "", "无权查看服务统计");
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    json_t *by_item = json_array(), *by_step = json_array(), *by_status = json_object();
    json_t *o = NULL;
    store_rows *r = NULL;
    sqlq q;
    /* by item and status */
    sqlq_init(&q, "SELECT i.id, i.name, a.status, count(*) FROM service_applications a JOIN service_items i ON i.id = "
                  "a.item_id WHERE 1 = 1");
    perm_scope_q(who, "a.", "resident_id", &q);
    sqlq_sql(&q, " GROUP BY i.id, i.name, a.status ORDER BY i.id");
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    int64_t total = 0;
    while (store_row(r)) {
        int64_t item = store_int(r, 0), c = store_int(r, 3);
        const char *st = store_text(r, 2);
        json_t *last = json_array_get(by_item, json_array_size(by_item) - 1);
        if (last == NULL || json_integer_value(json_object_get(last, "item_id")) != item) {
            last = json_pack("{s:I, s:s, s:i, s:{}}", "item_id", (json_int_t)item, "name", store_text(r, 1), "total", 0,
                             "by_status");
            json_array_append_new(by_item, last);
        }
        json_object_set_new(last, "total", json_integer(json_integer_value(json_object_get(last, "total")) + c));
        json_object_set_new(json_object_get(last, "by_status"), st, json_integer(c));
        json_object_set_new(by_status, st, json_integer(json_integer_value(json_object_get(by_status, st)) + c));
        total += c;
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;
    /* waiting per step, with overdue counts */
    sqlq_init(&q, NULL);
    sqlq_sql(&q,
             "SELECT a.step_code, a.step_role, count(*), sum(CASE WHEN a.due_at < $%d THEN 1 ELSE 0 END) "
             "FROM service_applications a WHERE a.status = 'in_review'",
             sqlq_param(&q, P_INT(now_ms)));
    perm_scope_q(who, "a.", "resident_id", &q);
    sqlq_sql(&q, " GROUP BY a.step_code, a.step_role ORDER BY a.step_code");
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    int64_t overdue = 0, waiting = 0;
    while (store_row(r)) {
        json_array_append_new(by_step, json_pack("{s:s, s:s, s:I, s:I}", "step_code", store_text(r, 0), "step_role",
                                                 store_text(r, 1), "waiting", (json_int_t)store_int(r, 2), "overdue",
                                                 (json_int_t)store_int(r, 3)));
        waiting += store_int(r, 2);
        overdue += store_int(r, 3);
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;
    sqlq_init(&q, "SELECT count(*), CAST(COALESCE(sum(a.decided_at - a.submitted_at), 0) AS BIGINT) FROM "
                  "service_applications a WHERE a.status IN ('approved', 'rejected') AND a.submitted_at IS NOT NULL "
                  "AND a.decided_at IS NOT NULL");
    perm_scope_q(who, "a.", "resident_id", &q);
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    int64_t decided = 0, sum_ms = 0;
    if ((rc = store_first(r, "统计查询没有结果", e)))
        goto done;
    decided = store_int(r, 0);
    sum_ms = store_int(r, 1);
    store_rows_free(r);
    r = NULL;
    double avg_hours = decided ? (double)sum_ms / (double)decided / 3600000.0 : 0.0;
    o = json_object();
    json_object_set_new(o, "total", json_integer(total));
    json_object_set_new(o, "waiting", json_integer(waiting));
    json_object_set_new(o, "overdue", json_integer(overdue));
    json_object_set_new(o, "decided", json_integer(decided));
    json_object_set_new(o, "avg_handling_hours", json_real((double)(int64_t)(avg_hours * 10 + 0.5) / 10.0));
    json_object_set_new(o, "by_status", by_status);
    json_object_set_new(o, "by_item", by_item);
    json_object_set_new(o, "by_step", by_step);
    by_status = by_item = by_step = NULL;
    json_t *cards = json_array();
    json_array_append_new(cards, json_pack("{s:s, s:s, s:I}", "key", "waiting", "label", "待审核", "value", (json_int_t)waiting));
    json_array_append_new(cards, json_pack("{s:s, s:s, s:I}", "key", "overdue", "label", "已超时", "value", (json_int_t)overdue));
    json_array_append_new(cards, json_pack("{s:s, s:s, s:I}", "key", "approved", "label", "已办结", "value",
                                           (json_int_t)json_integer_value(json_object_get(json_object_get(o, "by_status"), "approved"))));
    json_array_append_new(cards, json_pack("{s:s, s:s, s:f}", "key", "avg_handling_hours", "label", "平均办理时长（小时）",
                                           "value", json_real_value(json_object_get(o, "avg_handling_hours"))));
    json_object_set_new(o, "cards", cards);
done:
    store_rows_free(r);
    store_rollback(tx);
    json_decref(by_item);
    json_decref(by_step);
    json_decref(by_status);
    if (rc == 0)
        *out = o;
    return rc;
}
