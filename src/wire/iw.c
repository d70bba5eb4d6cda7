/* iw.c — the IW protocol (shared/protocols/iw.md): '#'-terminated ASCII frames
 * "IWAP<type><payload>#" (or "TRVAP…#") from the device, "IWBP…#" from the server.
 *
 * A frame has no length and no checksum, so the decoder checks the shape instead: the prefix, the
 * direction AP (a BP frame never comes from a device), a 2-character type, no '#' before the end.
 * Fields are split at commas; the Wi-Fi list ("name|MAC|rssi" joined by '&') is always the rest of
 * the payload, so commas inside an access point's name do not shift anything, and each entry is read
 * from the right (rssi, MAC, then the name, which may itself contain '|').
 *
 * Positions come as one fixed-width block (date, A/V, ddmm.mmmm latitude, dddmm.mmmm longitude, speed,
 * time, course, signal, satellites, battery …); coordinates are converted from degrees and minutes to
 * micro-degrees with rounding to nearest. As on the watch, an alarm (AP10) stays an alarm when its
 * position is malformed, and blank fields are "no value". Pure and stateless; safe from any thread. */
#include "wire/iw.h"

#include "wire/codec_internal.h"

#include <stdio.h>
#include <string.h>

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool span_alnum(wire_span s, size_t min, size_t max)
{
    if (s.n < min || s.n > max)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_alnum(s.p[i]))
            return false;
    return true;
}

