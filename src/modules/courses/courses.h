/* courses.h — courses taught by residents and partners (人人授课，人人学习).
 *
 * Anyone of a community proposes a course (a resident through RIGHT_SELF; staff with
 * RIGHT_COURSE_MANAGE create courses already approved); staff approve or reject proposals. A course
 * has a teacher (a name, and the resident when the teacher is one: teachers are data, not a role),
 * an audience, sessions, a room, a capacity and eligibility (an age range, residents of the
 * community only). Enrolment is first come first served — the seat is taken by a conditional UPDATE
 * of the course's counter, so two concurrent enrolments cannot both take the last seat — and people
 * beyond the capacity wait in order and move up when someone withdraws. Popular courses take
 * pre-registrations instead, closed by a lottery that anyone can re-run from the published seed
 * (courses_lottery, algorithm in docs/courses.md) with a quota of seats for newcomers. Residents and
 * family enrol the resident their account is bound to (family: their elder). Per session, staff
 * record attendance and residents ask for leave; residents who took part leave feedback.
 *
 * Threads: none of its own; every function runs its own transaction and blocks on the store. */
#ifndef NX_MODULES_COURSES_H
#define NX_MODULES_COURSES_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Event kinds (notify/outbox.h). Payloads carry ids only:
 *   courses.course.proposed     {"course_id", "proposed_by"}
 *   courses.course.decided      {"course_id", "status": approved|rejected}
 *   courses.enrolment.promoted  {"course_id", "enrolment_id", "resident_id"}   a waiter got a seat
 *   courses.lottery.drawn       {"course_id", "seed", "enrolled", "waiting"}
 *   courses.lottery.result      {"course_id", "enrolment_id", "resident_id", "status": enrolled|waiting} */
#define COURSES_EV_PROPOSED "courses.course.proposed"
#define COURSES_EV_DECIDED "courses.course.decided"
#define COURSES_EV_PROMOTED "courses.enrolment.promoted"
#define COURSES_EV_DRAWN "courses.lottery.drawn"
#define COURSES_EV_RESULT "courses.lottery.result"

typedef struct courses_filter {
    const char *q, *status, *audience;
    int64_t community_id;
    bool mine;       /* courses the caller's resident is enrolled in, waits for or applied to */
    int64_t after;
    int limit;
} courses_filter;

/* One page of courses who may see: staff in scope see every status; others see approved courses of
 * their community and their own proposals. NX_EPERM without RIGHT_COURSE_MANAGE or RIGHT_SELF. */
int courses_list(nx_app *app, const nx_principal *who, const courses_filter *f, json_t **out, nx_err *e);
/* One course with its sessions, seat counts, teacher hours and the caller's own enrolment. */
int courses_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Propose or create from JSON {community_id, title, description, teacher_name,
 * teacher_resident_id, audience, venue_id, capacity ≥ 1, min_age, max_age, residents_only, mode
 * fcfs|lottery, prereg_until "YYYY-MM-DD", newcomer_quota ≤ capacity, sessions [{date, start, end,
 * topic}]}. Staff: approved at once; residents: proposed. NX_EINVAL naming the field. */
int courses_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* action "approve" | "reject" | "cancel" with {note}; staff only. */
int courses_decide(nx_app *app, const nx_principal *who, int64_t id, const char *action, json_t *in, nx_err *e);

/* Enrol {resident_id} (staff: anyone in scope; residents and family: their bound resident). *out:
 * the enrolment {id, course_id, resident_id, status: enrolled|waiting|applied, wait_pos}. Eligibility
 * failures are NX_EINVAL naming resident_id; a second enrolment NX_ECONFLICT. */
int courses_enrol(nx_app *app, const nx_principal *who, int64_t course, json_t *in, json_t **out, nx_err *e);
/* The course's enrolments (staff: all; others: their own), in order: enrolled, waiting by place. */
int courses_enrolments(nx_app *app, const nx_principal *who, int64_t course, json_t **out, nx_err *e);
/* Withdraw an enrolment (its resident's side or staff); a freed seat goes to the first waiter. */
int courses_withdraw(nx_app *app, const nx_principal *who, int64_t enrolment, nx_err *e);
/* Draw the pre-registrations of a lottery course with seed (NULL: 16 random hex digits), which is
 * stored and published. Each applicant's key is the hex SHA-256 of "<seed>:<resident_id>"; applicants
 * in ascending key order; first the newcomers (never seated in any course) up to the newcomer quota,
 * then everyone left in key order up to the free seats; the rest wait in key order. *out: {seed,
 * algorithm, seats, newcomer_quota, order: [{enrolment_id, resident_id, key, rank, newcomer,
 * status}]}. NX_ECONFLICT when drawn already or not a lottery course. */
int courses_lottery(nx_app *app, const nx_principal *who, int64_t course, const char *seed, json_t **out, nx_err *e);
/* The lottery's key of one applicant: 64 hex digits into out[65]. */
void courses_lottery_key(const char *seed, int64_t resident_id, char out[65]);

/* Attendance of a session: staff record {items: [{enrolment_id, status: present|absent|leave}]};
 * GET lists every enrolled person's status for the session. Recording the attendance of a session
 * that has begun, by staff who also keep the volunteers' ledger, puts the session's length once
 * into the ledger of the teacher's volunteer record (a resident teacher who is a volunteer), pending
 * approval: teachers' hours count as volunteer hours. */
int courses_attendance_set(nx_app *app, const nx_principal *who, int64_t session, json_t *in, nx_err *e);
int courses_attendance_get(nx_app *app, const nx_principal *who, int64_t session, json_t **out, nx_err *e);
/* Ask for leave from a session that has not started {resident_id?}. */
int courses_leave(nx_app *app, const nx_principal *who, int64_t session, json_t *in, nx_err *e);
/* Feedback {rating 1..5, comment} from someone enrolled; once per course (NX_ECONFLICT). */
int courses_feedback(nx_app *app, const nx_principal *who, int64_t course, json_t *in, nx_err *e);

int courses_routes(http_server *srv, nx_app *app); /* courses_http.c */

#endif
