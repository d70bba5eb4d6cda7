/* canteen_orders.c — orders ahead and the delivery round (订餐与送餐).
 *
 * An elder (or the family account bound to them, or canteen staff for someone housebound) orders a
 * menu item ahead, for the counter or for delivery. Orders close at a cut-off before the meal:
 * breakfast the evening before at 20:00, lunch at 10:00, dinner at 15:00 (Shanghai); a cancellation
 * obeys the same cut-off. The delivery list of a meal groups the delivery orders by grid, each grid in
 * route order (estate, building, unit, room), so a volunteer walks it once. A volunteer or operator
 * marks each stop delivered (with the time) or missed; a missed delivery emits
 * CANTEEN_EV_DELIVERY_MISSED in the same transaction for the notification service, and for an elder
 * living alone raises a 遇事必访 task through the visits module's visits_raise_once, keyed by the
 * order so that the miss reported twice makes one task (a second report is NX_ECONFLICT; two racing
 * reports meet at the task's unique source_key).
 * The sale itself is recorded at the counter or on delivery through the sales API like any other.
 *
 * Rounds (送餐路线): the canteen gives the round of a grid (or the community's stops without a grid)
 * to a volunteer's or grid worker's account. A courier (VOLUNTEER_DUTY without CANTEEN_OPERATE) sees
 * and marks only the stops of the rounds given to them, and a grid worker those of their own grid as
 * well; anything else reads as "not found". The courier's list shows the diner's name masked (王*国)
 * and the door from the community's room register (building, unit, room: what a delivery needs);
 * never a phone, an ID number or the registered address.
 *
 * Ratings: a diner (or their family account) rates a meal they had, 1 to 5, once per order — a
 * delivery marked delivered, or a counter order whose item was sold to them (a sale not reversed).
 * The rating is kept by the item's name in the community, so the menus show each dish's average. */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "modules/visits/visits.h"
#include "secure/audit.h"
#include "text/mask.h"
#include "notify/outbox.h"
#include "store/page.h"

/* Minutes after midnight of the meal's day when ordering closes (breakfast: the evening before). */
static int64_t cutoff_ms(const cn_item *it)
{
    nx_date d;
    if (date_parse(it->day, &d))
        return 0;
    int64_t day0 = date_to_days(d) * 86400000LL - NX_TZ_OFFSET_MS;
    if (strcmp(it->meal, "breakfast") == 0)
        return day0 - 4 * 3600000LL; /* 20:00 the day before */
    if (strcmp(it->meal, "lunch") == 0)
        return day0 + 10 * 3600000LL;
    return day0 + 15 * 3600000LL;
}

/* A meal the diner had: a delivery handed over, or the item sold to them at the counter (not reversed). */
#define ORDER_EATEN                                                                                          \
    "(o.status = 'delivered' OR (o.status = 'ordered' AND o.delivery = 0 AND EXISTS (SELECT 1 FROM "          \
    "canteen_sales s WHERE s.resident_id = o.resident_id AND s.menu_item_id = o.menu_item_id AND "             \
    "s.reverses_id IS NULL AND NOT EXISTS (SELECT 1 FROM canteen_sales x WHERE x.reverses_id = s.id))))"
#define ORDER_COLS                                                                                           \
    "o.id, o.community_id, o.grid_id, o.resident_id, r.name, o.menu_item_id, i.name, o.day, o.meal, "         \
    "o.quantity, o.delivery, o.note, o.status, o.delivered_at, o.created_at, rt.stars, "                      \
    "CASE WHEN rt.id IS NULL AND " ORDER_EATEN " THEN 1 ELSE 0 END"
#define ORDER_FROM                                                                                           \
    " FROM canteen_orders o JOIN residents r ON r.id = o.resident_id "                                        \
    "JOIN canteen_menu_items i ON i.id = o.menu_item_id LEFT JOIN canteen_ratings rt ON rt.order_id = o.id "  \
    "WHERE 1 = 1"

