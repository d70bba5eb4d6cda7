/* canteen_reports.c — the canteen's accounts: the monthly subsidy claim (JSON and Excel), the day's
 * takings by payment method, and the dashboard's figures.
 *
 * Every figure is a sum over sale rows, reversals included: a reversal carries the negated amounts
 * of its original on the original's day and meal, so a reversed sale nets to zero in every total and
 * the claim always equals the sum of the sales log for the month. The Excel claim is the evidence a
 * street office reimburses from: one row per diner-meal actually served (a sale neither reversed nor
 * a reversal), in day and meal order, with the rule and funding source, then a total row; its
 * subsidy column sums to the JSON report's subsidy_total. Names are shown (the office checks them
 * against its roster); no ID number or phone is. Each export writes an audit entry. */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "report/export.h"
#include "store/page.h"

static int scope_community(store_tx *tx, const nx_principal *who, int64_t community_id, nx_err *e)
{
    if (community_id && !perm_covers(who, tx, community_id, 0) &&
        !(who->scope == SCOPE_GRID && who->community_id == community_id))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    return 0;
}

/* A report's read transaction on app's store, *tx open only when community_id (0: the whole scope)
 * is in who's scope (else NX_ENOTFOUND naming it). */
static int report_begin(nx_app *app, const nx_principal *who, int64_t community_id, store_tx **tx, nx_err *e)
{
    int rc = store_begin(app->db, STORE_READ, tx, e);
    if (rc == 0 && (rc = scope_community(*tx, who, community_id, e)))
        store_rollback(*tx);
    return rc;
}

/* The subsidy claim's opening: CANTEEN_ADMIN (else NX_EPERM with denied), month's first and last day
 * (NX_EINVAL naming "month"), then report_begin. */
static int month_begin(nx_app *app, const nx_principal *who, const char *denied, const char *month,
                       int64_t community_id, char first[11], char last[11], store_tx **tx, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_ADMIN))
        return nx_fail(e, NX_EPERM, "", "%s", denied);
    int rc = cn_month_range(month, first, last, e);
    return rc ? rc : report_begin(app, who, community_id, tx, e);
}

/* head (a table aliased "s" … WHERE …), in who's scope and, when set, of community. */
static void scoped_where(sqlq *q, const char *head, const nx_principal *who, int64_t community)
{
    sqlq_init(q, head);
    cn_scope_q(who, "s.", NULL, q);
    sqlq_eq_int(q, "s.community_id", community);
}

static void month_where(sqlq *q, const char *head, const nx_principal *who, int64_t community, const char *first,
                        const char *last)
{
    scoped_where(q, head, who, community);
    sqlq_range_text(q, "s.day", first, last);
}

#define NET_MEALS "SUM(CASE WHEN s.reverses_id IS NULL THEN 1 ELSE -1 END)"

/* Run a grouped query into an array of objects with spec. */
static int grouped(store_tx *tx, sqlq *q, const char *spec, json_t *arr, nx_err *e)
{
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    while (store_row(r))
        json_array_append_new(arr, store_json_row(r, spec));
    return store_rows_end(r, e);
}

/* The net meals, paid and subsidy of the sales from first to last (days) per value of expr (a column
 * expression of canteen_sales s, one of this file's constants), ordered by it: one {key, meals, paid,
 * subsidy} object a value, appended to arr. */
static int sums_by(store_tx *tx, const nx_principal *who, int64_t community, const char *first,
                   const char *last, const char *expr, const char *key, json_t *arr, nx_err *e)
{
    char head[256], spec[64];
    snprintf(head, sizeof head,
             "SELECT %s, " NET_MEALS ", SUM(s.paid), SUM(s.subsidy) FROM canteen_sales s WHERE 1 = 1", expr);
    snprintf(spec, sizeof spec, "%s:t meals:i paid:i subsidy:i", key);
    sqlq q;
    month_where(&q, head, who, community, first, last);
    sqlq_sql(&q, " GROUP BY %s ORDER BY 1", expr);
    return grouped(tx, &q, spec, arr, e);
}

