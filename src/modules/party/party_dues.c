/* party_dues.c — party dues (党费): rate rules as data, monthly cycles, payments, arrears and the
 * yearly statement.
 *
 * A rule is a band of monthly income (min_income_fen ≤ income ≤ max_income_fen, the upper bound
 * optional) with either a rate in basis points or a fixed amount. Opening a month writes one row per
 * active member at the amount the rules give for the member's income then; the row keeps its base
 * and amount, so a later change of rules or income does not rewrite a month already opened (the
 * UNIQUE (member, month) makes opening idempotent). A payment must be exactly the amount due — a
 * different amount is refused naming amount_fen and changes nothing — and closes the month; it may be
 * paid by another member on the member's behalf (paid_by_member_id). Amounts are integer fen. */
#include "modules/party/party_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "report/export.h"
#include "secure/audit.h"
#include "store/page.h"

#define RULES_MAX 100

static json_t *rule_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i name:t min_income_fen:i max_income_fen:i rate_bp:i fixed_fen:i");
}

int party_rule_list(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看党费标准");
    sqlq q;
    sqlq_init(&q, "SELECT d.id, d.community_id, d.name, d.min_income_fen, d.max_income_fen, d.rate_bp, d.fixed_fen FROM "
                  "party_dues_rules d WHERE 1 = 1");
    if (party_manager(who))
        party_scope_q(&q, who, "d.", NULL);
    else /* a member reads the rules of their own community */
        sqlq_add(&q, " AND d.community_id IN (SELECT community_id FROM party_members WHERE resident_id = $%d)",
                 P_INT(who->resident_id));
    sqlq_eq_int(&q, "d.community_id", community_id);
    sqlq_sql(&q, " ORDER BY d.community_id, d.min_income_fen, d.id LIMIT %d", RULES_MAX + 1);
    return store_items_read(app->db, &q, &(store_page_spec){.row = rule_row, .max = RULES_MAX}, out, e);
}

int party_rule_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!party_manager(who))
        return nx_fail(e, NX_EPERM, "", "无权修改党费标准");
    static const char *const allowed[] = {"name", "min_income_fen", "max_income_fen", "rate_bp", "fixed_fen",
                                          "community_id", NULL};
    const char *name = NULL;
    int64_t lo = 0, hi = -1, bp = -1, fixed = -1, given = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "name", true, 60, &name, e)) ||
        (rc = json_get_int(in, "min_income_fen", true, 0, 100000000, &lo, e)) < 0 ||
        (rc = json_get_int(in, "max_income_fen", false, 0, 100000000, &hi, e)) < 0 ||
        (rc = json_get_int(in, "rate_bp", false, 0, 1000, &bp, e)) < 0 ||
        (rc = json_get_int(in, "fixed_fen", false, 0, 10000000, &fixed, e)) < 0 ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &given, e)) < 0)
        return rc;
    if (hi >= 0 && hi < lo)
        return nx_fail(e, NX_EINVAL, "max_income_fen", "收入上限不能低于下限");
    if ((bp < 0) == (fixed < 0))
        return nx_fail(e, NX_EINVAL, "rate_bp", "请填写比例（rate_bp）或固定金额（fixed_fen）之一");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = party_target_community(tx, who, given, &community, e)))
        goto fail;
    store_param p[] = {P_INT(community), P_TEXT(name), P_INT(lo), hi >= 0 ? P_INT(hi) : P_NULL,
                       P_INT(bp >= 0 ? bp : 0), fixed >= 0 ? P_INT(fixed) : P_NULL, P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "party_dues_rules",
                         "community_id, name, min_income_fen, max_income_fen, rate_bp, fixed_fen, "
                         "created_at",
                         p, 7, id, e)) ||
        (rc = audit_write(tx, who, "create", "party_dues_rule", *id, community, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int party_dues_amount(store_tx *tx, int64_t community_id, int64_t income_fen, int64_t *rule_id, int64_t *amount,
                      nx_err *e)
{
    store_param p[] = {P_INT(community_id), P_INT(income_fen)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, rate_bp, fixed_fen FROM party_dues_rules WHERE community_id = $1 AND min_income_fen "
                         "<= $2 AND (max_income_fen IS NULL OR max_income_fen >= $2) ORDER BY min_income_fen DESC, id "
                         "LIMIT 1",
                         p, 2, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "没有适用于该收入的党费标准", e)) == 0) {
        *rule_id = store_int(r, 0);
        *amount = store_isnull(r, 2) ? (income_fen * store_int(r, 1) + 5000) / 10000 : store_int(r, 2);
    } else if (rc == NX_ENOTFOUND) {
        str_copy(e->field, "income_fen", sizeof e->field);
    }
    store_rows_free(r);
    return rc;
}