static json_t *order_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i resident_id:i resident_name:t menu_item_id:i "
                                  "item_name:t day:t meal:t quantity:i delivery:b note:t status:t delivered_at:d "
                                  "created_at:d rating:i can_rate:b");
    const char *m = store_text(r, 8);
    if (o)
        json_object_set_new(o, "meal_label", json_string(cn_meal_label(m) ? cn_meal_label(m) : ""));
    return o;
}

static bool can_deliver(const nx_principal *who)
{
    return perm_has(who, RIGHT_CANTEEN_OPERATE) || perm_has(who, RIGHT_VOLUNTEER_DUTY);
}

/* A courier: delivers (VOLUNTEER_DUTY) without running the canteen, and is not a diner. */
static bool courier(const nx_principal *who)
{
    return !perm_has(who, RIGHT_CANTEEN_OPERATE) && perm_has(who, RIGHT_VOLUNTEER_DUTY) && !cn_self(who);
}

/* For a courier, limits the orders aliased o to the rounds given to them and their own grid. */
static void round_q(const nx_principal *who, sqlq *q)
{
    if (!courier(who))
        return;
    sqlq_add(q,
             " AND (EXISTS (SELECT 1 FROM canteen_delivery_rounds dr WHERE dr.user_id = $%d AND "
             "dr.community_id = o.community_id AND COALESCE(dr.grid_id, 0) = COALESCE(o.grid_id, 0))",
             P_INT(who->user_id));
    if (who->scope == SCOPE_GRID && who->grid_id)
        sqlq_add(q, " OR o.grid_id = $%d", P_INT(who->grid_id));
    sqlq_sql(q, ")");
}

