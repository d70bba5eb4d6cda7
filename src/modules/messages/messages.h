/* messages.h — messages that reach people: the message service fed by events, the inbox of every
 * account, notices to an audience with read receipts, briefing sessions, and the external channels
 * (SMS, voice calls, WeCom) behind one interface.
 *
 * No module calls this one: it subscribes to the outbox (notify/dispatcher.h) and reads each event
 * through the rules (message_rules, data): event kind → recipients (the resident concerned, their
 * family, the assignee, the grid worker, the community's duty staff, the escalation chain) →
 * channels → a Chinese template with {placeholders}. An event delivered twice is one message (a
 * unique key over event, rule, channel and recipient). In-app messages land in the inbox at once;
 * the others are queued rows that a ticker sends, retries with back-off, holds through quiet hours
 * (unless urgent: an SOS) and records (queued, sent, delivered, failed, read, cancelled), all in
 * the store so that a restart loses nothing.
 *
 * Rights: every account reads its own inbox (a resident's and their family's accounts share the
 * resident's); RIGHT_NOTICE_WRITE writes notices and briefings and reads their receipts;
 * RIGHT_MESSAGE_ADMIN edits the rules and reads the delivery log. All functions block on the store
 * and are thread-safe. */
#ifndef NX_MODULES_MESSAGES_H
#define NX_MODULES_MESSAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/app.h"

struct dispatcher;

/* Event kinds (outbox). notice.published: payload {"notice_id", "recipients"}, subject "notice:<id>". */
#define MESSAGES_EV_NOTICE_PUBLISHED "messages.notice.published"
/* A resident signed up for a briefing (the confirmation), and the reminder a day before its start.
 * Payload {"briefing_id", "resident_id", "title", "place", "starts_at" ("YYYY-MM-DD HH:MM", Beijing
 * time), "link" ("/m/briefings/<id>", the resident's page)}; subject "briefing:<id>". */
#define MESSAGES_EV_BRIEFING_SIGNED_UP "messages.briefing.signed_up"
#define MESSAGES_EV_BRIEFING_REMINDER "messages.briefing.reminder"
/* Staff called a briefing off: one event per resident signed up, the same payload and "reason"
 * when staff gave one. */
#define MESSAGES_EV_BRIEFING_CANCELLED "messages.briefing.cancelled"
/* Staff moved a briefing to another start or place (PATCH): one event per resident signed up, the
 * same payload with the new starts_at and place. A default rule (migration 032) tells each of them. */
#define MESSAGES_EV_BRIEFING_CHANGED "messages.briefing.changed"

/* An account's inbox got a message: payload {"account_id"}, subject "user:<id>", one event per account
 * (a resident's message: one for each of their own and their family's accounts). The live feed sends
 * it on the inbox stream (GET /api/v1/notifications/stream) to that account only, and the pages
 * showing the inbox reload it. The message service ignores this kind (no rule applies to it). */
#define MESSAGES_EV_INBOX_CHANGED "messages.inbox.changed"
/* The hub of the inbox stream (messages_http.c creates it; the server feeds it the events above). */
#define MESSAGES_SSE_HUB "inbox"

/* The placeholders a template may use; anything else is refused (NX_EINVAL naming the field). */
extern const char *const messages_placeholders[];

/* ---- the service (messages_service.c) ---- */

/* Handle one event: match the rules, resolve the recipients, write the in-app messages and queue
 * the others, in one write transaction; an event seen before writes nothing (idempotent). 0 or the
 * store's error (the dispatcher retries). */
struct nx_event;
int messages_on_event(nx_app *app, const struct nx_event *ev, nx_err *e);
/* Subscribe the service to every event ("messages.service"). */
int messages_subscribe(struct dispatcher *d, nx_app *app);

/* ---- the sender (messages_send.c) ---- */

/* One run of the sender at now_ms: publish the notices whose time came, send the queued deliveries
 * that are due (at most a batch), retry with back-off, stop call chains whose alarm was answered.
 * Returns 0 or the store's error. */
