/* people_household.c — households (户): the unit of the household register, living in a room,
 * with a head and members. A household's grid follows its room's building when it has a room. */
#include "modules/people/people.h"

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "modules/people/people_choices.h"
#include "modules/people/people_internal.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "secure/masked.h"
#include "store/page.h"
#include "store/query.h"
#include "text/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const household_fields[] = {"community_id", "grid_id", "room_id", "head_resident_id",
                                               "number", "kind", "notes", "address", NULL};

/* A text field of a household body: null sets *clear (update only), else the strict string reader. */
static int text_or_clear(json_t *o, const char *key, bool create, size_t max, const char **out, bool *clear,
                         nx_err *e)
{
    if (!create && json_is_null_field(o, key)) {
        *clear = true;
        return 0;
    }
    int rc = json_get_str(o, key, false, max, out, e);
    return rc < 0 ? rc : 0;
}

int people_parse_household(json_t *o, bool create, household_input *in, nx_err *e)
{
    memset(in, 0, sizeof *in);
    int rc;
    if ((rc = json_only(o, household_fields, e)))
        return rc;
    if (!create && json_is_null_field(o, "kind"))
        return nx_fail(e, NX_EINVAL, "kind", "户别不能清空，可选 registered、resident、floating");
    if (!create && json_is_null_field(o, "community_id"))
        return nx_fail(e, NX_EINVAL, "community_id", "不能修改户所属社区");
    if ((rc = json_get_int(o, "community_id", false, 1, INT64_MAX, &in->community_id, e)) < 0 ||
        (rc = people_get_ref(o, "grid_id", &in->grid_id, e)) ||
        (rc = people_get_ref(o, "room_id", &in->room_id, e)) ||
        (rc = people_get_ref(o, "head_resident_id", &in->head_resident_id, e)) ||
        (rc = json_get_str(o, "kind", false, 20, &in->kind, e)) < 0 ||
        (rc = text_or_clear(o, "number", create, 30, &in->number, &in->number_clear, e)) ||
        (rc = text_or_clear(o, "notes", create, 500, &in->notes, &in->notes_clear, e)) ||
        (rc = text_or_clear(o, "address", create, 120, &in->address, &in->address_clear, e)))
        return rc;
    if (create) { /* null is "none" on create */
        if (in->grid_id < 0)
            in->grid_id = 0;
        if (in->room_id < 0)
            in->room_id = 0;
        if (in->head_resident_id < 0)
            in->head_resident_id = 0;
    }
    return 0;
}

static int place_of(store_tx *tx, const nx_principal *who, household_input *in, int64_t *estate, nx_err *e)
{
    int rc;
    if (in->room_id) {
        int64_t g;
        if ((rc = people_room_place(tx, in->room_id, in->community_id, "房屋不属于该社区", &in->community_id, &g,
                                    estate, e)))
            return rc;
        if (g)
            in->grid_id = g;
    } else if (in->grid_id) {
        if ((rc = people_grid_community(tx, in->grid_id, in->community_id, &in->community_id, e)))
            return rc;
    }
    if (!in->community_id && (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID))
        in->community_id = who->community_id;
    if (!in->community_id)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定所属社区");
    if (!in->grid_id && who->scope == SCOPE_GRID)
        in->grid_id = who->grid_id;
    if (!perm_covers(who, tx, in->community_id, in->grid_id))
        return nx_fail(e, NX_EPERM, "community_id", "无权在该社区或网格登记户");
    /* the foreign key would refuse it too, but as a database error (500) */
    return people_community_exists(tx, in->community_id, e);
}

int people_household_create(nx_app *app, const nx_principal *who, const household_input *in0, int64_t *id,
                            nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记户");
    household_input in = *in0;
    const char *kind = in.kind ? people_choice_parse(people_choice_household_kind, in.kind) : "registered";
    if (!kind)
        return nx_fail(e, NX_EINVAL, "kind", "户类型无效，可选 registered（户籍户）、resident（常住户）、floating（流动户）");
    if (in.head_resident_id)
        return nx_fail(e, NX_EINVAL, "head_resident_id", "请先建户，再把居民登记为户主");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int64_t estate = 0;
    unsigned char *ct = NULL;
    size_t ctn = 0;
    if ((rc = place_of(tx, who, &in, &estate, e)))
        goto fail;
    if (in.address && *in.address && field_encrypt_ad(app->keys, CTX_HOUSEHOLD_ADDRESS, in.address, strlen(in.address), &ct, &ctn)) {
        rc = nx_fail(e, NX_EINTERNAL, "", "加密失败");
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(in.community_id), P_ID(in.grid_id), P_ID(in.room_id), P_TEXT(in.number),
                       P_TEXT(kind), P_BLOB(ct, ctn), P_TEXT(in.notes), P_INT(now), P_INT(now)};
    rc = app_insert(tx, "households",
                    "community_id, grid_id, room_id, number, kind, address_enc, notes, created_at, "
                    "updated_at",
                    p, 9, id, e);
    if (rc == NX_ENOTFOUND) /* RETURNING gave no row: the database misbehaved */
        rc = nx_fail(e, NX_EDB, "", "建户失败");
    if (rc)
        goto fail;
    if ((rc = audit_write(tx, who, "create", "household", *id, in.community_id, NULL, e)))
        goto fail;
fail:
    free(ct);
    return store_finish(tx, rc, e);
}

