/* test_plain_free.c — field_plain_free wipes a decrypted value before the heap gets it back.
 *
 * What is wiped cannot be read after free() without undefined behaviour, so this test sees every
 * free() first: it is linked with -Wl,--wrap=free (CMakeLists.txt), which sends the calls made by
 * our own objects to __wrap_free below. __wrap_free checks the bytes of the one pointer it watches,
 * then hands it to the real free. A plain free() of the same kind of value is the control: it must
 * be seen as not wiped, or the test could not fail. */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/str.h"
#include "secure/crypto.h"

void __real_free(void *p);
void __wrap_free(void *p);

static const void *watched;
static size_t watched_len;
static int watched_frees;
static bool watched_wiped;

void __wrap_free(void *p)
{
    if (p != NULL && p == watched) {
        const unsigned char *b = p;
        watched_wiped = true;
        for (size_t i = 0; i < watched_len; i++)
            watched_wiped = watched_wiped && b[i] == 0;
        watched_frees++;
        watched = NULL;
    }
    __real_free(p);
}

static char tmpdir[64];
static nx_keys *keys;

static void setup_keys(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/nuanxin.key", tmpdir);
    nx_err e;
    CHECK_INT(keyfile_create(path, &e), 0);
    CHECK_INT(keys_load(path, &keys, &e), 0);
}

/* A freshly decrypted ID number (malloc'd by field_decrypt_ad), watched by __wrap_free. */
static char *decrypted_id(void)
{
    static const char id[] = "11010519491231002X";
    unsigned char *ct = NULL;
    size_t n = 0;
    char *plain = NULL;
    CHECK_INT(field_encrypt_ad(keys, "resident.id_number", id, strlen(id), &ct, &n), 0);
    CHECK_INT(field_decrypt_ad(keys, "resident.id_number", ct, n, &plain), 0);
    free(ct);
    CHECK(plain != NULL && strcmp(plain, id) == 0);
    watched = plain;
    watched_len = plain ? strlen(plain) : 0;
    watched_frees = 0;
    watched_wiped = false;
    return plain;
}

static void test_wipes_then_frees(void)
{
    char *plain = decrypted_id();
    field_plain_free(plain);
    CHECK_INT(watched_frees, 1);
    CHECK(watched_wiped);
}

static void test_plain_free_is_the_control(void)
{
    char *plain = decrypted_id();
    free(plain);
    CHECK_INT(watched_frees, 1);
    CHECK(!watched_wiped);
}

static void test_null_and_empty(void)
{
    field_plain_free(NULL);
    char *empty = malloc(1);
    CHECK(empty != NULL);
    if (empty) {
        empty[0] = '\0';
        field_plain_free(empty);
    }
}

int main(void)
{
    str_copy(tmpdir, "/tmp/nx-test-plain-free-XXXXXX", sizeof tmpdir);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    setup_keys();
    if (keys) {
        TEST_RUN(test_wipes_then_frees);
        TEST_RUN(test_plain_free_is_the_control);
    }
    TEST_RUN(test_null_and_empty);
    keys_free(keys);
    char path[128];
    snprintf(path, sizeof path, "%s/nuanxin.key", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return TEST_DONE();
}
