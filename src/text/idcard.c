/* idcard.c — resident ID numbers (GB 11643-1999) and the other identity documents.
 *
 * An 18-character ID number is six digits of administrative region (GB/T 2260), eight digits of
 * birth date (YYYYMMDD), a three-digit sequence whose parity gives the sex (odd 男, even 女) and a
 * check character: with weights w_i = 2^(17-i) mod 11 over the first 17 digits, the check is
 * "10X98765432"[sum mod 11]. Hong Kong/Macau/Taiwan residence permits (港澳台居民居住证) and the
 * 2023 foreign permanent residence ID use the same layout and checksum with special prefixes
 * (810000, 820000, 830000; a leading 9), so one routine, check18(), validates all of them and only
 * the region rule differs.
 *
 * Messages are for staff typing a number off a card: each failure gets its own sentence so they
 * know what to look at, but no message repeats the number or the expected check digit (messages
 * may be logged and must not carry personal data).
 *
 * Everything here is pure and thread-safe; "today" comes from base/clock (pinnable in tests). */
#include "text/idcard.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define FIELD "id_number"

static const char *const type_codes[] = {NULL,       "id_card", "passport",
                                         "hk_macau", "taiwan",  "foreign_permanent"};
static const char *const type_labels[] = {NULL,
                                          "居民身份证",
                                          "护照",
                                          "港澳居民来往内地通行证/居住证",
                                          "台湾居民来往大陆通行证/居住证",
                                          "外国人永久居留身份证"};
#define TYPE_COUNT 5

const char *id_type_code(int type)
{
    return type >= 1 && type <= TYPE_COUNT ? type_codes[type] : NULL;
}

int id_type_parse(const char *code)
{
    if (code == NULL)
        return 0;
    for (int i = 1; i <= TYPE_COUNT; i++)
        if (strcmp(code, type_codes[i]) == 0)
            return i;
    return 0;
}

const char *id_type_label(int type)
{
    return type >= 1 && type <= TYPE_COUNT ? type_labels[type] : NULL;
}

char idcard_check_digit(const char *first17)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[] = "10X98765432";
    if (first17 == NULL)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!isdigit((unsigned char)first17[i]))
            return 0; /* also stops at a NUL, so short strings are never overrun */
        sum += (first17[i] - '0') * weights[i];
    }
    return map[sum % 11];
}

/* Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macau included). */
static bool province_valid(int code)
{
    static const int codes[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42,
                                43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == code)
            return true;
    return false;
}

static int digits_value(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* How check18 judges the first six characters. */
enum region_rule {
    REGION_PROVINCE, /* resident ID: a real province code in digits 1-2 */
    REGION_HK_MACAU, /* 810000 or 820000 */
    REGION_TAIWAN,   /* 830000 */
    REGION_FOREIGN,  /* '9' then a real province code in digits 2-3 */
};

/* Trim ASCII whitespace around s; the span is [*b, *b + *len). */
static void trim_span(const char *s, const char **b, size_t *len)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    *b = s;
    *len = n;
}

/* Validate an 18-character document number of the ID card layout. what is the document's Chinese
 * name for messages. On success copies the normalised number into norm[19] and fills info. */
