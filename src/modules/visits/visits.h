/* visits.h — care files, the home-visit system and problems to solve (关怀档案、走访、解难题).
 *
 * The secretary's visit system: 常态走访 (regular visits at a rhythm set by policy), 遇事必访 (a visit
 * whenever something happens to a resident) and 有难勤访 (frequent visits for those in difficulty).
 *
 * - A care file (care_files) is opened for a resident with a category and a level (both codes of
 *   the vocabularies in care_vocab, editable by admins) and closed with a reason; at most one active
 *   file per resident. Every change is kept in care_timeline and the audit log.
 * - Visit policies (visit_policies) say per level (and optionally category and community) how often
 *   a visit is due: every N calendar months or every N Monday-Sunday weeks, who is responsible
 *   (grid worker or community staff) and after how many days an overdue task escalates.
 * - The scheduler (visits_schedule) creates one routine task per (care file, period), marks open
 *   tasks past their due date overdue and escalates them; it also marks and escalates overdue
 *   problems. It is idempotent and takes "now" as a parameter.
 * - Event tasks (遇事必访) carry a unique source_key, so one cause makes exactly one task however
 *   often it is delivered. Causes: a life event marked on a care file (hospitalised, bereaved,
 *   other), a raise of the care level, a staff member's manual trigger, and these outbox events:
 *     PEOPLE_EV_RESIDENT_STATUS_CHANGED  {"resident_id": N, "status": "deceased"|"moved_out"|"active", …}
 *         deceased or moved_out closes the resident's active care file and cancels its open
 *         tasks; deceased also creates a "bereaved" task for every household member with an
 *         active care file.
 *     DEVICES_EV_ALERT_RESOLVED
 *         {"resident_id": N, "needs_followup": true, "alert_id": N (optional), "note": "…" (optional)}
 *         creates an "alert_followup" task due the next day (source_key "event:<event id>");
 *         needs_followup absent or false: ignored.
 *   Other modules raise their own causes directly with visits_raise_once (a canteen delivery missed
 *   for an elder living alone: reason "meal_missed", source_key "canteen.missed:<order id>").
 * - Visit records (visits) close the open tasks they answer; needs raised in a visit become
 *   problems. Photos are images (JPEG, PNG, WebP by their magic bytes) under <data>/uploads/.
 * - Problems (problems) are raised from a visit, by staff, or by a resident for themselves; they
 *   are assigned, worked on (notes), resolved, and rated 1-5 by the resident (or staff on their
 *   behalf) after resolution. Every change is on the problem's timeline.
 *
 * Rights (secure/perm.h): RIGHT_CARE_READ to read, RIGHT_CARE_WRITE to change, RIGHT_CARE_ADMIN for
 * vocabularies and policies; residents (RIGHT_SELF) see and raise their own problems and rate them.
 * Scope is applied in SQL: a record outside the caller's scope is NX_ENOTFOUND.
 *
 * Inputs are JSON objects exactly as the API receives them; the rules validate them strictly
 * (unknown fields, types, lengths, dates: NX_EINVAL naming the field) so that the HTTP layer, the
 * demo and the tests share one set of rules. Outputs are new JSON references. All functions are
 * blocking and thread-safe; each runs its own transaction. */
#ifndef NX_MODULES_VISITS_H
#define NX_MODULES_VISITS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "modules/app.h"
#include "store/page.h"
#include "store/query.h"
#include "store/ticker.h"

