/* messages_service.c — the message service: every event of the outbox read through the rules.
 *
 * For one event the service finds the enabled rules of its kind (and whose match_on, if any, the
 * payload satisfies), learns what the event is about — the object named by its subject (incident,
 * problem, visit task, alert) read from its table, or, for kinds this file does not know (modules
 * that land later), the payload's own resident_id, grid_id and assignee_user_id (and "link" for the
 * in-app message: a resident page, /m/…, goes to residents, a console page to staff) — resolves each
 * rule's recipient into people, renders the rule's template, and writes, in ONE write transaction:
 * a delivery row per (rule, channel, person) and, for the in-app channel, the inbox row. The
 * delivery's unique key (event, rule, channel, person) makes a second delivery of the same event
 * by the outbox write nothing, so the service is idempotent as the dispatcher requires.
 *
 * Recipients: resident — the resident concerned (an incident's reporter, a problem's resident, an
 * alarm's wearer), whose inbox their own and their family's accounts read, and their own phone;
 * family — the resident's emergency contacts in order (phones: SMS and the voice call chain, one
 * call every msg_voice_gap_s until the alarm is acknowledged — the sender stops the chain);
 * assignee — the account assigned (or, for a grid member without an account such as a grid police
 * officer or a lawyer, their phone); grid_worker — the grid's worker accounts; duty — the
 * community's staff accounts; escalation — the next in the chain: the level the event names
 * (alarms: 0 grid worker, 1 duty staff, 2 family), else the community's staff, else the street's;
 * reviewers — the accounts reviewing the step the payload's step_role names (a service-hall
 * application: "community" the community's staff, "street" its street's officers); review_escalation —
 * the next in that review chain (above the community the street, above the street the administrators).
 *
 * External channels are queued (status queued, next_at) for the sender (messages_send.c) and only
 * when the channel is configured; a person's muted channels and quiet hours apply unless the rule
 * is urgent. Nothing here is personal data: texts carry titles and statuses, phones stay encrypted
 * in their own tables until the sender decrypts one to send. Runs on the dispatcher thread.
 *
 * Reading the inbox never waits for the service: with every inbox message the same transaction emits
 * MESSAGES_EV_INBOX_CHANGED for each account that reads it (msg_inbox_signal), which the live feed
 * sends on the inbox stream to that account alone, and the open pages reload their list and count. */
#include "modules/messages/messages_internal.h"

#include "base/log.h"
#include "base/vec.h"

#include <stdio.h>
#include <string.h>

/* ---- what the event is about ---- */

typedef struct about {
    int64_t community, grid, resident, assignee_user, assignee_member, subject_id, link_id;
    char type[32];
    char link[96]; /* the payload's "link" for the resident, for kinds without a lookup */
    json_t *vars;  /* the template's values */
} about;

/* The subject types this service can read. Columns: community, grid, resident, assignee user,
 * assignee member, title, status, category, place, result, deadline, and the id the staff link
 * names (a visit task opens its care file). */
