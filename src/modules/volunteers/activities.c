/* activities.c — volunteer activities, their sign-ups with a waiting list, and check-in and out.
 *
 * An activity has a capacity and, optionally, roles with places of their own (their places add up
 * to at most the capacity). A sign-up takes a place when the activity has one left (and its role
 * has, when it names one); otherwise it waits. Waiting sign-ups are ordered by queued_at, then id.
 * Cancelling a confirmed sign-up gives its place to the first waiting sign-up that fits, in the same
 * transaction, with a "promoted" event for the volunteer.
 *
 * Order under concurrency: every sign-up change first bumps the activity's version (an UPDATE of
 * its row), which on PostgreSQL holds the row lock until commit and on SQLite is the single writer
 * anyway, so two sign-ups for the last place are decided one after the other, never both confirmed.
 *
 * Check-in. The activity's organiser shows a code that changes every VOLUNTEERS_CODE_WINDOW_S
 * seconds (a QR code of it on the board); the volunteer enters or scans it on their phone and checks
 * in their own sign-up only. The code of the window before still counts, older ones are expired.
 * Check-ins are accepted from VOLUNTEERS_CHECK_MARGIN_MS before the start to as long after the end.
 * Whoever manages the activity may check a sign-up in or out without a code (scanning the
 * volunteer), and correct a time with "at" and a reason. A check-out writes the sign-up's
 * attendance into the hours ledger as a pending entry (the time inside the activity's hours);
 * a corrected check-out adds a correction entry for the difference — the ledger is never edited. */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "report/qr.h"
#include "secure/audit.h"
#include "secure/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACT_COLS                                                                                                    \
    "SELECT a.id, a.community_id, a.team_id, t.name, a.title, a.place, a.description, a.starts_at, a.ends_at, "    \
    "a.signup_deadline, a.capacity, a.min_age, a.skill, a.status, a.organiser_id, a.series_id, (SELECT COUNT(*) "  \
    "FROM volunteer_signups s WHERE s.activity_id = a.id AND s.status = 'confirmed'), (SELECT COUNT(*) FROM "       \
    "volunteer_signups s WHERE s.activity_id = a.id AND s.status = 'waiting') FROM volunteer_activities a LEFT "   \
    "JOIN volunteer_teams t ON t.id = a.team_id WHERE 1 = 1"

#define ACT_SPEC                                                                                                   \
    "id:i community_id:i team_id:i team_name:t title:t place:t description:t starts_at:d ends_at:d "               \
    "signup_deadline:d capacity:i min_age:i skill:t status:t organiser_id:i series_id:i confirmed:i waiting:i"

static json_t *act_row(store_rows *r, void *ctx)
{
    (void)ctx;
    return store_json_row(r, ACT_SPEC);
}

static void act_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "a.");
    sqlq_eq_int(q, "a.community_id", f->community_id);
    sqlq_eq_int(q, "a.team_id", f->team_id);
    sqlq_eq_text(q, "a.status", f->status);
    sqlq_range_ms(q, "a.ends_at", f->from_ms, 0);
    if (f->q && *f->q)
        sqlq_like(q, " AND a.title LIKE $%d ESCAPE '!'", f->q, true);
}

int volunteers_activity_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                             nx_err *e)
{
    return vol_list(app, who, f, vol_may_view, "无权查看志愿活动", act_where, ACT_COLS,
                    "SELECT COUNT(*) FROM volunteer_activities a WHERE 1 = 1", "a.", true, act_row, out, e);
}

/* The activity as loaded for a rule. */
typedef struct act {
    int64_t id, community_id, team_id, starts_at, ends_at, deadline, capacity, min_age, organiser_id;
    char title[200], skill[200], status[16];
} act;

/* Load activity id in who's scope into a. NX_ENOTFOUND ("活动不存在"). */
static int act_load(store_tx *tx, const nx_principal *who, int64_t id, act *a, nx_err *e)
{
    sqlq q;
    vol_id_q(&q,
             "SELECT a.id, a.community_id, a.team_id, a.starts_at, a.ends_at, a.signup_deadline, a.capacity, "
             "a.min_age, a.organiser_id, a.title, a.skill, a.status FROM volunteer_activities a WHERE 1 = 1",
             "a.", id, who);
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "活动不存在", e)) == 0) {
        memset(a, 0, sizeof *a);
        a->id = store_int(r, 0);
        a->community_id = store_int(r, 1);
        a->team_id = store_int(r, 2);
        a->starts_at = store_int(r, 3);
        a->ends_at = store_int(r, 4);
        a->deadline = store_int(r, 5);
        a->capacity = store_int(r, 6);
        a->min_age = store_int(r, 7);
        a->organiser_id = store_int(r, 8);
        str_copy(a->title, store_text(r, 9) ? store_text(r, 9) : "", sizeof a->title);
        str_copy(a->skill, store_text(r, 10) ? store_text(r, 10) : "", sizeof a->skill);
        str_copy(a->status, store_text(r, 11) ? store_text(r, 11) : "", sizeof a->status);
    }
    store_rows_free(r);
    return rc;
}

/* Whether who manages activity a: MANAGE, its organiser, or the leader of its team. */
static bool manages(const nx_principal *who, const vol_self *me, const act *a)
{
    return perm_has(who, RIGHT_VOLUNTEER_MANAGE) || (who->user_id && a->organiser_id == who->user_id) ||
           vol_manages_team(who, me, a->team_id);
}

/* Open a transaction *tx of mode, load the activity id in who's scope into a (act_load) and the
 * caller's own volunteer record into me (vol_me). 0 with *tx open for the caller, or the error with
 * nothing left open. */
