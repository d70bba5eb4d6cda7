/* password.c — argon2id hashing on a bounded pool, the password policy and generated passwords.
 *
 * The pool is a counting semaphore with a bounded queue, built from one mutex and two condition
 * variables; it owns no threads: a caller takes a slot, hashes on its own thread and gives the slot
 * back. Invariants under pool_mu: 0 <= running, 0 <= waiting <= max_waiting (except briefly after
 * the limits are lowered), and a caller increments `running` only while running < workers and the
 * pool is open. A new caller skips the queue only when nobody is queued, so queued callers are not
 * overtaken by fresh ones; releases broadcast because with several slots a single signal could wake
 * a caller that then finds the slot taken while another waiter sleeps on. Waits use
 * CLOCK_MONOTONIC (pthread_cond_clockwait) so a clock change cannot stretch the 5-second limit.
 *
 * The cost (opslimit, memlimit) is the interactive one unless a test lowered it; it is read under
 * pool_mu when a slot is taken, so one hash never mixes two settings.
 *
 * password_burn verifies against a dummy hash of a random secret so an unknown user costs the same
 * time as a wrong password. The dummy is made once (by password_pool_init, otherwise on first use)
 * under burn_mu, and dropped when a test changes the cost so it always matches the current cost.
 *
 * Caveats: a waiting caller holds its own thread for up to NX_PASSWORD_WAIT_MS; that is why
 * max_waiting is small. The policy counts ASCII letters only as letters. */
#include "secure/password.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "secure/crypto.h"

#define PW_INPUT_MAX  1024 /* longest password hash/verify will process, bytes */
#define WORKERS_MAX   64
#define WAITING_MAX   1024
#define GENERATED_LEN 16

_Static_assert(NX_PASSWORD_HASH_BYTES == crypto_pwhash_STRBYTES, "hash string size");

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cv = PTHREAD_COND_INITIALIZER; /* a slot freed, or the pool closed */
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER; /* running and waiting both reached 0 */
static int pool_workers = 2;
static int pool_max_waiting = 4;
static int pool_running;
static int pool_waiting;
static bool pool_closed;
static unsigned long long cost_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t cost_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

static pthread_mutex_t burn_mu = PTHREAD_MUTEX_INITIALIZER;
static char burn_hash[NX_PASSWORD_HASH_BYTES]; /* "" until made */

/* ---- the pool ---- */

static void wake_idle_locked(void)
{
    if (pool_running == 0 && pool_waiting == 0)
        pthread_cond_broadcast(&idle_cv);
}

/* Take a slot and read the cost. Returns 0 or NX_EBUSY. */
static int slot_acquire(unsigned long long *ops, size_t *mem)
{
    int rc = NX_EBUSY;
    pthread_mutex_lock(&pool_mu);
    if (pool_closed)
        goto out;
    if (pool_running < pool_workers && pool_waiting == 0) {
        rc = 0;
    } else if (pool_waiting < pool_max_waiting) {
        struct timespec deadline = clock_deadline(CLOCK_MONOTONIC, NX_PASSWORD_WAIT_MS);
        pool_waiting++;
        while (!pool_closed && pool_running >= pool_workers) {
            if (pthread_cond_clockwait(&slot_cv, &pool_mu, CLOCK_MONOTONIC, &deadline) == ETIMEDOUT)
                break;
        }
        pool_waiting--;
        if (!pool_closed && pool_running < pool_workers)
            rc = 0;
        else
            wake_idle_locked();
    }
out:
    if (rc == 0) {
        pool_running++;
        *ops = cost_ops;
        *mem = cost_mem;
    } else {
        nx_log(LOG_DEBUG, "password.pool_busy running=%d waiting=%d", pool_running, pool_waiting);
    }
    pthread_mutex_unlock(&pool_mu);
    return rc;
}

static void slot_release(void)
{
    pthread_mutex_lock(&pool_mu);
    assert(pool_running > 0);
    pool_running--;
    pthread_cond_broadcast(&slot_cv);
    wake_idle_locked();
    pthread_mutex_unlock(&pool_mu);
}

/* Make the dummy hash for password_burn if there is none. Call with burn_mu held. */
static int burn_prepare_locked(void)
{
    if (burn_hash[0] != '\0')
        return 0;
    char secret[NX_TOKEN_CHARS];
    char h[NX_PASSWORD_HASH_BYTES];
    token_random(secret, sizeof secret);
    int rc = password_hash(secret, h, NULL);
    sodium_memzero(secret, sizeof secret);
    if (rc == 0)
        str_copy(burn_hash, h, sizeof burn_hash);
    return rc;
}

