/* notifications.c — the service hall's hand-over of its events to the registered channels.
 *
 * The in-app messages of the service hall (to the applicant, to the next in the review chain, about
 * the old-age allowance) are no longer written here: the services module emits its events and the
 * message service's rules (modules/messages, default rules of migration 030) deliver them.
 *
 * services_subscribe hands every "services.application.*" event to the registered SMS/WeChat
 * channels (notify/channel.h) as one short Chinese sentence naming the new status; it does nothing
 * when no channel is registered. */
#include "modules/services/services_internal.h"

#include "base/str.h"
#include "notify/channel.h"

#include <stdio.h>
#include <string.h>

/* ---- external channels ---- */

static int on_event(store *s, const nx_event *ev, void *ctx)
{
    (void)s;
    (void)ctx;
    if (channel_count() == 0)
        return 0;
    json_t *p = json_loads(ev->payload, 0, NULL);
    nx_message m = {.event_id = ev->id, .community_id = ev->community_id, .kind = ev->kind};
    m.resident_id = (int64_t)json_integer_value(json_object_get(p, "resident_id"));
    const char *st = json_string_value(json_object_get(p, "status"));
    char text[200];
    snprintf(text, sizeof text, "您的服务申请状态已更新：%s。请登录暖心社区查看。",
             services_status_label(st ? st : ""));
    m.text = text;
    nx_err e = {0};
    int rc = channel_send_all(&m, &e);
    json_decref(p);
    return rc;
}

int services_subscribe(dispatcher *d, nx_app *app)
{
    return dispatcher_subscribe(d, "services.channels", SERVICES_EV_APPLICATION_PREFIX, on_event, app);
}
