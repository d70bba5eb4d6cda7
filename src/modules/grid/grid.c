/* grid.c — grid members and incidents (see grid.h for the rules).
 *
 * Invariants: a member's and an incident's grid belongs to its community_id; a member's phone is
 * never stored or logged in clear (ciphertext bound to its column, plus the last four digits);
 * incident status only moves forward (reported → dispatched → handled → closed), each move stamped
 * with its time and written to the timeline, the audit log and the outbox in one transaction.
 * Threads: none of its own; each function runs its own transaction. */
#include "modules/grid/grid.h"

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/page.h"
#include "store/query.h"
#include "text/mask.h"
#include "text/phone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTX_MEMBER_PHONE "grid_member.phone"
#define MEMBERS_MAX 2000 /* the member roster is read whole; more than this is refused, never cut */

/* ---- members ---- */

#define MEMBER_COLS                                                                                \
    "SELECT m.id, m.community_id, m.grid_id, g.name, m.role, cv.label, m.user_id, m.name, m.phone_enc, m.notes, " \
    "m.active FROM grid_members m JOIN grids g ON g.id = m.grid_id LEFT JOIN care_vocab cv ON cv.kind = "         \
    "'member_role' AND cv.code = m.role"

static json_t *member_row(nx_app *app, store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i grid_name:t role:t role_label:t user_id:i name:t "
                                  "- notes:t active:b");
    if (!o)
        return NULL;
    size_t n = 0;
    const void *ct = store_blob(r, 8, &n);
    char *plain = NULL;
    if (ct && n && field_decrypt_ad(app->keys, CTX_MEMBER_PHONE, ct, n, &plain) == 0 && plain) {
        char masked[32];
        mask_phone(plain, masked, sizeof masked);
        json_object_set_new(o, "phone", json_string(masked));
        field_plain_free(plain);
    } else {
        json_object_set_new(o, "phone", json_null());
    }
    return o;
}

static json_t *member_item(store_rows *r, void *app)
{
    return member_row(app, r);
}

static bool may_read(const nx_principal *who)
{
    return perm_has(who, RIGHT_CARE_READ) || perm_has(who, RIGHT_ORG_READ);
}

int grid_member_list(nx_app *app, const nx_principal *who, int64_t grid_id, bool include_inactive, json_t **out,
                     nx_err *e)
{
    if (!may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看网格成员");
    sqlq q;
    sqlq_init(&q, MEMBER_COLS " WHERE 1 = 1");
    perm_scope_q(who, "m.", NULL, &q);
    if (grid_id)
        sqlq_add(&q, " AND m.grid_id = $%d", P_INT(grid_id));
    if (!include_inactive)
        sqlq_sql(&q, " AND m.active = 1");
    sqlq_sql(&q, " ORDER BY m.grid_id, m.id LIMIT %d", MEMBERS_MAX + 1);
    store_page_spec s = {.row_ctx = member_item, .ctx = app, .max = MEMBERS_MAX};
    int rc = store_items_read(app->db, &q, &s, out, e);
    if (rc == NX_ETOOBIG)
        rc = nx_fail(e, NX_ETOOBIG, "grid_id", "网格成员超过 %d 人，请按网格查看", MEMBERS_MAX);
    return rc;
}

int grid_member_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看网格成员");
    sqlq q;
    perm_scope_id_q(who, "m.", NULL, id, MEMBER_COLS " WHERE 1 = 1", &q);
    return store_get_read(app->db, &q, &(store_page_spec){.row_ctx = member_item, .ctx = app}, "网格成员不存在", out, e);
}

static int seal_phone(nx_app *app, const char *phone, unsigned char **ct, size_t *ctn, char tail[8], nx_err *e)
{
    char norm[32];
    int rc = phone_parse_any(phone, norm, sizeof norm, e);
    if (rc) {
        str_copy(e->field, "phone", sizeof e->field);
        return rc;
    }
    if (field_encrypt_ad(app->keys, CTX_MEMBER_PHONE, norm, strlen(norm), ct, ctn))
        return nx_fail(e, NX_EINTERNAL, "", "加密失败");
    size_t n = strlen(norm);
    str_copy(tail, n > 4 ? norm + n - 4 : norm, 8);
    return 0;
}

