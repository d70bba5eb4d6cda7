/* channel.h — outbound notification channels (SMS, WeChat templates …) as an interface.
 *
 * nuanxin tells people about changes in two ways: the in-app notifications table (read by the
 * resident pages, written by the module in the change's own transaction) and, optionally, outbound
 * channels registered here. No real SMS or WeChat gateway is wired yet: a deployment registers its
 * own channel (an implementation of nx_channel), and CHANNEL_LOG_STUB is a stand-in that only writes
 * a log line, so the path from event to channel is exercised end to end. Messages carry ids and a
 * Chinese text without personal data (no names, phones or ID numbers); the channel looks up the
 * recipient's contact itself.
 *
 * A channel that calls a provider over HTTP must make its requests through notify/outbound.h (the
 * provider's URL checked when configured and at every send, the checked address pinned, https only
 * outside the outbound_allow networks) and keep its credentials encrypted with secure/crypto.h, as
 * webhook channels do (devices_webhooks.h).
 *
 * Registration happens at start-up; channel_send_all may be called from any thread afterwards
 * (typically a dispatcher subscriber, so a slow gateway never holds a request). */
#ifndef NX_NOTIFY_CHANNEL_H
#define NX_NOTIFY_CHANNEL_H

#include <stdint.h>

#include "base/err.h"

typedef struct nx_message {
    int64_t event_id;     /* outbox event behind the message (idempotency key for the channel) */
    int64_t community_id;
    int64_t resident_id;  /* recipient resident (0 = none) */
    const char *kind;     /* "services.application.approved" … */
    const char *text;     /* Chinese text without personal data */
} nx_message;

typedef struct nx_channel {
    const char *name; /* "sms", "wechat", "log-stub" */
    /* Deliver m; 0 on success or a negative NX_E* code to be retried later. Must be idempotent for
     * the same event_id. */
    int (*send)(void *ctx, const nx_message *m, nx_err *e);
    void *ctx;
} nx_channel;

#define CHANNEL_MAX 8

/* Register a channel (copied). NX_ETOOBIG past CHANNEL_MAX, NX_EINVAL for a missing name or send. */
int channel_register(const nx_channel *c, nx_err *e);
/* Remove every channel (tests, shutdown). */
void channel_clear(void);
/* Number of registered channels. */
int channel_count(void);
/* Hand m to every registered channel; returns the first failure (the others are still tried). */
int channel_send_all(const nx_message *m, nx_err *e);

/* The logging stub: a channel named "log-stub" that writes one log line per message. */
extern const nx_channel CHANNEL_LOG_STUB;

#endif
