/* messages_notices.c — notices (通知公告) to an audience, with read receipts.
 *
 * A notice belongs to one community and names its audience inside it: the whole community, or
 * estates, grids, buildings and tags (独居, 党员 … by tag code); a resident is in the audience when
 * any of the lists matches and they live there (status active). The audience is resolved when the
 * notice is published — at once, or by the sender's ticker when publish_at comes — into
 * notice_recipients (one row per resident: the receipt), an inbox message per resident (their own
 * and their family's accounts read it) and, when the notice goes by SMS as well, a queued delivery
 * per resident that the person's quiet hours hold back (a notice is never urgent). An audience
 * that matches nobody is refused (422, field "audience") and nothing is written. Reading the
 * notice (GET as the resident, or marking its message read) fills the receipt; the receipts list
 * who has read and exactly who has not, with masked names and their grid, so that a grid worker
 * can go and tell them. Writing notices and reading receipts: RIGHT_NOTICE_WRITE in scope. */
#include "modules/messages/messages_internal.h"

#include "secure/audit.h"
#include "base/vec.h"
#include "text/mask.h"

#include <stdio.h>
#include <string.h>

#define AUDIENCE_ITEMS 50

static const char *const lists[] = {"communities", "estates", "grids", "buildings", "tags", NULL};

/* "YYYY-MM-DDTHH:MM[:SS][+08:00]" (local time) → epoch ms; -1 when malformed. */
int64_t msg_parse_local_time(const char *s)
{
    nx_date d;
    char day[11];
    if (!s || strlen(s) < 16 || s[10] != 'T' || s[13] != ':')
        return -1;
    memcpy(day, s, 10);
    day[10] = '\0';
    if (date_parse(day, &d))
        return -1;
    int h = 0, m = 0, sec = 0;
    for (int i = 11; i < 16; i++)
        if (i != 13 && (s[i] < '0' || s[i] > '9'))
            return -1;
    h = (s[11] - '0') * 10 + (s[12] - '0');
    m = (s[14] - '0') * 10 + (s[15] - '0');
    const char *rest = s + 16;
    if (rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9') {
        sec = (rest[1] - '0') * 10 + (rest[2] - '0');
        rest += 3;
    }
    if (*rest && strcmp(rest, "+08:00") != 0)
        return -1;
    if (h > 23 || m > 59 || sec > 59)
        return -1;
    return (date_to_days(d) * 86400LL + h * 3600LL + m * 60LL + sec) * 1000LL - NX_TZ_OFFSET_MS;
}

/* Append the audience condition on residents r to q: " AND (… OR …)". aud validated already. */
static void audience_where(sqlq *q, int64_t community, json_t *aud)
{
    sqlq_add(q, " AND r.status = 'active' AND r.community_id = $%d AND (1 = 0", P_INT(community));
    for (int l = 0; lists[l]; l++) {
        json_t *arr = json_object_get(aud, lists[l]);
        if (json_array_size(arr) == 0)
            continue;
        static const char *const heads[] = {" OR r.community_id IN (", " OR r.estate_id IN (", " OR r.grid_id IN (",
                                            " OR r.room_id IN (SELECT id FROM rooms WHERE building_id IN (",
                                            (" OR r.id IN (SELECT rt.resident_id FROM resident_tags rt JOIN tags t ON "
                                             "t.id = rt.tag_id WHERE t.code IN (")};
        sqlq_sql(q, "%s", heads[l]);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            sqlq_sql(q, "%s", i ? ", " : "");
            if (l == 4)
                sqlq_add(q, "$%d", P_TEXT(json_string_value(v)));
            else
                sqlq_add(q, "$%d", P_INT(json_integer_value(v)));
        }
        sqlq_sql(q, "%s", l == 3 || l == 4 ? "))" : ")");
    }
    sqlq_sql(q, ")");
}

