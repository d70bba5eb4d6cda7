/* venues_bookings.c — bookings of the rooms, the waiting list and the release of no-shows.
 *
 * The conflict check. A live booking (pending or confirmed) claims every 15-minute unit it covers in
 * venue_slots, in the transaction that writes it; the table's primary key (venue_id, unit) admits one
 * claim per unit. Two requests racing for one slot therefore cannot both commit, whatever the
 * backend: on SQLite the writer is single and the second request meets the first one's rows; on
 * PostgreSQL (READ COMMITTED, concurrent writers) the second INSERT waits for the first transaction
 * and fails with a unique violation when it commits. The loser's whole transaction rolls back and it
 * answers 409. Nothing reads "is it free?" before writing, so there is no window between a check and
 * a write. A booking that ends (cancelled, rejected, released as a no-show) deletes its claims in the
 * same transaction that changes its status.
 *
 * Recurring bookings (staff only) are written occurrence by occurrence, each behind a savepoint: an
 * occurrence that clashes rolls back to its savepoint and is reported as skipped ("clash"), one on a
 * closed day is not attempted ("closed"), and the rest commit together.
 *
 * Residents and family book for the resident their account is bound to; staff with
 * RIGHT_VENUE_MANAGE covering the room's community book for anyone (a resident, a team, a course),
 * beyond the booking horizon and the per-person cap, and approve or reject the bookings of rooms
 * that need approval. When time is freed, the first waiter (by order of joining) whose whole time is
 * now free is offered it for VENUES_OFFER_MS (an event); taking the offer is an ordinary booking.
 *
 * No-shows: a confirmed booking not checked in venue_no_show_minutes (configuration, 15 by default)
 * after its start is released by a ticker (store/ticker.h: one process among those sharing the
 * database runs it, every minute) — or by staff by hand — and its booker hears of it.
 *
 * Threads: none of its own but the ticker's; every function runs its own transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "modules/venues/venues_internal.h"
#include "notify/outbox.h"
#include "store/page.h"
#include "store/query.h"
#include "store/ticker.h"

#define BOOKING_COLS                                                                                        \
    "vb.id, vb.venue_id, v.name, vb.community_id, vb.resident_id, vb.title, vb.attendees, vb.status, "       \
    "vb.series_id, vb.course_id, vb.checked_in_at, vb.note, vb.created_at, vb.booked_by, vb.starts_at, vb.ends_at"

static void set_times(json_t *o, int64_t s, int64_t en)
{
    char d1[11], h1[6], d2[11], h2[6];
    venues_local_parts(s, d1, h1);
    venues_local_parts(en, d2, h2);
    json_object_set_new(o, "date", json_string(d1));
    json_object_set_new(o, "start", json_string(h1));
    json_object_set_new(o, "end", json_string(strcmp(d1, d2) == 0 ? h2 : "24:00"));
}

static json_t *booking_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i venue_id:i venue_name:t community_id:i resident_id:i title:t attendees:i "
                                  "status:t series_id:i course_id:i checked_in_at:d note:t created_at:d booked_by:i "
                                  "starts_at:d ends_at:d");
    if (o)
        set_times(o, store_int(r, 14), store_int(r, 15));
    return o;
}

/* ---- one booking's checks ---- */

typedef struct book_req {
    int64_t venue_id, resident_id, attendees, repeat_weeks, course_id;
    const char *date, *start, *end, *title, *note;
    nx_date day;
    int from_min, to_min;
} book_req;

static const char *const book_keys[] = {"venue_id", "date", "start", "end", "title", "attendees", "resident_id",
                                        "note", "repeat_weeks", "course_id", NULL};

static int read_req(json_t *in, const char *const *keys, book_req *b, nx_err *e)
{
    int rc = json_only(in, keys, e);
    if (rc || (rc = json_get_int(in, "venue_id", true, 1, INT64_MAX, &b->venue_id, e)) < 0 ||
        (rc = json_read_date(in, "date", true, &b->date, e)) || (rc = json_read_str(in, "start", true, 5, &b->start, e)) ||
        (rc = json_read_str(in, "end", true, 5, &b->end, e)) || (rc = json_read_str(in, "title", false, 60, &b->title, e)) ||
        (rc = json_read_str(in, "note", false, 200, &b->note, e)))
        return rc < 0 ? rc : 0;
    if ((rc = json_get_int(in, "attendees", false, 1, 100000, &b->attendees, e)) < 0 ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &b->resident_id, e)) < 0 ||
        (rc = json_get_int(in, "course_id", false, 1, INT64_MAX, &b->course_id, e)) < 0 ||
        (rc = json_get_int(in, "repeat_weeks", false, 0, 26, &b->repeat_weeks, e)) < 0)
        return rc;
    if (!b->attendees)
        b->attendees = 1;
    if ((rc = date_parse(b->date, &b->day)))
        return nx_fail(e, NX_EINVAL, "date", "日期格式应为 YYYY-MM-DD");
    if ((rc = venues_parse_hhmm(b->start, "start", &b->from_min, e)) || (rc = venues_parse_hhmm(b->end, "end", &b->to_min, e)))
        return rc;
    if (b->from_min % 15)
        return nx_fail(e, NX_EINVAL, "start", "开始时间须为整刻钟（如 09:00、09:15）");
    if (b->to_min % 15)
        return nx_fail(e, NX_EINVAL, "end", "结束时间须为整刻钟（如 10:00、10:15）");
    if (b->to_min <= b->from_min)
        return nx_fail(e, NX_EINVAL, "end", "结束时间须晚于开始时间");
    return 0;
}

