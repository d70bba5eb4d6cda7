/* devices.c — the rules of wristband data: ingest of decoded frames (checked against the bands of
 * devices_rules.c), duplicate suppression, escalation, and the ticker that runs the server-side
 * rules.
 *
 * Ingest is the gateway's door into the store. A batch of frames is written in one write transaction
 * (the gateway flushes positions and readings every ~100 ms or 200 rows); an alarm frame comes alone
 * and its transaction has committed when devices_ingest returns, which is the moment the gateway may
 * acknowledge it. A device never seen before gets a row at once (registered = 0) so that staff find it
 * in the list of devices waiting to be bound. Over MQTT (the broker vouches for the device) its alarms
 * are still alarms (no community yet: only platform administrators see those until it is bound); over
 * TCP, where a device only claims who it is, it is in quarantine (devices.h): seen, nothing more, and
 * the number of such rows is bounded. A takeover signal from the gateway flags a registered device
 * (its commands are held until staff confirm it) and raises a "takeover" alert. Within a batch each
 * device is looked up once, its resident's rules are read once, and its row (seen, battery, last fix,
 * last readings) and its steps of the day are written once, after its last frame (dev_gather,
 * dev_flush). The position and reading rows of the frames are inserted TELE_CHUNK at a time, one
 * INSERT with many VALUES rows (tele_add, tele_flush; in the frames' order, so their ids are too),
 * which is at most TELE_CHUNK × 12 parameters per statement on either backend.
 *
 * Alert opening goes through devices_alert_raise, the one place that decides between "new alert" and "a
 * repeat of an alert already raised" (see devices.h for the rule that never hides a new SOS). Every
 * opening, repeat and escalation writes an alert_log row and an outbox event in the same transaction.
 *
 * Threads: devices_ingest runs on the gateway's writer thread, devices_tick on a store_ticker; both
 * only use the store. The ticker does the work only while this process holds store_leader
 * "devices.ticker", so several processes on one PostgreSQL database escalate each alert once. */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/trace.h"
#include "base/vec.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "store/ticker.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double devices_distance_m(int32_t lat1_e6, int32_t lon1_e6, int32_t lat2_e6, int32_t lon2_e6)
{
    const double rad = M_PI / 180.0 / 1e6;
    double p1 = lat1_e6 * rad, p2 = lat2_e6 * rad;
    double dp = (lat2_e6 - (double)lat1_e6) * rad, dl = (lon2_e6 - (double)lon1_e6) * rad;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2.0 * 6371008.8 * atan2(sqrt(a), sqrt(1 - a));
}

int64_t devices_steps_add(int64_t prev_counter, int64_t counter, int64_t steps_so_far)
{
    if (counter < 0)
        return steps_so_far;
    if (prev_counter == WIRE_NONE || prev_counter < 0)
        return steps_so_far; /* the first value is a baseline: nothing is known about before it */
    if (counter >= prev_counter)
        return steps_so_far + (counter - prev_counter);
    return steps_so_far + counter; /* the counter was reset (midnight, reboot): count from zero */
}

/* ---- labels ---- */

static const struct {
    const char *kind, *label, *severity;
} kinds[] = {
    {"sos", "紧急呼叫（SOS）", "critical"},  {"fall", "跌倒报警", "critical"},
    {"taken_off", "手环被摘下", "high"},     {"low_battery", "电量低", "normal"},
    {"fence", "电子围栏", "normal"},         {"general", "设备报警", "high"},
    {"heart_rate", "心率异常", "high"},      {"blood_pressure", "血压异常", "high"},
    {"spo2", "血氧偏低", "high"},            {"temperature", "体温异常", "high"},
    {"offline", "设备离线", "high"},         {"no_activity", "独居老人无活动", "high"},
    {"left_home", "离开居住范围", "normal"},  {"takeover", "设备身份存疑（疑似冒用）", "high"},
};

const char *devices_kind_label(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].label;
    return kind;
}

bool devices_kind_known(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return true;
    return false;
}

static const char *kind_severity(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].severity;
    return "high";
}

/* ---- events ---- */

int devices_alert_emit(store_tx *tx, const char *kind, const devices_alert_ref *a, const char *state, bool followup,
                       nx_err *e)
{
    json_t *p = json_pack("{s:I, s:o, s:o, s:o, s:s, s:s, s:s, s:i}", "alert_id", (json_int_t)a->id, "resident_id",
                          a->resident_id ? json_integer(a->resident_id) : json_null(), "device_id",
                          a->device_id ? json_integer(a->device_id) : json_null(), "grid_id",
                          a->grid_id ? json_integer(a->grid_id) : json_null(), "kind", a->kind, "severity",
                          a->severity, "state", state, "level", a->level);
    if (p && strcmp(kind, DEVICES_EV_ALERT_RESOLVED) == 0)
        json_object_set_new(p, "needs_followup", json_boolean(followup));
    return outbox_emit_new(tx, kind, a->community_id, "alert", a->id, p, e);
}

int devices_alert_log(store_tx *tx, int64_t alert, int64_t at, const char *action, int64_t user, int level,
                      const char *note, nx_err *e)
{
    store_param p[] = {P_INT(alert), P_INT(at), P_TEXT(action), P_ID(user), P_INT(level), P_TEXT(note)};
    return app_insert(tx, "alert_log",
                      "alert_id, at, action, user_id, level, note",
                      p, 6, NULL, e);
}

/* ---- ingest ---- */

typedef struct devrow {
    int64_t id, community, grid, resident; /* id 0: an unknown id the full quarantine refused */
    bool registered;
    int64_t counter; /* WIRE_NONE when NULL */
    char steps_day[11];
    int64_t steps_today;
} devrow;

