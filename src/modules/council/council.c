/* council.c — the council's topics (议题), the consultation templates they move through, and the
 * council members and representatives of each estate.
 *
 * A topic is raised by a resident for their own estate, by staff on someone's behalf (from paper, a
 * visit, the 党代表工作室), or promoted from a problem of the visits module (read through its public
 * header; a problem becomes at most one topic, a unique index says so). Supporters are one row per
 * resident (primary key topic + resident), so supporting twice is a conflict however it is tried;
 * the supporters count on the topic is kept in the same transaction. Merging a duplicate moves its
 * supporters to the kept topic (each counted once) and leaves the duplicate pointing at it.
 *
 * The method is data: a template is a list of named steps with who acts and how many days each may
 * take. A new topic copies its template's steps (later edits of the template do not rewrite a
 * topic's history) and starts the first; advancing finishes the current step today and starts the
 * next. A step past its days with no finish is overdue, computed at read time from today's Shanghai
 * date, so no ticker is needed for the board to show it.
 *
 * Every write runs in one transaction with its event. Blocking; thread-safe. */
#include "modules/council/council_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/visits/visits.h"

/* ---- templates ---- */

static json_t *template_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i name:t - is_default:b");
    if (!o)
        return NULL;
    const char *steps = store_text(r, 3);
    json_t *s = steps ? json_loads(steps, 0, NULL) : NULL;
    json_object_set_new(o, "steps", s ? s : json_array());
    return o;
}

#define TEMPLATE_SELECT "SELECT p.id, p.community_id, p.name, p.steps, p.is_default FROM council_templates p WHERE 1 = 1"

/* Built-in templates and those of the caller's community (all for platform scope). */
static void template_scope(const nx_principal *who, sqlq *q)
{
    if (who->scope == SCOPE_ALL)
        return;
    if (who->scope == SCOPE_SELF) {
        sqlq_add(q, " AND (p.community_id IS NULL OR p.community_id = (SELECT community_id FROM residents WHERE id = $%d))",
                 P_INT(who->resident_id));
        return;
    }
    if (who->scope == SCOPE_STREET) {
        sqlq_add(q, " AND (p.community_id IS NULL OR p.community_id IN (SELECT id FROM communities WHERE street_id = $%d))",
                 P_INT(who->street_id));
        return;
    }
    sqlq_add(q, " AND (p.community_id IS NULL OR p.community_id = $%d)", P_INT(who->community_id));
}

int council_template_list(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, TEMPLATE_SELECT);
    template_scope(who, &q);
    sqlq_sql(&q, " ORDER BY p.id");
    store_page_spec s = {.max = 200, .row = template_row};
    return store_items_read(app->db, &q, &s, out, e);
}

int council_template_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, TEMPLATE_SELECT);
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    template_scope(who, &q);
    store_page_spec s = {.row = template_row};
    return store_get_read(app->db, &q, &s, "议事流程不存在", out, e);
}

/* Validate steps: 1..12 objects {name, actor, days}; *out a normalised copy (new reference). */
static int read_steps(json_t *in, json_t **out, nx_err *e)
{
    json_t *steps = json_object_get(in, "steps");
    if (!json_is_array(steps) || json_array_size(steps) < 1 || json_array_size(steps) > 12)
        return nx_fail(e, NX_EINVAL, "steps", "步骤须为 1 至 12 项");
    json_t *norm = json_array();
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
    {
        static const char *const allowed[] = {"name", "actor", "days", NULL};
        const char *name = NULL, *actor = NULL;
        int64_t days = 0;
        int rc;
        if ((rc = json_only(st, allowed, e)) || (rc = json_read_str(st, "name", true, 20, &name, e)) ||
            (rc = json_read_str(st, "actor", true, 30, &actor, e)) ||
            (rc = json_get_int(st, "days", true, 1, 365, &days, e)) < 0) {
            json_decref(norm);
            snprintf(e->field, sizeof e->field, "steps");
            return rc;
        }
        json_array_append_new(norm, json_pack("{s:s, s:s, s:I}", "name", name, "actor", actor, "days", (json_int_t)days));
    }
    *out = norm;
    return 0;
}

