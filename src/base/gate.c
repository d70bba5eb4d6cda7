/* gate.c — see gate.h. One mutex and one condition variable: every change of who holds or waits is
 * broadcast and each waiter checks whether it may go (few waiters: the HTTP pool, the dispatchers,
 * the tickers and the gateway's two writers). A waiter that times out also broadcasts, since its
 * leaving can let others of the other kind in. */
#include "base/gate.h"

#include <errno.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/nice.h"

int gate_init(nx_gate *g)
{
    g->held = false;
    atomic_init(&g->urgent_waiting, 0);
    atomic_init(&g->normal_waiting, 0);
    g->urgent_run = 0;
    g->lent = false;
    g->plain = false;
    int rc = pthread_mutex_init(&g->mu, NULL);
    if (rc)
        return rc;
    rc = clock_cond_init(&g->cv);
    if (rc)
        pthread_mutex_destroy(&g->mu);
    return rc;
}

void gate_destroy(nx_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

/* Whether an entrant of this kind may take the free gate now (under mu). */
static bool may_enter(const nx_gate *g, bool urgent)
{
    if (g->held)
        return false;
    if (g->plain)
        return true;
    bool normals_due = g->normal_waiting > 0 && g->urgent_run >= GATE_URGENT_RUN;
    return urgent ? !normals_due : g->urgent_waiting == 0 || normals_due;
}

/* An urgent entrant about to wait (under mu, the gate held by another thread): lend the holder its
 * nice value when that is lower than the holder's (nice.h); the holder goes back to its own value,
 * the one before the first lend, when it leaves. */
static void lend_priority(nx_gate *g)
{
    int was;
    if (nice_lend(g->owner_tid, &was) == 1 && !g->lent) {
        g->lent = true;
        g->own_nice = was;
    }
}

int gate_enter(nx_gate *g, bool urgent, const struct timespec *until)
{
    pthread_t me = pthread_self();
    pthread_mutex_lock(&g->mu);
    if (g->held && pthread_equal(g->owner, me)) {
        pthread_mutex_unlock(&g->mu);
        return EDEADLK;
    }
    if (urgent && g->held && !g->plain)
        lend_priority(g);
    atomic_int *waiting = urgent ? &g->urgent_waiting : &g->normal_waiting;
    (*waiting)++;
    int rc = 0;
    while (!may_enter(g, urgent)) {
        rc = until ? pthread_cond_timedwait(&g->cv, &g->mu, until) : pthread_cond_wait(&g->cv, &g->mu);
        if (urgent && g->held && !g->plain) /* another holder now: lend it the priority too */
            lend_priority(g);
        if (rc == ETIMEDOUT) {
            if (may_enter(g, urgent)) { /* free at the deadline: take it */
                rc = 0;
                break;
            }
            (*waiting)--;
            pthread_cond_broadcast(&g->cv);
            pthread_mutex_unlock(&g->mu);
            return ETIMEDOUT;
        }
    }
    (*waiting)--;
    g->held = true;
    g->owner = me;
    g->owner_tid = (int)gettid();
    g->urgent_run = urgent ? g->urgent_run + 1 : 0;
    pthread_mutex_unlock(&g->mu);
    return 0;
}

int gate_leave(nx_gate *g)
{
    pthread_mutex_lock(&g->mu);
    if (!g->held || !pthread_equal(g->owner, pthread_self())) {
        pthread_mutex_unlock(&g->mu);
        return EPERM;
    }
    g->held = false;
    if (g->lent) { /* back to its own priority (raising one's nice value needs no right) */
        nice_restore(g->own_nice);
        g->lent = false;
    }
    if (g->urgent_waiting + g->normal_waiting > 0)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

int gate_waiting(nx_gate *g, bool urgent)
{
    return atomic_load_explicit(urgent ? &g->urgent_waiting : &g->normal_waiting, memory_order_relaxed);
}

void gate_set_priority(nx_gate *g, bool on)
{
    pthread_mutex_lock(&g->mu);
    g->plain = !on;
    pthread_mutex_unlock(&g->mu);
}
