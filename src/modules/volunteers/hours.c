/* hours.c — the service-hours ledger (志愿服务时长): entries, approval, corrections, the totals a
 * certificate prints, the honour list and the Excel export.
 *
 * What the national rules (志愿服务记录与证明出具办法) ask, as invariants:
 * - Hours are recorded by the organiser, not typed by the volunteer: an entry comes from a check-out
 *   (activities.c), or is added by staff or the volunteer's team leader, never for oneself.
 * - They count once approved, by staff, the activity's organiser or the team leader — never by the
 *   volunteer whose hours they are (checked against the approver's own volunteer record).
 * - The ledger is append-only. A correction is a new entry pointing at the one it corrects, holding
 *   the difference and a reason; approved rows are never edited, so the history of a figure stays.
 * - Minutes are integers, so a total is an exact sum; "hours" is derived for display.
 *
 * Visibility: RIGHT_VOLUNTEER_MANAGE and the street office's oversight (vol_oversees: read only) read
 * the ledger of their scope, a team leader their team's entries, a volunteer account also those of
 * the activities it organises, everyone else their own entries only. */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "report/export.h"
#include "secure/audit.h"
#include "text/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOURS_COLS                                                                                                  \
    "SELECT h.id, h.community_id, h.volunteer_id, v.name, v.number, h.activity_id, a.title, h.kind, h.corrects_id, " \
    "h.minutes, h.served_on, h.reason, h.status, h.recorded_by, h.approved_by, h.approved_at, h.created_at FROM "   \
    "volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id LEFT JOIN volunteer_activities a ON a.id = "      \
    "h.activity_id WHERE 1 = 1"

static json_t *hours_row(store_rows *r, void *ctx)
{
    (void)ctx;
    json_t *o = store_json_row(r, "id:i community_id:i volunteer_id:i volunteer_name:t volunteer_number:t "
                                  "activity_id:i activity_title:t kind:t corrects_id:i minutes:i served_on:t reason:t "
                                  "status:t recorded_by:i approved_by:i approved_at:d created_at:d");
    if (o)
        json_object_set_new(o, "hours", vol_hours_json(store_int(r, 9)));
    return o;
}

/* Who sees which entries (see the head). me: the caller's volunteer record. */
static void hours_scope(sqlq *q, const nx_principal *who, const vol_self *me)
{
    vol_scope(q, who, "h.");
    if (perm_has(who, RIGHT_VOLUNTEER_MANAGE) || vol_oversees(who))
        return;
    if (perm_has(who, RIGHT_VOLUNTEER_DUTY)) {
        /* their own entries, those of the activities they organise, and their team's when leading */
        sqlq_add(q, " AND (h.volunteer_id = $%d", P_INT(me->id ? me->id : -1));
        sqlq_add(q, " OR a.organiser_id = $%d", P_INT(who->user_id ? who->user_id : -1));
        if (me->id && me->leader && me->team_id)
            sqlq_add(q, " OR v.team_id = $%d", P_INT(me->team_id));
        sqlq_sql(q, ")");
    } else {
        sqlq_add(q, " AND h.volunteer_id = $%d", P_INT(me->id ? me->id : -1));
    }
}

static void hours_where(sqlq *q, const char *head, const nx_principal *who, const vol_self *me,
                        const volunteers_filter *f)
{
    sqlq_init(q, head);
    hours_scope(q, who, me);
    if (f->mine)
        sqlq_add(q, " AND h.volunteer_id = $%d", P_INT(me->id ? me->id : -1));
    sqlq_eq_int(q, "h.community_id", f->community_id);
    sqlq_eq_int(q, "h.volunteer_id", f->volunteer_id);
    sqlq_eq_int(q, "h.activity_id", f->activity_id);
    sqlq_eq_int(q, "v.team_id", f->team_id);
    sqlq_eq_text(q, "h.status", f->status);
}

