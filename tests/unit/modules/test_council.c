/* test_council.c — the courtyard council's rules on a real, migrated store, on both backends
 * (SQLite always; PostgreSQL with NX_TEST_PG).
 *
 * One estate (梧桐) with three adults on its council, an adult who is not, and a child; a second
 * estate (银杏) with one adult. A topic raised by a resident is supported once per resident, goes
 * through a meeting (refused without a place, nothing written) to a decision only once the quorum is
 * present, then a secret poll of every adult resident: online and paper ballots share one register
 * (a second vote either way is refused), the child and the other estate's resident are refused, an
 * unknown choice names "choice", the register holds no choice and the tally no voter, the counts equal
 * the register, a closed poll refuses a ballot naming "status". A council-only poll below its minimum
 * turnout closes "not valid". The follow-up completes the decision and its topic; every step wrote
 * its event. The council's ticker announces a milestone and a step past their due date once each.
 * The birth date of the child and the due dates are counted from today, so the test does not age. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/council/council.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"


/* Residents: 1-4 adults of estate 1 (1-3 on the council), 5 a child of estate 1, 6 an adult of estate 2. */
static int setup(void)
{
    if (tb_app_open("council.db", NULL, NULL))
        return -1;
    nx_date child = date_today();
    child.y -= 10;
    if (child.m == 2 && child.d == 29)
        child.d = 28;
    char cb[11];
    date_format(child, cb);
    char sql[6000];
    int n = snprintf(sql, sizeof sql,
                     "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
                     "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
                     "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES (1, 1, '第一网格', 0, 0);"
                     "INSERT INTO estates (id, community_id, grid_id, name, created_at, updated_at) VALUES "
                     "(1, 1, 1, '梧桐小区', 0, 0), (2, 1, 1, '银杏小区', 0, 0);"
                     "INSERT INTO users (id, username, display_name, role, scope, community_id, password_hash, "
                     "created_at, updated_at) VALUES (1, 'staff1', '李书记', 'staff', 'community', 1, 'x', 0, 0);");
    static const struct {
        int estate;
        const char *name, *birth;
    } people[] = {{1, "周桂兰", "1950-05-12"}, {1, "吴德厚", "1952-01-01"}, {1, "郑秀珍", "1960-08-08"},
                  {1, "钱多多", "1980-03-03"},          {1, "孙小宝", NULL},         {2, "冯远", "1970-07-07"}};
    for (int i = 0; i < 6; i++) {
        char blob[32];
        snprintf(blob, sizeof blob, tb_pg() ? "'\\x%02x'::bytea" : "X'%02x'", i + 1);
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "INSERT INTO residents (id, community_id, grid_id, estate_id, name, name_s, name_pinyin, "
                      "name_initials, sort_key, sex, birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) "
                      "VALUES (%d, 1, 1, %d, '%s', '%s', 'x', 'x', %s, 1, '%s', %s, %s, '0000', 0, 0);",
                      i + 1, people[i].estate, people[i].name, people[i].name, blob, people[i].birth ? people[i].birth : cb,
                      blob, blob);
    }
    n += snprintf(sql + n, sizeof sql - (size_t)n,
                  "INSERT INTO council_members (community_id, grid_id, estate_id, resident_id, role, created_at) VALUES "
                  "(1, 1, 1, 1, 'member', 0), (1, 1, 1, 2, 'member', 0), (1, 1, 1, 3, 'representative', 0);");
    int rc = exec_w(sql);
    if (rc == 0 && tb_pg())
        rc = exec_w("SELECT setval(pg_get_serial_sequence('residents', 'id'), 6);"
                    "SELECT setval(pg_get_serial_sequence('users', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('estates', 'id'), 2);");
    return rc;
}

static nx_principal staff(void)
{
    return (nx_principal){.user_id = 1, .username = "staff1", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                          .community_id = 1};
}

static nx_principal resident(int64_t id)
{
    return (nx_principal){.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .community_id = 1, .resident_id = id};
}

static json_t *J(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    if (!j)
        fprintf(stderr, "bad JSON in test: %s\n", text);
    return j;
}

typedef int (*change_fn)(nx_app *, const nx_principal *, int64_t, json_t *, nx_err *);
typedef int (*create_fn)(nx_app *, const nx_principal *, json_t *, int64_t *, nx_err *);

/* Call a change function with a JSON literal; returns its code, e keeps the error. */
static int change(change_fn fn, const nx_principal *who, int64_t id, const char *body, nx_err *e)
{
    json_t *in = J(body);
    nx_err_clear(e);
    int rc = fn(&app, who, id, in, e);
    json_decref(in);
    return rc;
}

