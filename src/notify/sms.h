/* sms.h — SMS and voice-notification providers behind one interface: Tencent Cloud SMS (短信,
 * SendSms 2021-01-11) and Tencent Cloud voice messages (语音消息, VMS SendTtsVoice 2020-09-02), both
 * signed with TC3-HMAC-SHA256, or Aliyun SMS (Dysmsapi SendSms) and voice notification (Dyvmsapi
 * SingleCallByTts), signed RPC style with HMAC-SHA1 — each as the provider documents it. A channel
 * uses Tencent when its tencent_* keys are all set, else Aliyun when its aliyun_* keys are.
 *
 * A provider is built from the configuration table (tencent_* or aliyun_* keys; the secret keys are
 * secret entries: dumped redacted, never logged) and sends one text to one phone number. Requests go through
 * notify/outbound.h (the provider's URL checked at every send, its address pinned, https only
 * outside outbound_allow). The phone number is used for the request only: it appears in no log
 * line and no error message. Answers: the provider's JSON — {"Response": {...}} with per-number
 * status for SMS, SendStatus for voice, or {"Response": {"Error": {"Code", "Message"}}}. What became
 * of a message (an SMS's delivery report, an Aliyun call's answered or not) is pulled: sms_receipt.
 * A Tencent call's result cannot be pulled (VMS documents no query): Tencent pushes it to a callback
 * of ours, which modules/messages receives (messages_voice_callback), not this file.
 *
 * Errors of sms_send: 0 (accepted; ref gets the provider's serial number or call id);
 * NX_EBUSY for a throttled or unreachable provider (try later); NX_EIO for an answer that is not
 * JSON or not the documented shape; NX_EINVAL for a refusal (wrong signature, template, number).
 * e->msg says which in Chinese with the provider's code, never the number. All are worth a retry
 * by the caller's policy. Blocks on the network (timeout 10 s). Thread-safe. */
#ifndef NX_NOTIFY_SMS_H
#define NX_NOTIFY_SMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"

#define SMS_REF_MAX 128

enum { SMS_KIND_SMS = 1, SMS_KIND_VOICE = 2 };

typedef struct sms_provider sms_provider;

/* The provider of kind from c, or *out = NULL when its keys are not all set (the channel is then
 * not configured). 0, NX_EINVAL (a URL that is not http(s)), NX_ENOMEM. */
int sms_provider_from_config(const nx_config *c, int kind, sms_provider **out, nx_err *e);
void sms_provider_free(sms_provider *p); /* NULL accepted; wipes the secret */

/* Send text to phone ("13800138000" or "+8613800138000"). See above. */
int sms_send(sms_provider *p, const char *phone, const char *text, char ref[SMS_REF_MAX], nx_err *e);

/* What became of an SMS (its delivery report, pulled from the provider). */
enum { SMS_RECEIPT_PENDING = 0, SMS_RECEIPT_DELIVERED = 1, SMS_RECEIPT_FAILED = 2 };
#define SMS_REASON_MAX 128

/* Whether sms_receipt can ask p what became of its messages: every SMS provider; for voice calls
 * Aliyun only (Tencent's VMS documents no query of a call's result, only a push callback, which
 * messages_voice_callback receives). */
bool sms_pulls_results(const sms_provider *p);

/* Ask p what became of the message ref (the reference sms_send gave) sent to phone at sent_ms. SMS:
 * Tencent's PullSmsSendStatusByPhoneNumber or Aliyun's QuerySendDetails, signed like a send; only a
 * report whose provider id is ref AND whose number is phone counts. A voice call (Aliyun):
 * QueryCallDetailByCallId for the CallId ref; delivered means the call was answered, failed that it
 * was not (busy, not picked up, unreachable …). *state: pending (no report yet), delivered, or
 * failed with the provider's reason (its code or description) in reason. Errors as sms_send
 * (NX_EIO: an answer that is not JSON; NX_EBUSY: throttled or unreachable; NX_EINVAL: refused),
 * NX_EUNSUPP when !sms_pulls_results(p) or ref is empty. The number is never logged. Blocks. */
int sms_receipt(sms_provider *p, const char *phone, const char *ref, int64_t sent_ms, int *state,
                char reason[SMS_REASON_MAX], nx_err *e);

/* The TC3-HMAC-SHA256 Authorization header value of a POST of payload (JSON) to host for service
 * ("sms", "vms") and action ("SendSms") at ts (epoch seconds): "TC3-HMAC-SHA256 Credential=…,
 * SignedHeaders=content-type;host;x-tc-action, Signature=…" into out. 0 or NX_ETOOBIG. Exposed for
 * the unit test against the provider's documented example. */
int sms_tc3_authorization(const char *secret_id, const char *secret_key, const char *service, const char *host,
                          const char *action, int64_t ts, const char *payload, char *out, size_t cap);

/* Aliyun's RPC signature of a request: Base64(HMAC-SHA1(secret + "&", method + "&%2F&" +
 * percentEncode(canonical))), where canonical is the sorted, encoded "k=v&…" query without
 * Signature, into out (at least 29 bytes). 0 or NX_ETOOBIG. Exposed for the unit test against the
 * provider's documented example. */
int sms_aliyun_signature(const char *secret, const char *method, const char *canonical, char *out, size_t cap);

#endif
