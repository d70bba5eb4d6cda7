/* codec.h — what the wristband codecs (watch.h, iw.h) decode into and what they encode from.
 *
 * Both protocols decode one complete frame into one wire_msg: a kind, the device's identity as far as
 * the frame carries it, alarm flags, a position with its cells and Wi-Fi access points, health
 * readings, and borrowed pointers to the raw frame. The decoders are pure: no allocation, no clock,
 * no store, no socket. The struct is filled completely on success and zeroed (kind WIRE_NONE_KIND) on
 * failure, so a half-parsed frame is never mistaken for a message.
 *
 * Units (all integers, so nothing downstream rounds twice):
 *   latitude / longitude   micro-degrees (lat_e6, lon_e6), south and west negative
 *   speed                  0.1 km/h  (speed_kmh_e1)
 *   course                 0.1 degree (course_deg_e1)
 *   altitude, accuracy     metres
 *   temperature            0.1 °C (temp_c_e1)
 *   blood sugar            0.01 mmol/L (sugar_mmol_e2)
 *   heart rate             beats per minute; blood pressure mmHg; SpO2 percent; battery percent
 *   time                   milliseconds since 1970-01-01 UTC (device clock, as sent)
 * Any optional integer that the frame does not carry (absent, empty, or "0" where the spec says 0 =
 * no reading) is WIRE_NONE. Extra fractional digits are truncated toward zero.
 *
 * Lifetimes: every string field is a NUL-terminated copy inside the struct (truncated to its array;
 * the sizes are below). wire_msg.raw and wire_msg.payload borrow the frame passed to the decoder and are
 * valid only as long as that buffer is. */
#ifndef NX_WIRE_CODEC_H
#define NX_WIRE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "No value" for every optional integer field. */
#define WIRE_NONE INT32_MIN

#define WIRE_MAX_CELLS 8 /* cells stored per position; the reported count may be larger */
#define WIRE_MAX_WIFI  8 /* access points stored per position */

enum wire_proto {
    WIRE_PROTO_WATCH = 1, /* "3G watch" protocol, TCP 5093, shared/protocols/watch.md */
    WIRE_PROTO_IW = 2,    /* IW protocol, TCP 5010, shared/protocols/iw.md */
};

enum wire_kind {
    WIRE_NONE_KIND = 0, /* not a message (decode failed) */
    WIRE_KEEPALIVE,     /* watch LK, IW AP03 heartbeat */
    WIRE_LOGIN,         /* IW AP00 */
    WIRE_POSITION,      /* watch UD/UD2/UD3/UD_LTE/UD_WCDMA/WT, IW AP01/AP02, IW AP10 with alarm 00 */
    WIRE_ALARM,         /* watch AL*, IW AP10: see alarms; a position may or may not have a fix */
    WIRE_HEALTH,        /* heart rate, blood pressure, SpO2, temperature, blood sugar */
    WIRE_CONFIG,        /* watch CONFIG capability report */
    WIRE_CCID,          /* watch CCID (iccid field) */
    WIRE_VOICE,         /* watch TK with a voice payload (escaped AMR in payload) */
    WIRE_VOICE_QUERY,   /* watch TKQ / TKQ2 */
    WIRE_INIT,          /* watch INIT */
    WIRE_CMD_REPLY,     /* the device answering a server command (type = the command keyword) */
    WIRE_UNKNOWN,       /* well-formed frame of a type we do not know: record it */
};

/* Alarm flags (wire_msg.alarms). */
enum wire_alarm {
    WIRE_AL_SOS = 1u << 0,
    WIRE_AL_LOW_BATTERY = 1u << 1,
    WIRE_AL_FENCE_OUT = 1u << 2,
    WIRE_AL_FENCE_IN = 1u << 3,
    WIRE_AL_TAKEN_OFF = 1u << 4,
    WIRE_AL_FALL = 1u << 5,
    WIRE_AL_HEART_RATE = 1u << 6,
    WIRE_AL_GENERAL = 1u << 7, /* an alarm frame with no recognised alarm: still an alarm */
};

