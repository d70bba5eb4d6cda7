/* ticker.c — a leader-elected periodic job on a monotonic clock (see ticker.h).
 *
 * The thread sleeps on a condition variable bound to CLOCK_MONOTONIC (pthread_condattr_setclock), so
 * a deadline is "period after the last tick ended" whatever happens to the wall clock. The mutex guards
 * only the flags stop and woken and the run count; the tick itself runs unlocked, so stop and wake
 * never wait for a store round trip while holding it. A spurious wake-up goes back to sleep until the
 * deadline; stop and wake end the sleep at once. Leadership is asked before every tick: on PostgreSQL
 * the lock may be lost with its connection and taken over by another process between two ticks. */
#include "store/ticker.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 63 /* store_leader's limit for a lock name */

struct store_ticker {
    store *s;
    char name[NAME_MAX_LEN + 1];
    int64_t period_ms;
    bool run_at_start;
    store_tick_fn fn;
    void *ctx;
    nx_worker w; /* the ticker's thread; w.mu guards runs */
    int64_t runs;
};

/* With t->w.mu held: sleep one period unless stopped or woken. False when stopping. */
static bool wait_period(store_ticker *t)
{
    bool go = worker_wait(&t->w, t->period_ms);
    t->w.woken = false;
    return go;
}

static void tick(store_ticker *t)
{
    nx_err e;
    nx_err_clear(&e);
    bool leader = false;
    int rc = store_leader(t->s, t->name, &leader, &e);
    if (rc)
        nx_log(LOG_DEBUG, "ticker.leader_failed job=%s code=%s", t->name, nx_code_name(rc));
    if (rc || !leader)
        return;
    rc = t->fn(t->ctx, clock_now_ms(), &e);
    if (rc)
        nx_log(LOG_WARN, "ticker.failed job=%s code=%s msg=\"%s\"", t->name, nx_code_name(rc), e.msg);
    pthread_mutex_lock(&t->w.mu);
    t->runs++;
    pthread_mutex_unlock(&t->w.mu);
}

static void *ticker_main(void *arg)
{
    store_ticker *t = arg;
    char tname[16]; /* top -H and NX_SOS_TRACE name the ticker (15 bytes at most) */
    snprintf(tname, sizeof tname, "nx-%s", t->name);
    pthread_setname_np(pthread_self(), tname);
    pthread_mutex_lock(&t->w.mu);
    bool go = t->run_at_start ? !t->w.stop : wait_period(t);
    while (go) {
        pthread_mutex_unlock(&t->w.mu);
        tick(t);
        pthread_mutex_lock(&t->w.mu);
        go = wait_period(t);
    }
    pthread_mutex_unlock(&t->w.mu);
    return NULL;
}

int store_ticker_start(store *s, const store_ticker_options *o, store_ticker **out, nx_err *e)
{
    *out = NULL;
    if (o->fn == NULL || o->period_ms <= 0)
        return nx_fail(e, NX_EINVAL, "", "定时任务的参数无效");
    if (o->name == NULL || o->name[0] == '\0' || strlen(o->name) > NAME_MAX_LEN)
        return nx_fail(e, NX_EINVAL, "name", "定时任务名无效");
    store_ticker *t = calloc(1, sizeof *t);
    if (t == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    t->s = s;
    str_copy(t->name, o->name, sizeof t->name);
    t->period_ms = o->period_ms;
    t->run_at_start = o->run_at_start;
    t->fn = o->fn;
    t->ctx = o->ctx;

    worker_init(&t->w);
    if (worker_start(&t->w, ticker_main, t) != 0) {
        worker_cleanup(&t->w);
        free(t);
        return nx_fail(e, NX_EINTERNAL, "", "无法启动定时任务 %s", o->name);
    }
    *out = t;
    return 0;
}

void store_ticker_wake(store_ticker *t)
{
    worker_wake(&t->w);
}

int64_t store_ticker_runs(store_ticker *t)
{
    pthread_mutex_lock(&t->w.mu);
    int64_t n = t->runs;
    pthread_mutex_unlock(&t->w.mu);
    return n;
}

void store_ticker_stop(store_ticker *t)
{
    if (t == NULL)
        return;
    worker_stop(&t->w);
    worker_cleanup(&t->w);
    free(t);
}