static bool span_digits(wire_span s, size_t min, size_t max)
{
    if (s.n < min || s.n > max)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

#define FAIL_FIELD(name)                                                                                     \
    do {                                                                                                     \
        *bad = (name);                                                                                       \
        return NX_EINVAL;                                                                                    \
    } while (0)

/* "ddmm.mmmm" / "dddmm.mmmm" → micro-degrees (maxdeg 90 or 180). */
static int degmin(wire_span s, int32_t maxdeg, int32_t *out)
{
    int32_t v;
    *out = WIRE_NONE;
    if (s.n == 0)
        return 0;
    if (wire_parse_fixed(s, 4, 0, (int64_t)maxdeg * 1000000, &v) || v == WIRE_NONE)
        return NX_EINVAL;
    int64_t deg = v / 1000000, min_e4 = v % 1000000;
    if (min_e4 >= 600000)
        return NX_EINVAL;
    int64_t micro = deg * 1000000 + (min_e4 * 100 + 30) / 60;
    if (micro > (int64_t)maxdeg * 1000000)
        return NX_EINVAL;
    *out = (int32_t)micro;
    return 0;
}

/* A coordinate at b.p[*i]: "ddmm.mmmm" then its hemisphere letter, pos or neg (neg makes it negative).
 * On success *i is past the letter. Returns 0 or NX_EINVAL. */
static int coordinate(wire_span b, size_t *i, char pos, char neg, int32_t maxdeg, int32_t *out)
{
    size_t s0 = *i, k = *i;
    while (k < b.n && ((b.p[k] >= '0' && b.p[k] <= '9') || b.p[k] == '.'))
        k++;
    if (k >= b.n || (b.p[k] != pos && b.p[k] != neg) || degmin((wire_span){b.p + s0, k - s0}, maxdeg, out))
        return NX_EINVAL;
    if (b.p[k] == neg && *out != WIRE_NONE)
        *out = -*out;
    *i = k + 1;
    return 0;
}

/* The position block, e.g. "261126A3627.4412N11617.9050E000.0081530000.0006001008800102". */
static int parse_block(wire_span b, wire_pos *p, int32_t *battery, const char **bad)
{
    b = wire_span_trim(b);
    p->present = true;
    if (b.n < 7)
        FAIL_FIELD("position");
    int32_t date = wire_digits(b.p, 6);
    if (date < 0)
        FAIL_FIELD("date");
    char av = b.p[6];
    if (av != 'A' && av != 'a' && av != 'V' && av != 'v')
        FAIL_FIELD("fix");
    size_t i = 7;
    int32_t lat = WIRE_NONE, lon = WIRE_NONE;
    if (coordinate(b, &i, 'N', 'S', 90, &lat))
        FAIL_FIELD("latitude");
    if (coordinate(b, &i, 'E', 'W', 180, &lon))
        FAIL_FIELD("longitude");
    if (lat == 0 && lon == 0)
        lat = lon = WIRE_NONE;
    p->lat_e6 = lat;
    p->lon_e6 = lon;
    p->fix = (av == 'A' || av == 'a') && lat != WIRE_NONE && lon != WIRE_NONE;

    /* Fixed-width tail; each piece is read only when the block still holds all of it. */
    size_t rem = b.n - i;
    if (rem >= 5) {
        if (wire_parse_fixed((wire_span){b.p + i, 5}, 1, 0, 20000, &p->speed_kmh_e1))
            FAIL_FIELD("speed");
        i += 5, rem -= 5;
    }
    if (rem >= 6) {
        int32_t t = wire_digits(b.p + i, 6);
        if (t < 0)
            FAIL_FIELD("time");
        p->time_ms = wire_time_ms(2000 + date / 10000, date / 100 % 100, date % 100, t / 10000, t / 100 % 100,
                                  t % 100);
        i += 6, rem -= 6;
    }
    if (rem >= 6) {
        if (wire_parse_fixed((wire_span){b.p + i, 6}, 1, 0, 3600, &p->course_deg_e1))
            FAIL_FIELD("course");
        i += 6, rem -= 6;
    }
    int32_t *three[3] = {&p->gsm_signal, &p->satellites, battery};
    static const char *const names[3] = {"gsm_signal", "satellites", "battery"};
    for (int k = 0; k < 3 && rem >= 3; k++) {
        int32_t v = wire_digits(b.p + i, 3);
        if (v < 0 || (k == 2 && v > 100))
            FAIL_FIELD(names[k]);
        *three[k] = v;
        i += 3, rem -= 3;
    }
    return 0; /* reserved digit, arm state and work mode: not needed */
}

/* "name|MAC|rssi&name|MAC|rssi…" (the rest of the payload). */
static int parse_wifi(wire_span s, wire_pos *p, const char **bad)
{
    p->wifi_count = 0;
    if (s.n == 0)
        return 0;
    bool more = true;
    while (more) {
        wire_span ent;
        more = wire_span_split(&s, '&', &ent);
        if (ent.n == 0 && !more)
            break; /* a trailing '&' */
        const char *bar2 = NULL, *bar1 = NULL;
        for (size_t i = ent.n; i-- > 0;) {
            if (ent.p[i] == '|') {
                if (bar2 == NULL) {
                    bar2 = ent.p + i;
                } else {
                    bar1 = ent.p + i;
                    break;
                }
            }
        }
        if (bar1 == NULL)
            FAIL_FIELD("wifi");
        wire_wifi w;
        wire_copy(w.ssid, sizeof w.ssid, (wire_span){ent.p, (size_t)(bar1 - ent.p)});
        wire_mac((wire_span){bar1 + 1, (size_t)(bar2 - bar1 - 1)}, w.mac);
        if (wire_parse_int((wire_span){bar2 + 1, (size_t)(ent.p + ent.n - bar2 - 1)}, -255, 255, &w.rssi))
            FAIL_FIELD("wifi_rssi");
        if (p->wifi_count >= 64)
            FAIL_FIELD("wifi");
        p->wifi_count++;
        if (p->wifi_n < WIRE_MAX_WIFI)
            p->wifi[p->wifi_n++] = w;
    }
    return 0;
}

/* MCC, MNC and one serving cell (AP01, AP10): blank fields are "no value". */
static int parse_cell(wire_span mcc, wire_span mnc, wire_span lac, wire_span cid, wire_pos *p,
                      const char **bad)
{
    if (wire_parse_int(mcc, 0, 9999, &p->mcc))
        FAIL_FIELD("mcc");
    if (wire_parse_int(mnc, 0, 9999, &p->mnc))
        FAIL_FIELD("mnc");
    lac = wire_span_trim(lac);
    cid = wire_span_trim(cid);
    if (lac.n == 0 && cid.n == 0)
        return 0;
    wire_cell c = {.rssi = WIRE_NONE};
    if (wire_parse_cell_id(lac, &c.lac))
        FAIL_FIELD("lac");
    if (wire_parse_cell_id(cid, &c.cid))
        FAIL_FIELD("cid");
    p->cells[0] = c;
    p->cells_n = p->cell_count = 1;
    return 0;
}

/* AP02: lang, reply, N, MCC, MNC, N × "LAC|CID|RSSI", W, Wi-Fi list. */
static int parse_lbs(wire_span d, wire_pos *p, const char **bad)
{
    wire_span x;
    int32_t n;
    p->present = true;
    wire_span_split(&d, ',', &x); /* language */
    wire_span_split(&d, ',', &x); /* reply wanted */
    wire_span_split(&d, ',', &x);
    if (wire_parse_int(x, 0, 64, &n))
        FAIL_FIELD("cell_count");
    p->cell_count = n == WIRE_NONE ? 0 : n;
    wire_span_split(&d, ',', &x);
    if (wire_parse_int(x, 0, 9999, &p->mcc))
        FAIL_FIELD("mcc");
    wire_span_split(&d, ',', &x);
    if (wire_parse_int(x, 0, 9999, &p->mnc))
        FAIL_FIELD("mnc");
    for (int32_t i = 0; i < p->cell_count; i++) {
        if (d.n == 0)
            FAIL_FIELD("cells");
        wire_span_split(&d, ',', &x);
        wire_span lac, cid;
        wire_cell c;
        if (!wire_span_split(&x, '|', &lac) || !wire_span_split(&x, '|', &cid) ||
            wire_parse_cell_id(lac, &c.lac) || wire_parse_cell_id(cid, &c.cid) ||
            wire_parse_int(x, -255, 255, &c.rssi))
            FAIL_FIELD("cells");
        if (p->cells_n < WIRE_MAX_CELLS)
            p->cells[p->cells_n++] = c;
    }
    wire_span_split(&d, ',', &x);
    if (wire_parse_int(x, 0, 64, &n))
        FAIL_FIELD("wifi_count");
    return parse_wifi(d, p, bad);
}

static int bad_frame(wire_msg *m, nx_err *e, const char *field_name, const char *what)
{
    return wire_bad_frame(m, WIRE_PROTO_IW, e, field_name, what);
}

/* Command answers get no ack (iw.md). */
static bool is_answer_type(wire_span t)
{
    static const char *const types[] = {"12", "14", "33", "34", "40", "76", "77", "84", "85", "86", "87"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (wire_span_eq(t, types[i]))
            return true;
    return false;
}

int iw_decode(const uint8_t *frame, size_t len, wire_msg *m, nx_err *e)
{
    wire_msg_clear(m);
    m->proto = WIRE_PROTO_IW;
    m->raw = frame;
    m->raw_len = len;
    if (frame == NULL || len < 7 || frame[len - 1] != '#')
        return bad_frame(m, e, "frame", "缺少结束符 #");
    wire_span c = {(const char *)frame, len - 1};
    size_t pl = 0;
    if (c.n >= 2 && memcmp(c.p, "IW", 2) == 0)
        pl = 2;
    else if (c.n >= 3 && memcmp(c.p, "TRV", 3) == 0)
        pl = 3;
    else
        return bad_frame(m, e, "prefix", "帧头须为 IW 或 TRV");
    wire_copy(m->prefix, sizeof m->prefix, (wire_span){c.p, pl});
    if (c.n < pl + 4 || c.p[pl] != 'A' || c.p[pl + 1] != 'P')
        return bad_frame(m, e, "direction", "方向须为 AP");
    wire_span t = {c.p + pl + 2, 2};
    if (!span_alnum(t, 2, 2))
        return bad_frame(m, e, "type", "消息类型无效");
    wire_copy(m->type, sizeof m->type, t);
    wire_span d = {c.p + pl + 4, c.n - pl - 4};
    if (memchr(d.p, '#', d.n))
        return bad_frame(m, e, "frame", "帧中出现 #");
    m->payload = (const uint8_t *)d.p;
    m->payload_len = d.n;
    /* Login and position blocks follow the type directly; the rest after a comma. Accept both. */
    if (d.n && d.p[0] == ',') {
        d.p++;
        d.n--;
    }

    /* A device's answer to our command: no ack. */
    if (span_digits(d, 6, 6) && !wire_span_eq(t, "00")) {
        m->kind = WIRE_CMD_REPLY;
        wire_parse_int(d, 0, 999999, &m->serial);
        return 0;
    }
    if (is_answer_type(t)) {
        m->kind = WIRE_CMD_REPLY;
        wire_span s = wire_span_field(d, 0);
        if (span_digits(s, 6, 6))
            wire_parse_int(s, 0, 999999, &m->serial);
        return 0;
    }

    const char *badf = "data";
    wire_health *h = &m->health;
    if (wire_span_eq(t, "00")) {
        wire_span imei, iccid = {"", 0}, imsi = {"", 0};
        if (wire_span_split(&d, ',', &imei)) {
            wire_span_split(&d, ',', &iccid);
            wire_span_split(&d, ',', &imsi);
        }
        imei = wire_span_trim(imei);
        iccid = wire_span_trim(iccid);
        imsi = wire_span_trim(imsi);
        if (!span_digits(imei, 1, 20))
            return bad_frame(m, e, "imei", "IMEI 无效");
        if (!span_alnum(iccid, 0, 23) || !span_alnum(imsi, 0, 23))
            return bad_frame(m, e, "iccid", "ICCID 或 IMSI 无效");
        wire_copy(m->device_id, sizeof m->device_id, imei);
        wire_copy(m->iccid, sizeof m->iccid, iccid);
        wire_copy(m->imsi, sizeof m->imsi, imsi);
        m->kind = WIRE_LOGIN;
        return 0;
    }
    if (wire_span_eq(t, "01") || wire_span_eq(t, "10")) {
        bool alarm = wire_span_eq(t, "10");
        wire_span block, mcc, mnc, lac, cid, code = {"", 0}, x;
        wire_span_split(&d, ',', &block);
        wire_span_split(&d, ',', &mcc);
        wire_span_split(&d, ',', &mnc);
        wire_span_split(&d, ',', &lac);
        wire_span_split(&d, ',', &cid);
        if (alarm) {
            wire_span_split(&d, ',', &code);
            wire_span_split(&d, ',', &x); /* language */
            wire_span_split(&d, ',', &x); /* flag */
        }
        wire_msg tmp;
        wire_msg_clear(&tmp);
        int32_t battery = WIRE_NONE;
        int rc = parse_block(block, &tmp.pos, &battery, &badf);
        if (rc == 0)
            rc = parse_cell(mcc, mnc, lac, cid, &tmp.pos, &badf);
        if (rc == 0)
            rc = parse_wifi(d, &tmp.pos, &badf);
        if (rc == 0) {
            m->pos = tmp.pos;
            m->battery_pct = battery;
        } else if (!alarm) {
            return bad_frame(m, e, badf, "位置数据无法解析");
        } else {
            m->pos_error = true;
        }
        m->kind = WIRE_POSITION;
        if (alarm) {
            int32_t a;
            if (wire_parse_int(code, 0, 99, &a))
                a = WIRE_NONE;
            m->alarm_code = a;
            if (a == 0) {
                m->kind = WIRE_POSITION; /* alarm 00 = none */
            } else {
                m->kind = WIRE_ALARM;
                m->alarms = a == 1 ? WIRE_AL_SOS : (a == 5 || a == 6) ? WIRE_AL_FALL : WIRE_AL_GENERAL;
            }
        }
        return 0;
    }
    if (wire_span_eq(t, "02")) {
        if (parse_lbs(d, &m->pos, &badf))
            return bad_frame(m, e, badf, "基站定位数据无法解析");
        m->kind = WIRE_POSITION;
        return 0;
    }
    if (wire_span_eq(t, "03")) {
        /* Heartbeat: always acknowledged; unreadable values are just absent. */
        wire_span b = wire_span_trim(wire_span_field(d, 0));
        if (b.n >= 9) {
            int32_t v = wire_digits(b.p + 6, 3);
            m->battery_pct = v >= 0 && v <= 100 ? v : WIRE_NONE;
        }
        if (wire_parse_int(wire_span_field(d, 1), 0, INT32_MAX, &m->steps))
            m->steps = WIRE_NONE;
        if (wire_parse_int(wire_span_field(d, 2), 0, INT32_MAX, &m->rolls))
            m->rolls = WIRE_NONE;
        m->kind = WIRE_KEEPALIVE;
        return 0;
    }
    if (wire_span_eq(t, "49")) {
        if (wire_parse_reading(wire_span_field(d, 0), 0, 300, &h->hr_bpm))
            return bad_frame(m, e, "hr", "心率数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(t, "HT") || wire_span_eq(t, "HP")) {
        if (wire_parse_reading(wire_span_field(d, 0), 0, 300, &h->hr_bpm) ||
            wire_parse_reading(wire_span_field(d, 1), 0, 300, &h->sys_mmhg) ||
            wire_parse_reading(wire_span_field(d, 2), 0, 300, &h->dia_mmhg))
            return bad_frame(m, e, "health", "心率血压数值无效");
        if (wire_span_eq(t, "HP") &&
            (wire_parse_reading(wire_span_field(d, 3), 0, 100, &h->spo2_pct) ||
             wire_parse_reading(wire_span_field(d, 4), 2, 10000, &h->sugar_mmol_e2) ||
             wire_parse_reading(wire_span_field(d, 5), 1, 600, &h->temp_c_e1)))
            return bad_frame(m, e, "health", "健康数据数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    if (wire_span_eq(t, "50")) {
        if (wire_parse_reading(wire_span_field(d, 0), 1, 600, &h->temp_c_e1) ||
            wire_parse_int(wire_span_field(d, 1), 0, 100, &m->battery_pct))
            return bad_frame(m, e, "temperature", "体温或电量数值无效");
        m->kind = WIRE_HEALTH;
        return 0;
    }
    m->kind = WIRE_UNKNOWN;
    return 0;
}

int iw_reply(const wire_msg *m, int64_t now_ms, int tz_hours, char *out, size_t cap, size_t *len)
{
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    if (m == NULL || m->proto != WIRE_PROTO_IW || m->kind == WIRE_NONE_KIND || tz_hours < -12 ||
        tz_hours > 14)
        return NX_EINVAL;
    if (m->kind == WIRE_CMD_REPLY)
        return 0;
    int n;
    if (m->kind == WIRE_LOGIN) {
        int y, mo, d, h, mi, s;
        wire_civil(now_ms, &y, &mo, &d, &h, &mi, &s);
        if (y < 0 || y > 9999)
            return NX_EINVAL;
        n = snprintf(out, cap, "%sBP%s,%04d%02d%02d%02d%02d%02d,%d#", m->prefix, m->type, y, mo, d, h, mi, s,
                     tz_hours);
    } else {
        n = snprintf(out, cap, "%sBP%s#", m->prefix, m->type);
    }
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return NX_ETOOBIG;
    }
    *len = (size_t)n;
    return 0;
}

int iw_encode(const char *prefix, const char *type, const char *imei, uint32_t serial, const char *args,
              char *out, size_t cap, size_t *len)
{
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    if (prefix == NULL)
        prefix = "IW";
    if (strcmp(prefix, "IW") != 0 && strcmp(prefix, "TRV") != 0)
        return NX_EINVAL;
    if (type == NULL || !span_alnum((wire_span){type, strlen(type)}, 2, 2))
        return NX_EINVAL;
    if (imei == NULL || !span_digits((wire_span){imei, strlen(imei)}, 1, 20) || serial > 999999)
        return NX_EINVAL;
    if (args && strchr(args, '#'))
        return NX_EINVAL;
    bool has_args = args && args[0];
    int n = snprintf(out, cap, "%sBP%s,%s,%06u%s%s#", prefix, type, imei, serial, has_args ? "," : "",
                     has_args ? args : "");
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return NX_ETOOBIG;
    }
    *len = (size_t)n;
    return 0;
}

int iw_encode_cmd(const wire_cmd *c, const char *prefix, const char *imei, uint32_t serial, char *out,
                  size_t cap, size_t *len, nx_err *e)
{
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    char args[IW_OUT_MAX];
    const char *type;
    args[0] = '\0';
    switch (c->kind) {
    case WIRE_CMD_LOCATE: type = "16"; break;
    case WIRE_CMD_RESET: type = "18"; break;
    case WIRE_CMD_POWEROFF: type = "31"; break;
    case WIRE_CMD_HR_NOW: type = "XL"; break;
    case WIRE_CMD_SOS_NUMBERS:
        type = "12";
        for (int i = 0; i < 3; i++)
            if (!wire_phone_ok(c->phones[i]))
                return nx_fail(e, NX_EINVAL, "phones", "SOS 号码格式错误");
        snprintf(args, sizeof args, "%s,%s,%s", c->phones[0] ? c->phones[0] : "",
                 c->phones[1] ? c->phones[1] : "", c->phones[2] ? c->phones[2] : "");
        break;
    case WIRE_CMD_MESSAGE: {
        type = "40";
        size_t n = 0;
        int rc = wire_utf16_hex(c->text, args, sizeof args, &n);
        if (rc)
            return nx_fail(e, rc, "text", "消息内容须为 1 到 120 个字符的 UTF-8 文本");
        break;
    }
    case WIRE_CMD_FALL_DETECT:
        type = "76";
        if (c->on != 0 && c->on != 1)
            return nx_fail(e, NX_EINVAL, "on", "跌倒检测开关须为 0 或 1");
        snprintf(args, sizeof args, "%d", c->on);
        break;
    case WIRE_CMD_HR_INTERVAL:
        type = "86";
        if (c->seconds < 0 || c->seconds > 86400)
            return nx_fail(e, NX_EINVAL, "seconds", "心率测量间隔须在 0 到 86400 秒之间");
        snprintf(args, sizeof args, "%d,%d", c->seconds > 0, (c->seconds + 59) / 60);
        break;
    default: return nx_fail(e, NX_EUNSUPP, "kind", "IW 协议没有该指令，请按设备型号配置");
    }
    int rc = iw_encode(prefix, type, imei, serial, args, out, cap, len);
    if (rc == NX_EINVAL)
        return nx_fail(e, rc, "imei", "IMEI、前缀或流水号无效");
    if (rc)
        return nx_fail(e, rc, "", "指令超出长度上限");
    return 0;
}
