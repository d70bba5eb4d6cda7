/* ingest.c — the writer thread between the gateway's loop and the store (see ingest.h).
 *
 * The queue is a singly linked list of heap nodes under one mutex; the loop thread appends, the
 * writer thread detaches up to INGEST_BATCH_MAX nodes at a time and writes them in one transaction with
 * devices_ingest, outside the lock, so a slow commit never stalls the loop. Order is kept per device:
 * rows of one device are written in the order they were read, and an alarm is in the same transaction
 * as its device's rows queued before it. Alarms jump the queue (detach_batch): other devices' rows
 * wait; they have a cap of their own (ingest_alarms_max), so a flood of alarms cannot grow the queue
 * without limit. A takeover signal (DEVICES_IN_TAKEOVER) jumps the queue like an alarm: the flag
 * that holds the device's commands must not wait behind seconds of telemetry. Nothing here decodes or replies: the loop did the first and does the second when done()
 * reports the alarm committed.
 *
 * The alarm's short path (issue 18): where an SOS lost its time under contention was measured stage
 * by stage (docs/performance.md): waiting for the telemetry batch in flight, then being written in a
 * batch of 200 telemetry rows, each such commit an fsync queued before the alarm's own. So (1) a batch
 * that holds alarms holds only the alarming devices' rows (a few rows, one short transaction); (2) a
 * telemetry batch gives way: between rows devices_ingest_with asks give_way(), and when an alarm is
 * queued the batch is rolled back and queued again at the head (YIELDS_MAX in a row at most, so
 * alarms cannot starve telemetry); (3) telemetry commits are STORE_WRITE_LAZY (no fsync: every frame
 * in it was answered before it was queued, so a power loss could already lose it), only alarm
 * batches wait for the disk; (4) after an alarm batch, after_alarms (sse_feed_pump) publishes its
 * event to the live streams from this thread, instead of waking the feed's thread.
 *
 * Two threads (issue 18, ninth session): alarms and takeover signals are written by a thread of their
 * own (alarm_main, "nx-gw-alarm"), telemetry by the writer (writer_main), so an alarm never waits for
 * the writer to finish, or to get the write lock for, a telemetry batch. The alarm's transaction is
 * STORE_WRITE_URGENT: it goes ahead of every other writer waiting for the store (base/gate.h), and a
 * telemetry batch in flight gives way while an alarm is queued or waits for the writer
 * (store_urgent_waiting). Order per device is kept across the two threads: the alarm thread does not
 * take a device whose rows are in the telemetry batch in flight (it waits, and that batch gives way
 * or commits), the writer does not start a batch while alarms are queued (the alarm thread takes them
 * and the rows queued before them first) and skips the rows of the devices of the alarm batch in flight
 * (they stay queued, in order, behind it). When the alarm thread has stopped, the writer writes
 * alarms as before (ingest_stop: everything queued is written). */
#include "gateway/ingest.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/nice.h"
#include "base/trace.h"
#include "base/worker.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define YIELDS_MAX 3 /* telemetry batches that give way to alarms in a row, at most (write_batch) */
#define PRIO_DEVICES 16 /* alarming devices in one alarm batch, at most (detach_alarms) */

typedef struct node {
    struct node *next;
    void *token;
    bool prio; /* an alarm (token) or a takeover signal: written before other rows */
    int64_t queued_ms; /* monotonic */
    devices_in item;
} node;

struct gw_ingest {
    store *db;
    int batch_ms;
    int64_t esc_ms;
    int queue_max;
    ingest_done_fn done;
    void *ctx;
    nx_worker w; /* the writer thread; w.mu guards everything below */
    node *head, *tail;
    int count, alarms;
    /* back-pressure (ingest_backpressure): an input that pauses readers above high asks to be told
     * once the queue is down to low */
    int high, low;
    bool want_drained;
    void (*drained)(void *ctx);
    uint64_t written, dropped, batches;
    devices_ingest_opts opts; /* esc_ms; quarantine (set before the first push); yield */
    atomic_int prio_waiting;  /* alarms or takeover signals queued (mirror of alarms, read unlocked) */
    int yields;               /* telemetry batches given way in a row (writer thread only) */
    /* the alarm thread (alarm_main), under w.mu: it waits on acv */
    pthread_t athread;
    pthread_cond_t acv;
    bool alive;   /* started and not told to stop: alarms are its, not the writer's */
    bool astop;
    node *inflight;                 /* the writer's telemetry batch being written (NULL: none) */
    int writer_tid;                 /* the writer's kernel thread id (nice_lend), 0 before it runs */
    bool writer_lent;               /* the writer runs at the alarm thread's priority ... */
    int writer_nice;                /* ... and goes back to this when its batch ends */
    node *adev[PRIO_DEVICES];       /* the devices of the alarm batch being written (nodes in it) */
    int nadev;
    void (*after_alarms)(void *ctx);
    void *after_ctx;
    void (*held)(void *ctx, int proto, const char *id);
};

