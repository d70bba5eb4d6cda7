/* sms.c — SMS and voice calls through Tencent Cloud (TC3-HMAC-SHA256) or Aliyun (RPC style,
 * HMAC-SHA1), whichever the configuration names for the channel (Tencent's keys first). Every
 * request goes through outbound_request (notify/outbound.h).
 *
 * Tencent Cloud:
 * The signature, step by step as the provider documents it ("Signature v3"):
 *   CanonicalRequest = "POST\n/\n\n" + "content-type:application/json; charset=utf-8\nhost:<host>\n"
 *                      "x-tc-action:<action, lower case>\n" + "\n" + "content-type;host;x-tc-action\n"
 *                      + hex(SHA256(payload))
 *   StringToSign     = "TC3-HMAC-SHA256\n" + <timestamp> + "\n" + <date>/<service>/tc3_request + "\n"
 *                      + hex(SHA256(CanonicalRequest))
 *   SecretDate = HMAC-SHA256("TC3" + SecretKey, date); SecretService = HMAC-SHA256(SecretDate, service);
 *   SecretSigning = HMAC-SHA256(SecretService, "tc3_request");
 *   Signature = hex(HMAC-SHA256(SecretSigning, StringToSign))
 * where date is the UTC date (YYYY-MM-DD) of the timestamp. The request carries Authorization,
 * X-TC-Action, X-TC-Timestamp, X-TC-Version and X-TC-Region. libsodium gives SHA-256 and HMAC.
 *
 * The answer is JSON: {"Response": {"SendStatusSet": [{"Code": "Ok", "SerialNo"}]}} for SMS,
 * {"Response": {"SendStatus": {"CallId"}}} for voice, or {"Response": {"Error": {"Code",
 * "Message"}}} — codes starting with "RequestLimitExceeded" or "LimitExceeded" are throttling.
 *
 * Aliyun (Dysmsapi SendSms and Dyvmsapi SingleCallByTts, both Version 2017-05-25), as its "签名机制"
 * documents it: the parameters — common ones (AccessKeyId, Action, Format JSON, RegionId,
 * SignatureMethod HMAC-SHA1, SignatureNonce, a fresh random value, SignatureVersion 1.0, Timestamp
 * as UTC yyyy-MM-ddTHH:mm:ssZ, Version) and the action's (PhoneNumbers, SignName, TemplateCode and
 * TemplateParam {"text": …}; or CalledNumber, CalledShowNumber, TtsCode, TtsParam, PlayTimes) — are
 * sorted by name and percent-encoded (RFC 3986 unreserved kept, space %20) into the canonical query
 * "k=v&…"; StringToSign = "POST&%2F&" + percentEncode(canonical query); Signature =
 * Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)), sent as one more form field of the POST.
 * The answer is {"Code": "OK", "BizId" | "CallId"} or another Code: Throttling.*,
 * isv.BUSINESS_LIMIT_CONTROL and isv.DAY_LIMIT_CONTROL are throttling.
 *
 * What became of a message is pulled, not pushed (no inbound door): SMS delivery reports from
 * Tencent (PullSmsSendStatusByPhoneNumber) or Aliyun (QuerySendDetails), and the result of an Aliyun
 * voice call (QueryCallDetailByCallId: answered or not). Tencent's voice messages (VMS 2020-09-02)
 * document no API to ask for a call's result — only an event callback to a public URL — so their
 * calls stay "sent". */
#include "notify/sms.h"

#include "base/sha1.h"
#include "base/str.h"
#include "notify/outbound.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sms_provider {
    int kind;
    bool aliyun; /* Aliyun's RPC API; else Tencent Cloud's. For Aliyun, secret_id/secret_key hold the
                  * AccessKey pair and app_id the number shown to a called phone. */
    char url[512], host[300];
    char secret_id[128], secret_key[128];
    char app_id[64], sign[64], tpl[64], region[32];
};

