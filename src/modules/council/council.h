/* council.h — the courtyard council (庭院议事会): topics residents raise and support, the
 * consultation method as data (a template of named steps each topic moves through), council members
 * and representatives per estate, meetings with agenda, attendance, quorum and minutes, a decision
 * per topic, polls on a decision (secret or open, council or every adult resident of the estate) and
 * the public follow-up of each decision (milestones, responsible people, photos, residents' ratings,
 * a problem (解难题) opened from a decision).
 *
 * Who: RIGHT_COUNCIL_MANAGE (staff, admin) runs the board, meetings, polls and follow-up within
 * their scope; a resident (role resident, RIGHT_SELF) raises topics, supports them, checks in to a
 * meeting by its QR code, votes and rates, and reads the topics, meetings, minutes, decisions and
 * polls of their own estate (a family account reads the same as its resident but never acts).
 *
 * The estate is the unit that decides: every row carries community_id, grid_id (the estate's grid)
 * and estate_id; staff scope applies in SQL (perm_scope_q), a resident sees their estate only.
 *
 * Secret polls: the register of who voted and the tally of choices are separate tables; the tally
 * is one counter per choice, all of a poll's counters updated by every ballot in the transaction of
 * its register row, and nothing (no voter, id or time) joins the two. Nobody, staff included, can see
 * who voted what; the counts are checked against the register (GET /polls/{id}/result).
 *
 * Rules take a principal and validated JSON; every function blocks on the store and is thread-safe.
 * Errors: NX_EPERM (403), NX_ENOTFOUND (404, also out of scope), NX_EINVAL (422, field named),
 * NX_ECONFLICT (409: twice, closed, wrong state), NX_EDB/NX_EBUSY. */
#ifndef NX_MODULES_COUNCIL_H
#define NX_MODULES_COUNCIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/app.h"

/* Event kinds (notify/outbox.h), emitted in the transaction of the change. Subjects "topic:<id>",
 * "meeting:<id>", "poll:<id>", "decision:<id>". Payloads (ids only, never a choice of a voter):
 *   topic.raised      {topic_id, estate_id, source}
 *   topic.merged      {topic_id, into_id, estate_id}
 *   topic.advanced    {topic_id, estate_id, step, step_name}   (step = steps count: all done)
 *   meeting.scheduled {meeting_id, estate_id, starts_at, place} — the invitation of the estate
 *   meeting.minutes   {meeting_id, estate_id}                  — minutes published
 *   poll.opened       {poll_id, decision_id, estate_id, electorate}
 *   poll.closed       {poll_id, decision_id, estate_id, valid, ballots, eligible}
 *   decision.made     {decision_id, topic_id, meeting_id, estate_id}
 *   decision.progress {decision_id, estate_id, progress_id, done}
 *   decision.done     {decision_id, topic_id, estate_id}
 *   progress.overdue  {decision_id, progress_id, estate_id, due_on, link} — a follow-up milestone (督办节点)
 *                     not done by its due_on ("YYYY-MM-DD"), of a decision not yet done; once per milestone
 *   topic.step_overdue {topic_id, estate_id, step, step_name, due_on, link} — a topic's current
 *                     consultation step past its due_on; once per step
 * link: the console page that handles it (the decision; the council board for a topic), which the
 * message service puts on the duty staff's inbox message.
 * The two overdue events come from the council's ticker (council_tick), the day after the due date. */
#define COUNCIL_EV_TOPIC_RAISED "council.topic.raised"
#define COUNCIL_EV_TOPIC_MERGED "council.topic.merged"
#define COUNCIL_EV_TOPIC_ADVANCED "council.topic.advanced"
#define COUNCIL_EV_MEETING_SCHEDULED "council.meeting.scheduled"
#define COUNCIL_EV_MEETING_MINUTES "council.meeting.minutes"
#define COUNCIL_EV_POLL_OPENED "council.poll.opened"
#define COUNCIL_EV_POLL_CLOSED "council.poll.closed"
#define COUNCIL_EV_DECISION_MADE "council.decision.made"
#define COUNCIL_EV_DECISION_PROGRESS "council.decision.progress"
#define COUNCIL_EV_DECISION_DONE "council.decision.done"
#define COUNCIL_EV_PROGRESS_OVERDUE "council.progress.overdue"
#define COUNCIL_EV_STEP_OVERDUE "council.topic.step_overdue"

