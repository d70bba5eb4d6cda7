/* care_files.c — care files (关怀档案): opened for a resident with a category and a level, changed,
 * closed with a reason; life events and manual triggers make 遇事必访 tasks.
 *
 * Invariants:
 * - A resident has at most one active care file (a partial unique index); closing keeps the row.
 * - Categories and levels are codes of care_vocab; a level's rank is its sort value, so "a raise"
 *   means a higher sort. A raise creates a 遇事必访 task in the same transaction as the change, with
 *   the timeline entry's id as its source key (one raise, one task).
 * - Every change writes a timeline entry, an audit row and an outbox event in its transaction.
 * - Scope is part of every query (perm_scope_q on the file's community_id and grid_id); a file out
 *   of scope is NX_ENOTFOUND. The file's grid is the resident's grid at opening and follows the
 *   resident when the file is written again.
 * Threads: none of its own; every function runs its own transaction. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int audit_and_emit(store_tx *tx, const nx_principal *who, const char *action, const char *kind,
                          int64_t file, int64_t community, int64_t resident, json_t *detail, nx_err *e)
{
    int rc = audit_write(tx, who, action, "care_file", file, community, detail, e);
    if (rc)
        return rc;
    return outbox_emit_new(tx, kind, community, "care_file", file,
                           json_pack("{s:I, s:I}", "care_file_id", (json_int_t)file, "resident_id", (json_int_t)resident),
                           e);
}

#define FILE_COLS                                                                                  \
    "SELECT f.id, f.community_id, f.grid_id, g.name, f.resident_id, r.name, r.sex, r.birth_date, f.category, " \
    "cv.label, f.level, lv.label, f.living, f.health, f.needs, f.responsible_user_id, u.display_name, f.status, " \
    "f.opened_on, f.closed_on, f.close_reason, f.last_visit_on, f.version, f.created_at, f.updated_at "         \
    "FROM care_files f JOIN residents r ON r.id = f.resident_id LEFT JOIN grids g ON g.id = f.grid_id "          \
    "LEFT JOIN users u ON u.id = f.responsible_user_id "                                                         \
    "LEFT JOIN care_vocab cv ON cv.kind = 'care_category' AND cv.code = f.category "                            \
    "LEFT JOIN care_vocab lv ON lv.kind = 'care_level' AND lv.code = f.level"

static json_t *file_row(store_rows *r, nx_date today)
{
    nx_date b = {0};
    int age = date_parse(store_text(r, 7), &b) == 0 ? date_age(b, today) : 0;
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i grid_name:t resident_id:i resident_name:t - - "
                                  "category:t category_label:t level:t level_label:t living:t health:t needs:t "
                                  "responsible_user_id:i responsible_name:t status:t opened_on:t closed_on:t "
                                  "close_reason:t last_visit_on:t version:i created_at:d updated_at:d");
    if (o) {
        json_object_set_new(o, "sex", json_string(store_int(r, 6) == 1 ? "male" : "female"));
        json_object_set_new(o, "age", json_integer(age));
    }
    return o;
}

/* Load the file (scope-checked) for a write: place, resident, level, status, version. */
typedef struct file_cur {
    int64_t community, grid, resident, responsible, version;
    char level[48], category[48], status[16];
} file_cur;

static int load_file(store_tx *tx, const nx_principal *who, int64_t id, file_cur *c, nx_err *e)
{
    store_rows *r;
    int rc = perm_scope_first(tx, who, "f.", "resident_id", id,
                              "SELECT f.community_id, f.grid_id, f.resident_id, f.level, f.category, f.status, "
                              "f.version, f.responsible_user_id FROM care_files f WHERE 1 = 1",
                              "关怀档案不存在", &r, e);
    if (rc)
        return rc;
    c->community = store_int(r, 0);
    c->grid = store_int(r, 1);
    c->resident = store_int(r, 2);
    str_copy(c->level, store_text(r, 3), sizeof c->level);
    str_copy(c->category, store_text(r, 4), sizeof c->category);
    str_copy(c->status, store_text(r, 5), sizeof c->status);
    c->version = store_int(r, 6);
    c->responsible = store_int(r, 7);
    store_rows_free(r);
    return 0;
}

