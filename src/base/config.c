/* config.c — the declarative configuration table.
 *
 * One row per key: name, type, where it lives in nx_config, default, range, whether it is secret,
 * and a line of help. Everything else — parsing of the file, environment and flags, range checks,
 * the dump and the help — reads this table. Flag spellings accept '-' for '_' (--max-body 2M).
 * A database URL may carry a password: it is marked secret and dumped redacted. */
#include "base/config.h"

#include "base/log.h"
#include "base/netaddr.h"
#include "base/str.h"

#include <ctype.h>
#include <ini.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

nx_config nx_cfg;

enum ctype { C_STR, C_INT, C_SIZE, C_BOOL, C_CIDRS };

struct centry {
    const char *name;
    enum ctype type;
    size_t off;
    size_t len; /* for strings */
    const char *def;
    int64_t min, max;
    int secret; /* SECRET_URL: a URL that may carry a password; SECRET_ALL: the whole value */
    const char *help;
};

enum { SECRET_URL = 1, SECRET_ALL = 2 };

#define S(f) offsetof(nx_config, f), sizeof(((nx_config *)0)->f)
#define N(f) offsetof(nx_config, f), 0

static const struct centry table[] = {
    {"data", C_STR, S(data_dir), "./data", 0, 0, false, "data directory (database, key file)"},
    {"config", C_STR, S(config_file), "", 0, 0, false, "configuration file (default <data>/nuanxin.conf; without --data, /etc/nuanxin/nuanxin.conf when ./data has none)"},
    {"database", C_STR, S(database), "", 0, 0, true, "database file path or postgres:// URL (default <data>/nuanxin.db)"},
    {"key_file", C_STR, S(key_file), "", 0, 0, false, "field-encryption key file (default <data>/nuanxin.key)"},
    {"listen", C_STR, S(listen), "127.0.0.1:8080", 0, 0, false, "HTTP listen address HOST:PORT"},
    {"web_root", C_STR, S(web_root), "web/dist", 0, 0, false, "directory of the built web app ('' to disable)"},
    {"public_url", C_STR, S(public_url), "", 0, 0, false,
     "address people reach the web app at, https://HOST[:PORT][/PATH] (printed documents' QR links; '' = a relative link)"},
    {"log_level", C_STR, S(log_level), "info", 0, 0, false, "debug, info, warn, error or off"},
    {"http_threads", C_INT, N(http_threads), "0", 0, 256, false, "HTTP worker threads (0 = one per core)"},
    {"max_body", C_SIZE, N(max_body), "1M", 1024, 64 << 20, false, "largest JSON request body"},
    {"max_upload", C_SIZE, N(max_upload), "20M", 1024, 1 << 30, false, "largest uploaded file"},
    {"max_header", C_SIZE, N(max_header), "16K", 8 << 10, 4 << 20, false,
     "connection memory for a request's line and headers (414/431 beyond; cleared after every request)"},
    {"max_connections", C_INT, N(max_connections), "1024", 4, 100000, false, "concurrent HTTP connections"},
    {"max_connections_per_address", C_INT, N(max_connections_per_address), "64", 1, 100000, false,
     "HTTP connections one client address may hold (trusted proxies excepted)"},
    {"header_timeout_s", C_INT, N(header_timeout_s), "10", 1, 600, false,
     "seconds an HTTP connection may take to send a request's headers (trusted proxies excepted)"},
    {"request_arena", C_SIZE, N(request_arena), "64M", 1 << 20, 1 << 30, false, "memory one request may allocate"},
    {"page_default", C_INT, N(page_default), "50", 1, 1000, false, "list page size when none is given"},
    {"page_max", C_INT, N(page_max), "200", 1, 5000, false, "largest list page"},
    {"export_max_rows", C_INT, N(export_max_rows), "200000", 1, 5000000, false, "rows in one export"},
    {"db_readers", C_INT, N(db_readers), "4", 1, 64, false, "SQLite reader connections"},
    {"db_busy_ms", C_INT, N(db_busy_ms), "5000", 0, 600000, false, "SQLite busy timeout, wait for a pooled connection (ms)"},
    {"db_pool", C_INT, N(db_pool), "8", 1, 256, false, "PostgreSQL connections per process"},
    {"session_ttl_min", C_INT, N(session_ttl_min), "480", 5, 43200, false, "idle minutes before a web session ends"},
    {"token_ttl_min", C_INT, N(token_ttl_min), "1440", 5, 525600, false, "lifetime of a login token (minutes)"},
    {"login_max_fail", C_INT, N(login_max_fail), "5", 1, 100, false, "failed logins before lockout"},
    {"lockout_min", C_INT, N(lockout_min), "15", 1, 1440, false, "minutes an account stays locked"},
    {"exact_search_per_hour", C_INT, N(exact_search_per_hour), "60", 1, 100000, false,
     "exact ID-number and phone searches one account may run per hour (beyond: 429; each is audited)"},
    {"hash_workers", C_INT, N(hash_workers), "0", 0, 64, false,
     "concurrent password hashes, 64 MiB each (0 = half the cores, at least 1)"},
    {"watch_listen", C_STR, S(watch_listen), "127.0.0.1:5093", 0, 0, false,
     "wristband gateway, 3G watch protocol: HOST:PORT or off"},
    {"iw_listen", C_STR, S(iw_listen), "127.0.0.1:5010", 0, 0, false, "wristband gateway, IW protocol: HOST:PORT or off"},
    {"gw_max_connections", C_INT, N(gw_max_connections), "50000", 1, 1000000, false,
     "device connections held at once (new ones beyond are dropped)"},
    {"gw_idle_timeout_s", C_INT, N(gw_idle_timeout_s), "900", 5, 86400, false,
     "seconds of silence before a device connection is closed"},
    {"gw_batch_ms", C_INT, N(gw_batch_ms), "100", 1, 10000, false, "positions and readings are written at least this often (ms)"},
    {"device_allow_from", C_STR, S(device_allow_from), "", 0, 0, false,
     "networks devices may connect from, e.g. the carrier APN's ranges: \"10.64.0.0/10, 2001:db8::/32\" ('' = any)"},
    {"device_limit_exempt", C_STR, S(device_limit_exempt), "127.0.0.0/8, ::1", 0, 0, false,
     "networks the per-address device limits do not apply to (the simulator, a local broker bridge)"},
    {"device_conns_per_addr", C_INT, N(device_conns_per_addr), "256", 1, 1000000, false,
     "device connections one source address may hold at once"},
    {"device_frames_per_min", C_INT, N(device_frames_per_min), "6000", 1, 100000000, false,
     "device frames one source address may send per minute (beyond: dropped unanswered)"},
    {"device_alarms_per_min", C_INT, N(device_alarms_per_min), "120", 1, 1000000, false,
     "alarm frames one source address may send per minute (beyond: not acknowledged, the watch repeats)"},
    {"device_identify_timeout_s", C_INT, N(device_identify_timeout_s), "30", 1, 3600, false,
     "seconds a new device connection has to name its device (IW: to log in)"},
    {"device_quarantine_max", C_INT, N(device_quarantine_max), "1000", 0, 1000000, false,
     "unregistered device ids held for staff to register (beyond: new unknown ids are refused)"},
    {"device_takeover_window_s", C_INT, N(device_takeover_window_s), "120", 0, 86400, false,
     "a registered device arriving from another address within this many seconds of its last connection is a takeover signal"},
    {"mqtt_url", C_STR, S(mqtt_url), "", 0, 0, SECRET_URL,
     "MQTT broker for devices behind it: mqtt://HOST[:PORT] ('' = off)"},
    {"mqtt_topic_prefix", C_STR, S(mqtt_topic_prefix), "nuanxin/devices", 0, 0, false,
     "MQTT topics: <prefix>/<watch|iw>/<device-id>/up and .../down"},
    {"mqtt_username", C_STR, S(mqtt_username), "", 0, 0, false, "MQTT user name ('' = anonymous)"},
    {"mqtt_password", C_STR, S(mqtt_password), "", 0, 0, SECRET_ALL, "MQTT password (never logged)"},
    {"mqtt_client_id", C_STR, S(mqtt_client_id), "", 0, 0, false,
     "MQTT client id; set = a persistent session ('' = nuanxin-<host>-<pid>, clean session)"},
    {"mqtt_max_topics", C_INT, N(mqtt_max_topics), "10000", 1, 1000000, false,
     "MQTT devices holding half a frame at once (the oldest is dropped beyond)"},
    {"telemetry_keep_days", C_INT, N(telemetry_keep_days), "365", 0, 36500, false,
     "days of wristband positions, readings, steps and closed commands kept (0 = for ever)"},
    {"alert_escalate_s", C_INT, N(alert_escalate_s), "180", 10, 86400, false,
     "seconds before an unacknowledged alert escalates (grid worker, duty staff, family)"},
    {"venue_no_show_minutes", C_INT, N(venue_no_show_minutes), "15", 5, 240, false,
     "minutes after its start a room booking not checked in is released as a no-show (activity rooms)"},
    {"map_tiles", C_STR, S(map_tiles), "", 0, 0, false,
     "map tiles for the SOS screen and the family view: an XYZ URL template, https://HOST[:PORT]/PATH with "
     "{z}, {x} and {y} (no {s}: one origin, which the page's image policy allows) ('' = the estate plan only)"},
    {"map_tiles_datum", C_STR, S(map_tiles_datum), "wgs84", 0, 0, false,
     "the datum of the map tiles: wgs84 (OpenStreetMap and most) or gcj02 (AMap, Tencent: positions are shifted to it)"},
    {"map_attribution", C_STR, S(map_attribution), "", 0, 0, false,
     "the map tiles' attribution, shown under the map (e.g. © OpenStreetMap contributors)"},
    {"outbound_allow", C_CIDRS, S(outbound_allow), "", 0, 0, false,
     "networks outbound requests (webhooks) may reach although internal, e.g. 10.2.0.0/16 ('' = none); "
     "plain http is allowed only to these"},
    {"cookie_secure", C_BOOL, N(cookie_secure), "false", 0, 0, false, "mark the session cookie Secure (TLS)"},
    {"access_log", C_BOOL, N(access_log), "true", 0, 0, false, "log one line per HTTP request"},
    {"detail_cache", C_BOOL, N(detail_cache), "true", 0, 0, false,
     "keep assembled resident details in memory (dropped by any change to their tables)"},
    {"trusted_proxies", C_CIDRS, S(trusted_proxies), "", 0, 0, false,
     "reverse proxies whose X-Forwarded-For names the client, e.g. 127.0.0.1, ::1 ('' = none)"},
    {"msg_tick_ms", C_INT, N(msg_tick_ms), "5000", 100, 3600000, false, "the message sender's period (ms)"},
    {"msg_retry_max", C_INT, N(msg_retry_max), "5", 1, 100, false,
     "attempts of an SMS, call or WeCom message before it is shown failed"},
    {"msg_retry_base_s", C_INT, N(msg_retry_base_s), "30", 1, 86400, false,
     "seconds before the first retry of a message (doubling, at most an hour)"},
    {"msg_voice_gap_s", C_INT, N(msg_voice_gap_s), "60", 1, 3600, false,
     "seconds between two calls of an SOS call chain (the next family phone)"},
    {"msg_daily_cap", C_INT, N(msg_daily_cap), "20", 0, 10000, false,
     "non-urgent SMS, calls or WeCom messages one person gets on one channel in a day (Beijing time); more are "
     "cancelled and logged (0 = no cap; SOS and other urgent rules are never capped)"},
    {"tencent_secret_id", C_STR, S(tencent_secret_id), "", 0, 0, false, "Tencent Cloud SecretId (SMS, voice)"},
    {"tencent_secret_key", C_STR, S(tencent_secret_key), "", 0, 0, SECRET_ALL,
     "Tencent Cloud SecretKey (never logged)"},
    {"tencent_region", C_STR, S(tencent_region), "ap-guangzhou", 0, 0, false, "Tencent Cloud region"},
    {"tencent_sms_url", C_STR, S(tencent_sms_url), "https://sms.tencentcloudapi.com/", 0, 0, false,
     "Tencent Cloud SMS endpoint"},
    {"tencent_sms_app_id", C_STR, S(tencent_sms_app_id), "", 0, 0, false, "SMS SdkAppId ('' = no SMS)"},
    {"tencent_sms_sign", C_STR, S(tencent_sms_sign), "", 0, 0, false, "SMS sign name (签名)"},
    {"tencent_sms_template", C_STR, S(tencent_sms_template), "", 0, 0, false,
     "SMS template id (one parameter: the message text)"},
    {"tencent_voice_url", C_STR, S(tencent_voice_url), "https://vms.tencentcloudapi.com/", 0, 0, false,
     "Tencent Cloud voice message endpoint"},
    {"tencent_voice_app_id", C_STR, S(tencent_voice_app_id), "", 0, 0, false, "voice VoiceSdkAppid ('' = no calls)"},
    {"tencent_voice_template", C_STR, S(tencent_voice_template), "", 0, 0, false,
     "voice template id (one parameter: the text read out)"},
    {"tencent_voice_callback_token", C_STR, S(tencent_voice_callback_token), "", 0, 0, SECRET_ALL,
     "the secret token of the voice call status callback URL (…?token=; at least 16 characters; '' = no "
     "callback, Tencent calls stay sent; never logged)"},
    {"msg_callback_per_min", C_INT, N(msg_callback_per_min), "120", 1, 100000, false,
     "provider callbacks accepted per minute from one address (beyond: 429)"},
    {"aliyun_access_key_id", C_STR, S(aliyun_access_key_id), "", 0, 0, false,
     "Aliyun AccessKey ID (SMS, voice; used when the Tencent keys of the channel are not set)"},
    {"aliyun_access_key_secret", C_STR, S(aliyun_access_key_secret), "", 0, 0, SECRET_ALL,
     "Aliyun AccessKey secret (never logged)"},
    {"aliyun_region", C_STR, S(aliyun_region), "cn-hangzhou", 0, 0, false, "Aliyun RegionId"},
    {"aliyun_sms_url", C_STR, S(aliyun_sms_url), "https://dysmsapi.aliyuncs.com/", 0, 0, false,
     "Aliyun SMS (Dysmsapi) endpoint"},
    {"aliyun_sms_sign", C_STR, S(aliyun_sms_sign), "", 0, 0, false, "Aliyun SMS sign name (签名; '' = no Aliyun SMS)"},
    {"aliyun_sms_template", C_STR, S(aliyun_sms_template), "", 0, 0, false,
     "Aliyun SMS template code, SMS_… (one variable ${text}: the message text)"},
    {"aliyun_voice_url", C_STR, S(aliyun_voice_url), "https://dyvmsapi.aliyuncs.com/", 0, 0, false,
     "Aliyun voice (Dyvmsapi) endpoint"},
    {"aliyun_voice_show_number", C_STR, S(aliyun_voice_show_number), "", 0, 0, false,
     "Aliyun voice: the number shown to the called phone ('' = no Aliyun calls)"},
    {"aliyun_voice_template", C_STR, S(aliyun_voice_template), "", 0, 0, false,
     "Aliyun voice TTS template code, TTS_… (one variable ${text}: the text read out)"},
    {"wecom_corp_id", C_STR, S(wecom_corp_id), "", 0, 0, false, "WeCom corp ID (企业ID; '' = no WeCom messages)"},
    {"wecom_agent_id", C_STR, S(wecom_agent_id), "", 0, 0, false, "WeCom application AgentId"},
    {"wecom_secret", C_STR, S(wecom_secret), "", 0, 0, SECRET_ALL, "WeCom application Secret (never logged)"},
    {"wecom_url", C_STR, S(wecom_url), "https://qyapi.weixin.qq.com/", 0, 0, false, "WeCom API base address"},
    {"msg_price_inapp_fen", C_INT, N(msg_price_inapp_fen), "0", 0, 100000, false,
     "monthly cost count: fen per in-app message (a placeholder, not a vendor price)"},
    {"msg_price_sms_fen", C_INT, N(msg_price_sms_fen), "5", 0, 100000, false,
     "monthly cost count: fen per SMS (a placeholder, not a vendor price: set your contract's)"},
    {"msg_price_voice_fen", C_INT, N(msg_price_voice_fen), "12", 0, 100000, false,
     "monthly cost count: fen per voice call (a placeholder, not a vendor price: set your contract's)"},
    {"msg_price_wecom_fen", C_INT, N(msg_price_wecom_fen), "0", 0, 100000, false,
     "monthly cost count: fen per WeCom message (a placeholder, not a vendor price)"},
};

