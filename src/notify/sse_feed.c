/* sse_feed.c — outbox events to an SSE hub (see sse_feed.h).
 *
 * One thread per feed: it waits on a condition variable signalled by the commit hook and the
 * cross-process listener, or a one-second timeout, then reads the events after its cursor (at most
 * 500 per round, repeated while rows come) in a read transaction and publishes each. Reading is cheap
 * (an index range on the events primary key), so a burst of commits costs one query. sse_feed_pump
 * runs the same round on the caller's thread (the gateway's writer, right after it committed an
 * alarm: one thread hand-off fewer on the alarm's way to the stream); round_mu keeps one round at a
 * time, so the cursor moves forward once and events go out once and in order. */
#include "notify/sse_feed.h"

#include "base/clock.h"

#include "base/log.h"
#include "base/trace.h"
#include "base/str.h"
#include "base/worker.h"
#include "notify/outbox.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sse_feed {
    store *db;
    http_sse_hub *hub;
    char like[80];
    int64_t cursor;
    nx_worker w; /* the feed's thread, woken by commits and notifications */
    pthread_mutex_t round_mu; /* one round at a time: the feed's thread or sse_feed_pump */
    bool listening;
};

static void wake(void *ctx)
{
    sse_feed *f = ctx;
    worker_wake(&f->w);
}

static void on_listen(void *ctx, const char *channel)
{
    (void)channel;
    wake(ctx);
}

static int round_once(sse_feed *f, int *count)
{
    nx_err e;
    nx_err_clear(&e);
    store_tx *tx = NULL;
    int rc = store_begin(f->db, STORE_READ, &tx, &e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(f->cursor), P_TEXT(f->like)};
    store_rows *r = NULL;
    *count = 0;
    rc = store_query(tx,
                     "SELECT e.id, e.at, e.kind, e.payload, e.community_id, c.street_id FROM events e "
                     "LEFT JOIN communities c ON c.id = e.community_id WHERE e.id > $1 AND e.kind LIKE $2 "
                     "ORDER BY e.id LIMIT 500",
                     p, 2, &r, &e);
    while (rc == 0 && store_row(r)) {
        int64_t id = store_int(r, 0);
        json_t *data = json_loads(store_text(r, 3) ? store_text(r, 3) : "{}", 0, NULL);
        if (json_is_object(data)) {
            http_sse_scope sc = {.street_id = store_int(r, 5), .community_id = store_int(r, 4)};
            json_t *g = json_object_get(data, "grid_id"), *res = json_object_get(data, "resident_id");
            json_t *acc = json_object_get(data, "account_id");
            sc.grid_id = json_is_integer(g) ? json_integer_value(g) : 0;
            sc.resident_id = json_is_integer(res) ? json_integer_value(res) : 0;
            sc.account_id = json_is_integer(acc) ? json_integer_value(acc) : 0;
            json_object_set_new(data, "event_id", json_integer(id));
            json_object_set_new(data, "at", json_integer(store_int(r, 1)));
            char *text = json_dumps(data, JSON_COMPACT);
            json_t *al = json_object_get(data, "alert_id");
            trace_mark("feed.publish", id, json_is_integer(al) ? json_integer_value(al) : 0);
            if (text)
                http_sse_publish(f->hub, (uint64_t)id, store_text(r, 2), text, &sc);
            free(text);
        }
        json_decref(data);
        f->cursor = id;
        (*count)++;
    }
    if (rc == 0)
        rc = store_rows_end(r, &e);
    else
        store_rows_free(r);
    store_rollback(tx);
    return rc;
}

/* Publish everything after the cursor (rounds of 500), under the round lock. */
static void catch_up(sse_feed *f)
{
    pthread_mutex_lock(&f->round_mu);
    int n = 0, rc;
    do {
        rc = round_once(f, &n);
    } while (rc == 0 && n == 500);
    pthread_mutex_unlock(&f->round_mu);
    if (rc)
        nx_log(LOG_WARN, "sse_feed.read_failed code=%s", nx_code_name(rc));
}

void sse_feed_pump(sse_feed *f)
{
    if (f)
        catch_up(f);
}

void sse_feed_pump_cb(void *f)
{
    sse_feed_pump(f);
}

static void *feed_main(void *arg)
{
    sse_feed *f = arg;
    pthread_setname_np(pthread_self(), "nx-sse-feed");
    pthread_mutex_lock(&f->w.mu);
    while (!f->w.stop) {
        f->w.woken = false;
        pthread_mutex_unlock(&f->w.mu);
        catch_up(f);
        pthread_mutex_lock(&f->w.mu);
        worker_wait(&f->w, 1000);
    }
    pthread_mutex_unlock(&f->w.mu);
    return NULL;
}

int sse_feed_start(store *s, http_sse_hub *hub, const char *kind_prefix, sse_feed **out, nx_err *e)
{
    sse_feed *f = calloc(1, sizeof *f);
    if (!f)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    f->db = s;
    f->hub = hub;
    snprintf(f->like, sizeof f->like, "%s%%", kind_prefix ? kind_prefix : "");
    worker_init(&f->w);
    pthread_mutex_init(&f->round_mu, NULL);
    store_tx *tx = NULL;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc == 0) {
        rc = store_one_int(tx, "SELECT COALESCE(MAX(id), 0) FROM events", NULL, 0, &f->cursor, e);
        store_rollback(tx);
    }
    if (rc)
        goto fail;
    if ((rc = store_on_commit(s, wake, f)))
        goto fail;
    if (store_listen(s, OUTBOX_CHANNEL, on_listen, f, e) == 0)
        f->listening = true;
    if (worker_start(&f->w, feed_main, f) != 0) {
        rc = nx_fail(e, NX_EINTERNAL, "", "无法启动实时推送线程");
        store_off_commit(s, wake, f);
        if (f->listening)
            store_unlisten(s, OUTBOX_CHANNEL, on_listen, f);
        goto fail;
    }
    *out = f;
    return 0;
fail:
    worker_cleanup(&f->w);
    pthread_mutex_destroy(&f->round_mu);
    free(f);
    return rc;
}

void sse_feed_stop(sse_feed *f)
{
    if (!f)
        return;
    store_off_commit(f->db, wake, f);
    if (f->listening)
        store_unlisten(f->db, OUTBOX_CHANNEL, on_listen, f);
    worker_stop(&f->w);
    worker_cleanup(&f->w);
    pthread_mutex_destroy(&f->round_mu);
    free(f);
}
