/* dispatcher.c — the outbox dispatcher thread (contract in dispatcher.h).
 *
 * State. Each subscriber keeps, in memory, `cursor` (what event_cursors says) and `scan` (how far it
 * has looked, >= cursor). Both start from event_cursors, or 0, the first time the thread serves the
 * subscriber. Delivering an event moves both to its id, the cursor through a write transaction.
 * When a batch comes back short (fewer than DISPATCHER_BATCH events), the subscriber has seen every
 * matching event of the read snapshot, so `scan` jumps to the snapshot's max(id): a subscriber to a
 * rare kind does not rescan the same stream of other kinds every round. That jump is persisted only
 * every SKIP_PERSIST ids (a restart at worst rescans that many).
 *
 * Reading `id > scan` in order, and the jump, rely on ids becoming visible in id order. SQLite gives
 * that (one writer: the transaction that took id N commits before any transaction can take N+1). On
 * PostgreSQL identity values are handed out without regard to commit order, so outbox_emit takes a
 * transaction-level advisory lock before its INSERT: the transaction holding id N commits (and
 * becomes visible) before the lock passes to the one that will take N+1. Nothing else inserts
 * events.
 *
 * Several processes on one database (PostgreSQL). Each subscriber is served by one process at a
 * time: before serving it, the thread asks store_leader for the lock "nx.dispatch.<name>" (a
 * session advisory lock held by the store's leader connection). The holder keeps it while it lives;
 * the others skip the subscriber, and when the holder dies (kill -9 closes its session) one of them
 * takes over at its next round, reloading the cursor from event_cursors first. So an event is
 * delivered once per subscriber across processes, and at least once when a holder dies between a
 * handler and its cursor write. Other processes' events wake this thread through store_listen on
 * OUTBOX_CHANNEL (LISTEN/NOTIFY); on SQLite store_leader always answers yes.
 *
 * Threads. One thread per dispatcher. Subscribers live in a fixed array: dispatcher_subscribe fills
 * slot n under the mutex, then publishes n; the thread reads n under the mutex and from then on is
 * the only one touching slots' runtime fields. `woken` is under the mutex; `stop` is atomic so that a
 * long batch can notice it between events (both are the nx_worker's, base/worker.h). A process-wide
 * list of running dispatchers serves outbox_notify; a dispatcher leaves it (and unregisters its
 * commit hook) before it is freed. */
#include "notify/dispatcher.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/worker.h"
#include "notify/outbox.h"

#define IDLE_MS        1000
#define RETRY_FIRST_MS 200
#define RETRY_MAX_MS   60000
#define SKIP_PERSIST   1000

typedef struct sub {
    char name[DISPATCHER_NAME_MAX + 1];
    char prefix[DISPATCHER_NAME_MAX + 1];
    event_handler fn;
    void *ctx;
    bool loaded;
    bool leading; /* held the subscriber's dispatch lock at the last round */
    int64_t cursor, scan;
    int fails;
    int64_t retry_at; /* monotonic ms; 0 = now */
} sub;

struct dispatcher {
    store *s;
    nx_worker w; /* the dispatcher's thread; w.mu guards nsubs */
    int nsubs;
    sub subs[DISPATCHER_MAX_SUBSCRIBERS];
    dispatcher *next; /* in the running list */
};

/* An event copied out of its read transaction. */
typedef struct held {
    nx_event ev;
    char *mem;
} held;

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static dispatcher *running;

void dispatcher_wake(dispatcher *d)
{
    worker_wake(&d->w);
}

static void on_commit(void *ctx)
{
    dispatcher_wake(ctx);
}

static void on_listen(void *ctx, const char *channel)
{
    (void)channel;
    dispatcher_wake(ctx);
}

static void backoff(sub *u);

/* Does this process serve u now? Another process may hold its dispatch lock. */
static bool take_turn(dispatcher *d, sub *u)
{
    char lock[DISPATCHER_NAME_MAX + 16];
    snprintf(lock, sizeof lock, "nx.dispatch.%s", u->name);
    bool lead = false;
    nx_err e = {0};
    int rc = store_leader(d->s, lock, &lead, &e);
    if (rc) {
        nx_log(LOG_WARN, "dispatcher.leader_failed subscriber=%s code=%s msg=\"%s\"", u->name, nx_code_name(rc),
               e.msg);
        backoff(u);
        lead = false;
    }
    if (lead && !u->leading) {
        u->loaded = false; /* another process may have moved the cursor meanwhile */
        nx_log(LOG_INFO, "dispatcher.serving subscriber=%s", u->name);
    }
    u->leading = lead;
    return lead;
}

