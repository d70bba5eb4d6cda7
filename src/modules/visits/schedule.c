/* schedule.c — the visit scheduler and the 遇事必访 event handlers.
 *
 * Periods. A policy's period is N calendar months counted from January 1970 (N = 1 monthly, 3
 * quarterly) or N Monday-to-Sunday weeks counted from Monday 1970-01-05 (N = 2 is "every other
 * week", the same fortnights for every file, so a grid worker's fortnight is one for all her
 * elders). The period containing a day depends only on the civil date in Asia/Shanghai; "today" is
 * computed from the now_ms the caller passes (never read inside), so tests pin it across month ends,
 * leap days and the +08:00 day boundary. A routine task is due on the last day of its period.
 *
 * Idempotency. Routine tasks are unique per (care file, period start); event tasks per source_key
 * ("event:<outbox id>" for events, "event:<id>:<file>" when one event concerns several files). The
 * handlers insert with ON CONFLICT DO NOTHING, so an event delivered twice creates one task, and the
 * scheduler may run as often as anyone likes, in several processes (it also takes store_leader when
 * it runs as a thread). Overdue marking and escalation only move flags forward.
 *
 * Threads: visits_schedule runs on the caller's thread; the scheduler thread calls it every
 * interval; the event handlers run on the dispatcher thread. Each uses its own write transaction. */
#include "modules/visits/visits_internal.h"

#include "base/log.h"
#include "base/str.h"
#include "base/vec.h"
#include "modules/devices/devices.h"
#include "modules/people/people.h"
#include "modules/services/services.h"
#include "notify/dispatcher.h"
#include "notify/outbox.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000LL
#define WEEK_EPOCH 4 /* 1970-01-05, a Monday, in days since 1970-01-01 */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

nx_date visits_local_date(int64_t ms)
{
    return date_from_days(floor_div(ms + NX_TZ_OFFSET_MS, DAY_MS));
}

int visits_period_of(const char *unit, int count, nx_date day, nx_date *start, nx_date *end)
{
    if (unit == NULL || count < 1 || count > 12)
        return NX_EINVAL;
    if (strcmp(unit, "month") == 0) {
        int64_t idx = (int64_t)(day.y - 1970) * 12 + (day.m - 1);
        int64_t p = floor_div(idx, count) * count, q = p + count;
        nx_date s = {(int)(1970 + floor_div(p, 12)), (int)(p - floor_div(p, 12) * 12) + 1, 1};
        nx_date n = {(int)(1970 + floor_div(q, 12)), (int)(q - floor_div(q, 12) * 12) + 1, 1};
        *start = s;
        *end = date_from_days(date_to_days(n) - 1);
        return 0;
    }
    if (strcmp(unit, "week") == 0) {
        int64_t len = 7LL * count;
        int64_t s = WEEK_EPOCH + floor_div(date_to_days(day) - WEEK_EPOCH, len) * len;
        *start = date_from_days(s);
        *end = date_from_days(s + len - 1);
        return 0;
    }
    return NX_EINVAL;
}

/* The policy of a file: the most specific row for its community, category and level. */
typedef struct policy {
    char unit[8], responsible[8];
    int count, escalate_days;
} policy;

static int find_policy(store_tx *tx, int64_t community, const char *category, const char *level, policy *out,
                       bool *found, nx_err *e)
{
    store_param p[] = {P_TEXT(level), P_INT(community), P_TEXT(category)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT period_unit, period_count, responsible, escalate_days FROM visit_policies WHERE "
                         "level = $1 AND (community_id = $2 OR community_id IS NULL) AND (category = $3 OR category "
                         "IS NULL) ORDER BY (CASE WHEN community_id IS NULL THEN 0 ELSE 2 END) + (CASE WHEN category "
                         "IS NULL THEN 0 ELSE 1 END) DESC, id LIMIT 1",
                         p, 3, &r, e);
    if (rc)
        return rc;
    rc = store_first(r, NULL, e);
    *found = rc == 0;
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        rc = 0;
    }
    if (*found) {
        str_copy(out->unit, store_text(r, 0), sizeof out->unit);
        out->count = (int)store_int(r, 1);
        str_copy(out->responsible, store_text(r, 2), sizeof out->responsible);
        out->escalate_days = (int)store_int(r, 3);
    }
    store_rows_free(r);
    return rc;
}

