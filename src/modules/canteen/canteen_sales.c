/* canteen_sales.c — the counter's sales (收银), their reversal and the hash-chained sales log.
 *
 * A sale is recorded once per client reference (client_ref, made by the counter page before it
 * sends): the write transaction first looks the reference up and, when it is known, answers that
 * sale and changes nothing, so a double tap, a retry after a lost answer or an offline queue synced
 * twice records one sale. Two requests with the same new reference racing on PostgreSQL both try to
 * insert; the unique index lets one win, and the loser reads the winner's sale.
 *
 * The price is the quote (canteen_pricing.c) computed in the same transaction on the day of the meal,
 * so the age band, tags and status are those of the record at that moment, and the one-subsidy-per-
 * slot count sees the sales committed before. A card sale takes the paid amount from the card in the
 * same transaction (refused when short). Sales are never updated: a reversal is a new row with the
 * amounts negated, pointing at the original (reverses_id, unique), and the money goes back to the
 * diner's active card.
 *
 * The log is a hash chain per community: canteen_chain holds the last sequence number and hash; a
 * sale takes the next number under the row lock of that head (the UPDATE … RETURNING serialises the
 * writers of one community on PostgreSQL; SQLite has one writer anyway), and its hash is BLAKE2b-256
 * over its fields and the previous hash. Editing any stored field of any row breaks the recomputed
 * chain at that row (canteen_chain_verify). */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/page.h"

#define SALE_BACK_DAYS 7 /* an offline queue may sync a meal of the last week, not older */

static const char *const pay_methods[] = {"card", "cash", "wechat", "alipay", NULL};

typedef struct sale_rec {
    int64_t community_id, seq, resident_id, card_id, item_id, list_price, paid, subsidy, rule_id, reverses_id, at;
    const char *client_ref, *day, *meal, *funding, *method;
} sale_rec;

/* The hash of a sale: hex BLAKE2b-256 over its fields, '|'-separated, and the previous hash. */
static void sale_hash(const sale_rec *s, const char *prev, char out[2 * NX_TOKEN_HASH_BYTES + 1])
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%lld|%lld|%s|%lld|%lld|%lld|%s|%s|%lld|%lld|%lld|%s|%lld|%s|%lld|%lld|%s",
             (long long)s->seq, (long long)s->community_id, s->client_ref, (long long)s->resident_id,
             (long long)s->card_id, (long long)s->item_id, s->day, s->meal, (long long)s->list_price,
             (long long)s->paid, (long long)s->subsidy, s->funding ? s->funding : "", (long long)s->rule_id,
             s->method, (long long)s->reverses_id, (long long)s->at, prev);
    unsigned char h[NX_TOKEN_HASH_BYTES];
    token_hash(buf, h);
    str_hex(out, h, sizeof h);
}

/* Take n numbers of community's chain (its row made on first use): *seq gets the last number taken
 * (the first is *seq - n + 1) and prev the hash the first of them chains to. */
static int chain_take(store_tx *tx, int64_t community, int64_t n, int64_t *seq, char prev[2 * NX_TOKEN_HASH_BYTES + 1],
                      nx_err *e)
{
    store_param c[] = {P_INT(community), P_INT(n)};
    int rc = store_exec(tx,
                        "INSERT INTO canteen_chain (community_id, seq, last_hash) VALUES ($1, 0, '') "
                        "ON CONFLICT (community_id) DO NOTHING",
                        c, 1, NULL, e);
    if (rc)
        return rc;
    store_rows *r;
    if ((rc = store_query(tx, "UPDATE canteen_chain SET seq = seq + $2 WHERE community_id = $1 RETURNING seq, last_hash",
                          c, 2, &r, e)))
        return rc;
    prev[0] = '\0';
    if ((rc = store_first(r, "销售链不存在", e)) == 0) {
        *seq = store_int(r, 0);
        str_copy(prev, store_text(r, 1) ? store_text(r, 1) : "", 2 * NX_TOKEN_HASH_BYTES + 1);
    }
    int end = store_rows_end(r, e);
    return rc ? rc : end;
}