int grid_member_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权管理网格成员");
    static const char *const allowed[] = {"grid_id", "role", "user_id", "name", "phone", "notes", NULL};
    int64_t grid = 0, user = 0;
    const char *role = NULL, *name = NULL, *phone = NULL, *notes = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "grid_id", true, 1, INT64_MAX, &grid, e)) < 0 ||
        (rc = json_read_str(in, "role", true, 40, &role, e)) ||
        (rc = json_get_int(in, "user_id", false, 1, INT64_MAX, &user, e)) < 0 ||
        (rc = json_read_str(in, "name", false, 40, &name, e)) ||
        (rc = json_read_str(in, "phone", false, 30, &phone, e)) ||
        (rc = json_read_str(in, "notes", false, 200, &notes, e)))
        return rc;
    if (!user && !name)
        return nx_fail(e, NX_EINVAL, "name", "请填写姓名或关联账号");
    unsigned char *ct = NULL;
    size_t ctn = 0;
    char tail[8] = "";
    if (phone && (rc = seal_phone(app, phone, &ct, &ctn, tail, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        free(ct);
        return rc;
    }
    int64_t community = 0;
    char *display = NULL;
    if ((rc = visits_grid_community(tx, who, grid, &community, e)) ||
        (rc = visits_vocab_check(tx, "member_role", role, "role", "网格角色", e)))
        goto fail;
    if (user) {
        store_param u[] = {P_INT(user)};
        int lrc = store_one_text(tx, "SELECT display_name FROM users WHERE id = $1", u, 1, &display, e);
        if (lrc && lrc != NX_ENOTFOUND) { /* the database failed: not "no such account" */
            rc = lrc;
            goto fail;
        }
        if (lrc || !display) {
            rc = nx_fail(e, NX_EINVAL, "user_id", "账号不存在");
            goto fail;
        }
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_INT(grid), P_TEXT(role), P_ID(user), P_TEXT(name ? name : display),
                       P_BLOB(ct, ctn), P_TEXT(ct ? tail : NULL), P_TEXT(notes), P_INT(1), P_INT(now),
                       P_INT(now)};
    if ((rc = app_insert(tx, "grid_members",
                         "community_id, grid_id, role, user_id, name, phone_enc, phone_tail, notes, active, "
                         "created_at, updated_at",
                         p, 11, id, e)))
        goto fail;
    json_t *d = json_pack("{s:s, s:I}", "role", role, "grid_id", (json_int_t)grid);
    rc = audit_write(tx, who, "create", "grid_member", *id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
fail:
    free(ct);
    free(display);
    return store_finish(tx, rc, e);
}

int grid_member_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权管理网格成员");
    static const char *const allowed[] = {"role", "name", "phone", "notes", "active", NULL};
    const char *role = NULL, *name = NULL, *phone = NULL, *notes = NULL;
    bool active = true, clear_phone = json_is_null_field(in, "phone");
    int rc, has_active;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "role", false, 40, &role, e)) ||
        (rc = json_read_str(in, "name", false, 40, &name, e)) ||
        (!clear_phone && (rc = json_read_str(in, "phone", false, 30, &phone, e))) ||
        (rc = json_read_str(in, "notes", false, 200, &notes, e)))
        return rc;
    if ((has_active = json_get_bool(in, "active", false, &active, e)) < 0)
        return has_active;
    unsigned char *ct = NULL;
    size_t ctn = 0;
    char tail[8] = "";
    if (phone && (rc = seal_phone(app, phone, &ct, &ctn, tail, e)))
        return rc;
    sqlq q;
    perm_scope_id_q(who, "m.", NULL, id, "SELECT m.community_id FROM grid_members m WHERE 1 = 1", &q);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        free(ct);
        return rc;
    }
    int64_t community = 0;
    if ((rc = sqlq_one_int(tx, &q, &community, e))) {
        if (rc == NX_ENOTFOUND)
            nx_fail(e, NX_ENOTFOUND, "", "网格成员不存在");
        goto fail;
    }
    if (role && (rc = visits_vocab_check(tx, "member_role", role, "role", "网格角色", e)))
        goto fail;
    int phone_mode = clear_phone ? 2 : (ct ? 1 : 0);
    store_param p[] = {P_TEXT(role), P_TEXT(name), P_TEXT(notes), P_INT(has_active == 0 ? (active ? 1 : 0) : -1),
                       P_INT(phone_mode), P_BLOB(ct, ctn), P_TEXT(ct ? tail : NULL), P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE grid_members SET role = COALESCE($1, role), name = COALESCE($2, name), notes = "
                         "COALESCE($3, notes), active = CASE WHEN $4 < 0 THEN active ELSE $4 END, phone_enc = CASE "
                         "WHEN $5 = 0 THEN phone_enc WHEN $5 = 2 THEN NULL ELSE $6 END, phone_tail = CASE WHEN $5 = 0 "
                         "THEN phone_tail WHEN $5 = 2 THEN NULL ELSE $7 END, updated_at = $8 WHERE id = $9",
                         p, 9, NULL, e)) ||
        (rc = audit_write(tx, who, "update", "grid_member", id, community, NULL, e)))
        goto fail;
fail:
    free(ct);
    return store_finish(tx, rc, e);
}

/* ---- incidents ---- */