/* load_file, for a change that only an active file takes: a closed one is NX_ECONFLICT with closed. */
static int load_active(store_tx *tx, const nx_principal *who, int64_t id, file_cur *c, const char *closed, nx_err *e)
{
    int rc = load_file(tx, who, id, c, e);
    if (rc == 0 && strcmp(c->status, "active") != 0)
        rc = nx_fail(e, NX_ECONFLICT, "", "%s", closed);
    return rc;
}

/* The resident record's care_level follows the care file's level (the file is the source: opened,
 * changed, closed → 'none'), so the register, its filters and the dashboard read one level. A level
 * code the register does not know (a vocabulary added later) leaves the record's level unchanged. */
static int sync_resident_level(store_tx *tx, int64_t resident, const char *level, int64_t now, nx_err *e)
{
    store_param p[] = {P_TEXT(level), P_INT(now), P_INT(resident)};
    return store_exec(tx,
                      "UPDATE residents SET care_level = $1, updated_at = $2 WHERE id = $3 AND $1 IN ('none', "
                      "'normal', 'key', 'frequent') AND care_level <> $1",
                      p, 3, NULL, e);
}

static int check_text_fields(json_t *in, const char **living, const char **health, const char **needs, nx_err *e)
{
    int rc;
    if ((rc = json_read_str(in, "living", false, 500, living, e)) ||
        (rc = json_read_str(in, "health", false, 500, health, e)) ||
        (rc = json_read_str(in, "needs", false, 500, needs, e)))
        return rc;
    return 0;
}

