/* gateway.h — the wristband gateway: TCP listeners for the watch and IW protocols on one libuv loop
 * thread, and the ingest writer thread that stores what they decode (DESIGN §7).
 *
 * Per connection: a framer with the protocol's frame cap, a reply per the spec (an unregistered
 * device's keep-alive is answered too), a short timeout until it names its device and an idle timeout
 * after, a cap on unsent reply bytes (reading pauses at a quarter of it, so that a burst of frames
 * needing replies waits instead of being dropped); beyond max_connections (bounded by the descriptor
 * limit) a new connection is closed at once.
 * Identity (the protocols carry no credential): a connection is pinned to the first id it names; a
 * frame naming another id is dropped and counted. Unregistered ids are in quarantine (devices.h):
 * seen, nothing stored, their alarms never queued nor acknowledged. A registered id that arrives from
 * another address while its connection lives, or soon after it closed, is a takeover signal (the device
 * is flagged, staff alerted, its commands held); from the same address it is a reconnect that replaces
 * the old connection. Per source address: an optional allow-list, a cap on connections, frames and
 * alarms per minute (exempt networks skip the caps).
 * Positions, readings and keep-alives are queued and written in batches (every batch_ms or 200 rows,
 * one transaction); an alarm frame is acknowledged only after the transaction holding its alert has
 * committed. Device commands queued by staff are sent to the device's connection by a sender thread
 * (cmdq.h) and its answers close them (through ingest). A frame that does not decode stores nothing; a connection whose frame exceeds the cap is
 * dropped; neither disturbs any other connection. */
#ifndef NX_GATEWAY_GATEWAY_H
#define NX_GATEWAY_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "secure/crypto.h"
#include "store/store.h"

typedef struct gw_options {
    const char *watch_listen; /* "HOST:PORT" (port 0 = any free one), NULL/""/"off" = disabled */
    const char *iw_listen;
    int max_connections;      /* 0 = 50000 */
    int idle_timeout_s;       /* 0 = 900 */
    int batch_ms;             /* 0 = 100 */
    int64_t esc_ms;           /* first escalation of a new alert (0 = devices default) */
    size_t watch_frame_max;   /* 0 = protocol default */
    size_t iw_frame_max;
    size_t max_pending_out;   /* unsent reply bytes per connection before it is dropped (0 = 64 KiB) */
    int queue_max;            /* queued rows before new non-alarm rows are dropped (0 = 100000) */
    const nx_keys *keys;      /* set: queued device commands are sent (cmdq.h); NULL: no commands */
    int cmd_poll_ms;          /* how often queued commands are looked for (0 = 500) */
    /* The device edge (issue 21; docs/security.md §2). */
    const char *allow_from;   /* CIDR list devices may connect from; NULL or "" = any */
    const char *limit_exempt; /* CIDR list the per-address limits skip; NULL or "" = none */
    int conns_per_addr;       /* connections per source address (0 = 256) */
    int frames_per_min;       /* frames per source address and minute (0 = 6000) */
    int alarms_per_min;       /* alarm frames per source address and minute (0 = 120) */
    int identify_timeout_s;   /* a connection names its device within this (0 = 30) */
    int quarantine_max;       /* unregistered ids held at most (devices.h); 0 = none */
    int takeover_window_s;    /* another address this soon after the last connection: a signal */
    int fd_reserve;           /* descriptors kept for HTTP, the database, uploads (0 = 1280) */
    /* Run on the writer thread after each committed batch that held alarms (ingest_after_alarms):
     * the alarms' short path to the live streams. NULL = none. */
    void (*after_alarms)(void *ctx);
    void *after_alarms_ctx;
} gw_options;

/* The connection cap the descriptor limit allows: max_conns, but never more than nofile - reserve
 * (and at least 16 when nofile - reserve is smaller: the gateway then holds a quarter of nofile).
 * Pure. */
int gateway_conn_cap(int max_conns, uint64_t nofile, int reserve);

typedef struct gateway gateway;

/* Bind the listeners and start the loop and writer threads. NX_EINVAL for a bad address, NX_EIO
 * when a port cannot be bound, NX_ENOMEM, NX_EINTERNAL when a thread cannot start. s must outlive
 * the gateway. */
int gateway_start(store *s, const gw_options *o, gateway **out, nx_err *e);

/* The bound port of a protocol's listener (WIRE_PROTO_WATCH / WIRE_PROTO_IW), 0 when disabled. */
int gateway_port(const gateway *g, int proto);

/* Counters for logs and benchmarks. */
typedef struct gw_stats {
    uint64_t connections, accepted, rejected, frames, bad_frames, dropped_conns, rows_written, rows_dropped, batches,
        alarms_acked;
    uint64_t forged;     /* frames naming another id than their connection's: dropped */
    uint64_t held;       /* alarms of quarantined ids kept out of the queue */
    uint64_t limited;    /* frames, alarms and connections over a per-address limit */
    uint64_t takeovers;  /* takeover signals */
    uint64_t disallowed; /* connections from outside allow_from */
} gw_stats;
void gateway_stats(gateway *g, gw_stats *out);

/* Stop accepting, close every connection (their half frames are discarded), write what is queued
 * and join both threads. NULL accepted. Blocks. */
void gateway_stop(gateway *g);

#endif