static const struct {
    const char *type, *sql, *staff_link, *resident_link;
} lookups[] = {
    {"incident",
     "SELECT i.community_id, i.grid_id, i.reporter_resident_id, i.assignee_user_id, i.assignee_member_id, i.title, "
     "i.status, cv.label, i.place, i.result, NULL, i.id FROM incidents i LEFT JOIN care_vocab cv ON cv.kind = "
     "'incident_category' AND cv.code = i.category WHERE i.id = $1",
     "/grid/incidents/%lld", "/m/incidents"},
    {"problem",
     "SELECT p.community_id, p.grid_id, p.resident_id, p.assignee_user_id, NULL, p.title, p.status, cv.label, NULL, "
     "p.resolution, p.deadline, p.id FROM problems p LEFT JOIN care_vocab cv ON cv.kind = 'problem_category' AND cv.code "
     "= p.category WHERE p.id = $1",
     "/care/problems/%lld", "/m/problems/%lld"},
    {"visit_task",
     "SELECT t.community_id, t.grid_id, t.resident_id, t.assignee_user_id, NULL, NULL, t.status, t.kind, NULL, NULL, "
     "t.due_date, t.care_file_id FROM visit_tasks t WHERE t.id = $1",
     "/care/files/%lld", NULL},
    {"alert",
     "SELECT a.community_id, a.grid_id, a.resident_id, a.acked_by, NULL, NULL, a.state, a.kind, NULL, a.note, NULL, "
     "a.id FROM alerts a WHERE a.id = $1",
     "/alarms/%lld", "/m/alarms"},
    /* a service-hall application: the texts come from the payload (the item, the serial, the step at
     * the time of the event); the row gives the reviewer's note of a return or a refusal */
    {"application",
     "SELECT a.community_id, a.grid_id, a.resident_id, NULL, NULL, NULL, NULL, NULL, NULL, COALESCE(a.correction, "
     "a.reason), NULL, a.id FROM service_applications a WHERE a.id = $1",
     "/services/applications/%lld", "/m/services/%lld"},
    /* an old-age allowance stopped or its tier changed: the change's note says what and how much */
    {"allowance_change",
     "SELECT c.community_id, ar.grid_id, ar.resident_id, NULL, NULL, NULL, NULL, NULL, NULL, c.note, NULL, ar.id FROM "
     "allowance_changes c JOIN allowance_recipients ar ON ar.id = c.recipient_id WHERE c.id = $1",
     "/services/allowance", NULL},
};

static const struct {
    const char *code, *label;
} statuses[] = {
    {"open", "待处理"},      {"assigned", "已分派"},   {"in_progress", "办理中"}, {"resolved", "已办结"},
    {"closed", "已关闭"},    {"reported", "已上报"},   {"dispatched", "已派单"},  {"handled", "已处置"},
    {"done", "已完成"},      {"cancelled", "已取消"},  {"acknowledged", "已响应"}, {"false_alarm", "误报"},
};

static const char *status_label(const char *code)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (strcmp(statuses[i].code, code) == 0)
            return statuses[i].label;
    return code;
}

/* The alarm kinds of devices.h, as people say them. */
static const char *alert_label(const char *kind)
{
    static const struct {
        const char *code, *label;
    } kinds[] = {{"sos", "紧急呼叫（SOS）"}, {"fall", "跌倒报警"},       {"taken_off", "手环被摘下"},
                 {"low_battery", "电量低"},  {"fence", "越出电子围栏"}, {"heart_rate", "心率异常"},
                 {"blood_pressure", "血压异常"}, {"spo2", "血氧偏低"}, {"temperature", "体温异常"},
                 {"offline", "设备离线"},   {"no_activity", "长时间无活动"}, {"left_home", "离开住所"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].code, kind) == 0)
            return kinds[i].label;
    return "告警";
}

static void set_text(json_t *vars, const char *key, const char *v)
{
    if (v && *v)
        json_object_set_new(vars, key, json_string(v));
}

/* vars[key]: the name sql ("SELECT name … WHERE id = $1") reads for id; nothing when it has no row. */
static int set_name(store_tx *tx, json_t *vars, const char *key, const char *sql, int64_t id, nx_err *e)
{
    char *name = NULL;
    store_param p[] = {P_INT(id)};
    int rc = store_one_text(tx, sql, p, 1, &name, e);
    if (rc && rc != NX_ENOTFOUND)
        return rc;
    set_text(vars, key, name);
    free(name);
    return 0;
}