void dispatcher_wake_all(void)
{
    pthread_mutex_lock(&running_mu);
    for (dispatcher *d = running; d; d = d->next)
        dispatcher_wake(d);
    pthread_mutex_unlock(&running_mu);
}

static void backoff(sub *u)
{
    u->fails++;
    int64_t ms = RETRY_FIRST_MS;
    for (int i = 1; i < u->fails && ms < RETRY_MAX_MS; i++)
        ms *= 2;
    if (ms > RETRY_MAX_MS)
        ms = RETRY_MAX_MS;
    u->retry_at = clock_mono_ms() + ms;
}

static int load_cursor(dispatcher *d, sub *u)
{
    nx_err e = {0};
    store_tx *tx;
    int rc = store_begin(d->s, STORE_READ, &tx, &e);
    if (rc == 0) {
        int64_t v = 0;
        rc = store_one_int(tx, "SELECT last_id FROM event_cursors WHERE subscriber = $1",
                           (store_param[]){P_TEXT(u->name)}, 1, &v, &e);
        if (rc == NX_ENOTFOUND)
            rc = 0;
        if (rc == 0)
            rc = store_commit(tx, &e);
        else
            store_rollback(tx);
        if (rc == 0) {
            u->cursor = u->scan = v;
            u->loaded = true;
        }
    }
    if (rc)
        nx_log(LOG_WARN, "dispatcher.cursor_load_failed subscriber=%s code=%s msg=\"%s\"", u->name,
               nx_code_name(rc), e.msg);
    return rc;
}

/* The cursor is written without waiting for the disk (STORE_WRITE_LAZY): after a power loss it may be
 * a few events behind, and those events are delivered again — which at-least-once delivery allows
 * and every handler already copes with (a crash between a handler and this write does the same). One
 * fsync per subscriber and event held the single writer of SQLite for milliseconds each, and an
 * alarm's own commit waited behind them (issue 18, measured: the busiest holder of the write lock
 * under an SOS flood). Order is kept: a later durable commit makes every earlier lazy one durable. */
static int save_cursor(dispatcher *d, sub *u, int64_t id)
{
    nx_err e = {0};
    store_tx *tx;
    int rc = store_begin(d->s, STORE_WRITE_LAZY, &tx, &e);
    if (rc == 0) {
        rc = store_exec(tx,
                        "INSERT INTO event_cursors (subscriber, last_id, updated_at) VALUES ($1, $2, $3)"
                        " ON CONFLICT (subscriber) DO UPDATE SET last_id = excluded.last_id,"
                        " updated_at = excluded.updated_at WHERE event_cursors.last_id < excluded.last_id",
                        (store_param[]){P_TEXT(u->name), P_INT(id), P_INT(clock_now_ms())}, 3, NULL, &e);
        if (rc == 0)
            rc = store_commit(tx, &e);
        else
            store_rollback(tx);
    }
    if (rc) {
        nx_log(LOG_WARN, "dispatcher.cursor_save_failed subscriber=%s event=%lld code=%s msg=\"%s\"", u->name,
               (long long)id, nx_code_name(rc), e.msg);
        return rc;
    }
    u->cursor = id;
    return 0;
}

static char *put(char **p, const char *s, size_t n)
{
    char *at = *p;
    memcpy(at, s, n);
    at[n] = '\0';
    *p += n + 1;
    return at;
}

/* Copy the current row into h. */
static int hold_row(store_rows *r, held *h)
{
    const char *kind = store_text(r, 3), *subject = store_text(r, 4), *payload = store_text(r, 5);
    size_t nk = kind ? strlen(kind) : 0, ns = subject ? strlen(subject) : 0,
           np = payload ? strlen(payload) : 0;
    h->mem = malloc(nk + ns + np + 3);
    if (h->mem == NULL)
        return NX_ENOMEM;
    char *p = h->mem;
    h->ev.id = store_int(r, 0);
    h->ev.at = store_int(r, 1);
    h->ev.community_id = store_int(r, 2);
    h->ev.kind = put(&p, kind ? kind : "", nk);
    h->ev.subject = subject ? put(&p, subject, ns) : NULL;
    h->ev.payload = put(&p, payload ? payload : "{}", np);
    return 0;
}

