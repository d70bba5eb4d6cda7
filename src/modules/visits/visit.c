/* visit.c — visit tasks, visit records, photos and problems to solve (解难题).
 *
 * A visit answers the open tasks of its resident: the task it names, every routine task whose
 * period began on or before the visit day, and every open event task; it moves the care file's
 * last_visit_on forward (never back, so a late entry of an old visit does not hide a gap). Needs
 * raised in the visit become problems in the same transaction, and a follow-up date becomes an
 * event task due that day (source "followup:<visit>"), so nothing found on a visit is lost.
 *
 * Problems move open → assigned → in_progress → resolved → closed (closed also by the rating, or
 * directly by staff); each change is on the problem's timeline and in the audit log. A resident
 * sees and rates only problems about themselves: perm_scope_sql's self scope on resident_id.
 *
 * Photos are stored in the upload store (store/upload.h: <data_dir>/uploads/, 16 random bytes in hex
 * plus the extension of the sniffed type); the client's name and Content-Type are ignored. A row in
 * care_photos carries the owner's community, grid and resident, so reading a photo is scoped in
 * SQL like everything else. A file written for a transaction that then fails is removed.
 * Threads: none of its own. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "secure/audit.h"
#include "store/upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tasks ---- */

#define TASK_COLS                                                                                  \
    "SELECT t.id, t.community_id, t.grid_id, g.name, t.resident_id, r.name, t.care_file_id, t.kind, t.reason, " \
    "t.note, t.period_start, t.due_date, t.assignee_user_id, u.display_name, t.status, t.overdue, "              \
    "t.escalated_at, t.visit_id, t.done_at, t.created_at, f.level "                                              \
    "FROM visit_tasks t JOIN residents r ON r.id = t.resident_id LEFT JOIN grids g ON g.id = t.grid_id "         \
    "LEFT JOIN users u ON u.id = t.assignee_user_id LEFT JOIN care_files f ON f.id = t.care_file_id"

static json_t *task_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(store_int(r, 0)));
    json_object_set_new(o, "community_id", json_integer(store_int(r, 1)));
    json_object_set_new(o, "grid_id", store_json_int(r, 2));
    json_object_set_new(o, "grid_name", store_json_text(r, 3));
    json_object_set_new(o, "resident_id", json_integer(store_int(r, 4)));
    json_object_set_new(o, "resident_name", json_string(store_text(r, 5)));
    json_object_set_new(o, "care_file_id", store_json_int(r, 6));
    json_object_set_new(o, "kind", json_string(store_text(r, 7)));
    json_object_set_new(o, "reason", json_string(store_text(r, 8)));
    json_object_set_new(o, "note", store_json_text(r, 9));
    json_object_set_new(o, "period_start", store_json_text(r, 10));
    json_object_set_new(o, "due_date", json_string(store_text(r, 11)));
    json_object_set_new(o, "assignee_user_id", store_json_int(r, 12));
    json_object_set_new(o, "assignee_name", store_json_text(r, 13));
    json_object_set_new(o, "status", json_string(store_text(r, 14)));
    json_object_set_new(o, "overdue", json_boolean(store_int(r, 15)));
    json_object_set_new(o, "escalated", json_boolean(!store_isnull(r, 16)));
    json_object_set_new(o, "escalated_at", store_json_time(r, 16));
    json_object_set_new(o, "visit_id", store_json_int(r, 17));
    json_object_set_new(o, "done_at", store_json_time(r, 18));
    json_object_set_new(o, "created_at", store_json_time(r, 19));
    json_object_set_new(o, "level", store_json_text(r, 20));
    return o;
}

int visits_task_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访任务");
    int64_t after;
    int rc = vx_cursor(f->cursor, &after, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, TASK_COLS " WHERE 1 = 1");
    perm_scope_q(who, "t.", "resident_id", &q);
    if (f->status && strcmp(f->status, "all") != 0) {
        if (strcmp(f->status, "open") != 0 && strcmp(f->status, "done") != 0 && strcmp(f->status, "cancelled") != 0)
            return nx_fail(e, NX_EINVAL, "status", "状态应为 open、done、cancelled 或 all");
        sqlq_add(&q, " AND t.status = $%d", P_TEXT(f->status));
    }
    if (f->kind) {
        if (strcmp(f->kind, "routine") != 0 && strcmp(f->kind, "event") != 0)
            return nx_fail(e, NX_EINVAL, "kind", "类型应为 routine 或 event");
        sqlq_add(&q, " AND t.kind = $%d", P_TEXT(f->kind));
    }
    if (f->overdue)
        sqlq_sql(&q, " AND t.overdue = 1");
    if (f->escalated)
        sqlq_sql(&q, " AND t.escalated_at IS NOT NULL");
    if (f->community_id)
        sqlq_add(&q, " AND t.community_id = $%d", P_INT(f->community_id));
    if (f->grid_id)
        sqlq_add(&q, " AND t.grid_id = $%d", P_INT(f->grid_id));
    if (f->resident_id)
        sqlq_add(&q, " AND t.resident_id = $%d", P_INT(f->resident_id));
    if (f->care_file_id)
        sqlq_add(&q, " AND t.care_file_id = $%d", P_INT(f->care_file_id));
    if (f->assignee_user_id)
        sqlq_add(&q, " AND t.assignee_user_id = $%d", P_INT(f->assignee_user_id));
    if (f->from)
        sqlq_add(&q, " AND t.due_date >= $%d", P_TEXT(f->from));
    if (f->to)
        sqlq_add(&q, " AND t.due_date <= $%d", P_TEXT(f->to));
    if (after)
        sqlq_add(&q, " AND t.id < $%d", P_INT(after));
    sqlq_sql(&q, " ORDER BY t.id DESC");
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .row = task_row};
    return store_page_read(app->db, &q, &s, out, e);
}

