/* test_watch.c — the "3G watch" codec (wire/watch.h) against shared/protocols/watch.md: every
 * message type, the spec's own examples, the quirks (case, LEN, IDX, escapes, signs, hex cells,
 * bracketed SSIDs, alarms without a fix), malformed frames, replies and commands byte for byte. */
#include <stdint.h>
#include <string.h>

#include "wire/watch.h"
#include "test.h"

#define DEC(lit, m) watch_decode((const uint8_t *)(lit), sizeof(lit) - 1, (m), NULL)

static wire_msg m;
static char out[WATCH_OUT_MAX];
static size_t n;

/* The reply for the last decoded message ("" when none). */
static const char *reply(void)
{
    if (watch_reply(&m, out, sizeof out, &n) != 0)
        return "(error)";
    return n ? out : "";
}

static void test_keepalive(void)
{
    /* The spec's examples. */
    CHECK_INT(DEC("[SG*5678901234*0002*LK]", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_STR(m.mf, "SG");
    CHECK_STR(m.device_id, "5678901234");
    CHECK_STR(m.idx, "");
    CHECK_INT(m.steps, WIRE_NONE);
    CHECK_STR(reply(), "[SG*5678901234*0002*LK]");

    CHECK_INT(DEC("[3G*5678901234*000B*LK,812,3,76]", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_INT(m.steps, 812);
    CHECK_INT(m.rolls, 3);
    CHECK_INT(m.battery_pct, 76);
    CHECK_STR(reply(), "[3G*5678901234*0002*LK]");
    CHECK_INT(n, strlen("[3G*5678901234*0002*LK]"));

    /* Any device id of 1-20 digits is answered: the codec knows no registry (unregistered devices too). */
    CHECK_INT(DEC("[CS*867584031234567*0002*LK]", &m), 0);
    CHECK_STR(reply(), "[CS*867584031234567*0002*LK]");
    CHECK_INT(DEC("[3G*123456789*0002*LK]", &m), 0);
    CHECK_STR(reply(), "[3G*123456789*0002*LK]");
    CHECK_INT(DEC("[3G*1*0002*LK]", &m), 0);
    CHECK_INT(DEC("[3G*12345678901234567890*0002*LK]", &m), 0);
    CHECK_INT(DEC("[3G*123456789012345678901*0002*LK]", &m), NX_EINVAL);

    /* LEN is never trusted: wrong, decimal, or letters. */
    CHECK_INT(DEC("[3G*5678901234*FFFF*LK]", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_INT(DEC("[3G*5678901234*0010*LK,812,3,76]", &m), 0);
    CHECK_INT(m.battery_pct, 76);
    CHECK_INT(DEC("[3G*5678901234*zzzz*LK]", &m), 0);

    /* Case varies; the reply echoes the device's spelling. */
    CHECK_INT(DEC("[3G*5678901234*0002*lk]", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_STR(reply(), "[3G*5678901234*0002*lk]");

    /* A keep-alive is answered whatever follows it. */
    CHECK_INT(DEC("[3G*5678901234*0008*LK,x,,999]", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_INT(m.steps, WIRE_NONE);
    CHECK_INT(m.battery_pct, WIRE_NONE);
    CHECK_STR(reply(), "[3G*5678901234*0002*LK]");
}

static void test_idx(void)
{
    CHECK_INT(DEC("[ZJ*5678901234*00A1*0002*LK]", &m), 0);
    CHECK_INT(m.kind, WIRE_KEEPALIVE);
    CHECK_STR(m.idx, "00A1");
    CHECK_STR(reply(), "[ZJ*5678901234*00A1*0002*LK]");
    CHECK_INT(DEC("[ZJ*5678901234*ffff*0014*bphrt,158,96,104,,,,]", &m), 0);
    CHECK_STR(m.idx, "ffff");
    CHECK_INT(m.health.sys_mmhg, 158);
    CHECK_STR(reply(), "[ZJ*5678901234*ffff*0005*bphrt]");
    /* Not hex, or not followed by a 4-character field: no IDX. */
    CHECK_INT(DEC("[ZJ*5678901234*00G1*0002*LK]", &m), NX_EINVAL);
    CHECK_INT(DEC("[ZJ*5678901234*0006*INIT,1]", &m), 0);
    CHECK_STR(m.idx, "");
    CHECK_INT(m.kind, WIRE_INIT);
    CHECK_INT(DEC("[ZJ*5678901234*0002*LK*]", &m), NX_EINVAL); /* '*' is not part of a type */
}

static void test_alarm_spec_example(void)
{
    /* SOS without a GPS fix: still an alarm, flags set, no position fix. */
    CHECK_INT(DEC("[3G*5678901234*006F*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,"
                  "00010000,1,255,460,0,25871,13042,140,0,12.0]",
                  &m),
              0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_SOS);
    CHECK(m.has_status);
    CHECK_INT(m.status, 0x00010000);
    CHECK(m.pos.present);
    CHECK(!m.pos.fix);
    CHECK(!m.pos_error);
    CHECK_INT(m.pos.lat_e6, WIRE_NONE);
    CHECK_INT(m.pos.lon_e6, WIRE_NONE);
    CHECK_INT(m.pos.time_ms, 1793780130000LL); /* 2026-11-04 08:15:30 UTC */
    CHECK_INT(m.pos.speed_kmh_e1, 0);
    CHECK_INT(m.pos.satellites, 0);
    CHECK_INT(m.pos.gsm_signal, 88);
    CHECK_INT(m.battery_pct, 64);
    CHECK_INT(m.steps, 1520);
    CHECK_INT(m.rolls, 0);
    CHECK_INT(m.pos.cell_count, 1);
    CHECK_INT(m.pos.cells_n, 1);
    CHECK_INT(m.pos.ta, 255);
    CHECK_INT(m.pos.mcc, 460);
    CHECK_INT(m.pos.mnc, 0);
    CHECK_INT(m.pos.cells[0].lac, 25871);
    CHECK_INT(m.pos.cells[0].cid, 13042);
    CHECK_INT(m.pos.cells[0].rssi, 140);
    CHECK_INT(m.pos.wifi_count, 0);
    CHECK_INT(m.pos.accuracy_m, 12);
    CHECK_STR(reply(), "[3G*5678901234*0002*AL]");
}

static void test_alarm_flags(void)
{
    static const struct {
        const char *status;
        uint32_t alarms;
    } cases[] = {
        {"00200000", WIRE_AL_FALL},
        {"00100000", WIRE_AL_TAKEN_OFF},
        {"00210000", WIRE_AL_SOS | WIRE_AL_FALL},
        {"00400000", WIRE_AL_HEART_RATE},
        {"00020000", WIRE_AL_LOW_BATTERY},
        {"000C0000", WIRE_AL_FENCE_OUT | WIRE_AL_FENCE_IN},
        {"007F0000", WIRE_AL_SOS | WIRE_AL_LOW_BATTERY | WIRE_AL_FENCE_OUT | WIRE_AL_FENCE_IN | WIRE_AL_TAKEN_OFF |
                         WIRE_AL_FALL | WIRE_AL_HEART_RATE},
        {"00800000", WIRE_AL_GENERAL}, /* bit 23 names no alarm of ours */
        {"00000009", WIRE_AL_GENERAL}, /* states only: AL with no alarm bit is a general alarm */
        {"0000", WIRE_AL_GENERAL},
        {"0", WIRE_AL_GENERAL},
        {"", WIRE_AL_GENERAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char f[256];
        snprintf(f, sizeof f,
                 "[3G*5678901234*0050*AL,041126,081530,A,22.570733,N,113.8626083,E,0,0,0,5,80,50,0,0,%s]",
                 cases[i].status);
        CHECK_INT(watch_decode((const uint8_t *)f, strlen(f), &m, NULL), 0);
        CHECK_INT(m.kind, WIRE_ALARM);
        CHECK_INT(m.alarms, cases[i].alarms);
        CHECK(m.pos.fix);
    }
    /* Low 16 bits are states, reported as they are. */
    CHECK_INT(DEC("[3G*5678901234*0050*UD,041126,081530,A,1,N,1,E,0,0,0,5,80,50,0,0,00004019]", &m), 0);
    CHECK_INT(m.status & 0xFFFF, WIRE_ST_LOW_BATTERY | WIRE_ST_WORN | WIRE_ST_STILL | WIRE_ST_UNPLUGGED);
    CHECK_INT(m.alarms, 0);
    CHECK_INT(m.kind, WIRE_POSITION);
    /* Alarm bits on a position are reported, but the kind stays a position. */
    CHECK_INT(DEC("[3G*5678901234*0050*UD,041126,081530,A,1,N,1,E,0,0,0,5,80,50,0,0,00010000]", &m), 0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK_INT(m.alarms, WIRE_AL_SOS);

    /* Other AL types. */
    CHECK_INT(DEC("[3G*5678901234*0030*ALCUSTOMER1,,,V,,,,,,,,,,,,,0]", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_GENERAL);
    CHECK_STR(reply(), "[3G*5678901234*0002*AL]");
    CHECK_INT(DEC("[3G*5678901234*0030*AL_LTE,041126,081530,V,0,N,0,E,0,0,0,0,0,0,0,0,00200000,0,0]", &m), 0);
    CHECK_INT(m.alarms, WIRE_AL_FALL);
    CHECK_STR(reply(), "[3G*5678901234*0002*AL]");
    CHECK_INT(DEC("[3G*5678901234*0002*al]", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_GENERAL);
    CHECK(!m.pos.present);
    CHECK(!m.pos_error);

    /* A malformed position never hides the alarm: alarm kept, position dropped and flagged. */
    CHECK_INT(DEC("[3G*5678901234*0030*AL,xx,yy,Q,north,,,,]", &m), 0);
    CHECK_INT(m.kind, WIRE_ALARM);
    CHECK_INT(m.alarms, WIRE_AL_GENERAL);
    CHECK(m.pos_error);
    CHECK(!m.pos.present);
    CHECK_INT(m.pos.lat_e6, WIRE_NONE);
    CHECK_STR(reply(), "[3G*5678901234*0002*AL]");
    /* Status parsed before a broken cell list is kept (SOS stays SOS). */
    CHECK_INT(
        DEC("[3G*5678901234*0030*AL,041126,081530,V,0,N,0,E,0,0,0,0,0,70,0,0,00010000,2,1,460,0,1,2,3]", &m),
        0);
    CHECK_INT(m.alarms, WIRE_AL_SOS);
    CHECK(m.pos_error);
    CHECK_INT(m.battery_pct, WIRE_NONE);
}

static void test_position(void)
{
    CHECK_INT(
        DEC("[3G*5678901234*0079*UD,041126,081530,A,22.570733,N,113.8626083,E,12.34,249.5,35.9,6,100,66,"
            "1520,3,00000000,0]",
            &m),
        0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK(m.pos.present);
    CHECK(m.pos.fix);
    CHECK(!m.delayed);
    CHECK_INT(m.pos.lat_e6, 22570733);
    CHECK_INT(m.pos.lon_e6, 113862608); /* 7th decimal truncated */
    CHECK_INT(m.pos.speed_kmh_e1, 123);
    CHECK_INT(m.pos.course_deg_e1, 2495);
    CHECK_INT(m.pos.altitude_m, 35);
    CHECK_INT(m.pos.satellites, 6);
    CHECK_INT(m.pos.gsm_signal, 100);
    CHECK_INT(m.battery_pct, 66);
    CHECK_INT(m.steps, 1520);
    CHECK_INT(m.rolls, 3);
    CHECK_INT(m.pos.cell_count, 0);
    CHECK_INT(m.pos.accuracy_m, WIRE_NONE);
    CHECK_STR(reply(), ""); /* positions get no reply */
    CHECK_INT(m.payload_len,
              strlen("041126,081530,A,22.570733,N,113.8626083,E,12.34,249.5,35.9,6,100,66,1520,3,"
                     "00000000,0"));

    /* UD2 is a late position; UD3, UD_LTE, UD_WCDMA and WT are positions too. */
    CHECK_INT(DEC("[3G*5678901234*0020*UD2,041126,081530,A,1.5,N,2.5,E,0,0,0,0,0,0,0,0,0]", &m), 0);
    CHECK_INT(m.kind, WIRE_POSITION);
    CHECK(m.delayed);
    const char *types[] = {"UD3", "UD_LTE", "UD_WCDMA", "WT", "ud_lte"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char f[128];
        snprintf(f, sizeof f, "[3G*5678901234*0020*%s,041126,081530,A,1.5,N,2.5,E,0,0,0,0,0,0,0,0,0]",
                 types[i]);
        CHECK_INT(watch_decode((const uint8_t *)f, strlen(f), &m, NULL), 0);
        CHECK_INT(m.kind, WIRE_POSITION);
        CHECK_INT(m.pos.lat_e6, 1500000);
        CHECK(!m.delayed);
    }

    /* S and W force a negative value; otherwise the number's own sign; a leading space is fine. */
    CHECK_INT(
        DEC("[SG*123456789*0050*UD,010125,235959,A,33.868820,S,151.209290,W,3.5,90,12,7,60,100,10,0,0]", &m),
        0);
    CHECK_INT(m.pos.lat_e6, -33868820);
    CHECK_INT(m.pos.lon_e6, -151209290);
    CHECK_INT(m.pos.time_ms, 1735775999000LL);
    CHECK_INT(DEC("[SG*123456789*0050*UD,010125,235959,A,-33.868820,S,-151.20929,E,,,,,,,,,]", &m), 0);
    CHECK_INT(m.pos.lat_e6, -33868820);
    CHECK_INT(m.pos.lon_e6, -151209290);
    CHECK_INT(m.pos.speed_kmh_e1, WIRE_NONE);
    CHECK_INT(m.battery_pct, WIRE_NONE);
    CHECK(!m.has_status);
    CHECK_INT(
        DEC("[3G*5678901234*0050*UD3,041126,081530,A, 22.570733,,+113.8626083,,0,0,0,0,0,0,0,0,0000]", &m),
        0);
    CHECK_INT(m.pos.lat_e6, 22570733);
    CHECK_INT(m.pos.lon_e6, 113862608);
    CHECK(m.pos.fix);
    /* 'A' with zero coordinates is no fix; "00.000000" is zero. */
    CHECK_INT(DEC("[3G*5678901234*0050*UD,041126,081530,A,00.000000,N,0,E,0,0,0,0,0,0,0,0,0]", &m), 0);
    CHECK(!m.pos.fix);
    CHECK_INT(m.pos.lat_e6, WIRE_NONE);
    /* 'V' keeps the last coordinates the device sent, without a fix. */
    CHECK_INT(DEC("[3G*5678901234*0050*UD,041126,081530,V,22.5,N,113.5,E,0,0,0,0,0,0,0,0,0]", &m), 0);
    CHECK(!m.pos.fix);
    CHECK_INT(m.pos.lat_e6, 22500000);
    /* Date 000000 (no clock yet) is a valid frame without a time. */
    CHECK_INT(DEC("[3G*5678901234*0050*UD,000000,000000,V,0,N,0,E,0,0,0,0,0,0,0,0,0]", &m), 0);
    CHECK_INT(m.pos.time_ms, 0);
    CHECK_INT(DEC("[3G*5678901234*0050*UD,290224,000000,V,0,N,0,E,0,0,0,0,0,0,0,0,0]", &m), 0);
    CHECK_INT(m.pos.time_ms, 1709164800000LL);
    /* A short frame of only the first seven fields is accepted. */
    CHECK_INT(DEC("[3G*5678901234*0020*UD_LTE,041126,081530,V,0,N,0,E]", &m), 0);
    CHECK_INT(m.kind, WIRE_POSITION);
}

static void test_cells_and_wifi(void)
{
    /* Two cells (one with hex LAC/CID and an empty RSSI), three access points (one SSID with
     * brackets, one with spaces, one empty), then the accuracy. */
    static const char f[] =
        "[3G*5678901234*0099*UD,041126,081530,A,22.570733,N,113.8626083,E,0,0,0,6,100,66,0,0,"
        "0,2,0,460,1,25a1,3f0c,,25872,13043,-80,3,[Home AP],74:de:2b:44:88:8c,-55,my ssid,"
        "AA-BB-CC-DD-EE-FF,-70,,001122334455,,25]";
    CHECK_INT(DEC(f, &m), 0);
    CHECK_INT(m.pos.cell_count, 2);
    CHECK_INT(m.pos.cells_n, 2);
    CHECK_INT(m.pos.mnc, 1);
    CHECK_INT(m.pos.cells[0].lac, 0x25a1);
    CHECK_INT(m.pos.cells[0].cid, 0x3f0c);
    CHECK_INT(m.pos.cells[0].rssi, WIRE_NONE);
    CHECK_INT(m.pos.cells[1].lac, 25872);
    CHECK_INT(m.pos.cells[1].rssi, -80);
    CHECK_INT(m.pos.wifi_count, 3);
    CHECK_INT(m.pos.wifi_n, 3);
    CHECK_STR(m.pos.wifi[0].ssid, "[Home AP]");
    CHECK_STR(m.pos.wifi[0].mac, "74:de:2b:44:88:8c");
    CHECK_INT(m.pos.wifi[0].rssi, -55);
    CHECK_STR(m.pos.wifi[1].ssid, "my ssid");
    CHECK_STR(m.pos.wifi[1].mac, "aa:bb:cc:dd:ee:ff");
    CHECK_STR(m.pos.wifi[2].ssid, "");
    CHECK_STR(m.pos.wifi[2].mac, "00:11:22:33:44:55");
    CHECK_INT(m.pos.wifi[2].rssi, WIRE_NONE);
    CHECK_INT(m.pos.accuracy_m, 25);

    /* An escaped comma inside an SSID. */
    CHECK_INT(DEC("[3G*5678901234*0099*UD,041126,081530,A,1,N,1,E,0,0,0,6,100,66,0,0,0,0,1,a\x7d\x04"
                  "b,74:de:2b:44:88:8c,-55]",
                  &m),
              0);
    CHECK_STR(m.pos.wifi[0].ssid, "a,b");

    /* More cells than stored: the count is kept, the first WIRE_MAX_CELLS stored, the tail still read. */
    char big[1024];
    int o = snprintf(big, sizeof big,
                     "[3G*5678901234*0099*UD,041126,081530,A,1,N,1,E,0,0,0,6,100,66,0,0,0,10,0,460,0");
    for (int i = 0; i < 10; i++)
        o += snprintf(big + o, sizeof big - (size_t)o, ",%d,%d,-%d", 100 + i, 200 + i, 50 + i);
    snprintf(big + o, sizeof big - (size_t)o, ",0,7]");
    CHECK_INT(watch_decode((const uint8_t *)big, strlen(big), &m, NULL), 0);
    CHECK_INT(m.pos.cell_count, 10);
    CHECK_INT(m.pos.cells_n, WIRE_MAX_CELLS);
    CHECK_INT(m.pos.cells[7].cid, 207);
    CHECK_INT(m.pos.accuracy_m, 7);

    /* Older firmware: cells but no Wi-Fi count. */
    CHECK_INT(DEC("[3G*5678901234*0099*UD,041126,081530,A,1,N,1,E,0,0,0,6,100,66,0,0,0,1,0,460,0,1,2,3]", &m),
              0);
    CHECK_INT(m.pos.cells_n, 1);
    CHECK_INT(m.pos.wifi_count, 0);

    /* Counts that promise more than the frame holds: malformed, nothing stored. */
    CHECK_INT(DEC("[3G*5678901234*0099*UD,041126,081530,A,1,N,1,E,0,0,0,6,100,66,0,0,0,2,0,460,0,1,2,3]", &m),
              NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
    CHECK(!m.pos.present);
    CHECK_INT(DEC("[3G*5678901234*0099*UD,041126,081530,A,1,N,1,E,0,0,0,6,100,66,0,0,0,0,2,a,1:2,-5]", &m),
              NX_EINVAL);
    CHECK_INT(
        DEC("[3G*5678901234*0099*UD,041126,081530,A,1,N,1,E,0,0,0,6,100,66,0,0,0,1,0,460,0,xyz,2,3,0]", &m),
        NX_EINVAL);
}

static void test_health(void)
{
    /* The spec's example. */
    CHECK_INT(DEC("[3G*5678901234*0014*bphrt,158,96,104,,,,]", &m), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.sys_mmhg, 158);
    CHECK_INT(m.health.dia_mmhg, 96);
    CHECK_INT(m.health.hr_bpm, 104);
    CHECK_INT(m.health.spo2_pct, WIRE_NONE);
    CHECK_STR(reply(), "[3G*5678901234*0005*bphrt]");
    CHECK_INT(DEC("[3G*5678901234*0014*BPHRT,120,80,0,170,1,80,60]", &m), 0);
    CHECK_INT(m.health.sys_mmhg, 120);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE); /* 0 = no value */
    CHECK_STR(reply(), "[3G*5678901234*0005*BPHRT]");

    CHECK_INT(DEC("[3G*5678901234*000C*BLOOD,130,85]", &m), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.sys_mmhg, 130);
    CHECK_INT(m.health.dia_mmhg, 85);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE);
    CHECK_STR(reply(), "");
    CHECK_INT(DEC("[3G*5678901234*000C*blood,130,85,66]", &m), 0);
    CHECK_INT(m.health.hr_bpm, 66);

    CHECK_INT(DEC("[3G*5678901234*0008*PULSE,72]", &m), 0);
    CHECK_INT(m.health.hr_bpm, 72);
    CHECK_STR(reply(), "");
    CHECK_INT(DEC("[3G*5678901234*0008*heart,0]", &m), 0);
    CHECK_INT(m.kind, WIRE_HEALTH);
    CHECK_INT(m.health.hr_bpm, WIRE_NONE);

    CHECK_INT(DEC("[3G*5678901234*000A*oxygen,1,97]", &m), 0);
    CHECK_INT(m.health.spo2_pct, 97);
    CHECK_STR(reply(), "[3G*5678901234*0008*oxygen,1]");
    CHECK_INT(DEC("[3G*5678901234*000A*OXYGEN,1,85]", &m), 0);
    CHECK_INT(m.health.spo2_pct, 85);
    CHECK_STR(reply(), "[3G*5678901234*0008*OXYGEN,0]");

    CHECK_INT(DEC("[3G*5678901234*000E*btemp2,1,36.55]", &m), 0);
    CHECK_INT(m.health.temp_c_e1, 365);
    CHECK_INT(m.health.temp_mode, 1);
    CHECK_STR(reply(), "[3G*5678901234*0006*btemp2]");
    CHECK_INT(DEC("[3G*5678901234*0009*TEMP,36.8]", &m), 0);
    CHECK_INT(m.health.temp_c_e1, 368);
    CHECK_INT(m.health.temp_mode, WIRE_NONE);
    CHECK_STR(reply(), "");

    /* Values that do not parse or are out of range: malformed, never a partial reading. */
    CHECK_INT(DEC("[3G*5678901234*0014*bphrt,158,abc,104]", &m), NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
    CHECK_INT(m.health.sys_mmhg, WIRE_NONE);
    CHECK_INT(DEC("[3G*5678901234*0008*PULSE,999]", &m), NX_EINVAL);
    CHECK_INT(DEC("[3G*5678901234*000A*oxygen,1,101]", &m), NX_EINVAL);
    CHECK_INT(DEC("[3G*5678901234*0009*TEMP,-3]", &m), NX_EINVAL);
}

static void test_other_types(void)
{
    CHECK_INT(DEC("[3G*5678901234*0020*CONFIG,TY:g36,UL:60,SY:0]", &m), 0);
    CHECK_INT(m.kind, WIRE_CONFIG);
    CHECK_STR(reply(), "[3G*5678901234*0008*CONFIG,1]");
    CHECK_INT(DEC("[3G*5678901234*0019*CCID,89860117851014783481]", &m), 0);
    CHECK_INT(m.kind, WIRE_CCID);
    CHECK_STR(m.iccid, "89860117851014783481");
    CHECK_STR(reply(), "[3G*5678901234*0004*CCID]");
    CHECK_INT(DEC("[3G*5678901234*0003*TKQ]", &m), 0);
    CHECK_INT(m.kind, WIRE_VOICE_QUERY);
    CHECK_STR(reply(), "[3G*5678901234*0003*TKQ]");
    CHECK_INT(DEC("[3G*5678901234*0004*TKQ2]", &m), 0);
    CHECK_STR(reply(), "[3G*5678901234*0004*TKQ2]");
    CHECK_INT(DEC("[3G*5678901234*0010*INIT,13800138000,1,1,gc66]", &m), 0);
    CHECK_INT(m.kind, WIRE_INIT);
    CHECK_STR(reply(), "[3G*5678901234*0006*INIT,1]");

    /* Answers to server commands and unknown types: recorded, not answered. */
    CHECK_INT(DEC("[3G*5678901234*0002*CR]", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_STR(m.type, "CR");
    CHECK_STR(reply(), "");
    CHECK_INT(DEC("[3G*5678901234*0006*UPLOAD]", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_INT(DEC("[3G*5678901234*0006*hrtstart]", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_INT(DEC("[3G*5678901234*0009*WHATEVER,1,2]", &m), 0);
    CHECK_INT(m.kind, WIRE_UNKNOWN);
    CHECK_STR(m.type, "WHATEVER");
    CHECK_INT(m.payload_len, 3);
    CHECK(memcmp(m.payload, "1,2", 3) == 0);
    CHECK_STR(reply(), "");
}

static void test_voice_and_escapes(void)
{
    static const char f[] = "[3G*5678901234*0010*TK,#!AMR\n\x7d\x01\x7d\x02\x7d\x03\x7d\x04\x7d\x05\x00\xff]";
    CHECK_INT(DEC(f, &m), 0);
    CHECK_INT(m.kind, WIRE_VOICE);
    CHECK_STR(reply(), "[3G*5678901234*0004*TK,1]");
    uint8_t v[64];
    size_t vn = 0;
    CHECK_INT(watch_unescape(m.payload, m.payload_len, v, sizeof v, &vn), 0);
    static const uint8_t want[] = {'#', '!', 'A', 'M', 'R', '\n', 0x7D, '[', ']', ',', '*', 0x00, 0xFF};
    CHECK_INT(vn, sizeof want);
    CHECK(memcmp(v, want, sizeof want) == 0);
    CHECK(m.raw == (const uint8_t *)f);
    CHECK_INT(m.raw_len, sizeof f - 1);

    /* The device's 1-byte TK,1 / TK,0 is its own ack: no reply. */
    CHECK_INT(DEC("[3G*5678901234*0004*TK,1]", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_STR(reply(), "");
    CHECK_INT(DEC("[3G*5678901234*0004*TK,0]", &m), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);

    /* Invalid escapes anywhere in a frame fail it. */
    CHECK_INT(DEC("[3G*5678901234*0010*TK,#!AMR\x7d\x06]", &m), NX_EINVAL);
    CHECK_INT(m.kind, WIRE_NONE_KIND);
    CHECK_INT(DEC("[3G*5678901234*0010*TK,#!AMR\x7d\x00]", &m), NX_EINVAL);
    CHECK_INT(DEC("[3G*5678901234*0010*TK,#!AMR\x7d]", &m), NX_EINVAL);
    CHECK_INT(DEC("[3G*5678901234*0010*LK,1\x7d\x07]", &m), NX_EINVAL);
    CHECK_INT(watch_unescape((const uint8_t *)"a\x7d", 2, v, sizeof v, &vn), NX_EINVAL);
    CHECK_INT(watch_unescape((const uint8_t *)"a\x7d\x01", 3, v, 1, &vn), NX_ETOOBIG);

    /* Escape round trip over every byte value. */
    uint8_t all[256], esc[512], back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    size_t en, bn;
    CHECK_INT(watch_escape(all, sizeof all, esc, sizeof esc, &en), 0);
    CHECK_INT(en, 256 + 5);
    CHECK(memchr(esc, '[', en) == NULL && memchr(esc, ']', en) == NULL && memchr(esc, ',', en) == NULL);
    CHECK_INT(watch_unescape(esc, en, back, sizeof back, &bn), 0);
    CHECK_INT(bn, 256);
    CHECK(memcmp(all, back, 256) == 0);
    CHECK_INT(watch_escape(all, sizeof all, esc, 260, &en), NX_ETOOBIG);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "[",
        "]",
        "[]",
        "3G*5678901234*0002*LK]",
        "[3G*5678901234*0002*LK",
        "[3*5678901234*0002*LK]",
        "[3GX*5678901234*0002*LK]",
        "[3G**0002*LK]",
        "[3G*56789x1234*0002*LK]",
        "[3G*5678901234*LK]",
        "[3G*5678901234*002*LK]",
        "[3G*5678901234*0002*]",
        "[3G*5678901234*0002*,1,2]",
        "[3G*5678901234*0002*L K]",
        "[3G*5678901234*0002*ABCDEFGHIJKLMNOPQRSTUVWXYZ]",
        "[3G*5678901234*0020*UD]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,N]",
        "[3G*5678901234*0020*UD,041126,081530,A,91,N,1,E,0,0,0,0,0,0,0,0,0]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,N,181,E,0,0,0,0,0,0,0,0,0]",
        "[3G*5678901234*0020*UD,041126,081530,X,1,N,1,E,0,0,0,0,0,0,0,0,0]",
        "[3G*5678901234*0020*UD,41126,081530,A,1,N,1,E,0,0,0,0,0,0,0,0,0]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,Q,1,E,0,0,0,0,0,0,0,0,0]",
        "[3G*5678901234*0020*UD,041126,081530,A,1.2.3,N,1,E,0,0,0,0,0,0,0,0,0]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,N,1,E,0,0,0,0,0,101,0,0,0]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,N,1,E,0,0,0,0,0,0,0,0,XYZ]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,N,1,E,0,0,0,0,0,0,0,0,123456789]",
        "[3G*5678901234*0020*UD,041126,081530,A,1,N,1,E,0,0,0,0,0,0,0,0,0,65]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nx_err e;
        nx_err_clear(&e);
        int rc = watch_decode((const uint8_t *)bad[i], strlen(bad[i]), &m, &e);
        if (rc != NX_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(rc, NX_EINVAL);
        CHECK_INT(m.kind, WIRE_NONE_KIND);
        CHECK_INT(e.code, NX_EINVAL);
        CHECK(e.msg[0] != '\0');
        CHECK_INT(watch_reply(&m, out, sizeof out, &n), NX_EINVAL);
        CHECK_INT(n, 0);
    }
    CHECK_INT(watch_decode(NULL, 0, &m, NULL), NX_EINVAL);
}

static void test_reply_limits(void)
{
    CHECK_INT(DEC("[3G*5678901234*0002*LK]", &m), 0);
    char small[10];
    CHECK_INT(watch_reply(&m, small, sizeof small, &n), NX_ETOOBIG);
    CHECK_INT(n, 0);
    CHECK_STR(small, "");
    char exact[sizeof "[3G*5678901234*0002*LK]"];
    CHECK_INT(watch_reply(&m, exact, sizeof exact, &n), 0);
    CHECK_STR(exact, "[3G*5678901234*0002*LK]");
    CHECK_INT(watch_reply(&m, exact, sizeof exact - 1, &n), NX_ETOOBIG);
}

static const char *cmd(const wire_cmd *c, const char *mf)
{
    if (watch_encode_cmd(c, mf, "5678901234", out, sizeof out, &n, NULL) != 0)
        return "(error)";
    CHECK_INT(n, strlen(out));
    return out;
}

static void test_commands(void)
{
    wire_cmd c = {.kind = WIRE_CMD_LOCATE};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0002*CR]"); /* 3G devices are sent SG */
    CHECK_STR(cmd(&c, "SG"), "[SG*5678901234*0002*CR]");
    CHECK_STR(cmd(&c, "ZJ"), "[ZJ*5678901234*0002*CR]");
    c = (wire_cmd){.kind = WIRE_CMD_UPLOAD, .seconds = 300};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*000a*UPLOAD,300]");
    c.seconds = 60;
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0009*UPLOAD,60]");
    c.seconds = 59;
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c.seconds = 65536;
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_SOS_NUMBERS, .phones = {"13800138000", "+8613900139000", NULL}};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*001f*SOS,13800138000,+8613900139000,]");
    c.phones[2] = "12a";
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_SOS_NUMBER, .slot = 2, .phones = {"13800138000"}};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0010*SOS2,13800138000]");
    c.slot = 4;
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_CENTER, .phones = {"13800138000"}};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0012*CENTER,13800138000]");
    c.phones[0] = "138,0013";
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_FALL_DETECT, .on = 1, .call_centre = 1};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*000c*FALLDOWN,1,1]");
    c.on = 2;
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_FALL_LEVEL, .level = 3};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0009*LSSET,3+6]");
    c.level = 0;
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c = (wire_cmd){.kind = WIRE_CMD_LOWBAT_ALARM, .on = 1};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0008*LOWBAT,1]");
    c = (wire_cmd){.kind = WIRE_CMD_REMOVE_ALARM, .on = 0};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0008*REMOVE,0]");
    c = (wire_cmd){.kind = WIRE_CMD_HR_INTERVAL, .seconds = 600};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*000c*hrtstart,600]");
    c = (wire_cmd){.kind = WIRE_CMD_HR_NOW};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*000a*hrtstart,1]");
    c = (wire_cmd){.kind = WIRE_CMD_MESSAGE, .text = "text"};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0018*MESSAGE,0074006500780074]");
    c.text = "你好";
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0010*MESSAGE,4F60597D]");
    c.text = "\xF0\x9F\x98\x80"; /* U+1F600: a surrogate pair */
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0010*MESSAGE,D83DDE00]");
    c.text = "";
    CHECK_STR(cmd(&c, "3G"), "(error)");
    c.text = "\xE4\xBD";
    CHECK_STR(cmd(&c, "3G"), "(error)");
    char longtext[WIRE_TEXT_MAX + 2];
    memset(longtext, 'a', sizeof longtext - 1);
    longtext[WIRE_TEXT_MAX + 1] = '\0';
    c.text = longtext;
    CHECK_STR(cmd(&c, "3G"), "(error)");
    longtext[WIRE_TEXT_MAX] = '\0';
    CHECK(strncmp(cmd(&c, "3G"), "[SG*5678901234*01e8*MESSAGE,0061", 32) == 0);
    c = (wire_cmd){.kind = WIRE_CMD_LANG_TZ, .lang = 1, .tz_hours = 8};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0006*LZ,1,8]");
    c = (wire_cmd){.kind = WIRE_CMD_RESET};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0005*RESET]");
    c = (wire_cmd){.kind = WIRE_CMD_POWEROFF};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0008*POWEROFF]");
    c = (wire_cmd){.kind = WIRE_CMD_FIND};
    CHECK_STR(cmd(&c, "3G"), "[SG*5678901234*0004*FIND]");

    /* Bad ids, manufacturers and kinds. */
    c = (wire_cmd){.kind = WIRE_CMD_LOCATE};
    nx_err e;
    CHECK_INT(watch_encode_cmd(&c, "3G", "12ab", out, sizeof out, &n, &e), NX_EINVAL);
    CHECK_STR(e.field, "id");
    CHECK_INT(watch_encode_cmd(&c, "3G*", "1234", out, sizeof out, &n, NULL), NX_EINVAL);
    CHECK_INT(watch_encode_cmd(&c, "3G", "1234", out, 10, &n, NULL), NX_ETOOBIG);
    c.kind = 999;
    CHECK_INT(watch_encode_cmd(&c, "3G", "1234", out, sizeof out, &n, NULL), NX_EUNSUPP);

    /* The generic frame builder, with IDX and a binary (escaped) payload. */
    uint8_t esc[16];
    size_t en;
    CHECK_INT(watch_escape((const uint8_t *)"a,b", 3, esc, sizeof esc, &en), 0);
    char content[32] = "TK,";
    memcpy(content + 3, esc, en);
    CHECK_INT(watch_frame("ZJ", "5678901234", "00a1", content, 3 + en, out, sizeof out, &n), 0);
    CHECK_INT(n, strlen("[ZJ*5678901234*00a1*0007*TK,a}\x04"
                        "b]"));
    CHECK(memcmp(out,
                 "[ZJ*5678901234*00a1*0007*TK,a\x7d\x04"
                 "b]",
                 n) == 0);
    CHECK_INT(watch_frame("ZJ", "5678901234", "00g1", "LK", 2, out, sizeof out, &n), NX_EINVAL);
    CHECK_STR(out, ""); /* a failed build leaves an empty string, never half a frame */
    /* A command is itself a well-formed frame. */
    c = (wire_cmd){.kind = WIRE_CMD_SOS_NUMBERS, .phones = {"1", "2", "3"}};
    cmd(&c, "3G");
    CHECK_INT(watch_decode((const uint8_t *)out, n, &m, NULL), 0);
    CHECK_INT(m.kind, WIRE_CMD_REPLY);
    CHECK_STR(m.type, "SOS");
}

int main(void)
{
    TEST_RUN(test_keepalive);
    TEST_RUN(test_idx);
    TEST_RUN(test_alarm_spec_example);
    TEST_RUN(test_alarm_flags);
    TEST_RUN(test_position);
    TEST_RUN(test_cells_and_wifi);
    TEST_RUN(test_health);
    TEST_RUN(test_other_types);
    TEST_RUN(test_voice_and_escapes);
    TEST_RUN(test_malformed);
    TEST_RUN(test_reply_limits);
    TEST_RUN(test_commands);
    return TEST_DONE();
}
