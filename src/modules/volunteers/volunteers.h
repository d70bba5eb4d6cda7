/* volunteers.h — volunteers and partner units (志愿服务与共建单位): teams and their volunteers,
 * activities with roles, sign-ups and a waiting list, check-in and out by a rotating code, the
 * service-hours ledger and its approval, partner units with recurring services (义诊, 爱心理发 …)
 * whose sessions have slots that residents book.
 *
 * Rights. RIGHT_VOLUNTEER_MANAGE (staff, admin) manages everything in scope. RIGHT_VOLUNTEER_DUTY
 * (volunteer and grid accounts) checks in and out, and — when the account's volunteer record leads
 * a team — manages that team only: its members, its activities, their sign-ups and their hours.
 * RIGHT_SELF (residents, family) reads activities and sessions of their community, signs up (a
 * resident without a volunteer record gets one, linked to their record), reads their own hours and
 * books slots for their own record. Nobody approves hours of their own volunteer record. The street
 * office oversees volunteer work: a street account (no volunteer right) READS teams, volunteers,
 * activities with their sign-up sheets, the hours ledger (list, entries, honour list, a volunteer's
 * summary, the Excel export with RIGHT_EXPORT), partners, their services and sessions in the
 * communities of its street, and writes nothing (403); bookings and points stay with the rights.
 *
 * Scope: every row carries community_id. Staff and street accounts read in their scope (perm.h);
 * grid, volunteer and self accounts read their own community. A row out of scope is "not found".
 *
 * Hours are whole minutes in the store ("minutes"; "hours" in answers is minutes / 60), so sums are
 * exact; only approved entries count. The ledger is append-only: a correction is a new entry holding
 * the difference, with a reason.
 *
 * The check-in code of an activity is 6 digits from a keyed MAC (crypto_document_mac) over the
 * activity id and the current window of VOLUNTEERS_CODE_WINDOW_S seconds; the code of the window
 * before is still accepted (a scan that crossed the boundary), older codes are expired. Check-ins are
 * accepted from 30 minutes before the start to 30 minutes after the end.
 *
 * All functions block on the store and are thread-safe (no state; "now" is clock_now_ms()). */
#ifndef NX_MODULES_VOLUNTEERS_H
#define NX_MODULES_VOLUNTEERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/app.h"

/* Events (outbox), payloads as noted; subject "<object>:<id>".
 *   volunteers.signup.promoted   {"signup_id", "activity_id", "volunteer_id"} — moved up from the
 *                                waiting list after a cancellation (tell the volunteer)
 *   volunteers.signup.waiting    {"signup_id", "activity_id", "volunteer_id", "position"}
 *   volunteers.signup.cancelled  {"signup_id", "activity_id", "volunteer_id", "by": "self" | "organiser",
 *                                "freed" (a confirmed place was given up), "promoted_signup_id" (or null)}
 *   volunteers.signup.reminder   {"signup_id", "activity_id", "volunteer_id", "starts_at", "time" ("YYYY-MM-DD
 *                                HH:MM"), "title", "place", "link", and "resident_id" (a resident volunteer)
 *                                or else "assignee_user_id" (the volunteer's account)} — the shift is
 *                                near (VOLUNTEERS_REMIND_BEFORE_MS), once per confirmed sign-up
 *   volunteers.hours.approved    {"entry_id", "volunteer_id", "minutes"}
 *   volunteers.points.redeemed   {"entry_id", "volunteer_id", "offer_id", "points"}
 *   volunteers.booking.created   {"booking_id", "session_id", "resident_id", "starts_at"} (reminder)
 *   volunteers.booking.cancelled {"booking_id", "session_id", "resident_id"} */
#define VOLUNTEERS_EV_SIGNUP_PROMOTED "volunteers.signup.promoted"
#define VOLUNTEERS_EV_SIGNUP_WAITING "volunteers.signup.waiting"
#define VOLUNTEERS_EV_SIGNUP_CANCELLED "volunteers.signup.cancelled"
#define VOLUNTEERS_EV_SIGNUP_REMINDER "volunteers.signup.reminder"
#define VOLUNTEERS_EV_HOURS_APPROVED "volunteers.hours.approved"
#define VOLUNTEERS_EV_POINTS_REDEEMED "volunteers.points.redeemed"
#define VOLUNTEERS_EV_BOOKING_CREATED "volunteers.booking.created"
#define VOLUNTEERS_EV_BOOKING_CANCELLED "volunteers.booking.cancelled"

/* The contexts phones are encrypted under (field_encrypt_ad), for code that writes rows directly
 * (the demo). */
#define VOLUNTEERS_PHONE_CONTEXT "volunteer.phone"
#define VOLUNTEERS_PARTNER_PHONE_CONTEXT "partner.phone"

