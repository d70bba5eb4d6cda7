/* canteen.h — the community canteen (幸福食堂): dishes, daily menus, price rules computed from the
 * diner's record, meal cards with a prepaid balance, the counter's idempotent sales with their hash
 * chain, orders with delivery lists, and the monthly subsidy claim.
 *
 * Amounts are integers in fen (分) everywhere; nothing here uses floating point for money.
 *
 * Who pays what is data: a price rule names a price class of menu items ("basic" 一元吃饱, "better"
 * 两元吃好), who it applies to (age band counted from today, any of some tags, care levels,
 * residence) and what the diner pays; the difference to the list price is the subsidy, booked to the
 * rule's funding source (street 街道补贴, charity 慈善捐助, canteen 食堂让利). A rule bound to one
 * resident is a staff override (reason and end date required) and wins over the others; otherwise
 * the cheapest matching rule applies. The tier follows the record by itself: it is computed at each
 * quote from the birth date, tags, care level and status, so it changes on the 80th birthday or when
 * a tag is added, and stops when the diner is recorded deceased or moved out (a card of such a diner
 * is refused at the counter). One subsidised meal per meal slot (day + meal) per diner unless the
 * rule says otherwise (per_slot); further meals are charged the list price.
 *
 * Sales are idempotent on the client's reference (client_ref): the same reference returns the same
 * sale, so a double tap, a retry after a lost answer and an offline queue synced twice record one
 * sale. Sales are never updated: a reversal is a new row with negated amounts, and every sale carries
 * the hash of the previous sale of its community (canteen_chain_verify finds an edited row).
 *
 * Rights (secure/perm.h): RIGHT_CANTEEN_OPERATE for menus, the counter, cards, top-ups, orders and
 * delivery lists; RIGHT_CANTEEN_ADMIN for dishes, price rules, reversals and reports. A resident or a
 * family member (RIGHT_SELF, self scope) reads menus, their own (their elder's) card, quote and sales,
 * tops the card up and orders. Scope is applied in SQL or with perm_covers: a row of another
 * community reads as "not found". Every function blocks on the store and is thread-safe; each runs its
 * own transaction. Inputs are JSON bodies as the API receives them, validated strictly (NX_EINVAL
 * naming the field; nothing is changed on any error). Outputs are new JSON references. */
#ifndef NX_MODULES_CANTEEN_H
#define NX_MODULES_CANTEEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/app.h"

struct dispatcher;

/* Events (notify/outbox.h), subject "canteen_order:<id>":
 *   CANTEEN_EV_DELIVERY_MISSED {"order_id", "resident_id", "grid_id", "day", "meal",
 *       "living_alone": true|false, "note": "…"|null}
 *     a delivery marked missed, for the notification service. For an elder living alone (tag
 *     living_alone or solitary) the same transaction raises a 遇事必访 task for the care worker
 *     (visits_raise_once, reason "meal_missed", source_key "canteen.missed:<order id>"): one task
 *     per missed order however often the miss is reported. */
#define CANTEEN_EV_DELIVERY_MISSED "canteen.delivery.missed"
/* {"card_id", "resident_id", "amount", "balance"}: a top-up, so that the elder or family hears of it. */
#define CANTEEN_EV_CARD_TOPPED_UP "canteen.card.topped_up"

typedef struct canteen_filter {
    int64_t community_id;   /* 0: every community in scope */
    int64_t resident_id;    /* 0: any */
    const char *day;        /* "YYYY-MM-DD" or NULL */
    const char *meal;       /* breakfast|lunch|dinner or NULL */
    const char *from, *to;  /* day range, inclusive; NULL: open */
    const char *q;          /* name, pinyin or initials contains */
    const char *status;
    bool delivery;          /* orders: only deliveries */
    const char *cursor;
    int limit;
} canteen_filter;

/* ---- dishes and menus (canteen_menus.c) ---- */

/* {community_id?, name, category?, price, half_price?, nutrition?, allergens?, soft?, low_salt?,
 * diabetic?} — CANTEEN_ADMIN. NX_ECONFLICT for a name already used in the community. */
