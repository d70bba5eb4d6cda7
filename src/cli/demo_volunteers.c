/* demo_volunteers.c — a season of the demo community's volunteering and partner services, written
 * after its residents and accounts: the 11 teams with leaders and members, the 31 partner units,
 * about sixty activities from twelve weeks ago to five weeks ahead (past ones signed up, checked in
 * and out, their hours in the ledger and mostly approved; coming ones partly signed up, a few full
 * with a waiting list), the partners' recurring services with sessions, slots and bookings, and the
 * time bank's offers with the points the approved hours earned.
 *
 * Rows go in with plain INSERTs in one write transaction (fast: well under a second for the default
 * demo), ids read back with RETURNING; phones are encrypted as the module encrypts them. Names of
 * outsiders and units are fictional. Deterministic for a seed and a day. */
#include "cli/demo_volunteers.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/volunteers/volunteers.h"
#include "secure/audit.h"
#include "secure/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEAM_COUNT 11
#define MEMBERS 8
#define ACTIVITY_COUNT 60
#define PARTNER_COUNT 31

typedef struct dv {
    store_tx *tx;
    nx_app *app;
    uint64_t rng;
    int64_t community, staff_user, volunteer_user, now;
    int64_t today_days;
} dv;

static unsigned pick(dv *d, unsigned n)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return n ? (unsigned)(d->rng % n) : 0;
}

static const char *const team_names[TEAM_COUNT] = {"党员先锋队", "邻里守望队", "银龄互助队", "助老服务队",
                                                   "环境保护队", "文明劝导队", "青少年课堂队", "法律援助队",
                                                   "医疗健康队", "文体活动队", "应急救援队"};
static const char *const team_work[TEAM_COUNT][2] = {
    {"党员进社区志愿服务", "社区议事协商协助"}, {"楼道安全巡查", "夜间邻里守望"},
    {"独居老人探访", "银龄结对陪伴"},           {"助餐送餐上门", "陪同老人就医"},
    {"垃圾分类指导", "小区环境清扫"},           {"文明交通劝导", "共享单车整理"},
    {"四点半课堂辅导", "暑期阅读陪伴"},         {"法律咨询进社区", "防诈骗宣传"},
    {"健康义诊协助", "量血压测血糖"},           {"广场舞联欢协助", "社区运动会保障"},
    {"应急演练", "防汛值守"}};
static const char *const places[] = {"社区党群服务中心", "幸福广场", "社区活动室", "日间照料中心", "各小区",
                                     "社区卫生服务站", "社区图书室"};
static const char *const outsider_names[] = {"陈思远", "林雨桐", "赵嘉怡", "孙浩然", "周子轩", "吴梓涵",
                                             "郑雅琪", "冯俊杰", "何晓东", "许婉清", "韩明哲", "曹心怡"};
static const char *const skills[] = {"急救", "理发", "法律", "医护", "摄影", "驾驶", "维修", "辅导功课", "文艺"};

static const struct {
    const char *kind, *name, *offer;
} partner_defs[PARTNER_COUNT] = {
    {"hospital", "市中心医院", "每月第二个星期六义诊"},       {"hospital", "市中医院", "中医理疗、义诊"},
    {"hospital", "区妇幼保健院", "母婴健康讲座"},             {"hospital", "康复医院", "每月第四个星期六康复义诊"},
    {"hospital", "仁心口腔门诊", "老年人口腔检查"},           {"hospital", "明目眼科", "白内障筛查"},
    {"salon", "美美发廊", "每月爱心理发"},                   {"salon", "青丝美发", "上门理发"},
    {"salon", "老街剃头铺", "老人免费剃头"},                 {"salon", "丽人美容美发", "爱心理发"},
    {"salon", "匠心理发店", "残疾人上门理发"},               {"salon", "时光发艺", "节日义剪"},
    {"school", "幸福路小学", "四点半课堂师资"},               {"school", "实验中学", "学生志愿者"},
    {"school", "市职业技术学院", "家电维修实践"},             {"school", "育才幼儿园", "亲子活动"},
    {"school", "老年大学", "书画课程"},                       {"school", "师范学院", "课业辅导"},
    {"company", "国家电网供电所", "用电安全检查"},             {"company", "自来水公司", "管道检修"},
    {"company", "联通营业厅", "智能手机教学"},                 {"company", "建设银行支行", "防诈骗宣传"},
    {"company", "顺达物业", "小区环境整治"},                   {"company", "好邻居超市", "爱心粮油"},
    {"company", "鑫源家电维修", "家电义修"},                   {"company", "安心保险", "意外险讲解"},
    {"company", "德仁律师事务所", "法律咨询"},                 {"company", "阳光会计师事务所", "个税申报辅导"},
    {"other", "红十字会分会", "急救培训"},                     {"other", "社区社会组织联合会", "公益活动"},
    {"other", "爱心车队", "老人出行接送"}};