#define INCIDENT_COLS                                                                              \
    "SELECT i.id, i.community_id, i.grid_id, g.name, i.category, cv.label, i.title, i.description, i.place, "     \
    "i.reporter_user_id, i.reporter_resident_id, i.status, i.assignee_user_id, u.display_name, "                 \
    "i.assignee_member_id, m.name, i.result, i.occurred_at, i.dispatched_at, i.handled_at, i.closed_at, "        \
    "i.created_at, i.updated_at FROM incidents i LEFT JOIN grids g ON g.id = i.grid_id LEFT JOIN care_vocab cv " \
    "ON cv.kind = 'incident_category' AND cv.code = i.category LEFT JOIN users u ON u.id = i.assignee_user_id "  \
    "LEFT JOIN grid_members m ON m.id = i.assignee_member_id"

static json_t *incident_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i grid_name:t category:t category_label:t title:t "
                                  "description:t place:t reporter_user_id:i reporter_resident_id:i status:t "
                                  "assignee_user_id:i - assignee_member_id:i - result:t occurred_at:d "
                                  "dispatched_at:d handled_at:d closed_at:d created_at:d updated_at:d");
    if (o) /* the account's name, else the grid member's */
        json_object_set_new(o, "assignee_name", store_json_text(r, store_isnull(r, 13) ? 15 : 13));
    return o;
}

static bool may_read_incidents(const nx_principal *who)
{
    return perm_has(who, RIGHT_CARE_READ) || (perm_has(who, RIGHT_SELF) && who->resident_id);
}

int grid_incident_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    bool staff = perm_has(who, RIGHT_CARE_WRITE);
    bool self = !staff && perm_has(who, RIGHT_SELF) && who->resident_id;
    if (!staff && !self)
        return nx_fail(e, NX_EPERM, "", "无权上报事件");
    static const char *const staff_fields[] = {"category", "title", "place", "description", "grid_id", NULL};
    static const char *const self_fields[] = {"category", "title", "place", "description", NULL};
    const char *category = NULL, *title = NULL, *place = NULL, *description = NULL;
    int64_t grid = 0;
    int rc;
    if ((rc = json_only(in, staff ? staff_fields : self_fields, e)) ||
        (rc = json_read_str(in, "category", true, 40, &category, e)) ||
        (rc = json_read_str(in, "title", true, 100, &title, e)) ||
        (rc = json_read_str(in, "place", true, 200, &place, e)) ||
        (rc = json_read_str(in, "description", false, 2000, &description, e)) ||
        (rc = json_get_int(in, "grid_id", false, 1, INT64_MAX, &grid, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = visits_vocab_check(tx, "incident_category", category, "category", "事件类别", e)))
        goto fail;
    if (self) {
        if ((rc = visits_self_place(tx, who->resident_id, &community, &grid, e)))
            goto fail;
    } else {
        if (!grid && who->scope == SCOPE_GRID)
            grid = who->grid_id;
        if (!grid) {
            rc = nx_fail(e, NX_EINVAL, "grid_id", "请指定事件所在网格");
            goto fail;
        }
        if ((rc = visits_grid_community(tx, who, grid, &community, e)))
            goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_ID(grid), P_TEXT(category), P_TEXT(title), P_TEXT(description),
                       P_TEXT(place), P_ID(who->user_id), P_ID(self ? who->resident_id : 0),
                       P_TEXT("reported"), P_INT(now), P_INT(now), P_INT(now)};
    if ((rc = app_insert(tx, "incidents",
                         "community_id, grid_id, category, title, description, place, reporter_user_id, "
                         "reporter_resident_id, status, occurred_at, created_at, updated_at",
                         p, 12, id, e)))
        goto fail;
    visits_change c = {"incident", *id, community, "reported", "create", title,
                       json_pack("{s:s, s:s}", "category", category, "by", self ? "resident" : "staff"),
                       GRID_EV_INCIDENT_REPORTED,
                       json_pack("{s:I, s:o, s:s}", "incident_id", (json_int_t)*id, "grid_id",
                                 grid ? json_integer(grid) : json_null(), "category", category)};
    rc = visits_change_record(tx, who, &c, e);
    json_decref(c.detail);
    if (rc)
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* A status move: load in scope, check the state, update, timeline, audit, event. */
static int incident_move(nx_app *app, const nx_principal *who, int64_t id, const char *const *from,
                         const char *action, const char *kind, const char *sql, store_param *p, int n, const char *note,
                         int64_t assignee_user, int64_t assignee_member, nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_CARE_WRITE, STORE_WRITE, "无权处理事件", &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    if ((rc = perm_scope_first(tx, who, "i.", "reporter_resident_id", id,
                               "SELECT i.community_id, i.grid_id, i.status FROM incidents i WHERE 1 = 1", "事件不存在",
                               &r, e)))
        goto fail;
    int64_t community = store_int(r, 0), grid = store_int(r, 1);
    char status[16];
    str_copy(status, store_text(r, 2), sizeof status);
    store_rows_free(r);
    bool ok = false;
    for (int i = 0; from[i]; i++)
        ok = ok || strcmp(from[i], status) == 0;
    if (!ok) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "事件当前状态不能执行此操作");
        goto fail;
    }
    if (assignee_user && (rc = visits_user_check(tx, assignee_user, community, "assignee_user_id", e)))
        goto fail;
    if (assignee_member) {
        int64_t mg = 0;
        store_param m[] = {P_INT(assignee_member)};
        int lrc = store_one_int(tx, "SELECT community_id FROM grid_members WHERE id = $1 AND active = 1", m, 1, &mg, e);
        if (lrc && lrc != NX_ENOTFOUND) {
            rc = lrc;
            goto fail;
        }
        if (lrc || mg != community) {
            rc = nx_fail(e, NX_EINVAL, "assignee_member_id", "网格成员不存在或不属于该社区");
            goto fail;
        }
    }
    if ((rc = store_exec(tx, sql, p, n, NULL, e)))
        goto fail;
    visits_change c = {"incident", id, community, action, NULL, note, NULL, kind,
                       json_pack("{s:I, s:o}", "incident_id", (json_int_t)id, "grid_id",
                                 grid ? json_integer(grid) : json_null())};
    if ((rc = visits_change_record(tx, who, &c, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int grid_incident_dispatch(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"assignee_user_id", "assignee_member_id", "note", NULL};
    int64_t user = 0, member = 0;
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "assignee_user_id", false, 1, INT64_MAX, &user, e)) < 0 ||
        (rc = json_get_int(in, "assignee_member_id", false, 1, INT64_MAX, &member, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 500, &note, e)))
        return rc;
    if (!user && !member)
        return nx_fail(e, NX_EINVAL, "assignee_user_id", "请指定处置人（assignee_user_id 或 assignee_member_id）");
    static const char *const from[] = {"reported", "dispatched", NULL};
    int64_t now = clock_now_ms();
    store_param p[] = {P_ID(user), P_ID(member), P_INT(now), P_INT(id)};
    return incident_move(app, who, id, from, "dispatched", GRID_EV_INCIDENT_DISPATCHED,
                         "UPDATE incidents SET status = 'dispatched', assignee_user_id = $1, assignee_member_id = $2, "
                         "dispatched_at = $3, updated_at = $3 WHERE id = $4",
                         p, 4, note, user, member, e);
}

