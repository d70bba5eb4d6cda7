/* iw.h — the IW protocol codec (shared/protocols/iw.md, TCP 5010): "IWAP<type><payload>#" from the
 * device ("TRV" instead of "IW" on some models), "IWBP…#" from the server.
 *
 * Pure functions like watch.h: no allocation, no I/O; the clock only as a parameter (the login reply
 * carries the server's time). IW frames carry the device's IMEI only in the login (AP00): for every
 * other frame wire_msg.device_id is "" and the connection knows the device. The protocol requires a
 * login first: a connection's frames before an AP00 are to be recorded and dropped, not answered —
 * that is connection state, kept by the caller, not here. */
#ifndef NX_WIRE_IW_H
#define NX_WIRE_IW_H

#include "base/err.h"
#include "wire/codec.h"

#include <stddef.h>
#include <stdint.h>

/* Largest command the encoder produces (IWBP40 with WIRE_TEXT_MAX surrogate pairs, IMEI, serial). */
#define IW_OUT_MAX 1100

/* Decode one frame "IWAP<type>…#" or "TRVAP<type>…#". Returns 0 with m filled, or NX_EINVAL with m
 * cleared (raw set) and e (may be NULL) filled. Blank fields are accepted wherever the spec allows;
 * an AP10 alarm whose position is malformed is still an alarm (pos_error). Types compare without
 * case. Never reads outside frame[0..len). */
int iw_decode(const uint8_t *frame, size_t len, wire_msg *m, nx_err *e);

/* The reply for m: login → "<prefix>BP00,<yyyyMMddHHmmss of now_ms, UTC>,<tz_hours>#"; the device's
 * answers to our commands (kind WIRE_CMD_REPLY) → none; anything else → "<prefix>BP<type>#".
 * *len = 0 when no reply is due. Returns 0, NX_EINVAL (m not an IW message, tz outside -12..14) or
 * NX_ETOOBIG. out is NUL-terminated when cap > 0. */
int iw_reply(const wire_msg *m, int64_t now_ms, int tz_hours, char *out, size_t cap, size_t *len);

/* A command frame "<prefix>BP<type>,<imei>,<serial 6 digits>[,<args>]#". prefix "IW" or "TRV" (NULL
 * = "IW"); type 2 letters or digits; imei 1-20 digits; serial 0-999999; args (NULL or "" = none) must
 * not contain '#'. Returns 0, NX_EINVAL or NX_ETOOBIG. The catalogue of types is device-model
 * configuration: this is the way to send one that iw_encode_cmd does not know. */
int iw_encode(const char *prefix, const char *type, const char *imei, uint32_t serial, const char *args,
              char *out, size_t cap, size_t *len);

/* The protocol-neutral commands that iw.md names: LOCATE → 16, SOS_NUMBERS → 12 (p1,p2,p3),
 * RESET → 18, POWEROFF → 31, MESSAGE → 40 (text as UTF-16BE hex, as on the watch), FALL_DETECT → 76
 * (0/1), HR_INTERVAL → 86 (on 0/1, minutes; seconds rounded up to whole minutes, 0 = off),
 * HR_NOW → XL. Other kinds: NX_EUNSUPP (use iw_encode with the model's own catalogue).
 * Returns 0, NX_EINVAL (e filled), NX_EUNSUPP or NX_ETOOBIG. */
int iw_encode_cmd(const wire_cmd *c, const char *prefix, const char *imei, uint32_t serial, char *out,
                  size_t cap, size_t *len, nx_err *e);

#endif