int msg_audience_check(json_t *aud, nx_err *e)
{
    if (!json_is_object(aud))
        return nx_fail(e, NX_EINVAL, "audience", "请选择通知对象（社区、小区、网格、楼栋或标签）");
    int rc = json_only(aud, lists, e);
    if (rc) {
        char f[64];
        snprintf(f, sizeof f, "audience.%s", e->field);
        str_copy(e->field, f, sizeof e->field);
        return rc;
    }
    size_t total = 0;
    for (int l = 0; lists[l]; l++) {
        json_t *arr = json_object_get(aud, lists[l]);
        if (!arr)
            continue;
        char f[64];
        snprintf(f, sizeof f, "audience.%s", lists[l]);
        if (!json_is_array(arr) || json_array_size(arr) > AUDIENCE_ITEMS)
            return nx_fail(e, NX_EINVAL, f, "%s 应为数组，至多 %d 项", lists[l], AUDIENCE_ITEMS);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            bool ok = l == 4 ? (json_is_string(v) && strlen(json_string_value(v)) <= 40)
                             : (json_is_integer(v) && json_integer_value(v) > 0);
            if (!ok)
                return nx_fail(e, NX_EINVAL, f, l == 4 ? "标签应为标签代码（字符串）" : "应为编号（正整数）");
        }
        total += json_array_size(arr);
    }
    if (total == 0)
        return nx_fail(e, NX_EINVAL, "audience", "请选择通知对象（社区、小区、网格、楼栋或标签）");
    return 0;
}

/* Publish notice id inside tx: receipts, inbox messages, SMS deliveries, the event. *count gets the
 * number of recipients; NX_EINVAL (audience) when nobody matches. */
static int publish(store_tx *tx, int64_t id, int64_t community, const char *title, const char *body, json_t *aud,
                   const char *channels, int64_t now, int64_t *count, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "INSERT INTO notice_recipients (notice_id, resident_id) SELECT ");
    sqlq_add(&q, "$%d, r.id FROM residents r WHERE 1 = 1", P_INT(id));
    audience_where(&q, community, aud);
    int64_t n = 0;
    int rc = sqlq_exec(tx, &q, &n, e);
    if (rc)
        return rc;
    if (n == 0)
        return nx_fail(e, NX_EINVAL, "audience", "通知对象中没有任何居民，请调整对象");
    *count = n;
    char link[64], excerpt[400];
    snprintf(link, sizeof link, "/m/notices/%lld", (long long)id);
    size_t k = 0, chars = 0;
    for (; body[k] && chars < 60 && k < sizeof excerpt - 8; chars++) {
        k++;
        while ((body[k] & 0xC0) == 0x80)
            k++;
    }
    snprintf(excerpt, sizeof excerpt, "%.*s%s", (int)k, body, body[k] ? "……" : "");
    store_param d[] = {P_INT(id),      P_INT(community), P_TEXT(MESSAGES_EV_NOTICE_PUBLISHED), P_TEXT(title),
                       P_TEXT(excerpt), P_TEXT(link),    P_INT(now)};
    if ((rc = store_exec(tx,
                         "INSERT INTO message_deliveries (notice_id, channel, resident_id, community_id, kind, subject, "
                         "title, body, link, status, created_at, sent_at, updated_at) SELECT $1, 'inapp', nr.resident_id, "
                         "$2, $3, 'notice:' || CAST($1 AS TEXT), $4, $5, $6, 'delivered', $7, $7, $7 FROM "
                         "notice_recipients nr WHERE nr.notice_id = $1",
                         d, 7, NULL, e)) ||
        (rc = store_exec(tx,
                         "INSERT INTO notifications (community_id, resident_id, kind, title, body, link, created_at, "
                         "delivery_id, notice_id) SELECT $2, d.resident_id, $3, $4, $5, $6, $7, d.id, $1 FROM "
                         "message_deliveries d WHERE d.notice_id = $1 AND d.channel = 'inapp'",
                         d, 7, NULL, e)))
        return rc;
    if (msg_list_has(channels, "sms") && msg_channel_configured("sms")) {
        /* queued now; the person's quiet hours and muted channels apply (a notice is never urgent) */
        store_param p[] = {P_INT(id)};
        vec ids;
        vec_init(&ids, sizeof(int64_t), 0);
        if ((rc = store_query_ids(tx,
                                  "SELECT nr.resident_id FROM notice_recipients nr JOIN residents r ON r.id = "
                                  "nr.resident_id WHERE nr.notice_id = $1 AND r.phone_enc IS NOT NULL ORDER BY 1",
                                  p, 1, &ids, e))) {
            vec_cleanup(&ids);
            return rc;
        }
        const int64_t *rs = ids.items;
        for (size_t i = 0; rc == 0 && i < ids.len; i++) {
            msg_prefs pf;
            if ((rc = msg_prefs_load(tx, "r", rs[i], &pf, e)))
                break;
            if (msg_list_has(pf.muted, "sms"))
                continue;
            int64_t until = msg_quiet_until(now, pf.quiet_start, pf.quiet_end);
            bool capped;
            if ((rc = msg_over_daily_cap(tx, "sms", "resident", rs[i], 0, now, &capped, e)))
                break;
            char text[600], why[96] = "";
            if (capped)
                msg_daily_cap_reason(why, sizeof why);
            snprintf(text, sizeof text, "【通知】%s", title);
            store_param s[] = {P_INT(id),   P_INT(rs[i]), P_INT(community), P_TEXT(MESSAGES_EV_NOTICE_PUBLISHED),
                               P_TEXT(title), P_TEXT(text), P_TEXT(link),   P_ID(capped ? 0 : until ? until : now),
                               P_INT(now),    P_TEXT(capped ? "cancelled" : "queued"), P_TEXT(capped ? why : NULL)};
            rc = store_exec(tx,
                            "INSERT INTO message_deliveries (notice_id, channel, resident_id, contact_id, contact_kind, "
                            "community_id, kind, subject, title, body, link, status, next_at, created_at, updated_at, "
                            "last_error) VALUES ($1, 'sms', $2, $2, 'resident', $3, $4, 'notice:' || CAST($1 AS TEXT), "
                            "$5, $6, $7, $10, $8, $9, $9, $11) ON CONFLICT DO NOTHING",
                            s, 11, NULL, e);
        }
        vec_cleanup(&ids);
        if (rc)
            return rc;
    }
    store_param u[] = {P_INT(n), P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE notices SET status = 'published', published_at = $2, recipients = $1, updated_at = $2 "
                         "WHERE id = $3",
                         u, 3, NULL, e)))
        return rc;
    if ((rc = outbox_emit_new(tx, MESSAGES_EV_NOTICE_PUBLISHED, community, "notice", id,
                              json_pack("{s:I, s:I}", "notice_id", (json_int_t)id, "count", (json_int_t)n), e)))
        return rc;
    return msg_inbox_signal_notice(tx, community, id, e);
}