#define VOLUNTEERS_CODE_WINDOW_S 60            /* a check-in code changes every minute */
#define VOLUNTEERS_CHECK_MARGIN_MS (30LL * 60000) /* check-in opens/closes this long around the activity */
#define VOLUNTEERS_CANCEL_NOTICE_MS (2LL * 3600000) /* cancelling one's place later than this needs a reason */
#define VOLUNTEERS_REMIND_BEFORE_MS (24LL * 3600000) /* a shift's reminder goes out this long before it */

/* List filters; 0 / NULL = any. Each list reads the filters that apply to it. */
typedef struct volunteers_filter {
    int64_t community_id, team_id, volunteer_id, activity_id, partner_id, service_id, session_id;
    const char *q;      /* name contains (teams, volunteers, activities, partners) */
    const char *status; /* hours: pending/approved/rejected; activities: open/cancelled */
    const char *kind;   /* partners: hospital …; services and sessions: clinic, haircut, other */
    int64_t from_ms;    /* activities and sessions starting at or after; 0 = any */
    bool mine;          /* only the caller's own (sign-ups, hours, bookings) */
    int64_t after;      /* cursor: rows with id > after */
    int limit;
} volunteers_filter;

/* ---- teams and volunteers (teams.c) ---- */

/* Pages {"items", "total", "next_cursor"}. Teams: {id, community_id, name, description, member_count,
 * leaders: [names]}; volunteers: {id, community_id, team_id, team_name, number, name, resident_id,
 * user_id, phone (masked), skills, availability, trained_on, insured_until, is_leader, status,
 * approved_minutes, approved_hours}. Teams: any of the three rights; volunteers: MANAGE or DUTY. */
int volunteers_team_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e);
int volunteers_team_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {"name", "description"?, "community_id"? (street and platform accounts)}. MANAGE. NX_ECONFLICT for
 * a name the community has. */
int volunteers_team_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int volunteers_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e);
int volunteers_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {"resident_id"} or {"name", "phone"} (an outsider), and "team_id", "user_id", "skills",
 * "availability", "birth_date", "trained_on", "insured_until", "is_leader", "community_id". MANAGE, or
 * the leader of team_id (their own team only, never is_leader). The phone is stored encrypted; the
 * volunteer number (V<community><seq>) is given here. */
int volunteers_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);

/* ---- activities, sign-ups and check-ins (activities.c) ---- */

/* {id, community_id, team_id, team_name, title, place, description, starts_at, ends_at,
 * signup_deadline, capacity, min_age, skill, status, organiser_id, series_id, confirmed, waiting,
 * roles: [{id, name, places, confirmed}]} and, in get, "my_signup" ({id, status, position,
 * check_in_at, check_out_at} or null) and, for those who manage it, "signups". */
int volunteers_activity_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                             nx_err *e);
int volunteers_activity_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {"title", "place", "starts_at", "ends_at" (local "YYYY-MM-DDTHH:MM"), "capacity" (1..1000),
 * "signup_deadline"? (default: the start), "team_id"?, "description"?, "min_age"?, "skill"?, "roles"?:
 * [{"name", "places"}] (their places add up to at most capacity), "repeat"?: {"every": "week" |
 * "month", "count": 2..52}}. MANAGE or the leader of team_id. *id: the first activity. */
