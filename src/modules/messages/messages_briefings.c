/* messages_briefings.c — policy briefing sessions (政策宣讲): topic, speaker, time, place, sign-up
 * and attendance.
 *
 * A briefing is announced by a notice (messages_notices.c) to its audience — the whole community
 * when none is given — written in the same transaction: the notice's recipients are the residents
 * invited, so a resident sees and may sign up for exactly the briefings whose notice reached them,
 * and the receipts of that notice say who has not even read the invitation. A resident (or their
 * family, for them) signs up before the start while there are places (capacity 0 = no limit); staff
 * may sign a resident of the community up for them. Each sign-up emits messages.briefing.signed_up
 * (the confirmation) and, once, a day before the start, the sender's ticker emits
 * messages.briefing.reminder for it (a sign-up made inside that day is not reminded again); the
 * message service turns both into messages through its rules, as for every other event.
 *
 * Attendance is taken by staff at the door, one resident at a time: a resident who did not sign up
 * is recorded as a walk-in (walk_in = 1; unmarking a walk-in removes the row). The counts (signed
 * up, attended) are in every answer, and the attendance sheet is an .xlsx export (names masked).
 *
 * A room: a briefing that names a room (venue_id) holds it through the venues module's public call
 * (venues_book_span) in the same transaction, from starts_at to ends_at (two hours when not given),
 * and keeps the booking's id: a clash with another booking is a 409 naming it and nothing is
 * written. Moving the briefing (PATCH starts_at / ends_at) releases the booking and books the new
 * time in one transaction (a clash leaves both as they were); cancelling the briefing releases it.
 * A change of the start or the place (PATCH place) and a cancellation tell every resident signed up
 * (messages.briefing.changed, messages.briefing.cancelled: an event each).
 *
 * Rights: writing briefings, signing others up, the sign-up list, attendance and the export need
 * RIGHT_NOTICE_WRITE in scope (the export RIGHT_EXPORT too); residents and families (self scope)
 * read the briefings they were invited to and sign themselves up. Everything blocks on the store. */
#include "modules/messages/messages_internal.h"

#include "base/vec.h"
#include "modules/venues/venues.h"
#include "report/xlsx_write.h"
#include "secure/audit.h"
#include "text/mask.h"

#include <stdio.h>
#include <string.h>

#define REMIND_BEFORE_MS (24LL * 3600 * 1000) /* the reminder goes a day before the start */
#define SIGNUPS_MAX 5000                      /* the longest sign-up list answered at once */
#define DEFAULT_LENGTH_MS (2LL * 3600 * 1000) /* a briefing without ends_at holds its room two hours */

/* "YYYY-MM-DD HH:MM" (Beijing time) of ms into out[17]. */
static void local_minute_text(int64_t ms, char out[17])
{
    char t[30];
    clock_format_local(ms, t);
    snprintf(out, 17, "%.10s %.5s", t, t + 11);
}

/* Room for the longest invitation: a topic of 2000 characters (up to 4 bytes each), the speaker, the
 * place and the line of a move — so snprintf never cuts a character in half. */
#define INVITATION_MAX 10240

/* The announcing notice's text: what (topic, or the title when there is none), who, when, where and
 * how many places. moved, when given, is the line that says the briefing was moved (what it was). */
static void invitation_body(char *body, size_t n, const char *what, const char *speaker, int64_t starts,
                            const char *place, int64_t capacity, const char *moved)
{
    char when[17], seats[48] = "";
    local_minute_text(starts, when);
    if (capacity)
        snprintf(seats, sizeof seats, "名额：%lld 人，报满为止。\n", (long long)capacity);
    snprintf(body, n, "主题：%s\n主讲人：%s\n时间：%s\n地点：%s\n%s%s请在「政策宣讲」中报名。", what, speaker, when, place, seats,
             moved ? moved : "");
}

/* ---- reading ---- */

#define BRIEFING_COLS                                                                                              \
    "SELECT b.id, b.community_id, b.title, b.topic, b.speaker, b.place, b.venue_id, b.starts_at, b.capacity, "   \
    "b.status, b.notice_id, b.created_at, b.ends_at, b.venue_booking_id, (SELECT count(*) FROM briefing_signups s WHERE s.briefing_id = b.id AND " \
    "s.walk_in = 0), (SELECT count(*) FROM briefing_signups s WHERE s.briefing_id = b.id AND s.attended = 1)"

static json_t *briefing_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i title:t topic:t speaker:t place:t venue_id:i starts_at:d "
                             "capacity:i status:t notice_id:i created_at:d ends_at:d venue_booking_id:i signups:i attended:i "
                             "signed_up:b");
}

