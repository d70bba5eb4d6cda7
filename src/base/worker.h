/* worker.h — the life of a background thread: its lock, its condition variable, its stop flag.
 *
 * The gateway's ingest writer and command sender, the SSE feed and heartbeat, the outbox dispatcher
 * and the store's ticker each own one thread that sleeps on a condition variable until there is
 * work, a deadline or a request to stop. nx_worker is that shape, written once: embed it in the
 * owner's struct, keep the owner's shared state under w.mu, wait on w.cv with clock_deadline
 * (CLOCK_MONOTONIC), and return from the thread function once w.stop is set.
 *
 * Order: worker_init (the lock is usable from here: hooks registered before the thread starts may
 * take it), worker_start, any number of worker_wake, worker_stop (joins the thread), worker_cleanup
 * (destroys the lock and condition once nothing uses them; also after a failed worker_start). */
#ifndef NX_BASE_WORKER_H
#define NX_BASE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct nx_worker {
    pthread_mutex_t mu; /* the owner's lock: guards its shared state */
    pthread_cond_t cv;  /* timed waits measure CLOCK_MONOTONIC (clock_cond_init) */
    pthread_t thread;
    atomic_bool stop; /* set by worker_stop (under mu); may be read with or without mu */
    bool woken;       /* set by worker_wake (under mu); the thread clears it when it has looked */
} nx_worker;

/* Initialise w's lock and monotonic condition; stop and woken false. */
void worker_init(nx_worker *w);
/* Run fn(arg) on a new thread (w initialised, everything fn reads set up). Returns 0, or NX_EINTERNAL
 * when the thread cannot be created (w stays initialised: worker_cleanup it). */
int worker_start(nx_worker *w, void *(*fn)(void *), void *arg);
/* Set w.woken and signal w.cv, under w.mu: the thread should look for work now. */
void worker_wake(nx_worker *w);
/* With w.mu held: wait on w.cv until w.woken or w.stop is set or ms milliseconds have passed
 * (ms <= 0: only look); spurious wake-ups are absorbed. Leaves woken as it is. Returns !w.stop. */
bool worker_wait(nx_worker *w, int64_t ms);
/* Set w.stop under w.mu, signal w.cv and wait for the thread to return. Blocks. */
void worker_stop(nx_worker *w);
/* Destroy w's lock and condition (after worker_stop, or when the owner never started it). */
void worker_cleanup(nx_worker *w);

#endif
