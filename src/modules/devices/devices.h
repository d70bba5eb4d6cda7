/* devices.h — wristbands, their telemetry, alert rules, and alerts from opening to resolution.
 *
 * The registry: a device row exists from the first frame the gateway hands in (registered = 0,
 * listed for staff to bind) or from `device add` / POST /api/v1/devices. Binding a device to a
 * resident copies the resident's community and grid onto it, so scope is applied in SQL as in every
 * other module.
 *
 * Ingest (the gateway's side): devices_ingest writes a batch of decoded frames in ONE write
 * transaction: device seen/online, battery, positions, health readings, steps per day from the
 * cumulative counter, band checks against the resident's rules, and alarms. An alarm frame is
 * handed in alone and synchronously: when devices_ingest returns 0 the alert is committed, and only
 * then does the gateway acknowledge the frame (DESIGN §7).
 *
 * Alerts: kinds sos, fall, taken_off, low_battery, fence, general, heart_rate (device alarms) and
 * heart_rate, blood_pressure, spo2, temperature, offline, no_activity, left_home, takeover
 * (server-derived).
 * Duplicate suppression merges a repeated frame into the alert it repeats (repeats += 1), and never
 * hides a new SOS: an SOS merges only into an SOS of the same device that is still open (nobody has
 * acknowledged it yet) and whose last frame came less than DEVICES_SOS_MERGE_MS ago — a watch repeats
 * an unanswered SOS, a person pressing again after someone answered is a new alarm. Other device
 * alarms merge into an unresolved alert of the same kind and device within DEVICES_DUP_WINDOW_MS;
 * offline and no_activity merge into any unresolved alert of their kind.
 * Life: open → acknowledged (who, when, ack_ms) → resolved or false_alarm (who, when, note,
 * needs_followup, resolve_ms). Escalation: an open alert moves along the chain grid worker (level 0)
 * → duty staff (1) → family (2) each time next_escalation_at passes (devices_tick).
 *
 * Events (outbox, same transaction): "devices.alert.opened", "devices.alert.repeated",
 * "devices.alert.escalated", "devices.alert.acknowledged" and "devices.alert.resolved" — payload
 * {"alert_id", "resident_id" (null when unbound), "device_id", "kind", "severity", "state", "level",
 * "needs_followup" (resolved), "grid_id"}. The visits module consumes devices.alert.resolved.
 * Rights: RIGHT_DEVICE_READ (lists; family members see their elder's alerts), RIGHT_DEVICE_WRITE
 * (registry, rules), RIGHT_ALERT_HANDLE (acknowledge, resolve). All functions block on the store. */
#ifndef NX_MODULES_DEVICES_H
#define NX_MODULES_DEVICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/app.h"
#include "wire/codec.h"

/* Event kinds (outbox), with the payload above; subscribers use these names, never the strings. */
#define DEVICES_EV_ALERT_PREFIX "devices.alert." /* every alert event: a dispatcher or SSE prefix */
#define DEVICES_EV_ALERT_OPENED "devices.alert.opened"
#define DEVICES_EV_ALERT_REPEATED "devices.alert.repeated" /* a merged repeat; "repeats" is on the alert */
#define DEVICES_EV_ALERT_ESCALATED "devices.alert.escalated"
#define DEVICES_EV_ALERT_ACKNOWLEDGED "devices.alert.acknowledged"
#define DEVICES_EV_ALERT_RESOLVED "devices.alert.resolved"

#define DEVICES_SOS_MERGE_MS   (60LL * 1000)      /* a repeated SOS frame of an unanswered alarm */
#define DEVICES_DUP_WINDOW_MS  (30LL * 60 * 1000) /* other repeated alarms */
#define DEVICES_ESC_LEVEL_MAX  2                  /* 0 grid worker, 1 duty staff, 2 family */
#define DEVICES_ESC_DEFAULT_MS (180LL * 1000)     /* configuration: alert_escalate_s */

/* Built-in alert bands; a resident's alert_rules row overrides any of them. */
typedef struct devices_alert_rules {
    int32_t hr_min, hr_max;           /* beats per minute */
    int32_t sys_min, sys_max, dia_max; /* mmHg */
    int32_t spo2_min;                 /* % */
    int32_t temp_min_e1, temp_max_e1; /* 0.1 °C */
    int32_t offline_min;              /* 0 = off */
    int32_t no_steps_hour;            /* local hour, -1 = off; only for residents living alone */
    int32_t home_lat_e6, home_lon_e6, home_radius_m; /* radius 0 = off */
} devices_alert_rules;

