/* canteen_common.c — the canteen module's helpers: where a write lands, who acts for whom, the
 * diner's facts and a menu item as the rules read them, the vocabularies' labels, receipt numbers
 * and month ranges.
 *
 * A diner's facts are read fresh inside the caller's transaction every time a price is asked for,
 * never cached: the tier must follow the record the moment a tag is added or a death is recorded.
 * Tags are gathered as ",code,code," so that a rule's list can be tested with strstr on ",code,". */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "secure/crypto.h"
#include "store/page.h"

int cn_write_community(store_tx *tx, const nx_principal *who, json_t *in, int64_t *community, nx_err *e)
{
    int64_t c = 0;
    int rc = in ? json_get_int(in, "community_id", false, 1, INT64_MAX, &c, e) : 1;
    if (rc < 0)
        return rc;
    if (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID || who->scope == SCOPE_SELF) {
        if (c && c != who->community_id)
            return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
        *community = who->community_id;
        return 0;
    }
    if (!c)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区（community_id）");
    int64_t found = 0;
    store_param a[] = {P_INT(c)};
    if ((rc = store_one_int(tx, "SELECT id FROM communities WHERE id = $1", a, 1, &found, e)))
        return rc == NX_ENOTFOUND ? nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在") : rc;
    if (!perm_covers(who, tx, c, 0))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    *community = c;
    return 0;
}

void cn_scope_q(const nx_principal *who, const char *alias, const char *resident_col, sqlq *q)
{
    nx_principal p = *who;
    if (p.scope == SCOPE_GRID)
        p.scope = SCOPE_COMMUNITY;
    perm_scope_q(&p, alias, resident_col, q);
}

int cn_get(nx_app *app, const nx_principal *who, const char *cols_from, const char *alias, int64_t id,
           void (*more)(const nx_principal *who, sqlq *q), json_t *(*row)(store_rows *r), const char *missing,
           json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, cols_from);
    sqlq_sql(&q, " AND %sid = $%d", alias, sqlq_param(&q, P_INT(id)));
    cn_scope_q(who, alias, "resident_id", &q);
    if (more)
        more(who, &q);
    store_page_spec s = {.row = row};
    return store_get_read(app->db, &q, &s, missing, out, e);
}

int cn_list(nx_app *app, const nx_principal *who, const canteen_filter *f, cn_where_fn where, const char *cols_from,
            const char *count_from, const char *alias, bool oldest_first, json_t *(*row)(store_rows *r), json_t **out,
            nx_err *e)
{
    int64_t after = 0;
    int rc = store_page_cursor_id(f->cursor, &after, e);
    if (rc)
        return rc;
    sqlq q, count;
    where(&q, cols_from, who, f);
    where(&count, count_from, who, f);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = row};
    return store_page_by_id(app->db, &q, alias, after, oldest_first, &s, out, e);
}

bool cn_self(const nx_principal *who)
{
    return who->scope == SCOPE_SELF;
}

bool cn_self_for(const nx_principal *who, int64_t resident_id)
{
    return who->scope == SCOPE_SELF && perm_has(who, RIGHT_SELF) && who->resident_id > 0 &&
           who->resident_id == resident_id;
}

void cn_name_q(sqlq *q, const char *term, bool with_card)
{
    char lower[64];
    size_t i = 0;
    for (; term[i] && i < sizeof lower - 1; i++)
        lower[i] = (term[i] >= 'A' && term[i] <= 'Z') ? (char)(term[i] - 'A' + 'a') : term[i];
    lower[i] = '\0';
    int k = sqlq_like(q, " AND (r.name LIKE $%d ESCAPE '!'", term, true);
    int k2 = sqlq_like(q, " OR r.name_pinyin LIKE $%d ESCAPE '!'", lower, true);
    if (with_card)
        sqlq_sql(q, " OR r.name_initials LIKE $%d ESCAPE '!' OR c.number LIKE $%d ESCAPE '!')", k2, k);
    else
        sqlq_sql(q, " OR r.name_initials LIKE $%d ESCAPE '!')", k2);
}

int cn_one_row(store_tx *tx, const sqlq *q, const char *missing, int64_t *out, int n, nx_err *e)
{
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, missing, e)) == 0)
        for (int i = 0; i < n; i++)
            out[i] = store_int(r, i);
    int end = store_rows_end(r, e);
    return rc ? rc : end;
}