#define ANSWER_MAX 16384

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    hex(h, sizeof h, out);
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int sms_tc3_authorization(const char *secret_id, const char *secret_key, const char *service, const char *host,
                          const char *action, int64_t ts, const char *payload, char *out, size_t cap)
{
    char date[11], lower[64], ph[65], crh[65];
    time_t t = (time_t)ts;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    size_t i = 0;
    for (; action[i] && i < sizeof lower - 1; i++)
        lower[i] = (char)(action[i] >= 'A' && action[i] <= 'Z' ? action[i] + 32 : action[i]);
    lower[i] = '\0';
    sha256_hex(payload, ph);
    strbuf cr;
    strbuf_init(&cr, 4096);
    strbuf_printf(&cr,
                  "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:%s\nx-tc-action:%s\n\n"
                  "content-type;host;x-tc-action\n%s",
                  host, lower, ph);
    if (!cr.data) {
        strbuf_cleanup(&cr);
        return NX_ENOMEM;
    }
    sha256_hex(cr.data, crh);
    strbuf_cleanup(&cr);
    char sts[512];
    snprintf(sts, sizeof sts, "TC3-HMAC-SHA256\n%lld\n%s/%s/tc3_request\n%s", (long long)ts, date, service, crh);
    char k0[160];
    snprintf(k0, sizeof k0, "TC3%s", secret_key);
    unsigned char kd[32], ks[32], kg[32], sig[32];
    hmac((const unsigned char *)k0, strlen(k0), date, kd);
    hmac(kd, sizeof kd, service, ks);
    hmac(ks, sizeof ks, "tc3_request", kg);
    hmac(kg, sizeof kg, sts, sig);
    char sighex[65];
    hex(sig, sizeof sig, sighex);
    sodium_memzero(k0, sizeof k0);
    sodium_memzero(kd, sizeof kd);
    sodium_memzero(ks, sizeof ks);
    sodium_memzero(kg, sizeof kg);
    int n = snprintf(out, cap,
                     "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host;x-tc-action, "
                     "Signature=%s",
                     secret_id, date, service, sighex);
    return n < 0 || (size_t)n >= cap ? NX_ETOOBIG : 0;
}

int sms_provider_from_config(const nx_config *c, int kind, sms_provider **out, nx_err *e)
{
    *out = NULL;
    bool sms = kind == SMS_KIND_SMS;
    const char *url = sms ? c->tencent_sms_url : c->tencent_voice_url;
    const char *app = sms ? c->tencent_sms_app_id : c->tencent_voice_app_id;
    const char *tpl = sms ? c->tencent_sms_template : c->tencent_voice_template;
    const char *id = c->tencent_secret_id, *key = c->tencent_secret_key, *sign = c->tencent_sms_sign;
    const char *region = c->tencent_region, *field = sms ? "tencent_sms_url" : "tencent_voice_url";
    bool aliyun = false;
    if (!id[0] || !key[0] || !app[0] || !tpl[0] || !url[0] || (sms && !sign[0])) {
        /* Tencent not (fully) configured for this channel: Aliyun's keys, if they are all set */
        aliyun = true;
        url = sms ? c->aliyun_sms_url : c->aliyun_voice_url;
        app = sms ? "-" : c->aliyun_voice_show_number;
        tpl = sms ? c->aliyun_sms_template : c->aliyun_voice_template;
        id = c->aliyun_access_key_id;
        key = c->aliyun_access_key_secret;
        sign = c->aliyun_sms_sign;
        region = c->aliyun_region;
        field = sms ? "aliyun_sms_url" : "aliyun_voice_url";
        if (!id[0] || !key[0] || !app[0] || !tpl[0] || !url[0] || (sms && !sign[0]))
            return 0;
    }
    sms_provider *p = calloc(1, sizeof *p);
    if (!p)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    p->kind = kind;
    p->aliyun = aliyun;
    str_copy(p->url, url, sizeof p->url);
    str_copy(p->secret_id, id, sizeof p->secret_id);
    str_copy(p->secret_key, key, sizeof p->secret_key);
    str_copy(p->app_id, app, sizeof p->app_id);
    str_copy(p->tpl, tpl, sizeof p->tpl);
    str_copy(p->sign, sign, sizeof p->sign);
    str_copy(p->region, region, sizeof p->region);
    /* host[:port] of the URL, as the Host header carries it */
    const char *h = strstr(url, "://");
    if (!h || (!str_starts_with(url, "https://") && !str_starts_with(url, "http://"))) {
        sms_provider_free(p);
        return nx_fail(e, NX_EINVAL, field, "短信/语音服务地址应以 https:// 开头");
    }
    h += 3;
    size_t n = strcspn(h, "/?#");
    snprintf(p->host, sizeof p->host, "%.*s", (int)n, h);
    *out = p;
    return 0;
}