int council_template_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"name", "steps", "is_default", "community_id", NULL};
    const char *name = NULL;
    bool is_default = false;
    int64_t community = 0;
    json_t *steps = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "name", true, 30, &name, e)) ||
        (rc = json_get_bool(in, "is_default", false, &is_default, e)) < 0 ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &community, e)) < 0)
        return rc;
    if (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID)
        community = who->community_id;
    else if (!community)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区");
    if ((rc = read_steps(in, &steps, e)))
        return rc;
    char *text = json_dumps(steps, JSON_COMPACT);
    json_decref(steps);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        free(text);
        return rc;
    }
    if (!perm_covers(who, tx, community, 0) && who->scope != SCOPE_GRID) {
        rc = nx_fail(e, NX_EINVAL, "community_id", "社区不存在或不在管理范围内");
        goto done;
    }
    if (is_default) {
        store_param p[] = {P_INT(community)};
        if ((rc = store_exec(tx, "UPDATE council_templates SET is_default = 0 WHERE community_id = $1", p, 1, NULL, e)))
            goto done;
    }
    store_param p[] = {P_INT(community), P_TEXT(name), P_TEXT(text), P_INT(is_default ? 1 : 0), P_INT(clock_now_ms())};
    rc = app_insert(tx, "council_templates",
                    "community_id, name, steps, is_default, created_at",
                    p, 5, id, e);
done:
    free(text);
    return store_finish(tx, rc, e);
}

/* The template a topic of community uses: tid when given (visible to it), else the community's
 * default, else the built-in default. *steps is a new reference. */
static int pick_template(store_tx *tx, int64_t community, int64_t tid, int64_t *out, json_t **steps, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT p.id, p.steps FROM council_templates p WHERE 1 = 1");
    sqlq_add(&q, " AND (p.community_id IS NULL OR p.community_id = $%d)", P_INT(community));
    if (tid)
        sqlq_add(&q, " AND p.id = $%d", P_INT(tid));
    else
        sqlq_sql(&q, " AND p.is_default = 1 ORDER BY CASE WHEN p.community_id IS NULL THEN 1 ELSE 0 END, p.id");
    store_rows *r;
    int rc = sqlq_first(tx, &q, "议事流程不存在", &r, e);
    if (rc == 0) {
        *out = store_int(r, 0);
        const char *t = store_text(r, 1);
        *steps = t ? json_loads(t, 0, NULL) : NULL;
        if (!json_is_array(*steps) || json_array_size(*steps) == 0) {
            json_decref(*steps);
            *steps = NULL;
            rc = nx_fail(e, NX_EINTERNAL, "", "议事流程数据有误");
        }
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "template_id", "议事流程不存在");
    return rc;
}

/* ---- topics ---- */

#define TOPIC_SELECT                                                                                          \
    "SELECT t.id, t.community_id, t.estate_id, s.name, t.grid_id, t.scope, t.title, t.description, t.source, " \
    "t.channel, t.resident_id, t.problem_id, t.template_id, tp.name, t.step, st.name, st.due_on, t.status, "    \
    "t.merged_into, t.supporters, t.created_at, t.updated_at, d.id, st.done_on FROM council_topics t "         \
    "JOIN estates s ON s.id = t.estate_id JOIN council_templates tp ON tp.id = t.template_id "                 \
    "LEFT JOIN council_topic_steps st ON st.topic_id = t.id AND st.idx = t.step "                              \
    "LEFT JOIN council_decisions d ON d.topic_id = t.id WHERE 1 = 1"
#define TOPIC_SPEC                                                                                          \
    "id:i community_id:i estate_id:i estate_name:t grid_id:i scope:t title:t description:t source:t "      \
    "channel:t resident_id:i problem_id:i template_id:i template_name:t step:i step_name:t step_due:t "      \
    "status:t merged_into:i supporters:i created_at:d updated_at:d decision_id:i"

