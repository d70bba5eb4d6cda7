/* reminders.c — the volunteers module's periodic work: a reminder before each volunteer's shift.
 *
 * Every tick (store/ticker.h: one process at a time) looks for confirmed sign-ups of open activities
 * starting within VOLUNTEERS_REMIND_BEFORE_MS that have not been reminded; the kit's reminder tick
 * (notify/remind.h) marks each one's reminded_at and emits VOLUNTEERS_EV_SIGNUP_REMINDER in the same
 * transaction, so a sign-up is reminded exactly once: a second tick, a restart, or a second process
 * finds the mark. A sign-up made after the window opened is reminded at the next tick; a cancelled
 * one never. Placeholders (helpers without an account) have no one to tell and are skipped.
 *
 * The event names who hears it: the volunteer's resident record (resident_id) when they are a
 * resident, else their own account (assignee_user_id), so that exactly one of the messages module's
 * "resident" and "assignee" rules reaches them (migration 026); nothing here writes a notification.
 *
 * A tick handles at most REMIND_BATCH sign-ups and leaves the rest to the next (a large backlog
 * after downtime does not hold one write transaction for long). */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "notify/remind.h"

#include <stdio.h>

#define REMIND_BATCH 200

/* Columns: s.id, a.community_id, s.activity_id, s.volunteer_id, a.starts_at, v.resident_id, v.user_id,
 * a.title, a.place. */
static json_t *signup_payload(store_rows *r, void *ctx)
{
    (void)ctx;
    char starts[30], when[17];
    clock_format_local(store_int(r, 4), starts);
    snprintf(when, sizeof when, "%.10s %.5s", starts, starts + 11); /* "2026-12-08 09:00" for the message */
    json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "signup_id", (json_int_t)store_int(r, 0),
                          "activity_id", (json_int_t)store_int(r, 2), "volunteer_id", (json_int_t)store_int(r, 3),
                          "starts_at", starts, "time", when, "title", store_text(r, 7) ? store_text(r, 7) : "", "place",
                          store_text(r, 8) ? store_text(r, 8) : "", "link", "/m/volunteer");
    if (o && !store_isnull(r, 5))
        json_object_set_new(o, "resident_id", json_integer(store_int(r, 5)));
    else if (o && !store_isnull(r, 6))
        json_object_set_new(o, "assignee_user_id", json_integer(store_int(r, 6)));
    return o;
}

int volunteers_tick(nx_app *app, int64_t now_ms, int *reminded, nx_err *e)
{
    store_param p[] = {P_INT(now_ms), P_INT(now_ms + VOLUNTEERS_REMIND_BEFORE_MS), P_INT(REMIND_BATCH)};
    remind_spec s = {
        .select = "SELECT s.id, a.community_id, s.activity_id, s.volunteer_id, a.starts_at, v.resident_id, v.user_id, "
                  "a.title, a.place FROM volunteer_signups s JOIN volunteer_activities a ON a.id = s.activity_id "
                  "JOIN volunteers v ON v.id = s.volunteer_id WHERE s.status = 'confirmed' AND s.reminded_at IS NULL "
                  "AND a.status = 'open' AND a.starts_at > $1 AND a.starts_at <= $2 ORDER BY a.starts_at, s.id "
                  "LIMIT $3",
        .params = p,
        .nparams = 3,
        .batch = REMIND_BATCH,
        .mark = "UPDATE volunteer_signups SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
        .kind = VOLUNTEERS_EV_SIGNUP_REMINDER,
        .subject = "volunteer_signup",
        .payload = signup_payload,
    };
    return remind_run(app->db, &s, now_ms, reminded, e);
}

int volunteers_tick_job(void *app, int64_t now_ms, nx_err *e)
{
    return volunteers_tick(app, now_ms, NULL, e);
}
