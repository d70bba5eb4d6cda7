/* outbound.h — the one gate every outbound request of nuanxin goes through (group-robot webhooks,
 * the SMS, voice and WeCom providers): requests that cannot reach inside.
 *
 * A URL is parsed by libcurl's own URL parser (so the host checked is the host curl would use),
 * its host resolved (all of its addresses), and refused when ANY address is internal in the sense
 * of netaddr_is_internal (loopback, private, link-local such as 169.254.169.254, CGNAT, ULA, NAT64
 * …) unless it lies in the process's allow-list (configuration key outbound_allow). Plain http is
 * refused unless every address is on the allow-list. The checked addresses are then pinned on the
 * curl handle (CURLOPT_RESOLVE), so a DNS answer that changes between the check and the connection
 * (rebinding) is never used; an open-socket callback checks the peer of every connection again
 * and refuses an internal one (belt and braces: it also covers IP literals); redirects are not
 * followed and no proxy is taken from the environment.
 *
 * Test hook (tests only, never needed in production): when the environment variable
 * NX_TEST_RESOLVE_FILE names a file, each line "name addr [addr …]" in it answers the resolution
 * of that name instead of DNS; the file is read again at every resolution so a test can change an
 * answer while the server runs (DNS rebinding). It can only replace DNS answers: every address it
 * gives is checked like any other.
 *
 * Threads: the allow-list is process-wide, set at start-up (outbound_allow_set) and read under a
 * read-write lock; every other function is reentrant. outbound_check blocks on DNS. */
#ifndef NX_NOTIFY_OUTBOUND_H
#define NX_NOTIFY_OUTBOUND_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/netaddr.h"
#include "base/str.h"

#define OUTBOUND_ADDRS_MAX 16  /* addresses of one host kept (and pinned) */
#define OUTBOUND_HOST_MAX  256 /* bytes of a host name */

/* What a send-time refusal records: the same words whatever the address was, so that whoever
 * configures a channel learns nothing about the inside from its delivery records. */
#define OUTBOUND_REFUSED_MSG "已拒绝：内部地址（refused: internal address）"

/* A checked target: its host as curl sees it (without IPv6 brackets), port, scheme, and the
 * addresses it resolved to, all of them allowed. */
typedef struct outbound_target {
    char host[OUTBOUND_HOST_MAX];
    int port;
    bool https;
    bool literal; /* the host is an IP address */
    nx_addr addrs[OUTBOUND_ADDRS_MAX];
    size_t naddrs;
} outbound_target;

/* Replace the process's allow-list with the networks of text (netaddr list syntax; "" = none).
 * 0, or NX_EINVAL (the list is left as it was; e names the bad entry), NX_ENOMEM. */
int outbound_allow_set(const char *text, nx_err *e);

/* Whether a request may connect to a: public, or on the allow-list. */
bool outbound_addr_ok(const nx_addr *a);

/* Parse url (http or https), resolve its host and check every address. Fills *t.
 * Returns 0; NX_EINVAL for a URL that is not http(s) with a host; NX_EPERM when an address is
 * internal and not allowed, or plain http goes to a target not wholly on the allow-list (e->msg
 * says which rule, never which address); NX_EBUSY when the name does not resolve (now). e->field
 * is "url". Blocks on DNS. */
int outbound_check(const char *url, outbound_target *t, nx_err *e);

/* Prepare the curl handle c to request t's URL safely: pin t's addresses
 * (CURLOPT_RESOLVE; *pin receives the list to free with curl_slist_free_all after the transfer,
 * NULL for an IP literal), install the open-socket check (*refused, which must outlive the
 * transfer, is set when it refuses a peer), no redirects, no proxy, http and https only.
 * 0 or NX_ENOMEM. */
int outbound_prepare(CURL *c, const outbound_target *t, struct curl_slist **pin, bool *refused);

/* One whole request through the gate, for a provider's API (SMS, voice, WeCom): check url
 * (outbound_check), prepare the handle (outbound_prepare), send method ("GET" or "POST") with the
 * extra header lines headers ("Name: value", NULL-terminated; may be NULL) and, for a POST, body
 * (body_len bytes; the content type is one of the headers), and collect at most cap bytes of the
 * answer into *answer (initialised by the caller; the rest is read and dropped). *status gets the
 * HTTP status. Timeouts: min(timeout_ms, 3 s) to connect, timeout_ms in all. Returns 0 (whatever the status);
 * NX_EPERM when the target is internal (e->msg OUTBOUND_REFUSED_MSG, whichever address it was);
 * NX_EBUSY when the host does not resolve or cannot be reached in time (e->msg names curl's
 * reason, never the address); NX_ENOMEM. Blocks. Thread-safe. */
int outbound_request(const char *method, const char *url, const char *const *headers, const char *body,
                     size_t body_len, long timeout_ms, size_t cap, strbuf *answer, long *status, nx_err *e);

#endif