int volunteers_activity_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Sign up for activity_id. {} signs the caller up (their volunteer record; a resident gets one);
 * {"volunteer_id"} or {"placeholder"} is the organiser adding someone; "role_id"? chooses a role.
 * Past the capacity (or the role's places) the sign-up waits. Refused (NX_ECONFLICT) after the
 * deadline, for a cancelled activity or a second sign-up; NX_EINVAL (field) below min_age or without
 * the skill. *out: the sign-up {id, status, position}. */
int volunteers_signup(nx_app *app, const nx_principal *who, int64_t activity_id, json_t *in, json_t **out,
                      nx_err *e);
/* Cancel sign-up id {"reason"?}: the volunteer themselves until the activity starts, who manages
 * the activity until it ends (later: NX_ECONFLICT, field "starts_at"). A reason is required (NX_EINVAL,
 * "reason") for someone else's sign-up and for one's own confirmed place within
 * VOLUNTEERS_CANCEL_NOTICE_MS of the start. A freed place goes to the first waiting sign-up that fits
 * (a "promoted" event); the cancellation emits VOLUNTEERS_EV_SIGNUP_CANCELLED. Checked-in or already
 * cancelled sign-ups: NX_ECONFLICT. */
int volunteers_signup_cancel(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The activity's code for the window of now_ms: {"code", "expires_at", "window_seconds",
 * "activity_id", "payload"} (payload: what the QR code holds). For who manages the activity. */
int volunteers_checkin_code(nx_app *app, const nx_principal *who, int64_t activity_id, int64_t now_ms, json_t **out,
                            nx_err *e);
/* The 6-digit code of activity_id for window (now_ms / 1000 / VOLUNTEERS_CODE_WINDOW_S). out[7]. */
void volunteers_code_for(const nx_keys *k, int64_t activity_id, int64_t window, char out[7]);
/* Check in or out: {"action": "in" | "out", "code"} for the caller's own sign-up, or
 * {"action", "signup_id", "reason"} for who manages the activity (a correction or a scan of the
 * volunteer). Refused: outside the time window (NX_ECONFLICT, field "action"), a wrong or expired code
 * (NX_EINVAL, "code"), out before in (NX_EINVAL, "action"), someone else's sign-up without the right
 * (NX_EPERM). A check-out writes the attendance entry of the ledger (pending). *out: the sign-up. */
int volunteers_check(nx_app *app, const nx_principal *who, int64_t activity_id, json_t *in, json_t **out, nx_err *e);

/* ---- the hours ledger (hours.c) ---- */

/* {id, community_id, volunteer_id, volunteer_name, activity_id, activity_title, kind, corrects_id,
 * minutes, hours, served_on, reason, status, recorded_by, approved_by, approved_at, created_at},
 * newest first. MANAGE sees the scope, a leader their team, everyone else their own. */
int volunteers_hours_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e);
/* A manual entry {"volunteer_id", "hours" (> 0, at most 24), "served_on", "reason", "activity_id"?}
 * or a correction {"corrects_id", "hours" (the right figure, >= 0), "reason"}: a new pending entry.
 * MANAGE or the leader of the volunteer's team; never for oneself. */
int volunteers_hours_add(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int volunteers_hours_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Approve ({} or {"reject": true, "reason"}) a pending entry: MANAGE, the activity's organiser or the
 * leader of the volunteer's team — never the volunteer themselves (NX_EPERM). NX_ECONFLICT when it is
 * not pending. */
int volunteers_hours_approve(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* A volunteer's approved hours: {"volunteer_id", "name", "number", "minutes", "hours", "projects":
 * [{"title", "minutes", "hours"}]} (the certificate's figures). The volunteer is given by id or,
 * when id is 0, by resident_id. Runs on tx; no rights check (callers check theirs). NX_ENOTFOUND. */
int volunteers_hours_of(store_tx *tx, int64_t volunteer_id, int64_t resident_id, json_t **out, nx_err *e);
/* volunteers_hours_of for volunteer_id (0: the caller's own record), for the volunteer themselves,
 * MANAGE in scope or the leader of their team. NX_ENOTFOUND, NX_EPERM. */
int volunteers_hours_summary(nx_app *app, const nx_principal *who, int64_t volunteer_id, json_t **out, nx_err *e);
/* The honour list: approved hours per volunteer in month "YYYY-MM" or year "YYYY", most first (at most
 * 100): {"period", "items": [{"rank", "volunteer_id", "name", "team_name", "minutes", "hours"}]}. */
int volunteers_honour(nx_app *app, const nx_principal *who, const char *period, int64_t community_id, json_t **out,
                      nx_err *e);
/* Write the approved hours per person and per project of period (as volunteers_honour; NULL = all)
 * to path (.xlsx). MANAGE and RIGHT_EXPORT; audited; complete or nothing. */
int volunteers_hours_export(nx_app *app, const nx_principal *who, const char *period, const char *path,
                            int64_t *rows, nx_err *e);

/* ---- partner units, services, sessions and bookings (partners.c) ---- */

/* Partners {id, community_id, name, kind, kind_label, contact_name, phone (masked), address, offer,
 * service_count, sessions_delivered}. Read: any of the three rights; create: MANAGE. */
int volunteers_partner_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e);
int volunteers_partner_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int volunteers_partner_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* The community's thanks letter to partner id for year (2000..2999): a one-page PDF (*pdf malloc'd,
 * *len) listing per service the sessions held that year (ended, Shanghai calendar) and the residents
 * served (bookings marked attended), with the totals (thanks.c). MANAGE or the street's oversight, in
 * scope (NX_ENOTFOUND outside); NX_EINVAL "year"; NX_ECONFLICT "year" when nothing was held. */
int volunteers_partner_thanks(nx_app *app, const nx_principal *who, int64_t id, int year, unsigned char **pdf,
                              size_t *len, nx_err *e);
/* Services {id, partner_id, partner_name, title, kind, place, recurrence, start_time, end_time,
 * slot_minutes, session_count}. Create (MANAGE): {"partner_id", "title", "kind", "place",
 * "first_date", "start_time" "HH:MM", "end_time", "slot_minutes" (5..240), "repeat": "once" | "weekly"
 * | "monthly" (same day) | "nth_weekday" (with "nth" 1..5 and "weekday" 1..7, e.g. 2 and 6: the second
 * Saturday), "count" 1..52}: the sessions and their slots are generated with it. */
