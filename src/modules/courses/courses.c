/* courses.c — the courses themselves: proposals, approval, the list and one course.
 *
 * A course belongs to one community and is seen by its people (venues_community_scope_q: staff by
 * scope, residents and family through their bound resident's community). Staff with
 * RIGHT_COURSE_MANAGE covering the community see every course in any status; everyone else sees
 * approved courses and the proposals they made themselves.
 *
 * Creating validates everything before writing: a capacity of at least 1, an age range that is a
 * range, a newcomer quota within the capacity, sessions whose end follows their start, a room and a
 * teacher of the same community. Staff create approved courses; a resident's proposal waits for a
 * decision (an event each way).
 *
 * A course with a room and sessions books the room for every session still to come, through the
 * venues module's public API and in the course's own transaction: when the course is created by
 * staff (approved at once) or when a proposal is approved. A clash answers 409 naming the booking
 * that holds the time, and the course is not made (or stays proposed). Cancelling a course cancels
 * its bookings not yet ended, so the time is free again.
 *
 * Teacher hours are the sum of the lengths of the course's sessions that have started; they are
 * shown with the course (and can be counted as volunteer hours once that module exists). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "modules/courses/courses_internal.h"
#include "modules/venues/venues.h"
#include "notify/outbox.h"
#include "store/page.h"
#include "store/query.h"

#define COURSE_SELECT                                                                                        \
    "SELECT c.id, c.community_id, c.title, c.description, c.teacher_name, c.teacher_resident_id, c.audience, "  \
    "c.venue_id, v.name, c.capacity, c.min_age, c.max_age, c.residents_only, c.mode, c.prereg_until, "          \
    "c.newcomer_quota, c.lottery_seed, c.lottery_at, c.enrolled, c.status, c.proposed_by, c.review_note, "      \
    "c.created_at, (SELECT COUNT(*) FROM course_enrolments ce WHERE ce.course_id = c.id AND ce.status = "       \
    "'waiting'), (SELECT COUNT(*) FROM course_enrolments ce WHERE ce.course_id = c.id AND ce.status = "         \
    "'applied'), (SELECT MIN(s.starts_at) FROM course_sessions s WHERE s.course_id = c.id), (SELECT COUNT(*) "  \
    "FROM course_sessions s WHERE s.course_id = c.id) FROM courses c LEFT JOIN venues v ON v.id = c.venue_id "  \
    "WHERE 1 = 1"

static json_t *course_row_json(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i title:t description:t teacher_name:t teacher_resident_id:i "
                             "audience:t venue_id:i venue_name:t capacity:i min_age:i max_age:i residents_only:b "
                             "mode:t prereg_until:d newcomer_quota:i lottery_seed:t lottery_at:d enrolled:i status:t "
                             "proposed_by:i review_note:t created_at:d waiting:i applied:i first_session_at:d "
                             "sessions_count:i");
}

bool courses_manages(const nx_principal *who, store_tx *tx, int64_t community_id)
{
    return perm_has(who, RIGHT_COURSE_MANAGE) && perm_covers(who, tx, community_id, 0);
}

static void visible(sqlq *q, const nx_principal *who)
{
    venues_community_scope_q(who, "c.", q);
    if (!perm_has(who, RIGHT_COURSE_MANAGE))
        sqlq_add(q, " AND (c.status = 'approved' OR c.proposed_by = $%d)", P_INT(who->user_id));
}

int courses_load(store_tx *tx, const nx_principal *who, int64_t id, course_row *c, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT c.id, c.community_id, c.capacity, c.enrolled, c.min_age, c.max_age, c.prereg_until, "
                  "c.newcomer_quota, c.lottery_at, c.residents_only, c.status, c.mode FROM courses c WHERE 1 = 1");
    sqlq_add(&q, " AND c.id = $%d", P_INT(id));
    visible(&q, who);
    store_rows *r;
    int rc = sqlq_first(tx, &q, "课程不存在", &r, e);
    if (rc == 0) {
        memset(c, 0, sizeof *c);
        c->id = store_int(r, 0);
        c->community_id = store_int(r, 1);
        c->capacity = store_int(r, 2);
        c->enrolled = store_int(r, 3);
        c->has_min = !store_isnull(r, 4);
        c->min_age = store_int(r, 4);
        c->has_max = !store_isnull(r, 5);
        c->max_age = store_int(r, 5);
        c->prereg_until = store_int(r, 6);
        c->newcomer_quota = store_int(r, 7);
        c->lottery_at = store_int(r, 8);
        c->residents_only = store_int(r, 9) != 0;
        snprintf(c->status, sizeof c->status, "%s", store_text(r, 10));
        snprintf(c->mode, sizeof c->mode, "%s", store_text(r, 11));
    }
    store_rows_free(r);
    return rc;
}

int courses_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, course_row *c, nx_err *e)
{
    int rc = store_begin(app->db, mode, tx, e);
    if (rc == 0 && (rc = courses_load(*tx, who, id, c, e)))
        store_rollback(*tx);
    return rc;
}

static void course_where(sqlq *q, const char *head, const nx_principal *who, const courses_filter *f)
{
    sqlq_init(q, head);
    visible(q, who);
    sqlq_eq_int(q, "c.community_id", f->community_id);
    sqlq_eq_text(q, "c.status", f->status);
    if (f->audience && *f->audience)
        sqlq_add(q, " AND c.audience = $%d", P_TEXT(f->audience));
    if (f->q && *f->q)
        sqlq_like(q, " AND c.title LIKE $%d ESCAPE '!'", f->q, true);
    if (f->mine)
        sqlq_add(q, " AND c.id IN (SELECT course_id FROM course_enrolments WHERE resident_id = $%d AND status <> "
                    "'withdrawn')",
                 P_INT(who->resident_id));
}

int courses_list(nx_app *app, const nx_principal *who, const courses_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看课程");
    sqlq q, count;
    course_where(&q, COURSE_SELECT, who, f);
    course_where(&count, "SELECT COUNT(*) FROM courses c WHERE 1 = 1", who, f);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = course_row_json};
    return store_page_by_id(app->db, &q, "c.", f->after, false, &s, out, e);
}

int courses_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看课程");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    sqlq q;
    sqlq_init(&q, COURSE_SELECT);
    sqlq_add(&q, " AND c.id = $%d", P_INT(id));
    visible(&q, who);
    store_rows *r;
    if ((rc = sqlq_first(tx, &q, "课程不存在", &r, e)) == 0 && !(o = course_row_json(r)))
        rc = nx_fail(e, NX_ENOMEM, "", "无法生成课程");
    store_rows_free(r);
    if (rc)
        goto done;
    json_t *sessions = json_array();
    json_object_set_new(o, "sessions", sessions);
    store_param p[] = {P_INT(id)};
    if ((rc = store_query(tx, "SELECT id, starts_at, ends_at, topic FROM course_sessions WHERE course_id = $1 ORDER BY "
                              "starts_at, id",
                          p, 1, &r, e)))
        goto done;
    int64_t now = clock_now_ms(), taught = 0;
    while (store_row(r)) {
        json_t *s = store_json_row(r, "id:i starts_at:d ends_at:d topic:t");
        char d[11], h1[6], d2[11], h2[6];
        venues_local_parts(store_int(r, 1), d, h1);
        venues_local_parts(store_int(r, 2), d2, h2);
        json_object_set_new(s, "date", json_string(d));
        json_object_set_new(s, "start", json_string(h1));
        json_object_set_new(s, "end", json_string(h2));
        json_array_append_new(sessions, s);
        if (store_int(r, 1) <= now)
            taught += store_int(r, 2) - store_int(r, 1);
    }
    if ((rc = store_rows_end(r, e)))
        goto done;
    json_object_set_new(o, "teacher_hours", json_real((double)(taught / 60000) / 60.0));
    json_object_set_new(o, "my_enrolment", json_null());
    if (who->resident_id) {
        store_param m[] = {P_INT(id), P_INT(who->resident_id)};
        if ((rc = store_query(tx, "SELECT id, status, wait_pos, draw_rank FROM course_enrolments WHERE course_id = $1 "
                                  "AND resident_id = $2",
                              m, 2, &r, e)))
            goto done;
        if (store_row(r))
            json_object_set_new(o, "my_enrolment", store_json_row(r, "id:i status:t wait_pos:i draw_rank:i"));
        rc = store_rows_end(r, e);
    }
done:
    return store_read_finish(tx, rc, o, out);
}

/* ---- the room ---- */

