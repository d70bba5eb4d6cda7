/* test_idcard.c — resident ID numbers and other identity documents (text/idcard.h).
 *
 * Check digits used below were computed by hand with the GB 11643-1999 weights
 * 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 and the map "10X98765432" (index = sum mod 11):
 *   11010519491231002X (the standard's own example): sum 167, 167 mod 11 = 2 → 'X'.
 *   440524188001010014 (the standard's second example): sum 195, mod 11 = 8 → '4'.
 *   37140219900101123?: sum 223, mod 11 = 3 → '9'.
 *   81000019990101123?: sum 193, mod 11 = 6 → '6'.
 *   83000019990101123?: sum 211, mod 11 = 2 → 'X'.
 *   93784019850607001?: sum 397, mod 11 = 1 → '0'. */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "text/idcard.h"

/* Pin "today" to 2025-06-15 12:00 in Shanghai. */
static void pin_today(void)
{
    nx_date d = {2025, 6, 15};
    clock_pin_ms(date_to_days(d) * 86400000LL + 4LL * 3600 * 1000);
}

/* Expect idcard_parse to fail with NX_EINVAL, field id_number, a message containing want and not
 * containing the number's first digits. */
static void expect_bad(const char *s, const char *want)
{
    nx_err e;
    nx_err_clear(&e);
    char norm[19] = "unchanged";
    int rc = idcard_parse(s, norm, NULL, &e);
    CHECK_INT(rc, NX_EINVAL);
    CHECK_INT(e.code, NX_EINVAL);
    CHECK_STR(e.field, "id_number");
    if (strstr(e.msg, want) == NULL) {
        t_failed++;
        fprintf(stderr, "input \"%s\": message \"%s\" lacks \"%s\"\n", s, e.msg, want);
    }
    if (strlen(s) >= 6 && strstr(e.msg, "1101051") != NULL)
        CHECK(!"message repeats the number");
}

static void test_check_digit(void)
{
    CHECK_INT(idcard_check_digit("11010519491231002"), 'X');
    CHECK_INT(idcard_check_digit("44052418800101001"), '4');
    CHECK_INT(idcard_check_digit("37140219900101123"), '9');
    CHECK_INT(idcard_check_digit("81000019990101123"), '6');
    CHECK_INT(idcard_check_digit("83000019990101123"), 'X');
    CHECK_INT(idcard_check_digit("93784019850607001"), '0');
    /* Extra characters after 17 digits are ignored. */
    CHECK_INT(idcard_check_digit("11010519491231002X"), 'X');
    CHECK_INT(idcard_check_digit("1101051949123100"), 0);  /* 16 digits */
    CHECK_INT(idcard_check_digit("1101051949123100A"), 0); /* a letter */
    CHECK_INT(idcard_check_digit(""), 0);
    CHECK_INT(idcard_check_digit(NULL), 0);
}

static void test_parse_valid(void)
{
    char norm[19];
    idcard_info info;
    nx_err e;

    CHECK_INT(idcard_parse("11010519491231002X", norm, &info, &e), 0);
    CHECK_STR(norm, "11010519491231002X");
    CHECK_INT(info.birth.y, 1949);
    CHECK_INT(info.birth.m, 12);
    CHECK_INT(info.birth.d, 31);
    CHECK_INT(info.sex, 2); /* 17th digit 2: even */
    CHECK_STR(info.region, "110105");

    /* Lower-case x and surrounding spaces. */
    CHECK_INT(idcard_parse("  11010519491231002x\t", norm, &info, &e), 0);
    CHECK_STR(norm, "11010519491231002X");

    CHECK_INT(idcard_parse("371402199001011239", norm, &info, &e), 0);
    CHECK_STR(norm, "371402199001011239");
    CHECK_INT(info.sex, 1); /* 17th digit 3: odd */
    CHECK_INT(info.birth.y, 1990);
    CHECK_INT(info.birth.m, 1);
    CHECK_INT(info.birth.d, 1);
    CHECK_STR(info.region, "371402");

    /* NULL norm and info are allowed. */
    CHECK_INT(idcard_parse("371402199001011239", NULL, NULL, NULL), 0);

    /* Born today is fine; 29 February of a leap year too (check digits from the verified
     * function above). */
    char buf[19];
    memcpy(buf, "37010220250615001", 17);
    buf[17] = idcard_check_digit(buf);
    buf[18] = '\0';
    CHECK_INT(idcard_parse(buf, norm, &info, &e), 0);
    memcpy(buf, "37010220000229002", 17);
    buf[17] = idcard_check_digit(buf);
    CHECK_INT(idcard_parse(buf, norm, &info, &e), 0);
    CHECK_INT(info.birth.m, 2);
    CHECK_INT(info.birth.d, 29);
    CHECK_INT(info.sex, 2);
}