/* Fill a from the event: the payload's values, then the subject's row when its type is known. */
static int read_about(store_tx *tx, const nx_event *ev, json_t *payload, about *a, int *lookup, nx_err *e)
{
    memset(a, 0, sizeof *a);
    *lookup = -1;
    a->vars = json_object();
    a->community = ev->community_id;
    a->resident = (int64_t)json_integer_value(json_object_get(payload, "resident_id"));
    a->grid = (int64_t)json_integer_value(json_object_get(payload, "grid_id"));
    a->assignee_user = (int64_t)json_integer_value(json_object_get(payload, "assignee_user_id"));
    if (!a->assignee_user)
        a->assignee_user = (int64_t)json_integer_value(json_object_get(payload, "user_id"));
    const char *plink = json_string_value(json_object_get(payload, "link"));
    if (plink && plink[0] == '/' && strlen(plink) < sizeof a->link)
        str_copy(a->link, plink, sizeof a->link);
    const char *key;
    json_t *v;
    json_object_foreach(payload, key, v)
    {
        for (int i = 0; messages_placeholders[i]; i++)
            if (strcmp(messages_placeholders[i], key) == 0 && (json_is_string(v) || json_is_integer(v)))
                json_object_set(a->vars, key, v);
    }
    if (ev->subject) {
        const char *colon = strchr(ev->subject, ':');
        int64_t id = 0;
        if (colon && (size_t)(colon - ev->subject) < sizeof a->type &&
            str_to_i64(colon + 1, 1, INT64_MAX, &id) == 0) {
            memcpy(a->type, ev->subject, (size_t)(colon - ev->subject));
            a->type[colon - ev->subject] = '\0';
            a->subject_id = id;
            json_object_set_new(a->vars, "id", json_integer(id));
        }
    }
    const char *akind = json_string_value(json_object_get(payload, "kind"));
    if (akind && strcmp(a->type, "alert") == 0)
        set_text(a->vars, "alert_kind", alert_label(akind));
    for (int i = 0; i < (int)(sizeof lookups / sizeof lookups[0]) && a->subject_id; i++) {
        if (strcmp(lookups[i].type, a->type) != 0)
            continue;
        *lookup = i;
        store_rows *r;
        store_param p[] = {P_INT(a->subject_id)};
        int rc = store_query(tx, lookups[i].sql, p, 1, &r, e);
        if (rc)
            return rc;
        if (store_row(r)) {
            a->community = store_int(r, 0);
            a->grid = store_int(r, 1);
            a->resident = store_int(r, 2);
            a->assignee_user = store_int(r, 3);
            a->assignee_member = store_int(r, 4);
            set_text(a->vars, "title", store_text(r, 5));
            if (!store_isnull(r, 6))
                set_text(a->vars, "status", status_label(store_text(r, 6)));
            set_text(a->vars, "category", store_text(r, 7));
            set_text(a->vars, "place", store_text(r, 8));
            set_text(a->vars, "result", store_text(r, 9));
            set_text(a->vars, "deadline", store_text(r, 10));
            a->link_id = store_int(r, 11);
            if (strcmp(a->type, "alert") == 0 && !store_isnull(r, 7))
                set_text(a->vars, "alert_kind", alert_label(store_text(r, 7)));
            if (strcmp(a->type, "alert") == 0)
                a->assignee_user = 0; /* acked_by is who answered, not an assignee */
        }
        rc = store_rows_end(r, e);
        if (rc)
            return rc;
    }
    if (!json_object_get(a->vars, "title") && json_object_get(a->vars, "alert_kind"))
        json_object_set(a->vars, "title", json_object_get(a->vars, "alert_kind"));
    /* names of the community and the grid, and the event's time */
    int rc = 0;
    if (a->community)
        rc = set_name(tx, a->vars, "community", "SELECT name FROM communities WHERE id = $1", a->community, e);
    if (rc == 0 && a->grid)
        rc = set_name(tx, a->vars, "grid", "SELECT name FROM grids WHERE id = $1", a->grid, e);
    if (rc)
        return rc;
    char t[30];
    clock_format_local(ev->at, t);
    char when[12];
    snprintf(when, sizeof when, "%.5s %.5s", t + 5, t + 11); /* "MM-DD HH:MM" */
    set_text(a->vars, "time", when);
    return 0;
}

/* ---- recipients ---- */

enum { T_USER = 1, T_RESIDENT, T_EMERGENCY, T_MEMBER };

typedef struct target {
    int type;
    int64_t user_id, resident_id, contact_id;
    int seq;
} target;

#define TARGETS_MAX 200

typedef struct targets {
    target items[TARGETS_MAX];
    int n;
} targets;

