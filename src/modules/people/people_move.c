/* people_move.c — moving a resident to another household or room, with the history of every move.
 *
 * A move is the one change of a resident's place that the registry keeps a record of: who moved
 * them, when, from which household and room to which, and why (the reason is required: a worker
 * who moves a family into another flat says so). The resident's row, the history row of migration
 * 029 (resident_moves), the audit entry (action "move", the ids only: the reason is free text and
 * stays in the history table) and the people.resident.updated event are written in one
 * transaction; bad input changes nothing.
 *
 * A move stays inside the resident's community: a household or room of another community is
 * refused (moving out of the community is "迁出" on the resident's status, and a new registration
 * there). The place follows the rules of registration: a room decides the grid and the estate; a
 * household given without a room brings its own room; a grid worker moves only within their grid.
 * Labels of the places ("幸福里小区 3号楼 2单元 401", "户号 0012") are stored as they read at the
 * time, so the history still reads right after a room is renumbered. */
#include "modules/people/people_internal.h"
#include "modules/people/people_choices.h"

#include "base/jsonin.h"
#include "modules/org/org.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "secure/perm.h"
#include "store/page.h"
#include "store/query.h"

#include <stdio.h>
#include <string.h>

#define REASON_MAX 200

/* Where a resident lives: the ids, and what they read as. */
typedef struct spot {
    int64_t community, grid, estate, household, room, household_grid;
    char label[400];
} spot;

/* The label of a place: "户号 0012 · 幸福里小区 3号楼 2单元 401"; "无" parts left out; "未落户" for none. */
static int spot_label(store_tx *tx, spot *s, nx_err *e)
{
    char room[300] = "", hh[80] = "";
    int rc;
    if (s->room && (rc = org_room_label(tx, s->room, room, sizeof room, NULL, NULL, NULL)) && rc != NX_ENOTFOUND)
        return nx_fail(e, rc, "", "读取房屋失败");
    if (s->household) {
        store_rows *r;
        store_param p[] = {P_INT(s->household)};
        if ((rc = store_query(tx, "SELECT number FROM households WHERE id = $1", p, 1, &r, e)))
            return rc;
        if (store_row(r))
            snprintf(hh, sizeof hh, "户号 %s", store_text(r, 0) && *store_text(r, 0) ? store_text(r, 0) : "—");
        if ((rc = store_rows_end(r, e)))
            return rc;
    }
    snprintf(s->label, sizeof s->label, "%s%s%s", hh, *hh && *room ? " · " : "", room);
    if (!*s->label)
        snprintf(s->label, sizeof s->label, "未落户");
    return 0;
}

/* The resident's current place, in who's scope (NX_ENOTFOUND otherwise); status into st. */
static int load_spot(store_tx *tx, const nx_principal *who, int64_t id, spot *s, char *st, size_t stn, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT r.community_id, r.grid_id, r.estate_id, r.household_id, r.room_id, r.status "
                  "FROM residents r WHERE r.id = $1");
    sqlq_param(&q, P_INT(id));
    perm_scope_q(who, "r.", "id", &q);
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "居民不存在", e)) == 0) {
        memset(s, 0, sizeof *s);
        s->community = store_int(r, 0);
        s->grid = store_int(r, 1);
        s->estate = store_int(r, 2);
        s->household = store_int(r, 3);
        s->room = store_int(r, 4);
        str_copy(st, store_text(r, 5) ? store_text(r, 5) : "", stn);
    }
    store_rows_free(r);
    return rc;
}

/* The household's community, grid and room; 422 on household_id when it does not exist or lies
 * outside who's scope, or in another community than the resident's. */
static int load_household(store_tx *tx, const nx_principal *who, int64_t hh, int64_t community, spot *to,
                          int64_t *room, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(hh)};
    int rc = store_query(tx, "SELECT community_id, grid_id, room_id FROM households WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    int64_t c = 0, g = 0;
    rc = store_first(r, "", e);
    if (rc == 0) {
        c = store_int(r, 0);
        g = store_int(r, 1);
        *room = store_int(r, 2);
    }
    store_rows_free(r);
    if (rc && rc != NX_ENOTFOUND)
        return rc;
    if (rc == NX_ENOTFOUND || !perm_covers(who, tx, c, g))
        return nx_fail(e, NX_EINVAL, "household_id", "户不存在");
    if (c != community)
        return nx_fail(e, NX_EINVAL, "household_id", "只能迁入本社区的户；迁往其他社区请办理迁出后在新社区登记");
    to->household = hh;
    to->household_grid = g;
    return 0;
}

static const char *const move_fields[] = {"household_id", "room_id", "relation", "reason", NULL};

/* An id field of the body: given (1 with *v > 0, or 0 for null) or absent (*given false). */
static int read_ref(json_t *in, const char *key, bool *given, int64_t *v, nx_err *e)
{
    *given = json_object_get(in, key) != NULL;
    *v = 0;
    if (!*given || json_is_null_field(in, key))
        return 0;
    int rc = json_get_int(in, key, false, 1, INT64_MAX, v, e);
    return rc < 0 ? rc : 0;
}