int password_pool_init(int workers, int max_waiting)
{
    if (workers < 1 || workers > WORKERS_MAX || max_waiting < 0 || max_waiting > WAITING_MAX)
        return NX_EINVAL;
    if (crypto_init(NULL) != 0)
        return NX_EINTERNAL;
    pthread_mutex_lock(&pool_mu);
    pool_workers = workers;
    pool_max_waiting = max_waiting;
    pool_closed = false;
    pthread_cond_broadcast(&slot_cv); /* more slots may be free now */
    pthread_mutex_unlock(&pool_mu);

    pthread_mutex_lock(&burn_mu);
    int rc = burn_prepare_locked();
    pthread_mutex_unlock(&burn_mu);
    if (rc == NX_ENOMEM)
        return rc;
    nx_log(LOG_INFO, "password.pool_init workers=%d max_waiting=%d", workers, max_waiting);
    return 0;
}

void password_pool_shutdown(void)
{
    pthread_mutex_lock(&pool_mu);
    pool_closed = true;
    pthread_cond_broadcast(&slot_cv);
    while (pool_running > 0 || pool_waiting > 0)
        pthread_cond_wait(&idle_cv, &pool_mu);
    pthread_mutex_unlock(&pool_mu);
}

void password_pool_stats(int *running, int *waiting)
{
    pthread_mutex_lock(&pool_mu);
    if (running)
        *running = pool_running;
    if (waiting)
        *waiting = pool_waiting;
    pthread_mutex_unlock(&pool_mu);
}

void password_set_cost_for_tests(unsigned long long ops, size_t mem)
{
    pthread_mutex_lock(&pool_mu);
    if (ops == 0 || mem == 0) {
        cost_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        cost_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else {
        cost_ops = ops < crypto_pwhash_OPSLIMIT_MIN ? crypto_pwhash_OPSLIMIT_MIN : ops;
        cost_mem = mem < crypto_pwhash_MEMLIMIT_MIN ? crypto_pwhash_MEMLIMIT_MIN : mem;
    }
    pthread_mutex_unlock(&pool_mu);
    pthread_mutex_lock(&burn_mu);
    burn_hash[0] = '\0';
    pthread_mutex_unlock(&burn_mu);
}

/* ---- hashing ---- */

int password_hash(const char *pw, char out[NX_PASSWORD_HASH_BYTES], nx_err *e)
{
    if (out == NULL)
        return nx_fail(e, NX_EINVAL, NULL, "内部错误：缺少输出参数");
    out[0] = '\0';
    if (pw == NULL)
        return nx_fail(e, NX_EINVAL, "password", "请输入密码");
    size_t len = strnlen(pw, PW_INPUT_MAX + 1);
    if (len > PW_INPUT_MAX)
        return nx_fail(e, NX_EINVAL, "password", "密码过长");
    int rc = crypto_init(e);
    if (rc != 0)
        return rc;

    unsigned long long ops;
    size_t mem;
    if (slot_acquire(&ops, &mem) != 0)
        return nx_fail(e, NX_EBUSY, NULL, "系统繁忙，请稍后再试");
    int r = crypto_pwhash_str_alg(out, pw, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13);
    slot_release();
    if (r != 0) {
        out[0] = '\0';
        nx_log(LOG_ERROR, "password.hash_failed mem=%zu", mem);
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足，无法计算密码哈希");
    }
    return 0;
}

/* A hash string libsodium can parse (argon2id or argon2i, sane parameters). */
static bool hash_well_formed(const char *hash)
{
    if (hash == NULL || strnlen(hash, NX_PASSWORD_HASH_BYTES) >= NX_PASSWORD_HASH_BYTES)
        return false;
    return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) >= 0;
}

int password_verify(const char *hash, const char *pw)
{
    if (!hash_well_formed(hash))
        return NX_EINVAL;
    if (pw == NULL)
        return NX_EAUTH;
    size_t len = strnlen(pw, PW_INPUT_MAX + 1);
    if (len > PW_INPUT_MAX)
        return NX_EAUTH;
    if (crypto_init(NULL) != 0)
        return NX_EINTERNAL;

    unsigned long long ops;
    size_t mem;
    if (slot_acquire(&ops, &mem) != 0)
        return NX_EBUSY;
    int r = crypto_pwhash_str_verify(hash, pw, len);
    slot_release();
    return r == 0 ? 0 : NX_EAUTH;
}

