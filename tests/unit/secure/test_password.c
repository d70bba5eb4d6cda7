/* test_password.c — argon2id hashing, the bounded pool, the policy, generated passwords.
 *
 * Most tests lower the argon2 cost with password_set_cost_for_tests; test_default_cost runs first
 * and checks that, untouched, the interactive parameters (m=65536 KiB, t=2) are used. The pool
 * tests use a deliberately slow cost so one hash is still running while the next caller arrives;
 * they watch password_pool_stats instead of sleeping blindly. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "secure/password.h"

#define FAST_OPS 1ULL
#define FAST_MEM 8192
#define SLOW_OPS 4ULL
#define SLOW_MEM (64 * 1024 * 1024)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Wait until the pool shows at least `running` hashes and `waiting` waiters; false after 5 s. */
static bool wait_for_pool(int running, int waiting)
{
    double until = now_ms() + 5000;
    while (now_ms() < until) {
        int r, w;
        password_pool_stats(&r, &w);
        if (r >= running && w >= waiting)
            return true;
        usleep(500);
    }
    return false;
}

static void test_default_cost(void)
{
    char h[NX_PASSWORD_HASH_BYTES];
    nx_err e;
    CHECK_INT(password_hash("Warm4Heart", h, &e), 0);
    CHECK(str_starts_with(h, "$argon2id$v=19$m=65536,t=2,p=1$"));
    CHECK_INT(password_verify(h, "Warm4Heart"), 0);
    CHECK_INT(password_verify(h, "warm4heart"), NX_EAUTH);
    CHECK(!password_needs_rehash(h));
}

static void test_hash_verify(void)
{
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    char h[NX_PASSWORD_HASH_BYTES], h2[NX_PASSWORD_HASH_BYTES];
    nx_err e;
    CHECK_INT(password_hash("Correct7horse", h, &e), 0);
    CHECK(str_starts_with(h, "$argon2id$v=19$m=8,t=1,p=1$"));
    CHECK_INT(password_verify(h, "Correct7horse"), 0);
    CHECK_INT(password_verify(h, "Correct7hors"), NX_EAUTH);
    CHECK_INT(password_verify(h, "Correct7horse "), NX_EAUTH);
    CHECK_INT(password_verify(h, ""), NX_EAUTH);
    CHECK_INT(password_verify(h, NULL), NX_EAUTH);
    /* Same password, fresh salt. */
    CHECK_INT(password_hash("Correct7horse", h2, &e), 0);
    CHECK(strcmp(h, h2) != 0);
    CHECK_INT(password_verify(h2, "Correct7horse"), 0);

    /* Unicode and the empty password hash fine (the policy is a separate step). */
    CHECK_INT(password_hash("暖心社区2024", h2, &e), 0);
    CHECK_INT(password_verify(h2, "暖心社区2024"), 0);
    CHECK_INT(password_verify(h2, "暖心社区2025"), NX_EAUTH);
    CHECK_INT(password_hash("", h2, &e), 0);
    CHECK_INT(password_verify(h2, ""), 0);

    /* Malformed hashes. */
    char truncated[NX_PASSWORD_HASH_BYTES];
    str_copy(truncated, h, sizeof truncated);
    truncated[strlen(truncated) - 30] = '\0';
    char wrong_alg[NX_PASSWORD_HASH_BYTES];
    str_copy(wrong_alg, h, sizeof wrong_alg);
    memcpy(wrong_alg, "$argon2x$", 9);
    char too_long[200];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    memcpy(too_long, h, strlen(h));
    const char *bad[] = {
        "",
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$",
        truncated,
        wrong_alg,
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        too_long,
        "$argon2id$v=19$m=8,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = password_verify(bad[i], "Correct7horse");
        if (rc != NX_EINVAL)
            fprintf(stderr, "  malformed hash %zu: rc=%d\n", i, rc);
        CHECK_INT(rc, NX_EINVAL);
        CHECK(password_needs_rehash(bad[i]));
    }
    CHECK_INT(password_verify(NULL, "x"), NX_EINVAL);
    CHECK(password_needs_rehash(NULL));

    /* Bad input to hash. */
    nx_err_clear(&e);
    CHECK_INT(password_hash(NULL, h2, &e), NX_EINVAL);
    CHECK_STR(e.field, "password");
    char *huge = malloc(1026);
    memset(huge, 'a', 1025);
    huge[1025] = '\0';
    CHECK_INT(password_hash(huge, h2, &e), NX_EINVAL);
    CHECK_STR(h2, "");
    huge[1024] = '\0'; /* 1024 bytes: the longest accepted */
    CHECK_INT(password_hash(huge, h2, &e), 0);
    CHECK_INT(password_verify(h2, huge), 0);
    free(huge);

    /* needs_rehash follows the current cost. */
    CHECK(!password_needs_rehash(h));
    password_set_cost_for_tests(2, FAST_MEM);
    CHECK(password_needs_rehash(h));
    password_set_cost_for_tests(0, 0); /* back to interactive */
    CHECK(password_needs_rehash(h));
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    CHECK(!password_needs_rehash(h));
}