static int act_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, act *a, vol_self *me,
                    nx_err *e)
{
    int rc = store_begin(app->db, mode, tx, e);
    if (rc)
        return rc;
    if ((rc = act_load(*tx, who, id, a, e)) || (rc = vol_me(*tx, who, me, e)))
        store_rollback(*tx);
    return rc;
}

static json_t *signup_row(store_rows *r, void *ctx)
{
    (void)ctx;
    return store_json_row(r, "id:i volunteer_id:i name:t number:t placeholder:t role_id:i role_name:t status:t "
                             "queued_at:d check_in_at:d check_out_at:d check_note:t");
}

/* The position (1 = next) of waiting sign-up id in its activity's queue. */
static int position_of(store_tx *tx, int64_t activity, int64_t id, int64_t *pos, nx_err *e)
{
    store_param p[] = {P_INT(activity), P_INT(id), P_INT(id), P_INT(id)};
    return store_one_int(tx,
                         "SELECT COUNT(*) FROM volunteer_signups s WHERE s.activity_id = $1 AND s.status = 'waiting' "
                         "AND (s.queued_at < (SELECT queued_at FROM volunteer_signups WHERE id = $2) OR (s.queued_at = "
                         "(SELECT queued_at FROM volunteer_signups WHERE id = $3) AND s.id <= $4))",
                         p, 4, pos, e);
}

#define ROLE_SPEC "id:i name:t places:i confirmed:i"

int volunteers_activity_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看志愿活动");
    store_tx *tx;
    act a;
    vol_self me;
    int rc = act_open(app, STORE_READ, who, id, &tx, &a, &me, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    store_rows *r = NULL;
    sqlq q;
    sqlq_init(&q, ACT_COLS);
    sqlq_add(&q, " AND a.id = $%d", P_INT(id));
    if ((rc = store_get(tx, &q, &(store_page_spec){.row_ctx = act_row}, "活动不存在", &o, e)))
        goto done;
    /* roles and their confirmed counts */
    if ((rc = store_items_of(tx,
                             "SELECT ro.id, ro.name, ro.places, (SELECT COUNT(*) FROM volunteer_signups s WHERE "
                             "s.role_id = ro.id AND s.status = 'confirmed') FROM volunteer_activity_roles ro WHERE "
                             "ro.activity_id = $1 ORDER BY ro.id",
                             id, &(store_page_spec){.row_ctx = store_json_row_ctx, .ctx = (void *)ROLE_SPEC}, o, "roles",
                             e)))
        goto done;
    json_object_set_new(o, "manage", json_boolean(manages(who, &me, &a)));
    /* the caller's own sign-up */
    json_object_set_new(o, "my_signup", json_null());
    if (me.id) {
        store_param m[] = {P_INT(id), P_INT(me.id)};
        if ((rc = store_query(tx,
                              "SELECT s.id, s.status, s.check_in_at, s.check_out_at FROM volunteer_signups s WHERE "
                              "s.activity_id = $1 AND s.volunteer_id = $2",
                              m, 2, &r, e)))
            goto done;
        json_t *mine = NULL;
        if (store_row(r))
            mine = store_json_row(r, "id:i status:t check_in_at:d check_out_at:d");
        if ((rc = store_rows_end(r, e))) {
            json_decref(mine);
            goto done;
        }
        r = NULL;
        if (mine) {
            if (strcmp(json_string_value(json_object_get(mine, "status")), "waiting") == 0) {
                int64_t pos = 0;
                if ((rc = position_of(tx, id, json_integer_value(json_object_get(mine, "id")), &pos, e))) {
                    json_decref(mine);
                    goto done;
                }
                json_object_set_new(mine, "position", json_integer(pos));
            }
            json_object_set_new(o, "my_signup", mine);
        }
    }
    /* the sign-up sheet, for who manages the activity (and the street's oversight, to read) */
    if (manages(who, &me, &a) || vol_oversees(who))
        rc = store_items_of(tx,
                            "SELECT s.id, s.volunteer_id, v.name, v.number, s.placeholder, s.role_id, ro.name, "
                            "s.status, s.queued_at, s.check_in_at, s.check_out_at, s.check_note FROM "
                            "volunteer_signups s LEFT JOIN volunteers v ON v.id = s.volunteer_id LEFT JOIN "
                            "volunteer_activity_roles ro ON ro.id = s.role_id WHERE s.activity_id = $1 AND s.status "
                            "<> 'cancelled' ORDER BY s.status, s.queued_at, s.id",
                            id, &(store_page_spec){.row_ctx = signup_row}, o, "signups", e);
done:
    store_rows_free(r);
    return store_read_finish(tx, rc, o, out);
}

/* ---- create ---- */

/* ms + months calendar months, same local time and day (clamped to the month's last day). */
static int64_t add_months(int64_t ms, int months)
{
    int64_t local = ms + NX_TZ_OFFSET_MS;
    int64_t days = local / 86400000LL, rest = local % 86400000LL;
    nx_date d = date_from_days(days);
    int m0 = d.m - 1 + months;
    d.y += m0 / 12;
    d.m = m0 % 12 + 1;
    while (d.d > 28 && !date_valid(d.y, d.m, d.d))
        d.d--;
    return date_to_days(d) * 86400000LL + rest - NX_TZ_OFFSET_MS;
}

