/* points.c — time-bank points (时间银行): what approved service hours earn, and what they buy.
 *
 * Points are kept in hundredths ("points_c") so that every sum is exact; answers show them as
 * numbers with two decimals. The earning rule is data: points per approved hour, one row per
 * community (volunteer_point_rules), or the default row (community_id NULL, 1 point an hour, as the
 * issue asks) for a community without its own. An approved hours entry earns once, at approval, at
 * the rule in force then (a later change of the rule does not rewrite the past); a correction entry
 * earns its difference, which may be below zero. hours_id is UNIQUE in the ledger, so an entry can
 * never earn twice.
 *
 * Redeeming: the community lists what points buy (volunteer_point_offers: a haircut for an elder, a
 * meal delivered …); a redemption is a ledger entry of minus the offer's cost, written only when the
 * balance covers it. The check and the write are ordered by a row lock on the volunteer (an UPDATE
 * of their row: PostgreSQL holds it until commit, SQLite has one writer), so two redemptions at once
 * never take the balance below zero. The ledger is append-only.
 *
 * Who: a volunteer reads and redeems their own points; MANAGE (staff) reads everyone's in scope,
 * sets the rule and the offers and redeems on a volunteer's behalf; a team leader reads their team's. */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "notify/outbox.h"
#include "secure/audit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static json_t *points_json(int64_t c)
{
    return json_real((double)c / 100.0);
}