/* The caller's volunteer record in a read transaction of its own. */
static int me_read(nx_app *app, const nx_principal *who, vol_self *me, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    rc = vol_me(tx, who, me, e);
    store_rollback(tx);
    return rc;
}

int volunteers_hours_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看服务时长");
    if (f->status && strcmp(f->status, "pending") != 0 && strcmp(f->status, "approved") != 0 &&
        strcmp(f->status, "rejected") != 0)
        return nx_fail(e, NX_EINVAL, "status", "状态只能是 pending、approved 或 rejected");
    vol_self me;
    int rc = me_read(app, who, &me, e);
    if (rc)
        return rc;
    sqlq q, count;
    hours_where(&q, HOURS_COLS, who, &me, f);
    hours_where(&count,
                "SELECT COUNT(*) FROM volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id LEFT JOIN "
                "volunteer_activities a ON a.id = h.activity_id WHERE 1 = 1",
                who,
                &me, f);
    rc = vol_page(app, &q, &count, "h.", false, f, hours_row, out, e);
    if (rc == 0) {
        /* the approved total of what the filters select, exact in minutes */
        sqlq t;
        hours_where(&t,
                    "SELECT COALESCE(SUM(h.minutes), 0) FROM volunteer_hours h JOIN volunteers v ON v.id = "
                    "h.volunteer_id LEFT JOIN volunteer_activities a ON a.id = h.activity_id WHERE h.status = "
                    "'approved'",
                    who, &me, f);
        store_tx *tx;
        int64_t sum = 0;
        if ((rc = store_begin(app->db, STORE_READ, &tx, e)) == 0) {
            rc = sqlq_one_int(tx, &t, &sum, e);
            store_rollback(tx);
        }
        if (rc) {
            json_decref(*out);
            return rc;
        }
        json_object_set_new(*out, "approved_minutes", json_integer(sum));
        json_object_set_new(*out, "approved_hours", vol_hours_json(sum));
    }
    return rc;
}

int volunteers_hours_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看服务时长");
    vol_self me;
    int rc = me_read(app, who, &me, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, HOURS_COLS);
    sqlq_add(&q, " AND h.id = $%d", P_INT(id));
    hours_scope(&q, who, &me);
    return store_get_read(app->db, &q, &(store_page_spec){.row_ctx = hours_row}, "时长记录不存在", out, e);
}