/* Low 16 bits of the watch status word (wire_msg.status), as documented in watch.md. */
enum wire_state {
    WIRE_ST_LOW_BATTERY = 1u << 0,
    WIRE_ST_OUTSIDE_FENCE = 1u << 1,
    WIRE_ST_INSIDE_FENCE = 1u << 2,
    WIRE_ST_WORN = 1u << 3,
    WIRE_ST_STILL = 1u << 4,      /* "not moving"; some servers read it as moving: never alarm on it */
    WIRE_ST_UNPLUGGED = 1u << 14, /* undocumented; some 2G watches: unplugged from the charger */
};

typedef struct wire_cell {
    uint32_t lac, cid; /* decimal in the frame, or hex when the field contains a-f */
    int32_t rssi;      /* as sent (may be negative), WIRE_NONE when empty */
} wire_cell;

typedef struct wire_wifi {
    char ssid[33]; /* as sent (may be empty, contain spaces or brackets), truncated to 32 bytes */
    char mac[18];  /* "aa:bb:cc:dd:ee:ff" (lower case, colons) when it parses, else "" */
    int32_t rssi;  /* dBm, WIRE_NONE when empty */
} wire_wifi;

typedef struct wire_pos {
    bool present;           /* the frame carried a position section */
    bool fix;               /* a GPS fix: 'A' and not both coordinates zero */
    int64_t time_ms;        /* device's UTC time of the fix, 0 when absent or not a real date */
    int32_t lat_e6, lon_e6; /* WIRE_NONE when empty */
    int32_t speed_kmh_e1;   /* WIRE_NONE when empty */
    int32_t course_deg_e1;  /* WIRE_NONE when empty */
    int32_t altitude_m;     /* watch only */
    int32_t satellites;
    int32_t gsm_signal;   /* watch: 0-100; IW: the 3-digit field as sent */
    int32_t accuracy_m;   /* watch, newer firmware only */
    int32_t ta, mcc, mnc; /* timing advance (watch), mobile country and network code */
    int32_t cell_count;   /* cells the device reported (may exceed WIRE_MAX_CELLS) */
    int32_t cells_n;      /* cells stored in cells[] */
    wire_cell cells[WIRE_MAX_CELLS];
    int32_t wifi_count; /* access points reported */
    int32_t wifi_n;     /* access points stored in wifi[] */
    wire_wifi wifi[WIRE_MAX_WIFI];
} wire_pos;

typedef struct wire_health {
    int32_t hr_bpm;   /* heart rate */
    int32_t sys_mmhg; /* systolic */
    int32_t dia_mmhg; /* diastolic */
    int32_t spo2_pct;
    int32_t temp_c_e1;     /* body temperature */
    int32_t temp_mode;     /* watch btemp2: 0 forehead, 1 wrist; WIRE_NONE otherwise */
    int32_t sugar_mmol_e2; /* IW APHP blood sugar */
} wire_health;

