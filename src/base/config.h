/* config.h — nuanxin's configuration, declared once in a table (config.c) that drives parsing,
 * validation, --help and the redacted dump of `nuanxin config`.
 *
 * Sources, later ones winning: built-in defaults, the INI file (<data>/nuanxin.conf, or --config
 * FILE), environment variables NUANXIN_<NAME> (upper case), command-line flags --name value.
 * Every value is checked against its type and range; an error names the source and the key. */
#ifndef NX_BASE_CONFIG_H
#define NX_BASE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

typedef struct nx_config {
    char data_dir[512];       /* --data */
    char config_file[512];    /* --config; "" = <data>/nuanxin.conf if it exists */
    char database[1024];      /* file path or postgres:// URL; "" = <data>/nuanxin.db */
    char key_file[600];       /* "" = <data>/nuanxin.key */
    char listen[128];         /* HOST:PORT */
    char web_root[512];       /* built web app to serve; "" = off */
    char public_url[256];     /* where people reach nuanxin, no trailing '/'; "" = unknown (relative links) */
    char log_level[16];
    int64_t http_threads;     /* 0 = one per core */
    int64_t max_body;         /* bytes of a JSON body */
    int64_t max_upload;       /* bytes of an uploaded file */
    int64_t max_header;       /* bytes of memory per connection for headers (MHD) */
    int64_t max_connections;
    int64_t max_connections_per_address; /* HTTP connections one address may hold (not trusted proxies) */
    int64_t header_timeout_s;  /* a request's headers must be complete this long after the connection waits */
    int64_t request_arena;    /* bytes one request may allocate */
    int64_t page_default;     /* list page size when none is asked */
    int64_t page_max;         /* largest list page */
    int64_t export_max_rows;
    int64_t db_readers;       /* SQLite reader connections */
    int64_t db_busy_ms;
    int64_t db_pool;          /* PostgreSQL connections per process */
    int64_t session_ttl_min;  /* idle minutes before a web session ends */
    int64_t token_ttl_min;    /* lifetime of a bearer token */
    int64_t login_max_fail;   /* failures before lockout */
    int64_t lockout_min;
    int64_t exact_search_per_hour; /* exact ID/phone searches per account and hour (people_search.c) */
    int64_t hash_workers;     /* concurrent argon2id hashes */
    char watch_listen[128];   /* wristband gateway, watch protocol: HOST:PORT or "off" */
    char iw_listen[128];      /* wristband gateway, IW protocol: HOST:PORT or "off" */
    int64_t gw_max_connections; /* device connections held at once (beyond: new ones are dropped) */
    int64_t gw_idle_timeout_s;  /* a device connection silent this long is closed */
    int64_t gw_batch_ms;        /* positions and readings are written at least this often */
    char device_allow_from[1024];   /* CIDR list devices may connect from ("" = any) */
    char device_limit_exempt[1024]; /* CIDR list the per-address device limits skip */
    int64_t device_conns_per_addr;  /* device connections per source address */
    int64_t device_frames_per_min;  /* device frames per source address and minute */
    int64_t device_alarms_per_min;  /* alarm frames per source address and minute */
    int64_t device_identify_timeout_s; /* a new connection names its device within this */
    int64_t device_quarantine_max;  /* unregistered device ids held at once */
    int64_t device_takeover_window_s; /* another address this soon after the last connection: a signal */
    char mqtt_url[256];         /* MQTT broker, mqtt://HOST[:PORT]; "" = no MQTT input */
    char mqtt_topic_prefix[129];
    char mqtt_username[128];
    char mqtt_password[128];    /* secret: dumped as <redacted>, never logged */
    char mqtt_client_id[65];    /* "" = generated per process (clean session) */
    int64_t mqtt_max_topics;    /* MQTT devices holding half a frame at once */
    int64_t telemetry_keep_days; /* wristband positions, readings, steps, closed commands; 0 = for ever */
    int64_t alert_escalate_s;   /* an unacknowledged alert moves up the chain after this long */
    int64_t venue_no_show_minutes; /* a room booking not checked in this long after its start is released */
    /* The real map (issue 19): an XYZ tile URL template, http(s)://HOST[:PORT]/…{z}…{x}…{y}… ("" = the
     * estate plan only); the datum of its tiles ("wgs84" or "gcj02", the mainland providers' shifted
     * one); the attribution the tiles' licence asks for. Served to signed-in users with /api/v1/me;
     * the page's Content-Security-Policy allows images from the template's origin (config_url_origin). */
    char map_tiles[512];
    char map_tiles_datum[8];
    char map_attribution[256];
    char outbound_allow[1024]; /* networks webhooks may reach although internal (netaddr list) */
    bool cookie_secure;       /* set Secure on the session cookie (behind TLS) */
    bool access_log;
    bool detail_cache;        /* people_detail_start at serve (GET /api/v1/residents/{id} from memory) */
    /* Networks of the reverse proxies in front (cidr_list_parse syntax, validated on set): the
     * client address of a request from one of them is taken from X-Forwarded-For. "" = none. */
    char trusted_proxies[512];
    /* The message service (modules/messages) and its providers (notify/sms.h). */
    int64_t msg_tick_ms;        /* the sender's period */
    int64_t msg_retry_max;      /* attempts of an external message before it is failed */
    int64_t msg_retry_base_s;   /* first back-off, doubling */
    int64_t msg_voice_gap_s;    /* between two calls of an SOS call chain */
    int64_t msg_daily_cap;      /* non-urgent SMS, calls or WeCom messages per person, channel and day */
    char tencent_secret_id[128];
    char tencent_secret_key[128]; /* secret: dumped as <redacted>, never logged */
    char tencent_region[32];
    char tencent_sms_url[256];
    char tencent_sms_app_id[64];
    char tencent_sms_sign[64];
    char tencent_sms_template[64];
    char tencent_voice_url[256];
    char tencent_voice_app_id[64];
    char tencent_voice_template[64];
    char tencent_voice_callback_token[128]; /* secret: the voice status callback's ?token= ('' = none) */
    int64_t msg_callback_per_min;           /* provider callbacks per minute from one address */
    /* Aliyun (阿里云) SMS (Dysmsapi SendSms) and voice notification (Dyvmsapi SingleCallByTts): used
     * for a channel whose Tencent keys are not set. */
    char aliyun_access_key_id[128];
    char aliyun_access_key_secret[128]; /* secret: dumped as <redacted>, never logged */
    char aliyun_region[32];
    char aliyun_sms_url[256];
    char aliyun_sms_sign[64];
    char aliyun_sms_template[64];
    char aliyun_voice_url[256];
    char aliyun_voice_show_number[32];
    char aliyun_voice_template[64];
    /* WeCom (企业微信) application messages to staff accounts */
    char wecom_corp_id[64];
    char wecom_agent_id[16];
    char wecom_secret[128]; /* secret: dumped as <redacted>, never logged */
    char wecom_url[256];    /* the API's base address */
    /* Unit prices of the monthly cost count, in fen (placeholders, not a vendor's price list) */
    int64_t msg_price_inapp_fen, msg_price_sms_fen, msg_price_voice_fen, msg_price_wecom_fen;
} nx_config;

