/* allowance.c — 高龄津贴 (the old-age allowance): tiers, coming-of-age outreach, tier changes, stops
 * and the monthly roster.
 *
 * Tiers and amounts are data (allowance_tiers, per region; service_settings "allowance.region" picks
 * the active one), since every city sets its own. The date rules, all taking "now" as a parameter:
 *   - a tier applies from the month AFTER the birthday on which its age is reached (次月起): the
 *     tier of month M is that of the age reached by the last day of month M-1;
 *   - an approved application starts payment in the month after approval;
 *   - payment for a month is made at its start, so by "now" every month up to now's month is paid;
 *   - the allowance ends with the month of death or moving out; months paid after it are to be
 *     recovered (months and amount are recorded when the sweep stops the allowance).
 * An approval records the tier of the milestone the resident reaches in the first paid month when
 * there is one (the tier the coming-of-age list promised), so the record never reads 80+ for a
 * resident promised 90-99; the roster still pays each month by the rule above.
 * Amounts are integers in fen. The sweep is idempotent: a second run with the same now changes
 * nothing. */
#include "modules/services/services_internal.h"

#include "base/jsonin.h"
#include "base/str.h"
#include "base/vec.h"
#include "modules/people/people.h"
#include "notify/outbox.h"
#include "report/export.h"
#include "store/page.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TIERS 10
/* The coming-of-age list is one answer, not a page: a scope with more than this many residents
 * reaching a milestone next month is refused (never a silently shortened list). */
#define COMING_MAX 5000

/* ---- pure date rules ---- */

int services_allowance_month_diff(int y1, int m1, int y2, int m2)
{
    return (y2 - y1) * 12 + (m2 - m1);
}

int services_allowance_tier_for_month(const services_allowance_tier *tiers, int n, nx_date birth, int y,
                                      int m)
{
    if (!date_valid(y, m, 1) || !date_valid(birth.y, birth.m, birth.d))
        return -1;
    nx_date last_of_prev = date_from_days(date_to_days((nx_date){y, m, 1}) - 1);
    int age = date_age(birth, last_of_prev);
    int best = -1;
    for (int i = 0; i < n; i++)
        if (age >= tiers[i].min_age && (best < 0 || tiers[i].min_age > tiers[best].min_age))
            best = i;
    return best;
}

static void month_add(int *y, int *m, int k)
{
    int t = *y * 12 + (*m - 1) + k;
    *y = t / 12;
    *m = t % 12 + 1;
}

int services_month_parse(const char *s, int *y, int *m)
{
    int64_t yy, mm;
    char buf[8];
    if (s == NULL || strlen(s) != 7 || s[4] != '-')
        return NX_EINVAL;
    memcpy(buf, s, 4);
    buf[4] = '\0';
    if (str_to_i64(buf, 1900, 2200, &yy) || str_to_i64(s + 5, 1, 12, &mm))
        return NX_EINVAL;
    *y = (int)yy;
    *m = (int)mm;
    return 0;
}

/* ---- tiers ---- */

int services_allowance_load_tiers(store_tx *tx, char *region, size_t rcap, services_allowance_tier *t,
                                  int cap, int *n, nx_err *e)
{
    char *reg = NULL;
    int rc = store_one_text(tx, "SELECT value FROM service_settings WHERE key = 'allowance.region'", NULL, 0, &reg, e);
    if (rc == NX_ENOTFOUND) {
        reg = NULL;
        rc = 0;
    }
    if (rc)
        return rc;
    str_copy(region, reg ? reg : "default", rcap);
    free(reg);
    store_rows *r;
    store_param p[] = {P_TEXT(region)};
    if ((rc = store_query(tx, "SELECT min_age, monthly_amount FROM allowance_tiers WHERE region = $1 ORDER BY min_age",
                          p, 1, &r, e)))
        return rc;
    *n = 0;
    while (store_row(r)) {
        if (*n == cap) {
            store_rows_free(r);
            return nx_fail(e, NX_EINTERNAL, "", "高龄津贴档次超过 %d 个", cap);
        }
        t[*n].min_age = (int)store_int(r, 0);
        t[*n].monthly_amount = store_int(r, 1);
        (*n)++;
    }
    return store_rows_end(r, e);
}

static const char *tier_label(int min_age, const services_allowance_tier *t, int n, char *buf, size_t cap)
{
    int next = 0;
    for (int i = 0; i < n; i++)
        if (t[i].min_age > min_age && (next == 0 || t[i].min_age < next))
            next = t[i].min_age;
    if (next)
        snprintf(buf, cap, "%d-%d周岁", min_age, next - 1);
    else
        snprintf(buf, cap, "%d周岁及以上", min_age);
    return buf;
}

