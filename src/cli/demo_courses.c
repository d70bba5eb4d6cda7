/* demo_courses.c — demo data of courses (人人授课) and activity rooms.
 *
 * Everything is made through the modules' own rules as an administrator, so the demo obeys what the
 * API obeys: opening hours, closed days, the conflict check (a clash in a weekly series is skipped,
 * as it would be for staff), capacities, eligibility and the lottery. Bookings start tomorrow, since
 * the rules refuse the past; the choice of days and hours comes from a small generator seeded by the
 * demo's seed, so a seed and a date give one demo. A clash met while filling is not an error: the
 * generator simply moves on. The courses with a room book it for their sessions (on days the room is
 * open), before the residents' scattered bookings, which then skip the courses' hours. Fast: a few dozen transactions. */
#include "cli/demo_courses.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "modules/courses/courses.h"
#include "modules/venues/venues.h"

typedef struct dc {
    nx_app *app;
    nx_principal admin;
    unsigned rnd;
    int bookings, enrolments;
} dc;

static unsigned next(dc *d)
{
    d->rnd = d->rnd * 1103515245u + 12345u;
    return (d->rnd >> 8) & 0xffffu;
}

static void day_str(int offset, char out[11])
{
    date_format(date_from_days(date_to_days(date_today()) + offset), out);
}

static int venue(dc *d, int64_t community, const char *name, int cap, const char *from, const char *to, int closed,
                 bool approval, int64_t *id, nx_err *e)
{
    json_t *in = json_pack("{s:I, s:s, s:i, s:s, s:s, s:[i], s:b, s:i, s:s, s:s}", "community_id", (json_int_t)community,
                           "name", name, "capacity", cap, "open_from", from, "open_to", to, "closed_weekdays", closed,
                           "needs_approval", approval, "max_ahead_days", 30, "equipment", "桌椅、空调、饮水机", "rules",
                           "请爱护公物，用后恢复桌椅");
    int rc = venues_create(d->app, &d->admin, in, id, e);
    json_decref(in);
    return rc;
}

/* Book; a clash or a closed day is skipped (0), other errors returned. */
static int book(dc *d, int64_t v, int offset, const char *start, const char *end, const char *title, int64_t resident,
                int repeat, nx_err *e)
{
    char day[11];
    day_str(offset, day);
    json_t *in = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i}", "venue_id", (json_int_t)v, "date", day, "start", start, "end",
                           end, "title", title, "attendees", 6);
    if (resident)
        json_object_set_new(in, "resident_id", json_integer(resident));
    if (repeat)
        json_object_set_new(in, "repeat_weeks", json_integer(repeat));
    json_t *out = NULL;
    int rc = venues_booking_create(d->app, &d->admin, in, &out, e);
    json_decref(in);
    if (rc == 0) {
        json_t *series = json_object_get(out, "series");
        d->bookings += series ? (int)json_array_size(json_object_get(series, "created")) : 1;
    }
    json_decref(out);
    return rc == NX_ECONFLICT || rc == NX_EINVAL ? 0 : rc;
}

static int course(dc *d, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    int rc = courses_create(d->app, who, in, id, e);
    json_decref(in);
    return rc;
}

/* The first day offset ≥ first that does not fall on ISO weekday closed (0: any): a course's room is
 * booked for its sessions, and a closed day would refuse the course. */
static int open_day(int first, int closed)
{
    for (;; first++) {
        int64_t days = date_to_days(date_today()) + first;
        if (closed == 0 || (int)(((days % 7) + 7 + 3) % 7) + 1 != closed) /* 1970-01-01 was a Thursday */
            return first;
    }
}

static json_t *sessions(int first, int count, const char *start, const char *end, const char *topic)
{
    json_t *a = json_array();
    for (int i = 0; i < count; i++) {
        char day[11];
        day_str(first + 7 * i, day);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "date", day, "start", start, "end", end, "topic", topic));
    }
    return a;
}