/* The checks of the room's rules that do not depend on the date's bookings (closed days are the
 * caller's: a series skips them). */
static int check_rules(const venue_rules *v, const book_req *b, nx_date day, bool manager, int64_t now, nx_err *e)
{
    if (!v->active)
        return nx_fail(e, NX_ECONFLICT, "venue_id", "该活动室已停用");
    if (b->from_min < v->open_from || b->to_min > v->open_to) {
        const char *field = b->from_min < v->open_from ? "start" : "end";
        return nx_fail(e, NX_EINVAL, field, "不在开放时间内（%02d:%02d–%02d:%02d）", v->open_from / 60, v->open_from % 60,
                       v->open_to / 60, v->open_to % 60);
    }
    if (b->to_min - b->from_min > v->max_minutes)
        return nx_fail(e, NX_EINVAL, "end", "超过最长预约时长 %d 分钟", v->max_minutes);
    if (b->attendees > v->capacity)
        return nx_fail(e, NX_EINVAL, "attendees", "人数超过活动室容量 %d 人", v->capacity);
    if (venues_local_ms(day, b->from_min) < now)
        return nx_fail(e, NX_EINVAL, "date", "不能预约已经过去的时间");
    nx_date today = date_from_days((now + NX_TZ_OFFSET_MS) / 86400000LL);
    if (!manager && date_to_days(day) - date_to_days(today) > v->max_ahead_days)
        return nx_fail(e, NX_EINVAL, "date", "最多可提前 %d 天预约", v->max_ahead_days);
    return 0;
}

/* Who the booking is for: the bound resident for residents and family; anyone in scope (or no one)
 * for staff. */
static int booking_person(store_tx *tx, const nx_principal *who, const venue_rules *v, bool manager, int64_t asked,
                          int64_t *resident, nx_err *e)
{
    if (manager) {
        *resident = asked;
        if (!asked)
            return 0;
        store_param p[] = {P_INT(asked)};
        int64_t c = 0;
        int rc = store_one_int(tx, "SELECT community_id FROM residents WHERE id = $1 AND status = 'active'", p, 1, &c, e);
        if (rc == NX_ENOTFOUND || (rc == 0 && !perm_covers(who, tx, c, 0)))
            return nx_fail(e, NX_EINVAL, "resident_id", "居民不存在或不在管辖范围内");
        return rc;
    }
    if (!perm_has(who, RIGHT_SELF) || who->resident_id == 0)
        return nx_fail(e, NX_EPERM, "", "无权预约活动室");
    if (asked && asked != who->resident_id)
        return nx_fail(e, NX_EPERM, "resident_id", "只能为本人（或绑定的长辈）预约");
    (void)v;
    *resident = who->resident_id;
    return 0;
}

/* Insert one booking and claim its units; NX_ECONFLICT "时段已被预约" when a unit is taken (the
 * transaction — or the caller's savepoint — must then be rolled back). */
static int insert_booking(store_tx *tx, const nx_principal *who, const venue_rules *v, const book_req *b, int64_t s,
                          int64_t en, int64_t resident, const char *status, int64_t series, int64_t now, int64_t *id,
                          nx_err *e)
{
    const char *title = b->title && *b->title ? b->title : "活动室预约";
    store_param p[] = {P_INT(v->id), P_INT(v->community_id), P_ID(resident), P_ID(who->user_id), P_TEXT(title),
                       P_INT(b->attendees), P_INT(s), P_INT(en), P_TEXT(status), P_ID(series), P_ID(b->course_id),
                       P_TEXT(b->note ? b->note : ""), P_INT(now), P_INT(now)};
    int rc = app_insert(tx, "venue_bookings",
                        "venue_id, community_id, resident_id, booked_by, title, attendees, starts_at, "
                        "ends_at, status, series_id, course_id, note, created_at, updated_at",
                        p, 14, id, e);
    for (int64_t u = s / VENUES_UNIT_MS; rc == 0 && u < (en + VENUES_UNIT_MS - 1) / VENUES_UNIT_MS; u++) {
        store_param q[] = {P_INT(v->id), P_INT(u), P_INT(*id)};
        rc = app_insert(tx, "venue_slots",
                        "venue_id, unit, booking_id",
                        q, 3, NULL, e);
    }
    return store_conflict_field(rc, "start", e, "该时段已被预约");
}

