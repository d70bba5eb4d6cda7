/* test_ticker.c — the leader-elected periodic job (store/ticker.h): it ticks every period, first at
 * start or after one period as asked, a wake runs the next tick at once, stop returns promptly in the
 * middle of a long period, a failing tick does not stop the ticker, bad options are refused; on SQLite
 * the process is always the leader, on PostgreSQL (NX_TEST_PG) two stores on one database with the
 * same job name never both run it. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/store.h"
#include "store/ticker.h"
#include "test.h"
#include "backends.h"

typedef struct {
    atomic_int calls;
    atomic_llong last_now;
    int fail; /* return this code from every call */
} job;

static int job_tick(void *ctx, int64_t now_ms, nx_err *e)
{
    job *j = ctx;
    atomic_fetch_add(&j->calls, 1);
    atomic_store(&j->last_now, (long long)now_ms);
    return j->fail ? nx_fail(e, j->fail, "", "失败") : 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait up to limit_ms for j->calls to reach n; whether it did. */
static bool wait_calls(job *j, int n, int limit_ms)
{
    for (int waited = 0; waited < limit_ms; waited += 5) {
        if (atomic_load(&j->calls) >= n)
            return true;
        sleep_ms(5);
    }
    return atomic_load(&j->calls) >= n;
}

static store *open_new(const char *name)
{
    char p[512];
    tb_url(p, sizeof p, name);
    store_options o = {.readers = 1, .busy_ms = 2000, .create = true, .pool = 2};
    store *s = NULL;
    nx_err e = {0};
    CHECK_INT(store_open(p, &o, &s, &e), 0);
    return s;
}

static void test_ticks(void)
{
    store *s = open_new("ticks");
    job j = {0};
    store_ticker *t = NULL;
    nx_err e = {0};
    int64_t before = clock_now_ms();
    store_ticker_options o = {.name = "test.ticks", .period_ms = 20, .run_at_start = true, .fn = job_tick, .ctx = &j};
    CHECK_INT(store_ticker_start(s, &o, &t, &e), 0);
    CHECK(wait_calls(&j, 5, 5000));
    CHECK(store_ticker_runs(t) >= 4);
    CHECK(atomic_load(&j.last_now) >= before);
    CHECK(atomic_load(&j.last_now) <= clock_now_ms());
    store_ticker_stop(t);
    int after = atomic_load(&j.calls);
    sleep_ms(60);
    CHECK_INT(atomic_load(&j.calls), after); /* no tick after stop returned */
    store_close(s);
}

static void test_wake_and_prompt_stop(void)
{
    store *s = open_new("wake");
    job j = {0};
    store_ticker *t = NULL;
    nx_err e = {0};
    store_ticker_options o = {.name = "test.wake", .period_ms = 60000, .fn = job_tick, .ctx = &j};
    CHECK_INT(store_ticker_start(s, &o, &t, &e), 0);
    sleep_ms(50);
    CHECK_INT(atomic_load(&j.calls), 0); /* first tick one period after start */
    store_ticker_wake(t);
    CHECK(wait_calls(&j, 1, 2000));
    sleep_ms(50);
    CHECK_INT(atomic_load(&j.calls), 1); /* one wake, one tick; then the long period again */
    CHECK_INT(store_ticker_runs(t), 1);
    store_ticker_wake(t);
    CHECK(wait_calls(&j, 2, 2000));
    int64_t t0 = mono_ms();
    store_ticker_stop(t);
    CHECK(mono_ms() - t0 < 1000); /* stop does not wait out the minute */
    CHECK_INT(atomic_load(&j.calls), 2);
    store_close(s);
}

static void test_stop_before_first(void)
{
    store *s = open_new("early");
    job j = {0};
    store_ticker *t = NULL;
    nx_err e = {0};
    store_ticker_options o = {.name = "test.early", .period_ms = 60000, .fn = job_tick, .ctx = &j};
    CHECK_INT(store_ticker_start(s, &o, &t, &e), 0);
    int64_t t0 = mono_ms();
    store_ticker_stop(t);
    CHECK(mono_ms() - t0 < 1000);
    CHECK_INT(atomic_load(&j.calls), 0);
    store_ticker_stop(NULL);
    store_close(s);
}

static void test_failure_carries_on(void)
{
    store *s = open_new("fail");
    job j = {.fail = NX_EDB};
    store_ticker *t = NULL;
    nx_err e = {0};
    store_ticker_options o = {.name = "test.fail", .period_ms = 10, .run_at_start = true, .fn = job_tick, .ctx = &j};
    CHECK_INT(store_ticker_start(s, &o, &t, &e), 0);
    CHECK(wait_calls(&j, 3, 5000));
    store_ticker_stop(t);
    store_close(s);
}

static void test_bad_options(void)
{
    store *s = open_new("bad");
    job j = {0};
    store_ticker *t = (store_ticker *)&j;
    nx_err e = {0};
    store_ticker_options o = {.name = "test.bad", .period_ms = 0, .fn = job_tick, .ctx = &j};
    CHECK_INT(store_ticker_start(s, &o, &t, &e), NX_EINVAL);
    CHECK(t == NULL);
    o.period_ms = 10;
    o.fn = NULL;
    CHECK_INT(store_ticker_start(s, &o, &t, &e), NX_EINVAL);
    o.fn = job_tick;
    o.name = "";
    CHECK_INT(store_ticker_start(s, &o, &t, &e), NX_EINVAL);
    o.name = "x123456789x123456789x123456789x123456789x123456789x123456789xxxx"; /* 64 bytes */
    CHECK_INT(store_ticker_start(s, &o, &t, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    store_close(s);
}

/* Two stores on one database, one job name: on SQLite both are leaders (one process per file is the
 * rule there); on PostgreSQL only one of the two runs the job. */
static void test_leader(void)
{
    char p[512];
    tb_url(p, sizeof p, "leader");
    store_options so = {.readers = 1, .busy_ms = 2000, .create = true, .pool = 2};
    store *a = NULL, *b = NULL;
    nx_err e = {0};
    CHECK_INT(store_open(p, &so, &a, &e), 0);
    so.create = false;
    CHECK_INT(store_open(p, &so, &b, &e), 0);
    job ja = {0}, jb = {0};
    store_ticker *ta = NULL, *tb = NULL;
    store_ticker_options o = {.name = "test.leader", .period_ms = 10, .run_at_start = true, .fn = job_tick, .ctx = &ja};
    CHECK_INT(store_ticker_start(a, &o, &ta, &e), 0);
    CHECK(wait_calls(&ja, 1, 5000));
    o.ctx = &jb;
    CHECK_INT(store_ticker_start(b, &o, &tb, &e), 0);
    sleep_ms(200);
    store_ticker_stop(tb);
    store_ticker_stop(ta);
    CHECK(atomic_load(&ja.calls) > 1);
    if (tb_pg())
        CHECK_INT(atomic_load(&jb.calls), 0);
    else
        CHECK(atomic_load(&jb.calls) > 1);
    store_close(b);
    store_close(a);
}

static void run_all(void)
{
    TEST_RUN(test_ticks);
    TEST_RUN(test_wake_and_prompt_stop);
    TEST_RUN(test_stop_before_first);
    TEST_RUN(test_failure_carries_on);
    TEST_RUN(test_bad_options);
    TEST_RUN(test_leader);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-ticker") != 0)
        return 1;
    run_all();
    if (tb_use_pg())
        run_all();
    tb_cleanup();
    return TEST_DONE();
}