static int create(create_fn fn, const nx_principal *who, const char *body, int64_t *id, nx_err *e)
{
    json_t *in = J(body);
    nx_err_clear(e);
    int rc = fn(&app, who, in, id, e);
    json_decref(in);
    return rc;
}

static int64_t topic, meeting, decision;

static void test_topic_and_support(void)
{
    nx_principal zhou = resident(1), wu = resident(2), feng = resident(6);
    nx_err e = {0};
    CHECK_INT(create(council_topic_create, &zhou, "{\"title\": \"楼道加装扶手\"}", &topic, &e), 0);
    json_t *t = NULL;
    CHECK_INT(council_topic_get(&app, &zhou, topic, &t, &e), 0);
    CHECK_STR(json_string_value(json_object_get(t, "source")), "resident");
    CHECK_INT(json_integer_value(json_object_get(t, "estate_id")), 1);
    CHECK_STR(json_string_value(json_object_get(t, "step_name")), "收集");
    CHECK_INT(json_array_size(json_object_get(t, "steps")), 5);
    json_decref(t);
    CHECK_INT(change(council_topic_support, &wu, topic, "{}", &e), 0);
    CHECK_INT(change(council_topic_support, &wu, topic, "{}", &e), NX_ECONFLICT);
    CHECK_INT(change(council_topic_support, &feng, topic, "{}", &e), NX_ENOTFOUND);
    CHECK_INT(q_int("SELECT supporters FROM council_topics WHERE id = 1"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_supports"), 1);
    /* a family account reads but does not act */
    nx_principal family = resident(1);
    family.role = ROLE_FAMILY;
    CHECK_INT(change(council_topic_support, &family, topic, "{}", &e), NX_EPERM);
}

static void test_meeting_and_decision(void)
{
    nx_principal s = staff(), zhou = resident(1);
    nx_err e = {0};
    char body[300];
    snprintf(body, sizeof body,
             "{\"estate_id\": 1, \"title\": \"议事会\", \"starts_at\": \"2026-03-05T19:00\", \"topic_ids\": [%lld]}",
             (long long)topic);
    CHECK_INT(create(council_meeting_create, &s, body, &meeting, &e), NX_EINVAL);
    CHECK_STR(e.field, "place");
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_meetings"), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_meeting_topics"), 0);
    snprintf(body, sizeof body,
             "{\"estate_id\": 1, \"title\": \"议事会\", \"place\": \"3号楼楼道\", \"starts_at\": \"2026-03-05T19:00\", "
             "\"topic_ids\": [%lld]}",
             (long long)topic);
    CHECK_INT(create(council_meeting_create, &s, body, &meeting, &e), 0);
    CHECK_INT(q_int("SELECT quorum FROM council_meetings"), 2);
    CHECK_INT(create(council_meeting_create, &zhou, body, &meeting, &e), NX_EPERM);
    snprintf(body, sizeof body, "{\"meeting_id\": %lld, \"topic_id\": %lld, \"text\": \"加装扶手\"}", (long long)meeting,
             (long long)topic);
    CHECK_INT(create(council_decision_create, &s, body, &decision, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "quorum");
    CHECK_INT(change(council_meeting_attend, &s, meeting, "{\"resident_id\": 1}", &e), 0);
    CHECK_INT(change(council_meeting_attend, &s, meeting, "{\"resident_id\": 2}", &e), 0);
    CHECK_INT(change(council_meeting_attend, &s, meeting, "{\"resident_id\": 2}", &e), 0);
    CHECK_INT(change(council_meeting_attend, &s, meeting, "{\"resident_id\": 6}", &e), NX_EINVAL);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_attendance"), 2);
    CHECK_INT(create(council_decision_create, &s, body, &decision, &e), 0);
    int64_t again;
    CHECK_INT(create(council_decision_create, &s, body, &again, &e), NX_ECONFLICT);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_topics WHERE status = 'decided'"), 1);
}

static void test_secret_poll(void)
{
    nx_principal s = staff(), zhou = resident(1), wu = resident(2), sun = resident(5), feng = resident(6);
    nx_err e = {0};
    char body[200];
    int64_t poll;
    snprintf(body, sizeof body, "{\"decision_id\": %lld, \"electorate\": \"residents\", \"secret\": true, \"min_turnout\": 50}",
             (long long)decision);
    CHECK_INT(create(council_poll_create, &s, body, &poll, &e), 0);
    CHECK_INT(change(council_poll_vote, &zhou, poll, "{\"choice\": \"同意\"}", &e), 0);
    CHECK_INT(change(council_poll_vote, &zhou, poll, "{\"choice\": \"反对\"}", &e), NX_ECONFLICT);
    CHECK_INT(change(council_poll_vote, &s, poll, "{\"resident_id\": 1, \"choice\": \"反对\"}", &e), NX_ECONFLICT);
    CHECK_INT(change(council_poll_vote, &s, poll, "{\"resident_id\": 2, \"choice\": \"反对\"}", &e), 0);
    CHECK_INT(change(council_poll_vote, &wu, poll, "{\"choice\": \"同意\"}", &e), NX_ECONFLICT);
    CHECK_INT(change(council_poll_vote, &sun, poll, "{\"choice\": \"同意\"}", &e), NX_EPERM);
    CHECK_INT(change(council_poll_vote, &s, poll, "{\"resident_id\": 5, \"choice\": \"同意\"}", &e), NX_EINVAL);
    CHECK_INT(change(council_poll_vote, &feng, poll, "{\"choice\": \"同意\"}", &e), NX_ENOTFOUND);
    CHECK_INT(change(council_poll_vote, &s, poll, "{\"resident_id\": 6, \"choice\": \"同意\"}", &e), NX_EINVAL);
    CHECK_INT(change(council_poll_vote, &s, poll, "{\"resident_id\": 3, \"choice\": \"随便\"}", &e), NX_EINVAL);
    CHECK_STR(e.field, "choice");
    /* the register: who voted, no choice; the tally: counters, no voter */
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_poll_register"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_poll_register WHERE choice IS NOT NULL"), 0);
    CHECK_INT(q_int("SELECT SUM(votes) FROM council_poll_tally"), 2);
    CHECK_INT(q_int(tb_pg() ? "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'council_poll_tally'"
                            : "SELECT COUNT(*) FROM pragma_table_info('council_poll_tally')"),
              3);
    json_t *r = NULL;
    CHECK_INT(council_poll_result(&app, &s, poll, &r, &e), 0);
    CHECK(json_is_null(json_object_get(r, "counts")));
    json_decref(r);
    CHECK_INT(change(council_poll_close, &s, poll, "{}", &e), 0);
    CHECK_INT(council_poll_result(&app, &zhou, poll, &r, &e), 0);
    CHECK_STR(json_string_value(json_object_get(r, "result")), "valid");
    CHECK_INT(json_integer_value(json_object_get(r, "eligible")), 4);
    CHECK_INT(json_integer_value(json_object_get(r, "ballots")), 2);
    CHECK_INT(json_integer_value(json_object_get(r, "counts_total")), 2);
    CHECK(json_is_true(json_object_get(r, "matches_register")));
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(r, "counts"), 0), "votes")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(r, "counts"), 1), "votes")), 1);
    CHECK(json_object_get(r, "register") == NULL);
    json_decref(r);
    CHECK_INT(change(council_poll_vote, &s, poll, "{\"resident_id\": 3, \"choice\": \"同意\"}", &e), NX_ECONFLICT);
    CHECK_STR(e.field, "status");
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_poll_register"), 2);
}

