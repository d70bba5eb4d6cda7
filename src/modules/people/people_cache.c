/* people_cache.c — the assembled detail of a resident (GET /api/v1/residents/{id}), kept in memory
 * so that a read asks the database nothing (people_internal.h: people_detail_*).
 *
 * What is kept: the JSON text of the detail as people_resident_write wrote it for one kind of
 * viewer, without the viewer's own two flags at its end (can_reveal, can_edit), and beside it what
 * the scope rules need (the resident's and every household member's community, its street and
 * grid). A request applies its viewer's scope to those in memory (perm_scope_match, the same rule
 * as the SQL's perm_scope_q): a resident out of scope is "not found" as before; the household
 * members the viewer may see must be exactly those the text was written with (self view or not,
 * and the same members visible), else the request reads the database and its answer replaces the
 * slot. Personal data is in the text only as the plain read shows it: masked (the masked forms are
 * what secure/masked.c's memo keeps in memory already); a revealed value never passes through here
 * (reveal has its own path, with its audit entry). The date the ages were counted on is part of the
 * key, so a detail does not outlive its day.
 *
 * Freshness: every slot carries the generation it was read under, taken BEFORE the read's snapshot;
 * any change to a table the detail is built from (store_watch: residents, resident_tags,
 * emergency_contacts, tags, grids, estates, rooms, buildings, communities) bumps the generation,
 * in this process before store_commit returns (SQLite: the writer's update hook; PostgreSQL: the
 * triggers of migration 034, read with the COMMIT), in other processes through LISTEN/NOTIFY. A
 * read that raced with a write therefore carries an old generation and is never served. While
 * PostgreSQL's listener is not live (store_listen_live: starting, or its connection down) nothing
 * is served or kept. A slot is also dropped after DETAIL_TTL_MS, a backstop only.
 *
 * Memory: DETAIL_SLOTS slots, direct-mapped by id (a newer detail evicts the slot's older one),
 * each at most DETAIL_MAX_BODY bytes of text and DETAIL_MAX_MEMBERS members: about 7 MiB at most
 * for details of ~1.5 KiB. Threads: any; a slot is guarded by one of DETAIL_STRIPES mutexes, held
 * to compare and copy it (no allocation, no I/O under it). */
#include "modules/people/people_internal.h"

#include "base/clock.h"
#include "base/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    DETAIL_SLOTS = 4096, /* a power of two */
    DETAIL_STRIPES = 64,
    DETAIL_MAX_MEMBERS = 64,
    DETAIL_MAX_BODY = 16384,
    DETAIL_TTL_MS = 60000,
    DETAIL_STORES = 4,
};

#define DETAIL_CHANNEL "people_detail"

typedef struct slot {
    int64_t id; /* 0: empty */
    const store *db;
    const nx_keys *keys;
    uint64_t gen;
    int64_t filled_ms;
    int day; /* y * 10000 + m * 100 + d of the ages */
    bool self_view;
    uint64_t mask; /* bit i: members[i] is in the text */
    people_scope_row self;
    int nmembers;
    people_scope_row *members;
    char *body;
    size_t len;
} slot;

static slot slots[DETAIL_SLOTS];
static pthread_mutex_t stripes[DETAIL_STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;
static uint64_t generation = 1;
static pthread_mutex_t stores_mu = PTHREAD_MUTEX_INITIALIZER;
static store *stores[DETAIL_STORES]; /* the stores whose changes are watched (people_detail_start) */
static uint64_t hits, misses;

static const char *const watched[] = {"residents", "resident_tags", "emergency_contacts", "tags", "grids",
                                      "estates", "rooms", "buildings", "communities", NULL};

static void stripes_init(void)
{
    for (int i = 0; i < DETAIL_STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
}

static size_t slot_of(int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15u) >> 52) & (DETAIL_SLOTS - 1); /* 12 bits */
}

static int day_key(nx_date d)
{
    return d.y * 10000 + d.m * 100 + d.d;
}

static void on_change(void *ctx, const char *channel)
{
    (void)ctx;
    (void)channel;
    __atomic_fetch_add(&generation, 1, __ATOMIC_SEQ_CST);
}

uint64_t people_detail_gen(void)
{
    return __atomic_load_n(&generation, __ATOMIC_SEQ_CST);
}

bool people_detail_enabled(nx_app *app)
{
    bool on = false;
    for (int i = 0; i < DETAIL_STORES && !on; i++)
        on = __atomic_load_n(&stores[i], __ATOMIC_ACQUIRE) == app->db;
    return on && store_listen_live(app->db);
}

