/* codec.c — the pieces the two wristband codecs share: clearing a message, names of kinds, refusing
 * a bad frame, and the small bounded parsers of codec_internal.h (comma-separated fields, fixed-point
 * decimals and readings, hex, civil time, MAC addresses, phone numbers, UTF-16 hex for text messages).
 *
 * Invariants: every parser reads exactly the span it is given and never past it; numbers are checked
 * for range before they are stored, and digit counts are capped so nothing overflows int64. Time
 * conversion is plain arithmetic on the proleptic Gregorian calendar (no timegm, no TZ variable), so
 * the codecs stay pure and give the same answer on every machine. No state, safe from any thread. */
#include "wire/codec_internal.h"

#include "base/err.h"
#include "base/str.h"

#include <string.h>

void wire_msg_clear(wire_msg *m)
{
    memset(m, 0, sizeof *m);
    m->kind = WIRE_NONE_KIND;
    m->alarm_code = m->battery_pct = m->steps = m->rolls = m->serial = WIRE_NONE;
    wire_pos *p = &m->pos;
    p->lat_e6 = p->lon_e6 = p->speed_kmh_e1 = p->course_deg_e1 = p->altitude_m = WIRE_NONE;
    p->satellites = p->gsm_signal = p->accuracy_m = p->ta = p->mcc = p->mnc = WIRE_NONE;
    wire_health *h = &m->health;
    h->hr_bpm = h->sys_mmhg = h->dia_mmhg = h->spo2_pct = h->temp_c_e1 = h->temp_mode = WIRE_NONE;
    h->sugar_mmol_e2 = WIRE_NONE;
}

int wire_bad_frame(wire_msg *m, int proto, nx_err *e, const char *field_name, const char *what)
{
    const uint8_t *raw = m->raw;
    size_t raw_len = m->raw_len;
    wire_msg_clear(m);
    m->proto = proto;
    m->raw = raw;
    m->raw_len = raw_len;
    return nx_fail(e, NX_EINVAL, field_name, "%s数据帧格式错误：%s", proto == WIRE_PROTO_IW ? "IW " : "手表",
                   what);
}

const char *wire_kind_name(int kind)
{
    switch (kind) {
    case WIRE_KEEPALIVE: return "keepalive";
    case WIRE_LOGIN: return "login";
    case WIRE_POSITION: return "position";
    case WIRE_ALARM: return "alarm";
    case WIRE_HEALTH: return "health";
    case WIRE_CONFIG: return "config";
    case WIRE_CCID: return "ccid";
    case WIRE_VOICE: return "voice";
    case WIRE_VOICE_QUERY: return "voice_query";
    case WIRE_INIT: return "init";
    case WIRE_CMD_REPLY: return "cmd_reply";
    case WIRE_UNKNOWN: return "unknown";
    default: return "none";
    }
}

