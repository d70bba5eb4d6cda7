/* test_visits.c — the visit scheduler and the 遇事必访 handlers on a real, migrated SQLite store.
 *
 * Periods are checked against dates worked out by hand: calendar months across December/January
 * and February in leap and common years, quarters, Monday-Sunday weeks across a year end and
 * fortnights aligned to Monday 1970-01-05. The Shanghai day of an instant is checked on both sides
 * of 16:00 UTC. visits_schedule runs with pinned instants: one task per (file, period), created on
 * the right side of midnight +08:00, due on the period's last day (2028-02-29 in a leap year),
 * overdue the day after and escalated only after the policy's days; running again creates nothing.
 * Finally the real dispatcher delivers a devices.alert.resolved event, then delivers it again after its
 * cursor is rewound, and exactly one follow-up task exists. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/devices/devices.h"
#include "modules/visits/visits.h"
#include "notify/dispatcher.h"
#include "notify/outbox.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"

static nx_date D(int y, int m, int d)
{
    return (nx_date){y, m, d};
}

static void check_period(const char *unit, int count, nx_date day, const char *start, const char *end)
{
    nx_date s, e;
    char a[11], b[11];
    CHECK_INT(visits_period_of(unit, count, day, &s, &e), 0);
    date_format(s, a);
    date_format(e, b);
    CHECK_STR(a, start);
    CHECK_STR(b, end);
}

static void test_periods(void)
{
    check_period("month", 1, D(2026, 1, 31), "2026-01-01", "2026-01-31");
    check_period("month", 1, D(2025, 12, 31), "2025-12-01", "2025-12-31");
    check_period("month", 1, D(2026, 2, 1), "2026-02-01", "2026-02-28");
    check_period("month", 1, D(2028, 2, 15), "2028-02-01", "2028-02-29");
    check_period("month", 1, D(2000, 2, 29), "2000-02-01", "2000-02-29");
    check_period("month", 1, D(2100, 2, 10), "2100-02-01", "2100-02-28");
    check_period("month", 3, D(2026, 5, 20), "2026-04-01", "2026-06-30");
    check_period("month", 3, D(2026, 12, 31), "2026-10-01", "2026-12-31");
    check_period("month", 2, D(1969, 12, 5), "1969-11-01", "1969-12-31");
    /* 2026-01-01 is a Thursday: its week runs Monday 2025-12-29 to Sunday 2026-01-04 */
    check_period("week", 1, D(2026, 1, 1), "2025-12-29", "2026-01-04");
    check_period("week", 1, D(2026, 1, 4), "2025-12-29", "2026-01-04");
    check_period("week", 1, D(2026, 1, 5), "2026-01-05", "2026-01-11");
    check_period("week", 1, D(2028, 2, 29), "2028-02-28", "2028-03-05");
    /* fortnights from Monday 1970-01-05: 2026-01-05 is 20454 days later = 1461 fortnights exactly */
    check_period("week", 2, D(2026, 1, 5), "2026-01-05", "2026-01-18");
    check_period("week", 2, D(2026, 1, 18), "2026-01-05", "2026-01-18");
    check_period("week", 2, D(2026, 1, 19), "2026-01-19", "2026-02-01");
    check_period("week", 2, D(2026, 1, 4), "2025-12-22", "2026-01-04");
    nx_date s, e;
    CHECK_INT(visits_period_of("day", 1, D(2026, 1, 1), &s, &e), NX_EINVAL);
    CHECK_INT(visits_period_of("month", 0, D(2026, 1, 1), &s, &e), NX_EINVAL);
    CHECK_INT(visits_period_of("week", 13, D(2026, 1, 1), &s, &e), NX_EINVAL);
}

/* Epoch ms of a UTC wall time. */
static int64_t utc(int y, int m, int d, int h, int mi)
{
    return (date_to_days(D(y, m, d)) * 86400LL + h * 3600LL + mi * 60LL) * 1000LL;
}

static void test_local_date(void)
{
    char b[11];
    date_format(visits_local_date(utc(2026, 1, 31, 15, 59) + 59999), b);
    CHECK_STR(b, "2026-01-31");
    date_format(visits_local_date(utc(2026, 1, 31, 16, 0)), b);
    CHECK_STR(b, "2026-02-01");
    date_format(visits_local_date(utc(2028, 2, 28, 16, 0)), b);
    CHECK_STR(b, "2028-02-29");
    date_format(visits_local_date(utc(1969, 12, 31, 15, 0)), b);
    CHECK_STR(b, "1969-12-31");
    date_format(visits_local_date(utc(1969, 12, 31, 16, 0)), b);
    CHECK_STR(b, "1970-01-01");
}

