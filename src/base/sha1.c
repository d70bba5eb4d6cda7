/* sha1.c — SHA-1 (RFC 3174) and HMAC-SHA1 (RFC 2104).
 *
 * The digest runs over 64-byte blocks with the standard 80-round compression; the message is padded
 * with 0x80, zeros and its bit length (big-endian) to a multiple of 64 bytes. HMAC hashes a key
 * longer than a block first, then H((K ^ opad) || H((K ^ ipad) || msg)). Intermediate key material
 * is wiped before returning. Tested against RFC 2202's HMAC-SHA1 vectors and Aliyun's documented
 * signature example (tests/unit/notify/test_sms_sign.c). */
#include "base/sha1.h"

#include <sodium.h>
#include <string.h>

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t len; /* bytes so far */
    unsigned char buf[64];
    size_t used;
} sha1_ctx;

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void block(sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & cc) | (~b & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = b ^ cc ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (b & cc) | (b & d) | (cc & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ cc ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = cc;
        cc = rol(b, 30);
        b = a;
        a = t;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    sodium_memzero(w, sizeof w);
}

static void init(sha1_ctx *c)
{
    static const uint32_t h0[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    memcpy(c->h, h0, sizeof h0);
    c->len = 0;
    c->used = 0;
}

static void update(sha1_ctx *c, const unsigned char *p, size_t n)
{
    c->len += n;
    while (n) {
        size_t take = 64 - c->used < n ? 64 - c->used : n;
        memcpy(c->buf + c->used, p, take);
        c->used += take;
        p += take;
        n -= take;
        if (c->used == 64) {
            block(c, c->buf);
            c->used = 0;
        }
    }
}

static void final(sha1_ctx *c, unsigned char out[SHA1_BYTES])
{
    uint64_t bits = c->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    update(c, &pad, 1);
    while (c->used != 56)
        update(c, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    update(c, lenb, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
    sodium_memzero(c, sizeof *c);
}

void sha1(const void *p, size_t n, unsigned char out[SHA1_BYTES])
{
    sha1_ctx c;
    init(&c);
    update(&c, p, n);
    final(&c, out);
}

void hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[SHA1_BYTES])
{
    unsigned char k[64] = {0}, pad[64], inner[SHA1_BYTES];
    if (klen > 64)
        sha1(key, klen, k);
    else
        memcpy(k, key, klen);
    sha1_ctx c;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    init(&c);
    update(&c, pad, 64);
    update(&c, msg, mlen);
    final(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    init(&c);
    update(&c, pad, 64);
    update(&c, inner, SHA1_BYTES);
    final(&c, out);
    sodium_memzero(k, sizeof k);
    sodium_memzero(pad, sizeof pad);
    sodium_memzero(inner, sizeof inner);
}