int visits_task_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访任务");
    sqlq q;
    sqlq_init(&q, TASK_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND t.id = $%d", P_INT(id));
    perm_scope_q(who, "t.", "resident_id", &q);
    return vx_get_one(app, &q, task_row, "走访任务不存在", "task", id, false, out, e);
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
        (rc = vx_date(in, "due_date", false, &due, e)) || (rc = vx_str(in, "note", false, 500, &note, e)) ||
        (rc = vx_str(in, "status", false, 20, &status, e)))
        return rc;
    if (status && strcmp(status, "cancelled") != 0)
        return nx_fail(e, NX_EINVAL, "status", "只能把任务改为 cancelled（取消）；完成任务请登记走访");
    if (status && !note)
        return nx_fail(e, NX_EINVAL, "note", "取消任务请写明原因");
    sqlq q;
    sqlq_init(&q, "SELECT t.community_id, t.status FROM visit_tasks t WHERE 1 = 1");
    sqlq_add(&q, " AND t.id = $%d", P_INT(id));
    perm_scope_q(who, "t.", "resident_id", &q);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto fail;
    if ((rc = store_first(r, "走访任务不存在", e))) {
        store_rows_free(r);
        goto fail;
    }
    int64_t community = store_int(r, 0);
    bool open = strcmp(store_text(r, 1), "open") == 0;
    store_rows_free(r);
    if (!open) {
        rc = nx_fail(e, NX_ECONFLICT, "", "任务已完成或已取消");
        goto fail;
    }
    if (assignee && (rc = vx_user_check(tx, assignee, community, "assignee_user_id", e)))
        goto fail;
    store_param u[] = {P_ID(assignee), P_TEXT(due), P_TEXT(note), P_TEXT(status), P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE visit_tasks SET assignee_user_id = COALESCE($1, assignee_user_id), due_date = "
                         "COALESCE($2, due_date), note = COALESCE($3, note), status = COALESCE($4, status), "
                         "updated_at = $5 WHERE id = $6",
                         u, 6, NULL, e)) ||
        (rc = vx_timeline(tx, community, "task", id, who, status ? "cancelled" : "updated", note, NULL, NULL, e)) ||
        (rc = audit_write(tx, who, "update", "visit_task", id, community, NULL, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

/* ---- problems (the insert shared by visits) ---- */

static bool one_of(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static const char *const urgencies[] = {"normal", "urgent", "critical", NULL};

typedef struct problem_in {
    int64_t community, grid, resident, file, visit, assignee;
    const char *source, *category, *title, *description, *urgency, *deadline;
} problem_in;

static int problem_insert(store_tx *tx, const nx_principal *who, const problem_in *in, int64_t *id, nx_err *e)
{
    int rc = vx_vocab_check(tx, "problem_category", in->category, "category", "诉求类别", e);
    if (rc)
        return rc;
    if (in->urgency && !one_of(in->urgency, urgencies))
        return nx_fail(e, NX_EINVAL, "urgency", "紧急程度应为 normal（一般）、urgent（紧急）或 critical（特急）");
    if (in->assignee && (rc = vx_user_check(tx, in->assignee, in->community, "assignee_user_id", e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(in->community), P_ID(in->grid),       P_ID(in->resident), P_ID(in->file),
                       P_ID(in->visit),      P_TEXT(in->source),   P_TEXT(in->category), P_TEXT(in->title),
                       P_TEXT(in->description), P_TEXT(in->urgency ? in->urgency : "normal"),
                       P_TEXT(in->assignee ? "assigned" : "open"), P_ID(in->assignee), P_TEXT(in->deadline),
                       P_ID(who->user_id), P_INT(now)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "INSERT INTO problems (community_id, grid_id, resident_id, care_file_id, visit_id, source, "
                          "category, title, description, urgency, status, assignee_user_id, deadline, raised_by, "
                          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                          "$14, $15, $15) RETURNING id",
                          p, 15, &r, e)))
        return rc;
    rc = store_first(r, "登记诉求失败", e);
    *id = rc == 0 ? store_int(r, 0) : 0;
    store_rows_free(r);
    if (rc)
        return rc;
    json_t *d = json_pack("{s:s, s:s}", "source", in->source, "category", in->category);
    rc = vx_timeline(tx, in->community, "problem", *id, who, "raised", in->title, d, NULL, e);
    if (rc == 0)
        rc = audit_write(tx, who, "create", "problem", *id, in->community, d, e);
    json_decref(d);
    if (rc == 0) {
        json_t *payload = json_pack("{s:I, s:o, s:s}", "problem_id", (json_int_t)*id, "resident_id",
                                    in->resident ? json_integer(in->resident) : json_null(), "source", in->source);
        char subject[40];
        snprintf(subject, sizeof subject, "problem:%lld", (long long)*id);
        rc = vx_emit(tx, "visits.problem.raised", in->community, subject, payload, e);
        json_decref(payload);
    }
    return rc;
}

/* Parse one need of a visit (or a problem body): category, title, description, urgency. */
static int parse_need(json_t *o, problem_in *pi, nx_err *e)
{
    static const char *const allowed[] = {"category", "title", "description", "urgency", NULL};
    int rc;
    if (!json_is_object(o))
        return nx_fail(e, NX_EINVAL, "needs", "needs 的每一项应为对象");
    if ((rc = json_only(o, allowed, e)) || (rc = vx_str(o, "category", true, 40, &pi->category, e)) ||
        (rc = vx_str(o, "title", true, 100, &pi->title, e)) ||
        (rc = vx_str(o, "description", false, 1000, &pi->description, e)) ||
        (rc = vx_str(o, "urgency", false, 20, &pi->urgency, e))) {
        char f[64];
        snprintf(f, sizeof f, "needs.%s", e->field);
        str_copy(e->field, f, sizeof e->field);
        return rc;
    }
    return 0;
}

/* ---- visits ---- */

#define VISIT_COLS                                                                                 \
    "SELECT v.id, v.community_id, v.grid_id, g.name, v.resident_id, r.name, v.care_file_id, v.task_id, "  \
    "v.visited_on, v.kind, v.visitors, v.findings, v.mood, v.health, v.followup_on, v.remarks, v.user_id, " \
    "v.created_at FROM visits v JOIN residents r ON r.id = v.resident_id LEFT JOIN grids g ON g.id = v.grid_id"

static json_t *visit_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(store_int(r, 0)));
    json_object_set_new(o, "community_id", json_integer(store_int(r, 1)));
    json_object_set_new(o, "grid_id", store_json_int(r, 2));
    json_object_set_new(o, "grid_name", store_json_text(r, 3));
    json_object_set_new(o, "resident_id", json_integer(store_int(r, 4)));
    json_object_set_new(o, "resident_name", json_string(store_text(r, 5)));
    json_object_set_new(o, "care_file_id", store_json_int(r, 6));
    json_object_set_new(o, "task_id", store_json_int(r, 7));
    json_object_set_new(o, "visited_on", json_string(store_text(r, 8)));
    json_object_set_new(o, "kind", json_string(store_text(r, 9)));
    json_object_set_new(o, "visitors", json_string(store_text(r, 10)));
    json_object_set_new(o, "findings", store_json_text(r, 11));
    json_object_set_new(o, "mood", store_json_text(r, 12));
    json_object_set_new(o, "health", store_json_text(r, 13));
    json_object_set_new(o, "followup_on", store_json_text(r, 14));
    json_object_set_new(o, "remarks", store_json_text(r, 15));
    json_object_set_new(o, "user_id", store_json_int(r, 16));
    json_object_set_new(o, "created_at", store_json_time(r, 17));
    return o;
}

static const char *const visit_kinds[] = {"home", "phone", "video", NULL};
static const char *const moods[] = {"good", "fair", "low", NULL};
static const char *const healths[] = {"good", "fair", "poor", NULL};

/* The resident (and care file) a visit is about, from the task, the file or the resident. */
static int visit_target(store_tx *tx, const nx_principal *who, int64_t task, int64_t file, int64_t *resident,
                        int64_t *file_out, nx_err *e)
{
    sqlq q;
    if (task) {
        sqlq_init(&q, "SELECT t.resident_id, t.care_file_id, t.status FROM visit_tasks t WHERE 1 = 1");
        sqlq_add(&q, " AND t.id = $%d", P_INT(task));
        perm_scope_q(who, "t.", "resident_id", &q);
    } else if (file) {
        sqlq_init(&q, "SELECT f.resident_id, f.id, f.status FROM care_files f WHERE 1 = 1");
        sqlq_add(&q, " AND f.id = $%d", P_INT(file));
        perm_scope_q(who, "f.", "resident_id", &q);
    } else {
        sqlq_init(&q, "SELECT r.id, f.id, 'open' FROM residents r LEFT JOIN care_files f ON f.resident_id = r.id AND "
                      "f.status = 'active' WHERE 1 = 1");
        sqlq_add(&q, " AND r.id = $%d", P_INT(*resident));
        perm_scope_q(who, "r.", "id", &q);
    }
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, task ? "走访任务不存在" : file ? "关怀档案不存在" : "居民不存在", e))) {
        store_rows_free(r);
        if (rc == NX_ENOTFOUND)
            str_copy(e->field, task ? "task_id" : file ? "care_file_id" : "resident_id", sizeof e->field);
        return rc;
    }
    int64_t res = store_int(r, 0), f = store_int(r, 1);
    store_rows_free(r);
    if (*resident && *resident != res)
        return nx_fail(e, NX_EINVAL, "resident_id", "居民与任务或档案不符");
    *resident = res;
    *file_out = f;
    if (!f && !task && !file) {
        *file_out = 0;
    } else if (!f) {
        if ((rc = vx_active_file(tx, res, file_out, e)))
            return rc;
    }
    return 0;
}