/* Event kinds (outbox). Subjects: "visit_task:<id>", "care_file:<id>", "visit:<id>", "problem:<id>". */
#define VISITS_EV_TASK_CREATED "visits.task.created"
#define VISITS_EV_TASK_ESCALATED "visits.task.escalated"
#define VISITS_EV_CARE_FILE_OPENED "visits.care_file.opened"
#define VISITS_EV_CARE_FILE_UPDATED "visits.care_file.updated"
#define VISITS_EV_CARE_FILE_LEVEL_RAISED "visits.care_file.level_raised"
#define VISITS_EV_CARE_FILE_CLOSED "visits.care_file.closed"
#define VISITS_EV_CARE_FILE_TRIGGERED "visits.care_file.triggered"
#define VISITS_EV_VISIT_RECORDED "visits.visit.recorded"
#define VISITS_EV_PROBLEM_RAISED "visits.problem.raised"
#define VISITS_EV_PROBLEM_ASSIGNED "visits.problem.assigned"
#define VISITS_EV_PROBLEM_UPDATED "visits.problem.updated"
#define VISITS_EV_PROBLEM_PROGRESS "visits.problem.progress"
#define VISITS_EV_PROBLEM_RESOLVED "visits.problem.resolved"
#define VISITS_EV_PROBLEM_RATED "visits.problem.rated"
#define VISITS_EV_PROBLEM_ESCALATED "visits.problem.escalated"

struct dispatcher;

/* Filters of the lists. 0 / NULL = any. cursor: NULL or a previous next_cursor. limit: 1..1000. */
typedef struct care_filter {
    int64_t community_id, grid_id, resident_id, care_file_id, assignee_user_id;
    const char *status;   /* care files: active (default), closed, all; tasks: open, done, cancelled;
                             problems: open, assigned, in_progress, resolved, closed, pending (not
                             yet resolved); incidents: … and pending (reported or dispatched) */
    const char *level, *category, *kind;
    const char *from, *to; /* visits: visited_on range; tasks: due_date range (YYYY-MM-DD) */
    bool overdue;          /* tasks and problems: only overdue ones */
    bool escalated;        /* tasks: only those escalated to the community */
    bool oldest;           /* order=oldest: oldest first (ascending id, the cursor pages forward) */
    const char *q;         /* care files: the resident's name (part), pinyin prefix or initials */
    const char *cursor;
    int limit;
} care_filter;

/* ---- vocabularies and policies ---- */

/* {"items": [{id, kind, code, label, sort, active}]} of one kind (NULL = every kind). Needs
 * CARE_READ or SELF (residents pick categories when they raise a problem). */
int visits_vocab_list(nx_app *app, const nx_principal *who, const char *kind, json_t **out, nx_err *e);
/* {kind, code, label, sort?} — CARE_ADMIN; NX_ECONFLICT for a duplicate code. */
int visits_vocab_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {label?, sort?, active?} — CARE_ADMIN. */
int visits_vocab_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
int visits_vocab_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

/* {"items": [policy]}: the defaults and those of the caller's communities. */
int visits_policy_list(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
/* {community_id?, category?, level, period_unit: month|week, period_count 1..12, responsible:
 * grid|staff, escalate_days 0..60} — CARE_ADMIN; NX_ECONFLICT when the same key exists. */
int visits_policy_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {period_unit?, period_count?, responsible?, escalate_days?} — CARE_ADMIN. */
int visits_policy_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
int visits_policy_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

/* ---- care files ---- */

/* {resident_id, category, level, living?, health?, needs?, responsible_user_id?, opened_on?} —
 * CARE_WRITE, the resident in scope (else NX_ENOTFOUND), no other active file (NX_ECONFLICT). */
int visits_care_file_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {category?, level?, living?, health?, needs?, responsible_user_id? (null clears), version?}.
 * A raise of the level creates a 遇事必访 task (reason level_raise) in the same transaction. */
int visits_care_file_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {reason, closed_on?} — closes the file and cancels its open tasks. NX_ECONFLICT when closed. */
int visits_care_file_close(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The file with the resident's name, sex, age, grid, labels, open tasks, last visits and its
 * timeline. */
int visits_care_file_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int visits_care_file_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e);
/* A life event {kind: hospitalised|bereaved|other, note?, occurred_on?}: on the timeline and a
 * 遇事必访 task due in 3 days. *task_id receives the task. */
int visits_care_file_event(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *task_id, nx_err *e);
/* A manual trigger {reason?: note text, due_date?} (default due in 3 days). */
int visits_care_file_trigger(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *task_id,
                      nx_err *e);

/* ---- tasks and visits ---- */

int visits_task_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e);
int visits_task_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {assignee_user_id?, due_date?, note?, status?: cancelled} — CARE_WRITE. */
int visits_task_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* Record a visit {resident_id | care_file_id | task_id, visited_on, kind: home|phone|video,
 * visitors, findings?, mood?: good|fair|low, health?: good|fair|poor, followup_on?, remarks?,
 * needs?: [{category, title, description?, urgency?}]}. Closes the open tasks of the resident it
 * answers (the given task, routine tasks whose period started on or before the visit day, event
 * tasks created by then); every need becomes a problem (source visit). The visit day may not be in
 * the future. */
