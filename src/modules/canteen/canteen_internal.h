/* canteen_internal.h — what the canteen module's own .c files share (never included from outside
 * src/modules/canteen/): the diner's facts the price rules read, a menu item as the counter sees
 * it, the quote, and small helpers. */
#ifndef NX_MODULES_CANTEEN_INTERNAL_H
#define NX_MODULES_CANTEEN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "modules/canteen/canteen.h"
#include "store/query.h"
#include "store/store.h"

/* What the price rules read of a resident, at the instant of the quote. */
typedef struct cn_diner {
    int64_t id, community_id, grid_id;
    char name[64];
    nx_date birth;
    char status[16];      /* active, moved_out, deceased */
    char care_level[16];
    char residence[16];
    char tags[512];       /* ",code,code," */
} cn_diner;

typedef struct cn_item {
    int64_t id, menu_id, community_id;
    char name[128];
    char kind[8], price_class[8];
    char day[11], meal[12];
    int64_t price;
    int64_t portions;     /* -1: no limit */
    int64_t sold;
    bool sold_out, published;
} cn_item;

typedef struct cn_quote {
    int64_t list_price, pay, subsidy;
    int64_t rule_id;      /* 0: no rule */
    char rule_name[128];
    char funding[16];     /* "" when no subsidy */
    char reason[256];     /* why, in Chinese */
    int age;              /* -1 for a guest */
    int64_t used_slot;    /* subsidised meals already taken in this slot */
} cn_quote;

/* The community a write of who lands in: who's own community for community and grid scope (a
 * different community_id in the body is NX_ENOTFOUND), the body's community_id (required, in
 * scope) for wider scopes. */
int cn_write_community(store_tx *tx, const nx_principal *who, json_t *in, int64_t *community, nx_err *e);
/* perm_scope_q for the canteen's tables, which carry community_id but no grid_id: a grid scope
 * reads as its community. resident_col names the diner column for the self scope (NULL: nothing). */
void cn_scope_q(const nx_principal *who, const char *alias, const char *resident_col, sqlq *q);
/* Whether who is a resident or family member (self scope). */
bool cn_self(const nx_principal *who);
/* Whether who may act on resident_id as themselves (self scope bound to that resident). */
bool cn_self_for(const nx_principal *who, int64_t resident_id);

/* Adds " AND (the diner's name, pinyin or initials contain term, or with_card the card number c.number
 * does)" to q, for the lists' q filter; the residents table is "r". */
void cn_name_q(sqlq *q, const char *term, bool with_card);

/* One row of cols_from (… WHERE …) by id on alias ("s."), in who's scope (cn_scope_q, the diner in
 * resident_id), narrowed further by more (NULL: nothing), through row into *out; NX_ENOTFOUND with
 * missing, or store_get_read's errors. */
int cn_get(nx_app *app, const nx_principal *who, const char *cols_from, const char *alias, int64_t id,
           void (*more)(const nx_principal *who, sqlq *q), json_t *(*row)(store_rows *r), const char *missing,
           json_t **out, nx_err *e);
/* A canteen list paged by id: where(q, head, who, f) builds the rows' query (head: cols_from) and the
 * count's (head: count_from), then store_page_by_id on alias ("o.") with f's cursor and limit under
 * page_max, newest first (oldest_first: oldest first), row per item. NX_EINVAL naming "cursor", or
 * store_page's errors. */
typedef void (*cn_where_fn)(sqlq *q, const char *head, const nx_principal *who, const canteen_filter *f);
int cn_list(nx_app *app, const nx_principal *who, const canteen_filter *f, cn_where_fn where, const char *cols_from,
            const char *count_from, const char *alias, bool oldest_first, json_t *(*row)(store_rows *r), json_t **out,
            nx_err *e);

/* Run q on tx and read the first n integer columns of its one row into out (NULL reads as 0).
 * NX_ENOTFOUND with the message missing (field "") when there is no row, or the store's error. */
int cn_one_row(store_tx *tx, const sqlq *q, const char *missing, int64_t *out, int n, nx_err *e);

/* Load a resident's facts (no scope check). NX_ENOTFOUND ("resident_id") when absent. */
int cn_diner_load(store_tx *tx, int64_t resident_id, cn_diner *d, nx_err *e);
/* Load a menu item with its menu's day and meal. NX_ENOTFOUND ("menu_item_id"). */
int cn_item_load(store_tx *tx, int64_t item_id, cn_item *it, nx_err *e);
/* The price d (NULL: a guest) pays for it on today. Reads the community's live rules and the
 * diner's subsidised meals in the item's slot. */
int cn_quote_tx(store_tx *tx, const cn_diner *d, const cn_item *it, nx_date today, cn_quote *q, nx_err *e);
/* Move amount (signed fen) in or out of an active card with a transaction row of kind (topup,
 * refund, sale, reversal, transfer_in, transfer_out) and a fresh receipt number. A move that would
 * take the balance below zero, or a card not active, is NX_EINVAL naming "card_id", nothing moved. */
int cn_card_move(store_tx *tx, const nx_principal *who, int64_t card_id, int64_t community, const char *kind,
                 int64_t amount, const char *method, int64_t sale_id, const char *note, int64_t *txn_id,
                 int64_t *balance_after, nx_err *e);
/* The quote as JSON (new reference). */
json_t *cn_quote_json(const cn_quote *q, int64_t resident_id, int64_t item_id);

const char *cn_meal_label(const char *meal);       /* 早餐 … ; NULL for an unknown meal */
const char *cn_funding_label(const char *funding); /* 街道补贴 … ; NULL for unknown */
const char *cn_method_label(const char *method);   /* 饭卡 … ; NULL for unknown */
bool cn_in_list(const char *const *list, const char *s);
/* A receipt or card number: prefix, the day and a random part ("CZ20261206-8F3K2Q"). */
void cn_number(const char *prefix, char *out, size_t cap);
/* "YYYY-MM" → first and last day "YYYY-MM-DD". 0 or NX_EINVAL naming "month". */
int cn_month_range(const char *month, char first[11], char last[11], nx_err *e);

#endif
