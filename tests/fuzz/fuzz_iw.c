/* fuzz_iw.c — libFuzzer target for the IW decoder (wire/iw.h): any bytes as one frame.
 * Invariants: no crash; a decoded message has a kind and bounded arrays; its reply (if any) is one
 * "<prefix>BP<type>…#" frame; answers to commands are never acknowledged. */
#include "fuzz.h"

#include "wire/iw.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wire_msg m;
    nx_err e;
    int rc = iw_decode(data, size, &m, &e);
    if (rc != 0) {
        FUZZ_ASSERT(rc == NX_EINVAL);
        FUZZ_ASSERT(m.kind == WIRE_NONE_KIND);
        return 0;
    }
    FUZZ_ASSERT(m.kind > WIRE_NONE_KIND && m.kind <= WIRE_UNKNOWN);
    FUZZ_ASSERT(m.pos.cells_n >= 0 && m.pos.cells_n <= WIRE_MAX_CELLS && m.pos.cells_n <= m.pos.cell_count);
    FUZZ_ASSERT(m.pos.wifi_n >= 0 && m.pos.wifi_n <= WIRE_MAX_WIFI && m.pos.wifi_n <= m.pos.wifi_count);
    FUZZ_ASSERT(m.kind != WIRE_ALARM || m.alarms != 0);
    FUZZ_ASSERT(!m.pos.fix || (m.pos.lat_e6 != WIRE_NONE && m.pos.lon_e6 != WIRE_NONE));
    FUZZ_ASSERT(m.kind != WIRE_LOGIN || m.device_id[0] != '\0');
    FUZZ_ASSERT(memchr(m.device_id, '\0', sizeof m.device_id) && memchr(m.type, '\0', sizeof m.type));
    for (int i = 0; i < m.pos.wifi_n; i++)
        FUZZ_ASSERT(memchr(m.pos.wifi[i].ssid, '\0', sizeof m.pos.wifi[i].ssid));
    char out[128];
    size_t n;
    FUZZ_ASSERT(iw_reply(&m, 1795854600000LL, 8, out, sizeof out, &n) == 0);
    if (m.kind == WIRE_CMD_REPLY) {
        FUZZ_ASSERT(n == 0);
    } else {
        FUZZ_ASSERT(n > 0 && n == strlen(out) && out[n - 1] == '#' && memchr(out, '#', n) == out + n - 1);
        FUZZ_ASSERT(strncmp(out, m.prefix, strlen(m.prefix)) == 0);
    }
    return 0;
}