/* The columns, the caller's own sign-up (null for staff) and the scope: a resident or family
 * account sees the briefings whose notice reached their resident; staff those of their scope. */
static void briefing_select(sqlq *q, const nx_principal *who)
{
    if (who->scope == SCOPE_SELF) {
        sqlq_init(q, BRIEFING_COLS);
        sqlq_add(q, ", (SELECT count(*) FROM briefing_signups s WHERE s.briefing_id = b.id AND s.resident_id = $%d) "
                    "FROM briefings b WHERE 1 = 1",
                 P_INT(who->resident_id));
        sqlq_add(q, " AND b.notice_id IN (SELECT notice_id FROM notice_recipients WHERE resident_id = $%d)",
                 P_INT(who->resident_id));
    } else {
        sqlq_init(q, BRIEFING_COLS ", NULL FROM briefings b WHERE 1 = 1");
        perm_scope_q(who, "b.", NULL, q);
    }
}

static int can_read(const nx_principal *who, nx_err *e)
{
    if (who->scope == SCOPE_SELF ? who->resident_id == 0 : !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权查看政策宣讲");
    return 0;
}

static int need_staff(const nx_principal *who, const char *what, nx_err *e)
{
    if (who->scope == SCOPE_SELF || !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权%s", what);
    return 0;
}

int messages_briefing_list(nx_app *app, const nx_principal *who, const char *cursor, int limit, json_t **out,
                           nx_err *e)
{
    int64_t before = 0;
    int rc;
    if ((rc = can_read(who, e)) || (rc = store_page_cursor_id(cursor, &before, e)))
        return rc;
    sqlq q;
    briefing_select(&q, who);
    store_page_spec s = {.limit = limit, .max = (int)app->cfg->page_max, .row = briefing_row};
    return store_page_by_id(app->db, &q, "b.", before, false, &s, out, e);
}

int messages_briefing_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    int rc = can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    briefing_select(&q, who);
    sqlq_add(&q, " AND b.id = $%d", P_INT(id));
    store_page_spec s = {.row = briefing_row};
    return store_get_read(app->db, &q, &s, "宣讲不存在", out, e);
}

/* ---- writing ---- */

/* The time of a briefing from its texts (Beijing time "YYYY-MM-DDTHH:MM"): starts in the future,
 * ends after it (two hours after it when end is NULL). 0 or NX_EINVAL naming the field. */
static int read_span(const char *start, const char *end, int64_t now, int64_t *starts, int64_t *ends, nx_err *e)
{
    *starts = msg_parse_local_time(start);
    if (*starts < 0)
        return nx_fail(e, NX_EINVAL, "starts_at", "开始时间格式应为 YYYY-MM-DDTHH:MM（北京时间）");
    if (*starts <= now)
        return nx_fail(e, NX_EINVAL, "starts_at", "开始时间应晚于现在");
    *ends = end ? msg_parse_local_time(end) : *starts + DEFAULT_LENGTH_MS;
    if (*ends < 0)
        return nx_fail(e, NX_EINVAL, "ends_at", "结束时间格式应为 YYYY-MM-DDTHH:MM（北京时间）");
    if (*ends <= *starts)
        return nx_fail(e, NX_EINVAL, "ends_at", "结束时间应晚于开始时间");
    return 0;
}

int messages_briefing_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    int rc = need_staff(who, "发布政策宣讲", e);
    if (rc)
        return rc;
    static const char *const allowed[] = {"community_id", "title",    "topic",   "speaker",  "place",
                                          "venue_id",     "starts_at", "ends_at", "capacity", "audience", NULL};
    const char *title = NULL, *topic = "", *speaker = NULL, *place = NULL, *at = NULL, *end_at = NULL;
    int64_t community = 0, venue = 0, capacity = 0;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &community, e)) < 0 ||
        (rc = json_read_str(in, "title", true, 100, &title, e)) ||
        (rc = json_read_str(in, "topic", false, 2000 + JSON_TEXT_MULTILINE, &topic, e)) ||
        (rc = json_read_str(in, "speaker", true, 50, &speaker, e)) ||
        (rc = json_read_str(in, "place", false, 100, &place, e)) ||
        (rc = json_get_int(in, "venue_id", false, 1, INT64_MAX, &venue, e)) < 0 ||
        (rc = json_read_str(in, "starts_at", true, 40, &at, e)) ||
        (rc = json_read_str(in, "ends_at", false, 40, &end_at, e)) ||
        (rc = json_get_int(in, "capacity", false, 0, 100000, &capacity, e)) < 0)
        return rc;
    int64_t now = clock_now_ms(), starts = 0, ends = 0;
    if ((rc = read_span(at, end_at, now, &starts, &ends, e)))
        return rc;
    if (!place && !venue)
        return nx_fail(e, NX_EINVAL, "place", "请填写地点或选择活动室");
    json_t *aud = json_object_get(in, "audience");
    if (aud && (rc = msg_audience_check(aud, e)))
        return rc;
    store_tx *tx;
    if ((rc = msg_begin_in_community(app, who, &community, &tx, e)))
        return rc;
    json_t *whole = NULL;
    char *room = NULL;
    if (venue) {
        store_param v[] = {P_INT(venue), P_INT(community)};
        rc = store_one_text(tx, "SELECT name FROM venues WHERE id = $1 AND community_id = $2", v, 2, &room, e);
        if (rc == NX_ENOTFOUND)
            rc = nx_fail(e, NX_EINVAL, "venue_id", "活动室不存在或不属于该社区");
        if (rc)
            goto fail;
        if (!place)
            place = room;
    }
    if (!aud)
        aud = whole = json_pack("{s:[I]}", "communities", (json_int_t)community);
    char body[INVITATION_MAX];
    invitation_body(body, sizeof body, *topic ? topic : title, speaker, starts, place, capacity, NULL);
    char notice_title[160];
    snprintf(notice_title, sizeof notice_title, "政策宣讲：%s", title);
    int64_t notice = 0, booking = 0;
    if ((rc = msg_notice_post(tx, who, community, notice_title, body, aud, "inapp", now, now, &notice, e)))
        goto fail;
    if (venue && (rc = venues_book_span(tx, who, venue, notice_title, (int)capacity, starts, ends, &booking, e)))
        goto fail;
    store_param p[] = {P_INT(community), P_TEXT(title), P_TEXT(topic),    P_TEXT(speaker), P_TEXT(place),
                       P_ID(venue),      P_INT(starts), P_INT(capacity),  P_INT(notice),   P_ID(who->user_id),
                       P_INT(now),       P_INT(ends),   P_ID(booking)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO briefings (community_id, title, topic, speaker, place, venue_id, starts_at, "
                            "capacity, notice_id, created_by, created_at, updated_at, ends_at, venue_booking_id) VALUES "
                            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13) RETURNING id",
                            p, 13, id, e)) ||
        (rc = audit_write(tx, who, "create", "briefing", *id, community, NULL, e)))
        goto fail;
    json_decref(whole);
    free(room);
    return store_commit(tx, e);