int vx_schedule_file(store_tx *tx, int64_t file_id, int64_t now_ms, int *created, nx_err *e)
{
    if (created)
        *created = 0;
    store_param fp[] = {P_INT(file_id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT community_id, grid_id, resident_id, category, level, responsible_user_id, status "
                         "FROM care_files WHERE id = $1",
                         fp, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, NULL, e))) {
        store_rows_free(r);
        if (rc == NX_ENOTFOUND) {
            nx_err_clear(e);
            return 0; /* no such file: nothing to schedule */
        }
        return rc;
    }
    int64_t community = store_int(r, 0), grid = store_int(r, 1), resident = store_int(r, 2),
            responsible = store_int(r, 5);
    char category[48], level[48];
    str_copy(category, store_text(r, 3), sizeof category);
    str_copy(level, store_text(r, 4), sizeof level);
    bool active = strcmp(store_text(r, 6), "active") == 0;
    store_rows_free(r);
    if (!active)
        return 0;
    policy pol;
    bool found = false;
    if ((rc = find_policy(tx, community, category, level, &pol, &found, e)) || !found)
        return rc;
    nx_date today = visits_local_date(now_ms), s, en;
    if (visits_period_of(pol.unit, pol.count, today, &s, &en))
        return 0;
    char start[11], end[11], day[11];
    date_format(s, start);
    date_format(en, end);
    date_format(today, day);
    int64_t assignee = 0;
    if ((rc = vx_pick_assignee(tx, responsible, community, grid, pol.responsible, &assignee, e)))
        return rc;
    store_param p[] = {P_INT(community), P_ID(grid), P_INT(resident), P_INT(file_id), P_TEXT(start),
                       P_TEXT(end),      P_ID(assignee), P_INT(now_ms), P_TEXT(day)};
    int64_t changes = 0;
    rc = store_exec(tx,
                    "INSERT INTO visit_tasks (community_id, grid_id, resident_id, care_file_id, kind, reason, "
                    "period_start, due_date, assignee_user_id, status, done_at, created_at, updated_at) SELECT $1, "
                    "CAST($2 AS BIGINT), $3, $4, 'routine', 'routine', $5, $6, CAST($7 AS BIGINT), CASE WHEN v.n > 0 THEN 'done' ELSE 'open' END, "
                    "CASE WHEN v.n > 0 THEN $8 ELSE NULL END, $8, $8 FROM (SELECT count(*) AS n FROM visits WHERE "
                    "care_file_id = $4 AND visited_on >= $5 AND visited_on <= $9) v WHERE 1 = 1 ON CONFLICT DO NOTHING",
                    p, 9, &changes, e);
    if (rc == 0 && created)
        *created = changes > 0;
    return rc;
}

/* ---- one run ---- */

typedef struct esc_item {
    int64_t id, community, grid, resident, file;
    char due[11], level[48], category[48];
} esc_item;

/* One row of the due lists (columns id, community_id, grid_id, resident_id, care_file_id, due date,
 * level, category, any of the last four NULL) as an esc_item (store_query_vec's fill). */
static void due_fill(store_rows *r, void *elem)
{
    esc_item *it = elem;
    *it = (esc_item){.id = store_int(r, 0), .community = store_int(r, 1), .grid = store_int(r, 2),
                     .resident = store_int(r, 3), .file = store_int(r, 4)};
    str_copy(it->due, store_text(r, 5) ? store_text(r, 5) : "", sizeof it->due);
    str_copy(it->level, store_text(r, 6) ? store_text(r, 6) : "", sizeof it->level);
    str_copy(it->category, store_text(r, 7) ? store_text(r, 7) : "", sizeof it->category);
}

/* Escalate it: update (sets escalated_at and overdue: $1 now, $2 the id), a timeline entry of type
 * "escalated" with note and detail (borrowed, may be NULL), then kind emitted for obj with payload
 * (taken, released on failure); *count counts it. */
static int escalate(store_tx *tx, const char *update, const char *type, const char *obj, const esc_item *it,
                    int64_t now_ms, const char *note, json_t *detail, const char *kind, json_t *payload, int *count,
                    nx_err *e)
{
    store_param u[] = {P_INT(now_ms), P_INT(it->id)};
    int rc;
    if ((rc = store_exec(tx, update, u, 2, NULL, e)) ||
        (rc = visits_timeline_add(tx, it->community, type, it->id, NULL, "escalated", note, detail, NULL, e))) {
        json_decref(payload);
        return rc;
    }
    if ((rc = outbox_emit_new(tx, kind, it->community, obj, it->id, payload, e)) == 0)
        (*count)++;
    return rc;
}

