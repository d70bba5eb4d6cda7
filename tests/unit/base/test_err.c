/* test_err.c — the error convention (base/err.h): nx_fail fills code, field and message and returns
 * the code; a NULL field is "", a NULL e is accepted; a message longer than e->msg is cut, never
 * overrun; nx_failv does the same from a va_list (what a function with a printf message of its own
 * hands on); nx_err_clear empties e. */
#include <stdarg.h>
#include <string.h>

#include "base/err.h"
#include "test.h"

static int fail_with(nx_err *e, int code, const char *field, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_with(nx_err *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = nx_failv(e, code, field, fmt, ap);
    va_end(ap);
    return rc;
}

static void test_fail(void)
{
    nx_err e;
    nx_err_clear(&e);
    CHECK_INT(nx_fail(&e, NX_EINVAL, "name", "%s 不能超过 %d 个字", "名称", 40), NX_EINVAL);
    CHECK_INT(e.code, NX_EINVAL);
    CHECK_STR(e.field, "name");
    CHECK_STR(e.msg, "名称 不能超过 40 个字");
    CHECK_INT(nx_fail(&e, NX_ENOTFOUND, NULL, "居民不存在"), NX_ENOTFOUND);
    CHECK_STR(e.field, "");
    CHECK_STR(e.msg, "居民不存在");
    CHECK_INT(nx_fail(NULL, NX_EDB, "", "x"), NX_EDB);
    nx_err_clear(&e);
    CHECK_INT(e.code, NX_OK);
    CHECK_STR(e.field, "");
    CHECK_STR(e.msg, "");
}

static void test_failv(void)
{
    nx_err e;
    nx_err_clear(&e);
    CHECK_INT(fail_with(&e, NX_ECONFLICT, "code", "事项代码 %s 已存在（第 %d 项）", "old_age", 3), NX_ECONFLICT);
    CHECK_INT(e.code, NX_ECONFLICT);
    CHECK_STR(e.field, "code");
    CHECK_STR(e.msg, "事项代码 old_age 已存在（第 3 项）");
    CHECK_INT(fail_with(NULL, NX_EINVAL, "x", "%d", 1), NX_EINVAL);
    /* a message past e->msg is cut at its size, NUL-terminated, and the field likewise */
    char long_text[1000], long_field[200];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    memset(long_field, 'f', sizeof long_field - 1);
    long_field[sizeof long_field - 1] = '\0';
    CHECK_INT(fail_with(&e, NX_EINVAL, long_field, "%s!", long_text), NX_EINVAL);
    CHECK_INT(strlen(e.msg), sizeof e.msg - 1);
    CHECK_INT(strlen(e.field), sizeof e.field - 1);
    CHECK(e.msg[0] == 'a' && e.msg[sizeof e.msg - 2] == 'a');
}

int main(void)
{
    TEST_RUN(test_fail);
    TEST_RUN(test_failv);
    return TEST_DONE();
}