static bool month_ok(const char *m)
{
    char day[11];
    nx_date d;
    if (!m || strlen(m) != 7)
        return false;
    snprintf(day, sizeof day, "%s-01", m);
    return date_parse(day, &d) == 0;
}

int party_dues_open(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e)
{
    if (!party_manager(who))
        return nx_fail(e, NX_EPERM, "", "无权开启党费月度");
    static const char *const allowed[] = {"month", "community_id", NULL};
    const char *month = NULL;
    int64_t given = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "month", true, 7, &month, e)) ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &given, e)) < 0)
        return rc;
    if (!month_ok(month))
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    char last[11];
    snprintf(last, sizeof last, "%s-31", month);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, created = 0;
    json_t *skipped = json_array();
    store_rows *r = NULL;
    int64_t *rows = NULL;
    size_t n = 0, cap = 0;
    if ((rc = party_target_community(tx, who, given, &community, e)))
        goto fail;
    store_param p[] = {P_INT(community), P_TEXT(last), P_TEXT(month)};
    if ((rc = store_query(tx,
                          "SELECT m.id, m.org_id, m.income_fen FROM party_members m WHERE m.community_id = $1 AND m.status "
                          "= 'active' AND m.joined_on <= $2 AND NOT EXISTS (SELECT 1 FROM party_dues d WHERE d.member_id "
                          "= m.id AND d.month = $3) ORDER BY m.id",
                          p, 3, &r, e)))
        goto fail;
    while (store_row(r)) {
        if (n + 3 > cap) {
            cap = cap ? cap * 2 : 96;
            int64_t *g = realloc(rows, cap * sizeof *rows);
            if (!g) {
                rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
                goto fail;
            }
            rows = g;
        }
        rows[n++] = store_int(r, 0);
        rows[n++] = store_int(r, 1);
        rows[n++] = store_int(r, 2);
    }
    if ((rc = store_rows_end(r, e)))
        goto fail;
    r = NULL;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < n; i += 3) {
        int64_t rule = 0, amount = 0;
        rc = party_dues_amount(tx, community, rows[i + 2], &rule, &amount, e);
        if (rc == NX_ENOTFOUND) {
            json_array_append_new(skipped, json_integer(rows[i]));
            continue;
        }
        if (rc)
            goto fail;
        store_param d[] = {P_INT(community), P_INT(rows[i + 1]), P_INT(rows[i]), P_TEXT(month),
                           P_INT(rows[i + 2]), P_INT(rule),        P_INT(amount), P_INT(now)};
        if ((rc = store_exec(tx,
                             "INSERT INTO party_dues (community_id, org_id, member_id, month, base_fen, rule_id, amount_fen, "
                             "status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'due', $8, $8)",
                             d, 8, NULL, e)))
            goto fail;
        created++;
    }
    if (created &&
        ((rc = audit_write_new(tx, who, "open", "party_dues", 0, community,
                               json_pack("{s:s, s:I}", "month", month, "count", (json_int_t)created), e)) ||
         (rc = outbox_emit_new(tx, PARTY_EV_DUES_OPENED, community, NULL, 0,
                               json_pack("{s:s, s:I}", "month", month, "count", (json_int_t)created), e))))
        goto fail;
    if ((rc = store_commit(tx, e))) {
        json_decref(skipped);
        free(rows);
        return rc;
    }
    free(rows);
    *out = json_pack("{s:s, s:I, s:o}", "month", month, "created", (json_int_t)created, "skipped", skipped);
    return 0;
fail:
    store_rows_free(r);
    free(rows);
    json_decref(skipped);
    store_rollback(tx);
    return rc;
}

#define DUES_COLS                                                                                              \
    "SELECT d.id, d.org_id, o.name, d.member_id, m.name, d.month, d.base_fen, d.amount_fen, d.status, d.paid_fen, " \
    "d.paid_on, d.paid_by_member_id, pb.name FROM party_dues d JOIN party_orgs o ON o.id = d.org_id JOIN "            \
    "party_members m ON m.id = d.member_id LEFT JOIN party_members pb ON pb.id = d.paid_by_member_id WHERE 1 = 1"

static json_t *dues_row(store_rows *r)
{
    return store_json_row(r, "id:i org_id:i org_name:t member_id:i member_name:t month:t base_fen:i amount_fen:i "
                             "status:t paid_fen:i paid_on:t paid_by_member_id:i paid_by_name:t");
}