int visits_record(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记走访");
    static const char *const allowed[] = {"resident_id", "care_file_id", "task_id", "visited_on", "kind",
                                          "visitors", "findings", "mood", "health", "followup_on", "remarks",
                                          "needs", NULL};
    int64_t resident = 0, file = 0, task = 0;
    const char *on = NULL, *kind = NULL, *visitors = NULL, *findings = NULL, *mood = NULL, *health = NULL,
               *followup = NULL, *remarks = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_get_int(in, "care_file_id", false, 1, INT64_MAX, &file, e)) < 0 ||
        (rc = json_get_int(in, "task_id", false, 1, INT64_MAX, &task, e)) < 0 ||
        (rc = vx_date(in, "visited_on", true, &on, e)) || (rc = vx_str(in, "kind", true, 10, &kind, e)) ||
        (rc = vx_str(in, "visitors", true, 100, &visitors, e)) ||
        (rc = vx_str(in, "findings", false, 2000, &findings, e)) || (rc = vx_str(in, "mood", false, 10, &mood, e)) ||
        (rc = vx_str(in, "health", false, 10, &health, e)) || (rc = vx_date(in, "followup_on", false, &followup, e)) ||
        (rc = vx_str(in, "remarks", false, 500, &remarks, e)))
        return rc;
    if (!resident && !file && !task)
        return nx_fail(e, NX_EINVAL, "resident_id", "请指定走访对象（resident_id、care_file_id 或 task_id）");
    if (!one_of(kind, visit_kinds))
        return nx_fail(e, NX_EINVAL, "kind", "走访方式应为 home（入户）、phone（电话）或 video（视频）");
    if (mood && !one_of(mood, moods))
        return nx_fail(e, NX_EINVAL, "mood", "情绪应为 good、fair 或 low");
    if (health && !one_of(health, healths))
        return nx_fail(e, NX_EINVAL, "health", "健康状况应为 good、fair 或 poor");
    int64_t now = clock_now_ms();
    char today[11];
    vx_day(now, 0, today);
    if (strcmp(on, today) > 0)
        return nx_fail(e, NX_EINVAL, "visited_on", "走访日期不能晚于今天");
    if (followup && strcmp(followup, on) <= 0)
        return nx_fail(e, NX_EINVAL, "followup_on", "跟进日期应晚于走访日期");
    json_t *needs = json_object_get(in, "needs");
    if (needs && !json_is_null(needs) && (!json_is_array(needs) || json_array_size(needs) > 10))
        return nx_fail(e, NX_EINVAL, "needs", "needs 应为数组（最多 10 项）");
    problem_in pins[10];
    size_t nneeds = json_is_array(needs) ? json_array_size(needs) : 0;
    for (size_t i = 0; i < nneeds; i++) {
        memset(&pins[i], 0, sizeof pins[i]);
        if ((rc = parse_need(json_array_get(needs, i), &pins[i], e)))
            return rc;
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, grid = 0;
    if ((rc = visit_target(tx, who, task, file, &resident, &file, e)) ||
        (rc = vx_resident_place(tx, who, resident, &community, &grid, e)))
        goto fail;
    store_param p[] = {P_INT(community), P_ID(grid),     P_INT(resident), P_ID(file),      P_ID(task),
                       P_TEXT(on),       P_TEXT(kind),   P_TEXT(visitors), P_TEXT(findings), P_TEXT(mood),
                       P_TEXT(health),   P_TEXT(followup), P_TEXT(remarks), P_ID(who->user_id), P_INT(now)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "INSERT INTO visits (community_id, grid_id, resident_id, care_file_id, task_id, visited_on, "
                          "kind, visitors, findings, mood, health, followup_on, remarks, user_id, created_at) VALUES "
                          "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
                          p, 15, &r, e)))
        goto fail;
    rc = store_first(r, "登记走访失败", e);
    *id = rc == 0 ? store_int(r, 0) : 0;
    store_rows_free(r);
    if (rc)
        goto fail;
    /* the tasks it answers */
    store_param t[] = {P_INT(*id), P_INT(now), P_INT(resident), P_INT(task), P_TEXT(on)};
    int64_t done = 0;
    if ((rc = store_exec(tx,
                         "UPDATE visit_tasks SET status = 'done', visit_id = $1, done_at = $2, updated_at = $2 WHERE "
                         "resident_id = $3 AND status = 'open' AND (id = $4 OR kind = 'event' OR (kind = 'routine' "
                         "AND period_start <= $5))",
                         t, 5, &done, e)))
        goto fail;
    if (file) {
        store_param f[] = {P_TEXT(on), P_INT(now), P_INT(file)};
        if ((rc = store_exec(tx,
                             "UPDATE care_files SET last_visit_on = CASE WHEN last_visit_on IS NULL OR last_visit_on "
                             "< $1 THEN $1 ELSE last_visit_on END, updated_at = $2 WHERE id = $3",
                             f, 3, NULL, e)))
            goto fail;
        json_t *d = json_pack("{s:I, s:s, s:s}", "visit_id", (json_int_t)*id, "visited_on", on, "kind", kind);
        rc = vx_timeline(tx, community, "care_file", file, who, "visited", NULL, d, NULL, e);
        json_decref(d);
        if (rc)
            goto fail;
    }
    for (size_t i = 0; i < nneeds; i++) {
        pins[i].community = community;
        pins[i].grid = grid;
        pins[i].resident = resident;
        pins[i].file = file;
        pins[i].visit = *id;
        pins[i].source = "visit";
        int64_t pid;
        if ((rc = problem_insert(tx, who, &pins[i], &pid, e)))
            goto fail;
    }
    if (followup) {
        char key[48];
        snprintf(key, sizeof key, "followup:%lld", (long long)*id);
        if ((rc = vx_event_task(tx, community, grid, resident, file, who->user_id, "followup", "走访后跟进", key,
                                followup, now, NULL, e)))
            goto fail;
    }
    json_t *d = json_pack("{s:I, s:I}", "tasks_done", (json_int_t)done, "needs", (json_int_t)nneeds);
    rc = audit_write(tx, who, "create", "visit", *id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    json_t *payload = json_pack("{s:I, s:I, s:o}", "visit_id", (json_int_t)*id, "resident_id", (json_int_t)resident,
                                "care_file_id", file ? json_integer(file) : json_null());
    char subject[40];
    snprintf(subject, sizeof subject, "visit:%lld", (long long)*id);
    rc = vx_emit(tx, "visits.visit.recorded", community, subject, payload, e);
    json_decref(payload);
    if (rc)
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

int visits_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访记录");
    sqlq q;
    sqlq_init(&q, VISIT_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND v.id = $%d", P_INT(id));
    perm_scope_q(who, "v.", "resident_id", &q);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    json_t *o = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        if ((rc = store_first(r, "走访记录不存在", e)) == 0)
            o = visit_row(r);
        store_rows_free(r);
    }
    json_t *photos = NULL;
    if (rc == 0 && (rc = visits_photos_json(tx, "visit", id, &photos, e)) == 0)
        json_object_set_new(o, "photos", photos);
    if (rc == 0) {
        store_param p[] = {P_INT(id)};
        if ((rc = store_query(tx, "SELECT id, title, status FROM problems WHERE visit_id = $1 ORDER BY id", p, 1, &r,
                              e)) == 0) {
            json_t *a = json_array();
            while (store_row(r))
                json_array_append_new(a, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)store_int(r, 0), "title",
                                                   store_text(r, 1), "status", store_text(r, 2)));
            json_object_set_new(o, "problems", a);
            rc = store_rows_end(r, e);
        }
    }
    store_rollback(tx);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int visits_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访记录");
    int64_t after;
    int rc = vx_cursor(f->cursor, &after, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, VISIT_COLS " WHERE 1 = 1");
    perm_scope_q(who, "v.", "resident_id", &q);
    if (f->community_id)
        sqlq_add(&q, " AND v.community_id = $%d", P_INT(f->community_id));
    if (f->grid_id)
        sqlq_add(&q, " AND v.grid_id = $%d", P_INT(f->grid_id));
    if (f->resident_id)
        sqlq_add(&q, " AND v.resident_id = $%d", P_INT(f->resident_id));
    if (f->care_file_id)
        sqlq_add(&q, " AND v.care_file_id = $%d", P_INT(f->care_file_id));
    if (f->kind)
        sqlq_add(&q, " AND v.kind = $%d", P_TEXT(f->kind));
    if (f->from)
        sqlq_add(&q, " AND v.visited_on >= $%d", P_TEXT(f->from));
    if (f->to)
        sqlq_add(&q, " AND v.visited_on <= $%d", P_TEXT(f->to));
    if (after)
        sqlq_add(&q, " AND v.id < $%d", P_INT(after));
    sqlq_sql(&q, " ORDER BY v.id DESC");
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .row = visit_row};
    return store_page_read(app->db, &q, &s, out, e);
}

