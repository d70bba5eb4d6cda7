/* codec_internal.h — small parsers shared by watch.c and iw.c (not for use outside src/wire).
 * Every parser reads a bounded span (pointer + length, no NUL needed) and validates all of it. */
#ifndef NX_WIRE_CODEC_INTERNAL_H
#define NX_WIRE_CODEC_INTERNAL_H

#include "wire/codec.h"

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wire_span {
    const char *p;
    size_t n;
} wire_span;

/* Split s at the first occurrence of sep: *head gets the part before it, s keeps the rest after it.
 * Returns false (head = all of s, s empty) when sep does not occur. */
bool wire_span_split(wire_span *s, char sep, wire_span *head);
/* Case-insensitive equality of a span and a NUL-terminated ASCII word. */
bool wire_span_eq(wire_span s, const char *word);
/* Strip ASCII spaces at both ends. */
wire_span wire_span_trim(wire_span s);

/* Field i (0-based) of comma-separated data, or an empty span when there are fewer fields. */
wire_span wire_span_field(wire_span data, int i);

/* A decimal number with an optional sign and fraction, scaled by 10^decimals (extra fraction digits
 * are truncated toward zero), within [min, max]. Leading and trailing spaces are allowed. An empty or
 * all-space span gives WIRE_NONE and 0. Returns 0 or NX_EINVAL. */
int wire_parse_fixed(wire_span s, int decimals, int64_t min, int64_t max, int32_t *out);
/* Same with decimals = 0. */
int wire_parse_int(wire_span s, int64_t min, int64_t max, int32_t *out);
/* A device reading (heart rate, blood pressure, temperature …) where 0 or empty means "no value":
 * wire_parse_fixed within [0, max], then 0 becomes WIRE_NONE. Returns 0 or NX_EINVAL. */
int wire_parse_reading(wire_span s, int decimals, int64_t max, int32_t *out);
/* 1-8 hex digits. Returns 0 or NX_EINVAL (empty is invalid). */
int wire_parse_hex(wire_span s, uint32_t *out);
/* A cell's LAC or CID: decimal, or hex when it contains a-f. Empty or invalid: NX_EINVAL. */
int wire_parse_cell_id(wire_span s, uint32_t *out);
/* Exactly n decimal digits at p (n <= 9). Returns -1 when any is not a digit. */
int32_t wire_digits(const char *p, size_t n);

/* Milliseconds since the epoch for a UTC civil time; 0 when the fields are not a real time
 * (month 0, day 31 of a 30-day month, hour 24 …). year is the full year. */
int64_t wire_time_ms(int year, int month, int day, int hour, int min, int sec);
/* The reverse, for replies that carry the server's time. */
void wire_civil(int64_t ms, int *year, int *month, int *day, int *hour, int *min, int *sec);

/* Refuse the frame m was decoded from: m is cleared to protocol proto keeping only its raw bytes, and
 * e says what was wrong ("IW 数据帧格式错误：…" or "手表数据帧格式错误：…"). Returns NX_EINVAL. */
int wire_bad_frame(wire_msg *m, int proto, nx_err *e, const char *field_name, const char *what);

/* Copy a span into a fixed field, truncating, always NUL-terminating; NUL bytes end the copy. */
void wire_copy(char *dst, size_t cap, wire_span s);
/* Normalise a MAC ("74-DE-2B-44-88-8C", "74:de:2b:44:88:8c") into out[18]; "" when it does not parse. */
void wire_mac(wire_span s, char out[18]);
/* The watch status word's alarm bits as WIRE_AL_* flags. */
uint32_t wire_status_alarms(uint32_t status);

/* A phone number for a command: NULL/"" or '+'? digit{1,20}. */
bool wire_phone_ok(const char *s);
/* UTF-8 text → UTF-16BE as upper-case hex ("text" → "0074006500780074") appended at out[*len].
 * Returns 0, NX_EINVAL (not UTF-8, empty, over WIRE_TEXT_MAX code points) or NX_ETOOBIG. */
int wire_utf16_hex(const char *text, char *out, size_t cap, size_t *len);

#endif