/* The booking's event; user is the account that booked (the booker hears of a release). */
static int emit_booking(store_tx *tx, const char *kind, int64_t id, int64_t venue, int64_t community, int64_t resident,
                        int64_t user, const char *status, nx_err *e)
{
    return outbox_emit_new(tx, kind, community, "venue_booking", id,
                           json_pack("{s:I, s:I, s:o, s:o, s:s}", "booking_id", (json_int_t)id, "venue_id",
                                     (json_int_t)venue, "resident_id", resident ? json_integer(resident) : json_null(),
                                     "user_id", user ? json_integer(user) : json_null(), "status", status),
                           e);
}

/* Book b on tx (all checks). *first: the first booking made; series (may be NULL) collects created
 * ids and skipped dates for a repeat. */
static int book(store_tx *tx, const nx_principal *who, book_req *b, int64_t *first, json_t *series, nx_err *e)
{
    venue_rules v;
    int rc = venues_load_rules(tx, who, b->venue_id, &v, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "venue_id", "活动室不存在");
    if (rc)
        return rc;
    bool manager = venues_manages(who, tx, v.community_id);
    int64_t resident = 0, now = clock_now_ms();
    if ((rc = booking_person(tx, who, &v, manager, b->resident_id, &resident, e)))
        return rc;
    if (b->repeat_weeks && !manager)
        return nx_fail(e, NX_EPERM, "repeat_weeks", "仅工作人员可预约每周重复");
    if (b->course_id && !manager)
        return nx_fail(e, NX_EPERM, "course_id", "仅工作人员可为课程预约");
    if ((rc = check_rules(&v, b, b->day, manager, now, e)))
        return rc;
    if (!manager && resident) {
        store_param p[] = {P_INT(resident), P_INT(v.id), P_INT(now)};
        int64_t open = 0;
        if ((rc = store_one_int(tx,
                                "SELECT COUNT(*) FROM venue_bookings WHERE resident_id = $1 AND venue_id = $2 AND "
                                "ends_at > $3 AND status IN ('pending', 'confirmed')",
                                p, 3, &open, e)))
            return rc;
        if (open >= v.per_person_max)
            return nx_fail(e, NX_ECONFLICT, "resident_id", "已有 %lld 个未结束的预约，达到本活动室的上限 %d 个",
                           (long long)open, v.per_person_max);
    }
    const char *status = v.needs_approval && !manager ? "pending" : "confirmed";
    int64_t ids[27];
    int made = 0;
    for (int k = 0; k <= b->repeat_weeks; k++) {
        nx_date day = date_from_days(date_to_days(b->day) + 7 * k);
        char ds[11];
        date_format(day, ds);
        bool closed = false;
        if ((rc = venues_closed_on(tx, &v, day, &closed, e)))
            return rc;
        if (closed) {
            if (!b->repeat_weeks)
                return nx_fail(e, NX_EINVAL, "date", "%s 活动室闭馆", ds);
            json_array_append_new(json_object_get(series, "skipped"), json_pack("{s:s, s:s}", "date", ds, "reason", "closed"));
            continue;
        }
        int64_t id = 0;
        if (!b->repeat_weeks) {
            if ((rc = insert_booking(tx, who, &v, b, venues_local_ms(day, b->from_min), venues_local_ms(day, b->to_min),
                                     resident, status, 0, now, &id, e)))
                return rc;
        } else {
            if ((rc = store_savepoint(tx, e)))
                return rc;
            rc = insert_booking(tx, who, &v, b, venues_local_ms(day, b->from_min), venues_local_ms(day, b->to_min),
                                resident, status, made ? ids[0] : 0, now, &id, e);
            if (rc == NX_ECONFLICT) {
                if ((rc = store_savepoint_rollback(tx, e)))
                    return rc;
                json_array_append_new(json_object_get(series, "skipped"), json_pack("{s:s, s:s}", "date", ds, "reason", "clash"));
                continue;
            }
            if (rc || (rc = store_savepoint_release(tx, e)))
                return rc;
            json_array_append_new(json_object_get(series, "created"), json_integer(id));
        }
        ids[made++] = id;
    }
    if (made == 0)
        return nx_fail(e, NX_ECONFLICT, "date", "所有日期均冲突或闭馆，未预约");
    if (b->repeat_weeks) {
        store_param p[] = {P_INT(ids[0]), P_INT(ids[0])};
        if ((rc = store_exec(tx, "UPDATE venue_bookings SET series_id = $1 WHERE id = $2", p, 2, NULL, e)))
            return rc;
    }
    for (int i = 0; i < made && rc == 0; i++)
        rc = emit_booking(tx, VENUES_EV_BOOKING_CREATED, ids[i], v.id, v.community_id, resident, who->user_id, status, e);
    *first = ids[0];
    return rc;
}

