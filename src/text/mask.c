/* mask.c — display masks for ID numbers, phones, addresses and names.
 *
 * Every mask is "keep the first `head` code points, write stars (one per hidden code point or a
 * fixed \"****\"), keep the last `tail` code points", so one routine, keep_ends(), does the work on
 * code points; the public functions only choose head, tail and the star style. Output goes through
 * a small writer that appends whole code points only and stops when the next one would not fit, so
 * a short buffer yields a shorter, still valid UTF-8 string. Input that is not valid UTF-8 is not
 * interpreted at all: it becomes "****". Pure and thread-safe. */
#include "text/mask.h"

#include <stdbool.h>
#include <string.h>

#include "base/str.h"

typedef struct writer {
    char *out;
    size_t n, len;
    bool full; /* something did not fit: write nothing more */
} writer;

/* Byte length of the UTF-8 sequence starting with lead byte c (input already validated). */
static size_t cp_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    return 4;
}

/* Append k bytes of valid UTF-8; when they do not all fit, append the whole code points that do
 * and refuse everything after. */
static void w_put(writer *w, const char *p, size_t k)
{
    if (w->full)
        return;
    if (w->len + k + 1 > w->n) {
        w->full = true;
        size_t room = w->n - w->len - 1, fit = 0;
        while (fit < k && fit + cp_len((unsigned char)p[fit]) <= room)
            fit += cp_len((unsigned char)p[fit]);
        k = fit;
    }
    memcpy(w->out + w->len, p, k);
    w->len += k;
    w->out[w->len] = '\0';
}

/* Byte offset of code point number idx (0-based) in s, or strlen(s) past the end. */
static size_t cp_offset(const char *s, size_t idx)
{
    size_t off = 0;
    while (idx-- && s[off])
        off += cp_len((unsigned char)s[off]);
    return off;
}

/* Start a mask: returns how many code points s has to interpret, or 0 (having written "" or "****")
 * when there is nothing to interpret. */
static size_t begin(const char *s, char *out, size_t n, writer *w)
{
    *w = (writer){out, n, 0, n == 0};
    if (n)
        out[0] = '\0';
    if (s == NULL || n == 0)
        return 0;
    if (!str_utf8_valid(s, strlen(s))) {
        w_put(w, "****", 4);
        return 0;
    }
    return str_utf8_len(s);
}

/* Keep head and tail code points of s; between them write one '*' per hidden code point, or the
 * fixed "****" when fixed is set. Requires head + tail <= the number of code points. */
static void keep_ends(writer *w, const char *s, size_t head, size_t tail, bool fixed)
{
    size_t cps = str_utf8_len(s);
    size_t hb = cp_offset(s, head), tb = cp_offset(s, cps - tail);
    w_put(w, s, hb);
    if (fixed) {
        w_put(w, "****", 4);
    } else {
        for (size_t i = head; i < cps - tail; i++)
            w_put(w, "*", 1);
    }
    w_put(w, s + tb, strlen(s + tb));
}

/* Whether id has the shape of a resident ID card number: 18 characters (17 digits and a digit or
 * X) or the first generation's 15 digits. */
static bool idcard_shaped(const char *id, size_t cps)
{
    size_t len = strlen(id);
    if (cps != len || (len != 18 && len != 15))
        return false;
    for (size_t i = 0; i < len; i++) {
        bool digit = id[i] >= '0' && id[i] <= '9';
        if (!digit && !(i == 17 && (id[i] == 'X' || id[i] == 'x')))
            return false;
    }
    return true;
}

void mask_id(const char *id, char *out, size_t n)
{
    writer w;
    size_t cps = begin(id, out, n, &w);
    if (cps > 0 && idcard_shaped(id, cps))
        keep_ends(&w, id, 4, 0, false);
    else if (cps > 8)
        keep_ends(&w, id, 2, 2, false);
    else if (cps > 2)
        keep_ends(&w, id, 0, 2, false);
    else if (cps > 0)
        keep_ends(&w, id, 0, 0, false);
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

void mask_phone(const char *p, char *out, size_t n)
{
    writer w;
    if (begin(p, out, n, &w) == 0)
        return;
    size_t len = strlen(p);
    if (len == 11 && p[0] == '1' && all_digits(p)) {
        keep_ends(&w, p, 3, 4, false);
        return;
    }
    const char *dash = strchr(p, '-');
    if (p[0] == '0' && dash != NULL && len - (size_t)(dash - p) > 3) {
        /* Area code and dash kept; every other digit but the last two becomes '*'. */
        size_t keep = (size_t)(dash - p) + 1;
        w_put(&w, p, keep);
        for (size_t i = keep; i < len; i++)
            w_put(&w, (i >= len - 2 || p[i] == '-') ? p + i : "*", 1);
        return;
    }
    if (p[0] == '0' && all_digits(p) && len >= 9) {
        size_t area = (p[1] == '1' || p[1] == '2') ? 3 : 4;
        keep_ends(&w, p, area, 2, false);
        return;
    }
    mask_id(p, out, n);
}

void mask_address(const char *addr, char *out, size_t n)
{
    writer w;
    size_t cps = begin(addr, out, n, &w);
    if (cps == 0)
        return;
    size_t head = cps > 6 ? 6 : cps / 2;
    keep_ends(&w, addr, head, 0, true);
}

void mask_name(const char *name, char *out, size_t n)
{
    writer w;
    size_t cps = begin(name, out, n, &w);
    if (cps == 1)
        keep_ends(&w, name, 0, 0, false);
    else if (cps == 2)
        keep_ends(&w, name, 1, 0, false);
    else if (cps > 2)
        keep_ends(&w, name, 1, 1, false);
}