static int enrol(dc *d, int64_t course_id, int64_t resident, nx_err *e)
{
    json_t *in = json_pack("{s:I}", "resident_id", (json_int_t)resident), *out = NULL;
    int rc = courses_enrol(d->app, &d->admin, course_id, in, &out, e);
    json_decref(in);
    json_decref(out);
    if (rc == 0)
        d->enrolments++;
    return rc == NX_EINVAL || rc == NX_ECONFLICT ? 0 : rc;
}

/* Up to cap active residents of the community born in [from, to). */
static int people(nx_app *app, int64_t community, const char *from, const char *to, int64_t *ids, int cap, int *n, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(community), P_TEXT(from), P_TEXT(to), P_INT(cap)};
    store_rows *r;
    *n = 0;
    if ((rc = store_query(tx,
                          "SELECT id FROM residents WHERE community_id = $1 AND status = 'active' AND birth_date >= $2 "
                          "AND birth_date < $3 ORDER BY id LIMIT $4",
                          p, 4, &r, e)) == 0) {
        while (*n < cap && store_row(r))
            ids[(*n)++] = store_int(r, 0);
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    return rc;
}

int demo_courses_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary, nx_err *e)
{
    dc d = {.app = app, .admin = {.username = "demo", .role = ROLE_ADMIN, .scope = SCOPE_ALL}, .rnd = seed ^ 0x5eedu};
    int64_t reading = 0, callig = 0, hall = 0;
    int rc;
    if ((rc = venue(&d, community, "阅览室", 20, "08:00", "21:00", 1, false, &reading, e)) ||
        (rc = venue(&d, community, "书法室", 12, "09:00", "17:00", 7, false, &callig, e)) ||
        (rc = venue(&d, community, "邻里大厅", 80, "09:00", "18:00", 1, true, &hall, e)))
        return rc;
    /* a weekly calligraphy class and reading club over four weeks, then scattered bookings */
    if ((rc = book(&d, callig, 1 + (int)(next(&d) % 7), "14:00", "16:00", "书法班", 0, 3, e)) ||
        (rc = book(&d, reading, 1 + (int)(next(&d) % 7), "19:00", "20:30", "读书会", 0, 3, e)) ||
        (rc = book(&d, hall, 2 + (int)(next(&d) % 5), "09:00", "11:00", "合唱团排练", 0, 3, e)))
        return rc;
    int64_t elders[40], kids[20];
    int ne = 0, nk = 0;
    char y60[11], y14[11], y5[11];
    nx_date t = date_today();
    snprintf(y60, sizeof y60, "%04d-01-01", t.y - 61);
    snprintf(y14, sizeof y14, "%04d-01-01", t.y - 13);
    snprintf(y5, sizeof y5, "%04d-01-01", t.y - 5);
    if ((rc = people(app, community, "1900-01-01", y60, elders, 40, &ne, e)) ||
        (rc = people(app, community, y14, y5, kids, 20, &nk, e)))
        return rc;
    /* courses */
    int64_t phone = 0, cal = 0, taiji = 0, kidsc = 0, proposal = 0;
    if ((rc = course(&d, &d.admin,
                     json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:b, s:o}", "community_id", (json_int_t)community,
                               "title", "长辈智能手机课", "teacher_name", "社区志愿者小李", "audience", "elders",
                               "description", "微信视频、扫码支付、防诈骗", "venue_id", (json_int_t)reading, "capacity", 10,
                               "min_age", 60, "residents_only", 1, "sessions", sessions(open_day(3, 1), 4, "09:00", "10:30", "智能手机")),
                     &phone, e)) ||
        (rc = course(&d, &d.admin,
                     json_pack("{s:I, s:s, s:s, s:s, s:I, s:i, s:o}", "community_id", (json_int_t)community, "title",
                               "书法入门", "teacher_name", "退休教师赵老师", "audience", "all", "venue_id", (json_int_t)callig,
                               "capacity", 4, "sessions", sessions(open_day(4, 7), 6, "09:00", "10:30", "楷书")),
                     &cal, e)) ||
        (rc = course(&d, &d.admin,
                     json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:o}", "community_id", (json_int_t)community,
                               "title", "太极拳（摇号）", "teacher_name", "太极协会", "audience", "elders", "capacity", 6,
                               "mode", "lottery", "prereg_until", "2099-12-31", "newcomer_quota", 2, "min_age", 55,
                               "sessions", sessions(5, 8, "08:00", "09:00", "二十四式")),
                     &taiji, e)) ||
        (rc = course(&d, &d.admin,
                     json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:o}", "community_id", (json_int_t)community, "title",
                               "红苗课堂", "teacher_name", "共建单位实验小学", "audience", "youth", "capacity", 15, "max_age",
                               14, "sessions", sessions(6, 4, "15:00", "16:30", "手工")),
                     &kidsc, e)))
        return rc;
    if (self_resident) {
        nx_principal self = {.username = "demo", .role = ROLE_RESIDENT, .scope = SCOPE_SELF, .resident_id = self_resident};
        if ((rc = course(&d, &self,
                         json_pack("{s:s, s:s, s:s, s:i, s:o}", "title", "象棋兴趣班", "teacher_name", "王建国", "audience",
                                   "all", "capacity", 12, "sessions", sessions(10, 4, "15:00", "16:30", "象棋")),
                         &proposal, e)))
            return rc;
        if ((rc = enrol(&d, phone, self_resident, e)))
            return rc;
    }
    /* scattered bookings of residents around the courses (a clash with a course is skipped) */
    static const char *const starts[] = {"08:00", "09:00", "10:00", "14:00", "15:00", "16:00"};
    static const char *const ends[] = {"09:00", "10:30", "11:00", "15:30", "16:00", "17:00"};
    static const char *const titles[] = {"下棋", "看报", "编织小组", "太极练习", "家庭聚会", "学习小组"};
    for (int i = 0; i < 24; i++) {
        int k = (int)(next(&d) % 6);
        int64_t v = (i % 3 == 0) ? callig : reading;
        int64_t who = ne ? elders[next(&d) % (unsigned)ne] : 0;
        if ((rc = book(&d, v, 1 + (int)(next(&d) % 28), starts[k], ends[k], titles[next(&d) % 6], who, 0, e)))
            return rc;
    }
    if (self_resident && (rc = book(&d, reading, 2, "10:00", "11:00", "看书", self_resident, 0, e)))
        return rc;
    for (int i = 0; i < ne && i < 8; i++)
        if ((rc = enrol(&d, phone, elders[i], e)))
            return rc;
    for (int i = 0; i < ne && i < 7; i++) /* four seats: three wait */
        if ((rc = enrol(&d, cal, elders[ne - 1 - i], e)))
            return rc;
    for (int i = 0; i < nk && i < 10; i++)
        if ((rc = enrol(&d, kidsc, kids[i], e)))
            return rc;
    for (int i = 0; i < ne && i < 14; i++)
        if ((rc = enrol(&d, taiji, elders[(i * 7 + 3) % ne], e)))
            return rc;
    char lot_seed[32];
    snprintf(lot_seed, sizeof lot_seed, "demo-%u", seed);
    json_t *draw = NULL;
    rc = courses_lottery(app, &d.admin, taiji, lot_seed, &draw, e);
    json_decref(draw);
    if (rc)
        return rc;
    json_object_set_new(summary, "venues", json_integer(3));
    json_object_set_new(summary, "venue_bookings", json_integer(d.bookings));
    json_object_set_new(summary, "courses", json_integer(proposal ? 5 : 4));
    json_object_set_new(summary, "course_enrolments", json_integer(d.enrolments));
    return 0;
}
