/* webhook.h — messages to group robots over HTTP: WeCom (企业微信), DingTalk (钉钉) and generic JSON.
 *
 * Two halves. webhook_body builds the exact JSON a receiver expects (pure). webhook_post sends it
 * with outbound_request: POST, Content-Type application/json, through the outbound gate (outbound.h: https,
 * or http to the allow-list only; no internal address; the checked address pinned; no redirects, no
 * proxy), a connect timeout and a total timeout, the answer read up to 4 KiB. WeCom and DingTalk answer 200 with
 * {"errcode": 0, "errmsg": "ok"}; any other errcode (rate limit, a wrong key, a missing keyword) is a
 * failure like a non-2xx status. A DingTalk robot with signing (加签) gets timestamp and sign query
 * parameters: sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))).
 *
 * Thread-safe: each call is its own outbound_request (its own curl handle).
 * webhook_post blocks for up to timeout_ms, so call it from a worker thread (the dispatcher's), never
 * from an HTTP handler or the gateway loop. */
#ifndef NX_NOTIFY_WEBHOOK_H
#define NX_NOTIFY_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

enum webhook_format { WEBHOOK_WECOM = 1, WEBHOOK_DINGTALK, WEBHOOK_JSON };

#define WEBHOOK_URL_MAX    500 /* bytes */
#define WEBHOOK_SECRET_MAX 200 /* bytes */

/* "wecom" → WEBHOOK_WECOM, "dingtalk", "json"; 0 for anything else (NULL too). */
int webhook_format_parse(const char *s);
/* The code of a format ("wecom" …), "" when unknown. */
const char *webhook_format_code(int format);

/* Whether url is an acceptable webhook address: http:// or https://, a host, at most
 * WEBHOOK_URL_MAX bytes, no spaces or control characters. */
bool webhook_url_ok(const char *url);

/* The request body (compact JSON, keys in the order shown, malloc'd; NULL on NX_ENOMEM):
 *   wecom:    {"msgtype":"text","text":{"content":TITLE "\n" TEXT}}
 *   dingtalk: {"msgtype":"text","text":{"content":TITLE "\n" TEXT}}
 *   json:     {"title":TITLE,"text":TEXT,"data":DATA} (data: the object given, or {} when NULL)
 * title and text are UTF-8; data is not stolen. */
char *webhook_body(int format, const char *title, const char *text, json_t *data);

/* The DingTalk signature of timestamp_ms with secret, URL-encoded, into out (at least 100 bytes).
 * 0, or NX_EINVAL when out is too small. Pure. */
int webhook_dingtalk_sign(const char *secret, int64_t timestamp_ms, char *out, size_t n);

/* POST body to url. format decides how the answer is judged (see the essay); secret (may be NULL or
 * "") signs a DingTalk request with now_ms as its timestamp. timeout_ms: the whole exchange (0 =
 * 5000); the connection may take at most min(timeout_ms, 3000). *status (may be NULL) gets the HTTP
 * status (0 when there was no answer). Returns 0 when delivered, NX_EBUSY for a failure worth
 * retrying (no answer, timeout, 5xx, 429, errcode ≠ 0, a name that does not resolve now), NX_EINVAL
 * for a bad URL or a 4xx answer (retrying will not help unless the channel is fixed), NX_EPERM when
 * the outbound gate refuses the target (an internal address, or plain http off the allow-list: no
 * request is made and e->msg is OUTBOUND_REFUSED_MSG, the same for every refused address). e->msg
 * says why, without the URL. Blocks on DNS and the exchange. */
int webhook_post(int format, const char *url, const char *secret, const char *body, int timeout_ms, int64_t now_ms,
                 long *status, nx_err *e);

#endif
