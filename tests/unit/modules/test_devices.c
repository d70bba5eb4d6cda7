/* test_devices.c — the rules of the devices module: bands, steps, distance (pure), then ingest,
 * duplicate suppression, escalation, acknowledgement, resolution and the offline rule on a real,
 * migrated SQLite store with pinned instants.
 *
 * Expected values are worked out by hand: the default bands are HR 50-120, systolic 90-160,
 * diastolic ≤ 100, SpO2 ≥ 90, temperature 35.0-37.5 (both ends allowed); 0.001° of latitude is
 * 6371008.8 m × π/180 × 0.001 = 111.195 m. Escalation with esc = 60 s: an SOS opened at t0 escalates
 * to level 1 at t0+60 s (not at t0+59 s), to level 2 at t0+120 s, and never again. An SOS repeated
 * within 60 s of an unanswered one merges; after an acknowledgement, or more than 60 s later, it is
 * a new alarm. The store-level tests run on SQLite and, with NX_TEST_PG, again on PostgreSQL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/str.h"
#include "modules/devices/devices.h"
#include "store/store.h"
#include "wire/watch.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"


static void test_bands(void)
{
    devices_alert_rules r;
    devices_rules_default(&r);
    const char *k[4];
    wire_health h = {WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE};
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.hr_bpm = 50;
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.hr_bpm = 49;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    CHECK_STR(k[0], "heart_rate");
    h.hr_bpm = 120;
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.hr_bpm = 121;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    h.hr_bpm = 0; /* 0 = no reading */
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.sys_mmhg = 160;
    h.dia_mmhg = 100;
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.dia_mmhg = 101;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    CHECK_STR(k[0], "blood_pressure");
    h.dia_mmhg = 80;
    h.sys_mmhg = 89;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    h.sys_mmhg = 120;
    h.spo2_pct = 90;
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.spo2_pct = 89;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    CHECK_STR(k[0], "spo2");
    h.spo2_pct = 97;
    h.temp_c_e1 = 375;
    CHECK_INT(devices_rules_check(&r, &h, k), 0);
    h.temp_c_e1 = 376;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    CHECK_STR(k[0], "temperature");
    h.temp_c_e1 = 349;
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
    wire_health all = {.hr_bpm = 40,
                       .sys_mmhg = 190,
                       .dia_mmhg = 110,
                       .spo2_pct = 80,
                       .temp_c_e1 = 390,
                       .temp_mode = WIRE_NONE,
                       .sugar_mmol_e2 = WIRE_NONE};
    CHECK_INT(devices_rules_check(&r, &all, k), 4);
    CHECK_STR(k[0], "heart_rate");
    CHECK_STR(k[3], "temperature");
    r.hr_max = 100; /* a resident's own band */
    h = (wire_health){110, WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE, WIRE_NONE};
    CHECK_INT(devices_rules_check(&r, &h, k), 1);
}

static void test_steps_and_distance(void)
{
    CHECK_INT(devices_steps_add(WIRE_NONE, 500, 0), 0); /* the first value is a baseline */
    CHECK_INT(devices_steps_add(500, 620, 0), 120);
    CHECK_INT(devices_steps_add(620, 30, 120), 150); /* reset: counts from zero */
    CHECK_INT(devices_steps_add(620, 620, 7), 7);
    CHECK_INT(devices_steps_add(620, -1, 7), 7);
    double d = devices_distance_m(36000000, 116000000, 36001000, 116000000);
    CHECK(d > 110.7 && d < 111.7);
    CHECK(devices_distance_m(36457400, 116298400, 36457400, 116298400) < 0.001);
    /* 0.001° of longitude at 60° N is half of that at the equator: 55.6 m */
    double lon = devices_distance_m(60000000, 10000000, 60000000, 10001000);
    CHECK(lon > 55.3 && lon < 55.9);
}

static int setup(void)
{
    if (tb_app_open("devices.db", NULL, NULL))
        return -1;
    /* blobs in the backend's spelling; rows with fixed ids move PostgreSQL's identity sequences past them */
    const char *b00 = tb_pg() ? "'\\x00'::bytea" : "X'00'", *b01 = tb_pg() ? "'\\x01'::bytea" : "X'01'";
    char sql[2400];
    snprintf(sql, sizeof sql,
             "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
             "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES (1, 1, '第一网格', 0, 0);"
             "INSERT INTO residents (id, community_id, grid_id, name, name_s, name_pinyin, name_initials, sort_key, "
             "sex, birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES "
             "(1, 1, 1, '周桂兰', '周桂兰', 'zhouguilan', 'zgl', %s, 2, '1934-05-12', %s, %s, '0000', 0, 0);"
             "INSERT INTO users (id, username, display_name, role, scope, community_id, grid_id, password_hash, "
             "created_at, updated_at) VALUES (1, 'wg1', '李网格', 'grid', 'grid', 1, 1, 'x', 0, 0);"
             "INSERT INTO devices (id, imei, protocol, registered, community_id, grid_id, resident_id, online, "
             "created_at, updated_at) VALUES (1, '5678901234', 'watch', 1, 1, 1, 1, 0, 0, 0);",
             b01, b00, b01);
    int rc = exec_w(sql);
    if (rc == 0 && tb_pg())
        rc = exec_w("SELECT setval(pg_get_serial_sequence('streets', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('communities', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('grids', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('residents', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('users', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('devices', 'id'), 1);");
    return rc;
}