/* The local day (days since 1970) at hh:mm as epoch ms. */
static int64_t at_local(int64_t days, int hh, int mm)
{
    return days * 86400000LL + (hh * 60LL + mm) * 60000LL - NX_TZ_OFFSET_MS;
}

static int user_of(store_tx *tx, const char *username, int64_t *id, nx_err *e)
{
    store_param p[] = {P_TEXT(username)};
    *id = 0;
    int rc = store_one_int(tx, "SELECT id FROM users WHERE username = $1", p, 1, id, e);
    return rc == NX_ENOTFOUND ? 0 : rc;
}

static int insert_id(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *id, nx_err *e)
{
    return store_one_int(tx, sql, p, n, id, e);
}

static int fill(dv *d, int64_t self_resident, json_t *summary, nx_err *e)
{
    int rc;
    /* adult residents (18..75) as volunteers, elders (60+) for bookings */
    int64_t *adults = NULL, *elders = NULL;
    int na = 0, ne = 0, nrows = 0, cap = 0;
    store_rows *r;
    store_param cp[] = {P_INT(d->community)};
    if ((rc = store_query(d->tx,
                          "SELECT id, birth_date, name FROM residents WHERE community_id = $1 AND status = 'active' "
                          "ORDER BY id",
                          cp, 1, &r, e)))
        return rc;
    nx_date today = date_from_days(d->today_days);
    while (store_row(r)) {
        if (nrows++ == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *a2 = realloc(adults, (size_t)cap * sizeof *a2), *e2 = realloc(elders, (size_t)cap * sizeof *e2);
            if (a2)
                adults = a2;
            if (e2)
                elders = e2;
            if (!a2 || !e2) {
                store_rows_free(r);
                free(adults);
                free(elders);
                return nx_fail(e, NX_ENOMEM, "", "内存不足");
            }
        }
        nx_date b;
        if (store_text(r, 1) == NULL || date_parse(store_text(r, 1), &b))
            continue;
        int age = date_age(b, today);
        if (age >= 18 && age <= 72)
            adults[na++] = store_int(r, 0);
        if (age >= 60)
            elders[ne++] = store_int(r, 0);
    }
    if ((rc = store_rows_end(r, e)))
        goto out;
    /* teams and volunteers */
    int64_t teams[TEAM_COUNT], members[TEAM_COUNT][MEMBERS], member_user[TEAM_COUNT][MEMBERS];
    int nvol = 0, used_adult = 0;
    memset(member_user, 0, sizeof member_user);
    for (int t = 0; t < TEAM_COUNT; t++) {
        char desc[120];
        snprintf(desc, sizeof desc, "%s、%s等", team_work[t][0], team_work[t][1]);
        store_param tp[] = {P_INT(d->community), P_TEXT(team_names[t]), P_TEXT(desc), P_ID(d->staff_user),
                            P_INT(d->now)};
        if ((rc = insert_id(d->tx,
                            "INSERT INTO volunteer_teams (community_id, name, description, created_by, created_at) "
                            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            tp, 5, &teams[t], e)))
            goto out;
        for (int m = 0; m < MEMBERS; m++) {
            bool resident = m % 3 != 2 && used_adult < na;
            int64_t res = 0, user = (t == 0 && m == 0) ? d->volunteer_user : 0;
            char name[64] = "", tmp[NX_TOKEN_CHARS], phone[16], tail[8] = "", birth[16] = "";
            unsigned char *enc = NULL;
            size_t elen = 0;
            token_random(tmp, sizeof tmp);
            if (resident) {
                /* spread over the residents deterministically */
                res = adults[(used_adult * 37 + (int)pick(d, 7)) % na];
                used_adult++;
                store_param rp[] = {P_INT(res)};
                store_rows *rr;
                if ((rc = store_query(d->tx, "SELECT name, birth_date FROM residents WHERE id = $1", rp, 1, &rr, e)))
                    goto out;
                if (store_row(rr)) {
                    str_copy(name, store_text(rr, 0) ? store_text(rr, 0) : "", sizeof name);
                    str_copy(birth, store_text(rr, 1) ? store_text(rr, 1) : "", sizeof birth);
                }
                if ((rc = store_rows_end(rr, e)))
                    goto out;
                /* a resident volunteers once: skip one already on a team */
                store_param dp[] = {P_INT(d->community), P_INT(res)};
                int64_t dup = 0;
                if ((rc = store_one_int(d->tx,
                                        "SELECT COUNT(*) FROM volunteers WHERE community_id = $1 AND resident_id = $2",
                                        dp, 2, &dup, e)))
                    goto out;
                if (dup)
                    resident = false, res = 0;
            }
            if (!resident) {
                str_copy(name, outsider_names[(t * MEMBERS + m) % 12], sizeof name);
                snprintf(phone, sizeof phone, "170%08u", 10000000u + (unsigned)(t * 100 + m) * 7919u % 89999999u);
                str_copy(tail, phone + 7, sizeof tail);
                if (field_encrypt_ad(d->app->keys, VOLUNTEERS_PHONE_CONTEXT, phone, strlen(phone), &enc, &elen)) {
                    rc = nx_fail(e, NX_ENOMEM, "", "无法加密电话");
                    goto out;
                }
            }
            char skill[64];
            snprintf(skill, sizeof skill, "%s,%s", skills[pick(d, 9)], skills[(t + m) % 9]);
            store_param vp[] = {P_INT(d->community), P_INT(teams[t]), P_ID(res), P_ID(user), P_TEXT(tmp), P_TEXT(name),
                                P_BLOB(enc, elen), P_TEXT(tail[0] ? tail : NULL), P_TEXT(birth[0] ? birth : NULL),
                                P_TEXT(skill), P_TEXT(m % 2 ? "周末" : "工作日上午"), P_INT(m == 0 ? 1 : 0),
                                P_INT(d->now)};
            rc = insert_id(d->tx,
                           "INSERT INTO volunteers (community_id, team_id, resident_id, user_id, number, name, "
                           "phone_enc, phone_tail, birth_date, skills, availability, is_leader, created_at) VALUES ($1, "
                           "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
                           vp, 13, &members[t][m], e);
            free(enc);
            if (rc)
                goto out;
            char number[32];
            snprintf(number, sizeof number, "V%06lld", (long long)members[t][m]);
            store_param up[] = {P_TEXT(number), P_INT(members[t][m])};
            if ((rc = store_exec(d->tx, "UPDATE volunteers SET number = $1 WHERE id = $2", up, 2, NULL, e)))
                goto out;
            member_user[t][m] = user;
            nvol++;
        }
    }
    /* partners */
    int64_t partners[PARTNER_COUNT];
    for (int i = 0; i < PARTNER_COUNT; i++) {
        char phone[16], contact[32];
        snprintf(phone, sizeof phone, "0531-8%07d", 1000000 + i * 7331);
        snprintf(contact, sizeof contact, "%s老师", outsider_names[i % 12]);
        unsigned char *enc = NULL;
        size_t elen = 0;
        if (field_encrypt_ad(d->app->keys, VOLUNTEERS_PARTNER_PHONE_CONTEXT, phone, strlen(phone), &enc, &elen)) {
            rc = nx_fail(e, NX_ENOMEM, "", "无法加密电话");
            goto out;
        }
        store_param pp[] = {P_INT(d->community), P_TEXT(partner_defs[i].name), P_TEXT(partner_defs[i].kind),
                            P_TEXT(contact), P_BLOB(enc, elen), P_TEXT(phone + strlen(phone) - 4),
                            P_TEXT("幸福街道"), P_TEXT(partner_defs[i].offer), P_ID(d->staff_user), P_INT(d->now)};
        rc = insert_id(d->tx,
                       "INSERT INTO partners (community_id, name, kind, contact_name, phone_enc, phone_tail, address, "
                       "offer, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                       pp, 10, &partners[i], e);
        free(enc);
        if (rc)
            goto out;
    }
    /* activities: every other day from 84 days ago */
    for (int k = 0; k < ACTIVITY_COUNT; k++) {
        int t = k % TEAM_COUNT;
        int64_t day = d->today_days - 84 + 2 * k;
        bool morning = k % 3 != 1;
        int64_t starts = at_local(day, morning ? 9 : 14, 0), ends = at_local(day, morning ? 11 : 16, 30);
        int capacity = 4 + (int)pick(d, 5);
        int64_t organiser = t == 0 ? d->volunteer_user : d->staff_user, aid;
        store_param ap[] = {P_INT(d->community), P_INT(teams[t]), P_TEXT(team_work[t][k % 2]),
                            P_TEXT(places[pick(d, 7)]), P_INT(starts), P_INT(ends), P_INT(starts - 3600000LL),
                            P_INT(capacity), P_ID(organiser), P_INT(d->now)};
        if ((rc = insert_id(d->tx,
                            "INSERT INTO volunteer_activities (community_id, team_id, title, place, starts_at, ends_at, "
                            "signup_deadline, capacity, organiser_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                            "$8, $9, $10) RETURNING id",
                            ap, 10, &aid, e)))
            goto out;
        bool past = ends < d->now;
        int signups = past ? capacity : (int)pick(d, (unsigned)capacity + 3);
        if (signups > MEMBERS)
            signups = MEMBERS;
        char served[11];
        date_format(date_from_days(day), served);
        for (int m = 0; m < signups; m++) {
            bool confirmed = m < capacity;
            int64_t in = starts + (int64_t)pick(d, 10) * 60000LL, out = ends - (int64_t)pick(d, 20) * 60000LL, sid;
            bool came = past && confirmed && pick(d, 10) < 9;
            store_param sp[] = {P_INT(aid), P_INT(d->community), P_INT(members[t][m]),
                                P_TEXT(confirmed ? "confirmed" : "waiting"), P_INT(starts - 86400000LL + m),
                                came ? P_INT(in) : P_NULL, came ? P_INT(out) : P_NULL, P_ID(member_user[t][m]),
                                P_INT(d->now)};
            if ((rc = insert_id(d->tx,
                                "INSERT INTO volunteer_signups (activity_id, community_id, volunteer_id, status, "
                                "queued_at, check_in_at, check_out_at, created_by, created_at) VALUES ($1, $2, $3, $4, "
                                "$5, $6, $7, $8, $9) RETURNING id",
                                sp, 9, &sid, e)))
                goto out;
            if (!came)
                continue;
            bool approved = pick(d, 10) < 8 || day < d->today_days - 14;
            store_param hp[] = {P_INT(d->community), P_INT(members[t][m]), P_INT(aid), P_INT(sid),
                                P_INT((out - in) / 60000), P_TEXT(served), P_TEXT(approved ? "approved" : "pending"),
                                P_ID(organiser), approved ? P_ID(d->staff_user) : P_NULL,
                                approved ? P_INT(ends + 86400000LL) : P_NULL, P_INT(ends)};
            if ((rc = store_exec(d->tx,
                                 "INSERT INTO volunteer_hours (community_id, volunteer_id, activity_id, signup_id, kind, "
                                 "minutes, served_on, status, recorded_by, approved_by, approved_at, created_at) VALUES "
                                 "($1, $2, $3, $4, 'attendance', $5, $6, $7, $8, $9, $10, $11)",
                                 hp, 11, NULL, e)))
                goto out;
        }
    }
    /* partner services and their sessions from 9 weeks ago to 8 weeks ahead */
    static const struct {
        int partner;
        const char *title, *kind, *place;
        int rule; /* 0: nth Saturday (nth below), 1: monthly on day nth, 2: weekly on ISO weekday nth */
        int nth, sh, eh, slot;
    } svc[] = {{0, "健康义诊", "clinic", "社区卫生服务站", 0, 2, 9, 11, 15},
               {3, "康复义诊", "clinic", "日间照料中心", 0, 4, 9, 11, 20},
               {6, "爱心理发", "haircut", "社区活动室", 1, 10, 14, 16, 20},
               {7, "上门理发预约", "haircut", "社区活动室", 1, 25, 9, 11, 30},
               {20, "智能手机教学", "other", "社区图书室", 2, 3, 15, 16, 30},
               {24, "家电义修", "other", "幸福广场", 1, 15, 9, 11, 30}};
    int nsessions = 0;
    for (size_t s = 0; s < sizeof svc / sizeof svc[0]; s++) {
        int64_t sv;
        char st[6], et[6], rule[32];
        snprintf(st, sizeof st, "%02d:00", svc[s].sh);
        snprintf(et, sizeof et, "%02d:00", svc[s].eh);
        snprintf(rule, sizeof rule, svc[s].rule == 0 ? "nth_weekday:%d:6" : svc[s].rule == 1 ? "monthly:%d" : "weekly:%d",
                 svc[s].nth);
        store_param vp[] = {P_INT(d->community), P_INT(partners[svc[s].partner]), P_TEXT(svc[s].title),
                            P_TEXT(svc[s].kind), P_TEXT(svc[s].place), P_TEXT(rule), P_TEXT(st), P_TEXT(et),
                            P_INT(svc[s].slot), P_ID(d->staff_user), P_INT(d->now)};
        if ((rc = insert_id(d->tx,
                            "INSERT INTO partner_services (community_id, partner_id, title, kind, place, recurrence, "
                            "start_time, end_time, slot_minutes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, "
                            "$6, $7, $8, $9, $10, $11) RETURNING id",
                            vp, 11, &sv, e)))
            goto out;
        for (int64_t day = d->today_days - 63; day <= d->today_days + 56; day++) {
            nx_date x = date_from_days(day);
            int wd = (int)(((day % 7) + 7 + 3) % 7) + 1;
            bool on = svc[s].rule == 0   ? (wd == 6 && (x.d - 1) / 7 + 1 == svc[s].nth)
                      : svc[s].rule == 1 ? x.d == svc[s].nth
                                         : wd == svc[s].nth;
            if (!on)
                continue;
            int64_t s_at = at_local(day, svc[s].sh, 0), e_at = at_local(day, svc[s].eh, 0), sess;
            store_param sp[] = {P_INT(d->community), P_INT(sv), P_INT(partners[svc[s].partner]), P_INT(s_at),
                                P_INT(e_at), P_INT(d->now)};
            if ((rc = insert_id(d->tx,
                                "INSERT INTO partner_sessions (community_id, service_id, partner_id, starts_at, "
                                "ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                                sp, 6, &sess, e)))
                goto out;
            nsessions++;
            bool past = e_at < d->now;
            int nslots = (svc[s].eh - svc[s].sh) * 60 / svc[s].slot;
            for (int j = 0; j < nslots; j++) {
                int64_t a = s_at + (int64_t)j * svc[s].slot * 60000LL, slot;
                store_param lp[] = {P_INT(sess), P_INT(a), P_INT(a + svc[s].slot * 60000LL)};
                if ((rc = insert_id(d->tx,
                                    "INSERT INTO partner_slots (session_id, starts_at, ends_at) VALUES ($1, $2, $3) "
                                    "RETURNING id",
                                    lp, 3, &slot, e)))
                    goto out;
                /* the demo's own resident holds the second slot of the next clinic */
                bool mine = self_resident && !past && s == 0 && j == 1 && day - d->today_days < 35 &&
                            day - d->today_days >= 0 && nsessions > 0 && a > d->now;
                if (!mine && (ne == 0 || pick(d, 10) >= (past ? 6u : 3u) || j == 1))
                    continue;
                int64_t who = mine ? self_resident : elders[(j * 53 + nsessions * 7) % ne];
                if (!mine && who == self_resident)
                    continue;
                const char *status = past ? (pick(d, 10) < 9 ? "attended" : "no_show") : "booked";
                store_param bp[] = {P_INT(d->community), P_INT(sess), P_INT(slot), P_INT(slot), P_INT(who),
                                    P_TEXT(status), P_ID(d->staff_user), P_INT(d->now)};
                if ((rc = store_exec(d->tx,
                                     "INSERT INTO partner_bookings (community_id, session_id, slot_id, active_slot_id, "
                                     "resident_id, status, booked_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                                     "$8)",
                                     bp, 8, NULL, e)))
                    goto out;
                if (mine)
                    self_resident = 0; /* one is enough */
            }
        }
    }
    json_object_set_new(summary, "volunteer_teams", json_integer(TEAM_COUNT));
    json_object_set_new(summary, "volunteers", json_integer(nvol));
    json_object_set_new(summary, "volunteer_activities", json_integer(ACTIVITY_COUNT));
    json_object_set_new(summary, "partners", json_integer(PARTNER_COUNT));
    json_object_set_new(summary, "partner_sessions", json_integer(nsessions));
    rc = audit_write_new(d->tx, NULL, "demo", "volunteer_team", 0, d->community,
                         json_pack("{s:i, s:i, s:i}", "teams", TEAM_COUNT, "volunteers", nvol, "sessions", nsessions), e);
out:
    free(adults);
    free(elders);
    return rc;
}

/* The time bank: what points buy in the demo community, and the points its approved hours earned. */
static int time_bank(dv *d, nx_err *e)
{
    static const struct {
        const char *title;
        int64_t cost_c;
    } offers[] = {{"爱心理发一次", 200}, {"助餐送餐一次（为家中老人）", 100}, {"上门保洁两小时", 400}, {"义诊优先预约", 50}};
    for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++) {
        store_param p[] = {P_INT(d->community), P_TEXT(offers[i].title), P_INT(offers[i].cost_c), P_ID(d->staff_user),
                           P_INT(d->now)};
        int rc = store_exec(d->tx,
                            "INSERT INTO volunteer_point_offers (community_id, title, cost_c, created_by, created_at) "
                            "VALUES ($1, $2, $3, $4, $5)",
                            p, 5, NULL, e);
        if (rc)
            return rc;
    }
    return volunteers_points_catch_up(d->tx, d->community, NULL, e);
}

int demo_volunteers_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                         nx_err *e)
{
    dv d = {.app = app, .community = community, .rng = 0x766f6c756e746565ull ^ (uint64_t)seed};
    d.now = clock_now_ms();
    d.today_days = (d.now + NX_TZ_OFFSET_MS) / 86400000LL;
    int64_t t0 = clock_mono_ms();
    int rc = store_begin(app->db, STORE_WRITE, &d.tx, e);
    if (rc)
        return rc;
    if ((rc = user_of(d.tx, "shequ", &d.staff_user, e)) || (rc = user_of(d.tx, "zhiyuan", &d.volunteer_user, e)) ||
        (rc = fill(&d, self_resident, summary, e)) ||
        (rc = time_bank(&d, e))) {
        store_rollback(d.tx);
        return rc;
    }
    if ((rc = store_commit(d.tx, e)))
        return rc;
    nx_log(LOG_INFO, "demo.volunteers ms=%lld", (long long)(clock_mono_ms() - t0));
    return 0;
}