int volunteers_activity_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"title",   "place", "starts_at", "ends_at", "capacity", "signup_deadline",
                                          "team_id", "description", "min_age", "skill", "roles", "repeat",
                                          "community_id", NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !perm_has(who, RIGHT_VOLUNTEER_DUTY))
        return nx_fail(e, NX_EPERM, "", "无权发布志愿活动");
    const char *title = NULL, *place = NULL, *desc = NULL, *skill = NULL;
    int64_t starts = 0, ends = 0, deadline = 0, capacity = 0, team = 0, min_age = 0, every_n = 1;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "title", true, 50, &title, e)) ||
        (rc = json_read_str(in, "place", true, 100, &place, e)) ||
        (rc = json_read_str(in, "description", false, 1000, &desc, e)) ||
        (rc = json_read_str(in, "skill", false, 50, &skill, e)) ||
        (rc = vol_get_time(in, "starts_at", true, &starts, e)) < 0 ||
        (rc = vol_get_time(in, "ends_at", true, &ends, e)) < 0 ||
        (rc = json_get_int(in, "capacity", true, 1, 1000, &capacity, e)) < 0 ||
        (rc = json_get_int(in, "team_id", false, 1, INT64_MAX, &team, e)) < 0 ||
        (rc = json_get_int(in, "min_age", false, 0, 120, &min_age, e)) < 0)
        return rc;
    if ((rc = vol_get_time(in, "signup_deadline", false, &deadline, e)) < 0)
        return rc;
    if (rc == 1)
        deadline = starts;
    if (ends <= starts)
        return nx_fail(e, NX_EINVAL, "ends_at", "结束时间应晚于开始时间");
    if (ends - starts > 24LL * 3600000)
        return nx_fail(e, NX_EINVAL, "ends_at", "一次活动不超过 24 小时");
    if (deadline > ends)
        return nx_fail(e, NX_EINVAL, "signup_deadline", "报名截止时间不能晚于活动结束");
    const char *every = "week";
    json_t *rep = json_object_get(in, "repeat");
    if (rep && !json_is_null(rep)) {
        static const char *const rallowed[] = {"every", "count", NULL};
        if (json_only(rep, rallowed, e) || json_read_str(rep, "every", true, 10, &every, e) ||
            json_get_int(rep, "count", true, 2, 52, &every_n, e) < 0)
            return nx_fail(e, NX_EINVAL, "repeat", "重复设置应为 {\"every\": \"week\" 或 \"month\", \"count\": 2..52}");
        if (strcmp(every, "week") != 0 && strcmp(every, "month") != 0)
            return nx_fail(e, NX_EINVAL, "repeat", "重复周期只能是 week 或 month");
    }
    json_t *roles = json_object_get(in, "roles");
    int64_t places_sum = 0;
    if (roles && !json_is_null(roles)) {
        if (!json_is_array(roles) || json_array_size(roles) > 20)
            return nx_fail(e, NX_EINVAL, "roles", "岗位应为数组（至多 20 个）");
        size_t i;
        json_t *ro;
        json_array_foreach(roles, i, ro)
        {
            static const char *const roallowed[] = {"name", "places", NULL};
            const char *rn;
            int64_t pl;
            if (json_only(ro, roallowed, e) || json_read_str(ro, "name", true, 30, &rn, e) ||
                json_get_int(ro, "places", true, 1, 1000, &pl, e) < 0)
                return nx_fail(e, NX_EINVAL, "roles", "岗位需要名称和名额（至少 1）");
            places_sum += pl;
        }
        if (places_sum > capacity)
            return nx_fail(e, NX_EINVAL, "roles", "各岗位名额之和不能超过活动人数");
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t c;
    vol_self me;
    if ((rc = vol_community_of(tx, who, in, &c, e)) || (rc = vol_me(tx, who, &me, e)))
        goto fail;
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && (team == 0 || !vol_manages_team(who, &me, team))) {
        rc = nx_fail(e, NX_EPERM, "team_id", "队长只能为本队发布活动");
        goto fail;
    }
    if (team) {
        store_param p[] = {P_INT(team), P_INT(c)};
        if ((rc = store_exists_or_fail(
                 tx, "SELECT COUNT(*) FROM volunteer_teams WHERE id = $1 AND community_id = $2", p, 2,
                 "team_id", e, "志愿队伍不存在")))
            goto fail;
    }
    int64_t series = 0, now = clock_now_ms();
    for (int64_t k = 0; k < every_n; k++) {
        int64_t shift_s = starts, shift_e = ends, shift_d = deadline;
        if (k > 0) {
            if (strcmp(every, "week") == 0) {
                int64_t w = k * 7LL * 86400000LL;
                shift_s += w, shift_e += w, shift_d += w;
            } else {
                shift_s = add_months(starts, (int)k);
                shift_e = shift_s + (ends - starts);
                shift_d = shift_s - (starts - deadline);
            }
        }
        int64_t aid;
        store_param p[] = {P_INT(c),        P_ID(team),        P_ID(series),  P_TEXT(title),     P_TEXT(place),
                           P_TEXT(desc),    P_INT(shift_s),    P_INT(shift_e), P_INT(shift_d),   P_INT(capacity),
                           P_ID(min_age),   P_TEXT(skill),     P_ID(who->user_id), P_INT(now)};
        if ((rc = app_insert(tx, "volunteer_activities",
                             "community_id, team_id, series_id, title, place, description, starts_at, "
                             "ends_at, signup_deadline, capacity, min_age, skill, organiser_id, "
                             "created_at",
                             p, 14, &aid, e)))
            goto fail;
        if (k == 0) {
            *id = aid;
            if (every_n > 1) {
                series = aid;
                store_param s[] = {P_INT(aid), P_INT(aid)};
                if ((rc = store_exec(tx, "UPDATE volunteer_activities SET series_id = $1 WHERE id = $2", s, 2, NULL,
                                     e)))
                    goto fail;
            }
        }
        size_t i;
        json_t *ro;
        if (roles && json_is_array(roles))
            json_array_foreach(roles, i, ro)
            {
                store_param rp[] = {P_INT(aid), P_TEXT(json_string_value(json_object_get(ro, "name"))),
                                    P_INT(json_integer_value(json_object_get(ro, "places")))};
                if ((rc = app_insert(tx, "volunteer_activity_roles",
                                     "activity_id, name, places",
                                     rp, 3, NULL, e))) {
                    if (rc == NX_ECONFLICT)
                        nx_fail(e, NX_EINVAL, "roles", "岗位名称重复");
                    rc = rc == NX_ECONFLICT ? NX_EINVAL : rc;
                    goto fail;
                }
            }
    }
    if ((rc = audit_write_new(tx, who, "create", "volunteer_activity", *id, c,
                              json_pack("{s:I}", "occurrences", (json_int_t)every_n), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* ---- sign-ups ---- */

/* Whether a sign-up of role (0: none) fits now: a place left in the activity and in the role. */
static int fits(store_tx *tx, const act *a, int64_t role, bool *ok, nx_err *e)
{
    int64_t n = 0;
    store_param p[] = {P_INT(a->id)};
    int rc = store_one_int(tx, "SELECT COUNT(*) FROM volunteer_signups WHERE activity_id = $1 AND status = 'confirmed'",
                           p, 1, &n, e);
    if (rc)
        return rc;
    *ok = n < a->capacity;
    if (*ok && role) {
        int64_t places = 0;
        store_param q[] = {P_INT(role)};
        if ((rc = store_one_int(tx, "SELECT places FROM volunteer_activity_roles WHERE id = $1", q, 1, &places, e)))
            return rc;
        store_param s[] = {P_INT(role)};
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM volunteer_signups WHERE role_id = $1 AND status = 'confirmed'",
                                s, 1, &n, e)))
            return rc;
        *ok = n < places;
    }
    return 0;
}