fail:
    json_decref(whole);
    free(room);
    store_rollback(tx);
    return rc;
}

/* The briefing id in who's scope (as briefing_select) inside tx: its community, status, start,
 * capacity and title and place (for the events; the caller frees them). NX_ENOTFOUND. */
typedef struct briefing_state {
    int64_t community, starts, capacity, ends, venue, booking;
    char status[16];
    char *title, *place;
} briefing_state;

static int load_state(store_tx *tx, const nx_principal *who, int64_t id, briefing_state *b, nx_err *e)
{
    memset(b, 0, sizeof *b);
    sqlq q;
    sqlq_init(&q, "SELECT b.community_id, b.status, b.starts_at, b.capacity, b.title, b.place, b.ends_at, b.venue_id, "
                  "b.venue_booking_id FROM briefings b WHERE 1 = 1");
    sqlq_add(&q, " AND b.id = $%d", P_INT(id));
    if (who->scope == SCOPE_SELF)
        sqlq_add(&q, " AND b.notice_id IN (SELECT notice_id FROM notice_recipients WHERE resident_id = $%d)",
                 P_INT(who->resident_id));
    else
        perm_scope_q(who, "b.", NULL, &q);
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "宣讲不存在", e)) == 0) {
        b->community = store_int(r, 0);
        str_copy(b->status, store_text(r, 1), sizeof b->status);
        b->starts = store_int(r, 2);
        b->capacity = store_int(r, 3);
        b->title = strdup(store_text(r, 4));
        b->place = strdup(store_text(r, 5));
        b->ends = store_isnull(r, 6) ? 0 : store_int(r, 6);
        b->venue = store_isnull(r, 7) ? 0 : store_int(r, 7);
        b->booking = store_isnull(r, 8) ? 0 : store_int(r, 8);
        if (!b->title || !b->place)
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    store_rows_free(r);
    return rc;
}

static void state_free(briefing_state *b)
{
    free(b->title);
    free(b->place);
}