static void test_policy(void)
{
    static const struct {
        const char *pw, *user;
        int want;
    } cases[] = {
        {"Wm7kPq2x", NULL, 0},
        {"a2345678", NULL, 0},        /* exactly 8, not on the list */
        {"a234567", NULL, NX_EINVAL}, /* 7 */
        {"", NULL, NX_EINVAL},
        {"abcdefgh", NULL, NX_EINVAL}, /* no digit */
        {"ABCDEFGHIJ", NULL, NX_EINVAL},
        {"12345678", NULL, NX_EINVAL}, /* no letter, and common */
        {"88888888", NULL, NX_EINVAL},
        {"password1", NULL, NX_EINVAL}, /* common */
        {"PASSWORD1", NULL, NX_EINVAL}, /* common, any case */
        {"Qwerty123", NULL, NX_EINVAL},
        {"a1234567", NULL, NX_EINVAL},
        {"abc12345", NULL, NX_EINVAL},
        {"woaini1314", NULL, NX_EINVAL},
        {"zhang2024ab", "zhang", NX_EINVAL}, /* contains the username */
        {"xxZHANG2024", "zhang", NX_EINVAL}, /* case-insensitive */
        {"zhang2024ab", "li", 0},            /* usernames under 3 bytes are not checked */
        {"zhang2024ab", "wang", 0},
        {"zhang2024ab", "", 0},
        {"暖心社区2024ab", NULL, 0},           /* 10 characters */
        {"暖心社区1a", NULL, NX_EINVAL},       /* 6 characters although 14 bytes */
        {"暖心社区一二三四", NULL, NX_EINVAL}, /* no ASCII letter or digit */
        {"abcd\t1234", NULL, NX_EINVAL},       /* control character */
        {"abcd1234\x7f", NULL, NX_EINVAL},
        {"\xff\xfe"
         "abcd1234",
         NULL, NX_EINVAL},           /* invalid UTF-8 */
        {"pass word 2024", NULL, 0}, /* spaces are fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nx_err e;
        nx_err_clear(&e);
        int rc = password_policy_check(cases[i].pw, cases[i].user, &e);
        if (rc != cases[i].want)
            fprintf(stderr, "  policy case %zu: rc=%d msg=%s\n", i, rc, e.msg);
        CHECK_INT(rc, cases[i].want);
        if (cases[i].want != 0) {
            CHECK_STR(e.field, "password");
            CHECK(e.msg[0] != '\0');
        }
    }

    nx_err e;
    CHECK_INT(password_policy_check("abc", NULL, &e), NX_EINVAL);
    CHECK_STR(e.msg, "密码至少 8 位，且须同时包含字母和数字");
    CHECK_INT(password_policy_check("zhang2024ab", "zhang", &e), NX_EINVAL);
    CHECK(strstr(e.msg, "用户名") != NULL);
    CHECK_INT(password_policy_check("password1", NULL, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "常见") != NULL);
    CHECK_INT(password_policy_check(NULL, NULL, &e), NX_EINVAL);
    CHECK_INT(password_policy_check("x", NULL, NULL), NX_EINVAL); /* e may be NULL */

    /* 128 bytes pass, 129 do not. */
    char pw[NX_PASSWORD_MAX_BYTES + 2];
    memset(pw, 'x', sizeof pw);
    pw[0] = '7';
    pw[NX_PASSWORD_MAX_BYTES] = '\0';
    CHECK_INT(password_policy_check(pw, NULL, &e), 0);
    pw[NX_PASSWORD_MAX_BYTES] = 'x';
    pw[NX_PASSWORD_MAX_BYTES + 1] = '\0';
    CHECK_INT(password_policy_check(pw, NULL, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "128") != NULL);
}

static void test_generate(void)
{
    char first[17] = "";
    int passed = 0, clean = 0, distinct = 0;
    for (int i = 0; i < 300; i++) {
        char pw[17];
        password_generate(pw, sizeof pw);
        if (password_policy_check(pw, NULL, NULL) == 0 && password_policy_check(pw, "zhangsan", NULL) == 0)
            passed++;
        if (strlen(pw) == 16 && strpbrk(pw, "0O1lIo") == NULL &&
            strspn(pw, "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") == 16)
            clean++;
        if (i == 0)
            str_copy(first, pw, sizeof first);
        else if (strcmp(first, pw) != 0)
            distinct++;
    }
    CHECK_INT(passed, 300);
    CHECK_INT(clean, 300);
    CHECK_INT(distinct, 299);
    char big[64];
    memset(big, '#', sizeof big);
    password_generate(big, sizeof big);
    CHECK_INT(strlen(big), 16);
}

struct hash_job {
    const char *pw;
    int rc;
    char out[NX_PASSWORD_HASH_BYTES];
};

static void *hash_thread(void *arg)
{
    struct hash_job *j = arg;
    j->rc = password_hash(j->pw, j->out, NULL);
    return NULL;
}

static void test_pool_busy(void)
{
    CHECK_INT(password_pool_init(0, 0), NX_EINVAL);
    CHECK_INT(password_pool_init(1, -1), NX_EINVAL);
    CHECK_INT(password_pool_init(65, 0), NX_EINVAL);
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    char fast_hash[NX_PASSWORD_HASH_BYTES];
    CHECK_INT(password_hash("Fast1fast", fast_hash, NULL), 0);

    CHECK_INT(password_pool_init(1, 0), 0);
    password_set_cost_for_tests(SLOW_OPS, SLOW_MEM);
    struct hash_job a = {.pw = "Slow1slow", .rc = 1};
    pthread_t ta;
    pthread_create(&ta, NULL, hash_thread, &a);
    CHECK(wait_for_pool(1, 0));

    /* The one slot is taken and nobody may wait: refused at once. */
    nx_err e;
    nx_err_clear(&e);
    char h[NX_PASSWORD_HASH_BYTES];
    double t0 = now_ms();
    CHECK_INT(password_hash("Other2pw", h, &e), NX_EBUSY);
    CHECK_INT(e.code, NX_EBUSY);
    CHECK_INT(password_verify(fast_hash, "Fast1fast"), NX_EBUSY);
    CHECK(now_ms() - t0 < 50);
    int running = -1, waiting = -1;
    password_pool_stats(&running, &waiting);
    CHECK_INT(running, 1);
    CHECK_INT(waiting, 0);

    pthread_join(ta, NULL);
    CHECK_INT(a.rc, 0);
    CHECK(str_starts_with(a.out, "$argon2id$v=19$m=65536,t=4,p=1$"));
    password_pool_stats(&running, &waiting);
    CHECK_INT(running, 0);

    /* After it finished, a new hash gets the slot. */
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    CHECK_INT(password_hash("Other2pw", h, &e), 0);
    CHECK_INT(password_verify(h, "Other2pw"), 0);
    CHECK_INT(password_verify(fast_hash, "Fast1fast"), 0);
}

static void test_pool_waiting(void)
{
    password_set_cost_for_tests(SLOW_OPS, SLOW_MEM);
    CHECK_INT(password_pool_init(1, 1), 0);
    struct hash_job a = {.pw = "First1pw", .rc = 1}, b = {.pw = "Second2pw", .rc = 1};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, hash_thread, &a);
    CHECK(wait_for_pool(1, 0));
    pthread_create(&tb, NULL, hash_thread, &b);
    CHECK(wait_for_pool(1, 1));

    /* One running, one waiting, no room for a third. */
    char h[NX_PASSWORD_HASH_BYTES];
    double t0 = now_ms();
    CHECK_INT(password_hash("Third3pw", h, NULL), NX_EBUSY);
    CHECK(now_ms() - t0 < 50);

    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_INT(a.rc, 0); /* the waiter got the slot when the first one finished */
    CHECK_INT(b.rc, 0);
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    CHECK_INT(password_verify(b.out, "Second2pw"), 0);
    int running = -1, waiting = -1;
    password_pool_stats(&running, &waiting);
    CHECK_INT(running, 0);
    CHECK_INT(waiting, 0);
}