int grid_incident_handle(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"result", NULL};
    const char *result = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "result", true, 1000, &result, e)))
        return rc;
    static const char *const from[] = {"reported", "dispatched", NULL};
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(result), P_INT(now), P_INT(id)};
    return incident_move(app, who, id, from, "handled", GRID_EV_INCIDENT_HANDLED,
                         "UPDATE incidents SET status = 'handled', result = $1, handled_at = $2, updated_at = $2 "
                         "WHERE id = $3",
                         p, 3, result, 0, 0, e);
}

int grid_incident_close(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"note", NULL};
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "note", false, 500, &note, e)))
        return rc;
    static const char *const from[] = {"reported", "dispatched", "handled", NULL};
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(now), P_INT(id)};
    return incident_move(app, who, id, from, "closed", GRID_EV_INCIDENT_CLOSED,
                         "UPDATE incidents SET status = 'closed', closed_at = $1, updated_at = $1 WHERE id = $2", p, 2,
                         note, 0, 0, e);
}

int grid_incident_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!may_read_incidents(who))
        return nx_fail(e, NX_EPERM, "", "无权查看事件");
    sqlq q;
    perm_scope_id_q(who, "i.", "reporter_resident_id", id, INCIDENT_COLS " WHERE 1 = 1", &q);
    return visits_get_one(app, &q, incident_row, "事件不存在", "incident", id, true, out, e);
}

int grid_incident_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!may_read_incidents(who))
        return nx_fail(e, NX_EPERM, "", "无权查看事件");
    sqlq q;
    sqlq_init(&q, INCIDENT_COLS " WHERE 1 = 1");
    perm_scope_q(who, "i.", "reporter_resident_id", &q);
    static const char *const statuses[] = {"reported", "dispatched", "handled", "closed", NULL};
    int rc = visits_status_q(&q, "i.", f->status, statuses, "pending", " AND i.status IN ('reported', 'dispatched')",
                             "状态应为 reported、dispatched、handled、closed 或 pending", e);
    if (rc)
        return rc;
    return visits_list_page(app, &q, "i.", f, VISITS_BY_COMMUNITY | VISITS_BY_GRID | VISITS_BY_CATEGORY,
                            (store_page_spec){.row = incident_row}, out, e);
}
