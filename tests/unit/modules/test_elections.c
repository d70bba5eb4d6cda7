/* test_elections.c — the elections rules on a real, migrated store, on both backends: the stages
 * move only in order (no 公示 with a pending nomination, no vote before the notice ends or while an
 * objection is unanswered, no result before the close); a nominee must be an active resident of the
 * community (NX_EINVAL naming resident_id); one ballot per resident per category (NX_ECONFLICT naming
 * category_id, and the database's UNIQUE constraint refuses a second row written past the rules);
 * the count is exact (votes, voters, turnout, the seat); a ballot outside the window is refused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/elections/elections.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"


static int setup(void)
{
    if (tb_app_open("elections.db", NULL, NULL))
        return -1;
    char sql[4000], rows[2000] = "";
    size_t n = 0;
    for (int i = 1; i <= 5; i++) {
        char blob[32];
        snprintf(blob, sizeof blob, tb_pg() ? "'\\x0%d'::bytea" : "X'0%d'", i);
        n += (size_t)snprintf(rows + n, sizeof rows - n,
                              "%s(%d, %d, '居民%d', '居民%d', 'jumin', 'jm', %s, 1, '1950-01-01', %s, %s, '0000', 0, 0)",
                              i > 1 ? ", " : "", i, i == 5 ? 2 : 1, i, i, blob, blob, blob);
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '四德社区', 0), (2, 1, '邻社区', 0);"
             "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, sex, "
             "birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES %s;",
             rows);
    int rc = exec_w(sql);
    if (rc == 0 && tb_pg())
        rc = exec_w("SELECT setval(pg_get_serial_sequence('communities', 'id'), 2);"
                    "SELECT setval(pg_get_serial_sequence('residents', 'id'), 5);");
    return rc;
}

static void teardown(void)
{
    store_close(app.db);
    app.db = NULL;
}

static const nx_principal staff = {.role = ROLE_STAFF, .scope = SCOPE_COMMUNITY, .community_id = 1};
static nx_principal voter(int64_t resident)
{
    return (nx_principal){.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .community_id = 1, .resident_id = resident};
}

static void day(int offset, char out[11])
{
    date_format(date_from_days(date_to_days(date_today()) + offset), out);
}

/* Run a rules call with a JSON text; returns its code and leaves e filled. */
static int stage(int64_t id, const char *json, nx_err *e)
{
    json_t *in = json_loads(json, 0, NULL);
    int rc = elections_stage(&app, &staff, id, in, e);
    json_decref(in);
    return rc;
}

static int nominate(const nx_principal *who, int64_t id, int64_t cat, int64_t resident, int64_t *nid, nx_err *e)
{
    json_t *in = json_pack("{s:I, s:I, s:s}", "category_id", (json_int_t)cat, "resident_id", (json_int_t)resident,
                           "reason", "事迹");
    int rc = elections_nominate(&app, who, id, in, nid, e);
    json_decref(in);
    return rc;
}

static int vote(int64_t resident, int64_t id, int64_t cat, int64_t nid, nx_err *e)
{
    nx_principal v = voter(resident);
    json_t *in = json_pack("{s:I, s:I}", "category_id", (json_int_t)cat, "nomination_id", (json_int_t)nid);
    int64_t bid = 0;
    int rc = elections_vote(&app, &v, id, in, &bid, e);
    json_decref(in);
    return rc;
}