int people_household_update(nx_app *app, const nx_principal *who, int64_t id, const household_input *in0,
                            nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改户信息");
    household_input in = *in0;
    const char *kind = in.kind ? people_choice_parse(people_choice_household_kind, in.kind) : NULL;
    if (in.kind && !kind)
        return nx_fail(e, NX_EINVAL, "kind", "户类型无效，可选 registered、resident、floating");
    sqlq q;
    sqlq_init(&q, "SELECT community_id, grid_id, room_id FROM households h WHERE h.id = $1");
    sqlq_param(&q, P_INT(id));
    perm_scope_q(who, "h.", NULL, &q);
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    unsigned char *ct = NULL;
    size_t ctn = 0;
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto fail;
    int64_t community = 0, grid = 0, room = 0;
    if ((rc = store_first(r, "户不存在", e)) == 0) {
        community = store_int(r, 0);
        grid = store_int(r, 1);
        room = store_int(r, 2);
    }
    store_rows_free(r);
    if (rc)
        goto fail;
    if (in.community_id && in.community_id != community) {
        rc = nx_fail(e, NX_EINVAL, "community_id", "不能修改户所属社区");
        goto fail;
    }
    in.community_id = community;
    /* 0 keeps the stored room or grid, -1 (JSON null) clears it; a cleared grid follows the room's
     * building again when the household keeps a room. */
    in.room_id = in.room_id < 0 ? 0 : in.room_id ? in.room_id : room;
    in.grid_id = in.grid_id < 0 ? 0 : in.grid_id ? in.grid_id : grid;
    int64_t estate = 0;
    if ((rc = place_of(tx, who, &in, &estate, e)))
        goto fail;
    if (in.head_resident_id > 0) {
        store_param hp[] = {P_INT(in.head_resident_id), P_INT(id)};
        int64_t x;
        if ((rc = store_one_int(tx, "SELECT id FROM residents WHERE id = $1 AND household_id = $2", hp, 2, &x, e))) {
            if (rc == NX_ENOTFOUND)
                rc = nx_fail(e, NX_EINVAL, "head_resident_id", "户主须是本户成员");
            goto fail;
        }
    }
    if (in.address && *in.address && field_encrypt_ad(app->keys, CTX_HOUSEHOLD_ADDRESS, in.address, strlen(in.address), &ct, &ctn)) {
        rc = nx_fail(e, NX_EINTERNAL, "", "加密失败");
        goto fail;
    }
    /* $10-$13: 1 when a JSON null clears the number, the head, the notes, the address. */
    store_param u[] = {P_ID(in.grid_id), P_ID(in.room_id), P_TEXT(in.number), P_TEXT(kind),
                       P_ID(in.head_resident_id > 0 ? in.head_resident_id : 0), P_TEXT(in.notes), P_BLOB(ct, ctn),
                       P_INT(clock_now_ms()), P_INT(id), P_INT(in.number_clear), P_INT(in.head_resident_id < 0),
                       P_INT(in.notes_clear), P_INT(in.address_clear)};
    if ((rc = store_exec(tx,
                         "UPDATE households SET grid_id = $1, room_id = $2, "
                         "number = CASE WHEN $10 = 1 THEN NULL ELSE COALESCE($3, number) END, "
                         "kind = COALESCE($4, kind), "
                         "head_resident_id = CASE WHEN $11 = 1 THEN NULL ELSE COALESCE($5, head_resident_id) END, "
                         "notes = CASE WHEN $12 = 1 THEN NULL ELSE COALESCE($6, notes) END, "
                         "address_enc = CASE WHEN $13 = 1 THEN NULL ELSE COALESCE($7, address_enc) END, "
                         "updated_at = $8 WHERE id = $9",
                         u, 13, NULL, e)))
        goto fail;
    /* Members follow the household's room and grid. */
    store_param m[] = {P_ID(in.grid_id), P_ID(in.room_id), P_ID(estate), P_INT(id)};
    if (in0->room_id || in0->grid_id)
        if ((rc = store_exec(tx, "UPDATE residents SET grid_id = $1, room_id = $2, estate_id = $3 WHERE household_id = $4",
                             m, 4, NULL, e)))
            goto fail;
    if ((rc = audit_write(tx, who, "update", "household", id, community, NULL, e)))
        goto fail;
fail:
    free(ct);
    return store_finish(tx, rc, e);
}

#define HH_FROM                                                                                    \
    "FROM households h LEFT JOIN grids g ON g.id = h.grid_id LEFT JOIN residents hr ON hr.id = "        \
    "h.head_resident_id LEFT JOIN rooms rm ON rm.id = h.room_id LEFT JOIN buildings b ON b.id = "       \
    "rm.building_id LEFT JOIN estates es ON es.id = b.estate_id"
