/* frame.h — cutting a device's TCP byte stream into frames, one framer per connection.
 *
 * Watch protocol (watch.md): a frame runs from '[' to the ']' that brings the bracket depth back to 0
 * (balanced raw brackets inside, e.g. an SSID "[Home AP]", stay in the frame); bytes outside a frame
 * are skipped. IW protocol (iw.md): a frame runs from "IW" or "TRV" to the next '#'; bytes before the
 * prefix are skipped. A frame longer than the cap (default 32 KiB watch, 1 KiB IW, brackets and '#'
 * included) is an error that stays: the caller drops the connection.
 *
 * Use (per read):
 *     wire_framer_push(f, buf, nread);
 *     while ((rc = wire_framer_next(f, &frame, &len)) == 1)
 *         handle(frame, len);
 *     if (rc < 0) drop the connection;
 * Memory: the framer copies only an unfinished frame (its buffer grows by doubling up to the cap and
 * is released after a frame over 4 KiB), so an idle connection costs sizeof(wire_framer). Not thread
 * safe; one framer belongs to one connection. */
#ifndef NX_WIRE_FRAME_H
#define NX_WIRE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_WATCH_FRAME_MAX (32u * 1024u)
#define WIRE_IW_FRAME_MAX    1024u
#define WIRE_FRAME_CAP_LIMIT (16u * 1024u * 1024u) /* caps are clamped to [8, this] */

typedef struct wire_framer {
    int proto;    /* enum wire_proto */
    int state;    /* private */
    int err;      /* 0, or the sticky error code */
    size_t cap;   /* largest frame accepted, bytes */
    int depth;    /* watch: bracket depth inside a frame */
    uint8_t *buf; /* the unfinished (or just returned) frame */
    size_t len, alloc;
    int release;        /* buf holds a returned frame: empty it on the next call */
    char mark[3];       /* IW: prefix bytes seen so far ("I", "TR" …) */
    size_t mlen, mprev; /* IW: bytes in mark, of which from an earlier push */
    const uint8_t *in;  /* the pushed bytes not yet scanned (borrowed) */
    size_t in_n, in_pos;
    uint64_t skipped; /* garbage bytes skipped so far (for logs) */
    uint64_t frames;  /* frames returned so far */
} wire_framer;

/* Prepare f for proto (WIRE_PROTO_WATCH or WIRE_PROTO_IW). cap = largest frame in bytes, 0 for the
 * protocol's default (WIRE_WATCH_FRAME_MAX, WIRE_IW_FRAME_MAX); clamped to [8, WIRE_FRAME_CAP_LIMIT].
 * Allocates nothing. */
void wire_framer_init(wire_framer *f, int proto, size_t cap);

/* Free the buffer (a half frame of a dead connection is discarded). f may be NULL. f can be
 * initialised again afterwards. */
void wire_framer_cleanup(wire_framer *f);

/* Hand the framer the next bytes read from the connection. The bytes are borrowed, not copied, and
 * must stay valid and unchanged until wire_framer_next has returned 0 or an error. Pushing again before
 * that replaces the unscanned rest (a caller error). */
void wire_framer_push(wire_framer *f, const uint8_t *in, size_t n);

/* The next complete frame. Returns 1 and sets *frame and *len (the frame with its delimiters: "[...]"
 * or "IW...#"); 0 when the pushed bytes are used up (push more); NX_ETOOBIG when a frame exceeds the
 * cap or NX_ENOMEM when the buffer could not grow — both sticky: drop the connection.
 * *frame points either into the pushed bytes or into the framer's buffer; it is valid until the next
 * call of wire_framer_push, wire_framer_next or wire_framer_cleanup. Never blocks. */
int wire_framer_next(wire_framer *f, const uint8_t **frame, size_t *len);

#endif