static void test_stages_votes_and_count(void)
{
    nx_err e = {0};
    json_t *in = json_loads("{\"title\": \"四德标兵\", \"publicity_days\": 5, \"min_turnout_pct\": 50, \"categories\": "
                            "[{\"name\": \"孝德\", \"seats\": 1}, {\"name\": \"诚德\", \"seats\": 1}]}",
                            0, NULL);
    int64_t id = 0;
    CHECK_INT(elections_create(&app, &staff, in, &id, &e), 0);
    json_decref(in);
    int64_t xiao = q_int("SELECT id FROM election_categories WHERE name = '孝德'");
    int64_t cheng = q_int("SELECT id FROM election_categories WHERE name = '诚德'");
    int64_t n2 = 0, n3 = 0, n4 = 0, bad = 0;
    nx_principal r1 = voter(1);
    CHECK_INT(nominate(&r1, id, xiao, 2, &n2, &e), 0);
    CHECK_INT(nominate(&staff, id, xiao, 3, &n3, &e), 0);
    CHECK_INT(nominate(&staff, id, cheng, 4, &n4, &e), 0);
    CHECK_INT(nominate(&staff, id, xiao, 5, &bad, &e), NX_EINVAL); /* a resident of another community */
    CHECK_STR(e.field, "resident_id");
    CHECK_INT(nominate(&staff, id, xiao, 77, &bad, &e), NX_EINVAL); /* no such resident */
    CHECK_INT(nominate(&staff, id, xiao, 2, &bad, &e), NX_ECONFLICT);
    CHECK_INT(q_int("SELECT COUNT(*) FROM election_nominations"), 3);
    CHECK_INT(vote(1, id, xiao, n2, &e), NX_ECONFLICT); /* no vote while nominating */

    CHECK_INT(stage(id, "{\"to\": \"publicity\"}", &e), NX_ECONFLICT); /* order */
    CHECK_INT(stage(id, "{\"to\": \"review\"}", &e), 0);
    CHECK_INT(stage(id, "{\"to\": \"publicity\"}", &e), NX_ECONFLICT); /* pending nominations */
    int64_t nids[] = {n2, n3, n4};
    for (int i = 0; i < 3; i++) {
        in = json_loads("{\"eligible\": true, \"reason\": \"符合条件\"}", 0, NULL);
        CHECK_INT(elections_review(&app, &staff, id, nids[i], in, &e), 0);
        json_decref(in);
    }
    char from[11], buf[200], vfrom[11], vuntil[11];
    day(-4, from); /* the notice's last day is today */
    snprintf(buf, sizeof buf, "{\"to\": \"publicity\", \"publicity_from\": \"%s\"}", from);
    CHECK_INT(stage(id, buf, &e), 0);
    day(1, vfrom);
    day(3, vuntil);
    snprintf(buf, sizeof buf, "{\"to\": \"voting\", \"vote_from\": \"%s\", \"vote_until\": \"%s\"}", vfrom, vuntil);
    CHECK_INT(stage(id, buf, &e), NX_ECONFLICT); /* the notice has not ended */
    CHECK_STR(e.field, "to");
    /* an objection today, then the notice is recorded as having started a day earlier */
    int64_t oid = 0;
    nx_principal r3 = voter(3);
    in = json_pack("{s:I, s:s}", "nomination_id", (json_int_t)n2, "body", "有异议");
    CHECK_INT(elections_object(&app, &r3, id, in, &oid, &e), 0);
    json_decref(in);
    day(-5, from);
    snprintf(buf, sizeof buf, "UPDATE elections SET publicity_from = '%s', publicity_until = '%s'", from,
             (day(-1, vfrom), vfrom));
    CHECK_INT(exec_w(buf), 0);
    day(0, vfrom);
    day(1, vuntil);
    snprintf(buf, sizeof buf, "{\"to\": \"voting\", \"vote_from\": \"%s\", \"vote_until\": \"%s\"}", vfrom, vuntil);
    CHECK_INT(stage(id, buf, &e), NX_ECONFLICT); /* the objection is unanswered */
    in = json_loads("{\"answer\": \"经核实不成立\", \"upheld\": false}", 0, NULL);
    CHECK_INT(elections_answer(&app, &staff, id, oid, in, &e), 0);
    json_decref(in);
    CHECK_INT(stage(id, buf, &e), 0);

    CHECK_INT(vote(1, id, xiao, n2, &e), 0);
    CHECK_INT(vote(1, id, xiao, n3, &e), NX_ECONFLICT); /* one per resident and category */
    CHECK_STR(e.field, "category_id");
    CHECK_INT(vote(1, id, cheng, n2, &e), NX_EINVAL);   /* a candidate of the other category */
    CHECK_INT(vote(1, id, cheng, n4, &e), 0);
    CHECK_INT(vote(2, id, xiao, n2, &e), 0);
    CHECK_INT(vote(3, id, xiao, n3, &e), 0);
    CHECK_INT(vote(5, id, xiao, n3, &e), NX_ENOTFOUND); /* another community's resident */
    /* the constraint itself: a second row for (election, category, resident) written past the rules */
    snprintf(buf, sizeof buf,
             "INSERT INTO election_ballots (election_id, category_id, resident_id, nomination_id, created_at) VALUES "
             "(%lld, %lld, 1, %lld, 0)",
             (long long)id, (long long)xiao, (long long)n3);
    CHECK(exec_w(buf) != 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM election_ballots"), 4);

    json_t *out = NULL;
    CHECK_INT(elections_result(&app, &staff, id, &out, &e), NX_ECONFLICT); /* not closed */
    CHECK_INT(stage(id, "{\"to\": \"closed\"}", &e), 0);
    CHECK_INT(vote(4, id, xiao, n2, &e), NX_ECONFLICT);
    CHECK_INT(elections_result(&app, &staff, id, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "eligible_voters")), 4);
    CHECK_INT(json_integer_value(json_object_get(out, "voters")), 3);
    CHECK(json_is_true(json_object_get(out, "valid")));
    json_t *c0 = json_object_get(json_array_get(json_object_get(out, "categories"), 0), "candidates");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(c0, 0), "nomination_id")), n2);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(c0, 0), "votes")), 2);
    CHECK(json_is_true(json_object_get(json_array_get(c0, 0), "elected")));
    CHECK_INT(json_integer_value(json_object_get(json_array_get(c0, 1), "votes")), 1);
    CHECK(json_is_false(json_object_get(json_array_get(c0, 1), "elected")));
    json_decref(out);
    CHECK_INT(elections_honours(&app, &staff, 0, &out, &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 2);
    json_decref(out);
}

