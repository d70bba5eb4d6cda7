/* problems.c — problems to solve (解难题): raised from a visit, by staff, or by a resident for
 * themselves.
 *
 * Problems move open → assigned → in_progress → resolved → closed (closed also by the rating, or
 * directly by staff); each change is on the problem's time line, in the audit log and in the
 * outbox (visits.problem.<action>). A resident sees and rates only problems about themselves:
 * perm_scope_q's self scope on resident_id. The insert is shared with visit records, whose needs
 * become problems in the visit's transaction.
 * Threads: none of its own; every function runs its own transaction. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"

#include <stdio.h>
#include <string.h>

static const char *const urgencies[] = {"normal", "urgent", "critical", NULL};

int vx_problem_insert(store_tx *tx, const nx_principal *who, const vx_problem_in *in, int64_t *id, nx_err *e)
{
    int rc = visits_vocab_check(tx, "problem_category", in->category, "category", "诉求类别", e);
    if (rc)
        return rc;
    if (in->urgency && !vx_one_of(in->urgency, urgencies))
        return nx_fail(e, NX_EINVAL, "urgency", "紧急程度应为 normal（一般）、urgent（紧急）或 critical（特急）");
    if (in->assignee && (rc = visits_user_check(tx, in->assignee, in->community, "assignee_user_id", e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(in->community), P_ID(in->grid),       P_ID(in->resident), P_ID(in->file),
                       P_ID(in->visit),      P_TEXT(in->source),   P_TEXT(in->category), P_TEXT(in->title),
                       P_TEXT(in->description), P_TEXT(in->urgency ? in->urgency : "normal"),
                       P_TEXT(in->assignee ? "assigned" : "open"), P_ID(in->assignee), P_TEXT(in->deadline),
                       P_ID(who->user_id), P_INT(now), P_INT(now)};
    if ((rc = app_insert(tx, "problems",
                         "community_id, grid_id, resident_id, care_file_id, visit_id, source, category, "
                         "title, description, urgency, status, assignee_user_id, deadline, raised_by, "
                         "created_at, updated_at",
                         p, 16, id, e)))
        return rc;
    visits_change c = {"problem", *id, in->community, "raised", "create", in->title,
                       json_pack("{s:s, s:s}", "source", in->source, "category", in->category),
                       VISITS_EV_PROBLEM_RAISED,
                       json_pack("{s:I, s:o, s:s}", "problem_id", (json_int_t)*id, "resident_id",
                                 in->resident ? json_integer(in->resident) : json_null(), "source", in->source)};
    rc = visits_change_record(tx, who, &c, e);
    json_decref(c.detail);
    return rc;
}

int vx_parse_need(json_t *o, vx_problem_in *pi, nx_err *e)
{
    static const char *const allowed[] = {"category", "title", "description", "urgency", NULL};
    int rc;
    if (!json_is_object(o))
        return nx_fail(e, NX_EINVAL, "needs", "needs 的每一项应为对象");
    if ((rc = json_only(o, allowed, e)) || (rc = json_read_str(o, "category", true, 40, &pi->category, e)) ||
        (rc = json_read_str(o, "title", true, 100, &pi->title, e)) ||
        (rc = json_read_str(o, "description", false, 1000, &pi->description, e)) ||
        (rc = json_read_str(o, "urgency", false, 20, &pi->urgency, e))) {
        char f[64];
        snprintf(f, sizeof f, "needs.%s", e->field);
        str_copy(e->field, f, sizeof e->field);
        return rc;
    }
    return 0;
}

#define PROBLEM_COLS                                                                               \
    "SELECT p.id, p.community_id, p.grid_id, g.name, p.resident_id, r.name, p.care_file_id, p.visit_id, "         \
    "p.source, p.category, cv.label, p.title, p.description, p.urgency, p.status, p.assignee_user_id, "          \
    "u.display_name, p.deadline, p.resolution, p.resolved_at, p.rating, p.rating_note, p.rated_at, p.overdue, "  \
    "p.escalated_at, p.created_at, p.updated_at FROM problems p LEFT JOIN residents r ON r.id = p.resident_id "  \
    "LEFT JOIN grids g ON g.id = p.grid_id LEFT JOIN users u ON u.id = p.assignee_user_id "                       \
    "LEFT JOIN care_vocab cv ON cv.kind = 'problem_category' AND cv.code = p.category"

static json_t *problem_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i grid_name:t resident_id:i resident_name:t "
                                  "care_file_id:i visit_id:i source:t category:t category_label:t title:t "
                                  "description:t urgency:t status:t assignee_user_id:i assignee_name:t deadline:t "
                                  "resolution:t resolved_at:d rating:i rating_note:t rated_at:d overdue:b - "
                                  "created_at:d updated_at:d");
    if (o)
        json_object_set_new(o, "escalated", json_boolean(!store_isnull(r, 24)));
    return o;
}

static bool may_read_problems(const nx_principal *who)
{
    return perm_has(who, RIGHT_CARE_READ) || (perm_has(who, RIGHT_SELF) && who->resident_id);
}

int visits_problem_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    bool staff = perm_has(who, RIGHT_CARE_WRITE);
    bool self = !staff && perm_has(who, RIGHT_SELF) && who->resident_id;
    if (!staff && !self)
        return nx_fail(e, NX_EPERM, "", "无权登记诉求");
    static const char *const staff_fields[] = {"resident_id", "care_file_id", "visit_id", "grid_id", "category",
                                               "title", "description", "urgency", "deadline", "assignee_user_id",
                                               NULL};
    static const char *const self_fields[] = {"category", "title", "description", NULL};
    vx_problem_in pi = {0};
    int64_t grid = 0;
    int rc;
    if ((rc = json_only(in, staff ? staff_fields : self_fields, e)) ||
        (rc = json_read_str(in, "category", true, 40, &pi.category, e)) ||
        (rc = json_read_str(in, "title", true, 100, &pi.title, e)) ||
        (rc = json_read_str(in, "description", false, 1000, &pi.description, e)))
        return rc;
    if (staff && ((rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &pi.resident, e)) < 0 ||
                  (rc = json_get_int(in, "care_file_id", false, 1, INT64_MAX, &pi.file, e)) < 0 ||
                  (rc = json_get_int(in, "visit_id", false, 1, INT64_MAX, &pi.visit, e)) < 0 ||
                  (rc = json_get_int(in, "grid_id", false, 1, INT64_MAX, &grid, e)) < 0 ||
                  (rc = json_read_str(in, "urgency", false, 20, &pi.urgency, e)) ||
                  (rc = json_read_date(in, "deadline", false, &pi.deadline, e)) ||
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
        if ((rc = visits_self_place(tx, pi.resident, &pi.community, &pi.grid, e)) ||
            (rc = vx_active_file(tx, pi.resident, &pi.file, e)))
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
            if ((rc = visits_grid_community(tx, who, grid, &pi.community, e))) {
                if (rc == NX_ENOTFOUND)
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
    if ((rc = vx_problem_insert(tx, who, &pi, id, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* Load a problem in scope for a change. */