static void yuan(int64_t fen, char *out, size_t cap)
{
    if (fen % 100 == 0)
        snprintf(out, cap, "%lld", (long long)(fen / 100));
    else
        snprintf(out, cap, "%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

int services_allowance_tiers(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    (void)who;
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    char region[64];
    services_allowance_tier t[MAX_TIERS];
    int n;
    store_rows *r = NULL;
    if ((rc = services_allowance_load_tiers(tx, region, sizeof region, t, MAX_TIERS, &n, e)) ||
        (rc = store_query(tx,
                          "SELECT region, region_name, min_age, monthly_amount, label FROM allowance_tiers "
                          "ORDER BY region, min_age",
                          NULL, 0, &r, e))) {
        store_rollback(tx);
        return rc;
    }
    json_t *regions = json_array();
    while (store_row(r)) {
        json_t *last = json_array_get(regions, json_array_size(regions) - 1);
        if (last == NULL || strcmp(json_string_value(json_object_get(last, "region")), store_text(r, 0)) != 0) {
            last = json_pack("{s:s, s:s, s:[]}", "region", store_text(r, 0), "name", store_text(r, 1), "tiers");
            json_array_append_new(regions, last);
        }
        json_array_append_new(json_object_get(last, "tiers"),
                              json_pack("{s:I, s:I, s:s}", "min_age", (json_int_t)store_int(r, 2), "monthly_amount",
                                        (json_int_t)store_int(r, 3), "label", store_text(r, 4)));
    }
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc) {
        json_decref(regions);
        return rc;
    }
    *out = json_pack("{s:s, s:o}", "region", region, "regions", regions);
    return 0;
}

int services_allowance_tiers_save(nx_app *app, const nx_principal *who, json_t *body, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权修改高龄津贴标准");
    static const char *const allowed[] = {"region", "name", "tiers", "active", NULL};
    const char *region = NULL, *name = NULL;
    bool active = false;
    int rc;
    if ((rc = json_only(body, allowed, e)) || (rc = json_get_str(body, "region", true, 30, &region, e)) < 0 ||
        (rc = json_get_str(body, "name", false, 40, &name, e)) < 0 || (rc = json_get_bool(body, "active", false, &active, e)) < 0)
        return rc;
    for (const char *c = region; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return nx_fail(e, NX_EINVAL, "region", "地区代码只能由小写字母、数字和下划线组成");
    json_t *tiers = json_object_get(body, "tiers");
    if (tiers && !json_is_null(tiers)) {
        if (!json_is_array(tiers) || json_array_size(tiers) == 0 || json_array_size(tiers) > MAX_TIERS)
            return nx_fail(e, NX_EINVAL, "tiers", "档次应为 1 到 %d 个", MAX_TIERS);
        if (name == NULL)
            return nx_fail(e, NX_EINVAL, "name", "请填写地区名称");
        size_t i;
        json_t *t;
        int64_t prev = 0;
        json_array_foreach(tiers, i, t) {
            static const char *const tf[] = {"min_age", "monthly_amount", "label", NULL};
            int64_t age, amount;
            const char *label;
            if (!json_is_object(t) || (rc = json_only(t, tf, e)) ||
                (rc = json_get_int(t, "min_age", true, 60, 130, &age, e)) < 0 ||
                (rc = json_get_int(t, "monthly_amount", true, 0, 100000000, &amount, e)) < 0 ||
                (rc = json_get_str(t, "label", false, 20, &label, e)) < 0)
                return rc < 0 ? nx_fail(e, NX_EINVAL, "tiers", "第 %zu 档：%s", i + 1, e ? e->msg : "") :
                                nx_fail(e, NX_EINVAL, "tiers", "第 %zu 档格式不对", i + 1);
            if (age <= prev)
                return nx_fail(e, NX_EINVAL, "tiers", "档次的起始年龄应从小到大排列");
            prev = age;
        }
    } else if (!active) {
        return nx_fail(e, NX_EINVAL, "tiers", "请提供档次，或以 active 启用已有地区标准");
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    if (tiers && !json_is_null(tiers)) {
        store_param p[] = {P_TEXT(region)};
        if ((rc = store_exec(tx, "DELETE FROM allowance_tiers WHERE region = $1", p, 1, NULL, e)))
            goto fail;
        services_allowance_tier tt[MAX_TIERS];
        int nt = 0;
        size_t i;
        json_t *t;
        json_array_foreach(tiers, i, t) {
            tt[nt].min_age = (int)json_integer_value(json_object_get(t, "min_age"));
            tt[nt].monthly_amount = json_integer_value(json_object_get(t, "monthly_amount"));
            nt++;
        }
        for (int k = 0; k < nt; k++) {
            char lb[40];
            const char *label = json_string_value(json_object_get(json_array_get(tiers, (size_t)k), "label"));
            store_param q[] = {P_TEXT(region), P_TEXT(name), P_INT(tt[k].min_age), P_INT(tt[k].monthly_amount),
                               P_TEXT(label ? label : tier_label(tt[k].min_age, tt, nt, lb, sizeof lb))};
            if ((rc = app_insert(tx, "allowance_tiers",
                                 "region, region_name, min_age, monthly_amount, label",
                                 q, 5, NULL, e)))
                goto fail;
        }
    } else {
        int64_t cnt = 0;
        store_param p[] = {P_TEXT(region)};
        if ((rc = store_one_int(tx, "SELECT count(*) FROM allowance_tiers WHERE region = $1", p, 1, &cnt, e)))
            goto fail;
        if (cnt == 0) {
            rc = nx_fail(e, NX_EINVAL, "region", "没有该地区的津贴标准");
            goto fail;
        }
    }
    if (active) {
        store_param p[] = {P_TEXT(region)};
        if ((rc = store_exec(tx,
                             "INSERT INTO service_settings (key, value) VALUES ('allowance.region', $1) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             p, 1, NULL, e)))
            goto fail;
    }
    if ((rc = audit_write_new(
             tx, who, "update", "allowance_tiers", 0, 0,
             json_pack("{s:s, s:b, s:b}", "region", region, "tiers", tiers != NULL, "active", active), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* ---- start, sweep ---- */

int services_allowance_start(nx_app *app, store_tx *tx, const nx_principal *who, int64_t app_id,
                             const services_person *p, int64_t now_ms, nx_err *e)
{
    (void)app;
    char region[64];
    services_allowance_tier t[MAX_TIERS];
    int n, rc;
    if ((rc = services_allowance_load_tiers(tx, region, sizeof region, t, MAX_TIERS, &n, e)))
        return rc;
    if (n == 0)
        return nx_fail(e, NX_EINVAL, "", "未配置高龄津贴标准，请先设置档次");
    nx_date today = services_local_date(now_ms), birth;
    int y = today.y, m = today.m;
    month_add(&y, &m, 1);
    if (date_parse(p->birth, &birth) != 0)
        return nx_fail(e, NX_EINVAL, "", "居民出生日期无效");
    int idx = services_allowance_tier_for_month(t, n, birth, y, m);
    if (idx < 0)
        idx = 0;
    /* A milestone reached in the first paid month (the coming-of-age list's promise: "90-99周岁·300元"
     * to a resident turning 90 then) is the tier recorded; the sweep leaves the first month alone. */
    int ny = y, nm = m;
    month_add(&ny, &nm, 1);
    int promised = services_allowance_tier_for_month(t, n, birth, ny, nm);
    if (promised >= 0 && t[promised].min_age > t[idx].min_age)
        idx = promised;
    char start[8];
    snprintf(start, sizeof start, "%04d-%02d", y, m);
    store_param q[] = {P_INT(p->id),  P_INT(p->community_id), P_ID(p->grid_id),        P_INT(app_id),
                       P_TEXT(region), P_INT(t[idx].min_age), P_INT(t[idx].monthly_amount), P_TEXT(start),
                       P_INT(now_ms)};
    int64_t rid;
    if ((rc = store_one_int(tx,
                            "INSERT INTO allowance_recipients (resident_id, community_id, grid_id, application_id, region, "
                            "tier_age, monthly_amount, start_month, status, created_at, updated_at) VALUES ($1, $2, $3, "
                            "$4, $5, $6, $7, $8, 'active', $9, $9) ON CONFLICT (resident_id) DO UPDATE SET "
                            "community_id = excluded.community_id, grid_id = excluded.grid_id, "
                            "application_id = excluded.application_id, region = excluded.region, "
                            "tier_age = excluded.tier_age, monthly_amount = excluded.monthly_amount, "
                            "start_month = excluded.start_month, status = 'active', stop_reason = NULL, "
                            "stop_date = NULL, paid_through = NULL, recover_months = 0, recover_amount = 0, "
                            "updated_at = excluded.updated_at RETURNING id",
                            q, 9, &rid, e)))
        return rc;
    store_param c[] = {P_INT(rid), P_INT(p->community_id), P_INT(now_ms), P_INT(t[idx].min_age),
                       P_INT(t[idx].monthly_amount), P_TEXT(start)};
    if ((rc = store_exec(tx,
                         "INSERT INTO allowance_changes (recipient_id, community_id, at, kind, to_age, amount, "
                         "effective_month, note) VALUES ($1, $2, $3, 'start', $4, $5, $6, '审核通过，次月起发放')",
                         c, 6, NULL, e)))
        return rc;
    return audit_write(tx, who, "allowance_start", "allowance_recipient", rid, p->community_id, NULL, e);
}

typedef struct rcp {
    int64_t id, resident, community, amount;
    int tier_age;
    char birth[11], status[20], stop_date[11], start[8];
} rcp;

/* One row of the sweep's query (services_allowance_sweep) as a recipient. */
static void rcp_fill(store_rows *r, void *elem)
{
    rcp *x = elem;
    x->id = store_int(r, 0);
    x->resident = store_int(r, 1);
    x->community = store_int(r, 2);
    x->amount = store_int(r, 3);
    x->tier_age = (int)store_int(r, 4);
    str_copy(x->birth, store_text(r, 5), sizeof x->birth);
    str_copy(x->status, store_text(r, 6), sizeof x->status);
    str_copy(x->stop_date, store_text(r, 7) ? store_text(r, 7) : "", sizeof x->stop_date);
    str_copy(x->start, store_text(r, 8), sizeof x->start);
}

/* The event of a change (an allowance stopped, a tier changed) of recipient x, recorded as change
 * (an allowance_changes row: the message service reads its note). */
static int allowance_emit(store_tx *tx, const char *kind, const rcp *x, int64_t change, nx_err *e)
{
    return outbox_emit_new(tx, kind, x->community, "allowance_change", change,
                           json_pack("{s:I, s:I}", "allowance_id", (json_int_t)x->id, "resident_id",
                                     (json_int_t)x->resident),
                           e);
}

/* A change of recipient x: update (its row), insert (the allowance_changes row, RETURNING id), then
 * kind emitted for that change. */
static int recipient_change(store_tx *tx, const rcp *x, const char *update, const store_param *u, int nu,
                            const char *insert, const store_param *c, int nc, const char *kind, nx_err *e)
{
    int64_t change = 0;
    int rc;
    if ((rc = store_exec(tx, update, u, nu, NULL, e)) || (rc = store_one_int(tx, insert, c, nc, &change, e)))
        return rc;
    return allowance_emit(tx, kind, x, change, e);
}

int services_allowance_sweep(nx_app *app, store_tx *tx, const nx_principal *who, int64_t now_ms, int *changes,
                             int *stopped, nx_err *e)
{
    (void)app;
    char region[64];
    services_allowance_tier t[MAX_TIERS];
    int n, rc;
    if ((rc = services_allowance_load_tiers(tx, region, sizeof region, t, MAX_TIERS, &n, e)))
        return rc;
    if (n == 0)
        return 0;
    nx_date today = services_local_date(now_ms);
    sqlq q;
    sqlq_init(&q, "SELECT ar.id, ar.resident_id, ar.community_id, ar.monthly_amount, ar.tier_age, r.birth_date, "
                  "r.status, COALESCE(r.deceased_on, r.moved_out_on), ar.start_month "
                  "FROM allowance_recipients ar JOIN residents r ON r.id = ar.resident_id "
                  "WHERE ar.status = 'active'");
    if (who)
        perm_scope_q(who, "ar.", "resident_id", &q);
    vec recipients;
    vec_init(&recipients, sizeof(rcp), 0);
    if ((rc = sqlq_query_vec(tx, &q, rcp_fill, &recipients, e))) {
        vec_cleanup(&recipients);
        return rc;
    }
    rcp *list = recipients.items;
    size_t nl = recipients.len;
    char month[8];
    snprintf(month, sizeof month, "%04d-%02d", today.y, today.m);
    for (size_t i = 0; i < nl && rc == 0; i++) {
        rcp *x = &list[i];
        nx_date birth;
        int sy, sm;
        if (date_parse(x->birth, &birth) != 0 || services_month_parse(x->start, &sy, &sm) != 0)
            continue;
        if (strcmp(x->status, "active") != 0) {
            /* stop: entitled through the month of death or moving out */
            nx_date stop = today;
            if (x->stop_date[0])
                date_parse(x->stop_date, &stop);
            int fy = stop.y, fm = stop.m;
            month_add(&fy, &fm, 1); /* first month not entitled */
            if (services_allowance_month_diff(sy, sm, fy, fm) < 0) {
                fy = sy;
                fm = sm;
            }
            int months = 0;
            int64_t amount = 0;
            for (int y = fy, m = fm; services_allowance_month_diff(y, m, today.y, today.m) >= 0;
                 month_add(&y, &m, 1)) {
                int k = services_allowance_tier_for_month(t, n, birth, y, m);
                months++;
                amount += k >= 0 ? t[k].monthly_amount : x->amount;
            }
            char sd[11];
            date_format(stop, sd);
            const char *reason = strcmp(x->status, "deceased") == 0 ? "deceased" : "moved_out";
            store_param u[] = {P_INT(x->id), P_TEXT(reason), P_TEXT(sd), P_TEXT(month), P_INT(months), P_INT(amount),
                               P_INT(now_ms)};
            char note[200], yuan_s[32];
            yuan(amount, yuan_s, sizeof yuan_s);
            snprintf(note, sizeof note, "%s（%s），应追回 %d 个月共 %s 元", strcmp(reason, "deceased") == 0 ? "死亡" : "迁出", sd,
                     months, yuan_s);
            store_param c[] = {P_INT(x->id), P_INT(x->community), P_INT(now_ms), P_INT(x->tier_age), P_TEXT(sd),
                               P_TEXT(note)};
            if ((rc = recipient_change(tx, x,
                                       "UPDATE allowance_recipients SET status = 'stopped', stop_reason = $2, "
                                       "stop_date = $3, paid_through = $4, recover_months = $5, recover_amount = $6, "
                                       "updated_at = $7 WHERE id = $1",
                                       u, 7,
                                       "INSERT INTO allowance_changes (recipient_id, community_id, at, kind, from_age, "
                                       "effective_month, note) VALUES ($1, $2, $3, 'stop', $4, substr($5, 1, 7), $6) "
                                       "RETURNING id",
                                       c, 6, SERVICES_EV_ALLOWANCE_STOPPED, e)))
                break;
            (*stopped)++;
            continue;
        }
        if (services_allowance_month_diff(sy, sm, today.y, today.m) <= 0)
            continue; /* not started yet, or its first month: the tier recorded at approval holds */
        int k = services_allowance_tier_for_month(t, n, birth, today.y, today.m);
        if (k < 0 || (t[k].min_age == x->tier_age && t[k].monthly_amount == x->amount))
            continue;
        store_param u[] = {P_INT(x->id), P_INT(t[k].min_age), P_INT(t[k].monthly_amount), P_INT(now_ms)};
        char note[200], yuan_s[32], lb[40];
        yuan(t[k].monthly_amount, yuan_s, sizeof yuan_s);
        snprintf(note, sizeof note, "年满 %d 周岁，自 %04d年%02d月起按%s发放，每月 %s 元", t[k].min_age, today.y, today.m,
                 tier_label(t[k].min_age, t, n, lb, sizeof lb), yuan_s);
        store_param c[] = {P_INT(x->id), P_INT(x->community), P_INT(now_ms), P_INT(x->tier_age), P_INT(t[k].min_age),
                           P_INT(t[k].monthly_amount), P_TEXT(month), P_TEXT(note)};
        if ((rc = recipient_change(tx, x,
                                   "UPDATE allowance_recipients SET tier_age = $2, monthly_amount = $3, updated_at = $4 "
                                   "WHERE id = $1",
                                   u, 4,
                                   "INSERT INTO allowance_changes (recipient_id, community_id, at, kind, from_age, "
                                   "to_age, amount, effective_month, note) VALUES ($1, $2, $3, 'tier', $4, $5, $6, $7, "
                                   "$8) RETURNING id",
                                   c, 8, SERVICES_EV_ALLOWANCE_TIER_CHANGED, e)))
            break;
        (*changes)++;
    }
    vec_cleanup(&recipients);
    return rc;
}

/* ---- coming of age ---- */

/* A list of residents by age (the two outreach lists below): every row of q (ordered, with
 * "LIMIT COMING_MAX + 1") on tx through row into *items, a new array; a row for which row answers
 * NULL is passed over (an unreadable birth date). More than COMING_MAX rows is NX_ETOOBIG naming
 * who (the residents the list shows): the list is never cut short. */
static int age_list(store_tx *tx, sqlq *q, const char *who, json_t *(*row)(store_rows *, void *), void *ctx,
                    json_t **items, nx_err *e)
{
    *items = NULL;
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    json_t *a = json_array();
    int seen = 0;
    while (store_row(r)) {
        if (++seen > COMING_MAX) {
            store_rows_free(r);
            json_decref(a);
            return nx_fail(e, NX_ETOOBIG, "", "%s超过 %d 人，请按社区分别查看", who, COMING_MAX);
        }
        json_t *o = row(r, ctx);
        if (o)
            json_array_append_new(a, o);
    }
    if ((rc = store_rows_end(r, e))) {
        json_decref(a);
        return rc;
    }
    *items = a;
    return 0;
}

typedef struct {
    int y, m; /* next month */
    const services_allowance_tier *t;
    int nt;
} coming_ctx;

/* A resident who turns 80, 90 or 100 next month, with the tier that birthday starts. */
static json_t *coming_row(store_rows *r, void *ctx)
{
    const coming_ctx *c = ctx;
    nx_date b;
    if (date_parse(store_text(r, 3), &b) != 0)
        return NULL;
    int turning = c->y - b.y;
    nx_date bd = {c->y, c->m, b.d};
    if (!date_valid(bd.y, bd.m, bd.d))
        bd.d = 28; /* born on 29 February: the birthday falls on the 28th */
    char bds[11], lb[40];
    date_format(bd, bds);
    int64_t amount = 0;
    const char *label = NULL;
    for (int i = 0; i < c->nt; i++)
        if (c->t[i].min_age == turning) {
            amount = c->t[i].monthly_amount;
            label = tier_label(c->t[i].min_age, c->t, c->nt, lb, sizeof lb);
        }
    return json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:o, s:b, s:b, s:o, s:I}", "resident_id",
                     (json_int_t)store_int(r, 0), "name", store_text(r, 1), "sex",
                     store_int(r, 2) == 1 ? "male" : "female", "birth_date", store_text(r, 3), "turning",
                     turning, "birthday", bds, "grid_name", store_json_text(r, 4), "receiving",
                     store_int(r, 6) > 0, "open_application", store_int(r, 7) > 0, "tier_label",
                     services_json_str(label), "monthly_amount", (json_int_t)amount);
}

int services_coming_of_age(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看居民名单");
    nx_date today = services_local_date(now_ms);
    int y = today.y, m = today.m;
    month_add(&y, &m, 1);
    static const int ages[3] = {80, 90, 100};
    char lo[3][11], hi[3][11];
    for (int i = 0; i < 3; i++) {
        snprintf(lo[i], sizeof lo[i], "%04d-%02d-01", y - ages[i], m);
        snprintf(hi[i], sizeof hi[i], "%04d-%02d-31", y - ages[i], m);
    }
    sqlq q;
    sqlq_init(&q, "SELECT r.id, r.name, r.sex, r.birth_date, g.name, r.community_id, "
                  "(SELECT count(*) FROM allowance_recipients ar WHERE ar.resident_id = r.id AND ar.status = 'active'), "
                  "(SELECT count(*) FROM service_applications sa JOIN service_items si ON si.id = sa.item_id "
                  "WHERE sa.resident_id = r.id AND si.effect = 'allowance' AND sa.status IN ('draft', 'in_review', "
                  "'returned')) FROM residents r LEFT JOIN grids g ON g.id = r.grid_id WHERE r.status = 'active'");
    for (int i = 0; i < 3; i++) {
        sqlq_add(&q, i == 0 ? " AND ((r.birth_date >= $%d" : " OR (r.birth_date >= $%d", P_TEXT(lo[i]));
        sqlq_add(&q, i == 2 ? " AND r.birth_date <= $%d))" : " AND r.birth_date <= $%d)", P_TEXT(hi[i]));
    }
    perm_scope_q(who, "r.", "id", &q);
    sqlq_sql(&q, " ORDER BY r.birth_date, r.id LIMIT %d", COMING_MAX + 1);
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    char region[64];
    services_allowance_tier t[MAX_TIERS];
    coming_ctx c = {.y = y, .m = m, .t = t};
    json_t *items = NULL;
    if ((rc = services_allowance_load_tiers(tx, region, sizeof region, t, MAX_TIERS, &c.nt, e)) == 0)
        rc = age_list(tx, &q, "下月满 80、90、100 周岁的居民", coming_row, &c, &items, e);
    store_rollback(tx);
    if (rc)
        return rc;
    char month[8];
    snprintf(month, sizeof month, "%04d-%02d", y, m);
    *out = json_pack("{s:s, s:o}", "month", month, "items", items);
    return 0;
}

/* ---- outreach: over 80 and not receiving ---- */

/* A registered resident of 80 or more who receives no allowance; ctx is today's date. */
static json_t *missing_row(store_rows *r, void *ctx)
{
    nx_date b;
    int age = date_parse(store_text(r, 2), &b) == 0 ? date_age(b, *(const nx_date *)ctx) : 0;
    return json_pack("{s:I, s:s, s:s, s:i, s:o, s:b}", "resident_id", (json_int_t)store_int(r, 0), "name",
                     store_text(r, 1), "birth_date", store_text(r, 2), "age", age, "grid_name",
                     store_json_text(r, 3), "open_application", store_int(r, 4) > 0);
}

int services_allowance_missing(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看居民名单");
    nx_date today = services_local_date(now_ms);
    char born_by[11];
    nx_date b80 = {today.y - 80, today.m, today.d};
    if (!date_valid(b80.y, b80.m, b80.d))
        b80.d = 28; /* 29 February */
    date_format(b80, born_by);
    sqlq q;
    sqlq_init(&q, "SELECT r.id, r.name, r.birth_date, g.name, "
                  "(SELECT count(*) FROM service_applications sa JOIN service_items si ON si.id = sa.item_id "
                  "WHERE sa.resident_id = r.id AND si.effect = 'allowance' AND sa.status IN ('draft', 'in_review', "
                  "'returned')) FROM residents r LEFT JOIN grids g ON g.id = r.grid_id WHERE r.status = 'active' "
                  "AND r.residence = 'registered' AND NOT EXISTS (SELECT 1 FROM allowance_recipients ar WHERE "
                  "ar.resident_id = r.id AND ar.status = 'active')");
    sqlq_add(&q, " AND r.birth_date <= $%d", P_TEXT(born_by));
    perm_scope_q(who, "r.", "id", &q);
    sqlq_sql(&q, " ORDER BY r.birth_date, r.id LIMIT %d", COMING_MAX + 1);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *items;
    rc = age_list(tx, &q, "未领取高龄津贴的 80 周岁以上居民", missing_row, &today, &items, e);
    store_rollback(tx);
    if (rc)
        return rc;
    *out = json_pack("{s:I, s:o}", "total", (json_int_t)json_array_size(items), "items", items);
    return 0;
}

/* ---- recipients and the roster ---- */

static json_t *recipient_json(store_rows *r)
{
    return store_json_row(r, "id:i resident_id:i name:t birth_date:t tier_age:i monthly_amount:i start_month:t "
                             "status:t stop_reason:t stop_date:t recover_months:i recover_amount:i application_id:i");
}

int services_allowance_recipients(nx_app *app, const nx_principal *who, const char *status, const char *cursor,
                                  int limit, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看高龄津贴名单");
    int64_t before = 0;
    if (cursor && cursor[0] && str_to_i64(cursor, 1, INT64_MAX, &before) != 0)
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
    sqlq q;
    sqlq_init(&q, "SELECT ar.id, ar.resident_id, r.name, r.birth_date, ar.tier_age, ar.monthly_amount, ar.start_month, "
                  "ar.status, ar.stop_reason, ar.stop_date, ar.recover_months, ar.recover_amount, ar.application_id "
                  "FROM allowance_recipients ar JOIN residents r ON r.id = ar.resident_id WHERE 1 = 1");
    if (before)
        sqlq_add(&q, " AND ar.id < $%d", P_INT(before));
    if (status)
        sqlq_add(&q, " AND ar.status = $%d", P_TEXT(status));
    perm_scope_q(who, "ar.", "resident_id", &q);
    sqlq_sql(&q, " ORDER BY ar.id DESC");
    store_page_spec spec = {.limit = limit, .max = (int)app->cfg->page_max, .row = recipient_json};
    return store_page_read(app->db, &q, &spec, out, e);
}

int services_allowance_roster(nx_app *app, const nx_principal *who, int y, int m, const char *path, int64_t *rows,
                              nx_err *e)
{
    if (!perm_has(who, RIGHT_EXPORT))
        return nx_fail(e, NX_EPERM, "", "无权导出高龄津贴花名册");
    if (!date_valid(y, m, 1))
        return nx_fail(e, NX_EINVAL, "month", "月份无效");
    *rows = 0;
    char month[8];
    snprintf(month, sizeof month, "%04d-%02d", y, m);
    /* Every recipient of the scope, no page: the roster is the payroll. More rows than an export may
     * hold (export_max_rows) is refused, never cut. (The tests name this query by its text
     * "ar.stop_date, ar.id, ar.community_id FROM allowance_recipients".) */
    sqlq q;
    sqlq_init(&q, "SELECT c.name, g.name, r.name, r.sex, r.birth_date, r.id_enc, ar.start_month, ar.status, "
                  "ar.stop_date, ar.id, ar.community_id FROM allowance_recipients ar "
                  "JOIN residents r ON r.id = ar.resident_id JOIN communities c ON c.id = ar.community_id "
                  "LEFT JOIN grids g ON g.id = r.grid_id WHERE 1 = 1");
    sqlq_add(&q, " AND ar.start_month <= $%d", P_TEXT(month));
    perm_scope_q(who, "ar.", "resident_id", &q);
    sqlq_sql(&q, " ORDER BY c.name, g.name, r.birth_date, ar.id");
    int rc;
    xlsx_out *x = NULL;
    char sheet[32];
    snprintf(sheet, sizeof sheet, "高龄津贴%04d年%02d月", y, m);
    static const char *const titles[] = {"序号",   "社区",         "网格",     "姓名",     "性别", "身份证号",
                                         "出生日期", "年龄（上月末）", "津贴档次", "月标准（元）", "发放月份", "备注"};
    static const double widths[] = {6, 14, 12, 10, 6, 22, 12, 12, 14, 12, 10, 30};
    if ((rc = export_open(path, sheet, titles, widths, 12, &x, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        xlsx_out_discard(x);
        return rc;
    }
    char region[64];
    services_allowance_tier t[MAX_TIERS];
    int nt;
    store_rows *r = NULL;
    if ((rc = services_allowance_load_tiers(tx, region, sizeof region, t, MAX_TIERS, &nt, e)) ||
        (rc = sqlq_query(tx, &q, &r, e)))
        goto fail;
    int64_t seq = 0, max = app->cfg->export_max_rows;
    while (store_row(r)) {
        nx_date b;
        if (date_parse(store_text(r, 4), &b) != 0)
            continue;
        /* entitled this month: active, or stopped in this month or later */
        if (strcmp(store_text(r, 7), "active") != 0) {
            const char *sd = store_text(r, 8);
            if (sd == NULL || strncmp(sd, month, 7) < 0)
                continue;
        }
        int k = services_allowance_tier_for_month(t, nt, b, y, m);
        if (k < 0)
            continue;
        nx_date last_prev = date_from_days(date_to_days((nx_date){y, m, 1}) - 1);
        int age = date_age(b, last_prev);
        int pk = m == 1 ? services_allowance_tier_for_month(t, nt, b, y - 1, 12)
                        : services_allowance_tier_for_month(t, nt, b, y, m - 1);
        char note[120] = "";
        if (strcmp(store_text(r, 6), month) == 0)
            snprintf(note, sizeof note, "本月起发放");
        else if (pk >= 0 && t[pk].min_age != t[k].min_age)
            snprintf(note, sizeof note, "本月起升档（年满 %d 周岁）", t[k].min_age);
        if (strcmp(store_text(r, 7), "active") != 0)
            snprintf(note + strlen(note), sizeof note - strlen(note), "%s本月为最后发放月", note[0] ? "；" : "");
        char masked[40] = "", seqs[16], ages[8], amount[32], lb[40];
        size_t cn;
        const void *ct = store_blob(r, 5, &cn);
        people_id_masked(app, ct, cn, masked, sizeof masked);
        if (seq == max) {
            rc = nx_fail(e, NX_ETOOBIG, "", "花名册超过 %lld 行（export_max_rows），请按社区分别导出", (long long)max);
            goto fail;
        }
        snprintf(seqs, sizeof seqs, "%lld", (long long)++seq);
        snprintf(ages, sizeof ages, "%d", age);
        yuan(t[k].monthly_amount, amount, sizeof amount);
        const char *cells[] = {seqs, store_text(r, 0), store_text(r, 1) ? store_text(r, 1) : "", store_text(r, 2),
                               store_int(r, 3) == 1 ? "男" : "女", masked, store_text(r, 4), ages,
                               tier_label(t[k].min_age, t, nt, lb, sizeof lb), amount, month, note};
        if ((rc = xlsx_out_row_typed(x, cells, "ssssssdsssss", 12))) {
            rc = nx_fail(e, rc, "", "无法写入花名册");
            goto fail;
        }
    }
    /* Every row or nothing: a read that failed on the way fails the export, before the audit entry
     * and before the file is written. The file is complete before the audit entry commits. */
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto fail;
    if ((rc = audit_write_new(tx, who, "export", "allowance_roster", 0, who->community_id,
                              json_pack("{s:s, s:I}", "month", month, "rows", (json_int_t)seq), e)))
        goto fail;
    rc = xlsx_out_close(x, e); /* on error it removes the file */
    x = NULL;
    if (rc)
        goto fail;
    if ((rc = store_commit(tx, e))) {
        unlink(path);
        return rc;
    }
    *rows = seq;
    return 0;
fail:
    store_rows_free(r);
    store_rollback(tx);
    xlsx_out_discard(x);
    return rc;
}
