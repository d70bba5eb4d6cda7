/* care_stats.c — the care dashboard and the monthly visit register (走访台账).
 *
 * Coverage: a care file is covered when its last visit is no older than its policy's period counted
 * back from today (N months: the same day N months earlier, clamped to the month's end; N weeks: 7N
 * days). Files of a level without a policy count as covered only when visited in the last month.
 * The files in scope are read once and aggregated in C by grid and by responsible worker; the other
 * figures are grouped in SQL. A community has hundreds of care files, a street thousands.
 *
 * The register lists a month's visits in scope in date order with the layout street offices use
 * (序号, 姓名, 性别, 年龄, 网格, 关怀类别, 走访日期, 走访方式, 走访人, 走访情况, 发现问题/需求, 处理结果,
 * 备注). The visits are read first, then the problems raised on them (one statement at a time per
 * transaction), both in one read snapshot. */
#include "modules/visits/visits_internal.h"

#include "base/str.h"
#include "base/vec.h"
#include "report/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of what is read whole: more policies, grids or workers than this fail the request (never
 * a silently incomplete dashboard). */
#define MAX_GROUPS 100000
#define MAX_POLICIES 10000

typedef struct pol {
    int64_t community;
    char category[48], level[48], unit[8];
    int count;
} pol;

typedef struct group {
    int64_t id;
    char name[96];
    int64_t files, covered;
} group;

/* The group of id in gs (added, named name or none, when new); NULL when gs refused it (its error
 * is kept in gs). */
static group *group_of(vec *gs, int64_t id, const char *name, const char *none)
{
    group *g = gs->items;
    for (size_t i = 0; i < gs->len; i++)
        if (g[i].id == id)
            return &g[i];
    group x = {.id = id};
    str_copy(x.name, name ? name : none, sizeof x.name);
    if (vec_push(gs, &x))
        return NULL;
    return &((group *)gs->items)[gs->len - 1];
}

static json_t *groups_json(const vec *gs, const char *id_key)
{
    const group *g = gs->items;
    json_t *a = json_array();
    for (size_t i = 0; i < gs->len; i++)
        json_array_append_new(a, json_pack("{s:o, s:s, s:I, s:I, s:f}", id_key, g[i].id ? json_integer(g[i].id) : json_null(),
                                           "name", g[i].name, "files", (json_int_t)g[i].files, "covered",
                                           (json_int_t)g[i].covered, "coverage",
                                           g[i].files ? (double)g[i].covered / (double)g[i].files : 0.0));
    return a;
}

/* The oldest last-visit day that still counts as covered for a policy. */
static void covered_since(nx_date today, const char *unit, int count, char out[11])
{
    if (strcmp(unit, "week") == 0) {
        date_format(date_from_days(date_to_days(today) - 7LL * count), out);
        return;
    }
    int m = today.y * 12 + (today.m - 1) - count;
    nx_date d = {m / 12, m % 12 + 1, today.d};
    while (!date_valid(d.y, d.m, d.d))
        d.d--;
    date_format(d, out);
}

static const pol *match(const vec *policies, int64_t community, const char *category, const char *level)
{
    const pol *ps = policies->items, *best = NULL;
    int score = -1;
    for (size_t i = 0; i < policies->len; i++) {
        if (strcmp(ps[i].level, level) != 0 || (ps[i].community && ps[i].community != community) ||
            (ps[i].category[0] && strcmp(ps[i].category, category) != 0))
            continue;
        int s = (ps[i].community ? 2 : 0) + (ps[i].category[0] ? 1 : 0);
        if (s > score) {
            score = s;
            best = &ps[i];
        }
    }
    return best;
}

/* The rows of from ("problems p") in scope counted by their status, as the keys of into:
 * {"open": 3, "resolved": 12}. */
static int count_by_status(store_tx *tx, const nx_principal *who, int64_t community, const char *from,
                           const char *alias, json_t *into, nx_err *e)
{
    char sql[96], tail[64];
    snprintf(sql, sizeof sql, "SELECT %sstatus, count(*) FROM %s WHERE 1 = 1", alias, from);
    snprintf(tail, sizeof tail, " GROUP BY %sstatus ORDER BY %sstatus", alias, alias);
    store_rows *r;
    int rc = perm_scoped_query(tx, who, community, sql, alias, tail, &r, e);
    if (rc)
        return rc;
    while (store_row(r))
        json_object_set_new(into, store_text(r, 0), json_integer(store_int(r, 1)));
    return store_rows_end(r, e);
}