/* The defaults: HR 50-120, systolic 90-160, diastolic ≤ 100, SpO2 ≥ 90, temperature 35.0-37.5,
 * offline 60 min, no steps by 10 o'clock, no home radius. */
void devices_rules_default(devices_alert_rules *r);

/* Which band a health reading breaks: fills up to 4 kinds ("heart_rate", "blood_pressure", "spo2",
 * "temperature") into kinds and returns their number. Pure. */
int devices_rules_check(const devices_alert_rules *r, const wire_health *h, const char *kinds[4]);

/* Metres between two points (micro-degrees), haversine. Pure. */
double devices_distance_m(int32_t lat1_e6, int32_t lon1_e6, int32_t lat2_e6, int32_t lon2_e6);

/* Steps walked on a day given the previous counter (or WIRE_NONE), the new cumulative counter and the
 * steps already counted that day: a counter that goes down was reset and counts from zero. Pure. */
int64_t devices_steps_add(int64_t prev_counter, int64_t counter, int64_t steps_so_far);

/* ---- ingest (the gateway) ---- */

enum devices_in_kind {
    DEVICES_IN_FRAME = 1, /* a decoded frame (msg) */
    DEVICES_IN_OFFLINE,   /* the device's connection closed */
    DEVICES_IN_TAKEOVER,  /* the device spoke from a second source (msg.type: "second_source" or
                             "new_address"): a registered device is flagged (takeover_at, its queued
                             commands held) and a "takeover" alert raised; an unregistered one is not */
};

typedef struct devices_in {
    int kind;          /* enum devices_in_kind */
    int proto;         /* enum wire_proto */
    int64_t at;        /* server time the frame was read, epoch ms */
    char imei[24];     /* the device's id (watch ID, IW IMEI from the login) */
    wire_msg msg;      /* DEVICES_IN_FRAME: raw and payload must be NULL (they are not kept) */
} devices_in;

/* Write n items in one write transaction (see the essay). esc_ms: time before a new alert's first
 * escalation (0 = DEVICES_ESC_DEFAULT_MS). alert_ids (may be NULL) receives, for each item, the id of
 * the alert an alarm frame opened or merged into (0 for other items). Returns 0 once committed, or
 * the store's code (nothing written). Blocks. */
int devices_ingest(store *s, const devices_in *items, int n, int64_t esc_ms, int64_t *alert_ids, nx_err *e);

/* Quarantine (issue 21): an input whose devices only claim their identity (the TCP gateway: the
 * protocols carry no credential) ingests with quarantine on. Then an id that is not registered is
 * only "seen": its row is created (registered = 0, listed for staff to register) or its
 * last_seen_at/online updated, and nothing it sends becomes a position, a reading, steps, an alarm,
 * a command answer or an event. At most quarantine_max unregistered rows exist: when full, the
 * unregistered row silent longest (over DEVICES_QUARANTINE_IDLE_MS, bound to nobody, with no
 * telemetry, alert or command) is deleted to make room, and if there is none the new unknown id is
 * refused (no row; logged once a minute). Such items get DEVICES_HELD in alert_ids. An input whose broker authenticates each device (MQTT with per-device credentials)
 * ingests without quarantine. */
#define DEVICES_HELD (-1)
#define DEVICES_QUARANTINE_IDLE_MS (3600LL * 1000) /* an unknown id silent this long may be evicted */
typedef struct devices_ingest_opts {
    int64_t esc_ms;     /* 0 = DEVICES_ESC_DEFAULT_MS */
    bool quarantine;    /* unregistered ids are only seen (above) */
    int quarantine_max; /* with quarantine: unregistered rows at most (0 = no new unknown id) */
    /* Checked before each item after the first and before each of the closing writes (the batch's
     * last inserts, its device rows), up to the commit: when it returns true, the transaction is rolled
     * back and devices_ingest_with returns DEVICES_YIELDED (nothing written). The gateway's writer
     * uses it to give way to an alarm queued behind a batch of telemetry. NULL = never. */
    bool (*yield)(void *ctx);
    void *yield_ctx;
    bool lazy; /* commit with store_tx_lazy (telemetry already answered; never alarms) */
    bool urgent; /* an alarm's transaction: STORE_WRITE_URGENT, ahead of other writers (not with lazy) */
} devices_ingest_opts;
#define DEVICES_YIELDED 1
int devices_ingest_with(store *s, const devices_in *items, int n, const devices_ingest_opts *o, int64_t *alert_ids,
                        nx_err *e);

/* ---- the registry ---- */