int canteen_dish_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int canteen_dish_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* PATCH a dish: any of {name, category, price, half_price (null: no half portion), nutrition,
 * allergens (null: cleared), soft, low_salt, diabetic, active} — CANTEEN_ADMIN, a dish of a community
 * in scope (NX_ENOTFOUND otherwise). A half price above the (new) price is NX_EINVAL ("half_price",
 * or "price" when the price is what moved); a name used by another dish of the community is
 * NX_ECONFLICT ("name"). Nothing is changed on any error. Menus already written keep their own item
 * names and prices. Audited ("update", "canteen_dish", detail {fields: [the keys changed]}). */
int canteen_dish_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Page of dishes (q: name contains). CANTEEN_OPERATE or SELF. */
int canteen_dish_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);

/* {community_id?, day, meal, published?, items: [{dish_id? | name, kind?: dish|set, price_class?:
 * basic|better|"", price?, portions?, sold_out?}]} — CANTEEN_OPERATE. Creates or replaces the menu of
 * (community, day, meal); a day before today is NX_EINVAL ("day"); items already sold or ordered keep
 * their rows (NX_ECONFLICT naming "items" when such an item would be dropped). */
int canteen_menu_put(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int canteen_menu_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Menus with their items, by day (or from..to, at most 31 days) and meal. OPERATE or SELF (published only). */
int canteen_menu_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);
/* {sold_out: bool} on one menu item — OPERATE. */
int canteen_item_update(nx_app *app, const nx_principal *who, int64_t item_id, json_t *in, nx_err *e);

/* ---- price rules and quotes (canteen_pricing.c) ---- */

