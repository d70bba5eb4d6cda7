/* venues.c — the rooms: their rules, closed dates, the week calendar and the ICS feed.
 *
 * A room (venue) belongs to one community and is seen by everyone of that community: staff through
 * their scope, grid workers through their grid's community, residents and family through the
 * community of the resident their account is bound to (venues_community_scope_q). Only staff with
 * RIGHT_VENUE_MANAGE covering the community create or change rooms.
 *
 * Opening hours are minutes after local midnight (Asia/Shanghai, UTC+8 all year, so a local date
 * and minute map to one instant: venues_local_ms). closed_weekdays is stored as "6,7" and read into
 * a bit mask; single closed dates are rows of venue_closures.
 *
 * The ICS feed follows RFC 5545: CRLF line ends, content lines folded at 75 octets without
 * splitting a UTF-8 character, TEXT values escaped (backslash, semicolon, comma, newline), times in
 * UTC ("Z" form), one VEVENT per booking with a stable UID. Residents see "已预约" instead of other
 * people's titles, in the calendar as in the feed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "modules/venues/venues_internal.h"
#include "store/page.h"
#include "store/query.h"

#define VENUE_COLS                                                                                          \
    "v.id, v.community_id, v.name, v.location, v.capacity, v.equipment, v.rules, v.open_from, v.open_to, " \
    "v.closed_weekdays, v.max_ahead_days, v.max_minutes, v.per_person_max, v.needs_approval, v.active, "   \
    "v.created_at, v.updated_at"

void venues_community_scope_q(const nx_principal *who, const char *alias, sqlq *q)
{
    switch (who->scope) {
    case SCOPE_GRID:
        sqlq_sql(q, " AND %scommunity_id = (SELECT community_id FROM grids WHERE id = $%d)", alias,
                 sqlq_param(q, P_INT(who->grid_id)));
        return;
    case SCOPE_SELF:
        if (who->resident_id == 0) {
            sqlq_sql(q, " AND 1 = 0");
            return;
        }
        sqlq_sql(q, " AND %scommunity_id = (SELECT community_id FROM residents WHERE id = $%d)", alias,
                 sqlq_param(q, P_INT(who->resident_id)));
        return;
    default:
        perm_scope_q(who, alias, NULL, q);
    }
}

int64_t venues_local_ms(nx_date d, int minute)
{
    return date_to_days(d) * 86400000LL - NX_TZ_OFFSET_MS + (int64_t)minute * 60000LL;
}

void venues_local_parts(int64_t ms, char date[11], char hhmm[6])
{
    int64_t local = ms + NX_TZ_OFFSET_MS;
    int64_t days = local >= 0 ? local / 86400000LL : -((-local + 86399999LL) / 86400000LL);
    int minute = (int)((local - days * 86400000LL) / 60000LL);
    date_format(date_from_days(days), date);
    snprintf(hhmm, 6, "%02d:%02d", (minute / 60) % 100, minute % 60);
}

int venues_weekday(nx_date d)
{
    int64_t days = date_to_days(d); /* 1970-01-01 was a Thursday (ISO 4) */
    return (int)(((days + 3) % 7 + 7) % 7) + 1;
}

int venues_parse_hhmm(const char *s, const char *field, int *out, nx_err *e)
{
    if (s && strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
        s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9') {
        int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
        if (h < 24 || (h == 24 && m == 0)) {
            *out = h * 60 + m;
            return 0;
        }
    }
    return nx_fail(e, NX_EINVAL, field, "时间格式应为 HH:MM");
}

bool venues_manages(const nx_principal *who, store_tx *tx, int64_t community_id)
{
    return perm_has(who, RIGHT_VENUE_MANAGE) && perm_covers(who, tx, community_id, 0);
}

static unsigned weekday_mask(const char *s)
{
    unsigned m = 0;
    for (; s && *s; s++)
        if (*s >= '1' && *s <= '7')
            m |= 1u << (*s - '0');
    return m;
}

