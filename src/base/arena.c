/* arena.c — a linked list of blocks; allocation bumps a pointer in the newest block and opens a
 * larger block when it does not fit. Large requests get a block of their own. The total of all
 * blocks is held under the arena's cap. */
#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct arena {
    struct block *head;
    size_t cap, total, used;
};

static struct block *block_new(arena *a, size_t size)
{
    if (a->total + size > a->cap)
        return NULL;
    struct block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    b->used = 0;
    a->total += size;
    return b;
}

arena *arena_new(size_t cap)
{
    arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->cap = cap ? cap : (size_t)64 << 20;
    a->head = block_new(a, 4096 - sizeof(struct block));
    if (a->head == NULL) {
        free(a);
        return NULL;
    }
    a->head->next = NULL;
    return a;
}

void arena_free(arena *a)
{
    if (a == NULL)
        return;
    for (struct block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
}

void arena_reset(arena *a)
{
    struct block *b = a->head;
    while (b->next) {
        struct block *n = b->next;
        a->total -= b->size;
        free(b);
        b = n;
    }
    a->head = b;
    b->used = 0;
    a->used = 0;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    n = (n + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (b->size - b->used < n) {
        size_t want = b->size * 2;
        if (want < n)
            want = n;
        struct block *nb = block_new(a, want);
        if (nb == NULL && want > n)
            nb = block_new(a, n);
        if (nb == NULL)
            return NULL;
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used += n;
    return p;
}

void *arena_calloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_used(const arena *a)
{
    return a->used;
}