int visits_care_file_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权建立关怀档案");
    static const char *const allowed[] = {"resident_id", "category", "level", "living", "health", "needs",
                                          "responsible_user_id", "opened_on", NULL};
    int64_t resident = 0, responsible = 0;
    const char *category = NULL, *level = NULL, *living = NULL, *health = NULL, *needs = NULL, *opened = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_read_str(in, "category", true, 40, &category, e)) ||
        (rc = json_read_str(in, "level", true, 40, &level, e)) ||
        (rc = check_text_fields(in, &living, &health, &needs, e)) ||
        (rc = json_get_int(in, "responsible_user_id", false, 1, INT64_MAX, &responsible, e)) < 0 ||
        (rc = json_read_date(in, "opened_on", false, &opened, e)))
        return rc;
    int64_t now = clock_now_ms();
    char today[11];
    vx_day(now, 0, today);
    if (opened && strcmp(opened, today) > 0)
        return nx_fail(e, NX_EINVAL, "opened_on", "建档日期不能晚于今天");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, grid = 0;
    if ((rc = vx_resident_place(tx, who, resident, &community, &grid, e)) ||
        (rc = visits_vocab_check(tx, "care_category", category, "category", "关怀类别", e)) ||
        (rc = visits_vocab_check(tx, "care_level", level, "level", "关怀等级", e)) ||
        (responsible && (rc = visits_user_check(tx, responsible, community, "responsible_user_id", e))))
        goto fail;
    store_param p[] = {P_INT(community), P_ID(grid), P_INT(resident), P_TEXT(category), P_TEXT(level),
                       P_TEXT(living), P_TEXT(health), P_TEXT(needs), P_ID(responsible), P_TEXT("active"),
                       P_TEXT(opened ? opened : today), P_INT(now), P_INT(now)};
    if ((rc = app_insert(tx, "care_files",
                         "community_id, grid_id, resident_id, category, level, living, health, needs, "
                         "responsible_user_id, status, opened_on, created_at, updated_at",
                         p, 13, id, e)))
        goto fail;
    json_t *d = json_pack("{s:s, s:s}", "category", category, "level", level);
    rc = visits_timeline_add(tx, community, "care_file", *id, who, "opened", NULL, d, NULL, e);
    json_decref(d);
    if (rc || (rc = audit_and_emit(tx, who, "create", VISITS_EV_CARE_FILE_OPENED, *id, community, resident, NULL, e)) ||
        (rc = vx_schedule_file(tx, *id, now, NULL, e)) || (rc = sync_resident_level(tx, resident, level, now, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    if (rc == NX_ECONFLICT)
        return nx_fail(e, NX_ECONFLICT, "resident_id", "该居民已有在管的关怀档案");
    return rc;
}

int vx_care_file_open_auto(store_tx *tx, int64_t resident, const char *category, const char *note, int64_t now,
                           int64_t *id, nx_err *e)
{
    int64_t fid = 0;
    char today[11];
    vx_day(now, 0, today);
    if (id)
        *id = 0;
    store_param p[] = {P_INT(resident), P_TEXT(category), P_TEXT(today), P_INT(now)};
    int rc = store_one_int(tx,
                           "INSERT INTO care_files (community_id, grid_id, resident_id, category, level, needs, status, "
                           "opened_on, created_at, updated_at) SELECT r.community_id, r.grid_id, r.id, $2, 'normal', "
                           "NULL, 'active', $3, $4, $4 FROM residents r WHERE r.id = $1 AND r.status = 'active' AND "
                           "EXISTS (SELECT 1 FROM care_vocab v WHERE v.kind = 'care_category' AND v.code = $2) AND "
                           "NOT EXISTS (SELECT 1 FROM care_files f WHERE f.resident_id = r.id AND f.status = 'active') "
                           "RETURNING id",
                           p, 4, &fid, e);
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        return 0; /* not a care category, or a file exists already */
    }
    if (rc)
        return rc;
    int64_t community = 0;
    store_param q[] = {P_INT(fid)};
    if ((rc = store_one_int(tx, "SELECT community_id FROM care_files WHERE id = $1", q, 1, &community, e)))
        return rc;
    json_t *d = json_pack("{s:s, s:s}", "category", category, "level", "normal");
    rc = visits_timeline_add(tx, community, "care_file", fid, NULL, "opened", note, d, NULL, e);
    json_decref(d);
    if (rc || (rc = audit_and_emit(tx, NULL, "create", VISITS_EV_CARE_FILE_OPENED, fid, community, resident, NULL, e)) ||
        (rc = vx_schedule_file(tx, fid, now, NULL, e)) || (rc = sync_resident_level(tx, resident, "normal", now, e)))
        return rc;
    if (id)
        *id = fid;
    return 0;
}

int visits_care_file_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改关怀档案");
    static const char *const allowed[] = {"category", "level", "living", "health", "needs", "responsible_user_id",
                                          "version", NULL};
    const char *category = NULL, *level = NULL, *living = NULL, *health = NULL, *needs = NULL;
    int64_t responsible = 0, version = 0;
    bool clear_resp = json_is_null_field(in, "responsible_user_id");
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "category", false, 40, &category, e)) ||
        (rc = json_read_str(in, "level", false, 40, &level, e)) ||
        (rc = check_text_fields(in, &living, &health, &needs, e)) ||
        (!clear_resp &&
         (rc = json_get_int(in, "responsible_user_id", false, 1, INT64_MAX, &responsible, e)) < 0) ||
        (rc = json_get_version(in, &version, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    file_cur c;
    int64_t now = clock_now_ms();
    if ((rc = load_active(tx, who, id, &c, "关怀档案已关闭，不能修改", e)))
        goto fail;
    if (version && version != c.version) {
        rc = nx_fail(e, NX_ECONFLICT, "version", "该档案已被他人修改，请刷新后重试");
        goto fail;
    }
    if ((category && (rc = visits_vocab_check(tx, "care_category", category, "category", "关怀类别", e))) ||
        (level && (rc = visits_vocab_check(tx, "care_level", level, "level", "关怀等级", e))) ||
        (responsible && (rc = visits_user_check(tx, responsible, c.community, "responsible_user_id", e))))
        goto fail;
    int64_t rank_to = 0, rank_from = 0;
    if (level &&
        ((rc = vx_level_rank(tx, level, &rank_to, e)) || (rc = vx_level_rank(tx, c.level, &rank_from, e))))
        goto fail;
    bool raise = level && rank_to > rank_from;
    store_param p[] = {P_TEXT(category), P_TEXT(level), P_TEXT(living), P_TEXT(health), P_TEXT(needs),
                       P_INT(clear_resp ? -1 : responsible), P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE care_files SET category = COALESCE($1, category), level = COALESCE($2, level), "
                         "living = COALESCE($3, living), health = COALESCE($4, health), needs = COALESCE($5, needs), "
                         "responsible_user_id = CASE WHEN $6 < 0 THEN NULL WHEN $6 = 0 THEN responsible_user_id "
                         "ELSE $6 END, version = version + 1, updated_at = $7 WHERE id = $8",
                         p, 8, NULL, e)))
        goto fail;
    json_t *fields = json_array();
    const char *names[] = {"category", "level", "living", "health", "needs", "responsible_user_id", "version"};
    for (size_t i = 0; i < 6; i++)
        if (json_object_get(in, names[i]))
            json_array_append_new(fields, json_string(names[i]));
    json_t *d = json_pack("{s:o}", "fields", fields);
    if (level && strcmp(level, c.level) != 0) {
        json_object_set_new(d, "level_from", json_string(c.level));
        json_object_set_new(d, "level_to", json_string(level));
    }
    int64_t entry = 0;
    rc = visits_timeline_add(tx, c.community, "care_file", id, who, raise ? "level_raised" : "updated", NULL,
                             d, &entry, e);
    if (rc == 0)
        rc = audit_and_emit(tx, who, "update", raise ? VISITS_EV_CARE_FILE_LEVEL_RAISED : VISITS_EV_CARE_FILE_UPDATED, id,
                            c.community, c.resident, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    if (raise) {
        char key[48], due[11];
        snprintf(key, sizeof key, "raise:%lld", (long long)entry);
        vx_day(now, VX_DUE_RAISE, due);
        int64_t assignee = 0;
        if ((rc = vx_pick_assignee(tx, clear_resp ? 0 : (responsible ? responsible : c.responsible), c.community,
                                   c.grid, "grid", &assignee, e)) ||
            (rc = vx_event_task(tx, c.community, c.grid, c.resident, id, assignee, "level_raise", "关怀等级提高",
                                key, due, now, NULL, e)))
            goto fail;
    }
    if (level && (rc = vx_schedule_file(tx, id, now, NULL, e)))
        goto fail;
    if (level && strcmp(level, c.level) != 0) {
        /* the new level's task replaces the old level's current one: one routine task open per period */
        char today[11];
        vx_day(now, 0, today);
        store_param q[] = {P_INT(id), P_INT(now), P_TEXT(today)};
        if ((rc = store_exec(tx,
                             "UPDATE visit_tasks SET status = 'cancelled', updated_at = $2 WHERE care_file_id = $1 "
                             "AND kind = 'routine' AND status = 'open' AND due_date >= $3 AND id <> (SELECT "
                             "max(t.id) FROM visit_tasks t WHERE t.care_file_id = $1 AND t.kind = 'routine' AND "
                             "t.status = 'open')",
                             q, 3, NULL, e)) ||
            (rc = sync_resident_level(tx, c.resident, level, now, e)))
            goto fail;
    }
fail:
    return store_finish(tx, rc, e);
}