int ingest_alarms_max(int queue_max)
{
    return queue_max / 10 > 64 ? queue_max / 10 : 64;
}

void ingest_quarantine(gw_ingest *g, int max, void (*held)(void *ctx, int proto, const char *id))
{
    pthread_mutex_lock(&g->w.mu);
    g->opts.quarantine = true;
    g->opts.quarantine_max = max;
    g->held = held;
    pthread_mutex_unlock(&g->w.mu);
}

/* Tell the input which devices' items were held (once per device and run of items). */
static void report_held(gw_ingest *g, const devices_in *item, int64_t id, const devices_in **last)
{
    if (id != DEVICES_HELD || !g->held)
        return;
    if (*last && (*last)->proto == item->proto && strcmp((*last)->imei, item->imei) == 0)
        return;
    *last = item;
    g->held(g->ctx, item->proto, item->imei);
}

/* devices_ingest_with's yield: an alarm (or a takeover signal) is queued, or an alarm's transaction
 * waits for the writer (SQLite's write gate, which this batch holds). */
static bool give_way(void *ctx)
{
    gw_ingest *g = ctx;
    return atomic_load_explicit(&g->prio_waiting, memory_order_relaxed) > 0 || store_urgent_waiting(g->db);
}

/* A telemetry batch that gave way goes back to the head of the queue, in its order: it came before
 * everything still queued. */
static void requeue(gw_ingest *g, node *list, int n)
{
    node *last = list;
    while (last->next)
        last = last->next;
    pthread_mutex_lock(&g->w.mu);
    last->next = g->head;
    g->head = list;
    if (!g->tail)
        g->tail = last;
    g->count += n;
    g->yields++;
    pthread_mutex_unlock(&g->w.mu);
}

/* Write one batch; false when it gave way to an alarm (then it is queued again, not freed). urgent: the
 * alarm thread's batch (also when it holds only rows queued before an alarm): durable, urgent, never
 * gives way. Without its buffers (buf or ids NULL: the thread's allocation failed) every waiting
 * frame is answered NX_ENOMEM. */
static bool write_batch(gw_ingest *g, node *list, int n, devices_in *buf, int64_t *ids, bool urgent)
{
    if (!buf || !ids) {
        for (node *x = list; x; x = x->next)
            if (x->token)
                g->done(g->ctx, x->token, NX_ENOMEM, 0);
        return true;
    }
    int i = 0;
    bool alarms = urgent;
    for (node *x = list; x; x = x->next) {
        buf[i++] = x->item;
        alarms |= x->prio;
        if (x->token)
            trace_mark("gw.picked", (int64_t)(intptr_t)x->token, n);
    }
    nx_err e;
    nx_err_clear(&e);
    /* A batch of telemetry gives way to an alarm queued after it started (rolled back, queued
     * again: the alarm's batch is written first), at most YIELDS_MAX times in a row so that a stream
     * of alarms cannot starve telemetry. A batch holding alarms never gives way. */
    devices_ingest_opts o = g->opts;
    o.yield = !alarms && g->yields < YIELDS_MAX ? give_way : NULL;
    o.yield_ctx = g;
    /* telemetry was answered before it was queued: its commit need not wait for the disk, and the
     * alarms' durable commits do not queue behind its fsyncs (store_tx_lazy) */
    o.lazy = !alarms;
    o.urgent = alarms; /* ahead of every other writer waiting (STORE_WRITE_URGENT) */
    int rc = devices_ingest_with(g->db, buf, n, &o, ids, &e);
    if (rc == DEVICES_YIELDED) {
        trace_mark("gw.yielded", 0, n);
        requeue(g, list, n);
        return false;
    }
    if (!alarms)
        g->yields = 0;
    uint64_t ok = 0, bad = 0;
    const devices_in *last = NULL;
    if (rc == 0) {
        ok = (uint64_t)n;
        i = 0;
        for (node *x = list; x; x = x->next, i++) {
            report_held(g, &x->item, ids[i], &last);
            if (x->token)
                g->done(g->ctx, x->token, 0, ids[i]);
        }
    } else {
        nx_log(LOG_WARN, "gateway.batch_failed rows=%d code=%s", n, nx_code_name(rc));
        /* one by one, so that one bad row does not sink the others */
        devices_ingest_opts o1 = g->opts;
        o1.urgent = alarms;
        for (node *x = list; x; x = x->next) {
            int64_t id = 0;
            nx_err_clear(&e);
            int r1 = devices_ingest_with(g->db, &x->item, 1, &o1, &id, &e);
            if (r1 == 0) {
                ok++;
                report_held(g, &x->item, id, &last);
            } else {
                bad++;
            }
            if (x->token)
                g->done(g->ctx, x->token, r1, id);
        }
        if (bad)
            nx_log(LOG_ERROR, "gateway.rows_dropped rows=%llu code=%s", (unsigned long long)bad, nx_code_name(rc));
    }
    pthread_mutex_lock(&g->w.mu);
    g->written += ok;
    g->dropped += bad;
    g->batches++;
    pthread_mutex_unlock(&g->w.mu);
    if (alarms && g->after_alarms) {
        trace_mark("gw.pump", 0, 0);
        g->after_alarms(g->after_ctx);
    }
    return true;
}