/* One due item's escalation on tx (day: the day the list was read against); *count counts it. */
typedef int (*due_fn)(store_tx *tx, const esc_item *it, int64_t now_ms, const char *day, int *count, nx_err *e);

/* The rows of sql (one text parameter $1 = day; the columns of due_fill), at most cap (0: no cap),
 * each through fn until one fails. *count: how many fn escalated. */
static int each_due(store_tx *tx, const char *sql, const char *day, size_t cap, due_fn fn, int64_t now_ms, int *count,
                    nx_err *e)
{
    *count = 0;
    vec items;
    vec_init(&items, sizeof(esc_item), cap);
    store_param p[] = {P_TEXT(day)};
    int rc = store_query_vec(tx, sql, p, 1, due_fill, &items, e);
    for (size_t i = 0; rc == 0 && i < items.len; i++)
        rc = fn(tx, (const esc_item *)items.items + i, now_ms, day, count, e);
    vec_cleanup(&items);
    return rc;
}

/* A task past its due date by more than its policy's escalate_days (1 without a policy). */
static int escalate_task(store_tx *tx, const esc_item *it, int64_t now_ms, const char *today, int *count, nx_err *e)
{
    int days = 1;
    policy pol;
    bool found = false;
    int rc;
    if (it->level[0] && (rc = find_policy(tx, it->community, it->category, it->level, &pol, &found, e)))
        return rc;
    if (found)
        days = pol.escalate_days;
    nx_date t, d;
    date_parse(today, &t);
    if (date_parse(it->due, &d) || date_to_days(t) - date_to_days(d) <= days)
        return 0;
    json_t *d2 = json_pack("{s:s, s:i}", "due_date", it->due, "escalate_days", days);
    rc = escalate(tx, "UPDATE visit_tasks SET escalated_at = $1, overdue = 1, updated_at = $1 WHERE id = $2", "task",
                  "visit_task", it, now_ms, "逾期未走访，已上报社区", d2, VISITS_EV_TASK_ESCALATED,
                  json_pack("{s:I, s:I, s:o, s:o, s:s}", "task_id", (json_int_t)it->id, "resident_id",
                            (json_int_t)it->resident, "care_file_id", it->file ? json_integer(it->file) : json_null(),
                            "grid_id", it->grid ? json_integer(it->grid) : json_null(), "due_date", it->due),
                  count, e);
    json_decref(d2);
    return rc;
}

/* A problem past its deadline (the list is read against the day VX_PROBLEM_ESCALATE_DAYS ago). */
static int escalate_problem(store_tx *tx, const esc_item *it, int64_t now_ms, const char *day, int *count, nx_err *e)
{
    return escalate(tx, "UPDATE problems SET escalated_at = $1, overdue = 1, updated_at = $1 WHERE id = $2", "problem",
                    "problem", it, now_ms, "超过办理期限，已上报社区", NULL, VISITS_EV_PROBLEM_ESCALATED,
                    json_pack("{s:I, s:o, s:o, s:s}", "problem_id", (json_int_t)it->id, "resident_id",
                              it->resident ? json_integer(it->resident) : json_null(), "grid_id",
                              it->grid ? json_integer(it->grid) : json_null(), "deadline", it->due),
                    count, e);
}

