/* courses_enrol.c — enrolment, the waiting list, the lottery, attendance, leave and feedback.
 *
 * Seats. courses.enrolled counts the seats taken; a seat is taken only by
 *     UPDATE courses SET enrolled = enrolled + 1 WHERE id = $1 AND enrolled < capacity
 * and the change count says whether it was. The row lock of that UPDATE serialises concurrent
 * enrolments on PostgreSQL (the condition is re-checked after the wait) and SQLite has one writer,
 * so the counter never passes the capacity. Who does not get a seat waits, numbered in order of
 * arrival (wait_pos); a withdrawal frees a seat and the first waiter takes it in the same
 * transaction (an event tells them).
 *
 * The lottery. A lottery course collects pre-registrations ("applied") until staff draw, which
 * closes the window. The draw is reproducible by anyone from the published seed: each applicant's
 * key is the lowercase hex SHA-256 of the UTF-8 text "<seed>:<resident_id>"; applicants are ordered
 * by key (ties, which SHA-256 makes practically impossible, by resident id); the newcomers — no
 * seated enrolment in any other course — are taken in that order up to the newcomer quota (never
 * more than the free seats); then everyone not yet taken, in the same order, until the seats are
 * full; the rest wait in that order. docs/courses.md shows the same in a few lines of Python.
 *
 * Eligibility is checked at enrolment: the resident is active, of the right age on the day of
 * enrolment (whole years, base/clock.h date_age), and of the course's community when the course
 * is for its residents only. Residents and family act for their bound resident (family: the elder
 * they look after); staff act for anyone in scope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/courses/courses_internal.h"
#include "modules/venues/venues.h"
#include "modules/volunteers/volunteers.h"
#include "notify/outbox.h"
#include "store/page.h"
#include "store/query.h"

#define LOTTERY_MAX 5000 /* applicants of one draw */

void courses_lottery_key(const char *seed, int64_t resident_id, char out[65])
{
    char text[128];
    int n = snprintf(text, sizeof text, "%s:%lld", seed, (long long)resident_id);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, (unsigned long long)(n < (int)sizeof text ? n : (int)sizeof text - 1));
    str_hex(out, h, sizeof h);
}

static json_t *enrolment_json(int64_t id, int64_t course, int64_t resident, const char *status, int64_t wait_pos)
{
    return json_pack("{s:I, s:I, s:I, s:s, s:o}", "id", (json_int_t)id, "course_id", (json_int_t)course, "resident_id",
                     (json_int_t)resident, "status", status, "wait_pos", wait_pos ? json_integer(wait_pos) : json_null());
}

/* The resident an action is for: staff name one in scope; residents and family act for their own. */
static int acting_resident(store_tx *tx, const nx_principal *who, bool manager, int64_t asked, int64_t *out, nx_err *e)
{
    if (manager) {
        if (!asked)
            return nx_fail(e, NX_EINVAL, "resident_id", "请选择居民");
        store_param p[] = {P_INT(asked)};
        int64_t c = 0;
        int rc = store_one_int(tx, "SELECT community_id FROM residents WHERE id = $1", p, 1, &c, e);
        if (rc == NX_ENOTFOUND || (rc == 0 && !perm_covers(who, tx, c, 0)))
            return nx_fail(e, NX_EINVAL, "resident_id", "居民不存在或不在管辖范围内");
        *out = asked;
        return rc;
    }
    if (!perm_has(who, RIGHT_SELF) || !who->resident_id)
        return nx_fail(e, NX_EPERM, "", "无权报名");
    if (asked && asked != who->resident_id)
        return nx_fail(e, NX_EPERM, "resident_id", "只能为本人（或绑定的长辈）报名");
    *out = who->resident_id;
    return 0;
}

