/* jsonw.h — an append-only JSON writer: values go straight into a strbuf as text, with no tree.
 *
 * For responses built on a hot path (GET /api/v1/residents/{id}) where building a jansson tree
 * and serialising it costs more than the rest of the request. The writer keeps the commas and
 * the nesting itself; strings are escaped as jansson does it (\" \\ \b \f \n \r \t, other control
 * characters \u00XX, everything else as is), and any byte that is not part of valid UTF-8 is
 * replaced by U+FFFD, so the output is always valid JSON in valid UTF-8 whatever the input.
 *
 * Errors are sticky: the first failure (the strbuf's cap, out of memory, a misuse such as a value
 * in an object without a key, nesting deeper than JSONW_MAX_DEPTH) is remembered, later calls do
 * nothing, and jsonw_finish returns it. So a caller writes everything and checks once.
 *
 * A jsonw stages small writes in its own buffer: the strbuf holds the whole text only after
 * jsonw_flush or jsonw_finish. Not thread-safe: one owner. Nothing to free (the strbuf is the
 * caller's). */
#ifndef NX_BASE_JSONW_H
#define NX_BASE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

#define JSONW_MAX_DEPTH 32

typedef struct jsonw {
    strbuf *out;       /* borrowed */
    int err;           /* first error, 0 while all is well */
    int depth;
    bool need_comma;   /* an element was written at the current level */
    bool after_key;    /* a key was written: a value must follow */
    char kind[JSONW_MAX_DEPTH]; /* '{' or '[' per open level */
    size_t n;          /* bytes staged */
    char stage[512];
} jsonw;

/* Start writing at the end of out (which may already hold text). */
void jsonw_init(jsonw *w, strbuf *out);
void jsonw_obj_begin(jsonw *w);
void jsonw_obj_end(jsonw *w);
void jsonw_arr_begin(jsonw *w);
void jsonw_arr_end(jsonw *w);
/* The key of the next member (inside an object only). key is escaped like a string. */
void jsonw_key(jsonw *w, const char *key);
/* A string value; NULL writes null. */
void jsonw_str(jsonw *w, const char *s);
/* A string of n bytes, which may contain NUL (written \u0000). */
void jsonw_strn(jsonw *w, const char *s, size_t n);
void jsonw_int(jsonw *w, int64_t v);
void jsonw_bool(jsonw *w, bool v);
void jsonw_null(jsonw *w);
/* A value that is already JSON text (n bytes), e.g. another writer's output. Not checked: the
 * caller vouches for it. */
void jsonw_raw(jsonw *w, const char *json, size_t n);

/* Key and value in one call. */
void jsonw_kstr(jsonw *w, const char *key, const char *s);
void jsonw_kint(jsonw *w, const char *key, int64_t v);
void jsonw_kbool(jsonw *w, const char *key, bool v);
void jsonw_knull(jsonw *w, const char *key);

/* Move the staged bytes into the strbuf. Returns the sticky error (0 when all is well). */
int jsonw_flush(jsonw *w);
/* Flush and check that the text is complete (every object and array closed, no dangling key).
 * 0; NX_ETOOBIG past the strbuf's cap; NX_ENOMEM; NX_EINTERNAL for a misuse (a bug in the
 * caller: unbalanced nesting, a value without a key, a key outside an object). */
int jsonw_finish(jsonw *w);

#endif