int visits_schedule(nx_app *app, int64_t now_ms, json_t **report, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    char today[11], limit_day[11];
    vx_day(now_ms, 0, today);
    vx_day(now_ms, -VX_PROBLEM_ESCALATE_DAYS, limit_day);
    int created = 0, escalated = 0, p_escalated = 0;
    int64_t overdue = 0, p_overdue = 0;
    /* The active files first (one open result per transaction), then one file at a time. */
    vec files;
    vec_init(&files, sizeof(int64_t), 0);
    if ((rc = store_query_ids(tx, "SELECT id FROM care_files WHERE status = 'active' ORDER BY id", NULL, 0, &files, e)))
        goto fail;
    const int64_t *ids = files.items;
    size_t n = files.len;
    for (size_t i = 0; i < n; i++) {
        int c = 0;
        if ((rc = vx_schedule_file(tx, ids[i], now_ms, &c, e)))
            goto fail;
        created += c;
    }
    store_param p[] = {P_INT(now_ms), P_TEXT(today)};
    if ((rc = store_exec(tx,
                         "UPDATE visit_tasks SET overdue = 1, updated_at = $1 WHERE status = 'open' AND overdue = 0 "
                         "AND due_date < $2",
                         p, 2, &overdue, e)) ||
        (rc = each_due(tx,
                       "SELECT t.id, t.community_id, t.grid_id, t.resident_id, t.care_file_id, t.due_date, f.level, "
                       "f.category FROM visit_tasks t LEFT JOIN care_files f ON f.id = t.care_file_id WHERE "
                       "t.status = 'open' AND t.escalated_at IS NULL AND t.due_date < $1 ORDER BY t.id",
                       today, 0, escalate_task, now_ms, &escalated, e)) ||
        (rc = store_exec(tx,
                         "UPDATE problems SET overdue = 1, updated_at = $1 WHERE status NOT IN ('resolved', 'closed') "
                         "AND overdue = 0 AND deadline IS NOT NULL AND deadline < $2",
                         p, 2, &p_overdue, e)) ||
        (rc = each_due(tx,
                       "SELECT id, community_id, grid_id, resident_id, 0, deadline, NULL, NULL FROM problems "
                       "WHERE status NOT IN ('resolved', 'closed') AND escalated_at IS NULL AND deadline IS NOT NULL "
                       "AND deadline < $1 ORDER BY id LIMIT 1000",
                       limit_day, 1000, escalate_problem, now_ms, &p_escalated, e)))
        goto fail;
    json_t *out = json_pack("{s:s, s:i, s:I, s:i, s:I, s:i}", "date", today, "created", created, "overdue",
                            (json_int_t)overdue, "escalated", escalated, "problems_overdue", (json_int_t)p_overdue,
                            "problems_escalated", p_escalated);
    if (created || overdue || escalated || p_overdue || p_escalated)
        rc = audit_write(tx, NULL, "schedule", "visit_task", 0, 0, out, e);
    if (rc || (rc = store_commit(tx, e))) {
        json_decref(out);
        vec_cleanup(&files);
        return rc;
    }
    vec_cleanup(&files);
    nx_log(LOG_INFO, "visits.scheduled date=%s created=%d overdue=%lld escalated=%d problems_overdue=%lld", today,
           created, (long long)overdue, escalated, (long long)p_overdue);
    if (report)
        *report = out;
    else
        json_decref(out);
    return 0;
fail:
    vec_cleanup(&files);
    store_rollback(tx);
    return rc;
}

/* ---- event handlers ---- */

static int resident_of(json_t *payload, int64_t *resident)
{
    json_t *v = json_object_get(payload, "resident_id");
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return NX_EINVAL;
    *resident = json_integer_value(v);
    return 0;
}

typedef struct member_file {
    int64_t file, community, grid, resident, responsible;
} member_file;

/* A household's members with a care file are all read (no household comes near this; more fails the
 * event, which is retried, rather than leaving some of the family unvisited). */
#define HOUSEHOLD_MAX 1000

