/* outbound.c — the gate of outbound requests (see outbound.h).
 *
 * Parsing. The URL goes through curl_url(), the parser curl_easy_perform will use, so the scheme,
 * host and port judged here are the ones curl acts on (curl also normalises numeric IPv4 forms
 * such as 2130706433 or 0x7f.1 to dotted quads). A bracketed IPv6 host loses its brackets; a zone
 * id makes the URL invalid (only link-local addresses have zones, and they are refused anyway).
 *
 * Resolution. "localhost" and its subdomains are loopback without asking anyone (curl answers them
 * so itself). Otherwise getaddrinfo (AF_UNSPEC, SOCK_STREAM) gives every address of the name; each one is
 * judged, not only the first, because curl may fall back to any of them (happy eyeballs). The
 * first OUTBOUND_ADDRS_MAX distinct ones are kept and pinned with CURLOPT_RESOLVE
 * ("host:port:a,b,…"), which makes curl use exactly those instead of resolving again. Names that
 * resolve to more are still checked in full.
 *
 * The open-socket callback sees every address curl is about to connect to, after the pinning; a
 * peer that is internal and not allowed is refused there (CURL_SOCKET_BAD) and flagged, so the
 * caller can record a refusal instead of curl's "could not connect".
 *
 * The allow-list is a process-wide nx_cidr_list behind a read-write lock, replaced whole by
 * outbound_allow_set (start-up, tests). */
#include "notify/outbound.h"

#include "base/log.h"
#include "base/str.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static pthread_rwlock_t allow_lock = PTHREAD_RWLOCK_INITIALIZER;
static nx_cidr_list allow;

int outbound_allow_set(const char *text, nx_err *e)
{
    nx_cidr_list l = {0};
    int rc = cidr_list_parse(text ? text : "", &l, e);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&allow_lock);
    nx_cidr_list old = allow;
    allow = l;
    pthread_rwlock_unlock(&allow_lock);
    cidr_list_free(&old);
    return 0;
}

static bool allowed(const nx_addr *a)
{
    pthread_rwlock_rdlock(&allow_lock);
    bool ok = cidr_list_has(&allow, a);
    pthread_rwlock_unlock(&allow_lock);
    return ok;
}

bool outbound_addr_ok(const nx_addr *a)
{
    return !netaddr_is_internal(a) || allowed(a);
}

static void add_addr(outbound_target *t, const nx_addr *a)
{
    for (size_t i = 0; i < t->naddrs; i++)
        if (netaddr_equal(&t->addrs[i], a))
            return;
    if (t->naddrs < OUTBOUND_ADDRS_MAX)
        t->addrs[t->naddrs++] = *a;
}

/* The test hook: the addresses NX_TEST_RESOLVE_FILE gives for host. 1 when the file names the
 * host (t filled), 0 when there is no file or no line for it, NX_EINVAL for a bad address. */
static int test_resolve(const char *host, outbound_target *t, bool *bad, nx_err *e)
{
    const char *path = getenv("NX_TEST_RESOLVE_FILE");
    if (!path || !path[0])
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *save = NULL;
        char *name = strtok_r(line, " \t\r\n", &save);
        if (!name || name[0] == '#' || strcasecmp(name, host) != 0)
            continue;
        found = 1;
        for (char *w = strtok_r(NULL, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
            nx_addr a;
            if (netaddr_parse(w, &a)) {
                found = nx_fail(e, NX_EINVAL, "url", "测试解析文件中的地址无效");
                break;
            }
            if (!outbound_addr_ok(&a))
                *bad = true;
            add_addr(t, &a);
        }
    }
    fclose(f);
    return found;
}

/* "localhost", "x.localhost", with or without a final dot: curl answers these itself with
 * loopback addresses (RFC 6761), whatever DNS says. */
static bool is_localhost(const char *host)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

/* Resolve t->host into t->addrs; *bad when any address is not allowed. */
static int resolve(outbound_target *t, bool *bad, nx_err *e)
{
    int rc = test_resolve(t->host, t, bad, e);
    if (rc < 0)
        return rc;
    if (rc == 0 && is_localhost(t->host)) {
        nx_addr a;
        const char *loop[] = {"127.0.0.1", "::1"};
        for (int i = 0; i < 2; i++)
            if (netaddr_parse(loop[i], &a) == 0) {
                if (!outbound_addr_ok(&a))
                    *bad = true;
                add_addr(t, &a);
            }
    } else if (rc == 0) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
        int g = getaddrinfo(t->host, NULL, &hints, &res);
        if (g != 0)
            return nx_fail(e, NX_EBUSY, "url", "无法解析目标地址的主机名");
        for (struct addrinfo *p = res; p; p = p->ai_next) {
            nx_addr a;
            if (netaddr_from_sockaddr(p->ai_addr, &a))
                continue;
            if (!outbound_addr_ok(&a))
                *bad = true;
            add_addr(t, &a);
        }
        freeaddrinfo(res);
    }
    if (t->naddrs == 0)
        return nx_fail(e, NX_EBUSY, "url", "无法解析目标地址的主机名");
    return 0;
}