/* {items: [...]} the live rules of a community (community_id filter for wider scopes). OPERATE. */
int canteen_rules_get(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
/* {community_id?, rules: [{name, price_class, pay, funding, min_age?, max_age?, tags?: [codes],
 * care_levels?: [..], residence?: [..], resident_id?, reason?, per_slot?, valid_from?, valid_to?}]}
 * — CANTEEN_ADMIN. Replaces the community's live set (the old rules are retired, not deleted).
 * Overlapping rules (same class and audience, validity intersecting) are NX_EINVAL naming
 * "rules[i].valid_from"; an override (resident_id) needs reason and valid_to. */
int canteen_rules_put(nx_app *app, const nx_principal *who, json_t *in, nx_err *e);
/* What resident_id pays for menu_item_id now: {resident_id, menu_item_id, list_price, pay, subsidy,
 * funding, funding_label, rule_id, rule_name, reason, age, subsidised_today}. resident_id 0: a guest
 * at the list price. OPERATE, or SELF for one's own resident. */
int canteen_quote(nx_app *app, const nx_principal *who, int64_t resident_id, int64_t menu_item_id, json_t **out,
                  nx_err *e);

/* ---- cards (canteen_cards.c) ---- */

/* {resident_id} — OPERATE: a new card (random QR code, number), balance 0. NX_ECONFLICT when the
 * diner has an active card; NX_EINVAL ("resident_id") for a deceased or moved-out diner. */
int canteen_card_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int canteen_card_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Page of cards (q: holder's name/pinyin/initials; resident_id). OPERATE, or SELF (own). */
int canteen_card_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);
/* The active card whose QR code is code — OPERATE. NX_ENOTFOUND ("code") when unknown or replaced. */
int canteen_card_by_code(nx_app *app, const nx_principal *who, const char *code, json_t **out, nx_err *e);
/* {amount > 0, method: cash|wechat|alipay, note?} — OPERATE, or SELF for their elder's card (a
 * family top-up). kind "refund" takes money out: {amount, method, note} with amount ≤ balance.
 * *txn_id receives the card transaction (its receipt_no is the receipt). */
int canteen_card_topup(nx_app *app, const nx_principal *who, int64_t card_id, json_t *in, bool refund,
                       int64_t *txn_id, nx_err *e);
/* A lost card: a new card with the balance carried over; the old code stops working. *new_id. */
int canteen_card_replace(nx_app *app, const nx_principal *who, int64_t card_id, json_t *in, int64_t *new_id,
                         nx_err *e);
/* The card's transactions, newest first (page). */
int canteen_card_txns(nx_app *app, const nx_principal *who, int64_t card_id, const canteen_filter *f,
                      json_t **out, nx_err *e);
/* A one-page PDF of the card (holder's name, number, QR code) into *pdf (malloc'd). OPERATE or SELF. */
int canteen_card_pdf(nx_app *app, const nx_principal *who, int64_t card_id, unsigned char **pdf, size_t *len,
                     nx_err *e);
/* The card's QR code as an SVG document (*svg malloc'd, NUL-terminated), for the resident pages.
 * OPERATE or SELF; NX_ECONFLICT for a card no longer active. */
int canteen_card_qr_svg(nx_app *app, const nx_principal *who, int64_t card_id, char **svg, nx_err *e);
/* Diners for the counter: residents in scope by name/pinyin/initials (q, at least 1 character)
 * with their active card and balance, at most 20. OPERATE. */
int canteen_diner_search(nx_app *app, const nx_principal *who, const char *q, json_t **out, nx_err *e);

/* ---- sales (canteen_sales.c) ---- */

/* {client_ref (8..64 of [A-Za-z0-9_.:-]), menu_item_id, card_id? | card_code? | resident_id?,
 * method?: card|cash|wechat|alipay (card when a card is given), quantity? (1)} — OPERATE.
 * Idempotent: when client_ref is known, *id is that sale and *created false (nothing else checked).
 * Refused with nothing changed: unknown card (404 "card_id"), a card not active or of a deceased or
 * moved-out diner (NX_EINVAL "card_id"), the balance short of the price (NX_EINVAL "card_id"), an
 * item sold out (NX_ECONFLICT "menu_item_id"). */
int canteen_sale_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, bool *created, nx_err *e);
int canteen_sale_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Page of sales, newest first (day/from/to, meal, resident_id). OPERATE, or SELF (own). */
int canteen_sale_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);
/* {reason} — CANTEEN_ADMIN: a new sale row with the amounts negated, the card refunded. NX_ECONFLICT
 * when already reversed or when id is itself a reversal. *rev_id receives the reversing row. */
int canteen_sale_reverse(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *rev_id, nx_err *e);
/* Recompute the hash chain of a community: {ok, checked, broken_seq|null, broken_sale_id|null}.
 * CANTEEN_ADMIN. */
int canteen_chain_verify(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);

/* ---- orders and delivery (canteen_orders.c) ---- */

/* {resident_id? (self: own), menu_item_id, quantity? (1..5), delivery?, note?} — OPERATE, or SELF for
 * oneself / one's elder. Cut-off: breakfast the day before at 20:00, lunch 10:00, dinner 15:00
 * (Shanghai); later is NX_EINVAL ("menu_item_id"). */
int canteen_order_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int canteen_order_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Page of orders, newest first (date/from/to, meal, status, resident_id, delivery, q: the diner's name,
 * pinyin or initials). OPERATE, VOLUNTEER_DUTY (a courier: the orders of their rounds) or SELF. */
int canteen_order_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);
/* {status: cancelled} by the diner (before the cut-off) or OPERATE; {status: delivered|missed, note?}
 * by OPERATE or VOLUNTEER_DUTY for a delivery order. NX_ECONFLICT when the order is no longer
 * "ordered"; a courier's order outside their rounds is NX_ENOTFOUND. A missed delivery emits
 * CANTEEN_EV_DELIVERY_MISSED. */
int canteen_order_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {stars: 1..5, comment?} — the diner (SELF, or their family account) rates a meal they had, once per
 * order: a delivery marked delivered, or a counter order whose item was sold to them (not reversed).
 * NX_ECONFLICT ("stars") when rated already, NX_EINVAL ("stars") before the meal was had, NX_ENOTFOUND
 * for another's order. The menus show each item's rating_avg (one decimal) and rating_count, by the
 * item's name in its community. The orders list carries rating (stars or null) and can_rate. */
