/* fuzz_watch.c — libFuzzer target for the watch decoder (wire/watch.h): any bytes as one frame.
 * Invariants: no crash; a decoded message has a kind and bounded arrays; its reply is a well-formed
 * frame that decodes again with the same MF, ID and IDX; a voice payload un-escapes; escaping any
 * bytes and un-escaping them gives them back. */
#include "fuzz.h"

#include "wire/frame.h"
#include "wire/watch.h"

#include <string.h>

static void check_strings(const wire_msg *m)
{
    FUZZ_ASSERT(memchr(m->mf, '\0', sizeof m->mf));
    FUZZ_ASSERT(memchr(m->device_id, '\0', sizeof m->device_id));
    FUZZ_ASSERT(memchr(m->idx, '\0', sizeof m->idx));
    FUZZ_ASSERT(memchr(m->type, '\0', sizeof m->type));
    FUZZ_ASSERT(memchr(m->iccid, '\0', sizeof m->iccid));
    for (int i = 0; i < m->pos.wifi_n; i++) {
        FUZZ_ASSERT(memchr(m->pos.wifi[i].ssid, '\0', sizeof m->pos.wifi[i].ssid));
        FUZZ_ASSERT(memchr(m->pos.wifi[i].mac, '\0', sizeof m->pos.wifi[i].mac));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wire_msg m, m2;
    nx_err e;
    int rc = watch_decode(data, size, &m, &e);
    if (rc != 0) {
        FUZZ_ASSERT(rc == NX_EINVAL);
        FUZZ_ASSERT(m.kind == WIRE_NONE_KIND);
    } else {
        FUZZ_ASSERT(m.kind > WIRE_NONE_KIND && m.kind <= WIRE_UNKNOWN);
        FUZZ_ASSERT(m.pos.cells_n >= 0 && m.pos.cells_n <= WIRE_MAX_CELLS &&
                    m.pos.cells_n <= m.pos.cell_count);
        FUZZ_ASSERT(m.pos.wifi_n >= 0 && m.pos.wifi_n <= WIRE_MAX_WIFI && m.pos.wifi_n <= m.pos.wifi_count);
        FUZZ_ASSERT(m.kind != WIRE_ALARM || m.alarms != 0);
        FUZZ_ASSERT(!m.pos.fix || (m.pos.lat_e6 != WIRE_NONE && m.pos.lon_e6 != WIRE_NONE));
        FUZZ_ASSERT(m.payload == NULL || (m.payload >= data && m.payload + m.payload_len <= data + size));
        check_strings(&m);
        char out[WATCH_OUT_MAX];
        size_t n;
        FUZZ_ASSERT(watch_reply(&m, out, sizeof out, &n) == 0);
        if (n > 0) {
            FUZZ_ASSERT(n == strlen(out) && out[0] == '[' && out[n - 1] == ']');
            FUZZ_ASSERT(watch_decode((const uint8_t *)out, n, &m2, NULL) == 0);
            FUZZ_ASSERT(strcmp(m2.mf, m.mf) == 0 && strcmp(m2.device_id, m.device_id) == 0);
            FUZZ_ASSERT(strcmp(m2.idx, m.idx) == 0);
        }
        if (m.kind == WIRE_VOICE) {
            static uint8_t voice[WIRE_WATCH_FRAME_MAX];
            size_t vn;
            FUZZ_ASSERT(watch_unescape(m.payload, m.payload_len, voice, sizeof voice, &vn) == 0);
            FUZZ_ASSERT(vn > 1 && vn <= m.payload_len);
        }
        /* A small reply buffer is refused, never overrun. */
        char tiny[8];
        rc = watch_reply(&m, tiny, sizeof tiny, &n);
        FUZZ_ASSERT(rc == 0 || rc == NX_ETOOBIG);
    }
    if (size <= 4096) {
        static uint8_t esc[8192], back[4096];
        size_t en, bn;
        FUZZ_ASSERT(watch_escape(data, size, esc, sizeof esc, &en) == 0);
        FUZZ_ASSERT(memchr(esc, '[', en) == NULL && memchr(esc, ',', en) == NULL &&
                    memchr(esc, '*', en) == NULL);
        FUZZ_ASSERT(watch_unescape(esc, en, back, sizeof back, &bn) == 0);
        FUZZ_ASSERT(bn == size && (size == 0 || memcmp(back, data, size) == 0));
    }
    return 0;
}
