/* test_stmt_cache.c — store/stmt_cache.h, the statement cache both backends share: an added entry is
 * found by its text (not by a different text, even one with the same bucket), the least recently
 * used entry is the eviction victim and using an entry saves it, remove unlinks exactly one entry,
 * and clear hands every entry to the free function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stmt_cache.h"
#include "test.h"

typedef struct ent {
    stmt_key k;
    int id;
} ent;

static int freed;

static void count_free(stmt_key *k)
{
    freed++;
    free(k->sql);
    free(k);
}

static ent *add(stmt_cache *c, const char *sql, int id)
{
    ent *x = calloc(1, sizeof *x);
    x->k.sql = strdup(sql);
    x->id = id;
    stmt_cache_add(c, &x->k, stmt_hash(sql));
    return x;
}

static void test_find_lru_remove(void)
{
    static stmt_cache c; /* zeroed: an empty cache */
    CHECK(stmt_cache_lru(&c) == NULL);
    CHECK_INT(stmt_hash("a") == stmt_hash("a"), 1);
    CHECK(stmt_hash("SELECT 1") != stmt_hash("SELECT 2"));
    ent *a = add(&c, "SELECT 1", 1);
    ent *b = add(&c, "SELECT 2", 2);
    ent *d = add(&c, "SELECT 3", 3);
    CHECK_INT(c.n, 3);
    CHECK((ent *)stmt_cache_find(&c, "SELECT 2", stmt_hash("SELECT 2")) == b);
    CHECK(stmt_cache_find(&c, "SELECT 4", stmt_hash("SELECT 4")) == NULL);
    /* same hash, other text: not a hit */
    CHECK(stmt_cache_find(&c, "SELECT 4", stmt_hash("SELECT 2")) == NULL);
    /* a was added first and not used since: the victim; using it saves it */
    CHECK((ent *)stmt_cache_lru(&c) == a);
    stmt_cache_touch(&c, &a->k);
    CHECK((ent *)stmt_cache_lru(&c) == d); /* b was found after d was added */
    stmt_cache_remove(&c, &d->k);
    CHECK_INT(c.n, 2);
    CHECK(stmt_cache_find(&c, "SELECT 3", stmt_hash("SELECT 3")) == NULL);
    CHECK((ent *)stmt_cache_lru(&c) == b);
    count_free(&d->k);
    freed = 0;
    stmt_cache_clear(&c, count_free);
    CHECK_INT(freed, 2);
    CHECK_INT(c.n, 0);
    CHECK(stmt_cache_lru(&c) == NULL);
}

static void test_long_chains(void)
{
    static stmt_cache c;
    char sql[64];
    ent *first = NULL;
    /* more entries than buckets: chains form, every entry stays findable */
    for (int i = 0; i < 3 * STMT_CACHE_BUCKETS; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        ent *x = add(&c, sql, i);
        if (i == 0)
            first = x;
    }
    for (int i = 5; i < 3 * STMT_CACHE_BUCKETS; i += 97) { /* not 0 or 1: a find is a use */
        snprintf(sql, sizeof sql, "SELECT %d", i);
        ent *x = (ent *)stmt_cache_find(&c, sql, stmt_hash(sql));
        CHECK(x != NULL && x->id == i);
    }
    CHECK((ent *)stmt_cache_lru(&c) == first);
    stmt_cache_remove(&c, &first->k);
    count_free(&first->k);
    CHECK((ent *)stmt_cache_lru(&c) != NULL && ((ent *)stmt_cache_lru(&c))->id == 1);
    freed = 0;
    stmt_cache_clear(&c, count_free);
    CHECK_INT(freed, 3 * STMT_CACHE_BUCKETS - 1);
}

int main(void)
{
    TEST_RUN(test_find_lru_remove);
    TEST_RUN(test_long_chains);
    return TEST_DONE();
}