extern nx_config nx_cfg; /* the process's configuration, filled by config_load */

/* Fill c with defaults. */
void config_defaults(nx_config *c);

/* Set one key from a source ("file", "env", "flag"); validates. 0, NX_ENOTFOUND (no such key) or
 * NX_EINVAL with e filled in Chinese. */
int config_set(nx_config *c, const char *key, const char *value, const char *source, nx_err *e);

/* Apply the file (if any) then NUANXIN_* environment variables. Flags are applied by the caller
 * with config_set(…, "flag") before and after, see cli/main.c. Resolves derived defaults. */
int config_load_file_env(nx_config *c, nx_err *e);

/* Fill paths that default relative to data_dir. */
void config_resolve(nx_config *c);

/* Print "key = value" lines, secrets as "<redacted>", to stdout. */
void config_dump(const nx_config *c);
/* A database URL with its password replaced by <redacted> (for messages and dumps). */
void config_redact_url(const char *in, char *out, size_t n);
/* Print the table as help text. */
void config_help(void);
/* The origin "scheme://host[:port]" of an http(s) URL (lower-case scheme and host) into out; "" for
 * "" or a URL without one. Used for the map tiles' origin in the Content-Security-Policy. */
void config_url_origin(const char *url, char *out, size_t n);
/* True if key names a configuration entry (dash or underscore spelling). */
bool config_known(const char *key);

#endif