static void dues_where(sqlq *q, const char *head, const nx_principal *who, const party_filter *f)
{
    sqlq_init(q, head);
    party_view_q(q, who, "d.", "org_id", "d.member_id", false);
    sqlq_eq_int(q, "d.community_id", f->community_id);
    if (f->org_id) { /* a branch's rows include its groups' */
        int k = sqlq_param(q, P_INT(f->org_id));
        sqlq_sql(q, " AND d.org_id IN (SELECT id FROM party_orgs WHERE id = $%d OR parent_id = $%d)", k, k);
    }
    sqlq_eq_int(q, "d.member_id", f->member_id);
    sqlq_eq_text(q, "d.month", f->month);
    if (f->year)
        sqlq_like(q, " AND d.month LIKE $%d ESCAPE '!'", f->year, false);
    sqlq_eq_text(q, "d.status", f->status);
}

static int dues_filter_check(const party_filter *f, nx_err *e)
{
    if (f->month && !month_ok(f->month))
        return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    if (f->status && strcmp(f->status, "due") && strcmp(f->status, "paid"))
        return nx_fail(e, NX_EINVAL, "status", "状态应为 due 或 paid");
    if (f->year && (strlen(f->year) != 4 || strspn(f->year, "0123456789") != 4))
        return nx_fail(e, NX_EINVAL, "year", "年份格式应为 YYYY");
    return 0;
}

int party_dues_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e)
{
    int rc = party_list_check(who, f, "无权查看党费", e);
    if (rc)
        return rc;
    rc = dues_filter_check(f, e);
    if (rc)
        return rc;
    return party_page(app, who, f, dues_where, DUES_COLS, "SELECT COUNT(*) FROM party_dues d WHERE 1 = 1", "d.", false,
                      dues_row, out, e);
}

int party_dues_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    sqlq q;
    int rc = party_view_id_q(who, "无权查看党费", &q, DUES_COLS, "d.", id, "d.member_id", false, e);
    if (rc)
        return rc;
    return store_get_read(app->db, &q, &(store_page_spec){.row = dues_row}, "党费记录不存在", out, e);
}

int party_dues_pay(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *pid, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权登记党费");
    static const char *const allowed[] = {"amount_fen", "paid_on", "paid_by_member_id", NULL};
    int64_t amount = 0, by = 0;
    const char *on = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "amount_fen", true, 0, 100000000, &amount, e)) < 0 ||
        (rc = json_read_date(in, "paid_on", false, &on, e)) ||
        (rc = json_get_int(in, "paid_by_member_id", false, 1, INT64_MAX, &by, e)) < 0)
        return rc;
    char today[11];
    party_today(today);
    if (on && strcmp(on, today) > 0)
        return nx_fail(e, NX_EINVAL, "paid_on", "缴纳日期不能晚于今天");
    sqlq q;
    sqlq_init(&q, "SELECT d.community_id, d.member_id, d.month, d.amount_fen, d.status FROM party_dues d WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    party_scope_q(&q, who, "d.", "org_id");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = sqlq_first(tx, &q, "党费记录不存在", &r, e))) {
        store_rows_free(r);
        goto fail;
    }
    int64_t community = store_int(r, 0), member = store_int(r, 1), due = store_int(r, 3);
    char month[8];
    str_copy(month, store_text(r, 2), sizeof month);
    bool paid = strcmp(store_text(r, 4), "paid") == 0;
    store_rows_free(r);
    if (paid) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "该月党费已缴纳");
        goto fail;
    }
    if (amount != due) {
        char want[32];
        party_yuan(due, want, sizeof want);
        rc = nx_fail(e, NX_EINVAL, "amount_fen", "缴纳金额须与应缴金额一致（%s 元）", want);
        goto fail;
    }
    if (by && by != member) {
        store_param b[] = {P_INT(by), P_INT(community)};
        if ((rc = store_exists_or_fail(tx,
                                       "SELECT COUNT(*) FROM party_members WHERE id = $1 AND community_id = "
                                       "$2 AND status = 'active'",
                                       b, 2, "paid_by_member_id", e, "代缴人须为本社区在册党员")))
            goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(amount), P_TEXT(on ? on : today), P_INT(by ? by : member), P_ID(who->user_id), P_INT(now),
                       P_INT(id)};
    int64_t changed = 0;
    if ((rc = store_exec(tx,
                         "UPDATE party_dues SET status = 'paid', paid_fen = $1, paid_on = $2, paid_by_member_id = $3, "
                         "recorded_by = $4, updated_at = $5 WHERE id = $6 AND status = 'due'",
                         p, 6, &changed, e)))
        goto fail;
    if (changed != 1) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "该月党费已缴纳");
        goto fail;
    }
    if ((rc = audit_write_new(tx, who, "pay", "party_dues", id, community,
                              json_pack("{s:I}", "amount_fen", (json_int_t)amount), e)) ||
        (rc = outbox_emit_new(tx, PARTY_EV_DUES_PAID, community, "dues", id,
                              json_pack("{s:I, s:I, s:s, s:I}", "dues_id", (json_int_t)id, "member_id",
                                        (json_int_t)member, "month", month, "amount_fen", (json_int_t)amount),
                              e)))
        goto fail;
    *pid = id;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

