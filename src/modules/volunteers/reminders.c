/* reminders.c — the volunteers module's periodic work: a reminder before each volunteer's shift.
 *
 * Every tick (store/ticker.h: one process at a time) looks for confirmed sign-ups of open activities
 * starting within VOLUNTEERS_REMIND_BEFORE_MS that have not been reminded, marks each one's
 * reminded_at and emits VOLUNTEERS_EV_SIGNUP_REMINDER in the same transaction, so a sign-up is
 * reminded exactly once: a second tick, a restart, or a second process finds the mark. A sign-up made
 * after the window opened is reminded at the next tick; a cancelled one never. Placeholders (helpers
 * without an account) have no one to tell and are skipped. The messages module turns the event into
 * a notification; nothing here writes one.
 *
 * A tick handles at most REMIND_BATCH sign-ups and leaves the rest to the next (a large backlog
 * after downtime does not hold one write transaction for long). */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "notify/outbox.h"

#include <stdlib.h>

#define REMIND_BATCH 200

typedef struct due {
    int64_t id, activity_id, volunteer_id, community_id, starts_at;
} due;

int volunteers_tick(nx_app *app, int64_t now_ms, int *reminded, nx_err *e)
{
    if (reminded)
        *reminded = 0;
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
    store_param p[] = {P_INT(now_ms), P_INT(now_ms + VOLUNTEERS_REMIND_BEFORE_MS), P_INT(REMIND_BATCH)};
    if ((rc = store_query(tx,
                          "SELECT s.id, s.activity_id, s.volunteer_id, a.community_id, a.starts_at FROM "
                          "volunteer_signups s JOIN volunteer_activities a ON a.id = s.activity_id WHERE s.status = "
                          "'confirmed' AND s.volunteer_id IS NOT NULL AND s.reminded_at IS NULL AND a.status = 'open' "
                          "AND a.starts_at > $1 AND a.starts_at <= $2 ORDER BY a.starts_at, s.id LIMIT $3",
                          p, 3, &r, e)))
        goto fail;
    while (n < REMIND_BATCH && store_row(r)) {
        rows[n] = (due){store_int(r, 0), store_int(r, 1), store_int(r, 2), store_int(r, 3), store_int(r, 4)};
        n++;
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto fail;
    for (int i = 0; i < n; i++) {
        char starts[30];
        clock_format_local(rows[i].starts_at, starts);
        store_param u[] = {P_INT(now_ms), P_INT(rows[i].id)};
        if ((rc = store_exec(tx, "UPDATE volunteer_signups SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
                             u, 2, NULL, e)) ||
            (rc = outbox_emit_new(tx, VOLUNTEERS_EV_SIGNUP_REMINDER, rows[i].community_id, "volunteer_signup",
                                  rows[i].id,
                                  json_pack("{s:I, s:I, s:I, s:s}", "signup_id", (json_int_t)rows[i].id,
                                            "activity_id", (json_int_t)rows[i].activity_id, "volunteer_id",
                                            (json_int_t)rows[i].volunteer_id, "starts_at", starts),
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

int volunteers_tick_job(void *app, int64_t now_ms, nx_err *e)
{
    return volunteers_tick(app, now_ms, NULL, e);
}
