/* demo_council.c — a year of the courtyard council (庭院议事会) for `nuanxin demo`.
 *
 * Month by month, from eleven months ago to today, with the clock pinned to the 10th of each month
 * at 10:00 Shanghai (so every created_at, step date and overdue flag is the one a real year would
 * have left): residents raise topics for their estate and neighbours support them; staff enter one
 * from a paper note; a duplicate is merged. Every second month an estate's council meets in its
 * corridor or courtyard: members check in by QR code or are signed in by staff, the topics of the
 * agenda are decided, minutes are published, and some decisions go to a poll (secret, of every adult
 * resident; one council-only poll falls below its minimum turnout and is "not valid"). Decisions are
 * followed up with milestones over the next months, finished and rated. This month an open topic and
 * an open secret poll wait in the estate of the demo's resident account.
 *
 * Only the council module's rules write (the same checks, events and registers as the API). The
 * clock is unpinned on every way out. Deterministic for a seed and today's date; about a hundred small
 * transactions, well under a second on SQLite. */
#include "cli/demo_council.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "modules/council/council.h"
#include "store/store.h"

#define DAY_MS 86400000LL
#define MAX_PEOPLE 24

typedef struct estate_people {
    int64_t id;
    int64_t adults[MAX_PEOPLE];
    int n;
} estate_people;

typedef struct demo {
    nx_app *app;
    nx_principal staff;
    unsigned rng;
    int topics, meetings, decisions, polls;
} demo;

static unsigned next(demo *d)
{
    d->rng = d->rng * 1103515245u + 12345u;
    return (d->rng >> 16) & 0x7fff;
}

static nx_principal resident(int64_t id)
{
    return (nx_principal){.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .resident_id = id};
}

/* Run fn(in) and release in. */
typedef int (*create_fn)(nx_app *, const nx_principal *, json_t *, int64_t *, nx_err *);
typedef int (*change_fn)(nx_app *, const nx_principal *, int64_t, json_t *, nx_err *);

static int make(demo *d, create_fn fn, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!in)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    int rc = fn(d->app, who, in, id, e);
    json_decref(in);
    return rc;
}

static int act(demo *d, change_fn fn, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!in)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    int rc = fn(d->app, who, id, in, e);
    json_decref(in);
    return rc;
}

