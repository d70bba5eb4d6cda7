/* netaddr.h — network addresses as values: one 16-byte form for IPv4 and IPv6 (IPv4 as the
 * v4-mapped ::ffff:a.b.c.d), lists of networks ("10.0.0.0/8, ::1") parsed from configuration, and
 * the one answer to "is this address inside?" that every edge asks: the HTTP edge (trusted proxies,
 * per-address caps), the device gateway (allowed source networks) and outbound requests (no request
 * to loopback, link-local, private, CGNAT or ULA space). */
#ifndef NX_BASE_NETADDR_H
#define NX_BASE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct sockaddr;

/* An address: 16 bytes, network order; IPv4 is stored v4-mapped (::ffff:0:0/96). */
typedef struct nx_addr {
    uint8_t b[16];
} nx_addr;

/* A network: an address and its prefix length in bits over the 16-byte form (an IPv4 /8 is 104). */
typedef struct nx_cidr {
    nx_addr addr;
    uint8_t bits;
} nx_cidr;

/* A list of networks, as parsed from configuration. Zero-initialised is the empty list. */
typedef struct nx_cidr_list {
    nx_cidr *v;
    size_t n;
} nx_cidr_list;

/* Longest text netaddr_format writes, with its NUL (INET6_ADDRSTRLEN). */
#define NX_ADDR_TEXT 46

/* Parse "192.0.2.1" or "2001:db8::1" (no brackets, no port, no zone). 0 or NX_EINVAL. */
int netaddr_parse(const char *text, nx_addr *out);
/* The address of an AF_INET or AF_INET6 socket address. 0, or NX_EINVAL for another family. */
int netaddr_from_sockaddr(const struct sockaddr *sa, nx_addr *out);
/* Write the address as text: dotted IPv4 for v4-mapped addresses, RFC 5952 IPv6 otherwise. */
void netaddr_format(const nx_addr *a, char *buf, size_t n);
/* True for a v4-mapped address. */
bool netaddr_is_v4(const nx_addr *a);
bool netaddr_equal(const nx_addr *a, const nx_addr *b);

/* Parse one network: "10.0.0.0/8", "2001:db8::/32" or a bare address (a host network). The prefix
 * is given as people write it (IPv4 0-32, IPv6 0-128). Host bits past the prefix are refused
 * ("10.0.0.1/8" is a typing mistake). 0 or NX_EINVAL with a Chinese message naming the text. */
int cidr_parse(const char *text, nx_cidr *out, nx_err *e);
bool cidr_has(const nx_cidr *c, const nx_addr *a);

/* Parse a list separated by commas, spaces or both; "" gives the empty list. On failure the list
 * is left empty and e names the bad entry. The list owns its memory: cidr_list_free. */
int cidr_list_parse(const char *text, nx_cidr_list *out, nx_err *e);
bool cidr_list_has(const nx_cidr_list *l, const nx_addr *a);
void cidr_list_free(nx_cidr_list *l);

/* True when the address is not a public unicast address on the internet: unspecified, loopback,
 * "this network" (0/8), RFC 1918 private, CGNAT (100.64/10), link-local (169.254/16, fe80::/10),
 * IETF protocol and documentation ranges, benchmarking (198.18/15), multicast, reserved (240/4),
 * broadcast, ULA (fc00::/7), site-local (fec0::/10), IPv4-compatible and NAT64 (64:ff9b::/96,
 * judged by the IPv4 address it embeds), 6to4 (2002::/16, by its embedded IPv4), Teredo, ORCHID and
 * discard-only space. Outbound requests are refused to all of these. */
bool netaddr_is_internal(const nx_addr *a);

#endif
