/* watch.c — the "3G watch" protocol: frames "[MF*ID*[IDX*]LEN*TYPE[,DATA]]" from the device, replies
 * and commands in the same shape from the server (shared/protocols/watch.md).
 *
 * Decoding works on spans of the caller's frame and never copies the frame: the header is checked
 * (MF 2 characters, ID 1-20 digits, IDX when the field after the ID is 4 hex digits followed by
 * another 4-character field, LEN 4 characters that are never trusted), every escape in the body is
 * validated, then the body is split at raw commas (escaped commas are 7D 04, so splitting first and
 * un-escaping per field is exact). Text fields that matter (SSID, ICCID) are un-escaped into fixed
 * fields of the message; the voice payload is left escaped and borrowed (watch_unescape).
 *
 * Strict where a wrong value would be stored (positions, health readings: a field that does not parse
 * fails the frame), liberal where refusing would hurt someone: LEN is ignored, types compare without
 * case, a keep-alive is answered whatever follows it, and an alarm keeps being an alarm when its
 * position is malformed or absent. Pure and stateless; safe from any thread. */
#include "wire/watch.h"

#include "wire/codec_internal.h"

#include <stdio.h>
#include <string.h>

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return n > 0;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 'a' + 'A');
        if (b >= 'a' && b <= 'z')
            b = (char)(b - 'a' + 'A');
        if (a != b)
            return false;
    }
    return true;
}

int watch_unescape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    static const uint8_t dec[6] = {0, 0x7D, '[', ']', ',', '*'};
    size_t o = 0;
    *outlen = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == 0x7D) {
            if (i + 1 >= n || in[i + 1] < 1 || in[i + 1] > 5)
                return NX_EINVAL;
            c = dec[in[++i]];
        }
        if (o >= cap)
            return NX_ETOOBIG;
        out[o++] = c;
    }
    *outlen = o;
    return 0;
}

int watch_escape(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    *outlen = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i], code = 0;
        switch (c) {
        case 0x7D: code = 1; break;
        case '[': code = 2; break;
        case ']': code = 3; break;
        case ',': code = 4; break;
        case '*': code = 5; break;
        default: break;
        }
        if (o + (code ? 2 : 1) > cap)
            return NX_ETOOBIG;
        if (code) {
            out[o++] = 0x7D;
            out[o++] = code;
        } else {
            out[o++] = c;
        }
    }
    *outlen = o;
    return 0;
}

/* Un-escape a field into a fixed NUL-terminated string (truncating). The body was validated. */
static void copy_field(char *dst, size_t cap, wire_span s)
{
    uint8_t tmp[64];
    size_t n = 0;
    size_t take = s.n < sizeof tmp ? s.n : sizeof tmp;
    /* Never cut an escape pair in half. */
    if (take < s.n && take > 0 && (uint8_t)s.p[take - 1] == 0x7D)
        take--;
    if (watch_unescape((const uint8_t *)s.p, take, tmp, sizeof tmp, &n) != 0)
        n = 0;
    wire_copy(dst, cap, (wire_span){(const char *)tmp, n});
}

/* ---- positions ---------------------------------------------------------------------------------- */

/* What a position payload yields; committed into the message only when it parsed whole. */
typedef struct posres {
    wire_pos pos;
    int32_t battery, steps, rolls;
    bool has_status;
    uint32_t status;
} posres;

#define FAIL_FIELD(name)                                                                                     \
    do {                                                                                                     \
        *bad = (name);                                                                                       \
        return NX_EINVAL;                                                                                    \
    } while (0)

