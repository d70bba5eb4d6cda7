/* test_volunteers.c — the volunteers module's rules on a real, migrated store, on SQLite and (with
 * NX_TEST_PG) PostgreSQL.
 *
 * One community with two teams (A and B, each with a leader) and a second community, residents and
 * accounts inserted here. The clock is pinned to instants of 2030 so that the activity windows,
 * check-in codes and session dates are worked out by hand: a sign-up beyond the capacity waits and
 * moves up when a confirmed one cancels; a check-in before the window, with an expired code or for
 * someone else is refused; a check-out before the check-in names "action"; hours count only once
 * approved and sum exactly (90 + 90 − 30 minutes); nobody approves their own hours; a leader
 * cannot manage the other team; the certificate's figures come from the approved ledger; a slot
 * cannot be booked twice; bad input (unknown activity, capacity 0, negative hours) changes nothing; a
 * shift's reminder goes out once per confirmed sign-up, inside the day before it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/volunteers/volunteers.h"
#include "secure/crypto.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"


enum { COMM = 1, COMM2 = 2 };

static const nx_principal staff = {.user_id = 1, .username = "staff", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                   .street_id = 1, .community_id = COMM};
static const nx_principal lead_a = {.user_id = 2, .username = "lead_a", .role = ROLE_VOLUNTEER,
                                    .scope = SCOPE_COMMUNITY, .street_id = 1, .community_id = COMM};
static const nx_principal lead_b = {.user_id = 3, .username = "lead_b", .role = ROLE_VOLUNTEER,
                                    .scope = SCOPE_COMMUNITY, .street_id = 1, .community_id = COMM};
static const nx_principal vol_x = {.user_id = 4, .username = "vol_x", .role = ROLE_VOLUNTEER,
                                   .scope = SCOPE_COMMUNITY, .street_id = 1, .community_id = COMM};
static const nx_principal res1 = {.user_id = 5, .username = "res1", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                                  .community_id = COMM, .resident_id = 1};
static const nx_principal res2 = {.user_id = 6, .username = "res2", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                                  .community_id = COMM, .resident_id = 2};
static const nx_principal staff2 = {.user_id = 7, .username = "staff2", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                    .street_id = 1, .community_id = COMM2};
static const nx_principal staff_vol = {.user_id = 8, .username = "staff_vol", .role = ROLE_STAFF,
                                       .scope = SCOPE_COMMUNITY, .street_id = 1, .community_id = COMM};

static int64_t team_a, team_b, v_lead_a, v_lead_b, v_x, v_staff, act_wait, act_check, signup_x, entry_x;

/* Epoch ms of a Shanghai wall time. */
static int64_t local(int y, int m, int d, int h, int mi)
{
    return (date_to_days((nx_date){y, m, d}) * 86400LL + h * 3600LL + mi * 60LL) * 1000LL - NX_TZ_OFFSET_MS;
}

static int setup(void)
{
    if (tb_app_open("volunteers.db", NULL, "vol"))
        return -1;
    const char *b00 = tb_pg() ? "'\\x00'::bytea" : "X'00'", *b01 = tb_pg() ? "'\\x01'::bytea" : "X'01'",
               *b02 = tb_pg() ? "'\\x02'::bytea" : "X'02'", *b03 = tb_pg() ? "'\\x03'::bytea" : "X'03'";
    char sql[4000];
    snprintf(sql, sizeof sql,
             "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0), (2, 1, '和平社区', 0);"
             "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES (1, 1, '第一网格', 0, 0);"
             "INSERT INTO residents (id, community_id, grid_id, name, name_s, name_pinyin, name_initials, sort_key, "
             "sex, birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES "
             "(1, 1, 1, '周桂兰', '周桂兰', 'zhouguilan', 'zgl', %s, 2, '1944-05-12', %s, %s, '0001', 0, 0),"
             "(2, 1, 1, '吴德厚', '吴德厚', 'wudehou', 'wdh', %s, 1, '1950-01-01', %s, %s, '0002', 0, 0),"
             "(3, 2, NULL, '郑秀珍', '郑秀珍', 'zhengxiuzhen', 'zxz', %s, 2, '1960-08-08', %s, %s, '0003', 0, 0);"
             "INSERT INTO users (id, username, display_name, role, scope, community_id, resident_id, password_hash, "
             "created_at, updated_at) VALUES (1, 'staff', '社工', 'staff', 'community', 1, NULL, 'x', 0, 0),"
             "(2, 'lead_a', '甲队长', 'volunteer', 'community', 1, NULL, 'x', 0, 0),"
             "(3, 'lead_b', '乙队长', 'volunteer', 'community', 1, NULL, 'x', 0, 0),"
             "(4, 'vol_x', '志愿者', 'volunteer', 'community', 1, NULL, 'x', 0, 0),"
             "(5, 'res1', '周桂兰', 'resident', 'self', 1, 1, 'x', 0, 0),"
             "(6, 'res2', '吴德厚', 'resident', 'self', 1, 2, 'x', 0, 0),"
             "(7, 'staff2', '和平社工', 'staff', 'community', 2, NULL, 'x', 0, 0),"
             "(8, 'staff_vol', '社工志愿者', 'staff', 'community', 1, NULL, 'x', 0, 0);",
             b01, b00, b01, b01, b00, b02, b01, b00, b03);
    int rc = exec_w(sql);
    if (rc == 0 && tb_pg())
        rc = exec_w("SELECT setval(pg_get_serial_sequence('streets', 'id'), 2);"
                    "SELECT setval(pg_get_serial_sequence('communities', 'id'), 2);"
                    "SELECT setval(pg_get_serial_sequence('grids', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('residents', 'id'), 3);"
                    "SELECT setval(pg_get_serial_sequence('users', 'id'), 8);");
    return rc;
}

