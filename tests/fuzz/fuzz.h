/* fuzz.h — shared by the fuzz targets: the libFuzzer entry point and an invariant check that
 * aborts (so both libFuzzer and the plain replay runner report it). */
#ifndef NX_FUZZ_H
#define NX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                                    \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);                \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#endif
