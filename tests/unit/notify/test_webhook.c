/* test_webhook.c — the pure half of notify/webhook.h: formats, URL checks, the exact bodies of the
 * WeCom, DingTalk and generic JSON messages, the DingTalk signature (expected value computed with
 * Python's hmac/base64/urllib, independently of this code), and a post to a closed port failing as
 * retryable without blocking past its timeout. */
#include "notify/webhook.h"

#include "notify/outbound.h"

#include "base/err.h"
#include "test.h"

#include <stdlib.h>

static void test_formats(void)
{
    CHECK_INT(webhook_format_parse("wecom"), WEBHOOK_WECOM);
    CHECK_INT(webhook_format_parse("dingtalk"), WEBHOOK_DINGTALK);
    CHECK_INT(webhook_format_parse("json"), WEBHOOK_JSON);
    CHECK_INT(webhook_format_parse("WeCom"), 0);
    CHECK_INT(webhook_format_parse(""), 0);
    CHECK_INT(webhook_format_parse(NULL), 0);
    CHECK_STR(webhook_format_code(WEBHOOK_DINGTALK), "dingtalk");
    CHECK_STR(webhook_format_code(99), "");
}

static void test_urls(void)
{
    CHECK(webhook_url_ok("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"));
    CHECK(webhook_url_ok("http://127.0.0.1:8080/x"));
    CHECK(!webhook_url_ok("ftp://example.com/x"));
    CHECK(!webhook_url_ok("https://"));
    CHECK(!webhook_url_ok("https:///path"));
    CHECK(!webhook_url_ok("http://a b/"));
    CHECK(!webhook_url_ok("http://a\n/"));
    CHECK(!webhook_url_ok(NULL));
    char long_url[WEBHOOK_URL_MAX + 10];
    memset(long_url, 'a', sizeof long_url);
    memcpy(long_url, "http://", 7);
    long_url[sizeof long_url - 1] = '\0';
    CHECK(!webhook_url_ok(long_url));
}

static void test_bodies(void)
{
    char *b = webhook_body(WEBHOOK_WECOM, "【暖心报警】跌倒报警", "居民：王*国\n请处理：网格员", NULL);
    CHECK_STR(b, "{\"msgtype\":\"text\",\"text\":{\"content\":\"【暖心报警】跌倒报警\\n居民：王*国\\n请处理：网格员\"}}");
    free(b);
    b = webhook_body(WEBHOOK_DINGTALK, "T", "a\"b", NULL);
    CHECK_STR(b, "{\"msgtype\":\"text\",\"text\":{\"content\":\"T\\na\\\"b\"}}");
    free(b);
    json_t *data = json_pack("{s:i, s:s}", "alert_id", 7, "act", "family");
    b = webhook_body(WEBHOOK_JSON, "T", "x", data);
    CHECK_STR(b, "{\"title\":\"T\",\"text\":\"x\",\"data\":{\"alert_id\":7,\"act\":\"family\"}}");
    free(b);
    CHECK_INT(data->refcount, 1); /* not stolen */
    json_decref(data);
    b = webhook_body(WEBHOOK_JSON, "T", "x", NULL);
    CHECK_STR(b, "{\"title\":\"T\",\"text\":\"x\",\"data\":{}}");
    free(b);
    CHECK(webhook_body(0, "T", "x", NULL) == NULL);
}

static void test_sign(void)
{
    char out[128];
    CHECK_INT(webhook_dingtalk_sign("SEC0123456789abcdef", 1700000000000LL, out, sizeof out), 0);
    CHECK_STR(out, "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D");
    CHECK_INT(webhook_dingtalk_sign("SEC0123456789abcdef", 1700000000000LL, out, 20), NX_EINVAL);
}

static void test_post_failures(void)
{
    nx_err e;
    long status = -1;
    /* port 1 on loopback: nothing listens, the connection is refused at once (loopback is reached
     * only because this test puts it on the outbound allow-list) */
    CHECK_INT(outbound_allow_set("127.0.0.1", &e), 0);
    int rc = webhook_post(WEBHOOK_WECOM, "http://127.0.0.1:1/x", NULL, "{}", 2000, 0, &status, &e);
    CHECK_INT(rc, NX_EBUSY);
    CHECK_INT(status, 0);
    rc = webhook_post(WEBHOOK_WECOM, "file:///etc/passwd", NULL, "{}", 2000, 0, &status, &e);
    CHECK_INT(rc, NX_EINVAL);
    CHECK_STR(e.field, "url");
    CHECK_INT(outbound_allow_set("", &e), 0);
}

int main(void)
{
    TEST_RUN(test_formats);
    TEST_RUN(test_urls);
    TEST_RUN(test_bodies);
    TEST_RUN(test_sign);
    TEST_RUN(test_post_failures);
    return TEST_DONE();
}
