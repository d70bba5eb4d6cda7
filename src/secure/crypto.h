/* crypto.h — field encryption for personal data at rest, blind indexes, tokens.
 *
 * Personal data (ID numbers, phones, detailed addresses) is stored encrypted with
 * XChaCha20-Poly1305-IETF under a key that lives in a file outside the database. Exact look-ups use
 * a blind index: a keyed BLAKE2b hash of the normalized value, stored next to the ciphertext.
 * Session and bearer tokens are random; the database keeps only their hash.
 *
 * Key file (text, mode 0600, owner only):
 *
 *     nuanxin-key v1
 *     key 1 <base64 of 32 random bytes>
 *     key 2 <base64 of 32 random bytes>      (added by a later rotation)
 *
 * Blank lines and lines starting with '#' are ignored. Key ids are 1..255 and unique. New fields
 * are encrypted with the highest id; every listed key can decrypt. The blind-index key is derived
 * from the LOWEST id so that rotating the encryption key does not change any index (rotating the
 * index key would need a re-index of every table and is not supported yet).
 *
 * Uploaded files are sealed whole with the same keys (blob_encrypt, below).
 *
 * All functions are thread-safe. An nx_keys is immutable after keys_load and may be shared by all
 * threads. */
#ifndef NX_SECURE_CRYPTO_H
#define NX_SECURE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Bytes added by field_encrypt: 1 key-id byte + 24-byte nonce + 16-byte tag. */
#define NX_FIELD_OVERHEAD 41
/* Largest plaintext field_encrypt accepts (NX_ETOOBIG beyond). */
#define NX_FIELD_MAX (1024 * 1024)
/* Size of a blind index and of a token hash. */
#define NX_BIDX_BYTES       16
#define NX_TOKEN_HASH_BYTES 32
/* Buffer size for token_random: 43 characters and the NUL. */
#define NX_TOKEN_CHARS 44

typedef struct nx_keys nx_keys;

/* Initialize libsodium. Idempotent and thread-safe; every function below calls it as needed, so
 * calling it at start-up only moves the (tiny) cost and surfaces a failure early.
 * Returns 0, or NX_EINTERNAL if libsodium cannot initialize. */
int crypto_init(nx_err *e);

/* Create a new key file at path holding one fresh random master key with id 1. The file is
 * created with O_CREAT|O_EXCL and mode 0600, written, fsync'ed (and its directory fsync'ed).
 * Returns 0; NX_ECONFLICT if path already exists (never overwritten); NX_EIO on any other file
 * error (a partly written file is removed). */
int keyfile_create(const char *path, nx_err *e);

/* Read the key file at path and derive the sub-keys (crypto_kdf contexts "nx-field" for
 * encryption, "nx-index" for blind indexes, so the two keys always differ). The master keys are
 * wiped after derivation; the sub-keys live in sodium_malloc'd (guarded, mlock'ed when the system
 * allows, read-only) memory. On success *out is owned by the caller: release it with keys_free.
 * Returns 0; NX_EPERM if the file is accessible by group or others (the message says to chmod
 * 600) or is not a regular file; NX_EINVAL if the file is malformed (more than 4 KiB, more than 16
 * keys, a bad line); NX_ENOTFOUND if it does not exist; NX_EIO if it cannot be read; NX_ENOMEM.
 * The message never contains key material. */
int keys_load(const char *path, nx_keys **out, nx_err *e);

/* Wipe and free keys. NULL is accepted. */
void keys_free(nx_keys *k);

/* Encrypt n bytes of text (no NUL bytes inside) for storage. *out is malloc'd, *out_len =
 * n + NX_FIELD_OVERHEAD: key id (1 byte) || random nonce (24) || ciphertext || tag (16).
 * Two encryptions of the same value differ. Same as field_encrypt_ad with context "".
 * Returns 0; NX_EINVAL for NULL arguments or a NUL inside the text; NX_ETOOBIG if n > NX_FIELD_MAX;
 * NX_ENOMEM. */
int field_encrypt(const nx_keys *k, const char *plain, size_t n, unsigned char **out, size_t *out_len);

/* Decrypt what field_encrypt produced. *plain is malloc'd and NUL-terminated; the caller frees it.
 * Same as field_decrypt_ad with context "".
 * Returns 0; NX_EINVAL if the input is short, tampered, made with an unknown key id, made with a
 * context, or garbage (never crashes); NX_ENOMEM. */