/* List filters; 0 / NULL = any. */
typedef struct council_filter {
    int64_t community_id, estate_id, decision_id;
    const char *status; /* topics, meetings, decisions, polls: one of their statuses */
    const char *q;      /* topics: title contains */
    bool overdue;       /* topics: only those whose current step is past its days */
    int64_t after;      /* cursor: rows with id < after (newest first) */
    int limit;
} council_filter;

/* ---- templates (council.c) ---- */
/* {items: [{id, community_id, name, steps: [{name, actor, days}], is_default}]}: the built-in ones
 * and those of the caller's community. COUNCIL_MANAGE or SELF. */
int council_template_list(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
/* {name, steps: [{name (≤20), actor (≤30), days 1..365}] (1..12 steps), is_default?} for the
 * caller's community (staff of community or grid scope; others give community_id). COUNCIL_MANAGE. */
int council_template_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int council_template_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

/* ---- topics (council.c) ---- */
/* A resident: {title, description?} (their estate; source resident). Staff: {estate_id, title,
 * description?, resident_id? (on whose behalf), channel? online|paper|visit|party_studio,
 * scope? estate|grid, template_id?, problem_id?} — with problem_id the topic is promoted from that
 * problem (title and description default to the problem's; source problem; once per problem). The
 * topic starts the first step of its template (the community's default when not given). */
int council_topic_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {id, community_id, estate_id, estate_name, grid_id, scope, title, description, source, channel,
 * resident_id, problem_id, template_id, template_name, step, step_name, step_due, overdue, status,
 * status_label, merged_into, supporters, supported (the caller's own support), decision_id, steps:
 * [{idx, name, actor, days, started_on, due_on, done_on}], meetings: [{id, title, starts_at}]}. */
int council_topic_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* A page, newest first (the same fields but steps and meetings). */
int council_topic_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e);
/* A resident supports a topic of their estate once (NX_ECONFLICT the second time, or when the
 * topic was merged, decided or closed). in: {} */
int council_topic_support(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {into_id}: merge duplicate id into into_id (same estate, both still open or scheduled); its
 * supporters move over (each counted once). COUNCIL_MANAGE. */
int council_topic_merge(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {}: the current step is done today and the next one starts (due after its days). After the last
 * step the topic is done. NX_ECONFLICT for a merged, rejected or finished topic. COUNCIL_MANAGE. */
int council_topic_advance(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* ---- council members (council.c) ---- */
/* {items: [{id, estate_id, estate_name, resident_id, name, role, role_label, active}]} of estate_id
 * (or every estate in scope). COUNCIL_MANAGE, or SELF for the own estate. */
int council_member_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e);
/* {resident_id, role: member|representative}: the resident's estate; once per estate (NX_ECONFLICT
 * while active; a member who was removed comes back on their old row). */
int council_member_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int council_member_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {role?: member|representative, active?: bool} (at least one): change a member's role, or take them
 * off the council (active false; their row and history stay, they no longer count for the quorum or
 * vote in council polls). Adding a removed member again (council_member_create) brings the same row
 * back. COUNCIL_MANAGE, the member in scope (else NX_ENOTFOUND). */
int council_member_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* ---- meetings and decisions (council_meetings.c) ---- */
/* {estate_id, title, place, starts_at "YYYY-MM-DDTHH:MM", agenda?, quorum? (default: a majority of
 * the estate's active council members, at least 1), topic_ids?: [...] (open topics of the estate,
 * which become scheduled)}. Emits the invitation event. COUNCIL_MANAGE. */
int council_meeting_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {id, estate_id, estate_name, title, place, starts_at, agenda, quorum, status, minutes, present,
 * members_present, quorum_met, topics: [{id, title, status, decision_id}], and for staff
 * checkin_code and attendees: [{resident_id, name, via, member}]}. */
int council_meeting_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int council_meeting_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e);
/* Staff: {resident_id} (via staff, a resident of the estate). A resident: {code} — the meeting's QR
 * code (via qr). Idempotent (a second check-in changes nothing). */
int council_meeting_attend(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The meeting's check-in QR code as an SVG document (*svg malloc'd, the caller frees it): it carries
 * the resident-page address "/m/council?meeting=<id>&code=<code>", which a phone's camera opens and
 * the page checks in with. Staff only (the code is what lets a resident check in). */
int council_meeting_qr(nx_app *app, const nx_principal *who, int64_t id, char **svg, nx_err *e);
/* {minutes}: record the minutes; the meeting is held and its minutes published to the estate. */
int council_meeting_minutes(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* {meeting_id, topic_id (on the meeting's agenda), text, responsible?}: one decision per topic
 * (NX_ECONFLICT), only at a meeting whose quorum is met (NX_ECONFLICT). The topic is decided. */
int council_decision_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {id, estate_id, estate_name, meeting_id, meeting_title, topic_id, topic_title, text, responsible,
 * status, problem_id, created_at, done_at, rating_avg, ratings, my_rating, progress: [{id, title,
 * responsible, due_on, done, note, created_at}], photos: [{id, content_type, url}], polls: [{id,
 * question, status}]}. */
int council_decision_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int council_decision_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e);
/* {title, responsible?, due_on?, done?, note?, complete?}: a milestone of the follow-up; complete
 * true finishes the decision (and its topic). NX_ECONFLICT once done. COUNCIL_MANAGE. */
int council_decision_progress(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {rating 1..5, note?}: a resident of the estate rates a finished decision, once. */
int council_decision_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {category, title?, description?}: open a problem (visits module) for the work a decision needs;
 * once per decision. COUNCIL_MANAGE and CARE_WRITE. */
int council_decision_problem(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* A photo of the follow-up (JPEG, PNG or WebP; cleaned and sealed by the upload store). *photo gets
 * its id. COUNCIL_MANAGE. */
int council_decision_photo(nx_app *app, const nx_principal *who, int64_t id, const void *data, size_t len,
                           int64_t *photo, nx_err *e);
/* The bytes of a photo (malloc'd, release with upload_free) of a decision the caller can read. */
int council_photo_read(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *n, char ctype[32],
                       nx_err *e);

/* ---- polls (council_polls.c) ---- */
/* {decision_id, question?, electorate: council|residents, secret: bool, choices?: [2..10 labels]
 * (default 同意/反对/弃权), min_turnout?: 0..100 per cent}. COUNCIL_MANAGE. */
int council_poll_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {id, decision_id, estate_id, question, electorate, secret, choices, min_turnout, status, voted (the
 * caller's own), eligible_me (whether the caller may vote), created_at, closed_at}. */
int council_poll_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int council_poll_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e);
/* One ballot. A resident: {choice} (online). Staff: {resident_id, choice} from a paper ballot. The
 * same register: one per eligible person (NX_ECONFLICT the second time, whichever way). NX_ECONFLICT
 * (field status) on a closed poll; NX_EINVAL (field choice) for a choice the poll does not have;
 * NX_EPERM for a person outside the electorate (another estate, a minor, not on the council). */
int council_poll_vote(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {}: close the poll: the eligible are counted, turnout against min_turnout makes it valid or not. */
int council_poll_close(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {poll_id, status, secret, electorate, eligible, ballots (the register), turnout_pct, min_turnout,
 * result: null (open) | "valid" | "not_valid", result_label, counts: [{choice, label, votes}] (closed
 * only), counts_total, matches_register, and for staff register: [{resident_id, name, via}] and, in an
 * open poll only, choice per voter}. */
int council_poll_result(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

/* {raised, open, decided, done, overdue, polls_open} in scope (community_id narrows). COUNCIL_MANAGE. */
int council_stats(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);

/* ---- the ticker (council_ticker.c) ---- */
/* The council's periodic work at now_ms: every follow-up milestone and every current topic step whose
 * due_on is before now_ms's local date (Shanghai), not done and not announced yet, gets its overdue
 * event (above) and is marked announced, in one write transaction — once per row, whatever the number
 * of ticks or processes. At most 500 rows of each kind per call. *report (may be NULL) gets
 * {milestones, steps}, the events emitted. 0 or the store's error. Blocking. */
int council_tick(nx_app *app, int64_t now_ms, json_t **report, nx_err *e);
/* council_tick as a store_tick_fn (ctx: the nx_app), for the server's leader-elected ticker
 * "council.ticker" (every COUNCIL_TICK_MS). */
int council_tick_job(void *app, int64_t now_ms, nx_err *e);
#define COUNCIL_TICK_MS (10 * 60 * 1000LL)

/* ---- HTTP (council_http.c) ---- */
int council_routes(http_server *srv, nx_app *app);

#endif