static bool topic_live(const char *status)
{
    return status && (strcmp(status, "open") == 0 || strcmp(status, "scheduled") == 0 || strcmp(status, "decided") == 0);
}

static json_t *topic_row(store_rows *r)
{
    json_t *o = store_json_row(r, TOPIC_SPEC);
    if (!o)
        return NULL;
    const char *status = store_text(r, 17), *due = store_text(r, 16);
    char today[11];
    cx_today(today);
    bool overdue = topic_live(status) && due && store_isnull(r, 23) && strcmp(due, today) < 0;
    json_object_set_new(o, "overdue", json_boolean(overdue));
    json_object_set_new(o, "status_label", json_string(cx_topic_status_label(status)));
    return o;
}

static void topic_where(sqlq *q, const char *head, const nx_principal *who, const council_filter *f, const char *today)
{
    sqlq_init(q, head);
    cx_scope_q(who, "t.", q);
    sqlq_eq_int(q, "t.community_id", f->community_id);
    sqlq_eq_int(q, "t.estate_id", f->estate_id);
    sqlq_eq_text(q, "t.status", f->status);
    if (f->q && *f->q)
        sqlq_like(q, " AND t.title LIKE $%d ESCAPE '!'", f->q, true);
    if (f->overdue)
        sqlq_add(q,
                 " AND st.due_on < $%d AND st.done_on IS NULL AND t.status IN ('open', 'scheduled', 'decided')",
                 P_TEXT(today));
}

int council_topic_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    char today[11];
    cx_today(today);
    sqlq q, count;
    topic_where(&q, TOPIC_SELECT, who, f, today);
    topic_where(&count,
                "SELECT COUNT(*) FROM council_topics t LEFT JOIN council_topic_steps st ON st.topic_id = t.id "
                "AND st.idx = t.step WHERE 1 = 1",
                who, f, today);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = topic_row};
    return store_page_by_id(app->db, &q, "t.", f->after, false, &s, out, e);
}

/* The topic with its steps, its meetings and whether the reader supports it (a store_build_fn). */
static int topic_build(store_tx *tx, const void *ctx, int64_t id, json_t **o, nx_err *e)
{
    const nx_principal *who = ctx;
    store_page_spec s = {.row = topic_row};
    int rc = cx_get(tx, who, TOPIC_SELECT, "t.", id, &s, "议题不存在", o, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT idx, name, actor, days, started_on, due_on, done_on FROM council_topic_steps WHERE 1 = 1");
    sqlq_add(&q, " AND topic_id = $%d ORDER BY idx", P_INT(id));
    if ((rc = cx_rows(tx, &q, "idx:i name:t actor:t days:i started_on:t due_on:t done_on:t", *o, "steps", e)))
        return rc;
    sqlq_init(&q, "SELECT m.id, m.title, m.starts_at, m.status FROM council_meeting_topics mt JOIN council_meetings m "
                  "ON m.id = mt.meeting_id WHERE 1 = 1");
    sqlq_add(&q, " AND mt.topic_id = $%d ORDER BY m.starts_at", P_INT(id));
    if ((rc = cx_rows(tx, &q, "id:i title:t starts_at:t status:t", *o, "meetings", e)))
        return rc;
    int64_t mine = 0;
    if (who->resident_id && !cx_staff(who)) {
        sqlq_init(&q, "SELECT COUNT(*) FROM council_supports WHERE 1 = 1");
        sqlq_add(&q, " AND topic_id = $%d", P_INT(id));
        sqlq_add(&q, " AND resident_id = $%d", P_INT(who->resident_id));
        if ((rc = cx_int(tx, &q, &mine, e)))
            return rc;
    }
    json_object_set_new(*o, "supported", json_boolean(mine > 0));
    return 0;
}

int council_topic_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return cx_build(app, who, id, topic_build, out, e);
}