/* Read the next batch for u into hs; *n events, *max_id the snapshot's highest event id. */
static int read_batch(dispatcher *d, sub *u, held *hs, int *n, int64_t *max_id)
{
    nx_err e = {0};
    store_tx *tx;
    *n = 0;
    *max_id = 0;
    int rc = store_begin(d->s, STORE_READ, &tx, &e);
    if (rc)
        goto out;
    store_rows *r;
    rc = store_query(tx,
                     "SELECT id, at, community_id, kind, subject, payload FROM events"
                     " WHERE id > $1 AND substr(kind, 1, length($2)) = $2 ORDER BY id LIMIT $3",
                     (store_param[]){P_INT(u->scan), P_TEXT(u->prefix), P_INT(DISPATCHER_BATCH)}, 3, &r, &e);
    if (rc == 0) {
        while (*n < DISPATCHER_BATCH && store_row(r)) {
            if ((rc = hold_row(r, &hs[*n])))
                break;
            (*n)++;
        }
        int end = store_rows_end(r, &e);
        if (rc == 0)
            rc = end;
        if (rc == 0 && *n < DISPATCHER_BATCH)
            rc = store_one_int(tx, "SELECT coalesce(max(id), 0) FROM events", NULL, 0, max_id, &e);
    }
    if (rc == 0)
        rc = store_commit(tx, &e);
    else
        store_rollback(tx);
out:
    if (rc)
        nx_log(LOG_WARN, "dispatcher.read_failed subscriber=%s code=%s msg=\"%s\"", u->name, nx_code_name(rc),
               e.msg);
    return rc;
}

/* Serve one batch to u. Returns 1 when more events may be waiting right away, else 0. */
static int serve(dispatcher *d, sub *u, held *hs)
{
    u->retry_at = 0; /* its time has come; a failure below sets it again */
    if (!take_turn(d, u))
        return 0;
    if (!u->loaded && load_cursor(d, u) != 0) {
        backoff(u);
        return 0;
    }
    int n = 0;
    int64_t max_id = 0;
    if (read_batch(d, u, hs, &n, &max_id) != 0) {
        backoff(u);
        return 0;
    }
    int done = 0;
    for (; done < n && !atomic_load(&d->w.stop); done++) {
        const nx_event *ev = &hs[done].ev;
        int rc = u->fn(d->s, ev, u->ctx);
        if (rc != 0) {
            backoff(u);
            nx_log(u->fails >= 10 ? LOG_ERROR : LOG_WARN,
                   "dispatcher.handler_failed subscriber=%s event=%lld kind=%s code=%s attempt=%d", u->name,
                   (long long)ev->id, ev->kind, nx_code_name(rc), u->fails);
            break;
        }
        if (u->fails)
            nx_log(LOG_INFO, "dispatcher.handler_recovered subscriber=%s event=%lld attempts=%d", u->name,
                   (long long)ev->id, u->fails + 1);
        u->fails = 0;
        u->retry_at = 0;
        u->scan = ev->id; /* handled: not again in this process, even if the save below fails */
        if (save_cursor(d, u, ev->id) != 0) {
            backoff(u);
            done++;
            break;
        }
    }
    bool all = done == n && u->retry_at == 0;
    for (int i = 0; i < n; i++)
        free(hs[i].mem);
    if (!all)
        return 0;
    if (n == DISPATCHER_BATCH)
        return 1;
    if (max_id > u->scan)
        u->scan = max_id;
    if (u->scan - u->cursor >= SKIP_PERSIST && save_cursor(d, u, u->scan) != 0)
        backoff(u);
    return 0;
}

