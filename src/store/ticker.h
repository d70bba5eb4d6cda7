/* ticker.h — the one periodic job thread of nuanxin: run a function every period, in one process only.
 *
 * A ticker is a thread that, every period, asks store_leader for its lock and, while this process
 * holds it, calls fn with the current wall-clock time (clock_now_ms). On SQLite the process is always
 * the leader; on PostgreSQL one process among those sharing the database runs the job. The period is
 * measured on CLOCK_MONOTONIC, so setting the system clock neither fires a job early nor stalls it.
 * store_ticker_wake runs the next tick at once; store_ticker_stop wakes the thread, waits for a call
 * of fn in progress to return, and joins. Schedulers (services' sweep, the devices rules, visits'
 * scheduler) are written as a tick function and started here, never with a thread of their own. */
#ifndef NX_STORE_TICKER_H
#define NX_STORE_TICKER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* One tick: ctx as given at start, now_ms the wall-clock time (epoch ms). A non-zero return is
 * logged (ticker.failed job=<name> with the code and e's message) and the ticker carries on. */
typedef int (*store_tick_fn)(void *ctx, int64_t now_ms, nx_err *e);

typedef struct store_ticker_options {
    const char *name;  /* the store_leader lock and the job's name in logs, 1..63 bytes; copied */
    int64_t period_ms; /* time between the end of one tick and the start of the next, > 0 */
    bool run_at_start; /* the first tick at once (true) or one period after start (false) */
    store_tick_fn fn;
    void *ctx;
} store_ticker_options;

typedef struct store_ticker store_ticker;

/* Start the thread on store s (which must outlive the ticker). *out gets the ticker, to be passed to
 * store_ticker_stop. NX_EINVAL for a missing fn, a bad name or a period ≤ 0; NX_ENOMEM; NX_EINTERNAL
 * when the thread cannot be created. */
int store_ticker_start(store *s, const store_ticker_options *o, store_ticker **out, nx_err *e);

/* Run the next tick now rather than at the end of the period (a tick in progress finishes first, then
 * one more follows). Does not block. */
void store_ticker_wake(store_ticker *t);

/* The number of times fn has been called so far (for tests and diagnostics). */
int64_t store_ticker_runs(store_ticker *t);

/* Stop: wake the thread, let a tick in progress finish, join, free. NULL accepted. */
void store_ticker_stop(store_ticker *t);

#endif