/* Fill scheme, host and port of t from url with curl's parser. */
static int parse(const char *url, outbound_target *t, nx_err *e)
{
    int rc = 0;
    char *scheme = NULL, *host = NULL, *port = NULL, *zone = NULL;
    CURLU *u = curl_url();
    if (!u)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rc = nx_fail(e, NX_EINVAL, "url", "目标地址无效");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK && zone && zone[0]) {
        rc = nx_fail(e, NX_EINVAL, "url", "目标地址无效（不支持 IPv6 区域标识）");
        goto done;
    }
    if (strcmp(scheme, "https") == 0)
        t->https = true;
    else if (strcmp(scheme, "http") != 0) {
        rc = nx_fail(e, NX_EINVAL, "url", "目标地址应以 http:// 或 https:// 开头");
        goto done;
    }
    size_t n = strlen(host);
    const char *h = host;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        h = host + 1;
        n -= 2;
    }
    int64_t p = 0;
    if (n == 0 || n >= sizeof t->host || str_to_i64(port, 1, 65535, &p)) {
        rc = nx_fail(e, NX_EINVAL, "url", "目标地址无效");
        goto done;
    }
    memcpy(t->host, h, n);
    t->host[n] = '\0';
    t->port = (int)p;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}

int outbound_check(const char *url, outbound_target *t, nx_err *e)
{
    memset(t, 0, sizeof *t);
    if (!url)
        return nx_fail(e, NX_EINVAL, "url", "目标地址无效");
    int rc = parse(url, t, e);
    if (rc)
        return rc;
    bool bad = false;
    nx_addr lit;
    if (netaddr_parse(t->host, &lit) == 0) {
        t->literal = true;
        bad = !outbound_addr_ok(&lit);
        add_addr(t, &lit);
    } else if ((rc = resolve(t, &bad, e)) != 0) {
        return rc;
    }
    if (bad)
        return nx_fail(e, NX_EPERM, "url",
                       "目标地址指向内部网络（回环、内网、链路本地、运营商级 NAT 等），已拒绝；"
                       "确需访问的内网地址请由管理员加入配置项 outbound_allow");
    if (!t->https) {
        for (size_t i = 0; i < t->naddrs; i++)
            if (!allowed(&t->addrs[i]))
                return nx_fail(e, NX_EPERM, "url",
                               "目标地址须使用 https://（仅配置项 outbound_allow 放行的内网地址可用 http://）");
    }
    return 0;
}

static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *sa)
{
    bool *refused = ctx;
    nx_addr a;
    if (purpose != CURLSOCKTYPE_IPCXN || netaddr_from_sockaddr(&sa->addr, &a) != 0 || !outbound_addr_ok(&a)) {
        *refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(sa->family, sa->socktype, sa->protocol);
}

int outbound_prepare(CURL *c, const outbound_target *t, struct curl_slist **pin, bool *refused)
{
    *pin = NULL;
    *refused = false;
    if (!t->literal) {
        strbuf b;
        strbuf_init(&b, 4096);
        int rc = strbuf_printf(&b, "%s:%d:", t->host, t->port);
        for (size_t i = 0; rc == 0 && i < t->naddrs; i++) {
            char text[NX_ADDR_TEXT];
            netaddr_format(&t->addrs[i], text, sizeof text);
            rc = strbuf_printf(&b, netaddr_is_v4(&t->addrs[i]) ? "%s%s" : "%s[%s]", i ? "," : "", text);
        }
        if (rc == 0)
            *pin = curl_slist_append(NULL, b.data);
        strbuf_cleanup(&b);
        if (!*pin)
            return NX_ENOMEM;
        curl_easy_setopt(c, CURLOPT_RESOLVE, *pin);
    }
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, refused);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    return 0;
}

/* ---- one whole request ---- */

typedef struct sink {
    strbuf *b;
    size_t cap;
} sink;

static size_t on_answer(char *d, size_t size, size_t nmemb, void *ctx)
{
    sink *k = ctx;
    size_t n = size * nmemb;
    if (k->b->len < k->cap)
        strbuf_append(k->b, d, n < k->cap - k->b->len ? n : k->cap - k->b->len);
    return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int outbound_request(const char *method, const char *url, const char *const *headers, const char *body,
                     size_t body_len, long timeout_ms, size_t cap, strbuf *answer, long *status, nx_err *e)
{
    *status = 0;
    pthread_once(&curl_once, curl_setup);
    int rc = 0;
    outbound_target *t = malloc(sizeof *t);
    CURL *c = NULL;
    struct curl_slist *hdr = NULL, *pin = NULL;
    bool refused = false;
    if (!t)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    nx_err oe = {0};
    if ((rc = outbound_check(url, t, &oe))) {
        rc = rc == NX_EPERM ? nx_fail(e, NX_EPERM, "", "%s", OUTBOUND_REFUSED_MSG)
             : rc == NX_EINVAL ? nx_fail(e, NX_EINVAL, "url", "服务地址无效")
                                : nx_fail(e, NX_EBUSY, "", "无法连接服务商（地址解析失败）");
        goto done;
    }
    c = curl_easy_init();
    if (!c || outbound_prepare(c, t, &pin, &refused)) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    for (int i = 0; headers && headers[i]; i++) {
        struct curl_slist *h = curl_slist_append(hdr, headers[i]);
        if (!h) {
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
            goto done;
        }
        hdr = h;
    }
    sink k = {.b = answer, .cap = cap};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (hdr)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? body_len : 0));
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 3000 ? timeout_ms : 3000L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "nuanxin/1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    CURLcode cc = curl_easy_perform(c);
    if (refused) {
        rc = nx_fail(e, NX_EPERM, "", "%s", OUTBOUND_REFUSED_MSG);
        goto done;
    }
    if (cc != CURLE_OK) {
        rc = nx_fail(e, NX_EBUSY, "", "无法连接服务商：%s", curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
done:
    curl_slist_free_all(hdr);
    curl_slist_free_all(pin);
    if (c)
        curl_easy_cleanup(c);
    free(t);
    return rc;
}
