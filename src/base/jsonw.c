/* jsonw.c — see jsonw.h.
 *
 * Writes are staged in w->stage (512 bytes) and moved into the strbuf in one strbuf_append when the
 * stage fills up, so a response of a few hundred small values costs a handful of appends instead of
 * one per value. A write longer than the stage goes to the strbuf directly after a flush.
 *
 * Structure: w->kind holds '{' or '[' for every open level; need_comma says whether the current
 * level already has an element; after_key says a key is waiting for its value. Closing a level
 * makes the container an element of its parent, so need_comma is simply true afterwards. At depth 0
 * exactly one value may be written.
 *
 * Strings: a string that fits in the stage and needs nothing escaped is checked and copied in one
 * pass (write_plain); otherwise bytes that need no escaping (printable ASCII other than '"' and '\\', and complete,
 * valid UTF-8 sequences) are copied in runs; control characters are escaped as jansson's
 * json_dumps does (short forms where JSON has them, \u00XX with upper-case hex otherwise); a byte
 * that does not start a valid UTF-8 sequence (stray continuation byte, overlong form, surrogate,
 * code point above U+10FFFF, truncated sequence) becomes U+FFFD and the scan goes on with the
 * next byte. */
#include "base/jsonw.h"

#include "base/err.h"

#include <string.h>

/* Per byte: 0 copy as is; 1 escape; 2 start of a multi-byte sequence (or an invalid byte). */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char byte_class[256] = {
    R16(1), R16(1),                                                 /* 0x00-0x1F: control */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                 /* 0x20-0x2F: '"' */
    R16(0), R16(0),                                                 /* 0x30-0x4F */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,                 /* 0x50-0x5F: '\\' */
    R16(0), R16(0),                                                 /* 0x60-0x7F */
    R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), /* 0x80-0xFF */
};
#undef R16

static void fail(jsonw *w, int code)
{
    if (w->err == 0)
        w->err = code;
}

int jsonw_flush(jsonw *w)
{
    if (w->n) {
        if (w->err == 0) {
            int rc = strbuf_append(w->out, w->stage, w->n);
            if (rc)
                fail(w, rc);
        }
        w->n = 0;
    }
    return w->err;
}

static void put(jsonw *w, const char *p, size_t n)
{
    if (n > sizeof w->stage - w->n) {
        jsonw_flush(w);
        if (n > sizeof w->stage) {
            if (w->err == 0) {
                int rc = strbuf_append(w->out, p, n);
                if (rc)
                    fail(w, rc);
            }
            return;
        }
    }
    memcpy(w->stage + w->n, p, n);
    w->n += n;
}

static void putc1(jsonw *w, char c)
{
    if (w->n == sizeof w->stage)
        jsonw_flush(w);
    w->stage[w->n++] = c;
}

void jsonw_init(jsonw *w, strbuf *out)
{
    w->out = out;
    w->err = 0;
    w->depth = 0;
    w->need_comma = false;
    w->after_key = false;
    w->n = 0;
}

/* Before any value: the comma or the check that a key came first. False when nothing may be
 * written (an earlier error, or this is a misuse). */