/* ---- photos ---- */

#define PHOTO_TYPES (UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP)

const char *visits_sniff_image(const void *data, size_t len)
{
    const upload_type *t = upload_sniff(data, len, PHOTO_TYPES);
    return t ? t->mime : NULL;
}

int visits_photo_add(nx_app *app, const nx_principal *who, const char *owner_type, int64_t owner_id,
                     const void *data, size_t len, size_t max, int64_t *id, nx_err *e)
{
    bool incident = strcmp(owner_type, "incident") == 0;
    if (!incident && strcmp(owner_type, "visit") != 0)
        return nx_fail(e, NX_EINTERNAL, "", "未知的照片归属");
    if (!perm_has(who, RIGHT_CARE_WRITE) && !(incident && perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权上传照片");
    if (len == 0)
        return nx_fail(e, NX_EINVAL, "file", "请上传照片");
    if (len > max)
        return nx_fail(e, NX_ETOOBIG, "file", "照片过大（上限 %zu 字节）", max);
    const upload_type *type = upload_sniff(data, len, PHOTO_TYPES);
    if (!type)
        return nx_fail(e, NX_EUNSUPP, "file", "只接受 JPEG、PNG 或 WebP 图片");
    sqlq q;
    if (incident)
        sqlq_init(&q, "SELECT o.community_id, o.grid_id, o.reporter_resident_id FROM incidents o WHERE 1 = 1");
    else
        sqlq_init(&q, "SELECT o.community_id, o.grid_id, o.resident_id FROM visits o WHERE 1 = 1");
    sqlq_add(&q, " AND o.id = $%d", P_INT(owner_id));
    perm_scope_q(who, "o.", incident ? "reporter_resident_id" : "resident_id", &q);
    int rc;
    char name[UPLOAD_NAME_MAX] = "";
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto fail;
    if ((rc = store_first(r, incident ? "事件不存在" : "走访记录不存在", e))) {
        store_rows_free(r);
        goto fail;
    }
    int64_t community = store_int(r, 0), grid = store_int(r, 1), resident = store_int(r, 2);
    store_rows_free(r);
    int64_t count = 0;
    store_param c[] = {P_TEXT(owner_type), P_INT(owner_id)};
    if ((rc = store_one_int(tx, "SELECT count(*) FROM care_photos WHERE owner_type = $1 AND owner_id = $2", c, 2,
                            &count, e)))
        goto fail;
    if (count >= 9) {
        rc = nx_fail(e, NX_ECONFLICT, "file", "每条记录最多 9 张照片");
        goto fail;
    }
    const char *ctype = type->mime;
    if ((rc = upload_save(app->cfg->data_dir, data, len, max, type->ext, name, e)))
        goto fail;
    store_param ins[] = {P_INT(community), P_ID(grid), P_TEXT(owner_type), P_INT(owner_id), P_ID(resident),
                         P_TEXT(name), P_TEXT(ctype), P_INT((int64_t)len), P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = store_query(tx,
                          "INSERT INTO care_photos (community_id, grid_id, owner_type, owner_id, resident_id, "
                          "file_name, content_type, size, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                          "$8, $9, $10) RETURNING id",
                          ins, 10, &r, e)))
        goto fail;
    rc = store_first(r, "保存照片失败", e);
    *id = rc == 0 ? store_int(r, 0) : 0;
    store_rows_free(r);
    if (rc)
        goto fail;
    json_t *d = json_pack("{s:s, s:I, s:s, s:I}", "owner_type", owner_type, "owner_id", (json_int_t)owner_id,
                          "content_type", ctype, "size", (json_int_t)len);
    rc = audit_write(tx, who, "upload", "photo", *id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    if ((rc = store_commit(tx, e)))
        upload_remove(app->cfg->data_dir, name);
    return rc;
fail:
    upload_remove(app->cfg->data_dir, name);
    store_rollback(tx);
    return rc;
}

int visits_photo_open(nx_app *app, const nx_principal *who, int64_t id, int *fd, char ctype[32], uint64_t *size,
                      nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看照片");
    sqlq q;
    sqlq_init(&q, "SELECT p.file_name, p.content_type FROM care_photos p WHERE 1 = 1");
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    perm_scope_q(who, "p.", "resident_id", &q);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    char name[80] = "";
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        if ((rc = store_first(r, "照片不存在", e)) == 0) {
            str_copy(name, store_text(r, 0), sizeof name);
            str_copy(ctype, store_text(r, 1), 32);
        }
        store_rows_free(r);
    }
    store_rollback(tx);
    if (rc)
        return rc;
    if (upload_open(app->cfg->data_dir, name, fd, size) != 0)
        return nx_fail(e, NX_ENOTFOUND, "", "照片文件不存在");
    return 0;
}

