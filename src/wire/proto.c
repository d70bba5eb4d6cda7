/* proto.c — the protocol's name, decode and reply for one frame of either protocol (see proto.h).
 * Nothing here keeps state: connection or topic state (who the device is, whether an IW device has
 * logged in) belongs to the input that calls these. Only the codecs and libc are used: the fuzz
 * targets compile every file of src/wire with nothing else of base/ than err.c. */
#include "wire/proto.h"

#include <stdio.h>
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

static bool type_in(const char *t, size_t n, const char *const *set)
{
    for (; *set; set++)
        if (strlen(*set) == n && memcmp(*set, t, n) == 0)
            return true;
    return false;
}

/* The header of a watch frame up to its length field ("[MF*ID*" or "[MF*ID*IDX*") and its content's
 * type; false when the frame has no such shape. Content never holds a raw '*' (escaped as 7D 05). */
static bool watch_parts(const char *f, size_t len, size_t *head, const char **type, size_t *tn)
{
    size_t stars[5], ns = 0;
    for (size_t i = 0; i < len; i++)
        if (f[i] == '*') {
            if (ns == 5)
                return false;
            stars[ns++] = i;
        }
    if (ns < 3 || ns > 4)
        return false;
    *head = stars[ns - 2] + 1;
    const char *c = f + stars[ns - 1] + 1;
    size_t n = 0;
    while (c + n < f + len - 1 && c[n] != ',')
        n++;
    *type = c;
    *tn = n;
    return true;
}

int wire_proto_decode_refused(int proto, const uint8_t *frame, size_t len, wire_msg *m)
{
    static const char *const watch_types[] = {"bphrt", "BLOOD", "PULSE", "heart", "oxygen", "btemp2", "TEMP", NULL};
    static const char *const iw_types[] = {"49", "HT", "HP", "50", NULL};
    const char *f = (const char *)frame;
    char buf[96];
    int n = -1;
    if (proto == WIRE_PROTO_WATCH && frame && len >= 2 && f[0] == '[' && f[len - 1] == ']') {
        size_t head, tn;
        const char *type;
        if (watch_parts(f, len, &head, &type, &tn) && head < 48 && type_in(type, tn, watch_types))
            n = snprintf(buf, sizeof buf, "%.*s%04x*%.*s]", (int)head, f, (unsigned)tn, (int)tn, type);
    } else if (proto == WIRE_PROTO_IW && frame && len >= 7 && f[len - 1] == '#') {
        size_t pl = memcmp(f, "IW", 2) == 0 ? 2 : len >= 8 && memcmp(f, "TRV", 3) == 0 ? 3 : 0;
        if (pl && len >= pl + 5 && memcmp(f + pl, "AP", 2) == 0 && type_in(f + pl + 2, 2, iw_types))
            n = snprintf(buf, sizeof buf, "%.*s#", (int)pl + 4, f);
    }
    if (n <= 0 || (size_t)n >= sizeof buf || wire_proto_decode(proto, (const uint8_t *)buf, (size_t)n, m, NULL) ||
        m->kind != WIRE_HEALTH) {
        wire_msg_clear(m);
        return NX_EINVAL;
    }
    m->raw = NULL;
    m->raw_len = 0;
    m->payload = NULL;
    m->payload_len = 0;
    return 0;
}