/* Whether resident is an active resident of community (staff acting for someone). */
static int resident_of(store_tx *tx, int64_t resident, int64_t community, nx_err *e)
{
    int64_t n = 0;
    store_param p[] = {P_INT(resident), P_INT(community)};
    int rc = store_one_int(tx,
                           "SELECT count(*) FROM residents WHERE id = $1 AND community_id = $2 AND status = 'active'",
                           p, 2, &n, e);
    if (rc == 0 && n == 0)
        rc = nx_fail(e, NX_EINVAL, "resident_id", "居民不存在或不属于该社区");
    return rc;
}

/* The event of one sign-up (confirmation, reminder or the briefing's cancellation, which carries
 * the reason when one was given) about briefing id. */
static int emit_why(store_tx *tx, const char *kind, int64_t id, int64_t resident, const briefing_state *b,
                    const char *reason, nx_err *e)
{
    char when[17], link[48];
    local_minute_text(b->starts, when);
    snprintf(link, sizeof link, "/m/briefings/%lld", (long long)id);
    json_t *payload = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "briefing_id", (json_int_t)id, "resident_id",
                                (json_int_t)resident, "title", b->title, "place", b->place, "starts_at", when, "link",
                                link);
    if (payload && reason && *reason)
        json_object_set_new(payload, "reason", json_string(reason));
    return outbox_emit_new(tx, kind, b->community, "briefing", id, payload, e);
}

static int emit(store_tx *tx, const char *kind, int64_t id, int64_t resident, const briefing_state *b, nx_err *e)
{
    return emit_why(tx, kind, id, resident, b, NULL, e);
}

/* One change to briefing id in a write transaction: the briefing in who's scope and open, the
 * resident (when not 0) of its community, then step; committed when step answers 0. */
typedef int (*briefing_step)(store_tx *tx, const nx_principal *who, int64_t id, const briefing_state *b, void *ctx,
                             nx_err *e);

