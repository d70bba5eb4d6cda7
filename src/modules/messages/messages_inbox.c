/* messages_inbox.c — the inbox of every account, and a person's message preferences.
 *
 * The inbox is the notifications table. A row is addressed to an account (user_id: what the
 * message service writes for staff and grid workers), to a resident (resident_id: their own and
 * their family's accounts read it), or — the service hall's older rows — to a role within a
 * community (target_role: reviewers read those of their role in the communities of their scope).
 * Reading a message marks its delivery read too (the delivery log shows it), and, for a notice,
 * the resident's receipt. Lists are pages of the kit (newest first, cursor = id) with the unread
 * count beside them. Reads never wait for the message service: a page learns of a new message from
 * the inbox stream (MESSAGES_EV_INBOX_CHANGED, see messages.h) and reloads.
 *
 * Preferences belong to the resident for self-scope accounts (what the family sets holds for the
 * elder's messages) and to the account otherwise: muted channels and quiet hours, which the
 * service applies to SMS, voice and WeCom unless a rule is urgent (an SOS). */
#include "modules/messages/messages_internal.h"

#include <string.h>

/* The inbox condition of who on notifications n, appended to q. */
static void inbox_where(sqlq *q, const nx_principal *who)
{
    sqlq_add(q, " AND (n.user_id = $%d", P_INT(who->user_id));
    if (who->scope == SCOPE_SELF) {
        if (who->resident_id)
            sqlq_add(q, " OR n.resident_id = $%d", P_INT(who->resident_id));
        sqlq_sql(q, ")");
        return;
    }
    sqlq_add(q, " OR (n.user_id IS NULL AND n.resident_id IS NULL AND n.target_role = $%d",
             P_TEXT(role_code(who->role)));
    if (who->scope == SCOPE_STREET)
        sqlq_add(q, " AND n.community_id IN (SELECT id FROM communities WHERE street_id = $%d)",
                 P_INT(who->street_id));
    else if (who->scope != SCOPE_ALL)
        sqlq_add(q, " AND n.community_id = $%d", P_INT(who->community_id));
    sqlq_sql(q, "))");
}

static json_t *inbox_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i kind:t title:t body:t link:t created_at:d");
    if (o) {
        json_object_set_new(o, "read", json_boolean(!store_isnull(r, 6)));
        if (!store_isnull(r, 7))
            json_object_set_new(o, "notice_id", json_integer(store_int(r, 7)));
    }
    return o;
}

int messages_inbox_list(nx_app *app, const nx_principal *who, const char *cursor, int limit, bool unread_only,
                        json_t **out, nx_err *e)
{
    int64_t before = 0;
    int rc = store_page_cursor_id(cursor, &before, e);
    if (rc)
        return rc;
    sqlq unread_q, q;
    sqlq_init(&unread_q, "SELECT count(*) FROM notifications n WHERE n.read_at IS NULL");
    inbox_where(&unread_q, who);
    sqlq_init(&q, "SELECT n.id, n.kind, n.title, n.body, n.link, n.created_at, n.read_at, n.notice_id FROM "
                  "notifications n WHERE 1 = 1");
    inbox_where(&q, who);
    if (unread_only)
        sqlq_sql(&q, " AND n.read_at IS NULL");
    if (before)
        sqlq_add(&q, " AND n.id < $%d", P_INT(before));
    sqlq_sql(&q, " ORDER BY n.id DESC");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    int64_t unread = 0;
    json_t *o = NULL;
    store_page_spec spec = {.limit = limit, .max = (int)app->cfg->page_max, .row = inbox_row};
    if ((rc = sqlq_one_int(tx, &unread_q, &unread, e)) == 0 && (rc = store_page(tx, &q, &spec, &o, e)) == 0)
        json_object_set_new(o, "unread", json_integer(unread));
    return store_read_finish(tx, rc, o, out);
}