static void add(targets *ts, target t)
{
    for (int i = 0; i < ts->n; i++)
        if (ts->items[i].type == t.type && ts->items[i].user_id == t.user_id &&
            ts->items[i].resident_id == t.resident_id && ts->items[i].contact_id == t.contact_id)
            return;
    if (ts->n < TARGETS_MAX)
        ts->items[ts->n++] = t;
}

/* Every active account of a query "SELECT id FROM users …" with one parameter. */
static int add_users(store_tx *tx, const char *sql, int64_t param, targets *ts, nx_err *e)
{
    if (!param)
        return 0;
    store_rows *r;
    store_param p[] = {P_INT(param)};
    int rc = store_query(tx, sql, p, 1, &r, e);
    if (rc)
        return rc;
    while (store_row(r))
        add(ts, (target){.type = T_USER, .user_id = store_int(r, 0)});
    return store_rows_end(r, e);
}

static int add_family(store_tx *tx, int64_t resident, targets *ts, nx_err *e)
{
    if (!resident)
        return 0;
    store_rows *r;
    store_param p[] = {P_INT(resident)};
    int rc = store_query(tx,
                         "SELECT id FROM emergency_contacts WHERE resident_id = $1 ORDER BY is_primary DESC, sort, id",
                         p, 1, &r, e);
    if (rc)
        return rc;
    int seq = 0;
    while (store_row(r))
        add(ts, (target){.type = T_EMERGENCY, .resident_id = resident, .contact_id = store_int(r, 0), .seq = seq++});
    return store_rows_end(r, e);
}

#define SQL_GRID_WORKERS "SELECT id FROM users WHERE role = 'grid' AND disabled = 0 AND grid_id = $1 ORDER BY id"
#define SQL_DUTY "SELECT id FROM users WHERE role = 'staff' AND disabled = 0 AND community_id = $1 ORDER BY id"
#define SQL_STREET                                                                                                 \
    "SELECT u.id FROM users u JOIN communities c ON c.street_id = u.street_id WHERE u.role = 'street' AND "      \
    "u.disabled = 0 AND c.id = $1 ORDER BY u.id"
#define SQL_ADMINS "SELECT id FROM users WHERE role = 'admin' AND disabled = 0 AND $1 > 0 ORDER BY id"

/* The accounts that review a step of role step_role ("community": the community's staff, "street":
 * its street's officers) in community c; above = true: the next in the review chain instead (above
 * the community's step the street, above the street's the administrators). */
static int add_review_chain(store_tx *tx, const char *step_role, bool above, int64_t c, targets *ts, nx_err *e)
{
    bool community = step_role && strcmp(step_role, "community") == 0;
    bool street = step_role && strcmp(step_role, "street") == 0;
    if (!above)
        return community ? add_users(tx, SQL_DUTY, c, ts, e) : street ? add_users(tx, SQL_STREET, c, ts, e) : 0;
    return add_users(tx, community ? SQL_STREET : SQL_ADMINS, c, ts, e);
}

