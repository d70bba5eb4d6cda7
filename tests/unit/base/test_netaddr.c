/* test_netaddr.c — addresses and networks (base/netaddr.h): IPv4 and IPv6 text round-trips, a
 * v4-mapped peer matches an IPv4 network, prefixes match only inside, host bits and bad prefixes are
 * refused, lists parse with mixed separators and fail whole on one bad entry, and the internal-space
 * table says yes to every range a webhook must not reach and no to public addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/netaddr.h"
#include "test.h"

static nx_addr A(const char *s)
{
    nx_addr a;
    memset(&a, 0xee, sizeof a);
    CHECK_INT(netaddr_parse(s, &a), 0);
    return a;
}

static void test_parse_format(void)
{
    char buf[NX_ADDR_TEXT];
    nx_addr a = A("192.0.2.7");
    CHECK(netaddr_is_v4(&a));
    netaddr_format(&a, buf, sizeof buf);
    CHECK_STR(buf, "192.0.2.7");
    a = A("2001:DB8:0:0:0:0:0:1");
    CHECK(!netaddr_is_v4(&a));
    netaddr_format(&a, buf, sizeof buf);
    CHECK_STR(buf, "2001:db8::1");
    nx_addr m = A("::ffff:10.1.2.3"), v = A("10.1.2.3");
    CHECK(netaddr_equal(&m, &v));
    nx_addr x;
    CHECK_INT(netaddr_parse("", &x), NX_EINVAL);
    CHECK_INT(netaddr_parse("1.2.3", &x), NX_EINVAL);
    CHECK_INT(netaddr_parse("1.2.3.4:80", &x), NX_EINVAL);
    CHECK_INT(netaddr_parse("[::1]", &x), NX_EINVAL);
    CHECK_INT(netaddr_parse("256.1.1.1", &x), NX_EINVAL);
    CHECK_INT(netaddr_parse(NULL, &x), NX_EINVAL);
}

static void test_sockaddr(void)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "203.0.113.9", &s4.sin_addr);
    nx_addr a;
    CHECK_INT(netaddr_from_sockaddr((struct sockaddr *)&s4, &a), 0);
    nx_addr want = A("203.0.113.9");
    CHECK(netaddr_equal(&a, &want));
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:203.0.113.9", &s6.sin6_addr);
    CHECK_INT(netaddr_from_sockaddr((struct sockaddr *)&s6, &a), 0);
    CHECK(netaddr_equal(&a, &want));
    struct sockaddr un = {.sa_family = AF_UNIX};
    CHECK_INT(netaddr_from_sockaddr(&un, &a), NX_EINVAL);
}

static void test_cidr(void)
{
    nx_cidr c;
    nx_err e;
    CHECK_INT(cidr_parse("10.0.0.0/8", &c, &e), 0);
    nx_addr in = A("10.255.1.2"), out = A("11.0.0.1"), mapped = A("::ffff:10.0.0.1");
    CHECK(cidr_has(&c, &in));
    CHECK(!cidr_has(&c, &out));
    CHECK(cidr_has(&c, &mapped));
    CHECK_INT(cidr_parse("172.16.0.0/12", &c, &e), 0);
    nx_addr a = A("172.31.255.255"), b = A("172.32.0.0");
    CHECK(cidr_has(&c, &a));
    CHECK(!cidr_has(&c, &b));
    CHECK_INT(cidr_parse("127.0.0.1", &c, &e), 0);
    nx_addr lo = A("127.0.0.1"), lo2 = A("127.0.0.2");
    CHECK(cidr_has(&c, &lo));
    CHECK(!cidr_has(&c, &lo2));
    CHECK_INT(cidr_parse("2001:db8::/32", &c, &e), 0);
    nx_addr v6 = A("2001:db8:ffff::1"), v6o = A("2001:db9::1");
    CHECK(cidr_has(&c, &v6));
    CHECK(!cidr_has(&c, &v6o));
    CHECK_INT(cidr_parse("0.0.0.0/0", &c, &e), 0);
    CHECK(cidr_has(&c, &out));
    CHECK(!cidr_has(&c, &v6)); /* an IPv4 /0 is all IPv4, not IPv6 */
    CHECK_INT(cidr_parse("10.0.0.1/8", &c, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "10.0.0.1/8") != NULL);
    CHECK_INT(cidr_parse("10.0.0.0/33", &c, &e), NX_EINVAL);
    CHECK_INT(cidr_parse("10.0.0.0/", &c, &e), NX_EINVAL);
    CHECK_INT(cidr_parse("10.0.0.0/x", &c, &e), NX_EINVAL);
    CHECK_INT(cidr_parse("::/129", &c, &e), NX_EINVAL);
    CHECK_INT(cidr_parse("/8", &c, &e), NX_EINVAL);
    CHECK_INT(cidr_parse("example.com", &c, &e), NX_EINVAL);
}