/* Book the course's room for each of its sessions not yet started, through the venues module, on
 * tx (the course's own transaction: a clash leaves nothing behind). A room's refusal is answered
 * with the session's number: a clash is NX_ECONFLICT naming the booking that holds the time; a
 * rule (closed day, opening hours, longest booking) NX_EINVAL on "sessions", a room too small for
 * the capacity NX_EINVAL on "capacity". No room or no sessions: nothing to do. */
static int book_room(store_tx *tx, const nx_principal *who, int64_t course, nx_err *e)
{
    store_param p[] = {P_INT(course)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT c.venue_id, c.title, c.capacity, s.starts_at, s.ends_at FROM courses c JOIN "
                         "course_sessions s ON s.course_id = c.id WHERE c.id = $1 AND c.venue_id IS NOT NULL ORDER BY "
                         "s.starts_at, s.id",
                         p, 1, &r, e);
    if (rc)
        return rc;
    int64_t venue = 0, cap = 0, times[60][2];
    char title[200] = "";
    int n = 0;
    while (n < 60 && store_row(r)) {
        venue = store_int(r, 0);
        snprintf(title, sizeof title, "%s", store_text(r, 1));
        cap = store_int(r, 2);
        times[n][0] = store_int(r, 3);
        times[n][1] = store_int(r, 4);
        n++;
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    int64_t now = clock_now_ms();
    for (int i = 0; i < n; i++) {
        if (times[i][0] <= now)
            continue; /* a session already held needs no room any more */
        int64_t booking = 0;
        rc = venues_book_course(tx, who, venue, course, title, (int)cap, times[i][0], times[i][1], &booking, e);
        if (rc == NX_EINVAL || rc == NX_ECONFLICT) {
            char msg[sizeof e->msg];
            snprintf(msg, sizeof msg, "%s", e->msg);
            return nx_fail(e, rc, strcmp(e->field, "attendees") == 0 ? "capacity" : "sessions", "第 %d 次课：%s", i + 1, msg);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- create ---- */

typedef struct session_in {
    int64_t s, e;
    const char *topic;
} session_in;

static int read_sessions(json_t *arr, session_in *out, size_t *n, nx_err *e)
{
    *n = 0;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > 60)
        return nx_fail(e, NX_EINVAL, "sessions", "课次应为数组，最多 60 次");
    static const char *const keys[] = {"date", "start", "end", "topic", NULL};
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *date = NULL, *start = NULL, *end = NULL, *topic = NULL;
        nx_date d;
        int a, b;
        if (json_only(it, keys, e) || json_read_date(it, "date", true, &date, e) ||
            json_read_str(it, "start", true, 5, &start, e) || json_read_str(it, "end", true, 5, &end, e) ||
            json_read_str(it, "topic", false, 60, &topic, e) || date_parse(date, &d) ||
            venues_parse_hhmm(start, "sessions", &a, e) || venues_parse_hhmm(end, "sessions", &b, e))
            return nx_fail(e, NX_EINVAL, "sessions", "第 %zu 次课的日期或时间无效（date、start、end）", i + 1);
        if (b <= a)
            return nx_fail(e, NX_EINVAL, "sessions", "第 %zu 次课的结束时间须晚于开始时间", i + 1);
        out[*n] = (session_in){venues_local_ms(d, a), venues_local_ms(d, b), topic};
        (*n)++;
    }
    return 0;
}

int courses_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const keys[] = {"community_id", "title", "description", "teacher_name", "teacher_resident_id",
                                       "audience", "venue_id", "capacity", "min_age", "max_age", "residents_only",
                                       "mode", "prereg_until", "newcomer_quota", "sessions", NULL};
    bool manager_right = perm_has(who, RIGHT_COURSE_MANAGE);
    if (!manager_right && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权开设课程");
    const char *title = NULL, *desc = NULL, *teacher = NULL, *audience = "all", *mode = "fcfs", *prereg = NULL;
    int64_t community = 0, teacher_res = 0, venue = 0, capacity = 0, min_age = -1, max_age = -1, quota = 0;
    bool residents_only = false;
    session_in sessions[60];
    size_t nsessions = 0;
    int rc = json_only(in, keys, e);
    if (rc || (rc = json_read_str(in, "title", true, 60, &title, e)) ||
        (rc = json_read_str(in, "description", false, 2000, &desc, e)) ||
        (rc = json_read_str(in, "teacher_name", true, 30, &teacher, e)) ||
        (rc = json_read_str(in, "audience", false, 10, &audience, e)) || (rc = json_read_str(in, "mode", false, 10, &mode, e)) ||
        (rc = json_read_date(in, "prereg_until", false, &prereg, e)))
        return rc;
    if ((rc = json_get_int(in, "capacity", true, 1, 1000, &capacity, e)) < 0 ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &community, e)) < 0 ||
        (rc = json_get_int(in, "teacher_resident_id", false, 1, INT64_MAX, &teacher_res, e)) < 0 ||
        (rc = json_get_int(in, "venue_id", false, 1, INT64_MAX, &venue, e)) < 0 ||
        (rc = json_get_int(in, "min_age", false, 0, 120, &min_age, e)) < 0 ||
        (rc = json_get_int(in, "max_age", false, 0, 120, &max_age, e)) < 0 ||
        (rc = json_get_int(in, "newcomer_quota", false, 0, 1000, &quota, e)) < 0 ||
        (rc = json_get_bool(in, "residents_only", false, &residents_only, e)) < 0 ||
        (rc = read_sessions(json_object_get(in, "sessions"), sessions, &nsessions, e)))
        return rc;
    if (strcmp(audience, "all") && strcmp(audience, "youth") && strcmp(audience, "elders"))
        return nx_fail(e, NX_EINVAL, "audience", "对象应为 all、youth 或 elders");
    if (strcmp(mode, "fcfs") && strcmp(mode, "lottery"))
        return nx_fail(e, NX_EINVAL, "mode", "报名方式应为 fcfs（先到先得）或 lottery（预报名摇号）");
    if (min_age >= 0 && max_age >= 0 && max_age < min_age)
        return nx_fail(e, NX_EINVAL, "max_age", "最大年龄不能小于最小年龄");
    if (quota > capacity)
        return nx_fail(e, NX_EINVAL, "newcomer_quota", "新学员名额不能超过容量 %lld", (long long)capacity);
    if (strcmp(mode, "lottery") == 0 && !prereg)
        return nx_fail(e, NX_EINVAL, "prereg_until", "摇号课程须有预报名截止日期");
    int64_t prereg_ms = 0;
    if (prereg) {
        nx_date d;
        if (date_parse(prereg, &d))
            return nx_fail(e, NX_EINVAL, "prereg_until", "日期格式应为 YYYY-MM-DD");
        prereg_ms = venues_local_ms(d, 1440);
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    bool manager = false;
    if (manager_right) {
        if (!community && who->scope == SCOPE_COMMUNITY)
            community = who->community_id;
        if (!community) {
            rc = nx_fail(e, NX_EINVAL, "community_id", "请选择社区");
            goto done;
        }
        if (!perm_covers(who, tx, community, 0)) {
            rc = nx_fail(e, NX_EINVAL, "community_id", "社区不存在或不在管辖范围内");
            goto done;
        }
        manager = true;
    } else {
        store_param p[] = {P_INT(who->resident_id)};
        if ((rc = store_one_int(tx, "SELECT community_id FROM residents WHERE id = $1", p, 1, &community, e)))
            goto done;
        if (!teacher_res)
            teacher_res = who->resident_id;
    }
    if (teacher_res) {
        store_param p[] = {P_INT(teacher_res), P_INT(community)};
        int64_t n = 0;
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM residents WHERE id = $1 AND community_id = $2", p, 2, &n, e)))
            goto done;
        if (!n) {
            rc = nx_fail(e, NX_EINVAL, "teacher_resident_id", "授课居民不在本社区");
            goto done;
        }
    }
    if (venue) {
        store_param p[] = {P_INT(venue), P_INT(community)};
        int64_t n = 0;
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM venues WHERE id = $1 AND community_id = $2", p, 2, &n, e)))
            goto done;
        if (!n) {
            rc = nx_fail(e, NX_EINVAL, "venue_id", "活动室不在本社区");
            goto done;
        }
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_TEXT(title), P_TEXT(desc ? desc : ""), P_TEXT(teacher), P_ID(teacher_res),
                       P_TEXT(audience), P_ID(venue), P_INT(capacity), min_age >= 0 ? P_INT(min_age) : P_NULL,
                       max_age >= 0 ? P_INT(max_age) : P_NULL, P_INT(residents_only ? 1 : 0), P_TEXT(mode),
                       prereg_ms ? P_INT(prereg_ms) : P_NULL, P_INT(quota), P_TEXT(manager ? "approved" : "proposed"),
                       P_ID(who->user_id), P_INT(now), P_INT(now)};
    if ((rc = app_insert(tx, "courses",
                         "community_id, title, description, teacher_name, teacher_resident_id, audience, "
                         "venue_id, capacity, min_age, max_age, residents_only, mode, prereg_until, "
                         "newcomer_quota, status, proposed_by, created_at, updated_at",
                         p, 18, id, e)))
        goto done;
    for (size_t i = 0; i < nsessions; i++) {
        store_param s[] = {P_INT(*id), P_INT(sessions[i].s), P_INT(sessions[i].e),
                           P_TEXT(sessions[i].topic ? sessions[i].topic : "")};
        if ((rc = app_insert(tx, "course_sessions",
                             "course_id, starts_at, ends_at, topic",
                             s, 4, NULL, e)))
            goto done;
    }
    if (manager && (rc = book_room(tx, who, *id, e)))
        goto done;
    if (!manager &&
        (rc = outbox_emit_new(tx, COURSES_EV_PROPOSED, community, "course", *id,
                              json_pack("{s:I, s:I}", "course_id", (json_int_t)*id, "proposed_by", (json_int_t)who->user_id),
                              e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

int courses_decide(nx_app *app, const nx_principal *who, int64_t id, const char *action, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"note", NULL};
    const char *note = NULL;
    int rc = in ? json_only(in, keys, e) : 0;
    if (rc || (in && (rc = json_read_str(in, "note", false, 200, &note, e))))
        return rc;
    if (!perm_has(who, RIGHT_COURSE_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权审批课程");
    store_tx *tx;
    course_row c;
    if ((rc = courses_open(app, STORE_WRITE, who, id, &tx, &c, e)))
        return rc;
    if (!courses_manages(who, tx, c.community_id)) {
        rc = nx_fail(e, NX_EPERM, "", "无权审批该课程");
        goto done;
    }
    const char *to = strcmp(action, "approve") == 0 ? "approved" : strcmp(action, "reject") == 0 ? "rejected" : "cancelled";
    bool ok = strcmp(to, "cancelled") == 0 ? strcmp(c.status, "cancelled") != 0 && strcmp(c.status, "rejected") != 0
                                           : strcmp(c.status, "proposed") == 0;
    if (!ok) {
        rc = nx_fail(e, NX_ECONFLICT, "", "课程当前状态不能这样处理");
        goto done;
    }
    /* An approved course takes its room for its sessions; a cancelled one gives the time back. */
    int released = 0;
    if (strcmp(to, "approved") == 0 && (rc = book_room(tx, who, id, e)))
        goto done;
    if (strcmp(to, "cancelled") == 0 && (rc = venues_release_course(tx, id, clock_now_ms(), &released, e)))
        goto done;
    store_param p[] = {P_TEXT(to), P_TEXT(note ? note : ""), P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(tx, "UPDATE courses SET status = $1, review_note = $2, updated_at = $3 WHERE id = $4", p, 4, NULL, e)) ||
        (rc = outbox_emit_new(tx, COURSES_EV_DECIDED, c.community_id, "course", id,
                              json_pack("{s:I, s:s}", "course_id", (json_int_t)id, "status", to), e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}