#define ARREARS_MAX 2000

static json_t *arrears_row(store_rows *r)
{
    return store_json_row(r, "member_id:i name:t org_id:i org_name:t months:i amount_fen:i first_month:t");
}

int party_dues_arrears(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e)
{
    int rc = party_list_check(who, f, "无权查看党费", e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT d.member_id, m.name, m.org_id, o.name, COUNT(*), SUM(d.amount_fen), MIN(d.month) FROM "
                  "party_dues d JOIN party_members m ON m.id = d.member_id JOIN party_orgs o ON o.id = m.org_id WHERE "
                  "d.status = 'due'");
    party_view_q(&q, who, "d.", "org_id", "d.member_id", false);
    sqlq_eq_int(&q, "d.community_id", f->community_id);
    if (f->org_id) {
        int k = sqlq_param(&q, P_INT(f->org_id));
        sqlq_sql(&q, " AND d.org_id IN (SELECT id FROM party_orgs WHERE id = $%d OR parent_id = $%d)", k, k);
    }
    sqlq_sql(&q, " GROUP BY d.member_id, m.name, m.org_id, o.name ORDER BY SUM(d.amount_fen) DESC, d.member_id LIMIT %d",
             ARREARS_MAX + 1);
    rc = store_items_read(app->db, &q, &(store_page_spec){.row = arrears_row, .max = ARREARS_MAX}, out, e);
    if (rc == NX_ETOOBIG)
        rc = nx_fail(e, NX_ETOOBIG, "org_id", "欠缴党员超过 %d 人，请按支部查看", ARREARS_MAX);
    return rc;
}

/* ---- the yearly statement ---- */

#define STATEMENT_MAX 5000

int party_dues_statement(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e)
{
    int rc = party_list_check(who, f, "无权查看党费", e);
    if (rc)
        return rc;
    if (!f->year)
        return nx_fail(e, NX_EINVAL, "year", "请指定年份");
    rc = dues_filter_check(f, e);
    if (rc)
        return rc;
    party_filter g = *f;
    g.month = NULL;
    g.status = NULL;
    sqlq q;
    dues_where(&q,
               "SELECT d.member_id, m.name, o.name, d.month, d.amount_fen, d.status, d.paid_fen FROM party_dues d JOIN "
               "party_members m ON m.id = d.member_id JOIN party_orgs o ON o.id = m.org_id WHERE 1 = 1",
               who, &g);
    sqlq_sql(&q, " ORDER BY o.name, d.member_id, d.month LIMIT %d", STATEMENT_MAX * 12 + 1);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    store_rows *r;
    json_t *res = json_pack("{s:s, s:[], s:I, s:I, s:I}", "year", f->year, "members", "due_fen", (json_int_t)0,
                            "paid_fen", (json_int_t)0, "arrears_fen", (json_int_t)0);
    json_t *members = json_object_get(res, "members"), *cur = NULL;
    int64_t cur_id = 0, tdue = 0, tpaid = 0, n = 0;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    while (store_row(r)) {
        if (++n > STATEMENT_MAX * 12) {
            store_rows_free(r);
            rc = nx_fail(e, NX_ETOOBIG, "org_id", "记录过多，请按支部查看");
            goto done;
        }
        int64_t mid = store_int(r, 0);
        if (!cur || mid != cur_id) {
            cur = json_pack("{s:I, s:s, s:s, s:[], s:I, s:I, s:I}", "member_id", (json_int_t)mid, "name",
                            store_text(r, 1), "org_name", store_text(r, 2), "months", "due_fen", (json_int_t)0,
                            "paid_fen", (json_int_t)0, "arrears_fen", (json_int_t)0);
            json_t *months = json_object_get(cur, "months");
            for (int i = 0; i < 12; i++)
                json_array_append_new(months, json_null());
            json_array_append_new(members, cur);
            cur_id = mid;
        }
        const char *month = store_text(r, 3);
        int mi = (month[5] - '0') * 10 + (month[6] - '0');
        int64_t amount = store_int(r, 4), paid = strcmp(store_text(r, 5), "paid") == 0 ? store_int(r, 6) : 0;
        if (mi >= 1 && mi <= 12)
            json_array_set_new(json_object_get(cur, "months"), (size_t)mi - 1,
                               json_pack("{s:s, s:I, s:s}", "month", month, "amount_fen", (json_int_t)amount, "status",
                                         store_text(r, 5)));
        int64_t md = json_integer_value(json_object_get(cur, "due_fen")) + amount;
        int64_t mp = json_integer_value(json_object_get(cur, "paid_fen")) + paid;
        json_object_set_new(cur, "due_fen", json_integer(md));
        json_object_set_new(cur, "paid_fen", json_integer(mp));
        json_object_set_new(cur, "arrears_fen", json_integer(md - mp));
        tdue += amount;
        tpaid += paid;
    }
    if ((rc = store_rows_end(r, e)))
        goto done;
    json_object_set_new(res, "due_fen", json_integer(tdue));
    json_object_set_new(res, "paid_fen", json_integer(tpaid));
    json_object_set_new(res, "arrears_fen", json_integer(tdue - tpaid));
done:
    return store_read_finish(tx, rc, res, out);
}