static int parse_position(wire_span data, posres *r, const char **bad)
{
    wire_span f[16];
    int nf = 0;
    bool more = true;
    while (nf < 16 && more)
        more = wire_span_split(&data, ',', &f[nf++]);
    if (nf < 7)
        FAIL_FIELD("position");
    for (int i = nf; i < 16; i++)
        f[i] = (wire_span){"", 0};

    wire_pos *p = &r->pos;
    p->present = true;
    /* 1, 2: date ddMMyy and time HHmmss, UTC. Empty is "no time"; anything else must be 6 digits. */
    wire_span d = wire_span_trim(f[0]), t = wire_span_trim(f[1]);
    if (d.n && t.n) {
        int32_t dd = d.n == 6 ? wire_digits(d.p, 6) : -1, tt = t.n == 6 ? wire_digits(t.p, 6) : -1;
        if (dd < 0 || tt < 0)
            FAIL_FIELD("time");
        p->time_ms =
            wire_time_ms(2000 + dd % 100, dd / 100 % 100, dd / 10000, tt / 10000, tt / 100 % 100, tt % 100);
    } else if (d.n || t.n) {
        FAIL_FIELD("time");
    }
    wire_span av = wire_span_trim(f[2]);
    bool a = false;
    if (av.n == 1 && (av.p[0] == 'A' || av.p[0] == 'a'))
        a = true;
    else if (av.n > 1 || (av.n == 1 && av.p[0] != 'V' && av.p[0] != 'v'))
        FAIL_FIELD("fix");
    if (wire_parse_fixed(f[3], 6, -90000000, 90000000, &p->lat_e6))
        FAIL_FIELD("latitude");
    if (wire_parse_fixed(f[5], 6, -180000000, 180000000, &p->lon_e6))
        FAIL_FIELD("longitude");
    wire_span ns = wire_span_trim(f[4]), ew = wire_span_trim(f[6]);
    if (ns.n > 1 || (ns.n == 1 && !strchr("NnSs", ns.p[0])))
        FAIL_FIELD("latitude");
    if (ew.n > 1 || (ew.n == 1 && !strchr("EeWw", ew.p[0])))
        FAIL_FIELD("longitude");
    if (ns.n && (ns.p[0] == 'S' || ns.p[0] == 's') && p->lat_e6 != WIRE_NONE && p->lat_e6 > 0)
        p->lat_e6 = -p->lat_e6;
    if (ew.n && (ew.p[0] == 'W' || ew.p[0] == 'w') && p->lon_e6 != WIRE_NONE && p->lon_e6 > 0)
        p->lon_e6 = -p->lon_e6;
    if (p->lat_e6 == 0 && p->lon_e6 == 0)
        p->lat_e6 = p->lon_e6 = WIRE_NONE; /* 0,0 is "no position", not the Gulf of Guinea */
    p->fix = a && p->lat_e6 != WIRE_NONE && p->lon_e6 != WIRE_NONE;

    if (wire_parse_fixed(f[7], 1, 0, 20000, &p->speed_kmh_e1))
        FAIL_FIELD("speed");
    if (wire_parse_fixed(f[8], 1, 0, 3600, &p->course_deg_e1))
        FAIL_FIELD("course");
    if (wire_parse_int(f[9], -20000, 100000, &p->altitude_m))
        FAIL_FIELD("altitude");
    if (wire_parse_int(f[10], 0, 255, &p->satellites))
        FAIL_FIELD("satellites");
    if (wire_parse_int(f[11], 0, 255, &p->gsm_signal))
        FAIL_FIELD("gsm_signal");
    if (wire_parse_int(f[12], 0, 100, &r->battery))
        FAIL_FIELD("battery");
    if (wire_parse_int(f[13], 0, INT32_MAX, &r->steps))
        FAIL_FIELD("steps");
    if (wire_parse_int(f[14], 0, INT32_MAX, &r->rolls))
        FAIL_FIELD("rolls");
    wire_span st = wire_span_trim(f[15]);
    if (st.n) {
        if (wire_parse_hex(st, &r->status))
            FAIL_FIELD("status");
        r->has_status = true;
    }
    if (!more) {
        p->cell_count = p->wifi_count = 0;
        return 0;
    }

    /* 17: cells, then Wi-Fi, then accuracy, parsed by the counts. */
    wire_span x;
    int32_t n;
#define NEXT(name)                                                                                           \
    do {                                                                                                     \
        if (!more)                                                                                           \
            FAIL_FIELD(name);                                                                                \
        more = wire_span_split(&data, ',', &x);                                                              \
    } while (0)
    NEXT("cell_count");
    if (wire_parse_int(x, 0, 64, &n))
        FAIL_FIELD("cell_count");
    p->cell_count = n = n == WIRE_NONE ? 0 : n;
    if (n > 0) {
        NEXT("ta");
        if (wire_parse_int(x, 0, 65535, &p->ta))
            FAIL_FIELD("ta");
        NEXT("mcc");
        if (wire_parse_int(x, 0, 9999, &p->mcc))
            FAIL_FIELD("mcc");
        NEXT("mnc");
        if (wire_parse_int(x, 0, 9999, &p->mnc))
            FAIL_FIELD("mnc");
        for (int32_t i = 0; i < n; i++) {
            wire_cell c;
            NEXT("lac");
            if (wire_parse_cell_id(x, &c.lac))
                FAIL_FIELD("lac");
            NEXT("cid");
            if (wire_parse_cell_id(x, &c.cid))
                FAIL_FIELD("cid");
            NEXT("rssi");
            if (wire_parse_int(x, -255, 255, &c.rssi))
                FAIL_FIELD("rssi");
            if (p->cells_n < WIRE_MAX_CELLS)
                p->cells[p->cells_n++] = c;
        }
    }
    if (!more)
        return 0; /* older firmware: no Wi-Fi count */
    NEXT("wifi_count");
    if (wire_parse_int(x, 0, 64, &n))
        FAIL_FIELD("wifi_count");
    p->wifi_count = n == WIRE_NONE ? 0 : n;
    for (int32_t i = 0; i < p->wifi_count; i++) {
        wire_wifi w;
        NEXT("ssid");
        copy_field(w.ssid, sizeof w.ssid, x);
        NEXT("mac");
        wire_mac(x, w.mac);
        NEXT("wifi_rssi");
        if (wire_parse_int(x, -255, 255, &w.rssi))
            FAIL_FIELD("wifi_rssi");
        if (p->wifi_n < WIRE_MAX_WIFI)
            p->wifi[p->wifi_n++] = w;
    }
    if (!more)
        return 0;
    NEXT("accuracy");
    if (wire_parse_int(x, 0, 1000000, &p->accuracy_m))
        FAIL_FIELD("accuracy");
#undef NEXT
    return 0; /* anything after the accuracy belongs to newer firmware: ignored */
}

