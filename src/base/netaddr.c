/* netaddr.c — addresses and networks (netaddr.h).
 *
 * Everything works on one 16-byte form so that a list can mix IPv4 and IPv6 networks and a
 * v4-mapped peer (what a dual-stack socket reports for an IPv4 client) matches an IPv4 network.
 * inet_pton/inet_ntop do the text; the rest is prefix comparison. The internal-address table is the
 * IANA special-purpose registries (RFC 6890 and its updates), read as "anything a webhook should
 * never reach"; addresses that embed an IPv4 address (NAT64, 6to4, IPv4-compatible) are judged by
 * that address, so that 64:ff9b::7f00:1 is loopback too. */
#include "base/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/str.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool netaddr_is_v4(const nx_addr *a)
{
    return memcmp(a->b, v4_prefix, 12) == 0;
}

bool netaddr_equal(const nx_addr *a, const nx_addr *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

static void set_v4(nx_addr *out, const uint8_t v4[4])
{
    memcpy(out->b, v4_prefix, 12);
    memcpy(out->b + 12, v4, 4);
}

int netaddr_parse(const char *text, nx_addr *out)
{
    uint8_t v4[4];
    if (!text || !*text)
        return NX_EINVAL;
    if (inet_pton(AF_INET, text, v4) == 1) {
        set_v4(out, v4);
        return NX_OK;
    }
    if (inet_pton(AF_INET6, text, out->b) == 1)
        return NX_OK;
    return NX_EINVAL;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, nx_addr *out)
{
    if (!sa)
        return NX_EINVAL;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        set_v4(out, (const uint8_t *)&s->sin_addr);
        return NX_OK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        memcpy(out->b, &s->sin6_addr, 16);
        return NX_OK;
    }
    return NX_EINVAL;
}

void netaddr_format(const nx_addr *a, char *buf, size_t n)
{
    char tmp[NX_ADDR_TEXT];
    const char *s = netaddr_is_v4(a) ? inet_ntop(AF_INET, a->b + 12, tmp, sizeof tmp)
                                     : inet_ntop(AF_INET6, a->b, tmp, sizeof tmp);
    if (n)
        snprintf(buf, n, "%s", s ? s : "?");
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

bool cidr_has(const nx_cidr *c, const nx_addr *a)
{
    return prefix_match(a->b, c->addr.b, c->bits);
}

int cidr_parse(const char *text, nx_cidr *out, nx_err *e)
{
    char host[NX_ADDR_TEXT + 8];
    const char *slash = text ? strchr(text, '/') : NULL;
    size_t hl = slash ? (size_t)(slash - text) : (text ? strlen(text) : 0);
    if (!text || hl == 0 || hl >= sizeof host)
        return nx_fail(e, NX_EINVAL, "", "网络地址“%.60s”格式不正确", text ? text : "");
    memcpy(host, text, hl);
    host[hl] = '\0';
    nx_addr a;
    if (netaddr_parse(host, &a))
        return nx_fail(e, NX_EINVAL, "", "网络地址“%.60s”格式不正确", text);
    bool v4 = netaddr_is_v4(&a);
    int64_t bits = v4 ? 32 : 128;
    if (slash && str_to_i64(slash + 1, 0, v4 ? 32 : 128, &bits))
        return nx_fail(e, NX_EINVAL, "", "网络地址“%.60s”的前缀长度不正确", text);
    unsigned total = (unsigned)bits + (v4 ? 96 : 0);
    /* No host bits past the prefix. */
    for (unsigned i = total; i < 128; i++)
        if (a.b[i / 8] & (0x80 >> (i % 8)))
            return nx_fail(e, NX_EINVAL, "", "网络地址“%.60s”在前缀之后还有主机位", text);
    out->addr = a;
    out->bits = (uint8_t)total;
    return NX_OK;
}

void cidr_list_free(nx_cidr_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cidr_list_parse(const char *text, nx_cidr_list *out, nx_err *e)
{
    out->v = NULL;
    out->n = 0;
    const char *p = text ? text : "";
    size_t room = 0;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", \t");
        char one[NX_ADDR_TEXT + 8];
        if (len >= sizeof one) {
            cidr_list_free(out);
            return nx_fail(e, NX_EINVAL, "", "网络地址“%.60s”格式不正确", p);
        }
        memcpy(one, p, len);
        one[len] = '\0';
        nx_cidr c;
        if (cidr_parse(one, &c, e)) {
            cidr_list_free(out);
            return NX_EINVAL;
        }
        if (out->n == room) {
            size_t nr = room ? room * 2 : 4;
            nx_cidr *nv = realloc(out->v, nr * sizeof *nv);
            if (!nv) {
                cidr_list_free(out);
                return nx_fail(e, NX_ENOMEM, "", "内存不足");
            }
            out->v = nv;
            room = nr;
        }
        out->v[out->n++] = c;
        p += len;
    }
    return NX_OK;
}

bool cidr_list_has(const nx_cidr_list *l, const nx_addr *a)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (cidr_has(&l->v[i], a))
            return true;
    return false;
}

typedef struct net4 {
    uint8_t a, b, c, d, bits;
} net4;

/* IPv4 space that is not the public internet (RFC 6890 and successors). */
static const net4 internal4[] = {
    {0, 0, 0, 0, 8},       {10, 0, 0, 0, 8},    {100, 64, 0, 0, 10}, {127, 0, 0, 0, 8},
    {169, 254, 0, 0, 16},  {172, 16, 0, 0, 12}, {192, 0, 0, 0, 24},  {192, 0, 2, 0, 24},
    {192, 88, 99, 0, 24},  {192, 168, 0, 0, 16}, {198, 18, 0, 0, 15}, {198, 51, 100, 0, 24},
    {203, 0, 113, 0, 24},  {224, 0, 0, 0, 4},   {240, 0, 0, 0, 4},
};

static bool internal_v4(const uint8_t *v4)
{
    for (size_t i = 0; i < sizeof internal4 / sizeof internal4[0]; i++) {
        uint8_t net[4] = {internal4[i].a, internal4[i].b, internal4[i].c, internal4[i].d};
        if (prefix_match(v4, net, internal4[i].bits))
            return true;
    }
    return false;
}

bool netaddr_is_internal(const nx_addr *a)
{
    const uint8_t *b = a->b;
    static const uint8_t zero[16];
    if (netaddr_is_v4(a))
        return internal_v4(b + 12);
    /* :: and ::1, and IPv4-compatible ::a.b.c.d (deprecated; judged by the IPv4 address). */
    if (memcmp(b, zero, 12) == 0)
        return true;
    /* NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48: judged by the embedded IPv4. */
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, nat64, 12) == 0)
        return internal_v4(b + 12);
    static const uint8_t nat64l[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
    if (memcmp(b, nat64l, 6) == 0)
        return true;
    /* 6to4 2002::/16: the IPv4 address is in bytes 2-5. */
    if (b[0] == 0x20 && b[1] == 0x02)
        return internal_v4(b + 2);
    /* 2001::/23 IETF protocol assignments (Teredo 2001::/32, ORCHID…), 2001:db8::/32 documentation. */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02)
        return true;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return true;
    /* 100::/64 discard-only. */
    static const uint8_t discard[8] = {0x01, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, discard, 8) == 0)
        return true;
    /* fc00::/7 ULA, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast. */
    if ((b[0] & 0xfe) == 0xfc || b[0] == 0xff)
        return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) >= 0x80)
        return true;
    /* Only 2000::/3 is global unicast today. */
    return (b[0] & 0xe0) != 0x20;
}