int messages_inbox_count(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT count(*) FROM notifications n WHERE n.read_at IS NULL");
    inbox_where(&q, who);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t unread = 0;
    rc = sqlq_one_int(tx, &q, &unread, e);
    store_rollback(tx);
    if (rc)
        return rc;
    *out = json_pack("{s:I}", "unread", (json_int_t)unread);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

/* Mark read message id (0: every one) of who's inbox, with the deliveries and notice receipts behind
 * them; *count (may be NULL) the messages newly read. */
static int mark_read(nx_app *app, const nx_principal *who, int64_t id, int64_t *count, nx_err *e)
{
    int64_t now = clock_now_ms();
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    if (id) { /* the one message must exist in who's inbox, read or not */
        sqlq q;
        sqlq_init(&q, "SELECT count(*) FROM notifications n WHERE 1 = 1");
        inbox_where(&q, who);
        sqlq_add(&q, " AND n.id = $%d", P_INT(id));
        int64_t n = 0;
        if ((rc = sqlq_one_int(tx, &q, &n, e)))
            goto fail;
        if (n == 0) {
            rc = nx_fail(e, NX_ENOTFOUND, "", "消息不存在");
            goto fail;
        }
    }
    sqlq d, rcpt, upd;
    sqlq_init(&d, "UPDATE message_deliveries SET status = 'read', updated_at = ");
    sqlq_add(&d, "$%d WHERE status IN ('delivered', 'sent') AND id IN (SELECT n.delivery_id FROM notifications n "
                 "WHERE n.read_at IS NULL", P_INT(now));
    inbox_where(&d, who);
    sqlq_eq_int(&d, "n.id", id);
    sqlq_sql(&d, ")");
    sqlq_init(&rcpt, "UPDATE notice_recipients SET read_at = ");
    sqlq_add(&rcpt, "$%d", P_INT(now));
    sqlq_add(&rcpt, ", read_by = $%d WHERE read_at IS NULL AND EXISTS (SELECT 1 FROM notifications n WHERE "
                    "n.read_at IS NULL AND n.notice_id = notice_recipients.notice_id AND n.resident_id = "
                    "notice_recipients.resident_id", P_INT(who->user_id));
    inbox_where(&rcpt, who);
    sqlq_eq_int(&rcpt, "n.id", id);
    sqlq_sql(&rcpt, ")");
    sqlq_init(&upd, "UPDATE notifications SET read_at = ");
    sqlq_add(&upd, "$%d WHERE read_at IS NULL AND id IN (SELECT n.id FROM notifications n WHERE 1 = 1", P_INT(now));
    inbox_where(&upd, who);
    sqlq_eq_int(&upd, "n.id", id);
    sqlq_sql(&upd, ")");
    int64_t changed = 0;
    if ((rc = sqlq_exec(tx, &d, NULL, e)) || (rc = sqlq_exec(tx, &rcpt, NULL, e)) ||
        (rc = sqlq_exec(tx, &upd, &changed, e)))
        goto fail;
    if (count)
        *count = changed;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

int messages_inbox_read(nx_app *app, const nx_principal *who, int64_t id, nx_err *e)
{
    return mark_read(app, who, id, NULL, e);
}

int messages_inbox_read_all(nx_app *app, const nx_principal *who, int64_t *count, nx_err *e)
{
    return mark_read(app, who, 0, count, e);
}

/* ---- preferences ---- */

static void owner_of(const nx_principal *who, const char **kind, int64_t *id)
{
    if (who->scope == SCOPE_SELF && who->resident_id) {
        *kind = "r";
        *id = who->resident_id;
    } else {
        *kind = "u";
        *id = who->user_id;
    }
}

int messages_prefs_get(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    const char *kind;
    int64_t id;
    owner_of(who, &kind, &id);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    msg_prefs p;
    rc = msg_prefs_load(tx, kind, id, &p, e);
    store_rollback(tx);
    if (rc)
        return rc;
    json_t *muted = json_array();
    static const char *const ch[] = {"sms", "voice", "wecom", NULL};
    for (int i = 0; ch[i]; i++)
        if (msg_list_has(p.muted, ch[i]))
            json_array_append_new(muted, json_string(ch[i]));
    char qs[6] = "", qe[6] = "";
    if (p.quiet_start >= 0 && p.quiet_end >= 0) {
        snprintf(qs, sizeof qs, "%02d:%02d", p.quiet_start / 60, p.quiet_start % 60);
        snprintf(qe, sizeof qe, "%02d:%02d", p.quiet_end / 60, p.quiet_end % 60);
    }
    *out = json_pack("{s:o, s:o, s:o}", "muted", muted, "quiet_start", qs[0] ? json_string(qs) : json_null(),
                     "quiet_end", qe[0] ? json_string(qe) : json_null());
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

int messages_prefs_put(nx_app *app, const nx_principal *who, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"muted", "quiet_start", "quiet_end", NULL};
    json_t *muted = NULL;
    const char *qs = NULL, *qe = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_str_array(in, "muted", false, 3, 10, &muted, e)) < 0 ||
        (rc = json_read_str(in, "quiet_start", false, 5, &qs, e)) ||
        (rc = json_read_str(in, "quiet_end", false, 5, &qe, e)))
        return rc;
    char list[64] = "";
    size_t i;
    json_t *v;
    json_array_foreach(muted, i, v)
    {
        const char *c = json_string_value(v);
        if (!msg_channel_valid(c) || strcmp(c, "inapp") == 0)
            return nx_fail(e, NX_EINVAL, "muted", "可关闭的渠道为 sms、voice、wecom（站内消息不能关闭）");
        msg_list_add(list, sizeof list, c);
    }
    if ((qs && msg_parse_hhmm(qs) < 0))
        return nx_fail(e, NX_EINVAL, "quiet_start", "免打扰开始时间应为 HH:MM");
    if ((qe && msg_parse_hhmm(qe) < 0))
        return nx_fail(e, NX_EINVAL, "quiet_end", "免打扰结束时间应为 HH:MM");
    if (!qs != !qe)
        return nx_fail(e, NX_EINVAL, qs ? "quiet_end" : "quiet_start", "免打扰时段需同时给出开始和结束时间");
    const char *kind;
    int64_t id;
    owner_of(who, &kind, &id);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_param p[] = {P_TEXT(kind), P_INT(id), P_TEXT(list), P_TEXT(qs), P_TEXT(qe), P_INT(clock_now_ms())};
    rc = store_exec(tx,
                    "INSERT INTO message_prefs (owner_kind, owner_id, muted, quiet_start, quiet_end, updated_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (owner_kind, owner_id) DO UPDATE SET muted = $3, "
                    "quiet_start = $4, quiet_end = $5, updated_at = $6",
                    p, 6, NULL, e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}