/* Bump the activity's version: the row lock that orders its sign-up changes (see the head). */
static int lock_activity(store_tx *tx, int64_t id, nx_err *e)
{
    store_param p[] = {P_INT(id)};
    return store_exec(tx, "UPDATE volunteer_activities SET version = version + 1 WHERE id = $1", p, 1, NULL, e);
}

int volunteers_signup(nx_app *app, const nx_principal *who, int64_t activity_id, json_t *in, json_t **out,
                      nx_err *e)
{
    static const char *const allowed[] = {"volunteer_id", "placeholder", "role_id", NULL};
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权报名志愿活动");
    int64_t vid = 0, role = 0;
    const char *placeholder = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "volunteer_id", false, 1, INT64_MAX, &vid, e)) < 0 ||
        (rc = json_get_int(in, "role_id", false, 1, INT64_MAX, &role, e)) < 0 ||
        (rc = json_read_str(in, "placeholder", false, 50, &placeholder, e)))
        return rc;
    if (vid && placeholder)
        return nx_fail(e, NX_EINVAL, "placeholder", "志愿者和临时人员只能填一个");
    store_tx *tx;
    act a;
    vol_self me;
    if ((rc = act_open(app, STORE_WRITE, who, activity_id, &tx, &a, &me, e)))
        return rc;
    store_rows *r = NULL;
    bool by_organiser = vid || placeholder;
    if (by_organiser && !manages(who, &me, &a)) {
        rc = nx_fail(e, NX_EPERM, vid ? "volunteer_id" : "placeholder", "只有活动组织者可以代为报名");
        goto fail;
    }
    if (strcmp(a.status, "open") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", "活动已取消");
        goto fail;
    }
    int64_t now = clock_now_ms();
    if (!by_organiser && now > a.deadline) {
        rc = nx_fail(e, NX_ECONFLICT, "signup_deadline", "报名已截止");
        goto fail;
    }
    if (now > a.ends_at) {
        rc = nx_fail(e, NX_ECONFLICT, "", "活动已结束");
        goto fail;
    }
    if (!by_organiser) {
        if (me.id == 0) {
            if (who->resident_id == 0 || !perm_has(who, RIGHT_SELF)) {
                rc = nx_fail(e, NX_EPERM, "", "请先登记为志愿者");
                goto fail;
            }
            if ((rc = vol_register_self(tx, who, &me.id, e)))
                goto fail;
            me.community_id = a.community_id;
        }
        vid = me.id;
    }
    if (role) {
        store_param p[] = {P_INT(role), P_INT(a.id)};
        if ((rc = store_exists_or_fail(
                 tx, "SELECT COUNT(*) FROM volunteer_activity_roles WHERE id = $1 AND activity_id = $2", p, 2,
                 "role_id", e, "该活动没有这个岗位")))
            goto fail;
    }
    if (vid) {
        store_param p[] = {P_INT(vid), P_INT(a.community_id)};
        if ((rc = store_query(tx,
                              "SELECT birth_date, skills, status FROM volunteers WHERE id = $1 AND community_id = $2", p,
                              2, &r, e)))
            goto fail;
        if (!store_row(r)) {
            if ((rc = store_rows_end(r, e)) == 0)
                rc = nx_fail(e, NX_EINVAL, "volunteer_id", "志愿者不存在");
            r = NULL;
            goto fail;
        }
        nx_date birth;
        const char *b = store_text(r, 0), *skills = store_text(r, 1);
        bool active = store_text(r, 2) && strcmp(store_text(r, 2), "active") == 0;
        bool young = a.min_age > 0 && (b == NULL || date_parse(b, &birth) != 0 ||
                                       date_age(birth, date_today()) < a.min_age);
        bool lacks = a.skill[0] && (skills == NULL || strstr(skills, a.skill) == NULL);
        store_rows_free(r);
        r = NULL;
        if (!active) {
            rc = nx_fail(e, NX_EINVAL, "volunteer_id", "该志愿者已停用");
            goto fail;
        }
        if (young) {
            rc = nx_fail(e, NX_EINVAL, "min_age", "未达到活动要求的最低年龄（%lld 岁）", (long long)a.min_age);
            goto fail;
        }
        if (lacks) {
            rc = nx_fail(e, NX_EINVAL, "skill", "该活动需要技能：%s", a.skill);
            goto fail;
        }
    }
    if ((rc = lock_activity(tx, a.id, e)))
        goto fail;
    bool ok;
    if ((rc = fits(tx, &a, role, &ok, e)))
        goto fail;
    const char *status = ok ? "confirmed" : "waiting";
    int64_t sid = 0, existing = 0, last = 0;
    /* the queue's order: strictly after every earlier sign-up, even within one millisecond */
    store_param lp[] = {P_INT(a.id)};
    if ((rc = store_one_int(tx, "SELECT COALESCE(MAX(queued_at), 0) FROM volunteer_signups WHERE activity_id = $1", lp,
                            1, &last, e)))
        goto fail;
    int64_t queued = now > last ? now : last + 1;
    if (vid) {
        store_param p[] = {P_INT(a.id), P_INT(vid)};
        if ((rc = store_query(tx, "SELECT id, status FROM volunteer_signups WHERE activity_id = $1 AND volunteer_id = $2",
                              p, 2, &r, e)))
            goto fail;
        bool active = false;
        if (store_row(r)) {
            existing = store_int(r, 0);
            active = strcmp(store_text(r, 1), "cancelled") != 0;
        }
        if ((rc = store_rows_end(r, e)))
            goto fail;
        r = NULL;
        if (active) {
            rc = nx_fail(e, NX_ECONFLICT, "volunteer_id", "已报名该活动");
            goto fail;
        }
    }
    if (existing) {
        sid = existing;
        store_param p[] = {P_TEXT(status), P_ID(role), P_INT(queued), P_INT(sid)};
        if ((rc = store_exec(tx,
                             "UPDATE volunteer_signups SET status = $1, role_id = $2, queued_at = $3, check_in_at = "
                             "NULL, check_out_at = NULL, reminded_at = NULL WHERE id = $4",
                             p, 4, NULL, e)))
            goto fail;
    } else {
        store_param p[] = {P_INT(a.id), P_INT(a.community_id), P_ID(vid), P_TEXT(placeholder), P_ID(role),
                           P_TEXT(status), P_INT(queued), P_ID(who->user_id), P_INT(now)};
        rc = app_insert(tx, "volunteer_signups",
                        "activity_id, community_id, volunteer_id, placeholder, role_id, status, queued_at, "
                        "created_by, created_at",
                        p, 9, &sid, e);
        if ((rc = store_conflict_field(rc, "volunteer_id", e, "已报名该活动")))
            goto fail;
    }
    int64_t pos = 0;
    if (!ok) {
        if ((rc = position_of(tx, a.id, sid, &pos, e)))
            goto fail;
        if (vid && (rc = outbox_emit_new(tx, VOLUNTEERS_EV_SIGNUP_WAITING, a.community_id, "volunteer_signup", sid,
                                         json_pack("{s:I, s:I, s:I, s:I}", "signup_id", (json_int_t)sid, "activity_id",
                                                   (json_int_t)a.id, "volunteer_id", (json_int_t)vid, "position",
                                                   (json_int_t)pos),
                                         e)))
            goto fail;
    }
    if ((rc = audit_write_new(tx, who, "signup", "volunteer_activity", a.id, a.community_id,
                              json_pack("{s:I, s:s}", "signup_id", (json_int_t)sid, "status", status), e)))
        goto fail;
    if ((rc = store_commit(tx, e)))
        return rc;
    *out = json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)sid, "activity_id", (json_int_t)a.id, "status", status,
                     "position", ok ? json_null() : json_integer(pos));
    return 0;
