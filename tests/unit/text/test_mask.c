/* test_mask.c — display masks (text/mask.h). */
#include <string.h>

#include "test.h"
#include "text/mask.h"

typedef void (*mask_fn)(const char *, char *, size_t);

static const char *run(mask_fn f, const char *in, size_t n)
{
    static char out[128];
    memset(out, 'Z', sizeof out);
    f(in, out, n);
    return out;
}

static void test_id(void)
{
    /* An ID card keeps the province and city only: nothing of the birth date, sequence or check
     * digit, which a birth date shown beside it would otherwise complete (docs/security.md §5). */
    CHECK_STR(run(mask_id, "371402199001011234", 64), "3714**************");
    CHECK_STR(run(mask_id, "11010519491231002X", 64), "1101**************");
    CHECK_STR(run(mask_id, "110105491231002", 64), "1101***********"); /* the old 15 digits */
    /* Other documents keep 2 + 2 (a passport kept 8 of its 9 characters before). */
    CHECK_STR(run(mask_id, "USA310078010812", 64), "US***********12");
    CHECK_STR(run(mask_id, "123456789", 64), "12*****89");
    CHECK_STR(run(mask_id, "E12345678", 64), "E1*****78");
    CHECK_STR(run(mask_id, "1234567890123456X", 64), "12*************6X"); /* 17: not an ID card */
    CHECK_STR(run(mask_id, "H1234567", 64), "******67"); /* 8: only the last 2 */
    CHECK_STR(run(mask_id, "12345678", 64), "******78");
    CHECK_STR(run(mask_id, "123", 64), "*23");
    CHECK_STR(run(mask_id, "12", 64), "**");
    CHECK_STR(run(mask_id, "1", 64), "*");
    CHECK_STR(run(mask_id, "", 64), "");
    CHECK_STR(run(mask_id, NULL, 64), "");
    /* Short buffers: truncated, terminated, never overrun. */
    CHECK_STR(run(mask_id, "371402199001011234", 6), "3714*");
    CHECK_STR(run(mask_id, "371402199001011234", 1), "");
    char out[4] = "abc";
    mask_id("371402199001011234", out, 0);
    CHECK_STR(out, "abc");
    /* Invalid UTF-8 is not interpreted. */
    CHECK_STR(run(mask_id, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", 64), "****");
}

static void test_phone(void)
{
    CHECK_STR(run(mask_phone, "13812345678", 64), "138****5678");
    CHECK_STR(run(mask_phone, "0531-86123456", 64), "0531-******56");
    CHECK_STR(run(mask_phone, "010-62345678", 64), "010-******78");
    CHECK_STR(run(mask_phone, "010-62345678-123", 64), "010-********-*23");
    CHECK_STR(run(mask_phone, "053186123456", 64), "0531******56");
    CHECK_STR(run(mask_phone, "01062345678", 64), "010******78");
    CHECK_STR(run(mask_phone, "12345", 64), "***45");
    CHECK_STR(run(mask_phone, "", 64), "");
    CHECK_STR(run(mask_phone, NULL, 64), "");
    CHECK_STR(run(mask_phone, "138\xc0", 64), "****");
    CHECK_STR(run(mask_phone, "13812345678", 8), "138****");
}

static void test_address(void)
{
    CHECK_STR(run(mask_address, "幸福里小区3号楼2单元401", 64), "幸福里小区3****");
    CHECK_STR(run(mask_address, "德州市德城区新湖大街", 64), "德州市德城区****");
    CHECK_STR(run(mask_address, "幸福里小区3", 64), "幸福里****"); /* 6: keep half */
    CHECK_STR(run(mask_address, "3号楼", 64), "3****");
    CHECK_STR(run(mask_address, "楼", 64), "****");
    CHECK_STR(run(mask_address, "No. 12 Main Street", 64), "No. 12****");
    CHECK_STR(run(mask_address, "", 64), "");
    CHECK_STR(run(mask_address, NULL, 64), "");
    /* 10 bytes hold three 3-byte characters and the NUL: the fourth is not cut in half. */
    CHECK_STR(run(mask_address, "幸福里小区3号楼2单元401", 10), "幸福里");
    CHECK_STR(run(mask_address, "幸福里小区3号楼2单元401", 12), "幸福里");
    CHECK_STR(run(mask_address, "幸福里小区3号楼2单元401", 3), "");
    /* Truncated sequence, lone continuation byte, overlong encoding. */
    CHECK_STR(run(mask_address, "幸福里小区3号楼\xe5\xb9", 64), "****");
    CHECK_STR(run(mask_address, "\x80幸福里小区", 64), "****");
    CHECK_STR(run(mask_address, "\xc0\xaf", 64), "****");
}

static void test_name(void)
{
    CHECK_STR(run(mask_name, "王建国", 64), "王*国");
    CHECK_STR(run(mask_name, "王伟", 64), "王*");
    CHECK_STR(run(mask_name, "王", 64), "*");
    CHECK_STR(run(mask_name, "欧阳建国", 64), "欧**国");
    CHECK_STR(run(mask_name, "阿卜杜拉·买买提", 64), "阿******提");
    CHECK_STR(run(mask_name, "Anna", 64), "A**a");
    CHECK_STR(run(mask_name, "", 64), "");
    CHECK_STR(run(mask_name, NULL, 64), "");
    CHECK_STR(run(mask_name, "王建国", 4), "王");
    CHECK_STR(run(mask_name, "王建国", 5), "王*");
    CHECK_STR(run(mask_name, "\xe7\x8e", 64), "****");
    CHECK_STR(run(mask_name, "王\xff", 3), "**"); /* "****" cut to fit 3 bytes */
}

int main(void)
{
    TEST_RUN(test_id);
    TEST_RUN(test_phone);
    TEST_RUN(test_address);
    TEST_RUN(test_name);
    return TEST_DONE();
}
