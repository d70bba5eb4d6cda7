/* sms.c — Tencent Cloud SMS and voice messages, signed with TC3-HMAC-SHA256.
 *
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
 * "Message"}}} — codes starting with "RequestLimitExceeded" or "LimitExceeded" are throttling. */
#include "notify/sms.h"

#include "base/str.h"
#include "notify/outbound.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sms_provider {
    int kind;
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
    const char *url = kind == SMS_KIND_SMS ? c->tencent_sms_url : c->tencent_voice_url;
    const char *app = kind == SMS_KIND_SMS ? c->tencent_sms_app_id : c->tencent_voice_app_id;
    const char *tpl = kind == SMS_KIND_SMS ? c->tencent_sms_template : c->tencent_voice_template;
    if (!c->tencent_secret_id[0] || !c->tencent_secret_key[0] || !app[0] || !tpl[0] || !url[0])
        return 0;
    if (kind == SMS_KIND_SMS && !c->tencent_sms_sign[0])
        return 0;
    sms_provider *p = calloc(1, sizeof *p);
    if (!p)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    p->kind = kind;
    str_copy(p->url, url, sizeof p->url);
    str_copy(p->secret_id, c->tencent_secret_id, sizeof p->secret_id);
    str_copy(p->secret_key, c->tencent_secret_key, sizeof p->secret_key);
    str_copy(p->app_id, app, sizeof p->app_id);
    str_copy(p->tpl, tpl, sizeof p->tpl);
    str_copy(p->sign, c->tencent_sms_sign, sizeof p->sign);
    str_copy(p->region, c->tencent_region, sizeof p->region);
    /* host[:port] of the URL, as the Host header carries it */
    const char *h = strstr(url, "://");
    if (!h || (!str_starts_with(url, "https://") && !str_starts_with(url, "http://"))) {
        sms_provider_free(p);
        return nx_fail(e, NX_EINVAL, kind == SMS_KIND_SMS ? "tencent_sms_url" : "tencent_voice_url",
                       "短信/语音服务地址应以 https:// 开头");
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_answer(char *d, size_t size, size_t nmemb, void *ctx)
{
    strbuf *b = ctx;
    size_t n = size * nmemb;
    if (b->len < ANSWER_MAX)
        strbuf_append(b, d, n < ANSWER_MAX - b->len ? n : ANSWER_MAX - b->len);
    return n;
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

int sms_send(sms_provider *p, const char *phone, const char *text, char ref[SMS_REF_MAX], nx_err *e)
{
    ref[0] = '\0';
    char number[32];
    if (phone[0] == '+')
        str_copy(number, phone, sizeof number);
    else
        snprintf(number, sizeof number, "+86%s", phone);
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
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    sodium_memzero(number, sizeof number);
    if (!payload)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    pthread_once(&curl_once, curl_setup);
    int rc = 0;
    outbound_target *t = malloc(sizeof *t);
    CURL *c = NULL;
    struct curl_slist *hdr = NULL, *pin = NULL;
    bool refused = false;
    strbuf answer;
    strbuf_init(&answer, ANSWER_MAX + 1);
    if (!t) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    nx_err oe = {0};
    if ((rc = outbound_check(p->url, t, &oe))) {
        rc = nx_fail(e, rc == NX_EPERM ? NX_EPERM : NX_EBUSY, "", "%s",
                     rc == NX_EPERM ? OUTBOUND_REFUSED_MSG : "无法连接短信服务商");
        goto done;
    }
    int64_t ts = (int64_t)time(NULL);
    char auth[512], h[600];
    if ((rc = sms_tc3_authorization(p->secret_id, p->secret_key, service, p->host, action, ts, payload, auth,
                                    sizeof auth))) {
        rc = nx_fail(e, NX_EINVAL, "", "签名失败");
        goto done;
    }
    c = curl_easy_init();
    if (!c || outbound_prepare(c, t, &pin, &refused)) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
    snprintf(h, sizeof h, "Host: %s", p->host);
    hdr = curl_slist_append(hdr, h);
    snprintf(h, sizeof h, "Authorization: %s", auth);
    hdr = curl_slist_append(hdr, h);
    snprintf(h, sizeof h, "X-TC-Action: %s", action);
    hdr = curl_slist_append(hdr, h);
    snprintf(h, sizeof h, "X-TC-Timestamp: %lld", (long long)ts);
    hdr = curl_slist_append(hdr, h);
    snprintf(h, sizeof h, "X-TC-Version: %s", version);
    hdr = curl_slist_append(hdr, h);
    snprintf(h, sizeof h, "X-TC-Region: %s", p->region);
    hdr = curl_slist_append(hdr, h);
    sodium_memzero(auth, sizeof auth);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "nuanxin-sms/1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    CURLcode cc = curl_easy_perform(c);
    if (refused) {
        rc = nx_fail(e, NX_EPERM, "", "%s", OUTBOUND_REFUSED_MSG);
        goto done;
    }
    if (cc != CURLE_OK) {
        rc = nx_fail(e, NX_EBUSY, "", "无法连接服务商：%s", curl_easy_strerror(cc));
        goto done;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    rc = read_answer(p, &answer, ref, e);
    if (rc == NX_EIO && status != 200)
        rc = nx_fail(e, status == 429 || status >= 500 ? NX_EBUSY : NX_EIO, "", "服务商应答 HTTP %ld，且不是 JSON", status);
done:
    strbuf_cleanup(&answer);
    curl_slist_free_all(hdr);
    curl_slist_free_all(pin);
    if (c)
        curl_easy_cleanup(c);
    free(t);
    sodium_memzero(payload, strlen(payload));
    free(payload);
    return rc;
}
