/* test_worker.c — base/worker.h: a started thread runs, worker_wake ends a wait early and sets woken,
 * worker_wait times out on its own when nobody wakes it (and at once for ms <= 0), and worker_stop
 * ends the thread's loop and joins it. */
#include <pthread.h>

#include "base/clock.h"
#include "base/worker.h"
#include "test.h"

typedef struct loop {
    nx_worker w;
    int rounds; /* under w.mu */
    int wakes;  /* rounds that ended because of worker_wake */
} loop;

static void *loop_main(void *arg)
{
    loop *l = arg;
    pthread_mutex_lock(&l->w.mu);
    while (!l->w.stop) {
        l->rounds++;
        bool go = worker_wait(&l->w, 60000);
        if (l->w.woken)
            l->wakes++;
        l->w.woken = false;
        if (!go)
            break;
    }
    pthread_mutex_unlock(&l->w.mu);
    return NULL;
}

static int rounds(loop *l)
{
    pthread_mutex_lock(&l->w.mu);
    int n = l->rounds;
    pthread_mutex_unlock(&l->w.mu);
    return n;
}

static void test_wake_and_stop(void)
{
    loop l = {0};
    worker_init(&l.w);
    CHECK_INT(worker_start(&l.w, loop_main, &l), 0);
    int64_t until = clock_mono_ms() + 5000;
    while (rounds(&l) < 1 && clock_mono_ms() < until) {
    }
    CHECK_INT(rounds(&l), 1);
    worker_wake(&l.w); /* the 60 s wait ends now */
    while (rounds(&l) < 2 && clock_mono_ms() < until) {
    }
    CHECK_INT(rounds(&l), 2);
    int64_t before = clock_mono_ms();
    worker_stop(&l.w); /* ends the second 60 s wait and joins */
    CHECK(clock_mono_ms() - before < 5000);
    CHECK(l.w.stop);
    CHECK_INT(l.wakes, 1);
    worker_cleanup(&l.w);
}

static void test_wait_times_out(void)
{
    nx_worker w;
    worker_init(&w);
    pthread_mutex_lock(&w.mu);
    int64_t before = clock_mono_ms();
    CHECK(worker_wait(&w, 30));
    CHECK(clock_mono_ms() - before >= 29);
    before = clock_mono_ms();
    CHECK(worker_wait(&w, -5)); /* a deadline already passed: no wait, no invalid timespec */
    CHECK(clock_mono_ms() - before < 1000);
    w.woken = true;
    before = clock_mono_ms();
    CHECK(worker_wait(&w, 60000)); /* already woken: returns at once */
    CHECK(clock_mono_ms() - before < 1000);
    w.stop = true;
    CHECK(!worker_wait(&w, 60000));
    pthread_mutex_unlock(&w.mu);
    worker_cleanup(&w);
}

int main(void)
{
    TEST_RUN(test_wake_and_stop);
    TEST_RUN(test_wait_times_out);
    return TEST_DONE();
}