static void test_window_in_the_past(void)
{
    nx_err e = {0};
    json_t *in = json_loads("{\"title\": \"往年\", \"categories\": [{\"name\": \"公德\", \"seats\": 1}]}", 0, NULL);
    int64_t id = 0, nid = 0;
    CHECK_INT(elections_create(&app, &staff, in, &id, &e), 0);
    json_decref(in);
    char buf[300], a[11], b[11];
    snprintf(buf, sizeof buf, "SELECT id FROM election_categories WHERE election_id = %lld", (long long)id);
    int64_t cat = q_int(buf);
    CHECK_INT(nominate(&staff, id, cat, 2, &nid, &e), 0);
    CHECK_INT(stage(id, "{\"to\": \"review\"}", &e), 0);
    in = json_loads("{\"eligible\": true, \"reason\": \"符合\"}", 0, NULL);
    CHECK_INT(elections_review(&app, &staff, id, nid, in, &e), 0);
    json_decref(in);
    day(-30, a);
    snprintf(buf, sizeof buf, "{\"to\": \"publicity\", \"publicity_from\": \"%s\"}", a);
    CHECK_INT(stage(id, buf, &e), 0);
    day(-20, a);
    day(-10, b);
    snprintf(buf, sizeof buf, "{\"to\": \"voting\", \"vote_from\": \"%s\", \"vote_until\": \"%s\"}", a, b);
    CHECK_INT(stage(id, buf, &e), 0);
    CHECK_INT(vote(1, id, cat, nid, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "vote_until");
    snprintf(buf, sizeof buf, "SELECT COUNT(*) FROM election_ballots WHERE election_id = %lld", (long long)id);
    CHECK_INT(q_int(buf), 0);
}

static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    TEST_RUN(test_stages_votes_and_count);
    TEST_RUN(test_window_in_the_past);
    teardown();
    return 0;
}

int main(void)
{
    if (tb_init("nx_test_elections") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