int messages_tick(nx_app *app, int64_t now_ms, nx_err *e);
/* Tencent voice messages' call status callback (VMS 语音通知状态通知, a push: the provider documents
 * no signature), as received from source (the client address) with token (the request's ?token=)
 * and body: {"voiceprompt_callback": {"callid", "result": "0" answered | "1" not answered | "2" call
 * failed, …}}. The voice delivery with that provider reference becomes delivered, or failed with
 * "未接听（code …）"; a call decided already stays as it is (a repeated callback answers 0). At most
 * msg_callback_per_min calls per source and minute (NX_ELOCKED); NX_ENOTFOUND when the callback is
 * not open (no tencent_voice_callback_token) or the callid names no voice call; NX_EPERM for a wrong
 * token; NX_EINVAL for a body that is not a JSON object (no field) or lacks the documented fields
 * (field voiceprompt_callback, .callid or .result). Nothing changes on an error. */
int messages_voice_callback(nx_app *app, const char *source, const char *token, const void *body, size_t len,
                            nx_err *e);
typedef struct messages_sender messages_sender;
/* Start the sender's ticker (period from configuration msg_tick_ms) and configure the external
 * channels from configuration; *out to pass to messages_sender_stop. */
int messages_sender_start(nx_app *app, messages_sender **out, nx_err *e);
void messages_sender_stop(messages_sender *s); /* NULL accepted */

/* ---- inbox (messages_inbox.c) ---- */

/* who's inbox, newest first: {"items": [{id, kind, title, body, link, created_at, read}],
 * "next_cursor", "unread"}. unread_only narrows it. */
int messages_inbox_list(nx_app *app, const nx_principal *who, const char *cursor, int limit, bool unread_only,
                        json_t **out, nx_err *e);