/* Adults of each estate of the community (the self resident's estate first), at most MAX_PEOPLE each. */
static int load_estates(demo *d, int64_t community, int64_t self, estate_people *es, int cap, int *n, nx_err *e)
{
    char cutoff[11];
    nx_date t = date_today();
    t.y -= 18;
    if (t.m == 2 && t.d == 29)
        t.d = 28;
    date_format(t, cutoff);
    store_tx *tx;
    int rc = store_begin(d->app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(community), P_INT(self)};
    store_rows *r;
    *n = 0;
    if ((rc = store_query(tx,
                          "SELECT s.id FROM estates s WHERE s.community_id = $1 ORDER BY CASE WHEN s.id = (SELECT "
                          "estate_id FROM residents WHERE id = $2) THEN 0 ELSE 1 END, s.id",
                          p, 2, &r, e)) == 0) {
        while (store_row(r) && *n < cap)
            es[(*n)++].id = store_int(r, 0);
        rc = store_rows_end(r, e);
    }
    for (int i = 0; i < *n && rc == 0; i++) {
        store_param q[] = {P_INT(es[i].id), P_TEXT(cutoff), P_INT(self)};
        es[i].n = 0;
        if ((rc = store_query(tx,
                              "SELECT id FROM residents WHERE estate_id = $1 AND status = 'active' AND birth_date <= $2 "
                              "AND id <> $3 ORDER BY id LIMIT 24",
                              q, 3, &r, e)))
            break;
        while (store_row(r) && es[i].n < MAX_PEOPLE)
            es[i].adults[es[i].n++] = store_int(r, 0);
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    return rc;
}

static const char *const titles[] = {
    "楼道加装扶手",   "小区增设电动车充电桩", "垃圾分类投放点调整", "广场舞音量与时间",   "楼顶防水维修",
    "增设晾衣架",     "单元门禁更换",         "停车位划线",         "绿化带改种蔬菜",     "路灯维修",
    "增设休息座椅",   "楼道杂物清理",         "老年食堂送餐",       "外墙空调滴水",       "快递柜位置",
    "宠物粪便管理",   "雨水井堵塞",           "加装电梯意见征集",   "健身器材维护",       "楼道灯声控改造",
    "车棚改造",       "公共区域监控",         "邻里节活动安排",     "化粪池清掏"};
#define TITLE_COUNT (sizeof titles / sizeof titles[0])

static const char *const places[] = {"3号楼楼道", "小区中心花园", "党群服务站议事厅", "1号楼单元门口"};

/* One month of the council at instant now (the clock pinned there by the caller). */
static int month(demo *d, estate_people *es, int nes, int m, int64_t pending[][3], int *npending, nx_err *e)
{
    int rc;
    estate_people *est = &es[m % nes];
    if (m % 3 == 0)
        est = &es[0]; /* the resident account's estate has most of the life */
    if (est->n < 8)
        return 0;
    /* two topics raised by residents, supported by a few neighbours */
    int64_t raised[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        nx_principal who = resident(est->adults[(m * 2 + k) % est->n]);
        const char *title = titles[(size_t)(m * 2 + k) % TITLE_COUNT];
        if ((rc = make(d, council_topic_create, &who,
                       json_pack("{s:s, s:s}", "title", title, "description", "居民在议事会收集箱提出"), &raised[k], e)))
            return rc;
        d->topics++;
        int supporters = 1 + (int)(next(d) % 3);
        for (int s = 1; s <= supporters; s++) {
            nx_principal sup = resident(est->adults[(m * 2 + k + s * 3) % est->n]);
            if (sup.resident_id == who.resident_id)
                continue;
            if ((rc = act(d, council_topic_support, &sup, raised[k], json_object(), e)) && rc != NX_ECONFLICT)
                return rc;
        }
    }
    /* staff enter a topic from a paper note every third month; once it is a duplicate and merged */
    if (m % 3 == 1) {
        int64_t paper;
        if ((rc = make(d, council_topic_create, &d->staff,
                       json_pack("{s:I, s:s, s:I, s:s}", "estate_id", (json_int_t)est->id, "title",
                                 titles[(size_t)(m + 7) % TITLE_COUNT], "resident_id", (json_int_t)est->adults[5],
                                 "channel", "paper"),
                       &paper, e)))
            return rc;
        d->topics++;
        if (m == 4 && (rc = act(d, council_topic_merge, &d->staff, paper,
                                json_pack("{s:I}", "into_id", (json_int_t)raised[0]), e)))
            return rc;
    }
    if (m == 0)
        return 0; /* this month's topics wait for the next meeting */
    /* a meeting every second month decides the first topic (the second stays on the board) */
    if (m % 2 == 0 || *npending >= 8)
        return 0;
    char starts[17];
    char day[11];
    date_format(date_today(), day);
    snprintf(starts, sizeof starts, "%sT19:00", day);
    int64_t meeting;
    if ((rc = make(d, council_meeting_create, &d->staff,
                   json_pack("{s:I, s:s, s:s, s:s, s:s, s:[I]}", "estate_id", (json_int_t)est->id, "title", "庭院议事会",
                             "place", places[(size_t)m % 4], "starts_at", starts, "agenda", "一、议定本月议题",
                             "topic_ids", (json_int_t)raised[0]),
                   &meeting, e)))
        return rc;
    d->meetings++;
    /* members check in: two by QR (the rules take the resident's own code), two signed in by staff */
    json_t *mj = NULL;
    if ((rc = council_meeting_get(d->app, &d->staff, meeting, &mj, e)))
        return rc;
    const char *code = json_string_value(json_object_get(mj, "checkin_code"));
    for (int k = 0; k < 4 && rc == 0; k++) {
        nx_principal who = resident(est->adults[k]);
        rc = k < 2 ? act(d, council_meeting_attend, &who, meeting, json_pack("{s:s}", "code", code ? code : ""), e)
                   : act(d, council_meeting_attend, &d->staff, meeting,
                         json_pack("{s:I}", "resident_id", (json_int_t)est->adults[k]), e);
    }
    json_decref(mj);
    if (rc)
        return rc;
    if ((rc = act(d, council_topic_advance, &d->staff, raised[0], json_object(), e)))
        return rc;
    int64_t decision;
    if ((rc = make(d, council_decision_create, &d->staff,
                   json_pack("{s:I, s:I, s:s, s:s}", "meeting_id", (json_int_t)meeting, "topic_id", (json_int_t)raised[0],
                             "text", "经议事会协商一致，同意实施，费用从小区公共收益中列支。", "responsible", "社区 李书记"),
                   &decision, e)))
        return rc;
    d->decisions++;
    if ((rc = act(d, council_meeting_minutes, &d->staff, meeting,
                  json_pack("{s:s}", "minutes", "到会议事会成员 4 人，达到法定人数。经充分讨论，同意实施，会后公示 7 天。"),
                  e)))
        return rc;
    /* some decisions go to the estate's residents, one to the council with a high minimum turnout */
    if (m == 9 || m == 5 || m == 3) {
        int64_t poll;
        bool council = m == 5;
        if ((rc = make(d, council_poll_create, &d->staff,
                       json_pack("{s:I, s:s, s:b, s:I}", "decision_id", (json_int_t)decision, "electorate",
                                 council ? "council" : "residents", "secret", !council, "min_turnout",
                                 (json_int_t)(council ? 100 : 10)),
                       &poll, e)))
            return rc;
        d->polls++;
        int voters = council ? 3 : est->n < 10 ? est->n : 10;
        static const char *const choices[] = {"同意", "同意", "同意", "反对", "弃权"};
        for (int k = 0; k < voters && rc == 0; k++) {
            const char *c = choices[next(d) % 5];
            if (k % 3 == 2) { /* a paper ballot entered by staff */
                rc = act(d, council_poll_vote, &d->staff, poll,
                         json_pack("{s:I, s:s}", "resident_id", (json_int_t)est->adults[k], "choice", c), e);
            } else {
                nx_principal who = resident(est->adults[k]);
                rc = act(d, council_poll_vote, &who, poll, json_pack("{s:s}", "choice", c), e);
            }
            if (rc == NX_EPERM) /* not on the council: the electorate decides, not the demo */
                rc = 0;
        }
        if (rc || (rc = act(d, council_poll_close, &d->staff, poll, json_object(), e)))
            return rc;
    }
    pending[*npending][0] = decision;
    pending[*npending][1] = raised[0];
    pending[*npending][2] = (int64_t)est->adults[0];
    (*npending)++;
    return 0;
}

/* Follow-up of the decisions made before this month: a milestone a month, done after two. */
static int follow_up(demo *d, int64_t pending[][3], int npending, int *done_count, nx_err *e)
{
    static const char *const steps[] = {"方案公示", "施工队进场", "完工验收"};
    for (int i = *done_count; i < npending; i++) {
        json_t *dj = NULL;
        int rc = council_decision_get(d->app, &d->staff, pending[i][0], &dj, e);
        if (rc)
            return rc;
        size_t made = json_array_size(json_object_get(dj, "progress"));
        bool finished = strcmp(json_string_value(json_object_get(dj, "status")), "done") == 0;
        json_decref(dj);
        if (finished)
            continue;
        bool complete = made >= 2;
        /* the topic moves on (公示, then 实施) before the decision is finished */
        if ((rc = act(d, council_topic_advance, &d->staff, pending[i][1], json_object(), e)) ||
            (rc = act(d, council_decision_progress, &d->staff, pending[i][0],
                      json_pack("{s:s, s:s, s:b, s:b}", "title", steps[made < 3 ? made : 2], "responsible", "物业 王经理",
                                "done", true, "complete", complete),
                      e)))
            return rc;
        if (!complete)
            continue;
        nx_principal who = resident(pending[i][2]);
        if ((rc = act(d, council_decision_rate, &who, pending[i][0],
                      json_pack("{s:i, s:s}", "rating", 4 + (int)(next(d) % 2), "note", "办得好"), e)))
            return rc;
    }
    return 0;
}

int demo_council_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                      nx_err *e)
{
    int64_t t0 = clock_mono_ms();
    demo d = {.app = app, .rng = seed ^ 0xc0c1u};
    d.staff = (nx_principal){.role = ROLE_ADMIN, .scope = SCOPE_ALL, .username = "demo"};
    estate_people es[8];
    int nes = 0, rc;
    if ((rc = load_estates(&d, community, self_resident, es, 8, &nes, e)))
        return rc;
    if (nes == 0)
        return 0;
    /* members and representatives: the first five adults of each estate */
    for (int i = 0; i < nes; i++)
        for (int k = 0; k < 5 && k < es[i].n; k++)
            if ((rc = make(&d, council_member_create, &d.staff,
                           json_pack("{s:I, s:s}", "resident_id", (json_int_t)es[i].adults[k], "role",
                                     k < 3 ? "member" : "representative"),
                           &(int64_t){0}, e)))
                return rc;
    int64_t now = clock_now_ms();
    nx_date today = date_today();
    int64_t pending[16][3];
    int npending = 0;
    for (int m = 11; m >= 0 && rc == 0; m--) {
        /* the 10th of the month m months ago, 10:00 Shanghai (02:00 UTC); never after now */
        int y = today.y, mo = today.m - m;
        while (mo < 1) {
            mo += 12;
            y--;
        }
        int64_t at = date_to_days((nx_date){y, mo, 10}) * DAY_MS + 2 * 3600 * 1000LL;
        clock_pin_ms(at < now ? at : now);
        rc = follow_up(&d, pending, npending, &(int){0}, e);
        if (rc == 0)
            rc = month(&d, es, nes, m, pending, &npending, e);
    }
    /* this month: an open secret poll in the resident account's estate, on its latest decision */
    if (rc == 0) {
        clock_pin_ms(0);
        json_t *list = NULL;
        council_filter f = {.estate_id = es[0].id, .limit = 1};
        if ((rc = council_decision_list(app, &d.staff, &f, &list, e)) == 0) {
            json_t *first = json_array_get(json_object_get(list, "items"), 0);
            int64_t poll;
            if (first)
                rc = make(&d, council_poll_create, &d.staff,
                          json_pack("{s:I, s:s, s:s, s:b, s:I}", "decision_id",
                                    json_integer_value(json_object_get(first, "id")), "question", "是否同意按方案实施？",
                                    "electorate", "residents", "secret", true, "min_turnout", 30),
                          &poll, e);
            if (first && rc == 0)
                d.polls++;
            json_decref(list);
        }
    }
    clock_pin_ms(0);
    if (rc)
        return rc;
    json_object_set_new(summary, "council_topics", json_integer(d.topics));
    json_object_set_new(summary, "council_meetings", json_integer(d.meetings));
    json_object_set_new(summary, "council_decisions", json_integer(d.decisions));
    json_object_set_new(summary, "council_polls", json_integer(d.polls));
    json_object_set_new(summary, "council_ms", json_integer(clock_mono_ms() - t0));
    return 0;
}