int visits_photos_json(store_tx *tx, const char *owner_type, int64_t owner_id, json_t **out, nx_err *e)
{
    store_param p[] = {P_TEXT(owner_type), P_INT(owner_id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, content_type, size FROM care_photos WHERE owner_type = $1 AND owner_id = $2 "
                         "ORDER BY id",
                         p, 2, &r, e);
    if (rc)
        return rc;
    json_t *a = json_array();
    while (store_row(r)) {
        char url[64];
        snprintf(url, sizeof url, "/api/v1/photos/%lld", (long long)store_int(r, 0));
        json_array_append_new(a, json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)store_int(r, 0), "content_type",
                                           store_text(r, 1), "size", (json_int_t)store_int(r, 2), "url", url));
    }
    if ((rc = store_rows_end(r, e))) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* ---- problems ---- */

#define PROBLEM_COLS                                                                               \
    "SELECT p.id, p.community_id, p.grid_id, g.name, p.resident_id, r.name, p.care_file_id, p.visit_id, "         \
    "p.source, p.category, cv.label, p.title, p.description, p.urgency, p.status, p.assignee_user_id, "          \
    "u.display_name, p.deadline, p.resolution, p.resolved_at, p.rating, p.rating_note, p.rated_at, p.overdue, "  \
    "p.escalated_at, p.created_at, p.updated_at FROM problems p LEFT JOIN residents r ON r.id = p.resident_id "  \
    "LEFT JOIN grids g ON g.id = p.grid_id LEFT JOIN users u ON u.id = p.assignee_user_id "                       \
    "LEFT JOIN care_vocab cv ON cv.kind = 'problem_category' AND cv.code = p.category"