int venues_load_rules(store_tx *tx, const nx_principal *who, int64_t id, venue_rules *v, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT v.id, v.community_id, v.capacity, v.open_from, v.open_to, v.max_ahead_days, "
                  "v.max_minutes, v.per_person_max, v.needs_approval, v.active, v.closed_weekdays, v.name "
                  "FROM venues v WHERE 1 = 1");
    sqlq_add(&q, " AND v.id = $%d", P_INT(id));
    venues_community_scope_q(who, "v.", &q);
    store_rows *r;
    int rc = sqlq_first(tx, &q, "活动室不存在", &r, e);
    if (rc == 0) {
        memset(v, 0, sizeof *v);
        v->id = store_int(r, 0);
        v->community_id = store_int(r, 1);
        v->capacity = (int)store_int(r, 2);
        v->open_from = (int)store_int(r, 3);
        v->open_to = (int)store_int(r, 4);
        v->max_ahead_days = (int)store_int(r, 5);
        v->max_minutes = (int)store_int(r, 6);
        v->per_person_max = (int)store_int(r, 7);
        v->needs_approval = store_int(r, 8) != 0;
        v->active = store_int(r, 9) != 0;
        v->closed_mask = weekday_mask(store_text(r, 10));
        str_copy(v->name, store_text(r, 11) ? store_text(r, 11) : "", sizeof v->name);
    }
    store_rows_free(r);
    return rc;
}

int venues_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, venue_rules *v, nx_err *e)
{
    int rc = store_begin(app->db, mode, tx, e);
    if (rc == 0 && (rc = venues_load_rules(*tx, who, id, v, e)))
        store_rollback(*tx);
    return rc;
}

/* venues_open for a change of room id: a write, and who must manage the room's community. */
static int manage_open(nx_app *app, const nx_principal *who, int64_t id, store_tx **tx, venue_rules *v, nx_err *e)
{
    int rc = venues_open(app, STORE_WRITE, who, id, tx, v, e);
    if (rc == 0 && !venues_manages(who, *tx, v->community_id)) {
        rc = nx_fail(e, NX_EPERM, "", "无权管理该活动室");
        store_rollback(*tx);
    }
    return rc;
}

int venues_closed_on(store_tx *tx, const venue_rules *v, nx_date d, bool *closed, nx_err *e)
{
    if (v->closed_mask & (1u << venues_weekday(d))) {
        *closed = true;
        return 0;
    }
    char day[11];
    date_format(d, day);
    store_param p[] = {P_INT(v->id), P_TEXT(day)};
    int64_t n = 0;
    int rc = store_one_int(tx, "SELECT COUNT(*) FROM venue_closures WHERE venue_id = $1 AND day = $2", p, 2, &n, e);
    *closed = n > 0;
    return rc;
}

/* ---- rows ---- */

static void set_hhmm(json_t *o, const char *key, int minute)
{
    char b[8];
    snprintf(b, sizeof b, "%02d:%02d", (minute / 60) % 100, minute % 60);
    json_object_set_new(o, key, json_string(b));
}

static json_t *venue_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i name:t location:t capacity:i equipment:t rules:t - - - "
                                  "max_ahead_days:i max_minutes:i per_person_max:i needs_approval:b active:b "
                                  "created_at:d updated_at:d");
    if (!o)
        return NULL;
    set_hhmm(o, "open_from", (int)store_int(r, 7));
    set_hhmm(o, "open_to", (int)store_int(r, 8));
    json_t *days = json_array();
    unsigned m = weekday_mask(store_text(r, 9));
    for (int d = 1; d <= 7; d++)
        if (m & (1u << d))
            json_array_append_new(days, json_integer(d));
    json_object_set_new(o, "closed_weekdays", days);
    return o;
}

int venues_list(nx_app *app, const nx_principal *who, const venues_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看活动室");
    sqlq q, count;
    const char *heads[2] = {"SELECT " VENUE_COLS " FROM venues v WHERE 1 = 1", "SELECT COUNT(*) FROM venues v WHERE 1 = 1"};
    sqlq *qs[2] = {&q, &count};
    for (int i = 0; i < 2; i++) {
        sqlq_init(qs[i], heads[i]);
        venues_community_scope_q(who, "v.", qs[i]);
        if (f->community_id)
            sqlq_add(qs[i], " AND v.community_id = $%d", P_INT(f->community_id));
        if (!perm_has(who, RIGHT_VENUE_MANAGE))
            sqlq_sql(qs[i], " AND v.active = 1");
        if (f->q && *f->q)
            sqlq_like(qs[i], " AND v.name LIKE $%d ESCAPE '!'", f->q, true);
    }
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = venue_row};
    return store_page_by_id(app->db, &q, "v.", f->after, true, &s, out, e);
}

