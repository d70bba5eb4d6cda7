/* fuzz_upload.c — libFuzzer target for the upload sniffer (store/upload.h): uploads are raw request
 * bodies (the API takes no multipart form; docs/api.md), typed by their magic bytes and refused 415
 * when they are none of the accepted kinds. The first byte is the accept mask, the rest the body.
 * Invariants: no crash; a type found is one of the accepted, with a kind, a MIME type and an
 * extension; the same body under every accept mask that includes that type gives the same type, and
 * under a mask without it something else or nothing. Then the structure walk (upload_clean): no
 * crash and no read past the body; a refusal is NX_EINVAL on the field "file"; a cleaned file is at
 * most 64 bytes longer, starts as its type does, and cleaning it again gives the same bytes. */
#include "fuzz.h"

#include "store/upload.h"

#include <stdlib.h>
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

    unsigned char *out = NULL, *again = NULL;
    size_t out_n = 0, again_n = 0;
    nx_err e = {0};
    int rc = upload_clean(t, body, n, &out, &out_n, &e);
    if (rc) {
        FUZZ_ASSERT(rc == NX_EINVAL && strcmp(e.field, "file") == 0 && out == NULL);
        return 0;
    }
    FUZZ_ASSERT(out != NULL && out_n <= n + 64 && upload_sniff(out, out_n, t->bit) == t);
    FUZZ_ASSERT(upload_clean(t, out, out_n, &again, &again_n, &e) == 0);
    FUZZ_ASSERT(again_n == out_n && memcmp(again, out, out_n) == 0);
    free(again);
    free(out);
    return 0;
}
