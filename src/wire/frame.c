/* frame.c — see frame.h. The framer is a small state machine over borrowed input:
 *
 *   SEEK  skipping garbage until a frame start ('[' for the watch, "IW"/"TRV" for IW);
 *   IN    inside a frame, counting bracket depth (watch) or looking for '#' (IW);
 *   ERR   a frame went over the cap; every later call fails with the same code.
 *
 * A frame that starts and ends inside one push is returned in place (no copy). Only the unfinished
 * tail of a push is copied into f->buf, so the buffer never holds more than one frame and never more
 * than cap bytes: cap is checked on every byte before anything is stored. Invariant: f->len > 0 only
 * in state IN (a partial frame) or when f->release is set (the frame just returned from f->buf). */
#include "wire/frame.h"

#include "base/err.h"
#include "wire/codec.h"

#include <stdlib.h>
#include <string.h>

enum { SEEK = 0, IN = 1, ERR = 2 };

/* Buffers above this size are freed after use so idle connections stay small. */
#define KEEP_MAX 4096

void wire_framer_init(wire_framer *f, int proto, size_t cap)
{
    memset(f, 0, sizeof *f);
    f->proto = proto;
    if (cap == 0)
        cap = proto == WIRE_PROTO_IW ? WIRE_IW_FRAME_MAX : WIRE_WATCH_FRAME_MAX;
    if (cap < 8)
        cap = 8;
    if (cap > WIRE_FRAME_CAP_LIMIT)
        cap = WIRE_FRAME_CAP_LIMIT;
    f->cap = cap;
}

void wire_framer_cleanup(wire_framer *f)
{
    if (f == NULL)
        return;
    free(f->buf);
    f->buf = NULL;
    f->len = f->alloc = 0;
    f->release = 0;
    f->in = NULL;
    f->in_n = f->in_pos = 0;
    if (f->state != ERR)
        f->state = SEEK;
    f->mlen = f->mprev = 0;
}

void wire_framer_push(wire_framer *f, const uint8_t *in, size_t n)
{
    f->in = in;
    f->in_n = n;
    f->in_pos = 0;
    f->mprev = f->mlen;
}

static int fail(wire_framer *f, int code)
{
    f->state = ERR;
    f->err = code;
    free(f->buf);
    f->buf = NULL;
    f->len = f->alloc = 0;
    return code;
}

static int append(wire_framer *f, const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    size_t need = f->len + n;
    if (need > f->cap)
        return NX_ETOOBIG;
    if (need > f->alloc) {
        size_t a = f->alloc ? f->alloc : 256;
        while (a < need)
            a *= 2;
        if (a > f->cap)
            a = f->cap;
        uint8_t *q = realloc(f->buf, a);
        if (q == NULL)
            return NX_ENOMEM;
        f->buf = q;
        f->alloc = a;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

/* IW: does mark[0..n) begin "IW" or "TRV"? */
static int iw_prefix_of(const char *m, size_t n)
{
    return (n <= 2 && memcmp("IW", m, n) == 0) || (n <= 3 && memcmp("TRV", m, n) == 0);
}

static int iw_complete(const char *m, size_t n)
{
    return (n == 2 && memcmp(m, "IW", 2) == 0) || (n == 3 && memcmp(m, "TRV", 3) == 0);
}

/* SEEK: advance to a frame start. Returns 1 with *seg = where the frame's bytes in this push begin
 * (any prefix bytes from earlier pushes are already in f->buf), 0 when the push is used up. */
static int seek(wire_framer *f, size_t *seg)
{
    const uint8_t *in = f->in;
    if (f->proto != WIRE_PROTO_IW) {
        const uint8_t *q = memchr(in + f->in_pos, '[', f->in_n - f->in_pos);
        if (q == NULL) {
            f->skipped += f->in_n - f->in_pos;
            f->in_pos = f->in_n;
            return 0;
        }
        size_t at = (size_t)(q - in);
        f->skipped += at - f->in_pos;
        *seg = at;
        f->in_pos = at + 1;
        f->depth = 1;
        return 1;
    }
    while (f->in_pos < f->in_n) {
        f->mark[f->mlen++] = (char)in[f->in_pos++];
        while (f->mlen && !iw_prefix_of(f->mark, f->mlen)) {
            memmove(f->mark, f->mark + 1, --f->mlen);
            f->skipped++;
            if (f->mprev)
                f->mprev--;
        }
        if (iw_complete(f->mark, f->mlen)) {
            size_t from_here = f->mlen - f->mprev;
            if (f->mprev) {
                /* The prefix began in an earlier push: store it whole, continue after it. */
                int rc = append(f, (const uint8_t *)f->mark, f->mlen);
                if (rc)
                    return rc;
                *seg = f->in_pos;
            } else {
                *seg = f->in_pos - from_here;
            }
            f->mlen = f->mprev = 0;
            return 1;
        }
    }
    return 0;
}

int wire_framer_next(wire_framer *f, const uint8_t **frame, size_t *len)
{
    *frame = NULL;
    *len = 0;
    if (f->state == ERR)
        return f->err;
    if (f->release) {
        f->release = 0;
        f->len = 0;
        if (f->alloc > KEEP_MAX) {
            free(f->buf);
            f->buf = NULL;
            f->alloc = 0;
        }
    }
    if (f->in == NULL)
        return 0;
    for (;;) {
        size_t seg = f->in_pos;
        if (f->state == SEEK) {
            int rc = seek(f, &seg);
            if (rc < 0)
                return fail(f, rc);
            if (rc == 0)
                break;
            f->state = IN;
        }
        /* IN: scan for the end of the frame; seg is where this push's part of the frame begins. */
        const uint8_t *in = f->in;
        size_t i = f->in_pos;
        int done = 0;
        if (f->proto == WIRE_PROTO_IW) {
            const uint8_t *q = memchr(in + i, '#', f->in_n - i);
            i = q ? (size_t)(q - in) : f->in_n;
            done = q != NULL;
        } else {
            for (; i < f->in_n; i++) {
                if (in[i] == '[') {
                    f->depth++;
                } else if (in[i] == ']' && --f->depth == 0) {
                    done = 1;
                    break;
                }
            }
        }
        size_t take = done ? i + 1 - seg : i - seg; /* this push's bytes of the frame */
        if (f->len + take > f->cap)
            return fail(f, NX_ETOOBIG);
        int rc;
        if (!done) {
            if ((rc = append(f, in + seg, take)) != 0)
                return fail(f, rc);
            f->in_pos = f->in_n;
            break;
        }
        f->in_pos = i + 1;
        f->state = SEEK;
        f->frames++;
        if (f->len == 0) {
            *frame = in + seg;
            *len = take;
            return 1;
        }
        if ((rc = append(f, in + seg, take)) != 0)
            return fail(f, rc);
        f->release = 1;
        *frame = f->buf;
        *len = f->len;
        return 1;
    }
    f->in = NULL;
    f->in_n = f->in_pos = 0;
    return 0;
}