int canteen_order_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"resident_id", "menu_item_id", "quantity", "delivery", "note", NULL};
    bool self = cn_self(who) && perm_has(who, RIGHT_SELF);
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE) && !self)
        return nx_fail(e, NX_EPERM, "", "无权订餐");
    int64_t resident = 0, item_id = 0, qty = 1;
    bool delivery = false;
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_get_int(in, "menu_item_id", true, 1, INT64_MAX, &item_id, e)) < 0 ||
        (rc = json_get_int(in, "quantity", false, 1, 5, &qty, e)) < 0 ||
        (rc = json_get_bool(in, "delivery", false, &delivery, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 100, &note, e)))
        return rc;
    if (self) {
        if (resident && resident != who->resident_id)
            return nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
        resident = who->resident_id;
    }
    if (!resident)
        return nx_fail(e, NX_EINVAL, "resident_id", "请指定就餐的居民（resident_id）");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    cn_diner d;
    cn_item it;
    if ((rc = cn_diner_load(tx, resident, &d, e)) || (rc = cn_item_load(tx, item_id, &it, e)))
        goto fail;
    if (!self && !perm_covers(who, tx, d.community_id, 0) && !(who->scope == SCOPE_GRID && who->community_id == d.community_id)) {
        rc = nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
        goto fail;
    }
    if (it.community_id != d.community_id || (!it.published && self)) {
        rc = nx_fail(e, NX_ENOTFOUND, "menu_item_id", "菜单项不存在");
        goto fail;
    }
    if (strcmp(d.status, "active") != 0) {
        rc = nx_fail(e, NX_EINVAL, "resident_id", "该居民已登记去世或迁出");
        goto fail;
    }
    if (clock_now_ms() >= cutoff_ms(&it)) {
        rc = nx_fail(e, NX_EINVAL, "menu_item_id", "%s%s的订餐已截止", it.day, cn_meal_label(it.meal));
        goto fail;
    }
    if (it.sold_out) {
        rc = nx_fail(e, NX_ECONFLICT, "menu_item_id", "%s 已售罄", it.name);
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param a[] = {P_INT(d.community_id), P_ID(d.grid_id), P_INT(resident), P_INT(item_id), P_TEXT(it.day),
                       P_TEXT(it.meal), P_INT(qty), P_INT(delivery), P_TEXT(note), P_ID(who->user_id), P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO canteen_orders (community_id, grid_id, resident_id, menu_item_id, day, meal, "
                            "quantity, delivery, note, ordered_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
                            "$7, $8, $9, $10, $11, $11) RETURNING id",
                            a, 11, id, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_order_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!can_deliver(who) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看订餐");
    return cn_get(app, who, "SELECT " ORDER_COLS ORDER_FROM, "o.", id, round_q, order_row, "订单不存在", out, e);
}

static void order_where(sqlq *q, const char *head, const nx_principal *who, const canteen_filter *f)
{
    sqlq_init(q, head);
    cn_scope_q(who, "o.", "resident_id", q);
    round_q(who, q);
    sqlq_eq_int(q, "o.community_id", f->community_id);
    sqlq_eq_int(q, "o.resident_id", f->resident_id);
    sqlq_eq_text(q, "o.day", f->day);
    sqlq_range_text(q, "o.day", f->from, f->to);
    sqlq_eq_text(q, "o.meal", f->meal);
    if (f->status && strcmp(f->status, "served") == 0) /* 已就餐: not a stored status, the meals eaten */
        sqlq_sql(q, " AND " ORDER_EATEN);
    else
        sqlq_eq_text(q, "o.status", f->status);
    if (f->delivery)
        sqlq_sql(q, " AND o.delivery = 1");
    if (f->q && *f->q)
        cn_name_q(q, f->q, false);
}

int canteen_order_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!can_deliver(who) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看订餐");
    return cn_list(app, who, f, order_where, "SELECT " ORDER_COLS ORDER_FROM, "SELECT COUNT(*)" ORDER_FROM, "o.", false,
                   order_row, out, e);
}

/* A delivery missed for an elder living alone (tag living_alone or solitary) becomes a 遇事必访 task
 * for the care worker on tx, once per order (source_key "canteen.missed:<order id>"), due tomorrow.
 * *alone tells whether the diner lives alone. */
static int missed_visit(store_tx *tx, int64_t resident, int64_t order, const char *day, const char *meal,
                        const char *note, bool *alone, nx_err *e)
{
    cn_diner d;
    int rc = cn_diner_load(tx, resident, &d, e);
    if (rc)
        return rc;
    *alone = strstr(d.tags, ",living_alone,") != NULL || strstr(d.tags, ",solitary,") != NULL;
    if (!*alone)
        return 0;
    char key[48], text[300];
    snprintf(key, sizeof key, "canteen.missed:%lld", (long long)order);
    snprintf(text, sizeof text, "%s%s送餐未送达%s%s，请上门看望", day, cn_meal_label(meal) ? cn_meal_label(meal) : "",
             note ? "：" : "", note ? note : "");
    return visits_raise_once(tx, resident, "meal_missed", text, key, 1, NULL, NULL, e);
}

int canteen_order_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"status", "note", NULL};
    const char *status = NULL, *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "status", true, 12, &status, e)) ||
        (rc = json_read_str(in, "note", false, 100, &note, e)))
        return rc;
    bool cancel = strcmp(status, "cancelled") == 0, done = strcmp(status, "delivered") == 0,
         missed = strcmp(status, "missed") == 0;
    if (!cancel && !done && !missed)
        return nx_fail(e, NX_EINVAL, "status", "状态应为 cancelled、delivered 或 missed");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_param a[] = {P_INT(id)};
    store_rows *r;
    int64_t community = 0, grid = 0, resident = 0, item_id = 0;
    char cur[16] = "", day[11] = "", meal[12] = "";
    bool delivery = false;
    if ((rc = store_query_first(
             tx,
             "SELECT community_id, grid_id, resident_id, menu_item_id, status, delivery, day, meal "
             "FROM canteen_orders WHERE id = $1",
             a, 1, "订单不存在", &r, e)) == 0) {
        community = store_int(r, 0);
        grid = store_int(r, 1);
        resident = store_int(r, 2);
        item_id = store_int(r, 3);
        str_copy(cur, store_text(r, 4) ? store_text(r, 4) : "", sizeof cur);
        delivery = store_int(r, 5) != 0;
        str_copy(day, store_text(r, 6) ? store_text(r, 6) : "", sizeof day);
        str_copy(meal, store_text(r, 7) ? store_text(r, 7) : "", sizeof meal);
    }
    int end = store_rows_end(r, e);
    if (rc || end) {
        rc = rc ? rc : end;
        goto fail;
    }
    bool staff = (can_deliver(who) && (perm_covers(who, tx, community, 0) ||
                                       (who->scope == SCOPE_GRID && who->community_id == community)));
    if (staff && courier(who)) {
        sqlq q;
        int64_t mine = 0;
        sqlq_init(&q, "SELECT COUNT(*) FROM canteen_orders o WHERE 1 = 1");
        sqlq_add(&q, " AND o.id = $%d", P_INT(id));
        round_q(who, &q);
        if ((rc = sqlq_one_int(tx, &q, &mine, e)))
            goto fail;
        staff = mine > 0;
    }
    bool self = cn_self_for(who, resident);
    if (!staff && !self) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "订单不存在");
        goto fail;
    }
    if ((done || missed) && !staff) {
        rc = nx_fail(e, NX_EPERM, "status", "送达情况由食堂或志愿者登记");
        goto fail;
    }
    if (cancel && self && !perm_has(who, RIGHT_CANTEEN_OPERATE)) {
        cn_item it;
        if ((rc = cn_item_load(tx, item_id, &it, e)))
            goto fail;
        if (clock_now_ms() >= cutoff_ms(&it)) {
            rc = nx_fail(e, NX_EINVAL, "status", "已过订餐截止时间，不能取消");
            goto fail;
        }
    }
    if (strcmp(cur, "ordered") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "订单已是%s状态", cur);
        goto fail;
    }
    if ((done || missed) && !delivery) {
        rc = nx_fail(e, NX_EINVAL, "status", "堂食订单不登记送达");
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param u[] = {P_TEXT(status), P_TEXT(note), P_ID(done || missed ? who->user_id : 0),
                       done ? P_INT(now) : P_NULL, P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE canteen_orders SET status = $1, note = COALESCE($2, note), delivered_by = $3, "
                         "delivered_at = $4, updated_at = $5 WHERE id = $6",
                         u, 6, NULL, e)))
        goto fail;
    if (missed) {
        bool alone;
        if ((rc = missed_visit(tx, resident, id, day, meal, note, &alone, e)))
            goto fail;
        if ((rc = outbox_emit_new(tx, CANTEEN_EV_DELIVERY_MISSED, community, "canteen_order", id,
                                  json_pack("{s:I, s:I, s:o, s:s, s:s, s:b, s:o}", "order_id", (json_int_t)id,
                                            "resident_id", (json_int_t)resident, "grid_id",
                                            grid ? json_integer(grid) : json_null(), "day", day, "meal", meal,
                                            "living_alone", alone, "note", note ? json_string(note) : json_null()),
                                  e)))
            goto fail;
    }