static bool same_device(const node *a, const node *b)
{
    return a->item.proto == b->item.proto && strcmp(a->item.imei, b->item.imei) == 0;
}

/* Take the next batch out of the queue (under mu; the queue is not empty). Alarms first: a queue
 * of telemetry ahead of an alarm (100 000 rows at most, seconds of writing when devices send more
 * than the store takes) must not delay it. So when alarms are queued, the batch starts with the rows
 * of up to PRIO_DEVICES alarming devices, wherever they are in the queue, up to and including each
 * one's last queued alarm; then it is filled from the head as usual. A device's rows keep their
 * order (what is left of it in the queue came after what was taken), and an alarm is in the same
 * transaction as its device's rows queued before it unless those are more than a batch (then they
 * go first, in the batches before it). Rows of different devices may be written in another order
 * than they were read; nothing depends on that order. Cost: one walk of the queue up to its last
 * alarm, per batch that holds alarms. */

/* Unlink x (prev: the node before it, NULL at the head) from the queue and append it to a batch. */
static void take(gw_ingest *g, node *prev, node *x, node ***tailp)
{
    if (prev)
        prev->next = x->next;
    else
        g->head = x->next;
    if (g->tail == x)
        g->tail = prev;
    x->next = NULL;
    **tailp = x;
    *tailp = &x->next;
    if (x->prio) {
        g->alarms--;
        atomic_fetch_sub(&g->prio_waiting, 1);
    }
    g->count--;
}

/* The alarming devices (at most PRIO_DEVICES, in dev) and each one's last queued alarm (last), under
 * mu. Returns how many. */
static int alarm_devices(gw_ingest *g, node **dev, node **last)
{
    int nd = 0, seen = 0;
    for (node *x = g->head; x && seen < g->alarms; x = x->next) {
        if (!x->prio)
            continue;
        seen++;
        if (!x->token)
            continue; /* a takeover signal: taken alone, its device's order does not matter */
        int j = 0;
        while (j < nd && !same_device(dev[j], x))
            j++;
        if (j == nd) {
            if (nd == PRIO_DEVICES)
                continue;
            dev[nd++] = x;
        }
        last[j] = x;
    }
    return nd;
}

/* Whether the writer's telemetry batch in flight holds rows of one of the nd devices (under mu). */
static bool inflight_holds(const gw_ingest *g, node *const *dev, int nd)
{
    for (const node *x = g->inflight; x && nd > 0; x = x->next)
        for (int j = 0; j < nd; j++)
            if (same_device(dev[j], x))
                return true;
    return false;
}

/* Take the alarms' batch (under mu; alarms are queued): takeover signals, then the rows of the nd
 * alarming devices up to and including each one's last queued alarm (alarm_devices). */
