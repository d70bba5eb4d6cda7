/* canteen_pricing.c — price rules as data, and the quote: what one diner pays for one menu item now.
 *
 * A community has one live set of rules, replaced as a whole by a PUT (the old rules are retired with
 * retired_at, never deleted, because sales name the rule that priced them). A rule applies to the
 * menu items of one price class and to the diners it describes: an age band (whole years on today),
 * any of a list of tag codes, any of a list of care levels, any of a list of residence kinds; a rule
 * bound to one resident is a staff override, with a reason and an end date, and wins over the
 * others. Among the rules that apply the cheapest wins (then the lowest id), so adding a tag can only
 * help a diner. A diner whose record is not active (deceased, moved out) gets no rule at all.
 *
 * The limit of subsidised meals per slot (per_slot, default 1) counts the diner's sales with a
 * subsidy in the item's day and meal, net of reversals; a rule whose limit is used up does not apply
 * and the next one (or the list price) does. The quote is computed inside the caller's transaction,
 * so the counter's sale books exactly the price it checked. Two rules are "overlapping" when they
 * name the same class and the same audience (bounds, tags, care levels, residence, resident) and
 * their validity intersects: the choice between them would be arbitrary, so the set is refused. */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "secure/audit.h"
#include "store/page.h"

#define RULES_MAX 100

static const char *const classes[] = {"basic", "better", NULL};
static const char *const fundings[] = {"street", "charity", "canteen", NULL};
static const char *const care_levels[] = {"none", "normal", "key", "frequent", NULL};
static const char *const residences[] = {"registered", "resident", "floating", NULL};

typedef struct rule {
    int64_t id, pay, resident_id;
    int min_age, max_age; /* -1: no bound */
    int per_slot;
    char name[128], cls[8], funding[16];
    char tags[512], care[128], residence[128]; /* comma-separated, sorted */
    char from[11], to[11];                     /* "" : open */
} rule;

/* Whether the comma-separated list is empty or has an item in the ",a,b," set. */
static bool list_hits(const char *list, const char *set_commas)
{
    if (!list[0])
        return true;
    char buf[512];
    str_copy(buf, list, sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char needle[80];
        snprintf(needle, sizeof needle, ",%s,", t);
        if (strstr(set_commas, needle))
            return true;
    }
    return false;
}

static bool rule_fits(const rule *r, const cn_diner *d, int age, const char *today)
{
    if (r->from[0] && strcmp(today, r->from) < 0)
        return false;
    if (r->to[0] && strcmp(today, r->to) > 0)
        return false;
    if (r->resident_id && r->resident_id != d->id)
        return false;
    if (r->min_age >= 0 && age < r->min_age)
        return false;
    if (r->max_age >= 0 && age > r->max_age)
        return false;
    char one[32];
    snprintf(one, sizeof one, ",%s,", d->care_level);
    if (!list_hits(r->care, one))
        return false;
    snprintf(one, sizeof one, ",%s,", d->residence);
    if (!list_hits(r->residence, one))
        return false;
    return list_hits(r->tags, d->tags);
}

static void rule_read(store_rows *r, rule *x)
{
    memset(x, 0, sizeof *x);
    x->id = store_int(r, 0);
    str_copy(x->name, store_text(r, 1) ? store_text(r, 1) : "", sizeof x->name);
    str_copy(x->cls, store_text(r, 2) ? store_text(r, 2) : "", sizeof x->cls);
    x->pay = store_int(r, 3);
    str_copy(x->funding, store_text(r, 4) ? store_text(r, 4) : "", sizeof x->funding);
    x->min_age = store_isnull(r, 5) ? -1 : (int)store_int(r, 5);
    x->max_age = store_isnull(r, 6) ? -1 : (int)store_int(r, 6);
    str_copy(x->tags, store_text(r, 7) ? store_text(r, 7) : "", sizeof x->tags);
    str_copy(x->care, store_text(r, 8) ? store_text(r, 8) : "", sizeof x->care);
    str_copy(x->residence, store_text(r, 9) ? store_text(r, 9) : "", sizeof x->residence);
    x->resident_id = store_int(r, 10);
    x->per_slot = (int)store_int(r, 11);
    str_copy(x->from, store_text(r, 12) ? store_text(r, 12) : "", sizeof x->from);
    str_copy(x->to, store_text(r, 13) ? store_text(r, 13) : "", sizeof x->to);
}