fail:
    return store_finish(tx, rc, e);
}

int canteen_order_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"stars", "comment", NULL};
    int64_t stars = 0;
    const char *comment = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "stars", true, 1, 5, &stars, e)) < 0 ||
        (rc = json_read_str(in, "comment", false, 200, &comment, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT o.community_id, o.resident_id, i.name, rt.id, CASE WHEN " ORDER_EATEN
                  " THEN 1 ELSE 0 END FROM canteen_orders o JOIN canteen_menu_items i ON i.id = o.menu_item_id "
                  "LEFT JOIN canteen_ratings rt ON rt.order_id = o.id WHERE 1 = 1");
    sqlq_add(&q, " AND o.id = $%d", P_INT(id));
    store_rows *r;
    int64_t community = 0, resident = 0, rated = 0, eaten = 0;
    char name[200] = "";
    if ((rc = sqlq_first(tx, &q, "订单不存在", &r, e)) == 0) {
        community = store_int(r, 0);
        resident = store_int(r, 1);
        str_copy(name, store_text(r, 2) ? store_text(r, 2) : "", sizeof name);
        rated = store_int(r, 3);
        eaten = store_int(r, 4);
    }
    int end = store_rows_end(r, e);
    if (rc || end) {
        rc = rc ? rc : end;
        goto fail;
    }
    if (!cn_self_for(who, resident)) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "订单不存在"); /* only the diner (or their family) rates */
        goto fail;
    }
    if (rated) {
        rc = nx_fail(e, NX_ECONFLICT, "stars", "这份订餐已评价过");
        goto fail;
    }
    if (!eaten) {
        rc = nx_fail(e, NX_EINVAL, "stars", "用餐后才能评价");
        goto fail;
    }
    store_param a[] = {P_INT(community), P_INT(id),          P_INT(resident),    P_TEXT(name),
                       P_INT(stars),     P_TEXT(comment),    P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "canteen_ratings",
                         "community_id, order_id, resident_id, item_name, stars, comment, rated_by, "
                         "created_at",
                         a, 8, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_delivery_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!can_deliver(who))
        return nx_fail(e, NX_EPERM, "", "无权查看送餐单");
    char today[11];
    date_format(date_today(), today);
    const char *day = f->day ? f->day : today;
    if (f->meal && !cn_meal_label(f->meal))
        return nx_fail(e, NX_EINVAL, "meal", "餐次应为 breakfast、lunch 或 dinner");
    sqlq q;
    sqlq_init(&q, "SELECT o.id, o.grid_id, g.name, o.resident_id, r.name, b.name, rm.unit, rm.number, i.name, "
                  "o.quantity, o.status, o.meal, o.note, o.delivered_at FROM canteen_orders o "
                  "JOIN residents r ON r.id = o.resident_id JOIN canteen_menu_items i ON i.id = o.menu_item_id "
                  "LEFT JOIN grids g ON g.id = o.grid_id LEFT JOIN rooms rm ON rm.id = r.room_id "
                  "LEFT JOIN buildings b ON b.id = rm.building_id WHERE o.delivery = 1 AND o.status <> 'cancelled'");
    cn_scope_q(who, "o.", NULL, &q);
    round_q(who, &q);
    sqlq_eq_int(&q, "o.community_id", f->community_id);
    sqlq_add(&q, " AND o.day = $%d", P_TEXT(day));
    sqlq_eq_text(&q, "o.meal", f->meal);
    sqlq_sql(&q, " ORDER BY o.grid_id, b.estate_id, b.name, rm.unit, rm.number, o.id");
    store_tx *tx;
    store_rows *r;
    int rc = sqlq_read(app->db, &q, &tx, &r, e);
    if (rc)
        return rc;
    json_t *grids = json_array(), *cur = NULL;
    int64_t cur_grid = -1;
    int route = 0;
    while (store_row(r)) {
        int64_t g = store_int(r, 1);
        if (!cur || g != cur_grid) {
            cur_grid = g;
            route = 0;
            cur = json_pack("{s:o, s:s, s:[]}", "grid_id", g ? json_integer(g) : json_null(), "grid_name",
                            store_text(r, 2) ? store_text(r, 2) : "未划网格", "stops");
            json_array_append_new(grids, cur);
        }
        char place[160];
        snprintf(place, sizeof place, "%s%s%s%s", store_text(r, 5) ? store_text(r, 5) : "",
                 store_text(r, 6) && *store_text(r, 6) ? " " : "", store_text(r, 6) ? store_text(r, 6) : "",
                 store_text(r, 7) ? store_text(r, 7) : "");
        json_t *stop = store_json_row(r, "order_id:i - - resident_id:i resident_name:t - - - item_name:t quantity:i "
                                         "status:t meal:t note:t delivered_at:d");
        if (courier(who)) {
            char masked[64];
            mask_name(store_text(r, 4), masked, sizeof masked);
            json_object_set_new(stop, "resident_name", json_string(masked));
        }
        json_object_set_new(stop, "route", json_integer(++route));
        json_object_set_new(stop, "place", json_string(place[0] ? place : "未登记房屋"));
        json_array_append_new(json_object_get(cur, "stops"), stop);
    }
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc) {
        json_decref(grids);
        return rc;
    }
    *out = json_pack("{s:s, s:o}", "day", day, "grids", grids);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