static node *detach_alarms(gw_ingest *g, node **dev, node **last, int nd, int *count)
{
    node *first = NULL, **tailp = &first;
    int n = 0;
    /* takeover signals first, each alone: their order against their device's rows is of no matter */
    int left = g->alarms;
    node *prev = NULL, *x = g->head;
    while (x && left > 0 && n < INGEST_BATCH) {
        node *next = x->next;
        if (x->prio)
            left--;
        if (x->prio && !x->token) {
            take(g, prev, x, &tailp);
            n++;
        } else {
            prev = x;
        }
        x = next;
    }
    bool done[PRIO_DEVICES];
    for (int j = 0; j < nd; j++)
        done[j] = false;
    left = nd;
    prev = NULL;
    x = g->head;
    while (x && left > 0 && n < INGEST_BATCH) {
        node *next = x->next;
        int j = 0;
        while (j < nd && (done[j] || !same_device(dev[j], x)))
            j++;
        if (j == nd) {
            prev = x;
            x = next;
            continue;
        }
        if (x == last[j]) {
            done[j] = true;
            left--;
        }
        take(g, prev, x, &tailp);
        n++;
        x = next;
    }
    *count = n;
    return first;
}

/* Take a batch of telemetry from the head (under mu), up to INGEST_BATCH_MAX rows, skipping the rows
 * of the devices of the alarm batch in flight (they stay queued, in their order, behind it). */
static node *detach_telemetry(gw_ingest *g, int *count)
{
    node *first = NULL, **tailp = &first;
    int n = 0;
    node *prev = NULL, *x = g->head;
    while (x && n < INGEST_BATCH_MAX) {
        node *next = x->next;
        int j = 0;
        while (j < g->nadev && !same_device(g->adev[j], x))
            j++;
        if (j < g->nadev) {
            prev = x;
        } else {
            take(g, prev, x, &tailp);
            n++;
        }
        x = next;
    }
    *count = n;
    return first;
}

/* The single-thread batch (the writer alone, once the alarm thread has stopped): alarms first, as
 * the alarm thread takes them; else telemetry. */
static node *detach_batch(gw_ingest *g, int *count)
{
    if (g->alarms > 0) {
        node *dev[PRIO_DEVICES], *last[PRIO_DEVICES];
        int nd = alarm_devices(g, dev, last);
        node *list = detach_alarms(g, dev, last, nd, count);
        if (*count > 0)
            return list; /* a batch that holds alarms is only theirs: a short transaction */
    }
    return detach_telemetry(g, count);
}

static void free_list(node *list)
{
    while (list) {
        node *next = list->next;
        free(list);
        list = next;
    }
}

/* The telemetry writer. */
static void *writer_main(void *arg)
{
    gw_ingest *g = arg;
    pthread_setname_np(pthread_self(), "nx-gw-writer"); /* top -H, /proc/PID/task/TID/comm, the benchmarks */
    devices_in *buf = malloc(sizeof *buf * INGEST_BATCH_MAX);
    int64_t *ids = malloc(sizeof *ids * INGEST_BATCH_MAX);
    pthread_mutex_lock(&g->w.mu);
    g->writer_tid = (int)gettid();
    for (;;) {
        /* what the writer may take: while the alarm thread runs, no alarm (and no batch at all while
         * alarms are queued: the alarm thread takes them, and their devices' rows, first) */
        int mine = g->alive ? (g->alarms > 0 ? 0 : g->count) : g->count;
        if (mine == 0) {
            if (g->w.stop && g->count == 0)
                break;
            pthread_cond_wait(&g->w.cv, &g->w.mu);
            continue;
        }
        int64_t age = clock_mono_ms() - g->head->queued_ms;
        if (!g->w.stop && g->alarms == 0 && g->count < INGEST_BATCH && age < g->batch_ms) {
            int64_t wait = g->batch_ms - age;
            struct timespec until = clock_deadline(CLOCK_MONOTONIC, wait);
            pthread_cond_timedwait(&g->w.cv, &g->w.mu, &until);
            continue;
        }
        int n = 0;
        node *list = g->alive ? detach_telemetry(g, &n) : detach_batch(g, &n);
        if (n == 0) { /* only the rows of the alarm batch in flight wait: it tells us when done */
            pthread_cond_wait(&g->w.cv, &g->w.mu);
            continue;
        }
        g->inflight = list;
        bool tell = g->want_drained && g->count <= g->low;
        if (tell)
            g->want_drained = false;
        pthread_mutex_unlock(&g->w.mu);
        if (tell)
            g->drained(g->ctx);
        if (!write_batch(g, list, n, buf, ids, false))
            list = NULL; /* gave way: queued again */
        pthread_mutex_lock(&g->w.mu);
        g->inflight = NULL;
        if (g->writer_lent) { /* an alarm waited for this batch: back to the writer's own priority */
            nice_restore(g->writer_nice);
            g->writer_lent = false;
        }
        pthread_cond_signal(&g->acv); /* an alarm may wait for this batch's devices */
        pthread_mutex_unlock(&g->w.mu);
        free_list(list);
        pthread_mutex_lock(&g->w.mu);
    }
    pthread_mutex_unlock(&g->w.mu);
    free(buf);
    free(ids);
    return NULL;
}