void sms_provider_free(sms_provider *p)
{
    if (!p)
        return;
    sodium_memzero(p, sizeof *p);
    free(p);
}

/* Read the provider's answer: 0 with ref, or the error. */
static int read_answer(const sms_provider *p, const strbuf *a, char ref[SMS_REF_MAX], nx_err *e)
{
    json_t *o = a->data ? json_loadb(a->data, a->len, 0, NULL) : NULL;
    json_t *resp = json_object_get(o, "Response");
    if (!json_is_object(resp)) {
        json_decref(o);
        return nx_fail(e, NX_EIO, "", "服务商应答不是约定的 JSON 格式");
    }
    int rc = 0;
    json_t *err = json_object_get(resp, "Error");
    const char *code = NULL;
    if (json_is_object(err)) {
        code = json_string_value(json_object_get(err, "Code"));
    } else if (p->kind == SMS_KIND_SMS) {
        json_t *st = json_array_get(json_object_get(resp, "SendStatusSet"), 0);
        code = json_string_value(json_object_get(st, "Code"));
        if (code && strcmp(code, "Ok") == 0) {
            str_copy(ref, json_string_value(json_object_get(st, "SerialNo")) ? json_string_value(json_object_get(st, "SerialNo")) : "", SMS_REF_MAX);
            code = NULL;
        } else if (!code)
            code = "NoStatus";
    } else {
        json_t *st = json_object_get(resp, "SendStatus");
        const char *id = json_string_value(json_object_get(st, "CallId"));
        if (id)
            str_copy(ref, id, SMS_REF_MAX);
        else
            code = "NoCallId";
    }
    if (code) {
        char c[64];
        str_copy(c, code, sizeof c);
        if (str_starts_with(c, "RequestLimitExceeded") || str_starts_with(c, "LimitExceeded"))
            rc = nx_fail(e, NX_EBUSY, "", "服务商限流（%s），稍后重试", c);
        else
            rc = nx_fail(e, NX_EINVAL, "", "服务商拒绝发送（%s）", c);
    }
    json_decref(o);
    return rc;
}

/* One signed Tencent Cloud API call: POST payload (JSON) as action of service at version, signed in
 * the Authorization header (TC3-HMAC-SHA256); the answer into *answer, its HTTP status into *status.
 * 0 or outbound_request's error. */
static int tencent_call(const sms_provider *p, const char *service, const char *action, const char *version,
                        const char *payload, strbuf *answer, long *status, nx_err *e)
{
    int64_t ts = (int64_t)time(NULL);
    char auth[512], h[5][600];
    int rc;
    if (sms_tc3_authorization(p->secret_id, p->secret_key, service, p->host, action, ts, payload, auth, sizeof auth)) {
        rc = nx_fail(e, NX_EINVAL, "", "签名失败");
    } else {
        snprintf(h[0], sizeof h[0], "Authorization: %s", auth);
        snprintf(h[1], sizeof h[1], "X-TC-Action: %s", action);
        snprintf(h[2], sizeof h[2], "X-TC-Timestamp: %lld", (long long)ts);
        snprintf(h[3], sizeof h[3], "X-TC-Version: %s", version);
        snprintf(h[4], sizeof h[4], "X-TC-Region: %s", p->region);
        char host[320];
        snprintf(host, sizeof host, "Host: %s", p->host);
        const char *const headers[] = {"Content-Type: application/json; charset=utf-8", host, h[0], h[1], h[2], h[3],
                                       h[4], NULL};
        rc = outbound_request("POST", p->url, headers, payload, strlen(payload), 10000L, ANSWER_MAX, answer, status, e);
    }
    sodium_memzero(auth, sizeof auth);
    sodium_memzero(h, sizeof h);
    return rc;
}