int venues_booking_create(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权预约活动室");
    book_req b = {0};
    int rc = read_req(in, book_keys, &b, e);
    if (rc)
        return rc;
    json_t *series = json_pack("{s:[], s:[]}", "created", "skipped");
    store_tx *tx;
    int64_t id = 0;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        json_decref(series);
        return rc;
    }
    if ((rc = book(tx, who, &b, &id, series, e)))
        store_rollback(tx);
    else
        rc = store_commit(tx, e);
    if (rc) {
        json_decref(series);
        return rc;
    }
    if ((rc = venues_booking_get(app, who, id, out, e))) {
        json_decref(series);
        return rc;
    }
    if (b.repeat_weeks)
        json_object_set_new(*out, "series", series);
    else
        json_decref(series);
    return 0;
}

/* ---- reads ---- */

static void booking_where(sqlq *q, const char *head, const nx_principal *who, const venues_filter *f)
{
    sqlq_init(q, head);
    if (perm_has(who, RIGHT_VENUE_MANAGE))
        perm_scope_q(who, "vb.", "resident_id", q);
    else if (who->resident_id)
        sqlq_add(q, " AND vb.resident_id = $%d", P_INT(who->resident_id));
    else
        sqlq_sql(q, " AND 1 = 0");
    if (f->mine)
        sqlq_add(q, " AND vb.resident_id = $%d", P_INT(who->resident_id));
    sqlq_eq_int(q, "vb.venue_id", f->venue_id);
    sqlq_eq_int(q, "vb.community_id", f->community_id);
    sqlq_eq_text(q, "vb.status", f->status);
    if (f->from_ms)
        sqlq_add(q, " AND vb.ends_at > $%d", P_INT(f->from_ms));
    if (f->to_ms)
        sqlq_add(q, " AND vb.starts_at < $%d", P_INT(f->to_ms));
}

int venues_booking_list(nx_app *app, const nx_principal *who, const venues_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看预约");
    sqlq q, count;
    booking_where(&q, "SELECT " BOOKING_COLS " FROM venue_bookings vb JOIN venues v ON v.id = vb.venue_id WHERE 1 = 1",
                  who, f);
    booking_where(&count, "SELECT COUNT(*) FROM venue_bookings vb WHERE 1 = 1", who, f);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = booking_row};
    return store_page_by_id(app->db, &q, "vb.", f->after, false, &s, out, e);
}

int venues_booking_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看预约");
    venues_filter f = {0};
    sqlq q;
    booking_where(&q, "SELECT " BOOKING_COLS " FROM venue_bookings vb JOIN venues v ON v.id = vb.venue_id WHERE 1 = 1",
                  who, &f);
    sqlq_add(&q, " AND vb.id = $%d", P_INT(id));
    store_page_spec s = {.row = booking_row};
    return store_get_read(app->db, &q, &s, "预约不存在", out, e);
}

/* ---- freeing time and the waiting list ---- */

/* Offer freed time [from, to) of a room to the first waiter whose whole time is now free. */
static int offer_freed(store_tx *tx, int64_t venue, int64_t from, int64_t to, int64_t now, nx_err *e)
{
    store_param p[] = {P_INT(venue), P_INT(to), P_INT(from), P_INT(now)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, starts_at, ends_at, community_id, resident_id, user_id FROM venue_waits WHERE "
                         "venue_id = $1 AND status = 'waiting' AND starts_at < $2 AND ends_at > $3 AND starts_at > $4 "
                         "ORDER BY id LIMIT 20",
                         p, 4, &r, e);
    if (rc)
        return rc;
    int64_t w[20][6];
    int n = 0;
    while (n < 20 && store_row(r)) {
        for (int i = 0; i < 6; i++)
            w[n][i] = store_int(r, i);
        n++;
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    for (int i = 0; i < n; i++) {
        store_param c[] = {P_INT(venue), P_INT(w[i][1] / VENUES_UNIT_MS), P_INT(w[i][2] / VENUES_UNIT_MS)};
        int64_t taken = 0;
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM venue_slots WHERE venue_id = $1 AND unit >= $2 AND unit < $3", c, 3,
                                &taken, e)))
            return rc;
        if (taken)
            continue;
        int64_t until = now + VENUES_OFFER_MS < w[i][1] ? now + VENUES_OFFER_MS : w[i][1];
        store_param u[] = {P_INT(now), P_INT(until), P_INT(w[i][0])};
        if ((rc = store_exec(tx, "UPDATE venue_waits SET status = 'offered', offered_at = $1, offer_until = $2 WHERE id = $3",
                             u, 3, NULL, e)))
            return rc;
        return outbox_emit_new(tx, VENUES_EV_WAIT_OFFERED, w[i][3], "venue_wait", w[i][0],
                               json_pack("{s:I, s:I, s:o, s:o, s:I}", "wait_id", (json_int_t)w[i][0], "venue_id",
                                         (json_int_t)venue, "resident_id", w[i][4] ? json_integer(w[i][4]) : json_null(),
                                         "user_id", w[i][5] ? json_integer(w[i][5]) : json_null(), "offer_until",
                                         (json_int_t)until),
                               e);
    }
    return 0;
}