static int check_eligible(store_tx *tx, const course_row *c, int64_t resident, nx_err *e)
{
    store_param p[] = {P_INT(resident)};
    store_rows *r;
    int rc = store_query(tx, "SELECT birth_date, community_id, status FROM residents WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "居民不存在", e))) {
        store_rows_free(r);
        return rc == NX_ENOTFOUND ? nx_fail(e, NX_EINVAL, "resident_id", "居民不存在") : rc;
    }
    nx_date birth = {0};
    bool born = date_parse(store_text(r, 0), &birth) == 0;
    int64_t community = store_int(r, 1);
    bool active = strcmp(store_text(r, 2), "active") == 0;
    store_rows_free(r);
    if (!active)
        return nx_fail(e, NX_EINVAL, "resident_id", "该居民不在册，不能报名");
    int age = born ? date_age(birth, date_today()) : -1;
    if (c->has_min && age < c->min_age)
        return nx_fail(e, NX_EINVAL, "resident_id", "年龄不符合：本课程要求 %lld 岁及以上", (long long)c->min_age);
    if (c->has_max && age > c->max_age)
        return nx_fail(e, NX_EINVAL, "resident_id", "年龄不符合：本课程要求 %lld 岁及以下", (long long)c->max_age);
    if (c->residents_only && community != c->community_id)
        return nx_fail(e, NX_EINVAL, "resident_id", "本课程只面向本社区居民");
    return 0;
}

/* Take a seat of course (0 or NX_ECONFLICT-free: *got says whether one was free). */
static int take_seat(store_tx *tx, int64_t course, bool *got, nx_err *e)
{
    store_param p[] = {P_INT(course)};
    int64_t n = 0;
    int rc = store_exec(tx, "UPDATE courses SET enrolled = enrolled + 1 WHERE id = $1 AND enrolled < capacity", p, 1, &n, e);
    *got = n == 1;
    return rc;
}

static int next_wait_pos(store_tx *tx, int64_t course, int64_t *pos, nx_err *e)
{
    store_param p[] = {P_INT(course)};
    return store_one_int(tx, "SELECT COALESCE(MAX(wait_pos), 0) + 1 FROM course_enrolments WHERE course_id = $1", p, 1, pos, e);
}

int courses_enrol(nx_app *app, const nx_principal *who, int64_t course, json_t *in, json_t **out, nx_err *e)
{
    static const char *const keys[] = {"resident_id", NULL};
    int64_t asked = 0;
    int rc = json_only(in, keys, e);
    if (rc || (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &asked, e)) < 0)
        return rc;
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权报名");
    store_tx *tx;
    course_row c;
    if ((rc = courses_open(app, STORE_WRITE, who, course, &tx, &c, e)))
        return rc;
    int64_t resident = 0, now = clock_now_ms(), existing = 0, wait_pos = 0, id = 0;
    bool manager = courses_manages(who, tx, c.community_id);
    if ((rc = acting_resident(tx, who, manager, asked, &resident, e)))
        goto fail;
    if (strcmp(c.status, "approved") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", "课程未开放报名");
        goto fail;
    }
    if ((rc = check_eligible(tx, &c, resident, e)))
        goto fail;
    store_param k[] = {P_INT(course), P_INT(resident)};
    store_rows *r;
    if ((rc = store_query(tx, "SELECT id, status FROM course_enrolments WHERE course_id = $1 AND resident_id = $2", k, 2, &r, e)))
        goto fail;
    bool again = false;
    if (store_row(r)) {
        existing = store_int(r, 0);
        again = strcmp(store_text(r, 1), "withdrawn") == 0;
    }
    if ((rc = store_rows_end(r, e)))
        goto fail;
    if (existing && !again) {
        rc = nx_fail(e, NX_ECONFLICT, "resident_id", "已报名该课程");
        goto fail;
    }
    const char *status;
    if (strcmp(c.mode, "lottery") == 0 && !c.lottery_at) {
        if (now > c.prereg_until) {
            rc = nx_fail(e, NX_ECONFLICT, "", "预报名已截止，等待摇号");
            goto fail;
        }
        status = "applied";
    } else {
        bool seat = false;
        if ((rc = take_seat(tx, course, &seat, e)))
            goto fail;
        status = seat ? "enrolled" : "waiting";
        if (!seat && (rc = next_wait_pos(tx, course, &wait_pos, e)))
            goto fail;
    }
    bool seated = strcmp(status, "enrolled") == 0;
    if (existing) {
        store_param p[] = {P_TEXT(status), P_INT(seated ? 1 : 0), wait_pos ? P_INT(wait_pos) : P_NULL, P_ID(who->user_id),
                           P_INT(now), P_INT(existing)};
        rc = store_exec(tx,
                        "UPDATE course_enrolments SET status = $1, seated = CASE WHEN $2 = 1 THEN 1 ELSE seated END, "
                        "wait_pos = $3, enrolled_by = $4, updated_at = $5 WHERE id = $6",
                        p, 6, NULL, e);
        id = existing;
    } else {
        store_param p[] = {P_INT(course), P_INT(c.community_id), P_INT(resident), P_ID(who->user_id), P_TEXT(status),
                           P_INT(seated ? 1 : 0), wait_pos ? P_INT(wait_pos) : P_NULL, P_INT(now), P_INT(now)};
        rc = app_insert(tx, "course_enrolments",
                        "course_id, community_id, resident_id, enrolled_by, status, seated, wait_pos, "
                        "created_at, updated_at",
                        p, 9, &id, e);
        rc = store_conflict_field(rc, "resident_id", e, "已报名该课程");
    }
    if (rc)
        goto fail;
    if ((rc = store_commit(tx, e)))
        return rc;
    *out = enrolment_json(id, course, resident, status, wait_pos);
    return 0;