static void test_shutdown(void)
{
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    CHECK_INT(password_pool_init(2, 4), 0);
    char h[NX_PASSWORD_HASH_BYTES];
    CHECK_INT(password_hash("Before1pw", h, NULL), 0);
    password_pool_shutdown();
    char h2[NX_PASSWORD_HASH_BYTES];
    CHECK_INT(password_hash("During1pw", h2, NULL), NX_EBUSY);
    CHECK_INT(password_verify(h, "Before1pw"), NX_EBUSY);
    CHECK_INT(password_pool_init(2, 4), 0);
    CHECK_INT(password_verify(h, "Before1pw"), 0);
}

static double time_burn(const char *pw)
{
    double t0 = now_ms();
    password_burn(pw);
    return now_ms() - t0;
}

static void test_burn(void)
{
    /* At a cost where one verify takes tens of milliseconds, burning takes about as long: the
     * dummy hash was made at the current cost and really is verified. */
    password_set_cost_for_tests(3, 32 * 1024 * 1024);
    CHECK_INT(password_pool_init(2, 4), 0);
    char h[NX_PASSWORD_HASH_BYTES];
    CHECK_INT(password_hash("Real1user", h, NULL), 0);
    double verify_ms = 1e9, burn_ms = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = now_ms();
        CHECK_INT(password_verify(h, "wrong1pw"), NX_EAUTH);
        double v = now_ms() - t0;
        verify_ms = v < verify_ms ? v : verify_ms;
        double b = time_burn("wrong1pw");
        burn_ms = b < burn_ms ? b : burn_ms;
    }
    if (burn_ms < 0.3 * verify_ms)
        fprintf(stderr, "  burn %.1f ms, verify %.1f ms\n", burn_ms, verify_ms);
    CHECK(burn_ms >= 0.3 * verify_ms);
    password_burn(NULL);
    password_set_cost_for_tests(FAST_OPS, FAST_MEM);
    password_burn("x"); /* remade at the new cost */
    CHECK(time_burn("x") < 0.3 * verify_ms);
}

int main(void)
{
    TEST_RUN(test_default_cost); /* first: nothing has lowered the cost yet */
    TEST_RUN(test_hash_verify);
    TEST_RUN(test_policy);
    TEST_RUN(test_generate);
    TEST_RUN(test_pool_busy);
    TEST_RUN(test_pool_waiting);
    TEST_RUN(test_shutdown);
    TEST_RUN(test_burn);
    password_pool_shutdown();
    return TEST_DONE();
}
