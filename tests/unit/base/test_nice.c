/* test_nice.c — base/nice.h: a thread lends its nice value to another only when it is lower, the other
 * goes back with nice_restore, and nothing changes where there is nothing to lend. Lowering a nice
 * value needs a right (root, CAP_SYS_NICE, RLIMIT_NICE); where the test runs without it, it checks
 * the other half: the calls refuse (-1 / false) and every value stays as it was. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/nice.h"
#include "test.h"

static int nice_of(int tid)
{
    return getpriority(PRIO_PROCESS, (id_t)tid);
}

typedef struct other {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int tid;     /* its kernel thread id, once it runs */
    int restore; /* > -100: the value to go back to (nice_restore), then -100 */
    bool stop;
} other;

static void *other_main(void *arg)
{
    other *o = arg;
    pthread_mutex_lock(&o->mu);
    o->tid = (int)gettid();
    pthread_cond_broadcast(&o->cv);
    while (!o->stop) {
        if (o->restore > -100) {
            nice_restore(o->restore);
            o->restore = -100;
            pthread_cond_broadcast(&o->cv);
        }
        pthread_cond_wait(&o->cv, &o->mu);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

static void restore_in_other(other *o, int was)
{
    pthread_mutex_lock(&o->mu);
    o->restore = was;
    pthread_cond_broadcast(&o->cv);
    while (o->restore > -100)
        pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

/* Run in a thread of its own, so that the test's main thread keeps its value for the next test. */
static void *lend_case(void *arg)
{
    (void)arg;
    int me = (int)gettid();
    int n0 = nice_of(me);
    if (n0 <= -15) {
        fprintf(stderr, "skipped: already at nice %d\n", n0);
        return NULL;
    }
    other o = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -100, false};
    pthread_t th;
    pthread_create(&th, NULL, other_main, &o);
    pthread_mutex_lock(&o.mu);
    while (o.tid == 0)
        pthread_cond_wait(&o.cv, &o.mu);
    pthread_mutex_unlock(&o.mu);
    CHECK_INT(nice_of(o.tid), n0); /* a new thread starts at its creator's value */

    /* the same value: nothing to lend */
    int was = 12345;
    CHECK_INT(nice_lend(o.tid, &was), 0);
    CHECK_INT(was, 12345);
    CHECK_INT(nice_of(o.tid), n0);

    bool raised = nice_raise_self(n0 - 5, "test.nice");
    if (!raised) {
        fprintf(stderr, "lending not checked: no right to lower a nice value here\n");
        CHECK_INT(nice_of(me), n0); /* refused: unchanged */
    } else {
        CHECK_INT(nice_of(me), n0 - 5);
        CHECK(nice_raise_self(n0, "test.nice")); /* already higher: kept, true */
        CHECK_INT(nice_of(me), n0 - 5);
        CHECK_INT(nice_lend(o.tid, &was), 1);
        CHECK_INT(was, n0);
        CHECK_INT(nice_of(o.tid), n0 - 5); /* lent */
        CHECK_INT(nice_lend(o.tid, &was), 0); /* lent already: nothing more */
        restore_in_other(&o, n0);
        CHECK_INT(nice_of(o.tid), n0); /* its own again */
        /* a lower priority lends nothing: the other at n0 - 8 keeps it */
        nice_raise_self(n0 - 8, "test.nice");
        restore_in_other(&o, n0 - 8); /* (lowering its value from its own thread needs the right too) */
        nice_restore(n0 - 5);          /* me back up to n0 - 5: raising a value needs no right */
        CHECK_INT(nice_of(me), n0 - 5);
        CHECK_INT(nice_lend(o.tid, &was), 0);
        CHECK_INT(nice_of(o.tid), n0 - 8);
    }
    pthread_mutex_lock(&o.mu);
    o.stop = true;
    pthread_cond_broadcast(&o.cv);
    pthread_mutex_unlock(&o.mu);
    pthread_join(th, NULL);
    CHECK_INT(nice_lend(o.tid + 0x3fffffff, &was), -1); /* no such thread */
    return NULL;
}

static void test_lend(void)
{
    pthread_t th;
    pthread_create(&th, NULL, lend_case, NULL);
    pthread_join(th, NULL);
}

int main(void)
{
    TEST_RUN(test_lend);
    return TEST_DONE();
}