static int briefing_write(nx_app *app, const nx_principal *who, int64_t id, int64_t resident, briefing_step step,
                          void *ctx, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    briefing_state b;
    if ((rc = load_state(tx, who, id, &b, e)) == 0 && resident)
        rc = resident_of(tx, resident, b.community, e);
    if (rc == 0 && strcmp(b.status, "open") != 0)
        rc = nx_fail(e, NX_ECONFLICT, "", "宣讲已取消");
    if (rc == 0)
        rc = step(tx, who, id, &b, ctx, e);
    state_free(&b);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

static int signup_step(store_tx *tx, const nx_principal *who, int64_t id, const briefing_state *b, void *ctx,
                       nx_err *e)
{
    (void)who;
    int64_t resident = *(const int64_t *)ctx, now = clock_now_ms(), taken = 0, added = 0;
    if (b->starts <= now)
        return nx_fail(e, NX_ECONFLICT, "", "宣讲已开始，不能再报名");
    store_param c[] = {P_INT(id)};
    int rc = store_one_int(tx, "SELECT count(*) FROM briefing_signups WHERE briefing_id = $1 AND walk_in = 0", c, 1,
                           &taken, e);
    if (rc)
        return rc;
    if (b->capacity && taken >= b->capacity)
        return nx_fail(e, NX_ECONFLICT, "", "名额已满");
    /* inside the last day the confirmation is the reminder: none is sent later */
    bool soon = b->starts - now <= REMIND_BEFORE_MS;
    store_param p[] = {P_INT(id), P_INT(resident), P_INT(now), soon ? P_INT(now) : P_NULL};
    if ((rc = store_exec(tx,
                         "INSERT INTO briefing_signups (briefing_id, resident_id, signed_at, reminded_at) VALUES ($1, "
                         "$2, $3, $4) ON CONFLICT (briefing_id, resident_id) DO NOTHING",
                         p, 4, &added, e)))
        return rc;
    if (added == 0)
        return nx_fail(e, NX_ECONFLICT, "", "已经报名了");
    return emit(tx, MESSAGES_EV_BRIEFING_SIGNED_UP, id, resident, b, e);
}

/* A resident withdraws their sign-up before the start; the place is free again. */
static int withdraw_step(store_tx *tx, const nx_principal *who, int64_t id, const briefing_state *b, void *ctx,
                         nx_err *e)
{
    (void)who;
    int64_t resident = *(const int64_t *)ctx, gone = 0;
    if (b->starts <= clock_now_ms())
        return nx_fail(e, NX_ECONFLICT, "", "宣讲已开始，不能再取消报名");
    store_param p[] = {P_INT(id), P_INT(resident)};
    int rc = store_exec(tx, "DELETE FROM briefing_signups WHERE briefing_id = $1 AND resident_id = $2 AND walk_in = 0",
                        p, 2, &gone, e);
    if (rc == 0 && gone == 0)
        rc = nx_fail(e, NX_ECONFLICT, "", "尚未报名");
    return rc;
}

/* Sign-up or its withdrawal by {} (a resident or family account: their resident) or {resident_id}
 * (staff: a resident of the briefing's community). */
static int for_resident(nx_app *app, const nx_principal *who, int64_t id, json_t *in, briefing_step step,
                        const char *self_only, nx_err *e)
{
    int rc = can_read(who, e);
    if (rc)
        return rc;
    static const char *const allowed[] = {"resident_id", NULL};
    int64_t resident = 0;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", who->scope != SCOPE_SELF, 1, INT64_MAX, &resident, e)) < 0)
        return rc;
    if (who->scope != SCOPE_SELF) /* staff act for a resident of the briefing's community */
        return briefing_write(app, who, id, resident, step, &resident, e);
    if (resident && resident != who->resident_id)
        return nx_fail(e, NX_EPERM, "resident_id", "%s", self_only);
    resident = who->resident_id;
    return briefing_write(app, who, id, 0, step, &resident, e);
}

int messages_briefing_signup(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    return for_resident(app, who, id, in, signup_step, "只能为本人报名", e);
}

int messages_briefing_withdraw(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    return for_resident(app, who, id, in, withdraw_step, "只能取消本人的报名", e);
}

/* kind for every resident signed up for briefing id (walk-ins are not: they came without signing
 * up), about b as it now is, with reason when not NULL. */
static int emit_signups(store_tx *tx, const char *kind, int64_t id, const briefing_state *b, const char *reason,
                        nx_err *e)
{
    store_param p[] = {P_INT(id)};
    vec who_signed;
    vec_init(&who_signed, sizeof(int64_t), 0);
    int rc = store_query_ids(tx,
                             "SELECT resident_id FROM briefing_signups WHERE briefing_id = $1 AND walk_in = 0 ORDER "
                             "BY resident_id",
                             p, 1, &who_signed, e);
    const int64_t *ids = who_signed.items;
    for (size_t i = 0; rc == 0 && i < who_signed.len; i++)
        rc = emit_why(tx, kind, id, ids[i], b, reason, e);
    vec_cleanup(&who_signed);
    return rc;
}

/* Staff call the briefing off, saying why: status cancelled, and every resident signed up hears it
 * (an event each, with the reason). */
static int cancel_step(store_tx *tx, const nx_principal *who, int64_t id, const briefing_state *b, void *ctx,
                       nx_err *e)
{
    const char *reason = ctx;
    int64_t now = clock_now_ms();
    if (b->starts <= now)
        return nx_fail(e, NX_ECONFLICT, "", "宣讲已开始，不能取消");
    store_param p[] = {P_INT(id), P_INT(now)};
    int released = 0;
    int rc = store_exec(tx, "UPDATE briefings SET status = 'cancelled', updated_at = $2 WHERE id = $1", p, 2, NULL, e);
    if (rc == 0 && b->booking)
        rc = venues_release_booking(tx, b->booking, now, &released, e);
    if (rc == 0)
        rc = emit_signups(tx, MESSAGES_EV_BRIEFING_CANCELLED, id, b, reason, e);
    if (rc == 0)
        rc = audit_write_new(tx, who, "cancel", "briefing", id, b->community, json_pack("{s:s}", "reason", reason), e);
    return rc;
}

int messages_briefing_cancel(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    int rc = need_staff(who, "取消政策宣讲", e);
    if (rc)
        return rc;
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "reason", true, 200, &reason, e)))
        return rc;
    return briefing_write(app, who, id, 0, cancel_step, (void *)reason, e);
}

/* A change of time and/or place: span set when the time changes (starts, ends), place when the place
 * does (NULL: as it is). */
typedef struct move {
    bool timed;
    int64_t span[2];
    const char *place;
} move;

/* After a move the announcing notice — and every inbox copy of it — says the new time and place, with
 * a line saying what it was, so an invitee who reads it later is not sent to the old room. */