bool password_needs_rehash(const char *hash)
{
    if (!hash_well_formed(hash) || !str_starts_with(hash, crypto_pwhash_argon2id_STRPREFIX))
        return true;
    pthread_mutex_lock(&pool_mu);
    unsigned long long ops = cost_ops;
    size_t mem = cost_mem;
    pthread_mutex_unlock(&pool_mu);
    return crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0;
}

void password_burn(const char *pw)
{
    char dummy[NX_PASSWORD_HASH_BYTES];
    pthread_mutex_lock(&burn_mu);
    int rc = burn_prepare_locked();
    str_copy(dummy, burn_hash, sizeof dummy);
    pthread_mutex_unlock(&burn_mu);
    if (rc != 0)
        return;
    (void)password_verify(dummy, pw ? pw : "");
}

/* ---- policy ---- */

/* Lower-case; compared case-insensitively. Some fail the letter/digit rule anyway and are here so
 * the list reads as what it is. */
static const char *const common_passwords[] = {
    "12345678",   "123456789",   "1234567890", "87654321",   "11111111",    "88888888", "66666666",
    "00000000",   "password",    "password1",  "password12", "password123", "passw0rd", "p@ssw0rd",
    "qwerty123",  "qwer1234",    "1qaz2wsx",   "1q2w3e4r",   "1q2w3e4r5t",  "a1234567", "a12345678",
    "a123456789", "abc12345",    "abc123456",  "abcd1234",   "aa123456",    "aa112233", "asd12345",
    "asdf1234",   "zxcv1234",    "admin123",   "admin888",   "admin1234",   "root1234", "test1234",
    "iloveyou1",  "woaini1314",  "woaini520",  "qq123456",   "5201314a",    "a5201314", "1314520a",
    "zxcvbnm1",   "qwertyuiop1", "nuanxin123", "nuanxin1",
};

static bool is_common(const char *pw)
{
    for (size_t i = 0; i < sizeof common_passwords / sizeof common_passwords[0]; i++)
        if (strcasecmp(pw, common_passwords[i]) == 0)
            return true;
    return false;
}

int password_policy_check(const char *pw, const char *username, nx_err *e)
{
    static const char rule[] = "密码至少 8 位，且须同时包含字母和数字";
    if (pw == NULL || pw[0] == '\0')
        return nx_fail(e, NX_EINVAL, "password", "%s", rule);
    size_t len = strnlen(pw, NX_PASSWORD_MAX_BYTES + 1);
    if (len > NX_PASSWORD_MAX_BYTES)
        return nx_fail(e, NX_EINVAL, "password", "密码不能超过 %d 个字节", NX_PASSWORD_MAX_BYTES);
    if (!str_utf8_valid(pw, len))
        return nx_fail(e, NX_EINVAL, "password", "密码含有无效字符");

    bool letter = false, digit = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c == 0x7f)
            return nx_fail(e, NX_EINVAL, "password", "密码不能包含控制字符");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            letter = true;
        else if (c >= '0' && c <= '9')
            digit = true;
    }
    if (str_utf8_len(pw) < 8 || !letter || !digit)
        return nx_fail(e, NX_EINVAL, "password", "%s", rule);
    if (username != NULL && strlen(username) >= 3 && strcasestr(pw, username) != NULL)
        return nx_fail(e, NX_EINVAL, "password", "密码不能包含用户名");
    if (is_common(pw))
        return nx_fail(e, NX_EINVAL, "password", "密码过于常见，容易被猜到，请换一个");
    return 0;
}

/* ---- generated passwords ---- */

void password_generate(char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz"
                                   "ABCDEFGHJKLMNPQRSTUVWXYZ"
                                   "23456789";
    assert(out != NULL && n > GENERATED_LEN);
    if (n <= GENERATED_LEN) {
        if (n > 0)
            out[0] = '\0';
        return;
    }
    if (crypto_init(NULL) != 0) {
        out[0] = '\0';
        return;
    }
    bool letter, digit;
    do {
        letter = digit = false;
        for (size_t i = 0; i < GENERATED_LEN; i++) {
            char c = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
            out[i] = c;
            if (isdigit((unsigned char)c))
                digit = true;
            else
                letter = true;
        }
        out[GENERATED_LEN] = '\0';
    } while (!letter || !digit || is_common(out));
}
