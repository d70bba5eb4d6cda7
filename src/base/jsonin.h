/* jsonin.h — strict readers for JSON input: validated fields out of a jansson object.
 *
 * Rules files take a parsed JSON body and check it field by field with these calls; the HTTP layer
 * only parses the request. Nothing here knows HTTP. Each call takes the object and the key and, on
 * failure, fills e with the key as the field and a Chinese message naming it.
 * Unknown keys: json_only(obj, allowed, e) answers NX_EINVAL naming the first unknown key.
 * Getters return 0 when present and valid, 1 when absent and optional (out untouched), or
 * NX_EINVAL (wrong type, too long, out of range, required and absent, invalid UTF-8).
 * JSON null counts as absent. Strings: no control characters (tab, CR and LF are allowed when
 * max_chars >= JSON_TEXT_MULTILINE), a required string may not be blank, lengths are counted in
 * Unicode characters, max_chars 0 = no limit. Array items follow the string rules and may not be
 * blank; a required array may not be empty. Returned strings and arrays are borrowed from obj.
 * Thread-safe: no state. See jsonin.c. */
#ifndef NX_BASE_JSONIN_H
#define NX_BASE_JSONIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define JSON_TEXT_MULTILINE 256

/* 0 when obj is an object whose keys are all in the NULL-terminated list allowed; NX_EINVAL when
 * obj is not an object or has another key (e->field names it). */
int json_only(json_t *obj, const char *const *allowed, nx_err *e);
int json_get_str(json_t *obj, const char *key, bool required, size_t max_chars, const char **out, nx_err *e);
int json_get_int(json_t *obj, const char *key, bool required, int64_t min, int64_t max, int64_t *out, nx_err *e);
int json_get_bool(json_t *obj, const char *key, bool required, bool *out, nx_err *e);
/* "YYYY-MM-DD" */
int json_get_date(json_t *obj, const char *key, bool required, const char **out, nx_err *e);
/* An array of strings, each at most max_chars; *out is the borrowed array. */
int json_get_str_array(json_t *obj, const char *key, bool required, size_t max_items, size_t max_chars,
                       json_t **out, nx_err *e);
/* As json_get_str and json_get_date, but an absent optional field answers 0 as well (out untouched),
 * so that a rules function can read the fields of a body in one chain of ||. 0 or NX_EINVAL. */
int json_read_str(json_t *obj, const char *key, bool required, size_t max_chars, const char **out, nx_err *e);
int json_read_date(json_t *obj, const char *key, bool required, const char **out, nx_err *e);
/* The optional "version" of a PATCH body (optimistic concurrency): absent → 1 (out untouched, no
 * check); an integer ≥ 1 → 0; JSON null → NX_EINVAL, unlike other optional fields: a client that
 * sends a version it has lost would otherwise overwrite another's change without noticing. */
int json_get_version(json_t *obj, int64_t *out, nx_err *e);
/* True when the key is present with JSON null (to clear an optional field in PATCH). */
bool json_is_null_field(json_t *obj, const char *key);

#endif