static int on_status_changed(store *s, const nx_event *ev, void *ctx)
{
    (void)ctx;
    if (strcmp(ev->kind, PEOPLE_EV_RESIDENT_STATUS_CHANGED) != 0)
        return 0;
    json_t *payload = json_loads(ev->payload, 0, NULL);
    int64_t resident = 0;
    const char *status = json_string_value(json_object_get(payload, "status"));
    if (!payload || resident_of(payload, &resident) || !status ||
        (strcmp(status, "deceased") != 0 && strcmp(status, "moved_out") != 0)) {
        json_decref(payload);
        return 0;
    }
    bool deceased = strcmp(status, "deceased") == 0;
    json_decref(payload);
    nx_err e;
    nx_err_clear(&e);
    vec family; /* the other members of the household with an active care file */
    vec_init(&family, sizeof(member_file), HOUSEHOLD_MAX);
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, &e);
    if (rc)
        return rc;
    if ((rc = vx_close_resident_file(tx, resident, deceased ? "居民去世" : "居民迁出", &e)))
        goto fail;
    if (deceased) {
        store_rows *r;
        store_param p[] = {P_INT(resident), P_INT(resident)};
        if ((rc = store_query(tx,
                              "SELECT f.id, f.community_id, f.grid_id, f.resident_id, f.responsible_user_id FROM "
                              "care_files f JOIN residents m ON m.id = f.resident_id WHERE f.status = 'active' AND "
                              "m.household_id = (SELECT household_id FROM residents WHERE id = $1) AND f.resident_id "
                              "<> $2 ORDER BY f.id",
                              p, 2, &r, &e)))
            goto fail;
        while (store_row(r)) {
            member_file m = {store_int(r, 0), store_int(r, 1), store_int(r, 2), store_int(r, 3), store_int(r, 4)};
            if (vec_push(&family, &m))
                break;
        }
        if ((rc = store_rows_end(r, &e)) || (rc = vec_error(&family, &e)))
            goto fail;
        const member_file *mf = family.items;
        int64_t now = clock_now_ms();
        char due[11];
        vx_day(now, VX_DUE_LIFE, due);
        for (size_t i = 0; i < family.len; i++) {
            char key[64];
            snprintf(key, sizeof key, "event:%lld:%lld", (long long)ev->id, (long long)mf[i].file);
            int64_t assignee = 0;
            if ((rc = vx_pick_assignee(tx, mf[i].responsible, mf[i].community, mf[i].grid, "grid", &assignee, &e)) ||
                (rc = vx_event_task(tx, mf[i].community, mf[i].grid, mf[i].resident, mf[i].file, assignee,
                                    "bereaved", "家中亲人去世，遇事必访", key, due, now, NULL, &e)))
                goto fail;
        }
    }
    vec_cleanup(&family);
    if ((rc = store_commit(tx, &e)))
        nx_log(LOG_WARN, "visits.status_event_failed event=%lld code=%s", (long long)ev->id, nx_code_name(rc));
    return rc;
fail:
    vec_cleanup(&family);
    store_rollback(tx);
    nx_log(LOG_WARN, "visits.status_event_failed event=%lld code=%s", (long long)ev->id, nx_code_name(rc));
    return rc;
}

int visits_raise_once(store_tx *tx, int64_t resident, const char *reason, const char *note, const char *source_key,
                      int due_days, int64_t *task_id, bool *created, nx_err *e)
{
    if (created)
        *created = false;
    int64_t id = 0;
    store_param k[] = {P_TEXT(source_key)};
    int rc = store_one_int(tx, "SELECT id FROM visit_tasks WHERE source_key = $1", k, 1, &id, e);
    if (rc == 0) {
        if (task_id)
            *task_id = id;
        return 0; /* this cause has its task already */
    }
    if (rc != NX_ENOTFOUND)
        return rc;
    nx_err_clear(e);
    store_rows *r;
    store_param p[] = {P_INT(resident)};
    if ((rc = store_query(tx,
                          "SELECT r.community_id, r.grid_id, f.id, f.responsible_user_id FROM residents r LEFT JOIN "
                          "care_files f ON f.resident_id = r.id AND f.status = 'active' WHERE r.id = $1",
                          p, 1, &r, e)))
        return rc;
    if ((rc = store_first(r, "居民不存在", e))) {
        store_rows_free(r);
        if (rc == NX_ENOTFOUND)
            str_copy(e->field, "resident_id", sizeof e->field);
        return rc;
    }
    int64_t community = store_int(r, 0), grid = store_int(r, 1), file = store_int(r, 2), resp = store_int(r, 3);
    store_rows_free(r);
    int64_t now = clock_now_ms(), assignee = 0;
    char due[11];
    vx_day(now, due_days, due);
    if ((rc = vx_pick_assignee(tx, resp, community, grid, "grid", &assignee, e)) ||
        (rc = vx_event_task(tx, community, grid, resident, file, assignee, reason, note, source_key, due, now, task_id,
                            e)))
        return rc;
    if (created)
        *created = true;
    return 0;
}

