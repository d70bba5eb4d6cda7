/* dispatcher.h — hands every event of the outbox (outbox.h) to every subscriber, at least once.
 *
 * A dispatcher is one thread over one store. Each subscriber has a name, which keys its cursor in
 * event_cursors (the id of the last event it acknowledged), a kind prefix ("devices.alert." or "" for
 * everything) and a handler. The thread wakes when a transaction that emitted events commits, when
 * outbox_notify is called, and at least once a second; for each subscriber it reads the events after
 * its cursor whose kind starts with the prefix, in id order, in batches of 100, calls the handler for
 * each and advances the cursor in a write transaction after each success.
 *
 * Delivery is at least once: a crash between a handler's success and the cursor's write delivers
 * that event again, so handlers must be idempotent (use the event id, or ON CONFLICT DO NOTHING).
 * A handler that fails (returns non-zero) gets the same event again after a back-off (0.2 s,
 * doubling, at most 60 s); the event is never skipped, and later events of that subscriber wait
 * behind it. Other subscribers carry on. Handlers run on the dispatcher thread one after another:
 * a handler must not block for long (hand slow work, such as a webhook call, to its own queue).
 * A subscriber new to a database starts at cursor 0, that is from the first event still stored. */
#ifndef NX_NOTIFY_DISPATCHER_H
#define NX_NOTIFY_DISPATCHER_H

#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

typedef struct nx_event {
    int64_t id;
    int64_t at;           /* epoch ms UTC */
    int64_t community_id; /* 0 when NULL */
    const char *kind;
    const char *subject; /* NULL when none */
    const char *payload; /* JSON object text */
} nx_event;

/* Called on the dispatcher thread. ev and its strings are valid only during the call. Return 0 when
 * the event is handled (or deliberately ignored), a negative NX_E* code to have it retried. The
 * handler may open its own transactions on s; it must not call dispatcher_stop. */
typedef int (*event_handler)(store *s, const nx_event *ev, void *ctx);

typedef struct dispatcher dispatcher;

#define DISPATCHER_MAX_SUBSCRIBERS 32
#define DISPATCHER_NAME_MAX        63 /* bytes of a subscriber name and of a kind prefix */
#define DISPATCHER_BATCH           100

/* Create a dispatcher over s and start its thread. The events and event_cursors tables must exist
 * (the migration creates them). The store must outlive the dispatcher. Returns 0, NX_ENOMEM, or
 * NX_EINTERNAL when the thread cannot start. */
int dispatcher_start(store *s, dispatcher **out, nx_err *e);

/* Add a subscriber. Usually called right after dispatcher_start at start-up (cli wires each module's
 * subscribers); a subscriber added later simply starts on the next round. name: non-empty, at most
 * DISPATCHER_NAME_MAX bytes, unique in this dispatcher and stable across releases (it keys the
 * cursor: renaming a subscriber redelivers everything). kind_prefix: NULL or "" for all kinds.
 * Returns 0, NX_EINVAL (bad name or prefix, fn NULL), NX_ECONFLICT (name taken), NX_ETOOBIG (more
 * than DISPATCHER_MAX_SUBSCRIBERS). Thread-safe. */
int dispatcher_subscribe(dispatcher *d, const char *subscriber_name, const char *kind_prefix,
                         event_handler fn, void *ctx);

/* Wake d now instead of at its next poll. Thread-safe; cheap (signals a condition variable). */
void dispatcher_wake(dispatcher *d);

/* Wake every running dispatcher of this process (what outbox_notify does). */
void dispatcher_wake_all(void);

/* Stop the thread and free d. Blocks until the handler running, if any, returns; undelivered events
 * stay in the table for the next start. NULL accepted. */
void dispatcher_stop(dispatcher *d);

#endif
