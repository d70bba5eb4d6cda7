/* canteen_menus.c — dishes and the daily menus (菜品与每日菜单).
 *
 * A dish is a community's recipe with its list price (fen), an optional half portion, nutrition and
 * allergy notes and the marks old diners look for (soft 软烂, low salt 少盐, diabetic 控糖). A menu is
 * the offer of one community for one day and one meal (breakfast, lunch, dinner), written ahead (at
 * most 60 days) and never for a past day. Its items are dishes or set meals (套餐) with their own
 * price, a price class that the price rules name ("basic", "better" or "" for à la carte), the
 * portions available and a sold-out mark. Replacing a menu keeps the rows of items that were sold or
 * ordered (they are evidence of the subsidy claim): such an item must be listed again, by id.
 *
 * Residents and family members (self scope) read the published menus of their own community. */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "secure/audit.h"
#include "store/page.h"

#define MENU_ITEMS_MAX 40
#define MENU_AHEAD_DAYS 60
#define MENU_RANGE_DAYS 31

static const char *const categories[] = {"staple", "main", "side", "soup", "set", "drink", NULL};
static const char *const meal_codes[] = {"breakfast", "lunch", "dinner", NULL};
static const char *const kinds[] = {"dish", "set", NULL};
static const char *const item_classes[] = {"", "basic", "better", NULL};

/* Readers of the community's canteen: its operators in scope, and its residents (self scope). */
static bool can_read(const nx_principal *who)
{
    return perm_has(who, RIGHT_CANTEEN_OPERATE) || (cn_self(who) && perm_has(who, RIGHT_SELF));
}

static void read_scope(const nx_principal *who, const char *alias, sqlq *q)
{
    nx_principal p = *who;
    if (p.scope == SCOPE_SELF)
        p.scope = SCOPE_COMMUNITY;
    cn_scope_q(&p, alias, NULL, q);
}

#define DISH_COLS                                                                                            \
    "d.id, d.community_id, d.name, d.category, d.price, d.half_price, d.nutrition, d.allergens, d.soft, "    \
    "d.low_salt, d.diabetic, d.active, d.created_at"

static json_t *dish_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i name:t category:t price:i half_price:i nutrition:t allergens:t "
                             "soft:b low_salt:b diabetic:b active:b created_at:d");
}

/* A dish's fields as a POST (create: name and price required) or a PATCH body carries them. Absent
 * fields keep has_* false / NULL; half_price JSON null (PATCH) clears the half portion. */
typedef struct dish_in {
    const char *name, *category, *nutrition, *allergens;
    int64_t price, half;      /* -1: absent */
    bool half_null;
    bool marks[3], has_mark[3]; /* soft, low_salt, diabetic */
    bool active, has_active;
} dish_in;

static const char *const dish_marks[] = {"soft", "low_salt", "diabetic", NULL};

static int dish_read(json_t *in, bool create, dish_in *d, nx_err *e)
{
    static const char *const on_create[] = {"community_id", "name", "category", "price", "half_price", "nutrition",
                                            "allergens", "soft", "low_salt", "diabetic", NULL};
    static const char *const on_patch[] = {"name", "category", "price", "half_price", "nutrition", "allergens",
                                           "soft", "low_salt", "diabetic", "active", NULL};
    /* in a PATCH only these may be null (cleared); null elsewhere is refused, never read as "keep" */
    static const char *const clearable[] = {"half_price", "nutrition", "allergens", NULL};
    memset(d, 0, sizeof *d);
    d->price = d->half = -1;
    int rc;
    if ((rc = json_only(in, create ? on_create : on_patch, e)))
        return rc;
    for (int i = 0; !create && on_patch[i]; i++)
        if (!cn_in_list(clearable, on_patch[i]) && json_is_null_field(in, on_patch[i]))
            return nx_fail(e, NX_EINVAL, on_patch[i], "%s 不能为空", on_patch[i]);
    if ((rc = json_read_str(in, "name", create, 40, &d->name, e)) ||
        (rc = json_read_str(in, "category", false, 10, &d->category, e)) ||
        (rc = json_get_int(in, "price", create, 0, 1000000, &d->price, e)) < 0 ||
        (rc = json_read_str(in, "nutrition", false, 200, &d->nutrition, e)) ||
        (rc = json_read_str(in, "allergens", false, 100, &d->allergens, e)))
        return rc;
    d->half_null = !create && json_is_null_field(in, "half_price");
    if (!d->half_null && (rc = json_get_int(in, "half_price", false, 0, 1000000, &d->half, e)) < 0)
        return rc;
    for (int i = 0; dish_marks[i]; i++) {
        if ((rc = json_get_bool(in, dish_marks[i], false, &d->marks[i], e)) < 0)
            return rc;
        d->has_mark[i] = rc == 0;
    }
    if (!create) {
        if ((rc = json_get_bool(in, "active", false, &d->active, e)) < 0)
            return rc;
        d->has_active = rc == 0;
    }
    if (d->name && !*d->name)
        return nx_fail(e, NX_EINVAL, "name", "请填写菜品名称");
    if (d->category && !cn_in_list(categories, d->category))
        return nx_fail(e, NX_EINVAL, "category", "类别应为 staple、main、side、soup、set 或 drink");
    return 0;
}

