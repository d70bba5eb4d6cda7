/* party_reminders.c — the party module's periodic work: dues reminders (党费催缴).
 *
 * Every tick (store/ticker.h: one process at a time) finds the unpaid dues rows of active members
 * whose month is over, or is the current month from PARTY_DUES_REMIND_DAY on, and that carry no
 * reminded_at yet; the kit's reminder tick (notify/remind.h) marks each and emits PARTY_EV_DUES_REMINDER
 * in the same transaction. A dues row is one member's month (UNIQUE (member_id, month)), so a member
 * is reminded once per month: a second tick, a restart or a second process finds the mark. A row paid
 * before its reminder is never reminded. The event names the member's resident record (resident_id,
 * none for an outsider member), so the messages module's "resident" rule reaches the member's inbox
 * (migration 026); nothing here writes a notification.
 *
 * At most REMIND_BATCH rows a tick; the rest wait for the next one (a backlog after downtime does
 * not hold one write transaction for long). */
#include "modules/party/party_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "notify/remind.h"

#define REMIND_BATCH 500

/* Columns: d.id, d.community_id, d.member_id, m.resident_id, d.amount_fen, d.month. */
static json_t *dues_payload(store_rows *r, void *ctx)
{
    (void)ctx;
    const char *month = store_text(r, 5) ? store_text(r, 5) : "";
    int64_t fen = store_int(r, 4);
    char title[80];
    /* "2024-05" → "2024年05月党费 91.85 元": the words of the member's message */
    snprintf(title, sizeof title, "%.4s年%.2s月党费 %lld.%02lld 元", month, strlen(month) >= 7 ? month + 5 : "",
             (long long)(fen / 100), (long long)(fen % 100));
    json_t *o = json_pack("{s:I, s:I, s:s, s:I, s:s, s:s}", "dues_id", (json_int_t)store_int(r, 0), "member_id",
                          (json_int_t)store_int(r, 2), "month", month, "amount_fen", (json_int_t)fen, "title", title,
                          "link", "/m/party");
    if (o && !store_isnull(r, 3))
        json_object_set_new(o, "resident_id", json_integer(store_int(r, 3)));
    return o;
}

int party_tick(nx_app *app, int64_t now_ms, int *reminded, nx_err *e)
{
    /* the last month whose dues are reminded now: this one from the reminder day on, else the one before */
    int64_t local = now_ms + NX_TZ_OFFSET_MS;
    nx_date today = date_from_days(local >= 0 ? local / 86400000LL : -((-local + 86399999LL) / 86400000LL));
    int y = today.y, m = today.m;
    if (today.d < PARTY_DUES_REMIND_DAY && --m == 0) {
        m = 12;
        y--;
    }
    char upto[16];
    snprintf(upto, sizeof upto, "%04d-%02d", y, m);
    store_param p[] = {P_TEXT(upto), P_INT(REMIND_BATCH)};
    remind_spec s = {
        .select = "SELECT d.id, d.community_id, d.member_id, m.resident_id, d.amount_fen, d.month FROM party_dues d "
                  "JOIN party_members m ON m.id = d.member_id WHERE d.status = 'due' AND d.reminded_at IS NULL AND "
                  "d.amount_fen > 0 AND m.status = 'active' AND d.month <= $1 ORDER BY d.month, d.id LIMIT $2",
        .params = p,
        .nparams = 2,
        .batch = REMIND_BATCH,
        .mark = "UPDATE party_dues SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
        .kind = PARTY_EV_DUES_REMINDER,
        .subject = "dues",
        .payload = dues_payload,
    };
    return remind_run(app->db, &s, now_ms, reminded, e);
}

int party_tick_job(void *app, int64_t now_ms, nx_err *e)
{
    return party_tick(app, now_ms, NULL, e);
}