/* The community's points per hour (its own row, else the default). */
static int rule_of(store_tx *tx, int64_t community, int64_t *pph, bool *own, nx_err *e)
{
    store_param p[] = {P_INT(community)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT points_per_hour, community_id FROM volunteer_point_rules WHERE community_id = $1 OR "
                         "community_id IS NULL ORDER BY community_id IS NULL LIMIT 1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    *pph = 1;
    *own = false;
    if (store_row(r)) {
        *pph = store_int(r, 0);
        *own = !store_isnull(r, 1);
    }
    return store_rows_end(r, e);
}

int vol_points_earn(store_tx *tx, int64_t community, int64_t vid, int64_t hours_id, int64_t minutes, int64_t user,
                    nx_err *e)
{
    int64_t pph;
    bool own;
    int rc = rule_of(tx, community, &pph, &own, e);
    if (rc)
        return rc;
    int64_t pc = minutes * pph * 100 / 60;
    if (pc == 0)
        return 0;
    store_param p[] = {P_INT(community), P_INT(vid), P_INT(pc), P_INT(hours_id), P_ID(user), P_INT(clock_now_ms())};
    return store_exec(tx,
                      "INSERT INTO volunteer_points (community_id, volunteer_id, kind, points_c, hours_id, note, "
                      "created_by, created_at) VALUES ($1, $2, 'earn', $3, $4, '服务时长', $5, $6)",
                      p, 6, NULL, e);
}

int volunteers_points_catch_up(store_tx *tx, int64_t community, int64_t *earned, nx_err *e)
{
    int64_t pph;
    bool own;
    int rc = rule_of(tx, community, &pph, &own, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(pph), P_INT(clock_now_ms()), P_INT(community)};
    return store_exec(tx,
                      "INSERT INTO volunteer_points (community_id, volunteer_id, kind, points_c, hours_id, note, "
                      "created_at) SELECT h.community_id, h.volunteer_id, 'earn', h.minutes * $1 * 100 / 60, h.id, "
                      "'服务时长', COALESCE(h.approved_at, $2) FROM volunteer_hours h WHERE h.community_id = $3 AND "
                      "h.status = 'approved' AND h.minutes * $1 * 100 / 60 <> 0 AND NOT EXISTS (SELECT 1 FROM "
                      "volunteer_points p WHERE p.hours_id = h.id)",
                      p, 3, earned, e);
}

/* The balance of volunteer vid in hundredths. */
static int balance_of(store_tx *tx, int64_t vid, int64_t *earned, int64_t *spent, nx_err *e)
{
    store_param p[] = {P_INT(vid)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT COALESCE(SUM(CASE WHEN kind = 'earn' THEN points_c ELSE 0 END), 0), "
                         "COALESCE(SUM(CASE WHEN kind = 'redeem' THEN -points_c ELSE 0 END), 0) FROM volunteer_points "
                         "WHERE volunteer_id = $1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, NULL, e)) == 0) {
        *earned = store_int(r, 0);
        *spent = store_int(r, 1);
    }
    store_rows_free(r);
    return rc;
}

/* o (a row's object, NULL passed through) with "points": the centi-points of column col. */
static json_t *with_points(json_t *o, store_rows *r, int col)
{
    if (o)
        json_object_set_new(o, "points", points_json(store_int(r, col)));
    return o;
}

static json_t *entry_row(store_rows *r, void *ctx)
{
    (void)ctx;
    return with_points(store_json_row(r, "id:i kind:t - hours_id:i offer_id:i offer_title:t note:t created_at:d"), r, 2);
}

int volunteers_points_get(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e)
{
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看时间银行");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t vid = 0, c = 0, earned = 0, spent = 0, pph = 1;
    bool own;
    char name[100] = "", number[40] = "";
    store_rows *r = NULL;
    if ((rc = vol_readable(tx, who, f->volunteer_id, &vid, &c, e)) ||
        (rc = balance_of(tx, vid, &earned, &spent, e)) || (rc = rule_of(tx, c, &pph, &own, e)))
        goto done;
    store_param p[] = {P_INT(vid)};
    if ((rc = store_query_first(tx, "SELECT name, number FROM volunteers WHERE id = $1", p, 1, "志愿者不存在",
                                &r, e)) == 0) {
        snprintf(name, sizeof name, "%s", store_text(r, 0) ? store_text(r, 0) : "");
        snprintf(number, sizeof number, "%s", store_text(r, 1) ? store_text(r, 1) : "");
    }
    store_rows_free(r);
    r = NULL;
done:
    store_rollback(tx);
    if (rc)
        return rc;
    sqlq q, count;
    sqlq_init(&q, "SELECT p.id, p.kind, p.points_c, p.hours_id, p.offer_id, o.title, p.note, p.created_at FROM "
                  "volunteer_points p LEFT JOIN volunteer_point_offers o ON o.id = p.offer_id WHERE 1 = 1");
    sqlq_add(&q, " AND p.volunteer_id = $%d", P_INT(vid));
    sqlq_init(&count, "SELECT COUNT(*) FROM volunteer_points p WHERE 1 = 1");
    sqlq_add(&count, " AND p.volunteer_id = $%d", P_INT(vid));
    if ((rc = vol_page(app, &q, &count, "p.", true, f, entry_row, out, e)))
        return rc;
    json_object_set_new(*out, "volunteer_id", json_integer(vid));
    json_object_set_new(*out, "name", json_string(name));
    json_object_set_new(*out, "number", json_string(number));
    json_object_set_new(*out, "earned", points_json(earned));
    json_object_set_new(*out, "redeemed", points_json(spent));
    json_object_set_new(*out, "balance", points_json(earned - spent));
    json_object_set_new(*out, "points_per_hour", json_integer(pph));
    return 0;
}

int volunteers_point_rule_get(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看时间银行");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t c = community_id ? community_id : who->community_id, pph = 1;
    bool own = false;
    if (c == 0 || !vol_covers(tx, who, c))
        rc = nx_fail(e, community_id ? NX_ENOTFOUND : NX_EINVAL, "community_id", community_id ? "社区不存在" : "请选择社区");
    else
        rc = rule_of(tx, c, &pph, &own, e);
    store_rollback(tx);
    if (rc)
        return rc;
    *out = json_pack("{s:I, s:I, s:b}", "community_id", (json_int_t)c, "points_per_hour", (json_int_t)pph, "own", own);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

int volunteers_point_rule_set(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e)
{
    static const char *const allowed[] = {"points_per_hour", "community_id", NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权设置积分规则");
    int64_t pph = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "points_per_hour", true, 0, 100, &pph, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t c;
    if ((rc = vol_community_of(tx, who, in, &c, e)))
        goto fail;
    store_param p[] = {P_INT(c), P_INT(pph), P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = store_exec(tx,
                         "INSERT INTO volunteer_point_rules (community_id, points_per_hour, updated_by, updated_at) "
                         "VALUES ($1, $2, $3, $4) ON CONFLICT (community_id) DO UPDATE SET points_per_hour = "
                         "excluded.points_per_hour, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                         p, 4, NULL, e)) ||
        (rc = audit_write_new(tx, who, "update", "volunteer_point_rule", c, c,
                              json_pack("{s:I}", "points_per_hour", (json_int_t)pph), e)))
        goto fail;
    if ((rc = store_commit(tx, e)))
        return rc;
    *out = json_pack("{s:I, s:I, s:b}", "community_id", (json_int_t)c, "points_per_hour", (json_int_t)pph, "own", 1);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
fail:
    store_rollback(tx);
    return rc;
}

static json_t *offer_row(store_rows *r, void *ctx)
{
    (void)ctx;
    return with_points(store_json_row(r, "id:i community_id:i title:t - active:b created_at:d"), r, 3);
}

#define OFFER_COLS "SELECT o.id, o.community_id, o.title, o.cost_c, o.active, o.created_at FROM volunteer_point_offers o WHERE 1 = 1"

int volunteers_offer_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e)
{
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看时间银行");
    sqlq q, count;
    sqlq_init(&q, OFFER_COLS);
    sqlq_init(&count, "SELECT COUNT(*) FROM volunteer_point_offers o WHERE 1 = 1");
    vol_scope(&q, who, "o.");
    vol_scope(&count, who, "o.");
    if (f->community_id) {
        sqlq_add(&q, " AND o.community_id = $%d", P_INT(f->community_id));
        sqlq_add(&count, " AND o.community_id = $%d", P_INT(f->community_id));
    }
    return vol_page(app, &q, &count, "o.", true, f, offer_row, out, e);
}

int volunteers_offer_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看时间银行");
    sqlq q;
    vol_id_q(&q, OFFER_COLS, "o.", id, who);
    return store_get_read(app->db, &q, &(store_page_spec){.row_ctx = offer_row}, "兑换项目不存在", out, e);
}

/* in's key as points (a number > 0, at most 10000, two decimals) in hundredths. */
static int get_points(json_t *in, const char *key, int64_t *c, nx_err *e)
{
    json_t *v = json_object_get(in, key);
    if (v == NULL || json_is_null(v))
        return nx_fail(e, NX_EINVAL, key, "请填写所需积分");
    if (!json_is_number(v))
        return nx_fail(e, NX_EINVAL, key, "积分应为数字");
    double x = json_number_value(v);
    if (!isfinite(x) || x <= 0 || x > 10000)
        return nx_fail(e, NX_EINVAL, key, "积分应大于 0、不超过 10000");
    *c = (int64_t)llround(x * 100.0);
    if (*c <= 0)
        return nx_fail(e, NX_EINVAL, key, "积分至少 0.01");
    return 0;
}

int volunteers_offer_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"title", "points", "community_id", NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权设置兑换项目");
    const char *title = NULL;
    int64_t cost = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "title", true, 50, &title, e)) ||
        (rc = get_points(in, "points", &cost, e)))
        return rc;
    store_param p[] = {P_TEXT(title), P_INT(cost), P_ID(who->user_id), P_INT(clock_now_ms())};
    return vol_create_named(app, who, in,
                            "INSERT INTO volunteer_point_offers (community_id, title, cost_c, created_by, created_at) "
                            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            p, 4, "title", "已有同名的兑换项目", "volunteer_point_offer", id, e);
}