int canteen_dish_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权维护菜品");
    dish_in d;
    int rc;
    if ((rc = dish_read(in, true, &d, e)))
        return rc;
    if (d.half > d.price)
        return nx_fail(e, NX_EINVAL, "half_price", "半份价格不能高于整份");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms();
    if ((rc = cn_write_community(tx, who, in, &community, e)))
        goto fail;
    store_param a[] = {P_INT(community),    P_TEXT(d.name),     P_TEXT(d.category ? d.category : "main"),
                       P_INT(d.price),      d.half >= 0 ? P_INT(d.half) : P_NULL,
                       P_TEXT(d.nutrition), P_TEXT(d.allergens), P_INT(d.marks[0]), P_INT(d.marks[1]),
                       P_INT(d.marks[2]),   P_INT(now)};
    rc = store_one_int(
        tx,
        "INSERT INTO canteen_dishes (community_id, name, category, price, half_price, nutrition, "
        "allergens, soft, low_salt, diabetic, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10, $11, $11) RETURNING id",
        a, 11, id, e);
    if ((rc = store_conflict_field(rc, "name", e, "本社区已有同名菜品")))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_dish_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权维护菜品");
    dish_in d;
    int rc;
    if ((rc = dish_read(in, false, &d, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT d.community_id, d.price, COALESCE(d.half_price, -1) FROM canteen_dishes d WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    cn_scope_q(who, "d.", NULL, &q);
    int64_t row[3];
    if ((rc = cn_one_row(tx, &q, "菜品不存在", row, 3, e)))
        goto fail;
    int64_t community = row[0], price = row[1], half = row[2];
    /* the half portion is checked against the price the dish will have after the change */
    if (d.price >= 0)
        price = d.price;
    if (d.half >= 0 || d.half_null)
        half = d.half;
    if (half > price) {
        rc = nx_fail(e, NX_EINVAL, d.half >= 0 ? "half_price" : "price", "半份价格不能高于整份");
        goto fail;
    }
    sqlq u;
    json_t *fields = json_array();
    sqlq_init(&u, "UPDATE canteen_dishes SET ");
    sqlq_add(&u, "updated_at = $%d", P_INT(clock_now_ms()));
    static const char *const texts[] = {"name", "category", "nutrition", "allergens", NULL};
    const char *vals[] = {d.name, d.category, d.nutrition, d.allergens};
    for (int i = 0; texts[i]; i++) {
        if (vals[i])
            sqlq_sql(&u, ", %s = $%d", texts[i], sqlq_param(&u, P_TEXT(vals[i])));
        else if (i >= 2 && json_is_null_field(in, texts[i]))
            sqlq_sql(&u, ", %s = NULL", texts[i]);
        else
            continue;
        json_array_append_new(fields, json_string(texts[i]));
    }
    if (d.price >= 0) {
        sqlq_add(&u, ", price = $%d", P_INT(d.price));
        json_array_append_new(fields, json_string("price"));
    }
    if (d.half >= 0 || d.half_null) {
        sqlq_add(&u, ", half_price = $%d", d.half >= 0 ? P_INT(d.half) : P_NULL);
        json_array_append_new(fields, json_string("half_price"));
    }
    for (int i = 0; dish_marks[i]; i++)
        if (d.has_mark[i]) {
            sqlq_sql(&u, ", %s = $%d", dish_marks[i], sqlq_param(&u, P_INT(d.marks[i])));
            json_array_append_new(fields, json_string(dish_marks[i]));
        }
    if (d.has_active) {
        sqlq_add(&u, ", active = $%d", P_INT(d.active));
        json_array_append_new(fields, json_string("active"));
    }
    sqlq_add(&u, " WHERE id = $%d", P_INT(id));
    if ((rc = sqlq_exec(tx, &u, NULL, e))) {
        json_decref(fields);
        if (rc == NX_ECONFLICT)
            nx_fail(e, NX_ECONFLICT, "name", "本社区已有同名菜品");
        goto fail;
    }
    if ((rc = audit_write_new(tx, who, "update", "canteen_dish", id, community, json_pack("{s:o}", "fields", fields),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_dish_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!can_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看菜品");
    sqlq q;
    sqlq_init(&q, "SELECT " DISH_COLS " FROM canteen_dishes d WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    read_scope(who, "d.", &q);
    store_page_spec s = {.row = dish_row};
    return store_get_read(app->db, &q, &s, "菜品不存在", out, e);
}

static void dish_where(sqlq *q, const char *head, const nx_principal *who, const canteen_filter *f)
{
    sqlq_init(q, head);
    read_scope(who, "d.", q);
    sqlq_eq_int(q, "d.community_id", f->community_id);
    if (f->q && *f->q)
        sqlq_like(q, " AND d.name LIKE $%d ESCAPE '!'", f->q, true);
}

int canteen_dish_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!can_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看菜品");
    return cn_list(app, who, f, dish_where, "SELECT " DISH_COLS " FROM canteen_dishes d WHERE 1 = 1",
                   "SELECT COUNT(*) FROM canteen_dishes d WHERE 1 = 1", "d.", true, dish_row, out, e);
}

/* ---- menus ---- */

typedef struct item_in {
    int64_t id, dish_id, price, portions;
    const char *name, *kind, *cls;
    bool sold_out;
    char dish_name[128]; /* the dish's name when the item gives none */
} item_in;

static int item_parse(store_tx *tx, json_t *o, int i, int64_t community, item_in *x, nx_err *e)
{
    static const char *const allowed[] = {"id", "dish_id", "name", "kind", "price_class", "price", "portions",
                                          "sold_out", NULL};
    memset(x, 0, sizeof *x);
    x->kind = "dish";
    x->cls = "";
    x->price = -1;
    x->portions = -1;
    int rc;
    if (!json_is_object(o)) {
        rc = nx_fail(e, NX_EINVAL, "", "菜单项应为对象");
        goto bad;
    }
    if ((rc = json_only(o, allowed, e)) || (rc = json_get_int(o, "id", false, 1, INT64_MAX, &x->id, e)) < 0 ||
        (rc = json_get_int(o, "dish_id", false, 1, INT64_MAX, &x->dish_id, e)) < 0 ||
        (rc = json_read_str(o, "name", false, 40, &x->name, e)) ||
        (rc = json_read_str(o, "kind", false, 8, &x->kind, e)) ||
        (rc = json_get_str(o, "price_class", false, 8, &x->cls, e)) < 0 ||
        (rc = json_get_int(o, "price", false, 0, 1000000, &x->price, e)) < 0 ||
        (rc = json_get_int(o, "portions", false, 0, 100000, &x->portions, e)) < 0 ||
        (rc = json_get_bool(o, "sold_out", false, &x->sold_out, e)) < 0)
        goto bad;
    if (!cn_in_list(kinds, x->kind)) {
        rc = nx_fail(e, NX_EINVAL, "kind", "类型应为 dish 或 set");
        goto bad;
    }
    if (!cn_in_list(item_classes, x->cls)) {
        rc = nx_fail(e, NX_EINVAL, "price_class", "价格类别应为 basic、better 或空");
        goto bad;
    }
    if (x->dish_id) {
        store_param a[] = {P_INT(x->dish_id)};
        store_rows *r;
        if ((rc = store_query(tx, "SELECT community_id, name, price FROM canteen_dishes WHERE id = $1", a, 1, &r, e)))
            return rc;
        rc = store_first(r, "菜品不存在", e);
        if (rc == 0 && store_int(r, 0) != community)
            rc = NX_ENOTFOUND;
        if (rc == 0) {
            str_copy(x->dish_name, store_text(r, 1) ? store_text(r, 1) : "", sizeof x->dish_name);
            if (!x->name)
                x->name = x->dish_name;
            if (x->price < 0)
                x->price = store_int(r, 2);
        }
        int end = store_rows_end(r, e);
        if (rc == NX_ENOTFOUND) {
            rc = nx_fail(e, NX_EINVAL, "dish_id", "菜品不存在");
            goto bad;
        }
        if (rc || end)
            return rc ? rc : end;
    }
    if (!x->name) {
        rc = nx_fail(e, NX_EINVAL, "name", "请填写名称或选择菜品");
        goto bad;
    }
    if (x->price < 0) {
        rc = nx_fail(e, NX_EINVAL, "price", "请填写价格（分）");
        goto bad;
    }
    return 0;
bad:;
    char f[64];
    snprintf(f, sizeof f, "items[%d]%s%s", i, e->field[0] ? "." : "", e->field);
    str_copy(e->field, f, sizeof e->field);
    return rc ? rc : NX_EINVAL;
}

int canteen_menu_put(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"community_id", "day", "meal", "published", "items", NULL};
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权维护菜单");
    const char *day = NULL, *meal = NULL;
    bool published = true;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_date(in, "day", true, &day, e)) ||
        (rc = json_read_str(in, "meal", true, 12, &meal, e)) ||
        (rc = json_get_bool(in, "published", false, &published, e)) < 0)
        return rc;
    if (!cn_in_list(meal_codes, meal))
        return nx_fail(e, NX_EINVAL, "meal", "餐次应为 breakfast、lunch 或 dinner");
    nx_date d, today = date_today();
    date_parse(day, &d);
    if (date_to_days(d) < date_to_days(today))
        return nx_fail(e, NX_EINVAL, "day", "不能为已过去的日期制定菜单");
    if (date_to_days(d) > date_to_days(today) + MENU_AHEAD_DAYS)
        return nx_fail(e, NX_EINVAL, "day", "菜单最多提前 %d 天发布", MENU_AHEAD_DAYS);
    json_t *items = json_object_get(in, "items");
    if (!json_is_array(items) || json_array_size(items) == 0)
        return nx_fail(e, NX_EINVAL, "items", "请至少添加一个菜单项");
    size_t n = json_array_size(items);
    if (n > MENU_ITEMS_MAX)
        return nx_fail(e, NX_EINVAL, "items", "菜单项最多 %d 个", MENU_ITEMS_MAX);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms(), menu = 0;
    if ((rc = cn_write_community(tx, who, in, &community, e)))
        goto fail;
    store_param k[] = {P_INT(community), P_TEXT(day), P_TEXT(meal)};
    rc = store_one_int(tx, "SELECT id FROM canteen_menus WHERE community_id = $1 AND day = $2 AND meal = $3", k, 3,
                       &menu, e);
    if (rc && rc != NX_ENOTFOUND)
        goto fail;
    if (rc == NX_ENOTFOUND) {
        store_param a[] = {P_INT(community), P_TEXT(day), P_TEXT(meal), P_INT(published), P_ID(who->user_id), P_INT(now)};
        if ((rc = store_one_int(tx,
                                "INSERT INTO canteen_menus (community_id, day, meal, published, created_by, created_at, "
                                "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                                a, 6, &menu, e)))
            goto fail;
    } else {
        store_param a[] = {P_INT(published), P_INT(now), P_INT(menu)};
        if ((rc = store_exec(tx, "UPDATE canteen_menus SET published = $1, updated_at = $2 WHERE id = $3", a, 3, NULL, e)))
            goto fail;
    }
    /* Items kept by id; the others are new. An existing item sold or ordered must be listed again. */
    int64_t keep[MENU_ITEMS_MAX];
    size_t nkeep = 0;
    for (size_t i = 0; i < n; i++) {
        item_in x;
        if ((rc = item_parse(tx, json_array_get(items, i), (int)i, community, &x, e)))
            goto fail;
        if (x.id) {
            store_param a[] = {P_TEXT(x.name), P_TEXT(x.kind), P_TEXT(x.cls), P_INT(x.price),
                               x.portions >= 0 ? P_INT(x.portions) : P_NULL, P_INT(x.sold_out), P_INT((int64_t)i),
                               P_ID(x.dish_id), P_INT(x.id), P_INT(menu)};
            int64_t changed = 0;
            if ((rc = store_exec(tx,
                                 "UPDATE canteen_menu_items SET name = $1, kind = $2, price_class = $3, price = $4, "
                                 "portions = $5, sold_out = $6, sort = $7, dish_id = $8 WHERE id = $9 AND menu_id = $10",
                                 a, 10, &changed, e)))
                goto fail;
            if (!changed) {
                char f[32];
                snprintf(f, sizeof f, "items[%zu].id", i);
                rc = nx_fail(e, NX_EINVAL, f, "该菜单项不属于此菜单");
                goto fail;
            }
            keep[nkeep++] = x.id;
        } else {
            store_param a[] = {P_INT(menu), P_INT(community), P_ID(x.dish_id), P_TEXT(x.name), P_TEXT(x.kind),
                               P_TEXT(x.cls), P_INT(x.price), x.portions >= 0 ? P_INT(x.portions) : P_NULL,
                               P_INT(x.sold_out), P_INT((int64_t)i)};
            int64_t nid = 0;
            if ((rc = app_insert(tx, "canteen_menu_items",
                                 "menu_id, community_id, dish_id, name, kind, price_class, price, "
                                 "portions, sold_out, sort",
                                 a, 10, &nid, e)))
                goto fail;
            keep[nkeep++] = nid;
        }
    }
    /* Drop the items not listed, unless sales or orders name them. */
    store_param m[] = {P_INT(menu)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT i.id, (SELECT COUNT(*) FROM canteen_sales s WHERE s.menu_item_id = i.id) + "
                          "(SELECT COUNT(*) FROM canteen_orders o WHERE o.menu_item_id = i.id) "
                          "FROM canteen_menu_items i WHERE i.menu_id = $1",
                          m, 1, &r, e)))
        goto fail;
    int64_t drop[MENU_ITEMS_MAX * 4];
    size_t ndrop = 0;
    bool used = false;
    while (store_row(r)) {
        int64_t iid = store_int(r, 0);
        bool listed = false;
        for (size_t j = 0; j < nkeep; j++)
            listed = listed || keep[j] == iid;
        if (listed)
            continue;
        if (store_int(r, 1) > 0)
            used = true;
        else if (ndrop < sizeof drop / sizeof drop[0])
            drop[ndrop++] = iid;
    }
    if ((rc = store_rows_end(r, e)))
        goto fail;
    if (used) {
        rc = nx_fail(e, NX_ECONFLICT, "items", "已售出或已被预订的菜单项不能删除，请保留（按 id）或标为售罄");
        goto fail;
    }
    for (size_t j = 0; j < ndrop; j++) {
        store_param a[] = {P_INT(drop[j])};
        if ((rc = store_exec(tx, "DELETE FROM canteen_menu_items WHERE id = $1", a, 1, NULL, e)))
            goto fail;
    }
    *id = menu;
fail:
    return store_finish(tx, rc, e);
}

/* Menus with their items, grouped from one joined query. */
#define MENU_JOIN                                                                                            \
    "SELECT m.id, m.community_id, m.day, m.meal, m.published, i.id, i.name, i.kind, i.price_class, i.price, "  \
    "i.portions, i.sold, i.sold_out, i.dish_id, d.soft, d.low_salt, d.diabetic, d.allergens, d.nutrition, "    \
    "d.half_price, rg.n, rg.s FROM canteen_menus m LEFT JOIN canteen_menu_items i ON i.menu_id = m.id "       \
    "LEFT JOIN canteen_dishes d ON d.id = i.dish_id LEFT JOIN (SELECT community_id, item_name, COUNT(*) AS n, " \
    "SUM(stars) AS s FROM canteen_ratings GROUP BY community_id, item_name) rg ON rg.community_id = "           \
    "m.community_id AND rg.item_name = i.name WHERE 1 = 1"
#define MENU_ORDER                                                                                           \
    " ORDER BY m.day, CASE m.meal WHEN 'breakfast' THEN 1 WHEN 'lunch' THEN 2 ELSE 3 END, m.id, i.sort, i.id"

static int menus_read(nx_app *app, sqlq *q, json_t **out, nx_err *e)
{
    store_tx *tx;
    store_rows *r;
    int rc = sqlq_read(app->db, q, &tx, &r, e);
    if (rc)
        return rc;
    json_t *menus = json_array(), *cur = NULL;
    int64_t cur_id = 0;
    while (store_row(r)) {
        if (!cur || store_int(r, 0) != cur_id) {
            cur_id = store_int(r, 0);
            cur = store_json_row(r, "id:i community_id:i day:t meal:t published:b");
            json_object_set_new(cur, "meal_label", json_string(cn_meal_label(store_text(r, 3)) ? cn_meal_label(store_text(r, 3)) : ""));
            json_object_set_new(cur, "items", json_array());
            json_array_append_new(menus, cur);
        }
        if (store_isnull(r, 5))
            continue;
        json_t *it = json_object();
        store_json_cols(it, r, 5, "id:i name:t kind:t price_class:t price:i portions:i sold:i sold_out:b dish_id:i "
                                  "soft:b low_salt:b diabetic:b allergens:t nutrition:t half_price:i");
        int64_t portions = store_isnull(r, 10) ? -1 : store_int(r, 10);
        json_object_set_new(it, "available",
                            json_boolean(!store_int(r, 12) && (portions < 0 || store_int(r, 11) < portions)));
        /* the diners' ratings of this dish (by name, in the community): the average to one decimal */
        int64_t n = store_int(r, 20), sum = store_int(r, 21);
        json_object_set_new(it, "rating_count", json_integer(n));
        json_object_set_new(it, "rating_avg", n ? json_real((double)((sum * 20 + n) / (2 * n)) / 10.0) : json_null());
        json_array_append_new(json_object_get(cur, "items"), it);
    }
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc) {
        json_decref(menus);
        return rc;
    }
    *out = json_pack("{s:o}", "items", menus);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

int canteen_menu_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!can_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看菜单");
    sqlq q;
    sqlq_init(&q, MENU_JOIN);
    sqlq_add(&q, " AND m.id = $%d", P_INT(id));
    read_scope(who, "m.", &q);
    if (cn_self(who))
        sqlq_sql(&q, " AND m.published = 1");
    sqlq_sql(&q, MENU_ORDER);
    json_t *all;
    int rc = menus_read(app, &q, &all, e);
    if (rc)
        return rc;
    json_t *m = json_array_get(json_object_get(all, "items"), 0);
    if (!m) {
        json_decref(all);
        return nx_fail(e, NX_ENOTFOUND, "", "菜单不存在");
    }
    *out = json_incref(m);
    json_decref(all);
    return 0;
}

int canteen_menu_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!can_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看菜单");
    nx_date a, b;
    const char *from = f->day ? f->day : f->from, *to = f->day ? f->day : f->to;
    char today[11], week[11];
    if (!from) {
        date_format(date_today(), today);
        from = today;
    }
    if (date_parse(from, &a))
        return nx_fail(e, NX_EINVAL, f->day ? "date" : "from", "日期格式应为 YYYY-MM-DD");
    if (!to) {
        date_format(date_from_days(date_to_days(a) + 6), week);
        to = week;
    }
    if (date_parse(to, &b))
        return nx_fail(e, NX_EINVAL, "to", "日期格式应为 YYYY-MM-DD");
    if (date_to_days(b) < date_to_days(a) || date_to_days(b) - date_to_days(a) >= MENU_RANGE_DAYS)
        return nx_fail(e, NX_EINVAL, "to", "日期范围应在 %d 天以内", MENU_RANGE_DAYS);
    if (f->meal && !cn_in_list(meal_codes, f->meal))
        return nx_fail(e, NX_EINVAL, "meal", "餐次应为 breakfast、lunch 或 dinner");
    sqlq q;
    sqlq_init(&q, MENU_JOIN);
    read_scope(who, "m.", &q);
    sqlq_eq_int(&q, "m.community_id", f->community_id);
    sqlq_range_text(&q, "m.day", from, to);
    sqlq_eq_text(&q, "m.meal", f->meal);
    if (cn_self(who))
        sqlq_sql(&q, " AND m.published = 1");
    sqlq_sql(&q, MENU_ORDER);
    return menus_read(app, &q, out, e);
}

int canteen_item_update(nx_app *app, const nx_principal *who, int64_t item_id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"sold_out", NULL};
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权维护菜单");
    bool sold_out = false;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_bool(in, "sold_out", true, &sold_out, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    cn_item it;
    if ((rc = cn_item_load(tx, item_id, &it, e)))
        goto fail;
    if (!perm_covers(who, tx, it.community_id, 0) && who->scope != SCOPE_GRID) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "菜单项不存在");
        goto fail;
    }
    store_param a[] = {P_INT(sold_out), P_INT(item_id)};
    if ((rc = store_exec(tx, "UPDATE canteen_menu_items SET sold_out = $1 WHERE id = $2", a, 2, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