#define HH_COLS                                                                                    \
    "SELECT h.id, h.community_id, h.grid_id, g.name, h.room_id, h.number, h.kind, h.head_resident_id, "  \
    "hr.name, h.notes, h.address_enc, es.name, b.name, rm.unit, rm.number, "                           \
    "(SELECT count(*) FROM residents m WHERE m.household_id = h.id AND m.status = 'active') " HH_FROM
#define HH_FROM_COUNT "SELECT count(*) " HH_FROM

static json_t *household_json(nx_app *app, store_rows *r)
{
    char room[300] = "";
    if (store_text(r, 11))
        snprintf(room, sizeof room, "%s %s %s%s%s", store_text(r, 11), store_text(r, 12),
                 store_text(r, 13) ? store_text(r, 13) : "", store_text(r, 13) && *store_text(r, 13) ? " " : "",
                 store_text(r, 14));
    size_t n;
    const void *ct = store_blob(r, 10, &n);
    char masked[300];
    field_masked(app->keys, CTX_HOUSEHOLD_ADDRESS, ct, n, mask_address, masked, sizeof masked);
    const char *kind = store_text(r, 6);
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    store_json_set(o, "id", store_json_int, r, 0);
    store_json_set(o, "community_id", store_json_int, r, 1);
    store_json_set(o, "grid_id", store_json_int, r, 2);
    store_json_set(o, "grid_name", store_json_text, r, 3);
    store_json_set(o, "room_id", store_json_int, r, 4);
    store_json_set(o, "number", store_json_text, r, 5);
    const char *kind_label = people_choice_label(people_choice_household_kind, kind);
    store_json_set(o, "kind", store_json_text, r, 6);
    json_object_set_new(o, "kind_label", kind_label ? json_string(kind_label) : json_null());
    store_json_set(o, "head_resident_id", store_json_int, r, 7);
    store_json_set(o, "head_name", store_json_text, r, 8);
    store_json_set(o, "notes", store_json_text, r, 9);
    json_object_set_new(o, "room_label", room[0] ? json_string(room) : json_null());
    json_object_set_new(o, "address", masked[0] ? json_string(masked) : json_null());
    json_object_set_new(o, "member_count", json_integer(store_int(r, 15)));
    return o;
}

int people_household_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ) && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权查看户信息");
    sqlq q;
    sqlq_init(&q, HH_COLS " WHERE h.id = $1");
    sqlq_param(&q, P_INT(id));
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        sqlq_add(&q, " AND h.id = (SELECT household_id FROM residents WHERE id = $%d)", P_INT(who->resident_id));
    else
        perm_scope_q(who, "h.", NULL, &q);
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    store_rows *r;
    json_t *o = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    if ((rc = store_first(r, "户不存在", e)) == 0 && (o = household_json(app, r)) == NULL)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_rows_free(r);
    if (rc)
        goto done;
    if (people_self_view(who)) /* the household's notes are staff notes */
        json_object_set_new(o, "notes", json_null());
    json_t *members;
    if ((rc = people_household_members(tx, who, id, people_self_view(who) ? who->resident_id : 0, &members, e)))
        goto done;
    json_object_set_new(o, "members", members);
done:
    store_rollback(tx);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

static json_t *list_row(store_rows *r, void *app)
{
    return household_json(app, r);
}

/* The filters of the household list on q (its head already there). */
static void list_filters(sqlq *q, const nx_principal *who, int64_t grid_id, int64_t estate_id, const char *text)
{
    perm_scope_q(who, "h.", NULL, q);
    if (grid_id)
        sqlq_add(q, " AND h.grid_id = $%d", P_INT(grid_id));
    if (estate_id)
        sqlq_add(q, " AND b.estate_id = $%d", P_INT(estate_id));
    if (text && *text) {
        /* a prefix match; % and _ typed by a person are literal */
        int k = sqlq_like(q, " AND (h.number LIKE $%d ESCAPE '!'", text, false);
        sqlq_sql(q, " OR hr.name LIKE $%d ESCAPE '!')", k);
    }
}

int people_household_list(nx_app *app, const nx_principal *who, int64_t grid_id, int64_t estate_id,
                          const char *text, const char *cursor, int limit, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看户信息");
    int64_t after = 0;
    if (cursor && *cursor && str_to_i64(cursor, 1, INT64_MAX, &after))
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
    if (text && str_utf8_len(text) > 40)
        return nx_fail(e, NX_EINVAL, "q", "搜索内容过长");
    sqlq q, count;
    sqlq_init(&q, HH_COLS " WHERE 1 = 1");
    list_filters(&q, who, grid_id, estate_id, text);
    if (after)
        sqlq_add(&q, " AND h.id > $%d", P_INT(after));
    sqlq_sql(&q, " ORDER BY h.id");
    /* The total only on the first page, as before: later pages keep the first page's count. */
    sqlq_init(&count, HH_FROM_COUNT " WHERE 1 = 1");
    list_filters(&count, who, grid_id, estate_id, text);
    store_page_spec spec = {.limit = limit, .max = (int)app->cfg->page_max, .count = after ? NULL : &count,
                            .row_ctx = list_row, .ctx = app};
    return store_page_read(app->db, &q, &spec, out, e);
}