static void teardown(void)
{
    store_close(app.db);
    keys_free(app.keys);
    app.db = NULL;
    app.keys = NULL;
    clock_pin_ms(0);
}

static int64_t create(int (*fn)(nx_app *, const nx_principal *, json_t *, int64_t *, nx_err *), const nx_principal *who,
                      json_t *in, int want)
{
    nx_err e = {0};
    int64_t id = 0;
    int rc = fn(&app, who, in, &id, &e);
    if (rc != want)
        fprintf(stderr, "  create: rc %d (want %d) field=%s msg=%s\n", rc, want, e.field, e.msg);
    CHECK_INT(rc, want);
    json_decref(in);
    return id;
}

static void test_teams_and_leaders(void)
{
    clock_pin_ms(local(2030, 5, 20, 9, 0));
    team_a = create(volunteers_team_create, &staff, json_pack("{s:s}", "name", "邻里守望队"), 0);
    team_b = create(volunteers_team_create, &staff, json_pack("{s:s}", "name", "银龄互助队"), 0);
    create(volunteers_team_create, &staff, json_pack("{s:s}", "name", "邻里守望队"), NX_ECONFLICT);
    create(volunteers_team_create, &vol_x, json_pack("{s:s}", "name", "私设队"), NX_EPERM);
    v_lead_a = create(volunteers_create, &staff,
                      json_pack("{s:s, s:s, s:I, s:I, s:b}", "name", "甲队长", "phone", "13812345678", "team_id",
                                (json_int_t)team_a, "user_id", (json_int_t)2, "is_leader", 1),
                      0);
    v_lead_b = create(volunteers_create, &staff,
                      json_pack("{s:s, s:I, s:I, s:b}", "name", "乙队长", "team_id", (json_int_t)team_b, "user_id",
                                (json_int_t)3, "is_leader", 1),
                      0);
    /* a leader adds a member to their own team, never to the other team, never a leader */
    v_x = create(volunteers_create, &lead_a,
                 json_pack("{s:s, s:s, s:I, s:I, s:s}", "name", "王小明", "phone", "139 0000 1234", "team_id",
                           (json_int_t)team_a, "user_id", (json_int_t)4, "skills", "急救,理发"),
                 0);
    create(volunteers_create, &lead_a, json_pack("{s:s, s:I}", "name", "外队人", "team_id", (json_int_t)team_b),
           NX_EPERM);
    create(volunteers_create, &lead_a,
           json_pack("{s:s, s:I, s:b}", "name", "新队长", "team_id", (json_int_t)team_a, "is_leader", 1), NX_EPERM);
    v_staff = create(volunteers_create, &staff, json_pack("{s:s, s:I}", "name", "社工志愿者", "user_id", (json_int_t)8), 0);
    CHECK(v_lead_a > 0 && v_x > 0 && v_staff > 0);
    /* the phone is encrypted at rest and masked in answers */
    CHECK_INT(q_int("SELECT COUNT(*) FROM volunteers WHERE phone_tail = '1234' AND phone_enc IS NOT NULL"), 1);
    nx_err e = {0};
    json_t *o = NULL;
    CHECK_INT(volunteers_get(&app, &staff, v_x, &o, &e), 0);
    const char *ph = json_string_value(json_object_get(o, "phone"));
    CHECK(ph && strstr(ph, "1234") && !strstr(ph, "13900001234") && strchr(ph, '*'));
    char want[16];
    snprintf(want, sizeof want, "V%06lld", (long long)v_x);
    CHECK_STR(json_string_value(json_object_get(o, "number")), want);
    json_decref(o);
    /* another community's staff does not see it */
    CHECK_INT(volunteers_get(&app, &staff2, v_x, &o, &e), NX_ENOTFOUND);
    /* bad phone names its field */
    nx_err e2 = {0};
    int64_t id;
    json_t *in = json_pack("{s:s, s:s}", "name", "错号", "phone", "12345");
    CHECK_INT(volunteers_create(&app, &staff, in, &id, &e2), NX_EINVAL);
    CHECK_STR(e2.field, "phone");
    json_decref(in);
}