int visits_stats(nx_app *app, const nx_principal *who, int64_t community, int64_t now_ms, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看关怀统计");
    vec ps, grids, workers;
    vec_init(&ps, sizeof(pol), MAX_POLICIES);
    vec_init(&grids, sizeof(group), MAX_GROUPS);
    vec_init(&workers, sizeof(group), MAX_GROUPS);
    json_t *res = NULL;
    store_tx *tx = NULL;
    store_rows *r = NULL;
    int rc = 0;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) ||
        (rc = store_query(tx,
                          "SELECT community_id, category, level, period_unit, period_count FROM visit_policies "
                          "ORDER BY id",
                          NULL, 0, &r, e)))
        goto done;
    while (store_row(r)) {
        pol p = {.community = store_int(r, 0), .count = (int)store_int(r, 4)};
        str_copy(p.category, store_text(r, 1) ? store_text(r, 1) : "", sizeof p.category);
        str_copy(p.level, store_text(r, 2), sizeof p.level);
        str_copy(p.unit, store_text(r, 3), sizeof p.unit);
        if (vec_push(&ps, &p))
            break;
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc || (rc = vec_error(&ps, e)))
        goto done;
    nx_date today = visits_local_date(now_ms);
    char day[11];
    date_format(today, day);
    if ((rc = perm_scoped_query(tx, who, community,
                                "SELECT f.id, f.community_id, f.grid_id, g.name, f.category, f.level, f.last_visit_on, "
                                "f.responsible_user_id, u.display_name FROM care_files f LEFT JOIN grids g ON g.id = f.grid_id "
                                "LEFT JOIN users u ON u.id = f.responsible_user_id WHERE f.status = 'active'",
                                "f.", " ORDER BY f.id", &r, e)))
        goto done;
    int64_t files = 0, covered = 0;
    while (store_row(r)) {
        const pol *p = match(&ps, store_int(r, 1), store_text(r, 4), store_text(r, 5));
        char since[11];
        covered_since(today, p ? p->unit : "month", p ? p->count : 1, since);
        const char *last = store_text(r, 6);
        bool ok = last && strcmp(last, since) >= 0;
        files++;
        covered += ok;
        group *g = group_of(&grids, store_int(r, 2), store_text(r, 3), "未分网格");
        group *w = group_of(&workers, store_int(r, 7), store_text(r, 8), "未指定责任人");
        if (!g || !w)
            break;
        g->files++;
        g->covered += ok;
        w->files++;
        w->covered += ok;
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc || (rc = vec_error(&grids, e)) || (rc = vec_error(&workers, e)))
        goto done;
    res = json_pack("{s:s, s:I, s:I, s:f}", "date", day, "files", (json_int_t)files, "covered", (json_int_t)covered,
                    "coverage", files ? (double)covered / (double)files : 0.0);
    json_object_set_new(res, "by_grid", groups_json(&grids, "grid_id"));
    json_object_set_new(res, "by_worker", groups_json(&workers, "user_id"));

    if ((rc = perm_scoped_query(tx, who, community,
                                "SELECT t.id, t.resident_id, r.name, t.grid_id, g.name, t.reason, t.due_date, u.display_name, "
                                "t.escalated_at FROM visit_tasks t JOIN residents r ON r.id = t.resident_id LEFT JOIN grids g ON "
                                "g.id = t.grid_id LEFT JOIN users u ON u.id = t.assignee_user_id WHERE t.status = 'open' AND "
                                "t.overdue = 1",
                                "t.", " ORDER BY t.due_date, t.id LIMIT 100", &r, e)))
        goto done;
    json_t *overdue = json_array();
    json_object_set_new(res, "overdue", overdue);
    while (store_row(r))
        json_array_append_new(overdue, json_pack("{s:I, s:I, s:s, s:o, s:o, s:s, s:s, s:o, s:b}", "task_id",
                                                 (json_int_t)store_int(r, 0), "resident_id", (json_int_t)store_int(r, 1),
                                                 "resident_name", store_text(r, 2), "grid_id", store_json_int(r, 3), "grid_name",
                                                 store_json_text(r, 4), "reason", store_text(r, 5), "due_date", store_text(r, 6),
                                                 "assignee_name", store_json_text(r, 7), "escalated", !store_isnull(r, 8)));
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;

    json_t *by_status = json_object(), *problems = json_pack("{s:o}", "by_status", by_status);
    json_object_set_new(res, "problems", problems);
    if ((rc = count_by_status(tx, who, community, "problems p", "p.", by_status, e)) ||
        (rc = perm_scoped_query(tx, who, community,
                                "SELECT count(*), avg(p.resolved_at - p.created_at), avg(p.rating), count(p.rating) FROM "
                                "problems p WHERE p.resolved_at IS NOT NULL",
                                "p.", "", &r, e)))
        goto done;
    int64_t resolved = 0, rated = 0;
    double avg_ms = 0, avg_rating = 0;
    if ((rc = store_first(r, NULL, e)) == 0) {
        resolved = store_int(r, 0);
        avg_ms = store_isnull(r, 1) ? 0 : store_real(r, 1);
        avg_rating = store_isnull(r, 2) ? 0 : store_real(r, 2);
        rated = store_int(r, 3);
    } else if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        rc = 0;
    }
    store_rows_free(r);
    r = NULL;
    if (rc)
        goto done;
    json_object_set_new(problems, "resolved", json_integer(resolved));
    json_object_set_new(problems, "avg_days_to_resolve", json_real(resolved ? avg_ms / 86400000.0 : 0.0));
    json_object_set_new(problems, "avg_rating", rated ? json_real(avg_rating) : json_null());

    if ((rc = perm_scoped_query(tx, who, community,
                                "SELECT i.category, cv.label, count(*) FROM incidents i LEFT JOIN care_vocab cv ON cv.kind = "
                                "'incident_category' AND cv.code = i.category WHERE 1 = 1",
                                "i.", " GROUP BY i.category, cv.label ORDER BY count(*) DESC, i.category", &r, e)))
        goto done;
    json_t *by_cat = json_array(), *inc_status = json_object();
    json_object_set_new(res, "incidents", json_pack("{s:o, s:o}", "by_category", by_cat, "by_status", inc_status));
    while (store_row(r))
        json_array_append_new(by_cat, json_pack("{s:s, s:o, s:I}", "category", store_text(r, 0), "label",
                                                store_json_text(r, 1), "count", (json_int_t)store_int(r, 2)));
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc == 0)
        rc = count_by_status(tx, who, community, "incidents i", "i.", inc_status, e);
