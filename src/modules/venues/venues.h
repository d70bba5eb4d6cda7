/* venues.h — activity rooms (活动室: the reading room, the calligraphy room, the neighbourhood hall)
 * and their bookings.
 *
 * A room has opening hours, closed weekdays and closed dates, a capacity, equipment and rules: how
 * far ahead it can be booked, the longest booking, how many open bookings one person may hold, and
 * whether a booking needs a staff member's approval. Bookings are made by staff (for anyone, for a
 * team or a course, RIGHT_VENUE_MANAGE) and by residents and family for the resident their account
 * is bound to (RIGHT_SELF). The conflict check is the database's: every live booking claims each
 * 15-minute unit it covers in venue_slots, whose primary key lets exactly one claim commit however
 * many requests race, on SQLite and on PostgreSQL alike. Recurring bookings (weekly, staff) skip the
 * weeks that clash or fall on a closed day and report each skipped date. A person may wait for a
 * taken slot; when the slot is freed (cancelled, rejected, released as a no-show) the first waiter
 * whose whole time is free is offered it (an event). Each room has an ICS feed (RFC 5545).
 *
 * Every row belongs to a community; a request's scope is applied in SQL. Threads: none of its own;
 * every function runs its own transaction and blocks on the store. */
#ifndef NX_MODULES_VENUES_H
#define NX_MODULES_VENUES_H

#include <jansson.h>
#include <stdint.h>

#include "base/clock.h"
#include "modules/app.h"
#include "store/ticker.h"

/* Event kinds (notify/outbox.h). Payloads carry ids only:
 *   venues.booking.created    {"booking_id", "venue_id", "resident_id"|null, "user_id"|null, "status"}
 *   venues.booking.decided    {"booking_id", "venue_id", "resident_id"|null, "user_id"|null,
 *                              "status": confirmed|rejected}
 *   venues.booking.released   {"booking_id", "venue_id", "resident_id"|null, "user_id"|null,
 *                              "status": cancelled|no_show}
 * user_id is the account that made the booking (the booker), resident_id the person it is for.
 *   venues.wait.offered       {"wait_id", "venue_id", "resident_id"|null, "user_id", "offer_until"} */
#define VENUES_EV_BOOKING_CREATED "venues.booking.created"
#define VENUES_EV_BOOKING_DECIDED "venues.booking.decided"
#define VENUES_EV_BOOKING_RELEASED "venues.booking.released"
#define VENUES_EV_WAIT_OFFERED "venues.wait.offered"

#define VENUES_UNIT_MS (15LL * 60 * 1000) /* the slot unit: bookings start and end on quarter hours */
#define VENUES_OFFER_MS (2LL * 3600 * 1000)        /* how long a freed slot stays offered to a waiter */

typedef struct venues_filter {
    const char *q;          /* name contains */
    const char *status;     /* bookings: pending, confirmed, … */
    int64_t community_id;   /* 0 = every community in scope */
    int64_t venue_id;       /* bookings of one room */
    int64_t from_ms, to_ms; /* bookings overlapping [from, to); 0 = open */
    bool mine;              /* bookings of the caller's resident only */
    int64_t after;          /* cursor */
    int limit;
} venues_filter;

/* Append to q the condition that restricts a row with a community_id column (alias. prefix) to
 * the communities who may see: the scope's communities for staff, the community of the grid for a
 * grid worker, the community of the bound resident for residents and family. Community-wide
 * facilities (rooms, courses) are read with it. */
void venues_community_scope_q(const nx_principal *who, const char *alias, sqlq *q);

/* Local (Asia/Shanghai) date and minute of the day as epoch ms. */
int64_t venues_local_ms(nx_date d, int minute);
/* The local date and "HH:MM" of an instant (courses show their sessions with it). */
void venues_local_parts(int64_t ms, char date[11], char hhmm[6]);
/* "HH:MM" → minutes after midnight (0..1440, "24:00" allowed); NX_EINVAL naming field. */
int venues_parse_hhmm(const char *s, const char *field, int *out, nx_err *e);

/* ---- rooms (venues.c) ---- */
/* One page of rooms who may see. NX_EPERM without RIGHT_VENUE_MANAGE or RIGHT_SELF. */
int venues_list(nx_app *app, const nx_principal *who, const venues_filter *f, json_t **out, nx_err *e);
int venues_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Create from JSON {community_id, name, location, capacity, equipment, rules, open_from "HH:MM",
 * open_to, closed_weekdays [1..7], max_ahead_days, max_minutes, per_person_max, needs_approval}.
 * RIGHT_VENUE_MANAGE in the community. NX_EINVAL naming the field; NX_ECONFLICT for a taken name. */
int venues_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Change any of the create fields but community_id. */
int venues_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Close one date {day, reason} (RIGHT_VENUE_MANAGE). Bookings already made that day are kept. */
int venues_closure_add(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The room's bookings over days days from the local date from (1..42): {"venue", "days": [...],
 * "items": [{id, date, start, end, status, title, mine}]}; titles of others' bookings are hidden
 * from residents ("已预约"). */
int venues_calendar(nx_app *app, const nx_principal *who, int64_t id, nx_date from, int days, json_t **out,
                    nx_err *e);
/* The room's feed as iCalendar text (RFC 5545: CRLF lines folded at 75 octets, escaped text, UTC
 * times): bookings from 30 days back to the room's booking horizon, pending as TENTATIVE. *out is
 * malloc'd. */
