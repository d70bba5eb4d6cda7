/* vec.h — the one growable array: elements of one size, appended by copy, with a cap.
 *
 * For the rows a module reads before it acts on them (escalations, recipients, ids). An element is
 * pushed by copying it in, so a caller fills a local struct and pushes it; after the loop items is a
 * plain array of len elements of the caller's type. The array doubles as it grows (first room: 16)
 * and refuses to grow past max elements, so a list read from the database is bounded like every other
 * buffer. A refused push is remembered (like strbuf's overflow), so a read loop stays short:
 *
 *     while (store_row(r)) { row x = {...}; if (vec_push(&v, &x)) break; }
 *     if ((rc = store_rows_end(r, e)) || (rc = vec_error(&v, e))) { vec_cleanup(&v); return rc; }
 *
 * Not thread-safe: one owner. */
#ifndef NX_BASE_VEC_H
#define NX_BASE_VEC_H

#include <stddef.h>

#include "base/err.h"

typedef struct vec {
    void *items;     /* len elements of size bytes; NULL while empty */
    size_t len;      /* elements in use */
    size_t room;     /* elements allocated */
    size_t size;     /* bytes of one element */
    size_t max;      /* most elements accepted */
    int err;         /* the first refused push's code, 0 while none was refused */
} vec;

/* An empty array of elements of size bytes (> 0) holding at most max of them (0 = as many as memory
 * allows). Allocates nothing. */
void vec_init(vec *v, size_t size, size_t max);

/* Append a copy of the size bytes at elem. 0; NX_ETOOBIG when max elements are already in, NX_ENOMEM
 * when the array cannot grow; the array is unchanged on failure and the first failure is kept for
 * vec_error. Pointers into items are invalid after a push. */
int vec_push(vec *v, const void *elem);

/* 0 when no push was refused; else the first refusal's code, with e (may be NULL) filled with a
 * Chinese message. */
int vec_error(const vec *v, nx_err *e);

/* Free the elements; v is empty again (same size and max, no error). NULL accepted. */
void vec_cleanup(vec *v);

#endif