fail:
    store_rollback(tx);
    return rc;
}

/* The first waiter takes a freed seat (and hears of it). */
static int promote(store_tx *tx, int64_t course, int64_t community, nx_err *e)
{
    store_param p[] = {P_INT(course)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, resident_id FROM course_enrolments WHERE course_id = $1 AND status = 'waiting' "
                         "ORDER BY wait_pos, id LIMIT 1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    int64_t id = 0, resident = 0;
    if (store_row(r)) {
        id = store_int(r, 0);
        resident = store_int(r, 1);
    }
    if ((rc = store_rows_end(r, e)) || !id)
        return rc;
    bool seat = false;
    if ((rc = take_seat(tx, course, &seat, e)) || !seat)
        return rc;
    store_param u[] = {P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE course_enrolments SET status = 'enrolled', seated = 1, wait_pos = NULL, updated_at = $1 "
                         "WHERE id = $2",
                         u, 2, NULL, e)))
        return rc;
    return outbox_emit_new(tx, COURSES_EV_PROMOTED, community, "course_enrolment", id,
                           json_pack("{s:I, s:I, s:I}", "course_id", (json_int_t)course, "enrolment_id", (json_int_t)id,
                                     "resident_id", (json_int_t)resident),
                           e);
}

int courses_withdraw(nx_app *app, const nx_principal *who, int64_t enrolment, nx_err *e)
{
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权退课");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(enrolment)};
    store_rows *r;
    if ((rc = store_query_first(
             tx, "SELECT course_id, community_id, resident_id, status FROM course_enrolments WHERE id = $1",
             p, 1, "报名记录不存在", &r, e))) {
        store_rows_free(r);
        goto done;
    }
    int64_t course = store_int(r, 0), community = store_int(r, 1), resident = store_int(r, 2);
    char status[16];
    snprintf(status, sizeof status, "%s", store_text(r, 3));
    store_rows_free(r);
    if (!courses_manages(who, tx, community) && !(who->resident_id && who->resident_id == resident &&
                                                   perm_has(who, RIGHT_SELF))) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "报名记录不存在");
        goto done;
    }
    if (strcmp(status, "withdrawn") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", "已经退课");
        goto done;
    }
    store_param u[] = {P_INT(clock_now_ms()), P_INT(enrolment)};
    if ((rc = store_exec(tx, "UPDATE course_enrolments SET status = 'withdrawn', wait_pos = NULL, updated_at = $1 WHERE id = $2",
                         u, 2, NULL, e)))
        goto done;
    if (strcmp(status, "enrolled") == 0) {
        store_param c[] = {P_INT(course)};
        if ((rc = store_exec(tx, "UPDATE courses SET enrolled = enrolled - 1 WHERE id = $1 AND enrolled > 0", c, 1, NULL, e)) ||
            (rc = promote(tx, course, community, e)))
            goto done;
    }
