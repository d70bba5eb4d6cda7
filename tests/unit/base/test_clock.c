/* test_clock.c — the pthread deadline helpers of base/clock.h: clock_deadline normalises its
 * nanoseconds and lies ms ahead on the clock asked for; a condition variable from clock_cond_init
 * times out against CLOCK_MONOTONIC deadlines. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/clock.h"
#include "test.h"

static int64_t ms_of(struct timespec ts)
{
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_deadline(void)
{
    int64_t steps[] = {0, 1, 999, 1000, 1001, 1500, 86400000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec d = clock_deadline(CLOCK_MONOTONIC, steps[i]);
        CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
        CHECK(ms_of(d) - ms_of(now) >= steps[i]);
        struct timespec w;
        clock_gettime(CLOCK_REALTIME, &w);
        struct timespec r = clock_deadline(CLOCK_REALTIME, steps[i]);
        CHECK(ms_of(r) - ms_of(w) >= steps[i]);
    }
}

static void test_cond(void)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv;
    CHECK_INT(clock_cond_init(&cv), 0);
    pthread_mutex_lock(&mu);
    int64_t before = clock_mono_ms();
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, 30);
    int rc;
    while ((rc = pthread_cond_timedwait(&cv, &mu, &until)) == 0) {
    }
    CHECK_INT(rc, ETIMEDOUT); /* a monotonic deadline read as wall-clock time would be decades ago: 0 ms */
    CHECK(clock_mono_ms() - before >= 29);
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&cv);
}

int main(void)
{
    TEST_RUN(test_deadline);
    TEST_RUN(test_cond);
    return TEST_DONE();
}