/* The volunteer's community and team. NX_EINVAL naming field when absent or out of scope. */
static int volunteer_of(store_tx *tx, const nx_principal *who, int64_t vid, const char *field, int64_t *community,
                        int64_t *team, nx_err *e)
{
    store_param p[] = {P_INT(vid)};
    store_rows *r;
    int rc = store_query(tx, "SELECT community_id, team_id FROM volunteers WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    bool found = store_row(r);
    if (found) {
        *community = store_int(r, 0);
        *team = store_int(r, 1);
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    if (!found || !vol_covers(tx, who, *community))
        return nx_fail(e, NX_EINVAL, field, "志愿者不存在");
    return 0;
}

int volunteers_hours_add(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"volunteer_id", "hours", "served_on", "reason", "activity_id", "corrects_id",
                                          NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !perm_has(who, RIGHT_VOLUNTEER_DUTY))
        return nx_fail(e, NX_EPERM, "", "无权记录服务时长");
    int64_t vid = 0, activity = 0, corrects = 0, minutes = 0;
    const char *served = NULL, *reason = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "corrects_id", false, 1, INT64_MAX, &corrects, e)) < 0 ||
        (rc = json_get_int(in, "volunteer_id", corrects == 0, 1, INT64_MAX, &vid, e)) < 0 ||
        (rc = json_get_int(in, "activity_id", false, 1, INT64_MAX, &activity, e)) < 0 ||
        (rc = vol_get_hours(in, "hours", true, corrects == 0, 24, &minutes, e)) < 0 ||
        (rc = json_read_date(in, "served_on", corrects == 0, &served, e)) ||
        (rc = json_read_str(in, "reason", true, 200, &reason, e)))
        return rc;
    if (corrects && (vid || activity || served))
        return nx_fail(e, NX_EINVAL, corrects ? "corrects_id" : "", "更正只需填写被更正的记录、正确时长和原因");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    vol_self me;
    store_rows *r = NULL;
    int64_t c = 0, team = 0, delta = minutes;
    char day[16] = "";
    if ((rc = vol_me(tx, who, &me, e)))
        goto fail;
    if (corrects) {
        store_param p[] = {P_INT(corrects)};
        if ((rc = store_query(tx,
                              "SELECT volunteer_id, activity_id, kind, status, served_on, minutes + COALESCE((SELECT "
                              "SUM(c.minutes) FROM volunteer_hours c WHERE c.corrects_id = h.id AND c.status <> "
                              "'rejected'), 0) FROM volunteer_hours h WHERE h.id = $1",
                              p, 1, &r, e)))
            goto fail;
        if (!store_row(r)) {
            if ((rc = store_rows_end(r, e)) == 0)
                rc = nx_fail(e, NX_EINVAL, "corrects_id", "被更正的记录不存在");
            r = NULL;
            goto fail;
        }
        vid = store_int(r, 0);
        activity = store_int(r, 1);
        bool is_corr = strcmp(store_text(r, 2), "correction") == 0, rejected = strcmp(store_text(r, 3), "rejected") == 0;
        str_copy(day, store_text(r, 4), sizeof day);
        int64_t current = store_int(r, 5);
        store_rows_free(r);
        r = NULL;
        if (is_corr) {
            rc = nx_fail(e, NX_EINVAL, "corrects_id", "请更正原始记录，而不是更正记录");
            goto fail;
        }
        if (rejected) {
            rc = nx_fail(e, NX_ECONFLICT, "corrects_id", "已驳回的记录不能更正");
            goto fail;
        }
        delta = minutes - current;
        if (delta == 0) {
            rc = nx_fail(e, NX_EINVAL, "hours", "更正后的时长与现有时长相同");
            goto fail;
        }
        served = day;
    }
    if ((rc = volunteer_of(tx, who, vid, corrects ? "corrects_id" : "volunteer_id", &c, &team, e)))
        goto fail;
    if (me.id && me.id == vid) {
        rc = nx_fail(e, NX_EPERM, "volunteer_id", "不能为自己记录服务时长");
        goto fail;
    }
    if (!vol_manages_team(who, &me, team)) {
        rc = nx_fail(e, NX_EPERM, "volunteer_id", "队长只能记录本队志愿者的时长");
        goto fail;
    }
    if (activity && !corrects) {
        store_param p[] = {P_INT(activity), P_INT(c)};
        if ((rc = store_exists_or_fail(
                 tx, "SELECT COUNT(*) FROM volunteer_activities WHERE id = $1 AND community_id = $2", p, 2,
                 "activity_id", e, "活动不存在")))
            goto fail;
    }
    store_param p[] = {P_INT(c),         P_INT(vid),    P_ID(activity),     P_TEXT(corrects ? "correction" : "manual"),
                       P_ID(corrects),   P_INT(delta),  P_TEXT(served),     P_TEXT(reason),
                       P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "volunteer_hours",
                         "community_id, volunteer_id, activity_id, kind, corrects_id, minutes, served_on, "
                         "reason, recorded_by, created_at",
                         p, 10, id, e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "volunteer_hours", *id, c,
                              json_pack("{s:s, s:I}", "kind", corrects ? "correction" : "manual", "minutes",
                                        (json_int_t)delta),
                              e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}