/* Close a file and cancel its open tasks, on tx (also used by the status-change handler). */
static int close_on_tx(store_tx *tx, const nx_principal *who, int64_t id, const file_cur *c, const char *reason,
                       const char *on, nx_err *e)
{
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(on), P_TEXT(reason), P_INT(now), P_INT(id)};
    int rc = store_exec(tx,
                        "UPDATE care_files SET status = 'closed', closed_on = $1, close_reason = $2, version = version "
                        "+ 1, updated_at = $3 WHERE id = $4",
                        p, 4, NULL, e);
    store_param q[] = {P_INT(now), P_INT(id)};
    if (rc == 0)
        rc = store_exec(tx,
                        "UPDATE visit_tasks SET status = 'cancelled', updated_at = $1 WHERE care_file_id = $2 AND "
                        "status = 'open'",
                        q, 2, NULL, e);
    json_t *d = json_pack("{s:s}", "closed_on", on);
    if (rc == 0)
        rc = visits_timeline_add(tx, c->community, "care_file", id, who, "closed", reason, d, NULL, e);
    if (rc == 0)
        rc = audit_and_emit(tx, who, "close", VISITS_EV_CARE_FILE_CLOSED, id, c->community, c->resident, d, e);
    if (rc == 0)
        rc = sync_resident_level(tx, c->resident, "none", now, e);
    json_decref(d);
    return rc;
}

