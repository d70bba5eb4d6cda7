/* demo_party.c — the demo community's party building and its model-resident elections (see
 * demo_party.h).
 *
 * Everything is history, so it is written with plain inserts in one write transaction and emits no
 * events. Members come from the residents the people demo marked as party members (political =
 * party_member), oldest first: those of 60 or more form 银领先锋党支部 (in two groups), the others the
 * two other branches. Dates are counted back from today, so the calendar always shows the last twelve
 * months: committee meetings and themed party days monthly, member meetings and lessons quarterly, group
 * meetings monthly, with a few deliberately missing so the calendar has gaps to show. The complete
 * election ran last year in stages (nominated, reviewed, 公示 with one objection answered, voted by about
 * half of the active residents, counted); the count uses the same rule as the module (elections.h). */
#include "cli/demo.h"
#include "cli/demo_party.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"

#define MEMBERS_MAX 60
#define VOTERS_MAX 240

static void day_str(int64_t days, char out[11])
{
    date_format(date_from_days(days), out);
}

static int ins(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *id, nx_err *e)
{
    return id ? store_one_int(tx, sql, p, n, id, e) : store_exec(tx, sql, p, n, NULL, e);
}

static int org(store_tx *tx, int64_t community, int64_t parent, const char *kind, const char *name, int64_t now,
               int64_t *id, nx_err *e)
{
    store_param p[] = {P_INT(community), P_ID(parent), P_TEXT(kind), P_TEXT(name), P_INT(now)};
    return ins(tx,
               "INSERT INTO party_orgs (community_id, parent_id, kind, name, founded_on, created_at, updated_at) VALUES "
               "($1, $2, $3, $4, '2008-07-01', $5, $5) RETURNING id",
               p, 5, id, e);
}

typedef struct dmember {
    int64_t id, org, income;
} dmember;

static int activity(store_tx *tx, int64_t community, int64_t orgid, const char *kind, const char *title,
                    int64_t on_day, int64_t today, const dmember *m, int nm, demo_rng *r, int64_t now,
                    nx_err *e)
{
    char on[11];
    day_str(on_day, on);
    const char *status = on_day > today ? "planned" : (today - on_day < 25 ? "submitted" : "approved");
    const char *minutes = on_day > today ? NULL : "会议按议程进行，与会党员围绕主题交流发言，形成会议决定。";
    store_param p[] = {P_INT(community), P_INT(orgid), P_TEXT(kind), P_TEXT(title), P_TEXT(on), P_TEXT(status),
                       P_TEXT(minutes), P_INT(now)};
    int64_t id = 0;
    int rc = ins(tx,
                 "INSERT INTO party_activities (community_id, org_id, kind, title, held_on, place, status, minutes, "
                 "submitted_at, reviewed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '党群服务中心', $6, $7, "
                 "CASE WHEN $6 = 'planned' THEN NULL ELSE $8 END, CASE WHEN $6 = 'approved' THEN $8 END, $8, $8) "
                 "RETURNING id",
                 p, 8, &id, e);
    if (rc || on_day > today)
        return rc;
    static const char *const reasons[] = {"身体不适", "外出探亲", "住院治疗", "照顾家人"};
    for (int i = 0; i < nm; i++) {
        if (m[i].org != orgid)
            continue;
        unsigned x = demo_roll(r, 20);
        const char *st = x < 16 ? "present" : (x < 19 ? "leave" : "absent");
        store_param a[] = {P_INT(id), P_INT(m[i].id), P_TEXT(st), P_TEXT(x >= 16 && x < 19 ? reasons[x % 4] : NULL),
                           P_INT(now)};
        if ((rc = ins(tx,
                      "INSERT INTO party_attendance (activity_id, member_id, status, reason, updated_at) VALUES ($1, $2, $3, "
                      "$4, $5)",
                      a, 5, NULL, e)))
            return rc;
    }
    return 0;
}