done:
    store_rows_free(r);
    store_rollback(tx);
    vec_cleanup(&ps);
    vec_cleanup(&grids);
    vec_cleanup(&workers);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* ---- the register ---- */

static const char *kind_label(const char *k)
{
    return strcmp(k, "home") == 0 ? "入户走访" : strcmp(k, "phone") == 0 ? "电话走访" : "视频走访";
}

static const char *status_label(const char *s)
{
    if (strcmp(s, "open") == 0)
        return "待办";
    if (strcmp(s, "assigned") == 0)
        return "已交办";
    if (strcmp(s, "in_progress") == 0)
        return "办理中";
    if (strcmp(s, "resolved") == 0)
        return "已解决";
    return "已办结";
}

static void append(char *buf, size_t cap, const char *sep, const char *text)
{
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", len ? sep : "", text);
}

int visits_register_xlsx(nx_app *app, const nx_principal *who, const char *month, int64_t community,
                         const char *path, int64_t *count, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ) || !perm_has(who, RIGHT_EXPORT))
        return nx_fail(e, NX_EPERM, "", "无权导出走访台账");
    nx_date d;
    char first[11], last[11];
    if (month == NULL || strlen(month) != 7 || month[4] != '-') 
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    snprintf(first, sizeof first, "%s-01", month);
    if (date_parse(first, &d))
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    nx_date next = {d.m == 12 ? d.y + 1 : d.y, d.m == 12 ? 1 : d.m + 1, 1};
    date_format(date_from_days(date_to_days(next) - 1), last);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    sqlq q, pq;
    sqlq_init(&q, "SELECT v.id, r.name, r.sex, r.birth_date, g.name, cv.label, v.visited_on, v.kind, v.visitors, "
                  "v.findings, v.remarks, v.followup_on FROM visits v JOIN residents r ON r.id = v.resident_id "
                  "LEFT JOIN grids g ON g.id = v.grid_id LEFT JOIN care_files f ON f.id = v.care_file_id LEFT "
                  "JOIN care_vocab cv ON cv.kind = 'care_category' AND cv.code = f.category WHERE 1 = 1");
    sqlq_init(&pq, "SELECT p.visit_id, p.title, p.status, p.resolution FROM problems p JOIN visits v ON v.id = "
                   "p.visit_id WHERE 1 = 1");
    sqlq *qs[] = {&q, &pq};
    for (int i = 0; i < 2; i++) {
        perm_scope_q(who, "v.", "resident_id", qs[i]);
        sqlq_range_text(qs[i], "v.visited_on", first, last);
        if (community)
            sqlq_add(qs[i], " AND v.community_id = $%d", P_INT(community));
    }
    sqlq_sql(&q, " ORDER BY v.visited_on, v.id");
    sqlq_sql(&pq, " ORDER BY p.visit_id, p.id");
    json_t *rows = json_array(), *probs = json_object();
    store_rows *r = NULL;
    xlsx_out *x = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    while (store_row(r)) {
        nx_date b = {0};
        char age[8] = "";
        if (date_parse(store_text(r, 3), &b) == 0)
            snprintf(age, sizeof age, "%d", date_age(b, visits_local_date(clock_now_ms())));
        char remarks[800] = "";
        if (store_text(r, 10))
            append(remarks, sizeof remarks, "；", store_text(r, 10));
        if (store_text(r, 11)) {
            char f[40];
            snprintf(f, sizeof f, "%s 跟进", store_text(r, 11));
            append(remarks, sizeof remarks, "；", f);
        }
        json_array_append_new(rows, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                                              (json_int_t)store_int(r, 0), "name", store_text(r, 1), "sex",
                                              store_int(r, 2) == 1 ? "男" : "女", "age", age, "grid",
                                              store_text(r, 4) ? store_text(r, 4) : "", "category",
                                              store_text(r, 5) ? store_text(r, 5) : "", "date", store_text(r, 6),
                                              "kind", kind_label(store_text(r, 7)), "visitors", store_text(r, 8),
                                              "findings", store_text(r, 9) ? store_text(r, 9) : "", "remarks", remarks));
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc || (rc = sqlq_query(tx, &pq, &r, e)))
        goto done;
    while (store_row(r)) {
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)store_int(r, 0));
        json_t *list = json_object_get(probs, key);
        if (!list) {
            list = json_pack("{s:s, s:s}", "needs", "", "results", "");
            json_object_set_new(probs, key, list);
        }
        char needs[1200], results[1600], res[600];
        str_copy(needs, json_string_value(json_object_get(list, "needs")), sizeof needs);
        str_copy(results, json_string_value(json_object_get(list, "results")), sizeof results);
        append(needs, sizeof needs, "；", store_text(r, 1));
        snprintf(res, sizeof res, "%s%s%s", status_label(store_text(r, 2)), store_text(r, 3) ? "：" : "",
                 store_text(r, 3) ? store_text(r, 3) : "");
        append(results, sizeof results, "；", res);
        json_object_set_new(list, "needs", json_string(needs));
        json_object_set_new(list, "results", json_string(results));
    }
    rc = store_rows_end(r, e); /* a read failing among the problems fails the register, never a short one */
    r = NULL;
    if (rc)
        goto done;
    static const char *const titles[] = {"序号", "姓名", "性别", "年龄", "网格", "关怀类别", "走访日期",
                                         "走访方式", "走访人", "走访情况", "发现问题/需求", "处理结果", "备注"};
    static const double widths[] = {6, 10, 6, 6, 12, 10, 12, 10, 16, 40, 30, 30, 24};
    char sheet[32];
    snprintf(sheet, sizeof sheet, "走访台账%s", month);
    if ((rc = export_open(path, sheet, titles, widths, 13, &x, e)))
        goto done;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        char seq[16], key[24];
        snprintf(seq, sizeof seq, "%zu", i + 1);
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
        json_t *pr = json_object_get(probs, key);
#define S(k) json_string_value(json_object_get(row, k))
        const char *cells[] = {seq, S("name"), S("sex"), S("age"), S("grid"), S("category"), S("date"), S("kind"),
                               S("visitors"), S("findings"),
                               pr ? json_string_value(json_object_get(pr, "needs")) : "",
                               pr ? json_string_value(json_object_get(pr, "results")) : "", S("remarks")};
#undef S
        if ((rc = xlsx_out_row_typed(x, cells, "nssssssssssss", 13))) {
            nx_fail(e, rc, "", "写入台账失败");
            goto done;
        }
    }
    *count = (int64_t)json_array_size(rows);
done:
    store_rows_free(r);
    store_rollback(tx);
    json_decref(rows);
    json_decref(probs);
    if (rc) {
        xlsx_out_discard(x);
        return rc;
    }
    return export_finish(app->db, x, path, who, "visit_register", 0, community ? community : who->community_id,
                         json_pack("{s:s, s:I}", "month", month, "count", (json_int_t)*count), e);
}