/* Insert s, chained to prev, as the row of its seq; *hash gets its hash (the next row's prev). */
static int sale_insert(store_tx *tx, const nx_principal *who, const sale_rec *s, const char *item_name,
                       const char *rule_name, const char *reason, const char *prev,
                       char hash[2 * NX_TOKEN_HASH_BYTES + 1], int64_t *id, nx_err *e)
{
    sale_hash(s, prev, hash);
    store_param a[] = {P_INT(s->community_id), P_INT(s->seq), P_TEXT(s->client_ref), P_ID(s->resident_id),
                       P_ID(s->card_id), P_INT(s->item_id), P_TEXT(item_name), P_TEXT(s->day), P_TEXT(s->meal),
                       P_INT(s->list_price), P_INT(s->paid), P_INT(s->subsidy), P_TEXT(s->funding), P_ID(s->rule_id),
                       P_TEXT(rule_name), P_TEXT(s->method), P_ID(s->reverses_id), P_TEXT(reason),
                       P_ID(who->user_id), P_INT(s->at), P_TEXT(prev), P_TEXT(hash)};
    return app_insert(tx, "canteen_sales",
                      "community_id, seq, client_ref, resident_id, card_id, menu_item_id, item_name, day, "
                      "meal, list_price, paid, subsidy, funding, rule_id, rule_name, method, reverses_id, "
                      "reason, created_by, at, prev_hash, hash",
                      a, 22, id, e);
}

/* The chain's last hash after the rows just inserted. */
static int chain_close(store_tx *tx, int64_t community, const char *hash, nx_err *e)
{
    store_param h[] = {P_TEXT(hash), P_INT(community)};
    return store_exec(tx, "UPDATE canteen_chain SET last_hash = $1 WHERE community_id = $2", h, 2, NULL, e);
}

/* Append s to its community's chain: take the next seq and the previous hash, insert the row. */
static int sale_append(store_tx *tx, const nx_principal *who, sale_rec *s, const char *item_name, const char *rule_name,
                       const char *reason, int64_t *id, nx_err *e)
{
    char prev[2 * NX_TOKEN_HASH_BYTES + 1], hash[2 * NX_TOKEN_HASH_BYTES + 1];
    int rc;
    if ((rc = chain_take(tx, s->community_id, 1, &s->seq, prev, e)) ||
        (rc = sale_insert(tx, who, s, item_name, rule_name, reason, prev, hash, id, e)))
        return rc;
    return chain_close(tx, s->community_id, hash, e);
}

int canteen_sales_import(store_tx *tx, const nx_principal *who, int64_t community, const canteen_import_sale *s,
                         size_t n, int64_t *ids, nx_err *e)
{
    char prev[2 * NX_TOKEN_HASH_BYTES + 1], hash[2 * NX_TOKEN_HASH_BYTES + 1];
    int64_t seq = 0;
    int rc = chain_take(tx, community, (int64_t)n, &seq, prev, e);
    if (rc)
        return rc;
    seq -= (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        const canteen_import_sale *x = &s[i];
        sale_rec rec = {.community_id = community, .seq = ++seq, .resident_id = x->resident_id, .card_id = x->card_id,
                        .item_id = x->menu_item_id, .list_price = x->list_price, .paid = x->paid,
                        .subsidy = x->subsidy, .rule_id = x->rule_id, .at = x->at, .client_ref = x->client_ref,
                        .day = x->day, .meal = x->meal, .funding = x->funding, .method = x->method};
        int64_t id = 0;
        if ((rc = sale_insert(tx, who, &rec, x->item_name, x->rule_name, NULL, prev, hash, &id, e)))
            return rc;
        if (ids)
            ids[i] = id;
        str_copy(prev, hash, sizeof prev);
    }
    return chain_close(tx, community, prev, e);
}

static bool ref_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 8 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-' || *s == '.' || *s == ':'))
            return false;
    return true;
}

/* The sale recorded under ref, if any: 0 with *id, NX_ENOTFOUND, or the read's error. */
static int sale_by_ref(store_tx *tx, const char *ref, int64_t *id, nx_err *e)
{
    store_param a[] = {P_TEXT(ref)};
    return store_one_int(tx, "SELECT id FROM canteen_sales WHERE client_ref = $1", a, 1, id, e);
}

