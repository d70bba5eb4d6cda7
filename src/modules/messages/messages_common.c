/* messages_common.c — the small vocabularies of the message module: channel names, the template
 * language and local time of day.
 *
 * A template is Chinese text with {placeholders}, each a name from messages_placeholders; "{{" and
 * "}}" write a literal brace. The names are fixed so that a typo in a rule ({titel}) is refused when
 * the rule is saved, with the name in the message, rather than sent as an empty hole; a name the
 * event does not carry renders as nothing. Values come from the event's payload and the object it
 * is about (messages_service.c); none of them is personal data (no names, phones, ID numbers).
 * Quiet hours are minutes of the local day (UTC+8, as everywhere in nuanxin) and may wrap midnight
 * (22:00–07:00). No state; thread-safe. */
#include "modules/messages/messages_internal.h"

#include "base/vec.h"

#include <stdio.h>
#include <string.h>

const char *const messages_placeholders[] = {
    "title",  "status",   "category", "place",    "result", "deadline", "due_date",  "level",
    "kind",   "severity", "id",       "community", "grid",  "time",     "alert_kind", "count",
    "starts_at", "reason", "due_on", "step_name", "serial", "next_step", NULL};

static const char *const channels[] = {"inapp", "sms", "voice", "wecom", NULL};

bool msg_channel_valid(const char *name)
{
    for (int i = 0; channels[i]; i++)
        if (strcmp(channels[i], name) == 0)
            return true;
    return false;
}

int msg_channels_check(const char *list, const char *field, nx_err *e)
{
    if (!list || !*list)
        return nx_fail(e, NX_EINVAL, field, "请至少选择一个渠道（inapp、sms、voice、wecom）");
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[16];
        if (n == 0 || n >= sizeof name)
            return nx_fail(e, NX_EINVAL, field, "渠道应为 inapp、sms、voice、wecom，用逗号分隔");
        memcpy(name, p, n);
        name[n] = '\0';
        if (!msg_channel_valid(name))
            return nx_fail(e, NX_EINVAL, field, "未知的渠道「%s」：应为 inapp、sms、voice 或 wecom", name);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

void msg_list_add(char *list, size_t cap, const char *name)
{
    size_t n = strlen(list);
    if (!msg_list_has(list, name))
        snprintf(list + n, cap - n, "%s%s", n ? "," : "", name);
}

bool msg_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && strncmp(p, name, n) == 0)
            return true;
        p = comma ? comma + 1 : p + k;
    }
    return false;
}

static bool placeholder_known(const char *name, size_t n)
{
    for (int i = 0; messages_placeholders[i]; i++)
        if (strlen(messages_placeholders[i]) == n && strncmp(messages_placeholders[i], name, n) == 0)
            return true;
    return false;
}

int msg_template_check(const char *tpl, const char *field, nx_err *e)
{
    for (const char *p = tpl; *p; p++) {
        if (p[0] == '{' && p[1] == '{') {
            p++;
            continue;
        }
        if (p[0] == '}' && p[1] == '}') {
            p++;
            continue;
        }
        if (*p == '}')
            return nx_fail(e, NX_EINVAL, field, "模板中的「}」没有对应的「{」（字面的花括号请写成 }}）");
        if (*p != '{')
            continue;
        const char *end = strchr(p + 1, '}');
        if (!end)
            return nx_fail(e, NX_EINVAL, field, "模板中的「{」没有闭合");
        size_t n = (size_t)(end - p - 1);
        if (!placeholder_known(p + 1, n)) {
            char name[40], known[400];
            snprintf(name, sizeof name, "%.*s", (int)(n < 32 ? n : 32), p + 1);
            size_t k = 0;
            known[0] = '\0';
            for (int i = 0; messages_placeholders[i] && k < sizeof known; i++)
                k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? "、" : "", messages_placeholders[i]);
            return nx_fail(e, NX_EINVAL, field, "模板中的占位符 {%s} 未知；可用：%s", name, known);
        }
        p = end;
    }
    return 0;
}