static int resolve(store_tx *tx, const char *recipient, const about *a, json_t *payload, targets *ts, nx_err *e)
{
    ts->n = 0;
    if (strcmp(recipient, "resident") == 0) {
        if (a->resident)
            add(ts, (target){.type = T_RESIDENT, .resident_id = a->resident});
        return 0;
    }
    if (strcmp(recipient, "family") == 0)
        return add_family(tx, a->resident, ts, e);
    if (strcmp(recipient, "assignee") == 0) {
        if (a->assignee_user)
            add(ts, (target){.type = T_USER, .user_id = a->assignee_user});
        if (a->assignee_member) {
            int64_t uid = 0;
            store_param p[] = {P_INT(a->assignee_member)};
            int rc = store_one_int(tx, "SELECT COALESCE(user_id, 0) FROM grid_members WHERE id = $1", p, 1, &uid, e);
            if (rc && rc != NX_ENOTFOUND)
                return rc;
            if (uid)
                add(ts, (target){.type = T_USER, .user_id = uid});
            else if (rc == 0)
                add(ts, (target){.type = T_MEMBER, .contact_id = a->assignee_member});
        }
        return 0;
    }
    if (strcmp(recipient, "grid_worker") == 0)
        return add_users(tx, SQL_GRID_WORKERS, a->grid, ts, e);
    if (strcmp(recipient, "duty") == 0)
        return add_users(tx, SQL_DUTY, a->community, ts, e);
    if (strcmp(recipient, "reviewers") == 0 || strcmp(recipient, "review_escalation") == 0)
        return add_review_chain(tx, json_string_value(json_object_get(payload, "step_role")),
                                recipient[6] == '_', a->community, ts, e);
    if (strcmp(recipient, "escalation") == 0) {
        json_t *lv = json_object_get(payload, "level");
        if (json_is_integer(lv)) {
            json_int_t level = json_integer_value(lv);
            if (level <= 0)
                return add_users(tx, SQL_GRID_WORKERS, a->grid, ts, e);
            if (level == 1)
                return add_users(tx, SQL_DUTY, a->community, ts, e);
            add(ts, (target){.type = T_RESIDENT, .resident_id = a->resident});
            return add_family(tx, a->resident, ts, e);
        }
        int rc = add_users(tx, SQL_DUTY, a->community, ts, e);
        if (rc == 0 && ts->n == 0)
            rc = add_users(tx, SQL_STREET, a->community, ts, e);
        return rc;
    }
    return 0; /* an unknown recipient in the table: nobody (the rules' PUT refuses one) */
}

/* ---- preferences ---- */

int msg_prefs_load(store_tx *tx, const char *owner_kind, int64_t owner_id, msg_prefs *p, nx_err *e)
{
    memset(p, 0, sizeof *p);
    p->quiet_start = p->quiet_end = -1;
    store_rows *r;
    store_param a[] = {P_TEXT(owner_kind), P_INT(owner_id)};
    int rc = store_query(tx, "SELECT muted, quiet_start, quiet_end FROM message_prefs WHERE owner_kind = $1 AND "
                             "owner_id = $2", a, 2, &r, e);
    if (rc)
        return rc;
    if (store_row(r)) {
        str_copy(p->muted, store_text(r, 0), sizeof p->muted);
        p->quiet_start = msg_parse_hhmm(store_text(r, 1));
        p->quiet_end = msg_parse_hhmm(store_text(r, 2));
    }
    return store_rows_end(r, e);
}

/* ---- writing ---- */

typedef struct rule {
    int64_t id;
    char recipient[24], match_on[80], channels[64];
    char *title, *tpl;
    bool urgent;
} rule;

static bool rule_matches(const rule *ru, json_t *payload)
{
    if (!ru->match_on[0])
        return true;
    const char *eq = strchr(ru->match_on, '=');
    if (!eq)
        return false;
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(eq - ru->match_on), ru->match_on);
    json_t *v = json_object_get(payload, key);
    char num[32];
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
    }
    return s && strcmp(s, eq + 1) == 0;
}

static void link_for(int lookup, const about *a, bool resident, char *out, size_t cap)
{
    out[0] = '\0';
    if (lookup < 0) {
        /* the payload's own link, to whom it is for: the resident pages live under /m */
        bool resident_page = strncmp(a->link, "/m/", 3) == 0 || strcmp(a->link, "/m") == 0;
        if (a->link[0] && (resident ? resident_page : !resident_page))
            str_copy(out, a->link, cap);
        return;
    }
    const char *fmt = resident ? lookups[lookup].resident_link : lookups[lookup].staff_link;
    if (!fmt || (strstr(fmt, "%lld") && !a->link_id))
        return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (strstr(fmt, "%lld"))
        snprintf(out, cap, fmt, (long long)a->link_id);
    else
        str_copy(out, fmt, cap);
#pragma GCC diagnostic pop
}

/* Whose phone or account a delivery on channel goes to, as the deliveries table says it: a resident's
 * own phone is (resident, resident id), an emergency contact's or a party member's (kind, contact id);
 * an account is user_id with kind '' and contact 0 (as every in-app delivery). */