done:
    return store_finish(tx, rc, e);
}

int courses_enrolments(nx_app *app, const nx_principal *who, int64_t course, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看报名");
    store_tx *tx;
    course_row c;
    int rc = courses_open(app, STORE_READ, who, course, &tx, &c, e);
    if (rc)
        return rc;
    json_t *items = json_array();
    bool manager = courses_manages(who, tx, c.community_id);
    sqlq q;
    sqlq_init(&q, "SELECT ce.id, ce.resident_id, r.name, ce.status, ce.wait_pos, ce.draw_rank, ce.newcomer, ce.created_at "
                  "FROM course_enrolments ce JOIN residents r ON r.id = ce.resident_id WHERE 1 = 1");
    sqlq_add(&q, " AND ce.course_id = $%d", P_INT(course));
    if (!manager)
        sqlq_add(&q, " AND ce.resident_id = $%d", P_INT(who->resident_id));
    sqlq_sql(&q, " ORDER BY CASE ce.status WHEN 'enrolled' THEN 0 WHEN 'applied' THEN 1 WHEN 'waiting' THEN 2 ELSE 3 END, "
                 "ce.wait_pos, ce.draw_rank, ce.id LIMIT 5001");
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    while (store_row(r))
        json_array_append_new(items, store_json_row(r, "id:i resident_id:i name:t status:t wait_pos:i draw_rank:i newcomer:b "
                                                       "created_at:d"));
    rc = store_rows_end(r, e);
done:
    return store_read_finish(tx, rc, rc ? items : json_pack("{s:o}", "items", items), out);
}

/* ---- the lottery ---- */

typedef struct applicant {
    int64_t id, resident;
    bool newcomer, taken;
    char key[65];
} applicant;

static int by_key(const void *a, const void *b)
{
    const applicant *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->resident > y->resident) - (x->resident < y->resident);
}

static bool seed_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (; *s; s++)
        if (*s < '!' || *s > '~')
            return false;
    return true;
}

