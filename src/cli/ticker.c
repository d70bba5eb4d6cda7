/* ticker.c — periodic jobs of the server that must run once across processes (the service hall's
 * sweep of deadlines and allowance tiers). A thread wakes every interval; when this process holds
 * the job's leader lock (store_leader: always on SQLite, one process on PostgreSQL) it runs the job
 * with the current time. Stopping wakes the thread and joins it. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct cli_ticker {
    nx_app *app;
    const char *name;
    int interval_s;
    cli_tick_fn fn;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void *ticker_main(void *arg)
{
    cli_ticker *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += t->interval_s;
        pthread_cond_timedwait(&t->cv, &t->mu, &until);
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->mu);
        bool leader = false;
        nx_err e;
        nx_err_clear(&e);
        if (store_leader(t->app->db, t->name, &leader, &e) == 0 && leader) {
            int rc = t->fn(t->app, clock_now_ms(), &e);
            if (rc)
                nx_log(LOG_WARN, "ticker.failed job=%s code=%s msg=\"%s\"", t->name, nx_code_name(rc), e.msg);
        }
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int cli_ticker_start(nx_app *app, const char *name, int interval_s, cli_tick_fn fn, cli_ticker **out, nx_err *e)
{
    cli_ticker *t = calloc(1, sizeof *t);
    if (t == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    *t = (cli_ticker){.app = app, .name = name, .interval_s = interval_s > 0 ? interval_s : 3600, .fn = fn};
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        return nx_fail(e, NX_EINTERNAL, "", "无法启动定时任务 %s", name);
    }
    *out = t;
    return 0;
}

void cli_ticker_stop(cli_ticker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}