/* ---- rounds ---- */

#define ROUND_COLS                                                                                           \
    "dr.id, dr.community_id, dr.grid_id, g.name, dr.user_id, u.display_name, u.username, dr.created_at"
#define ROUND_FROM                                                                                           \
    " FROM canteen_delivery_rounds dr JOIN users u ON u.id = dr.user_id LEFT JOIN grids g ON g.id = dr.grid_id " \
    "WHERE 1 = 1"

static json_t *round_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i grid_name:t user_id:i user_name:t username:t "
                                  "created_at:d");
    if (o && store_isnull(r, 2))
        json_object_set_new(o, "grid_name", json_string("未划网格"));
    return o;
}

/* Rounds in who's scope: every round for the canteen, one's own for a courier. */
static void round_where(sqlq *q, const nx_principal *who)
{
    sqlq_init(q, "SELECT " ROUND_COLS ROUND_FROM);
    cn_scope_q(who, "dr.", NULL, q);
    if (courier(who))
        sqlq_add(q, " AND dr.user_id = $%d", P_INT(who->user_id));
}

int canteen_round_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!can_deliver(who) || cn_self(who))
        return nx_fail(e, NX_EPERM, "", "无权查看送餐路线");
    sqlq q;
    round_where(&q, who);
    sqlq_eq_int(&q, "dr.community_id", f->community_id);
    sqlq_sql(&q, " ORDER BY dr.community_id, dr.grid_id, dr.id");
    store_page_spec s = {.max = 500, .row = round_row};
    return store_items_read(app->db, &q, &s, out, e);
}