#define NENTRIES (sizeof table / sizeof table[0])

static const struct centry *find(const char *key)
{
    char norm[64];
    size_t n = 0;
    for (; key[n] && n < sizeof norm - 1; n++)
        norm[n] = key[n] == '-' ? '_' : (char)tolower((unsigned char)key[n]);
    norm[n] = '\0';
    for (size_t i = 0; i < NENTRIES; i++)
        if (strcmp(table[i].name, norm) == 0)
            return &table[i];
    return NULL;
}

bool config_known(const char *key)
{
    return find(key) != NULL;
}

/* public_url: "" or http(s)://HOST[:PORT][/PATH] made of URL characters that need no quoting in a
 * PDF string or an HTML attribute (no blanks, quotes, angle brackets, backslashes, '?' or '#'). It is
 * printed into documents as the base of their verification links, so it is the one place that says
 * where nuanxin lives; nothing a request sends (Host, X-Forwarded-Host) ever replaces it. */
static bool public_url_ok(const char *v)
{
    if (v[0] == '\0')
        return true;
    const char *host = str_starts_with(v, "https://") ? v + 8 : str_starts_with(v, "http://") ? v + 7 : NULL;
    if (host == NULL || host[0] == '\0' || host[0] == '/' || host[0] == ':')
        return false;
    for (const char *c = v; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u >= 0x7f || strchr("\"'<>\\?#`{}|^", u))
            return false;
    }
    return true;
}