fail:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}

/* Give freed places to waiting sign-ups, first come first served, each where it fits. *first gets
 * the first sign-up moved up (0: none). */
static int promote(store_tx *tx, const act *a, int64_t *first, nx_err *e)
{
    *first = 0;
    for (int guard = 0; guard < 1000; guard++) {
        store_param p[] = {P_INT(a->id)};
        store_rows *r;
        int rc = store_query(tx,
                             "SELECT id, role_id, volunteer_id FROM volunteer_signups WHERE activity_id = $1 AND status = "
                             "'waiting' ORDER BY queued_at, id",
                             p, 1, &r, e);
        if (rc)
            return rc;
        int64_t cand[64][3];
        int n = 0;
        while (n < 64 && store_row(r)) {
            cand[n][0] = store_int(r, 0);
            cand[n][1] = store_int(r, 1);
            cand[n][2] = store_int(r, 2);
            n++;
        }
        if ((rc = store_rows_end(r, e)))
            return rc;
        int64_t chosen = -1;
        for (int i = 0; i < n && chosen < 0; i++) {
            bool ok;
            if ((rc = fits(tx, a, cand[i][1], &ok, e)))
                return rc;
            if (ok)
                chosen = i;
        }
        if (chosen < 0)
            return 0;
        store_param u[] = {P_INT(cand[chosen][0])};
        if ((rc = store_exec(tx, "UPDATE volunteer_signups SET status = 'confirmed' WHERE id = $1", u, 1, NULL, e)))
            return rc;
        if (*first == 0)
            *first = cand[chosen][0];
        if (cand[chosen][2] &&
            (rc = outbox_emit_new(tx, VOLUNTEERS_EV_SIGNUP_PROMOTED, a->community_id, "volunteer_signup", cand[chosen][0],
                                  json_pack("{s:I, s:I, s:I}", "signup_id", (json_int_t)cand[chosen][0], "activity_id",
                                            (json_int_t)a->id, "volunteer_id", (json_int_t)cand[chosen][2]),
                                  e)))
            return rc;
    }
    return 0;
}

