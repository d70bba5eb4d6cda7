/* stmt_cache.h — the prepared-statement cache each backend connection keeps (internal to src/store/).
 *
 * Both backends prepare a statement once per connection and find it again by its SQL text: a chained
 * hash table keyed by the text (FNV-1a, then strcmp), at most as many entries as the backend allows,
 * the least recently used one evicted first. This is that table, written once. The backend embeds
 * stmt_key as the FIRST member of its own entry (SQLite's statement and parameter map, PostgreSQL's
 * statement name) and owns the memory: the cache links, finds, ranks and unlinks entries and never
 * allocates. Not thread-safe: a connection, and so its cache, is used by one thread at a time. */
#ifndef NX_STORE_STMT_CACHE_H
#define NX_STORE_STMT_CACHE_H

#include <stdint.h>

#define STMT_CACHE_BUCKETS 512

typedef struct stmt_key {
    struct stmt_key *next;
    char *sql;     /* the key; owned by the entry (the backend frees it) */
    uint32_t hash; /* stmt_hash(sql) */
    uint64_t used; /* the cache's tick at the last use, for LRU */
} stmt_key;

typedef struct stmt_cache {
    stmt_key *bucket[STMT_CACHE_BUCKETS];
    int n; /* entries linked */
    uint64_t tick;
} stmt_cache;

/* FNV-1a of sql, the hash stmt_cache_find and stmt_cache_add expect. */
uint32_t stmt_hash(const char *sql);
/* The entry whose text is sql (hash = stmt_hash(sql)), marked as just used; NULL when absent. */
stmt_key *stmt_cache_find(stmt_cache *c, const char *sql, uint32_t hash);
/* Mark x (linked in c) as just used. */
void stmt_cache_touch(stmt_cache *c, stmt_key *x);
/* Link x (x->sql set) under hash as the most recently used entry. */
void stmt_cache_add(stmt_cache *c, stmt_key *x, uint32_t hash);
/* The least recently used entry, still linked; NULL when c is empty. */
stmt_key *stmt_cache_lru(stmt_cache *c);
/* Unlink x (linked in c); the caller frees it. */
void stmt_cache_remove(stmt_cache *c, stmt_key *x);
/* Unlink every entry and pass each to free_fn (may be NULL). c is empty afterwards. */
void stmt_cache_clear(stmt_cache *c, void (*free_fn)(stmt_key *x));

#endif
