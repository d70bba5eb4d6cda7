/* fuzz_upload.c — libFuzzer target for the upload sniffer (store/upload.h): uploads are raw request
 * bodies (the API takes no multipart form; docs/api.md), typed by their magic bytes and refused 415
 * when they are none of the accepted kinds. The first byte is the accept mask, the rest the body.
 * Invariants: no crash; a type found is one of the accepted, with a kind, a MIME type and an
 * extension; the same body under every accept mask that includes that type gives the same type, and
 * under a mask without it something else or nothing. */
#include "fuzz.h"

#include "store/upload.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned accept = data[0] & 0xfu;
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    const upload_type *t = upload_sniff(body, n, accept);
    if (t == NULL)
        return 0;
    FUZZ_ASSERT((t->bit & accept) != 0);
    FUZZ_ASSERT(t->kind && t->mime && t->ext && t->kind[0] && t->mime[0] && t->ext[0]);
    FUZZ_ASSERT(upload_sniff(body, n, 0xfu) == t);
    FUZZ_ASSERT(upload_sniff(body, n, t->bit) == t);
    FUZZ_ASSERT(upload_sniff(body, n, 0xfu & ~t->bit) != t);
    return 0;
}