int field_decrypt(const nx_keys *k, const unsigned char *in, size_t n, char **plain);

/* As field_encrypt, but the ciphertext is bound to context (for example "resident.id_number"), so a
 * ciphertext copied into another column does not decrypt there. context is at most 128 bytes
 * (NX_EINVAL beyond); NULL means "". The key-id byte is authenticated too. */
int field_encrypt_ad(const nx_keys *k, const char *context, const char *plain, size_t n, unsigned char **out,
                     size_t *out_len);

/* As field_decrypt, with the context the value was encrypted under. */
int field_decrypt_ad(const nx_keys *k, const char *context, const unsigned char *in, size_t n, char **plain);

/* Release a plaintext from field_decrypt / field_decrypt_ad: wipe it (sodium_memzero over its
 * strlen bytes, which the compiler may not drop as a dead store) and free it. Every decrypted
 * value is released with this, never with free(), so personal data does not linger in freed heap
 * memory. NULL is accepted. */
void field_plain_free(char *plain);

/* Blind index for exact look-ups (WHERE id_bidx = $1): keyed BLAKE2b-128 with the index key over
 * domain || 0x00 || normalized. domain names the column ("resident.id_number") so equal values in
 * different columns do not match; normalized is the value after the caller's normalization
 * (upper-case X in ID numbers, digits only for phones …). NULL strings are treated as "".
 * Deterministic for the same key file, domain and value. */
void blind_index(const nx_keys *k, const char *domain, const char *normalized,
                 unsigned char out[NX_BIDX_BYTES]);

/* Write a fresh token: URL-safe base64 (no padding) of 32 random bytes, 43 characters and a NUL.
 * n must be at least NX_TOKEN_CHARS (44); a smaller buffer is a bug (asserted; out is set to ""). */
void token_random(char *out, size_t n);

/* Unkeyed BLAKE2b-256 of the token's characters; sessions and bearer tokens store only this.
 * NULL is hashed as "". */
void token_hash(const char *token, unsigned char out[NX_TOKEN_HASH_BYTES]);

/* Size of a document MAC (crypto_document_mac). */
#define NX_DOC_MAC_BYTES 16

/* Keyed MAC that makes printed documents' verification codes unforgeable: BLAKE2b-128 of message
 * under a document key derived from the index key (BLAKE2b keyed with the index key over the label
 * "nx-document-mac v1"), so it is stable across encryption-key rotation, differs from every blind
 * index, and cannot be computed without the key file. message: any bytes (NULL means ""). */
void crypto_document_mac(const nx_keys *k, const void *message, size_t n, unsigned char out[NX_DOC_MAC_BYTES]);

/* Constant-time comparison of n bytes (the time depends on n only). */
bool crypto_equal(const void *a, const void *b, size_t n);

/* ---- files ---- */

/* Bytes blob_encrypt adds: a 6-byte header ("\0NXE", version 1, key id), the nonce (24), the tag (16). */
#define NX_BLOB_OVERHEAD 46

/* Seal a whole file (any bytes, NULs included) with the active field key, XChaCha20-Poly1305-IETF,
 * bound to context (at most 128 bytes, NULL = ""; uploads use their stored name). *out is malloc'd,
 * *out_len = n + NX_BLOB_OVERHEAD. Returns 0; NX_EINVAL for NULL arguments or a long context;
 * NX_ENOMEM. Never blocks. */
int blob_encrypt(const nx_keys *k, const char *context, const void *plain, size_t n, unsigned char **out,
                 size_t *out_len);

/* Open what blob_encrypt sealed under the same context. *plain is malloc'd (release it with
 * blob_plain_free), *plain_len its size. Returns 0; NX_EINVAL when the input is not sealed, is
 * short, tampered, sealed under another context or with a key id not in the key file; NX_ENOMEM. */
int blob_decrypt(const nx_keys *k, const char *context, const unsigned char *in, size_t n, unsigned char **plain,
                 size_t *plain_len);

/* True when data starts with blob_encrypt's header (says nothing about its integrity). Pure. */
bool blob_is_sealed(const void *data, size_t n);

/* Wipe n bytes of a plaintext from blob_decrypt and free it. NULL is accepted. */
void blob_plain_free(void *plain, size_t n);

#endif
