/* test_clock.c — the pthread deadline helpers of base/clock.h: clock_deadline normalises its
 * nanoseconds and lies ms ahead on the clock asked for; a condition variable from clock_cond_init
 * times out against CLOCK_MONOTONIC deadlines. The timestamp formatters write what libc's gmtime_r
 * and strftime give for the same instant. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
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

/* the reference: libc's calendar, "%Y-%m-%dT%H:%M:%S" + ".mmm" + suffix */
static void ref_format(int64_t ms, const char *suffix, char *out, size_t n)
{
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char head[32];
    strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03d%s", head, (int)(ms - s * 1000), suffix);
}

static void test_format(void)
{
    int64_t fixed[] = {0,
                       -1,
                       1,
                       999,
                       -86400000,
                       -2208988800000LL,  /* 1900-01-01 */
                       951782400000LL,    /* 2000-02-29 */
                       1709164800123LL,   /* 2024-02-29 00:00:00.123 */
                       1735689599999LL,   /* 2024-12-31 23:59:59.999 */
                       4102444800000LL,   /* 2100-01-01 */
                       253402300799999LL, /* 9999-12-31 23:59:59.999 */
                       -30610224000000LL /* 1000-01-01 */};
    char got[40], want[40];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        clock_format_utc(fixed[i], got);
        ref_format(fixed[i], "Z", want, sizeof want);
        CHECK_STR(got, want);
        if (fixed[i] <= 253402300799999LL - 8 * 3600000LL) {
            clock_format_local(fixed[i], got);
            ref_format(fixed[i] + 8 * 3600000LL, "+08:00", want, sizeof want);
            CHECK_STR(got, want);
        }
    }
    /* a walk over two centuries in uneven steps (every field takes many values) */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t ms = -2208988800000LL + (int64_t)(x % 6311433600000ULL);
        clock_format_utc(ms, got);
        ref_format(ms, "Z", want, sizeof want);
        CHECK_STR(got, want);
        clock_format_local(ms, got);
        ref_format(ms + 8 * 3600000LL, "+08:00", want, sizeof want);
        CHECK_STR(got, want);
    }
}

int main(void)
{
    TEST_RUN(test_deadline);
    TEST_RUN(test_cond);
    TEST_RUN(test_format);
    return TEST_DONE();
}
