/* demo_care.c — a year of the demo community's care work, written after its residents and accounts:
 * a care file for every resident with a care level (category from their tags, the grid worker of
 * their grid responsible), the routine visit tasks of every period of the last 365 days with visits
 * for most of them (home, phone or video, with findings, mood and health), problems raised on some
 * visits (most older ones solved and rated), incidents reported in the grids from report to close,
 * and the members of every grid (网格员 linked to the account, 网格警员, 驻区律师, 楼栋长). Then the
 * scheduler runs once for today, so the overdue list and the escalations are real.
 *
 * Rows go in with plain INSERTs in one write transaction (a year is tens of thousands of rows; going
 * through the API rules would audit each one); one audit row records the fill. Deterministic for a
 * seed and a day. */
#include "cli/demo.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/visits/visits.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cres {
    int64_t id, community, grid;
    char level[16];
    int solitary, alone, disabled, low_income, ill, party;
    int age; /* today; -1 when the birth date does not parse */
} cres;

typedef struct worker {
    int64_t grid, user;
    char name[96];
} worker;

static const char *const findings[] = {
    "老人精神尚好，独自在家看电视，家中整洁", "血压偏高，已提醒按时服药并测量血压",
    "子女本周来看望过，老人心情不错", "反映楼道灯不亮，晚上出门不方便",
    "老人腿脚不便，近一周未下楼，已协调志愿者陪同散步", "家中煤气灶老化，已提醒注意用气安全",
    "天气转凉，已送去棉被一床", "老人说想参加社区书画课，已登记",
    "电话联系，老人说身体无大碍，午饭在幸福食堂吃", "视频通话，老人刚做完复查，情况稳定",
    "询问高龄津贴发放情况，已现场解答", "家里水管滴水，需要维修",
};
static const struct {
    const char *category, *title;
} needs[] = {
    {"meals", "吃不上热饭，希望送餐上门"}, {"medical", "行动不便，需陪同去医院复查"},
    {"housing", "卫生间水管漏水需维修"},   {"subsidy", "咨询高龄津贴和低保申请"},
    {"daily_care", "需要助浴和打扫卫生"},  {"legal", "房屋继承问题需法律咨询"},
    {"housing", "楼道扶手松动，上下楼不安全"}, {"meals", "牙口不好，希望食堂提供软食"},
};
static const char *const resolutions[] = {
    "已联系幸福食堂每日中午送餐上门", "已安排志愿者陪同就医", "物业已上门维修完毕",
    "已协助提交申请材料，街道审核通过", "已对接家政服务，每周上门两次", "驻区律师已上门提供咨询",
};
static const struct {
    const char *category, *title, *place;
} incidents[] = {
    {"sanitation", "垃圾桶满溢未及时清运", "小区东门垃圾站"}, {"safety", "电动车楼道内充电", "3号楼1单元楼道"},
    {"fire", "消防通道被车辆堵塞", "小区北侧消防通道"}, {"dispute", "楼上漏水引发邻里纠纷", "5号楼402"},
    {"facility", "路灯损坏", "中心花园步道"},         {"order", "夜市摊位占道经营", "夜市西段"},
    {"noise", "夜间装修噪音扰民", "2号楼3单元"},       {"facility", "单元门禁损坏", "4号楼2单元"},
    {"sanitation", "绿化带堆放杂物", "6号楼南侧"},     {"safety", "外墙瓷砖脱落", "1号楼西山墙"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int64_t ms_of(nx_date d, int hour)
{
    return (date_to_days(d) * 86400LL + hour * 3600LL) * 1000LL - NX_TZ_OFFSET_MS;
}

static int insert_id(store_tx *tx, const char *table, const char *cols, const store_param *p, int n,
                     int64_t *id, nx_err *e)
{
    return demo_insert(tx, table, cols, p, n, "关怀数据", id, e);
}

static const char *category_of(const cres *c)
{
    if (c->solitary)
        return "solitary";
    if (c->alone)
        return "living_alone";
    if (c->ill)
        return "serious_illness";
    if (c->disabled)
        return "disabled";
    if (c->low_income)
        return c->party ? "party_hardship" : "low_income";
    return c->age >= 80 ? "elderly" : "other"; /* 高龄 is for the old only (issue 19) */
}

typedef struct counts {
    int files, visits, tasks, problems, incidents, members;
} counts;

static int fill_file(store_tx *tx, demo_rng *r, const cres *c, const worker *w, nx_date today, counts *n,
                     nx_err *e)
{
    const char *unit = strcmp(c->level, "normal") == 0 ? "month" : "week";
    int every = strcmp(c->level, "key") == 0 ? 2 : 1;
    nx_date opened = date_from_days(date_to_days(today) - 365 + demo_roll(r, 60));
    char od[11];
    date_format(opened, od);
    int64_t created = ms_of(opened, 9), file;
    store_param fp[] = {P_INT(c->community), P_ID(c->grid), P_INT(c->id), P_TEXT(category_of(c)), P_TEXT(c->level),
                        P_TEXT(c->alone || c->solitary ? "独居" : "与家人同住"), P_TEXT(c->ill ? "慢性病，需定期复查" : NULL),
                        P_ID(w ? w->user : 0), P_TEXT("active"), P_TEXT(od), P_INT(created), P_INT(created)};
    int rc = insert_id(tx, "care_files",
                       "community_id, grid_id, resident_id, category, level, living, health, "
                       "responsible_user_id, status, opened_on, created_at, updated_at",
                       fp, 12, &file, e);
    if (rc)
        return rc;
    n->files++;
    /* a weaker grid (every third) misses more visits, so coverage differs by grid */
    unsigned miss = c->grid % 3 == 0 ? 22 : 7;
    nx_date ps, pe;
    char last[11] = "";
    for (nx_date day = opened; date_to_days(day) <= date_to_days(today);) {
        if (visits_period_of(unit, every, day, &ps, &pe))
            break;
        int64_t from = date_to_days(ps) > date_to_days(opened) ? date_to_days(ps) : date_to_days(opened);
        int64_t to = date_to_days(pe) < date_to_days(today) ? date_to_days(pe) : date_to_days(today);
        bool current = date_to_days(pe) >= date_to_days(today);
        bool visited = demo_roll(r, 100) >= miss && !(current && demo_roll(r, 2));
        char s[11], en[11];
        date_format(ps, s);
        date_format(pe, en);
        int64_t visit = 0;
        nx_date vd = date_from_days(from + demo_roll(r, (unsigned)(to - from + 1)));
        if (visited) {
            char vds[11];
            date_format(vd, vds);
            unsigned k = demo_roll(r, 100);
            const char *kind = k < 70 ? "home" : k < 95 ? "phone" : "video";
            const char *visitor = w ? w->name : "社区工作人员";
            store_param vp[] = {P_INT(c->community),
                                P_ID(c->grid),
                                P_INT(c->id),
                                P_INT(file),
                                P_TEXT(vds),
                                P_TEXT(kind),
                                P_TEXT(visitor),
                                P_TEXT(findings[demo_roll(r, NELEM(findings))]),
                                P_TEXT(demo_roll(r, 10) ? "good" : "fair"),
                                P_TEXT(c->ill ? "fair" : "good"),
                                P_ID(w ? w->user : 0),
                                P_INT(ms_of(vd, 10))};
            if ((rc = insert_id(tx, "visits",
                                "community_id, grid_id, resident_id, care_file_id, visited_on, kind, "
                                "visitors, findings, mood, health, user_id, created_at",
                                vp, 12, &visit, e)))
                return rc;
            n->visits++;
            str_copy(last, vds, sizeof last);
            if (demo_roll(r, 100) < 8) {
                size_t which = demo_roll(r, NELEM(needs));
                int64_t age_days = date_to_days(today) - date_to_days(vd);
                bool solved = age_days > 14 || demo_roll(r, 3) == 0;
                int64_t at = ms_of(vd, 11), done = at + (int64_t)(1 + demo_roll(r, 10)) * 86400000LL;
                char deadline[11];
                date_format(date_from_days(date_to_days(vd) + 15), deadline);
                store_param pp[] = {
                    P_INT(c->community),
                    P_ID(c->grid),
                    P_INT(c->id),
                    P_INT(file),
                    P_INT(visit),
                    P_TEXT("visit"),
                    P_TEXT(needs[which].category),
                    P_TEXT(needs[which].title),
                    P_TEXT("normal"),
                    P_TEXT(solved ? "closed" : (demo_roll(r, 2) ? "assigned" : "in_progress")),
                    P_ID(w ? w->user : 0),
                    P_TEXT(deadline),
                    P_TEXT(solved ? resolutions[demo_roll(r, NELEM(resolutions))] : NULL),
                    solved ? P_INT(done) : P_NULL,
                    solved ? P_INT(demo_roll(r, 10) ? 5 : 4) : P_NULL,
                    solved ? P_INT(done) : P_NULL,
                    P_INT(at),
                    P_INT(at)};
                int64_t pid;
                if ((rc = insert_id(tx, "problems",
                                    "community_id, grid_id, resident_id, care_file_id, visit_id, source, "
                                    "category, title, urgency, status, assignee_user_id, deadline, "
                                    "resolution, resolved_at, rating, rated_at, created_at, updated_at",
                                    pp, 18, &pid, e)))
                    return rc;
                n->problems++;
            }
        }
        store_param tp[] = {P_INT(c->community), P_ID(c->grid), P_INT(c->id), P_INT(file), P_TEXT("routine"),
                            P_TEXT("routine"), P_TEXT(s), P_TEXT(en), P_ID(w ? w->user : 0),
                            P_TEXT(visited ? "done" : "open"), P_ID(visit),
                            visited ? P_INT(ms_of(vd, 10)) : P_NULL, P_INT(ms_of(ps, 1)),
                            P_INT(ms_of(ps, 1))};
        if ((rc = app_insert(tx, "visit_tasks",
                             "community_id, grid_id, resident_id, care_file_id, kind, reason, period_start, "
                             "due_date, assignee_user_id, status, visit_id, done_at, created_at, updated_at",
                             tp, 14, NULL, e)))
            return rc;
        n->tasks++;
        day = date_from_days(date_to_days(pe) + 1);
    }
    if (last[0]) {
        store_param u[] = {P_TEXT(last), P_INT(file)};
        rc = store_exec(tx, "UPDATE care_files SET last_visit_on = $1 WHERE id = $2", u, 2, NULL, e);
    }
    return rc;
}

int demo_care_fill(nx_app *app, unsigned seed, json_t *summary, nx_err *e)
{
    demo_rng r = {.s = 0x636172650000ull ^ ((uint64_t)seed << 1 | 1)};
    int64_t now = clock_now_ms();
    nx_date today = visits_local_date(now);
    counts n = {0};
    cres *res = NULL;
    size_t nres = 0, cap = 512;
    worker workers[64];
    int nw = 0;
    int64_t staff = 0;
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_rows *q;
#define TAG(code)                                                                                  \
    "CASE WHEN EXISTS (SELECT 1 FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = r.id " \
    "AND t.code = '" code "') THEN 1 ELSE 0 END"
    if ((rc = store_query(tx,
                          "SELECT r.id, r.community_id, r.grid_id, r.care_level, " TAG("solitary") ", " TAG("living_alone")
                          ", " TAG("disabled") ", " TAG("low_income") ", " TAG("seriously_ill") ", " TAG("party_member")
                          ", r.birth_date FROM residents r WHERE r.status = 'active' AND r.care_level IN ('normal', 'key', 'frequent') "
                          "ORDER BY r.id",
                          NULL, 0, &q, e)))
        goto fail;
#undef TAG
    res = malloc(cap * sizeof *res);
    while (res && store_row(q)) {
        if (nres == cap) {
            cres *bigger = realloc(res, cap * 2 * sizeof *res);
            if (!bigger)
                break;
            res = bigger;
            cap *= 2;
        }
        cres *c = &res[nres++];
        c->id = store_int(q, 0);
        c->community = store_int(q, 1);
        c->grid = store_int(q, 2);
        str_copy(c->level, store_text(q, 3), sizeof c->level);
        c->solitary = (int)store_int(q, 4);
        c->alone = (int)store_int(q, 5);
        c->disabled = (int)store_int(q, 6);
        c->low_income = (int)store_int(q, 7);
        c->ill = (int)store_int(q, 8);
        c->party = (int)store_int(q, 9);
        nx_date b;
        c->age = store_text(q, 10) && date_parse(store_text(q, 10), &b) == 0 ? date_age(b, date_today()) : -1;
    }
    if ((rc = store_rows_end(q, e)))
        goto fail;
    if (!res) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    if ((rc = store_query(tx, "SELECT id, grid_id, display_name FROM users WHERE role = 'grid' ORDER BY id", NULL, 0,
                          &q, e)))
        goto fail;
    while (nw < 64 && store_row(q)) {
        workers[nw].user = store_int(q, 0);
        workers[nw].grid = store_int(q, 1);
        str_copy(workers[nw].name, store_text(q, 2), sizeof workers[nw].name);
        nw++;
    }
    if ((rc = store_rows_end(q, e)))
        goto fail;
    store_one_int(tx, "SELECT id FROM users WHERE role = 'staff' ORDER BY id LIMIT 1", NULL, 0, &staff, NULL);
    for (size_t i = 0; i < nres; i++) {
        const worker *w = NULL;
        for (int k = 0; k < nw; k++)
            if (workers[k].grid == res[i].grid)
                w = &workers[k];
        if ((rc = fill_file(tx, &r, &res[i], w, today, &n, e)))
            goto fail;
    }
    /* grid members and incidents, grid by grid */
    int64_t grids[64], communities[64];
    int ng = 0;
    if ((rc = store_query(tx, "SELECT id, community_id FROM grids ORDER BY id", NULL, 0, &q, e)))
        goto fail;
    while (ng < 64 && store_row(q)) {
        grids[ng] = store_int(q, 0);
        communities[ng] = store_int(q, 1);
        ng++;
    }
    if ((rc = store_rows_end(q, e)))
        goto fail;
    static const char *const police[] = {"张警官", "刘警官", "陈警官", "杨警官"};
    static const char *const lawyers[] = {"赵律师", "孙律师"};
    static const char *const heads[] = {"老周", "王阿姨", "李师傅", "钱大姐", "马大爷", "何阿姨"};
    for (int g = 0; g < ng; g++) {
        int64_t wuser = 0;
        char wname[96] = "网格员";
        for (int k = 0; k < nw; k++)
            if (workers[k].grid == grids[g]) {
                wuser = workers[k].user;
                str_copy(wname, workers[k].name, sizeof wname);
            }
        struct {
            const char *role, *name;
            int64_t user;
        } ms[] = {{"grid_worker", wname, wuser}, {"grid_police", police[g % 4], 0}, {"lawyer", lawyers[g % 2], 0},
                  {"building_head", heads[g % 6], 0}, {"building_head", heads[(g + 3) % 6], 0}};
        for (size_t k = 0; k < NELEM(ms); k++) {
            store_param mp[] = {P_INT(communities[g]), P_INT(grids[g]), P_TEXT(ms[k].role), P_ID(ms[k].user),
                                P_TEXT(ms[k].name), P_INT(1), P_INT(now), P_INT(now)};
            if ((rc = app_insert(tx, "grid_members",
                                 "community_id, grid_id, role, user_id, name, active, created_at, "
                                 "updated_at",
                                 mp, 8, NULL, e)))
                goto fail;
            n.members++;
        }
        int count = 12 + (int)demo_roll(&r, 10);
        for (int k = 0; k < count; k++) {
            size_t which = demo_roll(&r, NELEM(incidents));
            int age = (int)demo_roll(&r, 365);
            nx_date day = date_from_days(date_to_days(today) - age);
            int64_t at = ms_of(day, 8 + (int)demo_roll(&r, 10));
            const char *status = age > 10 ? "closed" : age > 5 ? "handled" : age > 1 ? "dispatched" : "reported";
            bool dispatched = strcmp(status, "reported") != 0;
            bool handled = strcmp(status, "closed") == 0 || strcmp(status, "handled") == 0;
            store_param ip[] = {P_INT(communities[g]),
                                P_INT(grids[g]),
                                P_TEXT(incidents[which].category),
                                P_TEXT(incidents[which].title),
                                P_TEXT(incidents[which].place),
                                P_ID(demo_roll(&r, 3) ? wuser : staff),
                                P_TEXT(status),
                                P_ID(dispatched ? wuser : 0),
                                P_TEXT(handled ? "已处置完毕，现场恢复正常" : NULL),
                                P_INT(at),
                                dispatched ? P_INT(at + 3600000) : P_NULL,
                                handled ? P_INT(at + 86400000) : P_NULL,
                                strcmp(status, "closed") == 0 ? P_INT(at + 2 * 86400000LL) : P_NULL,
                                P_INT(at),
                                P_INT(at)};
            if ((rc = app_insert(tx, "incidents",
                                 "community_id, grid_id, category, title, place, reporter_user_id, status, "
                                 "assignee_user_id, result, occurred_at, dispatched_at, handled_at, "
                                 "closed_at, created_at, updated_at",
                                 ip, 15, NULL, e)))
                goto fail;
            n.incidents++;
        }
    }
    nx_principal who = {.username = "demo", .role = ROLE_ADMIN, .scope = SCOPE_ALL};
    if ((rc = audit_write_new(tx, &who, "demo", "care_file", 0, 0,
                              json_pack("{s:i, s:i, s:i, s:i}", "care_files", n.files, "visits", n.visits,
                                        "problems", n.problems, "incidents", n.incidents),
                              e)))
        goto fail;
    free(res);
    res = NULL;
    if ((rc = store_commit(tx, e)))
        return rc;
    json_t *report = NULL;
    if ((rc = visits_schedule(app, now, &report, e)))
        return rc;
    json_decref(report);
    json_object_set_new(summary, "care_files", json_integer(n.files));
    json_object_set_new(summary, "visits", json_integer(n.visits));
    json_object_set_new(summary, "visit_tasks", json_integer(n.tasks));
    json_object_set_new(summary, "problems", json_integer(n.problems));
    json_object_set_new(summary, "incidents", json_integer(n.incidents));
    json_object_set_new(summary, "grid_members", json_integer(n.members));
    nx_log(LOG_INFO, "demo.care files=%d visits=%d problems=%d incidents=%d", n.files, n.visits, n.problems,
           n.incidents);
    return 0;
fail:
    free(res);
    store_rollback(tx);
    return rc;
}
