/* arena.h — a region allocator: many small allocations, one free.
 *
 * Each HTTP request owns an arena; everything a handler allocates from it dies with the request.
 * Blocks grow geometrically up to a cap given at creation: past the cap, allocation returns NULL
 * (the caller answers 413/500) instead of growing without bound. Not thread-safe: one owner. */
#ifndef NX_BASE_ARENA_H
#define NX_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;

/* New arena whose total allocation may not exceed cap bytes (0 = 64 MiB). NULL on OOM. */
arena *arena_new(size_t cap);
void arena_free(arena *a);            /* NULL accepted */
void arena_reset(arena *a);           /* forget all allocations, keep the first block */
void *arena_alloc(arena *a, size_t n); /* 16-byte aligned; NULL past the cap */
void *arena_calloc(arena *a, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
size_t arena_used(const arena *a);

#endif
