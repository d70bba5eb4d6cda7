/* test_party.c — the party module's rules on a real, migrated store, on both backends: a branch
 * secretary reads their own branch and nothing of another (NX_ENOTFOUND, like a row that does not
 * exist); an internal transfer then a transfer out move the member and keep both transfers in their
 * file; the dues rules give the amounts of their bands (rounded half up, a fixed amount, no rule),
 * opening a month is idempotent, a payment of a wrong amount is refused naming amount_fen and changes
 * nothing, and the exact amount closes the month. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/party/party.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"


static int setup(void)
{
    if (tb_app_open("party.db", NULL, NULL))
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
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '岔河社区', 0), (2, 1, '邻社区', 0);"
             "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, sex, "
             "birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES %s;",
             rows);
    int rc = exec_w(sql);
    if (rc == 0 && tb_pg())
        rc = exec_w("SELECT setval(pg_get_serial_sequence('streets', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('communities', 'id'), 2);"
                    "SELECT setval(pg_get_serial_sequence('residents', 'id'), 5);");
    return rc;
}

static void teardown(void)
{
    store_close(app.db);
    app.db = NULL;
}

static const nx_principal staff = {.user_id = 0, .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY, .community_id = 1};
static const nx_principal staff2 = {.user_id = 0, .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY, .community_id = 2};
/* resident accounts: 1 will lead branch 1, 3 branch 2, 2 is a member of branch 1 */
static const nx_principal sec1 = {.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .community_id = 1, .resident_id = 1};
static const nx_principal sec2 = {.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .community_id = 1, .resident_id = 3};
static const nx_principal mem = {.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .community_id = 1, .resident_id = 2};

static int64_t create(int (*fn)(nx_app *, const nx_principal *, json_t *, int64_t *, nx_err *), const nx_principal *who,
                      const char *json)
{
    json_error_t je;
    json_t *in = json_loads(json, 0, &je);
    nx_err e = {0};
    int64_t id = 0;
    int rc = fn(&app, who, in, &id, &e);
    json_decref(in);
    if (rc) {
        fprintf(stderr, "create %s: %d %s (%s)\n", json, rc, e.msg, e.field);
        return rc;
    }
    return id;
}

static int call(int (*fn)(nx_app *, const nx_principal *, int64_t, json_t *, nx_err *), const nx_principal *who,
                int64_t id, const char *json, nx_err *e)
{
    json_t *in = json_loads(json, 0, NULL);
    int rc = fn(&app, who, id, in, e);
    json_decref(in);
    return rc;
}

static int64_t branch1, branch2, group1, m_wang, m_li, m_zhang;

static void test_tree_and_secretary_scope(void)
{
    char b[300];
    int64_t com = create(party_org_create, &staff, "{\"name\": \"社区党委\", \"kind\": \"committee\"}");
    CHECK(com > 0);
    snprintf(b, sizeof b, "{\"name\": \"银领先锋党支部\", \"kind\": \"branch\", \"parent_id\": %lld}", (long long)com);
    branch1 = create(party_org_create, &staff, b);
    snprintf(b, sizeof b, "{\"name\": \"第二党支部\", \"kind\": \"branch\", \"parent_id\": %lld}", (long long)com);
    branch2 = create(party_org_create, &staff, b);
    snprintf(b, sizeof b, "{\"name\": \"第一党小组\", \"kind\": \"group\", \"parent_id\": %lld}", (long long)branch1);
    group1 = create(party_org_create, &staff, b);
    CHECK(branch1 > 0 && branch2 > 0 && group1 > 0);
    /* staff of another community cannot hang a branch under this committee */
    snprintf(b, sizeof b, "{\"name\": \"越界\", \"kind\": \"branch\", \"parent_id\": %lld}", (long long)com);
    CHECK_INT(create(party_org_create, &staff2, b), NX_ENOTFOUND);
    snprintf(b, sizeof b, "{\"org_id\": %lld, \"resident_id\": 1, \"joined_on\": \"1980-07-01\", \"income_fen\": 250000}",
             (long long)branch1);
    m_wang = create(party_member_create, &staff, b);
    snprintf(b, sizeof b,
             "{\"org_id\": %lld, \"resident_id\": 2, \"joined_on\": \"1985-07-01\", \"income_fen\": 612345, \"stage\": "
             "\"probationary\"}",
             (long long)group1);
    m_li = create(party_member_create, &staff, b);
    snprintf(b, sizeof b, "{\"org_id\": %lld, \"resident_id\": 3, \"joined_on\": \"1990-07-01\"}", (long long)branch2);
    m_zhang = create(party_member_create, &staff, b);
    CHECK(m_wang > 0 && m_li > 0 && m_zhang > 0);
    nx_err e = {0};
    /* a resident of another community is refused, naming the field */
    snprintf(b, sizeof b, "{\"org_id\": %lld, \"resident_id\": 5, \"joined_on\": \"1990-07-01\"}", (long long)branch1);
    json_t *in = json_loads(b, 0, NULL);
    int64_t id = 0;
    CHECK_INT(party_member_create(&app, &staff, in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "resident_id");
    json_decref(in);
    snprintf(b, sizeof b, "{\"secretary_member_id\": %lld}", (long long)m_wang);
    CHECK_INT(call(party_org_update, &staff, branch1, b, &e), 0);
    snprintf(b, sizeof b, "{\"secretary_member_id\": %lld}", (long long)m_zhang);
    CHECK_INT(call(party_org_update, &staff, branch2, b, &e), 0);

    json_t *out = NULL;
    CHECK_INT(party_member_get(&app, &sec1, m_li, &out, &e), 0); /* a member of their branch's group */
    json_decref(out);
    out = NULL;
    CHECK_INT(party_member_get(&app, &sec1, m_zhang, &out, &e), NX_ENOTFOUND);
    CHECK(out == NULL);
    CHECK_INT(party_member_get(&app, &sec2, m_wang, &out, &e), NX_ENOTFOUND);
    CHECK_INT(party_org_get(&app, &sec2, branch1, &out, &e), NX_ENOTFOUND);
    party_filter f = {.limit = 50};
    CHECK_INT(party_member_list(&app, &sec2, &f, &out, &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);
    CHECK_INT(party_member_list(&app, &mem, &f, &out, &e), 0); /* a plain member: their own record */
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(out, "items"), 0), "id")), m_li);
    json_decref(out);
    CHECK_INT(party_member_list(&app, &staff2, &f, &out, &e), 0); /* another community's staff */
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 0);
    json_decref(out);
    /* a secretary cannot schedule for another branch */
    snprintf(b, sizeof b, "{\"org_id\": %lld, \"kind\": \"lesson\", \"title\": \"党课\", \"held_on\": \"2024-03-01\"}",
             (long long)branch2);
    CHECK_INT(create(party_activity_create, &sec1, b), NX_ENOTFOUND);
}