void msg_render(const char *tpl, json_t *vars, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (const char *p = tpl; *p && o + 1 < cap; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            out[o++] = *p++;
            continue;
        }
        const char *end = p[0] == '{' ? strchr(p + 1, '}') : NULL;
        if (!end) {
            out[o++] = *p;
            continue;
        }
        char name[40];
        size_t n = (size_t)(end - p - 1);
        snprintf(name, sizeof name, "%.*s", (int)(n < 39 ? n : 39), p + 1);
        json_t *v = json_object_get(vars, name);
        char num[32];
        const char *s = NULL;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        }
        if (s) {
            size_t k = strlen(s);
            if (o + k >= cap) /* never cut a UTF-8 sequence: drop the value */
                k = 0;
            memcpy(out + o, s, k);
            o += k;
        }
        p = end;
    }
    out[o] = '\0';
}

int msg_local_minute(int64_t ms)
{
    int64_t local = ms + NX_TZ_OFFSET_MS;
    int64_t day_ms = 24LL * 3600 * 1000;
    int64_t in_day = ((local % day_ms) + day_ms) % day_ms;
    return (int)(in_day / 60000);
}

int msg_parse_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

int64_t msg_quiet_until(int64_t now_ms, int start, int end)
{
    if (start < 0 || end < 0 || start == end)
        return 0;
    int now = msg_local_minute(now_ms);
    bool inside = start < end ? (now >= start && now < end) : (now >= start || now < end);
    if (!inside)
        return 0;
    int wait = end - now;
    if (wait <= 0)
        wait += 24 * 60;
    /* to the start of the minute the window ends at */
    return now_ms - (now_ms % 60000) + (int64_t)wait * 60000;
}

static int signal_rows(store_tx *tx, int64_t community, const char *sql, int64_t id, nx_err *e)
{
    store_param p[] = {P_INT(id)};
    vec ids;
    vec_init(&ids, sizeof(int64_t), 0);
    int rc = store_query_ids(tx, sql, p, 1, &ids, e);
    const int64_t *us = ids.items;
    for (size_t i = 0; rc == 0 && i < ids.len; i++)
        rc = msg_inbox_signal(tx, community, us[i], 0, e);
    vec_cleanup(&ids);
    return rc;
}

int msg_inbox_signal(store_tx *tx, int64_t community, int64_t user_id, int64_t resident_id, nx_err *e)
{
    if (user_id) {
        int rc = outbox_emit_new(tx, MESSAGES_EV_INBOX_CHANGED, community, "user", user_id,
                                 json_pack("{s:I}", "account_id", (json_int_t)user_id), e);
        if (rc)
            return rc;
    }
    if (!resident_id)
        return 0;
    return signal_rows(tx, community,
                       "SELECT id FROM users WHERE resident_id = $1 AND scope = 'self' AND disabled = 0 ORDER BY id",
                       resident_id, e);
}

int msg_inbox_signal_notice(store_tx *tx, int64_t community, int64_t notice_id, nx_err *e)
{
    return signal_rows(tx, community,
                       "SELECT DISTINCT u.id FROM notice_recipients nr JOIN users u ON u.resident_id = nr.resident_id "
                       "WHERE nr.notice_id = $1 AND u.scope = 'self' AND u.disabled = 0 ORDER BY u.id",
                       notice_id, e);
}

int msg_begin_in_community(nx_app *app, const nx_principal *who, int64_t *community, store_tx **tx, nx_err *e)
{
    if (!*community)
        *community = who->community_id;
    if (!*community)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区");
    int rc = store_begin(app->db, STORE_WRITE, tx, e);
    if (rc)
        return rc;
    if (!perm_covers(who, *tx, *community, 0)) {
        store_rollback(*tx);
        return nx_fail(e, NX_EINVAL, "community_id", "社区不存在或不在您的管辖范围内");
    }
    return 0;
}