#define RULE_COLS                                                                                            \
    "id, name, price_class, pay, funding, min_age, max_age, tags, care_levels, residence, resident_id, "     \
    "per_slot, valid_from, valid_to"

int cn_quote_tx(store_tx *tx, const cn_diner *d, const cn_item *it, nx_date today, cn_quote *q, nx_err *e)
{
    memset(q, 0, sizeof *q);
    q->list_price = q->pay = it->price;
    q->age = -1;
    if (!d) {
        str_copy(q->reason, "散客，按标价", sizeof q->reason);
        return 0;
    }
    q->age = date_age(d->birth, today);
    if (strcmp(d->status, "active") != 0) {
        snprintf(q->reason, sizeof q->reason, "%s，不享受补贴",
                 strcmp(d->status, "deceased") == 0 ? "已登记去世" : "已迁出本社区");
        return 0;
    }
    if (!it->price_class[0] || d->community_id != it->community_id) {
        str_copy(q->reason, it->price_class[0] ? "非本社区居民，按标价" : "单点菜品，按标价", sizeof q->reason);
        return 0;
    }
    /* Subsidised meals already taken in this slot, net of reversals. */
    store_param s[] = {P_INT(d->id), P_TEXT(it->day), P_TEXT(it->meal)};
    int rc = store_one_int(tx,
                           "SELECT COALESCE(SUM(CASE WHEN reverses_id IS NULL THEN 1 ELSE -1 END), 0) "
                           "FROM canteen_sales WHERE resident_id = $1 AND day = $2 AND meal = $3 AND subsidy <> 0",
                           s, 3, &q->used_slot, e);
    if (rc)
        return rc;
    char day[11];
    date_format(today, day);
    store_param a[] = {P_INT(it->community_id), P_TEXT(it->price_class)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT " RULE_COLS " FROM canteen_price_rules "
                          "WHERE community_id = $1 AND price_class = $2 AND retired_at IS NULL ORDER BY id",
                          a, 2, &r, e)))
        return rc;
    rule best = {0}, x;
    bool found = false, limited = false;
    while (store_row(r)) {
        rule_read(r, &x);
        if (!rule_fits(&x, d, q->age, day))
            continue;
        if (x.per_slot > 0 && q->used_slot >= x.per_slot) {
            limited = true;
            continue;
        }
        bool better = !found || (x.resident_id && !best.resident_id) ||
                      (!!x.resident_id == !!best.resident_id && x.pay < best.pay);
        if (better) {
            best = x;
            found = true;
        }
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    if (!found) {
        str_copy(q->reason, limited ? "本餐次已享受过一次补贴，按标价" : "无适用的优惠规则，按标价", sizeof q->reason);
        return 0;
    }
    q->pay = best.pay < it->price ? best.pay : it->price;
    q->subsidy = it->price - q->pay;
    q->rule_id = best.id;
    str_copy(q->rule_name, best.name, sizeof q->rule_name);
    str_copy(q->funding, q->subsidy ? best.funding : "", sizeof q->funding);
    if (q->subsidy)
        snprintf(q->reason, sizeof q->reason, "%s（%d岁）：标价 %lld 分，实付 %lld 分，%s %lld 分", best.name, q->age,
                 (long long)q->list_price, (long long)q->pay, cn_funding_label(best.funding),
                 (long long)q->subsidy);
    else
        snprintf(q->reason, sizeof q->reason, "%s：按标价", best.name);
    return 0;
}

json_t *cn_quote_json(const cn_quote *q, int64_t resident_id, int64_t item_id)
{
    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:s, s:o, s:b}", "resident_id",
                     resident_id ? json_integer(resident_id) : json_null(), "menu_item_id", (json_int_t)item_id,
                     "list_price", (json_int_t)q->list_price, "pay", (json_int_t)q->pay, "subsidy",
                     (json_int_t)q->subsidy, "funding", q->funding[0] ? json_string(q->funding) : json_null(),
                     "funding_label", q->funding[0] ? json_string(cn_funding_label(q->funding)) : json_null(),
                     "rule_id", q->rule_id ? json_integer(q->rule_id) : json_null(), "rule_name",
                     q->rule_id ? json_string(q->rule_name) : json_null(), "reason", q->reason, "age",
                     q->age >= 0 ? json_integer(q->age) : json_null(), "subsidised_in_slot", q->used_slot > 0);
}