int visits_care_file_close(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权关闭关怀档案");
    static const char *const allowed[] = {"reason", "closed_on", NULL};
    const char *reason = NULL, *on = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "reason", true, 200, &reason, e)) ||
        (rc = json_read_date(in, "closed_on", false, &on, e)))
        return rc;
    char today[11];
    vx_day(clock_now_ms(), 0, today);
    if (on && strcmp(on, today) > 0)
        return nx_fail(e, NX_EINVAL, "closed_on", "结档日期不能晚于今天");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    file_cur c;
    if ((rc = load_active(tx, who, id, &c, "关怀档案已关闭", e)))
        goto fail;
    if ((rc = close_on_tx(tx, who, id, &c, reason, on ? on : today, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int vx_close_resident_file(store_tx *tx, int64_t resident, const char *reason, nx_err *e)
{
    int64_t id = 0;
    int rc = vx_active_file(tx, resident, &id, e);
    if (rc || id == 0)
        return rc;
    nx_principal sys = {.username = "system", .scope = SCOPE_ALL, .role = ROLE_ADMIN};
    file_cur c;
    if ((rc = load_file(tx, &sys, id, &c, e)))
        return rc;
    char today[11];
    vx_day(clock_now_ms(), 0, today);
    return close_on_tx(tx, NULL, id, &c, reason, today, e);
}

static int life_or_manual(nx_app *app, const nx_principal *who, int64_t id, const char *action, const char *reason,
                          const char *note, const char *due, json_t *detail, int64_t *task_id, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    file_cur c;
    int64_t now = clock_now_ms();
    if ((rc = load_active(tx, who, id, &c, "关怀档案已关闭", e)))
        goto fail;
    int64_t entry = 0;
    if ((rc = visits_timeline_add(tx, c.community, "care_file", id, who, action, note, detail, &entry, e)))
        goto fail;
    char key[48];
    snprintf(key, sizeof key, "%s:%lld", strcmp(action, "manual_trigger") == 0 ? "manual" : "life", (long long)entry);
    int64_t assignee = 0;
    if ((rc = vx_pick_assignee(tx, c.responsible, c.community, c.grid, "grid", &assignee, e)) ||
        (rc = vx_event_task(tx, c.community, c.grid, c.resident, id, assignee, reason, note, key, due, now, task_id,
                            e)) ||
        (rc = audit_and_emit(tx, who, action, VISITS_EV_CARE_FILE_TRIGGERED, id, c.community, c.resident, detail, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int visits_care_file_event(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *task_id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记关怀事件");
    static const char *const allowed[] = {"kind", "note", "occurred_on", NULL};
    const char *kind = NULL, *note = NULL, *on = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "kind", true, 20, &kind, e)) ||
        (rc = json_read_str(in, "note", false, 500, &note, e)) ||
        (rc = json_read_date(in, "occurred_on", false, &on, e)))
        return rc;
    if (strcmp(kind, "hospitalised") != 0 && strcmp(kind, "bereaved") != 0 && strcmp(kind, "other") != 0)
        return nx_fail(e, NX_EINVAL, "kind", "事件类型应为 hospitalised（住院）、bereaved（丧亲）或 other（其他）");
    int64_t now = clock_now_ms();
    char due[11], today[11];
    vx_day(now, VX_DUE_LIFE, due);
    vx_day(now, 0, today);
    if (on && strcmp(on, today) > 0)
        return nx_fail(e, NX_EINVAL, "occurred_on", "事件日期不能晚于今天");
    json_t *d = json_pack("{s:s, s:s}", "kind", kind, "occurred_on", on ? on : today);
    rc = life_or_manual(app, who, id, "life_event", kind, note, due, d, task_id, e);
    json_decref(d);
    return rc;
}

int visits_care_file_trigger(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *task_id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权发起走访");
    static const char *const allowed[] = {"note", "due_date", NULL};
    const char *note = NULL, *due = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "note", false, 500, &note, e)) ||
        (rc = json_read_date(in, "due_date", false, &due, e)))
        return rc;
    int64_t now = clock_now_ms();
    char def[11], today[11];
    vx_day(now, VX_DUE_MANUAL, def);
    vx_day(now, 0, today);
    if (due && strcmp(due, today) < 0)
        return nx_fail(e, NX_EINVAL, "due_date", "截止日期不能早于今天");
    return life_or_manual(app, who, id, "manual_trigger", "manual", note, due ? due : def, NULL, task_id, e);
}

static json_t *file_item(store_rows *r, void *ctx)
{
    return file_row(r, *(const nx_date *)ctx);
}

/* A care file's open tasks and its ten latest visits. */
static int file_more(store_tx *tx, int64_t id, json_t *o, nx_err *e)
{
    int rc = vx_set_items(
        tx, o, "open_tasks",
        "SELECT id, kind, reason, due_date, status, overdue FROM visit_tasks WHERE care_file_id = $1 "
        "AND status = 'open' ORDER BY due_date, id",
        id, "id:i kind:t reason:t due_date:t status:t overdue:b", e);
    return rc ? rc
              : vx_set_items(
                    tx, o, "recent_visits",
                    "SELECT id, visited_on, kind, visitors, findings FROM visits WHERE care_file_id = $1 "
                    "ORDER BY visited_on DESC, id DESC LIMIT 10",
                    id, "id:i visited_on:t kind:t visitors:t findings:t", e);
}

int visits_care_file_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看关怀档案");
    sqlq q;
    perm_scope_id_q(who, "f.", "resident_id", id, FILE_COLS " WHERE 1 = 1", &q);
    nx_date today = visits_local_date(clock_now_ms());
    store_page_spec s = {.row_ctx = file_item, .ctx = &today};
    return vx_get_record(app, &q, &s, "关怀档案不存在", "care_file", id, VX_TIMELINE, file_more, out, e);
}

