/* visits_common.c — the helpers the files of the visits module share: the civil day, vocabulary
 * checks, the time line of an object (care_timeline), 遇事必访 event tasks and their assignee, the
 * outbox emit, a resident's place, the user check and the one-row read with time line (vx_get_one).
 *
 * Invariants: every helper runs on the caller's transaction (or, vx_get_one, a read transaction of
 * its own) and reports a failed read as the error it is, never as "none"; an event task is unique
 * by its source_key, so a cause delivered twice makes one task.
 * Threads: none of its own. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vx_day(int64_t now_ms, int plus_days, char out[11])
{
    nx_date d = visits_local_date(now_ms);
    date_format(date_from_days(date_to_days(d) + plus_days), out);
}

int visits_vocab_check(store_tx *tx, const char *kind, const char *code, const char *field, const char *label,
                       nx_err *e)
{
    int64_t n = 0;
    store_param p[] = {P_TEXT(kind), P_TEXT(code)};
    int rc = store_one_int(tx, "SELECT count(*) FROM care_vocab WHERE kind = $1 AND code = $2 AND active = 1", p, 2,
                           &n, e);
    if (rc)
        return rc;
    if (n == 0)
        return nx_fail(e, NX_EINVAL, field, "%s“%.40s”不存在或已停用", label, code);
    return 0;
}

int vx_level_rank(store_tx *tx, const char *level, int64_t *rank, nx_err *e)
{
    store_param p[] = {P_TEXT(level)};
    int rc = store_one_int(tx, "SELECT sort FROM care_vocab WHERE kind = 'care_level' AND code = $1", p, 1, rank, e);
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        *rank = 0;
        return 0;
    }
    return rc;
}

int visits_timeline_add(store_tx *tx, int64_t community, const char *type, int64_t id,
                        const nx_principal *who, const char *action, const char *note, json_t *detail,
                        int64_t *entry, nx_err *e)
{
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    store_param p[] = {P_INT(community), P_TEXT(type), P_INT(id), P_INT(clock_now_ms()),
                       who ? P_ID(who->user_id) : P_NULL,
                       P_TEXT(who ? (who->username ? who->username : "") : "system"), P_TEXT(action), P_TEXT(note),
                       P_TEXT(d ? d : "{}")};
    int64_t made = 0;
    int rc = app_insert(tx, "care_timeline",
                        "community_id, object_type, object_id, at, user_id, actor, action, note, detail",
                        p, 9, &made, e);
    free(d);
    if (entry)
        *entry = made;
    return rc;
}

int visits_change_record(store_tx *tx, const nx_principal *who, const visits_change *c, nx_err *e)
{
    int rc = visits_timeline_add(tx, c->community, c->type, c->id, who, c->action, c->note, c->detail, NULL, e);
    if (rc == 0)
        rc = audit_write(tx, who, c->audit_action ? c->audit_action : c->action, c->type, c->id, c->community,
                         c->detail, e);
    if (rc) {
        json_decref(c->payload);
        return rc;
    }
    return outbox_emit_new(tx, c->kind, c->community, c->type, c->id, c->payload, e);
}

int visits_status_q(sqlq *q, const char *alias, const char *status, const char *const *list, const char *group,
                    const char *group_sql, const char *bad, nx_err *e)
{
    if (!status)
        return 0;
    if (group && strcmp(status, group) == 0) {
        if (group_sql)
            sqlq_append(q, group_sql);
        return 0;
    }
    if (!vx_one_of(status, list))
        return nx_fail(e, NX_EINVAL, "status", "%s", bad);
    sqlq_sql(q, " AND %sstatus = $%d", alias, sqlq_param(q, P_TEXT(status)));
    return 0;
}

int visits_list_page(nx_app *app, sqlq *q, const char *alias, const care_filter *f, unsigned by,
                     store_page_spec s, json_t **out, nx_err *e)
{
    int64_t after;
    int rc = store_page_cursor_id(f->cursor, &after, e);
    if (rc)
        return rc;
    const struct {
        unsigned bit;
        const char *col;
        int64_t id;
        const char *text;
    } eq[] = {
        {VISITS_BY_COMMUNITY, "community_id", f->community_id, NULL},
        {VISITS_BY_GRID, "grid_id", f->grid_id, NULL},
        {VISITS_BY_RESIDENT, "resident_id", f->resident_id, NULL},
        {VISITS_BY_FILE, "care_file_id", f->care_file_id, NULL},
        {VISITS_BY_ASSIGNEE, "assignee_user_id", f->assignee_user_id, NULL},
        {VISITS_BY_LEVEL, "level", 0, f->level},
        {VISITS_BY_CATEGORY, "category", 0, f->category},
        {VISITS_BY_KIND, "kind", 0, f->kind},
    };
    for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++) {
        if (!(by & eq[i].bit) || (!eq[i].id && !eq[i].text))
            continue;
        int k = sqlq_param(q, eq[i].text ? P_TEXT(eq[i].text) : P_INT(eq[i].id));
        sqlq_sql(q, " AND %s%s = $%d", alias, eq[i].col, k);
    }
    /* "total": the same filters counted (before the cursor), so a list and a home-page card say how
     * much work there is */
    sqlq count = *q;
    int n = snprintf(count.sql, sizeof count.sql, "SELECT COUNT(*) FROM (%s) nx_count", q->sql);
    if (n < 0 || (size_t)n >= sizeof count.sql)
        count.over = true;
    else
        count.len = (size_t)n;
    s.count = &count;
    if (after)
        sqlq_sql(q, f->oldest ? " AND %sid > $%d" : " AND %sid < $%d", alias, sqlq_param(q, P_INT(after)));
    sqlq_sql(q, f->oldest ? " ORDER BY %sid ASC" : " ORDER BY %sid DESC", alias);
    s.limit = f->limit;
    s.max = (int)app->cfg->page_max;
    return store_page_read(app->db, q, &s, out, e);
}