int people_resident_move(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权迁移居民");
    bool hh_given, room_given;
    int64_t hh, room;
    const char *reason = NULL, *relation_in = NULL, *relation = NULL;
    int rc;
    if ((rc = json_only(in, move_fields, e)) || (rc = read_ref(in, "household_id", &hh_given, &hh, e)) ||
        (rc = read_ref(in, "room_id", &room_given, &room, e)) ||
        (rc = json_read_str(in, "reason", true, REASON_MAX, &reason, e)) ||
        (rc = json_read_str(in, "relation", false, 32, &relation_in, e)))
        return rc;
    if (json_is_null_field(in, "relation"))
        return nx_fail(e, NX_EINVAL, "relation", "与户主关系不能为空；不修改请不要给出");
    if (!hh_given && !room_given)
        return nx_fail(e, NX_EINVAL, "household_id", "请选择迁入的户或房屋");
    if (relation_in && !(relation = people_choice_parse(people_choice_relation, relation_in)))
        return nx_fail(e, NX_EINVAL, "relation", "与户主关系无效");

    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    spot from, to;
    char status[16];
    if ((rc = load_spot(tx, who, id, &from, status, sizeof status, e)))
        goto fail;
    if (strcmp(status, "active") != 0) {
        rc = nx_fail(e, NX_EINVAL, "household_id", "已迁出或已故的居民不能迁移");
        goto fail;
    }
    to = from;
    to.household_grid = 0;
    int64_t hh_room = 0;
    if (hh_given) {
        to.household = 0;
        if (hh && (rc = load_household(tx, who, hh, from.community, &to, &hh_room, e)))
            goto fail;
    }
    if (room_given)
        to.room = room;
    else if (hh_given && hh)
        to.room = hh_room; /* a household brings its room unless another is named */
    to.estate = 0;
    to.grid = to.household ? to.household_grid : from.grid;
    if (to.room) {
        int64_t c, g;
        if ((rc = people_room_place(tx, to.room, from.community,
                                    "只能迁入本社区的房屋；迁往其他社区请办理迁出后在新社区登记", &c, &g, &to.estate,
                                    e)))
            goto fail;
        if (g)
            to.grid = g;
    }
    if (to.household == from.household && to.room == from.room) {
        rc = nx_fail(e, NX_EINVAL, hh_given ? "household_id" : "room_id", "居民已在该户和房屋，无需迁移");
        goto fail;
    }
    if (!perm_covers(who, tx, from.community, to.grid)) {
        rc = nx_fail(e, NX_EPERM, to.room ? "room_id" : "household_id", "无权将居民迁入该网格");
        goto fail;
    }
    if ((rc = spot_label(tx, &from, e)) || (rc = spot_label(tx, &to, e)))
        goto fail;

    int64_t now = clock_now_ms();
    store_param up[] = {P_ID(to.grid), P_ID(to.household), P_ID(to.room), P_ID(to.estate), P_TEXT(relation),
                        P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE residents SET grid_id = $1, household_id = $2, room_id = $3, estate_id = $4, "
                         "relation = COALESCE($5, relation), version = version + 1, updated_at = $6 WHERE id = $7",
                         up, 7, NULL, e)))
        goto fail;
    /* the household they left no longer has them as its head */
    if (from.household && from.household != to.household) {
        store_param hp[] = {P_INT(from.household), P_INT(id)};
        if ((rc = store_exec(tx, "UPDATE households SET head_resident_id = NULL WHERE id = $1 AND head_resident_id = $2",
                             hp, 2, NULL, e)))
            goto fail;
    }
    if (to.household && relation && strcmp(relation, "head") == 0) {
        store_param hp[] = {P_INT(id), P_INT(to.household)};
        if ((rc = store_exec(tx, "UPDATE households SET head_resident_id = $1 WHERE id = $2", hp, 2, NULL, e)))
            goto fail;
    }
    store_param mp[] = {P_INT(id),          P_INT(from.community), P_ID(from.household), P_ID(to.household),
                        P_ID(from.room),    P_ID(to.room),         P_TEXT(from.label),   P_TEXT(to.label),
                        P_TEXT(reason),     P_ID(who->user_id),    P_INT(now)};
    if ((rc = app_insert(tx, "resident_moves",
                         "resident_id, community_id, from_household_id, to_household_id, from_room_id, "
                         "to_room_id, from_label, to_label, reason, moved_by, moved_at",
                         mp, 11, NULL, e)))
        goto fail;
    json_t *detail = json_pack("{s:o, s:o, s:o, s:o}", "from_household_id",
                               from.household ? json_integer(from.household) : json_null(), "to_household_id",
                               to.household ? json_integer(to.household) : json_null(), "from_room_id",
                               from.room ? json_integer(from.room) : json_null(), "to_room_id",
                               to.room ? json_integer(to.room) : json_null());
    if ((rc = audit_write_new(tx, who, "move", "resident", id, from.community, detail, e)))
        goto fail;
    json_t *payload = json_pack("{s:I, s:[s, s], s:b}", "resident_id", (json_int_t)id, "fields", "household_id",
                                "room_id", "moved", 1);
    if ((rc = outbox_emit_new(tx, PEOPLE_EV_RESIDENT_UPDATED, from.community, "resident", id, payload, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

static json_t *move_row(store_rows *r)
{
    return store_json_row(r, "id:i from_household_id:i to_household_id:i from_room_id:i to_room_id:i "
                             "from_label:t to_label:t reason:t moved_by:i moved_by_name:t moved_at:d");
}

int people_resident_moves(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看居民的迁移记录");
    sqlq one;
    sqlq_init(&one, "SELECT r.id FROM residents r WHERE r.id = $1");
    sqlq_param(&one, P_INT(id));
    perm_scope_q(who, "r.", "id", &one);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t found;
    rc = sqlq_one_int(tx, &one, &found, e);
    store_rollback(tx);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT m.id, m.from_household_id, m.to_household_id, m.from_room_id, m.to_room_id, "
                  "m.from_label, m.to_label, m.reason, m.moved_by, u.display_name, m.moved_at "
                  "FROM resident_moves m LEFT JOIN users u ON u.id = m.moved_by WHERE m.resident_id = $1 "
                  "ORDER BY m.id DESC");
    sqlq_param(&q, P_INT(id));
    store_page_spec s = {.row = move_row, .max = 1000};
    return store_items_read(app->db, &q, &s, out, e);
}
