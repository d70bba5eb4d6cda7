/* masked.h — the masked form of a sealed field, decrypted once per process.
 *
 * A plain read of a resident shows its ID number, phone and address masked (text/mask.h); the
 * ciphertext in the row (field_encrypt_ad) had to be decrypted on every read only to be masked
 * again. field_masked keeps what it computed in a small per-process memo keyed by the whole
 * ciphertext (and the column's context, the mask function and the key set), so the next read of the
 * same stored value costs a hash look-up and a compare instead of a decryption. The memo holds only
 * masked forms, never plaintext, and lives only in memory: the database keeps nothing but the
 * ciphertext (docs/security.md §5: a dump holds no digit of the numbers). A write that changes a
 * value writes a new ciphertext (a fresh random nonce), which is simply a different key: the memo
 * cannot go stale. */
#ifndef NX_SECURE_MASKED_H
#define NX_SECURE_MASKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secure/crypto.h"

/* A mask (mask_id, mask_phone, mask_address … of text/mask.h): writes the masked form of plain into
 * out (at most cap bytes, NUL included). */
typedef void (*field_mask_fn)(const char *plain, char *out, size_t cap);

/* The masked form of the field ct (n bytes, from field_encrypt_ad under context with a key of k),
 * as mask writes it, into out (cap bytes). True when ct is a value that opens (out holds its mask,
 * possibly ""); false when ct is NULL or empty or does not open (out ""). Answers from the memo when
 * the same ciphertext was masked the same way before in this process; otherwise decrypts (the
 * plaintext is wiped at once), masks and remembers. The answer is always what decrypting and masking
 * would give. Thread-safe; never blocks beyond a short lock of one memo stripe. */
bool field_masked(const nx_keys *k, const char *context, const void *ct, size_t n, field_mask_fn mask, char *out,
                  size_t cap);

/* How often field_masked answered from the memo (hits) and decrypted (misses), since start-up;
 * for tests and benchmarks. */
void field_masked_stats(uint64_t *hits, uint64_t *misses);

#endif