static const char *delivery_contact(const target *t, const char *channel, int64_t *contact_id)
{
    static const char *const kinds[] = {"", "", "resident", "emergency", "member"};
    bool inapp = strcmp(channel, "inapp") == 0;
    *contact_id = t->type == T_RESIDENT && !inapp ? t->resident_id : t->contact_id;
    return inapp ? "" : kinds[t->type];
}

/* Insert one delivery; *id 0 when it existed already (the same event seen before). */
static int insert_delivery(store_tx *tx, const nx_event *ev, const rule *ru, const char *channel, const target *t,
                           const about *a, const char *title, const char *body, const char *link, const char *status,
                           int64_t next_at, int64_t *id, nx_err *e)
{
    int64_t now = clock_now_ms(), contact_id;
    const char *contact_kind = delivery_contact(t, channel, &contact_id);
    store_param p[] = {P_INT(ev->id),
                       P_INT(ru->id),
                       P_TEXT(channel),
                       P_INT(t->user_id),
                       P_INT(t->resident_id),
                       P_INT(contact_id),
                       P_TEXT(contact_kind),
                       P_ID(a->community),
                       P_TEXT(ev->kind),
                       P_TEXT(ev->subject),
                       P_TEXT(title),
                       P_TEXT(body),
                       P_TEXT(link[0] ? link : NULL),
                       P_INT(ru->urgent ? 1 : 0),
                       P_INT(t->seq),
                       P_TEXT(status),
                       P_ID(next_at),
                       P_INT(now)};
    store_rows *r;
    int rc = store_query(tx,
                         "INSERT INTO message_deliveries (event_id, rule_id, channel, user_id, resident_id, contact_id, "
                         "contact_kind, community_id, kind, subject, title, body, link, urgent, seq, status, next_at, "
                         "created_at, updated_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                         "$13, $14, $15, $16, $17, $18, $18, CASE WHEN $16 = 'delivered' THEN $18 ELSE NULL END) "
                         "ON CONFLICT DO NOTHING RETURNING id",
                         p, 18, &r, e);
    if (rc)
        return rc;
    *id = store_row(r) ? store_int(r, 0) : 0;
    return store_rows_end(r, e);
}

static int write_inapp(store_tx *tx, const nx_event *ev, const rule *ru, const target *t, const about *a,
                       int lookup, const char *title, const char *body, nx_err *e)
{
    if (t->type != T_USER && t->type != T_RESIDENT)
        return 0;
    char link[160];
    link_for(lookup, a, t->type == T_RESIDENT, link, sizeof link);
    int64_t did = 0;
    int rc = insert_delivery(tx, ev, ru, "inapp", t, a, title, body, link, "delivered", 0, &did, e);
    if (rc || did == 0)
        return rc;
    store_param p[] = {P_ID(a->community), P_ID(t->type == T_RESIDENT ? t->resident_id : 0),
                       P_ID(t->type == T_USER ? t->user_id : 0), P_TEXT(ev->kind), P_TEXT(title), P_TEXT(body),
                       P_TEXT(link[0] ? link : NULL), P_INT(clock_now_ms()), P_INT(did)};
    if ((rc = app_insert(tx, "notifications",
                         "community_id, resident_id, user_id, kind, title, body, link, created_at, "
                         "delivery_id",
                         p, 9, NULL, e)))
        return rc;
    return msg_inbox_signal(tx, a->community, t->type == T_USER ? t->user_id : 0,
                            t->type == T_RESIDENT ? t->resident_id : 0, e);
}

int msg_over_daily_cap(store_tx *tx, const char *channel, const char *contact_kind, int64_t contact_id,
                       int64_t user_id, int64_t now, bool *over, nx_err *e)
{
    *over = false;
    if (msg_daily_cap() <= 0)
        return 0;
    int64_t n = 0, day_start = now - (now % 60000) - (int64_t)msg_local_minute(now) * 60000;
    store_param p[] = {P_TEXT(channel), P_TEXT(contact_kind), P_INT(contact_id), P_INT(user_id), P_INT(day_start)};
    int rc = store_one_int(tx,
                           "SELECT COUNT(*) FROM message_deliveries WHERE channel = $1 AND contact_kind = $2 AND "
                           "contact_id = $3 AND user_id = $4 AND created_at >= $5 AND urgent = 0 AND status <> "
                           "'cancelled'",
                           p, 5, &n, e);
    *over = rc == 0 && n >= msg_daily_cap();
    return rc;
}