/* map_tiles: "" or http(s)://HOST[:PORT]/PATH holding {z}, {x} and {y} once each, no other brace, made
 * of URL characters that need no quoting in a policy header or an attribute (no blanks, quotes, angle
 * brackets, backslashes, ';', ',' or '#'); a query (?key=…) is allowed. One host: no {s} subdomains,
 * since the Content-Security-Policy allows exactly the template's origin. */
static bool map_tiles_ok(const char *v)
{
    if (v[0] == '\0')
        return true;
    const char *host = str_starts_with(v, "https://") ? v + 8 : str_starts_with(v, "http://") ? v + 7 : NULL;
    if (host == NULL || host[0] == '\0' || host[0] == '/' || host[0] == ':' || strchr(host, '/') == NULL)
        return false;
    for (const char *c = v; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u >= 0x7f || strchr("\"'<>\\#`|^;,", u))
            return false;
    }
    const char *slash = strchr(host, '/');
    for (const char *c = host; c < slash; c++) /* the origin: no placeholder, no user */
        if (*c == '{' || *c == '@')
            return false;
    int braces = 0;
    for (const char *c = slash; *c; c++)
        braces += *c == '{' || *c == '}';
    static const char *const need[] = {"{z}", "{x}", "{y}"};
    for (int i = 0; i < 3; i++) {
        const char *at = strstr(slash, need[i]);
        if (at == NULL || strstr(at + 3, need[i]))
            return false;
    }
    return braces == 6;
}

