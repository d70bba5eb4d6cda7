/* str.c — see str.h. The buffer doubles up to its cap; every parse checks the whole string. */
#include "base/str.h"

#include "base/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void strbuf_init(strbuf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap ? cap : SIZE_MAX / 2;
}

void strbuf_cleanup(strbuf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

static int reserve(strbuf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap + 1 || b->len + extra < b->len) {
        b->overflow = true;
        return NX_ETOOBIG;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n *= 2;
    char *p = realloc(b->data, n);
    if (p == NULL)
        return NX_ENOMEM;
    b->data = p;
    b->alloc = n;
    return 0;
}

int strbuf_append(strbuf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int strbuf_puts(strbuf *b, const char *s)
{
    return strbuf_append(b, s, strlen(s));
}

int strbuf_put_html(strbuf *b, const char *s)
{
    int rc = 0;
    for (; rc == 0 && s && *s; s++) {
        switch (*s) {
        case '<': rc = strbuf_puts(b, "&lt;"); break;
        case '>': rc = strbuf_puts(b, "&gt;"); break;
        case '&': rc = strbuf_puts(b, "&amp;"); break;
        case '"': rc = strbuf_puts(b, "&quot;"); break;
        case '\'': rc = strbuf_puts(b, "&#39;"); break;
        default: rc = strbuf_append(b, s, 1); break;
        }
    }
    return rc;
}

int strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NX_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *strbuf_steal(strbuf *b)
{
    char *p = b->data;
    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return NX_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return NX_EINVAL;
    *out = (int64_t)v;
    return 0;
}

int str_to_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return NX_EINVAL;
}

int str_to_size(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return NX_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return NX_EINVAL;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    default: return NX_EINVAL;
    }
    if (*end == 'B' || *end == 'b' || (*end == 'i' && (end[1] == 'B' || end[1] == 'b')))
        end += (*end == 'i') ? 2 : 1;
    if (*end != '\0')
        return NX_EINVAL;
    if (shift && v > (max >> shift))
        return NX_EINVAL;
    v <<= shift;
    if (v > max)
        return NX_EINVAL;
    *out = v;
    return 0;
}

bool str_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + n;
    while (s < e) {
        unsigned c = *s;
        size_t k;
        unsigned cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(e - s) <= k)
            return false;
        for (size_t i = 1; i <= k; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += k + 1;
    }
    return true;
}

size_t str_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

void str_like_pattern(const char *q, bool infix, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return;
    if (infix && n + 1 < cap)
        out[n++] = '%';
    for (; *q && n + 3 < cap; q++) {
        if (*q == '%' || *q == '_' || *q == '!')
            out[n++] = '!';
        out[n++] = *q;
    }
    if (n + 1 < cap)
        out[n++] = '%';
    out[n] = '\0';
}

bool str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t str_copy(char *dst, const char *src, size_t dstsize)
{
    size_t n = strlen(src);
    if (dstsize) {
        size_t k = n < dstsize - 1 ? n : dstsize - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

bool str_dirname(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *dir = slash == NULL ? "." : slash == path ? "/" : path;
    size_t len = slash == NULL || slash == path ? strlen(dir) : (size_t)(slash - path);
    if (cap == 0)
        return false;
    if (len >= cap) {
        out[0] = '\0';
        return false;
    }
    memcpy(out, dir, len);
    out[len] = '\0';
    return true;
}

char *str_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

void str_hex(char *out, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

const char *str_label(const char *const pairs[][2], size_t n, const char *code)
{
    for (size_t i = 0; code && i < n && pairs[i][0]; i++)
        if (strcmp(pairs[i][0], code) == 0)
            return pairs[i][1];
    return NULL;
}