int volunteers_service_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e);
int volunteers_service_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int volunteers_service_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Sessions {id, service_id, partner_id, partner_name, title, kind, place, starts_at, ends_at,
 * slot_count, booked}; get adds "slots": [{id, starts_at, ends_at, booked, mine, booking_id}] and, for
 * MANAGE, who booked them (masked names). */
int volunteers_session_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e);
int volunteers_session_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Book {"slot_id", "resident_id"?} of session_id: for oneself (RIGHT_SELF: one's own record) or for a
 * resident in scope (MANAGE, DUTY). One booking per resident and session; a slot is held by one
 * booking (the store's unique constraint decides between concurrent requests: NX_ECONFLICT).
 * Past sessions are refused. *out: the booking. */
int volunteers_booking_create(nx_app *app, const nx_principal *who, int64_t session_id, json_t *in, json_t **out,
                              nx_err *e);
/* {id, session_id, slot_id, resident_id, resident_name (masked), status, starts_at, title, place,
 * partner_name}; MANAGE/DUTY see the scope, residents their own. */
int volunteers_booking_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e);
/* {"status": "cancelled" | "attended" | "no_show"}: the resident (or who booked) cancels; MANAGE and
 * DUTY record attendance and no-shows. */
int volunteers_booking_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* ---- time-bank points (points.c) ---- */

/* Points are shown as numbers with two decimals and kept in hundredths. An approved hours entry
 * earns minutes × points_per_hour / 60 points once, at approval, at the community's rule.
 *
 * A page of a volunteer's points ledger {items: [{id, kind: earn|redeem, points, hours_id, offer_id,
 * offer_title, note, created_at}], total, next_cursor} with "volunteer_id", "name", "number",
 * "earned", "redeemed", "balance", "points_per_hour". f->volunteer_id: 0 = the caller's own; others'
 * for MANAGE in scope or their team's leader (NX_EPERM), NX_ENOTFOUND. */
int volunteers_points_get(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e);
/* The earning rule of community_id (0: the caller's own): {community_id, points_per_hour, own (false:
 * the default)}. Any of the three rights, in scope. */
int volunteers_point_rule_get(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
/* Set it: {"points_per_hour" 0..100, "community_id"? (street and platform accounts)}. MANAGE; audited.
 * Earnings already written keep the rule they were earned at. *out as volunteers_point_rule_get. */
int volunteers_point_rule_set(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e);
/* What points buy: {id, community_id, title, points, active, created_at}. List: any of the three
 * rights, in scope; create {"title", "points" (> 0, two decimals), "community_id"?}: MANAGE,
 * NX_ECONFLICT (field "title") for a title the community has. */
int volunteers_offer_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e);
int volunteers_offer_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int volunteers_offer_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Redeem {"offer_id", "volunteer_id"? (MANAGE, on a volunteer's behalf), "note"?}: a ledger entry of
 * minus the offer's cost when the balance covers it (NX_ECONFLICT, field "points", otherwise: the
 * balance never goes below zero, even for two redemptions at once). NX_EINVAL "offer_id" for an offer
 * of another community or inactive. Emits VOLUNTEERS_EV_POINTS_REDEEMED. *out: {id, volunteer_id,
 * offer_id, points, balance}. */
int volunteers_points_redeem(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e);
/* Earn the points not earned yet of community's approved hours entries, at its rule (for rows written
 * directly, e.g. the demo's). Runs on tx (write); *earned (may be NULL) gets the entries. */
int volunteers_points_catch_up(store_tx *tx, int64_t community, int64_t *earned, nx_err *e);

/* ---- reminders (reminders.c) ---- */

/* Emit VOLUNTEERS_EV_SIGNUP_REMINDER for each confirmed sign-up (with a volunteer) of an open activity
 * starting in (now_ms, now_ms + VOLUNTEERS_REMIND_BEFORE_MS] not reminded yet, and mark it, in one
 * write transaction: once per sign-up, whatever the number of ticks or processes. *reminded (may be
 * NULL) gets the count. 0 or the store's error. */
int volunteers_tick(nx_app *app, int64_t now_ms, int *reminded, nx_err *e);
/* volunteers_tick as a store_tick_fn (store/ticker.h; ctx: the nx_app), for the server's ticker
 * "volunteers.ticker" (every VOLUNTEERS_TICK_MS). */
int volunteers_tick_job(void *app, int64_t now_ms, nx_err *e);
#define VOLUNTEERS_TICK_MS (5 * 60 * 1000LL)

/* ---- wiring ---- */

/* Register the routes (volunteers_http.c). */
int volunteers_routes(http_server *srv, nx_app *app);

#endif