static json_t *problem_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(store_int(r, 0)));
    json_object_set_new(o, "community_id", json_integer(store_int(r, 1)));
    json_object_set_new(o, "grid_id", store_json_int(r, 2));
    json_object_set_new(o, "grid_name", store_json_text(r, 3));
    json_object_set_new(o, "resident_id", store_json_int(r, 4));
    json_object_set_new(o, "resident_name", store_json_text(r, 5));
    json_object_set_new(o, "care_file_id", store_json_int(r, 6));
    json_object_set_new(o, "visit_id", store_json_int(r, 7));
    json_object_set_new(o, "source", json_string(store_text(r, 8)));
    json_object_set_new(o, "category", json_string(store_text(r, 9)));
    json_object_set_new(o, "category_label", store_json_text(r, 10));
    json_object_set_new(o, "title", json_string(store_text(r, 11)));
    json_object_set_new(o, "description", store_json_text(r, 12));
    json_object_set_new(o, "urgency", json_string(store_text(r, 13)));
    json_object_set_new(o, "status", json_string(store_text(r, 14)));
    json_object_set_new(o, "assignee_user_id", store_json_int(r, 15));
    json_object_set_new(o, "assignee_name", store_json_text(r, 16));
    json_object_set_new(o, "deadline", store_json_text(r, 17));
    json_object_set_new(o, "resolution", store_json_text(r, 18));
    json_object_set_new(o, "resolved_at", store_json_time(r, 19));
    json_object_set_new(o, "rating", store_json_int(r, 20));
    json_object_set_new(o, "rating_note", store_json_text(r, 21));
    json_object_set_new(o, "rated_at", store_json_time(r, 22));
    json_object_set_new(o, "overdue", json_boolean(store_int(r, 23)));
    json_object_set_new(o, "escalated", json_boolean(!store_isnull(r, 24)));
    json_object_set_new(o, "created_at", store_json_time(r, 25));
    json_object_set_new(o, "updated_at", store_json_time(r, 26));
    return o;
}

static bool may_read_problems(const nx_principal *who)
{
    return perm_has(who, RIGHT_CARE_READ) || (perm_has(who, RIGHT_SELF) && who->resident_id);
}