/* Copy the template's steps onto topic id and start the first today. */
static int start_steps(store_tx *tx, int64_t id, json_t *steps, nx_err *e)
{
    char today[11], due[11];
    cx_today(today);
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
    {
        int days = (int)json_integer_value(json_object_get(st, "days"));
        const char *name = json_string_value(json_object_get(st, "name")),
                   *actor = json_string_value(json_object_get(st, "actor"));
        cx_add_days(today, days, due);
        store_param p[] = {P_INT(id),          P_INT((int64_t)i),            P_TEXT(name ? name : "步骤"),
                           P_TEXT(actor ? actor : ""), P_INT(days > 0 ? days : 1), i == 0 ? P_TEXT(today) : P_NULL,
                           i == 0 ? P_TEXT(due) : P_NULL};
        int rc = app_insert(tx, "council_topic_steps",
                            "topic_id, idx, name, actor, days, started_on, due_on",
                            p, 7, NULL, e);
        if (rc)
            return rc;
    }
    return 0;
}

int council_topic_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    bool staff = cx_staff(who), self = cx_resident(who);
    if (!staff && !self)
        return nx_fail(e, NX_EPERM, "", "无权提出议题");
    static const char *const staff_fields[] = {"estate_id", "title",       "description", "resident_id", "channel",
                                               "scope",     "template_id", "problem_id",  NULL};
    static const char *const self_fields[] = {"title", "description", NULL};
    const char *title = NULL, *desc = NULL, *channel = "online", *scope = "estate", *source = "resident";
    int64_t estate = 0, resident = 0, tid = 0, problem = 0;
    json_t *prob = NULL, *steps = NULL;
    int rc;
    if ((rc = json_only(in, staff ? staff_fields : self_fields, e)) ||
        (rc = json_read_str(in, "title", false, 60, &title, e)) ||
        (rc = json_read_str(in, "description", false, 2000, &desc, e)))
        return rc;
    if (staff) {
        if ((rc = json_get_int(in, "estate_id", false, 1, INT64_MAX, &estate, e)) < 0 ||
            (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
            (rc = json_get_int(in, "template_id", false, 1, INT64_MAX, &tid, e)) < 0 ||
            (rc = json_get_int(in, "problem_id", false, 1, INT64_MAX, &problem, e)) < 0 ||
            (rc = json_read_str(in, "channel", false, 20, &channel, e)) ||
            (rc = json_read_str(in, "scope", false, 10, &scope, e)))
            return rc;
        source = "staff";
        if (strcmp(channel, "online") && strcmp(channel, "paper") && strcmp(channel, "visit") &&
            strcmp(channel, "party_studio"))
            return nx_fail(e, NX_EINVAL, "channel", "来源渠道须为 online、paper、visit 或 party_studio");
        if (strcmp(scope, "estate") && strcmp(scope, "grid"))
            return nx_fail(e, NX_EINVAL, "scope", "范围须为 estate 或 grid");
        if (problem) {
            /* promoted from a problem: read through the visits module's public header */
            nx_err pe = {0};
            if ((rc = visits_problem_get(app, who, problem, &prob, &pe))) {
                if (rc == NX_ENOTFOUND || rc == NX_EPERM)
                    return nx_fail(e, NX_EINVAL, "problem_id", "诉求不存在或不在管理范围内");
                *e = pe;
                return rc;
            }
            source = "problem";
            channel = "problem";
            if (!title)
                title = json_string_value(json_object_get(prob, "title"));
            if (!desc)
                desc = json_string_value(json_object_get(prob, "description"));
            if (!resident)
                resident = json_integer_value(json_object_get(prob, "resident_id"));
        }
    }
    if (!title || !*title) {
        json_decref(prob);
        return nx_fail(e, NX_EINVAL, "title", "请填写议题");
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        json_decref(prob);
        return rc;
    }
    int64_t community = 0, grid = 0;
    if (self)
        resident = who->resident_id;
    if (resident) {
        int64_t rest = 0;
        bool active, adult;
        if ((rc = cx_resident_info(tx, resident, &rest, &active, &adult, e))) {
            if (rc == NX_ENOTFOUND)
                rc = nx_fail(e, NX_EINVAL, "resident_id", "居民不存在");
            goto done;
        }
        if (!estate)
            estate = rest;
        if (!estate) {
            rc = nx_fail(e, NX_EINVAL, self ? "" : "estate_id", "住址未关联小区，无法提出议题");
            goto done;
        }
        if (staff && rest != estate) {
            rc = nx_fail(e, NX_EINVAL, "resident_id", "居民不住在该小区");
            goto done;
        }
    }
    if (!estate) {
        rc = nx_fail(e, NX_EINVAL, "estate_id", "请选择小区");
        goto done;
    }
    if (self) {
        store_param p[] = {P_INT(estate)};
        store_rows *r;
        if ((rc = store_query(tx, "SELECT community_id, grid_id FROM estates WHERE id = $1", p, 1, &r, e)))
            goto done;
        if ((rc = store_first(r, "小区不存在", e)) == 0) {
            community = store_int(r, 0);
            grid = store_int(r, 1);
        }
        store_rows_free(r);
        if (rc)
            goto done;
    } else if ((rc = cx_estate_place(tx, who, estate, "estate_id", &community, &grid, e))) {
        goto done;
    }
    if ((rc = pick_template(tx, community, tid, &tid, &steps, e)))
        goto done;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_ID(grid),      P_INT(estate),  P_TEXT(scope),   P_TEXT(title),
                       P_TEXT(desc),     P_TEXT(source),  P_TEXT(channel), P_ID(resident), P_ID(who->user_id),
                       P_ID(problem),    P_INT(tid),      P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO council_topics (community_id, grid_id, estate_id, scope, title, description, "
                       "source, channel, resident_id, raised_by, problem_id, template_id, created_at, updated_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
                       p, 13, id, e);
    if (rc == NX_ECONFLICT)
        rc = nx_fail(e, NX_ECONFLICT, "problem_id", "该诉求已转为议题");
    if (rc || (rc = start_steps(tx, *id, steps, e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_TOPIC_RAISED, community, "topic", *id,
                              json_pack("{s:I, s:I, s:s}", "topic_id", (json_int_t)*id, "estate_id", (json_int_t)estate,
                                        "source", source),
                              e)))
        goto done;
done:
    json_decref(steps);
    json_decref(prob);
    return store_finish(tx, rc, e);
}