int venues_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看活动室");
    sqlq q;
    sqlq_init(&q, "SELECT " VENUE_COLS " FROM venues v WHERE 1 = 1");
    sqlq_add(&q, " AND v.id = $%d", P_INT(id));
    venues_community_scope_q(who, "v.", &q);
    store_page_spec s = {.row = venue_row};
    return store_get_read(app->db, &q, &s, "活动室不存在", out, e);
}

/* ---- create and update ---- */

typedef struct venue_in {
    const char *name, *location, *equipment, *rules;
    int64_t capacity, max_ahead, max_minutes, per_person;
    int open_from, open_to;
    bool approval;
    char closed[16];
    bool has_open_from, has_open_to, has_closed, has_approval;
} venue_in;

static int read_venue(json_t *in, bool create, venue_in *v, nx_err *e)
{
    int rc;
    const char *from = NULL, *to = NULL;
    if ((rc = json_read_str(in, "name", create, 60, &v->name, e)) ||
        (rc = json_read_str(in, "location", false, 100, &v->location, e)) ||
        (rc = json_read_str(in, "equipment", false, 200, &v->equipment, e)) ||
        (rc = json_read_str(in, "rules", false, 1000, &v->rules, e)) ||
        (rc = json_read_str(in, "open_from", create, 5, &from, e)) ||
        (rc = json_read_str(in, "open_to", create, 5, &to, e)))
        return rc;
    if ((rc = json_get_int(in, "capacity", create, 1, 10000, &v->capacity, e)) < 0 ||
        (rc = json_get_int(in, "max_ahead_days", false, 1, 365, &v->max_ahead, e)) < 0 ||
        (rc = json_get_int(in, "max_minutes", false, 15, 1440, &v->max_minutes, e)) < 0 ||
        (rc = json_get_int(in, "per_person_max", false, 1, 100, &v->per_person, e)) < 0 ||
        (rc = json_get_bool(in, "needs_approval", false, &v->approval, e)) < 0)
        return rc;
    v->has_approval = rc == 0;
    if (from) {
        if ((rc = venues_parse_hhmm(from, "open_from", &v->open_from, e)))
            return rc;
        if (v->open_from % 15 || v->open_from >= 1440)
            return nx_fail(e, NX_EINVAL, "open_from", "开放时间须为整刻钟");
        v->has_open_from = true;
    }
    if (to) {
        if ((rc = venues_parse_hhmm(to, "open_to", &v->open_to, e)))
            return rc;
        if (v->open_to % 15)
            return nx_fail(e, NX_EINVAL, "open_to", "关门时间须为整刻钟");
        v->has_open_to = true;
    }
    json_t *days = json_object_get(in, "closed_weekdays");
    if (days && !json_is_null(days)) {
        if (!json_is_array(days) || json_array_size(days) > 7)
            return nx_fail(e, NX_EINVAL, "closed_weekdays", "闭馆日应为 1–7 的星期数组");
        unsigned m = 0;
        size_t i;
        json_t *d;
        json_array_foreach(days, i, d)
        {
            if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 7)
                return nx_fail(e, NX_EINVAL, "closed_weekdays", "闭馆日应为 1–7 的星期数组");
            m |= 1u << json_integer_value(d);
        }
        size_t n = 0;
        for (int k = 1; k <= 7; k++)
            if (m & (1u << k)) {
                if (n)
                    v->closed[n++] = ',';
                v->closed[n++] = (char)('0' + k);
            }
        v->closed[n] = '\0';
        v->has_closed = true;
    }
    return 0;
}

static const char *const venue_keys[] = {"community_id", "name", "location", "capacity", "equipment", "rules",
                                         "open_from", "open_to", "closed_weekdays", "max_ahead_days",
                                         "max_minutes", "per_person_max", "needs_approval", NULL};

