/* messages_rules.c — the message rules (data: who hears about which event kind, on which channels,
 * in which words) and the delivery log.
 *
 * The rules are read and replaced as one list: PUT validates every row — the kind's shape (as the
 * outbox accepts it), the recipient, the channels, the match ("field=value"), the title and the
 * template's placeholders — before anything is written, so a refused list changes nothing. New
 * modules' events become messages by adding rows, with no code: their payloads carry resident_id,
 * grid_id or assignee_user_id and the placeholders' values (title, status, starts_at …).
 * The delivery log is a page of the kit over message_deliveries in the caller's community scope. */
#include "modules/messages/messages_internal.h"

#include "secure/audit.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const recipients[] = {"resident", "family",     "assignee",          "grid_worker", "duty",
                                         "escalation", "reviewers", "review_escalation", NULL};

static json_t *rule_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i kind:t recipient:t match_on:t - title:t template:t urgent:b enabled:b");
    if (!o)
        return NULL;
    json_t *ch = json_array();
    const char *list = store_text(r, 4);
    static const char *const names[] = {"inapp", "sms", "voice", "wecom", NULL};
    for (int i = 0; names[i]; i++)
        if (msg_list_has(list, names[i]))
            json_array_append_new(ch, json_string(names[i]));
    json_object_set_new(o, "channels", ch);
    return o;
}

int messages_rules_list(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_MESSAGE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权查看消息规则");
    sqlq q;
    sqlq_init(&q, "SELECT id, kind, recipient, match_on, channels, title, template, urgent, enabled FROM "
                  "message_rules ORDER BY kind, id");
    store_page_spec s = {.max = 1000, .row = rule_row};
    int rc = store_items_read(app->db, &q, &s, out, e);
    if (rc == 0) {
        json_t *ph = json_array();
        for (int i = 0; messages_placeholders[i]; i++)
            json_array_append_new(ph, json_string(messages_placeholders[i]));
        json_object_set_new(*out, "placeholders", ph);
    }
    return rc;
}

typedef struct rule_in {
    const char *kind, *recipient, *match_on, *title, *tpl;
    char channels[64];
    bool urgent, enabled;
} rule_in;

static int fieldf(nx_err *e, size_t i, int rc)
{
    char f[64];
    snprintf(f, sizeof f, "rules[%zu].%s", i, e->field);
    str_copy(e->field, f, sizeof e->field);
    return rc;
}

