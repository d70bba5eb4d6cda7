/* devices_webhooks.h — alarms that reach people: webhook channels per community, and the subscriber
 * that sends "devices.alert.opened" and "devices.alert.escalated" to them (issue 5, item 5).
 *
 * A channel (table webhook_channels, migration 005) is a WeCom or DingTalk group robot or a generic
 * JSON receiver of one community, optionally of one grid, serving some levels of the escalation
 * chain: 0 grid worker (网格员), 1 duty staff (社区值班人员), 2 family (家属). When an alert opens
 * (level 0) or escalates (level 1, 2), every enabled channel of its community whose grid matches (or
 * is none) and whose levels include the alert's level gets one message naming the alarm, the
 * resident (masked name: "孙*芳"), the community and grid, the time, the position when there is a
 * fix, and who should act now.
 *
 * Delivery: the subscriber "devices.webhooks" runs on its own dispatcher (a slow robot must not hold
 * the other subscribers) and records each (event, channel) pair in webhook_deliveries: a pair marked
 * sent or failed is never sent again, which makes redelivery of an event harmless. A failing
 * channel makes the handler fail, so the dispatcher calls it again after its back-off (0.2 s,
 * doubling); after DEVICES_WEBHOOK_ATTEMPTS attempts the pair is marked failed and the event is let
 * go, so one dead robot cannot hold the alarms behind it for long. Each attempt waits at most
 * DEVICES_WEBHOOK_TIMEOUT_MS for the receiver.
 *
 * Outbound: a channel's URL must lead to the internet (notify/outbound.h): it is resolved when staff
 * save it (422 on url for an internal address, plain http off the allow-list, a name that does
 * not resolve) and again at every send; a target refused then is recorded "failed" at once with
 * OUTBOUND_REFUSED_MSG and no HTTP status, without any request.
 *
 * Secrets at rest (migration 008): the URL (it carries the robot's key) and the DingTalk signing
 * secret are stored encrypted (url_enc, secret_enc); the url column and the API show only the
 * masked URL ("https://host/…ab12"), the secret only as has_secret. A PATCH that sends the masked
 * URL back unchanged keeps the stored one.
 *
 * Rights: channels are read and written with RIGHT_DEVICE_WRITE in the community's scope. */
#ifndef NX_MODULES_DEVICES_WEBHOOKS_H
#define NX_MODULES_DEVICES_WEBHOOKS_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"
#include "notify/dispatcher.h"

#define DEVICES_WEBHOOK_ATTEMPTS   6
#define DEVICES_WEBHOOK_TIMEOUT_MS 5000
#define DEVICES_WEBHOOK_SUBSCRIBER "devices.webhooks"

/* Channels in the caller's scope, {"items": […]}; community_id 0 = every community in scope. */
int devices_webhooks_list(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
/* Create from a JSON object {"community_id", "grid_id", "name", "format", "url", "secret", "levels",
 * "enabled"} (strict: unknown fields refused; community_id defaults to the caller's community).
 * Audited. */
int devices_webhook_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int devices_webhook_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Change any of grid_id, name, format, url, secret, levels, enabled (null clears grid_id, secret).
 * Audited. */
int devices_webhook_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Delete the channel and its delivery records. Audited. */
int devices_webhook_delete(nx_app *app, const nx_principal *who, int64_t id, nx_err *e);
/* The channel's deliveries, newest first: {"items": [{"event_id", "alert_id", "state", "attempts",
 * "http_status", "error", "created_at", "updated_at"}]}. */
int devices_webhook_deliveries(nx_app *app, const nx_principal *who, int64_t id, int limit, json_t **out, nx_err *e);

/* Routes: GET/POST /api/v1/webhooks, GET/PATCH/DELETE /api/v1/webhooks/{id},
 * GET /api/v1/webhooks/{id}/deliveries. */
int devices_webhooks_routes(http_server *srv, nx_app *app);

/* Encrypt the channels still stored in clear (written before migration 008): url and secret move
 * into url_enc and secret_enc, url keeps the masked form. One write transaction; idempotent (only
 * rows with url_enc NULL, so processes starting together do not seal twice). Called at start-up
 * before HTTP requests and the webhook dispatcher; *count gets the number of rows encrypted.
 * 0, or a store error / NX_EINTERNAL (encryption failed) with nothing changed. */
int devices_webhooks_seal(nx_app *app, int *count, nx_err *e);

/* Subscribe DEVICES_WEBHOOK_SUBSCRIBER (prefix "devices.alert.") to d. app must outlive d. */
int devices_webhooks_subscribe(dispatcher *d, nx_app *app);

#endif