typedef struct wire_msg {
    int proto;           /* enum wire_proto */
    int kind;            /* enum wire_kind */
    char mf[3];          /* watch manufacturer as sent ("3G", "SG", "CS", "ZJ" …); "" for IW */
    char prefix[4];      /* IW: "IW" or "TRV" as sent; "" for the watch */
    char device_id[24];  /* watch: the ID (1-20 digits); IW: the IMEI of a login, "" otherwise */
    char idx[5];         /* watch IDX (4 hex digits) to echo, "" when absent */
    char type[24];       /* the message type as sent ("UD_LTE", "bphrt", "01", "HT" …) */
    uint32_t alarms;     /* WIRE_AL_* flags (on positions too, informational) */
    bool has_status;     /* watch: a status word was present */
    uint32_t status;     /* watch status word: high 16 bits alarms, low 16 bits states (WIRE_ST_*) */
    int32_t alarm_code;  /* IW AP10 alarm code as sent (01, 05 …); WIRE_NONE otherwise */
    bool pos_error;      /* alarm frame whose position part was malformed: alarm kept, pos dropped */
    bool delayed;        /* position stored while out of coverage and sent late (watch UD2) */
    int32_t battery_pct; /* WIRE_NONE when absent */
    int32_t steps;       /* cumulative pedometer count as sent, WIRE_NONE when absent */
    int32_t rolls;       /* turns in sleep, WIRE_NONE when absent */
    int32_t serial;      /* IW command serial in a device's answer, WIRE_NONE otherwise */
    char iccid[24];      /* watch CCID, IW login */
    char imsi[24];       /* IW login */
    wire_pos pos;
    wire_health health;
    const uint8_t *payload; /* borrowed: bytes after the type and its ',' (watch: still escaped) */
    size_t payload_len;
    const uint8_t *raw; /* borrowed: the whole frame as given to the decoder */
    size_t raw_len;
} wire_msg;

/* Server → device commands, protocol-neutral; watch_encode_cmd and iw_encode_cmd turn them into
 * bytes. Phone numbers are digits with an optional leading '+', at most 20; "" clears a slot. */
enum wire_cmd_kind {
    WIRE_CMD_LOCATE = 1,   /* locate now */
    WIRE_CMD_UPLOAD,       /* position interval: seconds (watch 60-65535) */
    WIRE_CMD_SOS_NUMBERS,  /* phones[0..2] */
    WIRE_CMD_SOS_NUMBER,   /* one slot: slot 1-3, phones[0] (watch only) */
    WIRE_CMD_CENTER,       /* centre number: phones[0] (watch only) */
    WIRE_CMD_FALL_DETECT,  /* on (0/1), call_centre (0/1; watch only) */
    WIRE_CMD_FALL_LEVEL,   /* fall sensitivity: level (1 = most sensitive … 9; watch only) */
    WIRE_CMD_LOWBAT_ALARM, /* on 0/1 (watch only) */
    WIRE_CMD_REMOVE_ALARM, /* taken-off alarm on 0/1 (watch only) */
    WIRE_CMD_HR_INTERVAL,  /* heart-rate interval: seconds (watch: 1 = once now, 0 = stop) */
    WIRE_CMD_HR_NOW,       /* measure heart rate now */
    WIRE_CMD_MESSAGE,      /* text: UTF-8, at most WIRE_TEXT_MAX code points */
    WIRE_CMD_LANG_TZ,      /* language code, tz hours (watch only) */
    WIRE_CMD_RESET,        /* reboot */
    WIRE_CMD_POWEROFF,
    WIRE_CMD_FIND, /* make the watch ring (watch only) */
};

#define WIRE_TEXT_MAX 120

typedef struct wire_cmd {
    int kind;               /* enum wire_cmd_kind */
    int32_t seconds;        /* UPLOAD, HR_INTERVAL */
    int32_t on;             /* FALL_DETECT, LOWBAT_ALARM, REMOVE_ALARM: 0 or 1 */
    int32_t call_centre;    /* FALL_DETECT: 0 or 1 */
    int32_t level;          /* FALL_LEVEL: 1-9 */
    int32_t slot;           /* SOS_NUMBER: 1-3 */
    int32_t lang, tz_hours; /* LANG_TZ: language code (Chinese = 1), -12..14 */
    const char *phones[3];  /* SOS_NUMBERS (3), SOS_NUMBER and CENTER (phones[0]); NULL = "" */
    const char *text;       /* MESSAGE */
} wire_cmd;

/* Reset m to "no message": kind WIRE_NONE_KIND, every optional integer WIRE_NONE. */
void wire_msg_clear(wire_msg *m);

/* A short stable English name for a kind ("keepalive", "alarm" …), for logs and tests. */
const char *wire_kind_name(int kind);

#endif