int courses_lottery(nx_app *app, const nx_principal *who, int64_t course, const char *seed, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_COURSE_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权摇号");
    char seedbuf[65];
    if (seed) {
        if (!seed_ok(seed))
            return nx_fail(e, NX_EINVAL, "seed", "种子应为 1–64 个可见 ASCII 字符（不含空格）");
        str_copy(seedbuf, seed, sizeof seedbuf);
    } else {
        unsigned char b[8];
        randombytes_buf(b, sizeof b);
        str_hex(seedbuf, b, sizeof b);
    }
    store_tx *tx;
    course_row c;
    int rc = courses_open(app, STORE_WRITE, who, course, &tx, &c, e);
    if (rc)
        return rc;
    applicant *a = NULL;
    json_t *order = NULL;
    if (!courses_manages(who, tx, c.community_id)) {
        rc = nx_fail(e, NX_EPERM, "", "无权为该课程摇号");
        goto fail;
    }
    if (strcmp(c.mode, "lottery") != 0 || c.lottery_at || strcmp(c.status, "approved") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", c.lottery_at ? "已经摇过号" : "该课程不是预报名摇号课程");
        goto fail;
    }
    store_param p[] = {P_INT(course)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT ce.id, ce.resident_id, (SELECT COUNT(*) FROM course_enrolments o WHERE o.resident_id = "
                          "ce.resident_id AND o.seated = 1 AND o.course_id <> ce.course_id) FROM course_enrolments ce "
                          "WHERE ce.course_id = $1 AND ce.status = 'applied' ORDER BY ce.id",
                          p, 1, &r, e)))
        goto fail;
    size_t n = 0;
    a = calloc(LOTTERY_MAX, sizeof *a);
    while (a && store_row(r)) {
        if (n == LOTTERY_MAX) {
            store_rows_free(r);
            rc = nx_fail(e, NX_ETOOBIG, "", "预报名超过 %d 人", LOTTERY_MAX);
            goto fail;
        }
        a[n].id = store_int(r, 0);
        a[n].resident = store_int(r, 1);
        a[n].newcomer = store_int(r, 2) == 0;
        courses_lottery_key(seedbuf, a[n].resident, a[n].key);
        n++;
    }
    if ((rc = store_rows_end(r, e)))
        goto fail;
    if (!a) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    qsort(a, n, sizeof *a, by_key);
    int64_t seats = c.capacity - c.enrolled, quota = c.newcomer_quota < seats ? c.newcomer_quota : seats, taken = 0;
    if (seats < 0)
        seats = 0;
    for (size_t i = 0; i < n && taken < quota; i++)
        if (a[i].newcomer) {
            a[i].taken = true;
            taken++;
        }
    for (size_t i = 0; i < n && taken < seats; i++)
        if (!a[i].taken) {
            a[i].taken = true;
            taken++;
        }
    int64_t now = clock_now_ms(), wait = 0;
    order = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *st = a[i].taken ? "enrolled" : "waiting";
        int64_t pos = a[i].taken ? 0 : ++wait;
        store_param u[] = {P_TEXT(st), P_INT(a[i].taken ? 1 : 0), P_INT(a[i].newcomer ? 1 : 0), P_INT((int64_t)i + 1),
                           pos ? P_INT(pos) : P_NULL, P_INT(now), P_INT(a[i].id)};
        if ((rc = store_exec(tx,
                             "UPDATE course_enrolments SET status = $1, seated = $2, newcomer = $3, draw_rank = $4, "
                             "wait_pos = $5, updated_at = $6 WHERE id = $7",
                             u, 7, NULL, e)))
            goto fail;
        json_array_append_new(order, json_pack("{s:I, s:I, s:s, s:I, s:b, s:s}", "enrolment_id", (json_int_t)a[i].id,
                                               "resident_id", (json_int_t)a[i].resident, "key", a[i].key, "rank",
                                               (json_int_t)(i + 1), "newcomer", a[i].newcomer, "status", st));
    }
    store_param cu[] = {P_TEXT(seedbuf), P_INT(now), P_INT(taken), P_INT(now), P_INT(course)};
    if ((rc = store_exec(tx,
                         "UPDATE courses SET lottery_seed = $1, lottery_at = $2, enrolled = enrolled + $3, updated_at = $4 "
                         "WHERE id = $5",
                         cu, 5, NULL, e)) ||
        (rc = outbox_emit_new(tx, COURSES_EV_DRAWN, c.community_id, "course", course,
                              json_pack("{s:I, s:s, s:I, s:I}", "course_id", (json_int_t)course, "seed", seedbuf,
                                        "enrolled", (json_int_t)taken, "waiting", (json_int_t)wait),
                              e)))
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rc = outbox_emit_new(tx, COURSES_EV_RESULT, c.community_id, "course_enrolment", a[i].id,
                                  json_pack("{s:I, s:I, s:I, s:s}", "course_id", (json_int_t)course, "enrolment_id",
                                            (json_int_t)a[i].id, "resident_id", (json_int_t)a[i].resident, "status",
                                            a[i].taken ? "enrolled" : "waiting"),
                                  e)))
            goto fail;
    free(a);
    a = NULL;
    if ((rc = store_commit(tx, e))) {
        json_decref(order);
        return rc;
    }
    *out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "seed", seedbuf, "algorithm",
                     "key = hex(SHA-256(\"<seed>:<resident_id>\")); ascending key; newcomers first up to the quota, "
                     "then everyone in key order up to the seats; the rest wait in key order",
                     "seats", (json_int_t)seats, "newcomer_quota", (json_int_t)quota, "applicants", (json_int_t)n, "order",
                     order);
    return 0;