int msg_notice_post(store_tx *tx, const nx_principal *who, int64_t community, const char *title, const char *body,
                    json_t *aud, const char *channels, int64_t publish_at, int64_t now, int64_t *id, nx_err *e)
{
    int rc;
    char *aud_text = json_dumps(aud, JSON_COMPACT);
    bool later = publish_at > now;
    store_param p[] = {P_INT(community),        P_TEXT(title), P_TEXT(body),  P_TEXT(aud_text), P_TEXT(channels),
                       P_TEXT(later ? "scheduled" : "draft"), P_INT(publish_at), P_ID(who->user_id), P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO notices (community_id, title, body, audience, channels, status, publish_at, "
                       "created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                       p, 9, id, e);
    free(aud_text);
    if (rc)
        return rc;
    if (later) { /* the audience must match someone now too: refuse a notice to nobody early */
        sqlq q;
        sqlq_init(&q, "SELECT count(*) FROM residents r WHERE 1 = 1");
        audience_where(&q, community, aud);
        int64_t n = 0;
        if ((rc = sqlq_one_int(tx, &q, &n, e)))
            return rc;
        if (n == 0)
            return nx_fail(e, NX_EINVAL, "audience", "通知对象中没有任何居民，请调整对象");
    } else {
        int64_t n = 0;
        if ((rc = publish(tx, *id, community, title, body, aud, channels, now, &n, e)))
            return rc;
    }
    return 0;
}

int messages_notice_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权发布通知");
    static const char *const allowed[] = {"community_id", "title", "body", "audience", "channels", "publish_at", NULL};
    const char *title = NULL, *body = NULL, *at = NULL;
    int64_t community = 0;
    json_t *ch = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &community, e)) < 0 ||
        (rc = json_read_str(in, "title", true, 100, &title, e)) ||
        (rc = json_read_str(in, "body", true, 5000, &body, e)) ||
        (rc = json_get_str_array(in, "channels", false, 4, 10, &ch, e)) < 0 ||
        (rc = json_read_str(in, "publish_at", false, 40, &at, e)))
        return rc;
    json_t *aud = json_object_get(in, "audience");
    if ((rc = msg_audience_check(aud, e)))
        return rc;
    char channels[64] = "inapp";
    size_t i;
    json_t *v;
    json_array_foreach(ch, i, v)
    {
        const char *c = json_string_value(v);
        if (strcmp(c, "inapp") != 0 && strcmp(c, "sms") != 0)
            return nx_fail(e, NX_EINVAL, "channels", "通知的渠道为 inapp（站内）和 sms（短信）");
        msg_list_add(channels, sizeof channels, c);
    }
    int64_t now = clock_now_ms(), publish_at = now;
    if (at && (publish_at = msg_parse_local_time(at)) < 0)
        return nx_fail(e, NX_EINVAL, "publish_at", "发布时间格式应为 YYYY-MM-DDTHH:MM（北京时间）");
    store_tx *tx;
    if ((rc = msg_begin_in_community(app, who, &community, &tx, e)))
        return rc;
    if ((rc = msg_notice_post(tx, who, community, title, body, aud, channels, publish_at, now, id, e)))
        goto fail;
    if ((rc = audit_write(tx, who, "create", "notice", *id, community, NULL, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

int messages_notices_due(nx_app *app, int64_t now_ms, int *count, nx_err *e)
{
    *count = 0;
    for (int guard = 0; guard < 50; guard++) {
        store_tx *tx;
        int rc = store_begin(app->db, STORE_WRITE, &tx, e);
        if (rc)
            return rc;
        store_rows *r;
        store_param p[] = {P_INT(now_ms)};
        if ((rc = store_query(tx,
                              "SELECT id, community_id, title, body, audience, channels FROM notices WHERE status = "
                              "'scheduled' AND publish_at <= $1 ORDER BY publish_at, id LIMIT 1",
                              p, 1, &r, e))) {
            store_rollback(tx);
            return rc;
        }
        if (!store_row(r)) {
            rc = store_rows_end(r, e);
            store_rollback(tx);
            return rc;
        }
        int64_t id = store_int(r, 0), community = store_int(r, 1);
        char *title = strdup(store_text(r, 2)), *body = strdup(store_text(r, 3));
        json_t *aud = json_loads(store_text(r, 4), 0, NULL);
        char channels[64];
        str_copy(channels, store_text(r, 5), sizeof channels);
        store_rows_free(r);
        int64_t n = 0;
        nx_err pe;
        nx_err_clear(&pe);
        if (!title || !body || !aud)
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        else
            rc = publish(tx, id, community, title, body, aud, channels, now_ms, &n, &pe);
        if (rc == NX_EINVAL) { /* the audience emptied since: the notice is kept, marked, not retried */
            store_rollback(tx);
            rc = store_begin(app->db, STORE_WRITE, &tx, e);
            if (rc == 0) {
                store_param u[] = {P_INT(now_ms), P_INT(id)};
                rc = store_exec(tx, "UPDATE notices SET status = 'failed', updated_at = $1 WHERE id = $2", u, 2, NULL, e);
            }
        } else if (rc && rc != NX_ENOMEM)
            *e = pe;
        free(title);
        free(body);
        json_decref(aud);
        if (rc) {
            store_rollback(tx);
            return rc;
        }
        if ((rc = store_commit(tx, e)))
            return rc;
        (*count)++;
    }
    return 0;
}

/* ---- reading ---- */

static json_t *notice_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i title:t body:t - channels:t status:t publish_at:d "
                                  "published_at:d recipients:i created_at:d");
    if (o) {
        json_t *aud = json_loads(store_text(r, 4), 0, NULL);
        json_object_set_new(o, "audience", aud ? aud : json_object());
        if (store_ncols(r) > 11)
            json_object_set_new(o, "read_count", json_integer(store_int(r, 11)));
    }
    return o;
}

#define NOTICE_COLS                                                                                                \
    "SELECT n.id, n.community_id, n.title, n.body, n.audience, n.channels, n.status, n.publish_at, "              \
    "n.published_at, n.recipients, n.created_at"

/* Residents (self scope) see the notices they received; staff the notices of their scope. */
static void notice_scope(sqlq *q, const nx_principal *who)
{
    if (who->scope == SCOPE_SELF)
        sqlq_add(q, " AND n.id IN (SELECT notice_id FROM notice_recipients WHERE resident_id = $%d)",
                 P_INT(who->resident_id));
    else
        perm_scope_q(who, "n.", NULL, q);
}

int messages_notice_list(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out,
                         nx_err *e)
{
    int64_t before = 0;
    int rc = store_page_cursor_id(cursor, &before, e);
    if (rc)
        return rc;
    if (who->scope != SCOPE_SELF && !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权查看通知列表");
    sqlq q;
    sqlq_init(&q, NOTICE_COLS ", (SELECT count(*) FROM notice_recipients x WHERE x.notice_id = n.id AND x.read_at IS "
                              "NOT NULL) FROM notices n WHERE 1 = 1");
    notice_scope(&q, who);
    if (who->scope == SCOPE_SELF)
        sqlq_sql(&q, " AND n.status = 'published'");
    store_page_spec s = {.limit = limit, .max = (int)app->cfg->page_max, .row = notice_row};
    return store_page_by_id(app->db, &q, "n.", before, false, &s, out, e);
}

int messages_notice_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (who->scope != SCOPE_SELF && !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权查看通知");
    sqlq q;
    sqlq_init(&q, NOTICE_COLS " FROM notices n WHERE 1 = 1");
    sqlq_add(&q, " AND n.id = $%d", P_INT(id));
    notice_scope(&q, who);
    store_page_spec s = {.row = notice_row};
    store_tx *tx;
    json_t *o = NULL;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    if ((rc = store_get(tx, &q, &s, "通知不存在", &o, e)) == 0)
        rc = msg_notice_files(tx, id, o, e);
    if ((rc = store_read_finish(tx, rc, o, out)))
        return rc;
    if (who->scope != SCOPE_SELF || !who->resident_id)
        return 0;
    /* a resident (or their family) opened it: their receipt, and its inbox message, are read */
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)) == 0) {
        int64_t now = clock_now_ms();
        store_param p[] = {P_INT(id), P_INT(who->resident_id), P_INT(now), P_INT(who->user_id)};
        if ((rc = store_exec(tx,
                             "UPDATE notice_recipients SET read_at = $3, read_by = $4 WHERE notice_id = $1 AND "
                             "resident_id = $2 AND read_at IS NULL",
                             p, 4, NULL, e)) ||
            (rc = store_exec(tx,
                             "UPDATE message_deliveries SET status = 'read', updated_at = $3 WHERE notice_id = $1 AND "
                             "resident_id = $2 AND channel = 'inapp' AND status = 'delivered' AND $4 = $4",
                             p, 4, NULL, e)) ||
            (rc = store_exec(tx,
                             "UPDATE notifications SET read_at = $3 WHERE notice_id = $1 AND resident_id = $2 AND "
                             "read_at IS NULL AND $4 = $4",
                             p, 4, NULL, e)))
            store_rollback(tx);
        else
            rc = store_commit(tx, e);
    }
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int messages_notice_receipts(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_NOTICE_WRITE) || who->scope == SCOPE_SELF)
        return nx_fail(e, NX_EPERM, "", "无权查看阅读回执");
    sqlq q;
    sqlq_init(&q, "SELECT n.id FROM notices n WHERE 1 = 1");
    sqlq_add(&q, " AND n.id = $%d", P_INT(id));
    perm_scope_q(who, "n.", NULL, &q);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t found = 0;
    if ((rc = sqlq_one_int(tx, &q, &found, e))) {
        store_rollback(tx);
        return rc == NX_ENOTFOUND ? nx_fail(e, NX_ENOTFOUND, "", "通知不存在") : rc;
    }
    store_rows *r;
    store_param p[] = {P_INT(id)};
    if ((rc = store_query(tx,
                          "SELECT nr.resident_id, r.name, r.grid_id, g.name, nr.read_at FROM notice_recipients nr JOIN "
                          "residents r ON r.id = nr.resident_id LEFT JOIN grids g ON g.id = r.grid_id WHERE "
                          "nr.notice_id = $1 ORDER BY r.grid_id, r.sort_key, r.id",
                          p, 1, &r, e))) {
        store_rollback(tx);
        return rc;
    }
    json_t *unread = json_array(), *read = json_array();
    while (store_row(r)) {
        char masked[64];
        mask_name(store_text(r, 1), masked, sizeof masked);
        json_t *o = json_pack("{s:I, s:s, s:o, s:o}", "resident_id", (json_int_t)store_int(r, 0), "name", masked,
                              "grid_id", store_isnull(r, 2) ? json_null() : json_integer(store_int(r, 2)), "grid_name",
                              store_json_text(r, 3));
        if (store_isnull(r, 4))
            json_array_append_new(unread, o);
        else {
            json_object_set_new(o, "read_at", store_json_time(r, 4));
            json_array_append_new(read, o);
        }
    }
    rc = store_rows_end(r, e);
    store_rollback(tx);
    if (rc) {
        json_decref(unread);
        json_decref(read);
        return rc;
    }
    *out = json_pack("{s:I, s:I, s:I, s:o, s:o}", "notice_id", (json_int_t)id, "total",
                     (json_int_t)(json_array_size(unread) + json_array_size(read)), "read",
                     (json_int_t)json_array_size(read), "unread", unread, "read_list", read);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}