int canteen_subsidy_report(nx_app *app, const nx_principal *who, const char *month, int64_t community_id,
                           json_t **out, nx_err *e)
{
    char first[11], last[11];
    store_tx *tx;
    int rc = month_begin(app, who, "无权查看补贴报表", month, community_id, first, last, &tx, e);
    if (rc)
        return rc;
    sqlq q;
    month_where(&q, "SELECT COALESCE(" NET_MEALS ", 0), COALESCE(SUM(s.list_price), 0), COALESCE(SUM(s.paid), 0), "
                    "COALESCE(SUM(s.subsidy), 0), COUNT(*) FROM canteen_sales s WHERE 1 = 1",
                who, community_id, first, last);
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    json_t *o = NULL;
    if ((rc = store_first(r, "无数据", e)) == 0)
        o = store_json_row(r, "meals:i list_total:i paid_total:i subsidy_total:i rows:i");
    int end = store_rows_end(r, e);
    if (rc || end || !o) {
        json_decref(o);
        rc = rc ? rc : end ? end : nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    json_object_set_new(o, "month", json_string(month));
    json_t *by_funding = json_array(), *by_rule = json_array(), *by_day = json_array();
    json_object_set_new(o, "by_funding", by_funding);
    json_object_set_new(o, "by_rule", by_rule);
    json_object_set_new(o, "by_day", by_day);
    month_where(&q, "SELECT s.funding, " NET_MEALS ", SUM(s.subsidy) FROM canteen_sales s WHERE s.funding IS NOT NULL",
                who, community_id, first, last);
    sqlq_sql(&q, " GROUP BY s.funding ORDER BY s.funding");
    if ((rc = grouped(tx, &q, "funding:t meals:i subsidy:i", by_funding, e)))
        goto fail;
    size_t i;
    json_t *v;
    json_array_foreach(by_funding, i, v)
    {
        const char *l = cn_funding_label(json_string_value(json_object_get(v, "funding")));
        json_object_set_new(v, "funding_label", json_string(l ? l : ""));
    }
    if ((rc = sums_by(tx, who, community_id, first, last, "COALESCE(s.rule_name, '标价')", "rule_name",
                      by_rule, e)) ||
        (rc = sums_by(tx, who, community_id, first, last, "s.day", "day", by_day, e)))
        goto fail;
    *out = o;
    goto done;
fail:
    json_decref(o);
done:
    store_rollback(tx);
    return rc;
}

/* The subsidy claim's rows: one sale each, numbered, with the month's totals kept for the last row. */
typedef struct subsidy_buf {
    int64_t n, list, paid, subsidy;
    char no[24], age[8], lp[24], pd[24], sb[24], seq[24];
} subsidy_buf;

static int subsidy_cells(store_rows *r, void *ctx, const char **cells, nx_err *e)
{
    subsidy_buf *b = ctx;
    nx_date birth, d;
    snprintf(b->no, sizeof b->no, "%lld", (long long)++b->n);
    b->age[0] = '\0';
    if (store_text(r, 4) && date_parse(store_text(r, 4), &birth) == 0 && date_parse(store_text(r, 1), &d) == 0)
        snprintf(b->age, sizeof b->age, "%d", date_age(birth, d));
    snprintf(b->lp, sizeof b->lp, "%lld", (long long)store_int(r, 6));
    snprintf(b->pd, sizeof b->pd, "%lld", (long long)store_int(r, 7));
    snprintf(b->sb, sizeof b->sb, "%lld", (long long)store_int(r, 8));
    snprintf(b->seq, sizeof b->seq, "%lld", (long long)store_int(r, 0));
    b->list += store_int(r, 6);
    b->paid += store_int(r, 7);
    b->subsidy += store_int(r, 8);
    const char *meal = cn_meal_label(store_text(r, 2)), *fund = cn_funding_label(store_text(r, 9)),
               *method = cn_method_label(store_text(r, 11));
    const char *row[] = {b->no, store_text(r, 12), store_text(r, 1), meal ? meal : "",
                         store_text(r, 3) ? store_text(r, 3) : "散客", b->age, store_text(r, 5), b->lp, b->pd, b->sb,
                         fund ? fund : "", store_text(r, 10) ? store_text(r, 10) : "标价", method ? method : "", b->seq};
    memcpy(cells, row, sizeof row);
    return 0;
}

int canteen_subsidy_xlsx(nx_app *app, const nx_principal *who, const char *month, int64_t community_id,
                         const char *path, int64_t *rows, nx_err *e)
{
    char first[11], last[11];
    store_tx *tx;
    int rc = month_begin(app, who, "无权导出补贴报表", month, community_id, first, last, &tx, e);
    if (rc)
        return rc;
    xlsx_out *x = NULL;
    sqlq q;
    month_where(&q, "SELECT s.seq, s.day, s.meal, r.name, r.birth_date, s.item_name, s.list_price, s.paid, s.subsidy, "
                    "s.funding, s.rule_name, s.method, c.name FROM canteen_sales s "
                    "LEFT JOIN residents r ON r.id = s.resident_id JOIN communities c ON c.id = s.community_id "
                    "WHERE s.reverses_id IS NULL AND NOT EXISTS (SELECT 1 FROM canteen_sales x WHERE x.reverses_id = s.id)",
                who, community_id, first, last);
    sqlq_sql(&q, " ORDER BY s.day, CASE s.meal WHEN 'breakfast' THEN 1 WHEN 'lunch' THEN 2 ELSE 3 END, s.community_id, s.seq");
    static const char *const titles[] = {"序号", "社区", "日期", "餐次", "姓名", "年龄", "菜品/套餐", "标价（分）",
                                         "实付（分）", "补贴（分）", "资金来源", "适用规则", "支付方式", "流水号"};
    static const double widths[] = {8, 14, 12, 8, 10, 6, 20, 12, 12, 12, 12, 20, 10, 10};
    subsidy_buf b = {0};
    export_rows_spec s = {.types = "nssssssnnnssss", .ncol = 14, .cells = subsidy_cells, .ctx = &b};
    int64_t n = 0;
    if ((rc = export_open(path, "补贴申报", titles, widths, 14, &x, e)) || (rc = export_rows(tx, &q, x, &s, &n, e)))
        goto fail;
    snprintf(b.lp, sizeof b.lp, "%lld", (long long)b.list);
    snprintf(b.pd, sizeof b.pd, "%lld", (long long)b.paid);
    snprintf(b.sb, sizeof b.sb, "%lld", (long long)b.subsidy);
    const char *total[] = {"", "", "", "", "合计", "", "", b.lp, b.pd, b.sb, "", "", "", ""};
    if ((rc = xlsx_out_row_typed(x, total, "sssssssnnnssss", 14))) {
        rc = nx_fail(e, NX_EIO, "", "无法写入导出文件");
        goto fail;
    }
    store_rollback(tx);
    if ((rc = export_finish(app->db, x, path, who, "canteen_subsidy", 0, community_id ? community_id : who->community_id,
                            json_pack("{s:s, s:I}", "month", month, "rows", (json_int_t)n), e)) == 0)
        *rows = n;
    return rc;
fail:
    xlsx_out_discard(x);
    store_rollback(tx);
    return rc;
}

int canteen_daily_report(nx_app *app, const nx_principal *who, const char *day, int64_t community_id, json_t **out,
                         nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权查看日报");
    nx_date d;
    if (!day || date_parse(day, &d))
        return nx_fail(e, NX_EINVAL, "date", "日期格式应为 YYYY-MM-DD");
    store_tx *tx;
    int rc = report_begin(app, who, community_id, &tx, e);
    if (rc)
        return rc;
    json_t *by_method = json_array(), *by_meal = json_array();
    if ((rc = sums_by(tx, who, community_id, day, day, "s.method", "method", by_method, e)) ||
        (rc = sums_by(tx, who, community_id, day, day, "s.meal", "meal", by_meal, e)))
        goto fail;
    size_t i;
    json_t *v;
    int64_t meals = 0, paid = 0, subsidy = 0;
    json_array_foreach(by_method, i, v)
    {
        const char *l = cn_method_label(json_string_value(json_object_get(v, "method")));
        json_object_set_new(v, "method_label", json_string(l ? l : ""));
        meals += json_integer_value(json_object_get(v, "meals"));
        paid += json_integer_value(json_object_get(v, "paid"));
        subsidy += json_integer_value(json_object_get(v, "subsidy"));
    }
    json_array_foreach(by_meal, i, v)
    {
        const char *l = cn_meal_label(json_string_value(json_object_get(v, "meal")));
        json_object_set_new(v, "meal_label", json_string(l ? l : ""));
    }
    /* Top-ups taken at the counter that day (Shanghai day bounds). */
    int64_t start = date_to_days(d) * 86400000LL - NX_TZ_OFFSET_MS, topups = 0;
    sqlq t;
    scoped_where(&t, "SELECT COALESCE(SUM(s.amount), 0) FROM canteen_card_txns s WHERE s.kind = 'topup'", who, community_id);
    sqlq_range_ms(&t, "s.created_at", start, start + 86400000LL);
    if ((rc = sqlq_one_int(tx, &t, &topups, e)))
        goto fail;
    store_rollback(tx);
    *out = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I}", "day", day, "by_method", by_method, "by_meal", by_meal,
                     "meals", (json_int_t)meals, "paid", (json_int_t)paid, "subsidy", (json_int_t)subsidy,
                     "card_topups", (json_int_t)topups);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