typedef struct problem_cur {
    int64_t community, resident, assignee, rating_null;
    char status[16];
} problem_cur;

static int load_problem(store_tx *tx, const nx_principal *who, int64_t id, problem_cur *c, nx_err *e)
{
    store_rows *r;
    int rc = perm_scope_first(tx, who, "p.", "resident_id", id,
                              "SELECT p.community_id, p.resident_id, p.status, p.assignee_user_id, p.rating "
                              "FROM problems p WHERE 1 = 1",
                              "诉求不存在", &r, e);
    if (rc)
        return rc;
    c->community = store_int(r, 0);
    c->resident = store_int(r, 1);
    str_copy(c->status, store_text(r, 2), sizeof c->status);
    c->assignee = store_int(r, 3);
    c->rating_null = store_isnull(r, 4);
    store_rows_free(r);
    return 0;
}

static int problem_change(nx_app *app, const nx_principal *who, int64_t id, const char *sql, store_param *p, int n,
                          const char *action, const char *kind, const char *note, json_t *detail,
                          int (*check)(const problem_cur *, const nx_principal *, nx_err *), nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    problem_cur c;
    if ((rc = load_problem(tx, who, id, &c, e)) || (check && (rc = check(&c, who, e))))
        goto fail;
    if ((rc = store_exec(tx, sql, p, n, NULL, e)))
        goto fail;
    visits_change ch = {"problem", id, c.community, action, NULL, note, detail, kind,
                        json_pack("{s:I, s:o, s:s}", "problem_id", (json_int_t)id, "resident_id",
                                  c.resident ? json_integer(c.resident) : json_null(), "action", action)};
    if ((rc = visits_change_record(tx, who, &ch, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

static int check_unresolved(const problem_cur *c, const nx_principal *who, nx_err *e)
{
    (void)who;
    if (strcmp(c->status, "resolved") == 0 || strcmp(c->status, "closed") == 0)
        return nx_fail(e, NX_ECONFLICT, "", "诉求已办结");
    return 0;
}

int visits_problem_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改诉求");
    static const char *const allowed[] = {"category", "urgency", "deadline", "assignee_user_id", "status", NULL};
    const char *category = NULL, *urgency = NULL, *deadline = NULL, *status = NULL;
    int64_t assignee = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "category", false, 40, &category, e)) ||
        (rc = json_read_str(in, "urgency", false, 20, &urgency, e)) ||
        (rc = json_read_date(in, "deadline", false, &deadline, e)) ||
        (rc = json_get_int(in, "assignee_user_id", false, 1, INT64_MAX, &assignee, e)) < 0 ||
        (rc = json_read_str(in, "status", false, 20, &status, e)))
        return rc;
    if (urgency && !vx_one_of(urgency, urgencies))
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
            rc = visits_vocab_check(tx, "problem_category", category, "category", "诉求类别", e);
        if (rc == 0 && assignee)
            rc = visits_user_check(tx, assignee, c.community, "assignee_user_id", e);
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
                        p, 7, assignee ? "assigned" : "updated",
                        assignee ? VISITS_EV_PROBLEM_ASSIGNED : VISITS_EV_PROBLEM_UPDATED, NULL, d, check_unresolved, e);
    json_decref(d);
    return rc;
}