static bool begin_value(jsonw *w)
{
    if (w->err)
        return false;
    if (w->depth == 0) {
        if (w->need_comma) {
            fail(w, NX_EINTERNAL); /* a second top-level value */
            return false;
        }
    } else if (w->kind[w->depth - 1] == '{') {
        if (!w->after_key) {
            fail(w, NX_EINTERNAL); /* a member without a key */
            return false;
        }
        w->after_key = false;
    } else if (w->need_comma) {
        putc1(w, ',');
    }
    return true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* The common case in one pass: the quoted string fits in the stage and needs no escape or
 * replacement. False (nothing committed) when it does not apply. */
static bool write_plain(jsonw *w, const unsigned char *s, size_t n)
{
    if (n + 2 > sizeof w->stage - w->n)
        return false;
    char *d = w->stage + w->n + 1;
    size_t i = 0;
    while (i < n) {
        unsigned char cls = byte_class[s[i]];
        if (cls == 0) {
            d[i] = (char)s[i];
            i++;
        } else if (cls == 2) {
            size_t len = utf8_seq(s + i, n - i);
            if (len == 0)
                return false;
            memcpy(d + i, s + i, len);
            i += len;
        } else {
            return false;
        }
    }
    d[-1] = '"';
    d[n] = '"';
    w->n += n + 2;
    return true;
}

static void write_string(jsonw *w, const char *str, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    if (write_plain(w, s, n))
        return;
    size_t i = 0, run = 0;
    putc1(w, '"');
    while (i < n) {
        unsigned char cls = byte_class[s[i]];
        if (cls == 0) {
            i++;
            continue;
        }
        if (cls == 2) {
            size_t len = utf8_seq(s + i, n - i);
            if (len) {
                i += len;
                continue;
            }
        }
        put(w, str + run, i - run);
        if (cls == 2) {
            put(w, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
        } else {
            char esc[6] = {'\\', 0, 0, 0, 0, 0};
            size_t elen = 2;
            switch (s[i]) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[s[i] >> 4];
                esc[5] = hex[s[i] & 15];
                elen = 6;
                break;
            }
            put(w, esc, elen);
        }
        i++;
        run = i;
    }
    put(w, str + run, n - run);
    putc1(w, '"');
}

void jsonw_key(jsonw *w, const char *key)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->kind[w->depth - 1] != '{' || w->after_key || key == NULL) {
        fail(w, NX_EINTERNAL);
        return;
    }
    if (w->need_comma)
        putc1(w, ',');
    write_string(w, key, strlen(key));
    putc1(w, ':');
    w->after_key = true;
    w->need_comma = true; /* the value that follows completes the member */
}

static void open_level(jsonw *w, char c)
{
    if (!begin_value(w))
        return;
    if (w->depth >= JSONW_MAX_DEPTH) {
        fail(w, NX_EINTERNAL);
        return;
    }
    w->kind[w->depth++] = c;
    putc1(w, c);
    w->need_comma = false;
}

static void close_level(jsonw *w, char open, char close)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->kind[w->depth - 1] != open || w->after_key) {
        fail(w, NX_EINTERNAL);
        return;
    }
    w->depth--;
    putc1(w, close);
    w->need_comma = true;
}

void jsonw_obj_begin(jsonw *w)
{
    open_level(w, '{');
}

void jsonw_obj_end(jsonw *w)
{
    close_level(w, '{', '}');
}

void jsonw_arr_begin(jsonw *w)
{
    open_level(w, '[');
}

void jsonw_arr_end(jsonw *w)
{
    close_level(w, '[', ']');
}

void jsonw_strn(jsonw *w, const char *s, size_t n)
{
    if (s == NULL) {
        jsonw_null(w);
        return;
    }
    if (!begin_value(w))
        return;
    write_string(w, s, n);
    w->need_comma = true;
}

void jsonw_str(jsonw *w, const char *s)
{
    jsonw_strn(w, s, s ? strlen(s) : 0);
}

void jsonw_int(jsonw *w, int64_t v)
{
    if (!begin_value(w))
        return;
    char buf[24];
    size_t k = sizeof buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        buf[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--k] = '-';
    put(w, buf + k, sizeof buf - k);
    w->need_comma = true;
}

void jsonw_bool(jsonw *w, bool v)
{
    if (!begin_value(w))
        return;
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
    w->need_comma = true;
}

void jsonw_null(jsonw *w)
{
    if (!begin_value(w))
        return;
    put(w, "null", 4);
    w->need_comma = true;
}

void jsonw_raw(jsonw *w, const char *json, size_t n)
{
    if (!begin_value(w))
        return;
    put(w, json, n);
    w->need_comma = true;
}

void jsonw_kstr(jsonw *w, const char *key, const char *s)
{
    jsonw_key(w, key);
    jsonw_str(w, s);
}

void jsonw_kint(jsonw *w, const char *key, int64_t v)
{
    jsonw_key(w, key);
    jsonw_int(w, v);
}

void jsonw_kbool(jsonw *w, const char *key, bool v)
{
    jsonw_key(w, key);
    jsonw_bool(w, v);
}

void jsonw_knull(jsonw *w, const char *key)
{
    jsonw_key(w, key);
    jsonw_null(w);
}

int jsonw_finish(jsonw *w)
{
    jsonw_flush(w);
    if (w->err == 0 && (w->depth != 0 || w->after_key || !w->need_comma))
        fail(w, NX_EINTERNAL); /* unclosed, a dangling key, or nothing written */
    return w->err;
}