static int check18(const char *s, enum region_rule rule, const char *what, char norm[19], idcard_info *info,
                   nx_err *e)
{
    const char *b;
    size_t len;
    trim_span(s, &b, &len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!isdigit(c) && c != 'X' && c != 'x')
            return nx_fail(e, NX_EINVAL, FIELD, "%s只能由数字和末位的字母X组成", what);
    }
    if (len != 18)
        return nx_fail(e, NX_EINVAL, FIELD, "%s应为18位，当前为%zu位", what, len);
    char buf[19];
    for (int i = 0; i < 18; i++)
        buf[i] = (char)toupper((unsigned char)b[i]);
    buf[18] = '\0';
    if (memchr(buf, 'X', 17) != NULL)
        return nx_fail(e, NX_EINVAL, FIELD, "%s中的字母X只能出现在最后一位", what);

    switch (rule) {
    case REGION_PROVINCE:
        if (!province_valid(digits_value(buf, 2)))
            return nx_fail(e, NX_EINVAL, FIELD, "%s前两位不是有效的省级行政区划代码", what);
        break;
    case REGION_HK_MACAU:
        if (memcmp(buf, "810000", 6) != 0 && memcmp(buf, "820000", 6) != 0)
            return nx_fail(e, NX_EINVAL, FIELD, "%s应以810000（香港）或820000（澳门）开头", what);
        break;
    case REGION_TAIWAN:
        if (memcmp(buf, "830000", 6) != 0)
            return nx_fail(e, NX_EINVAL, FIELD, "%s应以830000开头", what);
        break;
    case REGION_FOREIGN:
        if (buf[0] != '9' || !province_valid(digits_value(buf + 1, 2)))
            return nx_fail(e, NX_EINVAL, FIELD, "%s应以9开头，第2-3位为有效的省级行政区划代码", what);
        break;
    }

    int y = digits_value(buf + 6, 4), m = digits_value(buf + 10, 2), d = digits_value(buf + 12, 2);
    if (!date_valid(y, m, d))
        return nx_fail(e, NX_EINVAL, FIELD, "%s中的出生日期不存在", what);
    if (y < 1890)
        return nx_fail(e, NX_EINVAL, FIELD, "%s中的出生日期早于1890年", what);
    nx_date birth = {y, m, d};
    if (date_to_days(birth) > date_to_days(date_today()))
        return nx_fail(e, NX_EINVAL, FIELD, "%s中的出生日期晚于今天", what);

    if (idcard_check_digit(buf) != buf[17])
        return nx_fail(e, NX_EINVAL, FIELD, "%s校验位错误，请核对号码", what);

    if (norm)
        memcpy(norm, buf, 19);
    if (info) {
        info->birth = birth;
        info->sex = (buf[16] - '0') % 2 == 1 ? 1 : 2;
        memcpy(info->region, buf, 6);
        info->region[6] = '\0';
    }
    return 0;
}

int idcard_parse(const char *s, char norm[19], idcard_info *info, nx_err *e)
{
    if (s == NULL)
        return nx_fail(e, NX_EINVAL, FIELD, "请填写身份证号");
    return check18(s, REGION_PROVINCE, "身份证号", norm, info, e);
}

/* Copy the trimmed span of s upper-cased into out (cap bytes) if every character is an ASCII letter
 * or digit. Returns the length, or -1 for other characters or a span too long for out. */
static long alnum_upper(const char *s, char *out, size_t cap)
{
    const char *b;
    size_t len;
    trim_span(s, &b, &len);
    if (len + 1 > cap)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!isalnum(c))
            return -1;
        out[i] = (char)toupper(c);
    }
    out[len] = '\0';
    return (long)len;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            return false;
    return true;
}

static bool all_alpha(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)p[i]))
            return false;
    return true;
}

/* The short forms of the documents that also come as an 18-digit residence permit (港澳台居民居住证,
 * the new foreign permanent residence card): a travel permit's number, the old card's. */
static bool hk_macau_permit(const char *b, long len)
{
    return (len == 9 || len == 11) && (b[0] == 'H' || b[0] == 'M') && all_digits(b + 1, (size_t)len - 1);
}

static bool taiwan_permit(const char *b, long len)
{
    return len == 8 && all_digits(b, 8);
}

static bool foreign_old_card(const char *b, long len)
{
    return len == 15 && all_alpha(b, 3) && all_digits(b + 3, 12);
}