/* An activity of team for who, "2030-06-01" 10:00-12:00 unless told. */
static json_t *activity(const char *title, int64_t team, int capacity)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "title", title, "place", "社区广场", "starts_at",
                     "2030-06-01T10:00", "ends_at", "2030-06-01T12:00", "capacity", capacity, "team_id",
                     (json_int_t)team);
}

static void test_leader_scope_and_bad_input(void)
{
    /* a leader publishes for their own team only */
    create(volunteers_activity_create, &lead_a, activity("乙队的活动", team_b, 5), NX_EPERM);
    int64_t before = q_int("SELECT COUNT(*) FROM volunteer_activities");
    nx_err e = {0};
    int64_t id = 0;
    json_t *in = activity("零人活动", team_a, 0);
    CHECK_INT(volunteers_activity_create(&app, &staff, in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "capacity");
    json_decref(in);
    in = json_pack("{s:s, s:s, s:s, s:s, s:i}", "title", "倒序", "place", "活动室", "starts_at", "2030-06-01T12:00",
                   "ends_at", "2030-06-01T10:00", "capacity", 3);
    CHECK_INT(volunteers_activity_create(&app, &staff, in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "ends_at");
    json_decref(in);
    in = json_pack("{s:s, s:s, s:s, s:s, s:i, s:[{s:s, s:i}, {s:s, s:i}]}", "title", "岗位超额", "place", "活动室",
                   "starts_at", "2030-06-01T10:00", "ends_at", "2030-06-01T11:00", "capacity", 3, "roles", "name", "引导",
                   "places", 2, "name", "后勤", "places", 2);
    CHECK_INT(volunteers_activity_create(&app, &staff, in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "roles");
    json_decref(in);
    CHECK_INT(q_int("SELECT COUNT(*) FROM volunteer_activities"), before);
    /* unknown activity */
    json_t *out = NULL;
    in = json_object();
    CHECK_INT(volunteers_signup(&app, &vol_x, 999999, in, &out, &e), NX_ENOTFOUND);
    json_decref(in);
    in = json_pack("{s:s, s:s}", "action", "in", "code", "000000");
    CHECK_INT(volunteers_check(&app, &vol_x, 999999, in, &out, &e), NX_ENOTFOUND);
    json_decref(in);
    /* a recurring activity: four weekly occurrences of one series */
    in = json_pack("{s:s, s:s, s:s, s:s, s:i, s:{s:s, s:i}}", "title", "周末清扫", "place", "小区", "starts_at",
                   "2030-06-02T08:00", "ends_at", "2030-06-02T10:00", "capacity", 10, "repeat", "every", "week", "count",
                   4);
    int64_t first = create(volunteers_activity_create, &staff, in, 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM volunteer_activities WHERE series_id = %lld", (long long)first);
    CHECK_INT(q_int(sql), 4);
    snprintf(sql, sizeof sql, "SELECT MAX(starts_at) - MIN(starts_at) FROM volunteer_activities WHERE series_id = %lld",
             (long long)first);
    CHECK_INT(q_int(sql), 21LL * 86400000);
}

static json_t *signup_as(const nx_principal *who, int64_t act, json_t *in, int want)
{
    nx_err e = {0};
    json_t *out = NULL;
    if (in == NULL)
        in = json_object(); /* an empty body, freed below like a given one */
    int rc = volunteers_signup(&app, who, act, in, &out, &e);
    if (rc != want)
        fprintf(stderr, "  signup: rc %d (want %d) field=%s msg=%s\n", rc, want, e.field, e.msg);
    CHECK_INT(rc, want);
    if (in)
        json_decref(in);
    return out;
}

static const char *status_of(json_t *o)
{
    return json_string_value(json_object_get(o, "status"));
}

static void test_waiting_list(void)
{
    act_wait = create(volunteers_activity_create, &lead_a, activity("敬老院探访", team_a, 2), 0);
    json_t *s1 = signup_as(&vol_x, act_wait, NULL, 0);
    json_t *s2 = signup_as(&lead_b, act_wait, NULL, 0);
    json_t *s3 = signup_as(&res1, act_wait, NULL, 0); /* a resident without a record gets one */
    CHECK_STR(status_of(s1), "confirmed");
    CHECK_STR(status_of(s2), "confirmed");
    CHECK_STR(status_of(s3), "waiting");
    CHECK_INT(json_integer_value(json_object_get(s3, "position")), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM volunteers WHERE resident_id = 1"), 1);
    json_decref(signup_as(&vol_x, act_wait, NULL, NX_ECONFLICT)); /* twice */
    /* only the organiser adds others */
    json_decref(signup_as(&vol_x, act_wait, json_pack("{s:s}", "placeholder", "临时帮手"), NX_EPERM));
    json_t *s4 = signup_as(&lead_a, act_wait, json_pack("{s:s}", "placeholder", "临时帮手"), 0);
    CHECK_STR(status_of(s4), "waiting");
    /* another resident cannot cancel vol_x's sign-up */
    nx_err e = {0};
    int64_t id1 = json_integer_value(json_object_get(s1, "id"));
    CHECK(volunteers_signup_cancel(&app, &res2, id1, NULL, &e) != 0);
    /* vol_x cancels: the first waiting (the resident) moves up, the placeholder still waits */
    CHECK_INT(volunteers_signup_cancel(&app, &vol_x, id1, NULL, &e), 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM volunteer_signups WHERE id = %lld AND status = 'confirmed'",
             (long long)json_integer_value(json_object_get(s3, "id")));
    CHECK_INT(q_int(sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM volunteer_signups WHERE id = %lld AND status = 'waiting'",
             (long long)json_integer_value(json_object_get(s4, "id")));
    CHECK_INT(q_int(sql), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'volunteers.signup.promoted'"), 1);
    CHECK_INT(volunteers_signup_cancel(&app, &vol_x, id1, NULL, &e), NX_ECONFLICT);
    /* vol_x signs up again: the activity is full, so they wait behind the placeholder */
    json_t *s5 = signup_as(&vol_x, act_wait, NULL, 0);
    CHECK_STR(status_of(s5), "waiting");
    CHECK_INT(json_integer_value(json_object_get(s5, "position")), 2);
    /* after the deadline (the start) a volunteer cannot sign up */
    clock_pin_ms(local(2030, 6, 1, 10, 1));
    json_decref(signup_as(&res2, act_wait, NULL, NX_ECONFLICT));
    clock_pin_ms(local(2030, 5, 20, 9, 0));
    json_decref(s1);
    json_decref(s2);
    json_decref(s3);
    json_decref(s4);
    json_decref(s5);
}

static int check_as(const nx_principal *who, int64_t act, json_t *in, const char *want_field)
{
    nx_err e = {0};
    json_t *out = NULL;
    int rc = volunteers_check(&app, who, act, in, &out, &e);
    json_decref(in);
    json_decref(out);
    if (want_field)
        CHECK_STR(e.field, want_field);
    return rc;
}

static void test_check_in(void)
{
    act_check = create(volunteers_activity_create, &lead_a, activity("义诊引导", team_a, 5), 0);
    json_t *sx = signup_as(&vol_x, act_check, NULL, 0);
    signup_x = json_integer_value(json_object_get(sx, "id"));
    json_decref(sx);
    json_decref(signup_as(&lead_b, act_check, NULL, 0));
    json_decref(signup_as(&staff_vol, act_check, json_pack("{s:I}", "volunteer_id", (json_int_t)v_staff), 0));
    char code[7];
    /* 08:00: before the window (opens 09:30) */
    int64_t t = local(2030, 6, 1, 8, 0);
    clock_pin_ms(t);
    volunteers_code_for(app.keys, act_check, t / 1000 / VOLUNTEERS_CODE_WINDOW_S, code);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s}", "action", "in", "code", code), "action"),
              NX_ECONFLICT);
    /* 10:05: a code of three windows ago is expired, the current one works */
    t = local(2030, 6, 1, 10, 5);
    clock_pin_ms(t);
    volunteers_code_for(app.keys, act_check, t / 1000 / VOLUNTEERS_CODE_WINDOW_S - 3, code);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s}", "action", "in", "code", code), "code"), NX_EINVAL);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s}", "action", "in", "code", "12345x"), "code"), NX_EINVAL);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s}", "action", "in"), "code"), NX_EINVAL);
    /* the code of the window before still counts (a scan across the boundary) */
    volunteers_code_for(app.keys, act_check, t / 1000 / VOLUNTEERS_CODE_WINDOW_S - 1, code);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s}", "action", "in", "code", code), NULL), 0);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s}", "action", "in", "code", code), "action"),
              NX_ECONFLICT);
    /* no check-in for someone else: lead_b's sign-up by vol_x */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT id FROM volunteer_signups WHERE activity_id = %lld AND volunteer_id = %lld",
             (long long)act_check, (long long)v_lead_b);
    int64_t sb = q_int(sql);
    volunteers_code_for(app.keys, act_check, t / 1000 / VOLUNTEERS_CODE_WINDOW_S, code);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s, s:I}", "action", "in", "code", code, "signup_id",
                                                    (json_int_t)sb),
                       "signup_id"),
              NX_EPERM);
    /* check-out before check-in */
    CHECK_INT(check_as(&lead_b, act_check, json_pack("{s:s, s:s}", "action", "out", "code", code), "action"), NX_EINVAL);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM volunteer_signups WHERE id = %lld AND check_out_at IS NULL",
             (long long)sb);
    CHECK_INT(q_int(sql), 1);
    /* the organiser (lead_a) checks staff_vol in by scanning them, no code */
    snprintf(sql, sizeof sql, "SELECT id FROM volunteer_signups WHERE activity_id = %lld AND volunteer_id = %lld",
             (long long)act_check, (long long)v_staff);
    int64_t ss = q_int(sql);
    CHECK_INT(check_as(&lead_a, act_check, json_pack("{s:s, s:I}", "action", "in", "signup_id", (json_int_t)ss), NULL), 0);
    /* 11:35: vol_x checks out: 90 minutes, pending */
    t = local(2030, 6, 1, 11, 35);
    clock_pin_ms(t);
    volunteers_code_for(app.keys, act_check, t / 1000 / VOLUNTEERS_CODE_WINDOW_S, code);
    CHECK_INT(check_as(&vol_x, act_check, json_pack("{s:s, s:s}", "action", "out", "code", code), NULL), 0);
    snprintf(sql, sizeof sql, "SELECT id FROM volunteer_hours WHERE signup_id = %lld AND minutes = 90 AND status = "
             "'pending' AND kind = 'attendance'", (long long)signup_x);
    entry_x = q_int(sql);
    CHECK(entry_x > 0);
    /* staff_vol checked out by the organiser at 12:00 (inside the activity: 115 minutes) */
    t = local(2030, 6, 1, 12, 20);
    clock_pin_ms(t);
    CHECK_INT(check_as(&lead_a, act_check, json_pack("{s:s, s:I}", "action", "out", "signup_id", (json_int_t)ss), NULL), 0);
    snprintf(sql, sizeof sql, "SELECT minutes FROM volunteer_hours WHERE signup_id = %lld", (long long)ss);
    CHECK_INT(q_int(sql), 115);
    /* 12:31: after the window closes, even with the current code */
    t = local(2030, 6, 1, 12, 31);
    clock_pin_ms(t);
    volunteers_code_for(app.keys, act_check, t / 1000 / VOLUNTEERS_CODE_WINDOW_S, code);
    CHECK_INT(check_as(&lead_b, act_check, json_pack("{s:s, s:s}", "action", "in", "code", code), "action"),
              NX_ECONFLICT);
}