static void teardown(void)
{
    store_close(app.db);
    app.db = NULL;
}

/* Ingest one watch frame at instant at; returns the alert id (0 for none) or -1. */
static int64_t ingest(const char *frame, int64_t at)
{
    devices_in in;
    memset(&in, 0, sizeof in);
    in.kind = DEVICES_IN_FRAME;
    in.proto = WIRE_PROTO_WATCH;
    in.at = at;
    nx_err e = {0};
    if (watch_decode((const uint8_t *)frame, strlen(frame), &in.msg, &e) != 0)
        return -1;
    str_copy(in.imei, in.msg.device_id, sizeof in.imei);
    int64_t id = 0;
    if (devices_ingest(app.db, &in, 1, 60000, &id, &e) != 0) {
        fprintf(stderr, "ingest: %s\n", e.msg);
        return -1;
    }
    return id;
}

#define SOS "[3G*5678901234*0050*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000]"
#define LOWBAT "[3G*5678901234*0050*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,9,1520,0,00020000]"

static void test_suppression_and_escalation(void)
{
    const int64_t t0 = 1795000000000LL; /* 2026-11-18 */
    nx_err e = {0};
    int64_t a1 = ingest(SOS, t0);
    CHECK(a1 > 0);
    CHECK_INT(q_int("SELECT fix FROM alerts WHERE kind = 'sos'"), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE lat_e6 IS NULL"), 1);
    CHECK_INT(q_int("SELECT resident_id FROM alerts"), 1);
    /* the watch repeats the unanswered SOS 30 s later: merged */
    CHECK_INT(ingest(SOS, t0 + 30000), a1);
    CHECK_INT(q_int("SELECT repeats FROM alerts WHERE kind = 'sos'"), 1);
    int n = -1;
    CHECK_INT(devices_tick(app.db, t0 + 59999, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(n, 0);
    CHECK_INT(devices_tick(app.db, t0 + 60000, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(n, 1);
    CHECK_INT(q_int("SELECT escalation_level FROM alerts"), 1);
    CHECK_INT(q_int("SELECT next_escalation_at FROM alerts") - t0, 120000);
    CHECK_INT(devices_tick(app.db, t0 + 119999, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(n, 0);
    CHECK_INT(devices_tick(app.db, t0 + 120000, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(n, 1);
    CHECK_INT(q_int("SELECT escalation_level FROM alerts"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE next_escalation_at IS NULL"), 1);
    CHECK_INT(devices_tick(app.db, t0 + 999999, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(n, 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'devices.alert.escalated'"), 2);
    /* acknowledged: a new press is a new alarm, even within 60 s */
    nx_principal g1 = {.user_id = 1, .role = ROLE_GRID, .scope = SCOPE_GRID, .community_id = 1, .grid_id = 1};
    nx_principal g2 = {.user_id = 1, .role = ROLE_GRID, .scope = SCOPE_GRID, .community_id = 1, .grid_id = 2};
    CHECK_INT(devices_alert_ack(&app, &g2, a1, NULL, t0 + 130000, &e), NX_ENOTFOUND);
    CHECK_INT(devices_alert_ack(&app, &g1, a1, "收到", t0 + 130000, &e), 0);
    CHECK_INT(q_int("SELECT ack_ms FROM alerts WHERE state = 'acknowledged'"), 130000);
    CHECK_INT(devices_alert_ack(&app, &g1, a1, NULL, t0 + 131000, &e), NX_ECONFLICT);
    int64_t a2 = ingest(SOS, t0 + 140000);
    CHECK(a2 > a1);
    /* an unanswered SOS whose last frame is more than 60 s old does not swallow a new one */
    int64_t a3 = ingest(SOS, t0 + 200001);
    CHECK(a3 > a2);
    CHECK_INT(ingest(SOS, t0 + 230000), a3);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'sos'"), 3);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'devices.alert.opened'"), 3);
    /* low battery: repeats within 30 minutes merge, also once acknowledged */
    int64_t b1 = ingest(LOWBAT, t0);
    CHECK(b1 > 0);
    CHECK_INT(devices_alert_ack(&app, &g1, b1, NULL, t0 + 1000, &e), 0);
    CHECK_INT(ingest(LOWBAT, t0 + 29 * 60000), b1);
    CHECK(ingest(LOWBAT, t0 + 29 * 60000 + 30 * 60000 + 1) != b1);
    /* resolve: note required, event with needs_followup */
    CHECK_INT(devices_alert_resolve(&app, &g1, a1, false, "  ", true, t0 + 300000, &e), NX_EINVAL);
    CHECK_INT(devices_alert_resolve(&app, &g1, a1, false, "已上门", true, t0 + 300000, &e), 0);
    CHECK_INT(q_int("SELECT resolve_ms FROM alerts WHERE id = 1"), 300000);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'devices.alert.resolved' AND "
                    "payload LIKE '%\"needs_followup\":true%' AND payload LIKE '%\"alert_id\":1,%' "
                    "AND payload LIKE '%\"resident_id\":1,%'"),
              1);
    CHECK_INT(devices_alert_resolve(&app, &g1, a1, true, "again", false, t0 + 300001, &e), NX_ECONFLICT);
    nx_principal fam = {.user_id = 1, .role = ROLE_FAMILY, .scope = SCOPE_SELF, .resident_id = 1};
    CHECK_INT(devices_alert_resolve(&app, &fam, a2, true, "x", false, t0 + 1, &e), NX_EPERM);
}

static void test_offline_rule(void)
{
    const int64_t t = 1795100000000LL;
    nx_err e = {0};
    CHECK_INT(exec_w("UPDATE devices SET last_seen_at = 1795100000000 - 3600000, online = 1 WHERE id = 1"), 0);
    int n;
    CHECK_INT(devices_tick(app.db, t - 1, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'offline'"), 0);
    /* the gateway has listened for 30 minutes only: an hour's silence is not the device's fault */
    CHECK_INT(devices_tick(app.db, t + 1, 60000, 0, t - 1800000, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'offline'"), 0);
    CHECK_INT(devices_tick(app.db, t + 1, 60000, 900000, t - 3600000, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'offline'"), 1);
    CHECK_INT(q_int("SELECT online FROM devices WHERE id = 1"), 0);
    CHECK_INT(devices_tick(app.db, t + 60000, 60000, 900000, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'offline'"), 1);
    /* a per-resident rule of 0 minutes turns it off */
    CHECK_INT(exec_w("UPDATE alerts SET state = 'resolved' WHERE kind = 'offline';"
                     "INSERT INTO alert_rules (resident_id, community_id, offline_min, updated_at) VALUES (1, 1, 0, 0);"
                     "UPDATE devices SET last_seen_at = 1795100000000 WHERE id = 1"),
              0);
    CHECK_INT(devices_tick(app.db, t + 10 * 3600000LL, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'offline'"), 1);
}

/* Several frames of one device in one batch: each counts from the one before (steps), and the device
 * row ends with the last of everything (fix, readings, battery), as if they came one by one. */
static void test_batch_of_one_device(void)
{
    const char *frames[] = {
        "[3G*5678909999*0002*LK,100,3,80]",
        "[3G*5678909999*0050*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,150,0,00000008]",
        "[3G*5678909999*0014*bphrt,150,95,88,,,,]",
        "[3G*5678909999*0050*UD,041126,081630,A,36.458400,N,116.299400,E,1.2,90.0,30.0,6,80,74,180,0,00000008]",
        "[3G*5678909999*0002*LK,190,3,73]",
    };
    enum { N = sizeof frames / sizeof frames[0] };
    devices_in in[N];
    nx_err e = {0};
    const int64_t at = 1795300000000LL;
    for (int i = 0; i < N; i++) {
        memset(&in[i], 0, sizeof in[i]);
        in[i].kind = DEVICES_IN_FRAME;
        in[i].proto = WIRE_PROTO_WATCH;
        in[i].at = at + i * 1000;
        CHECK_INT(watch_decode((const uint8_t *)frames[i], strlen(frames[i]), &in[i].msg, &e), 0);
        in[i].msg.raw = in[i].msg.payload = NULL;
        str_copy(in[i].imei, "5678909999", sizeof in[i].imei);
    }
    CHECK_INT(devices_ingest(app.db, in, N, 60000, NULL, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM devices WHERE imei = '5678909999'"), 1);
    CHECK_INT(q_int("SELECT steps_today FROM devices WHERE imei = '5678909999'"), 90);
    CHECK_INT(q_int("SELECT step_counter FROM devices WHERE imei = '5678909999'"), 190);
    CHECK_INT(q_int("SELECT s.steps FROM device_steps s JOIN devices d ON d.id = s.device_id "
                    "WHERE d.imei = '5678909999'"),
              90);
    CHECK_INT(q_int("SELECT last_lat_e6 FROM devices WHERE imei = '5678909999'"), 36458400);
    CHECK_INT(q_int("SELECT last_sys FROM devices WHERE imei = '5678909999'"), 150);
    CHECK_INT(q_int("SELECT last_hr FROM devices WHERE imei = '5678909999'"), 88);
    CHECK_INT(q_int("SELECT battery FROM devices WHERE imei = '5678909999'"), 73);
    CHECK_INT(q_int("SELECT last_seen_at FROM devices WHERE imei = '5678909999'"), at + 4000);
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_positions p JOIN devices d ON d.id = p.device_id "
                    "WHERE d.imei = '5678909999'"),
              2);
    /* A frame and then the connection's end in one batch: the row written once per batch still ends
     * offline, with the frame's battery and time. */
    in[0].at = at + 10000;
    in[0].msg.battery_pct = 55;
    memset(&in[1], 0, sizeof in[1]);
    in[1].kind = DEVICES_IN_OFFLINE;
    in[1].proto = WIRE_PROTO_WATCH;
    in[1].at = at + 11000;
    str_copy(in[1].imei, "5678909999", sizeof in[1].imei);
    CHECK_INT(devices_ingest(app.db, in, 2, 60000, NULL, &e), 0);
    CHECK_INT(q_int("SELECT online FROM devices WHERE imei = '5678909999'"), 0);
    CHECK_INT(q_int("SELECT battery FROM devices WHERE imei = '5678909999'"), 55);
    CHECK_INT(q_int("SELECT last_seen_at FROM devices WHERE imei = '5678909999'"), at + 10000);
}

/* devices_ingest_with's yield: after yield_after answers of "no", "yes". */
typedef struct yield_count {
    int asked, yield_after;
} yield_count;

static bool yield_late(void *ctx)
{
    yield_count *y = ctx;
    return ++y->asked > y->yield_after;
}

/* A batch of telemetry gives way to an alarm queued at any point before its commit, not only between
 * its frames: an alarm queued while the batch writes its last inserts and its device rows (the asks
 * after the last frame) still rolls it back, nothing written (issue 18: that tail of a batch was what
 * an alarm waited for). */
static void test_yield_at_batch_end(void)
{
    const char *frames[] = {
        "[3G*5678908888*0002*LK,100,3,80]",
        "[3G*5678908888*0050*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,150,0,00000008]",
        "[3G*5678907777*0014*bphrt,150,95,88,,,,]",
    };
    enum { N = sizeof frames / sizeof frames[0] };
    devices_in in[N];
    nx_err e = {0};
    const int64_t at = 1795300000000LL;
    for (int i = 0; i < N; i++) {
        memset(&in[i], 0, sizeof in[i]);
        in[i].kind = DEVICES_IN_FRAME;
        in[i].proto = WIRE_PROTO_WATCH;
        in[i].at = at + i * 1000;
        CHECK_INT(watch_decode((const uint8_t *)frames[i], strlen(frames[i]), &in[i].msg, &e), 0);
        in[i].msg.raw = in[i].msg.payload = NULL;
        str_copy(in[i].imei, i < 2 ? "5678908888" : "5678907777", sizeof in[i].imei);
    }
    int64_t before = q_int("SELECT COUNT(*) FROM device_positions");
    /* asked before frames 2 and 3 (no), then at the closing writes (yes) */
    yield_count y = {.yield_after = N - 1};
    devices_ingest_opts o = {.esc_ms = 60000, .yield = yield_late, .yield_ctx = &y, .lazy = true};
    CHECK_INT(devices_ingest_with(app.db, in, N, &o, NULL, &e), DEVICES_YIELDED);
    CHECK_INT(y.asked, N);
    CHECK_INT(q_int("SELECT COUNT(*) FROM devices WHERE imei IN ('5678908888', '5678907777')"), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_positions"), before);
    /* asked at every closing write too, never "yes": written whole */
    y = (yield_count){.yield_after = 1000};
    CHECK_INT(devices_ingest_with(app.db, in, N, &o, NULL, &e), 0);
    CHECK(y.asked > N);
    CHECK_INT(q_int("SELECT COUNT(*) FROM devices WHERE imei IN ('5678908888', '5678907777')"), 2);
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_positions"), before + 1);
}

/* The rows of sql (integer columns or NULL) as one text, row by row, for comparing two sets. */
static void rows_text(const char *sql, strbuf *out)
{
    nx_err e = {0};
    store_tx *tx = NULL;
    store_rows *r = NULL;
    if (store_begin(app.db, STORE_READ, &tx, &e) != 0)
        return;
    if (store_query(tx, sql, NULL, 0, &r, &e) == 0) {
        while (store_row(r)) {
            for (int c = 0; c < store_ncols(r); c++)
                if (store_isnull(r, c))
                    strbuf_puts(out, "null ");
                else
                    strbuf_printf(out, "%lld ", (long long)store_int(r, c));
            strbuf_puts(out, "\n");
        }
        CHECK_INT(store_rows_end(r, &e), 0);
    }
    store_rollback(tx);
}

/* One batch of many devices' frames writes exactly the rows that the same frames written one per
 * batch write: positions and readings (many per INSERT, TELE_CHUNK and the smaller statements of a
 * batch's last rows) in the frames' order, each device's row and its steps of each day — here across
 * local midnight, so a device has two days of steps in one batch. Set A goes frame by frame, set B
 * in one batch of 203 frames (102 positions: 64 + 16 + 16 + 4 + 1 + 1; 51 readings: 16 × 3 + 1 × 3). */
static void test_batch_equals_frame_by_frame(void)
{
    static const char *const tpl[] = {
        "[3G*5678909999*0050*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,150,0,00000008]",
        "[3G*5678909999*0050*UD,041126,081630,A,36.458400,N,116.299400,E,1.2,90.0,30.0,6,80,74,180,0,00000008]",
        "[3G*5678909999*0014*bphrt,150,95,88,,,,]",
        "[3G*5678909999*0002*LK,100,3,80]",
    };
    enum { N = 203, DEVS = 3 };
    static devices_in in[N];
    nx_err e = {0};
    const int64_t midnight = 1795363200000LL; /* 2026-11-23 00:00 in Shanghai */
    for (int i = 0; i < N; i++) {
        const char *f = tpl[i % 4 == 3 ? 3 : i % 4 == 2 ? 2 : i % 2];
        memset(&in[i], 0, sizeof in[i]);
        in[i].kind = DEVICES_IN_FRAME;
        in[i].proto = WIRE_PROTO_WATCH;
        in[i].at = midnight - 100000 + i * 1000;
        CHECK_INT(watch_decode((const uint8_t *)f, strlen(f), &in[i].msg, &e), 0);
        in[i].msg.raw = in[i].msg.payload = NULL;
        if (in[i].msg.pos.present)
            in[i].msg.pos.lat_e6 += i;
        if (in[i].msg.health.hr_bpm != WIRE_NONE)
            in[i].msg.health.hr_bpm = 60 + i % 30;
        if (in[i].msg.steps != WIRE_NONE)
            in[i].msg.steps = 100 + i * 7;
        in[i].msg.battery_pct = 90 - i % 50;
    }
    for (int set = 0; set < 2; set++) {
        for (int i = 0; i < N; i++)
            snprintf(in[i].imei, sizeof in[i].imei, "87%d000000%d", set, i % DEVS);
        if (set == 0)
            for (int i = 0; i < N; i++)
                CHECK_INT(devices_ingest(app.db, &in[i], 1, 60000, NULL, &e), 0);
        else
            CHECK_INT(devices_ingest(app.db, in, N, 60000, NULL, &e), 0);
    }
    static const char *const sql[] = {
        "SELECT p.device_id - (SELECT MIN(id) FROM devices WHERE imei LIKE '87@%'), p.at, p.fix_at, p.fix, "
        "p.lat_e6, p.lon_e6, p.speed_e1, p.course_e1, p.satellites, p.cells, p.wifi, p.delayed FROM device_positions p "
        "JOIN devices d ON d.id = p.device_id WHERE d.imei LIKE '87@%' ORDER BY p.id",
        "SELECT r.device_id - (SELECT MIN(id) FROM devices WHERE imei LIKE '87@%'), r.at, r.hr, r.sys, r.dia, "
        "r.spo2, r.temp_e1, r.sugar_e2 FROM device_readings r JOIN devices d ON d.id = r.device_id "
        "WHERE d.imei LIKE '87@%' ORDER BY r.id",
        "SELECT s.device_id - (SELECT MIN(id) FROM devices WHERE imei LIKE '87@%'), s.steps, s.updated_at, "
        "CASE WHEN s.day = '2026-11-22' THEN 22 WHEN s.day = '2026-11-23' THEN 23 END FROM device_steps s "
        "JOIN devices d ON d.id = s.device_id WHERE d.imei LIKE '87@%' ORDER BY s.device_id, s.day",
        "SELECT id - (SELECT MIN(id) FROM devices WHERE imei LIKE '87@%'), online, last_seen_at, battery, "
        "last_fix_at, last_lat_e6, last_lon_e6, last_hr, last_sys, last_dia, last_reading_at, step_counter, "
        "steps_today, CASE WHEN steps_day = '2026-11-23' THEN 23 END FROM devices WHERE imei LIKE '87@%' ORDER BY id",
    };
    static const int rows[] = {102, 51, 6, 3};
    for (size_t q = 0; q < sizeof sql / sizeof sql[0]; q++) {
        strbuf t[2];
        for (int set = 0; set < 2; set++) {
            char text[1024];
            str_copy(text, sql[q], sizeof text);
            tb_replace(text, sizeof text, "@", set ? "1" : "0");
            strbuf_init(&t[set], 0);
            rows_text(text, &t[set]);
        }
        int lines = 0;
        for (size_t i = 0; t[1].data && i < t[1].len; i++)
            lines += t[1].data[i] == '\n';
        CHECK_INT(lines, rows[q]);
        CHECK(t[0].data && t[1].data && strcmp(t[0].data, t[1].data) == 0);
        strbuf_cleanup(&t[0]);
        strbuf_cleanup(&t[1]);
    }
}

/* A batch of more devices than its cache holds (INGEST_CACHE, 1024; the gateway's writer takes up to
 * 1000 frames of a backlog in one batch) writes exactly what the same frames write in batches of 40:
 * 1300 devices each send a position, 200 of them a reading too, and the first 100 a second position
 * at the end (found again in the batch's cache, or looked up again beyond it). Set A in batches of
 * 40, set B in one batch of 1600 frames. */
static void test_batch_many_devices(void)
{
    static const char *const tpl[] = {
        "[3G*5678909999*0050*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,150,0,00000008]",
        "[3G*5678909999*0014*bphrt,150,95,88,,,,]",
    };
    enum { DEVS = 1300, READS = 200, AGAIN = 100, N = DEVS + READS + AGAIN };
    static devices_in in[N];
    static int dev_of[N];
    nx_err e = {0};
    const int64_t at = 1795300000000LL;
    for (int i = 0, k = 0; i < DEVS; i++) {
        dev_of[k++] = i; /* a position of device i */
        if (i < READS)
            dev_of[k++] = -1 - i; /* its reading */
        if (i == DEVS - 1)
            for (int j = 0; j < AGAIN; j++)
                dev_of[k++] = j;
    }
    for (int i = 0; i < N; i++) {
        int dev = dev_of[i] >= 0 ? dev_of[i] : -1 - dev_of[i];
        const char *f = tpl[dev_of[i] >= 0 ? 0 : 1];
        memset(&in[i], 0, sizeof in[i]);
        in[i].kind = DEVICES_IN_FRAME;
        in[i].proto = WIRE_PROTO_WATCH;
        in[i].at = at + i * 10;
        CHECK_INT(watch_decode((const uint8_t *)f, strlen(f), &in[i].msg, &e), 0);
        in[i].msg.raw = in[i].msg.payload = NULL;
        if (in[i].msg.pos.present)
            in[i].msg.pos.lat_e6 += i;
        if (in[i].msg.steps != WIRE_NONE)
            in[i].msg.steps = 100 + i * 3;
        if (in[i].msg.health.hr_bpm != WIRE_NONE)
            in[i].msg.health.hr_bpm = 60 + dev % 30;
        in[i].msg.battery_pct = 90 - i % 50;
    }
    for (int set = 0; set < 2; set++) {
        for (int i = 0; i < N; i++) {
            int dev = dev_of[i] >= 0 ? dev_of[i] : -1 - dev_of[i];
            snprintf(in[i].imei, sizeof in[i].imei, "88%d%07d", set, dev);
        }
        if (set == 0)
            for (int i = 0; i < N; i += 40)
                CHECK_INT(devices_ingest(app.db, &in[i], N - i < 40 ? N - i : 40, 60000, NULL, &e), 0);
        else
            CHECK_INT(devices_ingest(app.db, in, N, 60000, NULL, &e), 0);
    }
    static const char *const sql[] = {
        "SELECT p.device_id - (SELECT MIN(id) FROM devices WHERE imei LIKE '88@%'), p.at, p.lat_e6 FROM device_positions p "
        "JOIN devices d ON d.id = p.device_id WHERE d.imei LIKE '88@%' ORDER BY p.id",
        "SELECT r.device_id - (SELECT MIN(id) FROM devices WHERE imei LIKE '88@%'), r.at, r.hr FROM device_readings r "
        "JOIN devices d ON d.id = r.device_id WHERE d.imei LIKE '88@%' ORDER BY r.id",
        "SELECT s.device_id - (SELECT MIN(id) FROM devices WHERE imei LIKE '88@%'), s.steps, s.updated_at "
        "FROM device_steps s JOIN devices d ON d.id = s.device_id WHERE d.imei LIKE '88@%' ORDER BY s.device_id, s.day",
        "SELECT id - (SELECT MIN(id) FROM devices WHERE imei LIKE '88@%'), online, last_seen_at, battery, last_fix_at, "
        "last_lat_e6, last_hr, last_reading_at, step_counter, steps_today FROM devices WHERE imei LIKE '88@%' ORDER BY id",
    };
    static const int rows[] = {DEVS + AGAIN, READS, DEVS, DEVS};
    for (size_t q = 0; q < sizeof sql / sizeof sql[0]; q++) {
        strbuf t[2];
        for (int set = 0; set < 2; set++) {
            char text[1024];
            str_copy(text, sql[q], sizeof text);
            tb_replace(text, sizeof text, "@", set ? "1" : "0");
            strbuf_init(&t[set], 0);
            rows_text(text, &t[set]);
        }
        int lines = 0;
        for (size_t i = 0; t[1].data && i < t[1].len; i++)
            lines += t[1].data[i] == '\n';
        CHECK_INT(lines, rows[q]);
        CHECK(t[0].data && t[1].data && strcmp(t[0].data, t[1].data) == 0);
        strbuf_cleanup(&t[0]);
        strbuf_cleanup(&t[1]);
    }
    /* the other tests count devices: these go */
    CHECK_INT(exec_w("DELETE FROM device_positions WHERE device_id IN (SELECT id FROM devices WHERE imei LIKE '88%'); "
                     "DELETE FROM device_readings WHERE device_id IN (SELECT id FROM devices WHERE imei LIKE '88%'); "
                     "DELETE FROM device_steps WHERE device_id IN (SELECT id FROM devices WHERE imei LIKE '88%'); "
                     "DELETE FROM devices WHERE imei LIKE '88%';"),
              0);
}

/* No activity: a resident living alone whose wristband shows no steps today, or says it is not worn,
 * by 10 o'clock (Shanghai) raises one no_activity alert a day; steps and wear keep it quiet; someone
 * not living alone never raises it. */
static void test_no_activity(void)
{
    const int64_t at_0830 = 1795566600000LL, at_1030 = 1795573800000LL, next_1030 = 1795660200000LL;
    nx_err e = {0};
    int n;
    CHECK_INT(exec_w("UPDATE alerts SET state = 'resolved';"
                     "DELETE FROM alert_rules;"
                     "UPDATE devices SET steps_day = NULL, steps_today = 0, worn = NULL, last_seen_at = NULL WHERE id = 1"),
              0);
    /* not living alone: nothing */
    CHECK_INT(devices_tick(app.db, at_1030, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'no_activity'"), 0);
    CHECK_INT(exec_w("INSERT INTO tags (id, code, name, created_at) VALUES (1, 'living_alone', '独居', 0);"
                     "INSERT INTO resident_tags (resident_id, tag_id, created_at) VALUES (1, 1, 0)"),
              0);
    /* before 10 o'clock: nothing yet */
    CHECK_INT(devices_tick(app.db, at_0830, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'no_activity'"), 0);
    /* steps today, worn: quiet */
    CHECK_INT(exec_w("UPDATE devices SET steps_day = '2026-11-25', steps_today = 420, worn = 1 WHERE id = 1"), 0);
    CHECK_INT(devices_tick(app.db, at_1030, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'no_activity'"), 0);
    /* steps, but the wristband says it is not worn: one alert, once that day */
    CHECK_INT(exec_w("UPDATE devices SET worn = 0 WHERE id = 1"), 0);
    CHECK_INT(devices_tick(app.db, at_1030, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(devices_tick(app.db, at_1030 + 60000, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'no_activity'"), 1);
    CHECK_INT(q_int("SELECT resident_id FROM alerts WHERE kind = 'no_activity'"), 1);
    /* the next day, worn again but yesterday's steps only: a new alert for the new day */
    CHECK_INT(exec_w("UPDATE alerts SET state = 'resolved' WHERE kind = 'no_activity';"
                     "UPDATE devices SET worn = 1 WHERE id = 1"),
              0);
    CHECK_INT(devices_tick(app.db, next_1030, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'no_activity'"), 2);
    /* a rule of -1 turns it off */
    CHECK_INT(exec_w("INSERT INTO alert_rules (resident_id, community_id, no_steps_hour, updated_at) VALUES (1, 1, -1, 0);"
                     "UPDATE alerts SET state = 'resolved'"),
              0);
    CHECK_INT(devices_tick(app.db, next_1030 + 86400000LL, 60000, 0, 0, &n, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM alerts WHERE kind = 'no_activity'"), 2);
    CHECK_INT(exec_w("DELETE FROM alert_rules; DELETE FROM resident_tags; UPDATE devices SET worn = NULL"), 0);
}

static void test_prune(void)
{
    const int64_t now = 1795200000000LL, day = 86400000LL;
    nx_err e = {0};
    CHECK_INT(exec_w("DELETE FROM device_positions; DELETE FROM device_readings; DELETE FROM device_steps;"), 0);
    char sql[600];
    for (int i = 0; i < 12; i++) {
        /* rows 0..11 days old at noon */
        snprintf(sql, sizeof sql,
                 "INSERT INTO device_positions (device_id, at, fix) VALUES (1, %lld, 0);"
                 "INSERT INTO device_readings (device_id, at, hr) VALUES (1, %lld, 70);",
                 (long long)(now - i * day), (long long)(now - i * day));
        CHECK_INT(exec_w(sql), 0);
    }
    CHECK_INT(exec_w("INSERT INTO device_steps (device_id, day, steps, updated_at) VALUES "
                     "(1, '2026-11-20', 10, 0), (1, '2026-11-10', 20, 0), (1, '2020-01-01', 5, 0)"),
              0);
    int64_t gone = -1;
    CHECK_INT(devices_prune(app.db, now, 0, &gone, &e), 0); /* 0 = keep everything */
    CHECK_INT(gone, 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_positions"), 12);
    CHECK_INT(devices_prune(app.db, now, 5, &gone, &e), 0);
    /* older than 5 days: 6..11 days old, six of each; steps before 2026-11-16 (local): two days */
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_positions"), 6);
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_readings"), 6);
    CHECK_INT(q_int("SELECT COUNT(*) FROM device_steps"), 1);
    CHECK_INT(gone, 14);
    CHECK_INT(devices_prune(app.db, now, 5, &gone, &e), 0); /* idempotent */
    CHECK_INT(gone, 0);
}

/* Lists page under the configured cap (page_max 2 here): every device is reached by following
 * next_cursor, each page has at most 2 items, and "total" counts all that match whatever the
 * cursor; the search matches the IMEI from its start and the name anywhere. The alarm list pages
 * newest first. The alarm export refuses more rows than export_max_rows instead of cutting them
 * off. The time-to-acknowledge median and 90th percentile are the nearest ranks: of 1..10 s, the
 * 5th (5 s) and the 9th (9 s). */
static void test_lists_pages_and_stats(void)
{
    nx_err e = {0};
    nx_principal all = {.user_id = 1, .role = ROLE_ADMIN, .scope = SCOPE_ALL};
    CHECK_INT(exec_w("INSERT INTO devices (imei, protocol, registered, online, created_at, updated_at) VALUES "
                     "('7000000001', 'watch', 1, 0, 0, 0), ('7000000002', 'watch', 1, 0, 0, 0), "
                     "('7000000003', 'iw', 1, 1, 0, 0)"),
              0);
    int64_t devices = q_int("SELECT COUNT(*) FROM devices");
    CHECK(devices >= 4);
    cfg.page_max = 2;
    devices_device_filter f = {.registered = -1, .online = -1, .limit = 50};
    int64_t seen = 0, last = 0, pages = 0;
    bool ordered = true;
    do {
        json_t *out = NULL;
        CHECK_INT(devices_list(&app, &all, &f, &out, &e), 0);
        if (!out)
            break;
        json_t *items = json_object_get(out, "items");
        CHECK(json_array_size(items) <= 2);
        CHECK_INT(json_integer_value(json_object_get(out, "total")), devices);
        size_t i;
        json_t *d;
        json_array_foreach(items, i, d)
        {
            int64_t id = json_integer_value(json_object_get(d, "id"));
            ordered = ordered && id > last;
            last = id;
            seen++;
        }
        const char *next = json_string_value(json_object_get(out, "next_cursor"));
        f.after_id = 0;
        if (next)
            CHECK_INT(str_to_i64(next, 1, INT64_MAX, &f.after_id), 0);
        json_decref(out);
        pages++;
    } while (f.after_id > 0 && pages < 100);
    CHECK(ordered);
    CHECK_INT(seen, devices);
    CHECK_INT(pages, (devices + 1) / 2);
    /* search: the IMEI from its start, the resident's name anywhere, initials from their start */
    cfg.page_max = 200;
    const char *terms[] = {"700000000", "桂兰", "zg", "0000001"};
    const int64_t want[] = {3, 1, 1, 0};
    for (int i = 0; i < 4; i++) {
        devices_device_filter s = {.registered = -1, .online = -1, .q = terms[i]};
        json_t *out = NULL;
        CHECK_INT(devices_list(&app, &all, &s, &out, &e), 0);
        CHECK_INT(json_integer_value(json_object_get(out, "total")), want[i]);
        json_decref(out);
    }
    /* an id filter is set when it is not 0 (the kit's sqlq_eq_int): an id no row has, negative
     * included, matches nothing — it is never read as "any" (HTTP refuses it before: app_query_id) */
    const int64_t bad_ids[] = {-1, INT64_MIN};
    for (int i = 0; i < 2; i++) {
        devices_device_filter byres = {.registered = -1, .online = -1, .resident_id = bad_ids[i]};
        devices_device_filter bycomm = {.registered = -1, .online = -1, .community_id = bad_ids[i]};
        json_t *out = NULL;
        CHECK_INT(devices_list(&app, &all, &byres, &out, &e), 0);
        CHECK_INT(json_integer_value(json_object_get(out, "total")), 0);
        json_decref(out);
        out = NULL;
        CHECK_INT(devices_list(&app, &all, &bycomm, &out, &e), 0);
        CHECK_INT(json_integer_value(json_object_get(out, "total")), 0);
        json_decref(out);
    }
    /* alarms: newest first, pages of page_max, total without the cursor */
    int64_t alerts = q_int("SELECT COUNT(*) FROM alerts");
    CHECK(alerts >= 3);
    cfg.page_max = 2;
    devices_alert_filter af = {0};
    json_t *out = NULL;
    CHECK_INT(devices_alert_list(&app, &all, &af, &out, &e), 0);
    CHECK_INT(json_array_size(json_object_get(out, "items")), 2);
    CHECK_INT(json_integer_value(json_object_get(out, "total")), alerts);
    const char *next = json_string_value(json_object_get(out, "next_cursor"));
    CHECK(next != NULL);
    CHECK(next && str_to_i64(next, 1, INT64_MAX, &af.before_id) == 0);
    json_decref(out);
    CHECK_INT(devices_alert_list(&app, &all, &af, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "total")), alerts);
    CHECK(json_integer_value(json_object_get(json_array_get(json_object_get(out, "items"), 0), "id")) < af.before_id);
    json_decref(out);
    cfg.page_max = 200;
    /* the export: all of them, or a refusal past the cap */
    char path[400];
    snprintf(path, sizeof path, "%s/alerts-%s.xlsx", tb_dir, tb_backend());
    int64_t rows = -1;
    devices_alert_filter none = {0};
    CHECK_INT(devices_alert_export(&app, &all, &none, path, &rows, &e), 0);
    CHECK_INT(rows, alerts);
    cfg.export_max_rows = alerts - 1;
    CHECK_INT(devices_alert_export(&app, &all, &none, path, &rows, &e), NX_ETOOBIG);
    cfg.export_max_rows = alerts;
    CHECK_INT(devices_alert_export(&app, &all, &none, path, &rows, &e), 0);
    CHECK_INT(rows, alerts);
    /* stats: exact ranks of the time to acknowledge */
    const int64_t now = 1795300000000LL;
    CHECK_INT(exec_w("DELETE FROM alert_log; DELETE FROM alerts;"), 0);
    char sql[300];
    for (int i = 1; i <= 10; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO alerts (community_id, grid_id, resident_id, device_id, kind, source, severity, state, "
                 "opened_at, last_at, ack_ms) VALUES (1, 1, 1, 1, 'sos', 'device', 'critical', 'acknowledged', "
                 "%lld, %lld, %d)",
                 (long long)(now - 1000 - i), (long long)(now - 1000 - i), (11 - i) * 1000);
        CHECK_INT(exec_w(sql), 0);
    }
    CHECK_INT(devices_stats(&app, &all, 0, now, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "acknowledged_30d")), 10);
    CHECK_INT(json_integer_value(json_object_get(out, "ack_ms_median")), 5000);
    CHECK_INT(json_integer_value(json_object_get(out, "ack_ms_p90")), 9000);
    CHECK_INT(json_integer_value(json_object_get(out, "acknowledged_alerts")), 10);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "by_kind"), "sos")), 10);
    json_decref(out);
    /* one community that has none */
    CHECK_INT(devices_stats(&app, &all, 99, now, &out, &e), 0);
    CHECK(json_is_null(json_object_get(out, "ack_ms_median")));
    CHECK_INT(json_integer_value(json_object_get(out, "acknowledged_30d")), 0);
    json_decref(out);
    /* and a community id no row has that is not > 0: nothing either, not every community */
    CHECK_INT(devices_stats(&app, &all, -1, now, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "acknowledged_30d")), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "acknowledged_alerts")), 0);
    json_decref(out);
}

/* The store-level tests, on a fresh database of the current backend. */
static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    TEST_RUN(test_suppression_and_escalation);
    TEST_RUN(test_offline_rule);
    TEST_RUN(test_no_activity);
    TEST_RUN(test_batch_of_one_device);
    TEST_RUN(test_yield_at_batch_end);
    TEST_RUN(test_batch_equals_frame_by_frame);
    TEST_RUN(test_batch_many_devices);
    TEST_RUN(test_prune);
    TEST_RUN(test_lists_pages_and_stats);
    teardown();
    return 0;
}

int main(void)
{
    TEST_RUN(test_bands);
    TEST_RUN(test_steps_and_distance);
    if (tb_init("nx_test_devices") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
