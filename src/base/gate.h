/* gate.h — a lock with two queues: urgent entrants go ahead of every normal one already waiting.
 *
 * SQLite's one writer connection is behind a gate (store/sqlite.c): an alarm's transaction
 * (STORE_WRITE_URGENT) enters urgent, everything else (HTTP writes, the dispatcher, the tickers,
 * telemetry) normal, so an SOS that arrives while three threads wait for the writer is the next to
 * get it, instead of taking its turn in whatever order a plain mutex wakes its waiters (issue 18).
 *
 * Rules: one holder at a time. When the gate is released, a waiting urgent entrant gets it before
 * any normal one (whatever their arrival order); among entrants of one kind there is no promised
 * order (as with a mutex). Normal entrants cannot starve: after GATE_URGENT_RUN urgent holders in a
 * row while a normal entrant waits, the next holder is a normal one. As an error-checking mutex:
 * the holder entering again gets EDEADLK (not a deadlock), a thread leaving a gate it does not hold
 * gets EPERM and changes nothing. Waits are bounded by a deadline on CLOCK_MONOTONIC (ETIMEDOUT).
 * No allocation; a gate is not copied once initialised.
 *
 * Priority inheritance: an urgent entrant that runs at a higher priority (a lower nice value) than
 * the holder lends it its nice value while it waits, and the holder goes back to its own when it
 * leaves. On a busy box the holder (a telemetry batch, which gives way between rows only when it
 * runs) is otherwise the thread that waits longest for a core while the alarm waits for it. Needs
 * the right to lower a nice value (CAP_SYS_NICE or RLIMIT_NICE); without it nothing is lent. */
#ifndef NX_BASE_GATE_H
#define NX_BASE_GATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#define GATE_URGENT_RUN 8

typedef struct nx_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC (clock_cond_init) */
    bool held;
    pthread_t owner;
    int owner_tid;   /* the holder's kernel thread id (setpriority) */
    bool lent;       /* the holder runs at a lent nice value ... */
    int own_nice;    /* ... and goes back to this one when it leaves */
    atomic_int urgent_waiting, normal_waiting; /* changed under mu; gate_waiting reads them without it */
    int urgent_run; /* urgent holders in a row since the last normal one */
    bool plain;     /* tests only (gate_set_priority): urgent entrants are not preferred */
} nx_gate;

/* 0 or pthread's error. */
int gate_init(nx_gate *g);
void gate_destroy(nx_gate *g);

/* Enter; urgent goes ahead of the normal entrants waiting. until: an absolute CLOCK_MONOTONIC time
 * (clock_deadline(CLOCK_MONOTONIC, ms)), NULL = no limit. 0, ETIMEDOUT, or EDEADLK when the calling
 * thread holds the gate already. */
int gate_enter(nx_gate *g, bool urgent, const struct timespec *until);
/* Leave; 0, or EPERM when the calling thread does not hold the gate (nothing changes). */
int gate_leave(nx_gate *g);
/* Entrants waiting now, urgent or normal: a snapshot without the lock (a batch of lesser worth checks
 * it between its rows to give way; tests). */
int gate_waiting(nx_gate *g, bool urgent);
/* FOR TESTS: on = true (the default) lets urgent entrants ahead; false treats them as normal ones, so
 * that a test can show its check fails without the priority. */
void gate_set_priority(nx_gate *g, bool on);

#endif
