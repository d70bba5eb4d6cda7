/* test_sms_sign.c — the providers' request signatures, against their own documentation: SHA-1 and
 * HMAC-SHA1 (base/sha1.h) against FIPS 180's "abc" and RFC 2202's test cases (a short key, a text
 * key, a key longer than a block), and Aliyun's RPC signature (sms_aliyun_signature) against the
 * worked example of Aliyun's "签名机制" page (AccessKey testid / testsecret, DescribeRegions). */
#include "base/sha1.h"
#include "notify/sms.h"

#include "test.h"

#include <string.h>

static void hexs(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void test_sha1(void)
{
    unsigned char h[SHA1_BYTES];
    char x[41];
    sha1("abc", 3, h);
    hexs(h, sizeof h, x);
    CHECK_STR(x, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1("", 0, h);
    hexs(h, sizeof h, x);
    CHECK_STR(x, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: two blocks */
    sha1(two, strlen(two), h);
    hexs(h, sizeof h, x);
    CHECK_STR(x, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_hmac_rfc2202(void)
{
    unsigned char key[80], mac[SHA1_BYTES];
    char x[41];
    memset(key, 0x0b, 20);
    hmac_sha1(key, 20, "Hi There", 8, mac);
    hexs(mac, sizeof mac, x);
    CHECK_STR(x, "b617318655057264e28bc0b6fb378c8ef146be00");
    hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hexs(mac, sizeof mac, x);
    CHECK_STR(x, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    memset(key, 0xaa, 80);
    const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_sha1(key, 80, m, strlen(m), mac);
    hexs(mac, sizeof mac, x);
    CHECK_STR(x, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

static void test_aliyun_example(void)
{
    /* the canonical query of the documented example (parameters sorted, values percent-encoded) */
    const char *canonical = "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1"
                            "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
                            "&TimeStamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26";
    char sig[64];
    CHECK_INT(sms_aliyun_signature("testsecret", "GET", canonical, sig, sizeof sig), 0);
    CHECK_STR(sig, "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
    CHECK(sms_aliyun_signature("testsecret", "GET", canonical, sig, 10) != 0);
    char other[64];
    CHECK_INT(sms_aliyun_signature("testsecret", "POST", canonical, other, sizeof other), 0);
    CHECK(strcmp(sig, other) != 0); /* the method is signed */
}

int main(void)
{
    TEST_RUN(test_sha1);
    TEST_RUN(test_hmac_rfc2202);
    TEST_RUN(test_aliyun_example);
    return TEST_DONE();
}