static int restate_invitation(store_tx *tx, int64_t id, const briefing_state *b, int64_t starts, const char *place,
                              int64_t now, nx_err *e)
{
    store_param p[] = {P_INT(id)};
    store_rows *r;
    int rc = store_query(tx, "SELECT topic, speaker, notice_id FROM briefings WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    char body[INVITATION_MAX];
    int64_t notice = 0;
    if ((rc = store_first(r, "宣讲不存在", e)) == 0) {
        const char *topic = store_text(r, 0);
        char was[17], moved[600];
        local_minute_text(b->starts, was);
        snprintf(moved, sizeof moved, "（已改期，原定 %s 在%s）\n", was, b->place);
        invitation_body(body, sizeof body, topic && *topic ? topic : b->title, store_text(r, 1), starts, place,
                        b->capacity, moved);
        notice = store_int(r, 2);
    }
    store_rows_free(r);
    if (rc)
        return rc;
    store_param u[] = {P_INT(notice), P_TEXT(body), P_INT(now)};
    if ((rc = store_exec(tx, "UPDATE notices SET body = $2, updated_at = $3 WHERE id = $1", u, 3, NULL, e)))
        return rc;
    return store_exec(tx, "UPDATE notifications SET body = $2 WHERE notice_id = $1", u, 2, NULL, e);
}

/* Staff move the briefing to another time or place: its room's booking (if any) released and the new
 * time booked in this transaction, so a clash changes nothing. When the start or the place really
 * changed, every resident signed up hears it (MESSAGES_EV_BRIEFING_CHANGED), and a move more than a
 * day ahead reminds them again a day before the new start. */
static int move_step(store_tx *tx, const nx_principal *who, int64_t id, const briefing_state *b, void *ctx,
                     nx_err *e)
{
    const move *mv = ctx;
    int64_t now = clock_now_ms(), booking = b->booking;
    int64_t starts = mv->timed ? mv->span[0] : b->starts, ends = mv->timed ? mv->span[1] : b->ends;
    const char *place = mv->place ? mv->place : b->place;
    if (b->starts <= now)
        return nx_fail(e, NX_ECONFLICT, "", "宣讲已开始，不能改时间或地点");
    int released = 0, rc = 0;
    if (mv->timed) {
        if (b->booking && (rc = venues_release_booking(tx, b->booking, now, &released, e)))
            return rc;
        if (b->venue) {
            char title[160];
            snprintf(title, sizeof title, "政策宣讲：%s", b->title);
            if ((rc = venues_book_span(tx, who, b->venue, title, (int)b->capacity, starts, ends, &booking, e)))
                return rc;
        }
    }
    store_param p[] = {P_INT(id), P_INT(starts), P_ID(ends), P_ID(booking), P_INT(now), P_TEXT(place)};
    if ((rc = store_exec(tx,
                         "UPDATE briefings SET starts_at = $2, ends_at = $3, venue_booking_id = $4, updated_at = $5, "
                         "place = $6 WHERE id = $1",
                         p, 6, NULL, e)))
        return rc;
    char was[17], to[17];
    local_minute_text(b->starts, was);
    local_minute_text(starts, to);
    if ((rc = audit_write_new(tx, who, "update", "briefing", id, b->community,
                              json_pack("{s:s, s:s, s:s, s:s}", "starts_was", was, "starts_at", to, "place_was",
                                        b->place, "place", place),
                              e)))
        return rc;
    if (starts == b->starts && strcmp(place, b->place) == 0)
        return 0; /* the same start and place: nobody needs telling */
    if ((rc = restate_invitation(tx, id, b, starts, place, now, e)))
        return rc;
    if (starts != b->starts && starts - now > REMIND_BEFORE_MS) {
        store_param r[] = {P_INT(id)};
        if ((rc = store_exec(tx, "UPDATE briefing_signups SET reminded_at = NULL WHERE briefing_id = $1", r, 1, NULL, e)))
            return rc;
    }
    briefing_state now_b = *b;
    now_b.starts = starts;
    now_b.ends = ends;
    now_b.place = (char *)place;
    return emit_signups(tx, MESSAGES_EV_BRIEFING_CHANGED, id, &now_b, NULL, e);
}

int messages_briefing_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    int rc = need_staff(who, "修改政策宣讲", e);
    if (rc)
        return rc;
    static const char *const allowed[] = {"starts_at", "ends_at", "place", NULL};
    const char *at = NULL, *end_at = NULL;
    move mv = {0};
    if ((rc = json_only(in, allowed, e)))
        return rc;
    for (int i = 0; allowed[i]; i++) /* a move says where or when; null would say neither */
        if (json_is_null_field(in, allowed[i]))
            return nx_fail(e, NX_EINVAL, allowed[i], "%s 不能为空", allowed[i]);
    if ((rc = json_read_str(in, "starts_at", false, 40, &at, e)) ||
        (rc = json_read_str(in, "ends_at", false, 40, &end_at, e)) ||
        (rc = json_read_str(in, "place", false, 100, &mv.place, e)))
        return rc;
    if (mv.place && !*mv.place)
        return nx_fail(e, NX_EINVAL, "place", "地点不能为空");
    if (!at && end_at)
        return nx_fail(e, NX_EINVAL, "starts_at", "改结束时间时请同时填写开始时间");
    if (!at && !mv.place)
        return nx_fail(e, NX_EINVAL, "starts_at", "请填写新的时间（starts_at）或地点（place）");
    if (at) {
        mv.timed = true;
        if ((rc = read_span(at, end_at, clock_now_ms(), &mv.span[0], &mv.span[1], e)))
            return rc;
    }
    return briefing_write(app, who, id, 0, move_step, &mv, e);
}

