/* test_courses.c — the rules of courses on both backends (tests/unit/backends.h): the lottery run
 * twice on two fresh databases with the same applicants and the same seed gives the same order and the
 * same winners, a different seed another order; the keys are SHA-256 of "<seed>:<resident_id>"
 * (a known vector); the newcomer quota seats a newcomer even when the best keys belong to people seated
 * before; first come first served beyond the capacity waits, and a withdrawal promotes the first
 * waiter; a capacity of 0 is refused naming the field, nothing written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/courses/courses.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"

static const nx_principal staff = {.user_id = 1, .username = "staff", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                   .street_id = 1, .community_id = 1};

/* A fresh database with community 1, eight elders (ids 1..8) and the staff account. */
static int open_db(const char *name)
{
    if (tb_app_open(name, NULL, NULL))
        return -1;
    char sql[4096];
    int n = snprintf(sql, sizeof sql,
                     "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
                     "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
                     "INSERT INTO users (id, username, display_name, role, scope, community_id, password_hash, "
                     "created_at, updated_at) VALUES (1, 'staff', '社区', 'staff', 'community', 1, 'x', 0, 0);");
    for (int i = 1; i <= 8; i++) {
        char blob[32];
        snprintf(blob, sizeof blob, tb_pg() ? "'\\x0%d'::bytea" : "X'0%d'", i);
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, sex, "
                      "birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES (%d, 1, '老人', '老人', "
                      "'laoren', 'lr', %s, 1, '1950-0%d-01', %s, %s, '000%d', 0, 0);",
                      i, blob, i, blob, blob, i);
    }
    return exec_w(sql);
}

static int64_t make_course(int capacity, bool lottery, int quota)
{
    json_t *in = json_pack("{s:s, s:s, s:i, s:s, s:i}", "title", lottery ? "太极拳" : "手机课", "teacher_name", "王老师",
                           "capacity", capacity, "mode", lottery ? "lottery" : "fcfs", "newcomer_quota", quota);
    if (lottery)
        json_object_set_new(in, "prereg_until", json_string("2099-12-31"));
    int64_t id = 0;
    nx_err e = {0};
    if (courses_create(&app, &staff, in, &id, &e))
        fprintf(stderr, "course: %s %s\n", e.field, e.msg);
    json_decref(in);
    return id;
}

static const char *enrol(int64_t course, int64_t resident, int64_t *id)
{
    static char status[16];
    json_t *in = json_pack("{s:I}", "resident_id", (json_int_t)resident), *out = NULL;
    nx_err e = {0};
    status[0] = '\0';
    if (courses_enrol(&app, &staff, course, in, &out, &e) == 0) {
        snprintf(status, sizeof status, "%s", json_string_value(json_object_get(out, "status")));
        if (id)
            *id = json_integer_value(json_object_get(out, "id"));
    }
    json_decref(in);
    json_decref(out);
    return status;
}

/* One lottery on a fresh database: residents 1..3 were seated in an earlier course; 1..8 apply to a
 * course of 3 seats with 1 newcomer seat. Writes the ranked residents and their statuses. */
static int draw(const char *dbname, const char *seed, char *result, size_t cap)
{
    if (open_db(dbname))
        return -1;
    int64_t before = make_course(8, false, 0), c = make_course(3, true, 1);
    for (int r = 1; r <= 3; r++)
        enrol(before, r, NULL);
    for (int r = 1; r <= 8; r++)
        CHECK_STR(enrol(c, r, NULL), "applied");
    json_t *out = NULL;
    nx_err e = {0};
    int rc = courses_lottery(&app, &staff, c, seed, &out, &e);
    CHECK_INT(rc, 0);
    size_t n = 0, newcomers = 0, seats = 0;
    json_t *order = json_object_get(out, "order"), *x;
    size_t i;
    result[0] = '\0';
    json_array_foreach(order, i, x)
    {
        bool won = strcmp(json_string_value(json_object_get(x, "status")), "enrolled") == 0;
        n += (size_t)snprintf(result + n, cap - n, "%lld%s ", (long long)json_integer_value(json_object_get(x, "resident_id")),
                              won ? "*" : "");
        seats += won;
        newcomers += won && json_is_true(json_object_get(x, "newcomer"));
    }
    CHECK_INT(seats, 3);
    CHECK(newcomers >= 1);
    CHECK_INT(q_int("SELECT enrolled FROM courses WHERE id = 2"), 3);
    CHECK_INT(courses_lottery(&app, &staff, c, seed, &out, &e), NX_ECONFLICT);
    json_decref(out);
    store_close(app.db);
    app.db = NULL;
    return rc;
}