int visits_problem_note(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权填写办理进展");
    static const char *const allowed[] = {"note", NULL};
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "note", true, 1000, &note, e)))
        return rc;
    store_param p[] = {P_INT(clock_now_ms()), P_INT(id)};
    return problem_change(app, who, id,
                          "UPDATE problems SET status = CASE WHEN status IN ('open', 'assigned') THEN 'in_progress' "
                          "ELSE status END, updated_at = $1 WHERE id = $2",
                          p, 2, "progress", VISITS_EV_PROBLEM_PROGRESS, note, NULL, check_unresolved, e);
}

int visits_problem_resolve(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权办结诉求");
    static const char *const allowed[] = {"resolution", NULL};
    const char *resolution = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "resolution", true, 1000, &resolution, e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(resolution), P_INT(now), P_INT(id)};
    return problem_change(app, who, id,
                          "UPDATE problems SET status = 'resolved', resolution = $1, resolved_at = $2, overdue = 0, "
                          "updated_at = $2 WHERE id = $3",
                          p, 3, "resolved", VISITS_EV_PROBLEM_RESOLVED, resolution, NULL, check_unresolved, e);
}

static int check_rate(const problem_cur *c, const nx_principal *who, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE) && !(who->resident_id && c->resident == who->resident_id))
        return nx_fail(e, NX_EPERM, "", "只有提出诉求的居民本人可以评价");
    if (!c->rating_null)
        return nx_fail(e, NX_ECONFLICT, "rating", "该诉求已评价过，不能重复评价");
    if (strcmp(c->status, "resolved") != 0)
        return nx_fail(e, NX_ECONFLICT, "", "诉求办结后才能评价");
    return 0;
}

int visits_problem_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE) && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权评价");
    static const char *const allowed[] = {"rating", "note", NULL};
    int64_t rating = 0;
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "rating", true, 1, 5, &rating, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 500, &note, e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(rating), P_TEXT(note), P_INT(now), P_INT(id)};
    json_t *d = json_pack("{s:I, s:b}", "rating", (json_int_t)rating, "on_behalf",
                          !(who->resident_id && who->role == ROLE_RESIDENT));
    rc = problem_change(app, who, id,
                        "UPDATE problems SET rating = $1, rating_note = $2, rated_at = $3, status = 'closed', "
                        "updated_at = $3 WHERE id = $4",
                        p, 4, "rated", VISITS_EV_PROBLEM_RATED, note, d, check_rate, e);
    json_decref(d);
    return rc;
}

int visits_problem_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!may_read_problems(who))
        return nx_fail(e, NX_EPERM, "", "无权查看诉求");
    sqlq q;
    perm_scope_id_q(who, "p.", "resident_id", id, PROBLEM_COLS " WHERE 1 = 1", &q);
    return visits_get_one(app, &q, problem_row, "诉求不存在", "problem", id, false, out, e);
}

int visits_problem_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!may_read_problems(who))
        return nx_fail(e, NX_EPERM, "", "无权查看诉求");
    sqlq q;
    sqlq_init(&q, PROBLEM_COLS " WHERE 1 = 1");
    perm_scope_q(who, "p.", "resident_id", &q);
    static const char *const statuses[] = {"open", "assigned", "in_progress", "resolved", "closed", NULL};
    int rc = visits_status_q(&q, "p.", f->status, statuses, "pending", " AND p.status NOT IN ('resolved', 'closed')",
                             "状态应为 open、assigned、in_progress、resolved、closed 或 pending", e);
    if (rc)
        return rc;
    if (f->overdue)
        sqlq_sql(&q, " AND p.overdue = 1");
    return visits_list_page(app, &q, "p.", f,
                            VISITS_BY_COMMUNITY | VISITS_BY_GRID | VISITS_BY_RESIDENT | VISITS_BY_ASSIGNEE |
                                VISITS_BY_CATEGORY,
                            (store_page_spec){.row = problem_row}, out, e);
}