int canteen_round_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!can_deliver(who) || cn_self(who))
        return nx_fail(e, NX_EPERM, "", "无权查看送餐路线");
    sqlq q;
    round_where(&q, who);
    sqlq_add(&q, " AND dr.id = $%d", P_INT(id));
    store_page_spec s = {.row = round_row};
    return store_get_read(app->db, &q, &s, "送餐路线不存在", out, e);
}

int canteen_round_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"community_id", "grid_id", "user_id", NULL};
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权分派送餐路线");
    int64_t grid = 0, user = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "grid_id", false, 1, INT64_MAX, &grid, e)) < 0 ||
        (rc = json_get_int(in, "user_id", true, 1, INT64_MAX, &user, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = cn_write_community(tx, who, in, &community, e)))
        goto fail;
    if (grid) {
        store_param g[] = {P_INT(grid), P_INT(community)};
        if ((rc = store_exists_or_fail(tx, "SELECT COUNT(*) FROM grids WHERE id = $1 AND community_id = $2",
                                       g, 2, "grid_id", e, "本社区没有这个网格")))
            goto fail;
    }
    store_param u[] = {P_INT(user), P_INT(community)};
    if ((rc = store_exists_or_fail(tx,
                                   "SELECT COUNT(*) FROM users WHERE id = $1 AND community_id = $2 AND "
                                   "disabled = 0 AND role IN ('volunteer', 'grid')",
                                   u, 2, "user_id", e, "送餐人应为本社区的志愿者或网格员账号")))
        goto fail;
    store_param a[] = {P_INT(community), P_ID(grid), P_INT(user), P_ID(who->user_id), P_INT(clock_now_ms())};
    rc = app_insert(tx, "canteen_delivery_rounds",
                    "community_id, grid_id, user_id, created_by, created_at",
                    a, 5, id, e);
    if ((rc = store_conflict_field(rc, "user_id", e, "这条送餐路线已分派给该账号")))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "canteen_round", *id, community,
                              json_pack("{s:I, s:o}", "user_id", (json_int_t)user, "grid_id",
                                        grid ? json_integer(grid) : json_null()),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_round_delete(nx_app *app, const nx_principal *who, int64_t id, nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_CANTEEN_OPERATE, STORE_WRITE, "无权分派送餐路线", &tx, e);
    if (rc)
        return rc;
    sqlq q;
    int64_t community = 0;
    sqlq_init(&q, "SELECT dr.community_id FROM canteen_delivery_rounds dr WHERE 1 = 1");
    sqlq_add(&q, " AND dr.id = $%d", P_INT(id));
    cn_scope_q(who, "dr.", NULL, &q);
    if ((rc = cn_one_row(tx, &q, "送餐路线不存在", &community, 1, e)))
        goto fail;
    store_param a[] = {P_INT(id)};
    if ((rc = store_exec(tx, "DELETE FROM canteen_delivery_rounds WHERE id = $1", a, 1, NULL, e)) ||
        (rc = audit_write_new(tx, who, "delete", "canteen_round", id, community, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
