/* test_frame.c — the per-connection framer (wire/frame.h): several frames in one read, one frame
 * over many reads (down to byte by byte), garbage between frames, balanced brackets inside a frame,
 * the caps (exact boundary, endless frames, sticky errors), the IW prefix split across reads, and
 * that a dead connection's half frame is discarded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/frame.h"
#include "wire/watch.h"
#include "test.h"

#define MAXF 16

/* Push the stream in pieces of `step` bytes (0 = all at once) and collect the frames as strings. */
typedef struct got {
    int n;
    char f[MAXF][512];
    int err;
} got;

static void feed(wire_framer *fr, const char *s, size_t len, size_t step, got *g)
{
    memset(g, 0, sizeof *g);
    size_t pos = 0;
    do {
        size_t take = step ? step : len;
        if (take > len - pos)
            take = len - pos;
        /* A heap copy per push, freed right after: frames must not point into old reads. */
        char *copy = malloc(take + 1);
        memcpy(copy, s + pos, take);
        wire_framer_push(fr, (const uint8_t *)copy, take);
        const uint8_t *f;
        size_t fl;
        int rc;
        while ((rc = wire_framer_next(fr, &f, &fl)) == 1) {
            if (g->n < MAXF && fl < sizeof g->f[0]) {
                memcpy(g->f[g->n], f, fl);
                g->f[g->n][fl] = '\0';
            }
            g->n++;
        }
        free(copy);
        if (rc < 0) {
            g->err = rc;
            return;
        }
        pos += take;
    } while (pos < len);
}

static void test_watch_many_in_one_push(void)
{
    wire_framer fr;
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    CHECK_INT(fr.cap, WIRE_WATCH_FRAME_MAX);
    static const char s[] = "[SG*5678901234*0002*LK][3G*5678901234*000B*LK,812,3,76][3G*5678901234*0003*TKQ]";
    /* Frames wholly inside one push are returned in place, without a copy. */
    wire_framer_push(&fr, (const uint8_t *)s, sizeof s - 1);
    const uint8_t *f;
    size_t fl;
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 1);
    CHECK(f == (const uint8_t *)s);
    CHECK_INT(fl, 23);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 1);
    CHECK(f == (const uint8_t *)s + 23);
    CHECK_INT(fl, 32);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 1);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 0);
    CHECK(f == NULL);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 0); /* nothing pushed: still 0 */
    CHECK_INT(fr.frames, 3);
    CHECK(fr.buf == NULL); /* nothing was copied */
    wire_framer_cleanup(&fr);
}

static void test_watch_split(void)
{
    static const char s[] =
        "[3G*5678901234*006F*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,"
        "1520,0,00010000,1,255,460,0,25871,13042,140,0,12.0][SG*5678901234*0002*LK]";
    /* Every piece size from 1 (byte by byte) up gives the same two frames. */
    for (size_t step = 1; step <= 40; step++) {
        wire_framer fr;
        wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
        got g;
        feed(&fr, s, sizeof s - 1, step, &g);
        CHECK_INT(g.err, 0);
        CHECK_INT(g.n, 2);
        CHECK_INT(strlen(g.f[0]), sizeof s - 1 - 23);
        CHECK(strncmp(g.f[0], s, sizeof s - 1 - 23) == 0);
        CHECK_STR(g.f[1], "[SG*5678901234*0002*LK]");
        wire_msg m;
        CHECK_INT(watch_decode((const uint8_t *)g.f[0], strlen(g.f[0]), &m, NULL), 0);
        CHECK_INT(m.kind, WIRE_ALARM);
        CHECK_INT(m.alarms, WIRE_AL_SOS);
        wire_framer_cleanup(&fr);
    }
}

static void test_watch_garbage_and_brackets(void)
{
    wire_framer fr;
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    /* Bytes before '[' and stray ']' between frames are skipped; balanced brackets stay inside. */
    static const char s[] =
        "\r\nGET / HTTP/1.0]]\x00\xff[SG*1*0002*LK]\r\n[3G*1*0040*UD,x,[Home AP],[a[b]c],y]tail]";
    got g;
    feed(&fr, s, sizeof s - 1, 0, &g);
    CHECK_INT(g.err, 0);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.f[0], "[SG*1*0002*LK]");
    CHECK_STR(g.f[1], "[3G*1*0040*UD,x,[Home AP],[a[b]c],y]");
    CHECK_INT(fr.skipped, strlen("\r\nGET / HTTP/1.0]]") + 2 + 2 + 5);
    /* The same byte by byte. */
    wire_framer_cleanup(&fr);
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    feed(&fr, s, sizeof s - 1, 1, &g);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.f[1], "[3G*1*0040*UD,x,[Home AP],[a[b]c],y]");
    wire_framer_cleanup(&fr);

    /* A frame with an SSID bracket left open swallows what follows until depth returns to 0. */
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    feed(&fr, "[3G*1*0002*UD,[x][SG*1*0002*LK]]", 32, 0, &g);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.f[0], "[3G*1*0002*UD,[x][SG*1*0002*LK]]");
    wire_framer_cleanup(&fr);
}