fail:
    free(a);
    json_decref(order);
    store_rollback(tx);
    return rc;
}

/* ---- sessions: attendance, leave ---- */

/* The course of a session, visible to who. */
static int session_open(nx_app *app, int mode, const nx_principal *who, int64_t session, store_tx **tx, course_row *c,
                        int64_t *starts, nx_err *e)
{
    int rc = store_begin(app->db, mode, tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(session)};
    store_rows *r;
    rc = store_query_first(*tx, "SELECT course_id, starts_at FROM course_sessions WHERE id = $1", p, 1, "课次不存在", &r, e);
    int64_t course = 0;
    if (rc == 0) {
        course = store_int(r, 0);
        *starts = store_int(r, 1);
    }
    store_rows_free(r);
    if (rc || (rc = courses_load(*tx, who, course, c, e)))
        store_rollback(*tx);
    return rc;
}

/* Teachers' hours as volunteer hours: when staff who keep the volunteers' ledger record the
 * attendance of a session that has begun, and the course's teacher is a resident with a volunteer
 * record, the session's length goes into the ledger once, as a pending manual entry whose reason
 * names the session ("授课：<course> <date> <start>（课次 #id）"), for the usual approval. The
 * reason is the once-only key (a second recording of the same session adds nothing). Best effort
 * after the attendance has committed: a failure is logged, never the attendance's answer. */
static void teacher_hours(nx_app *app, const nx_principal *who, int64_t session, int64_t now)
{
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !perm_has(who, RIGHT_VOLUNTEER_DUTY))
        return;
    nx_err e;
    nx_err_clear(&e);
    store_tx *tx;
    if (store_begin(app->db, STORE_READ, &tx, &e))
        return;
    store_param p[] = {P_INT(session)};
    store_rows *r;
    int64_t vid = 0, minutes = 0, have = 0;
    char reason[200] = "", day[11] = "";
    int rc = store_query(tx,
                         "SELECT c.title, s.starts_at, s.ends_at, (SELECT v.id FROM volunteers v WHERE v.resident_id = "
                         "c.teacher_resident_id AND v.status = 'active' ORDER BY v.id LIMIT 1) FROM course_sessions s "
                         "JOIN courses c ON c.id = s.course_id WHERE s.id = $1 AND c.teacher_resident_id IS NOT NULL",
                         p, 1, &r, &e);
    if (rc == 0 && store_row(r) && store_int(r, 1) <= now && !store_isnull(r, 3)) {
        char hm[6];
        vid = store_int(r, 3);
        minutes = (store_int(r, 2) - store_int(r, 1)) / 60000;
        venues_local_parts(store_int(r, 1), day, hm);
        snprintf(reason, sizeof reason, "授课：%s %s %s（课次 #%lld）", store_text(r, 0), day, hm, (long long)session);
    }
    if (rc == 0)
        rc = store_rows_end(r, &e);
    if (rc == 0 && vid) {
        store_param q[] = {P_INT(vid), P_TEXT(reason)};
        rc = store_one_int(tx, "SELECT COUNT(*) FROM volunteer_hours WHERE volunteer_id = $1 AND reason = $2", q, 2, &have, &e);
    }
    store_rollback(tx);
    if (rc || !vid || have || minutes <= 0)
        return;
    json_t *in = json_pack("{s:I, s:f, s:s, s:s}", "volunteer_id", (json_int_t)vid, "hours",
                           (double)(minutes > 24 * 60 ? 24 * 60 : minutes) / 60.0, "served_on", day, "reason", reason);
    int64_t id = 0;
    if (volunteers_hours_add(app, who, in, &id, &e))
        nx_log(LOG_WARN, "courses.teacher_hours_failed session=%lld code=%s", (long long)session, nx_code_name(e.code));
    json_decref(in);
}

