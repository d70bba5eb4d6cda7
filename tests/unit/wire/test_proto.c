/* test_proto.c — wire_proto_decode_refused: a health reading whose values are out of range (or do not
 * parse) is refused by the codec, yet the protocol requires its reply (black-box run, issue 21): the
 * frame without its values decodes as WIRE_HEALTH with every reading WIRE_NONE, so the gateway can
 * answer it and store nothing. Any other refused frame stays refused. */
#include <stdint.h>
#include <string.h>

#include "wire/proto.h"
#include "test.h"

static wire_msg m;

static int refused(int proto, const char *f)
{
    wire_msg tmp;
    if (wire_proto_decode(proto, (const uint8_t *)f, strlen(f), &tmp, NULL) == 0)
        return 1; /* not refused at all: the case is wrong */
    return wire_proto_decode_refused(proto, (const uint8_t *)f, strlen(f), &m);
}

static const char *reply(void)
{
    static char out[WIRE_REPLY_MAX];
    size_t n = 0;
    wire_proto_reply(&m, 1795000000000LL, out, sizeof out, &n);
    out[n] = '\0';
    return out;
}

static void test_watch(void)
{
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*0010*bphrt,400,96,104]"), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.sys_mmhg, WIRE_NONE);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE);
    CHECK_STR(m.device_id, "5678901234");
    CHECK_STR(reply(), "[3G*5678901234*0005*bphrt]");
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*000C*oxygen,1,101]"), 0);
    CHECK_INT(m.health.spo2_pct, WIRE_NONE);
    CHECK_STR(reply(), "[3G*5678901234*0008*oxygen,0]");
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*000D*btemp2,1,99.9]"), 0);
    CHECK_STR(reply(), "[3G*5678901234*0006*btemp2]");
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*0014*bphrt,158,abc,104]"), 0);
    CHECK_STR(reply(), "[3G*5678901234*0005*bphrt]");
    /* with IDX: echoed */
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*00A1*0010*bphrt,400,96,104]"), 0);
    CHECK_STR(reply(), "[3G*5678901234*00A1*0005*bphrt]");
    /* types without a reply decode, and are simply not answered */
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*0009*PULSE,999]"), 0);
    CHECK_STR(reply(), "");
    /* anything else stays refused */
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*56ab*0002*LK]"), NX_EINVAL);
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*5678901234*0010*UD,xx]"), NX_EINVAL);
    CHECK_INT(refused(WIRE_PROTO_WATCH, "[3G*56ab*0010*bphrt,400,96,104]"), NX_EINVAL);
    CHECK_INT(refused(WIRE_PROTO_WATCH, "bphrt"), NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
}

static void test_iw(void)
{
    CHECK_INT(refused(WIRE_PROTO_IW, "IWAPHT,999,130,85#"), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE);
    CHECK_STR(reply(), "IWBPHT#");
    CHECK_INT(refused(WIRE_PROTO_IW, "TRVAP49,400#"), 0);
    CHECK_STR(reply(), "TRVBP49#");
    CHECK_INT(refused(WIRE_PROTO_IW, "IWAP50,99.9,101#"), 0);
    CHECK_STR(reply(), "IWBP50#");
    CHECK_INT(refused(WIRE_PROTO_IW, "IWAP00#"), NX_EINVAL);
    CHECK_INT(refused(WIRE_PROTO_IW, "IWAP01zz#"), NX_EINVAL);
}

int main(void)
{
    TEST_RUN(test_watch);
    TEST_RUN(test_iw);
    return TEST_DONE();
}