static int64_t approved_minutes(int64_t vid)
{
    nx_err e = {0};
    store_tx *tx;
    json_t *o = NULL;
    int64_t m = -1;
    if (store_begin(app.db, STORE_READ, &tx, &e) == 0) {
        if (volunteers_hours_of(tx, vid, 0, &o, &e) == 0)
            m = json_integer_value(json_object_get(o, "minutes"));
        store_rollback(tx);
    }
    json_decref(o);
    return m;
}

static void test_hours_ledger(void)
{
    nx_err e = {0};
    /* hours count only once approved */
    CHECK_INT(approved_minutes(v_x), 0);
    /* nobody approves their own hours: staff_vol's entry by staff_vol */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT id FROM volunteer_hours WHERE volunteer_id = %lld", (long long)v_staff);
    int64_t entry_staff = q_int(sql);
    CHECK_INT(volunteers_hours_approve(&app, &staff_vol, entry_staff, NULL, &e), NX_EPERM);
    /* vol_x neither; lead_b leads the other team and did not organise it */
    CHECK_INT(volunteers_hours_approve(&app, &vol_x, entry_x, NULL, &e), NX_EPERM);
    CHECK_INT(volunteers_hours_approve(&app, &lead_b, entry_x, NULL, &e), NX_EPERM);
    CHECK_INT(approved_minutes(v_x), 0);
    /* the organiser (lead_a) approves */
    CHECK_INT(volunteers_hours_approve(&app, &lead_a, entry_x, NULL, &e), 0);
    CHECK_INT(volunteers_hours_approve(&app, &lead_a, entry_x, NULL, &e), NX_ECONFLICT);
    CHECK_INT(approved_minutes(v_x), 90);
    CHECK_INT(volunteers_hours_approve(&app, &staff, entry_staff, NULL, &e), 0);
    CHECK_INT(approved_minutes(v_staff), 115);
    /* a manual entry of 1.5 hours, then approved: 180 exactly */
    int64_t manual = create(volunteers_hours_add, &staff,
                            json_pack("{s:I, s:f, s:s, s:s}", "volunteer_id", (json_int_t)v_x, "hours", 1.5, "served_on",
                                      "2030-06-03", "reason", "社区宣传补录"),
                            0);
    CHECK_INT(approved_minutes(v_x), 90);
    CHECK_INT(volunteers_hours_approve(&app, &staff, manual, NULL, &e), 0);
    CHECK_INT(approved_minutes(v_x), 180);
    /* nobody records hours for themselves; negative hours are refused, nothing changes */
    int64_t rows = q_int("SELECT COUNT(*) FROM volunteer_hours");
    create(volunteers_hours_add, &lead_a,
           json_pack("{s:I, s:i, s:s, s:s}", "volunteer_id", (json_int_t)v_lead_a, "hours", 2, "served_on", "2030-06-03",
                     "reason", "自己"),
           NX_EPERM);
    int64_t id;
    json_t *in = json_pack("{s:I, s:i, s:s, s:s}", "volunteer_id", (json_int_t)v_x, "hours", -2, "served_on",
                           "2030-06-03", "reason", "负数");
    CHECK_INT(volunteers_hours_add(&app, &staff, in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "hours");
    json_decref(in);
    /* a leader of the other team cannot record for team A's volunteer */
    create(volunteers_hours_add, &lead_b,
           json_pack("{s:I, s:i, s:s, s:s}", "volunteer_id", (json_int_t)v_x, "hours", 1, "served_on", "2030-06-03",
                     "reason", "外队"),
           NX_EPERM);
    CHECK_INT(q_int("SELECT COUNT(*) FROM volunteer_hours"), rows);
    /* a correction: the attendance was one hour, not 90 minutes — a new entry of -30 */
    int64_t corr = create(volunteers_hours_add, &staff,
                          json_pack("{s:I, s:i, s:s}", "corrects_id", (json_int_t)entry_x, "hours", 1, "reason",
                                    "提前离场，按实际更正"),
                          0);
    snprintf(sql, sizeof sql, "SELECT minutes FROM volunteer_hours WHERE id = %lld", (long long)corr);
    CHECK_INT(q_int(sql), -30);
    snprintf(sql, sizeof sql, "SELECT minutes FROM volunteer_hours WHERE id = %lld", (long long)entry_x);
    CHECK_INT(q_int(sql), 90); /* never edited */
    CHECK_INT(volunteers_hours_approve(&app, &staff, corr, NULL, &e), 0);
    CHECK_INT(approved_minutes(v_x), 150);
    /* the certificate's figures: per project, from the approved ledger */
    store_tx *tx;
    json_t *o = NULL;
    CHECK_INT(store_begin(app.db, STORE_READ, &tx, &e), 0);
    CHECK_INT(volunteers_hours_of(tx, v_x, 0, &o, &e), 0);
    store_rollback(tx);
    CHECK_INT(json_integer_value(json_object_get(o, "minutes")), 150);
    CHECK_INT(json_array_size(json_object_get(o, "projects")), 2);
    json_t *p0 = json_array_get(json_object_get(o, "projects"), 0);
    CHECK_STR(json_string_value(json_object_get(p0, "title")), "其他志愿服务");
    CHECK_INT(json_integer_value(json_object_get(p0, "minutes")), 90);
    json_decref(o);
    /* the honour list of June 2030 */
    CHECK_INT(volunteers_honour(&app, &staff, "2030-06", 0, &o, &e), 0);
    json_t *first = json_array_get(json_object_get(o, "items"), 0);
    CHECK_INT(json_integer_value(json_object_get(first, "volunteer_id")), v_x);
    CHECK_INT(json_integer_value(json_object_get(first, "minutes")), 150);
    json_decref(o);
    CHECK_INT(volunteers_honour(&app, &staff, "2030-13", 0, &o, &e), NX_EINVAL);
    CHECK_STR(e.field, "period");
    /* export */
    char path[512];
    snprintf(path, sizeof path, "%s/hours-%s.xlsx", tb_dir, tb_backend());
    CHECK_INT(volunteers_hours_export(&app, &staff, "2030", path, &rows, &e), 0);
    CHECK_INT(rows, 3);
    CHECK(access(path, F_OK) == 0);
}

static void test_partner_bookings(void)
{
    clock_pin_ms(local(2030, 5, 20, 9, 0));
    int64_t partner = create(volunteers_partner_create, &staff,
                             json_pack("{s:s, s:s, s:s, s:s}", "name", "市第一医院", "kind", "hospital", "contact_name",
                                       "李医生", "phone", "0531-86123456"),
                             0);
    create(volunteers_partner_create, &vol_x, json_pack("{s:s, s:s}", "name", "偷建", "kind", "other"), NX_EPERM);
    int64_t svc = create(volunteers_service_create, &staff,
                         json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i}", "partner_id",
                                   (json_int_t)partner, "title", "健康义诊", "kind", "clinic", "place", "社区卫生室",
                                   "first_date", "2030-06-01", "start_time", "09:00", "end_time", "11:00", "slot_minutes",
                                   15, "repeat", "nth_weekday", "nth", 2, "weekday", 6, "count", 3),
                         0);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM partner_sessions WHERE service_id = %lld", (long long)svc);
    CHECK_INT(q_int(sql), 3);
    /* the second Saturdays: 2030-06-08, 07-13, 08-10 at 09:00 */
    snprintf(sql, sizeof sql, "SELECT MIN(starts_at) FROM partner_sessions WHERE service_id = %lld", (long long)svc);
    CHECK_INT(q_int(sql), local(2030, 6, 8, 9, 0));
    snprintf(sql, sizeof sql, "SELECT MAX(starts_at) FROM partner_sessions WHERE service_id = %lld", (long long)svc);
    CHECK_INT(q_int(sql), local(2030, 8, 10, 9, 0));
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM partner_slots sl JOIN partner_sessions ss ON ss.id = sl.session_id "
             "WHERE ss.service_id = %lld", (long long)svc);
    CHECK_INT(q_int(sql), 24);
    snprintf(sql, sizeof sql, "SELECT MIN(id) FROM partner_sessions WHERE service_id = %lld", (long long)svc);
    int64_t session = q_int(sql);
    snprintf(sql, sizeof sql, "SELECT MIN(id) FROM partner_slots WHERE session_id = %lld", (long long)session);
    int64_t slot = q_int(sql);
    nx_err e = {0};
    json_t *out = NULL, *in = json_pack("{s:I}", "slot_id", (json_int_t)slot);
    CHECK_INT(volunteers_booking_create(&app, &res1, session, in, &out, &e), 0);
    int64_t b1 = json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    /* the same slot again, by another resident and by staff for a third: refused by the constraint */
    CHECK_INT(volunteers_booking_create(&app, &res2, session, in, &out, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "slot_id");
    json_decref(in);
    CHECK_INT(q_int("SELECT COUNT(*) FROM partner_bookings"), 1);
    /* a resident books only for themselves */
    in = json_pack("{s:I, s:i}", "slot_id", (json_int_t)slot + 1, "resident_id", 1);
    CHECK_INT(volunteers_booking_create(&app, &res2, session, in, &out, &e), NX_EPERM);
    json_decref(in);
    /* staff book for an elder; another community's resident is refused */
    in = json_pack("{s:I, s:i}", "slot_id", (json_int_t)slot + 1, "resident_id", 3);
    CHECK_INT(volunteers_booking_create(&app, &staff, session, in, &out, &e), NX_EINVAL);
    CHECK_STR(e.field, "resident_id");
    json_decref(in);
    /* cancelled, the slot is free again */
    in = json_pack("{s:s}", "status", "cancelled");
    CHECK_INT(volunteers_booking_update(&app, &res2, b1, in, &e), NX_ENOTFOUND);
    CHECK_INT(volunteers_booking_update(&app, &res1, b1, in, &e), 0);
    json_decref(in);
    in = json_pack("{s:I}", "slot_id", (json_int_t)slot);
    CHECK_INT(volunteers_booking_create(&app, &res2, session, in, &out, &e), 0);
    json_decref(out);
    json_decref(in);
    /* a session that is over cannot be booked */
    clock_pin_ms(local(2030, 6, 8, 12, 0));
    in = json_pack("{s:I}", "slot_id", (json_int_t)slot + 2);
    CHECK_INT(volunteers_booking_create(&app, &res1, session, in, &out, &e), NX_ECONFLICT);
    json_decref(in);
    clock_pin_ms(local(2030, 5, 20, 9, 0));
    /* a session's slots show which are booked, and whose for the resident */
    json_t *o = NULL;
    CHECK_INT(volunteers_session_get(&app, &res2, session, &o, &e), 0);
    json_t *s0 = json_array_get(json_object_get(o, "slots"), 0);
    CHECK(json_is_true(json_object_get(s0, "booked")) && json_is_true(json_object_get(s0, "mine")));
    CHECK(json_object_get(s0, "resident_name") == NULL);
    json_decref(o);
    CHECK_INT(volunteers_session_get(&app, &staff2, session, &o, &e), NX_ENOTFOUND);
}

