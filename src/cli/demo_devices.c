/* demo_devices.c — the demo community's 79 wristbands and a week of what they reported (see demo.h).
 *
 * The devices go to 王建国 (whose family account "jiashu" then sees his alarms) and the 78 oldest
 * active residents living alone (独居), then, if there are fewer, to the oldest residents aged 70 or
 * more. Device ids are the watch ids the simulator uses with --id-base 1 (5600000001 …), so `make
 * run` can start `nuanxin simulate --devices 79 --id-base 1` and the simulated wristbands are these
 * registered, bound devices. Each has a home at the elder's building (demo_workday.c placed them; near
 * the community's centre otherwise), a week of positions
 * (daytime, hourly, around home), health readings every two hours, daily steps, and a last state as
 * if it had just reported. About forty alerts of the last thirty days — SOS, falls, low battery,
 * heart rate, a device taken off, offline — are written with their log, acknowledged after tens of
 * seconds to a few minutes by the grid worker or the duty staff and resolved (a few as false
 * alarms), so the alarm history and time-to-acknowledge statistics have something to show. Nothing
 * is left open: a live alarm comes from the simulator. Written with plain inserts in one write
 * transaction (no events: history, not news), deterministic for a seed and the current time. */
#include "cli/demo.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_DEVICES 79
#define DEMO_DEVICE_FIRST 5600000001LL
#define CENTRE_LAT_E6 36457400
#define CENTRE_LON_E6 116298400
#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

typedef struct dres {
    int64_t id, community, grid, device;
    int32_t home_lat, home_lon;
    int base_hr, base_sys;
} dres;

static int collect(store_tx *tx, int64_t first, dres *out, int cap, int *n, nx_err *e)
{
    /* 王建国 first, then residents living alone, oldest first, then the oldest over 70. */
    static const char *const sql[] = {
        "SELECT id, community_id, grid_id FROM residents WHERE id = $1 AND status = 'active' AND $2 > 0",
        "SELECT r.id, r.community_id, r.grid_id FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id "
        "JOIN tags t ON t.id = rt.tag_id AND t.code = 'living_alone' WHERE r.status = 'active' AND r.id <> $1 "
        "AND r.birth_date IS NOT NULL ORDER BY r.birth_date, r.id LIMIT $2",
        ("SELECT id, community_id, grid_id FROM residents WHERE status = 'active' AND id <> $1 "
         "AND birth_date IS NOT NULL ORDER BY birth_date, id LIMIT $2"),
    };
    *n = 0;
    for (size_t q = 0; q < sizeof sql / sizeof sql[0] && *n < cap; q++) {
        store_param p[] = {P_INT(first), P_INT(cap)};
        store_rows *r;
        int rc = store_query(tx, sql[q], p, 2, &r, e);
        if (rc)
            return rc;
        while (*n < cap && store_row(r)) {
            int64_t id = store_int(r, 0);
            bool seen = false;
            for (int i = 0; i < *n && !seen; i++)
                seen = out[i].id == id;
            if (!seen && !store_isnull(r, 1))
                out[(*n)++] = (dres){.id = id, .community = store_int(r, 1), .grid = store_int(r, 2)};
        }
        if ((rc = store_rows_end(r, e)))
            return nx_fail(e, rc, "", "读取演示居民失败");
    }
    return 0;
}