int cn_diner_load(store_tx *tx, int64_t resident_id, cn_diner *d, nx_err *e)
{
    memset(d, 0, sizeof *d);
    store_param a[] = {P_INT(resident_id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, community_id, grid_id, name, birth_date, status, care_level, residence "
                         "FROM residents WHERE id = $1",
                         a, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "居民不存在", e)) == 0) {
        d->id = store_int(r, 0);
        d->community_id = store_int(r, 1);
        d->grid_id = store_int(r, 2);
        str_copy(d->name, store_text(r, 3) ? store_text(r, 3) : "", sizeof d->name);
        if (date_parse(store_text(r, 4), &d->birth))
            d->birth = (nx_date){1900, 1, 1};
        str_copy(d->status, store_text(r, 5) ? store_text(r, 5) : "", sizeof d->status);
        str_copy(d->care_level, store_text(r, 6) ? store_text(r, 6) : "", sizeof d->care_level);
        str_copy(d->residence, store_text(r, 7) ? store_text(r, 7) : "", sizeof d->residence);
    } else if (rc == NX_ENOTFOUND) {
        str_copy(e->field, "resident_id", sizeof e->field);
    }
    int end = store_rows_end(r, e);
    if (rc || end)
        return rc ? rc : end;
    if ((rc = store_query(tx,
                          "SELECT t.code FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                          "WHERE rt.resident_id = $1 ORDER BY t.code",
                          a, 1, &r, e)))
        return rc;
    size_t n = str_copy(d->tags, ",", sizeof d->tags);
    while (store_row(r)) {
        const char *code = store_text(r, 0);
        int w = snprintf(d->tags + n, sizeof d->tags - n, "%s,", code ? code : "");
        if (w > 0 && (size_t)w < sizeof d->tags - n)
            n += (size_t)w;
    }
    return store_rows_end(r, e);
}

int cn_item_load(store_tx *tx, int64_t item_id, cn_item *it, nx_err *e)
{
    memset(it, 0, sizeof *it);
    store_param a[] = {P_INT(item_id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT i.id, i.menu_id, i.community_id, i.name, i.kind, i.price_class, m.day, m.meal, "
                         "i.price, i.portions, i.sold, i.sold_out, m.published "
                         "FROM canteen_menu_items i JOIN canteen_menus m ON m.id = i.menu_id WHERE i.id = $1",
                         a, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "菜单项不存在", e)) == 0) {
        it->id = store_int(r, 0);
        it->menu_id = store_int(r, 1);
        it->community_id = store_int(r, 2);
        str_copy(it->name, store_text(r, 3) ? store_text(r, 3) : "", sizeof it->name);
        str_copy(it->kind, store_text(r, 4) ? store_text(r, 4) : "", sizeof it->kind);
        str_copy(it->price_class, store_text(r, 5) ? store_text(r, 5) : "", sizeof it->price_class);
        str_copy(it->day, store_text(r, 6) ? store_text(r, 6) : "", sizeof it->day);
        str_copy(it->meal, store_text(r, 7) ? store_text(r, 7) : "", sizeof it->meal);
        it->price = store_int(r, 8);
        it->portions = store_isnull(r, 9) ? -1 : store_int(r, 9);
        it->sold = store_int(r, 10);
        it->sold_out = store_int(r, 11) != 0;
        it->published = store_int(r, 12) != 0;
    } else if (rc == NX_ENOTFOUND) {
        str_copy(e->field, "menu_item_id", sizeof e->field);
    }
    int end = store_rows_end(r, e);
    return rc ? rc : end;
}

static const char *const meals[][2] = {{"breakfast", "早餐"}, {"lunch", "午餐"}, {"dinner", "晚餐"}};
static const char *const fundings[][2] = {{"street", "街道补贴"}, {"charity", "慈善捐助"}, {"canteen", "食堂让利"}};
static const char *const methods[][2] = {{"card", "饭卡"}, {"cash", "现金"}, {"wechat", "微信"}, {"alipay", "支付宝"}};

const char *cn_meal_label(const char *meal)
{
    return STR_LABEL(meals, meal);
}

const char *cn_funding_label(const char *funding)
{
    return STR_LABEL(fundings, funding);
}

const char *cn_method_label(const char *method)
{
    return STR_LABEL(methods, method);
}

bool cn_in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

void cn_number(const char *prefix, char *out, size_t cap)
{
    char tok[NX_TOKEN_CHARS];
    token_random(tok, sizeof tok);
    /* Upper-case letters and digits only, so that a number reads out over a counter. */
    char part[9];
    size_t k = 0;
    for (size_t i = 0; tok[i] && k < 8; i++) {
        char c = tok[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            part[k++] = c;
    }
    part[k] = '\0';
    nx_date d = date_today();
    snprintf(out, cap, "%s%04d%02d%02d-%s", prefix, d.y, d.m, d.d, part);
}

int cn_month_range(const char *month, char first[11], char last[11], nx_err *e)
{
    int64_t y = 0, m = 0;
    if (!month || strlen(month) != 7 || month[4] != '-')
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    char ys[5], ms[3];
    memcpy(ys, month, 4);
    ys[4] = '\0';
    memcpy(ms, month + 5, 2);
    ms[2] = '\0';
    if (str_to_i64(ys, 2000, 2100, &y) || str_to_i64(ms, 1, 12, &m) || ms[0] < '0' || ms[0] > '1')
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    nx_date a = {(int)y, (int)m, 1};
    nx_date next = m == 12 ? (nx_date){(int)y + 1, 1, 1} : (nx_date){(int)y, (int)m + 1, 1};
    date_format(a, first);
    date_format(date_from_days(date_to_days(next) - 1), last);
    return 0;
}