/* {"unread": n} */
int messages_inbox_count(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
/* Mark one message read (NX_ENOTFOUND when not in who's inbox). */
int messages_inbox_read(nx_app *app, const nx_principal *who, int64_t id, nx_err *e);
/* Mark every message of who's inbox read; *count the number newly read. */
int messages_inbox_read_all(nx_app *app, const nx_principal *who, int64_t *count, nx_err *e);
/* who's preferences {muted: [channels], quiet_start, quiet_end} and their change. */
int messages_prefs_get(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
int messages_prefs_put(nx_app *app, const nx_principal *who, json_t *in, nx_err *e);

/* ---- rules and the delivery log (messages_rules.c) ---- */

int messages_rules_list(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
/* Replace the rules with {"rules": [{kind, recipient, match_on?, channels, title, template, urgent?,
 * enabled?}]}: every row validated (kinds, recipients, channels, placeholders) before anything is
 * written. RIGHT_MESSAGE_ADMIN. */
int messages_rules_put(nx_app *app, const nx_principal *who, json_t *in, nx_err *e);
/* The delivery log in who's scope, newest first; filters status, channel, kind (NULL = any). */
int messages_deliveries_list(nx_app *app, const nx_principal *who, const char *status, const char *channel,
                             const char *kind, const char *cursor, int limit, json_t **out, nx_err *e);
/* The messages sent in month "YYYY-MM" (NULL or "": this month, Beijing time) in who's scope, per
 * channel, priced by the configuration (msg_price_<channel>_fen, fen; the defaults are placeholders):
 * {"month", "items": [{channel, sent, unit_fen, cost_fen}], "total_fen"} (inapp, sms, voice, wecom). RIGHT_MESSAGE_ADMIN; NX_EINVAL (month). */
int messages_costs(nx_app *app, const nx_principal *who, const char *month, json_t **out, nx_err *e);

/* ---- notices and briefings (messages_notices.c) ---- */

int messages_notice_list(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out,
                         nx_err *e);
/* {community_id?, title, body, audience: {communities?, estates?, grids?, buildings?, tags?},
 * channels?, publish_at? (ISO time; absent = now)}. NX_EINVAL (422, field "audience") when the
 * audience matches nobody. RIGHT_NOTICE_WRITE. */
int messages_notice_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* A notice; read by a resident (or family) marks it read for their resident. */
int messages_notice_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {"total", "read", "unread": [{resident_id, name (masked), grid_id, grid_name}], "read_list": [...]} */
int messages_notice_receipts(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Publish the scheduled notices whose time has come (the sender calls it); *count published. */
int messages_notices_due(nx_app *app, int64_t now_ms, int *count, nx_err *e);

/* ---- attachments and the printable notice (messages_notice_files.c) ---- */

/* Attach a file (data, len bytes: PDF, JPEG, PNG or WebP by its bytes, at most max_upload) to notice
 * id under label (NULL: "附件N"); *file its id. RIGHT_NOTICE_WRITE in scope; at most 10 a notice
 * (NX_ECONFLICT); NX_EUNSUPP for another type, NX_ETOOBIG, NX_EINVAL (field "name" or "file"). */
int messages_notice_attach(nx_app *app, const nx_principal *who, int64_t id, const char *label, const void *data,
                           size_t len, int64_t *file, nx_err *e);
/* Read attachment file for whoever may read its notice: *data (release with upload_free), *n and its
 * content type. NX_ENOTFOUND, NX_EPERM, NX_EIO. */
int messages_notice_file_read(nx_app *app, const nx_principal *who, int64_t file, unsigned char **data, size_t *n,
                              char ctype[32], nx_err *e);
/* The printable notice (A4 PDF, with a QR code of its address on the phone) of a published notice:
 * *pdf malloc'd, *len. Staff with RIGHT_NOTICE_WRITE in scope; NX_ECONFLICT when not published. */
int messages_notice_pdf(nx_app *app, const nx_principal *who, int64_t id, unsigned char **pdf, size_t *len, nx_err *e);

/* ---- briefings (messages_briefings.c) ---- */

/* Briefings newest first: staff (RIGHT_NOTICE_WRITE) those of their scope, residents and families
 * those whose announcing notice reached their resident (with "signed_up"). Each {id, community_id,
 * title, topic, speaker, place, venue_id, starts_at, capacity, status, notice_id, created_at,
 * ends_at, venue_booking_id, signups, attended, signed_up}. NX_EPERM for other accounts. */
int messages_briefing_list(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out,
                           nx_err *e);
int messages_briefing_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {community_id?, title, topic?, speaker, place? | venue_id?, starts_at (Beijing time, future),
 * ends_at? (after starts_at; two hours later when absent), capacity? (0 = no limit), audience? (as a
 * notice's; absent = the whole community)}: the briefing and the notice that announces it to its
 * audience, in one transaction. With venue_id the room is booked for the time (venues_book_span):
 * a clash is NX_ECONFLICT (409, the message names the booking holding it) and nothing is written;
 * the room's rules are NX_EINVAL naming date, start, end or attendees. RIGHT_NOTICE_WRITE. */
int messages_briefing_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Move an open briefing that has not started to another time and/or place {starts_at?, ends_at?
 * (with starts_at), place?} (as create's; one of starts_at and place is required): a new time
 * releases its room's booking and books the new time in one transaction (a clash: NX_ECONFLICT,
 * nothing changed); audited. When the start or the place changed, MESSAGES_EV_BRIEFING_CHANGED for
 * every resident signed up. RIGHT_NOTICE_WRITE in scope. */
int messages_briefing_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Sign up: a resident or family account for their resident ({}), staff for {resident_id} of the
 * community. NX_ECONFLICT when cancelled, started, full or signed up already; emits
 * MESSAGES_EV_BRIEFING_SIGNED_UP. */
int messages_briefing_signup(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Withdraw a sign-up before the start, as messages_briefing_signup names the resident ({} or
 * {resident_id} for staff); the place is free again. NX_ECONFLICT when cancelled, started or not
 * signed up. */
int messages_briefing_withdraw(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Staff (RIGHT_NOTICE_WRITE in scope) call an open briefing off before its start {reason}: status
 * cancelled, its room's booking released, audited, MESSAGES_EV_BRIEFING_CANCELLED for every resident signed up. NX_ECONFLICT
 * when cancelled already or started. */
int messages_briefing_cancel(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Staff mark {resident_id, attended? (default true)}; a resident who did not sign up is a walk-in. */
int messages_briefing_attend(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The sign-ups {"items": [{resident_id, name (masked), grid_id, grid_name, signed_at, attended,
 * attended_at, walk_in}]}, staff only. */
int messages_briefing_signups(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* The attendance sheet of briefing id as an .xlsx at path (*rows written); RIGHT_EXPORT as well;
 * audited; complete or nothing. */
int messages_briefing_export(nx_app *app, const nx_principal *who, int64_t id, const char *path, int64_t *rows,
                             nx_err *e);
/* Emit the reminders of the sign-ups whose briefing starts within a day (the sender calls it). */
int messages_briefings_due(nx_app *app, int64_t now_ms, int *count, nx_err *e);

typedef struct http_server http_server;
int messages_routes(http_server *srv, nx_app *app); /* messages_http.c */

#endif