/* The card by id or QR code, its holder and state. */
static int sale_card(store_tx *tx, const nx_principal *who, int64_t card_id, const char *code, int64_t *id,
                     int64_t *resident, int64_t *community, nx_err *e)
{
    store_param a[] = {card_id ? P_INT(card_id) : P_TEXT(code)};
    store_rows *r;
    int rc = store_query(tx,
                         card_id ? "SELECT c.id, c.resident_id, c.community_id, c.status, r.status FROM canteen_cards c "
                                   "JOIN residents r ON r.id = c.resident_id WHERE c.id = $1"
                                 : "SELECT c.id, c.resident_id, c.community_id, c.status, r.status FROM canteen_cards c "
                                   "JOIN residents r ON r.id = c.resident_id WHERE c.code = $1",
                         a, 1, &r, e);
    if (rc)
        return rc;
    char cstatus[16] = "", rstatus[16] = "";
    if ((rc = store_first(r, "饭卡不存在", e)) == 0) {
        *id = store_int(r, 0);
        *resident = store_int(r, 1);
        *community = store_int(r, 2);
        str_copy(cstatus, store_text(r, 3) ? store_text(r, 3) : "", sizeof cstatus);
        str_copy(rstatus, store_text(r, 4) ? store_text(r, 4) : "", sizeof rstatus);
    }
    int end = store_rows_end(r, e);
    const char *field = card_id ? "card_id" : "card_code";
    if (rc == NX_ENOTFOUND || (rc == 0 && !perm_covers(who, tx, *community, 0) &&
                               !(who->scope == SCOPE_GRID && who->community_id == *community)))
        return nx_fail(e, NX_ENOTFOUND, field, "饭卡不存在");
    if (rc || end)
        return rc ? rc : end;
    if (strcmp(rstatus, "deceased") == 0)
        return nx_fail(e, NX_EINVAL, field, "持卡人已登记去世，此卡停用");
    if (strcmp(rstatus, "active") != 0)
        return nx_fail(e, NX_EINVAL, field, "持卡人已迁出，此卡停用");
    if (strcmp(cstatus, "active") != 0)
        return nx_fail(e, NX_EINVAL, field, "此卡已挂失或停用");
    return 0;
}