int venues_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权管理活动室");
    venue_in v = {.max_ahead = 14, .max_minutes = 120, .per_person = 3};
    int64_t community = who->scope == SCOPE_COMMUNITY ? who->community_id : 0;
    int rc = json_only(in, venue_keys, e);
    if (rc || (rc = read_venue(in, true, &v, e)))
        return rc;
    if ((rc = json_get_int(in, "community_id", community == 0, 1, INT64_MAX, &community, e)) < 0)
        return rc;
    if (v.open_to <= v.open_from)
        return nx_fail(e, NX_EINVAL, "open_to", "关门时间须晚于开门时间");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    if (!perm_covers(who, tx, community, 0)) {
        rc = nx_fail(e, NX_EINVAL, "community_id", "社区不存在或不在管辖范围内");
        goto done;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_TEXT(v.name), P_TEXT(v.location ? v.location : ""), P_INT(v.capacity),
                       P_TEXT(v.equipment ? v.equipment : ""), P_TEXT(v.rules ? v.rules : ""), P_INT(v.open_from),
                       P_INT(v.open_to), P_TEXT(v.closed), P_INT(v.max_ahead), P_INT(v.max_minutes),
                       P_INT(v.per_person), P_INT(v.approval ? 1 : 0), P_INT(now), P_INT(now)};
    rc = app_insert(tx, "venues",
                    "community_id, name, location, capacity, equipment, rules, open_from, open_to, "
                    "closed_weekdays, max_ahead_days, max_minutes, per_person_max, needs_approval, "
                    "created_at, updated_at",
                    p, 15, id, e);
    rc = store_conflict_field(rc, "name", e, "本社区已有同名活动室");
done:
    return store_finish(tx, rc, e);
}