/* Shift reminders: one event per confirmed sign-up, once, inside the day before the start; waiting
 * and placeholder sign-ups are not reminded; a sign-up promoted later is reminded at the next tick. */
static void test_reminders(void)
{
    clock_pin_ms(local(2030, 7, 1, 9, 0));
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:i}", "title", "早间送餐", "place", "长者食堂", "starts_at",
                           "2030-07-10T09:00", "ends_at", "2030-07-10T11:00", "capacity", 1);
    int64_t act = create(volunteers_activity_create, &staff, in, 0);
    json_t *sx = signup_as(&vol_x, act, NULL, 0);
    json_t *sb = signup_as(&lead_b, act, NULL, 0);
    json_t *sp = signup_as(&staff, act, json_pack("{s:s}", "placeholder", "临时帮手"), 0);
    CHECK_STR(status_of(sb), "waiting");
    nx_err e = {0};
    int n = -1;
    int64_t before = q_int("SELECT COUNT(*) FROM events WHERE kind = 'volunteers.signup.reminder'");
    CHECK_INT(volunteers_tick(&app, local(2030, 7, 8, 9, 0), &n, &e), 0); /* two days before: not yet */
    CHECK_INT(n, 0);
    CHECK_INT(volunteers_tick(&app, local(2030, 7, 9, 10, 0), &n, &e), 0); /* 23 hours before */
    CHECK_INT(n, 1);
    CHECK_INT(volunteers_tick(&app, local(2030, 7, 9, 10, 5), &n, &e), 0); /* once only */
    CHECK_INT(n, 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'volunteers.signup.reminder'"), before + 1);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM volunteer_signups WHERE activity_id = %lld AND reminded_at IS NOT NULL AND "
             "volunteer_id = %lld",
             (long long)act, (long long)v_x);
    CHECK_INT(q_int(sql), 1);
    /* vol_x cancels: lead_b moves up and is reminded at the next tick; the placeholder never */
    clock_pin_ms(local(2030, 7, 9, 11, 0));
    CHECK_INT(volunteers_signup_cancel(&app, &vol_x, json_integer_value(json_object_get(sx, "id")), NULL, &e), 0);
    CHECK_INT(volunteers_tick(&app, local(2030, 7, 9, 11, 1), &n, &e), 0);
    CHECK_INT(n, 1);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM events WHERE kind = 'volunteers.signup.reminder' AND subject = 'volunteer_signup:%lld'",
             (long long)json_integer_value(json_object_get(sb, "id")));
    CHECK_INT(q_int(sql), 1);
    CHECK_INT(volunteers_tick(&app, local(2030, 7, 10, 9, 30), &n, &e), 0); /* started: nothing more */
    CHECK_INT(n, 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'volunteers.signup.reminder'"), before + 2);
    clock_pin_ms(local(2030, 5, 20, 9, 0));
    json_decref(sx);
    json_decref(sb);
    json_decref(sp);
}

static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    TEST_RUN(test_teams_and_leaders);
    TEST_RUN(test_leader_scope_and_bad_input);
    TEST_RUN(test_waiting_list);
    TEST_RUN(test_check_in);
    TEST_RUN(test_hours_ledger);
    TEST_RUN(test_partner_bookings);
    TEST_RUN(test_reminders);
    teardown();
    return 0;
}

int main(void)
{
    if (crypto_init(NULL) != 0)
        return 1;
    if (tb_init("nx_test_volunteers") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
