/* demo_canteen.c — the canteen's part of `nuanxin demo`: dishes, the price rules of 幸福食堂 (一元吃饱，
 * 两元吃好), menus for the last 90 days and the coming week, meal cards for the elders who eat there
 * (王建国 always, so that the resident and family accounts have a card), monthly top-ups, and three
 * months of counter sales on the hash chain, with a few walk-in guests paying cash; today's lunch
 * delivered to the first five diners at home, its rounds given to the demo volunteer (zhiyuan).
 *
 * Prices are worked out here with the same rules the counter applies (canteen_pricing.c): the
 * cheapest rule that fits the diner's age on the day of the meal and their tags, the lower id on a
 * tie, one subsidised meal per slot (each diner eats once per meal here). Sales go in through
 * canteen_sales_import, so the chain verifies and the subsidy report equals the sales. Plain INSERTs
 * in one write transaction; deterministic for a seed and a day; a few thousand rows, well under a
 * second on SQLite. */
#include "cli/demo.h"

#include "base/clock.h"
#include "base/str.h"
#include "modules/canteen/canteen.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAST_DAYS 90
#define AHEAD_DAYS 6
#define MAX_DINERS 40
#define MAX_SALES 12000

typedef struct diner {
    int64_t id, card;
    nx_date birth;
    bool needy; /* 独居, 孤寡, 低保 or 特困 */
    int p_breakfast, p_lunch, p_dinner; /* per cent */
    int64_t balance;
} diner;

/* The demo's rules, in id order, as canteen_pricing.c reads them. */
typedef struct drule {
    const char *name, *cls, *funding;
    int64_t pay;
    int min_age, max_age; /* -1: open */
    bool needy;
} drule;

static const drule rules[] = {
    {"80岁以上老人", "basic", "street", 100, 80, -1, false},
    {"80岁以上老人（两元套餐）", "better", "street", 200, 80, -1, false},
    {"困难老人（独居/孤寡/低保/特困）", "basic", "charity", 100, 60, -1, true},
    {"困难老人（两元套餐）", "better", "charity", 200, 60, -1, true},
    {"60至79岁老人", "basic", "canteen", 300, 60, 79, false},
    {"60至79岁老人（两元套餐）", "better", "canteen", 600, 60, 79, false},
};
#define NRULES (sizeof rules / sizeof rules[0])

static const struct {
    const char *name, *category;
    int64_t price;
    bool soft, low_salt, diabetic;
} dishes[] = {
    {"红烧狮子头", "main", 800, true, false, false}, {"清蒸鲈鱼", "main", 1200, true, true, true},
    {"番茄炒蛋", "main", 500, true, true, true},     {"土豆烧牛肉", "main", 1000, false, false, false},
    {"白灼青菜", "side", 300, true, true, true},     {"麻婆豆腐", "side", 400, true, false, false},
    {"冬瓜排骨汤", "soup", 400, true, true, true},   {"紫菜蛋花汤", "soup", 200, true, true, true},
    {"杂粮饭", "staple", 100, false, true, true},   {"小米粥", "staple", 100, true, true, true},
    {"菜肉包子", "staple", 150, true, false, false}, {"豆浆", "drink", 100, true, true, true},
};
#define NDISHES (sizeof dishes / sizeof dishes[0])

static const char *const meals[] = {"breakfast", "lunch", "dinner"};

/* The items of a menu: 0 the basic set, 1 the better set (not at breakfast), 2 a soup à la carte. */
typedef struct dmenu {
    int64_t item[3];
    int64_t price[3];
    char name[3][40];
} dmenu;

static int64_t sh_ms(nx_date d, int minutes)
{
    return date_to_days(d) * 86400000LL - NX_TZ_OFFSET_MS + (int64_t)minutes * 60000;
}

/* The rule that prices class cls for d on day (index into rules, -1: list price). */
static int price_rule(const diner *d, const char *cls, nx_date day)
{
    int age = date_age(d->birth, day), best = -1;
    for (int i = 0; i < (int)NRULES; i++) {
        const drule *x = &rules[i];
        if (strcmp(x->cls, cls) != 0 || (x->min_age >= 0 && age < x->min_age) || (x->max_age >= 0 && age > x->max_age) ||
            (x->needy && !d->needy))
            continue;
        if (best < 0 || x->pay < rules[best].pay)
            best = i;
    }
    return best;
}