/* The elder's building, when it has a position (demo_workday.c placed them): home is there. */
static int home_at_building(store_tx *tx, dres *d, nx_err *e)
{
    store_param p[] = {P_INT(d->id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT b.lat_e6, b.lon_e6 FROM residents x JOIN rooms ro ON ro.id = x.room_id "
                         "JOIN buildings b ON b.id = ro.building_id WHERE x.id = $1 AND b.lat_e6 IS NOT NULL",
                         p, 1, &r, e);
    if (rc)
        return rc;
    if (store_row(r)) {
        d->home_lat = (int32_t)store_int(r, 0);
        d->home_lon = (int32_t)store_int(r, 1);
    }
    return store_rows_end(r, e);
}

static int64_t user_by_name(store_tx *tx, const char *username)
{
    int64_t id = 0;
    store_param p[] = {P_TEXT(username)};
    if (store_one_int(tx, "SELECT id FROM users WHERE username = $1", p, 1, &id, NULL))
        return 0;
    return id;
}

static void day_text(int64_t ms, char out[11])
{
    nx_date d = date_from_days((int32_t)((ms + NX_TZ_OFFSET_MS) / DAY_MS));
    date_format(d, out);
}

static int insert_device(store_tx *tx, int i, dres *d, int64_t now, demo_rng *r, nx_err *e)
{
    char imei[24], sim[16], notes[64];
    snprintf(imei, sizeof imei, "%010lld", (long long)(DEMO_DEVICE_FIRST + i));
    snprintf(sim, sizeof sim, "1440%07d", 1000 + i * 37);
    snprintf(notes, sizeof notes, "%s第 %d 批发放", i == 0 ? "家属申请，" : "", 1 + i / 40);
    int battery = 35 + (int)demo_roll(r, 60);
    store_param p[] = {P_TEXT(imei),
                       P_TEXT(sim),
                       P_INT(d->community),
                       P_ID(d->grid),
                       P_INT(d->id),
                       P_INT(battery),
                       P_INT(now),
                       P_INT(d->home_lat),
                       P_INT(d->home_lon),
                       P_TEXT(notes),
                       P_INT(now - (int64_t)(30 + demo_roll(r, 60)) * DAY_MS)};
    int rc = store_one_int(tx,
                         "INSERT INTO devices (imei, protocol, model, sim, registered, community_id, grid_id, resident_id, "
                         "online, battery, last_fix_at, last_lat_e6, last_lon_e6, worn, first_seen_at, last_seen_at, notes, "
                         "created_at, updated_at) VALUES ($1, 'watch', '暖心手环 W1', $2, 1, $3, $4, $5, 0, $6, $7, $8, $9, 1, "
                         "$11, $7, $10, $11, $7) RETURNING id",
                         p, 11, &d->device, e);
    return rc ? nx_fail(e, rc == NX_ENOTFOUND ? NX_EDB : rc, "", "写入演示设备失败") : 0;
}

/* A week: positions each daytime hour, readings every two hours, steps per day; the device's last
 * readings follow the newest row. */
static int insert_week(store_tx *tx, const dres *d, int64_t now, demo_rng *r, nx_err *e)
{
    int rc = 0;
    int64_t start = now - 7 * DAY_MS;
    int hr = 0, sys = 0, dia = 0, spo2 = 0, temp = 0;
    int64_t last_at = 0;
    for (int64_t t = start + (int64_t)demo_roll(r, 3600) * 1000; t < now && rc == 0; t += HOUR_MS) {
        int hour = (int)(((t + NX_TZ_OFFSET_MS) / HOUR_MS) % 24);
        if (hour >= 7 && hour <= 20) {
            int32_t lat = d->home_lat + (int32_t)demo_roll(r, 900) - 450,
                    lon = d->home_lon + (int32_t)demo_roll(r, 1100) - 550;
            store_param p[] = {P_INT(d->device), P_INT(t), P_INT(lat), P_INT(lon),
                               P_INT(5 + (int)demo_roll(r, 6))};
            rc = store_exec(tx,
                            "INSERT INTO device_positions (device_id, at, fix_at, fix, lat_e6, lon_e6, satellites) "
                            "VALUES ($1, $2, $2, 1, $3, $4, $5)",
                            p, 5, NULL, e);
        }
        if (rc == 0 && hour % 2 == 0) {
            hr = d->base_hr + (int)demo_roll(r, 15) - 7;
            sys = d->base_sys + (int)demo_roll(r, 20) - 10;
            dia = sys * 62 / 100 + (int)demo_roll(r, 8);
            spo2 = 95 + (int)demo_roll(r, 5);
            temp = 361 + (int)demo_roll(r, 8);
            last_at = t;
            store_param p[] = {P_INT(d->device), P_INT(t), P_INT(hr), P_INT(sys), P_INT(dia), P_INT(spo2), P_INT(temp)};
            rc = store_exec(tx,
                            "INSERT INTO device_readings (device_id, at, hr, sys, dia, spo2, temp_e1) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            p, 7, NULL, e);
        }
    }
    int64_t steps = 0;
    char day[11] = "";
    for (int k = 7; k >= 0 && rc == 0; k--) {
        int64_t at = now - k * DAY_MS;
        day_text(at, day);
        steps = k == 0 ? 800 + demo_roll(r, 1500) : 2500 + demo_roll(r, 4500);
        store_param p[] = {P_INT(d->device), P_TEXT(day), P_INT(steps), P_INT(at)};
        rc = store_exec(tx, "INSERT INTO device_steps (device_id, day, steps, updated_at) VALUES ($1, $2, $3, $4)", p, 4,
                        NULL, e);
    }
    if (rc == 0) {
        store_param p[] = {P_INT(d->device), P_INT(hr), P_INT(sys), P_INT(dia), P_INT(spo2), P_INT(temp),
                           P_INT(last_at), P_TEXT(day), P_INT(steps)};
        rc = store_exec(tx,
                        "UPDATE devices SET last_hr = $2, last_sys = $3, last_dia = $4, last_spo2 = $5, last_temp_e1 = $6, "
                        "last_reading_at = $7, steps_day = $8, steps_today = $9, step_counter = $9 WHERE id = $1",
                        p, 9, NULL, e);
    }
    return rc;
}

typedef struct akind {
    const char *kind, *severity, *source;
    unsigned weight;
} akind;

static const akind kinds[] = {
    {"sos", "critical", "device", 8},        {"fall", "critical", "device", 4},
    {"low_battery", "normal", "device", 8},  {"heart_rate", "high", "server", 5},
    {"taken_off", "normal", "device", 5},     {"offline", "high", "server", 4},
    {"blood_pressure", "high", "server", 4}, {"no_activity", "high", "server", 2},
};

static const char *const notes_true[] = {
    "已电话联系老人，网格员上门查看，无大碍", "老人在家摔倒，已协助就医，家属已到场", "提醒老人按时充电，已送充电座",
    "血压偏高，已联系社区医生上门复测", "老人洗澡时摘下手环，已提醒佩戴", "信号不好，已上门重启设备",
};
static const char *const notes_false[] = {"老人误按，已电话确认安全", "设备误报，已电话确认老人在家休息"};

static int insert_alerts(store_tx *tx, const dres *res, int n, int64_t now, demo_rng *r, int *made, nx_err *e)
{
    int64_t duty = user_by_name(tx, "shequ"), secretary = user_by_name(tx, "shuji");
    unsigned total = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        total += kinds[k].weight;
    int rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++) {
        const dres *d = &res[demo_roll(r, (unsigned)n)];
        unsigned w = demo_roll(r, total);
        const akind *k = kinds;
        while (w >= k->weight) {
            w -= k->weight;
            k++;
        }
        int64_t opened = now - (int64_t)(1 + demo_roll(r, 29)) * DAY_MS - (int64_t)demo_roll(r, 86400) * 1000;
        bool critical = strcmp(k->severity, "critical") == 0;
        int64_t ack_ms = (critical ? 15 : 30) * 1000LL + (int64_t)demo_roll(r, critical ? 105 : 420) * 1000;
        int64_t resolve_ms = ack_ms + (int64_t)(5 + demo_roll(r, 90)) * 60 * 1000;
        bool false_alarm = critical && demo_roll(r, 4) == 0;
        char grid_user[16];
        snprintf(grid_user, sizeof grid_user, "wangge%lld", (long long)(d->grid > 0 ? (d->grid - 1) % 8 + 1 : 1));
        int64_t worker = user_by_name(tx, grid_user);
        int64_t acker = (ack_ms > 180000 || !worker) ? (demo_roll(r, 2) ? duty : secretary) : worker;
        int level = ack_ms > 180000 ? 1 : 0;
        const char *note = false_alarm ? notes_false[demo_roll(r, 2)] : notes_true[demo_roll(r, 6)];
        bool followup = !false_alarm && critical;
        int32_t lat = d->home_lat + (int32_t)demo_roll(r, 400) - 200,
                lon = d->home_lon + (int32_t)demo_roll(r, 400) - 200;
        bool fix = !(strcmp(k->kind, "sos") == 0 && demo_roll(r, 3) == 0) && strcmp(k->source, "device") == 0;
        char detail[96];
        if (strcmp(k->kind, "heart_rate") == 0)
            snprintf(detail, sizeof detail, "{\"hr\": %d, \"band\": [50, 120]}", 125 + (int)demo_roll(r, 20));
        else if (strcmp(k->kind, "blood_pressure") == 0)
            snprintf(detail, sizeof detail, "{\"sys\": %d, \"dia\": %d}", 165 + (int)demo_roll(r, 20),
                     95 + (int)demo_roll(r, 10));
        else
            snprintf(detail, sizeof detail, "{}");
        store_param p[] = {P_INT(d->community), P_ID(d->grid), P_INT(d->id), P_INT(d->device), P_TEXT(k->kind),
                           P_TEXT(k->source), P_TEXT(k->severity), P_TEXT(false_alarm ? "false_alarm" : "resolved"),
                           P_INT(opened), P_INT(fix ? 1 : 0), fix ? P_INT(lat) : P_NULL, fix ? P_INT(lon) : P_NULL,
                           P_TEXT(detail), P_ID(acker), P_INT(opened + ack_ms), P_INT(opened + resolve_ms),
                           P_TEXT(note), P_INT(followup ? 1 : 0), P_INT(level), P_INT(ack_ms), P_INT(resolve_ms)};
        int64_t alert = 0;
        if ((rc = store_one_int(tx,
                              "INSERT INTO alerts (community_id, grid_id, resident_id, device_id, kind, source, severity, "
                              "state, opened_at, last_at, fix, lat_e6, lon_e6, detail, acked_by, acked_at, resolved_by, "
                              "resolved_at, note, needs_followup, escalation_level, ack_ms, resolve_ms) VALUES ($1, $2, $3, "
                              "$4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $14, $16, $17, $18, $19, $20, $21) "
                              "RETURNING id",
                              p, 21, &alert, e)))
            return nx_fail(e, rc == NX_ENOTFOUND ? NX_EDB : rc, "", "写入演示报警失败");
        struct {
            const char *action;
            int64_t at;
            int64_t user;
            const char *note;
        } log[] = {{"opened", opened, 0, NULL},
                   {"escalated", opened + 180000, 0, NULL},
                   {"acknowledged", opened + ack_ms, acker, NULL},
                   {false_alarm ? "false_alarm" : "resolved", opened + resolve_ms, acker, note}};
        for (size_t j = 0; j < sizeof log / sizeof log[0] && rc == 0; j++) {
            if (j == 1 && level == 0)
                continue;
            store_param lp[] = {P_INT(alert), P_INT(log[j].at), P_TEXT(log[j].action), P_ID(log[j].user),
                                P_INT(j == 1 ? 1 : level), P_TEXT(log[j].note)};
            rc = store_exec(tx,
                            "INSERT INTO alert_log (alert_id, at, action, user_id, level, note) "
                            "VALUES ($1, $2, $3, $4, $5, $6)",
                            lp, 6, NULL, e);
        }
        (*made)++;
    }
    return rc;
}

int demo_devices_fill(nx_app *app, int64_t first_resident, unsigned seed, json_t *summary, nx_err *e)
{
    dres *res = calloc(DEMO_DEVICES, sizeof *res);
    if (!res)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    demo_rng r = {.s = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)seed * 2654435761u)};
    int64_t now = clock_now_ms();
    int n = 0, alerts = 0;
    store_tx *tx = NULL;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc == 0)
        rc = collect(tx, first_resident, res, DEMO_DEVICES, &n, e);
    for (int i = 0; i < n && rc == 0; i++) {
        /* Homes within about 400 m of the centre; each elder with their own usual heart rate and BP. */
        res[i].home_lat = CENTRE_LAT_E6 + (int32_t)demo_roll(&r, 7000) - 3500;
        res[i].home_lon = CENTRE_LON_E6 + (int32_t)demo_roll(&r, 9000) - 4500;
        if ((rc = home_at_building(tx, &res[i], e)))
            break;
        res[i].base_hr = 64 + (int)demo_roll(&r, 18);
        res[i].base_sys = 118 + (int)demo_roll(&r, 30);
        if ((rc = insert_device(tx, i, &res[i], now, &r, e)) || (rc = insert_week(tx, &res[i], now, &r, e)))
            break;
        /* Home radius rules for a few who wander (认知障碍 in real life). */
        if (i % 13 == 5) {
            store_param p[] = {P_INT(res[i].id), P_INT(res[i].community), P_INT(res[i].home_lat),
                               P_INT(res[i].home_lon), P_INT(now)};
            rc = store_exec(tx,
                            "INSERT INTO alert_rules (resident_id, community_id, home_lat_e6, home_lon_e6, home_radius_m, "
                            "updated_at) VALUES ($1, $2, $3, $4, 800, $5)",
                            p, 5, NULL, e);
        }
    }
    if (rc == 0 && n > 0)
        rc = insert_alerts(tx, res, n, now, &r, &alerts, e);
    if (rc == 0)
        rc = store_commit(tx, e);
    else
        store_rollback(tx);
    free(res);
    if (rc)
        return rc;
    json_object_set_new(summary, "devices", json_integer(n));
    json_object_set_new(summary, "alerts", json_integer(alerts));
    nx_log(LOG_INFO, "demo.devices devices=%d alerts=%d", n, alerts);
    return 0;
}
