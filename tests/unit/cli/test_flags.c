/* test_flags.c — the subcommands' flag parser: both spellings of a value, every kind with its range
 * and its error line, positionals and their limit, unknown flags, a missing value, values that
 * look like flags, and that absent flags keep their defaults. Error lines are read back from
 * stderr (redirected to a temporary file around each parse). */
#include "test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/flags.h"

static const char *const modes[] = {"normal", "flood", "hold", "probe", NULL};

/* What one parse wrote, and what it said on stderr. */
typedef struct {
    const char *str;
    int64_t num;
    double real;
    bool on;
    int mode;
    const char *pos[2];
    int npos;
    int rc;
    char err[512];
} result;

/* cli_flags_parse with what it says on stderr caught in err. */
static int parse_caught(const cli_flag *flags, size_t nflags, int argc, char **argv, const char **pos, int maxpos,
                        int *npos, char *err, size_t errn)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int rc = cli_flags_parse(flags, nflags, argc, argv, 1, pos, maxpos, npos);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, errn - 1, tmp);
    err[n] = '\0';
    fclose(tmp);
    return rc;
}

/* Parse the NULL-terminated words (after a program name) with the test table; maxpos positionals. */
static result parse(int maxpos, const char *const *words)
{
    result r = {.str = "default", .num = 7, .real = 0.5, .on = false, .mode = 0};
    cli_flag flags[] = {
        CLI_STR("--name", &r.str, "a string"),
        CLI_INT("--count", &r.num, 10, 2000, NULL, "a number"),
        CLI_INT("--id", &r.num, 1, INT64_MAX, "居民编号", "an id"),
        CLI_REAL("--rate", &r.real, 0, 1, "a rate"),
        CLI_BOOL("--on", &r.on, "a switch"),
        CLI_CHOICE("--mode", &r.mode, modes, "a mode"),
    };
    char *argv[16];
    int argc = 0;
    argv[argc++] = "nuanxin";
    for (int i = 0; words[i] && argc < 15; i++)
        argv[argc++] = (char *)words[i];
    argv[argc] = NULL;
    r.rc = parse_caught(flags, sizeof flags / sizeof flags[0], argc, argv, r.pos, maxpos, &r.npos, r.err,
                        sizeof r.err);
    return r;
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_values_and_defaults(void)
{
    result r = parse(0, WORDS("--name", "x y", "--count=20", "--rate", "0.25", "--on", "--mode", "hold"));
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.str, "x y");
    CHECK_INT(r.num, 20);
    CHECK(r.real == 0.25);
    CHECK(r.on);
    CHECK_INT(r.mode, 2);
    CHECK_STR(r.err, "");

    r = parse(0, (const char *const[]){NULL});
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.str, "default");
    CHECK_INT(r.num, 7);
    CHECK(r.real == 0.5);
    CHECK(!r.on);
    CHECK_INT(r.mode, 0);

    /* a value is taken as it is, even when it starts with '-'; the last of two wins */
    r = parse(0, WORDS("--name", "-x", "--name", "--count"));
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.str, "--count");
    r = parse(0, WORDS("--name="));
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.str, "");
    r = parse(0, WORDS("--on=false"));
    CHECK_INT(r.rc, 0);
    CHECK(!r.on);
}

static void test_ranges_and_errors(void)
{
    static const struct {
        const char *words[3];
        const char *err; /* NULL: accepted */
    } cases[] = {
        {{"--count", "9"}, "nuanxin: --count 应为 10 到 2000 之间的整数\n"},
        {{"--count", "2000"}, NULL},
        {{"--count", "12abc"}, "nuanxin: --count 应为 10 到 2000 之间的整数\n"},
        {{"--id=0"}, "nuanxin: --id 应为居民编号\n"},
        {{"--rate", "1.5"}, "nuanxin: --rate 应为 0 到 1 之间的数\n"},
        {{"--rate", ""}, "nuanxin: --rate 应为 0 到 1 之间的数\n"},
        {{"--rate", "nan"}, "nuanxin: --rate 应为 0 到 1 之间的数\n"},
        {{"--rate", "1"}, NULL},
        {{"--mode", "fast"}, "nuanxin: --mode 应为 normal、flood、hold 或 probe\n"},
        {{"--on=maybe"}, "nuanxin: --on 应为 true 或 false\n"},
        {{"--count"}, "nuanxin: --count 需要一个值\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result r = parse(0, cases[i].words);
        CHECK_INT(r.rc, cases[i].err ? 2 : 0);
        CHECK_STR(r.err, cases[i].err ? cases[i].err : "");
        if (cases[i].err)
            CHECK_INT(r.num, 7); /* a refused value leaves the default */
    }
}

static void test_unknown_and_positionals(void)
{
    result r = parse(0, WORDS("--counts", "3"));
    CHECK_INT(r.rc, 2);
    CHECK(strncmp(r.err, "nuanxin: 未知参数 --counts\n", strlen("nuanxin: 未知参数 --counts\n")) == 0);
    CHECK(strstr(r.err, "  --count ") != NULL); /* the table's help follows */
    r = parse(0, WORDS("-c"));
    CHECK_INT(r.rc, 2);
    r = parse(0, WORDS("extra"));
    CHECK_INT(r.rc, 2);
    CHECK_STR(r.err, "nuanxin: 多余的参数 extra\n");

    r = parse(2, WORDS("a", "--count", "11", "-"));
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.npos, 2);
    CHECK_STR(r.pos[0], "a");
    CHECK_STR(r.pos[1], "-");
    CHECK_INT(r.num, 11);
    r = parse(2, WORDS("a", "b", "c"));
    CHECK_INT(r.rc, 2);
    CHECK_STR(r.err, "nuanxin: 多余的参数 c\n");

    /* no table at all: only positionals */
    char *argv[] = {"nuanxin", "--x", NULL}, err[128];
    CHECK_INT(parse_caught(NULL, 0, 2, argv, NULL, 0, NULL, err, sizeof err), 2);
    CHECK_STR(err, "nuanxin: 未知参数 --x\n");
    CHECK_INT(parse_caught(NULL, 0, 1, argv, NULL, 0, NULL, err, sizeof err), 0);
}

int main(void)
{
    TEST_RUN(test_values_and_defaults);
    TEST_RUN(test_ranges_and_errors);
    TEST_RUN(test_unknown_and_positionals);
    return TEST_DONE();
}
