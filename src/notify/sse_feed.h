/* sse_feed.h — the live feed: outbox events of a kind prefix, published to an SSE hub as they commit,
 * in every process.
 *
 * Not a dispatcher subscriber on purpose: a dispatcher cursor is shared by every process on one
 * database (it is a row in event_cursors), so each event would reach the streams of one process
 * only. The feed keeps its own cursor in memory, starting at the newest event when it starts (live
 * streams show what happens from now on; a reconnecting browser catches up from the hub's ring with
 * Last-Event-ID). It wakes on this process's commits (store_on_commit) and on other processes'
 * (store_listen on OUTBOX_CHANNEL, PostgreSQL), and polls once a second in case a wake-up was lost.
 * Each event goes out with its outbox id, its kind as the event name, and its payload as data, with
 * "at" added; its scope tags are the event's community (and that community's street) and the
 * payload's "grid_id", "resident_id" and "account_id" (an event with an account_id reaches that
 * account's streams only: http_sse_scope). */
#ifndef NX_NOTIFY_SSE_FEED_H
#define NX_NOTIFY_SSE_FEED_H

#include "base/err.h"
#include "http/http.h"
#include "store/store.h"

typedef struct sse_feed sse_feed;

/* Start the feed thread for events whose kind starts with kind_prefix (e.g. "devices.alert.").
 * s and hub must outlive the feed. 0, NX_ENOMEM, NX_EINTERNAL, or the store's code. */
int sse_feed_start(store *s, http_sse_hub *hub, const char *kind_prefix, sse_feed **out, nx_err *e);
/* Publish the events committed since the feed's last round now, on the calling thread (under the
 * feed's round lock, so the feed's own thread and callers never publish twice or out of order).
 * For a path that must not wait for the feed thread to be scheduled: the gateway's writer calls it
 * right after committing alarms. Uses the store (a read transaction): never from a commit hook. */
void sse_feed_pump(sse_feed *f);
/* sse_feed_pump for a void * callback slot (gw_options.after_alarms). */
void sse_feed_pump_cb(void *f);

/* Stop and free (joins). NULL accepted. */
void sse_feed_stop(sse_feed *f);

#endif