static int parse_rule(json_t *o, size_t i, rule_in *r, nx_err *e)
{
    static const char *const allowed[] = {"id",       "kind",   "recipient", "match_on", "channels",
                                          "title",    "template", "urgent",  "enabled",  NULL};
    memset(r, 0, sizeof *r);
    r->enabled = true;
    r->match_on = "";
    json_t *ch = NULL;
    int rc;
    if (!json_is_object(o))
        return nx_fail(e, NX_EINVAL, "rules", "rules 的每一项应为对象");
    if ((rc = json_only(o, allowed, e)) || (rc = json_read_str(o, "kind", true, OUTBOX_KIND_MAX, &r->kind, e)) ||
        (rc = json_read_str(o, "recipient", true, 20, &r->recipient, e)) ||
        (rc = json_read_str(o, "match_on", false, 60, &r->match_on, e)) ||
        (rc = json_get_str_array(o, "channels", true, 4, 10, &ch, e)) < 0 ||
        (rc = json_read_str(o, "title", true, MSG_TITLE_MAX, &r->title, e)) ||
        (rc = json_read_str(o, "template", true, MSG_TEMPLATE_MAX, &r->tpl, e)) ||
        (rc = json_get_bool(o, "urgent", false, &r->urgent, e)) < 0 ||
        (rc = json_get_bool(o, "enabled", false, &r->enabled, e)) < 0)
        return fieldf(e, i, rc < 0 ? rc : NX_EINVAL);
    for (const char *p = r->kind; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-'))
            return fieldf(e, i, nx_fail(e, NX_EINVAL, "kind", "事件类型只能包含小写字母、数字、点、下划线和连字符"));
    bool known = false;
    for (int k = 0; recipients[k]; k++)
        known = known || strcmp(recipients[k], r->recipient) == 0;
    if (!known)
        return fieldf(e, i, nx_fail(e, NX_EINVAL, "recipient",
                                    "接收人应为 resident（当事居民）、family（家属）、assignee（承办人）、"
                                    "grid_worker（网格员）、duty（值班人员）、escalation（上报链）、reviewers（审核环节的审核人）"
                                    "或 review_escalation（审核环节的上一级）"));
    if (r->match_on[0] && (!strchr(r->match_on, '=') || r->match_on[0] == '='))
        return fieldf(e, i, nx_fail(e, NX_EINVAL, "match_on", "匹配条件应为「字段=值」，如 kind=sos"));
    size_t k;
    json_t *v;
    json_array_foreach(ch, k, v)
    {
        const char *c = json_string_value(v);
        if (!msg_channel_valid(c))
            return fieldf(e, i, nx_fail(e, NX_EINVAL, "channels", "未知的渠道「%s」：应为 inapp、sms、voice 或 wecom", c));
        size_t n = strlen(r->channels);
        if (!msg_list_has(r->channels, c))
            snprintf(r->channels + n, sizeof r->channels - n, "%s%s", n ? "," : "", c);
    }
    if ((rc = msg_template_check(r->title, "title", e)) || (rc = msg_template_check(r->tpl, "template", e)))
        return fieldf(e, i, rc);
    return 0;
}

int messages_rules_put(nx_app *app, const nx_principal *who, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_MESSAGE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权修改消息规则");
    static const char *const allowed[] = {"rules", NULL};
    int rc = json_only(in, allowed, e);
    if (rc)
        return rc;
    json_t *list = json_object_get(in, "rules");
    if (!json_is_array(list))
        return nx_fail(e, NX_EINVAL, "rules", "rules 应为数组");
    size_t n = json_array_size(list);
    if (n > MSG_RULES_MAX)
        return nx_fail(e, NX_EINVAL, "rules", "规则不能超过 %d 条", MSG_RULES_MAX);
    rule_in *rs = calloc(n ? n : 1, sizeof *rs);
    if (!rs)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    for (size_t i = 0; i < n; i++) {
        if ((rc = parse_rule(json_array_get(list, i), i, &rs[i], e)))
            goto out;
        for (size_t j = 0; j < i; j++)
            if (strcmp(rs[j].kind, rs[i].kind) == 0 && strcmp(rs[j].recipient, rs[i].recipient) == 0 &&
                strcmp(rs[j].match_on, rs[i].match_on) == 0) {
                char f[32];
                snprintf(f, sizeof f, "rules[%zu].recipient", i);
                rc = nx_fail(e, NX_EINVAL, f, "同一事件、同一接收人、同一条件的规则重复");
                goto out;
            }
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        goto out;
    int64_t now = clock_now_ms();
    /* Rows keep their id when (kind, recipient, match_on) stays, so deliveries still name them. */
    if ((rc = store_exec(tx, "UPDATE message_rules SET enabled = -1", NULL, 0, NULL, e)))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        rule_in *r = &rs[i];
        store_param p[] = {P_TEXT(r->kind),  P_TEXT(r->recipient),       P_TEXT(r->match_on),     P_TEXT(r->channels),
                           P_TEXT(r->title), P_TEXT(r->tpl),             P_INT(r->urgent ? 1 : 0), P_INT(r->enabled ? 1 : 0),
                           P_INT(now)};
        if ((rc = store_exec(tx,
                             "INSERT INTO message_rules (kind, recipient, match_on, channels, title, template, urgent, "
                             "enabled, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (kind, "
                             "recipient, match_on) DO UPDATE SET channels = $4, title = $5, template = $6, urgent = $7, "
                             "enabled = $8, updated_at = $9",
                             p, 9, NULL, e)))
            goto fail;
    }
    if ((rc = store_exec(tx, "DELETE FROM message_rules WHERE enabled = -1", NULL, 0, NULL, e)) ||
        (rc = audit_write(tx, who, "update", "message_rules", 0, 0, NULL, e)))
        goto fail;
    rc = store_commit(tx, e);
    goto out;
fail:
    store_rollback(tx);
out:
    free(rs);
    return rc;
}

/* ---- the delivery log ---- */

static json_t *delivery_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i event_id:i notice_id:i channel:t user_id:i resident_id:i contact_kind:t "
                                  "kind:t subject:t title:t body:t link:t urgent:b status:t attempts:i next_at:d "
                                  "last_error:t created_at:d sent_at:d updated_at:d seq:i");
    return o;
}

/* The deliveries of who's communities (the street's, one community's, or all). */
static void delivery_scope(sqlq *q, const nx_principal *who)
{
    if (who->scope == SCOPE_STREET)
        sqlq_add(q, " AND d.community_id IN (SELECT id FROM communities WHERE street_id = $%d)", P_INT(who->street_id));
    else if (who->scope != SCOPE_ALL)
        sqlq_add(q, " AND d.community_id = $%d", P_INT(who->community_id));
}

