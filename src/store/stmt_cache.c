/* stmt_cache.c — see stmt_cache.h. Eviction scans every bucket for the smallest tick: a few hundred
 * entries, and only when a connection's cache is full, so no LRU list has to be kept in step. */
#include "store/stmt_cache.h"

#include <stddef.h>
#include <string.h>

uint32_t stmt_hash(const char *sql)
{
    uint32_t h = 2166136261u;
    for (const char *s = sql; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

stmt_key *stmt_cache_find(stmt_cache *c, const char *sql, uint32_t hash)
{
    for (stmt_key *x = c->bucket[hash % STMT_CACHE_BUCKETS]; x; x = x->next) {
        if (x->hash == hash && strcmp(x->sql, sql) == 0) {
            stmt_cache_touch(c, x);
            return x;
        }
    }
    return NULL;
}

void stmt_cache_touch(stmt_cache *c, stmt_key *x)
{
    x->used = ++c->tick;
}

void stmt_cache_add(stmt_cache *c, stmt_key *x, uint32_t hash)
{
    stmt_key **head = &c->bucket[hash % STMT_CACHE_BUCKETS];
    x->hash = hash;
    x->used = ++c->tick;
    x->next = *head;
    *head = x;
    c->n++;
}

stmt_key *stmt_cache_lru(stmt_cache *c)
{
    stmt_key *victim = NULL;
    for (int b = 0; b < STMT_CACHE_BUCKETS; b++)
        for (stmt_key *x = c->bucket[b]; x; x = x->next)
            if (victim == NULL || x->used < victim->used)
                victim = x;
    return victim;
}

void stmt_cache_remove(stmt_cache *c, stmt_key *x)
{
    for (stmt_key **pp = &c->bucket[x->hash % STMT_CACHE_BUCKETS]; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            x->next = NULL;
            c->n--;
            return;
        }
    }
}

void stmt_cache_clear(stmt_cache *c, void (*free_fn)(stmt_key *x))
{
    for (int b = 0; b < STMT_CACHE_BUCKETS; b++) {
        stmt_key *x = c->bucket[b];
        while (x) {
            stmt_key *next = x->next;
            if (free_fn)
                free_fn(x);
            x = next;
        }
        c->bucket[b] = NULL;
    }
    c->n = 0;
}