int canteen_quote(nx_app *app, const nx_principal *who, int64_t resident_id, int64_t menu_item_id, json_t **out,
                  nx_err *e)
{
    bool self = cn_self_for(who, resident_id);
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE) && !self)
        return nx_fail(e, NX_EPERM, "", "无权查询餐价");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    cn_item it;
    cn_diner d;
    cn_quote q;
    if ((rc = cn_item_load(tx, menu_item_id, &it, e)))
        goto done;
    if (!self && !perm_covers(who, tx, it.community_id, 0) && who->scope != SCOPE_ALL) {
        rc = nx_fail(e, NX_ENOTFOUND, "menu_item_id", "菜单项不存在");
        goto done;
    }
    if (resident_id) {
        if ((rc = cn_diner_load(tx, resident_id, &d, e)))
            goto done;
        if (!self && !perm_covers(who, tx, d.community_id, 0) && who->scope != SCOPE_ALL) {
            rc = nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
            goto done;
        }
    }
    if ((rc = cn_quote_tx(tx, resident_id ? &d : NULL, &it, date_today(), &q, e)))
        goto done;
    *out = cn_quote_json(&q, resident_id, menu_item_id);
    if (!*out)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
done:
    store_rollback(tx);
    return rc;
}

/* ---- the rule set ---- */

static json_t *rule_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i name:t price_class:t pay:i funding:t min_age:i max_age:i - - - "
                                  "resident_id:i per_slot:i valid_from:t valid_to:t reason:t community_id:i");
    if (!o)
        return NULL;
    const char *keys[] = {"tags", "care_levels", "residence"};
    for (int k = 0; k < 3; k++) {
        json_t *a = json_array();
        char buf[512];
        str_copy(buf, store_text(r, 7 + k) ? store_text(r, 7 + k) : "", sizeof buf);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(a, json_string(t));
        json_object_set_new(o, keys[k], a);
    }
    const char *f = store_text(r, 4);
    json_object_set_new(o, "funding_label", json_string(cn_funding_label(f) ? cn_funding_label(f) : ""));
    return o;
}

int canteen_rules_get(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权查看价格规则");
    sqlq q;
    sqlq_init(&q, "SELECT r." RULE_COLS ", r.reason, r.community_id FROM canteen_price_rules r "
                  "WHERE r.retired_at IS NULL");
    /* RULE_COLS names bare columns: qualify the first one only, the rest are unambiguous. */
    cn_scope_q(who, "r.", NULL, &q);
    sqlq_eq_int(&q, "r.community_id", community_id);
    sqlq_sql(&q, " ORDER BY r.community_id, r.id");
    store_page_spec s = {.max = RULES_MAX * 50, .row = rule_row};
    return store_items_read(app->db, &q, &s, out, e);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A string array field of rule i joined sorted with commas into out; each item in allowed (NULL: any
 * tag code of [a-z0-9_]). */
static int join_list(json_t *o, const char *key, const char *const *allowed, int i, char *out, size_t cap,
                     nx_err *e)
{
    json_t *a = NULL;
    out[0] = '\0';
    int rc = json_get_str_array(o, key, false, 20, 40, &a, e);
    if (rc < 0)
        goto bad;
    if (rc == 1 || !a)
        return 0;
    const char *items[20];
    size_t n = json_array_size(a);
    for (size_t k = 0; k < n; k++) {
        items[k] = json_string_value(json_array_get(a, k));
        bool ok = allowed ? cn_in_list(allowed, items[k]) : items[k][0] != '\0';
        for (const char *c = items[k]; !allowed && *c; c++)
            ok = ok && ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
        if (!ok) {
            nx_fail(e, NX_EINVAL, key, "取值无效：%s", items[k]);
            goto bad;
        }
    }
    qsort(items, n, sizeof items[0], cmp_str);
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
        int w = snprintf(out + len, cap - len, "%s%s", k ? "," : "", items[k]);
        if (w < 0 || (size_t)w >= cap - len) {
            nx_fail(e, NX_EINVAL, key, "列表过长");
            goto bad;
        }
        len += (size_t)w;
    }
    return 0;
bad:;
    char f[64];
    snprintf(f, sizeof f, "rules[%d].%s", i, key);
    str_copy(e->field, f, sizeof e->field);
    return NX_EINVAL;
}

