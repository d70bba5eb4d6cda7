/* council_ticker.c — the council's periodic job: announce, once each, the follow-up milestones and
 * the consultation steps that have passed their due date.
 *
 * A decision's follow-up milestone (council_progress) with a due_on and not done, of a decision still
 * being carried out, is overdue from the day after its due_on (local dates, Shanghai); so is the
 * current step of a topic still in consultation (started, not done, the topic neither merged,
 * rejected nor finished). The tick emits one event per such row and stamps the row's overdue_at in
 * the same write transaction, so a row is announced once whatever the number of ticks, and — the
 * ticker being leader-elected (store/ticker.h) and the stamp a guarded UPDATE — whatever the number
 * of processes sharing the database. A milestone or step done later, or a due date moved, does not
 * announce again; a step that is new (the next one started) has no stamp and is announced in its turn.
 *
 * At most TICK_BATCH rows of each kind per tick; the rest follow on the next tick. Blocking. */
#include "modules/council/council_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "base/vec.h"

#define TICK_BATCH 500

typedef struct {
    int64_t id, parent, estate, community, idx;
    char due[11], name[64];
} overdue_row;

static void milestone_fill(store_rows *r, void *elem)
{
    overdue_row *o = elem;
    o->id = store_int(r, 0);
    o->parent = store_int(r, 1);
    o->estate = store_int(r, 2);
    o->community = store_int(r, 3);
    str_copy(o->due, store_text(r, 4), sizeof o->due);
}

static void step_fill(store_rows *r, void *elem)
{
    overdue_row *o = elem;
    milestone_fill(r, o);
    o->idx = store_int(r, 5);
    str_copy(o->name, store_text(r, 6), sizeof o->name);
}

/* Stamp one row's overdue_at with now (stamp: the guarded UPDATE, now as $1, the row's keys after) and,
 * when this tick is the one that stamped it, announce it. */
typedef int (*overdue_fn)(store_tx *tx, const overdue_row *o, int64_t now_ms, bool *stamped, nx_err *e);

static int milestone_overdue(store_tx *tx, const overdue_row *o, int64_t now_ms, bool *stamped, nx_err *e)
{
    store_param u[] = {P_INT(now_ms), P_INT(o->id)};
    int64_t changed = 0;
    int rc = store_exec(tx, "UPDATE council_progress SET overdue_at = $1 WHERE id = $2 AND overdue_at IS NULL", u, 2,
                        &changed, e);
    if (rc || !(*stamped = changed > 0))
        return rc;
    char link[48];
    snprintf(link, sizeof link, "/council/decisions/%lld", (long long)o->parent);
    return outbox_emit_new(tx, COUNCIL_EV_PROGRESS_OVERDUE, o->community, "decision", o->parent,
                           json_pack("{s:I, s:I, s:I, s:s, s:s}", "decision_id", (json_int_t)o->parent, "progress_id",
                                     (json_int_t)o->id, "estate_id", (json_int_t)o->estate, "due_on", o->due, "link",
                                     link),
                           e);
}

static int step_overdue(store_tx *tx, const overdue_row *o, int64_t now_ms, bool *stamped, nx_err *e)
{
    store_param u[] = {P_INT(now_ms), P_INT(o->id), P_INT(o->idx)};
    int64_t changed = 0;
    int rc = store_exec(tx,
                        "UPDATE council_topic_steps SET overdue_at = $1 WHERE topic_id = $2 AND idx = $3 "
                        "AND overdue_at IS NULL",
                        u, 3, &changed, e);
    if (rc || !(*stamped = changed > 0))
        return rc;
    return outbox_emit_new(tx, COUNCIL_EV_STEP_OVERDUE, o->community, "topic", o->id,
                           json_pack("{s:I, s:I, s:I, s:s, s:s, s:s}", "topic_id", (json_int_t)o->id, "estate_id",
                                     (json_int_t)o->estate, "step", (json_int_t)o->idx, "step_name", o->name, "due_on",
                                     o->due, "link", "/council"),
                           e);
}

/* The rows sql (today as $1) returns, up to TICK_BATCH, read by fill and each through fn. *count: how
 * many fn stamped and announced. */
static int each_overdue(store_tx *tx, const char *sql, const char *today, void (*fill)(store_rows *, void *),
                        overdue_fn fn, int64_t now_ms, int *count, nx_err *e)
{
    store_param p[] = {P_TEXT(today)};
    vec v;
    vec_init(&v, sizeof(overdue_row), TICK_BATCH);
    int rc = store_query_vec(tx, sql, p, 1, fill, &v, e);
    for (size_t i = 0; rc == 0 && i < v.len; i++) {
        bool stamped = false;
        if ((rc = fn(tx, (const overdue_row *)v.items + i, now_ms, &stamped, e)) == 0 && stamped)
            (*count)++;
    }
    vec_cleanup(&v);
    return rc;
}

int council_tick(nx_app *app, int64_t now_ms, json_t **report, nx_err *e)
{
    char stamp[30], today[11];
    clock_format_local(now_ms, stamp);
    str_copy(today, stamp, sizeof today); /* "YYYY-MM-DD" of the local date */
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int milestones = 0, steps = 0;
    if ((rc = each_overdue(tx,
                           "SELECT p.id, d.id, d.estate_id, d.community_id, p.due_on FROM council_progress p "
                           "JOIN council_decisions d ON d.id = p.decision_id WHERE p.done = 0 AND p.overdue_at IS NULL "
                           "AND p.due_on IS NOT NULL AND p.due_on < $1 AND d.status <> 'done' ORDER BY p.id LIMIT 500",
                           today, milestone_fill, milestone_overdue, now_ms, &milestones, e)) == 0)
        rc = each_overdue(tx,
                          "SELECT s.topic_id, s.topic_id, t.estate_id, t.community_id, s.due_on, s.idx, s.name "
                          "FROM council_topic_steps s JOIN council_topics t ON t.id = s.topic_id AND t.step = s.idx "
                          "WHERE s.started_on IS NOT NULL AND s.done_on IS NULL AND s.overdue_at IS NULL "
                          "AND s.due_on IS NOT NULL AND s.due_on < $1 AND t.status IN ('open', 'scheduled', 'decided') "
                          "ORDER BY s.topic_id LIMIT 500",
                          today, step_fill, step_overdue, now_ms, &steps, e);
    if ((rc = store_finish(tx, rc, e)))
        return rc;
    if (report)
        *report = json_pack("{s:i, s:i}", "milestones", milestones, "steps", steps);
    return 0;
}

int council_tick_job(void *app, int64_t now_ms, nx_err *e)
{
    return council_tick(app, now_ms, NULL, e);
}