int messages_deliveries_list(nx_app *app, const nx_principal *who, const char *status, const char *channel,
                             const char *kind, const char *cursor, int limit, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_MESSAGE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权查看发送记录");
    int64_t before = 0;
    int rc = store_page_cursor_id(cursor, &before, e);
    if (rc)
        return rc;
    static const char *const statuses[] = {"queued", "sent", "delivered", "failed", "read", "cancelled", NULL};
    if (status) {
        bool ok = false;
        for (int i = 0; statuses[i]; i++)
            ok = ok || strcmp(statuses[i], status) == 0;
        if (!ok)
            return nx_fail(e, NX_EINVAL, "status", "状态应为 queued、sent、delivered、failed、read 或 cancelled");
    }
    if (channel && !msg_channel_valid(channel))
        return nx_fail(e, NX_EINVAL, "channel", "渠道应为 inapp、sms、voice 或 wecom");
    sqlq q;
    sqlq_init(&q, "SELECT d.id, d.event_id, d.notice_id, d.channel, d.user_id, d.resident_id, d.contact_kind, d.kind, "
                  "d.subject, d.title, d.body, d.link, d.urgent, d.status, d.attempts, d.next_at, d.last_error, "
                  "d.created_at, d.sent_at, d.updated_at, d.seq FROM message_deliveries d WHERE 1 = 1");
    delivery_scope(&q, who);
    sqlq_eq_text(&q, "d.status", status);
    sqlq_eq_text(&q, "d.channel", channel);
    if (kind && *kind)
        sqlq_add(&q, " AND d.kind = $%d", P_TEXT(kind));
    store_page_spec s = {.limit = limit, .max = (int)app->cfg->page_max, .row = delivery_row};
    return store_page_by_id(app->db, &q, "d.", before, false, &s, out, e);
}

int messages_costs(nx_app *app, const nx_principal *who, const char *month, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_MESSAGE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权查看消息费用");
    char ym[8], first[11];
    nx_date d;
    if (month && *month) {
        if (strlen(month) != 7 || month[4] != '-')
            return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
        snprintf(first, sizeof first, "%s-01", month);
        if (date_parse(first, &d))
            return nx_fail(e, NX_EINVAL, "month", "月份格式应为 YYYY-MM");
    } else {
        d = date_today();
        d.d = 1;
    }
    snprintf(ym, sizeof ym, "%04d-%02d", d.y, d.m);
    nx_date next = {.y = d.m == 12 ? d.y + 1 : d.y, .m = d.m == 12 ? 1 : d.m + 1, .d = 1};
    int64_t from = date_to_days(d) * 86400000LL - NX_TZ_OFFSET_MS, to = date_to_days(next) * 86400000LL - NX_TZ_OFFSET_MS;
    /* one row per channel, sent or not: a message counts once it left (sent, delivered in the inbox,
     * read) within the month, by the time it was sent; its price is the configuration's */
    const nx_config *c = app->cfg;
    const struct {
        const char *channel;
        int64_t unit;
    } prices[] = {{"inapp", c->msg_price_inapp_fen}, {"sms", c->msg_price_sms_fen}, {"voice", c->msg_price_voice_fen},
                  {"wecom", c->msg_price_wecom_fen}};
    sqlq q;
    sqlq_init(&q, "SELECT d.channel, count(*) FROM message_deliveries d WHERE d.status IN ('sent', 'delivered', 'read')");
    sqlq_range_ms(&q, "d.sent_at", from, to);
    delivery_scope(&q, who);
    sqlq_sql(&q, " GROUP BY d.channel");
    store_tx *tx;
    store_rows *r;
    int rc = sqlq_read(app->db, &q, &tx, &r, e);
    if (rc)
        return rc;
    int64_t sent[4] = {0};
    while (store_row(r))
        for (int i = 0; i < 4; i++)
            if (strcmp(prices[i].channel, store_text(r, 0)) == 0)
                sent[i] = store_int(r, 1);
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc)
        return rc;
    json_t *items = json_array();
    int64_t total = 0;
    for (int i = 0; i < 4; i++) {
        total += prices[i].unit * sent[i];
        json_array_append_new(items, json_pack("{s:s, s:I, s:I, s:I}", "channel", prices[i].channel, "sent",
                                               (json_int_t)sent[i], "unit_fen", (json_int_t)prices[i].unit,
                                               "cost_fen", (json_int_t)(prices[i].unit * sent[i])));
    }
    *out = json_pack("{s:s, s:o, s:I}", "month", ym, "items", items, "total_fen", (json_int_t)total);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}