typedef struct devices_device_input {
    const char *imei;     /* 1-20 digits; create only */
    const char *protocol; /* "watch" or "iw"; create only */
    const char *model, *sim, *notes;
    int64_t resident_id;  /* 0 = unchanged (create: unbound), -1 = unbind */
} devices_device_input;

/* Add a device (or register one the gateway has seen: same IMEI, registered = 0 → 1). DEVICE_WRITE;
 * the resident must be in scope. NX_ECONFLICT when the IMEI is already registered. Audited. */
int devices_add(nx_app *app, const nx_principal *who, const devices_device_input *in, int64_t *id, nx_err *e);
/* Change model, SIM, notes, binding. An unbound device is visible to every DEVICE_WRITE holder for
 * binding; a bound one only in scope. Audited. */
int devices_update(nx_app *app, const nx_principal *who, int64_t id, const devices_device_input *in,
                   nx_err *e);
int devices_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
typedef struct devices_device_filter {
    int registered;       /* 1 registered only, 0 unregistered only (seen, waiting for binding), -1 both */
    int online;           /* -1 any, 0/1 */
    bool low_battery;     /* battery ≤ 20 % */
    int64_t resident_id, community_id; /* 0 = any */
    const char *q;        /* IMEI or SIM prefix, the resident's name (part), pinyin or initials */
    int64_t after_id;     /* cursor: devices after this id */
    int limit;            /* rows of the page; 0 or over page_max: page_max */
} devices_device_filter;

/* {"items": […] in id order, "total": in scope with the filter, "next_cursor": text or null}; a
 * read failing on the way is the error (NX_EBUSY …), never a short page. */
int devices_list(nx_app *app, const nx_principal *who, const devices_device_filter *f, json_t **out,
                 nx_err *e);
/* Telemetry, newest first: what "positions", "readings" or "steps" (per local day: {"day",
 * "steps"}), since from_ms (0 = any), at most limit rows (0 or over page_max: page_max). */
int devices_telemetry(nx_app *app, const nx_principal *who, int64_t id, const char *what, int64_t from_ms,
                      int limit, json_t **out, nx_err *e);
/* Staff vouch for a device flagged as taken over (takeover_at set by DEVICES_IN_TAKEOVER): the flag
 * is cleared (who and when kept in takeover_confirmed_*), and its held commands go out again.
 * DEVICE_WRITE, device in scope; NX_ECONFLICT when the device is not flagged. Audited. */
int devices_confirm_identity(nx_app *app, const nx_principal *who, int64_t id, int64_t now, nx_err *e);
/* Look a device up by IMEI (for the CLI): 0 and *id, or NX_ENOTFOUND. */
int devices_find(store *s, const char *imei, int64_t *id, nx_err *e);

/* ---- alert rules ---- */

/* The effective rules of a resident {…, "custom": bool, "defaults": {the built-in bands}}
 * (DEVICE_READ, resident in scope). */
int devices_rules_get(nx_app *app, const nx_principal *who, int64_t resident_id, json_t **out, nx_err *e);
/* Replace the resident's overrides with the fields of in (strict; null or absent = default; no field
 * at all = back to the defaults, "custom" false). A band's lower end must stay below its upper end
 * (heart rate, systolic, temperature; the defaults count for a side not given). DEVICE_WRITE. */
int devices_rules_put(nx_app *app, const nx_principal *who, int64_t resident_id, json_t *in, nx_err *e);

/* ---- the family view ---- */

/* What a family member sees of their elder (DEVICE_READ; the resident in the caller's scope, else
 * NX_ENOTFOUND): {"resident": {id, name}, "home": {building_id, building_name, estate_id,
 * estate_name}, "device": {id, online, battery, last_seen_at} | null, "position": {at, lat, lon,
 * building_id, building_name, estate_name, distance_m, near} | null (the building nearest the last
 * fix; near = within 120 m), "plan": {estate_id, estate_name, buildings: [{id, name, floors, lat_e6,
 * lon_e6}]} | null (the estate of that building, else of home), "bands": the effective alert rules,
 * "readings": [{at, hr, sys, dia, spo2, temp, out_of_band: [kind]}] (newest first, up to 6),
 * "last_visit": {visited_on, kind, visitors, mood, health} | null}. Writes an audit row (reveal of
 * the resident: position and readings) in the same transaction; no answer without it. Blocking. */
int devices_family_view(nx_app *app, const nx_principal *who, int64_t resident, json_t **out, nx_err *e);

/* ---- alerts ---- */