typedef struct mark {
    int64_t resident;
    bool attended;
} mark;

static int attend_step(store_tx *tx, const nx_principal *who, int64_t id, const briefing_state *b, void *ctx,
                       nx_err *e)
{
    (void)b;
    const mark *m = ctx;
    store_param p[] = {P_INT(id), P_INT(m->resident), P_INT(clock_now_ms()), P_ID(who->user_id)};
    if (m->attended)
        return store_exec(tx,
                          "INSERT INTO briefing_signups (briefing_id, resident_id, signed_at, attended, attended_at, "
                          "marked_by, walk_in) VALUES ($1, $2, $3, 1, $3, $4, 1) ON CONFLICT (briefing_id, "
                          "resident_id) DO UPDATE SET attended = 1, attended_at = $3, marked_by = $4",
                          p, 4, NULL, e);
    int rc = store_exec(tx,
                        "DELETE FROM briefing_signups WHERE briefing_id = $1 AND resident_id = $2 AND walk_in = 1 AND "
                        "$3 = $3 AND $4 = $4",
                        p, 4, NULL, e);
    return rc ? rc
              : store_exec(tx,
                           "UPDATE briefing_signups SET attended = 0, attended_at = NULL, marked_by = $4 WHERE "
                           "briefing_id = $1 AND resident_id = $2 AND $3 = $3",
                           p, 4, NULL, e);
}

int messages_briefing_attend(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    int rc = need_staff(who, "签到", e);
    if (rc)
        return rc;
    static const char *const allowed[] = {"resident_id", "attended", NULL};
    mark m = {.attended = true};
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &m.resident, e)) < 0 ||
        (rc = json_get_bool(in, "attended", false, &m.attended, e)) < 0)
        return rc;
    return briefing_write(app, who, id, m.resident, attend_step, &m, e);
}

/* ---- the sign-up list and the attendance sheet ---- */

#define SIGNUP_SQL                                                                                                 \
    "SELECT s.resident_id, r.name, r.grid_id, g.name, s.signed_at, s.attended, s.attended_at, s.walk_in FROM "    \
    "briefing_signups s JOIN residents r ON r.id = s.resident_id LEFT JOIN grids g ON g.id = r.grid_id WHERE "     \
    "s.briefing_id = $%d ORDER BY r.grid_id, r.sort_key, r.id"

static json_t *signup_row(store_rows *r)
{
    json_t *o = store_json_row(r, "resident_id:i - grid_id:i grid_name:t signed_at:d attended:b attended_at:d "
                                  "walk_in:b");
    if (o) {
        char masked[64];
        mask_name(store_text(r, 1), masked, sizeof masked);
        json_object_set_new(o, "name", json_string(masked));
    }
    return o;
}

/* The briefing in who's scope (staff), read to answer 404 before its list. */
static int staff_sees(nx_app *app, const nx_principal *who, int64_t id, const char *what, nx_err *e)
{
    int rc = need_staff(who, what, e);
    json_t *b = NULL;
    if (rc == 0)
        rc = messages_briefing_get(app, who, id, &b, e);
    json_decref(b);
    return rc;
}

int messages_briefing_signups(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    int rc = staff_sees(app, who, id, "查看报名名单", e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "");
    sqlq_add(&q, SIGNUP_SQL, P_INT(id));
    store_page_spec s = {.max = SIGNUPS_MAX, .row = signup_row};
    return store_items_read(app->db, &q, &s, out, e);
}

