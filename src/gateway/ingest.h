/* ingest.h — the gateway's writer: a queue of decoded frames drained into the store through
 * devices_ingest, in batches, by two threads: one for alarms (and takeover signals), one for
 * telemetry (ingest.c).
 *
 * The queue is filled by the loop thread (tcp.c) and emptied by the writer thread. A batch is written
 * when an alarm is queued (at once), when INGEST_BATCH rows wait, or when the oldest row has waited
 * batch_ms; it takes what waits, up to INGEST_BATCH_MAX rows. Alarms carry a token: after the transaction holding them has committed (or failed), done
 * is called with it on the alarm thread, and the gateway sends the device its ack only on rc == 0.
 * When a batch fails, its rows are retried one by one so one bad row cannot sink the others; rows
 * that still fail are dropped (counted, logged), alarms are reported failed (not acknowledged: the
 * watch sends them again).
 *
 * Quarantine (ingest_quarantine, the TCP input): unregistered ids are only seen (devices.h,
 * devices_ingest_with); each item held so is reported through held() on either thread, and an
 * alarm held so is done with rc 0 and alert_id DEVICES_HELD (not to be acknowledged). */
#ifndef NX_GATEWAY_INGEST_H
#define NX_GATEWAY_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "modules/devices/devices.h"
#include "wire/codec.h"

#define INGEST_BATCH 200
/* A batch of telemetry takes up to this many rows when that many wait (a backlog: devices send faster
 * than the store takes one batch at a time): fewer commits, and a device's row, steps and rules are
 * written or read once for all its frames in the batch (issue 18: under load the writer thread gets
 * a fraction of a core, and the queue grows). A batch holding alarms stays at most INGEST_BATCH, and a
 * batch of telemetry still gives way to an alarm between any two rows. */
#define INGEST_BATCH_MAX 1000

typedef struct gw_ingest gw_ingest;

/* Called on the alarm thread (the writer's, once that one has stopped) for each alarm item: rc 0 once
 * committed, alert_id its alert. */
typedef void (*ingest_done_fn)(void *ctx, void *token, int rc, int64_t alert_id);

/* Start the writer thread. queue_max: non-alarm items beyond it are refused; alarms have their own
 * cap, ingest_alarms_max(queue_max) queued alarms, so that a flood of (forged) alarms cannot grow the
 * queue without limit — an alarm refused is not acknowledged and the watch repeats it. */
int ingest_start(store *s, int batch_ms, int64_t esc_ms, int queue_max, ingest_done_fn done, void *ctx,
                 gw_ingest **out, nx_err *e);

/* Alarms queued at most for a queue of queue_max rows: a tenth of it, at least 64. Pure. */
int ingest_alarms_max(int queue_max);

/* Turn quarantine on (before the first push): unregistered ids are only seen, at most max of them
 * (devices_ingest_with), and held(ctx, proto, id) is called on either thread once per held item's
 * device and batch. */
void ingest_quarantine(gw_ingest *g, int max, void (*held)(void *ctx, int proto, const char *id));

/* Fill in as the ingest item (DEVICES_IN_FRAME) of message m (as decoded by wire_proto_decode) from
 * device (watch id or IW IMEI, truncated to in->imei), read at now_ms. m.raw and m.payload are copied
 * as pointers; ingest_push drops them. Pure. */
void ingest_item_frame(devices_in *in, const wire_msg *m, const char *device, int64_t now_ms);

/* Queue a copy of item (msg.raw and msg.payload are cleared). token non-NULL marks an alarm whose
 * completion is reported through done. Returns 0, or NX_EBUSY when the queue (for an alarm: the
 * alarms' cap) is full (item dropped) or NX_ENOMEM. Thread-safe, never blocks on the store. */
int ingest_push(gw_ingest *g, const devices_in *item, void *token);

/* After each batch that held alarms (or takeover signals) has committed and done() was called for
 * its alarms, fn(ctx) runs on the alarm thread: the alarms' own short path to the live streams
 * (sse_feed_pump publishes their events at once instead of waking the feed's thread). Set before the
 * first push; fn NULL = none. */
void ingest_after_alarms(gw_ingest *g, void (*fn)(void *ctx), void *ctx);

/* Back-pressure for an input that can stop reading (TCP): ingest_over_high tells whether high rows or
 * more are queued (0 = queue_max / 2), and if so arranges that drained(ctx) is called once, on the
 * writer thread, when the queue is down to low (0 = high / 4). The input stops reading from a
 * connection that finds the queue over high and starts again when told: devices wait in TCP instead
 * of their rows being dropped. Rows pushed past queue_max are still refused (a hard cap). */
void ingest_backpressure(gw_ingest *g, int high, int low, void (*drained)(void *ctx));
bool ingest_over_high(gw_ingest *g);

/* Counters: rows written, rows dropped, batches. */
void ingest_counters(gw_ingest *g, uint64_t *written, uint64_t *dropped, uint64_t *batches);

/* Write everything still queued, then stop and free. NULL accepted. Blocks. */
void ingest_stop(gw_ingest *g);

#endif