/* Release units of booking id from unit `from_unit` on, and offer the freed time. */
static int release(store_tx *tx, int64_t id, int64_t venue, int64_t from, int64_t to, int64_t now, nx_err *e)
{
    store_param p[] = {P_INT(id), P_INT(from / VENUES_UNIT_MS)};
    int rc = store_exec(tx, "DELETE FROM venue_slots WHERE booking_id = $1 AND unit >= $2", p, 2, NULL, e);
    return rc ? rc : offer_freed(tx, venue, from, to, now, e);
}

int venues_booking_act(nx_app *app, const nx_principal *who, int64_t id, const char *action, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"note", NULL};
    const char *note = NULL;
    int rc = in ? json_only(in, keys, e) : 0;
    if (rc || (in && (rc = json_read_str(in, "note", false, 200, &note, e))))
        return rc;
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权操作预约");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    venues_filter f = {0};
    sqlq q;
    booking_where(&q, "SELECT vb.venue_id, vb.community_id, vb.resident_id, vb.status, vb.starts_at, vb.ends_at, "
                      "vb.checked_in_at, vb.booked_by FROM venue_bookings vb WHERE 1 = 1",
                  who, &f);
    sqlq_add(&q, " AND vb.id = $%d", P_INT(id));
    store_rows *r;
    if ((rc = sqlq_first(tx, &q, "预约不存在", &r, e)))
        goto done;
    int64_t venue = store_int(r, 0), community = store_int(r, 1), resident = store_int(r, 2);
    char status[16];
    snprintf(status, sizeof status, "%s", store_text(r, 3));
    int64_t s = store_int(r, 4), en = store_int(r, 5);
    bool checked = !store_isnull(r, 6);
    int64_t booker = store_int(r, 7);
    store_rows_free(r);
    bool manager = venues_manages(who, tx, community);
    int64_t now = clock_now_ms();
    bool live = strcmp(status, "pending") == 0 || strcmp(status, "confirmed") == 0;
    const char *to = NULL, *kind = NULL;
    if (strcmp(action, "cancel") == 0) {
        if (!live || en <= now) {
            rc = nx_fail(e, NX_ECONFLICT, "", "该预约已结束或已取消");
            goto done;
        }
        to = "cancelled";
        kind = VENUES_EV_BOOKING_RELEASED;
        if ((rc = release(tx, id, venue, s > now ? s : now, en, now, e)))
            goto done;
    } else if (strcmp(action, "approve") == 0 || strcmp(action, "reject") == 0) {
        if (!manager) {
            rc = nx_fail(e, NX_EPERM, "", "无权审批预约");
            goto done;
        }
        if (strcmp(status, "pending") != 0) {
            rc = nx_fail(e, NX_ECONFLICT, "", "该预约不在待审批状态");
            goto done;
        }
        to = action[0] == 'a' ? "confirmed" : "rejected";
        kind = VENUES_EV_BOOKING_DECIDED;
        if (action[0] == 'r' && (rc = release(tx, id, venue, s > now ? s : now, en, now, e)))
            goto done;
    } else if (strcmp(action, "check-in") == 0) {
        if (strcmp(status, "confirmed") != 0 || checked || now < s - 30 * 60000LL || now >= en) {
            rc = nx_fail(e, NX_ECONFLICT, "", "只能在开始前 30 分钟至结束前签到已确认的预约");
            goto done;
        }
        store_param p[] = {P_INT(now), P_INT(now), P_INT(id)};
        if ((rc = store_exec(tx, "UPDATE venue_bookings SET checked_in_at = $1, updated_at = $2 WHERE id = $3", p, 3, NULL, e)))
            goto done;
        return store_commit(tx, e);
    } else if (strcmp(action, "no-show") == 0) {
        if (!manager) {
            rc = nx_fail(e, NX_EPERM, "", "无权释放预约");
            goto done;
        }
        int64_t grace = venues_no_show_grace_ms(app);
        if (strcmp(status, "confirmed") != 0 || checked || now < s + grace || now >= en) {
            rc = nx_fail(e, NX_ECONFLICT, "", "只能在开始 %lld 分钟后、结束前释放未签到的预约", (long long)(grace / 60000));
            goto done;
        }
        to = "no_show";
        kind = VENUES_EV_BOOKING_RELEASED;
        int64_t from = (now + VENUES_UNIT_MS - 1) / VENUES_UNIT_MS * VENUES_UNIT_MS;
        if ((rc = release(tx, id, venue, from, en, now, e)))
            goto done;
    } else {
        rc = nx_fail(e, NX_ENOTFOUND, "", "没有这个操作");
        goto done;
    }
    store_param p[] = {P_TEXT(to), P_INT(now), P_TEXT(note ? note : ""), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE venue_bookings SET status = $1, updated_at = $2, note = CASE WHEN $3 = '' THEN note "
                         "ELSE $3 END WHERE id = $4",
                         p, 4, NULL, e)) ||
        (rc = emit_booking(tx, kind, id, venue, community, resident, booker, to, e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

/* ---- rooms for courses ---- */

#define HOLDER_WHEN 32 /* "2026-12-10 14:00–16:00": the dash is three bytes in UTF-8 */

/* The first live booking holding a unit of [s, en) in room v: 0 and *id 0 when none; else *id and the
 * booking's title and local date and times in "YYYY-MM-DD HH:MM–HH:MM" form. */
static int holder(store_tx *tx, int64_t venue, int64_t s, int64_t en, int64_t *id, char *title, size_t tn,
                  char when[HOLDER_WHEN], nx_err *e)
{
    store_param p[] = {P_INT(venue), P_INT(s / VENUES_UNIT_MS), P_INT((en + VENUES_UNIT_MS - 1) / VENUES_UNIT_MS)};
    store_rows *r;
    *id = 0;
    int rc = store_query(tx,
                         "SELECT vb.id, vb.title, vb.starts_at, vb.ends_at FROM venue_slots s JOIN venue_bookings vb ON "
                         "vb.id = s.booking_id WHERE s.venue_id = $1 AND s.unit >= $2 AND s.unit < $3 ORDER BY s.unit "
                         "LIMIT 1",
                         p, 3, &r, e);
    if (rc)
        return rc;
    if (store_row(r)) {
        char d[11], h1[6], d2[11], h2[6];
        *id = store_int(r, 0);
        snprintf(title, tn, "%s", store_text(r, 1));
        venues_local_parts(store_int(r, 2), d, h1);
        venues_local_parts(store_int(r, 3), d2, h2);
        snprintf(when, HOLDER_WHEN, "%s %s–%s", d, h1, strcmp(d, d2) == 0 ? h2 : "24:00");
    }
    return store_rows_end(r, e);
}

/* venues_book_span with the booking's course_id (0 = none). */
static int book_span(store_tx *tx, const nx_principal *who, int64_t venue_id, int64_t course_id, const char *title,
                     int attendees, int64_t starts_ms, int64_t ends_ms, int64_t *booking_id, nx_err *e)
{
    venue_rules v;
    int rc = venues_load_rules(tx, who, venue_id, &v, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "venue_id", "活动室不存在");
    if (rc)
        return rc;
    char ds[11], hs[6], de[11], he[6];
    venues_local_parts(starts_ms, ds, hs);
    venues_local_parts(ends_ms, de, he);
    book_req b = {.venue_id = venue_id, .course_id = course_id, .attendees = attendees, .title = title, .note = ""};
    nx_date day;
    if (strcmp(ds, de) != 0 || date_parse(ds, &day) || venues_parse_hhmm(hs, "start", &b.from_min, e) ||
        venues_parse_hhmm(he, "end", &b.to_min, e))
        return nx_fail(e, NX_EINVAL, "end", "占用活动室的时间须在同一天内开始和结束");
    bool closed = false;
    int64_t now = clock_now_ms(), other = 0;
    if ((rc = check_rules(&v, &b, day, true, now, e)) || (rc = venues_closed_on(tx, &v, day, &closed, e)))
        return rc;
    if (closed)
        return nx_fail(e, NX_EINVAL, "date", "%s 活动室「%s」闭馆", ds, v.name);
    char other_title[128] = "", when[HOLDER_WHEN] = "";
    if ((rc = holder(tx, venue_id, starts_ms, ends_ms, &other, other_title, sizeof other_title, when, e)))
        return rc;
    if (other)
        return nx_fail(e, NX_ECONFLICT, "venue_id", "活动室「%s」在 %s %s–%s 已有预约 #%lld「%s」（%s），请换时间或换活动室",
                       v.name, ds, hs, he, (long long)other, other_title, when);
    /* A request that commits between the look above and this insert still meets the primary key. */
    if ((rc = insert_booking(tx, who, &v, &b, starts_ms, ends_ms, 0, "confirmed", 0, now, booking_id, e)))
        return rc;
    return emit_booking(tx, VENUES_EV_BOOKING_CREATED, *booking_id, v.id, v.community_id, 0, who->user_id, "confirmed", e);
}

int venues_book_span(store_tx *tx, const nx_principal *who, int64_t venue_id, const char *title, int attendees,
                     int64_t starts_ms, int64_t ends_ms, int64_t *booking_id, nx_err *e)
{
    return book_span(tx, who, venue_id, 0, title, attendees, starts_ms, ends_ms, booking_id, e);
}

int venues_book_course(store_tx *tx, const nx_principal *who, int64_t venue_id, int64_t course_id, const char *title,
                       int attendees, int64_t starts_ms, int64_t ends_ms, int64_t *booking_id, nx_err *e)
{
    return book_span(tx, who, venue_id, course_id, title, attendees, starts_ms, ends_ms, booking_id, e);
}

/* Release every booking the query selects (columns id, venue_id, community_id, resident_id,
 * booked_by, starts_at, ends_at; at most 200) as status `to`: its time from its start, or from the
 * next quarter hour when it has begun, is freed and offered to waiters, and the booker hears of it
 * (VENUES_EV_BOOKING_RELEASED). *n: how many. */
static int release_selected(store_tx *tx, const char *sql, const store_param *p, int np, const char *to, int64_t now,
                            int *n, nx_err *e)
{
    store_rows *r;
    *n = 0;
    int rc = store_query(tx, sql, p, np, &r, e);
    if (rc)
        return rc;
    int64_t rows[200][7];
    int k = 0;
    while (k < 200 && store_row(r)) {
        for (int i = 0; i < 7; i++)
            rows[k][i] = store_int(r, i);
        k++;
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    int64_t next_unit = (now + VENUES_UNIT_MS - 1) / VENUES_UNIT_MS * VENUES_UNIT_MS;
    for (int i = 0; i < k; i++) {
        store_param u[] = {P_TEXT(to), P_INT(now), P_INT(rows[i][0])};
        int64_t from = rows[i][5] > now ? rows[i][5] : next_unit;
        if ((rc = store_exec(tx, "UPDATE venue_bookings SET status = $1, updated_at = $2 WHERE id = $3", u, 3, NULL, e)) ||
            (rc = release(tx, rows[i][0], rows[i][1], from, rows[i][6], now, e)) ||
            (rc = emit_booking(tx, VENUES_EV_BOOKING_RELEASED, rows[i][0], rows[i][1], rows[i][2], rows[i][3], rows[i][4],
                               to, e)))
            return rc;
    }
    *n = k;
    return 0;
}

#define RELEASE_COLS "SELECT id, venue_id, community_id, resident_id, booked_by, starts_at, ends_at FROM venue_bookings "

/* Cancel the live bookings not yet ended at now whose column (course_id or id) is value. */
static int release_live(store_tx *tx, bool by_course, int64_t value, int64_t now, int *n, nx_err *e)
{
    store_param p[] = {P_INT(value), P_INT(now)};
    return release_selected(tx,
                            by_course ? RELEASE_COLS "WHERE course_id = $1 AND status IN ('pending', 'confirmed') AND "
                                                     "ends_at > $2 ORDER BY id LIMIT 200"
                                      : RELEASE_COLS "WHERE id = $1 AND status IN ('pending', 'confirmed') AND "
                                                     "ends_at > $2 ORDER BY id LIMIT 200",
                            p, 2, "cancelled", now, n, e);
}

int venues_release_course(store_tx *tx, int64_t course_id, int64_t now_ms, int *n, nx_err *e)
{
    return release_live(tx, true, course_id, now_ms, n, e);
}

int venues_release_booking(store_tx *tx, int64_t booking_id, int64_t now_ms, int *n, nx_err *e)
{
    return release_live(tx, false, booking_id, now_ms, n, e);
}

int64_t venues_no_show_grace_ms(const nx_app *app)
{
    int64_t min = app->cfg ? app->cfg->venue_no_show_minutes : 0;
    return (min > 0 ? min : 15) * 60000LL;
}

int venues_release_no_shows(nx_app *app, int64_t now_ms, int *n, nx_err *e)
{
    *n = 0;
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(now_ms - venues_no_show_grace_ms(app)), P_INT(now_ms)};
    if ((rc = release_selected(tx,
                               RELEASE_COLS "WHERE status = 'confirmed' AND checked_in_at IS NULL AND starts_at <= $1 AND "
                                            "ends_at > $2 ORDER BY id LIMIT 200",
                               p, 2, "no_show", now_ms, n, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* One tick of the no-show ticker. */
static int no_show_tick(void *ctx, int64_t now_ms, nx_err *e)
{
    int n = 0;
    return venues_release_no_shows(ctx, now_ms, &n, e);
}

int venues_ticker_start(nx_app *app, int64_t period_ms, store_ticker **out, nx_err *e)
{
    *out = NULL;
    store_ticker_options o = {.name = "venues.no_show",
                              .period_ms = period_ms > 0 ? period_ms : 60 * 1000LL,
                              .run_at_start = true,
                              .fn = no_show_tick,
                              .ctx = app};
    return store_ticker_start(app->db, &o, out, e);
}

static json_t *wait_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i venue_id:i venue_name:t resident_id:i title:t status:t offered_at:d "
                                  "offer_until:d booking_id:i created_at:d - -");
    if (o)
        set_times(o, store_int(r, 10), store_int(r, 11));
    return o;
}

int venues_wait_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const keys[] = {"venue_id", "date", "start", "end", "title", "resident_id", NULL};
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权预约活动室");
    book_req b = {0};
    int rc = read_req(in, keys, &b, e);
    if (rc)
        return rc;
    store_tx *tx;
    venue_rules v;
    if ((rc = venues_open(app, STORE_WRITE, who, b.venue_id, &tx, &v, e)))
        return rc;
    int64_t resident = 0, now = clock_now_ms(), taken = 0;
    bool manager = venues_manages(who, tx, v.community_id);
    if ((rc = booking_person(tx, who, &v, manager, b.resident_id, &resident, e)) ||
        (rc = check_rules(&v, &b, b.day, manager, now, e)))
        goto done;
    int64_t s = venues_local_ms(b.day, b.from_min), en = venues_local_ms(b.day, b.to_min);
    store_param c[] = {P_INT(v.id), P_INT(s / VENUES_UNIT_MS), P_INT(en / VENUES_UNIT_MS)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM venue_slots WHERE venue_id = $1 AND unit >= $2 AND unit < $3", c, 3,
                            &taken, e)))
        goto done;
    if (!taken) {
        rc = nx_fail(e, NX_ECONFLICT, "start", "该时段空闲，请直接预约");
        goto done;
    }
    store_param p[] = {P_INT(v.id), P_INT(v.community_id), P_ID(resident), P_ID(who->user_id),
                       P_TEXT(b.title && *b.title ? b.title : "活动室预约"), P_INT(s), P_INT(en), P_INT(now)};
    rc = app_insert(tx, "venue_waits",
                    "venue_id, community_id, resident_id, user_id, title, starts_at, ends_at, created_at",
                    p, 8, id, e);
done:
    return store_finish(tx, rc, e);
}

static void wait_where(sqlq *q, const char *head, const nx_principal *who, const venues_filter *f)
{
    sqlq_init(q, head);
    if (perm_has(who, RIGHT_VENUE_MANAGE))
        perm_scope_q(who, "w.", "resident_id", q);
    else
        sqlq_add(q, " AND w.user_id = $%d", P_INT(who->user_id));
    sqlq_eq_int(q, "w.venue_id", f->venue_id);
    sqlq_eq_text(q, "w.status", f->status);
}

int venues_wait_list(nx_app *app, const nx_principal *who, const venues_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看候补");
    sqlq q, count;
    wait_where(&q, "SELECT w.id, w.venue_id, v.name, w.resident_id, w.title, w.status, w.offered_at, w.offer_until, "
                   "w.booking_id, w.created_at, w.starts_at, w.ends_at FROM venue_waits w JOIN venues v ON v.id = "
                   "w.venue_id WHERE 1 = 1",
               who, f);
    wait_where(&count, "SELECT COUNT(*) FROM venue_waits w WHERE 1 = 1", who, f);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = wait_row};
    return store_page_by_id(app->db, &q, "w.", f->after, false, &s, out, e);
}