/* The alarm thread: alarms and takeover signals, each batch a short urgent transaction. */
static void *alarm_main(void *arg)
{
    gw_ingest *g = arg;
    pthread_setname_np(pthread_self(), "nx-gw-alarm");
    /* picked first when woken on a busy box, before exports, telemetry and other processes */
    nice_raise_self(NICE_ALARM, "gateway.alarm_thread_priority");
    devices_in *buf = malloc(sizeof *buf * INGEST_BATCH);
    int64_t *ids = malloc(sizeof *ids * INGEST_BATCH);
    pthread_mutex_lock(&g->w.mu);
    for (;;) {
        if (g->alarms == 0) {
            if (g->astop)
                break;
            pthread_cond_wait(&g->acv, &g->w.mu);
            continue;
        }
        int64_t t0 = trace_on() ? trace_now_us() : 0, queued = g->count;
        node *dev[PRIO_DEVICES], *last[PRIO_DEVICES];
        int nd = alarm_devices(g, dev, last);
        if (inflight_holds(g, dev, nd)) {
            /* the writer is writing earlier rows of an alarming device: that batch gives way (an
             * alarm is queued) or commits, then tells us (acv) */
            trace_mark("gw.alarm_waits_batch", 0, nd);
            /* the writer must run to give way or commit: at this thread's priority until then, not
             * behind the busy box's other work (nice.h; it goes back when the batch ends) */
            int was;
            if (!g->writer_lent && g->writer_tid && nice_lend(g->writer_tid, &was) == 1) {
                g->writer_lent = true;
                g->writer_nice = was;
            }
            pthread_cond_wait(&g->acv, &g->w.mu);
            continue;
        }
        int n = 0;
        node *list = detach_alarms(g, dev, last, nd, &n);
        if (t0) /* the walks of the queue (its length then) under the queue's lock */
            trace_mark("gw.alarm_detach", queued, trace_now_us() - t0);
        g->nadev = 0;
        for (int j = 0; j < nd; j++)
            g->adev[g->nadev++] = dev[j]; /* nodes of list: valid until it is freed below */
        pthread_cond_signal(&g->w.cv); /* the writer may take telemetry again */
        pthread_mutex_unlock(&g->w.mu);
        write_batch(g, list, n, buf, ids, true); /* an alarm batch never gives way */
        pthread_mutex_lock(&g->w.mu);
        g->nadev = 0;
        pthread_cond_signal(&g->w.cv); /* the writer may take this batch's devices' rows again */
        pthread_mutex_unlock(&g->w.mu);
        free_list(list);
        pthread_mutex_lock(&g->w.mu);
    }
    pthread_mutex_unlock(&g->w.mu);
    free(buf);
    free(ids);
    return NULL;
}

int ingest_start(store *s, int batch_ms, int64_t esc_ms, int queue_max, ingest_done_fn done, void *ctx,
                 gw_ingest **out, nx_err *e)
{
    gw_ingest *g = calloc(1, sizeof *g);
    if (!g)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    g->db = s;
    g->batch_ms = batch_ms > 0 ? batch_ms : 100;
    g->esc_ms = esc_ms;
    g->opts.esc_ms = esc_ms;
    g->queue_max = queue_max > 0 ? queue_max : 100000;
    g->done = done;
    g->ctx = ctx;
    worker_init(&g->w);
    pthread_cond_init(&g->acv, NULL);
    g->alive = true; /* before either thread runs: the writer leaves alarms to the alarm thread */
    if (pthread_create(&g->athread, NULL, alarm_main, g) != 0) {
        pthread_cond_destroy(&g->acv);
        worker_cleanup(&g->w);
        free(g);
        return nx_fail(e, NX_EINTERNAL, "", "无法启动报警写入线程");
    }
    if (worker_start(&g->w, writer_main, g) != 0) {
        pthread_mutex_lock(&g->w.mu);
        g->astop = true;
        pthread_cond_signal(&g->acv);
        pthread_mutex_unlock(&g->w.mu);
        pthread_join(g->athread, NULL);
        pthread_cond_destroy(&g->acv);
        worker_cleanup(&g->w);
        free(g);
        return nx_fail(e, NX_EINTERNAL, "", "无法启动设备数据写入线程");
    }
    *out = g;
    return 0;
}