static int sale_once(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, bool *created, nx_err *e)
{
    const char *ref = NULL, *code = NULL, *method = NULL;
    int64_t item_id = 0, card_id = 0, resident = 0;
    int rc;
    if ((rc = json_read_str(in, "client_ref", true, 64, &ref, e)))
        return rc;
    if (!ref_ok(ref))
        return nx_fail(e, NX_EINVAL, "client_ref", "client_ref 应为 8 到 64 个字母、数字或 _-.:");
    if ((rc = json_get_int(in, "menu_item_id", true, 1, INT64_MAX, &item_id, e)) < 0 ||
        (rc = json_get_int(in, "card_id", false, 1, INT64_MAX, &card_id, e)) < 0 ||
        (rc = json_read_str(in, "card_code", false, 64, &code, e)) ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_read_str(in, "method", false, 10, &method, e)))
        return rc;
    if ((card_id != 0) + (code != NULL) + (resident != 0) > 1)
        return nx_fail(e, NX_EINVAL, "card_id", "card_id、card_code、resident_id 只能给一个");
    if (method && !cn_in_list(pay_methods, method))
        return nx_fail(e, NX_EINVAL, "method", "支付方式应为 card、cash、wechat 或 alipay");
    bool by_card = card_id || code;
    if (!method)
        method = by_card ? "card" : "cash";
    if (strcmp(method, "card") == 0 && !by_card)
        return nx_fail(e, NX_EINVAL, "method", "饭卡支付须给出 card_id 或 card_code");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    if ((rc = sale_by_ref(tx, ref, id, e)) != NX_ENOTFOUND) {
        *created = false;
        if (rc == 0) {
            /* Idempotent: the same reference is the same sale, whatever the body says now. */
            store_rollback(tx);
            return 0;
        }
        goto fail;
    }
    int64_t community = 0;
    if (by_card && (rc = sale_card(tx, who, card_id, code, &card_id, &resident, &community, e)))
        goto fail;
    cn_item it;
    if ((rc = cn_item_load(tx, item_id, &it, e)))
        goto fail;
    if ((by_card && it.community_id != community) ||
        (!perm_covers(who, tx, it.community_id, 0) && !(who->scope == SCOPE_GRID && who->community_id == it.community_id))) {
        rc = nx_fail(e, NX_ENOTFOUND, "menu_item_id", "菜单项不存在");
        goto fail;
    }
    nx_date day, today = date_today();
    date_parse(it.day, &day);
    if (date_to_days(day) > date_to_days(today) || date_to_days(day) < date_to_days(today) - SALE_BACK_DAYS) {
        rc = nx_fail(e, NX_EINVAL, "menu_item_id", "只能售出今天及最近 %d 天的餐", SALE_BACK_DAYS);
        goto fail;
    }
    if (it.sold_out || (it.portions >= 0 && it.sold >= it.portions)) {
        rc = nx_fail(e, NX_ECONFLICT, "menu_item_id", "%s 已售罄", it.name);
        goto fail;
    }
    cn_diner d;
    if (resident) {
        if ((rc = cn_diner_load(tx, resident, &d, e)))
            goto fail;
        if (!by_card && strcmp(d.status, "active") != 0) {
            rc = nx_fail(e, NX_EINVAL, "resident_id", "该居民已登记去世或迁出");
            goto fail;
        }
    }
    cn_quote q;
    if ((rc = cn_quote_tx(tx, resident ? &d : NULL, &it, day, &q, e)))
        goto fail;
    sale_rec s = {.community_id = it.community_id, .resident_id = resident, .card_id = card_id, .item_id = it.id,
                  .list_price = q.list_price, .paid = q.pay, .subsidy = q.subsidy, .rule_id = q.rule_id,
                  .at = clock_now_ms(), .client_ref = ref, .day = it.day, .meal = it.meal,
                  .funding = q.funding[0] ? q.funding : NULL, .method = method};
    if ((rc = sale_append(tx, who, &s, it.name, q.rule_id ? q.rule_name : NULL, NULL, id, e)))
        goto fail;
    if (strcmp(method, "card") == 0 && q.pay > 0) {
        rc = cn_card_move(tx, who, card_id, it.community_id, "sale", -q.pay, "card", *id, it.name, NULL, NULL, e);
        if (rc == NX_EINVAL)
            nx_fail(e, NX_EINVAL, code && !json_object_get(in, "card_id") ? "card_code" : "card_id",
                    "饭卡余额不足（需 %lld 分）", (long long)q.pay);
        if (rc)
            goto fail;
    }
    store_param u[] = {P_INT(it.id)};
    if ((rc = store_exec(tx, "UPDATE canteen_menu_items SET sold = sold + 1 WHERE id = $1", u, 1, NULL, e)))
        goto fail;
    *created = true;
fail:
    return store_finish(tx, rc, e);
}

int canteen_sale_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, bool *created, nx_err *e)
{
    static const char *const allowed[] = {"client_ref", "menu_item_id", "card_id", "card_code", "resident_id",
                                          "method", NULL};
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权收银");
    int rc = json_only(in, allowed, e);
    if (rc)
        return rc;
    rc = sale_once(app, who, in, id, created, e);
    if (rc == NX_ECONFLICT && strcmp(e->field, "menu_item_id") != 0) {
        /* Another request inserted the same client_ref first: answer its sale. */
        nx_err_clear(e);
        store_tx *tx;
        if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
            return rc;
        const char *ref = json_string_value(json_object_get(in, "client_ref"));
        rc = sale_by_ref(tx, ref, id, e);
        store_rollback(tx);
        if (rc == NX_ENOTFOUND)
            rc = nx_fail(e, NX_ECONFLICT, "client_ref", "销售记录冲突，请重试");
        *created = false;
    }
    return rc;
}

#define SALE_COLS                                                                                            \
    "s.id, s.community_id, s.seq, s.client_ref, s.resident_id, r.name, s.card_id, s.menu_item_id, s.item_name, " \
    "s.day, s.meal, s.list_price, s.paid, s.subsidy, s.funding, s.rule_id, s.rule_name, s.method, s.reverses_id, " \
    "s.reason, s.at, s.hash, (SELECT x.id FROM canteen_sales x WHERE x.reverses_id = s.id)"
#define SALE_FROM " FROM canteen_sales s LEFT JOIN residents r ON r.id = s.resident_id WHERE 1 = 1"