static void test_transfer_keeps_history(void)
{
    char b[300];
    nx_err e = {0};
    int64_t tid = 0;
    snprintf(b, sizeof b, "{\"direction\": \"internal\", \"to_org_id\": %lld, \"on_date\": \"2024-03-01\"}",
             (long long)branch2);
    json_t *in = json_loads(b, 0, NULL);
    CHECK_INT(party_member_transfer(&app, &sec2, m_li, in, &tid, &e), NX_ENOTFOUND); /* not sec2's member */
    CHECK_INT(party_member_transfer(&app, &staff, m_li, in, &tid, &e), 0);
    json_decref(in);
    CHECK_INT(q_int("SELECT org_id FROM party_members WHERE resident_id = 2"), branch2);
    in = json_loads("{\"direction\": \"out\", \"outside_org\": \"外区党支部\", \"on_date\": \"2024-06-01\"}", 0, NULL);
    CHECK_INT(party_member_transfer(&app, &staff, m_li, in, &tid, &e), 0);
    CHECK_INT(party_member_transfer(&app, &staff, m_li, in, &tid, &e), NX_ECONFLICT);
    json_decref(in);
    json_t *out = NULL;
    CHECK_INT(party_member_get(&app, &staff, m_li, &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "transferred_out");
    json_t *t = json_object_get(out, "transfers");
    CHECK_INT((int)json_array_size(t), 2);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(t, 0), "from_org_id")), group1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(t, 0), "to_org_id")), branch2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(t, 1), "direction")), "out");
    CHECK_STR(json_string_value(json_object_get(json_array_get(t, 1), "on_date")), "2024-06-01");
    json_decref(out);
    /* back in, into branch 1 */
    snprintf(b, sizeof b, "{\"direction\": \"in\", \"to_org_id\": %lld, \"on_date\": \"2024-09-01\"}", (long long)branch1);
    in = json_loads(b, 0, NULL);
    CHECK_INT(party_member_transfer(&app, &staff, m_li, in, &tid, &e), 0);
    json_decref(in);
    CHECK_INT(q_int("SELECT COUNT(*) FROM party_transfers"), 3);
    CHECK_INT(q_int("SELECT COUNT(*) FROM party_members WHERE status = 'active'"), 3);
}

static int64_t amount_for(int64_t income)
{
    nx_err e = {0};
    store_tx *tx;
    int64_t rule = 0, amount = -1;
    if (store_begin(app.db, STORE_READ, &tx, &e))
        return -2;
    int rc = party_dues_amount(tx, 1, income, &rule, &amount, &e);
    store_rollback(tx);
    return rc ? rc : amount;
}

