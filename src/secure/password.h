/* password.h — password hashing (argon2id) on a bounded pool, the password policy, generated
 * passwords.
 *
 * One argon2id hash at the interactive cost takes ~75-90 ms and 64 MiB. Hashes therefore run under
 * a small semaphore: at most `workers` at once, at most `max_waiting` callers queued behind them,
 * anyone beyond that is told NX_EBUSY at once (the HTTP layer answers 503 with Retry-After), and a
 * queued caller gives up with NX_EBUSY after 5 seconds. The hash runs on the caller's own thread;
 * the pool only limits how many run together. All functions are thread-safe. */
#ifndef NX_SECURE_PASSWORD_H
#define NX_SECURE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Size of a hash string buffer (crypto_pwhash_STRBYTES), NUL included. */
#define NX_PASSWORD_HASH_BYTES 128
/* Longest password the policy accepts, in bytes. */
#define NX_PASSWORD_MAX_BYTES 128
/* How long a queued caller waits for a slot before NX_EBUSY. */
#define NX_PASSWORD_WAIT_MS 5000

/* Set the pool's limits: at most workers (1..64) hashes at once, at most max_waiting (0..1024)
 * callers waiting for a slot. Without a call the limits are workers=2, max_waiting=4. May be called
 * again to change the limits (callers already waiting keep waiting under the new ones); also
 * re-opens the pool after password_pool_shutdown. Also prepares the dummy hash for password_burn
 * (one hash at the current cost). Returns 0; NX_EINVAL for limits out of range; NX_ENOMEM;
 * NX_EINTERNAL if libsodium cannot initialize. */
int password_pool_init(int workers, int max_waiting);

/* Close the pool: callers waiting for a slot get NX_EBUSY at once, new callers get NX_EBUSY until
 * password_pool_init is called again. Blocks until the running hashes have finished. */
void password_pool_shutdown(void);

/* Running hashes and waiting callers right now (for metrics and tests). Either pointer may be NULL. */
void password_pool_stats(int *running, int *waiting);

/* Hash pw with argon2id at OPSLIMIT/MEMLIMIT_INTERACTIVE (or the test cost, see below) into out as
 * a "$argon2id$v=19$m=65536,t=2,p=1$…" string. Blocks for the hash and at most
 * NX_PASSWORD_WAIT_MS waiting for a pool slot. Does not apply the policy (see
 * password_policy_check). Returns 0; NX_EINVAL if pw is NULL or longer than 1024 bytes; NX_EBUSY
 * if the pool is full, the wait timed out or the pool is shut down; NX_ENOMEM if argon2 could not
 * get its memory. */
int password_hash(const char *pw, char out[NX_PASSWORD_HASH_BYTES], nx_err *e);

/* Check pw against a hash made by password_hash (argon2i hashes of libsodium are accepted too).
 * Blocks like password_hash. Returns 0 when it matches; NX_EAUTH when it does not (or pw is NULL
 * or longer than 1024 bytes); NX_EINVAL when hash is NULL or not a well-formed argon2 hash string;
 * NX_EBUSY when the pool is full. */
int password_verify(const char *hash, const char *pw);

/* True when hash should be replaced after a successful login: it is malformed, not argon2id, or
 * made with parameters other than the current cost. Cheap (parses the string only). */
bool password_needs_rehash(const char *hash);

/* Spend the time of one verify for a user that does not exist, so a login's timing does not reveal
 * whether the account exists. Verifies pw against a fixed dummy hash of a random secret (made by
 * password_pool_init, or on first use) on the pool; the result is discarded. Never fails visibly. */
void password_burn(const char *pw);

/* Apply the password policy: 8 characters (code points) or more, at most NX_PASSWORD_MAX_BYTES
 * bytes, valid UTF-8 without control characters, at least one ASCII letter and one digit, not
 * containing the username (case-insensitive; only checked for usernames of 3 bytes or more), and
 * not one of the common passwords (case-insensitive). username may be NULL.
 * Returns 0 or NX_EINVAL with field "password" and a Chinese message. */
int password_policy_check(const char *pw, const char *username, nx_err *e);

/* Write a random readable password: 16 characters from letters and digits without look-alikes
 * (no 0 O o 1 l I), at least one letter and one digit, NUL-terminated. n must be at least 17 (a
 * smaller buffer is a bug: asserted, out is set to ""). The result passes password_policy_check
 * for any username that it does not happen to contain (for a 3-character username about 1 in
 * 13,000; callers that know the username re-check and regenerate). */
void password_generate(char *out, size_t n);

/* FOR TESTS ONLY: use opslimit ops and memlimit mem (bytes) for new hashes instead of the
 * interactive cost, so the test suite runs fast. ops == 0 or mem == 0 restores the interactive
 * cost. Values are clamped to libsodium's minimums. Production code never calls this. */
void password_set_cost_for_tests(unsigned long long ops, size_t mem);

#endif
