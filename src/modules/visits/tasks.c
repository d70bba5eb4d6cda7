/* tasks.c — visit tasks (走访任务): routine tasks made by the scheduler (one per care file and
 * period) and event tasks (遇事必访, unique by source key). Staff list and read them in their scope,
 * reassign them, move their due date, or cancel them with a reason; a task is done only by a visit
 * that answers it (visit_records.c). Every change is on the task's time line and in the audit log.
 * Threads: none of its own; every function runs its own transaction. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "secure/audit.h"

#include <string.h>

#define TASK_COLS                                                                                  \
    "SELECT t.id, t.community_id, t.grid_id, g.name, t.resident_id, r.name, t.care_file_id, t.kind, t.reason, " \
    "t.note, t.period_start, t.due_date, t.assignee_user_id, u.display_name, t.status, t.overdue, "              \
    "t.escalated_at, t.visit_id, t.done_at, t.created_at, f.level "                                              \
    "FROM visit_tasks t JOIN residents r ON r.id = t.resident_id LEFT JOIN grids g ON g.id = t.grid_id "         \
    "LEFT JOIN users u ON u.id = t.assignee_user_id LEFT JOIN care_files f ON f.id = t.care_file_id"

static json_t *task_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i grid_name:t resident_id:i resident_name:t "
                                  "care_file_id:i kind:t reason:t note:t period_start:t due_date:t "
                                  "assignee_user_id:i assignee_name:t status:t overdue:b escalated_at:d visit_id:i "
                                  "done_at:d created_at:d level:t");
    if (o)
        json_object_set_new(o, "escalated", json_boolean(!store_isnull(r, 16)));
    return o;
}

int visits_task_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访任务");
    sqlq q;
    sqlq_init(&q, TASK_COLS " WHERE 1 = 1");
    perm_scope_q(who, "t.", "resident_id", &q);
    static const char *const statuses[] = {"open", "done", "cancelled", NULL};
    int rc = visits_status_q(&q, "t.", f->status, statuses, "all", NULL, "状态应为 open、done、cancelled 或 all", e);
    if (rc)
        return rc;
    if (f->kind && strcmp(f->kind, "routine") != 0 && strcmp(f->kind, "event") != 0)
        return nx_fail(e, NX_EINVAL, "kind", "类型应为 routine 或 event");
    if (f->overdue)
        sqlq_sql(&q, " AND t.overdue = 1");
    if (f->escalated)
        sqlq_sql(&q, " AND t.escalated_at IS NOT NULL");
    sqlq_range_text(&q, "t.due_date", f->from, f->to);
    return visits_list_page(app, &q, "t.", f,
                            VISITS_BY_COMMUNITY | VISITS_BY_GRID | VISITS_BY_RESIDENT | VISITS_BY_FILE |
                                VISITS_BY_ASSIGNEE | VISITS_BY_KIND,
                            (store_page_spec){.row = task_row}, out, e);
}

int visits_task_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访任务");
    sqlq q;
    perm_scope_id_q(who, "t.", "resident_id", id, TASK_COLS " WHERE 1 = 1", &q);
    return visits_get_one(app, &q, task_row, "走访任务不存在", "task", id, false, out, e);
}

int visits_task_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改走访任务");
    static const char *const allowed[] = {"assignee_user_id", "due_date", "note", "status", NULL};
    int64_t assignee = 0;
    const char *due = NULL, *note = NULL, *status = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "assignee_user_id", false, 1, INT64_MAX, &assignee, e)) < 0 ||
        (rc = json_read_date(in, "due_date", false, &due, e)) ||
        (rc = json_read_str(in, "note", false, 500, &note, e)) ||
        (rc = json_read_str(in, "status", false, 20, &status, e)))
        return rc;
    if (status && strcmp(status, "cancelled") != 0)
        return nx_fail(e, NX_EINVAL, "status", "只能把任务改为 cancelled（取消）；完成任务请登记走访");
    if (status && !note)
        return nx_fail(e, NX_EINVAL, "note", "取消任务请写明原因");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = perm_scope_first(tx, who, "t.", "resident_id", id,
                               "SELECT t.community_id, t.status FROM visit_tasks t WHERE 1 = 1", "走访任务不存在", &r,
                               e)))
        goto fail;
    int64_t community = store_int(r, 0);
    bool open = strcmp(store_text(r, 1), "open") == 0;
    store_rows_free(r);
    if (!open) {
        rc = nx_fail(e, NX_ECONFLICT, "", "任务已完成或已取消");
        goto fail;
    }
    if (assignee && (rc = visits_user_check(tx, assignee, community, "assignee_user_id", e)))
        goto fail;
    store_param u[] = {P_ID(assignee), P_TEXT(due), P_TEXT(note), P_TEXT(status), P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(
             tx,
             "UPDATE visit_tasks SET assignee_user_id = COALESCE($1, assignee_user_id), due_date = "
             "COALESCE($2, due_date), note = COALESCE($3, note), status = COALESCE($4, status), "
             "updated_at = $5 WHERE id = $6",
             u, 6, NULL, e)) ||
        (rc = visits_timeline_add(tx, community, "task", id, who, status ? "cancelled" : "updated", note,
                                  NULL, NULL, e)) ||
        (rc = audit_write(tx, who, "update", "visit_task", id, community, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