int volunteers_points_redeem(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e)
{
    static const char *const allowed[] = {"offer_id", "volunteer_id", "note", NULL};
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权兑换积分");
    int64_t offer = 0, asked = 0;
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "offer_id", true, 1, INT64_MAX, &offer, e)) < 0 ||
        (rc = json_get_int(in, "volunteer_id", false, 1, INT64_MAX, &asked, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 200, &note, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t vid = 0, c = 0, cost = 0, oc = 0, earned = 0, spent = 0, entry = 0;
    bool active = false;
    vol_self me;
    store_rows *r = NULL;
    if ((rc = vol_me(tx, who, &me, e)))
        goto fail;
    /* one's own points, or MANAGE on a volunteer's behalf (a team leader does not spend others') */
    if (asked && asked != me.id && !perm_has(who, RIGHT_VOLUNTEER_MANAGE)) {
        rc = nx_fail(e, NX_EPERM, "volunteer_id", "只能兑换自己的积分");
        goto fail;
    }
    if ((rc = vol_readable(tx, who, asked, &vid, &c, e))) {
        if (rc == NX_ENOTFOUND && asked)
            rc = nx_fail(e, NX_EINVAL, "volunteer_id", "志愿者不存在");
        goto fail;
    }
    store_param op[] = {P_INT(offer)};
    if ((rc = store_query(tx, "SELECT community_id, cost_c, active FROM volunteer_point_offers WHERE id = $1", op, 1,
                          &r, e)))
        goto fail;
    bool found = store_row(r);
    if (found) {
        oc = store_int(r, 0);
        cost = store_int(r, 1);
        active = store_int(r, 2) != 0;
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto fail;
    if (!found || oc != c || !active) {
        rc = nx_fail(e, NX_EINVAL, "offer_id", "兑换项目不存在或已停用");
        goto fail;
    }
    /* the row lock that orders this volunteer's redemptions (see the head) */
    store_param lp[] = {P_INT(vid)};
    if ((rc = store_exec(tx, "UPDATE volunteers SET status = status WHERE id = $1", lp, 1, NULL, e)) ||
        (rc = balance_of(tx, vid, &earned, &spent, e)))
        goto fail;
    if (earned - spent < cost) {
        rc = nx_fail(e, NX_ECONFLICT, "points", "积分不足：余额 %.2f，需要 %.2f", (double)(earned - spent) / 100.0,
                     (double)cost / 100.0);
        goto fail;
    }
    store_param p[] = {P_INT(c), P_INT(vid), P_INT(-cost), P_INT(offer), P_TEXT(note), P_ID(who->user_id),
                       P_INT(clock_now_ms())};
    if ((rc = store_one_int(tx,
                            "INSERT INTO volunteer_points (community_id, volunteer_id, kind, points_c, offer_id, note, "
                            "created_by, created_at) VALUES ($1, $2, 'redeem', $3, $4, $5, $6, $7) RETURNING id",
                            p, 7, &entry, e)) ||
        (rc = outbox_emit_new(tx, VOLUNTEERS_EV_POINTS_REDEEMED, c, "volunteer_points", entry,
                              json_pack("{s:I, s:I, s:I, s:f}", "entry_id", (json_int_t)entry, "volunteer_id",
                                        (json_int_t)vid, "offer_id", (json_int_t)offer, "points", (double)cost / 100.0),
                              e)) ||
        (rc = audit_write_new(tx, who, "redeem", "volunteer_points", entry, c,
                              json_pack("{s:I, s:I}", "volunteer_id", (json_int_t)vid, "offer_id", (json_int_t)offer),
                              e)))
        goto fail;
    if ((rc = store_commit(tx, e)))
        return rc;
    *out = json_pack("{s:I, s:I, s:I, s:o, s:o}", "id", (json_int_t)entry, "volunteer_id", (json_int_t)vid, "offer_id",
                     (json_int_t)offer, "points", points_json(-cost), "balance", points_json(earned - spent - cost));
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
fail:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}