static json_t *sale_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i seq:i client_ref:t resident_id:i resident_name:t card_id:i "
                                  "menu_item_id:i item_name:t day:t meal:t list_price:i paid:i subsidy:i funding:t "
                                  "rule_id:i rule_name:t method:t reverses_id:i reason:t at:d hash:t reversed_by:i");
    if (!o)
        return NULL;
    const char *f = store_text(r, 14), *m = store_text(r, 17), *meal = store_text(r, 10);
    json_object_set_new(o, "funding_label", cn_funding_label(f) ? json_string(cn_funding_label(f)) : json_null());
    json_object_set_new(o, "method_label", json_string(cn_method_label(m) ? cn_method_label(m) : ""));
    json_object_set_new(o, "meal_label", json_string(cn_meal_label(meal) ? cn_meal_label(meal) : ""));
    return o;
}

int canteen_sale_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看销售记录");
    return cn_get(app, who, "SELECT " SALE_COLS SALE_FROM, "s.", id, NULL, sale_row, "销售记录不存在", out, e);
}

static void sale_where(sqlq *q, const char *head, const nx_principal *who, const canteen_filter *f)
{
    sqlq_init(q, head);
    cn_scope_q(who, "s.", "resident_id", q);
    sqlq_eq_int(q, "s.community_id", f->community_id);
    sqlq_eq_int(q, "s.resident_id", f->resident_id);
    sqlq_eq_text(q, "s.day", f->day);
    sqlq_range_text(q, "s.day", f->from, f->to);
    sqlq_eq_text(q, "s.meal", f->meal);
}

int canteen_sale_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看销售记录");
    return cn_list(app, who, f, sale_where, "SELECT " SALE_COLS SALE_FROM, "SELECT COUNT(*)" SALE_FROM, "s.", false, sale_row,
                   out, e);
}