static void test_turnout_not_valid(void)
{
    nx_principal s = staff(), zhou = resident(1), qian = resident(4);
    nx_err e = {0};
    char body[200];
    int64_t poll;
    snprintf(body, sizeof body, "{\"decision_id\": %lld, \"electorate\": \"council\", \"secret\": false, \"min_turnout\": 60}",
             (long long)decision);
    CHECK_INT(create(council_poll_create, &s, body, &poll, &e), 0);
    CHECK_INT(change(council_poll_vote, &qian, poll, "{\"choice\": \"同意\"}", &e), NX_EPERM); /* not on the council */
    CHECK_INT(change(council_poll_vote, &zhou, poll, "{\"choice\": \"同意\"}", &e), 0);
    CHECK_INT(change(council_poll_close, &s, poll, "{}", &e), 0);
    CHECK_INT(change(council_poll_close, &s, poll, "{}", &e), NX_ECONFLICT);
    json_t *r = NULL;
    CHECK_INT(council_poll_result(&app, &s, poll, &r, &e), 0);
    CHECK_STR(json_string_value(json_object_get(r, "result")), "not_valid"); /* 1 of 3 < 60 % */
    CHECK_INT(json_integer_value(json_object_get(r, "eligible")), 3);
    CHECK_INT(json_array_size(json_object_get(r, "register")), 1);
    json_decref(r);
}