static void test_lottery_reproducible(void)
{
    char a[256], b[256], c[256];
    CHECK_INT(draw("lot_a.db", "autumn-2026", a, sizeof a), 0);
    CHECK_INT(draw("lot_b.db", "autumn-2026", b, sizeof b), 0);
    CHECK_INT(draw("lot_c.db", "spring-2027", c, sizeof c), 0);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    /* sha256("abc:1"), computed with sha256sum */
    char key[65];
    courses_lottery_key("abc", 1, key);
    CHECK_STR(key, "bfcf0b9cbe9d8208b2cddd9a01c31a9a60698a106a0e4fc1664233a15f16acec");
}

/* The quota at work: find a seed whose three best keys are residents 1..3 (seated before); then the
 * draw still seats one newcomer. */
static void test_newcomer_quota(void)
{
    char seed[32];
    for (int s = 0; s < 200000; s++) {
        snprintf(seed, sizeof seed, "q%d", s);
        char k[9][65];
        for (int r = 1; r <= 8; r++)
            courses_lottery_key(seed, r, k[r]);
        int better = 0; /* how many newcomers (4..8) beat the third best of 1..3 */
        const char *worst = k[1];
        for (int r = 2; r <= 3; r++)
            if (strcmp(k[r], worst) > 0)
                worst = k[r];
        for (int r = 4; r <= 8; r++)
            better += strcmp(k[r], worst) < 0;
        if (better == 0)
            break;
    }
    char result[256];
    CHECK_INT(draw("lot_q.db", seed, result, sizeof result), 0);
    /* ranks 1..3 are residents 1..3; only two of them are seated, plus the best newcomer (rank 4) */
    int starred = 0;
    const char *p = result;
    for (int i = 0; i < 4; i++) {
        const char *sp = strchr(p, ' ');
        if (!sp)
            break;
        starred += sp[-1] == '*';
        p = sp + 1;
    }
    CHECK_INT(starred, 3);
    CHECK(strchr(result, '*') != NULL);
    fprintf(stderr, "quota draw with seed %s: %s\n", seed, result);
}

static void test_waiting_list(void)
{
    CHECK_INT(open_db("fcfs.db"), 0);
    json_t *bad = json_pack("{s:s, s:s, s:i}", "title", "书法", "teacher_name", "李老师", "capacity", 0);
    int64_t id = 0;
    nx_err e = {0};
    CHECK_INT(courses_create(&app, &staff, bad, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "capacity");
    json_decref(bad);
    CHECK_INT(q_int("SELECT COUNT(*) FROM courses"), 0);
    int64_t c = make_course(2, false, 0), first = 0;
    CHECK_STR(enrol(c, 1, &first), "enrolled");
    CHECK_STR(enrol(c, 2, NULL), "enrolled");
    CHECK_STR(enrol(c, 3, NULL), "waiting");
    CHECK_STR(enrol(c, 4, NULL), "waiting");
    CHECK_INT(courses_withdraw(&app, &staff, first, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM course_enrolments WHERE resident_id = 3 AND status = 'enrolled'"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM course_enrolments WHERE resident_id = 4 AND status = 'waiting'"), 1);
    CHECK_INT(q_int("SELECT enrolled FROM courses"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'courses.enrolment.promoted'"), 1);
    store_close(app.db);
    app.db = NULL;
}

static int run_store_tests(void)
{
    TEST_RUN(test_lottery_reproducible);
    TEST_RUN(test_newcomer_quota);
    TEST_RUN(test_waiting_list);
    return 0;
}

int main(void)
{
    if (tb_init("nx_test_courses") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