/* status, estate, community of topic id in who's scope, on tx (write transactions lock nothing more:
 * SQLite has one writer, PostgreSQL rows are re-checked by the UPDATE's own WHERE). */
static int topic_state(store_tx *tx, const nx_principal *who, int64_t id, char status[16], int64_t *estate,
                       int64_t *community, int64_t *step, nx_err *e)
{
    store_rows *r;
    int rc = cx_first(tx, who, "SELECT t.status, t.estate_id, t.community_id, t.step FROM council_topics t WHERE 1 = 1",
                      "t.", id, "议题不存在", &r, e);
    if (rc)
        return rc;
    snprintf(status, 16, "%s", store_text(r, 0) ? store_text(r, 0) : "");
    *estate = store_int(r, 1);
    *community = store_int(r, 2);
    if (step)
        *step = store_int(r, 3);
    store_rows_free(r);
    return 0;
}

int council_topic_support(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const none[] = {NULL};
    int rc;
    if (!cx_resident(who))
        return nx_fail(e, NX_EPERM, "", "只有居民本人可以附议");
    if (in && (rc = json_only(in, none, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    char status[16];
    int64_t estate, community;
    if ((rc = topic_state(tx, who, id, status, &estate, &community, NULL, e)))
        goto done;
    if (strcmp(status, "open") && strcmp(status, "scheduled")) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "议题已%s，不能再附议", cx_topic_status_label(status));
        goto done;
    }
    store_param p[] = {P_INT(id), P_INT(who->resident_id), P_INT(clock_now_ms())};
    rc = app_insert(tx, "council_supports",
                    "topic_id, resident_id, created_at",
                    p, 3, NULL, e);
    if (rc == NX_ECONFLICT)
        rc = nx_fail(e, NX_ECONFLICT, "", "您已附议过该议题");
    if (rc || (rc = store_exec(tx,
                               "UPDATE council_topics SET supporters = supporters + 1, updated_at = $3 WHERE id = $1",
                               p, 3, NULL, e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

int council_topic_merge(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"into_id", NULL};
    int64_t into = 0;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "into_id", true, 1, INT64_MAX, &into, e)) < 0)
        return rc;
    if (into == id)
        return nx_fail(e, NX_EINVAL, "into_id", "不能合并到自身");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    char st1[16], st2[16];
    int64_t est1, est2, c1, c2;
    if ((rc = topic_state(tx, who, id, st1, &est1, &c1, NULL, e)))
        goto done;
    if ((rc = topic_state(tx, who, into, st2, &est2, &c2, NULL, e))) {
        if (rc == NX_ENOTFOUND)
            rc = nx_fail(e, NX_EINVAL, "into_id", "目标议题不存在");
        goto done;
    }
    if (est1 != est2) {
        rc = nx_fail(e, NX_EINVAL, "into_id", "只能合并同一小区的议题");
        goto done;
    }
    if ((strcmp(st1, "open") && strcmp(st1, "scheduled")) || (strcmp(st2, "open") && strcmp(st2, "scheduled"))) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "只能合并征集中或已排会的议题");
        goto done;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(id), P_INT(into), P_INT(now)};
    if ((rc = store_exec(tx,
                         "INSERT INTO council_supports (topic_id, resident_id, created_at) SELECT $2, resident_id, "
                         "created_at FROM council_supports WHERE topic_id = $1 AND $3 > 0 "
                         "ON CONFLICT (topic_id, resident_id) DO NOTHING",
                         p, 3, NULL, e)) ||
        (rc = store_exec(tx,
                         "UPDATE council_topics SET supporters = (SELECT COUNT(*) FROM council_supports WHERE "
                         "topic_id = $2), updated_at = $3 WHERE id = $2 AND $1 > 0",
                         p, 3, NULL, e)) ||
        (rc = store_exec(tx, "UPDATE council_topics SET status = 'merged', merged_into = $2, updated_at = $3 WHERE id = $1",
                         p, 3, NULL, e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_TOPIC_MERGED, c1, "topic", id,
                              json_pack("{s:I, s:I, s:I}", "topic_id", (json_int_t)id, "into_id", (json_int_t)into,
                                        "estate_id", (json_int_t)est1),
                              e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

int council_topic_advance(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    store_tx *tx;
    int rc = cx_staff_begin(app, who, in, &tx, e);
    if (rc)
        return rc;
    char status[16];
    int64_t estate, community, step, nsteps = 0;
    if ((rc = topic_state(tx, who, id, status, &estate, &community, &step, e)))
        goto done;
    if (!topic_live(status)) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "议题已%s，不能推进", cx_topic_status_label(status));
        goto done;
    }
    store_param ps[] = {P_INT(id)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM council_topic_steps WHERE topic_id = $1", ps, 1, &nsteps, e)))
        goto done;
    char today[11], due[11];
    cx_today(today);
    int64_t now = clock_now_ms(), next = step + 1;
    store_param p[] = {P_INT(id), P_INT(step), P_TEXT(today)};
    if ((rc = store_exec(tx, "UPDATE council_topic_steps SET done_on = $3 WHERE topic_id = $1 AND idx = $2", p, 3,
                         NULL, e)))
        goto done;
    char next_name[64] = "";
    if (next < nsteps) {
        store_param pd[] = {P_INT(id), P_INT(next)};
        int64_t days = 1;
        if ((rc = store_one_int(tx, "SELECT days FROM council_topic_steps WHERE topic_id = $1 AND idx = $2", pd, 2,
                                &days, e)))
            goto done;
        cx_add_days(today, (int)days, due);
        store_param pn[] = {P_INT(id), P_INT(next), P_TEXT(today), P_TEXT(due)};
        if ((rc = store_exec(tx,
                             "UPDATE council_topic_steps SET started_on = $3, due_on = $4 WHERE topic_id = $1 AND idx = $2",
                             pn, 4, NULL, e)))
            goto done;
        char *nm = NULL;
        if ((rc = store_one_text(tx, "SELECT name FROM council_topic_steps WHERE topic_id = $1 AND idx = $2", pd, 2,
                                 &nm, e)))
            goto done;
        snprintf(next_name, sizeof next_name, "%s", nm ? nm : "");
        free(nm);
    }
    store_param pu[] = {P_INT(id), P_INT(next), P_INT(now), P_TEXT(next >= nsteps ? "done" : status)};
    if ((rc = store_exec(tx, "UPDATE council_topics SET step = $2, status = $4, updated_at = $3 WHERE id = $1", pu, 4,
                         NULL, e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_TOPIC_ADVANCED, community, "topic", id,
                              json_pack("{s:I, s:I, s:I, s:s}", "topic_id", (json_int_t)id, "estate_id",
                                        (json_int_t)estate, "step", (json_int_t)next, "step_name", next_name),
                              e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

/* ---- members ---- */

#define MEMBER_SELECT                                                                                   \
    "SELECT m.id, m.estate_id, s.name, m.resident_id, r.name, m.role, m.active, m.created_at FROM "     \
    "council_members m JOIN estates s ON s.id = m.estate_id JOIN residents r ON r.id = m.resident_id " \
    "WHERE 1 = 1"

static json_t *member_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i estate_id:i estate_name:t resident_id:i name:t role:t active:b created_at:d");
    if (o) {
        const char *role = store_text(r, 5);
        json_object_set_new(o, "role_label",
                            json_string(role && strcmp(role, "member") == 0 ? "议事会成员" : "居民代表"));
    }
    return o;
}

int council_member_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, MEMBER_SELECT);
    cx_scope_q(who, "m.", &q);
    sqlq_eq_int(&q, "m.estate_id", f->estate_id);
    sqlq_eq_int(&q, "m.community_id", f->community_id);
    sqlq_sql(&q, " AND m.active = 1 ORDER BY m.estate_id, m.role, m.id");
    store_page_spec s = {.max = 2000, .row = member_row};
    return store_items_read(app->db, &q, &s, out, e);
}

int council_member_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    store_page_spec s = {.row = member_row};
    return cx_get_read(app, who, MEMBER_SELECT, "m.", id, &s, "议事会成员不存在", out, e);
}

/* The role of a council member, when given: member or representative. */
static int role_read(json_t *in, bool required, const char **role, nx_err *e)
{
    int rc = json_read_str(in, "role", required, 20, role, e);
    if (rc == 0 && *role && strcmp(*role, "member") && strcmp(*role, "representative"))
        rc = nx_fail(e, NX_EINVAL, "role", "角色须为 member（议事会成员）或 representative（居民代表）");
    return rc;
}

int council_member_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"resident_id", "role", NULL};
    int64_t resident = 0;
    const char *role = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = role_read(in, true, &role, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t estate = 0, community, grid;
    bool active, adult;
    if ((rc = cx_resident_info(tx, resident, &estate, &active, &adult, e)) == NX_ENOTFOUND)
        rc = nx_fail(e, NX_EINVAL, "resident_id", "居民不存在");
    if (rc)
        goto done;
    if (!estate || !active) {
        rc = nx_fail(e, NX_EINVAL, "resident_id", "居民未关联小区或已不在册");
        goto done;
    }
    if ((rc = cx_estate_place(tx, who, estate, "resident_id", &community, &grid, e)))
        goto done;
    store_param p[] = {P_INT(community), P_ID(grid), P_INT(estate), P_INT(resident), P_TEXT(role), P_INT(clock_now_ms())};
    /* someone who left the council comes back on their old row (its history stays theirs) */
    store_param back[] = {P_TEXT(role), P_INT(estate), P_INT(resident)};
    rc = store_one_int(tx,
                       "UPDATE council_members SET active = 1, role = $1 WHERE estate_id = $2 AND resident_id = $3 "
                       "AND active = 0 RETURNING id",
                       back, 3, id, e);
    if (rc == NX_ENOTFOUND)
        rc = app_insert(tx, "council_members",
                        "community_id, grid_id, estate_id, resident_id, role, created_at",
                        p, 6, id, e);
    if (rc == NX_ECONFLICT)
        rc = nx_fail(e, NX_ECONFLICT, "resident_id", "该居民已是本小区议事会成员");
done:
    return store_finish(tx, rc, e);
}

int council_member_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"role", "active", NULL};
    const char *role = NULL;
    bool active = true;
    int rc, has_active;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)))
        return rc;
    for (int i = 0; allowed[i]; i++)
        if (json_is_null_field(in, allowed[i]))
            return nx_fail(e, NX_EINVAL, allowed[i], "%s 不能为空", allowed[i]);
    if ((rc = role_read(in, false, &role, e)))
        return rc;
    if ((has_active = json_get_bool(in, "active", false, &active, e)) < 0)
        return has_active;
    if (!role && has_active != 0)
        return nx_fail(e, NX_EINVAL, "role", "请给出新的角色（role）或在任状态（active）");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    rc = cx_first(tx, who, "SELECT m.id FROM council_members m WHERE 1 = 1", "m.", id, "议事会成员不存在", &r, e);
    store_rows_free(r);
    store_param p[] = {role ? P_TEXT(role) : P_NULL, has_active == 0 ? P_INT(active ? 1 : 0) : P_NULL, P_INT(id)};
    if (rc == 0)
        rc = store_exec(tx, "UPDATE council_members SET role = COALESCE($1, role), active = COALESCE($2, active) WHERE id = $3",
                        p, 3, NULL, e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* ---- statistics ---- */

int council_stats(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    int rc = cx_need_staff(who, e);
    if (rc)
        return rc;
    char today[11];
    cx_today(today);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    static const char *const heads[][2] = {
        {"raised", "SELECT COUNT(*) FROM council_topics t WHERE t.status <> 'merged'"},
        {"open", "SELECT COUNT(*) FROM council_topics t WHERE t.status IN ('open', 'scheduled')"},
        {"decided", "SELECT COUNT(*) FROM council_topics t WHERE t.status IN ('decided', 'done')"},
        {"done", "SELECT COUNT(*) FROM council_topics t WHERE t.status = 'done'"},
        {"polls_open", "SELECT COUNT(*) FROM council_polls t WHERE t.status = 'open'"},
        {"overdue", "SELECT COUNT(*) FROM council_topics t JOIN council_topic_steps st ON st.topic_id = t.id AND "
                    "st.idx = t.step WHERE st.done_on IS NULL AND t.status IN ('open', 'scheduled', 'decided')"},
    };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof heads / sizeof heads[0] && rc == 0; i++) {
        sqlq q;
        sqlq_init(&q, heads[i][1]);
        perm_scope_q(who, "t.", NULL, &q);
        sqlq_eq_int(&q, "t.community_id", community_id);
        if (i == 5)
            sqlq_add(&q, " AND st.due_on < $%d", P_TEXT(today));
        int64_t n = 0;
        if ((rc = cx_int(tx, &q, &n, e)) == 0)
            json_object_set_new(o, heads[i][0], json_integer(n));
    }
    return store_read_finish(tx, rc, o, out);
}