typedef struct devices_alert_filter {
    const char *state;  /* "open", "acknowledged", "resolved", "false_alarm", "active" (open or
                           acknowledged); NULL = any */
    const char *kind;
    int64_t resident_id, device_id, community_id;
    int64_t from_ms, to_ms;
    int64_t before_id; /* cursor */
    int limit;         /* 0 = 50; over page_max: page_max */
} devices_alert_filter;

/* Newest first: {"items", "total" (all that match, whatever the cursor), "next_cursor"}. */
int devices_alert_list(nx_app *app, const nx_principal *who, const devices_alert_filter *f, json_t **out,
                       nx_err *e);
/* The alerts of f (cursor ignored), newest first, as an .xlsx file at path (Chinese headers: time,
 * kind, level, state, resident, wristband, who acknowledged and how fast, who resolved, the note,
 * follow-up). *rows gets the count. All of them or none: more than export_max_rows is NX_ETOOBIG
 * (narrow the filters), never a file cut short. DEVICE_READ; audited. */
int devices_alert_export(nx_app *app, const nx_principal *who, const devices_alert_filter *f,
                         const char *path, int64_t *rows, nx_err *e);
/* The alert with its log (DEVICE_READ, in scope). */
int devices_alert_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* The numbers to call for an active alarm (open or acknowledged): *out {"name", "phone", "contacts":
 * [{"name", "relation", "phone", …}]} with the phones in full — shown because of the alarm, to one
 * with ALERT_HANDLE in the alarm's scope, audited as a reveal of the resident naming the alarm
 * (people_reveal_for_alarm). NX_ECONFLICT once it is resolved (the numbers are masked again) or
 * when the wristband has no resident. */