int volunteers_signup_cancel(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    int rc;
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权取消报名");
    if (in && ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "reason", false, 200, &reason, e))))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t activity = 0, vid = 0;
    char status[16] = "";
    bool checked = false;
    store_rows *r;
    store_param p[] = {P_INT(id)};
    if ((rc = store_query_first(
             tx, "SELECT activity_id, volunteer_id, status, check_in_at FROM volunteer_signups WHERE id = $1",
             p, 1, "报名记录不存在", &r, e)) == 0) {
        activity = store_int(r, 0);
        vid = store_int(r, 1);
        str_copy(status, store_text(r, 2), sizeof status);
        checked = !store_isnull(r, 3);
    }
    store_rows_free(r);
    act a;
    vol_self me;
    if (rc || (rc = act_load(tx, who, activity, &a, e)) || (rc = vol_me(tx, who, &me, e))) {
        if (rc == NX_ENOTFOUND)
            nx_fail(e, NX_ENOTFOUND, "", "报名记录不存在");
        goto fail;
    }
    bool own = me.id && me.id == vid;
    bool organiser = manages(who, &me, &a);
    if (!own && !organiser) {
        rc = nx_fail(e, vol_may_read(who) && perm_has(who, RIGHT_SELF) ? NX_ENOTFOUND : NX_EPERM, "",
                     "不能取消他人的报名");
        goto fail;
    }
    if (strcmp(status, "cancelled") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", "报名已取消");
        goto fail;
    }
    if (checked) {
        rc = nx_fail(e, NX_ECONFLICT, "", "已签到，不能取消报名");
        goto fail;
    }
    /* the deadline: a volunteer cancels until the start, the organiser until the end */
    int64_t now = clock_now_ms();
    bool by_self = own && !organiser;
    if (now >= (by_self ? a.starts_at : a.ends_at)) {
        rc = nx_fail(e, NX_ECONFLICT, "starts_at",
                     by_self ? "活动已开始，不能自行取消，请联系组织者" : "活动已结束，不能取消报名");
        goto fail;
    }
    /* a reason: for someone else's place, and for one's own confirmed place at short notice */
    bool short_notice = strcmp(status, "confirmed") == 0 && a.starts_at - now < VOLUNTEERS_CANCEL_NOTICE_MS;
    if ((!own || short_notice) && (reason == NULL || !*reason)) {
        rc = nx_fail(e, NX_EINVAL, "reason",
                     own ? "活动开始前 2 小时内取消，请填写原因" : "取消他人的报名，请填写原因");
        goto fail;
    }
    if ((rc = lock_activity(tx, a.id, e)))
        goto fail;
    store_param u[] = {P_TEXT(reason), P_INT(id)};
    if ((rc = store_exec(tx, "UPDATE volunteer_signups SET status = 'cancelled', check_note = $1 WHERE id = $2", u, 2,
                         NULL, e)))
        goto fail;
    int64_t promoted = 0;
    if (strcmp(status, "confirmed") == 0 && (rc = promote(tx, &a, &promoted, e)))
        goto fail;
    if (vid && (rc = outbox_emit_new(tx, VOLUNTEERS_EV_SIGNUP_CANCELLED, a.community_id, "volunteer_signup", id,
                                     json_pack("{s:I, s:I, s:I, s:s, s:b, s:o}", "signup_id", (json_int_t)id,
                                               "activity_id", (json_int_t)a.id, "volunteer_id", (json_int_t)vid,
                                               "by", own ? "self" : "organiser", "freed",
                                               strcmp(status, "confirmed") == 0, "promoted_signup_id",
                                               promoted ? json_integer(promoted) : json_null()),
                                     e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "cancel", "volunteer_signup", id, a.community_id,
                              json_pack("{s:b, s:b}", "own", own, "short_notice", short_notice), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* ---- check-in codes ---- */

void volunteers_code_for(const nx_keys *k, int64_t activity_id, int64_t window, char out[7])
{
    char msg[96];
    int len = snprintf(msg, sizeof msg, "nxvol-checkin|%lld|%lld", (long long)activity_id, (long long)window);
    unsigned char mac[NX_DOC_MAC_BYTES];
    crypto_document_mac(k, msg, (size_t)len, mac);
    uint32_t v = ((uint32_t)mac[0] << 24) | ((uint32_t)mac[1] << 16) | ((uint32_t)mac[2] << 8) | mac[3];
    snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
}

static int64_t window_of(int64_t ms)
{
    return ms / 1000 / VOLUNTEERS_CODE_WINDOW_S;
}

int volunteers_checkin_code(nx_app *app, const nx_principal *who, int64_t activity_id, int64_t now_ms, json_t **out,
                            nx_err *e)
{
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看签到码");
    store_tx *tx;
    act a;
    vol_self me;
    int rc = act_open(app, STORE_READ, who, activity_id, &tx, &a, &me, e);
    if (rc)
        return rc;
    store_rollback(tx);
    if (!manages(who, &me, &a))
        return nx_fail(e, NX_EPERM, "", "只有活动组织者可以出示签到码");
    int64_t w = window_of(now_ms);
    char code[7], payload[700];
    volunteers_code_for(app->keys, a.id, w, code);
    /* the QR code opens the volunteer's check-in page with the code filled in */
    snprintf(payload, sizeof payload, "%s/m/checkin/%lld?code=%s", app->cfg->public_url, (long long)a.id, code);
    int64_t expires = (w + 1) * VOLUNTEERS_CODE_WINDOW_S * 1000LL;
    char exp[30];
    clock_format_local(expires, exp);
    bool open = now_ms >= a.starts_at - VOLUNTEERS_CHECK_MARGIN_MS && now_ms <= a.ends_at + VOLUNTEERS_CHECK_MARGIN_MS;
    *out = json_pack("{s:I, s:s, s:s, s:s, s:i, s:b}", "activity_id", (json_int_t)a.id, "code", code, "payload", payload,
                     "expires_at", exp, "window_seconds", VOLUNTEERS_CODE_WINDOW_S, "open", open);
    if (*out == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    /* the QR code as one SVG path of unit squares (a 4-module quiet zone is the viewer's) */
    qr_matrix m = {0};
    if ((rc = qr_encode(payload, &m, e))) {
        json_decref(*out);
        return rc;
    }
    size_t cap = (size_t)m.width * (size_t)m.width * 16 + 1, len = 0;
    char *path = malloc(cap);
    if (path == NULL) {
        qr_free(&m);
        json_decref(*out);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    path[0] = '\0';
    for (int y = 0; y < m.width; y++)
        for (int x = 0; x < m.width; x++)
            if (m.modules[y * m.width + x]) {
                int k = snprintf(path + len, cap - len, "M%d %dh1v1h-1z", x, y);
                if (k > 0 && (size_t)k < cap - len)
                    len += (size_t)k;
            }
    json_object_set_new(*out, "qr_width", json_integer(m.width));
    json_object_set_new(*out, "qr_path", json_string(path));
    free(path);
    qr_free(&m);
    return 0;
}

/* Whether code is the activity's code now or in the window before. */
static bool code_ok(const nx_keys *k, int64_t activity, const char *code, int64_t now)
{
    int64_t w = window_of(now);
    for (int64_t d = 0; d <= 1; d++) {
        char want[7];
        volunteers_code_for(k, activity, w - d, want);
        if (strlen(code) == 6 && crypto_equal(want, code, 6))
            return true;
    }
    return false;
}

/* The minutes of attendance from in to out, inside the activity's hours. */
static int64_t attended(const act *a, int64_t in, int64_t out)
{
    int64_t s = in > a->starts_at ? in : a->starts_at, t = out < a->ends_at ? out : a->ends_at;
    return t > s ? (t - s) / 60000 : 0;
}

int volunteers_check(nx_app *app, const nx_principal *who, int64_t activity_id, json_t *in, json_t **out, nx_err *e)
{
    static const char *const allowed[] = {"action", "code", "signup_id", "at", "reason", NULL};
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权签到");
    const char *action = NULL, *code = NULL, *reason = NULL;
    int64_t sid = 0, at = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "action", true, 10, &action, e)) ||
        (rc = json_read_str(in, "code", false, 20, &code, e)) ||
        (rc = json_read_str(in, "reason", false, 200, &reason, e)) ||
        (rc = json_get_int(in, "signup_id", false, 1, INT64_MAX, &sid, e)) < 0 ||
        (rc = vol_get_time(in, "at", false, &at, e)) < 0)
        return rc;
    bool is_in = strcmp(action, "in") == 0;
    if (!is_in && strcmp(action, "out") != 0)
        return nx_fail(e, NX_EINVAL, "action", "action 只能是 in（签到）或 out（签退）");
    if (at && (reason == NULL || !*reason))
        return nx_fail(e, NX_EINVAL, "reason", "更正签到时间须填写原因");
    store_tx *tx;
    act a;
    vol_self me;
    if ((rc = act_open(app, STORE_WRITE, who, activity_id, &tx, &a, &me, e)))
        return rc;
    store_rows *r = NULL;
    bool organiser = manages(who, &me, &a);
    int64_t now = clock_now_ms();
    /* whose sign-up */
    int64_t vid = 0, check_in = 0, check_out = 0;
    char status[16] = "";
    if (sid) {
        store_param p[] = {P_INT(sid), P_INT(a.id)};
        if ((rc = store_query(tx,
                              "SELECT volunteer_id, status, check_in_at, check_out_at FROM volunteer_signups WHERE id = "
                              "$1 AND activity_id = $2",
                              p, 2, &r, e)))
            goto fail;
    } else {
        if (me.id == 0) {
            rc = nx_fail(e, NX_EPERM, "", "您不是志愿者，不能签到");
            goto fail;
        }
        store_param p[] = {P_INT(me.id), P_INT(a.id)};
        if ((rc = store_query(tx,
                              "SELECT volunteer_id, status, check_in_at, check_out_at, id FROM volunteer_signups WHERE "
                              "volunteer_id = $1 AND activity_id = $2",
                              p, 2, &r, e)))
            goto fail;
    }
    if (!store_row(r)) {
        if ((rc = store_rows_end(r, e)) == 0)
            rc = sid ? nx_fail(e, NX_EINVAL, "signup_id", "该活动没有这条报名记录")
                     : nx_fail(e, NX_ECONFLICT, "", "您没有报名该活动");
        r = NULL;
        goto fail;
    }
    vid = store_int(r, 0);
    str_copy(status, store_text(r, 1), sizeof status);
    check_in = store_int(r, 2);
    check_out = store_int(r, 3);
    if (!sid)
        sid = store_int(r, 4);
    store_rows_free(r);
    r = NULL;
    bool own = me.id && vid == me.id;
    if (!own && !organiser) {
        rc = nx_fail(e, NX_EPERM, "signup_id", "不能替他人签到");
        goto fail;
    }
    if (own && organiser && at) {
        rc = nx_fail(e, NX_EPERM, "at", "不能更正自己的签到时间");
        goto fail;
    }
    if (!organiser || (own && code)) {
        /* a volunteer checks in with the activity's current code */
        if (code == NULL || !*code) {
            rc = nx_fail(e, NX_EINVAL, "code", "请扫描或输入活动签到码");
            goto fail;
        }
        if (!code_ok(app->keys, a.id, code, now)) {
            rc = nx_fail(e, NX_EINVAL, "code", "签到码无效或已过期，请重新扫描");
            goto fail;
        }
    }
    if (strcmp(status, "confirmed") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", strcmp(status, "waiting") == 0 ? "候补中，不能签到" : "报名已取消");
        goto fail;
    }
    int64_t t = at ? at : now;
    if (t < a.starts_at - VOLUNTEERS_CHECK_MARGIN_MS || t > a.ends_at + VOLUNTEERS_CHECK_MARGIN_MS) {
        rc = nx_fail(e, NX_ECONFLICT, at ? "at" : "action", "不在活动签到时间内（开始前 30 分钟至结束后 30 分钟）");
        goto fail;
    }
    char day[11];
    vol_local_date(a.starts_at, day);
    if (is_in) {
        if (check_in && !at) {
            rc = nx_fail(e, NX_ECONFLICT, "action", "已签到");
            goto fail;
        }
        if (check_out && t > check_out) {
            rc = nx_fail(e, NX_EINVAL, "at", "签到时间不能晚于签退时间");
            goto fail;
        }
        store_param u[] = {P_INT(t), P_TEXT(reason), P_INT(sid)};
        if ((rc = store_exec(tx, "UPDATE volunteer_signups SET check_in_at = $1, check_note = $2 WHERE id = $3", u, 3,
                             NULL, e)))
            goto fail;
    } else {
        if (!check_in) {
            rc = nx_fail(e, NX_EINVAL, "action", "尚未签到，不能签退");
            goto fail;
        }
        if (t < check_in) {
            rc = nx_fail(e, NX_EINVAL, at ? "at" : "action", "签退时间不能早于签到时间");
            goto fail;
        }
        if (check_out && !at) {
            rc = nx_fail(e, NX_ECONFLICT, "action", "已签退");
            goto fail;
        }
        store_param u[] = {P_INT(t), P_TEXT(reason), P_INT(sid)};
        if ((rc = store_exec(tx, "UPDATE volunteer_signups SET check_out_at = $1, check_note = $2 WHERE id = $3", u, 3,
                             NULL, e)))
            goto fail;
    }
    /* the ledger: the attendance once checked out; a later correction adds the difference */
    if (vid && (check_out || !is_in)) {
        int64_t new_in = is_in ? t : check_in, new_out = is_in ? check_out : t;
        int64_t minutes = attended(&a, new_in, new_out), booked = 0, first = 0;
        store_param q[] = {P_INT(sid)};
        if ((rc = store_one_int(tx,
                                "SELECT COALESCE(SUM(minutes), 0) FROM volunteer_hours WHERE signup_id = $1 AND status "
                                "<> 'rejected'",
                                q, 1, &booked, e)) ||
            (rc = store_one_int(tx, "SELECT COALESCE(MIN(id), 0) FROM volunteer_hours WHERE signup_id = $1", q, 1,
                                &first, e)))
            goto fail;
        if (minutes != booked) {
            bool correction = first != 0;
            store_param h[] = {P_INT(a.community_id), P_INT(vid),    P_INT(a.id),     P_INT(sid),
                               P_TEXT(correction ? "correction" : "attendance"),    P_ID(correction ? first : 0),
                               P_INT(minutes - booked), P_TEXT(day), P_TEXT(reason), P_ID(who->user_id),
                               P_INT(now)};
            if ((rc = app_insert(tx, "volunteer_hours",
                                 "community_id, volunteer_id, activity_id, signup_id, kind, corrects_id, "
                                 "minutes, served_on, reason, recorded_by, created_at",
                                 h, 11, NULL, e)))
                goto fail;
        }
    }
    if ((rc = audit_write_new(tx, who, is_in ? "check_in" : "check_out", "volunteer_signup", sid, a.community_id,
                              json_pack("{s:b, s:b}", "own", own, "corrected", at != 0), e)))
        goto fail;
    if ((rc = store_commit(tx, e)))
        return rc;
    char ts[30];
    clock_format_local(t, ts);
    *out = json_pack("{s:I, s:I, s:s, s:s}", "signup_id", (json_int_t)sid, "activity_id", (json_int_t)a.id, "action",
                     action, "at", ts);
    return 0;
fail:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}