static void test_watch_cap(void)
{
    /* A frame of exactly the cap is accepted, one byte more is an error, in one push or many. */
    size_t cap = WIRE_WATCH_FRAME_MAX;
    char *s = malloc(cap + 2);
    s[0] = '[';
    memset(s + 1, 'a', cap - 2);
    s[cap - 1] = ']';
    {
        wire_framer fr;
        wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
        wire_framer_push(&fr, (const uint8_t *)s, cap);
        const uint8_t *f;
        size_t fl;
        CHECK_INT(wire_framer_next(&fr, &f, &fl), 1);
        CHECK_INT(fl, cap);
        wire_framer_cleanup(&fr);
        wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
        got g;
        feed(&fr, s, cap, 1000, &g);
        CHECK_INT(g.err, 0);
        CHECK_INT(g.n, 1);
        wire_framer_cleanup(&fr);
    }
    s[cap - 1] = 'a';
    s[cap] = ']';
    wire_framer fr;
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    got g;
    feed(&fr, s, cap + 1, 0, &g);
    CHECK_INT(g.err, NX_ETOOBIG);
    CHECK_INT(g.n, 0);
    wire_framer_cleanup(&fr);
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    feed(&fr, s, cap + 1, 1000, &g);
    CHECK_INT(g.err, NX_ETOOBIG);
    /* The error stays: the connection is to be dropped, even if a good frame follows. */
    wire_framer_push(&fr, (const uint8_t *)"[SG*1*0002*LK]", 14);
    const uint8_t *f;
    size_t fl;
    CHECK_INT(wire_framer_next(&fr, &f, &fl), NX_ETOOBIG);
    CHECK(fr.buf == NULL); /* the half frame's memory is already released */
    wire_framer_cleanup(&fr);
    free(s);

    /* An endless frame: unbalanced '[' forever, fed in 4 KiB reads, fails once past the cap. */
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    char chunk[4096];
    memset(chunk, '[', sizeof chunk);
    int rc = 0;
    size_t pushed = 0;
    while (rc == 0 && pushed < 10 * cap) {
        wire_framer_push(&fr, (const uint8_t *)chunk, sizeof chunk);
        pushed += sizeof chunk;
        while ((rc = wire_framer_next(&fr, &f, &fl)) == 1)
            ;
    }
    CHECK_INT(rc, NX_ETOOBIG);
    CHECK_INT(pushed, cap + sizeof chunk); /* cut at the first read that went over */
    CHECK(fr.alloc == 0);
    wire_framer_cleanup(&fr);

    /* A configured smaller cap. */
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 16);
    feed(&fr, "[SG*1*0002*LK][SG*12345*0002*LK]", 32, 0, &g);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.err, NX_ETOOBIG);
    wire_framer_cleanup(&fr);
}

static void test_memory(void)
{
    /* A large frame over several pushes is copied; the buffer is released after it. */
    size_t len = 10000;
    char *s = malloc(len);
    s[0] = '[';
    memset(s + 1, 'b', len - 2);
    s[len - 1] = ']';
    wire_framer fr;
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    wire_framer_push(&fr, (const uint8_t *)s, 5000);
    const uint8_t *f;
    size_t fl;
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 0);
    CHECK_INT(fr.len, 5000);
    CHECK(fr.alloc >= 5000 && fr.alloc <= WIRE_WATCH_FRAME_MAX);
    wire_framer_push(&fr, (const uint8_t *)s + 5000, 5000);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 1);
    CHECK_INT(fl, len);
    CHECK(f == fr.buf);
    CHECK(memcmp(f, s, len) == 0);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 0);
    CHECK(fr.buf == NULL);
    CHECK_INT(fr.alloc, 0);

    /* A dead connection's half frame is discarded by cleanup; the framer starts clean after init. */
    wire_framer_push(&fr, (const uint8_t *)"[SG*1*0002*L", 12);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 0);
    CHECK_INT(fr.len, 12);
    wire_framer_cleanup(&fr);
    CHECK(fr.buf == NULL);
    wire_framer_init(&fr, WIRE_PROTO_WATCH, 0);
    wire_framer_push(&fr, (const uint8_t *)"K][SG*1*0002*LK]", 16);
    CHECK_INT(wire_framer_next(&fr, &f, &fl), 1);
    CHECK_INT(fl, 14);
    CHECK(memcmp(f, "[SG*1*0002*LK]", 14) == 0);
    wire_framer_cleanup(&fr);
    wire_framer_cleanup(NULL);
    free(s);
}

