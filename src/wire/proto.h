/* proto.h — what every gateway input (TCP today, MQTT, later others) does with one complete frame of
 * either protocol: name the protocol, decode the frame with its codec and work out the reply the
 * protocol requires. (Turning the message into the devices module's ingest item is the gateway's
 * part: ingest_item_frame in gateway/ingest.h.)
 *
 * Pure helpers over the codecs (watch.h, iw.h): no allocation, no I/O, no clock (the caller passes
 * the time), safe from any thread. They exist so that the inputs cannot drift apart in what they
 * answer. */
#ifndef NX_WIRE_PROTO_H
#define NX_WIRE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "wire/codec.h"
#include "wire/iw.h"
#include "wire/watch.h"

/* Time zone sent in the IW login reply (China). */
#define WIRE_TZ_HOURS 8

/* A buffer this large holds any reply either protocol produces. */
#define WIRE_REPLY_MAX (WATCH_OUT_MAX > IW_OUT_MAX ? WATCH_OUT_MAX : IW_OUT_MAX)

/* The protocol's name as used in topics and the API ("watch", "iw"), NULL for an unknown one. */
const char *wire_proto_name(int proto);

/* WIRE_PROTO_WATCH / WIRE_PROTO_IW for "watch" / "iw" (exactly, lower case), 0 otherwise. */
int wire_proto_from_name(const char *name, size_t n);

/* Decode one frame (as cut by wire_framer) of proto. 0 with m filled, NX_EINVAL with m cleared and e
 * (may be NULL) filled; see watch_decode and iw_decode. */
int wire_proto_decode(int proto, const uint8_t *frame, size_t len, wire_msg *m, nx_err *e);

/* For a frame wire_proto_decode refused: when it is a health reading whose header is sound (watch:
 * bphrt, BLOOD, PULSE, heart, oxygen, btemp2, TEMP; IW: 49, HT, HP, 50) but whose values are out of
 * range or malformed, 0 with m the same frame without its values (kind WIRE_HEALTH, every reading
 * WIRE_NONE; m.raw and m.payload NULL): the protocol still requires its reply (an unanswered watch
 * repeats it), and nothing of its values may be stored. NX_EINVAL (m cleared) for any other frame. */
int wire_proto_decode_refused(int proto, const uint8_t *frame, size_t len, wire_msg *m);

/* The reply the protocol requires for m, into out (cap bytes, WIRE_REPLY_MAX is always enough);
 * *len = 0 when none is due or the reply cannot be built (never an error for the caller: a frame
 * without a reply is still stored). now_ms is the server's clock (IW login replies carry it). */
void wire_proto_reply(const wire_msg *m, int64_t now_ms, char *out, size_t cap, size_t *len);

#endif
