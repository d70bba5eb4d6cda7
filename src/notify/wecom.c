/* wecom.c — WeCom application messages (see wecom.h).
 *
 * gettoken answers {"errcode": 0, "access_token", "expires_in" (seconds)}; the token is kept until
 * five minutes before it expires (never less than one minute). message/send takes {"touser",
 * "msgtype": "text", "agentid", "text": {"content"}} and answers {"errcode", "errmsg", "invaliduser",
 * "msgid"}. A token the API calls invalid or expired is dropped and the send tried once more with a
 * fresh one. The secret travels only in the gettoken query and the token only in message/send's;
 * neither appears in a log line or an error message. */
#include "notify/wecom.h"

#include "base/clock.h"
#include "base/str.h"
#include "notify/outbound.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX 8192

struct wecom {
    char base[256], corp[64], secret[128];
    long long agent;
    pthread_mutex_t lock;
    char token[600];
    int64_t token_until; /* ms; 0 = none */
};

int wecom_from_config(const nx_config *c, wecom **out, nx_err *e)
{
    *out = NULL;
    if (!c->wecom_corp_id[0] || !c->wecom_agent_id[0] || !c->wecom_secret[0] || !c->wecom_url[0])
        return 0;
    if (!str_starts_with(c->wecom_url, "https://") && !str_starts_with(c->wecom_url, "http://"))
        return nx_fail(e, NX_EINVAL, "wecom_url", "企业微信服务地址应以 https:// 开头");
    int64_t agent = 0;
    if (str_to_i64(c->wecom_agent_id, 1, INT64_MAX, &agent))
        return nx_fail(e, NX_EINVAL, "wecom_agent_id", "企业微信应用 AgentId 应为数字");
    wecom *w = calloc(1, sizeof *w);
    if (!w)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    size_t n = strlen(c->wecom_url);
    snprintf(w->base, sizeof w->base, "%s%s", c->wecom_url, n && c->wecom_url[n - 1] == '/' ? "" : "/");
    str_copy(w->corp, c->wecom_corp_id, sizeof w->corp);
    str_copy(w->secret, c->wecom_secret, sizeof w->secret);
    w->agent = (long long)agent;
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return 0;
}

void wecom_free(wecom *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    sodium_memzero(w, sizeof *w);
    free(w);
}

/* The JSON answer of a call, or NULL with the error (not JSON: NX_EIO, or NX_EBUSY for 429/5xx). */
static json_t *call(const char *method, const char *url, const char *body, nx_err *e, int *rc)
{
    static const char *const headers[] = {"Content-Type: application/json; charset=utf-8", NULL};
    strbuf a;
    strbuf_init(&a, ANSWER_MAX + 1);
    long status = 0;
    json_t *o = NULL;
    *rc = outbound_request(method, url, headers, body, body ? strlen(body) : 0, 10000L, ANSWER_MAX, &a, &status, e);
    if (*rc == 0) {
        o = a.data ? json_loadb(a.data, a.len, 0, NULL) : NULL;
        if (!json_is_object(o) || !json_is_integer(json_object_get(o, "errcode"))) {
            json_decref(o);
            o = NULL;
            *rc = status == 429 || status >= 500
                      ? nx_fail(e, NX_EBUSY, "", "企业微信应答 HTTP %ld，且不是 JSON", status)
                      : nx_fail(e, NX_EIO, "", "企业微信应答不是约定的 JSON 格式");
        }
    }
    strbuf_cleanup(&a);
    return o;
}

static bool busy_code(json_int_t c)
{
    return c == 45009 || c == 45033 || c == -1;
}

