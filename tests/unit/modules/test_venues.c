/* test_venues.c — the rules of the activity rooms on both backends (tests/unit/backends.h), under a
 * pinned clock: eight threads booking one slot at once — exactly one succeeds, the others answer
 * NX_ECONFLICT and one row of claims remains; a weekly series skips a clash and a closed date and
 * names both; a booking outside the opening hours, too long, or on a closed day is refused naming
 * its field with nothing written; a booking not checked in is released as a no-show 15 minutes after
 * its start (the rest of its time freed) and the freed time is offered to the first waiter; the
 * leader-elected ticker releases no-shows after the configured grace and not before. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/venues/venues.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"

static const nx_principal staff = {.user_id = 1, .username = "staff", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                   .street_id = 1, .community_id = 1};
static const nx_principal zhou = {.user_id = 2, .username = "zhou", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                                  .resident_id = 1};
static const nx_principal wu = {.user_id = 3, .username = "wu", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                                .resident_id = 2};
/* Tuesday 2030-03-05; "now" is Monday 2030-03-04 08:00 in Shanghai. */
static const nx_date TUE = {2030, 3, 5};
static int64_t venue;

static int setup(void)
{
    nx_err e = {0};
    if (tb_app_open("venues.db", &(store_options){.readers = 2, .busy_ms = 10000, .create = true, .pool = 12}, NULL))
        return -1;
    const char *b1 = tb_pg() ? "'\\x01'::bytea" : "X'01'", *b2 = tb_pg() ? "'\\x02'::bytea" : "X'02'";
    char sql[2400];
    snprintf(sql, sizeof sql,
             "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
             "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, "
             "sex, birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES "
             "(1, 1, '周桂兰', '周桂兰', 'zhouguilan', 'zgl', %s, 2, '1948-05-12', %s, %s, '0000', 0, 0),"
             "(2, 1, '吴德厚', '吴德厚', 'wudehou', 'wdh', %s, 1, '1950-01-01', %s, %s, '0001', 0, 0);"
             "INSERT INTO users (id, username, display_name, role, scope, community_id, password_hash, created_at, "
             "updated_at) VALUES (1, 'staff', '社区', 'staff', 'community', 1, 'x', 0, 0),"
             "(2, 'zhou', '周', 'resident', 'self', 1, 'x', 0, 0), (3, 'wu', '吴', 'resident', 'self', 1, 'x', 0, 0);",
             b1, b1, b1, b2, b2, b2);
    if (exec_w(sql))
        return -1;
    clock_pin_ms(venues_local_ms((nx_date){2030, 3, 4}, 8 * 60));
    json_t *in = json_pack("{s:s, s:i, s:s, s:s, s:[i], s:i, s:i}", "name", "阅览室", "capacity", 20, "open_from", "08:00",
                           "open_to", "21:00", "closed_weekdays", 1, "max_minutes", 120, "per_person_max", 3);
    int rc = venues_create(&app, &staff, in, &venue, &e);
    json_decref(in);
    if (rc)
        fprintf(stderr, "venue: %s %s\n", e.field, e.msg);
    return rc;
}

static void teardown(void)
{
    clock_pin_ms(0);
    store_close(app.db);
    app.db = NULL;
}

static int book(const nx_principal *who, nx_date d, const char *start, const char *end, int repeat, json_t **out,
                nx_err *e)
{
    char day[11];
    date_format(d, day);
    json_t *in = json_pack("{s:I, s:s, s:s, s:s, s:s}", "venue_id", (json_int_t)venue, "date", day, "start", start, "end",
                           end, "title", "测试");
    if (repeat)
        json_object_set_new(in, "repeat_weeks", json_integer(repeat));
    json_t *o = NULL;
    nx_err_clear(e);
    int rc = venues_booking_create(&app, who, in, &o, e);
    json_decref(in);
    if (out)
        *out = o;
    else
        json_decref(o);
    return rc;
}

typedef struct racer {
    pthread_barrier_t *gate;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    nx_err e;
    pthread_barrier_wait(r->gate);
    r->rc = book(&staff, TUE, "14:00", "15:30", 0, NULL, &e);
    return NULL;
}

static void test_concurrent_one_wins(void)
{
    enum { N = 8 };
    pthread_barrier_t gate;
    pthread_barrier_init(&gate, NULL, N);
    racer rs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        rs[i] = (racer){.gate = &gate, .rc = 99};
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    int won = 0, lost = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += rs[i].rc == 0;
        lost += rs[i].rc == NX_ECONFLICT;
    }
    pthread_barrier_destroy(&gate);
    CHECK_INT(won, 1);
    CHECK_INT(lost, N - 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM venue_bookings"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM venue_slots"), 6); /* 14:00–15:30: six quarter hours */
}