static int insert_rules(store_tx *tx, int64_t community, int64_t user, int64_t now, int64_t rule_ids[], nx_err *e)
{
    for (size_t i = 0; i < NRULES; i++) {
        const drule *x = &rules[i];
        store_param a[] = {P_INT(community), P_TEXT(x->name), P_TEXT(x->cls), P_INT(x->pay), P_TEXT(x->funding),
                           x->min_age >= 0 ? P_INT(x->min_age) : P_NULL, x->max_age >= 0 ? P_INT(x->max_age) : P_NULL,
                           P_TEXT(x->needy ? "extreme_poverty,living_alone,low_income,solitary" : ""), P_ID(user),
                           P_INT(now)};
        int rc = store_one_int(tx,
                               "INSERT INTO canteen_price_rules (community_id, name, price_class, pay, funding, min_age, "
                               "max_age, tags, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                               "RETURNING id",
                               a, 10, &rule_ids[i], e);
        if (rc)
            return rc;
    }
    return 0;
}

static int insert_menu(store_tx *tx, int64_t community, int64_t user, nx_date day, int meal,
                       const int64_t dish_ids[], demo_rng *r, int64_t now, dmenu *m, nx_err *e)
{
    char ds[11];
    date_format(day, ds);
    int64_t menu = 0;
    store_param a[] = {P_INT(community), P_TEXT(ds), P_TEXT(meals[meal]), P_ID(user), P_INT(now)};
    int rc = store_one_int(tx,
                           "INSERT INTO canteen_menus (community_id, day, meal, published, created_by, created_at, "
                           "updated_at) VALUES ($1, $2, $3, 1, $4, $5, $5) RETURNING id",
                           a, 5, &menu, e);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    for (int k = 0; k < 3; k++) {
        if (meal == 0 && k == 1)
            continue;
        const char *cls = k == 0 ? "basic" : k == 1 ? "better" : "";
        int64_t price = meal == 0 ? (k == 0 ? 500 : 200) : (k == 0 ? 1000 : k == 1 ? 1500 : 400);
        int dish =
            meal == 0 ? (k == 0 ? 10 : 11) : (k == 2 ? 6 + (int)demo_roll(r, 2) : (int)demo_roll(r, 6));
        if (k == 0)
            snprintf(m->name[k], sizeof m->name[k], "%s", meal == 0 ? "营养早餐" : "一元套餐·两菜一汤");
        else if (k == 1)
            snprintf(m->name[k], sizeof m->name[k], "两元套餐·%s", dishes[dish].name);
        else
            snprintf(m->name[k], sizeof m->name[k], "%s", dishes[dish].name);
        store_param b[] = {P_INT(menu), P_INT(community), k == 0 ? P_NULL : P_INT(dish_ids[dish]), P_TEXT(m->name[k]),
                           P_TEXT(k == 2 ? "dish" : "set"), P_TEXT(cls), P_INT(price), P_INT(k)};
        if ((rc = store_one_int(tx,
                                "INSERT INTO canteen_menu_items (menu_id, community_id, dish_id, name, kind, price_class, "
                                "price, sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                                b, 8, &m->item[k], e)))
            return rc;
        m->price[k] = price;
    }
    return 0;
}

static int collect_diners(store_tx *tx, int64_t community, int64_t first, diner *out, int *n, demo_rng *r,
                          nx_err *e)
{
    /* 王建国 first, then the oldest active residents of 60 and over. */
    store_param a[] = {P_INT(community), P_INT(first), P_INT(MAX_DINERS)};
    store_rows *rows;
    int rc = store_query(tx,
                         "SELECT r.id, r.birth_date, (SELECT COUNT(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                         "WHERE rt.resident_id = r.id AND t.code IN ('living_alone', 'solitary', 'low_income', "
                         "'extreme_poverty')) FROM residents r WHERE r.community_id = $1 AND r.status = 'active' "
                         "AND (r.id = $2 OR r.birth_date <= '1966-12-31') ORDER BY r.id = $2 DESC, r.birth_date, r.id LIMIT $3",
                         a, 3, &rows, e);
    if (rc)
        return rc;
    *n = 0;
    while (store_row(rows) && *n < MAX_DINERS) {
        diner *d = &out[(*n)++];
        memset(d, 0, sizeof *d);
        d->id = store_int(rows, 0);
        if (date_parse(store_text(rows, 1), &d->birth))
            d->birth = (nx_date){1950, 1, 1};
        d->needy = store_int(rows, 2) > 0;
        d->p_lunch = 30 + (int)demo_roll(r, 45);
        d->p_dinner = 5 + (int)demo_roll(r, 30);
        d->p_breakfast = (int)demo_roll(r, 20);
    }
    return store_rows_end(rows, e);
}

/* Top up d's card with amount on day (cash or WeChat), receipt numbered by day and count. */
static int topup(store_tx *tx, int64_t community, int64_t user, diner *d, int64_t amount, nx_date day, int *count,
                 nx_err *e)
{
    char receipt[40], ds[11];
    date_format(day, ds);
    snprintf(receipt, sizeof receipt, "R%.4s%.2s%.2s-D%05d", ds, ds + 5, ds + 8, ++*count);
    d->balance += amount;
    store_param a[] = {P_INT(d->card), P_INT(community), P_INT(amount), P_INT(d->balance),
                       P_TEXT(*count % 3 ? "cash" : "wechat"), P_TEXT(receipt), P_ID(user), P_INT(sh_ms(day, 9 * 60))};
    return store_exec(tx,
                      "INSERT INTO canteen_card_txns (card_id, community_id, kind, amount, balance_after, method, "
                      "receipt_no, created_by, created_at) VALUES ($1, $2, 'topup', $3, $4, $5, $6, $7, $8)",
                      a, 8, NULL, e);
}

/* Today's lunch ordered for delivery for the first (at most five) diners, and the round of each grid
 * they live in given to the demo volunteer, so the volunteer's phone has a round to walk. */
static int deliveries(store_tx *tx, int64_t community, int64_t user, const diner *ds, int nd, nx_date today,
                      int64_t now, nx_err *e)
{
    char day[11];
    date_format(today, day);
    int64_t item = 0, volunteer = 0;
    store_param m[] = {P_INT(community), P_TEXT(day)};
    int rc = store_one_int(tx,
                           "SELECT i.id FROM canteen_menu_items i JOIN canteen_menus m ON m.id = i.menu_id WHERE "
                           "m.community_id = $1 AND m.day = $2 AND m.meal = 'lunch' ORDER BY i.id LIMIT 1",
                           m, 2, &item, e);
    if (rc)
        return rc == NX_ENOTFOUND ? 0 : rc;
    for (int i = 0; i < nd && i < 5 && rc == 0; i++) {
        store_param a[] = {P_INT(item), P_TEXT(day), P_ID(user), P_INT(now), P_INT(ds[i].id)};
        rc = store_exec(tx,
                        "INSERT INTO canteen_orders (community_id, grid_id, resident_id, menu_item_id, day, meal, "
                        "quantity, delivery, ordered_by, created_at, updated_at) SELECT r.community_id, r.grid_id, r.id, "
                        "$1, $2, 'lunch', 1, 1, $3, $4, $4 FROM residents r WHERE r.id = $5",
                        a, 5, NULL, e);
    }
    store_param u[] = {P_TEXT("zhiyuan")};
    if (rc || store_one_int(tx, "SELECT id FROM users WHERE username = $1", u, 1, &volunteer, NULL))
        return rc;
    store_param b[] = {P_INT(community), P_TEXT(day), P_INT(volunteer), P_ID(user), P_INT(now)};
    return store_exec(tx,
                      "INSERT INTO canteen_delivery_rounds (community_id, grid_id, user_id, created_by, created_at) "
                      "SELECT DISTINCT community_id, grid_id, $3, $4, $5 FROM canteen_orders WHERE community_id = $1 "
                      "AND day = $2 AND delivery = 1",
                      b, 5, NULL, e);
}

int demo_canteen_fill(nx_app *app, int64_t community, int64_t first_resident, unsigned seed, json_t *summary,
                      nx_err *e)
{
    demo_rng r = {.s = 0xC2B2AE3D27D4EB4FULL ^ ((uint64_t)seed * 2246822519u)};
    diner *ds = calloc(MAX_DINERS, sizeof *ds);
    canteen_import_sale *sales = calloc(MAX_SALES, sizeof *sales);
    int64_t *sale_ids = calloc(MAX_SALES, sizeof *sale_ids);
    char(*refs)[32] = calloc(MAX_SALES, sizeof *refs);
    char(*days)[11] = calloc(MAX_SALES, sizeof *days);
    dmenu *menus = calloc((PAST_DAYS + 1) * 3, sizeof *menus);
    if (!ds || !sales || !sale_ids || !refs || !days || !menus) {
        free(ds), free(sales), free(sale_ids), free(refs), free(days), free(menus);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    int64_t t0 = clock_mono_ms(), now = clock_now_ms(), user = 0, dish_ids[NDISHES], rule_ids[NRULES];
    nx_date today = date_today();
    int nd = 0, topups = 0;
    size_t ns = 0;
    store_tx *tx = NULL;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        goto out;
    store_param u[] = {P_TEXT("shitang")};
    if (store_one_int(tx, "SELECT id FROM users WHERE username = $1", u, 1, &user, NULL))
        user = 0;
    nx_principal who = {.user_id = user, .username = "shitang", .role = ROLE_CANTEEN, .scope = SCOPE_COMMUNITY,
                        .community_id = community};
    for (size_t i = 0; i < NDISHES && rc == 0; i++) {
        store_param a[] = {P_INT(community), P_TEXT(dishes[i].name), P_TEXT(dishes[i].category), P_INT(dishes[i].price),
                           P_INT(dishes[i].soft), P_INT(dishes[i].low_salt), P_INT(dishes[i].diabetic), P_INT(now)};
        rc = store_one_int(tx,
                           "INSERT INTO canteen_dishes (community_id, name, category, price, soft, low_salt, diabetic, "
                           "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                           a, 8, &dish_ids[i], e);
    }
    if (rc || (rc = insert_rules(tx, community, user, now, rule_ids, e)))
        goto out;
    for (int back = PAST_DAYS; back >= -AHEAD_DAYS && rc == 0; back--) {
        nx_date day = date_from_days(date_to_days(today) - back);
        for (int meal = 0; meal < 3 && rc == 0; meal++) {
            dmenu tmp, *m = back >= 0 ? &menus[(PAST_DAYS - back) * 3 + meal] : &tmp;
            rc = insert_menu(tx, community, user, day, meal, dish_ids, &r, now, m, e);
        }
    }
    if (rc || (rc = collect_diners(tx, community, first_resident, ds, &nd, &r, e)))
        goto out;
    for (int i = 0; i < nd && rc == 0; i++) {
        char code[40], number[32];
        snprintf(code, sizeof code, "demo%08x%08x%08x", demo_roll(&r, 0xFFFFFFFFu),
                 demo_roll(&r, 0xFFFFFFFFu), demo_roll(&r, 0xFFFFFFFFu));
        snprintf(number, sizeof number, "K-DEMO-%04d", i + 1);
        nx_date opened = date_from_days(date_to_days(today) - PAST_DAYS - 1);
        store_param a[] = {P_INT(community), P_INT(ds[i].id), P_TEXT(code), P_TEXT(number), P_ID(user),
                           P_INT(sh_ms(opened, 9 * 60))};
        if ((rc = store_one_int(tx,
                                "INSERT INTO canteen_cards (community_id, resident_id, code, number, balance, created_by, "
                                "created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $6) RETURNING id",
                                a, 6, &ds[i].card, e)))
            break;
        rc = topup(tx, community, user, &ds[i], 10000, opened, &topups, e);
    }
    /* The sales, day by day and meal by meal. */
    int card_txn_count = 0;
    for (int back = PAST_DAYS; back >= 0 && rc == 0; back--) {
        nx_date day = date_from_days(date_to_days(today) - back);
        for (int meal = 0; meal < 3 && rc == 0; meal++) {
            const dmenu *m = &menus[(PAST_DAYS - back) * 3 + meal];
            int base = meal == 0 ? 7 * 60 : meal == 1 ? 11 * 60 + 20 : 17 * 60;
            for (int i = 0; i < nd && rc == 0 && ns < MAX_SALES - 8; i++) {
                diner *d = &ds[i];
                int p = meal == 0 ? d->p_breakfast : meal == 1 ? d->p_lunch : d->p_dinner;
                if ((int)demo_roll(&r, 100) >= p)
                    continue;
                int k = meal == 0 ? 0 : (demo_roll(&r, 100) < 30 ? 1 : 0);
                int ri = price_rule(d, k == 0 ? "basic" : "better", day);
                int64_t list = m->price[k], pay = ri >= 0 && rules[ri].pay < list ? rules[ri].pay : list;
                bool card = demo_roll(&r, 100) < 85;
                if (card && d->balance < pay && (rc = topup(tx, community, user, d, 10000, day, &topups, e)))
                    break;
                canteen_import_sale *s = &sales[ns];
                snprintf(refs[ns], sizeof refs[ns], "demo-%u-%zu", seed, ns);
                date_format(day, days[ns]);
                *s = (canteen_import_sale){.client_ref = refs[ns],
                                           .item_name = m->name[k],
                                           .day = days[ns],
                                           .meal = meals[meal],
                                           .funding = ri >= 0 && list > pay ? rules[ri].funding : NULL,
                                           .rule_name = ri >= 0 ? rules[ri].name : NULL,
                                           .method = card ? "card" : "cash",
                                           .resident_id = d->id,
                                           .card_id = card ? d->card : 0,
                                           .menu_item_id = m->item[k],
                                           .rule_id = ri >= 0 ? rule_ids[ri] : 0,
                                           .list_price = list,
                                           .paid = pay,
                                           .subsidy = list - pay,
                                           .at = sh_ms(day, base + (int)demo_roll(&r, 70))};
                if (s->at > now)
                    s->at = now - (int64_t)(nd - i) * 1000;
                if (card)
                    d->balance -= pay;
                ns++;
            }
            /* a few walk-in guests at lunch */
            for (int g = 0; meal == 1 && g < 2 && ns < MAX_SALES; g++) {
                canteen_import_sale *s = &sales[ns];
                snprintf(refs[ns], sizeof refs[ns], "demo-%u-%zu", seed, ns);
                date_format(day, days[ns]);
                int k = (int)demo_roll(&r, 2);
                *s = (canteen_import_sale){.client_ref = refs[ns], .item_name = m->name[k], .day = days[ns],
                                           .meal = meals[meal], .method = g ? "wechat" : "cash",
                                           .menu_item_id = m->item[k], .list_price = m->price[k], .paid = m->price[k],
                                           .at = sh_ms(day, base + 30 + g)};
                if (s->at > now)
                    s->at = now - 1000;
                ns++;
            }
        }
    }
    if (rc || (rc = canteen_sales_import(tx, &who, community, sales, ns, sale_ids, e)))
        goto out;
    /* Card transactions of the card sales (in sale order, balances recomputed), then the balances. */
    for (int i = 0; i < nd; i++)
        ds[i].balance = 0;
    {
        store_rows *rows;
        store_param a[] = {P_INT(community)};
        if ((rc = store_query(tx,
                              "SELECT card_id, SUM(amount) FROM canteen_card_txns WHERE community_id = $1 GROUP BY card_id",
                              a, 1, &rows, e)))
            goto out;
        while (store_row(rows))
            for (int i = 0; i < nd; i++)
                if (ds[i].card == store_int(rows, 0))
                    ds[i].balance = store_int(rows, 1);
        if ((rc = store_rows_end(rows, e)))
            goto out;
    }
    for (size_t i = 0; i < ns && rc == 0; i++) {
        const canteen_import_sale *s = &sales[i];
        if (!s->card_id || s->paid == 0)
            continue;
        diner *d = NULL;
        for (int k = 0; k < nd && !d; k++)
            if (ds[k].card == s->card_id)
                d = &ds[k];
        if (!d)
            continue;
        d->balance -= s->paid;
        char receipt[40];
        snprintf(receipt, sizeof receipt, "P-%s", s->client_ref);
        store_param a[] = {P_INT(s->card_id), P_INT(community), P_INT(-s->paid), P_INT(d->balance), P_TEXT(receipt),
                           P_INT(sale_ids[i]), P_TEXT(s->item_name), P_ID(user), P_INT(s->at)};
        rc = store_exec(tx,
                        "INSERT INTO canteen_card_txns (card_id, community_id, kind, amount, balance_after, method, "
                        "receipt_no, sale_id, note, created_by, created_at) VALUES ($1, $2, 'sale', $3, $4, 'card', $5, "
                        "$6, $7, $8, $9)",
                        a, 9, NULL, e);
        card_txn_count++;
    }
    for (int i = 0; i < nd && rc == 0; i++) {
        store_param a[] = {P_INT(ds[i].balance), P_INT(ds[i].card)};
        rc = store_exec(tx, "UPDATE canteen_cards SET balance = $1 WHERE id = $2", a, 2, NULL, e);
    }
    if (rc == 0) {
        store_param a[] = {P_INT(community)};
        rc = store_exec(tx,
                        "UPDATE canteen_menu_items SET sold = (SELECT COUNT(*) FROM canteen_sales s WHERE "
                        "s.menu_item_id = canteen_menu_items.id) WHERE community_id = $1",
                        a, 1, NULL, e);
    }
    if (rc == 0)
        rc = deliveries(tx, community, user, ds, nd, today, now, e);
    if (rc == 0)
        rc = audit_write_new(tx, &who, "create", "canteen_demo", 0, community,
                             json_pack("{s:I, s:i}", "sales", (json_int_t)ns, "cards", nd), e);
    if (rc == 0) {
        rc = store_commit(tx, e);
        tx = NULL;
    }
    if (rc == 0) {
        json_object_set_new(summary, "canteen_sales", json_integer((json_int_t)ns));
        json_object_set_new(summary, "canteen_cards", json_integer(nd));
        json_object_set_new(summary, "canteen_ms", json_integer(clock_mono_ms() - t0));
    }
out:
    store_rollback(tx);
    free(ds), free(sales), free(sale_ids), free(refs), free(days), free(menus);
    return rc;
}
