/* test_mqtt_topic.c — the pure parts of the MQTT input (gateway/mqtt.h): topic parsing and building,
 * prefix and URL checks; and the shared frame helpers (wire/proto.h) it answers with. */
#include <stdint.h>
#include <string.h>

#include "gateway/ingest.h"
#include "gateway/mqtt.h"
#include "wire/codec.h"
#include "wire/proto.h"
#include "test.h"

static void test_topic_parse(void)
{
    int proto = 0;
    char id[32];
    CHECK_INT(
        mqtt_topic_parse("nuanxin/devices", "nuanxin/devices/watch/5678901234/up", &proto, id, sizeof id), 0);
    CHECK_INT(proto, WIRE_PROTO_WATCH);
    CHECK_STR(id, "5678901234");
    CHECK_INT(
        mqtt_topic_parse("nuanxin/devices", "nuanxin/devices/iw/353456789012345/up", &proto, id, sizeof id),
        0);
    CHECK_INT(proto, WIRE_PROTO_IW);
    CHECK_STR(id, "353456789012345");
    CHECK_INT(mqtt_topic_parse("a", "a/watch/1/up", &proto, id, sizeof id), 0);
    CHECK_STR(id, "1");
    CHECK_INT(mqtt_topic_parse("a", "a/watch/12345678901234567890/up", &proto, id, sizeof id), 0);
    /* refused: other prefix, protocol, direction, id, levels */
    static const char *bad[] = {
        "nuanxin/devices/watch/5678901234/down",
        "nuanxin/devices/watch/5678901234/up/x",
        "nuanxin/devices/watch/5678901234",
        "nuanxin/devices/watch//up",
        "nuanxin/devices/gps/5678901234/up",
        "nuanxin/devices/WATCH/5678901234/up",
        "nuanxin/devices/watch/56789x1234/up",
        "nuanxin/devices/watch/123456789012345678901/up", /* 21 digits */
        "nuanxin/devices/watch/+/up",
        "nuanxin/devicesX/watch/5678901234/up",
        "nuanxin/watch/5678901234/up",
        "other/devices/watch/5678901234/up",
        "nuanxin/devices//watch/5678901234/up",
        "nuanxin/devices/watch/5678901234/up ",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proto = 0;
        int rc = mqtt_topic_parse("nuanxin/devices", bad[i], &proto, id, sizeof id);
        CHECK_INT(rc, NX_EINVAL);
        if (rc != NX_EINVAL)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    /* an id buffer too small for the id is refused, not overrun */
    char small[4];
    CHECK_INT(mqtt_topic_parse("p", "p/watch/12345/up", &proto, small, sizeof small), NX_EINVAL);
    CHECK_INT(mqtt_topic_parse("p", "p/watch/123/up", &proto, small, sizeof small), 0);
}

static void test_topic_make(void)
{
    char t[MQTT_TOPIC_MAX];
    CHECK_INT(mqtt_topic_make("nuanxin/devices", WIRE_PROTO_WATCH, "5678901234", "down", t, sizeof t), 0);
    CHECK_STR(t, "nuanxin/devices/watch/5678901234/down");
    CHECK_INT(mqtt_topic_make("x", WIRE_PROTO_IW, "353456789012345", "up", t, sizeof t), 0);
    CHECK_STR(t, "x/iw/353456789012345/up");
    CHECK_INT(mqtt_topic_make("x", 9, "1", "up", t, sizeof t), NX_EINVAL);
    char tiny[8];
    CHECK_INT(mqtt_topic_make("x", WIRE_PROTO_IW, "353456789012345", "up", tiny, sizeof tiny), NX_ETOOBIG);
    /* what make builds, parse reads back */
    int proto = 0;
    char id[32];
    CHECK_INT(mqtt_topic_make("a/b/c", WIRE_PROTO_IW, "42", "up", t, sizeof t), 0);
    CHECK_INT(mqtt_topic_parse("a/b/c", t, &proto, id, sizeof id), 0);
    CHECK_INT(proto, WIRE_PROTO_IW);
    CHECK_STR(id, "42");
}

static void test_prefix_check(void)
{
    nx_err e;
    CHECK_INT(mqtt_prefix_check("nuanxin/devices", &e), 0);
    CHECK_INT(mqtt_prefix_check("a", &e), 0);
    CHECK_INT(mqtt_prefix_check("city-1/district_2/devices", &e), 0);
    static const char *bad[] = {"", "/nuanxin", "nuanxin/", "a//b", "a/+/b", "a/#", "a b", "暖心", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nx_err_clear(&e);
        CHECK_INT(mqtt_prefix_check(bad[i], &e), NX_EINVAL);
        CHECK_STR(e.field, "mqtt_topic_prefix");
    }
    char longp[MQTT_PREFIX_MAX + 2];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    CHECK_INT(mqtt_prefix_check(longp, &e), NX_EINVAL);
    longp[MQTT_PREFIX_MAX] = '\0';
    CHECK_INT(mqtt_prefix_check(longp, &e), 0);
}

static void test_url_parse(void)
{
    char host[64];
    int port = 0;
    nx_err e;
    CHECK_INT(mqtt_url_parse("mqtt://127.0.0.1:1883", host, sizeof host, &port, &e), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 1883);
    CHECK_INT(mqtt_url_parse("mqtt://broker.example.org", host, sizeof host, &port, &e), 0);
    CHECK_STR(host, "broker.example.org");
    CHECK_INT(port, MQTT_DEFAULT_PORT);
    CHECK_INT(mqtt_url_parse("mqtt://broker:18830/", host, sizeof host, &port, &e), 0);
    CHECK_STR(host, "broker");
    CHECK_INT(port, 18830);
    CHECK_INT(mqtt_url_parse("mqtt://[::1]:1884", host, sizeof host, &port, &e), 0);
    CHECK_STR(host, "::1");
    CHECK_INT(port, 1884);
    CHECK_INT(mqtt_url_parse("mqtt://[fe80::1]", host, sizeof host, &port, &e), 0);
    CHECK_STR(host, "fe80::1");
    CHECK_INT(port, 1883);
    static const char *bad[] = {
        "",
        "127.0.0.1:1883",
        "mqtts://broker:8883",
        "tcp://broker:1883",
        "mqtt://",
        "mqtt://:1883",
        "mqtt://broker:",
        "mqtt://broker:0",
        "mqtt://broker:65536",
        "mqtt://broker:18x3",
        "mqtt://user:secret@broker:1883",
        "mqtt://broker/topic",
        "mqtt://[::1",
        "mqtt://[::1]x",
        "mqtt://bro ker",
        NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nx_err_clear(&e);
        int rc = mqtt_url_parse(bad[i], host, sizeof host, &port, &e);
        CHECK_INT(rc, NX_EINVAL);
        CHECK_STR(e.field, "mqtt_url");
        if (rc != NX_EINVAL)
            fprintf(stderr, "  accepted: %s\n", bad[i] ? bad[i] : "(null)");
    }
    /* the password is not echoed in the message */
    mqtt_url_parse("mqtt://user:secret@broker:1883", host, sizeof host, &port, &e);
    CHECK(strstr(e.msg, "secret") == NULL);
    /* a host longer than the buffer */
    char tiny[4];
    CHECK_INT(mqtt_url_parse("mqtt://broker", tiny, sizeof tiny, &port, &e), NX_EINVAL);
}

static void test_proto_helpers(void)
{
    CHECK_STR(wire_proto_name(WIRE_PROTO_WATCH), "watch");
    CHECK_STR(wire_proto_name(WIRE_PROTO_IW), "iw");
    CHECK(wire_proto_name(0) == NULL);
    CHECK_INT(wire_proto_from_name("watch", 5), WIRE_PROTO_WATCH);
    CHECK_INT(wire_proto_from_name("iw", 2), WIRE_PROTO_IW);
    CHECK_INT(wire_proto_from_name("iwx", 2), WIRE_PROTO_IW);
    CHECK_INT(wire_proto_from_name("iwx", 3), 0);
    CHECK_INT(wire_proto_from_name("Watch", 5), 0);

    wire_msg m;
    nx_err e;
    char out[WIRE_REPLY_MAX];
    size_t len = 99;
    const char *al =
        "[3G*5678901234*0010*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000]";
    CHECK_INT(wire_proto_decode(WIRE_PROTO_WATCH, (const uint8_t *)al, strlen(al), &m, &e), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    wire_proto_reply(&m, 0, out, sizeof out, &len);
    CHECK_INT(len, strlen("[3G*5678901234*0002*AL]"));
    CHECK(memcmp(out, "[3G*5678901234*0002*AL]", len) == 0);
    devices_in in;
    ingest_item_frame(&in, &m, "5678901234", 1234);
    CHECK_INT(in.kind, DEVICES_IN_FRAME);
    CHECK_INT(in.proto, WIRE_PROTO_WATCH);
    CHECK_INT(in.at, 1234);
    CHECK_STR(in.imei, "5678901234");
    CHECK_INT(in.msg.kind, WIRE_ALARM);

    /* a position needs no reply */
    const char *ud =
        "[3G*5678901234*0010*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,900,0,0]";
    CHECK_INT(wire_proto_decode(WIRE_PROTO_WATCH, (const uint8_t *)ud, strlen(ud), &m, &e), 0);
    len = 99;
    wire_proto_reply(&m, 0, out, sizeof out, &len);
    CHECK_INT(len, 0);

    /* IW login: the server's time in UTC and the time zone */
    const char *login = "IWAP00353456789012345#";
    CHECK_INT(wire_proto_decode(WIRE_PROTO_IW, (const uint8_t *)login, strlen(login), &m, &e), 0);
    CHECK_INT(m.kind, WIRE_LOGIN);
    CHECK_STR(m.device_id, "353456789012345");
    wire_proto_reply(&m, 1795941000000LL, out, sizeof out, &len); /* 2026-11-29T08:30:00Z */
    CHECK_INT(len, strlen("IWBP00,20261129083000,8#"));
    CHECK(memcmp(out, "IWBP00,20261129083000,8#", len) == 0);

    /* garbage does not decode, and an unknown protocol is refused */
    CHECK_INT(wire_proto_decode(WIRE_PROTO_WATCH, (const uint8_t *)"[xx]", 4, &m, &e), NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
    CHECK_INT(wire_proto_decode(7, (const uint8_t *)login, strlen(login), &m, &e), NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
}

int main(void)
{
    TEST_RUN(test_topic_parse);
    TEST_RUN(test_topic_make);
    TEST_RUN(test_prefix_check);
    TEST_RUN(test_url_parse);
    TEST_RUN(test_proto_helpers);
    return TEST_DONE();
}