int messages_briefing_export(nx_app *app, const nx_principal *who, int64_t id, const char *path, int64_t *rows,
                             nx_err *e)
{
    *rows = 0;
    int rc = staff_sees(app, who, id, "导出签到表", e);
    if (rc)
        return rc;
    if (!perm_has(who, RIGHT_EXPORT))
        return nx_fail(e, NX_EPERM, "", "无权导出签到表");
    xlsx_out *x = NULL;
    if ((rc = xlsx_out_open(path, "宣讲签到", &x, e)))
        return rc;
    static const char *const titles[] = {"序号", "姓名", "网格", "报名时间", "签到", "签到时间", "方式"};
    static const double widths[] = {8, 12, 16, 20, 10, 20, 10};
    enum { NCOL = 7 };
    if (xlsx_out_header(x, titles, widths, NCOL)) {
        xlsx_out_discard(x);
        return nx_fail(e, NX_EIO, "", "无法写入导出文件");
    }
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e))) {
        xlsx_out_discard(x);
        return rc;
    }
    sqlq q;
    sqlq_init(&q, "");
    sqlq_add(&q, SIGNUP_SQL, P_INT(id));
    store_rows *r = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        while (rc == 0 && store_row(r)) {
            char n[24], masked[64], signed_at[17], at[17] = "";
            snprintf(n, sizeof n, "%lld", (long long)(*rows + 1));
            mask_name(store_text(r, 1), masked, sizeof masked);
            local_minute_text(store_int(r, 4), signed_at);
            if (!store_isnull(r, 6))
                local_minute_text(store_int(r, 6), at);
            bool walk_in = store_int(r, 7) != 0;
            const char *cells[NCOL] = {n,      masked,  store_text(r, 3), walk_in ? "" : signed_at,
                                       store_int(r, 5) ? "已签到" : "未到", at, walk_in ? "现场" : "报名"};
            if (xlsx_out_row_typed(x, cells, "nssssss", NCOL))
                rc = nx_fail(e, NX_EIO, "", "无法写入导出文件");
            else
                (*rows)++;
        }
        int rrc = store_rows_end(r, e);
        rc = rc ? rc : rrc;
    }
    store_rollback(tx);
    if (rc) {
        xlsx_out_discard(x);
        return rc;
    }
    if ((rc = xlsx_out_close(x, e)) || (rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    if ((rc = audit_write_new(tx, who, "export", "briefing_attendance", id, who->community_id,
                              json_pack("{s:I}", "count", (json_int_t)*rows), e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* ---- reminders (the sender's ticker) ---- */

/* One sign-up to remind: what its event says. */
typedef struct remind {
    int64_t id, resident, community, starts;
    char title[320], place[320];
} remind;

int messages_briefings_due(nx_app *app, int64_t now_ms, int *count, nx_err *e)
{
    *count = 0;
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(now_ms), P_INT(now_ms + REMIND_BEFORE_MS)};
    if ((rc = store_query(tx,
                          "SELECT s.briefing_id, s.resident_id, b.community_id, b.starts_at, b.title, b.place FROM "
                          "briefing_signups s JOIN briefings b ON b.id = s.briefing_id WHERE b.status = 'open' AND "
                          "s.walk_in = 0 AND s.reminded_at IS NULL AND b.starts_at > $1 AND b.starts_at <= $2 ORDER BY "
                          "b.starts_at, s.briefing_id, s.resident_id LIMIT 100",
                          p, 2, &r, e))) {
        store_rollback(tx);
        return rc;
    }
    vec due;
    vec_init(&due, sizeof(remind), 0);
    while (store_row(r)) {
        remind m = {.id = store_int(r, 0), .resident = store_int(r, 1), .community = store_int(r, 2),
                    .starts = store_int(r, 3)};
        str_copy(m.title, store_text(r, 4), sizeof m.title);
        str_copy(m.place, store_text(r, 5), sizeof m.place);
        vec_push(&due, &m);
    }
    if ((rc = store_rows_end(r, e)) == 0)
        rc = vec_error(&due, e);
    const remind *ms = due.items;
    for (size_t i = 0; rc == 0 && i < due.len; i++) {
        briefing_state b = {.community = ms[i].community, .starts = ms[i].starts, .title = (char *)ms[i].title,
                            .place = (char *)ms[i].place};
        store_param u[] = {P_INT(ms[i].id), P_INT(ms[i].resident), P_INT(now_ms)};
        if ((rc = store_exec(tx,
                             "UPDATE briefing_signups SET reminded_at = $3 WHERE briefing_id = $1 AND resident_id = $2",
                             u, 3, NULL, e)) == 0)
            rc = emit(tx, MESSAGES_EV_BRIEFING_REMINDER, ms[i].id, ms[i].resident, &b, e);
    }
    size_t n = due.len;
    vec_cleanup(&due);
    if (rc || n == 0) {
        store_rollback(tx);
        return rc;
    }
    if ((rc = store_commit(tx, e)) == 0)
        *count = (int)n;
    return rc;
}
