/* test_masked.c — field_masked answers exactly what decrypting and masking answers, from its memo
 * when it has seen the same ciphertext, and never for a ciphertext, context or key set it has not.
 *
 * The hits and misses are counted by field_masked_stats, so each test says whether a call decrypted:
 * the memo is the whole point (a plain resident read that decrypts nothing), and it must not hide a
 * change (a new value is a new ciphertext) nor open what the key would not. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/str.h"
#include "secure/crypto.h"
#include "secure/masked.h"
#include "text/mask.h"

static char tmpdir[64];
static nx_keys *keys, *other;

static nx_keys *new_keys(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    nx_err e;
    nx_keys *k = NULL;
    CHECK_INT(keyfile_create(path, &e), 0);
    CHECK_INT(keys_load(path, &k, &e), 0);
    unlink(path);
    return k;
}

static unsigned char *seal(const nx_keys *k, const char *context, const char *plain, size_t *n)
{
    unsigned char *ct = NULL;
    CHECK_INT(field_encrypt_ad(k, context, plain, strlen(plain), &ct, n), 0);
    return ct;
}

static uint64_t misses_now(void)
{
    uint64_t h, m;
    field_masked_stats(&h, &m);
    return m;
}

/* Whether field_masked on ct gives what mask gives on plain, and whether that call decrypted. */
static void check_same(const unsigned char *ct, size_t n, const char *context, field_mask_fn mask, const char *plain,
                       size_t cap, bool expect_decrypt)
{
    char want[400], got[400];
    mask(plain, want, cap);
    uint64_t m0 = misses_now();
    memset(got, 'x', sizeof got);
    CHECK(field_masked(keys, context, ct, n, mask, got, cap));
    CHECK_STR(got, want);
    CHECK_INT(misses_now() - m0, expect_decrypt ? 1 : 0);
}

static void test_same_as_decrypt_and_mask_then_from_the_memo(void)
{
    static const struct {
        const char *context, *plain;
        field_mask_fn mask;
    } v[] = {
        {"resident.id_number", "11010519491231002X", mask_id},
        {"resident.id_number", "E12345678", mask_id},
        {"resident.phone", "13800138000", mask_phone},
        {"resident.phone", "010-12345678", mask_phone},
        {"contact.phone", "13912345678", mask_phone},
        {"resident.address", "北京市朝阳区建国路88号院3号楼2单元1001", mask_address},
        {"resident.address", "", mask_address},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n;
        unsigned char *ct = seal(keys, v[i].context, v[i].plain, &n);
        check_same(ct, n, v[i].context, v[i].mask, v[i].plain, 400, true);
        check_same(ct, n, v[i].context, v[i].mask, v[i].plain, 400, false);
        /* a short buffer gets the mask's own truncation, never a cut remembered text */
        check_same(ct, n, v[i].context, v[i].mask, v[i].plain, 5, strlen(v[i].plain) > 0);
        check_same(ct, n, v[i].context, v[i].mask, v[i].plain, 400, false);
        free(ct);
    }
}

static void test_a_new_value_is_a_new_ciphertext(void)
{
    size_t n1, n2;
    unsigned char *a = seal(keys, "resident.phone", "13800138000", &n1);
    unsigned char *b = seal(keys, "resident.phone", "13800138000", &n2);
    check_same(a, n1, "resident.phone", mask_phone, "13800138000", 400, true);
    check_same(b, n2, "resident.phone", mask_phone, "13800138000", 400, true); /* same value, new nonce */
    unsigned char *c = seal(keys, "resident.phone", "13911112222", &n2);
    check_same(c, n2, "resident.phone", mask_phone, "13911112222", 400, true);
    check_same(a, n1, "resident.phone", mask_phone, "13800138000", 400, false);
    free(a);
    free(b);
    free(c);
}

static void test_never_opens_what_decryption_would_not(void)
{
    size_t n;
    unsigned char *ct = seal(keys, "resident.phone", "13800138000", &n);
    char out[64];
    CHECK(field_masked(keys, "resident.phone", ct, n, mask_phone, out, sizeof out)); /* remembered */
    /* another column's context: the memo does not answer, the decryption fails */
    CHECK(!field_masked(keys, "contact.phone", ct, n, mask_phone, out, sizeof out));
    CHECK_STR(out, "");
    /* another key set */
    CHECK(!field_masked(other, "resident.phone", ct, n, mask_phone, out, sizeof out));
    CHECK_STR(out, "");
    /* the same nonce and tag with a changed byte in between */
    ct[n - 20] ^= 1;
    uint64_t m0 = misses_now();
    CHECK(!field_masked(keys, "resident.phone", ct, n, mask_phone, out, sizeof out));
    CHECK_STR(out, "");
    CHECK_INT(misses_now() - m0, 1);
    /* a failure is not remembered */
    CHECK(!field_masked(keys, "resident.phone", ct, n, mask_phone, out, sizeof out));
    CHECK_INT(misses_now() - m0, 2);
    ct[n - 20] ^= 1;
    CHECK(!field_masked(keys, "resident.phone", NULL, 0, mask_phone, out, sizeof out));
    CHECK(!field_masked(keys, "resident.phone", ct, 10, mask_phone, out, sizeof out));
    CHECK_STR(out, "");
    free(ct);
}

/* Many threads on a few values whose slots they share and evict: every answer right. */
static unsigned char *shared_ct[4];
static size_t shared_n[4];
static const char *const shared_plain[4] = {"13800000001", "13800000002", "11010519491231002X", "13800000004"};
static int thread_wrong;

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        int j = i % 4;
        field_mask_fn mask = j == 2 ? mask_id : mask_phone;
        const char *context = j == 2 ? "resident.id_number" : "resident.phone";
        char want[64], got[64];
        mask(shared_plain[j], want, sizeof want);
        if (!field_masked(keys, context, shared_ct[j], shared_n[j], mask, got, sizeof got) || strcmp(got, want) != 0)
            __atomic_fetch_add(&thread_wrong, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_threads(void)
{
    for (int j = 0; j < 4; j++)
        shared_ct[j] = seal(keys, j == 2 ? "resident.id_number" : "resident.phone", shared_plain[j], &shared_n[j]);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK_INT(pthread_create(&t[i], NULL, reader, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(thread_wrong, 0);
    for (int j = 0; j < 4; j++)
        free(shared_ct[j]);
}

int main(void)
{
    str_copy(tmpdir, "/tmp/nx-test-masked-XXXXXX", sizeof tmpdir);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    keys = new_keys("a.key");
    other = new_keys("b.key");
    if (keys && other) {
        TEST_RUN(test_same_as_decrypt_and_mask_then_from_the_memo);
        TEST_RUN(test_a_new_value_is_a_new_ciphertext);
        TEST_RUN(test_never_opens_what_decryption_would_not);
        TEST_RUN(test_threads);
    }
    keys_free(keys);
    keys_free(other);
    rmdir(tmpdir);
    return TEST_DONE();
}