int volunteers_hours_approve(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"reject", "reason", NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !perm_has(who, RIGHT_VOLUNTEER_DUTY))
        return nx_fail(e, NX_EPERM, "", "无权审批服务时长");
    bool reject = false;
    const char *reason = NULL;
    int rc;
    if (in && ((rc = json_only(in, allowed, e)) || (rc = json_get_bool(in, "reject", false, &reject, e)) < 0 ||
               (rc = json_read_str(in, "reason", false, 200, &reason, e))))
        return rc;
    if (reject && (reason == NULL || !*reason))
        return nx_fail(e, NX_EINVAL, "reason", "驳回须填写原因");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    vol_self me;
    store_rows *r = NULL;
    if ((rc = vol_me(tx, who, &me, e)))
        goto fail;
    sqlq q;
    vol_id_q(
        &q,
        "SELECT h.volunteer_id, h.status, h.community_id, h.minutes, v.team_id, a.organiser_id FROM "
        "volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id LEFT JOIN volunteer_activities a ON "
        "a.id = h.activity_id WHERE 1 = 1",
        "h.", id, who);
    if ((rc = sqlq_first(tx, &q, "时长记录不存在", &r, e)))
        goto fail;
    int64_t vid = store_int(r, 0), c = store_int(r, 2), minutes = store_int(r, 3), team = store_int(r, 4),
            organiser = store_int(r, 5);
    bool pending = strcmp(store_text(r, 1), "pending") == 0;
    store_rows_free(r);
    r = NULL;
    if (me.id && me.id == vid) {
        rc = nx_fail(e, NX_EPERM, "", "不能审批自己的服务时长");
        goto fail;
    }
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !(organiser && organiser == who->user_id) &&
        !vol_manages_team(who, &me, team)) {
        rc = nx_fail(e, NX_EPERM, "", "只有活动组织者或本队队长可以审批");
        goto fail;
    }
    if (!pending) {
        rc = nx_fail(e, NX_ECONFLICT, "", "该记录已审批");
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param u[] = {P_TEXT(reject ? "rejected" : "approved"), P_ID(who->user_id), P_INT(now), P_INT(id)};
    int64_t changed = 0;
    if ((rc = store_exec(tx,
                         "UPDATE volunteer_hours SET status = $1, approved_by = $2, approved_at = $3 WHERE id = $4 AND "
                         "status = 'pending'",
                         u, 4, &changed, e)))
        goto fail;
    if (changed != 1) {
        rc = nx_fail(e, NX_ECONFLICT, "", "该记录已审批");
        goto fail;
    }
    if (!reject &&
        (rc = outbox_emit_new(tx, VOLUNTEERS_EV_HOURS_APPROVED, c, "volunteer_hours", id,
                              json_pack("{s:I, s:I, s:I}", "entry_id", (json_int_t)id, "volunteer_id", (json_int_t)vid,
                                        "minutes", (json_int_t)minutes),
                              e)))
        goto fail;
    if (!reject && (rc = vol_points_earn(tx, c, vid, id, minutes, who->user_id, e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, reject ? "reject" : "approve", "volunteer_hours", id, c, NULL, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}

int volunteers_hours_of(store_tx *tx, int64_t volunteer_id, int64_t resident_id, json_t **out, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(volunteer_id), P_INT(resident_id ? resident_id : -1)};
    int rc = store_query(tx,
                         "SELECT id, name, number FROM volunteers WHERE id = $1 OR resident_id = $2 ORDER BY id LIMIT 1",
                         p, 2, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "没有志愿者记录", e))) {
        store_rows_free(r);
        return rc;
    }
    int64_t vid = store_int(r, 0);
    json_t *o = json_pack("{s:I, s:s, s:s}", "volunteer_id", (json_int_t)vid, "name", store_text(r, 1), "number",
                          store_text(r, 2));
    store_rows_free(r);
    if (o == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    json_t *projects = json_array();
    json_object_set_new(o, "projects", projects);
    store_param q[] = {P_INT(vid)};
    if ((rc = store_query(tx,
                          "SELECT COALESCE(a.title, ''), SUM(h.minutes), MIN(h.served_on), MAX(h.served_on) FROM "
                          "volunteer_hours h LEFT JOIN volunteer_activities a ON a.id = h.activity_id WHERE "
                          "h.volunteer_id = $1 AND h.status = 'approved' GROUP BY COALESCE(a.title, '') ORDER BY "
                          "COALESCE(a.title, '')",
                          q, 1, &r, e))) {
        json_decref(o);
        return rc;
    }
    int64_t total = 0;
    while (store_row(r)) {
        int64_t m = store_int(r, 1);
        if (m == 0)
            continue;
        total += m;
        const char *t = store_text(r, 0);
        json_array_append_new(projects, json_pack("{s:s, s:I, s:o, s:s, s:s}", "title", t && *t ? t : "其他志愿服务",
                                                  "minutes", (json_int_t)m, "hours", vol_hours_json(m), "first",
                                                  store_text(r, 2), "last", store_text(r, 3)));
    }
    if ((rc = store_rows_end(r, e))) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "minutes", json_integer(total));
    json_object_set_new(o, "hours", vol_hours_json(total));
    *out = o;
    return 0;
}

