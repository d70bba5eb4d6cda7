/* notifications.c — the in-app notifications of the service hall, and their hand-over to external
 * channels.
 *
 * A notification is addressed either to a resident (residents and family members read those of
 * their own resident) or to a role within a community (reviewers read those of their role in the
 * communities of their scope: a street officer's cover every community of the street). Rows are
 * written by services_notify inside the transaction of the change they announce. The list is a page of
 * the kit (store_page: newest first, cursor = id, capped by page_max) with the unread count beside it.
 *
 * services_subscribe hands every "services.application.*" event to the registered SMS/WeChat
 * channels (notify/channel.h) as one short Chinese sentence naming the new status; it does nothing
 * when no channel is registered. */
#include "modules/services/services_internal.h"

#include "base/str.h"
#include "notify/channel.h"

#include <stdio.h>
#include <string.h>

/* ---- notifications ---- */

/* The notifications addressed to who: to their resident (self scope), else to their role within
 * their communities. */
static void notif_where(sqlq *q, const nx_principal *who)
{
    if (who->scope == SCOPE_SELF) {
        sqlq_add(q, " AND n.resident_id = $%d", P_INT(who->resident_id));
        return;
    }
    sqlq_add(q, " AND n.resident_id IS NULL AND n.target_role = $%d", P_TEXT(role_code(who->role)));
    if (who->scope == SCOPE_STREET)
        sqlq_add(q, " AND n.community_id IN (SELECT id FROM communities WHERE street_id = $%d)",
                 P_INT(who->street_id));
    else if (who->scope != SCOPE_ALL)
        sqlq_add(q, " AND n.community_id = $%d", P_INT(who->community_id));
}

static json_t *notification_json(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i kind:t title:t body:t link:t created_at:d");
    if (o)
        json_object_set_new(o, "read", json_boolean(!store_isnull(r, 6)));
    return o;
}

int services_notifications(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out,
                           nx_err *e)
{
    int64_t before = 0;
    if (cursor && cursor[0] && str_to_i64(cursor, 1, INT64_MAX, &before) != 0)
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
    if (who->scope == SCOPE_SELF && who->resident_id == 0) {
        *out = json_pack("{s:[], s:n, s:i}", "items", "next_cursor", "unread", 0);
        return 0;
    }
    sqlq unread_q, q;
    sqlq_init(&unread_q, "SELECT count(*) FROM notifications n WHERE n.read_at IS NULL");
    notif_where(&unread_q, who);
    sqlq_init(&q,
              "SELECT n.id, n.kind, n.title, n.body, n.link, n.created_at, n.read_at FROM notifications n "
              "WHERE 1 = 1");
    notif_where(&q, who);
    if (before)
        sqlq_add(&q, " AND n.id < $%d", P_INT(before));
    sqlq_sql(&q, " ORDER BY n.id DESC");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t unread = 0;
    store_page_spec spec = {.limit = limit, .max = (int)app->cfg->page_max, .row = notification_json};
    if ((rc = sqlq_one_int(tx, &unread_q, &unread, e)) || (rc = store_page(tx, &q, &spec, out, e))) {
        store_rollback(tx);
        return rc;
    }
    store_rollback(tx);
    json_object_set_new(*out, "unread", json_integer(unread));
    return 0;
}

int services_notification_read(nx_app *app, const nx_principal *who, int64_t id, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int64_t changes = 0;
    if (who->scope == SCOPE_SELF) {
        store_param p[] = {P_INT(id), P_INT(who->resident_id), P_INT(clock_now_ms())};
        rc = store_exec(
            tx, "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND resident_id = $2",
            p, 3, &changes, e);
    } else {
        store_param p[] = {P_INT(id),
                           P_TEXT(role_code(who->role)),
                           P_INT(clock_now_ms()),
                           P_INT(who->scope == SCOPE_ALL ? 0 : who->community_id),
                           P_INT(who->street_id),
                           P_INT(who->scope == SCOPE_STREET ? 1 : 0)};
        rc = store_exec(
            tx,
            "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND target_role = $2 "
            "AND resident_id IS NULL AND ($4 = 0 OR community_id = $4 OR ($6 = 1 AND community_id IN "
            "(SELECT id FROM communities WHERE street_id = $5)))",
            p, 6, &changes, e);
    }
    if (rc == 0 && changes == 0)
        rc = nx_fail(e, NX_ENOTFOUND, "", "通知不存在");
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

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