/* "+86…" for a mainland number given bare, as Tencent wants it. */
static void e164(const char *phone, char number[32])
{
    if (phone[0] == '+')
        str_copy(number, phone, 32);
    else
        snprintf(number, 32, "+86%s", phone);
}

/* A JSON payload of body (released), or NULL. */
static char *payload_of(json_t *body)
{
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return payload;
}

static void payload_free(char *payload)
{
    if (payload) {
        sodium_memzero(payload, strlen(payload));
        free(payload);
    }
}

/* Tencent's request: the JSON body, signed in the Authorization header. */
static int tencent_send(sms_provider *p, const char *phone, const char *text, char ref[SMS_REF_MAX], nx_err *e)
{
    char number[32];
    e164(phone, number);
    json_t *body;
    const char *action, *service, *version;
    if (p->kind == SMS_KIND_SMS) {
        action = "SendSms";
        service = "sms";
        version = "2021-01-11";
        body = json_pack("{s:[s], s:s, s:s, s:s, s:[s]}", "PhoneNumberSet", number, "SmsSdkAppId", p->app_id,
                         "SignName", p->sign, "TemplateId", p->tpl, "TemplateParamSet", text);
    } else {
        action = "SendTtsVoice";
        service = "vms";
        version = "2020-09-02";
        body = json_pack("{s:s, s:[s], s:s, s:s, s:i}", "TemplateId", p->tpl, "TemplateParamSet", text,
                         "CalledNumber", number, "VoiceSdkAppid", p->app_id, "PlayTimes", 2);
    }
    char *payload = payload_of(body);
    sodium_memzero(number, sizeof number);
    if (!payload)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    strbuf answer;
    strbuf_init(&answer, ANSWER_MAX + 1);
    long status = 0;
    int rc = tencent_call(p, service, action, version, payload, &answer, &status, e);
    if (rc == 0) {
        rc = read_answer(p, &answer, ref, e);
        if (rc == NX_EIO && status != 200)
            rc = nx_fail(e, status == 429 || status >= 500 ? NX_EBUSY : NX_EIO, "", "服务商应答 HTTP %ld，且不是 JSON",
                         status);
    }
    strbuf_cleanup(&answer);
    payload_free(payload);
    return rc;
}

/* Tencent's delivery report of serial ref to phone: PullSmsSendStatusByPhoneNumber (2021-01-11) from a
 * minute before sent_s; the status whose SerialNo is ref AND whose PhoneNumber is the number. */
