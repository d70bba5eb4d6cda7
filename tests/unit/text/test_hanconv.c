/* test_hanconv.c — traditional → simplified conversion (text/hanconv.h). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "text/hanconv.h"

static void t2s_is(const char *in, const char *want)
{
    char *out = hanconv_t2s(in);
    if (out == NULL || strcmp(out, want) != 0) {
        t_failed++;
        fprintf(stderr, "hanconv_t2s(\"%s\") = \"%s\", expected \"%s\"\n", in, out ? out : "(null)", want);
    } else {
        t_passed++;
    }
    free(out);
}

static void test_convert(void)
{
    t2s_is("張偉", "张伟");
    t2s_is("陳國強", "陈国强");
    t2s_is("劉德華", "刘德华");
    t2s_is("臺灣", "台湾");
    t2s_is("幸福裏小區3號樓", "幸福里小区3号楼");
    /* Simplified, mixed and non-Chinese text come back unchanged. */
    t2s_is("张伟", "张伟");
    t2s_is("王建国", "王建国");
    t2s_is("Anna 王 123-456", "Anna 王 123-456");
    t2s_is("", "");

    CHECK(hanconv_t2s(NULL) == NULL);
    CHECK(hanconv_t2s("張\xff") == NULL);
    CHECK(hanconv_t2s("\xe5\xbc") == NULL);
}

static void *worker(void *arg)
{
    intptr_t bad = 0;
    (void)arg;
    for (int r = 0; r < 500; r++) {
        char *s = hanconv_t2s(r % 2 ? "陳國強" : "張偉");
        if (s == NULL || strcmp(s, r % 2 ? "陈国强" : "张伟") != 0)
            bad++;
        free(s);
    }
    return (void *)bad;
}

static void test_threads(void)
{
    enum { T = 4 };
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        CHECK_INT(pthread_create(&th[t], NULL, worker, NULL), 0);
    for (int t = 0; t < T; t++) {
        void *res = NULL;
        pthread_join(th[t], &res);
        CHECK_INT((intptr_t)res, 0);
    }
}

static void test_speed(void)
{
    struct timespec a, b;
    enum { R = 5000 };
    int bad = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int r = 0; r < R; r++) {
        char *s = hanconv_t2s("陳國強");
        bad += s == NULL;
        free(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK_INT(bad, 0);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / R;
    printf("hanconv_t2s: %.2f us/name (sanitizer builds are slower)\n", us);
}

static void test_reinit(void)
{
    hanconv_cleanup();
    hanconv_cleanup();      /* twice is fine */
    t2s_is("張偉", "张伟"); /* loads again lazily */
    nx_err e;
    CHECK_INT(hanconv_init(&e), 0);
}

int main(void)
{
    nx_err e;
    CHECK_INT(hanconv_init(&e), 0);
    CHECK_INT(hanconv_init(&e), 0);
    TEST_RUN(test_convert);
    TEST_RUN(test_threads);
    TEST_RUN(test_speed);
    TEST_RUN(test_reinit);
    hanconv_cleanup();
    return TEST_DONE();
}