static void test_bad_input(void)
{
    nx_err e;
    CHECK_INT(book(&zhou, TUE, "07:00", "08:00", 0, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "start");
    CHECK_INT(book(&zhou, TUE, "20:30", "21:30", 0, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "end");
    CHECK_INT(book(&zhou, TUE, "09:00", "11:15", 0, NULL, &e), NX_EINVAL); /* 135 minutes > 120 */
    CHECK_STR(e.field, "end");
    CHECK_INT(book(&zhou, (nx_date){2030, 3, 11}, "09:00", "10:00", 0, NULL, &e), NX_EINVAL); /* a Monday */
    CHECK_STR(e.field, "date");
    CHECK_INT(q_int("SELECT COUNT(*) FROM venue_bookings"), 1);
}

static void test_recurring_skips(void)
{
    nx_err e;
    json_t *o = NULL;
    CHECK_INT(book(&staff, (nx_date){2030, 3, 12}, "10:30", "11:00", 0, NULL, &e), 0);
    CHECK_INT(exec_w("INSERT INTO venue_closures (venue_id, day, reason) VALUES (1, '2030-03-19', '检修')"), 0);
    CHECK_INT(book(&staff, TUE, "10:00", "11:00", 3, &o, &e), 0);
    json_t *s = json_object_get(o, "series");
    CHECK_INT(json_array_size(json_object_get(s, "created")), 2);
    json_t *sk = json_object_get(s, "skipped");
    CHECK_INT(json_array_size(sk), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(sk, 0), "date")), "2030-03-12");
    CHECK_STR(json_string_value(json_object_get(json_array_get(sk, 0), "reason")), "clash");
    CHECK_STR(json_string_value(json_object_get(json_array_get(sk, 1), "date")), "2030-03-19");
    CHECK_STR(json_string_value(json_object_get(json_array_get(sk, 1), "reason")), "closed");
    json_decref(o);
    CHECK_INT(q_int("SELECT COUNT(*) FROM venue_bookings WHERE series_id IS NOT NULL"), 2);
}

static void test_no_show_and_offer(void)
{
    nx_err e;
    json_t *o = NULL;
    CHECK_INT(book(&zhou, TUE, "16:00", "18:00", 0, &o, &e), 0);
    int64_t id = json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    /* wu waits for 17:00–18:00 */
    json_t *in = json_pack("{s:I, s:s, s:s, s:s}", "venue_id", (json_int_t)venue, "date", "2030-03-05", "start", "17:00",
                           "end", "18:00");
    int64_t wid = 0;
    CHECK_INT(venues_wait_create(&app, &wu, in, &wid, &e), 0);
    json_decref(in);
    /* too early for a no-show: 16:10 */
    clock_pin_ms(venues_local_ms(TUE, 16 * 60 + 10));
    CHECK_INT(venues_booking_act(&app, &staff, id, "no-show", NULL, &e), NX_ECONFLICT);
    int n = -1;
    CHECK_INT(venues_release_no_shows(&app, clock_now_ms(), &n, &e), 0);
    CHECK_INT(n, 0);
    /* 16:20: released; the units from 16:30 on are free, 16:00–16:30 stay claimed */
    clock_pin_ms(venues_local_ms(TUE, 16 * 60 + 20));
    CHECK_INT(venues_release_no_shows(&app, clock_now_ms(), &n, &e), 0);
    CHECK_INT(n, 1);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM venue_bookings WHERE id = %lld AND status = 'no_show'", (long long)id);
    CHECK_INT(q_int(sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM venue_slots WHERE booking_id = %lld", (long long)id);
    CHECK_INT(q_int(sql), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM venue_waits WHERE status = 'offered'"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'venues.wait.offered'"), 1);
    CHECK_INT(venues_wait_accept(&app, &wu, wid, &o, &e), 0);
    CHECK_STR(json_string_value(json_object_get(o, "start")), "17:00");
    json_decref(o);
    CHECK_INT(q_int("SELECT COUNT(*) FROM venue_waits WHERE status = 'booked'"), 1);
}

/* Until the ticker has run n times (at most about 5 s). */
static void wait_runs(store_ticker *t, int64_t n)
{
    for (int i = 0; i < 500 && store_ticker_runs(t) < n; i++)
        usleep(10000);
}

/* The no-show ticker releases a booking not checked in once the configured grace (here 30 minutes)
 * has passed after its start, and not before; its booker gets the released event. */
static void test_no_show_ticker(void)
{
    nx_err e;
    const nx_date thu = {2030, 3, 7};
    clock_pin_ms(venues_local_ms((nx_date){2030, 3, 6}, 8 * 60));
    json_t *o = NULL;
    CHECK_INT(book(&staff, thu, "10:00", "11:00", 0, &o, &e), 0);
    int64_t id = json_integer_value(json_object_get(o, "id"));
    json_decref(o);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM venue_bookings WHERE id = %lld AND status = 'no_show'", (long long)id);
    cfg.venue_no_show_minutes = 30;
    clock_pin_ms(venues_local_ms(thu, 10 * 60 + 20)); /* past the default 15 minutes, within the 30 configured */
    store_ticker *t = NULL;
    CHECK_INT(venues_ticker_start(&app, 3600 * 1000LL, &t, &e), 0);
    wait_runs(t, 1);
    CHECK(store_ticker_runs(t) >= 1);
    CHECK_INT(q_int(sql), 0);
    clock_pin_ms(venues_local_ms(thu, 10 * 60 + 35));
    store_ticker_wake(t);
    wait_runs(t, 2);
    store_ticker_stop(t);
    CHECK_INT(q_int(sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM events WHERE kind = 'venues.booking.released' AND payload LIKE "
             "'%%\"booking_id\":%lld,%%\"user_id\":1,\"status\":\"no_show\"%%'",
             (long long)id);
    CHECK_INT(q_int(sql), 1);
    cfg.venue_no_show_minutes = 15;
}

static int run_store_tests(void)
{
    if (setup() != 0)
        return 1;
    TEST_RUN(test_concurrent_one_wins);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_recurring_skips);
    TEST_RUN(test_no_show_and_offer);
    TEST_RUN(test_no_show_ticker);
    teardown();
    return 0;
}

int main(void)
{
    if (tb_init("nx_test_venues") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
