/* test_config_file.c — the configuration file's messages (base/config.c): a key or value that is not
 * valid UTF-8, or holds a control character, is refused with a message that does not quote it, so
 * that no raw bytes reach the terminal or the log (found by fuzz_config: "li\xf3ten = …"). A
 * well-formed unknown key is still named. */
#include "base/config.h"
#include "base/str.h"

#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static int load(const char *text, nx_err *e)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -100;
    fputs(text, f);
    fclose(f);
    static nx_config c;
    config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "/nonexistent");
    snprintf(c.config_file, sizeof c.config_file, "%s", path);
    return config_load_file_env(&c, e);
}

static void expect_clean_refusal(const char *text, const char *what)
{
    nx_err e = {0};
    int rc = load(text, &e);
    CHECK_INT(rc, NX_EINVAL);
    CHECK(str_utf8_valid(e.msg, strlen(e.msg)));
    CHECK(str_utf8_valid(e.field, strlen(e.field)));
    CHECK(strchr(e.msg, 0x1b) == NULL);
    if (rc != NX_EINVAL || !str_utf8_valid(e.msg, strlen(e.msg)))
        fprintf(stderr, "  (%s)\n", what);
}

static void test_messages_quote_only_clean_text(void)
{
    expect_clean_refusal("li\xf3ten = 127.0.0.1:0\n", "a key with a byte that is not UTF-8");
    expect_clean_refusal("log_level = \xff\xfe\n", "a value that is not UTF-8");
    expect_clean_refusal("web_root = /srv/\x1b[31mred\n", "a value with an escape character");
    expect_clean_refusal("\x1b[2Jlisten = 127.0.0.1:0\n", "a key with an escape character");
    nx_err e = {0};
    CHECK_INT(load("colour = red\n", &e), NX_EINVAL);
    CHECK(strstr(e.msg, "colour") != NULL); /* a clean unknown key is named */
    CHECK_STR(e.field, "colour");
    CHECK_INT(load("listen = 127.0.0.1:0\nweb_root = /srv/网页\n", &e), 0);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/nx_test_config_%ld.conf", (long)getpid());
    TEST_RUN(test_messages_quote_only_clean_text);
    unlink(path);
    return TEST_DONE();
}