static int setup(void)
{
    if (tb_app_open("visits.db", NULL, NULL))
        return -1;
    return exec_w("INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
                  "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
                  "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES (1, 1, '第一网格', 0, 0);"
                  "INSERT INTO residents (id, community_id, grid_id, name, name_s, name_pinyin, name_initials, sort_key, "
                  "sex, birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES "
                  "(1, 1, 1, '周桂兰', '周桂兰', 'zhouguilan', 'zgl', X'01', 2, '1934-05-12', X'00', X'01', '0000', 0, 0),"
                  "(2, 1, 1, '吴德厚', '吴德厚', 'wudehou', 'wdh', X'02', 1, '1932-01-01', X'00', X'02', '0001', 0, 0),"
                  "(3, 1, 1, '郑秀珍', '郑秀珍', 'zhengxiuzhen', 'zxz', X'03', 2, '1940-08-08', X'00', X'03', '0002', 0, 0);"
                  "INSERT INTO users (id, username, display_name, role, scope, community_id, grid_id, password_hash, "
                  "created_at, updated_at) VALUES (1, 'wg1', '李网格', 'grid', 'grid', 1, 1, 'x', 0, 0);"
                  "INSERT INTO care_files (id, community_id, grid_id, resident_id, category, level, status, opened_on, "
                  "created_at, updated_at) VALUES (1, 1, 1, 1, 'elderly', 'normal', 'active', '2025-12-01', 0, 0),"
                  "(2, 1, 1, 2, 'living_alone', 'frequent', 'active', '2025-12-01', 0, 0);");
}

static void teardown(void)
{
    store_close(app.db);
}

static int64_t created_of(json_t *rep)
{
    return json_integer_value(json_object_get(rep, "created"));
}

static void test_schedule_month_end_and_boundary(void)
{
    nx_err e = {0};
    json_t *rep = NULL;
    /* 23:59 on Jan 31 in Shanghai: January's task for the monthly file, the week of Jan 26 for the
     * weekly one */
    CHECK_INT(visits_schedule(&app, utc(2026, 1, 31, 15, 59), &rep, &e), 0);
    CHECK_INT(created_of(rep), 2);
    CHECK_STR(json_string_value(json_object_get(rep, "date")), "2026-01-31");
    json_decref(rep);
    char *due = q_text("SELECT due_date FROM visit_tasks WHERE care_file_id = 1 AND period_start = '2026-01-01'");
    CHECK_STR(due, "2026-01-31");
    free(due);
    due = q_text("SELECT due_date FROM visit_tasks WHERE care_file_id = 2 AND period_start = '2026-01-26'");
    CHECK_STR(due, "2026-02-01");
    free(due);
    CHECK_INT(q_int("SELECT assignee_user_id FROM visit_tasks WHERE care_file_id = 1"), 1);
    /* the same instant again: nothing new */
    CHECK_INT(visits_schedule(&app, utc(2026, 1, 31, 15, 59), &rep, &e), 0);
    CHECK_INT(created_of(rep), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "overdue")), 0);
    json_decref(rep);
    /* one minute later it is February 1 in Shanghai (still January 31 in UTC) */
    CHECK_INT(visits_schedule(&app, utc(2026, 1, 31, 16, 0), &rep, &e), 0);
    CHECK_INT(created_of(rep), 1); /* February's task; the weekly file's week runs to Feb 1 */
    CHECK_INT(json_integer_value(json_object_get(rep, "overdue")), 1); /* January's, due Jan 31 */
    CHECK_INT(json_integer_value(json_object_get(rep, "escalated")), 0);
    json_decref(rep);
    due = q_text("SELECT due_date FROM visit_tasks WHERE care_file_id = 1 AND period_start = '2026-02-01'");
    CHECK_STR(due, "2026-02-28");
    free(due);
    CHECK_INT(q_int("SELECT overdue FROM visit_tasks WHERE care_file_id = 1 AND period_start = '2026-01-01'"), 1);
    /* Monday Feb 2 08:00 Shanghai = Feb 2 00:00 UTC: the weekly file's new week, last week's task
     * overdue (due Feb 1) but not escalated (勤访 escalates after 2 days) */
    CHECK_INT(visits_schedule(&app, utc(2026, 2, 2, 0, 0), &rep, &e), 0);
    CHECK_INT(created_of(rep), 1);
    json_decref(rep);
    CHECK_INT(q_int("SELECT count(*) FROM visit_tasks WHERE care_file_id = 2 AND period_start = '2026-02-02' AND "
                  "due_date = '2026-02-08'"),
              1);
    /* Feb 7: January's task is 7 days past due — not more than 7, so not yet escalated; the weekly
     * file's Jan 26 task is 6 days past (> 2): escalated */
    CHECK_INT(visits_schedule(&app, utc(2026, 2, 7, 2, 0), &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "escalated")), 1);
    json_decref(rep);
    CHECK(q_int("SELECT escalated_at FROM visit_tasks WHERE care_file_id = 1 AND period_start = '2026-01-01'") == 0);
    CHECK(q_int("SELECT escalated_at FROM visit_tasks WHERE care_file_id = 2 AND period_start = '2026-01-26'") > 0);
    CHECK_INT(visits_schedule(&app, utc(2026, 2, 8, 2, 0), &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "escalated")), 1);
    json_decref(rep);
    CHECK(q_int("SELECT escalated_at FROM visit_tasks WHERE care_file_id = 1 AND period_start = '2026-01-01'") > 0);
    CHECK_INT(q_int("SELECT count(*) FROM events WHERE kind = 'visits.task.escalated'"), 2);
    /* a leap February */
    CHECK_INT(visits_schedule(&app, utc(2028, 2, 10, 4, 0), &rep, &e), 0);
    json_decref(rep);
    due = q_text("SELECT due_date FROM visit_tasks WHERE care_file_id = 1 AND period_start = '2028-02-01'");
    CHECK_STR(due, "2028-02-29");
    free(due);
    /* one task per (file, period) however often it runs */
    CHECK_INT(q_int("SELECT count(*) FROM (SELECT care_file_id, period_start FROM visit_tasks GROUP BY care_file_id, "
                  "period_start HAVING count(*) > 1) d"),
              0);
    /* a visit already made in the period: the task is created done */
    CHECK_INT(exec_w("INSERT INTO care_files (id, community_id, grid_id, resident_id, category, level, status, "
                     "opened_on, created_at, updated_at) VALUES (3, 1, 1, 3, 'elderly', 'normal', 'active', "
                     "'2028-03-01', 0, 0);"
                     "INSERT INTO visits (community_id, grid_id, resident_id, care_file_id, visited_on, kind, visitors, "
                     "created_at) VALUES (1, 1, 3, 3, '2028-03-02', 'home', '李网格', 0);"),
              0);
    CHECK_INT(visits_schedule(&app, utc(2028, 3, 5, 4, 0), &rep, &e), 0);
    json_decref(rep);
    char *st = q_text("SELECT status FROM visit_tasks WHERE care_file_id = 3 AND period_start = '2028-03-01'");
    CHECK_STR(st, "done");
    free(st);
}