/* The local date ("YYYY-MM-DD") days from now_ms. */
static void local_day(int64_t now_ms, int days, char out[11])
{
    char stamp[30];
    clock_format_local(now_ms + days * 86400000LL, stamp);
    snprintf(out, 11, "%.10s", stamp);
}

/* The ticker announces a follow-up milestone and a topic's current step past their due date, once
 * each: not one done, nor one due today or later, and not again on the next tick. The milestones are
 * written directly (the API's milestone emits its own progress event, counted below). */
static void test_overdue_once(void)
{
    nx_err e = {0};
    int64_t now = clock_now_ms();
    char past[11], today[11], later[11], sql[1200];
    local_day(now, -2, past);
    local_day(now, 0, today);
    local_day(now, 5, later);
    snprintf(sql, sizeof sql,
             "INSERT INTO council_progress (id, decision_id, title, due_on, done, created_at) VALUES "
             "(901, %lld, '安装扶手', '%s', 0, 0), (902, %lld, '验收', '%s', 1, 0), (903, %lld, '回访', '%s', 0, 0), "
             "(904, %lld, '公示', '%s', 0, 0);"
             "UPDATE council_topic_steps SET due_on = '%s' WHERE topic_id = %lld AND idx = "
             "(SELECT step FROM council_topics WHERE id = %lld);",
             (long long)decision, past, (long long)decision, past, (long long)decision, later, (long long)decision, today,
             past, (long long)topic, (long long)topic);
    CHECK_INT(exec_w(sql), 0);
    json_t *rep = NULL;
    CHECK_INT(council_tick(&app, now, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "milestones")), 1);
    CHECK_INT(json_integer_value(json_object_get(rep, "steps")), 1);
    json_decref(rep);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.progress.overdue' AND payload LIKE "
                    "'%\"progress_id\":901%'"),
              1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.topic.step_overdue'"), 1);
    /* once only: the next tick finds nothing new */
    CHECK_INT(council_tick(&app, now + 60000, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "milestones")) + json_integer_value(json_object_get(rep, "steps")), 0);
    json_decref(rep);
    /* tomorrow, the milestone due today is overdue too (and only it) */
    CHECK_INT(council_tick(&app, now + 86400000LL, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "milestones")), 1);
    json_decref(rep);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.progress.overdue'"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_progress WHERE overdue_at IS NOT NULL AND id IN (902, 903)"), 0);
    CHECK_INT(exec_w("DELETE FROM council_progress WHERE id IN (901, 902, 903, 904)"), 0);
}

static void test_follow_up_and_events(void)
{
    nx_principal s = staff(), zhou = resident(1);
    nx_err e = {0};
    CHECK_INT(change(council_decision_rate, &zhou, decision, "{\"rating\": 5}", &e), NX_ECONFLICT);
    CHECK_INT(change(council_decision_progress, &s, decision, "{\"title\": \"采购\", \"responsible\": \"王经理\"}", &e), 0);
    CHECK_INT(change(council_decision_progress, &s, decision, "{\"title\": \"完工\", \"complete\": true}", &e), 0);
    CHECK_INT(change(council_decision_progress, &s, decision, "{\"title\": \"再来\"}", &e), NX_ECONFLICT);
    CHECK_INT(q_int("SELECT COUNT(*) FROM council_topics WHERE status = 'done'"), 1);
    CHECK_INT(change(council_decision_rate, &zhou, decision, "{\"rating\": 5}", &e), 0);
    CHECK_INT(change(council_decision_rate, &zhou, decision, "{\"rating\": 4}", &e), NX_ECONFLICT);
    json_t *st = NULL;
    CHECK_INT(council_stats(&app, &s, 0, &st, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(st, "raised")), 1);
    CHECK_INT(json_integer_value(json_object_get(st, "done")), 1);
    json_decref(st);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.topic.raised'"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.meeting.scheduled'"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.decision.made'"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.poll.opened'"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.poll.closed'"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.decision.progress'"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'council.decision.done'"), 1);
    /* no event payload names a choice */
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind LIKE 'council.%' AND payload LIKE '%choice%'"), 0);
}

static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    topic = meeting = decision = 0;
    TEST_RUN(test_topic_and_support);
    TEST_RUN(test_meeting_and_decision);
    TEST_RUN(test_secret_poll);
    TEST_RUN(test_turnout_not_valid);
    TEST_RUN(test_overdue_once);
    TEST_RUN(test_follow_up_and_events);
    store_close(app.db);
    app.db = NULL;
    return 0;
}

int main(void)
{
    if (tb_init("nx_test_council") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