int visits_record(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int visits_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int visits_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e);

/* ---- photos (visits and grid incidents) ---- */

/* Store an image for owner_type "visit" or "incident" (the owner must be in who's scope and
 * writable: CARE_WRITE, or the resident who reported the incident). The type is sniffed from the
 * magic bytes (JPEG, PNG, WebP; else NX_EUNSUPP); max bytes is the cap (NX_ETOOBIG); its structure
 * is walked (NX_EINVAL, field "file", for a damaged picture) and its metadata (EXIF, GPS) dropped
 * (upload_clean). Sealed into <data_dir>/uploads/<random>.<ext> with mode 0600. *stored (may be
 * NULL) gets the size kept. */
int visits_photo_add(nx_app *app, const nx_principal *who, const char *owner_type, int64_t owner_id,
                     const void *data, size_t len, size_t max, int64_t *id, size_t *stored, nx_err *e);
/* Read a photo in who's scope, opened (uploads are sealed at rest): *data (release it with
 * upload_free), *size, content type. NX_ENOTFOUND out of scope or when the file is gone, NX_EIO when
 * it does not open. */
int visits_photo_read(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *size,
                      char ctype[32], nx_err *e);
/* The photos of an owner as a JSON array [{id, content_type, size, url}] (no scope check: the
 * caller has read the owner). Runs on tx. */
int visits_photos_json(store_tx *tx, const char *owner_type, int64_t owner_id, json_t **out, nx_err *e);
/* "image/jpeg", "image/png", "image/webp", or NULL when the bytes are none of them. */
const char *visits_sniff_image(const void *data, size_t len);

/* ---- problems ---- */

/* {resident_id?, care_file_id?, visit_id?, category, title, description?, urgency?, deadline?,
 * assignee_user_id?, grid_id?}. A resident (SELF) raises one for themselves only (resident_id
 * forced to theirs; source resident); staff raise them with source staff (visit when visit_id). */
int visits_problem_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {category?, urgency?, deadline?, assignee_user_id?, status?: in_progress|closed} — CARE_WRITE.
 * Assigning moves an open problem to assigned. */