static int64_t emit_alert(int64_t resident, bool followup)
{
    store_tx *tx;
    nx_err e = {0};
    if (store_begin(app.db, STORE_WRITE, &tx, &e))
        return -1;
    char payload[128];
    snprintf(payload, sizeof payload, "{\"resident_id\":%lld,\"needs_followup\":%s,\"alert_id\":7}",
             (long long)resident, followup ? "true" : "false");
    int64_t id = -1;
    if (outbox_emit(tx, DEVICES_EV_ALERT_RESOLVED, 1, "alert:7", payload, &e) ||
        store_one_int(tx, "SELECT max(id) FROM events", NULL, 0, &id, &e)) {
        store_rollback(tx);
        return -1;
    }
    return store_commit(tx, &e) == 0 ? id : -1;
}

/* Wait until the subscriber's cursor reaches id. */
static bool wait_cursor(int64_t id)
{
    for (int i = 0; i < 500; i++) {
        if (q_int("SELECT COALESCE(max(last_id), 0) FROM event_cursors WHERE subscriber = 'visits.device_alert_resolved'") >= id)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_alert_followup_exactly_once(void)
{
    dispatcher *d = NULL;
    nx_err e = {0};
    CHECK_INT(dispatcher_start(app.db, &d, &e), 0);
    CHECK_INT(visits_subscribe(d, &app), 0);
    int64_t ignored = emit_alert(3, false);
    int64_t ev = emit_alert(1, true);
    CHECK(ignored > 0 && ev > ignored);
    CHECK(wait_cursor(ev));
    CHECK_INT(q_int("SELECT count(*) FROM visit_tasks WHERE reason = 'alert_followup'"), 1);
    CHECK_INT(q_int("SELECT count(*) FROM visit_tasks WHERE reason = 'alert_followup' AND resident_id = 1 AND "
                  "care_file_id = 1 AND kind = 'event' AND status = 'open'"),
              1);
    dispatcher_stop(d);
    /* deliver it again: rewind the cursor, as after a crash between handling and acknowledging */
    CHECK_INT(exec_w("UPDATE event_cursors SET last_id = 0 WHERE subscriber = 'visits.device_alert_resolved'"), 0);
    CHECK_INT(dispatcher_start(app.db, &d, &e), 0);
    CHECK_INT(visits_subscribe(d, &app), 0);
    CHECK(wait_cursor(ev));
    dispatcher_stop(d);
    CHECK_INT(q_int("SELECT count(*) FROM visit_tasks WHERE reason = 'alert_followup'"), 1);
    char key[32], *got;
    snprintf(key, sizeof key, "event:%lld", (long long)ev);
    got = q_text("SELECT source_key FROM visit_tasks WHERE reason = 'alert_followup'");
    CHECK_STR(got, key);
    free(got);
}

int main(void)
{
    TEST_RUN(test_periods);
    TEST_RUN(test_local_date);
    if (tb_init("nx_test_visits") != 0 || setup() != 0) {
        fprintf(stderr, "setup failed\n");
        tb_cleanup();
        return 1;
    }
    TEST_RUN(test_schedule_month_end_and_boundary);
    TEST_RUN(test_alert_followup_exactly_once);
    teardown();
    tb_cleanup();
    return TEST_DONE();
}
