/* test_cmdq.c — device commands from JSON to the frame a wristband receives: devices_command_build
 * (kinds, strict members, ranges, phones), devices_command_encode per protocol (a kind the IW protocol
 * lacks is refused on the "kind" field), and cmdq_wire_of (the keyword or type the device echoes). */
#include "test.h"

#include "gateway/cmdq.h"
#include "modules/devices/devices.h"

#include <jansson.h>

static int build(const char *kind, const char *args_json, wire_cmd *c, nx_err *e)
{
    json_t *a = json_loads(args_json, 0, NULL);
    nx_err_clear(e);
    int rc = devices_command_build(kind, a, c, e);
    json_decref(a);
    return rc;
}

static void test_build(void)
{
    wire_cmd c;
    nx_err e;
    CHECK_INT(build("locate", "{}", &c, &e), 0);
    CHECK_INT(c.kind, WIRE_CMD_LOCATE);
    CHECK_INT(build("upload_interval", "{\"seconds\": 300}", &c, &e), 0);
    CHECK_INT(c.seconds, 300);
    CHECK_INT(build("upload_interval", "{\"seconds\": 59}", &c, &e), NX_EINVAL);
    CHECK_STR(e.field, "seconds");
    CHECK_INT(build("upload_interval", "{\"seconds\": 65536}", &c, &e), NX_EINVAL);
    CHECK_INT(build("upload_interval", "{\"seconds\": 60.5}", &c, &e), NX_EINVAL);
    CHECK_INT(build("upload_interval", "{}", &c, &e), NX_EINVAL);
    CHECK_INT(build("locate", "{\"now\": true}", &c, &e), NX_EINVAL);
    CHECK_STR(e.field, "now");
    CHECK_INT(build("launch", "{}", &c, &e), NX_EINVAL);
    CHECK_STR(e.field, "kind");
    CHECK_INT(build("fall_detect", "{\"on\": true}", &c, &e), 0);
    CHECK_INT(c.on, 1);
    CHECK_INT(c.call_centre, 0);
    CHECK_INT(build("fall_detect", "{\"on\": 1}", &c, &e), NX_EINVAL);
    CHECK_INT(build("fall_level", "{\"level\": 0}", &c, &e), NX_EINVAL);
    CHECK_INT(build("fall_level", "{\"level\": 9}", &c, &e), 0);
    json_t *a = json_loads("{\"phones\": [\"13800000000\"]}", 0, NULL); /* phones borrow from a */
    CHECK_INT(devices_command_build("sos_numbers", a, &c, &e), 0);
    CHECK_STR(c.phones[0], "13800000000");
    CHECK_STR(c.phones[1], "");
    CHECK_STR(c.phones[2], "");
    json_decref(a);
    CHECK_INT(build("sos_numbers", "{\"phones\": [\"1\", \"2\", \"3\", \"4\"]}", &c, &e), NX_EINVAL);
    CHECK_INT(build("sos_numbers", "{\"phones\": [\"+\"]}", &c, &e), NX_EINVAL);
    CHECK_INT(build("sos_numbers", "{\"phones\": [\"1380000000-1\"]}", &c, &e), NX_EINVAL);
    CHECK_INT(build("sos_numbers", "{\"phones\": [\"123456789012345678901\"]}", &c, &e), NX_EINVAL);
    CHECK_INT(build("center", "{\"phone\": 13800000000}", &c, &e), NX_EINVAL);
    CHECK_INT(build("message", "{\"text\": \"\"}", &c, &e), NX_EINVAL);
    CHECK_INT(devices_command_build("locate", NULL, &c, &e), NX_EINVAL);
    CHECK_STR(e.field, "args");
    CHECK_STR(devices_command_label("sos_numbers"), "SOS 紧急号码");
    CHECK_STR(devices_command_label("nope"), "nope");
}

static void test_encode_and_wire(void)
{
    wire_cmd c;
    nx_err e;
    char out[1200], wire[24];
    size_t len;
    CHECK_INT(build("upload_interval", "{\"seconds\": 120}", &c, &e), 0);
    CHECK_INT(devices_command_encode(&c, WIRE_PROTO_WATCH, "3G", "5600000001", 0, out, sizeof out, &len, &e),
              0);
    CHECK_STR(out, "[SG*5600000001*000a*UPLOAD,120]");
    cmdq_wire_of(WIRE_PROTO_WATCH, out, len, wire, sizeof wire);
    CHECK_STR(wire, "UPLOAD");
    CHECK_INT(build("locate", "{}", &c, &e), 0);
    CHECK_INT(devices_command_encode(&c, WIRE_PROTO_WATCH, "CS", "5600000001", 0, out, sizeof out, &len, &e),
              0);
    cmdq_wire_of(WIRE_PROTO_WATCH, out, len, wire, sizeof wire);
    CHECK_STR(wire, "CR");
    CHECK_INT(
        devices_command_encode(&c, WIRE_PROTO_IW, "IW", "860000000000001", 42, out, sizeof out, &len, &e), 0);
    CHECK_STR(out, "IWBP16,860000000000001,000042#");
    cmdq_wire_of(WIRE_PROTO_IW, out, len, wire, sizeof wire);
    CHECK_STR(wire, "16");
    /* the IW protocol has no centre number: refused on "kind" */
    CHECK_INT(build("center", "{\"phone\": \"13800000000\"}", &c, &e), 0);
    nx_err_clear(&e);
    CHECK_INT(
        devices_command_encode(&c, WIRE_PROTO_IW, "IW", "860000000000001", 1, out, sizeof out, &len, &e),
        NX_EINVAL);
    CHECK_STR(e.field, "kind");
    /* a text longer than the watch can show: refused by the codec */
    json_t *a = json_pack("{s:s}", "text",
                          "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                          "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
                          "一二三四五六七八九十一二三四五六七八九十一");
    CHECK_INT(devices_command_build("message", a, &c, &e), 0);
    nx_err_clear(&e);
    CHECK_INT(devices_command_encode(&c, WIRE_PROTO_WATCH, "SG", "5600000001", 0, out, sizeof out, &len, &e),
              NX_EINVAL);
    json_decref(a);
    /* a frame without the expected shape gives an empty keyword, never a read past the end */
    cmdq_wire_of(WIRE_PROTO_WATCH, "[SG*12", 6, wire, sizeof wire);
    CHECK_STR(wire, "");
    cmdq_wire_of(WIRE_PROTO_IW, "IWXX", 4, wire, sizeof wire);
    CHECK_STR(wire, "");
}

int main(void)
{
    TEST_RUN(test_build);
    TEST_RUN(test_encode_and_wire);
    return TEST_DONE();
}
