/* mqtt.h — the wristband gateway's MQTT input: devices behind a broker (DESIGN §7, §9).
 *
 * nuanxin is one client of an MQTT broker (libmosquitto, MQTT 3.1.1). A device publishes the raw
 * bytes it would send over TCP — one or more frames per message, a frame possibly split across
 * messages — to "<prefix>/<protocol>/<device-id>/up", protocol "watch" or "iw"; nuanxin subscribes
 * to "<prefix>/+/+/up" with QoS 1 and publishes the replies the protocol requires (the bytes the TCP
 * gateway would send back) to "<prefix>/<protocol>/<device-id>/down": alarm acks with QoS 1 and only
 * after the transaction holding the alert has committed, other replies with QoS 0.
 *
 * The topic names the device: a watch frame whose id differs from the topic's is a bad frame
 * (nothing stored); for IW the topic's id is the IMEI (only the login carries it; a login naming
 * another IMEI is a bad frame) and no login is needed before other frames, since the broker, not a
 * connection, vouches for the device. Frames are cut with the TCP framer, one per topic, kept only
 * while it holds half a frame: a topic's state is dropped after idle_timeout_s, the oldest state is
 * dropped when max_topics are held, a message over the payload cap (the protocol's frame cap ×
 * MQTT_PAYLOAD_FRAMES) or a frame over the frame cap drops that topic's state. None of this
 * disturbs another device. Decoded frames go through an ingest writer of their own (ingest.h):
 * positions and readings in batches, alarms at once.
 *
 * Threads: libmosquitto's network thread (mosquitto_loop_start) receives, decodes and queues; the
 * ingest writer thread publishes alarm acks after their commit. The broker going away is logged and
 * reconnected with backoff (1 s doubling to 30 s); the subscription is renewed on every connect. */
#ifndef NX_GATEWAY_MQTT_H
#define NX_GATEWAY_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "secure/crypto.h"
#include "store/store.h"

#define MQTT_DEFAULT_PREFIX "nuanxin/devices"
#define MQTT_DEFAULT_PORT   1883
#define MQTT_PAYLOAD_FRAMES 4   /* payload cap = the protocol's frame cap × this */
#define MQTT_PREFIX_MAX     128 /* bytes of a topic prefix */
#define MQTT_TOPIC_MAX      (MQTT_PREFIX_MAX + 40)

typedef struct gw_mqtt_options {
    const char *url;          /* "mqtt://HOST[:PORT]" (port 1883 by default) */
    const char *topic_prefix; /* NULL/"" = MQTT_DEFAULT_PREFIX */
    const char *username;     /* NULL/"" = anonymous */
    const char *password;     /* never logged */
    const char *client_id;    /* NULL/"" = "nuanxin-<host>-<pid>" with a clean session; a fixed id
                                 keeps a persistent session (the broker queues QoS 1 frames while
                                 nuanxin is away) */
    int max_topics;           /* topics holding half a frame at once (0 = 10000) */
    int idle_timeout_s;       /* a half frame older than this is dropped (0 = 900) */
    int keepalive_s;          /* MQTT keep-alive (0 = 60) */
    int batch_ms;             /* ingest: see ingest.h (0 = 100) */
    int64_t esc_ms;
    int queue_max;
    size_t watch_frame_max; /* 0 = protocol default */
    size_t iw_frame_max;
    const nx_keys *keys;      /* set: queued device commands are published to ".../down" (QoS 1) for
                                 devices heard from within idle_timeout_s; NULL: no commands */
    int cmd_poll_ms;          /* 0 = 500 */
} gw_mqtt_options;

typedef struct gw_mqtt gw_mqtt;

/* Check the options, start the ingest writer and libmosquitto's network thread, and begin
 * connecting (a broker that is not there yet is retried with backoff: start does not wait for it).
 * NX_EINVAL (bad URL, prefix or client id; e names the field), NX_ENOMEM, NX_EINTERNAL (a thread
 * could not start). s must outlive the input. */
int mqtt_start(store *s, const gw_mqtt_options *o, gw_mqtt **out, nx_err *e);

typedef struct gw_mqtt_stats {
    uint64_t connects, disconnects; /* successful connections to the broker, losses of one */
    uint64_t messages;              /* messages received on an up topic */
    uint64_t frames, bad_frames;    /* frames decoded; frames that did not decode or named
                                       another device than their topic */
    uint64_t bad_topics, oversized; /* messages dropped for their topic or their size */
    uint64_t states_dropped;        /* half frames discarded (cap, idle, frame too big) */
    uint64_t alarms_acked;          /* alarm acks published after their commit */
    uint64_t rows_written, rows_dropped, batches;
    int topics; /* topics holding half a frame now */
    bool connected;
} gw_mqtt_stats;

void mqtt_stats(gw_mqtt *q, gw_mqtt_stats *out);

/* Stop taking messages, write what is queued (publishing the acks of alarms that commit), then
 * disconnect and join the network thread. NULL accepted. Blocks. */
void mqtt_stop(gw_mqtt *q);

/* ---- pure helpers (unit-tested) ---- */

/* Split "mqtt://HOST[:PORT][/]" (HOST a name, IPv4 or [IPv6]) into host and port. User
 * information in the URL is refused (the password goes in mqtt_password, which is never logged),
 * as are other schemes (mqtts:// is not supported yet). 0 or NX_EINVAL with e filled. */
int mqtt_url_parse(const char *url, char *host, size_t hostcap, int *port, nx_err *e);

/* A topic prefix is 1-MQTT_PREFIX_MAX bytes of printable ASCII without the wildcards '+' and '#',
 * without a leading or trailing '/' and without empty levels. 0 or NX_EINVAL with e filled. */
int mqtt_prefix_check(const char *prefix, nx_err *e);

/* Parse topic as "<prefix>/<protocol>/<device-id>/up": 0 with *proto (WIRE_PROTO_WATCH or
 * WIRE_PROTO_IW) and id (1-20 digits, NUL-terminated; idcap ≥ 21) set, NX_EINVAL for any other topic
 * (another prefix, protocol or direction, a device id that is not 1-20 digits, extra levels). */
int mqtt_topic_parse(const char *prefix, const char *topic, int *proto, char *id, size_t idcap);

/* Write "<prefix>/<protocol>/<id>/<dir>" (dir "up" or "down") to out. 0, NX_EINVAL (unknown
 * protocol) or NX_ETOOBIG. */
int mqtt_topic_make(const char *prefix, int proto, const char *id, const char *dir, char *out, size_t cap);

#endif