static void test_parse_invalid(void)
{
    /* Wrong check digits: 4 instead of 9; 0 instead of X. */
    expect_bad("371402199001011234", "校验位");
    expect_bad("110105194912310020", "校验位");
    /* Length. */
    expect_bad("11010519491231002", "应为18位，当前为17位");
    expect_bad("11010519491231002X1", "当前为19位");
    expect_bad("", "当前为0位");
    expect_bad("   ", "当前为0位");
    /* Characters. */
    expect_bad("11010519491231002Y", "只能由数字");
    expect_bad("110105 19491231002X", "只能由数字");
    expect_bad("１１０１０５１９４９１２３１００２Ｘ", "只能由数字"); /* full-width */
    expect_bad("1101051949123100X2", "只能出现在最后一位");
    /* Region: 00, 10, 83 (Taiwan residence permits are not ID cards), 99. */
    expect_bad("000105194912310021", "行政区划");
    expect_bad("100105194912310021", "行政区划");
    expect_bad("830000199901011236", "行政区划");
    expect_bad("990105194912310021", "行政区划");
    /* Birth dates: 29 Feb 1999, month 13, day 00, 31 April — each with a correct check digit so
     * that only the date can be blamed. */
    const char *bad_dates[] = {"37010219990229123", "37010219991301123", "37010219990100123",
                               "37010219990431123"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
        char buf[19];
        memcpy(buf, bad_dates[i], 17);
        buf[17] = idcard_check_digit(buf);
        buf[18] = '\0';
        expect_bad(buf, "出生日期不存在");
    }
    /* Before 1890: the standard's own 1880 example has a right check digit but is refused. */
    expect_bad("440524188001010014", "早于1890年");
    /* The future: tomorrow relative to the pinned 2025-06-15. */
    char fut[19];
    memcpy(fut, "37010220250616001", 17);
    fut[17] = idcard_check_digit(fut);
    fut[18] = '\0';
    expect_bad(fut, "晚于今天");

    nx_err e;
    CHECK_INT(idcard_parse(NULL, NULL, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "id_number");
    /* info untouched on failure is not promised, but norm must not be half-written. */
    char norm[19] = "keep";
    CHECK_INT(idcard_parse("371402199001011234", norm, NULL, NULL), NX_EINVAL);
    CHECK_STR(norm, "keep");
}

static void test_types(void)
{
    CHECK_STR(id_type_code(ID_CARD), "id_card");
    CHECK_STR(id_type_code(ID_PASSPORT), "passport");
    CHECK_STR(id_type_code(ID_HK_MACAU), "hk_macau");
    CHECK_STR(id_type_code(ID_TAIWAN), "taiwan");
    CHECK_STR(id_type_code(ID_FOREIGN_PERMANENT), "foreign_permanent");
    CHECK(id_type_code(0) == NULL);
    CHECK(id_type_code(6) == NULL);
    CHECK_INT(id_type_parse("id_card"), ID_CARD);
    CHECK_INT(id_type_parse("foreign_permanent"), ID_FOREIGN_PERMANENT);
    CHECK_INT(id_type_parse("taiwan"), ID_TAIWAN);
    CHECK_INT(id_type_parse("ID_CARD"), 0);
    CHECK_INT(id_type_parse(""), 0);
    CHECK_INT(id_type_parse(NULL), 0);
    CHECK_STR(id_type_label(ID_CARD), "居民身份证");
    CHECK_STR(id_type_label(ID_PASSPORT), "护照");
    CHECK_STR(id_type_label(ID_FOREIGN_PERMANENT), "外国人永久居留身份证");
    CHECK(id_type_label(-1) == NULL);
}

/* Expect id_doc_parse to accept s as want (norm); returns the info for further checks. */
static idcard_info doc_ok(int type, const char *s, const char *want)
{
    char norm[ID_DOC_MAX];
    idcard_info info;
    nx_err e;
    nx_err_clear(&e);
    int rc = id_doc_parse(type, s, norm, sizeof norm, &info, &e);
    if (rc != 0) {
        t_failed++;
        fprintf(stderr, "id_doc_parse(%d, \"%s\") = %d: %s\n", type, s, rc, e.msg);
    } else {
        CHECK_STR(norm, want);
    }
    return info;
}

static void doc_bad(int type, const char *s)
{
    char norm[ID_DOC_MAX] = "x";
    nx_err e;
    nx_err_clear(&e);
    int rc = id_doc_parse(type, s, norm, sizeof norm, NULL, &e);
    if (rc != NX_EINVAL) {
        t_failed++;
        fprintf(stderr, "id_doc_parse(%d, \"%s\") = %d, expected NX_EINVAL\n", type, s, rc);
    } else {
        t_passed++;
        CHECK_STR(norm, "");
        CHECK(e.msg[0] != '\0');
    }
}

static void test_doc_parse(void)
{
    idcard_info info = doc_ok(ID_CARD, "11010519491231002x", "11010519491231002X");
    CHECK_INT(info.sex, 2);
    doc_bad(ID_CARD, "371402199001011234");

    info = doc_ok(ID_PASSPORT, " e12345678 ", "E12345678");
    CHECK_INT(info.sex, 0);
    CHECK_STR(info.region, "");
    doc_ok(ID_PASSPORT, "EA1234567", "EA1234567");
    doc_ok(ID_PASSPORT, "E1234", "E1234");
    doc_ok(ID_PASSPORT, "AB1234567890CD345678", "AB1234567890CD345678"); /* 20 */
    doc_bad(ID_PASSPORT, "E123");
    doc_bad(ID_PASSPORT, "AB1234567890CD3456789"); /* 21 */
    doc_bad(ID_PASSPORT, "E1234 5678");
    doc_bad(ID_PASSPORT, "E1234-5678");
    doc_bad(ID_PASSPORT, "");

    doc_ok(ID_HK_MACAU, "h12345678", "H12345678");
    doc_ok(ID_HK_MACAU, "M1234567890", "M1234567890");
    info = doc_ok(ID_HK_MACAU, "810000199901011236", "810000199901011236");
    CHECK_INT(info.sex, 1);
    CHECK_INT(info.birth.y, 1999);
    CHECK_STR(info.region, "810000");
    doc_bad(ID_HK_MACAU, "810000199901011235"); /* check digit */
    doc_bad(ID_HK_MACAU, "11010519491231002X"); /* an ID card, not a permit */
    doc_bad(ID_HK_MACAU, "H1234567");
    doc_bad(ID_HK_MACAU, "H123456789");
    doc_bad(ID_HK_MACAU, "A12345678");
    doc_bad(ID_HK_MACAU, "12345678");

    doc_ok(ID_TAIWAN, "12345678", "12345678");
    info = doc_ok(ID_TAIWAN, "83000019990101123x", "83000019990101123X");
    CHECK_INT(info.sex, 1);
    doc_bad(ID_TAIWAN, "830000199901011236");
    doc_bad(ID_TAIWAN, "810000199901011236");
    doc_bad(ID_TAIWAN, "1234567");
    doc_bad(ID_TAIWAN, "123456789");
    doc_bad(ID_TAIWAN, "T2345678");

    doc_ok(ID_FOREIGN_PERMANENT, "usa310078010812", "USA310078010812");
    info = doc_ok(ID_FOREIGN_PERMANENT, "937840198506070010", "937840198506070010");
    CHECK_INT(info.birth.y, 1985);
    CHECK_INT(info.birth.m, 6);
    CHECK_INT(info.birth.d, 7);
    CHECK_INT(info.sex, 1);
    doc_bad(ID_FOREIGN_PERMANENT, "937840198506070011");
    doc_bad(ID_FOREIGN_PERMANENT, "907840198506070010"); /* province 07 */
    doc_bad(ID_FOREIGN_PERMANENT, "US1310078010812");
    doc_bad(ID_FOREIGN_PERMANENT, "USA31007801081");

    char norm[ID_DOC_MAX];
    nx_err e;
    /* neither form of a two-form document: one message naming both, on the field id_number */
    CHECK_INT(id_doc_parse(ID_HK_MACAU, "H1234-5678", norm, sizeof norm, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "id_number");
    CHECK_STR(e.msg, "港澳居民来往内地通行证号码应为H或M加8位或10位数字；港澳居民居住证号码应为810000或820000开头的18位号码");
    CHECK_INT(id_doc_parse(ID_TAIWAN, "1234567", norm, sizeof norm, NULL, &e), NX_EINVAL);
    CHECK_STR(e.msg, "台湾居民来往大陆通行证号码应为8位数字；台湾居民居住证号码应为830000开头的18位号码");
    CHECK_INT(id_doc_parse(ID_FOREIGN_PERMANENT, "USA31007801081", norm, sizeof norm, NULL, &e), NX_EINVAL);
    CHECK_STR(e.msg, "外国人永久居留身份证号码应为3位字母加12位数字，或以9开头的18位号码");
    CHECK_STR(norm, "");
    CHECK_INT(id_doc_parse(9, "E12345678", norm, sizeof norm, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "id_type");
    CHECK_INT(id_doc_parse(ID_PASSPORT, "E12345678", norm, 10, NULL, &e), NX_EINTERNAL);
    CHECK_INT(id_doc_parse(ID_PASSPORT, NULL, norm, sizeof norm, NULL, &e), NX_EINVAL);
}

static void test_fake(void)
{
    char out[19];
    /* Index 5 is 371402 (德城区); order 2*61+1 = 123: the hand-checked number above. */
    CHECK_INT(idcard_fake(5, (nx_date){1990, 1, 1}, 1, 61, out), 0);
    CHECK_STR(out, "371402199001011239");
    CHECK_INT(idcard_fake(5 + idcard_fake_region_count(), (nx_date){1990, 1, 1}, 1, 61, out), 0);
    CHECK_STR(out, "371402199001011239");

    int bad = 0;
    for (unsigned r = 0; r < idcard_fake_region_count(); r++) {
        for (unsigned seq = 0; seq < 500; seq += 7) {
            nx_date b = {1930 + (int)(seq % 90), 1 + (int)(seq % 12), 1 + (int)(seq % 28)};
            int sex = 1 + (int)(seq % 2);
            idcard_info info;
            char norm[19];
            if (idcard_fake(r, b, sex, seq, out) != 0 || idcard_parse(out, norm, &info, NULL) != 0 ||
                strcmp(norm, out) != 0 || info.sex != sex || info.birth.y != b.y || info.birth.m != b.m ||
                info.birth.d != b.d)
                bad++;
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(idcard_fake(0, (nx_date){1990, 1, 1}, 2, 499, out), 0);
    CHECK(memcmp(out + 14, "998", 3) == 0);
    CHECK_INT(idcard_fake(0, (nx_date){1990, 1, 1}, 1, 0, out), 0);
    CHECK(memcmp(out + 14, "001", 3) == 0);

    CHECK_INT(idcard_fake(0, (nx_date){1990, 1, 1}, 1, 500, out), NX_EINVAL);
    CHECK_STR(out, "");
    CHECK_INT(idcard_fake(0, (nx_date){1990, 1, 1}, 3, 1, out), NX_EINVAL);
    CHECK_INT(idcard_fake(0, (nx_date){1990, 1, 1}, 0, 1, out), NX_EINVAL);
    CHECK_INT(idcard_fake(0, (nx_date){1999, 2, 29}, 1, 1, out), NX_EINVAL);
    CHECK_INT(idcard_fake(0, (nx_date){1889, 12, 31}, 1, 1, out), NX_EINVAL);
    CHECK_INT(idcard_fake(0, (nx_date){2025, 6, 16}, 1, 1, out), NX_EINVAL);
}

int main(void)
{
    pin_today();
    TEST_RUN(test_check_digit);
    TEST_RUN(test_parse_valid);
    TEST_RUN(test_parse_invalid);
    TEST_RUN(test_types);
    TEST_RUN(test_doc_parse);
    TEST_RUN(test_fake);
    clock_pin_ms(0);
    return TEST_DONE();
}