void msg_daily_cap_reason(char *out, size_t cap)
{
    snprintf(out, cap, "已达每人每日上限（%lld 条）", (long long)msg_daily_cap());
}

static int write_external(store_tx *tx, const nx_event *ev, const rule *ru, const char *channel, const target *t,
                          const about *a, int lookup, const char *title, const char *body, nx_err *e)
{
    bool phone = strcmp(channel, "sms") == 0 || strcmp(channel, "voice") == 0;
    if (phone ? t->type == T_USER : t->type != T_USER)
        return 0; /* sms and voice need a phone; wecom an account */
    if (!msg_channel_configured(channel))
        return 0;
    int64_t now = clock_now_ms(), next_at = now;
    if (strcmp(channel, "voice") == 0)
        next_at = now + (int64_t)t->seq * msg_voice_gap_ms();
    if (!ru->urgent && t->type != T_MEMBER) {
        msg_prefs pf;
        int rc = msg_prefs_load(tx, t->type == T_USER ? "u" : "r", t->type == T_USER ? t->user_id : t->resident_id,
                                &pf, e);
        if (rc)
            return rc;
        if (msg_list_has(pf.muted, channel))
            return 0;
        int64_t until = msg_quiet_until(next_at, pf.quiet_start, pf.quiet_end);
        if (until)
            next_at = until;
    }
    bool capped = false;
    if (!ru->urgent) {
        int64_t contact_id;
        const char *contact_kind = delivery_contact(t, channel, &contact_id);
        int rc = msg_over_daily_cap(tx, channel, contact_kind, contact_id, t->user_id, now, &capped, e);
        if (rc)
            return rc;
    }
    char link[160];
    link_for(lookup, a, t->type != T_USER, link, sizeof link);
    int64_t did = 0;
    int rc = insert_delivery(tx, ev, ru, channel, t, a, title, body, link, capped ? "cancelled" : "queued",
                             capped ? 0 : next_at, &did, e);
    if (rc || !capped || did == 0)
        return rc;
    /* over the day's cap: kept in the delivery log as cancelled, with the reason, never sent */
    char why[96];
    msg_daily_cap_reason(why, sizeof why);
    store_param p[] = {P_TEXT(why), P_INT(did)};
    return store_exec(tx, "UPDATE message_deliveries SET last_error = $1 WHERE id = $2", p, 2, NULL, e);
}

static void rules_free(rule *rs, int n)
{
    for (int i = 0; rs && i < n; i++) {
        free(rs[i].title);
        free(rs[i].tpl);
    }
    free(rs);
}

/* Every enabled rule of kind, in id order, into a growable array (*out, *n; the caller frees it with
 * rules_free). The array's cap is MSG_RULES_MAX, the most rules PUT accepts in all: more rows than that
 * can only come from outside the API, and they are refused loudly (logged, NX_ETOOBIG), never skipped. */