static int64_t dues_amount(int64_t income)
{
    if (income <= 300000)
        return (income * 50 + 5000) / 10000;
    if (income <= 500000)
        return (income * 100 + 5000) / 10000;
    if (income <= 1000000)
        return (income * 150 + 5000) / 10000;
    return (income * 200 + 5000) / 10000;
}

static int fill_party(store_tx *tx, int64_t community, int64_t self, demo_rng *r, int64_t today, int64_t now,
                      json_t *sum, nx_err *e)
{
    int64_t com = 0, silver = 0, g1 = 0, g2 = 0, b1 = 0, b2 = 0;
    int rc;
    if ((rc = org(tx, community, 0, "committee", "暖心社区党委", now, &com, e)) ||
        (rc = org(tx, community, com, "branch", "银领先锋党支部", now, &silver, e)) ||
        (rc = org(tx, community, silver, "group", "银领第一党小组", now, &g1, e)) ||
        (rc = org(tx, community, silver, "group", "银领第二党小组", now, &g2, e)) ||
        (rc = org(tx, community, com, "branch", "第一党支部", now, &b1, e)) ||
        (rc = org(tx, community, com, "branch", "第二党支部", now, &b2, e)))
        return rc;
    /* members: the demo's resident account first, then party members oldest first */
    store_param q[] = {P_INT(community), P_INT(self), P_INT(MEMBERS_MAX)};
    store_rows *rows;
    if ((rc = store_query(tx,
                          "SELECT id, name, birth_date FROM residents WHERE community_id = $1 AND status = 'active' AND "
                          "(id = $2 OR political = 'party_member') ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END, "
                          "birth_date, id LIMIT $3",
                          q, 3, &rows, e)))
        return rc;
    struct {
        int64_t id;
        char name[64], birth[11];
    } res[MEMBERS_MAX];
    int nr = 0;
    while (store_row(rows) && nr < MEMBERS_MAX) {
        res[nr].id = store_int(rows, 0);
        snprintf(res[nr].name, sizeof res[nr].name, "%s", store_text(rows, 1));
        snprintf(res[nr].birth, sizeof res[nr].birth, "%s", store_text(rows, 2));
        nr++;
    }
    if ((rc = store_rows_end(rows, e)))
        return rc;
    dmember m[MEMBERS_MAX + 2];
    int nm = 0, silver_n = 0, young_n = 0;
    int this_year = date_from_days(today).y;
    for (int i = 0; i < nr; i++) {
        int age = this_year - (int)strtol(res[i].birth, NULL, 10);
        int64_t orgid = i == 0 || age >= 60 ? (silver_n++ % 2 ? g2 : (i == 0 ? silver : g1)) : (young_n++ % 2 ? b2 : b1);
        int64_t income = age >= 60 ? 250000 + (int64_t)demo_roll(r, 40) * 10000
                                   : 400000 + (int64_t)demo_roll(r, 80) * 10000;
        char joined[16];
        snprintf(joined, sizeof joined, "%d-07-01",
                 this_year - 5 - (int)demo_roll(r, age > 30 ? age - 23 : 5));
        bool probation = i > 0 && age < 40 && demo_roll(r, 3) == 0;
        store_param p[] = {P_INT(community), P_INT(orgid),  P_INT(res[i].id),          P_TEXT(res[i].name),
                           P_TEXT(probation ? "probationary" : "full"), P_TEXT(joined), P_INT(income), P_INT(now)};
        if ((rc = ins(tx,
                      "INSERT INTO party_members (community_id, org_id, resident_id, name, stage, joined_on, income_fen, "
                      "status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8) RETURNING id",
                      p, 8, &m[nm].id, e)))
            return rc;
        m[nm].org = orgid;
        m[nm].income = income;
        nm++;
    }
    /* two outsiders: a mobile member working elsewhere, and one who arrived by transfer */
    static const char *const outsiders[][2] = {{"陈志远", "在深圳务工，每季度参加线上组织生活"}, {"林晓燕", NULL}};
    for (int i = 0; i < 2; i++) {
        store_param p[] = {P_INT(community), P_INT(i ? b1 : b2), P_TEXT(outsiders[i][0]), P_INT(outsiders[i][1] ? 1 : 0),
                           P_TEXT(outsiders[i][1]), P_INT(450000), P_INT(now)};
        if ((rc = ins(tx,
                      "INSERT INTO party_members (community_id, org_id, name, stage, joined_on, mobile, mobile_note, "
                      "income_fen, status, created_at, updated_at) VALUES ($1, $2, $3, 'full', '2012-07-01', $4, $5, $6, "
                      "'active', $7, $7) RETURNING id",
                      p, 7, &m[nm].id, e)))
            return rc;
        m[nm].org = i ? b1 : b2;
        m[nm].income = 450000;
        nm++;
    }
    char d1[11], d2[11];
    day_str(today - 200, d1);
    day_str(today - 90, d2);
    store_param t1[] = {P_INT(community), P_INT(m[nm - 1].id), P_INT(b1), P_TEXT(d1), P_INT(now)};
    if ((rc = ins(tx,
                  "INSERT INTO party_transfers (community_id, member_id, direction, to_org_id, outside_org, on_date, "
                  "reason, created_at) VALUES ($1, $2, 'in', $3, '幸福街道机关党支部', $4, '工作调动', $5)",
                  t1, 5, NULL, e)))
        return rc;
    /* the last young member moved from branch 1 to branch 2 three months ago */
    for (int i = nm - 3; i > 0; i--) {
        if (m[i].org != b1 && m[i].org != b2)
            continue;
        int64_t from = m[i].org == b1 ? b1 : b2, to = from == b1 ? b2 : b1;
        store_param t2[] = {P_INT(community), P_INT(m[i].id), P_INT(from), P_INT(to), P_TEXT(d2), P_INT(now)};
        store_param u[] = {P_INT(to), P_INT(m[i].id)};
        if ((rc = ins(tx,
                      "INSERT INTO party_transfers (community_id, member_id, direction, from_org_id, to_org_id, on_date, "
                      "reason, created_at) VALUES ($1, $2, 'internal', $3, $4, $5, '居住地变更', $6)",
                      t2, 6, NULL, e)) ||
            (rc = ins(tx, "UPDATE party_members SET org_id = $1 WHERE id = $2", u, 2, NULL, e)))
            return rc;
        m[i].org = to;
        break;
    }
    /* secretaries: the first member of each branch */
    int64_t branches[] = {silver, b1, b2};
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < nm; i++) {
            if (m[i].org != branches[b] && !(b == 0 && (m[i].org == g1 || m[i].org == g2)))
                continue;
            store_param s[] = {P_INT(m[i].id), P_INT(branches[b])};
            if ((rc = ins(tx, "UPDATE party_orgs SET secretary_member_id = $1 WHERE id = $2", s, 2, NULL, e)))
                return rc;
            break;
        }
    /* dues rules (the national scale) and twelve months, the last two partly unpaid */
    static const struct {
        const char *name;
        int64_t lo, hi, bp;
    } rules[] = {{"月收入3000元及以下", 0, 300000, 50},
                 {"月收入3000至5000元", 300001, 500000, 100},
                 {"月收入5000至10000元", 500001, 1000000, 150},
                 {"月收入10000元以上", 1000001, -1, 200}};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        store_param p[] = {P_INT(community), P_TEXT(rules[i].name), P_INT(rules[i].lo),
                           rules[i].hi < 0 ? P_NULL : P_INT(rules[i].hi), P_INT(rules[i].bp), P_INT(now)};
        if ((rc = ins(tx,
                      "INSERT INTO party_dues_rules (community_id, name, min_income_fen, max_income_fen, rate_bp, "
                      "created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                      p, 6, NULL, e)))
            return rc;
    }
    nx_date t = date_from_days(today);
    int dues_rows = 0;
    for (int k = 11; k >= 0; k--) {
        int y = t.y, mo = t.m - k;
        while (mo < 1) {
            mo += 12;
            y--;
        }
        char month[8], paid_on[11];
        snprintf(month, sizeof month, "%04d-%02d", y, mo);
        snprintf(paid_on, sizeof paid_on, "%04d-%02d-%02d", y, mo, k == 0 ? (t.d < 10 ? t.d : 10) : 15);
        for (int i = 0; i < nm; i++) {
            bool paid = k >= 2 || (k == 1 && demo_roll(r, 4)) || (k == 0 && demo_roll(r, 3) == 0);
            int64_t amount = dues_amount(m[i].income);
            store_param p[] = {P_INT(community), P_INT(m[i].org), P_INT(m[i].id), P_TEXT(month), P_INT(m[i].income),
                               P_INT(amount), P_TEXT(paid ? "paid" : "due"), paid ? P_INT(amount) : P_NULL,
                               P_TEXT(paid ? paid_on : NULL), paid ? P_INT(m[i].id) : P_NULL, P_INT(now)};
            if ((rc = ins(tx,
                          "INSERT INTO party_dues (community_id, org_id, member_id, month, base_fen, amount_fen, status, "
                          "paid_fen, paid_on, paid_by_member_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
                          "$7, $8, $9, $10, $11, $11)",
                          p, 11, NULL, e)))
                return rc;
            dues_rows++;
        }
    }
    /* a year of 三会一课: the 10th (committee), the 20th (theme day) of each month, member meetings and
     * lessons in the middle month of each quarter, group meetings on the 5th; a few left out */
    int acts = 0;
    for (int k = 11; k >= -1; k--) {
        int y = t.y, mo = t.m - k;
        while (mo < 1) {
            mo += 12;
            y--;
        }
        while (mo > 12) {
            mo -= 12;
            y++;
        }
        int64_t base = date_to_days((nx_date){y, mo, 1});
        for (int b = 0; b < 3; b++) {
            char title[80];
            bool skip = b == 2 && (k == 4 || k == 7); /* 第二党支部 missed two committee meetings */
            snprintf(title, sizeof title, "%d月支委会", mo);
            if (!skip && (rc = activity(tx, community, branches[b], "committee_meeting", title, base + 9, today, m, nm, r,
                                        now, e)))
                return rc;
            snprintf(title, sizeof title, "%d月主题党日：%s", mo, b == 0 ? "银龄志愿服务" : "学习身边榜样");
            if ((rc = activity(tx, community, branches[b], "theme_day", title, base + 19, today, m, nm, r, now, e)))
                return rc;
            if (mo % 3 == 2) {
                snprintf(title, sizeof title, "第%d季度支部党员大会", (mo + 1) / 3);
                if ((rc = activity(tx, community, branches[b], "member_meeting", title, base + 14, today, m, nm, r, now,
                                   e)))
                    return rc;
                if (!(b == 1 && k == 8) &&
                    (rc = activity(tx, community, branches[b], "lesson", "书记讲党课：传承红色基因", base + 24, today, m, nm,
                                   r, now, e)))
                    return rc;
                acts += 2;
            }
            acts += 2;
        }
        for (int g = 0; g < 2; g++) {
            char title[80];
            snprintf(title, sizeof title, "%d月党小组学习", mo);
            if ((rc = activity(tx, community, g ? g2 : g1, "group_meeting", title, base + 4, today, m, nm, r, now, e)))
                return rc;
            acts++;
        }
    }
    json_object_set_new(sum, "party_members", json_integer(nm));
    json_object_set_new(sum, "party_activities", json_integer(acts));
    json_object_set_new(sum, "party_dues", json_integer(dues_rows));
    return 0;
}

/* One closed election of last year and one open for nominations. */
static int fill_elections(store_tx *tx, int64_t community, demo_rng *r, int64_t today, int64_t now,
                          json_t *sum, nx_err *e)
{
    int year = date_from_days(today).y;
    char title[80], pf[11], pu[11];
    snprintf(title, sizeof title, "%d年度“四德标兵”评选", year - 1);
    day_str(today - 60, pf);
    day_str(today - 54, pu);
    int64_t vfrom = (today - 50) * 86400000LL - 8 * 3600000LL, vuntil = (today - 43) * 86400000LL - 8 * 3600000LL;
    int64_t eligible = 0, eid = 0;
    store_param c[] = {P_INT(community)};
    int rc;
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM residents WHERE community_id = $1 AND status = 'active'", c, 1,
                            &eligible, e)))
        return rc;
    store_param p[] = {P_INT(community), P_TEXT(title), P_TEXT(pf), P_TEXT(pu), P_INT(vfrom), P_INT(vuntil),
                       P_INT(eligible), P_INT(vuntil)};
    if ((rc = ins(tx,
                  "INSERT INTO elections (community_id, title, stage, publicity_days, publicity_from, publicity_until, "
                  "vote_from, vote_until, min_turnout_pct, eligible_voters, closed_at, created_at, updated_at) VALUES ($1, "
                  "$2, 'closed', 7, $3, $4, $5, $6, 30, $7, $8, $8, $8) RETURNING id",
                  p, 8, &eid, e)))
        return rc;
    static const char *const cats[] = {"孝德标兵", "诚德标兵", "公德标兵", "美德标兵"};
    static const char *const why[] = {"数十年如一日照顾卧床的婆婆", "开小卖部三十年从不缺斤短两", "义务清扫楼道、疏通下水道",
                                      "热心调解邻里纠纷"};
    int64_t cat[4], noms[4][3];
    /* candidates: active residents between 50 and 80, spread deterministically */
    store_param rq[] = {P_INT(community)};
    store_rows *rows;
    if ((rc = store_query(tx,
                          "SELECT id FROM residents WHERE community_id = $1 AND status = 'active' ORDER BY id LIMIT 400", rq,
                          1, &rows, e)))
        return rc;
    int64_t pool[400];
    int np = 0;
    while (store_row(rows) && np < 400)
        pool[np++] = store_int(rows, 0);
    if ((rc = store_rows_end(rows, e)))
        return rc;
    if (np < 24)
        return 0; /* too small a demo for an election */
    for (int k = 0; k < 4; k++) {
        store_param cp[] = {P_INT(eid), P_TEXT(cats[k]), P_INT(k)};
        if ((rc = ins(tx, "INSERT INTO election_categories (election_id, name, seats, sort) VALUES ($1, $2, 2, $3) "
                          "RETURNING id",
                      cp, 3, &cat[k], e)))
            return rc;
        for (int j = 0; j < 3; j++) {
            int64_t who = pool[(k * 3 + j) * (np / 12) + 1];
            bool ok = !(k == 3 && j == 2);
            store_param np_[] = {P_INT(eid), P_INT(cat[k]), P_INT(who), P_TEXT(why[k]), P_TEXT(ok ? "eligible" : "ineligible"),
                                 P_TEXT(ok ? "符合评选条件" : "近期有违规搭建记录，不符合评选条件"), P_INT(now)};
            if ((rc = ins(tx,
                          "INSERT INTO election_nominations (election_id, category_id, resident_id, reason, status, "
                          "review_reason, reviewed_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                          np_, 7, &noms[k][j], e)))
                return rc;
        }
    }
    store_param op[] = {P_INT(eid), P_INT(noms[0][1]), P_INT(now)};
    if ((rc = ins(tx,
                  "INSERT INTO election_objections (election_id, nomination_id, body, answer, upheld, answered_at, "
                  "created_at) VALUES ($1, $2, '反映该候选人事迹有夸大', '经走访核实，事迹属实，异议不成立', 0, $3, $3)",
                  op, 3, NULL, e)))
        return rc;
    int voters = np / 2 < VOTERS_MAX ? np / 2 : VOTERS_MAX, ballots = 0;
    for (int v = 0; v < voters; v++) {
        for (int k = 0; k < 4; k++) {
            unsigned x = demo_roll(r, 10);
            int j = x < 5 ? 0 : (x < 8 ? 1 : 2);
            if (k == 3 && j == 2)
                j = 0;
            store_param bp[] = {P_INT(eid), P_INT(cat[k]), P_INT(pool[v * 2 % np]), P_INT(noms[k][j]), P_INT(vfrom)};
            if ((rc = ins(tx,
                          "INSERT INTO election_ballots (election_id, category_id, resident_id, nomination_id, created_at) "
                          "VALUES ($1, $2, $3, $4, $5)",
                          bp, 5, NULL, e)))
                return rc;
            ballots++;
        }
    }
    store_param ep[] = {P_INT(eid)};
    store_param vp[] = {P_INT(voters), P_INT(voters * 100 >= 30 * eligible ? 1 : 0), P_INT(eid)};
    if ((rc = ins(tx,
                  "UPDATE election_nominations SET votes = (SELECT COUNT(*) FROM election_ballots b WHERE b.nomination_id "
                  "= election_nominations.id) WHERE election_id = $1",
                  ep, 1, NULL, e)) ||
        (rc = ins(tx, "UPDATE elections SET voters = $1, valid = $2 WHERE id = $3", vp, 3, NULL, e)) ||
        (rc = ins(tx,
                  "UPDATE election_nominations SET elected = 1 WHERE election_id = $1 AND status = 'eligible' AND votes > "
                  "0 AND (SELECT valid FROM elections WHERE id = $1) = 1 AND (SELECT COUNT(*) FROM election_nominations o "
                  "WHERE o.category_id = election_nominations.category_id AND o.status = 'eligible' AND o.votes > "
                  "election_nominations.votes) < (SELECT seats FROM election_categories c WHERE c.id = "
                  "election_nominations.category_id)",
                  ep, 1, NULL, e)))
        return rc;
    /* this year's selection, open for nominations */
    snprintf(title, sizeof title, "%d年度“好人好事”评选", year);
    store_param p2[] = {P_INT(community), P_TEXT(title), P_INT(now)};
    int64_t e2 = 0;
    if ((rc = ins(tx,
                  "INSERT INTO elections (community_id, title, stage, publicity_days, min_turnout_pct, created_at, "
                  "updated_at) VALUES ($1, $2, 'nomination', 7, 30, $3, $3) RETURNING id",
                  p2, 3, &e2, e)))
        return rc;
    static const char *const cats2[] = {"助人为乐", "见义勇为", "孝老爱亲"};
    for (int k = 0; k < 3; k++) {
        store_param cp[] = {P_INT(e2), P_TEXT(cats2[k]), P_INT(k)};
        if ((rc = ins(tx, "INSERT INTO election_categories (election_id, name, seats, sort) VALUES ($1, $2, 3, $3)", cp, 3,
                      NULL, e)))
            return rc;
    }
    json_object_set_new(sum, "elections", json_integer(2));
    json_object_set_new(sum, "election_ballots", json_integer(ballots));
    return 0;
}

int demo_party_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary, nx_err *e)
{
    int64_t t0 = clock_mono_ms();
    demo_rng r = {.s = 0x7061727479ull ^ ((uint64_t)seed << 17) ^ 0x9E3779B97F4A7C15ull}; /* "party" */
    int64_t today = date_to_days(date_today()), now = clock_now_ms();
    json_t *sum = json_object();
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc) {
        json_decref(sum);
        return rc;
    }
    if ((rc = fill_party(tx, community, self_resident, &r, today, now, sum, e)) ||
        (rc = fill_elections(tx, community, &r, today, now, sum, e))) {
        store_rollback(tx);
        json_decref(sum);
        return rc;
    }
    if ((rc = store_commit(tx, e))) {
        json_decref(sum);
        return rc;
    }
    json_object_set_new(sum, "ms", json_integer(clock_mono_ms() - t0));
    nx_log(LOG_INFO, "demo.party ms=%lld", (long long)(clock_mono_ms() - t0));
    json_object_set_new(summary, "party", sum);
    return 0;
}