int venues_ics(nx_app *app, const nx_principal *who, int64_t id, char **out, size_t *len, nx_err *e);

/* ---- bookings (venues_bookings.c) ---- */
int venues_booking_list(nx_app *app, const nx_principal *who, const venues_filter *f, json_t **out, nx_err *e);
int venues_booking_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Book from JSON {venue_id, date, start "HH:MM", end, title, attendees, resident_id, note,
 * repeat_weeks}. Checks, each a 4xx naming its field: the date is open and within the room's horizon,
 * start and end on quarter hours inside the opening hours, no longer than the room allows, attendees
 * within capacity, the person under their cap (409). A taken slot is NX_ECONFLICT (409). Staff may
 * book for anyone and repeat weekly (repeat_weeks 1..26 more weeks): the weeks that clash or are
 * closed are skipped and listed. *out: the first booking, plus "series": {"created": [ids],
 * "skipped": [{"date", "reason": clash|closed|past}]} for a series. */
int venues_booking_create(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e);
/* action: "cancel" (the booker's side or staff), "approve", "reject" (staff, pending only),
 * "check-in" (the booker or staff, from 30 minutes before the start to its end), "no-show" (staff,
 * confirmed and not checked in, venues_no_show_grace_ms after the start: the rest of its time is
 * released). Releasing a slot offers it to the first waiter whose time is now free. */
int venues_booking_act(nx_app *app, const nx_principal *who, int64_t id, const char *action, json_t *in, nx_err *e);
/* The no-show grace: configuration venue_no_show_minutes (15 when unset) in ms. */
int64_t venues_no_show_grace_ms(const nx_app *app);
/* Release every confirmed booking not checked in venues_no_show_grace_ms after its start as a
 * no-show (the rest of its time freed and offered to waiters, VENUES_EV_BOOKING_RELEASED to its
 * booker), at now_ms. *n: how many. Runs its own transaction. */
int venues_release_no_shows(nx_app *app, int64_t now_ms, int *n, nx_err *e);
/* Start the no-show ticker (store/ticker.h, leader-elected "venues.no_show"): venues_release_no_shows
 * every period_ms (≤ 0: a minute), the first at once. Stop it with store_ticker_stop. */
int venues_ticker_start(nx_app *app, int64_t period_ms, store_ticker **out, nx_err *e);

/* ---- a room for another module (venues_bookings.c; called in the caller's transaction) ---- */
/* Book room venue_id on tx for [starts_ms, ends_ms) on one local day on behalf of another module's
 * item (a briefing, a meeting): title is shown on the room's calendar, attendees is how many people
 * come (0 = not said), booked by who (the caller has checked that who may make the item; the room
 * must be visible to who). The room's rules apply as to staff (open, not closed that day, inside
 * the opening hours, no longer than the longest booking, attendees within the capacity: NX_EINVAL
 * naming date, start, end or attendees); the booking is confirmed at once. A clash is NX_ECONFLICT
 * (field venue_id) whose Chinese message names the booking holding the time. On any error the
 * caller must roll tx back (PostgreSQL has aborted it after a clash met by the insert).
 * *booking_id: the new booking, which the caller keeps to move or release it. Emits
 * VENUES_EV_BOOKING_CREATED. To move an item, release its booking and book the new span in the
 * same transaction: a clash then leaves everything as it was once the caller rolls back. */
int venues_book_span(store_tx *tx, const nx_principal *who, int64_t venue_id, const char *title, int attendees,
                     int64_t starts_ms, int64_t ends_ms, int64_t *booking_id, nx_err *e);
/* Release booking booking_id on tx (cancelled) when it is live and not yet ended at now_ms: its
 * remaining time is freed and offered to waiters, VENUES_EV_BOOKING_RELEASED emitted. *n: 1, or 0
 * when there was nothing to release (already released, ended, or no such booking). */
int venues_release_booking(store_tx *tx, int64_t booking_id, int64_t now_ms, int *n, nx_err *e);

/* ---- a course's room (venues_bookings.c; called by the courses module in its own transaction) ---- */
/* venues_book_span for one session of course course_id (the booking's course_id set, so that
 * venues_release_course finds it), for attendees people. */
int venues_book_course(store_tx *tx, const nx_principal *who, int64_t venue_id, int64_t course_id, const char *title,
                       int attendees, int64_t starts_ms, int64_t ends_ms, int64_t *booking_id, nx_err *e);
/* Cancel on tx every live booking of course_id not yet ended at now_ms (the course was cancelled),
 * releasing its remaining time (offered to waiters) with VENUES_EV_BOOKING_RELEASED. *n: how many. */
int venues_release_course(store_tx *tx, int64_t course_id, int64_t now_ms, int *n, nx_err *e);

/* ---- waiting list (venues_bookings.c) ---- */
/* Wait for a taken slot {venue_id, date, start, end, title, resident_id}. NX_ECONFLICT when the slot
 * is free (book it instead). */
int venues_wait_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int venues_wait_list(nx_app *app, const nx_principal *who, const venues_filter *f, json_t **out, nx_err *e);
/* Take an offered slot: a booking made by the rules of venues_booking_create. */
int venues_wait_accept(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

int venues_routes(http_server *srv, nx_app *app); /* venues_http.c */

#endif
