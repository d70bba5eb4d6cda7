/* replay.c — runs a fuzz target over its checked-in seed corpus without libFuzzer, so every build
 * (gcc, with or without sanitizers) exercises the corpus as a unit test. Usage: <target>_replay DIR.
 * Each file is one input; an invariant failure aborts. Prints the harness's closing line. */
#include "fuzz.h"

#include <dirent.h>
#include <string.h>

#define INPUT_MAX (1u << 20)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "cannot open corpus %s\n", argv[1]);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    static uint8_t buf[INPUT_MAX];
    int runs = 0, failed = 0;
    LLVMFuzzerTestOneInput(buf, 0);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], ent->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            fprintf(stderr, "cannot read %s\n", path);
            failed++;
            continue;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        /* A fresh heap copy of exactly n bytes, so ASan sees any read past the input. */
        uint8_t *copy = malloc(n ? n : 1);
        if (copy == NULL)
            return 1;
        memcpy(copy, buf, n);
        LLVMFuzzerTestOneInput(copy, n);
        free(copy);
        runs++;
    }
    closedir(d);
    if (runs < 5) {
        fprintf(stderr, "corpus %s has only %d inputs\n", argv[1], runs);
        failed++;
    }
    printf("%d passed, %d failed\n", runs, failed);
    return failed ? 1 : 0;
}
