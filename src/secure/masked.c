/* masked.c — a per-process memo of masked forms of sealed fields (masked.h).
 *
 * The memo is a direct-mapped table of MEMO_SLOTS slots. A slot holds the whole ciphertext it was
 * computed from (up to MEMO_CT bytes: an ID number, a phone, an address of some 50 characters),
 * the context, the mask function and the key set it was computed with, and the masked text (up to
 * MEMO_TEXT bytes). A look-up compares all of them, so a hit is exactly the input of an earlier
 * call and its answer is what decrypting again would give. The slot is chosen by the first bytes of
 * the ciphertext's nonce (random, so already a good hash) mixed with the context and the mask. A
 * newer value evicts the slot's older one; values too long for a slot are simply not remembered.
 * Failures (a ciphertext that does not open) are never remembered.
 *
 * Threads: any. Slots are guarded by MEMO_STRIPES mutexes (slot modulo stripes), held only to
 * compare or copy a slot; decryption and masking happen outside any lock. The table is static
 * (zero pages until used: about 2.4 MB of address space, resident only as slots fill). */
#include "secure/masked.h"

#include <pthread.h>
#include <string.h>

enum {
    MEMO_SLOTS = 8192, /* a power of two */
    MEMO_STRIPES = 128,
    MEMO_CT = 200,     /* longest ciphertext remembered (a plaintext of 159 bytes) */
    MEMO_TEXT = 64,    /* room for a masked text and its NUL */
};

typedef struct slot {
    const nx_keys *k;
    const char *context;
    field_mask_fn mask;
    size_t n; /* 0: empty */
    unsigned char ct[MEMO_CT];
    char text[MEMO_TEXT];
} slot;

static slot memo[MEMO_SLOTS];
static pthread_mutex_t stripes[MEMO_STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;
static uint64_t hits, misses;

static void stripes_init(void)
{
    for (int i = 0; i < MEMO_STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
}

static size_t slot_of(const char *context, field_mask_fn mask, const unsigned char *ct)
{
    uint64_t h;
    memcpy(&h, ct + 1, sizeof h); /* the nonce follows the key id */
    h ^= (uint64_t)(uintptr_t)context * 0x9E3779B97F4A7C15u;
    h ^= (uint64_t)(uintptr_t)mask >> 4;
    h *= 0xBF58476D1CE4E5B9u;
    return (size_t)(h >> 51) & (MEMO_SLOTS - 1); /* 13 bits */
}

/* Copy the remembered mask of (k, context, mask, ct) into out when there is one that fits cap. */
static bool memo_get(size_t i, const nx_keys *k, const char *context, field_mask_fn mask, const void *ct, size_t n,
                     char *out, size_t cap)
{
    slot *s = &memo[i];
    bool hit = false;
    pthread_mutex_lock(&stripes[i % MEMO_STRIPES]);
    if (s->n == n && s->k == k && s->context == context && s->mask == mask && memcmp(s->ct, ct, n) == 0) {
        size_t len = strlen(s->text);
        if (len < cap) {
            memcpy(out, s->text, len + 1);
            hit = true;
        }
    }
    pthread_mutex_unlock(&stripes[i % MEMO_STRIPES]);
    return hit;
}

static void memo_put(size_t i, const nx_keys *k, const char *context, field_mask_fn mask, const void *ct, size_t n,
                     const char *text)
{
    slot *s = &memo[i];
    pthread_mutex_lock(&stripes[i % MEMO_STRIPES]);
    s->k = k;
    s->context = context;
    s->mask = mask;
    s->n = n;
    memcpy(s->ct, ct, n);
    memcpy(s->text, text, strlen(text) + 1);
    pthread_mutex_unlock(&stripes[i % MEMO_STRIPES]);
}

bool field_masked(const nx_keys *k, const char *context, const void *ct, size_t n, field_mask_fn mask, char *out,
                  size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (ct == NULL || n < NX_FIELD_OVERHEAD || cap == 0)
        return false;
    pthread_once(&stripes_once, stripes_init);
    bool fits = n <= MEMO_CT;
    size_t i = fits ? slot_of(context, mask, ct) : 0;
    if (fits && memo_get(i, k, context, mask, ct, n, out, cap)) {
        __atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
        return true;
    }
    __atomic_fetch_add(&misses, 1, __ATOMIC_RELAXED);
    char *plain = NULL;
    if (field_decrypt_ad(k, context, ct, n, &plain) != 0)
        return false;
    /* A mask that left 4 bytes free in MEMO_TEXT was not cut short (no code point is longer). */
    char text[MEMO_TEXT];
    mask(plain, text, sizeof text);
    size_t len = strlen(text);
    bool whole = len + 4 < sizeof text;
    if (whole && len < cap)
        memcpy(out, text, len + 1);
    else
        mask(plain, out, cap);
    field_plain_free(plain);
    if (fits && whole)
        memo_put(i, k, context, mask, ct, n, text);
    return true;
}

void field_masked_stats(uint64_t *h, uint64_t *m)
{
    *h = __atomic_load_n(&hits, __ATOMIC_RELAXED);
    *m = __atomic_load_n(&misses, __ATOMIC_RELAXED);
}
