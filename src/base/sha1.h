/* sha1.h — SHA-1 and HMAC-SHA1 (RFC 3174, RFC 2104), for the one place that needs them: request
 * signatures of providers that still sign with HMAC-SHA1 (Aliyun's RPC-style APIs, notify/sms.c).
 * Not for anything new: libsodium (SHA-256, HMAC-SHA-256) is the project's hash. Pure functions,
 * thread-safe, no allocation. */
#ifndef NX_BASE_SHA1_H
#define NX_BASE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_BYTES 20

/* The SHA-1 digest of n bytes at p into out. */
void sha1(const void *p, size_t n, unsigned char out[SHA1_BYTES]);
/* HMAC-SHA1 of msg (mlen bytes) under key (klen bytes, any length) into out. */
void hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[SHA1_BYTES]);

#endif