static void *run(void *arg)
{
    dispatcher *d = arg;
    nx_log_set_ctx("dispatcher");
    pthread_setname_np(pthread_self(), "nx-dispatch"); /* top -H, NX_SOS_TRACE */
    held *hs = calloc(DISPATCHER_BATCH, sizeof *hs);
    if (hs == NULL) {
        nx_log(LOG_ERROR, "dispatcher.no_memory");
        return NULL;
    }
    nx_log(LOG_INFO, "dispatcher.started");
    pthread_mutex_lock(&d->w.mu);
    while (!atomic_load(&d->w.stop)) {
        d->w.woken = false;
        int n = d->nsubs;
        pthread_mutex_unlock(&d->w.mu);

        int64_t now = clock_mono_ms(), next = now + IDLE_MS;
        bool more = false;
        for (int i = 0; i < n && !atomic_load(&d->w.stop); i++) {
            sub *u = &d->subs[i];
            if (u->retry_at <= now && serve(d, u, hs) > 0)
                more = true;
            if (u->retry_at && u->retry_at < next)
                next = u->retry_at;
        }

        pthread_mutex_lock(&d->w.mu);
        if (more)
            continue;
        worker_wait(&d->w, next - clock_mono_ms());
    }
    pthread_mutex_unlock(&d->w.mu);
    free(hs);
    nx_log(LOG_INFO, "dispatcher.stopped");
    return NULL;
}

int dispatcher_start(store *s, dispatcher **out, nx_err *e)
{
    *out = NULL;
    dispatcher *d = calloc(1, sizeof *d);
    if (d == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    d->s = s;
    worker_init(&d->w);
    int rc = store_on_commit(s, on_commit, d);
    if (rc) {
        rc = nx_fail(e, rc, "", "提交钩子已满，无法启动事件分发");
        goto fail;
    }
    if ((rc = store_listen(s, OUTBOX_CHANNEL, on_listen, d, e)) != 0) {
        store_off_commit(s, on_commit, d);
        goto fail;
    }
    if (worker_start(&d->w, run, d) != 0) {
        store_unlisten(s, OUTBOX_CHANNEL, on_listen, d);
        store_off_commit(s, on_commit, d);
        rc = nx_fail(e, NX_EINTERNAL, "", "无法启动事件分发线程");
        goto fail;
    }
    pthread_mutex_lock(&running_mu);
    d->next = running;
    running = d;
    pthread_mutex_unlock(&running_mu);
    *out = d;
    return 0;
fail:
    worker_cleanup(&d->w);
    free(d);
    return rc;
}

static bool name_ok(const char *s, bool allow_empty)
{
    if (s == NULL)
        return allow_empty;
    size_t n = strlen(s);
    if (n > DISPATCHER_NAME_MAX || (n == 0 && !allow_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

int dispatcher_subscribe(dispatcher *d, const char *subscriber_name, const char *kind_prefix,
                         event_handler fn, void *ctx)
{
    if (fn == NULL || !name_ok(subscriber_name, false) || !name_ok(kind_prefix, true))
        return NX_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&d->w.mu);
    for (int i = 0; i < d->nsubs; i++)
        if (strcmp(d->subs[i].name, subscriber_name) == 0)
            rc = NX_ECONFLICT;
    if (rc == 0 && d->nsubs == DISPATCHER_MAX_SUBSCRIBERS)
        rc = NX_ETOOBIG;
    if (rc == 0) {
        sub *u = &d->subs[d->nsubs];
        memset(u, 0, sizeof *u);
        str_copy(u->name, subscriber_name, sizeof u->name);
        str_copy(u->prefix, kind_prefix ? kind_prefix : "", sizeof u->prefix);
        u->fn = fn;
        u->ctx = ctx;
        d->nsubs++;
        d->w.woken = true;
        pthread_cond_signal(&d->w.cv);
    }
    pthread_mutex_unlock(&d->w.mu);
    if (rc)
        nx_log(LOG_ERROR, "dispatcher.subscribe_failed subscriber=%s code=%s", subscriber_name,
               nx_code_name(rc));
    return rc;
}

void dispatcher_stop(dispatcher *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&running_mu);
    for (dispatcher **pp = &running; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    pthread_mutex_unlock(&running_mu);
    store_unlisten(d->s, OUTBOX_CHANNEL, on_listen, d);
    store_off_commit(d->s, on_commit, d);
    pthread_mutex_lock(&d->w.mu);
    atomic_store(&d->w.stop, true);
    pthread_cond_signal(&d->w.cv);
    pthread_mutex_unlock(&d->w.mu);
    pthread_join(d->w.thread, NULL);
    worker_cleanup(&d->w);
    free(d);
}