void config_url_origin(const char *url, char *out, size_t n)
{
    if (n == 0)
        return;
    out[0] = '\0';
    const char *host = str_starts_with(url, "https://") ? url + 8 : str_starts_with(url, "http://") ? url + 7 : NULL;
    if (host == NULL)
        return;
    size_t len = strcspn(host, "/?#");
    size_t scheme = (size_t)(host - url);
    if (len == 0 || scheme + len >= n)
        return;
    for (size_t i = 0; i < scheme + len; i++)
        out[i] = (char)tolower((unsigned char)url[i]);
    out[scheme + len] = '\0';
}

/* Text that may be quoted in a message: valid UTF-8 without control characters, at most max bytes
 * (a name or value from a file, a flag or the environment is echoed only then: fuzz_config found
 * raw bytes going into messages). */
static bool quotable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max || !str_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int config_set(nx_config *c, const char *key, const char *value, const char *source, nx_err *e)
{
    const struct centry *t = find(key);
    if (t == NULL && !quotable(key, 60))
        return nx_fail(e, NX_ENOTFOUND, "", "未知配置项（名称过长或含无效字符，来源：%s）", source);
    if (t == NULL)
        return nx_fail(e, NX_ENOTFOUND, key, "未知配置项 %s（来源：%s）", key, source);
    if (!quotable(value, SIZE_MAX))
        return nx_fail(e, NX_EINVAL, t->name, "配置项 %s 的值含控制字符或不是有效的 UTF-8 文本（来源：%s）", t->name,
                       source);
    char *p = (char *)c + t->off;
    switch (t->type) {
    case C_STR:
        if (strlen(value) >= t->len)
            return nx_fail(e, NX_EINVAL, t->name, "配置项 %s 过长（来源：%s）", t->name, source);
        if (strcmp(t->name, "public_url") == 0 && !public_url_ok(value))
            return nx_fail(e, NX_EINVAL, t->name,
                           "配置项 public_url 应为 https://主机[:端口][/路径] 或 http://…，不含空白、引号、查询和片段"
                           "（来源：%s） public_url must be an http(s) URL without query or fragment",
                           source);
        if (strcmp(t->name, "map_tiles") == 0 && !map_tiles_ok(value))
            return nx_fail(e, NX_EINVAL, t->name,
                           "配置项 map_tiles 应为 https://主机[:端口]/路径，含 {z}、{x}、{y} 各一次，不含空白、引号和 {s}"
                           "（来源：%s） map_tiles must be an http(s) XYZ template with {z}, {x} and {y}",
                           source);
        if (strcmp(t->name, "map_attribution") == 0 && !str_utf8_valid(value, strlen(value)))
            return nx_fail(e, NX_EINVAL, t->name, "配置项 map_attribution 应为 UTF-8 文本（来源：%s）", source);
        if (strcmp(t->name, "map_tiles_datum") == 0 && strcmp(value, "wgs84") != 0 && strcmp(value, "gcj02") != 0)
            return nx_fail(e, NX_EINVAL, t->name, "配置项 map_tiles_datum 应为 wgs84 或 gcj02（来源：%s）", source);
        str_copy(p, value, t->len);
        if (strcmp(t->name, "public_url") == 0) {
            size_t n = strlen(p);
            while (n > 0 && p[n - 1] == '/') /* one spelling: no trailing slash */
                p[--n] = '\0';
        }
        return 0;
    case C_CIDRS: {
        if (strlen(value) >= t->len)
            return nx_fail(e, NX_EINVAL, t->name, "配置项 %s 过长（来源：%s）", t->name, source);
        nx_cidr_list l = {0};
        nx_err ce = {0};
        if (cidr_list_parse(value, &l, &ce))
            return nx_fail(e, NX_EINVAL, t->name, "配置项 %s 应为网段列表，如 10.0.0.0/8, fd00::/8：%s（来源：%s）",
                           t->name, ce.msg, source);
        cidr_list_free(&l);
        str_copy(p, value, t->len);
        return 0;
    }
    case C_INT: {
        int64_t v;
        if (str_to_i64(value, t->min, t->max, &v))
            return nx_fail(e, NX_EINVAL, t->name, "配置项 %s 应为 %lld 到 %lld 之间的整数（来源：%s）",
                           t->name, (long long)t->min, (long long)t->max, source);
        *(int64_t *)p = v;
        return 0;
    }
    case C_SIZE: {
        uint64_t v;
        if (str_to_size(value, (uint64_t)t->max, &v) || v < (uint64_t)t->min)
            return nx_fail(e, NX_EINVAL, t->name,
                           "配置项 %s 应为 %lld 到 %lld 字节之间的大小，如 512K、10M（来源：%s）", t->name,
                           (long long)t->min, (long long)t->max, source);
        *(int64_t *)p = (int64_t)v;
        return 0;
    }
    case C_BOOL:
        if (str_to_bool(value, (bool *)p))
            return nx_fail(e, NX_EINVAL, t->name, "配置项 %s 应为 true 或 false（来源：%s）", t->name, source);
        return 0;
    }
    return NX_EINTERNAL;
}