static int on_alert_resolved(store *s, const nx_event *ev, void *ctx)
{
    (void)ctx;
    if (strcmp(ev->kind, DEVICES_EV_ALERT_RESOLVED) != 0)
        return 0;
    json_t *payload = json_loads(ev->payload, 0, NULL);
    int64_t resident = 0;
    if (!payload || resident_of(payload, &resident) || !json_is_true(json_object_get(payload, "needs_followup"))) {
        json_decref(payload);
        return 0;
    }
    char note[200] = "报警处置后需回访";
    const char *given = json_string_value(json_object_get(payload, "note"));
    if (given && str_utf8_valid(given, strlen(given)) && str_utf8_len(given) <= 60)
        snprintf(note, sizeof note, "报警处置后需回访：%s", given);
    json_decref(payload);
    nx_err e;
    nx_err_clear(&e);
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, &e);
    if (rc)
        return rc;
    char key[48];
    snprintf(key, sizeof key, "event:%lld", (long long)ev->id);
    if ((rc = visits_raise_once(tx, resident, "alert_followup", note, key, VX_DUE_ALERT, NULL, NULL, &e)) ==
        NX_ENOTFOUND) {
        store_rollback(tx);
        nx_log(LOG_WARN, "visits.alert_event_unknown_resident event=%lld", (long long)ev->id);
        return 0; /* nothing to visit: not retried */
    }
    if (rc)
        goto fail;
    return store_commit(tx, &e);
fail:
    store_rollback(tx);
    nx_log(LOG_WARN, "visits.alert_event_failed event=%lld code=%s", (long long)ev->id, nx_code_name(rc));
    return rc;
}

/* An approved application whose item tags the resident (effect "tag:<code>", 低保 and 残疾人两项补贴)
 * opens a care file of that category when the vocabulary has one and the resident has no file. */
static int on_application_approved(store *s, const nx_event *ev, void *ctx)
{
    (void)ctx;
    if (strcmp(ev->kind, SERVICES_EV_APPLICATION_APPROVED) != 0)
        return 0;
    json_t *payload = json_loads(ev->payload, 0, NULL);
    json_t *aid = payload ? json_object_get(payload, "application_id") : NULL;
    int64_t app_id = json_is_integer(aid) ? json_integer_value(aid) : 0;
    json_decref(payload);
    if (app_id <= 0)
        return 0;
    nx_err e;
    nx_err_clear(&e);
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, &e);
    if (rc)
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(app_id)};
    if ((rc = store_query(tx,
                          "SELECT a.resident_id, i.effect, i.name FROM service_applications a JOIN service_items i ON "
                          "i.id = a.item_id WHERE a.id = $1",
                          p, 1, &r, &e)))
        goto fail;
    if ((rc = store_first(r, NULL, &e))) {
        store_rows_free(r);
        if (rc != NX_ENOTFOUND)
            goto fail;
        store_rollback(tx);
        return 0;
    }
    int64_t resident = store_int(r, 0);
    char effect[48], note[200];
    str_copy(effect, store_text(r, 1) ? store_text(r, 1) : "", sizeof effect);
    snprintf(note, sizeof note, "“%s”审核通过，自动建档", store_text(r, 2) ? store_text(r, 2) : "");
    store_rows_free(r);
    if (strncmp(effect, "tag:", 4) != 0) {
        store_rollback(tx);
        return 0;
    }
    if ((rc = vx_care_file_open_auto(tx, resident, effect + 4, note, clock_now_ms(), NULL, &e)))
        goto fail;
    return store_commit(tx, &e);
fail:
    store_rollback(tx);
    nx_log(LOG_WARN, "visits.application_event_failed event=%lld code=%s", (long long)ev->id, nx_code_name(rc));
    return rc;
}

int visits_subscribe(struct dispatcher *d, nx_app *app)
{
    int rc;
    if ((rc = dispatcher_subscribe(d, "visits.resident_status", PEOPLE_EV_RESIDENT_STATUS_CHANGED, on_status_changed,
                                   app)) ||
        (rc = dispatcher_subscribe(d, "visits.device_alert_resolved", DEVICES_EV_ALERT_RESOLVED, on_alert_resolved,
                                   app)) ||
        (rc = dispatcher_subscribe(d, "visits.application_approved", SERVICES_EV_APPLICATION_APPROVED,
                                   on_application_approved, app)))
        return rc;
    return 0;
}

/* ---- the scheduler thread ---- */

static int scheduler_tick(void *app, int64_t now_ms, nx_err *e)
{
    return visits_schedule(app, now_ms, NULL, e);
}

int visits_scheduler_start(nx_app *app, int interval_s, visits_scheduler **out, nx_err *e)
{
    store_ticker_options o = {.name = "visits.scheduler",
                              .period_ms = (interval_s > 0 ? interval_s : 300) * 1000LL,
                              .run_at_start = true,
                              .fn = scheduler_tick,
                              .ctx = app};
    return store_ticker_start(app->db, &o, out, e);
}

void visits_scheduler_stop(visits_scheduler *s)
{
    store_ticker_stop(s);
}
