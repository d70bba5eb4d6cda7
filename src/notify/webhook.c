/* webhook.c — group-robot messages over HTTP (see webhook.h).
 *
 * The body is built with jansson (compact, keys in insertion order, UTF-8 kept as is) so the bytes
 * a receiver gets are predictable and testable. Sending is one outbound_request (notify/outbound.h),
 * the one outbound path the SMS, voice and WeCom channels take too: bounded timeouts and a bounded
 * answer buffer, the target checked at every send (resolved again, every address judged,
 * pinned, no redirects — a robot URL never redirects; following one would send the message to
 * wherever it points — no proxy); a refused target is reported as OUTBOUND_REFUSED_MSG whatever
 * the address, without any request, so delivery records are no oracle of the inside. URLs carry the robot's key, so neither logs nor error messages include them.
 * The DingTalk signature uses libsodium's HMAC-SHA256 (any key length) and base64. */
#include "notify/webhook.h"

#include "base/log.h"
#include "base/str.h"
#include "notify/outbound.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX 4096

int webhook_format_parse(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "wecom") == 0)
        return WEBHOOK_WECOM;
    if (strcmp(s, "dingtalk") == 0)
        return WEBHOOK_DINGTALK;
    if (strcmp(s, "json") == 0)
        return WEBHOOK_JSON;
    return 0;
}

const char *webhook_format_code(int format)
{
    switch (format) {
    case WEBHOOK_WECOM:
        return "wecom";
    case WEBHOOK_DINGTALK:
        return "dingtalk";
    case WEBHOOK_JSON:
        return "json";
    default:
        return "";
    }
}

bool webhook_url_ok(const char *url)
{
    if (!url)
        return false;
    size_t n = strlen(url);
    if (n > WEBHOOK_URL_MAX)
        return false;
    const char *host;
    if (str_starts_with(url, "http://"))
        host = url + 7;
    else if (str_starts_with(url, "https://"))
        host = url + 8;
    else
        return false;
    if (*host == '\0' || *host == '/' || *host == ':' || *host == '?')
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

char *webhook_body(int format, const char *title, const char *text, json_t *data)
{
    json_t *o = NULL;
    char *out = NULL;
    if (format == WEBHOOK_WECOM || format == WEBHOOK_DINGTALK) {
        strbuf b;
        strbuf_init(&b, 64 * 1024);
        if (strbuf_puts(&b, title ? title : "") || strbuf_puts(&b, "\n") || strbuf_puts(&b, text ? text : "")) {
            strbuf_cleanup(&b);
            return NULL;
        }
        o = json_pack("{s:s, s:{s:s}}", "msgtype", "text", "text", "content", b.data ? b.data : "");
        strbuf_cleanup(&b);
    } else if (format == WEBHOOK_JSON) {
        o = json_pack("{s:s, s:s, s:o}", "title", title ? title : "", "text", text ? text : "", "data",
                      data ? json_incref(data) : json_object());
    }
    if (o)
        out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

int webhook_dingtalk_sign(const char *secret, int64_t timestamp_ms, char *out, size_t n)
{
    char msg[WEBHOOK_SECRET_MAX + 32];
    int len = snprintf(msg, sizeof msg, "%lld\n%s", (long long)timestamp_ms, secret ? secret : "");
    if (len < 0 || (size_t)len >= sizeof msg)
        return NX_EINVAL;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    const char *key = secret ? secret : "";
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)len);
    crypto_auth_hmacsha256_final(&st, mac);
    char b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    /* URL-encode: base64 has only A-Z a-z 0-9 + / = of which the last three need escaping. */
    size_t o = 0;
    for (const char *p = b64; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        size_t need = plain ? 1 : 3;
        if (o + need + 1 > n)
            return NX_EINVAL;
        if (plain) {
            out[o++] = *p;
        } else {
            snprintf(out + o, 4, "%%%02X", (unsigned char)*p);
            o += 3;
        }
    }
    if (o + 1 > n)
        return NX_EINVAL;
    out[o] = '\0';
    return 0;
}

/* WeCom and DingTalk: the answer's errcode (0 = accepted). A missing or unreadable answer from a
 * 2xx counts as accepted for them only if it is empty (some proxies strip it). */
static int robot_errcode(const strbuf *answer, long *code)
{
    *code = 0;
    if (!answer->data || answer->len == 0)
        return 0;
    json_t *o = json_loadb(answer->data, answer->len, 0, NULL);
    if (!o)
        return NX_EINVAL;
    json_t *c = json_object_get(o, "errcode");
    if (json_is_integer(c))
        *code = (long)json_integer_value(c);
    json_decref(o);
    return 0;
}

int webhook_post(int format, const char *url, const char *secret, const char *body, int timeout_ms, int64_t now_ms,
                 long *status, nx_err *e)
{
    if (status)
        *status = 0;
    if (!webhook_url_ok(url))
        return nx_fail(e, NX_EINVAL, "url", "Webhook 地址无效（应以 https:// 开头）");
    if (!webhook_format_code(format)[0] || !body)
        return nx_fail(e, NX_EINVAL, "format", "Webhook 格式无效");
    if (timeout_ms <= 0)
        timeout_ms = 5000;

    char full[WEBHOOK_URL_MAX + 160];
    if (format == WEBHOOK_DINGTALK && secret && secret[0]) {
        char sign[128];
        if (webhook_dingtalk_sign(secret, now_ms, sign, sizeof sign))
            return nx_fail(e, NX_EINVAL, "secret", "钉钉加签密钥过长");
        snprintf(full, sizeof full, "%s%ctimestamp=%lld&sign=%s", url, strchr(url, '?') ? '&' : '?',
                 (long long)now_ms, sign);
    } else {
        str_copy(full, url, sizeof full);
    }

    /* the one outbound path: resolved and judged now, not when the channel was saved (DNS may have
     * changed since), pinned, no redirects, no proxy, bounded answer and timeouts */
    static const char *const headers[] = {"Content-Type: application/json; charset=utf-8", NULL};
    strbuf answer;
    strbuf_init(&answer, ANSWER_MAX + 1);
    long code = 0;
    nx_err oe = {0};
    int rc = outbound_request("POST", full, headers, body, strlen(body), timeout_ms, ANSWER_MAX, &answer, &code, &oe);
    if (rc == NX_EPERM)
        rc = nx_fail(e, NX_EPERM, "url", "%s", OUTBOUND_REFUSED_MSG);
    else if (rc == NX_EINVAL)
        rc = nx_fail(e, NX_EINVAL, "url", "Webhook 地址无效（应以 https:// 开头）");
    else if (rc == NX_EBUSY)
        rc = nx_fail(e, NX_EBUSY, "", "Webhook 发送失败：%s", oe.msg);
    else if (rc)
        rc = nx_fail(e, rc, "", "%s", oe.msg);
    if (rc)
        goto done;
    if (status)
        *status = code;
    if (code == 429 || code >= 500) {
        rc = nx_fail(e, NX_EBUSY, "", "Webhook 接收方暂不可用（HTTP %ld）", code);
    } else if (code < 200 || code >= 300) {
        rc = nx_fail(e, NX_EINVAL, "", "Webhook 接收方拒绝了消息（HTTP %ld）", code);
    } else if (format != WEBHOOK_JSON) {
        long err = 0;
        if (robot_errcode(&answer, &err))
            rc = nx_fail(e, NX_EBUSY, "", "机器人应答无法解析");
        else if (err != 0)
            rc = nx_fail(e, NX_EBUSY, "", "机器人拒绝了消息（errcode %ld）", err);
    }
done:
    strbuf_cleanup(&answer);
    return rc;
}