int visits_grid_community(store_tx *tx, const nx_principal *who, int64_t grid, int64_t *community, nx_err *e)
{
    store_param g[] = {P_INT(grid)};
    int rc = store_one_int(tx, "SELECT community_id FROM grids WHERE id = $1", g, 1, community, e);
    if (rc && rc != NX_ENOTFOUND) /* the database failed: not "no such grid" */
        return rc;
    if (rc || !perm_covers(who, tx, *community, grid))
        return nx_fail(e, NX_ENOTFOUND, "grid_id", "网格不存在");
    return 0;
}

int visits_self_place(store_tx *tx, int64_t resident, int64_t *community, int64_t *grid, nx_err *e)
{
    store_param p[] = {P_INT(resident)};
    store_rows *r;
    int rc = store_query(tx, "SELECT community_id, grid_id FROM residents WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "居民不存在", e)) == 0) {
        *community = store_int(r, 0);
        *grid = store_int(r, 1);
    }
    store_rows_free(r);
    if (rc == 0 && !*community)
        rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
    return rc;
}

int vx_timeline_json(store_tx *tx, const char *type, int64_t id, json_t **out, nx_err *e)
{
    store_param p[] = {P_TEXT(type), P_INT(id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT t.id, t.at, t.user_id, COALESCE(u.display_name, t.actor), t.action, t.note, t.detail "
                         "FROM care_timeline t LEFT JOIN users u ON u.id = t.user_id WHERE t.object_type = $1 AND "
                         "t.object_id = $2 ORDER BY t.id",
                         p, 2, &r, e);
    if (rc)
        return rc;
    json_t *a = json_array();
    while (store_row(r)) {
        json_t *detail = json_loads(store_text(r, 6) ? store_text(r, 6) : "{}", 0, NULL);
        json_array_append_new(a, json_pack("{s:I, s:o, s:o, s:o, s:s, s:o, s:o}", "id", (json_int_t)store_int(r, 0),
                                           "at", store_json_time(r, 1), "user_id", store_json_int(r, 2), "actor", store_json_text(r, 3),
                                           "action", store_text(r, 4), "note", store_json_text(r, 5), "detail",
                                           detail ? detail : json_object()));
    }
    if ((rc = store_rows_end(r, e))) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

int vx_get_record(nx_app *app, const sqlq *q, const store_page_spec *s, const char *missing, const char *type,
                  int64_t id, unsigned with, int (*more)(store_tx *tx, int64_t id, json_t *o, nx_err *e),
                  json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    json_t *o = NULL, *x;
    if ((rc = sqlq_first(tx, q, missing, &r, e)) == 0) {
        if ((o = s->row ? s->row(r) : s->row_ctx(r, s->ctx)) == NULL)
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        store_rows_free(r);
    }
    if (rc == 0 && (with & VX_TIMELINE) && (rc = vx_timeline_json(tx, type, id, &x, e)) == 0)
        json_object_set_new(o, "timeline", x);
    if (rc == 0 && (with & VX_PHOTOS) && (rc = visits_photos_json(tx, type, id, &x, e)) == 0)
        json_object_set_new(o, "photos", x);
    if (rc == 0 && more)
        rc = more(tx, id, o, e);
    store_rollback(tx);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int visits_get_one(nx_app *app, const sqlq *q, json_t *(*row)(store_rows *), const char *missing,
                   const char *type, int64_t id, bool photos, json_t **out, nx_err *e)
{
    store_page_spec s = {.row = row};
    return vx_get_record(app, q, &s, missing, type, id, VX_TIMELINE | (photos ? VX_PHOTOS : 0), NULL, out, e);
}

int vx_set_items(store_tx *tx, json_t *o, const char *key, const char *sql, int64_t id, const char *words,
                 nx_err *e)
{
    sqlq q;
    sqlq_init(&q, sql);
    sqlq_param(&q, P_INT(id));
    store_page_spec s = {.row_ctx = store_json_row_ctx, .ctx = (void *)words};
    json_t *a;
    int rc = store_items(tx, &q, &s, &a, e);
    if (rc == 0)
        json_object_set_new(o, key, a);
    return rc;
}

/* The id sql (one $1 = key) answers into *out, 0 when it answers no row; 0 or the read's error. */
static int first_id(store_tx *tx, const char *sql, int64_t key, int64_t *out, nx_err *e)
{
    store_param p[] = {P_INT(key)};
    int rc = store_one_int(tx, sql, p, 1, out, e);
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        *out = 0;
        return 0;
    }
    return rc;
}

int vx_pick_assignee(store_tx *tx, int64_t responsible_user, int64_t community, int64_t grid,
                     const char *responsible, int64_t *assignee, nx_err *e)
{
    *assignee = responsible_user;
    if (responsible_user)
        return 0;
    int rc;
    if (grid && (responsible == NULL || strcmp(responsible, "grid") == 0)) {
        if ((rc = first_id(tx,
                           "SELECT id FROM users WHERE role = 'grid' AND grid_id = $1 AND disabled = 0 ORDER BY id "
                           "LIMIT 1",
                           grid, assignee, e)) ||
            *assignee)
            return rc;
    }
    return first_id(tx,
                    "SELECT id FROM users WHERE role = 'staff' AND community_id = $1 AND disabled = 0 ORDER BY id "
                    "LIMIT 1",
                    community, assignee, e);
}

int vx_event_task(store_tx *tx, int64_t community, int64_t grid, int64_t resident, int64_t care_file,
                  int64_t assignee, const char *reason, const char *note, const char *source_key,
                  const char *due, int64_t now, int64_t *task_id, nx_err *e)
{
    store_param p[] = {P_INT(community), P_ID(grid),   P_INT(resident), P_ID(care_file), P_TEXT(reason),
                       P_TEXT(note),     P_TEXT(source_key), P_TEXT(due), P_ID(assignee),  P_INT(now)};
    int64_t changes = 0;
    int rc = store_exec(tx,
                        "INSERT INTO visit_tasks (community_id, grid_id, resident_id, care_file_id, kind, reason, "
                        "note, source_key, due_date, assignee_user_id, status, created_at, updated_at) VALUES ($1, "
                        "$2, $3, $4, 'event', $5, $6, $7, $8, $9, 'open', $10, $10) ON CONFLICT DO NOTHING",
                        p, 10, &changes, e);
    if (rc)
        return rc;
    int64_t id = 0;
    store_param q[] = {P_TEXT(source_key)};
    if ((rc = store_one_int(tx, "SELECT id FROM visit_tasks WHERE source_key = $1", q, 1, &id, e)))
        return rc;
    if (task_id)
        *task_id = id;
    if (changes > 0) {
        json_t *d = json_pack("{s:s, s:s}", "reason", reason, "source", source_key);
        rc = visits_timeline_add(tx, community, "task", id, NULL, "created", note, d, NULL, e);
        json_decref(d);
        if (rc == 0) {
            rc = outbox_emit_new(tx, VISITS_EV_TASK_CREATED, community, "visit_task", id,
                                 json_pack("{s:I, s:I, s:s, s:s}", "task_id", (json_int_t)id, "resident_id",
                                           (json_int_t)resident, "reason", reason, "due_date", due),
                                 e);
        }
    }
    return rc;
}

int vx_resident_place(store_tx *tx, const nx_principal *who, int64_t resident, int64_t *community,
                      int64_t *grid, nx_err *e)
{
    store_rows *r;
    int rc = perm_scope_first(tx, who, "r.", "id", resident,
                              "SELECT r.community_id, r.grid_id, r.status FROM residents r WHERE 1 = 1", "居民不存在",
                              &r, e);
    if (rc) {
        if (rc == NX_ENOTFOUND)
            str_copy(e->field, "resident_id", sizeof e->field);
        return rc;
    }
    *community = store_int(r, 0);
    *grid = store_int(r, 1);
    bool active = strcmp(store_text(r, 2), "active") == 0;
    store_rows_free(r);
    if (!active)
        return nx_fail(e, NX_EINVAL, "resident_id", "该居民已迁出或去世");
    return 0;
}

int vx_active_file(store_tx *tx, int64_t resident, int64_t *file, nx_err *e)
{
    return first_id(tx, "SELECT id FROM care_files WHERE resident_id = $1 AND status = 'active'", resident, file, e);
}

int visits_user_check(store_tx *tx, int64_t user, int64_t community, const char *field, nx_err *e)
{
    store_param p[] = {P_INT(user), P_INT(community)};
    int64_t n = 0;
    int rc = store_one_int(tx,
                           "SELECT count(*) FROM users WHERE id = $1 AND disabled = 0 AND (community_id = $2 OR "
                           "scope = 'all') AND role IN ('admin', 'staff', 'grid', 'street')",
                           p, 2, &n, e);
    if (rc)
        return rc;
    if (n == 0)
        return nx_fail(e, NX_EINVAL, field, "指定的工作人员不存在或不属于该社区");
    return 0;
}

bool vx_one_of(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}