int canteen_sale_reverse(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *rev_id, nx_err *e)
{
    static const char *const allowed[] = {"reason", NULL};
    if (!perm_has(who, RIGHT_CANTEEN_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权冲正");
    const char *reason = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "reason", true, 200, &reason, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_param a[] = {P_INT(id)};
    store_rows *r;
    sale_rec s = {0};
    char item[128] = "", day[11] = "", meal[12] = "", funding[16] = "", rule_name[128] = "", method[10] = "";
    bool is_reversal = false, reversed = false;
    if ((rc = store_query_first(
             tx,
             "SELECT community_id, resident_id, card_id, menu_item_id, item_name, day, meal, list_price, "
             "paid, subsidy, funding, rule_id, rule_name, method, reverses_id, "
             "(SELECT COUNT(*) FROM canteen_sales x WHERE x.reverses_id = canteen_sales.id) "
             "FROM canteen_sales WHERE id = $1",
             a, 1, "销售记录不存在", &r, e)) == 0) {
        s.community_id = store_int(r, 0);
        s.resident_id = store_int(r, 1);
        s.card_id = store_int(r, 2);
        s.item_id = store_int(r, 3);
        str_copy(item, store_text(r, 4) ? store_text(r, 4) : "", sizeof item);
        str_copy(day, store_text(r, 5) ? store_text(r, 5) : "", sizeof day);
        str_copy(meal, store_text(r, 6) ? store_text(r, 6) : "", sizeof meal);
        s.list_price = -store_int(r, 7);
        s.paid = -store_int(r, 8);
        s.subsidy = -store_int(r, 9);
        str_copy(funding, store_text(r, 10) ? store_text(r, 10) : "", sizeof funding);
        s.rule_id = store_int(r, 11);
        str_copy(rule_name, store_text(r, 12) ? store_text(r, 12) : "", sizeof rule_name);
        str_copy(method, store_text(r, 13) ? store_text(r, 13) : "", sizeof method);
        is_reversal = !store_isnull(r, 14);
        reversed = store_int(r, 15) > 0;
    }
    int end = store_rows_end(r, e);
    if (rc || end) {
        rc = rc ? rc : end;
        goto fail;
    }
    if (!perm_covers(who, tx, s.community_id, 0) && !(who->scope == SCOPE_GRID && who->community_id == s.community_id)) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "销售记录不存在");
        goto fail;
    }
    if (is_reversal || reversed) {
        rc = nx_fail(e, NX_ECONFLICT, "", is_reversal ? "冲正记录不能再冲正" : "该笔销售已冲正");
        goto fail;
    }
    char ref[40];
    snprintf(ref, sizeof ref, "reverse:%lld", (long long)id);
    s.client_ref = ref;
    s.day = day;
    s.meal = meal;
    s.funding = funding[0] ? funding : NULL;
    s.method = method;
    s.reverses_id = id;
    s.at = clock_now_ms();
    if ((rc = sale_append(tx, who, &s, item, rule_name[0] ? rule_name : NULL, reason, rev_id, e)))
        goto fail;
    if (strcmp(method, "card") == 0 && s.paid < 0) {
        /* Back to the diner's active card (the sale's card, or the one that replaced it). */
        int64_t card = 0;
        store_param c[] = {P_INT(s.resident_id)};
        rc = store_one_int(tx, "SELECT id FROM canteen_cards WHERE resident_id = $1 AND status = 'active'", c, 1, &card, e);
        if (rc == NX_ENOTFOUND) {
            rc = nx_fail(e, NX_ECONFLICT, "", "持卡人没有在用的饭卡，无法退回卡内");
            goto fail;
        }
        if (rc || (rc = cn_card_move(tx, who, card, s.community_id, "reversal", -s.paid, "card", *rev_id, reason, NULL,
                                     NULL, e)))
            goto fail;
    }
    store_param u[] = {P_INT(s.item_id)};
    if ((rc = store_exec(tx, "UPDATE canteen_menu_items SET sold = sold - 1 WHERE id = $1 AND sold > 0", u, 1, NULL, e)) ||
        (rc = audit_write_new(tx, who, "reverse", "canteen_sale", id, s.community_id,
                              json_pack("{s:I}", "reversal_id", (json_int_t)*rev_id), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_chain_verify(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_CANTEEN_ADMIN, STORE_READ, "无权核验销售链", &tx, e);
    if (rc)
        return rc;
    if (!community_id)
        community_id = who->community_id;
    if (!community_id || (!perm_covers(who, tx, community_id, 0) && who->community_id != community_id)) {
        store_rollback(tx);
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区（community_id）");
    }
    store_param a[] = {P_INT(community_id)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT id, seq, community_id, client_ref, resident_id, card_id, menu_item_id, day, meal, "
                          "list_price, paid, subsidy, funding, rule_id, method, reverses_id, at, prev_hash, hash "
                          "FROM canteen_sales WHERE community_id = $1 ORDER BY seq",
                          a, 1, &r, e))) {
        store_rollback(tx);
        return rc;
    }
    char prev[2 * NX_TOKEN_HASH_BYTES + 1] = "", hash[2 * NX_TOKEN_HASH_BYTES + 1];
    int64_t checked = 0, broken_seq = 0, broken_id = 0, expect = 1;
    while (store_row(r)) {
        sale_rec s = {.seq = store_int(r, 1), .community_id = store_int(r, 2), .client_ref = store_text(r, 3),
                      .resident_id = store_int(r, 4), .card_id = store_int(r, 5), .item_id = store_int(r, 6),
                      .day = store_text(r, 7), .meal = store_text(r, 8), .list_price = store_int(r, 9),
                      .paid = store_int(r, 10), .subsidy = store_int(r, 11), .funding = store_text(r, 12),
                      .rule_id = store_int(r, 13), .method = store_text(r, 14), .reverses_id = store_int(r, 15),
                      .at = store_int(r, 16)};
        if (!s.client_ref)
            s.client_ref = "";
        if (!s.day)
            s.day = "";
        if (!s.meal)
            s.meal = "";
        if (!s.method)
            s.method = "";
        sale_hash(&s, prev, hash);
        const char *stored_prev = store_text(r, 17), *stored = store_text(r, 18);
        if (s.seq != expect || strcmp(stored_prev ? stored_prev : "", prev) != 0 ||
            strcmp(stored ? stored : "", hash) != 0) {
            broken_seq = s.seq;
            broken_id = store_int(r, 0);
            break;
        }
        str_copy(prev, hash, sizeof prev);
        checked++;
        expect++;
    }
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc)
        return rc;
    *out = json_pack("{s:b, s:I, s:o, s:o}", "ok", broken_seq == 0, "checked", (json_int_t)checked, "broken_seq",
                     broken_seq ? json_integer(broken_seq) : json_null(), "broken_sale_id",
                     broken_id ? json_integer(broken_id) : json_null());
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}
