/* watch.h — the "3G watch" protocol codec (shared/protocols/watch.md, TCP 5093).
 *
 * Pure functions: a complete frame (as cut by wire_framer) in, a wire_msg and the reply bytes out;
 * commands in, frame bytes out. No allocation, no clock, no I/O; safe from any thread. Strings in
 * the message are copies; wire_msg.raw and wire_msg.payload borrow the frame (see codec.h). */
#ifndef NX_WIRE_WATCH_H
#define NX_WIRE_WATCH_H

#include "base/err.h"
#include "wire/codec.h"

#include <stddef.h>
#include <stdint.h>

/* Reply "oxygen,1" (normal) when 90 <= SpO2 <= 100, else "oxygen,0". */
#define WATCH_SPO2_NORMAL_MIN 90

/* Largest reply or command frame the encoders produce (MESSAGE of WIRE_TEXT_MAX surrogate pairs). */
#define WATCH_OUT_MAX 1100

/* Decode one frame "[MF*ID*[IDX*]LEN*TYPE[,DATA]]". On success returns 0 with m filled (kind is
 * never WIRE_NONE_KIND). On a malformed frame (bad header, bad escape, a field that does not parse
 * where the spec requires it) returns NX_EINVAL, leaves m cleared (kind WIRE_NONE_KIND, raw set) and
 * fills e (may be NULL) with a Chinese message and the offending part as field. Never reads outside
 * frame[0..len). Liberal where the spec says devices vary: LEN is never checked, types compare
 * case-insensitively, an LK with garbage after it is still a keep-alive, and an alarm (AL…) whose
 * position part is malformed is still an alarm (pos.present false, pos_error true). */
int watch_decode(const uint8_t *frame, size_t len, wire_msg *m, nx_err *e);

/* The reply the spec requires for m (a message decoded by watch_decode), written to out as a frame
 * with MF, ID and IDX echoed. Sets *len to its length (0 when the message needs no reply); out is
 * NUL-terminated when cap > 0. Returns 0, NX_EINVAL (m is not a watch message) or NX_ETOOBIG. */
int watch_reply(const wire_msg *m, char *out, size_t cap, size_t *len);

/* Build a frame "[MF*ID*LLLL*content]" ("[MF*ID*IDX*LLLL*content]" when idx is not NULL/"") around
 * content bytes that are already escaped where needed. LLLL = content length, 4 lower-case hex digits.
 * mf must be 2 letters or digits, id 1-20 digits, idx 4 hex digits. Returns 0, NX_EINVAL or
 * NX_ETOOBIG (out too small or content over 0xFFFF bytes). out is NUL-terminated. */
int watch_frame(const char *mf, const char *id, const char *idx, const void *content, size_t clen, char *out,
                size_t cap, size_t *len);

/* A server command for the device with this id, as a frame. mf is the manufacturer the device uses
 * ("3G" is answered with "SG", others as they are). Returns 0, NX_EINVAL (bad id, phone, range or
 * text; e may be NULL), NX_EUNSUPP (a kind the watch protocol has no command for) or NX_ETOOBIG. */
int watch_encode_cmd(const wire_cmd *c, const char *mf, const char *id, char *out, size_t cap, size_t *len,
                     nx_err *e);

/* Escape binary bytes for a frame (7D → 7D 01, [ → 7D 02, ] → 7D 03, , → 7D 04, * → 7D 05).
 * Returns 0 or NX_ETOOBIG; *outlen gets the escaped length. */
int watch_escape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);

/* Undo watch_escape (for wire_msg.payload of a voice message). out may equal in (in place). Returns 0,
 * NX_EINVAL (0x7D followed by anything but 01-05, or at the end) or NX_ETOOBIG. */
int watch_unescape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);

#endif
