/* visits_internal.h — helpers shared by the files of the visits module (not for other modules). */
#ifndef NX_MODULES_VISITS_INTERNAL_H
#define NX_MODULES_VISITS_INTERNAL_H

#include "modules/visits/visits.h"
#include "store/page.h"
#include "store/query.h"

/* Days added to today for the due date of event tasks. */
#define VX_DUE_ALERT 1
#define VX_DUE_LIFE 3
#define VX_DUE_RAISE 7
#define VX_DUE_MANUAL 3
#define VX_PROBLEM_ESCALATE_DAYS 3

/* Today (Shanghai) as "YYYY-MM-DD" plus n days. */
void vx_day(int64_t now_ms, int plus_days, char out[11]);

/* Rank (sort) of a care level into *rank (0 when unknown); 0 or the read's error. */
int vx_level_rank(store_tx *tx, const char *level, int64_t *rank, nx_err *e);

/* The timeline of an object as a JSON array; each entry's "actor" is the account's display name (the
 * user name stored with the entry when the account is gone). */
int vx_timeline_json(store_tx *tx, const char *type, int64_t id, json_t **out, nx_err *e);

/* What vx_get_record adds to a record: its timeline, its photos (both of the object type and id). */
#define VX_TIMELINE 1u
#define VX_PHOTOS   2u
/* The one row of q (already restricted to the caller's scope) through s's row function, with what
 * with names and, when more is given, what more(tx, id, o, e) adds to the object o, all in one read
 * transaction of its own; NX_ENOTFOUND with missing (Chinese) when q finds none, a failed read as
 * its error. *out: a new reference. visits_get_one is this without more. */
int vx_get_record(nx_app *app, const sqlq *q, const store_page_spec *s, const char *missing, const char *type,
                  int64_t id, unsigned with, int (*more)(store_tx *tx, int64_t id, json_t *o, nx_err *e),
                  json_t **out, nx_err *e);
/* Set key on o to every row of sql (one parameter $1 = id) as store_json_row with words. */
int vx_set_items(store_tx *tx, json_t *o, const char *key, const char *sql, int64_t id, const char *words,
                 nx_err *e);

/* The user a new task goes to: the care file's responsible user if given, else (responsible
 * "grid") the first active grid worker of the grid, else the first active staff member of the
 * community; 0 when there is none. Into *assignee; 0 or the read's error. */
int vx_pick_assignee(store_tx *tx, int64_t responsible_user, int64_t community, int64_t grid,
                     const char *responsible, int64_t *assignee, nx_err *e);

/* Create an event task (遇事必访) unless one with source_key exists. *task_id receives the new or
 * existing task's id (0 if none could be found). */
int vx_event_task(store_tx *tx, int64_t community, int64_t grid, int64_t resident, int64_t care_file,
                  int64_t assignee, const char *reason, const char *note, const char *source_key,
                  const char *due, int64_t now, int64_t *task_id, nx_err *e);

/* The place (community, grid) of an active resident in who's scope; NX_ENOTFOUND otherwise. */
int vx_resident_place(store_tx *tx, const nx_principal *who, int64_t resident, int64_t *community,
                      int64_t *grid, nx_err *e);

/* Make sure the routine task of the period containing today exists for an active care file (see
 * visits_schedule). *created (may be NULL) is 1 when a task was created. */
int vx_schedule_file(store_tx *tx, int64_t file_id, int64_t now_ms, int *created, nx_err *e);
/* Open a care file of category (a care_category code) at level "normal" for resident on tx, by the
 * system, when the category is one of care_vocab's and the resident (active) has no active file;
 * otherwise nothing. *id (may be NULL) gets the new file's id or 0. */
int vx_care_file_open_auto(store_tx *tx, int64_t resident, const char *category, const char *note, int64_t now,
                           int64_t *id, nx_err *e);

/* The id of the active care file of a resident into *file (0 when there is none); 0 or the read's
 * error. */
int vx_active_file(store_tx *tx, int64_t resident, int64_t *file, nx_err *e);

/* Close the active care file of a resident (if any) as the system, cancelling its open tasks. */
int vx_close_resident_file(store_tx *tx, int64_t resident, const char *reason, nx_err *e);

/* Whether s is one of the strings of list (NULL-terminated). */
bool vx_one_of(const char *s, const char *const *list);

/* A problem to insert (problems.c), from a problem body or a need raised in a visit. */
typedef struct vx_problem_in {
    int64_t community, grid, resident, file, visit, assignee;
    const char *source, *category, *title, *description, *urgency, *deadline;
} vx_problem_in;

/* Insert a problem on tx with its time line entry, audit row and outbox event (visits.problem.raised);
 * checks the category, the urgency and the assignee. *id receives the new problem's id. */
int vx_problem_insert(store_tx *tx, const nx_principal *who, const vx_problem_in *in, int64_t *id, nx_err *e);
/* Parse one need of a visit ({category, title, description?, urgency?}) into pi (strings borrowed
 * from o); NX_EINVAL naming "needs.<field>". */
int vx_parse_need(json_t *o, vx_problem_in *pi, nx_err *e);

#endif