static const struct {
    int type;
    enum region_rule region; /* of the 18-digit number (check18) */
    const char *long_name; /* the 18-digit document, for check18's messages */
    bool (*short_ok)(const char *buf, long len);
    const char *bad; /* neither form */
} two_forms[] = {
    {ID_HK_MACAU, REGION_HK_MACAU, "港澳居民居住证号码", hk_macau_permit,
     "港澳居民来往内地通行证号码应为H或M加8位或10位数字；"
     "港澳居民居住证号码应为810000或820000开头的18位号码"},
    {ID_TAIWAN, REGION_TAIWAN, "台湾居民居住证号码", taiwan_permit,
     "台湾居民来往大陆通行证号码应为8位数字；"
     "台湾居民居住证号码应为830000开头的18位号码"},
    {ID_FOREIGN_PERMANENT, REGION_FOREIGN, "外国人永久居留身份证号码", foreign_old_card,
     "外国人永久居留身份证号码应为3位字母加12位数字，"
     "或以9开头的18位号码"},
};

int id_doc_parse(int type, const char *s, char *norm, size_t n, idcard_info *info_or_null, nx_err *e)
{
    if (norm == NULL || n < ID_DOC_MAX)
        return nx_fail(e, NX_EINTERNAL, FIELD, "证件号码缓冲区过小");
    norm[0] = '\0';
    if (info_or_null)
        memset(info_or_null, 0, sizeof *info_or_null);
    if (s == NULL)
        return nx_fail(e, NX_EINVAL, FIELD, "请填写证件号码");

    char buf[ID_DOC_MAX];
    long len = alnum_upper(s, buf, sizeof buf);
    if (type == ID_CARD)
        return idcard_parse(s, norm, info_or_null, e);
    if (type == ID_PASSPORT) {
        if (len < 5 || len > 20)
            return nx_fail(e, NX_EINVAL, FIELD, "护照号码应为5至20位字母或数字");
        memcpy(norm, buf, (size_t)len + 1);
        return 0;
    }
    for (size_t i = 0; i < sizeof two_forms / sizeof two_forms[0]; i++) {
        if (two_forms[i].type != type)
            continue;
        if (len == 18)
            return check18(buf, two_forms[i].region, two_forms[i].long_name, norm, info_or_null, e);
        if (!two_forms[i].short_ok(buf, len))
            return nx_fail(e, NX_EINVAL, FIELD, "%s", two_forms[i].bad);
        memcpy(norm, buf, (size_t)len + 1);
        return 0;
    }
    return nx_fail(e, NX_EINVAL, "id_type", "未知的证件类型");
}

/* Real county-level codes (GB/T 2260) used for fictional demo numbers. */
static const char *const fake_regions[] = {
    "370102", /* 济南市历下区 */
    "370103", /* 济南市市中区 */
    "370104", /* 济南市槐荫区 */
    "370105", /* 济南市天桥区 */
    "370112", /* 济南市历城区 */
    "371402", /* 德州市德城区 */
    "110101", /* 北京市东城区 */
    "110102", /* 北京市西城区 */
    "110105", /* 北京市朝阳区 */
    "310101", /* 上海市黄浦区 */
    "310104", /* 上海市徐汇区 */
    "310115", /* 上海市浦东新区 */
};
#define FAKE_REGION_COUNT (sizeof fake_regions / sizeof fake_regions[0])

unsigned idcard_fake_region_count(void)
{
    return (unsigned)FAKE_REGION_COUNT;
}

int idcard_fake(unsigned seed_region_index, nx_date birth, int sex, unsigned seq, char out[19])
{
    out[0] = '\0';
    if (seq > 499 || (sex != 1 && sex != 2) || !date_valid(birth.y, birth.m, birth.d) || birth.y < 1890 ||
        date_to_days(birth) > date_to_days(date_today()))
        return NX_EINVAL;
    unsigned order = seq * 2 + (sex == 1 ? 1 : 0);
    char buf[19];
    memcpy(buf, fake_regions[seed_region_index % FAKE_REGION_COUNT], 6);
    /* Fields are range-checked above, so exactly 11 digits are written. */
    snprintf(buf + 6, sizeof buf - 6, "%04d%02d%02d%03u", birth.y, birth.m, birth.d, order);
    buf[17] = idcard_check_digit(buf);
    buf[18] = '\0';
    memcpy(out, buf, 19);
    return 0;
}