int venues_wait_accept(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_VENUE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权预约活动室");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    venues_filter f = {0};
    sqlq q;
    wait_where(&q, "SELECT w.venue_id, w.resident_id, w.title, w.status, w.offer_until, w.starts_at, w.ends_at FROM "
                   "venue_waits w WHERE 1 = 1",
               who, &f);
    sqlq_add(&q, " AND w.id = $%d", P_INT(id));
    store_rows *r;
    if ((rc = sqlq_first(tx, &q, "候补不存在", &r, e))) {
        store_rows_free(r);
        goto fail;
    }
    char title[128];
    book_req b = {.venue_id = store_int(r, 0), .resident_id = store_int(r, 1), .attendees = 1, .title = title};
    snprintf(title, sizeof title, "%s", store_text(r, 2));
    bool offered = strcmp(store_text(r, 3), "offered") == 0 && store_int(r, 4) > clock_now_ms();
    int64_t s = store_int(r, 5) + NX_TZ_OFFSET_MS, en = store_int(r, 6) + NX_TZ_OFFSET_MS;
    b.day = date_from_days(s / 86400000LL);
    b.from_min = (int)(s % 86400000LL / 60000LL);
    b.to_min = (int)(en - s / 86400000LL * 86400000LL) / 60000;
    store_rows_free(r);
    if (!offered) {
        rc = nx_fail(e, NX_ECONFLICT, "", "该候补没有可接受的空出时段（或已过期）");
        goto fail;
    }
    int64_t booking = 0;
    if ((rc = book(tx, who, &b, &booking, NULL, e)))
        goto fail;
    store_param p[] = {P_INT(booking), P_INT(id)};
    if ((rc = store_exec(tx, "UPDATE venue_waits SET status = 'booked', booking_id = $1 WHERE id = $2", p, 2, NULL, e)) ||
        (rc = store_commit(tx, e)))
        return rc;
    return venues_booking_get(app, who, booking, out, e);
fail:
    store_rollback(tx);
    return rc;
}
