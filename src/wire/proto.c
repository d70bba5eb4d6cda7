/* proto.c — the protocol's name, decode and reply for one frame of either protocol (see proto.h).
 * Nothing here keeps state: connection or topic state (who the device is, whether an IW device has
 * logged in) belongs to the input that calls these. Only the codecs and libc are used: the fuzz
 * targets compile every file of src/wire with nothing else of base/ than err.c. */
#include "wire/proto.h"

#include <string.h>

const char *wire_proto_name(int proto)
{
    return proto == WIRE_PROTO_WATCH ? "watch" : proto == WIRE_PROTO_IW ? "iw" : NULL;
}

int wire_proto_from_name(const char *name, size_t n)
{
    if (n == 5 && memcmp(name, "watch", 5) == 0)
        return WIRE_PROTO_WATCH;
    if (n == 2 && memcmp(name, "iw", 2) == 0)
        return WIRE_PROTO_IW;
    return 0;
}

int wire_proto_decode(int proto, const uint8_t *frame, size_t len, wire_msg *m, nx_err *e)
{
    if (proto == WIRE_PROTO_WATCH)
        return watch_decode(frame, len, m, e);
    if (proto == WIRE_PROTO_IW)
        return iw_decode(frame, len, m, e);
    wire_msg_clear(m);
    return nx_fail(e, NX_EINVAL, "proto", "未知的设备协议");
}

void wire_proto_reply(const wire_msg *m, int64_t now_ms, char *out, size_t cap, size_t *len)
{
    int rc = m->proto == WIRE_PROTO_WATCH ? watch_reply(m, out, cap, len)
                                          : iw_reply(m, now_ms, WIRE_TZ_HOURS, out, cap, len);
    if (rc)
        *len = 0;
}
