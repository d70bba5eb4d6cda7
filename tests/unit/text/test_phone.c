/* test_phone.c — mobile and landline parsing (text/phone.h). */
#include <string.h>

#include "test.h"
#include "text/phone.h"

static void mobile_ok(const char *in, const char *want)
{
    char out[12];
    nx_err e;
    nx_err_clear(&e);
    int rc = phone_parse_mobile(in, out, &e);
    if (rc != 0) {
        t_failed++;
        fprintf(stderr, "phone_parse_mobile(\"%s\") = %d: %s\n", in, rc, e.msg);
        return;
    }
    CHECK_STR(out, want);
}

static void mobile_bad(const char *in, const char *want_msg)
{
    char out[12] = "x";
    nx_err e;
    nx_err_clear(&e);
    int rc = phone_parse_mobile(in, out, &e);
    if (rc != NX_EINVAL || strstr(e.msg, want_msg) == NULL) {
        t_failed++;
        fprintf(stderr, "phone_parse_mobile(\"%s\") = %d \"%s\", expected NX_EINVAL \"%s\"\n",
                in ? in : "(null)", rc, e.msg, want_msg);
        return;
    }
    t_passed++;
    CHECK_STR(e.field, "phone");
    CHECK_STR(out, "");
}

static void any_ok(const char *in, const char *want)
{
    char out[PHONE_MAX];
    nx_err e;
    nx_err_clear(&e);
    int rc = phone_parse_any(in, out, sizeof out, &e);
    if (rc != 0) {
        t_failed++;
        fprintf(stderr, "phone_parse_any(\"%s\") = %d: %s\n", in, rc, e.msg);
        return;
    }
    CHECK_STR(out, want);
}

static void any_bad(const char *in, const char *want_msg)
{
    char out[PHONE_MAX] = "x";
    nx_err e;
    nx_err_clear(&e);
    int rc = phone_parse_any(in, out, sizeof out, &e);
    if (rc != NX_EINVAL || strstr(e.msg, want_msg) == NULL) {
        t_failed++;
        fprintf(stderr, "phone_parse_any(\"%s\") = %d \"%s\" (out \"%s\"), expected \"%s\"\n",
                in ? in : "(null)", rc, e.msg, out, want_msg);
        return;
    }
    t_passed++;
    CHECK_STR(e.field, "phone");
    CHECK_STR(out, "");
}

static void test_mobile(void)
{
    mobile_ok("13812345678", "13812345678");
    mobile_ok("  138 1234 5678 ", "13812345678");
    mobile_ok("138-1234-5678", "13812345678");
    mobile_ok("+86 138 1234 5678", "13812345678");
    mobile_ok("+8613812345678", "13812345678");
    mobile_ok("+86-13812345678", "13812345678");
    mobile_ok("8613812345678", "13812345678");
    mobile_ok("86 13812345678", "13812345678");
    mobile_ok("0086 13812345678", "13812345678");
    mobile_ok("0086-138-1234-5678", "13812345678");
    mobile_ok("008613812345678", "13812345678");
    mobile_ok("19912345678", "19912345678");
    mobile_ok("15005310000", "15005310000");

    mobile_bad("12812345678", "13至19");
    mobile_bad("10012345678", "13至19");
    mobile_bad("23812345678", "13至19");
    mobile_bad("86 12812345678", "13至19");
    mobile_bad("1381234567", "当前为10位");
    mobile_bad("138123456789", "当前为12位");
    mobile_bad("0531-86123456", "11位"); /* a landline is not a mobile */
    mobile_bad("138a1234567", "只能包含");
    mobile_bad("138.1234.5678", "只能包含");
    mobile_bad("１３８１２３４５６７８", "只能包含"); /* full-width digits */
    mobile_bad("+1 415 555 1234", "+86");
    mobile_bad("13812+345678", "只能包含");
    mobile_bad("", "请填写");
    mobile_bad("   ", "请填写");
    mobile_bad("- -", "请填写");
    mobile_bad(NULL, "请填写");
    mobile_bad("1111111111111111111111111111111111111111111111111111111111111111111111", "过长");
    mobile_bad("1-2-3-4-5-6-7-8-9-0-1", "格式不正确");
}

static void test_any(void)
{
    any_ok("13812345678", "13812345678");
    any_ok("+86 138-1234-5678", "13812345678");
    any_ok("0531-86123456", "0531-86123456");
    any_ok(" 0531 86123456 ", "0531-86123456");
    any_ok("0531 8612 3456", "0531-86123456");
    any_ok("(0531)86123456", "0531-86123456");
    any_ok("(0531) 8612-3456", "0531-86123456");
    any_ok("053186123456", "0531-86123456");
    any_ok("010-12345678", "010-12345678");
    any_ok("01062345678", "010-62345678");
    any_ok("021-6123456", "021-6123456"); /* 7-digit local number */
    any_ok("02161234567", "021-61234567");
    any_ok("0534-2345678", "0534-2345678");
    any_ok("010-62345678-123", "010-62345678-123");
    any_ok("053186123456-8", "0531-86123456-8");
    any_ok("0531-86123456-123456", "0531-86123456-123456");
    any_ok("+86 531 86123456", "0531-86123456");
    any_ok("+86 10 62345678", "010-62345678");
    any_ok("0086 531 86123456", "0531-86123456");
    any_ok("+86 0531 86123456", "0531-86123456");

    any_bad("0531-0123456", "不能以0开头");
    any_bad("0531-123456", "7或8位");
    any_bad("0531-123456789", "7或8位");
    any_bad("05318612345678", "7或8位");
    any_bad("012-12345678", "区号");
    any_bad("011-12345678", "区号");
    any_bad("05-12345678", "区号");
    any_bad("05311-2345678", "7或8位"); /* area inferred as 0531, then "1" + 7 digits = 8 */
    any_bad("53186123456", "区号开头");
    any_bad("010-62345678-1234567", "分机号");
    any_bad("010-62345678-1-2", "分机号");
    any_bad("0531-86123456 转 123", "只能包含");
    any_bad("+44 20 7946 0000", "+86");
    any_bad("1381234567", "11位");
    any_bad("", "请填写");
    any_bad(NULL, "请填写");

    char small[8];
    nx_err e;
    CHECK_INT(phone_parse_any("13812345678", small, sizeof small, &e), NX_EINTERNAL);
}

int main(void)
{
    TEST_RUN(test_mobile);
    TEST_RUN(test_any);
    return TEST_DONE();
}