void ingest_item_frame(devices_in *in, const wire_msg *m, const char *device, int64_t now_ms)
{
    memset(in, 0, sizeof *in);
    in->kind = DEVICES_IN_FRAME;
    in->proto = m->proto;
    in->at = now_ms;
    snprintf(in->imei, sizeof in->imei, "%s", device);
    in->msg = *m;
}

int ingest_push(gw_ingest *g, const devices_in *item, void *token)
{
    pthread_mutex_lock(&g->w.mu);
    bool prio = token || item->kind == DEVICES_IN_TAKEOVER;
    bool full = prio ? g->alarms >= ingest_alarms_max(g->queue_max) : g->count >= g->queue_max;
    if (full)
        g->dropped++;
    pthread_mutex_unlock(&g->w.mu);
    if (full)
        return NX_EBUSY;
    node *x = malloc(sizeof *x);
    if (!x)
        return NX_ENOMEM;
    x->next = NULL;
    x->token = token;
    x->prio = prio;
    x->queued_ms = clock_mono_ms();
    x->item = *item;
    x->item.msg.raw = NULL;
    x->item.msg.raw_len = 0;
    x->item.msg.payload = NULL;
    x->item.msg.payload_len = 0;
    pthread_mutex_lock(&g->w.mu);
    if (g->tail)
        g->tail->next = x;
    else
        g->head = x;
    g->tail = x;
    g->count++;
    if (prio) {
        g->alarms++;
        atomic_fetch_add(&g->prio_waiting, 1);
    }
    if (prio && g->alive)
        pthread_cond_signal(&g->acv); /* the alarm thread */
    else if (prio || g->count == 1 || g->count >= INGEST_BATCH)
        pthread_cond_signal(&g->w.cv);
    pthread_mutex_unlock(&g->w.mu);
    return 0;
}

void ingest_after_alarms(gw_ingest *g, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&g->w.mu);
    g->after_alarms = fn;
    g->after_ctx = ctx;
    pthread_mutex_unlock(&g->w.mu);
}

void ingest_backpressure(gw_ingest *g, int high, int low, void (*drained)(void *ctx))
{
    pthread_mutex_lock(&g->w.mu);
    g->high = high > 0 && high <= g->queue_max ? high : g->queue_max / 2;
    g->low = low >= 0 && low < g->high ? low : g->high / 4;
    g->drained = drained;
    pthread_mutex_unlock(&g->w.mu);
}

bool ingest_over_high(gw_ingest *g)
{
    pthread_mutex_lock(&g->w.mu);
    bool over = g->drained && g->count >= g->high;
    if (over)
        g->want_drained = true;
    pthread_mutex_unlock(&g->w.mu);
    return over;
}

void ingest_counters(gw_ingest *g, uint64_t *written, uint64_t *dropped, uint64_t *batches)
{
    pthread_mutex_lock(&g->w.mu);
    *written = g->written;
    *dropped = g->dropped;
    *batches = g->batches;
    pthread_mutex_unlock(&g->w.mu);
}

void ingest_stop(gw_ingest *g)
{
    if (!g)
        return;
    /* the alarm thread first (it writes the alarms queued, then returns), then the writer, which
     * writes whatever is left, alarms pushed meanwhile included (alive false: as one thread) */
    pthread_mutex_lock(&g->w.mu);
    g->astop = true;
    pthread_cond_signal(&g->acv);
    pthread_mutex_unlock(&g->w.mu);
    pthread_join(g->athread, NULL);
    pthread_mutex_lock(&g->w.mu);
    g->alive = false;
    pthread_cond_signal(&g->w.cv);
    pthread_mutex_unlock(&g->w.mu);
    worker_stop(&g->w);
    worker_cleanup(&g->w);
    pthread_cond_destroy(&g->acv);
    free(g);
}