static int load_rules(store_tx *tx, const char *kind, rule **out, int *n, nx_err *e)
{
    *out = NULL;
    *n = 0;
    store_rows *r;
    store_param p[] = {P_TEXT(kind)};
    int rc = store_query(tx,
                         "SELECT id, recipient, match_on, channels, title, template, urgent FROM message_rules WHERE "
                         "kind = $1 AND enabled = 1 ORDER BY id",
                         p, 1, &r, e);
    if (rc)
        return rc;
    vec v;
    vec_init(&v, sizeof(rule), MSG_RULES_MAX);
    while (store_row(r)) {
        rule ru = {.id = store_int(r, 0), .urgent = store_int(r, 6) != 0};
        str_copy(ru.recipient, store_text(r, 1), sizeof ru.recipient);
        str_copy(ru.match_on, store_text(r, 2), sizeof ru.match_on);
        str_copy(ru.channels, store_text(r, 3), sizeof ru.channels);
        ru.title = strdup(store_text(r, 4));
        ru.tpl = strdup(store_text(r, 5));
        if (!ru.title || !ru.tpl || vec_push(&v, &ru)) {
            free(ru.title);
            free(ru.tpl);
            if (v.err == 0)
                v.err = NX_ENOMEM;
            break;
        }
    }
    rc = store_rows_end(r, e);
    if (rc == 0 && v.err) {
        nx_log(LOG_ERROR, "messages.rules_over_cap kind=%s cap=%d code=%s", kind, MSG_RULES_MAX,
               nx_code_name(v.err));
        rc = v.err == NX_ETOOBIG ? nx_fail(e, NX_ETOOBIG, "rules", "事件 %s 的规则超过 %d 条", kind, MSG_RULES_MAX)
                                 : nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    if (rc) {
        rules_free(v.items, (int)v.len);
        return rc;
    }
    *out = v.items;
    *n = (int)v.len;
    return 0;
}

int messages_on_event(nx_app *app, const nx_event *ev, nx_err *e)
{
    if (strcmp(ev->kind, MESSAGES_EV_INBOX_CHANGED) == 0)
        return 0; /* the service's own signal: never a message (a rule on it would feed itself) */
    json_t *payload = json_loads(ev->payload, 0, NULL);
    if (!json_is_object(payload)) {
        json_decref(payload);
        payload = json_object();
    }
    /* Most events have no rule: a read answers that without taking the writer's lock. */
    store_tx *tx;
    int64_t nrule = 0;
    store_param kp[] = {P_TEXT(ev->kind)};
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc == 0) {
        rc = store_one_int(tx, "SELECT count(*) FROM message_rules WHERE kind = $1 AND enabled = 1", kp, 1, &nrule, e);
        store_rollback(tx);
    }
    if (rc || nrule == 0) {
        json_decref(payload);
        return rc;
    }
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        json_decref(payload);
        return rc;
    }
    rule *rs = NULL;
    int nrules = 0, lookup = -1;
    about a = {0};
    targets *ts = NULL;
    if ((rc = load_rules(tx, ev->kind, &rs, &nrules, e)) || nrules == 0)
        goto done;
    if ((rc = read_about(tx, ev, payload, &a, &lookup, e)))
        goto done;
    ts = malloc(sizeof *ts);
    if (!ts) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    for (int i = 0; rc == 0 && i < nrules; i++) {
        const rule *ru = &rs[i];
        if (!rule_matches(ru, payload))
            continue;
        if ((rc = resolve(tx, ru->recipient, &a, payload, ts, e)))
            break;
        char title[256], body[MSG_TEXT_MAX];
        msg_render(ru->title, a.vars, title, sizeof title);
        msg_render(ru->tpl, a.vars, body, sizeof body);
        for (int k = 0; rc == 0 && k < ts->n; k++) {
            const target *t = &ts->items[k];
            if (msg_list_has(ru->channels, "inapp"))
                rc = write_inapp(tx, ev, ru, t, &a, lookup, title, body, e);
            static const char *const ext[] = {"sms", "voice", "wecom", NULL};
            for (int c = 0; rc == 0 && ext[c]; c++)
                if (msg_list_has(ru->channels, ext[c]))
                    rc = write_external(tx, ev, ru, ext[c], t, &a, lookup, title, body, e);
        }
    }
done:
    free(ts);
    json_decref(a.vars);
    rules_free(rs, nrules);
    json_decref(payload);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* ---- catching up (the inbox reflects every event committed before it is read) ---- */

static int on_event(store *s, const nx_event *ev, void *ctx)
{
    (void)s;
    nx_err e;
    nx_err_clear(&e);
    int rc = messages_on_event(ctx, ev, &e);
    if (rc)
        nx_log(LOG_WARN, "messages.event_failed event=%lld code=%s", (long long)ev->id, nx_code_name(rc));
    return rc;
}

int messages_subscribe(struct dispatcher *d, nx_app *app)
{
    return dispatcher_subscribe(d, "messages.service", "", on_event, app);
}
