/* test_str_dirname.c — str_dirname (base/str.h): the directory beside a file as serve's key check and
 * the key file's fsync use it — "." for a bare name, "/" for a file at the root, the path up to its
 * last slash otherwise (a trailing slash names the directory itself), and false with an empty out
 * when the directory does not fit. */
#include <stdbool.h>
#include <string.h>

#include "base/str.h"
#include "test.h"

static void check(const char *path, const char *want)
{
    char out[64] = "junk";
    CHECK(str_dirname(path, out, sizeof out));
    CHECK_STR(out, want);
}

static void test_dirs(void)
{
    check("nuanxin.key", ".");
    check("/nuanxin.key", "/");
    check("/var/lib/nuanxin/nuanxin.key", "/var/lib/nuanxin");
    check("data/nuanxin.db", "data");
    check("./a", ".");
    check("/var/lib/", "/var/lib");
    check("", ".");
}

static void test_does_not_fit(void)
{
    char out[8] = "junk";
    CHECK(!str_dirname("/var/lib/nuanxin/x", out, sizeof out));
    CHECK_STR(out, "");
    CHECK(str_dirname("/abcdefg/x", out, sizeof out) == false);
    CHECK(str_dirname("/abcdef/x", out, sizeof out));
    CHECK_STR(out, "/abcdef");
    CHECK(!str_dirname("x", out, 0));
}

int main(void)
{
    TEST_RUN(test_dirs);
    TEST_RUN(test_does_not_fit);
    return TEST_DONE();
}
