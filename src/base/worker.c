/* worker.c — see worker.h. The stop flag is set while holding the lock, so that a thread that has
 * checked it under the lock and is about to wait cannot miss the signal that follows. */
#include "base/worker.h"

#include "base/clock.h"
#include "base/err.h"

#include <errno.h>

void worker_init(nx_worker *w)
{
    pthread_mutex_init(&w->mu, NULL);
    clock_cond_init(&w->cv);
    atomic_init(&w->stop, false);
    w->woken = false;
}

int worker_start(nx_worker *w, void *(*fn)(void *), void *arg)
{
    return pthread_create(&w->thread, NULL, fn, arg) == 0 ? 0 : NX_EINTERNAL;
}

void worker_wake(nx_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->woken = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool worker_wait(nx_worker *w, int64_t ms)
{
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, ms > 0 ? ms : 0);
    while (!atomic_load(&w->stop) && !w->woken &&
           pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT) {
    }
    return !atomic_load(&w->stop);
}

void worker_stop(nx_worker *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->stop, true);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
}

void worker_cleanup(nx_worker *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}
