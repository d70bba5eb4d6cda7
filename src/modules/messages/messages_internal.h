/* messages_internal.h — shared by the message module's own files only. */
#ifndef NX_MODULES_MESSAGES_INTERNAL_H
#define NX_MODULES_MESSAGES_INTERNAL_H

#include "modules/messages/messages.h"

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "notify/dispatcher.h"
#include "notify/outbox.h"
#include "store/page.h"
#include "store/query.h"

#include <stdbool.h>
#include <stdint.h>

#define MSG_TITLE_MAX    60   /* characters of a rule's title */
#define MSG_TEMPLATE_MAX 500  /* characters of a template */
#define MSG_RULES_MAX 500     /* rules in all (PUT refuses more; the service loads at most this many of a kind) */
#define MSG_TEXT_MAX     2000 /* bytes of a rendered text */

/* Channel names: "inapp", "sms", "voice", "wecom". */
bool msg_channel_valid(const char *name);
/* Check a comma list of channels ("inapp,sms"): 0 or NX_EINVAL naming field. */
int msg_channels_check(const char *list, const char *field, nx_err *e);
/* Whether the comma list has channel name. */
bool msg_list_has(const char *list, const char *name);
/* Append name to the comma list (of cap bytes) unless it is there already. */
void msg_list_add(char *list, size_t cap, const char *name);
/* Check a template's {placeholders}: 0, or NX_EINVAL naming field with the unknown name. */
int msg_template_check(const char *tpl, const char *field, nx_err *e);
/* Render tpl with vars (a JSON object: strings and integers; absent names render empty) into out. */
void msg_render(const char *tpl, json_t *vars, char *out, size_t cap);
/* Minutes since local midnight of ms (UTC+8, as the rest of nuanxin); parse "HH:MM" (-1 bad). */
int msg_local_minute(int64_t ms);
int msg_parse_hhmm(const char *s);
/* The end of the quiet window [start, end) (minutes of day, may wrap midnight) containing now_ms, or
 * 0 when now_ms is outside it. */
int64_t msg_quiet_until(int64_t now_ms, int start, int end);

/* A person's preferences: owner "u" (account) or "r" (resident). No row: nothing muted, no quiet
 * hours (quiet_start = quiet_end = -1). */
typedef struct msg_prefs {
    char muted[64];
    int quiet_start, quiet_end;
} msg_prefs;
int msg_prefs_load(store_tx *tx, const char *owner_kind, int64_t owner_id, msg_prefs *p, nx_err *e);

/* Notices (messages_notices.c), shared with the briefings that are announced by one. */
/* "YYYY-MM-DDTHH:MM[:SS][+08:00]" (Beijing time) → epoch ms; -1 when malformed. */
int64_t msg_parse_local_time(const char *s);
/* Check an audience object {communities?, estates?, grids?, buildings?, tags?}: 0 or NX_EINVAL
 * naming "audience" or "audience.<list>". */
int msg_audience_check(json_t *aud, nx_err *e);
/* Insert a notice of community (checked in scope by the caller) inside tx and publish it now, or
 * schedule it when publish_at > now (its audience must match someone now all the same). *id the
 * notice; NX_EINVAL (field "audience") when the audience matches nobody. No audit entry. */
int msg_notice_post(store_tx *tx, const nx_principal *who, int64_t community, const char *title, const char *body,
                    json_t *aud, const char *channels, int64_t publish_at, int64_t now, int64_t *id, nx_err *e);

/* The write transaction that posts a notice or a briefing in *community: the body's community_id,
 * else the caller's (set in *community); NX_EINVAL naming community_id when there is none or it is
 * not in who's scope (nothing left open), else 0 with *tx begun. */
int msg_begin_in_community(nx_app *app, const nx_principal *who, int64_t *community, store_tx **tx, nx_err *e);

/* The attachments of notice id as [{id, label, content_type, size, created_at, url}] on tx, set as
 * o["attachments"] (messages_notice_files.c). */
int msg_notice_files(store_tx *tx, int64_t id, json_t *o, nx_err *e);

/* Inside tx, which has just written inbox messages for account user_id (0: none) and for resident
 * resident_id (0: none; every active self-scope account reading that resident's inbox — their own
 * and their family's), emit MESSAGES_EV_INBOX_CHANGED once per account: the live feed tells each
 * account's open pages to reload their inbox. 0 or the store's error. */
int msg_inbox_signal(store_tx *tx, int64_t community, int64_t user_id, int64_t resident_id, nx_err *e);
/* The same for every account reading the inbox of a recipient of notice id (its receipts). */
int msg_inbox_signal_notice(store_tx *tx, int64_t community, int64_t notice_id, nx_err *e);

/* The sender's configuration (messages_send.c), read by the service to decide what to queue. */
bool msg_channel_configured(const char *channel);
int64_t msg_voice_gap_ms(void);
/* msg_daily_cap: non-urgent external messages per person, channel and Beijing day (0 = no cap). */
int64_t msg_daily_cap(void);
/* Whether one person (a deliveries row's contact_kind, contact_id, user_id) has had msg_daily_cap
 * non-urgent messages on channel since the start of today (Beijing time), cancelled ones not counted;
 * a message over the cap is written cancelled with msg_daily_cap_reason as its last_error, never sent.
 * Blocks on the store. */
int msg_over_daily_cap(store_tx *tx, const char *channel, const char *contact_kind, int64_t contact_id,
                       int64_t user_id, int64_t now, bool *over, nx_err *e);
void msg_daily_cap_reason(char *out, size_t cap);

#endif