fail:
    json_decref(by_method);
    json_decref(by_meal);
    store_rollback(tx);
    return rc;
}

int canteen_stats(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CANTEEN_OPERATE))
        return nx_fail(e, NX_EPERM, "", "无权查看食堂统计");
    char today[11], first[11], last[11], month[8];
    nx_date d = date_today();
    date_format(d, today);
    snprintf(month, sizeof month, "%04d-%02d", d.y, d.m);
    int rc = cn_month_range(month, first, last, e);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = report_begin(app, who, community_id, &tx, e)))
        return rc;
    int64_t meals = 0, subsidy = 0, cards = 0, orders = 0;
    sqlq q;
    month_where(&q, "SELECT COALESCE(" NET_MEALS ", 0) FROM canteen_sales s WHERE 1 = 1", who, community_id, today, today);
    if ((rc = sqlq_one_int(tx, &q, &meals, e)))
        goto done;
    month_where(&q, "SELECT COALESCE(SUM(s.subsidy), 0) FROM canteen_sales s WHERE 1 = 1", who, community_id, first, last);
    if ((rc = sqlq_one_int(tx, &q, &subsidy, e)))
        goto done;
    scoped_where(&q, "SELECT COUNT(*) FROM canteen_cards s WHERE s.status = 'active'", who, community_id);
    if ((rc = sqlq_one_int(tx, &q, &cards, e)))
        goto done;
    scoped_where(&q, "SELECT COUNT(*) FROM canteen_orders s WHERE s.status <> 'cancelled'", who, community_id);
    sqlq_add(&q, " AND s.day = $%d", P_TEXT(today));
    if ((rc = sqlq_one_int(tx, &q, &orders, e)))
        goto done;
    *out = json_pack("{s:I, s:I, s:I, s:I, s:s}", "meals_today", (json_int_t)meals, "subsidy_month", (json_int_t)subsidy,
                     "cards", (json_int_t)cards, "orders_today", (json_int_t)orders, "month", month);
    if (!*out)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
done:
    store_rollback(tx);
    return rc;
}