static int tencent_receipt(sms_provider *p, const char *phone, const char *ref, int64_t sent_s, int *state,
                           char reason[SMS_REASON_MAX], nx_err *e)
{
    char number[32];
    e164(phone, number);
    int64_t now = (int64_t)time(NULL);
    char *payload = payload_of(json_pack("{s:I, s:i, s:i, s:s, s:s, s:I}", "BeginTime", (json_int_t)(sent_s - 60),
                                         "Offset", 0, "Limit", 100, "PhoneNumber", number, "SmsSdkAppId", p->app_id,
                                         "EndTime", (json_int_t)now));
    if (!payload) {
        sodium_memzero(number, sizeof number);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    strbuf answer;
    strbuf_init(&answer, ANSWER_MAX + 1);
    long status = 0;
    int rc = tencent_call(p, "sms", "PullSmsSendStatusByPhoneNumber", "2021-01-11", payload, &answer, &status, e);
    json_t *o = rc == 0 && answer.data ? json_loadb(answer.data, answer.len, 0, NULL) : NULL;
    json_t *resp = json_object_get(o, "Response");
    if (rc) {
    } else if (!json_is_object(resp)) {
        rc = nx_fail(e, status == 429 || status >= 500 ? NX_EBUSY : NX_EIO, "", "回执应答不是约定的 JSON 格式（HTTP %ld）",
                     status);
    } else if (json_is_object(json_object_get(resp, "Error"))) {
        char c[64];
        const char *code = json_string_value(json_object_get(json_object_get(resp, "Error"), "Code"));
        str_copy(c, code ? code : "?", sizeof c);
        rc = nx_fail(e, str_starts_with(c, "RequestLimitExceeded") ? NX_EBUSY : NX_EINVAL, "", "服务商拒绝查询回执（%s）", c);
    } else {
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(resp, "PullSmsSendStatusSet"), i, st)
        {
            const char *sn = json_string_value(json_object_get(st, "SerialNo"));
            const char *pn = json_string_value(json_object_get(st, "PhoneNumber"));
            const char *rs = json_string_value(json_object_get(st, "ReportStatus"));
            if (!sn || !pn || !rs || strcmp(sn, ref) != 0 || strcmp(pn, number) != 0)
                continue;
            const char *d = json_string_value(json_object_get(st, "Description"));
            if (strcmp(rs, "SUCCESS") == 0)
                *state = SMS_RECEIPT_DELIVERED;
            else if (strcmp(rs, "FAIL") == 0) {
                *state = SMS_RECEIPT_FAILED;
                str_copy(reason, d && *d ? d : "FAIL", SMS_REASON_MAX);
            }
            break;
        }
    }
    json_decref(o);
    strbuf_cleanup(&answer);
    payload_free(payload);
    sodium_memzero(number, sizeof number);
    return rc;
}

/* ---- Aliyun (阿里云): Dysmsapi SendSms and Dyvmsapi SingleCallByTts, RPC style ---- */

/* Aliyun's percent-encoding: RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) as they are,
 * every other byte as %XY (upper-case hex), so a space is %20 and never +. */
static void pct(strbuf *b, const char *s)
{
    static const char d[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~') {
            strbuf_append(b, p, 1);
        } else {
            char e3[3] = {'%', d[*p >> 4], d[*p & 15]};
            strbuf_append(b, e3, 3);
        }
    }
}

