/* party_reminders.c — the party module's periodic work: dues reminders (党费催缴).
 *
 * Every tick (store/ticker.h: one process at a time) finds the unpaid dues rows of active members
 * whose month is over, or is the current month from PARTY_DUES_REMIND_DAY on, and that carry no
 * reminded_at yet; it marks each and emits PARTY_EV_DUES_REMINDER in the same transaction. A dues row
 * is one member's month (UNIQUE (member_id, month)), so a member is reminded once per month: a second
 * tick, a restart or a second process finds the mark. A row paid before its reminder is never
 * reminded. The messages module turns the event into a notification; nothing here writes one.
 *
 * At most REMIND_BATCH rows a tick; the rest wait for the next one (a backlog after downtime does
 * not hold one write transaction for long). */
#include "modules/party/party_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "notify/outbox.h"

#define REMIND_BATCH 500

typedef struct due {
    int64_t id, member_id, community_id, amount;
    char month[8];
} due;

int party_tick(nx_app *app, int64_t now_ms, int *reminded, nx_err *e)
{
    if (reminded)
        *reminded = 0;
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
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    due *rows = calloc(REMIND_BATCH, sizeof *rows);
    int n = 0;
    store_rows *r = NULL;
    if (rows == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    store_param p[] = {P_TEXT(upto), P_INT(REMIND_BATCH)};
    if ((rc = store_query(tx,
                          "SELECT d.id, d.member_id, d.community_id, d.amount_fen, d.month FROM party_dues d JOIN "
                          "party_members m ON m.id = d.member_id WHERE d.status = 'due' AND d.reminded_at IS NULL AND "
                          "d.amount_fen > 0 AND m.status = 'active' AND d.month <= $1 ORDER BY d.month, d.id LIMIT $2",
                          p, 2, &r, e)))
        goto fail;
    while (n < REMIND_BATCH && store_row(r)) {
        rows[n] = (due){.id = store_int(r, 0), .member_id = store_int(r, 1), .community_id = store_int(r, 2),
                        .amount = store_int(r, 3)};
        snprintf(rows[n].month, sizeof rows[n].month, "%s", store_text(r, 4) ? store_text(r, 4) : "");
        n++;
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto fail;
    for (int i = 0; i < n; i++) {
        store_param u[] = {P_INT(now_ms), P_INT(rows[i].id)};
        if ((rc = store_exec(tx, "UPDATE party_dues SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL", u, 2,
                             NULL, e)) ||
            (rc = outbox_emit_new(tx, PARTY_EV_DUES_REMINDER, rows[i].community_id, "dues", rows[i].id,
                                  json_pack("{s:I, s:I, s:s, s:I}", "dues_id", (json_int_t)rows[i].id, "member_id",
                                            (json_int_t)rows[i].member_id, "month", rows[i].month, "amount_fen",
                                            (json_int_t)rows[i].amount),
                                  e)))
            goto fail;
    }
    free(rows);
    rows = NULL;
    if ((rc = store_commit(tx, e)))
        return rc;
    if (reminded)
        *reminded = n;
    return 0;
fail:
    store_rows_free(r);
    free(rows);
    store_rollback(tx);
    return rc;
}

int party_tick_job(void *app, int64_t now_ms, nx_err *e)
{
    return party_tick(app, now_ms, NULL, e);
}
