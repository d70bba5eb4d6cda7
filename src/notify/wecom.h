/* wecom.h — WeCom (企业微信) application messages to staff: a text from the application (agent)
 * to one member.
 *
 * Configured from wecom_corp_id, wecom_agent_id, wecom_secret (a secret entry: dumped redacted,
 * never logged) and wecom_url (the API's base address). The access token is fetched with gettoken
 * (GET cgi-bin/gettoken?corpid=…&corpsecret=…), cached until shortly before its expires_in, and
 * fetched again when message/send answers that it is invalid or expired (errcode 40014, 42001,
 * 40001) — then the message is sent once more. Requests go through notify/outbound.h. The member is
 * named by their WeCom UserID (nuanxin uses the account's user name).
 *
 * wecom_send: 0 (ref gets the msgid); NX_EBUSY when throttled (45009, 45033, -1 system busy) or
 * unreachable; NX_EIO for an answer that is not JSON; NX_EINVAL for a refusal (a bad secret, an
 * unknown member — "invaliduser" — or another errcode, named in e->msg). Blocks on the network
 * (10 s a request). Thread-safe: the token cache is behind a mutex. */
#ifndef NX_NOTIFY_WECOM_H
#define NX_NOTIFY_WECOM_H

#include "base/config.h"
#include "base/err.h"
#include "notify/sms.h"

typedef struct wecom wecom;

/* The WeCom sender of c, or *out = NULL when its keys are not all set. 0, NX_EINVAL (a base
 * address that is not http(s), an agent id that is not a number), NX_ENOMEM. */
int wecom_from_config(const nx_config *c, wecom **out, nx_err *e);
void wecom_free(wecom *w); /* NULL accepted; wipes the secret and the token */
/* Send text to member user_id (UserID). See above. */
int wecom_send(wecom *w, const char *user_id, const char *text, char ref[SMS_REF_MAX], nx_err *e);

#endif