/* Validate rule i of the body into x (reason into *reason, borrowed). */
static int rule_parse(store_tx *tx, json_t *o, int i, int64_t community, rule *x, const char **reason, nx_err *e)
{
    static const char *const allowed[] = {"name", "price_class", "pay", "funding", "min_age", "max_age", "tags",
                                          "care_levels", "residence", "resident_id", "reason", "per_slot",
                                          "valid_from", "valid_to", NULL};
    memset(x, 0, sizeof *x);
    const char *name = NULL, *cls = NULL, *funding = NULL, *from = NULL, *to = NULL;
    int64_t pay = 0, min_age = -1, max_age = -1, per_slot = 1, resident = 0;
    *reason = NULL;
    int rc;
    if ((rc = json_only(o, allowed, e)) || (rc = json_read_str(o, "name", true, 60, &name, e)) ||
        (rc = json_read_str(o, "price_class", true, 8, &cls, e)) ||
        (rc = json_get_int(o, "pay", true, 0, 1000000, &pay, e)) < 0 ||
        (rc = json_read_str(o, "funding", true, 16, &funding, e)) ||
        (rc = json_get_int(o, "min_age", false, 0, 150, &min_age, e)) < 0 ||
        (rc = json_get_int(o, "max_age", false, 0, 150, &max_age, e)) < 0 ||
        (rc = json_get_int(o, "per_slot", false, 0, 10, &per_slot, e)) < 0 ||
        (rc = json_get_int(o, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_read_str(o, "reason", false, 200, reason, e)) ||
        (rc = json_read_date(o, "valid_from", false, &from, e)) || (rc = json_read_date(o, "valid_to", false, &to, e)))
        goto bad;
    if (!cn_in_list(classes, cls)) {
        rc = nx_fail(e, NX_EINVAL, "price_class", "价格类别应为 basic（一元吃饱）或 better（两元吃好）");
        goto bad;
    }
    if (!cn_in_list(fundings, funding)) {
        rc = nx_fail(e, NX_EINVAL, "funding", "资金来源应为 street、charity 或 canteen");
        goto bad;
    }
    if (min_age >= 0 && max_age >= 0 && min_age > max_age) {
        rc = nx_fail(e, NX_EINVAL, "max_age", "年龄上限不能小于下限");
        goto bad;
    }
    if (from && to && strcmp(from, to) > 0) {
        rc = nx_fail(e, NX_EINVAL, "valid_to", "结束日期不能早于开始日期");
        goto bad;
    }
    if (resident) {
        if (!*reason) {
            rc = nx_fail(e, NX_EINVAL, "reason", "个人特批须写明原因");
            goto bad;
        }
        if (!to) {
            rc = nx_fail(e, NX_EINVAL, "valid_to", "个人特批须有结束日期");
            goto bad;
        }
        int64_t c = 0;
        store_param a[] = {P_INT(resident)};
        if ((rc = store_one_int(tx, "SELECT community_id FROM residents WHERE id = $1", a, 1, &c, e)) &&
            rc != NX_ENOTFOUND)
            return rc;
        if (rc == NX_ENOTFOUND || c != community) {
            rc = nx_fail(e, NX_EINVAL, "resident_id", "居民不存在或不属于本社区");
            goto bad;
        }
    }
    if ((rc = join_list(o, "tags", NULL, i, x->tags, sizeof x->tags, e)) ||
        (rc = join_list(o, "care_levels", care_levels, i, x->care, sizeof x->care, e)) ||
        (rc = join_list(o, "residence", residences, i, x->residence, sizeof x->residence, e)))
        return rc;
    str_copy(x->name, name, sizeof x->name);
    str_copy(x->cls, cls, sizeof x->cls);
    str_copy(x->funding, funding, sizeof x->funding);
    str_copy(x->from, from ? from : "", sizeof x->from);
    str_copy(x->to, to ? to : "", sizeof x->to);
    x->pay = pay;
    x->min_age = (int)min_age;
    x->max_age = (int)max_age;
    x->per_slot = (int)per_slot;
    x->resident_id = resident;
    return 0;
bad:;
    char f[64];
    snprintf(f, sizeof f, "rules[%d].%s", i, e->field[0] ? e->field : "");
    str_copy(e->field, f, sizeof e->field);
    return rc ? rc : NX_EINVAL;
}

static bool same_audience(const rule *a, const rule *b)
{
    return strcmp(a->cls, b->cls) == 0 && a->min_age == b->min_age && a->max_age == b->max_age &&
           a->resident_id == b->resident_id && strcmp(a->tags, b->tags) == 0 && strcmp(a->care, b->care) == 0 &&
           strcmp(a->residence, b->residence) == 0;
}

static bool dates_meet(const rule *a, const rule *b)
{
    /* [from, to] with "" open at either end. */
    if (a->to[0] && b->from[0] && strcmp(a->to, b->from) < 0)
        return false;
    if (b->to[0] && a->from[0] && strcmp(b->to, a->from) < 0)
        return false;
    return true;
}

int canteen_rules_put(nx_app *app, const nx_principal *who, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"community_id", "rules", NULL};
    if (!perm_has(who, RIGHT_CANTEEN_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权修改价格规则");
    int rc = json_only(in, allowed, e);
    if (rc)
        return rc;
    json_t *list = json_object_get(in, "rules");
    if (!json_is_array(list))
        return nx_fail(e, NX_EINVAL, "rules", "rules 应为规则数组");
    size_t n = json_array_size(list);
    if (n > RULES_MAX)
        return nx_fail(e, NX_EINVAL, "rules", "规则最多 %d 条", RULES_MAX);
    rule *rs = calloc(n ? n : 1, sizeof *rs);
    const char **reasons = calloc(n ? n : 1, sizeof *reasons);
    store_tx *tx = NULL;
    if (!rs || !reasons) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto out;
    }
    int64_t community = 0;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)) || (rc = cn_write_community(tx, who, in, &community, e)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(list, i);
        if (!json_is_object(o)) {
            char f[32];
            snprintf(f, sizeof f, "rules[%zu]", i);
            rc = nx_fail(e, NX_EINVAL, f, "规则应为对象");
            goto out;
        }
        if ((rc = rule_parse(tx, o, (int)i, community, &rs[i], &reasons[i], e)))
            goto out;
        for (size_t j = 0; j < i; j++)
            if (same_audience(&rs[j], &rs[i]) && dates_meet(&rs[j], &rs[i])) {
                char f[48];
                snprintf(f, sizeof f, "rules[%zu].valid_from", i);
                rc = nx_fail(e, NX_EINVAL, f, "与第 %zu 条规则（%s）的对象和有效期重叠", j + 1, rs[j].name);
                goto out;
            }
    }
    int64_t now = clock_now_ms();
    store_param r0[] = {P_INT(now), P_INT(community)};
    if ((rc = store_exec(tx, "UPDATE canteen_price_rules SET retired_at = $1 WHERE community_id = $2 AND retired_at IS NULL",
                         r0, 2, NULL, e)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        rule *x = &rs[i];
        store_param a[] = {P_INT(community), P_TEXT(x->name), P_TEXT(x->cls), P_INT(x->pay), P_TEXT(x->funding),
                           x->min_age >= 0 ? P_INT(x->min_age) : P_NULL, x->max_age >= 0 ? P_INT(x->max_age) : P_NULL,
                           P_TEXT(x->tags), P_TEXT(x->care), P_TEXT(x->residence), P_ID(x->resident_id),
                           P_TEXT(reasons[i]), P_INT(x->per_slot), P_TEXT(x->from[0] ? x->from : NULL),
                           P_TEXT(x->to[0] ? x->to : NULL), P_ID(who->user_id), P_INT(now)};
        if ((rc = app_insert(tx, "canteen_price_rules",
                             "community_id, name, price_class, pay, funding, min_age, max_age, tags, "
                             "care_levels, residence, resident_id, reason, per_slot, valid_from, valid_to, "
                             "created_by, created_at",
                             a, 17, NULL, e)))
            goto out;
    }
    if ((rc = audit_write_new(tx, who, "update", "canteen_price_rules", community, community,
                              json_pack("{s:I}", "rules", (json_int_t)n), e)))
        goto out;
    rc = store_commit(tx, e);
    tx = NULL;
out:
    store_rollback(tx);
    free(rs);
    free(reasons);
    return rc;
}