int devices_alert_phones(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* open → acknowledged. ALERT_HANDLE in scope; NX_ECONFLICT unless open. */
int devices_alert_ack(nx_app *app, const nx_principal *who, int64_t id, const char *note, int64_t now_ms,
                      nx_err *e);
/* open/acknowledged → resolved (false_alarm true: false_alarm). An open alert is acknowledged by
 * the same call. note required (1-500 characters). ALERT_HANDLE; NX_ECONFLICT when already closed. */
int devices_alert_resolve(nx_app *app, const nx_principal *who, int64_t id, bool false_alarm, const char *note,
                          bool needs_followup, int64_t now_ms, nx_err *e);

/* One round of the server-side rules at now_ms: escalate open alerts whose next_escalation_at has
 * passed (the next one after esc_ms; none after the family level), mark devices silent for longer
 * than idle_ms offline, raise "offline" alerts for bound devices silent longer than their rule (and
 * only once since_ms — when the gateway began listening — is that long ago: 0 = no such limit), and
 * "no_activity" for residents living alone with no steps by their hour, or whose wristband says it is not
 * worn then (once a day). *escalated (may be NULL)
 * gets the number escalated. One write transaction; idempotent. */
int devices_tick(store *s, int64_t now_ms, int64_t esc_ms, int64_t idle_ms, int64_t since_ms, int *escalated,
                 nx_err *e);

/* Retention: delete positions, readings, daily steps and closed commands older than keep_days (0 =
 * keep everything), in chunks of short transactions (at most 200 000 rows per table per call; the
 * rest at the next call). *gone gets the rows deleted. Alerts are care records and are kept. */
int devices_prune(store *s, int64_t now_ms, int keep_days, int64_t *gone, nx_err *e);

/* A ticker (store/ticker.h) that runs devices_tick every interval_ms (0 = 1000) while this process
 * holds the store_leader lock "devices.ticker" (since_ms = the thread's start), and devices_prune with the
 * configured telemetry_keep_days once an hour. */
typedef struct devices_ticker devices_ticker;
int devices_ticker_start(nx_app *app, int interval_ms, devices_ticker **out, nx_err *e);
void devices_ticker_stop(devices_ticker *t); /* NULL accepted; joins */

/* ---- commands (devices_commands.c) ----
 *
 * Staff queue a command for a device (DEVICE_WRITE, device in scope); it waits (state "queued")
 * until the device is online and the gateway holding its connection sends it ("sent", with the
 * keyword or IW type and serial sent); the device's answer makes it "done". A queued command whose
 * expires_at passes is "expired"; a sent one not answered within DEVICES_CMD_REPLY_MS "failed"; staff
 * may cancel a queued one ("cancelled"). Kinds and their args (JSON object, strict):
 *   locate {}, upload_interval {"seconds": 60..65535}, sos_numbers {"phones": [1..3 phones, "" clears]},
 *   center {"phone"}, fall_detect {"on": bool, "call_centre": bool?}, fall_level {"level": 1..9},
 *   lowbat_alarm {"on"}, remove_alarm {"on"}, hr_interval {"seconds": 0..86400}, hr_now {},
 *   message {"text": ≤ WIRE_TEXT_MAX characters}, find {}, reset {}, poweroff {}.
 * A kind the device's protocol cannot say (IW has no centre number) is refused at creation. Phone
 * numbers are personal data: lists show them masked; the whole args are kept encrypted for the
 * gateway. */
#define DEVICES_CMD_EXPIRES_S (24LL * 3600)      /* default time a command may wait for its device */
#define DEVICES_CMD_REPLY_MS  (10LL * 60 * 1000) /* a sent command not answered by then: failed */

/* Chinese name of a command kind (the kind itself when unknown). */
const char *devices_command_label(const char *kind);
/* kind + args → the protocol-neutral command; strings in out borrow from args. NX_EINVAL with the
 * field (Chinese message) for an unknown kind, an unknown member, a value out of range. Pure. */
int devices_command_build(const char *kind, json_t *args, wire_cmd *out, nx_err *e);
/* Encode cmd as the frame for a device of proto (WIRE_PROTO_*), with the manufacturer ("SG"/"3G"…)
 * or the IW prefix, the device id and the IW serial. NX_EINVAL (field "kind") when the protocol has
 * no such command, NX_EINVAL (field "args") for a bad value. Pure. */
int devices_command_encode(const wire_cmd *cmd, int proto, const char *mf_or_prefix, const char *device,
                           uint32_t serial, char *out, size_t cap, size_t *len, nx_err *e);
/* Queue a command (expires_in_s 0 = DEVICES_CMD_EXPIRES_S; 60 s .. 30 days). Audited. */
int devices_command_create(nx_app *app, const nx_principal *who, int64_t device_id, const char *kind, json_t *args,
                           int64_t expires_in_s, int64_t now, int64_t *id, nx_err *e);
/* {"items": [newest first]} of the device's commands, at most limit (0 = 50; over page_max:
 * page_max), or (command_id != 0) that one command. */
int devices_command_list(nx_app *app, const nx_principal *who, int64_t device_id, int64_t command_id, int limit,
                         json_t **out, nx_err *e);
/* queued → cancelled; NX_ECONFLICT in any other state. Audited. */
int devices_command_cancel(nx_app *app, const nx_principal *who, int64_t device_id, int64_t command_id, int64_t now,
                           nx_err *e);

/* The gateway's side: queued, unexpired commands of devices marked online, oldest first, with their
 * whole args (decrypted). */
typedef struct devices_pending_cmd {
    int64_t id;
    char imei[24];
    int proto;
    char kind[24];
    char args[1024];
} devices_pending_cmd;
int devices_commands_pending(store *s, const nx_keys *keys, int64_t now, devices_pending_cmd *out, int cap,
                             int *n, nx_err *e);
/* The gateway's steps: DEVICES_CMD_CLAIM a queued command before handing it to the connection
 * (→ sent, with the keyword or IW type and serial; from then on it cannot be cancelled),
 * DEVICES_CMD_UNCLAIM when no connection of this process held the device (sent → queued),
 * DEVICES_CMD_FAIL when it cannot be sent (why). NX_ECONFLICT when the command was not in the state
 * the step needs. */
enum { DEVICES_CMD_CLAIM = 1, DEVICES_CMD_UNCLAIM, DEVICES_CMD_FAIL };
int devices_command_mark(store *s, int64_t id, int what, const char *wire, int64_t serial, const char *why, int64_t now,
                         nx_err *e);

/* Dashboard numbers in the caller's scope, of one community when community > 0 (DEVICE_READ): {"devices", "online", "low_battery" (≤ 20 %),
 * "open_alerts", "acknowledged_alerts", "alerts_today" (since local midnight), "acknowledged_30d",
 * "ack_ms_median", "ack_ms_p90" (null when none), "by_kind": {kind: alerts of the last 30 days}}. */
int devices_stats(nx_app *app, const nx_principal *who, int64_t community, int64_t now, json_t **out, nx_err *e);

/* Routes of devices, rules and alerts (devices_http.c), and GET /api/v1/events/stream: a live
 * stream (SSE) of alert events from the hub named DEVICES_SSE_HUB, which the caller feeds
 * (notify/sse_feed.h with the prefix "devices.alert."), filtered by the subscriber's scope. */
#define DEVICES_SSE_HUB "alerts"
/* Routes of devices, rules and alerts (devices_http.c). */
int devices_routes(http_server *srv, nx_app *app);

#endif