int canteen_order_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The delivery list of a day (default today) and meal: {day, grids: [{grid_id, grid_name, stops:
 * [{order_id, route, resident_id, resident_name, place, item_name, quantity, status, meal, note,
 * delivered_at}]}]}, each grid in route order (estate, building, unit, room). OPERATE, or
 * VOLUNTEER_DUTY for a courier's own rounds (names masked). */
int canteen_delivery_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);

/* Delivery rounds (送餐路线): the round of a grid (grid_id null: the community's stops without a grid)
 * given to a volunteer's or grid worker's account of the community. A courier (VOLUNTEER_DUTY without
 * CANTEEN_OPERATE) sees and marks only the stops of their rounds (a grid worker also their own
 * grid's); their delivery list shows names masked. The list: every round in scope for the canteen,
 * one's own for a courier ({items: [{id, community_id, grid_id, grid_name, user_id, user_name,
 * username, created_at}]}). Create {community_id?, grid_id?, user_id} — OPERATE; NX_EINVAL "grid_id"
 * for a grid of another community, "user_id" for an account that is not a volunteer or grid worker
 * of the community; NX_ECONFLICT "user_id" when given already. Create and delete are audited. */
int canteen_round_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e);
int canteen_round_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int canteen_round_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int canteen_round_delete(nx_app *app, const nx_principal *who, int64_t id, nx_err *e);

/* A sale priced by the caller, for canteen_sales_import. Strings are borrowed for the call. */
typedef struct canteen_import_sale {
    const char *client_ref, *item_name, *day, *meal, *funding, *rule_name, *method;
    int64_t resident_id, card_id, menu_item_id, rule_id; /* 0: none */
    int64_t list_price, paid, subsidy;                  /* fen */
    int64_t at;                                         /* epoch ms */
} canteen_import_sale;

/* Append n past sales of one community to the end of its hash chain on tx (a write transaction),
 * with the prices the caller worked out: the demo's three months and the import of paper records.
 * The chain head is read once and written once. Card balances, card transactions and menu counts are
 * the caller's. ids (may be NULL) receives the n new ids. 0, or the store's error (NX_ECONFLICT for a
 * client_ref already used). */
int canteen_sales_import(store_tx *tx, const nx_principal *who, int64_t community, const canteen_import_sale *s,
                         size_t n, int64_t *ids, nx_err *e);

/* ---- reports (canteen_reports.c) ---- */

/* The month's subsidy claim ("YYYY-MM"): {month, meals, list_total, paid_total, subsidy_total,
 * by_funding: {street: …}, by_rule: [{rule_name, meals, subsidy}], by_day: [{day, meals, subsidy}],
 * rows: N}. Totals are sums over every sale row of the month (reversals included, so a reversed sale
 * nets to zero). CANTEEN_ADMIN. */
int canteen_subsidy_report(nx_app *app, const nx_principal *who, const char *month, int64_t community_id,
                           json_t **out, nx_err *e);
/* The same as an Excel file at path: one row per diner-meal (reversed pairs left out), then a total
 * row. *rows receives the data rows. */
int canteen_subsidy_xlsx(nx_app *app, const nx_principal *who, const char *month, int64_t community_id,
                         const char *path, int64_t *rows, nx_err *e);
/* The day's takings by payment method, and meals by class: {day, by_method: [{method, sales, paid}],
 * meals, subsidy, card_topups}. CANTEEN_OPERATE. */
int canteen_daily_report(nx_app *app, const nx_principal *who, const char *day, int64_t community_id, json_t **out,
                         nx_err *e);
/* For the dashboard: {meals_today, subsidy_month, cards, orders_today}. OPERATE (zeros object
 * otherwise is NX_EPERM). */
int canteen_stats(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);

/* ---- HTTP (canteen_http.c) ---- */
int canteen_routes(http_server *srv, nx_app *app);

#endif