/* The log line for refused unknown ids, at most once a minute per process (any thread). */
static void log_quarantine_full(int64_t now)
{
    static int64_t last;
    int64_t prev = __atomic_load_n(&last, __ATOMIC_RELAXED);
    if (now - prev < 60000 || !__atomic_compare_exchange_n(&last, &prev, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    nx_log(LOG_WARN, "devices.quarantine_full action=refused_unknown_id");
}

static int dev_load(store_tx *tx, const char *imei, int proto, int64_t now, const devices_ingest_opts *o, devrow *d,
                    nx_err *e)
{
    memset(d, 0, sizeof *d);
    store_param p[] = {P_TEXT(imei)};
    store_rows *r = NULL;
    int rc = store_query(tx,
                         "SELECT id, community_id, grid_id, resident_id, registered, step_counter, steps_day, steps_today "
                         "FROM devices WHERE imei = $1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "", e)) == 0) {
        d->id = store_int(r, 0);
        d->community = store_int(r, 1);
        d->grid = store_int(r, 2);
        d->resident = store_int(r, 3);
        d->registered = store_int(r, 4) != 0;
        d->counter = store_isnull(r, 5) ? WIRE_NONE : store_int(r, 5);
        str_copy(d->steps_day, store_text(r, 6) ? store_text(r, 6) : "", sizeof d->steps_day);
        d->steps_today = store_int(r, 7);
        store_rows_free(r);
        return 0;
    }
    store_rows_free(r);
    if (rc != NX_ENOTFOUND)
        return rc;
    nx_err_clear(e); /* first frame of a device never seen: it gets a row */
    if (o->quarantine) {
        int64_t held = 0;
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM devices WHERE registered = 0", NULL, 0, &held, e)))
            return rc;
        if (held >= o->quarantine_max) {
            /* full: the unknown id silent longest, for over an hour, with nothing attached, makes room */
            int64_t gone = 0;
            store_param x[] = {P_INT(now - DEVICES_QUARANTINE_IDLE_MS)};
            if ((rc = store_exec(tx,
                                 "DELETE FROM devices WHERE id IN (SELECT d.id FROM devices d WHERE d.registered = 0 "
                                 "AND d.community_id IS NULL AND d.resident_id IS NULL AND d.last_seen_at < $1 "
                                 "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.id) "
                                 "AND NOT EXISTS (SELECT 1 FROM device_positions p WHERE p.device_id = d.id) "
                                 "AND NOT EXISTS (SELECT 1 FROM device_readings r WHERE r.device_id = d.id) "
                                 "AND NOT EXISTS (SELECT 1 FROM device_steps s WHERE s.device_id = d.id) "
                                 "AND NOT EXISTS (SELECT 1 FROM device_commands c WHERE c.device_id = d.id) "
                                 "ORDER BY d.last_seen_at LIMIT 1)",
                                 x, 1, &gone, e)))
                return rc;
            if (gone == 0) {
                log_quarantine_full(now);
                d->counter = WIRE_NONE;
                return 0; /* d->id 0: refused */
            }
        }
    }
    store_param q[] = {P_TEXT(imei), P_TEXT(proto == WIRE_PROTO_IW ? "iw" : "watch"), P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO devices (imei, protocol, registered, online, first_seen_at, last_seen_at, created_at, "
                       "updated_at) VALUES ($1, $2, 0, 1, $3, $3, $3, $3) RETURNING id",
                       q, 3, &d->id, e);
    if (rc == 0)
        nx_log(LOG_INFO, "devices.unregistered_seen device=%lld", (long long)d->id);
    d->counter = WIRE_NONE;
    return rc;
}

/* Open a new alert or merge into the one it repeats. *id gets the alert. */
int devices_alert_raise(store_tx *tx, const devices_target *t, const char *kind, const char *source,
                        const wire_pos *pos, const char *detail, int64_t now, int64_t esc_ms, int64_t *id, nx_err *e)
{
    bool server = strcmp(source, "server") == 0;
    bool fix = pos && pos->present && pos->fix && pos->lat_e6 != WIRE_NONE && pos->lon_e6 != WIRE_NONE;
    int64_t found = 0;
    int rc;
    if (strcmp(kind, "sos") == 0) {
        store_param p[] = {P_INT(t->device_id), P_INT(now - DEVICES_SOS_MERGE_MS)};
        rc = store_one_int(tx,
                           "SELECT id FROM alerts WHERE device_id = $1 AND kind = 'sos' AND state = 'open' AND last_at >= $2 "
                           "ORDER BY id DESC LIMIT 1",
                           p, 2, &found, e);
    } else {
        bool unbounded = strcmp(kind, "offline") == 0 || strcmp(kind, "no_activity") == 0;
        int64_t since = unbounded ? 0 : now - DEVICES_DUP_WINDOW_MS;
        if (server && t->resident_id) {
            store_param p[] = {P_INT(t->resident_id), P_TEXT(kind), P_INT(since)};
            rc = store_one_int(tx,
                               "SELECT id FROM alerts WHERE resident_id = $1 AND kind = $2 AND state IN ('open', "
                               "'acknowledged') AND last_at >= $3 ORDER BY id DESC LIMIT 1",
                               p, 3, &found, e);
        } else {
            store_param p[] = {P_INT(t->device_id), P_TEXT(kind), P_INT(since)};
            rc = store_one_int(tx,
                               "SELECT id FROM alerts WHERE device_id = $1 AND kind = $2 AND state IN ('open', "
                               "'acknowledged') AND last_at >= $3 ORDER BY id DESC LIMIT 1",
                               p, 3, &found, e);
        }
    }
    if (rc && rc != NX_ENOTFOUND)
        return rc;
    if (rc == 0 && found) {
        store_param p[] = {P_INT(found), P_INT(now), P_INT(fix ? 1 : 0), fix ? P_INT(pos->lat_e6) : P_NULL,
                           fix ? P_INT(pos->lon_e6) : P_NULL};
        if ((rc = store_exec(tx,
                             "UPDATE alerts SET repeats = repeats + 1, last_at = $2, fix = CASE WHEN $3 = 1 THEN 1 ELSE fix END, "
                             "lat_e6 = COALESCE($4, lat_e6), lon_e6 = COALESCE($5, lon_e6) WHERE id = $1",
                             p, 5, NULL, e)) ||
            (rc = devices_alert_log(tx, found, now, "repeated", 0, -1, NULL, e)))
            return rc;
        *id = found;
        /* the repeat reaches the live stream and every subscriber, like the opening did */
        store_param q[] = {P_INT(found)};
        store_rows *r = NULL;
        if ((rc = store_query(tx,
                              "SELECT community_id, grid_id, resident_id, device_id, escalation_level, state, severity "
                              "FROM alerts WHERE id = $1",
                              q, 1, &r, e)))
            return rc;
        if ((rc = store_first(r, "报警不存在", e)) == 0) {
            char state[16], sev[12];
            str_copy(state, store_text(r, 5) ? store_text(r, 5) : "open", sizeof state);
            str_copy(sev, store_text(r, 6) ? store_text(r, 6) : kind_severity(kind), sizeof sev);
            devices_alert_ref ref = {.id = found, .community_id = store_int(r, 0), .grid_id = store_int(r, 1),
                                     .resident_id = store_int(r, 2), .device_id = store_int(r, 3), .kind = kind,
                                     .severity = sev, .level = (int)store_int(r, 4)};
            store_rows_free(r);
            return devices_alert_emit(tx, DEVICES_EV_ALERT_REPEATED, &ref, state, false, e);
        }
        store_rows_free(r);
        return rc;
    }
    const char *severity = kind_severity(kind);
    bool has_pos = pos && pos->present && pos->lat_e6 != WIRE_NONE && pos->lon_e6 != WIRE_NONE && fix;
    store_param p[] = {P_ID(t->community_id),
                       P_ID(t->grid_id),
                       P_ID(t->resident_id),
                       P_ID(t->device_id),
                       P_TEXT(kind),
                       P_TEXT(source),
                       P_TEXT(severity),
                       P_INT(now),
                       P_INT(fix ? 1 : 0),
                       has_pos ? P_INT(pos->lat_e6) : P_NULL,
                       has_pos ? P_INT(pos->lon_e6) : P_NULL,
                       P_TEXT(detail ? detail : "{}"),
                       P_INT(now + (esc_ms > 0 ? esc_ms : DEVICES_ESC_DEFAULT_MS))};
    if ((rc = store_one_int(tx,
                            "INSERT INTO alerts (community_id, grid_id, resident_id, device_id, kind, source, severity, state, "
                            "opened_at, last_at, fix, lat_e6, lon_e6, detail, escalation_level, next_escalation_at) VALUES "
                            "($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8, $9, $10, $11, $12, 0, $13) RETURNING id",
                            p, 13, id, e)) ||
        (rc = devices_alert_log(tx, *id, now, "opened", 0, 0, NULL, e)))
        return rc;
    devices_alert_ref ref = {.id = *id, .community_id = t->community_id, .grid_id = t->grid_id,
                         .resident_id = t->resident_id, .device_id = t->device_id, .kind = kind,
                         .severity = severity, .level = 0};
    nx_log(LOG_INFO, "devices.alert_opened alert=%lld kind=%s device=%lld fix=%d", (long long)*id, kind,
           (long long)t->device_id, fix ? 1 : 0);
    return devices_alert_emit(tx, DEVICES_EV_ALERT_OPENED, &ref, "open", false, e);
}

static void local_day(int64_t ms, char out[11])
{
    int64_t days = (ms + NX_TZ_OFFSET_MS) / 86400000LL;
    date_format(date_from_days(days), out);
}

static int ingest_alarm(store_tx *tx, const devrow *d, const wire_msg *m, int64_t now, int64_t esc_ms,
                        int64_t *first, nx_err *e)
{
    static const struct {
        uint32_t bit;
        const char *kind;
    } map[] = {{WIRE_AL_SOS, "sos"},
               {WIRE_AL_FALL, "fall"},
               {WIRE_AL_TAKEN_OFF, "taken_off"},
               {WIRE_AL_HEART_RATE, "heart_rate"},
               {WIRE_AL_LOW_BATTERY, "low_battery"},
               {WIRE_AL_FENCE_OUT, "fence"},
               {WIRE_AL_FENCE_IN, "fence"},
               {WIRE_AL_GENERAL, "general"}};
    devices_target t = {.device_id = d->id, .community_id = d->community, .grid_id = d->grid, .resident_id = d->resident};
    char detail[160];
    snprintf(detail, sizeof detail, "{\"frame\":\"%s\",\"fix\":%s}",
             m->proto == WIRE_PROTO_IW ? "iw" : "watch", m->pos.present && m->pos.fix ? "true" : "false");
    uint32_t bits = m->alarms;
    if ((bits & (WIRE_AL_SOS | WIRE_AL_FALL | WIRE_AL_TAKEN_OFF | WIRE_AL_HEART_RATE | WIRE_AL_LOW_BATTERY |
                 WIRE_AL_FENCE_OUT | WIRE_AL_FENCE_IN | WIRE_AL_GENERAL)) == 0)
        bits |= WIRE_AL_GENERAL; /* an alarm frame with no recognised alarm is still an alarm */
    bool fence_done = false;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!(bits & map[i].bit))
            continue;
        if (strcmp(map[i].kind, "fence") == 0) {
            if (fence_done)
                continue;
            fence_done = true;
        }
        int64_t id = 0;
        int rc = devices_alert_raise(tx, &t, map[i].kind, "device", &m->pos, detail, now, esc_ms, &id, e);
        if (rc)
            return rc;
        if (!*first)
            *first = id;
    }
    return 0;
}

/* What one batch remembers of each device it has written: the row (so a device is looked up once per
 * batch, not once per frame) and its resident's rules once read. Bounded; a device beyond the bound
 * is simply looked up again. Found by a hash of its id (a batch of a thousand frames from hundreds of
 * devices would otherwise compare ids hundreds of times per frame). */
#define INGEST_CACHE 1024

typedef struct ing_dev {
    char imei[24];
    int proto;
    devrow d;
    bool rules_loaded;
    devices_alert_rules rules;
    bool dirty;          /* up holds a device row not yet written (dev_flush) */
    store_param up[17];  /* DEV_UPDATE_SQL's parameters, the batch's frames merged */
    bool steps_dirty;    /* steps holds the day's steps not yet written (dev_flush) */
    store_param steps[4]; /* STEPS_SQL's parameters: device, day (in steps_day), steps, at */
    char steps_day[11];
} ing_dev;

static const char STEPS_SQL[] =
    "INSERT INTO device_steps (device_id, day, steps, updated_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (device_id, day) DO UPDATE SET steps = excluded.steps, updated_at = excluded.updated_at";

/* ---- telemetry rows, many per INSERT ---- */

/* Rows per multi-row INSERT; a batch's last rows go in statements of 16, 4 and 1 rows, so each table
 * has four statement texts (prepared once per connection) and a statement binds at most
 * TELE_CHUNK × 12 = 768 parameters (PostgreSQL's store takes 1 024, SQLite 32 766). */
#define TELE_CHUNK 64
enum { TELE_POS, TELE_READ, TELE_TABLES };
static const int tele_cols[TELE_TABLES] = {12, 8};
static const char *const tele_head[TELE_TABLES] = {
    "INSERT INTO device_positions (device_id, at, fix_at, fix, lat_e6, lon_e6, speed_e1, course_e1, satellites, "
    "cells, wifi, delayed) VALUES ",
    "INSERT INTO device_readings (device_id, at, hr, sys, dia, spo2, temp_e1, sugar_e2) VALUES "};
static const int tele_sizes[] = {TELE_CHUNK, 16, 4, 1};
#define TELE_NSIZES ((int)(sizeof tele_sizes / sizeof tele_sizes[0]))
static char *tele_sql_text[TELE_TABLES][TELE_NSIZES];
static pthread_once_t tele_sql_once = PTHREAD_ONCE_INIT;

static void tele_sql_build(void)
{
    for (int t = 0; t < TELE_TABLES; t++)
        for (int z = 0; z < TELE_NSIZES; z++) {
            strbuf b;
            strbuf_init(&b, 0);
            strbuf_puts(&b, tele_head[t]);
            for (int r = 0, k = 1; r < tele_sizes[z]; r++) {
                strbuf_puts(&b, r ? ", (" : "(");
                for (int c = 0; c < tele_cols[t]; c++, k++)
                    strbuf_printf(&b, c ? ", $%d" : "$%d", k);
                strbuf_puts(&b, ")");
            }
            tele_sql_text[t][z] = strbuf_steal(&b); /* kept for the process's life; NULL if out of memory */
        }
}

/* The rows of one table waiting for their INSERT: TELE_CHUNK rows of tele_cols parameters. */
typedef struct tele_rows {
    store_param p[TELE_CHUNK * 12];
    int n;
} tele_rows;

/* Insert the first n rows of table t from p, in as few statements as tele_sizes allow. */
static int tele_insert(store_tx *tx, int t, const store_param *p, int n, nx_err *e)
{
    pthread_once(&tele_sql_once, tele_sql_build);
    for (int z = 0; n > 0 && z < TELE_NSIZES;) {
        if (n < tele_sizes[z]) {
            z++;
            continue;
        }
        if (tele_sql_text[t][z] == NULL)
            return nx_fail(e, NX_ENOMEM, "", "内存不足");
        int rc = store_exec(tx, tele_sql_text[t][z], p, tele_sizes[z] * tele_cols[t], NULL, e);
        if (rc)
            return rc;
        p += tele_sizes[z] * tele_cols[t];
        n -= tele_sizes[z];
    }
    return 0;
}

/* Write the rows waiting in b (table t). */
static int tele_flush(store_tx *tx, int t, tele_rows *b, nx_err *e)
{
    int n = b->n;
    b->n = 0;
    return n ? tele_insert(tx, t, b->p, n, e) : 0;
}

/* Queue one row of table t (tele_cols[t] parameters, integers or NULL); a full buffer is written. */
static int tele_add(store_tx *tx, int t, tele_rows *b, const store_param *row, nx_err *e)
{
    memcpy(&b->p[b->n * tele_cols[t]], row, (size_t)tele_cols[t] * sizeof *row);
    return ++b->n == TELE_CHUNK ? tele_flush(tx, t, b, e) : 0;
}

/* What a batch carries from item to item: its devices and the telemetry rows not yet inserted. */
typedef struct ing_batch {
    struct ing_cache *cache;
    tele_rows rows[TELE_TABLES];
} ing_batch;

/* The device row after a telemetry frame: each column keeps its value unless the frame brought one. */
static const char DEV_UPDATE_SQL[] =
    "UPDATE devices SET online = 1, last_seen_at = $2, updated_at = $2, battery = COALESCE($3, battery), "
    "iccid = COALESCE($4, iccid), worn = COALESCE($5, worn), last_fix_at = COALESCE($6, last_fix_at), "
    "last_lat_e6 = COALESCE($7, last_lat_e6), last_lon_e6 = COALESCE($8, last_lon_e6), "
    "last_hr = COALESCE($9, last_hr), last_sys = COALESCE($10, last_sys), "
    "last_dia = COALESCE($11, last_dia), last_spo2 = COALESCE($12, last_spo2), "
    "last_temp_e1 = COALESCE($13, last_temp_e1), last_reading_at = COALESCE($14, last_reading_at), "
    "step_counter = COALESCE($15, step_counter), steps_day = COALESCE($16, steps_day), "
    "steps_today = COALESCE($17, steps_today) WHERE id = $1";

/* Gather the device row of one more telemetry frame into x: a later frame's value wins and an absent
 * one keeps the earlier, exactly what running DEV_UPDATE_SQL once per frame would leave. Text
 * parameters must outlive the batch (the frame's own fields, or x's). */
static void dev_gather(ing_dev *x, const store_param up[17])
{
    if (!x->dirty) {
        memcpy(x->up, up, sizeof x->up);
        x->dirty = true;
        return;
    }
    x->up[1] = up[1];
    for (int i = 2; i < 17; i++)
        if (up[i].type != SP_NULL)
            x->up[i] = up[i];
}

/* Write the device row gathered in x, if any: one UPDATE per device and batch instead of one per
 * frame. Called at the end of the batch, and before anything else that writes or reads the row or
 * raises an alert for the device, so that every statement sees the row as the frame-by-frame writes
 * would have left it. */
static int dev_flush(store_tx *tx, ing_dev *x, nx_err *e)
{
    if (x->steps_dirty) {
        x->steps_dirty = false;
        int rc = store_exec(tx, STEPS_SQL, x->steps, 4, NULL, e);
        if (rc)
            return rc;
    }
    if (!x->dirty)
        return 0;
    x->dirty = false;
    return store_exec(tx, DEV_UPDATE_SQL, x->up, 17, NULL, e);
}

/* The day's steps of the device after one more frame: the batch's last value of each day is the one
 * the frame-by-frame upserts would leave; a new day writes the previous day's first. */
static int steps_gather(store_tx *tx, ing_dev *x, const char *day, int64_t steps, int64_t at, nx_err *e)
{
    if (x->steps_dirty && strcmp(x->steps_day, day) != 0) {
        x->steps_dirty = false;
        int rc = store_exec(tx, STEPS_SQL, x->steps, 4, NULL, e);
        if (rc)
            return rc;
    }
    str_copy(x->steps_day, day, sizeof x->steps_day);
    x->steps[0] = P_INT(x->d.id);
    x->steps[1] = P_TEXT(x->steps_day);
    x->steps[2] = P_INT(steps);
    x->steps[3] = P_INT(at);
    x->steps_dirty = true;
    return 0;
}

typedef struct ing_cache {
    ing_dev *v;    /* the first n of cap are in use */
    int n, cap;
    int *slot;     /* open addressing, nslot (a power of two, ≥ 2 cap) slots: index into v + 1, 0 = empty */
    unsigned nslot;
} ing_cache;

static unsigned dev_hash(int proto, const char *imei)
{
    uint32_t h = 2166136261u ^ (uint32_t)proto; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)imei; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static int cached_device(store_tx *tx, ing_cache *c, const devices_in *it, const devices_ingest_opts *o, ing_dev **out,
                         ing_dev *spare, nx_err *e)
{
    unsigned k = dev_hash(it->proto, it->imei) & (c->nslot - 1);
    for (; c->slot[k]; k = (k + 1) & (c->nslot - 1)) {
        ing_dev *x = &c->v[c->slot[k] - 1];
        if (x->proto == it->proto && strcmp(x->imei, it->imei) == 0) {
            *out = x;
            return 0;
        }
    }
    ing_dev *x = c->n < c->cap ? &c->v[c->n] : spare;
    memset(x, 0, sizeof *x);
    int rc = dev_load(tx, it->imei, it->proto, it->at, o, &x->d, e);
    if (rc)
        return rc;
    str_copy(x->imei, it->imei, sizeof x->imei);
    x->proto = it->proto;
    if (x != spare)
        c->slot[k] = ++c->n; /* k: the empty slot the search ended on */
    *out = x;
    return 0;
}

static int cached_rules(store_tx *tx, ing_dev *x, const devices_alert_rules **out, nx_err *e)
{
    if (!x->rules_loaded) {
        int rc = devices_rules_load(tx, x->d.resident, &x->rules, NULL, e);
        if (rc)
            return rc;
        x->rules_loaded = true;
    }
    *out = &x->rules;
    return 0;
}

/* A takeover signal for a registered device: flag it (the first signal's time is kept until staff
 * confirm) and raise the alert (repeats merge into the open one). */
static int ingest_takeover(store_tx *tx, const devrow *d, const devices_in *it, int64_t esc_ms, nx_err *e)
{
    store_param p[] = {P_INT(d->id), P_INT(it->at)};
    int rc = store_exec(tx, "UPDATE devices SET takeover_at = COALESCE(takeover_at, $2), updated_at = $2 WHERE id = $1",
                        p, 2, NULL, e);
    if (rc)
        return rc;
    devices_target t = {.device_id = d->id, .community_id = d->community, .grid_id = d->grid, .resident_id = d->resident};
    char detail[80];
    snprintf(detail, sizeof detail, "{\"reason\":\"%s\",\"protocol\":\"%s\"}",
             strcmp(it->msg.type, "new_address") == 0 ? "new_address" : "second_source",
             it->proto == WIRE_PROTO_IW ? "iw" : "watch");
    int64_t id = 0;
    if ((rc = devices_alert_raise(tx, &t, "takeover", "server", NULL, detail, it->at, esc_ms, &id, e)))
        return rc;
    nx_log(LOG_WARN, "devices.takeover_signal device=%lld alert=%lld", (long long)d->id, (long long)id);
    return 0;
}

static int ingest_frame(store_tx *tx, ing_batch *b, ing_dev *x, const devices_in *it, const devices_ingest_opts *o,
                        int64_t *alert_id, nx_err *e)
{
    int64_t now = it->at, esc_ms = o->esc_ms;
    int rc;
    devrow *d = &x->d;
    if ((it->kind != DEVICES_IN_FRAME || (o->quarantine && !d->registered)) && (rc = dev_flush(tx, x, e)))
        return rc;
    if (o->quarantine && !d->registered) {
        /* quarantine: seen (listed for staff), nothing else */
        *alert_id = DEVICES_HELD;
        if (!d->id || it->kind == DEVICES_IN_TAKEOVER)
            return 0;
        store_param p[] = {P_INT(d->id), P_INT(now), P_INT(it->kind == DEVICES_IN_OFFLINE ? 0 : 1)};
        return store_exec(tx,
                          "UPDATE devices SET online = $3, last_seen_at = CASE WHEN $3 = 1 THEN $2 ELSE last_seen_at END, "
                          "updated_at = $2 WHERE id = $1",
                          p, 3, NULL, e);
    }
    if (it->kind == DEVICES_IN_TAKEOVER)
        return d->registered ? ingest_takeover(tx, d, it, esc_ms, e) : 0;
    if (it->kind == DEVICES_IN_OFFLINE) {
        store_param p[] = {P_INT(d->id), P_INT(now)};
        return store_exec(tx, "UPDATE devices SET online = 0, updated_at = $2 WHERE id = $1", p, 2, NULL, e);
    }
    const wire_msg *m = &it->msg;
    int32_t battery = m->battery_pct;
    if (battery != WIRE_NONE && (battery < 0 || battery > 100))
        battery = WIRE_NONE;
#define OPT(v) ((v) != WIRE_NONE ? P_INT(v) : P_NULL)
#define POS(v) ((v) != WIRE_NONE && (v) > 0 ? P_INT(v) : P_NULL)
    /* The device row of this frame (seen, battery, last fix, last readings, steps), merged by dev_gather. */
    store_param up[17] = {P_INT(d->id), P_INT(now), OPT(battery), m->iccid[0] ? P_TEXT(m->iccid) : P_NULL,
                          m->has_status ? P_INT((m->status & WIRE_ST_WORN) ? 1 : 0) : P_NULL};
    for (int i = 5; i < 17; i++)
        up[i] = P_NULL;
    const wire_pos *pos = &m->pos;
    bool fix = pos->present && pos->fix && pos->lat_e6 != WIRE_NONE && pos->lon_e6 != WIRE_NONE;
    if (pos->present) {
        store_param q[] = {P_INT(d->id),
                           P_INT(now),
                           pos->time_ms ? P_INT(pos->time_ms) : P_NULL,
                           P_INT(fix ? 1 : 0),
                           OPT(pos->lat_e6),
                           OPT(pos->lon_e6),
                           OPT(pos->speed_kmh_e1),
                           OPT(pos->course_deg_e1),
                           OPT(pos->satellites),
                           P_INT(pos->cells_n),
                           P_INT(pos->wifi_n),
                           P_INT(m->delayed ? 1 : 0)};
        if ((rc = tele_add(tx, TELE_POS, &b->rows[TELE_POS], q, e)))
            return rc;
        if (fix && !m->delayed) {
            up[5] = P_INT(pos->time_ms ? pos->time_ms : now);
            up[6] = P_INT(pos->lat_e6);
            up[7] = P_INT(pos->lon_e6);
        }
    }
    const wire_health *h = &m->health;
    bool reading =
        m->kind == WIRE_HEALTH &&
        ((h->hr_bpm != WIRE_NONE && h->hr_bpm > 0) || (h->sys_mmhg != WIRE_NONE && h->sys_mmhg > 0) ||
         (h->dia_mmhg != WIRE_NONE && h->dia_mmhg > 0) || (h->spo2_pct != WIRE_NONE && h->spo2_pct > 0) ||
         (h->temp_c_e1 != WIRE_NONE && h->temp_c_e1 > 0) ||
         (h->sugar_mmol_e2 != WIRE_NONE && h->sugar_mmol_e2 > 0));
    if (reading) {
        store_param q[] = {P_INT(d->id),      P_INT(now),        POS(h->hr_bpm),    POS(h->sys_mmhg),
                           POS(h->dia_mmhg),  POS(h->spo2_pct),  POS(h->temp_c_e1), POS(h->sugar_mmol_e2)};
        if ((rc = tele_add(tx, TELE_READ, &b->rows[TELE_READ], q, e)))
            return rc;
        for (int i = 0; i < 5; i++)
            up[8 + i] = q[2 + i];
        up[13] = P_INT(now);
    }
    char day[11] = "";
    if (m->steps != WIRE_NONE && m->steps >= 0) {
        local_day(now, day);
        int64_t so_far = strcmp(day, d->steps_day) == 0 ? d->steps_today : 0;
        int64_t steps = devices_steps_add(d->counter, m->steps, so_far);
        if ((rc = steps_gather(tx, x, day, steps, now, e)))
            return rc;
        d->counter = m->steps; /* the batch's next frame of this device counts from here */
        str_copy(d->steps_day, day, sizeof d->steps_day);
        d->steps_today = steps;
        up[14] = P_INT(m->steps);
        up[15] = P_TEXT(d->steps_day); /* x's copy: outlives the batch, as dev_gather needs */
        up[16] = P_INT(steps);
    }
#undef POS
#undef OPT
    dev_gather(x, up);
    if (m->kind == WIRE_CMD_REPLY)
        return (rc = dev_flush(tx, x, e)) ? rc : devices_command_reply(tx, d->id, m, now, e);
    devices_target t = {.device_id = d->id, .community_id = d->community, .grid_id = d->grid, .resident_id = d->resident};
    const devices_alert_rules *rules = NULL;
    if (reading) {
        if ((rc = cached_rules(tx, x, &rules, e)))
            return rc;
        const char *bad[4];
        int nbad = devices_rules_check(rules, h, bad);
        if (nbad > 0 && (rc = dev_flush(tx, x, e)))
            return rc;
        for (int i = 0; i < nbad; i++) {
            char detail[200];
            snprintf(detail, sizeof detail, "{\"hr\":%d,\"sys\":%d,\"dia\":%d,\"spo2\":%d,\"temp_e1\":%d}",
                     h->hr_bpm == WIRE_NONE ? 0 : h->hr_bpm, h->sys_mmhg == WIRE_NONE ? 0 : h->sys_mmhg,
                     h->dia_mmhg == WIRE_NONE ? 0 : h->dia_mmhg, h->spo2_pct == WIRE_NONE ? 0 : h->spo2_pct,
                     h->temp_c_e1 == WIRE_NONE ? 0 : h->temp_c_e1);
            int64_t id;
            if ((rc = devices_alert_raise(tx, &t, bad[i], "server", NULL, detail, now, esc_ms, &id, e)))
                return rc;
        }
    }
    if (m->kind == WIRE_ALARM && ((rc = dev_flush(tx, x, e)) || (rc = ingest_alarm(tx, d, m, now, esc_ms, alert_id, e))))
        return rc;
    if (d->resident && fix && !m->delayed) {
        if (!rules && (rc = cached_rules(tx, x, &rules, e)))
            return rc;
        if (rules->home_radius_m > 0) {
            double dist = devices_distance_m(rules->home_lat_e6, rules->home_lon_e6, pos->lat_e6, pos->lon_e6);
            if (dist > rules->home_radius_m) {
                if ((rc = dev_flush(tx, x, e)))
                    return rc;
                char detail[80];
                snprintf(detail, sizeof detail, "{\"distance_m\":%.0f,\"radius_m\":%d}", dist, rules->home_radius_m);
                int64_t id;
                if ((rc = devices_alert_raise(tx, &t, "left_home", "server", pos, detail, now, esc_ms, &id, e)))
                    return rc;
            }
        }
    }
    return 0;
}

/* One item of a batch: its device from the batch's cache (a device beyond the cache, in spare, has
 * its row written at once). */
static int ingest_one(store_tx *tx, ing_batch *b, const devices_in *it, const devices_ingest_opts *o,
                      int64_t *alert_id, nx_err *e)
{
    ing_dev spare, *x;
    int rc = cached_device(tx, b->cache, it, o, &x, &spare, e);
    if (rc == 0)
        rc = ingest_frame(tx, b, x, it, o, alert_id, e);
    if (rc == 0 && x == &spare)
        rc = dev_flush(tx, x, e);
    return rc;
}

int devices_ingest(store *s, const devices_in *items, int n, int64_t esc_ms, int64_t *alert_ids, nx_err *e)
{
    devices_ingest_opts o = {.esc_ms = esc_ms};
    return devices_ingest_with(s, items, n, &o, alert_ids, e);
}

/* Whether the batch should give way now (devices_ingest_opts.yield). */
static bool yielding(const devices_ingest_opts *o)
{
    return o && o->yield && o->yield(o->yield_ctx);
}

int devices_ingest_with(store *s, const devices_in *items, int n, const devices_ingest_opts *o, int64_t *alert_ids,
                        nx_err *e)
{
    if (n <= 0)
        return 0;
    ing_cache cache = {.cap = n < INGEST_CACHE ? n : INGEST_CACHE, .nslot = 4};
    while (cache.nslot < 2u * (unsigned)cache.cap)
        cache.nslot *= 2;
    cache.v = malloc((size_t)cache.cap * sizeof *cache.v); /* each entry cleared when taken */
    cache.slot = calloc(cache.nslot, sizeof *cache.slot);
    ing_batch *b = calloc(1, sizeof *b);
    if (!cache.v || !cache.slot || !b) {
        free(cache.v);
        free(cache.slot);
        free(b);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    b->cache = &cache;
    store_tx *tx = NULL;
    bool lazy = o && o->lazy;
    int rc = store_begin(s, lazy ? STORE_WRITE_LAZY : o && o->urgent ? STORE_WRITE_URGENT : STORE_WRITE, &tx, e);
    bool began = rc == 0;
    if (!lazy)
        trace_mark("tx.begun", 0, n);
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t id = 0;
        if (i > 0 && yielding(o))
            rc = DEVICES_YIELDED;
        else if ((rc = ingest_one(tx, b, &items[i], o, &id, e)) == 0 && alert_ids)
            alert_ids[i] = id;
    }
    /* the batch's remaining inserts and its device rows: a batch of telemetry still gives way here (a
     * hundred device rows take as long as the frames before them), up to its commit */
    for (int t = 0; rc == 0 && t < TELE_TABLES; t++)
        rc = yielding(o) ? DEVICES_YIELDED : tele_flush(tx, t, &b->rows[t], e);
    for (int i = 0; rc == 0 && i < cache.n; i++)
        rc = yielding(o) ? DEVICES_YIELDED : dev_flush(tx, &cache.v[i], e);
    free(cache.v);
    free(cache.slot);
    free(b);
    if (rc) {
        if (began)
            store_rollback(tx);
        return rc;
    }
    if (!lazy)
        trace_mark("tx.commit", 0, n);
    rc = store_commit(tx, e);
    if (!lazy)
        trace_mark("tx.committed", 0, rc);
    return rc;
}

/* ---- retention ---- */

#define PRUNE_CHUNK 5000
#define PRUNE_CHUNKS_MAX 40 /* per table and run: the rest waits for the next hour */

/* Delete in chunks, each its own short write transaction, so the gateway's writer never waits long. */
static int prune_table(store *s, const char *sql, const store_param *p, int n, int64_t *gone, nx_err *e)
{
    for (int i = 0; i < PRUNE_CHUNKS_MAX; i++) {
        store_tx *tx;
        int64_t changed = 0;
        int rc = store_begin(s, STORE_WRITE, &tx, e);
        if (rc)
            return rc;
        if ((rc = store_exec(tx, sql, p, n, &changed, e))) {
            store_rollback(tx);
            return rc;
        }
        if ((rc = store_commit(tx, e)))
            return rc;
        *gone += changed;
        if (changed < PRUNE_CHUNK)
            break;
    }
    return 0;
}

int devices_prune(store *s, int64_t now, int keep_days, int64_t *gone, nx_err *e)
{
    *gone = 0;
    if (keep_days <= 0)
        return 0;
    int64_t cutoff = now - (int64_t)keep_days * 86400000LL;
    char day[11];
    local_day(cutoff, day);
    store_param p[] = {P_INT(cutoff), P_INT(PRUNE_CHUNK)};
    store_param pd[] = {P_TEXT(day)};
    static const char *const chunked[] = {
        "DELETE FROM device_positions WHERE id IN "
        "(SELECT id FROM device_positions WHERE at < $1 ORDER BY id LIMIT $2)",
        "DELETE FROM device_readings WHERE id IN "
        "(SELECT id FROM device_readings WHERE at < $1 ORDER BY id LIMIT $2)",
        "DELETE FROM device_commands WHERE id IN (SELECT id FROM device_commands WHERE done_at < $1 "
        "AND state IN ('done', 'failed', 'expired', 'cancelled') ORDER BY id LIMIT $2)",
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof chunked / sizeof chunked[0] && rc == 0; i++)
        rc = prune_table(s, chunked[i], p, 2, gone, e);
    /* steps: one row per device and day, few; deleted at once (a second round finds none left) */
    return rc ? rc : prune_table(s, "DELETE FROM device_steps WHERE day < $1", pd, 1, gone, e);
}

/* ---- the ticker ---- */

typedef struct esc_row {
    int64_t id, community, grid, resident, device;
    int level;
    char kind[24], severity[12];
} esc_row;

static const char *const level_target[] = {"grid", "staff", "family"};

static void esc_fill(store_rows *r, void *elem)
{
    esc_row *x = elem;
    x->id = store_int(r, 0);
    x->community = store_int(r, 1);
    x->grid = store_int(r, 2);
    x->resident = store_int(r, 3);
    x->device = store_int(r, 4);
    x->level = (int)store_int(r, 5);
    str_copy(x->kind, store_text(r, 6), sizeof x->kind);
    str_copy(x->severity, store_text(r, 7), sizeof x->severity);
}

static int escalate(store_tx *tx, int64_t now, int64_t esc_ms, int *count, nx_err *e)
{
    vec v;
    vec_init(&v, sizeof(esc_row), 200);
    store_param p[] = {P_INT(now)};
    int rc = store_query_vec(tx,
                             "SELECT id, community_id, grid_id, resident_id, device_id, escalation_level, kind, severity "
                             "FROM alerts WHERE state = 'open' AND next_escalation_at IS NOT NULL AND "
                             "next_escalation_at <= $1 ORDER BY id LIMIT 200",
                             p, 1, esc_fill, &v, e);
    for (size_t i = 0; rc == 0 && i < v.len; i++) {
        const esc_row *x = (const esc_row *)v.items + i;
        int level = x->level < DEVICES_ESC_LEVEL_MAX ? x->level + 1 : DEVICES_ESC_LEVEL_MAX;
        bool more = level < DEVICES_ESC_LEVEL_MAX;
        store_param u[] = {P_INT(x->id), P_INT(level), more ? P_INT(now + esc_ms) : P_NULL};
        if ((rc = store_exec(tx, "UPDATE alerts SET escalation_level = $2, next_escalation_at = $3 WHERE id = $1", u, 3,
                             NULL, e)) ||
            (rc = devices_alert_log(tx, x->id, now, "escalated", 0, level, level_target[level], e)))
            break;
        devices_alert_ref ref = {.id = x->id, .community_id = x->community, .grid_id = x->grid, .resident_id = x->resident,
                             .device_id = x->device, .kind = x->kind, .severity = x->severity, .level = level};
        rc = devices_alert_emit(tx, DEVICES_EV_ALERT_ESCALATED, &ref, "open", false, e);
        nx_log(LOG_INFO, "devices.alert_escalated alert=%lld level=%d target=%s", (long long)x->id, level,
               level_target[level]);
        if (count)
            (*count)++;
    }
    vec_cleanup(&v);
    return rc;
}

typedef struct idrow {
    int64_t device, community, grid, resident;
} idrow;

static void idrow_fill(store_rows *r, void *elem)
{
    *(idrow *)elem = (idrow){store_int(r, 0), store_int(r, 1), store_int(r, 2), store_int(r, 3)};
}

/* Raise kind for each device the query returns (device, community, grid, resident; the query LIMITs
 * itself to RAISE_MAX: the rest are raised at the next sweep). */
enum { RAISE_MAX = 500 };
static int raise_for(store_tx *tx, const char *sql, const store_param *p, int np, const char *kind, int64_t now,
                     int64_t esc_ms, nx_err *e)
{
    vec v;
    vec_init(&v, sizeof(idrow), RAISE_MAX);
    int rc = store_query_vec(tx, sql, p, np, idrow_fill, &v, e);
    for (size_t i = 0; rc == 0 && i < v.len; i++) {
        const idrow *x = (const idrow *)v.items + i;
        devices_target t = {.device_id = x->device, .community_id = x->community, .grid_id = x->grid,
                            .resident_id = x->resident};
        int64_t id;
        rc = devices_alert_raise(tx, &t, kind, "server", NULL, "{}", now, esc_ms, &id, e);
    }
    vec_cleanup(&v);
    return rc;
}

int devices_tick(store *s, int64_t now, int64_t esc_ms, int64_t idle_ms, int64_t since_ms, int *escalated, nx_err *e)
{
    if (escalated)
        *escalated = 0;
    if (esc_ms <= 0)
        esc_ms = DEVICES_ESC_DEFAULT_MS;
    store_tx *tx = NULL;
    int rc = store_begin(s, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    if ((rc = escalate(tx, now, esc_ms, escalated, e)) || (rc = devices_commands_tick(tx, now, e)))
        goto fail;
    if (idle_ms > 0) {
        store_param p[] = {P_INT(now - idle_ms), P_INT(now)};
        if ((rc = store_exec(tx, "UPDATE devices SET online = 0, updated_at = $2 WHERE online = 1 AND last_seen_at < $1", p, 2,
                             NULL, e)))
            goto fail;
    }
    {
        /* Silent longer than the rule, and the gateway listening at least that long (a server that was
         * down heard nobody: that is not the devices' fault). */
        store_param p[] = {P_INT(now), P_INT(since_ms)};
        if ((rc = raise_for(tx,
                            "SELECT d.id, d.community_id, d.grid_id, d.resident_id FROM devices d "
                            "LEFT JOIN alert_rules r ON r.resident_id = d.resident_id "
                            "WHERE d.registered = 1 AND d.resident_id IS NOT NULL AND d.last_seen_at IS NOT NULL "
                            "AND COALESCE(r.offline_min, 60) > 0 AND d.last_seen_at < $1 - COALESCE(r.offline_min, 60) * 60000 "
                            "AND $2 < $1 - COALESCE(r.offline_min, 60) * 60000 "
                            "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.id AND a.kind = 'offline' "
                            "AND (a.state IN ('open', 'acknowledged') OR a.opened_at > d.last_seen_at)) LIMIT 500",
                            p, 2, "offline", now, esc_ms, e)))
            goto fail;
    }
    {
        int64_t local = now + NX_TZ_OFFSET_MS;
        int hour = (int)((local / 3600000LL) % 24);
        char day[11];
        local_day(now, day);
        int64_t midnight = local / 86400000LL * 86400000LL - NX_TZ_OFFSET_MS;
        store_param p[] = {P_INT(hour), P_TEXT(day), P_INT(midnight)};
        if ((rc = raise_for(tx,
                            "SELECT d.id, d.community_id, d.grid_id, d.resident_id FROM devices d "
                            "JOIN resident_tags rt ON rt.resident_id = d.resident_id "
                            "JOIN tags t ON t.id = rt.tag_id AND t.code = 'living_alone' "
                            "LEFT JOIN alert_rules r ON r.resident_id = d.resident_id "
                            "WHERE d.registered = 1 AND COALESCE(r.no_steps_hour, 10) >= 0 AND COALESCE(r.no_steps_hour, 10) <= $1 "
                            "AND (d.steps_day IS NULL OR d.steps_day <> $2 OR d.steps_today = 0 OR d.worn = 0) "
                            "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.resident_id = d.resident_id "
                            "AND a.kind = 'no_activity' AND a.opened_at >= $3) LIMIT 500",
                            p, 3, "no_activity", now, esc_ms, e)))
            goto fail;
    }
fail:
    return store_finish(tx, rc, e);
}

struct devices_ticker {
    nx_app *app;
    int64_t started_at; /* the gateway listens from about then: offline alerts count from it */
    int64_t last_sweep, last_prune;
    store_ticker *ticker;
};

/* Whether an open alert is due to escalate at now: a read, so that the one-second tick takes the
 * single writer only when there is work. */
static bool escalation_due(store *s, int64_t now)
{
    store_tx *tx;
    int64_t due = 0;
    if (store_begin(s, STORE_READ, &tx, NULL))
        return true; /* let devices_tick report the problem */
    store_param p[] = {P_INT(now)};
    int rc = store_one_int(tx,
                           "SELECT count(*) FROM alerts WHERE state = 'open' AND next_escalation_at IS NOT NULL "
                           "AND next_escalation_at <= $1",
                           p, 1, &due, NULL);
    store_rollback(tx);
    return rc != 0 || due > 0;
}

/* The full sweep (offline devices, no activity by the set hour) looks at every device: every 30 s.
 * Escalations are checked every tick. */
#define TICK_SWEEP_MS 30000
/* Telemetry older than telemetry_keep_days is deleted once an hour (devices_prune). */
#define TICK_PRUNE_MS (3600LL * 1000)

/* One tick of the ticker (store_tick_fn), run only while this process is the leader. */
static int ticker_tick(void *arg, int64_t now, nx_err *e)
{
    devices_ticker *t = arg;
    bool sweep = now - t->last_sweep >= TICK_SWEEP_MS || now < t->last_sweep;
    if (!sweep && !escalation_due(t->app->db, now))
        return 0;
    int64_t esc = t->app->cfg ? t->app->cfg->alert_escalate_s * 1000 : 0;
    int64_t idle = t->app->cfg ? t->app->cfg->gw_idle_timeout_s * 1000 : 0;
    int n = 0;
    int rc = devices_tick(t->app->db, now, esc, idle, t->started_at, &n, e);
    int64_t keep = t->app->cfg ? t->app->cfg->telemetry_keep_days : 0;
    if (keep > 0 && (now - t->last_prune >= TICK_PRUNE_MS || now < t->last_prune)) {
        int64_t gone = 0;
        nx_err pe;
        nx_err_clear(&pe);
        int prc = devices_prune(t->app->db, now, (int)keep, &gone, &pe);
        if (prc)
            nx_log(LOG_WARN, "devices.prune_failed code=%s", nx_code_name(prc));
        else if (gone)
            nx_log(LOG_INFO, "devices.pruned rows=%lld keep_days=%lld", (long long)gone, (long long)keep);
        t->last_prune = now;
    }
    if (sweep)
        t->last_sweep = now;
    return rc; /* the ticker logs a failed devices_tick; the prune runs all the same */
}

int devices_ticker_start(nx_app *app, int interval_ms, devices_ticker **out, nx_err *e)
{
    devices_ticker *t = calloc(1, sizeof *t);
    if (!t)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    t->app = app;
    t->started_at = clock_now_ms();
    store_ticker_options o = {.name = "devices.ticker",
                              .period_ms = interval_ms > 0 ? interval_ms : 1000,
                              .run_at_start = true,
                              .fn = ticker_tick,
                              .ctx = t};
    int rc = store_ticker_start(app->db, &o, &t->ticker, e);
    if (rc) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void devices_ticker_stop(devices_ticker *t)
{
    if (!t)
        return;
    store_ticker_stop(t->ticker);
    free(t);
}