/* "YYYY" or "YYYY-MM" into a LIKE prefix pattern "YYYY-%" / "YYYY-MM-%". NX_EINVAL naming "period". */
static int period_pattern(const char *period, char out[16], nx_err *e)
{
    size_t n = period ? strlen(period) : 0;
    bool ok = n == 4 || (n == 7 && period[4] == '-');
    for (size_t i = 0; ok && i < n; i++)
        ok = i == 4 ? period[i] == '-' : (period[i] >= '0' && period[i] <= '9');
    if (ok && n == 7)
        ok = (period[5] == '0' && period[6] >= '1') || (period[5] == '1' && period[6] <= '2');
    if (!ok)
        return nx_fail(e, NX_EINVAL, "period", "期间应为年份（YYYY）或月份（YYYY-MM）");
    snprintf(out, 16, "%s-%%", period);
    return 0;
}

int volunteers_honour(nx_app *app, const nx_principal *who, const char *period, int64_t community_id, json_t **out,
                      nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看光荣榜");
    char pat[16];
    int rc = period_pattern(period, pat, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT v.id, v.name, t.name, SUM(h.minutes) FROM volunteer_hours h JOIN volunteers v ON v.id = "
                  "h.volunteer_id LEFT JOIN volunteer_teams t ON t.id = v.team_id WHERE h.status = 'approved'");
    vol_scope(&q, who, "h.");
    sqlq_add(&q, " AND h.served_on LIKE $%d", P_TEXT(pat));
    sqlq_eq_int(&q, "h.community_id", community_id);
    sqlq_sql(&q, " GROUP BY v.id, v.name, t.name HAVING SUM(h.minutes) > 0 ORDER BY 4 DESC, 1 LIMIT 100");
    bool full = vol_staff_read(who);
    store_tx *tx;
    store_rows *r;
    if ((rc = sqlq_read(app->db, &q, &tx, &r, e)))
        return rc;
    json_t *items = json_array();
    int rank = 0;
    while (store_row(r)) {
        char name[200];
        if (full)
            str_copy(name, store_text(r, 1) ? store_text(r, 1) : "", sizeof name);
        else
            mask_name(store_text(r, 1) ? store_text(r, 1) : "", name, sizeof name);
        int64_t m = store_int(r, 3);
        json_array_append_new(items, json_pack("{s:i, s:I, s:s, s:o, s:I, s:o}", "rank", ++rank, "volunteer_id",
                                               (json_int_t)store_int(r, 0), "name", name, "team_name",
                                               store_json_text(r, 2), "minutes", (json_int_t)m, "hours",
                                               vol_hours_json(m)));
    }
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:s, s:o}", "period", period, "items", items);
    return 0;
}

/* One row of the hours export: "number, name, team, activity title, minutes, records". */
typedef struct hours_buf {
    char hours[32], n[24];
} hours_buf;

static int hours_cells(store_rows *r, void *ctx, const char **cells, nx_err *e)
{
    hours_buf *b = ctx;
    snprintf(b->hours, sizeof b->hours, "%.2f", (double)store_int(r, 4) / 60.0);
    snprintf(b->n, sizeof b->n, "%lld", (long long)store_int(r, 5));
    const char *title = store_text(r, 3);
    cells[0] = store_text(r, 0);
    cells[1] = store_text(r, 1);
    cells[2] = store_text(r, 2);
    cells[3] = title && *title ? title : "其他志愿服务";
    cells[4] = b->hours;
    cells[5] = b->n;
    return 0;
}