int visits_problem_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {note} — a progress note on the timeline (CARE_WRITE). */
int visits_problem_note(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {resolution} — CARE_WRITE; NX_ECONFLICT when already resolved or closed. */
int visits_problem_resolve(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {rating: 1..5, note?} — the resident who raised it (SELF) or CARE_WRITE staff on their behalf;
 * only once resolved (NX_ECONFLICT otherwise or when already rated). */
int visits_problem_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
int visits_problem_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int visits_problem_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e);

/* ---- the scheduler ---- */

/* The Shanghai civil date of an instant. */
nx_date visits_local_date(int64_t ms);

/* The period of a policy containing day: unit "month" (periods of count calendar months, counted
 * from January 1970, so count 3 gives quarters) or "week" (periods of count weeks, Monday to Sunday,
 * counted from Monday 1970-01-05). *start and *end are its first and last day. NX_EINVAL for an
 * unknown unit or count outside 1..12. Pure. */
int visits_period_of(const char *unit, int count, nx_date day, nx_date *start, nx_date *end);

/* One run at instant now_ms: for every active care file whose level has a policy, make sure the
 * task of the period containing today exists (created done when a visit already happened in that
 * period); mark open tasks with due_date before today overdue; escalate overdue tasks whose due date
 * is more than the policy's escalate_days ago (event visits.task.escalated {task_id, resident_id,
 * care_file_id, grid_id, due_date}); mark unresolved problems past their deadline overdue and
 * escalate them 3 days later (event visits.problem.escalated {problem_id, resident_id, grid_id,
 * deadline}). Idempotent. *report (may be NULL): {"date", "created", "overdue", "escalated",
 * "problems_overdue", "problems_escalated"}. One write transaction. */
int visits_schedule(nx_app *app, int64_t now_ms, json_t **report, nx_err *e);

/* A 遇事必访 task raised by another module for a cause of its own, on tx (the caller's write
 * transaction, so the task commits or rolls back with the cause). source_key names the cause and is
 * unique per cause ("canteen.missed:<order id>", …): the same key again creates nothing and gives the
 * task already made (*created false), so a cause reported twice makes one task. reason is a task
 * reason code (task.reasons of the web app: "meal_missed", "alert_followup", …); note (may be NULL)
 * is shown to the worker; the task is due due_days days from today. It goes to the resident's active
 * care file (when there is one) and its responsible worker, else the grid worker, else the
 * community's first staff member. task_id and created may be NULL. 0, NX_ENOTFOUND ("resident_id")
 * for an unknown resident, or the store's error. */
int visits_raise_once(store_tx *tx, int64_t resident, const char *reason, const char *note, const char *source_key,
                      int due_days, int64_t *task_id, bool *created, nx_err *e);

/* Subscribe the 遇事必访 handlers (see the events above) to d. 0 or the dispatcher's code. */
int visits_subscribe(struct dispatcher *d, nx_app *app);

/* A ticker (store/ticker.h) that runs visits_schedule at start and then every interval_s seconds
 * (0 = 300) while this process holds the store_leader lock "visits.scheduler". */
typedef store_ticker visits_scheduler;
int visits_scheduler_start(nx_app *app, int interval_s, visits_scheduler **out, nx_err *e);
void visits_scheduler_stop(visits_scheduler *s); /* NULL accepted; joins the thread */

/* ---- statistics and the register ---- */

/* {date, files, covered, coverage, by_grid: [{grid_id, grid_name, files, covered, coverage}],
 *  by_worker: [{user_id, name, files, covered, coverage}], overdue: [task…] (at most 100),
 *  problems: {by_status: {status: n}, resolved, avg_days_to_resolve, avg_rating},
 *  incidents: {by_category: [{category, label, count}], by_status: {status: n}}}.
 * A file is covered when its last visit is within its policy's period counted back from today
 * (one month, or N weeks). CARE_READ. community_id 0 = the caller's whole scope. */
int visits_stats(nx_app *app, const nx_principal *who, int64_t community_id, int64_t now_ms, json_t **out,
                 nx_err *e);

/* The monthly visit register (走访台账) of month "YYYY-MM" as an xlsx file at path: 序号, 姓名, 性别,
 * 年龄, 网格, 关怀类别, 走访日期, 走访方式, 走访人, 走访情况, 发现问题/需求, 处理结果, 备注. Needs
 * CARE_READ and RIGHT_EXPORT; audited. *count receives the number of visits. */
int visits_register_xlsx(nx_app *app, const nx_principal *who, const char *month, int64_t community_id,
                         const char *path, int64_t *count, nx_err *e);

/* ---- for the grid module: incidents share the timeline, the photos and the vocabularies ---- */

/* Check a code of a vocabulary (kind: "care_level", "incident_category", "member_role" …) is
 * active; NX_EINVAL naming field (label names it in the message) otherwise. */
int visits_vocab_check(store_tx *tx, const char *kind, const char *code, const char *field, const char *label,
                       nx_err *e);
/* Append one entry to the timeline (care_timeline) of an object of type ("care_file", "task",
 * "problem", "incident") and id. who NULL = the system; note and detail may be NULL (detail
 * borrowed); *entry (may be NULL) receives the entry's id. Runs one statement on the caller's
 * write transaction. */
int visits_timeline_add(store_tx *tx, int64_t community, const char *type, int64_t id,
                        const nx_principal *who, const char *action, const char *note, json_t *detail,
                        int64_t *entry, nx_err *e);
/* Check a user exists, is not disabled and may work in community (staff of it, a grid worker of
 * it, or an admin). NX_EINVAL naming field otherwise. */
int visits_user_check(store_tx *tx, int64_t user, int64_t community, const char *field, nx_err *e);
/* The one row of q (already restricted to the caller's scope) through row(), with the timeline of
 * type and id and, when photos, its photos, in a read transaction of its own; NX_ENOTFOUND with
 * missing (Chinese) when q finds none, a failed read as its error. *out: a new reference. */
int visits_get_one(nx_app *app, const sqlq *q, json_t *(*row)(store_rows *), const char *missing,
                   const char *type, int64_t id, bool photos, json_t **out, nx_err *e);

/* One change of an object (a problem, an incident …), recorded three ways in the caller's write
 * transaction: a timeline entry (action, note, detail), an audit row (audit_action, or action when
 * NULL, with detail) and the outbox event kind with payload. detail is borrowed; payload is taken
 * over whether or not the record succeeds (NULL, a failed json_pack, is NX_ENOMEM as in
 * outbox_emit_new). Returns 0 or the first failure's code. */
typedef struct visits_change {
    const char *type;         /* "problem", "incident" … */
    int64_t id, community;
    const char *action;       /* the timeline's action ("raised", "dispatched" …) */
    const char *audit_action; /* NULL: action */
    const char *note;         /* may be NULL */
    json_t *detail;           /* may be NULL */
    const char *kind;         /* the event kind (an *_EV_* constant) */
    json_t *payload;
} visits_change;
int visits_change_record(store_tx *tx, const nx_principal *who, const visits_change *c, nx_err *e);
/* The filters of a care_filter a list takes (visits_list_page), one bit each. */
enum {
    VISITS_BY_COMMUNITY = 1 << 0, /* community_id */
    VISITS_BY_GRID = 1 << 1,      /* grid_id */
    VISITS_BY_RESIDENT = 1 << 2,  /* resident_id */
    VISITS_BY_FILE = 1 << 3,      /* care_file_id */
    VISITS_BY_ASSIGNEE = 1 << 4,  /* assignee_user_id */
    VISITS_BY_LEVEL = 1 << 5,     /* level */
    VISITS_BY_CATEGORY = 1 << 6,  /* category */
    VISITS_BY_KIND = 1 << 7,      /* kind */
};
/* One page of a list on care_filter f, newest first: q (the list's SELECT … WHERE 1 = 1, already
 * with its scope and the filters only it has) gains the equality filters of f named by `by` on the
 * columns of that name under alias ("t."), the id cursor (alias.id < cursor; NX_EINVAL "cursor"
 * when malformed) and ORDER BY alias.id DESC; s names the row function (row or row_ctx and ctx),
 * its limit and cap are f's and page_max. As store_page_read. */
int visits_list_page(nx_app *app, sqlq *q, const char *alias, const care_filter *f, unsigned by,
                     store_page_spec s, json_t **out, nx_err *e);
/* A list's status filter on q: nothing when status is NULL; the word group ("pending", "all"; NULL:
 * none) adds group_sql (a fixed fragment; NULL: nothing); any other status must be one of list (else
 * NX_EINVAL naming "status" with the message bad) and adds " AND <alias>status = $n". */
int visits_status_q(sqlq *q, const char *alias, const char *status, const char *const *list, const char *group,
                    const char *group_sql, const char *bad, nx_err *e);
/* The community of grid, when who covers it: NX_ENOTFOUND naming grid_id ("网格不存在") when there
 * is no such grid or it is out of who's scope, a failed read as its error. */
int visits_grid_community(store_tx *tx, const nx_principal *who, int64_t grid, int64_t *community, nx_err *e);
/* The community and grid (0: none) of the resident a resident's own request is about (no scope:
 * the caller is that resident). NX_ENOTFOUND "居民不存在" when there is no such resident or it has
 * no community. */
int visits_self_place(store_tx *tx, int64_t resident, int64_t *community, int64_t *grid, nx_err *e);

/* Register the routes (visits_http.c). */
int visits_routes(http_server *srv, nx_app *app);

#endif