int problems_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    bool staff = perm_has(who, RIGHT_CARE_WRITE);
    bool self = !staff && perm_has(who, RIGHT_SELF) && who->resident_id;
    if (!staff && !self)
        return nx_fail(e, NX_EPERM, "", "无权登记诉求");
    static const char *const staff_fields[] = {"resident_id", "care_file_id", "visit_id", "grid_id", "category",
                                               "title", "description", "urgency", "deadline", "assignee_user_id",
                                               NULL};
    static const char *const self_fields[] = {"category", "title", "description", NULL};
    problem_in pi = {0};
    int64_t grid = 0;
    int rc;
    if ((rc = json_only(in, staff ? staff_fields : self_fields, e)) ||
        (rc = vx_str(in, "category", true, 40, &pi.category, e)) || (rc = vx_str(in, "title", true, 100, &pi.title, e)) ||
        (rc = vx_str(in, "description", false, 1000, &pi.description, e)))
        return rc;
    if (staff && ((rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &pi.resident, e)) < 0 ||
                  (rc = json_get_int(in, "care_file_id", false, 1, INT64_MAX, &pi.file, e)) < 0 ||
                  (rc = json_get_int(in, "visit_id", false, 1, INT64_MAX, &pi.visit, e)) < 0 ||
                  (rc = json_get_int(in, "grid_id", false, 1, INT64_MAX, &grid, e)) < 0 ||
                  (rc = vx_str(in, "urgency", false, 20, &pi.urgency, e)) ||
                  (rc = vx_date(in, "deadline", false, &pi.deadline, e)) ||
                  (rc = json_get_int(in, "assignee_user_id", false, 1, INT64_MAX, &pi.assignee, e)) < 0))
        return rc;
    int64_t now = clock_now_ms();
    char today[11];
    vx_day(now, 0, today);
    if (pi.deadline && strcmp(pi.deadline, today) < 0)
        return nx_fail(e, NX_EINVAL, "deadline", "办理期限不能早于今天");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    if (self) {
        pi.resident = who->resident_id;
        pi.source = "resident";
        store_param p[] = {P_INT(pi.resident)};
        store_rows *r;
        if ((rc = store_query(tx, "SELECT community_id, grid_id FROM residents WHERE id = $1", p, 1, &r, e)))
            goto fail;
        if ((rc = store_first(r, "居民不存在", e)) == 0) {
            pi.community = store_int(r, 0);
            pi.grid = store_int(r, 1);
        }
        store_rows_free(r);
        if (rc)
            goto fail;
        if (!pi.community) {
            rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
            goto fail;
        }
        if ((rc = vx_active_file(tx, pi.resident, &pi.file, e)))
            goto fail;
    } else {
        pi.source = pi.visit ? "visit" : "staff";
        if (pi.visit) {
            sqlq q;
            sqlq_init(&q, "SELECT v.resident_id, v.care_file_id FROM visits v WHERE 1 = 1");
            sqlq_add(&q, " AND v.id = $%d", P_INT(pi.visit));
            perm_scope_q(who, "v.", "resident_id", &q);
            store_rows *r;
            if ((rc = sqlq_query(tx, &q, &r, e)))
                goto fail;
            rc = store_first(r, "走访记录不存在", e);
            int64_t vres = rc == 0 ? store_int(r, 0) : 0, vfile = rc == 0 ? store_int(r, 1) : 0;
            store_rows_free(r);
            if (rc) {
                if (rc == NX_ENOTFOUND)
                    rc = nx_fail(e, NX_EINVAL, "visit_id", "走访记录不存在");
                goto fail;
            }
            if (pi.resident && pi.resident != vres) {
                rc = nx_fail(e, NX_EINVAL, "resident_id", "居民与走访记录不符");
                goto fail;
            }
            pi.resident = vres;
            if (!pi.file)
                pi.file = vfile;
        }
        if (pi.resident) {
            if ((rc = vx_resident_place(tx, who, pi.resident, &pi.community, &pi.grid, e)))
                goto fail;
            if (!pi.file && (rc = vx_active_file(tx, pi.resident, &pi.file, e)))
                goto fail;
        } else if (grid) {
            store_param g[] = {P_INT(grid)};
            int lrc = store_one_int(tx, "SELECT community_id FROM grids WHERE id = $1", g, 1, &pi.community, e);
            if (lrc && lrc != NX_ENOTFOUND) {
                rc = lrc;
                goto fail;
            }
            if (lrc || !perm_covers(who, tx, pi.community, grid)) {
                rc = nx_fail(e, NX_EINVAL, "grid_id", "网格不存在或不在管理范围内");
                goto fail;
            }
            pi.grid = grid;
        } else if (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID) {
            pi.community = who->community_id;
            pi.grid = who->grid_id;
        } else {
            rc = nx_fail(e, NX_EINVAL, "resident_id", "请指定居民或网格");
            goto fail;
        }
        if (pi.file) {
            sqlq q;
            sqlq_init(&q, "SELECT f.resident_id FROM care_files f WHERE 1 = 1");
            sqlq_add(&q, " AND f.id = $%d", P_INT(pi.file));
            perm_scope_q(who, "f.", "resident_id", &q);
            int64_t fres = 0;
            int lrc = sqlq_one_int(tx, &q, &fres, e);
            if (lrc && lrc != NX_ENOTFOUND) {
                rc = lrc;
                goto fail;
            }
            if (lrc || (pi.resident && fres != pi.resident)) {
                rc = nx_fail(e, NX_EINVAL, "care_file_id", "关怀档案不存在或与居民不符");
                goto fail;
            }
        }
    }
    if ((rc = problem_insert(tx, who, &pi, id, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

/* Load a problem in scope for a change. */
typedef struct problem_cur {
    int64_t community, resident, assignee, rating_null;
    char status[16];
} problem_cur;

static int load_problem(store_tx *tx, const nx_principal *who, int64_t id, problem_cur *c, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT p.community_id, p.resident_id, p.status, p.assignee_user_id, p.rating FROM problems p "
                  "WHERE 1 = 1");
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    perm_scope_q(who, "p.", "resident_id", &q);
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "诉求不存在", e))) {
        store_rows_free(r);
        return rc;
    }
    c->community = store_int(r, 0);
    c->resident = store_int(r, 1);
    str_copy(c->status, store_text(r, 2), sizeof c->status);
    c->assignee = store_int(r, 3);
    c->rating_null = store_isnull(r, 4);
    store_rows_free(r);
    return 0;
}

static int problem_change(nx_app *app, const nx_principal *who, int64_t id, const char *sql, store_param *p, int n,
                          const char *action, const char *note, json_t *detail,
                          int (*check)(const problem_cur *, const nx_principal *, nx_err *), nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    problem_cur c;
    if ((rc = load_problem(tx, who, id, &c, e)) || (check && (rc = check(&c, who, e))))
        goto fail;
    if ((rc = store_exec(tx, sql, p, n, NULL, e)) ||
        (rc = vx_timeline(tx, c.community, "problem", id, who, action, note, detail, NULL, e)) ||
        (rc = audit_write(tx, who, action, "problem", id, c.community, detail, e)))
        goto fail;
    json_t *payload = json_pack("{s:I, s:o, s:s}", "problem_id", (json_int_t)id, "resident_id",
                                c.resident ? json_integer(c.resident) : json_null(), "action", action);
    char subject[40], kind[64];
    snprintf(subject, sizeof subject, "problem:%lld", (long long)id);
    snprintf(kind, sizeof kind, "visits.problem.%s", action);
    rc = vx_emit(tx, kind, c.community, subject, payload, e);
    json_decref(payload);
    if (rc)
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

static int check_unresolved(const problem_cur *c, const nx_principal *who, nx_err *e)
{
    (void)who;
    if (strcmp(c->status, "resolved") == 0 || strcmp(c->status, "closed") == 0)
        return nx_fail(e, NX_ECONFLICT, "", "诉求已办结");
    return 0;
}

int problems_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改诉求");
    static const char *const allowed[] = {"category", "urgency", "deadline", "assignee_user_id", "status", NULL};
    const char *category = NULL, *urgency = NULL, *deadline = NULL, *status = NULL;
    int64_t assignee = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = vx_str(in, "category", false, 40, &category, e)) ||
        (rc = vx_str(in, "urgency", false, 20, &urgency, e)) || (rc = vx_date(in, "deadline", false, &deadline, e)) ||
        (rc = json_get_int(in, "assignee_user_id", false, 1, INT64_MAX, &assignee, e)) < 0 ||
        (rc = vx_str(in, "status", false, 20, &status, e)))
        return rc;
    if (urgency && !one_of(urgency, urgencies))
        return nx_fail(e, NX_EINVAL, "urgency", "紧急程度应为 normal、urgent 或 critical");
    if (status && strcmp(status, "in_progress") != 0 && strcmp(status, "closed") != 0)
        return nx_fail(e, NX_EINVAL, "status", "状态只能改为 in_progress（办理中）或 closed（关闭）；办结请用 resolve");
    if (json_object_size(in) == 0)
        return nx_fail(e, NX_EINVAL, "", "没有要修改的内容");
    /* validate references in their own read first */
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    problem_cur c;
    if ((rc = load_problem(tx, who, id, &c, e)) == 0) {
        if (category)
            rc = vx_vocab_check(tx, "problem_category", category, "category", "诉求类别", e);
        if (rc == 0 && assignee)
            rc = vx_user_check(tx, assignee, c.community, "assignee_user_id", e);
        if (rc == 0)
            rc = check_unresolved(&c, who, e);
    }
    store_rollback(tx);
    if (rc)
        return rc;
    store_param p[] = {P_TEXT(category), P_TEXT(urgency), P_TEXT(deadline), P_ID(assignee), P_TEXT(status),
                       P_INT(clock_now_ms()), P_INT(id)};
    json_t *fields = json_array();
    const char *names[] = {"category", "urgency", "deadline", "assignee_user_id", "status"};
    for (size_t i = 0; i < 5; i++)
        if (json_object_get(in, names[i]))
            json_array_append_new(fields, json_string(names[i]));
    json_t *d = json_pack("{s:o}", "fields", fields);
    rc = problem_change(app, who, id,
                        "UPDATE problems SET category = COALESCE($1, category), urgency = COALESCE($2, urgency), "
                        "deadline = COALESCE($3, deadline), overdue = CASE WHEN $3 IS NULL THEN overdue ELSE 0 END, "
                        "assignee_user_id = COALESCE($4, assignee_user_id), status = COALESCE($5, CASE WHEN $4 IS NOT "
                        "NULL AND status = 'open' THEN 'assigned' ELSE status END), updated_at = $6 WHERE id = $7",
                        p, 7, assignee ? "assigned" : "updated", NULL, d, check_unresolved, e);
    json_decref(d);
    return rc;
}