static void test_list(void)
{
    nx_cidr_list l;
    nx_err e;
    CHECK_INT(cidr_list_parse(" 127.0.0.1, ::1 ,10.0.0.0/8  192.168.1.0/24,", &l, &e), 0);
    CHECK_INT(l.n, 4);
    nx_addr a = A("192.168.1.200"), b = A("::1"), c = A("192.168.2.1");
    CHECK(cidr_list_has(&l, &a));
    CHECK(cidr_list_has(&l, &b));
    CHECK(!cidr_list_has(&l, &c));
    cidr_list_free(&l);
    CHECK(l.v == NULL && l.n == 0);
    CHECK_INT(cidr_list_parse("", &l, &e), 0);
    CHECK_INT(l.n, 0);
    CHECK(!cidr_list_has(&l, &a));
    CHECK_INT(cidr_list_parse("10.0.0.0/8, bogus, ::1", &l, &e), NX_EINVAL);
    CHECK(l.v == NULL && l.n == 0);
    CHECK(strstr(e.msg, "bogus") != NULL);
    /* Many entries grow the list. */
    char big[2000];
    size_t used = 0;
    for (int i = 0; i < 50; i++)
        used += (size_t)snprintf(big + used, sizeof big - used, "10.%d.0.0/16,", i);
    CHECK_INT(cidr_list_parse(big, &l, &e), 0);
    CHECK_INT(l.n, 50);
    nx_addr last = A("10.49.3.4"), past = A("10.50.0.1");
    CHECK(cidr_list_has(&l, &last));
    CHECK(!cidr_list_has(&l, &past));
    cidr_list_free(&l);
}

static void test_internal(void)
{
    static const char *inside[] = {
        "0.0.0.0", "0.1.2.3", "10.1.1.1", "100.64.0.1", "100.100.100.200", "100.127.255.255",
        "127.0.0.1", "127.255.0.1", "169.254.169.254", "172.16.0.1", "172.31.0.1", "192.0.0.8",
        "192.0.2.1", "192.168.0.1", "198.18.0.1", "198.19.255.1", "198.51.100.1", "203.0.113.1",
        "224.0.0.1", "239.1.1.1", "240.0.0.1", "255.255.255.255", "::", "::1", "::127.0.0.1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "2001::1", "2001:db8::1",
        "100::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
        "4000::1",
    };
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        nx_addr a = A(inside[i]);
        if (!netaddr_is_internal(&a))
            fprintf(stderr, "expected internal: %s\n", inside[i]);
        CHECK(netaddr_is_internal(&a));
    }
    static const char *outside[] = {
        "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1",
        "169.253.1.1", "192.169.0.1", "198.20.0.1", "223.255.255.254", "114.114.114.114",
        "2400:3200::1", "2001:4860:4860::8888", "64:ff9b::808:808", "2002:808:808::1",
        "::ffff:8.8.8.8",
    };
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        nx_addr a = A(outside[i]);
        if (netaddr_is_internal(&a))
            fprintf(stderr, "expected public: %s\n", outside[i]);
        CHECK(!netaddr_is_internal(&a));
    }
}

int main(void)
{
    TEST_RUN(test_parse_format);
    TEST_RUN(test_sockaddr);
    TEST_RUN(test_cidr);
    TEST_RUN(test_list);
    TEST_RUN(test_internal);
    return TEST_DONE();
}