static void test_iw(void)
{
    wire_framer fr;
    wire_framer_init(&fr, WIRE_PROTO_IW, 0);
    CHECK_INT(fr.cap, WIRE_IW_FRAME_MAX);
    static const char s[] =
        "IWAP00353456789012345#\r\nIWAP03,06000908000102,5555,1#xxTRVAP49,68#I\r\nTRIWAP49,70#";
    for (size_t step = 0; step <= 30; step++) {
        got g;
        wire_framer_cleanup(&fr);
        wire_framer_init(&fr, WIRE_PROTO_IW, 0);
        feed(&fr, s, sizeof s - 1, step, &g);
        CHECK_INT(g.err, 0);
        CHECK_INT(g.n, 4);
        CHECK_STR(g.f[0], "IWAP00353456789012345#");
        CHECK_STR(g.f[1], "IWAP03,06000908000102,5555,1#");
        CHECK_STR(g.f[2], "TRVAP49,68#");
        CHECK_STR(g.f[3], "IWAP49,70#");
        CHECK_INT(fr.skipped, 2 + 2 + 5);
    }
    wire_framer_cleanup(&fr);

    /* Prefix letters that turn out not to be a prefix: "IIW", "TTRV", "TRIW". */
    wire_framer_init(&fr, WIRE_PROTO_IW, 0);
    got g;
    feed(&fr, "IIWAP49,1#TTRVAP49,2#TRIWAP49,3#", 32, 1, &g);
    CHECK_INT(g.n, 3);
    CHECK_STR(g.f[0], "IWAP49,1#");
    CHECK_STR(g.f[1], "TRVAP49,2#");
    CHECK_STR(g.f[2], "IWAP49,3#");
    wire_framer_cleanup(&fr);

    /* Cap: exactly 1 KiB is a frame, more without '#' is an error. */
    char big[WIRE_IW_FRAME_MAX + 2];
    memcpy(big, "IWAP01", 6);
    memset(big + 6, '9', sizeof big - 6);
    big[WIRE_IW_FRAME_MAX - 1] = '#';
    wire_framer_init(&fr, WIRE_PROTO_IW, 0);
    feed(&fr, big, WIRE_IW_FRAME_MAX, 100, &g);
    CHECK_INT(g.err, 0);
    CHECK_INT(g.n, 1);
    wire_framer_cleanup(&fr);
    big[WIRE_IW_FRAME_MAX - 1] = '9';
    big[WIRE_IW_FRAME_MAX] = '#';
    wire_framer_init(&fr, WIRE_PROTO_IW, 0);
    feed(&fr, big, WIRE_IW_FRAME_MAX + 1, 100, &g);
    CHECK_INT(g.err, NX_ETOOBIG);
    CHECK_INT(g.n, 0);
    wire_framer_cleanup(&fr);
    /* 4 KiB when the caller supports voice. */
    wire_framer_init(&fr, WIRE_PROTO_IW, 4096);
    feed(&fr, big, WIRE_IW_FRAME_MAX + 1, 0, &g);
    CHECK_INT(g.err, 0);
    CHECK_INT(g.n, 1);
    wire_framer_cleanup(&fr);

    /* Garbage without any prefix is skipped forever without growing anything. */
    wire_framer_init(&fr, WIRE_PROTO_IW, 0);
    char junk[8192];
    memset(junk, 'x', sizeof junk);
    feed(&fr, junk, sizeof junk, 0, &g);
    CHECK_INT(g.n, 0);
    CHECK_INT(g.err, 0);
    CHECK(fr.buf == NULL);
    CHECK_INT(fr.skipped, sizeof junk);
    wire_framer_cleanup(&fr);
}

int main(void)
{
    TEST_RUN(test_watch_many_in_one_push);
    TEST_RUN(test_watch_split);
    TEST_RUN(test_watch_garbage_and_brackets);
    TEST_RUN(test_watch_cap);
    TEST_RUN(test_memory);
    TEST_RUN(test_iw);
    return TEST_DONE();
}
