/* test_iw.c — the IW codec (wire/iw.h) against shared/protocols/iw.md: login and its reply with
 * the server's time, every message type (positions with the spec's own block, alarms with and without
 * a fix, cell + Wi-Fi, heartbeat, health), the TRV prefix, answers to commands (no ack), blank fields,
 * malformed frames, and command encoding. */
#include <stdint.h>
#include <string.h>

#include "wire/iw.h"
#include "test.h"

#define DEC(lit, m) iw_decode((const uint8_t *)(lit), sizeof(lit) - 1, (m), NULL)
#define BLOCK       "261126A3627.4412N11617.9050E000.0081530000.0006001008800102"

/* 2026-11-29 08:30:00 UTC */
#define NOW_MS 1795941000000LL

static wire_msg m;
static char out[IW_OUT_MAX];
static size_t n;

static const char *reply(void)
{
    if (iw_reply(&m, NOW_MS, 8, out, sizeof out, &n) != 0)
        return "(error)";
    return n ? out : "";
}

static void test_login(void)
{
    CHECK_INT(DEC("IWAP00353456789012345#", &m), 0);
    CHECK_INT(m.kind, WIRE_LOGIN);
    CHECK_INT(m.proto, WIRE_PROTO_IW);
    CHECK_STR(m.prefix, "IW");
    CHECK_STR(m.device_id, "353456789012345");
    CHECK_STR(m.iccid, "");
    CHECK_STR(reply(), "IWBP00,20261129083000,8#"); /* the spec's example */
    CHECK_INT(iw_reply(&m, NOW_MS, -5, out, sizeof out, &n), 0);
    CHECK_STR(out, "IWBP00,20261129083000,-5#");
    CHECK_INT(iw_reply(&m, NOW_MS, 15, out, sizeof out, &n), NX_EINVAL);
    CHECK_INT(iw_reply(&m, 1709164800000LL, 8, out, sizeof out, &n), 0);
    CHECK_STR(out, "IWBP00,20240229000000,8#");

    CHECK_INT(DEC("IWAP00353456789012345,89860117851014783481,460011234567890#", &m), 0);
    CHECK_STR(m.device_id, "353456789012345");
    CHECK_STR(m.iccid, "89860117851014783481");
    CHECK_STR(m.imsi, "460011234567890");

    /* TRV devices are the same protocol and are answered with TRV. */
    CHECK_INT(DEC("TRVAP00353456789012345#", &m), 0);
    CHECK_INT(m.kind, WIRE_LOGIN);
    CHECK_STR(m.prefix, "TRV");
    CHECK_STR(reply(), "TRVBP00,20261129083000,8#");

    CHECK_INT(DEC("IWAP00#", &m), NX_EINVAL);
    CHECK_INT(DEC("IWAP0035345678901234x#", &m), NX_EINVAL);
    CHECK_INT(DEC("IWAP00123456789012345678901#", &m), NX_EINVAL);
    CHECK_INT(DEC("IWAP00353456789012345,8986-0117#", &m), NX_EINVAL);
}