bool wire_span_split(wire_span *s, char sep, wire_span *head)
{
    const char *q = s->n ? memchr(s->p, sep, s->n) : NULL;
    if (q == NULL) {
        *head = *s;
        s->p += s->n;
        s->n = 0;
        return false;
    }
    head->p = s->p;
    head->n = (size_t)(q - s->p);
    s->n -= head->n + 1;
    s->p = q + 1;
    return true;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool wire_span_eq(wire_span s, const char *word)
{
    size_t n = strlen(word);
    if (n != s.n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != lower(word[i]))
            return false;
    return true;
}

wire_span wire_span_trim(wire_span s)
{
    while (s.n && s.p[0] == ' ') {
        s.p++;
        s.n--;
    }
    while (s.n && s.p[s.n - 1] == ' ')
        s.n--;
    return s;
}

wire_span wire_span_field(wire_span data, int i)
{
    wire_span x = {"", 0};
    bool more = data.n > 0;
    for (int k = 0; k <= i; k++) {
        if (!more)
            return (wire_span){"", 0};
        more = wire_span_split(&data, ',', &x);
    }
    return x;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int wire_parse_fixed(wire_span s, int decimals, int64_t min, int64_t max, int32_t *out)
{
    *out = WIRE_NONE;
    s = wire_span_trim(s);
    if (s.n == 0)
        return 0;
    if (decimals < 0 || decimals > 6)
        return NX_EINVAL;
    size_t i = 0;
    bool neg = false;
    if (s.p[0] == '+' || s.p[0] == '-') {
        neg = s.p[0] == '-';
        i++;
    }
    int64_t ip = 0, frac = 0;
    int idigits = 0, fdigits = 0;
    while (i < s.n && is_digit(s.p[i])) {
        if (++idigits > 12)
            return NX_EINVAL;
        ip = ip * 10 + (s.p[i] - '0');
        i++;
    }
    int seen_frac = 0;
    if (i < s.n && s.p[i] == '.') {
        i++;
        while (i < s.n && is_digit(s.p[i])) {
            if (fdigits < decimals) {
                frac = frac * 10 + (s.p[i] - '0');
                fdigits++;
            }
            seen_frac++;
            i++;
        }
    }
    if (i != s.n || (idigits == 0 && seen_frac == 0))
        return NX_EINVAL;
    int64_t scale = 1;
    for (int k = 0; k < decimals; k++)
        scale *= 10;
    int64_t fscale = 1;
    for (int k = fdigits; k < decimals; k++)
        fscale *= 10;
    int64_t v = ip * scale + frac * fscale;
    if (neg)
        v = -v;
    if (v < min || v > max || v < INT32_MIN + 1 || v > INT32_MAX)
        return NX_EINVAL;
    *out = (int32_t)v;
    return 0;
}

int wire_parse_int(wire_span s, int64_t min, int64_t max, int32_t *out)
{
    return wire_parse_fixed(s, 0, min, max, out);
}

int wire_parse_reading(wire_span s, int decimals, int64_t max, int32_t *out)
{
    if (wire_parse_fixed(s, decimals, 0, max, out))
        return NX_EINVAL;
    if (*out == 0)
        *out = WIRE_NONE;
    return 0;
}

int wire_parse_hex(wire_span s, uint32_t *out)
{
    *out = 0;
    if (s.n == 0 || s.n > 8)
        return NX_EINVAL;
    uint32_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        int h = str_hexval(s.p[i]);
        if (h < 0)
            return NX_EINVAL;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return 0;
}

int wire_parse_cell_id(wire_span s, uint32_t *out)
{
    *out = 0;
    s = wire_span_trim(s);
    bool hex = false;
    for (size_t i = 0; i < s.n; i++) {
        char c = lower(s.p[i]);
        if (c >= 'a' && c <= 'f')
            hex = true;
    }
    if (hex)
        return wire_parse_hex(s, out);
    int32_t v;
    if (s.n == 0 || s.n > 10 || wire_parse_fixed(s, 0, 0, INT32_MAX, &v) || s.p[0] == '-' || s.p[0] == '+')
        return NX_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

int32_t wire_digits(const char *p, size_t n)
{
    int32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic, 400-year cycles). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int64_t wire_time_ms(int year, int month, int day, int hour, int min, int sec)
{
    if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return 0;
    if (hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
        return 0;
    int64_t days = days_from_civil(year, month, day);
    return ((days * 24 + hour) * 60 + min) * 60000 + (int64_t)sec * 1000;
}

void wire_civil(int64_t ms, int *year, int *month, int *day, int *hour, int *min, int *sec)
{
    int64_t s = ms / 1000 - (ms % 1000 < 0);
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    *hour = (int)(rem / 3600);
    *min = (int)(rem / 60 % 60);
    *sec = (int)(rem % 60);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = m;
    *day = d;
}

void wire_copy(char *dst, size_t cap, wire_span s)
{
    size_t n = 0;
    while (n < s.n && n + 1 < cap && s.p[n] != '\0') {
        dst[n] = s.p[n];
        n++;
    }
    dst[n] = '\0';
}

void wire_mac(wire_span s, char out[18])
{
    static const char hx[] = "0123456789abcdef";
    out[0] = '\0';
    s = wire_span_trim(s);
    int nib[12];
    int k = 0;
    if (s.n == 17) {
        for (size_t i = 0; i < 17; i++) {
            if (i % 3 == 2) {
                if (s.p[i] != ':' && s.p[i] != '-')
                    return;
                continue;
            }
            if ((nib[k++] = str_hexval(s.p[i])) < 0)
                return;
        }
    } else if (s.n == 12) {
        for (size_t i = 0; i < 12; i++)
            if ((nib[k++] = str_hexval(s.p[i])) < 0)
                return;
    } else {
        return;
    }
    size_t o = 0;
    for (int i = 0; i < 12; i++) {
        out[o++] = hx[nib[i]];
        if (i % 2 == 1 && i < 11)
            out[o++] = ':';
    }
    out[o] = '\0';
}

uint32_t wire_status_alarms(uint32_t status)
{
    /* bit 16 + i of the status word is the alarm at i */
    static const uint32_t alarm_at[] = {WIRE_AL_SOS,      WIRE_AL_LOW_BATTERY, WIRE_AL_FENCE_OUT, WIRE_AL_FENCE_IN,
                                        WIRE_AL_TAKEN_OFF, WIRE_AL_FALL,        WIRE_AL_HEART_RATE};
    uint32_t a = 0;
    for (unsigned i = 0; i < sizeof alarm_at / sizeof alarm_at[0]; i++)
        if (status & (1u << (16 + i)))
            a |= alarm_at[i];
    return a;
}

bool wire_phone_ok(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return true;
    size_t i = s[0] == '+' ? 1 : 0, digits = 0;
    for (; s[i]; i++, digits++)
        if (!is_digit(s[i]) || digits >= 20)
            return false;
    return digits > 0;
}

/* Decode one UTF-8 code point at s; returns its length or 0 when invalid. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static int put_u16(char *out, size_t cap, size_t *len, uint32_t u)
{
    static const char hx[] = "0123456789ABCDEF";
    if (*len + 4 >= cap)
        return NX_ETOOBIG;
    for (int k = 3; k >= 0; k--)
        out[(*len)++] = hx[(u >> (4 * k)) & 0xF];
    out[*len] = '\0';
    return 0;
}

int wire_utf16_hex(const char *text, char *out, size_t cap, size_t *len)
{
    if (text == NULL || text[0] == '\0')
        return NX_EINVAL;
    const unsigned char *s = (const unsigned char *)text;
    size_t points = 0;
    while (*s) {
        uint32_t cp;
        size_t n = utf8_next(s, &cp);
        if (n == 0 || ++points > WIRE_TEXT_MAX)
            return NX_EINVAL;
        s += n;
        int rc;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            rc = put_u16(out, cap, len, 0xD800 | (cp >> 10));
            if (rc == 0)
                rc = put_u16(out, cap, len, 0xDC00 | (cp & 0x3FF));
        } else {
            rc = put_u16(out, cap, len, cp);
        }
        if (rc)
            return rc;
    }
    return 0;
}
