/* test_codec.c — the helpers both wristband codecs share (wire/codec_internal.h): comma-separated
 * fields, readings where 0 means "no value", refusing a bad frame (raw bytes kept, the protocol's own
 * words in the message), and base/str.h's hex digit that the MAC and hex parsers use. */
#include <string.h>

#include "base/str.h"
#include "wire/codec_internal.h"
#include "test.h"

static wire_span sp(const char *s)
{
    return (wire_span){s, strlen(s)};
}

static void test_field(void)
{
    wire_span d = sp("72,120,,80");
    wire_span f = wire_span_field(d, 0);
    CHECK(f.n == 2 && memcmp(f.p, "72", 2) == 0);
    f = wire_span_field(d, 1);
    CHECK(f.n == 3 && memcmp(f.p, "120", 3) == 0);
    CHECK_INT((int)wire_span_field(d, 2).n, 0);
    f = wire_span_field(d, 3);
    CHECK(f.n == 2 && memcmp(f.p, "80", 2) == 0);
    CHECK_INT((int)wire_span_field(d, 4).n, 0); /* past the end: empty */
    CHECK_INT((int)wire_span_field(sp(""), 0).n, 0);
}

static void test_reading(void)
{
    int32_t v = 7;
    CHECK_INT(wire_parse_reading(sp("72"), 0, 300, &v), 0);
    CHECK_INT(v, 72);
    CHECK_INT(wire_parse_reading(sp("0"), 0, 300, &v), 0);
    CHECK_INT(v, WIRE_NONE);
    CHECK_INT(wire_parse_reading(sp(""), 0, 300, &v), 0);
    CHECK_INT(v, WIRE_NONE);
    CHECK_INT(wire_parse_reading(sp("36.6"), 1, 600, &v), 0);
    CHECK_INT(v, 366);
    CHECK_INT(wire_parse_reading(sp("301"), 0, 300, &v), NX_EINVAL);
    CHECK_INT(wire_parse_reading(sp("-1"), 0, 300, &v), NX_EINVAL);
    CHECK_INT(wire_parse_reading(sp("x"), 0, 300, &v), NX_EINVAL);
}

static void test_bad_frame(void)
{
    static const uint8_t raw[] = "IWAP49,x#";
    wire_msg m;
    wire_msg_clear(&m);
    m.raw = raw;
    m.raw_len = sizeof raw - 1;
    m.kind = WIRE_HEALTH;
    m.health.hr_bpm = 99;
    nx_err e;
    CHECK_INT(wire_bad_frame(&m, WIRE_PROTO_IW, &e, "hr", "心率数值无效"), NX_EINVAL);
    CHECK_INT(m.proto, WIRE_PROTO_IW);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE);
    CHECK(m.raw == raw && m.raw_len == sizeof raw - 1);
    CHECK_STR(e.field, "hr");
    CHECK_STR(e.msg, "IW 数据帧格式错误：心率数值无效");
    CHECK_INT(wire_bad_frame(&m, WIRE_PROTO_WATCH, &e, "spo2", "血氧数值无效"), NX_EINVAL);
    CHECK_INT(m.proto, WIRE_PROTO_WATCH);
    CHECK_STR(e.msg, "手表数据帧格式错误：血氧数值无效");
}

static void test_hexval(void)
{
    CHECK_INT(str_hexval('0'), 0);
    CHECK_INT(str_hexval('9'), 9);
    CHECK_INT(str_hexval('a'), 10);
    CHECK_INT(str_hexval('F'), 15);
    CHECK_INT(str_hexval('g'), -1);
    CHECK_INT(str_hexval('/'), -1);
    CHECK_INT(str_hexval('\0'), -1);
}

int main(void)
{
    TEST_RUN(test_field);
    TEST_RUN(test_reading);
    TEST_RUN(test_bad_frame);
    TEST_RUN(test_hexval);
    return TEST_DONE();
}