int people_detail_start(nx_app *app, nx_err *e)
{
    pthread_once(&stripes_once, stripes_init);
    pthread_mutex_lock(&stores_mu);
    int free_at = -1, rc = 0;
    for (int i = 0; i < DETAIL_STORES; i++) {
        if (stores[i] == app->db)
            free_at = -2;
        else if (stores[i] == NULL && free_at == -1)
            free_at = i;
    }
    if (free_at == -1) {
        rc = nx_fail(e, NX_ETOOBIG, "", "居民详情缓存已满");
    } else if (free_at >= 0) {
        /* A store at the address of one closed before must not find that one's details. */
        on_change(NULL, NULL);
        if ((rc = store_watch(app->db, DETAIL_CHANNEL, watched, e)) == 0 &&
            (rc = store_listen(app->db, DETAIL_CHANNEL, on_change, NULL, e)) == 0)
            __atomic_store_n(&stores[free_at], app->db, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&stores_mu);
    return rc;
}

void people_detail_stop(nx_app *app)
{
    pthread_mutex_lock(&stores_mu);
    for (int i = 0; i < DETAIL_STORES; i++) {
        if (stores[i] == app->db) {
            __atomic_store_n(&stores[i], NULL, __ATOMIC_RELEASE);
            store_unlisten(app->db, DETAIL_CHANNEL, on_change, NULL);
        }
    }
    on_change(NULL, NULL);
    pthread_mutex_unlock(&stores_mu);
}

void people_detail_stats(uint64_t *h, uint64_t *m)
{
    *h = __atomic_load_n(&hits, __ATOMIC_RELAXED);
    *m = __atomic_load_n(&misses, __ATOMIC_RELAXED);
}

static bool visible(const nx_principal *who, bool self_view, const people_scope_row *r)
{
    return self_view || perm_scope_match(who, r->id, r->community, r->street, r->has_grid, r->grid);
}

bool people_detail_lookup(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, int *rc, nx_err *e)
{
    pthread_once(&stripes_once, stripes_init);
    bool self_view = people_self_view(who);
    int day = day_key(date_today());
    uint64_t gen = people_detail_gen();
    int64_t now = clock_mono_ms();
    size_t i = slot_of(id);
    slot *s = &slots[i];
    bool served = false, in = false;
    int r = 0;
    pthread_mutex_lock(&stripes[i % DETAIL_STRIPES]);
    if (s->id == id && s->db == app->db && s->keys == app->keys && s->gen == gen && s->day == day &&
        now - s->filled_ms < DETAIL_TTL_MS) {
        /* The resident's own row: the condition of people_resident_write's query. */
        in = self_view ? (who->resident_id != 0 && id == who->resident_id) : visible(who, false, &s->self);
        if (!in) {
            served = true;
        } else if (s->self_view == self_view) {
            uint64_t mask = 0;
            for (int k = 0; k < s->nmembers; k++)
                if (visible(who, self_view, &s->members[k]))
                    mask |= 1ull << k;
            if (mask == s->mask) {
                served = true;
                r = strbuf_append(out, s->body, s->len);
            }
        }
    }
    pthread_mutex_unlock(&stripes[i % DETAIL_STRIPES]);
    if (!served) {
        __atomic_fetch_add(&misses, 1, __ATOMIC_RELAXED);
        return false;
    }
    __atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
    if (!in) {
        *rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
        return true;
    }
    char tail[64];
    int n = snprintf(tail, sizeof tail, ",\"can_reveal\":%s,\"can_edit\":%s}",
                     perm_has(who, RIGHT_REVEAL) ? "true" : "false", perm_has(who, RIGHT_PEOPLE_WRITE) ? "true" : "false");
    if (r == 0)
        r = strbuf_append(out, tail, (size_t)n);
    *rc = r ? nx_fail(e, r, "", r == NX_ETOOBIG ? "响应过大" : "无法生成居民信息") : 0;
    return true;
}

void people_detail_put(nx_app *app, const nx_principal *who, uint64_t gen, nx_date day, int64_t id,
                       const people_scope_row *self, const people_scope_row *members, int nmembers, uint64_t mask,
                       const char *body, size_t len)
{
    if (nmembers > DETAIL_MAX_MEMBERS || len == 0 || len > DETAIL_MAX_BODY)
        return;
    pthread_once(&stripes_once, stripes_init);
    char *b = malloc(len);
    people_scope_row *m = nmembers ? malloc((size_t)nmembers * sizeof *m) : NULL;
    if (b == NULL || (nmembers && m == NULL)) {
        free(b);
        free(m);
        return;
    }
    memcpy(b, body, len);
    if (nmembers)
        memcpy(m, members, (size_t)nmembers * sizeof *m);
    size_t i = slot_of(id);
    slot *s = &slots[i];
    pthread_mutex_lock(&stripes[i % DETAIL_STRIPES]);
    char *old_b = s->body;
    people_scope_row *old_m = s->members;
    s->id = id;
    s->db = app->db;
    s->keys = app->keys;
    s->gen = gen;
    s->filled_ms = clock_mono_ms();
    s->day = day_key(day);
    s->self_view = people_self_view(who);
    s->mask = mask;
    s->self = *self;
    s->nmembers = nmembers;
    s->members = m;
    s->body = b;
    s->len = len;
    pthread_mutex_unlock(&stripes[i % DETAIL_STRIPES]);
    free(old_b);
    free(old_m);
}