static void posres_init(posres *r)
{
    wire_msg tmp;
    wire_msg_clear(&tmp);
    memset(r, 0, sizeof *r);
    r->pos = tmp.pos;
    r->battery = r->steps = r->rolls = WIRE_NONE;
}

/* ---- health ------------------------------------------------------------------------------------- */

static bool is_command_keyword(const char *t)
{
    static const char *const words[] = {"CR",      "UPLOAD",   "SOS",   "SOS1",     "SOS2",   "SOS3",
                                        "CENTER",  "FALLDOWN", "LSSET", "LOWBAT",   "REMOVE", "hrtstart",
                                        "MESSAGE", "LZ",       "RESET", "POWEROFF", "FIND"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (wire_span_eq((wire_span){t, strlen(t)}, words[i]))
            return true;
    return false;
}

/* ---- decode ------------------------------------------------------------------------------------- */

static int bad(wire_msg *m, nx_err *e, const char *field_name, const char *what)
{
    return wire_bad_frame(m, WIRE_PROTO_WATCH, e, field_name, what);
}

int watch_decode(const uint8_t *frame, size_t len, wire_msg *m, nx_err *e)
{
    wire_msg_clear(m);
    m->proto = WIRE_PROTO_WATCH;
    m->raw = frame;
    m->raw_len = len;
    if (frame == NULL || len < 2 || frame[0] != '[' || frame[len - 1] != ']')
        return bad(m, e, "frame", "缺少方括号");
    wire_span c = {(const char *)frame + 1, len - 2}, x;

    /* MF */
    if (!wire_span_split(&c, '*', &x) || x.n != 2 || !is_alnum(x.p[0]) || !is_alnum(x.p[1]))
        return bad(m, e, "mf", "厂商代码无效");
    wire_copy(m->mf, sizeof m->mf, x);
    /* ID */
    if (!wire_span_split(&c, '*', &x) || x.n < 1 || x.n > 20 || !all_digits(x.p, x.n))
        return bad(m, e, "id", "设备号无效");
    wire_copy(m->device_id, sizeof m->device_id, x);
    /* [IDX*] LEN* */
    if (c.n >= 10 && c.p[4] == '*' && c.p[9] == '*' && is_hex(c.p[0]) && is_hex(c.p[1]) && is_hex(c.p[2]) &&
        is_hex(c.p[3]) && !memchr(c.p + 5, '*', 4)) {
        wire_copy(m->idx, sizeof m->idx, (wire_span){c.p, 4});
        c.p += 5;
        c.n -= 5;
    }
    if (c.n < 5 || c.p[4] != '*' || memchr(c.p, '*', 4))
        return bad(m, e, "len", "长度字段无效");
    c.p += 5;
    c.n -= 5;

    /* Every escape in the body must be one of 7D 01..05. */
    for (size_t i = 0; i < c.n; i++) {
        if ((uint8_t)c.p[i] == 0x7D) {
            if (i + 1 >= c.n || c.p[i + 1] < 1 || c.p[i + 1] > 5)
                return bad(m, e, "escape", "转义序列无效");
            i++;
        }
    }

    /* TYPE [, DATA] */
    bool has_data = wire_span_split(&c, ',', &x);
    if (x.n < 1 || x.n >= sizeof m->type)
        return bad(m, e, "type", "消息类型无效");
    for (size_t i = 0; i < x.n; i++)
        if (!is_alnum(x.p[i]) && x.p[i] != '_')
            return bad(m, e, "type", "消息类型无效");
    wire_copy(m->type, sizeof m->type, x);
    wire_span data = c;
    if (has_data) {
        m->payload = (const uint8_t *)data.p;
        m->payload_len = data.n;
    } else {
        data = (wire_span){"", 0};
    }
    const char *t = m->type;
    wire_span ts = {t, strlen(t)};
    const char *badf = "data";

    if (wire_span_eq(ts, "LK")) {
        /* LK[,steps,rolls,battery]: always a keep-alive; unreadable counters are just absent. */
        m->kind = WIRE_KEEPALIVE;
        if (wire_parse_int(wire_span_field(data, 0), 0, INT32_MAX, &m->steps))
            m->steps = WIRE_NONE;
        if (wire_parse_int(wire_span_field(data, 1), 0, INT32_MAX, &m->rolls))
            m->rolls = WIRE_NONE;
        if (wire_parse_int(wire_span_field(data, 2), 0, 100, &m->battery_pct))
            m->battery_pct = WIRE_NONE;
        return 0;
    }
    bool is_pos = wire_span_eq(ts, "UD") || wire_span_eq(ts, "UD2") || wire_span_eq(ts, "UD3") ||
                  wire_span_eq(ts, "UD_LTE") || wire_span_eq(ts, "UD_WCDMA") || wire_span_eq(ts, "WT");
    bool is_alarm = has_prefix_ci(t, "AL");
    if (is_pos || is_alarm) {
        posres r;
        posres_init(&r);
        int rc = has_data ? parse_position(data, &r, &badf) : NX_EINVAL;
        if (rc == 0) {
            m->pos = r.pos;
            m->battery_pct = r.battery;
            m->steps = r.steps;
            m->rolls = r.rolls;
        } else if (is_pos) {
            return bad(m, e, badf, "位置数据无法解析");
        } else {
            m->pos_error = has_data; /* an alarm stays an alarm; its position is dropped */
        }
        m->has_status = r.has_status;
        m->status = r.status;
        m->alarms = wire_status_alarms(r.status);
        m->delayed = wire_span_eq(ts, "UD2");
        if (is_alarm) {
            m->kind = WIRE_ALARM;
            if (m->alarms == 0)
                m->alarms = WIRE_AL_GENERAL;
        } else {
            m->kind = WIRE_POSITION;
        }
        return 0;
    }
    wire_health *h = &m->health;
    if (wire_span_eq(ts, "bphrt")) {
        if (wire_parse_reading(wire_span_field(data, 0), 0, 300, &h->sys_mmhg) ||
            wire_parse_reading(wire_span_field(data, 1), 0, 300, &h->dia_mmhg) ||
            wire_parse_reading(wire_span_field(data, 2), 0, 300, &h->hr_bpm))
            return bad(m, e, "bphrt", "血压心率数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(ts, "BLOOD")) {
        if (wire_parse_reading(wire_span_field(data, 0), 0, 300, &h->sys_mmhg) ||
            wire_parse_reading(wire_span_field(data, 1), 0, 300, &h->dia_mmhg) ||
            wire_parse_reading(wire_span_field(data, 2), 0, 300, &h->hr_bpm))
            return bad(m, e, "blood", "血压数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(ts, "PULSE") || wire_span_eq(ts, "heart")) {
        if (wire_parse_reading(wire_span_field(data, 0), 0, 300, &h->hr_bpm))
            return bad(m, e, "hr", "心率数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(ts, "oxygen")) {
        if (wire_parse_reading(wire_span_field(data, 1), 0, 100, &h->spo2_pct))
            return bad(m, e, "spo2", "血氧数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(ts, "btemp2")) {
        if (wire_parse_int(wire_span_field(data, 0), 0, 9, &h->temp_mode) ||
            wire_parse_reading(wire_span_field(data, 1), 1, 600, &h->temp_c_e1))
            return bad(m, e, "temperature", "体温数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(ts, "TEMP")) {
        if (wire_parse_reading(wire_span_field(data, 0), 1, 600, &h->temp_c_e1))
            return bad(m, e, "temperature", "体温数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(ts, "CONFIG")) {
        m->kind = WIRE_CONFIG;
        return 0;
    }
    if (wire_span_eq(ts, "CCID")) {
        copy_field(m->iccid, sizeof m->iccid, wire_span_trim(wire_span_field(data, 0)));
        m->kind = WIRE_CCID;
        return 0;
    }
    if (wire_span_eq(ts, "TKQ") || wire_span_eq(ts, "TKQ2")) {
        m->kind = WIRE_VOICE_QUERY;
        return 0;
    }
    if (wire_span_eq(ts, "TK")) {
        size_t n = 0;
        for (size_t i = 0; i < data.n; i++, n++)
            if ((uint8_t)data.p[i] == 0x7D)
                i++;
        /* One byte ("TK,1" / "TK,0") is the device acknowledging a voice message we sent. */
        m->kind = n > 1 ? WIRE_VOICE : WIRE_CMD_REPLY;
        return 0;
    }
    if (wire_span_eq(ts, "INIT")) {
        m->kind = WIRE_INIT;
        return 0;
    }
    m->kind = is_command_keyword(t) ? WIRE_CMD_REPLY : WIRE_UNKNOWN;
    return 0;
}

/* ---- encode ------------------------------------------------------------------------------------- */

int watch_frame(const char *mf, const char *id, const char *idx, const void *content, size_t clen, char *out,
                size_t cap, size_t *len)
{
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    if (mf == NULL || strlen(mf) != 2 || !is_alnum(mf[0]) || !is_alnum(mf[1]))
        return NX_EINVAL;
    size_t idn = id ? strlen(id) : 0;
    if (idn < 1 || idn > 20 || !all_digits(id, idn))
        return NX_EINVAL;
    bool has_idx = idx && idx[0];
    if (has_idx &&
        (strlen(idx) != 4 || !is_hex(idx[0]) || !is_hex(idx[1]) || !is_hex(idx[2]) || !is_hex(idx[3])))
        return NX_EINVAL;
    if (clen > 0xFFFF)
        return NX_ETOOBIG;
    int n = snprintf(out, cap, "[%s*%s*%s%s%04zx*", mf, id, has_idx ? idx : "", has_idx ? "*" : "", clen);
    if (n < 0 || (size_t)n + clen + 2 > cap) {
        if (cap > 0)
            out[0] = '\0';
        return NX_ETOOBIG;
    }
    memcpy(out + n, content, clen);
    out[n + clen] = ']';
    out[n + clen + 1] = '\0';
    *len = (size_t)n + clen + 1;
    return 0;
}

int watch_reply(const wire_msg *m, char *out, size_t cap, size_t *len)
{
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    if (m == NULL || m->proto != WIRE_PROTO_WATCH || m->kind == WIRE_NONE_KIND)
        return NX_EINVAL;
    char content[48];
    const char *t = m->type;
    switch (m->kind) {
    case WIRE_KEEPALIVE:
    case WIRE_CCID:
    case WIRE_VOICE_QUERY: snprintf(content, sizeof content, "%s", t); break;
    case WIRE_ALARM: snprintf(content, sizeof content, "AL"); break;
    case WIRE_CONFIG:
    case WIRE_VOICE:
    case WIRE_INIT: snprintf(content, sizeof content, "%s,1", t); break;
    case WIRE_HEALTH:
        if (wire_span_eq((wire_span){t, strlen(t)}, "bphrt") ||
            wire_span_eq((wire_span){t, strlen(t)}, "btemp2")) {
            snprintf(content, sizeof content, "%s", t);
        } else if (wire_span_eq((wire_span){t, strlen(t)}, "oxygen")) {
            int32_t s = m->health.spo2_pct;
            snprintf(content, sizeof content, "%s,%d", t,
                     s != WIRE_NONE && s >= WATCH_SPO2_NORMAL_MIN && s <= 100);
        } else {
            return 0;
        }
        break;
    default: return 0;
    }
    return watch_frame(m->mf, m->device_id, m->idx, content, strlen(content), out, cap, len);
}

static int cmd_fail(nx_err *e, int code, const char *field_name, const char *msg)
{
    return nx_fail(e, code, field_name, "%s", msg);
}

int watch_encode_cmd(const wire_cmd *c, const char *mf, const char *id, char *out, size_t cap, size_t *len,
                     nx_err *e)
{
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    char text[WATCH_OUT_MAX];
    size_t tn = 0;
    const char *p0 = c->phones[0] ? c->phones[0] : "";
    switch (c->kind) {
    case WIRE_CMD_LOCATE: snprintf(text, sizeof text, "CR"); break;
    case WIRE_CMD_UPLOAD:
        if (c->seconds < 60 || c->seconds > 65535)
            return cmd_fail(e, NX_EINVAL, "seconds", "上传间隔须在 60 到 65535 秒之间");
        snprintf(text, sizeof text, "UPLOAD,%d", c->seconds);
        break;
    case WIRE_CMD_SOS_NUMBERS:
        for (int i = 0; i < 3; i++)
            if (!wire_phone_ok(c->phones[i]))
                return cmd_fail(e, NX_EINVAL, "phones", "SOS 号码格式错误");
        snprintf(text, sizeof text, "SOS,%s,%s,%s", p0, c->phones[1] ? c->phones[1] : "",
                 c->phones[2] ? c->phones[2] : "");
        break;
    case WIRE_CMD_SOS_NUMBER:
        if (c->slot < 1 || c->slot > 3)
            return cmd_fail(e, NX_EINVAL, "slot", "SOS 号码位置须为 1 到 3");
        if (!wire_phone_ok(p0))
            return cmd_fail(e, NX_EINVAL, "phones", "SOS 号码格式错误");
        snprintf(text, sizeof text, "SOS%d,%s", c->slot, p0);
        break;
    case WIRE_CMD_CENTER:
        if (!wire_phone_ok(p0))
            return cmd_fail(e, NX_EINVAL, "phones", "中心号码格式错误");
        snprintf(text, sizeof text, "CENTER,%s", p0);
        break;
    case WIRE_CMD_FALL_DETECT:
        if ((c->on != 0 && c->on != 1) || (c->call_centre != 0 && c->call_centre != 1))
            return cmd_fail(e, NX_EINVAL, "on", "跌倒检测开关须为 0 或 1");
        snprintf(text, sizeof text, "FALLDOWN,%d,%d", c->on, c->call_centre);
        break;
    case WIRE_CMD_FALL_LEVEL:
        if (c->level < 1 || c->level > 9)
            return cmd_fail(e, NX_EINVAL, "level", "跌倒灵敏度须在 1 到 9 之间");
        snprintf(text, sizeof text, "LSSET,%d+6", c->level);
        break;
    case WIRE_CMD_LOWBAT_ALARM:
    case WIRE_CMD_REMOVE_ALARM:
        if (c->on != 0 && c->on != 1)
            return cmd_fail(e, NX_EINVAL, "on", "开关须为 0 或 1");
        snprintf(text, sizeof text, "%s,%d", c->kind == WIRE_CMD_LOWBAT_ALARM ? "LOWBAT" : "REMOVE", c->on);
        break;
    case WIRE_CMD_HR_INTERVAL:
        if (c->seconds < 0 || c->seconds > 65535)
            return cmd_fail(e, NX_EINVAL, "seconds", "心率测量间隔须在 0 到 65535 秒之间");
        snprintf(text, sizeof text, "hrtstart,%d", c->seconds);
        break;
    case WIRE_CMD_HR_NOW: snprintf(text, sizeof text, "hrtstart,1"); break;
    case WIRE_CMD_MESSAGE: {
        tn = 8;
        memcpy(text, "MESSAGE,", 8);
        int rc = wire_utf16_hex(c->text, text, sizeof text, &tn);
        if (rc)
            return cmd_fail(e, rc, "text", "消息内容须为 1 到 120 个字符的 UTF-8 文本");
        break;
    }
    case WIRE_CMD_LANG_TZ:
        if (c->lang < 0 || c->lang > 99 || c->tz_hours < -12 || c->tz_hours > 14)
            return cmd_fail(e, NX_EINVAL, "tz_hours", "语言或时区无效");
        snprintf(text, sizeof text, "LZ,%d,%d", c->lang, c->tz_hours);
        break;
    case WIRE_CMD_RESET: snprintf(text, sizeof text, "RESET"); break;
    case WIRE_CMD_POWEROFF: snprintf(text, sizeof text, "POWEROFF"); break;
    case WIRE_CMD_FIND: snprintf(text, sizeof text, "FIND"); break;
    default: return cmd_fail(e, NX_EUNSUPP, "kind", "手表协议不支持该指令");
    }
    if (tn == 0)
        tn = strlen(text);
    const char *omf = (mf && strcmp(mf, "3G") == 0) ? "SG" : mf;
    int rc = watch_frame(omf, id, NULL, text, tn, out, cap, len);
    if (rc == NX_EINVAL)
        return cmd_fail(e, rc, "id", "设备号或厂商代码无效");
    if (rc)
        return cmd_fail(e, rc, "", "指令超出长度上限");
    return 0;
}
