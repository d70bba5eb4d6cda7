/* test_outbound.c — the outbound gate (notify/outbound.h) and webhook_post through it: internal
 * targets refused, written as IP literals in every spelling curl accepts, as names that resolve
 * there (localhost, and names answered by the NX_TEST_RESOLVE_FILE hook), and when only one of a
 * name's addresses is internal; plain http refused unless allow-listed; a name that changes its
 * answer after the channel was saved (rebinding) refused at send time with the fixed refusal words
 * and without a request; the checked address is the one connected to (a name unknown to DNS,
 * pinned to a local receiver, reaches it); the open-socket check refuses an internal peer even when
 * the caller skipped the check; no proxy is taken from the environment. A tiny HTTP receiver on a
 * loopback port counts requests. */
#include "notify/outbound.h"
#include "notify/webhook.h"

#include "base/err.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char resolve_file[] = "/tmp/nx-test-resolve-XXXXXX";

static void answers(const char *text)
{
    FILE *f = fopen(resolve_file, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* ---- a receiver that answers 200 {"errcode":0} to every request and counts them ---- */

static int recv_fd = -1, recv_port;
static atomic_int recv_count;

static void *receiver(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(recv_fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[8192];
        ssize_t n = recv(c, buf, sizeof buf, 0); /* the requests here are small: one read holds them */
        if (n > 0) {
            atomic_fetch_add(&recv_count, 1);
            const char *a = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n"
                            "Connection: close\r\n\r\n{\"errcode\":0,\"errmsg\":\"ok\"}";
            ssize_t w = send(c, a, strlen(a), 0);
            (void)w;
        }
        close(c);
    }
}

static void start_receiver(void)
{
    recv_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(bind(recv_fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(recv_fd, 16) == 0);
    CHECK(getsockname(recv_fd, (struct sockaddr *)&sa, &len) == 0);
    recv_port = ntohs(sa.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, receiver, NULL);
    pthread_detach(t);
}

/* ---- the checks ---- */

static int check(const char *url)
{
    outbound_target t;
    nx_err e = {0};
    return outbound_check(url, &t, &e);
}

static void test_internal_refused(void)
{
    nx_err e = {0};
    CHECK_INT(outbound_allow_set("", &e), 0);
    const char *refused[] = {
        "https://127.0.0.1/x", "http://127.0.0.1:8080/x", "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/latest/meta-data", "https://10.1.2.3/hook", "https://192.168.1.1/",
        "https://172.16.0.1/", "https://[::1]:8443/", "https://[fd00::1]/", "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/", "https://0.0.0.0/",
        "https://2130706433/", "https://0x7f000001/", "https://0177.0.0.1/", "https://127.1/",
        "https://localhost/", "https://LOCALHOST./", "https://api.localhost/", "https://meta.test/", "https://mixed.test/",
        "https://loop6.test/"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int rc = check(refused[i]);
        if (rc != NX_EPERM)
            fprintf(stderr, "not refused: %s (%d)\n", refused[i], rc);
        CHECK_INT(rc, NX_EPERM);
    }
    outbound_target t;
    CHECK_INT(outbound_check("https://pub.test:8443/hook?key=k", &t, &e), 0);
    CHECK_STR(t.host, "pub.test");
    CHECK_INT(t.port, 8443);
    CHECK_INT(t.naddrs, 2);
    CHECK(t.https && !t.literal);
    CHECK_INT(outbound_check("https://8.8.8.8/x", &t, &e), 0);
    CHECK(t.literal);
    CHECK_INT(t.port, 443);
    /* plain http to the internet: refused, with the rule named */
    CHECK_INT(outbound_check("http://pub.test/hook", &t, &e), NX_EPERM);
    CHECK_STR(e.field, "url");
    CHECK(strstr(e.msg, "https://") != NULL);
    CHECK_INT(outbound_check("ftp://pub.test/x", &t, &e), NX_EINVAL);
    CHECK_INT(outbound_check("https://", &t, &e), NX_EINVAL);
    CHECK_INT(outbound_check("https://nx-no-such-name.invalid/", &t, &e), NX_EBUSY);
}

static void test_allow_list(void)
{
    nx_err e = {0};
    CHECK_INT(outbound_allow_set("127.0.0.1, 10.2.0.0/16", &e), 0);
    CHECK_INT(check("http://127.0.0.1:1/x"), 0);
    CHECK_INT(check("https://10.2.3.4/x"), 0);
    CHECK_INT(check("http://intranet.test/x"), 0); /* resolves into 10.2/16 only */
    CHECK_INT(check("https://127.0.0.2/x"), NX_EPERM);
    CHECK_INT(check("https://169.254.169.254/"), NX_EPERM);
    CHECK_INT(check("http://halfway.test/x"), NX_EPERM); /* 10.2.0.9 and 8.8.8.8: http needs all allowed */
    CHECK_INT(check("https://halfway.test/x"), 0);
    CHECK_INT(outbound_allow_set("10.0.0.1/8", &e), NX_EINVAL);
    CHECK_INT(check("http://127.0.0.1:1/x"), 0); /* a refused list leaves the old one */
    CHECK_INT(outbound_allow_set("", &e), 0);
    CHECK_INT(check("http://127.0.0.1:1/x"), NX_EPERM);
}

static void test_send_time(void)
{
    nx_err e = {0};
    long status = -1;
    CHECK_INT(outbound_allow_set("", &e), 0);
    /* the literal and the metadata name: refused at once, the same words, no request */
    int before = atomic_load(&recv_count);
    char url[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", recv_port);
    CHECK_INT(webhook_post(WEBHOOK_WECOM, url, NULL, "{}", 2000, 0, &status, &e), NX_EPERM);
    CHECK_STR(e.msg, OUTBOUND_REFUSED_MSG);
    CHECK_INT(status, 0);
    CHECK_INT(webhook_post(WEBHOOK_WECOM, "https://169.254.169.254/x", NULL, "{}", 2000, 0, &status, &e), NX_EPERM);
    CHECK_STR(e.msg, OUTBOUND_REFUSED_MSG);
    CHECK_INT(webhook_post(WEBHOOK_WECOM, "https://meta.test/x", NULL, "{}", 2000, 0, &status, &e), NX_EPERM);
    CHECK_STR(e.msg, OUTBOUND_REFUSED_MSG);
    CHECK_INT(webhook_post(WEBHOOK_WECOM, "https://localhost/x", NULL, "{}", 2000, 0, &status, &e), NX_EPERM);
    CHECK_STR(e.msg, OUTBOUND_REFUSED_MSG);
    /* rebinding: a name that was public when saved points inside when the message leaves */
    answers("rebind.test 8.8.8.8\n");
    CHECK_INT(check("https://rebind.test/x"), 0);
    answers("rebind.test 127.0.0.1\n");
    snprintf(url, sizeof url, "https://rebind.test:%d/x", recv_port);
    CHECK_INT(webhook_post(WEBHOOK_WECOM, url, NULL, "{}", 2000, 0, &status, &e), NX_EPERM);
    CHECK_STR(e.msg, OUTBOUND_REFUSED_MSG);
    CHECK_INT(atomic_load(&recv_count), before);
}

static void test_pinned(void)
{
    nx_err e = {0};
    long status = -1;
    CHECK_INT(outbound_allow_set("127.0.0.1", &e), 0);
    /* pin.test exists only in the test answers: reaching the receiver proves curl connected to
     * the address that was checked, not to one it resolved itself */
    answers("pin.test 127.0.0.1\n");
    char url[200];
    snprintf(url, sizeof url, "http://pin.test:%d/hook", recv_port);
    int before = atomic_load(&recv_count);
    /* a proxy from the environment is not used (this one does not exist) */
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    int rc = webhook_post(WEBHOOK_WECOM, url, NULL, "{}", 3000, 0, &status, &e);
    if (rc)
        fprintf(stderr, "pinned post: %s\n", e.msg);
    CHECK_INT(rc, 0);
    CHECK_INT(status, 200);
    CHECK_INT(atomic_load(&recv_count), before + 1);
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");

    /* the open-socket check: a target that skipped outbound_check is still refused at connect */
    CHECK_INT(outbound_allow_set("", &e), 0);
    outbound_target t = {.port = recv_port, .naddrs = 1};
    snprintf(t.host, sizeof t.host, "sneaky.test");
    CHECK_INT(netaddr_parse("127.0.0.1", &t.addrs[0]), 0);
    CURL *c = curl_easy_init();
    struct curl_slist *pin = NULL;
    bool refused = false;
    CHECK_INT(outbound_prepare(c, &t, &pin, &refused), 0);
    snprintf(url, sizeof url, "http://sneaky.test:%d/x", recv_port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    CHECK(curl_easy_perform(c) != CURLE_OK);
    CHECK(refused);
    curl_slist_free_all(pin);
    curl_easy_cleanup(c);
    CHECK_INT(atomic_load(&recv_count), before + 1);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int fd = mkstemp(resolve_file);
    if (fd < 0)
        return 1;
    close(fd);
    setenv("NX_TEST_RESOLVE_FILE", resolve_file, 1);
    answers("meta.test 169.254.169.254\nmixed.test 8.8.8.8 10.0.0.1\nloop6.test 2001:4860::8888 ::1\n"
            "pub.test 8.8.8.8 2001:4860:4860::8888\nintranet.test 10.2.0.7\nhalfway.test 10.2.0.9 8.8.8.8\n");
    start_receiver();
    TEST_RUN(test_internal_refused);
    TEST_RUN(test_allow_list);
    TEST_RUN(test_send_time);
    TEST_RUN(test_pinned);
    unlink(resolve_file);
    return TEST_DONE();
}