int visits_care_file_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看关怀档案");
    const char *status = f->status ? f->status : "active";
    if (strcmp(status, "active") != 0 && strcmp(status, "closed") != 0 && strcmp(status, "all") != 0)
        return nx_fail(e, NX_EINVAL, "status", "状态应为 active、closed 或 all");
    sqlq q;
    sqlq_init(&q, FILE_COLS " WHERE 1 = 1");
    perm_scope_q(who, "f.", "resident_id", &q);
    if (strcmp(status, "all") != 0)
        sqlq_add(&q, " AND f.status = $%d", P_TEXT(status));
    if (f->q && f->q[0]) {
        sqlq_like(&q, " AND (r.name LIKE $%d ESCAPE '!'", f->q, true);
        int prefix = sqlq_like(&q, " OR r.name_pinyin LIKE $%d ESCAPE '!'", f->q, false);
        sqlq_sql(&q, " OR r.name_initials LIKE $%d ESCAPE '!')", prefix);
    }
    nx_date today = visits_local_date(clock_now_ms());
    return visits_list_page(app, &q, "f.", f,
                            VISITS_BY_COMMUNITY | VISITS_BY_GRID | VISITS_BY_RESIDENT | VISITS_BY_LEVEL |
                                VISITS_BY_CATEGORY,
                            (store_page_spec){.row_ctx = file_item, .ctx = &today}, out, e);
}