int volunteers_hours_export(nx_app *app, const nx_principal *who, const char *period, const char *path,
                            int64_t *rows, nx_err *e)
{
    *rows = 0;
    if ((!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !vol_oversees(who)) || !perm_has(who, RIGHT_EXPORT))
        return nx_fail(e, NX_EPERM, "", "无权导出服务时长");
    char pat[16] = "%";
    int rc;
    if (period && *period && (rc = period_pattern(period, pat, e)))
        return rc;
    int64_t max = app->cfg ? app->cfg->export_max_rows : 200000;
    sqlq q;
    sqlq_init(&q, "SELECT v.number, v.name, t.name, COALESCE(a.title, ''), SUM(h.minutes), COUNT(*) FROM "
                  "volunteer_hours h JOIN volunteers v ON v.id = h.volunteer_id LEFT JOIN volunteer_teams t ON t.id = "
                  "v.team_id LEFT JOIN volunteer_activities a ON a.id = h.activity_id WHERE h.status = 'approved'");
    vol_scope(&q, who, "h.");
    sqlq_add(&q, " AND h.served_on LIKE $%d", P_TEXT(pat));
    sqlq_sql(&q, " GROUP BY v.id, v.number, v.name, t.name, COALESCE(a.title, '') ORDER BY v.id, 4 LIMIT %lld",
             (long long)max + 1);
    static const char *const titles[] = {"志愿者编号", "姓名", "所属队伍", "服务项目", "服务时长（小时）", "记录条数"};
    static const double widths[] = {14, 12, 20, 30, 16, 10};
    hours_buf b;
    export_rows_spec s = {.types = "ssssnn", .ncol = 6, .max = max, .too_many = "超过 %lld 行，请按月份导出",
                          .cells = hours_cells, .ctx = &b};
    xlsx_out *x;
    if ((rc = export_open(path, "志愿服务时长", titles, widths, 6, &x, e)) ||
        (rc = export_rows_read(app->db, &q, x, &s, rows, e)))
        return rc;
    return export_finish(app->db, x, path, who, "volunteer_hours", 0, who->community_id,
                         json_pack("{s:I, s:s}", "count", (json_int_t)*rows, "period", period ? period : ""), e);
}

int vol_readable(store_tx *tx, const nx_principal *who, int64_t volunteer_id, int64_t *vid, int64_t *community,
                 nx_err *e)
{
    vol_self me;
    int rc = vol_me(tx, who, &me, e);
    if (rc)
        return rc;
    if (volunteer_id == 0 || volunteer_id == me.id) {
        if (me.id == 0)
            return nx_fail(e, NX_ENOTFOUND, "", "您还没有志愿者记录");
        *vid = me.id;
        *community = me.community_id;
        return 0;
    }
    int64_t c = 0, team = 0;
    if ((rc = volunteer_of(tx, who, volunteer_id, "volunteer_id", &c, &team, e)))
        return rc == NX_EINVAL ? nx_fail(e, NX_ENOTFOUND, "", "志愿者不存在") : rc;
    if (!vol_manages_team(who, &me, team) && !vol_oversees(who))
        return nx_fail(e, NX_EPERM, "", "无权查看他人的志愿服务记录");
    *vid = volunteer_id;
    *community = c;
    return 0;
}

int volunteers_hours_summary(nx_app *app, const nx_principal *who, int64_t volunteer_id, json_t **out, nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看服务时长");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t vid = 0, c = 0;
    if ((rc = vol_readable(tx, who, volunteer_id, &vid, &c, e)) == 0)
        rc = volunteers_hours_of(tx, vid, 0, out, e);
    store_rollback(tx);
    return rc;
}