int party_dues_statement_xlsx(nx_app *app, const nx_principal *who, const party_filter *f, const char *path,
                              int64_t *rows, nx_err *e)
{
    json_t *st = NULL;
    int rc = party_dues_statement(app, who, f, &st, e);
    if (rc)
        return rc;
    xlsx_out *x = NULL;
    char sheet[32];
    snprintf(sheet, sizeof sheet, "%s年党费", f->year);
    static const char *const titles[] = {"支部", "姓名", "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月",
                                         "9月", "10月", "11月", "12月", "应缴（元）", "已缴（元）", "欠缴（元）"};
    if ((rc = export_open(path, sheet, titles, NULL, 17, &x, e))) {
        json_decref(st);
        return rc;
    }
    char cellbuf[17][48];
    const char *cells[17];
    const char types[] = "ssssssssssssssnnn";
    size_t i;
    json_t *m;
    *rows = 0;
    json_array_foreach(json_object_get(st, "members"), i, m) {
        cells[0] = json_string_value(json_object_get(m, "org_name"));
        cells[1] = json_string_value(json_object_get(m, "name"));
        for (int k = 0; k < 12; k++) {
            json_t *c = json_array_get(json_object_get(m, "months"), (size_t)k);
            if (json_is_null(c)) {
                cells[2 + k] = "";
                continue;
            }
            char y[32];
            party_yuan(json_integer_value(json_object_get(c, "amount_fen")), y, sizeof y);
            snprintf(cellbuf[2 + k], sizeof cellbuf[0], "%s%s", y,
                     strcmp(json_string_value(json_object_get(c, "status")), "paid") == 0 ? " 已缴" : " 未缴");
            cells[2 + k] = cellbuf[2 + k];
        }
        party_yuan(json_integer_value(json_object_get(m, "due_fen")), cellbuf[14], sizeof cellbuf[0]);
        party_yuan(json_integer_value(json_object_get(m, "paid_fen")), cellbuf[15], sizeof cellbuf[0]);
        party_yuan(json_integer_value(json_object_get(m, "arrears_fen")), cellbuf[16], sizeof cellbuf[0]);
        cells[14] = cellbuf[14];
        cells[15] = cellbuf[15];
        cells[16] = cellbuf[16];
        if (!rc)
            rc = xlsx_out_row_typed(x, cells, types, 17);
        (*rows)++;
    }
    for (int k = 0; k < 14; k++)
        cells[k] = "";
    cells[0] = "合计";
    party_yuan(json_integer_value(json_object_get(st, "due_fen")), cellbuf[14], sizeof cellbuf[0]);
    party_yuan(json_integer_value(json_object_get(st, "paid_fen")), cellbuf[15], sizeof cellbuf[0]);
    party_yuan(json_integer_value(json_object_get(st, "arrears_fen")), cellbuf[16], sizeof cellbuf[0]);
    if (!rc)
        rc = xlsx_out_row_typed(x, cells, types, 17);
    json_decref(st);
    /* a failed row is sticky: closing reports it and removes the file; a complete statement is
     * audited (who exported whose dues: the year and the filters, never the rows) */
    json_t *detail = json_pack("{s:s?, s:I}", "year", f->year, "count", (json_int_t)*rows);
    if (f->org_id)
        json_object_set_new(detail, "org_id", json_integer(f->org_id));
    return export_finish(app->db, x, path, who, "party_dues", 0, f->community_id ? f->community_id : who->community_id,
                         detail, e);
}