void config_defaults(nx_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NENTRIES; i++) {
        int rc = config_set(c, table[i].name, table[i].def, "default", NULL);
        (void)rc;
    }
}

struct ini_ctx {
    nx_config *c;
    nx_err *e;
    int rc;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *x = user;
    (void)section;
    if (x->rc)
        return 0;
    if (strcmp(name, "data") == 0 || strcmp(name, "config") == 0) {
        x->rc = nx_fail(x->e, NX_EINVAL, name, "配置文件中不能设置 %s", name);
        return 0;
    }
    x->rc = config_set(x->c, name, value, "nuanxin.conf", x->e);
    if (x->rc == NX_ENOTFOUND)
        x->rc = quotable(name, 60) ? nx_fail(x->e, NX_EINVAL, name, "配置文件中有未知配置项 %s", name)
                                   : nx_fail(x->e, NX_EINVAL, "", "配置文件中有未知配置项（名称过长或含无效字符）");
    return x->rc == 0;
}

#ifndef NX_SYSTEM_CONFIG
#define NX_SYSTEM_CONFIG "/etc/nuanxin/nuanxin.conf"
#endif
#ifndef NX_SYSTEM_DATA
#define NX_SYSTEM_DATA "/var/lib/nuanxin"
#endif

int config_load_file_env(nx_config *c, nx_err *e)
{
    char path[600];
    bool explicit = c->config_file[0] != '\0';
    if (explicit)
        str_copy(path, c->config_file, sizeof path);
    else
        snprintf(path, sizeof path, "%s/nuanxin.conf", c->data_dir);
    /* An installed nuanxin (the Debian package) keeps its configuration in /etc and its data in
     * /var/lib/nuanxin: a command typed with neither --data nor --config, where ./data has no
     * configuration, uses those. */
    if (!explicit && strcmp(c->data_dir, "./data") == 0 && access(path, R_OK) != 0 &&
        access(NX_SYSTEM_CONFIG, R_OK) == 0) {
        str_copy(path, NX_SYSTEM_CONFIG, sizeof path);
        str_copy(c->data_dir, NX_SYSTEM_DATA, sizeof c->data_dir);
        explicit = true;
    }
    if (explicit || access(path, R_OK) == 0) {
        struct ini_ctx x = {c, e, 0};
        int line = ini_parse(path, on_ini, &x);
        if (x.rc)
            return x.rc;
        if (line < 0)
            return nx_fail(e, NX_EINVAL, "config", "无法读取配置文件 %s", path);
        if (line > 0)
            return nx_fail(e, NX_EINVAL, "config", "配置文件 %s 第 %d 行格式错误", path, line);
    }
    for (size_t i = 0; i < NENTRIES; i++) {
        char env[80] = "NUANXIN_";
        size_t k = 8;
        for (const char *q = table[i].name; *q && k < sizeof env - 1; q++)
            env[k++] = (char)toupper((unsigned char)*q);
        env[k] = '\0';
        const char *v = getenv(env);
        if (v && strcmp(table[i].name, "data") != 0) {
            int rc = config_set(c, table[i].name, v, env, e);
            if (rc)
                return rc;
        }
    }
    const char *nets[][2] = {{"device_allow_from", c->device_allow_from}, {"device_limit_exempt", c->device_limit_exempt}};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        nx_cidr_list l = {0};
        nx_err ce;
        nx_err_clear(&ce);
        if (cidr_list_parse(nets[i][1], &l, &ce))
            return nx_fail(e, NX_EINVAL, nets[i][0], "配置项 %s 的网段列表无效：%s", nets[i][0], ce.msg);
        cidr_list_free(&l);
    }
    if (nx_log_level_parse(c->log_level) < 0)
        return nx_fail(e, NX_EINVAL, "log_level", "日志级别 %s 无效，应为 debug、info、warn、error 或 off",
                       c->log_level);
    config_resolve(c);
    return 0;
}

