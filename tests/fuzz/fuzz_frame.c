/* fuzz_frame.c — libFuzzer target for the framer (wire/frame.h). The first byte picks the
 * protocol and a small cap, the second a chunk size; the rest is the stream. The stream is framed
 * twice — pushed whole, and pushed in chunks (the last chunk sizes vary) — and both must give the
 * same frames and the same error at the same point. Every frame must be well delimited and within
 * the cap, and is then decoded (which must not crash). */
#include "fuzz.h"

#include "wire/frame.h"
#include "wire/iw.h"
#include "wire/watch.h"

#include <string.h>

#define MAX_FRAMES 512

typedef struct run {
    size_t n;
    size_t off[MAX_FRAMES], len[MAX_FRAMES]; /* offsets into a copy arena */
    uint8_t arena[1 << 16];
    size_t used;
    int err;
} run;

static void check_frame(int proto, size_t cap, const uint8_t *f, size_t n)
{
    FUZZ_ASSERT(n >= 1 && n <= cap);
    if (proto == WIRE_PROTO_WATCH) {
        FUZZ_ASSERT(f[0] == '[' && f[n - 1] == ']');
        int depth = 0;
        for (size_t i = 0; i < n; i++) {
            depth += f[i] == '[' ? 1 : f[i] == ']' ? -1 : 0;
            FUZZ_ASSERT(depth > 0 || i == n - 1);
        }
        FUZZ_ASSERT(depth == 0);
    } else {
        FUZZ_ASSERT((n >= 3 && memcmp(f, "IW", 2) == 0) || (n >= 4 && memcmp(f, "TRV", 3) == 0));
        FUZZ_ASSERT(f[n - 1] == '#' && memchr(f, '#', n) == f + n - 1);
    }
}

static void record(run *r, int proto, size_t cap, const uint8_t *f, size_t n)
{
    static wire_msg m;
    check_frame(proto, cap, f, n);
    if (proto == WIRE_PROTO_WATCH)
        watch_decode(f, n, &m, NULL);
    else
        iw_decode(f, n, &m, NULL);
    if (r->n < MAX_FRAMES && r->used + n <= sizeof r->arena) {
        memcpy(r->arena + r->used, f, n);
        r->off[r->n] = r->used;
        r->len[r->n] = n;
        r->used += n;
        r->n++;
    }
}

static void frame_all(run *r, int proto, size_t cap, const uint8_t *s, size_t n, size_t chunk)
{
    wire_framer f;
    wire_framer_init(&f, proto, cap);
    memset(r, 0, offsetof(run, arena));
    r->used = 0;
    size_t pos = 0;
    do {
        size_t take = chunk ? chunk : n;
        if (take > n - pos)
            take = n - pos;
        /* Push a heap copy, freed after use: the framer must not keep pointers into old pushes. */
        uint8_t *copy = malloc(take ? take : 1);
        FUZZ_ASSERT(copy != NULL);
        memcpy(copy, s + pos, take);
        wire_framer_push(&f, copy, take);
        const uint8_t *fr;
        size_t fl;
        int rc;
        while ((rc = wire_framer_next(&f, &fr, &fl)) == 1)
            record(r, proto, f.cap, fr, fl);
        free(copy);
        if (rc < 0) {
            FUZZ_ASSERT(rc == NX_ETOOBIG);
            r->err = rc;
            /* The error stays. */
            FUZZ_ASSERT(wire_framer_next(&f, &fr, &fl) == rc);
            break;
        }
        pos += take;
        if (chunk)
            chunk = chunk % 7 + 1; /* vary the chunk sizes */
    } while (pos < n);
    wire_framer_cleanup(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run whole, parts;
    if (size < 2)
        return 0;
    int proto = (data[0] & 1) ? WIRE_PROTO_IW : WIRE_PROTO_WATCH;
    size_t cap = (data[0] & 2) ? 0 : (size_t)(data[0] >> 2) + 8; /* 0 = the protocol default */
    size_t chunk = (size_t)data[1] % 16 + 1;
    const uint8_t *s = data + 2;
    size_t n = size - 2;
    frame_all(&whole, proto, cap, s, n, 0);
    frame_all(&parts, proto, cap, s, n, chunk);
    FUZZ_ASSERT(whole.err == parts.err);
    FUZZ_ASSERT(whole.n == parts.n);
    for (size_t i = 0; i < whole.n; i++) {
        FUZZ_ASSERT(whole.len[i] == parts.len[i]);
        FUZZ_ASSERT(memcmp(whole.arena + whole.off[i], parts.arena + parts.off[i], whole.len[i]) == 0);
    }
    return 0;
}