int courses_attendance_set(nx_app *app, const nx_principal *who, int64_t session, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"items", NULL};
    static const char *const item_keys[] = {"enrolment_id", "status", "note", NULL};
    if (!perm_has(who, RIGHT_COURSE_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权记录考勤");
    int rc = json_only(in, keys, e);
    if (rc)
        return rc;
    json_t *items = json_object_get(in, "items");
    if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > 1000)
        return nx_fail(e, NX_EINVAL, "items", "考勤应为 1–1000 项的数组");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        int64_t eid = 0;
        const char *st = NULL, *note = NULL;
        if (json_only(it, item_keys, e) || json_get_int(it, "enrolment_id", true, 1, INT64_MAX, &eid, e) < 0 ||
            json_read_str(it, "status", true, 10, &st, e) || json_read_str(it, "note", false, 100, &note, e) ||
            (strcmp(st, "present") && strcmp(st, "absent") && strcmp(st, "leave")))
            return nx_fail(e, NX_EINVAL, "items", "第 %zu 项无效：enrolment_id 和 status（present、absent、leave）", i + 1);
    }
    store_tx *tx;
    course_row c;
    int64_t starts = 0, now = clock_now_ms();
    if ((rc = session_open(app, STORE_WRITE, who, session, &tx, &c, &starts, e)))
        return rc;
    if (!courses_manages(who, tx, c.community_id)) {
        rc = nx_fail(e, NX_EPERM, "", "无权记录该课程的考勤");
        goto fail;
    }
    json_array_foreach(items, i, it)
    {
        int64_t eid = json_integer_value(json_object_get(it, "enrolment_id")), ok = 0;
        const char *note = json_string_value(json_object_get(it, "note"));
        store_param k[] = {P_INT(eid), P_INT(c.id)};
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM course_enrolments WHERE id = $1 AND course_id = $2 AND status = 'enrolled'",
                                k, 2, &ok, e)))
            goto fail;
        if (!ok) {
            rc = nx_fail(e, NX_EINVAL, "items", "第 %zu 项不是本课程的在读学员", i + 1);
            goto fail;
        }
        store_param p[] = {P_INT(session), P_INT(eid), P_TEXT(json_string_value(json_object_get(it, "status"))),
                           P_TEXT(note ? note : ""), P_INT(now)};
        if ((rc = store_exec(tx,
                             "INSERT INTO course_attendance (session_id, enrolment_id, status, note, updated_at) VALUES "
                             "($1, $2, $3, $4, $5) ON CONFLICT (session_id, enrolment_id) DO UPDATE SET status = "
                             "excluded.status, note = excluded.note, updated_at = excluded.updated_at",
                             p, 5, NULL, e)))
            goto fail;
    }
    if ((rc = store_commit(tx, e)))
        return rc;
    teacher_hours(app, who, session, now);
    return 0;
fail:
    store_rollback(tx);
    return rc;
}

int courses_attendance_get(nx_app *app, const nx_principal *who, int64_t session, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看考勤");
    store_tx *tx;
    course_row c;
    int64_t starts = 0;
    int rc = session_open(app, STORE_READ, who, session, &tx, &c, &starts, e);
    if (rc)
        return rc;
    json_t *items = json_array();
    bool manager = courses_manages(who, tx, c.community_id);
    sqlq q;
    sqlq_init(&q, "SELECT ce.id, ce.resident_id, r.name, a.status, a.note FROM course_enrolments ce JOIN residents r ON "
                  "r.id = ce.resident_id LEFT JOIN course_attendance a ON a.enrolment_id = ce.id AND a.session_id = ");
    sqlq_sql(&q, "$%d WHERE ce.status = 'enrolled'", sqlq_param(&q, P_INT(session)));
    sqlq_add(&q, " AND ce.course_id = $%d", P_INT(c.id));
    if (!manager)
        sqlq_add(&q, " AND ce.resident_id = $%d", P_INT(who->resident_id));
    sqlq_sql(&q, " ORDER BY ce.id LIMIT 5000");
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    while (store_row(r))
        json_array_append_new(items, store_json_row(r, "enrolment_id:i resident_id:i name:t status:t note:t"));
    rc = store_rows_end(r, e);
done:
    return store_read_finish(tx, rc,
                             rc ? items
                                : json_pack("{s:I, s:I, s:o}", "session_id", (json_int_t)session, "course_id",
                                            (json_int_t)c.id, "items", items),
                             out);
}