void config_resolve(nx_config *c)
{
    if (c->database[0] == '\0')
        snprintf(c->database, sizeof c->database, "%s/nuanxin.db", c->data_dir);
    if (c->key_file[0] == '\0')
        snprintf(c->key_file, sizeof c->key_file, "%s/nuanxin.key", c->data_dir);
}

void config_redact_url(const char *in, char *out, size_t n)
{
    /* postgres://user:secret@host/db -> postgres://user:<redacted>@host/db */
    const char *scheme = strstr(in, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    const char *pw = strstr(in, "password=");
    if (colon)
        snprintf(out, n, "%.*s:<redacted>%s", (int)(colon - in), in, at);
    else if (pw)
        snprintf(out, n, "%.*spassword=<redacted>", (int)(pw - in), in);
    else
        snprintf(out, n, "%s", in);
}

void config_dump(const nx_config *c)
{
    for (size_t i = 0; i < NENTRIES; i++) {
        const struct centry *t = &table[i];
        const char *p = (const char *)c + t->off;
        char buf[1100];
        switch (t->type) {
        case C_STR:
        case C_CIDRS:
            if (t->secret == SECRET_ALL)
                snprintf(buf, sizeof buf, "%s", p[0] ? "<redacted>" : "");
            else if (t->secret)
                config_redact_url(p, buf, sizeof buf);
            else
                snprintf(buf, sizeof buf, "%s", p);
            break;
        case C_INT:
        case C_SIZE: snprintf(buf, sizeof buf, "%lld", (long long)*(const int64_t *)p); break;
        case C_BOOL: snprintf(buf, sizeof buf, "%s", *(const bool *)p ? "true" : "false"); break;
        }
        printf("%s = %s\n", t->name, buf);
    }
}

void config_help(void)
{
    printf("Configuration (file nuanxin.conf < environment NUANXIN_<NAME> < flags --name VALUE):\n");
    for (size_t i = 0; i < NENTRIES; i++)
        printf("  --%-18s %s (default: %s)\n", table[i].name, table[i].help,
               table[i].def[0] ? table[i].def : "''");
}
