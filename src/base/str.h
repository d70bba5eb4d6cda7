/* str.h — small string helpers: a growable buffer with a cap, safe number parsing (the project
 * bans atoi), UTF-8 checks. */
#ifndef NX_BASE_STR_H
#define NX_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of one hexadecimal digit (either case), or -1. Inline, so that src/wire, which links
 * nothing of base/ but err.c, can use it too. */
static inline int str_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A growable byte buffer that refuses to grow past cap (0 = no cap beyond SIZE_MAX/2). */
typedef struct strbuf {
    char *data;
    size_t len, alloc, cap;
    bool overflow; /* set once an append was refused */
} strbuf;

void strbuf_init(strbuf *b, size_t cap);
void strbuf_cleanup(strbuf *b);
int strbuf_append(strbuf *b, const void *p, size_t n);   /* 0 or NX_ETOOBIG / NX_ENOMEM */
int strbuf_puts(strbuf *b, const char *s);
int strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s (NULL: nothing) as HTML text: & < > " and ' escaped, so that it is safe inside an element
 * and inside a quoted attribute. 0 or the append's error. */
int strbuf_put_html(strbuf *b, const char *s);
/* Take ownership of the NUL-terminated data; the buffer is left empty. */
char *strbuf_steal(strbuf *b);

/* Parse a whole decimal integer in [min,max]. Returns 0 or NX_EINVAL. */
int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parse "yes/no/true/false/1/0/on/off". */
int str_to_bool(const char *s, bool *out);
/* Parse a size with an optional unit: 512, 64K, 10M, 1G (powers of 1024). */
int str_to_size(const char *s, uint64_t max, uint64_t *out);

bool str_utf8_valid(const char *s, size_t n);
/* Number of Unicode code points of valid UTF-8. */
size_t str_utf8_len(const char *s);
bool str_starts_with(const char *s, const char *prefix);
/* A LIKE pattern for q with %, _ and ! escaped (use with ESCAPE '!'): "q%" (prefix) or "%q%"
 * (infix, when infix is true). Truncated to fit cap. */
void str_like_pattern(const char *q, bool infix, char *out, size_t cap);
bool str_ends_with(const char *s, const char *suffix);
/* Copy at most dstsize-1 bytes and terminate; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t dstsize);
/* The directory part of path into out (cap bytes): "." when path has no '/', "/" when its only '/'
 * is its first byte, else path up to (not including) its last '/'. false, with out "", when that
 * does not fit. For the directory to fsync, check or resolve beside a file. */
bool str_dirname(const char *path, char *out, size_t cap);
/* Trim ASCII whitespace in place (returns s moved forward). */
char *str_trim(char *s);
/* Hex-encode n bytes into out (2n+1 bytes). */
void str_hex(char *out, const unsigned char *p, size_t n);
/* The label of code in a table of n {code, label} pairs (a vocabulary's Chinese words): the first
 * pair whose code equals it, or NULL when code is NULL or not there. The scan stops early at a pair
 * whose code is NULL, so a table may end with {NULL, NULL}. STR_LABEL(table, code) passes the size of
 * a static table. */
const char *str_label(const char *const pairs[][2], size_t n, const char *code);
#define STR_LABEL(table, code) str_label((table), sizeof(table) / sizeof((table)[0]), (code))

#endif