static void test_position(void)
{
    CHECK_INT(DEC("IWAP01" BLOCK ",460,0,9520,3671#", &m), 0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK_STR(m.device_id, ""); /* IW frames after the login carry no id */
    CHECK(m.pos.present);
    CHECK(m.pos.fix);
    CHECK_INT(m.pos.time_ms, 1795680930000LL); /* 2026-11-26 08:15:30 UTC */
    CHECK_INT(m.pos.lat_e6, 36457353);         /* 36° 27.4412′ */
    CHECK_INT(m.pos.lon_e6, 116298417);        /* 116° 17.9050′ */
    CHECK_INT(m.pos.speed_kmh_e1, 0);
    CHECK_INT(m.pos.course_deg_e1, 0);
    CHECK_INT(m.pos.gsm_signal, 60);
    CHECK_INT(m.pos.satellites, 10);
    CHECK_INT(m.battery_pct, 88);
    CHECK_INT(m.pos.mcc, 460);
    CHECK_INT(m.pos.mnc, 0);
    CHECK_INT(m.pos.cells_n, 1);
    CHECK_INT(m.pos.cells[0].lac, 9520);
    CHECK_INT(m.pos.cells[0].cid, 3671);
    CHECK_INT(m.pos.cells[0].rssi, WIRE_NONE);
    CHECK_INT(m.pos.wifi_count, 0);
    CHECK_STR(reply(), "IWBP01#");

    /* South and west, speed and course with fractions. */
    CHECK_INT(DEC("IWAP01250101A3351.1292S15112.5574W012.3235959090.5006008010000102,505,1,1234,5678#", &m),
              0);
    CHECK_INT(m.pos.lat_e6, -33852153);
    CHECK_INT(m.pos.lon_e6, -151209290);
    CHECK_INT(m.pos.speed_kmh_e1, 123);
    CHECK_INT(m.pos.course_deg_e1, 905);
    CHECK_INT(m.pos.time_ms, 1735775999000LL);
    CHECK_INT(m.battery_pct, 100);

    /* No fix, blank cell. */
    CHECK_INT(DEC("IWAP01261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,,#", &m), 0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK(!m.pos.fix);
    CHECK_INT(m.pos.lat_e6, WIRE_NONE);
    CHECK_INT(m.pos.cells_n, 0);

    /* Wi-Fi list: entries joined by '&', MAC with dashes, names with '|' or ',' inside. */
    CHECK_INT(DEC("IWAP01" BLOCK ",460,0,9520,3671,Home|74-DE-2B-44-88-8C|-55&a|b, c|00-11-22-33-44-55|-70&|"
                  "AABBCCDDEEFF|#",
                  &m),
              0);
    CHECK_INT(m.pos.wifi_count, 3);
    CHECK_STR(m.pos.wifi[0].ssid, "Home");
    CHECK_STR(m.pos.wifi[0].mac, "74:de:2b:44:88:8c");
    CHECK_INT(m.pos.wifi[0].rssi, -55);
    CHECK_STR(m.pos.wifi[1].ssid, "a|b, c");
    CHECK_STR(m.pos.wifi[1].mac, "00:11:22:33:44:55");
    CHECK_STR(m.pos.wifi[2].ssid, "");
    CHECK_INT(m.pos.wifi[2].rssi, WIRE_NONE);

    /* A short block (date, fix, coordinates only) is accepted. */
    CHECK_INT(DEC("IWAP01261126A3627.4412N11617.9050E,460,0,1,2#", &m), 0);
    CHECK(m.pos.fix);
    CHECK_INT(m.pos.time_ms, 0);
    CHECK_INT(m.pos.speed_kmh_e1, WIRE_NONE);

    /* Malformed positions store nothing. */
    static const char *const bad[] = {
        "IWAP01garbage,460,0,1,2#",
        "IWAP01261126X3627.4412N11617.9050E,460,0,1,2#",
        "IWAP01261126A3667.4412N11617.9050E,460,0,1,2#", /* 67 minutes */
        "IWAP01261126A9127.4412N11617.9050E,460,0,1,2#",
        "IWAP01261126A3627.4412N18117.9050E,460,0,1,2#",
        "IWAP01261126A3627.4412Q11617.9050E,460,0,1,2#",
        "IWAP01" BLOCK ",abc,0,1,2#",
        "IWAP01" BLOCK ",460,0,xyz,2#",
        "IWAP01" BLOCK ",460,0,1,2,Home|74-DE-2B-44-88-8C#",
        "IWAP01" BLOCK ",460,0,1,2,Home|74-DE-2B-44-88-8C|loud#",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = iw_decode((const uint8_t *)bad[i], strlen(bad[i]), &m, NULL);
        if (rc != NX_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(rc, NX_EINVAL);
        CHECK_INT(m.kind, WIRE_NONE_KIND);
        CHECK(!m.pos.present);
        CHECK_INT(m.battery_pct, WIRE_NONE);
    }
}

static void test_alarm(void)
{
    CHECK_INT(DEC("IWAP10" BLOCK ",460,0,9520,3671,01,zh-cn,00#", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_SOS);
    CHECK_INT(m.alarm_code, 1);
    CHECK(m.pos.fix);
    CHECK_INT(m.pos.lat_e6, 36457353);
    CHECK_STR(reply(), "IWBP10#");

    /* A fall without a GPS fix is still an alarm. */
    CHECK_INT(
        DEC("IWAP10261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,9520,3671,05,zh-cn,00#",
            &m),
        0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_FALL);
    CHECK(!m.pos.fix);
    CHECK_STR(reply(), "IWBP10#");
    CHECK_INT(DEC("IWAP10" BLOCK ",460,0,9520,3671,06,zh-cn,00#", &m), 0);
    CHECK_INT(m.alarms, WIRE_AL_FALL);

    /* 00 = no alarm: a position. Other codes, and a blank code, are general alarms. */
    CHECK_INT(DEC("IWAP10" BLOCK ",460,0,9520,3671,00,zh-cn,00#", &m), 0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK_INT(m.alarms, 0);
    CHECK_INT(m.alarm_code, 0);
    CHECK_INT(DEC("IWAP10" BLOCK ",460,0,9520,3671,03,zh-cn,00,x|74-DE-2B-44-88-8C|-40#", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_GENERAL);
    CHECK_INT(m.alarm_code, 3);
    CHECK_INT(m.pos.wifi_count, 1);
    CHECK_INT(DEC("IWAP10" BLOCK ",460,0,9520,3671,,zh-cn,00#", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_GENERAL);

    /* A malformed position never hides the alarm. */
    CHECK_INT(DEC("IWAP10garbage,460,0,9520,3671,01,zh-cn,00#", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_SOS);
    CHECK(m.pos_error);
    CHECK(!m.pos.present);
    CHECK_STR(reply(), "IWBP10#");
    CHECK_INT(DEC("IWAP10#", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_GENERAL);
}

static void test_lbs(void)
{
    CHECK_INT(
        DEC("IWAP02,zh_cn,0,3,460,0,9520|3671|13,9520|3672|12,25a1|3f0c|11,2,abc|74-DE-2B-44-88-8C|-55&def|"
            "00-11-22-33-44-55|-60#",
            &m),
        0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK(m.pos.present);
    CHECK(!m.pos.fix);
    CHECK_INT(m.pos.cell_count, 3);
    CHECK_INT(m.pos.mcc, 460);
    CHECK_INT(m.pos.cells[1].cid, 3672);
    CHECK_INT(m.pos.cells[1].rssi, 12);
    CHECK_INT(m.pos.cells[2].lac, 0x25a1);
    CHECK_INT(m.pos.wifi_count, 2);
    CHECK_STR(m.pos.wifi[1].ssid, "def");
    CHECK_INT(m.pos.wifi[1].rssi, -60);
    CHECK_STR(reply(), "IWBP02#");
    CHECK_INT(DEC("IWAP02,zh_cn,0,0,460,0,0#", &m), 0);
    CHECK_INT(m.pos.cell_count, 0);
    CHECK_INT(DEC("IWAP02,zh_cn,0,2,460,0,9520|3671|13#", &m), NX_EINVAL);
    CHECK_INT(DEC("IWAP02,zh_cn,0,1,460,0,9520|3671,0#", &m), NX_EINVAL);
}

static void test_heartbeat_and_health(void)
{
    CHECK_INT(DEC("IWAP03,06000908000102,5555,1#", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_INT(m.battery_pct, 80);
    CHECK_INT(m.steps, 5555);
    CHECK_INT(m.rolls, 1);
    CHECK_STR(reply(), "IWBP03#");
    CHECK_INT(DEC("IWAP03,,,#", &m), 0); /* blank: still a heartbeat */
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_INT(m.battery_pct, WIRE_NONE);
    CHECK_STR(reply(), "IWBP03#");

    CHECK_INT(DEC("IWAP49,68#", &m), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.hr_bpm, 68);
    CHECK_STR(reply(), "IWBP49#");
    CHECK_INT(DEC("IWAPHT,60,130,85#", &m), 0);
    CHECK_INT(m.health.hr_bpm, 60);
    CHECK_INT(m.health.sys_mmhg, 130);
    CHECK_INT(m.health.dia_mmhg, 85);
    CHECK_STR(reply(), "IWBPHT#");
    CHECK_INT(DEC("IWAPhp,60,130,85,95,5.6,36.5,,#", &m), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.spo2_pct, 95);
    CHECK_INT(m.health.sugar_mmol_e2, 560);
    CHECK_INT(m.health.temp_c_e1, 365);
    CHECK_STR(reply(), "IWBPhp#");
    CHECK_INT(DEC("IWAPHP,,,,,,#", &m), 0); /* any field may be blank */
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE);
    CHECK_INT(m.health.temp_c_e1, WIRE_NONE);
    CHECK_INT(DEC("IWAPHP,72#", &m), 0);
    CHECK_INT(m.health.hr_bpm, 72);
    CHECK_INT(m.health.spo2_pct, WIRE_NONE);
    CHECK_INT(DEC("IWAP50,36.7,85#", &m), 0);
    CHECK_INT(m.health.temp_c_e1, 367);
    CHECK_INT(m.battery_pct, 85);
    CHECK_STR(reply(), "IWBP50#");

    CHECK_INT(DEC("IWAP49,abc#", &m), NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
    CHECK_INT(DEC("IWAPHT,60,330,85#", &m), NX_EINVAL);
    CHECK_INT(DEC("IWAPHP,60,130,85,101,,#", &m), NX_EINVAL);
    CHECK_INT(DEC("IWAP50,36.7,185#", &m), NX_EINVAL);
    CHECK_INT(m.health.temp_c_e1, WIRE_NONE); /* nothing half-filled */
}

static void test_answers_and_unknown(void)
{
    /* The device's answers to commands get no ack: listed types, and a bare 6-digit serial. */
    static const char *const types[] = {"12", "14", "33", "34", "40", "76", "77", "84", "85", "86", "87"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char f[64];
        snprintf(f, sizeof f, "IWAP%s,080835,1#", types[i]);
        CHECK_INT(iw_decode((const uint8_t *)f, strlen(f), &m, NULL), 0);
        CHECK_INT(m.kind, WIRE_CMD_REPLY);
        CHECK_INT(m.serial, 80835);
        CHECK_STR(reply(), "");
    }
    CHECK_INT(DEC("IWAP16,080835#", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_INT(m.serial, 80835);
    CHECK_STR(reply(), "");
    CHECK_INT(DEC("IWAPXL,000001#", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_INT(DEC("IWAP12#", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_INT(m.serial, WIRE_NONE);

    /* Unknown types: recorded and acknowledged generically. */
    CHECK_INT(DEC("IWAPZZ,1,2,3#", &m), 0);
    CHECK_INT(m.kind, WIRE_UNKNOWN);
    CHECK_STR(m.type, "ZZ");
    CHECK_INT(m.payload_len, 6);
    CHECK_STR(reply(), "IWBPZZ#");
    CHECK_INT(DEC("TRVAPZZ#", &m), 0);
    CHECK_STR(reply(), "TRVBPZZ#");
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "#",
        "IW#",
        "IWAP#",
        "IWAP0#",
        "IWAP00353456789012345",
        "XXAP00353456789012345#",
        "IWBP00,20261129083000,8#", /* server direction */
        "IWAP49,6#8#",
        "IWAP!!,1#",
        "TRAP00353456789012345#",
        "iwap00353456789012345#",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nx_err e;
        nx_err_clear(&e);
        int rc = iw_decode((const uint8_t *)bad[i], strlen(bad[i]), &m, &e);
        if (rc != NX_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(rc, NX_EINVAL);
        CHECK_INT(m.kind, WIRE_NONE_KIND);
        CHECK_INT(e.code, NX_EINVAL);
        CHECK_INT(iw_reply(&m, NOW_MS, 8, out, sizeof out, &n), NX_EINVAL);
    }
    CHECK_INT(iw_decode(NULL, 0, &m, NULL), NX_EINVAL);
    /* A reply that does not fit is refused whole. */
    CHECK_INT(DEC("IWAP00353456789012345#", &m), 0);
    char small[20];
    CHECK_INT(iw_reply(&m, NOW_MS, 8, small, sizeof small, &n), NX_ETOOBIG);
    CHECK_STR(small, "");
    CHECK_INT(n, 0);
}

static const char *cmd(const wire_cmd *c)
{
    if (iw_encode_cmd(c, NULL, "353456789012345", 80835, out, sizeof out, &n, NULL) != 0)
        return "(error)";
    CHECK_INT(n, strlen(out));
    return out;
}

static void test_commands(void)
{
    wire_cmd c = {.kind = WIRE_CMD_LOCATE};
    CHECK_STR(cmd(&c), "IWBP16,353456789012345,080835#");
    CHECK_INT(iw_encode_cmd(&c, "TRV", "353456789012345", 7, out, sizeof out, &n, NULL), 0);
    CHECK_STR(out, "TRVBP16,353456789012345,000007#");
    c.kind = WIRE_CMD_RESET;
    CHECK_STR(cmd(&c), "IWBP18,353456789012345,080835#");
    c.kind = WIRE_CMD_POWEROFF;
    CHECK_STR(cmd(&c), "IWBP31,353456789012345,080835#");
    c.kind = WIRE_CMD_HR_NOW;
    CHECK_STR(cmd(&c), "IWBPXL,353456789012345,080835#");
    c = (wire_cmd){.kind = WIRE_CMD_SOS_NUMBERS, .phones = {"13800138000", "13900139000", ""}};
    CHECK_STR(cmd(&c), "IWBP12,353456789012345,080835,13800138000,13900139000,#");
    c.phones[1] = "139#";
    CHECK_STR(cmd(&c), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_MESSAGE, .text = "你好"};
    CHECK_STR(cmd(&c), "IWBP40,353456789012345,080835,4F60597D#");
    c = (wire_cmd){.kind = WIRE_CMD_FALL_DETECT, .on = 1};
    CHECK_STR(cmd(&c), "IWBP76,353456789012345,080835,1#");
    c = (wire_cmd){.kind = WIRE_CMD_HR_INTERVAL, .seconds = 1800};
    CHECK_STR(cmd(&c), "IWBP86,353456789012345,080835,1,30#");
    c.seconds = 90;
    CHECK_STR(cmd(&c), "IWBP86,353456789012345,080835,1,2#");
    c.seconds = 0;
    CHECK_STR(cmd(&c), "IWBP86,353456789012345,080835,0,0#");
    c = (wire_cmd){.kind = WIRE_CMD_CENTER, .phones = {"1"}};
    nx_err e;
    CHECK_INT(iw_encode_cmd(&c, NULL, "353456789012345", 1, out, sizeof out, &n, &e), NX_EUNSUPP);
    CHECK_STR(e.field, "kind");
    c.kind = WIRE_CMD_LOCATE;
    CHECK_INT(iw_encode_cmd(&c, NULL, "35345678901234x", 1, out, sizeof out, &n, NULL), NX_EINVAL);
    CHECK_INT(iw_encode_cmd(&c, NULL, "353456789012345", 1000000, out, sizeof out, &n, NULL), NX_EINVAL);
    CHECK_INT(iw_encode_cmd(&c, "XX", "353456789012345", 1, out, sizeof out, &n, NULL), NX_EINVAL);
    CHECK_INT(iw_encode_cmd(&c, NULL, "353456789012345", 1, out, 10, &n, NULL), NX_ETOOBIG);
    CHECK_STR(out, "");

    /* The generic encoder for the rest of a model's catalogue. */
    CHECK_INT(iw_encode("IW", "15", "353456789012345", 12, "300", out, sizeof out, &n), 0);
    CHECK_STR(out, "IWBP15,353456789012345,000012,300#");
    CHECK_INT(iw_encode("IW", "15", "353456789012345", 12, "3#00", out, sizeof out, &n), NX_EINVAL);
    CHECK_INT(iw_encode("IW", "1", "353456789012345", 12, NULL, out, sizeof out, &n), NX_EINVAL);
}

int main(void)
{
    TEST_RUN(test_login);
    TEST_RUN(test_position);
    TEST_RUN(test_alarm);
    TEST_RUN(test_lbs);
    TEST_RUN(test_heartbeat_and_health);
    TEST_RUN(test_answers_and_unknown);
    TEST_RUN(test_malformed);
    TEST_RUN(test_commands);
    return TEST_DONE();
}