int venues_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"name", "location", "capacity", "equipment", "rules", "open_from", "open_to",
                                       "closed_weekdays", "max_ahead_days", "max_minutes", "per_person_max",
                                       "needs_approval", "active", NULL};
    if (!perm_has(who, RIGHT_VENUE_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权管理活动室");
    venue_in v = {0};
    bool active = true;
    int rc = json_only(in, keys, e);
    if (rc || (rc = read_venue(in, false, &v, e)))
        return rc;
    int has_active = json_get_bool(in, "active", false, &active, e);
    if (has_active < 0)
        return has_active;
    store_tx *tx;
    venue_rules cur;
    if ((rc = manage_open(app, who, id, &tx, &cur, e)))
        return rc;
    int from = v.has_open_from ? v.open_from : cur.open_from, to = v.has_open_to ? v.open_to : cur.open_to;
    if (to <= from) {
        rc = nx_fail(e, NX_EINVAL, "open_to", "关门时间须晚于开门时间");
        goto done;
    }
    sqlq q;
    sqlq_init(&q, "UPDATE venues SET updated_at = ");
    sqlq_sql(&q, "$%d", sqlq_param(&q, P_INT(clock_now_ms())));
    if (v.name)
        sqlq_add(&q, ", name = $%d", P_TEXT(v.name));
    if (v.location)
        sqlq_add(&q, ", location = $%d", P_TEXT(v.location));
    if (v.equipment)
        sqlq_add(&q, ", equipment = $%d", P_TEXT(v.equipment));
    if (v.rules)
        sqlq_add(&q, ", rules = $%d", P_TEXT(v.rules));
    if (v.capacity)
        sqlq_add(&q, ", capacity = $%d", P_INT(v.capacity));
    if (v.max_ahead)
        sqlq_add(&q, ", max_ahead_days = $%d", P_INT(v.max_ahead));
    if (v.max_minutes)
        sqlq_add(&q, ", max_minutes = $%d", P_INT(v.max_minutes));
    if (v.per_person)
        sqlq_add(&q, ", per_person_max = $%d", P_INT(v.per_person));
    sqlq_add(&q, ", open_from = $%d", P_INT(from));
    sqlq_add(&q, ", open_to = $%d", P_INT(to));
    if (v.has_closed)
        sqlq_add(&q, ", closed_weekdays = $%d", P_TEXT(v.closed));
    if (v.has_approval)
        sqlq_add(&q, ", needs_approval = $%d", P_INT(v.approval ? 1 : 0));
    if (has_active == 0)
        sqlq_add(&q, ", active = $%d", P_INT(active ? 1 : 0));
    sqlq_add(&q, " WHERE id = $%d", P_INT(id));
    rc = store_conflict_field(sqlq_exec(tx, &q, NULL, e), "name", e, "本社区已有同名活动室");
done:
    return store_finish(tx, rc, e);
}

int venues_closure_add(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"day", "reason", NULL};
    const char *day = NULL, *reason = NULL;
    if (!perm_has(who, RIGHT_VENUE_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权管理活动室");
    int rc = json_only(in, keys, e);
    if (rc || (rc = json_read_date(in, "day", true, &day, e)) || (rc = json_read_str(in, "reason", false, 100, &reason, e)))
        return rc;
    store_tx *tx;
    venue_rules v;
    if ((rc = manage_open(app, who, id, &tx, &v, e)))
        return rc;
    store_param p[] = {P_INT(id), P_TEXT(day), P_TEXT(reason ? reason : "")};
    rc = store_exec(tx,
                    "INSERT INTO venue_closures (venue_id, day, reason) VALUES ($1, $2, $3) "
                    "ON CONFLICT (venue_id, day) DO UPDATE SET reason = excluded.reason",
                    p, 3, NULL, e);
    return store_finish(tx, rc, e);
}

/* ---- calendar and feed ---- */

int venues_calendar(nx_app *app, const nx_principal *who, int64_t id, nx_date from, int days, json_t **out,
                    nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看活动室");
    if (days < 1 || days > 42)
        return nx_fail(e, NX_EINVAL, "days", "天数应为 1–42");
    json_t *venue = NULL;
    int rc = venues_get(app, who, id, &venue, e);
    if (rc)
        return rc;
    store_tx *tx;
    venue_rules v;
    if ((rc = venues_open(app, STORE_READ, who, id, &tx, &v, e))) {
        json_decref(venue);
        return rc;
    }
    json_t *o = json_pack("{s:o, s:[], s:[]}", "venue", venue, "days", "items");
    json_t *dl = json_object_get(o, "days"), *items = json_object_get(o, "items");
    bool manager = venues_manages(who, tx, v.community_id);
    for (int i = 0; i < days && rc == 0; i++) {
        nx_date d = date_from_days(date_to_days(from) + i);
        bool closed = false;
        char day[11];
        date_format(d, day);
        rc = venues_closed_on(tx, &v, d, &closed, e);
        json_array_append_new(dl, json_pack("{s:s, s:i, s:b}", "date", day, "weekday", venues_weekday(d), "closed", closed));
    }
    if (rc)
        goto done;
    int64_t a = venues_local_ms(from, 0), b = venues_local_ms(from, days * 1440);
    store_param p[] = {P_INT(id), P_INT(b), P_INT(a)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT id, starts_at, ends_at, status, title, resident_id, attendees FROM venue_bookings "
                          "WHERE venue_id = $1 AND starts_at < $2 AND ends_at > $3 AND status IN ('pending', "
                          "'confirmed') ORDER BY starts_at, id",
                          p, 3, &r, e)))
        goto done;
    while (store_row(r)) {
        char d1[11], h1[6], d2[11], h2[6];
        venues_local_parts(store_int(r, 1), d1, h1);
        venues_local_parts(store_int(r, 2), d2, h2);
        bool mine = who->resident_id && store_int(r, 5) == who->resident_id;
        json_t *it = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:I}", "id", (json_int_t)store_int(r, 0), "date", d1,
                               "start", h1, "end", strcmp(d1, d2) == 0 ? h2 : "24:00", "status", store_text(r, 3),
                               "mine", mine, "attendees", (json_int_t)store_int(r, 6));
        json_object_set_new(it, "title", json_string(manager || mine ? store_text(r, 4) : "已预约"));
        json_array_append_new(items, it);
    }
    rc = store_rows_end(r, e);
done:
    return store_read_finish(tx, rc, o, out);
}

/* Append one content line, escaped when text is true, folded at 75 octets (RFC 5545 §3.1). */
static int ics_line(strbuf *b, const char *name, const char *value, bool text)
{
    char line[2048];
    size_t n = str_copy(line, name, sizeof line);
    for (const char *c = value; *c && n < sizeof line - 3; c++) {
        if (text && (*c == '\\' || *c == ';' || *c == ',')) {
            line[n++] = '\\';
            line[n++] = *c;
        } else if (text && *c == '\n') {
            line[n++] = '\\';
            line[n++] = 'n';
        } else if (*c != '\r') {
            line[n++] = *c;
        }
    }
    line[n] = '\0';
    size_t at = 0, width = 75;
    while (at < n) {
        size_t take = n - at <= width ? n - at : width;
        while (take > 0 && at + take < n && ((unsigned char)line[at + take] & 0xC0) == 0x80)
            take--; /* never split a UTF-8 character */
        int rc = strbuf_append(b, line + at, take);
        if (!rc)
            rc = strbuf_puts(b, "\r\n");
        if (rc)
            return rc;
        at += take;
        if (at < n && strbuf_puts(b, " "))
            return NX_ENOMEM;
        width = 74; /* continuation lines start with the space */
    }
    return 0;
}