int sms_aliyun_signature(const char *secret, const char *method, const char *canonical, char *out, size_t cap)
{
    strbuf sts;
    strbuf_init(&sts, 65536);
    strbuf_puts(&sts, method);
    strbuf_puts(&sts, "&%2F&");
    pct(&sts, canonical);
    char key[160];
    int n = snprintf(key, sizeof key, "%s&", secret);
    if (!sts.data || sts.overflow || n < 0 || (size_t)n >= sizeof key) {
        strbuf_cleanup(&sts);
        sodium_memzero(key, sizeof key);
        return NX_ETOOBIG;
    }
    unsigned char mac[SHA1_BYTES];
    hmac_sha1(key, (size_t)n, sts.data, sts.len, mac);
    strbuf_cleanup(&sts);
    sodium_memzero(key, sizeof key);
    if (cap < sodium_base64_ENCODED_LEN(SHA1_BYTES, sodium_base64_VARIANT_ORIGINAL))
        return NX_ETOOBIG;
    sodium_bin2base64(out, cap, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

typedef struct kv {
    const char *k, *v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

/* "k=v&…" of the n pairs sorted by name, each name and value percent-encoded, into b. */
static void canonical_query(kv *ps, size_t n, strbuf *b)
{
    qsort(ps, n, sizeof *ps, kv_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_puts(b, "&");
        pct(b, ps[i].k);
        strbuf_puts(b, "=");
        pct(b, ps[i].v);
    }
}

/* The answer of an Aliyun action: {"Code": "OK", "BizId" | "CallId", …} or another Code. */
static int aliyun_answer(const sms_provider *p, const strbuf *a, long status, char ref[SMS_REF_MAX], nx_err *e)
{
    json_t *o = a->data ? json_loadb(a->data, a->len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(o, "Code"));
    if (!code) {
        json_decref(o);
        if (status == 429 || status >= 500)
            return nx_fail(e, NX_EBUSY, "", "服务商应答 HTTP %ld，且不是 JSON", status);
        return nx_fail(e, NX_EIO, "", "服务商应答不是约定的 JSON 格式");
    }
    char c[64];
    str_copy(c, code, sizeof c);
    int rc = 0;
    if (strcmp(c, "OK") == 0) {
        const char *id = json_string_value(json_object_get(o, p->kind == SMS_KIND_SMS ? "BizId" : "CallId"));
        str_copy(ref, id ? id : "", SMS_REF_MAX);
    } else if (str_starts_with(c, "Throttling") || strcmp(c, "isv.BUSINESS_LIMIT_CONTROL") == 0 ||
               strcmp(c, "isv.DAY_LIMIT_CONTROL") == 0 || strcmp(c, "ServiceUnavailable") == 0) {
        rc = nx_fail(e, NX_EBUSY, "", "服务商限流（%s），稍后重试", c);
    } else {
        rc = nx_fail(e, NX_EINVAL, "", "服务商拒绝发送（%s）", c);
    }
    json_decref(o);
    return rc;
}

#define ALIYUN_EXTRA_MAX 6

/* One signed Aliyun RPC call: action with the common parameters (AccessKeyId, Format JSON, RegionId,
 * HMAC-SHA1, a fresh nonce, the UTC time, Version 2017-05-25) and the n action parameters extra
 * (at most ALIYUN_EXTRA_MAX), POSTed as a form to the provider's URL; the answer into *answer, its
 * HTTP status into *status. 0 or outbound_request's error. */
static int aliyun_call(const sms_provider *p, const char *action, const kv *extra, size_t n, strbuf *answer,
                       long *status, nx_err *e)
{
    char nonce[33], ts[24];
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    hex(rnd, sizeof rnd, nonce);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    kv ps[9 + ALIYUN_EXTRA_MAX] = {{"AccessKeyId", p->secret_id},
                                   {"Action", action},
                                   {"Format", "JSON"},
                                   {"RegionId", p->region},
                                   {"SignatureMethod", "HMAC-SHA1"},
                                   {"SignatureNonce", nonce},
                                   {"SignatureVersion", "1.0"},
                                   {"Timestamp", ts},
                                   {"Version", "2017-05-25"}};
    size_t np = 9;
    for (size_t i = 0; i < n && i < ALIYUN_EXTRA_MAX; i++)
        ps[np++] = extra[i];
    strbuf body;
    strbuf_init(&body, 65536);
    canonical_query(ps, np, &body);
    char sig[64];
    int rc = 0;
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    if (!body.data || body.overflow || sms_aliyun_signature(p->secret_key, "POST", body.data, sig, sizeof sig)) {
        rc = nx_fail(e, NX_EINVAL, "", "签名失败");
    } else {
        strbuf_puts(&body, "&Signature=");
        pct(&body, sig);
        if (body.overflow)
            rc = nx_fail(e, NX_ETOOBIG, "", "消息过长");
        else
            rc = outbound_request("POST", p->url, headers, body.data, body.len, 10000L, ANSWER_MAX, answer, status, e);
    }
    if (body.data)
        sodium_memzero(body.data, body.len);
    strbuf_cleanup(&body);
    return rc;
}

static int aliyun_send(sms_provider *p, const char *phone, const char *text, char ref[SMS_REF_MAX], nx_err *e)
{
    char number[32], out_id[33];
    str_copy(number, str_starts_with(phone, "+86") ? phone + 3 : phone, sizeof number);
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    hex(rnd, sizeof rnd, out_id);
    json_t *param = json_pack("{s:s}", "text", text);
    char *pj = param ? json_dumps(param, JSON_COMPACT) : NULL;
    json_decref(param);
    if (!pj)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    bool sms = p->kind == SMS_KIND_SMS;
    kv ps[] = {{sms ? "PhoneNumbers" : "CalledNumber", number},
               {sms ? "SignName" : "CalledShowNumber", sms ? p->sign : p->app_id},
               {sms ? "TemplateCode" : "TtsCode", p->tpl},
               {sms ? "TemplateParam" : "TtsParam", pj},
               {sms ? "OutId" : "PlayTimes", sms ? out_id : "2"}};
    strbuf answer;
    strbuf_init(&answer, ANSWER_MAX + 1);
    long status = 0;
    int rc = aliyun_call(p, sms ? "SendSms" : "SingleCallByTts", ps, sizeof ps / sizeof ps[0], &answer, &status, e);
    if (rc == 0)
        rc = aliyun_answer(p, &answer, status, ref, e);
    strbuf_cleanup(&answer);
    sodium_memzero(number, sizeof number);
    sodium_memzero(pj, strlen(pj));
    free(pj);
    return rc;
}

/* One of Aliyun's queries (QuerySendDetails, QueryCallDetailByCallId), signed like a send: *out the
 * answer's JSON object when its Code is "OK" (the caller releases it). An answer that is not JSON or
 * has no Code: NX_EIO (NX_EBUSY for HTTP 429 or 5xx); another Code: NX_EINVAL, or NX_EBUSY for
 * Throttling…; what ("回执", "呼叫结果") names the question in the messages. */
static int aliyun_query(sms_provider *p, const char *action, const kv *ps, size_t n, const char *what, json_t **out,
                        nx_err *e)
{
    *out = NULL;
    strbuf answer;
    strbuf_init(&answer, ANSWER_MAX + 1);
    long status = 0;
    int rc = aliyun_call(p, action, ps, n, &answer, &status, e);
    json_t *o = rc == 0 && answer.data ? json_loadb(answer.data, answer.len, 0, NULL) : NULL;
    strbuf_cleanup(&answer);
    const char *code = json_string_value(json_object_get(o, "Code"));
    if (rc) {
    } else if (!code) {
        rc = nx_fail(e, status == 429 || status >= 500 ? NX_EBUSY : NX_EIO, "", "%s应答不是约定的 JSON 格式（HTTP %ld）",
                     what, status);
    } else if (strcmp(code, "OK") != 0) {
        char c[64];
        str_copy(c, code, sizeof c);
        rc = nx_fail(e, str_starts_with(c, "Throttling") ? NX_EBUSY : NX_EINVAL, "", "服务商拒绝查询%s（%s）", what, c);
    }
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

/* Aliyun's delivery report of BizId ref to phone: QuerySendDetails on the day it was sent (Beijing
 * time); the record whose PhoneNum is the number (SendStatus 1 waiting, 2 failed with ErrCode, 3
 * delivered). */
static int aliyun_receipt(sms_provider *p, const char *phone, const char *ref, int64_t sent_s, int *state,
                          char reason[SMS_REASON_MAX], nx_err *e)
{
    char number[32], day[12];
    str_copy(number, str_starts_with(phone, "+86") ? phone + 3 : phone, sizeof number);
    time_t local = (time_t)(sent_s + 8 * 3600);
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    kv ps[] = {{"PhoneNumber", number}, {"BizId", ref}, {"SendDate", day}, {"PageSize", "10"}, {"CurrentPage", "1"}};
    json_t *o = NULL;
    int rc = aliyun_query(p, "QuerySendDetails", ps, sizeof ps / sizeof ps[0], "回执", &o, e);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(json_object_get(o, "SmsSendDetailDTOs"), "SmsSendDetailDTO"), i, d)
    {
        const char *pn = json_string_value(json_object_get(d, "PhoneNum"));
        json_int_t st = json_integer_value(json_object_get(d, "SendStatus"));
        if (!pn || strcmp(pn, number) != 0)
            continue;
        const char *err = json_string_value(json_object_get(d, "ErrCode"));
        if (st == 3)
            *state = SMS_RECEIPT_DELIVERED;
        else if (st == 2) {
            *state = SMS_RECEIPT_FAILED;
            str_copy(reason, err && *err ? err : "FAILED", SMS_REASON_MAX);
        }
        break;
    }
    json_decref(o);
    sodium_memzero(number, sizeof number);
    return rc;
}

/* Aliyun's call record of CallId ref: QueryCallDetailByCallId (Dyvmsapi 2017-05-25, signed like a
 * send) with ProdId 11000000300006 (voice notification) and QueryDate the epoch milliseconds from
 * which the provider looks at 24 hours of records (a minute before the call was placed). Code "OK"
 * carries Data, a JSON object in a string: its state is the call's result code (200000 heard to
 * the end, 200001 hung up early, 200102 answered: answered; 200100/200101/200201 still going, or
 * no Data yet: pending; any other code, such as 200002 busy, 200003 not answered, 200005 cannot be
 * reached, 200010 switched off: not answered, with the code and its stateDesc as the reason). */
static int aliyun_call_result(sms_provider *p, const char *ref, int64_t sent_s, int *state, char reason[SMS_REASON_MAX],
                              nx_err *e)
{
    char since[24];
    snprintf(since, sizeof since, "%lld", (long long)(sent_s - 60) * 1000);
    kv ps[] = {{"CallId", ref}, {"ProdId", "11000000300006"}, {"QueryDate", since}};
    json_t *o = NULL;
    int rc = aliyun_query(p, "QueryCallDetailByCallId", ps, sizeof ps / sizeof ps[0], "呼叫结果", &o, e);
    if (rc)
        return rc;
    const char *data = json_string_value(json_object_get(o, "Data"));
    json_t *d = data && data[0] ? json_loads(data, 0, NULL) : NULL;
    const char *st = json_string_value(json_object_get(d, "state"));
    const char *desc = json_string_value(json_object_get(d, "stateDesc"));
    if (data && data[0] && !json_is_object(d)) {
        rc = nx_fail(e, NX_EIO, "", "呼叫结果的 Data 不是约定的 JSON 格式");
    } else if (!st || !st[0] || strcmp(st, "200100") == 0 || strcmp(st, "200101") == 0 || strcmp(st, "200201") == 0) {
        /* no record yet, or the call is still going */
    } else if (strcmp(st, "200000") == 0 || strcmp(st, "200001") == 0 || strcmp(st, "200102") == 0) {
        *state = SMS_RECEIPT_DELIVERED;
    } else {
        *state = SMS_RECEIPT_FAILED;
        bool said = desc && desc[0] && strcmp(desc, st) != 0; /* the sample answers repeat the code */
        snprintf(reason, SMS_REASON_MAX, "%.16s%s%.96s", st, said ? " " : "", said ? desc : "");
    }
    json_decref(d);
    json_decref(o);
    return rc;
}

int sms_send(sms_provider *p, const char *phone, const char *text, char ref[SMS_REF_MAX], nx_err *e)
{
    ref[0] = '\0';
    return p->aliyun ? aliyun_send(p, phone, text, ref, e) : tencent_send(p, phone, text, ref, e);
}

bool sms_pulls_results(const sms_provider *p)
{
    return p && (p->kind == SMS_KIND_SMS || p->aliyun);
}

int sms_receipt(sms_provider *p, const char *phone, const char *ref, int64_t sent_ms, int *state,
                char reason[SMS_REASON_MAX], nx_err *e)
{
    *state = SMS_RECEIPT_PENDING;
    reason[0] = '\0';
    if (!sms_pulls_results(p) || !ref || !ref[0])
        return nx_fail(e, NX_EUNSUPP, "", "此渠道不查询回执");
    int64_t sent_s = sent_ms / 1000;
    if (p->kind == SMS_KIND_VOICE)
        return aliyun_call_result(p, ref, sent_s, state, reason, e);
    return p->aliyun ? aliyun_receipt(p, phone, ref, sent_s, state, reason, e)
                     : tencent_receipt(p, phone, ref, sent_s, state, reason, e);
}