/* A token valid now into tok (under the lock), fetched when there is none or it ran out. */
static int token(wecom *w, char *tok, size_t cap, nx_err *e)
{
    pthread_mutex_lock(&w->lock);
    int64_t now = clock_now_ms();
    int rc = 0;
    if (!w->token[0] || now >= w->token_until) {
        char *corp = curl_easy_escape(NULL, w->corp, 0), *sec = curl_easy_escape(NULL, w->secret, 0);
        char url[1024];
        int n = corp && sec ? snprintf(url, sizeof url, "%scgi-bin/gettoken?corpid=%s&corpsecret=%s", w->base, corp, sec)
                            : -1;
        if (sec)
            sodium_memzero(sec, strlen(sec));
        curl_free(corp);
        curl_free(sec);
        json_t *o = NULL;
        if (n < 0 || (size_t)n >= sizeof url)
            rc = nx_fail(e, NX_EINVAL, "", "企业微信配置过长");
        else
            o = call("GET", url, NULL, e, &rc);
        sodium_memzero(url, sizeof url);
        if (o) {
            json_int_t code = json_integer_value(json_object_get(o, "errcode"));
            const char *t = json_string_value(json_object_get(o, "access_token"));
            json_int_t ttl = json_integer_value(json_object_get(o, "expires_in"));
            if (code == 0 && t && strlen(t) < sizeof w->token) {
                str_copy(w->token, t, sizeof w->token);
                w->token_until = now + (ttl > 360 ? ttl - 300 : 60) * 1000;
            } else if (busy_code(code)) {
                rc = nx_fail(e, NX_EBUSY, "", "企业微信限流（%lld），稍后重试", (long long)code);
            } else {
                rc = nx_fail(e, NX_EINVAL, "", "企业微信拒绝发放 access_token（%lld）", (long long)code);
            }
            json_decref(o);
        }
    }
    if (rc == 0)
        str_copy(tok, w->token, cap);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

/* Forget tok if it is still the cached one (another thread may have replaced it already). */
static void drop(wecom *w, const char *tok)
{
    pthread_mutex_lock(&w->lock);
    if (strcmp(w->token, tok) == 0) {
        sodium_memzero(w->token, sizeof w->token);
        w->token_until = 0;
    }
    pthread_mutex_unlock(&w->lock);
}

int wecom_send(wecom *w, const char *user_id, const char *text, char ref[SMS_REF_MAX], nx_err *e)
{
    ref[0] = '\0';
    json_t *msg = json_pack("{s:s, s:s, s:I, s:{s:s}}", "touser", user_id, "msgtype", "text", "agentid",
                            (json_int_t)w->agent, "text", "content", text);
    char *body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!body)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    int rc = 0;
    char tok[600], url[1024];
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((rc = token(w, tok, sizeof tok, e)))
            break;
        char *t = curl_easy_escape(NULL, tok, 0);
        int n = t ? snprintf(url, sizeof url, "%scgi-bin/message/send?access_token=%s", w->base, t) : -1;
        curl_free(t);
        if (n < 0 || (size_t)n >= sizeof url) {
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
            break;
        }
        json_t *o = call("POST", url, body, e, &rc);
        sodium_memzero(url, sizeof url);
        if (!o)
            break;
        json_int_t code = json_integer_value(json_object_get(o, "errcode"));
        const char *invalid = json_string_value(json_object_get(o, "invaliduser"));
        if (code == 0 && invalid && *invalid) {
            rc = nx_fail(e, NX_EINVAL, "", "企业微信成员不存在或不在应用可见范围（invaliduser）");
        } else if (code == 0) {
            const char *id = json_string_value(json_object_get(o, "msgid"));
            str_copy(ref, id ? id : "", SMS_REF_MAX);
        } else if ((code == 40014 || code == 42001 || code == 40001) && attempt == 0) {
            drop(w, tok); /* expired or invalid: fetch a fresh token and send once more */
            json_decref(o);
            continue;
        } else if (busy_code(code)) {
            rc = nx_fail(e, NX_EBUSY, "", "企业微信限流（%lld），稍后重试", (long long)code);
        } else {
            rc = nx_fail(e, NX_EINVAL, "", "企业微信拒绝发送（%lld）", (long long)code);
        }
        json_decref(o);
        break;
    }
    sodium_memzero(tok, sizeof tok);
    free(body);
    return rc;
}