static void ics_time(int64_t ms, char out[17])
{
    char iso[25];
    clock_format_utc(ms, iso); /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    snprintf(out, 17, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", iso, iso + 5, iso + 8, iso + 11, iso + 14, iso + 17);
}

int venues_ics(nx_app *app, const nx_principal *who, int64_t id, char **out, size_t *len, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看活动室");
    store_tx *tx;
    venue_rules v;
    int rc = venues_open(app, STORE_READ, who, id, &tx, &v, e);
    if (rc)
        return rc;
    strbuf b;
    strbuf_init(&b, 8u << 20);
    bool manager = venues_manages(who, tx, v.community_id);
    int64_t now = clock_now_ms();
    char stamp[17], calname[200];
    ics_time(now, stamp);
    snprintf(calname, sizeof calname, "%s", v.name);
    if ((rc = ics_line(&b, "BEGIN:", "VCALENDAR", false)) || (rc = ics_line(&b, "VERSION:", "2.0", false)) ||
        (rc = ics_line(&b, "PRODID:", "-//nuanxin//venues//ZH", false)) ||
        (rc = ics_line(&b, "CALSCALE:", "GREGORIAN", false)) || (rc = ics_line(&b, "X-WR-CALNAME:", calname, true)) ||
        (rc = ics_line(&b, "X-WR-TIMEZONE:", "Asia/Shanghai", false)))
        goto done;
    store_param p[] = {P_INT(id), P_INT(now - 30LL * 86400000LL), P_INT(now + (v.max_ahead_days + 1LL) * 86400000LL)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT id, starts_at, ends_at, status, title, resident_id, created_at FROM venue_bookings "
                          "WHERE venue_id = $1 AND ends_at > $2 AND starts_at < $3 AND status IN ('pending', "
                          "'confirmed') ORDER BY starts_at, id",
                          p, 3, &r, e)))
        goto done;
    int n = 0;
    while (rc == 0 && store_row(r)) {
        if (++n > 5000) {
            rc = nx_fail(e, NX_ETOOBIG, "", "日历中的预约过多");
            break;
        }
        char uid[64], s[17], en[17], created[17];
        snprintf(uid, sizeof uid, "booking-%lld@nuanxin", (long long)store_int(r, 0));
        ics_time(store_int(r, 1), s);
        ics_time(store_int(r, 2), en);
        ics_time(store_int(r, 6), created);
        bool mine = who->resident_id && store_int(r, 5) == who->resident_id;
        const char *title = manager || mine ? store_text(r, 4) : "已预约";
        bool pending = strcmp(store_text(r, 3), "pending") == 0;
        if ((rc = ics_line(&b, "BEGIN:", "VEVENT", false)) || (rc = ics_line(&b, "UID:", uid, false)) ||
            (rc = ics_line(&b, "DTSTAMP:", stamp, false)) || (rc = ics_line(&b, "CREATED:", created, false)) ||
            (rc = ics_line(&b, "DTSTART:", s, false)) || (rc = ics_line(&b, "DTEND:", en, false)) ||
            (rc = ics_line(&b, "SUMMARY:", title, true)) || (rc = ics_line(&b, "LOCATION:", v.name, true)) ||
            (rc = ics_line(&b, "STATUS:", pending ? "TENTATIVE" : "CONFIRMED", false)) ||
            (rc = ics_line(&b, "END:", "VEVENT", false)))
            break;
    }
    int end = store_rows_end(r, e);
    if (!rc)
        rc = end;
    if (!rc)
        rc = ics_line(&b, "END:", "VCALENDAR", false);
done:
    store_rollback(tx);
    if (rc) {
        strbuf_cleanup(&b);
        return rc;
    }
    *len = b.len;
    *out = strbuf_steal(&b);
    return 0;
}