int problems_note(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权填写办理进展");
    static const char *const allowed[] = {"note", NULL};
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = vx_str(in, "note", true, 1000, &note, e)))
        return rc;
    store_param p[] = {P_INT(clock_now_ms()), P_INT(id)};
    return problem_change(app, who, id,
                          "UPDATE problems SET status = CASE WHEN status IN ('open', 'assigned') THEN 'in_progress' "
                          "ELSE status END, updated_at = $1 WHERE id = $2",
                          p, 2, "progress", note, NULL, check_unresolved, e);
}

int problems_resolve(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权办结诉求");
    static const char *const allowed[] = {"resolution", NULL};
    const char *resolution = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = vx_str(in, "resolution", true, 1000, &resolution, e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(resolution), P_INT(now), P_INT(id)};
    return problem_change(app, who, id,
                          "UPDATE problems SET status = 'resolved', resolution = $1, resolved_at = $2, overdue = 0, "
                          "updated_at = $2 WHERE id = $3",
                          p, 3, "resolved", resolution, NULL, check_unresolved, e);
}

static int check_rate(const problem_cur *c, const nx_principal *who, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE) && !(who->resident_id && c->resident == who->resident_id))
        return nx_fail(e, NX_EPERM, "", "只有提出诉求的居民本人可以评价");
    if (strcmp(c->status, "resolved") != 0)
        return nx_fail(e, NX_ECONFLICT, "", "诉求办结后才能评价");
    if (!c->rating_null)
        return nx_fail(e, NX_ECONFLICT, "rating", "已评价过");
    return 0;
}

int problems_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE) && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权评价");
    static const char *const allowed[] = {"rating", "note", NULL};
    int64_t rating = 0;
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "rating", true, 1, 5, &rating, e)) < 0 ||
        (rc = vx_str(in, "note", false, 500, &note, e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(rating), P_TEXT(note), P_INT(now), P_INT(id)};
    json_t *d = json_pack("{s:I, s:b}", "rating", (json_int_t)rating, "on_behalf",
                          !(who->resident_id && who->role == ROLE_RESIDENT));
    rc = problem_change(app, who, id,
                        "UPDATE problems SET rating = $1, rating_note = $2, rated_at = $3, status = 'closed', "
                        "updated_at = $3 WHERE id = $4",
                        p, 4, "rated", note, d, check_rate, e);
    json_decref(d);
    return rc;
}

int problems_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!may_read_problems(who))
        return nx_fail(e, NX_EPERM, "", "无权查看诉求");
    sqlq q;
    sqlq_init(&q, PROBLEM_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    perm_scope_q(who, "p.", "resident_id", &q);
    return vx_get_one(app, &q, problem_row, "诉求不存在", "problem", id, false, out, e);
}

int problems_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!may_read_problems(who))
        return nx_fail(e, NX_EPERM, "", "无权查看诉求");
    int64_t after;
    int rc = vx_cursor(f->cursor, &after, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, PROBLEM_COLS " WHERE 1 = 1");
    perm_scope_q(who, "p.", "resident_id", &q);
    static const char *const statuses[] = {"open", "assigned", "in_progress", "resolved", "closed", NULL};
    if (f->status) {
        if (!one_of(f->status, statuses))
            return nx_fail(e, NX_EINVAL, "status", "状态应为 open、assigned、in_progress、resolved 或 closed");
        sqlq_add(&q, " AND p.status = $%d", P_TEXT(f->status));
    }
    if (f->overdue)
        sqlq_sql(&q, " AND p.overdue = 1");
    if (f->community_id)
        sqlq_add(&q, " AND p.community_id = $%d", P_INT(f->community_id));
    if (f->grid_id)
        sqlq_add(&q, " AND p.grid_id = $%d", P_INT(f->grid_id));
    if (f->resident_id)
        sqlq_add(&q, " AND p.resident_id = $%d", P_INT(f->resident_id));
    if (f->assignee_user_id)
        sqlq_add(&q, " AND p.assignee_user_id = $%d", P_INT(f->assignee_user_id));
    if (f->category)
        sqlq_add(&q, " AND p.category = $%d", P_TEXT(f->category));
    if (after)
        sqlq_add(&q, " AND p.id < $%d", P_INT(after));
    sqlq_sql(&q, " ORDER BY p.id DESC");
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .row = problem_row};
    return store_page_read(app->db, &q, &s, out, e);
}
