/* outbox.h — domain events, written in the same transaction as the change that caused them.
 *
 * A module that changes something others may care about (an SOS alarm opened, an application
 * approved) calls outbox_emit inside its own write transaction. The event row commits or rolls back
 * with the change, so there is never an event for a change that did not happen, nor a change whose
 * event was lost. The dispatcher (dispatcher.h) later hands each event to every subscriber.
 *
 * The tables live in the lead's migration (migrations/sqlite/001_init.sql), exactly:
 *
 *   CREATE TABLE events (
 *     id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: cursors rely on it
 *     at INTEGER NOT NULL,                    -- epoch ms UTC
 *     community_id INTEGER,                   -- NULL for events of no single community
 *     kind TEXT NOT NULL,                     -- "devices.alert.opened": module first, dotted
 *     subject TEXT,                           -- what it is about, e.g. "alert:42"
 *     payload TEXT NOT NULL DEFAULT '{}'      -- a JSON object
 *   );
 *   CREATE TABLE event_cursors (
 *     subscriber TEXT PRIMARY KEY,
 *     last_id INTEGER NOT NULL DEFAULT 0,     -- highest event id acknowledged by the subscriber
 *     updated_at INTEGER NOT NULL
 *   );
 *
 * (PostgreSQL: id BIGSERIAL / GENERATED ALWAYS AS IDENTITY, at and last_id BIGINT.) Payloads are not
 * a place for personal data in clear: put ids in them, not names, phones or ID numbers. */
#ifndef NX_NOTIFY_OUTBOX_H
#define NX_NOTIFY_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define OUTBOX_KIND_MAX    64    /* bytes, [a-z0-9._-] */
#define OUTBOX_CHANNEL     "nx_events" /* store_notify channel of new events (all processes) */
#define OUTBOX_SUBJECT_MAX 128   /* bytes */
#define OUTBOX_PAYLOAD_MAX 65536 /* bytes */

/* Insert one event inside the caller's write transaction tx. kind: non-empty, at most
 * OUTBOX_KIND_MAX bytes of [a-z0-9._-]. community_id: 0 stores NULL. subject: may be NULL, at most
 * OUTBOX_SUBJECT_MAX bytes of UTF-8. payload_json: a JSON object as text ("{...}"), NULL means "{}",
 * at most OUTBOX_PAYLOAD_MAX bytes of UTF-8 (checked for shape and size, not parsed). The event time
 * is clock_now_ms(). The transaction is marked so that every running dispatcher is woken right after
 * it commits (store_tx_notify, and on PostgreSQL store_notify(OUTBOX_CHANNEL) for the dispatchers of
 * other processes); nothing is delivered if it rolls back. On PostgreSQL the call also takes a
 * transaction-level advisory lock that serialises event-writing transactions until they end, so
 * emit events near the end of a transaction.
 * Returns 0; NX_EINVAL (bad kind, subject or payload; e->field names it), NX_ETOOBIG, or the store's
 * error. Does not block beyond the INSERT. */
int outbox_emit(store_tx *tx, const char *kind, int64_t community_id, const char *subject,
                const char *payload_json, nx_err *e);

/* The way modules emit: outbox_emit with the subject "<subject_type>:<subject_id>" (NULL type: no
 * subject) and the payload a JSON object built with jansson, which is stolen (like jansson's *_new:
 * the reference is released whatever happens, so `outbox_emit_new(tx, K, c, "alert", id,
 * json_pack(...), e)` is a whole call). kind: a constant from the emitting module's header
 * (MODULE_EV_*). NX_ENOMEM for a NULL payload (a failed json_pack), NX_EINVAL (field "payload") for a
 * payload that is not an object; otherwise as outbox_emit. */
int outbox_emit_new(store_tx *tx, const char *kind, int64_t community_id, const char *subject_type,
                    int64_t subject_id, json_t *payload, nx_err *e);

/* Wake every dispatcher running in this process now, rather than at its next one-second poll. Only
 * needed for events written without outbox_emit (for instance by another process's SQL); safe to
 * call from any thread at any time. */
void outbox_notify(void);

#endif