int courses_leave(nx_app *app, const nx_principal *who, int64_t session, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"resident_id", "note", NULL};
    int64_t asked = 0;
    const char *note = NULL;
    int rc = in ? json_only(in, keys, e) : 0;
    if (rc || (in && ((rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &asked, e)) < 0 ||
                      (rc = json_read_str(in, "note", false, 100, &note, e)))))
        return rc;
    if (!perm_has(who, RIGHT_COURSE_MANAGE) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权请假");
    store_tx *tx;
    course_row c;
    int64_t starts = 0, resident = 0, eid = 0, now = clock_now_ms();
    if ((rc = session_open(app, STORE_WRITE, who, session, &tx, &c, &starts, e)))
        return rc;
    if ((rc = acting_resident(tx, who, courses_manages(who, tx, c.community_id), asked ? asked : who->resident_id,
                              &resident, e)))
        goto done;
    if (starts <= now) {
        rc = nx_fail(e, NX_ECONFLICT, "", "课程已开始，不能请假");
        goto done;
    }
    store_param k[] = {P_INT(c.id), P_INT(resident)};
    rc = store_one_int(tx, "SELECT id FROM course_enrolments WHERE course_id = $1 AND resident_id = $2 AND status = 'enrolled'",
                       k, 2, &eid, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_ECONFLICT, "", "没有在读的报名，无需请假");
    if (rc)
        goto done;
    store_param p[] = {P_INT(session), P_INT(eid), P_TEXT(note ? note : ""), P_INT(now)};
    rc = store_exec(tx,
                    "INSERT INTO course_attendance (session_id, enrolment_id, status, note, updated_at) VALUES ($1, "
                    "$2, 'leave', $3, $4) ON CONFLICT (session_id, enrolment_id) DO UPDATE SET status = 'leave', "
                    "note = excluded.note, updated_at = excluded.updated_at",
                    p, 4, NULL, e);
done:
    return store_finish(tx, rc, e);
}

int courses_feedback(nx_app *app, const nx_principal *who, int64_t course, json_t *in, nx_err *e)
{
    static const char *const keys[] = {"rating", "comment", NULL};
    int64_t rating = 0;
    const char *comment = NULL;
    if (!perm_has(who, RIGHT_SELF) || !who->resident_id)
        return nx_fail(e, NX_EPERM, "", "只有学员可以评价");
    int rc = json_only(in, keys, e);
    if (rc || (rc = json_get_int(in, "rating", true, 1, 5, &rating, e)) < 0 ||
        (rc = json_read_str(in, "comment", false, 500, &comment, e)))
        return rc;
    store_tx *tx;
    course_row c;
    if ((rc = courses_open(app, STORE_WRITE, who, course, &tx, &c, e)))
        return rc;
    int64_t seated = 0;
    store_param k[] = {P_INT(course), P_INT(who->resident_id)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM course_enrolments WHERE course_id = $1 AND resident_id = $2 AND seated = 1",
                            k, 2, &seated, e)))
        goto done;
    if (!seated) {
        rc = nx_fail(e, NX_ECONFLICT, "", "参加过课程才能评价");
        goto done;
    }
    store_param p[] = {P_INT(course), P_INT(who->resident_id), P_INT(rating), P_TEXT(comment ? comment : ""),
                       P_INT(clock_now_ms())};
    rc = app_insert(tx, "course_feedback",
                    "course_id, resident_id, rating, comment, created_at",
                    p, 5, NULL, e);
    rc = store_conflict_field(rc, "", e, "已经评价过");
done:
    return store_finish(tx, rc, e);
}