static void test_dues_rules_and_payment(void)
{
    CHECK(create(party_rule_create, &staff,
                 "{\"name\": \"3000元以下\", \"min_income_fen\": 1, \"max_income_fen\": 300000, \"rate_bp\": 50}") > 0);
    CHECK(create(party_rule_create, &staff,
                 "{\"name\": \"3000-5000\", \"min_income_fen\": 300001, \"max_income_fen\": 500000, \"rate_bp\": 100}") > 0);
    CHECK(create(party_rule_create, &staff, "{\"name\": \"5000以上\", \"min_income_fen\": 500001, \"rate_bp\": 150}") > 0);
    CHECK_INT(create(party_rule_create, &staff, "{\"name\": \"x\", \"min_income_fen\": 0}"), NX_EINVAL);
    CHECK_INT(amount_for(250000), 1250);   /* 0.5 % of 2500 yuan */
    CHECK_INT(amount_for(300000), 1500);   /* the band's upper bound is inside it */
    CHECK_INT(amount_for(300001), 3000);   /* 1 % of 3000.01 yuan = 30.0001 → 30.00 */
    CHECK_INT(amount_for(612345), 9185);   /* 1.5 % of 6123.45 = 91.85175 → 91.85 */
    CHECK_INT(amount_for(612367), 9186);   /* 91.85505 → 91.86: half up */
    CHECK_INT(amount_for(0), NX_ENOTFOUND); /* no band covers it */
    CHECK(create(party_rule_create, &staff, "{\"name\": \"无收入\", \"min_income_fen\": 0, \"max_income_fen\": 0, "
                                            "\"fixed_fen\": 20}") > 0);
    CHECK_INT(amount_for(0), 20);

    json_t *in = json_loads("{\"month\": \"2024-05\"}", 0, NULL), *out = NULL;
    nx_err e = {0};
    CHECK_INT(party_dues_open(&app, &mem, in, &out, &e), NX_EPERM);
    CHECK_INT(party_dues_open(&app, &staff, in, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "created")), 3);
    json_decref(out);
    CHECK_INT(party_dues_open(&app, &staff, in, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "created")), 0);
    json_decref(out);
    json_decref(in);
    int64_t dues = q_int("SELECT d.id FROM party_dues d JOIN party_members m ON m.id = d.member_id WHERE m.resident_id = 1");
    CHECK_INT(q_int("SELECT amount_fen FROM party_dues WHERE member_id IN (SELECT id FROM party_members WHERE "
                    "resident_id = 2 AND status = 'active')"),
              9185);
    int64_t pid = 0;
    in = json_loads("{\"amount_fen\": 1249}", 0, NULL);
    CHECK_INT(party_dues_pay(&app, &sec1, dues, in, &pid, &e), NX_EINVAL);
    CHECK_STR(e.field, "amount_fen");
    json_decref(in);
    CHECK_INT(q_int("SELECT COUNT(*) FROM party_dues WHERE status = 'paid'"), 0);
    in = json_loads("{\"amount_fen\": 1250}", 0, NULL);
    CHECK_INT(party_dues_pay(&app, &sec2, dues, in, &pid, &e), NX_ENOTFOUND); /* another branch's secretary */
    CHECK_INT(party_dues_pay(&app, &sec1, dues, in, &pid, &e), 0);
    CHECK_INT(party_dues_pay(&app, &sec1, dues, in, &pid, &e), NX_ECONFLICT);
    json_decref(in);
    CHECK_INT(q_int("SELECT paid_fen FROM party_dues WHERE status = 'paid'"), 1250);
    party_filter f = {.year = "2024"};
    CHECK_INT(party_dues_statement(&app, &staff, &f, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "paid_fen")), 1250);
    CHECK_INT(json_integer_value(json_object_get(out, "due_fen")), 1250 + 9185 + 20);
    json_decref(out);
}

/* Epoch ms of a Shanghai wall time. */
static int64_t local_ms(int y, int m, int d, int h)
{
    return (date_to_days((nx_date){y, m, d}) * 86400LL + h * 3600LL) * 1000LL - NX_TZ_OFFSET_MS;
}

/* Dues reminders: the unpaid months only, from the reminder day on, once per member and month. */
static void test_dues_reminders(void)
{
    nx_err e = {0};
    int n = -1;
    int64_t unpaid = q_int("SELECT COUNT(*) FROM party_dues d JOIN party_members m ON m.id = d.member_id WHERE "
                           "d.month = '2024-05' AND d.status = 'due' AND m.status = 'active' AND d.amount_fen > 0");
    CHECK_INT(unpaid, 2); /* three members opened, one paid (test_dues_rules_and_payment) */
    CHECK_INT(party_tick(&app, local_ms(2024, 5, 10, 9), &n, &e), 0); /* before the 20th: not yet */
    CHECK_INT(n, 0);
    CHECK_INT(party_tick(&app, local_ms(2024, 5, PARTY_DUES_REMIND_DAY, 9), &n, &e), 0);
    CHECK_INT(n, 2);
    CHECK_INT(party_tick(&app, local_ms(2024, 5, 21, 9), &n, &e), 0); /* once per member and month */
    CHECK_INT(n, 0);
    CHECK_INT(party_tick(&app, local_ms(2024, 6, 2, 9), &n, &e), 0);
    CHECK_INT(n, 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'party.dues.reminder'"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM party_dues WHERE reminded_at IS NOT NULL AND status = 'paid'"), 0);
}

static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    TEST_RUN(test_tree_and_secretary_scope);
    TEST_RUN(test_transfer_keeps_history);
    TEST_RUN(test_dues_rules_and_payment);
    TEST_RUN(test_dues_reminders);
    teardown();
    return 0;
}

int main(void)
{
    if (tb_init("nx_test_party") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
